//! The help overlay, generated from the effective keymap: every command bound where the user is
//! (the overlay or pane, then global) with its keys and one-line description. Scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::command::{Command, Context};
use crate::tui::keymap::Keymap;
use crate::tui::state::State;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, fit, popup, truncate};

/// `(keys, command)` per context under the help overlay, keys of one command joined.
pub fn help_entries(state: &State, keymap: &Keymap) -> Vec<(Context, Vec<(String, Command)>)> {
    state
        .help_contexts()
        .into_iter()
        .map(|context| {
            let mut grouped: Vec<(String, Command)> = Vec::new();
            for (seq, command) in keymap.bindings(context) {
                match grouped.last_mut() {
                    Some((keys, last)) if *last == command => {
                        keys.push_str(", ");
                        keys.push_str(&seq.to_string());
                    }
                    _ => grouped.push((seq.to_string(), command)),
                }
            }
            (context, grouped)
        })
        .filter(|(_, grouped)| !grouped.is_empty())
        .collect()
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    scroll: usize,
    theme: &Theme,
    keymap: &Keymap,
) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(96),
        area.height.saturating_sub(2),
    );
    let inner = popup(frame, rect, strings::HELP_TITLE, theme);
    let width = usize::from(inner.width);
    let key_width = 18.min(width / 3);
    let mut lines = Vec::new();
    for (context, entries) in help_entries(state, keymap) {
        if !lines.is_empty() {
            lines.push(Line::from(""));
        }
        lines.push(Line::from(Span::styled(
            truncate(context.description(), width),
            theme.style("title.focused"),
        )));
        for (keys, command) in entries {
            lines.push(Line::from(vec![
                Span::styled(fit(&keys, key_width), theme.style("help.key")),
                Span::raw(" "),
                Span::styled(
                    truncate(command.description(), width.saturating_sub(key_width + 1)),
                    theme.style("help.desc"),
                ),
            ]));
        }
    }
    let max = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.style("popup"))
            .scroll((u16::try_from(scroll.min(max)).unwrap_or(0), 0)),
        inner,
    );
}
