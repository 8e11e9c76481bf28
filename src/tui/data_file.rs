//! Shared plumbing for rolo's TOML data files (keymaps and themes): finding a built-in or user
//! file by name, turning byte offsets into line numbers, suggesting close names, and collecting
//! every problem so a user sees them all at once. It knows nothing about what a keymap or a theme
//! means.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use etcetera::BaseStrategy as _;

/// One thing wrong in a data file, pointing at the line to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
    pub suggestion: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, " ({suggestion})")?;
        }
        Ok(())
    }
}

/// Every problem found while loading a keymap or a theme, one per line when displayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// The text of one data file and the label used for it in messages.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// A path for user files, `<built-in>/keymaps/NAME.toml` for embedded ones.
    pub label: String,
    /// Where the file lives on disk; `None` for embedded files.
    pub path: Option<PathBuf>,
    pub text: String,
}

impl DataFile {
    pub fn read(path: &Path) -> std::io::Result<DataFile> {
        Ok(DataFile {
            label: path.display().to_string(),
            path: Some(path.to_path_buf()),
            text: std::fs::read_to_string(path)?,
        })
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    pub fn problem(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) -> Problem {
        Problem {
            file: self.label.clone(),
            line: self.line_of(span.start),
            message: message.into(),
            suggestion,
        }
    }

    /// Problems for the TOML syntax errors found by the parser.
    pub fn syntax_problems(&self, errors: &[toml::de::Error]) -> Vec<Problem> {
        errors
            .iter()
            .map(|error| Problem {
                file: self.label.clone(),
                line: error.span().map_or(1, |span| self.line_of(span.start)),
                message: format!("invalid TOML: {}", error.message().trim()),
                suggestion: None,
            })
            .collect()
    }
}

/// A family of data files: the built-in ones embedded in the binary and the user's files of the
/// same kind in `CONFIG_DIR/KIND/NAME.toml`.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    /// Directory name, e.g. `keymaps` or `themes`.
    pub kind: &'static str,
    /// What one file is called in messages: `keymap`, `theme`.
    pub noun: &'static str,
    /// The top-level key naming the parent file: `extends`, `inherits`.
    pub parent_key: &'static str,
    pub builtin: &'static [(&'static str, &'static str)],
}

impl Library {
    fn builtin_file(&self, name: &str) -> Option<DataFile> {
        self.builtin
            .iter()
            .find(|(builtin, _)| *builtin == name)
            .map(|(builtin, text)| DataFile {
                label: format!("<built-in>/{}/{builtin}.toml", self.kind),
                path: None,
                text: (*text).to_string(),
            })
    }

    fn user_path(&self, name: &str, config_dir: Option<&Path>) -> Option<PathBuf> {
        let path = config_dir?.join(self.kind).join(format!("{name}.toml"));
        path.is_file().then_some(path)
    }

    /// Finds a file by name: the user's file wins over the built-in one, except when `from` is
    /// that very file — a user `default.toml` saying `extends = "default"` means the built-in.
    pub fn find(
        &self,
        name: &str,
        config_dir: Option<&Path>,
        from: Option<&Path>,
    ) -> Result<Option<DataFile>, (PathBuf, std::io::Error)> {
        if let Some(path) = self.user_path(name, config_dir)
            && from != Some(path.as_path())
        {
            return DataFile::read(&path)
                .map(Some)
                .map_err(|error| (path, error));
        }
        Ok(self.builtin_file(name))
    }

