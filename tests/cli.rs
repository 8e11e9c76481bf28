//! End-to-end runs of the real `rolo` binary: what a script or a support agent at a shell sees.

mod common;

use common::{ok, rolo};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("rolo.redb");
    (dir, db)
}

#[test]
fn add_log_show_json_shows_the_interaction() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Horvat",
            "--email",
            "ana@acme.example",
            "--org",
            "Acme d.o.o.",
        ],
    );
    let logged = ok(
        &db,
        &[
            "log",
            "ana@acme.example",
            "--channel",
            "call",
            "--summary",
            "Asked about invoice 42",
            "--follow-up",
            "+3d",
        ],
    );
    assert!(logged.contains("Logged call with Ana Horvat"), "{logged}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&db, &["show", "ana", "--json"])).expect("json");
    assert_eq!(json["contact"]["name"], "Ana Horvat");
    assert_eq!(json["organization"], "Acme d.o.o.");
    let timeline = json["timeline"].as_array().expect("timeline");
    let call = timeline
        .iter()
        .find_map(|e| e.get("interaction"))
        .expect("an interaction");
    assert_eq!(call["summary"], "Asked about invoice 42");
    assert_eq!(call["channel"], "call");
    assert_eq!(
        call["agent"], "sam",
        "the acting agent is stamped on the interaction"
    );
    assert!(
        timeline.iter().any(|e| e.get("followup").is_some()),
        "the follow-up is on the timeline"
    );
    assert!(json["next_due"].is_string());
}

#[test]
fn an_ambiguous_contact_lists_the_candidates_and_exits_4() {
    let (_dir, db) = temp_db();
    ok(&db, &["add", "--name", "Ana Horvat"]);
    ok(&db, &["add", "--name", "Ana Horvatić"]);
    let out = rolo(&db, &["show", "ana"]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("matches several contacts")
            && err.contains("Ana Horvat")
            && err.contains("Ana Horvatić"),
        "{err}"
    );
    let out = rolo(&db, &["show", "nobody-at-all"]);
    assert_eq!(out.status.code(), Some(4));
    // An exact name wins over partial matches.
    assert!(ok(&db, &["show", "Ana Horvat"]).contains("Ana Horvat (#1)"));
}

#[test]
fn invalid_input_exits_5_and_writes_nothing() {
    let (_dir, db) = temp_db();
    let out = rolo(&db, &["add", "--name", "X", "--email", "not-an-email"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an email address"));
    ok(&db, &["add", "--name", "Y"]);
    let out = rolo(
        &db,
        &["log", "Y", "--summary", "x", "--follow-up", "someday"],
    );
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("+3d"));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&db, &["search", "x", "--json"])).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(0));
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &[
            "add",
            "--name",
            "Evil\u{1b}[2JName",
            "--notes",
            "bell\u{7} and \u{1b}]0;title\u{7}",
        ],
    );
    for args in [&["show", "evil"][..], &["search", "evil"], &["history"]] {
        let out = rolo(&db, args);
        assert!(out.status.success());
        assert!(
            !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
            "{args:?} leaked a control byte"
        );
    }
}

#[test]
fn delete_restore_and_undo_from_the_shell() {
    let (_dir, db) = temp_db();
    ok(&db, &["add", "--name", "Marco Rossi"]);
    ok(&db, &["log", "Marco Rossi", "--summary", "Renewal"]);
    ok(&db, &["rm", "1"]);
    assert_eq!(rolo(&db, &["show", "marco"]).status.code(), Some(4));
    assert!(ok(&db, &["trash"]).contains("Marco Rossi"));
    ok(&db, &["undo"]);
    assert!(
        ok(&db, &["show", "marco"]).contains("Renewal"),
        "undo of a delete brings the timeline back"
    );
    ok(&db, &["undo"]);
    assert!(
        !ok(&db, &["show", "marco"]).contains("Renewal"),
        "second undo takes the call back"
    );
    let out = rolo(&db, &["--as", "ana", "undo"]);
    assert_eq!(out.status.code(), Some(6), "ana has nothing to undo");
}

