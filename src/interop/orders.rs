//! Order lines from CSV — `rolo import FILE --kind purchases`: header detection (Shopify and
//! WooCommerce order exports, rolo's own column names and common synonyms, or a `--map` file),
//! and parsing of each row into an [`OrderLine`] or a problem with its line number. Streaming:
//! one row at a time, nothing kept but the previous row's order-level fields (Shopify leaves
//! them empty on an order's second and later lines).
//!
//! Fields (the names a `--map` file uses): `customer` (an email, else a uid, else a phone),
//! `customer_uid`, `customer_email`, `customer_phone`, `customer_name`, `order`, `at`, `product`,
//! `quantity`, `amount` (line total), `unit_price`, `cost` (line total), `unit_cost`,
//! `currency`, `channel`, `location`, `ignore`.

use std::collections::BTreeMap;
use std::io::Read;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};

use super::encoding::Utf8Reader;
use crate::domain::At;

/// The fields a column can feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Customer,
    CustomerUid,
    CustomerEmail,
    CustomerPhone,
    CustomerName,
    Order,
    At,
    Product,
    Quantity,
    Amount,
    UnitPrice,
    Cost,
    UnitCost,
    Currency,
    Channel,
    Location,
    Ignore,
}

/// How many [`Field`]s there are.
const FIELD_COUNT: usize = Field::Ignore as usize + 1;

pub const FIELDS: &str = "customer, customer_uid, customer_email, customer_phone, customer_name, \
     order, at, product, quantity, amount, unit_price, cost, unit_cost, currency, channel, \
     location, ignore";

impl Field {
    pub fn parse(name: &str) -> Option<Field> {
        Some(match name.trim().to_lowercase().as_str() {
            "customer" => Field::Customer,
            "customer_uid" | "uid" | "customer_id" => Field::CustomerUid,
            "customer_email" | "email" => Field::CustomerEmail,
            "customer_phone" | "phone" => Field::CustomerPhone,
            "customer_name" | "name" => Field::CustomerName,
            "order" | "order_id" => Field::Order,
            "at" | "date" => Field::At,
            "product" => Field::Product,
            "quantity" => Field::Quantity,
            "amount" => Field::Amount,
            "unit_price" => Field::UnitPrice,
            "cost" => Field::Cost,
            "unit_cost" => Field::UnitCost,
            "currency" => Field::Currency,
            "channel" => Field::Channel,
            "location" => Field::Location,
            "ignore" => Field::Ignore,
            _ => return None,
        })
    }
}

/// Which export a header looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Shopify,
    WooCommerce,
    Generic,
    /// Columns from a `--map` file.
    Mapped,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Shopify => "Shopify order export",
            Flavour::WooCommerce => "WooCommerce order export",
            Flavour::Generic => "order lines",
            Flavour::Mapped => "order lines (mapped)",
        }
    }
}

