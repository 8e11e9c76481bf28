//! Import and export as a user meets them: real exporters' quirks read correctly, exports that
//! other tools (and rolo itself) read back, duplicates found.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rolo::domain::{
    Actor, At, Birthday, Channel, Contact, ContactDraft, Day, Deal, DealStage, DealStatus,
    Direction, Entry, FollowUp, Interaction, Labelled, Purchase, Stage,
};
use rolo::interop::csv::{EXPORT_HEADER, neutralise, phone_cell};
use rolo::interop::vcard::write_card;
use rolo::interop::{
    ColumnMap, CsvReader, CsvWriter, Format, ImportProblem, ImportRecord, JsonReader, JsonRecord,
    JsonWriter, VcardReader, VcardVersion, duplicate_candidates, read_records,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/interop")
        .join(name)
}

fn vcards(name: &str) -> Vec<Result<ImportRecord, ImportProblem>> {
    VcardReader::new(File::open(fixture(name)).unwrap()).collect()
}

fn ok(items: Vec<Result<ImportRecord, ImportProblem>>) -> Vec<ImportRecord> {
    items
        .into_iter()
        .map(|r| r.unwrap_or_else(|p| panic!("unexpected problem: {p}")))
        .collect()
}

fn csv_file(name: &str, map: Option<ColumnMap>) -> Vec<Result<ImportRecord, ImportProblem>> {
    CsvReader::new(File::open(fixture(name)).unwrap(), None, map)
        .unwrap()
        .collect()
}

fn emails(r: &ImportRecord) -> Vec<(&str, &str)> {
    r.draft
        .emails
        .iter()
        .map(|e| (e.label.as_str(), e.value.as_str()))
        .collect()
}

fn phones(r: &ImportRecord) -> Vec<(&str, &str)> {
    r.draft
        .phones
        .iter()
        .map(|e| (e.label.as_str(), e.value.as_str()))
        .collect()
}

/// What the store will make of a record.
fn stored(r: &ImportRecord) -> Contact {
    r.draft.clone().into_contact(&Actor::new("test")).unwrap()
}

// ---------------------------------------------------------------------------------------------
// vCard import

#[test]
fn vcard_21_quoted_printable_with_charsets_and_soft_breaks() {
    let cards = ok(vcards("vcard21_quoted_printable.vcf"));
    assert_eq!(cards.len(), 2);
    let j = &cards[0];
    assert_eq!(j.line, 1);
    assert_eq!(j.draft.name, "Jürgen Müller");
    assert_eq!(j.draft.given_name, "Jürgen");
    assert_eq!(j.draft.family_name, "Müller");
    assert_eq!(j.draft.organization, "Bäckerei Müller");
    assert_eq!(
        phones(j),
        [("work", "+49 30 1234567"), ("mobile", "+49 170 7654321")]
    );
    assert_eq!(emails(j), [("home", "juergen@example.de")]);
    assert_eq!(
        stored(j).notes,
        "Erste Zeile\nZweite Zeile mit einem sehr langen Text, der umgebrochen wurde und weitergeht"
    );
    assert!(j.warnings.is_empty(), "{:?}", j.warnings);
    let r = &cards[1];
    assert_eq!(r.line, 13);
    assert_eq!(r.draft.name, "René François");
    assert_eq!(r.draft.given_name, "René");
}

