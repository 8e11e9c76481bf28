//! The first-run screen of an empty database: how to add a contact, import a file or load demo
//! data — never a blank grid. Keys come from the keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::command::Command;
use crate::tui::keymap::Keymap;
use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{key_for, pane_block};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keymap: &Keymap) {
    let block = pane_block(strings::WELCOME_TITLE, true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let contexts = state.contexts();
    let key = |command| key_for(keymap, &contexts, command).unwrap_or_default();
    let text = theme.style("text");
    let mut lines = vec![
        Line::from(Span::styled(
            strings::WELCOME_TITLE,
            theme.style("welcome.title"),
        )),
        Line::from(""),
        Line::from(Span::styled(strings::WELCOME_EMPTY, text)),
        Line::from(""),
        Line::from(Span::styled(
            strings::welcome_add(&key(Command::NewContact)),
            text,
        )),
        Line::from(Span::styled(
            strings::welcome_demo(&key(Command::LoadDemo)),
            text,
        )),
        Line::from(Span::styled(strings::WELCOME_IMPORT, text)),
        Line::from(""),
        Line::from(Span::styled(
            strings::welcome_help(&key(Command::Help)),
            text,
        )),
    ];
    if let Some(busy) = &state.busy {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            busy.clone(),
            theme.style("status.info"),
        )));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
