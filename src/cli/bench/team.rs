//! `rolo bench team`: a load generator for team mode on loopback. N simulated agents, each a
//! real client on the server's socket, type searches at human speed (~8 keys/s, one request
//! per keystroke, results awaited as a TUI's search worker does) and log a call every few
//! seconds; every agent also listens for the others' commits. Reported next to the same work
//! done in one process (no server), measured in the same run. A report, not a test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::{Caller, Db, Event, Source};
use crate::cli::{Failure, exit};
use crate::client::{Connection, Target};
use crate::domain::{Actor, Channel, Interaction};
use crate::search::testgen::TEAM_WORDS;
use crate::server::socket::Hello;
use crate::store::Store;

pub struct Options {
    pub agents: usize,
    pub seconds: u64,
    pub contacts: u64,
}

#[derive(Default)]
struct Samples {
    keystroke: Vec<Duration>,
    commit: Vec<Duration>,
    delivery: Vec<Duration>,
}

fn percentiles(mut v: Vec<Duration>) -> String {
    if v.is_empty() {
        return "no samples".into();
    }
    v.sort();
    let at = |p: f64| {
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1000.0
    };
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms ({} samples)",
        at(0.5),
        at(0.95),
        at(0.99),
        v.len()
    )
}

fn call(contact: u64, n: usize) -> Interaction {
    Interaction::new(contact, Channel::Call, &format!("Team bench call {n}"))
}

/// The keystrokes of typing `word`: each prefix.
fn prefixes(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (1..=chars.len())
        .map(|n| chars[..n].iter().collect())
        .collect()
}

pub fn run(db_path: &Path, options: &Options) -> Result<(), Failure> {
    if !db_path.exists() {
        let store = Store::open_for_bulk(db_path)?;
        let t = Instant::now();
        crate::demo::load(&store, &Actor::new("bench"), options.contacts, 1, |_| {})?;
        let load = t.elapsed();
        store.reopen_for_compaction()?.compact()?;
        outln!(
            "demo {} contacts in {:.1} s (one process)",
            options.contacts,
            load.as_secs_f64()
        );
    }
    let exe = std::env::current_exe()?;
    let reference = one_process(db_path, &exe)?;

    // A team server on its own socket, as `rolo serve --socket` runs it.
    let dir = tempfile_dir()?;
    let socket = dir.join("team.sock");
    let mut server = std::process::Command::new(&exe)
        .arg("--db")
        .arg(db_path)
        .arg("--socket")
        .arg(&socket)
        .arg("serve")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let started = Instant::now();
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = server.kill();
            return Err(Failure::new(exit::ERROR, "the server did not start"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let target = Target::shared(db_path, &socket);
    let result = through_server(db_path, &exe, &target, options, &reference, server.id());
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(server.id()).unwrap_or(0))
            .ok_or_else(|| Failure::new(exit::ERROR, "no server pid"))?,
        rustix::process::Signal::TERM,
    );
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    cold_start(db_path)
}

/// The TUI's first frame when no server runs: connect (which starts a private server: it
/// opens the file and answers; the index loads behind), then the first frame's reads.
fn cold_start(db_path: &Path) -> Result<(), Failure> {
    let target = Target::private(db_path).map_err(|e| Failure::new(exit::ERROR, e))?;
    let t = Instant::now();
    let conn = Connection::open(target, Hello::new(Some("cold".into()), Source::Tui))?;
    let db = Db::remote(conn);
    let connected = t.elapsed().as_secs_f64() * 1000.0;
    let reads = first_frame(&db)?;
    outln!(
        "  first frame, server not running: {:.1} ms (start + connect {connected:.1} ms, reads {reads:.1} ms)",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let _ = db.shutdown();
    db.close();
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf, Failure> {
    let dir = std::env::temp_dir().join(format!("rolo-bench-{}", std::process::id()));
    let mut builder = std::fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.recursive(true).create(&dir)?;
    Ok(dir)
}

struct Reference {
    keystroke: String,
    commit: String,
    cli: f64,
    first_frame: f64,
}

/// The same work in one process, no server: the figures team mode is compared with.
fn one_process(db_path: &Path, exe: &Path) -> Result<Reference, Failure> {
    let store = Store::open(db_path)?;
    let count = store.contact_count()?;
    let db = Db::local(store, Caller::local(Actor::new("bench"), Source::Cli));
    let first = first_frame(&db)?;
    db.search("warm".into(), 200)?; // the index load is not a keystroke
    let mut keystroke = Vec::new();
    for word in TEAM_WORDS {
        for prefix in prefixes(word) {
            let t = Instant::now();
            db.search(prefix, 200)?;
            keystroke.push(t.elapsed());
        }
    }
    let mut commit = Vec::new();
    for n in 0..50 {
        let t = Instant::now();
        db.log_interaction(call(1 + (n as u64 * 7919) % count.max(1), n), None, None)?;
        commit.push(t.elapsed());
    }
    db.close();
    drop(db);
    let cli = median_process_ms(exe, db_path, &["--no-server", "show", "1"], 15)?;
    outln!("one process, no server ({count} contacts):");
    let reference = Reference {
        keystroke: percentiles(keystroke),
        commit: percentiles(commit),
        cli,
        first_frame: first,
    };
    outln!("  keystroke → results  {}", reference.keystroke);
    outln!("  log commit           {}", reference.commit);
    outln!(
        "  `rolo show 1`        median {:.1} ms (process start to exit)",
        cli
    );
    outln!("  first-frame reads    {:.1} ms", first);
    Ok(reference)
}

/// What the TUI reads before its first frame: count, first page of ids, their rows, the
/// selected contact with its timeline (ms).
fn first_frame(db: &Db) -> Result<f64, Failure> {
    let t = Instant::now();
    db.contact_count()?;
    let ids = db.ids_by_name(None, 200)?;
    db.list_rows(ids.iter().take(40).copied().collect())?;
    if let Some(id) = ids.first() {
        db.contact(*id)?;
        db.timeline(*id, 500)?;
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0)
}

fn median_process_ms(exe: &Path, db: &Path, args: &[&str], runs: usize) -> Result<f64, Failure> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = std::process::Command::new(exe)
            .arg("--db")
            .arg(db)
            .args(args)
            .output()?;
        if !out.status.success() {
            return Err(Failure::new(
                exit::ERROR,
                format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)),
            ));
        }
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2].as_secs_f64() * 1000.0)
}

