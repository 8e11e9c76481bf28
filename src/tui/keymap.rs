//! Keymaps as data: loading the shipped and user TOML keymaps (with `extends` chains), checking
//! them (every problem at once, with file and line), and resolving key presses to [`Command`]s per
//! context. Which keys do what lives only in `keymaps/*.toml`; this module must not hard-code any.
//!
//! A keymap file has one table per [`Context`], `"key" = "command"`, e.g.
//!
//! ```toml
//! extends = "default"
//! [list]
//! "g g" = "first"
//! "d" = "noop"       # unbind: `d` now does nothing in the list
//! ```
//!
//! Merge rules, applied from the base of the `extends` chain to the file itself: a binding for a
//! key the parent binds overrides it; a new key adds a binding; `"noop"` unbinds (and masks the
//! key in that context, so an outer context's binding does not show through). A file without
//! `extends` stands alone.

mod check;
mod key;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use key::{Key, KeyCode, KeyParseError, KeySeq, Modifiers};

use crate::tui::command::{Command, Context};
use crate::tui::data_file::{self, DataFile, Library, Problems};

/// The keymaps shipped inside the binary.
const BUILTIN: Library = Library {
    kind: "keymaps",
    noun: "keymap",
    parent_key: "extends",
    builtin: &[
        ("default", include_str!("../../keymaps/default.toml")),
        ("vim", include_str!("../../keymaps/vim.toml")),
        ("emacs", include_str!("../../keymaps/emacs.toml")),
    ],
};

/// The user's own keymap, `CONFIG_DIR/keymap.toml`, used when no keymap is named.
const USER_KEYMAP_FILE: &str = "keymap.toml";

/// Why a keymap could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    /// Every problem found, one per line: `file:line: message (suggestion)`.
    #[error("{0}")]
    Invalid(Problems),
    #[error("cannot read keymap {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no keymap named `{name}` (available: {})", available.join(", "))]
    NotFound {
        name: String,
        available: Vec<String>,
    },
}

/// What a key press means, given the keys pressed before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Command(Command),
    /// The keys so far start one or more sequences; these are the rest of each (for which-key).
    Pending(Vec<(KeySeq, Command)>),
    /// Nothing bound. In a text input ([`Context::is_text_input`]) a printable key should type.
    Unbound,
}

#[derive(Debug, Clone)]
struct Binding {
    command: Command,
    file: String,
    line: usize,
}

/// The effective keymap after merging an `extends` chain.
#[derive(Debug, Clone)]
pub struct Keymap {
    name: String,
    contexts: BTreeMap<Context, BTreeMap<KeySeq, Binding>>,
}

impl Keymap {
    /// Loads a keymap by name (a user file `CONFIG_DIR/keymaps/NAME.toml` wins over the shipped
    /// one) or by path. With `None`, loads `CONFIG_DIR/keymap.toml` if it exists, else `default`.
    pub fn load(
        name_or_path: Option<&str>,
        config_dir: Option<&Path>,
    ) -> Result<Keymap, KeymapError> {
        let file = match name_or_path {
            Some(path) if data_file::looks_like_path(path) => read(Path::new(path))?,
            Some(name) => find(name, config_dir)?,
            None => match config_dir.map(|dir| dir.join(USER_KEYMAP_FILE)) {
                Some(path) if path.is_file() => read(&path)?,
                _ => find("default", config_dir)?,
            },
        };
        Keymap::from_file(file, config_dir)
    }

    /// Loads a keymap from text; `label` names it in error messages. `extends` is resolved
    /// against the shipped keymaps and those in `config_dir`.
    pub fn from_toml(
        label: &str,
        text: &str,
        config_dir: Option<&Path>,
    ) -> Result<Keymap, KeymapError> {
        let file = DataFile {
            label: label.to_string(),
            path: None,
            text: text.to_string(),
        };
        Keymap::from_file(file, config_dir)
    }

    fn from_file(file: DataFile, config_dir: Option<&Path>) -> Result<Keymap, KeymapError> {
        let name = file.path.as_deref().and_then(Path::file_stem).map_or_else(
            || file.label.clone(),
            |stem| stem.to_string_lossy().into_owned(),
        );
        let (contexts, problems) = check::load_chain(file, config_dir, &BUILTIN);
        if problems.0.is_empty() {
            Ok(Keymap { name, contexts })
        } else {
            Err(KeymapError::Invalid(problems))
        }
    }

    /// The keymap's name (file stem or label).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What `key` means after the `pending` keys, looking through `contexts` in order
    /// (overlay → focused pane → global); the first context binding the keys decides.
    /// Once a text-input context has been passed, printable keys bound further out are ignored,
    /// so `q` types in the search box instead of quitting.
    pub fn resolve(&self, contexts: &[Context], pending: &[Key], key: Key) -> Resolution {
        let mut keys = pending.to_vec();
        keys.push(key);
        let mut continuations: Vec<(KeySeq, Command)> = Vec::new();
        for (index, context) in contexts.iter().enumerate() {
            let Some(map) = self.contexts.get(context) else {
                continue;
            };
            let typing = contexts[..index].iter().any(|c| c.is_text_input());
            let visible = |seq: &KeySeq| !(typing && seq.first().printable().is_some());
            let Some(start) = KeySeq::new(keys.clone()) else {
                continue;
            };
            for (seq, binding) in map.range(start.clone()..) {
                if !seq.extends(&keys) {
                    if seq == &start {
                        continue;
                    }
                    break;
                }
                if !visible(seq) || binding.command == Command::Noop {
                    continue;
                }
                let rest = KeySeq::new(seq.keys()[keys.len()..].to_vec());
                if let Some(rest) = rest
                    && !continuations.iter().any(|(known, _)| *known == rest)
                {
                    continuations.push((rest, binding.command));
                }
            }
            if !continuations.is_empty() {
                continue;
            }
            if let Some(binding) = map.get(&start).filter(|_| visible(&start)) {
                return match binding.command {
                    Command::Noop => Resolution::Unbound,
                    command => Resolution::Command(command),
                };
            }
        }
        if continuations.is_empty() {
            Resolution::Unbound
        } else {
            Resolution::Pending(continuations)
        }
    }

