//! Keeping the file healthy: schema migrations on open, `rolo doctor` (redb's integrity check
//! plus our own index-versus-record checks), consistent backups through a read transaction, and
//! compaction after bulk loads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use redb::{
    Database, Key, MultimapTableDefinition, MultimapTableHandle, ReadTransaction, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
    Value, WriteTransaction,
};
use serde::Serialize;

use super::tables::*;
use super::{SCHEMA_VERSION, Store, StoreError};
use crate::analytics::summary::PurchaseSummary;
use crate::domain::{Contact, Entry, Organization, text};

/// One schema step: upgrades a database from `from` to `from + 1` inside the open transaction.
pub(crate) struct Migration {
    pub from: u64,
    pub description: &'static str,
    pub run: fn(&WriteTransaction) -> Result<(), StoreError>,
    /// Rewrites whole tables, so the file is compacted afterwards.
    pub rewrites: bool,
}

/// Every migration this build knows, in order. `tests/fixtures/schema-v1.redb` was written by
/// schema 1 and must keep opening.
const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 1,
        description: "per-contact search records replace the last-contact/next-due summary",
        run: v1_to_v2,
        rewrites: true,
    },
    Migration {
        from: 2,
        description: "smaller file: email/phone pair tables, timeline values without their key",
        run: v2_to_v3,
        rewrites: true,
    },
    Migration {
        from: 3,
        description: "uids dropped by merges are filed in the uid index",
        run: v3_to_v4,
        rewrites: false,
    },
    Migration {
        from: 4,
        description: "search records hold whole emails (a domain finds its people)",
        run: v4_to_v5,
        rewrites: false,
    },
    Migration {
        from: 5,
        description: "audit entries record where each write came from (tui, cli, import, ssh)",
        run: v5_to_v6,
        rewrites: true,
    },
    Migration {
        from: 6,
        description: "per-customer purchase summaries for analytics",
        run: v6_to_v7,
        rewrites: false,
    },
    Migration {
        from: 7,
        description: "report rollups per day and per-customer ratings (fast reports)",
        run: v7_to_v8,
        rewrites: false,
    },
];

/// Schema 8 keeps the report rollups ([`ROLLUPS`]) and each customer's ratings in summary
/// ([`RATINGS`]); both are built here from the timeline in one pass.
fn v7_to_v8(txn: &WriteTransaction) -> Result<(), StoreError> {
    let (rows, ratings) = {
        let timeline = txn.open_table(TIMELINE)?;
        rollups_of(timeline.iter()?)?
    };
    let mut table = txn.open_table(ROLLUPS)?;
    for ((kind, currency, day, value), cell) in &rows {
        table.insert(
            (*kind, currency.as_str(), *day, value.as_str()),
            encode_cell(cell).as_slice(),
        )?;
    }
    let mut table = txn.open_table(RATINGS)?;
    for (contact, r) in &ratings {
        table.insert(*contact, encode(r)?.as_slice())?;
    }
    Ok(())
}

type RollupRows = BTreeMap<(u8, String, i32, String), crate::analytics::rollup::Cell>;

/// The rollup rows and rating summaries a timeline gives (decoding errors are the caller's).
fn rollups_of<'a>(
    rows: impl Iterator<
        Item = Result<
            (
                redb::AccessGuard<'a, TimelineKey>,
                redb::AccessGuard<'a, &'static [u8]>,
            ),
            redb::StorageError,
        >,
    >,
) -> Result<(RollupRows, BTreeMap<u64, crate::analytics::rollup::Ratings>), StoreError> {
    let mut builder = crate::analytics::rollup::Builder::default();
    let mut ratings = BTreeMap::new();
    for row in rows {
        let (k, v) = row?;
        let entry = decode_entry(k.value(), v.value())?;
        add_rollups(&mut builder, &mut ratings, &entry);
    }
    Ok((builder.finish(), ratings))
}

fn add_rollups(
    builder: &mut crate::analytics::rollup::Builder,
    ratings: &mut BTreeMap<u64, crate::analytics::rollup::Ratings>,
    entry: &Entry,
) {
    builder.add(entry);
    if let Entry::Interaction(i) = entry
        && i.satisfaction.is_some()
    {
        ratings
            .entry(i.contact)
            .or_insert_with(|| crate::analytics::rollup::Ratings::new(i.contact))
            .add(i);
    }
}

/// Schema 6 audit entries carry their source; older ones get an empty one ("not recorded").
fn v5_to_v6(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut audit = txn.open_table(AUDIT)?;
    let mut rows: Vec<(u64, Vec<u8>)> = Vec::new();
    for row in audit.iter()? {
        let (k, v) = row?;
        let old: super::audit::AuditEntryV5 = decode("audit entry", v.value())?;
        rows.push((k.value(), encode(&super::AuditEntry::from(old))?));
    }
    for (k, v) in rows {
        audit.insert(k, v.as_slice())?;
    }
    Ok(())
}

/// Schema 7 keeps a purchase summary per customer ([`PURCHASE_SUMMARIES`]); it is built here
/// from the timeline in one pass (entries come in `(contact, at)` order).
fn v6_to_v7(txn: &WriteTransaction) -> Result<(), StoreError> {
    let timeline = txn.open_table(TIMELINE)?;
    let mut summaries = txn.open_table(PURCHASE_SUMMARIES)?;
    let mut cursor = summaries.upper_bound_mut(std::ops::Bound::<u64>::Unbounded)?;
    let mut current: Option<(PurchaseSummary, i32)> = None;
    for row in timeline.iter()? {
        let (k, v) = row?;
        let Entry::Purchase(p) = decode_entry(k.value(), v.value())? else {
            continue;
        };
        let day = crate::analytics::summary::utc_day(p.at.millis());
        match &mut current {
            Some((s, last)) if s.contact == p.contact => {
                s.add(&p, *last != day);
                *last = day;
            }
            _ => {
                if let Some((done, _)) = current.take() {
                    cursor.insert_before(done.contact, encode(&done)?.as_slice())?;
                }
                let mut s = PurchaseSummary::new(p.contact);
                s.add(&p, true);
                current = Some((s, day));
            }
        }
    }
    if let Some((done, _)) = current {
        cursor.insert_before(done.contact, encode(&done)?.as_slice())?;
    }
    cursor.close()?;
    Ok(())
}

