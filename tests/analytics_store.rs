//! The store keeps every customer's purchase summary current: whatever order purchases come in,
//! through single writes, bulk loads, undo, delete, restore and merge, the stored summary equals
//! one rebuilt from the purchases themselves, and `rolo doctor` agrees. A schema-5 file gains
//! its summaries on open. The report rollups and rating summaries (schema 8) follow every
//! write the same way, and the reports read from them equal the same reports computed from
//! the timeline's lines.

use rolo::analytics::summary::PurchaseSummary;
use rolo::domain::{Actor, At, ContactDraft, Entry, Id, Purchase};
use rolo::store::Store;

const DAY: i64 = 86_400_000;

fn sam() -> Actor {
    Actor::new("sam")
}

fn contact(store: &Store, name: &str) -> rolo::domain::Contact {
    store
        .add_contact(
            &sam(),
            ContactDraft {
                name: name.into(),
                ..ContactDraft::default()
            },
        )
        .unwrap()
}

fn purchase(contact: Id, day: i64, hour: i64, amount: i64, currency: &str) -> Entry {
    Entry::Purchase(Purchase {
        id: 0,
        contact,
        at: At::from_millis(1_700_000_000_000 / DAY * DAY + day * DAY + hour * 3_600_000),
        product: format!("P{}", amount % 3),
        quantity: 1,
        amount,
        cost: amount / 3,
        currency: currency.into(),
        channel: "web".into(),
        location: "Lyon".into(),
    })
}

/// The summary rebuilt from the contact's purchases on the timeline.
fn rebuilt(store: &Store, id: Id) -> Option<PurchaseSummary> {
    let entries = store.timeline(id, usize::MAX).unwrap();
    let purchases: Vec<&Purchase> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Purchase(p) => Some(p),
            _ => None,
        })
        .collect();
    (!purchases.is_empty()).then(|| PurchaseSummary::of(id, &purchases))
}

fn assert_current(store: &mut Store, ids: &[Id]) {
    for &id in ids {
        assert_eq!(
            store.customer_summary(id).unwrap(),
            rebuilt(store, id),
            "#{id}"
        );
    }
    let report = store.doctor().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}

/// Days out of order, same-day repeats, a day between first and last, a second currency.
const PATTERN: [(i64, i64, i64, &str); 7] = [
    (10, 9, 1000, "EUR"),
    (30, 9, 2000, "EUR"),
    (10, 15, 500, "EUR"),
    (20, 9, 0, "EUR"),
    (20, 18, 700, "EUR"),
    (5, 9, 300, "EUR"),
    (25, 9, 900, "USD"),
];

#[test]
fn single_writes_in_any_order_keep_the_summary_current() {
    let mut store = Store::in_memory().unwrap();
    let ana = contact(&store, "Ana");
    let bob = contact(&store, "Bob");
    for (d, h, amount, cur) in PATTERN {
        store
            .add_entry(&sam(), purchase(ana.id, d, h, amount, cur))
            .unwrap();
        assert_current(&mut store, &[ana.id]);
    }
    let s = store.customer_summary(ana.id).unwrap().unwrap();
    assert_eq!((s.days, s.lines), (5, 7)); // days 5, 10, 20, 25, 30
    assert_eq!(s.money.len(), 2);
    assert_eq!(s.money[0].first_day_amount, 300); // day 5 in EUR
    assert_eq!(store.customer_summary(bob.id).unwrap(), None);
    // An interaction is no purchase.
    assert_eq!(store.customer_summaries().unwrap().len(), 1);
}

