//! Keymaps: the shipped files load cleanly, keys normalise, resolution follows overlay → pane →
//! global, merge rules hold, and every checker message is produced for a bad file.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode as CtCode, KeyEvent, KeyEventKind, KeyModifiers};
use rolo::tui::command::{Command, Context};
use rolo::tui::keymap::{self, Key, KeySeq, Keymap, KeymapError, Resolution};

fn key(name: &str) -> Key {
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn seq(name: &str) -> KeySeq {
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keymaps")
}

fn default_keymap() -> Keymap {
    Keymap::load(Some("default"), None).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads keymap text that must fail and returns its one-problem-per-line message.
fn problems_of(label: &str, text: &str) -> String {
    match Keymap::from_toml(label, text, None) {
        Ok(_) => panic!("{label} should not load"),
        Err(error) => error.to_string(),
    }
}

fn fixture_problems(name: &str) -> String {
    let path = fixtures().join(name);
    match keymap::check_file(&path, Some(&fixtures())) {
        Ok(()) => panic!("{name} should not pass the check"),
        Err(error) => error
            .to_string()
            .replace(&format!("{}", path.display()), name),
    }
}

// --- shipped keymaps ---------------------------------------------------------------------

#[test]
fn every_shipped_keymap_loads_cleanly() {
    let names = keymap::list_keymaps(None);
    assert_eq!(names, vec!["default", "emacs", "vim"]);
    for name in names {
        if let Err(error) = Keymap::load(Some(&name), None) {
            panic!("keymap {name} does not load:\n{error}");
        }
    }
}

#[test]
fn default_keymap_binds_the_documented_keys() {
    let map = default_keymap();
    let list = [Context::List, Context::Global];
    let expect = [
        ("/", Command::Search),
        ("l", Command::QuickLog),
        ("n", Command::NewContact),
        ("e", Command::EditContact),
        ("d", Command::DeleteContact),
        ("u", Command::Undo),
        ("t", Command::Today),
        ("?", Command::Help),
        ("tab", Command::FocusNext),
        ("shift-tab", Command::FocusPrev),
        ("j", Command::MoveDown),
        ("down", Command::MoveDown),
        ("k", Command::MoveUp),
        ("up", Command::MoveUp),
        ("g g", Command::First),
        ("G", Command::Last),
        ("enter", Command::Open),
        ("esc", Command::Back),
        ("q", Command::Quit),
        ("ctrl-c", Command::Quit),
    ];
    for (keys, command) in expect {
        assert_eq!(map.reaches(&list, &seq(keys)), Some(command), "{keys}");
    }
}

#[test]
fn default_keymap_needs_no_kitty_protocol() {
    let map = default_keymap();
    for &context in Context::ALL {
        for (keys, _) in map.bindings(context) {
            for key in keys.keys() {
                assert!(!key.needs_kitty_protocol(), "{key} in [{context}]");
                assert!(key.legacy_alias().is_none(), "{key} in [{context}]");
            }
        }
    }
}

#[test]
fn help_text_and_markdown_are_generated_from_the_keymap() {
    let map = default_keymap();
    let text = map.to_text();
    assert!(text.contains("[global]"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("q, ctrl-c") && l.contains("quit")),
        "{text}"
    );
    let markdown = map.to_markdown();
    assert!(
        markdown.contains("| `q`, `ctrl-c` | `quit` | Quit rolo "),
        "{markdown}"
    );
    assert!(markdown.contains("## list"));
}

#[test]
fn status_hints_list_only_keys_that_work_there() {
    let map = default_keymap();
    // In the search box `q` types, so only ctrl-c quits.
    assert_eq!(
        map.keys_for(&[Context::Search, Context::Global], Command::Quit),
        vec![seq("ctrl-c")]
    );
    assert_eq!(
        map.keys_for(&[Context::List, Context::Global], Command::Quit),
        vec![seq("q"), seq("ctrl-c")]
    );
    // In help `q` closes the overlay instead.
    assert_eq!(
        map.keys_for(&[Context::Help, Context::Global], Command::Quit),
        vec![seq("ctrl-c")]
    );
}

// --- key parsing and normalisation -------------------------------------------------------

#[test]
fn shift_letter_is_the_upper_case_letter() {
    assert_eq!(key("shift-g"), key("G"));
    assert_eq!(key("S-g"), key("G"));
    assert_eq!(key("shift-G"), key("G"));
    assert_eq!(key("G").to_string(), "G");
    assert_ne!(key("g"), key("G"));
}

#[test]
fn shift_tab_has_one_canonical_name() {
    for spelling in ["shift-tab", "S-tab", "backtab", "BackTab", "s-Tab"] {
        assert_eq!(key(spelling), key("shift-tab"), "{spelling}");
        assert_eq!(key(spelling).to_string(), "shift-tab");
    }
}

#[test]
fn modifier_and_key_aliases_normalise() {
    assert_eq!(key("C-s"), key("ctrl-s"));
    assert_eq!(key("control+s"), key("ctrl-s"));
    assert_eq!(key("M-x"), key("alt-x"));
    assert_eq!(key("alt-ctrl-x").to_string(), "ctrl-alt-x");
    assert_eq!(key("Return"), key("enter"));
    assert_eq!(key("escape").to_string(), "esc");
    assert_eq!(key("PgUp").to_string(), "pageup");
    assert_eq!(key("F5").to_string(), "f5");
    assert_eq!(key("space").to_string(), "space");
    assert_eq!(key("ctrl--").to_string(), "ctrl--");
    assert_eq!(key("-").to_string(), "-");
    assert_eq!(seq("g  g").to_string(), "g g");
}

#[test]
fn bad_key_names_are_refused_with_a_suggestion() {
    let error = "ctrl-entr"
        .parse::<Key>()
        .err()
        .map(|e| (e.message, e.suggestion));
    assert_eq!(
        error,
        Some((
            "bad key `ctrl-entr`: unknown key name `entr`".to_string(),
            Some("did you mean `enter`?".to_string())
        ))
    );
    assert!("shift-1".parse::<Key>().is_err());
    assert!("".parse::<KeySeq>().is_err());
    assert!("f99".parse::<Key>().is_err());
}

#[test]
fn crossterm_events_convert_to_the_same_keys_as_the_names() {
    let event = |code, modifiers| KeyEvent::new(code, modifiers);
    assert_eq!(
        Key::from_event(&event(CtCode::BackTab, KeyModifiers::SHIFT)),
        Some(key("shift-tab"))
    );
    assert_eq!(
        Key::from_event(&event(CtCode::Char('G'), KeyModifiers::SHIFT)),
        Some(key("G"))
    );
    assert_eq!(
        Key::from_event(&event(CtCode::Char('g'), KeyModifiers::SHIFT)),
        Some(key("G"))
    );
    assert_eq!(
        Key::from_event(&event(CtCode::Char('?'), KeyModifiers::SHIFT)),
        Some(key("?"))
    );
    assert_eq!(
        Key::from_event(&event(CtCode::Char('c'), KeyModifiers::CONTROL)),
        Some(key("ctrl-c"))
    );
    assert_eq!(
        Key::from_event(&event(CtCode::Char(' '), KeyModifiers::NONE)),
        Some(key("space"))
    );
    assert_eq!(
        Key::from_event(&event(CtCode::F(5), KeyModifiers::NONE)),
        Some(key("f5"))
    );
    let mut release = event(CtCode::Char('q'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert_eq!(Key::from_event(&release), None);
}

// --- resolution ------------------------------------------------------------------------

#[test]
fn overlay_wins_over_pane_which_wins_over_global() {
    let map = default_keymap();
    // `enter` in the confirm overlay says yes, even with the list focused underneath.
    let contexts = [Context::Confirm, Context::List, Context::Global];
    assert_eq!(
        map.resolve(&contexts, &[], key("enter")),
        Resolution::Command(Command::ConfirmYes)
    );
    // `j` is not bound in confirm, so the list pane moves.
    assert_eq!(
        map.resolve(&contexts, &[], key("j")),
        Resolution::Command(Command::MoveDown)
    );
    // `q` only exists in global.
    assert_eq!(
        map.resolve(&contexts, &[], key("q")),
        Resolution::Command(Command::Quit)
    );
    // `n` means "no" in confirm, not "new contact".
    assert_eq!(
        map.resolve(&contexts, &[], key("n")),
        Resolution::Command(Command::ConfirmNo)
    );
}

#[test]
fn a_sequence_prefix_is_pending_with_its_continuations() {
    let map = default_keymap();
    let contexts = [Context::List, Context::Global];
    assert_eq!(
        map.resolve(&contexts, &[], key("g")),
        Resolution::Pending(vec![(seq("g"), Command::First)])
    );
    assert_eq!(
        map.resolve(&contexts, &[key("g")], key("g")),
        Resolution::Command(Command::First)
    );
    assert_eq!(
        map.resolve(&contexts, &[key("g")], key("x")),
        Resolution::Unbound
    );
}

#[test]
fn unbound_printable_key_types_in_text_input() {
    let map = default_keymap();
    let contexts = [Context::Search, Context::List, Context::Global];
    assert!(Context::Search.is_text_input());
    assert!(!Context::List.is_text_input());
    // `q` and `j` are bound further out, but in the search box they type.
    for typed in ["q", "j", "G", "?"] {
        let pressed = key(typed);
        assert_eq!(
            map.resolve(&contexts, &[], pressed),
            Resolution::Unbound,
            "{typed}"
        );
        assert!(pressed.printable().is_some());
    }
    // Non-printable keys from outer contexts still work.
    assert_eq!(
        map.resolve(&contexts, &[], key("ctrl-c")),
        Resolution::Command(Command::Quit)
    );
    assert_eq!(
        map.resolve(&contexts, &[], key("esc")),
        Resolution::Command(Command::Cancel)
    );
}

#[test]
fn vim_delete_is_a_sequence() {
    let map = Keymap::load(Some("vim"), None).unwrap_or_else(|e| panic!("{e}"));
    let contexts = [Context::List, Context::Global];
    assert_eq!(
        map.resolve(&contexts, &[], key("d")),
        Resolution::Pending(vec![(seq("d"), Command::DeleteContact)])
    );
    assert_eq!(
        map.reaches(&contexts, &seq("d d")),
        Some(Command::DeleteContact)
    );
    assert_eq!(map.reaches(&contexts, &seq("Z Z")), Some(Command::Quit));
}

#[test]
fn emacs_keys_override_and_sequence() {
    let map = Keymap::load(Some("emacs"), None).unwrap_or_else(|e| panic!("{e}"));
    let form = [Context::Form, Context::Global];
    assert_eq!(map.reaches(&form, &seq("ctrl-e")), Some(Command::CursorEnd));
    assert_eq!(
        map.reaches(&form, &seq("ctrl-x ctrl-e")),
        Some(Command::OpenEditor)
    );
    assert_eq!(
        map.reaches(&form, &seq("ctrl-x ctrl-c")),
        Some(Command::Quit)
    );
}

// --- merge rules -----------------------------------------------------------------------

#[test]
fn merge_override_replaces_the_parent_binding() {
    let map = Keymap::from_toml(
        "user.toml",
        "extends = \"default\"\n[list]\n\"j\" = \"page_down\"\n",
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        map.reaches(&[Context::List], &seq("j")),
        Some(Command::PageDown)
    );
    // Everything else is inherited.
    assert_eq!(
        map.reaches(&[Context::List], &seq("k")),
        Some(Command::MoveUp)
    );
}

#[test]
fn merge_add_keeps_the_parent_bindings() {
    let map = Keymap::from_toml(
        "user.toml",
        "extends = \"default\"\n[list]\n\"J\" = \"page_down\"\n",
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        map.reaches(&[Context::List], &seq("J")),
        Some(Command::PageDown)
    );
    assert_eq!(
        map.reaches(&[Context::List], &seq("j")),
        Some(Command::MoveDown)
    );
    assert_eq!(
        map.reaches(&[Context::List], &seq("pagedown")),
        Some(Command::PageDown)
    );
}

#[test]
fn merge_noop_unbinds_and_masks_outer_contexts() {
    let map = Keymap::from_toml(
        "user.toml",
        "extends = \"default\"\n[list]\n\"d\" = \"noop\"\n\"q\" = \"noop\"\n",
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let contexts = [Context::List, Context::Global];
    assert_eq!(map.resolve(&contexts, &[], key("d")), Resolution::Unbound);
    // The global `q` no longer shows through in the list, but still quits in the detail pane.
    assert_eq!(map.resolve(&contexts, &[], key("q")), Resolution::Unbound);
    assert_eq!(
        map.resolve(&[Context::Detail, Context::Global], &[], key("q")),
        Resolution::Command(Command::Quit)
    );
    assert!(
        !map.bindings(Context::List)
            .iter()
            .any(|(k, _)| *k == seq("d"))
    );
}

#[test]
fn merge_extends_chain_applies_every_layer() {
    // fixtures/keymaps/keymaps/chain_top.toml → chain_mid.toml → vim → default
    let map = Keymap::load(Some("chain_top"), Some(&fixtures())).unwrap_or_else(|e| panic!("{e}"));
    let list = [Context::List, Context::Global];
    assert_eq!(
        map.reaches(&list, &seq("x")),
        Some(Command::CopyEmail),
        "from chain_top"
    );
    assert_eq!(
        map.reaches(&list, &seq("J")),
        Some(Command::Last),
        "from chain_mid"
    );
    assert_eq!(
        map.reaches(&list, &seq("d d")),
        Some(Command::DeleteContact),
        "from vim"
    );
    assert_eq!(
        map.reaches(&list, &seq("e")),
        Some(Command::EditContact),
        "from default"
    );
}

#[test]
fn user_keymap_file_of_the_same_name_wins() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let keymaps = dir.path().join("keymaps");
    std::fs::create_dir_all(&keymaps).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        keymaps.join("default.toml"),
        "extends = \"default\"\n[global]\n\"x\" = \"quit\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let map = Keymap::load(Some("default"), Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        map.reaches(&[Context::Global], &seq("x")),
        Some(Command::Quit)
    );
    assert_eq!(
        map.reaches(&[Context::Global], &seq("q")),
        Some(Command::Quit)
    );

    // keymap.toml in the config dir is used when no keymap is named.
    std::fs::write(dir.path().join("keymap.toml"), "extends = \"vim\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let map = Keymap::load(None, Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        map.reaches(&[Context::Global], &seq("Z Z")),
        Some(Command::Quit)
    );
}

#[test]
fn unknown_keymap_name_lists_the_available_ones() {
    match Keymap::load(Some("vi"), None) {
        Err(KeymapError::NotFound { name, available }) => {
            assert_eq!(name, "vi");
            assert_eq!(available, vec!["default", "emacs", "vim"]);
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

// --- the checker: one invalid fixture per message ------------------------------------

#[test]
fn check_unknown_context() {
    assert_eq!(
        fixture_problems("unknown_context.toml"),
        "unknown_context.toml:4: unknown context `lst` (did you mean `list`?)"
    );
}

#[test]
fn check_unknown_command_lists_close_names() {
    assert_eq!(
        fixture_problems("unknown_command.toml"),
        "unknown_command.toml:5: unknown command `quick-log` (close names: quick_log)"
    );
}

#[test]
fn check_bad_key_syntax() {
    assert_eq!(
        fixture_problems("bad_key.toml"),
        "bad_key.toml:4: bad key `ctrl-pgupp`: unknown key name `pgupp` (did you mean `pgup`?)"
    );
}

#[test]
fn check_duplicate_after_normalisation() {
    assert_eq!(
        fixture_problems("duplicate_key.toml"),
        "duplicate_key.toml:5: `shift-g` is the same key as `G` (line 4) in [list] (keep one of them; both mean `G`)"
    );
}

#[test]
fn check_key_bound_alone_and_as_prefix() {
    assert_eq!(
        fixture_problems("prefix_conflict.toml"),
        "prefix_conflict.toml:4: `g` is bound to `first` and also starts `g g` (<built-in>/keymaps/default.toml:41), so one of them cannot be typed (unbind one of them, e.g. \"g\" = \"noop\")"
    );
}

#[test]
fn check_quit_unreachable() {
    assert_eq!(
        fixture_problems("quit_unreachable.toml"),
        "quit_unreachable.toml:5: `quit` cannot be reached in [search], [form], [log], [help], [merge], [trash] (bind a key that does not type text, such as ctrl-c or f1, to `quit` in [global])"
    );
}

#[test]
fn check_help_unreachable() {
    assert_eq!(
        fixture_problems("help_unreachable.toml"),
        "help_unreachable.toml:6: `help` cannot be reached in [help] (bind a key to `help` in [global])"
    );
}

#[test]
fn check_legacy_terminal_chord() {
    assert_eq!(
        fixture_problems("legacy_chord.toml"),
        "legacy_chord.toml:4: `ctrl-i` cannot be told apart from `tab` by most terminals (bind `tab` instead, or choose another key)"
    );
}

#[test]
fn check_chord_needing_kitty_protocol() {
    assert_eq!(
        fixture_problems("kitty_chord.toml"),
        "kitty_chord.toml:4: `ctrl-enter` needs the kitty keyboard protocol, which many terminals lack (choose a plain key, an f-key or a ctrl-letter chord)"
    );
}

#[test]
fn check_command_in_the_wrong_context() {
    assert_eq!(
        fixture_problems("wrong_context.toml"),
        "wrong_context.toml:4: `confirm_yes` does nothing in [list] (bind it in [confirm])"
    );
}

#[test]
fn check_extends_unknown_keymap() {
    assert_eq!(
        fixture_problems("unknown_extends.toml"),
        "unknown_extends.toml:1: unknown keymap `defualt` in `extends` (did you mean `default`?)"
    );
}

#[test]
fn check_extends_cycle() {
    let problems = fixture_problems("keymaps/cycle_a.toml");
    let dir = fixtures().display().to_string();
    assert_eq!(
        problems.replace(&dir, "F"),
        "F/keymaps/cycle_b.toml:1: `extends` cycle: keymaps/cycle_a.toml → F/keymaps/cycle_b.toml → keymaps/cycle_a.toml (remove `extends` from one of these files)"
    );
}

#[test]
fn check_toml_syntax_error() {
    let message = fixture_problems("syntax_error.toml");
    assert!(
        message.starts_with("syntax_error.toml:4: invalid TOML:"),
        "{message}"
    );
}

#[test]
fn check_reports_every_problem_at_once() {
    let message = problems_of(
        "many.toml",
        "extends = \"default\"\n[lst]\n[list]\n\"ctrl-entr\" = \"quit\"\n\"x\" = \"qiut\"\n\"ctrl-m\" = \"open\"\n",
    );
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 4, "{message}");
    assert!(
        lines[0].starts_with("many.toml:2: unknown context `lst`"),
        "{message}"
    );
    assert!(
        lines[1].starts_with("many.toml:4: bad key `ctrl-entr`"),
        "{message}"
    );
    assert!(
        lines[2].starts_with("many.toml:5: unknown command `qiut`"),
        "{message}"
    );
    assert!(
        lines[3].starts_with("many.toml:6: `ctrl-m` cannot be told apart from `enter`"),
        "{message}"
    );
}

#[test]
fn every_command_is_bound_somewhere_in_the_default_keymap() {
    let map = default_keymap();
    for &command in Command::ALL {
        if command == Command::Noop {
            continue;
        }
        let bound = Context::ALL.iter().any(|&context| {
            let contexts: Vec<Context> = if context == Context::Global {
                vec![Context::Global]
            } else {
                vec![context, Context::Global]
            };
            !map.keys_for(&contexts, command).is_empty()
        });
        assert!(bound, "`{command}` has no key in the default keymap");
    }
}