#[test]
fn doctor_and_backup_on_demo_data() {
    let (dir, db) = temp_db();
    ok(&db, &["demo", "--contacts", "150", "--seed", "4"]);
    assert!(ok(&db, &["doctor"]).contains("indexes     ok"));
    let copy = dir.path().join("copy.redb");
    ok(&db, &["backup", copy.to_str().expect("path")]);
    let a = ok(&db, &["search", "a", "--json", "--limit", "1000"]);
    let b = ok(&copy, &["search", "a", "--json", "--limit", "1000"]);
    assert_eq!(a, b);
    assert!(ok(&copy, &["doctor"]).contains("integrity   ok"));
    assert_eq!(
        rolo(&db, &["backup", copy.to_str().expect("path")])
            .status
            .code(),
        Some(1),
        "never overwrites"
    );
}

/// A writer that logs forever and prints each committed id.
fn commit_loop(db: &Path, contact: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rolo"))
        .arg("--db")
        .arg(db)
        .args(["bench", "commit-loop", contact])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn commit loop")
}

#[test]
fn commands_work_while_another_process_keeps_writing() {
    let (_dir, db) = temp_db();
    ok(&db, &["add", "--name", "Holder"]);
    let mut child = commit_loop(&db, "1");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    lines.next().expect("first commit").expect("read");
    let shown = rolo(&db, &["show", "1"]);
    let searched = rolo(&db, &["search", "holder"]);
    let logged = rolo(&db, &["log", "1", "--summary", "beside the loop"]);
    let history = rolo(&db, &["history", "--limit", "3"]);
    let _ = child.kill();
    let _ = child.wait();
    for out in [&shown, &searched, &logged, &history] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(String::from_utf8_lossy(&searched.stdout).contains("Holder"));
}

#[test]
fn without_the_server_a_second_process_gets_a_clear_message_naming_the_file() {
    let (_dir, db) = temp_db();
    ok(&db, &["--no-server", "add", "--name", "Holder"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolo"))
        .arg("--db")
        .arg(&db)
        .args(["--no-server", "bench", "commit-loop", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn commit loop");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    lines.next().expect("first commit").expect("read");
    let out = rolo(&db, &["--no-server", "show", "1"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(&db.display().to_string()) && err.contains("another rolo process"),
        "{err}"
    );
}

#[test]
fn committed_interactions_survive_sigkill() {
    let (_dir, db) = temp_db();
    ok(&db, &["add", "--name", "Crash Test"]);
    let mut child = commit_loop(&db, "1");
    let mut reported = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let started = Instant::now();
    while reported.len() < 200 && started.elapsed() < Duration::from_secs(60) {
        match lines.next() {
            Some(Ok(line)) => reported.push(line.trim().parse::<u64>().expect("id")),
            _ => break,
        }
    }
    child.kill().expect("SIGKILL"); // std's kill() sends SIGKILL on unix
    let _ = child.wait();
    assert!(
        reported.len() >= 50,
        "the loop committed {} interactions",
        reported.len()
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&db, &["show", "1", "--json", "--limit", "100000"]))
            .expect("json");
    let stored: std::collections::BTreeSet<u64> = json["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["interaction"]["id"].as_u64())
        .collect();
    for id in &reported {
        assert!(
            stored.contains(id),
            "interaction {id} was reported committed but is missing"
        );
    }
    let doctor = rolo(&db, &["doctor"]);
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );
}

#[test]
fn completions_are_generated_without_a_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("never-created.redb");
    let out = ok(&db, &["completions", "bash"]);
    assert!(out.contains("rolo"));
    assert!(!db.exists());
}

#[test]
fn merge_moves_the_history_dry_run_writes_nothing_and_undo_splits_them_again() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &["add", "--name", "Ana Horvat", "--email", "ana@acme.example"],
    );
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Horvat-Kovač",
            "--email",
            "ana.k@home.example",
            "--tag",
            "vip",
        ],
    );
    ok(&db, &["log", "2", "--summary", "Asked for a refund"]);
    let dry: serde_json::Value =
        serde_json::from_str(&ok(&db, &["merge", "1", "2", "--dry-run", "--json"])).expect("json");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["moved"], 1);
    assert_eq!(dry["contact"]["emails"].as_array().map(Vec::len), Some(2));
    assert!(
        ok(&db, &["show", "2"]).contains("Asked for a refund"),
        "dry run wrote nothing"
    );

    let done = ok(&db, &["merge", "1", "2"]);
    assert!(
        done.contains("Merged Ana Horvat-Kovač (#2) into #1"),
        "{done}"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&db, &["show", "1", "--json"])).expect("json");
    assert_eq!(
        shown["timeline"][0]["interaction"]["summary"],
        "Asked for a refund"
    );
    assert_eq!(shown["contact"]["tags"][0], "vip");
    let gone = rolo(&db, &["show", "2"]);
    assert_eq!(gone.status.code(), Some(4), "the absorbed contact is gone");
    assert!(ok(&db, &["history"]).contains("merge contact 2 into 1"));

    ok(&db, &["undo"]);
    assert!(ok(&db, &["show", "2"]).contains("Asked for a refund"));
    assert!(!ok(&db, &["show", "1"]).contains("Asked for a refund"));
    assert!(ok(&db, &["doctor"]).contains("ok"));
    let same = rolo(&db, &["merge", "1", "1"]);
    assert_eq!(same.status.code(), Some(5));
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly_not_with_a_panic() {
    use std::io::Read;
    let (_dir, db) = temp_db();
    // Enough that `search` prints more than a pipe holds. This is about the process's own
    // handle on the file closing cleanly, so it runs without a server.
    ok(&db, &["--no-server", "demo", "--contacts", "1500"]);
    for args in [
        &["export", "--format", "json"][..],
        &["export", "--format", "csv"],
        &["export", "--format", "vcard"],
        &["search", "a", "--limit", "5000"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rolo"))
            .arg("--db")
            .arg(&db)
            .arg("--no-server")
            .args(args)
            .env("XDG_CONFIG_HOME", db.parent().unwrap_or(&db))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = [0u8; 16];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("some output");
        // The pipe's read end is dropped here, mid-output.
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            out.status.code() == Some(141) || out.status.success(),
            "{args:?}: {:?} {stderr}",
            out.status
        );
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        // The database was closed cleanly: the next open needs no repair.
        let repaired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&repaired);
        let db_handle = redb::Database::builder()
            .set_repair_callback(move |_| flag.store(true, std::sync::atomic::Ordering::SeqCst))
            .open(&db)
            .expect("reopen");
        drop(db_handle);
        assert!(
            !repaired.load(std::sync::atomic::Ordering::SeqCst),
            "{args:?} left the database needing a repair"
        );
    }
}

