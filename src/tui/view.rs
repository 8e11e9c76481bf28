//! Pure rendering: `view(frame, state, theme, keymap)` draws the state and never writes the
//! store or the state. One file per pane or overlay under `view/`. Every string that came from
//! data passes through [`safe`] (control characters drawn visibly) and is cut by display width
//! ([`fit`]) so wide and combining characters keep columns aligned. Colours come only from
//! theme slots; key names only from the keymap.

mod confirm;
pub mod dashboard;
pub mod detail;
pub mod entry;
mod form;
pub mod help;
pub mod history;
pub mod layout;
mod list;
mod log;
mod merge;
mod search;
mod status;
mod timeline;
mod today;
mod trash;
mod welcome;
mod which_key;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::domain::text;
use crate::tui::command::{Command, Context};
use crate::tui::keymap::Keymap;
use crate::tui::state::{Overlay, Pane, Screen, State};
use crate::tui::strings;
use crate::tui::theme::Theme;

/// Draws the whole screen.
pub fn view(frame: &mut Frame, state: &State, theme: &Theme, keymap: &Keymap) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let areas = layout::areas(area, state);
    if areas.too_small {
        let notice = strings::too_small(layout::MIN_WIDTH, layout::MIN_HEIGHT);
        let lines = u16::try_from(notice.width().div_ceil(usize::from(area.width))).unwrap_or(1);
        let y = area.y + (area.height - lines.min(area.height)) / 2;
        frame.render_widget(
            Paragraph::new(notice)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .alignment(ratatui::layout::Alignment::Center)
                .style(theme.style("status.error")),
            Rect::new(area.x, y, area.width, area.height - (y - area.y)),
        );
        return;
    }
    if state.screen == Screen::Dashboard {
        dashboard::render(frame, areas.main, state, theme);
    } else if state.screen == Screen::Today {
        today::render(frame, areas.main, state, theme);
    } else if state.is_welcome() {
        welcome::render(frame, areas.main, state, theme, keymap);
    } else {
        if let Some(r) = areas.list {
            list::render(frame, r, state, theme, state.focus == Pane::List);
        }
        // With two panes the right one is tabbed: its title says how to reach the other tab.
        let other_tab = |command, title: &str| {
            if layout::pane_count(area.width) != 2 {
                return String::new();
            }
            key_for(keymap, &state.contexts(), command)
                .map(|keys| format!(" · {keys} {title}"))
                .unwrap_or_default()
        };
        if let Some(r) = areas.detail {
            let tab = other_tab(Command::ShowTimeline, strings::TIMELINE_TITLE);
            detail::render(frame, r, state, theme, state.focus == Pane::Detail, &tab);
        }
        if let Some(r) = areas.timeline {
            let tab = other_tab(Command::ShowDetail, strings::DETAIL_TITLE);
            timeline::render(frame, r, state, theme, state.focus == Pane::Timeline, &tab);
        }
        if let Some(r) = areas.switcher {
            status::switcher(frame, r, state, theme, keymap);
        }
    }
    if let Some(overlay) = &state.overlay {
        let area = match areas.list {
            Some(list) if layout::search_preview(state) => list,
            _ => areas.main,
        };
        render_overlay(frame, area, overlay, state, theme, keymap);
    }
    if !state.continuations.is_empty() {
        which_key::render(frame, areas.main, state, theme);
    }
    status::render(frame, areas.status, state, theme, keymap);
}

