//! The Today screen: open follow-ups due today or overdue, across all contacts, oldest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::list::due_label;
use crate::tui::view::{fit, pane_block, truncate};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = pane_block(strings::TODAY_TITLE, true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let today = &state.today_view;
    if !today.loaded {
        frame.render_widget(Paragraph::new(strings::LOADING), inner);
        return;
    }
    if today.items.is_empty() {
        frame.render_widget(
            Paragraph::new(strings::TODAY_EMPTY).style(theme.style("text.dim")),
            inner,
        );
        return;
    }
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let offset = (today.selected + 1).saturating_sub(height);
    let name_width = (width / 3).max(10);
    let mut lines = Vec::new();
    for (index, item) in today.items.iter().enumerate().skip(offset).take(height) {
        let (due, overdue) = due_label(item.follow_up.due, state.today);
        let base = if index == today.selected {
            theme.style("list.selected")
        } else {
            theme.style("list")
        };
        let due_style = if overdue {
            base.patch(theme.style("followup.overdue"))
        } else {
            base.patch(theme.style("followup.due"))
        };
        let rest = width.saturating_sub(name_width + 12);
        lines.push(Line::from(vec![
            Span::styled(fit(&due, 11), due_style),
            Span::styled(" ", base),
            Span::styled(fit(&item.contact_name, name_width), base),
            Span::styled(fit(&truncate(&item.follow_up.what, rest), rest), base),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
