//! What each subcommand does. Parsing of user values happens here, at the edge; the store does
//! the rest.

use std::io::{IsTerminal, Read, Write};
use std::time::Instant;

use serde::Serialize;

use super::output::{self, print_json, safe};
use super::{Cli, Command, ContactArgs, DueWindow, Failure, exit};
use crate::config::{ConfigFile, Dirs};
use crate::domain::merge::MergePlan;
use crate::domain::{
    Actor, Address, At, Birthday, Channel, Consent, ConsentStatus, Contact, ContactDraft,
    CustomValue, Day, Direction, Entry, Id, Interaction, Labelled, Outcome, Purchase, Stage, text,
    time,
};
use crate::store::Store;

/// Everything a subcommand needs from the global flags and the config file.
pub struct Context {
    pub db_path: std::path::PathBuf,
    pub actor: Actor,
    /// Keymap and theme asked for by flag, environment or config file (in that order).
    pub keymap: Option<String>,
    pub theme: Option<String>,
    /// The config file's settings (the full-screen interface reads keymap, theme and colour).
    pub config: ConfigFile,
    pub config_dir: Option<std::path::PathBuf>,
}

impl Context {
    fn new(cli: &Cli) -> Result<Context, Failure> {
        let dirs = Dirs::locate().ok();
        let config = match &dirs {
            Some(d) => ConfigFile::load(&d.config_file())?,
            None => ConfigFile::default(),
        };
        let db_path = match (&cli.db, &config.db, &dirs) {
            (Some(p), _, _) => p.clone(),
            (None, Some(p), _) => p.clone(),
            (None, None, Some(d)) => d.default_db(),
            (None, None, None) => return Err(crate::config::ConfigError::NoHome.into()),
        };
        let actor = match (&cli.actor, &config.actor) {
            (Some(a), _) | (None, Some(a)) => Actor::new(a),
            _ => Actor::from_os(),
        };
        Ok(Context {
            db_path,
            actor,
            keymap: cli.keymap.clone().or(config.keymap.clone()),
            theme: cli.theme.clone().or(config.theme.clone()),
            config,
            config_dir: dirs.map(|d| d.config),
        })
    }

    fn open(&self) -> Result<Store, Failure> {
        Ok(Store::open(&self.db_path)?)
    }
}