/// Folds a header for matching: lowercase letters and digits only.
fn fold(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Shopify's order export (one row per line item).
const SHOPIFY: &[(&str, Field)] = &[
    ("name", Field::Order),
    ("email", Field::CustomerEmail),
    ("phone", Field::CustomerPhone),
    ("billingname", Field::CustomerName),
    ("createdat", Field::At),
    ("currency", Field::Currency),
    ("lineitemname", Field::Product),
    ("lineitemquantity", Field::Quantity),
    ("lineitemprice", Field::UnitPrice),
    ("source", Field::Channel),
    ("location", Field::Location),
];

/// WooCommerce order exports (the built-in and the common export plugins' column names).
const WOOCOMMERCE: &[(&str, Field)] = &[
    ("orderid", Field::Order),
    ("ordernumber", Field::Order),
    ("orderdate", Field::At),
    ("billingemail", Field::CustomerEmail),
    ("emailbilling", Field::CustomerEmail),
    ("billingphone", Field::CustomerPhone),
    ("phonebilling", Field::CustomerPhone),
    ("customeruserid", Field::CustomerUid),
    ("billingfullname", Field::CustomerName),
    ("itemname", Field::Product),
    ("productname", Field::Product),
    ("itemquantity", Field::Quantity),
    ("quantity", Field::Quantity),
    ("qty", Field::Quantity),
    ("itemtotal", Field::Amount),
    ("linetotal", Field::Amount),
    ("itemcost", Field::UnitPrice),
    ("itemcostofgoods", Field::Cost),
    ("wccogitemtotalcost", Field::Cost),
    ("ordercurrency", Field::Currency),
    ("currency", Field::Currency),
    ("createdvia", Field::Channel),
    ("billingcity", Field::Location),
    ("citybilling", Field::Location),
];

/// rolo's own names and common synonyms.
const GENERIC: &[(&str, Field)] = &[
    ("customer", Field::Customer),
    ("customeruid", Field::CustomerUid),
    ("uid", Field::CustomerUid),
    ("customerid", Field::CustomerUid),
    ("externalid", Field::CustomerUid),
    ("customeremail", Field::CustomerEmail),
    ("email", Field::CustomerEmail),
    ("customerphone", Field::CustomerPhone),
    ("phone", Field::CustomerPhone),
    ("customername", Field::CustomerName),
    ("name", Field::CustomerName),
    ("order", Field::Order),
    ("orderid", Field::Order),
    ("invoice", Field::Order),
    ("invoiceno", Field::Order),
    ("at", Field::At),
    ("date", Field::At),
    ("time", Field::At),
    ("datetime", Field::At),
    ("orderdate", Field::At),
    ("invoicedate", Field::At),
    ("product", Field::Product),
    ("item", Field::Product),
    ("sku", Field::Product),
    ("description", Field::Product),
    ("quantity", Field::Quantity),
    ("qty", Field::Quantity),
    ("amount", Field::Amount),
    ("total", Field::Amount),
    ("linetotal", Field::Amount),
    ("revenue", Field::Amount),
    ("sales", Field::Amount),
    ("unitprice", Field::UnitPrice),
    ("price", Field::UnitPrice),
    ("cost", Field::Cost),
    ("unitcost", Field::UnitCost),
    ("currency", Field::Currency),
    ("channel", Field::Channel),
    ("location", Field::Location),
    ("store", Field::Location),
    ("city", Field::Location),
];

/// How the file's columns map to fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    pub flavour: Flavour,
    /// Column index → field.
    pub fields: Vec<Option<Field>>,
    pub headers: Vec<String>,
}

impl Columns {
    /// Reads the header: a `mapping` (column name → field) wins; else Shopify and WooCommerce
    /// are recognised by their tell-tale columns; else rolo's names and synonyms. Errors name
    /// what is missing.
    pub fn detect(
        headers: &[String],
        mapping: Option<&BTreeMap<String, Field>>,
    ) -> Result<Columns, String> {
        let folded: Vec<String> = headers.iter().map(|h| fold(h)).collect();
        let has = |name: &str| folded.iter().any(|f| f == name);
        let (flavour, table): (Flavour, &[(&str, Field)]) = if mapping.is_some() {
            (Flavour::Mapped, &[])
        } else if has("lineitemname") && has("createdat") {
            (Flavour::Shopify, SHOPIFY)
        } else if (has("billingemail") || has("emailbilling"))
            && (has("itemname") || has("productname"))
        {
            (Flavour::WooCommerce, WOOCOMMERCE)
        } else {
            (Flavour::Generic, GENERIC)
        };
        let mut fields: Vec<Option<Field>> = Vec::with_capacity(headers.len());
        let mut taken = std::collections::BTreeSet::new();
        for (header, f) in headers.iter().zip(&folded) {
            let field = match mapping {
                Some(m) => m
                    .iter()
                    .find(|(k, _)| k.trim() == header.trim() || fold(k) == *f)
                    .map(|(_, v)| *v),
                None => table.iter().find(|(k, _)| k == f).map(|(_, v)| *v),
            };
            // The first column for a field wins (e.g. "Email" before "Billing Email").
            let field = field.filter(|v| *v == Field::Ignore || taken.insert(*v));
            fields.push(field.filter(|v| *v != Field::Ignore));
        }
        let cols = Columns {
            flavour,
            fields,
            headers: headers.to_vec(),
        };
        let mut missing = Vec::new();
        if !cols.has_any(&[
            Field::Customer,
            Field::CustomerUid,
            Field::CustomerEmail,
            Field::CustomerPhone,
        ]) {
            missing.push(
                "a customer column (customer, customer_uid, customer_email or customer_phone)",
            );
        }
        if !cols.has(Field::At) {
            missing.push("a date column (at)");
        }
        if !cols.has_any(&[Field::Amount, Field::UnitPrice]) {
            missing.push("an amount column (amount or unit_price)");
        }
        if !missing.is_empty() {
            return Err(format!(
                "the header ({}) lacks {}; name the columns with --map (fields: {FIELDS})",
                headers.join(", "),
                missing.join(", ")
            ));
        }
        Ok(cols)
    }

