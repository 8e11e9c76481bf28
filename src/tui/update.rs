//! The single place that maps a [`Command`] or message to behaviour: `update(&mut State, Msg)`
//! changes the state and returns the [`Effect`]s to run; `on_key` turns a key press into a
//! message through the keymap. No I/O here — store calls, search and the editor are effects.

use crate::domain::{
    Address, Channel, Contact, ContactDraft, Direction, Entry, FollowUp, Id, Interaction, Labelled,
    Outcome, Stage, text, time,
};
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::input::TextInput;
use crate::tui::keymap::{Key, Keymap, Resolution};
use crate::tui::msg::{Msg, Reload};
use crate::tui::state::{
    Confirm, FollowUpDraft, FormDraft, FormField, HistoryView, LogDraft, LogField, Overlay, Pane,
    Screen, SearchState, State,
};
use crate::tui::strings;
use crate::tui::view::{detail, entry, help, history, layout};

mod dashboard;
mod merge;
mod remote;

/// Most rows kept in the list cache before it is emptied (only visible rows are ever needed).
const ROW_CACHE_LIMIT: usize = 5_000;

/// Resolves a key press through the keymap (overlay → pane → global) and applies it.
/// An unbound printable key types into the focused input; a sequence in progress waits.
pub fn on_key(state: &mut State, keymap: &Keymap, key: Key) -> Vec<Effect> {
    // Keys after an `open` that waits for the results of the query as typed wait too, so they
    // act in the order they were pressed (`l` after `enter` logs with the contact opened).
    // The quit key still quits (results that never come must not trap anyone).
    if let Some(Overlay::Search(search)) = &mut state.overlay {
        let contexts = [Context::Search, Context::Global];
        let resolved = keymap.resolve(&contexts, &[], key);
        if search.pending_open || search.pending_move {
            if search.queued.is_empty() && resolved == Resolution::Command(Command::Quit) {
                return update(state, Msg::Command(Command::Quit));
            }
            search.queued.push(key);
            return Vec::new();
        }
        // A move through results that answer an older query waits for the query as typed.
        if search.answered != search.generation
            && matches!(resolved, Resolution::Command(c) if is_motion(c))
        {
            search.pending_move = true;
            search.queued.push(key);
            return Vec::new();
        }
    }
    // A message stays until the next key press, so it never describes an older state.
    state.status = None;
    let contexts = state.contexts();
    match keymap.resolve(&contexts, &state.pending, key) {
        // Under the "too small" notice nothing is visible: keys must not act unseen. Only
        // quitting (when it loses nothing), redrawing and suspending work.
        Resolution::Command(command) if layout::too_small(state) => {
            clear_pending(state);
            match command {
                Command::Quit | Command::Redraw | Command::Suspend => {
                    update(state, Msg::Command(command))
                }
                _ => Vec::new(),
            }
        }
        _ if layout::too_small(state) => {
            clear_pending(state);
            Vec::new()
        }
        Resolution::Command(command) => {
            clear_pending(state);
            update(state, Msg::Command(command))
        }
        Resolution::Pending(continuations) => {
            state.pending.push(key);
            state.continuations = continuations;
            Vec::new()
        }
        Resolution::Unbound => {
            let was_pending = !state.pending.is_empty();
            clear_pending(state);
            match key.printable() {
                Some(c) if !was_pending && typing(state) => update(state, Msg::Type(c)),
                _ => Vec::new(),
            }
        }
    }
}

fn clear_pending(state: &mut State) {
    state.pending.clear();
    state.continuations.clear();
}

/// Whether an overlay with a text input is open.
pub fn typing(state: &State) -> bool {
    state
        .overlay
        .as_ref()
        .is_some_and(|o| o.context().is_text_input())
}

