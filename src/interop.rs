//! Moving contacts in and out of rolo as files: vCard (2.1, 3.0, 4.0), CSV (Google, Outlook,
//! mapped, rolo's own) and rolo's lossless JSON; plus duplicate candidates for `rolo dedupe`.
//!
//! Everything here is pure: readers take a [`BufRead`] and stream one card / row / record at a
//! time (constant memory, whatever the file size), writers take plain domain values and a
//! [`Write`]. This module must not open the database, decide ids, or resolve organisations — the
//! store does that, calling [`ContactDraft::into_contact`] on every [`ImportRecord::draft`].
//! Text is cleaned by `domain::text` only; readers make sure drafts *hold* what the sanitiser
//! expects (newlines kept in notes, escapes undone, bytes decoded).
//!
//! Entry points for the CLI: [`Format::detect`], [`read_records`] (drafts from any format),
//! [`json::JsonReader`] (lossless restore with timelines and deals), [`vcard::write_card`],
//! [`csv::CsvWriter`], [`json::JsonWriter`] and [`dedupe::duplicate_candidates`].

pub mod csv;
pub mod dedupe;
pub mod encoding;
pub mod json;
pub mod orders;
pub mod vcard;

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use crate::domain::{ContactDraft, check_email, check_phone};

pub use self::csv::{ColumnMap, CsvReader, CsvWriter};
pub use dedupe::{DuplicatePair, Likely, duplicate_candidates, duplicates_of};
pub use json::{JsonItem, JsonReader, JsonRecord, JsonWriter, check_header_anywhere};
pub use vcard::{VcardReader, VcardVersion};

/// One contact read from a file, ready for [`ContactDraft::into_contact`].
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRecord {
    /// 1-based line of the file where the card / row / record starts.
    pub line: u64,
    pub draft: ContactDraft,
    /// Things the user should know (bytes replaced, values dropped), each naming its line.
    pub warnings: Vec<String>,
}

/// A card / row / record that could not be read; the rest of the file still imports.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", column.map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct ImportProblem {
    /// 1-based line of the file where the problem is (for JSON: the bad value itself, not the
    /// start of its record).
    pub line: u64,
    /// 1-based column (in characters) on that line, when the reader knows it (JSON).
    pub column: Option<u64>,
    pub message: String,
}

impl ImportProblem {
    pub fn new(line: u64, message: impl Into<String>) -> Self {
        ImportProblem {
            line,
            column: None,
            message: message.into(),
        }
    }

    pub fn at(line: u64, column: u64, message: impl Into<String>) -> Self {
        ImportProblem {
            line,
            column: Some(column),
            message: message.into(),
        }
    }
}

/// Failures that stop a whole import or export before any record (bad header, mapping file,
/// unreadable input). Per-record trouble is an [`ImportProblem`] instead.
#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty: no header row")]
    EmptyCsv,
    #[error("line {line}: the CSV header cannot be read: {message}")]
    CsvHeader { line: u64, message: String },
    #[error(
        "no column of this CSV is known (first columns: {columns}); describe them in a mapping file, lines like `\"Mail\" = \"email\"`, and import with --map FILE (README: \"CSV column mapping\")"
    )]
    UnknownColumns { columns: String },
    #[error("mapping file {file}: {message}")]
    Mapping { file: String, message: String },
    #[error(
        "mapping file {file}: column `{column}` maps to `{field}`, which is not a field ({known})"
    )]
    MappingField {
        file: String,
        column: String,
        field: String,
        known: &'static str,
    },
    #[error("line {line}: not a rolo JSON export: {message}")]
    JsonHeader { line: u64, message: String },
    #[error("the format of `{0}` cannot be told from its name or content; use --format")]
    UnknownFormat(String),
}

