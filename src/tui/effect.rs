//! What `update` asks the outside world to do, and the store half of the effect runner. Each
//! effect's result comes back as [`Msg`]s. Terminal-bound effects (the editor, suspend) and
//! threading are the app loop's business; this module must not touch the terminal.

use std::collections::HashMap;

use crate::api::Db;
use crate::domain::merge::MergePlan;
use crate::domain::{Contact, ContactDraft, Day, Entry, FollowUp, Id, Interaction, text};
use crate::interop::duplicates_of;
use crate::store::{Record, StoreError};
use crate::tui::msg::{Msg, Reload};
use crate::tui::state::{ContactView, MergeCandidate};
use crate::tui::strings;

/// How many ids the first frame loads; the rest arrive in the background.
pub const FIRST_PAGE: usize = 200;
/// Chunk size of the background id load.
pub const ID_CHUNK: usize = 50_000;
/// Most contacts a list filter holds (a drill-down into a segment holds all of them).
pub const FILTER_LIMIT: usize = 1_000_000;
/// Timeline entries loaded per contact.
pub const TIMELINE_LIMIT: usize = 500;
/// Demo contacts loaded from the welcome screen, and their seed.
pub const DEMO_CONTACTS: u64 = 200;
pub const DEMO_SEED: u64 = 1;

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Count contacts and read the first page of ids (fast, before the first frame).
    Start,
    /// Read all ids in name order (background).
    LoadAllIds {
        generation: u64,
    },
    LoadRows(Vec<Id>),
    LoadContact(Id),
    /// (Re)build the search corpus (background).
    IndexSearch,
    /// Refresh one contact's search entry (dropped if the contact is gone).
    IndexContact(Id),
    Search {
        generation: u64,
        query: String,
    },
    LoadDue(Day),
    /// Compute the dashboard's figures (the reports' functions) as of the end of that day.
    LoadDashboard(Day),
    /// Find every contact `query` matches, for the list to show them (a dashboard drill-down).
    FilterList {
        query: String,
    },
    /// Ask again for the contacts the list's filter shows (someone else's change may add or
    /// remove some): ranked search hits, or every match.
    RefreshFilter {
        query: String,
        ranked: bool,
    },
    /// Add a contact; with `check_shared`, first look for someone who already has one of its
    /// emails or phones and ask (`Msg::SharedOnAdd`) instead of saving.
    AddContact {
        draft: Box<ContactDraft>,
        check_shared: bool,
    },
    UpdateContact {
        contact: Box<Contact>,
        organization: String,
        /// The contact as the form loaded it: a save by someone else meanwhile is merged
        /// field by field against it.
        base: Option<Box<Contact>>,
    },
    /// `done` is the confirmation shown once it worked.
    DeleteContact {
        id: Id,
        done: String,
    },
    Undo,
    LogInteraction {
        interaction: Box<Interaction>,
        follow_up: Option<Day>,
        /// The open follow-up this log answers, closed in the same transaction.
        answers: Option<Box<FollowUp>>,
        done: String,
    },
    CompleteFollowUp(Box<FollowUp>),
    /// Save an edited interaction over `original` (as it was read).
    EditInteraction {
        original: Box<Interaction>,
        edited: Box<Interaction>,
    },
    /// `done` is the confirmation shown once it worked.
    DeleteInteraction {
        original: Box<Interaction>,
        done: String,
    },
    AddFollowUp(Box<FollowUp>),
    Reschedule {
        follow_up: Box<FollowUp>,
        due: Day,
    },
    LoadDemo,
    /// Read a contact's audit trail for the history overlay.
    LoadHistory(Id),
    /// List the trash for the trash view.
    LoadTrash,
    /// Bring a contact back from the trash; `done` is shown once it worked.
    RestoreContact {
        id: Id,
        done: String,
    },
    /// Score the likely duplicates of a contact (exact indexes and name neighbours).
    FindDuplicates {
        id: Id,
        name: String,
    },
    /// Load two contacts into a merge plan; the one with more history survives by default.
    LoadMerge {
        subject: Id,
        other: Id,
    },
    /// Save a merge; `done` is the confirmation shown once it worked.
    Merge {
        merged: Box<Contact>,
        absorbed: Box<Contact>,
        done: String,
    },
    /// Suspend the terminal and edit this text in $EDITOR.
    OpenEditor(String),
    Suspend,
    Redraw,
    /// Put text on the terminal's clipboard (OSC 52; works over SSH in most terminals).
    CopyToClipboard(String),
    /// Press these keys again, in order, through the keymap (they waited behind a search
    /// `open` for the results of the query as typed).
    Replay(Vec<crate::tui::keymap::Key>),
}

