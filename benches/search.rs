//! Search latency, load time and memory on generated contacts, with an fzf comparison.
//!
//! `cargo bench --bench search -- --sizes 100000,1000000`; `--team-only` runs just the team
//! words phase (with its full-scan reference), for profiling.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rolo::search::{Index, IndexEntry, Query, SearchOptions, Searcher, testgen};

const REPS: usize = 7;
const OPTS: SearchOptions = SearchOptions {
    limit: 50,
    today_day: 20_000,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    let team_only = args.iter().any(|a| a == "--team-only");
    let dir = std::env::temp_dir().join(format!("rolo-search-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return;
    }
    for size in sizes {
        if let Err(e) = bench_size(size, &dir, team_only) {
            eprintln!("size {size}: {e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bench_size(size: usize, dir: &Path, team_only: bool) -> std::io::Result<()> {
    println!("== {size} contacts ==");
    let records = dir.join(format!("records-{size}.bin"));
    let lines = dir.join(format!("lines-{size}.txt"));
    let (entries, key_bytes) = write_inputs(size, &records, &lines)?;
    reset_peak_rss();

    let started = Instant::now();
    let bytes_only = read_only(&records)?;
    println!(
        "  reading the records alone: {:.0} ms ({:.1} MB)",
        ms(started.elapsed()),
        bytes_only as f64 / 1e6
    );
    let started = Instant::now();
    let mut index = load(&records, entries, key_bytes)?;
    let build = started.elapsed();
    println!(
        "build from compact records: {:.0} ms ({} entries, keys {:.1} MB, index ~{:.1} MB)",
        ms(build),
        index.len(),
        key_bytes as f64 / 1e6,
        index.memory_bytes() as f64 / 1e6
    );

    if team_only {
        index.set_scan_threads(1);
        index.set_full_scans_only(true);
        print!("  [reference: full scans only]");
        team_keystrokes(&index)?;
        index.set_full_scans_only(false);
        team_keystrokes(&index)?;
        let _ = std::fs::remove_file(&records);
        let _ = std::fs::remove_file(&lines);
        return Ok(());
    }
    let typed = "john smith";
    let mut per_key: Vec<Vec<Duration>> = vec![Vec::new(); typed.len()];
    for _ in 0..REPS {
        let mut searcher = Searcher::new();
        for end in 1..=typed.len() {
            let query = Query::parse(&typed[..end]).map_err(std::io::Error::other)?;
            let t = Instant::now();
            let hits = searcher.search(&index, &query, OPTS, &|| false);
            per_key[end - 1].push(t.elapsed());
            std::hint::black_box(hits);
        }
    }
    let mut worst_all = Duration::ZERO;
    for (end, times) in per_key.iter_mut().enumerate() {
        let (median, worst) = stats(times);
        worst_all = worst_all.max(worst);
        println!(
            "  typed {:<12} median {:6.2} ms  worst {:6.2} ms",
            format!("{:?}", &typed[..end + 1]),
            ms(median),
            ms(worst)
        );
    }
    println!("  worst keystroke overall: {:.2} ms", ms(worst_all));

    index.set_scan_threads(1);
    index.set_full_scans_only(true);
    print!("  [reference: full scans only]");
    team_keystrokes(&index)?;
    index.set_full_scans_only(false);
    team_keystrokes(&index)?;
    index.set_scan_threads(0);

    let fzf = fzf_available();
    if !fzf {
        println!("  fzf not found; skipping the comparison");
    }
    for q in [
        "john smith",
        "jhn smth acme",
        "nguyen van",
        "5551234",
        "j",
        "o",
        "ac",
        "sam",
        "more",
        "ana",
    ] {
        let query = Query::parse(q).map_err(std::io::Error::other)?;
        let mut times: Vec<Duration> = (0..REPS)
            .map(|_| {
                let t = Instant::now();
                let hits = index.search(&query, OPTS);
                let elapsed = t.elapsed();
                std::hint::black_box(hits);
                elapsed
            })
            .collect();
        let (median, worst) = stats(&mut times);
        let hits = index.search(&query, OPTS).len();
        print!(
            "  fresh {:<16} median {:6.2} ms  worst {:6.2} ms  ({hits} hits)",
            format!("{q:?}"),
            ms(median),
            ms(worst)
        );
        if fzf {
            match time_fzf(q, &lines) {
                Some(d) => print!(
                    "  | fzf --filter {:7.1} ms  ({:.0}x)",
                    ms(d),
                    ms(d) / ms(median).max(1e-3)
                ),
                None => print!("  | fzf failed"),
            }
        }
        println!();
    }
    println!("  peak RSS (VmHWM) since load: {:.0} MB", peak_rss_mb());
    drop(index);
    let _ = std::fs::remove_file(&records);
    let _ = std::fs::remove_file(&lines);
    Ok(())
}

/// What `rolo bench team` agents type, one keystroke at a time with narrowing, each scan on one
/// thread as the server runs them: the per-keystroke CPU cost that decides how many agents
/// two cores can serve.
fn team_keystrokes(index: &Index) -> std::io::Result<()> {
    let options = SearchOptions {
        limit: 200,
        today_day: 20_000,
    };
    let mut times = Vec::new();
    let mut worst = (Duration::ZERO, String::new());
    let mut by_query = Vec::new();
    // `ROLO_BENCH_WORDS=si,nguyen` types those instead (for profiling one case).
    let chosen: Option<Vec<String>> = std::env::var("ROLO_BENCH_WORDS")
        .ok()
        .map(|w| w.split(',').map(str::to_owned).collect());
    let words: Vec<&str> = match &chosen {
        Some(words) => words.iter().map(String::as_str).collect(),
        None => testgen::TEAM_WORDS.to_vec(),
    };
    for word in words {
        let mut searcher = Searcher::new();
        for end in word.char_indices().map(|(i, c)| i + c.len_utf8()) {
            let query = Query::parse(&word[..end]).map_err(std::io::Error::other)?;
            let cpu = thread_cpu();
            let t = Instant::now();
            let hits = searcher.search(index, &query, options, &|| false);
            let wall = t.elapsed();
            // CPU time, not wall time: other work on the machine does not count, and it is
            // what decides how many agents the cores can serve.
            let elapsed = thread_cpu().saturating_sub(cpu);
            std::hint::black_box(wall);
            std::hint::black_box(hits);
            if elapsed > worst.0 {
                worst = (elapsed, word[..end].to_owned());
            }
            by_query.push((elapsed, word[..end].to_owned()));
            times.push(elapsed);
        }
    }
    if std::env::var_os("ROLO_BENCH_VERBOSE").is_some() {
        for (d, q) in &by_query {
            println!("    {q:?} {:.1}", ms(*d));
        }
    }
    let mut slowest = by_query.clone();
    slowest.sort_by_key(|(d, _)| std::cmp::Reverse(*d));
    let total: Duration = times.iter().sum();
    let mean = total / times.len() as u32;
    times.sort_unstable();
    let p95 = times[times.len() * 95 / 100];
    println!(
        "  team words, one thread, limit 200, CPU time: {} keystrokes, mean {:.2} ms, p50 {:.2} ms, p95 {:.2} ms, worst {:.2} ms ({:?})",
        times.len(),
        ms(mean),
        ms(times[times.len() / 2]),
        ms(p95),
        ms(worst.0),
        worst.1
    );
    let slow: Vec<String> = slowest
        .iter()
        .take(12)
        .map(|(d, q)| format!("{q:?} {:.1}", ms(*d)))
        .collect();
    println!("    slowest: {}", slow.join(", "));
    Ok(())
}

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn stats(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort_unstable();
    (times[times.len() / 2], times[times.len() - 1])
}

/// Streams generated contacts to length-prefixed compact records (as the store would hold them)
/// and to display lines for fzf, never holding all of them in memory.
fn write_inputs(
    size: usize,
    records: &PathBuf,
    lines: &PathBuf,
) -> std::io::Result<(usize, usize)> {
    let mut rec = BufWriter::new(File::create(records)?);
    let mut txt = BufWriter::new(File::create(lines)?);
    let mut key_bytes = 0;
    for doc in testgen::contacts(size, 2024) {
        let bytes = doc.encode_compact();
        if let Ok(view) = IndexEntry::decode(&bytes) {
            key_bytes += view.key.len();
        }
        rec.write_all(&(bytes.len() as u32).to_le_bytes())?;
        rec.write_all(&bytes)?;
        writeln!(txt, "{}", testgen::display_line(&doc))?;
    }
    rec.flush()?;
    txt.flush()?;
    Ok((size, key_bytes))
}

fn load(records: &Path, entries: usize, key_bytes: usize) -> std::io::Result<Index> {
    let mut index = Index::with_capacity(entries, key_bytes);
    let mut reader = BufReader::with_capacity(1 << 20, File::open(records)?);
    let mut len = [0u8; 4];
    let mut buf = Vec::with_capacity(1024);
    while reader.read_exact(&mut len).is_ok() {
        buf.resize(u32::from_le_bytes(len) as usize, 0);
        reader.read_exact(&mut buf)?;
        index.upsert_encoded(&buf).map_err(std::io::Error::other)?;
    }
    Ok(index)
}

/// The same reads as `load` without indexing, to show what the indexing itself costs.
fn read_only(records: &Path) -> std::io::Result<usize> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(records)?);
    let mut len = [0u8; 4];
    let mut buf = Vec::with_capacity(1024);
    let mut total = 0;
    while reader.read_exact(&mut len).is_ok() {
        buf.resize(u32::from_le_bytes(len) as usize, 0);
        reader.read_exact(&mut buf)?;
        total += std::hint::black_box(&buf).len();
    }
    Ok(total)
}

fn fzf_available() -> bool {
    Command::new("fzf")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn time_fzf(query: &str, lines: &Path) -> Option<Duration> {
    let mut best: Option<Duration> = None;
    for _ in 0..3 {
        let input = File::open(lines).ok()?;
        let t = Instant::now();
        let status = Command::new("fzf")
            .args(["--filter", query])
            .stdin(input)
            .stdout(Stdio::null())
            .status()
            .ok()?;
        let elapsed = t.elapsed();
        if !status.success() && status.code() != Some(1) {
            return None;
        }
        best = Some(best.map_or(elapsed, |b| b.min(elapsed)));
    }
    best
}