/// What this interface is doing with which contact, for the others (team mode presence).
pub fn presence(state: &State) -> Option<(Id, crate::api::PresenceMode)> {
    use crate::api::PresenceMode;
    match &state.overlay {
        Some(Overlay::Form(form)) => form
            .original
            .as_ref()
            .map(|c| (c.id, PresenceMode::Editing)),
        Some(Overlay::Log(log)) => Some((log.contact, PresenceMode::Composing)),
        _ => state
            .selected_detail()
            .map(|d| (d.contact.id, PresenceMode::Viewing)),
    }
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Remote(event) => remote::on_event(state, event),
        Msg::Command(command) => command_effects(state, command),
        Msg::Type(c) => edit_input(state, |input| input.insert(c)),
        // A paste under the "too small" notice or behind a pending search `open` would type
        // unseen (or into a query already acted on): dropped.
        Msg::Paste(_) if layout::too_small(state) || search_pending(state) => Vec::new(),
        Msg::Paste(pasted) => {
            let mut cut = false;
            let effects = edit_input(state, |input| cut = input.paste(&pasted));
            if cut {
                state.error(strings::PASTE_CUT);
            }
            effects
        }
        Msg::Resize(width, height) => {
            state.width = width;
            state.height = height;
            follow_selection(state)
        }
        Msg::Started { total, first_ids } => started(state, total, first_ids),
        Msg::AllIds { generation, ids } => {
            if generation != state.list.generation {
                return Vec::new();
            }
            let keep = state
                .list
                .pending_select
                .take()
                .or(state.list.selected_id());
            let total = ids.len() as u64;
            state.list.set_ids(ids, total, true);
            reselect(state, keep)
        }
        Msg::Rows(rows) => {
            if state.list.rows.len() + rows.len() > ROW_CACHE_LIMIT {
                state.list.rows.clear();
            }
            for row in rows {
                state.list.rows.insert(row.id, row);
            }
            Vec::new()
        }
        Msg::ContactLoaded(view) => {
            if state.list.selected_id() == Some(view.contact.id) {
                state.timeline_selected = state
                    .timeline_selected
                    .min(view.timeline.len().saturating_sub(1));
                if state
                    .changed_by_other
                    .as_ref()
                    .is_some_and(|c| c.contact != view.contact.id)
                {
                    state.changed_by_other = None;
                }
                state.detail = Some(*view);
            }
            Vec::new()
        }
        Msg::ContactMissing(id) => {
            if state.detail.as_ref().is_some_and(|d| d.contact.id == id) {
                state.detail = None;
            }
            Vec::new()
        }
        Msg::SearchResults { generation, hits } => {
            if let Some(Overlay::Search(search)) = &mut state.overlay
                && generation == search.generation
            {
                search.hits = hits;
                search.answered = generation;
                search.selected = 0;
                if search.pending_open {
                    return pending_open(state);
                }
                let mut effects = preview_hit(state);
                if let Some(Overlay::Search(search)) = &mut state.overlay
                    && std::mem::take(&mut search.pending_move)
                {
                    effects.push(Effect::Replay(std::mem::take(&mut search.queued)));
                }
                return effects;
            }
            Vec::new()
        }
        Msg::TrashLoaded(items) => {
            if let Some(Overlay::Trash(trash)) = &mut state.overlay {
                trash.selected = trash.selected.min(items.len().saturating_sub(1));
                trash.items = items;
                trash.loaded = true;
            }
            Vec::new()
        }
        Msg::DashboardLoaded(d) => {
            state.dashboard = Some(d);
            dashboard::clamp(state);
            Vec::new()
        }
        Msg::RefreshDashboard => {
            state.dashboard_stale = false;
            if state.screen == Screen::Dashboard {
                vec![Effect::LoadDashboard(state.today)]
            } else {
                Vec::new()
            }
        }
        Msg::Filtered { query, ids } => dashboard::filtered(state, query, ids),
        Msg::FilterRefreshed { query, ids } => remote::filter_refreshed(state, &query, ids),
        Msg::DueLoaded(items) => {
            state.today_view.all = items;
            state.today_view.loaded = true;
            state.today_view.refilter(&state.agent);
            Vec::new()
        }
        Msg::Written {
            message,
            select,
            reload,
        } => {
            state.busy = None;
            state.info(message);
            if matches!(
                state.overlay,
                Some(
                    Overlay::Log(_)
                        | Overlay::Confirm(_)
                        | Overlay::Reschedule { .. }
                        | Overlay::NewFollowUp(_)
                        | Overlay::Merge(_)
                        | Overlay::Trash(_)
                )
            ) {
                state.overlay = None;
            }
            let mut effects = match reload {
                Reload::Timeline => refresh_timeline(state),
                Reload::Contact(id) => {
                    let mut effects = refresh(state, select);
                    effects.push(Effect::IndexContact(id));
                    effects
                }
                Reload::Merged { kept, absorbed } => {
                    let mut effects = refresh(state, select);
                    effects.push(Effect::IndexContact(kept));
                    effects.push(Effect::IndexContact(absorbed));
                    effects
                }
                Reload::Everything => {
                    let mut effects = refresh(state, select);
                    effects.push(Effect::IndexSearch);
                    effects
                }
            };
            // A search kept on the list follows our own writes as it follows others'.
            effects.extend(remote::refresh_filter(state));
            effects
        }
        Msg::ContactSaved(contact) => {
            state.overlay = None;
            state.info(strings::saved(
                &text::visible(&contact.name, false),
                &state.undo_keys,
            ));
            state.detail = None;
            // A search kept on the list asks again first, so the saved contact is selected
            // in it when it matches.
            let mut effects = vec![Effect::IndexContact(contact.id)];
            effects.extend(remote::refresh_filter(state));
            effects.extend(refresh(state, Some(contact.id)));
            if std::mem::take(&mut state.merge_after_save) {
                state.busy = Some(strings::finding_duplicates(&text::visible(
                    &contact.name,
                    false,
                )));
                effects.push(Effect::FindDuplicates {
                    id: contact.id,
                    name: contact.name.clone(),
                });
            }
            effects
        }
        Msg::SharedOnAdd {
            draft,
            owner,
            owner_name,
            value,
        } => {
            // Only while the form it came from is still open (else the answer is stale).
            match state.overlay.take() {
                Some(form @ Overlay::Form(_)) => {
                    state.overlay = Some(Overlay::SharedOnAdd(Box::new(
                        crate::tui::state::SharedOnAdd {
                            form,
                            draft: *draft,
                            owner,
                            owner_name,
                            value,
                        },
                    )));
                }
                other => state.overlay = other,
            }
            Vec::new()
        }
        Msg::Refused { message, fields } => {
            state.busy = None;
            match &mut state.overlay {
                Some(Overlay::Form(form)) => {
                    form.field_errors(&fields);
                    if fields.is_empty() {
                        form.refusal = Some(message.clone());
                    }
                }
                Some(Overlay::NewFollowUp(draft)) => {
                    draft.error = fields.first().map(|p| p.message.clone());
                }
                Some(Overlay::Merge(merge)) => merge.error = Some(message.clone()),
                Some(Overlay::Log(log)) => {
                    log.errors.clear();
                    for problem in &fields {
                        if let Some(field) = LogField::ALL.iter().find(|f| f.key() == problem.field)
                        {
                            log.errors.insert(field.key(), problem.message.clone());
                        }
                    }
                }
                _ => {}
            }
            state.error(message);
            Vec::new()
        }
        Msg::Duplicates {
            subject,
            subject_name,
            candidates,
        } => merge::duplicates(state, subject, subject_name, candidates),
        Msg::MergeReady(plan) => merge::ready(state, *plan),
        Msg::HistoryLoaded { contact, entries } => {
            // Only into the overlay that asked (it may have been closed or reopened since).
            if let Some(Overlay::History(history)) = &mut state.overlay
                && history.contact == contact
            {
                history.entries = Some(entries);
            }
            Vec::new()
        }
        Msg::EditorDone(result) => {
            match result {
                Ok(written) => match &mut state.overlay {
                    Some(Overlay::Log(log)) => {
                        let body = text::clean_multiline(&written);
                        if log.inputs[0].is_empty()
                            && let Some(first) = body.lines().find(|l| !l.trim().is_empty())
                        {
                            log.inputs[0] = TextInput::new(&text::clean_line(first));
                        }
                        log.body = body;
                    }
                    Some(Overlay::Form(form)) => {
                        let notes = FormField::ALL
                            .iter()
                            .position(|f| *f == FormField::Notes)
                            .unwrap_or(0);
                        form.inputs[notes] = TextInput::new(&text::clean_multiline(&written));
                    }
                    _ => {}
                },
                Err(reason) => state.error(strings::editor_failed(&reason)),
            }
            Vec::new()
        }
    }
}

fn started(state: &mut State, total: u64, first_ids: Vec<Id>) -> Vec<Effect> {
    let refreshing = state.list.started;
    state.list.started = true;
    state.list.generation += 1;
    let complete = first_ids.len() as u64 >= total;
    let mut effects = Vec::new();
    let keep = if complete {
        state
            .list
            .pending_select
            .take()
            .or(state.list.selected_id())
    } else {
        None
    };
    if complete || !refreshing {
        state.list.set_ids(first_ids, total, complete);
    }
    if !complete {
        effects.push(Effect::LoadAllIds {
            generation: state.list.generation,
        });
    }
    if !refreshing {
        effects.push(Effect::IndexSearch);
    }
    effects.extend(reselect(state, keep));
    effects
}

/// Re-reads the list, the selected contact and (on Today) the due list after a write.
fn refresh(state: &mut State, select: Option<Id>) -> Vec<Effect> {
    state.list.rows.clear();
    state.list.pending_select = select.or(state.list.selected_id());
    state.detail = None;
    let mut effects = vec![Effect::Start];
    if state.screen == Screen::Today {
        effects.push(Effect::LoadDue(state.today));
    }
    effects
}

/// After a timeline-only write: the list order and search corpus are still right; the rows'
/// last/next columns, the selected contact and the due list are re-read.
fn refresh_timeline(state: &mut State) -> Vec<Effect> {
    state.list.rows.clear();
    state.detail = None;
    let mut effects = follow_selection(state);
    if state.screen == Screen::Today {
        effects.push(Effect::LoadDue(state.today));
    }
    effects
}

