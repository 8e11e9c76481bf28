//! `rolo import FILE --kind purchases`: streams order lines ([`crate::interop::orders`]) into
//! customers' timelines through [`Store::bulk`], [`PURCHASE_BATCH`] lines per transaction, so
//! memory stays flat whatever the file's size. A reader thread parses while this thread writes.
//!
//! Each line's customer is found by uid (also a uid a merge dropped), else by email, else by
//! phone — exactly one contact, never a guess. With `--create-customers` a customer nobody
//! matches is created (named by the line's customer name, else its key; the key becomes the
//! uid, email or phone); without it the line is reported, each unknown customer once with its
//! first line. Bad rows are reported as `FILE:LINE: reason` and the rest still imports; the
//! exit status is then `exit::PARTIAL` (8).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use serde::Serialize;

use super::import::ImportArgs;
use super::output::{print_json, safe};
use super::{Failure, exit};
use crate::domain::{ContactDraft, Entry, Id, Labelled, Purchase};
use crate::interop::orders::{self, CustomerKey, OrderLine, OrderReader};
use crate::store::{Bulk, Store, StoreError};

/// Order lines per write transaction: a transaction's purchase summaries are held in memory
/// (one per customer touched) until it commits.
pub const PURCHASE_BATCH: usize = 1_000_000;

/// Customers remembered by key across lines (cleared when full: memory stays bounded).
const KEY_CACHE: usize = 200_000;

/// Problems listed in full; beyond that they are only counted.
const LISTED: usize = 1_000;

#[derive(Debug, Default, Serialize)]
pub struct PurchaseReport {
    pub file: String,
    pub kind: &'static str,
    /// `Shopify order export`, `WooCommerce order export`, `order lines`, `order lines (mapped)`.
    pub detected: String,
    /// Every column read, and the field it fed.
    pub columns: Vec<ColumnRead>,
    pub dry_run: bool,
    pub lines: u64,
    pub imported: u64,
    pub customers_created: u64,
    /// Lines whose customer is not in the database (and was not created).
    pub unknown_lines: u64,
    /// Each unknown customer once (at most 1,000 listed).
    pub unknown_customers: Vec<UnknownCustomer>,
    pub failed_lines: u64,
    /// At most 1,000 listed.
    pub failed: Vec<LineProblem>,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ColumnRead {
    pub column: String,
    pub field: String,
}

#[derive(Debug, Serialize)]
pub struct UnknownCustomer {
    pub key: String,
    pub first_line: u64,
    pub lines: u64,
}

#[derive(Debug, Serialize)]
pub struct LineProblem {
    pub line: u64,
    pub message: String,
}

struct Run<'a> {
    label: &'a str,
    create: bool,
    quiet: bool,
    cache: FxHashMap<CustomerKey, Id>,
    unknown: BTreeMap<String, usize>,
    report: PurchaseReport,
}

