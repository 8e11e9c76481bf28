//! `rolo doctor --salvage OUT`: every record still readable in a damaged database, copied into
//! a new file, with a report of what was lost.
//!
//! redb refuses a file whose pages fail their checksums ("all roots are corrupted"): one
//! flipped bit in a file that was not closed cleanly locks every command out, `doctor` and
//! `backup` included. Salvage reads the file without redb's repair and without ever writing
//! to it:
//!
//! - The file is read through [`PatchedFile`], a read-only backend that shows redb a mended
//!   header (magic number and page size restored, the "needs repair" flag cleared, either
//!   commit slot made the primary). Both commits are tried; the one giving more contacts wins.
//! - Each table holding records (not the indexes, which are rebuilt) is scanned in key order.
//!   A row that redb cannot read, or that panics redb (a plain open trusts its pages), ends the
//!   scan there; the scan starts again after the damaged page by probing ever larger key steps
//!   past the last good key. A row whose bytes do not decode is counted lost.
//! - The records go into the new database the way a restore of rolo's JSON export does
//!   ([`Bulk`] in restore mode): ids, versions, stamps, the audit trail and the id counters are
//!   kept, and every index is written fresh, so the copy passes `doctor`.
//! - Timeline entries whose contact was lost cannot be kept (an entry belongs to a contact);
//!   they are counted, as are the lost contacts, named where the name index still knows them.
//!
//! Like a backup, the copy is written to an owner-only temp file and only linked to `OUT`
//! when it is complete, checked and on disk.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use redb::backends::FileBackend;
use redb::{
    Database, ReadOnlyDatabase, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable,
    StorageBackend, TableDefinition, TableHandle,
};
use serde::Serialize;

use super::audit::{AuditEntry, TrashBundle};
use super::maint::{TempGuard, create_private_temp, publish, refuse_existing};
use super::tables::*;
use super::{Bulk, COUNTERS, SCHEMA_VERSION, Store, StoreError};
use crate::domain::{Actor, At, Contact, Deal, Id, Organization, text};

/// What a salvage copied and what it could not.
#[derive(Debug, Default, Serialize)]
pub struct SalvageReport {
    pub source: String,
    pub dest: String,
    /// Which commit was read: `last` (the newest) or `previous` (the one before it).
    pub commit: String,
    /// Whether redb itself could still open the file (then the copy is a plain one).
    pub opened_by_redb: bool,
    pub copied: Tally,
    /// Rows that could not be read or decoded.
    pub unreadable: Tally,
    /// Timeline entries and deals of contacts that were lost (entries are dropped; deals are
    /// kept without their contact).
    pub orphaned_entries: u64,
    pub unlinked_deals: u64,
    /// Contacts known to have existed (from the name index) that could not be copied, with
    /// their folded names; at most [`LOST_LISTED`] are listed, `lost_contacts` counts all.
    pub lost_contacts: u64,
    pub lost_listed: Vec<LostContact>,
    /// Records read but refused by the new database (a uid two contacts claim, …).
    pub refused: Vec<String>,
    /// Where a scan met damage and how far it skipped.
    pub damage: Vec<String>,
    /// Where the damaged file's own indexes disagree with its records: a record copied from
    /// there may hold a flipped bit (or only the index was damaged; the copy's are rebuilt).
    pub suspect: Vec<String>,
    /// `doctor` on the new file found nothing wrong.
    pub copy_clean: bool,
}

#[derive(Debug, Default, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub contacts: u64,
    pub timeline_entries: u64,
    pub deals: u64,
    pub organizations: u64,
    pub trash: u64,
    pub audit_entries: u64,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.contacts
            + self.timeline_entries
            + self.deals
            + self.organizations
            + self.trash
            + self.audit_entries
    }
}

#[derive(Debug, Serialize)]
pub struct LostContact {
    pub id: Id,
    pub name: String,
}

