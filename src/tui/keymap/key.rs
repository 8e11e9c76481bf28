//! Keys and key sequences: the one parser of key names in rolo, their canonical display (used by
//! help and status hints), and the conversion from crossterm events. It knows nothing about
//! commands or contexts.

use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode as CtCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tui::data_file;

/// A key without modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    /// A character; letters carry shift in their case (`G`, never `shift-g`).
    Char(char),
    Enter,
    Esc,
    Tab,
    /// Shift-tab; always stored without the shift flag.
    BackTab,
    Backspace,
    Delete,
    Insert,
    Home,
    End,
    PageUp,
    PageDown,
    Up,
    Down,
    Left,
    Right,
    F(u8),
}

/// Modifier flags. Shift is only ever set on non-character keys (`shift-up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Modifiers {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// A normalised key press: equal presses compare equal whatever way they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCode,
    mods: Modifiers,
}

/// Canonical names first; the rest are accepted aliases.
const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("space", KeyCode::Char(' ')),
    ("return", KeyCode::Enter),
    ("ret", KeyCode::Enter),
    ("cr", KeyCode::Enter),
    ("escape", KeyCode::Esc),
    ("bs", KeyCode::Backspace),
    ("del", KeyCode::Delete),
    ("ins", KeyCode::Insert),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pgdown", KeyCode::PageDown),
    ("spc", KeyCode::Char(' ')),
];

