//! The help overlay, generated from the effective keymap: every command bound where the user is
//! (the overlay or pane, then global) with its keys and one-line description. Scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::tui::command::{Command, Context};
use crate::tui::keymap::Keymap;
use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, fit, layout, popup, truncate};

/// `(keys, command)` per context for every context of the keymap, keys of one command joined:
/// what the help overlay lists. The app and the test driver store it in the state once
/// ([`State::help_keys`]) so `update` knows how long help is without the keymap.
pub fn key_index(keymap: &Keymap) -> Vec<(Context, Vec<(String, Command)>)> {
    Context::ALL
        .iter()
        .map(|context| {
            let mut grouped: Vec<(String, Command)> = Vec::new();
            for (seq, command) in keymap.bindings(*context) {
                match grouped.last_mut() {
                    Some((keys, last)) if *last == command => {
                        keys.push_str(", ");
                        keys.push_str(&seq.to_string());
                    }
                    _ => grouped.push((seq.to_string(), command)),
                }
            }
            (*context, grouped)
        })
        .collect()
}

/// `(keys, command)` per context under the help overlay.
pub fn help_entries(state: &State) -> Vec<(Context, &[(String, Command)])> {
    state
        .help_contexts()
        .into_iter()
        .filter_map(|context| {
            state
                .help_keys
                .iter()
                .find(|(c, _)| *c == context)
                .map(|(c, grouped)| (*c, grouped.as_slice()))
        })
        .filter(|(_, grouped)| !grouped.is_empty())
        .collect()
}

/// Where the help text goes inside the main area (inside the popup's border).
fn inner_rect(area: Rect) -> Rect {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(96),
        area.height.saturating_sub(2),
    );
    Block::bordered().inner(rect)
}

/// How many lines help has: a title per context, its commands, a blank line between contexts.
fn line_count(state: &State) -> usize {
    let entries = help_entries(state);
    entries.iter().map(|(_, e)| e.len() + 1).sum::<usize>() + entries.len().saturating_sub(1)
}

/// The furthest help scrolls at this terminal size (its last line at the bottom).
pub fn max_scroll(state: &State) -> usize {
    let areas = layout::areas(Rect::new(0, 0, state.width, state.height), state);
    line_count(state).saturating_sub(usize::from(inner_rect(areas.main).height))
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, scroll: usize, theme: &Theme) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(96),
        area.height.saturating_sub(2),
    );
    let inner = popup(frame, rect, strings::HELP_TITLE, theme);
    debug_assert_eq!(inner, inner_rect(area));
    let width = usize::from(inner.width);
    let key_width = 18.min(width / 3);
    let mut lines = Vec::new();
    for (context, entries) in help_entries(state) {
        if !lines.is_empty() {
            lines.push(Line::from(""));
        }
        lines.push(Line::from(Span::styled(
            truncate(context.description(), width),
            theme.style("title.focused"),
        )));
        for (keys, command) in entries {
            let keys = keys.as_str();
            let command = *command;
            lines.push(Line::from(vec![
                Span::styled(fit(keys, key_width), theme.style("help.key")),
                Span::raw(" "),
                Span::styled(
                    truncate(command.description(), width.saturating_sub(key_width + 1)),
                    theme.style("help.desc"),
                ),
            ]));
        }
    }
    debug_assert_eq!(lines.len(), line_count(state));
    let max = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.style("popup"))
            .scroll((u16::try_from(scroll.min(max)).unwrap_or(0), 0)),
        inner,
    );
}