/// One overlay over the screen (a discard question draws the form it asks about under it).
fn render_overlay(
    frame: &mut Frame,
    area: Rect,
    overlay: &Overlay,
    state: &State,
    theme: &Theme,
    keymap: &Keymap,
) {
    match overlay {
        Overlay::Search(search) => search::render(frame, area, search, theme),
        Overlay::Log(log) => log::render(frame, area, log, theme, keymap),
        Overlay::Form(form) => form::render(frame, area, form, theme, keymap),
        Overlay::Help { scroll, .. } => help::render(frame, area, state, *scroll, theme),
        Overlay::Confirm(c) => confirm::render(frame, area, c, theme, keymap),
        Overlay::Entry { entry, scroll } => {
            entry::render(frame, area, entry, *scroll, state, theme);
        }
        Overlay::Reschedule {
            follow_up,
            input,
            error,
        } => {
            confirm::reschedule(frame, area, follow_up, input, error.as_deref(), theme);
        }
        Overlay::NewFollowUp(draft) => confirm::new_follow_up(frame, area, draft, theme),
        Overlay::History(history) => history::render(frame, area, history, state, theme),
        Overlay::Trash(t) => trash::render(frame, area, state, t, theme, keymap),
        Overlay::MergeChoice(choice) => merge::choice(frame, area, choice, theme),
        Overlay::Merge(m) => merge::side_by_side(frame, area, m, theme),
        Overlay::SharedOnAdd(shared) => {
            render_overlay(frame, area, &shared.form, state, theme, keymap);
            confirm::shared_on_add(frame, area, shared, theme, keymap);
        }
        Overlay::Discard { form, quit } => {
            render_overlay(frame, area, form, state, theme, keymap);
            confirm::discard(frame, area, form, *quit, theme, keymap);
        }
    }
}

/// Stored text made safe to draw: control characters become visible symbols.
pub fn safe(input: &str) -> Cow<'_, str> {
    text::visible(input, false)
}

/// Cuts `input` to at most `width` display columns on grapheme boundaries (ending in `…` when
/// cut) and pads it with spaces to exactly `width`.
pub fn fit(input: &str, width: usize) -> String {
    let mut out = truncate(input, width);
    let used = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// Cuts `input` to at most `width` display columns, never splitting a grapheme.
pub fn truncate(input: &str, width: usize) -> String {
    let input = safe(input);
    if input.width() <= width {
        return input.into_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    let budget = width.saturating_sub(1);
    for grapheme in input.graphemes(true) {
        let w = grapheme.width();
        if used + w > budget {
            break;
        }
        used += w;
        out.push_str(grapheme);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// A pane's frame: the focused pane gets a thick border and a marked title, so focus shows
/// without colour.
pub fn pane_block<'a>(title: &str, focused: bool, theme: &Theme) -> Block<'a> {
    let (border, title_style, marker, kind) = if focused {
        (
            theme.style("border.focused"),
            theme.style("title.focused"),
            strings::FOCUS_MARKER,
            BorderType::Thick,
        )
    } else {
        (
            theme.style("border"),
            theme.style("title"),
            "",
            BorderType::Plain,
        )
    };
    Block::bordered()
        .border_type(kind)
        .border_style(border)
        .title(Span::styled(format!(" {marker}{title} "), title_style))
}

/// A popup's frame, cleared underneath.
pub fn popup(frame: &mut Frame, area: Rect, title: &str, theme: &Theme) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.style("popup.border"))
        .style(theme.style("popup"))
        .title(Span::styled(
            format!(" {title} "),
            theme.style("title.focused"),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// A rectangle of at most `width`×`height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The shortest key sequence reaching `command` from these contexts, as the keymap spells it.
pub fn key_for(keymap: &Keymap, contexts: &[Context], command: Command) -> Option<String> {
    keymap
        .keys_for(contexts, command)
        .first()
        .map(ToString::to_string)
}

/// A one-line text input with a visible cursor (reverse video, so it shows without colour).
pub fn input_line<'a>(
    input: &crate::tui::input::TextInput,
    width: usize,
    focused: bool,
    style: Style,
) -> Line<'a> {
    let chars: Vec<char> = input.text().chars().collect();
    let cursor = input.cursor().min(chars.len());
    let before: String = chars[..cursor].iter().collect();
    let at: String = chars.get(cursor).map_or(" ".to_string(), |c| c.to_string());
    let after: String = chars
        .get(cursor + 1..)
        .map_or(String::new(), |r| r.iter().collect());
    if !focused {
        return Line::from(Span::styled(truncate(input.text(), width), style));
    }
    // Keep the cursor in view: drop leading text that does not fit.
    let mut shown_before = safe(&before).into_owned();
    while shown_before.width() + 1 > width && !shown_before.is_empty() {
        shown_before.remove(0);
    }
    let room = width.saturating_sub(shown_before.width() + 1);
    Line::from(vec![
        Span::styled(shown_before, style),
        Span::styled(
            safe(&at).into_owned(),
            style.add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        Span::styled(truncate(&after, room), style),
    ])
}
