//! The terminal guard: raw mode, alternate screen and bracketed paste on the way in; all of it
//! undone on the way out — on return, on panic (the hook restores first, then reports) and on
//! SIGHUP/SIGTERM/SIGQUIT/SIGINT. A signal first asks the event loop to stop ([`hung_up`]) so the
//! database is closed cleanly — an unclean close makes the next open walk the whole file to
//! repair it (47 s for a 1.5 GB database here). If the main thread is stuck on a dead tty, the
//! signal thread restores and exits by itself after a grace period.
//! `ratatui::restore` does not disable bracketed paste, so this does.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, LazyLock, mpsc};
use std::time::Duration;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use crate::tui::TuiError;

/// Refuses a non-terminal stdout or `TERM=dumb`.
pub fn check() -> Result<(), TuiError> {
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if dumb || !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    Ok(())
}

/// Puts the terminal into full-screen mode.
pub fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, EnableBracketedPaste, Hide)?;
    out.flush()
}

/// Undoes [`enter`]; safe to call more than once and on a dead terminal.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen, Show);
    let _ = out.flush();
    let _ = disable_raw_mode();
}

/// Standard output for drawing. Once the terminal has hung up, writes succeed without going
/// anywhere: nothing can be shown any more, and an error would only turn the clean shutdown
/// into a failure (ratatui reports a failed "show cursor" on its way out with `eprintln!`,
/// which panics when stderr is the same dead tty).
pub struct TtyOut(io::Stdout);

impl TtyOut {
    pub fn new() -> TtyOut {
        TtyOut(io::stdout())
    }
}

impl Default for TtyOut {
    fn default() -> Self {
        TtyOut::new()
    }
}

impl Write for TtyOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.write(buf) {
            Err(_) if hung_up() => Ok(buf.len()),
            other => other,
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.0.flush() {
            Err(_) if hung_up() => Ok(()),
            other => other,
        }
    }
}

/// Restores the terminal when dropped (normal return and early `?` exits).
pub struct Guard;

impl Guard {
    pub fn enter() -> io::Result<Guard> {
        install_panic_hook();
        enter()?;
        watch_signals()?;
        signal_hook::flag::register(signal_hook::consts::SIGWINCH, Arc::clone(&RESIZED))?;
        Ok(Guard)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// The signal that arrived (0: none); set by the signal thread, polled by the event loop.
static HUNG_UP: AtomicI32 = AtomicI32::new(0);

/// Whether a hang-up or termination signal arrived: the event loop should stop now.
pub fn hung_up() -> bool {
    HUNG_UP.load(Ordering::Relaxed) != 0
}

/// What the terminal did while [`wait_for_input`] waited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtyWait {
    /// Bytes to read, or a resize: crossterm can be asked for the event now.
    Ready,
    /// Nothing within the timeout.
    Idle,
    /// The terminal is gone (the SSH link dropped, the tmux pane closed): stop as after SIGHUP.
    Gone,
}

/// Set by SIGWINCH (crossterm turns the resize into an event; this only wakes the wait).
static RESIZED: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// Waits up to `timeout` for input on the tty. crossterm must not be asked while the tty is
/// hung up: on end-of-file its reader loops on `read() = 0` forever at full speed (73k reads in
/// 3 s here) and never returns, so the event loop waits here instead and only calls crossterm
/// when there are bytes (or a resize) to turn into events.
pub fn wait_for_input(timeout: Duration) -> TtyWait {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = io::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(0),
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    let result = poll(&mut fds, Some(&timeout));
    let gone = match result {
        Ok(_) => fds[0]
            .revents()
            .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL),
        Err(rustix::io::Errno::INTR) => false,
        Err(_) => true,
    };
    if gone {
        let _ = HUNG_UP.compare_exchange(
            0,
            signal_hook::consts::SIGHUP,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        return TtyWait::Gone;
    }
    if RESIZED.swap(false, Ordering::Relaxed) || fds[0].revents().contains(PollFlags::IN) {
        TtyWait::Ready
    } else {
        TtyWait::Idle
    }
}

/// Whether the tty is hung up right now (a zero-timeout [`wait_for_input`] that keeps any
/// resize notice for the next wait).
pub fn tty_gone() -> bool {
    let resized = RESIZED.load(Ordering::Relaxed);
    let gone = wait_for_input(Duration::ZERO) == TtyWait::Gone;
    if resized {
        RESIZED.store(true, Ordering::Relaxed);
    }
    gone
}

/// The hang-up or termination signal that ended the session, if one did.
pub fn signal() -> Option<i32> {
    Some(HUNG_UP.load(Ordering::Relaxed)).filter(|s| *s != 0)
}

/// How long the event loop gets to stop and close the database before the process exits anyway.
const GRACE: Duration = Duration::from_secs(3);

/// On a hang-up or termination: ask the event loop to stop; if it has not ended the process
/// within [`GRACE`], restore (giving up after a moment if the tty is gone) and exit.
fn watch_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    // SIGINT too: in raw mode ctrl-c is a key, so a SIGINT comes from `kill -INT` (or a
    // terminal not in raw mode), and dying by default would leave the screen raw and the
    // database unclosed.
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGQUIT, SIGINT])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            HUNG_UP.store(signal, Ordering::Relaxed);
            std::thread::sleep(GRACE);
            let (done, wait) = mpsc::channel();
            std::thread::spawn(move || {
                restore();
                let _ = done.send(());
            });
            let _ = wait.recv_timeout(Duration::from_millis(300));
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}
