//! Whole screens people look at, rendered through ratatui's `TestBackend` and kept as insta
//! snapshots: demo data from a fixed seed and a pinned clock (times in UTC), so "3d" stays "3d".
//! Also: hostile and international names render safely and aligned; no size panics.

use rolo::demo::Generator;
use rolo::domain::{Actor, At, Contact, ContactDraft, Stamp};
use rolo::store::Store;
use rolo::tui::driver::Driver;
use rolo::tui::keymap::Keymap;
use rolo::tui::msg::Msg;
use rolo::tui::theme::{ColorSupport, Theme};
use rolo::tui::view::view;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

/// 2025-11-24T16:00:00Z.
const NOW: i64 = 1_764_000_000_000;
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn keymap() -> Keymap {
    Keymap::load(Some("default"), None).expect("default keymap")
}

fn theme(support: ColorSupport) -> Theme {
    Theme::load("default", None, support).expect("default theme")
}

/// `count` demo contacts from seed 7, generated as of `NOW`.
fn demo_store(count: u64) -> Store {
    let store = Store::in_memory().expect("store");
    let mut generator = Generator::new(7, At::from_millis(NOW), count);
    store
        .bulk(&Actor::new("demo"), "demo", |bulk| {
            for _ in 0..count {
                let person = generator.person();
                let id = bulk.add_contact(person.contact, &person.org)?;
                for mut entry in person.entries {
                    entry.set_contact(id);
                    bulk.add_entry(entry)?;
                }
                for mut deal in person.deals {
                    deal.contact = Some(id);
                    bulk.add_deal(deal)?;
                }
            }
            Ok(())
        })
        .expect("demo data");
    store
}

fn driver(store: Store) -> Driver {
    Driver::new(store, keymap(), At::from_millis(NOW), 120, 40)
}

fn render(d: &mut Driver, width: u16, height: u16) -> Terminal<TestBackend> {
    d.send(Msg::Resize(width, height));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    let theme = theme(ColorSupport::TrueColor);
    terminal
        .draw(|frame| view(frame, &d.state, &theme, &d.keymap))
        .expect("draw");
    terminal
}

fn screen(d: &mut Driver, width: u16, height: u16) -> String {
    render(d, width, height).backend().to_string()
}

fn snap_both(name: &str, d: &mut Driver) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(d, w, h));
    }
}

#[test]
fn main_screen_list_detail_timeline() {
    let mut d = driver(demo_store(60));
    d.keys("j j j");
    snap_both("main", &mut d);
    d.keys("3");
    snap_both("main_timeline_focused", &mut d);
}

#[test]
fn search_with_highlights() {
    let mut d = driver(demo_store(60));
    d.keys("/");
    d.type_text("an");
    snap_both("search", &mut d);
}

#[test]
fn search_matches_are_highlighted_without_colour() {
    let mut d = driver(demo_store(60));
    d.keys("/");
    d.type_text("ferrari");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let mono = theme(ColorSupport::None);
    terminal
        .draw(|frame| view(frame, &d.state, &mono, &d.keymap))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let underlined = buffer
        .content
        .iter()
        .filter(|c| c.modifier.contains(Modifier::UNDERLINED))
        .map(|c| c.symbol())
        .collect::<String>();
    assert!(
        underlined.to_lowercase().contains("ferrari"),
        "{underlined}"
    );
    let reversed = buffer
        .content
        .iter()
        .any(|c| c.modifier.contains(Modifier::REVERSED));
    assert!(reversed, "the selected hit stays visible without colour");
}

#[test]
fn log_popup() {
    let mut d = driver(demo_store(60));
    d.keys("l");
    d.type_text("Called about the renewal");
    d.keys("tab tab tab tab");
    d.type_text("someday");
    d.keys("enter");
    snap_both("log_popup_with_error", &mut d);
}

