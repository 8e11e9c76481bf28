//! The purchase side of the index: compact per-contact columns (first and last purchase day,
//! purchase days, total spent in the main currency, P(alive)), the RFM cuts computed from them
//! on demand, a side table of what each customer bought (products and months), and the query
//! filters over them (`rfm:`, `r:`/`f:`/`m:`, `orders>=`, `spent>`, `last_purchase>`,
//! `palive<`, `bought:`, `month:`).
//!
//! Scores are not stored: they are ranks among all customers, so one purchase may move anyone's.
//! The columns keep the exact values the RFM rule ranks (days, minor units), and the cuts —
//! the same rule as [`crate::analytics::rfm::Cuts`], so the index's segments are the report's —
//! are recomputed from the columns (a sort per axis) the first time a query needs them after a
//! change; scoring a contact is then four comparisons per axis. P(alive) is stored (it needs
//! the fitted model): set with the contact, recomputed for everyone when the model changes.
//!
//! Knows nothing of the store: the server hands over [`CustomerFacts`] and purchase lines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{FastHash, Index, word_prefix};
use crate::analytics::clv::Models;
use crate::analytics::rfm::{ABSOLUTE_FREQUENCY_CUTS, RfmScore, Segment, quintile_cuts, score};
use crate::search::fold::fold;
use crate::search::query::{FilterKind, Measure, ScoreAxis};

/// `last_day` of a contact without purchases.
const NO_PURCHASE: i32 = i32::MIN;
/// `currency` of a contact without purchases.
const NO_CURRENCY: u16 = u16::MAX;
/// Month labels in the purchase table: this bit plus `year · 12 + month − 1`.
const MONTH_BIT: u32 = 1 << 31;

/// What the index keeps of one customer (the server derives it from the purchase summary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerFacts {
    /// UTC day numbers of the first and last purchase.
    pub first_day: i32,
    pub last_day: i32,
    /// Days with a purchase (RFM's F, the BG/NBD count plus one).
    pub orders: u32,
    /// Total spent in `currency`, minor units.
    pub spent: i64,
    /// The main currency (the one with most purchase lines).
    pub currency: String,
}

/// One contact's scores as the index sees them now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CustomerScores {
    pub rfm: RfmScore,
    /// `None` before a model is fitted.
    pub p_alive: Option<f64>,
}

/// The RFM cuts of the current columns (see [`crate::analytics::rfm::Cuts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Cuts {
    recency: [i64; 4],
    /// By currency id.
    monetary: Vec<[i64; 4]>,
}

impl Cuts {
    fn score(&self, columns: &Columns, slot: usize) -> Option<RfmScore> {
        let last = *columns.last_day.get(slot)?;
        if last == NO_PURCHASE {
            return None;
        }
        let r = score(i64::from(last), &self.recency);
        let f = score(i64::from(columns.orders[slot]), &ABSOLUTE_FREQUENCY_CUTS);
        let m = self
            .monetary
            .get(usize::from(columns.currency[slot]))
            .map_or(1, |cuts| score(columns.spent[slot], cuts));
        Some(RfmScore {
            r,
            f,
            m,
            segment: Segment::of(r, f),
        })
    }
}

/// The per-slot columns: empty until the first customer arrives, then as long as the slots
/// (26 bytes per contact). Slots past the end have no purchases.
#[derive(Debug, Default)]
pub(super) struct Columns {
    first_day: Vec<i32>,
    last_day: Vec<i32>,
    orders: Vec<u32>,
    spent: Vec<i64>,
    currency: Vec<u16>,
    /// NaN without a model.
    palive: Vec<f32>,
    currencies: Vec<String>,
    /// Whether the server loaded them (an index fresh from the store has none).
    loaded: bool,
    models: Option<Arc<Models>>,
    /// Changes on every write to the columns; the cuts cache is keyed by it.
    version: u64,
    cuts: Mutex<Option<(u64, Arc<Cuts>)>>,
    bought: Option<Bought>,
}

