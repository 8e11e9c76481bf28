//! User actions: each is one write transaction that applies its changes through
//! [`Tables::apply`] and appends one audit entry. Undo replays an entry's inverse the same way.
//! Bulk loads (demo data, imports) share the primitives but record one summary entry per batch.

use redb::{ReadableTable, ReadableTableMetadata};

use super::audit::{AuditEntry, Change, Record, TrashBundle};
use super::deferred::Kind;
use super::tables::{Tables, decode, decode_entry, encode};
use super::{Store, StoreError};
use crate::domain::{
    Actor, At, Contact, ContactDraft, Day, Deal, Entry, FollowUp, Id, Interaction, Invalid,
    Organization, Stamp, text,
};

/// What `log_interaction` wrote.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Logged {
    pub interaction: Interaction,
    pub follow_up: Option<FollowUp>,
}

/// What `merge_contacts` wrote: the survivor as saved and how many timeline entries and deals
/// moved to it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Merged {
    pub contact: Contact,
    pub moved: usize,
}

/// How far back `undo` looks for the actor's last action.
const UNDO_HORIZON: usize = 10_000;

impl Store {
    /// Runs one action: `build` reads through the tables and returns the changes to make; they
    /// are checked, applied and audited in the same transaction.
    pub(super) fn act<R>(
        &self,
        actor: &Actor,
        action: &str,
        build: impl FnOnce(&mut Tables) -> Result<(Vec<Change>, R), StoreError>,
    ) -> Result<R, StoreError> {
        let txn = self.db.begin_write()?;
        let result = {
            let mut t = Tables::open(&txn)?;
            let (changes, result) = build(&mut t)?;
            for change in &changes {
                t.apply(change)?;
            }
            append_audit(&mut t, actor, action, changes, true)?;
            result
        };
        txn.commit()?;
        Ok(result)
    }

    pub fn add_contact(&self, actor: &Actor, draft: ContactDraft) -> Result<Contact, StoreError> {
        let org_name = text::clean_line(&draft.organization);
        let mut contact = draft.into_contact(actor)?;
        self.act(actor, "add contact", |t| {
            let mut changes = Vec::new();
            contact.organization = resolve_org(t, &org_name, &mut changes)?;
            contact.id = t.next("next_contact")?;
            contact.version = 1;
            changes.push(Change::create(Record::Contact(contact.clone())));
            Ok((changes, contact))
        })
    }

    /// Saves an edited contact. `edited.version` must be the version it was loaded at; if the
    /// contact changed meanwhile the edit is refused (`StoreError::Stale`), never merged blindly.
    /// `organization`: `Some(name)` re-links (empty unlinks), `None` keeps the link.
    pub fn update_contact(
        &self,
        actor: &Actor,
        edited: Contact,
        organization: Option<&str>,
    ) -> Result<Contact, StoreError> {
        self.update_contact_from(actor, None, edited, organization)
    }

    /// Saves `edited`. When someone saved the contact since `base` (the contact as the editor
    /// loaded it) was read, the two edits are merged field by field: refused as stale only
    /// when both changed the same field differently. Without a base any concurrent save is
    /// stale. The organisation counts as changed only when its name differs from `base`'s.
    pub fn update_contact_from(
        &self,
        actor: &Actor,
        base: Option<&Contact>,
        mut edited: Contact,
        organization: Option<&str>,
    ) -> Result<Contact, StoreError> {
        edited.clean();
        edited.validate()?;
        let mut org_name = organization.map(text::clean_line);
        self.act(actor, "edit contact", |t| {
            let current = t
                .contact(edited.id)?
                .ok_or_else(|| StoreError::NotFound(format!("contact {}", edited.id)))?;
            if current.version != edited.version {
                let Some(base) = base.filter(|b| b.version == edited.version) else {
                    return Err(StoreError::stale(&current));
                };
                let base_org = match base.organization {
                    Some(id) => t.organization(id)?.map(|o| o.name).unwrap_or_default(),
                    None => String::new(),
                };
                if org_name.as_deref() == Some(base_org.as_str()) {
                    // Not changed by this editor: whatever the other save set stays.
                    org_name = None;
                    edited.organization = base.organization;
                }
                match crate::domain::merge::merge_concurrent_edits(base, &current, &edited) {
                    Ok(merged) => edited = merged,
                    Err(fields) => {
                        return Err(StoreError::Stale {
                            id: current.id,
                            name: text::visible(&current.name, false).into_owned(),
                            by: format!(
                                "{} (the same field{}: {})",
                                current.updated.by,
                                if fields.len() == 1 { "" } else { "s" },
                                fields.join(", ")
                            ),
                            at: current.updated.at.local_display(),
                        });
                    }
                }
            }
            let mut changes = Vec::new();
            if let Some(name) = &org_name {
                edited.organization = resolve_org(t, name, &mut changes)?;
            }
            edited.created = current.created.clone();
            edited.updated = Stamp::now(actor);
            edited.version = current.version + 1;
            changes.push(Change::update(
                Record::Contact(current),
                Record::Contact(edited.clone()),
            ));
            Ok((changes, edited))
        })
    }

