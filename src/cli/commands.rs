//! What each subcommand does. Parsing of user values happens here, at the edge; the store does
//! the rest.

use std::io::Read;
use std::time::Instant;

use serde::Serialize;

use super::output::{self, print_json, safe};
use super::{Cli, Command, ContactArgs, DueWindow, Failure, exit};
use crate::api::{Caller, Db, Source};
use crate::config::{ConfigFile, Dirs};
use crate::domain::merge::MergePlan;
use crate::domain::{
    Actor, Address, At, Birthday, Channel, Consent, ConsentStatus, Contact, ContactDraft,
    CustomValue, Day, Direction, Entry, Id, Interaction, Labelled, Outcome, Purchase, Stage, text,
    time,
};
use crate::server::Service;
use crate::server::socket::Hello;
use crate::store::Store;
use std::sync::Arc;

/// Where a command's store operations go.
#[derive(Clone)]
pub enum Mode {
    /// Through the server of this database (started on demand) — what a user meets.
    Client(crate::client::Target),
    /// This process opens the file itself (`--no-server`: tests, maintenance, emergencies).
    InProcess,
    /// A job running inside the server, for `caller`.
    InServer(Arc<Service>, Caller),
}

/// Everything a subcommand needs from the global flags and the config file.
pub struct Context {
    pub db_path: std::path::PathBuf,
    pub actor: Actor,
    /// The agent asked for with `--as` (or the forced command's `--agent`); the server decides.
    pub claim: Option<String>,
    /// Started by an OpenSSH forced command (`--agent NAME`): no files, no shell escapes.
    pub restricted: bool,
    pub mode: Mode,
    /// Keymap and theme asked for by flag, environment or config file (in that order).
    pub keymap: Option<String>,
    pub theme: Option<String>,
    /// The config file's settings (the full-screen interface reads keymap, theme and colour).
    pub config: ConfigFile,
    pub config_dir: Option<std::path::PathBuf>,
}

/// A store this process holds itself: opened here (`Owned`), or the server's own (in a job).
/// Either way it sits in a [`Service`], so the same command can also speak the api to it.
pub enum StoreRef {
    Owned(Arc<Service>),
    Served(Arc<Service>),
}

impl std::ops::Deref for StoreRef {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.service().store()
    }
}

impl StoreRef {
    fn service(&self) -> &Arc<Service> {
        match self {
            StoreRef::Owned(s) | StoreRef::Served(s) => s,
        }
    }

    /// The api on this very store, as `ctx`'s agent.
    pub fn db(&self, ctx: &Context) -> Db {
        let caller = match &ctx.mode {
            Mode::InServer(_, caller) => caller.clone(),
            _ => Caller::local(ctx.actor.clone(), ctx.source()),
        };
        Db::in_service(Arc::clone(self.service()), caller)
    }

    /// Compacts the file if this process owns it (a served file is compacted by
    /// `rolo server stop` + `--no-server`, never under other clients).
    pub fn compact(self) -> Result<bool, crate::store::StoreError> {
        match self {
            StoreRef::Owned(s) => match Arc::try_unwrap(s) {
                Ok(service) => service.into_store().reopen_for_compaction()?.compact(),
                Err(_) => Ok(false),
            },
            StoreRef::Served(_) => Ok(false),
        }
    }

    /// Broadcasts what a job wrote to the server's other clients.
    pub fn announce(&self) {
        if let StoreRef::Served(s) = self {
            s.catch_up();
        }
    }

    /// redb's full check needs the file to itself.
    pub fn doctor(self) -> Result<crate::store::DoctorReport, crate::store::StoreError> {
        match self {
            StoreRef::Owned(s) => match Arc::try_unwrap(s) {
                Ok(service) => service.into_store().doctor(),
                Err(s) => s.store().doctor_online(),
            },
            StoreRef::Served(s) => s.store().doctor_online(),
        }
    }
}

impl Context {
    fn new(cli: &Cli) -> Result<Context, Failure> {
        let dirs = Dirs::locate().ok();
        let config = match &dirs {
            Some(d) => ConfigFile::load(&d.config_file())?,
            None => ConfigFile::default(),
        };
        let db_path = match (&cli.db, &config.db, &dirs) {
            (Some(p), _, _) => p.clone(),
            (None, Some(p), _) => p.clone(),
            (None, None, Some(d)) => d.default_db(),
            (None, None, None) => return Err(crate::config::ConfigError::NoHome.into()),
        };
        let attach = match &cli.command {
            Some(Command::Attach { agent }) => Some(agent.clone()),
            _ => None,
        };
        let claim = attach
            .clone()
            .or_else(|| cli.actor.clone())
            .or_else(|| config.actor.clone());
        if let Some(a) = &claim
            && a.chars().nth(crate::domain::limits::NAME_CHARS).is_some()
        {
            return Err(Failure::new(
                exit::INVALID,
                format!(
                    "an agent name (`--as`, ROLO_AS, `actor` in the config) holds at most {} characters",
                    crate::domain::limits::NAME_CHARS
                ),
            ));
        }
        let actor = match &claim {
            Some(a) => Actor::new(a),
            None => Actor::from_os(),
        };
        let socket = cli.socket.clone().or_else(|| config.socket.clone());
        let mode = if cli.no_server {
            Mode::InProcess
        } else if let Some(socket) = socket {
            Mode::Client(crate::client::Target::shared(&db_path, &socket))
        } else {
            Mode::Client(
                crate::client::Target::private(&db_path)
                    .map_err(|e| Failure::new(exit::ERROR, e))?,
            )
        };
        Ok(Context {
            db_path,
            actor,
            claim,
            restricted: attach.is_some(),
            mode,
            keymap: cli.keymap.clone().or(config.keymap.clone()),
            theme: cli.theme.clone().or(config.theme.clone()),
            config,
            config_dir: dirs.map(|d| d.config),
        })
    }

    pub fn source(&self) -> Source {
        if self.restricted {
            Source::Ssh
        } else {
            Source::Cli
        }
    }

    /// The store's operations for an existing database; a missing file is "no database at
    /// PATH" (exit 10) and nothing is created. Every command but the ones that bring data of
    /// their own uses this.
    pub fn open(&self) -> Result<Db, Failure> {
        self.connect(false, self.source())
    }

    /// The same, creating the database (and its folder, owner-only) on first use: only the
    /// full-screen interface and writes that bring in data of their own (`add`).
    pub fn create(&self) -> Result<Db, Failure> {
        self.connect(true, self.source())
    }

    /// A connection for a job: subscribed, so the job's progress reaches this client.
    fn connect_for_job(&self, create: bool) -> Result<Db, Failure> {
        let Mode::Client(target) = &self.mode else {
            return self.connect(create, Source::Cli);
        };
        if !create && target.spawn && !self.db_path.exists() {
            return Err(crate::store::StoreError::NoDatabase {
                path: self.db_path.display().to_string(),
            }
            .into());
        }
        let mut hello = Hello::new(self.claim.clone(), Source::Cli);
        hello.subscribe = true;
        Ok(Db::remote(crate::client::Connection::open(
            target.clone(),
            hello,
        )?))
    }

    pub fn connect(&self, create: bool, source: Source) -> Result<Db, Failure> {
        match &self.mode {
            Mode::InProcess => {
                let store = if create {
                    Store::open(&self.db_path)?
                } else {
                    Store::open_existing(&self.db_path)?
                };
                Ok(Db::local(store, Caller::local(self.actor.clone(), source)))
            }
            Mode::InServer(service, caller) => {
                Ok(Db::in_service(Arc::clone(service), caller.clone()))
            }
            Mode::Client(target) => {
                if !create && target.spawn && !self.db_path.exists() {
                    return Err(crate::store::StoreError::NoDatabase {
                        path: self.db_path.display().to_string(),
                    }
                    .into());
                }
                let mut hello = Hello::new(self.claim.clone(), source);
                hello.restricted = self.restricted;
                hello.subscribe = source == Source::Tui || self.restricted;
                let conn = crate::client::Connection::open(target.clone(), hello)?;
                Ok(Db::remote(conn))
            }
        }
    }

    /// The store itself, for bulk work that runs where the file is (in this process with
    /// `--no-server`, or inside the server as a job). `bulk` opens it with the bulk cache.
    pub fn store(&self, bulk: bool, create: bool) -> Result<StoreRef, Failure> {
        match &self.mode {
            Mode::InServer(service, _) => Ok(StoreRef::Served(Arc::clone(service))),
            Mode::InProcess | Mode::Client(_) => Ok(StoreRef::Owned(Service::new(
                match (bulk, create) {
                    (true, _) => Store::open_for_bulk(&self.db_path)?,
                    (false, true) => Store::open(&self.db_path)?,
                    (false, false) => Store::open_existing(&self.db_path)?,
                },
                false,
            ))),
        }
    }

