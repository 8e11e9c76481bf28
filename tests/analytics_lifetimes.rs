//! External check against Python's `lifetimes` (the reference BTYD implementation): its CDNOW
//! sample becomes an order CSV, goes through the real binary (`rolo import --kind purchases`,
//! then `rolo report clv --as-of 1997-09-30 --unit week`), and rolo's BG/NBD parameters must
//! match the published ones (Fader, Hardie & Lee 2005) within 0.5 %, and every customer's
//! P(alive) and expected purchases over 39 weeks must match lifetimes' own within 1e-3.
//!
//! Needs `python3` with `lifetimes` (`.ci/run` installs it in a venv and sets `ROLO_PYTHON`);
//! without it the test says so on stderr and passes as skipped.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn python() -> String {
    std::env::var("ROLO_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn rolo(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rolo"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("ROLO_AS", "ci")
        .env("XDG_CONFIG_HOME", db.parent().unwrap_or(db))
        .env_remove("ROLO_DB")
        .output()
        .expect("run rolo")
}

#[test]
fn cdnow_through_the_binary_matches_the_paper_and_lifetimes() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lifetimes_check.py");
    let reference = match Command::new(python()).arg(&script).arg(dir.path()).output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            eprintln!(
                "SKIPPED: the lifetimes reference did not run ({}): {}\n\
                 (install it: python3 -m pip install lifetimes, or set ROLO_PYTHON; .ci/run does)",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Err(e) => {
            eprintln!(
                "SKIPPED: no Python for the lifetimes check ({}: {e})",
                python()
            );
            return;
        }
    };
    eprintln!("{}", String::from_utf8_lossy(&reference.stdout).trim());
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("lifetimes.json")).unwrap())
            .unwrap();

    let db = dir.path().join("rolo.redb");
    let orders = dir.path().join("orders.csv");
    let out = rolo(
        &db,
        &[
            "import",
            orders.to_str().unwrap(),
            "--kind",
            "purchases",
            "--currency",
            "USD",
            "--create-customers",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let import: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(import["imported"], 6919);
    assert_eq!(import["customers_created"], 2357);

    let out = rolo(
        &db,
        &[
            "report",
            "clv",
            "--as-of",
            "1997-09-30",
            "--unit",
            "week",
            "--horizon",
            "39",
            "--customers",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clv: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fit = &clv["bg_nbd"];
    let p = &fit["params"];
    for (name, paper) in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)] {
        let got = p[name].as_f64().unwrap();
        assert!(
            (got - paper).abs() <= 0.005 * paper,
            "{name} = {got}, paper {paper}"
        );
    }
    let ll = fit["log_likelihood"].as_f64().unwrap();
    assert!((ll - -9582.4).abs() < 0.05, "log-likelihood {ll}");
    let gg = &clv["gamma_gamma"]["params"];
    for (name, paper, unit) in [("p", 6.25, 1.0), ("q", 3.74, 1.0), ("gamma", 15.44, 100.0)] {
        let got = gg[name].as_f64().unwrap() / unit;
        assert!(
            (got - paper).abs() <= 0.005 * paper,
            "{name} = {got}, paper {paper}"
        );
    }

    let customers = expected["customers"].as_object().unwrap();
    let scores = clv["scores"].as_array().unwrap();
    assert_eq!(scores.len(), customers.len());
    let mut worst = (0.0_f64, 0.0_f64);
    for s in scores {
        let name = s["name"].as_str().unwrap();
        let want = &customers[name];
        assert_eq!(s["x"], want["x"], "{name}: repeat purchases");
        let dp = (s["p_alive"].as_f64().unwrap() - want["p_alive"].as_f64().unwrap()).abs();
        let de = (s["expected_purchases"].as_f64().unwrap()
            - want["expected_purchases"].as_f64().unwrap())
        .abs();
        worst = (worst.0.max(dp), worst.1.max(de));
        assert!(dp <= 1e-3, "{name}: P(alive) off by {dp}");
        assert!(de <= 1e-3, "{name}: expected purchases off by {de}");
    }
    eprintln!(
        "rolo vs lifetimes on {} customers: max |ΔP(alive)| = {:.2e}, max |ΔE[purchases]| = {:.2e}",
        scores.len(),
        worst.0,
        worst.1
    );
}
