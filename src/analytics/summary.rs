//! The per-customer purchase summary every analysis starts from, and the one fold that builds
//! it — used both by the store (kept current on every purchase) and by an `--as-of` replay of
//! the purchases. Plain data: no store, no terminal.
//!
//! Days are UTC calendar days (`ms.div_euclid(86 400 000)`); a "purchase day" is a day with at
//! least one purchase line, the unit both RFM frequency and the BG/NBD repeat count use
//! (lifetimes' `frequency` with `freq='D'` counts the same thing).

use serde::{Deserialize, Serialize};

use crate::domain::{Id, Purchase};

const DAY_MS: i64 = 86_400_000;

/// The UTC day number (days since 1970-01-01) of an instant in milliseconds.
pub fn utc_day(ms: i64) -> i32 {
    i32::try_from(ms.div_euclid(DAY_MS)).unwrap_or(if ms < 0 { i32::MIN } else { i32::MAX })
}

/// Money of one currency a customer spent (minor units; currencies are never added together).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: String,
    pub lines: u64,
    pub amount: i64,
    pub cost: i64,
    /// What was spent in this currency on the customer's first purchase day (the Gamma-Gamma
    /// model averages repeat purchases only).
    pub first_day_amount: i64,
}

impl Money {
    pub fn margin(&self) -> i64 {
        self.amount.saturating_sub(self.cost)
    }
}

/// One customer's purchases in summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseSummary {
    pub contact: Id,
    pub first_ms: i64,
    pub last_ms: i64,
    pub first_day: i32,
    pub last_day: i32,
    /// Distinct UTC days with a purchase (≥ 1 once there is a purchase).
    pub days: u32,
    /// Purchase lines (records).
    pub lines: u64,
    /// Per currency, sorted by currency code.
    pub money: Vec<Money>,
}

