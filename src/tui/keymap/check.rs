//! Reading keymap files into bindings, merging an `extends` chain, and the checks that find every
//! problem in one pass: unknown contexts or commands, bad or duplicate keys, keys bound alone and
//! as a sequence prefix, chords legacy terminals cannot send, and `quit`/`help` made unreachable.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::de::DeTable;

use super::{Binding, KeySeq, Keymap};
use crate::tui::command::{Command, Context};
use crate::tui::data_file::{DataFile, Library, Problem, Problems, did_you_mean, sort_problems};

pub(super) type Contexts = BTreeMap<Context, BTreeMap<KeySeq, Binding>>;

struct Entry {
    context: Context,
    seq: KeySeq,
    command: Command,
    line: usize,
}

#[derive(Default)]
struct Layer {
    extends: Option<(String, Range<usize>)>,
    entries: Vec<Entry>,
}

/// Where a binding of `quit` or `help` was replaced or shadowed, to point at it if the command
/// becomes unreachable.
struct Lost {
    context: Context,
    command: Command,
    file: String,
    line: usize,
}

fn context_names() -> impl Iterator<Item = &'static str> {
    Context::ALL.iter().map(|c| c.name())
}

fn parse_layer(file: &DataFile) -> (Layer, Vec<Problem>) {
    let (doc, errors) = DeTable::parse_recoverable(&file.text);
    let mut problems = file.syntax_problems(&errors);
    let mut layer = Layer::default();
    for (key, value) in doc.get_ref() {
        let name: &str = key.get_ref();
        match name {
            "extends" => match value.get_ref().as_str() {
                Some(parent) => layer.extends = Some((parent.to_string(), value.span())),
                None => problems.push(file.problem(
                    value.span(),
                    "`extends` must be the name of a keymap",
                    Some("e.g. extends = \"default\"".into()),
                )),
            },
            "name" | "description" => {}
            _ => {
                let Some(context) = Context::from_name(name) else {
                    let all: Vec<&str> = context_names().collect();
                    problems.push(
                        file.problem(
                            key.span(),
                            format!("unknown context `{name}`"),
                            did_you_mean(name, context_names())
                                .or_else(|| Some(format!("contexts are {}", all.join(", ")))),
                        ),
                    );
                    continue;
                };
                let Some(table) = value.get_ref().as_table() else {
                    problems.push(file.problem(
                        key.span(),
                        format!("`{name}` must be a table of \"key\" = \"command\""),
                        Some(format!("write [{name}] on its own line, then the bindings")),
                    ));
                    continue;
                };
                parse_table(file, context, table, &mut layer, &mut problems);
            }
        }
    }
    (layer, problems)
}

fn parse_table(
    file: &DataFile,
    context: Context,
    table: &DeTable<'_>,
    layer: &mut Layer,
    problems: &mut Vec<Problem>,
) {
    let mut seen: Vec<(KeySeq, String, usize)> = Vec::new();
    for (key, value) in table {
        let raw: &str = key.get_ref();
        let line = file.line_of(key.span().start);
        let seq = match raw.parse::<KeySeq>() {
            Ok(seq) => Some(seq),
            Err(error) => {
                problems.push(file.problem(key.span(), error.message, error.suggestion));
                None
            }
        };
        let command = match value.get_ref().as_str() {
            Some(name) => match Command::from_name(name) {
                Some(command) => Some(command),
                None => {
                    let close = Command::close_names(name);
                    let suggestion = if close.is_empty() {
                        "`rolo keys` lists every command".to_string()
                    } else {
                        format!("close names: {}", close.join(", "))
                    };
                    problems.push(file.problem(
                        value.span(),
                        format!("unknown command `{name}`"),
                        Some(suggestion),
                    ));
                    None
                }
            },
            None => {
                problems.push(file.problem(
                    value.span(),
                    format!("the value for `{raw}` must be a command name in quotes"),
                    Some("e.g. \"q\" = \"quit\"".into()),
                ));
                None
            }
        };
        let (Some(seq), Some(command)) = (seq, command) else {
            continue;
        };
        if !command.fits(context) {
            let places: Vec<String> = command
                .contexts()
                .iter()
                .map(|c| format!("[{c}]"))
                .collect();
            problems.push(file.problem(
                value.span(),
                format!("`{command}` does nothing in [{context}]"),
                Some(format!("bind it in {}", places.join(", "))),
            ));
        }
        for key in seq.keys() {
            if let Some(alias) = key.legacy_alias() {
                problems.push(at_line(
                    file,
                    line,
                    format!("`{key}` cannot be told apart from `{alias}` by most terminals"),
                    Some(format!("bind `{alias}` instead, or choose another key")),
                ));
            } else if key.needs_kitty_protocol() {
                problems.push(at_line(
                    file,
                    line,
                    format!("`{key}` needs the kitty keyboard protocol, which many terminals lack"),
                    Some("choose a plain key, an f-key or a ctrl-letter chord".into()),
                ));
            }
        }
        if let Some((_, other_raw, other_line)) = seen.iter().find(|(other, _, _)| *other == seq) {
            let (first, later) = if *other_line <= line {
                ((other_raw.as_str(), *other_line), (raw, line))
            } else {
                ((raw, line), (other_raw.as_str(), *other_line))
            };
            problems.push(Problem {
                file: file.label.clone(),
                line: later.1,
                message: format!(
                    "`{}` is the same key as `{}` (line {}) in [{context}]",
                    later.0, first.0, first.1
                ),
                suggestion: Some(format!("keep one of them; both mean `{seq}`")),
            });
        }
        seen.push((seq.clone(), raw.to_string(), line));
        layer.entries.push(Entry {
            context,
            seq,
            command,
            line,
        });
    }
}

