//! rolo — a keyboard-first CRM that lives in the terminal.
//!
//! The core (`domain`, `store`, `search`, `interop`) knows nothing about terminals; the CLI
//! (`cli`) and the full-screen interface (`tui`) both sit on it.

pub mod analytics;
pub mod api;
pub mod cli;
pub mod client;
pub mod config;
pub mod demo;
pub mod domain;
#[doc(hidden)]
pub mod fuzz;
pub mod interop;
pub mod memory;
pub mod search;
pub mod server;
pub mod store;
pub mod tui;