/// What each customer bought: product and month labels per contact id, built on the first
/// query that needs them and kept current per contact.
#[derive(Debug, Default)]
struct Bought {
    /// Folded product names; a label below [`MONTH_BIT`] indexes this.
    products: Vec<String>,
    product_ids: HashMap<String, u32, FastHash>,
    /// Contact id → its labels, `runs[start..start + len]`, sorted.
    by_contact: HashMap<u64, (u32, u32), FastHash>,
    runs: Vec<u32>,
    /// Entries of `runs` no longer referenced.
    garbage: usize,
}

impl Bought {
    fn product(&mut self, name: &str) -> u32 {
        let folded = fold(name.trim());
        if let Some(&id) = self.product_ids.get(&folded) {
            return id;
        }
        let id = self.products.len() as u32;
        self.products.push(folded.clone());
        self.product_ids.insert(folded, id);
        id
    }

    fn set(&mut self, id: u64, mut labels: Vec<u32>) {
        labels.sort_unstable();
        labels.dedup();
        if let Some((_, len)) = self.by_contact.remove(&id) {
            self.garbage += len as usize;
        }
        if !labels.is_empty() && self.runs.len() + labels.len() < u32::MAX as usize {
            let start = self.runs.len() as u32;
            self.by_contact.insert(id, (start, labels.len() as u32));
            self.runs.extend_from_slice(&labels);
        }
        if self.garbage >= 1 << 16 && self.garbage * 2 >= self.runs.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let mut runs = Vec::with_capacity(self.runs.len() - self.garbage);
        for (start, len) in self.by_contact.values_mut() {
            let from = *start as usize;
            let new_start = runs.len() as u32;
            runs.extend_from_slice(&self.runs[from..from + *len as usize]);
            *start = new_start;
        }
        self.runs = runs;
        self.garbage = 0;
    }

    fn labels(&mut self, lines: impl IntoIterator<Item = (i32, String)>) -> Vec<u32> {
        let mut labels = Vec::new();
        for (day, product) in lines {
            labels.push(month_label(day));
            labels.push(self.product(&product));
        }
        labels
    }

    fn memory_bytes(&self) -> usize {
        self.runs.capacity() * 4
            + self.by_contact.capacity() * 17
            + self
                .products
                .iter()
                .map(|p| p.capacity() * 2 + 40)
                .sum::<usize>()
    }
}

/// Product names remembered as written ([`BoughtBuilder`]), beyond which each is folded anew.
const RAW_NAMES: usize = 1 << 16;

/// Builds the table of what customers bought one purchase line at a time, holding only the
/// table and the current contact's labels: the server streams the timeline (10M lines at 1M
/// customers) into it instead of collecting the lines first. Lines may come in any order; in
/// contact order (the timeline's) each contact's labels are written once.
#[derive(Debug, Default)]
pub struct BoughtBuilder {
    bought: Bought,
    /// Product names as the lines spell them → label: most lines repeat a few names, which
    /// are then neither folded nor copied again.
    raw: HashMap<String, u32, FastHash>,
    current: Option<u64>,
    labels: Vec<u32>,
}

impl BoughtBuilder {
    /// One purchase line: `contact` bought `product` on UTC `day`.
    pub fn line(&mut self, contact: u64, day: i32, product: &str) {
        if self.current != Some(contact) {
            self.flush();
            self.current = Some(contact);
        }
        let label = match self.raw.get(product) {
            Some(&label) => label,
            None => {
                let label = self.bought.product(product);
                if self.raw.len() < RAW_NAMES {
                    self.raw.insert(product.to_owned(), label);
                }
                label
            }
        };
        self.labels.push(month_label(day));
        self.labels.push(label);
    }

    /// Writes the current contact's labels, joined with any it already had (lines out of
    /// contact order).
    fn flush(&mut self) {
        let Some(id) = self.current.take() else {
            return;
        };
        let mut labels = std::mem::take(&mut self.labels);
        if let Some(&(start, len)) = self.bought.by_contact.get(&id) {
            labels.extend_from_slice(&self.bought.runs[start as usize..(start + len) as usize]);
        }
        self.bought.set(id, labels);
    }

    fn finish(mut self) -> Bought {
        self.flush();
        self.bought.runs.shrink_to_fit();
        self.bought.by_contact.shrink_to_fit();
        self.bought
    }
}

fn month_label(day: i32) -> u32 {
    let (year, month) = crate::analytics::month_of_day(day);
    MONTH_BIT | (year.clamp(0, 99_999) as u32 * 12 + u32::from(month) - 1)
}

