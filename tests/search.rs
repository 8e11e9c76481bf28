//! Search behaviour as a user of the search box would describe it.

use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rolo::search::{
    DueWindow, FilterKind, Hit, Index, MatchField, Query, QueryError, SearchDoc, SearchOptions,
    SearchWorker, Searcher, fold, highlight, testgen,
};
use unicode_normalization::UnicodeNormalization;

const TODAY: i32 = 20_000;
const OPTS: SearchOptions = SearchOptions {
    limit: 20,
    today_day: TODAY,
};

fn doc(id: u64, name: &str) -> SearchDoc {
    SearchDoc {
        id,
        name: name.to_owned(),
        last_contact_ms: 1_000,
        ..SearchDoc::default()
    }
}

fn index_of(docs: &[SearchDoc]) -> Index {
    let mut index = Index::new();
    for d in docs {
        index.upsert(d);
    }
    index
}

fn search(index: &Index, query: &str) -> Vec<Hit> {
    index.search(&Query::parse(query).expect("query parses"), OPTS)
}

fn ids(hits: &[Hit]) -> Vec<u64> {
    hits.iter().map(|h| h.id).collect()
}

// ---- folding -------------------------------------------------------------------------------

#[test]
fn folding_table() {
    let cases = [
        ("Nguyễn Văn Ánh", "nguyen van anh"),
        ("Trần Đức", "tran duc"),
        ("Müller", "muller"),
        ("Straße", "strasse"),
        ("Zoë", "zoe"),
        ("Søren Kierkegaard", "soren kierkegaard"),
        ("Æsa Þórsdóttir", "aesa thorsdottir"),
        ("Łukasz", "lukasz"),
        ("Đorđe Kovačević", "dorde kovacevic"),
        ("Snježana Šimić", "snjezana simic"),
        ("François Cœur", "francois coeur"),
        ("Ñandú", "nandu"),
        ("Iİı", "iii"),
        ("山田太郎", "山田太郎"),
        ("東京 がぎ", "東京 がぎ"),
        ("김민준", "김민준"),
    ];
    for (input, expected) in cases {
        assert_eq!(fold(input), expected, "folding {input}");
    }
}

#[test]
fn nfd_input_folds_like_nfc() {
    for text in [
        "Nguyễn Văn Ánh",
        "Trần Đức",
        "Müller",
        "Zoë",
        "François",
        "東京 がぎ",
    ] {
        let nfd: String = text.nfd().collect();
        assert_eq!(fold(&nfd), fold(text), "{text}");
    }
}

// ---- highlighting --------------------------------------------------------------------------