/// `rolo` with no subcommand: load and check the keymap and theme (every problem reported
/// before the screen is taken over), then run the full-screen interface.
fn full_screen(ctx: &Context, cli: &Cli) -> Result<(), Failure> {
    use crate::tui::theme::{ColorChoice, ColorSupport};
    let config_dir = ctx.config_dir.as_deref();
    let keymap_name = ctx.keymap.clone();
    let theme_name = ctx.theme.clone().unwrap_or_else(|| "default".to_string());
    let choice = match (cli.color, &ctx.config.color) {
        (Some(super::ColorChoice::Always), _) => ColorChoice::Always,
        (Some(super::ColorChoice::Never), _) => ColorChoice::Never,
        (Some(super::ColorChoice::Auto), _) => ColorChoice::Auto,
        (None, Some(text)) => text
            .parse()
            .map_err(|e: String| Failure::new(exit::INVALID, e))?,
        (None, None) => ColorChoice::Auto,
    };
    let keymap = crate::tui::Keymap::load(keymap_name.as_deref(), config_dir);
    let theme = crate::tui::Theme::load(&theme_name, config_dir, ColorSupport::from_env(choice));
    let mut problems = Vec::new();
    if let Err(e) = &keymap {
        problems.push(format!(
            "the keymap has problems:\n{e}\n(start with the shipped keymap: --keymap default)"
        ));
    }
    if let Err(e) = &theme {
        problems.push(format!(
            "the theme has problems:\n{e}\n(start with the shipped theme: --theme default)"
        ));
    }
    let (Ok(keymap), Ok(theme)) = (keymap, theme) else {
        return Err(Failure::new(exit::INVALID, problems.join("\n")));
    };
    let store = ctx.open()?;
    let options = crate::tui::TuiOptions {
        actor: ctx.actor.clone(),
        keymap,
        theme,
    };
    crate::tui::run(store, options).map_err(|e| match e {
        crate::tui::TuiError::Store(e) => Failure::from(e),
        other => Failure::new(exit::ERROR, other.to_string()),
    })?;
    match crate::tui::terminal::signal() {
        // Shell convention: 128 + the signal's number (129 for a hang-up).
        Some(signal) => Err(Failure::new(
            u8::try_from(128 + signal).unwrap_or(exit::ERROR),
            format!("stopped by signal {signal}; everything saved"),
        )),
        None => Ok(()),
    }
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Context::new(&cli)?;
    match cli.command {
        None => full_screen(&ctx, &cli),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "rolo", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
        Some(Command::Add { fields, json }) => add(&ctx, fields, json),
        Some(Command::Edit {
            contact,
            fields,
            untag,
            json,
        }) => edit(&ctx, &contact, fields, &untag, json),
        Some(Command::Log(args)) => log(&ctx, args),
        Some(Command::Show {
            contact,
            limit,
            json,
        }) => show(&ctx, &contact, limit, json),
        Some(Command::Search { query, limit, json }) => search(&ctx, &query.join(" "), limit, json),
        Some(Command::Followups { due, json }) => followups(&ctx, due, json),
        Some(Command::Done { id }) => done(&ctx, id),
        Some(Command::Purchase(args)) => purchase(&ctx, args),
        Some(Command::Rm { contact }) => {
            let store = ctx.open()?;
            let c = resolve(&store, &contact)?;
            store.delete_contact(&ctx.actor, c.id)?;
            outln!(
                "Moved {} (#{}) to the trash — `rolo undo` or `rolo restore {}` brings it back",
                safe(&c.name),
                c.id,
                c.id
            );
            Ok(())
        }
        Some(Command::Restore { id }) => {
            let store = ctx.open()?;
            let c = store.restore_contact(&ctx.actor, id)?;
            outln!("Restored {} (#{})", safe(&c.name), c.id);
            Ok(())
        }
        Some(Command::Trash { json }) => trash(&ctx, json),
        Some(Command::Undo) => {
            let store = ctx.open()?;
            let undone = store.undo(&ctx.actor)?;
            outln!(
                "Undid: {} ({})",
                safe(&undone.action),
                undone.at.local_display()
            );
            Ok(())
        }
        Some(Command::History { limit, json }) => history(&ctx, limit, json),
        Some(Command::Demo { contacts, seed }) => demo(&ctx, contacts, seed),
        Some(Command::Doctor { json }) => doctor(&ctx, json),
        Some(Command::Backup { path }) => {
            let store = ctx.open()?;
            let report = store.backup(&path)?;
            outln!(
                "Backed up {} rows to {} ({} bytes)",
                report.rows,
                safe(&report.path),
                report.bytes
            );
            Ok(())
        }
        Some(Command::Bench(args)) => super::bench::run(&ctx, args.what),
        Some(Command::Import(args)) => super::import::run(&ctx, args),
        Some(Command::Export(args)) => super::export::run(&ctx, args),
        Some(Command::Dedupe { json }) => super::dedupe::run(&ctx, json),
        Some(Command::Merge {
            keep,
            other,
            dry_run,
            json,
        }) => merge(&ctx, &keep, &other, dry_run, json),
        Some(Command::Keys(args)) => super::keys::keys(&ctx, args),
        Some(Command::Themes(args)) => super::keys::themes(&ctx, args),
    }
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(exit::INVALID, message)
}

