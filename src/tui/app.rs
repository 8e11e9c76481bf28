//! The event loop on a real terminal: reads crossterm events, feeds `update`, runs effects
//! (store calls inline; id loading, the dashboard and search on worker threads; the editor with
//! the terminal suspended) and redraws when something changed. Treats a terminal read error as
//! quit.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::api::{self, Db, PresenceMode};
use crate::domain::{At, Id};
use crate::tui::command::{Command, Context};
use crate::tui::effect::{Effect, run_store_effect};
use crate::tui::keymap::{Key, Keymap};
use crate::tui::msg::Msg;
use crate::tui::search_bridge::SearchBridge;
use crate::tui::state::State;
use crate::tui::terminal::TtyWait;
use crate::tui::theme::Theme;
use crate::tui::update::{on_key, update};
use crate::tui::view::{key_for, view};
use crate::tui::{TuiError, TuiOptions, terminal};

type Term = Terminal<CrosstermBackend<terminal::TtyOut>>;

/// How long the loop waits for input before looking at worker results again.
const POLL: Duration = Duration::from_millis(30);

struct App {
    state: State,
    store: Db,
    /// Pushed by the server (others' commits, presence, reconnects).
    events: Receiver<api::Event>,
    /// The presence last told to the server.
    presence: Option<(Id, PresenceMode)>,
    keymap: Keymap,
    theme: Theme,
    bridge: SearchBridge,
    results: Sender<Msg>,
    inbox: Receiver<Msg>,
    dirty: bool,
    /// crossterm may hold more parsed events than the tty has bytes: take them all first.
    draining: bool,
    dashboard: DashboardReads,
}

/// When the dashboard was read: it is computed on a worker thread (half a second at 1M
/// customers, too long to freeze the screen), and read again after others' commits at most
/// once per [`api::DASHBOARD_FRESH`].
#[derive(Default)]
struct DashboardReads {
    /// When the read in flight was asked for.
    asked: Option<Instant>,
    /// Set while a worker reads.
    busy: Arc<AtomicBool>,
    /// When the last read ended.
    done: Option<Instant>,
    /// When the last commit, resync or reconnection was pushed.
    last_change: Option<Instant>,
}

pub fn run(store: Db, options: TuiOptions) -> Result<(), TuiError> {
    terminal::check()?;
    let _guard = terminal::Guard::enter()?;
    let mut term = Terminal::new(CrosstermBackend::new(terminal::TtyOut::new()))?;
    let size = term.size()?;
    let (results, inbox) = mpsc::channel();
    let deliver = results.clone();
    let events = store.subscribe();
    let bridge = SearchBridge::spawn(store.clone(), move |msg| {
        let _ = deliver.send(msg);
    });
    let mut state = State::new(At::now(), TimeZone::system(), size.width, size.height);
    state.undo_keys =
        key_for(&options.keymap, &[Context::Global], Command::Undo).unwrap_or_default();
    // Who the server says we are (its word decides what "mine" means and what is recorded).
    state.agent = store.agent();
    state.conn = store.conn_id();
    state.restricted = options.restricted;
    state.help_keys = crate::tui::view::help::key_index(&options.keymap);
    state.db_path = store.db_path().unwrap_or_default();
    let mut app = App {
        state,
        store,
        events,
        presence: None,
        keymap: options.keymap,
        theme: options.theme,
        bridge,
        results,
        inbox,
        dirty: true,
        draining: false,
        dashboard: DashboardReads::default(),
    };
    app.run_effects(&mut term, vec![Effect::Start]);
    let result = app.event_loop(&mut term);
    let store = app.store.clone();
    drop(app);
    store.close();
    result
}

