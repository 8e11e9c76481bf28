//! End-to-end runs of the real `rolo` binary in a pseudo-terminal: what a person at a terminal
//! would do, and what a dying terminal does. Output is read on a thread; every wait has a
//! generous timeout so a slow machine does not fail these.

#![cfg(unix)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use rolo::domain::{Actor, ContactDraft, Entry};
use rolo::store::Store;

const TIMEOUT: Duration = Duration::from_secs(20);

struct Session {
    child: Box<dyn Child + Send + Sync>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    output: Arc<Mutex<Vec<u8>>>,
    master: Box<dyn MasterPty + Send>,
}

impl Session {
    fn start(db: &Path, home: &Path, term: &str) -> Session {
        Session::start_with(db, home, term, &[])
    }

    fn start_with(db: &Path, home: &Path, term: &str, env: &[(&str, &str)]) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_rolo"));
        cmd.arg("--db");
        cmd.arg(db);
        cmd.env("TERM", term);
        cmd.env("HOME", home);
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_DATA_HOME", home.join("data"));
        cmd.env("ROLO_AS", "tester");
        cmd.env_remove("ROLO_KEYMAP");
        cmd.env_remove("ROLO_THEME");
        cmd.env_remove("NO_COLOR");
        cmd.env_remove("COLORTERM");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn rolo");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("writer")));
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                // rolo must not depend on terminal replies (cursor-position queries): a slow
                // or minimal terminal may never answer, so none are answered here.
                sink.lock()
                    .expect("output lock")
                    .extend_from_slice(&buf[..n]);
            }
        });
        Session {
            child,
            writer,
            output,
            master: pair.master,
        }
    }

    fn output(&self) -> Vec<u8> {
        self.output.lock().expect("output lock").clone()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output()).into_owned()
    }

    fn wait_for(&self, needle: &str) {
        let start = Instant::now();
        while start.elapsed() < TIMEOUT {
            if self.text().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("`{needle}` never appeared; output:\n{}", self.text());
    }

    fn send(&mut self, text: &str) {
        let mut writer = self.writer.lock().expect("writer lock");
        writer.write_all(text.as_bytes()).expect("write");
        writer.flush().expect("flush");
        drop(writer);
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self, within: Duration) -> portable_pty::ExitStatus {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!(
            "rolo did not exit within {within:?}; output:\n{}",
            self.text()
        );
    }
}

fn add(store: &Store, name: &str) -> u64 {
    let draft = ContactDraft {
        name: name.into(),
        ..ContactDraft::default()
    };
    store
        .add_contact(&Actor::new("setup"), draft)
        .expect("add")
        .id
}

#[test]
fn search_log_quit_and_reopen_shows_the_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    let bjorn = {
        let store = Store::open(&db).expect("open");
        add(&store, "Ana Perić");
        add(&store, "Björn Müller")
    };
    let mut s = Session::start(&db, dir.path(), "xterm-256color");
    s.wait_for("Björn Müller");
    s.send("/");
    s.send("muller");
    std::thread::sleep(Duration::from_millis(500));
    s.send("\r");
    s.send("l");
    s.send("Pinged about the renewal");
    s.send("\r");
    s.wait_for("Logged call with Björn Müller");
    s.send("q");
    assert!(s.wait_exit(TIMEOUT).success());
    let text = s.text();
    assert!(
        text.contains("\u{1b}[?2004l"),
        "bracketed paste is switched off again"
    );
    assert!(
        text.contains("\u{1b}[?1049l"),
        "the alternate screen is left"
    );

    stop_server(&db, dir.path());
    {
        let store = Store::open(&db).expect("reopen");
        match store.timeline(bjorn, 1).expect("timeline").first() {
            Some(Entry::Interaction(i)) => assert_eq!(i.summary, "Pinged about the renewal"),
            other => panic!("{other:?}"),
        }
    }
    let mut again = Session::start(&db, dir.path(), "xterm-256color");
    again.wait_for("Ana Perić");
    again.send("j");
    again.wait_for("Pinged about the renewal");
    again.send("q");
    assert!(again.wait_exit(TIMEOUT).success());
}

