//! Performance: sales and margin grouped by channel, location, product or month (per
//! currency), and loyalty — repeat rate and time between purchases.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::profit::Totals;
use super::summary::{PurchaseSummary, utc_day};
use crate::domain::Purchase;

/// What to group purchase lines by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Channel,
    Location,
    Product,
    /// The UTC calendar month of the purchase, `YYYY-MM`.
    Month,
}

impl Dimension {
    pub fn key(self) -> &'static str {
        match self {
            Dimension::Channel => "channel",
            Dimension::Location => "location",
            Dimension::Product => "product",
            Dimension::Month => "month",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Group {
    /// The channel, location, product or month; `""` when the purchase did not say.
    pub key: String,
    pub currency: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Groups purchase lines by `dimension` and currency, sorted by currency then key.
pub fn group_by<'a>(
    dimension: Dimension,
    purchases: impl IntoIterator<Item = &'a Purchase>,
) -> Vec<Group> {
    let mut acc = Accumulator::new(dimension);
    for p in purchases {
        acc.add(p);
    }
    acc.finish()
}

/// Groups lines one at a time (for a streaming scan).
pub struct Accumulator {
    dimension: Dimension,
    groups: HashMap<String, HashMap<String, Totals>>,
    months: HashMap<(i32, String), Totals>,
}

impl Accumulator {
    pub fn new(dimension: Dimension) -> Self {
        Accumulator {
            dimension,
            groups: HashMap::new(),
            months: HashMap::new(),
        }
    }

    pub fn add(&mut self, p: &Purchase) {
        let key = match self.dimension {
            Dimension::Channel => &p.channel,
            Dimension::Location => &p.location,
            Dimension::Product => &p.product,
            Dimension::Month => {
                let (y, m) = super::month_of_day(utc_day(p.at.millis()));
                self.months
                    .entry((y * 12 + i32::from(m) - 1, p.currency.clone()))
                    .or_default()
                    .add(p);
                return;
            }
        };
        // Look up by reference first: most lines fall into an existing group.
        let by_key = match self.groups.get_mut(&p.currency) {
            Some(m) => m,
            None => self.groups.entry(p.currency.clone()).or_default(),
        };
        match by_key.get_mut(key) {
            Some(t) => t.add(p),
            None => by_key.entry(key.clone()).or_default().add(p),
        }
    }

    pub fn finish(self) -> Vec<Group> {
        let groups = self
            .groups
            .into_iter()
            .flat_map(|(currency, m)| m.into_iter().map(move |(k, t)| ((k, currency.clone()), t)));
        let months = self.months;
        finish(groups, months)
    }
}

fn finish(
    groups: impl Iterator<Item = ((String, String), Totals)>,
    months: HashMap<(i32, String), Totals>,
) -> Vec<Group> {
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|((key, currency), totals)| Group {
            key,
            currency,
            totals,
        })
        .chain(months.into_iter().map(|((index, currency), totals)| Group {
            key: format!(
                "{:04}-{:02}",
                index.div_euclid(12),
                index.rem_euclid(12) + 1
            ),
            currency,
            totals,
        }))
        .collect();
    out.sort_by(|a, b| (&a.currency, &a.key).cmp(&(&b.currency, &b.key)));
    out
}

/// Loyalty across the customer base.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Loyalty {
    /// Customers with at least one purchase.
    pub customers: u64,
    /// Customers with purchases on two or more days.
    pub repeat_customers: u64,
    /// `repeat_customers / customers` (0 when there are none).
    pub repeat_rate: f64,
    /// Per repeat customer `(last day − first day) / (purchase days − 1)`: the mean and median
    /// over repeat customers, in days (`None` without repeat customers).
    pub mean_days_between: Option<f64>,
    pub median_days_between: Option<f64>,
}

