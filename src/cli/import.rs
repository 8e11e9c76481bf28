//! `rolo import`: streams records out of a vCard / CSV / JSON file and upserts them through
//! [`Store::bulk`], [`BATCH`] records per transaction (the whole file when the database has no
//! contacts yet), so memory stays flat and a failure loses at most the batch in flight (never
//! anything already stored).
//!
//! Upsert rules ([`find_match`], [`merge`]): a record matches an existing contact by uid (from
//! vCard or CSV, also a uid a merge dropped: the survivor keeps it in `merged_uid`), else
//! by any of its emails, else by a phone number *and* the same folded name — always through the
//! store's exact indexes, never a scan. One match → the record is merged into it (empty fields
//! filled, emails / phones / tags unioned, existing values kept, different notes appended). No
//! match → a new contact. Several → a *merge candidate*: nothing is written and the user decides.
//! Records earlier in the same file are visible to later ones (a bulk transaction reads its own
//! writes).
//!
//! rolo's own JSON is restored losslessly ([`JsonRecord`]: timelines, deals, consent, custom
//! fields, stamps, versions). Into an empty database (no contact, trash or audit entry) it is a
//! full restore: ids kept, no record matched against another (never by email or phone), and
//! the trash, organisations, audit trail, undone pairs and id counters the export carries come
//! back too, with no audit entry of the restore's own, so export → import → export gives the
//! same file. Into a database with contacts it merges: a JSON record whose id and creation stamp
//! equal a stored contact's is that contact (checked before the uid / email / phone rules), and
//! the file's trash / audit trail / counters are skipped with a warning. JSON restores are
//! tagged only when `--tag` is given (a restore should not change what it restores); other
//! formats get `import-YYYYMMDD-HHMM` by default.
//!
//! Every bad record is reported on stderr as `FILE:LINE: reason` (warnings as
//! `FILE:LINE: warning: …`) and the rest still imports. Exit 0 when every record landed,
//! `exit::PARTIAL` (8) when some failed or were merge candidates.
//!
//! Reading (parsing, decoding, cleaning, validating) runs on its own thread, handing prepared
//! records to the writer in chunks; the writer owns the transaction and the match logic.
//!
//! `--dry-run` runs the very same code in one transaction that is aborted
//! ([`Store::bulk_dry_run`]), so its counts are exactly what a real import would do.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::commands::StoreRef;
use super::output::{print_json, safe};
use super::{Failure, exit};
use crate::domain::{Actor, Contact, Entry, Id, limits, text};
use crate::interop::{
    self, Format, ImportOptions, ImportProblem, ImportRecord, JsonItem, JsonRecord,
};
use crate::store::{Bulk, Store, StoreError};

/// Records per write transaction. Measured on 1M vCards: 5,000 spent 17 s in the kernel
/// rewriting the same index pages batch after batch (random keys dirty a leaf per record),
/// 50,000 spent 7 s and 45 s less wall time, for ~150 MB more memory.
pub const BATCH: usize = 50_000;

/// Imports at least this big, and at least a quarter of the database, are followed by a
/// compaction (it rewrites the whole file: 11 s at 1M contacts).
const COMPACT_AFTER: u64 = 10_000;

/// What an import brings in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    /// Contacts (vCard, CSV, rolo JSON)
    #[default]
    Contacts,
    /// Order lines onto customers' timelines (CSV; Shopify / WooCommerce exports recognised)
    Purchases,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to read (vCard, CSV or rolo JSON; CSV for --kind purchases)
    pub file: PathBuf,
    /// contacts, or purchases (order lines; see the README, "Importing purchases")
    #[arg(long, value_enum, default_value_t = ImportKind::Contacts)]
    pub kind: ImportKind,
    /// With --kind purchases: the currency of amounts when the file has no currency column
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// With --kind purchases: create customers no contact matches (else they are reported)
    #[arg(long)]
    pub create_customers: bool,
    /// vcard, csv or json [default: from the file name or content]
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Report what would be created, updated and flagged without writing anything
    #[arg(long)]
    pub dry_run: bool,
    /// CSV column mapping file: TOML lines `"Column" = "field"`, e.g. `"Festnetz" = "phone.home"`
    /// (fields: see the README, "CSV column mapping")
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Tag every imported contact with BATCH [default: import-YYYYMMDD-HHMM; none for JSON]
    #[arg(long, value_name = "BATCH")]
    pub tag: Option<String>,
    /// Text encoding of the file, e.g. windows-1252, latin1, utf-16le [default: detected]
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Print a machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
    /// Records per write transaction (for measurements) [default: the whole file into an
    /// empty database, else 50000]
    #[arg(long, hide = true)]
    pub batch: Option<usize>,
    /// The name the user gave the input, when `file` is a copy of it (a pipe or
    /// `/dev/stdin` spooled by a client for its server): diagnostics and format detection
    /// use it
    #[arg(long, hide = true, value_name = "NAME")]
    pub label: Option<String>,
}

impl ImportArgs {
    /// The input as the user named it.
    pub fn shown_name(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| self.file.display().to_string())
    }

    /// The path whose extension tells the format (the user's name for a spooled copy).
    fn named_path(&self) -> std::path::PathBuf {
        self.label
            .as_ref()
            .map_or_else(|| self.file.clone(), std::path::PathBuf::from)
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// What happened to one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created(Id),
    /// Merged into an existing contact; `changed` is false when it already held everything.
    Updated {
        id: Id,
        changed: bool,
    },
    /// Several existing contacts match: nothing was written.
    Candidates(Vec<Id>),
}

/// Which existing contacts a record matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    None,
    One(Id),
    Many(Vec<Id>),
}

impl Match {
    fn from_ids(ids: BTreeSet<Id>) -> Option<Match> {
        match ids.len() {
            0 => None,
            1 => ids.into_iter().next().map(Match::One),
            _ => Some(Match::Many(ids.into_iter().collect())),
        }
    }
}

