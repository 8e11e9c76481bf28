//! The service on a Unix socket: bind (replacing only a dead socket), accept, a handshake
//! that names both versions, identity from the kernel's peer credentials, one reader and one
//! writer thread per client, idle exit for auto-started servers, clean close on SIGTERM.

use std::io::{BufReader, BufWriter};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Service;
use crate::api::frame::{Frame, kind};
use crate::api::{self, Caller, Event, Request, Source};
use crate::domain::Actor;
use crate::store::{Store, StoreError};

/// The first frame a client sends. Frozen: fields may be added, never changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub magic: String,
    pub protocol: u32,
    pub min_protocol: u32,
    pub version: String,
    /// The agent this client asks to act as (`--as`, or the forced command's `--agent`);
    /// honoured only from the server's own account.
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub source: Source,
    /// Started by an SSH forced command: no paths, no shell escapes.
    #[serde(default)]
    pub restricted: bool,
    /// Wants pushed events (the TUI), replayed from this audit sequence on.
    #[serde(default)]
    pub subscribe: bool,
    #[serde(default)]
    pub since: Option<u64>,
}

impl Hello {
    pub fn new(agent: Option<String>, source: Source) -> Hello {
        Hello {
            magic: "rolo".into(),
            protocol: api::PROTOCOL,
            min_protocol: api::MIN_PROTOCOL,
            version: env!("CARGO_PKG_VERSION").into(),
            agent,
            source,
            restricted: false,
            subscribe: false,
            since: None,
        }
    }
}

/// The server's answer to a good [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    pub version: String,
    /// Who the server says you are: every write is recorded under this name.
    pub agent: String,
    pub conn: u64,
    pub last_seq: u64,
    pub shared: bool,
    pub db: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub socket: PathBuf,
    /// A team socket: group-accessible, identities from peer credentials.
    pub shared: bool,
    /// Exit after this long without clients (auto-started servers).
    pub idle: Option<Duration>,
    pub auto: bool,
}

/// What goes out on one client's socket, in order.
enum Out {
    Frame(Frame),
    Event(Event),
}

