//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz) and for the test that replays
//! their seed corpora and every crash found (`tests/fuzz_corpus.rs`): one function per parser,
//! taking raw bytes, driving the parser the way rolo does (and a little further: whatever it
//! accepts is validated, written back out and read again), and panicking only on a bug.
//!
//! This module must not touch a database, a terminal or the file system, and must stay cheap
//! per input (thousands of executions a second). It is not an API: names may change with the
//! targets.

use std::io::Cursor;

use crate::domain::text;
use crate::domain::{Actor, Birthday, Day, time::parse_due};
use crate::interop::{self, Format, ImportOptions, csv, json, vcard};
use crate::search::{Index, Query, SearchOptions};
use crate::tui::theme::ColorSupport;
use crate::tui::{Keymap, Theme};

/// A fuzz target's body: raw bytes in, a panic only on a bug.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (the names of `fuzz/fuzz_targets/*.rs` and `fuzz/seeds/*`).
pub const TARGETS: &[(&str, Target)] = &[
    ("vcard", vcard),
    ("csv", csv),
    ("json", json),
    ("csv_mapping", csv_mapping),
    ("keymap", keymap),
    ("theme", theme),
    ("query", query),
    ("dates", dates),
    ("text", text),
    ("detect", detect),
    ("frame", frame),
];

fn actor() -> Actor {
    Actor::new("fuzz")
}

/// Every record a format reader yields, validated as the store would, written back out in the
/// same format and read again (the re-read must not fail on what rolo itself wrote).
fn drain(format: Format, data: &[u8], options: &ImportOptions) {
    let Ok(records) = interop::read_records(format, Cursor::new(data), options) else {
        return;
    };
    for record in records.take(64) {
        let Ok(record) = record else { continue };
        let Ok(contact) = record.draft.into_contact(&actor()) else {
            continue;
        };
        let mut out = Vec::new();
        let written = match format {
            Format::Vcard => vcard::write_card(&mut out, &contact, None, vcard::VcardVersion::V3),
            Format::Csv => csv::CsvWriter::new(&mut out, false)
                .and_then(|mut w| w.write(&contact, None).and_then(|()| w.finish().map(drop))),
            Format::Json => json::JsonWriter::new(&mut out).and_then(|mut w| {
                w.write(&json::JsonRecord {
                    contact: contact.clone(),
                    organization: None,
                    timeline: Vec::new(),
                    deals: Vec::new(),
                })?;
                w.finish().map(drop)
            }),
        };
        assert!(written.is_ok(), "writing to memory failed: {written:?}");
        let again = interop::read_records(format, Cursor::new(&out[..]), &ImportOptions::default());
        let again = match again {
            Ok(records) => records.collect::<Vec<_>>(),
            Err(e) => panic!(
                "rolo cannot read its own {format} back: {e}\n{}",
                String::from_utf8_lossy(&out)
            ),
        };
        assert_eq!(
            again.len(),
            1,
            "one contact written as {format} reads back as {} records:\n{}",
            again.len(),
            String::from_utf8_lossy(&out)
        );
    }
}

/// vCard: the reader, then validation and the writer.
pub fn vcard(data: &[u8]) {
    drain(Format::Vcard, data, &ImportOptions::default());
}

/// CSV with encoding detection (the first byte picks a forced encoding now and then).
pub fn csv(data: &[u8]) {
    let (encoding, rest) = match data.split_first() {
        Some((0xFE, rest)) => (Some(encoding_rs::UTF_16LE), rest),
        Some((0xFD, rest)) => (Some(encoding_rs::WINDOWS_1252), rest),
        _ => (None, data),
    };
    let options = ImportOptions {
        encoding,
        mapping: None,
    };
    drain(Format::Csv, rest, &options);
}

/// rolo JSON: the streaming reader over every section, then the contact path.
pub fn json(data: &[u8]) {
    if let Ok(mut reader) = json::JsonReader::new(Cursor::new(data)) {
        let mut n = 0;
        while let Some(item) = reader.next_item() {
            n += 1;
            if n > 256 {
                break;
            }
            if let Ok((_, json::JsonItem::Contact(record))) = item {
                let _ = json::draft_from(&record).into_contact(&actor());
            }
        }
    }
    drain(Format::Json, data, &ImportOptions::default());
}

/// A CSV mapping file (`--map`), then a CSV read through it (the data after the first NUL).
pub fn csv_mapping(data: &[u8]) {
    let (map, rows) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"Name,Email\nAna,ana@example.com\n"[..]),
    };
    let Ok(map) = std::str::from_utf8(map) else {
        return;
    };
    if let Ok(mapping) = csv::ColumnMap::parse(map, "fuzz.toml") {
        let options = ImportOptions {
            encoding: None,
            mapping: Some(mapping),
        };
        drain(Format::Csv, rows, &options);
    }
}

