//! The in-memory search index: one folded key string per contact in a single buffer, plus a few
//! numeric columns, updated in place; and the scan that ranks it.
//!
//! Owns the compact record format ([`IndexEntry`]), the prefilters (per-entry char mask, name
//! initials, ordered-subsequence check), scoring (skim for terms of three chars or more, a
//! direct word-start/contains score for shorter ones), the two-core scan with a bounded top-k
//! heap and cooperative cancellation, and narrowing ([`Searcher`]). Knows nothing of threads
//! beyond one scan, nor of where entries are stored.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::fold::fold;
use super::query::{FilterKind, Query};
use super::{Hit, MatchField, SearchDoc};

mod analytic;
pub use analytic::{BoughtBuilder, CustomerFacts, CustomerScores};

/// Fields in key order, which is also the priority order for equal scores.
const FIELDS: [MatchField; 6] = [
    MatchField::Name,
    MatchField::Organization,
    MatchField::Email,
    MatchField::Phone,
    MatchField::City,
    MatchField::Tag,
];
/// Added to a term's score by the field it matched in: a name match beats an email match of the
/// same quality, which beats a tag match.
const FIELD_WEIGHT: [i64; 6] = [40, 30, 20, 15, 10, 0];
const NAME: usize = 0;
const ORG: usize = 1;
const PHONE: usize = 3;
const CITY: usize = 4;
const TAG: usize = 5;
const NO_DUE: i32 = i32::MIN;
const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 8 + 8 + 4 + 6 + 2;
/// Below this many candidates a scan stays on the calling thread.
const PARALLEL_MIN: usize = 16_384;
/// How many entries a scan looks at between cancellation checks.
const CANCEL_EVERY: usize = 4_096;

/// The compact, already-folded search record of one contact.
///
/// The key is `name org emails phone-digits city tags`, folded, each field cut to 255 bytes (on
/// a char boundary) with its length kept so matches can be attributed to a field. Emails are
/// whole (`vandelay.example` finds everyone at that domain); phones are their digits only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub id: u64,
    pub last_contact_ms: i64,
    pub next_due_day: Option<i32>,
    /// Folded stage.
    pub stage: String,
    /// Folded owner.
    pub owner: String,
    /// Byte length of each field of `key`, in [`MatchField`] order.
    pub field_lens: [u8; 6],
    pub key: String,
}

/// Why compact bytes could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("search record is {len} bytes, too short for its header")]
    Truncated { len: usize },
    #[error("search record has format version {0}, expected {FORMAT_VERSION}")]
    Version(u8),
    #[error("search record lengths do not add up to its size")]
    Lengths,
    #[error("search record text is not UTF-8")]
    Utf8,
}

/// Appends `text` to `key`, cut to 255 bytes on a char boundary; returns the bytes appended.
fn push_field(key: &mut String, text: &str) -> u8 {
    let mut end = text.len().min(255);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    key.push_str(&text[..end]);
    end as u8
}

fn short_label(text: &str) -> String {
    let folded = fold(text.trim());
    let mut end = folded.len().min(255);
    while !folded.is_char_boundary(end) {
        end -= 1;
    }
    folded[..end].to_owned()
}

impl IndexEntry {
    /// Folds a document into its search record.
    pub fn from_doc(doc: &SearchDoc) -> IndexEntry {
        let join = |parts: &mut dyn Iterator<Item = String>| {
            let mut out = String::new();
            for part in parts.filter(|p| !p.is_empty()) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&part);
            }
            out
        };
        let fields = [
            fold(&doc.name),
            fold(&doc.organization),
            join(&mut doc.emails.iter().map(|e| fold(e.trim()))),
            join(
                &mut doc
                    .phones
                    .iter()
                    .map(|p| p.chars().filter(char::is_ascii_digit).collect()),
            ),
            fold(&doc.city),
            join(
                &mut doc
                    .tags
                    .iter()
                    .map(|t| fold(t.trim().trim_start_matches('#'))),
            ),
        ];
        let mut key = String::with_capacity(fields.iter().map(String::len).sum());
        let mut field_lens = [0u8; 6];
        for (len, text) in field_lens.iter_mut().zip(&fields) {
            *len = push_field(&mut key, text.trim());
        }
        IndexEntry {
            id: doc.id,
            last_contact_ms: doc.last_contact_ms,
            next_due_day: doc.next_due_day,
            stage: short_label(&doc.stage),
            owner: short_label(&doc.owner),
            field_lens,
            key,
        }
    }

    /// The compact bytes: a fixed 29-byte little-endian header, then stage, owner and key text.
    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(HEADER_LEN + self.stage.len() + self.owner.len() + self.key.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.last_contact_ms.to_le_bytes());
        out.extend_from_slice(&self.next_due_day.unwrap_or(NO_DUE).to_le_bytes());
        out.extend_from_slice(&self.field_lens);
        let stage = &self.stage.as_bytes()[..self.stage.len().min(255)];
        let owner = &self.owner.as_bytes()[..self.owner.len().min(255)];
        out.push(stage.len() as u8);
        out.push(owner.len() as u8);
        out.extend_from_slice(stage);
        out.extend_from_slice(owner);
        let key_len: usize = self.field_lens.iter().map(|&l| usize::from(l)).sum();
        out.extend_from_slice(&self.key.as_bytes()[..key_len.min(self.key.len())]);
        out
    }

    /// Rewrites the recency fields of compact bytes in place (the store does this on every
    /// logged interaction without re-folding the text).
    pub fn set_recency(
        bytes: &mut [u8],
        last_contact_ms: i64,
        next_due_day: Option<i32>,
    ) -> Result<(), DecodeError> {
        if bytes.len() < HEADER_LEN {
            return Err(DecodeError::Truncated { len: bytes.len() });
        }
        if bytes[0] != FORMAT_VERSION {
            return Err(DecodeError::Version(bytes[0]));
        }
        bytes[9..17].copy_from_slice(&last_contact_ms.to_le_bytes());
        bytes[17..21].copy_from_slice(&next_due_day.unwrap_or(NO_DUE).to_le_bytes());
        Ok(())
    }

    /// Reads compact bytes back; borrowing, so loading costs little more than reading them.
    pub fn decode(bytes: &[u8]) -> Result<EntryView<'_>, DecodeError> {
        let header = bytes
            .get(..HEADER_LEN)
            .ok_or(DecodeError::Truncated { len: bytes.len() })?;
        if header[0] != FORMAT_VERSION {
            return Err(DecodeError::Version(header[0]));
        }
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            b
        };
        let mut due = [0u8; 4];
        due.copy_from_slice(&header[17..21]);
        let mut field_lens = [0u8; 6];
        field_lens.copy_from_slice(&header[21..27]);
        let stage_len = usize::from(header[27]);
        let owner_len = usize::from(header[28]);
        let rest = &bytes[HEADER_LEN..];
        let key_len: usize = field_lens.iter().map(|&l| usize::from(l)).sum();
        if rest.len() != stage_len + owner_len + key_len {
            return Err(DecodeError::Lengths);
        }
        let text = std::str::from_utf8(rest).map_err(|_| DecodeError::Utf8)?;
        let (stage, text) = split_str(text, stage_len)?;
        let (owner, key) = split_str(text, owner_len)?;
        let mut start = 0;
        for &len in &field_lens {
            start += usize::from(len);
            if !key.is_char_boundary(start) {
                return Err(DecodeError::Utf8);
            }
        }
        let due = i32::from_le_bytes(due);
        Ok(EntryView {
            id: u64::from_le_bytes(u64_at(1)),
            last_contact_ms: i64::from_le_bytes(u64_at(9)),
            next_due_day: (due != NO_DUE).then_some(due),
            stage,
            owner,
            field_lens,
            key,
        })
    }

    fn view(&self) -> EntryView<'_> {
        EntryView {
            id: self.id,
            last_contact_ms: self.last_contact_ms,
            next_due_day: self.next_due_day,
            stage: &self.stage,
            owner: &self.owner,
            field_lens: self.field_lens,
            key: &self.key,
        }
    }
}

fn split_str(text: &str, at: usize) -> Result<(&str, &str), DecodeError> {
    if text.is_char_boundary(at) {
        Ok(text.split_at(at))
    } else {
        Err(DecodeError::Utf8)
    }
}

/// A decoded [`IndexEntry`] borrowing the compact bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryView<'a> {
    pub id: u64,
    pub last_contact_ms: i64,
    pub next_due_day: Option<i32>,
    pub stage: &'a str,
    pub owner: &'a str,
    pub field_lens: [u8; 6],
    pub key: &'a str,
}

/// Bits: `a`–`z` 0–25, `0`–`9` 26–35, other bytes hashed into 36–63. Spaces are ignored.
fn char_mask(text: &str) -> u64 {
    text.bytes().fold(0u64, |mask, b| mask | byte_bit(b))
}

fn byte_bit(b: u8) -> u64 {
    BYTE_BITS[usize::from(b)]
}

/// [`char_mask`]'s bit of every byte, looked up rather than computed: the mask is taken of
/// every key at load, where a branch per byte showed.
const BYTE_BITS: [u64; 256] = {
    let mut bits = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        bits[b] = match byte {
            b' ' => 0,
            b'a'..=b'z' => 1 << (byte - b'a'),
            b'0'..=b'9' => 1 << (26 + byte - b'0'),
            _ => 1 << (36 + byte % 28),
        };
        b += 1;
    }
    bits
};

/// Bit of the first byte of a word for the name-initials mask: letters 0–25, digits 26, other 27
/// (28 and 29 mark short words, see [`ONE_CHAR_WORD`]).
fn initial_bit(b: u8) -> u32 {
    match b {
        b'a'..=b'z' => 1 << (b - b'a'),
        b'0'..=b'9' => 1 << 26,
        _ => 1 << 27,
    }
}

fn is_word_start(bytes: &[u8], at: usize) -> bool {
    at == 0
        || bytes
            .get(at - 1)
            .is_some_and(|&p| p.is_ascii() && !p.is_ascii_alphanumeric())
}

/// First bytes of every position where skim could give a boundary bonus in the name (word
/// starts, letter/digit changes, anything next to non-ASCII): a superset, as the pruning
/// bounds require.
fn name_initials(name: &str) -> u32 {
    let bytes = name.as_bytes();
    let mut mask = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b' ' {
            continue;
        }
        let continues_word = i > 0
            && ((b.is_ascii_lowercase() && bytes[i - 1].is_ascii_lowercase())
                || (b.is_ascii_digit() && bytes[i - 1].is_ascii_digit()));
        if !continues_word {
            mask |= initial_bit(b);
        }
    }
    mask
}

/// Marks kept above the initials (which use bits 0–27): the field holds a space-separated word
/// of one char, or of two. Only there can a one- or two-char term be a whole word, so only
/// there does its bound include [`WHOLE_WORD`] — without them `j` or `ol` bounded nearly every
/// contact above the heap's floor and had them all scored.
const ONE_CHAR_WORD: u32 = 1 << 28;
const TWO_CHAR_WORD: u32 = 1 << 29;

/// [`ONE_CHAR_WORD`] and [`TWO_CHAR_WORD`] of one field's text.
fn short_words(text: &str) -> u32 {
    text.split(' ').fold(0, |mask, word| {
        mask | match word.chars().count() {
            1 => ONE_CHAR_WORD,
            2 => TWO_CHAR_WORD,
            _ => 0,
        }
    })
}