/// Puts the selection on `id` if it is in the list (else keeps the position), then loads what
/// the screen needs.
fn reselect(state: &mut State, id: Option<Id>) -> Vec<Effect> {
    if let Some(id) = id {
        if let Some(at) = state.list.ids.iter().position(|x| *x == id) {
            state.list.selected = at;
        } else if !state.list.complete {
            state.list.pending_select = Some(id);
        }
    }
    let last = state.list.ids.len().saturating_sub(1);
    state.list.selected = state.list.selected.min(last);
    follow_selection(state)
}

/// Keeps the selection on screen and asks for the rows and the contact it needs.
fn follow_selection(state: &mut State) -> Vec<Effect> {
    let visible = layout::list_rows_visible(state).max(1);
    let list = &mut state.list;
    if list.selected < list.offset {
        list.offset = list.selected;
    } else if list.selected >= list.offset + visible {
        list.offset = list.selected + 1 - visible;
    }
    let max_offset = list.ids.len().saturating_sub(visible);
    list.offset = list.offset.min(max_offset);
    let window = visible.max(20);
    let end = (list.offset + window).min(list.ids.len());
    let missing: Vec<Id> = list.ids[list.offset.min(end)..end]
        .iter()
        .copied()
        .filter(|id| !list.rows.contains_key(id))
        .collect();
    let mut effects = Vec::new();
    if !missing.is_empty() {
        effects.push(Effect::LoadRows(missing));
    }
    if let Some(id) = state.list.selected_id()
        && state.detail.as_ref().is_none_or(|d| d.contact.id != id)
    {
        state.detail_scroll = 0;
        state.timeline_selected = 0;
        effects.push(Effect::LoadContact(id));
    }
    effects
}

fn page(state: &State) -> usize {
    layout::list_rows_visible(state).max(5)
}

fn moved(at: usize, len: usize, command: Command, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match command {
        Command::MoveDown | Command::ScrollDown => (at + 1).min(last),
        Command::MoveUp | Command::ScrollUp => at.saturating_sub(1),
        Command::PageDown => (at + page).min(last),
        Command::PageUp => at.saturating_sub(page),
        Command::First => 0,
        Command::Last => last,
        _ => at,
    }
}

fn is_motion(command: Command) -> bool {
    matches!(
        command,
        Command::MoveDown
            | Command::MoveUp
            | Command::PageDown
            | Command::PageUp
            | Command::First
            | Command::Last
            | Command::ScrollDown
            | Command::ScrollUp
            | Command::MoveLeft
            | Command::MoveRight
    )
}

/// Moves a text scroll position within `0..=max` (a position left past the end by a resize
/// counts from the end, so the first step up moves).
fn scrolled(at: usize, max: usize, command: Command, page: usize) -> usize {
    moved(at.min(max), max + 1, command, page)
}

fn motion(state: &mut State, command: Command) -> Vec<Effect> {
    let page = page(state);
    let text_max = match &state.overlay {
        Some(Overlay::Help { .. }) => help::max_scroll(state),
        Some(Overlay::Entry { .. }) => entry::max_scroll(state),
        Some(Overlay::History(_)) => history::max_scroll(state),
        _ => 0,
    };
    match &mut state.overlay {
        Some(Overlay::Search(search)) => {
            search.selected = moved(search.selected, search.hits.len(), command, page);
            return preview_hit(state);
        }
        Some(Overlay::Help { scroll, .. }) | Some(Overlay::Entry { scroll, .. }) => {
            *scroll = scrolled(*scroll, text_max, command, page);
            return Vec::new();
        }
        Some(Overlay::History(history)) => {
            history.scroll = scrolled(history.scroll, text_max, command, page);
            return Vec::new();
        }
        Some(Overlay::MergeChoice(_) | Overlay::Merge(_)) => {
            return merge::motion(state, command, page).unwrap_or_default();
        }
        Some(Overlay::Trash(trash)) => {
            trash.selected = moved(trash.selected, trash.items.len(), command, page);
            return Vec::new();
        }
        Some(_) => return Vec::new(),
        None => {}
    }
    if state.screen == Screen::Today {
        let today = &mut state.today_view;
        today.selected = moved(today.selected, today.items.len(), command, page);
        return Vec::new();
    }
    if state.screen == Screen::Dashboard {
        return dashboard::motion(state, command);
    }
    match state.focus {
        Pane::List => {
            state.list.selected = moved(state.list.selected, state.list.ids.len(), command, page);
            follow_selection(state)
        }
        Pane::Detail => {
            let max = detail::max_scroll(state);
            state.detail_scroll = scrolled(state.detail_scroll, max, command, page);
            Vec::new()
        }
        Pane::Timeline => {
            let len = state.detail.as_ref().map_or(0, |d| d.timeline.len());
            state.timeline_selected = moved(state.timeline_selected, len, command, page);
            Vec::new()
        }
    }
}

fn focus(state: &mut State, pane: Pane) -> Vec<Effect> {
    state.screen = Screen::Main;
    state.focus = pane;
    if pane != Pane::List {
        state.right_tab = pane;
    }
    follow_selection(state)
}

fn cycle_focus(state: &mut State, forward: bool) -> Vec<Effect> {
    let at = Pane::ALL
        .iter()
        .position(|p| *p == state.focus)
        .unwrap_or(0);
    let next = if forward { (at + 1) % 3 } else { (at + 2) % 3 };
    focus(state, Pane::ALL[next])
}

/// Commands that act on the screen under the overlays; while an overlay is open they wait.
fn acts_behind_overlays(command: Command) -> bool {
    matches!(
        command,
        Command::Search
            | Command::QuickLog
            | Command::NewContact
            | Command::EditContact
            | Command::DeleteContact
            | Command::NewFollowUp
            | Command::MergeDuplicates
            | Command::CopyEmail
            | Command::ContactHistory
            | Command::Undo
            | Command::Today
            | Command::Dashboard
            | Command::FocusNext
            | Command::FocusPrev
            | Command::TogglePane
            | Command::ShowList
            | Command::ShowDetail
            | Command::ShowTimeline
            | Command::MarkDone
            | Command::EditEntry
            | Command::DeleteEntry
            | Command::Reschedule
            | Command::LoadDemo
            | Command::ImportHint
            | Command::ShowTrash
    )
}