    pub fn has(&self, field: Field) -> bool {
        self.fields.contains(&Some(field))
    }

    fn has_any(&self, fields: &[Field]) -> bool {
        fields.iter().any(|f| self.has(*f))
    }

    /// `(column, field)` pairs that were recognised, for the report.
    pub fn recognised(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .zip(&self.fields)
            .filter_map(|(h, f)| f.map(|f| (h.clone(), format!("{f:?}").to_lowercase())))
            .collect()
    }
}

/// Parses a `--map` file: TOML lines `"Column" = "field"`.
pub fn parse_mapping(source: &str, file: &str) -> Result<BTreeMap<String, Field>, String> {
    let table: toml::Table = source
        .parse()
        .map_err(|e: toml::de::Error| format!("{file}: {}", e.message()))?;
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (column, value) in table {
        match value.as_str().and_then(Field::parse) {
            Some(f) => {
                out.insert(column, f);
            }
            None => problems.push(format!(
                "{file}: `{column}` = {value}: not a field (fields: {FIELDS})"
            )),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("\n"))
    }
}

/// How a line names its customer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CustomerKey {
    Uid(String),
    Email(String),
    Phone(String),
}

impl CustomerKey {
    pub fn text(&self) -> &str {
        match self {
            CustomerKey::Uid(s) | CustomerKey::Email(s) | CustomerKey::Phone(s) => s,
        }
    }
}

/// One parsed order line.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderLine {
    pub line: u64,
    /// Every key the line gives, most specific first (uid, email, phone).
    pub keys: Vec<CustomerKey>,
    pub customer_name: String,
    pub order: String,
    pub at: At,
    pub product: String,
    pub quantity: u32,
    pub amount: i64,
    pub cost: i64,
    /// Empty when neither the line nor `--currency` says.
    pub currency: String,
    pub channel: String,
    pub location: String,
}

/// Fields Shopify writes on an order's first line only, carried to its other lines.
const CARRIED: [Field; 6] = [
    Field::CustomerEmail,
    Field::CustomerPhone,
    Field::CustomerName,
    Field::At,
    Field::Currency,
    Field::Channel,
];

/// A line, or `(line number, why it was not read)`.
pub type ParsedLine = Result<OrderLine, (u64, String)>;

/// Streams order lines out of a CSV.
pub struct OrderReader<R: Read> {
    rows: csv::StringRecordsIntoIter<Utf8Reader<R>>,
    pub columns: Columns,
    default_currency: String,
    /// The previous line's order id and carried values.
    previous: Option<(String, BTreeMap<Field, String>)>,
}

/// Picks the delimiter from the header line: the most frequent of `,` `;` tab.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let count = |d: u8| line.iter().filter(|b| **b == d).count();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (count(*d), *d == b','))
        .unwrap_or(b',')
}

