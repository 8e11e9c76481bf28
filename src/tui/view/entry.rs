//! The overlay that shows one timeline entry in full (long call notes, follow-up details).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::domain::Entry;
use crate::tui::state::{Overlay, State};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::timeline::entry_spans;
use crate::tui::view::{centered, layout, popup, safe};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    entry: &Entry,
    scroll: usize,
    state: &State,
    theme: &Theme,
) {
    let inner = popup(frame, outer_rect(area), strings::ENTRY_TITLE, theme);
    let paragraph = paragraph(entry, state, theme);
    let max = paragraph
        .line_count(inner.width)
        .saturating_sub(usize::from(inner.height));
    frame.render_widget(
        paragraph.scroll((u16::try_from(scroll.min(max)).unwrap_or(0), 0)),
        inner,
    );
}

fn outer_rect(area: Rect) -> Rect {
    centered(
        area,
        area.width.saturating_sub(4).min(90),
        area.height.saturating_sub(2),
    )
}

/// The furthest the open entry scrolls at this terminal size (its last wrapped line at the
/// bottom); 0 when no entry is open.
pub fn max_scroll(state: &State) -> usize {
    let Some(Overlay::Entry { entry, .. }) = &state.overlay else {
        return 0;
    };
    let areas = layout::areas(Rect::new(0, 0, state.width, state.height), state);
    let inner = Block::bordered().inner(outer_rect(areas.main));
    paragraph(entry, state, &Theme::plain())
        .line_count(inner.width)
        .saturating_sub(usize::from(inner.height))
}

fn paragraph(entry: &Entry, state: &State, theme: &Theme) -> Paragraph<'static> {
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
    Paragraph::new(lines)
        .style(theme.style("popup"))
        .wrap(Wrap { trim: false })
}