    /// For `doctor`'s full check: when no other client uses this database's private server,
    /// asks the server to exit and returns a context that opens the file itself. `None`: others
    /// are connected (or the server is a team one); the check then runs inside the server.
    fn take_the_file(&self) -> Option<Context> {
        let Mode::Client(target) = &self.mode else {
            return None;
        };
        if !target.spawn {
            return None;
        }
        let mut quiet = target.clone();
        quiet.spawn = false;
        if let Ok(conn) =
            crate::client::Connection::open(quiet, Hello::new(self.claim.clone(), Source::Cli))
        {
            let db = Db::remote(conn);
            let alone = db.status().is_ok_and(|s| s.clients <= 1);
            if !alone || !db.shutdown().unwrap_or(false) {
                return None;
            }
            db.close();
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            while std::os::unix::net::UnixStream::connect(&target.socket).is_ok() {
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        // The server may still be closing the file; give it a moment.
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match Store::open_existing(&self.db_path) {
                Ok(store) => {
                    drop(store);
                    break;
                }
                Err(crate::store::StoreError::Locked { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(_) => return None,
            }
        }
        Some(Context {
            db_path: self.db_path.clone(),
            actor: self.actor.clone(),
            claim: self.claim.clone(),
            restricted: false,
            mode: Mode::InProcess,
            keymap: None,
            theme: None,
            config: self.config.clone(),
            config_dir: self.config_dir.clone(),
        })
    }

    /// Whether a bulk command must go to the server as a job instead of running here.
    fn forwards_jobs(&self) -> bool {
        matches!(self.mode, Mode::Client(_))
    }
}

/// `rolo` with no subcommand: load and check the keymap and theme (every problem reported
/// before the screen is taken over), then run the full-screen interface.
fn full_screen(ctx: &Context, cli: &Cli) -> Result<(), Failure> {
    use crate::tui::theme::{ColorChoice, ColorSupport};
    let config_dir = ctx.config_dir.as_deref();
    let keymap_name = ctx.keymap.clone();
    let theme_name = ctx.theme.clone().unwrap_or_else(|| "default".to_string());
    let choice = match (cli.color, &ctx.config.color) {
        (Some(super::ColorChoice::Always), _) => ColorChoice::Always,
        (Some(super::ColorChoice::Never), _) => ColorChoice::Never,
        (Some(super::ColorChoice::Auto), _) => ColorChoice::Auto,
        (None, Some(text)) => text
            .parse()
            .map_err(|e: String| Failure::new(exit::INVALID, e))?,
        (None, None) => ColorChoice::Auto,
    };
    let keymap = crate::tui::Keymap::load(keymap_name.as_deref(), config_dir);
    let theme = crate::tui::Theme::load(&theme_name, config_dir, ColorSupport::from_env(choice));
    let mut problems = Vec::new();
    if let Err(e) = &keymap {
        problems.push(format!(
            "the keymap has problems:\n{e}\n(start with the shipped keymap: --keymap default)"
        ));
    }
    if let Err(e) = &theme {
        problems.push(format!(
            "the theme has problems:\n{e}\n(start with the shipped theme: --theme default)"
        ));
    }
    let (Ok(keymap), Ok(theme)) = (keymap, theme) else {
        return Err(Failure::new(exit::INVALID, problems.join("\n")));
    };
    // Refused before the database is opened, so a refusal never leaves a new empty file.
    crate::tui::terminal::check().map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    let store = ctx.connect(true, Source::Tui)?;
    let options = crate::tui::TuiOptions {
        keymap,
        theme,
        restricted: ctx.restricted,
    };
    crate::tui::run(store, options).map_err(|e| match e {
        crate::tui::TuiError::Store(e) => Failure::from(e),
        other => Failure::new(exit::ERROR, other.to_string()),
    })?;
    match crate::tui::terminal::signal() {
        // Shell convention: 128 + the signal's number (129 for a hang-up).
        Some(signal) => Err(Failure::new(
            u8::try_from(128 + signal).unwrap_or(exit::ERROR),
            format!("stopped by signal {signal}; everything saved"),
        )),
        None => Ok(()),
    }
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Context::new(&cli)?;
    if ctx.restricted {
        return super::restricted::run(&ctx, cli);
    }
    run_with(&ctx, cli)
}

/// Commands that read or write files, or load in bulk: in client mode they run inside the
/// server as one job (its store, the caller's identity), the client printing what it printed.
fn is_job(command: &Command) -> bool {
    matches!(
        command,
        Command::Import(_)
            | Command::Report(_)
            | Command::Export(_)
            | Command::Demo { .. }
            | Command::Doctor { .. }
            | Command::Backup { .. }
            | Command::Dedupe { .. }
    )
}

/// An import's input copied from a stream for the server to read; removed when dropped.
struct Spooled {
    path: std::path::PathBuf,
    /// The argument it stands for.
    original: String,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Copies the stream `args.file` names into an owner-only file beside the database (on disk,
/// where the server can read it; not a RAM-backed runtime folder). Its first bytes are looked
/// at first: binary data (`/dev/zero`, a disk image) is refused before anything is written.
fn spool_input(ctx: &Context, args: &super::import::ImportArgs) -> Result<Spooled, Failure> {
    use std::io::{Read, Write};
    let shown = safe(&args.file.display().to_string()).into_owned();
    let mut input = std::fs::File::open(&args.file)
        .map_err(|e| Failure::new(exit::NOT_FOUND, format!("cannot open {shown}: {e}")))?;
    let mut head = vec![0; 64 * 1024];
    let mut filled = 0;
    while filled < head.len() {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Failure::new(
                    exit::ERROR,
                    format!("cannot read {shown}: {e}"),
                ));
            }
        }
    }
    head.truncate(filled);
    let bom = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if args.encoding.is_none() && !bom && head.contains(&0) {
        return Err(Failure::new(
            exit::INVALID,
            format!(
                "{shown}: {}; nothing was imported",
                crate::interop::encoding::describe(&head[..head.len().min(4096)])
            ),
        ));
    }
    if let Some(dir) = ctx.db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    let (path, mut file) = crate::store::create_private_temp(&ctx.db_path)
        .map_err(|e| Failure::new(exit::ERROR, format!("cannot copy {shown}: {e}")))?;
    let spooled = Spooled {
        path,
        original: args.file.display().to_string(),
    };
    let copied = file
        .write_all(&head)
        .and_then(|()| std::io::copy(&mut input, &mut file))
        .and_then(|_| file.flush());
    copied.map_err(|e| {
        let full = e.raw_os_error() == Some(28);
        Failure::new(
            exit::ERROR,
            format!(
                "cannot copy {shown} for the import{}: {e}; nothing was imported",
                if full { " (the disk is full)" } else { "" }
            ),
        )
    })?;
    Ok(spooled)
}

/// Sends this command line to the server as a job and prints what it printed.
fn forward_job(ctx: &Context, cli: &Cli, spooled: Option<&Spooled>) -> Result<(), Failure> {
    let cwd = std::env::current_dir()?;
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(spool) = spooled {
        // The input argument is the last one naming the stream; the job reads the copy.
        if let Some(arg) = args.iter_mut().rev().find(|a| **a == spool.original) {
            *arg = spool.path.display().to_string();
        }
        args.push("--label".into());
        args.push(spool.original.clone());
    }
    // Export to stdout: the server writes a private temp file this process then copies out.
    let temp = match &cli.command {
        Some(Command::Export(e)) if e.out.is_none() => {
            let dir = crate::client::runtime_dir();
            let path = dir.join(format!(
                "export-{}-{}.tmp",
                std::process::id(),
                fastrand::u64(..)
            ));
            args.push("--out".into());
            args.push(path.display().to_string());
            Some(path)
        }
        _ => None,
    };
    let creates = matches!(
        cli.command,
        Some(Command::Demo { .. }) | Some(Command::Import(_))
    );
    let db = ctx.connect_for_job(creates)?;
    let events = db.subscribe();
    // The job's progress bars, drawn here as the server reports them.
    let drawer = std::thread::spawn(move || {
        let mut bar: Option<super::progress::Bar> = None;
        while let Ok(event) = events.recv() {
            if let crate::api::Event::Progress(p) = event {
                if p.finished {
                    bar = None;
                    continue;
                }
                let b = bar.get_or_insert_with(|| {
                    super::progress::Bar::new(p.label.clone(), p.unit.clone(), p.total)
                });
                b.set_total(p.total);
                b.set(p.done);
            }
        }
    });
    let job = crate::api::Job { args, cwd };
    let output = db.run_job(job);
    db.close();
    drop(db);
    let _ = drawer.join();
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            if let Some(t) = &temp {
                let _ = std::fs::remove_file(t);
            }
            return Err(e.into());
        }
    };
    if let Some(t) = &temp {
        let copied = std::fs::File::open(t).and_then(|mut f| {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            std::io::copy(&mut f, &mut lock)
        });
        let _ = std::fs::remove_file(t);
        copied?;
    }
    out!("{}", output.stdout);
    if !output.stderr.is_empty() {
        use std::io::Write;
        let _ = write!(std::io::stderr(), "{}", output.stderr);
    }
    if output.code == exit::OK {
        Ok(())
    } else {
        Err(Failure::new(output.code, output.message))
    }
}