/// Schema 4 search records held emails' local parts only; schema 5 holds whole emails, so the
/// records are rebuilt from the contacts, keeping their recency fields.
fn v4_to_v5(txn: &WriteTransaction) -> Result<(), StoreError> {
    let contacts = txn.open_table(CONTACTS)?;
    let orgs = txn.open_table(ORGS)?;
    let mut index = txn.open_table(CONTACT_INDEX)?;
    for row in contacts.iter()? {
        let (k, v) = row?;
        let c: Contact = decode("contact", v.value())?;
        let (last, due) = match index.get(k.value())? {
            Some(old) => {
                let old = crate::search::IndexEntry::decode(old.value())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                (old.last_contact_ms, old.next_due_day)
            }
            None => (NO_CONTACT, None),
        };
        let org = match c.organization {
            Some(id) => match orgs.get(id)? {
                Some(o) => decode::<Organization>("organization", o.value())?.name,
                None => String::new(),
            },
            None => String::new(),
        };
        index.insert(k.value(), index_record(&c, &org, last, due).as_slice())?;
    }
    Ok(())
}

/// Schema 4 files every uid a merge dropped (the survivor's custom field `merged_uid`) in the
/// uid index under its own key space ([`merged_uid_key`]); merges made under schema 3 get
/// their rows here. Schema 3 builds would take those rows for stray uids, hence the bump.
fn v3_to_v4(txn: &WriteTransaction) -> Result<(), StoreError> {
    let contacts = txn.open_table(CONTACTS)?;
    let mut uids = txn.open_table(UIDS)?;
    for row in contacts.iter()? {
        let (k, v) = row?;
        let c: Contact = decode("contact", v.value())?;
        for m in c.merged_uids() {
            let key = merged_uid_key(&m);
            if uids.get(key.as_str())?.is_none() {
                uids.insert(key.as_str(), k.value())?;
            }
        }
    }
    Ok(())
}

/// Schema 1 kept `contact_summary: u64 → (last ms | i64::MIN, due day | i32::MAX)`; schema 2
/// folds that into `contact_index` (the compact search record, which carries both).
fn v1_to_v2(txn: &WriteTransaction) -> Result<(), StoreError> {
    const V1_SUMMARY: TableDefinition<u64, (i64, i32)> = TableDefinition::new("contact_summary");
    {
        let summary = txn.open_table(V1_SUMMARY)?;
        let contacts = txn.open_table(CONTACTS)?;
        let orgs = txn.open_table(ORGS)?;
        let mut index = txn.open_table(CONTACT_INDEX)?;
        for row in contacts.iter()? {
            let (k, v) = row?;
            let c: Contact = decode("contact", v.value())?;
            let org = match c.organization {
                Some(id) => match orgs.get(id)? {
                    Some(o) => decode::<Organization>("organization", o.value())?.name,
                    None => String::new(),
                },
                None => String::new(),
            };
            let (last, due) = summary
                .get(k.value())?
                .map_or((NO_CONTACT, i32::MAX), |s| s.value());
            let due = (due != i32::MAX).then_some(due);
            index.insert(k.value(), index_record(&c, &org, last, due).as_slice())?;
        }
    }
    txn.delete_table(V1_SUMMARY)?;
    Ok(())
}

/// Schema 2 kept the email and phone indexes as multimaps (`by_email`, `by_phone`: key → ids)
/// and the timeline as `(u64, i64, u64)` tuple keys → whole entries. Schema 3 keeps `(key, id)`
/// pairs in plain tables, and timeline keys in their compact form ([`TimelineKey`]) with values
/// without the contact, time and id the key holds; the rewritten tables come out with packed
/// leaves.
fn v2_to_v3(txn: &WriteTransaction) -> Result<(), StoreError> {
    const V2_EMAILS: MultimapTableDefinition<&str, u64> = MultimapTableDefinition::new("by_email");
    const V2_PHONES: MultimapTableDefinition<&str, u64> = MultimapTableDefinition::new("by_phone");
    for (old, new) in [(V2_EMAILS, EMAILS), (V2_PHONES, PHONES)] {
        {
            let from = txn.open_multimap_table(old)?;
            let mut to = txn.open_table(new)?;
            let mut cursor = to.upper_bound_mut(std::ops::Bound::<(&str, u64)>::Unbounded)?;
            for row in from.iter()? {
                let (k, ids) = row?;
                for id in ids {
                    cursor.insert_before((k.value(), id?.value()), ())?;
                }
            }
            cursor.close()?;
        }
        txn.delete_multimap_table(old)?;
    }
    const V2_TIMELINE: TableDefinition<EntryKey, &[u8]> = TableDefinition::new("timeline");
    const REWRITTEN: TableDefinition<TimelineKey, &[u8]> = TableDefinition::new("timeline.v3");
    {
        let from = txn.open_table(V2_TIMELINE)?;
        let mut to = txn.open_table(REWRITTEN)?;
        let mut cursor = to.upper_bound_mut(std::ops::Bound::<EntryKey>::Unbounded)?;
        for row in from.iter()? {
            let (k, v) = row?;
            let entry: Entry = decode("timeline entry", v.value())?;
            if entry_key(&entry) != k.value() {
                return Err(StoreError::Corrupt(format!(
                    "timeline entry {} is filed under the wrong key",
                    entry.id()
                )));
            }
            cursor.insert_before(k.value(), encode_entry(&entry)?.as_slice())?;
        }
        cursor.close()?;
    }
    txn.delete_table(V2_TIMELINE)?;
    txn.rename_table(REWRITTEN, TIMELINE)?;
    Ok(())
}