fn command_effects(state: &mut State, command: Command) -> Vec<Effect> {
    if state.overlay.is_some() && acts_behind_overlays(command) {
        return Vec::new();
    }
    if is_motion(command) {
        return motion(state, command);
    }
    if let Some(effects) = input_command(state, command) {
        return effects;
    }
    match command {
        Command::Quit => quit(state),
        Command::Noop => Vec::new(),
        Command::Help => {
            // Help over a prompt keeps the prompt (a half-done merge, a confirmation) for after.
            let under = match state.overlay.take() {
                Some(Overlay::Help { under, .. }) => under,
                other => other.map(Box::new),
            };
            state.overlay = Some(Overlay::Help { scroll: 0, under });
            Vec::new()
        }
        Command::Search => {
            state.overlay = Some(Overlay::Search(SearchState {
                previous: (state.list.selected, state.list.offset),
                ..SearchState::default()
            }));
            Vec::new()
        }
        Command::QuickLog => open_log(state),
        Command::NewContact => {
            state.changed_by_other = None;
            state.overlay = Some(Overlay::Form(new_form(None, "")));
            Vec::new()
        }
        Command::EditContact => {
            if state.screen == Screen::Today {
                return open_today_item(state);
            }
            match state.selected_detail().cloned() {
                Some(view) => {
                    state.changed_by_other = None;
                    state.overlay = Some(Overlay::Form(new_form(
                        Some(view.contact),
                        &view.organization,
                    )));
                }
                None => state.error(strings::NOTHING_SELECTED),
            }
            Vec::new()
        }
        Command::DeleteContact => {
            match state.subject() {
                Some((id, name)) => {
                    state.overlay = Some(Overlay::Confirm(Confirm::DeleteContact { id, name }));
                }
                None => state.error(strings::NOTHING_SELECTED),
            }
            Vec::new()
        }
        Command::ConfirmYes => match state.overlay.take() {
            Some(Overlay::Discard { quit, .. }) => {
                state.quit = quit;
                state.info(strings::DISCARDED);
                Vec::new()
            }
            Some(Overlay::Confirm(Confirm::DeleteInteraction(original))) => {
                let done = strings::interaction_deleted(original.channel.name(), &state.undo_keys);
                vec![Effect::DeleteInteraction { original, done }]
            }
            Some(Overlay::Confirm(Confirm::DeleteContact { id, name })) => {
                vec![Effect::DeleteContact {
                    id,
                    done: strings::deleted(&text::visible(&name, false), &state.undo_keys),
                }]
            }
            Some(Overlay::SharedOnAdd(shared)) => vec![Effect::AddContact {
                draft: Box::new(shared.draft),
                check_shared: false,
            }],
            Some(Overlay::Confirm(Confirm::LoadDemo { .. })) => {
                state.busy = Some(strings::DEMO_LOADING.to_string());
                vec![Effect::LoadDemo]
            }
            other => {
                state.overlay = other;
                Vec::new()
            }
        },
        Command::OpenExisting | Command::MergeExisting => match state.overlay.take() {
            Some(Overlay::SharedOnAdd(shared)) if command == Command::OpenExisting => {
                // The one who already has it: the typed form is dropped on purpose.
                state.screen = Screen::Main;
                state.list.clear_filter();
                reselect(state, Some(shared.owner))
            }
            Some(Overlay::SharedOnAdd(shared)) => {
                state.merge_after_save = true;
                vec![Effect::AddContact {
                    draft: Box::new(shared.draft),
                    check_shared: false,
                }]
            }
            other => {
                state.overlay = other;
                Vec::new()
            }
        },
        Command::ConfirmNo | Command::Cancel | Command::Back => back(state),
        Command::Undo => vec![Effect::Undo],
        Command::Dashboard => {
            state.overlay = None;
            state.screen = Screen::Dashboard;
            state.dashboard = None;
            state.dashboard_stale = false;
            vec![Effect::LoadDashboard(state.today)]
        }
        Command::Today => {
            state.overlay = None;
            state.screen = Screen::Today;
            state.today_view.loaded = false;
            vec![Effect::LoadDue(state.today)]
        }
        Command::FocusNext | Command::TogglePane => cycle_focus(state, true),
        Command::FocusPrev => cycle_focus(state, false),
        Command::NextPanel => dashboard::panel(state, true),
        Command::PrevPanel => dashboard::panel(state, false),
        Command::ShowList => focus(state, Pane::List),
        Command::ShowDetail => focus(state, Pane::Detail),
        Command::ShowTimeline => focus(state, Pane::Timeline),
        Command::Open => open(state),
        Command::Submit => submit(state),
        Command::NextField | Command::PrevField => {
            let forward = command == Command::NextField;
            match &mut state.overlay {
                Some(Overlay::Log(log)) => {
                    log.focus = step(log.focus, LogField::ALL.len(), forward);
                }
                Some(Overlay::Form(form)) => {
                    form.focus = step(form.focus, form.inputs.len(), forward);
                }
                Some(Overlay::NewFollowUp(draft)) => {
                    draft.focus = step(draft.focus, draft.inputs.len(), forward);
                }
                _ => {}
            }
            Vec::new()
        }
        Command::ToggleCloses => {
            let answered = if state.screen == Screen::Today {
                selected_follow_up(state)
            } else {
                None
            };
            if let Some(Overlay::Log(log)) = &mut state.overlay {
                log.answers = match log.answers {
                    Some(_) => None,
                    None => answered,
                };
            }
            Vec::new()
        }
        Command::ToggleMine => {
            let today = &mut state.today_view;
            today.mine = !today.mine;
            today.refilter(&state.agent);
            Vec::new()
        }
        Command::NextChoice | Command::PrevChoice => {
            if let Some(Overlay::Form(form)) = &mut state.overlay {
                choose(form, command == Command::NextChoice);
            }
            Vec::new()
        }
        Command::NextChannel | Command::PrevChannel => {
            if let Some(Overlay::Log(log)) = &mut state.overlay {
                let all = Channel::ALL;
                let at = all.iter().position(|c| *c == log.channel).unwrap_or(0);
                let next = step(at, all.len(), command == Command::NextChannel);
                log.channel = all[next];
            }
            Vec::new()
        }
        Command::OpenEditor => match &state.overlay {
            Some(Overlay::Log(log)) => vec![Effect::OpenEditor(log.body.clone())],
            Some(Overlay::Form(form)) => {
                let notes = FormField::ALL.len() - 1;
                vec![Effect::OpenEditor(
                    form.inputs
                        .get(notes)
                        .map(|i| i.text().to_string())
                        .unwrap_or_default(),
                )]
            }
            _ => Vec::new(),
        },
        Command::EditEntry | Command::DeleteEntry => {
            match selected_interaction(state) {
                Some(original) if command == Command::EditEntry => {
                    let contact_name = state.subject().map(|(_, n)| n).unwrap_or_default();
                    state.changed_by_other = None;
                    state.changed_by_other = None;
                    state.overlay = Some(Overlay::Log(LogDraft {
                        contact: original.contact,
                        contact_name,
                        channel: original.channel,
                        inputs: crate::tui::state::log_inputs(&original)
                            .map(|t| TextInput::new(&t)),
                        focus: 0,
                        body: original.body.clone(),
                        errors: Default::default(),
                        editing: Some(Box::new(original)),
                        answers: None,
                    }));
                }
                Some(original) => {
                    state.overlay = Some(Overlay::Confirm(Confirm::DeleteInteraction(Box::new(
                        original,
                    ))));
                }
                None => state.error(strings::NOT_AN_INTERACTION),
            }
            Vec::new()
        }
        Command::MarkDone => match selected_follow_up(state) {
            Some(f) => vec![Effect::CompleteFollowUp(Box::new(f))],
            None => {
                state.error(strings::NOT_A_FOLLOW_UP);
                Vec::new()
            }
        },
        Command::Reschedule => {
            match selected_follow_up(state) {
                Some(follow_up) => {
                    state.overlay = Some(Overlay::Reschedule {
                        follow_up,
                        input: TextInput::default(),
                        error: None,
                    });
                }
                None => state.error(strings::NOT_A_FOLLOW_UP),
            }
            Vec::new()
        }
        Command::LoadDemo => {
            // Only an empty database (the welcome screen) gets demo data at once; anywhere else
            // it is asked first, naming the file, as undo cannot take a demo load back.
            if !state.is_welcome() {
                state.overlay = Some(Overlay::Confirm(Confirm::LoadDemo {
                    path: state.db_path.clone(),
                    existing: state.list.total,
                }));
                return Vec::new();
            }
            state.busy = Some(strings::DEMO_LOADING.to_string());
            vec![Effect::LoadDemo]
        }
        Command::ShowTrash => {
            state.overlay = Some(Overlay::Trash(Default::default()));
            vec![Effect::LoadTrash]
        }
        Command::RestoreContact => {
            let Some(Overlay::Trash(trash)) = &state.overlay else {
                return Vec::new();
            };
            match trash.items.get(trash.selected) {
                Some(row) => vec![Effect::RestoreContact {
                    id: row.id,
                    done: strings::restored(&text::visible(&row.name, false)),
                }],
                None => Vec::new(),
            }
        }
        Command::ImportHint => {
            state.info(strings::IMPORT_HINT);
            Vec::new()
        }
        Command::CopyEmail => {
            match state
                .selected_contact()
                .and_then(|c| c.primary_email())
                .map(|e| text::visible(e, false).into_owned())
            {
                // Never onto the clipboard unannounced: text a shell would act on when pasted
                // into a terminal (stored before emails were checked, or synced from elsewhere).
                Some(email)
                    if crate::domain::check_email(&email).is_err()
                        || email.contains(|c| "$`|;&<>(){}\\\"'".contains(c)) =>
                {
                    state.error(strings::not_copied(&email));
                    Vec::new()
                }
                Some(email) => {
                    state.info(strings::copied(&email));
                    vec![Effect::CopyToClipboard(email)]
                }
                None => {
                    state.error(strings::NO_EMAIL);
                    Vec::new()
                }
            }
        }
        Command::NewFollowUp => {
            match state.subject() {
                Some((contact, contact_name)) => {
                    state.overlay = Some(Overlay::NewFollowUp(FollowUpDraft {
                        contact,
                        contact_name,
                        ..FollowUpDraft::default()
                    }));
                }
                None => state.error(strings::NOTHING_SELECTED),
            }
            Vec::new()
        }
        Command::MergeDuplicates => merge::start(state),
        Command::ContactHistory => match state.subject() {
            Some((contact, name)) => {
                state.overlay = Some(Overlay::History(Box::new(HistoryView {
                    contact,
                    name,
                    entries: None,
                    scroll: 0,
                })));
                vec![Effect::LoadHistory(contact)]
            }
            None => Vec::new(),
        },
        Command::MergePickLeft
        | Command::MergePickRight
        | Command::MergePickBoth
        | Command::MergeSwap => merge::pick(state, command),
        Command::Suspend => vec![Effect::Suspend],
        Command::Redraw => vec![Effect::Redraw],
        // Motions and text editing were handled above.
        _ => Vec::new(),
    }
}

