//! Runs the real `rolo` binary for the CLI tests: on a given database, as agent `sam`, with
//! the test's own config directory and no `ROLO_DB` from the environment.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `rolo --db DB ARGS…`, whatever its exit.
pub fn rolo(db: &Path, args: &[&str]) -> Output {
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

/// Its standard output; fails the test on a non-zero exit, showing standard error.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = rolo(db, args);
    assert!(
        out.status.success(),
        "rolo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Its standard output as JSON.
pub fn json(db: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).expect("JSON")
}
