//! The command line: clap definitions and the non-interactive subcommands. Each subcommand
//! parses its arguments into domain values, calls the store, and prints either safe human text
//! (every control character made visible) or stable JSON (`--json`, documented in the README).

/// `println!` for command output, inside a function returning `Result<_, Failure>`: a write
/// error returns early (`?`), so the store is dropped and closed cleanly. A closed pipe
/// (`rolo export | head`) becomes the quiet exit 141, like other Unix tools, instead of a panic.
macro_rules! outln {
    () => { $crate::cli::output::emit(format_args!("\n"))? };
    ($($arg:tt)*) => { $crate::cli::output::emit(format_args!("{}\n", format_args!($($arg)*)))? };
}

/// `print!` with the same error handling as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::emit(format_args!($($arg)*))? };
}

/// `eprintln!` that a job inside the server hands back to its client (see `output::capture`).
macro_rules! warnln {
    ($($arg:tt)*) => { $crate::cli::output::warn(format_args!($($arg)*)) };
}

mod bench;
mod commands;
mod dedupe;
mod export;
mod import;
mod keys;
mod lookup;
mod output;
pub mod progress;
mod purchases;
mod report;
mod restricted;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use commands::run;
pub(crate) use commands::run_job;

/// Documented exit codes (README, "Exit codes" — one table; `tests/cli.rs` triggers each).
pub mod exit {
    pub const OK: u8 = 0;
    /// Anything else: I/O, disk full (nothing was changed).
    pub const ERROR: u8 = 1;
    /// A bad command line (clap's own code).
    pub const USAGE: u8 = 2;
    /// The database is open in another rolo process.
    pub const LOCKED: u8 = 3;
    /// No such contact, follow-up or trash entry — or a CONTACT that does not name exactly one
    /// contact (the candidates are listed; nothing was changed).
    pub const NOT_FOUND: u8 = 4;
    /// Invalid input: a bad email, date, flag value, keymap or theme (name or file).
    pub const INVALID: u8 = 5;
    pub const CONFLICT: u8 = 6;
    pub const UNHEALTHY: u8 = 7;
    pub const PARTIAL: u8 = 8;
    pub const NEWER_SCHEMA: u8 = 9;
    /// No database at the `--db` path (a read never creates one).
    pub const NO_DATABASE: u8 = 10;
    /// The reader of our output went away (`rolo export | head`): 128 + SIGPIPE, no message.
    pub const BROKEN_PIPE: u8 = 141;
}