/// Uid, else emails, else phone + same folded name (see the module doc). With `merged`, a uid
/// that a merge dropped matches the contact it was merged into (files from other systems; not
/// rolo's own export, whose records are distinct contacts by construction).
pub fn find_match(bulk: &Bulk, incoming: &Contact, merged: bool) -> Result<Match, StoreError> {
    if !incoming.uid.is_empty() {
        if let Some(id) = bulk.find_by_uid(&incoming.uid)? {
            return Ok(Match::One(id));
        }
        if merged && let Some(id) = bulk.find_by_merged_uid(&incoming.uid)? {
            return Ok(Match::One(id));
        }
    }
    let mut ids = BTreeSet::new();
    for e in &incoming.emails {
        ids.extend(bulk.find_by_email(&e.value)?);
    }
    if let Some(m) = Match::from_ids(ids) {
        return Ok(m);
    }
    let name = text::sort_key(&incoming.name);
    let mut ids = BTreeSet::new();
    for p in &incoming.phones {
        for id in bulk.find_by_phone(&p.value)? {
            if ids.contains(&id) {
                continue;
            }
            if let Some(c) = bulk.contact(id)?
                && text::sort_key(&c.name) == name
            {
                ids.insert(id);
            }
        }
    }
    Ok(Match::from_ids(ids).unwrap_or(Match::None))
}

/// `incoming` folded into `existing`: empty fields filled, lists unioned, existing non-empty
/// values kept, different notes appended. The uid is taken only when `uid_free`.
#[cfg(test)]
pub fn merge(existing: &Contact, incoming: &Contact, uid_free: bool) -> Contact {
    merge_within_limits(existing, incoming, uid_free).0
}

/// [`merge`], keeping the merged contact within [`limits`]: what would not fit is left out,
/// and counted (the second value). Linear in the size of the two contacts, however many
/// values they hold (hash sets, not a scan per value), so a file whose records all share one
/// email costs the same per record at the end as at the start.
pub fn merge_within_limits(
    existing: &Contact,
    incoming: &Contact,
    uid_free: bool,
) -> (Contact, usize) {
    use std::collections::HashSet;
    let mut dropped = 0;
    let mut m = existing.clone();
    for (target, value) in [
        (&mut m.given_name, &incoming.given_name),
        (&mut m.family_name, &incoming.family_name),
        (&mut m.title, &incoming.title),
        (&mut m.language, &incoming.language),
        (&mut m.tier, &incoming.tier),
        (&mut m.owner, &incoming.owner),
        (&mut m.source, &incoming.source),
    ] {
        if target.is_empty() {
            target.clone_from(value);
        }
    }
    if m.uid.is_empty() && uid_free {
        m.uid.clone_from(&incoming.uid);
    }
    let mut seen: HashSet<String> = m.emails.iter().map(|x| text::email_key(&x.value)).collect();
    for e in &incoming.emails {
        if seen.insert(text::email_key(&e.value)) {
            if m.emails.len() < limits::POINTS {
                m.emails.push(e.clone());
            } else {
                dropped += 1;
            }
        }
    }
    // A phone without digits is told apart by its text.
    let phone_key = |value: &str| {
        let key = text::phone_key(value);
        if key.is_empty() {
            format!("\0{value}")
        } else {
            key
        }
    };
    let mut seen: HashSet<String> = m.phones.iter().map(|x| phone_key(&x.value)).collect();
    for p in &incoming.phones {
        if seen.insert(phone_key(&p.value)) {
            if m.phones.len() < limits::POINTS {
                m.phones.push(p.clone());
            } else {
                dropped += 1;
            }
        }
    }
    let mut seen: HashSet<String> = m.addresses.iter().map(|x| x.one_line()).collect();
    for a in &incoming.addresses {
        if seen.insert(a.one_line()) {
            if m.addresses.len() < limits::POINTS {
                m.addresses.push(a.clone());
            } else {
                dropped += 1;
            }
        }
    }
    m.birthday = m.birthday.or(incoming.birthday);
    m.preferred_channel = m.preferred_channel.or(incoming.preferred_channel);
    let mut seen: HashSet<&str> = existing.tags.iter().map(String::as_str).collect();
    for t in &incoming.tags {
        if seen.insert(t.as_str()) {
            if m.tags.len() < limits::TAGS {
                m.tags.push(t.clone());
            } else {
                dropped += 1;
            }
        }
    }
    m.tags.sort();
    for (k, v) in &incoming.custom {
        if !m.custom.contains_key(k) {
            if m.custom.len() < limits::CUSTOM_FIELDS {
                m.custom.insert(k.clone(), v.clone());
            } else {
                dropped += 1;
            }
        }
    }
    for c in &incoming.consent {
        // A CSV status column restating what the contact already says adds nothing (else every
        // re-import of a mailing tool's list would add a statement).
        let restated = c.source == interop::csv::CONSENT_COLUMN_SOURCE
            && m.consent.iter().any(|s| s.channel == c.channel)
            && m.consent_for(c.channel) == c.status;
        if !restated && !m.consent.contains(c) {
            m.consent.push(c.clone());
        }
    }
    let notes = incoming.notes.trim();
    if !notes.is_empty() && !m.notes.contains(notes) {
        // Measured in bytes (at least as many as characters): no count over the whole notes
        // on every merge.
        if m.notes.trim_end().len() + 2 + notes.len() > limits::NOTES_CHARS {
            dropped += 1;
        } else if m.notes.trim().is_empty() {
            m.notes = notes.to_string();
        } else {
            m.notes = format!("{}\n\n{notes}", m.notes.trim_end());
        }
    }
    (m, dropped)
}

/// Creates or merges one cleaned, validated contact. `organization` is the record's
/// organisation name. A record-level refusal (e.g. invalid data) is the inner `Err`.
#[cfg(test)]
pub fn upsert(
    bulk: &mut Bulk,
    incoming: Contact,
    organization: &str,
) -> Result<Result<Outcome, String>, StoreError> {
    upsert_counting(bulk, incoming, organization, &mut |_, _| {})
}

