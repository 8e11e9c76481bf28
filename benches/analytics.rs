//! Analytics at scale: generated buy-till-you-die order lines (default 1M customers, ~10M
//! lines) imported through the real binary, then RFM from open, one purchase's update, the
//! BG/NBD + Gamma-Gamma fit, every report, and — when `ROLO_PYTHON` has `lifetimes` — lifetimes'
//! fit on the same histories with its time and its log-likelihood next to rolo's.
//!
//! `cargo bench --bench analytics -- --customers 1000000 [--keep DIR] [--skip-lifetimes]`

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use fastrand::Rng;
use rolo::analytics::clv::{BgNbd, Grouped, History};
use rolo::analytics::reports::{self, TimeUnit};
use rolo::analytics::rfm::FrequencyRule;
use rolo::domain::{Actor, At, Day, Entry, Purchase};
use rolo::store::Store;

const DAY_MS: i64 = 86_400_000;
/// The end of the generated observation window: 2026-01-01.
const END_DAY: i32 = 20_454;
const WINDOW_DAYS: i32 = 3 * 365;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.f64().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let u1 = rng.f64().max(f64::MIN_POSITIVE);
        let x = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.f64().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Writes `customers` customers' order lines as CSV: BG/NBD process (λ ~ Gamma(0.9, 1/30 per
/// day), p ~ Beta(0.8, 4)), first purchase in the window's first two years, 1–2 lines per
/// purchase day. Returns the number of lines.
fn write_orders(path: &Path, customers: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        out,
        "customer,date,product,quantity,amount,cost,currency,channel,location"
    )?;
    let mut rng = Rng::with_seed(13);
    let products = [
        ("Starter", 2900, 0.8),
        ("Team", 9900, 0.75),
        ("Kit", 34900, 0.05),
        ("Day", 80000, 0.45),
    ];
    let channels = ["web", "store", "phone", "partner"];
    let cities = ["Milano", "Berlin", "Zagreb", "Madrid", "Lyon"];
    let mut lines = 0;
    for c in 0..customers {
        let rate = gamma(&mut rng, 0.9) / 30.0;
        let x = gamma(&mut rng, 0.8);
        let p = x / (x + gamma(&mut rng, 4.0));
        let mut day = f64::from(END_DAY - WINDOW_DAYS) + rng.f64() * 730.0;
        let channel = channels[rng.usize(..4)];
        let city = cities[rng.usize(..5)];
        // Customers differ in what they spend per line (the Gamma-Gamma heterogeneity).
        let spend = gamma(&mut rng, 4.0) / 4.0;
        loop {
            let d = rolo::domain::Day::from_number(day as i32);
            // One line on three purchase days in four, two on the rest: ~10M lines for 1M
            // customers, the size the targets name.
            for _ in 0..1 + usize::from(rng.f64() < 0.25) {
                let (name, price, margin) = products[rng.usize(..4)];
                let q = rng.i64(1..3);
                let amount = ((price * q) as f64 * spend) as i64;
                let cost = (amount as f64 * (1.0 - margin)) as i64;
                writeln!(
                    out,
                    "c-{c},{d},{name},{q},{}.{:02},{}.{:02},EUR,{channel},{city}",
                    amount / 100,
                    amount % 100,
                    cost / 100,
                    cost % 100
                )?;
                lines += 1;
            }
            if rng.f64() < p {
                break;
            }
            day += -(1.0 - rng.f64()).ln() / rate.max(1e-5);
            if day >= f64::from(END_DAY) {
                break;
            }
        }
    }
    out.flush()?;
    Ok(lines)
}

