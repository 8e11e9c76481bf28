//! The store: rolo's only door to redb. It owns the tables, the schema version and its
//! migrations, the audit trail, the trash and undo. Every user action is one write transaction
//! in which the records, their indexes and the audit entry commit together or not at all.
//!
//! Records are postcard-encoded (compact, not self-describing), so any change to a stored type
//! must bump [`SCHEMA_VERSION`] and add a migration in `maint.rs`; `tests/fixtures/` keeps a file
//! written by every schema version, and a test opens each one.
//!
//! Nothing here knows about terminals; values crossing this boundary are plain domain data, so
//! the same API can later travel over a socket (team mode).

mod actions;
pub mod audit;
mod deferred;
mod entries;
mod maint;
mod salvage;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

pub use actions::{Bulk, COUNTERS, DEMO_TAG, Logged, Merged};
pub use audit::{AuditEntry, Change, Record, TrashBundle, with_source};
pub use maint::{BackupReport, DoctorReport, SpaceReport, TableSpace, create_private_temp};
pub use salvage::{LostContact, SalvageReport, Tally};
use tables::*;

use crate::domain::{At, Contact, Day, Deal, Entry, FollowUp, Id, Organization, text};

/// The schema this build writes. Older files are migrated on open; newer ones are refused.
pub const SCHEMA_VERSION: u64 = 8;

/// redb's page cache. Its default (1 GiB) would be kept resident; 16 MiB keeps a 1M-contact
/// database responsive within a laptop-sized budget. The search index load reads every
/// contact's record through it and leaves it full, so every MiB here is resident for good,
/// while the interface's point reads (a screenful of rows, one timeline) need few pages and
/// the OS caches the file anyway.
pub const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// The cache for one-off bulk commands (`rolo demo`, `rolo import`). Their index rows are held
/// back and written in key order (see `store::deferred`), so a larger cache barely helps them:
/// 1M vCards imported in the same time with 256 MiB as with 1 GiB.
pub const BULK_CACHE_BYTES: usize = 256 * 1024 * 1024;

/// The cache for compacting after a bulk command: redb's compaction walks every tree once per
/// pass. After 1M vCards (a 590 MB file) it took 13.5 s with 256 MiB, 10.7 s with 512 MiB and
/// 9.9 s with 1 GiB, whose peak was twice the memory (1.5 GB).
pub const COMPACT_CACHE_BYTES: usize = 512 * 1024 * 1024;

/// Long work the store does on its own (migrating a file on open, compacting it afterwards),
/// for a caller that wants to show it; see [`set_observer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Activity {
    Started(String),
    Finished,
}

static OBSERVER: std::sync::OnceLock<fn(Activity)> = std::sync::OnceLock::new();

/// Tells `observer` about [`Activity`] from now on (the CLI draws a spinner). Set once.
pub fn set_observer(observer: fn(Activity)) {
    let _ = OBSERVER.set(observer);
}

/// Reports `what` as started; [`Activity::Finished`] follows when the guard is dropped.
pub(crate) fn observe(what: impl Into<String>) -> ObservedGuard {
    if let Some(f) = OBSERVER.get() {
        f(Activity::Started(what.into()));
    }
    ObservedGuard
}

pub(crate) struct ObservedGuard;

impl Drop for ObservedGuard {
    fn drop(&mut self) {
        if let Some(f) = OBSERVER.get() {
            f(Activity::Finished);
        }
    }
}

#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
pub enum StoreError {
    #[error(
        "the database {path} is open in another rolo process; close it there (or use --db to pick another file)"
    )]
    Locked { path: String },
    #[error(
        "the database {path} was written by a newer rolo (schema {found}, this build reads up to {supported}); upgrade rolo"
    )]
    NewerSchema {
        path: String,
        found: u64,
        supported: u64,
    },
    /// A command that only reads or changes existing data was pointed at a file that is not
    /// there (a typo in `--db`); nothing was created.
    #[error(
        "no database at {path} (nothing was created; check --db / ROLO_DB — `rolo add`, `rolo import`, `rolo demo` or `rolo` itself create one)"
    )]
    NoDatabase { path: String },
    #[error("cannot open the database {path}: {reason}")]
    Open { path: String, reason: String },
    /// The file (or its file system) is read-only: it was opened for reading, and this
    /// command wants to change it.
    #[error(
        "the database {path} is read-only (file permissions or a read-only mount): it can be read, exported and backed up, not changed; nothing was changed"
    )]
    ReadOnly { path: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error(
        "{name} (#{id}) was changed by {by} at {at} since you loaded it; nothing was overwritten — reload and try again"
    )]
    Stale {
        id: Id,
        name: String,
        by: String,
        at: String,
    },
    #[error("cannot undo: {0}")]
    Conflict(String),
    #[error("nothing to undo")]
    NothingToUndo,
    /// The last action cannot be undone (a bulk load, or a restore): undo refuses instead of
    /// reaching past it.
    #[error("cannot undo: {0}")]
    NotUndoable(String),
    #[error("{0}")]
    Invalid(#[from] crate::domain::Invalid),
    #[error("the disk is full; nothing was changed ({0})")]
    DiskFull(String),
    #[error("database I/O failed; nothing was changed ({0})")]
    Io(String),
    #[error(
        "the database looks damaged: {0} (`rolo doctor --salvage NEW.redb` copies every record still readable into a new file)"
    )]
    Corrupt(String),
    /// The server could not be reached (and could not be started).
    #[error("the rolo server is not reachable: {0}")]
    Unavailable(String),
    /// The server will not do this for this caller.
    #[error("{0}")]
    Refused(String),
    /// The other side sent something this build cannot read (a version mismatch).
    #[error("the rolo server and this client do not understand each other: {0}")]
    Protocol(String),
}

