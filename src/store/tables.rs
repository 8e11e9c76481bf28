//! redb table definitions and the write primitives that keep records and their indexes in step.
//! Every write in rolo funnels through [`Tables::apply`], so an index can never be forgotten.

use redb::{
    Key, MultimapTable, MultimapTableDefinition, ReadableTable, Table, TableDefinition, TypeName,
    Value, WriteTransaction,
};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::audit::{Change, Record, TrashBundle};
use super::deferred::{self, Deferred, Kind};
use crate::analytics::rollup::{self, Cell, Ratings};
use crate::analytics::summary::{PurchaseSummary, utc_day};
use crate::domain::{At, Contact, Day, Deal, Entry, Id, Invalid, Organization, Purchase, text};
use crate::search::{IndexEntry, SearchDoc};

pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const CONTACTS: TableDefinition<u64, &[u8]> = TableDefinition::new("contacts");
/// `(sort key, id)`: the list's order, paged with range scans.
pub(crate) const BY_NAME: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("contacts_by_name");
/// `(contact, at ms, entry id)` → entry: a contact's whole timeline is one range scan. The key is
/// stored compactly ([`TimelineKey`]) and the value leaves out what the key holds
/// ([`encode_entry`]).
pub(crate) const TIMELINE: TableDefinition<TimelineKey, &[u8]> = TableDefinition::new("timeline");
/// `(due day, follow-up id)` → `(contact, created ms)`; open follow-ups only.
pub(crate) const DUE: TableDefinition<(i32, u64), (u64, i64)> =
    TableDefinition::new("followups_due");
/// contact → its compact search record ([`crate::search::IndexEntry`]): folded text for search
/// plus the last interaction and earliest open follow-up the list shows. One small record per
/// contact, so start-up reads it instead of decoding whole contacts.
pub(crate) const CONTACT_INDEX: TableDefinition<u64, &[u8]> = TableDefinition::new("contact_index");
/// `(normalised email, contact)`: one plain row per pair. A multimap keyed by email (schema 2)
/// spent about 70 bytes of page space per mostly-unique key on its per-key value list.
pub(crate) const EMAILS: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("contacts_by_email");
/// `(phone digits, contact)`, like [`EMAILS`].
pub(crate) const PHONES: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("contacts_by_phone");
/// tag → contacts: tags are shared by many contacts, where a multimap's value lists pay off.
pub(crate) const TAGS: MultimapTableDefinition<&str, u64> = MultimapTableDefinition::new("by_tag");
pub(crate) const UIDS: TableDefinition<&str, u64> = TableDefinition::new("by_uid");
pub(crate) const ORGS: TableDefinition<u64, &[u8]> = TableDefinition::new("organizations");
pub(crate) const ORG_NAMES: TableDefinition<&str, u64> =
    TableDefinition::new("organizations_by_name");
pub(crate) const DEALS: TableDefinition<u64, &[u8]> = TableDefinition::new("deals");
pub(crate) const DEALS_BY_CONTACT: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("deals_by_contact");
pub(crate) const TRASH: TableDefinition<u64, &[u8]> = TableDefinition::new("trash");
pub(crate) const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// audit seq → the seq of the entry that undid it.
pub(crate) const UNDONE: TableDefinition<u64, u64> = TableDefinition::new("undone");
/// contact → its purchase summary ([`PurchaseSummary`], postcard), kept current on every
/// purchase written or removed (schema 7); only contacts with purchases have a row. What every
/// analysis reads instead of the timeline.
pub(crate) const PURCHASE_SUMMARIES: TableDefinition<u64, &[u8]> =
    TableDefinition::new("purchase_summaries");
/// `(kind, currency, UTC day, value)` → five little-endian `i64` sums
/// ([`crate::analytics::rollup`]): purchase lines per product, channel and location, ratings per
/// agent and channel, per day (schema 8). Kept current with every timeline write; what the
/// profit, performance and satisfaction reports read instead of the timeline.
pub(crate) const ROLLUPS: TableDefinition<(u8, &str, i32, &str), &[u8]> =
    TableDefinition::new("report_rollups");
/// contact → their ratings in summary ([`crate::analytics::rollup::Ratings`], postcard), for
/// contacts with at least one rated interaction (schema 8).
pub(crate) const RATINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("customer_ratings");

pub(crate) const NO_CONTACT: i64 = i64::MIN;

/// Starts a [`UIDS`] key that files a uid merged into a contact (its custom field
/// `merged_uid`) rather than the contact's own. A contact's own uid never holds a control
/// character (uids are cleaned), so the two kinds of key never collide and a merged uid can
/// never stand in the way of a contact's own.
pub(crate) const MERGED_UID_PREFIX: char = '\u{1}';

/// The [`UIDS`] key filing `uid` as merged into a contact.
pub(crate) fn merged_uid_key(uid: &str) -> String {
    format!("{MERGED_UID_PREFIX}{uid}")
}

/// Where an entry is filed in [`TIMELINE`]: `(contact, at ms, entry id)`.
pub(crate) type EntryKey = (u64, i64, u64);

/// The timeline's key type: an [`EntryKey`] stored in about 15 bytes instead of redb's fixed 24
/// for the plain tuple (the timeline is the biggest table, one row per entry). Each number is a
/// length byte then its significant big-endian bytes, chosen so that byte order is numeric
/// order: keys compare with a plain `memcmp` and a contact's timeline stays one range scan.
#[derive(Debug)]
pub(crate) struct TimelineKey;

impl Value for TimelineKey {
    type SelfType<'a> = EntryKey;
    type AsBytes<'a> = Vec<u8>;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> EntryKey
    where
        Self: 'a,
    {
        let mut rest = data;
        let contact = key_bytes::read_unsigned(&mut rest);
        let at = key_bytes::read_signed(&mut rest);
        let id = key_bytes::read_unsigned(&mut rest);
        (contact, at, id)
    }

    fn as_bytes<'a, 'b: 'a>(&(contact, at, id): &'a EntryKey) -> Vec<u8>
    where
        Self: 'b,
    {
        let mut out = Vec::with_capacity(27);
        key_bytes::write_unsigned(&mut out, contact);
        key_bytes::write_signed(&mut out, at);
        key_bytes::write_unsigned(&mut out, id);
        out
    }

    fn type_name() -> TypeName {
        TypeName::new("rolo::TimelineKey")
    }
}

impl Key for TimelineKey {
    fn compare(data1: &[u8], data2: &[u8]) -> std::cmp::Ordering {
        data1.cmp(data2)
    }
}

