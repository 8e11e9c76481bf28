//! Every user-visible sentence of the full-screen interface, in one place (wording reviews,
//! later translation). Key names never appear here: callers pass the keys they looked up in the
//! effective keymap. Must not format user data beyond plain interpolation.

pub const APP: &str = "rolo";
pub const LIST_TITLE: &str = "Contacts";

/// The list's title while a search filters it (back clears it).
pub fn filtered_list_title(query: &str, position: &str) -> String {
    format!("Contacts matching “{query}”{position}")
}
pub const DETAIL_TITLE: &str = "Detail";
pub const TIMELINE_TITLE: &str = "Timeline";
pub const TODAY_TITLE: &str = "Today — follow-ups due and overdue";
pub const SEARCH_TITLE: &str = "Search";
pub const LOG_TITLE: &str = "Log an interaction";
pub const NEW_CONTACT_TITLE: &str = "New contact";
pub const EDIT_CONTACT_TITLE: &str = "Edit contact";
pub const HELP_TITLE: &str = "Help — keys for where you are";
pub const CONFIRM_TITLE: &str = "Are you sure?";
pub const ENTRY_TITLE: &str = "Timeline entry";
pub const RESCHEDULE_TITLE: &str = "Reschedule follow-up";
pub const WHICH_KEY_TITLE: &str = "Then press";
pub const FOCUS_MARKER: &str = "▶ ";
pub const LOADING: &str = "loading…";
pub const NO_SELECTION: &str = "No contact selected.";
pub const EMPTY_TIMELINE: &str = "Nothing on the timeline yet.";
pub const TODAY_EMPTY: &str = "Nothing due. Well done.";
pub const TODAY_EMPTY_MINE: &str = "Nothing due for you. Well done.";
pub const FIELD_CLOSES: &str = "Closes";

/// The Today pane's title: how many, how many overdue, whose.
pub fn today_title(count: usize, overdue: usize, mine: Option<&str>) -> String {
    let whose = mine.map_or(String::new(), |agent| format!(" · {agent}'s"));
    format!("Today — {count} due, {overdue} overdue{whose}")
}
pub const SEARCH_NO_RESULTS: &str = "No contact matches.";
pub const SEARCH_INDEXING: &str = "indexing contacts…";
pub const COLUMN_NAME: &str = "Name";
pub const COLUMN_ORG: &str = "Organisation";
pub const COLUMN_DETAILS: &str = "Email · phone · city";
pub const COLUMN_RFM: &str = "RFM";
pub const COLUMN_SEGMENT: &str = "Segment";
pub const COLUMN_LAST: &str = "Last";
pub const COLUMN_NEXT: &str = "Next";

pub const MODE_LIST: &str = "LIST";
pub const MODE_DETAIL: &str = "DETAIL";
pub const MODE_TIMELINE: &str = "TIMELINE";
pub const MODE_TODAY: &str = "TODAY";
pub const MODE_DASHBOARD: &str = "DASHBOARD";
pub const DASHBOARD_TITLE: &str = "Dashboard";
pub const DASHBOARD_EMPTY: &str =
    "No purchases yet: import orders (rolo import FILE --kind purchases) or load demo data.";
pub const DASHBOARD_SATISFACTION: &str = "Satisfaction by month";
pub const DASHBOARD_BEST: &str = "Top customers by margin";
pub const DASHBOARD_PRODUCTS: &str = "Top products by margin";
/// Marks the focused dashboard item (a text mark, so it shows without colour).
pub const DASHBOARD_MARKER: &str = ">";
pub const HINT_PANEL: &str = "panel";
pub const HINT_BACK: &str = "back";

pub fn dashboard_no_match(query: &str) -> String {
    format!("No contacts match {query}")
}

pub const DASHBOARD_GRID: &str = "Segments";

pub fn dashboard_grid_title(customers: u64, as_of: Option<&str>) -> String {
    match as_of {
        Some(day) => format!("{DASHBOARD_GRID} · {customers} customers · {day}"),
        None => format!("{DASHBOARD_GRID} · {customers} customers"),
    }
}

pub fn dashboard_months_title(currency: &str) -> String {
    format!("Revenue / margin by month ({currency})")
}