/// Finds the one contact an argument means: an id, an exact email/phone/uid, or a search that
/// matches exactly one contact (an exact name match wins over partial ones).
pub fn resolve(store: &Store, query: &str) -> Result<Contact, Failure> {
    let q = query.trim();
    if let Ok(id) = q.trim_start_matches('#').parse::<Id>()
        && let Some(c) = store.contact(id)?
    {
        return Ok(c);
    }
    let mut exact: Vec<Id> = store.find_by_email(q)?;
    if exact.is_empty() && text::phone_key(q).len() >= 6 && !q.chars().any(char::is_alphabetic) {
        exact = store.find_by_phone(q)?;
    }
    if exact.is_empty()
        && let Some(id) = store.find_by_uid(q)?
    {
        exact.push(id);
    }
    if exact.len() == 1 {
        return store
            .contact(exact[0])?
            .ok_or_else(|| Failure::new(exit::NOT_FOUND, "contact vanished"));
    }
    let hits = super::lookup::find(store, q, 11)?;
    let folded = text::sort_key(q);
    let exact_names: Vec<&Contact> = hits
        .iter()
        .filter(|c| text::sort_key(&c.name) == folded)
        .collect();
    match (hits.len(), exact_names.len()) {
        (0, _) => Err(Failure::new(
            exit::NOT_FOUND,
            format!("no contact matches `{}`", safe(q)),
        )),
        (1, _) => Ok(hits[0].clone()),
        (_, 1) => Ok(exact_names[0].clone()),
        _ => {
            let mut msg = format!(
                "`{}` matches several contacts; use an id or a narrower query:",
                safe(q)
            );
            for c in hits.iter().take(10) {
                msg.push_str(&format!(
                    "\n{}",
                    output::contact_line(c, &store.organization_name(c.organization)?)
                ));
            }
            if hits.len() > 10 {
                msg.push_str("\n   …and more");
            }
            Err(Failure::new(exit::NOT_FOUND, msg))
        }
    }
}

fn labelled(input: &str, default_label: &str) -> Labelled {
    match input.split_once(':') {
        Some((label, value)) if !label.is_empty() && label.chars().all(char::is_alphabetic) => {
            Labelled::new(label, value)
        }
        _ => Labelled::new(default_label, input),
    }
}

fn apply_fields(c: &mut ContactDraftView, f: ContactArgs) -> Result<(), Failure> {
    if let Some(n) = f.name {
        *c.name = n;
    }
    if !f.email.is_empty() {
        *c.emails = f.email.iter().map(|e| labelled(e, "work")).collect();
    }
    if !f.phone.is_empty() {
        *c.phones = f.phone.iter().map(|p| labelled(p, "mobile")).collect();
    }
    if let Some(t) = f.title {
        *c.title = t;
    }
    if let Some(city) = f.city {
        match c.addresses.first_mut() {
            Some(a) => a.city = city,
            None => c.addresses.push(Address {
                label: "work".into(),
                city,
                ..Address::default()
            }),
        }
    }
    c.tags.extend(f.tag);
    if let Some(s) = f.stage {
        *c.stage = Some(s.parse::<Stage>().map_err(invalid)?);
    }
    for (target, value) in [
        (&mut *c.tier, f.tier),
        (&mut *c.owner, f.owner),
        (&mut *c.source, f.source),
        (&mut *c.language, f.language),
    ] {
        if let Some(v) = value {
            *target = v;
        }
    }
    if let Some(b) = f.birthday {
        *c.birthday = if b.is_empty() {
            None
        } else {
            Some(b.parse::<Birthday>().map_err(invalid)?)
        };
    }
    if let Some(ch) = f.channel {
        *c.preferred_channel = Some(ch.parse::<Channel>().map_err(invalid)?);
    }
    for field in f.field {
        let (k, v) = field
            .split_once('=')
            .ok_or_else(|| invalid(format!("`{field}`: custom fields are KEY=VALUE")))?;
        if v.is_empty() {
            c.custom.remove(&k.to_lowercase());
        } else {
            c.custom.insert(k.to_string(), CustomValue::guess(v));
        }
    }
    for consent in f.consent {
        let bad = || {
            invalid(format!(
                "`{consent}`: use CHANNEL=granted|denied|unknown[:purpose], e.g. email=granted:newsletter"
            ))
        };
        let (ch, rest) = consent.split_once('=').ok_or_else(bad)?;
        let (status, purpose) = rest.split_once(':').unwrap_or((rest, ""));
        c.consent.push(Consent {
            channel: ch.parse().map_err(invalid)?,
            status: status.parse::<ConsentStatus>().map_err(invalid)?,
            at: At::now(),
            source: "cli".into(),
            purpose: purpose.into(),
        });
    }
    if let Some(n) = f.notes {
        *c.notes = n;
    }
    Ok(())
}