    /// The command a whole key sequence reaches, pressing its keys one by one.
    pub fn reaches(&self, contexts: &[Context], seq: &KeySeq) -> Option<Command> {
        let keys = seq.keys();
        for at in 0..keys.len() {
            match self.resolve(contexts, &keys[..at], keys[at]) {
                Resolution::Command(command) if at + 1 == keys.len() => return Some(command),
                Resolution::Pending(_) if at + 1 < keys.len() => {}
                _ => return None,
            }
        }
        None
    }

    /// The bindings of one context (not including `[global]`), in catalogue order, for help.
    pub fn bindings(&self, context: Context) -> Vec<(KeySeq, Command)> {
        let mut bindings: Vec<(KeySeq, Command)> = self
            .contexts
            .get(&context)
            .into_iter()
            .flatten()
            .filter(|(_, binding)| binding.command != Command::Noop)
            .map(|(seq, binding)| (seq.clone(), binding.command))
            .collect();
        bindings.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        bindings
    }

    /// The key sequences that really reach `command` through `contexts` (shadowed ones left
    /// out), shortest first, for status hints such as "? help".
    pub fn keys_for(&self, contexts: &[Context], command: Command) -> Vec<KeySeq> {
        let mut keys: Vec<KeySeq> = contexts
            .iter()
            .filter_map(|context| self.contexts.get(context))
            .flatten()
            .filter(|(_, binding)| binding.command == command)
            .map(|(seq, _)| seq.clone())
            .filter(|seq| self.reaches(contexts, seq) == Some(command))
            .collect();
        keys.sort_by_key(|seq| (seq.keys().len(), seq.to_string().len(), seq.clone()));
        keys.dedup();
        keys
    }

    /// Keys grouped per command for one context: `(keys, command)` in catalogue order.
    fn grouped(&self, context: Context) -> Vec<(Vec<KeySeq>, Command)> {
        let mut groups: Vec<(Vec<KeySeq>, Command)> = Vec::new();
        for (seq, command) in self.bindings(context) {
            match groups.last_mut() {
                Some((keys, last)) if *last == command => keys.push(seq),
                _ => groups.push((vec![seq], command)),
            }
        }
        for (keys, _) in &mut groups {
            keys.sort_by_key(|seq| (seq.keys().len(), seq.to_string().len(), seq.clone()));
        }
        groups
    }

    /// A plain-text listing of every context's bindings (`rolo keys`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for &context in Context::ALL {
            let groups = self.grouped(context);
            if groups.is_empty() {
                continue;
            }
            out.push_str(&format!("[{context}]  {}\n", context.description()));
            let rows: Vec<(String, Command)> = groups
                .into_iter()
                .map(|(keys, command)| (join_keys(&keys, ", "), command))
                .collect();
            let width = rows
                .iter()
                .map(|(keys, _)| keys.chars().count())
                .max()
                .unwrap_or(0);
            let name_width = rows.iter().map(|(_, c)| c.name().len()).max().unwrap_or(0);
            for (keys, command) in rows {
                out.push_str(&format!(
                    "  {keys:<width$}  {:<name_width$}  {}\n",
                    command.name(),
                    command.description()
                ));
            }
            out.push('\n');
        }
        out
    }

    /// A Markdown table per context (`rolo keys --markdown`).
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# Keymap `{}`\n", self.name);
        for &context in Context::ALL {
            let groups = self.grouped(context);
            if groups.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "\n## {context}\n\n{}\n\n| Keys | Command | What it does |\n|---|---|---|\n",
                context.description()
            ));
            for (keys, command) in groups {
                let keys: Vec<String> = keys
                    .iter()
                    .map(|seq| format!("`{}`", seq.to_string().replace('|', "\\|")))
                    .collect();
                out.push_str(&format!(
                    "| {} | `{}` | {} |\n",
                    keys.join(", "),
                    command.name(),
                    command.description()
                ));
            }
        }
        out
    }
}

fn join_keys(keys: &[KeySeq], separator: &str) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

fn read(path: &Path) -> Result<DataFile, KeymapError> {
    DataFile::read(path).map_err(|source| KeymapError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn find(name: &str, config_dir: Option<&Path>) -> Result<DataFile, KeymapError> {
    match BUILTIN.find(name, config_dir, None) {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(KeymapError::NotFound {
            name: name.to_string(),
            available: BUILTIN.names(config_dir),
        }),
        Err((path, source)) => Err(KeymapError::Read { path, source }),
    }
}

/// Checks a keymap file (`rolo keys --check FILE`); the error lists every problem.
pub fn check_file(path: &Path, config_dir: Option<&Path>) -> Result<(), KeymapError> {
    Keymap::from_file(read(path)?, config_dir).map(|_| ())
}

/// Names of the shipped keymaps and the user's (`CONFIG_DIR/keymaps/*.toml`).
pub fn list_keymaps(config_dir: Option<&Path>) -> Vec<String> {
    BUILTIN.names(config_dir)
}
