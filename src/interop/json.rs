//! rolo's own lossless export: a format-versioned JSON document, written and read one contact
//! at a time. It must not resolve ids: ids in the file are informative, the store assigns new
//! ones and relinks timeline entries and deals.
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

use crate::domain::{Contact, ContactDraft, Deal, Entry};

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
        self.out
            .write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, record).map_err(io::Error::from)?;
        self.written += 1;
        Ok(())
    }

    /// Closes the contacts array, adds one more top-level member (readers skip members they do
    /// not know, so the document still imports) and closes the document.
    pub fn finish_with(mut self, key: &str, value: &impl Serialize) -> io::Result<W> {
        self.out.write_all(b"\n],")?;
        serde_json::to_writer(&mut self.out, key).map_err(io::Error::from)?;
        self.out.write_all(b":")?;
        serde_json::to_writer_pretty(&mut self.out, value).map_err(io::Error::from)?;
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

/// Streams `(line, record)` pairs out of a rolo JSON export.
pub struct JsonReader<R> {
    input: R,
    line: u64,
    first: bool,
    done: bool,
    /// `format` / `version` were not before `contacts`: they are checked after the array.
    deferred_check: bool,
}

#[derive(Default)]
struct Members {
    format: Option<String>,
    version: Option<u64>,
    at_contacts: bool,
}

fn check_header(m: &Members) -> Result<(), String> {
    if m.format.as_deref() != Some(FORMAT_NAME) {
        return Err(format!("`\"format\": \"{FORMAT_NAME}\"` is missing"));
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
            first: true,
            done: false,
            deferred_check: false,
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

    fn next_record(&mut self) -> io::Result<Option<Result<(u64, JsonRecord), ImportProblem>>> {
        if self.done {
            return Ok(None);
        }
        self.skip_ws()?;
        if !self.first && self.peek()? == Some(b',') {
            self.bump()?;
            self.skip_ws()?;
        }
        match self.peek()? {
            Some(b']') => {
                self.done = true;
                self.bump()?;
                if self.deferred_check {
                    let line = self.line;
                    let members = match self.members(false) {
                        Ok(m) => m,
                        Err(e) => return Ok(Some(Err(ImportProblem::new(line, e.to_string())))),
                    };
                    if let Err(message) = check_header(&members) {
                        return Ok(Some(Err(ImportProblem::new(
                            line,
                            format!("not a rolo JSON export: {message}"),
                        ))));
                    }
                }
                return Ok(None);
            }
            None => {
                self.done = true;
                return Ok(None);
            }
            _ => {}
        }
        self.first = false;
        let line = self.line;
        let mut raw = Vec::new();
        if let Err(message) = self.capture(&mut raw)? {
            self.done = true;
            return Ok(Some(Err(ImportProblem::new(line, message))));
        }
        if raw.is_empty() {
            // Not a value at all (stray punctuation): report once and stop.
            self.done = true;
            return Ok(Some(Err(ImportProblem::new(
                line,
                "a contact record was expected here",
            ))));
        }
        Ok(Some(
            serde_json::from_slice::<JsonRecord>(&raw)
                .map(|r| (line, r))
                .map_err(|e| ImportProblem::new(line, format!("not a contact record: {e}"))),
        ))
    }
}

impl<R: BufRead> Iterator for JsonReader<R> {
    type Item = Result<(u64, JsonRecord), ImportProblem>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(item) => item,
            Err(e) => {
                self.done = true;
                Some(Err(ImportProblem::new(
                    self.line,
                    format!("cannot read further: {e}"),
                )))
            }
        }
    }
}