#[test]
fn form_with_a_validation_error() {
    let mut d = driver(demo_store(60));
    d.keys("n");
    d.type_text("Zed Example");
    d.keys("tab tab tab");
    d.type_text("zed-at-example");
    d.keys("ctrl-s");
    snap_both("form_error", &mut d);
}

#[test]
fn help_overlay() {
    let mut d = driver(demo_store(60));
    d.keys("?");
    snap_both("help", &mut d);
}

#[test]
fn which_key_popup() {
    let mut d = driver(demo_store(60));
    d.keys("g");
    insta::assert_snapshot!("which_key_80x24", screen(&mut d, 80, 24));
}

#[test]
fn today_view() {
    let mut d = driver(demo_store(60));
    d.keys("t");
    snap_both("today", &mut d);
}

#[test]
fn welcome_on_an_empty_database() {
    let mut d = driver(Store::in_memory().expect("store"));
    snap_both("welcome", &mut d);
}

#[test]
fn too_small_and_tiny_sizes_never_panic() {
    let mut d = driver(demo_store(20));
    insta::assert_snapshot!("too_small_30x8", screen(&mut d, 30, 8));
    d.keys("/");
    d.type_text("a");
    for (w, h) in [
        (0, 0),
        (1, 1),
        (20, 5),
        (40, 10),
        (41, 11),
        (79, 23),
        (200, 60),
    ] {
        render(&mut d, w, h);
    }
    let tiny = [
        (0, 0),
        (1, 1),
        (2, 2),
        (20, 5),
        (40, 10),
        (41, 10),
        (60, 15),
        (80, 24),
    ];
    for setup in [
        "esc ?",
        "esc l",
        "esc n",
        "esc d",
        "esc t",
        "esc g",
        "esc 3 enter",
        "esc 2",
    ] {
        d.keys("esc esc");
        d.keys(setup);
        for (w, h) in tiny {
            render(&mut d, w, h);
        }
    }
}

#[test]
fn one_pane_with_switcher_at_60_columns() {
    let mut d = driver(demo_store(20));
    insta::assert_snapshot!("one_pane_60x15", screen(&mut d, 60, 15));
}

/// Writes contacts exactly as given (the bulk path skips cleaning), as a damaged or hostile
/// file might have left them.
fn raw_store(names: &[&str]) -> Store {
    let store = Store::in_memory().expect("store");
    let actor = Actor::new("raw");
    store
        .bulk(&actor, "raw", |bulk| {
            for name in names {
                let mut contact: Contact = ContactDraft {
                    name: "placeholder".into(),
                    ..ContactDraft::default()
                }
                .into_contact(&actor)
                .expect("draft");
                contact.name = name.to_string();
                contact.created = Stamp::now(&actor);
                bulk.add_contact(contact, "Org")?;
            }
            Ok(())
        })
        .expect("raw contacts");
    store
}

#[test]
fn escape_injection_renders_visibly() {
    let mut d = driver(raw_store(&["Evil\u{1b}[2JName\u{7}", "Zed"]));
    let text = screen(&mut d, 80, 24);
    assert!(text.contains("Evil␛[2JName␇"), "{text}");
    assert!(!text.contains('\u{1b}'));
    insta::assert_snapshot!("escape_injection_80x24", text);
}

#[test]
fn international_names_keep_columns_aligned() {
    let nfd = "Nguye\u{302}\u{303}n Va\u{306}n Đu\u{31b}\u{301}c";
    let mut d = driver(raw_store(&[
        "山田太郎 (Yamada Tarō, a rather long name)",
        "Nguyễn Văn Đức",
        nfd,
        "Zoë 🎉 Party",
        "김민준",
    ]));
    let text = screen(&mut d, 80, 24);
    insta::assert_snapshot!("international_80x24", text);
    // Every list row has the border at the same display column.
    let terminal = render(&mut d, 80, 24);
    let buffer = terminal.backend().buffer();
    let list_right = (0..buffer.area.width)
        .rev()
        .find(|x| buffer[(*x, 0)].symbol() == "┓")
        .expect("list corner");
    for y in 2..7 {
        assert_eq!(
            buffer[(list_right, y)].symbol(),
            "┃",
            "row {y} is misaligned:\n{text}"
        );
    }
}

