//! End-to-end runs of the real `rolo` binary: what a script or a support agent at a shell sees.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn rolo(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rolo"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("ROLO_AS", "sam")
        .env("XDG_CONFIG_HOME", db.parent().unwrap_or(db))
        .env_remove("ROLO_DB")
        .output()
        .expect("run rolo")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = rolo(db, args);
    assert!(
        out.status.success(),
        "rolo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

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
            "ana",
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
    ok(&db, &["log", "marco", "--summary", "Renewal"]);
    ok(&db, &["rm", "marco"]);
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
fn a_second_process_gets_a_clear_message_naming_the_file() {
    let (_dir, db) = temp_db();
    ok(&db, &["add", "--name", "Holder"]);
    let mut child = commit_loop(&db, "1");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    lines.next().expect("first commit").expect("read");
    let out = rolo(&db, &["show", "1"]);
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
    // Enough that `search` prints more than a pipe holds.
    ok(&db, &["demo", "--contacts", "1500"]);
    for args in [
        &["export", "--format", "json"][..],
        &["export", "--format", "csv"],
        &["export", "--format", "vcard"],
        &["search", "a", "--limit", "5000"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rolo"))
            .arg("--db")
            .arg(&db)
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
