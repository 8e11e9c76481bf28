//! Everything the interface knows at one moment: plain data, no I/O, no terminal. `update` is the
//! only writer; `view` only reads. The clock is part of the state so screens render the same way
//! in tests ("3d ago" stays "3d").

use std::collections::HashMap;

use jiff::tz::TimeZone;

use crate::domain::merge::{MergeField, MergePlan};
use crate::domain::{
    At, Channel, Contact, ContactDraft, Day, Deal, Entry, FieldError, FollowUp, Id, Interaction,
};
use crate::store::{DueItem, ListRow};
use crate::tui::command::{Command, Context};
use crate::tui::input::TextInput;
use crate::tui::keymap::{Key, KeySeq};

/// The three panes of the main screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    List,
    Detail,
    Timeline,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::List, Pane::Detail, Pane::Timeline];
    pub fn context(self) -> Context {
        match self {
            Pane::List => Context::List,
            Pane::Detail => Context::Detail,
            Pane::Timeline => Context::Timeline,
        }
    }
}

/// What fills the screen under the overlays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Main,
    Today,
    /// The customer dashboard (`view/dashboard.rs`).
    Dashboard,
}

/// A focusable panel of the dashboard, in tab order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DashboardPanel {
    /// The R×F grid's cells.
    #[default]
    Grid,
    /// The segment list under the grid.
    Segments,
    Months,
    /// Top customers by margin.
    Customers,
    /// Top products by margin.
    Products,
    /// The churn-risk list.
    Risk,
}

impl DashboardPanel {
    pub const ALL: [DashboardPanel; 6] = [
        DashboardPanel::Grid,
        DashboardPanel::Segments,
        DashboardPanel::Months,
        DashboardPanel::Customers,
        DashboardPanel::Products,
        DashboardPanel::Risk,
    ];
}

/// Where the dashboard's focus is: a panel and a row of what it shows; in the grid also a
/// column (row 0 is R = 5, column 0 is F = 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DashboardFocus {
    pub panel: DashboardPanel,
    pub row: usize,
    pub col: usize,
}

/// Status-bar message kinds; errors stand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Info,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    pub tone: Tone,
}

/// The contact list: ids in name order (the first page at once, all of them in the background)
/// and a cache of the rows that have been on screen.
#[derive(Clone, Debug, Default)]
pub struct ListState {
    pub ids: Vec<Id>,
    pub total: u64,
    /// The startup count has arrived (before that, neither the list nor the welcome is shown).
    pub started: bool,
    /// Every id is in `ids` (the background load finished).
    pub complete: bool,
    /// Background loads carry this; older ones are dropped.
    pub generation: u64,
    pub rows: HashMap<Id, ListRow>,
    pub selected: usize,
    pub offset: usize,
    /// A contact to select once its position is known (after a reload).
    pub pending_select: Option<Id>,
    /// The search kept as a filter after `open`: `ids` then holds its hits, best first.
    pub filter: Option<ListFilter>,
}

/// A search kept on the list after `open` (esc clears it).
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub query: String,
    /// Every contact, as the list held it before (kept current by reloads meanwhile).
    pub all: Vec<Id>,
    pub all_total: u64,
    pub all_complete: bool,
    /// The hits of a search, best first (else a drill-down, in the list's order): how a
    /// refresh after someone else's change orders them.
    pub ranked: bool,
}

impl ListState {
    /// Takes a (re)loaded id list: shown as is, or — while a search filter is on — kept for
    /// when it is cleared, the filtered ids losing any contact no longer there.
    pub fn set_ids(&mut self, ids: Vec<Id>, total: u64, complete: bool) {
        match &mut self.filter {
            None => {
                self.ids = ids;
                self.total = total;
                self.complete = complete;
            }
            Some(filter) => {
                if complete {
                    let present: std::collections::HashSet<Id> = ids.iter().copied().collect();
                    self.ids.retain(|id| present.contains(id));
                    self.total = self.ids.len() as u64;
                }
                filter.all = ids;
                filter.all_total = total;
                filter.all_complete = complete;
            }
        }
    }

    /// Clears the search filter: the whole list again. `false` when there was none.
    pub fn clear_filter(&mut self) -> bool {
        let Some(filter) = self.filter.take() else {
            return false;
        };
        self.ids = filter.all;
        self.total = filter.all_total;
        self.complete = filter.all_complete;
        true
    }

    pub fn selected_id(&self) -> Option<Id> {
        self.ids.get(self.selected).copied()
    }
}

