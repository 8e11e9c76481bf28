//! The seam between the TUI and contact search: queries go to the server's one index
//! ([`crate::server::Service::search`]) from a worker thread, so typing never waits and no
//! interface holds a corpus of its own.
//!
//! Interface: [`SearchBridge::spawn`] starts a worker; [`SearchBridge::submit`] sends
//! `(generation, query)`; results come back through the callback as
//! [`Msg::SearchResults`]`{ generation, hits }` (each hit: id + highlight char indices in the
//! name). The worker always answers the newest query it has and skips older ones; `update`
//! drops any answer whose generation is not the latest. Must not touch the terminal.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use crate::api::Db;
use crate::tui::msg::Msg;
use crate::tui::state::SearchHit;

/// How many hits a query returns.
pub const LIMIT: usize = 200;

pub use crate::server::distinguishing;

/// Runs `query` (the search language: fuzzy text, `#tag`, `@org`, `city:` …) on the server and
/// names the hits. A query that does not parse yet gives no hits; a failed request neither.
pub fn search(db: &Db, query: &str) -> Vec<SearchHit> {
    db.search(query.to_string(), LIMIT).unwrap_or_default()
}

/// A search worker thread. Dropping the bridge ends the worker.
pub struct SearchBridge {
    jobs: Sender<(u64, String)>,
}

impl SearchBridge {
    /// Starts the worker; `deliver` receives each answer as a message.
    pub fn spawn(db: Db, deliver: impl Fn(Msg) + Send + 'static) -> SearchBridge {
        let (jobs, inbox) = mpsc::channel();
        thread::spawn(move || worker(&db, &inbox, &deliver));
        SearchBridge { jobs }
    }

    pub fn submit(&self, generation: u64, query: String) {
        let _ = self.jobs.send((generation, query));
    }
}

fn worker(db: &Db, inbox: &Receiver<(u64, String)>, deliver: &dyn Fn(Msg)) {
    while let Ok(mut job) = inbox.recv() {
        // Only the newest query matters: skip everything typed meanwhile.
        while let Ok(newer) = inbox.try_recv() {
            job = newer;
        }
        let (generation, query) = job;
        deliver(Msg::SearchResults {
            generation,
            hits: search(db, &query),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Caller, Source};
    use crate::domain::{Actor, ContactDraft};
    use crate::store::Store;

    #[test]
    fn folded_terms_match_and_highlight_the_displayed_chars() {
        let db = Db::local(
            Store::in_memory().unwrap(),
            Caller::local(Actor::new("t"), Source::Tui),
        );
        for (name, org) in [("Nguyễn Văn Đức", "Acme"), ("Anna Müller", "Đức Trading")] {
            let draft = ContactDraft {
                name: name.into(),
                organization: org.into(),
                ..ContactDraft::default()
            };
            db.add_contact(draft).unwrap();
        }
        let hits = search(&db, "duc");
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(hits[0].highlights, vec![11, 12, 13]);
        assert!(hits[1].highlights.is_empty());
        assert_eq!(search(&db, "muller")[0].highlights, vec![5, 6, 7, 8, 9, 10]);
        assert!(
            search(&db, "city:").is_empty(),
            "a half-typed filter is not an error"
        );
    }
}