impl Effect {
    /// Effects the app runs on a worker thread so typing never waits.
    pub fn is_background(&self) -> bool {
        matches!(
            self,
            Effect::LoadAllIds { .. } | Effect::IndexSearch | Effect::Search { .. }
        )
    }
}

fn refused(e: &StoreError) -> Msg {
    let fields = match e {
        StoreError::Invalid(invalid) => invalid.0.clone(),
        _ => Vec::new(),
    };
    Msg::Refused {
        message: strings::error(&text::visible(&e.to_string(), false)),
        fields,
    }
}

fn failed(e: &StoreError) -> Vec<Msg> {
    vec![refused(e)]
}

/// Runs one store effect to completion and returns its messages. Background effects may run here
/// too (tests do); `Search`, `OpenEditor`, `Suspend` and `Redraw` return nothing.
pub fn run_store_effect(store: &Db, effect: Effect) -> Vec<Msg> {
    match effect {
        Effect::Start => match (store.contact_count(), store.ids_by_name(None, FIRST_PAGE)) {
            (Ok(total), Ok(first_ids)) => vec![Msg::Started { total, first_ids }],
            (Err(e), _) | (_, Err(e)) => failed(&e),
        },
        Effect::LoadAllIds { generation } => match all_ids(store) {
            Ok(ids) => vec![Msg::AllIds { generation, ids }],
            Err(e) => failed(&e),
        },
        Effect::LoadRows(ids) => match store.list_rows(ids) {
            Ok(rows) => vec![Msg::Rows(rows)],
            Err(e) => failed(&e),
        },
        Effect::LoadContact(id) => match load_contact(store, id) {
            Ok(Some(view)) => vec![Msg::ContactLoaded(Box::new(view))],
            Ok(None) => vec![Msg::ContactMissing(id)],
            Err(e) => failed(&e),
        },
        Effect::LoadHistory(contact) => match store.audit_about(contact) {
            Ok(mut entries) => {
                entries.reverse();
                vec![Msg::HistoryLoaded { contact, entries }]
            }
            Err(e) => failed(&e),
        },
        Effect::LoadDue(day) => match store.due_until(day, 10_000) {
            Ok(items) => vec![Msg::DueLoaded(items)],
            Err(e) => failed(&e),
        },
        Effect::LoadDashboard(day) => match store.dashboard(Some(day)) {
            Ok(d) => vec![Msg::DashboardLoaded(Box::new(d))],
            Err(e) => failed(&e),
        },
        Effect::FilterList { query } => match store.search_ids(query.clone(), FILTER_LIMIT) {
            Ok(ids) => vec![Msg::Filtered { query, ids }],
            Err(e) => failed(&e),
        },
        Effect::RefreshFilter { query, ranked } => {
            let limit = if ranked {
                crate::tui::search_bridge::LIMIT
            } else {
                FILTER_LIMIT
            };
            match store.search_ids(query.clone(), limit) {
                Ok(ids) => vec![Msg::FilterRefreshed { query, ids }],
                Err(e) => failed(&e),
            }
        }
        Effect::AddContact {
            draft,
            check_shared,
        } => {
            if check_shared {
                match shared_owner(store, &draft) {
                    Ok(Some((owner, owner_name, value))) => {
                        return vec![Msg::SharedOnAdd {
                            draft,
                            owner,
                            owner_name,
                            value,
                        }];
                    }
                    Ok(None) => {}
                    Err(e) => return failed(&e),
                }
            }
            match store.add_contact(*draft) {
                Ok(contact) => vec![Msg::ContactSaved(Box::new(contact))],
                Err(e) => failed(&e),
            }
        }
        Effect::UpdateContact {
            contact,
            organization,
            base,
        } => match store.update_contact(*contact, Some(organization), base.map(|b| *b)) {
            Ok(contact) => vec![Msg::ContactSaved(Box::new(contact))],
            Err(e) => failed(&e),
        },
        Effect::DeleteContact { id, done } => match store.delete_contact(id) {
            Ok(_) => vec![Msg::Written {
                message: done,
                select: None,
                reload: Reload::Contact(id),
            }],
            Err(e) => failed(&e),
        },
        Effect::Undo => match store.undo() {
            Ok(entry) => {
                // Show the contact the undone action was about (the restored one after a delete).
                let select = entry.changes.iter().find_map(|change| {
                    match change.after.as_ref().or(change.before.as_ref()) {
                        Some(Record::Contact(c)) => Some(c.id),
                        Some(Record::Entry(e)) => Some(e.contact()),
                        _ => None,
                    }
                });
                vec![Msg::Written {
                    message: strings::undone(&text::visible(&entry.action, false)),
                    select,
                    reload: Reload::Everything,
                }]
            }
            Err(e) => failed(&e),
        },
        Effect::LogInteraction {
            interaction,
            follow_up,
            answers,
            done,
        } => {
            let contact = interaction.contact;
            match store.log_interaction(
                *interaction,
                follow_up.map(|d| (d, String::new())),
                answers.map(|a| *a),
            ) {
                Ok(_) => vec![Msg::Written {
                    message: done,
                    select: Some(contact),
                    reload: Reload::Timeline,
                }],
                Err(e) => failed(&e),
            }
        }
        Effect::EditInteraction { original, edited } => {
            match store.edit_interaction(*original, *edited) {
                Ok(i) => vec![Msg::Written {
                    message: strings::interaction_edited(i.channel.name()),
                    select: None,
                    reload: Reload::Timeline,
                }],
                Err(e) => failed(&e),
            }
        }
        Effect::DeleteInteraction { original, done } => match store.delete_interaction(*original) {
            Ok(()) => vec![Msg::Written {
                message: done,
                select: None,
                reload: Reload::Timeline,
            }],
            Err(e) => failed(&e),
        },
        Effect::CompleteFollowUp(follow_up) => match store.complete_follow_up(*follow_up) {
            Ok(f) => vec![Msg::Written {
                message: strings::follow_up_done(&text::visible(&f.what, false)),
                select: None,
                reload: Reload::Timeline,
            }],
            Err(e) => failed(&e),
        },
        Effect::AddFollowUp(follow_up) => match store.add_entry(Entry::FollowUp(*follow_up)) {
            Ok(Entry::FollowUp(f)) => vec![Msg::Written {
                message: strings::follow_up_added(&f.due.to_string()),
                select: Some(f.contact),
                reload: Reload::Timeline,
            }],
            Ok(_) => Vec::new(),
            Err(e) => failed(&e),
        },
        Effect::Reschedule { follow_up, due } => {
            match store.reschedule_follow_up(*follow_up, due) {
                Ok(f) => vec![Msg::Written {
                    message: strings::rescheduled(&f.due.to_string()),
                    select: None,
                    reload: Reload::Timeline,
                }],
                Err(e) => failed(&e),
            }
        }
        Effect::LoadDemo => match store.load_demo(DEMO_CONTACTS, DEMO_SEED) {
            Ok(n) => vec![Msg::Written {
                message: strings::demo_loaded(n),
                select: None,
                reload: Reload::Everything,
            }],
            Err(e) => failed(&e),
        },
        Effect::LoadTrash => match store.trash() {
            Ok(bundles) => vec![Msg::TrashLoaded(
                bundles
                    .into_iter()
                    .map(|b| crate::tui::state::TrashRow {
                        id: b.contact.id,
                        history: b.entries.len() + b.deals.len(),
                        name: b.contact.name,
                        deleted_at: b.deleted.at,
                        deleted_by: b.deleted.by,
                    })
                    .collect(),
            )],
            Err(e) => failed(&e),
        },
        Effect::RestoreContact { id, done } => match store.restore_contact(id) {
            Ok(_) => vec![Msg::Written {
                message: done,
                select: Some(id),
                reload: Reload::Contact(id),
            }],
            Err(e) => failed(&e),
        },
        Effect::FindDuplicates { id, name } => match find_duplicates(store, id) {
            Ok(candidates) => vec![Msg::Duplicates {
                subject: id,
                subject_name: name,
                candidates,
            }],
            Err(e) => failed(&e),
        },
        Effect::LoadMerge { subject, other } => match load_merge(store, subject, other) {
            Ok(plan) => vec![Msg::MergeReady(Box::new(plan))],
            Err(e) => failed(&e),
        },
        Effect::Merge {
            merged,
            absorbed,
            done,
        } => match store.merge_contacts(*merged, (*absorbed).clone()) {
            Ok(m) => vec![Msg::Written {
                message: done,
                select: Some(m.contact.id),
                reload: Reload::Merged {
                    kept: m.contact.id,
                    absorbed: absorbed.id,
                },
            }],
            Err(e) => failed(&e),
        },
        Effect::IndexSearch
        | Effect::IndexContact(_)
        | Effect::Search { .. }
        | Effect::OpenEditor(_)
        | Effect::Suspend
        | Effect::Redraw
        | Effect::CopyToClipboard(_)
        | Effect::Replay(_) => Vec::new(),
    }
}