/// Runs a job for a client inside the server: the command line parsed afresh, relative paths
/// taken from the client's directory, identity from the connection, output collected.
pub(crate) fn run_job(
    service: Arc<Service>,
    caller: Caller,
    job: &crate::api::Job,
) -> crate::api::JobOutput {
    use crate::api::JobOutput;
    let argv = std::iter::once("rolo".to_string()).chain(job.args.iter().cloned());
    let mut cli = match <Cli as clap::Parser>::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            return JobOutput {
                code: exit::USAGE,
                message: e.to_string(),
                ..JobOutput::default()
            };
        }
    };
    let absolute = |p: &mut std::path::PathBuf| {
        if p.is_relative() {
            *p = job.cwd.join(&*p);
        }
    };
    match &mut cli.command {
        Some(Command::Import(a)) => {
            absolute(&mut a.file);
            if let Some(m) = a.map.as_mut() {
                absolute(m);
            }
        }
        Some(Command::Export(a)) => {
            if let Some(o) = a.out.as_mut() {
                absolute(o);
            }
        }
        Some(Command::Backup { path }) => absolute(path),
        Some(c) if is_job(c) => {}
        _ => {
            return JobOutput {
                code: exit::USAGE,
                message: "only bulk commands run as server jobs".into(),
                ..JobOutput::default()
            };
        }
    }
    let caller_conn = caller.conn;
    let ctx = Context {
        db_path: service.store().path().to_path_buf(),
        actor: caller.agent.clone(),
        claim: None,
        restricted: false,
        mode: Mode::InServer(Arc::clone(&service), caller),
        keymap: None,
        theme: None,
        config: ConfigFile::default(),
        config_dir: None,
    };
    {
        let service = Arc::clone(&service);
        let conn = caller_conn;
        super::progress::relay_to(Box::new(move |p| {
            service.send_to(conn, crate::api::Event::Progress(p));
        }));
    }
    let source = if matches!(cli.command, Some(Command::Import(_))) {
        "import"
    } else {
        "cli"
    };
    let (result, stdout, stderr) =
        crate::store::with_source(source, || super::output::capture(|| run_with(&ctx, cli)));
    super::progress::stop_relay();
    let (code, message) = match result {
        Ok(()) => (exit::OK, String::new()),
        Err(f) => (f.code, f.message),
    };
    JobOutput {
        stdout,
        stderr,
        code,
        message,
    }
}

/// A restricted (SSH) session's command, already allow-listed.
pub fn run_restricted(ctx: &Context, cli: Cli) -> Result<(), Failure> {
    run_with(ctx, cli)
}

fn run_with(ctx: &Context, cli: Cli) -> Result<(), Failure> {
    if let Some(Command::Doctor {
        json,
        salvage: Some(out),
    }) = &cli.command
    {
        return salvage(ctx, out, *json);
    }
    if let Some(Command::Doctor { json, .. }) = &cli.command
        && let Some(owner) = ctx.take_the_file()
    {
        // Nobody else is using the file: the full check, redb's page check included.
        return doctor(&owner, *json);
    }
    // A pipe, `/dev/stdin` or `<(…)` is this process's to read, not the server's: copied
    // to a private file beside the database for the job, removed when it is done.
    let mut cli = cli;
    let mut spooled = None;
    if let Some(Command::Import(args)) = &mut cli.command
        && ctx.forwards_jobs()
        && std::fs::metadata(&args.file).is_ok_and(|m| !m.is_file() && !m.is_dir())
    {
        let spool = spool_input(ctx, args)?;
        args.label = Some(args.file.display().to_string());
        args.file = spool.path.clone();
        spooled = Some(spool);
    }
    if let Some(Command::Import(args)) = &cli.command
        && ctx.forwards_jobs()
    {
        super::import::preflight(args)?;
        // A dry run against a database that does not exist needs no server (and must not
        // create the file): it runs here, on an in-memory store.
        if args.dry_run
            && !ctx.db_path.exists()
            && let Some(Command::Import(args)) = cli.command
        {
            return super::import::run(ctx, args);
        }
    }
    if let Some(command) = &cli.command
        && is_job(command)
        && ctx.forwards_jobs()
    {
        return forward_job(ctx, &cli, spooled.as_ref());
    }
    match cli.command {
        Some(Command::Serve { idle, auto }) => serve(ctx, &cli, idle, auto),
        Some(Command::Server { what }) => server_command(ctx, what),
        Some(Command::Who { json }) => who(ctx, json),
        Some(Command::Attach { .. }) => Err(Failure::new(
            exit::USAGE,
            "`rolo attach` runs only as an OpenSSH forced command",
        )),
        None => full_screen(ctx, &cli),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "rolo", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
        Some(Command::Add { fields, json }) => add(ctx, fields, json),
        Some(Command::Edit {
            contact,
            fields,
            untag,
            lists,
            json,
        }) => edit(ctx, &contact, fields, &untag, lists, json),
        Some(Command::Log(args)) => log(ctx, args),
        Some(Command::Show {
            contact,
            limit,
            json,
        }) => show(ctx, &contact, limit, json),
        Some(Command::Search { query, limit, json }) => search(ctx, &query.join(" "), limit, json),
        Some(Command::Followups {
            due,
            assignee,
            mine,
            json,
        }) => {
            let assignee = if mine {
                Some(ctx.actor.0.clone())
            } else {
                assignee
            };
            followups(ctx, due, assignee.as_deref(), json)
        }
        Some(Command::Done { id }) => done(ctx, id),
        Some(Command::Reschedule { id, when }) => reschedule(ctx, id, &when),
        Some(Command::Purchase(args)) => purchase(ctx, args),
        Some(Command::Rm { contact }) => {
            let store = ctx.open()?;
            let c = resolve_target(&store, &contact)?;
            store.delete_contact(c.id)?;
            outln!(
                "Moved {} (#{}) to the trash — `rolo undo` or `rolo restore {}` brings it back",
                safe(&c.name),
                c.id,
                c.id
            );
            Ok(())
        }
        Some(Command::Restore { id }) => {
            let store = ctx.open()?;
            let c = store.restore_contact(id)?;
            outln!("Restored {} (#{})", safe(&c.name), c.id);
            Ok(())
        }
        Some(Command::Trash { json }) => trash(ctx, json),
        Some(Command::Undo) => {
            let store = ctx.open()?;
            let undone = store.undo()?;
            outln!(
                "Undid: {} ({})",
                safe(&undone.action),
                undone.at.local_display()
            );
            Ok(())
        }
        Some(Command::History {
            contact,
            agent,
            since,
            limit,
            json,
        }) => history(
            ctx,
            HistoryFilter {
                contact,
                agent,
                since,
            },
            limit,
            json,
        ),
        Some(Command::Demo {
            contacts,
            seed,
            into_nonempty,
        }) => demo(ctx, contacts, seed, into_nonempty),
        Some(Command::Doctor { json, .. }) => doctor(ctx, json),
        Some(Command::Backup { path }) => {
            let store = ctx.store(false, false)?;
            let report = store.backup(&path)?;
            outln!(
                "Backed up {} rows to {} ({} bytes)",
                report.rows,
                safe(&report.path),
                report.bytes
            );
            Ok(())
        }
        Some(Command::Bench(args)) => super::bench::run(ctx, args.what),
        Some(Command::Import(args)) => super::import::run(ctx, args),
        Some(Command::Export(args)) => super::export::run(ctx, args),
        Some(Command::Report(args)) => super::report::run(ctx, args),
        Some(Command::Dedupe { json }) => super::dedupe::run(ctx, json),
        Some(Command::Merge {
            keep,
            other,
            dry_run,
            json,
        }) => merge(ctx, &keep, &other, dry_run, json),
        Some(Command::Keys(args)) => super::keys::keys(ctx, args),
        Some(Command::Themes(args)) => super::keys::themes(ctx, args),
    }
}

/// `rolo serve`: in the foreground for a team socket (`--socket`), or as the private server a
/// client started (`--auto`: idle exit, and a start-up failure reported as JSON for it).
fn serve(ctx: &Context, cli: &Cli, idle: Option<u64>, auto: bool) -> Result<(), Failure> {
    let (socket, shared) = match &cli.socket {
        Some(p) => (p.clone(), !auto),
        None => (
            crate::client::socket_for(&ctx.db_path).map_err(|e| Failure::new(exit::ERROR, e))?,
            false,
        ),
    };
    let idle = match (idle, auto) {
        (Some(0), _) | (None, false) => None,
        (Some(s), _) => Some(std::time::Duration::from_secs(s)),
        (None, true) => Some(std::time::Duration::from_secs(120)),
    };
    let options = crate::server::ServeOptions {
        socket: socket.clone(),
        shared,
        idle,
        auto,
    };
    if !auto {
        warnln!(
            "rolo serves {} on {}{} (ctrl-c stops it)",
            safe(&ctx.db_path.display().to_string()),
            safe(&socket.display().to_string()),
            if shared { " for the team" } else { "" }
        );
    }
    crate::server::serve(&ctx.db_path, &options).map_err(|e| {
        if auto && let Ok(json) = serde_json::to_string(&e) {
            // The client that started this server reads why from the log's JSON line.
            warnln!("{json}");
        }
        Failure::from(e)
    })
}

