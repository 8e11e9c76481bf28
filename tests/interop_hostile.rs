//! Issue 14, files that come from outside, at the reader level: CSV line numbers (CRLF, blank
//! lines), unclosed quotes, bounded memory on endless rows, per-file encoding decisions, and
//! what a file that is not a vCard is said to be.

use std::io::Read;

use rolo::interop::{CsvReader, ImportProblem, ImportRecord};

fn csv(bytes: &[u8]) -> Vec<Result<ImportRecord, ImportProblem>> {
    CsvReader::new(bytes, None, None).unwrap().collect()
}

/// (line, first warning or problem) of every record.
fn lines(results: &[Result<ImportRecord, ImportProblem>]) -> Vec<u64> {
    results
        .iter()
        .map(|r| match r {
            Ok(rec) => rec.line,
            Err(p) => p.line,
        })
        .collect()
}

#[test]
fn csv_lines_are_right_with_crlf_blank_lines_and_multiline_cells() {
    let lf = b"Name,Email\nAna,ana@example.com\n\n\nBo,bo@example.com\n\"Cy\nsecond\",cy@example.com\nDi,di@example.com";
    let crlf: Vec<u8> = String::from_utf8_lossy(lf)
        .replace('\n', "\r\n")
        .into_bytes();
    for bytes in [&lf[..], &crlf[..]] {
        let got = csv(bytes);
        assert_eq!(lines(&got), [2, 5, 6, 8], "{got:?}");
    }
    // A warning names the line of its row.
    let got = csv(b"Name,Email\r\nAna,ana@example.com\r\nBo,not-an-email\r\n");
    let bo = got[1].as_ref().unwrap();
    assert!(bo.warnings[0].starts_with("line 3:"), "{:?}", bo.warnings);
}

#[test]
fn an_unclosed_quote_is_reported_where_it_opened_with_what_it_swallowed() {
    let mut file = String::from("Name,Email\nAna,ana@example.com\n\"Bo,bo@example.com\n");
    for i in 0..1000 {
        file.push_str(&format!("P{i},p{i}@example.com\n"));
    }
    let got = csv(file.as_bytes());
    assert_eq!(got.len(), 2, "{:?}", got.last());
    assert!(got[0].is_ok());
    let problem = got[1].as_ref().unwrap_err();
    assert_eq!(problem.line, 3);
    assert!(
        problem.message.contains("1000 line(s) that look like rows"),
        "{}",
        problem.message
    );

    // Closed later: the rows after it import again.
    let got = csv(b"Name,Email\n\"Bo,bo@example.com\nCy,cy@example.com\nDi,\"di@example.com\nEd,ed@example.com\n");
    let problem = got[0].as_ref().unwrap_err();
    assert_eq!(problem.line, 2);
    assert!(
        problem.message.contains("until line 4"),
        "{}",
        problem.message
    );
    assert_eq!(got[1].as_ref().unwrap().draft.name, "Ed");

    // A note with a comma on a second line is a note.
    let got = csv(b"Name,Notes\nAna,\"met at the fair, nice\nwants a call, soon\"\nBo,x\n");
    assert!(got.iter().all(Result::is_ok), "{got:?}");
    assert_eq!(lines(&got), [2, 4]);
}

#[test]
fn an_endless_row_stops_the_reader_with_bounded_memory() {
    // `/dev/zero` after a header: one row that never ends.
    let input = b"Name,Email\n\"".chain(std::io::repeat(0).take(1 << 30));
    let started = std::time::Instant::now();
    let got: Vec<_> = CsvReader::new(input, None, None).unwrap().collect();
    assert!(started.elapsed().as_secs() < 30, "read the whole GiB?");
    assert_eq!(got.len(), 1);
    let problem = got[0].as_ref().unwrap_err();
    assert!(
        problem.message.contains("longer than 16 MiB"),
        "{}",
        problem.message
    );
}