/// [`upsert`], telling `full(id, values)` when a merge left values out because the contact
/// holds the most it may ([`limits`]).
fn upsert_counting(
    bulk: &mut Bulk,
    incoming: Contact,
    organization: &str,
    full: &mut dyn FnMut(Id, usize),
) -> Result<Result<Outcome, String>, StoreError> {
    match find_match(bulk, &incoming, true)? {
        Match::None => {
            // No uid match means the uid is free.
            let id = bulk.add_contact(incoming, organization)?;
            Ok(Ok(Outcome::Created(id)))
        }
        Match::Many(ids) => Ok(Ok(Outcome::Candidates(ids))),
        Match::One(id) => {
            merge_into(bulk, id, &incoming, organization, full).map(|r| r.map(|(o, _)| o))
        }
    }
}

fn merge_into(
    bulk: &mut Bulk,
    id: Id,
    incoming: &Contact,
    organization: &str,
    full: &mut dyn FnMut(Id, usize),
) -> Result<Result<(Outcome, Contact), String>, StoreError> {
    let Some(existing) = bulk.contact(id)? else {
        return Ok(Err(format!("contact #{id} vanished")));
    };
    let uid_free = !incoming.uid.is_empty() && bulk.find_by_uid(&incoming.uid)?.is_none();
    let (merged, dropped) = merge_within_limits(&existing, incoming, uid_free);
    if dropped > 0 {
        full(id, dropped);
    }
    let org = text::clean_line(organization);
    let set_org = existing.organization.is_none() && !org.is_empty();
    if merged == existing && !set_org {
        return Ok(Ok((Outcome::Updated { id, changed: false }, existing)));
    }
    bulk.update_contact(merged.clone(), set_org.then_some(org.as_str()))?;
    Ok(Ok((Outcome::Updated { id, changed: true }, merged)))
}

/// A record read and prepared (parsed, cleaned, validated) on the reader thread.
#[allow(clippy::large_enum_variant)]
enum Incoming {
    Contact {
        line: u64,
        /// The record as a contact, or why it is not one.
        contact: Result<Contact, String>,
        organization: String,
        warnings: Vec<String>,
    },
    Json(u64, JsonItem),
    Problem(ImportProblem),
    /// After a CSV's last row: columns read through a synonym, and columns not imported that
    /// held data (see [`interop::CsvReader::unmapped`]).
    Columns {
        guessed: Vec<(String, String)>,
        unmapped: Vec<(String, u64)>,
    },
}

/// Turns a draft into a cleaned, validated, tagged contact (the CPU-heavy part of reading).
fn prepare(record: ImportRecord, tag: Option<&str>, actor: &Actor) -> Incoming {
    let ImportRecord {
        line,
        mut draft,
        warnings,
    } = record;
    let organization = std::mem::take(&mut draft.organization);
    if let Some(tag) = tag {
        draft.tags.push(tag.to_string());
    }
    Incoming::Contact {
        line,
        contact: draft.into_contact(actor).map_err(|e| e.to_string()),
        organization,
        warnings,
    }
}

/// How far the reader thread got, for the progress bar's estimate of the total.
#[derive(Default)]
struct ReadProgress {
    bytes: AtomicU64,
    records: AtomicU64,
    done: AtomicBool,
}

impl ReadProgress {
    /// The file's records, estimated from the bytes read so far (exact once all are read).
    fn estimate(&self, size: Option<u64>) -> Option<u64> {
        let records = self.records.load(Ordering::Relaxed);
        if self.done.load(Ordering::Relaxed) {
            return Some(records);
        }
        let (size, bytes) = (size?, self.bytes.load(Ordering::Relaxed));
        if bytes == 0 || records == 0 {
            return None;
        }
        Some((u128::from(records) * u128::from(size) / u128::from(bytes)) as u64)
    }
}

/// The input file, counting the bytes read.
struct Counted {
    file: File,
    progress: Arc<ReadProgress>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Records handed from the reader thread to the writer at a time.
const CHUNK: usize = 256;

/// The reader thread: parses and prepares records while the writer thread stores the previous
/// ones (the two halves cost about the same, so this nearly halves an import's time).
fn read_file(
    format: Format,
    input: BufReader<Counted>,
    options: &ImportOptions,
    tag: Option<&str>,
    actor: &Actor,
    out: &SyncSender<Vec<Incoming>>,
    json_header_checked: bool,
) -> Result<(), interop::InteropError> {
    let progress = Arc::clone(&input.get_ref().progress);
    let _done = DoneOnDrop(&progress.done);
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut push = |item: Incoming| -> bool {
        progress.records.fetch_add(1, Ordering::Relaxed);
        chunk.push(item);
        chunk.len() < CHUNK
            || out
                .send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                .is_ok()
    };
    if format == Format::Json {
        let mut reader = interop::JsonReader::new(input)?;
        if !json_header_checked {
            reader = reader.require_header_first()?;
        }
        while let Some(r) = reader.next_item() {
            let item = match r {
                Ok((line, item)) => Incoming::Json(line, item),
                Err(problem) => Incoming::Problem(problem),
            };
            if !push(item) {
                return Ok(());
            }
        }
    } else if format == Format::Csv {
        let mut rows = interop::CsvReader::new(input, options.encoding, options.mapping.clone())?;
        for r in rows.by_ref() {
            let item = match r {
                Ok(record) => prepare(record, tag, actor),
                Err(problem) => Incoming::Problem(problem),
            };
            if !push(item) {
                return Ok(());
            }
        }
        let (guessed, unmapped) = (rows.guessed().to_vec(), rows.unmapped());
        if !(guessed.is_empty() && unmapped.is_empty()) {
            push(Incoming::Columns { guessed, unmapped });
        }
    } else {
        for r in interop::read_records(format, input, options)? {
            let item = match r {
                Ok(record) => prepare(record, tag, actor),
                Err(problem) => Incoming::Problem(problem),
            };
            if !push(item) {
                return Ok(());
            }
        }
    }
    if !chunk.is_empty() {
        let _ = out.send(chunk);
    }
    Ok(())
}

/// Marks the reader finished however it ends.
struct DoneOnDrop<'a>(&'a AtomicBool);

