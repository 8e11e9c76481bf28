//! The full-screen interface.

pub mod command;
pub mod data_file;
pub mod keymap;
pub mod placeholder;
pub mod theme;