/// Opens the database and serves it on `options.socket` until stopped (SIGTERM/SIGINT, idle
/// exit, or a shutdown request). Prints nothing once serving; errors before that are returned.
pub fn serve(db_path: &Path, options: &ServeOptions) -> Result<(), StoreError> {
    crate::memory::serving();
    let store = Store::open(db_path)?;
    let listener = bind(&options.socket, options.shared)?;
    // Non-blocking, and polled with a short tick: the loop notices a stop flag, an idle exit
    // and a socket file that went away without anyone having to connect to wake it.
    listener
        .set_nonblocking(true)
        .map_err(|e| StoreError::Open {
            path: options.socket.display().to_string(),
            reason: e.to_string(),
        })?;
    let service = Service::new(store, options.shared);
    service.auto.store(options.auto, Ordering::Relaxed);
    service.start_publisher();
    {
        // The search index is loaded once, here, while the first clients connect; then its
        // purchase columns (RFM values, P(alive): the list's segment column waits for them).
        let service = Arc::clone(&service);
        std::thread::spawn(move || {
            let _ = service.ensure_index();
            // The load's transient memory, not the index, would otherwise stay resident
            // while the purchase columns are read.
            crate::memory::release();
            let _ = service.ensure_customers();
            // The load's transient memory, not the index, would otherwise stay resident.
            crate::memory::release();
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    // A hang-up of the terminal that started it must not stop a server others use.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGHUP,
        Arc::new(AtomicBool::new(false)),
    );
    watchdog(&service, &stop, options);
    let uid = rustix::process::geteuid().as_raw();
    let mut listener = listener;
    let mut ours = socket_identity(&options.socket);
    // The database file this server holds. Removed, or replaced by another file (a backup
    // moved into place), the path no longer names what this server serves: writes would go to
    // a file nobody will open again. The server stops; its clients reconnect to a new one
    // that opens the file the path names now.
    let served = file_identity(db_path);
    let replaced = || served.is_some() && file_identity(db_path) != served;
    loop {
        if stop.load(Ordering::Relaxed) || service.stop.load(Ordering::Relaxed) {
            break;
        }
        if replaced() {
            eprintln!(
                "rolo serve: {} was removed or replaced; stopping so that clients open the file it names now",
                crate::domain::text::visible(&db_path.display().to_string(), false)
            );
            break;
        }
        if wait_readable(&listener, ACCEPT_TICK) {
            match listener.accept() {
                // Checked again for each new client: a command right after the swap must not
                // be served from the old file.
                Ok(_) if replaced() => continue,
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let service = Arc::clone(&service);
                    std::thread::spawn(move || client(&service, stream, uid));
                }
                Err(_) => continue,
            }
        }
        // The socket file removed or replaced under us (a tmp cleaner, a user's `rm`): no new
        // client can reach this server any more, and one that starts a new server would find
        // the database held by this one. An idle auto-started server has nothing left to do
        // and exits (releasing the file); otherwise the socket is bound anew.
        if socket_identity(&options.socket) != ours {
            if options.auto && service.clients.load(Ordering::Relaxed) == 0 {
                break;
            }
            if let Ok(fresh) = bind(&options.socket, options.shared) {
                let _ = fresh.set_nonblocking(true);
                listener = fresh;
                ours = socket_identity(&options.socket);
            }
        }
    }
    // Only remove the socket if it is still ours (a replacement server may have bound anew).
    if ours.is_some() && socket_identity(&options.socket) == ours {
        let _ = std::fs::remove_file(&options.socket);
    }
    drop(listener);
    // Give connection threads a moment to let go, so redb closes the file cleanly.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Arc::strong_count(&service) > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// How often the accept loop looks at its flags and its socket file when no one connects.
const ACCEPT_TICK: Duration = Duration::from_millis(100);

/// The (device, inode) of the file `path` names (through links), if there is one.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// The (device, inode) of the socket file at `path`, if it is a socket.
fn socket_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.file_type()
        .is_socket()
        .then(|| (meta.dev(), meta.ino()))
}

/// Waits up to `timeout` for a connection to accept on `listener`.
fn wait_readable(listener: &UnixListener, timeout: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let mut fds = [PollFd::new(listener, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(0),
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0)
}

/// Binds the socket: a live server there is "already served"; a dead socket is replaced;
/// anything that is not a socket is refused.
fn bind(path: &Path, shared: bool) -> Result<UnixListener, StoreError> {
    let shown = path.display().to_string();
    let refuse = |reason: String| StoreError::Open {
        path: shown.clone(),
        reason,
    };
    if let Some(dir) = path.parent() {
        crate::client::check_dir(dir, shared).map_err(refuse)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(refuse(
                    "a rolo server is already serving this socket".into(),
                ));
            }
            std::fs::remove_file(path)
                .map_err(|e| refuse(format!("cannot remove the dead socket: {e}")))?;
        }
        Ok(_) => {
            return Err(refuse(
                "exists and is not a socket; refusing to replace it".into(),
            ));
        }
        Err(_) => {}
    }
    let listener = UnixListener::bind(path).map_err(|e| refuse(e.to_string()))?;
    let mode = if shared { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| refuse(e.to_string()))?;
    Ok(listener)
}

/// Stops the accept loop on a signal, on a shutdown request, or (auto-started) after the idle
/// period without clients, by setting the flag the loop looks at every tick.
fn watchdog(service: &Arc<Service>, stop: &Arc<AtomicBool>, options: &ServeOptions) {
    let service = Arc::clone(service);
    let stop = Arc::clone(stop);
    let idle = options.idle;
    let file = service.store.path().to_path_buf();
    std::thread::spawn(move || {
        let mut idle_since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            if service.clients.load(Ordering::Relaxed) > 0 {
                idle_since = Instant::now();
            }
            // A database file removed (or moved away) under an idle server: nothing to serve.
            let gone = !file.exists() && service.clients.load(Ordering::Relaxed) == 0;
            let idle_over = gone || idle.is_some_and(|d| idle_since.elapsed() >= d);
            if idle_over || stop.load(Ordering::Relaxed) || service.stop.load(Ordering::Relaxed) {
                stop.store(true, Ordering::Relaxed);
                return;
            }
        }
    });
}