/// `2025-05` → its month label.
fn month_label_of(text: &str) -> Option<u32> {
    let (year, month) = text.split_once('-')?;
    let year: u32 = year.parse().ok()?;
    let month: u32 = month.parse().ok()?;
    Some(MONTH_BIT | (year * 12 + month.checked_sub(1)?))
}

impl Columns {
    /// Makes the columns cover `slot`.
    fn cover(&mut self, slot: usize) {
        if self.last_day.len() <= slot {
            let len = slot + 1;
            self.first_day.resize(len, NO_PURCHASE);
            self.last_day.resize(len, NO_PURCHASE);
            self.orders.resize(len, 0);
            self.spent.resize(len, 0);
            self.currency.resize(len, NO_CURRENCY);
            self.palive.resize(len, f32::NAN);
        }
    }

    fn currency_id(&mut self, code: &str) -> u16 {
        match self.currencies.iter().position(|c| c == code) {
            Some(at) => at as u16,
            // More currencies than a u16 holds: the rest rank together as one.
            None if self.currencies.len() >= usize::from(NO_CURRENCY) - 1 => NO_CURRENCY - 1,
            None => {
                self.currencies.push(code.to_owned());
                (self.currencies.len() - 1) as u16
            }
        }
    }

    fn palive_of(&self, slot: usize) -> f32 {
        let (Some(models), Some(&last)) = (&self.models, self.last_day.get(slot)) else {
            return f32::NAN;
        };
        match &models.bg_nbd {
            Some(bg) if last != NO_PURCHASE => bg.p_alive(models.history(
                self.orders[slot].saturating_sub(1),
                self.first_day[slot],
                last,
            )) as f32,
            _ => f32::NAN,
        }
    }

    fn set(&mut self, slot: usize, facts: Option<&CustomerFacts>) {
        self.version += 1;
        match facts {
            Some(f) => {
                self.cover(slot);
                let currency = self.currency_id(&f.currency);
                self.first_day[slot] = f.first_day;
                self.last_day[slot] = f.last_day;
                self.orders[slot] = f.orders;
                self.spent[slot] = f.spent;
                self.currency[slot] = currency;
                let palive = self.palive_of(slot);
                self.palive[slot] = palive;
            }
            None if slot < self.last_day.len() => {
                self.first_day[slot] = NO_PURCHASE;
                self.last_day[slot] = NO_PURCHASE;
                self.orders[slot] = 0;
                self.spent[slot] = 0;
                self.currency[slot] = NO_CURRENCY;
                self.palive[slot] = f32::NAN;
            }
            None => {}
        }
    }

    /// The columns in a new slot order (the index's rebuild): `order[new] = old`.
    pub(super) fn reorder(&mut self, order: &[u32]) {
        if self.last_day.is_empty() {
            return;
        }
        fn pick<T: Copy>(column: &[T], order: &[u32], none: T) -> Vec<T> {
            order
                .iter()
                .map(|&slot| column.get(slot as usize).copied().unwrap_or(none))
                .collect()
        }
        self.first_day = pick(&self.first_day, order, NO_PURCHASE);
        self.last_day = pick(&self.last_day, order, NO_PURCHASE);
        self.orders = pick(&self.orders, order, 0);
        self.spent = pick(&self.spent, order, 0);
        self.currency = pick(&self.currency, order, NO_CURRENCY);
        self.palive = pick(&self.palive, order, f32::NAN);
        self.version += 1;
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.last_day.capacity() * 26 + self.bought.as_ref().map_or(0, Bought::memory_bytes)
    }
}

impl Index {
    /// Whether the purchase columns were loaded ([`Index::load_customers`]).
    pub fn customers_loaded(&self) -> bool {
        self.analytic.loaded
    }

    /// The models P(alive) comes from, once loaded.
    pub fn models(&self) -> Option<Arc<Models>> {
        self.analytic.models.clone()
    }