/// The running server's status, or asks it to stop.
fn server_command(ctx: &Context, what: super::ServerWhat) -> Result<(), Failure> {
    let Mode::Client(target) = &ctx.mode else {
        return Err(Failure::new(
            exit::USAGE,
            "there is no server with --no-server",
        ));
    };
    let mut quiet = target.clone();
    quiet.spawn = false;
    let hello = Hello::new(ctx.claim.clone(), Source::Cli);
    let conn = match crate::client::Connection::open(quiet, hello) {
        Ok(c) => c,
        Err(crate::store::StoreError::Unavailable(_)) => {
            outln!(
                "no rolo server is running for {} (socket {})",
                safe(&ctx.db_path.display().to_string()),
                safe(&target.socket.display().to_string())
            );
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let db = Db::remote(conn);
    match what {
        super::ServerWhat::Status { json } => {
            let status = db.status()?;
            if json {
                return print_json(&status);
            }
            outln!(
                "server      rolo {} (protocol {}), pid {}",
                safe(&status.version),
                status.protocol,
                status.pid
            );
            outln!("database    {}", safe(&status.db));
            outln!(
                "socket      {}{}",
                safe(&target.socket.display().to_string()),
                if status.shared {
                    " (team)"
                } else {
                    " (private)"
                }
            );
            outln!("clients     {} (this one included)", status.clients);
            outln!("last change #{}", status.last_seq);
            Ok(())
        }
        super::ServerWhat::Stop => {
            if db.shutdown()? {
                db.close();
                // Wait until it has let go of the file, so what comes next can open it.
                let deadline = Instant::now() + std::time::Duration::from_secs(10);
                while std::os::unix::net::UnixStream::connect(&target.socket).is_ok()
                    && Instant::now() < deadline
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                while matches!(
                    Store::open_existing(&ctx.db_path),
                    Err(crate::store::StoreError::Locked { .. })
                ) && Instant::now() < deadline
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                outln!("the server stopped; the next rolo command starts a new one");
                Ok(())
            } else {
                Err(Failure::new(
                    exit::CONFLICT,
                    "this server was not started on demand (or is not yours); stop it where it runs (systemctl stop, ctrl-c)",
                ))
            }
        }
    }
}

/// Who is connected and which contact each is on.
fn who(ctx: &Context, json: bool) -> Result<(), Failure> {
    let db = ctx.open()?;
    let status = db.status()?;
    if json {
        return print_json(&status.presence);
    }
    if status.presence.is_empty() {
        outln!(
            "Nobody has a contact open ({} client(s) connected).",
            status.clients
        );
    }
    for p in &status.presence {
        let name = db
            .contact(p.contact)?
            .map(|c| c.name)
            .unwrap_or_else(|| format!("#{}", p.contact));
        outln!(
            "{:<12} {:<13} {} (#{})",
            safe(&p.agent),
            p.mode.verb(),
            safe(&name),
            p.contact
        );
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(exit::INVALID, message)
}

/// How sure a CONTACT argument must be: a write never acts on a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Certainty {
    /// `show`, `export --contact`: a search matching exactly one contact is accepted too.
    Read,
    /// `rm`, `edit`, `log`, `merge`, `purchase`: only an id, an exact email, phone digits, UID
    /// or full name; anything else is refused with the candidates listed.
    Write,
}

/// Finds the one contact a read command's argument means (see [`resolve_as`]).
pub fn resolve(store: &Db, query: &str) -> Result<Contact, Failure> {
    resolve_as(store, query, Certainty::Read)
}

/// Finds the contact a write acts on (see [`resolve_as`]).
pub fn resolve_target(store: &Db, query: &str) -> Result<Contact, Failure> {
    resolve_as(store, query, Certainty::Write)
}

/// The shape of a CONTACT argument decides how it is looked up, never by falling through to a
/// fuzzy search:
/// - all digits, or `#` and digits: an id, and only an id;
/// - an exact UID (as imported from another system) is taken as that contact;
/// - with an `@`: an exact email, and only an email;
/// - only digits, spaces, `+ - ( ) . /` with at least six digits: exact phone digits;
/// - otherwise a full name that folds to exactly one contact's name (`ana horvat`);
/// - otherwise, for reads only, a search that matches exactly one contact.
///
/// Everything else fails with exit 4 and, where there are some, the candidates with id, email,
/// phone and organisation to pick an id from.
pub fn resolve_as(store: &Db, query: &str, certainty: Certainty) -> Result<Contact, Failure> {
    let q = query.trim();
    if q.is_empty() {
        return Err(invalid(
            "name a contact: an id (17), an email, a phone number or the full name",
        ));
    }
    let digits = q.strip_prefix('#').unwrap_or(q);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(id) = digits.parse::<Id>()
            && let Some(c) = store.contact(id)?
        {
            return Ok(c);
        }
        let mut msg = format!("no contact #{digits}");
        // An all-digit phone number typed as CONTACT: say whose it is, but do not act on it.
        if !q.starts_with('#') && digits.len() >= 6 {
            let owners = store.find_by_phone(digits.to_string())?;
            if !owners.is_empty() {
                msg.push_str(
                    " (an all-digit CONTACT is an id; as a phone number it belongs to the contacts below — use the id, or write the number with + or spaces)",
                );
                push_candidates(store, &mut msg, &owners)?;
                return Err(Failure::new(exit::NOT_FOUND, msg));
            }
        }
        if store.contact_count()? > 0 {
            msg.push_str(" (an all-digit CONTACT is an id; `rolo search` finds people by text)");
        }
        return Err(Failure::new(exit::NOT_FOUND, msg));
    }
    if let Some(id) = store.find_by_uid(q.to_string())? {
        return existing(store, id);
    }
    if q.contains('@') && !q.contains(char::is_whitespace) {
        let ids = store.find_by_email(q.to_string())?;
        return one_of(
            store,
            &ids,
            || format!("no contact has the email {}", safe(q)),
            || {
                format!(
                    "the email {} belongs to several contacts; use an id:",
                    safe(q)
                )
            },
        );
    }
    let phone_shaped = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
        && text::phone_key(q).len() >= 6;
    if phone_shaped {
        let ids = store.find_by_phone(q.to_string())?;
        return one_of(
            store,
            &ids,
            || format!("no contact has the phone number {}", safe(q)),
            || {
                format!(
                    "the phone number {} belongs to several contacts; use an id:",
                    safe(q)
                )
            },
        );
    }
    let named = store.find_by_name(q.to_string())?;
    if !named.is_empty() {
        return one_of(
            store,
            &named,
            || format!("no contact is called `{}`", safe(q)),
            || format!("several contacts are called `{}`; use an id:", safe(q)),
        );
    }
    let hits = super::lookup::find(store, q, 11)?;
    match (hits.len(), certainty) {
        (0, _) => Err(Failure::new(
            exit::NOT_FOUND,
            format!("no contact matches `{}`", safe(q)),
        )),
        (1, Certainty::Read) => Ok(hits[0].clone()),
        (_, Certainty::Read) => {
            let mut msg = format!(
                "`{}` matches several contacts; use an id or a narrower query:",
                safe(q)
            );
            push_contacts(store, &mut msg, &hits, hits.len() > 10)?;
            Err(Failure::new(exit::NOT_FOUND, msg))
        }
        (_, Certainty::Write) => {
            let mut msg = format!(
                "`{}` is not an id, email, phone number or full name, and rolo does not guess whom to change; nothing was changed. Use an id:",
                safe(q)
            );
            push_contacts(store, &mut msg, &hits, hits.len() > 10)?;
            Err(Failure::new(exit::NOT_FOUND, msg))
        }
    }
}

fn existing(store: &Db, id: Id) -> Result<Contact, Failure> {
    store
        .contact(id)?
        .ok_or_else(|| Failure::new(exit::NOT_FOUND, format!("no contact #{id}")))
}

/// The one contact of `ids`, or exit 4: `none()` when empty, `several()` and the candidates.
fn one_of(
    store: &Db,
    ids: &[Id],
    none: impl FnOnce() -> String,
    several: impl FnOnce() -> String,
) -> Result<Contact, Failure> {
    match ids {
        [] => Err(Failure::new(exit::NOT_FOUND, none())),
        [id] => existing(store, *id),
        _ => {
            let mut msg = several();
            push_candidates(store, &mut msg, ids)?;
            Err(Failure::new(exit::NOT_FOUND, msg))
        }
    }
}

/// Appends one line per candidate (at most ten) to `msg`.
fn push_candidates(store: &Db, msg: &mut String, ids: &[Id]) -> Result<(), Failure> {
    let mut contacts = Vec::new();
    for &id in ids.iter().take(10) {
        if let Some(c) = store.contact(id)? {
            contacts.push(c);
        }
    }
    push_contacts(store, msg, &contacts, ids.len() > 10)?;
    if ids.len() > 10 {
        msg.push_str(&format!(" ({} in all)", ids.len()));
    }
    Ok(())
}

fn push_contacts(
    store: &Db,
    msg: &mut String,
    contacts: &[Contact],
    more: bool,
) -> Result<(), Failure> {
    for c in contacts.iter().take(10) {
        let org = store.organization_name(c.organization)?;
        msg.push('\n');
        msg.push_str(&output::candidate_line(c, &org));
    }
    if more {
        msg.push_str("\n   …and more");
    }
    Ok(())
}

fn labelled(input: &str, default_label: &str) -> Labelled {
    match split_label(input) {
        (Some(label), value) => Labelled::new(label, value),
        (None, value) => Labelled::new(default_label, value),
    }
}

/// `work:ana@x.org` → (`Some("work")`, `ana@x.org`); no label → (`None`, the input).
fn split_label(input: &str) -> (Option<&str>, &str) {
    match input.split_once(':') {
        Some((label, value)) if !label.is_empty() && label.chars().all(char::is_alphabetic) => {
            (Some(label), value)
        }
        _ => (None, input),
    }
}

/// One list's explicit edits (`--add-…`, `--rm-…`, `--set-…`).
struct ListEdit<'a> {
    /// "email" or "phone", for messages.
    what: &'a str,
    default_label: &'a str,
    /// Two values are the same entry when their keys are equal (email: case; phone: digits).
    key: fn(&str) -> String,
    add: Vec<String>,
    rm: Vec<String>,
    set: Vec<String>,
}

