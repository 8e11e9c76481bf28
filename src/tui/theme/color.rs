//! Colours: reading the theme colour syntax, detecting what the terminal supports, and the
//! faithful fallback from 24-bit colour to the 256- and 16-colour palettes. Theme colours
//! themselves live in `themes/*.toml`; the tables here are the terminals' standard palettes.

use std::str::FromStr;

use ratatui::style::Color;

/// The user's `--color` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl FromStr for ColorChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<ColorChoice, String> {
        match text {
            "auto" => Ok(ColorChoice::Auto),
            "always" => Ok(ColorChoice::Always),
            "never" => Ok(ColorChoice::Never),
            other => Err(format!(
                "`{other}` is not a colour choice (auto, always, never)"
            )),
        }
    }
}

/// How many colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    TrueColor,
    Ansi256,
    Ansi16,
    /// No colour at all: styles keep only their modifiers.
    None,
}

impl ColorSupport {
    /// Decides from `--color`, `NO_COLOR`, `COLORTERM` and `TERM`, read through `env` so tests
    /// need not touch the process environment. `always` overrides `NO_COLOR` and `TERM=dumb`.
    pub fn detect(choice: ColorChoice, env: impl Fn(&str) -> Option<String>) -> ColorSupport {
        let var = |name: &str| env(name).filter(|value| !value.is_empty());
        if choice == ColorChoice::Never {
            return ColorSupport::None;
        }
        let term = var("TERM").unwrap_or_default().to_ascii_lowercase();
        if choice == ColorChoice::Auto && (var("NO_COLOR").is_some() || term == "dumb") {
            return ColorSupport::None;
        }
        let colorterm = var("COLORTERM").unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
            ColorSupport::TrueColor
        } else if term.contains("256color") {
            ColorSupport::Ansi256
        } else {
            ColorSupport::Ansi16
        }
    }

    /// [`ColorSupport::detect`] on the real environment.
    pub fn from_env(choice: ColorChoice) -> ColorSupport {
        ColorSupport::detect(choice, |name| std::env::var(name).ok())
    }

    /// The closest colour this terminal can show; `None` when it shows no colour.
    pub fn downgrade(self, color: Color) -> Option<Color> {
        match (self, color) {
            (ColorSupport::None, _) => None,
            (ColorSupport::TrueColor, color) => Some(color),
            (ColorSupport::Ansi256, Color::Rgb(r, g, b)) => {
                Some(Color::Indexed(nearest_256((r, g, b))))
            }
            (ColorSupport::Ansi16, Color::Rgb(r, g, b)) => Some(ansi(nearest_16((r, g, b)))),
            (ColorSupport::Ansi16, Color::Indexed(n)) if n < 16 => Some(ansi(n)),
            (ColorSupport::Ansi16, Color::Indexed(n)) => Some(ansi(nearest_16(indexed_rgb(n)))),
            (_, color) => Some(color),
        }
    }
}

/// A colour as written in a theme, before palette names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ColorSpec {
    Fixed(Color),
    Palette(String),
}

/// The 16 ANSI colours by index, with the names themes may use (aliases after the first).
const ANSI_NAMES: &[(&str, u8)] = &[
    ("black", 0),
    ("red", 1),
    ("green", 2),
    ("yellow", 3),
    ("blue", 4),
    ("magenta", 5),
    ("cyan", 6),
    ("gray", 7),
    ("dark_gray", 8),
    ("light_red", 9),
    ("light_green", 10),
    ("light_yellow", 11),
    ("light_blue", 12),
    ("light_magenta", 13),
    ("light_cyan", 14),
    ("white", 15),
    ("grey", 7),
    ("dark_grey", 8),
    ("bright_black", 8),
    ("bright_red", 9),
    ("bright_green", 10),
    ("bright_yellow", 11),
    ("bright_blue", 12),
    ("bright_magenta", 13),
    ("bright_cyan", 14),
    ("bright_white", 15),
];

/// The names a colour may be written as without a palette, for suggestions.
pub(crate) fn ansi_names() -> impl Iterator<Item = &'static str> {
    ANSI_NAMES.iter().map(|(name, _)| *name).chain(["reset"])
}

/// xterm's default RGB for the 16 ANSI colours, the reference for nearest-colour matching.
const ANSI_RGB: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn ansi(index: u8) -> Color {
    match index {
        0 => Color::Black,
        1 => Color::Red,
        2 => Color::Green,
        3 => Color::Yellow,
        4 => Color::Blue,
        5 => Color::Magenta,
        6 => Color::Cyan,
        7 => Color::Gray,
        8 => Color::DarkGray,
        9 => Color::LightRed,
        10 => Color::LightGreen,
        11 => Color::LightYellow,
        12 => Color::LightBlue,
        13 => Color::LightMagenta,
        14 => Color::LightCyan,
        _ => Color::White,
    }
}