    /// Replaces every contact's purchase columns (contacts not listed have no purchases) and
    /// the models; a search narrowed from before starts over.
    pub fn load_customers(
        &mut self,
        customers: impl IntoIterator<Item = (u64, CustomerFacts)>,
        models: Models,
    ) {
        let bought = self.analytic.bought.take();
        self.analytic = Columns {
            models: Some(Arc::new(models)),
            loaded: true,
            bought,
            version: self.analytic.version + 1,
            ..Columns::default()
        };
        for (id, facts) in customers {
            if let Some(slot) = self.slot_of(id) {
                self.analytic.set(slot, Some(&facts));
            }
        }
        self.forget_narrowing();
    }

    /// New models (a refit): everyone's P(alive) is recomputed.
    pub fn set_models(&mut self, models: Models) {
        let columns = &mut self.analytic;
        columns.models = Some(Arc::new(models));
        columns.version += 1;
        for slot in 0..columns.last_day.len() {
            let palive = columns.palive_of(slot);
            columns.palive[slot] = palive;
        }
        self.forget_narrowing();
    }

    /// One contact's purchases changed (`None`: they have none now); scored at once.
    pub fn set_customer(&mut self, id: u64, facts: Option<&CustomerFacts>) {
        let Some(slot) = self.slot_of(id) else {
            return;
        };
        self.version += 1;
        self.analytic.set(slot, facts);
        self.touch(slot);
    }

    /// Whether the table of what customers bought is built ([`Index::load_bought`]).
    pub fn bought_loaded(&self) -> bool {
        self.analytic.bought.is_some()
    }

    /// Builds the table of what customers bought from every purchase line `(contact, UTC day,
    /// product)`, in any order (see [`BoughtBuilder`] to stream them).
    pub fn load_bought(&mut self, lines: impl IntoIterator<Item = (u64, i32, String)>) {
        let mut builder = BoughtBuilder::default();
        for (id, day, product) in lines {
            builder.line(id, day, &product);
        }
        self.set_bought_table(builder);
    }

    /// Installs the table a [`BoughtBuilder`] made.
    pub fn set_bought_table(&mut self, builder: BoughtBuilder) {
        self.analytic.bought = Some(builder.finish());
        self.forget_narrowing();
    }

    /// Replaces what one contact bought `(UTC day, product)`, once the table is built.
    pub fn set_bought(&mut self, id: u64, lines: impl IntoIterator<Item = (i32, String)>) {
        let Some(bought) = self.analytic.bought.as_mut() else {
            return;
        };
        let labels = bought.labels(lines);
        bought.set(id, labels);
        if let Some(slot) = self.slot_of(id) {
            self.version += 1;
            self.touch(slot);
        }
    }

    /// A contact's scores now (`None` without purchases or before the columns are loaded).
    pub fn customer_scores(&self, id: u64) -> Option<CustomerScores> {
        let slot = self.slot_of(id).filter(|&s| self.live[s])?;
        let rfm = self.rfm_cuts().score(&self.analytic, slot)?;
        let p = self.analytic.palive[slot];
        Some(CustomerScores {
            rfm,
            p_alive: (!p.is_nan()).then_some(f64::from(p)),
        })
    }

    /// Narrowing across a change of everyone's values is impossible.
    fn forget_narrowing(&mut self) {
        self.epoch += 1;
        self.version += 1;
        self.touched.clear();
    }

    /// The cuts of the columns as they are, computed once per change.
    pub(super) fn rfm_cuts(&self) -> Arc<Cuts> {
        let columns = &self.analytic;
        let mut cache = columns
            .cuts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((version, cuts)) = cache.as_ref()
            && *version == columns.version
        {
            return Arc::clone(cuts);
        }
        let mut recency = Vec::new();
        let mut monetary: Vec<Vec<i64>> = vec![Vec::new(); columns.currencies.len()];
        for slot in 0..columns.last_day.len().min(self.live.len()) {
            if !self.live[slot] || columns.last_day[slot] == NO_PURCHASE {
                continue;
            }
            recency.push(i64::from(columns.last_day[slot]));
            if let Some(values) = monetary.get_mut(usize::from(columns.currency[slot])) {
                values.push(columns.spent[slot]);
            }
        }
        let cuts = Arc::new(Cuts {
            recency: quintile_cuts(&mut recency),
            monetary: monetary.iter_mut().map(|v| quintile_cuts(v)).collect(),
        });
        *cache = Some((columns.version, Arc::clone(&cuts)));
        cuts
    }
}