impl StoreError {
    /// `contact` was changed by someone else since the caller loaded it.
    pub(crate) fn stale(contact: &Contact) -> Self {
        StoreError::Stale {
            id: contact.id,
            name: text::visible(&contact.name, false).into_owned(),
            by: contact.updated.by.clone(),
            at: contact.updated.at.local_display(),
        }
    }

    fn from_io(e: &std::io::Error) -> Self {
        io_failed();
        if e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull {
            StoreError::DiskFull(e.to_string())
        } else {
            StoreError::Io(e.to_string())
        }
    }
}

impl From<redb::StorageError> for StoreError {
    fn from(e: redb::StorageError) -> Self {
        match e {
            redb::StorageError::Io(io) => StoreError::from_io(&io),
            redb::StorageError::Corrupted(m) => StoreError::Corrupt(m),
            redb::StorageError::PreviousIo => {
                io_failed();
                StoreError::Io(e.to_string())
            }
            other => StoreError::Io(other.to_string()),
        }
    }
}

macro_rules! via_storage {
    ($($ty:ty),*) => {$(
        impl From<$ty> for StoreError {
            fn from(e: $ty) -> Self {
                let e: redb::Error = e.into();
                match e {
                    redb::Error::Io(io) => StoreError::from_io(&io),
                    redb::Error::Corrupted(m) => StoreError::Corrupt(m),
                    redb::Error::PreviousIo => {
                        io_failed();
                        StoreError::Io(e.to_string())
                    }
                    other => StoreError::Io(other.to_string()),
                }
            }
        }
    )*};
}
via_storage!(
    redb::TransactionError,
    redb::TableError,
    redb::CommitError,
    redb::CursorError
);

/// One row of the contact list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListRow {
    pub id: Id,
    pub name: String,
    pub organization: String,
    pub last_contact: Option<At>,
    pub next_due: Option<Day>,
    /// Emails and phones, primary first, and the city and tags: what tells two people of the
    /// same name apart, and what a search may have matched.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub city: String,
    pub tags: Vec<String>,
    /// The RFM scores, for customers, when the server's index has them (the store itself
    /// leaves this empty).
    #[serde(default)]
    pub rfm: Option<crate::analytics::rfm::RfmScore>,
}

impl ListRow {
    /// What search needs to explain a match in this row (see [`crate::search::matched_value`]).
    pub fn search_doc(&self) -> crate::search::SearchDoc {
        crate::search::SearchDoc {
            id: self.id,
            name: self.name.clone(),
            organization: self.organization.clone(),
            emails: self.emails.clone(),
            phones: self.phones.clone(),
            city: self.city.clone(),
            tags: self.tags.clone(),
            ..crate::search::SearchDoc::default()
        }
    }
}

/// A follow-up with the name of whom it concerns, for the Today view and `rolo followups`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DueItem {
    pub follow_up: FollowUp,
    pub contact_name: String,
    /// What the agent needs to make the call: the contact's organisation and first phone.
    pub organization: String,
    pub phone: Option<String>,
}

/// The path an in-memory store reports.
const MEMORY_PATH: &str = "<memory>";

/// The redb handle: read-write as a rule, read-only when the file cannot be written (0444, a
/// read-only mount), so that reading, exporting and backing up still work there.
enum Db {
    Write(Database),
    /// With the path shown in [`StoreError::ReadOnly`].
    Read(redb::ReadOnlyDatabase, String),
    /// Closed after an I/O error and not open again yet (see [`Handle`]): why it could not be
    /// reopened.
    Closed(String),
}

impl Db {
    fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        match self {
            Db::Write(db) => Ok(db.begin_read()?),
            Db::Read(db, _) => Ok(db.begin_read()?),
            Db::Closed(why) => Err(Db::closed(why)),
        }
    }

    fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        match self {
            Db::Write(db) => Ok(db.begin_write()?),
            Db::Read(_, path) => Err(StoreError::ReadOnly { path: path.clone() }),
            Db::Closed(why) => Err(Db::closed(why)),
        }
    }

    fn writable(&mut self) -> Result<&mut Database, StoreError> {
        match self {
            Db::Write(db) => Ok(db),
            Db::Read(_, path) => Err(StoreError::ReadOnly { path: path.clone() }),
            Db::Closed(why) => Err(Db::closed(why)),
        }
    }

    /// redb's compaction; nothing to do on a read-only file.
    fn compact(&mut self) -> Result<bool, StoreError> {
        match self {
            Db::Write(db) => db.compact().map_err(|e| StoreError::Io(e.to_string())),
            Db::Read(..) => Ok(false),
            Db::Closed(why) => Err(Db::closed(why)),
        }
    }

    fn closed(why: &str) -> StoreError {
        StoreError::Io(format!(
            "the database was closed after an I/O error and cannot be opened again yet ({why}); the next request tries again"
        ))
    }
}

/// I/O errors redb reported in this process, counted so that every store learns of one.
static IO_FAILURES: AtomicU64 = AtomicU64::new(0);

fn io_failed() {
    IO_FAILURES.fetch_add(1, Ordering::SeqCst);
}

/// The redb handle of a store, opened again after an I/O error. redb refuses every request
/// after one failed write ("previous I/O error"): a full disk would otherwise poison a
/// long-running TUI or server for good, every later save failing even once space is back. The
/// first request after an error closes the handle and opens the file again (redb recovers the
/// last commit); if that fails (the disk still full, a transaction still alive), the next
/// request tries again. Stores in memory are never reopened.
struct Handle {
    db: RwLock<Db>,
    /// How to open it again: the file and its page cache size (`None`: in memory).
    source: Option<(PathBuf, usize)>,
    /// [`IO_FAILURES`] when this handle was opened.
    seen: AtomicU64,
}

