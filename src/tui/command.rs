//! The catalogue of bindable commands and the contexts they live in, declared once. Keymap files,
//! the help overlay and the docs all read names and descriptions from here. Internal events
//! (resize, paste, job results) are not commands and must not be added here.

use std::fmt;

use crate::tui::data_file;

/// Where a key is pressed. Resolution walks overlay → focused pane → global.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    List,
    Detail,
    Timeline,
    Today,
    Search,
    Form,
    Log,
    Confirm,
    Help,
    Merge,
    Trash,
    Dashboard,
}

impl Context {
    pub const ALL: &'static [Context] = &[
        Context::Global,
        Context::List,
        Context::Detail,
        Context::Timeline,
        Context::Today,
        Context::Search,
        Context::Form,
        Context::Log,
        Context::Confirm,
        Context::Help,
        Context::Merge,
        Context::Trash,
        Context::Dashboard,
    ];

    /// The table name in keymap files.
    pub const fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Detail => "detail",
            Context::Timeline => "timeline",
            Context::Today => "today",
            Context::Search => "search",
            Context::Form => "form",
            Context::Log => "log",
            Context::Confirm => "confirm",
            Context::Help => "help",
            Context::Merge => "merge",
            Context::Trash => "trash",
            Context::Dashboard => "dashboard",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            Context::Global => "Anywhere, unless the overlay or pane binds the key itself",
            Context::List => "Contact list pane",
            Context::Detail => "Contact detail pane",
            Context::Timeline => "Interaction timeline pane",
            Context::Today => "Today view: follow-ups due and overdue",
            Context::Search => "Search box (typing enters text)",
            Context::Form => "Contact form (typing enters text)",
            Context::Log => "Quick log of an interaction (typing enters text)",
            Context::Confirm => "Yes/no confirmation",
            Context::Help => "Help overlay",
            Context::Merge => "Merging two duplicate contacts",
            Context::Trash => "The trash: deleted contacts, restorable",
            Context::Dashboard => "The customer dashboard: panels to move through and open",
        }
    }

    pub fn from_name(name: &str) -> Option<Context> {
        Context::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// In these contexts an unbound printable key types itself, and printable keys bound in
    /// outer contexts (e.g. `q` in `[global]`) do not apply.
    pub const fn is_text_input(self) -> bool {
        matches!(self, Context::Search | Context::Form | Context::Log)
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! commands {
    ($( $variant:ident = $name:literal in [$($context:ident),+] : $description:literal; )+) => {
        /// A bindable, payload-free command.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Command {
            $( #[doc = $description] $variant, )+
        }

        impl Command {
            /// Every command, in catalogue order (the order help lists them in).
            pub const ALL: &'static [Command] = &[$(Command::$variant),+];

            /// The stable snake_case name used in keymap files.
            pub const fn name(self) -> &'static str {
                match self { $(Command::$variant => $name,)+ }
            }

            /// One line for help and docs.
            pub const fn description(self) -> &'static str {
                match self { $(Command::$variant => $description,)+ }
            }

            /// Where binding this command makes sense; `Global` means anywhere.
            pub const fn contexts(self) -> &'static [Context] {
                match self { $(Command::$variant => &[$(Context::$context),+],)+ }
            }
        }
    };
}