/// A failure as the user sees it: one message and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError as E;
        let code = match &e {
            E::Locked { .. } => exit::LOCKED,
            E::NewerSchema { .. } => exit::NEWER_SCHEMA,
            E::NoDatabase { .. } => exit::NO_DATABASE,
            E::NotFound(_) => exit::NOT_FOUND,
            E::Stale { .. } | E::Conflict(_) | E::NothingToUndo | E::NotUndoable(_) => {
                exit::CONFLICT
            }
            E::Invalid(_) => exit::INVALID,
            E::Corrupt(_) => exit::UNHEALTHY,
            _ => exit::ERROR,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<crate::domain::Invalid> for Failure {
    fn from(e: crate::domain::Invalid) -> Self {
        Failure::new(exit::INVALID, e.to_string())
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Self {
        Failure::new(exit::ERROR, e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::new(exit::BROKEN_PIPE, String::new());
        }
        Failure::new(exit::ERROR, e.to_string())
    }
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ServerWhat {
    /// Is a server running for this database: its pid, version, clients and socket
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Ask the server to finish and exit (clients reconnect to a new one on their next
    /// request)
    Stop,
}

#[derive(Debug, Parser)]
#[command(name = "rolo", version, about = "A keyboard-first CRM that lives in the terminal", long_about = None)]
pub struct Cli {
    /// Database file [default: ~/.local/share/rolo/rolo.redb]
    #[arg(long, global = true, env = "ROLO_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Act as this agent in the audit trail [default: the OS user]
    #[arg(long = "as", global = true, env = "ROLO_AS", value_name = "NAME")]
    pub actor: Option<String>,

    /// Open the database file in this process instead of going through the rolo server
    /// (maintenance and emergencies; fails while a server has the file; in the environment
    /// 1/0, yes/no, true/false, on/off)
    #[arg(
        long,
        global = true,
        env = "ROLO_NO_SERVER",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_server: bool,

    /// The team server's socket (see `rolo serve`) [default: a private server per database,
    /// started on demand]
    #[arg(long, global = true, env = "ROLO_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Keymap name or file (default, vim, emacs, or a path)
    #[arg(long, global = true, env = "ROLO_KEYMAP", value_name = "NAME")]
    pub keymap: Option<String>,

    /// Theme name (see `rolo themes`)
    #[arg(long, global = true, env = "ROLO_THEME", value_name = "NAME")]
    pub theme: Option<String>,

    /// When to use colour
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// No progress bars on stderr (they are only drawn on a terminal anyway)
    #[arg(long, global = true, env = "ROLO_QUIET")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a contact
    Add {
        #[command(flatten)]
        fields: ContactArgs,
        #[arg(long)]
        json: bool,
    },
    /// Change a contact (only the fields given)
    ///
    /// Emails and phones are edited like tags: `--email`/`--add-email` add one (the others
    /// stay), `--rm-email` removes one, `--set-email` replaces the whole list (`--set-email ""`
    /// empties it); the same for phones.
    Edit {
        /// Id, exact email, phone or full name (never a guess; see the README)
        contact: String,
        #[command(flatten)]
        fields: ContactArgs,
        /// Remove these tags
        #[arg(long, value_name = "TAG")]
        untag: Vec<String>,
        #[command(flatten)]
        lists: ListEdits,
        #[arg(long)]
        json: bool,
    },
    /// Log an interaction (call, email, meeting…) with a contact
    Log(LogArgs),
    /// Show a contact's profile and timeline
    Show {
        /// Id, exact email, phone or full name, or a search matching exactly one contact
        contact: String,
        /// Timeline entries to show
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Search contacts (same query language as the TUI: text, #tag, @org, city:, stage:, owner:, due:, rfm:, r:/f:/m:, orders>=, spent>, last_purchase>, palive<, bought:, month:)
    Search {
        query: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// List open follow-ups (the queue to work through), oldest first
    Followups {
        #[arg(long, value_enum, default_value_t = DueWindow::Week)]
        due: DueWindow,
        /// Only follow-ups assigned to this agent
        #[arg(long, value_name = "NAME", conflicts_with = "mine")]
        assignee: Option<String>,
        /// Only follow-ups assigned to you (the agent you act as)
        #[arg(long)]
        mine: bool,
        #[arg(long)]
        json: bool,
    },
    /// Mark a follow-up done (by its id, as shown by `rolo followups`)
    Done { id: u64 },
    /// Move an open follow-up to another day: +3d, +2w, tomorrow, fri, 2026-12-01
    Reschedule {
        /// The follow-up's id, as shown by `rolo followups`
        id: u64,
        when: String,
    },
    /// Record a purchase
    Purchase(PurchaseArgs),
    /// Move a contact to the trash
    Rm {
        /// Id, exact email, phone or full name (never a guess; see the README)
        contact: String,
    },
    /// Bring a contact back from the trash (id as shown by `rolo trash`)
    Restore { id: u64 },
    /// List the trash
    Trash {
        #[arg(long)]
        json: bool,
    },
    /// Undo your last action
    Undo,
    /// Show the audit trail (who changed what)
    History {
        /// Only what concerns this contact (and contacts merged into them)
        #[arg(long, value_name = "CONTACT")]
        contact: Option<String>,
        /// Only what this agent did (as recorded with --as / the OS user)
        #[arg(long, value_name = "NAME")]
        agent: Option<String>,
        /// Only from this day on: 2026-11-01, today, yesterday, 7d, 2w, 1m
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Fill the database with realistic demo data
    Demo {
        #[arg(long, default_value_t = 200)]
        contacts: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Load demo contacts even though the database already holds contacts (they are
        /// tagged `demo`; undo cannot take a demo load back)
        #[arg(long)]
        into_nonempty: bool,
    },
    /// Check the database: redb integrity plus index consistency
    Doctor {
        #[arg(long)]
        json: bool,
        /// Copy every record still readable in a damaged database into the new file OUT
        /// (every index rebuilt) and report what was lost; the damaged file is only read
        #[arg(long, value_name = "OUT")]
        salvage: Option<PathBuf>,
    },
    /// Write a consistent copy of the database to PATH
    Backup { path: PathBuf },
    /// Import contacts from a vCard, CSV or rolo JSON file (matching ones are merged)
    Import(import::ImportArgs),
    /// Export contacts as vCard, CSV or rolo's lossless JSON
    Export(export::ExportArgs),
    /// Analyse customers: rfm, clv (churn risk, lifetime value), profit, performance,
    /// satisfaction — tables, or stable JSON with --json (see the README, "Reports")
    Report(report::ReportArgs),
    /// Merge OTHER into KEEP: KEEP's values win, its empty fields are filled from OTHER, and
    /// emails, phones, addresses, tags, custom fields, notes and consent are combined. Every
    /// interaction, follow-up, purchase and deal of OTHER moves to KEEP; OTHER is removed.
    /// One audited action: `rolo undo` splits them again. (Field-by-field choice: press `m` in
    /// the TUI.)
    Merge {
        /// The contact that stays: id, exact email, phone or full name (never a guess)
        keep: String,
        /// The contact merged into KEEP and removed (same forms)
        other: String,
        /// Show the merged profile without writing anything
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// List likely duplicate contacts
    Dedupe {
        #[arg(long)]
        json: bool,
    },
    /// Show the effective keymap, or check a keymap file
    Keys(keys::KeysArgs),
    /// List the themes, or check a theme file
    Themes(keys::ThemesArgs),
    /// Print shell completions
    Completions { shell: clap_complete::Shell },
    /// Serve the database to every rolo process (started on demand with a private socket;
    /// run it yourself with --socket for a team, see the README)
    Serve {
        /// Exit after this many seconds without clients (0: never) [default: never, or 120 s
        /// when started on demand]
        #[arg(long, value_name = "SECS")]
        idle: Option<u64>,
        /// Started on demand by a client (private socket, idle exit)
        #[arg(long, hide = true)]
        auto: bool,
    },
    /// For an OpenSSH forced command (`command="rolo attach --agent NAME"` in
    /// authorized_keys): a restricted session as agent NAME — the TUI, or the one allow-listed
    /// command in SSH_ORIGINAL_COMMAND; no files, no $EDITOR, no suspend
    Attach {
        #[arg(long, value_name = "NAME")]
        agent: String,
    },
    /// The database's server: status, stop
    Server {
        #[command(subcommand)]
        what: ServerWhat,
    },
    /// Who is working in this database right now, and on which contact
    Who {
        #[arg(long)]
        json: bool,
    },
    /// Measurements for the performance targets (see the README)
    #[command(hide = true)]
    Bench(BenchArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DueWindow {
    Overdue,
    Today,
    Week,
    All,
}

#[derive(Debug, Args, Default)]
pub struct ContactArgs {
    /// Full name
    #[arg(long, short)]
    pub name: Option<String>,
    /// Email, optionally labelled: `work:ana@example.com` (repeatable)
    #[arg(long, short, value_name = "[LABEL:]EMAIL")]
    pub email: Vec<String>,
    /// Phone, optionally labelled: `mobile:+385 91 234 5678` (repeatable)
    #[arg(long, short, value_name = "[LABEL:]PHONE")]
    pub phone: Vec<String>,
    /// Organisation (found or created by name)
    #[arg(long, short)]
    pub org: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    /// City (of the first address)
    #[arg(long)]
    pub city: Option<String>,
    /// Tag (repeatable)
    #[arg(long, short)]
    pub tag: Vec<String>,
    /// lead, prospect, customer or former
    #[arg(long)]
    pub stage: Option<String>,
    #[arg(long)]
    pub tier: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub source: Option<String>,
    /// YYYY-MM-DD or --MM-DD
    #[arg(long)]
    pub birthday: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    /// Preferred channel: call, email, sms, chat…
    #[arg(long)]
    pub channel: Option<String>,
    /// Custom field `key=value` (typed: numbers, yes/no, dates) (repeatable)
    #[arg(long, value_name = "KEY=VALUE")]
    pub field: Vec<String>,
    /// Consent `channel=granted|denied|unknown[:purpose]` (repeatable)
    #[arg(long, value_name = "CHANNEL=STATUS[:PURPOSE]")]
    pub consent: Vec<String>,
    #[arg(long)]
    pub notes: Option<String>,
}

/// `rolo edit`'s explicit changes to the email and phone lists (`--email`/`--phone` add).
#[derive(Debug, Args, Default)]
pub struct ListEdits {
    /// Add an email, keeping the others (same as `--email`) (repeatable)
    #[arg(long, value_name = "[LABEL:]EMAIL")]
    pub add_email: Vec<String>,
    /// Remove an email (repeatable)
    #[arg(long, value_name = "EMAIL")]
    pub rm_email: Vec<String>,
    /// Replace all emails with these; `--set-email ""` removes them all (repeatable)
    #[arg(long, value_name = "[LABEL:]EMAIL", conflicts_with_all = ["email", "add_email", "rm_email"])]
    pub set_email: Vec<String>,
    /// Add a phone, keeping the others (same as `--phone`) (repeatable)
    #[arg(long, value_name = "[LABEL:]PHONE")]
    pub add_phone: Vec<String>,
    /// Remove a phone (matched by its digits) (repeatable)
    #[arg(long, value_name = "PHONE")]
    pub rm_phone: Vec<String>,
    /// Replace all phones with these; `--set-phone ""` removes them all (repeatable)
    #[arg(long, value_name = "[LABEL:]PHONE", conflicts_with_all = ["phone", "add_phone", "rm_phone"])]
    pub set_phone: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Id, exact email, phone or full name (never a guess; see the README)
    pub contact: String,
    #[arg(long, short, default_value = "call")]
    pub channel: String,
    #[arg(long, short)]
    pub summary: String,
    /// Full note; `-` reads it from standard input
    #[arg(long)]
    pub body: Option<String>,
    /// in or out
    #[arg(long, short, default_value = "in")]
    pub direction: String,
    /// open, resolved, escalated, no-answer
    #[arg(long)]
    pub outcome: Option<String>,
    /// 1 (unhappy) to 5 (delighted)
    #[arg(long)]
    pub satisfaction: Option<u8>,
    /// Create a follow-up: +3d, +2w, tomorrow, fri, 2026-12-01
    #[arg(long, short = 'f', value_name = "WHEN")]
    pub follow_up: Option<String>,
    /// What the follow-up is for [default: "Follow up: SUMMARY"]
    #[arg(long, value_name = "TEXT")]
    pub follow_up_what: Option<String>,
    /// This call answers open follow-up ID (as shown by `rolo followups`): close it with the log
    #[arg(long, value_name = "ID")]
    pub closes: Option<u64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PurchaseArgs {
    /// Id, exact email, phone or full name (never a guess; see the README)
    pub contact: String,
    #[arg(long)]
    pub product: String,
    #[arg(long, default_value_t = 1)]
    pub quantity: u32,
    /// Total charged, e.g. 49.90
    #[arg(long)]
    pub amount: String,
    /// What it cost you, e.g. 20.00
    #[arg(long, default_value = "0")]
    pub cost: String,
    #[arg(long, default_value = "EUR")]
    pub currency: String,
    /// Sales channel: web, store, phone…
    #[arg(long, default_value = "")]
    pub via: String,
    #[arg(long, default_value = "")]
    pub location: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Durable interaction logging latency next to a raw fdatasync on the same disk
    Log {
        #[arg(long, default_value_t = 500)]
        count: usize,
    },
    /// Commit interactions in a loop, printing each id once committed (crash-safety test)
    CommitLoop { contact: u64 },
    /// Write every stored row as text for benches/sqlite_size.py (size comparison)
    Dump {
        #[arg(long)]
        out: PathBuf,
    },
    /// Write COUNT generated contacts as vCards (input for timing `rolo import`)
    Vcards {
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Where the file's bytes go, table by table (redb's own accounting)
    Space,
    /// Team mode under load: N agents on one server typing searches and logging calls, next
    /// to the same work in one process (a fresh --db gets CONTACTS demo contacts first)
    Team {
        #[arg(long, default_value_t = 50)]
        agents: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 100_000)]
        contacts: u64,
    },
    /// Time demo generation and report the file size
    Demo {
        #[arg(long, default_value_t = 100_000)]
        contacts: u64,
    },
}