/// Mutable views of the fields `add` and `edit` share, so one function fills both.
struct ContactDraftView<'a> {
    name: &'a mut String,
    emails: &'a mut Vec<Labelled>,
    phones: &'a mut Vec<Labelled>,
    title: &'a mut String,
    addresses: &'a mut Vec<Address>,
    tags: &'a mut Vec<String>,
    stage: &'a mut Option<Stage>,
    tier: &'a mut String,
    owner: &'a mut String,
    source: &'a mut String,
    language: &'a mut String,
    birthday: &'a mut Option<Birthday>,
    preferred_channel: &'a mut Option<Channel>,
    custom: &'a mut std::collections::BTreeMap<String, CustomValue>,
    consent: &'a mut Vec<Consent>,
    notes: &'a mut String,
}

fn add(ctx: &Context, mut fields: ContactArgs, json: bool) -> Result<(), Failure> {
    let mut draft = ContactDraft {
        organization: fields.org.take().unwrap_or_default(),
        ..ContactDraft::default()
    };
    apply_fields(
        &mut ContactDraftView {
            name: &mut draft.name,
            emails: &mut draft.emails,
            phones: &mut draft.phones,
            title: &mut draft.title,
            addresses: &mut draft.addresses,
            tags: &mut draft.tags,
            stage: &mut draft.stage,
            tier: &mut draft.tier,
            owner: &mut draft.owner,
            source: &mut draft.source,
            language: &mut draft.language,
            birthday: &mut draft.birthday,
            preferred_channel: &mut draft.preferred_channel,
            custom: &mut draft.custom,
            consent: &mut draft.consent,
            notes: &mut draft.notes,
        },
        fields,
    )?;
    let store = ctx.open()?;
    let contact = store.add_contact(&ctx.actor, draft)?;
    warn_shared_contact_points(&store, &contact)?;
    if json {
        return print_json(&contact);
    }
    outln!("Added {} (#{})", safe(&contact.name), contact.id);
    Ok(())
}

/// Warns on stderr when an email or phone of the just-added `contact` already belongs to
/// someone else, naming them and the merge that would fold the new record into theirs (the
/// contact is added anyway: scripts keep working, a person decides).
fn warn_shared_contact_points(store: &Store, contact: &Contact) -> Result<(), Failure> {
    let mut warned: Vec<Id> = Vec::new();
    let points = contact
        .emails
        .iter()
        .map(|e| (e.value.as_str(), store.find_by_email(&e.value)))
        .chain(
            contact
                .phones
                .iter()
                .map(|p| (p.value.as_str(), store.find_by_phone(&p.value))),
        );
    for (value, owners) in points {
        for id in owners? {
            if id == contact.id || warned.contains(&id) {
                continue;
            }
            // A shared switchboard or `info@` may be on hundreds of contacts.
            if warned.len() == 5 {
                eprintln!("warning: more contacts share these details; see `rolo dedupe`");
                return Ok(());
            }
            let Some(other) = store.contact(id)? else {
                continue;
            };
            warned.push(id);
            eprintln!(
                "warning: {} already belongs to {} (#{}); if they are the same person: rolo merge {} {}",
                safe(value),
                safe(&other.name),
                other.id,
                other.id,
                contact.id
            );
        }
    }
    Ok(())
}