/// [`short_words`] of every field after the name.
fn other_short_words(key: &str, field_lens: &[u8; 6]) -> u32 {
    let mut at = usize::from(field_lens[NAME]);
    let mut mask = 0;
    for &len in &field_lens[1..] {
        let end = at + usize::from(len);
        if let Some(text) = key.get(at..end) {
            mask |= short_words(text);
        }
        at = end;
    }
    mask
}

/// Initial bits of the first byte of every field after the name: fields sit back to back in
/// the key, so a field's start is a word start the byte scan of the joined text cannot see.
fn field_starts(key: &str, field_lens: &[u8; 6]) -> u32 {
    let bytes = key.as_bytes();
    let mut at = usize::from(field_lens[NAME]);
    let mut mask = 0;
    for &len in &field_lens[1..] {
        if len > 0
            && let Some(&b) = bytes.get(at)
        {
            mask |= initial_bit(b);
        }
        at += usize::from(len);
    }
    mask
}

/// Contact ids and short labels are not attacker-chosen hash keys, so a cheap hash will do.
/// An id keeps its own low bits (sequential ids land in neighbouring buckets, which makes a
/// bulk load cache-friendly) and gets mixed top bits (which the table uses as tags).
type FastHash = BuildHasherDefault<MixHasher>;

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(MIX);
        }
    }

    fn write_u64(&mut self, n: u64) {
        let n = self.0 ^ n;
        self.0 = n ^ (n.wrapping_mul(MIX) & 0xFE00_0000_0000_0000);
    }
}

/// Search limits and "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// At most this many hits are returned.
    pub limit: usize,
    /// Today's day number (days since 1970-01-01), for `due:` filters.
    pub today_day: i32,
}

/// The search index. Entries are slots in parallel columns; keys live in one `String`.
///
/// Ids are found without a hash table: slots `..sorted` hold ascending ids (a bulk load in id
/// order, and new contacts, whose ids only grow, land there) and are found by binary search;
/// only an id that arrives out of order gets an entry in `unsorted`. A removed contact leaves
/// a dead slot keeping its id, so restoring it reuses the slot; dead slots go at compaction.
#[derive(Debug, Default)]
pub struct Index {
    keys: String,
    /// Bytes of `keys` no longer referenced (replaced or removed); compacted when over half.
    garbage: usize,
    /// Where each slot's key starts in `keys` (which stays under 4 GiB, see [`MAX_KEYS`]).
    starts: Vec<u32>,
    field_lens: Vec<[u8; 6]>,
    masks: Vec<u64>,
    /// [`char_mask`] of the name alone: where an anchored term may be found scattered.
    name_masks: Vec<u64>,
    initials: Vec<u32>,
    /// The same of the other fields together (organisation, emails, phones, city, tags).
    other_initials: Vec<u32>,
    recency: Vec<i64>,
    due: Vec<i32>,
    /// Interned `(stage, owner)` pair of each slot, see `pairs`.
    labels: Vec<u32>,
    live: Vec<bool>,
    ids: Vec<u64>,
    /// First byte of each slot's name (0 when it has none), for the anchored scan's bounds.
    name0: Vec<u8>,
    /// Start of every key ever appended to `keys`, ascending, and the slot it was appended
    /// for: maps a position found in `keys` back to its slot. A key replaced since no longer
    /// matches its slot's `starts` and is skipped.
    offsets: Vec<u32>,
    by_offset: Vec<u32>,
    /// How many leading slots hold ascending ids.
    sorted: usize,
    /// Slots at or after `sorted`, by id.
    unsorted: HashMap<u64, u32, FastHash>,
    /// Live slots.
    count: usize,
    /// Slots whose contact was removed.
    dead: usize,
    /// Interned folded stage and owner names.
    names: Vec<String>,
    name_ids: HashMap<String, u32, FastHash>,
    /// `(stage, owner)` name ids; a slot's `labels` entry indexes this.
    pairs: Vec<(u32, u32)>,
    /// Pair ids by stage length, stage and owner text.
    pair_ids: HashMap<Vec<u8>, u32, FastHash>,
    /// Scratch for looking up `pair_ids`.
    pair_text: Vec<u8>,
    version: u64,
    /// Bumped when slots are renumbered (a rebuild): narrowing across it is impossible.
    epoch: u64,
    /// At most this many threads per scan (0: one per core). A server answering many clients
    /// at once runs each scan on one thread: its parallelism is the clients'.
    scan_threads: usize,
    /// On: every search is a plain full scan (the reference for the shortcuts, see
    /// [`Index::set_full_scans_only`]).
    full_scans_only: bool,
    /// The slots changed by the last [`TOUCHED`] versions, oldest first: a search narrowed
    /// from an older version rescans them too instead of starting over (in team mode other
    /// agents' writes bump the version several times a second).
    touched: std::collections::VecDeque<(u64, u32)>,
    /// Purchase columns and what customers bought (`analytic.rs`).
    analytic: analytic::Columns,
}

/// Where [`Index::slots_containing`] found a needle in a key: wholly inside the name, and
/// starting after it (in the other fields, or across two of them).
const IN_NAME: u8 = 1;
const AFTER_NAME: u8 = 2;
/// With [`WHOLE_KNOWN`]: which of those occurrences are a whole word of their field (the
/// [`WHOLE_WORD`] bonus needs one); without it, nothing is known of whole words.
const WHOLE_IN_NAME: u8 = 4;
const WHOLE_AFTER_NAME: u8 = 8;
const WHOLE_KNOWN: u8 = 16;
/// With [`WHOLE_KNOWN`]: a field after the name holding an occurrence has a word (a skim
/// boundary, see [`name_initials`]) starting with the term's first letter. Without it, no
/// field but the name can give the term its word-start score: the other fields' initials
/// together say nothing (every email has a `c` word, `.com`).
const FIRST_AFTER_NAME: u8 = 32;

/// How many recent slot changes the index remembers for narrowing across versions.
const TOUCHED: usize = 1 << 14;

/// Key text the index holds at most (offsets are `u32`): some 50 million contacts, far past
/// any memory budget. An entry that would not fit is indexed without its text, so filters
/// still find it.
const MAX_KEYS: usize = u32::MAX as usize;

impl Index {
    /// An empty index.
    pub fn new() -> Index {
        Index::default()
    }

    /// An empty index with room for `entries` records whose keys total `key_bytes`, so a bulk
    /// load never reallocates.
    pub fn with_capacity(entries: usize, key_bytes: usize) -> Index {
        Index {
            keys: String::with_capacity(key_bytes.min(MAX_KEYS)),
            starts: Vec::with_capacity(entries),
            field_lens: Vec::with_capacity(entries),
            masks: Vec::with_capacity(entries),
            initials: Vec::with_capacity(entries),
            other_initials: Vec::with_capacity(entries),
            recency: Vec::with_capacity(entries),
            due: Vec::with_capacity(entries),
            labels: Vec::with_capacity(entries),
            live: Vec::with_capacity(entries),
            ids: Vec::with_capacity(entries),
            name0: Vec::with_capacity(entries),
            name_masks: Vec::with_capacity(entries),
            offsets: Vec::with_capacity(entries),
            by_offset: Vec::with_capacity(entries),
            ..Index::default()
        }
    }

    /// Number of contacts indexed.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether `id` is indexed.
    pub fn contains(&self, id: u64) -> bool {
        self.slot_of(id).is_some_and(|slot| self.live[slot])
    }

    /// Caps the threads one scan uses (0: one per core, the default).
    pub fn set_scan_threads(&mut self, threads: usize) {
        self.scan_threads = threads;
    }

    /// Makes every search a plain full scan: no anchored substring pass, contacts scored in
    /// slot order, every field of a contact scored. The reference that tests and benchmarks
    /// measure the shortcuts against; results are the same either way.
    pub fn set_full_scans_only(&mut self, on: bool) {
        self.full_scans_only = on;
    }

