//! Duplicate candidates: pairs of contacts that are probably the same person, with a reason and
//! a 0–100 score. Pure scoring; it must not merge anything (the user decides, the store merges).
//!
//! Never O(n²) over all contacts: contacts are first put in buckets — one per lowercased email,
//! one per phone (last 9 digits, at least 7 digits), one per (organisation, first two letters of
//! the folded name) — and only pairs sharing a bucket are compared. Oversized buckets (a shared
//! `info@` address, a switchboard number) are skipped beyond [`MAX_BUCKET`] members.

use std::collections::{BTreeMap, HashMap};

use crate::domain::{Contact, Id, text};
/// The search key's folding (accents, case, `đ→d`, `ß→ss`…), so "similar" means what search means.
use crate::search::fold;

/// Buckets larger than this are compared only among their first members.
pub const MAX_BUCKET: usize = 50;

/// Similar-name pairs below this score are not reported.
const NAME_THRESHOLD: u8 = 80;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicatePair {
    /// The smaller id of the two.
    pub a: Id,
    pub b: Id,
    pub reason: String,
    pub score: u8,
}

/// Levenshtein distance over characters (two rows of memory).
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// 0–100 similarity of two folded names: the better of normalised Levenshtein on the whole name
/// and on its sorted words (so "Nguyen Van An" matches "An Nguyen Van").
pub fn name_similarity(a: &str, b: &str) -> u8 {
    let score = |x: &str, y: &str| -> u8 {
        let x: Vec<char> = x.chars().collect();
        let y: Vec<char> = y.chars().collect();
        let longest = x.len().max(y.len());
        if longest == 0 {
            return 0;
        }
        let d = levenshtein(&x, &y);
        u8::try_from(100 - d * 100 / longest).unwrap_or(0)
    };
    let sorted = |s: &str| {
        let mut words: Vec<&str> = s.split_whitespace().collect();
        words.sort_unstable();
        words.join(" ")
    };
    let a = fold(a);
    let b = fold(b);
    score(&a, &b).max(score(&sorted(&a), &sorted(&b)))
}

fn phone_bucket(phone: &str) -> Option<String> {
    let digits = text::phone_key(phone);
    if digits.len() < 7 {
        return None;
    }
    let start = digits.len().saturating_sub(9);
    Some(digits[start..].to_string())
}

/// Candidate duplicate pairs, best first, one entry per pair (the strongest reason wins).
pub fn duplicate_candidates(
    contacts: impl Iterator<Item = (Contact, Option<String>)>,
) -> Vec<DuplicatePair> {
    struct Slim {
        id: Id,
        name: String,
        folded: String,
    }
    let mut people: Vec<Slim> = Vec::new();
    let mut buckets: HashMap<(u8, String), Vec<usize>> = HashMap::new();
    for (contact, org) in contacts {
        let index = people.len();
        let folded = fold(&text::clean_line(&contact.name));
        for e in &contact.emails {
            let key = text::email_key(&e.value);
            if !key.is_empty() {
                buckets.entry((0, key)).or_default().push(index);
            }
        }
        for p in &contact.phones {
            if let Some(key) = phone_bucket(&p.value) {
                buckets.entry((1, key)).or_default().push(index);
            }
        }
        if let Some(org) = org.as_deref().map(fold).filter(|o| !o.trim().is_empty()) {
            let initials: String = folded
                .chars()
                .filter(|c| !c.is_whitespace())
                .take(2)
                .collect();
            if !initials.is_empty() {
                buckets
                    .entry((2, format!("{}\u{0}{initials}", org.trim())))
                    .or_default()
                    .push(index);
            }
        }
        people.push(Slim {
            id: contact.id,
            name: contact.name,
            folded,
        });
    }
    let mut best: BTreeMap<(Id, Id), DuplicatePair> = BTreeMap::new();
    let mut offer = |x: &Slim, y: &Slim, reason: String, score: u8| {
        if x.id == y.id {
            return;
        }
        let (a, b) = if x.id < y.id {
            (x.id, y.id)
        } else {
            (y.id, x.id)
        };
        let pair = DuplicatePair {
            a,
            b,
            reason,
            score,
        };
        match best.get(&(a, b)) {
            Some(existing) if existing.score >= score => {}
            _ => {
                best.insert((a, b), pair);
            }
        }
    };
    for ((kind, key), members) in &buckets {
        let members = &members[..members.len().min(MAX_BUCKET)];
        for (i, &x) in members.iter().enumerate() {
            for &y in &members[i + 1..] {
                let (px, py) = (&people[x], &people[y]);
                match kind {
                    0 => offer(px, py, format!("same email {key}"), 95),
                    1 => offer(px, py, format!("same phone …{key}"), 85),
                    _ => {
                        let sim = name_similarity(&px.folded, &py.folded);
                        if sim >= NAME_THRESHOLD {
                            let org = key.split('\u{0}').next().unwrap_or("");
                            offer(
                                px,
                                py,
                                format!(
                                    "similar names “{}” and “{}” at {org}",
                                    text::visible(&px.name, false),
                                    text::visible(&py.name, false)
                                ),
                                (u16::from(sim) * 9 / 10) as u8,
                            );
                        }
                    }
                }
            }
        }
    }
    let mut pairs: Vec<DuplicatePair> = best.into_values().collect();
    pairs.sort_by(|x, y| y.score.cmp(&x.score).then((x.a, x.b).cmp(&(y.a, y.b))));
    pairs
}

