//! Merging two records of the same person, field by field. Pure: a [`MergePlan`] holds both
//! contacts and one [`Pick`] per [`MergeField`]; [`MergePlan::result`] is the surviving record.
//! The store moves the timeline and deals and records the merge; the TUI and `rolo merge` only
//! choose the picks.
//!
//! The left contact survives (its id, creation stamp and version); the right one is absorbed.
//! Defaults keep the left value and fill gaps from the right; contact points, tags and custom
//! fields default to both. Consent is never a choice: both histories are kept, in time order,
//! so the latest statement per channel still wins (an opt-out can never be merged away).

use std::collections::BTreeMap;

use super::{Contact, CustomValue, Id, Labelled, text};

/// Custom field that keeps the uid of a record merged away when the survivor has another.
pub const MERGED_UID: &str = "merged_uid";

impl Contact {
    /// The uids of records merged into this one (the custom field [`MERGED_UID`]: a list
    /// separated by commas, a comma or backslash inside a uid escaped with a backslash), other
    /// than its own.
    pub fn merged_uids(&self) -> Vec<String> {
        let list = match self.custom.get(MERGED_UID) {
            Some(CustomValue::Text(list)) => list.clone(),
            // Typed by hand as a plain number, the field is stored as one.
            Some(CustomValue::Number(n)) => n.to_string(),
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        let mut current = String::new();
        let mut chars = list.chars();
        let mut push = |current: &mut String| {
            let uid = current.trim();
            if !uid.is_empty() && uid != self.uid && !out.iter().any(|u| u == uid) {
                out.push(uid.to_string());
            }
            current.clear();
        };
        while let Some(c) = chars.next() {
            match c {
                '\\' => current.extend(chars.next()),
                ',' => push(&mut current),
                c => current.push(c),
            }
        }
        push(&mut current);
        out
    }
}

/// `uid` as an entry of the [`MERGED_UID`] list.
fn escape_merged_uid(uid: &str) -> String {
    uid.replace('\\', "\\\\").replace(',', "\\,")
}

/// Which side a field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Left,
    Right,
    /// Both sides' values (list fields and notes only).
    Both,
}

/// The fields a merge chooses between, in the order the merge view shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeField {
    Name,
    Organization,
    Title,
    Emails,
    Phones,
    Addresses,
    Birthday,
    Language,
    PreferredChannel,
    Stage,
    Tier,
    Owner,
    Source,
    Tags,
    Custom,
    Notes,
    Uid,
    Consent,
}

impl MergeField {
    pub const ALL: [MergeField; 18] = [
        MergeField::Name,
        MergeField::Organization,
        MergeField::Title,
        MergeField::Emails,
        MergeField::Phones,
        MergeField::Addresses,
        MergeField::Birthday,
        MergeField::Language,
        MergeField::PreferredChannel,
        MergeField::Stage,
        MergeField::Tier,
        MergeField::Owner,
        MergeField::Source,
        MergeField::Tags,
        MergeField::Custom,
        MergeField::Notes,
        MergeField::Uid,
        MergeField::Consent,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MergeField::Name => "Name",
            MergeField::Organization => "Organisation",
            MergeField::Title => "Title",
            MergeField::Emails => "Emails",
            MergeField::Phones => "Phones",
            MergeField::Addresses => "Addresses",
            MergeField::Birthday => "Birthday",
            MergeField::Language => "Language",
            MergeField::PreferredChannel => "Channel",
            MergeField::Stage => "Stage",
            MergeField::Tier => "Tier",
            MergeField::Owner => "Owner",
            MergeField::Source => "Source",
            MergeField::Tags => "Tags",
            MergeField::Custom => "Custom",
            MergeField::Notes => "Notes",
            MergeField::Uid => "UID",
            MergeField::Consent => "Consent",
        }
    }

    /// Whether `Pick::Both` makes sense (lists and free text).
    pub fn can_combine(self) -> bool {
        matches!(
            self,
            MergeField::Emails
                | MergeField::Phones
                | MergeField::Addresses
                | MergeField::Tags
                | MergeField::Custom
                | MergeField::Notes
        )
    }

    /// Consent is always combined; the user cannot pick a side.
    pub fn is_fixed(self) -> bool {
        self == MergeField::Consent
    }
}