    /// Changes on every upsert and removal.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn touch(&mut self, slot: usize) {
        if self.touched.len() == TOUCHED {
            self.touched.pop_front();
        }
        self.touched.push_back((self.version, slot as u32));
    }

    /// The slots changed after `version` within `epoch`, if all of them are still known.
    fn touched_since(&self, epoch: u64, version: u64) -> Option<Vec<u32>> {
        if epoch != self.epoch {
            return None;
        }
        if version == self.version {
            return Some(Vec::new());
        }
        // Every version after `version` must still be in the log.
        match self.touched.front() {
            Some(&(oldest, _)) if oldest <= version + 1 => {}
            _ => return None,
        }
        Some(
            self.touched
                .iter()
                .filter(|(v, _)| *v > version)
                .map(|&(_, slot)| slot)
                .collect(),
        )
    }

    /// Adds or replaces a contact.
    pub fn upsert(&mut self, doc: &SearchDoc) {
        self.upsert_entry(IndexEntry::from_doc(doc).view());
    }

    /// Adds or replaces a contact from its compact bytes ([`IndexEntry::encode`]).
    pub fn upsert_encoded(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        let view = IndexEntry::decode(bytes)?;
        self.upsert_entry(view);
        Ok(())
    }

    /// The slot holding `id`, live or dead.
    fn slot_of(&self, id: u64) -> Option<usize> {
        match self.ids[..self.sorted].binary_search(&id) {
            Ok(slot) => Some(slot),
            Err(_) => self.unsorted.get(&id).map(|&slot| slot as usize),
        }
    }

    /// Adds or replaces a contact from a decoded record.
    pub fn upsert_entry(&mut self, entry: EntryView<'_>) {
        self.version += 1;
        let mut field_lens = entry.field_lens;
        let mut key = entry.key;
        if self.keys.len() + key.len() > MAX_KEYS {
            self.rebuild();
            if self.keys.len() + key.len() > MAX_KEYS {
                field_lens = [0; 6];
                key = "";
            }
        }
        let start = self.keys.len() as u32;
        self.keys.push_str(key);
        let name_len = usize::from(field_lens[NAME]).min(key.len());
        let initials = key
            .get(..name_len)
            .map_or(0, |name| name_initials(name) | short_words(name));
        let other_initials = key.get(name_len..).map(name_initials).unwrap_or_default()
            | field_starts(key, &field_lens)
            | other_short_words(key, &field_lens);
        let labels = self.intern_pair(entry.stage, entry.owner);
        let due = entry.next_due_day.unwrap_or(NO_DUE);
        let mask = char_mask(key);
        let name_mask = key.get(..name_len).map(char_mask).unwrap_or_default();
        let name0 = if name_len > 0 { key.as_bytes()[0] } else { 0 };
        // A bulk load in id order only ever appends: no lookup needed.
        let in_order =
            self.sorted == self.ids.len() && self.ids.last().is_none_or(|&last| last < entry.id);
        let known = if in_order {
            None
        } else {
            self.slot_of(entry.id)
        };
        let Some(slot) = known else {
            let slot = self.ids.len();
            if in_order {
                self.sorted += 1;
            } else {
                self.unsorted.insert(entry.id, slot as u32);
            }
            self.starts.push(start);
            self.name0.push(name0);
            self.note_offset(start, slot, key.len());
            self.field_lens.push(field_lens);
            self.masks.push(mask);
            self.name_masks.push(name_mask);
            self.initials.push(initials);
            self.other_initials.push(other_initials);
            self.recency.push(entry.last_contact_ms);
            self.due.push(due);
            self.labels.push(labels);
            self.live.push(true);
            self.ids.push(entry.id);
            self.count += 1;
            self.touch(slot);
            if slot >= self.sorted {
                self.maybe_compact();
            }
            return;
        };
        if self.live[slot] {
            self.garbage += self.key_len(slot);
        } else {
            self.dead -= 1;
            self.count += 1;
        }
        self.starts[slot] = start;
        self.name0[slot] = name0;
        self.note_offset(start, slot, key.len());
        self.field_lens[slot] = field_lens;
        self.masks[slot] = mask;
        self.name_masks[slot] = name_mask;
        self.initials[slot] = initials;
        self.other_initials[slot] = other_initials;
        self.recency[slot] = entry.last_contact_ms;
        self.due[slot] = due;
        self.labels[slot] = labels;
        self.live[slot] = true;
        self.touch(slot);
        self.maybe_compact();
    }

    /// Removes a contact; unknown ids are ignored.
    pub fn remove(&mut self, id: u64) {
        let Some(slot) = self.slot_of(id).filter(|&slot| self.live[slot]) else {
            return;
        };
        self.version += 1;
        self.garbage += self.key_len(slot);
        self.live[slot] = false;
        self.field_lens[slot] = [0; 6];
        self.count -= 1;
        self.dead += 1;
        self.touch(slot);
        self.maybe_compact();
    }

    /// Approximate heap bytes held, for reports.
    pub fn memory_bytes(&self) -> usize {
        self.keys.capacity()
            + self.starts.capacity() * 4
            + self.field_lens.capacity() * 6
            + self.masks.capacity() * 8
            + self.initials.capacity() * 4
            + self.other_initials.capacity() * 4
            + self.recency.capacity() * 8
            + self.due.capacity() * 4
            + self.labels.capacity() * 4
            + self.live.capacity()
            + self.ids.capacity() * 8
            + self.unsorted.capacity() * 16
            + self.analytic.memory_bytes()
            + self.name0.capacity()
            + self.name_masks.capacity() * 8
            + self.offsets.capacity() * 4
            + self.by_offset.capacity() * 4
    }

    /// Records that `slot`'s key of `len` bytes now starts at `start` (the end of `keys`).
    fn note_offset(&mut self, start: u32, slot: usize, len: usize) {
        if len > 0 {
            self.offsets.push(start);
            self.by_offset.push(slot as u32);
        }
    }

    /// Live slots whose key contains `needle`, each once, in key order: one SIMD pass over all
    /// key text instead of a look at every entry. A hit may span two fields; scoring decides.
    /// With each slot, where its occurrences lie ([`IN_NAME`], [`AFTER_NAME`]).
    fn slots_containing(
        &self,
        needle: &str,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<(Vec<u32>, Vec<u8>)> {
        let mut out = Vec::new();
        let mut places: Vec<u8> = Vec::new();
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut cursor = 0usize;
        let mut last = u32::MAX;
        let hay = self.keys.as_bytes();
        // Every occurrence, overlapping ones too: keys (and a key's fields) lie back to back,
        // so the first of two overlapping occurrences may straddle a boundary and the second
        // be the one that counts ("…han" + "anabel…"). `find_iter` skips overlaps.
        let mut from = 0usize;
        let mut n = 0usize;
        while let Some(found) = hay.get(from..).and_then(|rest| finder.find(rest)) {
            let at = from + found;
            from = at + 1;
            n += 1;
            if n % CANCEL_EVERY == 0 && cancelled() {
                return None;
            }
            let at = at as u32;
            // The last key starting at or before `at`.
            cursor += self.offsets[cursor..].partition_point(|&o| o <= at);
            let Some(i) = cursor.checked_sub(1) else {
                continue;
            };
            cursor = i;
            let slot = self.by_offset[i];
            let s = slot as usize;
            if !self.live[s]
                || self.starts[s] != self.offsets[i]
                || at as usize + needle.len() > self.offsets[i] as usize + self.key_len(s)
            {
                continue;
            }
            let key_start = self.offsets[i] as usize;
            let key = &hay[key_start..key_start + self.key_len(s)];
            let place = self.occurrence_place(s, key, at as usize - key_start, needle.len());
            if slot == last {
                if let Some(p) = places.last_mut() {
                    *p |= place;
                }
                continue;
            }
            last = slot;
            out.push(slot);
            places.push(place);
        }
        Some((out, places))
    }

    /// [`Index::slots_containing`] among `within` (ascending slots) alone: each one's key
    /// searched on its own, for a term that extends one whose contacts are known.
    fn slots_containing_within(
        &self,
        needle: &str,
        within: &[u32],
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<(Vec<u32>, Vec<u8>)> {
        let mut out = Vec::new();
        let mut places: Vec<u8> = Vec::new();
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        for (n, &slot) in within.iter().enumerate() {
            if n % CANCEL_EVERY == 0 && cancelled() {
                return None;
            }
            let s = slot as usize;
            if s >= self.ids.len() || !self.live[s] {
                continue;
            }
            let key = self.whole_key(s);
            let mut place = 0u8;
            let mut from = 0usize;
            while let Some(found) = key.get(from..).and_then(|rest| finder.find(rest)) {
                let at = from + found;
                from = at + 1;
                place |= self.occurrence_place(s, key, at, needle.len());
            }
            if place != 0 {
                out.push(slot);
                places.push(place);
            }
        }
        Some((out, places))
    }

    /// Where an occurrence at `at..at + len` of `slot`'s `key` lies ([`IN_NAME`],
    /// [`AFTER_NAME`]) and whether it is a whole word of its field ([`WHOLE_KNOWN`] always).
    fn occurrence_place(&self, slot: usize, key: &[u8], at: usize, len: usize) -> u8 {
        let end = at + len;
        let name_end = usize::from(self.field_lens[slot][NAME]);
        let mut place = WHOLE_KNOWN
            | if end <= name_end {
                IN_NAME
            } else if at >= name_end {
                AFTER_NAME
            } else {
                0
            };
        // A whole word of the field it lies in: a word boundary (a space or the field's edge)
        // on both sides.
        let mut field_start = 0;
        for (field, &field_len) in self.field_lens[slot].iter().enumerate() {
            let field_end = field_start + usize::from(field_len);
            if at < field_end {
                let whole = end <= field_end
                    && (at == field_start || key[at - 1] == b' ')
                    && (end == field_end || key[end] == b' ');
                if whole {
                    place |= if field == NAME {
                        WHOLE_IN_NAME
                    } else {
                        WHOLE_AFTER_NAME
                    };
                }
                if field != NAME
                    && end <= field_end
                    && std::str::from_utf8(&key[field_start..field_end])
                        .map_or(true, |text| name_initials(text) & initial_bit(key[at]) != 0)
                {
                    place |= FIRST_AFTER_NAME;
                }
                break;
            }
            field_start = field_end;
        }
        place
    }

    fn key_len(&self, slot: usize) -> usize {
        self.field_lens[slot].iter().map(|&l| usize::from(l)).sum()
    }

    /// The id of a `(stage, owner)` pair of folded names.
    fn intern_pair(&mut self, stage: &str, owner: &str) -> u32 {
        // One lookup of both texts (length-prefixed, so unambiguous) in the common case.
        let mut both = std::mem::take(&mut self.pair_text);
        both.clear();
        both.extend_from_slice(&(stage.len() as u64).to_le_bytes());
        both.extend_from_slice(stage.as_bytes());
        both.extend_from_slice(owner.as_bytes());
        let id = match self.pair_ids.get(both.as_slice()) {
            Some(&id) => id,
            None => {
                let id = self.pairs.len() as u32;
                let pair = (self.intern(stage), self.intern(owner));
                self.pairs.push(pair);
                self.pair_ids.insert(both.clone(), id);
                id
            }
        };
        self.pair_text = both;
        id
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.name_ids.insert(name.to_owned(), id);
        id
    }

    /// Reclaims replaced and removed key text once it is over half the buffer, and dead or
    /// out-of-order slots once they are many.
    fn maybe_compact(&mut self) {
        let many = |n: usize, of: usize| n >= 1 << 16 && n * 2 >= of;
        if many(self.garbage, self.keys.len())
            || many(self.dead, self.ids.len())
            || (self.unsorted.len() >= 1 << 16 && self.unsorted.len() * 16 >= self.ids.len())
        {
            self.rebuild();
        }
    }

    /// Rewrites the columns with live slots only, in id order, and their keys back to back.
    fn rebuild(&mut self) {
        self.epoch += 1;
        self.touched.clear();
        let mut order: Vec<u32> = (0..self.ids.len() as u32)
            .filter(|&slot| self.live[slot as usize])
            .collect();
        order.sort_unstable_by_key(|&slot| self.ids[slot as usize]);
        let mut keys = String::with_capacity(self.keys.len() - self.garbage);
        let mut starts = Vec::with_capacity(order.len());
        for &slot in &order {
            starts.push(keys.len() as u32);
            keys.push_str(self.whole_key_str(slot as usize));
        }
        fn pick<T: Copy>(column: &[T], order: &[u32]) -> Vec<T> {
            order.iter().map(|&slot| column[slot as usize]).collect()
        }
        self.field_lens = pick(&self.field_lens, &order);
        self.masks = pick(&self.masks, &order);
        self.name_masks = pick(&self.name_masks, &order);
        self.initials = pick(&self.initials, &order);
        self.other_initials = pick(&self.other_initials, &order);
        self.recency = pick(&self.recency, &order);
        self.due = pick(&self.due, &order);
        self.labels = pick(&self.labels, &order);
        self.analytic.reorder(&order);
        self.ids = pick(&self.ids, &order);
        self.live = vec![true; order.len()];
        self.name0 = pick(&self.name0, &order);
        self.offsets.clear();
        self.by_offset.clear();
        for (slot, &start) in starts.iter().enumerate() {
            if self.key_len(slot) > 0 {
                self.offsets.push(start);
                self.by_offset.push(slot as u32);
            }
        }
        self.keys = keys;
        self.starts = starts;
        self.garbage = 0;
        self.sorted = order.len();
        self.unsorted = HashMap::default();
        self.dead = 0;
        self.version += 1;
    }

    fn field(&self, slot: usize, field: usize) -> &str {
        let lens = &self.field_lens[slot];
        let start = self.starts[slot] as usize
            + lens[..field].iter().map(|&l| usize::from(l)).sum::<usize>();
        self.keys
            .get(start..start + usize::from(lens[field]))
            .unwrap_or_default()
    }

    fn whole_key_str(&self, slot: usize) -> &str {
        let start = self.starts[slot] as usize;
        self.keys
            .get(start..start + self.key_len(slot))
            .unwrap_or_default()
    }

    fn whole_key(&self, slot: usize) -> &[u8] {
        let start = self.starts[slot] as usize;
        self.keys
            .as_bytes()
            .get(start..start + self.key_len(slot))
            .unwrap_or_default()
    }

    /// A fresh (non-narrowed, uncancellable) search.
    pub fn search(&self, query: &Query, options: SearchOptions) -> Vec<Hit> {
        let compiled = Compiled::new(self, query, options.today_day);
        if let Anchored::Found {
            hits: Some(hits), ..
        } = self.anchored_scan(&compiled, options.limit, None, &|| false)
        {
            return hits;
        }
        self.scan(
            &compiled,
            Candidates::All(self.ids.len()),
            options.limit,
            &|| false,
        )
        .map(|(hits, _)| hits)
        .unwrap_or_default()
    }

    /// Ranks `candidates`; `None` when cancelled. Also returns the slots that may match (a
    /// superset of the matches) for narrowing.
    fn scan(
        &self,
        query: &Compiled,
        candidates: Candidates<'_>,
        limit: usize,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<(Vec<Hit>, SlotSet)> {
        let requested = limit;
        // Deep enough to tell whether the anchored terms have `FUZZY_BELOW` contiguous
        // matches, which leaves the fuzzy ones out (see `anchored_scan`).
        let anchored = query.anchor().is_some();
        let limit = if anchored {
            limit.max(FUZZY_BELOW)
        } else {
            limit
        };
        let count = candidates.len();
        let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        if self.scan_threads > 0 {
            threads = threads.min(self.scan_threads);
        }
        let stop = AtomicBool::new(false);
        let parts: Vec<Option<Part>> = if threads == 1 || count < PARALLEL_MIN {
            vec![self.scan_part(query, candidates, 0..count, limit, cancelled, &stop)]
        } else {
            let per = count.div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let range = (t * per).min(count)..((t + 1) * per).min(count);
                        let stop = &stop;
                        scope.spawn(move || {
                            self.scan_part(query, candidates, range, limit, cancelled, stop)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().ok().flatten())
                    .collect()
            })
        };
        let mut heap = TopK::new(limit);
        let mut superset = SlotSetBuilder::new(self.ids.len());
        for part in parts {
            let part = part?;
            superset.append(part.superset);
            for Reverse(ranked) in part.top.heap {
                heap.offer(ranked);
            }
        }
        let mut ranked = heap.heap.into_vec();
        ranked.sort_unstable();
        let mut hits: Vec<Hit> = ranked
            .into_iter()
            .map(|Reverse(r)| Hit {
                id: r.id,
                score: r.score,
                field: FIELDS[usize::from(r.field)],
            })
            .collect();
        let solid = hits.iter().filter(|h| h.score > -TYPO_PENALTY).count();
        if solid < limit && query.terms.iter().any(|t| t.typos > 0) {
            // Typo matches rank below direct matches, above scattered ones; merged by score.
            hits.extend(self.typo_scan(query, limit - solid, cancelled)?);
            hits.sort_by_key(|h| Reverse(h.score));
            // A scattered match may also be a typo match: keep its better (typo) rank.
            let mut seen = std::collections::HashSet::with_capacity(hits.len());
            hits.retain(|h| seen.insert(h.id));
            hits.truncate(limit);
        }
        if anchored {
            let outside = query.outside();
            if hits.iter().filter(|h| h.score > outside).count() >= FUZZY_BELOW {
                hits.retain(|h| h.score > outside);
            }
        }
        hits.truncate(requested);
        Some((hits, superset.finish()))
    }

    /// Contacts found only when a term is read with a typo in a name word (`gomes` → Gomez),
    /// best first, all ranked below direct matches. Scans every entry (typo matches are not
    /// narrowed), but only name words starting with the term's first letter are compared.
    fn typo_scan(
        &self,
        query: &Compiled,
        limit: usize,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Vec<Hit>> {
        let matcher = SkimMatcherV2::default().respect_case();
        let mut top = TopK::new(limit);
        let typo_initials = query
            .terms
            .iter()
            .filter(|t| t.typos > 0)
            .fold(0, |m, t| m | t.first_initial);
        for s in 0..self.ids.len() {
            if s % CANCEL_EVERY == 0 && cancelled() {
                return None;
            }
            if !self.live[s]
                || self.initials[s] & typo_initials == 0
                || !query.filters_hold(self, s)
            {
                continue;
            }
            let name = self.field(s, NAME);
            // Some term must be a typo of a name word: the cheap test first.
            if !query
                .terms
                .iter()
                .any(|t| t.typos > 0 && t.typo_in(name).is_some())
            {
                continue;
            }
            let mut total = -TYPO_PENALTY;
            let mut typo_used = false;
            let mut first_field = NAME as u8;
            let mut all = true;
            for (n, term) in query.terms.iter().enumerate() {
                // A term without typo tolerance counts as found even scattered.
                let direct = term
                    .best_in(self, s, &matcher)
                    .filter(|&(score, _)| score > -TYPO_PENALTY || term.typos == 0);
                let found = direct.or_else(|| {
                    term.typo_in(name).map(|d| {
                        typo_used = true;
                        (FIELD_WEIGHT[NAME] - 10 * d as i64, NAME as u8)
                    })
                });
                let Some((score, field)) = found else {
                    all = false;
                    break;
                };
                total += score;
                if n == 0 {
                    first_field = field;
                }
            }
            if all && typo_used {
                top.offer(Ranked::new(
                    total,
                    self.recency[s],
                    self.ids[s],
                    first_field,
                ));
            }
        }
        let mut ranked = top.heap.into_vec();
        ranked.sort_unstable();
        Some(
            ranked
                .into_iter()
                .map(|Reverse(r)| Hit {
                    id: r.id,
                    score: r.score,
                    field: FIELDS[usize::from(r.field)],
                })
                .collect(),
        )
    }

    /// The exact top `limit` when the query's most selective [anchored](Term::anchored) term
    /// is found contiguously (in every anchored term's field) by at least [`FUZZY_BELOW`]
    /// contacts: then the results are those contacts alone, found from the substring's
    /// occurrences without looking at anyone else, and scattered and typo matches (which
    /// would rank below them all) are left out. `Some(None)` when the query has no anchored
    /// term or fewer contiguous matches (a full scan is needed, and lists the fuzzy matches
    /// after them); `None` when cancelled.
    ///
    /// Whether fuzzy matches are listed depends only on the data, never on `limit`, so a
    /// top-k is always the head of the complete ranking.
    ///
    /// The contacts holding the anchor are looked for among `within` alone when given (a
    /// superset of them: see [`Searcher`]), and returned for the next keystroke to narrow from.
    fn anchored_scan(
        &self,
        query: &Compiled,
        limit: usize,
        within: Option<&[u32]>,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Anchored {
        let Some(anchor) = query.anchor().filter(|_| !self.full_scans_only) else {
            return Anchored::NoAnchor;
        };
        let term = &query.terms[anchor];
        let found = match within {
            Some(slots) => self.slots_containing_within(&term.text, slots, cancelled),
            None => self.slots_containing(&term.text, cancelled),
        };
        let Some((candidates, places)) = found else {
            return Anchored::Cancelled;
        };
        if candidates.len() < FUZZY_BELOW {
            return Anchored::Found {
                hits: None,
                candidates,
            };
        }
        // Kept at least `FUZZY_BELOW` deep, to tell whether that many match.
        let depth = limit.max(FUZZY_BELOW);
        // Scored by falling bound, the anchor's bound knowing which fields hold it (a name
        // with the right initial but the word only in the city cannot score as a name
        // match), and names starting with the term's first letter first among equals: they
        // score highest, so the heap's bar rises early and the bound prunes most of the rest
        // unscored.
        // Block by block, as in [`Index::scan_part`]: candidates come in key order, and
        // reordering all of them at once would wander over the whole key text.
        let first = term.text.as_bytes()[0];
        let matcher = SkimMatcherV2::default().respect_case();
        let mut top = TopK::new(depth);
        let mut bounds: Vec<Option<i64>> = Vec::new();
        let mut keys: Vec<i64> = Vec::new();
        let mut seen = 0usize;
        for (block, block_places) in candidates.chunks(SCAN_BLOCK).zip(places.chunks(SCAN_BLOCK)) {
            bounds.clear();
            bounds.extend(block.iter().zip(block_places).map(|(&slot, &place)| {
                let s = slot as usize;
                query.upper_bound_placed(self.initials[s], self.other_initials[s], anchor, place)
            }));
            keys.clear();
            keys.extend(block.iter().zip(&bounds).map(|(&slot, bound)| {
                bound.map_or(i64::MAX, |bound| {
                    bound
                        .saturating_mul(2)
                        .saturating_add(i64::from(self.name0[slot as usize] == first))
                })
            }));
            for at in order_by_falling_key(&keys) {
                if seen % CANCEL_EVERY == 0 && cancelled() {
                    return Anchored::Cancelled;
                }
                seen += 1;
                let at = at as usize;
                let s = block[at] as usize;
                if self.masks[s] & query.mask != query.mask || !query.filters_hold(self, s) {
                    continue;
                }
                if let (Some(worst), Some(bound)) = (top.worst(), bounds[at])
                    && Ranked::new(bound, self.recency[s], self.ids[s], 0) <= *worst
                {
                    continue;
                }
                if let Some((score, field)) = query.score(self, s, &matcher) {
                    top.offer(Ranked::new(score, self.recency[s], self.ids[s], field));
                }
            }
        }
        // Everyone else either misses a term or has the anchor only scattered (or as a typo,
        // which ranks lower still): all at or below this line. A candidate is pruned only
        // once the heap is full, so when its worst is at or below the line every pruned one
        // is too, and the heap holds every contiguous match.
        let outside = query.outside();
        let contiguous = top.heap.iter().filter(|r| r.0.score > outside).count();
        if contiguous < FUZZY_BELOW {
            return Anchored::Found {
                hits: None,
                candidates,
            };
        }
        let mut ranked = top.heap.into_vec();
        ranked.sort_unstable();
        let hits = ranked
            .into_iter()
            .take_while(|r| r.0.score > outside)
            .take(limit)
            .map(|Reverse(r)| Hit {
                id: r.id,
                score: r.score,
                field: FIELDS[usize::from(r.field)],
            })
            .collect();
        Anchored::Found {
            hits: Some(hits),
            candidates,
        }
    }

    fn scan_part(
        &self,
        query: &Compiled,
        candidates: Candidates<'_>,
        range: std::ops::Range<usize>,
        limit: usize,
        cancelled: &(dyn Fn() -> bool + Sync),
        stop: &AtomicBool,
    ) -> Option<Part> {
        let mut part = Part {
            top: TopK::new(limit),
            superset: SlotSetBuilder::new(self.ids.len()),
        };
        let matcher = SkimMatcherV2::default().respect_case();
        // Block by block: first the cheap tests, keeping each survivor's bound; then scoring
        // in order of falling bound, so the heap's floor reaches its final height before the
        // many low-bound contacts come up and they are pruned unscored. Which contacts make
        // the top-k does not depend on the order (ranks are total: score, recency, id). Blocks
        // keep the reordering within a few MB of key text (one pass over 1M contacts in bound
        // order would wander over all of it) and its buffers small.
        // Once the heap is full, a contact whose bound cannot beat its floor (as it stood when
        // the block began: it only rises) is kept for narrowing there and then, never ordered
        // or looked at again: for a one-letter query, nearly everyone after the first blocks.
        let mut slots = Vec::new();
        let mut ranked_at: Vec<u32> = Vec::new();
        let mut bounds = Vec::new();
        let mut unmatched = Vec::new();
        let mut seen = 0usize;
        for block_start in range.clone().step_by(SCAN_BLOCK) {
            let block = block_start..(block_start + SCAN_BLOCK).min(range.end);
            slots.clear();
            ranked_at.clear();
            bounds.clear();
            let floor = if limit > 0 && !self.full_scans_only {
                part.top.worst().copied()
            } else {
                None
            };
            for i in block {
                if seen % CANCEL_EVERY == 0 && (stop.load(AtomicOrdering::Relaxed) || cancelled()) {
                    stop.store(true, AtomicOrdering::Relaxed);
                    return None;
                }
                seen += 1;
                let Some(slot) = candidates.slot(i) else {
                    continue;
                };
                let s = slot as usize;
                if !self.live[s]
                    || self.masks[s] & query.mask != query.mask
                    || !query.filters_hold(self, s)
                    || !query.anchors_may_match(self, s)
                {
                    continue;
                }
                let bound = query
                    .upper_bound(self.initials[s], self.other_initials[s])
                    .unwrap_or(i64::MAX);
                let at = slots.len() as u32;
                slots.push(slot);
                if let Some(floor) = &floor
                    && (bound < floor.score
                        || (bound == floor.score
                            && Ranked::new(bound, self.recency[s], self.ids[s], 0) <= *floor))
                {
                    continue;
                }
                ranked_at.push(at);
                bounds.push(bound);
            }
            // Slots found not to match: left out of the superset.
            unmatched.clear();
            unmatched.resize(slots.len(), false);
            let order = if self.full_scans_only {
                (0..bounds.len() as u32).collect()
            } else {
                order_by_falling_key(&bounds)
            };
            for o in order {
                if seen % CANCEL_EVERY == 0 && (stop.load(AtomicOrdering::Relaxed) || cancelled()) {
                    stop.store(true, AtomicOrdering::Relaxed);
                    return None;
                }
                seen += 1;
                let o = o as usize;
                let at = ranked_at[o] as usize;
                let s = slots[at] as usize;
                if limit > 0
                    && let Some(worst) = part.top.worst()
                    && Ranked::new(bounds[o], self.recency[s], self.ids[s], 0) <= *worst
                {
                    // Cannot make the top-k; kept as a candidate for narrowing unscored.
                    continue;
                }
                match query.score(self, s, &matcher) {
                    Some((score, field)) => {
                        part.top
                            .offer(Ranked::new(score, self.recency[s], self.ids[s], field))
                    }
                    None => unmatched[at] = true,
                }
            }
            for (&slot, _) in slots.iter().zip(&unmatched).filter(|&(_, &u)| !u) {
                part.superset.push(slot);
            }
        }
        Some(part)
    }
}

/// What [`Index::anchored_scan`] came to.
enum Anchored {
    Cancelled,
    /// The query has no anchored term (or every search is a full scan).
    NoAnchor,
    /// The contacts holding the anchor (ascending slots), and the results when they settle
    /// it (`None`: a full scan must rank the fuzzy matches too).
    Found {
        hits: Option<Vec<Hit>>,
        candidates: Vec<u32>,
    },
}

/// Contacts a full scan reorders by bound at a time (see [`Index::scan_part`]).
const SCAN_BLOCK: usize = 1 << 12;

/// Positions of `keys` by falling key, equal keys in their original order. Keys are bounds,
/// which take few distinct values: a counting sort over those, or a plain sort when many.
fn order_by_falling_key(keys: &[i64]) -> Vec<u32> {
    const FEW: usize = 64;
    let mut levels: Vec<i64> = Vec::new();
    for &key in keys {
        if levels.len() > FEW {
            break;
        }
        if !levels.contains(&key) {
            levels.push(key);
        }
    }
    if levels.len() > FEW {
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.sort_by_key(|&at| Reverse(keys[at as usize]));
        return order;
    }
    levels.sort_unstable_by_key(|&key| Reverse(key));
    let level_of = |key: i64| {
        levels
            .binary_search_by_key(&Reverse(key), |&l| Reverse(l))
            .unwrap_or(0)
    };
    let mut starts = vec![0usize; levels.len() + 1];
    let mut level_at = Vec::with_capacity(keys.len());
    for &key in keys {
        let level = level_of(key);
        level_at.push(level as u8);
        starts[level + 1] += 1;
    }
    for l in 1..starts.len() {
        starts[l] += starts[l - 1];
    }
    let mut order = vec![0u32; keys.len()];
    for (at, &level) in level_at.iter().enumerate() {
        let next = &mut starts[usize::from(level)];
        order[*next] = at as u32;
        *next += 1;
    }
    order
}

struct Part {
    top: TopK,
    superset: SlotSetBuilder,
}

#[derive(Clone, Copy)]
enum Candidates<'a> {
    All(usize),
    Slots(&'a [u32]),
    /// Slot `i` is a candidate when bit `i` is set; positions are slots, below the count.
    Bits(&'a [u64], usize),
}

impl Candidates<'_> {
    /// Positions to look at (see [`Candidates::slot`]).
    fn len(&self) -> usize {
        match self {
            Candidates::All(n) => *n,
            Candidates::Slots(s) => s.len(),
            Candidates::Bits(words, n) => (words.len() * 64).min(*n),
        }
    }

    /// The slot at position `i`, if it is a candidate.
    fn slot(&self, i: usize) -> Option<u32> {
        match self {
            Candidates::All(_) => Some(i as u32),
            Candidates::Slots(s) => Some(s[i]),
            Candidates::Bits(words, _) => {
                (words[i / 64] & (1 << (i % 64)) != 0).then_some(i as u32)
            }
        }
    }
}

/// Ordering: higher score, then more recent contact, then lower id is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ranked {
    score: i64,
    recency: i64,
    id: u64,
    field: u8,
}

impl Ranked {
    fn new(score: i64, recency: i64, id: u64, field: u8) -> Ranked {
        Ranked {
            score,
            recency,
            id,
            field,
        }
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .cmp(&other.score)
            .then(self.recency.cmp(&other.recency))
            .then(other.id.cmp(&self.id))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Bounded min-heap keeping the best `limit` entries.
struct TopK {
    limit: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl TopK {
    fn new(limit: usize) -> TopK {
        TopK {
            limit,
            heap: BinaryHeap::with_capacity(limit.min(4096) + 1),
        }
    }

    /// The entry a newcomer must beat, once full.
    fn worst(&self) -> Option<&Ranked> {
        if self.heap.len() < self.limit {
            None
        } else {
            self.heap.peek().map(|Reverse(r)| r)
        }
    }

    fn offer(&mut self, ranked: Ranked) {
        if self.heap.len() < self.limit {
            self.heap.push(Reverse(ranked));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && ranked > worst.0
        {
            *worst = Reverse(ranked);
        }
    }
}

/// Scores of the direct scorer for one- and two-char terms, shaped like skim's.
const SHORT_WORD_START: [i64; 3] = [0, 32, 56];
const SHORT_CONTIGUOUS: [i64; 3] = [0, 16, 36];
/// Best two-char score when the first char is not at a word start (a gap, second at a start).
const SHORT_SPLIT_MAX: i64 = 37;
/// Bonus when a term is a whole word of the field, so `john` ranks John before Johnny.
const WHOLE_WORD: i64 = 8;

/// Score of a phone-like term found in a phone number: above any text match, so a caller-ID
/// lookup (`7874`) lists the numbers that contain those digits first.
const PHONE_HIT: i64 = 400;
/// Added when the digits end the number (the last digits of a caller ID) or start it.
const PHONE_END: i64 = 30;
const PHONE_START: i64 = 20;
/// Highest score a phone-like term can reach in a phone number.
const PHONE_MAX: i64 = PHONE_HIT + PHONE_END + PHONE_START;
/// Digits a trunk-prefixed (`091…`) or international (`+385…`, `00385…`) term needs before its
/// national/international forms are tried too: shorter prefixes match too much.
const PHONE_VARIANT_MIN: usize = 6;

/// How a phone-like term may appear in a stored number's digits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// Anywhere.
    Anywhere,
    /// At the very start of the number (an international number typed in national form).
    Start,
    /// Right after a 1–3 digit country code (a national number, its trunk `0` dropped).
    AfterCountryCode,
}

/// A phone-like term's digits as they may be stored: as typed; with `00` read as `+`; with a
/// leading trunk `0` standing for a country code (`091 234 5678` finds `+385 91 234 5678`);
/// and an international number in national form (`+385 91…` finds `091…`).
fn phone_variants(text: &str, digits: &str) -> Vec<(String, Place)> {
    let mut out = vec![(digits.to_owned(), Place::Anywhere)];
    let plus = text.trim_start().starts_with('+');
    let international = if plus {
        Some(digits)
    } else {
        digits.strip_prefix("00")
    };
    if let Some(intl) = international {
        if !plus && !intl.is_empty() {
            // `00` is `+`: the country code starts the stored number.
            out.push((intl.to_owned(), Place::Start));
        }
        if intl.len() > PHONE_VARIANT_MIN {
            for cc in 1..=3 {
                out.push((format!("0{}", &intl[cc..]), Place::Start));
            }
        }
    } else if let Some(national) = digits.strip_prefix('0')
        && digits.len() >= PHONE_VARIANT_MIN
        && !national.starts_with('0')
    {
        out.push((national.to_owned(), Place::AfterCountryCode));
    }
    out
}

/// The score of a phone-like term against one stored number's digits.
fn phone_score(number: &str, variants: &[(String, Place)]) -> Option<i64> {
    let mut best = None;
    for (digits, place) in variants {
        let found = match place {
            Place::Anywhere => number
                .match_indices(digits.as_str())
                .map(|(at, _)| at)
                .last(),
            Place::Start => number.starts_with(digits.as_str()).then_some(0),
            Place::AfterCountryCode => (!number.starts_with('0'))
                .then(|| {
                    (1..=3).find(|&at| {
                        number
                            .get(at..)
                            .is_some_and(|r| r.starts_with(digits.as_str()))
                    })
                })
                .flatten(),
        };
        if let Some(at) = found {
            let start = !matches!(place, Place::Anywhere) || at == 0;
            let score = PHONE_HIT
                + if at + digits.len() == number.len() {
                    PHONE_END
                } else {
                    0
                }
                + if start { PHONE_START } else { 0 };
            best = best.max(Some(score));
        }
    }
    best
}

/// Typo tolerance: terms of at least this many letters also find a name word one edit away
/// (a substituted, inserted, dropped or transposed letter); from [`TYPO_TWO`] letters, two.
const TYPO_MIN: usize = 4;
const TYPO_TWO: usize = 8;
/// A typo match's score sits this far below every direct match.
const TYPO_PENALTY: i64 = 10_000;
/// What an anchored term found only scattered through a field loses (see `Term::best_in`).
const SCATTERED_PENALTY: i64 = 2 * TYPO_PENALTY;
/// Letters from which a term is [anchored](Term::anchored).
const ANCHOR_MIN: usize = 3;
/// With at least this many contiguous matches of an anchored term, its scattered and typo
/// matches are not listed (see [`Index::anchored_scan`]): a screenful of people who really
/// have the word beats a list padded with noise, and finding them takes a substring search
/// instead of a fuzzy pass over everyone.
const FUZZY_BELOW: usize = 20;

/// Optimal-string-alignment distance of `a` and `b` if it is at most `max`.
fn typo_distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut rows = vec![0usize; width * (a.len() + 1)];
    for (j, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
    }
    let d = rows[a.len() * width + b.len()];
    (d <= max).then_some(d)
}

struct Term {
    text: String,
    /// Digits only, when the term looks like a phone number ("555-1234", "5551234").
    digits: Option<String>,
    /// The forms a phone-like term's digits may take in a stored number.
    phone: Vec<(String, Place)>,
    chars: usize,
    /// The bytes every match must contain in order (for phone-like terms, digits every form
    /// of the number shares).
    required: Vec<u8>,
    first_initial: u32,
    /// Best score skim can give this term anywhere: the term matched against itself.
    best_skim: i64,
    /// Edits a typo match may need; 0 when the term gets no typo tolerance.
    typos: usize,
    /// A word of three or more letters: found only scattered through a field (not as a
    /// substring of it) it scores [`SCATTERED_PENALTY`] less, so every contiguous match ranks
    /// first and can be found by a substring search ([`Index::anchored_scan`]).
    anchored: bool,
}

impl Term {
    fn new(text: &str) -> Term {
        let phone_like = super::query::is_phone_like(text);
        let digits: Option<String> =
            phone_like.then(|| text.chars().filter(char::is_ascii_digit).collect());
        let phone = digits
            .as_deref()
            .map(|d| phone_variants(text, d))
            .unwrap_or_default();
        // Every form of a number ends with their common suffix: what any match must hold.
        let required = match phone.split_first() {
            Some(((first, _), rest)) => {
                let mut suffix = first.as_bytes();
                for (other, _) in rest {
                    let common = suffix
                        .iter()
                        .rev()
                        .zip(other.as_bytes().iter().rev())
                        .take_while(|(a, b)| a == b)
                        .count();
                    suffix = &suffix[suffix.len() - common..];
                }
                suffix.to_vec()
            }
            None => text.as_bytes().to_vec(),
        };
        let first_initial = text.bytes().next().map_or(0, initial_bit);
        let matcher = SkimMatcherV2::default().respect_case();
        let self_score = |t: &str| matcher.fuzzy_match(t, t).unwrap_or(0);
        let best_skim = self_score(text).max(digits.as_deref().map_or(0, self_score));
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        let typos = if digits.is_some() || letters < TYPO_MIN || letters != text.chars().count() {
            0
        } else if letters < TYPO_TWO {
            1
        } else {
            2
        };
        let anchored = digits.is_none() && letters >= ANCHOR_MIN && letters == text.chars().count();
        Term {
            anchored,
            text: text.to_owned(),
            chars: text.chars().count(),
            digits,
            phone,
            required,
            first_initial,
            best_skim,
            typos,
        }
    }

    /// Upper bound of this term's score given the entry's word initials in its name and in
    /// its other fields (see [`name_initials`]).
    ///
    /// Nothing beats the term against itself (contiguous, at the very start of a field). A
    /// first char that starts no word of a field loses its word-start bonus there (for skim,
    /// its doubled boundary bonus, 2 x 8), and cannot make a whole word either.
    fn upper_bound(&self, name: u32, other: u32) -> Option<i64> {
        self.upper_bound_placed(name, other, IN_NAME | AFTER_NAME)
    }

    /// [`Term::upper_bound`] for an anchored term known to be contiguous only where `place`
    /// says ([`IN_NAME`], [`AFTER_NAME`]): a name without it can only have it scattered
    /// ([`SCATTERED_PENALTY`] less), and the other fields without it skip it altogether.
    fn upper_bound_placed(&self, name: u32, other: u32, place: u8) -> Option<i64> {
        let place = if self.anchored {
            place
        } else {
            IN_NAME | AFTER_NAME
        };
        let known = self.anchored && place & WHOLE_KNOWN != 0;
        let whole = if known {
            (place & WHOLE_IN_NAME != 0, place & WHOLE_AFTER_NAME != 0)
        } else {
            (true, true)
        };
        let other = if known && place & FIRST_AFTER_NAME == 0 {
            other & !self.first_initial
        } else {
            other
        };
        let (in_name, in_other) = self.upper_bound_fields(name, other, whole)?;
        let in_name = if place & IN_NAME == 0 {
            in_name - SCATTERED_PENALTY
        } else {
            in_name
        };
        Some(if place & AFTER_NAME == 0 {
            in_name
        } else {
            in_name.max(in_other)
        })
    }

    /// The bounds of [`Term::upper_bound`] in the name and in the other fields; `whole` says
    /// whether each may hold the term as a whole word.
    fn upper_bound_fields(&self, name: u32, other: u32, whole: (bool, bool)) -> Option<(i64, i64)> {
        if self.digits.is_some() {
            let bound = PHONE_MAX.max(FIELD_WEIGHT[NAME] + self.best_skim + WHOLE_WORD);
            return Some((bound, bound));
        }
        let (at_start, inside, short_word) = if self.chars > 2 {
            (self.best_skim, self.best_skim - 16, None)
        } else if self.chars == 1 {
            (
                SHORT_WORD_START[1],
                SHORT_CONTIGUOUS[1],
                Some(ONE_CHAR_WORD),
            )
        } else {
            (
                SHORT_WORD_START[2],
                SHORT_CONTIGUOUS[2].max(SHORT_SPLIT_MAX),
                Some(TWO_CHAR_WORD),
            )
        };
        // A whole word is a word start too, so only `at_start` can gain its bonus; a one- or
        // two-char term only where the field has a word that short.
        let in_field = |initials: u32, weight: i64, whole: bool| {
            weight
                + if initials & self.first_initial == 0 {
                    inside
                } else if whole && short_word.is_none_or(|bit| initials & bit != 0) {
                    at_start + WHOLE_WORD
                } else {
                    at_start
                }
        };
        Some((
            in_field(name, FIELD_WEIGHT[NAME], whole.0),
            in_field(other, FIELD_WEIGHT[ORG], whole.1),
        ))
    }

    /// The term's score in one field, the field's weight not included.
    fn score_field(&self, field_text: &str, field: usize, matcher: &SkimMatcherV2) -> Option<i64> {
        if self.digits.is_some() {
            // A number is its digits in a row: in a phone, any of its forms; elsewhere (a
            // street number, an email like `ana1984@`), the text as typed, contiguous.
            if field == PHONE {
                return field_text
                    .split(' ')
                    .filter_map(|number| phone_score(number, &self.phone))
                    .max()
                    .map(|s| s - FIELD_WEIGHT[PHONE]);
            }
            if !field_text.contains(self.text.as_str()) {
                return None;
            }
            return matcher.fuzzy_match(field_text, &self.text);
        }
        let pattern = self.text.as_str();
        if !is_subsequence(field_text.as_bytes(), pattern.as_bytes()) {
            return None;
        }
        let score = if self.chars <= 2 {
            short_score(field_text, pattern)
        } else {
            matcher.fuzzy_match(field_text, pattern)
        }?;
        let whole_word = field_text.split(' ').any(|word| word == pattern);
        Some(if whole_word {
            score + WHOLE_WORD
        } else {
            score
        })
    }

    /// The term's best score over the fields of a slot, weight included, and that field. A
    /// anchored term found only scattered through a field (`gomes` in "Globex Media")
    /// scores [`SCATTERED_PENALTY`] less, below typo matches: likelier noise than a typo.
    fn best_in(&self, index: &Index, slot: usize, matcher: &SkimMatcherV2) -> Option<(i64, u8)> {
        if self.digits.is_none() && self.chars > 2 {
            // A name that starts with the term scores what the term scores against itself,
            // the most any field can give (see `upper_bound`): no other field can beat it.
            let name = index.field(slot, NAME);
            if name.starts_with(self.text.as_str()) {
                let whole_word = name.split(' ').any(|word| word == self.text);
                let bonus = if whole_word { WHOLE_WORD } else { 0 };
                return Some((FIELD_WEIGHT[NAME] + self.best_skim + bonus, NAME as u8));
            }
        }
        let mut best: Option<(i64, u8)> = None;
        let field_max = self.field_max().filter(|_| !index.full_scans_only);
        for (field, weight) in FIELD_WEIGHT.iter().enumerate() {
            // Weights fall field by field: once a field's best cannot beat the best so far,
            // no later field can (an equal score keeps the earlier field).
            if let (Some(max), Some((b, _))) = (field_max, best)
                && weight + max <= b
            {
                break;
            }
            let text = index.field(slot, field);
            // Scattered through an email, a city or tags is noise; only a name may be
            // misremembered that way ("jhn smth").
            let scattered = self.anchored && !text.contains(self.text.as_str());
            if scattered && field != NAME {
                continue;
            }
            if let Some(score) = self.score_field(text, field, matcher) {
                let mut score = score + weight;
                if scattered {
                    score -= SCATTERED_PENALTY;
                }
                if best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, field as u8));
                }
            }
        }
        best
    }

    /// The most [`Term::score_field`] can give this term in any field (`None` for a
    /// phone-like term, whose phone score is of another scale).
    fn field_max(&self) -> Option<i64> {
        if self.digits.is_some() {
            None
        } else if self.chars <= 2 {
            Some(SHORT_WORD_START[self.chars] + WHOLE_WORD)
        } else {
            Some(self.best_skim + WHOLE_WORD)
        }
    }

    /// The fewest edits between this term and a word of `name`, within the term's tolerance.
    fn typo_in(&self, name: &str) -> Option<usize> {
        if self.typos == 0 {
            return None;
        }
        let term = self.text.as_bytes();
        name.split([' ', '-'])
            .filter(|w| w.as_bytes().first() == term.first())
            .filter_map(|w| typo_distance(term, w.as_bytes(), self.typos))
            .min()
    }
}

fn is_subsequence(haystack: &[u8], needle: &[u8]) -> bool {
    let mut rest = haystack;
    for &b in needle {
        match rest.iter().position(|&h| h == b) {
            Some(at) => rest = &rest[at + 1..],
            None => return false,
        }
    }
    true
}

/// Direct score of a one- or two-char term: word start > contiguous > split.
fn short_score(field: &str, term: &str) -> Option<i64> {
    let mut chars = term.chars();
    let first = chars.next()?;
    let second = chars.next();
    let bytes = field.as_bytes();
    let mut best: Option<i64> = None;
    for (at, _) in field.match_indices(first) {
        let start = is_word_start(bytes, at);
        let after = at + first.len_utf8();
        let score = match second {
            None if start => SHORT_WORD_START[1],
            None => SHORT_CONTIGUOUS[1],
            Some(second) => {
                let rest = &field[after..];
                if rest.starts_with(second) {
                    if start {
                        SHORT_WORD_START[2]
                    } else {
                        SHORT_CONTIGUOUS[2]
                    }
                } else if let Some(gap) = rest.find(second) {
                    let second_start = is_word_start(bytes, after + gap);
                    32 - 3 - (gap as i64 - 1).min(10)
                        + if start { 16 } else { 0 }
                        + if second_start { 8 } else { 0 }
                } else {
                    break;
                }
            }
        };
        best = Some(best.map_or(score, |b: i64| b.max(score)));
        if start && (second.is_none() || score == SHORT_WORD_START[2]) {
            break;
        }
    }
    best
}

/// A query resolved against one index: folded terms, masks, label tables.
struct Compiled<'q> {
    terms: Vec<Term>,
    /// Each anchored term's index, letter mask and substring finder.
    anchors: Vec<(usize, u64, memchr::memmem::Finder<'static>)>,
    mask: u64,
    filters: Vec<CompiledFilter<'q>>,
    today_day: i32,
}

enum CompiledFilter<'q> {
    Text {
        field: usize,
        value: &'q str,
        tag: bool,
        negated: bool,
    },
    /// `allowed` is indexed by `(stage, owner)` pair id.
    Label { allowed: Vec<bool>, negated: bool },
    Due {
        window: super::query::DueWindow,
        negated: bool,
    },
    /// `rfm:`, `r:`, `orders>=`, `bought:` … (`analytic.rs`).
    Purchases(analytic::Filter),
}