impl ListEdit<'_> {
    fn is_empty(&self) -> bool {
        self.add.is_empty() && self.rm.is_empty() && self.set.is_empty()
    }

    /// Applies the edits to `list`: a replacement first, then removals, then additions. Adding
    /// a value already there changes only its label (when one is given); removing one that is
    /// not there is refused, listing what there is, so a typo changes nothing.
    fn apply(&self, list: &mut Vec<Labelled>, name: &str) -> Result<(), Failure> {
        let key = self.key;
        if !self.set.is_empty() {
            list.clear();
            for v in self.set.iter().filter(|v| !v.trim().is_empty()) {
                list.push(labelled(v, self.default_label));
            }
        }
        for v in &self.rm {
            let target = key(split_label(v).1);
            let before = list.len();
            list.retain(|l| target.is_empty() || key(&l.value) != target);
            if list.len() == before {
                let has: Vec<String> = list.iter().map(|l| safe(&l.value).into_owned()).collect();
                return Err(invalid(format!(
                    "{} has no {} `{}` (has: {}); nothing was changed",
                    safe(name),
                    self.what,
                    safe(v),
                    if has.is_empty() {
                        "none".to_string()
                    } else {
                        has.join(", ")
                    }
                )));
            }
        }
        for v in &self.add {
            let (label, value) = split_label(v);
            let target = key(value);
            match list
                .iter_mut()
                .find(|l| !target.is_empty() && key(&l.value) == target)
            {
                Some(existing) => {
                    if let Some(label) = label {
                        existing.label = label.to_string();
                    }
                }
                None => list.push(labelled(v, self.default_label)),
            }
        }
        Ok(())
    }
}

fn apply_fields(c: &mut ContactDraftView, f: ContactArgs) -> Result<(), Failure> {
    if let Some(n) = f.name {
        *c.name = n;
    }
    if !f.email.is_empty() {
        *c.emails = f.email.iter().map(|e| labelled(e, "work")).collect();
    }
    if !f.phone.is_empty() {
        *c.phones = f.phone.iter().map(|p| labelled(p, "mobile")).collect();
    }
    if let Some(t) = f.title {
        *c.title = t;
    }
    if let Some(city) = f.city {
        match c.addresses.first_mut() {
            Some(a) => a.city = city,
            None => c.addresses.push(Address {
                label: "work".into(),
                city,
                ..Address::default()
            }),
        }
    }
    c.tags.extend(f.tag);
    if let Some(s) = f.stage {
        *c.stage = Some(s.parse::<Stage>().map_err(invalid)?);
    }
    for (target, value) in [
        (&mut *c.tier, f.tier),
        (&mut *c.owner, f.owner),
        (&mut *c.source, f.source),
        (&mut *c.language, f.language),
    ] {
        if let Some(v) = value {
            *target = v;
        }
    }
    if let Some(b) = f.birthday {
        *c.birthday = if b.is_empty() {
            None
        } else {
            Some(b.parse::<Birthday>().map_err(invalid)?)
        };
    }
    if let Some(ch) = f.channel {
        *c.preferred_channel = Some(ch.parse::<Channel>().map_err(invalid)?);
    }
    for field in f.field {
        let (k, v) = field
            .split_once('=')
            .ok_or_else(|| invalid(format!("`{field}`: custom fields are KEY=VALUE")))?;
        if v.is_empty() {
            c.custom.remove(&k.to_lowercase());
        } else {
            c.custom.insert(k.to_string(), CustomValue::guess(v));
        }
    }
    for consent in f.consent {
        let bad = || {
            invalid(format!(
                "`{consent}`: use CHANNEL=granted|denied|unknown[:purpose], e.g. email=granted:newsletter"
            ))
        };
        let (ch, rest) = consent.split_once('=').ok_or_else(bad)?;
        let (status, purpose) = rest.split_once(':').unwrap_or((rest, ""));
        c.consent.push(Consent {
            channel: ch.parse().map_err(invalid)?,
            status: status.parse::<ConsentStatus>().map_err(invalid)?,
            at: At::now(),
            source: "cli".into(),
            purpose: purpose.into(),
        });
    }
    if let Some(n) = f.notes {
        *c.notes = n;
    }
    Ok(())
}

/// Mutable views of the fields `add` and `edit` share, so one function fills both.
struct ContactDraftView<'a> {
    name: &'a mut String,
    emails: &'a mut Vec<Labelled>,
    phones: &'a mut Vec<Labelled>,
    title: &'a mut String,
    addresses: &'a mut Vec<Address>,
    tags: &'a mut Vec<String>,
    stage: &'a mut Option<Stage>,
    tier: &'a mut String,
    owner: &'a mut String,
    source: &'a mut String,
    language: &'a mut String,
    birthday: &'a mut Option<Birthday>,
    preferred_channel: &'a mut Option<Channel>,
    custom: &'a mut std::collections::BTreeMap<String, CustomValue>,
    consent: &'a mut Vec<Consent>,
    notes: &'a mut String,
}

fn add(ctx: &Context, mut fields: ContactArgs, json: bool) -> Result<(), Failure> {
    let mut draft = ContactDraft {
        organization: fields.org.take().unwrap_or_default(),
        ..ContactDraft::default()
    };
    apply_fields(
        &mut ContactDraftView {
            name: &mut draft.name,
            emails: &mut draft.emails,
            phones: &mut draft.phones,
            title: &mut draft.title,
            addresses: &mut draft.addresses,
            tags: &mut draft.tags,
            stage: &mut draft.stage,
            tier: &mut draft.tier,
            owner: &mut draft.owner,
            source: &mut draft.source,
            language: &mut draft.language,
            birthday: &mut draft.birthday,
            preferred_channel: &mut draft.preferred_channel,
            custom: &mut draft.custom,
            consent: &mut draft.consent,
            notes: &mut draft.notes,
        },
        fields,
    )?;
    // Validate before anything is created: a refused `add` on a path with no database
    // must not leave an empty database file behind.
    draft
        .clone()
        .into_contact(&ctx.actor)
        .map_err(crate::store::StoreError::from)?;
    let store = ctx.create()?;
    let contact = store.add_contact(draft)?;
    warn_shared_contact_points(&store, &contact)?;
    if json {
        return print_json(&contact);
    }
    outln!("Added {} (#{})", safe(&contact.name), contact.id);
    Ok(())
}

/// Warns on stderr when an email or phone of the just-added `contact` already belongs to
/// someone else, naming them and the merge that would fold the new record into theirs (the
/// contact is added anyway: scripts keep working, a person decides).
fn warn_shared_contact_points(store: &Db, contact: &Contact) -> Result<(), Failure> {
    let mut warned: Vec<Id> = Vec::new();
    let points = contact
        .emails
        .iter()
        .map(|e| (e.value.as_str(), store.find_by_email(e.value.to_string())))
        .chain(
            contact
                .phones
                .iter()
                .map(|p| (p.value.as_str(), store.find_by_phone(p.value.to_string()))),
        );
    for (value, owners) in points {
        for id in owners? {
            if id == contact.id || warned.contains(&id) {
                continue;
            }
            // A shared switchboard or `info@` may be on hundreds of contacts.
            if warned.len() == 5 {
                warnln!("warning: more contacts share these details; see `rolo dedupe`");
                return Ok(());
            }
            let Some(other) = store.contact(id)? else {
                continue;
            };
            warned.push(id);
            warnln!(
                "warning: {} already belongs to {} (#{}); if they are the same person: rolo merge {} {}",
                safe(value),
                safe(&other.name),
                other.id,
                other.id,
                contact.id
            );
        }
    }
    Ok(())
}

