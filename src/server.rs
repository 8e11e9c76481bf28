//! The owner of the database file: the [`Service`] answers [`api`](crate::api) requests
//! against the one [`Store`], keeps the one search index, the presence table and the
//! subscribers, and broadcasts every commit (from the audit sequence) to them. [`serve`] puts
//! it on a Unix socket: one reader thread and one writer thread (with a bounded queue) per
//! client, writes serialised, identity from peer credentials.
//!
//! The service never trusts a client's word for who it is on a shared socket: see
//! [`socket::identify`].

pub mod socket;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock};

use crate::analytics::reports::{self, CustomerAnalytics};
use crate::analytics::summary::{ValueRow, utc_day};
use crate::api::{
    self, Access, Caller, Event, Job, JobOutput, Presence, PresenceMode, Request, Response,
    SearchHit, ServerStatus,
};
use crate::domain::{Day, Entry, Id};
use crate::search::{BoughtBuilder, CustomerFacts, Index, MatchField, Query, SearchOptions};
use crate::store::{AuditEntry, ListRow, Record, Store, StoreError};

/// Events a subscriber may have queued before it is considered stuck (then: one `Resync`).
pub const QUEUE: usize = 4096;
/// More new audit entries than this after one commit: one "reload everything" event.
const EVERYTHING_AFTER: usize = 200;
/// More contacts than this in one commit: "reload everything" too.
const CONTACTS_PER_EVENT: usize = 2_000;

struct Subscriber {
    conn: u64,
    queue: SyncSender<Event>,
    lagging: bool,
}

/// See [`Service::dashboard`].
struct CachedDashboard {
    day: Day,
    seq: u64,
    started: std::time::Instant,
    dashboard: crate::analytics::reports::Dashboard,
}

pub struct Service {
    pub(crate) store: Store,
    /// The one search index; `None` until loaded.
    index: RwLock<Option<Index>>,
    index_load: Mutex<()>,
    /// Held while the index's purchase columns or its table of what customers bought load.
    purchases_load: Mutex<()>,
    /// The purchase columns were asked for once: a reloaded index gets them at once too.
    customers_wanted: AtomicBool,
    /// The same for what customers bought (`bought:`, `month:`).
    bought_wanted: AtomicBool,
    /// "Today" for the purchase analytics when pinned (tests, reproductions), as a UTC day
    /// number; `i64::MIN`: the clock's.
    analytics_day: std::sync::atomic::AtomicI64,
    /// The last audit sequence broadcast; held while broadcasting, so events go out in commit
    /// order.
    written: Mutex<u64>,
    /// With a publisher thread (the socket server), writes hand their broadcast to it and
    /// return as soon as they committed; without one (in-process) they broadcast inline.
    publisher: Mutex<Option<std::sync::mpsc::Sender<u64>>>,
    /// Scans running now, at most one per core: many clients' keystrokes queue for a core
    /// instead of thrashing all of them.
    scans: Mutex<usize>,
    scan_done: std::sync::Condvar,
    /// Each connection's last search, to narrow the next keystroke's from it.
    searchers: Mutex<std::collections::HashMap<u64, crate::search::Searcher>>,
    subscribers: Mutex<Vec<Subscriber>>,
    /// The last dashboard computed, with the day it describes, the audit sequence it saw and
    /// when its computing started: open dashboards ask again after commits (at most once
    /// per [`crate::api::DASHBOARD_FRESH`] each), and screens asking within that time of a
    /// computation get it from here. Held while one computes, so a burst of asks computes once.
    dashboard: Mutex<Option<CachedDashboard>>,
    presence: Mutex<BTreeMap<u64, Presence>>,
    next_conn: AtomicU64,
    /// Whether this service listens on a shared (team) socket.
    pub shared: bool,
    pub(crate) clients: AtomicU64,
    pub(crate) stop: AtomicBool,
    /// Auto-started servers may be asked to exit by a newer client.
    pub(crate) auto: AtomicBool,
    me: std::sync::Weak<Service>,
}