impl<'q> Compiled<'q> {
    fn new(index: &Index, query: &'q Query, today_day: i32) -> Compiled<'q> {
        let terms: Vec<Term> = query.terms().iter().map(|t| Term::new(t)).collect();
        let mask = terms.iter().fold(0, |m, t| {
            m | t.required.iter().fold(0, |m, &b| m | byte_bit(b))
        });
        let filters = query
            .filters()
            .iter()
            .map(|f| {
                let negated = f.negated;
                match &f.kind {
                    FilterKind::Tag(v) => CompiledFilter::Text {
                        field: TAG,
                        value: v,
                        tag: true,
                        negated,
                    },
                    FilterKind::Organization(v) => CompiledFilter::Text {
                        field: ORG,
                        value: v,
                        tag: false,
                        negated,
                    },
                    FilterKind::City(v) => CompiledFilter::Text {
                        field: CITY,
                        value: v,
                        tag: false,
                        negated,
                    },
                    FilterKind::Stage(v) => CompiledFilter::Label {
                        allowed: index
                            .pairs
                            .iter()
                            .map(|&(stage, _)| index.names[stage as usize].starts_with(v.as_str()))
                            .collect(),
                        negated,
                    },
                    FilterKind::Owner(v) => CompiledFilter::Label {
                        allowed: index
                            .pairs
                            .iter()
                            .map(|&(_, owner)| word_prefix(&index.names[owner as usize], v))
                            .collect(),
                        negated,
                    },
                    FilterKind::Due(window) => CompiledFilter::Due {
                        window: *window,
                        negated,
                    },
                    kind => match analytic::Filter::compile(index, kind, negated, today_day) {
                        Some(filter) => CompiledFilter::Purchases(filter),
                        // Every other kind is a purchase filter; one that were not would hold
                        // for nobody.
                        None => CompiledFilter::Label {
                            allowed: Vec::new(),
                            negated,
                        },
                    },
                }
            })
            .collect();
        let anchors = terms
            .iter()
            .enumerate()
            .filter(|(_, t)| t.anchored)
            .map(|(n, t)| {
                let finder = memchr::memmem::Finder::new(t.text.as_bytes()).into_owned();
                (n, char_mask(&t.text), finder)
            })
            .collect();
        Compiled {
            anchors,
            terms,
            mask,
            filters,
            today_day,
        }
    }

    /// Whether every anchored term may match `slot`: scattered in the name (its letters are
    /// all there) or as a substring of the key. Cheap, and false for most contacts when a
    /// term is rare.
    fn anchors_may_match(&self, index: &Index, slot: usize) -> bool {
        self.anchors.iter().all(|(_, mask, finder)| {
            index.name_masks[slot] & mask == *mask || finder.find(index.whole_key(slot)).is_some()
        })
    }

    /// A score above which only contacts holding every anchored term contiguously can be:
    /// anyone else has a term scattered ([`SCATTERED_PENALTY`] less than its best) or a typo.
    fn outside(&self) -> i64 {
        self.terms
            .iter()
            .map(|t| t.upper_bound(u32::MAX, u32::MAX).unwrap_or(i64::MAX / 4))
            .sum::<i64>()
            .saturating_sub(TYPO_PENALTY.min(SCATTERED_PENALTY))
    }

    /// The anchored term whose text is longest (the fewest contacts hold it).
    fn anchor(&self) -> Option<usize> {
        self.terms
            .iter()
            .enumerate()
            .filter(|(_, t)| t.anchored)
            .max_by_key(|(_, t)| t.text.len())
            .map(|(n, _)| n)
    }

    fn filters_hold(&self, index: &Index, slot: usize) -> bool {
        self.filters.iter().all(|filter| match filter {
            CompiledFilter::Due { window, negated } => {
                let due = index.due[slot];
                (due != NO_DUE && window.contains(due, self.today_day)) != *negated
            }
            CompiledFilter::Label { allowed, negated } => {
                let pair = index.labels[slot];
                allowed.get(pair as usize).copied().unwrap_or(false) != *negated
            }
            CompiledFilter::Purchases(filter) => filter.holds(index, slot),
            CompiledFilter::Text {
                field,
                value,
                tag,
                negated,
            } => {
                let text = index.field(slot, *field);
                let hit = if *tag {
                    text.split(' ').any(|t| t.starts_with(value))
                } else {
                    word_prefix(text, value)
                };
                hit != *negated
            }
        })
    }

    fn upper_bound(&self, name: u32, other: u32) -> Option<i64> {
        if self.terms.is_empty() {
            return Some(0);
        }
        self.terms.iter().map(|t| t.upper_bound(name, other)).sum()
    }

    /// [`Compiled::upper_bound`] with term `anchor` found contiguously only at `place`.
    fn upper_bound_placed(&self, name: u32, other: u32, anchor: usize, place: u8) -> Option<i64> {
        self.terms
            .iter()
            .enumerate()
            .map(|(n, t)| {
                if n == anchor {
                    t.upper_bound_placed(name, other, place)
                } else {
                    t.upper_bound(name, other)
                }
            })
            .sum()
    }

    /// Sum of each term's best field score, and the field of the first term; `None` if a term
    /// matches in no field.
    fn score(&self, index: &Index, slot: usize, matcher: &SkimMatcherV2) -> Option<(i64, u8)> {
        let key = index.whole_key(slot);
        let mut total = 0;
        let mut first_field = 0u8;
        for (n, term) in self.terms.iter().enumerate() {
            if !is_subsequence(key, &term.required) {
                return None;
            }
            let (score, field) = term.best_in(index, slot, matcher)?;
            total += score;
            if n == 0 {
                first_field = field;
            }
        }
        Some((total, first_field))
    }
}

/// Which value of `doc` the query's text matched best, as stored (e.g. `(Phone, "+385 91 234
/// 5678")` for `7874`), for showing why a contact was found. A phone-like term is explained
/// first (it ranks first); `None` when the query has no text or nothing matches directly.
pub fn matched_value(query: &Query, doc: &SearchDoc) -> Option<(MatchField, String)> {
    let terms: Vec<Term> = query.terms().iter().map(|t| Term::new(t)).collect();
    let term = terms
        .iter()
        .find(|t| t.digits.is_some())
        .or_else(|| terms.first())?;
    let matcher = SkimMatcherV2::default().respect_case();
    let single = |v: &String| vec![v.clone()];
    let values: [Vec<String>; 6] = [
        single(&doc.name),
        single(&doc.organization),
        doc.emails.clone(),
        doc.phones.clone(),
        single(&doc.city),
        doc.tags.clone(),
    ];
    let mut best: Option<(i64, usize, String)> = None;
    for (field, list) in values.iter().enumerate() {
        for value in list {
            let folded = if field == PHONE {
                value.chars().filter(char::is_ascii_digit).collect()
            } else {
                fold(value.trim())
            };
            if let Some(score) = term.score_field(&folded, field, &matcher) {
                let score = score + FIELD_WEIGHT[field];
                if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                    best = Some((score, field, value.clone()));
                }
            }
        }
    }
    best.map(|(_, field, value)| (FIELDS[field], value))
}

