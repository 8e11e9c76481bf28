//! Themes as data: loading `themes/*.toml` (embedded) and the user's themes, `inherits` chains,
//! palette lookup, colour fallback for the terminal at hand, and style slots with dotted fallback
//! (`list.selected` → `list` → `text`). Widgets ask [`Theme::style`] for a slot, never for a
//! colour; no colour is hard-coded here.
//!
//! ```toml
//! name = "light"
//! inherits = "default"
//! [palette]
//! accent = "#1d4ed8"
//! [styles]
//! "list.selected" = { fg = "accent", modifiers = ["bold", "reverse"] }
//! "status.error" = "red bold"        # shorthand: colour, `on` background, modifiers
//! ```
//!
//! A child's palette entries replace the parent's (so inherited styles pick them up) and its
//! styles replace whole slots. Slots that must stay visible without colour get emphasis even if
//! a theme forgets it.

mod color;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use toml::de::{DeTable, DeValue};

pub use color::{ColorChoice, ColorSupport};
use color::{ColorSpec, ansi_names, named_color, parse_color};

use crate::tui::data_file::{
    self, DataFile, Library, Problem, Problems, did_you_mean, sort_problems,
};

const BUILTIN: Library = Library {
    kind: "themes",
    noun: "theme",
    parent_key: "inherits",
    builtin: &[
        ("default", include_str!("../../themes/default.toml")),
        ("light", include_str!("../../themes/light.toml")),
        (
            "high-contrast",
            include_str!("../../themes/high-contrast.toml"),
        ),
        ("gruvbox", include_str!("../../themes/gruvbox.toml")),
        ("ansi16", include_str!("../../themes/ansi16.toml")),
        ("mono", include_str!("../../themes/mono.toml")),
    ],
};

/// Every style slot a theme may set. A slot left unset falls back to its dotted parent, then to
/// `text`.
pub const SLOTS: &[&str] = &[
    "text",
    "text.dim",
    "border",
    "border.focused",
    "title",
    "title.focused",
    "list",
    "list.selected",
    "list.header",
    "list.overdue",
    "list.tag",
    "detail",
    "detail.label",
    "detail.value",
    "timeline",
    "timeline.channel",
    "timeline.channel.call",
    "timeline.channel.email",
    "timeline.channel.meeting",
    "timeline.channel.chat",
    "timeline.channel.sms",
    "timeline.channel.visit",
    "timeline.channel.social",
    "timeline.channel.note",
    "timeline.direction",
    "timeline.agent",
    "timeline.satisfaction",
    "followup",
    "followup.due",
    "followup.overdue",
    "search",
    "search.match",
    "search.input",
    "status",
    "status.bar",
    "status.mode",
    "status.info",
    "status.error",
    "status.hint",
    "popup",
    "popup.border",
    "help",
    "help.key",
    "help.desc",
    "welcome",
    "welcome.title",
    "form",
    "form.error",
    "form.label",
    "form.input",
];

/// Slots that must stay visible with no colour at all, and the emphasis they get when a theme
/// gives them none (or always, when the terminal shows no colour).
const MUST_STAND_OUT: &[(&str, Modifier)] = &[
    ("list.selected", Modifier::REVERSED),
    ("border.focused", Modifier::BOLD),
    ("title.focused", Modifier::BOLD),
    ("search.match", Modifier::UNDERLINED),
    ("followup.overdue", Modifier::BOLD),
    ("status.error", Modifier::BOLD),
];

