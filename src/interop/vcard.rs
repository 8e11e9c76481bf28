//! vCard 2.1 / 3.0 / 4.0: a streaming reader that turns each card into a [`ContactDraft`], and a
//! writer for 3.0 (default) and 4.0. It must not hold more than one card (and one capped logical
//! line) in memory, and must not panic or give up on a file because of one bad card.
//!
//! Reading copes with what real exporters write: folded lines (one leading space or tab removed,
//! so vobject's two-space continuations keep their space), CRLF or LF, a BOM, 2.1
//! `QUOTED-PRINTABLE` with soft line breaks and `CHARSET=`, bare 2.1 types (`TEL;WORK;VOICE`),
//! Apple groups (`item1.EMAIL` + `item1.X-ABLabel`), invalid UTF-8 (abook cuts values
//! mid-character: replaced with U+FFFD and warned about), missing `VERSION` or `END:VCARD`, and
//! embedded PHOTO / LOGO / SOUND / KEY data, which is skipped without being kept in memory.
//!
//! What vCard has no property for travels as `X-ROLO-*` (written and read back): stage, tier,
//! owner, source, `X-ROLO-PREFERRED-CHANNEL`, one `X-ROLO-CONSENT;CHANNEL=…:status;at;source;
//! purpose` per consent statement (oldest first, so an opt-out is never lost), and one
//! `X-ROLO-CUSTOM;X-TYPE=kind:key;value` per custom field.

use std::collections::HashMap;
use std::io::{self, Read, Write};

use crate::domain::{
    Address, At, Birthday, Channel, Consent, ConsentStatus, Contact, ContactDraft, CustomValue,
    Day, Labelled, Stage, text,
};

use super::encoding::{Utf8Reader, decode_value, read_line_capped};
use super::{DateOrder, ImportProblem, ImportRecord, finish, parse_birthday};

/// Longest logical line kept (bytes); longer ones are cut with a warning. Binary properties are
/// never accumulated at all.
const MAX_LOGICAL_LINE: usize = 256 * 1024;

/// Properties whose values are binary blobs we do not keep.
const BINARY_PROPERTIES: [&str; 4] = ["PHOTO", "LOGO", "SOUND", "KEY"];

/// Which vCard version the writer produces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VcardVersion {
    #[default]
    V3,
    V4,
}

impl std::str::FromStr for VcardVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "3" | "3.0" => Ok(VcardVersion::V3),
            "4" | "4.0" => Ok(VcardVersion::V4),
            _ => Err(format!(
                "`{s}` is not a vCard version we write (3.0 or 4.0)"
            )),
        }
    }
}

/// One unfolded line and the file line it started on.
struct Logical {
    line: u64,
    bytes: Vec<u8>,
    cut: bool,
}

enum Source<R> {
    Raw(R, Option<&'static encoding_rs::Encoding>),
    Ready(Utf8Reader<R>),
    Gone,
}

/// Streams cards from a vCard file: one [`ImportRecord`] or [`ImportProblem`] per card.
pub struct VcardReader<R> {
    source: Source<R>,
    /// Physical lines consumed so far.
    line_no: u64,
    peeked: Option<(u64, Vec<u8>, bool)>,
    /// A `BEGIN:VCARD` met inside an unfinished card starts the next card.
    begin_pending: Option<u64>,
    passthrough: bool,
    scratch: Vec<u8>,
}

impl<R: Read> VcardReader<R> {
    pub fn new(input: R) -> Self {
        Self::with_encoding(input, None)
    }

    /// With `encoding` the whole file is transcoded first (`CHARSET=` is then ignored); without,
    /// UTF-16 is recognised by its BOM and anything else read as UTF-8 plus `CHARSET=`.
    pub fn with_encoding(input: R, encoding: Option<&'static encoding_rs::Encoding>) -> Self {
        VcardReader {
            source: Source::Raw(input, encoding),
            line_no: 0,
            peeked: None,
            begin_pending: None,
            passthrough: true,
            scratch: Vec::new(),
        }
    }