#[test]
fn undo_delete_restore_and_merge_keep_it_current() {
    let mut store = Store::in_memory().unwrap();
    let ana = contact(&store, "Ana");
    let bob = contact(&store, "Bob");
    for (d, h, amount, cur) in PATTERN {
        store
            .add_entry(&sam(), purchase(ana.id, d, h, amount, cur))
            .unwrap();
    }
    store
        .add_entry(&sam(), purchase(bob.id, 12, 9, 4000, "EUR"))
        .unwrap();
    store
        .add_entry(&sam(), purchase(bob.id, 10, 10, 100, "EUR"))
        .unwrap();
    // Undo the last purchase: bob is back to one purchase day.
    store.undo(&sam()).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_eq!(store.customer_summary(bob.id).unwrap().unwrap().days, 1);
    // Delete bob: no summary; restore: it comes back.
    store.delete_contact(&sam(), bob.id).unwrap();
    assert_eq!(store.customer_summary(bob.id).unwrap(), None);
    assert_current(&mut store, &[ana.id, bob.id]);
    store.restore_contact(&sam(), bob.id).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_eq!(store.customer_summary(bob.id).unwrap().unwrap().lines, 1);
    // Merge bob into ana: ana has both histories, bob nothing.
    let survivor = store.contact(ana.id).unwrap().unwrap();
    let absorbed = store.contact(bob.id).unwrap().unwrap();
    store.merge_contacts(&sam(), survivor, &absorbed).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    let s = store.customer_summary(ana.id).unwrap().unwrap();
    assert_eq!((s.lines, s.days), (8, 6));
    assert_eq!(store.customer_summary(bob.id).unwrap(), None);
    // And undoing the merge splits them again.
    store.undo(&sam()).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_eq!(store.customer_summary(bob.id).unwrap().unwrap().lines, 1);
}

#[test]
fn a_bulk_load_writes_the_same_summaries_as_single_writes() {
    let single = Store::in_memory().unwrap();
    let mut bulk = Store::in_memory().unwrap();
    // Tiny budget: the held-back rows (and summaries) are written out mid-load too.
    bulk.set_bulk_budget(64);
    let mut ids = Vec::new();
    for name in ["Ana", "Bob", "Cy"] {
        ids.push(contact(&single, name).id);
        contact(&bulk, name);
    }
    let lines: Vec<Entry> = ids
        .iter()
        .flat_map(|&id| {
            PATTERN
                .iter()
                .map(move |&(d, h, a, c)| purchase(id, d + id as i64, h, a, c))
        })
        .collect();
    for l in &lines {
        single.add_entry(&sam(), l.clone()).unwrap();
    }
    bulk.bulk(&sam(), "import purchases", |b| {
        for l in &lines {
            b.add_entry(l.clone())?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        single.customer_summaries().unwrap(),
        bulk.customer_summaries().unwrap()
    );
    assert_current(&mut bulk, &ids);
}

#[test]
fn a_schema_6_file_gains_its_purchase_summaries_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.redb");
    let (ids, before) = {
        let store = Store::open(&path).unwrap();
        let ana = contact(&store, "Ana");
        let bob = contact(&store, "Bob");
        for (d, h, amount, cur) in PATTERN {
            store
                .add_entry(&sam(), purchase(ana.id, d, h, amount, cur))
                .unwrap();
        }
        store
            .add_entry(&sam(), purchase(bob.id, 3, 1, 10, "EUR"))
            .unwrap();
        (vec![ana.id, bob.id], store.customer_summaries().unwrap())
    };
    // Make it the file schema 6 wrote: no summary table, version 6.
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        let gone = redb::TableDefinition::<u64, &[u8]>::new("purchase_summaries");
        assert!(txn.delete_table(gone).unwrap());
        let meta = redb::TableDefinition::<&str, u64>::new("meta");
        txn.open_table(meta)
            .unwrap()
            .insert("schema_version", 6)
            .unwrap();
        txn.commit().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), rolo::store::SCHEMA_VERSION);
    assert_eq!(store.customer_summaries().unwrap(), before);
    assert_eq!(before.len(), 2);
    assert_current(&mut store, &ids);
}

fn rated(contact: Id, day: i64, agent: &str, score: u8) -> Entry {
    let mut i = rolo::domain::Interaction::new(contact, rolo::domain::Channel::Call, "call");
    i.at = At::from_millis(1_700_000_000_000 / DAY * DAY + day * DAY);
    i.agent = agent.into();
    i.satisfaction = Some(score);
    Entry::Interaction(i)
}

