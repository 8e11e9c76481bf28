//! rolo's own lossless export: a format-versioned JSON document, written and read one contact
//! at a time. Resolving ids is the importer's business (a restore into an empty database keeps
//! them; a merge into a populated one assigns new ones and relinks timeline entries and deals).
//! A full export adds, after `contacts`, the arrays `trash`, `organizations`, `audit` and
//! `undone` (one element per line, streamed like contacts) and the object `counters`.
//!
//! The writer puts one contact per line inside the array:
//!
//! ```text
//! {"format":"rolo","version":1,"contacts":[
//! {"contact":{…},"organization":"Acme","timeline":[…],"deals":[…]},
//! {"contact":{…},"organization":null,"timeline":[],"deals":[]}
//! ]}
//! ```
//!
//! Streaming choice: serde_json can only stream a top-level sequence of values, not the elements
//! of an array inside an object, so the reader is a small byte scanner we control. It walks the
//! top-level object (checking `format` and `version`, which must precede `contacts`), then cuts
//! each array element out by bracket depth (string- and escape-aware) and hands that slice to
//! serde_json. It does not depend on the line layout, so pretty-printed or hand-edited files
//! read too, and memory stays at one record.

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::domain::text::EscapingFormatter;
use crate::domain::{Contact, ContactDraft, Deal, Entry, Organization};
use crate::store::{AuditEntry, TrashBundle};

use super::{ImportProblem, InteropError};

/// The `format` value of rolo's JSON export.
pub const FORMAT_NAME: &str = "rolo";
/// The newest `version` this build reads and the one it writes.
pub const FORMAT_VERSION: u64 = 1;

/// Largest single record accepted (bytes), so a damaged file cannot exhaust memory.
const MAX_RECORD: usize = 64 * 1024 * 1024;

/// One contact with everything hanging off it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsonRecord {
    pub contact: Contact,
    /// The organisation's name (organisations are matched by name on import).
    pub organization: Option<String>,
    #[serde(default)]
    pub timeline: Vec<Entry>,
    #[serde(default)]
    pub deals: Vec<Deal>,
}

/// The contact of a record as a draft (for importing it like any other file).
pub fn draft_from(record: &JsonRecord) -> ContactDraft {
    let c = &record.contact;
    ContactDraft {
        name: c.name.clone(),
        given_name: c.given_name.clone(),
        family_name: c.family_name.clone(),
        organization: record.organization.clone().unwrap_or_default(),
        title: c.title.clone(),
        emails: c.emails.clone(),
        phones: c.phones.clone(),
        addresses: c.addresses.clone(),
        birthday: c.birthday,
        language: c.language.clone(),
        preferred_channel: c.preferred_channel,
        stage: Some(c.stage),
        tier: c.tier.clone(),
        owner: c.owner.clone(),
        source: c.source.clone(),
        tags: c.tags.clone(),
        custom: c.custom.clone(),
        consent: c.consent.clone(),
        notes: c.notes.clone(),
        uid: c.uid.clone(),
    }
}