impl SalvageReport {
    /// Nothing known to be lost.
    pub fn is_complete(&self) -> bool {
        self.unreadable.total() == 0
            && self.orphaned_entries == 0
            && self.lost_contacts == 0
            && self.refused.is_empty()
            && self.damage.is_empty()
            && self.suspect.is_empty()
    }
}

const LOST_LISTED: usize = 50;
/// The most damage and refusal lines a report keeps.
const LINES_KEPT: usize = 100;

// redb's file header (redb 4, `tree_store/page_store/header.rs`): the magic number, the god
// byte (bit 0: which commit slot is the primary, bit 1: repair needed), then the page size.
const MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
const GOD_BYTE: usize = MAGIC.len();
const PRIMARY_BIT: u8 = 1;
const RECOVERY_REQUIRED: u8 = 2;
const PAGE_SIZE_AT: usize = GOD_BYTE + 3;
const PAGE_SIZE: u32 = 4096;
const HEADER_BYTES: usize = 320;

/// The damaged file, read-only, with redb shown a mended header. Every write is refused, so
/// the source is never changed.
#[derive(Debug)]
struct PatchedFile {
    file: FileBackend,
    header: Vec<u8>,
}

fn read_only_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "salvage never writes to the damaged file",
    )
}

impl StorageBackend for PatchedFile {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.file.read(offset, out)?;
        let end = offset.saturating_add(out.len() as u64);
        let header = self.header.len() as u64;
        if offset < header {
            let upto = end.min(header);
            let (from, to) = (offset as usize, upto as usize);
            out[..to - from].copy_from_slice(&self.header[from..to]);
        }
        Ok(())
    }

    fn set_len(&self, _len: u64) -> Result<(), std::io::Error> {
        Err(read_only_error())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn write(&self, _offset: u64, _data: &[u8]) -> Result<(), std::io::Error> {
        Err(read_only_error())
    }

    // Nobody else opens this backend: every lock is granted at once.
    fn try_lock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<bool, redb::BackendError> {
        Ok(true)
    }

    fn try_lock_shared_range(
        &self,
        _: Bound<u64>,
        _: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        Ok(true)
    }

    fn lock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<(), redb::BackendError> {
        Ok(())
    }

    fn lock_shared_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<(), redb::BackendError> {
        Ok(())
    }

    fn unlock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<(), redb::BackendError> {
        Ok(())
    }

    fn query_lock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<bool, redb::BackendError> {
        Ok(false)
    }
}

thread_local! {
    /// Set while this thread runs [`guarded`]: its panics are expected, and not printed.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic (redb trusting a damaged page) into `None`. Such a panic is not
/// printed; any other panic, on this thread outside `f` or on any other thread, goes to the
/// hook that was there before (installed once, around it).
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.get() {
                previous(info);
            }
        }));
    });
    let outer = GUARDED.replace(true);
    let result = catch_unwind(AssertUnwindSafe(f)).ok();
    GUARDED.set(outer);
    result
}

/// A key a damaged scan can step past: the next candidate start `2^step` beyond `self`.
trait Probe: Copy + Ord {
    fn first() -> Self;
    fn beyond(self, step: u32) -> Option<Self>;
    fn shown(self) -> String;
}

impl Probe for u64 {
    fn first() -> Self {
        0
    }
    fn beyond(self, step: u32) -> Option<Self> {
        self.checked_add(1u64.checked_shl(step)?)
    }
    fn shown(self) -> String {
        format!("#{self}")
    }
}

/// Timeline keys step by contact: the rest of a damaged contact's timeline is given up, the
/// next contact's is read.
impl Probe for EntryKey {
    fn first() -> Self {
        (0, i64::MIN, 0)
    }
    fn beyond(self, step: u32) -> Option<Self> {
        Some((self.0.checked_add(1u64.checked_shl(step)?)?, i64::MIN, 0))
    }
    fn shown(self) -> String {
        format!("contact #{}", self.0)
    }
}