/// Perceptual distance ("redmean"), good enough to pick a neighbour that looks alike.
fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> i64 {
    let mean = (i64::from(a.0) + i64::from(b.0)) / 2;
    let dr = i64::from(a.0) - i64::from(b.0);
    let dg = i64::from(a.1) - i64::from(b.1);
    let db = i64::from(a.2) - i64::from(b.2);
    (((512 + mean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - mean) * db * db) >> 8)
}

fn nearest_16(rgb: (u8, u8, u8)) -> u8 {
    (0u8..16)
        .min_by_key(|&i| distance(rgb, ANSI_RGB[usize::from(i)]))
        .unwrap_or(0)
}

/// The RGB of an xterm 256-colour index.
fn indexed_rgb(index: u8) -> (u8, u8, u8) {
    match index {
        0..=15 => ANSI_RGB[usize::from(index)],
        16..=231 => {
            let i = index - 16;
            (
                CUBE_LEVELS[usize::from(i / 36)],
                CUBE_LEVELS[usize::from(i / 6 % 6)],
                CUBE_LEVELS[usize::from(i % 6)],
            )
        }
        _ => {
            let level = 8 + 10 * (index - 232);
            (level, level, level)
        }
    }
}

/// Nearest colour among the 6×6×6 cube and the grey ramp (16–255); 0–15 are left out because
/// terminals recolour them.
fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    (16u8..=255)
        .min_by_key(|&i| distance(rgb, indexed_rgb(i)))
        .unwrap_or(16)
}

/// An ANSI colour name (`light_blue`, `bright-black`, `LightRed`…) or `reset`.
pub(crate) fn named_color(text: &str) -> Option<Color> {
    let folded: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    if folded == "reset" || folded == "default" {
        return Some(Color::Reset);
    }
    ANSI_NAMES
        .iter()
        .find(|(name, _)| name.replace('_', "") == folded)
        .map(|(_, index)| ansi(*index))
}

/// Reads `#rrggbb`, `#rgb`, `indexed(n)` or `n`; a word is kept as a name, looked up later in the
/// palette first and then among the ANSI names (so a palette may redefine `red`).
pub(crate) fn parse_color(text: &str) -> Result<ColorSpec, String> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        let digits: Option<Vec<u8>> = hex
            .chars()
            .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
            .collect();
        return match digits.as_deref() {
            Some([r1, r2, g1, g2, b1, b2]) => Ok(ColorSpec::Fixed(Color::Rgb(
                r1 * 16 + r2,
                g1 * 16 + g2,
                b1 * 16 + b2,
            ))),
            Some([r, g, b]) => Ok(ColorSpec::Fixed(Color::Rgb(r * 17, g * 17, b * 17))),
            _ => Err(format!("bad colour `{text}`: write #rrggbb")),
        };
    }
    if let Some(inner) = text
        .strip_prefix("indexed(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return inner
            .trim()
            .parse::<u8>()
            .map(|n| ColorSpec::Fixed(Color::Indexed(n)))
            .map_err(|_| format!("bad colour `{text}`: indexed() takes 0 to 255"));
    }
    if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        return text
            .parse::<u8>()
            .map(|n| ColorSpec::Fixed(Color::Indexed(n)))
            .map_err(|_| format!("bad colour `{text}`: colour numbers go from 0 to 255"));
    }
    let is_name = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if is_name {
        Ok(ColorSpec::Palette(text.to_string()))
    } else {
        Err(format!("bad colour `{text}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_colours_look_alike() {
        assert_eq!(nearest_16((250, 10, 10)), 9);
        assert_eq!(nearest_16((20, 20, 24)), 0);
        assert_eq!(nearest_256((255, 0, 0)), 196);
        assert_eq!(nearest_256((128, 128, 128)), 244);
        assert_eq!(indexed_rgb(196), (255, 0, 0));
    }

    #[test]
    fn colour_syntax() {
        assert_eq!(
            parse_color("#ff8000"),
            Ok(ColorSpec::Fixed(Color::Rgb(255, 128, 0)))
        );
        assert_eq!(
            parse_color("#f80"),
            Ok(ColorSpec::Fixed(Color::Rgb(255, 136, 0)))
        );
        assert_eq!(
            parse_color("light-blue"),
            Ok(ColorSpec::Palette("light-blue".into()))
        );
        assert_eq!(named_color("light-blue"), Some(Color::LightBlue));
        assert_eq!(named_color("BrightBlack"), Some(Color::DarkGray));
        assert_eq!(
            parse_color("indexed(42)"),
            Ok(ColorSpec::Fixed(Color::Indexed(42)))
        );
        assert_eq!(
            parse_color("208"),
            Ok(ColorSpec::Fixed(Color::Indexed(208)))
        );
        assert_eq!(
            parse_color("accent"),
            Ok(ColorSpec::Palette("accent".into()))
        );
        assert!(parse_color("#12345").is_err());
        assert!(parse_color("300").is_err());
        assert!(parse_color("rgb(1,2,3)").is_err());
    }
}