/// The reports read from the rollups equal the same numbers computed line by line from the
/// timeline (the functions the reports used before schema 8), at several `--as-of` days.
fn assert_reports_match_the_lines(store: &Store) {
    use rolo::analytics::performance::group_by;
    use rolo::analytics::reports;
    let mut purchases = Vec::new();
    let mut interactions = Vec::new();
    store
        .for_each_entry(|e| {
            match e {
                Entry::Purchase(p) => purchases.push(p),
                Entry::Interaction(i) => interactions.push(i),
                _ => {}
            }
            true
        })
        .unwrap();
    let base = i32::try_from(1_700_000_000_000 / DAY).unwrap();
    for offset in [-1, 5, 12, 20, 29, 400] {
        let as_of = rolo::domain::Day::from_number(base + offset);
        let limit = as_of.number();
        let day = |at: At| i32::try_from(at.millis().div_euclid(DAY)).unwrap();
        let lines: Vec<&Purchase> = purchases.iter().filter(|p| day(p.at) <= limit).collect();
        let perf = reports::performance(
            store,
            &reports::PerformanceOptions {
                as_of: Some(as_of),
                by: Vec::new(),
            },
        )
        .unwrap();
        for g in &perf.groups {
            let expected = group_by(g.by, lines.iter().copied());
            assert_eq!(g.groups, expected, "{:?} as of {offset}", g.by);
        }
        assert_eq!(perf.groups.len(), 4);
        let profit = reports::profit(
            store,
            &reports::ProfitOptions {
                as_of: Some(as_of),
                top: 100,
            },
        )
        .unwrap();
        let products = rolo::analytics::profit::products(lines.iter().copied());
        for c in &profit.currencies {
            let mut expected: Vec<(String, i64)> = products
                .get(&c.currency)
                .map(|m| m.iter().map(|(k, t)| (k.clone(), t.margin)).collect())
                .unwrap_or_default();
            expected.sort();
            let mut got: Vec<(String, i64)> = c
                .top_products
                .iter()
                .map(|p| (p.product.clone(), p.totals.margin))
                .collect();
            got.sort();
            assert_eq!(got, expected, "{} products as of {offset}", c.currency);
        }
        let rated: Vec<&rolo::domain::Interaction> =
            interactions.iter().filter(|i| day(i.at) <= limit).collect();
        let expected = rolo::analytics::satisfaction::satisfaction(rated.iter().copied());
        let got = reports::satisfaction(
            store,
            &reports::SatisfactionOptions {
                as_of: Some(as_of),
                top: 100,
                customers: true,
            },
        )
        .unwrap();
        assert_eq!(got.satisfaction, expected, "satisfaction as of {offset}");
    }
}