    /// Moves a contact, its timeline and deals to the trash.
    pub fn delete_contact(&self, actor: &Actor, id: Id) -> Result<TrashBundle, StoreError> {
        self.act(actor, "delete contact", |t| {
            let contact = t
                .contact(id)?
                .ok_or_else(|| StoreError::NotFound(format!("contact {id}")))?;
            let entries = t.timeline_of(id)?;
            let deals = t.deals_of(id)?;
            let mut changes: Vec<Change> = entries
                .iter()
                .cloned()
                .map(|e| Change::delete(Record::Entry(e)))
                .collect();
            changes.extend(
                deals
                    .iter()
                    .cloned()
                    .map(|d| Change::delete(Record::Deal(d))),
            );
            changes.push(Change::delete(Record::Contact(contact.clone())));
            let bundle = TrashBundle {
                contact,
                entries,
                deals,
                deleted: Stamp::now(actor),
            };
            changes.push(Change::create(Record::Trash(bundle.clone())));
            Ok((changes, bundle))
        })
    }

    /// Merges `absorbed` into `merged.id`, as one audited, undoable action: the survivor is saved
    /// as `merged` (a [`crate::domain::merge::MergePlan`] result), every timeline entry and deal
    /// of the absorbed contact moves to the survivor, and the absorbed contact is removed (its
    /// whole record stays in the audit entry, which undo replays). Both `versions` are the ones
    /// the user saw: if either contact changed meanwhile the merge is refused as stale.
    pub fn merge_contacts(
        &self,
        actor: &Actor,
        mut merged: Contact,
        absorbed: &Contact,
    ) -> Result<Merged, StoreError> {
        merged.clean();
        merged.validate()?;
        if merged.id == absorbed.id {
            return Err(StoreError::Invalid(Invalid::single(
                "merge",
                "needs two different contacts",
            )));
        }
        let action = format!("merge contact {} into {}", absorbed.id, merged.id);
        self.act(actor, &action, |t| {
            let survivor = t
                .contact(merged.id)?
                .ok_or_else(|| StoreError::NotFound(format!("contact {}", merged.id)))?;
            let gone = t
                .contact(absorbed.id)?
                .ok_or_else(|| StoreError::NotFound(format!("contact {}", absorbed.id)))?;
            if survivor.version != merged.version {
                return Err(StoreError::stale(&survivor));
            }
            if gone.version != absorbed.version {
                return Err(StoreError::stale(&gone));
            }
            if let Some(org) = merged.organization
                && t.orgs.get(org)?.is_none()
            {
                merged.organization = None;
            }
            merged.created = survivor.created.clone();
            merged.updated = Stamp::now(actor);
            merged.version = survivor.version + 1;
            // History first, then the absorbed contact goes, then the survivor is saved: it may
            // take over the absorbed contact's uid (or email), which must be free by then. Undo
            // replays this backwards, so the survivor lets go of it before the other returns.
            let mut changes = Vec::new();
            let entries = t.timeline_of(gone.id)?;
            let deals = t.deals_of(gone.id)?;
            let moved = entries.len() + deals.len();
            for entry in entries {
                let mut moved = entry.clone();
                moved.set_contact(merged.id);
                changes.push(Change::update(Record::Entry(entry), Record::Entry(moved)));
            }
            for deal in deals {
                let mut moved = deal.clone();
                moved.contact = Some(merged.id);
                moved.version += 1;
                changes.push(Change::update(Record::Deal(deal), Record::Deal(moved)));
            }
            changes.push(Change::delete(Record::Contact(gone)));
            changes.push(Change::update(
                Record::Contact(survivor),
                Record::Contact(merged.clone()),
            ));
            Ok((
                changes,
                Merged {
                    contact: merged,
                    moved,
                },
            ))
        })
    }

