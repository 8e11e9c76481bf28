//! The which-key popup: while a key sequence is pending, what each next key would do.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{popup, truncate};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let rows = u16::try_from(state.continuations.len()).unwrap_or(u16::MAX);
    let height = rows.saturating_add(2).min(area.height);
    let width = 44.min(area.width);
    let rect = Rect::new(
        area.x + area.width - width,
        area.y + area.height - height,
        width,
        height,
    );
    let inner = popup(frame, rect, strings::WHICH_KEY_TITLE, theme);
    let room = usize::from(inner.width);
    let lines: Vec<Line> = state
        .continuations
        .iter()
        .map(|(seq, command)| {
            Line::from(vec![
                Span::styled(format!("{seq:<6} "), theme.style("help.key")),
                Span::styled(
                    truncate(command.description(), room.saturating_sub(7)),
                    theme.style("help.desc"),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