commands! {
    Quit = "quit" in [Global]: "Quit rolo (asks before losing typed text)";
    Help = "help" in [Global]: "Show the keys for where you are";
    Search = "search" in [Global]: "Search contacts";
    QuickLog = "quick_log" in [Global]: "Log a call, email or meeting with the selected contact";
    NewContact = "new_contact" in [Global]: "Add a new contact";
    EditContact = "edit_contact" in [List, Detail, Timeline, Today]: "Edit the selected contact";
    DeleteContact = "delete_contact" in [List, Detail]: "Move the selected contact to the trash";
    NewFollowUp = "new_follow_up" in [List, Detail, Timeline, Today]: "Schedule a follow-up with the selected contact";
    MergeDuplicates = "merge_duplicates" in [List, Detail]: "Find and merge duplicates of the selected contact";
    CopyEmail = "copy_email" in [List, Detail]: "Copy the selected contact's email address";
    ContactHistory = "contact_history" in [List, Detail, Timeline, Today]: "History: who changed the selected contact, and what";
    Undo = "undo" in [Global]: "Undo the last change";
    Today = "today" in [Global]: "Show follow-ups due today and overdue";
    Dashboard = "dashboard" in [Global]: "Show the customer dashboard: segments, revenue, satisfaction, top customers, churn risk";
    FocusNext = "focus_next" in [Global]: "Focus the next pane";
    FocusPrev = "focus_prev" in [Global]: "Focus the previous pane";
    TogglePane = "toggle_pane" in [Global]: "Switch to the next pane when only one fits";
    ShowList = "show_list" in [Global]: "Show the contact list";
    ShowDetail = "show_detail" in [Global]: "Show the contact detail";
    ShowTimeline = "show_timeline" in [Global]: "Show the timeline";
    MoveDown = "move_down" in [Global, List, Detail, Timeline, Today, Search, Help, Merge, Trash, Dashboard]: "Move the selection down";
    MoveUp = "move_up" in [Global, List, Detail, Timeline, Today, Search, Help, Merge, Trash, Dashboard]: "Move the selection up";
    PageDown = "page_down" in [Global, List, Detail, Timeline, Today, Search, Help, Merge, Trash, Dashboard]: "Move down one page";
    PageUp = "page_up" in [Global, List, Detail, Timeline, Today, Search, Help, Merge, Trash, Dashboard]: "Move up one page";
    First = "first" in [Global, List, Detail, Timeline, Today, Search, Help, Merge, Trash, Dashboard]: "Jump to the first item";
    Last = "last" in [Global, List, Detail, Timeline, Today, Search, Help, Merge, Trash, Dashboard]: "Jump to the last item";
    ScrollDown = "scroll_down" in [Global, Detail, Timeline, Help, Merge]: "Scroll the text down one line";
    ScrollUp = "scroll_up" in [Global, Detail, Timeline, Help, Merge]: "Scroll the text up one line";
    Open = "open" in [Global, List, Detail, Timeline, Today, Search, Help, Dashboard]: "Open the selection (on the dashboard: its contacts)";
    MoveLeft = "move_left" in [Dashboard]: "Move left; past the edge, to the panel beside";
    MoveRight = "move_right" in [Dashboard]: "Move right; past the edge, to the panel beside";
    NextPanel = "next_panel" in [Dashboard]: "Focus the next dashboard panel";
    PrevPanel = "prev_panel" in [Dashboard]: "Focus the previous dashboard panel";
    Back = "back" in [Global]: "Go back, close the overlay";
    Submit = "submit" in [Search, Form, Log, Merge]: "Save and close";
    Cancel = "cancel" in [Search, Form, Log, Confirm, Help, Merge, Trash]: "Close without saving (asks before losing typed text)";
    NextField = "next_field" in [Form, Log]: "Go to the next field";
    PrevField = "prev_field" in [Form, Log]: "Go to the previous field";
    NextChannel = "next_channel" in [Log]: "Next channel (call, email, meeting…)";
    PrevChannel = "prev_channel" in [Log]: "Previous channel";
    NextChoice = "next_choice" in [Form]: "Next value of a choice field (stage, preferred channel)";
    PrevChoice = "prev_choice" in [Form]: "Previous value of a choice field";
    OpenEditor = "open_editor" in [Form, Log, Detail]: "Write the long note in $EDITOR";
    MarkDone = "mark_done" in [Today, Timeline, Detail]: "Mark the follow-up done";
    ToggleMine = "toggle_mine" in [Today]: "Show only follow-ups assigned to you, or everyone's";
    ToggleCloses = "toggle_closes" in [Log]: "Close the follow-up this log answers, or leave it open";
    EditEntry = "edit_entry" in [Timeline]: "Edit the selected call, email or meeting";
    DeleteEntry = "delete_entry" in [Timeline]: "Delete the selected call, email or meeting (undo brings it back)";
    Reschedule = "reschedule" in [Today, Timeline, Detail]: "Move the follow-up to another day";
    LoadDemo = "load_demo" in [Global, List]: "Load demo contacts to try rolo";
    ShowTrash = "show_trash" in [Global]: "Show the trash (deleted contacts, when and by whom) to restore one";
    RestoreContact = "restore_contact" in [Trash]: "Restore the selected contact from the trash, with its history";
    ImportHint = "import_hint" in [Global, List]: "Show how to import contacts (vCard, CSV)";
    ConfirmYes = "confirm_yes" in [Confirm]: "Yes, do it";
    ConfirmNo = "confirm_no" in [Confirm]: "No, keep things as they are";
    OpenExisting = "open_existing" in [Confirm]: "Open the contact who already has this email or phone (drops the new one)";
    MergeExisting = "merge_existing" in [Confirm]: "Save the new contact, then merge it with the one who has this email or phone";
    MergePickLeft = "merge_pick_left" in [Merge]: "Keep the left value for this field";
    MergePickRight = "merge_pick_right" in [Merge]: "Keep the right value for this field";
    MergePickBoth = "merge_pick_both" in [Merge]: "Keep both values (emails, phones, addresses, tags, custom fields, notes)";
    MergeSwap = "merge_swap" in [Merge]: "Keep the other contact's record instead (swap sides)";
    DeleteBackward = "delete_backward" in [Search, Form, Log]: "Delete the character before the cursor";
    DeleteForward = "delete_forward" in [Search, Form, Log]: "Delete the character under the cursor";
    DeleteWordBackward = "delete_word_backward" in [Search, Form, Log]: "Delete the word before the cursor";
    CursorLeft = "cursor_left" in [Search, Form, Log]: "Move the cursor left";
    CursorRight = "cursor_right" in [Search, Form, Log]: "Move the cursor right";
    CursorHome = "cursor_home" in [Search, Form, Log]: "Move the cursor to the start";
    CursorEnd = "cursor_end" in [Search, Form, Log]: "Move the cursor to the end";
    ClearLine = "clear_line" in [Search, Form, Log]: "Clear the input";
    Suspend = "suspend" in [Global]: "Suspend rolo to the shell (resume with fg)";
    Redraw = "redraw" in [Global]: "Redraw the screen";
    Noop = "noop" in [Global]: "Do nothing (unbinds the key)";
}

impl Command {
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Command names close to a misspelt one, for the keymap checker.
    pub fn close_names(name: &str) -> Vec<&'static str> {
        data_file::close_names(name, Command::ALL.iter().map(|c| c.name()))
    }

    /// Whether binding this command in `context` can do anything.
    pub fn fits(self, context: Context) -> bool {
        let contexts = self.contexts();
        contexts.contains(&Context::Global) || contexts.contains(&context)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for command in Command::ALL {
            assert_eq!(Command::from_name(command.name()), Some(*command));
            assert!(!command.description().is_empty());
        }
        let mut names: Vec<_> = Command::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Command::ALL.len());
        for context in Context::ALL {
            assert_eq!(Context::from_name(context.name()), Some(*context));
        }
    }

    #[test]
    fn close_names_suggest_the_intended_command() {
        assert_eq!(Command::close_names("quick-log"), vec!["quick_log"]);
        assert!(Command::close_names("mov_down").contains(&"move_down"));
    }
}