#[test]
fn one_bad_byte_does_not_turn_a_utf8_csv_into_mojibake() {
    let mut file = b"Name,Email\n".to_vec();
    for i in 0..1000 {
        file.extend_from_slice(format!("Đurđa Šimić {i},d{i}@example.com\n").as_bytes());
    }
    file.extend_from_slice(b"Bad \xe9 byte,bad@example.com\n");
    let got = csv(&file);
    assert_eq!(got.len(), 1001);
    assert_eq!(got[0].as_ref().unwrap().draft.name, "Đurđa Šimić 0");
    assert!(got[0].as_ref().unwrap().warnings.is_empty());
    let bad = got[1000].as_ref().unwrap();
    assert_eq!(bad.draft.name, "Bad \u{fffd} byte");
    assert!(
        bad.warnings[0].starts_with("line 1002:") && bad.warnings[0].contains("not UTF-8"),
        "{:?}",
        bad.warnings
    );
}

#[test]
fn a_windows_1252_csv_is_read_as_such_and_says_so_with_the_line() {
    let file =
        b"Name,Company\nAna,Acme\nJos\xe9,Soci\xe9t\xe9 G\xe9n\xe9rale\nZo\xeb,M\xfcller AG\n";
    let got = csv(file);
    assert_eq!(got[1].as_ref().unwrap().draft.name, "José");
    assert_eq!(got[2].as_ref().unwrap().draft.organization, "Müller AG");
    let first = got[0].as_ref().unwrap();
    assert!(
        first.warnings[0].starts_with("line 3:") && first.warnings[0].contains("Windows-1252"),
        "{:?}",
        first.warnings
    );
}

#[test]
fn vcard_warnings_name_the_line_of_the_property() {
    let file = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana\r\nNOTE:hello\r\nEMAIL:not-an-email\r\nTEL:call me\r\nBDAY:1990-13-99\r\nEND:VCARD\r\n";
    let got: Vec<_> = rolo::interop::VcardReader::new(&file[..]).collect();
    let card = got[0].as_ref().unwrap();
    assert_eq!(card.line, 1);
    let at = |what: &str| {
        card.warnings
            .iter()
            .find(|w| w.contains(what))
            .unwrap_or_else(|| panic!("no warning about {what}: {:?}", card.warnings))
            .clone()
    };
    assert!(
        at("not-an-email").starts_with("line 5:"),
        "{:?}",
        card.warnings
    );
    assert!(at("call me").starts_with("line 6:"), "{:?}", card.warnings);
    assert!(at("birthday").starts_with("line 7:"), "{:?}", card.warnings);
}

/// Issue 14 item 12: the JSON export escapes what a terminal would act on (U+009B is CSI on
/// many terminals; bidi overrides reorder what `less` shows), and reads back the same.
#[test]
fn json_export_escapes_c1_and_bidi_characters_and_reads_back_equal() {
    use rolo::domain::{Actor, ContactDraft};
    use rolo::interop::{JsonReader, JsonRecord, JsonWriter};
    let mut contact = ContactDraft {
        name: "Ana".into(),
        ..ContactDraft::default()
    }
    .into_contact(&Actor::new("t"))
    .unwrap();
    // As a database written before the sanitiser knew them might hold.
    contact.name = "Evil\u{9b}31m \u{202e}Name\u{200b}".into();
    let record = JsonRecord {
        contact,
        organization: None,
        timeline: Vec::new(),
        deals: Vec::new(),
    };
    let mut w = JsonWriter::new(Vec::new()).unwrap();
    w.write(&record).unwrap();
    let out = w.finish().unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        !text.contains(['\u{9b}', '\u{202e}', '\u{200b}']),
        "raw control in {text}"
    );
    assert!(text.contains("Evil\\u009b31m \\u202eName\\u200b"), "{text}");
    let back: Vec<_> = JsonReader::new(&out[..]).unwrap().collect();
    assert_eq!(back[0].as_ref().unwrap().1, record);
}

#[test]
fn json_import_cleans_who_created_and_changed_a_contact() {
    use rolo::domain::{Actor, ContactDraft};
    let mut contact = ContactDraft {
        name: "Ana".into(),
        ..ContactDraft::default()
    }
    .into_contact(&Actor::new("t"))
    .unwrap();
    contact.created.by = "mal\u{1b}]2;pwned\u{7}lory".into();
    contact.updated.by = "x\u{202e}y".into();
    contact.clean();
    assert_eq!(contact.created.by, "mal]2;pwnedlory");
    assert_eq!(contact.updated.by, "xy");
}
