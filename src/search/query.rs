//! The query language shared by the TUI search box and `rolo search`.
//!
//! Owns parsing only: `john smith #vip -#churned @acme city:"new york" stage:lead owner:sam
//! due:overdue`. Free text is split on spaces into fuzzy terms that must all match; a quoted
//! text (`"van der"`) is one term. Filter values are folded like the index. Unknown `word:value`
//! tokens are an error listing the known filters (quote them, `"foo:bar"`, to search the text),
//! so a typo in a filter name never silently searches for something else. An unclosed quote is
//! closed at the end of the input so that typing `city:"new y` already works.

use super::fold::fold;

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

/// Why a query could not be parsed; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
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
        "unknown filter `{name}:`; known filters: #tag @org city: stage: owner: due: (to search the text itself, quote it: \"{name}:…\")"
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
];

impl Query {
    /// Parses the search box / command-line text.
    pub fn parse(input: &str) -> Result<Query, QueryError> {
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

/// `Ok(None)` when `body` is plain text.
fn parse_filter(body: &str) -> Result<Option<FilterKind>, QueryError> {
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
    fn clock_times_are_text() {
        assert_eq!(Query::parse("10:30").unwrap().terms(), ["10:30"]);
    }
}
