//! `rolo import --kind purchases` and `rolo report` end to end through the real binary: order
//! exports are recognised, unknown customers and bad rows are reported with their lines, and
//! the reports' totals agree with an independent computation from `rolo export --format json`.

mod common;

use common::{json, ok, rolo};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/orders")
        .join(name)
        .display()
        .to_string()
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rolo.redb");
    ok(
        &db,
        &[
            "add",
            "--name",
            "Ana Lima",
            "--email",
            "ana@example.org",
            "--phone",
            "+33 6 11 22 33 44",
        ],
    );
    ok(
        &db,
        &["add", "--name", "Bob Stone", "--email", "bob@example.org"],
    );
    (dir, db)
}

#[test]
fn bad_rows_and_unknown_customers_are_reported_with_their_lines() {
    let (_dir, db) = setup();
    let file = fixture("lines.csv");
    let out = rolo(&db, &["import", &file, "--kind", "purchases"]);
    assert_eq!(out.status.code(), Some(8), "partial import exits 8");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lines.csv:5: `someday` is not a date"),
        "{err}"
    );
    assert!(
        err.contains("lines.csv:6: `5.5.5` is not an amount"),
        "{err}"
    );
    assert!(err.contains("lines.csv:7: no customer `cy-77`"), "{err}");
    let report = json(&db, &["report", "profit", "--json"]);
    let eur = &report["currencies"][0];
    assert_eq!(eur["currency"], "EUR");
    assert_eq!(eur["totals"]["lines"], 3);
    assert_eq!(eur["totals"]["amount"], 1950 + 500 + 1950);
    // Again with --create-customers and --dry-run: cy-77 would be created, nothing written.
    let out = rolo(
        &db,
        &[
            "import",
            &file,
            "--kind",
            "purchases",
            "--create-customers",
            "--dry-run",
            "--json",
        ],
    );
    let dry: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dry["customers_created"], 1);
    assert_eq!(dry["imported"], 4);
    assert_eq!(dry["failed_lines"], 2);
    assert_eq!(dry["failed"][0]["line"], 5);
    let again = json(&db, &["report", "profit", "--json"]);
    assert_eq!(
        again["currencies"].as_array().unwrap().len(),
        1,
        "dry run wrote nothing"
    );
}

#[test]
fn shopify_and_woocommerce_exports_are_recognised() {
    let (_dir, db) = setup();
    let out = rolo(
        &db,
        &[
            "import",
            &fixture("shopify.csv"),
            "--kind",
            "purchases",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(8), "one unknown customer");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["detected"], "Shopify order export");
    assert_eq!(r["imported"], 4);
    assert_eq!(r["unknown_customers"][0]["key"], "nobody@example.org");
    assert_eq!(r["unknown_customers"][0]["first_line"], 6);
    let r = json(
        &db,
        &[
            "import",
            &fixture("woocommerce.csv"),
            "--kind",
            "purchases",
            "--json",
        ],
    );
    assert_eq!(r["detected"], "WooCommerce order export");
    // The second order has only a phone: it still finds Ana.
    assert_eq!(r["imported"], 2);
    let perf = json(&db, &["report", "performance", "--by", "product", "--json"]);
    let groups = perf["groups"][0]["groups"].as_array().unwrap();
    let team = groups.iter().find(|g| g["key"] == "Team plan").unwrap();
    // Shopify: 2 × 19.50 twice; WooCommerce: 19.50 with 6.00 cost.
    assert_eq!(team["amount"], 3900 + 3900 + 1950);
    assert_eq!(team["cost"], 600);
    assert_eq!(team["quantity"], 5);
    let mug = groups.iter().find(|g| g["key"] == "Mug").unwrap();
    // The order's second Shopify line (its fields carried from the first) and WooCommerce's.
    assert_eq!(mug["amount"], 2000 + 1500);
    assert_eq!(perf["loyalty"]["customers"], 2);
    assert_eq!(perf["loyalty"]["repeat_customers"], 1);
}

/// Independent totals from `rolo export --format json`: per currency, amount and margin, and
/// per contact, purchase days and last purchase day.
/// Per currency `(amount, margin)`; per contact `(purchase days, last purchase day)`.
type ExportTotals = (BTreeMap<String, (i64, i64)>, BTreeMap<u64, (usize, String)>);

fn from_export(db: &Path) -> ExportTotals {
    let export = json(db, &["export", "--format", "json"]);
    let mut money: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut customers = BTreeMap::new();
    for c in export["contacts"].as_array().unwrap() {
        let id = c["contact"]["id"].as_u64().unwrap();
        let mut days = std::collections::BTreeSet::new();
        for e in c["timeline"].as_array().unwrap() {
            let Some(p) = e.get("purchase") else { continue };
            let (amount, cost) = (p["amount"].as_i64().unwrap(), p["cost"].as_i64().unwrap());
            let slot = money
                .entry(p["currency"].as_str().unwrap().to_string())
                .or_default();
            slot.0 += amount;
            slot.1 += amount - cost;
            days.insert(p["at"].as_str().unwrap()[..10].to_string());
        }
        if let Some(last) = days.iter().next_back().cloned() {
            customers.insert(id, (days.len(), last));
        }
    }
    (money, customers)
}

