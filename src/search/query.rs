//! The query language shared by the TUI search box and `rolo search`.
//!
//! Owns parsing only: `john smith #vip -#churned @acme city:"new york" stage:lead owner:sam
//! due:overdue`, and the purchase filters `rfm:champions r:4-5 f:3 m:5 orders>=3 spent>1000
//! last_purchase>180d palive<0.3 bought:"team plan" month:2025-05`. Free text is split on spaces into fuzzy terms that must all match; a quoted
//! text (`"van der"`) is one term. Filter values are folded like the index. Unknown `word:value`
//! tokens are an error listing the known filters (quote them, `"foo:bar"`, to search the text),
//! so a typo in a filter name never silently searches for something else. An unclosed quote is
//! closed at the end of the input so that typing `city:"new y` already works.

use super::fold::fold;
use crate::analytics::rfm::Segment;

/// What a filter compares; values are folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterKind {
    /// `#vip`, `tag:vip`: a tag starting with the value.
    Tag(String),
    /// `@acme`, `org:acme`: a word of the organisation starting with the value.
    Organization(String),
    /// `city:lyon`: a word of the city starting with the value.
    City(String),
    /// `stage:lead`: the stage starting with the value.
    Stage(String),
    /// `owner:sam`: a word of the owner starting with the value.
    Owner(String),
    /// `due:today|overdue|week`: the earliest open follow-up.
    Due(DueWindow),
    /// `rfm:champions`, `rfm:at-risk`: the customer's RFM segment.
    Segment(Segment),
    /// `r:5`, `f:4`, `m:3`, `r:4-5`: an RFM score within `min..=max`.
    Score { axis: ScoreAxis, min: u8, max: u8 },
    /// `orders>=3`, `spent>1000`, `last_purchase>180d`, `palive<0.3`: a purchase figure compared
    /// with a value in [`Measure`]'s unit.
    Measure {
        measure: Measure,
        op: Comparison,
        value: i64,
    },
    /// `bought:"team plan"`: a word of a product the customer bought starts with the value.
    Bought(String),
    /// `month:2025-05`: the customer bought something in that UTC month (`YYYY-MM`).
    Month(String),
}

/// The three RFM scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreAxis {
    Recency,
    Frequency,
    Monetary,
}

/// A customer's purchase figures the query can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Days with a purchase (the lines of one day's order count once, as RFM's F counts).
    Orders,
    /// Total spent in the customer's main currency, in minor units (`spent>1000` is 100000).
    Spent,
    /// Days since the last purchase (`last_purchase>180d`: more than 180 days ago).
    LastPurchase,
    /// P(alive) in millionths (`palive<0.3` is 300000).
    PAlive,
}

/// `<`, `<=`, `=`, `>=`, `>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl Comparison {
    /// Whether `left <op> right`.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Comparison::Less => left < right,
            Comparison::LessOrEqual => left <= right,
            Comparison::Equal => left == right,
            Comparison::GreaterOrEqual => left >= right,
            Comparison::Greater => left > right,
        }
    }
}

/// The follow-up windows `due:` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueWindow {
    /// Due exactly today.
    Today,
    /// Due before today.
    Overdue,
    /// Due today or within the next six days.
    Week,
}

impl DueWindow {
    /// Whether a follow-up on `due_day` falls in the window, given today's day number.
    pub fn contains(self, due_day: i32, today_day: i32) -> bool {
        match self {
            DueWindow::Today => due_day == today_day,
            DueWindow::Overdue => due_day < today_day,
            DueWindow::Week => (today_day..today_day.saturating_add(7)).contains(&due_day),
        }
    }
}

/// One filter, possibly negated with a leading `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// `-#churned`: keep contacts that do *not* match.
    pub negated: bool,
    /// What is compared.
    pub kind: FilterKind,
}

/// The longest query searched, in characters: far beyond any typed one, short enough that
/// matching it against every contact stays instant.
pub const MAX_QUERY_CHARS: usize = 1_024;

