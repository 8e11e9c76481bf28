//! Report rollups: purchase lines and ratings summed per UTC day and group, kept current by the
//! store in the same transaction as every timeline write (schema 8), so the profit,
//! performance and satisfaction reports and the dashboard read a few thousand rows instead of
//! every line ever sold. Plain data: the store holds the rows, this module says what a timeline
//! entry adds to which row and folds rows back into the reports' shapes.
//!
//! A row is `(kind, currency, day, value)` → [`Cell`]. Purchases add to three rows (their
//! product, channel and location, in their currency); a rated interaction adds to two (its
//! agent and its channel, currency `""`). Months and totals are sums of the product rows (every
//! purchase has exactly one); the satisfaction overall and per month are sums of the agent rows.
//! Because a cell is a plain sum, removing an entry subtracts exactly what adding it added, and
//! a row whose count reaches zero is deleted — so the rows are a function of the timeline alone,
//! which `rolo doctor` checks by rebuilding them.
//!
//! Per customer, ratings are summarised in [`Ratings`] (count, sum, latest): enough for the
//! latest and average rating and "fell" without reading any interaction.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::performance::{Dimension, Group};
use super::profit::Totals;
use super::satisfaction::Stats;
use super::summary::utc_day;
use crate::domain::{At, Entry, Id, Interaction};

/// What a rollup row groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Purchase lines by product (also what months and totals are summed from).
    Product,
    /// Purchase lines by sales channel.
    Channel,
    /// Purchase lines by location.
    Location,
    /// Ratings by agent (also what the overall and monthly figures are summed from).
    AgentRatings,
    /// Ratings by interaction channel.
    ChannelRatings,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Product,
        Kind::Channel,
        Kind::Location,
        Kind::AgentRatings,
        Kind::ChannelRatings,
    ];

    /// The byte stored in the row's key.
    pub fn code(self) -> u8 {
        match self {
            Kind::Product => 1,
            Kind::Channel => 2,
            Kind::Location => 3,
            Kind::AgentRatings => 4,
            Kind::ChannelRatings => 5,
        }
    }

    pub fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A row's sums. Purchases: `[lines, quantity, amount, cost, margin]` (minor units). Ratings:
/// `[count, satisfied (4–5), sum of scores, 0, 0]`.
pub type Cell = [i64; 5];

/// What one purchase line adds to a cell.
fn purchase_cell(p: &crate::domain::Purchase) -> Cell {
    [1, i64::from(p.quantity), p.amount, p.cost, p.margin()]
}

fn rating_cell(score: u8) -> Cell {
    [1, i64::from(score >= 4), i64::from(score), 0, 0]
}

/// Adds (`sign` 1) or subtracts (−1) `delta` into `cell`.
pub fn apply(cell: &mut Cell, delta: &Cell, sign: i64) {
    for (c, d) in cell.iter_mut().zip(delta) {
        *c = c.saturating_add(d.saturating_mul(sign));
    }
}

/// One row an entry contributes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contribution<'a> {
    pub kind: Kind,
    pub currency: &'a str,
    pub day: i32,
    pub value: &'a str,
    pub cell: Cell,
}

/// The rows a timeline entry adds to (none for notes, follow-ups and unrated interactions):
/// at most three, without allocating (the store calls this for every line an import files).
pub fn contributions(entry: &Entry) -> impl Iterator<Item = Contribution<'_>> {
    let rows: [Option<Contribution<'_>>; 3] = match entry {
        Entry::Purchase(p) => {
            let day = utc_day(p.at.millis());
            let cell = purchase_cell(p);
            let row = |kind, value| {
                Some(Contribution {
                    kind,
                    currency: p.currency.as_str(),
                    day,
                    value,
                    cell,
                })
            };
            [
                row(Kind::Product, p.product.as_str()),
                row(Kind::Channel, p.channel.as_str()),
                row(Kind::Location, p.location.as_str()),
            ]
        }
        Entry::Interaction(i) => match i.satisfaction {
            Some(score) => {
                let day = utc_day(i.at.millis());
                let cell = rating_cell(score);
                let row = |kind, value| {
                    Some(Contribution {
                        kind,
                        currency: "",
                        day,
                        value,
                        cell,
                    })
                };
                [
                    row(Kind::AgentRatings, i.agent.as_str()),
                    row(Kind::ChannelRatings, i.channel.name()),
                    None,
                ]
            }
            None => [None, None, None],
        },
        _ => [None, None, None],
    };
    rows.into_iter().flatten()
}