/// The file formats rolo reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Vcard,
    Csv,
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Vcard => "vcard",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// From the file extension, else from the first bytes (`head`, a few hundred bytes is
    /// plenty): `BEGIN:VCARD` → vCard, `{` → JSON, anything else with a comma, semicolon or tab
    /// in its first line → CSV.
    pub fn detect(path: Option<&Path>, head: &[u8]) -> Option<Format> {
        let ext = path
            .and_then(Path::extension)
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("vcf" | "vcard") => return Some(Format::Vcard),
            Some("csv" | "tsv") => return Some(Format::Csv),
            Some("json") => return Some(Format::Json),
            _ => {}
        }
        let (text, _) = encoding::decode_head(head);
        let trimmed = text.trim_start();
        let first_line = trimmed.lines().next().unwrap_or("");
        if first_line.to_ascii_uppercase().starts_with("BEGIN:VCARD") {
            Some(Format::Vcard)
        } else if trimmed.starts_with('{') {
            Some(Format::Json)
        } else if first_line.contains([',', ';', '\t']) {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vcard" | "vcf" => Ok(Format::Vcard),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(format!("`{s}` is not one of: vcard, csv, json")),
        }
    }
}

/// What the user may say about an input file (`--encoding`, `--map`).
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Forces the text encoding; otherwise BOMs are honoured, UTF-8 is assumed, and a CSV whose
    /// first 64 KiB hold more non-UTF-8 sequences than UTF-8 letters is read as Windows-1252
    /// (with a warning naming the line; see `encoding::Utf8Evidence`).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// CSV only: which column holds what, replacing header recognition.
    pub mapping: Option<ColumnMap>,
}

/// The records of `input` as drafts, one at a time. JSON records lose their timeline and deals
/// here; a lossless restore uses [`JsonReader`] directly.
pub fn read_records<'a, R: BufRead + 'a>(
    format: Format,
    input: R,
    options: &ImportOptions,
) -> Result<Box<dyn Iterator<Item = Result<ImportRecord, ImportProblem>> + 'a>, InteropError> {
    Ok(match format {
        Format::Vcard => Box::new(VcardReader::with_encoding(input, options.encoding)),
        Format::Csv => Box::new(CsvReader::new(
            input,
            options.encoding,
            options.mapping.clone(),
        )?),
        Format::Json => Box::new(JsonReader::new(input)?.map(|r| {
            r.map(|(line, record)| ImportRecord {
                line,
                draft: json::draft_from(&record),
                warnings: Vec::new(),
            })
        })),
    })
}

/// Shared last step of every reader: drops contact points the store would refuse (each with a
/// warning) and turns a draft with no name, email or phone into an [`ImportProblem`].
pub(crate) fn finish(
    line: u64,
    mut draft: ContactDraft,
    mut warnings: Vec<String>,
) -> Result<ImportRecord, ImportProblem> {
    draft.emails.retain(|e| {
        let value = crate::domain::text::clean_line(&e.value);
        if value.is_empty() {
            return false;
        }
        match check_email(&value) {
            Ok(()) => true,
            Err(msg) => {
                warnings.push(format!("line {line}: {msg}; dropped"));
                false
            }
        }
    });
    draft.phones.retain(|p| {
        let value = crate::domain::text::clean_line(&p.value);
        if value.is_empty() {
            return false;
        }
        match check_phone(&value) {
            Ok(()) => true,
            Err(msg) => {
                warnings.push(format!("line {line}: {msg}; dropped"));
                false
            }
        }
    });
    // Not a trial `into_contact`: that would double the sanitising cost of every import. The
    // store's `into_contact` stays the gate (it still refuses e.g. a name over 200 characters).
    if draft_is_empty(&draft) {
        return Err(ImportProblem::new(line, "no usable name, email or phone"));
    }
    Ok(ImportRecord {
        line,
        draft,
        warnings,
    })
}

fn draft_is_empty(d: &ContactDraft) -> bool {
    use crate::domain::text::clean_line;
    clean_line(&d.name).is_empty()
        && clean_line(&d.given_name).is_empty()
        && clean_line(&d.family_name).is_empty()
        && d.emails.is_empty()
        && d.phones.is_empty()
}

