//! Realistic search documents for tests and benchmarks: the demo generator's people
//! (multilingual, with organisations, emails, phones, cities, tags and history), turned into
//! [`SearchDoc`]s with ids `0..count`.

use super::SearchDoc;
use crate::demo::Generator;
use crate::domain::{At, Day, timeline_recency};

/// What simulated agents type (`rolo bench team`, `cargo bench --bench search`): first names,
/// surnames, companies and cities as people search, with 2- and 3-letter prefixes among them.
pub const TEAM_WORDS: &[&str] = &[
    "john smith",
    "ana",
    "muller",
    "nguyen",
    "garcia",
    "maria",
    "chen",
    "kowalski",
    "sato",
    "rossi",
    "dubois",
    "johnson",
    "olsen",
    "acme",
    "lyon",
    "berlin",
    "fatima",
    "ivan",
    "lee",
    "martin",
    "kim",
    "silva",
    "horvat",
    "novak",
    "joh",
    "sam",
    "li",
    "hansen",
    "peter",
    "moreau",
];

/// A fixed "now" so the same seed always gives the same documents.
const NOW_MS: i64 = 1_764_000_000_000;

/// `count` contacts with ids `0..count`, the same for the same `seed`.
pub fn contacts(count: usize, seed: u64) -> impl Iterator<Item = SearchDoc> {
    let mut generator = Generator::new(seed, At::from_millis(NOW_MS), count as u64);
    (0..count as u64).map(move |id| {
        let person = generator.person();
        let (last, due) = timeline_recency(&person.entries);
        let mut contact = person.contact;
        contact.id = id;
        let last = last.map_or(i64::MIN, At::millis);
        SearchDoc::from_contact(&contact, &person.org, last, due.map(Day::number))
    })
}

/// The text a person would see for `doc`, one line (used for the fzf comparison).
pub fn display_line(doc: &SearchDoc) -> String {
    format!(
        "{} | {} | {} | {} | {} | {}",
        doc.name,
        doc.organization,
        doc.emails.join(" "),
        doc.phones.join(" "),
        doc.city,
        doc.tags.join(" ")
    )
}