fn code(db: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = rolo(db, args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn names_in_trash(db: &Path) -> usize {
    let json: serde_json::Value =
        serde_json::from_str(&ok(db, &["trash", "--json"])).expect("trash json");
    json.as_array().map_or(0, Vec::len)
}

/// The reported traps: in a database of #1 and #2, `rm 7` trashed #2 (its phone holds a 7) and
/// `rm real@x.example` trashed someone whose name matched loosely.
#[test]
fn a_write_never_acts_on_a_guessed_contact() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &["add", "--name", "Ana Horvat", "--email", "ana@acme.example"],
    );
    ok(
        &db,
        &[
            "add",
            "--name",
            "Mary Davis",
            "--email",
            "mary@x.example",
            "--phone",
            "+1 555 777 1234",
            "--org",
            "Vandelay",
        ],
    );
    let (c, err) = code(&db, &["rm", "7"]);
    assert_eq!(c, Some(4), "{err}");
    assert!(err.contains("no contact #7"), "{err}");
    let (c, err) = code(&db, &["rm", "#7"]);
    assert_eq!(c, Some(4), "{err}");
    let (c, err) = code(&db, &["rm", "real@x.example"]);
    assert_eq!(c, Some(4), "{err}");
    assert!(
        err.contains("no contact has the email real@x.example"),
        "{err}"
    );
    let (c, err) = code(&db, &["rm", "+1 555 000 0000"]);
    assert_eq!(c, Some(4), "{err}");
    assert_eq!(names_in_trash(&db), 0, "nobody was trashed");

    // A partial name that matches one contact is still a guess for a write: refused, with
    // what is needed to pick an id.
    for args in [
        &["rm", "mary"][..],
        &["edit", "mary", "--title", "CEO"],
        &["log", "mary", "--summary", "x"],
        &["purchase", "mary", "--product", "Kit", "--amount", "1"],
        &["merge", "1", "mary"],
        &["merge", "mary", "1"],
    ] {
        let (c, err) = code(&db, args);
        assert_eq!(c, Some(4), "{args:?}: {err}");
        assert!(
            err.contains("does not guess")
                && err.contains("2  Mary Davis")
                && err.contains("mary@x.example")
                && err.contains("+1 555 777 1234")
                && err.contains("Vandelay"),
            "{args:?}: {err}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&ok(&db, &["show", "2", "--json"])).expect("json");
    assert_eq!(
        json["contact"]["title"], "",
        "the refused edit wrote nothing"
    );
    assert_eq!(json["timeline"].as_array().map(Vec::len), Some(0));
    assert_eq!(names_in_trash(&db), 0);

    // Reads may take a single search hit, but an id is still only an id.
    assert!(ok(&db, &["show", "mary"]).contains("Mary Davis (#2)"));
    let (c, err) = code(&db, &["show", "7"]);
    assert_eq!(c, Some(4), "{err}");

    // Exact forms act: id, #id, email (any case), phone digits, the full name folded.
    ok(&db, &["log", "MARY@x.example", "--summary", "by email"]);
    ok(&db, &["log", "+1 (555) 777-1234", "--summary", "by phone"]);
    ok(&db, &["log", "mary davis", "--summary", "by name"]);
    ok(&db, &["log", "#2", "--summary", "by id"]);
    let shown = ok(&db, &["show", "2"]);
    for s in ["by email", "by phone", "by name", "by id"] {
        assert!(shown.contains(s), "{s}: {shown}");
    }
    ok(&db, &["rm", "2"]);
    assert_eq!(names_in_trash(&db), 1);
}

#[test]
fn an_all_digit_phone_is_not_taken_for_an_id_but_named() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &["add", "--name", "Ana Horvat", "--phone", "0912345678"],
    );
    let (c, err) = code(&db, &["rm", "0912345678"]);
    assert_eq!(c, Some(4), "{err}");
    assert!(
        err.contains("no contact #0912345678") && err.contains("1  Ana Horvat"),
        "the owner of the number is shown to pick the id from: {err}"
    );
    assert_eq!(names_in_trash(&db), 0);
    ok(&db, &["rm", "091 234 5678"]);
    assert_eq!(names_in_trash(&db), 1);
}

