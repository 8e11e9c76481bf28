//! The purchase filters of the query language end to end: on demo data plus an imported
//! purchases CSV, `rolo search` with `rfm:`, `r:`/`f:`/`m:`, `orders>=`, `spent>`,
//! `last_purchase>`, `palive<`, `bought:` and `month:` finds exactly the contacts `rolo report`
//! and an independent count from `rolo export --format json` name; a new purchase changes the
//! answer at once, through the CLI's server and in-process.

mod common;

use common::{json, ok};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rolo::api::{Caller, Db, Source};
use rolo::domain::{Actor, At, ContactDraft, Entry, Labelled, Purchase};
use rolo::store::Store;
use serde_json::Value;

/// The ids `rolo search QUERY` finds (all of them).
fn search(db: &Path, query: &str) -> BTreeSet<u64> {
    json(db, &["search", "--limit", "1000000", "--json", "--", query])
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_u64().expect("id"))
        .collect()
}

/// One customer as `rolo export --format json` shows them: purchase days, UTC months,
/// products, and the amount per currency.
#[derive(Default)]
struct Bought {
    days: BTreeSet<String>,
    months: BTreeSet<String>,
    products: BTreeSet<String>,
}

fn from_export(db: &Path) -> (BTreeSet<u64>, BTreeMap<u64, Bought>) {
    let export = json(db, &["export", "--format", "json"]);
    let mut everyone = BTreeSet::new();
    let mut customers: BTreeMap<u64, Bought> = BTreeMap::new();
    for c in export["contacts"].as_array().expect("contacts") {
        let id = c["contact"]["id"].as_u64().expect("id");
        everyone.insert(id);
        for e in c["timeline"].as_array().expect("timeline") {
            let Some(p) = e.get("purchase") else { continue };
            let at = p["at"].as_str().expect("at");
            let b = customers.entry(id).or_default();
            b.days.insert(at[..10].to_string());
            b.months.insert(at[..7].to_string());
            b.products
                .insert(p["product"].as_str().expect("product").to_string());
        }
    }
    (everyone, customers)
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("rolo.redb");
    ok(&db, &["demo", "--contacts", "300", "--seed", "5"]);
    ok(
        &db,
        &["add", "--name", "Ana Lima", "--email", "ana@example.org"],
    );
    ok(
        &db,
        &["add", "--name", "Bob Stone", "--email", "bob@example.org"],
    );
    let orders = dir.path().join("orders.csv");
    let mut csv = String::from("customer,date,product,quantity,amount,cost,currency\n");
    for day in ["2025-01-10", "2025-02-14", "2025-03-01", "2025-03-01"] {
        csv.push_str(&format!(
            "ana@example.org,{day},Gift card,1,600.00,10.00,EUR\n"
        ));
    }
    csv.push_str("bob@example.org,2025-03-02,Team plan,1,19.50,6.00,EUR\n");
    std::fs::write(&orders, csv).expect("orders file");
    ok(
        &db,
        &[
            "import",
            &orders.display().to_string(),
            "--kind",
            "purchases",
        ],
    );
    (dir, db)
}

fn contact_id(db: &Path, email: &str) -> u64 {
    json(db, &["search", "--json", email])[0]["id"]
        .as_u64()
        .expect("id")
}

