//! The quick-log popup: summary first, channel switched with one key, optional direction,
//! outcome, satisfaction and follow-up, each with its error (if any) beside it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::Channel;
use crate::tui::command::{Command, Context};
use crate::tui::keymap::Keymap;
use crate::tui::state::{LogDraft, LogField};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, input_line, key_for, popup, safe};

const LABEL_WIDTH: usize = 14;

pub fn render(frame: &mut Frame, area: Rect, log: &LogDraft, theme: &Theme, keymap: &Keymap) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(88),
        12 + u16::from(log.answers.is_some()),
    );
    let heading = if log.editing.is_some() {
        strings::EDIT_LOG_TITLE
    } else {
        strings::LOG_TITLE
    };
    let title = format!("{heading} — {}", safe(&log.contact_name));
    let inner = popup(frame, rect, &title, theme);
    let width = usize::from(inner.width);
    let label = theme.style("form.label");
    let contexts = [Context::Log, Context::Global];
    let channel_keys = [Command::PrevChannel, Command::NextChannel]
        .iter()
        .filter_map(|c| key_for(keymap, &contexts, *c))
        .collect::<Vec<_>>()
        .join("/");
    let channels: Vec<Span> = Channel::ALL
        .iter()
        .flat_map(|c| {
            let style = if *c == log.channel {
                theme.style("list.selected")
            } else {
                theme.style(&format!("timeline.channel.{}", c.name()))
            };
            [Span::styled(c.name().to_string(), style), Span::raw(" ")]
        })
        .collect();
    let mut channel_line = vec![Span::styled(
        format!("{:<LABEL_WIDTH$}", strings::FIELD_CHANNEL),
        label,
    )];
    channel_line.extend(channels);
    let used: usize = LABEL_WIDTH
        + Channel::ALL
            .iter()
            .map(|c| c.name().len() + 1)
            .sum::<usize>();
    if used + channel_keys.len() + 2 <= width {
        channel_line.push(Span::styled(
            format!("({channel_keys})"),
            theme.style("text.dim"),
        ));
    }
    let mut lines = vec![Line::from(channel_line)];
    for (index, field) in LogField::ALL.iter().enumerate() {
        let (name, placeholder) = match field {
            LogField::Summary => (strings::FIELD_SUMMARY, ""),
            LogField::Direction => (strings::FIELD_DIRECTION, strings::PLACEHOLDER_DIRECTION),
            LogField::Outcome => (strings::FIELD_OUTCOME, strings::PLACEHOLDER_OUTCOME),
            LogField::Satisfaction => (
                strings::FIELD_SATISFACTION,
                strings::PLACEHOLDER_SATISFACTION,
            ),
            LogField::FollowUp => (strings::FIELD_FOLLOW_UP, strings::PLACEHOLDER_FOLLOW_UP),
        };
        let focused = index == log.focus;
        let marker = if focused { "▸" } else { " " };
        let mut spans = vec![Span::styled(
            format!("{marker}{name:<w$}", w = LABEL_WIDTH - 1),
            label,
        )];
        let input = &log.inputs[index];
        let room = width.saturating_sub(LABEL_WIDTH);
        if input.is_empty() && !focused {
            spans.push(Span::styled(
                placeholder.to_string(),
                theme.style("text.dim"),
            ));
        } else {
            spans.extend(input_line(input, room, focused, theme.style("form.input")).spans);
        }
        lines.push(Line::from(spans));
        if let Some(error) = log.errors.get(field.key()) {
            lines.push(Line::from(Span::styled(
                format!("{:LABEL_WIDTH$}{}", "", safe(error)),
                theme.style("form.error"),
            )));
        }
    }
    if let Some(f) = &log.answers {
        let toggle = key_for(keymap, &contexts, Command::ToggleCloses).unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("{:<LABEL_WIDTH$}", strings::FIELD_CLOSES), label),
            Span::styled(safe(&f.what).to_string(), theme.style("followup.due")),
            Span::styled(format!(" ({toggle}: keep open)"), theme.style("text.dim")),
        ]));
    }
    if !log.body.is_empty() {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<LABEL_WIDTH$}", strings::FIELD_NOTE), label),
            Span::styled(
                strings::note_lines(log.body.lines().count()),
                theme.style("text.dim"),
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).style(theme.style("popup")), inner);
}