/// Two contacts being merged and the choice made for every field.
#[derive(Clone, Debug, PartialEq)]
pub struct MergePlan {
    pub left: Contact,
    pub right: Contact,
    /// Organisation names, for display (the record holds ids).
    pub left_org: String,
    pub right_org: String,
    /// Timeline entries and deals each side brings (all of them move to the survivor).
    pub left_history: usize,
    pub right_history: usize,
    picks: Vec<Pick>,
}

impl MergePlan {
    pub fn new(left: Contact, left_org: String, right: Contact, right_org: String) -> Self {
        let mut plan = MergePlan {
            left,
            right,
            left_org,
            right_org,
            left_history: 0,
            right_history: 0,
            picks: Vec::new(),
        };
        plan.picks = MergeField::ALL
            .iter()
            .map(|&f| plan.default_pick(f))
            .collect();
        plan
    }

    /// Left unless it is empty and the right is not; lists and notes combine.
    fn default_pick(&self, field: MergeField) -> Pick {
        if field.can_combine() || field.is_fixed() {
            return Pick::Both;
        }
        if self.display(field, Pick::Left).is_empty()
            && !self.display(field, Pick::Right).is_empty()
        {
            Pick::Right
        } else {
            Pick::Left
        }
    }

    pub fn pick(&self, field: MergeField) -> Pick {
        self.picks[Self::position(field)]
    }

    /// Chooses a side for a field; `Both` on a single-valued field and any change to consent are
    /// ignored (returns whether the pick changed).
    pub fn set(&mut self, field: MergeField, pick: Pick) -> bool {
        if field.is_fixed() || (pick == Pick::Both && !field.can_combine()) {
            return false;
        }
        let slot = &mut self.picks[Self::position(field)];
        let changed = *slot != pick;
        *slot = pick;
        changed
    }

    fn position(field: MergeField) -> usize {
        MergeField::ALL
            .iter()
            .position(|&f| f == field)
            .unwrap_or_default()
    }

    /// The other contact survives instead; every pick follows its value to the other side.
    pub fn swap(&mut self) {
        std::mem::swap(&mut self.left, &mut self.right);
        std::mem::swap(&mut self.left_org, &mut self.right_org);
        std::mem::swap(&mut self.left_history, &mut self.right_history);
        for p in &mut self.picks {
            *p = match *p {
                Pick::Left => Pick::Right,
                Pick::Right => Pick::Left,
                Pick::Both => Pick::Both,
            };
        }
    }

    pub fn survivor(&self) -> Id {
        self.left.id
    }

    pub fn absorbed(&self) -> Id {
        self.right.id
    }

    /// Both sides hold the same value (the view dims such rows).
    pub fn agrees(&self, field: MergeField) -> bool {
        self.display(field, Pick::Left) == self.display(field, Pick::Right)
    }

    /// One side's value (or the combination) as one line of display text; empty when unset.
    pub fn display(&self, field: MergeField, pick: Pick) -> String {
        let c = match pick {
            Pick::Left => &self.left,
            Pick::Right => &self.right,
            Pick::Both => return self.display_both(field),
        };
        let org = match pick {
            Pick::Right => &self.right_org,
            _ => &self.left_org,
        };
        display_of(c, org, field)
    }

    fn display_both(&self, field: MergeField) -> String {
        let merged = self.result();
        let org = match self.pick(MergeField::Organization) {
            Pick::Right => &self.right_org,
            _ => &self.left_org,
        };
        display_of(&merged, org, field)
    }