pub fn dashboard_risk_title(slipping: u64) -> String {
    format!("Slipping: {slipping} · P(alive) spent")
}
pub const MODE_SEARCH: &str = "SEARCH";
pub const MODE_LOG: &str = "LOG";
pub const MODE_FORM: &str = "FORM";
pub const MODE_HELP: &str = "HELP";
pub const MODE_CONFIRM: &str = "CONFIRM";

pub const WELCOME_TITLE: &str = "Welcome to rolo";
pub const WELCOME_EMPTY: &str = "Your contact book is empty. To get started:";
pub fn welcome_add(keys: &str) -> String {
    format!("  {keys:<8} add a contact")
}
pub fn welcome_demo(keys: &str) -> String {
    format!("  {keys:<8} load 200 demo contacts to try things out")
}
pub const WELCOME_IMPORT: &str =
    "  or import a file from the shell:  rolo import FILE (vCard, CSV)";
pub fn welcome_help(keys: &str) -> String {
    format!("  {keys:<8} every key, any time")
}
pub const IMPORT_HINT: &str =
    "Import from the shell: rolo import contacts.vcf (or .csv), then reopen rolo";

pub fn too_small(width: u16, height: u16) -> String {
    format!("Terminal too small (need {width}×{height}): keys are ignored until it is larger")
}

pub const FIELD_SUMMARY: &str = "Summary";
pub const FIELD_CHANNEL: &str = "Channel";
pub const FIELD_DIRECTION: &str = "Direction";
pub const FIELD_OUTCOME: &str = "Outcome";
pub const FIELD_SATISFACTION: &str = "Satisfaction";
pub const FIELD_FOLLOW_UP: &str = "Follow-up";
pub const FIELD_NOTE: &str = "Note";
pub const FIELD_DUE: &str = "New due date";
pub const PLACEHOLDER_DIRECTION: &str = "in / out (default in)";
pub const PLACEHOLDER_OUTCOME: &str = "open, resolved, escalated, no-answer";
pub const PLACEHOLDER_SATISFACTION: &str = "1–5";
pub const PLACEHOLDER_FOLLOW_UP: &str = "+3d, tomorrow, fri, 2026-12-01";
pub const PLACEHOLDER_LIST: &str = "comma separated";
pub fn note_lines(lines: usize) -> String {
    format!("{lines} lines written")
}
pub const SATISFACTION_RANGE: &str = "must be 1 to 5";
pub const SUMMARY_NEEDED: &str = "say in a few words what happened";

pub const FORM_NAME: &str = "Name";
pub const FORM_ORG: &str = "Organisation";
pub const FORM_TITLE: &str = "Title";
pub const FORM_EMAILS: &str = "Emails";
pub const FORM_PHONES: &str = "Phones";
pub const FORM_MORE_BELOW: &str = "(more below ↓)";
pub const FORM_MORE_ABOVE: &str = "(more above ↑)";
pub const FORM_MORE_BOTH: &str = "(more above ↑ and below ↓)";
pub const FORM_STREET: &str = "Street";
pub const FORM_POSTCODE: &str = "Postcode";
pub const FORM_CITY: &str = "City";
pub const FORM_REGION: &str = "Region";
pub const FORM_COUNTRY: &str = "Country";
pub const FORM_TAGS: &str = "Tags";
pub const FORM_STAGE: &str = "Stage";
pub const FORM_TIER: &str = "Tier";
pub const FORM_OWNER: &str = "Owner";
pub const FORM_NOTES: &str = "Notes";
pub const FORM_BIRTHDAY: &str = "Birthday";
pub const FORM_LANGUAGE: &str = "Language";
pub const FORM_CHANNEL: &str = "Prefers";
pub const FORM_SOURCE: &str = "Source";
pub const FORM_CUSTOM: &str = "Custom";
pub const FORM_CONSENT: &str = "Consent now";
pub const FORM_PURPOSE: &str = " for";
pub const FORM_EVIDENCE: &str = " evidence";
pub const PLACEHOLDER_CUSTOM: &str = "key=value; key=value (empty value removes)";
pub const PLACEHOLDER_CONSENT: &str = "channel=granted|denied|unknown, … (a change; history kept)";
pub const PLACEHOLDER_PURPOSE: &str = "what the consent is for (newsletter…)";
pub const PLACEHOLDER_EVIDENCE: &str = "how it was given (call 2026-12-01, signed form…)";
pub const CONSENT_NEEDS_EVIDENCE: &str = "say how the consent was given or refused";
pub fn bad_custom(item: &str) -> String {
    format!("`{item}`: use key=value; key=value")
}
pub fn bad_consent(item: &str) -> String {
    format!("`{item}`: use channel=granted, denied or unknown (e.g. email=denied)")
}
pub const PLACEHOLDER_LABELLED: &str = "label: value, … (comma separated)";
pub const PLACEHOLDER_BIRTHDAY: &str = "YYYY-MM-DD or --MM-DD";