#[test]
fn report_rollups_follow_every_kind_of_write_and_equal_the_lines() {
    let mut store = Store::in_memory().unwrap();
    let ana = contact(&store, "Ana");
    let bob = contact(&store, "Bob");
    for (d, h, amount, cur) in PATTERN {
        store
            .add_entry(&sam(), purchase(ana.id, d, h, amount, cur))
            .unwrap();
    }
    store
        .add_entry(&sam(), purchase(bob.id, 12, 9, 4000, "EUR"))
        .unwrap();
    let mut calls = Vec::new();
    for (who, day, agent, score) in [
        (ana.id, 3, "sam", 5),
        (ana.id, 14, "ana", 4),
        (bob.id, 14, "sam", 2),
        (bob.id, 21, "sam", 5),
        (ana.id, 28, "lee", 1),
    ] {
        calls.push(
            store
                .add_entry(&sam(), rated(who, day, agent, score))
                .unwrap(),
        );
    }
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_reports_match_the_lines(&store);
    // An edit of a rating, then a deletion: both subtract what the old entry added.
    let Entry::Interaction(first) = calls[0].clone() else {
        panic!("not an interaction")
    };
    let mut edited = first.clone();
    edited.satisfaction = Some(2);
    store.edit_interaction(&sam(), &first, edited).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_reports_match_the_lines(&store);
    let Entry::Interaction(last) = calls[4].clone() else {
        panic!("not an interaction")
    };
    store.delete_interaction(&sam(), &last).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_reports_match_the_lines(&store);
    // Undo the deletion; delete, restore and merge a contact; undo the merge.
    store.undo(&sam()).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_reports_match_the_lines(&store);
    store.delete_contact(&sam(), bob.id).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_reports_match_the_lines(&store);
    store.restore_contact(&sam(), bob.id).unwrap();
    let survivor = store.contact(ana.id).unwrap().unwrap();
    let absorbed = store.contact(bob.id).unwrap().unwrap();
    store.merge_contacts(&sam(), survivor, &absorbed).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_reports_match_the_lines(&store);
    let ratings = store.customer_ratings().unwrap();
    assert_eq!(ratings.len(), 1, "bob's ratings moved to ana");
    assert_eq!(ratings[0].count, 5);
    store.undo(&sam()).unwrap();
    assert_current(&mut store, &[ana.id, bob.id]);
    assert_reports_match_the_lines(&store);
    assert_eq!(store.customer_ratings().unwrap().len(), 2);
}

#[test]
fn a_bulk_load_writes_the_same_rollups_as_single_writes() {
    let single = Store::in_memory().unwrap();
    let mut bulk = Store::in_memory().unwrap();
    let ids: Vec<Id> = (0..5)
        .map(|i| {
            let name = format!("C{i}");
            let a = contact(&single, &name).id;
            assert_eq!(contact(&bulk, &name).id, a);
            a
        })
        .collect();
    let mut entries = Vec::new();
    for &id in &ids {
        for &(d, h, a, c) in &PATTERN {
            entries.push(purchase(id, d + id as i64, h, a, c));
        }
        entries.push(rated(
            id,
            id as i64,
            "sam",
            u8::try_from(id % 5 + 1).unwrap(),
        ));
        entries.push(rated(id, 2 * id as i64, "ana", 4));
    }
    for e in &entries {
        single.add_entry(&sam(), e.clone()).unwrap();
    }
    bulk.bulk(&sam(), "import", |b| {
        for e in &entries {
            b.add_entry(e.clone())?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(single.rollup_rows().unwrap(), bulk.rollup_rows().unwrap());
    assert_eq!(
        single.customer_ratings().unwrap(),
        bulk.customer_ratings().unwrap()
    );
    assert!(!bulk.rollup_rows().unwrap().is_empty());
    assert_current(&mut bulk, &ids);
    assert_reports_match_the_lines(&bulk);
}

#[test]
fn a_schema_7_file_gains_its_report_rollups_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v7.redb");
    let (ids, rows, ratings) = {
        let store = Store::open(&path).unwrap();
        let ana = contact(&store, "Ana");
        let bob = contact(&store, "Bob");
        for (d, h, amount, cur) in PATTERN {
            store
                .add_entry(&sam(), purchase(ana.id, d, h, amount, cur))
                .unwrap();
        }
        store.add_entry(&sam(), rated(bob.id, 4, "sam", 3)).unwrap();
        store.add_entry(&sam(), rated(bob.id, 9, "ana", 5)).unwrap();
        (
            vec![ana.id, bob.id],
            store.rollup_rows().unwrap(),
            store.customer_ratings().unwrap(),
        )
    };
    assert_eq!(ratings.len(), 1);
    // Make it the file schema 7 wrote: no rollup tables, version 7.
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        for name in ["report_rollups", "customer_ratings"] {
            let gone = redb::TableDefinition::<u64, &[u8]>::new(name);
            assert!(txn.delete_table(gone).unwrap(), "{name}");
        }
        let meta = redb::TableDefinition::<&str, u64>::new("meta");
        txn.open_table(meta)
            .unwrap()
            .insert("schema_version", 7)
            .unwrap();
        txn.commit().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), rolo::store::SCHEMA_VERSION);
    assert_eq!(store.rollup_rows().unwrap(), rows);
    assert_eq!(store.customer_ratings().unwrap(), ratings);
    assert_current(&mut store, &ids);
    assert_reports_match_the_lines(&store);
}