/// The selected contact as the detail and timeline panes show it.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactView {
    pub contact: Contact,
    pub organization: String,
    pub timeline: Vec<Entry>,
    pub deals: Vec<Deal>,
    /// RFM scores, purchase figures and predictions, for a customer.
    pub customer: Option<crate::analytics::reports::CustomerAnalytics>,
}

/// One match from search (answered by the server's index).
pub use crate::api::SearchHit;

#[derive(Clone, Debug, Default)]
pub struct SearchState {
    pub input: TextInput,
    pub generation: u64,
    /// The generation the shown results answer.
    pub answered: u64,
    pub hits: Vec<SearchHit>,
    pub selected: usize,
    /// The list selection to restore when the search is cancelled.
    pub previous: (usize, usize),
    /// `open` was pressed before the results of the query as typed arrived: it acts on them
    /// when they do (a paste or keys coalesced over SSH must not open a stale result).
    pub pending_open: bool,
    /// A move through the results was pressed before the results of the query as typed
    /// arrived: it and the keys after it wait for them (else the move acts on the stale
    /// results and is undone when the new ones come: `/mari` ↓ enter in one burst opened
    /// the first match).
    pub pending_move: bool,
    /// Keys pressed after a pending `open` or move, replayed in order once it has acted.
    pub queued: Vec<Key>,
}

/// Optional fields of the quick log, in tab order after the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogField {
    Summary,
    Direction,
    Outcome,
    Satisfaction,
    FollowUp,
}

impl LogField {
    pub const ALL: [LogField; 5] = [
        LogField::Summary,
        LogField::Direction,
        LogField::Outcome,
        LogField::Satisfaction,
        LogField::FollowUp,
    ];
    pub fn key(self) -> &'static str {
        match self {
            LogField::Summary => "summary",
            LogField::Direction => "direction",
            LogField::Outcome => "outcome",
            LogField::Satisfaction => "satisfaction",
            LogField::FollowUp => "follow-up",
        }
    }
}

#[derive(Clone, Debug)]
pub struct LogDraft {
    pub contact: Id,
    pub contact_name: String,
    pub channel: Channel,
    pub inputs: [TextInput; 5],
    pub focus: usize,
    /// The long note written in $EDITOR.
    pub body: String,
    pub errors: HashMap<&'static str, String>,
    /// The open follow-up this log answers (opened from the Today queue): closed with the log
    /// unless the agent toggles it off.
    pub answers: Option<FollowUp>,
    /// A logged interaction being edited (as it was read); `None` logs a new one.
    pub editing: Option<Box<Interaction>>,
}

/// The log inputs showing `interaction` (summary, direction, outcome, satisfaction, no
/// follow-up): what editing a logged interaction starts from.
pub fn log_inputs(interaction: &Interaction) -> [String; 5] {
    [
        interaction.summary.clone(),
        interaction.direction.to_string(),
        interaction
            .outcome
            .map(|o| o.to_string())
            .unwrap_or_default(),
        interaction
            .satisfaction
            .map(|s| s.to_string())
            .unwrap_or_default(),
        String::new(),
    ]
}

/// The contact form's fields, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormField {
    Name,
    Organization,
    Title,
    Emails,
    Phones,
    Street,
    Postcode,
    City,
    Region,
    Country,
    Tags,
    Stage,
    Tier,
    Owner,
    Birthday,
    Language,
    PreferredChannel,
    Source,
    Custom,
    Consent,
    ConsentPurpose,
    ConsentEvidence,
    Notes,
}

impl FormField {
    pub const ALL: [FormField; 23] = [
        FormField::Name,
        FormField::Organization,
        FormField::Title,
        FormField::Emails,
        FormField::Phones,
        FormField::Street,
        FormField::Postcode,
        FormField::City,
        FormField::Region,
        FormField::Country,
        FormField::Tags,
        FormField::Stage,
        FormField::Tier,
        FormField::Owner,
        FormField::Birthday,
        FormField::Language,
        FormField::PreferredChannel,
        FormField::Source,
        FormField::Custom,
        FormField::Consent,
        FormField::ConsentPurpose,
        FormField::ConsentEvidence,
        FormField::Notes,
    ];
    /// The field names `domain::FieldError` uses.
    pub fn key(self) -> &'static str {
        match self {
            FormField::Name => "name",
            FormField::Organization => "organization",
            FormField::Title => "title",
            FormField::Emails => "email",
            FormField::Phones => "phone",
            FormField::Street => "street",
            FormField::Postcode => "postcode",
            FormField::City => "city",
            FormField::Region => "region",
            FormField::Country => "country",
            FormField::Tags => "tags",
            FormField::Stage => "stage",
            FormField::Tier => "tier",
            FormField::Owner => "owner",
            FormField::Birthday => "birthday",
            FormField::Language => "language",
            FormField::PreferredChannel => "preferred_channel",
            FormField::Source => "source",
            FormField::Custom => "custom",
            FormField::Consent => "consent",
            FormField::ConsentPurpose => "consent_purpose",
            FormField::ConsentEvidence => "consent_evidence",
            FormField::Notes => "notes",
        }
    }
}