pub const LABEL_ORG: &str = "Organisation";
pub const LABEL_TITLE: &str = "Title";
pub const LABEL_EMAIL: &str = "Email";
pub const LABEL_PHONE: &str = "Phone";
pub const LABEL_ADDRESS: &str = "Address";
pub const LABEL_STAGE: &str = "Stage";
pub const LABEL_TIER: &str = "Tier";
pub const LABEL_OWNER: &str = "Owner";
pub const LABEL_TAGS: &str = "Tags";
pub const LABEL_CONSENT: &str = "Consent";
pub const LABEL_NOTES: &str = "Notes";
pub const LABEL_LANGUAGE: &str = "Language";
pub const LABEL_BIRTHDAY: &str = "Birthday";
pub const LABEL_DEALS: &str = "Deals";
pub const LABEL_RFM: &str = "RFM";
pub const LABEL_PURCHASES: &str = "Purchases";
pub const LABEL_LAST_BOUGHT: &str = "Last bought";
pub const LABEL_OUTLOOK: &str = "Outlook";
pub const LABEL_VALUE: &str = "Value (12m)";

pub fn rfm_line(r: u8, f: u8, m: u8, segment: &str) -> String {
    format!("R{r} F{f} M{m} · {segment}")
}

pub fn purchases_line(days: u32, lines: u64, spent: &str, margin: &str, others: usize) -> String {
    let days = if days == 1 {
        "1 day".to_string()
    } else {
        format!("{days} days")
    };
    let others = match others {
        0 => String::new(),
        1 => " (+1 other currency)".to_string(),
        n => format!(" (+{n} other currencies)"),
    };
    let lines = if lines == 1 {
        "1 line".to_string()
    } else {
        format!("{lines} lines")
    };
    format!("{days} ({lines}) · {spent}, margin {margin}{others}")
}

pub fn last_bought_line(last: &str, days_ago: i32, first: &str) -> String {
    let ago = match days_ago {
        0 => "today".to_string(),
        1 => "yesterday".to_string(),
        d => format!("{d} days ago"),
    };
    format!("{last} ({ago}) · first {first}")
}

pub fn outlook_line(p_alive: f64, expected: f64) -> String {
    format!(
        "P(alive) {:.0}% · {expected:.1} purchases expected in 90 days",
        p_alive * 100.0
    )
}

pub fn value_line(value: &str, spend: &str) -> String {
    format!("{value} (about {spend} a purchase)")
}

