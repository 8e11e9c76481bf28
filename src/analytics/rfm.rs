//! RFM: recency, frequency and monetary scores 1–5 and a named segment from a total 5×5 R×F
//! map.
//!
//! **Values.** R is the customer's last purchase day (later is better), F the number of days
//! with a purchase (one-purchase customers have F = 1 day), M the total spent in the
//! customer's main currency (the one with most purchase lines). Zero-value purchases count for
//! R and F and add nothing to M.
//!
//! **Scores, deterministically.** R and M are relative: a customer's score is
//! `1 + ⌊5 · (customers with a strictly worse value) / n⌋` — ties share one score (the lowest
//! of the span they cover), so identical customers always score the same and the bins can be
//! uneven. M is ranked among customers of the same main currency only. F is absolute by
//! default — 1, 2, 3, 4–5, 6+ purchase days → 1..5 — because in a typical base most customers
//! buy once and frequency quintiles collapse (60 % of CDNOW); `FrequencyRule::Quintiles` ranks
//! F like R and M instead.
//!
//! **Staying current.** The rank rule is stored as four cut values per axis ([`Cuts`]):
//! `score = 1 + #{k : value > cutₖ}`, `cutₖ` = the ⌈k·n/5⌉-th smallest value. Scoring one
//! customer is four comparisons, so a new purchase rescores its customer at once; the cuts
//! are recomputed from everyone (a sort) when the caller refreshes them.
//!
//! **Segments** ([`Segment::of`]): the widely copied R×F grid, with its bottom-left corner
//! (R1, F1–2) named *lost* instead of *hibernating*:
//!
//! | R \ F | 1 | 2 | 3 | 4 | 5 |
//! |---|---|---|---|---|---|
//! | 5 | new | potential loyalist | potential loyalist | champions | champions |
//! | 4 | promising | potential loyalist | potential loyalist | loyal | loyal |
//! | 3 | about to sleep | about to sleep | need attention | loyal | loyal |
//! | 2 | hibernating | hibernating | at risk | at risk | can't lose them |
//! | 1 | lost | lost | at risk | at risk | can't lose them |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::summary::PurchaseSummary;

/// A named RFM segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    Champions,
    Loyal,
    PotentialLoyalist,
    New,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CantLose,
    Hibernating,
    Lost,
}

use Segment::*;

/// `GRID[5 − r][f − 1]`.
const GRID: [[Segment; 5]; 5] = [
    [
        New,
        PotentialLoyalist,
        PotentialLoyalist,
        Champions,
        Champions,
    ],
    [
        Promising,
        PotentialLoyalist,
        PotentialLoyalist,
        Loyal,
        Loyal,
    ],
    [AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal],
    [Hibernating, Hibernating, AtRisk, AtRisk, CantLose],
    [Lost, Lost, AtRisk, AtRisk, CantLose],
];

impl Segment {
    pub const ALL: [Segment; 11] = [
        Champions,
        Loyal,
        PotentialLoyalist,
        New,
        Promising,
        NeedAttention,
        AboutToSleep,
        AtRisk,
        CantLose,
        Hibernating,
        Lost,
    ];

    /// The segment of an R and F score (each clamped to 1–5).
    pub fn of(r: u8, f: u8) -> Segment {
        let r = usize::from(r.clamp(1, 5));
        let f = usize::from(f.clamp(1, 5));
        GRID[5 - r][f - 1]
    }

    /// The name used in JSON and query filters (`rfm:champions`).
    pub fn key(self) -> &'static str {
        match self {
            Champions => "champions",
            Loyal => "loyal",
            PotentialLoyalist => "potential_loyalist",
            New => "new",
            Promising => "promising",
            NeedAttention => "need_attention",
            AboutToSleep => "about_to_sleep",
            AtRisk => "at_risk",
            CantLose => "cant_lose",
            Hibernating => "hibernating",
            Lost => "lost",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Champions => "champions",
            Loyal => "loyal",
            PotentialLoyalist => "potential loyalist",
            New => "new",
            Promising => "promising",
            NeedAttention => "need attention",
            AboutToSleep => "about to sleep",
            AtRisk => "at risk",
            CantLose => "can't lose them",
            Hibernating => "hibernating",
            Lost => "lost",
        }
    }

    /// At most ten columns, for the contact list.
    pub fn short_label(self) -> &'static str {
        match self {
            PotentialLoyalist => "potential",
            NeedAttention => "attention",
            AboutToSleep => "to sleep",
            CantLose => "can't lose",
            Hibernating => "hibernat.",
            other => other.label(),
        }
    }

    /// Parses a key or label (`cant_lose`, `can't lose them`, `potential-loyalist`…).
    pub fn parse(text: &str) -> Option<Segment> {
        let folded: String = text
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' | '-' | '_' => Some('_'),
                '\'' | '’' => None,
                c => Some(c),
            })
            .collect();
        let folded = folded.strip_suffix("_them").unwrap_or(&folded);
        Segment::ALL
            .into_iter()
            .find(|s| s.key() == folded || (folded == "cant_lose" && *s == CantLose))
    }
}