fn edit(
    ctx: &Context,
    query: &str,
    mut fields: ContactArgs,
    untag: &[String],
    json: bool,
) -> Result<(), Failure> {
    let store = ctx.open()?;
    let mut contact = resolve(&store, query)?;
    let org = fields.org.take();
    let mut stage = Some(contact.stage);
    apply_fields(
        &mut ContactDraftView {
            name: &mut contact.name,
            emails: &mut contact.emails,
            phones: &mut contact.phones,
            title: &mut contact.title,
            addresses: &mut contact.addresses,
            tags: &mut contact.tags,
            stage: &mut stage,
            tier: &mut contact.tier,
            owner: &mut contact.owner,
            source: &mut contact.source,
            language: &mut contact.language,
            birthday: &mut contact.birthday,
            preferred_channel: &mut contact.preferred_channel,
            custom: &mut contact.custom,
            consent: &mut contact.consent,
            notes: &mut contact.notes,
        },
        fields,
    )?;
    contact.stage = stage.unwrap_or(contact.stage);
    let remove: Vec<String> = untag.iter().map(|t| text::clean_tag(t)).collect();
    contact
        .tags
        .retain(|t| !remove.contains(&text::clean_tag(t)));
    let saved = store.update_contact(&ctx.actor, contact, org.as_deref())?;
    if json {
        return print_json(&saved);
    }
    outln!(
        "Saved {} (#{}, version {})",
        safe(&saved.name),
        saved.id,
        saved.version
    );
    Ok(())
}

fn log(ctx: &Context, args: super::LogArgs) -> Result<(), Failure> {
    let channel: Channel = args.channel.parse().map_err(invalid)?;
    let direction: Direction = args.direction.parse().map_err(invalid)?;
    let outcome = args
        .outcome
        .as_deref()
        .map(str::parse::<Outcome>)
        .transpose()
        .map_err(invalid)?;
    let body = match args.body.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        Some(b) => b.to_string(),
        None => String::new(),
    };
    let follow_up = match &args.follow_up {
        Some(when) => Some((
            time::parse_due(when, Day::today()).map_err(invalid)?,
            args.follow_up_what.clone().unwrap_or_default(),
        )),
        None => None,
    };
    let store = ctx.open()?;
    let contact = resolve(&store, &args.contact)?;
    let interaction = Interaction {
        id: 0,
        contact: contact.id,
        at: At::now(),
        channel,
        direction,
        summary: args.summary,
        body,
        outcome,
        satisfaction: args.satisfaction,
        agent: String::new(),
        deal: None,
        campaign: String::new(),
    };
    let logged = store.log_interaction(&ctx.actor, interaction, follow_up)?;
    if args.json {
        #[derive(Serialize)]
        struct Out<'a> {
            interaction: &'a Interaction,
            follow_up: &'a Option<crate::domain::FollowUp>,
        }
        return print_json(&Out {
            interaction: &logged.interaction,
            follow_up: &logged.follow_up,
        });
    }
    out!(
        "Logged {} with {} (#{})",
        logged.interaction.channel,
        safe(&contact.name),
        logged.interaction.id
    );
    if let Some(f) = &logged.follow_up {
        out!("; follow-up #{} due {}", f.id, f.due);
    }
    outln!(" — `rolo undo` takes it back");
    Ok(())
}

#[derive(Serialize)]
pub struct ShowJson {
    pub contact: Contact,
    pub organization: Option<String>,
    pub last_contact: Option<At>,
    pub next_due: Option<Day>,
    pub timeline: Vec<Entry>,
    pub deals: Vec<crate::domain::Deal>,
}

#[derive(Serialize)]
struct MergeJson {
    dry_run: bool,
    kept: Id,
    absorbed: Id,
    /// Timeline entries and deals moved to the kept contact.
    moved: usize,
    organization: Option<String>,
    contact: Contact,
}

