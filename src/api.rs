//! The store's operations as plain data: every request the TUI's effects and the CLI commands
//! make, every answer, and the events a server pushes. Two transports carry them — in-process
//! ([`Db::local`], for tests and maintenance) and the Unix socket ([`crate::client`]) — so a
//! feature added here works in team mode for free. A new feature adds a request to the table
//! in [`api!`], never a side door to the store.
//!
//! Requests are numbered once and for all (the number travels in the frame header, see
//! [`frame`]); payloads are JSON, so a peer built from other code ignores fields it does not
//! know. Released numbers and fields never change meaning; new ones are added. A request kind a
//! server does not know is answered "unsupported", never fatal.
//!
//! Identity is not part of any request: the serving side attaches the [`Caller`] it
//! authenticated (peer credentials, the SSH forced command), so a client cannot write as
//! somebody else.

pub mod frame;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use serde::{Deserialize, Serialize};

use crate::domain::{
    Actor, At, Contact, ContactDraft, Day, Deal, Entry, FollowUp, Id, Interaction, Organization,
};
use crate::server::Service;
use crate::store::{AuditEntry, DueItem, ListRow, Logged, Merged, StoreError, TrashBundle};

/// How old a dashboard the server may answer while commits keep coming, and so how long
/// after a commit a dashboard on screen asks again to be sure it shows it
/// ([`crate::server::Service::dashboard`]). At 1M customers one computation costs the server
/// 0.5–0.75 s of CPU: with a team committing all the time, this keeps open dashboards (all
/// of them together) to about a fifth of a core, and each shows a sale within 3–4 s.
pub const DASHBOARD_FRESH: std::time::Duration = std::time::Duration::from_secs(3);

/// The protocol this build speaks, and the oldest one it still understands.
pub const PROTOCOL: u32 = 1;
pub const MIN_PROTOCOL: u32 = 1;

/// Where a write came from, recorded with the agent in every audit entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Tui,
    #[default]
    Cli,
    Import,
    Ssh,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Tui => "tui",
            Source::Cli => "cli",
            Source::Import => "import",
            Source::Ssh => "ssh",
        }
    }
}

/// Who is asking, as the serving side established it (never the client's own word on a shared
/// server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub agent: Actor,
    pub source: Source,
    /// The connection, for presence (0 in-process).
    pub conn: u64,
    /// The peer runs as the server's own account (or the server is in-process): it may hand the
    /// server file paths to read or write.
    pub trusted_paths: bool,
    /// Logged in through an SSH forced command: no file paths at all.
    pub restricted: bool,
}

impl Caller {
    /// The in-process caller: the process's own agent, trusted with paths.
    pub fn local(agent: Actor, source: Source) -> Caller {
        Caller {
            agent,
            source,
            conn: 0,
            trusted_paths: true,
            restricted: false,
        }
    }

    /// The actor audit entries record (the source is recorded beside it, see
    /// [`crate::store::with_source`]).
    pub fn actor(&self) -> Actor {
        self.agent.clone()
    }
}

/// What a person is doing with a contact, shown to the others looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum PresenceMode {
    Viewing,
    Editing,
    Composing,
}

impl PresenceMode {
    pub fn verb(self) -> &'static str {
        match self {
            PresenceMode::Viewing => "viewing",
            PresenceMode::Editing => "editing",
            PresenceMode::Composing => "writing a log",
        }
    }
}

/// One connection's presence on a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub conn: u64,
    pub agent: String,
    pub contact: Id,
    pub mode: PresenceMode,
}

/// One search match: the id, the display name, which chars of it matched, and what tells this
/// person apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: Id,
    pub name: String,
    pub organization: String,
    /// Char indices into `name` to highlight.
    pub highlights: Vec<usize>,
    /// What tells this person apart (email, phone, city), the matched value first when the
    /// query matched something other than the name.
    pub details: Vec<String>,
    /// Whether `details[0]` is the value the query matched (shown highlighted).
    pub matched_detail: bool,
}

/// Which audit entries `history` wants, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Only this agent's (case-insensitive).
    pub agent: Option<String>,
    /// Only from this day on (local time).
    pub since: Option<Day>,
    pub limit: usize,
}