/// A keymap file, then the generated help (text and markdown).
pub fn keymap(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(keymap) = Keymap::from_toml("fuzz", text, None) {
        let _ = keymap.to_text();
        let _ = keymap.to_markdown();
    }
}

/// A theme file, fitted to every colour depth.
pub fn theme(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for support in [
        ColorSupport::TrueColor,
        ColorSupport::Ansi256,
        ColorSupport::Ansi16,
        ColorSupport::None,
    ] {
        if let Ok(theme) = Theme::from_toml("fuzz", text, None, support) {
            let _ = theme.style("list.selected");
            let _ = theme.style("timeline.channel.call");
        }
    }
}

thread_local! {
    static INDEX: Index = {
        let mut index = Index::new();
        for doc in crate::search::testgen::contacts(200, 7) {
            index.upsert(&doc);
        }
        index
    };
}

/// The query language, and the parsed query run against a small index.
pub fn query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(query) = Query::parse(&text) else {
        return;
    };
    let _ = query.narrows(&Query::default());
    INDEX.with(|index| {
        let _ = index.search(
            &query,
            SearchOptions {
                limit: 20,
                today_day: 20_000,
            },
        );
    });
}

/// Follow-up dates (`+3d`, `fri`, `2026-12-01`) and birthdays in every spelling read.
pub fn dates(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for today in [Day::from_number(20_000), Day::from_number(i32::MAX)] {
        let _ = parse_due(&text, today);
    }
    if let Ok(b) = text.parse::<Birthday>() {
        assert_eq!(
            b.to_string().parse::<Birthday>(),
            Ok(b),
            "{b} does not read back"
        );
    }
    for order in [interop::DateOrder::MonthFirst, interop::DateOrder::DayFirst] {
        if let Ok(Some(b)) = interop::parse_birthday(&text, order) {
            assert!(
                b.check().is_ok(),
                "{text:?} gave the impossible birthday {b}"
            );
        }
    }
}

/// The sanitiser: idempotent, and nothing it lets through can drive a terminal.
pub fn text(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let line = text::clean_line(&input);
    assert_eq!(
        text::clean_line(&line),
        line,
        "clean_line is not idempotent"
    );
    assert!(!line.chars().any(char::is_control), "{line:?}");
    let multi = text::clean_multiline(&input);
    assert_eq!(
        text::clean_multiline(&multi),
        multi,
        "clean_multiline is not idempotent"
    );
    assert!(
        !multi.chars().any(|c| c.is_control() && c != '\n'),
        "{multi:?}"
    );
    for keep in [false, true] {
        let shown = text::visible(&input, keep);
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() && !(keep && c == '\n')),
            "{shown:?}"
        );
    }
    let tag = text::clean_tag(&input);
    assert_eq!(text::clean_tag(&tag), tag, "clean_tag is not idempotent");
}

/// Format detection from the first bytes, then the detected reader.
pub fn detect(data: &[u8]) {
    let head = &data[..data.len().min(512)];
    if let Some(format) = Format::detect(None, head) {
        drain(format, data, &ImportOptions::default());
    }
}

/// The wire protocol as a server reads it: bytes arrive in pieces, whole frames come out, and
/// every frame's payload is decoded as the handshake, a request of its kind, an answer of its
/// kind and an event. Malformed input must be an error (that connection closes), never a panic;
/// what decodes must encode again.
pub fn frame(data: &[u8]) {
    use crate::api::frame::{Decoder, Frame};
    use crate::api::{Event, Request, Response};
    let mut decoder = Decoder::new();
    // Fed in uneven pieces, as a socket delivers them.
    for piece in data.chunks(data.first().map_or(1, |b| usize::from(*b % 61) + 1)) {
        decoder.feed(piece);
        loop {
            let frame = match decoder.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => return,
            };
            let _ = serde_json::from_slice::<crate::server::socket::Hello>(&frame.payload);
            if let Ok(Some(request)) = Request::decode(frame.kind, &frame.payload) {
                let again = request
                    .encode()
                    .unwrap_or_else(|e| panic!("re-encode: {e}"));
                assert!(
                    matches!(Request::decode(frame.kind, &again), Ok(Some(_))),
                    "a request that decoded must decode again"
                );
                let _ = request.name();
            }
            if let Ok(Some(response)) = Response::decode(frame.kind, &frame.payload) {
                let _ = response.encode();
            }
            let _ = serde_json::from_slice::<Event>(&frame.payload);
            let _ = serde_json::from_slice::<crate::store::StoreError>(&frame.payload);
            let bytes = Frame::new(frame.kind, frame.id, frame.payload)
                .encode()
                .unwrap_or_else(|e| panic!("a frame that decoded must encode: {e}"));
            assert!(bytes.len() >= 10);
        }
    }
}
