//! Where rolo keeps things and which settings win: built-in defaults < `config.toml` < environment
//! (`ROLO_DB`, `NO_COLOR`…) < command-line flags. Paths follow XDG on every OS
//! (`~/.local/share/rolo/rolo.redb`, `~/.config/rolo/`). Reads files; never writes them.

use std::path::{Path, PathBuf};

use etcetera::BaseStrategy;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find your home directory to place rolo's files; use --db PATH")]
    NoHome,
    #[error("{path}: {message}")]
    Bad { path: String, message: String },
}

/// `~/.config/rolo/config.toml`. Every key is optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub db: Option<PathBuf>,
    pub keymap: Option<String>,
    pub theme: Option<String>,
    pub color: Option<String>,
    /// Who you are in the audit trail when not the OS user.
    pub actor: Option<String>,
    /// A team server's socket (`rolo serve --socket PATH`) to use instead of a private one.
    pub socket: Option<PathBuf>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => {
                return Err(ConfigError::Bad {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Bad {
            path: path.display().to_string(),
            message: e.to_string().trim().replace('\n', " "),
        })
    }
}

/// rolo's directories.
#[derive(Clone, Debug)]
pub struct Dirs {
    pub config: PathBuf,
    pub data: PathBuf,
}

impl Dirs {
    pub fn locate() -> Result<Dirs, ConfigError> {
        let xdg = etcetera::base_strategy::Xdg::new().map_err(|_| ConfigError::NoHome)?;
        Ok(Dirs {
            config: xdg.config_dir().join("rolo"),
            data: xdg.data_dir().join("rolo"),
        })
    }

    pub fn default_db(&self) -> PathBuf {
        self.data.join("rolo.redb")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_is_optional_and_strict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(ConfigFile::load(&path).unwrap(), ConfigFile::default());
        std::fs::write(&path, "theme = \"light\"\nkeymap = \"vim\"\n").unwrap();
        let cfg = ConfigFile::load(&path).unwrap();
        assert_eq!(cfg.theme.as_deref(), Some("light"));
        std::fs::write(&path, "themee = \"light\"\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.toml") && err.contains("themee"),
            "{err}"
        );
    }
}
