//! `rolo import` / `export` / `dedupe` / `keys` / `themes` through the real binary, each test
//! with its own database and config directory in a temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs rolo on `db` (a file name in the temp dir).
    fn rolo_on(&self, db: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rolo"))
            .arg("--db")
            .arg(self.path(db))
            .args(args)
            .env_remove("ROLO_DB")
            .env_remove("ROLO_KEYMAP")
            .env_remove("ROLO_THEME")
            .env("ROLO_AS", "tester")
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .output()
            .unwrap()
    }

    fn rolo(&self, args: &[&str]) -> Output {
        self.rolo_on("rolo.redb", args)
    }

    fn contacts(&self, db: &str) -> u64 {
        let out = self.rolo_on(db, &["doctor", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["contacts"].as_u64().unwrap()
    }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stdout(o), stderr(o));
    stdout(o)
}

#[test]
fn imported_vcards_are_found_by_show() {
    let env = Env::new();
    let out = ok(&env.rolo(&["import", &fixture("interop/vcard30_apple.vcf")]));
    assert!(out.contains("created 1, updated 0"), "{out}");
    let shown = ok(&env.rolo(&["show", "ana@acme.example"]));
    assert!(shown.contains("Ana María Lopez"), "{shown}");
    assert!(shown.contains("#import-"), "batch tag missing: {shown}");
}

#[test]
fn importing_the_same_file_twice_updates_instead_of_duplicating() {
    let env = Env::new();
    let file = fixture("interop/vcard40_yearless.vcf");
    let first = ok(&env.rolo(&["import", &file, "--json"]));
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let created = first["created"].as_u64().unwrap();
    assert!(created > 0);
    let second = ok(&env.rolo(&["import", &file, "--json", "--tag", "again"]));
    let second: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(second["created"], 0);
    assert_eq!(second["updated"].as_u64(), Some(created));
    assert_eq!(env.contacts("rolo.redb"), created);
}

#[test]
fn an_ambiguous_record_becomes_a_merge_candidate_and_nothing_is_guessed() {
    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "Ana Lima", "-e", "ana@example.com"]));
    ok(&env.rolo(&["add", "-n", "Bo Chen", "-e", "bo@example.com"]));
    let file = fixture("cli/ambiguous.vcf");
    let out = env.rolo(&["import", &file]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("created 1, updated 0, merge candidates 1, failed 0"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{file}:1: merge candidate")) && err.contains("#1, #2"),
        "{err}"
    );
    assert_eq!(env.contacts("rolo.redb"), 3);
    let ana = ok(&env.rolo(&["show", "1"]));
    assert!(!ana.contains("bo@example.com"), "{ana}");
}

#[test]
fn bad_rows_are_reported_by_line_while_good_rows_land() {
    let env = Env::new();
    let file = fixture("interop/bad_rows.csv");
    let out = env.rolo(&["import", &file]);
    assert_eq!(out.status.code(), Some(8));
    let err = stderr(&out);
    assert!(err.contains(&format!("{file}:6: ")), "{err}");
    assert!(err.contains(&format!("{file}:7: ")), "{err}");
    assert!(stdout(&out).contains("created 3"), "{}", stdout(&out));
    ok(&env.rolo(&["show", "two@example.com"]));
    ok(&env.rolo(&["show", "multi@example.com"]));
}

#[test]
fn a_dry_run_writes_nothing() {
    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "Ana Lima", "-e", "ana@example.com"]));
    let out = ok(&env.rolo(&["import", "--dry-run", &fixture("interop/vcard30_apple.vcf")]));
    assert!(
        out.contains("dry run") && out.contains("created 1"),
        "{out}"
    );
    assert_eq!(env.contacts("rolo.redb"), 1);
}

