//! The reports `rolo report` prints and the dashboard draws: each a function of the store and
//! its options returning plain serde data, so the same numbers reach the JSON, the terminal
//! and (later) the team-mode API unchanged. The JSON shapes are documented in the README
//! ("Reports") and kept stable: fields are added, never renamed or removed.
//!
//! The store's per-customer purchase summaries are read as they stand; with `as_of` before
//! today, the purchases up to that day are replayed from the timeline instead (one scan).
//! Reports that need single lines (products, months, channels, satisfaction) scan the timeline
//! once.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::clv::{BgNbd, Fit, GammaGamma, Grouped, History, Models, Outlook, Spend, ValueTerms};
use super::performance::{self, Dimension, Group, Loyalty};
use super::profit::{self, CurrencyProfit};
use super::rfm::{Cuts, FrequencyRule, RfmScore, RfmValues, Segment};
use super::rollup;
use super::satisfaction::{self, Satisfaction};
use super::summary::{Customer, PurchaseSummary, ValueRow, utc_day};
use crate::domain::{Day, Entry, Id, Interaction, Purchase};
use crate::store::{Store, StoreError};
use rustc_hash::FxHashMap;

/// Today as a UTC day (the analytics' days are UTC days).
pub fn today() -> Day {
    Day::from_number(utc_day(crate::domain::At::now().millis()))
}

/// The summaries as of the end of `as_of` (inclusive): the stored ones when nothing was bought
/// after that day, else a replay of the timeline up to it.
pub fn summaries_as_of(store: &Store, as_of: Day) -> Result<Vec<PurchaseSummary>, StoreError> {
    let stored = store.customer_summaries()?;
    let limit = as_of.number();
    if stored.iter().all(|s| s.last_day <= limit) {
        return Ok(stored);
    }
    let mut out: Vec<PurchaseSummary> = Vec::with_capacity(stored.len());
    let mut previous_day = i32::MIN;
    store.for_each_entry(|entry| {
        if let Entry::Purchase(p) = entry {
            let day = utc_day(p.at.millis());
            if day > limit {
                return true;
            }
            match out.last_mut() {
                Some(s) if s.contact == p.contact => {
                    s.add(&p, day != previous_day);
                }
                _ => {
                    let mut s = PurchaseSummary::new(p.contact);
                    s.add(&p, true);
                    out.push(s);
                }
            }
            previous_day = day;
        }
        true
    })?;
    Ok(out)
}

/// [`summaries_as_of`] as [`ValueRow`]s: read so from the store, without the whole summaries
/// ever being held, when nothing was bought after `as_of`.
pub fn value_rows_as_of(store: &Store, as_of: Day) -> Result<Vec<ValueRow>, StoreError> {
    let stored = store.customer_summaries_as(|s| ValueRow::of(&s))?;
    if stored.iter().all(|s| s.last_day <= as_of.number()) {
        return Ok(stored);
    }
    drop(stored);
    Ok(summaries_as_of(store, as_of)?
        .iter()
        .map(ValueRow::of)
        .collect())
}

/// Calls `purchases` and `interactions` for every entry up to the end of `as_of`.
fn scan(
    store: &Store,
    as_of: Day,
    mut purchases: impl FnMut(&Purchase),
    mut interactions: impl FnMut(&Interaction),
) -> Result<(), StoreError> {
    let limit = as_of.number();
    store.for_each_entry(|entry| {
        match &entry {
            Entry::Purchase(p) if utc_day(p.at.millis()) <= limit => purchases(p),
            Entry::Interaction(i) if utc_day(i.at.millis()) <= limit => interactions(i),
            _ => {}
        }
        true
    })
}

/// Satisfaction up to the end of `as_of` from the rollups, with the per-customer rows from the
/// stored rating summaries — or, when a customer was rated after that day, from one scan of
/// the timeline's rated interactions.
fn satisfaction_as_of(
    store: &Store,
    rows: &[rollup::Row],
    as_of: Day,
) -> Result<Satisfaction, StoreError> {
    let limit = as_of.number();
    let groups = rollup::ratings(rows, limit);
    let stored = store.customer_ratings()?;
    let customers = if stored.iter().all(|r| utc_day(r.latest_at) <= limit) {
        stored.iter().map(rollup::Ratings::customer).collect()
    } else {
        let mut per: BTreeMap<Id, rollup::Ratings> = BTreeMap::new();
        scan(
            store,
            as_of,
            |_| {},
            |i| {
                if i.satisfaction.is_some() {
                    per.entry(i.contact)
                        .or_insert_with(|| rollup::Ratings::new(i.contact))
                        .add(i);
                }
            },
        )?;
        per.values().map(rollup::Ratings::customer).collect()
    };
    let rows_of = |m: BTreeMap<String, satisfaction::Stats>| -> Vec<satisfaction::Row> {
        m.into_iter()
            .map(|(k, s)| satisfaction::Row::new(k, &s))
            .collect()
    };
    Ok(Satisfaction {
        overall: satisfaction::Row::new("all".into(), &groups.overall),
        by_agent: rows_of(groups.agents),
        by_channel: rows_of(groups.channels),
        by_month: groups
            .months
            .into_iter()
            .map(|(k, s)| satisfaction::Row::new(rollup::month_of_index(k), &s))
            .collect(),
        customers,
    })
}