impl Service {
    pub fn new(store: Store, shared: bool) -> Arc<Service> {
        let last = store.last_audit_seq().unwrap_or(0);
        Arc::new_cyclic(|me| Service {
            me: me.clone(),
            store,
            index: RwLock::new(None),
            index_load: Mutex::new(()),
            purchases_load: Mutex::new(()),
            customers_wanted: AtomicBool::new(false),
            bought_wanted: AtomicBool::new(false),
            analytics_day: std::sync::atomic::AtomicI64::new(i64::MIN),
            written: Mutex::new(last),
            publisher: Mutex::new(None),
            searchers: Mutex::new(std::collections::HashMap::new()),
            scans: Mutex::new(0),
            scan_done: std::sync::Condvar::new(),
            subscribers: Mutex::new(Vec::new()),
            dashboard: Mutex::new(None),
            presence: Mutex::new(BTreeMap::new()),
            // Connection ids start somewhere new for every server: a client that reconnects
            // after a restart must never meet its old id on someone else (the interface skips
            // commits whose origin is its own id, and hides its own presence by it).
            next_conn: AtomicU64::new(fastrand::u64(1..1 << 52)),
            shared,
            clients: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            auto: AtomicBool::new(false),
        })
    }

    /// This service as a shared handle (jobs run commands against it).
    pub fn handle_arc(&self) -> Option<Arc<Service>> {
        self.me.upgrade()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store back, for work that needs the file to itself (compaction, redb's check).
    pub fn into_store(self) -> Store {
        self.store
    }

    /// A fresh connection id.
    pub fn connection(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// The last audit sequence broadcast.
    pub fn last_seq(&self) -> u64 {
        *lock(&self.written)
    }

    /// Answers one request; writes are serialised and followed by their broadcast.
    pub fn handle(&self, caller: &Caller, request: Request) -> Result<Response, StoreError> {
        if caller.restricted && matches!(request, Request::RunJob(_)) {
            return Err(StoreError::Refused(
                "bulk commands (import, export, backup, demo, doctor) are not available in a restricted (SSH) session".into(),
            ));
        }
        let started = std::time::Instant::now();
        let result = crate::store::with_source(caller.source.name(), || match request.access() {
            Access::Write => {
                let result = api::dispatch(self, caller, request);
                self.published(caller.conn);
                result
            }
            Access::Read | Access::Session => api::dispatch(self, caller, request),
        });
        // A report, a job or a first search leaves transient memory behind; an idle server
        // would keep it.
        crate::memory::release_after(started);
        result
    }

    /// After a write by `origin`: broadcast it now, or hand it to the publisher thread.
    fn published(&self, origin: u64) {
        if let Some(publisher) = lock(&self.publisher).as_ref() {
            let _ = publisher.send(origin);
            return;
        }
        let mut last = lock(&self.written);
        self.broadcast_commits(&mut last, origin);
    }

    /// Starts the thread that keeps the search index current and broadcasts commits, in commit
    /// order, off the writers' path (a write returns once it is on disk; a slow broadcast or a
    /// busy index never holds up the next one).
    pub fn start_publisher(self: &Arc<Self>) {
        let (tx, rx) = std::sync::mpsc::channel::<u64>();
        *lock(&self.publisher) = Some(tx);
        let me = Arc::downgrade(self);
        std::thread::spawn(move || {
            while let Ok(origin) = rx.recv() {
                let Some(service) = me.upgrade() else { return };
                let mut last = lock(&service.written);
                service.broadcast_commits(&mut last, origin);
                // Writes that piled up meanwhile were broadcast with this one.
                while rx.try_recv().is_ok() {}
            }
        });
    }

    /// Broadcasts every audit entry after `*last` (and keeps the search index current).
    fn broadcast_commits(&self, last: &mut u64, origin: u64) {
        let Ok(entries) = self.store.audit_after(*last, EVERYTHING_AFTER + 1) else {
            return;
        };
        if entries.is_empty() {
            return;
        }
        if entries.len() > EVERYTHING_AFTER {
            let seq = self.store.last_audit_seq().unwrap_or(*last);
            *last = seq;
            self.reload_index();
            self.send_all(&Event::Committed {
                seq,
                agent: String::new(),
                action: "bulk changes".into(),
                contacts: Vec::new(),
                everything: true,
                origin,
                roster: true,
            });
            return;
        }
        let several = entries.len() > 1;
        for entry in entries {
            *last = entry.seq;
            let mut event = self.committed(&entry);
            if let Event::Committed { origin: o, .. } = &mut event {
                // Several commits at once (the publisher caught up): whose each was is not
                // known, so every interface treats them as someone else's and reloads.
                *o = if several { 0 } else { origin };
            }
            self.send_all(&event);
        }
    }

    pub(crate) fn committed(&self, entry: &AuditEntry) -> Event {
        let bulk = entry.changes.is_empty() || entry.changes.len() > CONTACTS_PER_EVENT;
        let mut contacts: Vec<Id> = entry.contacts().into_iter().map(|(id, _)| id).collect();
        contacts.sort_unstable();
        contacts.dedup();
        // Purchases moved (added, edited, removed, or with their contact to or from the trash):
        // the purchase columns of those contacts are re-read too.
        let purchases = entry.changes.iter().any(|c| {
            [&c.before, &c.after]
                .into_iter()
                .flatten()
                .any(|r| matches!(r, Record::Entry(Entry::Purchase(_)) | Record::Trash(_)))
        });
        if bulk {
            self.reload_index();
        } else {
            self.refresh_index(&contacts, purchases);
        }
        let roster = bulk
            || entry.changes.iter().any(|c| match (&c.before, &c.after) {
                (Some(Record::Contact(a)), Some(Record::Contact(b))) => a.name != b.name,
                (Some(Record::Contact(_)), _) | (_, Some(Record::Contact(_))) => true,
                _ => false,
            });
        Event::Committed {
            seq: entry.seq,
            agent: entry.actor.clone(),
            action: entry.action.clone(),
            contacts: if bulk { Vec::new() } else { contacts },
            everything: bulk,
            origin: 0,
            roster,
        }
    }

    /// Writes done outside [`Service::handle`] (a job's bulk load): broadcast them now.
    pub fn catch_up(&self) {
        let mut last = lock(&self.written);
        self.broadcast_commits(&mut last, 0);
    }

    fn send_all(&self, event: &Event) {
        let mut subs = lock(&self.subscribers);
        subs.retain_mut(|s| {
            if s.lagging {
                match s.queue.try_send(Event::Resync {
                    seq: match event {
                        Event::Committed { seq, .. } => *seq,
                        _ => 0,
                    },
                }) {
                    Ok(()) => s.lagging = false,
                    Err(TrySendError::Full(_)) => return true,
                    Err(TrySendError::Disconnected(_)) => return false,
                }
                // The resync covers this event too.
                return true;
            }
            match s.queue.try_send(event.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    s.lagging = true;
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            }
        });
    }

    /// An event for one connection only (a job's progress).
    pub fn send_to(&self, conn: u64, event: Event) {
        for s in lock(&self.subscribers).iter().filter(|s| s.conn == conn) {
            let _ = s.queue.try_send(event.clone());
        }
    }

    /// Events for connection `conn` from now on, through a bounded queue: a consumer that
    /// stops reading never blocks the service; it gets one `Resync` when it reads again.
    pub fn subscribe(&self, conn: u64) -> Receiver<Event> {
        let (queue, events) = mpsc::sync_channel(QUEUE);
        lock(&self.subscribers).push(Subscriber {
            conn,
            queue,
            lagging: false,
        });
        events
    }

    /// Forgets a closed connection: its subscription, its presence, its last search.
    pub fn disconnect(&self, conn: u64) {
        lock(&self.searchers).remove(&conn);
        lock(&self.subscribers).retain(|s| s.conn != conn);
        let removed = lock(&self.presence).remove(&conn).is_some();
        if removed {
            self.send_presence();
        }
    }

    pub(crate) fn set_presence(&self, caller: &Caller, contact: Option<Id>, mode: PresenceMode) {
        let changed = {
            let mut table = lock(&self.presence);
            let before = table.get(&caller.conn).cloned();
            match contact {
                Some(contact) => {
                    table.insert(
                        caller.conn,
                        Presence {
                            conn: caller.conn,
                            agent: caller.agent.0.clone(),
                            contact,
                            mode,
                        },
                    );
                }
                None => {
                    table.remove(&caller.conn);
                }
            }
            before != table.get(&caller.conn).cloned()
        };
        if changed {
            self.send_presence();
        }
    }

    fn send_presence(&self) {
        let entries: Vec<Presence> = lock(&self.presence).values().cloned().collect();
        self.send_all(&Event::Presence { entries });
    }

    pub(crate) fn status(&self) -> ServerStatus {
        ServerStatus {
            version: env!("CARGO_PKG_VERSION").into(),
            protocol: api::PROTOCOL,
            db: self.store.path().display().to_string(),
            pid: std::process::id(),
            clients: usize::try_from(self.clients.load(Ordering::Relaxed)).unwrap_or(0),
            last_seq: self.last_seq(),
            shared: self.shared,
            presence: lock(&self.presence).values().cloned().collect(),
        }
    }

    pub(crate) fn request_shutdown(&self, caller: &Caller) -> bool {
        // Only an auto-started server, and only for its own user.
        if self.auto.load(Ordering::Relaxed) && caller.trusted_paths {
            self.stop.store(true, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    pub(crate) fn run_job(&self, caller: &Caller, job: Job) -> Result<JobOutput, StoreError> {
        if !caller.trusted_paths {
            return Err(StoreError::Refused(format!(
                "`rolo {}` reads or writes files as the server's account; on a shared server run it as that account (or ask whoever runs `rolo serve`)",
                job.args.first().map(String::as_str).unwrap_or("")
            )));
        }
        let Some(me) = self.handle_arc() else {
            return Err(StoreError::Unavailable("the server is stopping".into()));
        };
        let output = crate::cli::run_job(me, caller.clone(), &job);
        self.catch_up();
        Ok(output)
    }

    // ---- search -------------------------------------------------------------------------

    /// Loads the index now if it is not loaded (the server does this at start, in the
    /// background; a search that comes first waits for it).
    pub fn ensure_index(&self) -> Result<(), StoreError> {
        if read(&self.index).is_some() {
            return Ok(());
        }
        let _loading = lock(&self.index_load);
        if read(&self.index).is_some() {
            return Ok(());
        }
        let mut index = self.store.load_search_index()?;
        index.set_scan_threads(1);
        *write(&self.index) = Some(index);
        // Changes committed while it was read are applied on top.
        Ok(())
    }

    /// A fresh index from the store (after bulk changes), with the purchase columns and the
    /// table of what customers bought if they were in use. Runs while commits are broadcast,
    /// so nothing is applied to the index meanwhile.
    fn reload_index(&self) {
        if read(&self.index).is_none() {
            return;
        }
        if let Ok(mut index) = self.store.load_search_index() {
            index.set_scan_threads(1);
            if self.customers_wanted.load(Ordering::Relaxed)
                && let Ok((rows, models)) = self.customer_columns()
            {
                index.load_customers(facts_of(&rows), models);
            }
            if self.bought_wanted.load(Ordering::Relaxed)
                && let Ok(bought) = self.bought_table()
            {
                index.set_bought_table(bought);
            }
            *write(&self.index) = Some(index);
        }
    }

    /// Re-reads the search records of `contacts` and, when their purchases moved, their
    /// purchase columns and what they bought.
    fn refresh_index(&self, contacts: &[Id], purchases: bool) {
        let (customers, bought) = match read(&self.index).as_ref() {
            None => return,
            Some(index) => (
                purchases && index.customers_loaded(),
                purchases && index.bought_loaded(),
            ),
        };
        let records: Vec<(Id, Option<Vec<u8>>)> = contacts
            .iter()
            .map(|&id| (id, self.store.search_record(id).ok().flatten()))
            .collect();
        let facts: Vec<(Id, Option<CustomerFacts>)> = if customers {
            contacts
                .iter()
                .map(|&id| {
                    let summary = self.store.customer_summary(id).ok().flatten();
                    (
                        id,
                        summary
                            .as_ref()
                            .and_then(|s| customer_facts(&ValueRow::of(s))),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let lines: Vec<(Id, Vec<(i32, String)>)> = if bought {
            contacts
                .iter()
                .map(|&id| (id, self.bought_by(id).unwrap_or_default()))
                .collect()
        } else {
            Vec::new()
        };
        if let Some(index) = write(&self.index).as_mut() {
            for (id, record) in records {
                match record {
                    Some(bytes) if index.upsert_encoded(&bytes).is_ok() => {}
                    _ => index.remove(id),
                }
            }
            for (id, facts) in &facts {
                index.set_customer(*id, facts.as_ref());
            }
            for (id, lines) in lines {
                index.set_bought(id, lines);
            }
        }
    }

    // ---- purchases in the index ---------------------------------------------------------

    /// Pins the day the purchase analytics describe (the TUI driver pins its clock).
    pub fn pin_analytics_day(&self, day: Day) {
        self.analytics_day
            .store(i64::from(day.number()), Ordering::Relaxed);
    }

    /// Today as a UTC day, as the reports count days, unless pinned.
    fn analytics_today(&self) -> Day {
        match i32::try_from(self.analytics_day.load(Ordering::Relaxed)) {
            Ok(day) => Day::from_number(day),
            Err(_) => reports::today(),
        }
    }

    /// Loads the index's purchase columns (RFM values, P(alive) from a fresh BG/NBD fit) unless
    /// they are loaded and describe today; so the models are refitted once a day, when first
    /// needed.
    pub fn ensure_customers(&self) -> Result<(), StoreError> {
        self.ensure_index()?;
        let today = self.analytics_today().number();
        let fresh = || {
            read(&self.index).as_ref().is_some_and(|index| {
                index.customers_loaded() && index.models().is_some_and(|m| m.as_of == today)
            })
        };
        if fresh() {
            return Ok(());
        }
        let _loading = lock(&self.purchases_load);
        if fresh() {
            return Ok(());
        }
        // No commit reaches the index while the columns are read and put in: the ones made
        // meanwhile are applied after, on top.
        let broadcasting = lock(&self.written);
        self.customers_wanted.store(true, Ordering::Relaxed);
        let (rows, models) = self.customer_columns()?;
        if let Some(index) = write(&self.index).as_mut() {
            index.load_customers(facts_of(&rows), models);
        }
        drop(rows);
        // Rows a screen read while the columns loaded have no RFM; every score may have moved
        // (a refit): every screen reads its rows again.
        self.send_all(&Event::Resync { seq: *broadcasting });
        Ok(())
    }

    /// Builds the index's table of what customers bought (one scan of the timeline) unless
    /// it is built.
    pub fn ensure_bought(&self) -> Result<(), StoreError> {
        self.ensure_index()?;
        let built = || read(&self.index).as_ref().is_some_and(Index::bought_loaded);
        if built() {
            return Ok(());
        }
        let _loading = lock(&self.purchases_load);
        if built() {
            return Ok(());
        }
        let _broadcasting = lock(&self.written);
        self.bought_wanted.store(true, Ordering::Relaxed);
        let bought = self.bought_table()?;
        if let Some(index) = write(&self.index).as_mut() {
            index.set_bought_table(bought);
        }
        Ok(())
    }

    /// Every customer's purchase columns and the models fitted over them, as of today — the
    /// summaries `rolo report` reads, so the index's segments and P(alive) are the reports'.
    /// (The columns are made from the rows as the index takes them: see [`facts_of`].)
    fn customer_columns(
        &self,
    ) -> Result<(Vec<ValueRow>, crate::analytics::clv::Models), StoreError> {
        let today = self.analytics_today();
        let rows = reports::value_rows_as_of(&self.store, today)?;
        let (_, _, models) = reports::fit(&rows, today, reports::TimeUnit::Day, None);
        Ok((rows, models))
    }

    /// The table of what customers bought, streamed from every purchase line (collected
    /// first, 10M lines at 1M customers had peaked the server at 876 MB).
    fn bought_table(&self) -> Result<BoughtBuilder, StoreError> {
        let mut bought = BoughtBuilder::default();
        self.store.for_each_entry(|entry| {
            if let Entry::Purchase(p) = entry {
                bought.line(p.contact, utc_day(p.at.millis()), &p.product);
            }
            true
        })?;
        crate::memory::release();
        Ok(bought)
    }

    /// What one contact bought, `(UTC day, product)`.
    fn bought_by(&self, contact: Id) -> Result<Vec<(i32, String)>, StoreError> {
        Ok(self
            .store
            .timeline(contact, usize::MAX)?
            .into_iter()
            .filter_map(|e| match e {
                Entry::Purchase(p) => Some((utc_day(p.at.millis()), p.product)),
                _ => None,
            })
            .collect())
    }

    /// List rows with the RFM scores the index has (none while its purchase columns are still
    /// loading: a list never waits for them).
    pub fn list_rows(&self, ids: &[Id]) -> Result<Vec<ListRow>, StoreError> {
        let mut rows = self.store.list_rows(ids)?;
        if let Some(index) = read(&self.index).as_ref()
            && index.customers_loaded()
        {
            for row in &mut rows {
                row.rfm = index.customer_scores(row.id).map(|s| s.rfm);
            }
        }
        Ok(rows)
    }

    /// One contact's purchase figures for the detail pane: RFM scores and segment (ranked among
    /// all customers now), purchase days, spend, last purchase, and from the day's models
    /// P(alive), expected purchases over 90 days, expected spend and 12-month value.
    pub fn customer_analytics(&self, contact: Id) -> Result<Option<CustomerAnalytics>, StoreError> {
        let Some(summary) = self.store.customer_summary(contact)? else {
            return Ok(None);
        };
        self.ensure_customers()?;
        let (scores, models) = match read(&self.index).as_ref() {
            Some(index) => (index.customer_scores(contact), index.models()),
            None => (None, None),
        };
        let (Some(scores), Some(models)) = (scores, models) else {
            return Ok(None);
        };
        Ok(Some(reports::customer_analytics(
            &summary, scores.rfm, &models,
        )))
    }

    /// The analytics dashboard as of `as_of` (today by default), computed once per commit: a
    /// commit writes its audit entry in its own transaction, so an unchanged last audit
    /// sequence means unchanged data.
    ///
    /// A `screen` (the TUI, whose open dashboard asks again while commits keep coming) is
    /// answered with one computed less than [`crate::api::DASHBOARD_FRESH`] ago as it is: at
    /// 1M customers computing takes half a second, and every viewer asking after every commit
    /// would keep a core busy with nothing else. (A screen that saw a commit within that time
    /// before asking asks again later, so the last commit always shows.) Anyone else — a
    /// script — gets the figures of the last commit.
    pub fn dashboard(
        &self,
        as_of: Option<Day>,
        screen: bool,
    ) -> Result<crate::analytics::reports::Dashboard, StoreError> {
        let day = as_of.unwrap_or_else(crate::analytics::reports::today);
        let mut cached = lock(&self.dashboard);
        // Read before computing: a commit landing meanwhile leaves a newer sequence behind,
        // and the next ask computes again.
        let started = std::time::Instant::now();
        let seq = self.store.last_audit_seq()?;
        if let Some(c) = cached.as_ref()
            && c.day == day
            && (c.seq == seq || (screen && c.started.elapsed() < crate::api::DASHBOARD_FRESH))
        {
            return Ok(c.dashboard.clone());
        }
        let dashboard = crate::analytics::reports::dashboard(&self.store, Some(day))?;
        *cached = Some(CachedDashboard {
            day,
            seq,
            started,
            dashboard: dashboard.clone(),
        });
        Ok(dashboard)
    }

    /// Waits for a free core to scan on.
    fn scan_permit(&self) -> ScanPermit<'_> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let mut running = lock(&self.scans);
        while *running >= cores {
            running = self
                .scan_done
                .wait(running)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *running += 1;
        ScanPermit(self)
    }

    /// Runs `query` (the search language: fuzzy text, `#tag`, `@org`, `city:` …) and names the
    /// hits. A query that does not parse yet (`city:` still being typed) gives no hits.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, StoreError> {
        self.search_as(0, query, limit)
    }

    /// [`Service::search`] for connection `conn`: a keystroke that only extends that
    /// connection's previous query scans only the previous candidates.
    pub fn search_as(
        &self,
        conn: u64,
        query: &str,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let Some((parsed, ids)) = self.ranked(conn, query, limit)? else {
            return Ok(Vec::new());
        };
        let text = parsed.terms().join(" ");
        let rows = self.store.list_rows(&ids)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let matched = crate::search::matched_value(&parsed, &row.search_doc())
                    .filter(|(field, _)| {
                        !matches!(field, MatchField::Name | MatchField::Organization)
                    })
                    .map(|(_, value)| value);
                let mut details: Vec<String> = matched.iter().cloned().collect();
                for part in distinguishing(&row) {
                    if !details.contains(&part) {
                        details.push(part);
                    }
                }
                SearchHit {
                    id: row.id,
                    highlights: crate::search::highlight(&row.name, &text),
                    matched_detail: matched.is_some(),
                    details,
                    name: row.name,
                    organization: row.organization,
                }
            })
            .collect())
    }
}

impl Service {
    /// The ids matching `query`, best first (a list filter: no names, no highlights).
    pub fn search_ids(&self, conn: u64, query: &str, limit: usize) -> Result<Vec<Id>, StoreError> {
        Ok(self
            .ranked(conn, query, limit)?
            .map(|(_, ids)| ids)
            .unwrap_or_default())
    }

    /// Parses and runs `query`; `None` when it does not parse or is empty.
    fn ranked(
        &self,
        conn: u64,
        query: &str,
        limit: usize,
    ) -> Result<Option<(Query, Vec<Id>)>, StoreError> {
        let Ok(parsed) = Query::parse(query) else {
            return Ok(None);
        };
        if parsed.is_empty() {
            return Ok(None);
        }
        self.ensure_index()?;
        if parsed.needs_customers() {
            self.ensure_customers()?;
        }
        if parsed.needs_bought() {
            self.ensure_bought()?;
        }
        let ids: Vec<Id> = {
            let _permit = self.scan_permit();
            let guard = read(&self.index);
            let Some(index) = guard.as_ref() else {
                return Ok(None);
            };
            let options = SearchOptions {
                limit: limit.min(index.len()),
                today_day: Day::today().number(),
            };
            if conn == 0 {
                index
                    .search(&parsed, options)
                    .iter()
                    .map(|h| h.id)
                    .collect()
            } else {
                let mut searcher = lock(&self.searchers).remove(&conn).unwrap_or_default();
                let hits = searcher
                    .search(index, &parsed, options, &|| false)
                    .unwrap_or_default();
                lock(&self.searchers).insert(conn, searcher);
                hits.iter().map(|h| h.id).collect()
            }
        };
        Ok(Some((parsed, ids)))
    }
}

/// What the index keeps of a customer: the RFM values of [`crate::analytics::rfm::RfmValues`]
/// (main currency) and the first purchase day; `None` without purchases.
fn customer_facts(s: &ValueRow) -> Option<CustomerFacts> {
    let currency = s.main_currency()?;
    Some(CustomerFacts {
        first_day: s.first_day,
        last_day: s.last_day,
        orders: s.days,
        spent: s.spent,
        currency: currency.to_string(),
    })
}

/// Every customer's [`CustomerFacts`], made one at a time as the index takes them (collected,
/// their strings were 70 MB at 1M customers).
fn facts_of(rows: &[ValueRow]) -> impl Iterator<Item = (Id, CustomerFacts)> + '_ {
    rows.iter()
        .filter_map(|r| customer_facts(r).map(|f| (r.contact, f)))
}

struct ScanPermit<'a>(&'a Service);

impl Drop for ScanPermit<'_> {
    fn drop(&mut self) {
        *lock(&self.0.scans) -= 1;
        self.0.scan_done.notify_one();
    }
}

/// A row's primary email and phone and its city, those it has.
pub fn distinguishing(row: &crate::store::ListRow) -> Vec<String> {
    [row.emails.first(), row.phones.first(), Some(&row.city)]
        .into_iter()
        .flatten()
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .collect()
}

/// A poisoned lock only means another thread panicked mid-update of plain data; carry on.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub use socket::{ServeOptions, serve};

/// Shared by the socket server and tests: the service behind an `Arc`.
pub type Shared = Arc<Service>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Db, Source};
    use crate::domain::{Actor, Channel, ContactDraft, Interaction};

    fn service_with_one_contact() -> (Arc<Service>, Db) {
        let service = Service::new(Store::in_memory().unwrap_or_else(|e| panic!("{e}")), false);
        let caller = Caller {
            conn: service.connection(),
            ..Caller::local(Actor::new("sam"), Source::Cli)
        };
        let db = Db::in_service(Arc::clone(&service), caller);
        db.add_contact(ContactDraft {
            name: "Ana".into(),
            ..ContactDraft::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        (service, db)
    }

    /// A screen that read its rows before the purchase columns were in (a server just
    /// started on a large base) is told to read them again once they are.
    #[test]
    fn loading_the_purchase_columns_resyncs_every_screen() {
        let (service, db) = service_with_one_contact();
        db.add_entry(Entry::Purchase(crate::domain::Purchase {
            id: 0,
            contact: 1,
            at: crate::domain::At::now(),
            product: "Team".into(),
            quantity: 1,
            amount: 9900,
            cost: 2500,
            currency: "EUR".into(),
            channel: "web".into(),
            location: String::new(),
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let screen = service.subscribe(7);
        let before: Vec<Event> = screen.try_iter().collect();
        assert!(before.is_empty(), "{before:?}");
        service.ensure_customers().unwrap_or_else(|e| panic!("{e}"));
        let after: Vec<Event> = screen.try_iter().collect();
        assert!(
            matches!(after.as_slice(), [Event::Resync { .. }]),
            "{after:?}"
        );
        // Loaded and current: asking again changes nothing and says nothing.
        service.ensure_customers().unwrap_or_else(|e| panic!("{e}"));
        assert!(screen.try_iter().next().is_none());
    }

    #[test]
    fn a_subscriber_that_stops_reading_never_blocks_writers_and_gets_one_resync() {
        let (service, db) = service_with_one_contact();
        let stuck = service.subscribe(999);
        // Far more commits than the queue holds: every write still returns.
        for n in 0..QUEUE + 50 {
            db.log_interaction(
                Interaction::new(1, Channel::Note, &format!("note {n}")),
                None,
                None,
            )
            .unwrap_or_else(|e| panic!("write {n} blocked or failed: {e}"));
        }
        let received: Vec<Event> = stuck.try_iter().collect();
        assert_eq!(received.len(), QUEUE, "the queue is bounded");
        assert!(
            received
                .iter()
                .all(|e| matches!(e, Event::Committed { .. })),
            "nothing but commits yet"
        );
        // Once it reads again, the next commit brings a resync instead of a gap.
        db.log_interaction(Interaction::new(1, Channel::Note, "after"), None, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let next: Vec<Event> = stuck.try_iter().collect();
        assert!(
            matches!(next.first(), Some(Event::Resync { .. })),
            "{next:?}"
        );
    }

    #[test]
    fn commits_are_broadcast_in_order_with_their_contacts_and_origin() {
        let (service, db) = service_with_one_contact();
        let events = service.subscribe(1234);
        db.log_interaction(Interaction::new(1, Channel::Call, "one"), None, None)
            .unwrap_or_else(|e| panic!("{e}"));
        db.log_interaction(Interaction::new(1, Channel::Call, "two"), None, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let seqs: Vec<(u64, Vec<Id>, u64)> = events
            .try_iter()
            .filter_map(|e| match e {
                Event::Committed {
                    seq,
                    contacts,
                    origin,
                    ..
                } => Some((seq, contacts, origin)),
                _ => None,
            })
            .collect();
        assert_eq!(seqs.len(), 2);
        assert!(seqs[0].0 < seqs[1].0);
        assert_eq!(seqs[0].1, vec![1]);
        assert_eq!(seqs[0].2, db.conn_id());
    }
}
