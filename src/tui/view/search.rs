//! The search overlay: the query, then the hits with matched characters highlighted
//! (`search.match`). Results arrive asynchronously; this only draws what has arrived.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::tui::state::SearchState;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, fit, input_line, popup, safe, truncate};

pub fn render(frame: &mut Frame, area: Rect, search: &SearchState, theme: &Theme) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(80),
        area.height.saturating_sub(2).max(3),
    );
    let inner = popup(frame, rect, strings::SEARCH_TITLE, theme);
    if inner.height == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let mut lines = vec![
        input_line(&search.input, width, true, theme.style("search.input")),
        Line::from(Span::styled("─".repeat(width), theme.style("popup.border"))),
    ];
    let rows = usize::from(inner.height).saturating_sub(2);
    if !search.input.is_empty() && search.hits.is_empty() {
        let note = if search.answered == search.generation {
            strings::SEARCH_NO_RESULTS
        } else {
            strings::SEARCH_INDEXING
        };
        lines.push(Line::from(Span::styled(note, theme.style("text.dim"))));
    }
    let offset = (search.selected + 1).saturating_sub(rows);
    let name_width = width * 55 / 100;
    for (index, hit) in search.hits.iter().enumerate().skip(offset).take(rows) {
        let base = if index == search.selected {
            theme.style("list.selected")
        } else {
            theme.style("popup")
        };
        let mark = base.patch(theme.style("search.match"));
        let mut spans = Vec::new();
        let mut used = 0;
        let name = truncate(&hit.name, name_width);
        // Highlights index the stored name's chars; `safe` maps each char to one char, so
        // indices still line up (a cut name just ends early).
        for (i, c) in name.chars().enumerate() {
            let style = if hit.highlights.contains(&i) {
                mark
            } else {
                base
            };
            spans.push(Span::styled(c.to_string(), style));
        }
        used += name.width();
        let pad = name_width.saturating_sub(used) + 1;
        spans.push(Span::styled(" ".repeat(pad), base));
        used += pad;
        spans.push(Span::styled(
            fit(&safe(&hit.organization), width.saturating_sub(used)),
            base.patch(theme.style("text.dim")),
        ));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