/// Whether an entry counts in the rollups or the per-customer ratings.
pub fn counts(entry: &Entry) -> bool {
    match entry {
        Entry::Purchase(_) => true,
        Entry::Interaction(i) => i.satisfaction.is_some(),
        _ => false,
    }
}

/// A stored row, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub kind: Kind,
    pub currency: String,
    pub day: i32,
    pub value: String,
    pub cell: Cell,
}

/// Rows built from scratch (a migration, `rolo doctor`'s check): sums per key, zero-count rows
/// dropped, in key order.
#[derive(Default)]
pub struct Builder {
    rows: BTreeMap<(u8, String, i32, String), Cell>,
}

impl Builder {
    pub fn add(&mut self, entry: &Entry) {
        for c in contributions(entry) {
            let cell = self
                .rows
                .entry((
                    c.kind.code(),
                    c.currency.to_string(),
                    c.day,
                    c.value.to_string(),
                ))
                .or_default();
            apply(cell, &c.cell, 1);
        }
    }

    pub fn finish(self) -> BTreeMap<(u8, String, i32, String), Cell> {
        self.rows
    }
}

fn totals(cell: &Cell) -> Totals {
    Totals {
        lines: u64::try_from(cell[0]).unwrap_or(0),
        quantity: u64::try_from(cell[1]).unwrap_or(0),
        amount: cell[2],
        cost: cell[3],
        margin: cell[4],
    }
}

fn add_totals(into: &mut Totals, cell: &Cell) {
    let t = totals(cell);
    into.lines += t.lines;
    into.quantity += t.quantity;
    into.amount = into.amount.saturating_add(t.amount);
    into.cost = into.cost.saturating_add(t.cost);
    into.margin = into.margin.saturating_add(t.margin);
}

fn add_stats(into: &mut Stats, cell: &Cell) {
    into.count += u64::try_from(cell[0]).unwrap_or(0);
    into.satisfied += u64::try_from(cell[1]).unwrap_or(0);
    into.sum += u64::try_from(cell[2]).unwrap_or(0);
}

fn month_index(day: i32) -> i32 {
    let (y, m) = super::month_of_day(day);
    y * 12 + i32::from(m) - 1
}

fn month_label(index: i32) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

/// Purchase groups of `dimension` over the rows up to day `limit` (inclusive), sorted by
/// currency then key — what [`super::performance::group_by`] gives for the same lines.
pub fn groups(rows: &[Row], dimension: Dimension, limit: i32) -> Vec<Group> {
    let kind = match dimension {
        Dimension::Channel => Kind::Channel,
        Dimension::Location => Kind::Location,
        Dimension::Product | Dimension::Month => Kind::Product,
    };
    let mut sums: HashMap<(&str, String), Totals> = HashMap::new();
    let mut months: HashMap<(&str, i32), Totals> = HashMap::new();
    for r in rows.iter().filter(|r| r.kind == kind && r.day <= limit) {
        if dimension == Dimension::Month {
            add_totals(
                months
                    .entry((r.currency.as_str(), month_index(r.day)))
                    .or_default(),
                &r.cell,
            );
        } else {
            match sums.get_mut(&(r.currency.as_str(), r.value.clone())) {
                Some(t) => add_totals(t, &r.cell),
                None => add_totals(
                    sums.entry((r.currency.as_str(), r.value.clone()))
                        .or_default(),
                    &r.cell,
                ),
            }
        }
    }
    let mut out: Vec<Group> = sums
        .into_iter()
        .map(|((currency, key), totals)| Group {
            key,
            currency: currency.to_string(),
            totals,
        })
        .chain(months.into_iter().map(|((currency, index), totals)| Group {
            key: month_label(index),
            currency: currency.to_string(),
            totals,
        }))
        .collect();
    out.sort_by(|a, b| (&a.currency, &a.key).cmp(&(&b.currency, &b.key)));
    out
}