    /// Built-in names and the user's, sorted, without duplicates.
    pub fn names(&self, config_dir: Option<&Path>) -> Vec<String> {
        let mut names: Vec<String> = self
            .builtin
            .iter()
            .map(|(name, _)| (*name).to_string())
            .collect();
        if let Some(dir) = config_dir
            && let Ok(entries) = std::fs::read_dir(dir.join(self.kind))
        {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|ext| ext == "toml")
                    && let Some(stem) = path.file_stem().and_then(|stem| stem.to_str())
                {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// A file and everything it inherits, the file itself first, with the problems met on the way.
pub struct Chain<L> {
    pub files: Vec<(DataFile, L)>,
    pub problems: Vec<Problem>,
    /// A parent was missing, unreadable or cyclic, so the merged result is incomplete.
    pub broken: bool,
}

impl Library {
    /// Parses `file` and follows its parent key (`extends`/`inherits`) until a file without one,
    /// detecting cycles. `parse` returns the parsed layer, its problems and the parent it names.
    pub fn load_chain<L>(
        &self,
        file: DataFile,
        config_dir: Option<&Path>,
        parse: impl Fn(&DataFile) -> (L, Vec<Problem>, Option<(String, Range<usize>)>),
    ) -> Chain<L> {
        let mut chain = Chain {
            files: Vec::new(),
            problems: Vec::new(),
            broken: false,
        };
        let mut next = Some(file);
        while let Some(file) = next.take() {
            let (layer, found, parent) = parse(&file);
            chain.problems.extend(found);
            if let Some((parent, span)) = parent {
                match self.find(&parent, config_dir, file.path.as_deref()) {
                    Ok(Some(parent_file)) => {
                        let seen = parent_file.label == file.label
                            || chain
                                .files
                                .iter()
                                .any(|(f, _)| f.label == parent_file.label);
                        if seen {
                            chain.broken = true;
                            let mut labels: Vec<&str> =
                                chain.files.iter().map(|(f, _)| f.label.as_str()).collect();
                            labels.push(&file.label);
                            labels.push(&parent_file.label);
                            chain.problems.push(file.problem(
                                span,
                                format!("`{}` cycle: {}", self.parent_key, labels.join(" → ")),
                                Some(format!(
                                    "remove `{}` from one of these files",
                                    self.parent_key
                                )),
                            ));
                        } else {
                            next = Some(parent_file);
                        }
                    }
                    Ok(None) => {
                        chain.broken = true;
                        let names = self.names(config_dir);
                        chain.problems.push(
                            file.problem(
                                span,
                                format!(
                                    "unknown {} `{parent}` in `{}`",
                                    self.noun, self.parent_key
                                ),
                                did_you_mean(&parent, names.iter().map(String::as_str))
                                    .or_else(|| Some(format!("available: {}", names.join(", ")))),
                            ),
                        );
                    }
                    Err((path, error)) => {
                        chain.broken = true;
                        chain.problems.push(file.problem(
                            span,
                            format!("cannot read {}: {error}", path.display()),
                            None,
                        ));
                    }
                }
            }
            chain.files.push((file, layer));
        }
        chain
    }
}

/// Sorts problems by file (in chain order) then line, so messages read top to bottom.
pub fn sort_problems<L>(problems: &mut [Problem], files: &[(DataFile, L)]) {
    let order = |label: &str| {
        files
            .iter()
            .position(|(f, _)| f.label == label)
            .unwrap_or(0)
    };
    problems.sort_by_key(|p| (order(&p.file), p.line));
}

/// Whether a user-given keymap/theme argument is a file path rather than a name.
pub fn looks_like_path(name_or_path: &str) -> bool {
    name_or_path.ends_with(".toml") || name_or_path.contains(['/', '\\'])
}

/// rolo's configuration directory, `$XDG_CONFIG_HOME/rolo` (XDG on every OS).
pub fn default_config_dir() -> Option<PathBuf> {
    etcetera::base_strategy::Xdg::new()
        .ok()
        .map(|xdg| xdg.config_dir().join("rolo"))
}

/// Up to three candidates closest to `input` (typos first, else names containing it).
pub fn close_names<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let input = input.to_lowercase();
    let limit = (input.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = edit_distance(&input, &lower);
            if distance <= limit {
                Some((distance, candidate))
            } else if input.len() >= 3
                && lower.len() >= 3
                && (lower.contains(&input) || input.contains(&lower))
            {
                Some((limit + 1, candidate))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.dedup();
    let best = scored.first().map_or(0, |(score, _)| *score);
    scored
        .into_iter()
        .take_while(|(score, _)| *score == best)
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

/// A "did you mean" suggestion, or `None` when nothing is close.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let close = close_names(input, candidates);
    if close.is_empty() {
        None
    } else {
        let quoted: Vec<String> = close.iter().map(|name| format!("`{name}`")).collect();
        Some(format!("did you mean {}?", quoted.join(" or ")))
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_finds_typos_and_prefixes() {
        let names = ["quick_log", "quit", "undo", "delete_contact"];
        assert_eq!(close_names("quitt", names), vec!["quit"]);
        assert_eq!(close_names("delete", names), vec!["delete_contact"]);
        assert!(close_names("zzzzzz", names).is_empty());
    }

    #[test]
    fn line_numbers_are_one_based() {
        let file = DataFile {
            label: "x".into(),
            path: None,
            text: "a\nb\nc".into(),
        };
        assert_eq!(file.line_of(0), 1);
        assert_eq!(file.line_of(2), 2);
        assert_eq!(file.line_of(4), 3);
    }
}