impl Drop for DoneOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub file: String,
    pub format: String,
    pub dry_run: bool,
    pub tag: Option<String>,
    pub created: u64,
    /// Matched an existing contact (including `unchanged` ones).
    pub updated: u64,
    /// Matched, but already held everything the record said.
    pub unchanged: u64,
    pub merge_candidates: Vec<CandidateReport>,
    pub failed: Vec<LineReport>,
    pub warnings: Vec<LineReport>,
    /// CSV columns read through a synonym (`Handy` → `phone (mobile)`).
    pub guessed_columns: Vec<GuessedColumn>,
    /// CSV columns that held data but were not imported (unknown, or not in the `--map`).
    pub unmapped_columns: Vec<UnmappedColumn>,
    /// Wall-clock time of the whole import, and of the compaction at its end.
    pub seconds: f64,
    pub compact_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct CandidateReport {
    pub line: u64,
    pub name: String,
    pub candidates: Vec<Id>,
}

#[derive(Debug, Serialize)]
pub struct GuessedColumn {
    pub column: String,
    pub read_as: String,
}

#[derive(Debug, Serialize)]
pub struct UnmappedColumn {
    pub column: String,
    /// Rows with a value in it.
    pub rows: u64,
}

#[derive(Debug, Serialize)]
pub struct LineReport {
    pub line: u64,
    /// Where on the line, when the reader knows (JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    pub message: String,
}

/// The import run's state across batches.
struct Run<'a> {
    actor: &'a Actor,
    label: String,
    tag: Option<String>,
    /// Restoring into a database that never had a timeline entry: entry ids are kept.
    keep_entry_ids: Option<bool>,
    /// A rolo JSON file into an empty database (no contact, trash or audit entry): a full
    /// restore, decided at the first JSON record. Nothing is matched by email or phone, and
    /// the trash, audit trail and counters come back too.
    restore: Option<bool>,
    /// The file's trash / audit trail were skipped (not an empty database): said once.
    warned_tail: bool,
    /// Contacts that reached a [`limits`] bound while records were merged into them: (first
    /// line that did not fit, records, values left out). Said once each, at the end.
    full: std::collections::BTreeMap<Id, (u64, u64, usize)>,
    report: Report,
}

