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

/// Work that took at least this long is heavy enough to be followed by a [`release`] (a
/// release costs about a millisecond; a keystroke's search at 100k contacts takes a few).
pub const HEAVY: Duration = Duration::from_millis(25);

/// Sets how freed memory is returned (the binary does this once, at start).
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
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
