//! Where each pane goes for a terminal size: three panes from 120 columns, two from 80, one
//! below that (with a pane switcher line), and a "too small" notice under the minimum. Shared by
//! `view` (to draw) and `update` (to know how many list rows are visible). Pure arithmetic.

use ratatui::layout::Rect;

use crate::tui::state::{Pane, Screen, State};

pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
pub const THREE_PANES_FROM: u16 = 120;
pub const TWO_PANES_FROM: u16 = 80;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub too_small: bool,
    /// Everything above the status bar (Today, welcome, overlays' bounds).
    pub main: Rect,
    pub list: Option<Rect>,
    pub detail: Option<Rect>,
    pub timeline: Option<Rect>,
    /// The one-pane switcher line.
    pub switcher: Option<Rect>,
    pub status: Rect,
}

/// How many panes fit side by side at this width.
pub fn pane_count(width: u16) -> usize {
    if width >= THREE_PANES_FROM {
        3
    } else if width >= TWO_PANES_FROM {
        2
    } else {
        1
    }
}

/// Whether the search overlay is drawn beside a live preview of its selected result.
pub fn search_preview(state: &State) -> bool {
    matches!(state.overlay, Some(crate::tui::state::Overlay::Search(_)))
        && state.screen == Screen::Main
        && pane_count(state.width) == 3
}

/// Under the minimum size only the "too small" notice is drawn (and keys do not act).
pub fn too_small(state: &State) -> bool {
    state.width < MIN_WIDTH || state.height < MIN_HEIGHT
}

pub fn areas(area: Rect, state: &State) -> Areas {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Areas {
            too_small: true,
            main: area,
            ..Areas::default()
        };
    }
    let status = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    let mut main = Rect::new(area.x, area.y, area.width, area.height - 1);
    let mut out = Areas {
        main,
        status,
        ..Areas::default()
    };
    if matches!(state.screen, Screen::Today | Screen::Dashboard) || state.is_welcome() {
        return out;
    }
    match pane_count(area.width) {
        // Searching, three panes wide: the search takes the left 60% (over the list) and the
        // selected result is previewed in the detail pane, full height, on the right.
        3 if search_preview(state) => {
            let list_width = main.width * 60 / 100;
            out.list = Some(Rect::new(main.x, main.y, list_width, main.height));
            out.detail = Some(Rect::new(
                main.x + list_width,
                main.y,
                main.width - list_width,
                main.height,
            ));
        }
        3 => {
            let list_width = main.width * 45 / 100;
            let right = Rect::new(
                main.x + list_width,
                main.y,
                main.width - list_width,
                main.height,
            );
            let detail_height = right.height * 45 / 100;
            out.list = Some(Rect::new(main.x, main.y, list_width, main.height));
            out.detail = Some(Rect::new(right.x, right.y, right.width, detail_height));
            out.timeline = Some(Rect::new(
                right.x,
                right.y + detail_height,
                right.width,
                right.height - detail_height,
            ));
        }
        2 => {
            let list_width = main.width / 2;
            let right = Rect::new(
                main.x + list_width,
                main.y,
                main.width - list_width,
                main.height,
            );
            out.list = Some(Rect::new(main.x, main.y, list_width, main.height));
            match state.right_tab {
                Pane::Timeline => out.timeline = Some(right),
                _ => out.detail = Some(right),
            }
        }
        _ => {
            let switcher = Rect::new(main.x, main.y + main.height - 1, main.width, 1);
            main.height -= 1;
            out.switcher = Some(switcher);
            match state.focus {
                Pane::List => out.list = Some(main),
                Pane::Detail => out.detail = Some(main),
                Pane::Timeline => out.timeline = Some(main),
            }
        }
    }
    out
}

/// Rows of contacts the list shows (inside its border, under its header).
pub fn list_rows_visible(state: &State) -> usize {
    let areas = areas(Rect::new(0, 0, state.width, state.height), state);
    areas
        .list
        .map_or(0, |r| usize::from(r.height.saturating_sub(3)))
}