/// A whole command the server runs for the client in its own process (bulk loads, exports,
/// backups, checks): the argument vector as typed, the client's working directory for relative
/// paths, and whether the client's stdout is a terminal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub args: Vec<String>,
    pub cwd: PathBuf,
}

/// What a job printed and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOutput {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
    /// The failure's message when `code` is not 0.
    pub message: String,
}

/// What the server says about itself (`rolo server status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub version: String,
    pub protocol: u32,
    pub db: String,
    pub pid: u32,
    pub clients: usize,
    pub last_seq: u64,
    pub shared: bool,
    pub presence: Vec<Presence>,
}

/// Pushed by the server to every subscribed client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A transaction committed: its audit sequence, who did it, and which contacts it touched
    /// (`everything` when too many to list: reload all).
    Committed {
        seq: u64,
        agent: String,
        action: String,
        contacts: Vec<Id>,
        everything: bool,
        /// The connection whose request committed it (0: unknown, e.g. a replay).
        #[serde(default)]
        origin: u64,
        /// Contacts were added, removed or renamed: the list's order changed.
        #[serde(default)]
        roster: bool,
    },
    /// Who is on which contact now (the whole table, small).
    Presence { entries: Vec<Presence> },
    /// The client fell behind (its queue overflowed) or reconnected past what can be replayed:
    /// reload everything.
    Resync { seq: u64 },
    /// The connection to the server broke; the client is trying again.
    Reconnecting,
    /// Back, caught up to `seq`.
    Reconnected { seq: u64 },
    /// How far a job this client asked for has got (only to that client).
    Progress(crate::cli::progress::Progress),
}

/// Read or write: writes are serialised and followed by a broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    /// Not a store operation (presence, status).
    Session,
}

/// Defines every request once: its frozen number, its arguments, its answer, and how the
/// serving side answers it. Generates [`Request`], [`Response`], their frame payloads, the typed
/// methods of [`Db`] and the dispatcher.
macro_rules! api {
    ($(
        $(#[doc = $doc:literal])*
        $kind:literal $variant:ident $method:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty,
        $access:ident => |$svc:ident, $caller:ident| $body:expr;
    )*) => {
        /// The arguments of each request, one struct per kind.
        pub mod args {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[derive(Clone, Debug, Serialize, Deserialize)]
                pub struct $variant { $(pub $arg: $ty),* }
            )*
        }

        #[derive(Clone, Debug)]
        #[allow(clippy::large_enum_variant)]
        pub enum Request { $( $variant(args::$variant), )* }

        #[derive(Clone, Debug)]
        #[allow(clippy::large_enum_variant)]
        pub enum Response { $( $variant($ret), )* }

        impl Request {
            pub fn kind(&self) -> u16 {
                match self { $( Request::$variant(_) => $kind, )* }
            }
            pub fn name(&self) -> &'static str {
                match self { $( Request::$variant(_) => stringify!($method), )* }
            }
            pub fn access(&self) -> Access {
                match self { $( Request::$variant(_) => Access::$access, )* }
            }
            pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
                match self { $( Request::$variant(a) => serde_json::to_vec(a), )* }
            }
            /// `Ok(None)`: a kind this build does not know (answered "unsupported").
            pub fn decode(kind: u16, payload: &[u8]) -> Result<Option<Request>, serde_json::Error> {
                Ok(Some(match kind {
                    $( $kind => Request::$variant(serde_json::from_slice(payload)?), )*
                    _ => return Ok(None),
                }))
            }
        }

        impl Response {
            pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
                match self { $( Response::$variant(v) => serde_json::to_vec(v), )* }
            }
            /// Decodes the answer to a request of `kind`.
            pub fn decode(kind: u16, payload: &[u8]) -> Result<Option<Response>, serde_json::Error> {
                Ok(Some(match kind {
                    $( $kind => Response::$variant(serde_json::from_slice(payload)?), )*
                    _ => return Ok(None),
                }))
            }
        }

        impl Db {
            $(
                $(#[doc = $doc])*
                pub fn $method(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    match self.call(Request::$variant(args::$variant { $($arg),* }))? {
                        Response::$variant(v) => Ok(v),
                        other => Err(StoreError::Protocol(format!(
                            "asked {} and got the answer to another request ({other:?})",
                            stringify!($method)
                        ))),
                    }
                }
            )*
        }

        /// Answers one request against the service, as `caller`.
        #[allow(unused_variables, clippy::redundant_closure_call)]
        pub(crate) fn dispatch(
            service: &Service,
            caller: &Caller,
            request: Request,
        ) -> Result<Response, StoreError> {
            match request {
                $(
                    Request::$variant(args::$variant { $($arg),* }) => {
                        let $svc = service;
                        let $caller = caller;
                        Ok(Response::$variant($body))
                    }
                )*
            }
        }
    };
}