impl PurchaseSummary {
    pub fn new(contact: Id) -> Self {
        PurchaseSummary {
            contact,
            ..PurchaseSummary::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// Folds one purchase in. `new_day`: no other purchase of this customer already counted
    /// falls on the purchase's UTC day (the caller knows: the store looks at the timeline, a
    /// replay in time order compares with the previous purchase).
    pub fn add(&mut self, p: &Purchase, new_day: bool) {
        let ms = p.at.millis();
        let day = utc_day(ms);
        if self.lines == 0 {
            self.first_ms = ms;
            self.last_ms = ms;
            self.first_day = day;
            self.last_day = day;
            self.days = 1;
        } else {
            if new_day {
                self.days = self.days.saturating_add(1);
            }
            if day < self.first_day {
                // The old first day becomes a repeat day.
                for m in &mut self.money {
                    m.first_day_amount = 0;
                }
                self.first_day = day;
            }
            self.first_ms = self.first_ms.min(ms);
            self.last_ms = self.last_ms.max(ms);
            self.last_day = self.last_day.max(day);
        }
        self.lines += 1;
        let at = match self
            .money
            .binary_search_by(|m| m.currency.as_str().cmp(p.currency.as_str()))
        {
            Ok(i) => i,
            Err(i) => {
                self.money.insert(
                    i,
                    Money {
                        currency: p.currency.clone(),
                        ..Money::default()
                    },
                );
                i
            }
        };
        let m = &mut self.money[at];
        m.lines += 1;
        m.amount = m.amount.saturating_add(p.amount);
        m.cost = m.cost.saturating_add(p.cost);
        if day == self.first_day {
            m.first_day_amount = m.first_day_amount.saturating_add(p.amount);
        }
    }

    /// Builds the summary of `purchases` (any order).
    pub fn of(contact: Id, purchases: &[&Purchase]) -> Self {
        let mut sorted: Vec<&Purchase> = purchases.to_vec();
        sorted.sort_by_key(|p| (p.at, p.id));
        let mut s = PurchaseSummary::new(contact);
        let mut previous_day = None;
        for p in sorted {
            let day = utc_day(p.at.millis());
            s.add(p, previous_day != Some(day));
            previous_day = Some(day);
        }
        s
    }

    /// Repeat purchase days (the BG/NBD `x`).
    pub fn repeats(&self) -> u32 {
        self.days.saturating_sub(1)
    }

    /// The currency with the most purchase lines (ties: the first code alphabetically).
    pub fn main_currency(&self) -> Option<&Money> {
        self.money
            .iter()
            .fold(None, |best: Option<&Money>, m| match best {
                Some(b) if b.lines >= m.lines => Some(b),
                _ => Some(m),
            })
    }

    pub fn money_in(&self, currency: &str) -> Option<&Money> {
        self.money.iter().find(|m| m.currency == currency)
    }

    /// Mean spend per repeat purchase day in `currency`, for the Gamma-Gamma model: only when
    /// every purchase was in that currency and there are repeat days.
    pub fn repeat_mean(&self, currency: &str) -> Option<f64> {
        let [m] = self.money.as_slice() else {
            return None;
        };
        let x = self.repeats();
        (m.currency == currency && x > 0)
            .then(|| (m.amount - m.first_day_amount) as f64 / f64::from(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::At;

    fn purchase(id: Id, day: i64, hour: i64, amount: i64, currency: &str) -> Purchase {
        Purchase {
            id,
            contact: 7,
            at: At::from_millis(day * DAY_MS + hour * 3_600_000),
            product: "p".into(),
            quantity: 1,
            amount,
            cost: amount / 2,
            currency: currency.into(),
            channel: String::new(),
            location: String::new(),
        }
    }

    #[test]
    fn days_not_lines_count_and_the_first_day_is_kept_apart() {
        let ps = [
            purchase(1, 100, 9, 1000, "EUR"),
            purchase(2, 100, 15, 500, "EUR"), // same day: one purchase day
            purchase(3, 110, 9, 2000, "EUR"),
            purchase(4, 130, 9, 0, "EUR"), // zero value still a purchase day
        ];
        let s = PurchaseSummary::of(7, &ps.iter().collect::<Vec<_>>());
        assert_eq!((s.days, s.lines, s.first_day, s.last_day), (3, 4, 100, 130));
        assert_eq!(s.repeats(), 2);
        assert_eq!(s.money[0].first_day_amount, 1500);
        assert_eq!(s.money[0].amount, 3500);
        assert_eq!(s.repeat_mean("EUR"), Some(1000.0)); // (2000 + 0) / 2
        assert_eq!(s.repeat_mean("USD"), None);
    }

    #[test]
    fn a_purchase_before_the_first_moves_the_first_day_whatever_the_order() {
        let ps = [
            purchase(1, 100, 9, 1000, "EUR"),
            purchase(2, 90, 9, 300, "EUR"),
            purchase(3, 100, 10, 50, "EUR"),
        ];
        // Folded in arrival order, as the store does (it knows which days are new).
        let mut s = PurchaseSummary::new(7);
        s.add(&ps[0], true);
        s.add(&ps[1], true);
        s.add(&ps[2], false);
        assert_eq!(s, PurchaseSummary::of(7, &ps.iter().collect::<Vec<_>>()));
        assert_eq!(
            (s.first_day, s.days, s.money[0].first_day_amount),
            (90, 2, 300)
        );
    }

    #[test]
    fn currencies_are_kept_apart_and_mixed_customers_get_no_repeat_mean() {
        let ps = [
            purchase(1, 1, 0, 100, "USD"),
            purchase(2, 2, 0, 100, "EUR"),
            purchase(3, 3, 0, 100, "EUR"),
        ];
        let s = PurchaseSummary::of(7, &ps.iter().collect::<Vec<_>>());
        let codes: Vec<&str> = s.money.iter().map(|m| m.currency.as_str()).collect();
        assert_eq!(codes, ["EUR", "USD"]);
        assert_eq!(s.main_currency().map(|m| m.currency.as_str()), Some("EUR"));
        assert_eq!(s.repeat_mean("EUR"), None);
    }

    #[test]
    fn utc_days_floor_towards_the_past() {
        assert_eq!(utc_day(0), 0);
        assert_eq!(utc_day(DAY_MS - 1), 0);
        assert_eq!(utc_day(-1), -1);
    }
}