    /// The surviving record: the left contact's identity with every field taken as picked.
    /// Stamps and version stay the left's (the store sets them when it saves).
    pub fn result(&self) -> Contact {
        let (l, r) = (&self.left, &self.right);
        let mut out = l.clone();
        let side = |f: MergeField| self.pick(f);
        let choose = |f: MergeField| if side(f) == Pick::Right { r } else { l };

        let n = choose(MergeField::Name);
        out.name = n.name.clone();
        out.given_name = n.given_name.clone();
        out.family_name = n.family_name.clone();
        out.organization = choose(MergeField::Organization).organization;
        out.title = choose(MergeField::Title).title.clone();
        out.emails = combine(side(MergeField::Emails), &l.emails, &r.emails, |e| {
            text::email_key(&e.value)
        });
        out.phones = combine(side(MergeField::Phones), &l.phones, &r.phones, |p| {
            phone_identity(p)
        });
        out.addresses = combine(
            side(MergeField::Addresses),
            &l.addresses,
            &r.addresses,
            |a| text::sort_key(&a.one_line()),
        );
        out.birthday = choose(MergeField::Birthday).birthday;
        out.language = choose(MergeField::Language).language.clone();
        out.preferred_channel = choose(MergeField::PreferredChannel).preferred_channel;
        out.stage = choose(MergeField::Stage).stage;
        out.tier = choose(MergeField::Tier).tier.clone();
        out.owner = choose(MergeField::Owner).owner.clone();
        out.source = choose(MergeField::Source).source.clone();
        out.tags = combine(side(MergeField::Tags), &l.tags, &r.tags, Clone::clone);
        out.custom = match side(MergeField::Custom) {
            Pick::Left => l.custom.clone(),
            Pick::Right => r.custom.clone(),
            // On a clash the left (surviving) value wins.
            Pick::Both => {
                let mut all: BTreeMap<_, _> = r.custom.clone();
                all.extend(l.custom.clone());
                all
            }
        };
        out.notes = match side(MergeField::Notes) {
            Pick::Left => l.notes.clone(),
            Pick::Right => r.notes.clone(),
            Pick::Both => match (l.notes.trim().is_empty(), r.notes.trim().is_empty()) {
                (_, true) => l.notes.clone(),
                (true, false) => r.notes.clone(),
                _ if l.notes.trim() == r.notes.trim() => l.notes.clone(),
                _ => format!("{}\n\n{}", l.notes.trim_end(), r.notes.trim()),
            },
        };
        out.uid = choose(MergeField::Uid).uid.clone();
        // The other system's id of the record not kept stays findable in the profile.
        let dropped = if side(MergeField::Uid) == Pick::Right {
            &l.uid
        } else {
            &r.uid
        };
        if !dropped.is_empty() && *dropped != out.uid {
            let kept = match out.custom.get(MERGED_UID) {
                Some(CustomValue::Text(earlier)) if !earlier.is_empty() => {
                    format!("{earlier}, {}", escape_merged_uid(dropped))
                }
                Some(CustomValue::Number(n)) => {
                    format!("{n}, {}", escape_merged_uid(dropped))
                }
                _ => escape_merged_uid(dropped),
            };
            out.custom
                .insert(MERGED_UID.to_string(), CustomValue::Text(kept));
        }
        let mut consent = l.consent.clone();
        for c in &r.consent {
            if !consent.contains(c) {
                consent.push(c.clone());
            }
        }
        // Stable: same-instant statements keep the survivor's first.
        consent.sort_by_key(|c| c.at);
        out.consent = consent;
        out
    }
}

/// Phones are the same when their digits are; a number without digits counts as itself.
fn phone_identity(p: &Labelled) -> String {
    let digits = text::phone_key(&p.value);
    if digits.is_empty() {
        p.value.clone()
    } else {
        digits
    }
}

/// The left list, the right list, or the left followed by the right's items it lacks.
fn combine<T: Clone, K: PartialEq>(pick: Pick, l: &[T], r: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    match pick {
        Pick::Left => l.to_vec(),
        Pick::Right => r.to_vec(),
        Pick::Both => {
            let mut out = l.to_vec();
            let mut keys: Vec<K> = l.iter().map(&key).collect();
            for item in r {
                let k = key(item);
                if !keys.contains(&k) {
                    keys.push(k);
                    out.push(item.clone());
                }
            }
            out
        }
    }
}

