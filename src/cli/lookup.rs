//! Finding contacts from the command line with the same index and query language as the TUI
//! (`crate::search`): fuzzy text plus `#tag`, `@org`, `city:`, `stage:`, `owner:`, `due:`.

use crate::api::Db;
use crate::domain::Contact;
use crate::search::Query;

use super::{Failure, exit};

/// The best `limit` contacts for `query`, best first.
pub fn find(store: &Db, query: &str, limit: usize) -> Result<Vec<Contact>, Failure> {
    let parsed = Query::parse(query).map_err(|e| Failure::new(exit::INVALID, e.to_string()))?;
    if parsed.is_empty() {
        return Err(Failure::new(
            exit::INVALID,
            "type something to search for, e.g. `ana`, `#vip` or `@acme`",
        ));
    }
    // The server's one index answers (no corpus is loaded here).
    let hits = store.search(query.to_string(), limit)?;
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        if let Some(c) = store.contact(hit.id)? {
            out.push(c);
        }
    }
    Ok(out)
}
