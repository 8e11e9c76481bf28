//! The overlay that shows one timeline entry in full (long call notes, follow-up details).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::Entry;
use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::timeline::entry_spans;
use crate::tui::view::{centered, popup, safe};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    entry: &Entry,
    scroll: usize,
    state: &State,
    theme: &Theme,
) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(90),
        area.height.saturating_sub(2),
    );
    let inner = popup(frame, rect, strings::ENTRY_TITLE, theme);
    let at = entry
        .at()
        .0
        .to_zoned_datetime(state.zone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let mut lines = vec![Line::from(Span::styled(at, theme.style("text.dim")))];
    lines.push(Line::from(
        entry_spans(entry, state, theme)
            .into_iter()
            .map(|(text, style)| Span::styled(safe(&text).into_owned(), style))
            .collect::<Vec<_>>(),
    ));
    lines.push(Line::from(""));
    let body = match entry {
        Entry::Interaction(i) => i.body.clone(),
        Entry::FollowUp(f) => format!("{} — {}", f.due, f.assignee),
        Entry::Purchase(p) => format!("{} · {}", p.channel, p.location),
    };
    for line in body.lines() {
        lines.push(Line::from(safe(line).into_owned()));
    }
    let max = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.style("popup"))
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll.min(max)).unwrap_or(0), 0)),
        inner,
    );
}
