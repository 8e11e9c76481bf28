//! Runs searches off the UI thread.
//!
//! Owns one background thread with a [`Searcher`] (so narrowing works across keystrokes). The
//! caller submits `(generation, query)`; a newer submission cancels the scan of an older one
//! (checked between chunks) and, once `submit` has returned, no result for an older generation
//! is sent: the "is it still current?" check and the send happen under the same lock that
//! `submit` takes to publish the new generation. Results go out through an
//! `std::sync::mpsc::Sender<T>` the caller owns, mapped by a closure, so the TUI can receive
//! them as ordinary events. Must not parse queries or touch the terminal.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use super::Hit;
use super::index::{Index, SearchOptions, Searcher};
use super::query::Query;

/// The answer to one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResponse {
    pub generation: u64,
    pub hits: Vec<Hit>,
}

struct Request {
    generation: u64,
    query: Query,
    options: SearchOptions,
}

struct Shared {
    latest: AtomicU64,
    /// Held while publishing a generation and while sending a result.
    gate: Mutex<()>,
}

/// Handle to the search thread; dropping it stops the thread.
pub struct SearchWorker {
    requests: Option<Sender<Request>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SearchWorker {
    /// Starts the thread. Each delivered result is passed through `wrap` and sent on `out`.
    pub fn spawn<T, F>(index: Arc<RwLock<Index>>, out: Sender<T>, wrap: F) -> SearchWorker
    where
        T: Send + 'static,
        F: Fn(SearchResponse) -> T + Send + 'static,
    {
        let (requests, inbox) = mpsc::channel();
        let shared = Arc::new(Shared {
            latest: AtomicU64::new(0),
            gate: Mutex::new(()),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("rolo-search".into())
            .spawn(move || run(&index, &inbox, &thread_shared, &out, &wrap))
            .ok();
        SearchWorker {
            requests: Some(requests),
            shared,
            thread,
        }
    }

    /// Asks for a search; generations must increase. Older work is abandoned.
    pub fn submit(&self, generation: u64, query: Query, options: SearchOptions) {
        {
            let _gate = self
                .shared
                .gate
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            self.shared.latest.fetch_max(generation, Ordering::SeqCst);
        }
        if let Some(requests) = &self.requests {
            // A closed channel means the thread is gone; there is nobody to answer anyway.
            let _ = requests.send(Request {
                generation,
                query,
                options,
            });
        }
    }
}

impl Drop for SearchWorker {
    fn drop(&mut self) {
        self.requests = None;
        self.shared.latest.store(u64::MAX, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run<T, F>(
    index: &RwLock<Index>,
    inbox: &Receiver<Request>,
    shared: &Shared,
    out: &Sender<T>,
    wrap: &F,
) where
    F: Fn(SearchResponse) -> T,
{
    let mut searcher = Searcher::new();
    while let Ok(mut request) = inbox.recv() {
        // Only the newest queued request matters.
        while let Ok(newer) = inbox.try_recv() {
            request = newer;
        }
        let current = || shared.latest.load(Ordering::SeqCst) == request.generation;
        if !current() {
            continue;
        }
        let hits = {
            let index = index.read().unwrap_or_else(PoisonError::into_inner);
            searcher.search(&index, &request.query, request.options, &|| !current())
        };
        let Some(hits) = hits else { continue };
        let _gate = shared.gate.lock().unwrap_or_else(PoisonError::into_inner);
        if current() {
            let response = SearchResponse {
                generation: request.generation,
                hits,
            };
            if out.send(wrap(response)).is_err() {
                return;
            }
        }
    }
}
