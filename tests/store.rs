//! The store as a user meets it: what goes in comes back out, every change is audited, indexes
//! follow edits, the trash and undo give things back, stale edits are refused, and the file on
//! disk stays healthy (doctor, backup, lock, permissions, old schemas).
//!
//! Most tests run twice — against a real redb file in a temporary directory and against redb's
//! in-memory backend — through [`on_both`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rolo::domain::{
    Actor, Address, At, Channel, Consent, ConsentStatus, Contact, ContactDraft, CustomValue, Day,
    Deal, DealStage, DealStatus, Direction, Entry, FollowUp, Id, Interaction, Labelled, Outcome,
    Purchase, Stage,
};
use rolo::store::{Store, StoreError};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs `test` on a file-backed store and on an in-memory one. The backend's name is printed
/// first so a failure says which one broke.
fn on_both(test: impl Fn(&mut Store)) {
    let dir = tempfile::tempdir().unwrap();
    let mut file = Store::open(&dir.path().join("rolo.redb")).unwrap();
    eprintln!("--- backend: redb file");
    test(&mut file);
    drop(file);
    let mut memory = Store::in_memory().unwrap();
    eprintln!("--- backend: in memory");
    test(&mut memory);
}

fn sam() -> Actor {
    Actor::new("sam")
}

fn ana() -> Actor {
    Actor::new("ana")
}

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

/// 2026-11-25 12:00 UTC plus `minutes`.
fn at(minutes: i64) -> At {
    At::from_millis(1_795_608_000_000 + minutes * 60_000)
}

fn draft(name: &str, email: &str) -> ContactDraft {
    ContactDraft {
        name: name.into(),
        emails: if email.is_empty() {
            Vec::new()
        } else {
            vec![Labelled::new("work", email)]
        },
        ..ContactDraft::default()
    }
}

fn add(store: &Store, name: &str, email: &str) -> Contact {
    store.add_contact(&sam(), draft(name, email)).unwrap()
}

fn call(contact: Id, when: At, summary: &str) -> Interaction {
    Interaction {
        id: 0,
        contact,
        at: when,
        channel: Channel::Call,
        direction: Direction::Outbound,
        summary: summary.into(),
        body: String::new(),
        outcome: None,
        satisfaction: None,
        agent: String::new(),
        deal: None,
        campaign: String::new(),
    }
}

fn log(store: &Store, actor: &Actor, contact: Id, when: At, summary: &str) -> Interaction {
    store
        .log_interaction(actor, call(contact, when, summary), None)
        .unwrap()
        .interaction
}

fn follow_up(contact: Id, created: At, due: Day, what: &str) -> Entry {
    Entry::FollowUp(FollowUp {
        id: 0,
        contact,
        created,
        due,
        what: what.into(),
        done_at: None,
        assignee: "ana".into(),
    })
}

fn purchase(contact: Id, when: At) -> Entry {
    Entry::Purchase(Purchase {
        id: 0,
        contact,
        at: when,
        product: "Espresso machine".into(),
        quantity: 2,
        amount: 129_900,
        cost: 80_000,
        currency: "eur".into(),
        channel: "web".into(),
        location: "Lyon".into(),
    })
}

fn deal(contact: Id, title: &str) -> Deal {
    Deal {
        id: 0,
        contact: Some(contact),
        organization: None,
        title: title.into(),
        stage: DealStage::Propose,
        value: 1_250_000,
        currency: "eur".into(),
        expected_close: Some(day("2027-01-31")),
        status: DealStatus::Open,
        owner: String::new(),
        version: 0,
    }
}

fn as_follow_up(entry: &Entry) -> FollowUp {
    match entry {
        Entry::FollowUp(f) => f.clone(),
        other => panic!("expected a follow-up, got {other:?}"),
    }
}

fn summaries(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            Entry::Interaction(i) => i.summary.clone(),
            Entry::FollowUp(f) => format!("follow-up: {}", f.what),
            Entry::Purchase(p) => format!("purchase: {}", p.product),
        })
        .collect()
}

fn names(store: &Store, ids: &[Id]) -> Vec<String> {
    ids.iter()
        .map(|id| store.contact(*id).unwrap().unwrap().name)
        .collect()
}

fn audit_len(store: &Store) -> usize {
    store.audit_log(usize::MAX).unwrap().len()
}

fn assert_doctor_clean(store: &mut Store) {
    let report = store.doctor().unwrap();
    assert!(report.is_clean(), "doctor found problems: {report:#?}");
}

/// A contact with every field filled, a Vietnamese name and an accented organisation.
fn full_draft() -> ContactDraft {
    let mut custom = BTreeMap::new();
    custom.insert("shoe size".into(), CustomValue::Number(42.5));
    custom.insert("newsletter".into(), CustomValue::Bool(true));
    custom.insert("renewal".into(), CustomValue::Date(day("2027-03-01")));
    custom.insert("since".into(), CustomValue::Text("gold since 2019".into()));
    ContactDraft {
        name: "Nguyễn Văn Đức".into(),
        given_name: "Đức".into(),
        family_name: "Nguyễn".into(),
        organization: "Công ty Ánh Dương".into(),
        title: "Giám đốc".into(),
        emails: vec![
            Labelled::new("work", "duc@anhduong.vn"),
            Labelled::new("home", "Duc.Nguyen@Example.com"),
        ],
        phones: vec![
            Labelled::new("mobile", "+84 90 123 4567"),
            Labelled::new("work", "+1 (555) 123-4567"),
        ],
        addresses: vec![Address {
            label: "office".into(),
            street: "12 Lê Lợi".into(),
            city: "Huế".into(),
            region: "Thừa Thiên Huế".into(),
            postcode: "530000".into(),
            country: "Việt Nam".into(),
        }],
        birthday: Some("1984-02-29".parse().unwrap()),
        language: "vi".into(),
        preferred_channel: Some(Channel::Call),
        stage: Some(Stage::Customer),
        tier: "gold".into(),
        owner: "ana".into(),
        source: "trade fair".into(),
        tags: vec!["VIP".into(), "#Hue".into()],
        custom,
        consent: vec![
            Consent {
                channel: Channel::Email,
                status: ConsentStatus::Granted,
                at: At::from_millis(1_700_000_000_000),
                source: "web form".into(),
                purpose: "newsletter".into(),
            },
            Consent {
                channel: Channel::Sms,
                status: ConsentStatus::Denied,
                at: At::from_millis(1_700_000_100_000),
                source: "phone".into(),
                purpose: "offers".into(),
            },
        ],
        notes: "Met at the fair.\nPrefers mornings.\n\nAsk about the 2027 renewal.".into(),
        uid: "urn:uuid:6f1c-duc".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

#[test]
fn a_contact_with_every_field_comes_back_exactly_as_saved() {
    on_both(|store| {
        let saved = store.add_contact(&sam(), full_draft()).unwrap();
        let loaded = store.contact(saved.id).unwrap().expect("stored");
        assert_eq!(loaded, saved);

        assert_eq!(loaded.name, "Nguyễn Văn Đức");
        assert_eq!(loaded.given_name, "Đức");
        assert_eq!(loaded.family_name, "Nguyễn");
        assert_eq!(loaded.title, "Giám đốc");
        assert_eq!(
            loaded.emails,
            vec![
                Labelled::new("work", "duc@anhduong.vn"),
                Labelled::new("home", "Duc.Nguyen@Example.com"),
            ]
        );
        assert_eq!(loaded.phones[1].label, "work");
        assert_eq!(loaded.phones[1].value, "+1 (555) 123-4567");
        assert_eq!(loaded.addresses[0].city, "Huế");
        assert_eq!(loaded.addresses[0].country, "Việt Nam");
        assert_eq!(loaded.birthday.unwrap().to_string(), "1984-02-29");
        assert_eq!(loaded.preferred_channel, Some(Channel::Call));
        assert_eq!(loaded.stage, Stage::Customer);
        assert_eq!(loaded.tags, vec!["hue", "vip"]);
        assert_eq!(loaded.custom["shoe size"], CustomValue::Number(42.5));
        assert_eq!(loaded.custom["newsletter"], CustomValue::Bool(true));
        assert_eq!(
            loaded.custom["renewal"],
            CustomValue::Date(day("2027-03-01"))
        );
        assert_eq!(
            loaded.custom["since"],
            CustomValue::Text("gold since 2019".into())
        );
        assert_eq!(loaded.consent_for(Channel::Email), ConsentStatus::Granted);
        assert_eq!(loaded.consent_for(Channel::Sms), ConsentStatus::Denied);
        assert_eq!(loaded.consent_for(Channel::Post), ConsentStatus::Unknown);
        assert_eq!(loaded.consent[0].purpose, "newsletter");
        assert_eq!(
            loaded.notes,
            "Met at the fair.\nPrefers mornings.\n\nAsk about the 2027 renewal."
        );
        assert_eq!(loaded.uid, "urn:uuid:6f1c-duc");
        assert_eq!(loaded.owner, "ana");
        assert_eq!(loaded.created.by, "sam");
        assert_eq!(loaded.version, 1);
        assert_eq!(
            store.organization_name(loaded.organization).unwrap(),
            "Công ty Ánh Dương"
        );
    });
}

#[test]
fn a_cjk_name_round_trips_and_lists() {
    on_both(|store| {
        let c = add(store, "王小明", "xiaoming@example.cn");
        assert_eq!(store.contact(c.id).unwrap().unwrap().name, "王小明");
        let rows = store.list_rows(&[c.id]).unwrap();
        assert_eq!(rows[0].name, "王小明");
        assert_eq!(store.ids_by_name(None, 10).unwrap(), vec![c.id]);
    });
}

#[test]
fn an_organisation_is_found_by_name_ignoring_case_and_accents() {
    on_both(|store| {
        let mut first = draft("Ana", "ana@acme.fr");
        first.organization = "ACME Société".into();
        let ana_c = store.add_contact(&sam(), first).unwrap();
        let mut second = draft("Bob", "bob@acme.fr");
        second.organization = "  acme societe ".into();
        let bob_c = store.add_contact(&sam(), second).unwrap();
        let mut third = draft("Cy", "cy@other.fr");
        third.organization = "Other SARL".into();
        let cy_c = store.add_contact(&sam(), third).unwrap();

        assert!(ana_c.organization.is_some());
        assert_eq!(ana_c.organization, bob_c.organization, "same organisation");
        assert_ne!(ana_c.organization, cy_c.organization);
        let org = store
            .organization(ana_c.organization.unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(org.name, "ACME Société", "the first spelling is kept");
        assert_eq!(
            store.organization_by_name("Acme SOCIÉTÉ").unwrap(),
            ana_c.organization
        );
        assert_eq!(store.organization_by_name("Nobody Inc").unwrap(), None);
    });
}

#[test]
fn editing_the_organisation_relinks_and_empty_unlinks() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        assert_eq!(c.organization, None);
        let linked = store
            .update_contact(&sam(), c.clone(), Some("Globex"))
            .unwrap();
        assert_eq!(
            store.organization_name(linked.organization).unwrap(),
            "Globex"
        );
        let kept = store.update_contact(&sam(), linked.clone(), None).unwrap();
        assert_eq!(kept.organization, linked.organization);
        let unlinked = store.update_contact(&sam(), kept, Some("")).unwrap();
        assert_eq!(unlinked.organization, None);
        assert_eq!(store.contact(c.id).unwrap().unwrap().organization, None);
    });
}

#[test]
fn an_interaction_with_every_field_comes_back_on_the_timeline() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let d = store.add_deal(&sam(), deal(c.id, "Renewal")).unwrap();
        let mut meeting = call(c.id, at(0), "Quarterly review");
        meeting.channel = Channel::Meeting;
        meeting.direction = Direction::Inbound;
        meeting.body = "Went through the numbers.\nThey want a discount.".into();
        meeting.outcome = Some(Outcome::Resolved);
        meeting.satisfaction = Some(4);
        meeting.deal = Some(d.id);
        meeting.campaign = "spring".into();
        let logged = store.log_interaction(&sam(), meeting, None).unwrap();
        assert!(logged.follow_up.is_none());
        let timeline = store.timeline(c.id, 10).unwrap();
        assert_eq!(
            timeline,
            vec![Entry::Interaction(logged.interaction.clone())]
        );
        let Entry::Interaction(i) = &timeline[0] else {
            unreachable!()
        };
        assert_eq!(i.channel, Channel::Meeting);
        assert_eq!(i.direction, Direction::Inbound);
        assert_eq!(i.body, "Went through the numbers.\nThey want a discount.");
        assert_eq!(i.outcome, Some(Outcome::Resolved));
        assert_eq!(i.satisfaction, Some(4));
        assert_eq!(i.deal, Some(d.id));
        assert_eq!(i.campaign, "spring");
        assert_eq!(i.agent, "sam");
    });
}