/// Brings the file to [`SCHEMA_VERSION`]; true when a migration that rewrites whole tables ran,
/// so the caller compacts afterwards (else the upgraded file keeps the old pages' space).
/// For a file opened read-only: its schema must be the current one (an upgrade writes).
pub(crate) fn check_schema_read_only(
    db: &redb::ReadOnlyDatabase,
    path: &str,
) -> Result<(), StoreError> {
    let txn = db.begin_read()?;
    let found = match txn.open_table(META) {
        Ok(meta) => meta.get("schema_version")?.map(|v| v.value()),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(e.into()),
    };
    match found {
        Some(v) if v == SCHEMA_VERSION => Ok(()),
        Some(v) if v > SCHEMA_VERSION => Err(StoreError::NewerSchema {
            path: path.to_string(),
            found: v,
            supported: SCHEMA_VERSION,
        }),
        _ => Err(StoreError::Open {
            path: path.to_string(),
            reason: format!(
                "it is read-only and needs an upgrade to schema {SCHEMA_VERSION}, which writes; open it once where it can be written"
            ),
        }),
    }
}

pub(crate) fn migrate(db: &Database, path: &str) -> Result<bool, StoreError> {
    run_migrations(db, path, SCHEMA_VERSION, MIGRATIONS)
}

pub(crate) fn run_migrations(
    db: &Database,
    path: &str,
    target: u64,
    steps: &[Migration],
) -> Result<bool, StoreError> {
    let txn = db.begin_write()?;
    let migrated;
    {
        let meta = txn.open_table(META)?;
        let found = meta.get("schema_version")?.map(|v| v.value());
        let found = match found {
            Some(v) => v,
            None => {
                let has_data = txn.list_tables()?.any(|t| t.name() == "contacts");
                if has_data { 0 } else { target }
            }
        };
        if found > target {
            return Err(StoreError::NewerSchema {
                path: path.to_string(),
                found,
                supported: target,
            });
        }
        drop(meta);
        let mut rewrote = false;
        let mut version = found;
        while version < target {
            let step = steps.iter().find(|m| m.from == version).ok_or_else(|| {
                StoreError::Corrupt(format!("no migration from schema {version}"))
            })?;
            let _shown = super::observe(format!(
                "upgrading the database to schema {}: {}",
                version + 1,
                step.description
            ));
            (step.run)(&txn).map_err(|e| {
                StoreError::Corrupt(format!("migration `{}` failed: {e}", step.description))
            })?;
            rewrote |= step.rewrites;
            version += 1;
        }
        migrated = rewrote;
        create_all(&txn)?;
        txn.open_table(META)?.insert("schema_version", target)?;
    }
    txn.commit()?;
    Ok(migrated)
}

#[derive(Debug, Default, Serialize)]
pub struct DoctorReport {
    pub integrity_ok: bool,
    /// The file was opened read-only: redb's own page check (which needs to write) was not
    /// run; every record and index was still read and checked.
    pub read_only: bool,
    pub schema_version: u64,
    pub contacts: u64,
    pub timeline_entries: u64,
    pub open_follow_ups: u64,
    pub audit_entries: u64,
    pub problems: Vec<String>,
    /// Whether redb's page check ran (not while a server serves the file to others).
    pub integrity_checked: bool,
}