impl Run<'_> {
    fn fail(&mut self, line: u64, message: String) {
        self.report.failed_lines += 1;
        if self.report.failed.len() < LISTED {
            if !self.quiet {
                warnln!("{}:{line}: {}", self.label, safe(&message));
            }
            self.report.failed.push(LineProblem { line, message });
        }
    }

    fn unknown(&mut self, line: u64, key: &str) {
        self.report.unknown_lines += 1;
        match self.unknown.get(key) {
            Some(&i) => self.report.unknown_customers[i].lines += 1,
            None if self.report.unknown_customers.len() < LISTED => {
                if !self.quiet {
                    warnln!(
                        "{}:{line}: no customer `{}` (use --create-customers to create them)",
                        self.label,
                        safe(key)
                    );
                }
                self.unknown
                    .insert(key.to_string(), self.report.unknown_customers.len());
                self.report.unknown_customers.push(UnknownCustomer {
                    key: key.to_string(),
                    first_line: line,
                    lines: 1,
                });
            }
            None => {}
        }
    }

    /// The one contact the line's keys name, or why there is none.
    fn find(
        &mut self,
        bulk: &Bulk,
        keys: &[CustomerKey],
    ) -> Result<Result<Id, String>, StoreError> {
        for key in keys {
            if let Some(id) = self.cache.get(key) {
                return Ok(Ok(*id));
            }
        }
        for key in keys {
            let ids = match key {
                CustomerKey::Uid(uid) => bulk
                    .find_by_uid(uid)?
                    .or(bulk.find_by_merged_uid(uid)?)
                    .into_iter()
                    .collect(),
                CustomerKey::Email(e) => bulk.find_by_email(e)?,
                CustomerKey::Phone(p) => bulk.find_by_phone(p)?,
            };
            match ids.as_slice() {
                [] => continue,
                [id] => {
                    self.remember(key.clone(), *id);
                    return Ok(Ok(*id));
                }
                many => {
                    let list: Vec<String> = many.iter().map(|i| format!("#{i}")).collect();
                    return Ok(Err(format!(
                        "`{}` belongs to {} contacts ({}); give a uid instead",
                        key.text(),
                        many.len(),
                        list.join(", ")
                    )));
                }
            }
        }
        Ok(Err(String::new()))
    }

    fn remember(&mut self, key: CustomerKey, id: Id) {
        if self.cache.len() >= KEY_CACHE {
            self.cache.clear();
        }
        self.cache.insert(key, id);
    }

    fn create(
        &mut self,
        bulk: &mut Bulk,
        line: &OrderLine,
        actor: &crate::domain::Actor,
    ) -> Result<Result<Id, String>, StoreError> {
        let mut draft = ContactDraft {
            name: if line.customer_name.is_empty() {
                line.keys[0].text().to_string()
            } else {
                line.customer_name.clone()
            },
            stage: Some(crate::domain::Stage::Customer),
            source: "purchase import".into(),
            ..ContactDraft::default()
        };
        for key in &line.keys {
            match key {
                CustomerKey::Uid(u) if draft.uid.is_empty() => draft.uid = u.clone(),
                CustomerKey::Email(e) if draft.emails.is_empty() => {
                    draft.emails.push(Labelled::new("work", e));
                }
                CustomerKey::Phone(p) if draft.phones.is_empty() && draft.uid != *p => {
                    draft.phones.push(Labelled::new("work", p));
                }
                _ => {}
            }
        }
        let contact = match draft.into_contact(actor) {
            Ok(c) => c,
            Err(e) => return Ok(Err(format!("cannot create the customer: {e}"))),
        };
        let id = bulk.add_contact(contact, "")?;
        self.report.customers_created += 1;
        for key in &line.keys {
            self.remember(key.clone(), id);
        }
        Ok(Ok(id))
    }

    fn store_line(
        &mut self,
        bulk: &mut Bulk,
        (line, purchase): (OrderLine, Result<Purchase, String>),
        actor: &crate::domain::Actor,
    ) -> Result<(), StoreError> {
        let contact = match self.find(bulk, &line.keys)? {
            Ok(id) => id,
            Err(message) if !message.is_empty() => {
                self.fail(line.line, message);
                return Ok(());
            }
            Err(_) if self.create => match self.create(bulk, &line, actor)? {
                Ok(id) => id,
                Err(message) => {
                    self.fail(line.line, message);
                    return Ok(());
                }
            },
            Err(_) => {
                let key = line.keys[0].text().to_string();
                self.unknown(line.line, &key);
                return Ok(());
            }
        };
        let mut purchase = match purchase {
            Ok(p) => p,
            Err(message) => {
                self.fail(line.line, message);
                return Ok(());
            }
        };
        purchase.contact = contact;
        bulk.add_entry(Entry::Purchase(purchase))?;
        self.report.imported += 1;
        Ok(())
    }
}

/// A line as the reader thread hands it over: the order line (its customer keys) and its
/// purchase already cleaned and checked there, off the writing thread — or why the line could
/// not be read.
type Parsed = Result<(OrderLine, Result<Purchase, String>), (u64, String)>;

/// The reader thread's part of a line: the purchase it describes, cleaned (customer still 0).
/// The line keeps its keys and customer name for finding or creating the customer.
fn prepare(item: orders::ParsedLine) -> Parsed {
    let mut line = item?;
    let mut purchase = Purchase {
        id: 0,
        contact: 0,
        at: line.at,
        product: std::mem::take(&mut line.product),
        quantity: line.quantity,
        amount: line.amount,
        cost: line.cost,
        currency: std::mem::take(&mut line.currency),
        channel: std::mem::take(&mut line.channel),
        location: std::mem::take(&mut line.location),
    };
    let checked = purchase
        .clean()
        .map(|()| purchase)
        .map_err(|e| e.to_string());
    Ok((line, checked))
}