#[test]
fn a_follow_up_a_purchase_and_a_deal_round_trip() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let f = store
            .add_entry(
                &sam(),
                follow_up(c.id, at(0), day("2026-12-01"), "Send quote"),
            )
            .unwrap();
        let p = store.add_entry(&sam(), purchase(c.id, at(5))).unwrap();
        let Entry::Purchase(bought) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(bought.currency, "EUR", "currency is normalised");
        assert_eq!(bought.margin(), 49_900);
        assert_eq!(
            store.timeline(c.id, 10).unwrap(),
            vec![p.clone(), f.clone()]
        );

        let d = store.add_deal(&ana(), deal(c.id, "Renewal 2027")).unwrap();
        assert_eq!(d.version, 1);
        assert_eq!(d.owner, "ana", "the actor owns a deal nobody was given");
        assert_eq!(d.currency, "EUR");
        assert_eq!(store.deals_for(c.id).unwrap(), vec![d.clone()]);

        let mut won = d.clone();
        won.status = DealStatus::Won;
        won.stage = DealStage::Closed;
        let won = store.update_deal(&ana(), won).unwrap();
        assert_eq!(won.version, 2);
        assert_eq!(store.deals_for(c.id).unwrap(), vec![won]);
        let err = store.update_deal(&ana(), d).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    });
}

// ---------------------------------------------------------------------------------------------
// Audit trail and actors
// ---------------------------------------------------------------------------------------------

#[test]
fn every_change_writes_an_audit_entry_naming_the_actor_and_the_fields() {
    on_both(|store| {
        let c = add(store, "Ana Lima", "ana@example.com");
        let added = &store.audit_log(1).unwrap()[0];
        assert_eq!(added.actor, "sam");
        assert_eq!(added.action, "add contact");
        assert!(added.undoable);
        assert_eq!(added.changes.len(), 1);
        assert_eq!(added.changes[0].operation(), "create");
        assert_eq!(added.subject(), Some(("contact", c.id)));

        let mut edited = c.clone();
        edited.title = "CTO".into();
        let saved = store.update_contact(&ana(), edited, None).unwrap();
        assert_eq!(
            saved.updated.by, "ana",
            "the editor is stamped on the record"
        );
        assert_eq!(saved.created.by, "sam", "creation stamp kept");
        assert_eq!(saved.version, 2);

        let log = store.audit_log(10).unwrap();
        assert_eq!(log.len(), 2, "one entry per action");
        let entry = &log[0];
        assert_eq!(entry.actor, "ana");
        assert_eq!(entry.action, "edit contact");
        assert!(entry.seq > log[1].seq, "newest first");
        let change = &entry.changes[0];
        assert_eq!(change.operation(), "update");
        assert_eq!(
            change.field_changes(),
            vec![("title".to_string(), String::new(), "CTO".to_string())],
            "only the title changed (version and updated stamp are not shown)"
        );
        match (&change.before, &change.after) {
            (
                Some(rolo::store::Record::Contact(before)),
                Some(rolo::store::Record::Contact(after)),
            ) => {
                assert_eq!(before.title, "");
                assert_eq!(after.title, "CTO");
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn the_actor_who_logs_a_call_is_its_agent_and_is_audited() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let logged = store
            .log_interaction(
                &ana(),
                call(c.id, at(0), "Rang back"),
                Some((day("2026-12-01"), String::new())),
            )
            .unwrap();
        assert_eq!(logged.interaction.agent, "ana");
        let f = logged.follow_up.unwrap();
        assert_eq!(f.assignee, "ana");
        assert_eq!(f.what, "Follow up: Rang back");
        let entry = &store.audit_log(1).unwrap()[0];
        assert_eq!(entry.actor, "ana");
        assert_eq!(entry.action, "log call");
        assert_eq!(entry.changes.len(), 2, "the call and its follow-up");
        assert!(entry.changes.iter().all(|c| c.operation() == "create"));

        let mut other = call(c.id, at(1), "Handed over");
        other.agent = "desk".into();
        let kept = store.log_interaction(&ana(), other, None).unwrap();
        assert_eq!(kept.interaction.agent, "desk", "a given agent is kept");
    });
}

// ---------------------------------------------------------------------------------------------
// Indexes
// ---------------------------------------------------------------------------------------------

#[test]
fn contacts_are_found_by_email_phone_tag_and_uid() {
    on_both(|store| {
        let duc = store.add_contact(&sam(), full_draft()).unwrap();
        let other = add(store, "Someone Else", "else@example.com");
        assert_eq!(
            store.find_by_email("DUC.nguyen@example.COM").unwrap(),
            vec![duc.id]
        );
        assert_eq!(
            store.find_by_email(" duc@anhduong.vn ").unwrap(),
            vec![duc.id]
        );
        assert_eq!(
            store.find_by_email("else@example.com").unwrap(),
            vec![other.id]
        );
        assert!(
            store
                .find_by_email("nobody@example.com")
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.find_by_phone("15551234567").unwrap(), vec![duc.id]);
        assert_eq!(
            store.find_by_phone("+84-90-123-4567").unwrap(),
            vec![duc.id]
        );
        assert!(store.find_by_phone("no digits").unwrap().is_empty());
        assert_eq!(store.find_by_tag("#VIP").unwrap(), vec![duc.id]);
        assert!(store.find_by_tag("gold").unwrap().is_empty());
        assert_eq!(
            store.find_by_uid("urn:uuid:6f1c-duc").unwrap(),
            Some(duc.id)
        );
        assert_eq!(store.find_by_uid("urn:uuid:none").unwrap(), None);
    });
}

#[test]
fn two_contacts_sharing_an_email_are_both_found() {
    on_both(|store| {
        let a = add(store, "Ana", "office@example.com");
        let b = add(store, "Bob", "Office@Example.com");
        let mut found = store.find_by_email("office@example.com").unwrap();
        found.sort();
        assert_eq!(found, vec![a.id, b.id]);
    });
}

#[test]
fn after_changing_an_email_the_old_one_no_longer_finds_the_contact() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@old.com");
        let mut edited = c.clone();
        edited.emails = vec![Labelled::new("work", "ana@new.com")];
        edited.phones = vec![Labelled::new("mobile", "+33 6 12 34 56 78")];
        edited.tags = vec!["partner".into()];
        store.update_contact(&sam(), edited, None).unwrap();
        assert!(store.find_by_email("ana@old.com").unwrap().is_empty());
        assert_eq!(store.find_by_email("ana@new.com").unwrap(), vec![c.id]);
        assert_eq!(store.find_by_phone("33612345678").unwrap(), vec![c.id]);
        assert_eq!(store.find_by_tag("partner").unwrap(), vec![c.id]);
        assert_doctor_clean(store);
    });
}

// ---------------------------------------------------------------------------------------------
// Timeline, follow-ups, summaries
// ---------------------------------------------------------------------------------------------

#[test]
fn logging_a_call_puts_it_at_the_top_of_the_timeline() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let now = At::now();
        let hours_ago = |h: i64| At::from_millis(now.millis() - h * 3_600_000);
        log(store, &sam(), c.id, hours_ago(2), "Intro call");
        log(store, &sam(), c.id, hours_ago(1), "Demo");
        let newest = log(store, &sam(), c.id, now, "Just now");
        let top = store.timeline(c.id, 1).unwrap();
        assert_eq!(top, vec![Entry::Interaction(newest)]);
    });
}

#[test]
fn the_timeline_is_newest_first_and_limited_whatever_the_logging_order() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let other = add(store, "Bob", "bob@example.com");
        log(store, &sam(), c.id, at(10), "second");
        log(store, &sam(), c.id, at(30), "fourth");
        log(store, &sam(), c.id, at(0), "first");
        log(store, &sam(), other.id, at(15), "someone else's");
        store.add_entry(&sam(), purchase(c.id, at(20))).unwrap();
        assert_eq!(
            summaries(&store.timeline(c.id, 10).unwrap()),
            vec!["fourth", "purchase: Espresso machine", "second", "first"]
        );
        assert_eq!(
            summaries(&store.timeline(c.id, 2).unwrap()),
            vec!["fourth", "purchase: Espresso machine"]
        );
        assert_eq!(
            summaries(&store.timeline(other.id, 10).unwrap()),
            vec!["someone else's"]
        );
        assert!(store.timeline(c.id, 0).unwrap().is_empty());
    });
}

#[test]
fn due_follow_ups_are_listed_oldest_first_with_the_contact_name() {
    on_both(|store| {
        let ana_c = add(store, "Ana Lima", "ana@example.com");
        let bob_c = add(store, "Bob Stone", "bob@example.com");
        let late = store
            .add_entry(
                &sam(),
                follow_up(ana_c.id, at(0), day("2026-12-03"), "Call back"),
            )
            .unwrap();
        let early = store
            .log_interaction(
                &sam(),
                call(bob_c.id, at(1), "Pitched"),
                Some((day("2026-12-01"), "Send deck".into())),
            )
            .unwrap()
            .follow_up
            .unwrap();
        store
            .add_entry(
                &sam(),
                follow_up(ana_c.id, at(2), day("2027-06-01"), "Much later"),
            )
            .unwrap();

        let due = store.due_until(day("2026-12-31"), 10).unwrap();
        let listed: Vec<(&str, &str)> = due
            .iter()
            .map(|d| (d.contact_name.as_str(), d.follow_up.what.as_str()))
            .collect();
        assert_eq!(
            listed,
            vec![("Bob Stone", "Send deck"), ("Ana Lima", "Call back")]
        );
        assert_eq!(due[0].follow_up.id, early.id);
        assert_eq!(store.due_until(day("2026-12-31"), 1).unwrap().len(), 1);
        assert!(store.due_until(day("2026-11-30"), 10).unwrap().is_empty());

        // Done: it disappears.
        let done = store.complete_follow_up(&sam(), &early).unwrap();
        assert!(done.done_at.is_some());
        let due = store.due_until(day("2026-12-31"), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].follow_up.what, "Call back");
        let err = store.complete_follow_up(&sam(), &done).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");

        // Rescheduled: it moves.
        let late = as_follow_up(&late);
        let moved = store
            .reschedule_follow_up(&sam(), &late, day("2027-01-15"))
            .unwrap();
        assert_eq!(moved.due, day("2027-01-15"));
        assert!(store.due_until(day("2026-12-31"), 10).unwrap().is_empty());
        let due = store.due_until(day("2027-01-31"), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].follow_up, moved);
        assert_eq!(store.summary(ana_c.id).unwrap().1, Some(day("2027-01-15")));
        assert_doctor_clean(store);
    });
}

#[test]
fn the_summary_gives_the_last_interaction_and_the_next_due_date() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        assert_eq!(store.summary(c.id).unwrap(), (None, None));
        log(store, &sam(), c.id, at(30), "later call");
        log(store, &sam(), c.id, at(10), "earlier call (logged late)");
        store.add_entry(&sam(), purchase(c.id, at(60))).unwrap();
        assert_eq!(store.summary(c.id).unwrap(), (Some(at(30)), None));
        let far = store
            .add_entry(&sam(), follow_up(c.id, at(31), day("2027-02-01"), "far"))
            .unwrap();
        let near = store
            .add_entry(&sam(), follow_up(c.id, at(32), day("2026-12-24"), "near"))
            .unwrap();
        assert_eq!(
            store.summary(c.id).unwrap(),
            (Some(at(30)), Some(day("2026-12-24")))
        );
        store
            .complete_follow_up(&sam(), &as_follow_up(&near))
            .unwrap();
        assert_eq!(store.summary(c.id).unwrap().1, Some(day("2027-02-01")));
        store
            .complete_follow_up(&sam(), &as_follow_up(&far))
            .unwrap();
        assert_eq!(store.summary(c.id).unwrap(), (Some(at(30)), None));
    });
}

