//! Changing or removing a logged interaction: one audited action each (so `undo` puts it back),
//! refused when the interaction changed since it was read (someone else's edit is never
//! overwritten) or is gone.

use super::audit::{Change, Record};
use super::{Store, StoreError};
use crate::domain::{Actor, Entry, Interaction, Invalid};

impl Store {
    /// Replaces `original` (as it was read) with `edited`: the same interaction (id, contact and
    /// time cannot change), new summary, body, direction, outcome, satisfaction or channel.
    pub fn edit_interaction(
        &self,
        actor: &Actor,
        original: &Interaction,
        mut edited: Interaction,
    ) -> Result<Interaction, StoreError> {
        if edited.id != original.id
            || edited.contact != original.contact
            || edited.at != original.at
        {
            return Err(StoreError::Invalid(Invalid::single(
                "interaction",
                "its id, contact and time cannot change",
            )));
        }
        edited.clean()?;
        let action = format!("edit {}", edited.channel);
        self.act(actor, &action, |t| {
            let current = current(t, original)?;
            Ok((
                vec![Change::update(
                    Record::Entry(current),
                    Record::Entry(Entry::Interaction(edited.clone())),
                )],
                edited,
            ))
        })
    }

    /// Removes `original` (as it was read) from its contact's timeline.
    pub fn delete_interaction(
        &self,
        actor: &Actor,
        original: &Interaction,
    ) -> Result<(), StoreError> {
        let action = format!("delete {}", original.channel);
        self.act(actor, &action, |t| {
            let current = current(t, original)?;
            Ok((vec![Change::delete(Record::Entry(current))], ()))
        })
    }
}

/// The stored entry of `original`, refused when it is gone or differs from what was read.
fn current(t: &super::tables::Tables, original: &Interaction) -> Result<Entry, StoreError> {
    let stored = t
        .entry(original.contact, original.at.millis(), original.id)?
        .ok_or_else(|| StoreError::NotFound(format!("interaction {}", original.id)))?;
    match &stored {
        Entry::Interaction(i) if i == original => Ok(stored),
        Entry::Interaction(_) => Err(StoreError::Invalid(Invalid::single(
            "interaction",
            "was changed by someone else since you opened it; reopen it and try again",
        ))),
        _ => Err(StoreError::NotFound(format!("interaction {}", original.id))),
    }
}
