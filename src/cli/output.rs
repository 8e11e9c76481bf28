//! Human output for the CLI. Every string that came from a user or a file passes through
//! [`safe`] before it reaches the terminal.

use std::borrow::Cow;

use crate::domain::{At, ConsentStatus, Contact, Entry, text};

pub fn safe(s: &str) -> Cow<'_, str> {
    text::visible(s, false)
}

pub fn safe_multiline(s: &str) -> Cow<'_, str> {
    text::visible(s, true)
}

thread_local! {
    /// While a job runs inside the server: what it prints, (stdout, stderr), for the client.
    static CAPTURE: std::cell::RefCell<Option<(String, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with everything [`emit`] and [`warn`] print collected instead of written.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, String, String) {
    CAPTURE.with(|c| *c.borrow_mut() = Some((String::new(), String::new())));
    let result = f();
    let (out, err) = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (result, out, err)
}

fn captured(stderr: bool, args: std::fmt::Arguments<'_>) -> bool {
    CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some((out, err)) => {
            use std::fmt::Write;
            let _ = (if stderr { err } else { out }).write_fmt(args);
            true
        }
        None => false,
    })
}

/// A line on stderr (warnings, progress notes); never panics when stderr is gone.
pub fn warn(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if !captured(true, format_args!("{args}\n")) {
        let _ = writeln!(std::io::stderr(), "{args}");
    }
}

/// Writes command output to stdout (see `outln!`). Never exits the process itself: an open
/// database must be dropped, or its next open needs a repair.
pub fn emit(args: std::fmt::Arguments<'_>) -> Result<(), super::Failure> {
    use std::io::Write;
    if captured(false, args) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args).and_then(|()| stdout.flush())?;
    Ok(())
}

pub fn print_json(value: &impl serde::Serialize) -> Result<(), super::Failure> {
    let text = crate::domain::text::to_safe_json_pretty(value)
        .map_err(|e| super::Failure::new(super::exit::ERROR, format!("cannot write JSON: {e}")))?;
    outln!("{text}");
    Ok(())
}

pub fn contact_line(c: &Contact, org: &str) -> String {
    let mut line = format!("{:>6}  {}", c.id, safe(&c.name));
    if !org.is_empty() {
        line.push_str(&format!(" · {}", safe(org)));
    }
    if let Some(e) = c.primary_email() {
        line.push_str(&format!(" <{}>", safe(e)));
    }
    line
}

/// A contact as a candidate to pick from: id, name, organisation, email and phone — what tells
/// two people of the same name apart.
pub fn candidate_line(c: &Contact, org: &str) -> String {
    let mut line = contact_line(c, org);
    if let Some(p) = c.primary_phone() {
        line.push_str(&format!(" {}", safe(p)));
    }
    line
}

pub fn profile(c: &Contact, org: &str) -> String {
    let mut out = String::new();
    let mut row = |label: &str, value: &str| {
        if !value.is_empty() {
            out.push_str(&format!("{label:>12}  {}\n", safe(value)));
        }
    };
    row("name", &format!("{} (#{})", c.name, c.id));
    row("organisation", org);
    row("title", &c.title);
    for e in &c.emails {
        row(&format!("email {}", e.label), &e.value);
    }
    for p in &c.phones {
        row(&format!("phone {}", p.label), &p.value);
    }
    for a in &c.addresses {
        row(&format!("address {}", a.label), &a.one_line());
    }
    row(
        "birthday",
        &c.birthday.map(|b| b.to_string()).unwrap_or_default(),
    );
    row("language", &c.language);
    row(
        "prefers",
        &c.preferred_channel
            .map(|ch| ch.to_string())
            .unwrap_or_default(),
    );
    row("stage", c.stage.name());
    row("tier", &c.tier);
    row("owner", &c.owner);
    row("source", &c.source);
    row(
        "tags",
        &c.tags
            .iter()
            .map(|t| format!("#{t}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    for (k, v) in &c.custom {
        row(k, &v.to_string());
    }
    for consent in &c.consent {
        let mark = match consent.status {
            ConsentStatus::Granted => "✓ granted",
            ConsentStatus::Denied => "✗ denied",
            ConsentStatus::Unknown => "? unknown",
        };
        row(
            &format!("consent {}", consent.channel),
            &format!(
                "{mark} {} ({}, {})",
                consent.at.local_day(),
                consent.source,
                consent.purpose
            ),
        );
    }
    if !c.notes.is_empty() {
        out.push_str(&format!(
            "{:>12}  {}\n",
            "notes",
            safe_multiline(&c.notes).replace('\n', "\n              ")
        ));
    }
    out
}

pub fn timeline_line(e: &Entry, now: At) -> String {
    let age = crate::domain::time::relative(e.at(), now);
    match e {
        Entry::Interaction(i) => {
            let mut line = format!(
                "{:>5}  {} {:<7} {:<3} {}",
                age,
                i.at.local_display(),
                i.channel.name(),
                i.direction.name(),
                safe(&i.summary)
            );
            if let Some(o) = i.outcome {
                line.push_str(&format!(" [{o}]"));
            }
            if let Some(s) = i.satisfaction {
                line.push_str(&format!(" {}", "★".repeat(s as usize)));
            }
            line.push_str(&format!(" — {}", safe(&i.agent)));
            line
        }
        Entry::FollowUp(f) => format!(
            "{:>5}  {} follow  #{} due {} {}{}",
            age,
            f.created.local_display(),
            f.id,
            f.due,
            safe(&f.what),
            if f.done_at.is_some() { " ✓ done" } else { "" }
        ),
        Entry::Purchase(p) => format!(
            "{:>5}  {} bought  {}× {} {} (margin {})",
            age,
            p.at.local_display(),
            p.quantity,
            safe(&p.product),
            crate::domain::Money {
                minor: p.amount,
                currency: p.currency.clone()
            },
            crate::domain::Money {
                minor: p.margin(),
                currency: p.currency.clone()
            },
        ),
    }
}
