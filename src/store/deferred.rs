//! Index rows held back during a bulk load (import, demo data, restore) and written in key
//! order when the load's transaction ends.
//!
//! A contact files rows under its folded name, each email, each phone, each tag and its uid.
//! Loaded one contact at a time, every one of those rows lands at a random place in its B-tree:
//! at 200k vCards that was about half of the import's writer thread, and it grows with the
//! tree. Held back and sorted instead, rows fill an empty table leaf after leaf with full pages
//! (redb's cursor appends without splitting), and reach a non-empty one in key order.
//!
//! While rows are held back the store still answers "who has this uid, email or phone?"
//! exactly, because an import's matching depends on it: [`Deferred::candidates`] maps a hash of
//! every held-back key to the contacts it was filed under, and the caller keeps a candidate
//! only after reading its stored record and finding the key there. A stale or colliding
//! candidate costs one read, never a wrong answer.
//!
//! Memory is bounded: once the held-back rows pass [`BUDGET_BYTES`] they are written out
//! in the middle of the transaction and collection starts again.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::domain::Id;

/// Held-back rows and their lookup map are written out beyond this by default (about 1.3M
/// vCard-like contacts' worth; see `Store::set_bulk_budget`).
pub(crate) const BUDGET_BYTES: usize = 384 << 20;

/// The index a held-back row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Name = 0,
    Email = 1,
    Phone = 2,
    Tag = 3,
    Uid = 4,
}

impl Kind {
    /// Keys of these kinds are looked up while loading (matching an incoming record).
    fn is_looked_up(self) -> bool {
        matches!(self, Kind::Email | Kind::Phone | Kind::Uid)
    }
}

/// One held-back change: `key` (a slice of the arena) filed or unfiled for `id`.
#[derive(Clone, Copy)]
struct Row {
    start: u32,
    /// The key's length; the top bit marks a removal.
    len_op: u32,
    id: Id,
}

const REMOVE: u32 = 1 << 31;

impl Row {
    fn len(self) -> usize {
        (self.len_op & !REMOVE) as usize
    }
    fn is_add(self) -> bool {
        self.len_op & REMOVE == 0
    }
}

/// The held-back rows of one index, in the order they were made.
#[derive(Default)]
struct Rows {
    text: String,
    rows: Vec<Row>,
}

impl Rows {
    fn key(&self, row: Row) -> &str {
        let start = row.start as usize;
        self.text.get(start..start + row.len()).unwrap_or("")
    }
}

/// What one index ends up with for one key: the last change made to each `(key, id)` pair.
pub(crate) struct Final<'a> {
    pub key: &'a str,
    pub id: Id,
    pub add: bool,
}

/// Held-back rows of every index plus the lookup map (see the module doc).
#[derive(Default)]
pub(crate) struct Deferred {
    rows: [Rows; 5],
    /// Hash of `(kind, key)` → the first contact filed under it; more in `more`.
    first: HashMap<u64, Id, BuildHasherDefault<Prehashed>>,
    more: HashMap<u64, Vec<Id>, BuildHasherDefault<Prehashed>>,
    budget: usize,
}

impl Deferred {
    pub fn with_budget(budget: usize) -> Self {
        Deferred {
            budget,
            ..Deferred::default()
        }
    }

    /// Whether the rows held should be written out before more are added.
    pub fn is_over_budget(&self) -> bool {
        !self.is_empty() && self.bytes() > self.budget
    }

    /// Whether `key` still fits the `kind` arena (offsets are 31-bit); when it does not, the
    /// caller writes the held-back rows out first, or files an enormous key directly.
    pub fn fits(&self, kind: Kind, key: &str) -> bool {
        self.rows[kind as usize].text.len() + key.len() < REMOVE as usize
    }

    /// Records that `key` is filed (`add`) or unfiled for contact `id` in the `kind` index.
    /// The caller has checked [`Deferred::fits`].
    pub fn push(&mut self, kind: Kind, key: &str, id: Id, add: bool) {
        debug_assert!(self.fits(kind, key));
        let rows = &mut self.rows[kind as usize];
        // Both below 2^31 (`fits`), so neither cast truncates.
        let (start, len) = (rows.text.len() as u32, key.len() as u32);
        rows.text.push_str(key);
        rows.rows.push(Row {
            start,
            len_op: len | if add { 0 } else { REMOVE },
            id,
        });
        if add && kind.is_looked_up() {
            let hash = key_hash(kind, key);
            match self.first.get(&hash) {
                None => {
                    self.first.insert(hash, id);
                }
                Some(&first) if first == id => {}
                Some(_) => {
                    let more = self.more.entry(hash).or_default();
                    if !more.contains(&id) {
                        more.push(id);
                    }
                }
            }
        }
    }