/// Scans `table` in key order, calling `visit` with every row redb can read; damage is
/// skipped (see the module comment) and noted in `damage`. An end of the scan is checked too:
/// a damaged branch page can end a range early, so rows beyond the last one read are probed
/// for before the table counts as done.
fn scan<K, P>(
    table: &ReadOnlyTable<K, &'static [u8]>,
    what: &str,
    damage: &mut Vec<String>,
    mut visit: impl FnMut(P, &[u8]),
) where
    K: redb::Key + 'static + for<'a> redb::Value<SelfType<'a> = P>,
    P: Probe + std::borrow::Borrow<P>,
{
    let mut start = P::first();
    let mut last: Option<P> = None;
    loop {
        let ended = match guarded(|| table.range::<P>(start..)) {
            Some(Ok(mut range)) => loop {
                let row = guarded(|| {
                    range.next().map(|row| {
                        row.map(|(k, v)| {
                            let key: P = k.value();
                            (key, v.value().to_vec())
                        })
                    })
                });
                match row {
                    Some(None) => break true,
                    Some(Some(Ok((key, bytes))))
                        if last.is_none_or(|l| key > l) && key >= start =>
                    {
                        visit(key, &bytes);
                        last = Some(key);
                    }
                    // An error, a panic, or keys out of order (a damaged page).
                    _ => break false,
                }
            },
            _ => false,
        };
        let from = last.unwrap_or(start);
        // After an end, only a start that finds rows goes on; after damage, one that reads.
        match probe(table, from, ended) {
            Some(next) => {
                note(
                    damage,
                    format!(
                        "{what}: {} after {}, reading on from {}",
                        if ended {
                            "the scan ended early"
                        } else {
                            "skipped damaged rows"
                        },
                        shown(last, start),
                        next.shown()
                    ),
                );
                start = next;
            }
            None if ended => return,
            None => {
                note(
                    damage,
                    format!("{what}: unreadable after {}", shown(last, start)),
                );
                return;
            }
        }
    }
}

fn shown<P: Probe>(last: Option<P>, start: P) -> String {
    match last {
        Some(k) => k.shown(),
        None if start == P::first() => "the start".into(),
        None => start.shown(),
    }
}

fn note(lines: &mut Vec<String>, line: String) {
    if lines.len() < LINES_KEPT {
        lines.push(line);
    }
}