/// The likely duplicates of one contact, scored, best first.
fn find_duplicates(store: &Db, id: Id) -> Result<Vec<MergeCandidate>, StoreError> {
    let subject = store
        .contact(id)?
        .ok_or_else(|| StoreError::NotFound(format!("contact {id}")))?;
    let subject_org = store.organization_name(subject.organization)?;
    let others = store.possible_duplicates(subject.clone())?;
    let described: HashMap<Id, (String, String)> = others
        .iter()
        .map(|(c, org)| (c.id, (c.name.clone(), org.clone())))
        .collect();
    Ok(duplicates_of(&subject, &subject_org, others)
        .into_iter()
        .filter_map(|likely| {
            let (name, organization) = described.get(&likely.id)?.clone();
            Some(MergeCandidate {
                id: likely.id,
                name,
                organization,
                reason: likely.reason,
                score: likely.score,
            })
        })
        .collect())
}

/// Both contacts of a merge with their organisations and how much history each brings.
fn load_merge(store: &Db, subject: Id, other: Id) -> Result<MergePlan, StoreError> {
    let load = |id: Id| -> Result<(Contact, String, usize), StoreError> {
        let c = store
            .contact(id)?
            .ok_or_else(|| StoreError::NotFound(format!("contact {id}")))?;
        let org = store.organization_name(c.organization)?;
        let history = store.history_count(id)?;
        Ok((c, org, history))
    };
    let mut left = load(subject)?;
    let mut right = load(other)?;
    // The record with more history survives (ties: the older one), so fewer entries move and
    // the id people have used longest stays; `merge_swap` changes it.
    if (right.2, std::cmp::Reverse(right.0.id)) > (left.2, std::cmp::Reverse(left.0.id)) {
        std::mem::swap(&mut left, &mut right);
    }
    let (left, left_org, left_history) = left;
    let (right, right_org, right_history) = right;
    let mut plan = MergePlan::new(left, left_org, right, right_org);
    plan.left_history = left_history;
    plan.right_history = right_history;
    Ok(plan)
}

