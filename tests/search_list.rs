//! Searching among namesakes as an agent does: the selected result previewed in the detail
//! pane while the search is open, and the search kept on the list as a filter after `enter`
//! until `esc` — driven through `update` on an in-memory store.

use rolo::domain::{Actor, At, ContactDraft, Labelled};
use rolo::store::Store;
use rolo::tui::driver::Driver;
use rolo::tui::keymap::Keymap;

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