api! {
    // ---- reads -------------------------------------------------------------------------
    /// How many contacts there are.
    1 ContactCount contact_count() -> u64, Read => |s, c| s.store.contact_count()?;
    /// One contact, if it exists.
    2 ContactById contact(id: Id) -> Option<Contact>, Read => |s, c| s.store.contact(id)?;
    3 OrganizationById organization(id: Id) -> Option<Organization>, Read => |s, c| s.store.organization(id)?;
    /// An organisation's name ("" for none).
    4 OrganizationName organization_name(id: Option<Id>) -> String, Read => |s, c| s.store.organization_name(id)?;
    5 OrganizationByName organization_by_name(name: String) -> Option<Id>, Read => |s, c| s.store.organization_by_name(&name)?;
    6 Organizations organizations() -> Vec<Organization>, Read => |s, c| s.store.organizations()?;
    /// A contact's timeline, newest first.
    7 Timeline timeline(contact: Id, limit: usize) -> Vec<Entry>, Read => |s, c| s.store.timeline(contact, limit)?;
    8 HistoryCount history_count(contact: Id) -> usize, Read => |s, c| s.store.history_count(contact)?;
    9 DealsFor deals_for(contact: Id) -> Vec<Deal>, Read => |s, c| s.store.deals_for(contact)?;
    10 FindByEmail find_by_email(email: String) -> Vec<Id>, Read => |s, c| s.store.find_by_email(&email)?;
    11 FindByPhone find_by_phone(phone: String) -> Vec<Id>, Read => |s, c| s.store.find_by_phone(&phone)?;
    12 FindByName find_by_name(name: String) -> Vec<Id>, Read => |s, c| s.store.find_by_name(&name)?;
    13 FindByTag find_by_tag(tag: String) -> Vec<Id>, Read => |s, c| s.store.find_by_tag(&tag)?;
    14 FindByUid find_by_uid(uid: String) -> Option<Id>, Read => |s, c| s.store.find_by_uid(&uid)?;
    15 PossibleDuplicates possible_duplicates(subject: Contact) -> Vec<(Contact, String)>, Read => |s, c| s.store.possible_duplicates(&subject)?;
    /// Last contact and next due day of one contact.
    16 Summary summary(id: Id) -> (Option<At>, Option<Day>), Read => |s, c| s.store.summary(id)?;
    /// Contact ids in name order, after `after`.
    17 IdsByName ids_by_name(after: Option<Id>, limit: usize) -> Vec<Id>, Read => |s, c| s.store.ids_by_name(after, limit)?;
    /// List rows, with RFM scores from the server's index for customers.
    18 ListRows list_rows(ids: Vec<Id>) -> Vec<ListRow>, Read => |s, c| s.list_rows(&ids)?;
    /// Open follow-ups due up to `until`, oldest first.
    19 DueUntil due_until(until: Day, limit: usize) -> Vec<DueItem>, Read => |s, c| s.store.due_until(until, limit)?;
    /// The audit trail, newest first, filtered.
    20 AuditLog audit_log(query: HistoryQuery) -> Vec<AuditEntry>, Read => |s, c| {
        let agent = query.agent.as_deref().map(|a| a.trim().to_lowercase());
        s.store.audit_log_where(query.limit, query.since, |e| {
            agent.as_deref().is_none_or(|a| e.actor.trim().to_lowercase() == a)
        })?
    };
    /// Everything that changed one contact, oldest first.
    21 AuditAbout audit_about(contact: Id) -> Vec<AuditEntry>, Read => |s, c| s.store.audit_about(contact)?;
    /// Audit entries after `seq`, oldest first (catch-up after a reconnect).
    22 AuditAfter audit_after(seq: u64, limit: usize) -> Vec<AuditEntry>, Read => |s, c| s.store.audit_after(seq, limit)?;
    23 UndonePairs undone_pairs() -> Vec<(u64, u64)>, Read => |s, c| s.store.undone_pairs()?;
    24 Counters counters() -> std::collections::BTreeMap<String, u64>, Read => |s, c| s.store.counters()?;
    25 Trash trash() -> Vec<TrashBundle>, Read => |s, c| s.store.trash()?;
    /// Contacts in id order after `after` (a page of `for_each_contact`).
    26 ContactsAfter contacts_after(after: Option<Id>, limit: usize) -> Vec<Contact>, Read => |s, c| s.store.contacts_after(after, limit)?;
    27 SchemaVersion schema_version() -> u64, Read => |s, c| s.store.schema_version()?;
    /// Ranked search hits with highlights, from the server's one index.
    28 Search search(query: String, limit: usize) -> Vec<SearchHit>, Read => |s, c| s.search_as(c.conn, &query, limit)?;
    /// The path of the database file, as the server sees it.
    30 DbPath db_path() -> String, Read => |s, c| s.store.path().display().to_string();

    // ---- writes ------------------------------------------------------------------------
    100 AddContact add_contact(draft: ContactDraft) -> Contact, Write => |s, c| s.store.add_contact(&c.actor(), draft)?;
    /// Saves an edited contact; edits of other fields made meanwhile are kept (field-level
    /// merge), the same fields changed by both are refused as stale.
    101 UpdateContact update_contact(edited: Contact, organization: Option<String>, base: Option<Contact>) -> Contact, Write => |s, c| s.store.update_contact_from(&c.actor(), base.as_ref(), edited, organization.as_deref())?;
    102 DeleteContact delete_contact(id: Id) -> TrashBundle, Write => |s, c| s.store.delete_contact(&c.actor(), id)?;
    103 MergeContacts merge_contacts(merged: Contact, absorbed: Contact) -> Merged, Write => |s, c| s.store.merge_contacts(&c.actor(), merged, &absorbed)?;
    104 RestoreContact restore_contact(id: Id) -> Contact, Write => |s, c| s.store.restore_contact(&c.actor(), id)?;
    /// Logs an interaction, with an optional follow-up, closing the follow-up it answers.
    105 LogInteraction log_interaction(interaction: Interaction, follow_up: Option<(Day, String)>, answers: Option<FollowUp>) -> Logged, Write => |s, c| s.store.log_answering(&c.actor(), interaction, follow_up, answers.as_ref())?;
    106 AddEntry add_entry(entry: Entry) -> Entry, Write => |s, c| s.store.add_entry(&c.actor(), entry)?;
    107 CompleteFollowUp complete_follow_up(follow_up: FollowUp) -> FollowUp, Write => |s, c| s.store.complete_follow_up(&c.actor(), &follow_up)?;
    108 RescheduleFollowUp reschedule_follow_up(follow_up: FollowUp, due: Day) -> FollowUp, Write => |s, c| s.store.reschedule_follow_up(&c.actor(), &follow_up, due)?;
    109 AddDeal add_deal(deal: Deal) -> Deal, Write => |s, c| s.store.add_deal(&c.actor(), deal)?;
    110 UpdateDeal update_deal(deal: Deal) -> Deal, Write => |s, c| s.store.update_deal(&c.actor(), deal)?;
    /// Undoes the caller's own last action.
    111 Undo undo() -> AuditEntry, Write => |s, c| s.store.undo(&c.actor())?;
    112 EditInteraction edit_interaction(original: Interaction, edited: Interaction) -> Interaction, Write => |s, c| s.store.edit_interaction(&c.actor(), &original, edited)?;
    113 DeleteInteraction delete_interaction(original: Interaction) -> (), Write => |s, c| s.store.delete_interaction(&c.actor(), &original)?;
    /// The analytics dashboard's aggregates as of a day (today by default).
    31 Dashboard dashboard(as_of: Option<Day>) -> crate::analytics::reports::Dashboard, Read => |s, c| s.dashboard(as_of, matches!(c.source, Source::Tui | Source::Ssh))?;
    /// The ids matching a query, best first, from the server's index (a list filter).
    32 SearchIds search_ids(query: String, limit: usize) -> Vec<Id>, Read => |s, c| s.search_ids(c.conn, &query, limit)?;
    /// One customer's RFM scores, purchase figures and churn/value predictions (`None`
    /// without purchases).
    33 CustomerAnalytics customer_analytics(contact: Id) -> Option<crate::analytics::reports::CustomerAnalytics>, Read => |s, c| s.customer_analytics(contact)?;
    /// Loads demo data (the TUI's welcome screen).
    114 LoadDemo load_demo(contacts: u64, seed: u64) -> u64, Write => |s, c| crate::demo::load(&s.store, &c.actor(), contacts, seed, |_| {})?;

    // ---- session -----------------------------------------------------------------------
    /// Says what this connection is doing with which contact (`None`: nothing).
    200 SetPresence set_presence(contact: Option<Id>, mode: PresenceMode) -> (), Session => |s, c| s.set_presence(c, contact, mode);
    201 Status status() -> ServerStatus, Session => |s, c| s.status();
    /// Runs a whole bulk command in the server (see [`Job`]).
    202 RunJob run_job(job: Job) -> JobOutput, Session => |s, c| s.run_job(c, job)?;
    /// Asks an idle auto-started server to exit (a newer client replacing it).
    203 Shutdown shutdown() -> bool, Session => |s, c| s.request_shutdown(c);
    /// Who the server says you are.
    204 Whoami whoami() -> String, Session => |s, c| c.agent.0.clone();
}

