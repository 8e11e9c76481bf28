//! Profitability: margin (amount − cost) per customer and per product, the top and bottom N,
//! and the share of profit earned from the top 20 % of customers — always per currency.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::summary::PurchaseSummary;
use crate::domain::{Id, Purchase};

/// Sums of purchase lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Totals {
    pub lines: u64,
    pub quantity: u64,
    pub amount: i64,
    pub cost: i64,
    pub margin: i64,
}

impl Totals {
    pub fn add(&mut self, p: &Purchase) {
        self.lines += 1;
        self.quantity += u64::from(p.quantity);
        self.amount = self.amount.saturating_add(p.amount);
        self.cost = self.cost.saturating_add(p.cost);
        self.margin = self.margin.saturating_add(p.margin());
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CustomerProfit {
    pub contact: Id,
    pub lines: u64,
    pub amount: i64,
    pub cost: i64,
    pub margin: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProductProfit {
    pub product: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// One currency's profitability.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CurrencyProfit {
    pub currency: String,
    pub totals: Totals,
    pub customers: u64,
    /// Highest margin first (ties: lower contact id first).
    pub top_customers: Vec<CustomerProfit>,
    /// Lowest margin first.
    pub bottom_customers: Vec<CustomerProfit>,
    pub top_products: Vec<ProductProfit>,
    pub bottom_products: Vec<ProductProfit>,
    /// Share of the total margin earned from the ⌈20 %⌉ of customers with the highest margin;
    /// `None` when the total margin is not positive.
    pub top20_share: Option<f64>,
}

/// Product totals per currency from purchase lines.
pub fn products<'a>(
    purchases: impl IntoIterator<Item = &'a Purchase>,
) -> BTreeMap<String, HashMap<String, Totals>> {
    let mut out: BTreeMap<String, HashMap<String, Totals>> = BTreeMap::new();
    for p in purchases {
        let by_product = match out.get_mut(&p.currency) {
            Some(m) => m,
            None => out.entry(p.currency.clone()).or_default(),
        };
        match by_product.get_mut(&p.product) {
            Some(t) => t.add(p),
            None => by_product.entry(p.product.clone()).or_default().add(p),
        }
    }
    out
}

/// Profitability per currency, from the customers' summaries and the product totals.
pub fn profit(
    summaries: &[PurchaseSummary],
    products: &BTreeMap<String, HashMap<String, Totals>>,
    top: usize,
) -> Vec<CurrencyProfit> {
    // Each customer ranked by margin and id, pointing back at their money: 24 bytes, where a
    // full row is 40 and only the few listed are made.
    #[derive(Clone, Copy)]
    struct Ranked {
        margin: i64,
        contact: Id,
        summary: u32,
        money: u32,
    }
    // Counted first, so each currency's list is made at its size and never moves.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in summaries.iter().flat_map(|s| &s.money) {
        *counts.entry(&m.currency).or_default() += 1;
    }
    let mut customers: BTreeMap<&str, Vec<Ranked>> = counts
        .into_iter()
        .map(|(currency, n)| (currency, Vec::with_capacity(n)))
        .collect();
    for (i, s) in summaries.iter().enumerate() {
        for (j, m) in s.money.iter().enumerate() {
            if let Some(list) = customers.get_mut(m.currency.as_str()) {
                list.push(Ranked {
                    margin: m.margin(),
                    contact: s.contact,
                    summary: u32::try_from(i).unwrap_or(u32::MAX),
                    money: u32::try_from(j).unwrap_or(u32::MAX),
                });
            }
        }
    }
    let full = |c: &Ranked| {
        let m = &summaries[c.summary as usize].money[c.money as usize];
        CustomerProfit {
            contact: c.contact,
            lines: m.lines,
            amount: m.amount,
            cost: m.cost,
            margin: c.margin,
        }
    };
    let mut currencies: Vec<&str> = customers.keys().copied().collect();
    currencies.extend(products.keys().map(String::as_str));
    currencies.sort_unstable();
    currencies.dedup();
    currencies
        .into_iter()
        .map(|currency| {
            let mut list = customers.remove(currency).unwrap_or_default();
            let total_margin: i64 = list.iter().map(|c| c.margin).sum();
            // Highest margin first (ties: lower id first). Only the ⌈20 %⌉ at the top and the
            // `top` at either end need their order: selections, not a sort of everyone.
            let order =
                |a: &Ranked, b: &Ranked| b.margin.cmp(&a.margin).then(a.contact.cmp(&b.contact));
            let n = list.len();
            let top_k = n.div_ceil(5);
            if top_k > 0 && top_k < n {
                list.select_nth_unstable_by(top_k - 1, order);
            }
            let top_margin: i64 = list.iter().take(top_k).map(|c| c.margin).sum();
            let top20_share = (total_margin > 0).then(|| top_margin as f64 / total_margin as f64);
            let ends = top.min(n);
            if ends > 0 && ends < n {
                list.select_nth_unstable_by(ends - 1, order);
            }
            list[..ends].sort_by(order);
            // The lowest `top` of the rest, selected in place to its end.
            let rest = &mut list[ends..];
            let from_bottom = top.min(rest.len());
            let at = rest.len() - from_bottom;
            if from_bottom > 0 && at > 0 {
                rest.select_nth_unstable_by(at, order);
            }
            let bottom = &mut rest[at..];
            bottom.sort_by(order);
            // The bottom list also draws on the top ones when there are fewer than 2·top.
            let lowest: Vec<CustomerProfit> = list[..ends]
                .iter()
                .chain(&list[n - from_bottom..])
                .rev()
                .take(top)
                .map(full)
                .collect();
            let mut product_list: Vec<ProductProfit> = products
                .get(currency)
                .map(|m| {
                    m.iter()
                        .map(|(k, t)| ProductProfit {
                            product: k.clone(),
                            totals: t.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            product_list.sort_by(|a, b| {
                b.totals
                    .margin
                    .cmp(&a.totals.margin)
                    .then_with(|| a.product.cmp(&b.product))
            });
            let mut totals = Totals::default();
            for p in &product_list {
                totals.lines += p.totals.lines;
                totals.quantity += p.totals.quantity;
                totals.amount += p.totals.amount;
                totals.cost += p.totals.cost;
                totals.margin += p.totals.margin;
            }
            CurrencyProfit {
                currency: currency.to_string(),
                totals,
                customers: list.len() as u64,
                top_customers: list.iter().take(ends).map(full).collect(),
                bottom_customers: lowest,
                top_products: product_list.iter().take(top).cloned().collect(),
                bottom_products: product_list.iter().rev().take(top).cloned().collect(),
                top20_share,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::At;

    fn p(contact: Id, product: &str, amount: i64, cost: i64, currency: &str) -> Purchase {
        Purchase {
            id: 0,
            contact,
            at: At::from_millis(contact as i64 * 86_400_000),
            product: product.into(),
            quantity: 2,
            amount,
            cost,
            currency: currency.into(),
            channel: String::new(),
            location: String::new(),
        }
    }

    #[test]
    fn selected_ends_and_share_equal_a_full_sort() {
        let mut rng = fastrand::Rng::with_seed(9);
        for n in [0_u64, 1, 2, 3, 5, 9, 10, 11, 19, 20, 21, 57, 400] {
            for top in [0, 1, 3, 10] {
                let lines: Vec<Purchase> = (1..=n)
                    .map(|c| p(c, "A", rng.i64(0..50) * 10, rng.i64(0..300), "EUR"))
                    .collect();
                let summaries: Vec<PurchaseSummary> = lines
                    .iter()
                    .map(|l| PurchaseSummary::of(l.contact, &[l]))
                    .collect();
                let got = profit(&summaries, &products(&lines), top);
                let mut all: Vec<(i64, Id)> =
                    lines.iter().map(|l| (l.margin(), l.contact)).collect();
                all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                let Some(eur) = got.first() else {
                    assert_eq!(n, 0);
                    continue;
                };
                let ids = |v: &[CustomerProfit]| v.iter().map(|c| c.contact).collect::<Vec<_>>();
                let want_top: Vec<Id> = all.iter().take(top).map(|x| x.1).collect();
                let want_bottom: Vec<Id> = all.iter().rev().take(top).map(|x| x.1).collect();
                assert_eq!(ids(&eur.top_customers), want_top, "n {n} top {top}");
                assert_eq!(ids(&eur.bottom_customers), want_bottom, "n {n} top {top}");
                let total: i64 = all.iter().map(|x| x.0).sum();
                let k = all.len().div_ceil(5);
                let head: i64 = all.iter().take(k).map(|x| x.0).sum();
                assert_eq!(
                    eur.top20_share,
                    (total > 0).then(|| head as f64 / total as f64),
                    "n {n}"
                );
            }
        }
    }

    #[test]
    fn margins_rank_customers_and_products_per_currency() {
        let lines = vec![
            p(1, "A", 1000, 400, "EUR"), // +600
            p(2, "B", 500, 600, "EUR"),  // −100
            p(3, "A", 300, 0, "EUR"),    // +300
            p(4, "A", 100, 0, "EUR"),    // +100
            p(5, "C", 200, 100, "EUR"),  // +100
            p(1, "A", 9999, 1, "USD"),
        ];
        let mut summaries: BTreeMap<Id, PurchaseSummary> = BTreeMap::new();
        for l in &lines {
            summaries
                .entry(l.contact)
                .or_insert_with(|| PurchaseSummary::new(l.contact))
                .add(l, true);
        }
        let summaries: Vec<PurchaseSummary> = summaries.into_values().collect();
        let out = profit(&summaries, &products(&lines), 2);
        assert_eq!(out.len(), 2);
        let eur = &out[0];
        assert_eq!(eur.currency, "EUR");
        assert_eq!(eur.totals.margin, 1000);
        assert_eq!(eur.totals.quantity, 10);
        assert_eq!(eur.customers, 5);
        let top: Vec<Id> = eur.top_customers.iter().map(|c| c.contact).collect();
        assert_eq!(top, [1, 3]);
        let bottom: Vec<Id> = eur.bottom_customers.iter().map(|c| c.contact).collect();
        // Lowest first; between 4 and 5 (both +100) the higher id is further down the list.
        assert_eq!(bottom, [2, 5]);
        // ⌈5/5⌉ = 1 top customer: 600 of 1000.
        assert_eq!(eur.top20_share, Some(0.6));
        assert_eq!(eur.top_products[0].product, "A");
        assert_eq!(eur.top_products[0].totals.margin, 1000);
        assert_eq!(eur.bottom_products[0].product, "B");
        assert_eq!(out[1].totals.margin, 9998);
    }
}