#[test]
fn json_export_import_export_is_identical() {
    let env = Env::new();
    ok(&env.rolo(&["demo", "--contacts", "60", "--seed", "7"]));
    ok(&env.rolo(&[
        "add",
        "-n",
        "Zoë Custom",
        "--field",
        "shoe size=44",
        "--consent",
        "email=granted:newsletter",
        "--notes",
        "two\nlines",
    ]));
    ok(&env.rolo(&[
        "log",
        "Zoë Custom",
        "-s",
        "Called about renewal",
        "-f",
        "+3d",
    ]));
    ok(&env.rolo(&[
        "purchase",
        "Zoë Custom",
        "--product",
        "Kit",
        "--amount",
        "12.50",
    ]));
    let first = env.path("first.json");
    let second = env.path("second.json");
    ok(&env.rolo(&[
        "export",
        "--format",
        "json",
        "--out",
        first.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&first).unwrap();
    for needle in [
        "\"purchase\"",
        "\"followup\"",
        "\"consent\":[{",
        "\"custom\":{\"",
        "\"deals\":[{",
    ] {
        assert!(text.contains(needle), "the export lacks {needle}");
    }
    let out = ok(&env.rolo_on("empty.redb", &["import", first.to_str().unwrap()]));
    assert!(out.contains("created 61, updated 0"), "{out}");
    ok(&env.rolo_on(
        "empty.redb",
        &[
            "export",
            "--format",
            "json",
            "--out",
            second.to_str().unwrap(),
        ],
    ));
    assert!(
        text == std::fs::read_to_string(&second).unwrap(),
        "export → import → export changed the file"
    );
    // A second restore of the same file adds nothing.
    let again = ok(&env.rolo_on("empty.redb", &["import", first.to_str().unwrap()]));
    assert!(again.contains("created 0, updated 61"), "{again}");
    let third = env.path("third.json");
    ok(&env.rolo_on(
        "empty.redb",
        &[
            "export",
            "--format",
            "json",
            "--out",
            third.to_str().unwrap(),
        ],
    ));
    // Contacts, timelines, trash and organisations are unchanged; the audit trail records the
    // second import (an action like any other).
    let third = std::fs::read_to_string(&third).unwrap();
    let records = |t: &str| t[..t.find("\n],\"audit\":[").expect("audit member")].to_string();
    assert!(records(&text) == records(&third));
    assert!(third.len() > text.len() && third.contains("\"action\":\"import "));
}

#[test]
fn csv_export_neutralises_formulas_but_keeps_phone_numbers() {
    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "=cmd()", "-p", "+33 4 72 55 01 23"]));
    let csv = ok(&env.rolo(&["export", "--format", "csv"]));
    assert!(
        csv.starts_with("id,name,given_name,family_name,organization"),
        "{csv}"
    );
    assert!(csv.contains(",'=cmd(),"), "{csv}");
    assert!(csv.contains(",\t+33 4 72 55 01 23,"), "{csv}");
    let raw = ok(&env.rolo(&["export", "--format", "csv", "--raw"]));
    assert!(raw.contains(",=cmd(),"), "{raw}");
}