fn merge(ctx: &Context, keep: &str, other: &str, dry_run: bool, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let kept = resolve(&store, keep)?;
    let absorbed = resolve(&store, other)?;
    if kept.id == absorbed.id {
        return Err(invalid(format!(
            "`{}` and `{}` are the same contact (#{}); nothing to merge",
            safe(keep),
            safe(other),
            kept.id
        )));
    }
    let moved = store.history_count(absorbed.id)?;
    let kept_org = store.organization_name(kept.organization)?;
    let absorbed_org = store.organization_name(absorbed.organization)?;
    let plan = MergePlan::new(kept, kept_org, absorbed.clone(), absorbed_org);
    let (contact, moved) = if dry_run {
        (plan.result(), moved)
    } else {
        let merged = store.merge_contacts(&ctx.actor, plan.result(), &absorbed)?;
        (merged.contact, merged.moved)
    };
    let org = store.organization_name(contact.organization)?;
    if json {
        return print_json(&MergeJson {
            dry_run,
            kept: contact.id,
            absorbed: absorbed.id,
            moved,
            organization: (!org.is_empty()).then_some(org),
            contact,
        });
    }
    out!("{}", output::profile(&contact, &org));
    outln!();
    if dry_run {
        outln!(
            "Dry run: merging {} (#{}) into #{} would move {moved} timeline entries and deals; nothing was written.",
            safe(&absorbed.name),
            absorbed.id,
            contact.id
        );
    } else {
        outln!(
            "Merged {} (#{}) into #{}: {moved} timeline entries and deals moved — `rolo undo` splits them again",
            safe(&absorbed.name),
            absorbed.id,
            contact.id
        );
    }
    Ok(())
}

fn show(ctx: &Context, query: &str, limit: usize, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let contact = resolve(&store, query)?;
    let org = store.organization_name(contact.organization)?;
    let timeline = store.timeline(contact.id, limit)?;
    let (last_contact, next_due) = store.summary(contact.id)?;
    let deals = store.deals_for(contact.id)?;
    if json {
        return print_json(&ShowJson {
            organization: (!org.is_empty()).then_some(org),
            contact,
            last_contact,
            next_due,
            timeline,
            deals,
        });
    }
    out!("{}", output::profile(&contact, &org));
    for d in &deals {
        outln!(
            "{:>12}  {} — {} {} ({})",
            "deal",
            safe(&d.title),
            crate::domain::Money {
                minor: d.value,
                currency: d.currency.clone()
            },
            d.stage,
            d.status
        );
    }
    outln!();
    if timeline.is_empty() {
        outln!(
            "No history yet — `rolo log {} --summary \"…\"` records a call.",
            contact.id
        );
    }
    let now = At::now();
    for e in &timeline {
        outln!("{}", output::timeline_line(e, now));
    }
    Ok(())
}

#[derive(Serialize)]
struct SearchHitJson {
    id: Id,
    name: String,
    organization: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    tags: Vec<String>,
    stage: Stage,
    /// The value the query matched (`{"field":"phone","value":"+385 91 234 5678"}`).
    matched: Option<MatchedJson>,
}

#[derive(Serialize)]
struct MatchedJson {
    field: crate::search::MatchField,
    value: String,
}

/// What the query matched in `c` (its organisation named `org`).
fn matched_in(query: &str, c: &Contact, org: &str) -> Option<MatchedJson> {
    let parsed = crate::search::Query::parse(query).ok()?;
    let doc = crate::search::SearchDoc::from_contact(c, org, 0, None);
    crate::search::matched_value(&parsed, &doc).map(|(field, value)| MatchedJson { field, value })
}

fn search(ctx: &Context, query: &str, limit: usize, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let hits = super::lookup::find(&store, query, limit)?;
    if json {
        let mut out = Vec::new();
        for c in hits {
            let org = store.organization_name(c.organization)?;
            out.push(SearchHitJson {
                matched: matched_in(query, &c, &org),
                id: c.id,
                organization: (!org.is_empty()).then_some(org),
                email: c.primary_email().map(str::to_string),
                phone: c.primary_phone().map(str::to_string),
                name: c.name,
                tags: c.tags,
                stage: c.stage,
            });
        }
        return print_json(&out);
    }
    if hits.is_empty() {
        eprintln!("No contacts match `{}`.", safe(query));
    }
    for c in &hits {
        let org = store.organization_name(c.organization)?;
        // A contact found by its phone, email, city or tag says which one.
        let why = match matched_in(query, c, &org) {
            Some(m) if !matches!(m.field, crate::search::MatchField::Name) => {
                format!("  [{}: {}]", field_name(m.field), safe(&m.value))
            }
            _ => String::new(),
        };
        outln!("{}{why}", output::contact_line(c, &org));
    }
    Ok(())
}

