//! The client side of team mode: where the socket of a database lives, connect-or-start
//! (race-free: a lock, a second look, then one server), the handshake, request/answer
//! matching by id so every thread of a client can call at once, pushed events, and
//! reconnecting with catch-up from the last audit sequence seen.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::frame::{Frame, kind};
use crate::api::{Access, Event, Request, Response};
use crate::server::lock;
use crate::server::socket::{Hello, Refusal, Welcome};
use crate::store::StoreError;

/// How long a client waits for a server it started to answer.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Which server to talk to, and whether this client may start it.
#[derive(Clone, Debug)]
pub struct Target {
    pub db: PathBuf,
    pub socket: PathBuf,
    /// Start a private server when none answers (not for an explicit team socket).
    pub spawn: bool,
    /// Seconds an auto-started server waits without clients before it exits.
    pub idle: u64,
}

impl Target {
    /// The private socket for `db` (see [`socket_for`]), started on demand.
    pub fn private(db: &Path) -> Result<Target, String> {
        Ok(Target {
            db: db.to_path_buf(),
            socket: socket_for(db)?,
            spawn: true,
            idle: std::env::var("ROLO_SERVER_IDLE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(120),
        })
    }

    /// An explicit (team) socket: never started by a client.
    pub fn shared(db: &Path, socket: &Path) -> Target {
        Target {
            db: db.to_path_buf(),
            socket: socket.to_path_buf(),
            spawn: false,
            idle: 0,
        }
    }
}

/// 64-bit FNV-1a: stable across Rust releases and builds (std's hasher is not promised to be).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The per-user directory for sockets: `$XDG_RUNTIME_DIR/rolo` when that directory is ours,
/// else `$TMPDIR/rolo-<uid>` (or `/tmp/rolo-<uid>`).
pub fn runtime_dir() -> PathBuf {
    let uid = rustix::process::geteuid().as_raw();
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from)
        && dir.is_absolute()
        && std::fs::metadata(&dir).is_ok_and(|m| m.uid() == uid)
    {
        return dir.join("rolo");
    }
    let tmp = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    tmp.join(format!("rolo-{uid}"))
}

/// The private socket of a database: one per canonical file path, in [`runtime_dir`].
pub fn socket_for(db: &Path) -> Result<PathBuf, String> {
    let canonical = canonical(db);
    let dir = runtime_dir();
    create_private_dir(&dir)?;
    let path = dir.join(format!(
        "{:016x}.sock",
        fnv1a(canonical.as_os_str().as_encoded_bytes())
    ));
    // sun_path holds 108 bytes on Linux (104 on macOS).
    if path.as_os_str().len() >= 104 {
        return Err(format!(
            "the socket path {} is too long for a Unix socket; set XDG_RUNTIME_DIR or TMPDIR to a shorter directory",
            path.display()
        ));
    }
    Ok(path)
}

/// The absolute path of a database file that may not exist yet.
pub fn canonical(db: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(db) {
        return p;
    }
    let absolute = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(absolute.clone()),
        _ => absolute,
    }
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .recursive(true)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    check_dir(dir, false)
}

/// A socket directory must be ours (or root's, for a team socket) and never writable by
/// others; a private one must not be open to group or others at all.
pub fn check_dir(dir: &Path, shared: bool) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| format!("cannot use the socket directory {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let uid = rustix::process::geteuid().as_raw();
    let mode = meta.permissions().mode();
    let unsafe_bits = if shared { 0o002 } else { 0o077 };
    let owner_ok = meta.uid() == uid || (shared && meta.uid() == 0);
    if !owner_ok || mode & unsafe_bits != 0 {
        return Err(format!(
            "the socket directory {} has unsafe permissions (owner uid {}, mode {:o}); it must be yours and {}",
            dir.display(),
            meta.uid(),
            mode & 0o7777,
            if shared {
                "not writable by others"
            } else {
                "closed to group and others (chmod 700)"
            }
        ));
    }
    Ok(())
}

/// One live socket to the server.
struct Link {
    writer: Mutex<UnixStream>,
    pending: Mutex<HashMap<u32, Sender<Frame>>>,
    next: AtomicU32,
    broken: AtomicBool,
    welcome: Welcome,
}

/// A client's connection to a server: survives the server's restart (reconnects, catches up).
pub struct Connection {
    target: Target,
    hello: Mutex<Hello>,
    link: Mutex<Option<Arc<Link>>>,
    events: Mutex<Option<SyncSender<Event>>>,
    last_seq: AtomicU64,
    reconnecting: AtomicBool,
    closed: AtomicBool,
}

enum Failed {
    /// The link broke before the request was sent: safe to send again.
    BeforeSending,
    /// It broke after: a write may or may not have committed.
    AfterSending,
}