    fn physical(&mut self) -> io::Result<Option<(u64, Vec<u8>, bool)>> {
        if let Some(p) = self.peeked.take() {
            return Ok(Some(p));
        }
        if let Source::Raw(..) = self.source {
            let Source::Raw(raw, enc) = std::mem::replace(&mut self.source, Source::Gone) else {
                return Ok(None);
            };
            let reader = Utf8Reader::new(raw, enc, false)?;
            self.passthrough = reader.is_passthrough();
            self.source = Source::Ready(reader);
        }
        let Source::Ready(reader) = &mut self.source else {
            return Ok(None);
        };
        let Some(cut) = read_line_capped(reader, &mut self.scratch, MAX_LOGICAL_LINE)? else {
            return Ok(None);
        };
        self.line_no += 1;
        let mut bytes = std::mem::take(&mut self.scratch);
        while matches!(bytes.last(), Some(b'\n' | b'\r')) {
            bytes.pop();
        }
        Ok(Some((self.line_no, bytes, cut)))
    }

    fn logical(&mut self) -> io::Result<Option<Logical>> {
        let Some((line, mut bytes, mut cut)) = self.physical()? else {
            return Ok(None);
        };
        let head_end = find_colon(&bytes).unwrap_or(bytes.len());
        let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_uppercase();
        let name = head
            .split(';')
            .next()
            .unwrap_or("")
            .rsplit('.')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let binary = BINARY_PROPERTIES.contains(&name.as_str());
        let quoted_printable = head.contains("QUOTED-PRINTABLE");
        if binary {
            bytes.truncate(head_end + 1);
        }
        loop {
            if quoted_printable && bytes.last() == Some(&b'=') {
                // A QP soft line break: the value goes on, unindented, on the next line.
                match self.physical()? {
                    Some((l, next, c)) => {
                        if next.to_ascii_uppercase().starts_with(b"END:VCARD") {
                            self.peeked = Some((l, next, c));
                            break;
                        }
                        bytes.pop();
                        cut |= c || append_capped(&mut bytes, &next);
                        continue;
                    }
                    None => break,
                }
            }
            match self.physical()? {
                Some((_, next, c)) if matches!(next.first(), Some(b' ' | b'\t')) => {
                    if !binary {
                        cut |= c || append_capped(&mut bytes, &next[1..]);
                    }
                }
                Some(other) => {
                    self.peeked = Some(other);
                    break;
                }
                None => break,
            }
        }
        Ok(Some(Logical { line, bytes, cut }))
    }

    fn read_card(&mut self) -> io::Result<Option<Result<ImportRecord, ImportProblem>>> {
        let start = match self.begin_pending.take() {
            Some(line) => line,
            None => loop {
                let Some(l) = self.logical()? else {
                    return Ok(None);
                };
                if is_line(&l.bytes, b"BEGIN:VCARD") {
                    break l.line;
                }
            },
        };
        let mut card = CardBuilder::new(start);
        loop {
            let Some(l) = self.logical()? else {
                card.warnings.push(format!(
                    "line {start}: the card has no END:VCARD (the file ends at line {}); read anyway",
                    self.line_no
                ));
                return Ok(Some(card.finish()));
            };
            if is_line(&l.bytes, b"END:VCARD") {
                return Ok(Some(card.finish()));
            }
            if is_line(&l.bytes, b"BEGIN:VCARD") {
                card.warnings.push(format!(
                    "line {start}: the card has no END:VCARD before the next card at line {}; read anyway",
                    l.line
                ));
                self.begin_pending = Some(l.line);
                return Ok(Some(card.finish()));
            }
            if l.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if l.cut {
                card.warnings.push(format!(
                    "line {}: line longer than {MAX_LOGICAL_LINE} bytes; the rest was dropped",
                    l.line
                ));
            }
            match parse_property(&l, self.passthrough) {
                Ok(prop) => card.apply(prop),
                Err(msg) => card.warnings.push(msg),
            }
        }
    }
}

impl<R: Read> Iterator for VcardReader<R> {
    type Item = Result<ImportRecord, ImportProblem>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.read_card() {
            Ok(item) => item,
            Err(e) => {
                self.source = Source::Gone;
                self.peeked = None;
                Some(Err(ImportProblem::new(
                    self.line_no + 1,
                    format!("cannot read further: {e}"),
                )))
            }
        }
    }
}