fn field_name(field: crate::search::MatchField) -> &'static str {
    use crate::search::MatchField as F;
    match field {
        F::Name => "name",
        F::Organization => "organization",
        F::Email => "email",
        F::Phone => "phone",
        F::City => "city",
        F::Tag => "tag",
    }
}

#[derive(Serialize)]
struct FollowUpJson {
    id: Id,
    contact: Id,
    contact_name: String,
    due: Day,
    overdue: bool,
    what: String,
    assignee: String,
}

fn followups(ctx: &Context, window: DueWindow, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let today = Day::today();
    let until = match window {
        DueWindow::Overdue => today.add_days(-1),
        DueWindow::Today => today,
        DueWindow::Week => today.add_days(7),
        DueWindow::All => today.add_days(100 * 366),
    };
    let items: Vec<_> = store
        .due_until(until, usize::MAX)?
        .into_iter()
        .filter(|d| window != DueWindow::Today || d.follow_up.due == today)
        .collect();
    if json {
        let out: Vec<FollowUpJson> = items
            .into_iter()
            .map(|d| FollowUpJson {
                id: d.follow_up.id,
                contact: d.follow_up.contact,
                contact_name: d.contact_name,
                due: d.follow_up.due,
                overdue: d.follow_up.due < today,
                what: d.follow_up.what,
                assignee: d.follow_up.assignee,
            })
            .collect();
        return print_json(&out);
    }
    if items.is_empty() {
        outln!("Nothing due. Well done.");
    }
    for d in &items {
        let f = &d.follow_up;
        let when = if f.due < today {
            format!("OVERDUE {}", f.due)
        } else {
            f.due.to_string()
        };
        outln!(
            "{:>6}  {:<18} {} — {} ({})",
            f.id,
            when,
            safe(&d.contact_name),
            safe(&f.what),
            safe(&f.assignee)
        );
    }
    Ok(())
}

fn done(ctx: &Context, id: Id) -> Result<(), Failure> {
    let store = ctx.open()?;
    let item = store
        .due_until(Day::today().add_days(100 * 366), usize::MAX)?
        .into_iter()
        .find(|d| d.follow_up.id == id)
        .ok_or_else(|| {
            Failure::new(
                exit::NOT_FOUND,
                format!("no open follow-up #{id} (see `rolo followups --due all`)"),
            )
        })?;
    store.complete_follow_up(&ctx.actor, &item.follow_up)?;
    outln!(
        "Done: {} — {}",
        safe(&item.contact_name),
        safe(&item.follow_up.what)
    );
    Ok(())
}

/// `49.90` → 4990 minor units.
fn parse_money(input: &str) -> Result<i64, Failure> {
    let bad = || invalid(format!("`{input}` is not an amount (e.g. 49.90)"));
    let t = input.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if frac.len() > 2 || whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    let negative = whole.starts_with('-');
    let whole: i64 = whole.trim_start_matches('-').parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    let v = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    Ok(if negative { -v } else { v })
}

fn purchase(ctx: &Context, args: super::PurchaseArgs) -> Result<(), Failure> {
    let store = ctx.open()?;
    let contact = resolve(&store, &args.contact)?;
    let entry = Entry::Purchase(Purchase {
        id: 0,
        contact: contact.id,
        at: At::now(),
        product: args.product,
        quantity: args.quantity,
        amount: parse_money(&args.amount)?,
        cost: parse_money(&args.cost)?,
        currency: args.currency,
        channel: args.via,
        location: args.location,
    });
    let saved = store.add_entry(&ctx.actor, entry)?;
    if args.json {
        return print_json(&saved);
    }
    outln!(
        "Recorded purchase #{} for {}",
        saved.id(),
        safe(&contact.name)
    );
    Ok(())
}