/// Whether a word of `text` starts with `value`.
fn word_prefix(text: &str, value: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(value)
        .any(|(at, _)| is_word_start(bytes, at))
}

/// Runs searches with narrowing: when a query only extends the previous one on the same index
/// version, only the previous candidates are scanned.
#[derive(Debug, Default)]
pub struct Searcher {
    previous: Option<Previous>,
    /// The contacts the last anchored term was found in, for the next keystroke's.
    anchored: Option<AnchoredPrevious>,
}

/// A superset of the live slots, at `version`, whose key contains every one of `terms`: a
/// query whose every such term lies within one of its own anchored terms finds its anchor
/// among these alone (and those changed since), instead of in all key text. Typing on in a
/// word costs a look at its contacts' keys, not a pass over 100 MB.
#[derive(Debug)]
struct AnchoredPrevious {
    terms: Vec<String>,
    version: u64,
    epoch: u64,
    candidates: SlotSet,
}

#[derive(Debug)]
struct Previous {
    query: Query,
    version: u64,
    epoch: u64,
    today_day: i32,
    candidates: SlotSet,
}

/// Ascending slots kept between searches: a list when few, a bitmap when a list would be
/// larger (one bit per slot against four bytes per member). A server keeps one per
/// connection: as lists, half of 1M contacts was 2 MB each, 100 MB for 50 agents who had all
/// typed one letter; as bitmaps they stay within 125 KB each.
#[derive(Debug, PartialEq)]
enum SlotSet {
    List(Vec<u32>),
    Bits(Vec<u64>),
}