fn step(at: usize, len: usize, forward: bool) -> usize {
    if len == 0 {
        0
    } else if forward {
        (at + 1) % len
    } else {
        (at + len - 1) % len
    }
}

/// Text-editing commands act on the focused input; `None` when the command is not one of them.
fn input_command(state: &mut State, command: Command) -> Option<Vec<Effect>> {
    let edit: fn(&mut TextInput) = match command {
        Command::DeleteBackward => TextInput::delete_backward,
        Command::DeleteForward => TextInput::delete_forward,
        Command::DeleteWordBackward => TextInput::delete_word_backward,
        Command::CursorLeft => TextInput::left,
        Command::CursorRight => TextInput::right,
        Command::CursorHome => TextInput::home,
        Command::CursorEnd => TextInput::end,
        Command::ClearLine => TextInput::clear,
        _ => return None,
    };
    Some(edit_input(state, edit))
}

fn focused_input(state: &mut State) -> Option<&mut TextInput> {
    match &mut state.overlay {
        Some(Overlay::Search(search)) => Some(&mut search.input),
        Some(Overlay::Log(log)) => log.inputs.get_mut(log.focus),
        Some(Overlay::Form(form)) => form.inputs.get_mut(form.focus),
        Some(Overlay::Reschedule { input, .. }) => Some(input),
        Some(Overlay::NewFollowUp(draft)) => draft.inputs.get_mut(draft.focus),
        _ => None,
    }
}

/// Applies an edit to the focused input (nothing happens without one: pastes never reach the
/// keymap) and re-runs the search when its query changed.
fn edit_input(state: &mut State, edit: impl FnOnce(&mut TextInput)) -> Vec<Effect> {
    let Some(input) = focused_input(state) else {
        return Vec::new();
    };
    let before = input.text().to_string();
    edit(input);
    let changed = input.text() != before;
    match &mut state.overlay {
        Some(Overlay::Search(search)) if changed => {
            search.generation += 1;
            search.selected = 0;
            let query = search.input.text().trim().to_string();
            if query.is_empty() {
                search.hits.clear();
                search.answered = search.generation;
                Vec::new()
            } else {
                vec![Effect::Search {
                    generation: search.generation,
                    query,
                }]
            }
        }
        _ => Vec::new(),
    }
}

fn search_pending(state: &State) -> bool {
    matches!(&state.overlay, Some(Overlay::Search(s)) if s.pending_open)
}

/// The results of the query as typed arrived after `open` was pressed: act on them now, then
/// replay the keys pressed meanwhile.
fn pending_open(state: &mut State) -> Vec<Effect> {
    let Some(Overlay::Search(search)) = &mut state.overlay else {
        return Vec::new();
    };
    search.pending_open = false;
    state.busy = None;
    let queued = std::mem::take(&mut search.queued);
    let mut effects = open(state);
    if !queued.is_empty() {
        effects.push(Effect::Replay(queued));
    }
    effects
}

/// The quit key: quits at once unless that would lose a filled form; then it asks first, and
/// a second press (having seen the question) quits.
fn quit(state: &mut State) -> Vec<Effect> {
    let too_small = layout::too_small(state);
    match state.overlay.take() {
        Some(Overlay::Discard { form, quit }) => {
            if quit && !too_small {
                state.quit = true;
            }
            state.overlay = Some(Overlay::Discard { form, quit: true });
        }
        Some(overlay) if overlay.is_filled_form() => {
            // Unseen, the question could not be read: nothing happens until the window grows.
            state.overlay = Some(if too_small {
                overlay
            } else {
                Overlay::Discard {
                    form: Box::new(unwrap_help(overlay)),
                    quit: true,
                }
            });
        }
        other => {
            state.overlay = other;
            state.quit = true;
        }
    }
    Vec::new()
}