#[test]
fn purchase_filters_find_what_the_reports_and_the_export_say() {
    let (_dir, db) = setup();
    let rfm = json(&db, &["report", "rfm", "--customers", "--json"]);
    let scores = rfm["scores"].as_array().expect("scores");
    assert!(scores.len() > 150, "{}", scores.len());
    let where_ = |keep: &dyn Fn(&Value) -> bool| -> BTreeSet<u64> {
        scores
            .iter()
            .filter(|s| keep(s))
            .map(|s| s["contact"].as_u64().expect("contact"))
            .collect()
    };
    // Every segment, in its key and slug forms: exactly the report's contacts.
    for segment in rfm["segments"].as_array().expect("segments") {
        let key = segment["segment"].as_str().expect("key");
        let expected = where_(&|s| s["segment"] == key);
        assert_eq!(
            expected.len() as u64,
            segment["customers"].as_u64().unwrap()
        );
        assert_eq!(search(&db, &format!("rfm:{key}")), expected, "rfm:{key}");
        let slug = key.replace('_', "-");
        assert_eq!(search(&db, &format!("rfm:{slug}")), expected, "rfm:{slug}");
    }
    for score in 1..=5_u64 {
        for axis in ["r", "f", "m"] {
            let expected = where_(&|s| s[axis] == score);
            assert_eq!(
                search(&db, &format!("{axis}:{score}")),
                expected,
                "{axis}:{score}"
            );
        }
    }
    assert_eq!(
        search(&db, "r:4-5 f:4-5"),
        where_(&|s| s["r"].as_u64() >= Some(4) && s["f"].as_u64() >= Some(4))
    );
    // Negation keeps everyone else, contacts without purchases too.
    let (everyone, customers) = from_export(&db);
    let lost = search(&db, "rfm:lost");
    let not_lost = search(&db, "-rfm:lost");
    assert_eq!(not_lost.len() + lost.len(), everyone.len());
    assert!(not_lost.is_disjoint(&lost));

    // Counts from the export alone.
    let days = |id: &u64| customers.get(id).map_or(0, |b| b.days.len());
    let expect = |keep: &dyn Fn(&u64) -> bool| -> BTreeSet<u64> {
        everyone.iter().copied().filter(|id| keep(id)).collect()
    };
    assert_eq!(search(&db, "orders>=3"), expect(&|id| days(id) >= 3));
    assert_eq!(search(&db, "orders=0"), expect(&|id| days(id) == 0));
    assert_eq!(search(&db, "orders<2"), expect(&|id| days(id) < 2));
    let ana = contact_id(&db, "ana@example.org");
    assert_eq!(days(&ana), 3, "two lines on 2025-03-01 are one order");
    assert!(search(&db, "orders=3").contains(&ana));
    let team: BTreeSet<u64> = customers
        .iter()
        .filter(|(_, b)| b.products.contains("Team plan"))
        .map(|(id, _)| *id)
        .collect();
    assert!(team.len() > 10);
    assert_eq!(search(&db, "bought:\"Team plan\""), team);
    assert_eq!(search(&db, "bought:\"team plan\""), team);
    let month = customers
        .values()
        .flat_map(|b| b.months.iter())
        .max()
        .expect("a month")
        .clone();
    assert_eq!(
        search(&db, &format!("month:{month}")),
        customers
            .iter()
            .filter(|(_, b)| b.months.contains(&month))
            .map(|(id, _)| *id)
            .collect()
    );
    assert_eq!(
        search(&db, "month:2025-03 bought:gift"),
        BTreeSet::from([ana])
    );

    // Money and recency as the report has them.
    assert_eq!(
        search(&db, "spent>1000"),
        where_(&|s| s["monetary"].as_i64() > Some(100_000))
    );
    assert!(search(&db, "spent>=2400").contains(&ana), "4 × 600.00");
    assert_eq!(
        search(&db, "last_purchase>180d"),
        where_(&|s| s["days_since_last"].as_i64() > Some(180))
    );
    assert_eq!(
        search(&db, "last_purchase<=4w"),
        where_(&|s| s["days_since_last"].as_i64() <= Some(28))
    );
    let clv = json(&db, &["report", "clv", "--customers", "--json"]);
    let slipping: BTreeSet<u64> = clv["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .filter(|c| c["p_alive"].as_f64() < Some(0.3))
        .map(|c| c["contact"].as_u64().expect("contact"))
        .collect();
    assert_eq!(clv["slipping"].as_u64(), Some(slipping.len() as u64));
    assert_eq!(search(&db, "palive<0.3"), slipping);

    // With text: the filters narrow the fuzzy match.
    let anas = search(&db, "ana");
    let anas_buying = search(&db, "ana orders>=1");
    assert!(anas_buying.is_subset(&anas) && anas_buying.contains(&ana));
}

#[test]
fn a_new_purchase_changes_the_answer_at_once() {
    let (_dir, db) = setup();
    let bob = contact_id(&db, "bob@example.org");
    assert!(search(&db, "orders=1").contains(&bob));
    assert!(!search(&db, "bought:\"gift card\"").contains(&bob));
    ok(
        &db,
        &[
            "purchase",
            &bob.to_string(),
            "--product",
            "Gift card",
            "--amount",
            "5000",
        ],
    );
    assert!(search(&db, "bought:\"gift card\"").contains(&bob));
    assert!(search(&db, "orders=2").contains(&bob));
    assert!(search(&db, "spent>5000").contains(&bob));
    assert!(
        search(&db, "last_purchase<1d").contains(&bob),
        "bought today"
    );
    // The segments still are the report's, boundaries and all.
    let rfm = json(&db, &["report", "rfm", "--customers", "--json"]);
    for segment in ["champions", "new", "potential_loyalist", "lost"] {
        let expected: BTreeSet<u64> = rfm["scores"]
            .as_array()
            .expect("scores")
            .iter()
            .filter(|s| s["segment"] == segment)
            .map(|s| s["contact"].as_u64().expect("contact"))
            .collect();
        assert_eq!(
            search(&db, &format!("rfm:{segment}")),
            expected,
            "{segment}"
        );
    }
}

fn purchase(contact: u64, at: At, product: &str, amount: i64) -> Entry {
    Entry::Purchase(Purchase {
        id: 0,
        contact,
        at,
        product: product.into(),
        quantity: 1,
        amount,
        cost: 0,
        currency: "EUR".into(),
        channel: String::new(),
        location: String::new(),
    })
}

/// In-process, as the TUI's server: each write reaches the index's columns before the next
/// search, and a deleted (then restored) customer leaves (and rejoins) the segment.
#[test]
fn the_index_follows_purchases_deletes_and_restores() {
    let db = Db::local(
        Store::in_memory().expect("store"),
        Caller::local(Actor::new("sam"), Source::Cli),
    );
    let day = 86_400_000;
    let now = At::now().millis();
    let mut ids = Vec::new();
    for n in 0..10 {
        let c = db
            .add_contact(ContactDraft {
                name: format!("Customer {n}"),
                emails: vec![Labelled {
                    label: String::new(),
                    value: format!("c{n}@example.org"),
                }],
                ..ContactDraft::default()
            })
            .expect("contact");
        // Customer n last bought n × 30 days ago, n + 1 times.
        for k in 0..=n {
            let at = At::from_millis(now - i64::from(n) * 30 * day - i64::from(k) * day);
            db.add_entry(purchase(c.id, at, "Team plan", 1000))
                .expect("purchase");
        }
        ids.push(c.id);
    }
    let found = |q: &str| -> BTreeSet<u64> {
        db.search_ids(q.to_string(), 1000)
            .expect("search")
            .into_iter()
            .collect()
    };
    assert_eq!(found("r:5"), BTreeSet::from([ids[0], ids[1]]));
    assert_eq!(
        found("last_purchase>200d"),
        BTreeSet::from([ids[7], ids[8], ids[9]])
    );
    assert_eq!(found("bought:team").len(), 10);
    // Customer 9 buys today: most recent now, and bought something new.
    db.add_entry(purchase(ids[9], At::now(), "Pro plan", 5000))
        .expect("purchase");
    assert!(found("r:5").contains(&ids[9]));
    assert!(!found("last_purchase>200d").contains(&ids[9]));
    assert_eq!(found("bought:pro"), BTreeSet::from([ids[9]]));
    // Deleted: gone from every purchase filter; restored: back.
    db.delete_contact(ids[9]).expect("delete");
    assert!(!found("bought:pro").contains(&ids[9]));
    assert!(!found("orders>=1").contains(&ids[9]));
    db.restore_contact(ids[9]).expect("restore");
    assert_eq!(found("bought:pro"), BTreeSet::from([ids[9]]));
    assert!(found("r:5").contains(&ids[9]));
    // The detail pane's figures for the same customer.
    let card = db
        .customer_analytics(ids[9])
        .expect("request")
        .expect("a customer");
    assert_eq!(card.purchase_days, 11);
    assert_eq!(card.rfm.r, 5);
    assert_eq!(card.days_since_last, 0);
    assert!(card.p_alive.is_some_and(|p| p > 0.0 && p <= 1.0));
    assert_eq!(db.customer_analytics(999).expect("request"), None);
}

/// The server computes the dashboard once per commit and hands the same figures to every
/// screen that asks again: a purchase, a deletion and its undoing each show at once.
#[test]
fn the_dashboard_is_shared_between_commits_and_follows_every_one() {
    let db = Db::local(
        Store::in_memory().expect("store"),
        Caller::local(Actor::new("sam"), Source::Cli),
    );
    let now = At::now().millis();
    let mut ids = Vec::new();
    for n in 0..4 {
        let c = db
            .add_contact(ContactDraft {
                name: format!("Buyer {n}"),
                ..ContactDraft::default()
            })
            .expect("contact");
        db.add_entry(purchase(
            c.id,
            At::from_millis(now - n * 86_400_000),
            "Team plan",
            1000,
        ))
        .expect("purchase");
        ids.push(c.id);
    }
    let first = db.dashboard(None).expect("dashboard");
    assert_eq!(first.customers, 4);
    assert_eq!(db.dashboard(None).expect("dashboard"), first);
    let month_total =
        |d: &rolo::analytics::reports::Dashboard| d.months.iter().map(|m| m.amount).sum::<i64>();
    db.add_entry(purchase(ids[0], At::now(), "Pro plan", 5000))
        .expect("purchase");
    let after = db.dashboard(None).expect("dashboard");
    assert_eq!(month_total(&after), month_total(&first) + 5000);
    let newcomer = db
        .add_contact(ContactDraft {
            name: "Newcomer".into(),
            ..ContactDraft::default()
        })
        .expect("contact");
    db.add_entry(purchase(newcomer.id, At::now(), "Team plan", 700))
        .expect("purchase");
    assert_eq!(db.dashboard(None).expect("dashboard").customers, 5);
    db.delete_contact(newcomer.id).expect("delete");
    assert_eq!(db.dashboard(None).expect("dashboard").customers, 4);
    db.restore_contact(newcomer.id).expect("restore");
    assert_eq!(db.dashboard(None).expect("dashboard").customers, 5);
}
