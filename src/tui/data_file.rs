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

/// Up to three candidates close to `input` (typos, prefixes), closest first.
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
    scored.into_iter().take(3).map(|(_, name)| name).collect()
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