pub fn loyalty(summaries: &[PurchaseSummary]) -> Loyalty {
    let mut gaps: Vec<f64> = summaries
        .iter()
        .filter(|s| s.days >= 2)
        .map(|s| f64::from(s.last_day - s.first_day) / f64::from(s.days - 1))
        .collect();
    let customers = summaries.iter().filter(|s| !s.is_empty()).count() as u64;
    let repeat_customers = gaps.len() as u64;
    // The median by selection (the gaps of 1M customers need no sort).
    let median = (!gaps.is_empty()).then(|| {
        let n = gaps.len();
        let (below, upper, _) = gaps.select_nth_unstable_by(n / 2, f64::total_cmp);
        let upper = *upper;
        if n % 2 == 1 {
            upper
        } else {
            let lower = below
                .iter()
                .copied()
                .max_by(f64::total_cmp)
                .unwrap_or(upper);
            (lower + upper) / 2.0
        }
    });
    Loyalty {
        customers,
        repeat_customers,
        repeat_rate: if customers == 0 {
            0.0
        } else {
            repeat_customers as f64 / customers as f64
        },
        mean_days_between: (!gaps.is_empty()).then(|| gaps.iter().sum::<f64>() / gaps.len() as f64),
        median_days_between: median,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{At, Id};

    fn p(contact: Id, day: i64, channel: &str, amount: i64, currency: &str) -> Purchase {
        Purchase {
            id: 0,
            contact,
            at: At::from_millis(day * 86_400_000),
            product: "P".into(),
            quantity: 1,
            amount,
            cost: amount / 4,
            currency: currency.into(),
            channel: channel.into(),
            location: String::new(),
        }
    }

    #[test]
    fn groups_keep_currencies_apart_and_months_are_calendar_months() {
        let lines = [
            p(1, 0, "web", 100, "EUR"),
            p(1, 30, "web", 100, "EUR"),   // 1970-01-31
            p(2, 31, "store", 400, "EUR"), // 1970-02-01
            p(3, 31, "web", 50, "USD"),
        ];
        let channels = group_by(Dimension::Channel, &lines);
        let flat: Vec<(&str, &str, i64)> = channels
            .iter()
            .map(|g| (g.currency.as_str(), g.key.as_str(), g.totals.amount))
            .collect();
        assert_eq!(
            flat,
            [
                ("EUR", "store", 400),
                ("EUR", "web", 200),
                ("USD", "web", 50)
            ]
        );
        let months = group_by(Dimension::Month, &lines);
        let flat: Vec<(&str, &str, u64)> = months
            .iter()
            .map(|g| (g.currency.as_str(), g.key.as_str(), g.totals.lines))
            .collect();
        assert_eq!(
            flat,
            [
                ("EUR", "1970-01", 2),
                ("EUR", "1970-02", 1),
                ("USD", "1970-02", 1)
            ]
        );
        assert_eq!(months[0].totals.margin, 150);
    }

    #[test]
    fn repeat_rate_and_gaps() {
        let mut a = PurchaseSummary::new(1);
        for (i, d) in [0, 10, 30].iter().enumerate() {
            a.add(&p(1, *d, "", 1, "EUR"), i > 0);
        }
        let mut b = PurchaseSummary::new(2);
        b.add(&p(2, 5, "", 1, "EUR"), true);
        let mut c = PurchaseSummary::new(3);
        c.add(&p(3, 0, "", 1, "EUR"), true);
        c.add(&p(3, 4, "", 1, "EUR"), true);
        let l = loyalty(&[a, b, c]);
        assert_eq!((l.customers, l.repeat_customers), (3, 2));
        assert!((l.repeat_rate - 2.0 / 3.0).abs() < 1e-12);
        // gaps: 30/2 = 15 and 4/1 = 4
        assert_eq!(l.mean_days_between, Some(9.5));
        assert_eq!(l.median_days_between, Some(9.5));
        assert_eq!(loyalty(&[]).mean_days_between, None);
        // Odd and even counts: the middle one, or the mean of the middle two.
        let gapped = |gaps: &[i32]| -> Vec<PurchaseSummary> {
            gaps.iter()
                .enumerate()
                .map(|(i, g)| {
                    let mut s = PurchaseSummary::new(i as u64 + 1);
                    s.add(&p(s.contact, 0, "", 1, "EUR"), true);
                    s.add(&p(s.contact, i64::from(*g), "", 1, "EUR"), true);
                    s
                })
                .collect()
        };
        assert_eq!(loyalty(&gapped(&[9, 1, 5])).median_days_between, Some(5.0));
        assert_eq!(
            loyalty(&gapped(&[9, 1, 5, 2])).median_days_between,
            Some(3.5)
        );
        assert_eq!(loyalty(&gapped(&[7])).median_days_between, Some(7.0));
    }
}