impl Handle {
    fn new(db: Db, source: Option<(PathBuf, usize)>) -> Self {
        Handle {
            db: RwLock::new(db),
            source,
            seen: AtomicU64::new(IO_FAILURES.load(Ordering::SeqCst)),
        }
    }

    fn current(&self) -> Result<RwLockReadGuard<'_, Db>, StoreError> {
        self.recover()?;
        Ok(self.db.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        self.current()?.begin_read()
    }

    fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        self.current()?.begin_write()
    }

    fn get_mut(&mut self) -> Result<&mut Db, StoreError> {
        self.recover()?;
        Ok(self.db.get_mut().unwrap_or_else(PoisonError::into_inner))
    }

    fn writable(&mut self) -> Result<&mut Database, StoreError> {
        self.get_mut()?.writable()
    }

    fn compact(&mut self) -> Result<bool, StoreError> {
        self.get_mut()?.compact()
    }

    fn is_read_only(&self) -> bool {
        matches!(
            *self.db.read().unwrap_or_else(PoisonError::into_inner),
            Db::Read(..)
        )
    }

    /// Closes and reopens the file when an I/O error was reported since it was opened.
    fn recover(&self) -> Result<(), StoreError> {
        let Some((path, cache_bytes)) = &self.source else {
            return Ok(());
        };
        let failures = IO_FAILURES.load(Ordering::SeqCst);
        if failures == self.seen.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut db = self.db.write().unwrap_or_else(PoisonError::into_inner);
        if self.seen.load(Ordering::SeqCst) == failures {
            return Ok(()); // another thread reopened it meanwhile
        }
        // The old handle must be gone (its file lock released) before the file opens again.
        drop(std::mem::replace(&mut *db, Db::Closed("closing".into())));
        match Store::open_inner(path, *cache_bytes, false) {
            Ok(fresh) => {
                *db = fresh
                    .db
                    .db
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                self.seen.store(failures, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                *db = Db::Closed(e.to_string());
                Err(e)
            }
        }
    }
}

pub struct Store {
    db: Handle,
    path: PathBuf,
    /// How many bytes of index rows a bulk load holds back before writing them out.
    bulk_budget: usize,
}