    /// Brings a contact back from the trash with everything it had.
    pub fn restore_contact(&self, actor: &Actor, id: Id) -> Result<Contact, StoreError> {
        self.act(actor, "restore contact", |t| {
            let bundle = t
                .trash_bundle(id)?
                .ok_or_else(|| StoreError::NotFound(format!("contact {id} in the trash")))?;
            if t.contact(id)?.is_some() {
                return Err(StoreError::Conflict(format!("contact {id} already exists")));
            }
            let mut changes = vec![Change::delete(Record::Trash(bundle.clone()))];
            changes.push(Change::create(Record::Contact(bundle.contact.clone())));
            changes.extend(
                bundle
                    .deals
                    .into_iter()
                    .map(|d| Change::create(Record::Deal(d))),
            );
            changes.extend(
                bundle
                    .entries
                    .into_iter()
                    .map(|e| Change::create(Record::Entry(e))),
            );
            Ok((changes, bundle.contact))
        })
    }

    /// Logs an interaction (and optionally a follow-up due on `follow_up.0`) durably.
    /// The actor is stamped as the agent unless one is given.
    pub fn log_interaction(
        &self,
        actor: &Actor,
        interaction: Interaction,
        follow_up: Option<(Day, String)>,
    ) -> Result<Logged, StoreError> {
        self.log_answering(actor, interaction, follow_up, None)
    }

    /// [`Store::log_interaction`] that also closes the open follow-up it answers (a call made
    /// from the Today queue), in the same transaction: the audit entry names both, so one undo
    /// reopens the follow-up and removes the call together.
    pub fn log_answering(
        &self,
        actor: &Actor,
        mut interaction: Interaction,
        follow_up: Option<(Day, String)>,
        answers: Option<&FollowUp>,
    ) -> Result<Logged, StoreError> {
        if interaction.agent.trim().is_empty() {
            interaction.agent = actor.0.clone();
        }
        interaction.clean()?;
        let action = match answers {
            Some(f) => format!("log {} (closes follow-up #{})", interaction.channel, f.id),
            None => format!("log {}", interaction.channel),
        };
        self.act(actor, &action, |t| {
            if t.contact(interaction.contact)?.is_none() {
                return Err(StoreError::NotFound(format!(
                    "contact {}",
                    interaction.contact
                )));
            }
            interaction.id = t.next("next_entry")?;
            let mut changes = vec![Change::create(Record::Entry(Entry::Interaction(
                interaction.clone(),
            )))];
            if let Some(answered) = answers {
                let current = t
                    .entry(answered.contact, answered.created.millis(), answered.id)?
                    .ok_or_else(|| StoreError::NotFound(format!("follow-up {}", answered.id)))?;
                let Entry::FollowUp(mut closed) = current.clone() else {
                    return Err(StoreError::NotFound(format!("follow-up {}", answered.id)));
                };
                if closed.contact != interaction.contact {
                    return Err(StoreError::Invalid(Invalid::single(
                        "follow-up",
                        "belongs to another contact",
                    )));
                }
                // Already closed (by someone else meanwhile): log the call, leave it be.
                if closed.done_at.is_none() {
                    closed.done_at = Some(interaction.at);
                    changes.push(Change::update(
                        Record::Entry(current),
                        Record::Entry(Entry::FollowUp(closed)),
                    ));
                }
            }
            let follow_up = match follow_up {
                Some((due, what)) => {
                    let what = if what.trim().is_empty() {
                        format!("Follow up: {}", interaction.summary)
                    } else {
                        what
                    };
                    let mut f = FollowUp {
                        id: t.next("next_entry")?,
                        contact: interaction.contact,
                        created: interaction.at,
                        due,
                        what,
                        done_at: None,
                        assignee: actor.0.clone(),
                    };
                    f.clean()?;
                    changes.push(Change::create(Record::Entry(Entry::FollowUp(f.clone()))));
                    Some(f)
                }
                None => None,
            };
            Ok((
                changes,
                Logged {
                    interaction,
                    follow_up,
                },
            ))
        })
    }

    /// Adds a purchase or a standalone follow-up (or an interaction) to a contact's timeline.
    pub fn add_entry(&self, actor: &Actor, mut entry: Entry) -> Result<Entry, StoreError> {
        // A follow-up nobody was given is the scheduling agent's own.
        if let Entry::FollowUp(f) = &mut entry
            && f.assignee.trim().is_empty()
        {
            f.assignee = actor.0.clone();
        }
        entry.clean()?;
        let action = format!("add {}", entry.kind());
        self.act(actor, &action, |t| {
            entry.set_id(t.next("next_entry")?);
            Ok((vec![Change::create(Record::Entry(entry.clone()))], entry))
        })
    }