const EMPHASIS: Modifier = Modifier::REVERSED
    .union(Modifier::BOLD)
    .union(Modifier::UNDERLINED);

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("underline", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("reverse", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

const COLOR_HELP: &str =
    "colours are #rrggbb, a [palette] name, an ANSI name such as `light_blue`, or indexed(0-255)";

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// Every problem found, one per line: `file:line: message (suggestion)`.
    #[error("{0}")]
    Invalid(Problems),
    #[error("cannot read theme {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no theme named `{name}` (available: {})", available.join(", "))]
    NotFound {
        name: String,
        available: Vec<String>,
    },
}

/// A style as written, palette names not yet looked up.
#[derive(Debug, Clone)]
struct StyleSpec {
    fg: Option<ColorSpec>,
    bg: Option<ColorSpec>,
    modifiers: Modifier,
    file: String,
    line: usize,
}

#[derive(Debug, Default)]
struct Layer {
    name: Option<String>,
    inherits: Option<(String, Range<usize>)>,
    palette: Vec<(String, Color)>,
    styles: Vec<(String, StyleSpec)>,
}

/// A loaded theme, already fitted to the terminal's colour support.
#[derive(Debug, Clone)]
pub struct Theme {
    name: String,
    support: ColorSupport,
    styles: BTreeMap<&'static str, Style>,
}

impl Theme {
    /// Loads a theme by name (a user file `CONFIG_DIR/themes/NAME.toml` wins over the shipped
    /// one) or by path, fitted to `support`.
    pub fn load(
        name_or_path: &str,
        config_dir: Option<&Path>,
        support: ColorSupport,
    ) -> Result<Theme, ThemeError> {
        let file = if data_file::looks_like_path(name_or_path) {
            read(Path::new(name_or_path))?
        } else {
            match BUILTIN.find(name_or_path, config_dir, None) {
                Ok(Some(file)) => file,
                Ok(None) => {
                    return Err(ThemeError::NotFound {
                        name: name_or_path.to_string(),
                        available: BUILTIN.names(config_dir),
                    });
                }
                Err((path, source)) => return Err(ThemeError::Read { path, source }),
            }
        };
        Theme::from_file(file, config_dir, support)
    }

    /// Loads a theme from text; `label` names it in error messages.
    pub fn from_toml(
        label: &str,
        text: &str,
        config_dir: Option<&Path>,
        support: ColorSupport,
    ) -> Result<Theme, ThemeError> {
        let file = DataFile {
            label: label.to_string(),
            path: None,
            text: text.to_string(),
        };
        Theme::from_file(file, config_dir, support)
    }

    fn from_file(
        file: DataFile,
        config_dir: Option<&Path>,
        support: ColorSupport,
    ) -> Result<Theme, ThemeError> {
        let fallback_name = file.path.as_deref().and_then(Path::file_stem).map_or_else(
            || file.label.clone(),
            |stem| stem.to_string_lossy().into_owned(),
        );
        let chain = BUILTIN.load_chain(file, config_dir, |file| {
            let (layer, problems) = parse_layer(file);
            let parent = layer.inherits.clone();
            (layer, problems, parent)
        });
        let mut problems = chain.problems;
        let name = chain
            .files
            .first()
            .and_then(|(_, layer)| layer.name.clone())
            .unwrap_or(fallback_name);

        let mut palette: BTreeMap<String, Color> = BTreeMap::new();
        let mut specs: BTreeMap<String, StyleSpec> = BTreeMap::new();
        for (_, layer) in chain.files.iter().rev() {
            palette.extend(layer.palette.iter().cloned());
            specs.extend(layer.styles.iter().cloned());
        }

        let mut defined: BTreeMap<String, Style> = BTreeMap::new();
        for (slot, spec) in &specs {
            let mut style = Style::default().add_modifier(spec.modifiers);
            for (color, is_fg) in [(&spec.fg, true), (&spec.bg, false)] {
                let Some(color) = color else { continue };
                let color = match color {
                    ColorSpec::Fixed(color) => *color,
                    ColorSpec::Palette(name) => {
                        match palette.get(name).copied().or_else(|| named_color(name)) {
                            Some(color) => color,
                            None => {
                                let mut known: Vec<&str> =
                                    palette.keys().map(String::as_str).collect();
                                for ansi in ansi_names() {
                                    known.push(ansi);
                                }
                                problems.push(Problem {
                                    file: spec.file.clone(),
                                    line: spec.line,
                                    message: format!("unknown colour `{name}` in `{slot}`"),
                                    suggestion: did_you_mean(name, known).or_else(|| {
                                        Some(format!("define it in [palette]; {COLOR_HELP}"))
                                    }),
                                });
                                continue;
                            }
                        }
                    }
                };
                if let Some(color) = support.downgrade(color) {
                    style = if is_fg {
                        style.fg(color)
                    } else {
                        style.bg(color)
                    };
                }
            }
            defined.insert(slot.clone(), style);
        }

        if !problems.is_empty() {
            sort_problems(&mut problems, &chain.files);
            return Err(ThemeError::Invalid(Problems(problems)));
        }

        let styles = SLOTS
            .iter()
            .map(|&slot| (slot, stand_out(slot, fallback(&defined, slot), support)))
            .collect();
        Ok(Theme {
            name,
            support,
            styles,
        })
    }

    /// The style for a slot such as `list.selected`; unknown slots fall back along their dots
    /// and finally to `text`.
    /// A theme with no styles at all: for measuring text (wrapping does not depend on style).
    pub fn plain() -> Theme {
        Theme {
            name: String::new(),
            support: ColorSupport::None,
            styles: BTreeMap::new(),
        }
    }

    pub fn style(&self, slot: &str) -> Style {
        let mut slot = slot;
        loop {
            if let Some(style) = self.styles.get(slot) {
                return *style;
            }
            match slot.rfind('.') {
                Some(dot) => slot = &slot[..dot],
                None => return self.styles.get("text").copied().unwrap_or_default(),
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The colour support the theme was fitted to.
    pub fn color_support(&self) -> ColorSupport {
        self.support
    }
}

/// The first defined style along `slot`'s dotted parents, then `text`.
fn fallback(defined: &BTreeMap<String, Style>, slot: &str) -> Style {
    let mut slot = slot;
    loop {
        if let Some(style) = defined.get(slot) {
            return *style;
        }
        match slot.rfind('.') {
            Some(dot) => slot = &slot[..dot],
            None => return defined.get("text").copied().unwrap_or_default(),
        }
    }
}

/// Keeps selection, focus, matches and errors visible whatever the theme or terminal.
fn stand_out(slot: &str, style: Style, support: ColorSupport) -> Style {
    match MUST_STAND_OUT.iter().find(|(name, _)| *name == slot) {
        Some((_, emphasis))
            if support == ColorSupport::None || !style.add_modifier.intersects(EMPHASIS) =>
        {
            style.add_modifier(*emphasis)
        }
        _ => style,
    }
}

fn read(path: &Path) -> Result<DataFile, ThemeError> {
    DataFile::read(path).map_err(|source| ThemeError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks a theme file (`rolo themes --check FILE`); the error lists every problem.
pub fn check_file(path: &Path, config_dir: Option<&Path>) -> Result<(), ThemeError> {
    Theme::from_file(read(path)?, config_dir, ColorSupport::TrueColor).map(|_| ())
}

/// Names of the shipped themes and the user's (`CONFIG_DIR/themes/*.toml`).
pub fn list_themes(config_dir: Option<&Path>) -> Vec<String> {
    BUILTIN.names(config_dir)
}

const TOP_KEYS: &[&str] = &["name", "inherits", "description", "palette", "styles"];

fn parse_layer(file: &DataFile) -> (Layer, Vec<Problem>) {
    let (doc, errors) = DeTable::parse_recoverable(&file.text);
    let mut problems = file.syntax_problems(&errors);
    let mut layer = Layer::default();
    for (key, value) in doc.get_ref() {
        let name: &str = key.get_ref();
        match (name, value.get_ref()) {
            ("name", DeValue::String(text)) => layer.name = Some(text.to_string()),
            ("inherits", DeValue::String(text)) => {
                layer.inherits = Some((text.to_string(), value.span()));
            }
            ("description", _) => {}
            ("palette", DeValue::Table(table)) => {
                for (color_name, color_value) in table {
                    match color_of(color_value.get_ref()) {
                        Ok(ColorSpec::Fixed(color)) => {
                            layer
                                .palette
                                .push((color_name.get_ref().to_string(), color));
                        }
                        Ok(ColorSpec::Palette(other)) => match named_color(&other) {
                            Some(color) => {
                                layer
                                    .palette
                                    .push((color_name.get_ref().to_string(), color));
                            }
                            None => problems.push(file.problem(
                                color_value.span(),
                                format!(
                                    "bad colour `{other}` for palette entry `{}`",
                                    color_name.get_ref()
                                ),
                                Some(format!(
                                    "palette entries cannot name other entries; {COLOR_HELP}"
                                )),
                            )),
                        },
                        Err(message) => problems.push(file.problem(
                            color_value.span(),
                            message,
                            Some(COLOR_HELP.into()),
                        )),
                    }
                }
            }
            ("styles", DeValue::Table(table)) => {
                parse_styles(file, "", table, &mut layer, &mut problems);
            }
            ("name" | "inherits", _) => problems.push(file.problem(
                value.span(),
                format!("`{name}` must be a string"),
                None,
            )),
            ("palette" | "styles", _) => problems.push(file.problem(
                key.span(),
                format!("`{name}` must be a table"),
                Some(format!("write [{name}] on its own line")),
            )),
            _ => problems.push(
                file.problem(
                    key.span(),
                    format!("unknown key `{name}`"),
                    did_you_mean(name, TOP_KEYS.iter().copied())
                        .or_else(|| Some(format!("a theme has {}", TOP_KEYS.join(", ")))),
                ),
            ),
        }
    }
    (layer, problems)
}

fn is_style_field(name: &str) -> bool {
    matches!(name, "fg" | "bg" | "modifiers")
}

fn parse_styles(
    file: &DataFile,
    prefix: &str,
    table: &DeTable<'_>,
    layer: &mut Layer,
    problems: &mut Vec<Problem>,
) {
    for (key, value) in table {
        let slot = format!("{prefix}{}", key.get_ref());
        // `[styles.timeline.channel]` or dotted keys nest tables: flatten them back into slots.
        if let DeValue::Table(inner) = value.get_ref() {
            let nested = format!("{slot}.");
            let namespace = !inner.is_empty()
                && inner.iter().all(|(k, _)| !is_style_field(k.get_ref()))
                && SLOTS.iter().any(|known| known.starts_with(&nested));
            if namespace {
                parse_styles(file, &nested, inner, layer, problems);
                continue;
            }
        }
        if !SLOTS.contains(&slot.as_str()) {
            problems.push(
                file.problem(
                    key.span(),
                    format!("unknown style slot `{slot}`"),
                    did_you_mean(&slot, SLOTS.iter().copied())
                        .or_else(|| Some("themes/default.toml lists every slot".into())),
                ),
            );
            continue;
        }
        let line = file.line_of(key.span().start);
        let mut spec = StyleSpec {
            fg: None,
            bg: None,
            modifiers: Modifier::empty(),
            file: file.label.clone(),
            line,
        };
        match value.get_ref() {
            DeValue::String(text) => parse_shorthand(file, value.span(), text, &mut spec, problems),
            DeValue::Table(fields) => {
                for (field, field_value) in fields {
                    let span = field_value.span();
                    match field.get_ref().as_ref() {
                        "fg" | "bg" => match color_of(field_value.get_ref()) {
                            Ok(color) if field.get_ref() == "fg" => spec.fg = Some(color),
                            Ok(color) => spec.bg = Some(color),
                            Err(message) => {
                                problems.push(file.problem(span, message, Some(COLOR_HELP.into())));
                            }
                        },
                        "modifiers" => {
                            let names: Vec<(&str, Range<usize>)> = match field_value.get_ref() {
                                DeValue::Array(items) => items
                                    .iter()
                                    .filter_map(|item| {
                                        item.get_ref().as_str().map(|s| (s, item.span()))
                                    })
                                    .collect(),
                                DeValue::String(text) => vec![(text.as_ref(), span.clone())],
                                _ => Vec::new(),
                            };
                            for (name, span) in names {
                                match modifier(name) {
                                    Some(m) => spec.modifiers |= m,
                                    None => problems.push(unknown_modifier(file, span, name)),
                                }
                            }
                        }
                        other => problems.push(
                            file.problem(
                                field.span(),
                                format!("unknown style field `{other}` in `{slot}`"),
                                did_you_mean(other, ["fg", "bg", "modifiers"])
                                    .or_else(|| Some("a style has fg, bg and modifiers".into())),
                            ),
                        ),
                    }
                }
            }
            _ => problems.push(file.problem(
                value.span(),
                format!("`{slot}` must be a style"),
                Some("e.g. { fg = \"accent\", modifiers = [\"bold\"] } or \"accent bold\"".into()),
            )),
        }
        layer.styles.push((slot, spec));
    }
}

/// `"yellow bold"`, `"#ffffff on blue"`, `"reverse"`: colour, `on` background, modifiers.
fn parse_shorthand(
    file: &DataFile,
    span: Range<usize>,
    text: &str,
    spec: &mut StyleSpec,
    problems: &mut Vec<Problem>,
) {
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        let (target_bg, word) = if word == "on" {
            match words.next() {
                Some(next) => (true, next),
                None => {
                    problems.push(file.problem(
                        span.clone(),
                        format!("`on` needs a background colour in `{text}`"),
                        None,
                    ));
                    break;
                }
            }
        } else {
            (false, word)
        };
        if !target_bg && let Some(m) = modifier(word) {
            spec.modifiers |= m;
            continue;
        }
        match parse_color(word) {
            Ok(color) if target_bg => spec.bg = Some(color),
            Ok(color) if spec.fg.is_none() => spec.fg = Some(color),
            Ok(_) => problems.push(file.problem(
                span.clone(),
                format!("two foreground colours in `{text}`"),
                Some("write the background as `on COLOUR`".into()),
            )),
            Err(message) => {
                problems.push(file.problem(span.clone(), message, Some(COLOR_HELP.into())))
            }
        }
    }
}

fn color_of(value: &DeValue<'_>) -> Result<ColorSpec, String> {
    match value {
        DeValue::String(text) => parse_color(text),
        DeValue::Integer(number) => parse_color(number.as_str()),
        other => Err(format!(
            "bad colour: expected a string, found {}",
            other.type_str()
        )),
    }
}

fn modifier(name: &str) -> Option<Modifier> {
    let name = name.to_ascii_lowercase().replace('-', "_");
    MODIFIERS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, m)| *m)
}

fn unknown_modifier(file: &DataFile, span: Range<usize>, name: &str) -> Problem {
    file.problem(
        span,
        format!("unknown modifier `{name}`"),
        did_you_mean(name, MODIFIERS.iter().map(|(n, _)| *n)),
    )
}
