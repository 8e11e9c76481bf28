//! Customer analytics: pure functions over plain per-customer summaries and records — no redb,
//! no terminal. The store keeps the inputs current ([`summary::PurchaseSummary`], one per
//! customer, updated on every purchase); the CLI's `rolo report` and the dashboard both show
//! what [`reports`] computes from them, so their numbers are the same.
//!
//! - [`rfm`]: recency/frequency/monetary scores 1–5, the R×F segment map;
//! - [`clv`]: BG/NBD and Gamma-Gamma fits by maximum likelihood, P(alive), expected purchases,
//!   expected spend and lifetime value;
//! - [`profit`]: margin per customer and product, top/bottom N, top-20 % share;
//! - [`performance`]: sales and margin by channel, location, product and month, repeat rate;
//! - [`satisfaction`]: CSAT and averages per agent, channel, month and customer, and who fell.
//!
//! Money is always integer minor units of one currency: nothing here adds two currencies.

pub mod clv;
pub mod optim;
pub mod performance;
pub mod profit;
pub mod reports;
pub mod rfm;
pub mod rollup;
pub mod satisfaction;
pub mod sort;
pub mod special;
pub mod summary;

/// A UTC calendar month as `(year, month)` from a UTC day number (days since 1970-01-01):
/// Hinnant's `civil_from_days`, exact for every day an `i32` holds.
pub fn month_of_day(day: i32) -> (i32, u8) {
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (i32::try_from(year).unwrap_or(i32::MAX), month as u8)
}

/// `YYYY-MM` of a UTC day number.
pub fn month_key(day: i32) -> String {
    let (y, m) = month_of_day(day);
    format!("{y:04}-{m:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Day;

    #[test]
    fn months_match_the_calendar() {
        for n in [-800_000, -1, 0, 31, 59, 10_956, 11_016, 20_000, 2_000_000] {
            let day = Day::from_number(n).0;
            assert_eq!(
                month_of_day(n),
                (i32::from(day.year()), day.month() as u8),
                "{n}"
            );
        }
        assert_eq!(month_key(0), "1970-01");
    }
}