#[derive(Clone, Debug)]
pub struct FormDraft {
    /// The contact as loaded (its `version` guards against overwriting someone else's change);
    /// `None` for a new contact.
    pub original: Option<Contact>,
    pub inputs: Vec<TextInput>,
    /// The inputs' texts as the form opened (a form differing from them holds typed work).
    pub initial: Vec<String>,
    pub focus: usize,
    pub errors: HashMap<String, String>,
    /// A refusal that concerns the whole record (e.g. a stale edit).
    pub refusal: Option<String>,
}

impl FormDraft {
    pub fn field_errors(&mut self, problems: &[FieldError]) {
        self.errors.clear();
        for p in problems {
            self.errors.insert(p.field.clone(), p.message.clone());
        }
    }
}

/// A standalone follow-up being scheduled: what, and when (`+3d`, `fri`…).
#[derive(Clone, Debug, Default)]
pub struct FollowUpDraft {
    pub contact: Id,
    pub contact_name: String,
    /// `[what, due]`.
    pub inputs: [TextInput; 2],
    pub focus: usize,
    pub error: Option<String>,
}

/// A contact that may be the same person as the one being merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeCandidate {
    pub id: Id,
    pub name: String,
    pub organization: String,
    pub reason: String,
    pub score: u8,
}

/// Step one of a merge: the likely duplicates of the selected contact, one to pick.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeChoice {
    pub subject: Id,
    pub subject_name: String,
    pub candidates: Vec<MergeCandidate>,
    pub selected: usize,
}

/// Step two: both records side by side, a side chosen per field.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeState {
    pub plan: MergePlan,
    /// The highlighted field, an index into [`MergeField::ALL`].
    pub row: usize,
    pub error: Option<String>,
}

impl MergeState {
    pub fn field(&self) -> MergeField {
        MergeField::ALL[self.row.min(MergeField::ALL.len() - 1)]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Confirm {
    DeleteContact {
        id: Id,
        name: String,
    },
    DeleteInteraction(Box<Interaction>),
    /// Demo data into a database that already holds contacts: asked first, naming the file.
    LoadDemo {
        path: String,
        existing: u64,
    },
}

/// The history overlay: whom it is about and, once loaded, every audit entry concerning them
/// (and contacts merged into them), newest first.
#[derive(Clone, Debug)]
pub struct HistoryView {
    pub contact: Id,
    pub name: String,
    /// `None` while loading.
    pub entries: Option<Vec<crate::store::AuditEntry>>,
    pub scroll: usize,
}

/// At most one overlay exists at a time, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Overlay {
    Search(SearchState),
    Log(LogDraft),
    Form(FormDraft),
    /// Help for what is under it: the overlay it was opened from (kept, and back on close),
    /// else the screen.
    Help {
        scroll: usize,
        under: Option<Box<Overlay>>,
    },
    Confirm(Confirm),
    /// A long timeline entry in full.
    Entry {
        entry: Box<Entry>,
        scroll: usize,
    },
    Reschedule {
        follow_up: FollowUp,
        input: TextInput,
        error: Option<String>,
    },
    NewFollowUp(FollowUpDraft),
    /// The audit trail of one contact, newest first.
    History(Box<HistoryView>),
    MergeChoice(MergeChoice),
    Merge(Box<MergeState>),
    /// Saving a new contact whose email or phone already belongs to someone: save anyway,
    /// open the one who has it, save and merge, or back to the form (kept here).
    SharedOnAdd(Box<SharedOnAdd>),
    /// "Discard what you typed?" over a filled form (kept here, back on "keep editing");
    /// `quit` when the question came from the quit key (then rolo quits on "discard").
    Discard {
        form: Box<Overlay>,
        quit: bool,
    },
    Trash(TrashView),
}

/// What [`Overlay::SharedOnAdd`] asks about.
#[derive(Clone, Debug)]
pub struct SharedOnAdd {
    pub form: Overlay,
    pub draft: ContactDraft,
    pub owner: Id,
    pub owner_name: String,
    /// The email or phone they share.
    pub value: String,
}

/// One contact in the trash, as the trash view lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrashRow {
    pub id: Id,
    pub name: String,
    pub deleted_at: At,
    pub deleted_by: String,
    /// Timeline entries and deals that come back with it.
    pub history: usize,
}