fn display_of(c: &Contact, org: &str, field: MergeField) -> String {
    let labelled = |items: &[Labelled]| {
        items
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match field {
        MergeField::Name => c.name.clone(),
        MergeField::Organization => org.to_string(),
        MergeField::Title => c.title.clone(),
        MergeField::Emails => labelled(&c.emails),
        MergeField::Phones => labelled(&c.phones),
        MergeField::Addresses => c
            .addresses
            .iter()
            .map(|a| a.one_line())
            .collect::<Vec<_>>()
            .join(" | "),
        MergeField::Birthday => c
            .birthday
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default(),
        MergeField::Language => c.language.clone(),
        MergeField::PreferredChannel => c
            .preferred_channel
            .map(|ch| ch.to_string())
            .unwrap_or_default(),
        MergeField::Stage => c.stage.to_string(),
        MergeField::Tier => c.tier.clone(),
        MergeField::Owner => c.owner.clone(),
        MergeField::Source => c.source.clone(),
        MergeField::Tags => c
            .tags
            .iter()
            .map(|t| format!("#{t}"))
            .collect::<Vec<_>>()
            .join(" "),
        MergeField::Custom => c
            .custom
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        MergeField::Notes => c.notes.split_whitespace().collect::<Vec<_>>().join(" "),
        MergeField::Uid => c.uid.clone(),
        MergeField::Consent => c
            .consent
            .iter()
            .map(|x| format!("{} {}", x.channel, x.status))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, At, Channel, Consent, ConsentStatus, ContactDraft, Stage};

    fn person(id: Id, name: &str) -> Contact {
        let mut c = ContactDraft {
            name: name.into(),
            ..ContactDraft::default()
        }
        .into_contact(&Actor("test".into()))
        .expect("a valid contact");
        c.id = id;
        c
    }

    fn consent(channel: Channel, status: ConsentStatus, ms: i64) -> Consent {
        Consent {
            channel,
            status,
            at: At::from_millis(ms),
            source: String::new(),
            purpose: String::new(),
        }
    }

    #[test]
    fn defaults_keep_the_left_fill_gaps_and_combine_lists() {
        let mut l = person(1, "Ana Horvat");
        l.emails = vec![Labelled::new("work", "ana@acme.hr")];
        l.phones = vec![Labelled::new("", "+385 1 234 5678")];
        l.tags = vec!["vip".into()];
        let mut r = person(2, "Ana Horvat-Kovač");
        r.title = "CFO".into();
        r.emails = vec![
            Labelled::new("", "ANA@acme.hr"),
            Labelled::new("home", "ana@home.hr"),
        ];
        r.phones = vec![Labelled::new("mobile", "385-1-234-5678")];
        r.tags = vec!["vip".into(), "finance".into()];
        let plan = MergePlan::new(l, String::new(), r, "Acme".into());
        let m = plan.result();
        assert_eq!(m.id, 1);
        assert_eq!(m.name, "Ana Horvat");
        assert_eq!(
            m.title, "CFO",
            "an empty left field is filled from the right"
        );
        assert_eq!(plan.pick(MergeField::Title), Pick::Right);
        let emails: Vec<_> = m.emails.iter().map(|e| e.value.as_str()).collect();
        assert_eq!(emails, ["ana@acme.hr", "ana@home.hr"], "same address once");
        assert_eq!(m.phones.len(), 1, "same digits once");
        assert_eq!(m.tags, ["vip", "finance"]);
        assert_eq!(plan.display(MergeField::Organization, Pick::Right), "Acme");
    }

    #[test]
    fn picks_choose_sides_and_both_is_refused_for_single_fields() {
        let mut l = person(1, "Left");
        l.stage = Stage::Lead;
        l.notes = "first".into();
        let mut r = person(2, "Right");
        r.stage = Stage::Customer;
        r.notes = "second".into();
        let mut plan = MergePlan::new(l, String::new(), r, String::new());
        assert!(!plan.set(MergeField::Name, Pick::Both));
        assert!(plan.set(MergeField::Name, Pick::Right));
        assert!(plan.set(MergeField::Stage, Pick::Right));
        assert_eq!(plan.result().name, "Right");
        assert_eq!(plan.result().stage, Stage::Customer);
        assert_eq!(plan.result().notes, "first\n\nsecond");
        plan.set(MergeField::Notes, Pick::Left);
        assert_eq!(plan.result().notes, "first");
    }

    #[test]
    fn consent_histories_are_always_combined_in_time_order() {
        let mut l = person(1, "A");
        l.consent = vec![consent(Channel::Email, ConsentStatus::Granted, 1_000)];
        let mut r = person(2, "B");
        r.consent = vec![consent(Channel::Email, ConsentStatus::Denied, 2_000)];
        let mut plan = MergePlan::new(l, String::new(), r, String::new());
        assert!(!plan.set(MergeField::Consent, Pick::Left));
        let m = plan.result();
        assert_eq!(m.consent.len(), 2);
        assert_eq!(
            m.consent_for(Channel::Email),
            ConsentStatus::Denied,
            "the later opt-out survives"
        );
    }

    #[test]
    fn swap_makes_the_other_contact_survive_with_the_same_values() {
        let mut l = person(1, "Left");
        l.custom
            .insert("plan".into(), CustomValue::Text("gold".into()));
        let mut r = person(2, "Right");
        r.custom
            .insert("plan".into(), CustomValue::Text("silver".into()));
        r.custom.insert("seats".into(), CustomValue::Number(3.0));
        let mut plan = MergePlan::new(l, String::new(), r, String::new());
        plan.set(MergeField::Name, Pick::Right);
        let before = plan.result();
        plan.swap();
        let after = plan.result();
        assert_eq!(plan.survivor(), 2);
        assert_eq!(after.id, 2);
        assert_eq!(after.name, before.name, "picks follow their values");
        assert_eq!(
            after.custom.get("plan"),
            Some(&CustomValue::Text("silver".into())),
            "on a clash the survivor's custom value wins"
        );
        assert_eq!(
            before.custom.get("plan"),
            Some(&CustomValue::Text("gold".into()))
        );
        assert_eq!(after.custom.len(), 2);
    }

    #[test]
    fn the_uid_not_kept_is_kept_in_a_custom_field() {
        let mut l = person(1, "A");
        l.uid = "google-1".into();
        let mut r = person(2, "A");
        r.uid = "outlook-9".into();
        let m = MergePlan::new(l, String::new(), r, String::new()).result();
        assert_eq!(m.uid, "google-1");
        assert_eq!(
            m.custom.get(MERGED_UID),
            Some(&CustomValue::Text("outlook-9".into()))
        );
    }
}

/// Fields a concurrent-edit merge never takes from an edit: identity and bookkeeping.
const NOT_MERGED: &[&str] = &["id", "created", "updated", "version"];

/// A three-way merge of two edits of one contact (EspoCRM's rule): `base` is the contact as
/// the editor loaded it, `current` what is stored now (someone saved meanwhile), `edited` what
/// the editor wants to save. A field only the editor changed takes the edit; a field only the
/// other side changed keeps theirs; a field both changed to the same value is fine. `Err`
/// names the fields both changed differently (nothing is merged then).
pub fn merge_concurrent_edits(
    base: &Contact,
    current: &Contact,
    edited: &Contact,
) -> Result<Contact, Vec<String>> {
    let as_map = |c: &Contact| match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(vec!["(the contact could not be compared)".to_string()]),
    };
    let (base, mut out, edited) = (as_map(base)?, as_map(current)?, as_map(edited)?);
    let mut clashes = Vec::new();
    for (field, mine) in &edited {
        if NOT_MERGED.contains(&field.as_str()) {
            continue;
        }
        let before = base.get(field);
        if before == Some(mine) {
            continue; // not changed by this editor
        }
        let theirs = out.get(field);
        if theirs == before {
            out.insert(field.clone(), mine.clone());
        } else if theirs != Some(mine) {
            clashes.push(field.clone());
        }
    }
    if !clashes.is_empty() {
        return Err(clashes);
    }
    serde_json::from_value(serde_json::Value::Object(out))
        .map_err(|e| vec![format!("(the merged contact does not read back: {e})")])
}

