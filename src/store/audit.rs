//! The audit trail's records: every user action is one `AuditEntry` listing each record it
//! touched, before → after. Undo replays the `before` side; the field-level diff people read is
//! computed from the same two sides.

use serde::{Deserialize, Serialize};

use crate::domain::{At, Contact, Deal, Entry, Id, Organization, Stamp};

/// A deleted contact with everything that hung off it, restorable as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrashBundle {
    pub contact: Contact,
    pub entries: Vec<Entry>,
    pub deals: Vec<Deal>,
    pub deleted: Stamp,
}

/// One stored record, whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Record {
    Contact(Contact),
    Entry(Entry),
    Deal(Deal),
    Organization(Organization),
    Trash(TrashBundle),
}

impl Record {
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Contact(_) => "contact",
            Record::Entry(e) => e.kind(),
            Record::Deal(_) => "deal",
            Record::Organization(_) => "organization",
            Record::Trash(_) => "trash",
        }
    }
    pub fn id(&self) -> Id {
        match self {
            Record::Contact(c) => c.id,
            Record::Entry(e) => e.id(),
            Record::Deal(d) => d.id,
            Record::Organization(o) => o.id,
            Record::Trash(t) => t.contact.id,
        }
    }
}

/// A record's state before and after an action (`None`: absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub before: Option<Record>,
    pub after: Option<Record>,
}

impl Change {
    pub fn create(record: Record) -> Self {
        Change {
            before: None,
            after: Some(record),
        }
    }
    pub fn update(before: Record, after: Record) -> Self {
        Change {
            before: Some(before),
            after: Some(after),
        }
    }
    pub fn delete(record: Record) -> Self {
        Change {
            before: Some(record),
            after: None,
        }
    }
    pub fn inverse(&self) -> Self {
        Change {
            before: self.after.clone(),
            after: self.before.clone(),
        }
    }
    fn record(&self) -> Option<&Record> {
        self.after.as_ref().or(self.before.as_ref())
    }
    pub fn operation(&self) -> &'static str {
        match (&self.before, &self.after) {
            (None, Some(_)) => "create",
            (Some(_), None) => "delete",
            _ => "update",
        }
    }

    /// [`Change::field_changes`] as people read them: an empty side is `—`, and for a created
    /// or deleted record its ids and creation stamp are left out (the entry's header says who
    /// and when).
    pub fn readable_changes(&self) -> Vec<(String, String, String)> {
        let update = self.operation() == "update";
        let dash = |s: String| if s.is_empty() { "—".to_string() } else { s };
        self.field_changes()
            .into_iter()
            .filter(|(field, _, _)| {
                let last = field.rsplit('.').next().unwrap_or(field);
                update
                    || !matches!(last, "id" | "contact")
                        && !field.split('.').any(|p| p == "created")
            })
            .map(|(field, before, after)| (field, dash(before), dash(after)))
            .collect()
    }

    /// Field-level differences, `(field path, before, after)`, as JSON text.
    pub fn field_changes(&self) -> Vec<(String, String, String)> {
        let before = to_json(self.before.as_ref());
        let after = to_json(self.after.as_ref());
        let mut out = Vec::new();
        diff("", &before, &after, &mut out);
        out
    }
}

fn to_json(record: Option<&Record>) -> serde_json::Value {
    let inner = match record {
        None => return serde_json::Value::Null,
        Some(Record::Contact(c)) => serde_json::to_value(c),
        Some(Record::Entry(e)) => serde_json::to_value(e),
        Some(Record::Deal(d)) => serde_json::to_value(d),
        Some(Record::Organization(o)) => serde_json::to_value(o),
        Some(Record::Trash(t)) => serde_json::to_value(&t.contact),
    };
    inner.unwrap_or(serde_json::Value::Null)
}

fn diff(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<(String, String, String)>,
) {
    use serde_json::Value;
    if a == b {
        return;
    }
    let empty = Value::Object(serde_json::Map::new());
    let (a, b) = match (a, b) {
        (Value::Null, Value::Object(_)) => (&empty, b),
        (Value::Object(_), Value::Null) => (a, &empty),
        _ => (a, b),
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                if matches!(k.as_str(), "version" | "updated") {
                    continue;
                }
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if is_blank(va) && is_blank(vb) {
                    continue;
                }
                diff(&sub, va, vb, out);
            }
        }
        _ => out.push((
            if path.is_empty() {
                "record".into()
            } else {
                path.into()
            },
            short(a),
            short(b),
        )),
    }
}