#[test]
fn merging_two_records_in_the_real_binary_keeps_both_histories_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    let (first, second) = {
        let store = Store::open(&db).expect("open");
        let actor = Actor::new("setup");
        let with_email = |name: &str| ContactDraft {
            name: name.into(),
            emails: vec![rolo::domain::Labelled::new("", "ana@acme.example")],
            ..ContactDraft::default()
        };
        let first = store
            .add_contact(&actor, with_email("Ana Perić"))
            .expect("add")
            .id;
        let second = store
            .add_contact(&actor, with_email("Ana Peric"))
            .expect("add")
            .id;
        (first, second)
    };
    let mut s = Session::start(&db, dir.path(), "xterm-256color");
    s.wait_for("Ana Peric");
    s.send("m");
    s.wait_for("likely duplicates");
    s.send("\r");
    s.wait_for("Merge two contacts");
    s.send("\r");
    s.wait_for("Merged");
    s.send("q");
    assert!(s.wait_exit(TIMEOUT).success());
    stop_server(&db, dir.path());
    let mut store = Store::open(&db).expect("reopen");
    let left = [first, second]
        .into_iter()
        .filter(|id| store.contact(*id).expect("read").is_some())
        .count();
    assert_eq!(left, 1, "one record survives the merge");
    assert!(store.doctor().expect("doctor").is_clean());
}

#[test]
fn an_escape_sequence_in_a_name_never_reaches_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    {
        let store = Store::open(&db).expect("open");
        let actor = Actor::new("raw");
        store
            .bulk(&actor, "raw", |bulk| {
                let mut contact = ContactDraft {
                    name: "x".into(),
                    ..ContactDraft::default()
                }
                .into_contact(&actor)
                .expect("draft");
                // The bulk path stores what it is given, as a damaged file might.
                contact.name = "Evil\u{1b}[2JName\u{1b}]0;pwned\u{7}".into();
                bulk.add_contact(contact, "")?;
                Ok(())
            })
            .expect("raw contact");
    }
    let mut s = Session::start(&db, dir.path(), "xterm-256color");
    s.wait_for("Evil␛[2JName␛]0;pwned␇");
    s.send("q");
    assert!(s.wait_exit(TIMEOUT).success());
    let text = s.text();
    assert!(
        !text.contains("Evil\u{1b}[2J"),
        "the injected clear-screen was sent raw"
    );
    assert!(
        !text.contains("\u{1b}]0;pwned"),
        "the injected title change was sent raw"
    );
}

#[test]
fn sighup_makes_rolo_exit_promptly_and_restore_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    {
        let store = Store::open(&db).expect("open");
        add(&store, "Ana Perić");
    }
    let mut s = Session::start(&db, dir.path(), "xterm-256color");
    s.wait_for("Ana Perić");
    let pid = s.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = s.wait_exit(Duration::from_secs(5));
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        s.text().contains("\u{1b}[?1049l"),
        "the alternate screen is left"
    );
}

#[test]
fn term_dumb_is_refused_with_a_pointer_to_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    let mut s = Session::start(&db, dir.path(), "dumb");
    let status = s.wait_exit(TIMEOUT);
    assert!(!status.success());
    s.wait_for("rolo --help");
    assert!(
        !s.text().contains("\u{1b}[?1049h"),
        "the screen was never taken over"
    );
}

#[test]
fn a_non_terminal_stdout_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rolo"))
        .arg("--db")
        .arg(dir.path().join("crm.redb"))
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("TERM", "xterm-256color")
        .output()
        .expect("run rolo");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("use the CLI") || stderr.contains("CLI instead"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_broken_keymap_is_reported_in_full_before_the_screen_is_taken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keymap = dir.path().join("bad.toml");
    std::fs::write(
        &keymap,
        "extends = \"default\"\n[list]\n\"j\" = \"mvoe_down\"\n\"ctrl-\" = \"quit\"\n",
    )
    .expect("write keymap");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rolo"))
        .arg("--db")
        .arg(dir.path().join("crm.redb"))
        .arg("--keymap")
        .arg(&keymap)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .expect("run rolo");
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mvoe_down"), "{stderr}");
    assert!(
        stderr.contains("ctrl-"),
        "every problem is listed: {stderr}"
    );
    assert!(stderr.contains("--keymap default"), "{stderr}");
}