    /// Marks an open follow-up done now.
    pub fn complete_follow_up(
        &self,
        actor: &Actor,
        follow_up: &FollowUp,
    ) -> Result<FollowUp, StoreError> {
        self.change_follow_up(actor, follow_up, "complete follow-up", |f| {
            if f.done_at.is_some() {
                return Err(StoreError::Invalid(Invalid::single(
                    "follow-up",
                    "is already done",
                )));
            }
            f.done_at = Some(At::now());
            Ok(())
        })
    }

    pub fn reschedule_follow_up(
        &self,
        actor: &Actor,
        follow_up: &FollowUp,
        due: Day,
    ) -> Result<FollowUp, StoreError> {
        self.change_follow_up(actor, follow_up, "reschedule follow-up", |f| {
            f.due = due;
            f.done_at = None;
            Ok(())
        })
    }

    fn change_follow_up(
        &self,
        actor: &Actor,
        follow_up: &FollowUp,
        action: &str,
        edit: impl FnOnce(&mut FollowUp) -> Result<(), StoreError>,
    ) -> Result<FollowUp, StoreError> {
        self.act(actor, action, |t| {
            let current = t
                .entry(follow_up.contact, follow_up.created.millis(), follow_up.id)?
                .ok_or_else(|| StoreError::NotFound(format!("follow-up {}", follow_up.id)))?;
            let Entry::FollowUp(mut f) = current.clone() else {
                return Err(StoreError::NotFound(format!("follow-up {}", follow_up.id)));
            };
            edit(&mut f)?;
            Ok((
                vec![Change::update(
                    Record::Entry(current),
                    Record::Entry(Entry::FollowUp(f.clone())),
                )],
                f,
            ))
        })
    }

    pub fn add_deal(&self, actor: &Actor, mut deal: Deal) -> Result<Deal, StoreError> {
        deal.clean()?;
        self.act(actor, "add deal", |t| {
            if let Some(c) = deal.contact
                && t.contact(c)?.is_none()
            {
                return Err(StoreError::NotFound(format!("contact {c}")));
            }
            deal.id = t.next("next_deal")?;
            deal.version = 1;
            if deal.owner.is_empty() {
                deal.owner = actor.0.clone();
            }
            Ok((vec![Change::create(Record::Deal(deal.clone()))], deal))
        })
    }

    pub fn update_deal(&self, actor: &Actor, mut edited: Deal) -> Result<Deal, StoreError> {
        edited.clean()?;
        self.act(actor, "edit deal", |t| {
            let current = t
                .deal(edited.id)?
                .ok_or_else(|| StoreError::NotFound(format!("deal {}", edited.id)))?;
            if current.version != edited.version {
                return Err(StoreError::Conflict(format!(
                    "deal {} was changed meanwhile; reload it",
                    edited.id
                )));
            }
            edited.version += 1;
            Ok((
                vec![Change::update(
                    Record::Deal(current),
                    Record::Deal(edited.clone()),
                )],
                edited,
            ))
        })
    }