impl Store {
    /// Opens (creating if needed, owner-only) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_with_cache(path, CACHE_BYTES)
    }

    /// Opens the database at `path` only if it exists: no file and no folder is created, and a
    /// missing file is [`StoreError::NoDatabase`]. For every command that reads or changes
    /// existing data, so a typo in `--db` cannot leave an empty database behind.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        Self::open_inner(path, CACHE_BYTES, false)
    }

    /// Opens with a larger page cache for bulk loads (demo data, imports); the memory goes when
    /// the one-off command exits.
    pub fn open_for_bulk(path: &Path) -> Result<Store, StoreError> {
        Self::open_with_cache(path, BULK_CACHE_BYTES)
    }

    /// Closes this handle and opens the file again with a cache sized for [`Store::compact`]
    /// (an in-memory store is kept as it is).
    pub fn reopen_for_compaction(self) -> Result<Store, StoreError> {
        if self.path == Path::new(MEMORY_PATH) {
            return Ok(self);
        }
        let path = self.path.clone();
        drop(self);
        Self::open_with_cache(&path, COMPACT_CACHE_BYTES)
    }

    fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Store, StoreError> {
        Self::open_inner(path, cache_bytes, true)
    }

    fn open_inner(path: &Path, cache_bytes: usize, create: bool) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let open_err = |reason: String| StoreError::Open {
            path: shown.clone(),
            reason,
        };
        if create && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)
                .map_err(|e| open_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        let file = match open_private_file(path, create) {
            Ok(file) => file,
            Err(e) if is_read_only(&e) && path.is_file() => {
                return Self::open_read_only(path, cache_bytes);
            }
            Err(e) if !create && e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoDatabase {
                    path: shown.clone(),
                });
            }
            Err(e) => return Err(open_err(e.to_string())),
        };
        // redb's repair of a file not closed cleanly can panic on a damaged page (an
        // assertion on the page type); that is a damaged database, not a crash of rolo.
        let opened = salvage::guarded(|| {
            redb::backends::FileBackend::new(file).and_then(|backend| {
                Database::builder()
                    .set_cache_size(cache_bytes)
                    .create_with_backend(backend)
            })
        });
        let Some(opened) = opened else {
            return Err(StoreError::Corrupt(
                "redb's repair met a page it cannot read".into(),
            ));
        };
        let db = opened.map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked {
                path: shown.clone(),
            },
            redb::DatabaseError::Storage(redb::StorageError::Io(io))
                if io.raw_os_error() == Some(28) =>
            {
                StoreError::DiskFull(io.to_string())
            }
            redb::DatabaseError::Storage(redb::StorageError::Corrupted(m)) => {
                StoreError::Corrupt(m)
            }
            other => open_err(other.to_string()),
        })?;
        Self::init(
            Handle::new(Db::Write(db), Some((path.to_path_buf(), cache_bytes))),
            path.to_path_buf(),
        )
    }

    /// Opens a file that cannot be written (permissions, a read-only mount) for reading only:
    /// every read works, every write is [`StoreError::ReadOnly`]. A file that needs a schema
    /// upgrade or redb's repair cannot be opened so (both write).
    fn open_read_only(path: &Path, cache_bytes: usize) -> Result<Store, StoreError> {
        let shown = text::visible(&path.display().to_string(), false).into_owned();
        let open_err = |reason: String| StoreError::Open {
            path: shown.clone(),
            reason,
        };
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .open_read_only(path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked {
                    path: shown.clone(),
                },
                redb::DatabaseError::RepairAborted | redb::DatabaseError::Storage(_) => open_err(
                    format!("{e}; it is read-only, so it cannot be repaired in place — copy it somewhere writable first"),
                ),
                other => open_err(other.to_string()),
            })?;
        maint::check_schema_read_only(&db, &shown)?;
        Ok(Store {
            db: Handle::new(Db::Read(db, shown), Some((path.to_path_buf(), cache_bytes))),
            path: path.to_path_buf(),
            bulk_budget: deferred::BUDGET_BYTES,
        })
    }

    /// True when this handle was opened read-only (see [`StoreError::ReadOnly`]).
    pub fn is_read_only(&self) -> bool {
        self.db.is_read_only()
    }

    /// A throw-away database in memory (tests, benchmarks).
    pub fn in_memory() -> Result<Store, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|e| StoreError::Open {
                path: MEMORY_PATH.into(),
                reason: e.to_string(),
            })?;
        Self::init(Handle::new(Db::Write(db), None), PathBuf::from(MEMORY_PATH))
    }

    fn init(db: Handle, path: PathBuf) -> Result<Store, StoreError> {
        let mut store = Store {
            db,
            path,
            bulk_budget: deferred::BUDGET_BYTES,
        };
        let shown = store.path.display().to_string();
        if maint::migrate(store.db.writable()?, &shown)? {
            let _shown = observe("compacting the upgraded database");
            store.db.compact()?;
        }
        Ok(store)
    }

    /// Sets how many bytes of index rows a bulk load may hold back before writing them out in
    /// the middle of its transaction (default 384 MiB; see `store::deferred`). Tests set it
    /// tiny to exercise that path.
    pub fn set_bulk_budget(&mut self, bytes: usize) {
        self.bulk_budget = bytes;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        Ok(meta.get("schema_version")?.map_or(0, |v| v.value()))
    }

    pub fn contact(&self, id: Id) -> Result<Option<Contact>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CONTACTS)?;
        match t.get(id)? {
            Some(v) => Ok(Some(decode("contact", v.value())?)),
            None => Ok(None),
        }
    }

    pub fn contact_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(CONTACTS)?.len()?)
    }

    pub fn organization(&self, id: Id) -> Result<Option<Organization>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(ORGS)?;
        match t.get(id)? {
            Some(v) => Ok(Some(decode("organization", v.value())?)),
            None => Ok(None),
        }
    }

    pub fn organization_name(&self, id: Option<Id>) -> Result<String, StoreError> {
        Ok(match id {
            Some(id) => self.organization(id)?.map(|o| o.name).unwrap_or_default(),
            None => String::new(),
        })
    }

    pub fn organization_by_name(&self, name: &str) -> Result<Option<Id>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(ORG_NAMES)?;
        Ok(t.get(text::sort_key(name).as_str())?.map(|v| v.value()))
    }

    /// A contact's timeline, newest first, at most `limit` entries — one range scan.
    pub fn timeline(&self, contact: Id, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(TIMELINE)?;
        let mut out = Vec::new();
        for row in t
            .range((contact, i64::MIN, 0)..=(contact, i64::MAX, u64::MAX))?
            .rev()
            .take(limit)
        {
            let (k, v) = row?;
            out.push(decode_entry(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// How many timeline entries and deals a contact has (what a merge moves), counted from
    /// the keys without decoding a record.
    pub fn history_count(&self, contact: Id) -> Result<usize, StoreError> {
        let txn = self.db.begin_read()?;
        let timeline = txn.open_table(TIMELINE)?;
        let deals = txn.open_table(DEALS_BY_CONTACT)?;
        let mut count = 0;
        for row in timeline.range((contact, i64::MIN, 0)..=(contact, i64::MAX, u64::MAX))? {
            row?;
            count += 1;
        }
        for row in deals.range((contact, 0)..=(contact, u64::MAX))? {
            row?;
            count += 1;
        }
        Ok(count)
    }

    pub fn deals_for(&self, contact: Id) -> Result<Vec<Deal>, StoreError> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(DEALS_BY_CONTACT)?;
        let deals = txn.open_table(DEALS)?;
        let mut out = Vec::new();
        for row in index.range((contact, 0)..=(contact, u64::MAX))? {
            let id = row?.0.value().1;
            if let Some(v) = deals.get(id)? {
                out.push(decode("deal", v.value())?);
            }
        }
        Ok(out)
    }

    fn lookup(
        &self,
        table: redb::TableDefinition<(&str, u64), ()>,
        key: &str,
    ) -> Result<Vec<Id>, StoreError> {
        let txn = self.db.begin_read()?;
        ids_under(&txn.open_table(table)?, key)
    }

    pub fn find_by_email(&self, email: &str) -> Result<Vec<Id>, StoreError> {
        self.lookup(EMAILS, &text::email_key(email))
    }

    pub fn find_by_phone(&self, phone: &str) -> Result<Vec<Id>, StoreError> {
        let key = text::phone_key(phone);
        if key.is_empty() {
            return Ok(Vec::new());
        }
        self.lookup(PHONES, &key)
    }

    /// Contacts whose full name folds ([`text::sort_key`]) exactly to `name`'s — one seek in the
    /// name index.
    pub fn find_by_name(&self, name: &str) -> Result<Vec<Id>, StoreError> {
        let key = text::sort_key(name);
        if key.is_empty() {
            return Ok(Vec::new());
        }
        self.lookup(BY_NAME, &key)
    }

    pub fn find_by_tag(&self, tag: &str) -> Result<Vec<Id>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_multimap_table(TAGS)?;
        let mut out = Vec::new();
        for v in t.get(text::clean_tag(tag).as_str())? {
            out.push(v?.value());
        }
        Ok(out)
    }

    pub fn find_by_uid(&self, uid: &str) -> Result<Option<Id>, StoreError> {
        self.uid_row(&text::clean_line(uid))
    }

    /// The contact a record with `uid` was merged into: a merge keeps the uid it drops in the
    /// survivor's custom field `merged_uid`, and the uid index files it apart from contacts' own
    /// uids, so a later import from the other system finds the survivor.
    pub fn find_by_merged_uid(&self, uid: &str) -> Result<Option<Id>, StoreError> {
        self.uid_row(&merged_uid_key(&text::clean_line(uid)))
    }

    fn uid_row(&self, key: &str) -> Result<Option<Id>, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(UIDS)?.get(key)?.map(|v| v.value()))
    }

    /// Contacts that might be the same person as `id`, for the merge view to score: those
    /// sharing an email or phone digits (exact indexes) and the `NAME_NEIGHBOURS` on either side
    /// of it in name order. Each comes with its organisation's name. Never a scan.
    pub fn possible_duplicates(
        &self,
        subject: &Contact,
    ) -> Result<Vec<(Contact, String)>, StoreError> {
        const NAME_NEIGHBOURS: usize = 8;
        // A shared address (`info@…`, a switchboard) can be on thousands of contacts.
        const PER_KEY: usize = 50;
        let id = subject.id;
        let mut ids: Vec<Id> = Vec::new();
        for e in &subject.emails {
            ids.extend(self.find_by_email(&e.value)?.into_iter().take(PER_KEY));
        }
        for p in &subject.phones {
            ids.extend(self.find_by_phone(&p.value)?.into_iter().take(PER_KEY));
        }
        {
            let txn = self.db.begin_read()?;
            let t = txn.open_table(BY_NAME)?;
            let key = text::sort_key(&subject.name);
            for row in t.range(..(key.as_str(), id))?.rev().take(NAME_NEIGHBOURS) {
                ids.push(row?.0.value().1);
            }
            for row in t.range((key.as_str(), id)..)?.take(NAME_NEIGHBOURS + 1) {
                ids.push(row?.0.value().1);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::with_capacity(ids.len());
        for other in ids {
            if other == id {
                continue;
            }
            if let Some(c) = self.contact(other)? {
                let org = self.organization_name(c.organization)?;
                out.push((c, org));
            }
        }
        Ok(out)
    }

    /// `(last interaction, earliest open follow-up)` of a contact.
    pub fn summary(&self, id: Id) -> Result<(Option<At>, Option<Day>), StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CONTACT_INDEX)?;
        match t.get(id)? {
            Some(v) => decode_summary(v.value()),
            None => Ok((None, None)),
        }
    }

    /// Contact ids in list (name) order after `after` (exclusive), at most `limit`.
    pub fn ids_by_name(&self, after: Option<Id>, limit: usize) -> Result<Vec<Id>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(BY_NAME)?;
        let start_key = match after {
            Some(id) => {
                let contacts = txn.open_table(CONTACTS)?;
                match contacts.get(id)? {
                    Some(v) => Some((
                        text::sort_key(&decode::<Contact>("contact", v.value())?.name),
                        id,
                    )),
                    None => None,
                }
            }
            None => None,
        };
        let range = match &start_key {
            Some((key, id)) => t.range((key.as_str(), *id)..)?,
            None => t.range::<(&str, u64)>(..)?,
        };
        let skip = usize::from(start_key.is_some());
        let mut out = Vec::new();
        for row in range.skip(skip).take(limit) {
            out.push(row?.0.value().1);
        }
        Ok(out)
    }

    /// The rows the list shows for these contacts (missing ids are skipped).
    pub fn list_rows(&self, ids: &[Id]) -> Result<Vec<ListRow>, StoreError> {
        let txn = self.db.begin_read()?;
        let contacts = txn.open_table(CONTACTS)?;
        let summary = txn.open_table(CONTACT_INDEX)?;
        let orgs = txn.open_table(ORGS)?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let Some(v) = contacts.get(id)? else { continue };
            let c: Contact = decode("contact", v.value())?;
            let organization = match c.organization {
                Some(org) => match orgs.get(org)? {
                    Some(o) => decode::<Organization>("organization", o.value())?.name,
                    None => String::new(),
                },
                None => String::new(),
            };
            let (last_contact, next_due) = match summary.get(id)? {
                Some(s) => decode_summary(s.value())?,
                None => (None, None),
            };
            let city = c.city().unwrap_or_default().to_string();
            let primary_first = |values: Vec<String>, primary: Option<&str>| {
                let mut values = values;
                if let Some(at) = primary.and_then(|p| values.iter().position(|v| v == p)) {
                    let first = values.remove(at);
                    values.insert(0, first);
                }
                values
            };
            let emails = primary_first(
                c.emails.iter().map(|e| e.value.clone()).collect(),
                c.primary_email(),
            );
            let phones = primary_first(
                c.phones.iter().map(|p| p.value.clone()).collect(),
                c.primary_phone(),
            );
            out.push(ListRow {
                id,
                emails,
                phones,
                city,
                tags: c.tags,
                name: c.name,
                organization,
                last_contact,
                next_due,
                rfm: None,
            });
        }
        Ok(out)
    }

    /// One contact's compact search record, as [`Store::load_search_index`] reads it.
    pub fn search_record(&self, id: Id) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CONTACT_INDEX)?;
        Ok(t.get(id)?.map(|v| v.value().to_vec()))
    }

    /// Loads the search index from the compact per-contact records — reading, not decoding
    /// contacts, so a million contacts load in well under a second.
    ///
    /// Two threads read alternate id ranges of one read transaction (the reads, and on a cold
    /// OS cache the disk, overlap) while this thread indexes the records in id order, so the
    /// index is built in place with ids in order; at most a few batches wait in between.
    pub fn load_search_index(&self) -> Result<crate::search::Index, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CONTACT_INDEX)?;
        let count = table.len()?;
        let mut index = crate::search::Index::with_capacity(
            usize::try_from(count).unwrap_or(0),
            usize::try_from(count).unwrap_or(0) * 64,
        );
        let (Some(first), Some(last)) = (table.first()?, table.last()?) else {
            return Ok(index);
        };
        let (first, last) = (first.0.value(), last.0.value());
        // Ranges of ids in turn for the readers; ids far sparser than usual make it one range.
        let width = if (last - first) / 4 <= count {
            LOAD_RANGE_IDS
        } else {
            u64::MAX
        };
        let ranges = (last - first) / width + 1;
        let table = &table;
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..LOAD_READERS)
                .map(|reader| {
                    let (batches, inbox) = std::sync::mpsc::sync_channel(2);
                    scope.spawn(move || {
                        for range in (reader..ranges).step_by(LOAD_READERS as usize) {
                            let from = first + range * width;
                            let to = from.saturating_add(width - 1).min(last);
                            if read_records(table, from..=to, &batches).is_err() {
                                return;
                            }
                        }
                    });
                    inbox
                })
                .collect();
            for range in 0..ranges {
                let inbox = &readers[(range % LOAD_READERS) as usize];
                loop {
                    match inbox.recv() {
                        Ok(Batch::Records(records)) => {
                            let mut rest = records.as_slice();
                            while let Some((len, tail)) = rest.split_first_chunk::<4>() {
                                let len = u32::from_le_bytes(*len) as usize;
                                let (record, tail) = tail.split_at(len.min(tail.len()));
                                index
                                    .upsert_encoded(record)
                                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                                rest = tail;
                            }
                        }
                        Ok(Batch::RangeDone) => break,
                        Ok(Batch::Failed(e)) => return Err(e),
                        Err(_) => {
                            return Err(StoreError::Io("a search index reader stopped".into()));
                        }
                    }
                }
            }
            Ok(())
        })?;
        Ok(index)
    }

    /// Calls `f` for every contact in id order until it returns `false` (exports, search index).
    pub fn for_each_contact(&self, mut f: impl FnMut(Contact) -> bool) -> Result<(), StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CONTACTS)?;
        for row in t.iter()? {
            let (_, v) = row?;
            if !f(decode("contact", v.value())?) {
                break;
            }
        }
        Ok(())
    }

    /// Open follow-ups due on or before `until`, oldest first, with their contact's name.
    pub fn due_until(&self, until: Day, limit: usize) -> Result<Vec<DueItem>, StoreError> {
        let txn = self.db.begin_read()?;
        let due = txn.open_table(DUE)?;
        let timeline = txn.open_table(TIMELINE)?;
        let contacts = txn.open_table(CONTACTS)?;
        let orgs = txn.open_table(ORGS)?;
        let mut out = Vec::new();
        for row in due.range(..=(until.number(), u64::MAX))?.take(limit) {
            let (key, value) = row?;
            let (_, id) = key.value();
            let (contact, created) = value.value();
            let key = (contact, created, id);
            let Some(entry) = timeline.get(key)? else {
                continue;
            };
            let Entry::FollowUp(follow_up) = decode_entry(key, entry.value())? else {
                continue;
            };
            let (contact_name, organization, phone) = match contacts.get(contact)? {
                Some(c) => {
                    let c = decode::<Contact>("contact", c.value())?;
                    let organization = match c.organization {
                        Some(org) => match orgs.get(org)? {
                            Some(o) => decode::<Organization>("organization", o.value())?.name,
                            None => String::new(),
                        },
                        None => String::new(),
                    };
                    let phone = c.primary_phone().map(str::to_string);
                    (c.name, organization, phone)
                }
                None => (String::new(), String::new(), None),
            };
            out.push(DueItem {
                follow_up,
                contact_name,
                organization,
                phone,
            });
        }
        Ok(out)
    }

    /// The latest audit entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(AUDIT)?;
        let mut out = Vec::new();
        for row in t.iter()?.rev().take(limit) {
            out.push(decode("audit entry", row?.1.value())?);
        }
        Ok(out)
    }

    /// The latest audit entries for which `keep` holds, newest first, at most `limit`. With
    /// `since`, the scan stops at the first entry from before that local day (the log is in
    /// time order), so a recent window never reads the whole trail.
    pub fn audit_log_where(
        &self,
        limit: usize,
        since: Option<Day>,
        mut keep: impl FnMut(&AuditEntry) -> bool,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(AUDIT)?;
        let mut out = Vec::new();
        for row in t.iter()?.rev() {
            if out.len() >= limit {
                break;
            }
            let entry: AuditEntry = decode("audit entry", row?.1.value())?;
            if since.is_some_and(|day| entry.at.local_day() < day) {
                break;
            }
            if keep(&entry) {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Every audit entry that changed something about one contact, oldest first: their record,
    /// timeline, deals, deletion and restoration — and, through merges, the history of every
    /// contact merged into them (for `rolo export --contact`, the person's right of access). A
    /// scan of the audit log, newest first; bulk loads are one summary entry each and name no
    /// contact.
    pub fn audit_about(&self, contact: Id) -> Result<Vec<AuditEntry>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(AUDIT)?;
        let undone = txn.open_table(UNDONE)?;
        let mut ids = std::collections::BTreeSet::from([contact]);
        let mut out = Vec::new();
        for row in t.iter()?.rev() {
            let entry: AuditEntry = decode("audit entry", row?.1.value())?;
            if !ids.iter().any(|id| entry.concerns(*id)) {
                continue;
            }
            // Walking back past a merge into a contact we follow: the absorbed contact's own
            // earlier history is about the same person.
            // A merge that was undone since split them again.
            if entry.action.starts_with("merge contact") && undone.get(entry.seq)?.is_none() {
                ids.extend(
                    entry
                        .changes
                        .iter()
                        .filter_map(|c| match (&c.before, &c.after) {
                            (Some(Record::Contact(gone)), None) => Some(gone.id),
                            _ => None,
                        }),
                );
            }
            out.push(entry);
        }
        out.reverse();
        Ok(out)
    }

    /// Calls `f` for every audit entry, oldest first, until it returns `false` (the full JSON
    /// export streams the audit trail this way).
    pub fn for_each_audit(&self, mut f: impl FnMut(AuditEntry) -> bool) -> Result<(), StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(AUDIT)?;
        for row in t.iter()? {
            if !f(decode("audit entry", row?.1.value())?) {
                break;
            }
        }
        Ok(())
    }

    /// Audit entries after sequence `seq`, oldest first, at most `limit` (the change feed a
    /// server broadcasts and a reconnecting client catches up from).
    pub fn audit_after(&self, seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(AUDIT)?;
        let mut out = Vec::new();
        for row in t.range(seq.saturating_add(1)..)? {
            if out.len() >= limit {
                break;
            }
            out.push(decode("audit entry", row?.1.value())?);
        }
        Ok(out)
    }

    /// The newest audit sequence (0 for none).
    pub fn last_audit_seq(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(AUDIT)?;
        Ok(t.last()?.map_or(0, |(k, _)| k.value()))
    }

    /// Up to `limit` contacts in id order after `after` (one page of an export through a
    /// server; no transaction is held between pages).
    pub fn contacts_after(
        &self,
        after: Option<Id>,
        limit: usize,
    ) -> Result<Vec<Contact>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CONTACTS)?;
        let start = after.map_or(0, |id| id.saturating_add(1));
        let mut out = Vec::new();
        for row in t.range(start..)? {
            if out.len() >= limit {
                break;
            }
            out.push(decode("contact", row?.1.value())?);
        }
        Ok(out)
    }

    /// Which audit entries were undone, and by which entry: `(undone seq, undo seq)`.
    pub fn undone_pairs(&self) -> Result<Vec<(u64, u64)>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(UNDONE)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.push((k.value(), v.value()));
        }
        Ok(out)
    }

    /// Every customer's purchase summary (contacts with at least one purchase), in id order —
    /// what the analytics read; kept current on every purchase, so no timeline scan.
    pub fn customer_summaries(
        &self,
    ) -> Result<Vec<crate::analytics::summary::PurchaseSummary>, StoreError> {
        self.customer_summaries_as(|s| s)
    }

    /// [`Store::customer_summaries`], each turned into what `project` makes of it as it is
    /// read (so a caller that needs a few fields never holds the whole summaries).
    pub fn customer_summaries_as<T: Send>(
        &self,
        project: impl Fn(crate::analytics::summary::PurchaseSummary) -> T + Sync,
    ) -> Result<Vec<T>, StoreError> {
        self.customer_summaries_split(project, 50_000, 1 << 16)
    }

    /// [`Store::customer_summaries_as`], read in two halves at once from `parallel_from`
    /// customers on, the upper half in pieces of `piece` (parameters so tests reach both
    /// paths with a few customers).
    #[doc(hidden)]
    pub fn customer_summaries_split<T: Send>(
        &self,
        project: impl Fn(crate::analytics::summary::PurchaseSummary) -> T + Sync,
        parallel_from: usize,
        piece: usize,
    ) -> Result<Vec<T>, StoreError> {
        let piece = piece.max(1);
        let txn = self.db.begin_read()?;
        let t = txn.open_table(PURCHASE_SUMMARIES)?;
        let rows = usize::try_from(t.len()?).unwrap_or(0);
        let read = |range: std::ops::RangeInclusive<u64>, capacity: usize| {
            let mut out = Vec::with_capacity(capacity);
            for row in t.range(range)? {
                out.push(project(decode("purchase summary", row?.1.value())?));
            }
            Ok::<_, StoreError>(out)
        };
        // The upper half comes in pieces, each freed as soon as it is copied after the lower
        // half: the whole upper half held twice was 52 MB at 1M customers' summaries.
        let read_pieces = |range: std::ops::RangeInclusive<u64>| {
            let mut pieces: Vec<Vec<T>> = Vec::new();
            let mut current = Vec::with_capacity(piece);
            for row in t.range(range)? {
                current.push(project(decode("purchase summary", row?.1.value())?));
                if current.len() == piece {
                    pieces.push(std::mem::replace(&mut current, Vec::with_capacity(piece)));
                }
            }
            pieces.push(current);
            Ok::<_, StoreError>(pieces)
        };
        let (Some(first), Some(last)) = (
            t.first()?.map(|(k, _)| k.value()),
            t.last()?.map(|(k, _)| k.value()),
        ) else {
            return Ok(Vec::new());
        };
        if rows < parallel_from {
            return read(first..=last, rows);
        }
        // Large bases are read in two halves of the id range at once, one per core, from the
        // same read transaction (ids are dense, so the halves are about even).
        let middle = first + (last - first) / 2;
        std::thread::scope(|scope| {
            let upper = scope.spawn(|| read_pieces(middle + 1..=last));
            let mut out = read(first..=middle, rows)?;
            let upper = upper
                .join()
                .map_err(|_| StoreError::Corrupt("reading purchase summaries failed".into()))??;
            for piece in upper {
                out.extend(piece);
                // Freed here, not on the thread that made it: handed back now, or it would
                // stay resident while the next piece is copied.
                crate::memory::release();
            }
            Ok(out)
        })
    }

    /// One contact's purchase summary (`None` without purchases).
    pub fn customer_summary(
        &self,
        contact: Id,
    ) -> Result<Option<crate::analytics::summary::PurchaseSummary>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(PURCHASE_SUMMARIES)?;
        match t.get(contact)? {
            Some(v) => Ok(Some(decode("purchase summary", v.value())?)),
            None => Ok(None),
        }
    }

    /// Every report rollup row ([`crate::analytics::rollup`]), in key order.
    pub fn rollup_rows(&self) -> Result<Vec<crate::analytics::rollup::Row>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(ROLLUPS)?;
        let mut out = Vec::with_capacity(usize::try_from(t.len()?).unwrap_or(0));
        for row in t.iter()? {
            let (k, v) = row?;
            let (kind, currency, day, value) = k.value();
            let Some(kind) = crate::analytics::rollup::Kind::from_code(kind) else {
                return Err(StoreError::Corrupt(format!("report rollup of kind {kind}")));
            };
            out.push(crate::analytics::rollup::Row {
                kind,
                currency: currency.to_string(),
                day,
                value: value.to_string(),
                cell: decode_cell(v.value())?,
            });
        }
        Ok(out)
    }

    /// Every customer's ratings in summary (contacts with a rated interaction), in id order.
    pub fn customer_ratings(&self) -> Result<Vec<crate::analytics::rollup::Ratings>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(RATINGS)?;
        let mut out = Vec::with_capacity(usize::try_from(t.len()?).unwrap_or(0));
        for row in t.iter()? {
            out.push(decode("rating summary", row?.1.value())?);
        }
        Ok(out)
    }

    /// Calls `f` for every timeline entry, in `(contact, at)` order, until it returns `false`
    /// (reports that need single purchases or interactions: products, months, satisfaction,
    /// `--as-of` replays). One read transaction; entries are decoded one at a time.
    pub fn for_each_entry(&self, mut f: impl FnMut(Entry) -> bool) -> Result<(), StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(TIMELINE)?;
        for row in t.iter()? {
            let (k, v) = row?;
            if !f(decode_entry(k.value(), v.value())?) {
                break;
            }
        }
        Ok(())
    }

    /// Every organisation, in id order.
    pub fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(ORGS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            out.push(decode("organization", row?.1.value())?);
        }
        Ok(out)
    }

    /// The id counters ([`COUNTERS`]) as they stand.
    pub fn counters(&self) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let mut out = std::collections::BTreeMap::new();
        for name in COUNTERS {
            out.insert(
                (*name).to_string(),
                meta.get(*name)?.map_or(0, |v| v.value()),
            );
        }
        Ok(out)
    }

    /// Contacts in the trash, most recently deleted first.
    pub fn trash(&self) -> Result<Vec<TrashBundle>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(TRASH)?;
        let mut out: Vec<TrashBundle> = Vec::new();
        for row in t.iter()? {
            out.push(decode("trash entry", row?.1.value())?);
        }
        out.sort_by_key(|b| std::cmp::Reverse(b.deleted.at));
        Ok(out)
    }
}