fn time<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    println!("{what:<52} {:>9.3} s", started.elapsed().as_secs_f64());
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let customers: u64 = arg(&args, "--customers")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let keep = arg(&args, "--keep").map(PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rolo-analytics-bench-{}", std::process::id()))
    });
    if let Err(e) = run(
        customers,
        &dir,
        !args.iter().any(|a| a == "--skip-lifetimes"),
    ) {
        eprintln!("bench failed: {e}");
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn run(customers: u64, dir: &Path, with_lifetimes: bool) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let csv = dir.join("orders.csv");
    let db = dir.join("rolo.redb");
    println!(
        "== analytics bench: {customers} customers, files in {}",
        dir.display()
    );
    if !db.exists() {
        let lines = time("generate order lines (CSV)", || {
            write_orders(&csv, customers)
        })?;
        println!(
            "   {lines} order lines, {} MB",
            std::fs::metadata(&csv)?.len() / 1_000_000
        );
        let status = time("rolo import --kind purchases --create-customers", || {
            Command::new(env!("CARGO_BIN_EXE_rolo"))
                .arg("--db")
                .arg(&db)
                // In-process: an auto-started server would still hold the file when the
                // bench opens it below.
                .arg("--no-server")
                .args([
                    "import",
                    csv.to_str().unwrap_or(""),
                    "--kind",
                    "purchases",
                    "--create-customers",
                ])
                .env("ROLO_AS", "bench")
                .status()
        })?;
        if !status.success() {
            return Err(format!("import failed: {status}").into());
        }
    }
    let as_of = Day::from_number(END_DAY);
    let before = rss_mb();
    let store = time("open the database", || Store::open(&db))?;
    let summaries = time("read 1 summary per customer (customer_summaries)", || {
        store.customer_summaries()
    })?;
    let (cuts, scored) = time("RFM scores and segments for everyone", || {
        reports::rfm_scores(&summaries, FrequencyRule::Absolute)
    });
    println!(
        "   {} customers scored, {} purchase lines summarised; RSS +{:.0} MB",
        scored.len(),
        summaries.iter().map(|s| s.lines).sum::<u64>(),
        rss_mb() - before
    );
    // One new purchase: the store updates the summary in its write transaction, then the
    // customer is rescored against the current cuts.
    let contact = summaries.first().map_or(1, |s| s.contact);
    let mut one = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        store.add_entry(
            &Actor::new("bench"),
            Entry::Purchase(Purchase {
                id: 0,
                contact,
                at: At::from_millis(i64::from(END_DAY) * DAY_MS + i * 1000),
                product: "Team".into(),
                quantity: 1,
                amount: 9900,
                cost: 2500,
                currency: "EUR".into(),
                channel: "web".into(),
                location: "Lyon".into(),
            }),
        )?;
        let summary = store.customer_summary(contact)?.ok_or("no summary")?;
        let values = rolo::analytics::rfm::RfmValues::of(&summary).ok_or("no values")?;
        let _score = cuts.score(&values);
        one.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    one.sort_by(f64::total_cmp);
    // The same update without the durable commit: fold the purchase in, rescore.
    let mut summary = store.customer_summary(contact)?.ok_or("no summary")?;
    let fold = Instant::now();
    for i in 0..1000 {
        let p = Purchase {
            id: 0,
            contact,
            at: At::from_millis(i64::from(END_DAY + 1) * DAY_MS + i * 1000),
            product: "Team".into(),
            quantity: 1,
            amount: 9900,
            cost: 2500,
            currency: "EUR".into(),
            channel: "web".into(),
            location: "Lyon".into(),
        };
        summary.add(&p, i == 0);
        let values = rolo::analytics::rfm::RfmValues::of(&summary).ok_or("no values")?;
        std::hint::black_box(cuts.score(&values));
    }
    println!(
        "{:<52} {:>9.3} µs",
        "  of which fold + rescore (no commit)",
        fold.elapsed().as_secs_f64() * 1e6 / 1000.0
    );
    let sync = dir.join("sync-probe");
    let mut file = std::fs::File::create(&sync)?;
    let sync_start = Instant::now();
    for _ in 0..20 {
        file.write_all(&[0u8; 4096])?;
        file.sync_data()?;
    }
    println!(
        "{:<52} {:>9.3} ms",
        "  raw 4 KiB write + fdatasync on the same disk",
        sync_start.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
    println!(
        "{:<52} {:>9.3} ms median, {:.3} ms max (durable commit included)",
        "one new purchase: summary + rescore",
        one[one.len() / 2],
        one[one.len() - 1]
    );
    let rescore = Instant::now();
    for (_, v, _) in &scored {
        std::hint::black_box(cuts.score(v));
    }
    println!(
        "{:<52} {:>9.3} µs per customer",
        "rescore against stored cuts",
        rescore.elapsed().as_secs_f64() * 1e6 / scored.len().max(1) as f64
    );

    let histories: Vec<History> = summaries
        .iter()
        .map(|s| reports::history(s, as_of, TimeUnit::Day))
        .collect();
    let grouped = time("group histories exactly", || {
        Grouped::new(histories.iter().copied())
    });
    println!(
        "   {} customers → {} distinct (x, tₓ, T)",
        histories.len(),
        grouped.rows.len()
    );
    let fit = time("BG/NBD fit", || BgNbd::fit(&grouped)).ok_or("no fit")?;
    println!(
        "   r {:.6} α {:.6} a {:.6} b {:.6}  LL {:.3}  ({} iterations, converged {})",
        fit.params.r,
        fit.params.alpha,
        fit.params.a,
        fit.params.b,
        fit.log_likelihood,
        fit.iterations,
        fit.converged
    );
    let options = reports::ClvOptions {
        as_of: Some(as_of),
        ..reports::ClvOptions::default()
    };
    let clv = time(
        "clv report from summaries (both fits + predictions)",
        || reports::clv_from(&summaries, as_of, &options),
    );
    println!(
        "   fits took {:.3} s of it; gamma-gamma {:?}",
        clv.fit_seconds,
        clv.gamma_gamma.as_ref().map(|g| g.params)
    );
    time("rfm report (store)", || {
        reports::rfm(
            &store,
            &reports::RfmOptions {
                as_of: Some(as_of),
                ..Default::default()
            },
        )
    })?;
    time("profit report (store; scans the timeline)", || {
        reports::profit(
            &store,
            &reports::ProfitOptions {
                as_of: Some(as_of),
                top: 10,
            },
        )
    })?;
    time("performance report (store; scans the timeline)", || {
        reports::performance(
            &store,
            &reports::PerformanceOptions {
                as_of: Some(as_of),
                by: Vec::new(),
            },
        )
    })?;
    time("satisfaction report (store; scans the timeline)", || {
        reports::satisfaction(
            &store,
            &reports::SatisfactionOptions {
                as_of: Some(as_of),
                ..Default::default()
            },
        )
    })?;
    println!("peak RSS {:.0} MB", peak_rss_mb());
    drop(summaries);
    time("dashboard aggregates, computed (store)", || {
        reports::dashboard(&store, Some(as_of))
    })?;
    // What a TUI's dashboard asks the server for: computed on the first ask after a commit,
    // then shared by every screen until the next commit.
    let service = rolo::server::Service::new(store, false);
    time("dashboard through the server, first ask", || {
        service.dashboard(Some(as_of), false)
    })?;
    let started = Instant::now();
    for _ in 0..10 {
        std::hint::black_box(service.dashboard(Some(as_of), false)?);
    }
    println!(
        "{:<52} {:>9.3} ms",
        "dashboard through the server, later asks (mean of 10)",
        started.elapsed().as_secs_f64() * 100.0
    );

    if with_lifetimes {
        lifetimes(dir, &histories, &grouped, &fit.params, fit.log_likelihood)?;
    }
    Ok(())
}

/// lifetimes' BetaGeoFitter on the same histories (one row per customer, as its users fit).
fn lifetimes(
    dir: &Path,
    histories: &[History],
    grouped: &Grouped,
    ours: &BgNbd,
    our_ll: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let python = std::env::var("ROLO_PYTHON").unwrap_or_else(|_| "python3".into());
    let path = dir.join("histories.csv");
    let mut out = BufWriter::new(std::fs::File::create(&path)?);
    writeln!(out, "frequency,recency,T")?;
    for h in histories {
        writeln!(out, "{},{},{}", h.x, h.tx, h.t)?;
    }
    out.flush()?;
    let script = r#"
import sys, time, json
import pandas as pd
import lifetimes
d = pd.read_csv(sys.argv[1])
t = time.perf_counter()
f = lifetimes.BetaGeoFitter(penalizer_coef=0.0)
f.fit(d["frequency"], d["recency"], d["T"])
print(json.dumps({"seconds": time.perf_counter() - t, "params": {k: float(v) for k, v in f.params_.items()}}))
"#;
    let output = Command::new(&python)
        .args(["-c", script])
        .arg(&path)
        .output();
    match output {
        Ok(o) if o.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
            let p = &v["params"];
            let theirs = BgNbd {
                r: p["r"].as_f64().unwrap_or(f64::NAN),
                alpha: p["alpha"].as_f64().unwrap_or(f64::NAN),
                a: p["a"].as_f64().unwrap_or(f64::NAN),
                b: p["b"].as_f64().unwrap_or(f64::NAN),
            };
            let their_ll = theirs.log_likelihood(grouped);
            println!(
                "lifetimes BetaGeoFitter: {:.3} s; r {:.6} α {:.6} a {:.6} b {:.6}",
                v["seconds"].as_f64().unwrap_or(f64::NAN),
                theirs.r,
                theirs.alpha,
                theirs.a,
                theirs.b
            );
            println!(
                "   LL at lifetimes' params {:.3}, at rolo's {:.3} (rolo − lifetimes = {:.3}); rolo params r {:.6} α {:.6} a {:.6} b {:.6}",
                their_ll,
                our_ll,
                our_ll - their_ll,
                ours.r,
                ours.alpha,
                ours.a,
                ours.b
            );
        }
        Ok(o) => println!(
            "lifetimes skipped: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => println!("lifetimes skipped: no {python} ({e})"),
    }
    Ok(())
}