#[test]
fn every_style_slot_the_views_ask_for_is_a_theme_slot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui/view");
    let mut asked = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("view dir") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("read view");
        for piece in source.split("theme.style(\"").skip(1) {
            if let Some(end) = piece.find('"') {
                asked.push((path.display().to_string(), piece[..end].to_string()));
            }
        }
    }
    assert!(asked.len() > 20, "{asked:?}");
    for (file, slot) in asked {
        assert!(
            rolo::tui::theme::SLOTS.contains(&slot.as_str()),
            "{file}: unknown slot `{slot}`"
        );
    }
}

#[test]
fn without_colour_the_selection_and_focus_stay_visible() {
    let mut d = driver(demo_store(20));
    d.keys("j");
    d.send(Msg::Resize(120, 40));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let mono = theme(ColorSupport::None);
    terminal
        .draw(|frame| view(frame, &d.state, &mono, &d.keymap))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content
            .iter()
            .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset),
        "no colour at all"
    );
    // The selected row (second contact, third line) is reversed from edge to edge.
    for x in 1..40 {
        assert!(
            buffer[(x, 3)].modifier.contains(Modifier::REVERSED),
            "column {x}"
        );
    }
    assert!(!buffer[(1, 2)].modifier.contains(Modifier::REVERSED));
    // The focused pane has a thick border and a marked title; the others do not.
    assert_eq!(buffer[(0, 0)].symbol(), "┏");
    assert_eq!(buffer[(2, 0)].symbol(), "▶");
    let detail_corner = (0..120)
        .find(|x| buffer[(*x, 0)].symbol() == "┌")
        .expect("detail pane");
    assert!(detail_corner > 40);
}

#[test]
fn new_follow_up_prompt() {
    let mut d = driver(demo_store(20));
    d.keys("f");
    d.type_text("Send the contract");
    d.keys("tab");
    d.type_text("fri");
    insta::assert_snapshot!("new_follow_up_80x24", screen(&mut d, 80, 24));
}

/// One screen in several themes, styles included (the buffer's debug form lists every styled
/// run), so a theme change shows up as a reviewed diff.
#[test]
fn main_screen_in_several_themes() {
    let mut d = driver(demo_store(12));
    d.keys("j");
    d.send(Msg::Resize(80, 24));
    for (name, support) in [
        ("default", ColorSupport::TrueColor),
        ("light", ColorSupport::TrueColor),
        ("gruvbox", ColorSupport::Ansi256),
        ("ansi16", ColorSupport::Ansi16),
        ("mono", ColorSupport::None),
    ] {
        let theme = Theme::load(name, None, support).expect("shipped theme");
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
        terminal
            .draw(|frame| view(frame, &d.state, &theme, &d.keymap))
            .expect("draw");
        insta::assert_snapshot!(
            format!("theme_{name}_80x24"),
            format!("{:?}", terminal.backend().buffer())
        );
    }
}