/// How F is scored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrequencyRule {
    /// 1, 2, 3, 4–5, 6+ purchase days → 1–5.
    #[default]
    Absolute,
    /// Ranked like R and M.
    Quintiles,
}

/// The absolute F thresholds: F ≥ k+1 from this many purchase days.
pub const F_THRESHOLDS: [u64; 4] = [2, 3, 4, 6];

/// [`F_THRESHOLDS`] as cuts: f > cutₖ ⇔ f ≥ thresholdₖ.
pub const ABSOLUTE_FREQUENCY_CUTS: [i64; 4] = [
    F_THRESHOLDS[0] as i64 - 1,
    F_THRESHOLDS[1] as i64 - 1,
    F_THRESHOLDS[2] as i64 - 1,
    F_THRESHOLDS[3] as i64 - 1,
];

/// What one customer is scored on.
#[derive(Clone, Debug, PartialEq)]
pub struct RfmValues {
    pub last_day: i32,
    pub days: u32,
    pub monetary: i64,
    pub currency: super::summary::Code,
}

impl RfmValues {
    /// `None` for a customer without purchases.
    pub fn of(s: &PurchaseSummary) -> Option<RfmValues> {
        let main = s.main_currency()?;
        Some(RfmValues {
            last_day: s.last_day,
            days: s.days,
            monetary: main.amount,
            currency: main.currency,
        })
    }
}

/// The stored rank rule: four cut values per axis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cuts {
    pub customers: u64,
    pub recency: [i64; 4],
    pub frequency: [i64; 4],
    pub frequency_rule: FrequencyRule,
    /// Per currency.
    pub monetary: BTreeMap<String, [i64; 4]>,
}

/// `cutₖ` = the ⌈k·n/5⌉-th smallest of `values`, k = 1..4 (`values` is reordered: four
/// selections, each in the part the previous one left above it — linear, not a sort).
pub fn quintile_cuts(values: &mut [i64]) -> [i64; 4] {
    let n = values.len();
    let mut out = [i64::MAX; 4];
    if n == 0 {
        return out;
    }
    let mut below = 0;
    for (k, cut) in out.iter_mut().enumerate() {
        let rank = ((k + 1) * n).div_ceil(5).max(1) - 1;
        // Everything before `below` is no larger than anything from it on.
        let (_, nth, _) = values[below..].select_nth_unstable(rank - below);
        *cut = *nth;
        below = rank;
    }
    out
}

/// `1 + #{k : value > cutₖ}`.
pub fn score(value: i64, cuts: &[i64; 4]) -> u8 {
    1 + cuts.iter().filter(|c| value > **c).count() as u8
}

impl Cuts {
    pub fn new(
        customers: impl IntoIterator<Item = impl std::borrow::Borrow<RfmValues>>,
        rule: FrequencyRule,
    ) -> Cuts {
        let mut recency = Vec::new();
        let mut frequency = Vec::new();
        let mut monetary: BTreeMap<super::summary::Code, Vec<i64>> = BTreeMap::new();
        for c in customers {
            let c = c.borrow();
            recency.push(i64::from(c.last_day));
            frequency.push(i64::from(c.days));
            monetary.entry(c.currency).or_default().push(c.monetary);
        }
        let frequency_cuts = match rule {
            FrequencyRule::Absolute => ABSOLUTE_FREQUENCY_CUTS,
            FrequencyRule::Quintiles => quintile_cuts(&mut frequency),
        };
        Cuts {
            customers: recency.len() as u64,
            recency: quintile_cuts(&mut recency),
            frequency: frequency_cuts,
            frequency_rule: rule,
            monetary: monetary
                .into_iter()
                .map(|(k, mut v)| (k.to_string(), quintile_cuts(&mut v)))
                .collect(),
        }
    }

    pub fn score(&self, v: &RfmValues) -> RfmScore {
        let r = score(i64::from(v.last_day), &self.recency);
        let f = score(i64::from(v.days), &self.frequency);
        // A currency the cuts have not seen ranks alone: as its only customer.
        let m = self
            .monetary
            .get(v.currency.as_str())
            .map_or(1, |cuts| score(v.monetary, cuts));
        RfmScore {
            r,
            f,
            m,
            segment: Segment::of(r, f),
        }
    }
}

