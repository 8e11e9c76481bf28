//! The terminal guard: raw mode, alternate screen and bracketed paste on the way in; all of it
//! undone on the way out — on return, on panic (the hook restores first, then reports) and on
//! SIGHUP/SIGTERM/SIGQUIT. A signal first asks the event loop to stop ([`hung_up`]) so the
//! database is closed cleanly — an unclean close makes the next open walk the whole file to
//! repair it (47 s for a 1.5 GB database here). If the main thread is stuck on a dead tty, the
//! signal thread restores and exits by itself after a grace period.
//! `ratatui::restore` does not disable bracketed paste, so this does.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
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

/// Restores the terminal when dropped (normal return and early `?` exits).
pub struct Guard;

impl Guard {
    pub fn enter() -> io::Result<Guard> {
        install_panic_hook();
        enter()?;
        watch_signals()?;
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

/// The hang-up or termination signal that ended the session, if one did.
pub fn signal() -> Option<i32> {
    Some(HUNG_UP.load(Ordering::Relaxed)).filter(|s| *s != 0)
}

/// How long the event loop gets to stop and close the database before the process exits anyway.
const GRACE: Duration = Duration::from_secs(3);

/// On a hang-up or termination: ask the event loop to stop; if it has not ended the process
/// within [`GRACE`], restore (giving up after a moment if the tty is gone) and exit.
fn watch_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGQUIT])?;
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
