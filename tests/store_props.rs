//! A seeded property test of the store (issue 14 item 21): random sequences of adds, edits,
//! logged calls, follow-ups, purchases, deals, merges, deletes, restores, undos and bulk loads
//! (imports, dry runs) by three agents, with shared emails, phones, tags, uids and names in
//! many scripts, so that merges, uid refusals and index collisions happen all the time.
//!
//! After every step:
//! - `doctor` is clean (every index agrees with the records), plus a few invariants doctor
//!   does not check (deals by contact, trash versus the list);
//! - a refused action (not found, stale, conflict, invalid, nothing/cannot undo) changed
//!   nothing at all: every record, index lookup, id counter and the audit trail are as before;
//! - a successful undo of the latest action still in effect gives back exactly the state from
//!   before that action, apart from what undo documents it changes: versions and last-updated
//!   stamps move on, organisations created on the way stay, a contact whose creation is undone
//!   goes to the trash, the audit trail and id counters only grow, and the index row of a uid
//!   merged away may end up with another contact that lists it (doctor allows either; see
//!   `after_undo`);
//! - undo takes back the actor's own last action (modelled here), refuses a bulk load, and has
//!   nothing to undo when the actor's actions are all undone.
//!
//! The file-backed run is also closed and reopened midway (and now and then), and must read
//! back exactly what it held.
//!
//! `ROLO_PROPS_SEED` (decimal or 0x-hex) picks the sequence, `ROLO_PROPS_STEPS` its length in
//! memory and `ROLO_PROPS_FILE_STEPS` for the file. A failure prints the seed, the step, the
//! last operations and the command that replays it; the whole history goes to a file in the
//! temp folder. `ROLO_PROPS_PROGRESS=1` prints the time and size every 250 steps. The defaults
//! (1,500 steps in memory, 600 on file, run side by side) take 15–30 s in a debug build on a
//! two-core machine; with `--nocapture` each run ends with counts of every operation, accepted
//! and refused (by error), so a generator change that stops exercising something shows.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::PathBuf;

use rolo::analytics::summary::PurchaseSummary;
use rolo::domain::merge::{MergeField, MergePlan, Pick};
use rolo::domain::{
    Actor, Address, At, Channel, Contact, ContactDraft, CustomValue, Day, Deal, DealStage,
    DealStatus, Direction, Entry, FollowUp, Id, Interaction, Labelled, Organization, Outcome,
    Purchase, Stage, Stamp,
};
use rolo::store::{AuditEntry, Bulk, DueItem, ListRow, Record, Store, StoreError, TrashBundle};

const DEFAULT_SEED: u64 = 0x5EED_0014_0021;
const DEFAULT_STEPS: usize = 1_500;
const DEFAULT_FILE_STEPS: usize = 600;

// ---------------------------------------------------------------------------------------------
// A small deterministic generator (splitmix64)
// ---------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with `percent` % probability.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn pick_str(&mut self, items: &[&str]) -> String {
        (*self.pick(items)).to_string()
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
                None => v.replace('_', "").parse(),
            };
            parsed.unwrap_or_else(|e| panic!("{name}={v:?} is not a number: {e}"))
        }
        _ => default,
    }
}

// ---------------------------------------------------------------------------------------------
// What the random records are made of: small pools, so values collide
// ---------------------------------------------------------------------------------------------

const NAMES: &[&str] = &[
    "Ana Horvat",
    "ana horvat",
    "Ána Hórvat",
    "Željko Kovač",
    "Zoë Ämtmann",
    "Zoe\u{308} Ämtmann",
    "Łukasz Wróbel",
    "Trần Đức",
    "李小龙",
    "José Núñez",
    "Renée O'Brien",
    "محمد علي",
    "Ιωάννης Παπαδόπουλος",
    "Ёжик Туманов",
    "  Spaced   Out  ",
    "",
];
const EMAILS: &[&str] = &[
    "ana@acme.hr",
    "ANA@Acme.hr",
    "info@example.com",
    "zeljko@kovac.hr",
    "zoë@bücher.de",
    "li@例子.中国",
    "sales@acme.hr",
    "x.y@z.co",
];
const PHONES: &[&str] = &[
    "+385 91 555 0101",
    "+385915550101",
    "(555) 000-1111",
    "555.000.1111",
    "+44 20 7946 0000",
    "020 7946 0000",
];
const TAGS: &[&str] = &[
    "vip",
    "VIP",
    "#lead",
    "kunde-ä",
    "b2b",
    "imported",
    "čokolada",
    "İstanbul",
];
const UIDS: &[&str] = &[
    "uid-1",
    "uid-2",
    "urn:uuid:ana",
    "uid-ж",
    "uid,comma",
    "uid\\back",
];
const ORGS: &[&str] = &["Acme", "ACME", "Ácme", "Bücher GmbH", "北京公司", ""];
const SUMMARIES: &[&str] = &[
    "Called about the renewal",
    "Rückruf wegen Angebot",
    "Pozvao oko ponude — čeka odgovor",
    "电话跟进",
    "Left a voicemail",
];
const NOTES: &[&str] = &[
    "",
    "Prefers mornings.",
    "Ne zvati petkom.\nMail first.",
    "喜欢邮件",
];
const CITIES: &[&str] = &["Zagreb", "Köln", "Łódź", "東京"];
const PRODUCTS: &[&str] = &["Espresso machine", "Mlinac za kavu", "Kaffeebohnen 1 kg"];

/// 2026-01-01 00:00 UTC.
const BASE_MS: i64 = 1_767_225_600_000;
/// 2026-01-01 as days since 1970-01-01.
const BASE_DAY: i32 = 20_454;

fn day(offset: i32) -> Day {
    Day::from_number(BASE_DAY + offset)
}

// ---------------------------------------------------------------------------------------------
// The observable state
// ---------------------------------------------------------------------------------------------

/// Everything the store's read API shows: records, lists, index lookups for every key the
/// pools can produce, and the audit trail's length and counters.
#[derive(Clone, Debug, PartialEq)]
struct Snap {
    contacts: BTreeMap<Id, Contact>,
    entries: Vec<Entry>,
    deals: BTreeMap<Id, Deal>,
    trash: BTreeMap<Id, TrashBundle>,
    orgs: BTreeMap<Id, Organization>,
    /// Organisation lookups by name (for the pool's names).
    org_names: BTreeMap<String, Option<Id>>,
    order: Vec<Id>,
    rows: Vec<ListRow>,
    due: Vec<DueItem>,
    purchase_summaries: Vec<PurchaseSummary>,
    search_records: BTreeMap<Id, Option<Vec<u8>>>,
    summaries: BTreeMap<Id, (Option<At>, Option<Day>)>,
    history_counts: BTreeMap<Id, usize>,
    lookups: BTreeMap<String, Vec<Id>>,
    counters: BTreeMap<String, u64>,
    last_audit: u64,
    undone: usize,
}

fn blank_stamp() -> Stamp {
    Stamp {
        at: At::from_millis(0),
        by: String::new(),
    }
}

fn norm_contact(c: &Contact) -> Contact {
    Contact {
        version: 0,
        updated: blank_stamp(),
        ..c.clone()
    }
}

fn norm_deal(d: &Deal) -> Deal {
    Deal {
        version: 0,
        ..d.clone()
    }
}