    /// Contacts that may have been filed under `key` since the rows were last written: every
    /// one of them must be checked against its stored record.
    pub fn candidates(&self, kind: Kind, key: &str) -> Vec<Id> {
        let hash = key_hash(kind, key);
        let mut out: Vec<Id> = self.first.get(&hash).copied().into_iter().collect();
        if let Some(more) = self.more.get(&hash) {
            out.extend(more);
        }
        out
    }

    /// Roughly the memory held (arena, rows and lookup map).
    pub fn bytes(&self) -> usize {
        let rows: usize = self
            .rows
            .iter()
            .map(|r| r.text.capacity() + r.rows.capacity() * std::mem::size_of::<Row>())
            .sum();
        let map = (self.first.capacity() + self.more.capacity()) * 20;
        rows + map
    }

    pub fn is_empty(&self) -> bool {
        self.rows.iter().all(|r| r.rows.is_empty())
    }

    /// The final state of every `(key, id)` pair touched in `kind`, in key order then id order
    /// (the order of redb's `(&str, u64)` keys), each pair once.
    pub fn finals(&self, kind: Kind) -> Vec<Final<'_>> {
        let rows = &self.rows[kind as usize];
        let mut order: Vec<u32> = (0..rows.rows.len() as u32).collect();
        // Stable: within one pair the last change made comes last.
        order.sort_by(|&a, &b| {
            let (ra, rb) = (rows.rows[a as usize], rows.rows[b as usize]);
            rows.key(ra)
                .as_bytes()
                .cmp(rows.key(rb).as_bytes())
                .then(ra.id.cmp(&rb.id))
        });
        let mut out: Vec<Final<'_>> = Vec::with_capacity(order.len());
        for i in order {
            let row = rows.rows[i as usize];
            let key = rows.key(row);
            match out.last_mut() {
                Some(last) if last.key == key && last.id == row.id => last.add = row.is_add(),
                _ => out.push(Final {
                    key,
                    id: row.id,
                    add: row.is_add(),
                }),
            }
        }
        out
    }

    /// Forgets everything held (after it was written).
    pub fn clear(&mut self) {
        *self = Deferred::with_budget(self.budget);
    }
}

fn key_hash(kind: Kind, key: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (kind as u8, key).hash(&mut h);
    h.finish()
}

/// The lookup map's keys are already hashes: use them as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finals_keep_the_last_change_per_pair_in_key_order() {
        let mut d = Deferred::default();
        d.push(Kind::Email, "b@x", 2, true);
        d.push(Kind::Email, "a@x", 3, true);
        d.push(Kind::Email, "b@x", 1, true);
        d.push(Kind::Email, "a@x", 3, false);
        d.push(Kind::Email, "b@x", 2, false);
        d.push(Kind::Email, "b@x", 2, true);
        let got: Vec<(&str, Id, bool)> = d
            .finals(Kind::Email)
            .iter()
            .map(|f| (f.key, f.id, f.add))
            .collect();
        assert_eq!(
            got,
            vec![("a@x", 3, false), ("b@x", 1, true), ("b@x", 2, true)]
        );
        assert!(d.finals(Kind::Name).is_empty());
    }

    #[test]
    fn byte_order_matches_redb_str_order() {
        let mut d = Deferred::default();
        for (i, k) in ["é", "z", "Z", "", "ab", "a"].iter().enumerate() {
            d.push(Kind::Name, k, i as Id, true);
        }
        let keys: Vec<&str> = d.finals(Kind::Name).iter().map(|f| f.key).collect();
        assert_eq!(keys, vec!["", "Z", "a", "ab", "z", "é"]);
    }

    #[test]
    fn candidates_list_every_contact_filed_under_a_key() {
        let mut d = Deferred::default();
        d.push(Kind::Email, "info@x", 1, true);
        d.push(Kind::Email, "info@x", 2, true);
        d.push(Kind::Email, "info@x", 2, true);
        d.push(Kind::Phone, "info@x", 3, true);
        d.push(Kind::Name, "ann", 4, true);
        assert_eq!(d.candidates(Kind::Email, "info@x"), vec![1, 2]);
        assert_eq!(d.candidates(Kind::Phone, "info@x"), vec![3]);
        // Names are never looked up while loading.
        assert!(d.candidates(Kind::Name, "ann").is_empty());
        assert!(d.candidates(Kind::Email, "other@x").is_empty());
        d.clear();
        assert!(d.is_empty());
        assert!(d.candidates(Kind::Email, "info@x").is_empty());
    }
}