impl Run<'_> {
    /// One warning per contact that could not take everything merged into it.
    fn report_full(&mut self, store: &Store) -> Result<(), StoreError> {
        for (id, (line, records, values)) in std::mem::take(&mut self.full) {
            let name = store
                .contact(id)?
                .map(|c| c.name)
                .unwrap_or_else(|| format!("#{id}"));
            self.warn(
                line,
                &format!(
                    "{records} record(s) from here on matched #{id} {name} (by a shared uid, email or phone) and were merged into it, but it holds the most a contact may ({} emails, phones and addresses, {} tags, {} custom fields, {} characters of notes): {values} value(s) were left out; records that are different people need emails of their own",
                    limits::POINTS,
                    limits::TAGS,
                    limits::CUSTOM_FIELDS,
                    limits::NOTES_CHARS
                ),
            );
        }
        Ok(())
    }

    fn fail(&mut self, line: u64, message: String) {
        self.fail_at(line, None, message);
    }

    /// `FILE:LINE: reason`, or `FILE:LINE:COLUMN: reason` when the column is known.
    fn fail_at(&mut self, line: u64, column: Option<u64>, message: String) {
        super::progress::interrupt();
        let at = column.map(|c| format!(":{c}")).unwrap_or_default();
        warnln!("{}:{line}{at}: {}", self.label, safe(&message));
        self.report.failed.push(LineReport {
            line,
            column,
            message,
        });
    }

    fn warn(&mut self, line: u64, message: &str) {
        // Reader warnings already say `line N: …`; keep their line.
        let (line, message) = match message
            .strip_prefix("line ")
            .and_then(|rest| rest.split_once(": "))
            .and_then(|(n, m)| n.parse::<u64>().ok().map(|n| (n, m)))
        {
            Some((n, m)) => (n, m.to_string()),
            None => (line, message.to_string()),
        };
        super::progress::interrupt();
        warnln!("{}:{line}: warning: {}", self.label, safe(&message));
        self.report.warnings.push(LineReport {
            line,
            column: None,
            message,
        });
    }

    fn record(&mut self, line: u64, name: &str, outcome: Outcome) {
        match outcome {
            Outcome::Created(_) => self.report.created += 1,
            Outcome::Updated { changed, .. } => {
                self.report.updated += 1;
                if !changed {
                    self.report.unchanged += 1;
                }
            }
            Outcome::Candidates(ids) => {
                let list: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
                super::progress::interrupt();
                warnln!(
                    "{}:{line}: merge candidate: {} matches {} — nothing imported; merge those (`rolo merge {}`), then import again",
                    self.label,
                    safe(name),
                    list.join(", "),
                    ids.iter()
                        .take(2)
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                self.report.merge_candidates.push(CandidateReport {
                    line,
                    name: name.to_string(),
                    candidates: ids,
                });
            }
        }
    }

    fn process(&mut self, bulk: &mut Bulk, item: Incoming) -> Result<(), StoreError> {
        match item {
            Incoming::Problem(problem) => {
                self.fail_at(problem.line, problem.column, problem.message);
            }
            Incoming::Contact {
                line,
                contact,
                organization,
                warnings,
            } => {
                for w in &warnings {
                    self.warn(line, w);
                }
                match contact {
                    Ok(contact) => self.contact(bulk, line, contact, &organization)?,
                    Err(message) => self.fail(line, message),
                }
            }
            Incoming::Json(line, item) => {
                let restore = match self.restore {
                    Some(r) => r,
                    None => {
                        let r = bulk.is_empty()?;
                        self.restore = Some(r);
                        r
                    }
                };
                if restore {
                    bulk.restoring();
                }
                match item {
                    JsonItem::Contact(record) => self.json(bulk, line, record, restore)?,
                    _ if !restore => {
                        if !self.warned_tail {
                            self.warned_tail = true;
                            self.warn(
                                line,
                                "the file's trash, audit trail and id counters were not imported: \
                                 they are restored only into an empty database (its contacts \
                                 were merged into the existing ones)",
                            );
                        }
                    }
                    JsonItem::Trash(bundle) => {
                        if let Err(e) = bulk.restore_trash(bundle) {
                            self.fail(line, e.to_string());
                        }
                    }
                    JsonItem::Organization(org) => bulk.restore_organization(org)?,
                    JsonItem::Audit(entry) => {
                        if let Err(e) = bulk.restore_audit(&entry) {
                            self.fail(line, e.to_string());
                        }
                    }
                    JsonItem::Undone(seq, by) => bulk.restore_undone(seq, by)?,
                    JsonItem::Counters(counters) => {
                        for (name, value) in counters {
                            bulk.restore_counter(&name, value)?;
                        }
                    }
                }
            }
            Incoming::Columns { guessed, unmapped } => self.columns(guessed, unmapped),
        }
        Ok(())
    }

    /// Says how the CSV's columns were read: the guesses, and what was left behind with how
    /// to bring it in.
    fn columns(&mut self, guessed: Vec<(String, String)>, unmapped: Vec<(String, u64)>) {
        if !guessed.is_empty() {
            let list: Vec<String> = guessed
                .iter()
                .map(|(c, what)| format!("`{}` as {what}", safe(c)))
                .collect();
            super::progress::interrupt();
            warnln!("{}: read column {}", self.label, list.join(", "));
        }
        if !unmapped.is_empty() {
            let list: Vec<String> = unmapped
                .iter()
                .map(|(c, rows)| {
                    format!(
                        "`{}` ({rows} {})",
                        safe(c),
                        if *rows == 1 { "row" } else { "rows" }
                    )
                })
                .collect();
            let example = unmapped.first().map_or("Column", |(c, _)| c.as_str());
            let key: String = example
                .to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join("_")
                .replace('"', "");
            super::progress::interrupt();
            warnln!(
                "{}: warning: not imported: column {}; to bring {} in, name {} in a mapping file \
                 (a line like `\"{}\" = \"custom.{}\"`, or another field) and import again with --map FILE \
                 (the fields are listed in the README, \"CSV column mapping\")",
                self.label,
                list.join(", "),
                if unmapped.len() == 1 { "it" } else { "them" },
                if unmapped.len() == 1 { "it" } else { "them" },
                safe(example).replace('"', "\\\""),
                safe(&key),
            );
        }
        self.report.guessed_columns.extend(
            guessed
                .into_iter()
                .map(|(column, read_as)| GuessedColumn { column, read_as }),
        );
        self.report.unmapped_columns.extend(
            unmapped
                .into_iter()
                .map(|(column, rows)| UnmappedColumn { column, rows }),
        );
    }

    fn contact(
        &mut self,
        bulk: &mut Bulk,
        line: u64,
        incoming: Contact,
        organization: &str,
    ) -> Result<(), StoreError> {
        let name = incoming.name.clone();
        let full = &mut self.full;
        let mut note_full = |id: Id, dropped: usize| {
            let entry = full.entry(id).or_insert((line, 0, 0));
            entry.1 += 1;
            entry.2 += dropped;
        };
        match upsert_counting(bulk, incoming, organization, &mut note_full)? {
            Ok(outcome) => self.record(line, &name, outcome),
            Err(message) => self.fail(line, message),
        }
        Ok(())
    }

    fn json(
        &mut self,
        bulk: &mut Bulk,
        line: u64,
        record: JsonRecord,
        restore: bool,
    ) -> Result<(), StoreError> {
        let keep_entry_ids = match self.keep_entry_ids {
            Some(k) => k,
            None => {
                let k = bulk.counter("next_entry")? == 0;
                self.keep_entry_ids = Some(k);
                k
            }
        };
        let JsonRecord {
            mut contact,
            organization,
            timeline,
            deals,
        } = record;
        let organization = organization.unwrap_or_default();
        let original_org = contact.organization;
        if let Some(tag) = &self.tag {
            contact.tags.push(tag.clone());
        }
        contact.clean();
        if let Err(e) = contact.validate() {
            self.fail(line, e.to_string());
            return Ok(());
        }
        let name = contact.name.clone();
        // rolo's own record: the same id created at the same instant by the same agent is the
        // same contact (how a contact with only a name is recognised on a second restore).
        // A restore into an empty database matches nothing: every record is its own contact,
        // whatever emails or phones it shares with another (people do share them).
        let same_record = match bulk.contact(contact.id)? {
            _ if restore => Match::None,
            Some(c) if contact.id != 0 && c.created == contact.created => Match::One(c.id),
            _ => find_match(bulk, &contact, false)?,
        };
        let (outcome, id, org_id) = match same_record {
            Match::Many(ids) => {
                self.record(line, &name, Outcome::Candidates(ids));
                return Ok(());
            }
            Match::None => {
                let id = bulk.restore_contact(contact, &organization, original_org)?;
                let org = bulk.contact(id)?.and_then(|c| c.organization);
                (Outcome::Created(id), id, org)
            }
            Match::One(id) => match merge_into(bulk, id, &contact, &organization, &mut |id, n| {
                let entry = self.full.entry(id).or_insert((line, 0, 0));
                entry.1 += 1;
                entry.2 += n;
            })? {
                Ok((outcome, merged)) => (outcome, id, merged.organization),
                Err(message) => {
                    self.fail(line, message);
                    return Ok(());
                }
            },
        };
        let fresh = matches!(outcome, Outcome::Created(_));
        for mut entry in timeline {
            entry.set_contact(id);
            if let Err(e) = entry.clean() {
                self.warn(
                    line,
                    &format!("{} #{} skipped: {e}", entry.kind(), entry.id()),
                );
                continue;
            }
            if !fresh && already_there(bulk, &entry)? {
                continue;
            }
            bulk.restore_entry(entry, keep_entry_ids)?;
        }
        let existing_deals = if fresh {
            Vec::new()
        } else {
            bulk.deals_of(id)?
        };
        for mut deal in deals {
            if let Err(e) = deal.clean() {
                self.warn(line, &format!("deal #{} skipped: {e}", deal.id));
                continue;
            }
            if existing_deals.iter().any(|d| d.title == deal.title) {
                continue;
            }
            deal.contact = Some(id);
            if deal.organization.is_some() && deal.organization == original_org {
                deal.organization = org_id;
            }
            bulk.restore_deal(deal)?;
        }
        self.record(line, &name, outcome);
        Ok(())
    }
}

