//! Finding contacts from the command line by a typed query.
//!
//! Interim: a linear scan over folded names, emails and phone digits, used until the search
//! index (`crate::search`) lands; it keeps `rolo search` and CONTACT arguments working.

use crate::domain::{Contact, text};
use crate::store::Store;

pub fn find(store: &Store, query: &str, limit: usize) -> Result<Vec<Contact>, String> {
    let q = text::sort_key(query);
    let digits = text::phone_key(query);
    if q.is_empty() {
        return Err("type something to search for".into());
    }
    let mut hits: Vec<(u8, Contact)> = Vec::new();
    store
        .for_each_contact(|c| {
            let name = text::sort_key(&c.name);
            let rank = if name == q {
                Some(0)
            } else if name.starts_with(&q) || name.split(' ').any(|w| w.starts_with(&q)) {
                Some(1)
            } else if name.contains(&q) {
                Some(2)
            } else if c
                .emails
                .iter()
                .any(|e| text::email_key(&e.value).contains(&q))
            {
                Some(3)
            } else if digits.len() >= 3
                && c.phones
                    .iter()
                    .any(|p| text::phone_key(&p.value).contains(&digits))
            {
                Some(4)
            } else if c.tags.contains(&q) {
                Some(5)
            } else {
                None
            };
            if let Some(rank) = rank {
                hits.push((rank, c));
            }
            true
        })
        .map_err(|e| e.to_string())?;
    hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    Ok(hits.into_iter().take(limit).map(|(_, c)| c).collect())
}