fn edit(
    ctx: &Context,
    query: &str,
    mut fields: ContactArgs,
    untag: &[String],
    lists: super::ListEdits,
    json: bool,
) -> Result<(), Failure> {
    // On edit, `--email`/`--phone` add to the list like `--tag`; only `--set-…` replaces it.
    let emails = ListEdit {
        what: "email",
        default_label: "work",
        key: text::email_key,
        add: std::mem::take(&mut fields.email)
            .into_iter()
            .chain(lists.add_email)
            .collect(),
        rm: lists.rm_email,
        set: lists.set_email,
    };
    let phones = ListEdit {
        what: "phone",
        default_label: "mobile",
        key: text::phone_key,
        add: std::mem::take(&mut fields.phone)
            .into_iter()
            .chain(lists.add_phone)
            .collect(),
        rm: lists.rm_phone,
        set: lists.set_phone,
    };
    let store = ctx.open()?;
    let mut contact = resolve_target(&store, query)?;
    let base = contact.clone();
    let name = contact.name.clone();
    emails.apply(&mut contact.emails, &name)?;
    phones.apply(&mut contact.phones, &name)?;
    let org = fields.org.take();
    let mut stage = Some(contact.stage);
    apply_fields(
        &mut ContactDraftView {
            name: &mut contact.name,
            emails: &mut contact.emails,
            phones: &mut contact.phones,
            title: &mut contact.title,
            addresses: &mut contact.addresses,
            tags: &mut contact.tags,
            stage: &mut stage,
            tier: &mut contact.tier,
            owner: &mut contact.owner,
            source: &mut contact.source,
            language: &mut contact.language,
            birthday: &mut contact.birthday,
            preferred_channel: &mut contact.preferred_channel,
            custom: &mut contact.custom,
            consent: &mut contact.consent,
            notes: &mut contact.notes,
        },
        fields,
    )?;
    contact.stage = stage.unwrap_or(contact.stage);
    let remove: Vec<String> = untag.iter().map(|t| text::clean_tag(t)).collect();
    contact
        .tags
        .retain(|t| !remove.contains(&text::clean_tag(t)));
    let saved = store.update_contact(contact, org.clone(), Some(base))?;
    if json {
        return print_json(&saved);
    }
    outln!(
        "Saved {} (#{}, version {})",
        safe(&saved.name),
        saved.id,
        saved.version
    );
    for (edit, list) in [(&emails, &saved.emails), (&phones, &saved.phones)] {
        if !edit.is_empty() {
            let shown: Vec<String> = list
                .iter()
                .map(|l| format!("{} {}", safe(&l.label), safe(&l.value)))
                .collect();
            outln!(
                "{:>8}  {}",
                format!("{}s", edit.what),
                if shown.is_empty() {
                    "none".to_string()
                } else {
                    shown.join(", ")
                }
            );
        }
    }
    Ok(())
}

fn log(ctx: &Context, args: super::LogArgs) -> Result<(), Failure> {
    let channel: Channel = args.channel.parse().map_err(invalid)?;
    let direction: Direction = args.direction.parse().map_err(invalid)?;
    let outcome = args
        .outcome
        .as_deref()
        .map(str::parse::<Outcome>)
        .transpose()
        .map_err(invalid)?;
    let body = match args.body.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        Some(b) => b.to_string(),
        None => String::new(),
    };
    let follow_up = match &args.follow_up {
        Some(when) => Some((
            time::parse_due(when, Day::today()).map_err(invalid)?,
            args.follow_up_what.clone().unwrap_or_default(),
        )),
        None => None,
    };
    let store = ctx.open()?;
    let contact = resolve_target(&store, &args.contact)?;
    let answers = match args.closes {
        Some(id) => {
            let item = open_follow_up(&store, id)?;
            if item.follow_up.contact != contact.id {
                return Err(invalid(format!(
                    "follow-up #{id} is for {} (#{}), not {} (#{})",
                    safe(&item.contact_name),
                    item.follow_up.contact,
                    safe(&contact.name),
                    contact.id
                )));
            }
            Some(item.follow_up)
        }
        None => None,
    };
    let interaction = Interaction {
        id: 0,
        contact: contact.id,
        at: At::now(),
        channel,
        direction,
        summary: args.summary,
        body,
        outcome,
        satisfaction: args.satisfaction,
        agent: String::new(),
        deal: None,
        campaign: String::new(),
    };
    let logged = store.log_interaction(interaction, follow_up, answers.clone())?;
    if args.json {
        #[derive(Serialize)]
        struct Out<'a> {
            interaction: &'a Interaction,
            follow_up: &'a Option<crate::domain::FollowUp>,
        }
        return print_json(&Out {
            interaction: &logged.interaction,
            follow_up: &logged.follow_up,
        });
    }
    // The contact's id in brackets after their name, as everywhere; the entry's id apart.
    out!(
        "Logged {} with {} (#{}), entry #{}",
        logged.interaction.channel,
        safe(&contact.name),
        contact.id,
        logged.interaction.id
    );
    if let Some(f) = &answers {
        out!("; closed follow-up #{} ({})", f.id, safe(&f.what));
    }
    if let Some(f) = &logged.follow_up {
        out!("; follow-up #{} due {}", f.id, f.due);
    }
    outln!(" — `rolo undo` takes it back");
    Ok(())
}

#[derive(Serialize)]
pub struct ShowJson {
    pub contact: Contact,
    pub organization: Option<String>,
    pub last_contact: Option<At>,
    pub next_due: Option<Day>,
    pub timeline: Vec<Entry>,
    pub deals: Vec<crate::domain::Deal>,
}

#[derive(Serialize)]
struct MergeJson {
    dry_run: bool,
    kept: Id,
    absorbed: Id,
    /// Timeline entries and deals moved to the kept contact.
    moved: usize,
    organization: Option<String>,
    contact: Contact,
}

fn merge(ctx: &Context, keep: &str, other: &str, dry_run: bool, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let kept = resolve_target(&store, keep)?;
    let absorbed = resolve_target(&store, other)?;
    if kept.id == absorbed.id {
        return Err(invalid(format!(
            "`{}` and `{}` are the same contact (#{}); nothing to merge",
            safe(keep),
            safe(other),
            kept.id
        )));
    }
    let moved = store.history_count(absorbed.id)?;
    let kept_org = store.organization_name(kept.organization)?;
    let absorbed_org = store.organization_name(absorbed.organization)?;
    let plan = MergePlan::new(kept, kept_org, absorbed.clone(), absorbed_org);
    let (contact, moved) = if dry_run {
        (plan.result(), moved)
    } else {
        let merged = store.merge_contacts(plan.result(), absorbed.clone())?;
        (merged.contact, merged.moved)
    };
    let org = store.organization_name(contact.organization)?;
    if json {
        return print_json(&MergeJson {
            dry_run,
            kept: contact.id,
            absorbed: absorbed.id,
            moved,
            organization: (!org.is_empty()).then_some(org),
            contact,
        });
    }
    out!("{}", output::profile(&contact, &org));
    outln!();
    if dry_run {
        outln!(
            "Dry run: merging {} (#{}) into #{} would move {moved} timeline entries and deals; nothing was written.",
            safe(&absorbed.name),
            absorbed.id,
            contact.id
        );
    } else {
        outln!(
            "Merged {} (#{}) into #{}: {moved} timeline entries and deals moved — `rolo undo` splits them again",
            safe(&absorbed.name),
            absorbed.id,
            contact.id
        );
    }
    Ok(())
}

fn show(ctx: &Context, query: &str, limit: usize, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let contact = resolve(&store, query)?;
    let org = store.organization_name(contact.organization)?;
    let timeline = store.timeline(contact.id, limit)?;
    let (last_contact, next_due) = store.summary(contact.id)?;
    let deals = store.deals_for(contact.id)?;
    if json {
        return print_json(&ShowJson {
            organization: (!org.is_empty()).then_some(org),
            contact,
            last_contact,
            next_due,
            timeline,
            deals,
        });
    }
    out!("{}", output::profile(&contact, &org));
    for d in &deals {
        outln!(
            "{:>12}  {} — {} {} ({})",
            "deal",
            safe(&d.title),
            crate::domain::Money {
                minor: d.value,
                currency: d.currency.clone()
            },
            d.stage,
            d.status
        );
    }
    outln!();
    if timeline.is_empty() {
        outln!(
            "No history yet — `rolo log {} --summary \"…\"` records a call.",
            contact.id
        );
    }
    let now = At::now();
    for e in &timeline {
        outln!("{}", output::timeline_line(e, now));
    }
    Ok(())
}

#[derive(Serialize)]
struct SearchHitJson {
    id: Id,
    name: String,
    organization: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    tags: Vec<String>,
    stage: Stage,
    /// The value the query matched (`{"field":"phone","value":"+385 91 234 5678"}`).
    matched: Option<MatchedJson>,
}

#[derive(Serialize)]
struct MatchedJson {
    field: crate::search::MatchField,
    value: String,
}

/// What the query matched in `c` (its organisation named `org`).
fn matched_in(query: &str, c: &Contact, org: &str) -> Option<MatchedJson> {
    let parsed = crate::search::Query::parse(query).ok()?;
    let doc = crate::search::SearchDoc::from_contact(c, org, 0, None);
    crate::search::matched_value(&parsed, &doc).map(|(field, value)| MatchedJson { field, value })
}

fn search(ctx: &Context, query: &str, limit: usize, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let hits = super::lookup::find(&store, query, limit)?;
    if json {
        let mut out = Vec::new();
        for c in hits {
            let org = store.organization_name(c.organization)?;
            out.push(SearchHitJson {
                matched: matched_in(query, &c, &org),
                id: c.id,
                organization: (!org.is_empty()).then_some(org),
                email: c.primary_email().map(str::to_string),
                phone: c.primary_phone().map(str::to_string),
                name: c.name,
                tags: c.tags,
                stage: c.stage,
            });
        }
        return print_json(&out);
    }
    if hits.is_empty() {
        warnln!("No contacts match `{}`.", safe(query));
    }
    for c in &hits {
        let org = store.organization_name(c.organization)?;
        // A contact found by its phone, email, city or tag says which one.
        let why = match matched_in(query, c, &org) {
            Some(m) if !matches!(m.field, crate::search::MatchField::Name) => {
                format!("  [{}: {}]", field_name(m.field), safe(&m.value))
            }
            _ => String::new(),
        };
        outln!("{}{why}", output::contact_line(c, &org));
    }
    Ok(())
}