/// Product totals per currency up to day `limit` — what [`super::profit::products`] gives.
pub fn products(rows: &[Row], limit: i32) -> BTreeMap<String, HashMap<String, Totals>> {
    let mut out: BTreeMap<String, HashMap<String, Totals>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.kind == Kind::Product && r.day <= limit)
    {
        let by_product = match out.get_mut(&r.currency) {
            Some(m) => m,
            None => out.entry(r.currency.clone()).or_default(),
        };
        match by_product.get_mut(&r.value) {
            Some(t) => add_totals(t, &r.cell),
            None => add_totals(by_product.entry(r.value.clone()).or_default(), &r.cell),
        }
    }
    out
}

/// Ratings up to day `limit`: overall, per agent, per channel (both by key) and per month.
pub struct RatingGroups {
    pub overall: Stats,
    pub agents: BTreeMap<String, Stats>,
    pub channels: BTreeMap<String, Stats>,
    pub months: BTreeMap<i32, Stats>,
}

pub fn ratings(rows: &[Row], limit: i32) -> RatingGroups {
    let mut out = RatingGroups {
        overall: Stats::default(),
        agents: BTreeMap::new(),
        channels: BTreeMap::new(),
        months: BTreeMap::new(),
    };
    for r in rows.iter().filter(|r| r.day <= limit) {
        match r.kind {
            Kind::AgentRatings => {
                add_stats(&mut out.overall, &r.cell);
                add_stats(out.agents.entry(r.value.clone()).or_default(), &r.cell);
                add_stats(out.months.entry(month_index(r.day)).or_default(), &r.cell);
            }
            Kind::ChannelRatings => {
                add_stats(out.channels.entry(r.value.clone()).or_default(), &r.cell);
            }
            _ => {}
        }
    }
    out
}

/// The month label of a [`RatingGroups::months`] key.
pub fn month_of_index(index: i32) -> String {
    month_label(index)
}

/// One customer's ratings in summary: enough for the latest, the average and whether
/// satisfaction fell, without reading an interaction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratings {
    pub contact: Id,
    pub count: u64,
    pub sum: u64,
    pub latest: u8,
    pub latest_at: i64,
    pub latest_id: Id,
}

impl Ratings {
    pub fn new(contact: Id) -> Self {
        Ratings {
            contact,
            ..Ratings::default()
        }
    }