/// Two records of one person that share a phone number, with different details filled.
fn duplicate_store() -> Store {
    let store = Store::in_memory().expect("store");
    let actor = Actor::new("sam");
    let phone = |v: &str| vec![rolo::domain::Labelled::new("mobile", v)];
    store
        .add_contact(
            &actor,
            ContactDraft {
                name: "Nguyễn Văn Ánh".into(),
                organization: "Phở Việt".into(),
                phones: phone("+84 28 3822 1234"),
                emails: vec![rolo::domain::Labelled::new("work", "anh@phoviet.vn")],
                tags: vec!["vip".into()],
                ..ContactDraft::default()
            },
        )
        .expect("first");
    let second = store
        .add_contact(
            &actor,
            ContactDraft {
                name: "Nguyen Van Anh".into(),
                title: "Owner".into(),
                phones: phone("028 3822 1234"),
                emails: vec![rolo::domain::Labelled::new("home", "anh.nguyen@mail.vn")],
                tags: vec!["wholesale".into()],
                notes: "Prefers calls after 3pm".into(),
                ..ContactDraft::default()
            },
        )
        .expect("second");
    let mut call = rolo::domain::Interaction {
        id: 0,
        contact: second.id,
        at: At::from_millis(NOW - 86_400_000),
        channel: rolo::domain::Channel::Call,
        direction: rolo::domain::Direction::Inbound,
        summary: "Asked about the wholesale price list".into(),
        body: String::new(),
        outcome: None,
        satisfaction: None,
        agent: String::new(),
        deal: None,
        campaign: String::new(),
    };
    store
        .log_interaction(&actor, call.clone(), None)
        .expect("call");
    call.at = At::from_millis(NOW - 2 * 86_400_000);
    store.log_interaction(&actor, call, None).expect("call");
    store
}

#[test]
fn merge_choice_and_side_by_side() {
    let mut d = driver(duplicate_store());
    d.keys("m");
    snap_both("merge_choice", &mut d);
    d.keys("enter");
    snap_both("merge_side_by_side", &mut d);
    // Keep the right name, combine nothing on emails: the marks and the result line follow.
    d.keys("l j j j h");
    snap_both("merge_side_by_side_picked", &mut d);
}

#[test]
fn detail_shows_a_label_only_when_there_is_one() {
    let store = Store::in_memory().expect("store");
    let actor = Actor::new("t");
    let mut draft = ContactDraft {
        name: "Ana Lima".into(),
        ..ContactDraft::default()
    };
    draft.emails = vec![
        rolo::domain::Labelled::new("", "ana@imported.example"),
        rolo::domain::Labelled::new("work", "ana@work.example"),
    ];
    store.add_contact(&actor, draft).expect("contact");
    let mut d = driver(store);
    let text = screen(&mut d, 120, 40);
    assert!(text.contains("ana@imported.example "), "{text}");
    assert!(!text.contains("ana@imported.example ()"), "{text}");
    assert!(text.contains("ana@work.example (work)"), "{text}");
}

#[test]
fn discard_question_over_a_filled_log() {
    let mut d = driver(demo_store(20));
    d.keys("l");
    d.type_text("Called about the renewal");
    d.keys("esc");
    insta::assert_snapshot!("discard_log_80x24", screen(&mut d, 80, 24));
}

fn one_long_note_store() -> Store {
    let store = Store::in_memory().expect("store");
    let notes = (1..=12)
        .map(|n| {
            format!(
                "Paragraph {n}: {}",
                "the customer explained the setup at length ".repeat(3)
            )
        })
        .chain(std::iter::once("LAST-LINE-OF-THE-NOTES".to_string()))
        .collect::<Vec<_>>()
        .join("\n");
    let draft = rolo::domain::ContactDraft {
        name: "Nadia Long".into(),
        notes,
        ..rolo::domain::ContactDraft::default()
    };
    store.add_contact(&Actor::new("setup"), draft).expect("add");
    store
}

/// The detail pane scrolls to its last wrapped line, and `G` then `k` moves at once.
#[test]
fn detail_scrolls_to_its_last_wrapped_line_and_g_then_k_moves() {
    for (w, h) in SIZES {
        let mut d = driver(one_long_note_store());
        d.send(Msg::Resize(w, h));
        d.keys("2");
        let top = screen(&mut d, w, h);
        assert!(
            !top.contains("LAST-LINE-OF-THE-NOTES"),
            "{w}x{h}: the notes overflow\n{top}"
        );
        d.keys("G");
        let bottom = screen(&mut d, w, h);
        assert!(
            bottom.contains("LAST-LINE-OF-THE-NOTES"),
            "{w}x{h}: G shows the last wrapped line\n{bottom}"
        );
        let at_end = d.state.detail_scroll;
        d.keys("j");
        assert_eq!(d.state.detail_scroll, at_end, "nothing below the last line");
        d.keys("k");
        assert_eq!(d.state.detail_scroll, at_end - 1, "k moves up at once");
        assert_ne!(
            screen(&mut d, w, h),
            bottom,
            "{w}x{h}: and the screen shows it"
        );
        d.keys("g g");
        assert_eq!(d.state.detail_scroll, 0);
    }
}