impl DoctorReport {
    pub fn is_clean(&self) -> bool {
        self.integrity_ok && self.problems.is_empty()
    }
    fn problem(&mut self, text: String) {
        if self.problems.len() < 200 {
            self.problems.push(text);
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub path: String,
    pub tables: usize,
    pub rows: u64,
    pub bytes: u64,
}

impl Store {
    /// redb's integrity check, then every index checked against the records and back.
    pub fn doctor(&mut self) -> Result<DoctorReport, StoreError> {
        // redb's check needs a writable handle; a read-only file gets our own checks only
        // (which still read every record and index).
        let integrity_ok = match self.db.get_mut()? {
            super::Db::Write(db) => db
                .check_integrity()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            super::Db::Read(..) => true,
            super::Db::Closed(why) => return Err(super::Db::closed(why)),
        };
        let mut report = DoctorReport {
            integrity_ok,
            integrity_checked: !self.is_read_only(),
            read_only: self.is_read_only(),
            ..DoctorReport::default()
        };
        let txn = self.db.begin_read()?;
        consistency(&txn, &mut report)?;
        Ok(report)
    }

    /// [`Store::doctor`] while others use the file (inside the server): every record and
    /// index is read and checked, but redb's page check, which needs the file to itself, is
    /// not run (`integrity_checked` is false).
    pub fn doctor_online(&self) -> Result<DoctorReport, StoreError> {
        let mut report = DoctorReport {
            integrity_ok: true,
            integrity_checked: false,
            read_only: self.is_read_only(),
            ..DoctorReport::default()
        };
        let txn = self.db.begin_read()?;
        consistency(&txn, &mut report)?;
        Ok(report)
    }

    /// Shrinks the file after bulk loads or many deletes: every table with much unused page
    /// space is rewritten with full leaves (see [`repack`]), then redb moves the pages to the
    /// front and truncates the file.
    pub fn compact(&mut self) -> Result<bool, StoreError> {
        let txn = self.db.begin_write()?;
        repack(&txn, CONTACTS)?;
        repack(&txn, BY_NAME)?;
        repack(&txn, EMAILS)?;
        repack(&txn, PHONES)?;
        repack(&txn, TIMELINE)?;
        repack(&txn, DUE)?;
        repack(&txn, CONTACT_INDEX)?;
        repack(&txn, UIDS)?;
        repack(&txn, ORGS)?;
        repack(&txn, ORG_NAMES)?;
        repack(&txn, DEALS)?;
        repack(&txn, DEALS_BY_CONTACT)?;
        repack(&txn, TRASH)?;
        repack(&txn, AUDIT)?;
        repack(&txn, UNDONE)?;
        repack(&txn, PURCHASE_SUMMARIES)?;
        repack(&txn, ROLLUPS)?;
        repack(&txn, RATINGS)?;
        txn.commit()?;
        self.db.compact()
    }

    /// Writes a consistent copy to `dest` (which must not exist, not even as a dangling link)
    /// through one read transaction, so it can run while rolo is in use. The copy is written
    /// to an exclusively created, owner-only temp file beside `dest` and linked to `dest` only
    /// once it is complete and on disk: a failed backup (disk full, a signal) leaves no file
    /// at `dest` that could pass for a backup.
    pub fn backup(&self, dest: &Path) -> Result<BackupReport, StoreError> {
        let shown = text::visible(&dest.display().to_string(), false).into_owned();
        refuse_existing(dest, &shown)?;
        let (temp, file) =
            create_private_temp(dest).map_err(|e| open_err(&shown, e.to_string()))?;
        let temp = TempGuard(Some(temp));
        let rows = self.copy_into(file, &shown)?;
        publish(&temp, dest, &shown)?;
        let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
        Ok(BackupReport {
            path: shown,
            tables: 20,
            rows,
            bytes,
        })
    }

    /// Copies every table into a new database on `file`, in one read transaction; the rows
    /// copied. The copy is committed (fsync) before this returns.
    fn copy_into(&self, file: std::fs::File, shown: &str) -> Result<u64, StoreError> {
        let copy = redb::backends::FileBackend::new(file)
            .and_then(|backend| Database::builder().create_with_backend(backend))
            .map_err(|e| StoreError::Open {
                path: shown.to_string(),
                reason: e.to_string(),
            })?;
        let src = self.db.begin_read()?;
        let dst = copy.begin_write()?;
        let mut rows = 0;
        rows += copy_table(&src, &dst, META)?;
        rows += copy_table(&src, &dst, CONTACTS)?;
        rows += copy_table(&src, &dst, BY_NAME)?;
        rows += copy_table(&src, &dst, TIMELINE)?;
        rows += copy_table(&src, &dst, DUE)?;
        rows += copy_table(&src, &dst, CONTACT_INDEX)?;
        rows += copy_table(&src, &dst, EMAILS)?;
        rows += copy_table(&src, &dst, PHONES)?;
        rows += copy_multimap(&src, &dst, TAGS)?;
        rows += copy_table(&src, &dst, UIDS)?;
        rows += copy_table(&src, &dst, ORGS)?;
        rows += copy_table(&src, &dst, ORG_NAMES)?;
        rows += copy_table(&src, &dst, DEALS)?;
        rows += copy_table(&src, &dst, DEALS_BY_CONTACT)?;
        rows += copy_table(&src, &dst, TRASH)?;
        rows += copy_table(&src, &dst, AUDIT)?;
        rows += copy_table(&src, &dst, UNDONE)?;
        rows += copy_table(&src, &dst, PURCHASE_SUMMARIES)?;
        rows += copy_table(&src, &dst, ROLLUPS)?;
        rows += copy_table(&src, &dst, RATINGS)?;
        dst.commit()?;
        drop(copy);
        Ok(rows)
    }
}

fn open_err(shown: &str, reason: String) -> StoreError {
    StoreError::Open {
        path: shown.to_string(),
        reason,
    }
}

/// Refuses a destination that exists, even as a dangling symbolic link: a backup or salvaged
/// copy never replaces a file and is never written through a link.
pub(crate) fn refuse_existing(dest: &Path, shown: &str) -> Result<(), StoreError> {
    match std::fs::symlink_metadata(dest) {
        Ok(meta) if meta.file_type().is_symlink() => Err(open_err(
            shown,
            "is a symbolic link; a copy is never written through one — choose a new file name"
                .into(),
        )),
        Ok(_) => Err(open_err(
            shown,
            "already exists; choose a new file name".into(),
        )),
        Err(_) => Ok(()),
    }
}

/// Gives the finished, synced temp file its name `dest`, never replacing a file that
/// appeared there meanwhile, then syncs the folder; the guard removes the temp name.
pub(crate) fn publish(temp: &TempGuard, dest: &Path, shown: &str) -> Result<(), StoreError> {
    let Some(temp_path) = temp.0.as_deref() else {
        return Err(open_err(shown, "the temp file went missing".into()));
    };
    // `hard_link` never replaces: a file that appeared at `dest` meanwhile is kept.
    match std::fs::hard_link(temp_path, dest) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(open_err(
                shown,
                "already exists; choose a new file name".into(),
            ));
        }
        // A file system without hard links: rename, still refusing an existing `dest`.
        Err(_) if std::fs::symlink_metadata(dest).is_err() => {
            std::fs::rename(temp_path, dest).map_err(|e| open_err(shown, e.to_string()))?;
        }
        Err(e) => return Err(open_err(shown, e.to_string())),
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The new name on disk too (best effort: not every file system syncs a folder).
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Removes the temp file it holds when dropped (a failed backup leaves nothing behind).
pub(crate) struct TempGuard(pub(crate) Option<std::path::PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A new owner-only (0600) file beside `dest` under a name nobody can guess
/// (`.NAME.RANDOM.tmp`), created with `O_CREAT|O_EXCL`: never an existing file, never through
/// a symbolic link. A taken name is never opened; another one is drawn. For exports and
/// backups, which hold the same personal data as the database.
pub fn create_private_temp(dest: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rolo".into());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).read(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    for _ in 0..16 {
        let token: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(12)
            .collect();
        let temp = dest.with_file_name(format!(".{name}.{token}.tmp"));
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free temp file name",
    ))
}

/// How the file's space is used (redb's own accounting).
#[derive(Debug, Serialize)]
pub struct SpaceReport {
    pub file_bytes: u64,
    pub stored_bytes: u64,
    pub metadata_bytes: u64,
    pub fragmented_bytes: u64,
    pub leaf_pages: u64,
    pub branch_pages: u64,
}

/// One table's share of the file (redb's `TableStats`); pages are 4 KiB.
#[derive(Debug, Serialize)]
pub struct TableSpace {
    pub name: String,
    pub rows: u64,
    pub stored_bytes: u64,
    pub metadata_bytes: u64,
    pub fragmented_bytes: u64,
    pub leaf_pages: u64,
    pub branch_pages: u64,
}

impl TableSpace {
    /// Bytes of the pages the table occupies.
    pub fn page_bytes(&self) -> u64 {
        (self.leaf_pages + self.branch_pages) * PAGE_BYTES
    }