/// Order-preserving variable-length integers. An unsigned number is `n` (its count of
/// significant bytes, 0–8) then those bytes, big-endian: fewer bytes means a smaller number. A
/// signed one puts non-negative numbers after negative ones: `0x80 + n` then the bytes of the
/// value, or for a negative value `0x7f - n` then the low `n` bytes of the value, where `n`
/// counts the significant bytes of its complement (`-1` is `0x7f` alone).
mod key_bytes {
    fn significant(v: u64) -> usize {
        8 - (v.leading_zeros() / 8) as usize
    }

    pub fn write_unsigned(out: &mut Vec<u8>, v: u64) {
        let n = significant(v);
        out.push(n as u8);
        out.extend_from_slice(&v.to_be_bytes()[8 - n..]);
    }

    pub fn write_signed(out: &mut Vec<u8>, v: i64) {
        if v >= 0 {
            let n = significant(v as u64);
            out.push(0x80 + n as u8);
            out.extend_from_slice(&v.to_be_bytes()[8 - n..]);
        } else {
            let n = significant(!v as u64);
            out.push(0x7f - n as u8);
            out.extend_from_slice(&v.to_be_bytes()[8 - n..]);
        }
    }

    /// Reads what `write_*` wrote; redb only hands back bytes it was given, so a short or odd
    /// input (which cannot occur) reads as zeros rather than panicking.
    fn take(rest: &mut &[u8], n: usize, fill: u8) -> [u8; 8] {
        let n = n.min(8).min(rest.len());
        let mut bytes = [fill; 8];
        bytes[8 - n..].copy_from_slice(&rest[..n]);
        *rest = &rest[n..];
        bytes
    }

    pub fn read_unsigned(rest: &mut &[u8]) -> u64 {
        let Some((&n, tail)) = rest.split_first() else {
            return 0;
        };
        *rest = tail;
        u64::from_be_bytes(take(rest, usize::from(n), 0))
    }

    pub fn read_signed(rest: &mut &[u8]) -> i64 {
        let Some((&tag, tail)) = rest.split_first() else {
            return 0;
        };
        *rest = tail;
        if tag >= 0x80 {
            i64::from_be_bytes(take(rest, usize::from(tag - 0x80), 0))
        } else {
            i64::from_be_bytes(take(rest, usize::from(0x7f - tag), 0xff))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn byte_order_is_numeric_order_and_round_trips() {
            let unsigned = [0, 1, 255, 256, 65_535, 1 << 40, u64::MAX - 1, u64::MAX];
            let signed = [
                i64::MIN,
                i64::MIN + 1,
                -(1 << 40),
                -256,
                -255,
                -2,
                -1,
                0,
                1,
                255,
                256,
                1_764_000_000_000,
                i64::MAX,
            ];
            let mut previous: Option<Vec<u8>> = None;
            for &v in &unsigned {
                let mut out = Vec::new();
                write_unsigned(&mut out, v);
                assert_eq!(read_unsigned(&mut out.as_slice()), v);
                assert!(previous.is_none_or(|p| p < out), "{v}");
                previous = Some(out);
            }
            let mut previous: Option<Vec<u8>> = None;
            for &v in &signed {
                let mut out = Vec::new();
                write_signed(&mut out, v);
                assert_eq!(read_signed(&mut out.as_slice()), v, "{out:?}");
                assert!(previous.is_none_or(|p| p < out), "{v}");
                previous = Some(out);
            }
        }
    }
}

pub(crate) fn entry_key(entry: &Entry) -> EntryKey {
    (entry.contact(), entry.at().millis(), entry.id())
}

/// A timeline value: the entry with the three fields its key holds set to zero (one byte each
/// in postcard instead of about twelve together); [`decode_entry`] puts them back.
pub(crate) fn encode_entry(entry: &Entry) -> Result<Vec<u8>, StoreError> {
    let mut bare = entry.clone();
    file_under(&mut bare, (0, 0, 0));
    encode(&bare)
}

pub(crate) fn decode_entry(key: EntryKey, bytes: &[u8]) -> Result<Entry, StoreError> {
    let mut entry: Entry = decode("timeline entry", bytes)?;
    file_under(&mut entry, key);
    Ok(entry)
}

fn file_under(entry: &mut Entry, (contact, at, id): EntryKey) {
    let at = At::from_millis(at);
    match entry {
        Entry::Interaction(i) => (i.contact, i.at, i.id) = (contact, at, id),
        Entry::FollowUp(f) => (f.contact, f.created, f.id) = (contact, at, id),
        Entry::Purchase(p) => (p.contact, p.at, p.id) = (contact, at, id),
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(value).map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}

pub(crate) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable {what}: {e}")))
}

/// The contacts filed under `key` in an `(key, contact)` table ([`EMAILS`], [`PHONES`]): one
/// range scan.
pub(crate) fn ids_under(
    table: &impl ReadableTable<(&'static str, u64), ()>,
    key: &str,
) -> Result<Vec<Id>, StoreError> {
    // Open-ended, stopping at the first other key: one seek instead of two (a closed range
    // seeks its end too), and nearly every key is unique.
    let mut out = Vec::new();
    for row in table.range((key, 0)..)? {
        let (k, _) = row?;
        let (filed, id) = k.value();
        if filed != key {
            break;
        }
        out.push(id);
    }
    Ok(out)
}

/// Every table, opened once for one write transaction.
pub(crate) struct Tables<'t> {
    pub meta: Table<'t, &'static str, u64>,
    pub contacts: Table<'t, u64, &'static [u8]>,
    pub by_name: Table<'t, (&'static str, u64), ()>,
    pub timeline: Table<'t, TimelineKey, &'static [u8]>,
    pub due: Table<'t, (i32, u64), (u64, i64)>,
    pub index: Table<'t, u64, &'static [u8]>,
    pub emails: Table<'t, (&'static str, u64), ()>,
    pub phones: Table<'t, (&'static str, u64), ()>,
    pub tags: MultimapTable<'t, &'static str, u64>,
    pub uids: Table<'t, &'static str, u64>,
    pub orgs: Table<'t, u64, &'static [u8]>,
    pub org_names: Table<'t, &'static str, u64>,
    pub deals: Table<'t, u64, &'static [u8]>,
    pub deals_by_contact: Table<'t, (u64, u64), ()>,
    pub trash: Table<'t, u64, &'static [u8]>,
    pub audit: Table<'t, u64, &'static [u8]>,
    pub undone: Table<'t, u64, u64>,
    pub summaries: Table<'t, u64, &'static [u8]>,
    /// Purchase summaries changed in a bulk load, written out with the held-back index rows
    /// (`None`: the contact has no purchases left). Without it every purchase line of an
    /// import would read and rewrite its customer's row.
    summary_cache: Option<FxHashMap<Id, Option<PurchaseSummary>>>,
    pub rollups: Table<'t, (u8, &'static str, i32, &'static str), &'static [u8]>,
    pub ratings: Table<'t, u64, &'static [u8]>,
    /// Rollup sums and rating summaries changed in a bulk load, written with the summaries.
    rollup_cache: Option<RollupCache>,
    ratings_cache: Option<FxHashMap<Id, Option<Ratings>>>,
    /// Id counters moved in a bulk load, written with the held-back rows ([`Tables::next`]).
    counter_cache: Vec<(String, u64)>,
    /// The last contact a timeline write found stored (an import files many lines for one
    /// customer in a row); forgotten on any contact write.
    contact_seen: Option<Id>,
    /// Organisation names already read in this transaction (every contact's search record
    /// carries one; an import links thousands of contacts to the same few).
    org_name_cache: std::collections::HashMap<Id, String>,
    /// Organisation ids by folded name, read in this transaction (an import resolves every
    /// contact's organisation by name).
    org_id_cache: std::collections::HashMap<String, Id>,
    /// Secondary-index rows held back during a bulk load ([`Tables::defer_indexes`]).
    deferred: Option<Deferred>,
    /// Whether the email, phone and uid tables may hold rows (checked when deferring starts):
    /// lookups into an empty table are skipped.
    stored: Stored,
}