/// Why a query could not be parsed; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A query longer than [`MAX_QUERY_CHARS`] (nobody types one; a stray paste does).
    #[error("the query is {chars} characters long; a search takes at most {max}", max = MAX_QUERY_CHARS)]
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// `city:` with nothing after it.
    #[error("{filter} needs a value, e.g. {example}")]
    MissingValue {
        /// The filter as typed, e.g. `city:`.
        filter: &'static str,
        /// A complete example.
        example: &'static str,
    },
    /// `foo:bar` where `foo` is not a filter.
    #[error(
        "unknown filter `{name}:`; known filters: #tag @org city: stage: owner: due: rfm: r: f: m: bought: month: and orders>= spent> last_purchase> palive< (to search the text itself, quote it: \"{name}:…\")"
    )]
    UnknownFilter {
        /// The name before the colon.
        name: String,
    },
    /// `due:soon`.
    #[error("due:{value} is not understood; use due:today, due:overdue or due:week")]
    BadDue {
        /// The value as typed.
        value: String,
    },
    /// `rfm:nope`.
    #[error(
        "rfm:{value} is not a segment; use one of rfm:champions, loyal, potential-loyalist, new, promising, need-attention, about-to-sleep, at-risk, cant-lose, hibernating, lost"
    )]
    BadSegment {
        /// The value as typed (folded).
        value: String,
    },
    /// `r:9`, `f:x`.
    #[error("{name}:{value} is not a score; scores run from 1 to 5, e.g. {name}:5 or {name}:4-5")]
    BadScore {
        /// `r`, `f` or `m`.
        name: &'static str,
        /// The value as typed (folded).
        value: String,
    },
    /// `orders>=x`, `palive<2`.
    #[error("`{text}` is not understood; e.g. {example}")]
    BadMeasure {
        /// The filter as typed.
        text: String,
        /// A complete example.
        example: &'static str,
    },
    /// `month:may`.
    #[error("month:{value} is not a month; write it as YYYY-MM, e.g. month:2025-05")]
    BadMonth {
        /// The value as typed (folded).
        value: String,
    },
    /// A `-` with no filter after it.
    #[error("`-{rest}`: a leading - excludes a filter, e.g. -#churned or -city:paris")]
    DanglingMinus {
        /// What followed the `-`.
        rest: String,
    },
}

/// A parsed query: fuzzy terms plus filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    terms: Vec<String>,
    filters: Vec<Filter>,
}

struct Token {
    text: String,
    /// Char position in `text` where the first quoted part began.
    quote_at: Option<usize>,
}

fn tokenize(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return tokens;
        }
        let mut token = Token {
            text: String::new(),
            quote_at: None,
        };
        let mut in_quote = false;
        let mut len = 0;
        while let Some(&c) = chars.peek() {
            if c == '"' {
                in_quote = !in_quote;
                token.quote_at.get_or_insert(len);
            } else if c.is_whitespace() && !in_quote {
                break;
            } else {
                token.text.push(c);
                len += 1;
            }
            chars.next();
        }
        tokens.push(token);
    }
}

const KNOWN: &[(&str, &str, &str)] = &[
    ("city", "city:", "city:lyon"),
    ("stage", "stage:", "stage:lead"),
    ("owner", "owner:", "owner:sam"),
    ("due", "due:", "due:today"),
    ("tag", "tag:", "tag:vip"),
    ("org", "org:", "org:acme"),
    ("rfm", "rfm:", "rfm:champions"),
    ("r", "r:", "r:5"),
    ("f", "f:", "f:4"),
    ("m", "m:", "m:3"),
    ("bought", "bought:", "bought:\"team plan\""),
    ("month", "month:", "month:2025-05"),
];

/// The comparable figures: accepted names, the measure, an example.
const MEASURES: &[(&[&str], Measure, &str)] = &[
    (&["orders"], Measure::Orders, "orders>=3"),
    (&["spent"], Measure::Spent, "spent>1000"),
    (
        &["last_purchase", "lastpurchase"],
        Measure::LastPurchase,
        "last_purchase>180d",
    ),
    (&["palive", "p_alive"], Measure::PAlive, "palive<0.3"),
];

