//! Progress of long work on stderr, the way people expect it from command-line tools: a bar with
//! the count, the rate and the time left (`import contacts.vcf [######····] 12,000/20,000
//! 3,950/s 0:02 left`), redrawn in place at most ten times a second, or a spinner with the
//! elapsed time when the amount of work is not known (compaction, migrations).
//!
//! Only drawn when stderr is a terminal (and `TERM` is not `dumb`) and `--quiet` / `ROLO_QUIET`
//! was not given, so scripts and logs never see a carriage return or an escape sequence: they get
//! the command's one summary line and nothing else. The line is cleared when the work ends, so
//! the summary that follows stands alone.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static QUIET: AtomicBool = AtomicBool::new(false);

/// A bar or spinner is on the current stderr line.
static DRAWN: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress at all, even on a terminal.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether progress is drawn: stderr is a terminal that understands `\r` and `ESC [ K`.
pub fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

const REDRAW: Duration = Duration::from_millis(100);

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `75` as `1:15`, `3725` as `1:02:05`.
fn clock(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn width() -> usize {
    match crossterm::terminal::size() {
        Ok((w, _)) if w > 0 => usize::from(w).max(20),
        _ => 80, // not known (some terminals and pseudo-terminals report 0)
    }
}

/// Draws `line` over the current stderr line (cut to the terminal's width).
fn draw(line: &str) {
    let cut: String = line.chars().take(width().saturating_sub(1)).collect();
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{cut}");
    let _ = err.flush();
    DRAWN.store(true, Ordering::Relaxed);
}

/// Clears a bar or spinner off the line so a message can be printed on stderr (the bar comes
/// back with its next update). Does nothing when none is drawn.
pub fn interrupt() {
    if DRAWN.load(Ordering::Relaxed) {
        clear();
    }
}

fn clear() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K");
    let _ = err.flush();
    DRAWN.store(false, Ordering::Relaxed);
}

/// Progress of a job running inside the server, for the client that asked for it to draw.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    pub label: String,
    pub unit: String,
    pub done: u64,
    pub total: Option<u64>,
    pub finished: bool,
}

/// Where a job's bars go instead of stderr.
type Relay = Box<dyn Fn(Progress)>;

thread_local! {
    /// Set while a job runs in the server: bars are sent to its client instead of drawn.
    static RELAY: std::cell::RefCell<Option<Relay>> =
        const { std::cell::RefCell::new(None) };
}

/// Sends this thread's bars to `relay` (until [`stop_relay`]).
pub fn relay_to(relay: Relay) {
    RELAY.with(|r| *r.borrow_mut() = Some(relay));
}

pub fn stop_relay() {
    RELAY.with(|r| *r.borrow_mut() = None);
}

fn relayed(p: Progress) -> bool {
    RELAY.with(|r| match r.borrow().as_ref() {
        Some(relay) => {
            relay(p);
            true
        }
        None => false,
    })
}

fn relaying() -> bool {
    RELAY.with(|r| r.borrow().is_some())
}

/// A progress bar for work counted in `unit`s (`contacts`, `records`).
pub struct Bar {
    on: bool,
    label: String,
    unit: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last: Option<Instant>,
}

impl Bar {
    /// A bar for `total` units (`None`: not known yet; the count and rate are shown).
    pub fn new(label: impl Into<String>, unit: impl Into<String>, total: Option<u64>) -> Bar {
        Bar {
            on: enabled() || relaying(),
            label: label.into(),
            unit: unit.into(),
            total,
            done: 0,
            started: Instant::now(),
            last: None,
        }
    }