// ---------------------------------------------------------------------------------------------
// Trash
// ---------------------------------------------------------------------------------------------

#[test]
fn deleting_moves_the_contact_its_timeline_and_deals_to_the_trash_and_restore_brings_them_back() {
    on_both(|store| {
        let c = store.add_contact(&sam(), full_draft()).unwrap();
        let keep = add(store, "Bystander", "by@example.com");
        log(store, &sam(), c.id, at(0), "Intro");
        store
            .log_interaction(
                &sam(),
                call(c.id, at(5), "Follow-up call"),
                Some((day("2026-12-02"), "Quote".into())),
            )
            .unwrap();
        store.add_entry(&sam(), purchase(c.id, at(7))).unwrap();
        store.add_deal(&sam(), deal(c.id, "Big one")).unwrap();

        let before = store.contact(c.id).unwrap().unwrap();
        let timeline = store.timeline(c.id, 100).unwrap();
        let deals = store.deals_for(c.id).unwrap();
        let summary = store.summary(c.id).unwrap();
        let rows = store.list_rows(&[c.id]).unwrap();
        assert_eq!(timeline.len(), 4);

        let bundle = store.delete_contact(&ana(), c.id).unwrap();
        assert_eq!(bundle.contact, before);
        assert_eq!(bundle.deleted.by, "ana");
        assert_eq!(store.contact(c.id).unwrap(), None);
        assert_eq!(store.contact_count().unwrap(), 1);
        assert!(store.timeline(c.id, 100).unwrap().is_empty());
        assert!(store.deals_for(c.id).unwrap().is_empty());
        assert!(store.find_by_email("duc@anhduong.vn").unwrap().is_empty());
        assert!(store.find_by_phone("15551234567").unwrap().is_empty());
        assert!(store.find_by_tag("vip").unwrap().is_empty());
        assert_eq!(store.find_by_uid("urn:uuid:6f1c-duc").unwrap(), None);
        assert_eq!(store.ids_by_name(None, 10).unwrap(), vec![keep.id]);
        assert!(store.due_until(day("2027-12-31"), 10).unwrap().is_empty());
        assert_eq!(store.summary(c.id).unwrap(), (None, None));
        let trash = store.trash().unwrap();
        assert_eq!(trash.len(), 1);
        assert_eq!(trash[0].contact, before);
        assert_eq!(trash[0].entries.len(), 4);
        assert_eq!(trash[0].deals, deals);
        assert_doctor_clean(store);

        let back = store.restore_contact(&ana(), c.id).unwrap();
        assert_eq!(back, before);
        assert_eq!(store.contact(c.id).unwrap().unwrap(), before);
        assert_eq!(store.timeline(c.id, 100).unwrap(), timeline);
        assert_eq!(store.deals_for(c.id).unwrap(), deals);
        assert_eq!(store.summary(c.id).unwrap(), summary);
        assert_eq!(store.list_rows(&[c.id]).unwrap(), rows);
        assert_eq!(store.find_by_email("duc@anhduong.vn").unwrap(), vec![c.id]);
        assert_eq!(store.find_by_phone("15551234567").unwrap(), vec![c.id]);
        assert_eq!(store.find_by_tag("vip").unwrap(), vec![c.id]);
        assert_eq!(store.find_by_uid("urn:uuid:6f1c-duc").unwrap(), Some(c.id));
        assert_eq!(store.due_until(day("2027-12-31"), 10).unwrap().len(), 1);
        assert!(store.trash().unwrap().is_empty());
        assert_doctor_clean(store);

        let err = store.restore_contact(&ana(), c.id).unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        let err = store.delete_contact(&ana(), 999).unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    });
}

#[test]
fn the_trash_lists_the_most_recently_deleted_first() {
    on_both(|store| {
        let a = add(store, "Ana", "ana@example.com");
        let b = add(store, "Bob", "bob@example.com");
        store.delete_contact(&sam(), a.id).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        store.delete_contact(&sam(), b.id).unwrap();
        let trash: Vec<Id> = store
            .trash()
            .unwrap()
            .iter()
            .map(|t| t.contact.id)
            .collect();
        assert_eq!(trash, vec![b.id, a.id]);
    });
}

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

#[test]
fn undo_of_an_add_removes_the_contact_and_its_indexes() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let undone = store.undo(&sam()).unwrap();
        assert_eq!(undone.action, "add contact");
        assert_eq!(store.contact(c.id).unwrap(), None);
        assert_eq!(store.contact_count().unwrap(), 0);
        assert!(store.find_by_email("ana@example.com").unwrap().is_empty());
        assert!(store.ids_by_name(None, 10).unwrap().is_empty());
        let last = &store.audit_log(1).unwrap()[0];
        assert_eq!(last.action, "undo: add contact");
        assert!(!last.undoable);
        assert!(matches!(store.undo(&sam()), Err(StoreError::NothingToUndo)));
        assert_doctor_clean(store);
    });
}

#[test]
fn undo_of_an_edit_puts_the_old_values_back() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@old.com");
        let mut edited = c.clone();
        edited.title = "CTO".into();
        edited.emails = vec![Labelled::new("work", "ana@new.com")];
        store.update_contact(&sam(), edited, None).unwrap();
        store.undo(&sam()).unwrap();
        let back = store.contact(c.id).unwrap().unwrap();
        assert_eq!(back.title, "");
        assert_eq!(back.emails, c.emails);
        assert_eq!(
            back.version, 3,
            "undo is itself a change: versions only go up"
        );
        assert_eq!(store.find_by_email("ana@old.com").unwrap(), vec![c.id]);
        assert!(store.find_by_email("ana@new.com").unwrap().is_empty());
        // A copy loaded before the undo is now stale.
        let mut stale = c.clone();
        stale.title = "CEO".into();
        assert!(matches!(
            store.update_contact(&sam(), stale, None),
            Err(StoreError::Stale { .. })
        ));
        assert_doctor_clean(store);
    });
}

#[test]
fn undo_of_a_log_removes_the_call_and_its_follow_up() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        log(store, &sam(), c.id, at(0), "Earlier");
        store
            .log_interaction(
                &sam(),
                call(c.id, at(10), "Oops, wrong contact"),
                Some((day("2026-12-01"), "Chase".into())),
            )
            .unwrap();
        let undone = store.undo(&sam()).unwrap();
        assert_eq!(undone.action, "log call");
        assert_eq!(
            summaries(&store.timeline(c.id, 10).unwrap()),
            vec!["Earlier"]
        );
        assert!(store.due_until(day("2027-01-01"), 10).unwrap().is_empty());
        assert_eq!(store.summary(c.id).unwrap(), (Some(at(0)), None));
        assert_doctor_clean(store);
    });
}

#[test]
fn undo_of_a_delete_brings_the_contact_back_with_its_timeline() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        log(store, &sam(), c.id, at(0), "Intro");
        store
            .add_entry(&sam(), follow_up(c.id, at(1), day("2026-12-01"), "Chase"))
            .unwrap();
        store.add_deal(&sam(), deal(c.id, "Deal")).unwrap();
        let timeline = store.timeline(c.id, 10).unwrap();
        let deals = store.deals_for(c.id).unwrap();
        store.delete_contact(&sam(), c.id).unwrap();
        let undone = store.undo(&sam()).unwrap();
        assert_eq!(undone.action, "delete contact");
        let back = store.contact(c.id).unwrap().unwrap();
        assert_eq!(back.name, "Ana");
        assert_eq!(store.timeline(c.id, 10).unwrap(), timeline);
        assert_eq!(store.deals_for(c.id).unwrap(), deals);
        assert!(store.trash().unwrap().is_empty());
        assert_eq!(store.find_by_email("ana@example.com").unwrap(), vec![c.id]);
        assert_eq!(store.due_until(day("2026-12-01"), 10).unwrap().len(), 1);
        assert_doctor_clean(store);
    });
}

#[test]
fn undo_walks_back_one_action_at_a_time_then_has_nothing_left() {
    on_both(|store| {
        assert!(matches!(store.undo(&sam()), Err(StoreError::NothingToUndo)));
        let c = add(store, "Ana", "ana@example.com");
        log(store, &sam(), c.id, at(0), "Call");
        let mut edited = store.contact(c.id).unwrap().unwrap();
        edited.title = "CTO".into();
        store.update_contact(&sam(), edited, None).unwrap();
        assert_eq!(store.undo(&sam()).unwrap().action, "edit contact");
        assert_eq!(store.undo(&sam()).unwrap().action, "log call");
        assert_eq!(store.undo(&sam()).unwrap().action, "add contact");
        let audit = audit_len(store);
        assert!(matches!(store.undo(&sam()), Err(StoreError::NothingToUndo)));
        assert_eq!(audit_len(store), audit, "a refused undo writes nothing");
        assert_eq!(store.contact_count().unwrap(), 0);
        assert_doctor_clean(store);
    });
}

#[test]
fn after_undoing_a_deal_edit_a_copy_of_the_undone_version_cannot_overwrite_later_work() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let d = store.add_deal(&sam(), deal(c.id, "Pilot")).unwrap();
        let mut won = d.clone();
        won.status = DealStatus::Won;
        let won = store.update_deal(&sam(), won).unwrap();
        store.undo(&sam()).unwrap();
        let current = store.deals_for(c.id).unwrap().remove(0);
        assert_eq!(current.status, DealStatus::Open);
        assert!(current.version > won.version, "versions only go up");
        let mut ana_edit = current.clone();
        ana_edit.stage = DealStage::Negotiate;
        let ana_saved = store.update_deal(&ana(), ana_edit).unwrap();
        let err = store.update_deal(&sam(), won).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.deals_for(c.id).unwrap(), vec![ana_saved]);
    });
}

#[test]
fn undo_is_per_actor() {
    on_both(|store| {
        let sams = store
            .add_contact(&sam(), draft("Sam's", "s@example.com"))
            .unwrap();
        let anas = store
            .add_contact(&ana(), draft("Ana's", "a@example.com"))
            .unwrap();
        let undone = store.undo(&sam()).unwrap();
        assert_eq!(undone.actor, "sam");
        assert_eq!(store.contact(sams.id).unwrap(), None);
        assert!(
            store.contact(anas.id).unwrap().is_some(),
            "ana's add untouched"
        );
        assert!(matches!(store.undo(&sam()), Err(StoreError::NothingToUndo)));
        assert_eq!(store.undo(&ana()).unwrap().actor, "ana");
        assert_eq!(store.contact_count().unwrap(), 0);
    });
}

#[test]
fn undo_is_refused_when_someone_else_changed_the_record_since() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let mut by_sam = c.clone();
        by_sam.title = "CTO".into();
        let by_sam = store.update_contact(&sam(), by_sam, None).unwrap();
        let mut by_ana = by_sam.clone();
        by_ana.title = "CEO".into();
        let by_ana = store.update_contact(&ana(), by_ana, None).unwrap();

        let audit = audit_len(store);
        let err = store.undo(&sam()).unwrap_err();
        assert!(
            matches!(err, StoreError::Stale { .. } | StoreError::Conflict(_)),
            "{err}"
        );
        assert!(err.to_string().contains("ana"), "says who: {err}");
        assert_eq!(
            store.contact(c.id).unwrap().unwrap(),
            by_ana,
            "nothing changed"
        );
        assert_eq!(audit_len(store), audit, "no audit entry for a refused undo");
        assert_doctor_clean(store);
    });
}

#[test]
fn undo_of_a_log_is_refused_once_its_follow_up_was_completed_by_someone_else() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let logged = store
            .log_interaction(
                &sam(),
                call(c.id, at(0), "Call"),
                Some((day("2026-12-01"), "Chase".into())),
            )
            .unwrap();
        store
            .complete_follow_up(&ana(), logged.follow_up.as_ref().unwrap())
            .unwrap();
        let timeline = store.timeline(c.id, 10).unwrap();
        let err = store.undo(&sam()).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.timeline(c.id, 10).unwrap(), timeline);
        assert_doctor_clean(store);
    });
}