#[cfg(test)]
mod concurrent_tests {
    use super::*;
    use crate::domain::Labelled;

    fn contact() -> Contact {
        let draft = crate::domain::ContactDraft {
            name: "Ana Lima".into(),
            title: "Buyer".into(),
            ..crate::domain::ContactDraft::default()
        };
        draft
            .into_contact(&crate::domain::Actor::new("t"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn edits_of_different_fields_are_both_kept() {
        let base = contact();
        let mut current = base.clone();
        current.title = "Head buyer".into();
        current.version = base.version + 1;
        let mut edited = base.clone();
        edited.emails.push(Labelled::new("work", "ana@x.org"));
        let merged = merge_concurrent_edits(&base, &current, &edited).unwrap();
        assert_eq!(merged.title, "Head buyer", "theirs kept");
        assert_eq!(merged.emails.len(), 1, "mine taken");
        assert_eq!(merged.version, current.version);
    }

    #[test]
    fn the_same_field_changed_differently_is_a_clash_and_the_same_change_is_not() {
        let base = contact();
        let mut current = base.clone();
        current.title = "CTO".into();
        let mut edited = base.clone();
        edited.title = "CEO".into();
        assert_eq!(
            merge_concurrent_edits(&base, &current, &edited).unwrap_err(),
            ["title"]
        );
        edited.title = "CTO".into();
        assert!(merge_concurrent_edits(&base, &current, &edited).is_ok());
    }
}