/// Parses the birthday spellings found in the wild: `1990-05-17`, `19900517`, `--0517`,
/// `--05-17`, `1990-05-17T00:00:00Z`, and (with `order`) `05/17/1990`, `17.5.1990`.
pub(crate) fn parse_birthday(
    raw: &str,
    order: DateOrder,
) -> Result<Option<crate::domain::Birthday>, String> {
    use crate::domain::Birthday;
    let t = raw.trim();
    let t = t.split(['T', ' ']).next().unwrap_or("").trim();
    if t.is_empty() || matches!(t, "0/0/00" | "00/00/0000" | "0.0.00" | "0.0.0000") {
        return Ok(None);
    }
    let bad = || format!("`{raw}` is not a birthday");
    let build = |year: Option<i32>, month: u32, day: u32| -> Result<Option<Birthday>, String> {
        let year = match year {
            Some(y) => Some(i16::try_from(y).map_err(|_| bad())?),
            None => None,
        };
        let month = u8::try_from(month).map_err(|_| bad())?;
        let day = u8::try_from(day).map_err(|_| bad())?;
        let text = match year {
            Some(y) => format!("{y:04}-{month:02}-{day:02}"),
            None => format!("--{month:02}-{day:02}"),
        };
        text.parse::<Birthday>().map(Some).map_err(|_| bad())
    };
    let num = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) || s.len() > 4 {
            Err(bad())
        } else {
            s.parse::<u32>().map_err(|_| bad())
        }
    };
    if let Some(rest) = t.strip_prefix("--") {
        let digits: String = rest.chars().filter(|c| *c != '-').collect();
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        return build(None, num(&digits[..2])?, num(&digits[2..])?);
    }
    if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()) {
        return build(Some(num(&t[..4])? as i32), num(&t[4..6])?, num(&t[6..])?);
    }
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let (a, b, c) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if parts[0].len() == 4 {
        return build(Some(a as i32), b, c);
    }
    let year = if parts[2].len() <= 2 {
        // Two-digit years: 00-29 → 2000s, else 1900s (a birthday is in the past).
        if c < 30 { 2000 + c } else { 1900 + c }
    } else {
        c
    };
    let dotted = t.contains('.');
    let (month, day) = match order {
        _ if dotted => (b, a),
        DateOrder::MonthFirst if a > 12 => (b, a),
        DateOrder::MonthFirst => (a, b),
        DateOrder::DayFirst if b > 12 => (a, b),
        DateOrder::DayFirst => (b, a),
    };
    build(Some(year as i32), month, day)
}

/// How to read `01/02/1990`: US Outlook writes month first, French and most others day first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateOrder {
    MonthFirst,
    DayFirst,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdays_in_the_wild() {
        let p = |s: &str| {
            parse_birthday(s, DateOrder::MonthFirst)
                .unwrap()
                .map(|b| b.to_string())
        };
        assert_eq!(p("1990-05-17").as_deref(), Some("1990-05-17"));
        assert_eq!(p("19900517").as_deref(), Some("1990-05-17"));
        assert_eq!(p("--0517").as_deref(), Some("--05-17"));
        assert_eq!(p("--05-17").as_deref(), Some("--05-17"));
        assert_eq!(p("5/17/1990").as_deref(), Some("1990-05-17"));
        assert_eq!(p("05/17/1990").as_deref(), Some("1990-05-17"));
        assert_eq!(p("17.5.1990").as_deref(), Some("1990-05-17"));
        assert_eq!(p("1990-05-17T00:00:00Z").as_deref(), Some("1990-05-17"));
        assert_eq!(p("0/0/00"), None);
        assert_eq!(p(""), None);
        assert!(parse_birthday("soon", DateOrder::MonthFirst).is_err());
        assert!(parse_birthday("--1345", DateOrder::MonthFirst).is_err());
        assert!(parse_birthday("--1é1", DateOrder::MonthFirst).is_err());
        assert!(parse_birthday("é/1/2000", DateOrder::MonthFirst).is_err());
        assert_eq!(
            parse_birthday("01/02/1990", DateOrder::DayFirst)
                .unwrap()
                .map(|b| b.to_string())
                .as_deref(),
            Some("1990-02-01")
        );
    }

    #[test]
    fn formats_are_detected() {
        assert_eq!(
            Format::detect(Some(Path::new("a.VCF")), b""),
            Some(Format::Vcard)
        );
        assert_eq!(
            Format::detect(None, b"\xEF\xBB\xBFBEGIN:VCARD\r\n"),
            Some(Format::Vcard)
        );
        assert_eq!(
            Format::detect(None, b"{\"format\":\"rolo\""),
            Some(Format::Json)
        );
        assert_eq!(Format::detect(None, b"Name,Email\n"), Some(Format::Csv));
        assert_eq!(Format::detect(None, b"hello"), None);
    }
}