#[test]
fn vcard_30_apple_folding_escapes_groups_and_photo() {
    let cards = ok(vcards("vcard30_apple.vcf"));
    assert_eq!(cards.len(), 1);
    let a = &cards[0];
    assert_eq!(a.draft.name, "Ana María Lopez");
    assert_eq!(a.draft.organization, "Acme, Inc.");
    assert_eq!(a.draft.title, "Head of Sales; EMEA");
    assert_eq!(
        emails(a),
        [
            ("other", "ana@acme.example"),
            ("club", "ana.private@example.org"),
            ("work", "ana.work@acme.example"),
        ]
    );
    assert_eq!(
        phones(a),
        [
            ("mobile", "+33 6 12 34 56 78"),
            ("work", "+33 4 72 00 00 00")
        ]
    );
    let c = stored(a);
    assert_eq!(c.addresses[0].city, "Lyon");
    assert_eq!(c.addresses[0].postcode, "69002");
    assert_eq!(c.addresses[0].street, "12 Rue de la Paix Bât. B");
    assert_eq!(
        c.notes,
        "Met at the fair, stand 4.\nLikes tea; not coffee. Path C:\\temp. This note is long enough to be folded over two lines."
    );
    assert_eq!(c.tags, ["lyon-fair", "vip"]);
    assert_eq!(
        c.birthday,
        Some(Birthday {
            year: None,
            month: 12,
            day: 24
        })
    );
    assert_eq!(c.uid, "7A1B2C3D-0000-4000-8000-ABCDEF012345");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

#[test]
fn vcard_40_year_less_birthdays() {
    let cards = ok(vcards("vcard40_yearless.vcf"));
    let days: Vec<String> = cards
        .iter()
        .map(|c| c.draft.birthday.unwrap().to_string())
        .collect();
    assert_eq!(days, ["--05-17", "--05-17", "1990-05-17"]);
    assert_eq!(phones(&cards[0]), [("mobile", "+1-555-010-0199")]);
    assert_eq!(cards[0].draft.language, "ko");
    assert_eq!([cards[0].line, cards[1].line, cards[2].line], [1, 10, 16]);
}

#[test]
fn abook_invalid_utf8_without_version_is_imported_with_a_warning() {
    let cards = ok(vcards("abook.vcf"));
    assert_eq!(cards.len(), 2);
    let an = &cards[0];
    assert_eq!(an.draft.name, "Tran Van An");
    assert!(an.draft.notes.contains('\u{FFFD}'), "{}", an.draft.notes);
    assert!(an.draft.notes.starts_with("Ghi chú: anh Nguy"));
    assert_eq!(an.warnings.len(), 1);
    assert!(an.warnings[0].starts_with("line 4:"), "{}", an.warnings[0]);
    assert!(an.warnings[0].contains("NOTE"));
    assert_eq!(cards[1].line, 7);
    assert!(cards[1].warnings.is_empty());
}

#[test]
fn vobject_long_unfolded_lines_and_two_space_continuations() {
    let cards = ok(vcards("vobject.vcf"));
    let v = &cards[0];
    assert_eq!(v.draft.emails[0].value.len(), 192);
    assert!(v.draft.notes.ends_with(&"x".repeat(160)));
    // Exactly one leading space is removed: the second is the word separator.
    assert_eq!(v.draft.title, "Chief of the department of very long titles");
}

#[test]
fn crlf_and_byte_order_mark() {
    let cards = ok(vcards("crlf_bom.vcf"));
    assert_eq!(cards[0].draft.name, "Zoë Dupont");
    assert_eq!(phones(&cards[0]), [("home", "+33 1 23 45 67 89")]);
}

#[test]
fn card_without_end_is_read_with_a_warning_and_nameless_card_is_a_problem() {
    let data = "BEGIN:VCARD\nVERSION:3.0\nNOTE:only a note\nEND:VCARD\n\
                BEGIN:VCARD\nFN:Cut Short\nBEGIN:VCARD\nFN:Last One\nEMAIL:last@example.com\n";
    let items: Vec<_> = VcardReader::new(data.as_bytes()).collect();
    assert_eq!(items.len(), 3);
    let problem = items[0].as_ref().unwrap_err();
    assert_eq!(problem.line, 1);
    assert!(problem.message.contains("no usable name"), "{problem}");
    let cut = items[1].as_ref().unwrap();
    assert_eq!((cut.line, cut.draft.name.as_str()), (5, "Cut Short"));
    assert!(cut.warnings[0].contains("END:VCARD"), "{:?}", cut.warnings);
    let last = items[2].as_ref().unwrap();
    assert_eq!(last.line, 7);
    assert!(
        last.warnings[0].contains("file ends"),
        "{:?}",
        last.warnings
    );
}

#[test]
fn invalid_email_is_dropped_with_a_warning_not_the_whole_card() {
    let data = "BEGIN:VCARD\nFN:Ann\nEMAIL:not-an-email\nTEL:+1 555 0100 200\nEND:VCARD\n";
    let cards = ok(VcardReader::new(data.as_bytes()).collect());
    assert!(cards[0].draft.emails.is_empty());
    assert!(cards[0].warnings[0].contains("not-an-email"));
}

/// Counts the bytes pulled from a source.
struct Counted<R> {
    inner: R,
    pulled: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pulled.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Makes a vCard stream of `cards` cards on the fly, never holding it whole.
struct CardGenerator {
    next: u64,
    cards: u64,
    pending: Vec<u8>,
    pos: usize,
}

impl Read for CardGenerator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.next == self.cards {
                return Ok(0);
            }
            let i = self.next;
            self.next += 1;
            self.pending = format!(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nN:{i};Person;;;\r\n\
                 EMAIL;TYPE=INTERNET:p{i}@example.com\r\nTEL:+1 555 {:07}\r\n\
                 NOTE:card number {i}\\, folded\r\n  over a line\r\nEND:VCARD\r\n",
                i % 10_000_000
            )
            .into_bytes();
            self.pos = 0;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_hundred_thousand_cards_stream_in_bounded_memory() {
    let pulled = Arc::new(AtomicU64::new(0));
    let source = Counted {
        inner: CardGenerator {
            next: 0,
            cards: 100_000,
            pending: Vec::new(),
            pos: 0,
        },
        pulled: pulled.clone(),
    };
    let mut reader = VcardReader::new(source);
    let first = reader.next().unwrap().unwrap();
    assert_eq!(first.draft.name, "Person 0");
    // Only the sniffing window and one buffer were read to produce the first card.
    assert!(pulled.load(Ordering::Relaxed) <= 128 * 1024);
    let mut count = 1u64;
    let mut last_line = 0;
    for item in reader {
        let record = item.unwrap();
        last_line = record.line;
        count += 1;
    }
    assert_eq!(count, 100_000);
    assert_eq!(last_line, 99_999 * 9 + 1);
}

#[test]
fn a_huge_folded_photo_is_skipped_without_being_kept() {
    struct Photo {
        left: u64,
        stage: u8,
    }
    impl Read for Photo {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let chunk: &[u8] = match self.stage {
                0 => b"BEGIN:VCARD\r\nFN:Big Photo\r\nPHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n",
                1 if self.left > 0 => {
                    self.left -= 1;
                    b" QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n"
                }
                1 => b"EMAIL:big@example.com\r\nEND:VCARD\r\n",
                _ => return Ok(0),
            };
            if self.stage == 0 || self.left == 0 && chunk.starts_with(b"EMAIL") {
                self.stage += 1;
            }
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            Ok(n)
        }
    }
    let cards = ok(VcardReader::new(Photo {
        left: 200_000,
        stage: 0,
    })
    .collect());
    assert_eq!(cards.len(), 1);
    assert_eq!(emails(&cards[0]), [("", "big@example.com")]);
}

#[test]
fn random_bytes_never_panic_any_reader() {
    let pieces: [&[u8]; 14] = [
        b"BEGIN:VCARD\r\n",
        b"END:VCARD\n",
        b"FN:",
        b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=",
        b"=\r\n",
        b" ",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"item1.EMAIL;TYPE=\"a,b:c\":",
        b"\"",
        b",",
        b"\n",
        b"BDAY:--",
        b"\\",
    ];
    let mut rng = fastrand::Rng::with_seed(42);
    for _ in 0..400 {
        let mut data = Vec::new();
        for _ in 0..rng.usize(0..40) {
            if rng.bool() {
                data.extend_from_slice(pieces[rng.usize(0..pieces.len())]);
            } else {
                data.extend((0..rng.usize(0..20)).map(|_| rng.u8(..)));
            }
        }
        for item in VcardReader::new(&data[..]) {
            let _ = item;
        }
        if let Ok(reader) = CsvReader::new(&data[..], None, None) {
            for item in reader {
                let _ = item;
            }
        }
        if let Ok(reader) = JsonReader::new(&data[..]) {
            for item in reader {
                let _ = item;
            }
        }
    }
}

#[test]
fn damaged_fixtures_never_panic_any_reader() {
    let mut rng = fastrand::Rng::with_seed(7);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/interop");
    for entry in std::fs::read_dir(dir).unwrap() {
        let original = std::fs::read(entry.unwrap().path()).unwrap();
        for _ in 0..60 {
            let mut data = original.clone();
            for _ in 0..rng.usize(1..8) {
                if data.is_empty() {
                    break;
                }
                let at = rng.usize(0..data.len());
                match rng.u8(0..3) {
                    0 => data[at] = rng.u8(..),
                    1 => {
                        data.remove(at);
                    }
                    _ => data.insert(at, *b"\"\\;:=,\n\r ".get(rng.usize(0..9)).unwrap()),
                }
            }
            VcardReader::new(&data[..]).for_each(drop);
            if let Ok(reader) = CsvReader::new(&data[..], None, None) {
                reader.for_each(drop);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV import

#[test]
fn google_csv_old_headers_with_multi_values_and_primary_marks() {
    let rows = ok(csv_file("google_old.csv", None));
    assert_eq!(rows.len(), 2);
    let ana = &rows[0];
    assert_eq!(ana.line, 2);
    assert_eq!(
        emails(ana),
        [
            ("home", "ana@home.example"),
            ("home", "ana@other.example"),
            ("work", "ana@work.example"),
        ]
    );
    assert_eq!(phones(ana), [("mobile", "+34 600 000 001")]);
    assert_eq!(ana.draft.organization, "Acme");
    assert_eq!(ana.draft.title, "Engineer");
    assert_eq!(ana.draft.tags, ["Friends"]);
    let c = stored(ana);
    assert_eq!(c.notes, "Two lines,\nwith comma");
    assert_eq!(c.addresses[0].city, "Madrid");
    assert_eq!(c.birthday.unwrap().to_string(), "1985-03-02");
    // The first row spans four file lines (two quoted multi-line cells).
    assert_eq!(rows[1].line, 5);
    assert_eq!(rows[1].draft.organization, "Stone & Co");
}

#[test]
fn google_csv_new_headers_with_labels() {
    let rows = ok(csv_file("google_new.csv", None));
    let chloe = &rows[0];
    assert_eq!(stored(chloe).name, "Chloé Martin");
    assert_eq!(chloe.draft.organization, "Globex");
    assert_eq!(chloe.draft.title, "CTO");
    // `* Home` marks the primary address, which comes first.
    assert_eq!(
        emails(chloe),
        [
            ("home", "chloe@home.example"),
            ("work", "chloe@globex.example")
        ]
    );
    assert_eq!(
        phones(chloe),
        [
            ("mobile", "+33 6 00 00 00 02"),
            ("mobile", "+33 6 00 00 00 03")
        ]
    );
    assert_eq!(chloe.draft.tags, ["Clients"]);
    assert_eq!(chloe.draft.birthday.unwrap().to_string(), "--04-01");
    assert_eq!(stored(&rows[1]).name, "Duc Nguyễn");
    assert!(rows[1].draft.tags.is_empty());
}

#[test]
fn outlook_csv_in_windows_1252_with_us_birthdays() {
    let text = "First Name,Middle Name,Last Name,Title,Suffix,Company,Job Title,E-mail Address,\
                E-mail 2 Address,Business Phone,Home Phone,Mobile Phone,Business City,Birthday,Notes,Categories\r\n\
                René,,Gaßner,Dr.,,Société Générale,Directeur,rene@sg.example,,+33 1 42 14 20 00,,\
                +33 6 11 22 33 44,Paris,5/17/1972,Budget 5 000 €,Clients;VIP\r\n\
                Ann,,Lee,,,,,ann@example.com,,,,,,0/0/00,,\r\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let rows = ok(CsvReader::new(&bytes[..], None, None).unwrap().collect());
    let rene = &rows[0];
    assert_eq!(rene.draft.given_name, "René");
    assert_eq!(rene.draft.family_name, "Gaßner");
    assert_eq!(rene.draft.organization, "Société Générale");
    assert_eq!(rene.draft.title, "Directeur");
    assert_eq!(rene.draft.notes, "Budget 5 000 €");
    assert_eq!(rene.draft.birthday.unwrap().to_string(), "1972-05-17");
    assert_eq!(
        phones(rene),
        [
            ("work", "+33 1 42 14 20 00"),
            ("mobile", "+33 6 11 22 33 44")
        ]
    );
    assert_eq!(rene.draft.tags, ["Clients", "VIP"]);
    assert_eq!(stored(rene).city(), Some("Paris"));
    assert_eq!(rows[1].draft.birthday, None);
    // The guess is said once, with the line of the first byte that is not UTF-8 (issue 14).
    assert_eq!(rene.warnings.len(), 1, "{:?}", rene.warnings);
    assert!(
        rene.warnings[0].starts_with("line 2:") && rene.warnings[0].contains("Windows-1252"),
        "{:?}",
        rene.warnings
    );
    assert!(rows[1].warnings.is_empty());

    // Chosen explicitly (--encoding), the same bytes read the same.
    let forced = ok(
        CsvReader::new(&bytes[..], Some(encoding_rs::WINDOWS_1252), None)
            .unwrap()
            .collect(),
    );
    assert_eq!(forced[0].draft, rene.draft);
}

#[test]
fn utf16_csv_with_bom() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "Name,E-mail Address\r\nZoë,zoe@example.com\r\n".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let rows = ok(CsvReader::new(&bytes[..], None, None).unwrap().collect());
    assert_eq!(rows[0].draft.name, "Zoë");
}

#[test]
fn german_outlook_headers() {
    let rows = ok(csv_file("outlook_de.csv", None));
    let j = &rows[0];
    assert_eq!(j.draft.given_name, "Jürgen");
    assert_eq!(j.draft.family_name, "Weiß");
    assert_eq!(j.draft.organization, "Weiß GmbH");
    assert_eq!(j.draft.title, "Einkaufsleiter");
    assert_eq!(
        emails(j),
        [
            ("", "juergen.weiss@weiss.example"),
            ("", "jw@privat.example")
        ]
    );
    assert_eq!(
        phones(j),
        [("work", "+49 89 1234567"), ("mobile", "+49 171 1234567")]
    );
    assert_eq!(j.draft.birthday.unwrap().to_string(), "1970-05-17");
    assert_eq!(j.draft.tags, ["Lieferant", "Wichtig"]);
    let c = stored(j);
    assert_eq!(c.addresses[0].city, "München");
    assert_eq!(c.addresses[0].label, "work");
    assert_eq!(c.notes, "Bevorzugt Anrufe am Vormittag");
}

#[test]
fn french_outlook_headers_read_day_first_dates() {
    let data = "Prénom,Nom,Société,Fonction,Adresse de messagerie,Téléphone mobile,Anniversaire\n\
                Léa,Faure,Chez Léa,Gérante,lea@example.fr,+33 6 98 76 54 32,03/04/1988\n";
    let rows = ok(CsvReader::new(data.as_bytes(), None, None)
        .unwrap()
        .collect());
    let lea = &rows[0];
    assert_eq!(stored(lea).name, "Léa Faure");
    assert_eq!(lea.draft.organization, "Chez Léa");
    assert_eq!(lea.draft.title, "Gérante");
    assert_eq!(lea.draft.birthday.unwrap().to_string(), "1988-04-03");
}

#[test]
fn any_csv_through_a_mapping_file() {
    let map = ColumnMap::load(&fixture("mapped.toml")).unwrap();
    let rows = ok(csv_file("mapped.csv", Some(map)));
    let p = &rows[0];
    assert_eq!(p.draft.name, "Petra Schmidt");
    assert_eq!(emails(p), [("work", "petra@example.de")]);
    assert_eq!(phones(p), [("mobile", "0171 2345678")]);
    assert_eq!(p.draft.tags, ["gold"]);
    let c = stored(p);
    assert_eq!(c.city(), Some("Köln"));
    assert_eq!(c.custom["customer_no"].to_string(), "K-1001");
    assert_eq!(c.custom["since"].to_string(), "2019-04-01");
    assert_eq!(rows[1].draft.name, "Ohne Mail");

    let unknown = ColumnMap::parse("Nope = \"name\"\n", "m.toml").unwrap();
    let err = CsvReader::new(
        File::open(fixture("mapped.csv")).unwrap(),
        None,
        Some(unknown),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("`nope` is not in the CSV header"),
        "{err}"
    );
}

#[test]
fn unknown_csv_asks_for_a_mapping() {
    let err = CsvReader::new(&b"foo,bar\n1,2\n"[..], None, None).unwrap_err();
    assert!(err.to_string().contains("--map"), "{err}");
}

#[test]
fn bad_rows_are_problems_with_file_lines_and_good_rows_still_import() {
    let items = csv_file("bad_rows.csv", None);
    let summary: Vec<(u64, bool)> = items
        .iter()
        .map(|i| match i {
            Ok(r) => (r.line, true),
            Err(p) => (p.line, false),
        })
        .collect();
    assert_eq!(
        summary,
        [(2, true), (3, true), (6, false), (7, false), (8, true)]
    );
    let multi = items[1].as_ref().unwrap();
    assert_eq!(multi.draft.notes, "first line\nsecond line\nthird line");
    let nameless = items[2].as_ref().unwrap_err();
    assert!(nameless.message.contains("no usable name"), "{nameless}");
    let extra = items[3].as_ref().unwrap_err();
    assert!(extra.message.contains("5 cells"), "{extra}");
}

// ---------------------------------------------------------------------------------------------
// Export

fn contact(id: u64, name: &str, given: &str, family: &str) -> Contact {
    let mut c = ContactDraft {
        name: name.into(),
        given_name: given.into(),
        family_name: family.into(),
        ..ContactDraft::default()
    }
    .into_contact(&Actor::new("tester"))
    .unwrap();
    c.id = id;
    c
}

fn sample_contacts() -> Vec<(Contact, Option<String>)> {
    let mut ana = contact(1, "Ana Lopez", "Ana", "Lopez");
    ana.emails = vec![
        Labelled::new("work", "ana@acme.example"),
        Labelled::new("home", "ana@home.example"),
    ];
    ana.phones = vec![
        Labelled::new("mobile", "+33 6 12 34 56 78"),
        Labelled::new("home fax", "+33 4 72 00 00 00"),
    ];
    ana.notes = "First line, with a comma; and a semicolon\nSecond line \\ backslash".into();
    ana.tags = vec!["lyon-fair".into(), "vip".into()];
    ana.birthday = Some(Birthday {
        year: None,
        month: 5,
        day: 17,
    });
    ana.title = "Head of Sales, EMEA".into();
    ana.uid = "ana-uid-1".into();
    ana.stage = Stage::Customer;

    let mut wang = contact(2, "王小明", "小明", "王");
    wang.emails = vec![Labelled::new("büro", "wang@example.cn")];
    wang.notes = "长".repeat(60) + "\n" + &"é".repeat(50);
    wang.birthday = Some(Birthday {
        year: Some(1990),
        month: 1,
        day: 2,
    });

    let mut khai = contact(3, "Nguyễn Thị Minh Khai", "Minh Khai", "Nguyễn Thị");
    khai.phones = vec![Labelled::new("", "+84 90 123 4567")];
    khai.addresses = vec![rolo::domain::Address {
        label: "home".into(),
        street: "12 Đường Lê Lợi; tầng 3".into(),
        city: "Huế".into(),
        region: String::new(),
        postcode: String::new(),
        country: "Việt Nam".into(),
    }];
    vec![
        (ana, Some("Acme, Inc.".to_string())),
        (wang, None),
        (khai, Some("Công ty Bình Minh".to_string())),
    ]
}

fn export(version: VcardVersion) -> Vec<u8> {
    let mut out = Vec::new();
    for (c, org) in sample_contacts() {
        write_card(&mut out, &c, org.as_deref(), version).unwrap();
    }
    out
}

#[test]
fn vcard_export_reads_back_identically() {
    for version in [VcardVersion::V3, VcardVersion::V4] {
        let bytes = export(version);
        for physical in bytes.split(|b| *b == b'\n') {
            let line = physical.strip_suffix(b"\r").unwrap_or(physical);
            assert!(line.len() <= 75, "{version:?}: {line:?}");
            // Folding never cuts a character in two.
            std::str::from_utf8(line).unwrap();
        }
        assert!(bytes.windows(2).filter(|w| w == b"\r\n").count() > 20);
        let back = ok(VcardReader::new(&bytes[..]).collect());
        for ((original, org), record) in sample_contacts().into_iter().zip(&back) {
            assert!(record.warnings.is_empty(), "{:?}", record.warnings);
            let c = stored(record);
            assert_eq!(c.name, original.name);
            assert_eq!(c.given_name, original.given_name);
            assert_eq!(c.family_name, original.family_name);
            assert_eq!(c.emails, original.emails, "{version:?}");
            assert_eq!(c.phones, original.phones, "{version:?}");
            assert_eq!(c.addresses, original.addresses);
            assert_eq!(c.notes, original.notes);
            assert_eq!(c.birthday, original.birthday);
            assert_eq!(c.title, original.title);
            assert_eq!(c.tags, original.tags);
            assert_eq!(c.stage, original.stage);
            assert_eq!(record.draft.organization, org.unwrap_or_default());
            let uid = if original.uid.is_empty() {
                format!("rolo-{}", original.id)
            } else {
                original.uid.clone()
            };
            assert_eq!(c.uid, uid);
        }
    }
}

#[test]
fn vcard_birthdays_per_version() {
    let v3 = String::from_utf8(export(VcardVersion::V3)).unwrap();
    let v4 = String::from_utf8(export(VcardVersion::V4)).unwrap();
    assert!(v3.contains("BDAY:--05-17\r\n") && v3.contains("BDAY:1990-01-02\r\n"));
    assert!(v4.contains("BDAY:--0517\r\n") && v4.contains("BDAY:19900102\r\n"));
    assert!(v3.contains("EMAIL;TYPE=INTERNET,WORK,PREF:ana@acme.example"));
    assert!(v3.contains("ORG:Acme\\, Inc.\r\n"));
}

#[test]
fn vobject_reads_our_vcards() {
    let available = std::process::Command::new("python3")
        .args(["-c", "import vobject"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("skipped: python3 with vobject is not available (pip install vobject)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.vcf");
    std::fs::write(&path, export(VcardVersion::V3)).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vobject_check.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cards = parsed.as_array().unwrap();
    assert_eq!(cards.len(), 3);
    for ((c, _), card) in sample_contacts().iter().zip(cards) {
        assert_eq!(card["fn"], c.name.as_str());
        assert_eq!(card["given"], c.given_name.as_str());
        assert_eq!(card["family"], c.family_name.as_str());
        let values = |key: &str| -> Vec<String> {
            card[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let emails: Vec<String> = c.emails.iter().map(|e| e.value.clone()).collect();
        let phones: Vec<String> = c.phones.iter().map(|e| e.value.clone()).collect();
        assert_eq!(values("emails"), emails);
        assert_eq!(values("phones"), phones);
        assert_eq!(card["note"], c.notes.as_str());
    }
}

#[test]
fn csv_export_header_and_round_trip() {
    let mut w = CsvWriter::new(Vec::new(), false).unwrap();
    let mut contacts = sample_contacts();
    contacts[0]
        .0
        .emails
        .push(Labelled::new("", "third@example.com"));
    contacts[0]
        .0
        .emails
        .push(Labelled::new("", "fourth@example.com"));
    contacts[1].0.tier = "=HYPERLINK(\"http://evil\")".into();
    for (c, org) in &contacts {
        w.write(c, org.as_deref()).unwrap();
    }
    let bytes = w.finish().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with(&EXPORT_HEADER.join(",")));
    assert!(text.contains("'=HYPERLINK"));
    assert!(text.contains("+33 6 12 34 56 78"));
    assert!(text.contains("third@example.com ::: fourth@example.com"));

    let rows = ok(CsvReader::new(&bytes[..], None, None).unwrap().collect());
    assert_eq!(rows.len(), 3);
    for ((original, org), row) in contacts.iter().zip(&rows) {
        let c = stored(row);
        assert_eq!(c.name, original.name);
        let values = |v: &[Labelled]| v.iter().map(|p| p.value.clone()).collect::<Vec<_>>();
        assert_eq!(values(&c.emails), values(&original.emails));
        assert_eq!(values(&c.phones), values(&original.phones));
        assert_eq!(c.notes, original.notes);
        assert_eq!(c.tags, original.tags);
        assert_eq!(c.birthday, original.birthday);
        assert_eq!(c.tier, original.tier);
        assert_eq!(row.draft.organization, org.clone().unwrap_or_default());
    }
}

#[test]
fn csv_formula_neutralisation() {
    let table = [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("+1-1", "'+1-1"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("+33 4 72 55 01 23", "+33 4 72 55 01 23"),
        ("+1 (555) 010-0199", "+1 (555) 010-0199"),
        ("-12.5", "-12.5"),
        ("+42", "+42"),
        ("Ana", "Ana"),
        ("", ""),
        ("a=b", "a=b"),
    ];
    for (input, expected) in table {
        assert_eq!(neutralise(input), expected, "{input:?}");
    }
}

/// Issue 14 item 15: phone cells a spreadsheet would read as a number (losing leading zeros)
/// or a formula (`+385 …`) start with a tab; anything else in a phone column is neutralised
/// like any cell.
#[test]
fn csv_phone_cells_stay_text_in_a_spreadsheet() {
    let table = [
        ("0012345678", "\t0012345678"),
        ("+385 1 234 5678", "\t+385 1 234 5678"),
        ("+1 (555) 010-0199", "\t+1 (555) 010-0199"),
        ("+1-1 ::: 0049 30 1234", "\t+1-1 ::: 0049 30 1234"),
        ("(01) 234 567", "(01) 234 567"),
        ("1-800-FLOWERS", "1-800-FLOWERS"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("=1+1", "'=1+1"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("", ""),
    ];
    for (input, expected) in table {
        assert_eq!(phone_cell(input), expected, "{input:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

fn json_records() -> Vec<JsonRecord> {
    let at = At::from_millis(1_764_000_000_123);
    sample_contacts()
        .into_iter()
        .map(|(contact, organization)| {
            let id = contact.id;
            JsonRecord {
                timeline: vec![
                    Entry::Interaction(Interaction {
                        id: id * 10,
                        contact: id,
                        at,
                        channel: Channel::Call,
                        direction: Direction::Inbound,
                        summary: "Asked about \"pricing\"".into(),
                        body: "line one\nline two".into(),
                        outcome: None,
                        satisfaction: Some(4),
                        agent: "sam".into(),
                        deal: None,
                        campaign: String::new(),
                    }),
                    Entry::FollowUp(FollowUp {
                        id: id * 10 + 1,
                        contact: id,
                        created: at,
                        due: "2026-12-01".parse::<Day>().unwrap(),
                        what: "Send quote".into(),
                        done_at: None,
                        assignee: "sam".into(),
                    }),
                    Entry::Purchase(Purchase {
                        id: id * 10 + 2,
                        contact: id,
                        at,
                        product: "Widget ]}".into(),
                        quantity: 2,
                        amount: 1999,
                        cost: 1200,
                        currency: "EUR".into(),
                        channel: "web".into(),
                        location: String::new(),
                    }),
                ],
                deals: vec![Deal {
                    id,
                    contact: Some(id),
                    organization: None,
                    title: "Renewal {2027}".into(),
                    stage: DealStage::Propose,
                    value: 500_000,
                    currency: "EUR".into(),
                    expected_close: None,
                    status: DealStatus::Open,
                    owner: "sam".into(),
                    version: 3,
                }],
                contact,
                organization,
            }
        })
        .collect()
}

#[test]
fn json_write_then_read_is_identical() {
    let records = json_records();
    let mut w = JsonWriter::new(Vec::new()).unwrap();
    for r in &records {
        w.write(r).unwrap();
    }
    let bytes = w.finish().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("{\"format\":\"rolo\",\"version\":1,\"contacts\":[\n"));
    assert_eq!(text.lines().count(), records.len() + 2);
    let whole: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(whole["contacts"].as_array().unwrap().len(), 3);

    let back: Vec<(u64, JsonRecord)> = JsonReader::new(&bytes[..])
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(back.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [2, 3, 4]);
    let back: Vec<JsonRecord> = back.into_iter().map(|(_, r)| r).collect();
    assert_eq!(back, records);

    // Pretty-printed by another tool, it still streams.
    let pretty = serde_json::to_vec_pretty(&whole).unwrap();
    let again: Vec<JsonRecord> = JsonReader::new(&pretty[..])
        .unwrap()
        .map(|r| r.unwrap().1)
        .collect();
    assert_eq!(again, records);

    // And as drafts through the common entry point.
    let drafts: Vec<ImportRecord> = read_records(Format::Json, &bytes[..], &Default::default())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(drafts[0].draft.organization, "Acme, Inc.");
}

#[test]
fn json_from_elsewhere_or_the_future_is_refused_clearly() {
    let err =
        JsonReader::new(&b"{\"format\":\"rolo\",\"version\":7,\"contacts\":[]}"[..]).unwrap_err();
    assert!(err.to_string().contains("newer rolo"), "{err}");
    let err = JsonReader::new(&b"[1,2]"[..]).unwrap_err();
    assert!(err.to_string().contains("not a rolo JSON export"), "{err}");
    let empty: Vec<_> =
        JsonReader::new(&b"{\"format\":\"rolo\",\"version\":1,\"contacts\":[\n]}\n"[..])
            .unwrap()
            .collect();
    assert!(empty.is_empty());
    let broken = b"{\"format\":\"rolo\",\"version\":1,\"contacts\":[\n{\"contact\":{}},\n";
    let items: Vec<_> = JsonReader::new(&broken[..]).unwrap().collect();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().line, 2);
}

// ---------------------------------------------------------------------------------------------
// Dedupe

#[test]
fn dedupe_finds_same_email_phone_and_similar_names_only() {
    let mut a = contact(1, "Ana Lopez", "", "");
    a.emails = vec![Labelled::new("", "Ana@Acme.example")];
    let mut b = contact(2, "A. Lopez", "", "");
    b.emails = vec![Labelled::new("", "ana@acme.example")];
    let mut c = contact(3, "Bob Stone", "", "");
    c.phones = vec![Labelled::new("", "+33 4 72 55 01 23")];
    let mut d = contact(4, "Robert Stone", "", "");
    d.phones = vec![Labelled::new("", "04 72 55 01 23")];
    let e = contact(5, "Nguyễn Văn An", "", "");
    let f = contact(6, "Nguyen Van An", "", "");
    let g = contact(7, "Nguyen Van Binh", "", "");
    let mut h = contact(8, "Unrelated Person", "", "");
    h.phones = vec![Labelled::new("", "123")];
    let mut i = contact(9, "Someone Else", "", "");
    i.phones = vec![Labelled::new("", "123")];
    let globex = Some("Globex".to_string());
    let pairs = duplicate_candidates(
        vec![
            (a, None),
            (b, None),
            (c, None),
            (d, None),
            (e, globex.clone()),
            (f, globex.clone()),
            (g, Some("Initech".to_string())),
            (h, None),
            (i, None),
        ]
        .into_iter(),
    );
    let mut found: Vec<(u64, u64, &str)> = pairs
        .iter()
        .map(|p| (p.a, p.b, p.reason.split(' ').next().unwrap_or("")))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [(1, 2, "same"), (3, 4, "same"), (5, 6, "similar")],
        "{pairs:#?}"
    );
    assert!(pairs.iter().any(|p| p.a == 1 && p.reason.contains("email")));
    assert!(pairs.iter().any(|p| p.a == 3 && p.reason.contains("phone")));
    assert!(pairs.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(pairs.iter().all(|p| p.score <= 100));
}