impl Query {
    /// Parses the search box / command-line text.
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        if input.len() > MAX_QUERY_CHARS {
            let chars = input.chars().count();
            if chars > MAX_QUERY_CHARS {
                return Err(QueryError::TooLong { chars });
            }
        }
        let mut query = Query::default();
        let mut last_was_phone = false;
        for token in tokenize(input) {
            if token.quote_at == Some(0) {
                last_was_phone = false;
                let term = fold(&token.text);
                if !term.trim().is_empty() {
                    query.terms.push(term);
                }
                continue;
            }
            let (negated, body) = match token.text.strip_prefix('-') {
                Some(rest) if token.quote_at != Some(1) => (true, rest),
                _ => (false, token.text.as_str()),
            };
            match parse_filter(body)? {
                Some(kind) => query.filters.push(Filter { negated, kind }),
                None if negated => {
                    return Err(QueryError::DanglingMinus {
                        rest: body.to_owned(),
                    });
                }
                // A phone number typed with spaces (`091 234 5678`) is one number: adjacent
                // phone-like words join into one term.
                None if is_phone_like(body)
                    && !negated
                    && last_was_phone
                    && query.terms.last().is_some_and(|t| is_phone_like(t)) =>
                {
                    if let Some(last) = query.terms.last_mut() {
                        last.push_str(body);
                    }
                }
                // Free text, a pasted address (`zoe@home.de`) or a domain (`vandelay.example`):
                // the index holds whole emails.
                None => query
                    .terms
                    .extend(fold(body).split_whitespace().map(str::to_owned)),
            }
            last_was_phone = is_phone_like(body) && token.quote_at.is_none();
        }
        Ok(query)
    }

    /// The folded free-text terms, all of which must match.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The filters, all of which must hold.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// Whether a filter reads the purchase columns (`rfm:`, `orders>=` …, `bought:`).
    pub fn needs_customers(&self) -> bool {
        self.filters.iter().any(|f| {
            matches!(
                f.kind,
                FilterKind::Segment(_)
                    | FilterKind::Score { .. }
                    | FilterKind::Measure { .. }
                    | FilterKind::Bought(_)
                    | FilterKind::Month(_)
            )
        })
    }

    /// Whether a filter reads what customers bought (`bought:`, `month:`).
    pub fn needs_bought(&self) -> bool {
        self.filters
            .iter()
            .any(|f| matches!(f.kind, FilterKind::Bought(_) | FilterKind::Month(_)))
    }

    /// True when the query has neither text nor filters.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.filters.is_empty()
    }

    /// True when everything matching `self` also matches `previous`, so a search for `self`
    /// may scan only `previous`'s matches: terms and positive filter values only grew,
    /// terms and filters were only added, exclusions are unchanged or added.
    pub fn narrows(&self, previous: &Query) -> bool {
        if self.terms.len() < previous.terms.len()
            || self
                .terms
                .iter()
                .chain(&previous.terms)
                .any(|t| phone_with_prefix(t))
            || !previous
                .terms
                .iter()
                .zip(&self.terms)
                .all(|(old, new)| new.starts_with(old.as_str()))
        {
            return false;
        }
        previous.filters.iter().all(|old| {
            self.filters.iter().any(|new| {
                new.negated == old.negated
                    && if old.negated {
                        new.kind == old.kind
                    } else {
                        kind_extends(&new.kind, &old.kind)
                    }
            })
        })
    }
}

fn kind_extends(new: &FilterKind, old: &FilterKind) -> bool {
    use FilterKind as K;
    match (new, old) {
        (K::Tag(n), K::Tag(o))
        | (K::Organization(n), K::Organization(o))
        | (K::City(n), K::City(o))
        | (K::Stage(n), K::Stage(o))
        | (K::Owner(n), K::Owner(o)) => n.starts_with(o.as_str()),
        (K::Due(n), K::Due(o)) => n == o,
        // A word prefix that grew matches fewer products; the purchase table is kept current
        // per contact, like the text.
        (K::Bought(n), K::Bought(o)) => n.starts_with(o.as_str()),
        (K::Month(n), K::Month(o)) => n == o,
        (K::Measure { .. }, K::Measure { .. }) => new == old,
        // Scores are ranks among all customers: one purchase can move everyone's, so a search
        // holding a score filter is never narrowed from.
        (K::Segment(_) | K::Score { .. }, _) => false,
        _ => false,
    }
}