#[test]
fn undo_of_an_add_with_history_logged_since_moves_it_all_to_the_trash() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        log(store, &ana(), c.id, at(0), "Ana called");
        store.undo(&sam()).unwrap();
        assert!(store.contact(c.id).unwrap().is_none());
        assert!(store.find_by_email("ana@example.com").unwrap().is_empty());
        assert_eq!(store.trash().unwrap()[0].entries.len(), 1);
        assert_doctor_clean(store);
        store.restore_contact(&sam(), c.id).unwrap();
        assert_eq!(store.timeline(c.id, 10).unwrap().len(), 1);
        assert_eq!(store.find_by_email("ana@example.com").unwrap(), vec![c.id]);
        assert_doctor_clean(store);
    });
}

// ---------------------------------------------------------------------------------------------
// Optimistic concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn a_stale_edit_is_refused_naming_the_contact_and_who_changed_it() {
    on_both(|store| {
        let c = add(store, "Đặng Thị Mai", "mai@example.com");
        let mut first = store.contact(c.id).unwrap().unwrap();
        let mut second = store.contact(c.id).unwrap().unwrap();
        assert_eq!(first.version, second.version);

        first.title = "Head of Sales".into();
        let saved = store.update_contact(&ana(), first, None).unwrap();

        second.title = "Intern".into();
        let audit = audit_len(store);
        let err = store.update_contact(&sam(), second, None).unwrap_err();
        match &err {
            StoreError::Stale { id, name, by, .. } => {
                assert_eq!(*id, c.id);
                assert_eq!(name, "Đặng Thị Mai");
                assert_eq!(by, "ana");
            }
            other => panic!("expected Stale, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains("Đặng Thị Mai"), "{message}");
        assert!(message.contains("ana"), "{message}");
        assert_eq!(store.contact(c.id).unwrap().unwrap(), saved);
        assert_eq!(audit_len(store), audit);
    });
}

#[test]
fn editing_a_contact_that_is_gone_says_not_found() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        store.delete_contact(&sam(), c.id).unwrap();
        let err = store.update_contact(&sam(), c, None).unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    });
}

// ---------------------------------------------------------------------------------------------
// Validation and sanitising
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_email_or_phone_is_rejected_with_field_errors_and_nothing_is_written() {
    on_both(|store| {
        let good = add(store, "Ana", "ana@example.com");
        let count = store.contact_count().unwrap();
        let audit = audit_len(store);

        let mut bad = draft("Bob", "bob-at-example");
        bad.phones.push(Labelled::new("mobile", "12"));
        let err = store.add_contact(&sam(), bad).unwrap_err();
        let StoreError::Invalid(invalid) = &err else {
            panic!("expected Invalid, got {err:?}")
        };
        let fields: Vec<&str> = invalid.0.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["email", "phone"]);
        assert!(err.to_string().contains("bob-at-example"), "{err}");

        let mut edit = good.clone();
        edit.emails = vec![Labelled::new("work", "ana@@example")];
        let err = store.update_contact(&sam(), edit, None).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");

        let nameless = ContactDraft::default();
        assert!(matches!(
            store.add_contact(&sam(), nameless),
            Err(StoreError::Invalid(_))
        ));

        let err = store
            .log_interaction(&sam(), call(good.id, at(0), "   "), None)
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        let err = store
            .log_interaction(&sam(), call(999, at(0), "Ghost"), None)
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");

        assert_eq!(store.contact_count().unwrap(), count);
        assert_eq!(audit_len(store), audit, "no audit entry for refused writes");
        assert_eq!(store.contact(good.id).unwrap().unwrap(), good);
        assert!(store.timeline(good.id, 10).unwrap().is_empty());
        assert_doctor_clean(store);
    });
}

#[test]
fn terminal_escapes_in_a_name_are_never_stored() {
    on_both(|store| {
        let c = add(store, "Evil\u{1b}[2J Name\u{7}", "evil@example.com");
        let stored = store.contact(c.id).unwrap().unwrap();
        assert_eq!(stored.name, "Evil[2J Name");
        assert!(!stored.name.contains('\u{1b}'));
        let mut edited = stored.clone();
        edited.title = "\u{1b}]0;pwned\u{7}Boss".into();
        edited.notes = "line one\r\nline\u{1b}[31m two".into();
        let saved = store.update_contact(&sam(), edited, None).unwrap();
        let stored = store.contact(c.id).unwrap().unwrap();
        assert_eq!(stored, saved);
        assert_eq!(stored.title, "]0;pwnedBoss");
        assert_eq!(stored.notes, "line one\nline[31m two");
        let logged = log(store, &sam(), c.id, at(0), "Said \u{1b}[2Jhi");
        assert_eq!(logged.summary, "Said [2Jhi");
    });
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

#[test]
fn ids_by_name_pages_through_contacts_in_accent_insensitive_order() {
    on_both(|store| {
        for name in [
            "Zoë Park",
            "Émile Roux",
            "adam Smith",
            "Đặng Mai",
            "Bob Stone",
        ] {
            add(store, name, "");
        }
        let first = store.ids_by_name(None, 2).unwrap();
        assert_eq!(names(store, &first), vec!["adam Smith", "Bob Stone"]);
        let second = store.ids_by_name(first.last().copied(), 2).unwrap();
        assert_eq!(names(store, &second), vec!["Đặng Mai", "Émile Roux"]);
        let third = store.ids_by_name(second.last().copied(), 2).unwrap();
        assert_eq!(names(store, &third), vec!["Zoë Park"]);
        assert!(
            store
                .ids_by_name(third.last().copied(), 2)
                .unwrap()
                .is_empty()
        );
        let all = store.ids_by_name(None, 100).unwrap();
        assert_eq!([first, second, third].concat(), all);
    });
}

#[test]
fn a_renamed_contact_moves_in_the_list() {
    on_both(|store| {
        let a = add(store, "Anna", "");
        let b = add(store, "Bea", "");
        let mut renamed = a.clone();
        renamed.name = "Zara".into();
        store.update_contact(&sam(), renamed, None).unwrap();
        assert_eq!(store.ids_by_name(None, 10).unwrap(), vec![b.id, a.id]);
    });
}

#[test]
fn list_rows_show_the_organisation_last_contact_and_next_due() {
    on_both(|store| {
        let mut d = draft("Ana", "ana@acme.com");
        d.organization = "Acme".into();
        let with_org = store.add_contact(&sam(), d).unwrap();
        let plain = add(store, "Bob", "bob@example.com");
        log(store, &sam(), with_org.id, at(5), "call");
        store
            .add_entry(
                &sam(),
                follow_up(with_org.id, at(6), day("2026-12-09"), "x"),
            )
            .unwrap();
        let rows = store.list_rows(&[plain.id, 999, with_org.id]).unwrap();
        assert_eq!(rows.len(), 2, "missing ids are skipped");
        assert_eq!(rows[0].id, plain.id);
        assert_eq!(rows[0].organization, "");
        assert_eq!(rows[0].last_contact, None);
        assert_eq!(rows[0].next_due, None);
        assert_eq!(rows[1].name, "Ana");
        assert_eq!(rows[1].organization, "Acme");
        assert_eq!(rows[1].last_contact, Some(at(5)));
        assert_eq!(rows[1].next_due, Some(day("2026-12-09")));
    });
}

// ---------------------------------------------------------------------------------------------
// Doctor and backup
// ---------------------------------------------------------------------------------------------

/// A little of everything, including the paths that rebuild indexes the hard way.
fn busy_day(store: &Store) -> Vec<Id> {
    let a = store.add_contact(&sam(), full_draft()).unwrap();
    let b = add(store, "Bob Stone", "bob@example.com");
    let c = add(store, "王小明", "xm@example.cn");
    log(store, &sam(), a.id, at(0), "Intro");
    let f = store
        .log_interaction(
            &ana(),
            call(b.id, at(1), "Pitch"),
            Some((day("2026-12-01"), "Deck".into())),
        )
        .unwrap()
        .follow_up
        .unwrap();
    store
        .reschedule_follow_up(&ana(), &f, day("2026-12-05"))
        .unwrap();
    store.add_entry(&sam(), purchase(b.id, at(2))).unwrap();
    store.add_deal(&sam(), deal(b.id, "Pilot")).unwrap();
    store.delete_contact(&sam(), b.id).unwrap();
    store.restore_contact(&ana(), b.id).unwrap();
    store.delete_contact(&sam(), c.id).unwrap();
    let mut edited = store.contact(a.id).unwrap().unwrap();
    edited.emails.push(Labelled::new("other", "d@example.org"));
    store
        .update_contact(&ana(), edited, Some("Globex"))
        .unwrap();
    log(store, &sam(), a.id, at(3), "Second");
    store.undo(&sam()).unwrap(); // the "Second" log
    store.undo(&sam()).unwrap(); // the delete of c
    vec![a.id, b.id, c.id]
}

#[test]
fn doctor_is_clean_on_a_fresh_database_and_after_a_busy_day() {
    on_both(|store| {
        let report = store.doctor().unwrap();
        assert!(report.is_clean(), "{report:#?}");
        assert_eq!(report.contacts, 0);
        assert_eq!(report.schema_version, rolo::store::SCHEMA_VERSION);

        busy_day(store);
        let report = store.doctor().unwrap();
        assert!(report.is_clean(), "{report:#?}");
        assert_eq!(report.contacts, 3);
        assert_eq!(report.timeline_entries, 4);
        assert_eq!(report.open_follow_ups, 1);
        assert_eq!(report.audit_entries, audit_len(store) as u64);
    });
}

#[test]
fn a_backup_opens_with_the_same_contacts_and_timelines_and_a_clean_doctor() {
    on_both(|store| {
        let ids = busy_day(store);
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("backup.redb");
        let report = store.backup(&dest).unwrap();
        assert!(report.rows > 0);
        assert!(report.bytes > 0);

        let mut copy = Store::open(&dest).unwrap();
        assert_eq!(
            copy.contact_count().unwrap(),
            store.contact_count().unwrap()
        );
        for id in &ids {
            assert_eq!(copy.contact(*id).unwrap(), store.contact(*id).unwrap());
            assert_eq!(
                copy.timeline(*id, 100).unwrap(),
                store.timeline(*id, 100).unwrap()
            );
            assert_eq!(copy.deals_for(*id).unwrap(), store.deals_for(*id).unwrap());
            assert_eq!(copy.summary(*id).unwrap(), store.summary(*id).unwrap());
        }
        assert_eq!(
            copy.ids_by_name(None, 100).unwrap(),
            store.ids_by_name(None, 100).unwrap()
        );
        assert_eq!(
            copy.audit_log(1000).unwrap(),
            store.audit_log(1000).unwrap()
        );
        assert_eq!(copy.trash().unwrap(), store.trash().unwrap());
        assert_eq!(
            copy.find_by_email("duc@anhduong.vn").unwrap(),
            store.find_by_email("duc@anhduong.vn").unwrap()
        );
        assert_doctor_clean(&mut copy);

        // The copy carries on where the original was: new ids don't collide.
        let next = add(&copy, "New in backup", "new@example.com");
        assert!(!ids.contains(&next.id));
        // Undo history travels too.
        assert!(copy.undo(&sam()).is_ok());
    });
}

#[test]
fn a_backup_refuses_to_overwrite_an_existing_file() {
    on_both(|store| {
        add(store, "Ana", "ana@example.com");
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("taken.redb");
        std::fs::write(&dest, b"precious").unwrap();
        let err = store.backup(&dest).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert!(err.to_string().contains("taken.redb"), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"precious");
    });
}

// ---------------------------------------------------------------------------------------------
// The file on disk
// ---------------------------------------------------------------------------------------------

#[test]
fn data_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rolo.redb");
    let (c, timeline) = {
        let store = Store::open(&path).unwrap();
        let c = store.add_contact(&sam(), full_draft()).unwrap();
        log(&store, &sam(), c.id, at(0), "Intro");
        (c.clone(), store.timeline(c.id, 10).unwrap())
    };
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.contact(c.id).unwrap(), Some(c.clone()));
    assert_eq!(store.timeline(c.id, 10).unwrap(), timeline);
    assert_eq!(store.undo(&sam()).unwrap().action, "log call");
    assert_doctor_clean(&mut store);
}