impl<R: Read> OrderReader<R> {
    pub fn new(
        input: R,
        mapping: Option<&BTreeMap<String, Field>>,
        default_currency: &str,
    ) -> Result<Self, String> {
        let mut utf8 = Utf8Reader::new(input, None, true).map_err(|e| e.to_string())?;
        let head = std::io::BufRead::fill_buf(&mut utf8).map_err(|e| e.to_string())?;
        let delimiter = sniff_delimiter(head);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(utf8);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| format!("cannot read the header: {e}"))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err("the file is empty (no header line)".into());
        }
        let columns = Columns::detect(&headers, mapping)?;
        if !columns.has(Field::Currency) && default_currency.is_empty() {
            return Err(
                "no currency column: say which currency the amounts are in with --currency (e.g. --currency EUR)"
                    .into(),
            );
        }
        Ok(OrderReader {
            rows: reader.into_records(),
            columns,
            default_currency: default_currency.trim().to_uppercase(),
            previous: None,
        })
    }

    fn parse(&mut self, record: &csv::StringRecord, line: u64) -> Result<OrderLine, String> {
        // Borrowed from the record: no allocation per field.
        let mut values: [&str; FIELD_COUNT] = [""; FIELD_COUNT];
        for (i, field) in self.columns.fields.iter().enumerate() {
            if let (Some(f), Some(v)) = (field, record.get(i)) {
                let v = v.trim();
                let slot = &mut values[*f as usize];
                if slot.is_empty() {
                    *slot = v;
                }
            }
        }
        let order = values[Field::Order as usize];
        let same_order =
            !order.is_empty() && self.previous.as_ref().is_some_and(|(o, _)| o == order);
        if same_order && let Some((_, carried)) = &self.previous {
            for (f, v) in carried {
                if values[*f as usize].is_empty() {
                    values[*f as usize] = v.as_str();
                }
            }
        }
        let carried: BTreeMap<Field, String> = if order.is_empty() || same_order {
            BTreeMap::new()
        } else {
            CARRIED
                .iter()
                .filter(|f| !values[**f as usize].is_empty())
                .map(|f| (*f, values[*f as usize].to_string()))
                .collect()
        };
        let order = order.to_string();
        let values: [&str; FIELD_COUNT] = values;
        let get = |f: Field| values[f as usize];

        let mut keys = Vec::new();
        let generic = get(Field::Customer);
        if !get(Field::CustomerUid).is_empty() {
            keys.push(CustomerKey::Uid(get(Field::CustomerUid).to_string()));
        }
        if !generic.is_empty() && !generic.contains('@') {
            keys.push(CustomerKey::Uid(generic.to_string()));
        }
        for email in [get(Field::CustomerEmail), generic] {
            if email.contains('@') {
                keys.push(CustomerKey::Email(email.to_string()));
            }
        }
        if !get(Field::CustomerPhone).is_empty() {
            keys.push(CustomerKey::Phone(get(Field::CustomerPhone).to_string()));
        }
        if !generic.is_empty()
            && !generic.contains('@')
            && generic.chars().any(|c| c.is_ascii_digit())
        {
            keys.push(CustomerKey::Phone(generic.to_string()));
        }
        if keys.is_empty() {
            return Err("no customer (uid, email or phone) on this line".into());
        }
        let at_text = get(Field::At);
        if at_text.is_empty() {
            return Err("no date".into());
        }
        let at = parse_at(at_text)?;
        let quantity: u32 = match get(Field::Quantity) {
            "" => 1,
            q => q
                .parse::<f64>()
                .ok()
                .filter(|v| *v >= 0.0 && v.fract() == 0.0 && *v <= f64::from(u32::MAX))
                .map(|v| v as u32)
                .ok_or_else(|| format!("quantity `{q}` is not a whole number"))?,
        };
        let times = |unit: i64, what: &str| {
            unit.checked_mul(i64::from(quantity))
                .ok_or_else(|| format!("{what} × quantity is too large"))
        };
        let amount = match (get(Field::Amount), get(Field::UnitPrice)) {
            ("", "") => return Err("no amount".into()),
            ("", unit) => times(parse_money(unit)?, "unit price")?,
            (total, _) => parse_money(total)?,
        };
        let cost = match (get(Field::Cost), get(Field::UnitCost)) {
            ("", "") => 0,
            ("", unit) => times(parse_money(unit)?, "unit cost")?,
            (total, _) => parse_money(total)?,
        };
        let currency = match get(Field::Currency) {
            "" => self.default_currency.clone(),
            c => c.to_uppercase(),
        };
        let product = match get(Field::Product) {
            "" => "(unnamed)".to_string(),
            p => p.to_string(),
        };
        let out = OrderLine {
            line,
            keys,
            customer_name: get(Field::CustomerName).to_string(),
            order,
            at,
            product,
            quantity,
            amount,
            cost,
            currency,
            channel: get(Field::Channel).to_string(),
            location: get(Field::Location).to_string(),
        };
        if !same_order {
            self.previous = Some((out.order.clone(), carried));
        }
        Ok(out)
    }
}

impl<R: Read> Iterator for OrderReader<R> {
    type Item = ParsedLine;

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.rows.next()?;
        Some(match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                if r.iter().all(|v| v.trim().is_empty()) {
                    return self.next();
                }
                self.parse(&r, line).map_err(|e| (line, e))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Err((line, e.to_string()))
            }
        })
    }
}

