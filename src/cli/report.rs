//! `rolo report rfm|clv|profit|performance|satisfaction`: the analytics reports as tables, or
//! as stable JSON with `--json` (documented in the README, "Reports"). Every number comes from
//! [`crate::analytics::reports`], the same functions the dashboard uses.

use clap::{Args, ValueEnum};

use super::output::{print_json, safe};
use super::{Failure, exit};
use crate::analytics::performance::Dimension;
use crate::analytics::reports::{self, TimeUnit};
use crate::analytics::rfm::FrequencyRule;
use crate::domain::{Day, Money};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportKind {
    /// Recency/frequency/monetary scores and segments
    Rfm,
    /// Churn risk and lifetime value (BG/NBD + Gamma-Gamma)
    Clv,
    /// Margin per customer and product, top and bottom, top-20 % share
    Profit,
    /// Sales and margin by month, channel, location, product; repeat rate
    Performance,
    /// CSAT and averages by agent, channel and month; who fell
    Satisfaction,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub kind: ReportKind,
    /// Analyse as at the end of this day (UTC): later purchases and interactions are ignored
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// performance: month, channel, location, product (repeatable) [default: all];
    /// satisfaction: agent, channel, month [default: all]
    #[arg(long, value_name = "DIMENSION")]
    pub by: Vec<String>,
    /// Rows in top / bottom / risk lists
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// rfm, clv, satisfaction: list every customer (JSON `scores` / `customers`)
    #[arg(long)]
    pub customers: bool,
    /// clv: the time unit of the model (α, recency, age, horizon)
    #[arg(long, value_enum, default_value_t = TimeUnit::Day)]
    pub unit: TimeUnit,
    /// clv: expected purchases over the next N units [default: 90 days / 13 weeks]
    #[arg(long, value_name = "N")]
    pub horizon: Option<f64>,
    /// clv: the spend model's currency [default: the most common one]
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// clv: lifetime value over this many 30-day months
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// clv: monthly discount rate of lifetime value
    #[arg(long, default_value_t = 0.01)]
    pub discount: f64,
    /// rfm: how F is scored: absolute (1, 2, 3, 4–5, 6+ purchase days) or quintiles
    #[arg(long, value_enum, default_value_t = Frequency::Absolute)]
    pub frequency: Frequency,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Frequency {
    Absolute,
    Quintiles,
}

fn invalid(message: String) -> Failure {
    Failure::new(exit::INVALID, message)
}

fn money(minor: i64, currency: &str) -> String {
    Money {
        minor,
        currency: currency.to_string(),
    }
    .to_string()
}

fn money_f(minor: f64, currency: &str) -> String {
    if minor.is_finite() {
        money(minor.round() as i64, currency)
    } else {
        "—".into()
    }
}

fn pct(share: Option<f64>) -> String {
    share.map_or_else(|| "—".into(), |s| format!("{:.1} %", s * 100.0))
}

pub fn run(ctx: &super::commands::Context, args: ReportArgs) -> Result<(), Failure> {
    let as_of = match &args.as_of {
        Some(text) => Some(text.parse::<Day>().map_err(invalid)?),
        None => None,
    };
    let store = ctx.store(false, false)?;
    match args.kind {
        ReportKind::Rfm => {
            let options = reports::RfmOptions {
                as_of,
                frequency: match args.frequency {
                    Frequency::Absolute => FrequencyRule::Absolute,
                    Frequency::Quintiles => FrequencyRule::Quintiles,
                },
                customers: args.customers,
            };
            let r = reports::rfm(&store, &options)?;
            if args.json {
                return print_json(&r);
            }
            outln!(
                "RFM as of {} — {} customers with purchases",
                r.as_of,
                r.customers
            );
            outln!();
            outln!("R\\F        1       2       3       4       5");
            for (i, row) in r.grid.iter().enumerate() {
                let cells: Vec<String> = row.iter().map(|n| format!("{n:>7}")).collect();
                outln!("R{}  {}", 5 - i, cells.join(" "));
            }
            outln!();
            outln!(
                "{:<20} {:>9} {:>7}  revenue / margin",
                "segment",
                "customers",
                "share"
            );
            for s in &r.segments {
                let money_cols: Vec<String> = s
                    .revenue
                    .iter()
                    .map(|(c, v)| {
                        format!(
                            "{} / {}",
                            money(*v, c),
                            money(*s.margin.get(c).unwrap_or(&0), c)
                        )
                    })
                    .collect();
                outln!(
                    "{:<20} {:>9} {:>7}  {}",
                    s.label,
                    s.customers,
                    pct(Some(s.share)),
                    money_cols.join(", ")
                );
            }
            for c in &r.scores {
                outln!(
                    "#{:<7} R{} F{} M{}  {:<18} last {} ({} days ago), {} purchase days, {}",
                    c.contact,
                    c.score.r,
                    c.score.f,
                    c.score.m,
                    c.score.segment.label(),
                    c.last_purchase,
                    c.days_since_last,
                    c.purchase_days,
                    money(c.monetary, &c.currency)
                );
            }
        }
        ReportKind::Clv => {
            let horizon = args.horizon.unwrap_or(match args.unit {
                TimeUnit::Day => 90.0,
                TimeUnit::Week => 13.0,
            });
            if !(horizon > 0.0 && horizon.is_finite()) {
                return Err(invalid(format!(
                    "--horizon {horizon}: give a positive number"
                )));
            }
            if !(args.discount >= 0.0 && args.discount.is_finite()) {
                return Err(invalid(format!(
                    "--discount {}: give a rate ≥ 0",
                    args.discount
                )));
            }
            let options = reports::ClvOptions {
                as_of,
                unit: args.unit,
                horizon,
                currency: args.currency.as_ref().map(|c| c.trim().to_uppercase()),
                months: args.months,
                discount: args.discount,
                top: args.top,
                customers: args.customers,
            };
            let r = reports::clv(&store, &options)?;
            if args.json {
                return print_json(&r);
            }
            let unit = match r.unit {
                TimeUnit::Day => "days",
                TimeUnit::Week => "weeks",
            };
            outln!(
                "Churn risk and lifetime value as of {} — {} customers",
                r.as_of,
                r.customers
            );
            match &r.bg_nbd {
                Some(f) => outln!(
                    "BG/NBD: r = {:.4}, α = {:.4} ({unit}), a = {:.4}, b = {:.4}; log-likelihood {:.2}{}",
                    f.params.r,
                    f.params.alpha,
                    f.params.a,
                    f.params.b,
                    f.log_likelihood,
                    if f.converged {
                        ""
                    } else {
                        " (did not converge)"
                    }
                ),
                None => outln!("BG/NBD: no customers to fit"),
            }
            match &r.gamma_gamma {
                Some(f) => outln!(
                    "Gamma-Gamma ({}): p = {:.4}, q = {:.4}, γ = {:.2} (minor units); log-likelihood {:.2}{}",
                    r.currency.as_deref().unwrap_or(""),
                    f.params.p,
                    f.params.q,
                    f.params.gamma,
                    f.log_likelihood,
                    if f.converged {
                        ""
                    } else {
                        " (did not converge)"
                    }
                ),
                None => outln!("Gamma-Gamma: no repeat customers with spend to fit"),
            }
            outln!(
                "Fit in {:.3} s. Next {} {unit}: {:.1} purchases expected; {} customers slipping away (P(alive) < 0.3).",
                r.fit_seconds,
                r.horizon,
                r.expected_purchases,
                r.slipping
            );
            if let Some(cur) = &r.currency {
                outln!(
                    "Lifetime value over {} months ({} %/month discount): {}",
                    r.months,
                    r.discount * 100.0,
                    money_f(r.lifetime_value, cur)
                );
            }
            outln!();
            outln!("Churn risk (lowest P(alive) first):");
            let cur = r.currency.clone().unwrap_or_default();
            for c in r.churn_risk.iter().chain(&r.scores) {
                outln!(
                    "#{:<7} {:<24} P(alive) {:.3}  E[purchases] {:.2}  CLV {}",
                    c.contact,
                    safe(&c.name),
                    c.p_alive,
                    c.expected_purchases,
                    c.lifetime_value
                        .map_or_else(|| "—".into(), |v| money_f(v, &cur))
                );
            }
        }
        ReportKind::Profit => {
            let r = reports::profit(
                &store,
                &reports::ProfitOptions {
                    as_of,
                    top: args.top,
                },
            )?;
            if args.json {
                return print_json(&r);
            }
            outln!("Profit as of {}", r.as_of);
            for c in &r.currencies {
                let cur = &c.currency;
                outln!();
                outln!(
                    "{cur}: revenue {}, cost {}, margin {} from {} customers; top 20 % of customers earn {} of it",
                    money(c.totals.amount, cur),
                    money(c.totals.cost, cur),
                    money(c.totals.margin, cur),
                    c.customers,
                    pct(c.top20_share)
                );
                let name = |id: u64| {
                    r.names
                        .get(&id)
                        .map(|n| safe(n).into_owned())
                        .unwrap_or_default()
                };
                outln!("  top customers:");
                for p in &c.top_customers {
                    outln!(
                        "    #{:<7} {:<24} {}",
                        p.contact,
                        name(p.contact),
                        money(p.margin, cur)
                    );
                }
                outln!("  bottom customers:");
                for p in &c.bottom_customers {
                    outln!(
                        "    #{:<7} {:<24} {}",
                        p.contact,
                        name(p.contact),
                        money(p.margin, cur)
                    );
                }
                outln!("  top products:");
                for p in &c.top_products {
                    outln!(
                        "    {:<32} {}",
                        safe(&p.product),
                        money(p.totals.margin, cur)
                    );
                }
                outln!("  bottom products:");
                for p in &c.bottom_products {
                    outln!(
                        "    {:<32} {}",
                        safe(&p.product),
                        money(p.totals.margin, cur)
                    );
                }
            }
        }
        ReportKind::Performance => {
            let mut by = Vec::new();
            for b in &args.by {
                by.push(Dimension::from_str(b, true).map_err(|_| {
                    invalid(format!("--by {b}: use month, channel, location or product"))
                })?);
            }
            let r = reports::performance(&store, &reports::PerformanceOptions { as_of, by })?;
            if args.json {
                return print_json(&r);
            }
            outln!("Performance as of {}", r.as_of);
            let l = &r.loyalty;
            outln!(
                "{} customers, {} repeat ({}); days between purchases: mean {}, median {}",
                l.customers,
                l.repeat_customers,
                pct(Some(l.repeat_rate)),
                l.mean_days_between
                    .map_or_else(|| "—".into(), |d| format!("{d:.1}")),
                l.median_days_between
                    .map_or_else(|| "—".into(), |d| format!("{d:.1}"))
            );
            for d in &r.groups {
                outln!();
                outln!("by {}:", d.by.key());
                for g in &d.groups {
                    let key = if g.key.is_empty() {
                        "(none)"
                    } else {
                        g.key.as_str()
                    };
                    outln!(
                        "  {:<24} {:>8} lines  sales {:>16}  margin {:>16}",
                        safe(key),
                        g.totals.lines,
                        money(g.totals.amount, &g.currency),
                        money(g.totals.margin, &g.currency)
                    );
                }
            }
        }
        ReportKind::Satisfaction => {
            for b in &args.by {
                if !matches!(b.as_str(), "agent" | "channel" | "month") {
                    return Err(invalid(format!("--by {b}: use agent, channel or month")));
                }
            }
            let r = reports::satisfaction(
                &store,
                &reports::SatisfactionOptions {
                    as_of,
                    top: args.top,
                    customers: args.customers,
                },
            )?;
            if args.json {
                return print_json(&r);
            }
            let s = &r.satisfaction;
            outln!(
                "Satisfaction as of {}: CSAT {} (share of 4–5), mean {}, n = {}",
                r.as_of,
                pct(s.overall.csat),
                s.overall
                    .average
                    .map_or_else(|| "—".into(), |a| format!("{a:.2}")),
                s.overall.count
            );
            let wanted = |name: &str| args.by.is_empty() || args.by.iter().any(|b| b == name);
            for (name, rows) in [
                ("agent", &s.by_agent),
                ("channel", &s.by_channel),
                ("month", &s.by_month),
            ] {
                if !wanted(name) {
                    continue;
                }
                outln!();
                outln!("by {name}:");
                for row in rows.iter() {
                    outln!(
                        "  {:<20} CSAT {:>8}  mean {:>5}  n = {}",
                        safe(&row.key),
                        pct(row.csat),
                        row.average
                            .map_or_else(|| "—".into(), |a| format!("{a:.2}")),
                        row.count
                    );
                }
            }
            outln!();
            outln!("Satisfaction fell (latest rating ≥ 1 below the earlier mean):");
            for c in &r.fell {
                outln!(
                    "  #{:<7} {:<24} latest {} on {}, before {:.1}",
                    c.contact,
                    safe(r.names.get(&c.contact).map(String::as_str).unwrap_or("")),
                    c.latest,
                    c.latest_at.local_display(),
                    c.earlier_average.unwrap_or(0.0)
                );
            }
        }
    }
    Ok(())
}
