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

    let imported = env.rolo_on("other.redb", &["import", &env.out("list.csv")]);
    ok(&imported);
    // rolo's own columns are all read (id and stamps are given anew, on purpose).
    assert!(
        !stderr(&imported).contains("not imported"),
        "{}",
        stderr(&imported)
    );
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
            card.contains("X-ROLO-CUSTOM;X-TYPE=number:employees;42"),
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

// ---------------------------------------------------------------------------------------------
// CSV columns (item 20)

fn import_csv(env: &Env, db: &str, name: &str, content: &str, extra: &[&str]) -> Output {
    std::fs::write(env.path(name), content).unwrap();
    let file = env.out(name);
    let mut args = vec!["import", file.as_str()];
    args.extend_from_slice(extra);
    env.rolo_on(db, &args)
}

#[test]
fn german_mail_and_handy_columns_are_guessed_and_unknown_ones_named() {
    let env = Env::new();
    let out = import_csv(
        &env,
        "rolo.redb",
        "kunden.csv",
        "Vorname;Nachname;Mail;Handy;Stadt;Firma;Lieblingsfarbe\n\
         Jürgen;Weiß;juergen@example.de;+49 170 1234567;München;Weiß GmbH;blau\n\
         Ana;Horvat;ana@example.hr;+385 91 234 5678;Zagreb;;\n",
        &[],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let shown = env.show_json("rolo.redb", "juergen@example.de");
    let c = &shown["contact"];
    assert_eq!(c["given_name"], "Jürgen");
    assert_eq!(c["family_name"], "Weiß");
    assert_eq!(c["phones"][0]["value"], "+49 170 1234567");
    assert_eq!(c["phones"][0]["label"], "mobile");
    assert_eq!(c["addresses"][0]["city"], "München");
    assert_eq!(shown["organization"], "Weiß GmbH");
    // The guesses are said, and the column left behind is named with how to bring it in.
    assert!(err.contains("`Handy` as phone (mobile)"), "{err}");
    assert!(err.contains("`Mail` as email"), "{err}");
    assert!(
        err.contains("not imported: column `Lieblingsfarbe` (1 row)"),
        "{err}"
    );
    assert!(
        err.contains("--map FILE") && err.contains("\"CSV column mapping\""),
        "{err}"
    );

    let json = import_csv(
        &env,
        "dry.redb",
        "kunden.csv",
        &std::fs::read_to_string(env.path("kunden.csv")).unwrap(),
        &["--dry-run", "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["unmapped_columns"][0]["column"], "Lieblingsfarbe");
    assert_eq!(report["unmapped_columns"][0]["rows"], 1);
    assert!(
        report["guessed_columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["column"] == "Handy" && g["read_as"] == "phone (mobile)"),
        "{report}"
    );
}

#[test]
fn headers_in_six_languages_land_in_the_right_fields() {
    let files = [
        ("fr", "Prénom,Nom,Courriel,Téléphone,Ville,Société"),
        ("es", "Nombre,Apellido,Correo,Teléfono,Ciudad,Empresa"),
        ("it", "Nome,Cognome,E-mail,Cellulare,Città,Azienda"),
        ("hr", "Ime,Prezime,E-pošta,Mobitel,Grad,Tvrtka"),
        ("pt", "Nome,Sobrenome,E-mail,Celular,Cidade,Empresa"),
        ("de", "Vorname,Nachname,E-Mail,Telefon,Stadt,Firma"),
    ];
    for (lang, header) in files {
        let env = Env::new();
        let email = format!("eva@{lang}.example");
        let content = format!("{header}\nEva,Marić,{email},+385 1 555 0101,Split,Acme\n");
        let out = import_csv(&env, "rolo.redb", "people.csv", &content, &[]);
        assert!(out.status.success(), "{lang}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("not imported"),
            "{lang}: {}",
            stderr(&out)
        );
        let shown = env.show_json("rolo.redb", &email);
        let c = &shown["contact"];
        assert_eq!(c["given_name"], "Eva", "{lang}");
        assert_eq!(c["family_name"], "Marić", "{lang}");
        assert_eq!(c["name"], "Eva Marić", "{lang}");
        assert_eq!(c["phones"][0]["value"], "+385 1 555 0101", "{lang}");
        assert_eq!(c["addresses"][0]["city"], "Split", "{lang}");
        assert_eq!(shown["organization"], "Acme", "{lang}");
    }
}

#[test]
fn a_name_column_alone_is_the_whole_name() {
    let env = Env::new();
    let out = import_csv(
        &env,
        "rolo.redb",
        "clientes.csv",
        "Nombre,Correo\nMaría José García,mj@example.es\n",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = env.show_json("rolo.redb", "mj@example.es");
    assert_eq!(shown["contact"]["name"], "María José García");
    assert_eq!(shown["contact"]["given_name"], "");
}

#[test]
fn a_mapping_file_names_what_it_leaves_out_but_not_what_it_ignores() {
    let env = Env::new();
    std::fs::write(
        env.path("map.toml"),
        "\"Kunde\" = \"name\"\n\"Festnetz\" = \"phone.home\"\n\"Newsletter\" = \"consent.email\"\n\"Intern\" = \"ignore\"\n",
    )
    .unwrap();
    let map = env.out("map.toml");
    let out = import_csv(
        &env,
        "rolo.redb",
        "x.csv",
        "Kunde,Festnetz,Newsletter,Intern,Notiz2\nBo Chen,+49 30 1234567,nein,geheim,hallo\n",
        &["--map", &map],
    );
    let err = stderr(&out);
    assert!(
        !err.contains("`Intern`") && err.contains("not imported: column `Notiz2` (1 row)"),
        "{err}"
    );
    assert!(out.status.success(), "{err}");
    let shown = env.show_json("rolo.redb", "Bo Chen");
    assert_eq!(shown["contact"]["phones"][0]["label"], "home");
    assert_eq!(
        consent_of(&shown, "email").as_deref(),
        Some("denied"),
        "`nein` is an opt-out"
    );
}

#[test]
fn the_readme_has_the_section_the_messages_point_to() {
    let env = Env::new();
    let out = import_csv(&env, "rolo.redb", "odd.csv", "foo,bar\n1,2\n", &[]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("\"CSV column mapping\"") && err.contains("--map"),
        "{err}"
    );
    let help = stdout(&env.rolo(&["import", "--help"]));
    assert!(help.contains("\"CSV column mapping\""), "{help}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("\n### CSV column mapping\n"));
}

// ---------------------------------------------------------------------------------------------
// One vocabulary for direction and outcome (item 17)

#[test]
fn a_call_logged_in_the_tui_without_a_direction_is_incoming_as_in_the_cli() {
    use rolo::domain::{Actor, At, ContactDraft, Direction, Entry};
    let store = rolo::store::Store::in_memory().unwrap();
    store
        .add_contact(
            &Actor::new("setup"),
            ContactDraft {
                name: "Ana Perić".into(),
                ..ContactDraft::default()
            },
        )
        .unwrap();
    let keymap = rolo::tui::keymap::Keymap::load(Some("default"), None).unwrap();
    let mut d = rolo::tui::driver::Driver::new(store, keymap, At::now(), 120, 40);
    d.keys("l");
    d.type_text("Asked about the invoice");
    d.keys("enter");
    assert!(d.state.overlay.is_none(), "the log popup closes");
    let timeline = &d.state.detail.as_ref().expect("detail").timeline;
    match timeline.first() {
        Some(Entry::Interaction(i)) => assert_eq!(i.direction, Direction::Inbound),
        other => panic!("expected the call, got {other:?}"),
    }

    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "Ana Perić", "-e", "ana@example.com"]));
    let logged = ok(&env.rolo(&["log", "ana@example.com", "-s", "Asked", "--json"]));
    let logged: serde_json::Value = serde_json::from_str(&logged).unwrap();
    assert_eq!(logged["interaction"]["direction"], "in");
}

#[test]
fn json_says_in_out_and_no_answer_like_the_cli_and_still_reads_the_old_words() {
    let env = Env::new();
    ok(&env.rolo(&["add", "-n", "Bo Chen", "-e", "bo@example.com"]));
    ok(&env.rolo(&[
        "log",
        "bo@example.com",
        "-s",
        "Rang back",
        "-d",
        "out",
        "--outcome",
        "no-answer",
    ]));
    ok(&env.rolo(&[
        "log",
        "bo@example.com",
        "-s",
        "Called us",
        "-d",
        "inbound",
        "--outcome",
        "noanswer",
    ]));
    let shown = ok(&env.rolo(&["show", "bo@example.com", "--json"]));
    let words: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let mut seen: Vec<(String, String)> = words["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.get("interaction"))
        .map(|i| {
            (
                i["direction"].as_str().unwrap().to_string(),
                i["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("in".to_string(), "no-answer".to_string()),
            ("out".to_string(), "no-answer".to_string())
        ]
    );
    // A JSON export written by an earlier rolo (`inbound`, `outbound`, `noanswer`) imports.
    ok(&env.rolo(&["export", "--format", "json", "--out", &env.out("new.json")]));
    let new = std::fs::read_to_string(env.path("new.json")).unwrap();
    assert!(
        new.contains("\"direction\":\"out\"") || new.contains("\"direction\": \"out\""),
        "{new}"
    );
    let old = new
        .replace("\"in\"", "\"inbound\"")
        .replace("\"out\"", "\"outbound\"")
        .replace("\"no-answer\"", "\"noanswer\"");
    assert_ne!(old, new);
    std::fs::write(env.path("old.json"), &old).unwrap();
    ok(&env.rolo_on("restored.redb", &["import", &env.out("old.json")]));
    ok(&env.rolo_on(
        "restored.redb",
        &[
            "export",
            "--format",
            "json",
            "--out",
            &env.out("again.json"),
        ],
    ));
    let again = std::fs::read_to_string(env.path("again.json")).unwrap();
    assert_eq!(again, new, "the old words read back as the same records");
}

#[test]
fn direction_and_outcome_names_do_not_change_stored_bytes() {
    use rolo::domain::{Direction, Outcome};
    // postcard encodes the variant index: the renamed serde names must not matter.
    assert_eq!(postcard::to_allocvec(&Direction::Inbound).unwrap(), vec![0]);
    assert_eq!(
        postcard::to_allocvec(&Direction::Outbound).unwrap(),
        vec![1]
    );
    assert_eq!(postcard::to_allocvec(&Outcome::NoAnswer).unwrap(), vec![3]);
    assert_eq!(
        postcard::from_bytes::<Outcome>(&[3]).unwrap(),
        Outcome::NoAnswer
    );
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr (item 21)

/// Runs rolo in a pseudo-terminal (stdout and stderr both the terminal) to its end; all it
/// wrote.
#[cfg(unix)]
fn rolo_in_a_terminal(env: &Env, db: &str, args: &[&str]) -> String {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_rolo"));
    cmd.arg("--db");
    cmd.arg(env.path(db));
    cmd.args(args);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", env.dir.path());
    cmd.env("XDG_CONFIG_HOME", env.path("config"));
    cmd.env("XDG_DATA_HOME", env.path("data"));
    cmd.env("ROLO_AS", "tester");
    cmd.env_remove("ROLO_QUIET");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let collector = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    let status = child.wait().unwrap();
    drop(pair.master);
    let out = String::from_utf8_lossy(&collector.join().unwrap()).into_owned();
    assert!(status.success(), "{out}");
    out
}

#[cfg(unix)]
#[test]
fn a_terminal_sees_a_bar_with_count_rate_and_time_left_and_quiet_sees_none() {
    let env = Env::new();
    let out = rolo_in_a_terminal(&env, "rolo.redb", &["demo", "--contacts", "3000"]);
    assert!(out.contains("/3,000 contacts"), "{out}");
    assert!(
        out.contains("/s") && out.contains(" left"),
        "rate and time left: {out}"
    );
    assert!(out.contains('#'), "a bar: {out}");
    assert!(out.contains("Added 3000 demo contacts"), "{out}");

    let out = rolo_in_a_terminal(
        &env,
        "rolo.redb",
        &["export", "--out", &env.out("all.json")],
    );
    assert!(
        out.contains("/3,000 contacts") && out.contains("export "),
        "{out}"
    );
    let out = rolo_in_a_terminal(&env, "restored.redb", &["import", &env.out("all.json")]);
    assert!(
        out.contains("restore ") && out.contains(" records"),
        "{out}"
    );
    // (How many are created is issue item 2's business, not the bar's.)
    assert!(
        out.contains("created "),
        "the summary follows the bar: {out}"
    );

    let out = rolo_in_a_terminal(
        &env,
        "quiet.redb",
        &["--quiet", "demo", "--contacts", "3000"],
    );
    assert!(!out.contains('\u{1b}') && !out.contains("/s"), "{out:?}");
    assert!(out.contains("Added 3000 demo contacts"), "{out}");
}

#[test]
fn scripts_get_no_bar_only_the_summary() {
    let env = Env::new();
    for (db, args) in [
        ("rolo.redb", vec!["demo", "--contacts", "1500"]),
        (
            "rolo.redb",
            vec!["export", "--format", "csv", "--out", "all.csv"],
        ),
        ("copy.redb", vec!["import", "all.csv"]),
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.ends_with(".csv") {
                    env.out(a)
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.rolo_on(db, &args);
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(out.status.success(), "{args:?}: {e}");
        for text in [&o, &e] {
            assert!(
                !text.contains('\r') && !text.contains('\u{1b}'),
                "{args:?}: {text:?}"
            );
        }
        let summary = format!("{o}{e}");
        assert!(
            summary.contains("Added 1500")
                || summary.contains("Exported 1500")
                || summary.contains("created 1500"),
            "{args:?}: {summary}"
        );
    }
}

#[test]
fn a_broken_consent_or_custom_cell_is_a_warning_and_the_row_still_lands() {
    let env = Env::new();
    let out = import_csv(
        &env,
        "rolo.redb",
        "broken.csv",
        "name,email,consent,custom,preferred_channel,consent_sms\n\
         Cy Diaz,cy@example.com,[{oops,{\"a\":,pigeon,maybe\n",
        &[],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("broken.csv:2: warning: the consent cell"),
        "{err}"
    );
    assert!(
        err.contains("broken.csv:2: warning: the custom cell"),
        "{err}"
    );
    assert!(err.contains("`pigeon` is not one of"), "{err}");
    assert!(
        err.contains("`maybe` is not a consent status for sms"),
        "{err}"
    );
    let shown = env.show_json("rolo.redb", "cy@example.com");
    assert_eq!(shown["contact"]["name"], "Cy Diaz");
}

#[test]
fn dates_in_a_spanish_csv_are_read_day_first() {
    let env = Env::new();
    let out = import_csv(
        &env,
        "rolo.redb",
        "es.csv",
        "Nombre,Apellido,Correo,Fecha de nacimiento\nLuz,Ortega,luz@example.es,05/03/1990\n",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = env.show_json("rolo.redb", "luz@example.es");
    assert_eq!(shown["contact"]["birthday"]["month"], 3);
    assert_eq!(shown["contact"]["birthday"]["day"], 5);
}
