//! `rolo dedupe`: lists likely duplicate contacts with a reason and a 0–100 score, best first.
//! It only reports; merging is the user's decision.

use serde::Serialize;

use super::Failure;
use super::output::{print_json, safe};
use crate::domain::{Contact, Id};
use crate::interop::duplicate_candidates;

#[derive(Serialize)]
struct PairJson {
    a: Id,
    a_name: String,
    b: Id,
    b_name: String,
    reason: String,
    score: u8,
}

pub fn run(ctx: &super::commands::Context, json: bool) -> Result<(), Failure> {
    let store = ctx.store(false, false)?;
    // Scoring needs every contact's name and contact points: slim copies, not whole records.
    let mut people: Vec<(Contact, Option<Id>)> = Vec::new();
    store.for_each_contact(|c| {
        let org = c.organization;
        people.push((
            Contact {
                notes: String::new(),
                addresses: Vec::new(),
                custom: Default::default(),
                consent: Vec::new(),
                ..c
            },
            org,
        ));
        true
    })?;
    let mut org_names = std::collections::HashMap::new();
    let mut with_orgs = Vec::with_capacity(people.len());
    for (c, org) in people {
        let name = match org {
            Some(id) => match org_names.get(&id) {
                Some(n) => Some(n),
                None => {
                    let n = store.organization_name(Some(id))?;
                    Some(&*org_names.entry(id).or_insert(n))
                }
            }
            .cloned(),
            None => None,
        };
        with_orgs.push((c, name.filter(|n: &String| !n.is_empty())));
    }
    let names: std::collections::HashMap<Id, String> = with_orgs
        .iter()
        .map(|(c, _)| (c.id, c.name.clone()))
        .collect();
    let pairs = duplicate_candidates(with_orgs.into_iter());
    let name = |id: Id| names.get(&id).cloned().unwrap_or_default();
    if json {
        let out: Vec<PairJson> = pairs
            .into_iter()
            .map(|p| PairJson {
                a_name: name(p.a),
                b_name: name(p.b),
                a: p.a,
                b: p.b,
                reason: p.reason,
                score: p.score,
            })
            .collect();
        return print_json(&out);
    }
    if pairs.is_empty() {
        outln!("No likely duplicates found.");
    }
    for p in &pairs {
        outln!(
            "{:>3}  #{} {}  ⇄  #{} {} — {}",
            p.score,
            p.a,
            safe(&name(p.a)),
            p.b,
            safe(&name(p.b)),
            safe(&p.reason)
        );
    }
    if let Some(p) = pairs.first() {
        outln!(
            "\nMerge a pair with `rolo merge {} {}` (or `m` on the contact in the TUI to choose field by field).",
            p.a,
            p.b
        );
    }
    Ok(())
}
