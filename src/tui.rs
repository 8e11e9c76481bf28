//! The full-screen interface.

pub mod command;
pub mod keymap;
pub mod placeholder;
pub mod theme;