#[test]
fn report_totals_agree_with_the_export() {
    let (_dir, db) = setup();
    ok(
        &db,
        &[
            "import",
            &fixture("shopify.csv"),
            "--kind",
            "purchases",
            "--create-customers",
        ],
    );
    ok(
        &db,
        &["import", &fixture("woocommerce.csv"), "--kind", "purchases"],
    );
    let (money, customers) = from_export(&db);
    let profit = json(&db, &["report", "profit", "--json"]);
    for c in profit["currencies"].as_array().unwrap() {
        let (amount, margin) = money[c["currency"].as_str().unwrap()];
        assert_eq!(c["totals"]["amount"].as_i64(), Some(amount));
        assert_eq!(c["totals"]["margin"].as_i64(), Some(margin));
        let by_customer: i64 = c["top_customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["margin"].as_i64().unwrap())
            .sum();
        assert_eq!(by_customer, margin, "all three customers fit in the top 10");
    }
    let rfm = json(&db, &["report", "rfm", "--customers", "--json"]);
    assert_eq!(rfm["customers"].as_u64(), Some(customers.len() as u64));
    let grid_total: u64 = rfm["grid"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(grid_total, customers.len() as u64);
    let segment_total: u64 = rfm["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["customers"].as_u64().unwrap())
        .sum();
    assert_eq!(segment_total, customers.len() as u64);
    for s in rfm["scores"].as_array().unwrap() {
        let (days, last) = &customers[&s["contact"].as_u64().unwrap()];
        assert_eq!(s["purchase_days"].as_u64(), Some(*days as u64));
        assert_eq!(s["last_purchase"].as_str(), Some(last.as_str()));
        assert!(s["segment"].is_string() && s["r"].as_u64().unwrap() >= 1);
    }
    // Ana: 2025-03-01, 04-10 (Shopify, the latter 22:30 UTC), 05-02, 05-03 → 4 days, F = 4.
    let ana = rfm["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["contact"] == 1)
        .unwrap();
    assert_eq!(ana["f"], 4);
    // As of a day before anything was bought there is nothing to score.
    let before = json(&db, &["report", "rfm", "--as-of", "2024-01-01", "--json"]);
    assert_eq!(before["customers"], 0);
    // As of mid-April, the May lines are not counted.
    let april = json(
        &db,
        &[
            "report",
            "rfm",
            "--as-of",
            "2025-04-30",
            "--customers",
            "--json",
        ],
    );
    let ana = april["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["contact"] == 1)
        .unwrap();
    assert_eq!(ana["purchase_days"], 2);
}

#[test]
fn clv_and_satisfaction_reports_run_and_refuse_bad_options() {
    let (_dir, db) = setup();
    ok(
        &db,
        &[
            "import",
            &fixture("shopify.csv"),
            "--kind",
            "purchases",
            "--create-customers",
        ],
    );
    let clv = json(
        &db,
        &[
            "report",
            "clv",
            "--as-of",
            "2025-06-01",
            "--customers",
            "--json",
        ],
    );
    assert_eq!(clv["customers"], 3);
    assert_eq!(clv["currency"], "EUR");
    for c in clv["scores"].as_array().unwrap() {
        let p = c["p_alive"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
    assert!(clv["bg_nbd"]["params"]["r"].as_f64().unwrap() > 0.0);
    let out = rolo(&db, &["report", "clv", "--horizon", "0"]);
    assert_eq!(out.status.code(), Some(5));
    let out = rolo(&db, &["report", "rfm", "--as-of", "yesterday-ish"]);
    assert_eq!(out.status.code(), Some(5));
    ok(
        &db,
        &[
            "log",
            "Ana Lima",
            "--summary",
            "great",
            "--satisfaction",
            "5",
        ],
    );
    ok(
        &db,
        &[
            "log",
            "Ana Lima",
            "--summary",
            "broken",
            "--satisfaction",
            "2",
        ],
    );
    ok(
        &db,
        &[
            "log",
            "Bob Stone",
            "--summary",
            "fine",
            "--satisfaction",
            "4",
        ],
    );
    let s = json(&db, &["report", "satisfaction", "--json"]);
    assert_eq!(s["overall"]["count"], 3);
    assert_eq!(s["overall"]["satisfied"], 2);
    assert_eq!(s["fell"][0]["contact"], 1);
    assert_eq!(s["by_agent"][0]["key"], "sam");
    let text = ok(&db, &["report", "satisfaction"]);
    assert!(text.contains("CSAT 66.7 %"), "{text}");
}