fn at_line(file: &DataFile, line: usize, message: String, suggestion: Option<String>) -> Problem {
    Problem {
        file: file.label.clone(),
        line,
        message,
        suggestion,
    }
}

/// Loads `file` and its `extends` ancestors, merges them and checks the result.
pub(super) fn load_chain(
    file: DataFile,
    config_dir: Option<&Path>,
    library: &Library,
) -> (Contexts, Problems) {
    let chain = library.load_chain(file, config_dir, |file| {
        let (layer, problems) = parse_layer(file);
        let parent = layer.extends.clone();
        (layer, problems, parent)
    });
    let mut problems = chain.problems;
    let broken_chain = chain.broken;
    let chain = chain.files;

    let mut contexts: Contexts = BTreeMap::new();
    let mut lost: Vec<Lost> = Vec::new();
    for (file, layer) in chain.iter().rev() {
        for entry in &layer.entries {
            let replaced = contexts
                .get(&entry.context)
                .and_then(|map| map.get(&entry.seq))
                .or_else(|| {
                    (entry.context != Context::Global)
                        .then(|| {
                            contexts
                                .get(&Context::Global)
                                .and_then(|map| map.get(&entry.seq))
                        })
                        .flatten()
                });
            if let Some(old) = replaced
                && matches!(old.command, Command::Quit | Command::Help)
                && old.command != entry.command
            {
                lost.push(Lost {
                    context: entry.context,
                    command: old.command,
                    file: file.label.clone(),
                    line: entry.line,
                });
            }
            contexts.entry(entry.context).or_default().insert(
                entry.seq.clone(),
                Binding {
                    command: entry.command,
                    file: file.label.clone(),
                    line: entry.line,
                },
            );
        }
    }

    let keymap = Keymap {
        name: String::new(),
        contexts,
    };
    let top = chain
        .first()
        .map_or_else(String::new, |(file, _)| file.label.clone());
    problems.extend(prefix_conflicts(&keymap));
    // With a missing parent, `quit` and `help` are naturally missing too: don't pile on.
    if !broken_chain {
        problems.extend(unreachable(&keymap, &lost, &top));
    }

    sort_problems(&mut problems, &chain);
    (keymap.contexts, Problems(problems))
}

/// The contexts consulted when `context` is the innermost one.
pub(super) fn chain_for(context: Context) -> Vec<Context> {
    if context == Context::Global {
        vec![Context::Global]
    } else {
        vec![context, Context::Global]
    }
}

/// A key bound alone and as the start of a sequence in the same context. (Across contexts the
/// inner one simply wins, which is how overriding works.)
fn prefix_conflicts(keymap: &Keymap) -> Vec<Problem> {
    let mut problems = Vec::new();
    for map in keymap.contexts.values() {
        let bound: Vec<(&KeySeq, &Binding)> = map
            .iter()
            .filter(|(_, binding)| binding.command != Command::Noop)
            .collect();
        for (alone, single) in &bound {
            for (longer, sequence) in &bound {
                if !longer.extends(alone.keys()) {
                    continue;
                }
                let place = if sequence.file == single.file {
                    format!("line {}", sequence.line)
                } else {
                    format!("{}:{}", sequence.file, sequence.line)
                };
                problems.push(Problem {
                    file: single.file.clone(),
                    line: single.line,
                    message: format!(
                        "`{alone}` is bound to `{}` and also starts `{longer}` ({place}), so one of them cannot be typed",
                        single.command
                    ),
                    suggestion: Some(format!("unbind one of them, e.g. \"{alone}\" = \"noop\"")),
                });
            }
        }
    }
    problems
}

fn unreachable(keymap: &Keymap, lost: &[Lost], top: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for command in [Command::Quit, Command::Help] {
        let missing: Vec<Context> = Context::ALL
            .iter()
            .copied()
            .filter(|&c| keymap.keys_for(&chain_for(c), command).is_empty())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let (file, line) = lost
            .iter()
            .rev()
            .find(|l| {
                l.command == command
                    && (l.context == Context::Global || missing.contains(&l.context))
            })
            .map_or((top.to_string(), 1), |l| (l.file.clone(), l.line));
        let names: Vec<String> = missing.iter().map(|c| format!("[{c}]")).collect();
        let suggestion = if missing.iter().any(|c| c.is_text_input()) {
            format!(
                "bind a key that does not type text, such as ctrl-c or f1, to `{command}` in [global]"
            )
        } else {
            format!("bind a key to `{command}` in [global]")
        };
        problems.push(Problem {
            file,
            line,
            message: format!("`{command}` cannot be reached in {}", names.join(", ")),
            suggestion: Some(suggestion),
        });
    }
    problems
}