#[test]
fn opening_the_same_file_twice_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.redb");
    let first = Store::open(&path).unwrap();
    add(&first, "Ana", "ana@example.com");
    let err = match Store::open(&path) {
        Ok(_) => panic!("a second open of the same file succeeded"),
        Err(e) => e,
    };
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("shared.redb"), "{err}");
    assert!(err.to_string().contains("another rolo process"), "{err}");
    // The first handle is unharmed, and once it is closed the file opens again.
    assert_eq!(first.contact_count().unwrap(), 1);
    drop(first);
    assert_eq!(Store::open(&path).unwrap().contact_count().unwrap(), 1);
}

#[cfg(unix)]
#[test]
fn the_database_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("rolo.redb");
    let store = Store::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "database file mode {mode:o}");
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        dir_mode & 0o777,
        0o700,
        "created directory mode {dir_mode:o}"
    );
    let backup = dir.path().join("backup.redb");
    store.backup(&backup).unwrap();
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "backup file mode {mode:o}");
}

// ---------------------------------------------------------------------------------------------
// Bulk loads
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bulk_load_is_indexed_summarised_audited_once_and_not_undoable() {
    on_both(|store| {
        let before = add(store, "Already here", "here@example.com");
        let audit = audit_len(store);
        let ids = store
            .bulk(&sam(), "import contacts.csv", |b| {
                let mut ids = Vec::new();
                for (name, email, phone, org) in [
                    ("Ana Lima", "ana@acme.com", "+1 (555) 000-1111", "Acme"),
                    ("Bob Stone", "bob@acme.com", "+44 20 7946 0000", "ACME"),
                    ("Trần Đức", "duc@example.vn", "+84 90 000 1111", ""),
                ] {
                    let mut d = draft(name, email);
                    d.phones.push(Labelled::new("work", phone));
                    d.tags.push("imported".into());
                    let c = d.into_contact(&sam()).unwrap();
                    ids.push(b.add_contact(c, org)?);
                }
                assert_eq!(b.find_by_email("ANA@acme.com")?, vec![ids[0]]);
                b.add_entry(Entry::Interaction(call(ids[0], at(0), "Imported call")))?;
                b.add_entry(follow_up(ids[1], at(1), day("2026-12-01"), "Imported task"))?;
                b.add_entry(purchase(ids[2], at(2)))?;
                b.add_deal(deal(ids[1], "Imported deal"))?;
                Ok(ids)
            })
            .unwrap();

        assert_eq!(store.contact_count().unwrap(), 4);
        assert_eq!(store.find_by_email("bob@acme.com").unwrap(), vec![ids[1]]);
        assert_eq!(store.find_by_phone("442079460000").unwrap(), vec![ids[1]]);
        let mut tagged = store.find_by_tag("imported").unwrap();
        tagged.sort();
        assert_eq!(tagged, ids);
        let a = store.contact(ids[0]).unwrap().unwrap();
        let b = store.contact(ids[1]).unwrap().unwrap();
        assert_eq!(a.organization, b.organization, "Acme and ACME are one");
        assert_eq!(store.organization_name(a.organization).unwrap(), "Acme");
        assert_eq!(store.contact(ids[2]).unwrap().unwrap().organization, None);
        assert_eq!(store.summary(ids[0]).unwrap(), (Some(at(0)), None));
        assert_eq!(
            store.summary(ids[1]).unwrap(),
            (None, Some(day("2026-12-01")))
        );
        assert_eq!(store.deals_for(ids[1]).unwrap().len(), 1);
        assert_eq!(store.timeline(ids[2], 10).unwrap().len(), 1);
        let due = store.due_until(day("2026-12-31"), 10).unwrap();
        assert_eq!(due[0].contact_name, "Bob Stone");

        let log = store.audit_log(10).unwrap();
        assert_eq!(log.len(), audit + 1, "one audit entry for the batch");
        assert_eq!(log[0].actor, "sam");
        assert!(
            log[0].action.starts_with("import contacts.csv"),
            "{}",
            log[0].action
        );
        assert!(!log[0].undoable);

        // Undo refuses the bulk load and never skips past it to the action before.
        let err = store.undo(&sam()).unwrap_err();
        assert!(matches!(err, StoreError::NotUndoable(_)), "{err}");
        assert!(err.to_string().contains("import contacts.csv"), "{err}");
        assert!(store.contact(before.id).unwrap().is_some());
        assert_eq!(store.contact_count().unwrap(), 4);
        assert_doctor_clean(store);
    });
}

#[test]
fn a_failed_bulk_load_writes_nothing() {
    on_both(|store| {
        let audit = audit_len(store);
        let err = store
            .bulk(&sam(), "import broken.csv", |b| {
                let c = draft("Ana", "ana@example.com")
                    .into_contact(&sam())
                    .unwrap();
                let id = b.add_contact(c, "Acme")?;
                b.add_entry(Entry::Interaction(call(id, at(0), "ok")))?;
                b.add_entry(Entry::Interaction(call(999, at(0), "no such contact")))?;
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert_eq!(store.contact_count().unwrap(), 0);
        assert_eq!(audit_len(store), audit);
        assert_eq!(store.organization_by_name("Acme").unwrap(), None);
        assert_doctor_clean(store);
    });
}

#[test]
fn compacting_after_a_bulk_load_packs_the_timeline_and_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bulk.redb");
    let mut store = Store::open(&path).unwrap();
    rolo::demo::load(&store, &sam(), 2_000, 7, |_| {}).unwrap();
    let timeline = |store: &Store| {
        store
            .table_space()
            .unwrap()
            .into_iter()
            .find(|t| t.name == "timeline")
            .unwrap()
    };
    let before = timeline(&store);
    let entries_before = store.doctor().unwrap().timeline_entries;
    store.compact().unwrap();
    let after = timeline(&store);
    assert_eq!(after.rows, before.rows);
    assert!(
        after.leaf_pages * 10 < before.leaf_pages * 8,
        "{} leaves before, {} after",
        before.leaf_pages,
        after.leaf_pages
    );
    assert!(
        after.stored_bytes * 100 > after.leaf_pages * 4096 * 85,
        "leaves only {}% full",
        after.stored_bytes * 100 / (after.leaf_pages * 4096)
    );
    let report = store.doctor().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.timeline_entries, entries_before);
    assert_eq!(report.contacts, 2_000);
    drop(store);
    // Still the same after a reopen, and still writable.
    let mut store = Store::open(&path).unwrap();
    log(&store, &sam(), 1, at(0), "After compaction");
    assert_doctor_clean(&mut store);
}

// ---------------------------------------------------------------------------------------------
// Old schemas
// ---------------------------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// Writes `tests/fixtures/schema-v1.redb`. Run once, when schema 1 was current, and committed:
/// `cargo test --test store -- --ignored make_schema_v1_fixture`. Never regenerate it with a
/// later schema — its whole point is to be old.
#[test]
#[ignore = "generates the committed schema-1 fixture"]
fn make_schema_v1_fixture() {
    assert_eq!(rolo::store::SCHEMA_VERSION, 1, "this fixture is schema 1");
    write_fixture("schema-v1.redb");
}

/// Writes `tests/fixtures/schema-v2.redb` (same content as the schema-1 file), run once when
/// schema 2 was current: `cargo test --test store -- --ignored make_schema_v2_fixture`.
#[test]
#[ignore = "generates the committed schema-2 fixture"]
fn make_schema_v2_fixture() {
    assert_eq!(rolo::store::SCHEMA_VERSION, 2, "this fixture is schema 2");
    write_fixture("schema-v2.redb");
}

/// Writes `tests/fixtures/schema-v5.redb` (same content), run once when schema 5 was current:
/// `cargo test --test store -- --ignored make_schema_v5_fixture`.
#[test]
#[ignore = "generates the committed schema-5 fixture"]
fn make_schema_v5_fixture() {
    assert_eq!(rolo::store::SCHEMA_VERSION, 5, "this fixture is schema 5");
    write_fixture("schema-v5.redb");
}

/// The content every old-schema fixture holds, which [`check_old_fixture`] expects.
fn write_fixture(name: &str) {
    let path = fixture(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    {
        let mut store = Store::open(&path).unwrap();
        let duc = store.add_contact(&sam(), full_draft()).unwrap();
        let mut bob = draft("Bob Stone", "bob@example.com");
        bob.organization = "Acme".into();
        bob.phones.push(Labelled::new("work", "+1 (555) 123-9999"));
        bob.tags.push("partner".into());
        let bob = store.add_contact(&ana(), bob).unwrap();
        let mei = add(&store, "王小明", "xm@example.cn");
        let gone = add(&store, "Trashed Person", "gone@example.com");

        log(&store, &sam(), duc.id, at(0), "Intro call");
        store
            .log_interaction(
                &ana(),
                call(bob.id, at(10), "Pitched the pilot"),
                Some((day("2026-12-01"), "Send the deck".into())),
            )
            .unwrap();
        log(&store, &sam(), mei.id, at(20), "你好");
        store.add_entry(&sam(), purchase(duc.id, at(30))).unwrap();
        store.add_deal(&ana(), deal(bob.id, "Pilot")).unwrap();
        log(&store, &sam(), gone.id, at(40), "Last words");
        store.delete_contact(&sam(), gone.id).unwrap();
        store.compact().unwrap();
        assert_doctor_clean(&mut store);
    }
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!("wrote {} ({size} bytes)", path.display());
}

#[test]
fn schema_v1_fixture_still_opens() {
    check_old_fixture("schema-v1.redb");
}

#[test]
fn schema_v2_fixture_still_opens() {
    check_old_fixture("schema-v2.redb");
}

#[test]
fn schema_v5_fixture_still_opens_and_its_audit_entries_read_with_no_source() {
    check_old_fixture("schema-v5.redb");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    std::fs::copy(fixture("schema-v5.redb"), &path).unwrap();
    let store = Store::open(&path).unwrap();
    let log = store.audit_log(100).unwrap();
    assert!(log.len() >= 8, "the whole trail survived: {}", log.len());
    assert!(log.iter().all(|e| e.source.is_empty()));
    assert!(
        log.iter()
            .any(|e| e.action == "log call" && e.actor == "sam")
    );
}

/// Opens a copy of a fixture written by an older schema: it migrates, passes the doctor, reads
/// back what [`write_fixture`] stored, and takes new writes and undo.
fn check_old_fixture(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    std::fs::copy(fixture(name), &path).unwrap();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), rolo::store::SCHEMA_VERSION);
    assert_doctor_clean(&mut store);

    assert_eq!(store.contact_count().unwrap(), 3);
    let ids = store.ids_by_name(None, 10).unwrap();
    assert_eq!(
        names(&store, &ids),
        vec!["Bob Stone", "Nguyễn Văn Đức", "王小明"]
    );
    let duc = store.find_by_uid("urn:uuid:6f1c-duc").unwrap().unwrap();
    let duc_contact = store.contact(duc).unwrap().unwrap();
    let expected = full_draft().into_contact(&sam()).unwrap();
    assert_eq!(duc_contact.emails, expected.emails);
    assert_eq!(duc_contact.phones, expected.phones);
    assert_eq!(duc_contact.addresses, expected.addresses);
    assert_eq!(duc_contact.birthday, expected.birthday);
    assert_eq!(duc_contact.custom, expected.custom);
    assert_eq!(duc_contact.consent, expected.consent);
    assert_eq!(duc_contact.notes, expected.notes);
    assert_eq!(
        store.organization_name(duc_contact.organization).unwrap(),
        "Công ty Ánh Dương"
    );
    assert_eq!(
        summaries(&store.timeline(duc, 10).unwrap()),
        vec!["purchase: Espresso machine", "Intro call"]
    );

    let bob = store.find_by_email("BOB@example.com").unwrap();
    assert_eq!(bob.len(), 1);
    let bob = bob[0];
    assert_eq!(store.find_by_phone("15551239999").unwrap(), vec![bob]);
    assert_eq!(store.find_by_tag("partner").unwrap(), vec![bob]);
    assert_eq!(
        summaries(&store.timeline(bob, 10).unwrap()),
        vec!["follow-up: Send the deck", "Pitched the pilot"]
    );
    let due = store.due_until(day("2026-12-31"), 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].contact_name, "Bob Stone");
    assert_eq!(
        store.summary(bob).unwrap(),
        (Some(at(10)), Some(day("2026-12-01")))
    );
    let deals = store.deals_for(bob).unwrap();
    assert_eq!(deals.len(), 1);
    assert_eq!(deals[0].title, "Pilot");
    assert_eq!(deals[0].owner, "ana");

    // The search records (built by the 1→2 migration for schema 1) find the old contacts.
    let index = store.load_search_index().unwrap();
    let query = rolo::search::Query::parse("duc").unwrap();
    let hits = index.search(
        &query,
        rolo::search::SearchOptions {
            limit: 5,
            today_day: 0,
        },
    );
    assert_eq!(hits.first().map(|h| h.id), Some(duc));

    let trash = store.trash().unwrap();
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].contact.name, "Trashed Person");
    assert_eq!(trash[0].entries.len(), 1);

    // The old file is fully usable: restore, write, undo.
    let gone = trash[0].contact.id;
    store.restore_contact(&sam(), gone).unwrap();
    assert_eq!(store.timeline(gone, 10).unwrap().len(), 1);
    let fresh = add(&store, "New Person", "new@example.com");
    assert!(fresh.id > gone, "id counters carried over");
    assert_eq!(store.undo(&sam()).unwrap().action, "add contact");
    assert_eq!(store.undo(&sam()).unwrap().action, "restore contact");
    assert_eq!(store.audit_log(100).unwrap().len(), 15);
    assert_doctor_clean(&mut store);
}

