//! Exchanging contacts with other tools through the real binary: export file modes, consent /
//! custom fields / preferred channel through CSV and vCard, CSV column guessing and warnings,
//! the interaction vocabulary in JSON, and progress output when stderr is not a terminal.

use std::path::PathBuf;
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn rolo_on(&self, db: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rolo"))
            .arg("--db")
            .arg(self.path(db))
            .args(args)
            .env_remove("ROLO_DB")
            .env_remove("ROLO_KEYMAP")
            .env_remove("ROLO_THEME")
            .env("ROLO_AS", "tester")
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .output()
            .unwrap()
    }

    fn rolo(&self, args: &[&str]) -> Output {
        self.rolo_on("rolo.redb", args)
    }

    fn out(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn show_json(&self, db: &str, who: &str) -> serde_json::Value {
        let shown = ok(&self.rolo_on(db, &["show", who, "--json"]));
        serde_json::from_str(&shown).unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stdout(o), stderr(o));
    stdout(o)
}

/// The latest consent status per channel, from `show --json`.
fn consent_of(shown: &serde_json::Value, channel: &str) -> Option<String> {
    shown["contact"]["consent"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["channel"] == channel)
        .map(|c| c["status"].as_str().unwrap().to_string())
}

fn add_opted_out(env: &Env) {
    ok(&env.rolo(&[
        "add",
        "-n",
        "Ana Horvat",
        "-e",
        "ana@acme.example",
        "-p",
        "+385 91 234 5678",
        "--consent",
        "email=granted:newsletter",
        "--consent",
        "sms=granted",
        "--field",
        "employees=42",
        "--field",
        "vat=HR; 123",
        "--channel",
        "sms",
    ]));
    // The opt-out came later: it is the statement that stands.
    ok(&env.rolo(&[
        "edit",
        "ana@acme.example",
        "--consent",
        "email=denied:newsletter",
    ]));
}

#[cfg(unix)]
#[test]
fn exports_are_owner_only_even_over_an_open_file() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    add_opted_out(&env);
    for name in ["all.csv", "all.vcf", "all.json"] {
        ok(&env.rolo(&["export", "--out", &env.out(name)]));
        let mode = std::fs::metadata(env.path(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
    // An existing world-readable destination is replaced by an owner-only file.
    let open = env.path("open.csv");
    std::fs::write(&open, "old").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    ok(&env.rolo(&["export", "--out", &env.out("open.csv")]));
    let mode = std::fs::metadata(&open).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(&open)
            .unwrap()
            .contains("Ana Horvat")
    );
}

#[test]
fn csv_round_trip_keeps_an_email_opt_out_custom_fields_and_preferred_channel() {
    let env = Env::new();
    add_opted_out(&env);
    ok(&env.rolo(&["export", "--out", &env.out("list.csv")]));
    let csv = std::fs::read_to_string(env.path("list.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for column in [
        "preferred_channel",
        "consent_email",
        "consent_sms",
        "consent",
        "custom",
    ] {
        assert!(header.split(',').any(|h| h == column), "{column}: {header}");
    }
    assert!(csv.contains(",denied,granted,"), "status columns: {csv}");

    ok(&env.rolo_on("other.redb", &["import", &env.out("list.csv")]));
    let shown = env.show_json("other.redb", "ana@acme.example");
    assert_eq!(consent_of(&shown, "email").as_deref(), Some("denied"));
    assert_eq!(consent_of(&shown, "sms").as_deref(), Some("granted"));
    let history = shown["contact"]["consent"].as_array().unwrap();
    assert_eq!(history.len(), 3, "the whole history travels: {history:?}");
    assert_eq!(history[2]["purpose"], "newsletter");
    assert_eq!(shown["contact"]["custom"]["employees"]["number"], 42.0);
    assert_eq!(shown["contact"]["custom"]["vat"]["text"], "HR; 123");
    assert_eq!(shown["contact"]["preferred_channel"], "sms");

    // Importing the same list again into the original adds nothing.
    let again = ok(&env.rolo(&["import", &env.out("list.csv"), "--json", "--tag", "x"]));
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["updated"], 1);
    let shown = env.show_json("rolo.redb", "ana@acme.example");
    assert_eq!(shown["contact"]["consent"].as_array().unwrap().len(), 3);
}

#[test]
fn an_opt_out_set_in_a_mailing_tool_comes_back_through_the_status_column() {
    let env = Env::new();
    ok(&env.rolo(&[
        "add",
        "-n",
        "Bo Chen",
        "-e",
        "bo@example.com",
        "--consent",
        "email=granted:newsletter",
    ]));
    // The tool kept only the columns it knows, and its user unsubscribed Bo.
    std::fs::write(
        env.path("tool.csv"),
        "email,name,consent_email\nbo@example.com,Bo Chen,unsubscribed\n",
    )
    .unwrap();
    ok(&env.rolo(&["import", &env.out("tool.csv")]));
    let shown = env.show_json("rolo.redb", "bo@example.com");
    assert_eq!(consent_of(&shown, "email").as_deref(), Some("denied"));
    // A second import of the same list does not restate it.
    ok(&env.rolo(&["import", &env.out("tool.csv")]));
    let shown = env.show_json("rolo.redb", "bo@example.com");
    assert_eq!(shown["contact"]["consent"].as_array().unwrap().len(), 2);
}

#[test]
fn vcard_round_trip_keeps_an_email_opt_out_custom_fields_and_preferred_channel() {
    let env = Env::new();
    add_opted_out(&env);
    for version in ["3.0", "4.0"] {
        let file = format!("all-{version}.vcf");
        ok(&env.rolo(&["export", "--version", version, "--out", &env.out(&file)]));
        let card = std::fs::read_to_string(env.path(&file)).unwrap();
        assert!(
            card.contains("X-ROLO-CONSENT;CHANNEL=email:denied;"),
            "{card}"
        );
        assert!(card.contains("X-ROLO-PREFERRED-CHANNEL:sms"), "{card}");
        assert!(
            card.contains("X-ROLO-CUSTOM;VALUE=number:employees;42"),
            "{card}"
        );
        let db = format!("{version}.redb");
        ok(&env.rolo_on(&db, &["import", &env.out(&file)]));
        let shown = env.show_json(&db, "ana@acme.example");
        assert_eq!(consent_of(&shown, "email").as_deref(), Some("denied"));
        assert_eq!(shown["contact"]["consent"].as_array().unwrap().len(), 3);
        assert_eq!(shown["contact"]["consent"][0]["purpose"], "newsletter");
        assert_eq!(shown["contact"]["custom"]["employees"]["number"], 42.0);
        assert_eq!(shown["contact"]["custom"]["vat"]["text"], "HR; 123");
        assert_eq!(shown["contact"]["preferred_channel"], "sms");
    }
}