/// True for text made of digits and the punctuation phone numbers are written with
/// (`+385 (91) 234-5678`, `091.234.5678`), with at least one digit: it is searched as a phone
/// number (see the index's phone matching).
pub(crate) fn is_phone_like(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-()./ ".contains(&b))
}

/// A phone-like term whose matches are not a superset of a longer term's: one with a leading
/// `+`, `00` or trunk `0` may match national/international forms the longer one need not.
fn phone_with_prefix(term: &str) -> bool {
    is_phone_like(term) && {
        let t = term.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '+');
        t.starts_with('+') || t.starts_with('0')
    }
}

/// `orders>=3`, `palive<0.3` …; `Ok(None)` when `body` does not start with a measure's name
/// and an operator.
fn parse_measure(body: &str) -> Result<Option<FilterKind>, QueryError> {
    let Some(at) = body.find(['<', '>', '=']) else {
        return Ok(None);
    };
    let name = body[..at].to_lowercase();
    let Some(&(_, measure, example)) = MEASURES
        .iter()
        .find(|(names, _, _)| names.contains(&name.as_str()))
    else {
        return Ok(None);
    };
    let rest = &body[at..];
    let (op, value) = [
        (">=", Comparison::GreaterOrEqual),
        ("<=", Comparison::LessOrEqual),
        ("=>", Comparison::GreaterOrEqual),
        ("=<", Comparison::LessOrEqual),
        (">", Comparison::Greater),
        ("<", Comparison::Less),
        ("=", Comparison::Equal),
    ]
    .iter()
    .find_map(|(text, op)| rest.strip_prefix(text).map(|v| (*op, v.trim())))
    .unwrap_or((Comparison::Equal, rest));
    let bad = || QueryError::BadMeasure {
        text: body.to_owned(),
        example,
    };
    let value = match measure {
        Measure::Orders => value.parse::<u32>().map(i64::from).map_err(|_| bad())?,
        Measure::Spent => decimal(value, 2).ok_or_else(bad)?,
        Measure::PAlive => decimal(value, 6)
            .filter(|v| (0..=1_000_000).contains(v))
            .ok_or_else(bad)?,
        Measure::LastPurchase => {
            let lowered = value.to_lowercase();
            let (number, unit) = match lowered.find(|c: char| !c.is_ascii_digit()) {
                Some(at) => lowered.split_at(at),
                None => (lowered.as_str(), "d"),
            };
            let days = match unit {
                "d" => 1,
                "w" => 7,
                "m" => 30,
                "y" => 365,
                _ => return Err(bad()),
            };
            number
                .parse::<i64>()
                .ok()
                .and_then(|n| n.checked_mul(days))
                .filter(|n| *n <= 1_000_000)
                .ok_or_else(bad)?
        }
    };
    Ok(Some(FilterKind::Measure { measure, op, value }))
}

/// `12.5` with `places` = 2 → 1250; at most `places` decimals, optional sign.
fn decimal(text: &str, places: u32) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once(['.', ',']).unwrap_or((digits, ""));
    if (whole.is_empty() && frac.is_empty())
        || frac.len() > places as usize
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = 10_i64.checked_pow(places)?;
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = places as usize)
            .parse()
            .ok()?
    };
    let v = whole.checked_mul(scale)?.checked_add(frac)?;
    Some(if negative { -v } else { v })
}

/// `5` or `4-5`, each 1–5, low first.
fn score_range(name: &'static str, value: &str) -> Result<(u8, u8), QueryError> {
    let bad = || QueryError::BadScore {
        name,
        value: value.to_owned(),
    };
    let score = |t: &str| {
        t.trim()
            .parse::<u8>()
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(bad)
    };
    match value.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (score(lo)?, score(hi)?);
            Ok((lo.min(hi), lo.max(hi)))
        }
        None => score(value).map(|s| (s, s)),
    }
}

