//! `rolo keys` and `rolo themes`: show the effective keymap (plain or as Markdown tables), list
//! the themes, and check a keymap or theme file, printing every problem with its line.

use std::path::PathBuf;

use clap::Args;

use super::output::{safe, safe_multiline};
use super::{Failure, exit};
use crate::tui::data_file::default_config_dir;
use crate::tui::keymap::{self, Keymap, KeymapError};
use crate::tui::theme::{self, ThemeError};

#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Print Markdown tables (as in the README)
    #[arg(long)]
    pub markdown: bool,
    /// Check a keymap file and list every problem
    #[arg(long, value_name = "FILE", conflicts_with = "markdown")]
    pub check: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ThemesArgs {
    /// Check a theme file and list every problem
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
}

/// An unknown keymap or theme name is invalid input (5), like a broken file — not the
/// "contact not found" code (4).
fn keymap_failure(e: KeymapError) -> Failure {
    let code = match e {
        KeymapError::Invalid(_) | KeymapError::NotFound { .. } => exit::INVALID,
        KeymapError::Read { .. } => exit::ERROR,
    };
    Failure::new(code, e.to_string())
}

fn theme_failure(e: ThemeError) -> Failure {
    let code = match e {
        ThemeError::Invalid(_) | ThemeError::NotFound { .. } => exit::INVALID,
        ThemeError::Read { .. } => exit::ERROR,
    };
    Failure::new(code, e.to_string())
}

pub fn keys(ctx: &super::commands::Context, args: KeysArgs) -> Result<(), Failure> {
    let config_dir = default_config_dir();
    if let Some(path) = args.check {
        keymap::check_file(&path, config_dir.as_deref()).map_err(keymap_failure)?;
        outln!("{}: ok", safe(&path.display().to_string()));
        return Ok(());
    }
    let map = Keymap::load(ctx.keymap.as_deref(), config_dir.as_deref()).map_err(keymap_failure)?;
    // A user's keymap file may hold anything in a description: shown with controls visible.
    if args.markdown {
        out!("{}", safe_multiline(&map.to_markdown()));
    } else {
        out!("{}", safe_multiline(&map.to_text()));
    }
    Ok(())
}

pub fn themes(ctx: &super::commands::Context, args: ThemesArgs) -> Result<(), Failure> {
    let config_dir = default_config_dir();
    if let Some(path) = args.check {
        theme::check_file(&path, config_dir.as_deref()).map_err(theme_failure)?;
        outln!("{}: ok", safe(&path.display().to_string()));
        return Ok(());
    }
    let active = ctx.theme.as_deref().unwrap_or("default");
    for name in theme::list_themes(config_dir.as_deref()) {
        let mark = if name == active { "*" } else { " " };
        outln!("{mark} {}", safe(&name));
    }
    Ok(())
}
