//! Team mode end to end: the real `rolo` binary, several processes on one database through its
//! server — TUIs in pseudo-terminals, CLI commands, an auto-start race, `kill -9` of the server,
//! a second Unix account on a team socket, a real OpenSSH server with forced commands, and
//! broken frames on a live socket.
//!
//! Every test gets its own temp directory and its own private `XDG_RUNTIME_DIR` (0700), so no
//! two tests share a socket, and stops the servers it started by pid when it ends (pass or
//! fail). Tests needing root (a second account, sshd) skip with a message when they cannot.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use rolo::api::frame::{Frame, kind};
use rolo::domain::{Actor, ContactDraft, Entry};
use rolo::server::socket::Hello;
use rolo::store::Store;

const TIMEOUT: Duration = Duration::from_secs(20);
const ROLO: &str = env!("CARGO_BIN_EXE_rolo");

// ---- one test's world ----------------------------------------------------------------------

/// A temp directory with a database, a home and a private runtime directory. Dropping it stops
/// (by pid) every server process that serves its database.
struct Team {
    dir: tempfile::TempDir,
    db: PathBuf,
    run: PathBuf,
}

impl Team {
    fn new(names: &[&str]) -> Team {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("run dir");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let db = dir.path().join("crm.redb");
        if !names.is_empty() {
            let store = Store::open(&db).expect("open");
            for name in names {
                let draft = ContactDraft {
                    name: (*name).into(),
                    ..ContactDraft::default()
                };
                store.add_contact(&Actor::new("setup"), draft).expect("add");
            }
        }
        Team { dir, db, run }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The environment every process of this test runs with.
    fn env(&self) -> Vec<(&'static str, String)> {
        let home = self.path();
        vec![
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", home.join("config").display().to_string()),
            ("XDG_DATA_HOME", home.join("data").display().to_string()),
            ("XDG_RUNTIME_DIR", self.run.display().to_string()),
            // Long enough never to exit mid-test; the test stops its servers itself.
            ("ROLO_SERVER_IDLE", "60".into()),
        ]
    }

    /// `rolo --db DB …` with this test's environment.
    fn cmd(&self) -> Command {
        let mut cmd = Command::new(ROLO);
        for var in [
            "ROLO_AS",
            "ROLO_DB",
            "ROLO_SOCKET",
            "ROLO_NO_SERVER",
            "ROLO_KEYMAP",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(self.env());
        cmd.arg("--db").arg(&self.db);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn rolo(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run rolo")
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.rolo(args);
        assert!(
            out.status.success(),
            "rolo {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pids of `rolo … serve …` processes for this database.
    fn servers(&self) -> Vec<u32> {
        servers_of(&self.db)
    }

    /// This database's private socket (its start lock's name tells, once a server started).
    fn private_socket(&self) -> PathBuf {
        std::fs::read_dir(self.run.join("rolo"))
            .expect("socket dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "lock"))
            .expect("a start lock")
            .with_extension("sock")
    }

    /// Takes the auto-start lock of this database's private socket (released when dropped).
    fn start_lock(&self) -> std::fs::File {
        let path = self.private_socket().with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open the lock");
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).expect("flock");
        file
    }

    /// The running server's pid, as it reports itself.
    fn server_pid(&self) -> u32 {
        let text = self.ok(&["server", "status", "--json"]);
        let status: serde_json::Value = serde_json::from_str(&text).expect("status json");
        u32::try_from(status["pid"].as_u64().expect("pid")).expect("pid fits")
    }

    fn tui(&self, agent: &str) -> Session {
        let mut env = self.env();
        env.push(("ROLO_AS", agent.to_string()));
        Session::start(ROLO, &["--db".into(), self.db.display().to_string()], &env)
    }

    /// Stops this database's servers and waits until the file is free, so the test can open
    /// it directly.
    fn stop_servers(&self) {
        for pid in self.servers() {
            stop_pid(pid);
        }
        let deadline = Instant::now() + TIMEOUT;
        while matches!(
            Store::open_existing(&self.db),
            Err(rolo::store::StoreError::Locked { .. })
        ) {
            assert!(
                Instant::now() < deadline,
                "the server never let go of the file"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Summaries of contact `id`'s timeline, read from the file (servers stopped first).
    fn timeline(&self, id: u64) -> Vec<(u64, String)> {
        self.stop_servers();
        let store = Store::open_existing(&self.db).expect("open");
        store
            .timeline(id, 1_000_000)
            .expect("timeline")
            .into_iter()
            .filter_map(|e| match e {
                Entry::Interaction(i) => Some((i.id, i.summary)),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        for pid in self.servers() {
            stop_pid(pid);
        }
    }
}

/// `rolo … serve …` processes whose command line names `needle` (a database or socket path).
fn servers_of(needle: &Path) -> Vec<u32> {
    let needle = needle.display().to_string();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if alive(pid) && args.iter().any(|a| a == "serve") && args.contains(&needle) {
            pids.push(pid);
        }
    }
    pids
}

fn signal(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(i32::try_from(pid).expect("pid")) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// The process exists and is not a zombie (exited, not yet reaped by its parent).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z'))
    })
}

/// SIGTERM (a clean close of the file), then SIGKILL if it does not go.
fn stop_pid(pid: u32) {
    signal(pid, rustix::process::Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        signal(pid, rustix::process::Signal::KILL);
    }
}

/// A child process killed (and reaped) when dropped, also when a test fails.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- a terminal -----------------------------------------------------------------------------

/// A program in a pseudo-terminal; its output is collected on a thread.
struct Session {
    child: Box<dyn Child + Send + Sync>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    output: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Session {
    fn start(program: &str, args: &[String], env: &[(&str, String)]) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for var in [
            "ROLO_AS",
            "ROLO_DB",
            "ROLO_SOCKET",
            "ROLO_NO_SERVER",
            "ROLO_KEYMAP",
            "ROLO_THEME",
            "NO_COLOR",
            "COLORTERM",
        ] {
            cmd.env_remove(var);
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn");
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
                sink.lock().expect("output").extend_from_slice(&buf[..n]);
            }
        });
        Session {
            child,
            writer,
            output,
            _master: pair.master,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().expect("output")).into_owned()
    }

    /// How much output there is so far (for [`Session::wait_for_after`]).
    fn mark(&self) -> usize {
        self.output.lock().expect("output").len()
    }

    fn wait_for(&self, needle: &str) {
        self.wait_for_after(0, needle);
    }

    /// Waits until `needle` appears in what was printed after `mark`.
    fn wait_for_after(&self, mark: usize, needle: &str) {
        let start = Instant::now();
        while start.elapsed() < TIMEOUT {
            let text = {
                let out = self.output.lock().expect("output");
                String::from_utf8_lossy(&out[mark.min(out.len())..]).into_owned()
            };
            if text.contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!("`{needle}` never appeared; output:\n{}", self.text());
    }

    fn send(&mut self, text: &str) {
        let mut writer = self.writer.lock().expect("writer");
        writer.write_all(text.as_bytes()).expect("write");
        writer.flush().expect("flush");
        drop(writer);
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        while start.elapsed() < TIMEOUT {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        let _ = self.child.kill();
        panic!("did not exit within {TIMEOUT:?}; output:\n{}", self.text());
    }

    /// Quits the interface with `q` and expects a clean exit.
    fn quit(&mut self) {
        self.send("q");
        let status = self.wait_exit();
        assert!(status.success(), "{status:?}; output:\n{}", self.text());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Logs a call on the selected contact through the interface (`l`, summary, enter).
fn log_in_tui(s: &mut Session, contact: &str, summary: &str) {
    let mark = s.mark();
    s.send("l");
    s.send(summary);
    s.send("\r");
    s.wait_for_after(mark, &format!("Logged call with {contact}"));
}

fn history(team: &Team) -> Vec<serde_json::Value> {
    let text = team.ok(&["history", "--json", "--limit", "1000"]);
    serde_json::from_str(&text).expect("history json")
}

/// The actor of the audit entry that logged `summary`.
fn actor_of_log(entries: &[serde_json::Value], summary: &str) -> Option<String> {
    entries
        .iter()
        .find(|e| e.to_string().contains(summary))
        .and_then(|e| e["actor"].as_str().map(str::to_string))
}

/// Where the audit entry that logged `summary` came from (tui, cli, import, ssh).
fn source_of_log(entries: &[serde_json::Value], summary: &str) -> Option<String> {
    entries
        .iter()
        .find(|e| e.to_string().contains(summary))
        .and_then(|e| e["source"].as_str().map(str::to_string))
}

// ---- the tests ------------------------------------------------------------------------------

#[test]
fn a_call_logged_in_one_tui_appears_in_the_other_unasked() {
    let team = Team::new(&["Ana Lima", "Bruno Costa"]);
    let mut ana = team.tui("ana");
    let mut ben = team.tui("ben");
    ana.wait_for("Bruno Costa");
    ben.wait_for("Bruno Costa");
    // Both have Ana Lima (the first row) open in the detail pane.
    std::thread::sleep(Duration::from_millis(300));
    let mark = ben.mark();
    log_in_tui(&mut ana, "Ana Lima", "Renewal-question-from-ana");
    // Nothing is typed into ben's terminal: the server's push redraws it.
    ben.wait_for_after(mark, "Renewal-question-from-ana");
    ana.quit();
    ben.quit();
    assert_eq!(
        actor_of_log(&history(&team), "Renewal-question-from-ana").as_deref(),
        Some("ana")
    );
    assert_eq!(
        source_of_log(&history(&team), "Renewal-question-from-ana").as_deref(),
        Some("tui")
    );
}

#[test]
fn cli_commands_work_while_a_tui_is_open() {
    let team = Team::new(&["Ana Lima", "Bruno Costa"]);
    let mut tui = team.tui("tester");
    tui.wait_for("Bruno Costa");
    assert!(team.ok(&["search", "ana"]).contains("Ana Lima"));
    assert!(team.ok(&["show", "Ana Lima"]).contains("Ana Lima (#1)"));
    team.ok(&["log", "1", "--summary", "Called-from-the-cli"]);
    let backup = team.path().join("backup.redb");
    assert!(
        team.ok(&["backup", backup.to_str().expect("utf-8")])
            .contains("Backed up")
    );
    assert!(std::fs::metadata(&backup).expect("backup file").len() > 0);
    let doctor = team.ok(&["doctor"]);
    assert!(
        doctor.contains("2 contacts") && doctor.contains("indexes     ok"),
        "{doctor}"
    );
    assert!(team.ok(&["history"]).contains("log call"));
    let card = team.path().join("carla.vcf");
    std::fs::write(
        &card,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carla Nunes\r\nEMAIL:carla@x.example\r\nEND:VCARD\r\n",
    )
    .expect("vcf");
    assert!(
        team.ok(&["import", card.to_str().expect("utf-8")])
            .contains("created 1")
    );
    assert!(team.ok(&["search", "carla"]).contains("Carla Nunes"));
    // The open interface follows: the imported contact joins its list, the CLI's call its
    // timeline of Ana Lima, without a key press.
    tui.wait_for("Carla Nunes");
    tui.wait_for("Called-from-the-cli");
    tui.quit();
    // The backup is a database of its own with what was there.
    let copy = Store::open_existing(&backup).expect("open the backup");
    assert_eq!(copy.contact_count().expect("count"), 2);
}

#[test]
fn rolo_no_server_1_in_the_environment_opens_the_file_in_process() {
    let team = Team::new(&["Ana Lima"]);
    let out = team
        .cmd()
        .env("ROLO_NO_SERVER", "1")
        .args(["search", "ana"])
        .output()
        .expect("rolo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Ana Lima"));
    assert!(team.servers().is_empty(), "no server was started");
    // With a server holding the file, the in-process path says so instead.
    team.ok(&["search", "ana"]);
    assert_eq!(team.servers().len(), 1);
    let out = team
        .cmd()
        .env("ROLO_NO_SERVER", "1")
        .args(["search", "ana"])
        .output()
        .expect("rolo");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn an_auto_started_server_exits_when_idle_and_the_next_command_starts_another() {
    let team = Team::new(&["Ana Lima"]);
    let out = team
        .cmd()
        .env("ROLO_SERVER_IDLE", "1")
        .args(["search", "ana"])
        .output()
        .expect("rolo");
    assert!(out.status.success(), "{out:?}");
    let first = team.servers();
    assert_eq!(first.len(), 1);
    wait_until("the idle server to exit", || !alive(first[0]));
    // It removed its socket on the way out; the next command starts a new server.
    assert!(
        !std::fs::read_dir(team.run.join("rolo"))
            .expect("socket dir")
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "sock")),
        "the socket is removed"
    );
    assert!(team.ok(&["search", "ana"]).contains("Ana Lima"));
    let second = team.servers();
    assert_eq!(second.len(), 1);
    assert_ne!(first, second);
}

#[test]
fn an_auto_started_server_whose_socket_file_vanished_exits_and_a_fresh_one_takes_over() {
    // A tmp cleaner (or a user's `rm`) removing the socket must not leave an unreachable
    // server holding the database, so that every later command fails to start its own.
    let team = Team::new(&["Ana Lima"]);
    assert!(team.ok(&["search", "ana"]).contains("Ana Lima"));
    let first = team.servers();
    assert_eq!(first.len(), 1);
    let socket = team.private_socket();
    std::fs::remove_file(&socket).expect("remove the socket");
    // ROLO_SERVER_IDLE is 60 s here: only the vanished socket can make it exit this soon.
    wait_until("the orphaned server to exit", || !alive(first[0]));
    assert!(team.ok(&["search", "ana"]).contains("Ana Lima"));
    let second = team.servers();
    assert_eq!(second.len(), 1);
    assert_ne!(first, second);
}

/// Restoring a backup by moving it into place (`mv backup.redb crm.redb`) while a server
/// held the old file: the server went on serving the old, now nameless file, so the restored
/// contacts were invisible and every write went to a file nobody would open again. The
/// server now notices the path names another file, stops, and the next command (or a
/// reconnecting TUI) is served from the file the path names.
#[test]
fn a_database_file_replaced_under_a_running_server_is_what_the_next_command_sees() {
    let team = Team::new(&["Ana Lima"]);
    assert!(team.ok(&["search", "ana"]).contains("Ana Lima"));
    let first = team.servers();
    assert_eq!(first.len(), 1);
    let backup = team.path().join("backup.redb");
    {
        let store = Store::open(&backup).expect("open");
        let draft = ContactDraft {
            name: "Bo Chen".into(),
            ..ContactDraft::default()
        };
        store.add_contact(&Actor::new("setup"), draft).expect("add");
    }
    std::fs::rename(&backup, &team.db).expect("move the backup into place");
    // At once, before the server's next look at the file.
    let found = team.ok(&["search", "bo"]);
    assert!(found.contains("Bo Chen"), "{found}");
    team.ok(&["add", "-n", "Cy Written"]);
    wait_until("the old server to exit", || !alive(first[0]));
    let _ = team.rolo(&["server", "stop"]);
    wait_until("every server to exit", || team.servers().is_empty());
    let out = team.ok(&["--no-server", "search", "cy"]);
    assert!(
        out.contains("Cy Written"),
        "the write went to the file: {out}"
    );
    // Removed: a command says there is no database instead of reading the deleted file.
    assert!(team.ok(&["search", "cy"]).contains("Cy Written"));
    std::fs::remove_file(&team.db).expect("remove");
    let gone = team.rolo(&["search", "cy"]);
    assert_eq!(
        gone.status.code(),
        Some(10),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
}

#[test]
fn eight_clients_starting_at_once_share_one_server() {
    let team = Team::new(&["Ana Lima"]);
    assert!(team.servers().is_empty());
    // Every server process that runs during the race, however briefly (a second one that
    // finds the file locked lives for milliseconds).
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let done = Arc::clone(&done);
        let db = team.db.clone();
        std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                seen.extend(servers_of(&db));
            }
            seen
        })
    };
    let children: Vec<_> = (0..8)
        .map(|n| {
            team.cmd()
                .args(["log", "1", "--summary", &format!("Race-{n}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "a racing client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = watcher.join().expect("watcher");
    let servers = team.servers();
    assert_eq!(servers.len(), 1, "server processes: {servers:?}");
    // The private socket and its directory are the user's alone.
    let dir = team.run.join("rolo");
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).expect("socket dir").flatten() {
        assert_eq!(mode(&entry.path()) & 0o077, 0, "{}", entry.path().display());
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        servers,
        "one server process ever started"
    );
    assert_eq!(team.server_pid(), servers[0]);
    let summaries: Vec<String> = team.timeline(1).into_iter().map(|(_, s)| s).collect();
    for n in 0..8 {
        assert!(summaries.contains(&format!("Race-{n}")), "{summaries:?}");
    }
}

#[test]
fn kill_9_of_the_server_loses_nothing_acknowledged_and_clients_recover() {
    let team = Team::new(&["Ana Lima"]);
    let mut tui = team.tui("tester");
    tui.wait_for("Ana Lima");
    let first = team.server_pid();

    let mut writer = Reaped(
        team.cmd()
            .args(["bench", "commit-loop", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("commit loop"),
    );
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let reader = {
        let acked = Arc::clone(&acked);
        let stdout = writer.0.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(id) = line.trim().parse() {
                    acked.lock().expect("acked").push(id);
                }
            }
        })
    };
    wait_until("the first acknowledged writes", || {
        acked.lock().expect("acked").len() >= 20
    });
    // Hold the start lock, so no client can bring a new server up until the interface has
    // shown that it is reconnecting (a killed server repairs the file before it answers, which
    // takes a while on a big one): the interface must stay live meanwhile.
    let lock = team.start_lock();
    let mark = tui.mark();
    signal(first, rustix::process::Signal::KILL);
    tui.wait_for_after(mark, "Reconnecting to the rolo server");
    drop(lock);
    // The next command starts a new server (the interface or the loop may have already).
    team.ok(&["log", "1", "--summary", "Logged-after-the-restart"]);
    let second = team.server_pid();
    assert_ne!(first, second, "a new server serves after the kill");
    tui.wait_for_after(mark, "Logged-after-the-restart");
    // The writer is cut off mid-loop too (a client's kill -9).
    drop(writer);
    let _ = reader.join();
    tui.quit();

    let acked = acked.lock().expect("acked").clone();
    assert!(acked.len() >= 20);
    let stored: std::collections::HashSet<u64> =
        team.timeline(1).into_iter().map(|(id, _)| id).collect();
    let lost: Vec<u64> = acked
        .iter()
        .filter(|id| !stored.contains(id))
        .copied()
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

#[test]
fn after_a_server_restart_the_tui_never_takes_another_clients_commit_for_its_own() {
    // The interface skips commits whose origin is its own connection id (it reloaded for those
    // already). A restarted server numbers connections afresh: the interface's old id must not
    // come back on somebody else's connection.
    let team = Team::new(&["Ana Lima"]);
    let mut tui = team.tui("tester");
    tui.wait_for("Ana Lima");
    let socket = team.private_socket();
    let lock = team.start_lock();
    let mark = tui.mark();
    signal(team.server_pid(), rustix::process::Signal::KILL);
    tui.wait_for_after(mark, "Reconnecting to the rolo server");
    // A new server (as a client would start it) whose first connection is somebody else's.
    let _server = Reaped(
        team.cmd()
            .arg("serve")
            .arg("--auto")
            .arg("--socket")
            .arg(&socket)
            .arg("--idle")
            .arg("60")
            .stderr(Stdio::null())
            .spawn()
            .expect("rolo serve"),
    );
    wait_until("the new server", || UnixStream::connect(&socket).is_ok());
    let target = rolo::client::Target {
        db: team.db.clone(),
        socket: socket.clone(),
        spawn: false,
        idle: 0,
    };
    let other = rolo::api::Db::remote(
        rolo::client::Connection::open(target, Hello::new(None, rolo::api::Source::Cli))
            .expect("connect"),
    );
    drop(lock);
    wait_until("the interface to reconnect", || {
        other.status().is_ok_and(|s| s.clients >= 2)
    });
    // Let it hear that it is back and read its screen afresh.
    std::thread::sleep(Duration::from_millis(800));
    // The new server knows where the interface is (it says so again after reconnecting).
    wait_until("the interface's presence on the new server", || {
        other.status().is_ok_and(|s| {
            s.presence
                .iter()
                .any(|p| p.agent == "tester" && p.contact == 1)
        })
    });
    let mark = tui.mark();
    let interaction = rolo::domain::Interaction {
        id: 0,
        contact: 1,
        at: rolo::domain::At::now(),
        channel: rolo::domain::Channel::Call,
        direction: rolo::domain::Direction::Inbound,
        summary: "Logged-on-the-first-new-connection".into(),
        body: String::new(),
        outcome: None,
        satisfaction: None,
        agent: String::new(),
        deal: None,
        campaign: String::new(),
    };
    other.log_interaction(interaction, None, None).expect("log");
    tui.wait_for_after(mark, "Logged-on-the-first-new-connection");
    other.close();
    tui.quit();
}

/// A Unix account made for one test, removed again when dropped.
struct TempUser {
    name: String,
}

impl TempUser {
    fn create() -> Option<TempUser> {
        if !rustix::process::geteuid().is_root() {
            eprintln!("SKIP: peer-credential test needs root to create a second Unix user");
            return None;
        }
        if !Path::new("/usr/sbin/useradd").exists() && !Path::new("/sbin/useradd").exists() {
            eprintln!("SKIP: peer-credential test needs useradd");
            return None;
        }
        let name = format!("rolot{}", std::process::id() % 100_000);
        let out = Command::new("useradd")
            .args(["--no-create-home", "--user-group", "--shell", "/bin/sh"])
            .arg(&name)
            .output()
            .expect("useradd");
        if !out.status.success() {
            eprintln!(
                "SKIP: could not create a user: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Some(TempUser { name })
    }

    /// A command run as this user (runuser), with a clean environment.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args([
            "-u",
            &self.name,
            "--",
            "env",
            "-i",
            "PATH=/usr/bin:/bin",
            "HOME=/",
        ]);
        cmd.arg(program);
        cmd.stdin(Stdio::null());
        cmd
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
        let _ = Command::new("groupdel").arg(&self.name).output();
    }
}

/// `rolo serve --socket SOCKET` in the foreground, stopped when dropped.
struct TeamServer {
    child: std::process::Child,
    socket: PathBuf,
}

impl TeamServer {
    fn start(team: &Team, socket: &Path) -> TeamServer {
        let child = team
            .cmd()
            .arg("--socket")
            .arg(socket)
            .arg("serve")
            .stderr(Stdio::null())
            .spawn()
            .expect("rolo serve");
        wait_until("the team socket", || UnixStream::connect(socket).is_ok());
        TeamServer {
            child,
            socket: socket.to_path_buf(),
        }
    }
}

impl Drop for TeamServer {
    fn drop(&mut self) {
        stop_pid(self.child.id());
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

#[test]
fn a_second_unix_account_is_named_by_its_peer_credentials_and_cannot_pose() {
    let Some(user) = TempUser::create() else {
        return;
    };
    let team = Team::new(&["Ana Lima"]);
    // The documented team set-up: a directory the group may enter, a socket it may use.
    std::fs::set_permissions(team.path(), std::fs::Permissions::from_mode(0o711)).expect("chmod");
    let dir = team.path().join("team");
    std::fs::create_dir(&dir).expect("team dir");
    let chgrp = |path: &Path| {
        let out = Command::new("chgrp")
            .arg(&user.name)
            .arg(path)
            .output()
            .expect("chgrp");
        assert!(out.status.success(), "{out:?}");
    };
    chgrp(&dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let socket = dir.join("team.sock");
    let _server = TeamServer::start(&team, &socket);
    let mode = std::fs::metadata(&socket)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660, "the team socket is group-only");
    chgrp(&socket);

    let as_user = |extra: &[&str]| {
        let mut cmd = user.command(ROLO);
        cmd.arg("--socket").arg(&socket).arg("--db").arg(&team.db);
        cmd.args(extra);
        cmd.output().expect("runuser rolo")
    };
    let out = as_user(&["log", "1", "--summary", "Logged-by-the-second-account"]);
    assert!(
        out.status.success(),
        "the second account could not log: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root_history = || {
        let text = team.ok(&[
            "--socket",
            socket.to_str().expect("utf-8"),
            "history",
            "--json",
        ]);
        serde_json::from_str::<Vec<serde_json::Value>>(&text).expect("json")
    };
    assert_eq!(
        actor_of_log(&root_history(), "Logged-by-the-second-account").as_deref(),
        Some(user.name.as_str()),
        "the audit trail names the account the kernel reported"
    );

    let out = as_user(&["--as", "boss", "log", "1", "--summary", "Posing-as-boss"]);
    assert!(!out.status.success(), "--as boss was accepted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot act as boss"), "{stderr}");
    assert_eq!(actor_of_log(&root_history(), "Posing-as-boss"), None);
    // Files are the server account's: a job (backup) is refused to another account.
    let stolen = team.path().join("stolen.redb");
    let out = as_user(&["backup", stolen.to_str().expect("utf-8")]);
    assert!(!out.status.success(), "a backup by another account ran");
    assert!(!stolen.exists());
}

// ---- OpenSSH --------------------------------------------------------------------------------

struct Sshd {
    child: std::process::Child,
    port: u16,
    key: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success(), "{out:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// sshd on 127.0.0.1 with a throw-away host key and one client key forced to
/// `rolo --db DB attach --agent AGENT`.
fn start_sshd(team: &Team, agent: &str) -> Option<Sshd> {
    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        eprintln!("SKIP: the OpenSSH test needs /usr/sbin/sshd (apt-get install openssh-server)");
        return None;
    }
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: the OpenSSH test runs sshd as root");
        return None;
    }
    let _ = std::fs::create_dir_all("/run/sshd");
    let dir = team.path().join("ssh");
    std::fs::create_dir(&dir).expect("ssh dir");
    keygen(&dir.join("host"));
    keygen(&dir.join("id"));
    let public = std::fs::read_to_string(dir.join("id.pub")).expect("pub");
    // Nothing of the test's environment crosses ssh: the forced command sets what it needs.
    let forced = format!(
        "env HOME={home} XDG_CONFIG_HOME={home}/config XDG_RUNTIME_DIR={run} ROLO_SERVER_IDLE=60 {ROLO} --db {db} attach --agent {agent}",
        home = team.path().display(),
        run = team.run.display(),
        db = team.db.display(),
    );
    std::fs::write(
        dir.join("authorized_keys"),
        format!("restrict,pty,command=\"{forced}\" {public}"),
    )
    .expect("authorized_keys");
    let port = free_port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nPidFile {pid}\nPrintMotd no\nPrintLastLog no\n\
             LogLevel ERROR\n",
            host = dir.join("host").display(),
            keys = dir.join("authorized_keys").display(),
            pid = dir.join("sshd.pid").display(),
        ),
    )
    .expect("sshd_config");
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sshd");
    let sshd = Sshd {
        child,
        port,
        key: dir.join("id"),
    };
    wait_until("sshd to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Some(sshd)
}

fn ssh_args(sshd: &Sshd) -> Vec<String> {
    [
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "LogLevel=ERROR",
        "-i",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        sshd.key.display().to_string(),
        "-p".into(),
        sshd.port.to_string(),
        // The remote command may start with `--`: no more ssh options after the host.
        "--".into(),
        "root@127.0.0.1".into(),
    ])
    .collect()
}

fn ssh_command(sshd: &Sshd, remote: &str) -> Output {
    Command::new("ssh")
        .args(ssh_args(sshd))
        .arg(remote)
        .stdin(Stdio::null())
        .output()
        .expect("ssh")
}

#[test]
fn openssh_forced_command_names_the_keys_agent_and_refuses_smuggled_flags() {
    let team = Team::new(&["Ana Lima", "Bruno Costa"]);
    let Some(sshd) = start_sshd(&team, "ana") else {
        return;
    };
    // The real interface through a real ssh session.
    let mut args = vec!["-tt".to_string()];
    args.extend(ssh_args(&sshd));
    let mut s = Session::start("ssh", &args, &[]);
    s.wait_for("Bruno Costa");
    // No shell escapes in a restricted session: suspend (ctrl-z) is refused, rolo stays.
    let mark = s.mark();
    s.send("\u{1a}");
    s.wait_for_after(mark, "Not available in an SSH session");
    log_in_tui(&mut s, "Ana Lima", "Called-over-ssh");
    s.quit();
    assert_eq!(
        actor_of_log(&history(&team), "Called-over-ssh").as_deref(),
        Some("ana"),
        "the audit trail names the key's agent"
    );
    assert_eq!(
        source_of_log(&history(&team), "Called-over-ssh").as_deref(),
        Some("ssh"),
        "and that it came in over SSH"
    );

    for smuggled in [
        "search x --as boss",
        "log 1 --summary forged --as boss",
        "--db /x search x",
        "search x --db=/x",
        "serve",
        "backup /tmp/x.redb",
    ] {
        let out = ssh_command(&sshd, smuggled);
        assert!(!out.status.success(), "`{smuggled}` was run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not allowed over SSH"),
            "{smuggled}: {stderr}"
        );
    }
    assert_eq!(actor_of_log(&history(&team), "forged"), None);

    let out = ssh_command(&sshd, "search ana");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Ana Lima"));
    // A write through the forced command is the key's agent's too.
    let out = ssh_command(&sshd, "log 2 --summary 'Logged-by-ssh-cli'");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        actor_of_log(&history(&team), "Logged-by-ssh-cli").as_deref(),
        Some("ana")
    );
    assert_eq!(
        source_of_log(&history(&team), "Logged-by-ssh-cli").as_deref(),
        Some("ssh")
    );
}

// ---- broken frames ----------------------------------------------------------------------------

/// A raw connection that has shaken hands.
fn handshake(socket: &Path) -> UnixStream {
    let mut stream = UnixStream::connect(socket).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let hello = Hello::new(None, rolo::api::Source::Cli);
    Frame::new(kind::HELLO, 0, serde_json::to_vec(&hello).expect("hello"))
        .write_to(&mut stream)
        .expect("send hello");
    let welcome = Frame::read_from(&mut stream)
        .expect("read")
        .expect("welcome");
    assert_eq!(welcome.kind, kind::WELCOME);
    stream
}

/// Sends a request and reads frames until its answer (events are skipped).
fn ask(stream: &mut UnixStream, kind: u16, id: u32, payload: &[u8]) -> Frame {
    Frame::new(kind, id, payload.to_vec())
        .write_to(stream)
        .expect("send");
    loop {
        let frame = Frame::read_from(stream).expect("read").expect("an answer");
        if frame.id == id {
            return frame;
        }
    }
}

/// Whether the server closed this connection (end of stream, or reset).
fn closed_by_server(stream: &mut UnixStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn a_malformed_or_oversized_frame_closes_only_that_connection() {
    let team = Team::new(&["Ana Lima"]);
    std::fs::create_dir(team.path().join("s")).expect("dir");
    std::fs::set_permissions(
        team.path().join("s"),
        std::fs::Permissions::from_mode(0o700),
    )
    .expect("chmod");
    let socket = team.path().join("s/team.sock");
    let server = TeamServer::start(&team, &socket);
    let count = rolo::api::Request::ContactCount(rolo::api::args::ContactCount {});
    let payload = count.encode().expect("encode");
    let mut good = handshake(&socket);
    let answer = ask(&mut good, count.kind(), 1, &payload);
    assert_eq!(answer.kind, kind::REPLY);
    assert_eq!(answer.payload, b"1");

    // A length over the limit, after the handshake.
    let mut huge = handshake(&socket);
    huge.write_all(&u32::MAX.to_le_bytes()).expect("write");
    huge.write_all(&[0u8; 16]).expect("write");
    assert!(
        closed_by_server(&mut huge),
        "an oversized frame kept its connection"
    );
    // A length shorter than the header.
    let mut short = handshake(&socket);
    short.write_all(&2u32.to_le_bytes()).expect("write");
    short.write_all(&[0u8; 2]).expect("write");
    assert!(
        closed_by_server(&mut short),
        "a short frame kept its connection"
    );
    // Garbage instead of a handshake: refused and closed.
    let mut garbage = UnixStream::connect(&socket).expect("connect");
    garbage
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("write");
    assert!(
        closed_by_server(&mut garbage),
        "garbage kept its connection"
    );
    // A payload that does not decode, and an unknown kind: answered, the connection lives.
    let bad = ask(&mut good, count.kind(), 2, b"{not json");
    assert_eq!(bad.kind, kind::ERROR);
    let unknown = ask(&mut good, 0x7777, 3, b"{}");
    assert_eq!(unknown.kind, kind::UNSUPPORTED);

    // A client of another protocol is told which versions are talking.
    let mut future = UnixStream::connect(&socket).expect("connect");
    let mut hello = Hello::new(None, rolo::api::Source::Cli);
    hello.protocol = 99;
    hello.min_protocol = 99;
    hello.version = "9.9.9".into();
    Frame::new(kind::HELLO, 0, serde_json::to_vec(&hello).expect("hello"))
        .write_to(&mut future)
        .expect("send hello");
    let refused = Frame::read_from(&mut future)
        .expect("read")
        .expect("an answer");
    assert_eq!(refused.kind, kind::REFUSED);
    let reason = String::from_utf8_lossy(&refused.payload);
    assert!(
        reason.contains("9.9.9") && reason.contains(env!("CARGO_PKG_VERSION")),
        "{reason}"
    );

    // The well-behaved client, and new ones, carry on.
    let answer = ask(&mut good, count.kind(), 4, &payload);
    assert_eq!(answer.kind, kind::REPLY);
    let out = team.ok(&["--socket", socket.to_str().expect("utf-8"), "search", "ana"]);
    assert!(out.contains("Ana Lima"));
    assert!(alive(server.child.id()), "the server survived");
}