/// The form under a help overlay (help shown over a form closes when asking about it).
fn unwrap_help(overlay: Overlay) -> Overlay {
    match overlay {
        Overlay::Help {
            under: Some(under), ..
        } => unwrap_help(*under),
        other => other,
    }
}

fn back(state: &mut State) -> Vec<Effect> {
    if !state.pending.is_empty() {
        clear_pending(state);
        return Vec::new();
    }
    match state.overlay.take() {
        Some(Overlay::Search(search)) => {
            (state.list.selected, state.list.offset) = search.previous;
            follow_selection(state)
        }
        Some(Overlay::Help { under, .. }) => {
            state.overlay = under.map(|o| *o);
            Vec::new()
        }
        // "Keep editing": the form comes back as it was.
        Some(Overlay::Discard { form, .. }) => {
            state.overlay = Some(*form);
            Vec::new()
        }
        Some(Overlay::SharedOnAdd(shared)) => {
            state.overlay = Some(shared.form);
            Vec::new()
        }
        // Closing a form with typed work asks first.
        Some(overlay) if overlay.is_filled_form() => {
            state.overlay = Some(Overlay::Discard {
                form: Box::new(overlay),
                quit: false,
            });
            Vec::new()
        }
        Some(_) => Vec::new(),
        None => {
            if matches!(state.screen, Screen::Today | Screen::Dashboard) {
                state.screen = Screen::Main;
                return follow_selection(state);
            }
            let keep = state.list.selected_id();
            if state.list.clear_filter() {
                return reselect(state, keep);
            }
            Vec::new()
        }
    }
}

/// Shows the selected search result in the detail pane while the search is open: the list
/// selection follows it underneath (esc puts the previous selection back).
fn preview_hit(state: &mut State) -> Vec<Effect> {
    let Some(Overlay::Search(search)) = &state.overlay else {
        return Vec::new();
    };
    let Some(id) = search.hits.get(search.selected).map(|h| h.id) else {
        return Vec::new();
    };
    match state.list.ids.iter().position(|x| *x == id) {
        Some(at) => {
            state.list.selected = at;
            follow_selection(state)
        }
        None => Vec::new(),
    }
}

fn open(state: &mut State) -> Vec<Effect> {
    match &mut state.overlay {
        Some(Overlay::Search(search)) => {
            // The shown hits answer an older query: act once the query as typed is answered.
            if search.answered != search.generation {
                search.pending_open = true;
                state.busy = Some(strings::searching(search.input.text().trim()));
                return Vec::new();
            }
            let Some(hit) = search.hits.get(search.selected) else {
                let query = search.input.text().trim().to_string();
                if !query.is_empty() {
                    state.error(strings::no_match(&text::visible(&query, false)));
                }
                return Vec::new();
            };
            let id = hit.id;
            // Several hits: the search stays on the list as a filter (esc clears it).
            let hits: Vec<Id> = search.hits.iter().map(|h| h.id).collect();
            let query = search.input.text().trim().to_string();
            state.overlay = None;
            state.screen = Screen::Main;
            if hits.len() > 1 {
                let list = &mut state.list;
                // A search made over a filtered list searched everyone: it replaces the filter.
                list.clear_filter();
                list.filter = Some(crate::tui::state::ListFilter {
                    query,
                    all: std::mem::take(&mut list.ids),
                    all_total: list.total,
                    all_complete: list.complete,
                    ranked: true,
                });
                list.total = hits.len() as u64;
                list.ids = hits;
                list.complete = true;
                list.offset = 0;
            }
            return reselect(state, Some(id));
        }
        Some(_) => return Vec::new(),
        None => {}
    }
    if state.screen == Screen::Today {
        return open_today_item(state);
    }
    if state.screen == Screen::Dashboard {
        return dashboard::open(state);
    }
    match state.focus {
        Pane::List => focus(state, Pane::Detail),
        Pane::Detail => Vec::new(),
        Pane::Timeline => {
            if let Some(entry) = state
                .detail
                .as_ref()
                .and_then(|d| d.timeline.get(state.timeline_selected))
            {
                state.overlay = Some(Overlay::Entry {
                    entry: Box::new(entry.clone()),
                    scroll: 0,
                });
            }
            Vec::new()
        }
    }
}

fn open_today_item(state: &mut State) -> Vec<Effect> {
    let Some((id, _)) = state.subject() else {
        return Vec::new();
    };
    state.screen = Screen::Main;
    state.focus = Pane::List;
    reselect(state, Some(id))
}

fn selected_follow_up(state: &State) -> Option<crate::domain::FollowUp> {
    if state.screen == Screen::Today {
        return state
            .today_view
            .items
            .get(state.today_view.selected)
            .map(|item| item.follow_up.clone());
    }
    let view = state.detail.as_ref()?;
    let candidate = match state.focus {
        Pane::Timeline => view.timeline.get(state.timeline_selected),
        _ => view
            .timeline
            .iter()
            .filter(|e| matches!(e, Entry::FollowUp(f) if f.is_open()))
            .min_by_key(|e| match e {
                Entry::FollowUp(f) => f.due,
                _ => state.today,
            }),
    };
    match candidate {
        Some(Entry::FollowUp(f)) if f.is_open() => Some(f.clone()),
        _ => None,
    }
}

/// The interaction selected in the timeline (when the timeline has the focus).
fn selected_interaction(state: &State) -> Option<Interaction> {
    if state.screen != Screen::Main || state.focus != Pane::Timeline {
        return None;
    }
    match state
        .selected_detail()?
        .timeline
        .get(state.timeline_selected)?
    {
        Entry::Interaction(i) => Some(i.clone()),
        _ => None,
    }
}

fn open_log(state: &mut State) -> Vec<Effect> {
    // A call made from the queue answers the follow-up it was made for.
    let answers = if state.screen == Screen::Today {
        selected_follow_up(state)
    } else {
        None
    };
    match state.subject() {
        Some((contact, contact_name)) => {
            state.changed_by_other = None;
            state.overlay = Some(Overlay::Log(LogDraft {
                answers,
                contact,
                contact_name,
                channel: state.last_channel,
                inputs: Default::default(),
                focus: 0,
                body: String::new(),
                errors: Default::default(),
                editing: None,
            }));
        }
        None => state.error(strings::NOTHING_SELECTED),
    }
    Vec::new()
}

/// Steps a choice field (stage, preferred channel) through its values, from the domain's own
/// lists; the preferred channel can also be none. Other fields are left alone.
fn choose(form: &mut FormDraft, forward: bool) {
    let Some(field) = FormField::ALL.get(form.focus).copied() else {
        return;
    };
    let values: Vec<&str> = match field {
        FormField::Stage => Stage::ALL.iter().map(|s| s.name()).collect(),
        FormField::PreferredChannel => std::iter::once("")
            .chain(Channel::ALL.iter().map(|c| c.name()))
            .collect(),
        FormField::Tier => std::iter::once("")
            .chain(crate::domain::TIERS.iter().copied())
            .collect(),
        _ => return,
    };
    let Some(input) = form.inputs.get_mut(form.focus) else {
        return;
    };
    let now = input.text().trim().to_lowercase();
    let next = match values.iter().position(|v| *v == now) {
        Some(at) => step(at, values.len(), forward),
        None if forward => 0,
        None => values.len() - 1,
    };
    *input = TextInput::new(values[next]);
}