pub fn run(ctx: &super::commands::Context, args: ImportArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let label = args.shown_name();
    let file = File::open(&args.file)
        .map_err(|e| Failure::new(exit::NOT_FOUND, format!("cannot open {label}: {e}")))?;
    let mapping = match &args.map {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::new(
                    exit::NOT_FOUND,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            Some(
                orders::parse_mapping(&text, &path.display().to_string())
                    .map_err(|e| Failure::new(exit::INVALID, e))?,
            )
        }
        None => None,
    };
    let currency = args.currency.clone().unwrap_or_default();
    let reader = OrderReader::new(
        BufReader::with_capacity(256 * 1024, file),
        mapping.as_ref(),
        &currency,
    )
    .map_err(|e| Failure::new(exit::INVALID, format!("{label}: {e}")))?;
    let mut run = Run {
        label: &label,
        create: args.create_customers,
        quiet: args.json,
        cache: FxHashMap::default(),
        unknown: BTreeMap::new(),
        report: PurchaseReport {
            file: label.clone(),
            kind: "purchases",
            detected: reader.columns.flavour.name().to_string(),
            columns: reader
                .columns
                .recognised()
                .into_iter()
                .map(|(column, field)| ColumnRead { column, field })
                .collect(),
            dry_run: args.dry_run,
            ..PurchaseReport::default()
        },
    };
    let store = if args.dry_run && !ctx.db_path.exists() {
        super::commands::StoreRef::Owned(crate::server::Service::new(Store::in_memory()?, false))
    } else {
        ctx.store(true, true)?
    };
    let batch = args.batch.unwrap_or(PURCHASE_BATCH).max(1);
    std::thread::scope(|scope| -> Result<(), Failure> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(64);
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(1024);
            for item in reader {
                chunk.push(prepare(item));
                if chunk.len() == 1024
                    && sender
                        .send(std::mem::replace(&mut chunk, Vec::with_capacity(1024)))
                        .is_err()
                {
                    return;
                }
            }
            let _ = sender.send(chunk);
        });
        let mut lines = receiver.into_iter().flatten().peekable();
        while lines.peek().is_some() {
            let load = |bulk: &mut Bulk| -> Result<(), StoreError> {
                for item in lines.by_ref().take(batch) {
                    run.report.lines += 1;
                    match item {
                        Ok(line) => run.store_line(bulk, line, &ctx.actor)?,
                        Err((line, message)) => run.fail(line, message),
                    }
                }
                Ok(())
            };
            if args.dry_run {
                store.bulk_dry_run(&ctx.actor, "import purchases", load)?;
            } else {
                store.bulk(&ctx.actor, "import purchases", load)?;
            }
        }
        Ok(())
    })?;
    run.report.seconds = started.elapsed().as_secs_f64();
    let report = run.report;
    if args.json {
        print_json(&report)?;
    } else {
        let verb = if args.dry_run {
            "Would import"
        } else {
            "Imported"
        };
        outln!(
            "{verb} {} of {} purchase lines from {} ({}) in {:.1} s; {} customers created.",
            report.imported,
            report.lines,
            safe(&label),
            report.detected,
            report.seconds,
            report.customers_created
        );
        if report.unknown_lines > 0 {
            let listed = report.unknown_customers.len();
            let many = if listed >= LISTED { "at least " } else { "" };
            outln!(
                "{} lines name {many}{listed} customers not in the database (see above; --create-customers creates them).",
                report.unknown_lines,
            );
        }
        if report.failed_lines > 0 {
            outln!(
                "{} lines could not be read (see above).",
                report.failed_lines
            );
        }
    }
    if report.failed_lines > 0 || report.unknown_lines > 0 {
        return Err(Failure::new(
            exit::PARTIAL,
            format!(
                "{} of {} lines not imported",
                report.lines - report.imported,
                report.lines
            ),
        ));
    }
    Ok(())
}