fn field_name(field: crate::search::MatchField) -> &'static str {
    use crate::search::MatchField as F;
    match field {
        F::Name => "name",
        F::Organization => "organization",
        F::Email => "email",
        F::Phone => "phone",
        F::City => "city",
        F::Tag => "tag",
    }
}

#[derive(Serialize)]
struct FollowUpJson {
    id: Id,
    contact: Id,
    contact_name: String,
    organization: Option<String>,
    phone: Option<String>,
    due: Day,
    overdue: bool,
    what: String,
    assignee: String,
}

fn followups(
    ctx: &Context,
    window: DueWindow,
    assignee: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    let store = ctx.open()?;
    let today = Day::today();
    let until = match window {
        DueWindow::Overdue => today.add_days(-1),
        DueWindow::Today => today,
        DueWindow::Week => today.add_days(7),
        DueWindow::All => today.add_days(100 * 366),
    };
    let wanted = assignee.map(text::sort_key);
    let items: Vec<_> = store
        .due_until(until, usize::MAX)?
        .into_iter()
        .filter(|d| window != DueWindow::Today || d.follow_up.due == today)
        .filter(|d| {
            wanted
                .as_ref()
                .is_none_or(|w| text::sort_key(&d.follow_up.assignee) == *w)
        })
        .collect();
    if json {
        let out: Vec<FollowUpJson> = items
            .into_iter()
            .map(|d| FollowUpJson {
                id: d.follow_up.id,
                contact: d.follow_up.contact,
                contact_name: d.contact_name,
                organization: (!d.organization.is_empty()).then_some(d.organization),
                phone: d.phone,
                due: d.follow_up.due,
                overdue: d.follow_up.due < today,
                what: d.follow_up.what,
                assignee: d.follow_up.assignee,
            })
            .collect();
        return print_json(&out);
    }
    if items.is_empty() {
        match assignee {
            Some(a) => outln!("Nothing due for {}. Well done.", safe(a)),
            None => outln!("Nothing due. Well done."),
        }
        return Ok(());
    }
    let overdue = items.iter().filter(|d| d.follow_up.due < today).count();
    outln!(
        "{} follow-up{} ({} overdue){}",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        overdue,
        assignee.map_or(String::new(), |a| format!(" for {}", safe(a)))
    );
    for d in &items {
        let f = &d.follow_up;
        let when = if f.due < today {
            format!("OVERDUE {}", f.due)
        } else {
            f.due.to_string()
        };
        let mut who = safe(&d.contact_name).to_string();
        if !d.organization.is_empty() {
            who.push_str(&format!(" · {}", safe(&d.organization)));
        }
        if let Some(p) = &d.phone {
            who.push_str(&format!(" · {}", safe(p)));
        }
        outln!(
            "{:>6}  {:<18} {} — {} [{}]",
            f.id,
            when,
            who,
            safe(&f.what),
            safe(&f.assignee)
        );
    }
    Ok(())
}

/// The open follow-up with this id, or a "not found" that says where ids come from.
fn open_follow_up(store: &Db, id: Id) -> Result<crate::store::DueItem, Failure> {
    store
        .due_until(Day::today().add_days(100 * 366), usize::MAX)?
        .into_iter()
        .find(|d| d.follow_up.id == id)
        .ok_or_else(|| {
            Failure::new(
                exit::NOT_FOUND,
                format!("no open follow-up #{id} (see `rolo followups --due all`)"),
            )
        })
}

fn done(ctx: &Context, id: Id) -> Result<(), Failure> {
    let store = ctx.open()?;
    let item = open_follow_up(&store, id)?;
    store.complete_follow_up(item.follow_up.clone())?;
    outln!(
        "Done: {} — {}",
        safe(&item.contact_name),
        safe(&item.follow_up.what)
    );
    Ok(())
}

fn reschedule(ctx: &Context, id: Id, when: &str) -> Result<(), Failure> {
    let due = time::parse_due(when, Day::today()).map_err(invalid)?;
    let store = ctx.open()?;
    let item = open_follow_up(&store, id)?;
    let moved = store.reschedule_follow_up(item.follow_up.clone(), due)?;
    outln!(
        "Moved follow-up #{} ({} — {}) from {} to {} — `rolo undo` takes it back",
        moved.id,
        safe(&item.contact_name),
        safe(&moved.what),
        item.follow_up.due,
        moved.due
    );
    Ok(())
}

/// `49.90` → 4990 minor units.
fn parse_money(input: &str) -> Result<i64, Failure> {
    let bad = || invalid(format!("`{input}` is not an amount (e.g. 49.90)"));
    let t = input.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if frac.len() > 2 || whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    let negative = whole.starts_with('-');
    let whole: i64 = whole.trim_start_matches('-').parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    let v = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    Ok(if negative { -v } else { v })
}

fn purchase(ctx: &Context, args: super::PurchaseArgs) -> Result<(), Failure> {
    let store = ctx.open()?;
    let contact = resolve_target(&store, &args.contact)?;
    let entry = Entry::Purchase(Purchase {
        id: 0,
        contact: contact.id,
        at: At::now(),
        product: args.product,
        quantity: args.quantity,
        amount: parse_money(&args.amount)?,
        cost: parse_money(&args.cost)?,
        currency: args.currency,
        channel: args.via,
        location: args.location,
    });
    let saved = store.add_entry(entry)?;
    if args.json {
        return print_json(&saved);
    }
    outln!(
        "Recorded purchase #{} for {}",
        saved.id(),
        safe(&contact.name)
    );
    Ok(())
}

fn trash(ctx: &Context, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let items = store.trash()?;
    if json {
        return print_json(&items);
    }
    if items.is_empty() {
        outln!("The trash is empty.");
    }
    for t in &items {
        outln!(
            "{:>6}  {} — deleted {} by {} ({} timeline entries)",
            t.contact.id,
            safe(&t.contact.name),
            t.deleted.at.local_display(),
            safe(&t.deleted.by),
            t.entries.len()
        );
    }
    Ok(())
}

/// `rolo history`'s filters.
struct HistoryFilter {
    contact: Option<String>,
    agent: Option<String>,
    since: Option<String>,
}

/// A `--since` day: `today`, `yesterday`, `7d` / `2w` / `1m` ago (a leading `-` is allowed), or
/// `YYYY-MM-DD`.
fn parse_since(input: &str, today: Day) -> Result<Day, Failure> {
    let text = input.trim().to_lowercase();
    let bad = || {
        invalid(format!(
            "`{}` is not a day to start from (use 2026-11-01, today, yesterday, 7d, 2w or 1m)",
            safe(input)
        ))
    };
    match text.as_str() {
        "today" => return Ok(today),
        "yesterday" => return Ok(today.add_days(-1)),
        _ => {}
    }
    let rel = text.strip_prefix('-').unwrap_or(&text);
    if let Some(unit_at) = rel.find(|c: char| !c.is_ascii_digit())
        && unit_at > 0
    {
        let (n, unit) = rel.split_at(unit_at);
        let n: i32 = n.parse().map_err(|_| bad())?;
        let days = match unit {
            "d" => Some(n),
            "w" => n.checked_mul(7),
            "m" => n.checked_mul(30),
            "y" => n.checked_mul(365),
            _ => return text.parse::<Day>().map_err(|_| bad()),
        }
        .ok_or_else(bad)?;
        return Ok(today.add_days(-days));
    }
    text.parse::<Day>().map_err(|_| bad())
}

/// The names of the contacts an entry concerns, `Ana Horvat (#1)`, looked up once each: from
/// the entry's own records, else the database, else the trash.
struct Names<'s> {
    store: &'s Db,
    known: std::collections::HashMap<Id, String>,
    trash: Option<Vec<crate::store::TrashBundle>>,
}

impl Names<'_> {
    fn name(&mut self, id: Id, carried: Option<&String>) -> Result<String, Failure> {
        if let Some(n) = carried {
            return Ok(n.clone());
        }
        if let Some(n) = self.known.get(&id) {
            return Ok(n.clone());
        }
        let name = match self.store.contact(id)? {
            Some(c) => c.name,
            None => {
                if self.trash.is_none() {
                    self.trash = Some(self.store.trash()?);
                }
                self.trash
                    .iter()
                    .flatten()
                    .find(|t| t.contact.id == id)
                    .map(|t| t.contact.name.clone())
                    .unwrap_or_default()
            }
        };
        self.known.insert(id, name.clone());
        Ok(name)
    }

    fn describe(&mut self, e: &crate::store::AuditEntry) -> Result<String, Failure> {
        let mut who = Vec::new();
        for (id, carried) in e.contacts() {
            let name = self.name(id, carried.as_ref())?;
            who.push(if name.is_empty() {
                format!("#{id}")
            } else {
                format!("{} (#{id})", safe(&name))
            });
        }
        Ok(who.join(", "))
    }
}

