//! The per-customer purchase summary every analysis starts from, and the one fold that builds
//! it — used both by the store (kept current on every purchase) and by an `--as-of` replay of
//! the purchases. Plain data: no store, no terminal.
//!
//! Days are UTC calendar days (`ms.div_euclid(86 400 000)`); a "purchase day" is a day with at
//! least one purchase line, the unit both RFM frequency and the BG/NBD repeat count use
//! (lifetimes' `frequency` with `freq='D'` counts the same thing).

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::domain::{Id, Purchase};

const DAY_MS: i64 = 86_400_000;

/// The UTC day number (days since 1970-01-01) of an instant in milliseconds.
pub fn utc_day(ms: i64) -> i32 {
    i32::try_from(ms.div_euclid(DAY_MS)).unwrap_or(if ms < 0 { i32::MIN } else { i32::MAX })
}

/// A currency code held inline (rolo's are three upper-case letters; up to 15 bytes are kept),
/// so a summary holds no heap string: 1M customers' summaries are one flat allocation, and
/// reading them allocates nothing per customer. Serialised as its text, exactly like the
/// `String` it replaced, so stored summaries and JSON are unchanged.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Code {
    len: u8,
    bytes: [u8; 15],
}

impl Code {
    /// The code of `text`, cut at a character boundary when longer than 15 bytes.
    pub fn new(text: &str) -> Code {
        let mut end = text.len().min(15);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 15];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        Code {
            len: u8::try_from(end).unwrap_or(15),
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len).min(15)]).unwrap_or("")
    }
}

impl std::ops::Deref for Code {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for Code {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Code {
    /// The codes' text order (what sorting by the `String` gave).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Code {
    fn from(text: &str) -> Code {
        Code::new(text)
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Code;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a currency code of at most 15 bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Code, E> {
                if v.len() > 15 {
                    return Err(E::invalid_length(v.len(), &self));
                }
                Ok(Code::new(v))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// Money of one currency a customer spent (minor units; currencies are never added together).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: Code,
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
    /// Per currency, sorted by currency code; inline for the usual one currency.
    pub money: SmallVec<[Money; 1]>,
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
                        currency: Code::new(&p.currency),
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

/// What the lifetime-value models need of one customer, in 56 bytes where a
/// [`PurchaseSummary`] takes 104 (and a second allocation for a second currency): the CLV
/// report and the server's purchase columns read a million customers as these, not as
/// summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValueRow {
    pub contact: Id,
    pub first_day: i32,
    pub last_day: i32,
    /// Distinct UTC days with a purchase.
    pub days: u32,
    /// Every purchase was in `currency`.
    pub single: bool,
    /// The main currency ([`PurchaseSummary::main_currency`]; empty without purchases).
    pub currency: Code,
    /// Spent in the main currency, minor units.
    pub spent: i64,
    /// Of it, after the first purchase day.
    pub repeat_spent: i64,
}

impl ValueRow {
    pub fn of(s: &PurchaseSummary) -> ValueRow {
        let main = s.main_currency();
        ValueRow {
            contact: s.contact,
            first_day: s.first_day,
            last_day: s.last_day,
            days: s.days,
            single: s.money.len() == 1,
            currency: main.map(|m| m.currency).unwrap_or_default(),
            spent: main.map_or(0, |m| m.amount),
            repeat_spent: main.map_or(0, |m| m.amount - m.first_day_amount),
        }
    }

    /// Repeat purchase days (the BG/NBD `x`).
    pub fn repeats(&self) -> u32 {
        self.days.saturating_sub(1)
    }

    /// The main currency, unless there were no purchases.
    pub fn main_currency(&self) -> Option<&Code> {
        (self.currency.len > 0).then_some(&self.currency)
    }

    /// [`PurchaseSummary::repeat_mean`].
    pub fn repeat_mean(&self, currency: &str) -> Option<f64> {
        let x = self.repeats();
        (self.single && self.currency == *currency && x > 0)
            .then(|| self.repeat_spent as f64 / f64::from(x))
    }
}

/// A customer as the lifetime-value models read them: a [`ValueRow`], or a summary turned
/// into one as it is read.
pub trait Customer: Sync {
    fn value_row(&self) -> ValueRow;
}

impl Customer for ValueRow {
    fn value_row(&self) -> ValueRow {
        *self
    }
}

impl Customer for PurchaseSummary {
    fn value_row(&self) -> ValueRow {
        ValueRow::of(self)
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
    fn a_value_row_answers_as_its_summary_does() {
        let one = PurchaseSummary::of(
            7,
            &[
                &purchase(1, 100, 9, 1000, "EUR"),
                &purchase(2, 100, 15, 500, "EUR"),
                &purchase(3, 130, 9, 700, "EUR"),
                &purchase(4, 160, 9, 900, "EUR"),
            ],
        );
        let two = PurchaseSummary::of(
            7,
            &[
                &purchase(1, 100, 9, 1000, "EUR"),
                &purchase(2, 120, 9, 500, "USD"),
                &purchase(3, 130, 9, 700, "EUR"),
            ],
        );
        let once = PurchaseSummary::of(7, &[&purchase(1, 100, 9, 1000, "GBP")]);
        for s in [&one, &two, &once, &PurchaseSummary::new(7)] {
            let row = ValueRow::of(s);
            assert_eq!(row.repeats(), s.repeats());
            assert_eq!(
                row.main_currency().map(|c| c.as_str()),
                s.main_currency().map(|m| m.currency.as_str())
            );
            assert_eq!(row.spent, s.main_currency().map_or(0, |m| m.amount));
            for currency in ["EUR", "USD", "GBP", ""] {
                assert_eq!(
                    row.repeat_mean(currency),
                    s.repeat_mean(currency),
                    "{currency}"
                );
            }
        }
        assert_eq!(ValueRow::of(&one).repeat_mean("EUR"), Some(800.0));
        assert!(!ValueRow::of(&two).single);
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
    fn codes_store_and_sort_exactly_like_the_strings_they_replace() {
        for text in ["EUR", "", "X", "ABCDEFGHIJKLMNO"] {
            let code = Code::new(text);
            assert_eq!(code.as_str(), text);
            let bytes = postcard::to_allocvec(&code).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&text.to_string()).unwrap());
            assert_eq!(postcard::from_bytes::<Code>(&bytes).unwrap(), code);
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{text}\""));
        }
        // Longer than 15 bytes: refused when read, cut at a character boundary when made.
        let long = postcard::to_allocvec(&"ABCDEFGHIJKLMNOP".to_string()).unwrap();
        assert!(postcard::from_bytes::<Code>(&long).is_err());
        assert_eq!(Code::new("ABCDEFGHIJKLMNé").as_str(), "ABCDEFGHIJKLMN");
        // Text order, not length first.
        let mut codes = [
            Code::new("USD"),
            Code::new("AB"),
            Code::new("EUR"),
            Code::new("B"),
        ];
        codes.sort();
        let texts: Vec<&str> = codes.iter().map(Code::as_str).collect();
        assert_eq!(texts, ["AB", "B", "EUR", "USD"]);
        // A summary with one currency round-trips through its stored form unchanged.
        let s = PurchaseSummary::of(7, &[&purchase(1, 3, 0, 250, "CHF")]);
        let back: PurchaseSummary =
            postcard::from_bytes(&postcard::to_allocvec(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(!s.money.spilled());
    }

    #[test]
    fn utc_days_floor_towards_the_past() {
        assert_eq!(utc_day(0), 0);
        assert_eq!(utc_day(DAY_MS - 1), 0);
        assert_eq!(utc_day(-1), -1);
    }
}