/// The trash overlay: most recently deleted first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrashView {
    pub items: Vec<TrashRow>,
    pub selected: usize,
    pub loaded: bool,
}

impl Overlay {
    /// Whether this is a form holding typed work that closing it would lose: a new contact, log
    /// or follow-up with anything typed, an edit that differs from the record as loaded.
    pub fn is_filled_form(&self) -> bool {
        match self {
            Overlay::Log(log) => match &log.editing {
                // An edit holds work once it differs from the interaction as read.
                Some(original) => {
                    log.inputs
                        .iter()
                        .map(TextInput::text)
                        .ne(log_inputs(original).iter().map(String::as_str))
                        || log.body != original.body
                        || log.channel != original.channel
                }
                None => {
                    log.inputs.iter().any(|i| !i.text().trim().is_empty())
                        || !log.body.trim().is_empty()
                }
            },
            Overlay::Form(form) => form
                .inputs
                .iter()
                .map(TextInput::text)
                .ne(form.initial.iter().map(String::as_str)),
            Overlay::NewFollowUp(draft) => draft.inputs.iter().any(|i| !i.text().trim().is_empty()),
            Overlay::Reschedule { input, .. } => !input.text().trim().is_empty(),
            Overlay::SharedOnAdd(_) => true,
            Overlay::Help {
                under: Some(under), ..
            } => under.is_filled_form(),
            _ => false,
        }
    }