impl Snap {
    /// Without what undo documents it changes: versions and last-updated stamps, trash
    /// stamps, counters, the audit trail, and organisations (compared apart: they only grow).
    fn normalized(&self) -> Snap {
        let mut s = self.clone();
        s.contacts.values_mut().for_each(|c| *c = norm_contact(c));
        s.deals.values_mut().for_each(|d| *d = norm_deal(d));
        for b in s.trash.values_mut() {
            b.contact = norm_contact(&b.contact);
            b.deals.iter_mut().for_each(|d| *d = norm_deal(d));
            b.deleted = blank_stamp();
        }
        s.orgs.clear();
        s.org_names.clear();
        s.counters.clear();
        s.last_audit = 0;
        s.undone = 0;
        s
    }
}

fn clip(s: String) -> String {
    const MAX: usize = 4_000;
    if s.len() <= MAX {
        return s;
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

fn diff_maps<K: Ord + Debug, V: PartialEq + Debug>(
    what: &str,
    expected: &BTreeMap<K, V>,
    actual: &BTreeMap<K, V>,
    out: &mut Vec<String>,
) {
    let keys: BTreeSet<&K> = expected.keys().chain(actual.keys()).collect();
    for k in keys {
        let (e, a) = (expected.get(k), actual.get(k));
        if e != a {
            out.push(clip(format!(
                "{what} {k:?}:\n      expected {e:?}\n      actual   {a:?}"
            )));
        }
    }
}

fn diff_values<T: PartialEq + Debug>(what: &str, expected: &T, actual: &T, out: &mut Vec<String>) {
    if expected != actual {
        out.push(clip(format!(
            "{what}:\n      expected {expected:?}\n      actual   {actual:?}"
        )));
    }
}

/// Field-by-field differences between two snapshots, readable.
fn diff(expected: &Snap, actual: &Snap) -> Vec<String> {
    let mut out = Vec::new();
    diff_maps("contact", &expected.contacts, &actual.contacts, &mut out);
    if expected.entries != actual.entries {
        let e: BTreeMap<(Id, Id), &Entry> = expected
            .entries
            .iter()
            .map(|x| ((x.contact(), x.id()), x))
            .collect();
        let a: BTreeMap<(Id, Id), &Entry> = actual
            .entries
            .iter()
            .map(|x| ((x.contact(), x.id()), x))
            .collect();
        diff_maps("timeline entry (contact, id)", &e, &a, &mut out);
        if e == a {
            out.push("timeline entries in another order".into());
        }
    }
    diff_maps("deal", &expected.deals, &actual.deals, &mut out);
    diff_maps("trash", &expected.trash, &actual.trash, &mut out);
    diff_maps("organisation", &expected.orgs, &actual.orgs, &mut out);
    diff_maps(
        "organisation by name",
        &expected.org_names,
        &actual.org_names,
        &mut out,
    );
    diff_values("list order", &expected.order, &actual.order, &mut out);
    diff_values("list rows", &expected.rows, &actual.rows, &mut out);
    diff_values("due follow-ups", &expected.due, &actual.due, &mut out);
    diff_values(
        "purchase summaries",
        &expected.purchase_summaries,
        &actual.purchase_summaries,
        &mut out,
    );
    diff_maps(
        "search record",
        &expected.search_records,
        &actual.search_records,
        &mut out,
    );
    diff_maps("summary", &expected.summaries, &actual.summaries, &mut out);
    diff_maps(
        "history count",
        &expected.history_counts,
        &actual.history_counts,
        &mut out,
    );
    diff_maps("lookup", &expected.lookups, &actual.lookups, &mut out);
    diff_maps("counter", &expected.counters, &actual.counters, &mut out);
    diff_values(
        "last audit seq",
        &expected.last_audit,
        &actual.last_audit,
        &mut out,
    );
    diff_values("undone count", &expected.undone, &actual.undone, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/// What one step did, for the checks after it.
enum Kind {
    /// An undoable action (one audit entry).
    Action,
    /// A bulk load (one audit entry, never undone).
    Bulk,
    /// A dry run: nothing may change.
    Read,
    /// An undo, with the audit entry it took back.
    Undo(Option<AuditEntry>),
}

struct Done {
    what: String,
    actor: usize,
    kind: Kind,
    result: Result<(), StoreError>,
    /// The step cannot legitimately be refused.
    must_succeed: bool,
}

/// An action still in effect whose before-state undo must give back.
struct Pending {
    seq: u64,
    before: Snap,
}

/// A record of a random import batch, drawn before the batch runs.
struct BulkRecord {
    contact: Contact,
    organization: String,
    /// 0: none, 1: a call, 2: a purchase, 3: a follow-up.
    entry: usize,
    at: At,
    due: Day,
    deal: bool,
}

struct World {
    store: Option<Store>,
    path: Option<PathBuf>,
    backend: &'static str,
    seed: u64,
    steps: usize,
    rng: Rng,
    step: usize,
    history: Vec<String>,
    actors: Vec<Actor>,
    /// Per actor, their actions not undone yet: `(audit seq, undoable)`; bulk loads are not.
    mine: Vec<Vec<(u64, bool)>>,
    /// Verifiable actions in effect, oldest first.
    stack: Vec<Pending>,
    /// Actions in effect whose before-state is no longer reachable (bulk loads for good; and
    /// actions after one undone out of order): every older action is unverifiable.
    unverifiable: BTreeSet<u64>,
    /// Contacts as read at some earlier step (edits and merges of stale copies).
    loaded: Vec<Contact>,
    stats: BTreeMap<String, [u32; 2]>,
    verified_undos: u32,
    reopens: u32,
    started: std::time::Instant,
}

impl World {
    fn new(
        store: Store,
        path: Option<PathBuf>,
        backend: &'static str,
        seed: u64,
        steps: usize,
    ) -> Self {
        World {
            store: Some(store),
            path,
            backend,
            seed,
            steps,
            // The two runs of one seed take different paths.
            rng: Rng(seed ^ if backend == "memory" { 0 } else { 0xF11E }),
            step: 0,
            history: Vec::new(),
            actors: vec![Actor::new("sam"), Actor::new("ana"), Actor::new("Željko")],
            mine: vec![Vec::new(); 3],
            stack: Vec::new(),
            unverifiable: BTreeSet::new(),
            loaded: Vec::new(),
            stats: BTreeMap::new(),
            verified_undos: 0,
            reopens: 0,
            started: std::time::Instant::now(),
        }
    }

    fn s(&self) -> &Store {
        self.store.as_ref().expect("the store is open")
    }

    fn fail(&self, msg: &str) -> ! {
        let log = std::env::temp_dir().join(format!(
            "rolo-store-props-{}-{:#x}.log",
            self.backend, self.seed
        ));
        let _ = std::fs::write(&log, self.history.join("\n"));
        let from = self.history.len().saturating_sub(60);
        let steps_var = if self.backend == "memory" {
            "ROLO_PROPS_STEPS"
        } else {
            "ROLO_PROPS_FILE_STEPS"
        };
        panic!(
            "\nstore property test failed ({} store), seed {:#x}, step {} of {}:\n{msg}\n\n\
             last operations ({} of {}; all of them in {}):\n{}\n\n\
             replay: ROLO_PROPS_SEED={:#x} {steps_var}={} cargo test --test store_props {}\n",
            self.backend,
            self.seed,
            self.step,
            self.steps,
            self.history.len() - from,
            self.history.len(),
            log.display(),
            self.history[from..].join("\n"),
            self.seed,
            self.steps,
            self.backend,
        );
    }

    fn ok<T>(&self, r: Result<T, StoreError>, what: &str) -> T {
        r.unwrap_or_else(|e| self.fail(&format!("{what} failed: {e} ({e:?})")))
    }

    fn snap(&self) -> Snap {
        let s = self.s();
        let mut contacts = BTreeMap::new();
        self.ok(
            s.for_each_contact(|c| {
                contacts.insert(c.id, c);
                true
            }),
            "for_each_contact",
        );
        let mut entries = Vec::new();
        self.ok(
            s.for_each_entry(|e| {
                entries.push(e);
                true
            }),
            "for_each_entry",
        );
        let mut deals = BTreeMap::new();
        let mut search_records = BTreeMap::new();
        let mut summaries = BTreeMap::new();
        let mut history_counts = BTreeMap::new();
        let mut lookups = BTreeMap::new();
        for &id in contacts.keys() {
            for d in self.ok(s.deals_for(id), "deals_for") {
                if d.contact != Some(id) {
                    self.fail(&format!(
                        "deals_for({id}) lists deal {d:?} of another contact"
                    ));
                }
                deals.insert(d.id, d);
            }
            search_records.insert(id, self.ok(s.search_record(id), "search_record"));
            summaries.insert(id, self.ok(s.summary(id), "summary"));
            history_counts.insert(id, self.ok(s.history_count(id), "history_count"));
        }
        let names: BTreeSet<&str> = contacts
            .values()
            .map(|c| c.name.as_str())
            .chain(NAMES.iter().copied())
            .collect();
        for name in names {
            lookups.insert(
                format!("name:{name}"),
                self.ok(s.find_by_name(name), "find_by_name"),
            );
        }
        for email in EMAILS {
            lookups.insert(
                format!("email:{email}"),
                self.ok(s.find_by_email(email), "find_by_email"),
            );
        }
        for phone in PHONES {
            lookups.insert(
                format!("phone:{phone}"),
                self.ok(s.find_by_phone(phone), "find_by_phone"),
            );
        }
        for tag in TAGS {
            lookups.insert(
                format!("tag:{tag}"),
                self.ok(s.find_by_tag(tag), "find_by_tag"),
            );
        }
        for uid in UIDS {
            let own = self.ok(s.find_by_uid(uid), "find_by_uid");
            lookups.insert(format!("uid:{uid}"), own.into_iter().collect());
            let merged = self.ok(s.find_by_merged_uid(uid), "find_by_merged_uid");
            lookups.insert(format!("merged uid:{uid}"), merged.into_iter().collect());
        }
        let trash = self
            .ok(s.trash(), "trash")
            .into_iter()
            .map(|b| (b.contact.id, b))
            .collect();
        let orgs = self
            .ok(s.organizations(), "organizations")
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let org_names = ORGS
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| {
                (
                    (*n).to_string(),
                    self.ok(s.organization_by_name(n), "organization_by_name"),
                )
            })
            .collect();
        let order = self.ok(s.ids_by_name(None, usize::MAX), "ids_by_name");
        let rows = self.ok(s.list_rows(&order), "list_rows");
        let due = self.ok(s.due_until(day(4_000), usize::MAX), "due_until");
        Snap {
            contacts,
            entries,
            deals,
            trash,
            orgs,
            org_names,
            order,
            rows,
            due,
            purchase_summaries: self.ok(s.customer_summaries(), "customer_summaries"),
            search_records,
            summaries,
            history_counts,
            lookups,
            counters: self.ok(s.counters(), "counters"),
            last_audit: self.ok(s.last_audit_seq(), "last_audit_seq"),
            undone: self.ok(s.undone_pairs(), "undone_pairs").len(),
        }
    }

    /// Doctor, and what doctor does not look at. `full`: with redb's own page check.
    fn check_consistent(&mut self, snap: &Snap, full: bool) {
        let report = if full {
            self.store.as_mut().expect("the store is open").doctor()
        } else {
            self.s().doctor_online()
        };
        let report = self.ok(report, "doctor");
        if !report.is_clean() {
            self.fail(&format!("doctor is not clean: {report:#?}"));
        }
        if report.contacts != snap.contacts.len() as u64
            || report.timeline_entries != snap.entries.len() as u64
        {
            self.fail(&format!(
                "doctor counts {} contacts and {} entries, the API {} and {}",
                report.contacts,
                report.timeline_entries,
                snap.contacts.len(),
                snap.entries.len()
            ));
        }
        if snap.order.len() != snap.contacts.len() || snap.rows.len() != snap.contacts.len() {
            self.fail("the list does not show every contact exactly once");
        }
        for id in snap.trash.keys() {
            if snap.contacts.contains_key(id) {
                self.fail(&format!(
                    "contact {id} is both in the list and in the trash"
                ));
            }
        }
        for (id, count) in &snap.history_counts {
            let entries = snap.entries.iter().filter(|e| e.contact() == *id).count();
            let deals = snap
                .deals
                .values()
                .filter(|d| d.contact == Some(*id))
                .count();
            if *count != entries + deals {
                self.fail(&format!(
                    "history_count({id}) is {count}, but it has {entries} entries and {deals} deals"
                ));
            }
        }
    }

    fn run(&mut self) {
        let mut current = self.snap();
        self.check_consistent(&current, true);
        let reopen_at = self.steps / 2;
        while self.step < self.steps {
            if self.path.is_some() && (self.step == reopen_at || self.rng.chance(1)) {
                self.reopen(&current);
            }
            if self.rng.chance(10) && !current.contacts.is_empty() {
                let ids: Vec<Id> = current.contacts.keys().copied().collect();
                let id = *self.rng.pick(&ids);
                self.loaded.push(current.contacts[&id].clone());
                if self.loaded.len() > 8 {
                    self.loaded.remove(0);
                }
            }
            current = self.checked(current, World::random_op);
            self.step += 1;
            if std::env::var_os("ROLO_PROPS_PROGRESS").is_some() && self.step % 250 == 0 {
                eprintln!(
                    "  step {}: {:.1?}, {} contacts, {} entries, {} in the trash",
                    self.step,
                    self.started.elapsed(),
                    current.contacts.len(),
                    current.entries.len(),
                    current.trash.len()
                );
            }
        }
        // Then everyone undoes what they can, newest first; whatever is refused must change
        // nothing.
        let mut stuck = vec![false; self.actors.len()];
        while let Some(actor) = (0..self.actors.len())
            .find(|&a| !stuck[a] && self.mine[a].last().is_some_and(|(_, undoable)| *undoable))
        {
            let undone = self.stack.len() + self.unverifiable.len();
            current = self.checked(current, |w| w.undo(actor));
            stuck[actor] = self.stack.len() + self.unverifiable.len() == undone;
            self.step += 1;
        }
        self.check_consistent(&current, true);
        if self.path.is_some() {
            self.reopen(&current);
            self.check_consistent(&current, true);
        }
    }

    /// Drops the store and opens the file again: everything must read back the same.
    fn reopen(&mut self, current: &Snap) {
        let path = self.path.clone().expect("a file store");
        drop(self.store.take());
        self.store = Some(self.ok(Store::open(&path), "reopening the file"));
        self.reopens += 1;
        self.history
            .push(format!("step {}: close and reopen the file", self.step));
        let again = self.snap();
        let d = diff(current, &again);
        if !d.is_empty() {
            self.fail(&format!(
                "after reopening, the file reads differently:\n  {}",
                d.join("\n  ")
            ));
        }
    }

    /// Runs `op` and checks what it did against the state before.
    fn checked(&mut self, before: Snap, op: impl FnOnce(&mut World) -> Done) -> Snap {
        let done = op(self);
        let outcome = match &done.result {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("refused: {e}"),
        };
        let mut op_name = done.what.split(' ').take(2).collect::<Vec<_>>().join(" ");
        if op_name.starts_with("undo") {
            op_name = "undo".into();
        }
        if let Err(e) = &done.result {
            let variant = format!("{e:?}");
            let variant = variant.split(['(', ' ', '{']).next().unwrap_or_default();
            op_name = format!("{op_name}: {variant}");
        }
        self.stats.entry(op_name).or_default()[usize::from(done.result.is_err())] += 1;
        self.history.push(clip(format!(
            "step {} [{}] {} -> {outcome}",
            self.step, self.actors[done.actor], done.what
        )));
        let after = self.snap();
        self.check_consistent(&after, self.step % 50 == 0);
        match (&done.result, done.kind) {
            (Err(e), _) => {
                let expected = matches!(
                    e,
                    StoreError::NotFound(_)
                        | StoreError::Stale { .. }
                        | StoreError::Conflict(_)
                        | StoreError::Invalid(_)
                        | StoreError::NothingToUndo
                        | StoreError::NotUndoable(_)
                );
                if !expected {
                    self.fail(&format!("unexpected error: {e} ({e:?})"));
                }
                if done.must_succeed {
                    self.fail(&format!("refused an action that had to succeed: {e}"));
                }
                let d = diff(&before, &after);
                if !d.is_empty() {
                    self.fail(&format!(
                        "a refused action changed the store:\n  {}",
                        d.join("\n  ")
                    ));
                }
            }
            (Ok(()), Kind::Read) => {
                let d = diff(&before, &after);
                if !d.is_empty() {
                    self.fail(&format!(
                        "a dry run changed the store:\n  {}",
                        d.join("\n  ")
                    ));
                }
            }
            (Ok(()), kind @ (Kind::Action | Kind::Bulk)) => {
                if after.last_audit != before.last_audit + 1 {
                    self.fail(&format!(
                        "an action wrote audit entries {}..={}, not one",
                        before.last_audit + 1,
                        after.last_audit
                    ));
                }
                let seq = after.last_audit;
                let undoable = matches!(kind, Kind::Action);
                self.mine[done.actor].push((seq, undoable));
                if undoable {
                    self.stack.push(Pending {
                        seq,
                        before: before.clone(),
                    });
                } else {
                    self.unverifiable.insert(seq);
                }
            }
            (Ok(()), Kind::Undo(target)) => {
                let target = target.expect("a successful undo returns what it undid");
                self.mine[done.actor].retain(|(seq, _)| *seq != target.seq);
                self.after_undo(&target, &before, &after);
            }
        }
        after
    }

    fn after_undo(&mut self, target: &AuditEntry, before: &Snap, after: &Snap) {
        if after.last_audit != before.last_audit + 1 || after.undone != before.undone + 1 {
            self.fail("an undo must write one audit entry and mark one entry undone");
        }
        // Contacts whose creation was undone go to the trash.
        let created: BTreeSet<Id> = target
            .changes
            .iter()
            .filter_map(|c| match (&c.before, &c.after) {
                (None, Some(Record::Contact(c))) => Some(c.id),
                _ => None,
            })
            .collect();
        let trashed: Vec<TrashBundle> = after
            .trash
            .values()
            .filter(|b| !before.trash.contains_key(&b.contact.id))
            .cloned()
            .collect();
        for b in &trashed {
            if !created.contains(&b.contact.id) {
                self.fail(&format!(
                    "undo of `{}` put contact {} in the trash, which it did not create",
                    target.action, b.contact.id
                ));
            }
        }
        let verifiable = self.stack.last().is_some_and(|p| p.seq == target.seq)
            && self.unverifiable.range(target.seq + 1..).next().is_none();
        if verifiable {
            let pending = self.stack.pop().expect("checked above");
            let mut expected = pending.before;
            for b in &trashed {
                expected.trash.insert(b.contact.id, b.clone());
            }
            // A merged uid is filed for one of the contacts that list it — the first saved
            // while no other held it — and a gap (the holder let go while another still lists
            // it) is no fault (doctor). So undo, which re-saves contacts, may leave the row with
            // another contact that lists the uid, or fill a gap; it must never lose one.
            let lists = |id: &Id, uid: &str| {
                after
                    .contacts
                    .get(id)
                    .is_some_and(|c| c.merged_uids().iter().any(|m| m == uid))
            };
            for uid in UIDS {
                let key = format!("merged uid:{uid}");
                if let (Some(e), Some(a)) = (expected.lookups.get(&key), after.lookups.get(&key))
                    && a.len() == 1
                    && lists(&a[0], uid)
                    && e.iter().all(|id| lists(id, uid))
                {
                    let held = a.clone();
                    expected.lookups.insert(key, held);
                }
            }
            let mut problems = diff(&expected.normalized(), &after.normalized());
            // Organisations created on the way stay; all that were there are unchanged.
            for (id, org) in &expected.orgs {
                if after.orgs.get(id) != Some(org) {
                    problems.push(format!(
                        "organisation {id}: expected {org:?}, actual {:?}",
                        after.orgs.get(id)
                    ));
                }
            }
            for (name, id) in &expected.org_names {
                if id.is_some() && after.org_names.get(name) != Some(id) {
                    problems.push(format!("organisation named {name:?} is no longer {id:?}"));
                }
            }
            // Versions never go back.
            for (id, c) in &expected.contacts {
                if after
                    .contacts
                    .get(id)
                    .is_some_and(|a| a.version < c.version)
                {
                    problems.push(format!("contact {id}'s version went back"));
                }
            }
            for (id, d) in &expected.deals {
                if after.deals.get(id).is_some_and(|a| a.version < d.version) {
                    problems.push(format!("deal {id}'s version went back"));
                }
            }
            if !problems.is_empty() {
                self.fail(&format!(
                    "undo of `{}` (audit #{}) did not give back the state from before it:\n  {}",
                    target.action,
                    target.seq,
                    problems.join("\n  ")
                ));
            }
            self.verified_undos += 1;
        } else {
            // Out of order (actions since that are still in effect): the actions after it
            // can no longer be compared with their before-states.
            self.unverifiable.remove(&target.seq);
            let mut kept = Vec::new();
            for p in self.stack.drain(..) {
                if p.seq < target.seq {
                    kept.push(p);
                } else if p.seq > target.seq {
                    self.unverifiable.insert(p.seq);
                }
            }
            self.stack = kept;
        }
        // Those bundles stay in the trash whatever is undone next.
        for p in &mut self.stack {
            for b in &trashed {
                p.before.trash.insert(b.contact.id, b.clone());
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Random operations
    // -----------------------------------------------------------------------------------------

    fn random_op(&mut self) -> Done {
        let count = self.ok(self.s().contact_count(), "contact_count");
        match self.rng.below(100) {
            // Fewer adds once the database is big enough, so every step stays cheap to check.
            0..=9 if count < 40 || self.rng.chance(15) => self.add_contact(),
            0..=9 => self.delete_contact(),
            10..=18 => self.edit_contact(),
            19..=27 => self.log_interaction(),
            28..=30 => self.log_answering(),
            31..=37 => self.add_entry(),
            38..=41 => self.complete_or_reschedule(),
            42..=45 => self.edit_or_delete_interaction(),
            46..=49 => self.add_deal(),
            50..=53 => self.update_deal(),
            54..=61 => self.merge_contacts(),
            62..=66 => self.delete_contact(),
            67..=71 => self.restore_contact(),
            72..=86 => {
                let actor = self.pick_actor();
                self.undo(actor)
            }
            87..=95 => self.bulk_load(false),
            _ => self.bulk_load(true),
        }
    }

    fn pick_actor(&mut self) -> usize {
        match self.rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        }
    }

    fn action(&self, actor: usize, what: String, result: Result<(), StoreError>) -> Done {
        Done {
            what,
            actor,
            kind: Kind::Action,
            result,
            must_succeed: false,
        }
    }

    fn contact_ids(&self) -> Vec<Id> {
        self.ok(self.s().ids_by_name(None, usize::MAX), "ids_by_name")
    }

    /// A live contact's id mostly; now and then one in the trash or that never was.
    fn pick_id(&mut self) -> Id {
        let ids = self.contact_ids();
        if ids.is_empty() || self.rng.chance(6) {
            let counter = self.ok(self.s().counters(), "counters")["next_contact"];
            return self.rng.below(counter as usize + 3) as Id;
        }
        *self.rng.pick(&ids)
    }

    fn live(&self, id: Id) -> Option<Contact> {
        self.ok(self.s().contact(id), "contact")
    }

    fn emails(&mut self) -> Vec<Labelled> {
        (0..self.rng.below(3))
            .map(|_| {
                let label = self.rng.pick_str(&["work", "home", "Privat"]);
                Labelled::new(&label, &self.rng.pick_str(EMAILS))
            })
            .collect()
    }

    fn phones(&mut self) -> Vec<Labelled> {
        (0..self.rng.below(3))
            .map(|_| Labelled::new("mobile", &self.rng.pick_str(PHONES)))
            .collect()
    }

    fn tags(&mut self) -> Vec<String> {
        (0..self.rng.below(4))
            .map(|_| self.rng.pick_str(TAGS))
            .collect()
    }

    fn uid(&mut self) -> String {
        if self.rng.chance(35) {
            self.rng.pick_str(UIDS)
        } else {
            String::new()
        }
    }

    fn addresses(&mut self) -> Vec<Address> {
        if self.rng.chance(30) {
            vec![Address {
                label: "work".into(),
                city: self.rng.pick_str(CITIES),
                ..Address::default()
            }]
        } else {
            Vec::new()
        }
    }

    fn draft(&mut self) -> ContactDraft {
        ContactDraft {
            name: self.rng.pick_str(NAMES),
            organization: self.rng.pick_str(ORGS),
            emails: self.emails(),
            phones: self.phones(),
            addresses: self.addresses(),
            stage: Some(*self.rng.pick(Stage::ALL)),
            tags: self.tags(),
            notes: self.rng.pick_str(NOTES),
            uid: self.uid(),
            ..ContactDraft::default()
        }
    }

    /// A time on a contact's timeline: spread over half a year in 90-minute slots (so several
    /// purchases fall on one day), now and then exactly the time of one of its entries.
    fn time_for(&mut self, contact: Id) -> At {
        if self.rng.chance(10) {
            let at: Vec<At> = self
                .ok(self.s().timeline(contact, 50), "timeline")
                .iter()
                .map(Entry::at)
                .collect();
            if !at.is_empty() {
                return *self.rng.pick(&at);
            }
        }
        At::from_millis(BASE_MS + self.rng.below(3_000) as i64 * 90 * 60_000)
    }

    fn due(&mut self) -> Day {
        day(self.rng.below(400) as i32)
    }

    /// Whether `uid` is free for contact `id`.
    fn uid_free(&self, uid: &str, id: Id) -> bool {
        let owner = self.ok(self.s().find_by_uid(uid), "find_by_uid");
        uid.is_empty() || owner.is_none() || owner == Some(id)
    }

    fn add_contact(&mut self) -> Done {
        let actor = self.pick_actor();
        let draft = self.draft();
        let valid = draft.clone().into_contact(&self.actors[actor]).is_ok();
        let uid_free = self.uid_free(&draft.uid, 0);
        let what = format!("add contact {draft:?}");
        let r = self.s().add_contact(&self.actors[actor], draft).map(drop);
        Done {
            must_succeed: valid && uid_free,
            ..self.action(actor, what, r)
        }
    }

    fn mutate(&mut self, c: &mut Contact) {
        for _ in 0..=self.rng.below(3) {
            match self.rng.below(11) {
                0 => c.name = self.rng.pick_str(NAMES),
                1 => c.emails = self.emails(),
                2 => c.phones = self.phones(),
                3 => c.tags = self.tags(),
                4 => c.uid = self.uid(),
                5 => c.stage = *self.rng.pick(Stage::ALL),
                6 => c.addresses = self.addresses(),
                7 => c.notes = self.rng.pick_str(NOTES),
                8 => c.owner = self.rng.pick_str(&["sam", "ana", "Željko", ""]),
                // A uid list typed by hand, as the merged-uid field.
                9 => {
                    let list = match self.rng.below(3) {
                        0 => String::new(),
                        1 => self.rng.pick_str(UIDS),
                        _ => format!("{}, {}", self.rng.pick(UIDS), self.rng.pick(UIDS)),
                    };
                    c.custom.insert(
                        rolo::domain::merge::MERGED_UID.into(),
                        CustomValue::Text(list),
                    );
                }
                _ => {
                    c.custom.insert(
                        "Farbe".into(),
                        CustomValue::Text(self.rng.pick_str(&["grün", "蓝色", ""])),
                    );
                }
            }
        }
    }

    fn edit_contact(&mut self) -> Done {
        let actor = self.pick_actor();
        let id = self.pick_id();
        let current = self.live(id);
        let stale = !self.loaded.is_empty() && (current.is_none() || self.rng.chance(25));
        let base = if stale {
            self.rng.pick(&self.loaded).clone()
        } else {
            match &current {
                Some(c) => c.clone(),
                None => {
                    let mut c = self
                        .draft()
                        .into_contact(&self.actors[actor])
                        .unwrap_or_else(|_| {
                            ContactDraft {
                                name: "Nobody".into(),
                                ..ContactDraft::default()
                            }
                            .into_contact(&self.actors[actor])
                            .expect("a valid draft")
                        });
                    c.id = id;
                    c.version = 1;
                    c
                }
            }
        };
        let mut edited = base.clone();
        self.mutate(&mut edited);
        let organization = match self.rng.below(10) {
            0..=4 => None,
            5..=8 => Some(self.rng.pick_str(ORGS)),
            _ => Some(String::new()),
        };
        let with_base = stale && self.rng.chance(60);
        let mut check = edited.clone();
        check.clean();
        let must_succeed = self
            .live(base.id)
            .is_some_and(|c| c.version == base.version)
            && check.validate().is_ok()
            && self.uid_free(&check.uid, base.id);
        let what = format!(
            "edit contact {} (v{}{}) org {organization:?} to {edited:?}",
            base.id,
            base.version,
            if with_base {
                ", merging with a base"
            } else {
                ""
            }
        );
        let actor_ref = &self.actors[actor];
        let r = if with_base {
            self.s()
                .update_contact_from(actor_ref, Some(&base), edited, organization.as_deref())
        } else {
            self.s()
                .update_contact(actor_ref, edited, organization.as_deref())
        };
        Done {
            must_succeed,
            ..self.action(actor, what, r.map(drop))
        }
    }

    fn interaction(&mut self, contact: Id) -> Interaction {
        Interaction {
            id: 0,
            contact,
            at: self.time_for(contact),
            channel: *self.rng.pick(Channel::ALL),
            direction: *self.rng.pick(Direction::ALL),
            summary: if self.rng.chance(4) {
                String::new()
            } else {
                self.rng.pick_str(SUMMARIES)
            },
            body: self.rng.pick_str(NOTES),
            outcome: self.rng.chance(50).then(|| *self.rng.pick(Outcome::ALL)),
            satisfaction: self.rng.chance(30).then(|| 1 + self.rng.below(6) as u8),
            agent: self.rng.pick_str(&["", "", "ana", "Željko"]),
            deal: None,
            campaign: self.rng.pick_str(&["", "jesen-2026"]),
        }
    }

    fn log_interaction(&mut self) -> Done {
        let actor = self.pick_actor();
        let contact = self.pick_id();
        let interaction = self.interaction(contact);
        let follow_up = self.rng.chance(35).then(|| {
            let due = self.due();
            (
                due,
                self.rng.pick_str(&["", "Send the offer", "Nazvati opet"]),
            )
        });
        let mut check = interaction.clone();
        let must_succeed = self.live(contact).is_some() && check.clean().is_ok();
        let what = format!("log interaction {interaction:?} follow-up {follow_up:?}");
        let r = self
            .s()
            .log_interaction(&self.actors[actor], interaction, follow_up)
            .map(drop);
        Done {
            must_succeed,
            ..self.action(actor, what, r)
        }
    }

    fn follow_ups(&self) -> Vec<FollowUp> {
        let mut out = Vec::new();
        self.ok(
            self.s().for_each_entry(|e| {
                if let Entry::FollowUp(f) = e {
                    out.push(f);
                }
                true
            }),
            "for_each_entry",
        );
        out
    }

    fn interactions(&self) -> Vec<Interaction> {
        let mut out = Vec::new();
        self.ok(
            self.s().for_each_entry(|e| {
                if let Entry::Interaction(i) = e {
                    out.push(i);
                }
                true
            }),
            "for_each_entry",
        );
        out
    }

    fn log_answering(&mut self) -> Done {
        let actor = self.pick_actor();
        let follow_ups = self.follow_ups();
        if follow_ups.is_empty() {
            return self.log_interaction();
        }
        let answered = self.rng.pick(&follow_ups).clone();
        let contact = if self.rng.chance(90) {
            answered.contact
        } else {
            self.pick_id()
        };
        let interaction = self.interaction(contact);
        let what = format!("log answering {answered:?} with {interaction:?}");
        let r = self
            .s()
            .log_answering(&self.actors[actor], interaction, None, Some(&answered))
            .map(drop);
        self.action(actor, what, r)
    }

    fn add_entry(&mut self) -> Done {
        let actor = self.pick_actor();
        let contact = self.pick_id();
        let entry = match self.rng.below(3) {
            0 => Entry::FollowUp(FollowUp {
                id: 0,
                contact,
                created: self.time_for(contact),
                due: self.due(),
                what: if self.rng.chance(5) {
                    String::new()
                } else {
                    self.rng
                        .pick_str(&["Send the offer", "Poslati ponudu", "見積もり"])
                },
                done_at: self
                    .rng
                    .chance(10)
                    .then(|| At::from_millis(BASE_MS + 1_000)),
                assignee: self.rng.pick_str(&["", "ana", "sam"]),
            }),
            1 => Entry::Purchase(Purchase {
                id: 0,
                contact,
                at: self.time_for(contact),
                product: self.rng.pick_str(PRODUCTS),
                quantity: if self.rng.chance(3) {
                    0
                } else {
                    1 + self.rng.below(3) as u32
                },
                amount: self.rng.below(200_000) as i64 - 10_000,
                cost: self.rng.below(100_000) as i64,
                currency: self.rng.pick_str(&["EUR", "eur", "HRK", "EU"]),
                channel: self.rng.pick_str(&["web", "Laden"]),
                location: self.rng.pick_str(CITIES),
            }),
            _ => Entry::Interaction(self.interaction(contact)),
        };
        let what = format!("add entry {entry:?}");
        let r = self.s().add_entry(&self.actors[actor], entry).map(drop);
        self.action(actor, what, r)
    }

    fn complete_or_reschedule(&mut self) -> Done {
        let actor = self.pick_actor();
        let follow_ups = self.follow_ups();
        let mut f = if follow_ups.is_empty() || self.rng.chance(5) {
            FollowUp {
                id: 999_999,
                contact: self.pick_id(),
                created: At::from_millis(BASE_MS),
                due: day(0),
                what: "gone".into(),
                done_at: None,
                assignee: String::new(),
            }
        } else {
            self.rng.pick(&follow_ups).clone()
        };
        if self.rng.chance(5) {
            // A copy read before someone changed it: only its key counts.
            f.what = "an older text".into();
        }
        let actor_ref = self.actors[actor].clone();
        let actor_ref = &actor_ref;
        if self.rng.chance(50) {
            let what = format!("complete follow-up {f:?}");
            let r = self.s().complete_follow_up(actor_ref, &f).map(drop);
            self.action(actor, what, r)
        } else {
            let due = self.due();
            let what = format!("reschedule follow-up {f:?} to {due}");
            let r = self.s().reschedule_follow_up(actor_ref, &f, due).map(drop);
            self.action(actor, what, r)
        }
    }

    fn edit_or_delete_interaction(&mut self) -> Done {
        let actor = self.pick_actor();
        let all = self.interactions();
        if all.is_empty() {
            return self.log_interaction();
        }
        let current = self.rng.pick(&all).clone();
        let mut original = current.clone();
        if self.rng.chance(15) {
            original.summary = "what it said before".into();
        }
        let actor_ref = self.actors[actor].clone();
        if self.rng.chance(60) {
            let mut edited = current.clone();
            edited.summary = self.rng.pick_str(SUMMARIES);
            edited.outcome = self.rng.chance(50).then(|| *self.rng.pick(Outcome::ALL));
            edited.channel = *self.rng.pick(Channel::ALL);
            edited.satisfaction = self.rng.chance(30).then(|| 1 + self.rng.below(5) as u8);
            if self.rng.chance(8) {
                edited.id += 1;
            }
            let what = format!("edit interaction {original:?} to {edited:?}");
            let r = self
                .s()
                .edit_interaction(&actor_ref, &original, edited)
                .map(drop);
            self.action(actor, what, r)
        } else {
            let what = format!("delete interaction {original:?}");
            let r = self.s().delete_interaction(&actor_ref, &original);
            self.action(actor, what, r)
        }
    }

    fn all_deals(&self) -> Vec<Deal> {
        let mut out = Vec::new();
        for id in self.contact_ids() {
            out.extend(self.ok(self.s().deals_for(id), "deals_for"));
        }
        out
    }

    fn add_deal(&mut self) -> Done {
        let actor = self.pick_actor();
        let contact = self.pick_id();
        let deal = Deal {
            id: 0,
            contact: Some(contact),
            organization: None,
            title: self
                .rng
                .pick_str(&["Renewal", "Nadogradnja", "Großauftrag", "Obnova"]),
            stage: *self.rng.pick(DealStage::ALL),
            value: self.rng.below(5_000_000) as i64,
            currency: if self.rng.chance(5) {
                "E".into()
            } else {
                self.rng.pick_str(&["EUR", "usd"])
            },
            expected_close: self.rng.chance(50).then(|| self.due()),
            status: *self.rng.pick(DealStatus::ALL),
            owner: self.rng.pick_str(&["", "ana"]),
            version: 0,
        };
        let what = format!("add deal {deal:?}");
        let r = self.s().add_deal(&self.actors[actor], deal).map(drop);
        self.action(actor, what, r)
    }

    fn update_deal(&mut self) -> Done {
        let actor = self.pick_actor();
        let deals = self.all_deals();
        if deals.is_empty() {
            return self.add_deal();
        }
        let mut deal = self.rng.pick(&deals).clone();
        match self.rng.below(4) {
            0 => deal.stage = *self.rng.pick(DealStage::ALL),
            1 => deal.status = *self.rng.pick(DealStatus::ALL),
            2 => deal.value = self.rng.below(5_000_000) as i64,
            _ => deal.title = self.rng.pick_str(&["Renewal 2027", "Obnova", ""]),
        }
        if self.rng.chance(15) {
            deal.version -= 1;
        }
        if self.rng.chance(5) {
            deal.id = 999_999;
        }
        let what = format!("update deal {deal:?}");
        let r = self.s().update_deal(&self.actors[actor], deal).map(drop);
        self.action(actor, what, r)
    }

    fn merge_contacts(&mut self) -> Done {
        let actor = self.pick_actor();
        let ids = self.contact_ids();
        if ids.len() < 2 {
            return self.add_contact();
        }
        let keep_id = *self.rng.pick(&ids);
        let keep = self.live(keep_id).expect("listed");
        let candidates = self.ok(self.s().possible_duplicates(&keep), "possible_duplicates");
        let other = if !candidates.is_empty() && self.rng.chance(60) {
            self.rng.pick(&candidates).0.clone()
        } else if self.rng.chance(5) {
            keep.clone()
        } else {
            let id = *self.rng.pick(&ids);
            self.live(id).expect("listed")
        };
        // Now and then a copy read earlier (a merge view left open meanwhile).
        let stale = |w: &mut World, c: Contact| -> Contact {
            if w.rng.chance(10) {
                if let Some(old) = w.loaded.iter().find(|l| l.id == c.id) {
                    return old.clone();
                }
            }
            c
        };
        let keep = stale(self, keep);
        let other = stale(self, other);
        let keep_org = self.ok(self.s().organization_name(keep.organization), "org name");
        let other_org = self.ok(self.s().organization_name(other.organization), "org name");
        let mut plan = MergePlan::new(keep, keep_org, other, other_org);
        for field in MergeField::ALL {
            if self.rng.chance(25) {
                let pick = *self.rng.pick(&[Pick::Left, Pick::Right, Pick::Both]);
                plan.set(field, pick);
            }
        }
        if self.rng.chance(20) {
            plan.swap();
        }
        let absorbed = if plan.absorbed() == plan.left.id {
            plan.left.clone()
        } else {
            plan.right.clone()
        };
        let merged = plan.result();
        let what = format!(
            "merge contacts #{} into #{} as {merged:?}",
            absorbed.id, merged.id
        );
        let r = self
            .s()
            .merge_contacts(&self.actors[actor], merged, &absorbed)
            .map(drop);
        self.action(actor, what, r)
    }

    fn delete_contact(&mut self) -> Done {
        let actor = self.pick_actor();
        let id = self.pick_id();
        let must_succeed = self.live(id).is_some();
        let r = self.s().delete_contact(&self.actors[actor], id).map(drop);
        Done {
            must_succeed,
            ..self.action(actor, format!("delete contact #{id}"), r)
        }
    }

    fn restore_contact(&mut self) -> Done {
        let actor = self.pick_actor();
        let trash: BTreeMap<Id, TrashBundle> = self
            .ok(self.s().trash(), "trash")
            .into_iter()
            .map(|b| (b.contact.id, b))
            .collect();
        let id = if !trash.is_empty() && self.rng.chance(85) {
            let ids: Vec<Id> = trash.keys().copied().collect();
            *self.rng.pick(&ids)
        } else {
            self.pick_id()
        };
        let must_succeed = trash
            .get(&id)
            .is_some_and(|b| self.live(id).is_none() && self.uid_free(&b.contact.uid, id));
        let r = self.s().restore_contact(&self.actors[actor], id).map(drop);
        Done {
            must_succeed,
            ..self.action(actor, format!("restore contact #{id}"), r)
        }
    }

    fn undo(&mut self, actor: usize) -> Done {
        let expected = self.mine[actor].last().copied();
        let r = self.s().undo(&self.actors[actor]);
        let what = match &r {
            Ok(t) => format!("undo (took back #{} `{}`)", t.seq, t.action),
            Err(_) => "undo".to_string(),
        };
        match (&r, expected) {
            (Ok(t), Some((seq, true))) if t.seq == seq && t.actor == self.actors[actor].0 => {}
            (Err(StoreError::NothingToUndo), None) => {}
            (Err(StoreError::NotUndoable(_)), Some((_, false))) => {}
            (
                Err(
                    StoreError::Stale { .. }
                    | StoreError::Conflict(_)
                    | StoreError::NotFound(_)
                    | StoreError::Invalid(_),
                ),
                Some((_, true)),
            ) => {}
            (r, expected) => self.fail(&format!(
                "undo by {} expected to take back {expected:?} (audit seq, undoable) but: {:?}",
                self.actors[actor],
                r.as_ref().map(|t| (t.seq, &t.actor, &t.action))
            )),
        }
        let (result, target) = match r {
            Ok(t) => (Ok(()), Some(t)),
            Err(e) => (Err(e), None),
        };
        Done {
            what,
            actor,
            kind: Kind::Undo(target),
            result,
            must_succeed: false,
        }
    }

    fn bulk_record(&mut self, actor: usize) -> Option<BulkRecord> {
        let mut draft = self.draft();
        draft.tags.push("imported".into());
        let organization = std::mem::take(&mut draft.organization);
        let contact = draft.into_contact(&self.actors[actor]).ok()?;
        Some(BulkRecord {
            contact,
            organization,
            entry: self.rng.below(4),
            at: At::from_millis(BASE_MS + self.rng.below(3_000) as i64 * 90 * 60_000),
            due: self.due(),
            deal: self.rng.chance(20),
        })
    }

    /// An import batch (new contacts, or folded into the one they match by uid or email, each
    /// with some history), or a bulk edit of many contacts' tags and stages; sometimes one
    /// record in it fails, which must roll back the whole batch.
    fn bulk_load(&mut self, dry: bool) -> Done {
        let actor = self.pick_actor();
        let budget = *self.rng.pick(&[usize::MAX, 0, 300, 4_096]);
        self.store
            .as_mut()
            .expect("the store is open")
            .set_bulk_budget(budget);
        let fail = self.rng.chance(15).then(|| self.rng.below(2));
        let retag = self.rng.chance(30);
        let records: Vec<BulkRecord> = (0..1 + self.rng.below(5))
            .filter_map(|_| self.bulk_record(actor))
            .collect();
        let edits: Vec<(Id, String, Stage)> = (0..1 + self.rng.below(6))
            .map(|_| {
                let id = self.pick_id();
                (id, self.rng.pick_str(TAGS), *self.rng.pick(Stage::ALL))
            })
            .collect();
        let what = if retag {
            format!(
                "bulk edit{} (budget {budget}, fail {fail:?}): tags and stages {edits:?}",
                if dry { " dry run" } else { "" }
            )
        } else {
            format!(
                "bulk import{} (budget {budget}, fail {fail:?}): {:?}",
                if dry { " dry run" } else { "" },
                records
                    .iter()
                    .map(|r| (&r.contact.name, &r.contact.uid, &r.contact.emails, r.entry))
                    .collect::<Vec<_>>()
            )
        };
        let load = |b: &mut Bulk| -> Result<(), StoreError> {
            if retag {
                for (id, tag, stage) in &edits {
                    let Some(mut c) = b.contact(*id)? else {
                        continue;
                    };
                    if c.tags.contains(tag) {
                        c.tags.retain(|t| t != tag);
                    } else {
                        c.tags.push(rolo::domain::text::clean_tag(tag));
                        c.tags.sort();
                        c.tags.dedup();
                    }
                    c.stage = *stage;
                    b.update_contact(c, None)?;
                }
            } else {
                for record in &records {
                    let id = import_one(b, record)?;
                    let entry = match record.entry {
                        1 => Some(Entry::Interaction(Interaction {
                            id: 0,
                            contact: id,
                            at: record.at,
                            channel: Channel::Call,
                            direction: Direction::Inbound,
                            summary: "Imported call".into(),
                            body: String::new(),
                            outcome: None,
                            satisfaction: None,
                            agent: "import".into(),
                            deal: None,
                            campaign: String::new(),
                        })),
                        2 => Some(Entry::Purchase(Purchase {
                            id: 0,
                            contact: id,
                            at: record.at,
                            product: "Imported order".into(),
                            quantity: 1,
                            amount: 9_900,
                            cost: 5_000,
                            currency: "EUR".into(),
                            channel: "web".into(),
                            location: String::new(),
                        })),
                        3 => Some(Entry::FollowUp(FollowUp {
                            id: 0,
                            contact: id,
                            created: record.at,
                            due: record.due,
                            what: "Imported task".into(),
                            done_at: None,
                            assignee: "sam".into(),
                        })),
                        _ => None,
                    };
                    if let Some(entry) = entry {
                        b.add_entry(entry)?;
                    }
                    if record.deal {
                        b.add_deal(Deal {
                            id: 0,
                            contact: Some(id),
                            organization: None,
                            title: "Imported deal".into(),
                            stage: DealStage::Qualify,
                            value: 100,
                            currency: "EUR".into(),
                            expected_close: None,
                            status: DealStatus::Open,
                            owner: "sam".into(),
                            version: 0,
                        })?;
                    }
                }
            }
            match fail {
                Some(0) => {
                    b.add_entry(Entry::Interaction(Interaction::new(
                        999_999,
                        Channel::Note,
                        "for nobody",
                    )))?;
                }
                Some(_) => {
                    // A second contact with a uid already taken.
                    for uid in UIDS {
                        if b.find_by_uid(uid)?.is_some() {
                            let mut c = ContactDraft {
                                name: "Uid thief".into(),
                                ..ContactDraft::default()
                            }
                            .into_contact(&Actor::new("import"))
                            .expect("a valid draft");
                            c.uid = (*uid).to_string();
                            b.add_contact(c, "")?;
                        }
                    }
                }
                None => {}
            }
            Ok(())
        };
        let actor_ref = &self.actors[actor];
        let description = "import props.vcf, tagged imported";
        let r = if dry {
            self.s().bulk_dry_run(actor_ref, description, load)
        } else {
            self.s().bulk(actor_ref, description, load)
        };
        Done {
            what,
            actor,
            kind: if dry { Kind::Read } else { Kind::Bulk },
            result: r,
            must_succeed: false,
        }
    }
}

/// One import record, matched the way `rolo import` matches: by uid (or a uid merged away),
/// else by email; a match has the record folded in (gaps filled, lists joined).
fn import_one(b: &mut Bulk, record: &BulkRecord) -> Result<Id, StoreError> {
    use rolo::domain::text::{email_key, phone_key};
    let incoming = &record.contact;
    let mut found = None;
    if !incoming.uid.is_empty() {
        found = b.find_by_uid(&incoming.uid)?;
        if found.is_none() {
            found = b.find_by_merged_uid(&incoming.uid)?;
        }
    }
    if found.is_none() {
        for e in &incoming.emails {
            if let Some(id) = b.find_by_email(&e.value)?.into_iter().next() {
                found = Some(id);
                break;
            }
        }
    }
    let Some(id) = found else {
        return b.add_contact(incoming.clone(), &record.organization);
    };
    let existing = b
        .contact(id)?
        .ok_or_else(|| StoreError::NotFound(format!("contact {id}")))?;
    let uid_free = !incoming.uid.is_empty() && b.find_by_uid(&incoming.uid)?.is_none();
    let mut m = existing.clone();
    if m.uid.is_empty() && uid_free {
        m.uid.clone_from(&incoming.uid);
    }
    for e in &incoming.emails {
        if !m
            .emails
            .iter()
            .any(|x| email_key(&x.value) == email_key(&e.value))
        {
            m.emails.push(e.clone());
        }
    }
    for p in &incoming.phones {
        if !m
            .phones
            .iter()
            .any(|x| phone_key(&x.value) == phone_key(&p.value))
        {
            m.phones.push(p.clone());
        }
    }
    m.tags.extend(incoming.tags.iter().cloned());
    m.tags.sort();
    m.tags.dedup();
    if m.addresses.is_empty() {
        m.addresses.clone_from(&incoming.addresses);
    }
    if m.notes.is_empty() {
        m.notes.clone_from(&incoming.notes);
    }
    let set_org = existing.organization.is_none() && !record.organization.is_empty();
    if m != existing || set_org {
        b.update_contact(m, set_org.then_some(record.organization.as_str()))?;
    }
    Ok(id)
}

fn report(world: &World, started: std::time::Instant) {
    eprintln!(
        "{} store: seed {:#x}, {} steps in {:.1?}, {} undos checked against the state before, {} reopens",
        world.backend,
        world.seed,
        world.step,
        started.elapsed(),
        world.verified_undos,
        world.reopens
    );
    let end = world.snap();
    eprintln!(
        "  at the end: {} contacts, {} timeline entries, {} deals, {} in the trash, {} audit entries",
        end.contacts.len(),
        end.entries.len(),
        end.deals.len(),
        end.trash.len(),
        end.last_audit
    );
    for (op, [ok, refused]) in &world.stats {
        eprintln!("  {op:<24} {ok:>5} ok {refused:>5} refused");
    }
}

fn seed() -> u64 {
    env_number("ROLO_PROPS_SEED", DEFAULT_SEED)
}

#[test]
fn memory() {
    let seed = seed();
    let steps = env_number("ROLO_PROPS_STEPS", DEFAULT_STEPS as u64) as usize;
    eprintln!("in-memory store: ROLO_PROPS_SEED={seed:#x} ROLO_PROPS_STEPS={steps}");
    let started = std::time::Instant::now();
    let mut world = World::new(Store::in_memory().unwrap(), None, "memory", seed, steps);
    world.run();
    report(&world, started);
    assert!(world.verified_undos > 0, "no undo was checked");
}

#[test]
fn file() {
    let seed = seed();
    let steps = env_number("ROLO_PROPS_FILE_STEPS", DEFAULT_FILE_STEPS as u64) as usize;
    eprintln!("redb file: ROLO_PROPS_SEED={seed:#x} ROLO_PROPS_FILE_STEPS={steps}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("props.redb");
    let started = std::time::Instant::now();
    let mut world = World::new(Store::open(&path).unwrap(), Some(path), "file", seed, steps);
    world.run();
    report(&world, started);
    assert!(world.reopens > 0, "the file was never reopened");
}
