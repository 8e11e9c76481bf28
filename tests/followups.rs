//! The follow-up queue as an agent works it: whose it is, whom to call, closing what a call
//! answers, moving a date — in the interface (through `update`) and from the command line.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};

use rolo::domain::{Actor, At, ContactDraft, Day, Entry, FollowUp, Labelled};
use rolo::store::Store;
use rolo::tui::driver::Driver;
use rolo::tui::keymap::Keymap;
use rolo::tui::state::{Overlay, Screen};
use rolo::tui::theme::{ColorSupport, Theme};

/// What the screen shows, as text.
fn render_text(d: &Driver) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(
        d.state.width,
        d.state.height,
    ))
    .expect("terminal");
    let theme = Theme::load("default", None, ColorSupport::None).expect("theme");
    terminal
        .draw(|frame| rolo::tui::view::view(frame, &d.state, &theme, &d.keymap))
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn keymap() -> Keymap {
    Keymap::load(Some("default"), None).expect("default keymap")
}

/// Ana (Acme, a phone) and Bob, each with a follow-up due today: Ana's for the tester (the
/// driver's agent), Bob's for sam.
fn queue() -> Driver {
    let store = Store::in_memory().expect("store");
    let setup = Actor::new("setup");
    let today = Day::today();
    for (name, phone, assignee) in [
        ("Ana Horvat", "+385 91 234 5678", "tester"),
        ("Bob Lee", "+1 555 0100", "sam"),
    ] {
        let draft = ContactDraft {
            name: name.to_string(),
            phones: vec![Labelled::new("mobile", phone)],
            ..ContactDraft::default()
        };
        let c = store.add_contact(&setup, draft).expect("add");
        store
            .add_entry(
                &setup,
                Entry::FollowUp(FollowUp {
                    id: 0,
                    contact: c.id,
                    created: At::now(),
                    due: today,
                    what: format!("Call {name} back"),
                    done_at: None,
                    assignee: assignee.to_string(),
                }),
            )
            .expect("follow-up");
    }
    Driver::new(store, keymap(), At::now(), 120, 40)
}

#[test]
fn the_queue_filters_to_my_follow_ups_and_back() {
    let mut d = queue();
    d.keys("t");
    assert_eq!(d.state.screen, Screen::Today);
    assert_eq!(d.state.today_view.items.len(), 2);
    d.keys("m");
    let mine: Vec<&str> = d
        .state
        .today_view
        .items
        .iter()
        .map(|i| i.contact_name.as_str())
        .collect();
    assert_eq!(mine, ["Ana Horvat"], "only the tester's own");
    d.keys("m");
    assert_eq!(d.state.today_view.items.len(), 2, "everyone's again");
}

#[test]
fn the_queue_shows_the_count_phone_and_assignee() {
    let mut d = queue();
    d.keys("t");
    let screen = render_text(&d);
    assert!(screen.contains("2 due, 0 overdue"), "{screen}");
    assert!(screen.contains("+385 91 234 5678"), "{screen}");
    assert!(screen.contains("sam"), "{screen}");
}

#[test]
fn a_call_logged_from_the_queue_closes_the_follow_up_it_answers() {
    let mut d = queue();
    d.keys("t");
    let answered = d.state.today_view.items[0].follow_up.clone();
    d.keys("l");
    match &d.state.overlay {
        Some(Overlay::Log(log)) => assert_eq!(log.answers.as_ref(), Some(&answered)),
        other => panic!("log form expected, got {other:?}"),
    }
    d.type_text("Called back, sorted");
    d.keys("ctrl-s");
    assert!(d.state.overlay.is_none(), "saved");
    assert_eq!(
        d.state.today_view.items.len(),
        1,
        "the answered one left the queue"
    );
    let timeline = d.store.timeline(answered.contact, 10).expect("timeline");
    assert!(timeline.iter().any(|e| matches!(e,
        Entry::FollowUp(f) if f.id == answered.id && f.done_at.is_some())));
    // One action: one undo reopens the follow-up and takes the call back.
    d.keys("u");
    let timeline = d.store.timeline(answered.contact, 10).expect("timeline");
    assert!(
        !timeline.iter().any(|e| matches!(e, Entry::Interaction(_))),
        "the call is gone"
    );
    assert!(timeline.iter().any(|e| matches!(e,
        Entry::FollowUp(f) if f.id == answered.id && f.done_at.is_none())));
}

#[test]
fn the_agent_can_keep_the_follow_up_open_when_logging() {
    let mut d = queue();
    d.keys("t");
    let answered = d.state.today_view.items[0].follow_up.clone();
    d.keys("l");
    d.keys("ctrl-o");
    match &d.state.overlay {
        Some(Overlay::Log(log)) => assert!(log.answers.is_none()),
        other => panic!("log form expected, got {other:?}"),
    }
    d.type_text("Left a message");
    d.keys("ctrl-s");
    assert_eq!(d.state.today_view.items.len(), 2, "still open");
    let timeline = d.store.timeline(answered.contact, 10).expect("timeline");
    assert!(timeline.iter().any(|e| matches!(e,
        Entry::FollowUp(f) if f.id == answered.id && f.done_at.is_none())));
}