#[test]
fn a_paste_types_into_search_and_a_live_resize_shows_the_too_small_notice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    {
        let store = Store::open(&db).expect("open");
        add(&store, "Ana Perić");
        add(&store, "Quentin Quarles");
    }
    let mut s = Session::start(&db, dir.path(), "xterm-256color");
    s.wait_for("Quentin Quarles");
    // `q` quits and `d` deletes in the list; pasted, they must only type.
    s.send("\u{1b}[200~qdq\u{1b}[201~");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        s.child.try_wait().expect("try_wait").is_none(),
        "a paste outside an input quit rolo"
    );
    s.send("/");
    s.send("\u{1b}[200~quarles\u{1b}[201~");
    std::thread::sleep(Duration::from_millis(500));
    s.send("\r");
    s.send("l");
    s.send("Pasted and logged");
    s.send("\r");
    s.wait_for("Logged call with Quentin Quarles");
    s.master
        .resize(PtySize {
            rows: 8,
            cols: 30,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("resize");
    s.wait_for("Terminal too small");
    s.master
        .resize(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("resize");
    std::thread::sleep(Duration::from_millis(500));
    s.send("q");
    assert!(s.wait_exit(TIMEOUT).success());
}

/// Runs rolo on two contacts with the given colour environment and returns everything it wrote.
fn screen_bytes(term: &str, env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    {
        let store = Store::open(&db).expect("open");
        add(&store, "Ana Horvat");
        add(&store, "Bob Stone");
    }
    let mut s = Session::start_with(&db, dir.path(), term, env);
    // Cells are written as they differ, so a name may arrive in pieces: wait for the status bar.
    s.wait_for("quit");
    s.send("q");
    assert!(s.wait_exit(TIMEOUT).success());
    s.text()
}

#[test]
fn with_no_color_the_selected_row_is_still_reverse_or_bold_and_nothing_is_coloured() {
    let out = screen_bytes("xterm-256color", &[("NO_COLOR", "1")]);
    assert!(
        out.contains("\u{1b}[7m") || out.contains("\u{1b}[1m"),
        "no reverse/bold attribute was sent"
    );
    for colour in ["38;2;", "48;2;", "38;5;", "48;5;"] {
        assert!(!out.contains(colour), "NO_COLOR output contains {colour}");
    }
}

#[test]
fn with_16_colours_no_24_bit_colour_is_sent() {
    let out = screen_bytes("xterm", &[]);
    assert!(
        !out.contains("38;2;") && !out.contains("48;2;"),
        "24-bit colour sent to a 16-colour terminal"
    );
    // The same screen on a true-colour terminal does use 24-bit colour: the check above can fail.
    let truecolor = screen_bytes("xterm-256color", &[("COLORTERM", "truecolor")]);
    assert!(truecolor.contains("38;2;") || truecolor.contains("48;2;"));
}

/// Stops the database's server (started by the commands and interfaces above) and waits until
/// it has let go of the file, so the test can open it directly.
fn stop_server(db: &Path, home: &Path) {
    stop_server_with(db, home, &[]);
}

fn stop_server_with(db: &Path, home: &Path, env: &[(&str, &std::ffi::OsStr)]) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rolo"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .arg("--db")
        .arg(db)
        .args(["server", "stop"])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .output()
        .expect("rolo server stop");
    assert!(out.status.success(), "{out:?}");
}

/// Whether opening `db` makes redb repair it (the file was not closed cleanly).
fn needs_repair(db: &Path) -> bool {
    let repaired = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = std::rc::Rc::clone(&repaired);
    let opened = redb::Builder::new()
        .set_repair_callback(move |_| flag.set(true))
        .open(db)
        .expect("reopen");
    drop(opened);
    repaired.get()
}

#[test]
fn closing_the_terminal_ends_rolo_through_the_clean_close() {
    // An SSH drop or a closed tmux pane: the tty hangs up (end-of-file, then EIO). crossterm
    // spins on such a tty; rolo must stop on its own and close the database cleanly rather
    // than be cut off by the signal thread's grace exit, which leaves the file to be repaired.
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    {
        let store = Store::open(&db).expect("open");
        add(&store, "Ana Perić");
    }
    assert!(!needs_repair(&db), "a cleanly closed file needs no repair");
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_rolo"));
    cmd.arg("--db");
    cmd.arg(&db);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir.path());
    cmd.env("XDG_CONFIG_HOME", dir.path().join("config"));
    cmd.env("ROLO_AS", "tester");
    let mut child = pair.slave.spawn_command(cmd).expect("spawn rolo");
    drop(pair.slave);
    // Read until the first screen is up, then let go of the reader, so that dropping the
    // master below closes the last handle on it: the terminal is gone.
    let mut reader = pair.master.try_clone_reader().expect("reader");
    let seen = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        while start.elapsed() < TIMEOUT {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
            if String::from_utf8_lossy(&all).contains("Ana Perić") {
                return true;
            }
        }
        false
    })
    .join()
    .expect("reader thread");
    assert!(seen, "the first screen never appeared");
    std::thread::sleep(Duration::from_millis(300));
    drop(pair.master);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("rolo did not exit after its terminal was closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "a hang-up is not a normal quit");
    stop_server(&db, dir.path());
    assert!(
        !needs_repair(&db),
        "the database was left unclosed: rolo was cut off instead of closing it"
    );
}