pub fn confirm_delete(name: &str) -> String {
    format!("Move {name} to the trash?")
}
pub const DISCARDED: &str = "Discarded what was typed.";
pub fn shared_on_add(value: &str, owner: &str, id: u64) -> String {
    format!("{value} already belongs to {owner} (#{id}). Is this the same person?")
}
pub fn shared_on_add_keys(save: &str, open: &str, merge: &str, back: &str) -> String {
    format!("{save} save anyway   {open} open them   {merge} save and merge   {back} back")
}
pub fn confirm_discard(what: &str) -> String {
    format!("Discard what you typed in the {what}?")
}
pub fn confirm_quit_discard(what: &str) -> String {
    format!("Quit rolo and lose what you typed in the {what}?")
}
pub const FORM_KIND_LOG: &str = "log";
pub const FORM_KIND_CONTACT: &str = "contact form";
pub const FORM_KIND_FOLLOW_UP: &str = "follow-up";
pub fn discard_keys(yes: &str, no: &str, quitting: bool) -> String {
    let act = if quitting { "quit" } else { "discard" };
    format!("{yes} {act}   {no} keep editing")
}
pub fn interaction_edited(channel: &str) -> String {
    format!("Saved the {channel}")
}
pub fn interaction_deleted(channel: &str, undo: &str) -> String {
    format!("Deleted the {channel} — {undo} to undo")
}
pub fn confirm_delete_interaction(channel: &str, summary: &str) -> String {
    format!("Delete the {channel} “{summary}”?")
}
pub const NO_FOLLOW_UP_ON_EDIT: &str =
    "a follow-up is scheduled on its own (close this and use the follow-up key)";
pub const EDIT_LOG_TITLE: &str = "Edit the interaction";
pub const NOT_AN_INTERACTION: &str =
    "Select a call, email or meeting in the timeline to change it.";
