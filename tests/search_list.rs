//! Searching among namesakes as an agent does: the selected result previewed in the detail
//! pane while the search is open, and the search kept on the list as a filter after `enter`
//! until `esc` — driven through `update` on an in-memory store.

use rolo::domain::{Actor, At, ContactDraft, Labelled};
use rolo::store::Store;
use rolo::tui::driver::Driver;
use rolo::tui::keymap::Keymap;
use rolo::tui::state::Overlay;

/// Three "Ana Horvat" (told apart by email) and a Bob, on a terminal wide enough for three
/// panes (`width`).
fn namesakes(width: u16) -> Driver {
    let store = Store::in_memory().expect("store");
    for (name, email) in [
        ("Ana Horvat", "ana@acme.example"),
        ("Ana Horvat", "ana@globex.example"),
        ("Ana Horvat", "ana@initech.example"),
        ("Bob Lee", "bob@acme.example"),
    ] {
        let draft = ContactDraft {
            name: name.to_string(),
            emails: vec![Labelled::new("work", email)],
            ..ContactDraft::default()
        };
        store.add_contact(&Actor::new("setup"), draft).expect("add");
    }
    let keymap = Keymap::load(Some("default"), None).expect("keymap");
    Driver::new(store, keymap, At::now(), width, 40)
}

fn detail_email(d: &Driver) -> String {
    d.state
        .selected_detail()
        .and_then(|v| v.contact.primary_email().map(str::to_string))
        .unwrap_or_default()
}

fn hit_ids(d: &Driver) -> Vec<u64> {
    match &d.state.overlay {
        Some(rolo::tui::state::Overlay::Search(s)) => s.hits.iter().map(|h| h.id).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_selected_result_is_previewed_in_the_detail_pane_while_searching() {
    let mut d = namesakes(130);
    let before = d.state.list.selected_id();
    d.keys("/");
    d.type_text("ana horvat");
    let hits = hit_ids(&d);
    assert_eq!(hits.len(), 3);
    assert_eq!(d.state.list.selected_id(), Some(hits[0]));
    let first = detail_email(&d);
    d.keys("down");
    assert_eq!(
        d.state.list.selected_id(),
        Some(hits[1]),
        "the preview follows"
    );
    assert_ne!(
        detail_email(&d),
        first,
        "the detail pane shows the second Ana"
    );
    assert!(rolo::tui::view::layout::search_preview(&d.state));
    // Cancelled, the selection from before the search comes back.
    d.keys("esc");
    assert_eq!(d.state.list.selected_id(), before);
}

#[test]
fn after_enter_the_search_filters_the_list_until_esc() {
    let mut d = namesakes(130);
    d.keys("/");
    d.type_text("ana horvat");
    d.keys("down");
    let chosen = hit_ids(&d)[1];
    d.keys("enter");
    assert!(d.state.overlay.is_none());
    assert_eq!(d.state.list.ids.len(), 3, "only the three namesakes");
    assert_eq!(d.state.list.selected_id(), Some(chosen));
    assert!(d.state.list.filter.is_some());
    // A write while filtered reloads the list: the filter stays, with what the write left.
    d.keys("l");
    d.type_text("Called back");
    d.keys("ctrl-s");
    assert!(d.state.list.filter.is_some(), "the filter survives a write");
    assert_eq!(d.state.list.ids.len(), 3);
    assert_eq!(d.state.list.selected_id(), Some(chosen));
    d.keys("esc");
    assert!(d.state.list.filter.is_none());
    assert_eq!(d.state.list.ids.len(), 4, "everyone again");
    assert_eq!(
        d.state.list.selected_id(),
        Some(chosen),
        "still on the chosen one"
    );
}

#[test]
fn a_single_hit_opens_without_filtering() {
    let mut d = namesakes(100);
    d.keys("/");
    d.type_text("bob");
    d.keys("enter");
    assert!(d.state.list.filter.is_none());
    assert_eq!(d.state.list.ids.len(), 4);
    assert!(!rolo::tui::view::layout::search_preview(&d.state));
}

fn new_contact_sharing_an_email(d: &mut Driver) {
    d.keys("n");
    d.type_text("Anna Horvath");
    d.keys("tab tab tab"); // organisation, title, emails
    d.type_text("ana@globex.example");
    d.keys("enter");
}

fn contact_count(d: &Driver) -> u64 {
    d.store.contact_count().expect("count")
}

#[test]
fn adding_someone_whose_email_is_taken_asks_first_and_back_keeps_the_form() {
    let mut d = namesakes(120);
    new_contact_sharing_an_email(&mut d);
    match &d.state.overlay {
        Some(Overlay::SharedOnAdd(shared)) => {
            assert_eq!(shared.value, "ana@globex.example");
            assert_eq!(shared.owner_name, "Ana Horvat");
        }
        other => panic!("expected the question, got {other:?}"),
    }
    assert_eq!(contact_count(&d), 4, "nothing saved yet");
    d.keys("esc");
    match &d.state.overlay {
        Some(Overlay::Form(form)) => assert_eq!(form.inputs[0].text(), "Anna Horvath"),
        other => panic!("back to the form as typed, got {other:?}"),
    }
    // Saved anyway on the second try.
    d.keys("enter");
    d.keys("y");
    assert_eq!(contact_count(&d), 5);
}

#[test]
fn open_goes_to_the_one_who_has_it_and_merge_saves_then_offers_the_merge() {
    let mut d = namesakes(120);
    new_contact_sharing_an_email(&mut d);
    let owner = match &d.state.overlay {
        Some(Overlay::SharedOnAdd(shared)) => shared.owner,
        other => panic!("expected the question, got {other:?}"),
    };
    d.keys("o");
    assert!(d.state.overlay.is_none());
    assert_eq!(d.state.list.selected_id(), Some(owner));
    assert_eq!(contact_count(&d), 4, "the new one was not saved");

    new_contact_sharing_an_email(&mut d);
    d.keys("m");
    assert_eq!(contact_count(&d), 5, "saved");
    match &d.state.overlay {
        Some(Overlay::MergeChoice(choice)) => {
            assert!(
                choice.candidates.iter().any(|c| c.id == owner),
                "{choice:?}"
            )
        }
        other => panic!("the merge choice opens, got {other:?}"),
    }
}