#[derive(Clone, Copy, Default)]
struct Stored {
    emails: bool,
    phones: bool,
    uids: bool,
}

impl<'t> Tables<'t> {
    pub fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Tables {
            meta: txn.open_table(META)?,
            contacts: txn.open_table(CONTACTS)?,
            by_name: txn.open_table(BY_NAME)?,
            timeline: txn.open_table(TIMELINE)?,
            due: txn.open_table(DUE)?,
            index: txn.open_table(CONTACT_INDEX)?,
            emails: txn.open_table(EMAILS)?,
            phones: txn.open_table(PHONES)?,
            tags: txn.open_multimap_table(TAGS)?,
            uids: txn.open_table(UIDS)?,
            orgs: txn.open_table(ORGS)?,
            org_names: txn.open_table(ORG_NAMES)?,
            deals: txn.open_table(DEALS)?,
            deals_by_contact: txn.open_table(DEALS_BY_CONTACT)?,
            trash: txn.open_table(TRASH)?,
            audit: txn.open_table(AUDIT)?,
            undone: txn.open_table(UNDONE)?,
            summaries: txn.open_table(PURCHASE_SUMMARIES)?,
            summary_cache: None,
            rollups: txn.open_table(ROLLUPS)?,
            ratings: txn.open_table(RATINGS)?,
            rollup_cache: None,
            ratings_cache: None,
            counter_cache: Vec::new(),
            contact_seen: None,
            org_name_cache: std::collections::HashMap::new(),
            org_id_cache: std::collections::HashMap::new(),
            deferred: None,
            stored: Stored {
                emails: true,
                phones: true,
                uids: true,
            },
        })
    }

    /// From now on, name, email, phone, tag and uid rows are held back and written in key
    /// order by [`Tables::write_deferred`] (see [`super::deferred`]), which must run before
    /// the transaction commits.
    pub fn defer_indexes(&mut self, budget: usize) -> Result<(), StoreError> {
        self.stored = Stored {
            emails: self.emails.first()?.is_some(),
            phones: self.phones.first()?.is_some(),
            uids: self.uids.first()?.is_some(),
        };
        self.deferred = Some(Deferred::with_budget(budget));
        self.summary_cache = Some(FxHashMap::default());
        self.rollup_cache = Some(RollupCache::default());
        self.ratings_cache = Some(FxHashMap::default());
        Ok(())
    }

    /// A contact's purchase summary as it stands in this transaction (`None`: no purchases).
    pub fn purchase_summary(&self, contact: Id) -> Result<Option<PurchaseSummary>, StoreError> {
        if let Some(cached) = self.summary_cache.as_ref().and_then(|c| c.get(&contact)) {
            return Ok(cached.clone());
        }
        match self.summaries.get(contact)? {
            Some(v) => Ok(Some(decode("purchase summary", v.value())?)),
            None => Ok(None),
        }
    }

    fn set_purchase_summary(
        &mut self,
        contact: Id,
        summary: Option<PurchaseSummary>,
    ) -> Result<(), StoreError> {
        let summary = summary.filter(|s| !s.is_empty());
        if let Some(cache) = &mut self.summary_cache {
            cache.insert(contact, summary);
            return Ok(());
        }
        match summary {
            Some(s) => self
                .summaries
                .insert(contact, encode(&s)?.as_slice())
                .map(drop)?,
            None => self.summaries.remove(contact).map(drop)?,
        }
        Ok(())
    }

    /// Writes the purchase summaries a bulk load changed, in id order.
    fn flush_summaries(&mut self) -> Result<(), StoreError> {
        let Some(cache) = self.summary_cache.as_mut() else {
            return Ok(());
        };
        let mut changed: Vec<(Id, Option<PurchaseSummary>)> = cache.drain().collect();
        changed.sort_unstable_by_key(|(id, _)| *id);
        for (id, summary) in changed {
            match summary {
                Some(s) => self
                    .summaries
                    .insert(id, encode(&s)?.as_slice())
                    .map(drop)?,
                None => self.summaries.remove(id).map(drop)?,
            }
        }
        Ok(())
    }

    /// Folds a purchase just filed in the timeline into its customer's summary. Whether its
    /// UTC day already had a purchase is plain from the summary unless the day lies strictly
    /// between the first and last purchase day; then the timeline of that day decides.
    fn add_to_summary(&mut self, p: &Purchase) -> Result<(), StoreError> {
        // In a bulk load the summary is updated in place in the cache (no copies per line).
        let cached = self
            .summary_cache
            .as_mut()
            .and_then(|c| c.get_mut(&p.contact))
            .and_then(Option::take);
        let mut summary = match cached {
            Some(s) => s,
            None => self
                .purchase_summary(p.contact)?
                .unwrap_or_else(|| PurchaseSummary::new(p.contact)),
        };
        let day = utc_day(p.at.millis());
        let new_day = if summary.is_empty() || day < summary.first_day || day > summary.last_day {
            true
        } else if day == summary.first_day || day == summary.last_day {
            false
        } else {
            let start = i64::from(day) * 86_400_000;
            let mut other = false;
            for row in self
                .timeline
                .range((p.contact, start, 0)..=(p.contact, start + 86_399_999, u64::MAX))?
            {
                let (k, v) = row?;
                if k.value().2 != p.id
                    && matches!(decode_entry(k.value(), v.value())?, Entry::Purchase(_))
                {
                    other = true;
                    break;
                }
            }
            !other
        };
        summary.add(p, new_day);
        self.set_purchase_summary(p.contact, Some(summary))
    }

    /// Rebuilds a contact's purchase summary from their timeline (after a purchase was
    /// changed or removed).
    pub fn recompute_purchase_summary(&mut self, contact: Id) -> Result<(), StoreError> {
        let entries = self.timeline_of(contact)?;
        let purchases: Vec<&Purchase> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Purchase(p) => Some(p),
                _ => None,
            })
            .collect();
        let summary = PurchaseSummary::of(contact, &purchases);
        self.set_purchase_summary(contact, Some(summary))
    }

    /// Adds (`sign` 1) or takes away (−1) what `entry` contributes to the report rollups.
    fn bump_rollups(&mut self, entry: &Entry, sign: i64) -> Result<(), StoreError> {
        if let Some(cache) = &mut self.rollup_cache {
            for c in rollup::contributions(entry) {
                cache.add(&c, sign);
            }
            return Ok(());
        }
        for c in rollup::contributions(entry) {
            bump_row(
                &mut self.rollups,
                (c.kind.code(), c.currency, c.day, c.value),
                &c.cell,
                sign,
            )?;
        }
        Ok(())
    }

    /// A contact's rating summary as it stands in this transaction.
    fn customer_ratings(&self, contact: Id) -> Result<Option<Ratings>, StoreError> {
        if let Some(cached) = self.ratings_cache.as_ref().and_then(|c| c.get(&contact)) {
            return Ok(cached.clone());
        }
        match self.ratings.get(contact)? {
            Some(v) => Ok(Some(decode("rating summary", v.value())?)),
            None => Ok(None),
        }
    }

    fn set_customer_ratings(&mut self, contact: Id, r: Option<Ratings>) -> Result<(), StoreError> {
        let r = r.filter(|r| !r.is_empty());
        if let Some(cache) = &mut self.ratings_cache {
            cache.insert(contact, r);
            return Ok(());
        }
        match r {
            Some(r) => self
                .ratings
                .insert(contact, encode(&r)?.as_slice())
                .map(drop)?,
            None => self.ratings.remove(contact).map(drop)?,
        }
        Ok(())
    }

    /// Folds a rated interaction just filed into its contact's rating summary.
    fn add_to_ratings(&mut self, i: &crate::domain::Interaction) -> Result<(), StoreError> {
        let cached = self
            .ratings_cache
            .as_mut()
            .and_then(|c| c.get_mut(&i.contact))
            .and_then(Option::take);
        let mut r = match cached {
            Some(r) => r,
            None => self
                .customer_ratings(i.contact)?
                .unwrap_or_else(|| Ratings::new(i.contact)),
        };
        r.add(i);
        self.set_customer_ratings(i.contact, Some(r))
    }

    /// Rebuilds a contact's rating summary from their timeline (after a rating was changed or
    /// removed).
    fn recompute_ratings(&mut self, contact: Id) -> Result<(), StoreError> {
        let mut r = Ratings::new(contact);
        for e in self.timeline_of(contact)? {
            if let Entry::Interaction(i) = &e {
                r.add(i);
            }
        }
        self.set_customer_ratings(contact, Some(r))
    }

    /// Writes the rollup sums and rating summaries a bulk load changed, in key order.
    fn flush_rollups(&mut self) -> Result<(), StoreError> {
        if let Some(cache) = &mut self.rollup_cache {
            let names = std::mem::take(&mut cache.names);
            let mut cells: Vec<((u8, u32, i32, u32), Cell)> = cache.cells.drain().collect();
            cache.names = names;
            let names = &cache.names;
            cells.sort_unstable_by(|(a, _), (b, _)| {
                (a.0, names.text(a.1), a.2, names.text(a.3)).cmp(&(
                    b.0,
                    names.text(b.1),
                    b.2,
                    names.text(b.3),
                ))
            });
            for ((kind, currency, day, value), delta) in cells {
                bump_row(
                    &mut self.rollups,
                    (kind, names.text(currency), day, names.text(value)),
                    &delta,
                    1,
                )?;
            }
        }
        if let Some(cache) = self.ratings_cache.as_mut() {
            let mut changed: Vec<(Id, Option<Ratings>)> = cache.drain().collect();
            changed.sort_unstable_by_key(|(id, _)| *id);
            for (id, r) in changed {
                match r {
                    Some(r) => self.ratings.insert(id, encode(&r)?.as_slice()).map(drop)?,
                    None => self.ratings.remove(id).map(drop)?,
                }
            }
        }
        Ok(())
    }

    /// Writes the held-back rows, in key order: an empty table is filled through a cursor
    /// (full leaves, no splits), a non-empty one row by row.
    pub fn write_deferred(&mut self) -> Result<(), StoreError> {
        self.flush_summaries()?;
        self.flush_rollups()?;
        self.flush_counters()?;
        let Some(d) = self.deferred.take() else {
            return Ok(());
        };
        if d.is_empty() {
            self.deferred = Some(d);
            return Ok(());
        }
        write_pairs(&mut self.by_name, &d.finals(Kind::Name))?;
        write_pairs(&mut self.emails, &d.finals(Kind::Email))?;
        write_pairs(&mut self.phones, &d.finals(Kind::Phone))?;
        for f in d.finals(Kind::Tag) {
            if f.add {
                self.tags.insert(f.key, f.id)?;
            } else {
                self.tags.remove(f.key, f.id)?;
            }
        }
        write_uids(&mut self.uids, &d.finals(Kind::Uid))?;
        self.stored = Stored {
            emails: true,
            phones: true,
            uids: true,
        };
        let mut d = d;
        d.clear();
        self.deferred = Some(d);
        Ok(())
    }

    /// Files `key` for contact `id` in the `kind` index, now or (while deferring) later.
    fn file(&mut self, kind: Kind, key: &str, id: Id, add: bool) -> Result<(), StoreError> {
        // Merged-uid rows are written at once: several contacts may list one merged uid while
        // only the first holds its row, which the stored records alone cannot tell (so the
        // held-back lookups could not answer for them); and they are rare.
        let merged = kind == Kind::Uid && key.starts_with(MERGED_UID_PREFIX);
        if let Some(d) = self.deferred.as_ref().filter(|_| !merged) {
            if d.is_over_budget() || !d.fits(kind, key) {
                self.write_deferred()?;
            }
            if let Some(d) = &mut self.deferred
                && d.fits(kind, key)
            {
                d.push(kind, key, id, add);
                return Ok(());
            }
        }
        match (kind, add) {
            (Kind::Name, true) => self.by_name.insert((key, id), ()).map(drop),
            (Kind::Name, false) => self.by_name.remove((key, id)).map(drop),
            (Kind::Email, true) => self.emails.insert((key, id), ()).map(drop),
            (Kind::Email, false) => self.emails.remove((key, id)).map(drop),
            (Kind::Phone, true) => self.phones.insert((key, id), ()).map(drop),
            (Kind::Phone, false) => self.phones.remove((key, id)).map(drop),
            (Kind::Tag, true) => self.tags.insert(key, id).map(drop),
            (Kind::Tag, false) => self.tags.remove(key, id).map(drop),
            (Kind::Uid, true) => self.uids.insert(key, id).map(drop),
            (Kind::Uid, false) => self.uids.remove(key).map(drop),
        }?;
        Ok(())
    }

    /// Whether contact `id`'s stored record has `key` as its uid, or among its email or phone
    /// keys (checks a held-back candidate).
    fn has_key(&self, id: Id, kind: Kind, key: &str) -> Result<bool, StoreError> {
        let Some(c) = self.contact(id)? else {
            return Ok(false);
        };
        Ok(match kind {
            Kind::Uid => c.uid == key,
            Kind::Email => c.emails.iter().any(|e| text::email_key(&e.value) == key),
            Kind::Phone => c.phones.iter().any(|p| text::phone_key(&p.value) == key),
            Kind::Name | Kind::Tag => false,
        })
    }

    /// Held-back candidates for `key` that really have it.
    fn held_back(&self, kind: Kind, key: &str) -> Result<Vec<Id>, StoreError> {
        let mut out = Vec::new();
        if let Some(d) = &self.deferred {
            for id in d.candidates(kind, key) {
                if self.has_key(id, kind, key)? {
                    out.push(id);
                }
            }
        }
        Ok(out)
    }

    /// Whether a row found in the table still stands: while rows are held back, its removal
    /// may be among them, so the stored record decides.
    fn still_filed(&self, id: Id, kind: Kind, key: &str) -> Result<bool, StoreError> {
        match self.deferred {
            Some(_) => self.has_key(id, kind, key),
            None => Ok(true),
        }
    }

    /// The contact holding `uid` (cleaned) in the uid index.
    pub fn uid_owner(&self, uid: &str) -> Result<Option<Id>, StoreError> {
        if uid.starts_with(MERGED_UID_PREFIX) {
            // Never held back (see `file`): the table has the answer.
            return Ok(self.uids.get(uid)?.map(|v| v.value()));
        }
        if self.stored.uids
            && let Some(id) = self.uids.get(uid)?.map(|v| v.value())
            && self.still_filed(id, Kind::Uid, uid)?
        {
            return Ok(Some(id));
        }
        Ok(self.held_back(Kind::Uid, uid)?.into_iter().next())
    }

    /// The contacts filed under `key` in the email or phone index, in id order.
    pub fn ids_by(&self, kind: Kind, key: &str) -> Result<Vec<Id>, StoreError> {
        let stored = match kind {
            Kind::Email if self.stored.emails => ids_under(&self.emails, key)?,
            Kind::Phone if self.stored.phones => ids_under(&self.phones, key)?,
            _ => Vec::new(),
        };
        let mut ids = Vec::with_capacity(stored.len());
        for id in stored {
            if self.still_filed(id, kind, key)? {
                ids.push(id);
            }
        }
        let held = self.held_back(kind, key)?;
        if !held.is_empty() {
            ids.extend(held);
            ids.sort_unstable();
            ids.dedup();
        }
        Ok(ids)
    }

    /// The next value of a named counter (ids, audit sequence); counters start at 1.
    pub fn next(&mut self, counter: &str) -> Result<u64, StoreError> {
        let next = self.counter(counter)? + 1;
        self.set_counter(counter, next)?;
        Ok(next)
    }

    /// A named counter's value in this transaction (0 when never moved).
    pub fn counter(&self, counter: &str) -> Result<u64, StoreError> {
        if let Some((_, v)) = self.counter_cache.iter().find(|(k, _)| k == counter) {
            return Ok(*v);
        }
        Ok(self.meta.get(counter)?.map_or(0, |v| v.value()))
    }

    /// Sets a named counter; in a bulk load it is written by [`Tables::flush_counters`] (each
    /// line of an import would otherwise read and rewrite the same meta row).
    pub fn set_counter(&mut self, counter: &str, value: u64) -> Result<(), StoreError> {
        if self.deferred.is_none() {
            self.meta.insert(counter, value)?;
            return Ok(());
        }
        match self.counter_cache.iter_mut().find(|(k, _)| k == counter) {
            Some((_, v)) => *v = value,
            None => self.counter_cache.push((counter.to_string(), value)),
        }
        Ok(())
    }

    /// Writes the counters a bulk load moved; must run before the transaction commits.
    pub fn flush_counters(&mut self) -> Result<(), StoreError> {
        for (k, v) in std::mem::take(&mut self.counter_cache) {
            self.meta.insert(k.as_str(), v)?;
        }
        Ok(())
    }

    /// Files a timeline entry the caller just gave a fresh id (so none can be stored under it):
    /// [`Tables::apply`] without the look-up of what it replaces.
    pub fn add_fresh_entry(&mut self, entry: &Entry) -> Result<(), StoreError> {
        self.put_entry(None, Some(entry))
    }

    pub fn contact(&self, id: Id) -> Result<Option<Contact>, StoreError> {
        match self.contacts.get(id)? {
            Some(bytes) => Ok(Some(decode("contact", bytes.value())?)),
            None => Ok(None),
        }
    }

    pub fn organization(&self, id: Id) -> Result<Option<Organization>, StoreError> {
        match self.orgs.get(id)? {
            Some(bytes) => Ok(Some(decode("organization", bytes.value())?)),
            None => Ok(None),
        }
    }

    pub fn deal(&self, id: Id) -> Result<Option<Deal>, StoreError> {
        match self.deals.get(id)? {
            Some(bytes) => Ok(Some(decode("deal", bytes.value())?)),
            None => Ok(None),
        }
    }

    pub fn entry(&self, contact: Id, at_ms: i64, id: Id) -> Result<Option<Entry>, StoreError> {
        let key = (contact, at_ms, id);
        match self.timeline.get(key)? {
            Some(bytes) => Ok(Some(decode_entry(key, bytes.value())?)),
            None => Ok(None),
        }
    }

    pub fn trash_bundle(&self, id: Id) -> Result<Option<TrashBundle>, StoreError> {
        match self.trash.get(id)? {
            Some(bytes) => Ok(Some(decode("trash entry", bytes.value())?)),
            None => Ok(None),
        }
    }

    pub fn timeline_of(&self, contact: Id) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        for row in self
            .timeline
            .range((contact, i64::MIN, 0)..=(contact, i64::MAX, u64::MAX))?
        {
            let (k, v) = row?;
            out.push(decode_entry(k.value(), v.value())?);
        }
        Ok(out)
    }

    pub fn deals_of(&self, contact: Id) -> Result<Vec<Deal>, StoreError> {
        let mut ids = Vec::new();
        for row in self
            .deals_by_contact
            .range((contact, 0)..=(contact, u64::MAX))?
        {
            ids.push(row?.0.value().1);
        }
        let mut out = Vec::new();
        for id in ids {
            if let Some(d) = self.deal(id)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    pub fn org_by_name(&mut self, name: &str) -> Result<Option<Id>, StoreError> {
        let key = text::sort_key(name);
        if let Some(&id) = self.org_id_cache.get(&key) {
            return Ok(Some(id));
        }
        let id = self.org_names.get(key.as_str())?.map(|v| v.value());
        if let Some(id) = id {
            self.org_id_cache.insert(key, id);
        }
        Ok(id)
    }

    /// Applies one change after checking the stored record is still what `before` says —
    /// the optimistic-concurrency check for every write, undo included.
    pub fn apply(&mut self, change: &Change) -> Result<(), StoreError> {
        self.check_current(change)?;
        match (&change.before, &change.after) {
            (Some(Record::Contact(a)), b) => {
                let b = match b {
                    Some(Record::Contact(c)) => Some(c),
                    _ => None,
                };
                self.put_contact(Some(a), b)
            }
            (None, Some(Record::Contact(b))) => self.put_contact(None, Some(b)),
            (Some(Record::Entry(a)), Some(Record::Entry(b))) => self.put_entry(Some(a), Some(b)),
            (Some(Record::Entry(a)), None) => self.put_entry(Some(a), None),
            (None, Some(Record::Entry(b))) => self.put_entry(None, Some(b)),
            (Some(Record::Deal(a)), Some(Record::Deal(b))) => self.put_deal(Some(a), Some(b)),
            (Some(Record::Deal(a)), None) => self.put_deal(Some(a), None),
            (None, Some(Record::Deal(b))) => self.put_deal(None, Some(b)),
            (Some(Record::Organization(a)), Some(Record::Organization(b))) => {
                self.put_org(Some(a), Some(b))
            }
            (Some(Record::Organization(a)), None) => self.put_org(Some(a), None),
            (None, Some(Record::Organization(b))) => self.put_org(None, Some(b)),
            (Some(Record::Trash(a)), None) => {
                self.trash.remove(a.contact.id)?;
                Ok(())
            }
            (None, Some(Record::Trash(b))) => {
                self.trash.insert(b.contact.id, encode(b)?.as_slice())?;
                Ok(())
            }
            (None, None) => Ok(()),
            _ => Err(StoreError::Corrupt(
                "a change mixes two kinds of record".into(),
            )),
        }
    }

    fn check_current(&self, change: &Change) -> Result<(), StoreError> {
        let Some(record) = change.before.as_ref().or(change.after.as_ref()) else {
            return Ok(());
        };
        let expected = change.before.as_ref();
        let conflict = |what: &str| StoreError::Conflict(format!("{what} changed meanwhile"));
        match record {
            Record::Contact(c) => {
                let current = self.contact(c.id)?;
                match (current, expected) {
                    (None, None) => Ok(()),
                    (Some(cur), Some(Record::Contact(exp))) if cur.version == exp.version => Ok(()),
                    (Some(cur), _) => Err(StoreError::stale(&cur)),
                    (None, Some(_)) => Err(StoreError::NotFound(format!("contact {}", c.id))),
                }
            }
            Record::Entry(e) => {
                let current = self.entry(e.contact(), e.at().millis(), e.id())?;
                let expected = match expected {
                    Some(Record::Entry(x)) => Some(x),
                    _ => None,
                };
                if current.as_ref() == expected {
                    Ok(())
                } else {
                    Err(conflict("a timeline entry"))
                }
            }
            Record::Deal(d) => {
                let current = self.deal(d.id)?.map(|d| d.version);
                let expected = match expected {
                    Some(Record::Deal(x)) => Some(x.version),
                    _ => None,
                };
                if current == expected {
                    Ok(())
                } else {
                    Err(conflict("the deal"))
                }
            }
            Record::Organization(o) => {
                let current = self.organization(o.id)?.map(|o| o.version);
                let expected = match expected {
                    Some(Record::Organization(x)) => Some(x.version),
                    _ => None,
                };
                if current == expected {
                    Ok(())
                } else {
                    Err(conflict("the organisation"))
                }
            }
            Record::Trash(t) => {
                let present = self.trash.get(t.contact.id)?.is_some();
                if present == expected.is_some() {
                    Ok(())
                } else {
                    Err(conflict("the trash"))
                }
            }
        }
    }

    fn put_contact(
        &mut self,
        old: Option<&Contact>,
        new: Option<&Contact>,
    ) -> Result<(), StoreError> {
        self.contact_seen = None;
        if let Some(old) = old {
            self.file_contact(old, false)?;
            if new.is_none() {
                let mut rest = self
                    .timeline
                    .range((old.id, i64::MIN, 0)..=(old.id, i64::MAX, u64::MAX))?;
                if rest.next().is_some() {
                    return Err(StoreError::Conflict(format!(
                        "{} has history added since; delete the contact instead",
                        text::visible(&old.name, false)
                    )));
                }
                drop(rest);
                self.contacts.remove(old.id)?;
                self.index.remove(old.id)?;
            }
        }
        if let Some(new) = new {
            // The uid index holds one contact per uid: a second would silently take it over.
            if !new.uid.is_empty()
                && let Some(owner) = self.uid_owner(&new.uid)?
                && owner != new.id
            {
                let name = self.contact(owner)?.map(|c| c.name).unwrap_or_default();
                return Err(StoreError::Invalid(Invalid::single(
                    "uid",
                    &format!(
                        "`{}` is already used by {} (#{owner})",
                        text::visible(&new.uid, false),
                        text::visible(&name, false)
                    ),
                )));
            }
            self.file_contact(new, true)?;
            self.contacts.insert(new.id, encode(new)?.as_slice())?;
            // A restored contact brings its timeline back separately; recency follows then.
            let (last, due) = if old.is_some() {
                self.recency(new.id)?
            } else {
                (NO_CONTACT, None)
            };
            self.write_index(new, last, due)?;
        }
        Ok(())
    }

    /// Files (`add`) or unfiles the contact's name, email, phone, tag and uid rows. A uid is
    /// unfiled only from the contact that holds it.
    fn file_contact(&mut self, c: &Contact, add: bool) -> Result<(), StoreError> {
        for e in &c.emails {
            self.file(Kind::Email, &text::email_key(&e.value), c.id, add)?;
        }
        for p in &c.phones {
            let key = text::phone_key(&p.value);
            if !key.is_empty() {
                self.file(Kind::Phone, &key, c.id, add)?;
            }
        }
        for t in &c.tags {
            self.file(Kind::Tag, t, c.id, add)?;
        }
        if !c.uid.is_empty() && (add || self.uid_owner(&c.uid)? == Some(c.id)) {
            self.file(Kind::Uid, &c.uid, c.id, add)?;
        }
        // Uids merged into this contact, filed while no other contact's merge holds them.
        for merged in c.merged_uids() {
            let key = merged_uid_key(&merged);
            match self.uid_owner(&key)? {
                Some(owner) if owner == c.id => self.file(Kind::Uid, &key, c.id, add)?,
                None if add => self.file(Kind::Uid, &key, c.id, true)?,
                _ => {}
            }
        }
        self.file(Kind::Name, &text::sort_key(&c.name), c.id, add)
    }

    fn put_entry(&mut self, old: Option<&Entry>, new: Option<&Entry>) -> Result<(), StoreError> {
        if let Some(new) = new {
            new.check_sizes()?;
        }
        let mut touched = Vec::new();
        let purchase_changed =
            matches!(old, Some(Entry::Purchase(_))) || matches!(new, Some(Entry::Purchase(_)));
        let rated = |e: Option<&Entry>| matches!(e, Some(Entry::Interaction(i)) if i.satisfaction.is_some());
        let rating_changed = rated(old) || rated(new);
        if let Some(old) = old {
            self.timeline.remove(entry_key(old))?;
            self.bump_rollups(old, -1)?;
            if let Entry::FollowUp(f) = old
                && f.is_open()
            {
                self.due.remove((f.due.number(), f.id))?;
            }
            touched.push(old.contact());
        }
        if let Some(new) = new {
            if self.contact_seen != Some(new.contact()) {
                if self.contacts.get(new.contact())?.is_none() {
                    return Err(StoreError::NotFound(format!("contact {}", new.contact())));
                }
                self.contact_seen = Some(new.contact());
            }
            self.timeline
                .insert(entry_key(new), encode_entry(new)?.as_slice())?;
            self.bump_rollups(new, 1)?;
            if let Entry::FollowUp(f) = new
                && f.is_open()
            {
                self.due
                    .insert((f.due.number(), f.id), (f.contact, f.created.millis()))?;
            }
            // Additions only move the summaries one way: no rescan needed.
            if old.is_none() {
                if let Entry::Purchase(p) = new {
                    // A purchase moves neither the last interaction nor the next due day.
                    return self.add_to_summary(p);
                }
                if let Entry::Interaction(i) = new
                    && i.satisfaction.is_some()
                {
                    self.add_to_ratings(i)?;
                }
                let (last, due) = self.recency(new.contact())?;
                let (new_last, new_due) = match new {
                    Entry::Interaction(i) => (last.max(i.at.millis()), due),
                    Entry::FollowUp(f) if f.is_open() => (
                        last,
                        Some(due.map_or(f.due.number(), |d| d.min(f.due.number()))),
                    ),
                    _ => (last, due),
                };
                if (new_last, new_due) != (last, due) {
                    self.set_recency(new.contact(), new_last, new_due)?;
                }
                return Ok(());
            }
            touched.push(new.contact());
        }
        touched.dedup();
        for contact in touched {
            self.recompute_summary(contact)?;
            if purchase_changed {
                self.recompute_purchase_summary(contact)?;
            }
            if rating_changed {
                self.recompute_ratings(contact)?;
            }
        }
        Ok(())
    }

    pub fn recompute_summary(&mut self, contact: Id) -> Result<(), StoreError> {
        if self.contacts.get(contact)?.is_none() {
            self.index.remove(contact)?;
            return Ok(());
        }
        let (last, due) = summarise(&self.timeline_of(contact)?);
        self.set_recency(contact, last, due)
    }

    /// `(last interaction ms or NO_CONTACT, earliest open due day)` from the contact's record.
    pub fn recency(&self, contact: Id) -> Result<(i64, Option<i32>), StoreError> {
        match self.index.get(contact)? {
            Some(bytes) => {
                let view = IndexEntry::decode(bytes.value())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((view.last_contact_ms, view.next_due_day))
            }
            None => Ok((NO_CONTACT, None)),
        }
    }

    fn set_recency(&mut self, contact: Id, last: i64, due: Option<i32>) -> Result<(), StoreError> {
        let mut bytes = match self.index.get(contact)? {
            Some(b) => b.value().to_vec(),
            None => return Err(StoreError::NotFound(format!("contact {contact}"))),
        };
        IndexEntry::set_recency(&mut bytes, last, due)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.index.insert(contact, bytes.as_slice())?;
        Ok(())
    }

    fn write_index(
        &mut self,
        contact: &Contact,
        last: i64,
        due: Option<i32>,
    ) -> Result<(), StoreError> {
        let org = match contact.organization {
            Some(id) => match self.org_name_cache.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = self.organization(id)?.map(|o| o.name).unwrap_or_default();
                    self.org_name_cache.insert(id, name.clone());
                    name
                }
            },
            None => String::new(),
        };
        let record = index_record(contact, &org, last, due);
        self.index.insert(contact.id, record.as_slice())?;
        Ok(())
    }

    fn put_deal(&mut self, old: Option<&Deal>, new: Option<&Deal>) -> Result<(), StoreError> {
        if let Some(new) = new {
            new.check_sizes()?;
            // Like a timeline entry, a deal names a contact that exists (or none).
            if let Some(c) = new.contact
                && self.contacts.get(c)?.is_none()
            {
                return Err(StoreError::NotFound(format!("contact {c}")));
            }
        }
        if let Some(old) = old {
            if let Some(c) = old.contact {
                self.deals_by_contact.remove((c, old.id))?;
            }
            if new.is_none() {
                self.deals.remove(old.id)?;
            }
        }
        if let Some(new) = new {
            if let Some(c) = new.contact {
                self.deals_by_contact.insert((c, new.id), ())?;
            }
            self.deals.insert(new.id, encode(new)?.as_slice())?;
        }
        Ok(())
    }

    fn put_org(
        &mut self,
        old: Option<&Organization>,
        new: Option<&Organization>,
    ) -> Result<(), StoreError> {
        if let Some(old) = old {
            self.org_name_cache.remove(&old.id);
            self.org_id_cache.remove(&text::sort_key(&old.name));
            self.org_names.remove(text::sort_key(&old.name).as_str())?;
            if new.is_none() {
                self.orgs.remove(old.id)?;
            }
        }
        if let Some(new) = new {
            self.org_names
                .insert(text::sort_key(&new.name).as_str(), new.id)?;
            self.orgs.insert(new.id, encode(new)?.as_slice())?;
        }
        Ok(())
    }
}