fn rss_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn through_server(
    db_path: &Path,
    exe: &Path,
    target: &Target,
    options: &Options,
    reference: &Reference,
    server_pid: u32,
) -> Result<(), Failure> {
    let socket = target.socket.display().to_string();
    let cli = median_process_ms(exe, db_path, &["--socket", &socket, "show", "1"], 15)?;
    let solo = Db::remote(Connection::open(
        target.clone(),
        Hello::new(Some("solo".into()), Source::Tui),
    )?);
    let first = first_frame(&solo)?;
    solo.search("warm".into(), 200)?;
    let count = solo.contact_count()?.max(1);
    solo.close();

    // When each agent's call was sent, for the others to time its arrival.
    let sent: Arc<Mutex<HashMap<(String, u64), Instant>>> = Arc::default();
    let samples: Arc<Mutex<Samples>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for a in 0..options.agents {
        let name = format!("agent{a}");
        let mut hello = Hello::new(Some(name.clone()), Source::Tui);
        hello.subscribe = true;
        let conn = Connection::open(target.clone(), hello)?;
        let db = Db::remote(conn);
        let events = db.subscribe();
        {
            let (sent, samples, stop, me) = (
                Arc::clone(&sent),
                Arc::clone(&samples),
                Arc::clone(&stop),
                name.clone(),
            );
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(event) = events.recv_timeout(Duration::from_millis(200)) else {
                        continue;
                    };
                    if let Event::Committed {
                        agent, contacts, ..
                    } = event
                        && agent != me
                    {
                        let now = Instant::now();
                        let when = contacts.first().and_then(|c| {
                            crate::server::lock(&sent)
                                .get(&(agent.clone(), *c))
                                .copied()
                        });
                        if let Some(when) = when {
                            crate::server::lock(&samples)
                                .delivery
                                .push(now.saturating_duration_since(when));
                        }
                    }
                }
            }));
        }
        let (sent, samples, stop) = (Arc::clone(&sent), Arc::clone(&samples), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || {
            let mut rng = fastrand::Rng::with_seed(a as u64 + 1);
            // Agents start spread over the first second, as people do.
            std::thread::sleep(Duration::from_millis(rng.u64(0..1000)));
            let mut next_log = Instant::now() + Duration::from_millis(rng.u64(1000..5000));
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let word = TEAM_WORDS[rng.usize(0..TEAM_WORDS.len())];
                for prefix in prefixes(word) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let keyed = Instant::now();
                    if db.search(prefix, 200).is_ok() {
                        crate::server::lock(&samples)
                            .keystroke
                            .push(keyed.elapsed());
                    }
                    let pause = Duration::from_millis(125).saturating_sub(keyed.elapsed());
                    std::thread::sleep(pause);
                }
                if Instant::now() >= next_log {
                    let contact = rng.u64(1..=count);
                    crate::server::lock(&sent).insert((name.clone(), contact), Instant::now());
                    let t = Instant::now();
                    if db.log_interaction(call(contact, n), None, None).is_ok() {
                        crate::server::lock(&samples).commit.push(t.elapsed());
                    }
                    n += 1;
                    next_log = Instant::now() + Duration::from_millis(rng.u64(2000..4000));
                }
                std::thread::sleep(Duration::from_millis(rng.u64(200..800)));
            }
            db.close();
        }));
    }
    std::thread::sleep(Duration::from_secs(options.seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let samples = std::mem::take(&mut *crate::server::lock(&samples));
    outln!(
        "through the server ({count} contacts, {} agents, {} s):",
        options.agents,
        options.seconds
    );
    outln!(
        "  keystroke → results  {}   [one process: {}]",
        percentiles(samples.keystroke),
        reference.keystroke
    );
    outln!(
        "  log commit           {}   [one process: {}]",
        percentiles(samples.commit),
        reference.commit
    );
    outln!("  live update to others {}", percentiles(samples.delivery));
    outln!(
        "  `rolo show 1`        median {cli:.1} ms   [one process: {:.1} ms]",
        reference.cli
    );
    outln!(
        "  first-frame reads    {first:.1} ms   [one process: {:.1} ms]",
        reference.first_frame
    );
    if let (Some(rss), Some(hwm)) = (rss_kb(server_pid, "VmRSS:"), rss_kb(server_pid, "VmHWM:")) {
        outln!(
            "  server memory        VmRSS {:.0} MB, VmHWM {:.0} MB",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
    }
    Ok(())
}
