//! The Today screen: open follow-ups due today or overdue, across all contacts, oldest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::list::due_label;
use crate::tui::view::{fit, pane_block, safe, truncate};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let today = &state.today_view;
    let title = if today.loaded {
        strings::today_title(
            today.items.len(),
            today.overdue(state.today),
            today.mine.then_some(safe(&state.agent).as_ref()),
        )
    } else {
        strings::TODAY_TITLE.to_string()
    };
    let block = pane_block(&title, true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if !today.loaded {
        frame.render_widget(Paragraph::new(strings::LOADING), inner);
        return;
    }
    if today.items.is_empty() {
        let empty = if today.mine {
            strings::TODAY_EMPTY_MINE
        } else {
            strings::TODAY_EMPTY
        };
        frame.render_widget(Paragraph::new(empty).style(theme.style("text.dim")), inner);
        return;
    }
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let offset = (today.selected + 1).saturating_sub(height);
    // Due (11) · who, with organisation (a third) · phone to call (18, when it fits) ·
    // assignee (12, when it fits) · what needs doing (the rest).
    let name_width = (width / 3).max(10);
    let phone_width = if width >= 70 { 18 } else { 0 };
    let assignee_width = if width >= 90 { 12 } else { 0 };
    let rest = width.saturating_sub(12 + name_width + phone_width + assignee_width);
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
        let dim = base.patch(theme.style("text.dim"));
        let who = if item.organization.is_empty() {
            item.contact_name.clone()
        } else {
            format!("{} · {}", item.contact_name, item.organization)
        };
        let mut spans = vec![
            Span::styled(fit(&due, 11), due_style),
            Span::styled(" ", base),
            Span::styled(fit(&truncate(&who, name_width - 1), name_width), base),
        ];
        if phone_width > 0 {
            let phone = item.phone.as_deref().unwrap_or("");
            spans.push(Span::styled(
                fit(&truncate(phone, phone_width - 1), phone_width),
                dim,
            ));
        }
        spans.push(Span::styled(
            fit(&truncate(&item.follow_up.what, rest), rest),
            base,
        ));
        if assignee_width > 0 {
            spans.push(Span::styled(
                fit(
                    &truncate(&item.follow_up.assignee, assignee_width - 1),
                    assignee_width,
                ),
                dim,
            ));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