/// The nearest start beyond `from` from which `table` reads cleanly — and, with `rows`, finds
/// a row (else an end also counts): steps of 1, 2, 4 … keys find one, then halving the last
/// step finds the nearest, so a damaged leaf costs its own rows, not the thousands of keys a
/// large step jumps. `None` when no start does.
fn probe<K, P>(table: &ReadOnlyTable<K, &'static [u8]>, from: P, rows: bool) -> Option<P>
where
    K: redb::Key + 'static + for<'a> redb::Value<SelfType<'a> = P>,
    P: Probe + std::borrow::Borrow<P>,
{
    let reads = |candidate: P| match guarded(|| {
        table
            .range::<P>(candidate..)
            .map(|mut r| r.next().map(|row| row.is_ok()))
    }) {
        Some(Ok(Some(ok))) => ok,
        Some(Ok(None)) => !rows,
        _ => false,
    };
    let mut bad = from;
    let mut good = None;
    for step in 0..64 {
        let Some(candidate) = from.beyond(step) else {
            break;
        };
        if reads(candidate) {
            good = Some((step, candidate));
            break;
        }
        bad = candidate;
    }
    let (step, mut good) = good?;
    // Between `bad` (fails) and `good` (reads): bisect on the steps below.
    for smaller in (0..step.saturating_sub(1)).rev() {
        if let Some(mid) = bad.beyond(smaller)
            && mid < good
        {
            if reads(mid) {
                good = mid;
            } else {
                bad = mid;
            }
        }
    }
    Some(good)
}

/// One way of reading the damaged file: which commit slot is shown to redb as the primary.
fn open_variant(source: &Path, header: &[u8], swap: bool) -> Option<ReadOnlyDatabase> {
    let mut patched = header.to_vec();
    patched[..MAGIC.len()].copy_from_slice(&MAGIC);
    patched[GOD_BYTE] &= !RECOVERY_REQUIRED;
    if swap {
        patched[GOD_BYTE] ^= PRIMARY_BIT;
    }
    patched[PAGE_SIZE_AT..PAGE_SIZE_AT + 4].copy_from_slice(&PAGE_SIZE.to_le_bytes());
    let file = std::fs::File::open(source).ok()?;
    let backend = PatchedFile {
        file: FileBackend::new(file).ok()?,
        header: patched,
    };
    // As a reader beside another process's writer, redb needs no allocator state (which a
    // file not closed cleanly lacks, and a read-only open would otherwise refuse).
    guarded(|| {
        Database::builder()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .open_read_only_with_backend(backend)
    })?
    .ok()
}

/// How many contacts a commit gives (to choose between the two).
fn readable_contacts(txn: &ReadTransaction) -> u64 {
    let Some(Ok(table)) = guarded(|| txn.open_table(CONTACTS)) else {
        return 0;
    };
    let mut n = 0;
    scan(&table, "contacts", &mut Vec::new(), |_: u64, _| n += 1);
    n
}

/// The commits read: the chosen one, and the other (when it opens) for tables the chosen one
/// cannot open.
struct Commits {
    main: ReadTransaction,
    other: Option<(&'static str, ReadTransaction)>,
}

/// Opens `def` from the chosen commit, else from the other one (its rows may be older),
/// noting either failure.
fn open_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    commits: &Commits,
    def: TableDefinition<K, V>,
    report: &mut SalvageReport,
) -> Option<ReadOnlyTable<K, V>> {
    match guarded(|| commits.main.open_table(def)) {
        Some(Ok(table)) => return Some(table),
        Some(Err(redb::TableError::TableDoesNotExist(_))) => return None,
        _ => {}
    }
    if let Some((name, other)) = &commits.other
        && let Some(Ok(table)) = guarded(|| other.open_table(def))
    {
        note(
            &mut report.damage,
            format!(
                "{}: unreadable in the {} commit; read from the {name} one (it may be older)",
                def.name(),
                report.commit
            ),
        );
        return Some(table);
    }
    note(
        &mut report.damage,
        format!("{}: the table itself is unreadable", def.name()),
    );
    None
}

/// A record the new database refused: a user-data problem (kept in the report), or a
/// failure of the new file itself (disk full), which ends the salvage.
fn refused(report: &mut SalvageReport, what: String, e: StoreError) -> Result<(), StoreError> {
    match e {
        StoreError::Invalid(_) | StoreError::Conflict(_) | StoreError::NotFound(_) => {
            note(&mut report.refused, format!("{what}: {e}"));
            Ok(())
        }
        other => Err(other),
    }
}

/// Copies one contact row into `bulk` (or counts why not).
fn copy_contact(
    bulk: &mut Bulk,
    report: &mut SalvageReport,
    org_names: &BTreeMap<Id, String>,
    kept: &mut BTreeSet<Id>,
    id: Id,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let contact = match decode::<Contact>("contact", bytes) {
        Ok(c) if c.id == id => c,
        _ => {
            report.unreadable.contacts += 1;
            return Ok(());
        }
    };
    let org_id = contact.organization;
    let org = org_id
        .and_then(|o| org_names.get(&o))
        .cloned()
        .unwrap_or_default();
    match bulk.restore_contact(contact, &org, org_id) {
        Ok(got) => {
            kept.insert(got);
            report.copied.contacts += 1;
            Ok(())
        }
        Err(e) => refused(report, format!("contact #{id}"), e),
    }
}

/// Copies one timeline row into `bulk` (or counts why not).
fn copy_entry(
    bulk: &mut Bulk,
    report: &mut SalvageReport,
    kept: &BTreeSet<Id>,
    key: EntryKey,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let Ok(entry) = decode_entry(key, bytes) else {
        report.unreadable.timeline_entries += 1;
        return Ok(());
    };
    if !kept.contains(&key.0) {
        report.orphaned_entries += 1;
        return Ok(());
    }
    match bulk.restore_entry(entry, true) {
        Ok(_) => {
            report.copied.timeline_entries += 1;
            Ok(())
        }
        Err(e) => refused(report, format!("timeline entry #{}", key.2), e),
    }
}

impl Store {
    /// Copies every readable record of the (possibly damaged) database at `source` into a
    /// new database at `dest` (which must not exist), reporting what was lost. `source` is
    /// only ever read.
    pub fn salvage(source: &Path, dest: &Path, actor: &Actor) -> Result<SalvageReport, StoreError> {
        let shown_source = text::visible(&source.display().to_string(), false).into_owned();
        let shown = text::visible(&dest.display().to_string(), false).into_owned();
        let cannot = |reason: String| StoreError::Open {
            path: shown_source.clone(),
            reason,
        };
        refuse_existing(dest, &shown)?;
        let mut header = vec![0; HEADER_BYTES];
        {
            use std::io::Read;
            let mut file = std::fs::File::open(source).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    StoreError::NoDatabase {
                        path: shown_source.clone(),
                    }
                } else {
                    cannot(e.to_string())
                }
            })?;
            file.read_exact(&mut header)
                .map_err(|_| cannot("is too short to be a rolo database".into()))?;
        }
        let mut report = SalvageReport {
            source: shown_source.clone(),
            dest: shown.clone(),
            ..SalvageReport::default()
        };
        report.opened_by_redb =
            guarded(|| Database::builder().open_read_only(source)).is_some_and(|db| db.is_ok());
        // Each commit that opens and starts a read, with the contacts it gives: the one with
        // more is read (the newer on a tie), the other stands by for unreadable tables.
        let mut commits: Vec<(u64, &'static str, ReadOnlyDatabase, ReadTransaction)> = Vec::new();
        for (name, swap) in [("last", false), ("previous", true)] {
            let Some(db) = open_variant(source, &header, swap) else {
                continue;
            };
            let Some(Ok(txn)) = guarded(|| db.begin_read()) else {
                continue;
            };
            commits.push((readable_contacts(&txn), name, db, txn));
        }
        if commits.len() == 2 && commits[1].0 > commits[0].0 {
            commits.swap(0, 1);
        }
        let mut commits = commits.into_iter();
        let Some((_, commit, _db, main)) = commits.next() else {
            return Err(cannot(
                "neither of its two commits can be read: nothing could be salvaged".into(),
            ));
        };
        let (_other_db, other) = match commits.next() {
            Some((_, name, db, txn)) => (Some(db), Some((name, txn))),
            None => (None, None),
        };
        let txn = Commits { main, other };
        report.commit = commit.into();
        if let Some(meta) = open_table(&txn, META, &mut report) {
            let version = guarded(|| meta.get("schema_version").map(|v| v.map(|v| v.value())));
            if let Some(Ok(Some(found))) = version
                && found != SCHEMA_VERSION
            {
                return Err(cannot(format!(
                    "it has schema {found} and this rolo salvages schema {SCHEMA_VERSION} only"
                )));
            }
        }

        let (temp, file) = create_private_temp(dest).map_err(|e| StoreError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let temp = TempGuard(Some(temp));
        drop(file);
        let temp_path = temp.0.clone().unwrap_or_default();
        {
            let copy = Store::open(&temp_path)?;
            copy.bulk(actor, "salvage", |bulk| {
                bulk.restoring();
                copy_records(&txn, bulk, &mut report)
            })?;
        }
        let mut copy = Store::open(&temp_path)?;
        report.copy_clean = copy.doctor()?.is_clean();
        drop(copy);
        publish(&temp, dest, &shown)?;
        Ok(report)
    }
}