#[test]
fn kill_int_restores_the_terminal_and_closes_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    {
        let store = Store::open(&db).expect("open");
        add(&store, "Ana Perić");
    }
    let mut s = Session::start(&db, dir.path(), "xterm-256color");
    s.wait_for("Ana Perić");
    let pid = s.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = s.wait_exit(TIMEOUT);
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        s.text().contains("\u{1b}[?1049l"),
        "the alternate screen is left"
    );
    drop(s);
    stop_server(&db, dir.path());
    assert!(!needs_repair(&db), "the database was closed cleanly");
}

#[test]
fn sigterm_while_the_editor_is_open_stops_the_editor_and_removes_the_draft() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp dir");
    {
        let store = Store::open(&db).expect("open");
        add(&store, "Ana Perić");
    }
    // An "editor" that never returns by itself; `#` drops the draft path rolo appends.
    let tmp_text = tmp.to_string_lossy().into_owned();
    let mut s = Session::start_with(
        &db,
        dir.path(),
        "xterm-256color",
        &[
            ("EDITOR", "sleep 600 #"),
            ("VISUAL", "sleep 600 #"),
            ("TMPDIR", &tmp_text),
        ],
    );
    s.wait_for("Ana Perić");
    s.send("l");
    s.send("\u{5}"); // ctrl-e: write the note in $EDITOR
    let start = Instant::now();
    let draft = loop {
        let found = std::fs::read_dir(&tmp)
            .expect("tmp")
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with("rolo-note-"));
        if let Some(found) = found {
            break found.path();
        }
        assert!(start.elapsed() < TIMEOUT, "the editor never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    let pid = s.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = s.wait_exit(TIMEOUT);
    assert!(!status.success());
    assert!(!draft.exists(), "the draft was left behind in the temp dir");
    let editors = std::process::Command::new("pgrep")
        .args(["-f", "^sleep 600"])
        .output()
        .expect("pgrep");
    assert!(
        editors.stdout.is_empty(),
        "the editor was left running on the tty: {}",
        String::from_utf8_lossy(&editors.stdout)
    );
    drop(s);
    stop_server_with(&db, dir.path(), &[("TMPDIR", tmp.as_os_str())]);
    assert!(!needs_repair(&db), "the database was closed cleanly");
}

/// A paste or keys coalesced over SSH: the rest of the query, `enter` and what follows arrive in
/// one read, before the search worker has answered the query as typed. `enter` must act on the
/// results of the whole query, not on those of the part typed before the pause.
#[test]
fn a_burst_ending_in_enter_opens_the_result_of_the_whole_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.redb");
    let demo = std::process::Command::new(env!("CARGO_BIN_EXE_rolo"))
        .arg("--db")
        .arg(&db)
        .args(["demo", "--contacts", "4000"])
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("ROLO_AS", "tester")
        .output()
        .expect("rolo demo");
    assert!(demo.status.success(), "{demo:?}");
    stop_server(&db, dir.path());
    let target = {
        let store = Store::open(&db).expect("open");
        add(&store, "Chiara Zanettin")
    };
    let mut s = Session::start(&db, dir.path(), "xterm-256color");
    s.wait_for("4001");
    s.send("/");
    s.send("chiara");
    // Demo data holds many a Chiara; the first hit of "chiara" is one of them.
    std::thread::sleep(Duration::from_millis(800));
    s.send(" zanettin\rlBurst note\r");
    s.wait_for("Logged call with");
    s.send("q");
    assert!(s.wait_exit(TIMEOUT).success());
    stop_server(&db, dir.path());
    let store = Store::open(&db).expect("reopen");
    match store.timeline(target, 1).expect("timeline").first() {
        Some(Entry::Interaction(i)) => assert_eq!(i.summary, "Burst note"),
        other => panic!("the note went to someone else; Chiara Zanettin's timeline: {other:?}"),
    }
}