#[derive(Serialize)]
struct HistoryJson<'a> {
    #[serde(flatten)]
    entry: &'a crate::store::AuditEntry,
    /// The contacts this action concerns, with their names.
    contacts: Vec<HistoryContactJson>,
}

#[derive(Serialize)]
struct HistoryContactJson {
    id: Id,
    name: String,
}

fn history(ctx: &Context, filter: HistoryFilter, limit: usize, json: bool) -> Result<(), Failure> {
    let since = filter
        .since
        .as_deref()
        .map(|s| parse_since(s, Day::today()))
        .transpose()?;
    let store = ctx.open()?;
    let agent = filter.agent.as_deref().map(|a| a.trim().to_lowercase());
    let by_agent = |e: &crate::store::AuditEntry| {
        agent
            .as_deref()
            .is_none_or(|a| e.actor.trim().to_lowercase() == a)
    };
    let in_window = |e: &crate::store::AuditEntry| since.is_none_or(|d| e.at.local_day() >= d);
    let entries = match &filter.contact {
        Some(query) => {
            let contact = resolve(&store, query)?;
            let mut about = store.audit_about(contact.id)?;
            about.reverse();
            about
                .into_iter()
                .filter(|e| by_agent(e) && in_window(e))
                .take(limit)
                .collect()
        }
        None => store.audit_log(crate::api::HistoryQuery {
            agent: filter.agent.clone(),
            since,
            limit,
        })?,
    };
    let mut names = Names {
        store: &store,
        known: std::collections::HashMap::new(),
        trash: None,
    };
    if json {
        let mut out = Vec::with_capacity(entries.len());
        for entry in &entries {
            let mut contacts = Vec::new();
            for (id, carried) in entry.contacts() {
                contacts.push(HistoryContactJson {
                    id,
                    name: names.name(id, carried.as_ref())?,
                });
            }
            out.push(HistoryJson { entry, contacts });
        }
        return print_json(&out);
    }
    if entries.is_empty() {
        outln!("No changes recorded that match.");
    }
    for e in &entries {
        let who = names.describe(e)?;
        let agent = if e.source.is_empty() || e.source == "cli" {
            safe(&e.actor).into_owned()
        } else {
            format!("{} ({})", safe(&e.actor), safe(&e.source))
        };
        outln!(
            "{:>6}  {}  {:<8} {}{}",
            e.seq,
            e.at.local_display(),
            agent,
            safe(&e.action),
            if who.is_empty() {
                String::new()
            } else {
                format!(" — {who}")
            }
        );
        let mut shown = 0;
        let mut total = 0;
        for change in &e.changes {
            let fields = change.readable_changes();
            total += fields.len();
            for (field, before, after) in fields {
                if shown == 12 {
                    continue;
                }
                shown += 1;
                let (b, a) = crate::store::audit::clip_change(&safe(&before), &safe(&after), 40);
                outln!("          {field}: {b} → {a}");
            }
        }
        if total > shown {
            outln!(
                "          …and {} more (`rolo history --json` has them all)",
                total - shown
            );
        }
    }
    Ok(())
}

fn demo(ctx: &Context, contacts: u64, seed: u64, into_nonempty: bool) -> Result<(), Failure> {
    let store = ctx.store(true, true)?;
    let existing = store.contact_count()?;
    if existing > 0 && !into_nonempty {
        return Err(Failure::new(
            exit::CONFLICT,
            format!(
                "{} already holds {existing} contact{}; demo data goes into an empty database \
                 (e.g. --db /tmp/demo.redb). To mix demo contacts into this one anyway, add \
                 --into-nonempty: they are tagged `{}`, and undo cannot take a demo load back",
                safe(&ctx.db_path.display().to_string()),
                if existing == 1 { "" } else { "s" },
                crate::store::DEMO_TAG
            ),
        ));
    }
    let started = Instant::now();
    let mut bar = super::progress::Bar::new("demo data", "contacts", Some(contacts));
    let loaded = crate::demo::load(&store, &ctx.actor, contacts, seed, |n| bar.set(n));
    store.announce();
    loaded?;
    bar.finish();
    super::progress::spin("compacting the database", || store.compact())?;
    outln!(
        "Added {contacts} demo contacts with their history in {:.1} s to {}",
        started.elapsed().as_secs_f64(),
        safe(&ctx.db_path.display().to_string())
    );
    Ok(())
}

/// `rolo doctor --salvage OUT`: runs in this process whatever serves the file (it only reads
/// the file, without redb and without locks, so a server holding it is no obstacle).
fn salvage(ctx: &Context, out: &std::path::Path, json: bool) -> Result<(), Failure> {
    if ctx.restricted || matches!(ctx.mode, Mode::InServer(..)) {
        return Err(Failure::new(
            exit::USAGE,
            "`rolo doctor --salvage` runs only on the machine that holds the file, as its owner",
        ));
    }
    let report = Store::salvage(&ctx.db_path, out, &ctx.actor)?;
    if json {
        print_json(&report)?;
    } else {
        let t = &report.copied;
        outln!("salvaged    {} → {}", report.source, report.dest);
        outln!(
            "read        the {} commit{}",
            report.commit,
            if report.opened_by_redb {
                " (redb can still open the file)"
            } else {
                ", without redb's repair (it cannot open the file)"
            }
        );
        outln!(
            "copied      {} contacts, {} timeline entries, {} deals, {} organisations, {} in the trash, {} audit entries",
            t.contacts,
            t.timeline_entries,
            t.deals,
            t.organizations,
            t.trash,
            t.audit_entries
        );
        let u = &report.unreadable;
        if u.total() > 0 {
            outln!(
                "unreadable  {} contacts, {} timeline entries, {} deals, {} organisations, {} in the trash, {} audit entries",
                u.contacts,
                u.timeline_entries,
                u.deals,
                u.organizations,
                u.trash,
                u.audit_entries
            );
        }
        if report.lost_contacts > 0 {
            let named: Vec<String> = report
                .lost_listed
                .iter()
                .map(|l| format!("#{} {}", l.id, safe(&l.name)))
                .collect();
            let more = report.lost_contacts.saturating_sub(named.len() as u64);
            outln!(
                "lost        {} contacts: {}{}",
                report.lost_contacts,
                named.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        if report.orphaned_entries > 0 {
            outln!(
                "lost        {} timeline entries of lost contacts",
                report.orphaned_entries
            );
        }
        if report.unlinked_deals > 0 {
            outln!(
                "unlinked    {} deals kept without their lost contact",
                report.unlinked_deals
            );
        }
        for line in &report.damage {
            outln!("damage      {}", safe(line));
        }
        for line in &report.refused {
            outln!("refused     {}", safe(line));
        }
        for line in &report.suspect {
            outln!("suspect     {}", safe(line));
        }
        outln!(
            "check       {}",
            if report.copy_clean {
                "the new file passes doctor"
            } else {
                "the new file has problems: run `rolo --db OUT doctor`"
            }
        );
        outln!(
            "next        look through it (`rolo --db {}`), then keep the damaged file aside and put the new one in its place",
            report.dest
        );
    }
    if report.is_complete() && report.copy_clean {
        Ok(())
    } else {
        Err(Failure::new(
            exit::UNHEALTHY,
            "the salvaged copy is missing what is listed above",
        ))
    }
}

fn doctor(ctx: &Context, json: bool) -> Result<(), Failure> {
    let report = ctx.store(false, false)?.doctor()?;
    if json {
        print_json(&report)?;
    } else {
        outln!("database    {}", safe(&ctx.db_path.display().to_string()));
        outln!("schema      {}", report.schema_version);
        outln!(
            "integrity   {}",
            match (
                report.integrity_ok,
                report.read_only,
                report.integrity_checked
            ) {
                (false, _, _) => "FAILED",
                (true, true, _) => "not checked (read-only file: records and indexes only)",
                (true, false, false) =>
                    "pages not checked while the server serves the file (every record was read; for redb's page check: `rolo server stop`, then `rolo doctor --no-server`)",
                (true, false, true) => "ok",
            }
        );
        outln!(
            "records     {} contacts, {} timeline entries, {} open follow-ups, {} audit entries",
            report.contacts,
            report.timeline_entries,
            report.open_follow_ups,
            report.audit_entries
        );
        if report.problems.is_empty() {
            outln!("indexes     ok");
        }
        for p in &report.problems {
            outln!("problem     {}", safe(p));
        }
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(Failure::new(
            exit::UNHEALTHY,
            "the database has problems (listed above)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_minor_units() {
        assert_eq!(parse_money("49.90").unwrap(), 4990);
        assert_eq!(parse_money("49,9").unwrap(), 4990);
        assert_eq!(parse_money("12").unwrap(), 1200);
        assert_eq!(parse_money("-0.05").unwrap(), -5);
        assert!(parse_money("1.234").is_err());
        assert!(parse_money("abc").is_err());
    }

    #[test]
    fn labels_are_optional() {
        assert_eq!(
            labelled("home:ana@x.org", "work"),
            Labelled::new("home", "ana@x.org")
        );
        assert_eq!(
            labelled("ana@x.org", "work"),
            Labelled::new("work", "ana@x.org")
        );
        assert_eq!(
            labelled("+1 (555) 123", "mobile"),
            Labelled::new("mobile", "+1 (555) 123")
        );
    }
}