pub fn searching(query: &str) -> String {
    format!("Searching for “{query}”…")
}
pub fn no_match(query: &str) -> String {
    format!("No contact matches “{query}”.")
}
pub const TRASH_TITLE: &str = "Trash";
pub const TRASH_EMPTY: &str = "The trash is empty.";
pub const TRASH_LOADING: &str = "Reading the trash…";
pub fn trash_row(name: &str, at: &str, by: &str, history: usize) -> String {
    format!("{name} — deleted {at} by {by}, {history} entries")
}
pub fn trash_keys(restore: &str, close: &str) -> String {
    format!("{restore} restore with its history · {close} close")
}
pub fn restored(name: &str) -> String {
    format!("Restored {name} from the trash")
}
pub fn confirm_demo(path: &str, existing: u64) -> String {
    format!(
        "Load {} demo contacts into {path}, which already holds {existing} {}? They are tagged demo; undo cannot take them back.",
        crate::tui::effect::DEMO_CONTACTS,
        if existing == 1 { "contact" } else { "contacts" }
    )
}
pub fn confirm_keys(yes: &str, no: &str) -> String {
    format!("{yes} yes   {no} no")
}
pub fn logged(channel: &str, name: &str, undo: &str) -> String {
    format!("Logged {channel} with {name} — {undo} to undo")
}
pub fn deleted(name: &str, undo: &str) -> String {
    format!("Moved {name} to the trash — {undo} to undo")
}
pub fn saved(name: &str, undo: &str) -> String {
    format!("Saved {name} — {undo} to undo")
}
pub fn undone(action: &str) -> String {
    format!("Undid: {action}")
}
pub fn demo_loaded(count: u64) -> String {
    format!("Loaded {count} demo contacts")
}
pub const DEMO_LOADING: &str = "Loading demo contacts…";
pub fn follow_up_done(what: &str) -> String {
    format!("Done: {what}")
}
pub fn follow_up_added(day: &str) -> String {
    format!("Follow-up scheduled for {day}")
}
pub const FOLLOW_UP_TITLE: &str = "Schedule a follow-up";
pub const FIELD_WHAT: &str = "What";
pub fn rescheduled(day: &str) -> String {
    format!("Moved to {day}")
}
pub const NOTHING_SELECTED: &str = "Select a contact first";
pub const NOT_A_FOLLOW_UP: &str = "Select a follow-up first";
pub const MODE_MERGE: &str = "MERGE";
pub const MODE_TRASH: &str = "TRASH";
pub const MERGE_CHOICE_TITLE: &str = "Merge — likely duplicates";
pub const MERGE_TITLE: &str = "Merge two contacts";
pub fn merge_choice_of(name: &str) -> String {
    format!("Possible duplicates of {name}; pick the record to merge:")
}
pub fn reconnecting() -> String {
    "Reconnecting to the rolo server… (your typing is kept)".to_string()
}
pub fn changed_meanwhile(agent: &str, action: &str) -> String {
    format!(
        "{agent} changed this contact since you opened it ({action}); saving keeps both where they don't clash"
    )
}
pub fn presence_line(others: &[(String, &'static str)]) -> String {
    others
        .iter()
        .map(|(agent, verb)| format!("{agent} is {verb}"))
        .collect::<Vec<_>>()
        .join(" · ")
}
pub fn not_in_ssh_session() -> String {
    "Not available in an SSH session (no editor or shell)".to_string()
}
pub fn finding_duplicates(name: &str) -> String {
    format!("Looking for duplicates of {name}…")
}
pub fn no_duplicates(name: &str) -> String {
    format!("No likely duplicates of {name} (same email, phone or a very similar name)")
}
pub const MERGE_KEEP: &str = "Keep";
pub const MERGE_ABSORB: &str = "Merge in";
pub fn merge_history(entries: usize) -> String {
    format!("{entries} history items")
}
pub fn merge_summary(moving: usize, total: usize) -> String {
    format!("{moving} history items move over, {total} in all. Consent is always combined.")
}
pub const MERGE_BOTH: &str = "both";
pub const MERGE_SAME: &str = "same";
pub fn merge_single_value(field: &str) -> String {
    format!("{field} holds one value: keep the left or the right")
}
pub const MERGE_CONSENT_FIXED: &str =
    "Consent is always combined: the latest statement per channel stands";
pub fn merging(name: &str) -> String {
    format!("Merging into {name}…")
}
pub fn merged(absorbed: &str, kept: &str, moved: usize, undo: &str) -> String {
    format!("Merged {absorbed} into {kept} ({moved} history items moved) — {undo} to undo")
}
pub const PASTE_CUT: &str = "Pasted text was cut: a field holds at most 10,000 characters";
pub const NO_EMAIL: &str = "This contact has no email address";
pub fn not_copied(what: &str) -> String {
    format!("Not copied: {what} is not a plain email address (it holds characters a shell acts on)")
}
pub fn copied(what: &str) -> String {
    format!("Copied {what}")
}
pub fn editor_failed(reason: &str) -> String {
    format!("The editor did not run: {reason}")
}
pub fn field_problems(count: usize) -> String {
    format!("{count} field(s) need attention")
}
pub fn error(message: &str) -> String {
    format!("Error: {message}")
}
/// The search overlay's result count; `capped` when the search stopped at its limit.
pub fn search_count(hits: usize, capped: bool) -> String {
    match (hits, capped) {
        (n, true) => format!(" {n}+ results "),
        (1, false) => " 1 result ".to_string(),
        (n, false) => format!(" {n} results "),
    }
}
pub const DETAIL_SEPARATOR: &str = " · ";
pub fn count_line(shown: usize, total: u64) -> String {
    format!("{shown}/{total}")
}
pub fn overdue_by(days: i32) -> String {
    format!("overdue {days}d")
}
pub const DUE_TODAY: &str = "today";
pub fn hint(keys: &str, what: &str) -> String {
    format!("{keys} {what}")
}
pub const HINT_HELP: &str = "help";
pub const HINT_SEARCH: &str = "search";
pub const HINT_LOG: &str = "log";
pub const HINT_QUIT: &str = "quit";
pub const HINT_SAVE: &str = "save";
pub const HINT_CANCEL: &str = "cancel";
pub const HINT_RESTORE: &str = "restore";
pub const HINT_CHANNEL: &str = "channel";
pub const HINT_OPEN: &str = "open";
pub const HINT_DONE: &str = "done";
pub const HINT_RESCHEDULE: &str = "reschedule";
pub const HINT_LEFT: &str = "left";
pub const HINT_RIGHT: &str = "right";
pub const HINT_BOTH: &str = "both";
pub const HINT_SWAP: &str = "swap";
pub const HINT_MERGE: &str = "merge";

pub const REFUSE_NOT_A_TERMINAL: &str = "rolo's full-screen interface needs an interactive terminal (stdout is not one, or TERM=dumb). Use the CLI instead: `rolo --help`, e.g. `rolo search NAME`, `rolo log …`";

pub const HISTORY_TITLE: &str = "History";
pub const HISTORY_LOADING: &str = "Loading the history…";
pub const HISTORY_EMPTY: &str = "No changes recorded.";