#[test]
fn exporting_one_contact_includes_the_timeline() {
    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "Ana Lima", "-e", "ana@example.com"]));
    ok(&env.rolo(&["add", "-n", "Bo Chen"]));
    ok(&env.rolo(&["log", "Ana Lima", "-s", "Called about renewal"]));
    let out = ok(&env.rolo(&["export", "--contact", "ana@example.com"]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let records = doc["contacts"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["contact"]["name"], "Ana Lima");
    assert_eq!(
        records[0]["timeline"][0]["interaction"]["summary"],
        "Called about renewal"
    );
    // Right of access: who changed what about her, and nothing about anyone else.
    let actions: Vec<&str> = doc["history"]
        .as_array()
        .expect("a history member")
        .iter()
        .map(|h| h["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["add contact", "log call"]);
    // The document still imports like any rolo JSON export.
    let file = env.dir.path().join("ana.json");
    std::fs::write(&file, &out).unwrap();
    let other = Env::new();
    ok(&other.rolo(&["import", file.to_str().unwrap()]));
    assert!(ok(&other.rolo(&["show", "Ana Lima"])).contains("Called about renewal"));
}

#[test]
fn vcard_export_round_trips_through_import() {
    let env = Env::new();
    ok(&env.rolo(&["demo", "--contacts", "40"]));
    let out = env.path("all.vcf");
    ok(&env.rolo(&[
        "export",
        "--format",
        "vcard",
        "--version",
        "4.0",
        "--out",
        out.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("BEGIN:VCARD").count(), 40);
    assert!(text.contains("VERSION:4.0"));
    let report = ok(&env.rolo_on("copy.redb", &["import", out.to_str().unwrap(), "--json"]));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        report["created"].as_u64().unwrap() + report["updated"].as_u64().unwrap(),
        40
    );
}

#[test]
fn dedupe_finds_a_planted_duplicate() {
    let env = Env::new();
    ok(&env.rolo(&["demo", "--contacts", "30"]));
    ok(&env.rolo(&["add", "-n", "Jon Smithers", "-p", "+44 20 7946 0123"]));
    ok(&env.rolo(&["add", "-n", "John Smithers", "-p", "+44 (0)20 7946 0123"]));
    let out = ok(&env.rolo(&["dedupe", "--json"]));
    let pairs: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        pairs.as_array().unwrap().iter().any(|p| p["a"] == 31
            && p["b"] == 32
            && p["reason"].as_str().unwrap().contains("phone")),
        "{out}"
    );
}

#[test]
fn keys_markdown_matches_the_readme() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&readme).expect("README.md");
    let start = text
        .find("<!-- keys:start -->")
        .expect("README has the generated key table")
        + "<!-- keys:start -->".len();
    let end = text
        .find("<!-- keys:end -->")
        .expect("README key table has its end marker");
    let env = Env::new();
    let generated = ok(&env.rolo(&["keys", "--markdown"]));
    assert_eq!(
        text[start..end].trim(),
        generated.trim(),
        "README key table is stale: paste `rolo keys --markdown` between the keys markers"
    );
}

#[test]
fn keys_check_lists_every_problem_with_its_line() {
    let env = Env::new();
    let file = fixture("cli/bad_keymap.toml");
    let out = env.rolo(&["keys", "--check", &file]);
    assert_eq!(out.status.code(), Some(5));
    let err = stderr(&out);
    for line in [
        ":4: bad key `ctrl-pgupp`",
        ":5: unknown command `frobnicate`",
        ":7: unknown context `nowhere`",
    ] {
        assert!(
            err.contains(&format!("{file}{line}")),
            "missing {line} in:\n{err}"
        );
    }
    ok(&env.rolo(&["keys", "--check", &fixture("../../keymaps/vim.toml")]));
    let text = ok(&env.rolo(&["keys"]));
    assert!(text.contains("[global]") && text.contains("quit"), "{text}");
}

#[test]
fn themes_lists_the_six_shipped_themes_and_marks_the_active_one() {
    let env = Env::new();
    let out = ok(&env.rolo(&["themes"]));
    let names: Vec<&str> = out.lines().map(|l| l[2..].trim()).collect();
    for theme in [
        "default",
        "light",
        "high-contrast",
        "ansi16",
        "mono",
        "gruvbox",
    ] {
        assert!(names.contains(&theme), "{theme} missing: {out}");
    }
    assert_eq!(names.len(), 6, "{out}");
    assert!(out.contains("* default"), "{out}");
    let light = ok(&env.rolo(&["--theme", "light", "themes"]));
    assert!(light.contains("* light"), "{light}");
    let bad = env.rolo(&["themes", "--check", &fixture("themes/unknown_slot.toml")]);
    assert_eq!(bad.status.code(), Some(5));
    assert!(
        stderr(&bad).contains("unknown_slot.toml:"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn warnings_name_the_file_and_line_and_do_not_fail_the_import() {
    let env = Env::new();
    let file = fixture("interop/abook.vcf");
    let out = env.rolo(&["import", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{file}:4: warning: ")), "{err}");
}

#[test]
fn a_dry_run_on_a_missing_database_does_not_create_it() {
    let env = Env::new();
    let out = ok(&env.rolo_on(
        "never.redb",
        &["import", "--dry-run", &fixture("interop/vcard30_apple.vcf")],
    ));
    assert!(out.contains("created 1"), "{out}");
    assert!(!env.path("never.redb").exists());
}

#[test]
fn a_file_of_unknown_format_is_refused_before_the_database_is_touched() {
    let env = Env::new();
    let file = env.path("notes.txt");
    std::fs::write(&file, "hello\n").unwrap();
    let out = env.rolo(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5));
    assert!(stderr(&out).contains("--format"), "{}", stderr(&out));
    assert!(!env.path("rolo.redb").exists());
}

#[test]
fn export_to_a_file_leaves_only_the_finished_file() {
    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "Ana Lima", "-e", "ana@example.com"]));
    let dir = env.path("out");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("contacts.vcf");
    ok(&env.rolo(&["export", "--out", file.to_str().unwrap()]));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["contacts.vcf".to_string()],
        "format from the extension, no temp file"
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("FN:Ana Lima")
    );
    let missing = env.rolo(&[
        "export",
        "--format",
        "csv",
        "--out",
        "/nonexistent-dir/x.csv",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("/nonexistent-dir/x.csv"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn into_an_empty_database_duplicates_within_the_file_still_match() {
    // An import into an empty database holds its index rows back until it ends (one
    // transaction); records later in the file must still find earlier ones.
    let env = Env::new();
    let cards = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Lima\r\nEMAIL:ana@example.com\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Lima\r\nEMAIL:ANA@example.com\r\nTITLE:CFO\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-7\r\nFN:Bo Chen\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo Chen\r\nTEL:+1 (555) 0100\r\nNOTE:same digits, same name\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-7\r\nFN:Bo C.\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cy Diaz\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n";
    let file = env.path("dupes.vcf");
    std::fs::write(&file, cards).unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(&env.rolo(&[
        "import",
        file.to_str().unwrap(),
        "--json",
    ])))
    .unwrap();
    assert_eq!(report["created"], 3, "{report}");
    assert_eq!(report["updated"], 3, "{report}");
    assert_eq!(env.contacts("rolo.redb"), 3);
    let ana = ok(&env.rolo(&["show", "ana@example.com"]));
    assert!(ana.contains("CFO"), "{ana}");
}

#[test]
fn a_uid_merged_away_matches_reimports_but_not_a_restore_of_two_contacts() {
    let env = Env::new();
    let card = |uid: &str, name: &str, email: &str, extra: &str| {
        format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{email}\r\n{extra}END:VCARD\r\n"
        )
    };
    let first = env.path("first.vcf");
    let both = card("urn:a", "Ana Lima", "ana@crm.example", "")
        + &card("urn:b", "Ana Lima", "ana@phone.example", "");
    std::fs::write(&first, both).unwrap();
    ok(&env.rolo(&["import", first.to_str().unwrap()]));
    ok(&env.rolo(&["merge", "1", "2"]));
    assert_eq!(env.contacts("rolo.redb"), 1);
    // The phone's export again, with a new address: it updates the survivor.
    let again = env.path("again.vcf");
    std::fs::write(
        &again,
        card("urn:b", "Ana L.", "ana@new.example", "TITLE:CTO\r\n"),
    )
    .unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(&env.rolo(&[
        "import",
        again.to_str().unwrap(),
        "--json",
    ])))
    .unwrap();
    assert_eq!(report["updated"], 1, "{report}");
    assert_eq!(env.contacts("rolo.redb"), 1);
    let ana = ok(&env.rolo(&["show", "ana@new.example"]));
    assert!(
        ana.contains("CTO") && ana.contains("ana@crm.example"),
        "{ana}"
    );
    // Another contact may own that uid itself (here from a rolo JSON file); a restore of the
    // whole database keeps the two apart.
    let nora = env.path("nora.json");
    std::fs::write(
        &nora,
        r#"{"format":"rolo","version":1,"contacts":[{"contact":{"id":9,"name":"Nora North","given_name":"","family_name":"","organization":null,"title":"","emails":[{"label":"work","value":"nora@x.example"}],"phones":[],"addresses":[],"birthday":null,"language":"","preferred_channel":null,"stage":"lead","tier":"","owner":"sam","source":"","tags":[],"custom":{},"consent":[],"notes":"","uid":"urn:b","created":{"at":"2026-11-26T02:56:46.141Z","by":"sam"},"updated":{"at":"2026-11-26T02:56:46.141Z","by":"sam"},"version":1},"organization":null,"timeline":[],"deals":[]}]}"#,
    )
    .unwrap();
    ok(&env.rolo(&["import", nora.to_str().unwrap()]));
    assert_eq!(env.contacts("rolo.redb"), 2);
    let dump = env.path("all.json");
    ok(&env.rolo(&[
        "export",
        "--format",
        "json",
        "--out",
        dump.to_str().unwrap(),
    ]));
    ok(&env.rolo_on("copy.redb", &["import", dump.to_str().unwrap()]));
    assert_eq!(env.contacts("copy.redb"), 2);
    let copy = ok(&env.rolo_on("copy.redb", &["doctor"]));
    assert!(copy.contains("indexes     ok"), "{copy}");
}

/// A rolo JSON restore into an empty database gives back the same database: ids, records,
/// timelines, trash, audit trail (with what was undone) and id counters — the re-export is the
/// same file, byte for byte. 20,000 demo contacts is a size at which demo people share emails
/// and phones (at 5,000 they do not), which an import that matched by them folded together.
#[test]
fn a_json_restore_of_20000_contacts_is_byte_identical_with_trash_and_audit() {
    let env = Env::new();
    ok(&env.rolo(&["demo", "--contacts", "20000", "--seed", "1"]));
    ok(&env.rolo(&["add", "-n", "Zed Real", "-e", "zed@x.example"]));
    ok(&env.rolo(&["rm", "5"]));
    ok(&env.rolo(&["add", "-n", "Undone One"]));
    ok(&env.rolo(&["undo"]));
    let first = env.path("first.json");
    let second = env.path("second.json");
    ok(&env.rolo(&[
        "export",
        "--format",
        "json",
        "--out",
        first.to_str().unwrap(),
    ]));
    let out = ok(&env.rolo_on(
        "restored.redb",
        &["import", first.to_str().unwrap(), "--json"],
    ));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["created"], 20_000, "{out}");
    assert_eq!(report["updated"], 0, "nobody folded into anybody: {out}");
    ok(&env.rolo_on(
        "restored.redb",
        &[
            "export",
            "--format",
            "json",
            "--out",
            second.to_str().unwrap(),
        ],
    ));
    let (a, b) = (
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
    );
    assert!(a == b, "the re-export differs from the export");
    let text = String::from_utf8_lossy(&a);
    assert!(text.contains("\"trash\":["), "the export carries the trash");
    assert!(text.contains("\"action\":\"undo: add contact\""));
    // The trash came back and restores.
    let trash = ok(&env.rolo_on("restored.redb", &["trash"]));
    assert!(
        trash.contains("Undone One") && trash.contains("     5 "),
        "{trash}"
    );
    // Undo does not reach back past the restore into the file's history.
    let undo = env.rolo_on("restored.redb", &["undo"]);
    assert_eq!(undo.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&undo.stderr).contains("restored"));
    ok(&env.rolo_on("restored.redb", &["restore", "5"]));
    // A new contact does not reuse an id the audit trail already tells about.
    let added = ok(&env.rolo_on("restored.redb", &["add", "-n", "New After Restore"]));
    assert!(added.contains("#20003"), "{added}");
}

#[test]
fn a_json_import_into_a_nonempty_database_merges_and_says_what_it_skipped() {
    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "Ana Lima", "-e", "ana@x.example"]));
    ok(&env.rolo(&["add", "-n", "Gone Person"]));
    ok(&env.rolo(&["rm", "2"]));
    let file = env.path("a.json");
    ok(&env.rolo(&[
        "export",
        "--format",
        "json",
        "--out",
        file.to_str().unwrap(),
    ]));
    let other = "other.redb";
    ok(&env.rolo_on(other, &["add", "-n", "Ana L.", "-e", "ana@x.example"]));
    let out = env.rolo_on(other, &["import", file.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("created 0, updated 1"),
        "{}",
        stdout(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("restored only into an empty database"),
        "{err}"
    );
    assert!(stdout(&env.rolo_on(other, &["trash"])).contains("empty"));
}