/// A purchase filter resolved against one index.
pub(super) enum Filter {
    /// `allowed[r − 1][f − 1]`: the R×F cells that hold (a segment, or score ranges).
    Cells {
        allowed: [[bool; 5]; 5],
        monetary: Option<(u8, u8)>,
        cuts: Arc<Cuts>,
        negated: bool,
    },
    Measure {
        measure: Measure,
        op: crate::search::query::Comparison,
        value: f64,
        today_day: i32,
        negated: bool,
    },
    /// Slots (bits) of the customers who bought what was asked.
    Slots { bits: Vec<u64>, negated: bool },
}

impl Filter {
    /// `None` when `kind` is not a purchase filter.
    pub(super) fn compile(
        index: &Index,
        kind: &FilterKind,
        negated: bool,
        today_day: i32,
    ) -> Option<Filter> {
        let cells = |allowed: [[bool; 5]; 5], monetary| Filter::Cells {
            allowed,
            monetary,
            cuts: index.rfm_cuts(),
            negated,
        };
        Some(match kind {
            FilterKind::Segment(segment) => {
                let mut allowed = [[false; 5]; 5];
                for (r, row) in allowed.iter_mut().enumerate() {
                    for (f, cell) in row.iter_mut().enumerate() {
                        *cell = Segment::of(r as u8 + 1, f as u8 + 1) == *segment;
                    }
                }
                cells(allowed, None)
            }
            FilterKind::Score { axis, min, max } => {
                let within = |s: usize| (*min..=*max).contains(&(s as u8 + 1));
                let mut allowed = [[true; 5]; 5];
                for (r, row) in allowed.iter_mut().enumerate() {
                    for (f, cell) in row.iter_mut().enumerate() {
                        *cell = match axis {
                            ScoreAxis::Recency => within(r),
                            ScoreAxis::Frequency => within(f),
                            ScoreAxis::Monetary => true,
                        };
                    }
                }
                let monetary = (*axis == ScoreAxis::Monetary).then_some((*min, *max));
                cells(allowed, monetary)
            }
            FilterKind::Measure { measure, op, value } => Filter::Measure {
                measure: *measure,
                op: *op,
                value: *value as f64,
                // "Days ago" on the models' day (today, UTC), as the reports count them.
                today_day: index
                    .analytic
                    .models
                    .as_ref()
                    .map_or(today_day, |m| m.as_of),
                negated,
            },
            FilterKind::Bought(value) => Filter::Slots {
                bits: bought_slots(index, |products, label| {
                    products
                        .get(label as usize)
                        .is_some_and(|p| word_prefix(p, value))
                }),
                negated,
            },
            FilterKind::Month(text) => {
                let wanted = month_label_of(text);
                Filter::Slots {
                    bits: bought_slots(index, |_, label| Some(label) == wanted),
                    negated,
                }
            }
            _ => return None,
        })
    }

    pub(super) fn holds(&self, index: &Index, slot: usize) -> bool {
        let columns = &index.analytic;
        match self {
            Filter::Cells {
                allowed,
                monetary,
                cuts,
                negated,
            } => {
                let hit = cuts.score(columns, slot).is_some_and(|s| {
                    allowed[usize::from(s.r) - 1][usize::from(s.f) - 1]
                        && monetary.is_none_or(|(lo, hi)| (lo..=hi).contains(&s.m))
                });
                hit != *negated
            }
            Filter::Measure {
                measure,
                op,
                value,
                today_day,
                negated,
            } => {
                let last = columns.last_day.get(slot).copied().unwrap_or(NO_PURCHASE);
                let figure = match measure {
                    Measure::Orders => {
                        Some(f64::from(columns.orders.get(slot).copied().unwrap_or(0)))
                    }
                    Measure::Spent => Some(columns.spent.get(slot).copied().unwrap_or(0) as f64),
                    Measure::LastPurchase => {
                        (last != NO_PURCHASE).then(|| f64::from(*today_day) - f64::from(last))
                    }
                    Measure::PAlive => columns
                        .palive
                        .get(slot)
                        .filter(|p| !p.is_nan())
                        .map(|p| f64::from(*p) * 1e6),
                };
                figure.is_some_and(|f| op.holds(f, *value)) != *negated
            }
            Filter::Slots { bits, negated } => {
                let hit = bits
                    .get(slot / 64)
                    .is_some_and(|word| word & (1 << (slot % 64)) != 0);
                hit != *negated
            }
        }
    }
}

