//! `rolo bench …` (hidden): measurements behind the performance targets, run on this machine's
//! own disk so the numbers can be compared with each other. Not timed tests — reports.

mod team;

use std::io::Write;
use std::time::{Duration, Instant};

use super::commands::Context;
use super::{BenchWhat, Failure, exit};
use crate::domain::{Actor, At, Channel, ContactDraft, Direction, Interaction};
use crate::store::Store;

pub fn run(ctx: &Context, what: BenchWhat) -> Result<(), Failure> {
    match what {
        BenchWhat::Log { count } => log_latency(ctx, count),
        BenchWhat::CommitLoop { contact } => commit_loop(ctx, contact),
        BenchWhat::Demo { contacts } => demo(ctx, contacts),
        BenchWhat::Dump { out } => {
            let store = Store::open(&ctx.db_path)?;
            let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
            let rows = store.dump_rows(&mut file)?;
            file.flush()?;
            outln!("{rows} rows written to {}", out.display());
            Ok(())
        }
        BenchWhat::Space => space(ctx),
        BenchWhat::Vcards { count, out, seed } => vcards(count, &out, seed),
        BenchWhat::Team {
            agents,
            seconds,
            contacts,
        } => team::run(
            &ctx.db_path,
            &team::Options {
                agents,
                seconds,
                contacts,
            },
        ),
    }
}

