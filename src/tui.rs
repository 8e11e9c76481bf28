//! The full-screen interface. Data flows one way: terminal event → keymap → [`Msg`] →
//! [`update`](update::update) → [`Effect`](effect::Effect)s → effect runner → result messages;
//! [`view`](view::view) draws the [`State`](state::State) and never writes anything.
//!
//! - `state`, `msg`, `update`, `input`: the model and its only writer (no I/O).
//! - `effect`: effects and the store half of the runner; `search_bridge`: the search worker seam.
//! - `view/`: one file per pane or overlay; `strings`: every user-visible sentence.
//! - `app`: the event loop with threads; `terminal`: raw mode / alternate screen / paste guard,
//!   panic hook and signal handling; `driver`: the same loop without a terminal, for tests.
//! - `command`, `keymap`, `theme`, `data_file`: commands, keymaps and themes as data.

pub mod app;
pub mod command;
pub mod data_file;
pub mod driver;
pub mod effect;
pub mod input;
pub mod keymap;
pub mod msg;
pub mod search_bridge;
pub mod state;
pub mod strings;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;

use crate::store::StoreError;

pub use keymap::Keymap;
pub use theme::Theme;

/// What the interface needs besides the store: who acts, and the effective keymap and theme
/// (loaded and checked before the screen is taken over).
pub struct TuiOptions {
    pub keymap: Keymap,
    pub theme: Theme,
    /// An OpenSSH forced-command session: no $EDITOR, no suspend (no way to a shell).
    pub restricted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("{}", strings::REFUSE_NOT_A_TERMINAL)]
    NotATerminal,
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Runs the full-screen interface until the user quits. Refuses (before touching the terminal)
/// when stdout is not a terminal or `TERM=dumb`.
pub fn run(store: crate::api::Db, options: TuiOptions) -> Result<(), TuiError> {
    app::run(store, options)
}
