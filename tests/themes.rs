//! Themes: shipped themes load, inheritance and dotted fallback work, colours fall back to what
//! the terminal can show, selection stays visible without colour, and bad files are reported.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use rolo::tui::theme::{self, ColorChoice, ColorSupport, SLOTS, Theme, ThemeError};

const SUPPORTS: [ColorSupport; 4] = [
    ColorSupport::TrueColor,
    ColorSupport::Ansi256,
    ColorSupport::Ansi16,
    ColorSupport::None,
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/themes")
}

fn load(name: &str, support: ColorSupport) -> Theme {
    Theme::load(name, None, support).unwrap_or_else(|e| panic!("theme {name}: {e}"))
}

fn from_toml(text: &str, support: ColorSupport) -> Theme {
    Theme::from_toml("test.toml", text, None, support).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture_problems(name: &str) -> String {
    let path = fixtures().join(name);
    match theme::check_file(&path, Some(&fixtures())) {
        Ok(()) => panic!("{name} should not pass the check"),
        Err(error) => error.to_string().replace(&path.display().to_string(), name),
    }
}

fn colors(style: Style) -> [Option<Color>; 2] {
    [style.fg, style.bg]
}

// --- shipped themes --------------------------------------------------------------------

#[test]
fn every_shipped_theme_loads_cleanly_at_every_colour_depth() {
    let names = theme::list_themes(None);
    assert_eq!(
        names,
        vec![
            "ansi16",
            "default",
            "gruvbox",
            "high-contrast",
            "light",
            "mono"
        ]
    );
    for name in &names {
        for support in SUPPORTS {
            let theme = load(name, support);
            assert_eq!(theme.color_support(), support);
        }
    }
}

#[test]
fn default_theme_uses_its_palette() {
    let theme = load("default", ColorSupport::TrueColor);
    assert_eq!(theme.name(), "default");
    // "list.selected" = { fg = "fg", bg = "selection_bg", modifiers = ["bold"] }
    let selected = theme.style("list.selected");
    assert_eq!(selected.fg, Some(Color::Rgb(0xd8, 0xde, 0xe9)));
    assert_eq!(selected.bg, Some(Color::Rgb(0x2f, 0x3d, 0x66)));
    assert!(selected.add_modifier.contains(Modifier::BOLD));
}

#[test]
fn ansi16_theme_has_no_24_bit_colours_even_in_true_colour() {
    let theme = load("ansi16", ColorSupport::TrueColor);
    for slot in SLOTS {
        for color in colors(theme.style(slot)).into_iter().flatten() {
            assert!(
                !matches!(color, Color::Rgb(..) | Color::Indexed(_)),
                "{slot}: {color:?}"
            );
        }
    }
}

#[test]
fn mono_theme_has_no_colour_and_visible_selection() {
    let theme = load("mono", ColorSupport::TrueColor);
    for slot in SLOTS {
        assert_eq!(colors(theme.style(slot)), [None, None], "{slot}");
    }
    assert!(
        theme
            .style("list.selected")
            .add_modifier
            .contains(Modifier::REVERSED)
    );
}

// --- inheritance and fallback ----------------------------------------------------------

#[test]
fn inherited_styles_pick_up_the_child_palette() {
    let light = load("light", ColorSupport::TrueColor);
    // light.toml defines no styles of its own, only a palette: default's `followup.overdue`
    // (fg = "red") now means light's red.
    assert_eq!(
        light.style("followup.overdue").fg,
        Some(Color::Rgb(0xcf, 0x22, 0x2e))
    );
    assert!(
        light
            .style("followup.overdue")
            .add_modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn child_styles_replace_whole_slots() {
    let theme = from_toml(
        "inherits = \"default\"\n[styles]\n\"help.key\" = \"#010203\"\n",
        ColorSupport::TrueColor,
    );
    let key = theme.style("help.key");
    assert_eq!(key.fg, Some(Color::Rgb(1, 2, 3)));
    // default's bold is not merged in: the slot was replaced.
    assert!(!key.add_modifier.contains(Modifier::BOLD));
    // Other slots are inherited.
    assert_eq!(
        theme.style("list.tag").fg,
        Some(Color::Rgb(0xbb, 0x9a, 0xf7))
    );
}

#[test]
fn inherits_chain_through_user_themes() {
    // fixtures/themes/themes/child.toml → parent.toml → default
    let theme = Theme::load("child", Some(&fixtures()), ColorSupport::TrueColor)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.name(), "child");
    assert_eq!(
        theme.style("text").fg,
        Some(Color::Rgb(0x11, 0x11, 0x11)),
        "palette from child"
    );
    assert_eq!(
        theme.style("help.key").fg,
        Some(Color::Rgb(0x22, 0x22, 0x22)),
        "style from parent"
    );
    assert_eq!(
        theme.style("list.tag").fg,
        Some(Color::Rgb(0xbb, 0x9a, 0xf7)),
        "from default"
    );
}

#[test]
fn dotted_fallback_walks_up_to_text() {
    let theme = from_toml(
        "[styles]\ntext = \"#aaaaaa\"\ntimeline = \"#bbbbbb\"\n\"timeline.channel\" = \"#cccccc\"\n",
        ColorSupport::TrueColor,
    );
    assert_eq!(
        theme.style("timeline.channel.call").fg,
        Some(Color::Rgb(0xcc, 0xcc, 0xcc))
    );
    assert_eq!(
        theme.style("timeline.agent").fg,
        Some(Color::Rgb(0xbb, 0xbb, 0xbb))
    );
    assert_eq!(
        theme.style("list.header").fg,
        Some(Color::Rgb(0xaa, 0xaa, 0xaa))
    );
    // Slots nobody declared (a new channel) fall back the same way.
    assert_eq!(
        theme.style("timeline.channel.fax").fg,
        Some(Color::Rgb(0xcc, 0xcc, 0xcc))
    );
}

#[test]
fn nested_tables_are_read_as_dotted_slots() {
    let theme = from_toml(
        "[styles.timeline.channel]\ncall = \"green\"\nemail = { fg = \"blue\" }\n",
        ColorSupport::TrueColor,
    );
    assert_eq!(theme.style("timeline.channel.call").fg, Some(Color::Green));
    assert_eq!(theme.style("timeline.channel.email").fg, Some(Color::Blue));
}

#[test]
fn shorthand_styles() {
    let theme = from_toml(
        "[palette]\nink = \"#102030\"\n[styles]\n\"status.bar\" = \"ink on light_yellow bold italic\"\n",
        ColorSupport::TrueColor,
    );
    let bar = theme.style("status.bar");
    assert_eq!(bar.fg, Some(Color::Rgb(0x10, 0x20, 0x30)));
    assert_eq!(bar.bg, Some(Color::LightYellow));
    assert!(bar.add_modifier.contains(Modifier::BOLD | Modifier::ITALIC));
}

#[test]
fn user_theme_of_the_same_name_wins() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let themes = dir.path().join("themes");
    std::fs::create_dir_all(&themes).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        themes.join("default.toml"),
        "inherits = \"default\"\n[palette]\nred = \"#ff0000\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let theme = Theme::load("default", Some(dir.path()), ColorSupport::TrueColor)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.style("list.overdue").fg, Some(Color::Rgb(255, 0, 0)));
    assert!(theme::list_themes(Some(dir.path())).contains(&"default".to_string()));
}

#[test]
fn unknown_theme_name_lists_the_available_ones() {
    match Theme::load("gruvbx", None, ColorSupport::TrueColor) {
        Err(ThemeError::NotFound { name, available }) => {
            assert_eq!(name, "gruvbx");
            assert!(available.contains(&"gruvbox".to_string()));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

// --- colour fallback -------------------------------------------------------------------

#[test]
fn sixteen_colours_leave_no_rgb_or_indexed_colour() {
    for name in theme::list_themes(None) {
        let theme = load(&name, ColorSupport::Ansi16);
        for slot in SLOTS {
            for color in colors(theme.style(slot)).into_iter().flatten() {
                assert!(
                    !matches!(color, Color::Rgb(..) | Color::Indexed(_)),
                    "{name} {slot}: {color:?}"
                );
            }
        }
    }
}

#[test]
fn sixteen_colour_fallback_is_faithful() {
    let theme = from_toml(
        "[styles]\ntext = \"#e01010\"\n\"list.tag\" = \"#ff5555\"\n\"list.header\" = \"#1e1e1e on #6b6b6b\"\n\"help.key\" = \"#3b82f6\"\n\"help.desc\" = \"indexed(196)\"\n",
        ColorSupport::Ansi16,
    );
    assert_eq!(theme.style("text").fg, Some(Color::Red));
    assert_eq!(theme.style("list.tag").fg, Some(Color::LightRed));
    assert_eq!(theme.style("list.header").fg, Some(Color::Black));
    assert_eq!(theme.style("list.header").bg, Some(Color::DarkGray));
    assert_eq!(theme.style("help.key").fg, Some(Color::LightBlue));
    assert_eq!(theme.style("help.desc").fg, Some(Color::LightRed));
}

#[test]
fn two_hundred_fifty_six_colours_use_the_palette_indices() {
    let theme = from_toml(
        "[styles]\ntext = \"#ff0000 on #808080\"\n",
        ColorSupport::Ansi256,
    );
    assert_eq!(theme.style("text").fg, Some(Color::Indexed(196)));
    assert_eq!(theme.style("text").bg, Some(Color::Indexed(244)));
    for slot in SLOTS {
        let style = load("gruvbox", ColorSupport::Ansi256).style(slot);
        for color in colors(style).into_iter().flatten() {
            assert!(!matches!(color, Color::Rgb(..)), "{slot}: {color:?}");
        }
    }
}

#[test]
fn no_colour_keeps_only_modifiers_and_selection_stays_visible() {
    for name in theme::list_themes(None) {
        let theme = load(&name, ColorSupport::None);
        for slot in SLOTS {
            assert_eq!(colors(theme.style(slot)), [None, None], "{name} {slot}");
        }
        assert!(
            theme
                .style("list.selected")
                .add_modifier
                .contains(Modifier::REVERSED),
            "{name}: selection must be reversed"
        );
        for slot in [
            "border.focused",
            "title.focused",
            "followup.overdue",
            "status.error",
        ] {
            assert!(
                theme
                    .style(slot)
                    .add_modifier
                    .intersects(Modifier::BOLD | Modifier::REVERSED),
                "{name}: {slot} must stand out"
            );
        }
        assert!(
            theme
                .style("search.match")
                .add_modifier
                .intersects(Modifier::UNDERLINED | Modifier::BOLD)
        );
    }
}

#[test]
fn the_resolver_adds_emphasis_a_theme_forgot() {
    // A theme whose selection is only a background colour still gets reversed without colour…
    let text = "[styles]\n\"list.selected\" = \"on blue\"\n\"status.error\" = \"red\"\n";
    let none = from_toml(text, ColorSupport::None);
    assert!(
        none.style("list.selected")
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    assert!(
        none.style("status.error")
            .add_modifier
            .contains(Modifier::BOLD)
    );
    // …and emphasis even with colour, because an error must never be colour alone.
    let color = from_toml(text, ColorSupport::TrueColor);
    assert!(
        color
            .style("status.error")
            .add_modifier
            .contains(Modifier::BOLD)
    );
    assert_eq!(color.style("list.selected").bg, Some(Color::Blue));
}

#[test]
fn colour_support_detection() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    };
    use ColorChoice::{Always, Auto, Never};
    assert_eq!(
        ColorSupport::detect(
            Auto,
            env(&[("TERM", "xterm-256color"), ("COLORTERM", "truecolor")])
        ),
        ColorSupport::TrueColor
    );
    assert_eq!(
        ColorSupport::detect(
            Auto,
            env(&[("TERM", "xterm-256color"), ("COLORTERM", "24bit")])
        ),
        ColorSupport::TrueColor
    );
    assert_eq!(
        ColorSupport::detect(Auto, env(&[("TERM", "xterm-256color")])),
        ColorSupport::Ansi256
    );
    assert_eq!(
        ColorSupport::detect(Auto, env(&[("TERM", "xterm")])),
        ColorSupport::Ansi16
    );
    assert_eq!(
        ColorSupport::detect(Auto, env(&[("TERM", "linux")])),
        ColorSupport::Ansi16
    );
    assert_eq!(
        ColorSupport::detect(Auto, env(&[("TERM", "dumb")])),
        ColorSupport::None
    );
    assert_eq!(
        ColorSupport::detect(Auto, env(&[("TERM", "xterm-256color"), ("NO_COLOR", "1")])),
        ColorSupport::None
    );
    // An empty NO_COLOR does not count (no-color.org).
    assert_eq!(
        ColorSupport::detect(Auto, env(&[("TERM", "xterm-256color"), ("NO_COLOR", "")])),
        ColorSupport::Ansi256
    );
    assert_eq!(
        ColorSupport::detect(Always, env(&[("TERM", "dumb"), ("NO_COLOR", "1")])),
        ColorSupport::Ansi16
    );
    assert_eq!(
        ColorSupport::detect(Never, env(&[("COLORTERM", "truecolor")])),
        ColorSupport::None
    );
    assert_eq!("always".parse::<ColorChoice>(), Ok(Always));
    assert!("sometimes".parse::<ColorChoice>().is_err());
}

// --- the checker: one invalid fixture per message ------------------------------------

#[test]
fn check_unknown_slot() {
    assert_eq!(
        fixture_problems("unknown_slot.toml"),
        "unknown_slot.toml:5: unknown style slot `list.selcted` (did you mean `list.selected`?)"
    );
}

#[test]
fn check_unknown_palette_colour() {
    assert_eq!(
        fixture_problems("unknown_palette_colour.toml"),
        "unknown_palette_colour.toml:7: unknown colour `acent` in `border.focused` (did you mean `accent`?)"
    );
}

#[test]
fn check_bad_colour_syntax() {
    assert_eq!(
        fixture_problems("bad_colour.toml"),
        "bad_colour.toml:4: bad colour `#12345`: write #rrggbb (colours are #rrggbb, a [palette] name, an ANSI name such as `light_blue`, or indexed(0-255))"
    );
}

#[test]
fn check_unknown_modifier() {
    assert_eq!(
        fixture_problems("unknown_modifier.toml"),
        "unknown_modifier.toml:4: unknown modifier `bld` (did you mean `bold`?)"
    );
}

#[test]
fn check_inherits_cycle() {
    let problems = fixture_problems("themes/loop_a.toml");
    let dir = fixtures().display().to_string();
    assert_eq!(
        problems.replace(&dir, "F"),
        "F/themes/loop_b.toml:1: `inherits` cycle: themes/loop_a.toml → F/themes/loop_b.toml → themes/loop_a.toml (remove `inherits` from one of these files)"
    );
}

#[test]
fn check_unknown_parent_theme() {
    assert_eq!(
        fixture_problems("unknown_inherits.toml"),
        "unknown_inherits.toml:2: unknown theme `solarised` in `inherits` (available: ansi16, child, default, gruvbox, high-contrast, light, loop_a, loop_b, mono, parent)"
    );
}

#[test]
fn check_reports_every_problem_at_once() {
    let error = Theme::from_toml(
        "many.toml",
        "[palette]\nx = \"#zzzzzz\"\n[styles]\ntexts = \"red\"\n\"list\" = \"nope\"\n\"help.key\" = { fgg = \"red\" }\n",
        None,
        ColorSupport::TrueColor,
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    let lines: Vec<&str> = error.lines().collect();
    assert_eq!(lines.len(), 4, "{error}");
    assert!(
        lines[0].starts_with("many.toml:2: bad colour `#zzzzzz`"),
        "{error}"
    );
    assert!(
        lines[1].starts_with("many.toml:4: unknown style slot `texts`"),
        "{error}"
    );
    assert!(
        lines[2].starts_with("many.toml:5: unknown colour `nope` in `list`"),
        "{error}"
    );
    assert!(
        lines[3].starts_with("many.toml:6: unknown style field `fgg`"),
        "{error}"
    );
}