/// Every contact id in name order, read in chunks so no transaction is held for long.
pub fn all_ids(store: &Db) -> Result<Vec<Id>, StoreError> {
    let mut ids: Vec<Id> = Vec::new();
    loop {
        let chunk = store.ids_by_name(ids.last().copied(), ID_CHUNK)?;
        let done = chunk.len() < ID_CHUNK;
        ids.extend(chunk);
        if done {
            return Ok(ids);
        }
    }
}

pub fn load_contact(store: &Db, id: Id) -> Result<Option<ContactView>, StoreError> {
    let Some(contact) = store.contact(id)? else {
        return Ok(None);
    };
    Ok(Some(ContactView {
        organization: store.organization_name(contact.organization)?,
        timeline: store.timeline(id, TIMELINE_LIMIT)?,
        deals: store.deals_for(id)?,
        // A server that does not know the request yet: the profile without the figures.
        customer: store.customer_analytics(id).ok().flatten(),
        contact,
    }))
}

/// Someone who already has one of `draft`'s emails or phones: their id, name and the value.
fn shared_owner(
    store: &Db,
    draft: &ContactDraft,
) -> Result<Option<(Id, String, String)>, crate::store::StoreError> {
    let emails = draft.emails.iter().map(|e| (true, &e.value));
    let phones = draft.phones.iter().map(|p| (false, &p.value));
    for (is_email, value) in emails.chain(phones) {
        let value = text::clean_line(value);
        if value.is_empty() {
            continue;
        }
        let owners = if is_email {
            store.find_by_email(value.clone())?
        } else {
            store.find_by_phone(value.clone())?
        };
        for id in owners {
            if let Some(c) = store.contact(id)? {
                return Ok(Some((c.id, c.name, value)));
            }
        }
    }
    Ok(None)
}