#[test]
fn a_second_contact_cannot_take_a_uid_already_in_use() {
    on_both(|store| {
        let mut first = draft("Ana", "ana@example.com");
        first.uid = "urn:uuid:dup".into();
        let first = store.add_contact(&sam(), first).unwrap();
        let mut second = draft("Ana (copy)", "ana2@example.com");
        second.uid = "urn:uuid:dup".into();
        let err = store.add_contact(&sam(), second).unwrap_err();
        let StoreError::Invalid(invalid) = &err else {
            panic!("expected Invalid, got {err:?}")
        };
        assert_eq!(invalid.0[0].field, "uid");
        assert!(err.to_string().contains("Ana (#1)"), "{err}");
        assert_eq!(store.contact_count().unwrap(), 1);

        let other = add(store, "Bob", "bob@example.com");
        let mut edited = other.clone();
        edited.uid = "urn:uuid:dup".into();
        let err = store.update_contact(&sam(), edited, None).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");

        // A contact keeps its own uid through edits, delete and restore.
        let mut renamed = first.clone();
        renamed.name = "Ana Lima".into();
        store.update_contact(&sam(), renamed, None).unwrap();
        assert_eq!(store.find_by_uid("urn:uuid:dup").unwrap(), Some(first.id));
        store.delete_contact(&sam(), first.id).unwrap();
        assert_eq!(store.find_by_uid("urn:uuid:dup").unwrap(), None);
        store.restore_contact(&sam(), first.id).unwrap();
        assert_eq!(store.find_by_uid("urn:uuid:dup").unwrap(), Some(first.id));
        assert_doctor_clean(store);
    });
}

// ---------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------

fn search_ids(store: &Store, query: &str) -> Vec<Id> {
    let index = store.load_search_index().unwrap();
    let query = rolo::search::Query::parse(query).unwrap();
    let options = rolo::search::SearchOptions {
        limit: 50,
        today_day: 0,
    };
    let mut ids: Vec<Id> = index.search(&query, options).iter().map(|h| h.id).collect();
    ids.sort_unstable();
    ids
}

/// Two records of one person, each with history: the survivor "Ana Horvat" (call, deal) and
/// "Ana Horvat-Kovač" (call, open follow-up, purchase).
fn two_records(store: &Store) -> (Contact, Contact) {
    let keep = add(store, "Ana Horvat", "ana@acme.hr");
    let mut other = draft("Ana Horvat-Kovač", "ana.k@home.hr");
    other.phones = vec![Labelled::new("mobile", "+385 91 555 0101")];
    other.tags = vec!["vip".into()];
    let other = store.add_contact(&sam(), other).unwrap();
    log(store, &sam(), keep.id, at(0), "First call");
    store.add_deal(&sam(), deal(keep.id, "Renewal")).unwrap();
    log(store, &sam(), other.id, at(5), "Second call");
    store
        .add_entry(
            &sam(),
            follow_up(other.id, at(6), day("2026-12-01"), "Send offer"),
        )
        .unwrap();
    store.add_entry(&sam(), purchase(other.id, at(7))).unwrap();
    store.add_deal(&sam(), deal(other.id, "Upsell")).unwrap();
    (
        store.contact(keep.id).unwrap().unwrap(),
        store.contact(other.id).unwrap().unwrap(),
    )
}

fn merged_plan(keep: &Contact, other: &Contact) -> Contact {
    rolo::domain::merge::MergePlan::new(keep.clone(), String::new(), other.clone(), String::new())
        .result()
}

#[test]
fn a_merge_keeps_every_entry_and_deal_of_both_and_removes_the_absorbed_contact() {
    on_both(|store| {
        let (keep, other) = two_records(store);
        let merged = store
            .merge_contacts(&ana(), merged_plan(&keep, &other), &other)
            .unwrap();
        assert_eq!(merged.moved, 4, "three timeline entries and one deal moved");
        assert!(store.contact(other.id).unwrap().is_none());
        let survivor = store.contact(keep.id).unwrap().unwrap();
        assert_eq!(survivor.name, "Ana Horvat");
        assert_eq!(survivor.emails.len(), 2);
        assert_eq!(survivor.tags, ["vip"]);
        assert_eq!(survivor.version, keep.version + 1);
        assert_eq!(survivor.updated.by, "ana");
        let mut timeline = summaries(&store.timeline(keep.id, 10).unwrap());
        timeline.sort();
        assert_eq!(
            timeline,
            [
                "First call",
                "Second call",
                "follow-up: Send offer",
                "purchase: Espresso machine"
            ]
        );
        assert!(store.timeline(other.id, 10).unwrap().is_empty());
        let deals: Vec<String> = store
            .deals_for(keep.id)
            .unwrap()
            .into_iter()
            .map(|d| d.title)
            .collect();
        assert_eq!(deals.len(), 2, "{deals:?}");
        // Every index follows: lookups, the due list and search.
        assert_eq!(store.find_by_email("ana.k@home.hr").unwrap(), vec![keep.id]);
        assert_eq!(
            store.find_by_phone("+385 91 555 0101").unwrap(),
            vec![keep.id]
        );
        assert_eq!(store.find_by_tag("vip").unwrap(), vec![keep.id]);
        let due = store.due_until(day("2026-12-01"), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].follow_up.contact, keep.id);
        assert_eq!(search_ids(store, "ana.k"), vec![keep.id]);
        assert_eq!(search_ids(store, "kovac"), Vec::<Id>::new());
        let (_, next_due) = store.summary(keep.id).unwrap();
        assert_eq!(next_due, Some(day("2026-12-01")));
        let entry = &store.audit_log(1).unwrap()[0];
        assert_eq!(
            entry.action,
            format!("merge contact {} into {}", other.id, keep.id)
        );
        assert_eq!(entry.actor, "ana");
        assert_doctor_clean(store);
    });
}

#[test]
fn undo_of_a_merge_gives_both_contacts_back_with_their_own_history() {
    on_both(|store| {
        let (keep, other) = two_records(store);
        let keep_timeline = store.timeline(keep.id, 10).unwrap();
        let other_timeline = store.timeline(other.id, 10).unwrap();
        store
            .merge_contacts(&ana(), merged_plan(&keep, &other), &other)
            .unwrap();
        let undone = store.undo(&ana()).unwrap();
        assert!(
            undone.action.starts_with("merge contact"),
            "{}",
            undone.action
        );
        assert_eq!(store.contact(other.id).unwrap().unwrap().name, other.name);
        assert_eq!(store.contact(keep.id).unwrap().unwrap().emails, keep.emails);
        assert_eq!(store.timeline(keep.id, 10).unwrap(), keep_timeline);
        assert_eq!(store.timeline(other.id, 10).unwrap(), other_timeline);
        assert_eq!(store.deals_for(other.id).unwrap().len(), 1);
        assert_eq!(
            store.find_by_email("ana.k@home.hr").unwrap(),
            vec![other.id]
        );
        assert_eq!(search_ids(store, "kovac"), vec![other.id]);
        assert_eq!(
            store.due_until(day("2026-12-01"), 10).unwrap()[0]
                .follow_up
                .contact,
            other.id
        );
        assert_doctor_clean(store);
    });
}

#[test]
fn a_merge_of_a_contact_changed_meanwhile_is_refused_and_writes_nothing() {
    on_both(|store| {
        let (keep, other) = two_records(store);
        let plan = merged_plan(&keep, &other);
        let mut edited = other.clone();
        edited.title = "CFO".into();
        store.update_contact(&sam(), edited, None).unwrap();
        let audit = audit_len(store);
        let err = store.merge_contacts(&ana(), plan, &other).unwrap_err();
        assert!(
            matches!(err, StoreError::Stale { id, .. } if id == other.id),
            "{err:?}"
        );
        assert_eq!(audit_len(store), audit);
        assert!(store.contact(other.id).unwrap().is_some());
        assert_eq!(store.timeline(other.id, 10).unwrap().len(), 3);
        let same = store.merge_contacts(&ana(), keep.clone(), &keep);
        assert!(matches!(same, Err(StoreError::Invalid(_))), "{same:?}");
    });
}

#[test]
fn possible_duplicates_come_from_shared_contact_points_and_name_neighbours() {
    on_both(|store| {
        let subject = add(store, "Zoë Müller", "zoe@acme.de");
        let same_email = add(store, "Z. Mueller", "ZOE@acme.de");
        let same_name = add(store, "Zoe Muller", "");
        for i in 0..30 {
            add(store, &format!("Person {i:02}"), "");
        }
        let found: Vec<Id> = store
            .possible_duplicates(&subject)
            .unwrap()
            .into_iter()
            .map(|(c, _)| c.id)
            .collect();
        assert!(found.contains(&same_email.id), "{found:?}");
        assert!(found.contains(&same_name.id), "{found:?}");
        assert!(!found.contains(&subject.id));
        assert!(
            found.len() <= 20,
            "a bounded neighbourhood, not a scan: {found:?}"
        );
    });
}

#[test]
fn a_merge_can_keep_the_absorbed_contacts_uid_and_undo_gives_it_back() {
    on_both(|store| {
        let keep = add(store, "Ana Horvat", "ana@acme.hr");
        let mut other = draft("Ana H.", "ana@acme.hr");
        other.uid = "urn:uuid:ana-from-phone".into();
        let other = store.add_contact(&sam(), other).unwrap();
        log(store, &sam(), other.id, at(1), "Called back");
        let plan = merged_plan(&keep, &other);
        assert_eq!(
            plan.uid, other.uid,
            "an empty uid is filled from the other record"
        );
        store.merge_contacts(&ana(), plan, &other).unwrap();
        assert_eq!(store.find_by_uid(&other.uid).unwrap(), Some(keep.id));
        assert_eq!(store.find_by_email("ana@acme.hr").unwrap(), vec![keep.id]);
        assert_doctor_clean(store);
        store.undo(&ana()).unwrap();
        assert_eq!(store.find_by_uid(&other.uid).unwrap(), Some(other.id));
        let mut both = store.find_by_email("ana@acme.hr").unwrap();
        both.sort_unstable();
        assert_eq!(both, vec![keep.id, other.id]);
        assert_eq!(
            summaries(&store.timeline(other.id, 10).unwrap()),
            ["Called back"]
        );
        assert_doctor_clean(store);
    });
}

#[test]
fn the_audit_trail_of_a_person_follows_merges_until_they_are_undone() {
    on_both(|store| {
        let (keep, other) = two_records(store);
        let actions = |store: &Store| -> Vec<String> {
            store
                .audit_about(keep.id)
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect()
        };
        let before = actions(store);
        assert!(!before.contains(&"add purchase".to_string()), "{before:?}");
        store
            .merge_contacts(&ana(), merged_plan(&keep, &other), &other)
            .unwrap();
        let after = actions(store);
        assert!(after.contains(&"add purchase".to_string()), "{after:?}");
        assert_eq!(
            after.iter().filter(|a| *a == "add contact").count(),
            2,
            "both records' creation: {after:?}"
        );
        store.undo(&ana()).unwrap();
        let split = actions(store);
        assert!(!split.contains(&"add purchase".to_string()), "{split:?}");
    });
}

