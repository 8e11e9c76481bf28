//! A minimal full-screen welcome until the full interface lands: proves the terminal set-up
//! and restore path, shows what is in the database and how to use the CLI meanwhile.

use std::io::{self, IsTerminal};

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::store::Store;

pub fn run(store: &Store) -> io::Result<()> {
    if !io::stdout().is_terminal() || std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        return Err(io::Error::other(
            "rolo's full-screen interface needs a terminal; use the CLI instead (`rolo --help`)",
        ));
    }
    let count = store.contact_count().map_err(io::Error::other)?;
    let mut terminal = ratatui::init();
    let result = (|| -> io::Result<()> {
        loop {
            terminal.draw(|frame| {
                let text = vec![
                    Line::from("rolo"),
                    Line::from(""),
                    Line::from(format!("{count} contacts in {}", store.path().display())),
                    Line::from(""),
                    Line::from("The full-screen interface is on its way. Meanwhile:"),
                    Line::from("  rolo demo --contacts 200     load demo data"),
                    Line::from("  rolo add --name \"Ana\" --email ana@example.com"),
                    Line::from("  rolo search ana"),
                    Line::from(""),
                    Line::from("Press q to quit."),
                ];
                frame.render_widget(
                    Paragraph::new(text)
                        .wrap(Wrap { trim: false })
                        .block(Block::bordered()),
                    frame.area(),
                );
            })?;
            if let Event::Key(k) = event::read()?
                && k.kind == KeyEventKind::Press
                && (k.code == KeyCode::Char('q')
                    || (k.code == KeyCode::Char('c')
                        && k.modifiers.contains(KeyModifiers::CONTROL)))
            {
                return Ok(());
            }
        }
    })();
    ratatui::restore();
    result
}