#[test]
fn highlight_lands_on_accented_chars_nfc_and_nfd() {
    // "Nguyễn Văn Ánh": chars 0..=5 are N g u y ễ n.
    assert_eq!(
        highlight("Nguyễn Văn Ánh", "nguyen"),
        vec![0, 1, 2, 3, 4, 5]
    );
    let nfd: String = "Nguyễn".nfd().collect();
    // In NFD, ễ is e + two marks, so n is char 7.
    let marked = highlight(&nfd, "nguyen");
    assert_eq!(marked, vec![0, 1, 2, 3, 4, 7]);
    assert_eq!(highlight("Trần Đức", "duc"), vec![5, 6, 7]);
    assert_eq!(highlight("Straße", "strasse"), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn highlight_cjk_and_phone_digits() {
    assert_eq!(highlight("山田太郎 Acme", "太郎"), vec![2, 3]);
    let phone = "+1 (555) 123-4567";
    let marks = highlight(phone, "5551234");
    let chars: Vec<char> = phone.chars().collect();
    let shown: String = marks.iter().map(|&i| chars[i]).collect();
    assert_eq!(shown, "5551234");
    assert!(
        highlight("Anna", "city:").is_empty(),
        "bad query highlights nothing"
    );
}

// ---- matching and ranking ------------------------------------------------------------------

#[test]
fn accents_and_case_do_not_matter() {
    let nfd_name: String = "Nguyễn Văn Ánh".nfd().collect();
    let index = index_of(&[
        doc(1, "Nguyễn Văn Ánh"),
        doc(2, &nfd_name),
        doc(3, "Trần Đức"),
        doc(4, "Hans Müller"),
        doc(5, "Zoë Saldaña"),
        doc(6, "山田太郎"),
    ]);
    let mut found = ids(&search(&index, "nguyen"));
    found.sort_unstable();
    assert_eq!(found, vec![1, 2]);
    assert_eq!(ids(&search(&index, "duc")), vec![3]);
    assert_eq!(ids(&search(&index, "MULLER")), vec![4]);
    assert_eq!(ids(&search(&index, "zoe")), vec![5]);
    assert_eq!(ids(&search(&index, "太郎")), vec![6]);
    assert_eq!(ids(&search(&index, "Nguyễn văn")).len(), 2);
}

#[test]
fn phone_digits_match_however_typed() {
    let mut d = doc(7, "Ann Lee");
    d.phones = vec!["+1 (555) 123-4567".into()];
    let index = index_of(&[d, doc(8, "Bob Ray")]);
    for q in ["5551234", "555-1234", "(555) 123"] {
        let hits = search(&index, q);
        assert_eq!(ids(&hits), vec![7], "{q}");
        assert_eq!(hits[0].field, MatchField::Phone);
    }
}

#[test]
fn name_match_beats_email_beats_tag() {
    let mut by_name = doc(1, "Rosa Parks");
    by_name.last_contact_ms = 0;
    let mut by_email = doc(2, "Ann Lee");
    by_email.emails = vec!["rosa@example.com".into()];
    by_email.last_contact_ms = 50;
    let mut by_tag = doc(3, "Ben Hill");
    by_tag.tags = vec!["rosa".into()];
    by_tag.last_contact_ms = 100;
    let index = index_of(&[by_tag, by_email, by_name]);
    let hits = search(&index, "rosa");
    assert_eq!(ids(&hits), vec![1, 2, 3]);
    let fields: Vec<MatchField> = hits.iter().map(|h| h.field).collect();
    assert_eq!(
        fields,
        [MatchField::Name, MatchField::Email, MatchField::Tag]
    );
    // Short queries take the direct scorer; the order must hold there too.
    assert_eq!(ids(&search(&index, "ro")), vec![1, 2, 3]);
    assert_eq!(ids(&search(&index, "r")), vec![1, 2, 3]);
}

#[test]
fn a_pasted_email_address_finds_its_owner() {
    let mut owner = doc(1, "Ann Lee");
    owner.emails = vec!["ann.lee@example.com".into()];
    let index = index_of(&[owner, doc(2, "Bob Hill")]);
    assert_eq!(ids(&search(&index, "ann.lee@example.com")), vec![1]);
    assert_eq!(ids(&search(&index, "ANN.LEE@EXAMPLE.COM")), vec![1]);
    // A leading `@` is still the organisation filter.
    assert!(matches!(
        Query::parse("@example").expect("parses").filters()[0].kind,
        FilterKind::Organization(_)
    ));
}

#[test]
fn word_start_beats_middle_of_word() {
    let mut middle = doc(1, "Marianne Holt");
    middle.last_contact_ms = 9_000;
    let start = doc(2, "Anne Holt");
    let index = index_of(&[middle, start]);
    assert_eq!(ids(&search(&index, "anne")), vec![2, 1]);
    assert_eq!(ids(&search(&index, "an")), vec![2, 1]);
    assert_eq!(ids(&search(&index, "a")), vec![2, 1]);
}

#[test]
fn a_whole_word_beats_a_longer_word_it_starts() {
    let mut johnny = doc(1, "Johnny Smith");
    johnny.last_contact_ms = 9_000;
    let john = doc(2, "John Smith");
    let index = index_of(&[johnny, john]);
    assert_eq!(ids(&search(&index, "john smith")), vec![2, 1]);
    assert_eq!(ids(&search(&index, "john")), vec![2, 1]);
    assert_eq!(
        ids(&search(&index, "jo")),
        vec![1, 2],
        "two letters are a word of neither: recency decides"
    );
}

#[test]
fn recent_contact_breaks_ties() {
    let mut old = doc(1, "John Smith");
    old.last_contact_ms = 10;
    let mut recent = doc(2, "John Smith");
    recent.last_contact_ms = 20;
    let index = index_of(&[old, recent]);
    let hits = search(&index, "john");
    assert_eq!(ids(&hits), vec![2, 1]);
    assert_eq!(hits[0].score, hits[1].score);
}

#[test]
fn terms_may_match_different_fields_with_typos() {
    let mut d = doc(1, "John Smith");
    d.organization = "Acme Corp".into();
    let mut other = doc(2, "John Smith");
    other.organization = "Globex".into();
    let index = index_of(&[d, other]);
    assert_eq!(ids(&search(&index, "jhn smth acme")), vec![1]);
}

#[test]
fn limit_keeps_the_best() {
    let docs: Vec<SearchDoc> = (0..100)
        .map(|i| {
            let mut d = doc(i, "Jo Example");
            d.last_contact_ms = i as i64;
            d
        })
        .collect();
    let index = index_of(&docs);
    let hits = index.search(
        &Query::parse("jo").expect("parses"),
        SearchOptions {
            limit: 3,
            today_day: TODAY,
        },
    );
    assert_eq!(ids(&hits), vec![99, 98, 97]);
}

// ---- filters -------------------------------------------------------------------------------

fn crm() -> Index {
    let mut a = doc(1, "Ann Lee");
    a.organization = "Acme Corp".into();
    a.city = "New York".into();
    a.tags = vec!["vip".into()];
    a.stage = "Lead".into();
    a.owner = "Sam Hill".into();
    a.next_due_day = Some(TODAY);
    let mut b = doc(2, "Anna Berg");
    b.organization = "Globex".into();
    b.city = "Lyon".into();
    b.tags = vec!["vip".into(), "churned".into()];
    b.stage = "Customer".into();
    b.owner = "Alex".into();
    b.next_due_day = Some(TODAY - 3);
    let mut c = doc(3, "Annette Roy");
    c.city = "Lyon".into();
    c.next_due_day = Some(TODAY + 5);
    index_of(&[a, b, c])
}

fn sorted(hits: Vec<Hit>) -> Vec<u64> {
    let mut ids = ids(&hits);
    ids.sort_unstable();
    ids
}

#[test]
fn filters_compose_with_text() {
    let index = crm();
    assert_eq!(sorted(search(&index, "#vip")), vec![1, 2]);
    assert_eq!(sorted(search(&index, "#vip -#churned")), vec![1]);
    assert_eq!(sorted(search(&index, "@acme")), vec![1]);
    assert_eq!(sorted(search(&index, "ann city:lyon")), vec![2, 3]);
    assert_eq!(sorted(search(&index, r#"city:"new york""#)), vec![1]);
    assert_eq!(sorted(search(&index, "stage:lead")), vec![1]);
    assert_eq!(sorted(search(&index, "owner:sam")), vec![1]);
    assert_eq!(sorted(search(&index, "-city:lyon")), vec![1]);
    assert_eq!(sorted(search(&index, "due:today")), vec![1]);
    assert_eq!(sorted(search(&index, "due:overdue")), vec![2]);
    assert_eq!(sorted(search(&index, "due:week")), vec![1, 3]);
    assert_eq!(sorted(search(&index, "-due:overdue")), vec![1, 3]);
}

#[test]
fn query_parsing() {
    let q = Query::parse(r#"Jöhn  -#Churned @acme city:"São Paulo" due:week"#).expect("parses");
    assert_eq!(q.terms(), ["john"]);
    let kinds: Vec<(bool, FilterKind)> = q
        .filters()
        .iter()
        .map(|f| (f.negated, f.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (true, FilterKind::Tag("churned".into())),
            (false, FilterKind::Organization("acme".into())),
            (false, FilterKind::City("sao paulo".into())),
            (false, FilterKind::Due(DueWindow::Week)),
        ]
    );
    assert_eq!(
        Query::parse(r#""foo:bar""#).expect("parses").terms(),
        ["foo:bar"]
    );
    assert!(Query::parse("   ").expect("parses").is_empty());
}

#[test]
fn bad_queries_explain_themselves() {
    let message = |q: &str| Query::parse(q).expect_err(q).to_string();
    assert_eq!(message("city:"), "city: needs a value, e.g. city:lyon");
    assert_eq!(
        message("ann stage:  "),
        "stage: needs a value, e.g. stage:lead"
    );
    assert_eq!(message("#"), "# needs a value, e.g. #vip");
    assert!(message("due:soon").contains("due:today, due:overdue or due:week"));
    let unknown = message("foo:bar");
    assert!(unknown.contains("unknown filter `foo:`"), "{unknown}");
    assert!(
        unknown.contains("city:") && unknown.contains("#tag"),
        "{unknown}"
    );
    assert!(matches!(
        Query::parse("-ann"),
        Err(QueryError::DanglingMinus { .. })
    ));
}

#[test]
fn parsing_never_panics_on_odd_input() {
    for q in [
        "\"", "-", "--", "-\"", "::", "#\"", "city:\"", "é:x", "@@", "due:", "a\"b c",
    ] {
        let _ = Query::parse(q);
        let _ = highlight("Anna", q);
    }
}

// ---- index maintenance ---------------------------------------------------------------------

#[test]
fn edits_and_removals_update_the_index_in_place() {
    let mut index = index_of(&[doc(1, "Ann Lee"), doc(2, "Bob Ray")]);
    index.upsert(&doc(1, "Carla Diaz"));
    assert!(search(&index, "lee").is_empty(), "old name no longer found");
    assert_eq!(ids(&search(&index, "carla")), vec![1]);
    assert_eq!(index.len(), 2);
    index.remove(2);
    assert!(search(&index, "bob").is_empty());
    assert!(!index.contains(2));
    index.upsert(&doc(3, "Bob Ray"));
    assert_eq!(ids(&search(&index, "bob")), vec![3]);
    // Many edits trigger compaction of the key buffer; everything stays findable.
    for round in 0..2_000u64 {
        index.upsert(&doc(1, &format!("Carla Diaz {round} {}", "x".repeat(60))));
    }
    assert_eq!(ids(&search(&index, "carla 1999")), vec![1]);
    assert_eq!(ids(&search(&index, "bob")), vec![3]);
}

#[test]
fn ids_arriving_out_of_order_removed_and_restored_stay_findable() {
    // A load from the store arrives in id order; late arrivals, restores from the trash and
    // mass deletions do not, and each of them must leave the index as a fresh load would.
    let person = |id: u64| doc(id, &format!("Person {id}"));
    let mut index = Index::new();
    for id in (2..=140_000).step_by(2) {
        index.upsert(&person(id));
    }
    for id in (1..140_000).rev().step_by(2) {
        index.upsert(&person(id));
    }
    for id in (1..=140_000).filter(|id| id % 4 != 0) {
        index.remove(id);
    }
    let restored = (1..2_000).filter(|id| id % 4 == 1);
    for id in restored.clone() {
        index.upsert(&person(id));
    }
    index.upsert(&person(4));
    index.remove(8);
    let expected: Vec<u64> = (1..=140_000)
        .filter(|&id| (id % 4 == 0 && id != 8) || (id < 2_000 && id % 4 == 1))
        .collect();
    assert_eq!(index.len(), expected.len());
    assert!(expected.iter().all(|&id| index.contains(id)));
    assert!(!index.contains(8) && !index.contains(3) && !index.contains(140_001));
    let fresh = index_of(&expected.iter().map(|&id| person(id)).collect::<Vec<_>>());
    for query in ["person 1", "13", "4", "99996"] {
        assert_eq!(search(&index, query), search(&fresh, query), "{query}");
    }
    assert_eq!(search(&index, "person 1997")[0].id, 1997);
}

#[test]
fn compact_records_round_trip() {
    for d in testgen::contacts(500, 7) {
        let bytes = d.encode_compact();
        let mut from_bytes = Index::new();
        from_bytes.upsert_encoded(&bytes).expect("decodes");
        let direct = index_of(std::slice::from_ref(&d));
        let first_word = fold(&d.name)
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        let q = Query::parse(&first_word).expect("parses");
        assert_eq!(
            from_bytes.search(&q, OPTS),
            direct.search(&q, OPTS),
            "{}",
            d.name
        );
        assert_eq!(from_bytes.search(&q, OPTS).len(), 1);
    }
    let mut index = Index::new();
    assert!(index.upsert_encoded(&[1, 2, 3]).is_err());
    let mut bad = doc(1, "Ann").encode_compact();
    bad.push(b'x');
    assert!(index.upsert_encoded(&bad).is_err());
}

// ---- narrowing -----------------------------------------------------------------------------

#[test]
fn narrowing_gives_the_same_results_as_a_fresh_search() {
    let index = index_of(&testgen::contacts(30_000, 42).collect::<Vec<_>>());
    let typed = "john smith #vip";
    let mut searcher = Searcher::new();
    let mut any = false;
    for end in 1..=typed.len() {
        let Ok(query) = Query::parse(&typed[..end]) else {
            continue;
        };
        let narrowed = searcher
            .search(&index, &query, OPTS, &|| false)
            .expect("not cancelled");
        let fresh = index.search(&query, OPTS);
        assert_eq!(narrowed, fresh, "after typing {:?}", &typed[..end]);
        any |= !fresh.is_empty();
    }
    assert!(any);
    // Deleting chars (not narrowing) and filters that widen are handled too.
    for q in [
        "john",
        "jo",
        "john -#vip",
        "john -#vi",
        "nguyen van",
        "nguyen va",
    ] {
        let query = Query::parse(q).expect("parses");
        assert_eq!(
            searcher.search(&index, &query, OPTS, &|| false),
            Some(index.search(&query, OPTS)),
            "{q}"
        );
    }
}

#[test]
fn narrowing_is_not_used_after_an_edit() {
    let mut index = index_of(&[doc(1, "John Smith")]);
    let mut searcher = Searcher::new();
    let q = |s: &str| Query::parse(s).expect("parses");
    assert_eq!(
        searcher
            .search(&index, &q("jo"), OPTS, &|| false)
            .map(|h| h.len()),
        Some(1)
    );
    index.upsert(&doc(2, "Johanna Berg"));
    let hits = searcher
        .search(&index, &q("joh"), OPTS, &|| false)
        .expect("runs");
    assert_eq!(hits.len(), 2);
}

#[test]
fn narrowing_across_other_peoples_edits_matches_a_fresh_search() {
    // Team mode: other agents' writes change the index between one agent's keystrokes; the
    // narrowed search must still equal a fresh one (renamed into a match, removed, added).
    let docs: Vec<SearchDoc> = testgen::contacts(20_000, 7).collect();
    let mut index = index_of(&docs);
    let typed = "zqxwv";
    let mut searcher = Searcher::new();
    let mut next_id = 1_000_000;
    let mut renamed = Vec::new();
    for end in 1..=typed.len() {
        let query = Query::parse(&typed[..end]).expect("parses");
        if end > 1 {
            // Between keystrokes: a contact renamed to match, one removed, one added.
            let id = docs[end * 97 % docs.len()].id;
            index.upsert(&doc(id, &format!("Zqxwv Renamed {end}")));
            renamed.push(id);
            index.remove(docs[end * 131 % docs.len()].id);
            next_id += 1;
            index.upsert(&doc(next_id, &format!("Zqxwv Added {end}")));
        }
        let narrowed = searcher
            .search(&index, &query, OPTS, &|| false)
            .expect("not cancelled");
        assert_eq!(
            narrowed,
            index.search(&query, OPTS),
            "after {:?}",
            &typed[..end]
        );
    }
    let last = searcher
        .search(&index, &Query::parse(typed).expect("parses"), OPTS, &|| {
            false
        })
        .expect("runs");
    for id in renamed {
        assert!(
            last.iter().any(|h| h.id == id),
            "#{id} renamed into a match"
        );
    }
}

/// Typing on in a word looks for it only among the contacts that held its start (and those
/// changed since): with other agents' edits between keystrokes, the results are a fresh
/// search's, for words common enough to be settled by the substring pass.
#[test]
fn typing_on_in_a_word_matches_a_fresh_search_across_edits() {
    let docs: Vec<SearchDoc> = testgen::contacts(20_000, 11).collect();
    let mut index = index_of(&docs);
    let mut next_id = 2_000_000;
    let mut checked = 0;
    for word in ["martin", "nguyen", "garcia", "john smith", "horvat"] {
        let mut searcher = Searcher::new();
        for (n, end) in word
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .enumerate()
        {
            let typed = &word[..end];
            if n > 0 {
                // Someone renames a contact into a match, removes one that matched, adds one.
                let renamed = docs[(n * 7919 + end) % docs.len()].id;
                index.upsert(&doc(renamed, &format!("{word} Renamed {n}")));
                if let Some(hit) = index
                    .search(&Query::parse(typed).expect("parses"), OPTS)
                    .get(3)
                {
                    index.remove(hit.id);
                }
                next_id += 1;
                index.upsert(&doc(next_id, &format!("Zed {word}")));
            }
            let query = Query::parse(typed).expect("parses");
            let narrowed = searcher
                .search(&index, &query, OPTS, &|| false)
                .expect("not cancelled");
            let fresh = index.search(&query, OPTS);
            assert_eq!(narrowed, fresh, "after typing {typed:?}");
            checked += usize::from(fresh.len() == OPTS.limit);
        }
    }
    assert!(checked > 10, "{checked} keystrokes had a full page");
}

// ---- cancellation and the worker -----------------------------------------------------------

#[test]
fn a_cancelled_scan_returns_nothing() {
    let index = index_of(&testgen::contacts(50_000, 1).collect::<Vec<_>>());
    let mut searcher = Searcher::new();
    let q = Query::parse("j").expect("parses");
    assert_eq!(searcher.search(&index, &q, OPTS, &|| true), None);
    assert!(searcher.search(&index, &q, OPTS, &|| false).is_some());
}

#[test]
fn worker_delivers_results_tagged_with_generation() {
    let index = Arc::new(RwLock::new(index_of(&[
        doc(1, "Ann Lee"),
        doc(2, "Bob Ray"),
    ])));
    let (tx, rx) = mpsc::channel();
    let worker = SearchWorker::spawn(Arc::clone(&index), tx, |r| r);
    worker.submit(1, Query::parse("bob").expect("parses"), OPTS);
    let response = rx.recv_timeout(Duration::from_secs(5)).expect("answer");
    assert_eq!(response.generation, 1);
    assert_eq!(ids(&response.hits), vec![2]);
}

#[test]
fn a_stale_query_is_never_delivered() {
    let index = Arc::new(RwLock::new(index_of(
        &testgen::contacts(20_000, 3).collect::<Vec<_>>(),
    )));
    let (tx, rx) = mpsc::channel();
    let worker = SearchWorker::spawn(Arc::clone(&index), tx, |r| r);
    {
        // Hold the index so the worker is stuck while newer queries arrive.
        let _writer = index.write().expect("lock");
        worker.submit(1, Query::parse("j").expect("parses"), OPTS);
        std::thread::sleep(Duration::from_millis(50));
        worker.submit(2, Query::parse("jo").expect("parses"), OPTS);
        worker.submit(3, Query::parse("john").expect("parses"), OPTS);
    }
    let first = rx.recv_timeout(Duration::from_secs(10)).expect("answer");
    assert_eq!(first.generation, 3);
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing else arrives"
    );
    // Rapid typing: whatever arrives after a submit returned is never older than it.
    for generation in 4..60u64 {
        worker.submit(generation, Query::parse("jo").expect("parses"), OPTS);
        while let Ok(response) = rx.try_recv() {
            assert!(response.generation <= generation);
        }
        // Anything still queued from before this submit must be re-checked by the caller;
        // what the worker sends from now on is for `generation` or later.
        let seen_after: Vec<u64> = rx.try_iter().map(|r| r.generation).collect();
        assert!(seen_after.iter().all(|&g| g <= generation));
    }
    let last = loop {
        let r = rx.recv_timeout(Duration::from_secs(10)).expect("answer");
        if r.generation == 59 {
            break r;
        }
    };
    assert_eq!(last.generation, 59);
}

#[test]
fn top_k_pruning_keeps_exactly_the_best() {
    let index = index_of(&testgen::contacts(20_000, 9).collect::<Vec<_>>());
    for q in [
        "j",
        "jo",
        "joh",
        "john s",
        "ma",
        "nguyen",
        "5551",
        "#vip",
        "smith city:lyon",
    ] {
        let query = Query::parse(q).expect("parses");
        let everything = index.search(
            &query,
            SearchOptions {
                limit: usize::MAX,
                today_day: TODAY,
            },
        );
        let top = index.search(
            &query,
            SearchOptions {
                limit: 10,
                today_day: TODAY,
            },
        );
        assert_eq!(top, everything[..everything.len().min(10)], "{q}");
        assert!(
            everything.windows(2).all(|w| w[0].score >= w[1].score),
            "{q}"
        );
    }
}

// ---- phone numbers, domains, typos (issue 11, items 10 and 11) ----------------------------

fn with_phone(id: u64, name: &str, phone: &str) -> SearchDoc {
    let mut d = doc(id, name);
    d.phones = vec![phone.into()];
    d
}

#[test]
fn the_last_four_digits_find_the_caller_first() {
    // The scattered 7-8-7-4 of the first number used to rank above the real caller.
    let mut scattered = with_phone(1, "Ann Lee", "+1 (787) 555-0004");
    scattered.last_contact_ms = 9_000;
    let caller = with_phone(2, "Bob Ray", "+49 158 3157874");
    let middle = with_phone(3, "Cy Day", "+39 376 787 4373");
    let index = index_of(&[scattered, caller, middle, doc(4, "Dee 7874 Fox")]);
    let hits = search(&index, "7874");
    assert_eq!(
        ids(&hits),
        vec![2, 3, 4],
        "a number ending in the digits first"
    );
    assert_eq!(hits[0].field, MatchField::Phone);
    assert_eq!(hits[2].field, MatchField::Name);
}

#[test]
fn international_and_national_forms_find_the_same_number() {
    let croatian = with_phone(1, "Ana Horvat", "+385 91 234 5678");
    let national = with_phone(2, "Ivo Kos", "091 765 4321");
    let chinese = with_phone(3, "Li Wei", "+86 10 8888 1234");
    let not_chinese = with_phone(4, "Al Bo", "+1 212 008 6100");
    let index = index_of(&[croatian, national, chinese, not_chinese]);
    for q in [
        "+385 91 234 5678",
        "00385 91 234 5678",
        "091 234 5678",
        "(091) 234-5678",
        "091.234.56",
        "385912345678",
    ] {
        assert_eq!(ids(&search(&index, q)), vec![1], "{q}");
    }
    // An international query finds a number stored in national form.
    assert_eq!(ids(&search(&index, "+385 91 765 4321")), vec![2]);
    // `00` is `+`: the country code starts the number.
    assert_eq!(ids(&search(&index, "0086 10 8888")), vec![3]);
    // `0086` alone: every +86 number first (it starts the number), then the digits as typed.
    assert_eq!(ids(&search(&index, "0086")), vec![3, 4]);
    let query = Query::parse("091 234 5678").expect("parses");
    assert_eq!(
        query.terms().len(),
        1,
        "a number typed with spaces is one term"
    );
    let mut shown = with_phone(9, "Ana Horvat", "+385 91 234 5678");
    shown.emails = vec!["ana@vandelay.example".into()];
    assert_eq!(
        rolo::search::matched_value(&query, &shown),
        Some((MatchField::Phone, "+385 91 234 5678".into()))
    );
}

#[test]
fn a_domain_finds_everyone_with_an_email_there() {
    let mut art = doc(1, "Art Vandelay");
    art.emails = vec!["art@vandelay.example".into()];
    let mut kel = doc(2, "Kel Varnsen");
    kel.emails = vec!["kel@home.example".into(), "kel@vandelay.example".into()];
    let mut other = doc(3, "Bob Sacamano");
    other.emails = vec!["bob@kramerica.example".into()];
    let index = index_of(&[art, kel, other]);
    let hits = search(&index, "vandelay.example");
    assert_eq!(sorted(hits.clone()), vec![1, 2]);
    assert!(hits.iter().all(|h| h.field == MatchField::Email));
    assert_eq!(ids(&search(&index, "kel@vandelay.example")), vec![2]);
}

#[test]
fn a_mistyped_name_is_found_below_exact_matches() {
    let docs = [
        doc(1, "Alessandro Conti"),
        doc(2, "Aleksandar Petrović"),
        doc(3, "Marta Gómez"),
        doc(4, "Ana Gomes"),
        doc(5, "Globex Media Sales"),
    ];
    let index = index_of(&docs);
    let hits = search(&index, "gomes");
    assert_eq!(ids(&hits)[..2], [4, 3], "exact first, then the typo");
    assert!(hits[1].score < hits[0].score);
    let hits = search(&index, "aleksandro");
    assert_eq!(sorted(hits), vec![1, 2]);
    assert_eq!(ids(&search(&index, "aleksandro conti")), vec![1]);
    // Short terms get no typo tolerance: `gome` is a prefix, `gme` nothing typo-matched.
    assert!(!ids(&search(&index, "petrovac")).contains(&1));
}

#[test]
fn phone_and_typo_queries_rank_exactly_at_scale() {
    let index = index_of(&testgen::contacts(20_000, 5).collect::<Vec<_>>());
    for q in [
        "5551",
        "555 12",
        "0555 123",
        "+1 555",
        "smtih",
        "jonh smith",
    ] {
        let query = Query::parse(q).expect("parses");
        let everything = index.search(
            &query,
            SearchOptions {
                limit: usize::MAX,
                today_day: TODAY,
            },
        );
        let top = index.search(
            &query,
            SearchOptions {
                limit: 10,
                today_day: TODAY,
            },
        );
        assert_eq!(top, everything[..everything.len().min(10)], "{q}");
        let mut searcher = Searcher::new();
        let mut typed = String::new();
        for c in q.chars() {
            typed.push(c);
            if let Ok(partial) = Query::parse(&typed) {
                let narrowed = searcher.search(&index, &partial, OPTS, &|| false);
                assert_eq!(narrowed, Some(index.search(&partial, OPTS)), "{typed:?}");
            }
        }
    }
}

// ---- the anchored substring pass (issue 12: a keystroke's cost at 100k–1M contacts) ---------

/// The substring pass must give exactly what a brute-force scan of everyone gives, with
/// edited and removed contacts (stale key text in the buffer), at every limit, fresh and
/// narrowed while typing.
#[test]
fn the_anchored_pass_matches_a_full_scan_exactly() {
    let docs: Vec<SearchDoc> = testgen::contacts(20_000, 21).collect();
    let mut index = index_of(&docs);
    // Edits leave the old key text behind; removals leave dead slots.
    for d in docs.iter().step_by(7) {
        let mut edited = d.clone();
        edited.name = format!("{} Anastasia", d.name);
        index.upsert(&edited);
    }
    for d in docs.iter().step_by(13) {
        index.remove(d.id);
    }
    let mut brute = index_of(&[]);
    std::mem::swap(&mut brute, &mut index);
    let mut reference = index_of(&[]);
    for d in &docs {
        let mut d = d.clone();
        if d.id % 7 == 0 {
            d.name = format!("{} Anastasia", d.name);
        }
        if d.id % 13 != 0 {
            reference.upsert(&d);
        }
    }
    reference.set_full_scans_only(true);
    let mut index = brute;
    let mut checked_fast = 0;
    let mut edits = 0usize;
    for q in [
        "ana",
        "anas",
        "nguyen",
        "smith",
        "joh",
        "john smith",
        "mar",
        "garcia lyon",
        "kowalski",
        "acme",
        "sam",
        "zzq",
        "jhn smth",
        "smtih",
        "ana #vip",
        "berlin ana",
        "ivan -city:lyon",
        // One and two letters: scanned in order of falling bound, every field pruned early.
        "o",
        "ol",
        "si",
        "ac",
        "ly",
        "mo",
        "j",
        "li",
        "da",
        "ol #vip",
        "si -city:lyon",
        "ac ly",
        // Three letters whose substring is often outside the name (Berlin, Lee in a city).
        "ber",
        "lee",
        "che",
        "mor",
        "berlin",
        "acm",
        "li ber",
    ] {
        let query = Query::parse(q).expect("parses");
        for limit in [1, 10, 19, 20, 200, usize::MAX] {
            let options = SearchOptions {
                limit,
                today_day: TODAY,
            };
            let fast = index.search(&query, options);
            let full = reference.search(&query, options);
            let pairs = |hits: &[Hit]| hits.iter().map(|h| (h.id, h.score)).collect::<Vec<_>>();
            if fast != full {
                let at = (0..fast.len().max(full.len()))
                    .find(|&i| fast.get(i) != full.get(i))
                    .unwrap_or(0);
                panic!(
                    "{q:?} limit {limit}: {} vs {} hits, first difference at {at}: {:?} vs {:?}",
                    fast.len(),
                    full.len(),
                    pairs(&fast[at.min(fast.len())..]).first(),
                    pairs(&full[at.min(full.len())..]).first()
                );
            }
            if fast.len() >= 20 && fast.iter().all(|h| h.score > 0) {
                checked_fast += 1;
            }
        }
        for limit in [1, 20, 200] {
            let options = SearchOptions {
                limit,
                today_day: TODAY,
            };
            let mut searcher = Searcher::new();
            let mut typed = String::new();
            for c in q.chars() {
                typed.push(c);
                if let Ok(partial) = Query::parse(&typed) {
                    let narrowed = searcher.search(&index, &partial, options, &|| false);
                    assert_eq!(
                        narrowed,
                        Some(reference.search(&partial, options)),
                        "{typed:?} limit {limit}"
                    );
                }
                if limit == 200 {
                    // Someone else edits or removes a contact between two keystrokes: its
                    // slot must be rescanned (an edit puts the typed text first in a name).
                    edits += 1;
                    let d = &docs[(edits * 131) % docs.len()];
                    if edits % 3 == 0 {
                        index.remove(d.id);
                        reference.remove(d.id);
                    } else {
                        let mut edited = d.clone();
                        edited.name = format!("{typed} {}", d.name);
                        index.upsert(&edited);
                        reference.upsert(&edited);
                    }
                }
            }
        }
    }
    assert!(
        checked_fast > 10,
        "the pass was hardly used: {checked_fast}"
    );
}

/// Fuzzy (scattered) matches fill the list only when few people have the word itself.
#[test]
fn scattered_matches_are_listed_only_when_the_word_is_rare() {
    let mut docs = vec![doc(1, "Sarah Amundsen")];
    for id in 2..6 {
        docs.push(doc(id, &format!("Samira Case {id}")));
    }
    let index = index_of(&docs);
    // Four contiguous matches: the scattered one is listed after them.
    let few = ids(&search(&index, "sam"));
    assert_eq!(few.len(), 5, "{few:?}");
    assert_eq!(few.last(), Some(&1));
    for id in 6..40 {
        docs.push(doc(id, &format!("Samuel Case {id}")));
    }
    let index = index_of(&docs);
    let many = index.search(
        &Query::parse("sam").expect("parses"),
        SearchOptions {
            limit: 100,
            today_day: TODAY,
        },
    );
    assert_eq!(many.len(), 38);
    assert!(!ids(&many).contains(&1));
}

/// Key text of neighbouring contacts lies back to back, and so do a contact's fields: a
/// needle can occur twice, overlapping, where one contact's text ends and the next begins
/// ("…han" + "anabel…"), or where the name ends and the email begins ("han" + "anab@…").
/// The substring pass must find the second occurrence too, not only the first.
#[test]
fn overlapping_occurrences_are_all_found() {
    let mut docs = Vec::new();
    for n in 0..60u64 {
        // Enough plain matches for the anchored pass to be used.
        docs.push(doc(1_000 + n, &format!("Ana Plain{n}")));
    }
    for n in 0..20u64 {
        // Ends in "han"; the next contact's key starts with "ana".
        docs.push(doc(2 * n, "Bo Han"));
        docs.push(doc(2 * n + 1, &format!("Anabel Next{n}")));
    }
    for n in 0..20u64 {
        // The name ends in "han", the email starts with "ana".
        let mut d = doc(500 + n, "Han");
        d.emails = vec![format!("anab{n}@example.com")];
        docs.push(d);
    }
    let index = index_of(&docs);
    let mut reference = index_of(&docs);
    reference.set_full_scans_only(true);
    for q in ["ana", "anab", "nab"] {
        let query = Query::parse(q).expect("parses");
        for limit in [10, 100, usize::MAX] {
            let options = SearchOptions {
                limit,
                today_day: TODAY,
            };
            assert_eq!(
                ids(&index.search(&query, options)),
                ids(&reference.search(&query, options)),
                "{q:?} limit {limit}"
            );
        }
    }
    // Every "Anabel" is found, right after its "Bo Han".
    let all = index.search(
        &Query::parse("anabel").expect("parses"),
        SearchOptions {
            limit: usize::MAX,
            today_day: TODAY,
        },
    );
    assert_eq!(all.len(), 20);
}