impl Connection {
    /// Connects (starting a private server if the target allows it) and shakes hands.
    pub fn open(target: Target, hello: Hello) -> Result<Arc<Connection>, StoreError> {
        let conn = Arc::new(Connection {
            target,
            hello: Mutex::new(hello),
            link: Mutex::new(None),
            events: Mutex::new(None),
            last_seq: AtomicU64::new(0),
            reconnecting: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        });
        conn.link()?;
        Ok(conn)
    }

    pub fn agent(&self) -> String {
        lock(&self.link)
            .as_ref()
            .map(|l| l.welcome.agent.clone())
            .unwrap_or_default()
    }

    pub fn conn_id(&self) -> u64 {
        lock(&self.link).as_ref().map_or(0, |l| l.welcome.conn)
    }

    /// Pushed events from now on. The queue is bounded: a consumer that stops reading misses
    /// events and gets one `Resync` instead.
    pub fn subscribe(self: &Arc<Self>) -> Receiver<Event> {
        let (tx, rx) = mpsc::sync_channel(crate::server::QUEUE);
        *lock(&self.events) = Some(tx);
        rx
    }

    fn emit(&self, event: Event) {
        if let Some(tx) = lock(&self.events).as_ref() {
            let _ = tx.try_send(event);
        }
    }

    /// The live link, connecting (and starting the server) if there is none. A subscribed
    /// client (the interface) reconnects in the background only: its other callers get
    /// "reconnecting" at once instead of waiting behind the restart, so the interface keeps
    /// drawing (and shows "Reconnecting…") however long that takes — a server that was killed
    /// repairs the file before it answers.
    fn link(self: &Arc<Self>) -> Result<Arc<Link>, StoreError> {
        if !self.reconnecting.load(Ordering::Relaxed) {
            let guard = lock(&self.link);
            match guard.as_ref() {
                Some(link) if !link.broken.load(Ordering::Relaxed) => return Ok(Arc::clone(link)),
                Some(_) if lock(&self.events).is_some() => {}
                _ => {
                    drop(guard);
                    return self.connect_link();
                }
            }
            drop(guard);
            self.on_broken();
        } else if let Ok(guard) = self.link.try_lock()
            && let Some(link) = guard.as_ref()
            && !link.broken.load(Ordering::Relaxed)
        {
            return Ok(Arc::clone(link));
        }
        Err(StoreError::Unavailable(
            "reconnecting to the rolo server; try again in a moment".into(),
        ))
    }

    fn connect_link(self: &Arc<Self>) -> Result<Arc<Link>, StoreError> {
        let mut guard = lock(&self.link);
        if let Some(link) = guard.as_ref()
            && !link.broken.load(Ordering::Relaxed)
        {
            return Ok(Arc::clone(link));
        }
        let mut hello = lock(&self.hello).clone();
        let seen = self.last_seq.load(Ordering::Relaxed);
        if seen > 0 {
            hello.since = Some(seen);
        }
        let (stream, welcome) = connect(&self.target, &hello)?;
        if seen == 0 {
            self.last_seq.store(welcome.last_seq, Ordering::Relaxed);
        }
        let reader = stream
            .try_clone()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let link = Arc::new(Link {
            writer: Mutex::new(stream),
            pending: Mutex::new(HashMap::new()),
            next: AtomicU32::new(1),
            broken: AtomicBool::new(false),
            welcome,
        });
        let weak = Arc::downgrade(self);
        let for_reader = Arc::clone(&link);
        std::thread::spawn(move || read_loop(&weak, &for_reader, reader));
        *guard = Some(Arc::clone(&link));
        Ok(link)
    }

    /// Sends one request and waits for its answer. Reads are retried once over a new link
    /// if the server went away; a write that was sent is never sent twice.
    pub fn call(self: &Arc<Self>, request: Request) -> Result<Response, StoreError> {
        let payload = request
            .encode()
            .map_err(|e| StoreError::Protocol(e.to_string()))?;
        let is_write = request.access() == Access::Write;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let link = self.link()?;
            match exchange(&link, request.kind(), &payload) {
                Ok(frame) => return answer(&link, &request, &frame),
                Err(Failed::AfterSending) if is_write => {
                    return Err(StoreError::Unavailable(
                        "the server stopped before it answered; this change may not have been saved (look at the timeline before doing it again)".into(),
                    ));
                }
                Err(_) if attempts < 3 => continue,
                Err(_) => {
                    return Err(StoreError::Unavailable(
                        "the connection to the server keeps breaking".into(),
                    ));
                }
            }
        }
    }

    /// Stops reconnecting (the client is quitting).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(link) = lock(&self.link).take() {
            link.broken.store(true, Ordering::Relaxed);
            let _ = lock(&link.writer).shutdown(std::net::Shutdown::Both);
        }
    }

    /// The link broke: tell the subscriber, and (if subscribed) reconnect in the background
    /// so live updates resume without a key press.
    fn on_broken(self: &Arc<Self>) {
        if self.closed.load(Ordering::Relaxed) || lock(&self.events).is_none() {
            return;
        }
        if self.reconnecting.swap(true, Ordering::Relaxed) {
            return;
        }
        self.emit(Event::Reconnecting);
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            let mut wait = Duration::from_millis(50);
            while !me.closed.load(Ordering::Relaxed) {
                std::thread::sleep(wait);
                if me.connect_link().is_ok() {
                    // Callers may use the link again before they hear it is back.
                    me.reconnecting.store(false, Ordering::Relaxed);
                    me.emit(Event::Reconnected {
                        seq: me.last_seq.load(Ordering::Relaxed),
                    });
                    break;
                }
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            me.reconnecting.store(false, Ordering::Relaxed);
        });
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Relaxed);
    }
}