    pub fn context(&self) -> Context {
        match self {
            Overlay::Search(_) => Context::Search,
            Overlay::Log(_) => Context::Log,
            Overlay::Form(_) | Overlay::Reschedule { .. } | Overlay::NewFollowUp(_) => {
                Context::Form
            }
            Overlay::Help { .. } | Overlay::Entry { .. } | Overlay::History(_) => Context::Help,
            Overlay::Confirm(_) | Overlay::Discard { .. } | Overlay::SharedOnAdd(_) => {
                Context::Confirm
            }
            Overlay::MergeChoice(_) | Overlay::Merge(_) => Context::Merge,
            Overlay::Trash(_) => Context::Trash,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct TodayState {
    /// Every open follow-up due by today, as loaded.
    pub all: Vec<DueItem>,
    /// What the queue shows: `all`, or only the agent's own with `mine`.
    pub items: Vec<DueItem>,
    pub mine: bool,
    pub selected: usize,
    pub loaded: bool,
}

impl TodayState {
    /// Re-derives the shown items from `all` (after a load or a filter change).
    pub fn refilter(&mut self, agent: &str) {
        let agent = crate::domain::text::sort_key(agent);
        self.items = self
            .all
            .iter()
            .filter(|d| !self.mine || crate::domain::text::sort_key(&d.follow_up.assignee) == agent)
            .cloned()
            .collect();
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
    }

    pub fn overdue(&self, today: Day) -> usize {
        self.items
            .iter()
            .filter(|d| d.follow_up.due < today)
            .count()
    }
}

pub struct State {
    /// "Now" for relative times; the app refreshes it, tests pin it.
    pub now: At,
    pub today: Day,
    pub zone: TimeZone,
    pub width: u16,
    pub height: u16,
    pub screen: Screen,
    pub focus: Pane,
    /// Which of detail/timeline the right side shows when only one fits.
    pub right_tab: Pane,
    pub overlay: Option<Overlay>,
    pub list: ListState,
    pub detail: Option<ContactView>,
    pub detail_scroll: usize,
    pub timeline_selected: usize,
    pub today_view: TodayState,
    /// The dashboard's figures once loaded (`None` while loading).
    pub dashboard: Option<Box<crate::analytics::reports::Dashboard>>,
    pub dashboard_focus: DashboardFocus,
    /// Others committed since the dashboard on screen was read: the event loop asks for a
    /// [`Msg::RefreshDashboard`](crate::tui::msg::Msg::RefreshDashboard) when it is time.
    pub dashboard_stale: bool,
    pub status: Option<StatusMessage>,
    pub busy: Option<String>,
    /// Keys of a sequence in progress (`g` of `g g`) and where they can lead (which-key).
    pub pending: Vec<Key>,
    pub continuations: Vec<(KeySeq, Command)>,
    pub last_channel: Channel,
    /// The keys that undo, as the effective keymap spells them (for confirmations).
    pub undo_keys: String,
    /// The agent this interface acts as ("mine" in the Today queue).
    pub agent: String,
    /// Every context's bindings as help lists them (from the keymap, once at start).
    pub help_keys: Vec<(Context, Vec<(String, Command)>)>,
    /// A contact just added is to be merged with its duplicate once saved.
    pub merge_after_save: bool,
    /// The database file, as confirmations name it.
    pub db_path: String,
    pub quit: bool,
    /// Team mode: this interface's connection id (its own commits and presence are skipped).
    pub conn: u64,
    /// Who else is on which contact (other connections only).
    pub presence: Vec<crate::api::Presence>,
    /// Someone else changed or logged on the open contact since it was opened here.
    pub changed_by_other: Option<OtherChange>,
    /// The server connection broke and is being re-established.
    pub reconnecting: bool,
    /// An OpenSSH forced-command session: no $EDITOR, no suspend.
    pub restricted: bool,
}

/// A change someone else made to the contact open here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherChange {
    pub contact: Id,
    pub agent: String,
    pub action: String,
}

impl State {
    /// The loaded profile and timeline, only while they belong to the selected contact (a new
    /// selection shows nothing stale while its own loads).
    pub fn selected_detail(&self) -> Option<&ContactView> {
        self.detail
            .as_ref()
            .filter(|d| Some(d.contact.id) == self.list.selected_id())
    }

    pub fn new(now: At, zone: TimeZone, width: u16, height: u16) -> State {
        let today = Day(now.0.to_zoned_datetime(zone.clone()).date());
        State {
            now,
            today,
            zone,
            width,
            height,
            screen: Screen::Main,
            focus: Pane::List,
            right_tab: Pane::Detail,
            overlay: None,
            list: ListState::default(),
            detail: None,
            detail_scroll: 0,
            timeline_selected: 0,
            today_view: TodayState::default(),
            dashboard: None,
            dashboard_focus: DashboardFocus::default(),
            dashboard_stale: false,
            status: None,
            busy: None,
            pending: Vec::new(),
            continuations: Vec::new(),
            last_channel: Channel::Call,
            undo_keys: String::new(),
            agent: String::new(),
            help_keys: Vec::new(),
            db_path: String::new(),
            merge_after_save: false,
            quit: false,
            conn: 0,
            presence: Vec::new(),
            changed_by_other: None,
            reconnecting: false,
            restricted: false,
        }
    }

    /// Resets the clock (the app does this each loop turn).
    pub fn set_now(&mut self, now: At) {
        self.now = now;
        self.today = Day(now.0.to_zoned_datetime(self.zone.clone()).date());
    }

    /// The empty-database welcome replaces the panes.
    pub fn is_welcome(&self) -> bool {
        self.list.started && self.list.total == 0 && self.list.ids.is_empty()
    }

    /// Key resolution order: overlay → global while an overlay is open (overlays are modal: a
    /// pane's keys must not act behind a confirmation), else pane (or Today) → global.
    pub fn contexts(&self) -> Vec<Context> {
        match &self.overlay {
            Some(overlay) => vec![overlay.context(), Context::Global],
            None => self.base_contexts(),
        }
    }

    /// What help describes: the overlay it was opened over, else the screen.
    pub fn help_contexts(&self) -> Vec<Context> {
        match &self.overlay {
            Some(Overlay::Help {
                under: Some(under), ..
            }) => vec![under.context(), Context::Global],
            _ => self.base_contexts(),
        }
    }

    /// The contexts of the screen under any overlay.
    pub fn base_contexts(&self) -> Vec<Context> {
        let pane = match self.screen {
            Screen::Today => Context::Today,
            Screen::Dashboard => Context::Dashboard,
            Screen::Main => self.focus.context(),
        };
        vec![pane, Context::Global]
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusMessage {
            text: text.into(),
            tone: Tone::Info,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(StatusMessage {
            text: text.into(),
            tone: Tone::Error,
        });
    }

    pub fn selected_contact(&self) -> Option<&Contact> {
        let id = self.list.selected_id()?;
        self.detail
            .as_ref()
            .map(|d| &d.contact)
            .filter(|c| c.id == id)
    }

    /// The contact the current screen is about (Today's item, else the list selection).
    pub fn subject(&self) -> Option<(Id, String)> {
        if self.screen == Screen::Today {
            let item = self.today_view.items.get(self.today_view.selected)?;
            return Some((item.follow_up.contact, item.contact_name.clone()));
        }
        // A search jump still waiting for the full id list: act on nothing rather than on the
        // row that happens to be selected meanwhile.
        if self.list.pending_select.is_some() {
            return None;
        }
        let id = self.list.selected_id()?;
        let name = self
            .list
            .rows
            .get(&id)
            .map(|r| r.name.clone())
            .or_else(|| self.selected_contact().map(|c| c.name.clone()))
            .unwrap_or_default();
        Some((id, name))
    }
}
