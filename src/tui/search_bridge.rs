//! The seam between the TUI and contact search ([`crate::search`]): the index is loaded in the
//! background from the store's compact per-contact records, kept up to date in place after each
//! write, and queried on a worker thread so typing never waits.
//!
//! Interface: [`SearchBridge::spawn`] starts a worker; [`SearchBridge::submit`] sends
//! `(generation, query)`; results come back through the callback as
//! [`Msg::SearchResults`]`{ generation, hits }` (each hit: id + highlight char indices in the
//! name). The worker always answers the newest query it has and skips older ones; `update`
//! drops any answer whose generation is not the latest. [`SearchBridge::refresh_contact`] updates
//! one entry after a write; [`SearchBridge::load_from`] (re)builds everything. Must not touch the
//! terminal.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use crate::domain::{Day, Id};
use crate::search::{Index, MatchField, Query, SearchOptions};
use crate::store::{Store, StoreError};
use crate::tui::msg::Msg;
use crate::tui::state::SearchHit;

/// How many hits a query returns.
pub const LIMIT: usize = 200;

/// One contact's compact search record (`None` once the contact is gone).
pub type Candidate = Option<Vec<u8>>;

/// Loads the whole index from the store's compact records (runs off the UI thread).
pub fn load_corpus(store: &Store) -> Result<Index, StoreError> {
    store.load_search_index()
}

/// The search record of one contact as it is now in the store.
pub fn load_candidate(store: &Store, id: Id) -> Result<Candidate, StoreError> {
    store.search_record(id)
}

/// Updates the index in place after a write (no rebuild).
pub fn apply_change(index: &mut Index, id: Id, now: Candidate) {
    match now {
        Some(bytes) if index.upsert_encoded(&bytes).is_ok() => {}
        _ => index.remove(id),
    }
}

/// Runs `query` (the search language: fuzzy text, `#tag`, `@org`, `city:` …) and names the hits.
/// A query that does not parse yet (e.g. `city:` still being typed) gives no hits.
pub fn search(store: &Store, index: &Index, query: &str) -> Vec<SearchHit> {
    let Ok(parsed) = Query::parse(query) else {
        return Vec::new();
    };
    if parsed.is_empty() {
        return Vec::new();
    }
    let options = SearchOptions {
        limit: LIMIT.min(index.len()),
        today_day: Day::today().number(),
    };
    let ids: Vec<Id> = index
        .search(&parsed, options)
        .iter()
        .map(|h| h.id)
        .collect();
    let text = parsed.terms().join(" ");
    let rows = store.list_rows(&ids).unwrap_or_default();
    rows.into_iter()
        .map(|row| {
            let matched = crate::search::matched_value(&parsed, &row.search_doc())
                .filter(|(field, _)| !matches!(field, MatchField::Name | MatchField::Organization))
                .map(|(_, value)| value);
            let mut details: Vec<String> = matched.iter().cloned().collect();
            for part in distinguishing(&row) {
                if !details.contains(&part) {
                    details.push(part);
                }
            }
            SearchHit {
                id: row.id,
                highlights: crate::search::highlight(&row.name, &text),
                matched_detail: matched.is_some(),
                details,
                name: row.name,
                organization: row.organization,
            }
        })
        .collect()
}

/// A row's primary email and phone and its city, those it has.
pub fn distinguishing(row: &crate::store::ListRow) -> Vec<String> {
    [row.emails.first(), row.phones.first(), Some(&row.city)]
        .into_iter()
        .flatten()
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .collect()
}

enum Job {
    Corpus(Box<Index>, Arc<Store>),
    Change(Id, Candidate),
    Query { generation: u64, query: String },
}

/// A search worker thread. Dropping the bridge ends the worker.
pub struct SearchBridge {
    jobs: Sender<Job>,
}

impl SearchBridge {
    /// Starts the worker; `deliver` receives each answer as a message.
    pub fn spawn(deliver: impl Fn(Msg) + Send + 'static) -> SearchBridge {
        let (jobs, inbox) = mpsc::channel();
        thread::spawn(move || worker(&inbox, &deliver));
        SearchBridge { jobs }
    }

    /// Loads the corpus from the store on another thread, then hands it to the worker.
    pub fn load_from(&self, store: Arc<Store>) {
        let jobs = self.jobs.clone();
        thread::spawn(move || {
            if let Ok(corpus) = load_corpus(&store) {
                let _ = jobs.send(Job::Corpus(Box::new(corpus), store));
            }
        });
    }

    /// Re-reads one contact's entry after it was added, edited or deleted (cheap, unlike a
    /// full reload).
    pub fn refresh_contact(&self, store: Arc<Store>, id: Id) {
        let jobs = self.jobs.clone();
        thread::spawn(move || {
            if let Ok(now) = load_candidate(&store, id) {
                let _ = jobs.send(Job::Change(id, now));
            }
        });
    }

    pub fn submit(&self, generation: u64, query: String) {
        let _ = self.jobs.send(Job::Query { generation, query });
    }
}

fn worker(inbox: &Receiver<Job>, deliver: &dyn Fn(Msg)) {
    let mut corpus: Option<(Index, Arc<Store>)> = None;
    let mut waiting: Option<(u64, String)> = None;
    let mut early_changes: Vec<(Id, Candidate)> = Vec::new();
    loop {
        let job = match inbox.recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        let mut handle = |job: Job| match job {
            Job::Corpus(mut c, store) => {
                // Changes made while the index was being read are applied on top of it.
                for (id, now) in early_changes.drain(..) {
                    apply_change(&mut c, id, now);
                }
                corpus = Some((*c, store));
            }
            Job::Change(id, now) => match &mut corpus {
                Some((index, _)) => apply_change(index, id, now),
                None => early_changes.push((id, now)),
            },
            Job::Query { generation, query } => waiting = Some((generation, query)),
        };
        handle(job);
        // Only the newest query matters: skip everything typed meanwhile.
        while let Ok(job) = inbox.try_recv() {
            handle(job);
        }
        // Until the corpus arrives the query waits; it is answered as soon as it does.
        if let (Some((index, store)), Some((generation, query))) = (&corpus, &waiting) {
            deliver(Msg::SearchResults {
                generation: *generation,
                hits: search(store, index, query),
            });
            waiting = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, ContactDraft};

    #[test]
    fn folded_terms_match_and_highlight_the_displayed_chars() {
        let store = Store::in_memory().unwrap();
        let actor = Actor::new("t");
        for (name, org) in [("Nguyễn Văn Đức", "Acme"), ("Anna Müller", "Đức Trading")] {
            let draft = ContactDraft {
                name: name.into(),
                organization: org.into(),
                ..ContactDraft::default()
            };
            store.add_contact(&actor, draft).unwrap();
        }
        let index = load_corpus(&store).unwrap();
        let hits = search(&store, &index, "duc");
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(hits[0].highlights, vec![11, 12, 13]);
        assert!(hits[1].highlights.is_empty());
        assert_eq!(
            search(&store, &index, "muller")[0].highlights,
            vec![5, 6, 7, 8, 9, 10]
        );
        assert!(
            search(&store, &index, "city:").is_empty(),
            "a half-typed filter is not an error"
        );
    }
}
