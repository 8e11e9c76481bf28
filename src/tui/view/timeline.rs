//! The timeline pane: interactions, purchases and follow-ups, newest first, one line each with
//! channel (styled per channel), direction, agent, outcome and satisfaction. `open` shows an
//! entry in full (see `entry.rs`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::domain::{Entry, Money, time};
use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::list::due_label;
use crate::tui::view::{fit, pane_block, truncate};

/// The spans of one timeline line (without the age column).
pub fn entry_spans(entry: &Entry, state: &State, theme: &Theme) -> Vec<(String, Style)> {
    match entry {
        Entry::Interaction(i) => {
            let mut spans = vec![
                (
                    format!("{:<7} ", i.channel.name()),
                    theme.style(&format!("timeline.channel.{}", i.channel.name())),
                ),
                (
                    format!("{:<3} ", i.direction.name()),
                    theme.style("timeline.direction"),
                ),
                (i.summary.clone(), theme.style("timeline")),
            ];
            if let Some(outcome) = i.outcome {
                spans.push((format!(" [{outcome}]"), theme.style("timeline.direction")));
            }
            if let Some(s) = i.satisfaction {
                spans.push((
                    format!(" {}", "★".repeat(usize::from(s.min(5)))),
                    theme.style("timeline.satisfaction"),
                ));
            }
            spans.push((format!(" — {}", i.agent), theme.style("timeline.agent")));
            spans
        }
        Entry::FollowUp(f) => {
            let (due, overdue) = due_label(f.due, state.today);
            let (mark, style) = if !f.is_open() {
                ("✓".to_string(), theme.style("text.dim"))
            } else if overdue {
                (due, theme.style("followup.overdue"))
            } else {
                (format!("{} {due}", f.due), theme.style("followup.due"))
            };
            vec![
                ("follow  ".to_string(), theme.style("followup")),
                (format!("{mark} "), style),
                (f.what.clone(), theme.style("timeline")),
            ]
        }
        Entry::Purchase(p) => vec![
            ("buy     ".to_string(), theme.style("timeline.channel")),
            (
                format!(
                    "{} ×{} {}",
                    p.product,
                    p.quantity,
                    Money {
                        minor: p.amount,
                        currency: p.currency.clone()
                    }
                ),
                theme.style("timeline"),
            ),
        ],
    }
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    focused: bool,
    other_tab: &str,
) {
    let block = pane_block(
        &format!("{}{other_tab}", strings::TIMELINE_TITLE),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(view) = state.selected_detail() else {
        return;
    };
    if view.timeline.is_empty() {
        frame.render_widget(
            Paragraph::new(strings::EMPTY_TIMELINE).style(theme.style("text.dim")),
            inner,
        );
        return;
    }
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let selected = state.timeline_selected.min(view.timeline.len() - 1);
    let offset = (selected + 1).saturating_sub(height);
    let mut lines = Vec::new();
    for (index, entry) in view.timeline.iter().enumerate().skip(offset).take(height) {
        let is_selected = focused && index == selected;
        let age = fit(&time::relative(entry.at(), state.now), 5);
        let mut used = age.width() + 1;
        let mut spans = vec![Span::styled(format!("{age} "), theme.style("text.dim"))];
        for (text, style) in entry_spans(entry, state, theme) {
            let room = width.saturating_sub(used);
            if room == 0 {
                break;
            }
            let piece = truncate(&text, room);
            used += piece.width();
            spans.push(Span::styled(piece, style));
        }
        if width > used {
            spans.push(Span::raw(" ".repeat(width - used)));
        }
        let mut line = Line::from(spans);
        if is_selected {
            line = line.patch_style(theme.style("list.selected"));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