// ---------------------------------------------------------------------------------------------
// Bulk loads hold their index rows back (store::deferred)
// ---------------------------------------------------------------------------------------------

/// A contact for a bulk load: uid, emails, a phone and a tag.
fn bulk_contact(name: &str, uid: &str, emails: &[&str], phone: &str) -> Contact {
    let mut d = draft(name, "");
    d.uid = uid.into();
    d.emails = emails.iter().map(|e| Labelled::new("work", e)).collect();
    if !phone.is_empty() {
        d.phones = vec![Labelled::new("mobile", phone)];
    }
    d.tags = vec!["batch-1".into()];
    d.into_contact(&sam()).unwrap()
}

/// What one bulk transaction sees of its own writes, and what the indexes hold after it: the
/// same whether its rows were held to the end (default budget) or written out before every
/// row (budget 0).
fn bulk_load_sees_and_files_every_key(budget: usize) {
    on_both(|store| {
        store.set_bulk_budget(budget);
        let existing = add(store, "Old Timer", "old@example.com");
        let (ana, ben) = store
            .bulk(&sam(), "import test.vcf", |b| {
                let ana = b.add_contact(
                    bulk_contact("Ana Perić", "uid-ana", &["Ana@Example.com"], "+1 555 0100"),
                    "Acme",
                )?;
                let ben = b.add_contact(
                    bulk_contact("Ben Ode", "uid-ben", &["ben@example.com"], "+1 555 0100"),
                    "",
                )?;
                // Rows not written yet are found exactly, cleaned the way lookups clean them.
                assert_eq!(b.find_by_uid(" uid-ana ")?, Some(ana));
                assert_eq!(b.find_by_email("ana@EXAMPLE.com")?, vec![ana]);
                assert_eq!(b.find_by_phone("+1-555-0100")?, vec![ana, ben]);
                assert_eq!(b.find_by_email("old@example.com")?, vec![existing.id]);
                assert_eq!(b.find_by_email("nobody@example.com")?, Vec::<Id>::new());
                assert_eq!(b.find_by_uid("uid-nobody")?, None);
                // An update moves Ana from one address to another, and the lookups follow.
                let mut changed = b.contact(ana)?.unwrap();
                changed.emails = vec![Labelled::new("home", "ana@home.example")];
                b.update_contact(changed, None)?;
                assert_eq!(b.find_by_email("ana@example.com")?, Vec::<Id>::new());
                assert_eq!(b.find_by_email("ana@home.example")?, vec![ana]);
                Ok((ana, ben))
            })
            .unwrap();
        // The same uid for a second contact is refused inside a bulk load too, and the
        // refusal aborts that load.
        let taken = store
            .bulk(&sam(), "import twice.vcf", |b| {
                b.add_contact(bulk_contact("Cy", "uid-cy", &[], ""), "")?;
                b.add_contact(bulk_contact("Cy again", "uid-cy", &[], ""), "")
            })
            .unwrap_err();
        assert!(taken.to_string().contains("uid-cy"), "{taken}");
        assert_eq!(store.find_by_uid("uid-cy").unwrap(), None);

        assert_doctor_clean(store);
        assert_eq!(store.find_by_uid("uid-ana").unwrap(), Some(ana));
        assert_eq!(store.find_by_uid("uid-ben").unwrap(), Some(ben));
        assert_eq!(
            store.find_by_email("ana@example.com").unwrap(),
            Vec::<Id>::new()
        );
        assert_eq!(store.find_by_email("ana@home.example").unwrap(), vec![ana]);
        assert_eq!(store.find_by_phone("+15550100").unwrap(), vec![ana, ben]);
        assert_eq!(store.find_by_tag("batch-1").unwrap(), vec![ana, ben]);
        assert_eq!(
            names(store, &store.ids_by_name(None, 10).unwrap()),
            ["Ana Perić", "Ben Ode", "Old Timer"]
        );
        assert_eq!(
            store
                .organization_name(store.contact(ana).unwrap().unwrap().organization)
                .unwrap(),
            "Acme"
        );
    });
}

#[test]
fn a_bulk_load_finds_and_files_rows_it_has_not_written_yet() {
    bulk_load_sees_and_files_every_key(usize::MAX);
}

#[test]
fn a_bulk_load_over_its_memory_budget_writes_rows_midway_with_the_same_result() {
    bulk_load_sees_and_files_every_key(0);
}

#[test]
fn a_second_bulk_load_merges_its_rows_into_filled_indexes() {
    on_both(|store| {
        let first = store
            .bulk(&sam(), "first", |b| {
                (0..300)
                    .map(|i| {
                        b.add_contact(
                            bulk_contact(
                                &format!("Person {i:03}"),
                                &format!("uid-{i}"),
                                &[&format!("p{i}@example.com")],
                                &format!("+44 20 7946 {i:04}"),
                            ),
                            "",
                        )
                    })
                    .collect::<Result<Vec<Id>, _>>()
            })
            .unwrap();
        store
            .bulk(&sam(), "second", |b| {
                for (i, &id) in first.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
                    let mut c = b.contact(id)?.unwrap();
                    c.emails
                        .push(Labelled::new("home", &format!("q{i}@example.com")));
                    c.tags = vec!["batch-2".into()];
                    b.update_contact(c, None)?;
                }
                b.add_contact(bulk_contact("Aaron First", "uid-new", &[], ""), "")
            })
            .unwrap();
        assert_doctor_clean(store);
        assert_eq!(
            store.find_by_email("q3@example.com").unwrap(),
            vec![first[3]]
        );
        assert_eq!(
            store.find_by_email("p3@example.com").unwrap(),
            vec![first[3]]
        );
        assert_eq!(store.find_by_tag("batch-2").unwrap().len(), 100);
        assert_eq!(store.find_by_tag("batch-1").unwrap().len(), 201);
        assert_eq!(store.find_by_uid("uid-299").unwrap(), Some(first[299]));
        let list = store.ids_by_name(None, 2).unwrap();
        assert_eq!(names(store, &list), ["Aaron First", "Person 000"]);
    });
}

/// Removals held back in a bulk load hide the rows already in the tables: the lookups answer
/// from the records as they are now, with the rows held or written out before every row.
#[test]
fn a_bulk_load_does_not_find_keys_it_has_removed_from_stored_contacts() {
    for budget in [usize::MAX, 0] {
        on_both(|store| {
            store.set_bulk_budget(budget);
            let mut eva = draft("Eva Novak", "eva@example.com");
            eva.uid = "urn:eva".into();
            eva.phones = vec![Labelled::new("mobile", "+386 1 555 0101")];
            let eva = store.add_contact(&sam(), eva).unwrap();
            let newcomer = store
                .bulk(&sam(), "import moved.vcf", |b| {
                    let mut moved = b.contact(eva.id)?.unwrap();
                    moved.uid.clear();
                    moved.emails = vec![Labelled::new("work", "eva@new.example")];
                    moved.phones.clear();
                    b.update_contact(moved, None)?;
                    assert_eq!(b.find_by_email("eva@example.com")?, Vec::<Id>::new());
                    assert_eq!(b.find_by_email("eva@new.example")?, vec![eva.id]);
                    assert_eq!(b.find_by_phone("+386 1 555 0101")?, Vec::<Id>::new());
                    assert_eq!(b.find_by_uid("urn:eva")?, None);
                    // The uid is free again, so another contact may take it.
                    let id = b.add_contact(bulk_contact("Eve Other", "urn:eva", &[], ""), "")?;
                    assert_eq!(b.find_by_uid("urn:eva")?, Some(id));
                    Ok(id)
                })
                .unwrap();
            assert_eq!(store.find_by_uid("urn:eva").unwrap(), Some(newcomer));
            assert_eq!(
                store.find_by_email("eva@example.com").unwrap(),
                Vec::<Id>::new()
            );
            assert_eq!(
                store.find_by_email("eva@new.example").unwrap(),
                vec![eva.id]
            );
            assert_doctor_clean(store);
        });
    }
}

#[test]
fn a_uid_merged_away_finds_the_survivor_but_never_stands_in_another_contacts_way() {
    on_both(|store| {
        let with_uid = |store: &Store, name: &str, email: &str, uid: &str| {
            let mut d = draft(name, email);
            d.uid = uid.into();
            store.add_contact(&sam(), d).unwrap()
        };
        let keep = with_uid(store, "Ana Horvat", "ana@acme.hr", "urn:crm-ana");
        let other = with_uid(store, "Ana H.", "ana@acme.hr", "urn:phone-ana");
        store
            .merge_contacts(&ana(), merged_plan(&keep, &other), &other)
            .unwrap();
        let survivor = store.contact(keep.id).unwrap().unwrap();
        assert_eq!(survivor.merged_uids(), ["urn:phone-ana"]);
        assert_eq!(
            store.find_by_merged_uid(" urn:phone-ana ").unwrap(),
            Some(keep.id)
        );
        assert_eq!(store.find_by_uid("urn:phone-ana").unwrap(), None);
        assert_doctor_clean(store);
        // A later bulk load (an import) finds it too.
        store
            .bulk(&sam(), "import phone.vcf", |b| {
                assert_eq!(b.find_by_merged_uid("urn:phone-ana")?, Some(keep.id));
                assert_eq!(b.find_by_uid("urn:phone-ana")?, None);
                Ok(())
            })
            .unwrap();
        // A contact of its own may still take that uid; each lookup keeps its answer.
        let newcomer = with_uid(store, "Someone Else", "", "urn:phone-ana");
        assert_eq!(
            store.find_by_uid("urn:phone-ana").unwrap(),
            Some(newcomer.id)
        );
        assert_eq!(
            store.find_by_merged_uid("urn:phone-ana").unwrap(),
            Some(keep.id)
        );
        assert_doctor_clean(store);
        // Undoing the newcomer and then the merge gives the uid back to its first owner.
        store.undo(&sam()).unwrap();
        store.undo(&ana()).unwrap();
        assert_eq!(store.find_by_uid("urn:phone-ana").unwrap(), Some(other.id));
        assert_eq!(store.find_by_merged_uid("urn:phone-ana").unwrap(), None);
        assert_doctor_clean(store);
    });
}

#[test]
fn a_merged_uid_with_a_comma_stays_one_uid() {
    on_both(|store| {
        let with_uid = |store: &Store, name: &str, email: &str, uid: &str| {
            let mut d = draft(name, email);
            d.uid = uid.into();
            store.add_contact(&sam(), d).unwrap()
        };
        let keep = with_uid(store, "Ana Lima", "ana@crm.example", "urn:a");
        let other = with_uid(store, "Ana Lima", "ana@phone.example", r"7,2\x");
        store
            .merge_contacts(&ana(), merged_plan(&keep, &other), &other)
            .unwrap();
        let survivor = store.contact(keep.id).unwrap().unwrap();
        assert_eq!(survivor.merged_uids(), [r"7,2\x"]);
        assert_eq!(store.find_by_merged_uid(r"7,2\x").unwrap(), Some(keep.id));
        assert_eq!(store.find_by_merged_uid("7").unwrap(), None);
        assert_eq!(store.find_by_merged_uid("2").unwrap(), None);
        assert_doctor_clean(store);
    });
}