/// `value` as compact JSON in which every character the sanitiser would drop (C1 controls,
/// bidi overrides, invisible characters) is a `\uXXXX` escape: the file means the same, but
/// viewing it (`less`, `cat`, an editor) cannot drive the terminal or reorder text.
fn write_safe<W: Write>(out: &mut W, value: &impl Serialize) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        out,
        EscapingFormatter(serde_json::ser::CompactFormatter),
    );
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Writes the export document record by record; call [`JsonWriter::finish`] at the end.
pub struct JsonWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        write!(
            out,
            "{{\"format\":\"{FORMAT_NAME}\",\"version\":{FORMAT_VERSION},\"contacts\":["
        )?;
        Ok(JsonWriter { out, written: 0 })
    }

    pub fn write(&mut self, record: &JsonRecord) -> io::Result<()> {
        self.element(record)
    }

    /// Writes one element of the array being written, on its own line.
    pub fn element(&mut self, value: &impl Serialize) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
        write_safe(&mut self.out, value)?;
        self.written += 1;
        Ok(())
    }

    /// Closes the array being written and opens another top-level member holding an array
    /// (the full export's `trash`, `organizations`, `audit`, `undone`), filled with
    /// [`JsonWriter::element`].
    pub fn next_array(&mut self, key: &str) -> io::Result<()> {
        self.out.write_all(b"\n],")?;
        write_safe(&mut self.out, &key)?;
        self.out.write_all(b":[")?;
        self.written = 0;
        Ok(())
    }

    /// Closes the contacts array, adds one more top-level member (readers skip members they do
    /// not know, so the document still imports) and closes the document.
    pub fn finish_with(mut self, key: &str, value: &impl Serialize) -> io::Result<W> {
        self.out.write_all(b"\n],")?;
        write_safe(&mut self.out, &key)?;
        self.out.write_all(b":")?;
        let mut ser = serde_json::Serializer::with_formatter(
            &mut self.out,
            EscapingFormatter(serde_json::ser::PrettyFormatter::new()),
        );
        value.serialize(&mut ser).map_err(io::Error::from)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Closes the document and hands the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One element of a rolo JSON export: a contact (the `contacts` array), or part of what a full
/// export carries after it so a restore into an empty database gives back the whole database:
/// the trash, the organisations, the audit trail, which audit entries were undone, and the id
/// counters.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum JsonItem {
    Contact(JsonRecord),
    Trash(TrashBundle),
    Organization(Organization),
    Audit(AuditEntry),
    /// `(undone audit seq, seq of the undo)`.
    Undone(u64, u64),
    Counters(BTreeMap<String, u64>),
}

/// The arrays of a rolo JSON export, read element by element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArrayKind {
    Contacts,
    Trash,
    Organizations,
    Audit,
    Undone,
}

impl ArrayKind {
    fn from_key(key: &str) -> Option<ArrayKind> {
        Some(match key {
            "trash" => ArrayKind::Trash,
            "organizations" => ArrayKind::Organizations,
            "audit" => ArrayKind::Audit,
            "undone" => ArrayKind::Undone,
            _ => return None,
        })
    }

    /// What one element of this array is, for messages.
    fn element_name(self) -> &'static str {
        match self {
            ArrayKind::Contacts => "contact record",
            ArrayKind::Trash => "trash entry",
            ArrayKind::Organizations => "organization",
            ArrayKind::Audit => "audit entry",
            ArrayKind::Undone => "pair of audit entry numbers",
        }
    }

    fn parse(self, raw: &[u8]) -> Result<JsonItem, serde_json::Error> {
        Ok(match self {
            ArrayKind::Contacts => JsonItem::Contact(serde_json::from_slice(raw)?),
            ArrayKind::Trash => JsonItem::Trash(serde_json::from_slice(raw)?),
            ArrayKind::Organizations => JsonItem::Organization(serde_json::from_slice(raw)?),
            ArrayKind::Audit => JsonItem::Audit(serde_json::from_slice(raw)?),
            ArrayKind::Undone => {
                let (a, b) = serde_json::from_slice(raw)?;
                JsonItem::Undone(a, b)
            }
        })
    }
}