/// One customer's scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmScore {
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub segment: Segment,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintile_cuts_are_the_sorted_ranks_whatever_the_order() {
        let mut rng = fastrand::Rng::with_seed(5);
        for n in [1_usize, 2, 3, 4, 5, 6, 7, 10, 11, 99, 1000] {
            for _ in 0..20 {
                let mut values: Vec<i64> = (0..n).map(|_| rng.i64(0..8)).collect();
                let mut sorted = values.clone();
                sorted.sort_unstable();
                let expected: Vec<i64> = (1..=4)
                    .map(|k| sorted[(k * n).div_ceil(5).max(1) - 1])
                    .collect();
                assert_eq!(quintile_cuts(&mut values).to_vec(), expected, "n {n}");
            }
        }
        assert_eq!(quintile_cuts(&mut []), [i64::MAX; 4]);
    }

    fn v(last_day: i32, days: u32, monetary: i64) -> RfmValues {
        RfmValues {
            last_day,
            days,
            monetary,
            currency: "EUR".into(),
        }
    }

    #[test]
    fn the_grid_is_total_and_names_every_segment() {
        let mut seen = std::collections::BTreeSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                seen.insert(Segment::of(r, f));
            }
        }
        assert_eq!(seen.len(), 11);
        assert_eq!(Segment::of(5, 5), Champions);
        assert_eq!(Segment::of(5, 1), New);
        assert_eq!(Segment::of(1, 1), Lost);
        assert_eq!(Segment::of(2, 2), Hibernating);
        assert_eq!(Segment::of(1, 5), CantLose);
        assert_eq!(Segment::of(3, 3), NeedAttention);
        assert_eq!(Segment::of(0, 9), CantLose); // clamped
    }

    #[test]
    fn segment_names_parse_back() {
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.key()), Some(s));
            assert_eq!(Segment::parse(s.label()), Some(s));
        }
        assert_eq!(Segment::parse("Can't-Lose"), Some(CantLose));
        assert_eq!(Segment::parse("nope"), None);
    }

    #[test]
    fn distinct_values_fill_five_even_bins() {
        let customers: Vec<RfmValues> = (0..10).map(|i| v(i, 1, i64::from(i) * 10)).collect();
        let cuts = Cuts::new(&customers, FrequencyRule::Absolute);
        let r: Vec<u8> = customers.iter().map(|c| cuts.score(c).r).collect();
        assert_eq!(r, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        let m: Vec<u8> = customers.iter().map(|c| cuts.score(c).m).collect();
        assert_eq!(m, r);
    }

    #[test]
    fn ties_share_the_lowest_score_of_their_span() {
        // 6 of 10 on the same day: all of them have nobody strictly worse → R = 1.
        let mut customers: Vec<RfmValues> = (0..6).map(|_| v(100, 1, 5)).collect();
        customers.extend((1..=4).map(|i| v(100 + i, 1, 5)));
        let cuts = Cuts::new(&customers, FrequencyRule::Absolute);
        let r: Vec<u8> = customers.iter().map(|c| cuts.score(c).r).collect();
        // 101: 6 of 10 strictly worse → 1 + ⌊3⌋ = 4; 102 → 4 (7/10 → 1 + 3); 103 → 5; 104 → 5.
        assert_eq!(r, [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
        // Identical customers, identical scores — whatever their order.
        let mut reversed = customers.clone();
        reversed.reverse();
        let again = Cuts::new(&reversed, FrequencyRule::Absolute);
        assert_eq!(again, cuts);
    }

    #[test]
    fn scoring_by_cuts_equals_the_rank_rule() {
        // Pseudo-random values with many ties; the cut form must equal 1 + ⌊5·below/n⌋.
        let mut seed = 12345_u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as i64
        };
        for n in [1_usize, 2, 3, 7, 50, 333] {
            let customers: Vec<RfmValues> = (0..n)
                .map(|_| v((next() % 40) as i32, 1 + (next() % 9) as u32, next() % 17))
                .collect();
            let cuts = Cuts::new(&customers, FrequencyRule::Quintiles);
            for c in &customers {
                let below = |f: &dyn Fn(&RfmValues) -> i64| {
                    let mine = f(c);
                    customers.iter().filter(|o| f(o) < mine).count()
                };
                let rank = |b: usize| 1 + (5 * b / n) as u8;
                let s = cuts.score(c);
                assert_eq!(s.r, rank(below(&|o| i64::from(o.last_day))), "n={n}");
                assert_eq!(s.f, rank(below(&|o| i64::from(o.days))), "n={n}");
                assert_eq!(s.m, rank(below(&|o| o.monetary)), "n={n}");
            }
        }
    }

    #[test]
    fn absolute_frequency_scores_one_purchase_as_one() {
        let customers: Vec<RfmValues> = [1, 2, 3, 4, 5, 6, 40].map(|d| v(1, d, 1)).to_vec();
        let cuts = Cuts::new(&customers, FrequencyRule::Absolute);
        let f: Vec<u8> = customers.iter().map(|c| cuts.score(c).f).collect();
        assert_eq!(f, [1, 2, 3, 4, 4, 5, 5]);
    }

    #[test]
    fn monetary_ranks_within_a_currency() {
        let mut customers = vec![v(1, 1, 100), v(1, 1, 200)];
        customers.push(RfmValues {
            currency: "JPY".into(),
            ..v(1, 1, 5)
        });
        let cuts = Cuts::new(&customers, FrequencyRule::Absolute);
        // The lone JPY customer has nobody below: M = 1, not ranked against euros.
        assert_eq!(cuts.score(&customers[2]).m, 1);
        assert_eq!(cuts.score(&customers[1]).m, 3); // 1 of 2 below → 1 + ⌊2.5⌋
        let unseen = RfmValues {
            currency: "CHF".into(),
            ..v(1, 1, 1)
        };
        assert_eq!(cuts.score(&unseen).m, 1);
    }
}