/// Several contacts may list one merged uid; the first holds its row. Listing, dropping and
/// listing again inside one bulk load keeps the index right.
#[test]
fn a_bulk_load_keeps_merged_uid_rows_right_when_contacts_trade_them() {
    for budget in [usize::MAX, 0] {
        on_both(|store| {
            store.set_bulk_budget(budget);
            let a = add(store, "Ann A", "a@example.com");
            let b = add(store, "Bea B", "b@example.com");
            let set = |c: &mut Contact, list: Option<&str>| match list {
                Some(l) => {
                    c.custom
                        .insert("merged_uid".into(), CustomValue::Text(l.into()));
                }
                None => {
                    c.custom.remove("merged_uid");
                }
            };
            store
                .bulk(&sam(), "trade", |bulk| {
                    let save = |bulk: &mut rolo::store::Bulk,
                                id: Id,
                                list: Option<&str>|
                     -> Result<(), StoreError> {
                        let mut c = bulk.contact(id)?.unwrap();
                        set(&mut c, list);
                        bulk.update_contact(c, None)
                    };
                    save(bulk, a.id, Some("urn:m"))?;
                    save(bulk, a.id, None)?;
                    save(bulk, b.id, Some("urn:m"))?;
                    save(bulk, a.id, Some("urn:m"))?;
                    save(bulk, a.id, Some("urn:m, urn:n"))?;
                    assert_eq!(bulk.find_by_merged_uid("urn:m")?, Some(b.id));
                    save(bulk, b.id, None)?;
                    assert_eq!(bulk.find_by_merged_uid("urn:m")?, None);
                    assert_eq!(bulk.find_by_merged_uid("urn:n")?, Some(a.id));
                    Ok(())
                })
                .unwrap();
            assert_eq!(store.find_by_merged_uid("urn:m").unwrap(), None);
            assert_eq!(store.find_by_merged_uid("urn:n").unwrap(), Some(a.id));
            assert_doctor_clean(store);
        });
    }
}

/// Merges made under schema 3 listed the dropped uid without filing it; opening the file
/// files it.
#[test]
fn opening_a_schema_3_file_files_the_uids_its_merges_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.redb");
    let keep = {
        let store = Store::open(&path).unwrap();
        let mut d = draft("Ana Lima", "ana@crm.example");
        d.uid = "urn:a".into();
        d.custom.insert(
            "merged_uid".into(),
            CustomValue::Text("urn:b, urn:c".into()),
        );
        store.add_contact(&sam(), d).unwrap()
    };
    {
        // What schema 3 left: no rows for the merged uids.
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut uids = txn
                .open_table(redb::TableDefinition::<&str, u64>::new("by_uid"))
                .unwrap();
            assert!(uids.remove("\u{1}urn:b").unwrap().is_some());
            assert!(uids.remove("\u{1}urn:c").unwrap().is_some());
            let mut meta = txn
                .open_table(redb::TableDefinition::<&str, u64>::new("meta"))
                .unwrap();
            meta.insert("schema_version", 3).unwrap();
        }
        txn.commit().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), rolo::store::SCHEMA_VERSION);
    assert_eq!(store.find_by_merged_uid("urn:b").unwrap(), Some(keep.id));
    assert_eq!(store.find_by_merged_uid("urn:c").unwrap(), Some(keep.id));
    assert_eq!(store.find_by_uid("urn:a").unwrap(), Some(keep.id));
    assert_doctor_clean(&mut store);
}

#[test]
fn a_logged_interaction_is_edited_and_deleted_audited_and_undo_brings_it_back() {
    on_both(|store| {
        let ana_c = add(store, "Ana Perić", "ana@example.com");
        let logged = log(store, &sam(), ana_c.id, at(10), "Called about the invoice");
        let before = audit_len(store);
        let mut edited = logged.clone();
        edited.summary = "Called about the March invoice".into();
        let saved = store.edit_interaction(&sam(), &logged, edited).unwrap();
        assert_eq!(saved.summary, "Called about the March invoice");
        assert_eq!(
            summaries(&store.timeline(ana_c.id, 10).unwrap()),
            vec!["Called about the March invoice"]
        );
        assert_eq!(audit_len(store), before + 1, "the edit is audited");

        // Working from the copy read before the edit is refused: nothing is overwritten.
        let mut stale = logged.clone();
        stale.summary = "older".into();
        assert!(matches!(
            store.edit_interaction(&ana(), &logged, stale),
            Err(StoreError::Invalid(_))
        ));
        let mut moved = saved.clone();
        moved.contact += 1;
        assert!(
            store.edit_interaction(&sam(), &saved, moved).is_err(),
            "cannot move it"
        );

        store.delete_interaction(&sam(), &saved).unwrap();
        assert!(store.timeline(ana_c.id, 10).unwrap().is_empty());
        assert_eq!(audit_len(store), before + 2, "the delete is audited");
        assert!(matches!(
            store.delete_interaction(&sam(), &saved),
            Err(StoreError::NotFound(_))
        ));

        store.undo(&sam()).unwrap();
        assert_eq!(
            summaries(&store.timeline(ana_c.id, 10).unwrap()),
            vec!["Called about the March invoice"],
            "undo brings the deleted interaction back"
        );
        store.undo(&sam()).unwrap();
        assert_eq!(
            summaries(&store.timeline(ana_c.id, 10).unwrap()),
            vec!["Called about the invoice"],
            "and undoes the edit"
        );
        assert_doctor_clean(store);
    });
}

#[test]
fn open_existing_creates_nothing_and_names_the_missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("typo").join("rolo.redb");
    match Store::open_existing(&path) {
        Err(StoreError::NoDatabase { path: shown }) => {
            assert!(shown.contains("typo"), "{shown}")
        }
        other => panic!("expected NoDatabase, got {:?}", other.map(|_| ())),
    }
    assert!(!dir.path().join("typo").exists(), "no folder was created");
    drop(Store::open(&path).expect("create"));
    let store = Store::open_existing(&path).expect("an existing file opens");
    add(&store, "Đurđa Müller", "d1@example.com");
    add(&store, "Durda Muller", "d2@example.com");
    add(&store, "Durda Mullerova", "d3@example.com");
    let mut found = store.find_by_name("  durđa MÜLLER ").expect("lookup");
    found.sort_unstable();
    assert_eq!(
        found,
        vec![1, 2],
        "case and accents folded, a longer name not included"
    );
    assert!(store.find_by_name("").expect("lookup").is_empty());
}

#[test]
fn an_undone_add_goes_to_the_trash_with_what_others_logged_meanwhile() {
    on_both(|store| {
        let c = store
            .add_contact(&sam(), draft("Real Customer", ""))
            .unwrap();
        store
            .log_interaction(&ana(), call(c.id, at(1), "Ana called them"), None)
            .unwrap();
        let undone = store.undo(&sam()).unwrap();
        assert_eq!(undone.action, "add contact");
        assert!(store.contact(c.id).unwrap().is_none());
        let trash = store.trash().unwrap();
        assert_eq!(trash.len(), 1);
        assert_eq!(trash[0].contact.name, "Real Customer");
        assert_eq!(
            trash[0].entries.len(),
            1,
            "Ana's call went to the trash with it"
        );
        assert!(
            store.timeline(c.id, 10).unwrap().is_empty(),
            "no orphaned entries"
        );
        let back = store.restore_contact(&sam(), c.id).unwrap();
        assert_eq!(back.name, "Real Customer");
        assert_eq!(store.timeline(c.id, 10).unwrap().len(), 1);
    });
}

#[test]
fn undo_refuses_a_bulk_load_instead_of_skipping_past_it() {
    on_both(|store| {
        let a = store
            .add_contact(&sam(), draft("Ana", "a@x.example"))
            .unwrap();
        let b = store
            .add_contact(&sam(), draft("Bo", "b@x.example"))
            .unwrap();
        let merged = store.merge_contacts(&sam(), a.clone(), &b).unwrap();
        rolo::demo::load(store, &sam(), 12, 3, |_| {}).unwrap();
        let err = store.undo(&sam()).unwrap_err();
        assert!(matches!(err, StoreError::NotUndoable(_)), "{err}");
        assert!(err.to_string().contains("demo"), "{err}");
        // The merge stays merged, the demo contacts stay, and they carry the demo tag.
        assert!(store.contact(b.id).unwrap().is_none());
        assert_eq!(
            store.contact(a.id).unwrap().unwrap().version,
            merged.contact.version
        );
        assert_eq!(store.find_by_tag("demo").unwrap().len(), 12);
        // Another agent's undo is about their own actions only.
        assert!(matches!(store.undo(&ana()), Err(StoreError::NothingToUndo)));
    });
}

#[test]
fn repeated_undo_still_walks_back_through_ordinary_actions() {
    on_both(|store| {
        let a = store.add_contact(&sam(), draft("Ana", "")).unwrap();
        store
            .log_interaction(&sam(), call(a.id, at(1), "first"), None)
            .unwrap();
        assert!(store.undo(&sam()).unwrap().action.starts_with("log"));
        assert_eq!(store.undo(&sam()).unwrap().action, "add contact");
        assert!(matches!(store.undo(&sam()), Err(StoreError::NothingToUndo)));
    });
}

#[test]
fn opening_a_schema_4_file_makes_email_domains_searchable() {
    use rolo::search::{IndexEntry, Query, SearchDoc, SearchOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.redb");
    let ana = {
        let store = Store::open(&path).unwrap();
        store
            .add_contact(&sam(), draft("Ana Lima", "ana@vandelay.example"))
            .unwrap()
    };
    {
        // What schema 4 stored: the email's local part only.
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut index = txn
                .open_table(redb::TableDefinition::<u64, &[u8]>::new("contact_index"))
                .unwrap();
            let mut doc = SearchDoc::from_contact(&ana, "", i64::MIN, None);
            doc.emails = vec!["ana".into()];
            index
                .insert(ana.id, IndexEntry::from_doc(&doc).encode().as_slice())
                .unwrap();
            let mut meta = txn
                .open_table(redb::TableDefinition::<&str, u64>::new("meta"))
                .unwrap();
            meta.insert("schema_version", 4).unwrap();
        }
        txn.commit().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), rolo::store::SCHEMA_VERSION);
    let index = store.load_search_index().unwrap();
    let hits = index.search(
        &Query::parse("vandelay.example").unwrap(),
        SearchOptions {
            limit: 10,
            today_day: 20_000,
        },
    );
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![ana.id]);
    assert_doctor_clean(&mut store);
}

#[test]
fn concurrent_edits_of_different_fields_are_merged_and_the_same_field_is_refused() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let loaded_by_ana = store.contact(c.id).unwrap().unwrap();
        let loaded_by_sam = loaded_by_ana.clone();

        let mut by_ana = loaded_by_ana.clone();
        by_ana.title = "CTO".into();
        store
            .update_contact_from(&ana(), Some(&loaded_by_ana), by_ana, Some("Acme"))
            .unwrap();

        // Sam, still on the old version, changes only the notes and keeps the org as loaded.
        let mut by_sam = loaded_by_sam.clone();
        by_sam.notes = "Prefers mornings".into();
        let saved = store
            .update_contact_from(&sam(), Some(&loaded_by_sam), by_sam, Some(""))
            .unwrap();
        assert_eq!(saved.title, "CTO", "Ana's title is kept");
        assert_eq!(saved.notes, "Prefers mornings", "Sam's notes are saved");
        assert_eq!(
            store.organization_name(saved.organization).unwrap(),
            "Acme",
            "Sam did not touch the organisation, so Ana's stays"
        );

        // Now both change the title from the same version: refused, naming the field.
        let base = store.contact(c.id).unwrap().unwrap();
        let mut first = base.clone();
        first.title = "CEO".into();
        store
            .update_contact_from(&ana(), Some(&base), first, None)
            .unwrap();
        let mut second = base.clone();
        second.title = "Intern".into();
        let audit = audit_len(store);
        let err = store
            .update_contact_from(&sam(), Some(&base), second, None)
            .unwrap_err();
        assert!(matches!(err, StoreError::Stale { .. }), "{err}");
        assert!(err.to_string().contains("title"), "names the field: {err}");
        assert_eq!(audit_len(store), audit, "nothing written");
        assert_eq!(store.contact(c.id).unwrap().unwrap().title, "CEO");
    });
}

/// A deal names a contact that exists (or none), like a timeline entry: one for a contact
/// that is not there (a typo'd id, a contact deleted meanwhile) is refused, not filed under
/// a ghost that doctor and the contact's deal list would never show.
#[test]
fn a_deal_for_a_missing_contact_is_refused() {
    on_both(|store| {
        let c = add(store, "Ana", "ana@example.com");
        let err = store
            .add_deal(&sam(), deal(c.id + 100, "Ghost"))
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        let mut d = store.add_deal(&sam(), deal(c.id, "Real")).unwrap();
        d.contact = Some(c.id + 100);
        let err = store.update_deal(&sam(), d).unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert_eq!(store.deals_for(c.id).unwrap().len(), 1);
    });
}