/// A handle on the store's operations, in-process or through a server. Cheap to clone; every
/// thread of a client may call it at once.
#[derive(Clone)]
pub struct Db {
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Local {
        service: Arc<Service>,
        caller: Caller,
    },
    Remote(Arc<crate::client::Connection>),
}

impl Db {
    /// The in-process transport: this process owns the file.
    pub fn local(store: crate::store::Store, caller: Caller) -> Db {
        Db {
            transport: Transport::Local {
                service: Service::new(store, false),
                caller,
            },
        }
    }

    /// A handle on a service this process already runs (a job inside the server).
    pub fn in_service(service: Arc<Service>, caller: Caller) -> Db {
        Db {
            transport: Transport::Local { service, caller },
        }
    }

    pub fn remote(connection: Arc<crate::client::Connection>) -> Db {
        Db {
            transport: Transport::Remote(connection),
        }
    }

    /// Sends one request and waits for its answer.
    pub fn call(&self, request: Request) -> Result<Response, StoreError> {
        match &self.transport {
            Transport::Local { service, caller } => service.handle(caller, request),
            Transport::Remote(conn) => conn.call(request),
        }
    }

    /// Events from now on (commits by anyone, presence, reconnects). One receiver per handle.
    pub fn subscribe(&self) -> Receiver<Event> {
        match &self.transport {
            Transport::Local { service, caller } => service.subscribe(caller.conn),
            Transport::Remote(conn) => conn.subscribe(),
        }
    }

