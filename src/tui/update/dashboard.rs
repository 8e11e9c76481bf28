//! The dashboard's keyboard focus and drill-down: panels in tab order (empty ones skipped),
//! rows within a panel, cells of the R×F grid; `open` turns the focused item into the contact
//! list filtered by a query (a cell, a segment, a month, a product) or into one contact.

use std::collections::HashSet;

use ratatui::layout::Rect;

use crate::domain::Id;
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::state::{DashboardFocus, DashboardPanel, ListFilter, Pane, Screen, State};
use crate::tui::strings;
use crate::tui::view::dashboard::{Drill, Shown};
use crate::tui::view::layout;

/// Rows per panel as drawn at the current size; `None` before the figures arrive.
fn rows(state: &State) -> Option<[usize; 6]> {
    let d = state.dashboard.as_deref()?;
    let area = layout::areas(Rect::new(0, 0, state.width, state.height), state).main;
    let shown = Shown::new(d, area);
    Some(DashboardPanel::ALL.map(|p| shown.rows(p)))
}

fn index(panel: DashboardPanel) -> usize {
    DashboardPanel::ALL
        .iter()
        .position(|p| *p == panel)
        .unwrap_or(0)
}

/// Keeps the focus on a row that is shown (after a resize or a reload).
pub(super) fn clamp(state: &mut State) {
    let Some(rows) = rows(state) else {
        return;
    };
    let focus = &mut state.dashboard_focus;
    let n = rows[index(focus.panel)];
    if n == 0 {
        *focus = DashboardFocus {
            col: focus.col.min(4),
            ..DashboardFocus::default()
        };
    }
    focus.row = focus.row.min(n.saturating_sub(1));
    focus.col = focus.col.min(4);
}

/// The next (or previous) panel that shows something, at its first row.
fn step_panel(state: &mut State, rows: [usize; 6], forward: bool) {
    let at = index(state.dashboard_focus.panel);
    for step in 1..=DashboardPanel::ALL.len() {
        let next = if forward {
            (at + step) % 6
        } else {
            (at + 6 - step % 6) % 6
        };
        if rows[next] > 0 {
            state.dashboard_focus.panel = DashboardPanel::ALL[next];
            state.dashboard_focus.row = 0;
            return;
        }
    }
}

pub(super) fn panel(state: &mut State, forward: bool) -> Vec<Effect> {
    if state.screen != Screen::Dashboard {
        return Vec::new();
    }
    clamp(state);
    if let Some(rows) = rows(state) {
        step_panel(state, rows, forward);
    }
    Vec::new()
}

/// Panels side by side on screen, left to right: the grid over its segment list, the months,
/// the top customers over the top products, the churn risk.
const BLOCKS: [&[DashboardPanel]; 4] = [
    &[DashboardPanel::Grid, DashboardPanel::Segments],
    &[DashboardPanel::Months],
    &[DashboardPanel::Customers, DashboardPanel::Products],
    &[DashboardPanel::Risk],
];

/// `h`/`l` past a panel's edge: the first panel with rows in the block beside it.
fn step_block(state: &mut State, rows: [usize; 6], forward: bool) {
    let here = state.dashboard_focus.panel;
    let at = BLOCKS.iter().position(|b| b.contains(&here)).unwrap_or(0);
    for step in 1..BLOCKS.len() {
        let block = if forward {
            (at + step) % BLOCKS.len()
        } else {
            (at + BLOCKS.len() - step) % BLOCKS.len()
        };
        if let Some(panel) = BLOCKS[block].iter().find(|p| rows[index(**p)] > 0) {
            state.dashboard_focus.panel = *panel;
            state.dashboard_focus.row = 0;
            return;
        }
    }
}

pub(super) fn motion(state: &mut State, command: Command) -> Vec<Effect> {
    clamp(state);
    let Some(rows) = rows(state) else {
        return Vec::new();
    };
    let focus = state.dashboard_focus;
    let last = rows[index(focus.panel)].saturating_sub(1);
    let in_grid = focus.panel == DashboardPanel::Grid;
    match command {
        Command::MoveRight if !in_grid || focus.col == 4 => step_block(state, rows, true),
        Command::MoveLeft if !in_grid || focus.col == 0 => step_block(state, rows, false),
        _ => {
            let mut f = focus;
            match (focus.panel, command) {
                (DashboardPanel::Grid, Command::MoveRight) => f.col += 1,
                (DashboardPanel::Grid, Command::MoveLeft) => f.col -= 1,
                // The segment list sits under the grid: down from R1 goes there, up from its
                // top back.
                (DashboardPanel::Grid, Command::MoveDown) if focus.row == last && rows[1] > 0 => {
                    f.panel = DashboardPanel::Segments;
                    f.row = 0;
                }
                (DashboardPanel::Segments, Command::MoveUp) if focus.row == 0 => {
                    f.panel = DashboardPanel::Grid;
                    f.row = 4;
                }
                (_, Command::MoveDown | Command::ScrollDown) => f.row = (focus.row + 1).min(last),
                (_, Command::MoveUp | Command::ScrollUp) => f.row = focus.row.saturating_sub(1),
                (_, Command::First | Command::PageUp) => f.row = 0,
                (_, Command::Last | Command::PageDown) => f.row = last,
                _ => {}
            }
            state.dashboard_focus = f;
        }
    }
    Vec::new()
}

/// `open` on the dashboard: the focused item's contacts.
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    clamp(state);
    let Some(d) = state.dashboard.as_deref() else {
        return Vec::new();
    };
    let area = layout::areas(Rect::new(0, 0, state.width, state.height), state).main;
    match Shown::new(d, area).drill(state.dashboard_focus) {
        Some(Drill::Query(query)) => {
            state.busy = Some(strings::searching(&query));
            vec![Effect::FilterList { query }]
        }
        Some(Drill::Contact(id)) => {
            state.screen = Screen::Main;
            state.list.clear_filter();
            state.focus = Pane::Detail;
            state.right_tab = Pane::Detail;
            super::reselect(state, Some(id))
        }
        None => Vec::new(),
    }
}

/// The contacts a drill-down found: the list shows them (in its own name order when it has
/// every id, else best first) with the query as its title; `esc` shows everyone again.
pub(super) fn filtered(state: &mut State, query: String, ids: Vec<Id>) -> Vec<Effect> {
    state.busy = None;
    if ids.is_empty() {
        state.error(strings::dashboard_no_match(&query));
        return Vec::new();
    }
    let list = &mut state.list;
    list.clear_filter();
    let ids = if list.complete {
        let found: HashSet<Id> = ids.iter().copied().collect();
        list.ids
            .iter()
            .copied()
            .filter(|id| found.contains(id))
            .collect()
    } else {
        ids
    };
    list.filter = Some(ListFilter {
        query,
        all: std::mem::take(&mut list.ids),
        all_total: list.total,
        all_complete: list.complete,
        ranked: false,
    });
    list.total = ids.len() as u64;
    let first = ids.first().copied();
    list.ids = ids;
    list.complete = true;
    list.offset = 0;
    list.selected = 0;
    state.screen = Screen::Main;
    state.focus = Pane::List;
    super::reselect(state, first)
}