/// A date or date-time: `2026-11-25`, `20261125`, `2026-11-25 14:03[:05]`, RFC 3339 /
/// ISO 8601 with an offset (`2026-11-25T14:03:05+01:00`, Shopify's `2026-11-25 14:03:05 -0500`).
/// Times without an offset, and bare dates (midnight), are taken as UTC.
pub fn parse_at(text: &str) -> Result<At, String> {
    let t = text.trim();
    let bad = || format!("`{t}` is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS][ ±HHMM])");
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(At::from_millis(ts.as_millisecond()));
    }
    // Shopify: "2026-11-25 14:03:05 -0500"
    if let Some((local, offset)) = t.rsplit_once(' ')
        && (offset.starts_with('+') || offset.starts_with('-'))
        && offset.len() == 5
        && let Ok(dt) = local.trim().parse::<DateTime>()
    {
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let hours: i64 = offset[1..3].parse().map_err(|_| bad())?;
        let minutes: i64 = offset[3..5].parse().map_err(|_| bad())?;
        let utc = jiff::tz::TimeZone::UTC
            .to_timestamp(dt)
            .map_err(|_| bad())?
            .as_millisecond()
            - sign * (hours * 60 + minutes) * 60_000;
        return Ok(At::from_millis(utc));
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let spaced = format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]);
        return parse_at(&spaced);
    }
    let dt = match t.parse::<DateTime>() {
        Ok(dt) => dt,
        Err(_) => t
            .parse::<Date>()
            .map_err(|_| bad())?
            .to_datetime(jiff::civil::time(0, 0, 0, 0)),
    };
    let ts = jiff::tz::TimeZone::UTC
        .to_timestamp(dt)
        .map_err(|_| bad())?;
    Ok(At::from_millis(ts.as_millisecond()))
}