    /// Undoes the actor's most recent action that has not been undone yet. Refused, changing
    /// nothing, when a record it touched has been changed since.
    pub fn undo(&self, actor: &Actor) -> Result<AuditEntry, StoreError> {
        let txn = self.db.begin_write()?;
        let undone = {
            let mut t = Tables::open(&txn)?;
            let target = match last_action(&t, actor)? {
                Last::Undoable(entry) => entry,
                Last::Bulk(entry) => return Err(not_undoable(&entry)),
                Last::Restored => {
                    return Err(StoreError::NotUndoable(
                        "the database was restored from a rolo JSON export after your last \
                         action, and undo does not reach back past a restore; nothing was changed"
                            .into(),
                    ));
                }
                Last::Nothing => return Err(StoreError::NothingToUndo),
            };
            let mut inverse = Vec::new();
            for change in target.changes.iter().rev() {
                // Organisations created on the way stay: another contact may use them by now.
                if matches!(change.after, Some(Record::Organization(_))) && change.before.is_none()
                {
                    continue;
                }
                let mut inv = change.inverse();
                // Undo bumps versions, so an earlier undo leaves a contact with the same content
                // at a newer version; only a change of content since counts as a conflict.
                if let Some(Record::Contact(expected)) = &mut inv.before
                    && let Some(current) = t.contact(expected.id)?
                    && same_content(&current, expected)
                {
                    *expected = current;
                }
                if let Some(Record::Contact(c)) = &mut inv.after {
                    let base = match &inv.before {
                        Some(Record::Contact(b)) => b.version,
                        _ => c.version,
                    };
                    c.version = base + 1;
                    c.updated = Stamp::now(actor);
                }
                // Versions only go up, or a copy loaded before the undo could overwrite later work.
                if let (Some(Record::Deal(before)), Some(Record::Deal(after))) =
                    (&inv.before, &mut inv.after)
                {
                    after.version = before.version + 1;
                }
                // An undone creation of a contact goes to the trash with whatever hangs off it
                // by now (someone may have logged a call meanwhile): restorable, never destroyed.
                if let (Some(Record::Contact(gone)), None) = (&inv.before, &inv.after)
                    && !target.changes.iter().any(
                        |c| matches!(&c.before, Some(Record::Trash(b)) if b.contact.id == gone.id),
                    )
                {
                    let gone = gone.clone();
                    let entries = t.timeline_of(gone.id)?;
                    let deals = t.deals_of(gone.id)?;
                    for entry in &entries {
                        inverse.push(Change::delete(Record::Entry(entry.clone())));
                    }
                    for deal in &deals {
                        inverse.push(Change::delete(Record::Deal(deal.clone())));
                    }
                    inverse.push(inv);
                    inverse.push(Change::create(Record::Trash(TrashBundle {
                        contact: gone,
                        entries,
                        deals,
                        deleted: Stamp::now(actor),
                    })));
                    continue;
                }
                inverse.push(inv);
            }
            for change in &inverse {
                t.apply(change)?;
            }
            let seq = append_audit(
                &mut t,
                actor,
                &format!("undo: {}", target.action),
                inverse,
                false,
            )?;
            t.undone.insert(target.seq, seq)?;
            target
        };
        txn.commit()?;
        Ok(undone)
    }

    /// Runs a bulk load (demo data, import) in one transaction recorded as one audit entry.
    pub fn bulk<R>(
        &self,
        actor: &Actor,
        description: &str,
        load: impl FnOnce(&mut Bulk) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.bulk_txn(actor, description, true, load)
    }

    /// Runs `load` exactly as [`Store::bulk`] would — reads see its own writes — and then
    /// aborts the transaction, so nothing is written (`rolo import --dry-run`).
    pub fn bulk_dry_run<R>(
        &self,
        actor: &Actor,
        description: &str,
        load: impl FnOnce(&mut Bulk) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.bulk_txn(actor, description, false, load)
    }

    fn bulk_txn<R>(
        &self,
        actor: &Actor,
        description: &str,
        commit: bool,
        load: impl FnOnce(&mut Bulk) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let txn = self.db.begin_write()?;
        let result = {
            let mut t = Tables::open(&txn)?;
            t.defer_indexes(self.bulk_budget)?;
            let mut bulk = Bulk {
                t,
                actor: actor.clone(),
                written: 0,
                restoring: false,
            };
            let result = load(&mut bulk)?;
            if commit {
                bulk.t.write_deferred()?;
            }
            if bulk.restoring {
                // A restore brings back the file's own audit trail unchanged (so a re-export is
                // identical); undo must not reach past it into that history.
                let floor = bulk.counter("audit_seq")?;
                bulk.t.meta.insert(UNDO_FLOOR, floor)?;
            } else {
                let summary = format!("{description} ({} records)", bulk.written);
                append_audit(&mut bulk.t, actor, &summary, Vec::new(), false)?;
            }
            bulk.t.flush_counters()?;
            result
        };
        if commit {
            txn.commit()?;
        } else {
            txn.abort()?;
        }
        Ok(result)
    }
}

/// Writes inside a bulk transaction. Records go through the same checked primitives.
pub struct Bulk<'t> {
    t: Tables<'t>,
    actor: Actor,
    written: u64,
    /// A full restore of rolo's JSON export into an empty database (see [`Bulk::restoring`]).
    restoring: bool,
}

/// The meta key of the last audit seq a restore brought back: undo stops there.
const UNDO_FLOOR: &str = "undo_floor";