/// Whether the contact's timeline already holds this entry (same time and content, any id).
fn already_there(bulk: &Bulk, entry: &Entry) -> Result<bool, StoreError> {
    let mut probe = entry.clone();
    probe.set_id(0);
    Ok(bulk
        .entries_at(entry.contact(), entry.at())?
        .into_iter()
        .any(|mut e| {
            e.set_id(0);
            e == probe
        }))
}

fn input_failure(label: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(exit::INVALID, format!("{label}: {e}"))
}

/// A rolo JSON file's header (`format`, `version`) is checked before any record is imported,
/// wherever in the file it is (a second read of a regular file; see
/// [`interop::check_header_anywhere`]): a file from elsewhere or from a newer rolo imports
/// nothing. `Ok(false)` when the file cannot be read twice (a pipe): its reader then insists
/// on the header coming first.
fn check_json_header(path: &std::path::Path, label: &str) -> Result<bool, Failure> {
    let is_file = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if !is_file {
        return Ok(false);
    }
    let file = File::open(path)
        .map_err(|e| Failure::new(exit::NOT_FOUND, format!("cannot open {label}: {e}")))?;
    interop::check_header_anywhere(BufReader::with_capacity(256 * 1024, file))
        .map_err(|e| Failure::new(exit::INVALID, format!("{label}: {e}; nothing was imported")))?;
    Ok(true)
}

/// What can be refused before the database is touched: the file opens, its format is known
/// (or given), the encoding and column map are valid. Run by a client before it hands the
/// import to the server, so a bad file never starts a server or creates a database.
pub fn preflight(args: &ImportArgs) -> Result<(), Failure> {
    let label = args.shown_name();
    let file = File::open(&args.file)
        .map_err(|e| Failure::new(exit::NOT_FOUND, format!("cannot open {label}: {e}")))?;
    let mut input = BufReader::with_capacity(64 * 1024, file);
    let head = input
        .fill_buf()
        .map_err(|e| Failure::new(exit::ERROR, format!("cannot read {label}: {e}")))?;
    let format = match args.format {
        Some(f) => f,
        None => Format::detect(Some(&args.named_path()), head).ok_or_else(|| {
            input_failure(&label, interop::InteropError::UnknownFormat(label.clone()))
        })?,
    };
    // Not one card in sight (UTF-16 without a byte-order mark, binary, plain notes): said
    // here, as the import itself would, before a server is started or a file created. A
    // byte-order mark or an --encoding leaves the decision to the import.
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF])
        || head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF]);
    let has_card = head
        .windows(11)
        .any(|w| w.eq_ignore_ascii_case(b"BEGIN:VCARD"));
    if format == Format::Vcard && args.encoding.is_none() && !bom && !has_card {
        return Err(Failure::new(
            exit::INVALID,
            format!(
                "{}: no vCard in it ({}); nothing was imported",
                safe(&label),
                interop::encoding::describe(&head[..head.len().min(4096)])
            ),
        ));
    }
    if let Some(name) = &args.encoding
        && encoding_rs::Encoding::for_label(name.trim().as_bytes()).is_none()
    {
        return Err(Failure::new(
            exit::INVALID,
            format!(
                "`{}` is not a text encoding (try utf-8, windows-1252, latin1, utf-16le)",
                safe(name)
            ),
        ));
    }
    if let Some(path) = &args.map {
        interop::ColumnMap::load(path).map_err(|e| input_failure(&label, e))?;
    }
    if format == Format::Json {
        check_json_header(&args.file, &safe(&label))?;
    }
    Ok(())
}