fn append_capped(bytes: &mut Vec<u8>, more: &[u8]) -> bool {
    let room = MAX_LOGICAL_LINE.saturating_sub(bytes.len());
    if more.len() > room {
        bytes.extend_from_slice(&more[..room]);
        true
    } else {
        bytes.extend_from_slice(more);
        false
    }
}

fn is_line(bytes: &[u8], wanted: &[u8]) -> bool {
    bytes.trim_ascii().eq_ignore_ascii_case(wanted)
}

/// The first `:` outside double quotes (parameter values may be quoted and hold colons).
fn find_colon(bytes: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// One property: `group.NAME;params:value`, value decoded to text but still vCard-escaped.
struct Property {
    line: u64,
    group: Option<String>,
    name: String,
    types: Vec<String>,
    params: Vec<(String, String)>,
    value: String,
    /// Bytes that were not valid text were replaced with U+FFFD.
    replaced: bool,
}

impl Property {
    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn is_pref(&self) -> bool {
        self.types.iter().any(|t| t == "pref") || self.param("PREF").is_some()
    }
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_property(l: &Logical, passthrough: bool) -> Result<Property, String> {
    let Some(colon) = find_colon(&l.bytes) else {
        let shown: String = String::from_utf8_lossy(&l.bytes).chars().take(40).collect();
        return Err(format!(
            "line {}: `{}` is not a vCard property; ignored",
            l.line,
            text::visible(&shown, false)
        ));
    };
    let head = String::from_utf8_lossy(&l.bytes[..colon]).into_owned();
    let raw_value = &l.bytes[colon + 1..];
    let mut parts = split_outside_quotes(&head, ';').into_iter();
    let full_name = parts.next().unwrap_or("").trim();
    let (group, name) = match full_name.rsplit_once('.') {
        Some((g, n)) => (Some(g.to_ascii_lowercase()), n.to_ascii_uppercase()),
        None => (None, full_name.to_ascii_uppercase()),
    };
    let mut types = Vec::new();
    let mut params = Vec::new();
    let mut encoding = String::new();
    let mut charset = None;
    for param in parts {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        match param.split_once('=') {
            Some((k, v)) => {
                let key = k.trim().to_ascii_uppercase();
                let v = v.trim().trim_matches('"');
                match key.as_str() {
                    "TYPE" => types.extend(
                        v.split(',')
                            .map(|t| t.trim().trim_matches('"').to_ascii_lowercase())
                            .filter(|t| !t.is_empty()),
                    ),
                    "ENCODING" => encoding = v.to_ascii_uppercase(),
                    "CHARSET" => charset = Some(v.to_string()),
                    _ => params.push((key, v.to_string())),
                }
            }
            None => {
                let bare = param.to_ascii_uppercase();
                match bare.as_str() {
                    "QUOTED-PRINTABLE" | "BASE64" | "B" | "8BIT" | "7BIT" => encoding = bare,
                    _ => types.push(bare.to_ascii_lowercase()),
                }
            }
        }
    }
    let is_binary =
        BINARY_PROPERTIES.contains(&name.as_str()) || matches!(encoding.as_str(), "B" | "BASE64");
    let mut replaced = false;
    let value = if is_binary {
        String::new()
    } else {
        let bytes = if encoding == "QUOTED-PRINTABLE" {
            decode_quoted_printable(raw_value)
        } else {
            raw_value.to_vec()
        };
        let (value, was_replaced) =
            decode_value(&bytes, charset.as_deref().filter(|_| passthrough));
        replaced = was_replaced;
        value
    };
    Ok(Property {
        line: l.line,
        group,
        name,
        types,
        params,
        value,
        replaced,
    })
}

/// Decodes `=XX` escapes; a malformed escape is kept as written.
fn decode_quoted_printable(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'=' {
            let hex = raw.get(i + 1..i + 3).and_then(|h| {
                std::str::from_utf8(h)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            });
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
            if i + 1 == raw.len() {
                break; // a soft break left at the very end
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Undoes vCard text escapes: `\n` `\N` → newline, `\,` `\;` `\:` `\\` → the character.
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(c @ (',' | ';' | ':' | '\\')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a structured value on unescaped `sep`, unescaping each component.
fn split_escaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            if let Some(n) = chars.next() {
                current.push(n);
            }
        } else if c == sep {
            parts.push(unescape(&current));
            current.clear();
        } else {
            current.push(c);
        }
    }
    parts.push(unescape(&current));
    parts
}

/// A label from vCard types: `work`, `home`, `mobile`, `work fax`… (noise like `internet`,
/// `voice`, `pref` dropped; `cell` spelled `mobile` as rolo does).
fn label_from_types(types: &[String]) -> String {
    let mut words: Vec<&str> = Vec::new();
    for t in types {
        let word = match t.as_str() {
            "internet" | "pref" | "voice" | "x400" | "text" | "uri" | "msg" => continue,
            "cell" => "mobile",
            w if w.starts_with("x-") => continue,
            w => w,
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words.join(" ")
}

/// Apple's `_$!<Mobile>!$_` → `mobile`; custom labels as written.
fn apple_label(raw: &str) -> String {
    let t = raw.trim();
    let t = t
        .strip_prefix("_$!<")
        .and_then(|r| r.strip_suffix(">!$_"))
        .unwrap_or(t);
    t.to_lowercase()
}

struct CardBuilder {
    line: u64,
    draft: ContactDraft,
    warnings: Vec<String>,
    emails: Vec<(Option<String>, bool, Labelled)>,
    phones: Vec<(Option<String>, bool, Labelled)>,
    addresses: Vec<(Option<String>, Address)>,
    group_labels: HashMap<String, String>,
    omit_year: Option<String>,
}

impl CardBuilder {
    fn new(line: u64) -> Self {
        CardBuilder {
            line,
            draft: ContactDraft::default(),
            warnings: Vec::new(),
            emails: Vec::new(),
            phones: Vec::new(),
            addresses: Vec::new(),
            group_labels: HashMap::new(),
            omit_year: None,
        }
    }

    fn apply(&mut self, p: Property) {
        if p.replaced {
            self.warnings.push(format!(
                "line {}: {} holds bytes that are not valid text; replaced with �",
                p.line, p.name
            ));
        }
        let line = p.line;
        let value = p.value.as_str();
        let d = &mut self.draft;
        match p.name.as_str() {
            "FN" => d.name = unescape(value),
            "N" => {
                let parts = split_escaped(value, ';');
                d.family_name = parts.first().cloned().unwrap_or_default();
                d.given_name = parts.get(1).cloned().unwrap_or_default();
            }
            "ORG" => d.organization = split_escaped(value, ';').swap_remove(0),
            "TITLE" => d.title = unescape(value),
            "NOTE" => {
                let note = unescape(value);
                if !d.notes.is_empty() {
                    d.notes.push('\n');
                }
                d.notes.push_str(&note);
            }
            "CATEGORIES" => d.tags.extend(split_escaped(value, ',')),
            "UID" => d.uid = unescape(value),
            "LANG" | "X-ROLO-LANGUAGE" => d.language = unescape(value),
            "X-ROLO-STAGE" => match unescape(value).parse::<Stage>() {
                Ok(stage) => d.stage = Some(stage),
                Err(msg) => self
                    .warnings
                    .push(format!("line {line}: {msg}; stage ignored")),
            },
            "X-ROLO-TIER" => d.tier = unescape(value),
            "X-ROLO-OWNER" => d.owner = unescape(value),
            "X-ROLO-SOURCE" => d.source = unescape(value),
            "X-ROLO-PREFERRED-CHANNEL" => match unescape(value).parse::<Channel>() {
                Ok(c) => d.preferred_channel = Some(c),
                Err(msg) => self
                    .warnings
                    .push(format!("line {line}: {msg}; preferred channel ignored")),
            },
            "X-ROLO-CONSENT" => match read_consent(&p) {
                Ok(c) => d.consent.push(c),
                Err(msg) => self
                    .warnings
                    .push(format!("line {line}: {msg}; consent statement ignored")),
            },
            "X-ROLO-CUSTOM" => match read_custom(&p) {
                Ok((key, v)) => {
                    d.custom.insert(key, v);
                }
                Err(msg) => self
                    .warnings
                    .push(format!("line {line}: {msg}; custom field ignored")),
            },
            "X-APPLE-OMIT-YEAR" => self.omit_year = Some(value.trim().to_string()),
            "BDAY" => {
                let raw = unescape(value);
                let omit = p.param("X-APPLE-OMIT-YEAR").map(str::to_string);
                match parse_birthday(&raw, DateOrder::MonthFirst) {
                    Ok(Some(mut b)) => {
                        if let (Some(y), Some(omit)) = (b.year, omit.or(self.omit_year.clone()))
                            && omit.trim() == y.to_string()
                        {
                            b.year = None;
                        }
                        d.birthday = Some(b);
                    }
                    Ok(None) => {}
                    Err(msg) => self
                        .warnings
                        .push(format!("line {line}: {msg}; birthday ignored")),
                }
            }
            "EMAIL" => {
                let v = unescape(value);
                let v = v.strip_prefix("mailto:").unwrap_or(&v).to_string();
                // Checked here, so a refusal names the property's line, not the card's.
                let clean = text::clean_line(&v);
                if clean.is_empty() {
                    return;
                }
                if let Err(msg) = crate::domain::check_email(&clean) {
                    self.warnings
                        .push(format!("line {}: {msg}; dropped", p.line));
                    return;
                }
                let label = Labelled {
                    label: label_from_types(&p.types),
                    value: v,
                };
                self.emails.push((p.group.clone(), p.is_pref(), label));
            }
            "TEL" => {
                let v = unescape(value);
                let v = v.strip_prefix("tel:").unwrap_or(&v).to_string();
                let clean = text::clean_line(&v);
                if !clean.is_empty()
                    && let Err(msg) = crate::domain::check_phone(&clean)
                {
                    self.warnings
                        .push(format!("line {}: {msg}; dropped", p.line));
                    return;
                }
                let label = Labelled {
                    label: label_from_types(&p.types),
                    value: v,
                };
                self.phones.push((p.group.clone(), p.is_pref(), label));
            }
            "ADR" => {
                let parts = split_escaped(value, ';');
                let get = |i: usize| parts.get(i).cloned().unwrap_or_default();
                let street = [get(0), get(1), get(2)]
                    .into_iter()
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                let address = Address {
                    label: label_from_types(&p.types),
                    street,
                    city: get(3),
                    region: get(4),
                    postcode: get(5),
                    country: get(6),
                };
                self.addresses.push((p.group.clone(), address));
            }
            "X-ABLABEL" => {
                if let Some(g) = &p.group {
                    self.group_labels
                        .insert(g.clone(), apple_label(&unescape(value)));
                }
            }
            "URL" => custom_text(d, "url", value),
            "NICKNAME" => custom_text(d, "nickname", value),
            "X-SKYPE" | "X-SKYPE-USERNAME" => custom_text(d, "skype", value),
            "X-JABBER" | "X-GOOGLE-TALK" | "X-GTALK" => custom_text(d, "jabber", value),
            "X-TWITTER" => custom_text(d, "twitter", value),
            "X-LINKEDIN" => custom_text(d, "linkedin", value),
            "X-MASTODON" => custom_text(d, "mastodon", value),
            _ => {} // VERSION, PRODID, REV, PHOTO, unknown X- …: nothing rolo keeps
        }
    }

    fn finish(mut self) -> Result<ImportRecord, ImportProblem> {
        let labels = std::mem::take(&mut self.group_labels);
        let relabel = |group: &Option<String>, label: &mut String| {
            if let Some(l) = group.as_ref().and_then(|g| labels.get(g))
                && !l.is_empty()
            {
                *label = l.clone();
            }
        };
        // Preferred points first (stable otherwise): the first is the contact's primary.
        let mut emails = std::mem::take(&mut self.emails);
        emails.sort_by_key(|(_, pref, _)| !*pref);
        for (group, _, mut e) in emails {
            relabel(&group, &mut e.label);
            self.draft.emails.push(e);
        }
        let mut phones = std::mem::take(&mut self.phones);
        phones.sort_by_key(|(_, pref, _)| !*pref);
        for (group, _, mut p) in phones {
            relabel(&group, &mut p.label);
            self.draft.phones.push(p);
        }
        for (group, mut a) in std::mem::take(&mut self.addresses) {
            relabel(&group, &mut a.label);
            self.draft.addresses.push(a);
        }
        finish(self.line, self.draft, self.warnings)
    }
}

/// `X-ROLO-CONSENT;CHANNEL=email:denied;2026-11-25T14:03:00Z;SOURCE;PURPOSE`.
fn read_consent(p: &Property) -> Result<Consent, String> {
    let channel: Channel = p
        .param("CHANNEL")
        .ok_or("X-ROLO-CONSENT without CHANNEL=")?
        .parse()?;
    let parts = split_escaped(&p.value, ';');
    let part = |i: usize| parts.get(i).map(|s| s.trim()).unwrap_or_default();
    let status: ConsentStatus = part(0).parse()?;
    let at = match part(1) {
        "" => At::now(),
        t => t
            .parse::<jiff::Timestamp>()
            .map(At)
            .map_err(|_| format!("`{t}` is not an RFC 3339 time"))?,
    };
    Ok(Consent {
        channel,
        status,
        at,
        source: part(2).to_string(),
        purpose: part(3).to_string(),
    })
}

/// `X-ROLO-CUSTOM;X-TYPE=number:KEY;VALUE` (`X-TYPE=` text, number, bool or date; not
/// vCard 4's `VALUE=`, whose values are fixed).
fn read_custom(p: &Property) -> Result<(String, CustomValue), String> {
    let parts = split_escaped(&p.value, ';');
    let key = parts.first().map(|k| k.trim()).unwrap_or_default();
    if key.is_empty() {
        return Err("X-ROLO-CUSTOM without a field name".into());
    }
    // A `;` inside a text value was escaped, so everything after the key is the value.
    let value = parts
        .get(1..)
        .map(|rest| rest.join(";"))
        .unwrap_or_default();
    let kind = p.param("X-TYPE").unwrap_or("text").to_ascii_lowercase();
    let bad = || format!("`{value}` is not a {kind} (custom field `{key}`)");
    let v = match kind.as_str() {
        "number" => CustomValue::Number(
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(bad)?,
        ),
        "bool" | "boolean" => match value.trim() {
            "true" | "yes" => CustomValue::Bool(true),
            "false" | "no" => CustomValue::Bool(false),
            _ => return Err(bad()),
        },
        "date" => CustomValue::Date(value.trim().parse::<Day>().map_err(|_| bad())?),
        _ => CustomValue::Text(value),
    };
    Ok((key.to_string(), v))
}

fn custom_text(d: &mut ContactDraft, key: &str, value: &str) {
    let v = unescape(value);
    if !v.trim().is_empty() {
        d.custom
            .entry(key.to_string())
            .or_insert(CustomValue::Text(v));
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Escapes a text value: backslash, newline, comma, semicolon.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (continuations start with one space), never inside a
/// UTF-8 character, and ends it with CRLF.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

/// The `TYPE` words for a label, or `None` when it cannot be said with plain type words (then
/// the writer uses an Apple-style `itemN.X-ABLabel`).
fn type_words(label: &str, version: VcardVersion) -> Option<Vec<String>> {
    let mut words = Vec::new();
    for w in label.split_whitespace() {
        if !w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let w = if w == "mobile" { "cell" } else { w };
        words.push(match version {
            VcardVersion::V3 => w.to_ascii_uppercase(),
            VcardVersion::V4 => w.to_ascii_lowercase(),
        });
    }
    Some(words)
}

fn safe(s: &str) -> std::borrow::Cow<'_, str> {
    text::visible(s, false)
}

/// Writes one contact as a vCard. `organization` is the contact's organisation name.
pub fn write_card<W: Write>(
    out: &mut W,
    contact: &Contact,
    organization: Option<&str>,
    version: VcardVersion,
) -> io::Result<()> {
    let mut lines: Vec<String> = Vec::new();
    let v3 = version == VcardVersion::V3;
    lines.push("BEGIN:VCARD".into());
    lines.push(if v3 { "VERSION:3.0" } else { "VERSION:4.0" }.into());
    lines.push("PRODID:-//rolo//rolo//EN".into());
    let uid = if contact.uid.is_empty() {
        format!("rolo-{}", contact.id)
    } else {
        contact.uid.clone()
    };
    lines.push(format!("UID:{}", escape(&safe(&uid))));
    lines.push(format!("FN:{}", escape(&safe(&contact.name))));
    lines.push(format!(
        "N:{};{};;;",
        escape(&safe(&contact.family_name)),
        escape(&safe(&contact.given_name))
    ));
    if let Some(org) = organization.filter(|o| !o.trim().is_empty()) {
        lines.push(format!("ORG:{}", escape(&safe(org))));
    }
    if !contact.title.is_empty() {
        lines.push(format!("TITLE:{}", escape(&safe(&contact.title))));
    }
    let mut item = 0;
    let mut point = |lines: &mut Vec<String>, name: &str, l: &Labelled, first: bool| {
        let mut params = String::new();
        let extra_types: &[&str] = match (name, v3) {
            ("EMAIL", true) => &["INTERNET"],
            _ => &[],
        };
        let value = escape(&safe(&l.value));
        let value_param = if name == "TEL" && !v3 {
            ";VALUE=text"
        } else {
            ""
        };
        match type_words(&l.label, version) {
            Some(words) => {
                let mut all: Vec<String> = extra_types.iter().map(|s| s.to_string()).collect();
                all.extend(words);
                if first && v3 {
                    all.push("PREF".into());
                }
                if !all.is_empty() {
                    params = format!(";TYPE={}", all.join(","));
                }
                if first && !v3 {
                    params.push_str(";PREF=1");
                }
                lines.push(format!("{name}{value_param}{params}:{value}"));
            }
            None => {
                item += 1;
                if first {
                    params = if v3 {
                        ";TYPE=PREF".into()
                    } else {
                        ";PREF=1".into()
                    };
                }
                lines.push(format!("item{item}.{name}{value_param}{params}:{value}"));
                lines.push(format!("item{item}.X-ABLabel:{}", escape(&safe(&l.label))));
            }
        }
    };
    for (i, e) in contact.emails.iter().enumerate() {
        point(&mut lines, "EMAIL", e, i == 0);
    }
    for (i, p) in contact.phones.iter().enumerate() {
        point(&mut lines, "TEL", p, i == 0);
    }
    for a in &contact.addresses {
        let types = type_words(&a.label, version)
            .filter(|w| !w.is_empty())
            .map(|w| format!(";TYPE={}", w.join(",")))
            .unwrap_or_default();
        lines.push(format!(
            "ADR{types}:;;{};{};{};{};{}",
            escape(&safe(&a.street)),
            escape(&safe(&a.city)),
            escape(&safe(&a.region)),
            escape(&safe(&a.postcode)),
            escape(&safe(&a.country)),
        ));
    }
    if let Some(b) = contact.birthday {
        lines.push(format!("BDAY:{}", birthday_value(b, version)));
    }
    if !contact.notes.is_empty() {
        lines.push(format!(
            "NOTE:{}",
            escape(&text::visible(&contact.notes, true))
        ));
    }
    if !contact.tags.is_empty() {
        let tags: Vec<String> = contact.tags.iter().map(|t| escape(&safe(t))).collect();
        lines.push(format!("CATEGORIES:{}", tags.join(",")));
    }
    if !contact.language.is_empty() {
        let name = if v3 { "X-ROLO-LANGUAGE" } else { "LANG" };
        lines.push(format!("{name}:{}", escape(&safe(&contact.language))));
    }
    lines.push(format!("X-ROLO-STAGE:{}", contact.stage));
    for (name, value) in [
        ("X-ROLO-TIER", &contact.tier),
        ("X-ROLO-OWNER", &contact.owner),
        ("X-ROLO-SOURCE", &contact.source),
    ] {
        if !value.is_empty() {
            lines.push(format!("{name}:{}", escape(&safe(value))));
        }
    }
    if let Some(channel) = contact.preferred_channel {
        lines.push(format!("X-ROLO-PREFERRED-CHANNEL:{channel}"));
    }
    // The whole consent history, oldest first (the last statement per channel stands), so
    // an opt-out travels with the card.
    for c in &contact.consent {
        lines.push(format!(
            "X-ROLO-CONSENT;CHANNEL={}:{};{};{};{}",
            c.channel,
            c.status,
            c.at,
            escape(&safe(&c.source)),
            escape(&safe(&c.purpose)),
        ));
    }
    for (key, value) in &contact.custom {
        let (kind, shown) = match value {
            CustomValue::Text(t) => ("text", t.clone()),
            CustomValue::Number(n) => ("number", n.to_string()),
            CustomValue::Bool(b) => ("bool", b.to_string()),
            CustomValue::Date(d) => ("date", d.to_string()),
        };
        lines.push(format!(
            "X-ROLO-CUSTOM;X-TYPE={kind}:{};{}",
            escape(&safe(key)),
            escape(&safe(&shown)),
        ));
    }
    lines.push(format!(
        "REV:{}",
        contact.updated.at.0.strftime("%Y%m%dT%H%M%SZ")
    ));
    lines.push("END:VCARD".into());
    for l in lines {
        out.write_all(fold_line(&l).as_bytes())?;
    }
    Ok(())
}

fn birthday_value(b: Birthday, version: VcardVersion) -> String {
    match (b.year, version) {
        (Some(y), VcardVersion::V3) => format!("{y:04}-{:02}-{:02}", b.month, b.day),
        (Some(y), VcardVersion::V4) => format!("{y:04}{:02}{:02}", b.month, b.day),
        (None, VcardVersion::V3) => format!("--{:02}-{:02}", b.month, b.day),
        (None, VcardVersion::V4) => format!("--{:02}{:02}", b.month, b.day),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let s = "a,b;c\\d\ne";
        assert_eq!(unescape(&escape(s)), s);
        assert_eq!(
            split_escaped("Doe\\;Jr;Ana;;", ';'),
            ["Doe;Jr", "Ana", "", ""]
        );
    }

    #[test]
    fn quoted_printable_decodes() {
        assert_eq!(
            decode_quoted_printable(b"Caf=C3=A9 =3D ok"),
            "Café = ok".as_bytes()
        );
        assert_eq!(decode_quoted_printable(b"bad=ZZ"), b"bad=ZZ");
        assert_eq!(decode_quoted_printable(b"end="), b"end");
    }

    #[test]
    fn folding_keeps_characters_whole() {
        let line = format!("NOTE:{}", "é".repeat(100));
        let folded = fold_line(&line);
        for physical in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{physical:?}");
        }
        let unfolded = folded.trim_end().replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn labels_from_types() {
        let t = |v: &[&str]| label_from_types(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(t(&["internet", "work", "pref"]), "work");
        assert_eq!(t(&["cell", "voice"]), "mobile");
        assert_eq!(t(&["work", "fax"]), "work fax");
        assert_eq!(apple_label("_$!<Other>!$_"), "other");
    }
}