fn trash(ctx: &Context, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let items = store.trash()?;
    if json {
        return print_json(&items);
    }
    if items.is_empty() {
        outln!("The trash is empty.");
    }
    for t in &items {
        outln!(
            "{:>6}  {} — deleted {} by {} ({} timeline entries)",
            t.contact.id,
            safe(&t.contact.name),
            t.deleted.at.local_display(),
            safe(&t.deleted.by),
            t.entries.len()
        );
    }
    Ok(())
}

fn history(ctx: &Context, limit: usize, json: bool) -> Result<(), Failure> {
    let store = ctx.open()?;
    let entries = store.audit_log(limit)?;
    if json {
        return print_json(&entries);
    }
    for e in &entries {
        let subject = e
            .subject()
            .map(|(k, id)| format!(" {k} #{id}"))
            .unwrap_or_default();
        outln!(
            "{:>6}  {}  {:<8} {}{}",
            e.seq,
            e.at.local_display(),
            safe(&e.actor),
            safe(&e.action),
            subject
        );
        for change in e.changes.iter().take(5) {
            for (field, before, after) in change.field_changes().into_iter().take(8) {
                let clip = |s: &str| -> String {
                    let s = safe(s);
                    if s.chars().count() > 40 {
                        format!("{}…", s.chars().take(40).collect::<String>())
                    } else {
                        s.into_owned()
                    }
                };
                outln!("          {field}: {} → {}", clip(&before), clip(&after));
            }
        }
    }
    Ok(())
}

fn demo(ctx: &Context, contacts: u64, seed: u64) -> Result<(), Failure> {
    let store = Store::open_for_bulk(&ctx.db_path)?;
    let started = Instant::now();
    let interactive = std::io::stderr().is_terminal();
    crate::demo::load(&store, &ctx.actor, contacts, seed, |n| {
        if interactive {
            eprint!("\r{n}/{contacts} contacts…");
            let _ = std::io::stderr().flush();
        }
    })?;
    if interactive {
        eprintln!();
    }
    store.reopen_for_compaction()?.compact()?;
    outln!(
        "Added {contacts} demo contacts with their history in {:.1} s to {}",
        started.elapsed().as_secs_f64(),
        safe(&ctx.db_path.display().to_string())
    );
    Ok(())
}

fn doctor(ctx: &Context, json: bool) -> Result<(), Failure> {
    let mut store = ctx.open()?;
    let report = store.doctor()?;
    if json {
        print_json(&report)?;
    } else {
        outln!("database    {}", safe(&ctx.db_path.display().to_string()));
        outln!("schema      {}", report.schema_version);
        outln!(
            "integrity   {}",
            if report.integrity_ok { "ok" } else { "FAILED" }
        );
        outln!(
            "records     {} contacts, {} timeline entries, {} open follow-ups, {} audit entries",
            report.contacts,
            report.timeline_entries,
            report.open_follow_ups,
            report.audit_entries
        );
        if report.problems.is_empty() {
            outln!("indexes     ok");
        }
        for p in &report.problems {
            outln!("problem     {}", safe(p));
        }
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(Failure::new(
            exit::UNHEALTHY,
            "the database has problems (listed above)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_minor_units() {
        assert_eq!(parse_money("49.90").unwrap(), 4990);
        assert_eq!(parse_money("49,9").unwrap(), 4990);
        assert_eq!(parse_money("12").unwrap(), 1200);
        assert_eq!(parse_money("-0.05").unwrap(), -5);
        assert!(parse_money("1.234").is_err());
        assert!(parse_money("abc").is_err());
    }

    #[test]
    fn labels_are_optional() {
        assert_eq!(
            labelled("home:ana@x.org", "work"),
            Labelled::new("home", "ana@x.org")
        );
        assert_eq!(
            labelled("ana@x.org", "work"),
            Labelled::new("work", "ana@x.org")
        );
        assert_eq!(
            labelled("+1 (555) 123", "mobile"),
            Labelled::new("mobile", "+1 (555) 123")
        );
    }
}