fn is_blank(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn short(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        // Labelled emails and phones read as people write them: `work a@x.org, home b@y.org`.
        Value::Array(items) if !items.is_empty() && items.iter().all(is_labelled) => items
            .iter()
            .map(|i| {
                let part = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("");
                if part("label").is_empty() {
                    part("value").to_string()
                } else {
                    format!("{} {}", part("label"), part("value"))
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn is_labelled(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.len() == 2
            && o.get("label").is_some_and(serde_json::Value::is_string)
            && o.get("value").is_some_and(serde_json::Value::is_string)
    })
}

/// Both sides of a change cut to at most `width` characters each around where they differ, so
/// a long value changed near its end still shows what changed: the common start is elided
/// (`…`) down to a few characters of context, then the differing part, then `…` if more.
pub fn clip_change(before: &str, after: &str, width: usize) -> (String, String) {
    let width = width.max(8);
    let a: Vec<char> = before.chars().collect();
    let b: Vec<char> = after.chars().collect();
    if a.len() <= width && b.len() <= width {
        return (before.to_string(), after.to_string());
    }
    // What comes just before the change, so it reads in context.
    let context = width / 3;
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    // A change within the part that fits keeps the beginning; a later one cuts it.
    let start = if prefix + context < width {
        0
    } else {
        prefix - context
    };
    let clip = |s: &[char]| -> String {
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        let room = width - usize::from(start > 0);
        let tail = s.get(start..).unwrap_or(&[]);
        if tail.len() > room {
            out.extend(&tail[..room - 1]);
            out.push('…');
        } else {
            out.extend(tail);
        }
        out
    };
    (clip(&a), clip(&b))
}

/// One user action: who, when, what, and every record it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: At,
    pub actor: String,
    /// What the person did, in words: "add contact", "log call", "undo: log call".
    pub action: String,
    pub changes: Vec<Change>,
    /// Undo entries and bulk loads are not themselves undone by `undo`.
    pub undoable: bool,
    /// Where the write came from: `tui`, `cli`, `import` or `ssh` ("" before schema 6).
    #[serde(default)]
    pub source: String,
}

/// An audit entry as schema 5 stored it (no source), read by the migration.
#[derive(Deserialize)]
pub(crate) struct AuditEntryV5 {
    pub seq: u64,
    pub at: At,
    pub actor: String,
    pub action: String,
    pub changes: Vec<Change>,
    pub undoable: bool,
}

impl From<AuditEntryV5> for AuditEntry {
    fn from(v: AuditEntryV5) -> AuditEntry {
        AuditEntry {
            seq: v.seq,
            at: v.at,
            actor: v.actor,
            action: v.action,
            changes: v.changes,
            undoable: v.undoable,
            source: String::new(),
        }
    }
}

thread_local! {
    /// The source of the writes this thread makes (set by the service per request).
    static SOURCE: std::cell::Cell<&'static str> = const { std::cell::Cell::new("") };
}

/// Runs `f` with its audit entries recorded as coming from `source`.
pub fn with_source<R>(source: &'static str, f: impl FnOnce() -> R) -> R {
    let before = SOURCE.with(|s| s.replace(source));
    let result = f();
    SOURCE.with(|s| s.set(before));
    result
}

/// The source audit entries written now record.
pub(crate) fn current_source() -> &'static str {
    SOURCE.with(std::cell::Cell::get)
}

impl AuditEntry {
    /// Whether this action changed anything about contact `id`: the contact itself, its
    /// timeline, its deals or its trash bundle (before or after).
    pub fn concerns(&self, id: Id) -> bool {
        self.changes.iter().any(|c| {
            [&c.before, &c.after]
                .into_iter()
                .flatten()
                .any(|r| match r {
                    Record::Contact(x) => x.id == id,
                    Record::Entry(e) => e.contact() == id,
                    Record::Deal(d) => d.contact == Some(id),
                    Record::Trash(t) => t.contact.id == id,
                    Record::Organization(_) => false,
                })
        })
    }

    /// Every contact this action concerns, in order of first mention, with the name its own
    /// records carry (`None` when it touched only their timeline or deals).
    pub fn contacts(&self) -> Vec<(Id, Option<String>)> {
        let mut out: Vec<(Id, Option<String>)> = Vec::new();
        for r in self
            .changes
            .iter()
            .flat_map(|c| [&c.after, &c.before])
            .flatten()
        {
            let (id, name) = match r {
                Record::Contact(x) => (x.id, Some(&x.name)),
                Record::Trash(t) => (t.contact.id, Some(&t.contact.name)),
                Record::Entry(e) => (e.contact(), None),
                Record::Deal(d) => match d.contact {
                    Some(id) => (id, None),
                    None => continue,
                },
                Record::Organization(_) => continue,
            };
            match out.iter_mut().find(|(seen, _)| *seen == id) {
                Some((_, known)) => {
                    if known.is_none() {
                        *known = name.cloned();
                    }
                }
                None => out.push((id, name.cloned())),
            }
        }
        out
    }

    /// The first contact this action concerns, for display.
    pub fn subject(&self) -> Option<(&'static str, Id)> {
        self.changes
            .iter()
            .filter_map(Change::record)
            .map(|r| (r.kind(), r.id()))
            .next()
    }
}

#[cfg(test)]
mod tests {
    use super::clip_change;

    #[test]
    fn a_change_deep_in_a_long_value_stays_visible() {
        let before = "Customer asked about the invoice for the November order, number 4411";
        let after = "Customer asked about the invoice for the November order, number 4412";
        let (b, a) = clip_change(before, after, 30);
        assert_ne!(b, a, "the cut sides differ: {b} / {a}");
        assert!(b.contains("4411") && a.contains("4412"), "{b} / {a}");
        assert!(b.starts_with('…') && b.chars().count() <= 30, "{b}");
        // Short values are shown whole; a change at the start keeps the start.
        assert_eq!(clip_change("a", "b", 30), ("a".into(), "b".into()));
        let long = "x".repeat(50);
        let (b, a) = clip_change(&format!("A{long}"), &format!("B{long}"), 20);
        assert!(
            b.starts_with('A') && a.starts_with('B') && b.ends_with('…'),
            "{b}"
        );
        assert_eq!(b.chars().count(), 20);
        // Growing a value: the added tail shows.
        let (b, a) = clip_change(&long, &format!("{long} and more"), 20);
        assert!(a.contains("and more"), "{b} / {a}");
    }
}