/// The account name of a uid, from the password database.
fn account_name(uid: u32) -> Option<String> {
    crate::domain::passwd_name_for(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

/// Who the peer is. The kernel says which account connected; only the server's own account
/// (or root) may name the agent it acts as — the OpenSSH forced command `--agent NAME`, or
/// `--as NAME` of a user on their own database. Anyone else is their account name, and asking
/// for another is refused.
pub fn identify(
    peer_uid: Option<u32>,
    server_uid: u32,
    hello: &Hello,
    conn: u64,
) -> Result<Caller, String> {
    let trusted = peer_uid.is_some_and(|uid| uid == server_uid || uid == 0);
    let own = peer_uid.and_then(account_name);
    let agent = if trusted {
        hello
            .agent
            .clone()
            .or(own)
            .unwrap_or_else(|| "unknown".into())
    } else {
        let Some(own) = own else {
            return Err("cannot tell which account this connection comes from".into());
        };
        if let Some(claim) = &hello.agent
            && Actor::new(claim).0 != Actor::new(&own).0
        {
            return Err(format!(
                "this is a shared rolo server: you are {own}, and cannot act as {} (`--as` only works on your own database)",
                crate::domain::text::visible(claim, false)
            ));
        }
        own
    };
    Ok(Caller {
        agent: Actor::new(&agent),
        source: if hello.restricted {
            Source::Ssh
        } else {
            hello.source
        },
        conn,
        trusted_paths: trusted && !hello.restricted,
        restricted: hello.restricted,
    })
}

fn peer_uid(stream: &UnixStream) -> Option<u32> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        rustix::net::sockopt::socket_peercred(stream)
            .ok()
            .map(|c| c.uid.as_raw())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = stream;
        None
    }
}

fn send(stream: &mut UnixStream, kind: u16, id: u32, payload: &impl Serialize) {
    if let Ok(bytes) = serde_json::to_vec(payload) {
        let _ = Frame::new(kind, id, bytes).write_to(stream);
    }
}

/// One client connection: handshake, then requests until it closes. Anything malformed
/// closes this connection only.
fn client(service: &Arc<Service>, mut stream: UnixStream, server_uid: u32) {
    if service.stop.load(Ordering::Relaxed) {
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let hello = match Frame::read_from(&mut stream) {
        Ok(Some(f)) if f.kind == kind::HELLO => serde_json::from_slice::<Hello>(&f.payload).ok(),
        _ => None,
    };
    let Some(hello) = hello.filter(|h| h.magic == "rolo") else {
        send(
            &mut stream,
            kind::REFUSED,
            0,
            &Refusal {
                reason: "not a rolo client".into(),
            },
        );
        return;
    };
    if hello.protocol < api::MIN_PROTOCOL || hello.min_protocol > api::PROTOCOL {
        let reason = format!(
            "protocol mismatch: this client (rolo {}) speaks {}–{}, the server (rolo {}) speaks {}–{}; restart the server with the same rolo (`rolo server stop`)",
            hello.version,
            hello.min_protocol,
            hello.protocol,
            env!("CARGO_PKG_VERSION"),
            api::MIN_PROTOCOL,
            api::PROTOCOL
        );
        send(&mut stream, kind::REFUSED, 0, &Refusal { reason });
        return;
    }
    let conn = service.connection();
    let caller = match identify(peer_uid(&stream), server_uid, &hello, conn) {
        Ok(c) => c,
        Err(reason) => {
            send(&mut stream, kind::REFUSED, 0, &Refusal { reason });
            return;
        }
    };
    let _ = stream.set_read_timeout(None);
    let (out, queue) = mpsc::sync_channel::<Out>(super::QUEUE);
    let events = hello.subscribe.then(|| service.subscribe(conn));
    let welcome = Welcome {
        protocol: api::PROTOCOL,
        version: env!("CARGO_PKG_VERSION").into(),
        agent: caller.agent.0.clone(),
        conn,
        last_seq: service.last_seq(),
        shared: service.shared,
        db: service.store.path().display().to_string(),
    };
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    service.clients.fetch_add(1, Ordering::Relaxed);
    let _ = out.send(Out::Frame(Frame::new(
        kind::WELCOME,
        0,
        serde_json::to_vec(&welcome).unwrap_or_default(),
    )));
    if let Some(since) = hello.since.filter(|s| *s < welcome.last_seq) {
        replay(service, &out, since);
    }
    let writer_thread = std::thread::spawn(move || write_loop(writer, &queue));
    let forwarder = events.map(|events| {
        let out = out.clone();
        std::thread::spawn(move || forward(&events, &out))
    });
    read_loop(service, &caller, stream, &out);
    service.disconnect(conn);
    service.clients.fetch_sub(1, Ordering::Relaxed);
    drop(out);
    if let Some(f) = forwarder {
        let _ = f.join();
    }
    let _ = writer_thread.join();
}

/// Commits a reconnecting client missed, from the audit trail.
fn replay(service: &Service, out: &SyncSender<Out>, since: u64) {
    match service.store.audit_after(since, 201) {
        Ok(entries) if entries.len() <= 200 => {
            for e in &entries {
                let _ = out.try_send(Out::Event(service.committed(e)));
            }
        }
        _ => {
            let _ = out.try_send(Out::Event(Event::Resync {
                seq: service.last_seq(),
            }));
        }
    }
}

/// Moves events from the service's bounded queue to the socket's. A full socket queue (a
/// client that stopped reading) drops events and sends one `Resync` when there is room again.
fn forward(events: &Receiver<Event>, out: &SyncSender<Out>) {
    let mut lagging = false;
    while let Ok(event) = events.recv() {
        if lagging {
            let seq = match &event {
                Event::Committed { seq, .. } => *seq,
                _ => 0,
            };
            if out.try_send(Out::Event(Event::Resync { seq })).is_ok() {
                lagging = false;
            }
            continue;
        }
        match out.try_send(Out::Event(event)) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => lagging = true,
            Err(mpsc::TrySendError::Disconnected(_)) => return,
        }
    }
}

