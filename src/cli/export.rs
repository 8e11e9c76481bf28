//! `rolo export`: contacts out as vCard (3.0 / 4.0), CSV (formula-neutralised unless `--raw`)
//! or rolo's lossless JSON (with timelines and deals). Streams contact by contact through
//! [`Store::for_each_contact`]; the whole database is never held in memory. With `--out` the
//! file appears atomically (an exclusively created temp file with a random name in the same
//! directory, fsync, rename), so a failed export never leaves half a file where a good one was,
//! and it is owner-only (0600) like the database. A link to a file replaces the file (the link
//! stays); a terminal, `/dev/null` or a named pipe is written directly, never replaced; a
//! directory, a disk, a socket or a dangling link is refused before anything is written.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::output::safe;
use super::{Failure, exit};
use crate::domain::{Contact, Id};
use crate::interop::{CsvWriter, Format, JsonRecord, JsonWriter, VcardVersion, vcard};
use crate::store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// vcard, csv or json [default: json with --contact, else from --out's extension]
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// vCard version: 3.0 or 4.0
    #[arg(long = "version", value_name = "3.0|4.0", default_value = "3.0", value_parser = parse_version)]
    pub vcard_version: VcardVersion,
    /// Only contacts matching this search
    #[arg(long, value_name = "Q")]
    pub query: Option<String>,
    /// Everything held about one person (right of access): with JSON, also every audit entry
    /// about them (who changed what, when)
    #[arg(long, value_name = "CONTACT", conflicts_with = "query")]
    pub contact: Option<String>,
    /// Write here (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// CSV: write cells exactly as stored (no spreadsheet formula neutralisation)
    #[arg(long)]
    pub raw: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_version(s: &str) -> Result<VcardVersion, String> {
    s.parse()
}

/// Where `--out` points, decided before anything is written.
enum Destination {
    /// A regular file (or nothing yet): written to a temp file and renamed over it.
    Replace(PathBuf),
    /// A terminal, `/dev/null`, a named pipe: written to directly, never replaced.
    Direct,
}

/// Looks at `dest` without following a link at first: a link to a regular file is resolved
/// (the file it points to is replaced, the link stays a link), a character device or a FIFO
/// is written directly, and anything else (a directory, a block device, a socket, a dangling
/// link) is refused with a message saying what it is.
fn classify(dest: &Path) -> io::Result<Destination> {
    let refuse = |what: &str| {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}; rolo writes an export only to a file, a pipe or a terminal"),
        ))
    };
    let meta = match std::fs::symlink_metadata(dest) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Destination::Replace(dest.into()));
        }
        Err(e) => return Err(e),
    };
    let (target, meta) = if meta.file_type().is_symlink() {
        match std::fs::canonicalize(dest) {
            Ok(target) => {
                let meta = std::fs::metadata(&target)?;
                (target, meta)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return refuse("a symbolic link to nothing");
            }
            Err(e) => return Err(e),
        }
    } else {
        (dest.to_path_buf(), meta)
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(Destination::Replace(target));
    }
    if kind.is_dir() {
        return refuse("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() || kind.is_fifo() {
            return Ok(Destination::Direct);
        }
        if kind.is_block_device() {
            return refuse("a block device (a disk)");
        }
        if kind.is_socket() {
            return refuse("a socket");
        }
    }
    refuse("not a regular file")
}

/// Standard output, a special file written directly, or a temp file renamed over the
/// destination on [`Sink::finish`].
enum Sink {
    Stdout(BufWriter<io::Stdout>),
    Direct(BufWriter<File>),
    File {
        temp: PathBuf,
        dest: PathBuf,
        file: Option<BufWriter<File>>,
    },
}

impl Sink {
    fn open(out: Option<&Path>) -> io::Result<Sink> {
        let Some(dest) = out else {
            return Ok(Sink::Stdout(BufWriter::new(io::stdout())));
        };
        match classify(dest)? {
            Destination::Direct => {
                // No create, no truncate: `/dev/null` stays `/dev/null`, a FIFO stays a FIFO.
                let file = std::fs::OpenOptions::new().write(true).open(dest)?;
                Ok(Sink::Direct(BufWriter::with_capacity(1 << 16, file)))
            }
            Destination::Replace(dest) => {
                let (temp, file) = crate::store::create_private_temp(&dest)?;
                Ok(Sink::File {
                    temp,
                    dest,
                    file: Some(BufWriter::with_capacity(1 << 20, file)),
                })
            }
        }
    }

