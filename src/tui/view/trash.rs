//! The trash overlay: deleted contacts, most recent first, with when and by whom, and how much
//! history comes back with each; the restore key brings the selected one back.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::command::{Command, Context};
use crate::tui::keymap::Keymap;
use crate::tui::state::{State, TrashView};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, fit, key_for, popup, safe, truncate};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    trash: &TrashView,
    theme: &Theme,
    keymap: &Keymap,
) {
    let wanted = u16::try_from(trash.items.len().max(1) + 4).unwrap_or(u16::MAX);
    let rect = centered(area, area.width.saturating_sub(4).min(100), wanted);
    let inner = popup(frame, rect, strings::TRASH_TITLE, theme);
    if inner.height == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let contexts = [Context::Trash];
    let restore = key_for(keymap, &contexts, Command::RestoreContact).unwrap_or_default();
    let close = key_for(keymap, &contexts, Command::Cancel).unwrap_or_default();
    let mut lines = Vec::new();
    let rows = usize::from(inner.height).saturating_sub(2).max(1);
    if !trash.loaded {
        lines.push(Line::from(Span::styled(
            strings::TRASH_LOADING,
            theme.style("text.dim"),
        )));
    } else if trash.items.is_empty() {
        lines.push(Line::from(Span::styled(
            strings::TRASH_EMPTY,
            theme.style("popup"),
        )));
    } else {
        let offset = (trash.selected + 1).saturating_sub(rows);
        for (index, row) in trash.items.iter().enumerate().skip(offset).take(rows) {
            let style = if index == trash.selected {
                theme.style("list.selected")
            } else {
                theme.style("popup")
            };
            let id = format!("{:>6}  ", row.id);
            let text = strings::trash_row(
                &safe(&row.name),
                &row.deleted_at
                    .0
                    .to_zoned_datetime(state.zone.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string(),
                &safe(&row.deleted_by),
                row.history,
            );
            let room = width.saturating_sub(id.len());
            lines.push(Line::from(vec![
                Span::styled(id, style.patch(theme.style("text.dim"))),
                Span::styled(fit(&text, room), style),
            ]));
        }
    }
    while lines.len() < rows {
        lines.push(Line::from(""));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        truncate(&strings::trash_keys(&restore, &close), width),
        theme.style("help.key"),
    )));
    frame.render_widget(Paragraph::new(lines).style(theme.style("popup")), inner);
}