impl SlotSet {
    /// The set of `slots` (ascending, each below `universe`).
    fn new(mut slots: Vec<u32>, universe: usize) -> SlotSet {
        if slots.len() > universe / 32 {
            let mut words = vec![0u64; universe.div_ceil(64)];
            for &slot in &slots {
                if let Some(word) = words.get_mut(slot as usize / 64) {
                    *word |= 1 << (slot % 64);
                }
            }
            SlotSet::Bits(words)
        } else {
            slots.shrink_to_fit();
            SlotSet::List(slots)
        }
    }

    /// The set with `changed` slots added (a list stays ascending and without repeats).
    fn with(self, changed: Vec<u32>) -> SlotSet {
        if changed.is_empty() {
            return self;
        }
        match self {
            SlotSet::List(mut slots) => {
                slots.extend(changed);
                slots.sort_unstable();
                slots.dedup();
                SlotSet::List(slots)
            }
            SlotSet::Bits(mut words) => {
                for slot in changed {
                    let word = slot as usize / 64;
                    if words.len() <= word {
                        words.resize(word + 1, 0);
                    }
                    words[word] |= 1 << (slot % 64);
                }
                SlotSet::Bits(words)
            }
        }
    }

    /// The slots, ascending.
    fn into_vec(self) -> Vec<u32> {
        match self {
            SlotSet::List(slots) => slots,
            SlotSet::Bits(words) => {
                let count = words.iter().map(|w| w.count_ones() as usize).sum();
                let mut slots = Vec::with_capacity(count);
                for (i, &word) in words.iter().enumerate() {
                    let mut rest = word;
                    while rest != 0 {
                        slots.push((i * 64) as u32 + rest.trailing_zeros());
                        rest &= rest - 1;
                    }
                }
                slots
            }
        }
    }
}

