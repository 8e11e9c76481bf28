//! The full-screen interface.

pub mod command;
pub mod keymap;
pub mod theme;
