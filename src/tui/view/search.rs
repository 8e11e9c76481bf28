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
    // The separator carries the result count once there are results.
    let count = if search.hits.is_empty() {
        String::new()
    } else {
        let capped = search.hits.len() >= crate::tui::search_bridge::LIMIT;
        strings::search_count(search.hits.len(), capped)
    };
    let rule = width.saturating_sub(count.width() + 2);
    let mut lines = vec![
        input_line(&search.input, width, true, theme.style("search.input")),
        Line::from(vec![
            Span::styled("─".repeat(rule.min(width)), theme.style("popup.border")),
            Span::styled(
                truncate(&count, width - rule.min(width)),
                theme.style("text.dim"),
            ),
            Span::styled(
                "─".repeat(width.saturating_sub(rule + count.width())),
                theme.style("popup.border"),
            ),
        ]),
    ];
    let rows = usize::from(inner.height).saturating_sub(2);
    if !search.input.is_empty() && search.hits.is_empty() {
        // A query that does not parse (a filter half typed, `r:9`) says what it expects.
        let line = match crate::search::Query::parse(search.input.text()) {
            Err(e) => Line::from(Span::styled(
                truncate(&e.to_string(), width),
                theme.style("status.error"),
            )),
            Ok(_) if search.answered == search.generation => Line::from(Span::styled(
                strings::SEARCH_NO_RESULTS,
                theme.style("text.dim"),
            )),
            Ok(_) => Line::from(Span::styled(
                strings::SEARCH_INDEXING,
                theme.style("text.dim"),
            )),
        };
        lines.push(line);
    }
    let offset = (search.selected + 1).saturating_sub(rows);
    // Name, organisation, then what tells namesakes apart (email · phone · city, the matched
    // value first and highlighted); narrow overlays drop the details before the organisation.
    let (name_width, org_width) = if width >= 60 {
        (width * 35 / 100, width * 25 / 100)
    } else {
        (width * 55 / 100, width)
    };
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
        let dim = base.patch(theme.style("text.dim"));
        let org = fit(
            &safe(&hit.organization),
            org_width.min(width.saturating_sub(used)),
        );
        used += org.width();
        spans.push(Span::styled(org, dim));
        for (n, part) in hit.details.iter().enumerate() {
            let room = width.saturating_sub(used);
            let sep = if n == 0 {
                " "
            } else {
                strings::DETAIL_SEPARATOR
            };
            if room <= sep.width() {
                break;
            }
            let text = truncate(&safe(part), room - sep.width());
            used += sep.width() + text.width();
            spans.push(Span::styled(sep, dim));
            let style = if n == 0 && hit.matched_detail {
                mark
            } else {
                dim
            };
            spans.push(Span::styled(text, style));
        }
        if used < width {
            spans.push(Span::styled(" ".repeat(width - used), base));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