    /// Folds a rated interaction in (unrated ones change nothing).
    pub fn add(&mut self, i: &Interaction) {
        let Some(score) = i.satisfaction else {
            return;
        };
        self.count += 1;
        self.sum += u64::from(score);
        let at = i.at.millis();
        if self.count == 1 || (at, i.id) > (self.latest_at, self.latest_id) {
            self.latest = score;
            self.latest_at = at;
            self.latest_id = i.id;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The report's per-customer row.
    pub fn customer(&self) -> super::satisfaction::CustomerSatisfaction {
        let earlier_average = (self.count > 1)
            .then(|| (self.sum - u64::from(self.latest)) as f64 / (self.count - 1) as f64);
        super::satisfaction::CustomerSatisfaction {
            contact: self.contact,
            count: self.count,
            average: self.sum as f64 / self.count.max(1) as f64,
            latest: self.latest,
            latest_at: At::from_millis(self.latest_at),
            fell: earlier_average.is_some_and(|e| f64::from(self.latest) <= e - 1.0),
            earlier_average,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::performance::group_by;
    use crate::analytics::satisfaction::satisfaction;
    use crate::domain::{Channel, Purchase};

    fn purchase(id: Id, day: i64, product: &str, channel: &str, amount: i64, cur: &str) -> Entry {
        Entry::Purchase(Purchase {
            id,
            contact: id % 3 + 1,
            at: At::from_millis(day * 86_400_000 + 3_600_000),
            product: product.into(),
            quantity: 2,
            amount,
            cost: amount / 3,
            currency: cur.into(),
            channel: channel.into(),
            location: if id % 2 == 0 { "Lyon" } else { "" }.into(),
        })
    }

    fn rated(id: Id, contact: Id, day: i64, agent: &str, score: u8) -> Interaction {
        let mut i = Interaction::new(contact, Channel::Call, "x");
        i.id = id;
        i.at = At::from_millis(day * 86_400_000);
        i.agent = agent.into();
        i.satisfaction = Some(score);
        i
    }

    /// Rows as the store keeps them: built by adding and then removing entries one at a time.
    fn rows_of(b: BTreeMap<(u8, String, i32, String), Cell>) -> Vec<Row> {
        b.into_iter()
            .map(|((k, currency, day, value), cell)| Row {
                kind: Kind::from_code(k).unwrap_or(Kind::Product),
                currency,
                day,
                value,
                cell,
            })
            .collect()
    }

    #[test]
    fn groups_from_rows_equal_groups_from_lines_at_every_cut_off() {
        let entries: Vec<Entry> = (0..60)
            .map(|i| {
                purchase(
                    i,
                    i64::try_from(i * 7).unwrap_or(0),
                    ["A", "B", "C"][usize::try_from(i % 3).unwrap_or(0)],
                    ["web", "store"][usize::try_from(i % 2).unwrap_or(0)],
                    100 + i64::try_from(i).unwrap_or(0),
                    if i % 5 == 0 { "USD" } else { "EUR" },
                )
            })
            .collect();
        let mut b = Builder::default();
        for e in &entries {
            b.add(e);
        }
        let rows = rows_of(b.finish());
        for limit in [-1, 0, 30, 31, 200, 1000] {
            let lines: Vec<&Purchase> = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Purchase(p) if utc_day(p.at.millis()) <= limit => Some(p),
                    _ => None,
                })
                .collect();
            for d in [
                Dimension::Channel,
                Dimension::Location,
                Dimension::Product,
                Dimension::Month,
            ] {
                assert_eq!(
                    groups(&rows, d, limit),
                    group_by(d, lines.iter().copied()),
                    "{d:?} to {limit}"
                );
            }
            assert_eq!(
                products(&rows, limit),
                crate::analytics::profit::products(lines.iter().copied()),
                "products to {limit}"
            );
        }
    }

    #[test]
    fn removing_an_entry_subtracts_exactly_what_it_added() {
        let a = purchase(1, 10, "A", "web", 500, "EUR");
        let b = purchase(2, 10, "A", "web", 300, "EUR");
        let mut cell = Cell::default();
        for c in contributions(&a).chain(contributions(&b)) {
            if c.kind == Kind::Product {
                apply(&mut cell, &c.cell, 1);
            }
        }
        assert_eq!(cell, [2, 4, 800, 166 + 100, 800 - 266]);
        for c in contributions(&a) {
            if c.kind == Kind::Product {
                apply(&mut cell, &c.cell, -1);
            }
        }
        assert_eq!(cell, [1, 2, 300, 100, 200]);
        let unrated = Entry::Interaction(Interaction::new(1, Channel::Call, "x"));
        assert_eq!(contributions(&unrated).count(), 0);
    }

    #[test]
    fn ratings_from_rows_and_summaries_equal_the_per_interaction_rollup() {
        let interactions = [
            rated(1, 1, 0, "ana", 5),
            rated(2, 1, 40, "sam", 4),
            rated(3, 1, 41, "sam", 2), // 1 fell: 2 ≤ 4.5 − 1
            rated(4, 2, 41, "ana", 3),
            rated(5, 2, 41, "ana", 3), // same instant as 4: the higher id is the latest
        ];
        let mut b = Builder::default();
        let mut per: BTreeMap<Id, Ratings> = BTreeMap::new();
        for i in &interactions {
            b.add(&Entry::Interaction(i.clone()));
            per.entry(i.contact)
                .or_insert_with(|| Ratings::new(i.contact))
                .add(i);
        }
        let rows = rows_of(b.finish());
        let expected = satisfaction(&interactions);
        let got = ratings(&rows, i32::MAX);
        assert_eq!(
            got.overall,
            Stats {
                count: 5,
                satisfied: 2,
                sum: 17
            }
        );
        let agents: Vec<(String, u64)> = got
            .agents
            .iter()
            .map(|(k, s)| (k.clone(), s.count))
            .collect();
        assert_eq!(agents, [("ana".to_string(), 3), ("sam".to_string(), 2)]);
        assert_eq!(got.months.len(), expected.by_month.len());
        let customers: Vec<_> = per.values().map(Ratings::customer).collect();
        assert_eq!(customers, expected.customers);
        assert!(customers[0].fell && !customers[1].fell);
        assert_eq!(ratings(&rows, 39).overall.count, 1);
    }
}