#[test]
fn two_people_of_one_name_or_email_are_listed_not_picked() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Horvat",
            "--email",
            "info@acme.example",
        ],
    );
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Horvat",
            "--email",
            "info@acme.example",
            "--phone",
            "+385 1 111 2222",
        ],
    );
    for args in [
        &["rm", "Ana Horvat"][..],
        &["rm", "info@acme.example"],
        &["show", "ana horvat"],
    ] {
        let (c, err) = code(&db, args);
        assert_eq!(c, Some(4), "{args:?}: {err}");
        assert!(
            err.contains("1  Ana Horvat")
                && err.contains("2  Ana Horvat")
                && err.contains("+385 1 111 2222"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(names_in_trash(&db), 0);
}

/// A typo in `--db` for a read (or a change to existing data) says so, exits 10 and leaves
/// neither a file nor its folder behind; `add` creates the database.
#[test]
fn a_missing_database_is_reported_and_never_created_by_a_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("typo");
    let db = folder.join("rolo.redb");
    let backup = dir.path().join("copy.redb");
    let backup_arg = backup.to_str().expect("utf-8 path");
    for args in [
        &["show", "1"][..],
        &["search", "ana"],
        &["history"],
        &["trash"],
        &["followups"],
        &["doctor"],
        &["dedupe"],
        &["export", "--format", "json"],
        &["backup", backup_arg],
        &["rm", "1"],
        &["edit", "1", "--title", "x"],
        &["log", "1", "--summary", "x"],
        &["undo"],
        &["restore", "1"],
        &["done", "1"],
    ] {
        let (c, err) = code(&db, args);
        assert_eq!(c, Some(10), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no database at {}", db.display())),
            "{args:?}: {err}"
        );
        assert!(!folder.exists(), "{args:?} created the folder");
        assert!(!backup.exists(), "{args:?} wrote a backup of nothing");
    }
    // The interface refuses a non-terminal (as here) before it would create the database.
    let (c, err) = code(&db, &[]);
    assert_eq!(c, Some(1), "{err}");
    assert!(err.contains("interactive terminal"), "{err}");
    assert!(!folder.exists(), "a refused interface created the database");
    ok(&db, &["add", "--name", "Ana Horvat"]);
    assert!(db.exists(), "add creates the database");
    assert!(ok(&db, &["show", "1"]).contains("Ana Horvat"));
}

/// Every exit code of the README's table that a test can trigger.
#[test]
fn exit_codes_follow_the_documented_table() {
    let (dir, db) = temp_db();
    let missing = dir.path().join("nowhere.redb");
    ok(
        &db,
        &["add", "--name", "Ana Horvat", "--email", "ana@acme.example"],
    );
    let bad_keymap = dir.path().join("bad-keymap.toml");
    std::fs::write(&bad_keymap, "[global]\nquit = \"ctrl-nonsense-key\"\n").expect("write");
    let bad_keymap = bad_keymap.to_str().expect("utf-8 path");
    let cases: Vec<(i32, Vec<&str>)> = vec![
        (0, vec!["show", "1"]),
        (2, vec!["frobnicate"]),
        (2, vec!["show"]),
        (4, vec!["show", "99"]),
        (4, vec!["rm", "nobody@x.example"]),
        (4, vec!["done", "99"]),
        (4, vec!["restore", "99"]),
        (5, vec!["add", "--name", "X", "--email", "not-an-email"]),
        (5, vec!["log", "1", "-s", "x", "--follow-up", "someday"]),
        // An unknown keymap or theme is invalid input, not "contact not found"...
        (5, vec!["keys", "--keymap", "nope"]),
        (5, vec!["keys", "--check", bad_keymap]),
        // ...and the full-screen interface refuses them before taking the screen, not with 0.
        (5, vec!["--keymap", "nope"]),
        (5, vec!["--theme", "nope"]),
        (5, vec!["--keymap", bad_keymap]),
        (6, vec!["--as", "nobody", "undo"]),
    ];
    for (want, args) in &cases {
        let (c, err) = code(&db, args);
        assert_eq!(c, Some(*want), "rolo {args:?}: {err}");
        if *want != 0 {
            assert!(!err.trim().is_empty(), "rolo {args:?} said nothing");
        }
    }
    let (c, err) = code(&missing, &["show", "1"]);
    assert_eq!(c, Some(10), "{err}");
    let (c, err) = code(&missing, &["--theme", "nope"]);
    assert_eq!(c, Some(5), "{err}");
    assert!(!missing.exists(), "a refused start creates no database");
}

fn phones_and_emails(db: &Path) -> (Vec<String>, Vec<String>) {
    let json: serde_json::Value =
        serde_json::from_str(&ok(db, &["show", "1", "--json"])).expect("json");
    let list = |k: &str| -> Vec<String> {
        json["contact"][k]
            .as_array()
            .expect("list")
            .iter()
            .map(|l| {
                format!(
                    "{}:{}",
                    l["label"].as_str().unwrap_or(""),
                    l["value"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    (list("phones"), list("emails"))
}

/// Reported: adding a work number with `rolo edit --phone` deleted both phones.
#[test]
fn edit_adds_removes_and_replaces_emails_and_phones_explicitly() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Horvat",
            "--phone",
            "+385 91 234 5678",
            "--phone",
            "home:+385 1 555 0000",
            "--email",
            "ana@acme.example",
        ],
    );
    ok(&db, &["edit", "1", "--phone", "work:+385 1 999 8888"]);
    let (phones, _) = phones_and_emails(&db);
    assert_eq!(
        phones,
        [
            "mobile:+385 91 234 5678",
            "home:+385 1 555 0000",
            "work:+385 1 999 8888"
        ],
        "a bare --phone on edit adds, like --tag"
    );
    ok(
        &db,
        &[
            "edit",
            "1",
            "--rm-phone",
            "+38515550000",
            "--add-email",
            "home:ana@home.example",
        ],
    );
    let (phones, emails) = phones_and_emails(&db);
    assert_eq!(phones, ["mobile:+385 91 234 5678", "work:+385 1 999 8888"]);
    assert_eq!(emails, ["work:ana@acme.example", "home:ana@home.example"]);
    // Adding one already there relabels it instead of doubling it.
    ok(&db, &["edit", "1", "--email", "private:ANA@home.example"]);
    assert_eq!(
        phones_and_emails(&db).1,
        ["work:ana@acme.example", "private:ana@home.example"]
    );

    // Removing what is not there is refused and changes nothing (the title neither).
    let (c, err) = code(
        &db,
        &[
            "edit",
            "1",
            "--rm-email",
            "typo@acme.example",
            "--title",
            "CTO",
        ],
    );
    assert_eq!(c, Some(5), "{err}");
    assert!(
        err.contains("has no email") && err.contains("ana@acme.example"),
        "{err}"
    );
    let shown = ok(&db, &["show", "1", "--json"]);
    assert!(!shown.contains("CTO"), "{shown}");
    // Replacing is explicit and does not mix with adding.
    let (c, _) = code(
        &db,
        &[
            "edit",
            "1",
            "--set-email",
            "a@x.example",
            "--email",
            "b@x.example",
        ],
    );
    assert_eq!(c, Some(2));
    ok(
        &db,
        &["edit", "1", "--set-phone", "+1 555 0100", "--set-email", ""],
    );
    assert_eq!(
        phones_and_emails(&db),
        (vec!["mobile:+1 555 0100".to_string()], vec![])
    );
    // `add` keeps its meaning: the values given are the lists.
    let added = ok(
        &db,
        &["add", "--name", "Bo", "--email", "bo@x.example", "--json"],
    );
    assert!(added.contains("bo@x.example"));
}

/// Reported: both sides of a change were cut at the same 40 characters (so what changed was
/// invisible), no names, "contact contact", and no way to narrow the trail.
#[test]
fn history_shows_what_changed_with_names_and_filters() {
    let (_dir, db) = temp_db();
    let long = "Customer asked about the invoice for the November order, number 4411";
    ok(&db, &["add", "--name", "Ana Horvat", "--notes", long]);
    ok(&db, &["add", "--name", "Bo Berg"]);
    ok(
        &db,
        &[
            "--as",
            "ivy",
            "edit",
            "1",
            "--notes",
            &long.replace("4411", "4412"),
        ],
    );
    ok(&db, &["log", "Bo Berg", "--summary", "Called back"]);

    let all = ok(&db, &["history"]);
    assert!(
        all.contains("4411 → ") && all.contains("→ …") && all.contains("4412"),
        "the differing end of the notes is shown on both sides: {all}"
    );
    assert!(all.contains("edit contact — Ana Horvat (#1)"), "{all}");
    assert!(
        all.contains("log call — Bo Berg (#2)"),
        "a timeline entry names its contact: {all}"
    );
    assert!(!all.contains("contact contact"), "{all}");

    let ivy = ok(&db, &["history", "--agent", "IVY"]);
    assert!(
        ivy.contains("edit contact") && !ivy.contains("add contact"),
        "{ivy}"
    );
    let bo = ok(&db, &["history", "--contact", "bo berg"]);
    assert!(bo.contains("Bo Berg") && !bo.contains("Ana Horvat"), "{bo}");
    assert!(ok(&db, &["history", "--since", "today"]).contains("add contact"));
    assert!(!ok(&db, &["history", "--since", "2999-01-01"]).contains("contact —"));
    let (c, err) = code(&db, &["history", "--since", "someday"]);
    assert_eq!(c, Some(5), "{err}");
    let (c, err) = code(&db, &["history", "--contact", "99"]);
    assert_eq!(c, Some(4), "{err}");

    let json: serde_json::Value =
        serde_json::from_str(&ok(&db, &["history", "--json", "--contact", "1"])).expect("json");
    let first = &json.as_array().expect("array")[0];
    assert_eq!(first["action"], "edit contact");
    assert_eq!(first["contacts"][0]["name"], "Ana Horvat");
    assert!(first["changes"].is_array(), "the audit entry's fields stay");
}

fn fails_with(db: &Path, args: &[&str], code: i32) -> String {
    let out = rolo(db, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "rolo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn undo_refuses_to_reach_past_demo_data_and_keeps_the_real_contact() {
    let (_dir, db) = temp_db();
    ok(&db, &["add", "--name", "Real Customer"]);
    // Demo data only into an empty database, unless asked for by name.
    let refused = fails_with(&db, &["demo", "--contacts", "10"], 6);
    assert!(refused.contains("--into-nonempty"), "{refused}");
    assert!(ok(&db, &["trash"]).contains("empty"));
    ok(&db, &["demo", "--contacts", "10", "--into-nonempty"]);
    let err = fails_with(&db, &["undo"], 6);
    assert!(err.contains("cannot undo"), "{err}");
    assert!(err.contains("demo data"), "{err}");
    assert!(err.contains("tag:demo"), "{err}");
    // Asking again changes nothing either: the real contact stays.
    fails_with(&db, &["undo"], 6);
    assert!(ok(&db, &["show", "Real Customer"]).contains("Real Customer"));
    // The demo rows can be found by their tag.
    let found: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &["search", "tag:demo", "--limit", "100", "--json"],
    ))
    .expect("json");
    assert_eq!(found.as_array().map(Vec::len), Some(10));
}

#[test]
fn undo_after_an_import_explains_and_names_the_batch_tag() {
    let (dir, db) = temp_db();
    ok(&db, &["add", "--name", "Real Customer"]);
    let file = dir.path().join("people.vcf");
    std::fs::write(
        &file,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Imported Person\r\nEMAIL:imp@x.example\r\nEND:VCARD\r\n",
    )
    .expect("write");
    ok(
        &db,
        &["import", file.to_str().expect("path"), "--tag", "batch-7"],
    );
    let err = fails_with(&db, &["undo"], 6);
    assert!(err.contains("import"), "{err}");
    assert!(err.contains("tag:batch-7"), "{err}");
    assert!(ok(&db, &["show", "Real Customer"]).contains("Real Customer"));
}

#[test]
fn an_undone_add_goes_to_the_trash_and_can_be_restored() {
    let (_dir, db) = temp_db();
    ok(&db, &["add", "--name", "Real Customer"]);
    ok(&db, &["undo"]);
    let trash = ok(&db, &["trash"]);
    assert!(trash.contains("Real Customer"), "{trash}");
    ok(&db, &["restore", "1"]);
    assert!(ok(&db, &["show", "1"]).contains("Real Customer"));
}

#[test]
fn add_warns_when_an_email_or_phone_already_belongs_to_someone() {
    let (_dir, db) = temp_db();
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Horvat",
            "--email",
            "ana@vandelay.example",
        ],
    );
    let out = rolo(
        &db,
        &[
            "add",
            "--name",
            "Ana H.",
            "--email",
            "ANA@vandelay.example",
            "--phone",
            "+385 91 234 5678",
        ],
    );
    assert!(out.status.success(), "the add itself goes through");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ANA@vandelay.example already belongs to Ana Horvat (#1)")
            && err.contains("rolo merge 1 2"),
        "{err}"
    );
    let out = rolo(
        &db,
        &["add", "--name", "Ivo Kos", "--phone", "091 765 4321"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn search_json_names_the_matched_phone_or_email_on_demo_data() {
    let (_dir, db) = temp_db();
    ok(&db, &["demo", "--contacts", "20000"]);
    let all: serde_json::Value =
        serde_json::from_str(&ok(&db, &["search", "--json", "--limit", "1", "ana"])).unwrap();
    let phone = all[0]["phone"]
        .as_str()
        .expect("demo contacts have phones")
        .to_owned();
    let id = all[0]["id"].as_u64().unwrap();
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    // The last four digits: every number holding them comes before anything else.
    let last4 = &digits[digits.len() - 4..];
    let hits: serde_json::Value =
        serde_json::from_str(&ok(&db, &["search", "--json", "--limit", "200", last4])).unwrap();
    let hits = hits.as_array().unwrap();
    let holds = |h: &serde_json::Value| {
        h["matched"]["field"] == "phone"
            && h["matched"]["value"]
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .contains(last4)
    };
    let phone_hits = hits.iter().take_while(|h| holds(h)).count();
    assert!(phone_hits > 0 && hits[phone_hits..].iter().all(|h| !holds(h)));
    assert!(hits[..phone_hits].iter().any(|h| h["id"] == id), "{last4}");
    // The whole number with `00` for `+`, and in national form, find that contact first.
    let mut queries = vec![format!("00{digits}")];
    if let Some(rest) = phone.strip_prefix("+385 ") {
        queries.push(format!("0{rest}"));
    }
    for q in queries {
        let hits: serde_json::Value =
            serde_json::from_str(&ok(&db, &["search", "--json", &q])).unwrap();
        assert_eq!(hits[0]["id"], id, "{q}");
        assert_eq!(hits[0]["matched"]["field"], "phone");
        assert_eq!(hits[0]["matched"]["value"], phone.as_str());
    }
    // A domain finds people by their email there.
    let hits: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &["search", "--json", "--limit", "20", "vandelay.example"],
    ))
    .unwrap();
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 20);
    assert!(hits.iter().all(|h| {
        h["matched"]["field"] == "email"
            && h["matched"]["value"]
                .as_str()
                .unwrap()
                .ends_with("@vandelay.example")
    }));
    // A surname with one letter wrong finds the real spelling first.
    let hits: serde_json::Value =
        serde_json::from_str(&ok(&db, &["search", "--json", "--limit", "5", "Gomes"])).unwrap();
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .all(|h| h["name"].as_str().unwrap().contains("Gómez")),
        "{hits}"
    );
}