/// Rollup sums changed in a bulk load: cells keyed by interned strings, so a purchase line
/// costs three hash updates and no allocation once its product, channel, location and
/// currency have been seen.
#[derive(Default)]
struct RollupCache {
    names: Names,
    cells: FxHashMap<(u8, u32, i32, u32), Cell>,
}

impl RollupCache {
    fn add(&mut self, c: &rollup::Contribution<'_>, sign: i64) {
        let key = (
            c.kind.code(),
            self.names.id(c.currency),
            c.day,
            self.names.id(c.value),
        );
        rollup::apply(self.cells.entry(key).or_default(), &c.cell, sign);
    }
}

#[derive(Default)]
struct Names {
    ids: FxHashMap<String, u32>,
    texts: Vec<String>,
}

impl Names {
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.to_string());
        self.ids.insert(text.to_string(), id);
        id
    }

    fn text(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.texts.get(i))
            .map_or("", String::as_str)
    }
}

pub(crate) fn encode_cell(cell: &Cell) -> [u8; 40] {
    let mut out = [0u8; 40];
    for (chunk, v) in out.chunks_exact_mut(8).zip(cell) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

pub(crate) fn decode_cell(bytes: &[u8]) -> Result<Cell, StoreError> {
    if bytes.len() != 40 {
        return Err(StoreError::Corrupt(format!(
            "report rollup row of {} bytes (40 expected)",
            bytes.len()
        )));
    }
    let mut cell = Cell::default();
    for (v, chunk) in cell.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *v = i64::from_le_bytes(b);
    }
    Ok(cell)
}