/// Threads reading the search records, and the ids each takes in turn.
const LOAD_READERS: u64 = 2;
const LOAD_RANGE_IDS: u64 = 8_192;
/// Bytes of records a reader hands over at once.
const LOAD_BATCH_BYTES: usize = 256 * 1024;

/// What a search-record reader hands over: length-prefixed records, then the end of its range.
enum Batch {
    Records(Vec<u8>),
    RangeDone,
    Failed(StoreError),
}

/// Sends the records of `ids` in batches, then [`Batch::RangeDone`]; `Err` once nobody listens.
fn read_records(
    table: &redb::ReadOnlyTable<u64, &[u8]>,
    ids: std::ops::RangeInclusive<u64>,
    out: &std::sync::mpsc::SyncSender<Batch>,
) -> Result<(), ()> {
    let send = |batch| out.send(batch).map_err(|_| ());
    let rows = match table.range(ids) {
        Ok(rows) => rows,
        Err(e) => return send(Batch::Failed(e.into())),
    };
    let mut records = Vec::with_capacity(LOAD_BATCH_BYTES + 4096);
    for row in rows {
        let value = match row {
            Ok((_, value)) => value,
            Err(e) => return send(Batch::Failed(e.into())),
        };
        let record = value.value();
        records.extend_from_slice(&(record.len() as u32).to_le_bytes());
        records.extend_from_slice(record);
        if records.len() >= LOAD_BATCH_BYTES {
            let full = std::mem::replace(&mut records, Vec::with_capacity(LOAD_BATCH_BYTES + 4096));
            send(Batch::Records(full))?;
        }
    }
    if !records.is_empty() {
        send(Batch::Records(records))?;
    }
    send(Batch::RangeDone)
}

fn decode_summary(record: &[u8]) -> Result<(Option<At>, Option<Day>), StoreError> {
    let view = crate::search::IndexEntry::decode(record)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((
        (view.last_contact_ms != NO_CONTACT).then(|| At::from_millis(view.last_contact_ms)),
        view.next_due_day.map(Day::from_number),
    ))
}

/// An open for writing refused because the file or its file system is read-only (EACCES,
/// EPERM for an immutable file, EROFS).
fn is_read_only(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied
        || e.kind() == std::io::ErrorKind::ReadOnlyFilesystem
        || matches!(e.raw_os_error(), Some(1 | 13 | 30))
}

#[cfg(unix)]
fn open_private_file(path: &Path, create: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private_file(path: &Path, create: bool) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}