/// 60,000 customers: past the size where the summaries are read in two halves at once; every
/// one comes back, once, in id order.
#[test]
fn a_large_base_reads_every_summary_once_in_id_order() {
    let store = Store::in_memory().unwrap();
    let ids: Vec<Id> = store
        .bulk(&sam(), "load", |b| {
            let mut ids = Vec::new();
            for i in 0..60_000_i64 {
                let draft = ContactDraft {
                    name: format!("C{i}"),
                    ..ContactDraft::default()
                };
                let id = b.add_contact(draft.into_contact(&sam()).unwrap(), "")?;
                b.add_entry(purchase(id, i % 90, 9, 100 + i, "EUR"))?;
                ids.push(id);
            }
            Ok(ids)
        })
        .unwrap();
    let summaries = store.customer_summaries().unwrap();
    let got: Vec<Id> = summaries.iter().map(|s| s.contact).collect();
    assert_eq!(got, ids);
    assert_eq!(summaries.iter().map(|s| s.lines).sum::<u64>(), 60_000);
}

/// The CLV report shares each live customer's expectations between customers of one repeat
/// count and age, and keeps only churn-risk candidates when it lists no one: every figure must
/// equal the same customer scored alone, and the list and totals must not depend on it.
#[test]
fn the_clv_report_scores_every_customer_as_if_alone() {
    use rolo::analytics::clv::Models;
    use rolo::analytics::reports::{ClvOptions, clv_from, customer_clv};
    use rolo::analytics::summary::{Code, Money};
    let base = 20_000;
    let as_of = rolo::domain::Day::from_number(base + 400);
    // 40,000 customers (three of the report's chunks) who buy at their own rate and drop
    // out after a purchase with their own chance (buy-till-you-die): many share a repeat
    // count and age but not the last purchase (and so not P(alive)), as real bases do.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let summaries: Vec<PurchaseSummary> = (0..40_000u64)
        .map(|n| {
            let first_day = base + (next() % 300) as i32;
            let mean_gap = 5 + next() % 60;
            let dropout = 2 + next() % 60;
            let spend = 500 + (next() % 5_000) as i64;
            let (mut days, mut last_day, mut day) = (1u32, first_day, first_day);
            let mut amount = 1_000;
            loop {
                day += 1 + (next() % (2 * mean_gap)) as i32;
                if day > as_of.number() {
                    break;
                }
                days += 1;
                last_day = day;
                amount += spend / 2 + (next() % spend as u64) as i64;
                if next() % 100 < dropout {
                    break;
                }
            }
            let money = Money {
                currency: Code::new(if n % 29 == 0 { "USD" } else { "EUR" }),
                lines: u64::from(days),
                amount,
                cost: amount / 2,
                first_day_amount: 1_000,
            };
            PurchaseSummary {
                contact: n + 1,
                first_ms: i64::from(first_day) * DAY,
                last_ms: i64::from(last_day) * DAY,
                first_day,
                last_day,
                days,
                lines: u64::from(days),
                money: std::iter::once(money).collect(),
            }
        })
        .collect();
    let listed = ClvOptions {
        as_of: Some(as_of),
        customers: true,
        top: 25,
        ..ClvOptions::default()
    };
    let report = clv_from(&summaries, as_of, &listed);
    // Read as value rows (as the report reads the store), the customers score the same.
    let rows: Vec<rolo::analytics::summary::ValueRow> = summaries
        .iter()
        .map(rolo::analytics::summary::ValueRow::of)
        .collect();
    let from_rows = clv_from(&rows, as_of, &listed);
    assert_eq!(from_rows.scores, report.scores);
    assert_eq!(from_rows.churn_risk, report.churn_risk);
    assert_eq!(
        from_rows.gamma_gamma.map(|f| f.params),
        report.gamma_gamma.as_ref().map(|f| f.params)
    );
    let models = Models {
        as_of: as_of.number(),
        unit_days: 1.0,
        currency: report.currency.clone(),
        bg_nbd: report.bg_nbd.as_ref().map(|f| f.params),
        gamma_gamma: report.gamma_gamma.as_ref().map(|f| f.params),
    };
    assert!(models.bg_nbd.is_some() && models.gamma_gamma.is_some());
    assert!(
        report.bg_nbd.as_ref().is_some_and(|f| f.converged)
            && report.gamma_gamma.as_ref().is_some_and(|f| f.converged),
        "{:?} {:?}",
        report.bg_nbd,
        report.gamma_gamma
    );
    assert_eq!(report.scores.len(), summaries.len());
    let mut distinct_p = std::collections::BTreeSet::new();
    for (s, got) in summaries.iter().zip(&report.scores) {
        let alone = customer_clv(s, &models, &listed);
        assert_eq!(*got, alone, "customer {}", s.contact);
        distinct_p.insert(got.p_alive.to_bits());
    }
    assert!(distinct_p.len() > 100, "{}", distinct_p.len());
    let total: f64 = report.scores.iter().map(|c| c.expected_purchases).sum();
    assert!((report.expected_purchases - total).abs() < 1e-9 * total);
    // The list is the same whether or not every customer is kept.
    let mut by_risk = report.scores.clone();
    by_risk.sort_by(|a, b| {
        a.p_alive
            .total_cmp(&b.p_alive)
            .then(b.monetary.cmp(&a.monetary))
            .then(a.contact.cmp(&b.contact))
    });
    by_risk.truncate(25);
    assert_eq!(report.churn_risk, by_risk);
    let unlisted = clv_from(
        &summaries,
        as_of,
        &ClvOptions {
            customers: false,
            ..listed.clone()
        },
    );
    assert_eq!(unlisted.churn_risk, by_risk);
    assert!(unlisted.scores.is_empty());
    assert_eq!(unlisted.expected_purchases, report.expected_purchases);
    assert_eq!(unlisted.lifetime_value, report.lifetime_value);
    assert_eq!(unlisted.slipping, report.slipping);
}