    /// The connection id presence entries carry for this handle.
    pub fn conn_id(&self) -> u64 {
        match &self.transport {
            Transport::Local { caller, .. } => caller.conn,
            Transport::Remote(conn) => conn.conn_id(),
        }
    }

    /// The agent the serving side writes as.
    pub fn agent(&self) -> String {
        match &self.transport {
            Transport::Local { caller, .. } => caller.agent.0.clone(),
            Transport::Remote(conn) => conn.agent(),
        }
    }

    /// Lets go of the server (no reconnecting), or — in-process — waits briefly until other
    /// threads have let go of the store, so redb closes the file cleanly (an unclean close
    /// costs a full repair on the next open).
    pub fn close(&self) {
        match &self.transport {
            Transport::Remote(conn) => conn.close(),
            Transport::Local { service, .. } => {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
                while Arc::strong_count(service) > 1 && std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
    }

    /// Every contact in id order, read a page at a time (no transaction held between pages).
    pub fn for_each_contact(&self, mut f: impl FnMut(Contact) -> bool) -> Result<(), StoreError> {
        const PAGE: usize = 2_000;
        let mut after = None;
        loop {
            let page = self.contacts_after(after, PAGE)?;
            let done = page.len() < PAGE;
            after = page.last().map(|c| c.id);
            for c in page {
                if !f(c) {
                    return Ok(());
                }
            }
            if done {
                return Ok(());
            }
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.transport {
            Transport::Local { caller, .. } => write!(f, "Db::local({})", caller.agent.0),
            Transport::Remote(_) => write!(f, "Db::remote"),
        }
    }
}