fn interaction(contact: u64, n: usize) -> Interaction {
    Interaction {
        id: 0,
        contact,
        at: At::now(),
        channel: Channel::Call,
        direction: Direction::Inbound,
        summary: format!("Benchmark call {n}"),
        body: String::new(),
        outcome: None,
        satisfaction: Some(4),
        agent: String::new(),
        deal: None,
        campaign: String::new(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn log_latency(ctx: &Context, count: usize) -> Result<(), Failure> {
    let dir = ctx
        .db_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    std::fs::create_dir_all(&dir)?;
    // Raw fdatasync of a 4 KiB page on the same disk.
    let sync_path = dir.join(format!(".rolo-bench-sync-{}", std::process::id()));
    let mut file = std::fs::File::create(&sync_path)?;
    let page = vec![7u8; 4096];
    let mut syncs = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        file.write_all(&page)?;
        file.sync_data()?;
        syncs.push(t.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&sync_path);

    let db_path = dir.join(format!(".rolo-bench-{}.redb", std::process::id()));
    let store = Store::open(&db_path)?;
    let actor = Actor::new("bench");
    crate::demo::load(&store, &actor, 1_000, 1, |_| {})?;
    let contact = store.add_contact(
        &actor,
        ContactDraft {
            name: "Bench Person".into(),
            ..ContactDraft::default()
        },
    )?;
    let mut logs = Vec::with_capacity(count);
    for n in 0..count {
        let t = Instant::now();
        store.log_interaction(&actor, interaction(contact.id, n), None)?;
        logs.push(t.elapsed());
    }
    drop(store);
    let _ = std::fs::remove_file(&db_path);
    syncs.sort();
    logs.sort();
    let (sync_med, log_med) = (percentile(&syncs, 0.5), percentile(&logs, 0.5));
    outln!("disk: {}", dir.display());
    outln!(
        "raw fdatasync (4 KiB)      median {sync_med:.3} ms  p99 {:.3} ms  (n={count})",
        percentile(&syncs, 0.99)
    );
    outln!(
        "logged interaction durable median {log_med:.3} ms  p99 {:.3} ms  (n={count})",
        percentile(&logs, 0.99)
    );
    outln!(
        "ratio median log / fdatasync: {:.2}×",
        log_med / sync_med.max(1e-9)
    );
    Ok(())
}

/// Logs forever through the store API (a client of the server, or the file itself with
/// `--no-server`), printing each acknowledged id: the kill -9 tests' writer.
fn commit_loop(ctx: &Context, contact: u64) -> Result<(), Failure> {
    let store = ctx.open()?;
    let stdout = std::io::stdout();
    for n in 0.. {
        let logged = store.log_interaction(interaction(contact, n), None, None)?;
        let mut out = stdout.lock();
        writeln!(out, "{}", logged.interaction.id)?;
        out.flush()?;
    }
    Ok(())
}

fn demo(ctx: &Context, contacts: u64) -> Result<(), Failure> {
    if ctx.db_path.exists() {
        return Err(Failure::new(
            exit::INVALID,
            format!(
                "{} exists; bench demo wants a fresh --db path",
                ctx.db_path.display()
            ),
        ));
    }
    let store = Store::open_for_bulk(&ctx.db_path)?;
    let t = Instant::now();
    crate::demo::load(&store, &ctx.actor, contacts, 1, |_| {})?;
    let load = t.elapsed();
    let before = std::fs::metadata(&ctx.db_path)?.len();
    let t = Instant::now();
    let mut store = store.reopen_for_compaction()?;
    store.compact()?;
    let compact = t.elapsed();
    let after = std::fs::metadata(&ctx.db_path)?.len();
    let mut report = store.doctor()?;
    report.problems.truncate(3);
    outln!(
        "demo {contacts} contacts: load {:.2} s, compact {:.2} s",
        load.as_secs_f64(),
        compact.as_secs_f64()
    );
    outln!(
        "file {:.1} MB before compaction, {:.1} MB after; {} timeline entries; doctor clean: {}",
        before as f64 / 1e6,
        after as f64 / 1e6,
        report.timeline_entries,
        report.is_clean()
    );
    let space = store.space()?;
    outln!(
        "space: stored {:.1} MB, metadata {:.1} MB, fragmented {:.1} MB, {} leaf + {} branch pages",
        space.stored_bytes as f64 / 1e6,
        space.metadata_bytes as f64 / 1e6,
        space.fragmented_bytes as f64 / 1e6,
        space.leaf_pages,
        space.branch_pages
    );
    if let Some(hwm) = peak_rss_kb() {
        outln!("peak RSS {:.1} MB", hwm as f64 / 1024.0);
    }
    Ok(())
}

fn space(ctx: &Context) -> Result<(), Failure> {
    // Measured before opening: redb grows the file while it is open for writing and gives the
    // free tail back on a clean close.
    let closed = std::fs::metadata(&ctx.db_path)?.len();
    let store = Store::open(&ctx.db_path)?;
    let total = store.space()?;
    let mb = |b: u64| b as f64 / 1e6;
    outln!(
        "file {:.1} MB: stored {:.1} MB, metadata {:.1} MB, fragmented {:.1} MB, {} leaf + {} branch pages",
        mb(closed),
        mb(total.stored_bytes),
        mb(total.metadata_bytes),
        mb(total.fragmented_bytes),
        total.leaf_pages,
        total.branch_pages
    );
    outln!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>6} {:>6}",
        "table",
        "rows",
        "pages MB",
        "stored",
        "meta",
        "fragm",
        "leaves",
        "branch",
        "fill"
    );
    for t in store.table_space()? {
        let pages = t.page_bytes();
        outln!(
            "{:<24} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8} {:>6} {:>5.0}%",
            t.name,
            t.rows,
            mb(pages),
            mb(t.stored_bytes),
            mb(t.metadata_bytes),
            mb(t.fragmented_bytes),
            t.leaf_pages,
            t.branch_pages,
            100.0 * t.stored_bytes as f64 / (pages.max(1)) as f64
        );
    }
    Ok(())
}

pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Generated people as vCard 3.0, one after the other (the organisation id is made up).
fn vcards(count: u64, out: &std::path::Path, seed: u64) -> Result<(), Failure> {
    let t = Instant::now();
    let file = std::fs::File::create(out)
        .map_err(|e| Failure::new(exit::ERROR, format!("cannot create {}: {e}", out.display())))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut generator = crate::demo::Generator::new(seed, At::now(), count);
    for n in 1..=count {
        let mut g = generator.person();
        g.contact.id = n;
        crate::interop::vcard::write_card(
            &mut w,
            &g.contact,
            Some(&g.org),
            crate::interop::VcardVersion::V3,
        )?;
    }
    w.flush()?;
    outln!(
        "wrote {count} vCards to {} in {:.2} s",
        out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
