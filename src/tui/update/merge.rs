//! The merge flow: find the selected contact's likely duplicates, pick one, choose field by field,
//! save. Reads and the write are effects; this module only moves state.

use crate::domain::merge::{MergeField, Pick};
use crate::domain::text;
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::state::{MergeCandidate, MergeChoice, MergeState, Overlay, State};
use crate::tui::strings;

/// `merge_duplicates`: look for duplicates of the contact on screen.
pub fn start(state: &mut State) -> Vec<Effect> {
    match state.subject() {
        Some((id, name)) => {
            state.busy = Some(strings::finding_duplicates(&text::visible(&name, false)));
            vec![Effect::FindDuplicates { id, name }]
        }
        None => {
            state.error(strings::NOTHING_SELECTED);
            Vec::new()
        }
    }
}

/// The candidates arrived: none is a message, one or more open the choice.
pub fn duplicates(
    state: &mut State,
    subject: crate::domain::Id,
    subject_name: String,
    candidates: Vec<MergeCandidate>,
) -> Vec<Effect> {
    state.busy = None;
    // The user moved on meanwhile (another overlay opened): drop the answer.
    if state.overlay.is_some() {
        return Vec::new();
    }
    if candidates.is_empty() {
        state.info(strings::no_duplicates(&text::visible(&subject_name, false)));
        return Vec::new();
    }
    state.overlay = Some(Overlay::MergeChoice(MergeChoice {
        subject,
        subject_name,
        candidates,
        selected: 0,
    }));
    Vec::new()
}

/// Both records are loaded: show them side by side (only if the choice is still open).
pub fn ready(state: &mut State, plan: crate::domain::merge::MergePlan) -> Vec<Effect> {
    state.busy = None;
    // Only the pair still chosen: an answer for an earlier choice is dropped.
    let pair = [plan.left.id, plan.right.id];
    let chosen = match &state.overlay {
        Some(Overlay::MergeChoice(c)) => c
            .candidates
            .get(c.selected)
            .is_some_and(|other| pair.contains(&c.subject) && pair.contains(&other.id)),
        _ => false,
    };
    if chosen {
        state.overlay = Some(Overlay::Merge(Box::new(MergeState {
            plan,
            row: 0,
            error: None,
        })));
    }
    Vec::new()
}

/// Motions move the choice or the field; returns `None` when no merge overlay is open.
pub fn motion(state: &mut State, command: Command, page: usize) -> Option<Vec<Effect>> {
    let moved = |at: usize, len: usize| super::moved(at, len, command, page);
    match &mut state.overlay {
        Some(Overlay::MergeChoice(choice)) => {
            choice.selected = moved(choice.selected, choice.candidates.len());
        }
        Some(Overlay::Merge(merge)) => {
            merge.row = moved(merge.row, MergeField::ALL.len());
            merge.error = None;
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// `merge_pick_*` and `merge_swap` inside the side-by-side view.
pub fn pick(state: &mut State, command: Command) -> Vec<Effect> {
    let Some(Overlay::Merge(merge)) = &mut state.overlay else {
        return Vec::new();
    };
    let field = merge.field();
    let pick = match command {
        Command::MergePickLeft => Pick::Left,
        Command::MergePickRight => Pick::Right,
        Command::MergePickBoth => Pick::Both,
        Command::MergeSwap => {
            merge.plan.swap();
            merge.error = None;
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    merge.error = if field.is_fixed() {
        Some(strings::MERGE_CONSENT_FIXED.to_string())
    } else if pick == Pick::Both && !field.can_combine() {
        Some(strings::merge_single_value(field.label()))
    } else {
        merge.plan.set(field, pick);
        None
    };
    Vec::new()
}

/// Enter: on the choice, load both records; on the side-by-side view, save the merge.
pub fn submit(state: &mut State) -> Option<Vec<Effect>> {
    let undo_keys = state.undo_keys.clone();
    match &mut state.overlay {
        Some(Overlay::MergeChoice(choice)) => {
            let other = choice.candidates.get(choice.selected)?.id;
            Some(vec![Effect::LoadMerge {
                subject: choice.subject,
                other,
            }])
        }
        Some(Overlay::Merge(merge)) => {
            let plan = &merge.plan;
            let merged = plan.result();
            let kept = format!("{} (#{})", text::visible(&merged.name, false), merged.id);
            let absorbed = format!(
                "{} (#{})",
                text::visible(&plan.right.name, false),
                plan.right.id
            );
            let done = strings::merged(&absorbed, &kept, plan.right_history, &undo_keys);
            let effect = Effect::Merge {
                merged: Box::new(merged),
                absorbed: Box::new(plan.right.clone()),
                done,
            };
            state.busy = Some(strings::merging(&kept));
            Some(vec![effect])
        }
        _ => None,
    }
}