fn name_of(store: &Store, id: Id) -> Result<String, StoreError> {
    Ok(store.contact(id)?.map(|c| c.name).unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// RFM
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
pub struct RfmOptions {
    pub as_of: Option<Day>,
    pub frequency: FrequencyRule,
    /// List every customer's scores (`customers` in the JSON).
    pub customers: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RfmReport {
    pub as_of: Day,
    /// Customers with at least one purchase up to `as_of`.
    pub customers: u64,
    pub frequency_rule: FrequencyRule,
    /// The score boundaries: a value above the k-th cut scores at least k+1.
    pub cuts: RfmCuts,
    /// Every segment, in the map's order, with its count and money per currency.
    pub segments: Vec<SegmentRow>,
    /// `grid[5 − r][f − 1]`: customers per R×F cell, R = 5 first.
    pub grid: [[u64; 5]; 5],
    pub scores: Vec<CustomerRfm>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RfmCuts {
    /// Last purchase days.
    pub recency: Vec<Option<Day>>,
    /// Purchase days.
    pub frequency: [i64; 4],
    /// Total spent, minor units, per currency.
    pub monetary: BTreeMap<String, [i64; 4]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct SegmentRow {
    pub segment: Segment,
    pub label: String,
    pub customers: u64,
    pub share: f64,
    /// Per currency: amount and margin in minor units.
    pub revenue: BTreeMap<String, i64>,
    pub margin: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CustomerRfm {
    pub contact: Id,
    #[serde(flatten)]
    pub score: RfmScore,
    pub last_purchase: Day,
    pub days_since_last: i32,
    pub purchase_days: u32,
    pub monetary: i64,
    pub currency: String,
}

/// Every customer's values and scores at once (the benchmark's "RFM for everyone"; the RFM
/// report scores as it goes, and the search index keeps its own columns).
pub fn rfm_scores(
    summaries: &[PurchaseSummary],
    rule: FrequencyRule,
) -> (Cuts, Vec<(Id, RfmValues, RfmScore)>) {
    // One vector, scored in place once the cuts are known (no second copy of 1M values).
    let unscored = RfmScore {
        r: 1,
        f: 1,
        m: 1,
        segment: Segment::of(1, 1),
    };
    let mut scored: Vec<(Id, RfmValues, RfmScore)> = summaries
        .iter()
        .filter_map(|s| RfmValues::of(s).map(|v| (s.contact, v, unscored)))
        .collect();
    let cuts = Cuts::new(scored.iter().map(|(_, v, _)| v), rule);
    for (_, v, score) in &mut scored {
        *score = cuts.score(v);
    }
    (cuts, scored)
}

pub fn rfm(store: &Store, options: &RfmOptions) -> Result<RfmReport, StoreError> {
    let as_of = options.as_of.unwrap_or_else(today);
    let summaries = summaries_as_of(store, as_of)?;
    Ok(rfm_from(&summaries, as_of, options))
}

pub fn rfm_from(summaries: &[PurchaseSummary], as_of: Day, options: &RfmOptions) -> RfmReport {
    // The cuts from every customer's values as they are made, then each customer scored
    // and counted in turn: no row per customer is held unless the report lists them.
    let cuts = Cuts::new(
        summaries.iter().filter_map(RfmValues::of),
        options.frequency,
    );
    let mut grid = [[0_u64; 5]; 5];
    let mut rows: BTreeMap<Segment, SegmentRow> = Segment::ALL
        .iter()
        .map(|s| {
            (
                *s,
                SegmentRow {
                    segment: *s,
                    label: s.label().to_string(),
                    customers: 0,
                    share: 0.0,
                    revenue: BTreeMap::new(),
                    margin: BTreeMap::new(),
                },
            )
        })
        .collect();
    // Money per segment and currency, summed with inline codes (no string per customer).
    let mut money: BTreeMap<(Segment, super::summary::Code), (i64, i64)> = BTreeMap::new();
    let mut n = 0_u64;
    let mut scores = Vec::new();
    for (s, v) in summaries
        .iter()
        .filter_map(|s| RfmValues::of(s).map(|v| (s, v)))
    {
        let score = cuts.score(&v);
        n += 1;
        grid[5 - usize::from(score.r)][usize::from(score.f) - 1] += 1;
        if let Some(row) = rows.get_mut(&score.segment) {
            row.customers += 1;
        }
        if options.customers {
            scores.push(CustomerRfm {
                contact: s.contact,
                score,
                last_purchase: Day::from_number(v.last_day),
                days_since_last: as_of.number() - v.last_day,
                purchase_days: v.days,
                monetary: v.monetary,
                currency: v.currency.to_string(),
            });
        }
        for m in &s.money {
            let sums = money.entry((score.segment, m.currency)).or_default();
            sums.0 += m.amount;
            sums.1 += m.margin();
        }
    }
    for ((segment, currency), (amount, margin)) in money {
        if let Some(row) = rows.get_mut(&segment) {
            row.revenue.insert(currency.to_string(), amount);
            row.margin.insert(currency.to_string(), margin);
        }
    }
    let segments = Segment::ALL
        .iter()
        .filter_map(|s| rows.remove(s))
        .map(|mut r| {
            r.share = if n == 0 {
                0.0
            } else {
                r.customers as f64 / n as f64
            };
            r
        })
        .collect();
    RfmReport {
        as_of,
        customers: n,
        frequency_rule: options.frequency,
        cuts: RfmCuts {
            recency: cuts
                .recency
                .iter()
                .map(|d| i32::try_from(*d).ok().map(Day::from_number))
                .collect(),
            frequency: cuts.frequency,
            monetary: cuts.monetary.clone(),
        },
        segments,
        grid,
        scores,
    }
}

// ---------------------------------------------------------------------------------------------
// CLV
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Day,
    Week,
}

impl TimeUnit {
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ClvOptions {
    pub as_of: Option<Day>,
    pub unit: TimeUnit,
    /// Expected purchases over the next `horizon` units.
    pub horizon: f64,
    /// The spend model's currency (default: the most common main currency).
    pub currency: Option<String>,
    /// Lifetime value over this many 30-day months, discounted monthly.
    pub months: u32,
    pub discount: f64,
    /// How many customers the churn-risk list shows.
    pub top: usize,
    /// List every customer.
    pub customers: bool,
}

impl Default for ClvOptions {
    fn default() -> Self {
        ClvOptions {
            as_of: None,
            unit: TimeUnit::Day,
            horizon: 90.0,
            currency: None,
            months: 12,
            discount: 0.01,
            top: 10,
            customers: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ClvReport {
    pub as_of: Day,
    pub unit: TimeUnit,
    pub horizon: f64,
    pub currency: Option<String>,
    pub months: u32,
    pub discount: f64,
    pub customers: u64,
    pub bg_nbd: Option<Fit<BgNbd>>,
    pub gamma_gamma: Option<Fit<GammaGamma>>,
    pub fit_seconds: f64,
    /// Sums over all customers.
    pub expected_purchases: f64,
    /// Customers with P(alive) < 0.3.
    pub slipping: u64,
    /// Sum of lifetime values of customers buying in `currency` (minor units).
    pub lifetime_value: f64,
    /// Lowest P(alive) first (ties: bigger spenders first), at most `top`.
    pub churn_risk: Vec<CustomerClv>,
    /// Every customer, in id order, with `customers`.
    pub scores: Vec<CustomerClv>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CustomerClv {
    pub contact: Id,
    pub name: String,
    /// Repeat purchase days, last purchase and age in `unit`s since the first purchase.
    pub x: u32,
    pub recency: f64,
    pub age: f64,
    pub p_alive: f64,
    pub expected_purchases: f64,
    /// Expected spend per purchase and lifetime value in `currency` minor units (`None` for
    /// customers who also bought in other currencies, or without a spend model).
    pub expected_spend: Option<f64>,
    pub lifetime_value: Option<f64>,
    pub monetary: i64,
}

/// The most common main currency across customers (ties: alphabetical).
pub fn main_currency<C: Customer>(customers: &[C]) -> Option<String> {
    // Counted by inline code (no string per customer), then in the codes' text order.
    let mut by_code: FxHashMap<super::summary::Code, u64> = FxHashMap::default();
    for c in customers {
        if let Some(code) = c.value_row().main_currency() {
            *by_code.entry(*code).or_default() += 1;
        }
    }
    let mut counts: Vec<(super::summary::Code, u64)> = by_code.into_iter().collect();
    counts.sort_unstable_by_key(|c| c.0);
    counts
        .iter()
        .map(|(c, n)| (&**c, *n))
        .fold(None, |best: Option<(&str, u64)>, (k, n)| match best {
            Some((_, b)) if b >= n => best,
            _ => Some((k, n)),
        })
        .map(|(k, _)| k.to_string())
}

/// A customer's history in `unit`s as of `as_of`.
pub fn history<C: Customer>(c: &C, as_of: Day, unit: TimeUnit) -> History {
    let s = c.value_row();
    Models {
        as_of: as_of.number(),
        unit_days: unit.days(),
        currency: None,
        bg_nbd: None,
        gamma_gamma: None,
    }
    .history(s.repeats(), s.first_day, s.last_day)
}

/// Every summary's history as of `as_of`, grouped exactly ([`Grouped::new`]): sorted as packed
/// integers (repeat count, days to the last purchase, days observed), which orders them as
/// `Grouped::new` does, since the times are those day counts over one unit.
fn group_histories<C: Customer>(customers: &[C], as_of: Day, unit: TimeUnit) -> Grouped {
    const DAY_BITS: u32 = 21;
    let limit = as_of.number();
    let days = |s: &ValueRow| {
        let tx = i64::from(s.last_day) - i64::from(s.first_day);
        (tx, (i64::from(limit) - i64::from(s.first_day)).max(tx))
    };
    let fits = |v: i64, bits: u32| (0..1 << bits).contains(&v);
    let mut keys: Vec<u64> = Vec::with_capacity(customers.len());
    for c in customers {
        let s = c.value_row();
        let (tx, t) = days(&s);
        let x = i64::from(s.repeats());
        if !(fits(x, 64 - 2 * DAY_BITS) && fits(tx, DAY_BITS) && fits(t, DAY_BITS)) {
            return Grouped::new(customers.iter().map(|c| history(c, as_of, unit)));
        }
        keys.push(((x as u64) << (2 * DAY_BITS)) | ((tx as u64) << DAY_BITS) | t as u64);
    }
    super::sort::radix_sort(&mut keys);
    let mask = (1u64 << DAY_BITS) - 1;
    let d = unit.days();
    // Reserved for every customer (pages never written are never resident), so the rows do
    // not move while they grow.
    let mut rows: Vec<(History, f64)> = Vec::with_capacity(keys.len());
    let mut last = None;
    for key in keys {
        if last == Some(key) {
            if let Some((_, w)) = rows.last_mut() {
                *w += 1.0;
            }
            continue;
        }
        last = Some(key);
        let h = History {
            x: (key >> (2 * DAY_BITS)) as u32,
            tx: ((key >> DAY_BITS) & mask) as f64 / d,
            t: (key & mask) as f64 / d,
        };
        rows.push((h, 1.0));
    }
    Grouped { rows }
}

/// The BG/NBD and Gamma-Gamma fits over `summaries` as of `as_of`, in `unit`s; the spend model
/// in `currency` (default: the most common main currency).
pub fn fit<C: Customer>(
    summaries: &[C],
    as_of: Day,
    unit: TimeUnit,
    currency: Option<String>,
) -> (Option<Fit<BgNbd>>, Option<Fit<GammaGamma>>, Models) {
    let currency = currency.or_else(|| main_currency(summaries));
    // The two groupings are sorts over every customer: one on each of two threads.
    let (histories, spends) = std::thread::scope(|scope| {
        let spends = scope.spawn(|| {
            currency.as_deref().map(|cur| {
                GammaGamma::group(summaries.iter().filter_map(|c| {
                    let s = c.value_row();
                    s.repeat_mean(cur).map(|m| Spend { x: s.repeats(), m })
                }))
            })
        });
        let histories = group_histories(summaries, as_of, unit);
        (
            histories,
            spends
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    // The groupings' sort keys and scratch were freed, partly on the thread that exits
    // above: handed back before the fits build their own rows, so they do not add up.
    crate::memory::release();
    let bg = BgNbd::fit(&histories);
    drop(histories);
    crate::memory::release();
    let gg = spends.and_then(|rows| GammaGamma::fit(&rows));
    let models = Models {
        as_of: as_of.number(),
        unit_days: unit.days(),
        currency,
        bg_nbd: bg.as_ref().map(|f| f.params),
        gamma_gamma: gg.as_ref().map(|f| f.params),
    };
    (bg, gg, models)
}

/// One customer's P(alive), expected purchases over `options.horizon`, expected spend and
/// lifetime value from fitted `models` (the name is left empty).
pub fn customer_clv(s: &PurchaseSummary, models: &Models, options: &ClvOptions) -> CustomerClv {
    customer_clv_shared(&ValueRow::of(s), models, options, &mut Outlooks::default())
}

/// [`BgNbd::outlook`]s by repeat count and age: customers who share both share it.
type Outlooks = FxHashMap<(u32, u64), Outlook>;

/// [`customer_clv`], looking up and keeping the customer's outlook in `outlooks`.
fn customer_clv_shared(
    s: &ValueRow,
    models: &Models,
    options: &ClvOptions,
    outlooks: &mut Outlooks,
) -> CustomerClv {
    let h = models.history(s.repeats(), s.first_day, s.last_day);
    let (p_alive, outlook) = match &models.bg_nbd {
        Some(bg) => {
            let terms = ValueTerms {
                period: 30.0 / models.unit_days,
                periods: options.months,
                discount: options.discount,
            };
            let outlook = *outlooks
                .entry((h.x, h.t.to_bits()))
                .or_insert_with(|| bg.outlook(h.x, h.t, options.horizon, &terms));
            (bg.p_alive_in(&outlook, h), Some(outlook))
        }
        None => (1.0, None),
    };
    let single = models
        .currency
        .as_deref()
        .filter(|c| s.single && s.currency == **c);
    let spend = match (&models.gamma_gamma, single) {
        (Some(g), Some(cur)) => {
            Some(g.expected_spend(s.repeats(), s.repeat_mean(cur).unwrap_or(0.0)))
        }
        _ => None,
    };
    let ltv = match (outlook, spend) {
        (Some(o), Some(m)) => Some(o.value_per_spend * p_alive * m),
        _ => None,
    };
    CustomerClv {
        contact: s.contact,
        name: String::new(),
        x: h.x,
        recency: h.tx,
        age: h.t,
        p_alive,
        expected_purchases: outlook.map_or(0.0, |o| o.purchases * p_alive),
        expected_spend: spend,
        lifetime_value: ltv,
        monetary: s.spent,
    }
}

/// One customer's figures as the detail pane shows them (the server's `customer_analytics`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CustomerAnalytics {
    /// The day the models describe (today, UTC).
    pub as_of: Day,
    #[serde(flatten)]
    pub rfm: RfmScore,
    /// Days with a purchase, and purchase lines.
    pub purchase_days: u32,
    pub lines: u64,
    /// Spent and margin in the main currency, minor units; how many other currencies.
    pub currency: String,
    pub spent: i64,
    pub margin: i64,
    pub other_currencies: usize,
    pub first_purchase: Day,
    pub last_purchase: Day,
    pub days_since_last: i32,
    /// From BG/NBD (`None` without a fit): P(alive), expected purchases in the next 90 days.
    pub p_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    /// From Gamma-Gamma, in the models' currency (minor units): expected spend per purchase
    /// and the value over the next 12 months.
    pub expected_spend: Option<f64>,
    pub lifetime_value: Option<f64>,
    pub value_currency: Option<String>,
}

/// A customer's [`CustomerAnalytics`] from their summary, their scores and fitted models, with
/// the `rolo report clv` defaults (90 days, 12 months, 1 %/month).
pub fn customer_analytics(
    s: &PurchaseSummary,
    rfm: RfmScore,
    models: &Models,
) -> CustomerAnalytics {
    let clv = customer_clv(s, models, &ClvOptions::default());
    let fitted = models.bg_nbd.is_some();
    let main = s.main_currency();
    CustomerAnalytics {
        as_of: Day::from_number(models.as_of),
        rfm,
        purchase_days: s.days,
        lines: s.lines,
        currency: main.map(|m| m.currency.to_string()).unwrap_or_default(),
        spent: main.map_or(0, |m| m.amount),
        margin: main.map_or(0, |m| m.margin()),
        other_currencies: s.money.len().saturating_sub(1),
        first_purchase: Day::from_number(s.first_day),
        last_purchase: Day::from_number(s.last_day),
        days_since_last: models.as_of - s.last_day,
        p_alive: fitted.then_some(clv.p_alive),
        expected_purchases: fitted.then_some(clv.expected_purchases),
        expected_spend: clv.expected_spend,
        lifetime_value: clv.lifetime_value,
        value_currency: clv.expected_spend.and(models.currency.clone()),
    }
}

pub fn clv(store: &Store, options: &ClvOptions) -> Result<ClvReport, StoreError> {
    let as_of = options.as_of.unwrap_or_else(today);
    let summaries = value_rows_as_of(store, as_of)?;
    let mut report = clv_from(&summaries, as_of, options);
    for c in report.churn_risk.iter_mut().chain(report.scores.iter_mut()) {
        c.name = name_of(store, c.contact)?;
    }
    Ok(report)
}

/// Customers per unit of work when scoring for the CLV report.
const CLV_CHUNK: usize = 16_384;

/// Churn-risk order: lowest P(alive) first; ties: bigger spenders first, then by id (a total
/// order, so a list does not depend on how the chunks fell).
fn risk_order(a: &CustomerClv, b: &CustomerClv) -> std::cmp::Ordering {
    a.p_alive
        .total_cmp(&b.p_alive)
        .then(b.monetary.cmp(&a.monetary))
        .then(a.contact.cmp(&b.contact))
}

/// The first `top` of `v` by `order`, in order (a selection, then a sort of those only).
fn first_by(
    mut v: Vec<CustomerClv>,
    top: usize,
    order: impl Fn(&CustomerClv, &CustomerClv) -> std::cmp::Ordering + Copy,
) -> Vec<CustomerClv> {
    if top == 0 {
        return Vec::new();
    }
    if top < v.len() {
        v.select_nth_unstable_by(top - 1, order);
        v.truncate(top);
        // A chunk's few are kept while the others are scored: not with the whole chunk's
        // capacity (that was 110 MB over 1M customers).
        v.shrink_to_fit();
    }
    v.sort_by(order);
    v
}

pub fn clv_from<C: Customer>(summaries: &[C], as_of: Day, options: &ClvOptions) -> ClvReport {
    let top = options.top;
    if options.customers {
        let mut report = clv_keeping(summaries, as_of, options, &|scored| scored);
        let mut risk: Vec<&CustomerClv> = report.scores.iter().collect();
        let top = top.min(risk.len());
        if top > 0 && top < risk.len() {
            risk.select_nth_unstable_by(top - 1, |a, b| risk_order(a, b));
        }
        risk.truncate(top);
        risk.sort_by(|a, b| risk_order(a, b));
        report.churn_risk = risk.into_iter().cloned().collect();
        report
    } else {
        // Each chunk keeps only its own churn-risk candidates: the first `top` of all
        // customers are among the chunks' first `top`.
        let mut report = clv_keeping(summaries, as_of, options, &|scored| {
            first_by(scored, top, risk_order)
        });
        report.churn_risk = first_by(std::mem::take(&mut report.scores), top, risk_order);
        report
    }
}

/// The CLV report with, in `scores`, only what `keep` returns of each chunk of customers (in
/// id order); `churn_risk` is left empty. Totals count everyone.
pub fn clv_keeping<C: Customer>(
    summaries: &[C],
    as_of: Day,
    options: &ClvOptions,
    keep: &(dyn Fn(Vec<CustomerClv>) -> Vec<CustomerClv> + Sync),
) -> ClvReport {
    let started = Instant::now();
    let (bg, gg, models) = fit(summaries, as_of, options.unit, options.currency.clone());
    let fit_seconds = started.elapsed().as_secs_f64();
    // Customers are scored in fixed chunks spread over the cores; the chunks' sums are added
    // in order, so the totals do not depend on how many cores there are.
    let chunks: Vec<&[C]> = summaries.chunks(CLV_CHUNK).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Per chunk: what it keeps of its customers, and its sums.
    let mut done: Vec<(usize, Vec<CustomerClv>, f64, u64, f64)> = std::thread::scope(|scope| {
        let work = || {
            let mut mine = Vec::new();
            let mut outlooks = Outlooks::default();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else {
                    return mine;
                };
                let (mut expected, mut slipping, mut value) = (0.0, 0, 0.0);
                let scored: Vec<CustomerClv> = chunk
                    .iter()
                    .map(|s| {
                        let c =
                            customer_clv_shared(&s.value_row(), &models, options, &mut outlooks);
                        expected += c.expected_purchases;
                        slipping += u64::from(c.p_alive < 0.3);
                        value += c.lifetime_value.unwrap_or(0.0);
                        c
                    })
                    .collect();
                mine.push((i, keep(scored), expected, slipping, value));
            }
        };
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            all.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        all
    });
    done.sort_by_key(|d| d.0);
    let mut scores: Vec<CustomerClv> = Vec::new();
    let (mut expected, mut slipping, mut value) = (0.0, 0, 0.0);
    for (_, kept, e, s, v) in done {
        scores.extend(kept);
        expected += e;
        slipping += s;
        value += v;
    }
    ClvReport {
        as_of,
        unit: options.unit,
        horizon: options.horizon,
        currency: models.currency,
        months: options.months,
        discount: options.discount,
        customers: summaries.len() as u64,
        bg_nbd: bg,
        gamma_gamma: gg,
        fit_seconds,
        expected_purchases: expected,
        slipping,
        lifetime_value: value,
        churn_risk: Vec::new(),
        scores,
    }
}

// ---------------------------------------------------------------------------------------------
// Profit, performance, satisfaction
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct ProfitOptions {
    pub as_of: Option<Day>,
    pub top: usize,
}

impl Default for ProfitOptions {
    fn default() -> Self {
        ProfitOptions {
            as_of: None,
            top: 10,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ProfitReport {
    pub as_of: Day,
    pub currencies: Vec<CurrencyProfit>,
    /// Names of the contacts the lists mention.
    pub names: BTreeMap<Id, String>,
}

pub fn profit(store: &Store, options: &ProfitOptions) -> Result<ProfitReport, StoreError> {
    let as_of = options.as_of.unwrap_or_else(today);
    let summaries = summaries_as_of(store, as_of)?;
    let products = rollup::products(&store.rollup_rows()?, as_of.number());
    let currencies = profit::profit(&summaries, &products, options.top);
    let mut names = BTreeMap::new();
    for c in &currencies {
        for p in c.top_customers.iter().chain(&c.bottom_customers) {
            if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(p.contact) {
                slot.insert(name_of(store, p.contact)?);
            }
        }
    }
    Ok(ProfitReport {
        as_of,
        currencies,
        names,
    })
}

#[derive(Clone, Debug, Default)]
pub struct PerformanceOptions {
    pub as_of: Option<Day>,
    /// Empty: every dimension.
    pub by: Vec<Dimension>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct PerformanceReport {
    pub as_of: Day,
    pub groups: Vec<DimensionGroups>,
    pub loyalty: Loyalty,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct DimensionGroups {
    pub by: Dimension,
    pub groups: Vec<Group>,
}

pub fn performance(
    store: &Store,
    options: &PerformanceOptions,
) -> Result<PerformanceReport, StoreError> {
    let as_of = options.as_of.unwrap_or_else(today);
    let dims = if options.by.is_empty() {
        vec![
            Dimension::Month,
            Dimension::Channel,
            Dimension::Location,
            Dimension::Product,
        ]
    } else {
        options.by.clone()
    };
    let rows = store.rollup_rows()?;
    let summaries = summaries_as_of(store, as_of)?;
    Ok(PerformanceReport {
        as_of,
        groups: dims
            .into_iter()
            .map(|by| DimensionGroups {
                by,
                groups: rollup::groups(&rows, by, as_of.number()),
            })
            .collect(),
        loyalty: performance::loyalty(&summaries),
    })
}

#[derive(Clone, Debug)]
pub struct SatisfactionOptions {
    pub as_of: Option<Day>,
    pub top: usize,
    pub customers: bool,
}

impl Default for SatisfactionOptions {
    fn default() -> Self {
        SatisfactionOptions {
            as_of: None,
            top: 10,
            customers: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct SatisfactionReport {
    pub as_of: Day,
    #[serde(flatten)]
    pub satisfaction: Satisfaction,
    /// Customers whose latest rating fell a point or more below their earlier mean, latest
    /// first, at most `top`.
    pub fell: Vec<satisfaction::CustomerSatisfaction>,
    pub names: BTreeMap<Id, String>,
}

pub fn satisfaction(
    store: &Store,
    options: &SatisfactionOptions,
) -> Result<SatisfactionReport, StoreError> {
    let as_of = options.as_of.unwrap_or_else(today);
    let mut all = satisfaction_as_of(store, &store.rollup_rows()?, as_of)?;
    let mut fell: Vec<satisfaction::CustomerSatisfaction> =
        all.customers.iter().filter(|c| c.fell).cloned().collect();
    fell.sort_by(|a, b| {
        b.latest_at
            .cmp(&a.latest_at)
            .then(a.contact.cmp(&b.contact))
    });
    fell.truncate(options.top);
    let mut names = BTreeMap::new();
    for c in &fell {
        names.insert(c.contact, name_of(store, c.contact)?);
    }
    if !options.customers {
        all.customers.clear();
    }
    Ok(SatisfactionReport {
        as_of,
        satisfaction: all,
        fell,
        names,
    })
}

// ---------------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------------

/// What the TUI dashboard draws, from the same functions as the reports (so its numbers are
/// the reports' numbers): the R×F grid, revenue and margin per month and CSAT per month (last
/// twelve months with data, main currency), top customers and products by margin, and the
/// customers slipping away who spent most.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Dashboard {
    pub as_of: Day,
    pub customers: u64,
    pub currency: Option<String>,
    /// As [`RfmReport::grid`].
    pub grid: [[u64; 5]; 5],
    pub segments: Vec<SegmentRow>,
    pub months: Vec<MonthBar>,
    pub satisfaction: satisfaction::Row,
    pub satisfaction_months: Vec<satisfaction::Row>,
    /// `(contact, name, margin)`.
    pub top_customers: Vec<(Id, String, i64)>,
    /// `(product, margin)`.
    pub top_products: Vec<(String, i64)>,
    /// P(alive) < 0.5, biggest spenders first.
    pub churn_risk: Vec<CustomerClv>,
    pub slipping: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct MonthBar {
    pub month: String,
    pub amount: i64,
    pub margin: i64,
}

/// How many rows of each list the dashboard keeps.
const DASHBOARD_TOP: usize = 12;

pub fn dashboard(store: &Store, as_of: Option<Day>) -> Result<Dashboard, StoreError> {
    let as_of = as_of.unwrap_or_else(today);
    let summaries = summaries_as_of(store, as_of)?;
    let rfm = rfm_from(&summaries, as_of, &RfmOptions::default());
    let currency = main_currency(&summaries);
    let rows = store.rollup_rows()?;
    let products = rollup::products(&rows, as_of.number());
    let cur = currency.clone().unwrap_or_default();
    let mut month_bars: Vec<MonthBar> = rollup::groups(&rows, Dimension::Month, as_of.number())
        .into_iter()
        .filter(|g| g.currency == cur)
        .map(|g| MonthBar {
            month: g.key,
            amount: g.totals.amount,
            margin: g.totals.margin,
        })
        .collect();
    let skip = month_bars.len().saturating_sub(DASHBOARD_TOP);
    month_bars.drain(..skip);
    let profit = profit::profit(&summaries, &products, DASHBOARD_TOP);
    let mine = profit.iter().find(|p| p.currency == cur);
    let mut top_customers = Vec::new();
    for c in mine.map(|p| p.top_customers.as_slice()).unwrap_or_default() {
        top_customers.push((c.contact, name_of(store, c.contact)?, c.margin));
    }
    let top_products = mine
        .map(|p| {
            p.top_products
                .iter()
                .map(|t| (t.product.clone(), t.totals.margin))
                .collect()
        })
        .unwrap_or_default();
    let sat = satisfaction_as_of(store, &rows, as_of)?;
    let mut sat_months = sat.by_month;
    let skip = sat_months.len().saturating_sub(DASHBOARD_TOP);
    sat_months.drain(..skip);
    // Slipping away (P(alive) < 0.5), biggest spenders first: each chunk keeps its own first
    // few, so no row per customer is held.
    let by_spend = |a: &CustomerClv, b: &CustomerClv| {
        b.monetary.cmp(&a.monetary).then(a.contact.cmp(&b.contact))
    };
    let slipping_first = |scored: Vec<CustomerClv>| {
        let slipping: Vec<CustomerClv> = scored.into_iter().filter(|c| c.p_alive < 0.5).collect();
        first_by(slipping, DASHBOARD_TOP, by_spend)
    };
    let clv = clv_keeping(&summaries, as_of, &ClvOptions::default(), &slipping_first);
    let mut risk = first_by(clv.scores, DASHBOARD_TOP, by_spend);
    for c in &mut risk {
        c.name = name_of(store, c.contact)?;
    }
    Ok(Dashboard {
        as_of,
        customers: rfm.customers,
        currency,
        grid: rfm.grid,
        segments: rfm.segments,
        months: month_bars,
        satisfaction: sat.overall,
        satisfaction_months: sat_months,
        top_customers,
        top_products,
        churn_risk: risk,
        slipping: clv.slipping,
    })
}
