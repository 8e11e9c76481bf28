//! Replays the committed seed corpus of every fuzz target (`fuzz/seeds/TARGET/*`, including the
//! `regress-*` inputs that once crashed) through the same entry point cargo-fuzz runs, so a
//! crash found by fuzzing stays fixed without cargo-fuzz. Also checks that every target has a
//! cargo-fuzz binary and seeds.

use std::path::Path;

fn seeds(target: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_a_binary_and_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for (name, _) in rolo::fuzz::TARGETS {
        let source = root.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&source)
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        assert!(
            text.contains(&format!("rolo::fuzz::{name}(")),
            "{} does not call rolo::fuzz::{name}",
            source.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
        assert!(seeds(name).len() >= 3, "{name}: fewer than 3 seeds");
    }
}

#[test]
fn seed_corpora_and_regressions_replay_cleanly() {
    let mut total = 0;
    for (name, run) in rolo::fuzz::TARGETS {
        for file in seeds(name) {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(
                outcome.is_ok(),
                "fuzz target {name} panics on {}",
                file.display()
            );
            total += 1;
        }
    }
    assert!(total > 100, "only {total} seeds");
}