    fn new(name: &str, rows: u64, stats: &redb::TableStats) -> Self {
        TableSpace {
            name: name.to_string(),
            rows,
            stored_bytes: stats.stored_bytes(),
            metadata_bytes: stats.metadata_bytes(),
            fragmented_bytes: stats.fragmented_bytes(),
            leaf_pages: stats.leaf_pages(),
            branch_pages: stats.branch_pages(),
        }
    }
}

impl Store {
    /// Space accounting through a write transaction that is never committed.
    pub fn space(&self) -> Result<SpaceReport, StoreError> {
        let txn = self.db.begin_write()?;
        let stats = txn.stats()?;
        let report = SpaceReport {
            file_bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
            stored_bytes: stats.stored_bytes(),
            metadata_bytes: stats.metadata_bytes(),
            fragmented_bytes: stats.fragmented_bytes(),
            leaf_pages: stats.leaf_pages(),
            branch_pages: stats.branch_pages(),
        };
        txn.abort()?;
        Ok(report)
    }

    /// redb's space accounting per table, biggest first — where the file's bytes go.
    pub fn table_space(&self) -> Result<Vec<TableSpace>, StoreError> {
        let txn = self.db.begin_write()?;
        let mut out = Vec::new();
        macro_rules! table {
            ($def:expr) => {{
                let t = txn.open_table($def)?;
                out.push(TableSpace::new($def.name(), t.len()?, &t.stats()?));
            }};
        }
        macro_rules! multimap {
            ($def:expr) => {{
                let t = txn.open_multimap_table($def)?;
                out.push(TableSpace::new($def.name(), t.len()?, &t.stats()?));
            }};
        }
        table!(META);
        table!(CONTACTS);
        table!(BY_NAME);
        table!(TIMELINE);
        table!(DUE);
        table!(CONTACT_INDEX);
        table!(EMAILS);
        table!(PHONES);
        multimap!(TAGS);
        table!(UIDS);
        table!(ORGS);
        table!(ORG_NAMES);
        table!(DEALS);
        table!(DEALS_BY_CONTACT);
        table!(TRASH);
        table!(AUDIT);
        table!(UNDONE);
        table!(PURCHASE_SUMMARIES);
        table!(ROLLUPS);
        table!(RATINGS);
        txn.abort()?;
        out.sort_by_key(|t| std::cmp::Reverse(t.leaf_pages + t.branch_pages));
        Ok(out)
    }