impl Key {
    /// Builds a key, normalising shift: `shift` + letter becomes the upper-case letter, shift on
    /// any other character is dropped (the character already says it), `shift-tab` is `backtab`.
    pub fn new(code: KeyCode, mods: Modifiers) -> Key {
        let mut mods = mods;
        let code = match code {
            KeyCode::Char(c) => {
                let shifted = mods.shift;
                mods.shift = false;
                if shifted && c.is_lowercase() {
                    let mut upper = c.to_uppercase();
                    match (upper.next(), upper.next()) {
                        (Some(u), None) => KeyCode::Char(u),
                        _ => KeyCode::Char(c),
                    }
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::Tab if mods.shift => {
                mods.shift = false;
                KeyCode::BackTab
            }
            KeyCode::BackTab => {
                mods.shift = false;
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// A plain key without modifiers.
    pub fn plain(code: KeyCode) -> Key {
        Key::new(code, Modifiers::default())
    }

    pub fn code(&self) -> KeyCode {
        self.code
    }

    pub fn modifiers(&self) -> Modifiers {
        self.mods
    }

    /// The character this key types in a text input, if it types one.
    pub fn printable(&self) -> Option<char> {
        match self.code {
            KeyCode::Char(c) if !self.mods.ctrl && !self.mods.alt && !c.is_control() => Some(c),
            _ => None,
        }
    }

    /// Converts a crossterm key event; `None` for releases and keys rolo cannot bind
    /// (media keys, lone modifiers, super/hyper chords).
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let m = event.modifiers;
        if m.intersects(KeyModifiers::SUPER | KeyModifiers::HYPER) {
            return None;
        }
        let mods = Modifiers {
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.intersects(KeyModifiers::ALT | KeyModifiers::META),
            shift: m.contains(KeyModifiers::SHIFT),
        };
        let code = match event.code {
            CtCode::Char(c) => KeyCode::Char(c),
            CtCode::Enter => KeyCode::Enter,
            CtCode::Esc => KeyCode::Esc,
            CtCode::Tab => KeyCode::Tab,
            CtCode::BackTab => KeyCode::BackTab,
            CtCode::Backspace => KeyCode::Backspace,
            CtCode::Delete => KeyCode::Delete,
            CtCode::Insert => KeyCode::Insert,
            CtCode::Home => KeyCode::Home,
            CtCode::End => KeyCode::End,
            CtCode::PageUp => KeyCode::PageUp,
            CtCode::PageDown => KeyCode::PageDown,
            CtCode::Up => KeyCode::Up,
            CtCode::Down => KeyCode::Down,
            CtCode::Left => KeyCode::Left,
            CtCode::Right => KeyCode::Right,
            CtCode::F(n) => KeyCode::F(n),
            _ => return None,
        };
        Some(Key::new(code, mods))
    }

    /// The key a legacy terminal sends instead of this chord (`ctrl-i` arrives as `tab`).
    pub fn legacy_alias(&self) -> Option<Key> {
        if !self.mods.ctrl || self.mods.shift {
            return None;
        }
        let code = match self.code {
            KeyCode::Char('i') => KeyCode::Tab,
            KeyCode::Char('m') => KeyCode::Enter,
            KeyCode::Char('[') => KeyCode::Esc,
            KeyCode::Char('h') => KeyCode::Backspace,
            _ => return None,
        };
        let mods = Modifiers {
            alt: self.mods.alt,
            ..Modifiers::default()
        };
        Some(Key::new(code, mods))
    }

    /// Whether only terminals speaking the kitty keyboard protocol can send this chord.
    pub fn needs_kitty_protocol(&self) -> bool {
        if self.legacy_alias().is_some() {
            return false;
        }
        match self.code {
            KeyCode::Char(c) => self.mods.ctrl && !(c.is_ascii_lowercase() || c == ' ' || c == '['),
            KeyCode::Enter | KeyCode::Esc | KeyCode::Backspace | KeyCode::Tab => {
                self.mods.ctrl || self.mods.shift
            }
            KeyCode::BackTab => self.mods.ctrl,
            _ => false,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.mods.alt {
            f.write_str("alt-")?;
        }
        if self.mods.shift || self.code == KeyCode::BackTab {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::BackTab => f.write_str("tab"),
            code => {
                let name = NAMED
                    .iter()
                    .find(|(_, named)| *named == code)
                    .map_or("?", |(name, _)| *name);
                f.write_str(name)
            }
        }
    }
}

/// Why a key name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KeyParseError {
    pub message: String,
    pub suggestion: Option<String>,
}

const EXAMPLES: &str =
    "keys look like `ctrl-s`, `alt-x`, `shift-tab`, `f5`, `G`, `space`, `pageup`";

fn modifier(prefix: &str) -> Option<fn(&mut Modifiers)> {
    match prefix.to_ascii_lowercase().as_str() {
        "ctrl" | "c" | "control" => Some(|m| m.ctrl = true),
        "alt" | "a" | "m" | "meta" | "opt" | "option" => Some(|m| m.alt = true),
        "shift" | "s" => Some(|m| m.shift = true),
        _ => None,
    }
}

impl FromStr for Key {
    type Err = KeyParseError;

    fn from_str(input: &str) -> Result<Key, KeyParseError> {
        let mut mods = Modifiers::default();
        let mut rest = input.trim();
        while rest.chars().count() > 1 {
            let Some(at) = rest.find(['-', '+']).filter(|&at| at > 0) else {
                break;
            };
            let Some(apply) = modifier(&rest[..at]) else {
                break;
            };
            if at + 1 >= rest.len() {
                break;
            }
            apply(&mut mods);
            rest = &rest[at + 1..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => {
                return Err(KeyParseError {
                    message: format!("bad key `{input}`: no key name"),
                    suggestion: Some(EXAMPLES.into()),
                });
            }
            (Some(c), None) if c.is_control() || c.is_whitespace() => {
                return Err(KeyParseError {
                    message: format!("bad key `{}`: write it by name", input.escape_debug()),
                    suggestion: Some(EXAMPLES.into()),
                });
            }
            (Some(c), None) => KeyCode::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                let function = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=24).contains(n));
                match (NAMED.iter().find(|(name, _)| *name == lower), function) {
                    (Some((_, code)), _) => *code,
                    (None, Some(n)) => KeyCode::F(n),
                    (None, None) => {
                        return Err(KeyParseError {
                            message: format!("bad key `{input}`: unknown key name `{rest}`"),
                            suggestion: data_file::did_you_mean(
                                &lower,
                                NAMED.iter().map(|(name, _)| *name),
                            )
                            .or(Some(EXAMPLES.into())),
                        });
                    }
                }
            }
        };
        if let KeyCode::Char(c) = code
            && mods.shift
            && !c.is_alphabetic()
            && c != ' '
        {
            return Err(KeyParseError {
                message: format!(
                    "bad key `{input}`: shift with `{c}` depends on the keyboard layout"
                ),
                suggestion: Some(
                    "write the character shift types, e.g. `?` rather than `shift-/`".into(),
                ),
            });
        }
        Ok(Key::new(code, mods))
    }
}

/// One or more keys pressed in order, written `"g g"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySeq(Vec<Key>);

impl KeySeq {
    /// `None` for an empty sequence.
    pub fn new(keys: Vec<Key>) -> Option<KeySeq> {
        (!keys.is_empty()).then_some(KeySeq(keys))
    }

    pub fn keys(&self) -> &[Key] {
        &self.0
    }

    pub fn first(&self) -> Key {
        self.0[0]
    }

    /// Whether `prefix` is a strict prefix of this sequence.
    pub fn extends(&self, prefix: &[Key]) -> bool {
        self.0.len() > prefix.len() && self.0.starts_with(prefix)
    }
}

impl From<Key> for KeySeq {
    fn from(key: Key) -> KeySeq {
        KeySeq(vec![key])
    }
}

impl fmt::Display for KeySeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

impl FromStr for KeySeq {
    type Err = KeyParseError;

    fn from_str(input: &str) -> Result<KeySeq, KeyParseError> {
        let keys = input
            .split_whitespace()
            .map(Key::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        KeySeq::new(keys).ok_or_else(|| KeyParseError {
            message: "bad key ``: no key name".into(),
            suggestion: Some(EXAMPLES.into()),
        })
    }
}