pub fn run(ctx: &super::commands::Context, args: ImportArgs) -> Result<(), Failure> {
    if args.kind == ImportKind::Purchases {
        return super::purchases::run(ctx, args);
    }
    let started = Instant::now();
    // Every message names the file: shown with its control characters visible (a file name
    // can hold an escape sequence, issue 14).
    let label = safe(&args.shown_name()).into_owned();
    let file = File::open(&args.file)
        .map_err(|e| Failure::new(exit::NOT_FOUND, format!("cannot open {label}: {e}")))?;
    let size = file.metadata().ok().map(|m| m.len()).filter(|n| *n > 0);
    let read_progress = Arc::new(ReadProgress::default());
    let counted = Counted {
        file,
        progress: Arc::clone(&read_progress),
    };
    let mut input = BufReader::with_capacity(256 * 1024, counted);
    // Kept to say what the file looks like when no record comes out of it.
    let head: Vec<u8> = {
        let buf = input
            .fill_buf()
            .map_err(|e| Failure::new(exit::ERROR, format!("cannot read {label}: {e}")))?;
        buf[..buf.len().min(4096)].to_vec()
    };
    let format = match args.format {
        Some(f) => f,
        None => {
            let head = input
                .fill_buf()
                .map_err(|e| Failure::new(exit::ERROR, format!("cannot read {label}: {e}")))?;
            Format::detect(Some(&args.named_path()), head).ok_or_else(|| {
                input_failure(&label, interop::InteropError::UnknownFormat(label.clone()))
            })?
        }
    };
    let encoding = match &args.encoding {
        Some(name) => Some(
            encoding_rs::Encoding::for_label(name.trim().as_bytes()).ok_or_else(|| {
                Failure::new(
                    exit::INVALID,
                    format!(
                        "`{}` is not a text encoding (try utf-8, windows-1252, latin1, utf-16le)",
                        safe(name)
                    ),
                )
            })?,
        ),
        None => None,
    };
    let mapping = match &args.map {
        Some(path) => Some(interop::ColumnMap::load(path).map_err(|e| input_failure(&label, e))?),
        None => None,
    };
    let options = ImportOptions { encoding, mapping };
    let json_header_checked = format == Format::Json && check_json_header(&args.file, &label)?;
    let tag = match (&args.tag, format) {
        (Some(t), _) => Some(text::clean_tag(t)).filter(|t| !t.is_empty()),
        (None, Format::Json) => None,
        (None, _) => Some(default_tag()),
    };
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Incoming>>(64);
        let reader = {
            let (options, tag, actor) = (&options, tag.as_deref(), &ctx.actor);
            scope.spawn(move || {
                read_file(
                    format,
                    input,
                    options,
                    tag,
                    actor,
                    &sender,
                    json_header_checked,
                )
            })
        };
        let mut records = receiver.into_iter().flatten().peekable();
        if records.peek().is_none() {
            // Nothing came: a header problem (reported before the database is touched) or an
            // empty file.
            match reader.join() {
                Ok(Err(e)) => return Err(input_failure(&label, e)),
                Ok(Ok(())) => {}
                Err(_) => return Err(Failure::new(exit::ERROR, "the file reader crashed")),
            }
            // Not one card, not even a broken one: say what the file is instead of
            // "created 0" (issue 14).
            if format == Format::Vcard {
                return Err(Failure::new(
                    exit::INVALID,
                    format!(
                        "{}: no vCard in it ({}); nothing was imported",
                        safe(&label),
                        interop::encoding::describe(&head)
                    ),
                ));
            }
        }
        // A dry run against a database that does not exist yet must not create it.
        let store = if args.dry_run && !ctx.db_path.exists() {
            StoreRef::Owned(crate::server::Service::new(Store::in_memory()?, false))
        } else {
            ctx.store(true, true)?
        };
        let mut run = Run {
            actor: &ctx.actor,
            label: label.clone(),
            tag: tag.clone(),
            keep_entry_ids: None,
            restore: None,
            warned_tail: false,
            full: std::collections::BTreeMap::new(),
            report: Report {
                file: label.clone(),
                format: format.name().into(),
                dry_run: args.dry_run,
                tag: tag.clone(),
                ..Report::default()
            },
        };
        // Into an empty database the whole file is one transaction: the store writes its
        // held-back index rows once, in key order, into empty tables (see store::deferred),
        // and an interrupted import leaves the database as empty as it found it.
        let batch = match args.batch {
            Some(n) => n.max(1),
            None if store.contact_count()? == 0 => usize::MAX,
            None => BATCH,
        };
        let estimate = || read_progress.estimate(size);
        let imported = import_records(
            &store,
            &mut run,
            &mut records,
            args.dry_run,
            batch,
            &estimate,
        );
        store.announce();
        imported?;
        run.report_full(&store)?;
        finish(store, run.report, &args, started)
    })
}

fn finish(
    store: StoreRef,
    mut report: Report,
    args: &ImportArgs,
    started: Instant,
) -> Result<(), Failure> {
    let label = report.file.clone();
    let landed = report.created + report.updated;
    if !args.dry_run && landed >= COMPACT_AFTER && landed * 4 >= store.contact_count()? {
        let t = Instant::now();
        super::progress::spin("compacting the database", || store.compact())?;
        report.compact_seconds = t.elapsed().as_secs_f64();
    }
    report.seconds = started.elapsed().as_secs_f64();
    if args.json {
        print_json(&report)?;
    } else {
        outln!(
            "{}created {}, updated {}, merge candidates {}, failed {}",
            if args.dry_run {
                "dry run, nothing written: "
            } else {
                ""
            },
            report.created,
            report.updated,
            report.merge_candidates.len(),
            report.failed.len()
        );
    }
    if report.failed.is_empty() && report.merge_candidates.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            exit::PARTIAL,
            format!(
                "{label}: {} record(s) not imported (listed above)",
                report.failed.len() + report.merge_candidates.len()
            ),
        ))
    }
}

/// Feeds `records` through `run` in batches of `batch_size` (one transaction for a dry run, so
/// later records see earlier ones exactly as in a real import). On a terminal a progress bar
/// shows the count, the rate and the time left against `estimate` (the file's records, known
/// better as it is read).
fn import_records(
    store: &Store,
    run: &mut Run,
    records: &mut std::iter::Peekable<impl Iterator<Item = Incoming>>,
    dry_run: bool,
    batch_size: usize,
    estimate: &dyn Fn() -> Option<u64>,
) -> Result<(), Failure> {
    let description = match &run.tag {
        Some(tag) => format!("import {}, tagged {tag}", run.label),
        None => format!("import {}", run.label),
    };
    let restore = run.report.format == "json";
    let mut bar = super::progress::Bar::new(
        format!(
            "{}{} {}",
            if dry_run { "dry run: " } else { "" },
            if restore { "restore" } else { "import" },
            safe(&run.label)
        ),
        "records",
        estimate(),
    );
    let actor = run.actor;
    let mut seen = 0u64;
    while records.peek().is_some() {
        let limit = if dry_run { usize::MAX } else { batch_size };
        let batch = |bulk: &mut Bulk| -> Result<u64, StoreError> {
            let mut n = 0;
            for item in records.by_ref().take(limit) {
                let counts = !matches!(item, Incoming::Columns { .. });
                if counts && (seen + n) % 64 == 0 {
                    bar.set_total(estimate());
                    bar.set(seen + n);
                }
                run.process(bulk, item)?;
                n += u64::from(counts);
            }
            Ok(n)
        };
        let result = if dry_run {
            store.bulk_dry_run(actor, &description, batch)
        } else {
            store.bulk(actor, &description, batch)
        };
        let n = result.map_err(|e| {
            let failure = Failure::from(e);
            Failure::new(
                failure.code,
                format!(
                    "{}: stopped in the batch after record {seen}: {}; {}",
                    run.label,
                    failure.message,
                    if dry_run || seen == 0 {
                        "nothing was imported".to_string()
                    } else {
                        format!("the {seen} records before it were imported")
                    }
                ),
            )
        })?;
        seen += n;
    }
    bar.finish();
    Ok(())
}