/// Where in the file serde_json's error inside `raw` (a value that starts at `line`, `column`
/// of the file) is, as `(line, column)` with the column in characters, and its message
/// without serde_json's own position (which counts from the start of the value, not the file).
fn locate(raw: &[u8], line: u64, column: u64, e: &serde_json::Error) -> (u64, u64, String) {
    let message = e.to_string();
    let message = message
        .strip_suffix(&format!(" at line {} column {}", e.line(), e.column()))
        .map_or(message.clone(), str::to_string);
    if e.line() == 0 {
        return (line, column, message);
    }
    // serde_json counts lines from 1 and columns as the bytes read on that line.
    let mut rest = raw;
    for _ in 1..e.line() {
        match rest.iter().position(|b| *b == b'\n') {
            Some(at) => rest = &rest[at + 1..],
            None => break,
        }
    }
    let on_line = &rest[..rest.len().min(e.column())];
    let chars = on_line.iter().filter(|b| (**b & 0xC0) != 0x80).count() as u64;
    let chars = chars.max(1);
    if e.line() == 1 {
        (line, column + chars - 1, message)
    } else {
        (line + e.line() as u64 - 1, chars, message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Array(ArrayKind),
    /// Between the top-level members after the `contacts` array.
    Members,
    Done,
}

/// Streams `(line, record)` pairs out of a rolo JSON export (as an iterator: the contacts; with
/// [`JsonReader::next_item`]: everything).
pub struct JsonReader<R> {
    input: R,
    line: u64,
    /// 1-based column (in characters) of the next byte on `line`.
    column: u64,
    /// Cut array elements out without parsing them ([`check_header_anywhere`]).
    skim: bool,
    first: bool,
    section: Section,
    /// `format` / `version` were not before `contacts`: they are checked after the array.
    deferred_check: bool,
    /// `format` / `version` found after the `contacts` array.
    tail: Members,
}

#[derive(Default)]
struct Members {
    format: Option<String>,
    version: Option<u64>,
    at_contacts: bool,
}

fn check_header(m: &Members) -> Result<(), String> {
    match m.format.as_deref() {
        Some(FORMAT_NAME) => {}
        Some(other) => {
            return Err(format!("its `format` is `{other}`, not `{FORMAT_NAME}`"));
        }
        None => return Err(format!("`\"format\": \"{FORMAT_NAME}\"` is missing")),
    }
    match m.version {
        Some(v) if v <= FORMAT_VERSION => Ok(()),
        Some(v) => Err(format!(
            "version {v} was written by a newer rolo (this one reads up to {FORMAT_VERSION})"
        )),
        None => Err("`version` is missing".into()),
    }
}

type Scan<T> = Result<T, String>;

impl<R> std::fmt::Debug for JsonReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonReader")
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> JsonReader<R> {
    /// Reads and checks the document header up to the start of the `contacts` array.
    pub fn new(input: R) -> Result<Self, InteropError> {
        let mut reader = JsonReader {
            input,
            line: 1,
            column: 1,
            skim: false,
            first: true,
            section: Section::Array(ArrayKind::Contacts),
            deferred_check: false,
            tail: Members::default(),
        };
        reader.skip_bom()?;
        reader.skip_ws()?;
        if reader.bump()? != Some(b'{') {
            return Err(InteropError::JsonHeader {
                line: reader.line,
                message: "it does not start with `{`".into(),
            });
        }
        let members = reader.members(true)?;
        if !members.at_contacts {
            return Err(InteropError::JsonHeader {
                line: reader.line,
                message: "there is no `contacts` array".into(),
            });
        }
        if members.format.is_none() && members.version.is_none() {
            // Key-sorting tools put `contacts` first: check the header after the array.
            reader.deferred_check = true;
        } else {
            check_header(&members).map_err(|message| InteropError::JsonHeader {
                line: reader.line,
                message,
            })?;
        }
        if reader.bump()? != Some(b'[') {
            return Err(InteropError::JsonHeader {
                line: reader.line,
                message: "`contacts` is not an array".into(),
            });
        }
        Ok(reader)
    }

    /// Reads `"key": value` members of the top-level object, stopping before the `contacts`
    /// value when `stop_at_contacts`, else at the closing `}`.
    fn members(&mut self, stop_at_contacts: bool) -> Result<Members, InteropError> {
        let mut members = Members::default();
        let err = |line: u64, message: String| InteropError::JsonHeader { line, message };
        loop {
            self.skip_ws()?;
            match self.peek()? {
                Some(b',') => {
                    self.bump()?;
                    continue;
                }
                Some(b'"') => {}
                Some(b'}') | None => return Ok(members),
                Some(other) => {
                    return Err(err(
                        self.line,
                        format!("unexpected `{}`", char::from(other)),
                    ));
                }
            }
            let mut raw = Vec::new();
            self.capture(&mut raw)?.map_err(|m| err(self.line, m))?;
            let key: String = serde_json::from_slice(&raw)
                .map_err(|e| err(self.line, format!("bad key: {e}")))?;
            self.skip_ws()?;
            if self.bump()? != Some(b':') {
                return Err(err(self.line, format!("`:` expected after `{key}`")));
            }
            self.skip_ws()?;
            if key == "contacts" && stop_at_contacts {
                members.at_contacts = true;
                return Ok(members);
            }
            raw.clear();
            self.capture(&mut raw)?.map_err(|m| err(self.line, m))?;
            let value: serde_json::Value = serde_json::from_slice(&raw)
                .map_err(|e| err(self.line, format!("bad value of `{key}`: {e}")))?;
            match key.as_str() {
                "format" => members.format = Some(value.as_str().unwrap_or("?").to_string()),
                "version" => members.version = Some(value.as_u64().unwrap_or(u64::MAX)),
                _ => {}
            }
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.input.fill_buf() {
                Ok(b) => return Ok(b.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn bump(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.input.consume(1);
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                self.column += 1;
            }
        }
        Ok(b)
    }

    fn skip_ws(&mut self) -> io::Result<()> {
        while matches!(self.peek()?, Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump()?;
        }
        Ok(())
    }

    fn skip_bom(&mut self) -> io::Result<()> {
        let has_bom = self.input.fill_buf()?.starts_with(b"\xEF\xBB\xBF");
        if has_bom {
            self.input.consume(3);
        }
        Ok(())
    }

    /// Copies one JSON value (object, array, string or scalar) into `out` without parsing it.
    fn capture(&mut self, out: &mut Vec<u8>) -> io::Result<Scan<()>> {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let Some(b) = self.peek()? else {
                return Ok(if depth == 0 && !in_string && !out.is_empty() {
                    Ok(())
                } else {
                    Err("the file ends in the middle of a value".into())
                });
            };
            if out.len() >= MAX_RECORD {
                return Ok(Err(format!("a value longer than {MAX_RECORD} bytes")));
            }
            if in_string {
                self.bump()?;
                out.push(b);
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                    if depth == 0 {
                        return Ok(Ok(()));
                    }
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => return Ok(Ok(())),
                b'}' | b']' => depth -= 1,
                b',' | b' ' | b'\t' | b'\r' | b'\n' if depth == 0 => return Ok(Ok(())),
                _ => {}
            }
            self.bump()?;
            out.push(b);
            if depth == 0 && matches!(b, b'}' | b']') {
                return Ok(Ok(()));
            }
        }
    }

    /// The next element of any array of the document, in file order.
    pub fn next_item(&mut self) -> Option<Result<(u64, JsonItem), ImportProblem>> {
        match self.next_inner() {
            Ok(item) => item,
            Err(e) => {
                self.section = Section::Done;
                Some(Err(ImportProblem::new(
                    self.line,
                    format!("cannot read further: {e}"),
                )))
            }
        }
    }

    fn stop(
        &mut self,
        line: u64,
        message: impl Into<String>,
    ) -> Option<Result<(u64, JsonItem), ImportProblem>> {
        self.section = Section::Done;
        Some(Err(ImportProblem::new(line, message)))
    }

    fn next_inner(&mut self) -> io::Result<Option<Result<(u64, JsonItem), ImportProblem>>> {
        loop {
            match self.section {
                Section::Done => return Ok(None),
                Section::Array(kind) => {
                    self.skip_ws()?;
                    if !self.first && self.peek()? == Some(b',') {
                        self.bump()?;
                        self.skip_ws()?;
                    }
                    match self.peek()? {
                        Some(b']') => {
                            self.bump()?;
                            self.section = Section::Members;
                            continue;
                        }
                        None => {
                            self.section = Section::Done;
                            return Ok(None);
                        }
                        _ => {}
                    }
                    self.first = false;
                    let (line, column) = (self.line, self.column);
                    let mut raw = Vec::new();
                    if let Err(message) = self.capture(&mut raw)? {
                        return Ok(self.stop(line, message));
                    }
                    if raw.is_empty() {
                        // Not a value at all (stray punctuation): report once and stop.
                        let what = if kind == ArrayKind::Contacts {
                            "a contact record was expected here"
                        } else {
                            "a value was expected here"
                        };
                        return Ok(self.stop(line, what));
                    }
                    if self.skim {
                        continue;
                    }
                    return Ok(Some(kind.parse(&raw).map(|item| (line, item)).map_err(
                        |e| {
                            let (line, column, message) = locate(&raw, line, column, &e);
                            ImportProblem::at(
                                line,
                                column,
                                format!("not a {}: {message}", kind.element_name()),
                            )
                        },
                    )));
                }
                Section::Members => {
                    self.skip_ws()?;
                    let line = self.line;
                    match self.peek()? {
                        Some(b',') => {
                            self.bump()?;
                            continue;
                        }
                        Some(b'"') => {}
                        Some(b'}') | None => {
                            self.bump()?;
                            self.section = Section::Done;
                            if self.deferred_check
                                && let Err(message) = check_header(&self.tail)
                            {
                                return Ok(Some(Err(ImportProblem::new(
                                    line,
                                    format!("not a rolo JSON export: {message}"),
                                ))));
                            }
                            return Ok(None);
                        }
                        Some(other) => {
                            return Ok(
                                self.stop(line, format!("unexpected `{}`", char::from(other)))
                            );
                        }
                    }
                    let mut raw = Vec::new();
                    if let Err(message) = self.capture(&mut raw)? {
                        return Ok(self.stop(line, message));
                    }
                    let Ok(key) = serde_json::from_slice::<String>(&raw) else {
                        return Ok(self.stop(line, "a member name was expected here"));
                    };
                    self.skip_ws()?;
                    if self.bump()? != Some(b':') {
                        return Ok(self.stop(line, format!("`:` expected after `{key}`")));
                    }
                    self.skip_ws()?;
                    if let Some(kind) = ArrayKind::from_key(&key)
                        && self.peek()? == Some(b'[')
                    {
                        self.bump()?;
                        self.first = true;
                        self.section = Section::Array(kind);
                        continue;
                    }
                    raw.clear();
                    if let Err(message) = self.capture(&mut raw)? {
                        return Ok(self.stop(line, message));
                    }
                    let value: serde_json::Value = match serde_json::from_slice(&raw) {
                        Ok(v) => v,
                        Err(e) => return Ok(self.stop(line, format!("bad value of `{key}`: {e}"))),
                    };
                    match key.as_str() {
                        "format" => {
                            self.tail.format = Some(value.as_str().unwrap_or("?").to_string())
                        }
                        "version" => self.tail.version = Some(value.as_u64().unwrap_or(u64::MAX)),
                        "counters" => {
                            return Ok(Some(
                                serde_json::from_value(value)
                                    .map(|c| (line, JsonItem::Counters(c)))
                                    .map_err(|e| {
                                        ImportProblem::new(line, format!("bad counters: {e}"))
                                    }),
                            ));
                        }
                        // Members this build does not restore (`history` of a one-person
                        // export, newer additions) are skipped.
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Checks the document's header (`format`, `version`) wherever it is, before anything is
/// imported: at the top (the usual case, read at once), or after the `contacts` array as
/// key-sorting tools put it, in which case the rest of the file is skimmed (arrays cut out by
/// bracket depth, not parsed). Call it on a second reader of the same file before importing
/// from [`JsonReader`]; a file whose header cannot be found or is wrong imports nothing.
pub fn check_header_anywhere<R: BufRead>(input: R) -> Result<(), InteropError> {
    let mut reader = JsonReader::new(input)?;
    if !reader.deferred_check {
        return Ok(());
    }
    reader.deferred_check = false;
    reader.skim = true;
    while let Some(item) = reader.next_item() {
        if let Err(problem) = item {
            return Err(InteropError::JsonHeader {
                line: problem.line,
                message: format!(
                    "`format` and `version` were not before `contacts`, and the rest of the \
                     file cannot be read to find them: {}",
                    problem.message
                ),
            });
        }
    }
    check_header(&reader.tail).map_err(|message| InteropError::JsonHeader {
        line: reader.line,
        message,
    })
}

impl<R: BufRead> JsonReader<R> {
    /// Refuses a document whose header is not before `contacts`: for input that cannot be read
    /// twice (a pipe), where [`check_header_anywhere`] cannot look ahead.
    pub fn require_header_first(self) -> Result<Self, InteropError> {
        if self.deferred_check {
            return Err(InteropError::JsonHeader {
                line: self.line,
                message: "`format` and `version` must come before `contacts` when the file \
                          is read from a pipe (save it to a file first)"
                    .into(),
            });
        }
        Ok(self)
    }
}

/// The contacts only (what the rest of the document holds is read and checked, not returned).
impl<R: BufRead> Iterator for JsonReader<R> {
    type Item = Result<(u64, JsonRecord), ImportProblem>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_item()? {
                Ok((line, JsonItem::Contact(record))) => return Some(Ok((line, record))),
                Ok(_) => {}
                Err(problem) => return Some(Err(problem)),
            }
        }
    }
}