/// Help scrolls to its last line (the last global binding) and `G` then `k` moves at once.
#[test]
fn help_scrolls_to_its_last_line_and_g_then_k_moves() {
    for (w, h) in [(80, 24), (60, 15)] {
        let mut d = driver(demo_store(5));
        d.send(Msg::Resize(w, h));
        d.keys("?");
        let last = rolo::tui::view::help::help_entries(&d.state)
            .last()
            .and_then(|(_, entries)| entries.last())
            .map(|(_, command)| command.description())
            .expect("help lists something");
        let top = screen(&mut d, w, h);
        assert!(!top.contains(last), "{w}x{h}: help overflows\n{top}");
        d.keys("G");
        let bottom = screen(&mut d, w, h);
        assert!(bottom.contains(last), "{w}x{h}: G shows `{last}`\n{bottom}");
        d.keys("k");
        let up = screen(&mut d, w, h);
        assert_ne!(up, bottom, "{w}x{h}: k after G moves");
        assert!(
            !up.contains(last),
            "{w}x{h}: one line up hides the last line\n{up}"
        );
    }
}

/// The history overlay of a contact edited twice, with fixed times: the notes changed near the
/// end of a long text, and the cut shows that end on both sides.
#[test]
fn history_overlay() {
    use rolo::tui::state::Overlay;
    let mut d = driver(demo_store(60));
    d.keys("j j");
    let id = d.state.list.selected_id().expect("selection");
    let mut c = d.store.contact(id).expect("read").expect("contact");
    c.notes = "Customer asked about the invoice for the November order, number 4411".into();
    c.title = "Head of Purchasing".into();
    let c = d
        .store
        .update_contact(&Actor::new("ivy"), c, None)
        .expect("edit");
    let mut c2 = c.clone();
    c2.notes = c.notes.replace("4411", "4412");
    d.store
        .update_contact(&Actor::new("sam"), c2, None)
        .expect("edit");
    d.keys("H");
    if let Some(Overlay::History(history)) = &mut d.state.overlay {
        for (n, e) in history.entries.iter_mut().flatten().enumerate() {
            e.at = At::from_millis(NOW - 3_600_000 * (n as i64 + 1));
        }
    } else {
        panic!("no history overlay");
    }
    insta::assert_snapshot!("history_80x24", screen(&mut d, 80, 24));
}

#[test]
fn trash_view() {
    let store = demo_store(30);
    let mut generator = Generator::new(9, At::from_millis(NOW), 3);
    store
        .bulk(&Actor::new("sam"), "trash", |bulk| {
            for i in 0..3u64 {
                let mut person = generator.person();
                person.contact.id = 1000 + i;
                for entry in &mut person.entries {
                    entry.set_contact(1000 + i);
                }
                bulk.restore_trash(rolo::store::TrashBundle {
                    contact: person.contact,
                    entries: person.entries,
                    deals: Vec::new(),
                    deleted: Stamp {
                        at: At::from_millis(NOW - i as i64 * 3_600_000),
                        by: "sam".into(),
                    },
                })?;
            }
            Ok(())
        })
        .expect("trash");
    let mut d = driver(store);
    d.keys("T");
    d.keys("j");
    insta::assert_snapshot!("trash_80x24", screen(&mut d, 80, 24));
}