/// Money in minor units: `29.33`, `-5`, `1,234.56`, `1.234,56`, `29,33`, `$29.33`, `29.330`.
/// At most two decimals that matter (further digits must be zeros).
pub fn parse_money(text: &str) -> Result<i64, String> {
    let bad = || format!("`{text}` is not an amount (e.g. 49.90)");
    let t: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ' ' | '\u{a0}' | '\''))
        .collect();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, t),
    };
    // The last of `.` or `,` is the decimal separator when 1–3 digits follow it and the other
    // one occurs before it; a lone `,` with exactly three digits after it is a thousands
    // separator (1,234).
    let last_dot = t.rfind('.');
    let last_comma = t.rfind(',');
    let decimal = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(d), None) => Some(d),
        (None, Some(c)) => (t.len() - c - 1 != 3 || t.matches(',').count() > 1)
            .then_some(c)
            .filter(|_| t.matches(',').count() == 1),
        (None, None) => None,
    };
    let (whole, frac) = match decimal {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t.as_str(), ""),
    };
    // Only the other separator may group thousands in the whole part.
    let grouping = match decimal.map(|i| &t[i..=i]) {
        Some(".") => ',',
        Some(",") => '.',
        _ => ',',
    };
    if whole.contains(|c| (c == ',' || c == '.') && c != grouping) {
        return Err(bad());
    }
    let whole: String = whole.chars().filter(|c| *c != grouping).collect();
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let (cents, rest) = frac.split_at(frac.len().min(2));
    if rest.chars().any(|c| c != '0') {
        return Err(format!("`{text}` has more than two decimals"));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    let v = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(bad)?;
    Ok(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(csv: &str, currency: &str) -> (Columns, Vec<ParsedLine>) {
        let r = OrderReader::new(csv.as_bytes(), None, currency).unwrap();
        let cols = r.columns.clone();
        (cols, r.collect())
    }

    #[test]
    fn money_forms() {
        assert_eq!(parse_money("29.33"), Ok(2933));
        assert_eq!(parse_money("29,33"), Ok(2933));
        assert_eq!(parse_money("1,234.56"), Ok(123_456));
        assert_eq!(parse_money("1.234,56"), Ok(123_456));
        assert_eq!(parse_money("1,234"), Ok(123_400));
        assert_eq!(parse_money("$5"), Ok(500));
        assert_eq!(parse_money("-0.5"), Ok(-50));
        assert_eq!(parse_money("19.990"), Ok(1999));
        assert!(parse_money("19.999").is_err());
        assert!(parse_money("5.5.5").is_err());
        assert!(parse_money("1,2,3.4,5").is_err());
        assert!(parse_money("abc").is_err());
        assert!(parse_money("").is_err());
    }

    #[test]
    fn date_forms() {
        let ms = |s: &str| parse_at(s).unwrap().millis();
        let midnight = 1_764_028_800_000; // 2025-11-25T00:00Z
        assert_eq!(ms("2025-11-25"), midnight);
        assert_eq!(ms("20251125"), midnight);
        assert_eq!(ms("2025-11-25 01:00"), midnight + 3_600_000);
        assert_eq!(ms("2025-11-25T01:00:00Z"), midnight + 3_600_000);
        assert_eq!(ms("2025-11-25 01:00:00 +0100"), midnight);
        assert_eq!(ms("2025-11-24 19:00:00 -0500"), midnight);
        assert!(parse_at("25/11/2025").is_err());
    }

    #[test]
    fn shopify_exports_are_recognised_and_order_fields_carried_to_later_lines() {
        let csv = "Name,Email,Financial Status,Created at,Currency,Lineitem quantity,Lineitem name,Lineitem price,Billing Name,Source\n\
                   #1001,ana@x.org,paid,2025-11-24 19:00:00 -0500,EUR,2,Mug,9.50,Ana,web\n\
                   #1001,,,,,1,Tea,4.00,,\n\
                   #1002,bob@x.org,paid,2025-11-26 10:00:00 +0000,EUR,x,Mug,9.50,Bob,pos\n";
        let (cols, lines) = read(csv, "");
        assert_eq!(cols.flavour, Flavour::Shopify);
        let first = lines[0].as_ref().unwrap();
        assert_eq!(first.amount, 1900);
        assert_eq!(first.keys, [CustomerKey::Email("ana@x.org".into())]);
        let second = lines[1].as_ref().unwrap();
        assert_eq!(second.keys, first.keys);
        assert_eq!(
            (second.at, second.amount, second.currency.as_str()),
            (first.at, 400, "EUR")
        );
        assert_eq!(second.channel, "web");
        assert_eq!(
            lines[2],
            Err((4, "quantity `x` is not a whole number".into()))
        );
    }

    #[test]
    fn woocommerce_exports_are_recognised() {
        let csv = "Order ID;Order Date;Billing Email;Billing Phone;Item Name;Quantity;Item Total;Order Currency;Item Cost of Goods\n\
                   17;2025-11-25 10:00:00;ana@x.org;+33 6 12;Mug;2;19.00;eur;8.00\n";
        let (cols, lines) = read(csv, "");
        assert_eq!(cols.flavour, Flavour::WooCommerce);
        let l = lines[0].as_ref().unwrap();
        assert_eq!((l.amount, l.cost, l.quantity), (1900, 800, 2));
        assert_eq!(l.currency, "EUR");
        assert_eq!(l.keys.len(), 2);
    }

    #[test]
    fn generic_names_a_map_and_missing_columns() {
        let csv = "customer,date,product,amount\nC-1,2025-11-25,Tea,3\n,2025-11-25,Tea,3\nC-2,soon,Tea,3\n";
        let (cols, lines) = read(csv, "usd");
        assert_eq!(cols.flavour, Flavour::Generic);
        let l = lines[0].as_ref().unwrap();
        assert_eq!(l.keys[0], CustomerKey::Uid("C-1".into()));
        assert_eq!(l.currency, "USD");
        assert_eq!(lines[1].as_ref().unwrap_err().0, 3);
        assert!(lines[2].as_ref().unwrap_err().1.contains("not a date"));
        // No currency anywhere: refused up front.
        let err = OrderReader::new(csv.as_bytes(), None, "").err().unwrap();
        assert!(err.contains("--currency"), "{err}");
        // A header rolo cannot read names what is missing.
        let err = OrderReader::new("Kunde,Datum\n1,2\n".as_bytes(), None, "EUR")
            .err()
            .unwrap();
        assert!(
            err.contains("date column") && err.contains("amount column"),
            "{err}"
        );
        let map = parse_mapping(
            "\"Kunde\" = \"customer\"\n\"Datum\" = \"at\"\n\"Betrag\" = \"amount\"",
            "m.toml",
        )
        .unwrap();
        let r = OrderReader::new(
            "Kunde,Datum,Betrag\nk1,2025-01-02,\"1.234,50\"\n".as_bytes(),
            Some(&map),
            "EUR",
        )
        .unwrap();
        assert_eq!(r.columns.flavour, Flavour::Mapped);
        let lines: Vec<_> = r.collect();
        assert_eq!(lines[0].as_ref().unwrap().amount, 123_450);
        assert!(
            parse_mapping("\"A\" = \"nope\"", "m.toml")
                .unwrap_err()
                .contains("not a field")
        );
    }
}
