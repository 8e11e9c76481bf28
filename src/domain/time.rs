//! Instants and calendar days as rolo stores them: UTC instants (`At`) and local calendar days
//! (`Day`); compact integers in the database, ISO 8601 strings in JSON. Also the small language
//! users type for follow-up dates (`+3d`, `tomorrow`, `fri`, `2026-12-01`).

use std::fmt;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC instant with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At(pub Timestamp);

impl At {
    /// Now, truncated to the millisecond the database keeps, so a record returned by a write
    /// equals the same record read back.
    pub fn now() -> Self {
        At::from_millis(Timestamp::now().as_millisecond())
    }
    pub fn from_millis(ms: i64) -> Self {
        At(Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH))
    }
    pub fn millis(self) -> i64 {
        self.0.as_millisecond()
    }
    /// The local calendar day this instant falls on.
    pub fn local_day(self) -> Day {
        Day(self.0.to_zoned_datetime(TimeZone::system()).date())
    }
    /// Local date and time for people, e.g. `2026-11-25 14:03`.
    pub fn local_display(self) -> String {
        self.0
            .to_zoned_datetime(TimeZone::system())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for At {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.millis())
        }
    }
}

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            text.parse::<Timestamp>()
                .map(At)
                .map_err(serde::de::Error::custom)
        } else {
            let ms = i64::deserialize(d)?;
            Timestamp::from_millisecond(ms)
                .map(At)
                .map_err(serde::de::Error::custom)
        }
    }
}

const EPOCH: Date = Date::constant(1970, 1, 1);

/// A calendar day (follow-up due dates, expected closes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

impl Day {
    pub fn today() -> Self {
        At::now().local_day()
    }
    /// Days since 1970-01-01; the database key form.
    pub fn number(self) -> i32 {
        let secs = self.0.duration_since(EPOCH).as_secs();
        i32::try_from(secs.div_euclid(86_400)).unwrap_or(0)
    }
    pub fn from_number(n: i32) -> Self {
        let limit = if n < 0 { Date::MIN } else { Date::MAX };
        Day(EPOCH
            .checked_add(SignedDuration::from_hours(i64::from(n) * 24))
            .unwrap_or(limit))
    }
    pub fn add_days(self, n: i32) -> Self {
        Day::from_number(self.number().saturating_add(n))
    }
    pub fn weekday(self) -> Weekday {
        self.0.weekday()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Day {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.trim()
            .parse::<Date>()
            .map(Day)
            .map_err(|_| format!("`{s}` is not a date (use YYYY-MM-DD)"))
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i32(self.number())
        }
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d)?
                .parse()
                .map_err(serde::de::Error::custom)
        } else {
            Ok(Day::from_number(i32::deserialize(d)?))
        }
    }
}

/// Parses what people type for a due date, relative to `today`:
/// `today`, `tomorrow`, `+3d`, `+2w`, `+1m` (30 days), a weekday (`fri`, `friday` — the next one,
/// never today), or `YYYY-MM-DD`.
pub fn parse_due(input: &str, today: Day) -> Result<Day, String> {
    let text = input.trim().to_lowercase();
    let hint = "use +3d, +2w, tomorrow, fri or 2026-12-01";
    if text.is_empty() {
        return Err(format!("a due date is needed ({hint})"));
    }
    match text.as_str() {
        "today" | "tod" => return Ok(today),
        "tomorrow" | "tom" | "tmr" => return Ok(today.add_days(1)),
        _ => {}
    }
    if let Some(rest) = text.strip_prefix('+') {
        let (digits, unit) = rest.split_at(
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len()),
        );
        let n: i32 = digits
            .parse()
            .map_err(|_| format!("`{input}`: a number must follow + ({hint})"))?;
        let days = match unit {
            "" | "d" => Some(n),
            "w" => n.checked_mul(7),
            "m" => n.checked_mul(30),
            _ => None,
        }
        .filter(|d| *d <= 3660)
        .ok_or_else(|| format!("`{input}` is not a due date ({hint})"))?;
        return Ok(today.add_days(days));
    }
    if let Some(weekday) = parse_weekday(&text) {
        let ahead = today.weekday().until(weekday);
        let ahead = if ahead <= 0 { ahead + 7 } else { ahead };
        return Ok(today.add_days(i32::from(ahead)));
    }
    let day = text
        .parse::<Day>()
        .map_err(|_| format!("`{input}` is not a due date ({hint})"))?;
    // A follow-up due in the past would be overdue the moment it is made: almost always a
    // typo in the year or month, so it is refused rather than filed.
    if day < today {
        return Err(format!(
            "`{input}` is in the past (today is {today}); a follow-up needs today or a later day"
        ));
    }
    Ok(day)
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    const NAMES: [(&str, Weekday); 7] = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    if text.len() < 2 {
        return None;
    }
    let mut found = NAMES.iter().filter(|(name, _)| name.starts_with(text));
    match (found.next(), found.next()) {
        (Some((_, day)), None) => Some(*day),
        _ => None,
    }
}