impl Bulk<'_> {
    /// Marks this load as a full restore into an empty database: it adds no audit entry of its
    /// own (the file's audit trail is restored as it was, see [`Bulk::restore_audit`]) and undo
    /// refuses to reach back past it.
    pub fn restoring(&mut self) {
        self.restoring = true;
    }

    /// Whether the database holds nothing at all: no contact, no trash, no audit entry.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.t.contacts.is_empty()? && self.t.trash.is_empty()? && self.t.audit.is_empty()?)
    }

    /// Puts a trash bundle back as it was exported.
    pub fn restore_trash(&mut self, bundle: TrashBundle) -> Result<(), StoreError> {
        if self.t.trash.get(bundle.contact.id)?.is_some()
            || self.t.contact(bundle.contact.id)?.is_some()
        {
            return Err(StoreError::Conflict(format!(
                "contact {} is in the file twice (trash and list)",
                bundle.contact.id
            )));
        }
        self.bump_counter("next_contact", bundle.contact.id)?;
        self.apply_all(&[Change::create(Record::Trash(bundle))])
    }

    /// Puts an organisation back as exported: created with its id when absent, else (created by
    /// a restored contact's name) replaced by the exported record.
    pub fn restore_organization(&mut self, org: Organization) -> Result<(), StoreError> {
        let change = match self.t.organization(org.id)? {
            Some(current) if current == org => return Ok(()),
            Some(current) => {
                Change::update(Record::Organization(current), Record::Organization(org))
            }
            None => {
                if self.t.org_by_name(&org.name)?.is_some() {
                    return Ok(());
                }
                self.bump_counter("next_org", org.id)?;
                Change::create(Record::Organization(org))
            }
        };
        self.apply_all(&[change])
    }

    /// Puts an audit entry back with its sequence number (a restore into an empty database).
    pub fn restore_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        if self.t.audit.get(entry.seq)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "audit entry {} is in the file twice",
                entry.seq
            )));
        }
        self.bump_counter("audit_seq", entry.seq)?;
        self.t.audit.insert(entry.seq, encode(entry)?.as_slice())?;
        Ok(())
    }

    /// Records that audit entry `seq` was undone by entry `by` (a restore).
    pub fn restore_undone(&mut self, seq: u64, by: u64) -> Result<(), StoreError> {
        self.t.undone.insert(seq, by)?;
        Ok(())
    }

    /// Moves an id counter up to at least `value` (a restore brings back the source's counters,
    /// so ids of deleted records are never handed out again).
    pub fn restore_counter(&mut self, counter: &str, value: u64) -> Result<(), StoreError> {
        if COUNTERS.contains(&counter) {
            self.bump_counter(counter, value)?;
        }
        Ok(())
    }

    /// Adds a cleaned contact (stamps kept if set) linked to the named organisation.
    pub fn add_contact(
        &mut self,
        mut contact: Contact,
        organization: &str,
    ) -> Result<Id, StoreError> {
        let mut changes = Vec::new();
        contact.organization =
            resolve_org(&mut self.t, &text::clean_line(organization), &mut changes)?;
        contact.id = self.t.next("next_contact")?;
        contact.version = contact.version.max(1);
        if contact.created.by.is_empty() {
            contact.created = Stamp::now(&self.actor);
            contact.updated = contact.created.clone();
        }
        changes.push(Change::create(Record::Contact(contact)));
        self.apply_all(&changes)?;
        Ok(changes
            .last()
            .map_or(0, |c| c.after.as_ref().map_or(0, Record::id)))
    }

    pub fn update_contact(
        &mut self,
        mut contact: Contact,
        organization: Option<&str>,
    ) -> Result<(), StoreError> {
        let current = self
            .t
            .contact(contact.id)?
            .ok_or_else(|| StoreError::NotFound(format!("contact {}", contact.id)))?;
        let mut changes = Vec::new();
        if let Some(name) = organization {
            contact.organization = resolve_org(&mut self.t, &text::clean_line(name), &mut changes)?;
        }
        contact.version = current.version + 1;
        contact.updated = Stamp::now(&self.actor);
        changes.push(Change::update(
            Record::Contact(current),
            Record::Contact(contact),
        ));
        self.apply_all(&changes)
    }

    pub fn add_entry(&mut self, mut entry: Entry) -> Result<Id, StoreError> {
        let id = self.t.next("next_entry")?;
        entry.set_id(id);
        self.t.add_fresh_entry(&entry)?;
        self.written += 1;
        Ok(id)
    }

    pub fn add_deal(&mut self, mut deal: Deal) -> Result<Id, StoreError> {
        let id = self.t.next("next_deal")?;
        deal.id = id;
        deal.version = 1;
        self.apply_all(&[Change::create(Record::Deal(deal))])?;
        Ok(id)
    }

    pub fn contact(&self, id: Id) -> Result<Option<Contact>, StoreError> {
        self.t.contact(id)
    }

    pub fn find_by_uid(&self, uid: &str) -> Result<Option<Id>, StoreError> {
        self.t.uid_owner(&text::clean_line(uid))
    }

    /// The contact another record with `uid` was merged into (see [`Store::find_by_merged_uid`]).
    pub fn find_by_merged_uid(&self, uid: &str) -> Result<Option<Id>, StoreError> {
        self.t
            .uid_owner(&super::tables::merged_uid_key(&text::clean_line(uid)))
    }

    pub fn find_by_email(&self, email: &str) -> Result<Vec<Id>, StoreError> {
        self.t.ids_by(Kind::Email, &text::email_key(email))
    }

    pub fn find_by_phone(&self, phone: &str) -> Result<Vec<Id>, StoreError> {
        let key = text::phone_key(phone);
        if key.is_empty() {
            return Ok(Vec::new());
        }
        self.t.ids_by(Kind::Phone, &key)
    }

    /// Adds a contact read from rolo's own export, keeping its id when that id is free (else a
    /// new one), its stamps and version. The organisation is found by name, else created with
    /// `organization_id` when free, so a restore into an empty database reproduces the ids.
    pub fn restore_contact(
        &mut self,
        mut contact: Contact,
        organization: &str,
        organization_id: Option<Id>,
    ) -> Result<Id, StoreError> {
        let mut changes = Vec::new();
        let name = text::clean_line(organization);
        contact.organization = if name.is_empty() {
            None
        } else if let Some(id) = self.t.org_by_name(&name)? {
            Some(id)
        } else {
            let mut org = Organization::named(&name);
            org.id = self.keep_or_next("next_org", organization_id, |t, id| {
                Ok(t.organization(id)?.is_none())
            })?;
            org.version = 1;
            let id = org.id;
            changes.push(Change::create(Record::Organization(org)));
            Some(id)
        };
        let wanted = (contact.id != 0).then_some(contact.id);
        contact.id = self.keep_or_next("next_contact", wanted, |t, id| {
            Ok(t.contact(id)?.is_none() && t.trash.get(id)?.is_none())
        })?;
        contact.version = contact.version.max(1);
        if contact.created.by.is_empty() {
            contact.created = Stamp::now(&self.actor);
            contact.updated = contact.created.clone();
        }
        let id = contact.id;
        changes.push(Change::create(Record::Contact(contact)));
        self.apply_all(&changes)?;
        Ok(id)
    }

    /// Adds a timeline entry, keeping its id when `keep_id` (the caller knows it is free: a
    /// restore into a database that had no entries), else giving it a new one.
    pub fn restore_entry(&mut self, mut entry: Entry, keep_id: bool) -> Result<Id, StoreError> {
        let id = if keep_id && entry.id() != 0 {
            self.bump_counter("next_entry", entry.id())?;
            entry.id()
        } else {
            self.t.next("next_entry")?
        };
        entry.set_id(id);
        self.apply_all(&[Change::create(Record::Entry(entry))])?;
        Ok(id)
    }

    /// Adds a deal from rolo's own export, keeping its id (when free) and version.
    pub fn restore_deal(&mut self, mut deal: Deal) -> Result<Id, StoreError> {
        let wanted = (deal.id != 0).then_some(deal.id);
        deal.id = self.keep_or_next("next_deal", wanted, |t, id| Ok(t.deal(id)?.is_none()))?;
        deal.version = deal.version.max(1);
        let id = deal.id;
        self.apply_all(&[Change::create(Record::Deal(deal))])?;
        Ok(id)
    }

    /// The entries of a contact's timeline at exactly `at` (to skip ones already imported).
    pub fn entries_at(&self, contact: Id, at: At) -> Result<Vec<Entry>, StoreError> {
        let ms = at.millis();
        let mut out = Vec::new();
        for row in self
            .t
            .timeline
            .range((contact, ms, 0)..=(contact, ms, u64::MAX))?
        {
            let (k, v) = row?;
            out.push(decode_entry(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// The deals linked to a contact.
    pub fn deals_of(&self, contact: Id) -> Result<Vec<Deal>, StoreError> {
        let mut out = Vec::new();
        for row in self
            .t
            .deals_by_contact
            .range((contact, 0)..=(contact, u64::MAX))?
        {
            if let Some(deal) = self.t.deal(row?.0.value().1)? {
                out.push(deal);
            }
        }
        Ok(out)
    }

    /// The current value of an id counter (0 when nothing was ever created).
    pub fn counter(&self, counter: &str) -> Result<u64, StoreError> {
        self.t.counter(counter)
    }

    fn bump_counter(&mut self, counter: &str, at_least: u64) -> Result<(), StoreError> {
        if self.counter(counter)? < at_least {
            self.t.set_counter(counter, at_least)?;
        }
        Ok(())
    }

    /// `wanted` if `free` says so (the counter moves past it), else the counter's next value.
    fn keep_or_next(
        &mut self,
        counter: &str,
        wanted: Option<Id>,
        free: impl Fn(&Tables, Id) -> Result<bool, StoreError>,
    ) -> Result<Id, StoreError> {
        if let Some(id) = wanted
            && free(&self.t, id)?
        {
            self.bump_counter(counter, id)?;
            return Ok(id);
        }
        self.t.next(counter)
    }

    fn apply_all(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        for change in changes {
            self.t.apply(change)?;
            self.written += 1;
        }
        Ok(())
    }
}

/// Finds the organisation by name or plans its creation; empty name → no organisation.
fn resolve_org(
    t: &mut Tables,
    name: &str,
    changes: &mut Vec<Change>,
) -> Result<Option<Id>, StoreError> {
    if name.is_empty() {
        return Ok(None);
    }
    if let Some(id) = t.org_by_name(name)? {
        return Ok(Some(id));
    }
    let mut org = Organization::named(name);
    org.id = t.next("next_org")?;
    org.version = 1;
    let id = org.id;
    changes.push(Change::create(Record::Organization(org)));
    Ok(Some(id))
}

fn append_audit(
    t: &mut Tables,
    actor: &Actor,
    action: &str,
    changes: Vec<Change>,
    undoable: bool,
) -> Result<u64, StoreError> {
    let seq = t.next("audit_seq")?;
    let entry = AuditEntry {
        seq,
        at: At::now(),
        actor: actor.0.clone(),
        action: action.to_string(),
        changes,
        undoable,
        source: super::audit::current_source().to_string(),
    };
    t.audit.insert(seq, encode(&entry)?.as_slice())?;
    Ok(seq)
}

/// Equal but for the version and the last-updated stamp.
fn same_content(a: &Contact, b: &Contact) -> bool {
    Contact {
        version: b.version,
        updated: b.updated.clone(),
        ..a.clone()
    } == *b
}

/// The id counters a JSON export carries and a restore brings back.
pub const COUNTERS: &[&str] = &[
    "next_contact",
    "next_entry",
    "next_deal",
    "next_org",
    "audit_seq",
];

/// What the actor's last action not yet undone is.
enum Last {
    Undoable(AuditEntry),
    /// A bulk load (demo data, an import): undo cannot take it back, so it must not skip it.
    Bulk(AuditEntry),
    /// The actor's next action back is older than a restore.
    Restored,
    Nothing,
}

/// An undo entry records its action as `undo: …`; every other entry undo does not take back is
/// a bulk load (demo data, import).
fn is_undo_entry(entry: &AuditEntry) -> bool {
    entry.action.starts_with("undo: ")
}

fn last_action(t: &Tables, actor: &Actor) -> Result<Last, StoreError> {
    let floor = t.meta.get(UNDO_FLOOR)?.map(|v| v.value());
    for row in t.audit.iter()?.rev().take(UNDO_HORIZON) {
        let (seq, bytes) = row?;
        let seq = seq.value();
        if floor.is_some_and(|f| seq <= f) {
            return Ok(Last::Restored);
        }
        let entry: AuditEntry = decode("audit entry", bytes.value())?;
        if entry.actor != actor.0 || is_undo_entry(&entry) || t.undone.get(seq)?.is_some() {
            continue;
        }
        return Ok(if entry.undoable {
            Last::Undoable(entry)
        } else {
            Last::Bulk(entry)
        });
    }
    Ok(Last::Nothing)
}

/// Why a bulk load cannot be undone, and how to find what it loaded.
fn not_undoable(entry: &AuditEntry) -> StoreError {
    let what = text::visible(&entry.action, false);
    let find = if entry.action.starts_with("demo data") {
        format!(
            "Demo contacts carry the tag `{DEMO_TAG}`: `rolo search tag:{DEMO_TAG}` lists them and \
             `rolo rm ID` moves one to the trash"
        )
    } else {
        match entry.action.rsplit_once(", tagged ") {
            Some((_, rest)) => {
                let tag: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ')'))
                    .collect();
                format!(
                    "Its contacts carry the tag `{tag}`: `rolo search tag:{tag}` lists them and \
                     `rolo rm ID` moves one to the trash"
                )
            }
            None => "`rolo history` shows the batch".to_string(),
        }
    };
    StoreError::NotUndoable(format!(
        "your last action ({what}, {}) was a bulk load, which undo cannot take back; nothing was \
         changed. {find}",
        entry.at.local_display()
    ))
}

/// The tag every demo contact carries, so demo data can be found and removed.
pub const DEMO_TAG: &str = "demo";