/// The slots of the customers with a label `wanted` accepts (products are passed along).
fn bought_slots(index: &Index, wanted: impl Fn(&[String], u32) -> bool) -> Vec<u64> {
    let mut bits = vec![0u64; index.ids.len().div_ceil(64)];
    let Some(bought) = &index.analytic.bought else {
        return bits;
    };
    // Decide per label once, not per customer.
    let products: Vec<bool> = (0..bought.products.len() as u32)
        .map(|label| wanted(&bought.products, label))
        .collect();
    let month_wanted = |label: u32| wanted(&bought.products, label);
    for (&id, &(start, len)) in &bought.by_contact {
        let run = &bought.runs[start as usize..(start + len) as usize];
        let hit = run.iter().any(|&label| {
            if label & MONTH_BIT != 0 {
                month_wanted(label)
            } else {
                products.get(label as usize).copied().unwrap_or(false)
            }
        });
        if hit && let Some(slot) = index.slot_of(id) {
            bits[slot / 64] |= 1 << (slot % 64);
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::clv::BgNbd;
    use crate::search::{Query, SearchDoc, SearchOptions};

    fn facts(first_day: i32, last_day: i32, orders: u32, spent: i64) -> CustomerFacts {
        CustomerFacts {
            first_day,
            last_day,
            orders,
            spent,
            currency: "EUR".into(),
        }
    }

    fn index(n: u64) -> Index {
        let mut index = Index::new();
        for id in 1..=n {
            index.upsert(&SearchDoc {
                id,
                name: format!("Person {id}"),
                ..SearchDoc::default()
            });
        }
        index
    }

    fn models() -> Models {
        Models {
            as_of: 1_000,
            unit_days: 1.0,
            currency: Some("EUR".into()),
            bg_nbd: Some(BgNbd {
                r: 0.24,
                alpha: 4.4,
                a: 0.79,
                b: 2.43,
            }),
            gamma_gamma: None,
        }
    }

    fn ids(index: &Index, query: &str) -> Vec<u64> {
        let query = Query::parse(query).unwrap();
        let mut ids: Vec<u64> = index
            .search(
                &query,
                SearchOptions {
                    limit: 1000,
                    today_day: 1_000,
                },
            )
            .iter()
            .map(|h| h.id)
            .collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn scores_follow_the_report_rule_and_a_purchase_moves_them() {
        let mut index = index(12);
        // Ten customers, last purchase on days 991..=1000, one to ten purchase days.
        let customers: Vec<(u64, CustomerFacts)> = (1..=10)
            .map(|id| (id, facts(900, 990 + id as i32, id as u32, id as i64 * 1000)))
            .collect();
        index.load_customers(customers.clone(), models());
        // R by rank: two per quintile; F absolute: 6+ days is 5.
        let scores = |index: &Index, id| index.customer_scores(id).map(|s| s.rfm);
        let s10 = scores(&index, 10).unwrap();
        assert_eq!(
            (s10.r, s10.f, s10.m, s10.segment),
            (5, 5, 5, Segment::Champions)
        );
        assert_eq!(scores(&index, 1).map(|s| (s.r, s.f)), Some((1, 1)));
        assert_eq!(scores(&index, 11), None, "no purchases");
        assert_eq!(ids(&index, "rfm:champions"), [9, 10]);
        assert_eq!(ids(&index, "r:5"), [9, 10]);
        assert_eq!(ids(&index, "r:4-5 f:5"), [7, 8, 9, 10]);
        assert_eq!(ids(&index, "-rfm:champions orders>=8"), [8]);
        assert_eq!(
            ids(&index, "orders<2"),
            [1, 11, 12],
            "no purchases is zero orders"
        );
        assert_eq!(ids(&index, "spent>50"), [6, 7, 8, 9, 10]);
        assert_eq!(ids(&index, "last_purchase>7d"), [1, 2]);
        // Contact 1 buys today: now the most recent customer, a champion no longer at F1.
        index.set_customer(1, Some(&facts(900, 1000, 2, 1500)));
        assert_eq!(scores(&index, 1).map(|s| (s.r, s.f)), Some((5, 2)));
        // Day 999 (contact 9) now has seven of ten below it: R4.
        assert_eq!(ids(&index, "r:5"), [1, 10]);
        assert_eq!(ids(&index, "last_purchase>7d"), [2]);
        index.set_customer(10, None);
        assert_eq!(ids(&index, "orders=0"), [10, 11, 12]);
    }

    #[test]
    fn palive_comes_from_the_model_and_follows_a_refit() {
        let mut index = index(3);
        index.load_customers(
            [
                (1, facts(0, 10, 5, 100)),
                (2, facts(0, 999, 5, 100)),
                (3, facts(990, 990, 1, 10)),
            ],
            models(),
        );
        let p = |index: &Index, id| index.customer_scores(id).and_then(|s| s.p_alive);
        assert!(p(&index, 1).unwrap() < 0.3, "bought often, long silent");
        assert!(p(&index, 2).unwrap() > 0.8);
        assert_eq!(p(&index, 3), Some(1.0), "a one-time buyer cannot have left");
        assert_eq!(ids(&index, "palive<0.3"), [1]);
        assert_eq!(ids(&index, "-palive<0.3"), [2, 3]);
        index.set_models(Models {
            bg_nbd: None,
            ..models()
        });
        assert!(ids(&index, "palive<0.3").is_empty());
    }

    #[test]
    fn bought_and_month_find_the_customers_and_stay_current() {
        let mut index = index(4);
        index.load_bought([
            (1, 20_089, "Team plan".to_string()), // 2025-01-01
            (2, 20_120, "Pro plan".to_string()),  // 2025-02-01
            (2, 20_089, "Onboarding".to_string()),
        ]);
        assert_eq!(ids(&index, "bought:\"team plan\""), [1]);
        assert_eq!(ids(&index, "bought:plan"), [1, 2]);
        assert_eq!(ids(&index, "month:2025-01"), [1, 2]);
        assert_eq!(ids(&index, "month:2025-02"), [2]);
        assert_eq!(ids(&index, "-bought:onb"), [1, 3, 4]);
        index.set_bought(3, [(20_120, "Team plan".to_string())]);
        assert_eq!(ids(&index, "bought:team"), [1, 3]);
        index.set_bought(1, []);
        assert_eq!(ids(&index, "bought:team"), [3]);
    }

    #[test]
    fn a_contact_whose_lines_come_apart_keeps_them_all() {
        // The timeline gives each contact's lines together; the builder must not rely on it.
        let mut index = index(3);
        index.load_bought([
            (1, 20_089, "Team plan".to_string()),   // 2025-01
            (2, 20_120, "Pro plan".to_string()),    // 2025-02
            (1, 20_150, " TEAM PLAN ".to_string()), // 2025-03, spelt otherwise
            (3, 20_180, "Onboarding".to_string()),  // 2025-04
            (1, 20_180, "Onboarding".to_string()),
        ]);
        assert_eq!(ids(&index, "month:2025-01"), [1]);
        assert_eq!(ids(&index, "month:2025-03"), [1]);
        assert_eq!(ids(&index, "month:2025-04"), [1, 3]);
        assert_eq!(ids(&index, "bought:onboarding"), [1, 3]);
        assert_eq!(ids(&index, "bought:\"team plan\""), [1]);
        assert_eq!(ids(&index, "bought:plan"), [1, 2]);
    }

    #[test]
    fn columns_follow_slots_through_a_rebuild() {
        let mut index = Index::new();
        // Out of order: a rebuild renumbers the slots.
        for id in [5_u64, 3, 9, 1] {
            index.upsert(&SearchDoc {
                id,
                name: format!("P{id}"),
                ..SearchDoc::default()
            });
        }
        index.load_customers(
            [(9, facts(0, 999, 6, 10)), (1, facts(0, 100, 1, 10))],
            models(),
        );
        index.rebuild();
        assert_eq!(ids(&index, "f:5"), [9]);
        assert_eq!(ids(&index, "f:1"), [1]);
    }
}