fn exchange(link: &Link, kind: u16, payload: &[u8]) -> Result<Frame, Failed> {
    let id = link.next.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel();
    lock(&link.pending).insert(id, tx);
    let frame = Frame::new(kind, id, payload.to_vec());
    let sent = {
        let mut w = lock(&link.writer);
        frame.write_to(&mut *w)
    };
    if sent.is_err() {
        lock(&link.pending).remove(&id);
        link.broken.store(true, Ordering::Relaxed);
        return Err(Failed::BeforeSending);
    }
    rx.recv().map_err(|_| Failed::AfterSending)
}

fn answer(link: &Link, request: &Request, frame: &Frame) -> Result<Response, StoreError> {
    match frame.kind {
        kind::REPLY => match Response::decode(request.kind(), &frame.payload) {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(StoreError::Protocol(format!(
                "no answer type for {}",
                request.name()
            ))),
            Err(e) => Err(StoreError::Protocol(format!(
                "the answer to {} does not decode: {e}",
                request.name()
            ))),
        },
        kind::ERROR => Err(
            serde_json::from_slice::<StoreError>(&frame.payload).unwrap_or_else(|e| {
                StoreError::Protocol(format!("an error that does not decode: {e}"))
            }),
        ),
        kind::UNSUPPORTED => Err(StoreError::Protocol(format!(
            "the running server (rolo {}) does not know `{}`; it is older than this client — stop it (`rolo server stop`) and the next command starts the new one",
            link.welcome.version,
            request.name()
        ))),
        other => Err(StoreError::Protocol(format!(
            "unexpected frame kind {other:#x}"
        ))),
    }
}

fn read_loop(conn: &std::sync::Weak<Connection>, link: &Arc<Link>, stream: UnixStream) {
    let mut r = BufReader::new(stream);
    while let Ok(Some(frame)) = Frame::read_from(&mut r) {
        if frame.kind == kind::EVENT {
            let Some(conn) = conn.upgrade() else { break };
            if let Ok(event) = serde_json::from_slice::<Event>(&frame.payload) {
                if let Event::Committed { seq, .. } | Event::Resync { seq } = &event {
                    conn.last_seq.fetch_max(*seq, Ordering::Relaxed);
                }
                conn.emit(event);
            }
            continue;
        }
        if let Some(waiting) = lock(&link.pending).remove(&frame.id) {
            let _ = waiting.send(frame);
        }
    }
    link.broken.store(true, Ordering::Relaxed);
    lock(&link.pending).clear();
    if let Some(conn) = conn.upgrade() {
        conn.on_broken();
    }
}

/// Connects to the target's socket and shakes hands; a private target's server is started
/// when none answers.
fn connect(target: &Target, hello: &Hello) -> Result<(UnixStream, Welcome), StoreError> {
    match connect_once(target, hello) {
        // A server that closes a new connection unanswered is stopping (its database file was
        // replaced, or it was asked to): once it is gone, start or reach the next one.
        Err(StoreError::Unavailable(why))
            if target.spawn && why.contains("closed the connection") =>
        {
            let deadline = Instant::now() + Duration::from_secs(5);
            while UnixStream::connect(&target.socket).is_ok() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            connect_once(target, hello)
        }
        other => other,
    }
}

fn connect_once(target: &Target, hello: &Hello) -> Result<(UnixStream, Welcome), StoreError> {
    let stream = match UnixStream::connect(&target.socket) {
        Ok(s) => s,
        Err(e) if target.spawn && is_absent(&e) => start_server(target)?,
        Err(e) => {
            return Err(StoreError::Unavailable(format!(
                "no rolo server answers at {}: {e}{}",
                target.socket.display(),
                if target.spawn {
                    ""
                } else {
                    " (is `rolo serve` running there?)"
                }
            )));
        }
    };
    handshake(stream, hello)
}

