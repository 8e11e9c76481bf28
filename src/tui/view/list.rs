//! The contact list pane: name, organisation, last contact (relative) and next follow-up
//! (overdue highlighted); for customers, from 120 columns, their R, F and M scores and on wide
//! screens their segment. Draws only the visible window of rows from the row cache.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::domain::{Day, time};
use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{fit, pane_block, safe};

const LAST_WIDTH: usize = 5;
const NEXT_WIDTH: usize = 10;
/// R, F and M scores, e.g. `545`.
const RFM_WIDTH: usize = 3;
const SEGMENT_WIDTH: usize = 10;

/// How a due day reads in the list, and whether it is overdue.
pub fn due_label(due: Day, today: Day) -> (String, bool) {
    let days = due.number() - today.number();
    match days {
        d if d < 0 => (strings::overdue_by(-d), true),
        0 => (strings::DUE_TODAY.to_string(), false),
        d => (format!("+{d}d"), false),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, focused: bool) {
    let list = &state.list;
    let position = if list.ids.is_empty() {
        String::new()
    } else {
        format!(" {}", strings::count_line(list.selected + 1, list.total))
    };
    let title = match &list.filter {
        Some(filter) => strings::filtered_list_title(&safe(&filter.query), &position),
        None => format!("{}{position}", strings::LIST_TITLE),
    };
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let rows = usize::from(inner.height).saturating_sub(1);
    let end = (list.offset + rows).min(list.ids.len());
    // Customers' RFM scores from 120 columns (three panes), their segment on wide screens;
    // neither when nobody on screen has bought anything.
    let customers = list.ids[list.offset.min(end)..end]
        .iter()
        .any(|id| list.rows.get(id).is_some_and(|r| r.rfm.is_some()));
    let rfm_width = if customers && width >= 50 {
        RFM_WIDTH
    } else {
        0
    };
    let segment_width = if customers && width >= 90 {
        SEGMENT_WIDTH
    } else {
        0
    };
    // Narrow panes (an 80-column terminal) drop the last-contact column, never the
    // organisation; wide ones add what tells namesakes apart (email · phone · city).
    let last_width = if width >= 50 { LAST_WIDTH } else { 0 };
    let fixed = last_width
        + NEXT_WIDTH
        + 2
        + usize::from(last_width > 0)
        + rfm_width
        + usize::from(rfm_width > 0)
        + segment_width
        + usize::from(segment_width > 0);
    let flexible = width.saturating_sub(fixed);
    let (name_width, org_width, detail_width) = if width >= 90 {
        let name = flexible * 30 / 100;
        let org = flexible * 25 / 100;
        (name, org, flexible - name - org)
    } else if width >= 30 {
        let name = flexible * 55 / 100;
        (name, flexible - name, 0)
    } else {
        (flexible + 1, 0, 0)
    };
    let columns = |name: &str,
                   org: &str,
                   detail: &str,
                   rfm: &str,
                   segment: &str,
                   last: &str,
                   next: &str|
     -> String {
        let mut row = fit(name, name_width);
        if org_width > 0 {
            row.push(' ');
            row.push_str(&fit(org, org_width.saturating_sub(1)));
        }
        if detail_width > 0 {
            row.push(' ');
            row.push_str(&fit(detail, detail_width.saturating_sub(1)));
        }
        if rfm_width > 0 {
            row.push(' ');
            row.push_str(&fit(rfm, rfm_width));
        }
        if segment_width > 0 {
            row.push(' ');
            row.push_str(&fit(segment, segment_width));
        }
        if last_width > 0 {
            row.push(' ');
            row.push_str(&fit(last, last_width));
        }
        row.push(' ');
        row.push_str(&fit(next, NEXT_WIDTH));
        row
    };
    let mut lines = vec![Line::from(Span::styled(
        columns(
            strings::COLUMN_NAME,
            strings::COLUMN_ORG,
            strings::COLUMN_DETAILS,
            strings::COLUMN_RFM,
            strings::COLUMN_SEGMENT,
            strings::COLUMN_LAST,
            strings::COLUMN_NEXT,
        ),
        theme.style("list.header"),
    ))];
    for index in list.offset.min(end)..end {
        let id = list.ids[index];
        let selected = index == list.selected;
        let base = if selected {
            theme.style("list.selected")
        } else {
            theme.style("list")
        };
        let Some(row) = list.rows.get(&id) else {
            lines.push(Line::from(Span::styled(fit(strings::LOADING, width), base)));
            continue;
        };
        let last = row
            .last_contact
            .map(|at| time::relative(at, state.now))
            .unwrap_or_default();
        let (next, overdue) = row
            .next_due
            .map_or((String::new(), false), |d| due_label(d, state.today));
        let detail = if detail_width > 0 {
            crate::tui::search_bridge::distinguishing(row).join(strings::DETAIL_SEPARATOR)
        } else {
            String::new()
        };
        let (rfm, segment) = row.rfm.map_or((String::new(), ""), |s| {
            (format!("{}{}{}", s.r, s.f, s.m), s.segment.short_label())
        });
        let head = columns(
            &row.name,
            &row.organization,
            &detail,
            &rfm,
            segment,
            &last,
            "",
        );
        let head = head[..head.len() - NEXT_WIDTH].to_string();
        let used = head.width() + NEXT_WIDTH;
        let next_style = if overdue {
            base.patch(theme.style("list.overdue"))
        } else {
            base
        };
        let mut spans = vec![
            Span::styled(head, base),
            Span::styled(fit(&next, NEXT_WIDTH), next_style),
        ];
        if used < width {
            spans.push(Span::styled(" ".repeat(width - used), base));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