fn write_loop(stream: UnixStream, queue: &Receiver<Out>) {
    use std::io::Write;
    // A client that stops reading for this long is cut off (its queue is full by then).
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let mut w = BufWriter::new(stream);
    while let Ok(item) = queue.recv() {
        let frame = match item {
            Out::Frame(f) => f,
            Out::Event(e) => match serde_json::to_vec(&e) {
                Ok(bytes) => Frame::new(kind::EVENT, 0, bytes),
                Err(_) => continue,
            },
        };
        let Ok(bytes) = frame.encode() else { continue };
        if w.write_all(&bytes).is_err() {
            break;
        }
        // Flush when nothing else is waiting, so bursts go out in one write.
        if let Ok(next) = queue.try_recv() {
            let frame = match next {
                Out::Frame(f) => Some(f),
                Out::Event(e) => serde_json::to_vec(&e)
                    .ok()
                    .map(|b| Frame::new(kind::EVENT, 0, b)),
            };
            if let Some(bytes) = frame.and_then(|f| f.encode().ok())
                && w.write_all(&bytes).is_err()
            {
                break;
            }
        }
        if w.flush().is_err() {
            break;
        }
    }
    if let Ok(s) = w.into_inner() {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
}

fn read_loop(service: &Arc<Service>, caller: &Caller, stream: UnixStream, out: &SyncSender<Out>) {
    let mut r = BufReader::new(stream);
    loop {
        let frame = match Frame::read_from(&mut r) {
            Ok(Some(f)) => f,
            // End of stream, or a malformed / oversized frame: this connection only.
            Ok(None) | Err(_) => return,
        };
        let request = match Request::decode(frame.kind, &frame.payload) {
            Ok(Some(r)) => r,
            Ok(None) => {
                let _ = out.send(Out::Frame(Frame::new(
                    kind::UNSUPPORTED,
                    frame.id,
                    serde_json::to_vec(&serde_json::json!({ "kind": frame.kind }))
                        .unwrap_or_default(),
                )));
                continue;
            }
            Err(e) => {
                let error =
                    StoreError::Protocol(format!("request {} does not decode: {e}", frame.kind));
                let _ = out.send(Out::Frame(Frame::new(
                    kind::ERROR,
                    frame.id,
                    serde_json::to_vec(&error).unwrap_or_default(),
                )));
                continue;
            }
        };
        let quick = matches!(request, Request::SetPresence(_));
        let service = Arc::clone(service);
        let caller = caller.clone();
        let out = out.clone();
        let id = frame.id;
        let answer = move || {
            let frame = match service.handle(&caller, request) {
                Ok(response) => match response.encode() {
                    Ok(bytes) => Frame::new(kind::REPLY, id, bytes),
                    Err(e) => Frame::new(
                        kind::ERROR,
                        id,
                        serde_json::to_vec(&StoreError::Protocol(e.to_string()))
                            .unwrap_or_default(),
                    ),
                },
                Err(e) => Frame::new(kind::ERROR, id, serde_json::to_vec(&e).unwrap_or_default()),
            };
            let _ = out.send(Out::Frame(frame));
        };
        if quick {
            answer();
        } else {
            // Requests of one client run side by side (a long search never holds up a log).
            std::thread::spawn(answer);
        }
    }
}