/// How likely another contact is the same person as a given one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Likely {
    pub id: Id,
    pub reason: String,
    pub score: u8,
}

/// Scores `others` (e.g. [`crate::store::Store::possible_duplicates`]) against `subject`, best
/// first. Same rules as [`duplicate_candidates`], plus near-identical names (≥ 90) without a
/// shared organisation at a lower score: one person looking at one record can judge those.
pub fn duplicates_of(
    subject: &Contact,
    subject_org: &str,
    others: Vec<(Contact, String)>,
) -> Vec<Likely> {
    let org = |o: &str| Some(o.to_string()).filter(|o| !o.trim().is_empty());
    let folded = fold(&text::clean_line(&subject.name));
    let mut by_name: Vec<Likely> = others
        .iter()
        .filter_map(|(c, _)| {
            let sim = name_similarity(&folded, &fold(&text::clean_line(&c.name)));
            (sim >= 90).then(|| Likely {
                id: c.id,
                reason: format!("similar name “{}”", text::visible(&c.name, false)),
                score: sim * 2 / 3,
            })
        })
        .collect();
    let all = std::iter::once((subject.clone(), org(subject_org)))
        .chain(others.into_iter().map(|(c, o)| (c, org(&o))));
    let mut out: Vec<Likely> = duplicate_candidates(all)
        .into_iter()
        .filter(|p| p.a == subject.id || p.b == subject.id)
        .map(|p| Likely {
            id: if p.a == subject.id { p.b } else { p.a },
            reason: p.reason,
            score: p.score,
        })
        .collect();
    by_name.retain(|n| out.iter().all(|o| o.id != n.id));
    out.append(&mut by_name);
    out.sort_by(|x, y| y.score.cmp(&x.score).then(x.id.cmp(&y.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_similarity() {
        assert_eq!(fold("Nguyễn Đức"), "nguyen duc");
        assert_eq!(fold("Müller Straße"), "muller strasse");
        assert!(name_similarity("Jon Smith", "John Smith") >= 80);
        assert!(name_similarity("An Nguyen Van", "Nguyen Van An") >= 95);
        assert!(name_similarity("Ana Lopez", "Bob Marley") < 50);
    }

    fn person(id: Id, name: &str, email: &str) -> Contact {
        let mut c = crate::domain::ContactDraft {
            name: name.into(),
            emails: if email.is_empty() {
                Vec::new()
            } else {
                vec![crate::domain::Labelled::new("", email)]
            },
            ..Default::default()
        }
        .into_contact(&crate::domain::Actor::new("t"))
        .expect("valid");
        c.id = id;
        c
    }

    #[test]
    fn duplicates_of_one_contact_rank_email_over_name_and_skip_strangers() {
        let subject = person(1, "Zoë Müller", "zoe@acme.de");
        let others = vec![
            (person(2, "Zoe Muller", ""), String::new()),
            (person(3, "Z. Mueller", "ZOE@acme.de"), "Acme".into()),
            (person(4, "Bob Marley", ""), String::new()),
        ];
        let found = duplicates_of(&subject, "", others);
        let ids: Vec<Id> = found.iter().map(|l| l.id).collect();
        assert_eq!(
            ids,
            [3, 2],
            "email match first, accent-only name difference second"
        );
        assert!(found[0].reason.contains("same email"), "{:?}", found[0]);
        assert!(found[1].reason.contains("similar name"), "{:?}", found[1]);
        assert!(found[0].score > found[1].score);
    }
}