impl App {
    fn event_loop(&mut self, term: &mut Term) -> Result<(), TuiError> {
        loop {
            while let Ok(msg) = self.inbox.try_recv() {
                let effects = update(&mut self.state, msg);
                self.run_effects(term, effects);
                self.dirty = true;
            }
            while let Ok(event) = self.events.try_recv() {
                if let api::Event::Reconnected { .. } = event {
                    // A new connection: its own id (commits of ours are recognised by it), and
                    // the server has forgotten where we are, so say it again.
                    self.state.conn = self.store.conn_id();
                    self.presence = None;
                }
                if matches!(
                    event,
                    api::Event::Committed { .. }
                        | api::Event::Resync { .. }
                        | api::Event::Reconnected { .. }
                ) {
                    self.dashboard.last_change = Some(Instant::now());
                }
                let effects = update(&mut self.state, Msg::Remote(event));
                self.run_effects(term, effects);
                self.dirty = true;
            }
            self.tell_presence();
            self.refresh_dashboard(term);
            if self.state.quit || terminal::hung_up() {
                return Ok(());
            }
            if self.dirty {
                term.draw(|frame| view(frame, &self.state, &self.theme, &self.keymap))?;
                self.dirty = false;
            }
            // Wait on the tty ourselves (crossterm spins forever on a hung-up one, see
            // `terminal::wait_for_input`); once it has bytes, take every event crossterm has
            // parsed from them before waiting again.
            if !self.draining {
                match terminal::wait_for_input(POLL) {
                    TtyWait::Gone => return Ok(()),
                    TtyWait::Idle => continue,
                    TtyWait::Ready => {}
                }
            }
            if terminal::tty_gone() {
                return Ok(());
            }
            // A dead or closed terminal reads as an error: quit rather than spin.
            let ready = match event::poll(Duration::ZERO) {
                Ok(ready) => ready,
                Err(_) => return Ok(()),
            };
            self.draining = ready;
            if !ready {
                continue;
            }
            let event = match event::read() {
                Ok(event) => event,
                Err(_) => return Ok(()),
            };
            self.state.set_now(At::now());
            let effects = match event {
                Event::Key(k) if k.kind != KeyEventKind::Release => match Key::from_event(&k) {
                    Some(key) => on_key(&mut self.state, &self.keymap, key),
                    None => Vec::new(),
                },
                Event::Paste(text) => update(&mut self.state, Msg::Paste(text)),
                Event::Resize(width, height) => update(&mut self.state, Msg::Resize(width, height)),
                _ => continue,
            };
            self.dirty = true;
            self.run_effects(term, effects);
        }
    }

    /// Reads the dashboard on screen again when others committed since it was read, the last
    /// read ended [`api::DASHBOARD_FRESH`] ago and none is in flight. The server may answer
    /// with one computed up to that long before the ask, so a change pushed within that time
    /// before it leaves the dashboard stale, to be read once more.
    fn refresh_dashboard(&mut self, term: &mut Term) {
        let reads = &mut self.dashboard;
        if let Some(asked) = reads.asked
            && !reads.busy.load(Ordering::Acquire)
        {
            reads.asked = None;
            reads.done = Some(Instant::now());
            if reads
                .last_change
                .is_some_and(|t| t + api::DASHBOARD_FRESH > asked)
            {
                self.state.dashboard_stale = true;
            }
        }
        let due = reads.asked.is_none()
            && reads
                .done
                .is_none_or(|t| t.elapsed() >= api::DASHBOARD_FRESH);
        if self.state.dashboard_stale && due {
            let effects = update(&mut self.state, Msg::RefreshDashboard);
            self.run_effects(term, effects);
            self.dirty = true;
        }
    }

    /// Runs a store effect on a worker thread; its messages come back through the inbox,
    /// then `done` runs.
    fn in_background(&self, effect: Effect, done: impl FnOnce() + Send + 'static) {
        let store = self.store.clone();
        let results = self.results.clone();
        std::thread::spawn(move || {
            for msg in run_store_effect(&store, effect) {
                let _ = results.send(msg);
            }
            done();
        });
    }

    fn run_effects(&mut self, term: &mut Term, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let messages = match effect {
                Effect::Search { generation, query } => {
                    self.bridge.submit(generation, query);
                    continue;
                }
                // The server keeps the one search index current.
                Effect::IndexSearch | Effect::IndexContact(_) => continue,
                effect @ Effect::LoadDashboard(_) => {
                    let busy = Arc::clone(&self.dashboard.busy);
                    busy.store(true, Ordering::Release);
                    self.dashboard.asked = Some(Instant::now());
                    self.in_background(effect, move || busy.store(false, Ordering::Release));
                    continue;
                }
                effect @ Effect::LoadAllIds { .. } => {
                    self.in_background(effect, || {});
                    continue;
                }
                Effect::OpenEditor(_) | Effect::Suspend if self.state.restricted => {
                    vec![Msg::Refused {
                        message: crate::tui::strings::not_in_ssh_session(),
                        fields: Vec::new(),
                    }]
                }
                Effect::OpenEditor(initial) => vec![edit_in_editor(term, &initial)],
                Effect::Suspend => {
                    suspend(term);
                    Vec::new()
                }
                Effect::Redraw => {
                    repaint(term);
                    Vec::new()
                }
                Effect::CopyToClipboard(text) => {
                    copy_to_clipboard(&text);
                    Vec::new()
                }
                Effect::Replay(keys) => {
                    // One key at a time, each one's effects before the next key.
                    let mut keys = keys.into_iter();
                    if let Some(key) = keys.next() {
                        let mut next: VecDeque<Effect> =
                            on_key(&mut self.state, &self.keymap, key).into();
                        let rest: Vec<_> = keys.collect();
                        if !rest.is_empty() {
                            next.push_back(Effect::Replay(rest));
                        }
                        next.extend(queue.drain(..));
                        queue = next;
                    }
                    continue;
                }
                Effect::LoadDemo => {
                    // Say what is happening before the (short) wait.
                    let _ = term.draw(|frame| view(frame, &self.state, &self.theme, &self.keymap));
                    run_store_effect(&self.store, Effect::LoadDemo)
                }
                other => run_store_effect(&self.store, other),
            };
            for msg in messages {
                queue.extend(update(&mut self.state, msg));
            }
        }
    }
}

