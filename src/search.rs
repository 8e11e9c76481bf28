//! Contact search: folding, the in-memory index, the query language, ranking and the worker
//! that runs searches off the UI thread.
//!
//! Owns everything between "plain contact fields" ([`SearchDoc`]) and "ranked ids" ([`Hit`]).
//! It must not depend on the store, the domain types, the TUI or the CLI: the store persists the
//! compact [`IndexEntry`] bytes and loads them back with [`Index::upsert_encoded`]; the TUI and
//! `rolo search` parse with [`Query::parse`] and highlight with [`highlight`].

mod fold;
mod index;
mod query;
#[doc(hidden)]
pub mod testgen;
mod worker;

pub use fold::{fold, fold_with_map, highlight};
pub use index::{
    BoughtBuilder, CustomerFacts, CustomerScores, DecodeError, Index, IndexEntry, SearchOptions,
    Searcher, matched_value,
};
pub use query::{Comparison, DueWindow, Filter, FilterKind, Measure, Query, QueryError, ScoreAxis};
pub use worker::{SearchResponse, SearchWorker};

/// The plain fields search needs from a contact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    pub id: u64,
    pub name: String,
    pub organization: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub city: String,
    pub tags: Vec<String>,
    pub stage: String,
    pub owner: String,
    pub last_contact_ms: i64,
    /// Days since 1970-01-01 of the earliest open follow-up.
    pub next_due_day: Option<i32>,
}

impl SearchDoc {
    /// What search needs of a stored contact; `organization` is its organisation's name.
    pub fn from_contact(
        contact: &crate::domain::Contact,
        organization: &str,
        last_contact_ms: i64,
        next_due_day: Option<i32>,
    ) -> SearchDoc {
        SearchDoc {
            id: contact.id,
            name: contact.name.clone(),
            organization: organization.to_string(),
            emails: contact.emails.iter().map(|e| e.value.clone()).collect(),
            phones: contact.phones.iter().map(|p| p.value.clone()).collect(),
            city: contact.city().unwrap_or_default().to_string(),
            tags: contact.tags.clone(),
            stage: contact.stage.name().to_string(),
            owner: contact.owner.clone(),
            last_contact_ms,
            next_due_day,
        }
    }

    /// The compact record the store persists next to the contact (see [`IndexEntry`]).
    pub fn encode_compact(&self) -> Vec<u8> {
        IndexEntry::from_doc(self).encode()
    }
}

/// Which field a hit's text matched in (the field of the first term's best match; for a
/// filter-only query, `Name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchField {
    Name,
    Organization,
    Email,
    Phone,
    City,
    Tag,
}

/// One search result; results come best-first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub id: u64,
    pub score: i64,
    pub field: MatchField,
}
