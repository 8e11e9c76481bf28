//! Messages into `update`: commands from the keymap, typed text, pastes, resizes, and the results
//! of effects (store reads and writes, search, the editor). A bug report is a list of these.
//! Must not carry anything that needs the terminal to interpret.

use crate::domain::merge::MergePlan;
use crate::domain::{Contact, FieldError, Id};
use crate::store::{DueItem, ListRow};
use crate::tui::command::Command;
use crate::tui::state::{ContactView, MergeCandidate, SearchHit};

/// How much a write changed, so only that is re-read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reload {
    /// Timelines only: list order and search stay valid.
    Timeline,
    /// One contact was added, edited or deleted: the list and that contact's search entry.
    Contact(Id),
    /// Two contacts were merged: the list, the survivor's search entry, the absorbed one's gone.
    Merged { kept: Id, absorbed: Id },
    /// Anything may have changed (undo, demo data): the list and the whole search corpus.
    Everything,
}

#[derive(Clone, Debug)]
pub enum Msg {
    Command(Command),
    /// Pushed by the server: someone's commit, presence, a reconnect.
    Remote(crate::api::Event),
    /// A printable key in a text input.
    Type(char),
    /// Bracketed paste: goes to the focused input only, never through the keymap.
    Paste(String),
    Resize(u16, u16),
    /// How many contacts there are and the first page of ids in name order.
    Started {
        total: u64,
        first_ids: Vec<Id>,
    },
    /// All ids in name order (background load); `generation` drops outdated loads.
    AllIds {
        generation: u64,
        ids: Vec<Id>,
    },
    Rows(Vec<ListRow>),
    ContactLoaded(Box<ContactView>),
    ContactMissing(Id),
    SearchResults {
        generation: u64,
        hits: Vec<SearchHit>,
    },
    DueLoaded(Vec<DueItem>),
    DashboardLoaded(Box<crate::analytics::reports::Dashboard>),
    /// Time to read the dashboard on screen again: others committed since it was read (sent
    /// by the event loop, at most once per [`crate::api::DASHBOARD_FRESH`]).
    RefreshDashboard,
    /// The contacts `query` matches, best first (a dashboard drill-down).
    Filtered {
        query: String,
        ids: Vec<Id>,
    },
    /// The list filter's contacts asked for again (`Effect::RefreshFilter`).
    FilterRefreshed {
        query: String,
        ids: Vec<Id>,
    },
    TrashLoaded(Vec<crate::tui::state::TrashRow>),
    /// A write finished; the message is already worded; `select` is a contact to show.
    Written {
        message: String,
        select: Option<Id>,
        reload: Reload,
    },
    /// A contact form was saved.
    ContactSaved(Box<Contact>),
    /// A new contact was not saved: `owner` already has its email or phone `value`.
    SharedOnAdd {
        draft: Box<crate::domain::ContactDraft>,
        owner: Id,
        owner_name: String,
        value: String,
    },
    /// The store refused a write; `fields` are per-field problems for the open form or log.
    Refused {
        message: String,
        fields: Vec<FieldError>,
    },
    EditorDone(Result<String, String>),
    /// A contact's audit trail, newest first (for the history overlay).
    HistoryLoaded {
        contact: Id,
        entries: Vec<crate::store::AuditEntry>,
    },
    /// Likely duplicates of `subject`, best first (empty: none found).
    Duplicates {
        subject: Id,
        subject_name: String,
        candidates: Vec<MergeCandidate>,
    },
    /// Both contacts of a merge are loaded, with default picks.
    MergeReady(Box<MergePlan>),
}