/// A segment by key or label (`at-risk`, `cant_lose`, `"can't lose them"`), or by the start of
/// exactly one key (`champ`), so a half-typed name already works.
fn segment(value: &str) -> Result<Segment, QueryError> {
    if let Some(s) = Segment::parse(value) {
        return Ok(s);
    }
    let typed: String = value
        .chars()
        .filter(|c| !matches!(c, '\'' | '’'))
        .map(|c| if matches!(c, ' ' | '-') { '_' } else { c })
        .collect();
    let mut starting = Segment::ALL
        .into_iter()
        .filter(|s| s.key().starts_with(typed.as_str()));
    match (starting.next(), starting.next()) {
        (Some(only), None) => Ok(only),
        _ => Err(QueryError::BadSegment {
            value: value.to_owned(),
        }),
    }
}

/// `2025-05` (a month number of 1–12, a four-digit year).
fn month(value: &str) -> Result<String, QueryError> {
    let bad = || QueryError::BadMonth {
        value: value.to_owned(),
    };
    let (year, month) = value.split_once('-').ok_or_else(bad)?;
    let year: i32 = year
        .parse()
        .ok()
        .filter(|_| year.len() == 4)
        .ok_or_else(bad)?;
    let month: u8 = month
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(bad)?;
    Ok(format!("{year:04}-{month:02}"))
}

/// `Ok(None)` when `body` is plain text.
fn parse_filter(body: &str) -> Result<Option<FilterKind>, QueryError> {
    if let Some(kind) = parse_measure(body)? {
        return Ok(Some(kind));
    }
    if let Some(value) = body.strip_prefix('#') {
        return value_or_missing(value, "#", "#vip").map(|v| Some(FilterKind::Tag(v)));
    }
    if let Some(value) = body.strip_prefix('@') {
        return value_or_missing(value, "@", "@acme").map(|v| Some(FilterKind::Organization(v)));
    }
    let Some((name, value)) = body.split_once(':') else {
        return Ok(None);
    };
    if name.is_empty() || !name.chars().all(|c| c.is_alphabetic()) {
        return Ok(None);
    }
    let lowered = name.to_lowercase();
    let Some(&(_, filter, example)) = KNOWN.iter().find(|(known, _, _)| *known == lowered) else {
        return Err(QueryError::UnknownFilter {
            name: name.to_owned(),
        });
    };
    let value = value_or_missing(value, filter, example)?;
    Ok(Some(match lowered.as_str() {
        "city" => FilterKind::City(value),
        "stage" => FilterKind::Stage(value),
        "owner" => FilterKind::Owner(value),
        "tag" => FilterKind::Tag(value),
        "org" => FilterKind::Organization(value),
        "rfm" => FilterKind::Segment(segment(&value)?),
        "r" | "f" | "m" => {
            let (axis, name) = match lowered.as_str() {
                "r" => (ScoreAxis::Recency, "r"),
                "f" => (ScoreAxis::Frequency, "f"),
                _ => (ScoreAxis::Monetary, "m"),
            };
            let (min, max) = score_range(name, &value)?;
            FilterKind::Score { axis, min, max }
        }
        "bought" => FilterKind::Bought(value),
        "month" => FilterKind::Month(month(&value)?),
        _ => FilterKind::Due(match value.as_str() {
            "today" => DueWindow::Today,
            "overdue" => DueWindow::Overdue,
            "week" => DueWindow::Week,
            _ => return Err(QueryError::BadDue { value }),
        }),
    }))
}