/// Gathers ascending slots into a [`SlotSet`] without ever holding a long list: past the size
/// where bits are smaller it switches to them. (A one-letter search at 1M contacts keeps some
/// 900k slots: collected as a list first, that was 3.6 MB per keystroke, which every server
/// thread's allocator then held on to.)
#[derive(Debug)]
struct SlotSetBuilder {
    universe: usize,
    set: SlotSet,
}

impl SlotSetBuilder {
    fn new(universe: usize) -> SlotSetBuilder {
        SlotSetBuilder {
            universe,
            set: SlotSet::List(Vec::new()),
        }
    }

    /// Adds `slot`, above every slot added so far.
    fn push(&mut self, slot: u32) {
        match &mut self.set {
            SlotSet::List(slots) => {
                slots.push(slot);
                if slots.len() > self.universe / 32 {
                    let slots = std::mem::take(slots);
                    self.set = SlotSet::new(slots, self.universe);
                }
            }
            SlotSet::Bits(words) => {
                if let Some(word) = words.get_mut(slot as usize / 64) {
                    *word |= 1 << (slot % 64);
                }
            }
        }
    }

    /// Adds every slot of `other`, all above this one's.
    fn append(&mut self, other: SlotSetBuilder) {
        match other.set {
            SlotSet::List(slots) => {
                for slot in slots {
                    self.push(slot);
                }
            }
            SlotSet::Bits(words) => {
                if let SlotSet::List(slots) = &mut self.set {
                    let slots = std::mem::take(slots);
                    self.set = SlotSet::Bits(vec![0; self.universe.div_ceil(64)]);
                    for slot in slots {
                        self.push(slot);
                    }
                }
                if let SlotSet::Bits(mine) = &mut self.set {
                    for (mine, theirs) in mine.iter_mut().zip(words) {
                        *mine |= theirs;
                    }
                }
            }
        }
    }