/// Adds `delta × sign` into one rollup row; a row whose count reaches zero is removed.
fn bump_row(
    table: &mut Table<'_, (u8, &'static str, i32, &'static str), &'static [u8]>,
    key: (u8, &str, i32, &str),
    delta: &Cell,
    sign: i64,
) -> Result<(), StoreError> {
    let mut cell = match table.get(key)? {
        Some(v) => decode_cell(v.value())?,
        None => Cell::default(),
    };
    rollup::apply(&mut cell, delta, sign);
    if cell[0] <= 0 {
        table.remove(key)?;
    } else {
        table.insert(key, encode_cell(&cell).as_slice())?;
    }
    Ok(())
}

/// `(last interaction ms or NO_CONTACT, earliest open due day)` of a timeline, in the
/// compact record's terms.
pub(crate) fn summarise(entries: &[Entry]) -> (i64, Option<i32>) {
    let (last, due) = crate::domain::timeline_recency(entries);
    (last.map_or(NO_CONTACT, At::millis), due.map(Day::number))
}

/// The compact per-contact record (see [`CONTACT_INDEX`]).
pub(crate) fn index_record(
    contact: &Contact,
    organization: &str,
    last: i64,
    due: Option<i32>,
) -> Vec<u8> {
    SearchDoc::from_contact(contact, organization, last, due).encode_compact()
}