fn value_or_missing(
    value: &str,
    filter: &'static str,
    example: &'static str,
) -> Result<String, QueryError> {
    let folded = fold(value.trim());
    if folded.is_empty() {
        Err(QueryError::MissingValue { filter, example })
    } else {
        Ok(folded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_filter_value_keeps_spaces() {
        let q = Query::parse(r#"city:"New York" ann"#).unwrap();
        assert_eq!(q.terms(), ["ann"]);
        assert_eq!(q.filters()[0].kind, FilterKind::City("new york".into()));
    }

    #[test]
    fn purchase_filters_parse_with_their_slugs_ranges_and_units() {
        let kinds = |q: &str| -> Vec<FilterKind> {
            Query::parse(q)
                .unwrap_or_else(|e| panic!("{q}: {e}"))
                .filters()
                .iter()
                .map(|f| f.kind.clone())
                .collect()
        };
        for (text, segment) in [
            ("rfm:champions", Segment::Champions),
            ("rfm:at-risk", Segment::AtRisk),
            ("rfm:cant-lose", Segment::CantLose),
            ("rfm:\"can't lose them\"", Segment::CantLose),
            ("RFM:Potential_Loyalist", Segment::PotentialLoyalist),
            ("rfm:champ", Segment::Champions),
        ] {
            assert_eq!(kinds(text), [FilterKind::Segment(segment)], "{text}");
        }
        assert_eq!(
            kinds("r:4-5 f:3 m:5-4"),
            [
                FilterKind::Score {
                    axis: ScoreAxis::Recency,
                    min: 4,
                    max: 5
                },
                FilterKind::Score {
                    axis: ScoreAxis::Frequency,
                    min: 3,
                    max: 3
                },
                FilterKind::Score {
                    axis: ScoreAxis::Monetary,
                    min: 4,
                    max: 5
                },
            ]
        );
        let measure = |measure, op, value| FilterKind::Measure { measure, op, value };
        assert_eq!(
            kinds("orders>=3 spent>1000.5 last_purchase>180d lastpurchase<=2w palive<0.3 orders=0"),
            [
                measure(Measure::Orders, Comparison::GreaterOrEqual, 3),
                measure(Measure::Spent, Comparison::Greater, 100_050),
                measure(Measure::LastPurchase, Comparison::Greater, 180),
                measure(Measure::LastPurchase, Comparison::LessOrEqual, 14),
                measure(Measure::PAlive, Comparison::Less, 300_000),
                measure(Measure::Orders, Comparison::Equal, 0),
            ]
        );
        assert_eq!(
            kinds("bought:\"Team plan\" month:2025-5"),
            [
                FilterKind::Bought("team plan".into()),
                FilterKind::Month("2025-05".into())
            ]
        );
        let q = Query::parse("ana -rfm:lost").unwrap();
        assert_eq!(q.terms(), ["ana"]);
        assert!(q.filters()[0].negated);
        // Text that merely contains an operator stays text.
        assert_eq!(Query::parse("a<b").unwrap().terms(), ["a<b"]);
    }

    #[test]
    fn a_pasted_novel_is_refused_with_its_length() {
        let long = "ana ".repeat(10_000);
        let error = Query::parse(&long).unwrap_err();
        assert_eq!(error, QueryError::TooLong { chars: 40_000 });
        assert!(error.to_string().contains("at most 1024"), "{error}");
        assert!(Query::parse(&"é".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn bad_purchase_filters_say_what_is_expected() {
        let error = |q: &str| Query::parse(q).unwrap_err().to_string();
        assert!(
            error("rfm:nope").contains("rfm:champions"),
            "{}",
            error("rfm:nope")
        );
        assert!(
            error("rfm:ne").contains("not a segment"),
            "ambiguous prefix"
        );
        assert!(error("r:6").contains("1 to 5"));
        assert!(error("orders>=x").contains("orders>=3"));
        assert!(error("palive<2").contains("palive<0.3"));
        assert!(error("last_purchase>3q").contains("last_purchase>180d"));
        assert!(error("month:may").contains("YYYY-MM"));
        assert!(error("bought:").contains("needs a value"));
    }

    #[test]
    fn score_filters_are_never_narrowed_from() {
        let q = |t: &str| Query::parse(t).unwrap();
        assert!(!q("rfm:champions a").narrows(&q("rfm:champions")));
        assert!(!q("r:5 ab").narrows(&q("r:5 a")));
        assert!(q("orders>=3 ab").narrows(&q("orders>=3 a")));
        assert!(q("bought:team ab").narrows(&q("bought:te a")));
        // Adding a score filter to a query narrows it.
        assert!(q("ab rfm:lost").narrows(&q("a")));
    }

    #[test]
    fn clock_times_are_text() {
        assert_eq!(Query::parse("10:30").unwrap().terms(), ["10:30"]);
    }
}
