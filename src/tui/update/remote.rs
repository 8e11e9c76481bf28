//! What the server pushes: other people's commits (the list, detail, timeline, Today queue and
//! search results follow without a key press), presence, and a lost or regained connection.
//! The interface's own commits are skipped here: `Msg::Written` already reloaded for them.

use crate::api::Event;
use crate::tui::effect::Effect;
use crate::tui::state::{OtherChange, Overlay, Screen, State};
use crate::tui::strings;

use super::{follow_selection, refresh, reselect};
use crate::domain::Id;

pub fn on_event(state: &mut State, event: Event) -> Vec<Effect> {
    match event {
        Event::Committed {
            agent,
            action,
            contacts,
            everything,
            origin,
            roster,
            ..
        } => {
            if origin != 0 && origin == state.conn {
                return Vec::new();
            }
            dashboard_is_stale(state);
            if let Some(open) = state.detail.as_ref().map(|d| d.contact.id)
                && (everything || contacts.contains(&open))
            {
                state.changed_by_other = Some(OtherChange {
                    contact: open,
                    agent: agent.clone(),
                    action: action.clone(),
                });
                // Someone else wrote on the contact you are logging on or editing: say so
                // before you save (the save itself keeps both where fields don't clash).
                let composing = match &state.overlay {
                    Some(Overlay::Log(log)) => log.contact == open,
                    Some(Overlay::Form(form)) => {
                        form.original.as_ref().is_some_and(|c| c.id == open)
                    }
                    _ => false,
                };
                if composing {
                    state.error(strings::changed_meanwhile(
                        &crate::domain::text::visible(&agent, false),
                        &crate::domain::text::visible(&action, false),
                    ));
                }
            }
            let mut effects = if everything || roster {
                refresh(state, None)
            } else {
                for id in &contacts {
                    state.list.rows.remove(id);
                }
                let open = state.detail.as_ref().map(|d| d.contact.id);
                let mut effects = follow_selection(state);
                if let Some(id) = open.filter(|id| contacts.contains(id))
                    && !effects.contains(&Effect::LoadContact(id))
                {
                    effects.push(Effect::LoadContact(id));
                }
                if state.screen == Screen::Today {
                    effects.push(Effect::LoadDue(state.today));
                }
                effects
            };
            effects.extend(rerun_search(state));
            effects.extend(refresh_filter(state));
            effects
        }
        Event::Presence { entries } => {
            let me = state.conn;
            state.presence = entries.into_iter().filter(|p| p.conn != me).collect();
            Vec::new()
        }
        Event::Resync { .. } => {
            dashboard_is_stale(state);
            let mut effects = refresh(state, None);
            effects.extend(rerun_search(state));
            effects.extend(refresh_filter(state));
            effects
        }
        Event::Reconnecting => {
            state.reconnecting = true;
            state.busy = Some(strings::reconnecting());
            Vec::new()
        }
        Event::Progress(_) => Vec::new(),
        Event::Reconnected { .. } => {
            state.reconnecting = false;
            if state.busy.as_deref() == Some(strings::reconnecting().as_str()) {
                state.busy = None;
            }
            // Whatever was missed was replayed; reading the screen afresh is the simple truth.
            dashboard_is_stale(state);
            let mut effects = refresh(state, None);
            effects.extend(rerun_search(state));
            effects.extend(refresh_filter(state));
            effects
        }
    }
}

/// The dashboard on screen is read again once the event loop says it is time (not at once:
/// under a team's commits that would be several times a second).
fn dashboard_is_stale(state: &mut State) {
    if state.screen == Screen::Dashboard {
        state.dashboard_stale = true;
    }
}

/// A search kept on the list asks again too: a contact someone else added or changed so that
/// it matches shows up, one that no longer matches goes.
pub(super) fn refresh_filter(state: &State) -> Vec<Effect> {
    match &state.list.filter {
        Some(filter) => vec![Effect::RefreshFilter {
            query: filter.query.clone(),
            ranked: filter.ranked,
        }],
        None => Vec::new(),
    }
}

/// The filter's contacts as asked for again: shown in their ranking (a search) or the list's
/// order (a drill-down), the selection staying on its contact where it still matches.
pub fn filter_refreshed(state: &mut State, query: &str, ids: Vec<Id>) -> Vec<Effect> {
    // A contact just saved is to be selected once it is in the list.
    let selected = state.list.pending_select.or(state.list.selected_id());
    let list = &mut state.list;
    let Some(filter) = &list.filter else {
        return Vec::new();
    };
    if filter.query != query {
        return Vec::new(); // an answer for a filter since cleared or replaced
    }
    let ids = if filter.ranked || !filter.all_complete {
        ids
    } else {
        let found: std::collections::HashSet<Id> = ids.iter().copied().collect();
        filter
            .all
            .iter()
            .copied()
            .filter(|id| found.contains(id))
            .collect()
    };
    if ids == list.ids {
        return Vec::new();
    }
    list.total = ids.len() as u64;
    list.ids = ids;
    reselect(state, selected)
}

/// An open search asks again, so its results show the change.
fn rerun_search(state: &mut State) -> Vec<Effect> {
    match &mut state.overlay {
        Some(Overlay::Search(search)) if !search.input.text().trim().is_empty() => {
            search.generation += 1;
            vec![Effect::Search {
                generation: search.generation,
                query: search.input.text().trim().to_string(),
            }]
        }
        _ => Vec::new(),
    }
}