/// `import-YYYYMMDD-HHMM` in local time.
fn default_tag() -> String {
    let local = crate::domain::At::now().local_display(); // `YYYY-MM-DD HH:MM`
    let digits: String = local.chars().filter(char::is_ascii_digit).collect();
    let (day, time) = digits.split_at(digits.len().min(8));
    format!("import-{day}-{time}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactDraft, Labelled};

    fn contact(name: &str, email: &str) -> Contact {
        let mut draft = ContactDraft {
            name: name.into(),
            ..ContactDraft::default()
        };
        if !email.is_empty() {
            draft.emails.push(Labelled::new("work", email));
        }
        draft.into_contact(&Actor::new("test")).unwrap()
    }

    #[test]
    fn merge_fills_gaps_and_keeps_what_is_there() {
        let mut existing = contact("Ana Lima", "ana@example.com");
        existing.title = "CEO".into();
        existing.notes = "Met at the fair".into();
        existing.tags = vec!["vip".into()];
        let mut incoming = contact("Ana Lima", "ANA@example.com");
        incoming.title = "Intern".into();
        incoming.language = "pt".into();
        incoming.emails.push(Labelled::new("home", "ana@home.org"));
        incoming
            .phones
            .push(Labelled::new("mobile", "+351 91 234 5678"));
        incoming.tags = vec!["import-x".into()];
        incoming.notes = "Prefers mornings".into();
        incoming.uid = "abc".into();
        let m = merge(&existing, &incoming, true);
        assert_eq!(m.title, "CEO", "existing values are kept");
        assert_eq!(m.language, "pt", "empty fields are filled");
        assert_eq!(m.emails.len(), 2, "emails are unioned, case-insensitively");
        assert_eq!(m.phones.len(), 1);
        assert_eq!(m.tags, vec!["import-x".to_string(), "vip".to_string()]);
        assert_eq!(m.notes, "Met at the fair\n\nPrefers mornings");
        assert_eq!(m.uid, "abc");
        // Merging again changes nothing.
        assert_eq!(merge(&m, &incoming, true), m);
        assert_eq!(merge(&existing, &incoming, false).uid, "");
    }

    #[test]
    fn merges_stop_at_the_limits_and_count_what_was_left_out() {
        let mut existing = contact("Ana Lima", "ana@example.com");
        for i in 0..limits::POINTS {
            existing
                .phones
                .push(Labelled::new("", &format!("+1 555 {i:04}")));
        }
        existing.notes = "x".repeat(limits::NOTES_CHARS - 10);
        let mut incoming = contact("Ana Lima", "ana@example.com");
        incoming.phones.push(Labelled::new("", "+1 555 0003")); // already there
        incoming.phones.push(Labelled::new("", "+1 777 0000")); // no room
        incoming
            .emails
            .push(Labelled::new("home", "ana@home.example")); // room
        incoming.notes = "a note too long to fit".into();
        let (m, dropped) = merge_within_limits(&existing, &incoming, false);
        assert_eq!(m.phones.len(), limits::POINTS);
        assert_eq!(m.emails.len(), 2);
        assert_eq!(m.notes, existing.notes);
        assert_eq!(dropped, 2, "the new phone and the note");
        assert!(m.validate().is_ok());
        let mut over = m.clone();
        over.phones.push(Labelled::new("", "+1 777 0000"));
        assert!(over.validate().is_err(), "51 phones must be refused");
    }

    #[test]
    fn upsert_creates_then_updates_then_flags_ambiguity() {
        let store = Store::in_memory().unwrap();
        let actor = Actor::new("test");
        store
            .bulk(&actor, "test", |bulk| {
                let a = upsert(bulk, contact("Ana Lima", "ana@example.com"), "Acme")?.unwrap();
                let Outcome::Created(a) = a else {
                    panic!("{a:?}")
                };
                // Visible within the same transaction.
                let again = upsert(bulk, contact("Ana Lima", "ana@example.com"), "")?.unwrap();
                assert_eq!(
                    again,
                    Outcome::Updated {
                        id: a,
                        changed: false
                    }
                );
                let b = upsert(bulk, contact("Bo Chen", "bo@example.com"), "")?.unwrap();
                let Outcome::Created(b) = b else {
                    panic!("{b:?}")
                };
                let mut both = contact("Ana or Bo", "ana@example.com");
                both.emails.push(Labelled::new("work", "bo@example.com"));
                assert_eq!(
                    upsert(bulk, both, "")?.unwrap(),
                    Outcome::Candidates(vec![a, b])
                );
                // Phone only: matched by phone and the same name, kept when new.
                let mut phone = contact("Cy Diaz", "");
                phone
                    .phones
                    .push(Labelled::new("mobile", "+33 4 72 55 01 23"));
                let Outcome::Created(c) = upsert(bulk, phone.clone(), "")?.unwrap() else {
                    panic!("phone-only contact not created")
                };
                assert_eq!(find_match(bulk, &phone, true)?, Match::One(c));
                phone.name = "Someone Else".into();
                assert_eq!(find_match(bulk, &phone, true)?, Match::None);
                Ok(())
            })
            .unwrap();
        assert_eq!(store.contact_count().unwrap(), 3);
    }

    #[test]
    fn a_taken_uid_matches_instead_of_failing() {
        let store = Store::in_memory().unwrap();
        let actor = Actor::new("test");
        store
            .bulk(&actor, "test", |bulk| {
                let mut first = contact("Ana Lima", "ana@example.com");
                first.uid = "u-1".into();
                let Outcome::Created(a) = upsert(bulk, first, "")?.unwrap() else {
                    panic!()
                };
                let mut second = contact("Ana L.", "other@example.com");
                second.uid = "u-1".into();
                let outcome = upsert(bulk, second, "")?.unwrap();
                assert_eq!(
                    outcome,
                    Outcome::Updated {
                        id: a,
                        changed: true
                    }
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn dry_run_writes_nothing() {
        let store = Store::in_memory().unwrap();
        let actor = Actor::new("test");
        store
            .bulk_dry_run(&actor, "test", |bulk| {
                upsert(bulk, contact("Ana Lima", "ana@example.com"), "Acme")?.unwrap();
                Ok(())
            })
            .unwrap();
        assert_eq!(store.contact_count().unwrap(), 0);
    }
}