    /// Every row of every table as text lines `table<TAB>key<TAB>value` (keys as their Debug
    /// form, byte values as hex) — the input of `benches/sqlite_size.py`, which loads the same
    /// rows into SQLite to compare file sizes.
    pub fn dump_rows(&self, out: &mut impl std::io::Write) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let mut n = 0;
        let io = |e: std::io::Error| StoreError::Io(e.to_string());
        macro_rules! dump {
            ($def:expr, $name:literal, $val:expr) => {
                for row in txn.open_table($def)?.iter()? {
                    let (k, v) = row?;
                    writeln!(out, "{}\t{:?}\t{}", $name, k.value(), $val(v.value())).map_err(io)?;
                    n += 1;
                }
            };
        }
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let dbg = |v: &dyn std::fmt::Debug| format!("{v:?}");
        dump!(META, "meta", |v: u64| v.to_string());
        dump!(CONTACTS, "contacts", hex);
        dump!(BY_NAME, "contacts_by_name", |_: ()| String::new());
        dump!(EMAILS, "contacts_by_email", |_: ()| String::new());
        dump!(PHONES, "contacts_by_phone", |_: ()| String::new());
        dump!(TIMELINE, "timeline", hex);
        dump!(DUE, "followups_due", |v: (u64, i64)| dbg(&v));
        dump!(CONTACT_INDEX, "contact_index", hex);
        dump!(UIDS, "by_uid", |v: u64| v.to_string());
        dump!(ORGS, "organizations", hex);
        dump!(ORG_NAMES, "organizations_by_name", |v: u64| v.to_string());
        dump!(DEALS, "deals", hex);
        dump!(DEALS_BY_CONTACT, "deals_by_contact", |_: ()| String::new());
        dump!(TRASH, "trash", hex);
        dump!(AUDIT, "audit", hex);
        dump!(UNDONE, "undone", |v: u64| v.to_string());
        dump!(PURCHASE_SUMMARIES, "purchase_summaries", hex);
        dump!(ROLLUPS, "report_rollups", hex);
        dump!(RATINGS, "customer_ratings", hex);
        for row in txn.open_multimap_table(TAGS)?.iter()? {
            let (k, values) = row?;
            for v in values {
                writeln!(out, "by_tag\t{:?}\t{}", k.value(), v?.value()).map_err(io)?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// redb's page size.
const PAGE_BYTES: u64 = 4096;

/// A table is repacked when more than 1/this of its pages' bytes are unused. Measured: leaves
/// split by inserts in random order are about 40% empty; a table written through a cursor in
/// key order (the bulk load's held-back index rows) about 1%; contacts appended by id 7%,
/// rising to 17% when an import also updated 3% of them.
const REPACK_WHEN_UNUSED: u64 = 10;

/// Rewrites a sparse table in key order through a cursor at the end of an empty copy, which
/// redb fills into packed leaves, then swaps the copy in. Ordinary inserts split a full leaf
/// in half, and `compact` alone only moves pages, it never refills them. A dense table is
/// left as it is.
fn repack<K: Key + 'static, V: Value + 'static>(
    txn: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<(), StoreError> {
    let stats = txn.open_table(def)?.stats()?;
    let pages = (stats.leaf_pages() + stats.branch_pages()) * PAGE_BYTES;
    if stats.fragmented_bytes() * REPACK_WHEN_UNUSED < pages {
        // Already dense (written in key order, e.g. by a bulk load's held-back index rows):
        // a copy would gain nothing.
        return Ok(());
    }
    let name = format!("{}.repack", def.name());
    let copy: TableDefinition<K, V> = TableDefinition::new(&name);
    {
        let from = txn.open_table(def)?;
        let mut to = txn.open_table(copy)?;
        let mut cursor = to.upper_bound_mut(std::ops::Bound::<K::SelfType<'_>>::Unbounded)?;
        for row in from.iter()? {
            let (k, v) = row?;
            cursor.insert_before(k.value(), v.value())?;
        }
        cursor.close()?;
    }
    txn.delete_table(def)?;
    txn.rename_table(copy, def)?;
    Ok(())
}

fn copy_table<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64, StoreError> {
    let from = src.open_table(def)?;
    let mut to = dst.open_table(def)?;
    let mut n = 0;
    for row in from.iter()? {
        let (k, v) = row?;
        to.insert(k.value(), v.value())?;
        n += 1;
    }
    Ok(n)
}

fn copy_multimap<K: Key + 'static, V: Key + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: MultimapTableDefinition<K, V>,
) -> Result<u64, StoreError> {
    let from = src.open_multimap_table(def)?;
    let mut to = dst.open_multimap_table(def)?;
    let mut n = 0;
    for row in from.iter()? {
        let (k, values) = row?;
        for v in values {
            to.insert(k.value(), v?.value())?;
            n += 1;
        }
    }
    Ok(n)
}

fn index_pairs(
    txn: &ReadTransaction,
    def: TableDefinition<(&str, u64), ()>,
) -> Result<BTreeSet<(String, u64)>, StoreError> {
    let mut out = BTreeSet::new();
    for row in txn.open_table(def)?.iter()? {
        let (key, _) = row?;
        let (key, id) = key.value();
        out.insert((key.to_string(), id));
    }
    Ok(out)
}

fn multimap_pairs(
    txn: &ReadTransaction,
    def: MultimapTableDefinition<&str, u64>,
) -> Result<BTreeSet<(String, u64)>, StoreError> {
    let t = txn.open_multimap_table(def)?;
    let mut out = BTreeSet::new();
    for row in t.iter()? {
        let (k, values) = row?;
        for v in values {
            out.insert((k.value().to_string(), v?.value()));
        }
    }
    Ok(out)
}

pub(crate) fn consistency(
    txn: &ReadTransaction,
    report: &mut DoctorReport,
) -> Result<(), StoreError> {
    let meta = txn.open_table(META)?;
    let counter =
        |name: &str| -> Result<u64, StoreError> { Ok(meta.get(name)?.map_or(0, |v| v.value())) };
    report.schema_version = counter("schema_version")?;

    // Expected index contents, rebuilt from the records.
    let mut emails = BTreeSet::new();
    let mut phones = BTreeSet::new();
    let mut tags = BTreeSet::new();
    let mut uids = BTreeMap::new();
    let mut merged_uids = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut org_ids = BTreeSet::new();
    let mut contact_ids = BTreeSet::new();
    let mut max_contact = 0;
    for row in txn.open_table(CONTACTS)?.iter()? {
        let (k, v) = row?;
        let id = k.value();
        let c: Contact = match decode("contact", v.value()) {
            Ok(c) => c,
            Err(e) => {
                report.problem(format!("contact {id}: {e}"));
                continue;
            }
        };
        if c.id != id {
            report.problem(format!("contact stored under {id} says it is {}", c.id));
        }
        max_contact = max_contact.max(id);
        contact_ids.insert(id);
        for e in &c.emails {
            emails.insert((text::email_key(&e.value), id));
        }
        for p in &c.phones {
            let key = text::phone_key(&p.value);
            if !key.is_empty() {
                phones.insert((key, id));
            }
        }
        for t in &c.tags {
            tags.insert((t.clone(), id));
        }
        if !c.uid.is_empty() {
            uids.insert(c.uid.clone(), id);
        }
        for m in c.merged_uids() {
            merged_uids.insert((merged_uid_key(&m), id));
        }
        names.insert((text::sort_key(&c.name), id));
        if let Some(org) = c.organization {
            org_ids.insert((org, id));
        }
    }
    report.contacts = contact_ids.len() as u64;
    compare(report, "email index", &emails, &index_pairs(txn, EMAILS)?);
    compare(report, "phone index", &phones, &index_pairs(txn, PHONES)?);
    compare(report, "tag index", &tags, &multimap_pairs(txn, TAGS)?);
    // Own uids must match the records exactly. A merged uid (its own key space) is filed for
    // the first contact that lists it, so a row must be listed by its contact, and one missing
    // is not a fault.
    let mut stored_uids = BTreeMap::new();
    for row in txn.open_table(UIDS)?.iter()? {
        let (k, v) = row?;
        let (key, id) = (k.value().to_string(), v.value());
        if key.starts_with(MERGED_UID_PREFIX) {
            if !merged_uids.contains(&(key.clone(), id)) {
                report.problem(format!(
                    "uid index files a merged uid for #{id}, whose record does not list it"
                ));
            }
        } else {
            stored_uids.insert(key, id);
        }
    }
    if stored_uids != uids {
        report.problem(format!(
            "uid index has {} entries, records say {}",
            stored_uids.len(),
            uids.len()
        ));
    }
    let mut stored_names = BTreeSet::new();
    for row in txn.open_table(BY_NAME)?.iter()? {
        let (k, _) = row?;
        let (name, id) = k.value();
        stored_names.insert((name.to_string(), id));
    }
    compare(report, "name order", &names, &stored_names);

    let orgs = txn.open_table(ORGS)?;
    let mut max_org = 0;
    for row in orgs.iter()? {
        let (k, v) = row?;
        max_org = max_org.max(k.value());
        if let Err(e) = decode::<Organization>("organization", v.value()) {
            report.problem(format!("organisation {}: {e}", k.value()));
        }
    }
    for (org, contact) in &org_ids {
        if orgs.get(*org)?.is_none() {
            report.problem(format!(
                "contact {contact} points at missing organisation {org}"
            ));
        }
    }

    // Timeline: every entry belongs to a live contact; open follow-ups match the due index;
    // the per-contact summary matches the timeline.
    let mut due_expected = BTreeSet::new();
    let mut recency: BTreeMap<u64, (i64, Option<i32>)> = BTreeMap::new();
    let mut purchases: BTreeMap<u64, (PurchaseSummary, i32)> = BTreeMap::new();
    let mut rollups = crate::analytics::rollup::Builder::default();
    let mut ratings = BTreeMap::new();
    let mut max_entry = 0;
    for row in txn.open_table(TIMELINE)?.iter()? {
        let (k, v) = row?;
        let (contact, at, id) = k.value();
        report.timeline_entries += 1;
        max_entry = max_entry.max(id);
        // Stored bare: the fields the key holds are zero in the value.
        let entry: Entry = match decode::<Entry>("timeline entry", v.value()) {
            Ok(bare) if entry_key(&bare) == (0, 0, 0) => decode_entry(k.value(), v.value())?,
            Ok(_) => {
                report.problem(format!(
                    "timeline entry {id} repeats its key in its value (schema 2 form)"
                ));
                continue;
            }
            Err(e) => {
                report.problem(format!("timeline entry {id}: {e}"));
                continue;
            }
        };
        if !contact_ids.contains(&contact) {
            report.problem(format!(
                "timeline entry {id} belongs to missing contact {contact}"
            ));
        }
        if let Entry::FollowUp(f) = &entry
            && f.is_open()
        {
            due_expected.insert((f.due.number(), f.id, contact, at));
        }
        add_rollups(&mut rollups, &mut ratings, &entry);
        if let Entry::Purchase(p) = &entry {
            let day = crate::analytics::summary::utc_day(p.at.millis());
            let (s, last) = purchases
                .entry(contact)
                .or_insert_with(|| (PurchaseSummary::new(contact), i32::MIN));
            s.add(p, *last != day);
            *last = day;
        }
        let slot = recency.entry(contact).or_insert((NO_CONTACT, None));
        let (last, due) = summarise(std::slice::from_ref(&entry));
        slot.0 = slot.0.max(last);
        slot.1 = match (slot.1, due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    report.open_follow_ups = due_expected.len() as u64;
    let mut due_stored = BTreeSet::new();
    for row in txn.open_table(DUE)?.iter()? {
        let (k, v) = row?;
        let (day, id) = k.value();
        let (contact, at) = v.value();
        due_stored.insert((day, id, contact, at));
    }
    if due_stored != due_expected {
        let missing = due_expected.difference(&due_stored).count();
        let extra = due_stored.difference(&due_expected).count();
        report.problem(format!(
            "follow-up due index: {missing} missing, {extra} stale"
        ));
    }
    // The per-contact search/list record: rebuilt from the contact, its organisation's name
    // and its timeline, it must equal what is stored.
    let index = txn.open_table(CONTACT_INDEX)?;
    let mut index_bad = 0;
    for row in txn.open_table(CONTACTS)?.iter()? {
        let (k, v) = row?;
        let Ok(c) = decode::<Contact>("contact", v.value()) else {
            continue;
        };
        let org = match c.organization {
            Some(id) => match orgs.get(id)? {
                Some(o) => decode::<Organization>("organization", o.value())
                    .map(|o| o.name)
                    .unwrap_or_default(),
                None => String::new(),
            },
            None => String::new(),
        };
        let (last, due) = recency
            .get(&k.value())
            .copied()
            .unwrap_or((NO_CONTACT, None));
        let expected = index_record(&c, &org, last, due);
        if index.get(k.value())?.map(|v| v.value().to_vec()) != Some(expected) {
            index_bad += 1;
        }
    }
    if index_bad > 0 {
        report.problem(format!(
            "{index_bad} contacts' search records disagree with the contact or its timeline"
        ));
    }
    if index.len()? != contact_ids.len() as u64 {
        report.problem(format!(
            "{} search records for {} contacts",
            index.len()?,
            contact_ids.len()
        ));
    }

    // Purchase summaries: rebuilt from the timeline, they must equal what is stored.
    let mut stored_summaries = BTreeMap::new();
    for row in txn.open_table(PURCHASE_SUMMARIES)?.iter()? {
        let (k, v) = row?;
        match decode::<PurchaseSummary>("purchase summary", v.value()) {
            Ok(s) => {
                stored_summaries.insert(k.value(), s);
            }
            Err(e) => report.problem(format!("purchase summary {}: {e}", k.value())),
        }
    }
    let expected: BTreeMap<u64, PurchaseSummary> =
        purchases.into_iter().map(|(k, (s, _))| (k, s)).collect();
    if stored_summaries != expected {
        let bad = expected
            .iter()
            .filter(|(k, s)| stored_summaries.get(*k) != Some(*s))
            .count()
            + stored_summaries
                .keys()
                .filter(|k| !expected.contains_key(*k))
                .count();
        report.problem(format!(
            "{bad} purchase summaries disagree with the timeline"
        ));
    }

    // Report rollups and rating summaries: rebuilt from the timeline, they must equal what is
    // stored.
    let expected = rollups.finish();
    let mut bad = 0;
    let mut seen = 0;
    for row in txn.open_table(ROLLUPS)?.iter()? {
        let (k, v) = row?;
        let (kind, currency, day, value) = k.value();
        seen += 1;
        let stored = decode_cell(v.value());
        match (
            expected.get(&(kind, currency.to_string(), day, value.to_string())),
            stored,
        ) {
            (Some(e), Ok(s)) if *e == s => {}
            _ => bad += 1,
        }
    }
    let missing = expected.len().saturating_sub(seen - bad);
    if bad > 0 || missing > 0 {
        report.problem(format!(
            "report rollups disagree with the timeline: {bad} wrong or stale rows, {missing} missing"
        ));
    }
    let mut stored_ratings = BTreeMap::new();
    for row in txn.open_table(RATINGS)?.iter()? {
        let (k, v) = row?;
        match decode::<crate::analytics::rollup::Ratings>("rating summary", v.value()) {
            Ok(r) => {
                stored_ratings.insert(k.value(), r);
            }
            Err(e) => report.problem(format!("rating summary {}: {e}", k.value())),
        }
    }
    if stored_ratings != ratings {
        let bad = ratings
            .iter()
            .filter(|(k, r)| stored_ratings.get(*k) != Some(*r))
            .count()
            + stored_ratings
                .keys()
                .filter(|k| !ratings.contains_key(*k))
                .count();
        report.problem(format!("{bad} rating summaries disagree with the timeline"));
    }

    let audit = txn.open_table(AUDIT)?;
    report.audit_entries = audit.len()?;
    let last_audit = audit.last()?.map_or(0, |(k, _)| k.value());
    for (name, max) in [
        ("next_contact", max_contact),
        ("next_entry", max_entry),
        ("next_org", max_org),
        ("audit_seq", last_audit),
    ] {
        if counter(name)? < max {
            report.problem(format!(
                "counter {name} is behind the highest id in use ({max})"
            ));
        }
    }
    Ok(())
}

fn compare(
    report: &mut DoctorReport,
    what: &str,
    expected: &BTreeSet<(String, u64)>,
    stored: &BTreeSet<(String, u64)>,
) {
    let missing: Vec<_> = expected.difference(stored).take(3).collect();
    let stale: Vec<_> = stored.difference(expected).take(3).collect();
    if !missing.is_empty() || !stale.is_empty() {
        report.problem(format!(
            "{what}: {} missing (e.g. {:?}), {} stale (e.g. {:?})",
            expected.difference(stored).count(),
            missing,
            stored.difference(expected).count(),
            stale
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bump_marker(txn: &WriteTransaction) -> Result<(), StoreError> {
        txn.open_table(META)?.insert("migrated_marker", 7)?;
        Ok(())
    }

    #[test]
    fn migrations_run_in_order_and_newer_files_are_refused() {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        run_migrations(&db, "mem", 1, &[]).unwrap();
        let steps = [Migration {
            from: 1,
            description: "add marker",
            run: bump_marker,
            rewrites: true,
        }];
        run_migrations(&db, "mem", 2, &steps).unwrap();
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        assert_eq!(meta.get("schema_version").unwrap().unwrap().value(), 2);
        assert_eq!(meta.get("migrated_marker").unwrap().unwrap().value(), 7);
        drop(meta);
        drop(txn);
        let err = run_migrations(&db, "mem", 1, &[]).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NewerSchema {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_missing_step_is_reported_not_skipped() {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        run_migrations(&db, "mem", 1, &[]).unwrap();
        let err = run_migrations(&db, "mem", 3, &[]).unwrap_err();
        assert!(
            err.to_string().contains("no migration from schema 1"),
            "{err}"
        );
    }
}
