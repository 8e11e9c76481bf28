//! The seam between the TUI and contact search. Until `crate::search` lands this is a plain scan
//! over a background-loaded list of folded names, organisations and emails; swapping in the real
//! engine only changes this file.
//!
//! Interface: [`SearchBridge::spawn`] starts a worker; [`SearchBridge::submit`] sends
//! `(generation, query)`; results come back through the callback as
//! [`Msg::SearchResults`]`{ generation, hits }` (each hit: id + highlight char indices in the
//! name). The worker always answers the newest query it has and skips older ones; `update`
//! drops any answer whose generation is not the latest. [`SearchBridge::refresh_contact`] updates
//! one entry after a write; [`SearchBridge::load_from`] (re)builds everything. Must not touch the
//! terminal.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use crate::domain::{Contact, Id, text};
use crate::store::{Store, StoreError};
use crate::tui::msg::Msg;
use crate::tui::state::SearchHit;

/// How many hits a query returns.
pub const LIMIT: usize = 200;

/// One searchable contact.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: Id,
    pub name: String,
    pub organization: String,
    /// Folded name (for matching and highlighting).
    pub folded_name: String,
    /// Folded organisation and emails.
    pub folded_rest: String,
}

/// Reads every contact once into a search corpus (runs off the UI thread).
pub fn load_corpus(store: &Store) -> Result<Vec<Candidate>, StoreError> {
    // Organisations are shared by many contacts: read and fold each once.
    let mut orgs: HashMap<Id, (String, String)> = HashMap::new();
    let mut out = Vec::new();
    store.for_each_contact(|contact| {
        out.push(candidate(store, &mut orgs, contact));
        true
    })?;
    Ok(out)
}

/// The search entry of one contact as it is now in the store; `None` once it is gone.
pub fn load_candidate(store: &Store, id: Id) -> Result<Option<Candidate>, StoreError> {
    Ok(store
        .contact(id)?
        .map(|contact| candidate(store, &mut HashMap::new(), contact)))
}

fn candidate(
    store: &Store,
    orgs: &mut HashMap<Id, (String, String)>,
    contact: Contact,
) -> Candidate {
    let (organization, folded_org) = match contact.organization {
        Some(org) => orgs
            .entry(org)
            .or_insert_with(|| {
                let name = store.organization_name(Some(org)).unwrap_or_default();
                let folded = text::sort_key(&name);
                (name, folded)
            })
            .clone(),
        None => (String::new(), String::new()),
    };
    let mut folded_rest = folded_org;
    for email in &contact.emails {
        folded_rest.push(' ');
        folded_rest.push_str(&email.value.to_lowercase());
    }
    Candidate {
        id: contact.id,
        folded_name: text::sort_key(&contact.name),
        folded_rest,
        name: contact.name,
        organization,
    }
}

/// Replaces (or adds, or with `None` drops) contact `id`'s entry in a corpus.
pub fn apply_change(corpus: &mut Vec<Candidate>, id: Id, now: Option<Candidate>) {
    corpus.retain(|c| c.id != id);
    if let Some(candidate) = now {
        corpus.push(candidate);
    }
}

/// Every whitespace-separated term of `query` must occur (folded) in the name, organisation or
/// an email. Name-prefix matches rank first, then name matches, then the rest; ties by name.
pub fn search(corpus: &[Candidate], query: &str) -> Vec<SearchHit> {
    let folded = text::sort_key(query);
    let terms: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    if terms.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(u8, &Candidate)> = corpus
        .iter()
        .filter(|c| {
            terms
                .iter()
                .all(|t| c.folded_name.contains(t) || c.folded_rest.contains(t))
        })
        .map(|c| {
            let rank = if c.folded_name.starts_with(terms[0]) {
                0
            } else if terms.iter().all(|t| c.folded_name.contains(t)) {
                1
            } else {
                2
            };
            (rank, c)
        })
        .collect();
    scored.sort_by(|a, b| (a.0, &a.1.folded_name).cmp(&(b.0, &b.1.folded_name)));
    scored
        .into_iter()
        .take(LIMIT)
        .map(|(_, c)| SearchHit {
            id: c.id,
            name: c.name.clone(),
            organization: c.organization.clone(),
            highlights: highlights(&c.name, &terms),
        })
        .collect()
}

/// Char indices of `name` covered by the terms, matching on the folded form of each char.
fn highlights(name: &str, terms: &[&str]) -> Vec<usize> {
    // Fold char by char so folded positions map back to the displayed chars.
    let mut folded = String::new();
    let mut owner: Vec<usize> = Vec::new(); // folded byte → name char index
    for (index, c) in name.chars().enumerate() {
        let piece = if c.is_whitespace() {
            " ".to_string()
        } else {
            text::sort_key(&c.to_string())
        };
        for _ in 0..piece.len() {
            owner.push(index);
        }
        folded.push_str(&piece);
    }
    let mut marked = std::collections::BTreeSet::new();
    for term in terms {
        let mut from = 0;
        while let Some(found) = folded.get(from..).and_then(|rest| rest.find(term)) {
            let start = from + found;
            for byte in start..start + term.len() {
                if let Some(&i) = owner.get(byte) {
                    marked.insert(i);
                }
            }
            from = start + term.len().max(1);
        }
    }
    marked.into_iter().collect()
}

enum Job {
    Corpus(Vec<Candidate>),
    Change(Id, Option<Candidate>),
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
                let _ = jobs.send(Job::Corpus(corpus));
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
    let mut corpus: Option<Vec<Candidate>> = None;
    let mut waiting: Option<(u64, String)> = None;
    let mut early_changes: Vec<(Id, Option<Candidate>)> = Vec::new();
    loop {
        let job = match inbox.recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        let mut handle = |job: Job| match job {
            Job::Corpus(mut c) => {
                // Changes made while the corpus was being read are applied on top of it.
                for (id, now) in early_changes.drain(..) {
                    apply_change(&mut c, id, now);
                }
                corpus = Some(c);
            }
            Job::Change(id, now) => match &mut corpus {
                Some(corpus) => apply_change(corpus, id, now),
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
        if let (Some(corpus), Some((generation, query))) = (&corpus, &waiting) {
            deliver(Msg::SearchResults {
                generation: *generation,
                hits: search(corpus, query),
            });
            waiting = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: Id, name: &str, org: &str) -> Candidate {
        Candidate {
            id,
            name: name.into(),
            organization: org.into(),
            folded_name: text::sort_key(name),
            folded_rest: text::sort_key(org),
        }
    }

    #[test]
    fn folded_terms_match_and_highlight_the_displayed_chars() {
        let corpus = vec![
            candidate(1, "Nguyễn Văn Đức", "Acme"),
            candidate(2, "Anna Müller", "Đức Trading"),
        ];
        let hits = search(&corpus, "duc");
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(hits[0].highlights, vec![11, 12, 13]);
        assert!(hits[1].highlights.is_empty());
        assert_eq!(
            search(&corpus, "muller")[0].highlights,
            vec![5, 6, 7, 8, 9, 10]
        );
    }
}