/// Writes held-back `(key, contact)` rows (in key order) into an email, phone or name table.
fn write_pairs(
    table: &mut Table<'_, (&'static str, u64), ()>,
    rows: &[deferred::Final<'_>],
) -> Result<(), StoreError> {
    if table.first()?.is_none() {
        let mut cursor = table.upper_bound_mut(std::ops::Bound::<(&str, u64)>::Unbounded)?;
        for f in rows.iter().filter(|f| f.add) {
            cursor.insert_before((f.key, f.id), ())?;
        }
        cursor.close()?;
        return Ok(());
    }
    for f in rows {
        if f.add {
            table.insert((f.key, f.id), ())?;
        } else {
            table.remove((f.key, f.id))?;
        }
    }
    Ok(())
}

/// Writes held-back uid rows: per uid, removals (only from the contact holding it) before the
/// one addition left.
fn write_uids(
    table: &mut Table<'_, &'static str, u64>,
    rows: &[deferred::Final<'_>],
) -> Result<(), StoreError> {
    let twice = |key: &str| {
        StoreError::Corrupt(format!(
            "uid `{}` filed for two contacts in one load",
            text::visible(key, false)
        ))
    };
    let mut adds = rows.iter().filter(|f| f.add).peekable();
    if table.first()?.is_none() {
        let mut cursor = table.upper_bound_mut(std::ops::Bound::<&str>::Unbounded)?;
        while let Some(f) = adds.next() {
            if adds.peek().is_some_and(|next| next.key == f.key) {
                return Err(twice(f.key));
            }
            cursor.insert_before(f.key, f.id)?;
        }
        cursor.close()?;
        return Ok(());
    }
    for f in rows.iter().filter(|f| !f.add) {
        if table.get(f.key)?.map(|v| v.value()) == Some(f.id) {
            table.remove(f.key)?;
        }
    }
    while let Some(f) = adds.next() {
        if adds.peek().is_some_and(|next| next.key == f.key) {
            return Err(twice(f.key));
        }
        table.insert(f.key, f.id)?;
    }
    Ok(())
}

/// Makes sure every table exists so read transactions never meet a missing one.
pub(crate) fn create_all(txn: &WriteTransaction) -> Result<(), StoreError> {
    Tables::open(txn).map(drop)
}