    /// A better idea of the total (an estimate while a file is still being read).
    pub fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }

    /// `done` units so far; redrawn when it is time.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        if !self.on {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|l| now - l < REDRAW) {
            return;
        }
        self.last = Some(now);
        if !relayed(self.progress(false)) {
            draw(&self.line(now));
        }
    }

    fn progress(&self, finished: bool) -> Progress {
        Progress {
            label: self.label.clone(),
            unit: self.unit.clone(),
            done: self.done,
            total: self.total,
            finished,
        }
    }

    fn line(&self, now: Instant) -> String {
        let elapsed = (now - self.started).as_secs_f64();
        let rate = if elapsed > 0.2 {
            self.done as f64 / elapsed
        } else {
            0.0
        };
        let rate_text = if rate > 0.0 {
            format!("  {}/s", thousands(rate as u64))
        } else {
            String::new()
        };
        match self.total.filter(|t| *t > 0) {
            Some(total) => {
                let total = total.max(self.done);
                let fraction = self.done as f64 / total as f64;
                let left = if rate > 0.0 {
                    format!(
                        "  {} left",
                        clock(((total - self.done) as f64 / rate).ceil() as u64)
                    )
                } else {
                    String::new()
                };
                let counts = format!(
                    "{}/{} {}{rate_text}{left}",
                    thousands(self.done),
                    thousands(total),
                    self.unit
                );
                let room = width().saturating_sub(self.label.chars().count() + counts.len() + 8);
                let cells = room.min(30);
                let filled = ((fraction * cells as f64).round() as usize).min(cells);
                if cells >= 5 {
                    format!(
                        "{} [{}{}] {counts}",
                        self.label,
                        "#".repeat(filled),
                        "·".repeat(cells - filled)
                    )
                } else {
                    format!("{} {counts}", self.label)
                }
            }
            None => format!(
                "{} {} {}{rate_text}  {}",
                self.label,
                thousands(self.done),
                self.unit,
                clock(elapsed as u64)
            ),
        }
    }

    /// Clears the bar (the caller prints its summary next).
    pub fn finish(&mut self) {
        if self.on && self.last.is_some() && !relayed(self.progress(true)) {
            clear();
        }
        self.on = false;
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Runs `work` while a spinner with the elapsed time says what is happening (`compacting the
/// database… 3 s`). Nothing is drawn for work that ends within half a second.
pub fn spin<T>(label: &str, work: impl FnOnce() -> T) -> T {
    let spinner = Spinner::start(label);
    let result = work();
    drop(spinner);
    result
}

/// A spinner drawn by its own thread until dropped.
pub struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    pub fn start(label: &str) -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled().then(|| {
            let (stop, label) = (Arc::clone(&stop), label.to_string());
            std::thread::spawn(move || {
                let started = Instant::now();
                let frames = ['|', '/', '-', '\\'];
                let mut drawn = false;
                let mut frame = 0;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(REDRAW);
                    let elapsed = started.elapsed();
                    if elapsed < Duration::from_millis(500) {
                        continue;
                    }
                    frame = (frame + 1) % frames.len();
                    draw(&format!(
                        "{} {label}… {}",
                        frames[frame],
                        clock(elapsed.as_secs())
                    ));
                    drawn = true;
                }
                if drawn {
                    clear();
                }
            })
        });
        Spinner { stop, thread }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The spinner shown while the store upgrades a database (see [`crate::store::set_observer`]).
static MIGRATION: Mutex<Option<Spinner>> = Mutex::new(None);

/// Shows the store's long maintenance steps (migrations) as a spinner.
pub fn observe_store(activity: crate::store::Activity) {
    let Ok(mut current) = MIGRATION.lock() else {
        return;
    };
    *current = None; // ends the previous step's spinner
    if let crate::store::Activity::Started(what) = activity {
        *current = Some(Spinner::start(&what));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(clock(5), "0:05");
        assert_eq!(clock(75), "1:15");
        assert_eq!(clock(3725), "1:02:05");
    }

    #[test]
    fn the_bar_shows_count_rate_and_time_left() {
        let mut bar = Bar::new("import x.vcf", "records", Some(20_000));
        bar.done = 5_000;
        let line = bar.line(bar.started + Duration::from_secs(2));
        assert!(line.contains("5,000/20,000 records"), "{line}");
        assert!(line.contains("2,500/s"), "{line}");
        assert!(line.contains("0:06 left"), "{line}");
        assert!(line.contains('#') && line.contains('·'), "{line}");
        bar.set_total(None);
        let line = bar.line(bar.started + Duration::from_secs(2));
        assert!(line.contains("5,000 records  2,500/s"), "{line}");
    }
}
