//! The history overlay: who changed the selected contact, when, and what — the audit trail
//! newest first, each changed field as `before → after`, long values cut around where the two
//! sides differ (`store::audit::clip_change`) so the change itself stays visible.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::store::audit::clip_change;
use crate::tui::state::{HistoryView, State};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, popup, safe, truncate};

/// Changed fields shown per entry before "…and N more".
const FIELDS_PER_ENTRY: usize = 8;

pub fn render(frame: &mut Frame, area: Rect, history: &HistoryView, state: &State, theme: &Theme) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    let title = format!("{} — {}", strings::HISTORY_TITLE, safe(&history.name));
    let inner = popup(frame, rect, &title, theme);
    let lines = history_lines(history, state, theme, usize::from(inner.width));
    let max = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.style("popup"))
            .scroll((u16::try_from(history.scroll.min(max)).unwrap_or(0), 0)),
        inner,
    );
}

/// The furthest the history overlay scrolls at this terminal size (its last line at the
/// bottom); 0 when it is not open. Lines are cut, never wrapped, so they are counted as built.
pub fn max_scroll(state: &State) -> usize {
    let Some(crate::tui::state::Overlay::History(history)) = &state.overlay else {
        return 0;
    };
    let area =
        crate::tui::view::layout::areas(Rect::new(0, 0, state.width, state.height), state).main;
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    let inner = ratatui::widgets::Block::bordered().inner(rect);
    history_lines(history, state, &Theme::plain(), usize::from(inner.width))
        .len()
        .saturating_sub(usize::from(inner.height))
}

fn history_lines(
    history: &HistoryView,
    state: &State,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = Vec::new();
    match &history.entries {
        None => lines.push(Line::from(Span::styled(
            strings::HISTORY_LOADING,
            theme.style("text.dim"),
        ))),
        Some(entries) if entries.is_empty() => lines.push(Line::from(Span::styled(
            strings::HISTORY_EMPTY,
            theme.style("text.dim"),
        ))),
        Some(entries) => {
            for entry in entries {
                let at = entry
                    .at
                    .0
                    .to_zoned_datetime(state.zone.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string();
                let head = format!("{}  {}", safe(&entry.actor), safe(&entry.action));
                lines.push(Line::from(vec![
                    Span::styled(format!("{at}  "), theme.style("text.dim")),
                    Span::styled(
                        truncate(&head, width.saturating_sub(at.len() + 2)),
                        theme.style("detail.value"),
                    ),
                ]));
                let fields: Vec<_> = entry
                    .changes
                    .iter()
                    .flat_map(|c| c.readable_changes())
                    .collect();
                for (field, before, after) in fields.iter().take(FIELDS_PER_ENTRY) {
                    let label = format!("  {}: ", safe(field));
                    // Both sides share what is left of the line, less the arrow.
                    let side = width.saturating_sub(label.width() + 3) / 2;
                    let (b, a) = clip_change(&safe(before), &safe(after), side.max(8));
                    lines.push(Line::from(vec![
                        Span::styled(label, theme.style("form.label")),
                        Span::styled(
                            truncate(&format!("{b} → {a}"), side * 2 + 3),
                            theme.style("popup"),
                        ),
                    ]));
                }
                if fields.len() > FIELDS_PER_ENTRY {
                    lines.push(Line::from(Span::styled(
                        format!("  …and {} more", fields.len() - FIELDS_PER_ENTRY),
                        theme.style("text.dim"),
                    )));
                }
            }
        }
    }
    lines
}