    fn finish(mut self) -> io::Result<()> {
        match &mut self {
            Sink::Stdout(w) => w.flush(),
            Sink::Direct(w) => w.flush(),
            Sink::File { temp, dest, file } => {
                if let Some(w) = file.take() {
                    let f = w.into_inner().map_err(io::IntoInnerError::into_error)?;
                    f.sync_all()?;
                }
                std::fs::rename(&*temp, &*dest)
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::Direct(w) => w.write(buf),
            Sink::File { file: Some(w), .. } => w.write(buf),
            Sink::File { file: None, .. } => Err(io::Error::other("export already finished")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::Direct(w) => w.flush(),
            Sink::File { file: Some(w), .. } => w.flush(),
            Sink::File { file: None, .. } => Ok(()),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Not finished: leave no temp file behind (after a rename this finds nothing).
        if let Sink::File { temp, .. } = self {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Organisation names by id, looked up once each.
struct Orgs<'s> {
    store: &'s Store,
    names: HashMap<Id, Option<String>>,
}

impl Orgs<'_> {
    fn name(&mut self, id: Option<Id>) -> Result<Option<String>, StoreError> {
        let Some(id) = id else { return Ok(None) };
        if let Some(n) = self.names.get(&id) {
            return Ok(n.clone());
        }
        let name = Some(self.store.organization_name(Some(id))?).filter(|n| !n.is_empty());
        self.names.insert(id, name.clone());
        Ok(name)
    }
}

/// One of the three writers, fed contact by contact (only one exists per export).
#[allow(clippy::large_enum_variant)]
enum Writer<'w> {
    Vcard(&'w mut Sink, VcardVersion),
    Csv(CsvWriter<&'w mut Sink>),
    Json(JsonWriter<&'w mut Sink>),
}

impl Writer<'_> {
    fn write(&mut self, store: &Store, orgs: &mut Orgs, c: &Contact) -> Result<(), Failure> {
        let org = orgs.name(c.organization)?;
        match self {
            Writer::Vcard(out, version) => vcard::write_card(out, c, org.as_deref(), *version)?,
            Writer::Csv(w) => w.write(c, org.as_deref())?,
            Writer::Json(w) => w.write(&JsonRecord {
                contact: c.clone(),
                organization: org,
                timeline: store.timeline(c.id, usize::MAX)?,
                deals: store.deals_for(c.id)?,
            })?,
        }
        Ok(())
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Writer::Vcard(..) => Ok(()),
            Writer::Csv(w) => w.finish().map(drop),
            Writer::Json(w) => w.finish().map(drop),
        }
    }
}

pub fn run(ctx: &super::commands::Context, args: ExportArgs) -> Result<(), Failure> {
    let from_extension = args
        .out
        .as_deref()
        .and_then(|p| Format::detect(Some(p), b""));
    let format = match (args.format, &args.contact, from_extension) {
        (Some(f), _, _) => f,
        (None, Some(_), _) => Format::Json,
        (None, None, Some(f)) => f,
        (None, None, None) => {
            return Err(Failure::new(
                exit::USAGE,
                "say which format: --format vcard, csv or json",
            ));
        }
    };
    let store = ctx.store(false, false)?;
    let db = store.db(ctx);
    // A chosen few are resolved before the output file is created.
    let chosen: Option<Vec<Contact>> = match (&args.contact, &args.query) {
        (Some(c), _) => Some(vec![super::commands::resolve(&db, c)?]),
        (None, Some(q)) => Some(super::lookup::find(&db, q, usize::MAX)?),
        (None, None) => None,
    };
    let chosen_id = chosen.as_ref().and_then(|list| list.first()).map(|c| c.id);
    let shown = |p: &Path| safe(&p.display().to_string()).into_owned();
    let io_failure = |e: io::Error| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Failure::from(e);
        }
        let place = args.out.as_deref().map_or("standard output".into(), shown);
        Failure::new(exit::ERROR, format!("cannot write {place}: {e}"))
    };
    let mut sink = Sink::open(args.out.as_deref()).map_err(io_failure)?;
    let mut orgs = Orgs {
        store: &store,
        names: HashMap::new(),
    };
    let mut count = 0u64;
    // Not over the exported text itself when that goes to the terminal.
    let total = match &chosen {
        Some(list) => list.len() as u64,
        None => store.contact_count()?,
    };
    let mut bar = super::progress::Bar::new(
        match &args.out {
            Some(out) => format!("export {}", shown(out)),
            None => "export".to_string(),
        },
        "contacts",
        Some(total),
    );
    if args.out.is_none() && io::stdout().is_terminal() {
        bar.finish();
    }
    {
        let mut writer = match format {
            Format::Vcard => Writer::Vcard(&mut sink, args.vcard_version),
            Format::Csv => Writer::Csv(CsvWriter::new(&mut sink, args.raw).map_err(io_failure)?),
            Format::Json => Writer::Json(JsonWriter::new(&mut sink).map_err(io_failure)?),
        };
        match chosen {
            Some(list) => {
                for c in &list {
                    writer.write(&store, &mut orgs, c)?;
                    count += 1;
                    bar.set(count);
                }
            }
            None => {
                let mut failed = None;
                store.for_each_contact(|c| match writer.write(&store, &mut orgs, &c) {
                    Ok(()) => {
                        count += 1;
                        if count % 64 == 0 {
                            bar.set(count);
                        }
                        true
                    }
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                })?;
                if let Some(e) = failed {
                    return Err(e);
                }
            }
        }
        // Right of access: the audit trail about the person goes with their record.
        let history = match (&writer, &args.contact, &chosen_id) {
            (Writer::Json(_), Some(_), Some(id)) => Some(store.audit_about(*id)?),
            _ => None,
        };
        match (writer, history) {
            (Writer::Json(w), Some(history)) => {
                w.finish_with("history", &history).map_err(io_failure)?;
            }
            (Writer::Json(w), None) if chosen_id.is_none() && args.query.is_none() => {
                write_database_tail(&store, w).map_err(|e| match e {
                    Tail::Io(e) => io_failure(e),
                    Tail::Store(e) => Failure::from(e),
                })?;
            }
            (writer, _) => writer.finish().map_err(io_failure)?,
        }
    }
    sink.finish().map_err(io_failure)?;
    bar.finish();
    if let Some(out) = &args.out {
        warnln!("Exported {count} contacts as {format} to {}", shown(out));
    }
    Ok(())
}

enum Tail {
    Io(io::Error),
    Store(StoreError),
}

impl From<io::Error> for Tail {
    fn from(e: io::Error) -> Self {
        Tail::Io(e)
    }
}

impl From<StoreError> for Tail {
    fn from(e: StoreError) -> Self {
        Tail::Store(e)
    }
}

/// A full JSON export carries, after the contacts, the rest of the database — the trash, the
/// organisations, the audit trail (streamed), which entries were undone and the id counters —
/// so a restore into an empty database gives back the same database and the same file.
fn write_database_tail(store: &Store, mut w: JsonWriter<&mut Sink>) -> Result<(), Tail> {
    w.next_array("trash")?;
    for bundle in store.trash()? {
        w.element(&bundle)?;
    }
    w.next_array("organizations")?;
    for org in store.organizations()? {
        w.element(&org)?;
    }
    w.next_array("audit")?;
    let mut failed = None;
    store.for_each_audit(|entry| match w.element(&entry) {
        Ok(()) => true,
        Err(e) => {
            failed = Some(e);
            false
        }
    })?;
    if let Some(e) = failed {
        return Err(Tail::Io(e));
    }
    w.next_array("undone")?;
    for pair in store.undone_pairs()? {
        w.element(&pair)?;
    }
    w.finish_with("counters", &store.counters()?)?;
    Ok(())
}