/// One part of the contact's first address, empty without one.
fn address(c: &Contact, part: impl Fn(&Address) -> &String) -> String {
    c.addresses
        .first()
        .map(|a| part(a).clone())
        .unwrap_or_default()
}

fn new_form(original: Option<Contact>, organization: &str) -> FormDraft {
    // `label: value` so labels can be seen and changed (a value alone keeps no label).
    let join = |points: &[Labelled]| {
        points
            .iter()
            .map(|p| match p.label.as_str() {
                "" => p.value.clone(),
                label => format!("{label}: {}", p.value),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let inputs: Vec<TextInput> = FormField::ALL
        .iter()
        .map(|field| {
            let Some(c) = &original else {
                return TextInput::default();
            };
            TextInput::new(&match field {
                FormField::Name => c.name.clone(),
                FormField::Organization => organization.to_string(),
                FormField::Title => c.title.clone(),
                FormField::Emails => join(&c.emails),
                FormField::Phones => join(&c.phones),
                // The first address in full (others are kept as they are).
                FormField::Street => address(c, |a| &a.street),
                FormField::Postcode => address(c, |a| &a.postcode),
                FormField::City => address(c, |a| &a.city),
                FormField::Region => address(c, |a| &a.region),
                FormField::Country => address(c, |a| &a.country),
                FormField::Tags => c.tags.join(", "),
                FormField::Stage => c.stage.to_string(),
                FormField::Tier => c.tier.clone(),
                FormField::Owner => c.owner.clone(),
                FormField::Birthday => c.birthday.map(|b| b.to_string()).unwrap_or_default(),
                FormField::Language => c.language.clone(),
                FormField::PreferredChannel => c
                    .preferred_channel
                    .map(|ch| ch.name().to_string())
                    .unwrap_or_default(),
                FormField::Source => c.source.clone(),
                FormField::Custom => c
                    .custom
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
                // Consent is changed, not retyped: these start empty (the detail pane shows
                // the current state) and a filled line appends to the history.
                FormField::Consent | FormField::ConsentPurpose | FormField::ConsentEvidence => {
                    String::new()
                }
                FormField::Notes => c.notes.clone(),
            })
        })
        .collect();
    let initial = inputs.iter().map(|i| i.text().to_string()).collect();
    FormDraft {
        original,
        initial,
        inputs,
        focus: 0,
        errors: Default::default(),
        refusal: None,
    }
}

fn submit(state: &mut State) -> Vec<Effect> {
    if let Some(effects) = merge::submit(state) {
        return effects;
    }
    let today = state.today;
    let now = state.now;
    let undo_keys = state.undo_keys.clone();
    match &mut state.overlay {
        Some(Overlay::Log(log)) => {
            let field = |f: LogField| log.inputs[f as usize].text().trim().to_string();
            let mut errors = std::collections::HashMap::new();
            let direction = match field(LogField::Direction).as_str() {
                // An incoming call is the common case, as in `rolo log`.
                "" => Direction::Inbound,
                d => d.parse().unwrap_or_else(|e: String| {
                    errors.insert(LogField::Direction.key(), e);
                    Direction::Inbound
                }),
            };
            let outcome = match field(LogField::Outcome).as_str() {
                "" => None,
                o => o.parse::<Outcome>().map_or_else(
                    |e| {
                        errors.insert(LogField::Outcome.key(), e);
                        None
                    },
                    Some,
                ),
            };
            let satisfaction = match field(LogField::Satisfaction).as_str() {
                "" => None,
                s => match s.parse::<u8>() {
                    Ok(n) if (1..=5).contains(&n) => Some(n),
                    _ => {
                        errors.insert(
                            LogField::Satisfaction.key(),
                            strings::SATISFACTION_RANGE.to_string(),
                        );
                        None
                    }
                },
            };
            let follow_up = match field(LogField::FollowUp).as_str() {
                "" => None,
                due => time::parse_due(due, today).map_or_else(
                    |e| {
                        errors.insert(LogField::FollowUp.key(), e);
                        None
                    },
                    Some,
                ),
            };
            if field(LogField::Summary).is_empty() && log.body.trim().is_empty() {
                errors.insert(LogField::Summary.key(), strings::SUMMARY_NEEDED.to_string());
            }
            if !errors.is_empty() {
                log.errors = errors;
                return Vec::new();
            }
            if let Some(original) = &log.editing {
                if follow_up.is_some() {
                    log.errors.insert(
                        LogField::FollowUp.key(),
                        strings::NO_FOLLOW_UP_ON_EDIT.to_string(),
                    );
                    return Vec::new();
                }
                log.errors.clear();
                let edited = Interaction {
                    channel: log.channel,
                    direction,
                    summary: field(LogField::Summary),
                    body: log.body.clone(),
                    outcome,
                    satisfaction,
                    ..(**original).clone()
                };
                return vec![Effect::EditInteraction {
                    original: original.clone(),
                    edited: Box::new(edited),
                }];
            }
            log.errors.clear();
            let interaction = Interaction {
                id: 0,
                contact: log.contact,
                at: now,
                channel: log.channel,
                direction,
                summary: field(LogField::Summary),
                body: log.body.clone(),
                outcome,
                satisfaction,
                agent: String::new(),
                deal: None,
                campaign: String::new(),
            };
            let done = strings::logged(
                log.channel.name(),
                &text::visible(&log.contact_name, false),
                &undo_keys,
            );
            state.last_channel = log.channel;
            vec![Effect::LogInteraction {
                interaction: Box::new(interaction),
                follow_up,
                answers: log.answers.clone().map(Box::new),
                done,
            }]
        }
        Some(Overlay::Form(form)) => {
            let effects = submit_form(form, now);
            // A refused save goes to the first field with a problem.
            if let Some(at) = FormField::ALL
                .iter()
                .position(|f| form.errors.contains_key(f.key()))
            {
                form.focus = at;
            }
            effects
        }
        Some(Overlay::NewFollowUp(draft)) => match time::parse_due(draft.inputs[1].text(), today) {
            Ok(due) => vec![Effect::AddFollowUp(Box::new(FollowUp {
                id: 0,
                contact: draft.contact,
                created: now,
                due,
                what: draft.inputs[0].text().to_string(),
                done_at: None,
                assignee: String::new(),
            }))],
            Err(e) => {
                // The date is what is missing or wrong: go there.
                draft.error = Some(e);
                draft.focus = 1;
                Vec::new()
            }
        },
        Some(Overlay::Reschedule {
            follow_up,
            input,
            error,
        }) => match time::parse_due(input.text(), today) {
            Ok(due) => vec![Effect::Reschedule {
                follow_up: Box::new(follow_up.clone()),
                due,
            }],
            Err(e) => {
                *error = Some(e);
                Vec::new()
            }
        },
        _ => Vec::new(),
    }
}

fn submit_form(form: &mut FormDraft, now: crate::domain::At) -> Vec<Effect> {
    let value = |f: FormField| {
        let at = FormField::ALL.iter().position(|x| *x == f).unwrap_or(0);
        form.inputs
            .get(at)
            .map(|i| i.text().to_string())
            .unwrap_or_default()
    };
    let list = |f: FormField| -> Vec<String> {
        value(f)
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    // `label: value` sets the label; a bare value keeps the label at its position (or gets the
    // default), so values typed without labels behave as before.
    let relabel = |values: Vec<String>, old: &[Labelled], default: &str| -> Vec<Labelled> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| match split_label(v) {
                Some((label, value)) => Labelled::new(label, value),
                None => {
                    let label = old.get(i).map_or(default, |o| o.label.as_str());
                    Labelled::new(label, v)
                }
            })
            .collect()
    };
    form.errors.clear();
    form.refusal = None;
    let stage = match value(FormField::Stage).trim() {
        "" => None,
        s => match s.parse::<Stage>() {
            Ok(stage) => Some(stage),
            Err(e) => {
                form.errors.insert(FormField::Stage.key().to_string(), e);
                return Vec::new();
            }
        },
    };
    let birthday = match value(FormField::Birthday).trim() {
        "" => None,
        b => match b.parse::<crate::domain::Birthday>() {
            Ok(b) => Some(b),
            Err(e) => {
                form.errors.insert(FormField::Birthday.key().to_string(), e);
                return Vec::new();
            }
        },
    };
    let preferred_channel = match value(FormField::PreferredChannel).trim() {
        "" => None,
        ch => match ch.parse::<Channel>() {
            Ok(ch) => Some(ch),
            Err(e) => {
                form.errors
                    .insert(FormField::PreferredChannel.key().to_string(), e.to_string());
                return Vec::new();
            }
        },
    };
    let mut custom = std::collections::BTreeMap::new();
    for item in value(FormField::Custom).split(';') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                if !v.trim().is_empty() {
                    custom.insert(
                        k.trim().to_string(),
                        crate::domain::CustomValue::guess(v.trim()),
                    );
                }
            }
            _ => {
                form.errors.insert(
                    FormField::Custom.key().to_string(),
                    strings::bad_custom(item),
                );
                return Vec::new();
            }
        }
    }
    let evidence = value(FormField::ConsentEvidence).trim().to_string();
    let purpose = value(FormField::ConsentPurpose).trim().to_string();
    let mut consent = Vec::new();
    for item in value(FormField::Consent).split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let parsed = item.split_once('=').and_then(|(ch, status)| {
            Some((
                ch.trim().parse::<Channel>().ok()?,
                status.trim().parse::<crate::domain::ConsentStatus>().ok()?,
            ))
        });
        let Some((channel, status)) = parsed else {
            form.errors.insert(
                FormField::Consent.key().to_string(),
                strings::bad_consent(item),
            );
            return Vec::new();
        };
        consent.push(crate::domain::Consent {
            channel,
            status,
            at: now,
            source: evidence.clone(),
            purpose: purpose.clone(),
        });
    }
    if !consent.is_empty() && evidence.is_empty() {
        form.errors.insert(
            FormField::ConsentEvidence.key().to_string(),
            strings::CONSENT_NEEDS_EVIDENCE.to_string(),
        );
        return Vec::new();
    }
    let language = value(FormField::Language).trim().to_string();
    let source = value(FormField::Source).trim().to_string();
    let typed_address = Address {
        street: value(FormField::Street).trim().to_string(),
        postcode: value(FormField::Postcode).trim().to_string(),
        city: value(FormField::City).trim().to_string(),
        region: value(FormField::Region).trim().to_string(),
        country: value(FormField::Country).trim().to_string(),
        ..Address::default()
    };
    let no_address = typed_address == Address::default();
    match &form.original {
        None => {
            let draft = ContactDraft {
                name: value(FormField::Name),
                organization: value(FormField::Organization),
                title: value(FormField::Title),
                emails: relabel(list(FormField::Emails), &[], "work"),
                phones: relabel(list(FormField::Phones), &[], "mobile"),
                addresses: if no_address {
                    Vec::new()
                } else {
                    vec![typed_address]
                },
                stage,
                tier: value(FormField::Tier),
                owner: value(FormField::Owner),
                tags: list(FormField::Tags),
                notes: value(FormField::Notes),
                birthday,
                language,
                preferred_channel,
                source,
                custom,
                consent,
                ..ContactDraft::default()
            };
            // Check here too so problems show next to their fields before anything is written.
            if let Err(invalid) = draft
                .clone()
                .into_contact(&crate::domain::Actor::new("check"))
            {
                form.field_errors(&invalid.0);
                return Vec::new();
            }
            vec![Effect::AddContact {
                draft: Box::new(draft),
                check_shared: true,
            }]
        }
        Some(original) => {
            let mut c = original.clone();
            c.name = value(FormField::Name);
            c.title = value(FormField::Title);
            c.emails = relabel(list(FormField::Emails), &original.emails, "work");
            c.phones = relabel(list(FormField::Phones), &original.phones, "mobile");
            // The first address as typed (its label kept); emptied, it is removed.
            match (c.addresses.first_mut(), no_address) {
                (Some(_), true) => {
                    c.addresses.remove(0);
                }
                (Some(first), false) => {
                    *first = Address {
                        label: first.label.clone(),
                        ..typed_address
                    }
                }
                (None, false) => c.addresses.push(typed_address),
                (None, true) => {}
            }
            if let Some(stage) = stage {
                c.stage = stage;
            }
            c.tier = value(FormField::Tier);
            c.owner = value(FormField::Owner);
            c.tags = list(FormField::Tags);
            c.notes = value(FormField::Notes);
            c.birthday = birthday;
            c.language = language;
            c.preferred_channel = preferred_channel;
            c.source = source;
            c.custom = custom;
            c.consent.extend(consent);
            let mut check = c.clone();
            check.clean();
            if let Err(invalid) = check.validate() {
                form.field_errors(&invalid.0);
                return Vec::new();
            }
            vec![Effect::UpdateContact {
                contact: Box::new(c),
                organization: value(FormField::Organization),
                base: form.original.clone().map(Box::new),
            }]
        }
    }
}

/// `work: ana@x.example` → `("work", "ana@x.example")`: a short word, a colon and a space make
/// a label (as the form shows them). Anything else (`sip:…`, spaces in the word) is a value.
fn split_label(item: &str) -> Option<(&str, &str)> {
    let (label, value) = item.split_once(": ")?;
    let label = label.trim();
    let value = value.trim();
    let wordlike = !label.is_empty()
        && label.chars().count() <= 20
        && label
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    (wordlike && !value.is_empty()).then_some((label, value))
}