fn is_absent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
    )
}

fn handshake(mut stream: UnixStream, hello: &Hello) -> Result<(UnixStream, Welcome), StoreError> {
    let unavailable = |e: std::io::Error| {
        use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
        if matches!(e.kind(), BrokenPipe | ConnectionReset | UnexpectedEof) {
            StoreError::Unavailable(format!("the server closed the connection ({e})"))
        } else {
            StoreError::Unavailable(e.to_string())
        }
    };
    let payload = serde_json::to_vec(hello).map_err(|e| StoreError::Protocol(e.to_string()))?;
    Frame::new(kind::HELLO, 0, payload)
        .write_to(&mut stream)
        .map_err(unavailable)?;
    stream
        .set_read_timeout(Some(START_TIMEOUT))
        .map_err(unavailable)?;
    let frame = Frame::read_from(&mut stream)
        .map_err(unavailable)?
        .ok_or_else(|| StoreError::Unavailable("the server closed the connection".into()))?;
    stream.set_read_timeout(None).map_err(unavailable)?;
    match frame.kind {
        kind::WELCOME => {
            let welcome: Welcome = serde_json::from_slice(&frame.payload).map_err(|e| {
                StoreError::Protocol(format!("a welcome that does not decode: {e}"))
            })?;
            Ok((stream, welcome))
        }
        kind::REFUSED => {
            let refusal: Refusal = serde_json::from_slice(&frame.payload).unwrap_or(Refusal {
                reason: "refused".into(),
            });
            Err(StoreError::Refused(refusal.reason))
        }
        other => Err(StoreError::Protocol(format!(
            "the server answered the handshake with frame kind {other:#x}"
        ))),
    }
}

/// Starts a private server (tmux's way): take the start lock, look again (another client may
/// have just started one), remove a dead socket, spawn `rolo serve --auto`, wait until it
/// accepts. Two clients starting at once end with one server.
fn start_server(target: &Target) -> Result<UnixStream, StoreError> {
    let fail = |what: String| StoreError::Unavailable(what);
    let lock_path = target.socket.with_extension("lock");
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| fail(format!("cannot open {}: {e}", lock_path.display())))?;
    rustix::fs::flock(&lock_file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| fail(format!("cannot lock {}: {e}", lock_path.display())))?;
    if let Ok(s) = UnixStream::connect(&target.socket) {
        return Ok(s);
    }
    if let Ok(meta) = std::fs::symlink_metadata(&target.socket)
        && meta.file_type().is_socket()
    {
        let _ = std::fs::remove_file(&target.socket);
    }
    let log_path = target.socket.with_extension("log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|e| fail(format!("cannot open {}: {e}", log_path.display())))?;
    let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find rolo itself: {e}")))?;
    let mut child = std::process::Command::new(exe)
        .arg("--db")
        .arg(&target.db)
        .arg("serve")
        .arg("--auto")
        .arg("--socket")
        .arg(&target.socket)
        .arg("--idle")
        .arg(target.idle.to_string())
        .env_remove("ROLO_AS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| fail(format!("cannot start the rolo server: {e}")))?;
    let started = Instant::now();
    loop {
        if let Ok(s) = UnixStream::connect(&target.socket) {
            // The child is a daemon from here on; reap it in the background if it exits.
            std::thread::spawn(move || child.wait());
            return Ok(s);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut text = String::new();
            let _ = std::fs::File::open(&log_path).and_then(|mut f| f.read_to_string(&mut text));
            let text = text.trim();
            // A server that could not open the file says why (locked, newer schema, …) in a
            // JSON line, followed by the same in words.
            let said = text
                .lines()
                .rev()
                .find_map(|line| serde_json::from_str::<StoreError>(line).ok());
            return Err(match said {
                Some(e) => e,
                None => fail(format!(
                    "the rolo server did not start ({status}){}",
                    if text.is_empty() {
                        String::new()
                    } else {
                        format!(": {text}")
                    }
                )),
            });
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(fail(format!(
                "the rolo server did not answer within {} s (its log: {})",
                START_TIMEOUT.as_secs(),
                log_path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_names_are_stable_and_differ_per_file() {
        assert_eq!(fnv1a(b"/a/b.redb"), fnv1a(b"/a/b.redb"));
        assert_ne!(fnv1a(b"/a/b.redb"), fnv1a(b"/a/c.redb"));
        // FNV-1a's published test vector: the hash must never change between builds.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_private_dir_open_to_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("s");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(
            check_dir(&d, false)
                .unwrap_err()
                .contains("unsafe permissions")
        );
        assert!(check_dir(&d, true).is_ok());
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check_dir(&d, true).is_err());
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_dir(&d, false).is_ok());
    }
}
