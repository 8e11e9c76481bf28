//! The status bar (mode, the latest message, key hints from the effective keymap) and the
//! one-pane switcher line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::tui::command::{Command, Context};
use crate::tui::keymap::Keymap;
use crate::tui::state::{Overlay, Pane, Screen, State, Tone};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{key_for, safe, truncate};

fn mode(state: &State) -> &'static str {
    match &state.overlay {
        Some(Overlay::Search(_)) => strings::MODE_SEARCH,
        Some(Overlay::Log(_)) => strings::MODE_LOG,
        Some(Overlay::Form(_) | Overlay::Reschedule { .. } | Overlay::NewFollowUp(_)) => {
            strings::MODE_FORM
        }
        Some(Overlay::Help { .. } | Overlay::Entry { .. } | Overlay::History(_)) => {
            strings::MODE_HELP
        }
        Some(Overlay::Confirm(_) | Overlay::Discard { .. } | Overlay::SharedOnAdd(_)) => {
            strings::MODE_CONFIRM
        }
        Some(Overlay::MergeChoice(_) | Overlay::Merge(_)) => strings::MODE_MERGE,
        Some(Overlay::Trash(_)) => strings::MODE_TRASH,
        None => match (state.screen, state.focus) {
            (Screen::Today, _) => strings::MODE_TODAY,
            (Screen::Dashboard, _) => strings::MODE_DASHBOARD,
            (_, Pane::List) => strings::MODE_LIST,
            (_, Pane::Detail) => strings::MODE_DETAIL,
            (_, Pane::Timeline) => strings::MODE_TIMELINE,
        },
    }
}

/// The hints worth showing where the user is.
fn hint_commands(context: Context) -> &'static [(Command, &'static str)] {
    match context {
        Context::Search => &[
            (Command::Open, strings::HINT_OPEN),
            (Command::Cancel, strings::HINT_CANCEL),
        ],
        Context::Log => &[
            (Command::Submit, strings::HINT_SAVE),
            (Command::NextChannel, strings::HINT_CHANNEL),
            (Command::Cancel, strings::HINT_CANCEL),
        ],
        Context::Form => &[
            (Command::Submit, strings::HINT_SAVE),
            (Command::Cancel, strings::HINT_CANCEL),
        ],
        Context::Today => &[
            (Command::MarkDone, strings::HINT_DONE),
            (Command::Reschedule, strings::HINT_RESCHEDULE),
            (Command::QuickLog, strings::HINT_LOG),
            (Command::Open, strings::HINT_OPEN),
            (Command::Help, strings::HINT_HELP),
        ],
        Context::Help | Context::Confirm => &[(Command::Cancel, strings::HINT_CANCEL)],
        Context::Dashboard => &[
            (Command::Open, strings::HINT_OPEN),
            (Command::NextPanel, strings::HINT_PANEL),
            (Command::Help, strings::HINT_HELP),
            (Command::Back, strings::HINT_BACK),
        ],
        Context::Trash => &[
            (Command::RestoreContact, strings::HINT_RESTORE),
            (Command::Cancel, strings::HINT_CANCEL),
        ],
        Context::Merge => &[
            (Command::MergePickLeft, strings::HINT_LEFT),
            (Command::MergePickRight, strings::HINT_RIGHT),
            (Command::MergePickBoth, strings::HINT_BOTH),
            (Command::MergeSwap, strings::HINT_SWAP),
            (Command::Submit, strings::HINT_MERGE),
            (Command::Cancel, strings::HINT_CANCEL),
        ],
        _ => &[
            (Command::Help, strings::HINT_HELP),
            (Command::Search, strings::HINT_SEARCH),
            (Command::QuickLog, strings::HINT_LOG),
            (Command::Quit, strings::HINT_QUIT),
        ],
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keymap: &Keymap) {
    let contexts = state.contexts();
    let mode = format!(" {} ", mode(state));
    let hints: Vec<String> = hint_commands(contexts[0])
        .iter()
        .filter_map(|(command, what)| {
            key_for(keymap, &contexts, *command).map(|keys| strings::hint(&keys, what))
        })
        .collect();
    let hints = hints.join("  ");
    let width = usize::from(area.width);
    let (message, style) = match (&state.busy, &state.status) {
        (Some(busy), _) => (busy.clone(), theme.style("status.info")),
        (None, Some(status)) => (
            status.text.clone(),
            match status.tone {
                Tone::Info => theme.style("status.info"),
                Tone::Error => theme.style("status.error"),
            },
        ),
        (None, None) => (String::new(), theme.style("status.bar")),
    };
    let room = width.saturating_sub(mode.width() + 1);
    let message = truncate(&safe(&message), room);
    let after = room.saturating_sub(message.width());
    let hints = if hints.width() + 2 <= after {
        format!("{}{hints}", " ".repeat(after - hints.width()))
    } else {
        " ".repeat(after)
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(mode, theme.style("status.mode")),
            Span::styled(" ", theme.style("status.bar")),
            Span::styled(message, style),
            Span::styled(hints, theme.style("status.hint")),
        ]))
        .style(theme.style("status.bar")),
        area,
    );
}

/// Below two-pane width: which pane is shown and the keys for the others.
pub fn switcher(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keymap: &Keymap) {
    let contexts = state.contexts();
    let mut spans = Vec::new();
    for (pane, command, title) in [
        (Pane::List, Command::ShowList, strings::LIST_TITLE),
        (Pane::Detail, Command::ShowDetail, strings::DETAIL_TITLE),
        (
            Pane::Timeline,
            Command::ShowTimeline,
            strings::TIMELINE_TITLE,
        ),
    ] {
        let keys = key_for(keymap, &contexts, command).unwrap_or_default();
        let style = if pane == state.focus {
            theme.style("list.selected")
        } else {
            theme.style("status.hint")
        };
        spans.push(Span::styled(format!(" {keys} {title} "), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
