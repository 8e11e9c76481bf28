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
        serde_json::to_writer(&mut self.out, record).map_err(io::Error::other)?;
        self.written += 1;
        Ok(())
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
}

type Scan<T> = Result<T, String>;

impl<R: BufRead> JsonReader<R> {
    /// Reads and checks the document header up to the start of the `contacts` array.
    pub fn new(input: R) -> Result<Self, InteropError> {
        let mut reader = JsonReader {
            input,
            line: 1,
            first: true,
            done: false,
        };
        let header_err = |line: u64, message: String| InteropError::JsonHeader { line, message };
        reader.skip_bom()?;
        reader.skip_ws()?;
        if reader.bump()? != Some(b'{') {
            return Err(header_err(reader.line, "it does not start with `{`".into()));
        }
        let mut format: Option<String> = None;
        let mut version: Option<u64> = None;
        loop {
            reader.skip_ws()?;
            match reader.peek()? {
                Some(b',') => {
                    reader.bump()?;
                    continue;
                }
                Some(b'"') => {}
                Some(b'}') | None => {
                    return Err(header_err(
                        reader.line,
                        "there is no `contacts` array".into(),
                    ));
                }
                Some(other) => {
                    return Err(header_err(
                        reader.line,
                        format!("unexpected `{}`", char::from(other)),
                    ));
                }
            }
            let mut raw = Vec::new();
            reader
                .capture(&mut raw)?
                .map_err(|m| header_err(reader.line, m))?;
            let key: String = serde_json::from_slice(&raw)
                .map_err(|e| header_err(reader.line, format!("bad key: {e}")))?;
            reader.skip_ws()?;
            if reader.bump()? != Some(b':') {
                return Err(header_err(
                    reader.line,
                    format!("`:` expected after `{key}`"),
                ));
            }
            reader.skip_ws()?;
            if key == "contacts" {
                if format.as_deref() != Some(FORMAT_NAME) {
                    return Err(header_err(
                        reader.line,
                        format!("`\"format\": \"{FORMAT_NAME}\"` must come before the contacts"),
                    ));
                }
                match version {
                    Some(v) if v <= FORMAT_VERSION => {}
                    Some(v) => {
                        return Err(header_err(
                            reader.line,
                            format!(
                                "version {v} was written by a newer rolo (this one reads up to {FORMAT_VERSION})"
                            ),
                        ));
                    }
                    None => {
                        return Err(header_err(
                            reader.line,
                            "`version` must come before the contacts".into(),
                        ));
                    }
                }
                if reader.bump()? != Some(b'[') {
                    return Err(header_err(reader.line, "`contacts` is not an array".into()));
                }
                return Ok(reader);
            }
            raw.clear();
            reader
                .capture(&mut raw)?
                .map_err(|m| header_err(reader.line, m))?;
            let value: serde_json::Value = serde_json::from_slice(&raw)
                .map_err(|e| header_err(reader.line, format!("bad value of `{key}`: {e}")))?;
            match key.as_str() {
                "format" => format = value.as_str().map(str::to_string),
                "version" => version = value.as_u64(),
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
            Some(b']') | None => {
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