/// Reads every record table of `txn` into `bulk`, in the order a restore needs
/// (organisations, contacts, their timelines, deals, trash, audit trail, counters).
fn copy_records(
    txn: &Commits,
    bulk: &mut Bulk,
    report: &mut SalvageReport,
) -> Result<(), StoreError> {
    let mut damage = Vec::new();
    let mut org_names = BTreeMap::new();
    if let Some(table) = open_table(txn, ORGS, report) {
        let mut orgs = Vec::new();
        scan(&table, "organisations", &mut damage, |_: u64, bytes| {
            orgs.push(decode::<Organization>("organisation", bytes));
        });
        for org in orgs {
            match org {
                Ok(org) => {
                    org_names.insert(org.id, org.name.clone());
                    let id = org.id;
                    match bulk.restore_organization(org) {
                        Ok(()) => report.copied.organizations += 1,
                        Err(e) => refused(report, format!("organisation #{id}"), e)?,
                    }
                }
                Err(_) => report.unreadable.organizations += 1,
            }
        }
    }

    // The contacts the name index knows: to look each up on its own where a scan missed it,
    // and to name the ones lost.
    let known: BTreeMap<Id, String> = match open_table(txn, BY_NAME, report) {
        Some(names) => guarded(|| {
            names.iter().map(|rows| {
                rows.map_while(Result::ok)
                    .map(|(k, _)| {
                        let (name, id) = k.value();
                        (id, name.to_string())
                    })
                    .collect()
            })
        })
        .and_then(Result::ok)
        .unwrap_or_default(),
        None => BTreeMap::new(),
    };
    let mut kept = BTreeSet::new();
    if let Some(table) = open_table(txn, CONTACTS, report) {
        let mut failure = None;
        scan(&table, "contacts", &mut damage, |id: u64, bytes| {
            if failure.is_none()
                && let Err(e) = copy_contact(bulk, report, &org_names, &mut kept, id, bytes)
            {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let mut found = 0;
        let missed: Vec<Id> = known
            .keys()
            .filter(|id| !kept.contains(id))
            .copied()
            .collect();
        for id in missed {
            // Only a row that decodes: one that does not was counted by the scan.
            if let Some(Ok(Some(bytes))) =
                guarded(|| table.get(id).map(|v| v.map(|v| v.value().to_vec())))
                && decode::<Contact>("contact", &bytes).is_ok()
            {
                copy_contact(bulk, report, &org_names, &mut kept, id, &bytes)?;
                found += 1;
            }
        }
        if found > 0 {
            note(
                &mut damage,
                format!(
                    "contacts: {found} the scan missed were found by looking each up on its own"
                ),
            );
        }
    }

    if let Some(table) = open_table(txn, TIMELINE, report) {
        // Rows the scan met, per contact: the check below reads again only where they differ.
        let mut seen: HashMap<Id, u32> = HashMap::new();
        let mut failure = None;
        scan(&table, "timeline", &mut damage, |key: EntryKey, bytes| {
            *seen.entry(key.0).or_default() += 1;
            if failure.is_none()
                && let Err(e) = copy_entry(bulk, report, &kept, key, bytes)
            {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        // A damaged branch page can send a scan past whole leaves without an error (keys
        // still rising). Each kept contact's timeline is looked up on its own from the root
        // too; entries only that finds are copied.
        let mut found = 0;
        for &contact in &kept {
            let rows = guarded(|| -> Result<Vec<(EntryKey, Vec<u8>)>, redb::StorageError> {
                let mut rows = Vec::new();
                for row in table.range((contact, i64::MIN, 0)..=(contact, i64::MAX, u64::MAX))? {
                    let (k, v) = row?;
                    rows.push((k.value(), v.value().to_vec()));
                }
                Ok(rows)
            });
            let Some(Ok(rows)) = rows else {
                continue;
            };
            if rows.len() as u32 <= seen.get(&contact).copied().unwrap_or(0) {
                continue;
            }
            for (key, bytes) in rows {
                let present = bulk
                    .entries_at(contact, At::from_millis(key.1))?
                    .iter()
                    .any(|e| e.id() == key.2);
                if !present {
                    copy_entry(bulk, report, &kept, key, &bytes)?;
                    found += 1;
                }
            }
        }
        if found > 0 {
            note(
                &mut damage,
                format!(
                    "timeline: {found} entries the scan missed were found by reading each contact's timeline on its own"
                ),
            );
        }
    }

    if let Some(table) = open_table(txn, DEALS, report) {
        let mut deals = Vec::new();
        scan(&table, "deals", &mut damage, |_: u64, bytes| {
            deals.push(decode::<Deal>("deal", bytes));
        });
        for deal in deals {
            let Ok(mut deal) = deal else {
                report.unreadable.deals += 1;
                continue;
            };
            if deal.contact.is_some_and(|c| !kept.contains(&c)) {
                deal.contact = None;
                report.unlinked_deals += 1;
            }
            let id = deal.id;
            match bulk.restore_deal(deal) {
                Ok(_) => report.copied.deals += 1,
                Err(e) => refused(report, format!("deal #{id}"), e)?,
            }
        }
    }

    let mut trashed = BTreeSet::new();
    if let Some(table) = open_table(txn, TRASH, report) {
        let mut bundles = Vec::new();
        scan(&table, "trash", &mut damage, |_: u64, bytes| {
            bundles.push(decode::<TrashBundle>("trash entry", bytes));
        });
        for bundle in bundles {
            let Ok(bundle) = bundle else {
                report.unreadable.trash += 1;
                continue;
            };
            let id = bundle.contact.id;
            match bulk.restore_trash(bundle) {
                Ok(()) => {
                    trashed.insert(id);
                    report.copied.trash += 1;
                }
                Err(e) => refused(report, format!("trash entry #{id}"), e)?,
            }
        }
    }

    if let Some(table) = open_table(txn, AUDIT, report) {
        let mut entries = Vec::new();
        scan(&table, "audit trail", &mut damage, |_: u64, bytes| {
            entries.push(decode::<AuditEntry>("audit entry", bytes));
        });
        for entry in entries {
            let Ok(entry) = entry else {
                report.unreadable.audit_entries += 1;
                continue;
            };
            match bulk.restore_audit(&entry) {
                Ok(()) => report.copied.audit_entries += 1,
                Err(e) => refused(report, format!("audit entry #{}", entry.seq), e)?,
            }
        }
    }

    if let Some(table) = open_table(txn, UNDONE, report) {
        let rows: Vec<(u64, u64)> = guarded(|| {
            table.iter().map(|rows| {
                rows.map_while(Result::ok)
                    .map(|(k, v)| (k.value(), v.value()))
                    .collect()
            })
        })
        .and_then(Result::ok)
        .unwrap_or_default();
        for (seq, by) in rows {
            bulk.restore_undone(seq, by)?;
        }
    }

    if let Some(meta) = open_table(txn, META, report) {
        for counter in COUNTERS {
            if let Some(Ok(Some(value))) =
                guarded(|| meta.get(*counter).map(|v| v.map(|v| v.value())))
            {
                bulk.restore_counter(counter, value)?;
            }
        }
    }

    // Contacts the name index knows that were neither copied nor in the trash: lost.
    let lost: Vec<(&Id, &String)> = known
        .iter()
        .filter(|(id, _)| !kept.contains(*id) && !trashed.contains(*id))
        .collect();
    report.lost_contacts = lost.len() as u64;
    report.lost_listed = lost
        .into_iter()
        .take(LOST_LISTED)
        .map(|(&id, name)| LostContact {
            id,
            name: text::visible(name, false).into_owned(),
        })
        .collect();
    // A flipped bit inside a record may still decode; where the damaged file's own indexes
    // disagree with its records, say so (doctor's check, run on the damaged file).
    let mut check = super::DoctorReport::default();
    if let Some(Ok(())) = guarded(|| super::maint::consistency(&txn.main, &mut check)) {
        for problem in check.problems {
            note(&mut report.suspect, problem);
        }
    } else {
        note(
            &mut report.suspect,
            "the damaged file's indexes could not be compared with its records".into(),
        );
    }
    report.lost_contacts = report.lost_contacts.max(report.unreadable.contacts);
    report.damage.extend(damage);
    report.damage.truncate(LINES_KEPT);
    Ok(())
}
