//! Handing memory the program freed back to the operating system.
//!
//! The binary's allocator (mimalloc) keeps freed pages and returns them lazily, from later
//! allocations. A server that builds a 1M-contact search index and then sits idle therefore
//! kept the build's transient memory resident: 385 MB of RSS for an index that needs 150.
//! Long-lived processes call [`release`] after heavy work; the binary says how
//! ([`set_release`]), so the library needs no allocator of its own and stays free of
//! `unsafe`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

static RELEASE: OnceLock<fn()> = OnceLock::new();
static SERVING: OnceLock<fn()> = OnceLock::new();

/// Work that took at least this long is heavy enough to be followed by a [`release`] (a
/// release costs about a millisecond; a keystroke's search at 100k contacts takes a few).
pub const HEAVY: Duration = Duration::from_millis(25);

/// Sets how freed memory is returned (the binary does this once, at start).
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Sets how a server tunes the allocator for many threads (the binary does this once).
pub fn set_serving(tune: fn()) {
    let _ = SERVING.set(tune);
}

/// Tunes the allocator for serving many clients, each on threads of its own: freed pages go
/// back to the system after 100 ms instead of mimalloc's 1 s. Every connection's threads keep
/// what they freed until then; with 50 agents on 1M contacts the server held VmRSS 352 MB at
/// the end of `rolo bench team`, 257 MB with this, at the same keystroke throughput (0 ms,
/// purging at once, had made keystrokes 5x slower).
pub fn serving() {
    if let Some(tune) = SERVING.get() {
        tune();
    }
}

/// Returns the memory the allocator holds unused to the operating system (nothing when no
/// way was set, as in tests, which run on the system allocator).
pub fn release() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

/// [`release`]s when the work begun at `started` was heavy.
pub fn release_after(started: Instant) {
    if started.elapsed() >= HEAVY {
        release();
    }
}