#[test]
fn summaries_read_in_halves_and_pieces_are_every_customer_in_id_order() {
    let store = Store::in_memory().unwrap();
    let mut ids = Vec::new();
    for i in 0..41_i64 {
        let c = contact(&store, &format!("C{i}"));
        // Some customers buy in two currencies, some on several days.
        for d in 0..(i % 4) + 1 {
            let cur = if i % 5 == 0 && d == 1 { "USD" } else { "EUR" };
            store
                .add_entry(&sam(), purchase(c.id, d * 7, 9, 100 + i * 10 + d, cur))
                .unwrap();
        }
        ids.push(c.id);
    }
    let whole = store
        .customer_summaries_split(|s| s, usize::MAX, 1)
        .unwrap();
    assert_eq!(
        whole.iter().map(|s| s.contact).collect::<Vec<_>>(),
        ids,
        "one read, in id order"
    );
    for s in &whole {
        assert_eq!(Some(s), rebuilt(&store, s.contact).as_ref());
    }
    // Two halves at once, the upper half in pieces of every size around its length.
    for piece in [1, 2, 3, 7, 20, 21, 40, 100] {
        let split = store.customer_summaries_split(|s| s, 2, piece).unwrap();
        assert_eq!(split, whole, "pieces of {piece}");
    }
    // Projected as read: the value rows are those of the summaries.
    let rows = store
        .customer_summaries_split(|s| rolo::analytics::summary::ValueRow::of(&s), 2, 5)
        .unwrap();
    let expected: Vec<_> = whole
        .iter()
        .map(rolo::analytics::summary::ValueRow::of)
        .collect();
    assert_eq!(rows, expected);
}