    fn finish(self) -> SlotSet {
        match self.set {
            SlotSet::List(mut slots) => {
                slots.shrink_to_fit();
                SlotSet::List(slots)
            }
            bits => bits,
        }
    }
}

impl Searcher {
    /// A searcher with nothing to narrow from.
    pub fn new() -> Searcher {
        Searcher::default()
    }

    /// Searches, narrowing from the previous search when possible; `None` when `cancelled`
    /// returned true during the scan.
    pub fn search(
        &mut self,
        index: &Index,
        query: &Query,
        options: SearchOptions,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Vec<Hit>> {
        let compiled = Compiled::new(index, query, options.today_day);
        // A substring pass that settles it needs no narrowing, and leaves the previous full
        // scan in place to narrow from later (typing on may make the term rare).
        let anchored_terms: Vec<&str> = compiled
            .terms
            .iter()
            .filter(|t| t.anchored)
            .map(|t| t.text.as_str())
            .collect();
        let within: Option<(Vec<u32>, Vec<String>)> = self
            .anchored
            .take()
            .filter(|p| {
                p.terms
                    .iter()
                    .all(|t| anchored_terms.iter().any(|a| a.contains(t.as_str())))
            })
            .and_then(|p| {
                let changed = index.touched_since(p.epoch, p.version)?;
                let mut slots = p.candidates.into_vec();
                if !changed.is_empty() {
                    slots.extend(changed);
                    slots.sort_unstable();
                    slots.dedup();
                }
                Some((slots, p.terms))
            });
        let within_slots = within.as_ref().map(|(slots, _)| slots.as_slice());
        match index.anchored_scan(&compiled, options.limit, within_slots, cancelled) {
            Anchored::Cancelled => return None,
            Anchored::NoAnchor => {}
            Anchored::Found { hits, candidates } => {
                if let Some(anchor) = compiled.anchor() {
                    let text = &compiled.terms[anchor].text;
                    let mut terms = within.map(|(_, terms)| terms).unwrap_or_default();
                    terms.retain(|t| !text.contains(t.as_str()));
                    terms.push(text.clone());
                    self.anchored = Some(AnchoredPrevious {
                        terms,
                        version: index.version,
                        epoch: index.epoch,
                        candidates: SlotSet::new(candidates, index.ids.len()),
                    });
                }
                if let Some(hits) = hits {
                    return Some(hits);
                }
            }
        }
        // Narrowing: the previous candidates, plus whatever changed in the index since.
        // Taken out: a cancelled scan leaves nothing half-narrowed behind.
        let narrowed: Option<SlotSet> = self
            .previous
            .take()
            .filter(|p| p.today_day == options.today_day && query.narrows(&p.query))
            .and_then(|p| {
                let changed = index.touched_since(p.epoch, p.version)?;
                Some(p.candidates.with(changed))
            });
        let count = index.ids.len();
        let candidates = match &narrowed {
            Some(SlotSet::List(slots)) => Candidates::Slots(slots),
            Some(SlotSet::Bits(words)) => Candidates::Bits(words, count),
            None => Candidates::All(count),
        };
        let (hits, superset) = index.scan(&compiled, candidates, options.limit, cancelled)?;
        self.previous = Some(Previous {
            query: query.clone(),
            version: index.version,
            epoch: index.epoch,
            today_day: options.today_day,
            candidates: superset,
        });
        Some(hits)
    }

    /// Forgets the previous search (e.g. when the index was swapped).
    pub fn reset(&mut self) {
        self.previous = None;
        self.anchored = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kept candidates come back as they went in, as a list or as a bitmap.
    #[test]
    fn a_slot_set_gathered_in_parts_is_the_one_made_at_once() {
        let universe = 10_000;
        for every in [1, 7, 400] {
            let slots: Vec<u32> = (0..universe as u32).step_by(every).collect();
            let (low, high) = slots.split_at(slots.len() / 3);
            let mut gathered = SlotSetBuilder::new(universe);
            for &slot in low {
                gathered.push(slot);
            }
            let mut rest = SlotSetBuilder::new(universe);
            for &slot in high {
                rest.push(slot);
            }
            gathered.append(rest);
            let gathered = gathered.finish();
            assert_eq!(
                gathered,
                SlotSet::new(slots.clone(), universe),
                "every {every}"
            );
            assert_eq!(gathered.into_vec(), slots, "every {every}");
        }
        // Slots added to a set of either form come back in order, once.
        let list = SlotSet::new(vec![3, 9], 10_000).with(vec![9, 1, 20]);
        assert_eq!(list.into_vec(), [1, 3, 9, 20]);
        let bits = SlotSet::new((0..1_000).collect(), 1_000).with(vec![5, 1_100]);
        let mut expected: Vec<u32> = (0..1_000).collect();
        expected.push(1_100);
        assert_eq!(bits.into_vec(), expected);
    }

    #[test]
    fn slot_sets_give_back_their_slots_in_order() {
        let universe = 1000;
        let dense: Vec<u32> = (0..universe as u32).filter(|n| n % 3 != 1).collect();
        let sparse: Vec<u32> = vec![0, 5, 63, 64, 127, 128, 999];
        let edges: Vec<u32> = (0..universe as u32)
            .filter(|n| n % 64 == 0 || n % 64 == 63)
            .collect();
        for slots in [
            dense,
            sparse,
            edges,
            Vec::new(),
            (0..universe as u32).collect(),
        ] {
            let set = SlotSet::new(slots.clone(), universe);
            assert_eq!(
                matches!(set, SlotSet::Bits(_)),
                slots.len() > universe / 32,
                "{} slots",
                slots.len()
            );
            assert_eq!(set.into_vec(), slots);
        }
    }

    /// Scoring order: falling bound, ties in candidate order, with few or many levels.
    #[test]
    fn candidates_are_ordered_by_falling_bound() {
        assert_eq!(
            order_by_falling_key(&[3, 7, 3, 9, 7, 3]),
            vec![3, 1, 4, 0, 2, 5]
        );
        assert_eq!(order_by_falling_key(&[]), Vec::<u32>::new());
        let many: Vec<i64> = (0..500).map(|n| (n * 37) % 101).collect();
        let order = order_by_falling_key(&many);
        let mut expected: Vec<u32> = (0..500).collect();
        expected.sort_by_key(|&at| Reverse(many[at as usize]));
        assert_eq!(order, expected);
        let few: Vec<i64> = (0..500).map(|n| (n * 7) % 5).collect();
        let mut expected: Vec<u32> = (0..500).collect();
        expected.sort_by_key(|&at| Reverse(few[at as usize]));
        assert_eq!(order_by_falling_key(&few), expected);
    }

    /// Pruning is exact only if no real score exceeds the bound; check it on generated keys.
    #[test]
    fn scores_never_exceed_the_pruning_bound() {
        let mut index = Index::new();
        for doc in crate::search::testgen::contacts(3_000, 11) {
            index.upsert(&doc);
        }
        let matcher = SkimMatcherV2::default().respect_case();
        let mut checked = 0;
        // One- and two-char terms that are a whole word somewhere (`li`, `da`): the bonus the
        // bound may leave out only where no word is that short.
        let mut short_whole_words = 0;
        for pattern in [
            "j", "jo", "a", "ma", "li", "da", "de", "o", "k", "joh", "john", "smi", "nguyen",
            "5551", "ro", "2", "mar",
        ] {
            let term = Term::new(pattern);
            for slot in 0..index.ids.len() {
                let bound = term
                    .upper_bound(index.initials[slot], index.other_initials[slot])
                    .unwrap_or(i64::MAX);
                for (field, weight) in FIELD_WEIGHT.iter().enumerate() {
                    if let Some(score) = term.score_field(index.field(slot, field), field, &matcher)
                    {
                        checked += 1;
                        if pattern.len() <= 2
                            && index.field(slot, field).split(' ').any(|w| w == pattern)
                        {
                            short_whole_words += 1;
                        }
                        assert!(
                            score + weight <= bound,
                            "{pattern:?} in {:?}: {} > {bound}",
                            index.field(slot, field),
                            score + weight
                        );
                        // What lets `best_in` skip the fields after a good enough one.
                        if let Some(max) = term.field_max() {
                            assert!(
                                score <= max,
                                "{pattern:?} in {:?}: {score} > field max {max}",
                                index.field(slot, field)
                            );
                        }
                    }
                }
            }
        }
        assert!(checked > 1_000);
        assert!(short_whole_words > 0, "no short whole word was checked");
    }

    /// The anchored pass bounds a term by where its substring search found it: never below
    /// the contact's real score, and below the placeless bound where it was not in the name.
    #[test]
    fn placed_bounds_hold_for_every_contact() {
        let mut index = Index::new();
        for doc in crate::search::testgen::contacts(3_000, 12) {
            index.upsert(&doc);
        }
        let matcher = SkimMatcherV2::default().respect_case();
        let (mut checked, mut tighter, mut not_whole) = (0, 0, 0);
        for pattern in [
            "joh", "john", "smi", "mar", "ber", "lee", "acm", "ana", "ova", "son", "che", "chen",
            "kim", "silva",
        ] {
            let term = Term::new(pattern);
            assert!(term.anchored);
            // Where the anchored scan finds it (a contact it does not find holds it nowhere).
            let (slots, places) = index.slots_containing(pattern, &|| false).expect("scan");
            let mut place_of = vec![WHOLE_KNOWN; index.ids.len()];
            for (&slot, &place) in slots.iter().zip(&places) {
                place_of[slot as usize] = place;
            }
            for (slot, &place) in place_of.iter().enumerate() {
                let key = index.whole_key_str(slot);
                let (name, other) = (index.initials[slot], index.other_initials[slot]);
                let bound = term
                    .upper_bound_placed(name, other, place)
                    .unwrap_or(i64::MAX);
                if let Some((score, _)) = term.best_in(&index, slot, &matcher) {
                    checked += 1;
                    assert!(
                        score <= bound,
                        "{pattern:?} in {key:?} (place {place}): {score} > {bound}"
                    );
                }
                let loose = term.upper_bound(name, other).unwrap_or(i64::MAX);
                if bound < loose {
                    tighter += 1;
                }
                let unknown =
                    place & !(WHOLE_KNOWN | WHOLE_IN_NAME | WHOLE_AFTER_NAME | FIRST_AFTER_NAME);
                if place & IN_NAME != 0
                    && bound
                        < term
                            .upper_bound_placed(name, other, unknown)
                            .unwrap_or(i64::MAX)
                {
                    not_whole += 1;
                }
            }
        }
        // The whole-word knowledge tightens bounds where the term is only part of a word.
        assert!(not_whole > 300, "{not_whole}");
        assert!(checked > 1_000, "{checked}");
        assert!(tighter > 1_000, "{tighter}");
    }
}