#[test]
fn a_follow_up_scheduled_with_f_is_assigned_to_the_agent() {
    let store = Store::in_memory().expect("store");
    let c = store
        .add_contact(
            &Actor::new("setup"),
            ContactDraft {
                name: "Cleo".into(),
                ..ContactDraft::default()
            },
        )
        .expect("add");
    let mut d = Driver::new(store, keymap(), At::now(), 120, 40);
    d.keys("f");
    d.type_text("Send the quote");
    d.keys("tab");
    d.type_text("tomorrow");
    d.keys("ctrl-s");
    let timeline = d.store.timeline(c.id, 10).expect("timeline");
    let assignee = timeline.iter().find_map(|e| match e {
        Entry::FollowUp(f) => Some(f.assignee.clone()),
        _ => None,
    });
    assert_eq!(assignee.as_deref(), Some("tester"));
}

#[test]
fn a_past_due_date_is_refused_in_the_form() {
    let mut d = queue();
    d.keys("f");
    d.type_text("Send the quote");
    d.keys("tab");
    d.type_text("2020-01-01");
    d.keys("ctrl-s");
    match &d.state.overlay {
        Some(Overlay::NewFollowUp(draft)) => {
            let error = draft.error.clone().unwrap_or_default();
            assert!(error.contains("in the past"), "{error}");
        }
        other => panic!("the form stays open with the error, got {other:?}"),
    }
}

// ---- the command line ----

fn rolo(db: &Path, args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_rolo"))
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

fn db_with_two_follow_ups() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("rolo.redb");
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Horvat",
            "--phone",
            "+385 91 234 5678",
            "--org",
            "Acme",
        ],
    );
    ok(&db, &["add", "--name", "Bob Lee"]);
    ok(
        &db,
        &["log", "#1", "-s", "Asked for a quote", "-f", "today"],
    );
    ok(
        &db,
        &[
            "--as",
            "kim",
            "log",
            "#2",
            "-s",
            "Wants a demo",
            "-f",
            "today",
        ],
    );
    (dir, db)
}

fn follow_ups(db: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["followups", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(db, &all)).expect("json")
}

#[test]
fn cli_followups_filter_by_assignee_and_mine_and_show_whom_to_call() {
    let (_dir, db) = db_with_two_follow_ups();
    assert_eq!(follow_ups(&db, &[]).len(), 2);
    let mine = follow_ups(&db, &["--mine"]);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["contact_name"], "Ana Horvat");
    assert_eq!(mine[0]["organization"], "Acme");
    assert_eq!(mine[0]["phone"], "+385 91 234 5678");
    assert_eq!(mine[0]["assignee"], "sam");
    let kims = follow_ups(&db, &["--assignee", "kim"]);
    assert_eq!(kims.len(), 1);
    assert_eq!(kims[0]["contact_name"], "Bob Lee");
    let text = ok(&db, &["followups"]);
    assert!(text.starts_with("2 follow-ups (0 overdue)"), "{text}");
    assert!(
        text.contains("Ana Horvat · Acme · +385 91 234 5678"),
        "{text}"
    );
}

#[test]
fn cli_log_closes_the_follow_up_it_answers() {
    let (_dir, db) = db_with_two_follow_ups();
    let id = follow_ups(&db, &["--mine"])[0]["id"].as_u64().expect("id");
    let id = id.to_string();
    // Not Bob's: the follow-up belongs to Ana.
    let wrong = rolo(&db, &["log", "#2", "-s", "Called", "--closes", &id]);
    assert!(!wrong.status.success());
    assert_eq!(follow_ups(&db, &[]).len(), 2, "nothing closed or logged");
    let out = ok(&db, &["log", "#1", "-s", "Sent the quote", "--closes", &id]);
    assert!(out.contains(&format!("closed follow-up #{id}")), "{out}");
    assert_eq!(follow_ups(&db, &[]).len(), 1);
    ok(&db, &["undo"]);
    assert_eq!(follow_ups(&db, &[]).len(), 2, "undo reopens it");
}

#[test]
fn cli_reschedule_moves_a_follow_up_and_refuses_the_past() {
    let (_dir, db) = db_with_two_follow_ups();
    let id = follow_ups(&db, &["--mine"])[0]["id"].as_u64().expect("id");
    let id = id.to_string();
    let past = rolo(&db, &["reschedule", &id, "2020-01-01"]);
    assert_eq!(past.status.code(), Some(5), "invalid");
    assert!(String::from_utf8_lossy(&past.stderr).contains("in the past"));
    let out = ok(&db, &["reschedule", &id, "+3d"]);
    assert!(out.contains("Moved follow-up"), "{out}");
    let due = Day::today().add_days(3).to_string();
    let all = follow_ups(&db, &["--due", "all"]);
    assert!(all.iter().any(|f| f["due"] == due.as_str()), "{all:?}");
    assert_eq!(follow_ups(&db, &["--due", "today"]).len(), 1);
    let missing = rolo(&db, &["reschedule", "999", "+1d"]);
    assert_eq!(missing.status.code(), Some(4), "not found");
    let past_log = rolo(&db, &["log", "#1", "-s", "x", "-f", "2020-01-01"]);
    assert_eq!(past_log.status.code(), Some(5));
}