impl App {
    /// Tells the server which contact this interface is on and what it is doing with it, when
    /// that changed (fire and forget: presence never holds up typing).
    fn tell_presence(&mut self) {
        let now = crate::tui::update::presence(&self.state);
        if now == self.presence {
            return;
        }
        self.presence = now;
        let store = self.store.clone();
        std::thread::spawn(move || {
            let _ = match now {
                Some((id, mode)) => store.set_presence(Some(id), mode),
                None => store.set_presence(None, PresenceMode::Viewing),
            };
        });
    }
}

/// Hands the terminal to `$VISUAL`/`$EDITOR` (default `vi`) on a temporary file holding
/// `initial`, then takes it back; the file's text comes back as a message.
fn edit_in_editor(term: &mut Term, initial: &str) -> Msg {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_string());
    let path = std::env::temp_dir().join(format!(
        "rolo-note-{}-{}.md",
        std::process::id(),
        At::now().millis()
    ));
    if let Err(e) = write_private(&path, initial) {
        return Msg::EditorDone(Err(e.to_string()));
    }
    terminal::restore();
    // `exec`: the editor takes the shell's place, so a hang-up or termination reaches it.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec {editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .spawn()
        .and_then(wait_for_editor);
    let back = terminal::enter();
    repaint(term);
    let result = match (status, back) {
        (Ok(s), Ok(())) if s.success() => std::fs::read_to_string(&path).map_err(|e| e.to_string()),
        (Ok(s), Ok(())) => Err(s.to_string()),
        (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
    };
    let _ = std::fs::remove_file(&path);
    Msg::EditorDone(result)
}

/// Waits for the editor, unless rolo is told to stop meanwhile (SIGTERM, SIGHUP, the terminal
/// gone): then the editor is asked to stop too (SIGTERM, then SIGKILL a second later) instead of
/// being left orphaned on the tty, and the draft is removed by the caller.
fn wait_for_editor(mut child: std::process::Child) -> io::Result<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if terminal::hung_up() {
            if let Some(pid) = i32::try_from(child.id())
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            for _ in 0..20 {
                if let Some(status) = child.try_wait()? {
                    return Ok(status);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asks the terminal to put `text` on the clipboard (OSC 52). The text is base64-encoded, so
/// nothing in it can act as a control sequence.
fn copy_to_clipboard(text: &str) {
    use std::io::Write;
    let mut out = io::stdout();
    let _ = write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()));
    let _ = out.flush();
}

/// Standard base64 (RFC 4648) with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Call notes can be personal: the temporary file is new and readable by the owner only.
fn write_private(path: &std::path::Path, text: &str) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// Gives the shell back (job control) and retakes the screen on resume.
fn suspend(term: &mut Term) {
    terminal::restore();
    #[cfg(unix)]
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGTSTP);
    let _ = terminal::enter();
    repaint(term);
}

/// Clears the screen and forgets what ratatui believes is on it, so the next draw repaints
/// everything. (`Terminal::clear` would ask the terminal for the cursor position, which a slow
/// or minimal terminal may never answer.)
fn repaint(term: &mut Term) {
    use crossterm::terminal::{Clear, ClearType};
    let _ = crossterm::execute!(io::stdout(), Clear(ClearType::All));
    if let Ok(fresh) = Terminal::new(CrosstermBackend::new(terminal::TtyOut::new())) {
        *term = fresh;
    }
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