/// A short relative age such as `now`, `5m`, `3h`, `2d`, `3w`, `4mo`, `2y`.
pub fn relative(from: At, now: At) -> String {
    let secs = (now.millis() - from.millis()) / 1000;
    let future = secs < 0;
    let secs = secs.abs();
    let text = match secs {
        0..=59 => return "now".to_string(),
        60..=3_599 => format!("{}m", secs / 60),
        3_600..=86_399 => format!("{}h", secs / 3_600),
        86_400..=1_209_599 => format!("{}d", secs / 86_400),
        1_209_600..=5_183_999 => format!("{}w", secs / 604_800),
        5_184_000..=31_535_999 => format!("{}mo", secs / 2_592_000),
        _ => format!("{}y", secs / 31_536_000),
    };
    if future { format!("in {text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn due_dates_parse_relative_to_today() {
        let wed = day("2026-11-25");
        assert_eq!(parse_due("today", wed), Ok(wed));
        assert_eq!(parse_due("tomorrow", wed), Ok(day("2026-11-26")));
        assert_eq!(parse_due("+3d", wed), Ok(day("2026-11-28")));
        assert_eq!(parse_due("+3", wed), Ok(day("2026-11-28")));
        assert_eq!(parse_due("+2w", wed), Ok(day("2026-12-09")));
        assert_eq!(parse_due("fri", wed), Ok(day("2026-11-27")));
        assert_eq!(parse_due("2026-11-25", wed), Ok(wed));
        let past = parse_due("2025-11-25", wed).unwrap_err();
        assert!(past.contains("in the past"), "{past}");
        assert_eq!(parse_due("Wednesday", wed), Ok(day("2026-12-02")));
        assert_eq!(parse_due("2026-12-01", wed), Ok(day("2026-12-01")));
    }

    #[test]
    fn bad_due_dates_explain_themselves() {
        let wed = day("2026-11-25");
        for bad in ["", "+", "+3x", "t", "someday", "2026-13-01", "+99999d"] {
            let err = parse_due(bad, wed).unwrap_err();
            assert!(err.contains("+3d"), "{bad}: {err}");
        }
    }

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(day("1970-01-01").number(), 0);
        assert_eq!(day("2026-11-25").number(), 20_782);
        assert_eq!(Day::from_number(20_782), day("2026-11-25"));
        assert_eq!(Day::from_number(-1), day("1969-12-31"));
    }

    #[test]
    fn binary_and_json_forms() {
        let at = At::from_millis(1_764_000_000_123);
        let bytes = postcard::to_allocvec(&at).unwrap();
        assert!(bytes.len() <= 8);
        assert_eq!(postcard::from_bytes::<At>(&bytes).unwrap(), at);
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(json, "\"2025-11-24T16:00:00.123Z\"");
        assert_eq!(serde_json::from_str::<At>(&json).unwrap(), at);
        let d = day("2026-12-01");
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-12-01\"");
        let bytes = postcard::to_allocvec(&d).unwrap();
        assert_eq!(postcard::from_bytes::<Day>(&bytes).unwrap(), d);
    }

    #[test]
    fn relative_ages() {
        let now = At::from_millis(10_000_000_000);
        assert_eq!(
            relative(At::from_millis(10_000_000_000 - 3 * 86_400_000), now),
            "3d"
        );
        assert_eq!(
            relative(At::from_millis(10_000_000_000 - 30_000), now),
            "now"
        );
        assert_eq!(
            relative(At::from_millis(10_000_000_000 + 7_200_000), now),
            "in 2h"
        );
    }
}
