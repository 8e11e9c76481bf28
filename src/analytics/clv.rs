//! Churn risk and lifetime value: the BG/NBD purchase model (Fader, Hardie & Lee 2005) and the
//! Gamma-Gamma spend model (Fader & Hardie, note 025), fitted by maximum likelihood.
//!
//! Everything is computed in log space:
//! - the BG/NBD likelihood in Hardie's "#NUM!" form, `ln L = A + r ln α − (r+x) ln(α+tₓ) +
//!   ln(((α+tₓ)/(α+T))^(r+x) + [x>0]·a/(b+x−1))`, with the last term a `log_add_exp`;
//! - P(alive) as a logistic of a log-odds, never a ratio of powers;
//! - the conditional expectation through Euler's transformation of `₂F₁`, after which the
//!   power of `1 − z` that grows with the purchase count cancels exactly (see
//!   [`BgNbd::expected_purchases`]), so a customer with 10⁵ repeat purchases is as safe as
//!   one with two.
//!
//! Fitting: identical histories are grouped exactly (one row with a weight); the objective is
//! the *mean* log-likelihood per customer, maximised over log-parameters by BFGS with analytic
//! gradients from several starts (Nelder–Mead if a gradient is not finite). Times are rescaled
//! so the longest `T` is 1 during the fit (α scales back afterwards). Because the objective is
//! a weighted mean over grouped rows, replicating the data k times changes only the weights
//! by a common factor: the maximum cannot move, which a test checks.
//!
//! Time units are the caller's (days, weeks…): α comes out in that unit, r, a, b do not
//! depend on it.

use serde::Serialize;

use super::optim::{self, Minimum, Options};
use super::special::{digamma, expit, hyp2f1, ln_gamma, log_add_exp};

/// One customer's purchase history in the models' terms: `x` repeat purchases (purchase
/// periods after the first), the last one `tx` after the first purchase, observed for `t`
/// since the first purchase (`0 ≤ tx ≤ t`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct History {
    pub x: u32,
    pub tx: f64,
    pub t: f64,
}

/// Identical histories merged into one row with a weight (how many customers share it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grouped {
    pub rows: Vec<(History, f64)>,
}

impl Grouped {
    /// Groups exactly: histories are equal when `x`, `tx` and `t` are equal bit for bit.
    pub fn new(histories: impl IntoIterator<Item = History>) -> Self {
        let mut all: Vec<History> = histories.into_iter().collect();
        all.sort_unstable_by(|a, b| {
            (a.x, a.tx.to_bits(), a.t.to_bits()).cmp(&(b.x, b.tx.to_bits(), b.t.to_bits()))
        });
        let mut rows: Vec<(History, f64)> = Vec::new();
        for h in all {
            match rows.last_mut() {
                Some((last, w)) if *last == h => *w += 1.0,
                _ => rows.push((h, 1.0)),
            }
        }
        Grouped { rows }
    }

    /// The same rows with every weight multiplied by `k` (the data replicated k times).
    pub fn replicated(&self, k: f64) -> Self {
        Grouped {
            rows: self.rows.iter().map(|(h, w)| (*h, w * k)).collect(),
        }
    }

    pub fn customers(&self) -> f64 {
        self.rows.iter().map(|(_, w)| w).sum()
    }
}

/// Above this `a + b` the dropout Beta is taken as the point mass it has become (see
/// [`BgNbd::expected_if_alive`]); its spread, ~1/(a+b), is then far below what the data can
/// show.
const HOMOGENEOUS_FROM: f64 = 1e6;

/// BG/NBD parameters: purchase rate λ ~ Gamma(r, α) (α in the time unit of the data); after
/// each purchase the customer drops out with probability p ~ Beta(a, b).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// The result of a fit: parameters, the total log-likelihood at them, and how it went.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Fit<P> {
    pub params: P,
    pub log_likelihood: f64,
    pub customers: f64,
    /// Distinct rows after exact grouping.
    pub rows: usize,
    pub iterations: usize,
    pub converged: bool,
}

/// Log-parameters are kept within ±LOG_BOUND so a base with no interior maximum (nobody ever
/// drops out, say) ends at a large but finite value and is reported as not converged.
const LOG_BOUND: f64 = 30.0;

/// Per distinct `x`: the part of the log-likelihood that depends on `x` only, with its gradient
/// in (r, a, b).
struct PerX {
    value: f64,
    dr: f64,
    da: f64,
    db: f64,
    /// `ln a − ln(b+x−1)` (x > 0).
    v: f64,
    /// `1/(b+x−1)`.
    inv_bx1: f64,
}

/// Rows prepared for fast evaluation: the distinct repeat counts and the distinct times, and per
/// row the index of its count and of its two times. Histories measured in days take a few
/// thousand distinct times however many customers there are, so `ln(α + t)` is computed once
/// per time, not twice per row.
struct Prepared {
    xs: Vec<u32>,
    times: Vec<f64>,
    rows: Vec<PreparedRow>,
    total_weight: f64,
}

#[derive(Clone, Copy)]
struct PreparedRow {
    x: u32,
    tx: u32,
    t: u32,
    weight: f64,
}

fn prepare(data: &Grouped, scale: f64) -> Prepared {
    let mut xs: Vec<u32> = data.rows.iter().map(|(h, _)| h.x).collect();
    xs.sort_unstable();
    xs.dedup();
    // Distinct times in order of first appearance, found by their bits.
    let mut times: Vec<f64> = Vec::new();
    let mut seen: rustc_hash::FxHashMap<u64, u32> = rustc_hash::FxHashMap::default();
    let mut index_of = |v: f64| {
        *seen.entry(v.to_bits()).or_insert_with(|| {
            times.push(v);
            (times.len() - 1) as u32
        })
    };
    let rows = data
        .rows
        .iter()
        .map(|(h, w)| PreparedRow {
            x: xs.binary_search(&h.x).unwrap_or(0) as u32,
            tx: index_of(h.tx / scale),
            t: index_of(h.t / scale),
            weight: *w,
        })
        .collect();
    Prepared {
        xs,
        times,
        rows,
        total_weight: data.customers(),
    }
}

impl BgNbd {
    /// One customer's log-likelihood.
    pub fn log_likelihood_one(&self, h: History) -> f64 {
        self.shared_ln(h.x) + self.ln_rest(h)
    }

    /// The total log-likelihood of grouped data.
    pub fn log_likelihood(&self, data: &Grouped) -> f64 {
        parallel_sum(&data.rows, |rows: &[(History, f64)]| {
            // Grouped rows come sorted by x: the Γ terms, which depend on x only, once per run.
            let mut memo: Option<(u32, f64)> = None;
            let mut total = 0.0;
            for &(h, w) in rows {
                let shared = match memo {
                    Some((x, v)) if x == h.x => v,
                    _ => {
                        let v = self.shared_ln(h.x);
                        memo = Some((h.x, v));
                        v
                    }
                };
                total += w * (shared + self.ln_rest(h));
            }
            [total]
        })[0]
    }

    /// The part of a history's log-likelihood that depends on `x` only.
    fn shared_ln(&self, x: u32) -> f64 {
        let BgNbd { r, a, b, .. } = *self;
        let x = f64::from(x);
        ln_gamma(r + x) - ln_gamma(r) + ln_gamma(a + b) + ln_gamma(b + x)
            - ln_gamma(b)
            - ln_gamma(a + b + x)
    }

    /// The rest of it.
    fn ln_rest(&self, h: History) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = f64::from(h.x);
        let la_tx = (alpha + h.tx).ln();
        let u = (r + x) * (la_tx - (alpha + h.t).ln());
        let tail = if h.x > 0 {
            log_add_exp(u, a.ln() - (b + x - 1.0).ln())
        } else {
            u
        };
        r * alpha.ln() - (r + x) * la_tx + tail
    }

    /// Mean log-likelihood and its gradient in (ln r, ln α, ln a, ln b), over prepared rows.
    fn mean_ll_and_gradient(&self, p: &Prepared) -> (f64, [f64; 4]) {
        let BgNbd { r, alpha, a, b } = *self;
        let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        let per_x: Vec<PerX> =
            p.xs.iter()
                .map(|&x| {
                    let x = f64::from(x);
                    PerX {
                        value: ln_gamma(r + x) - lg_r + lg_ab + ln_gamma(b + x)
                            - lg_b
                            - ln_gamma(a + b + x),
                        dr: digamma(r + x) - dg_r,
                        da: dg_ab - digamma(a + b + x),
                        db: dg_ab + digamma(b + x) - dg_b - digamma(a + b + x),
                        v: a.ln() - (b + x - 1.0).ln(),
                        inv_bx1: 1.0 / (b + x - 1.0),
                    }
                })
                .collect();
        let inv_a = 1.0 / a;
        let ln_alpha = alpha.ln();
        // ln(α + t) and 1/(α + t) per distinct time.
        let at: Vec<(f64, f64)> = p
            .times
            .iter()
            .map(|&t| ((alpha + t).ln(), 1.0 / (alpha + t)))
            .collect();
        let eval = |rows: &[PreparedRow]| {
            let mut acc = [0.0_f64; 5];
            for row in rows {
                let w = row.weight;
                let px = &per_x[row.x as usize];
                let x = f64::from(p.xs[row.x as usize]);
                let (la_tx, inv_tx) = at[row.tx as usize];
                let (la_t, inv_t) = at[row.t as usize];
                let u = (r + x) * (la_tx - la_t);
                let du_dr = la_tx - la_t;
                let du_dalpha = (r + x) * (inv_tx - inv_t);
                let (tail, wu, dv_da, dv_db) = if x > 0.0 {
                    // ln(eᵘ + eᵛ) and eᵘ/(eᵘ + eᵛ) from one exponential.
                    let d = u - px.v;
                    let e = (-d.abs()).exp();
                    let (hi, wu) = if d >= 0.0 {
                        (u, 1.0 / (1.0 + e))
                    } else {
                        (px.v, e / (1.0 + e))
                    };
                    (hi + e.ln_1p(), wu, inv_a, -px.inv_bx1)
                } else {
                    (u, 1.0, 0.0, 0.0)
                };
                let wv = 1.0 - wu;
                let value = px.value + r * ln_alpha - (r + x) * la_tx + tail;
                let dr = px.dr + ln_alpha - la_tx + wu * du_dr;
                let dalpha = r / alpha - (r + x) * inv_tx + wu * du_dalpha;
                let da = px.da + wv * dv_da;
                let db = px.db + wv * dv_db;
                acc[0] += w * value;
                acc[1] += w * dr;
                acc[2] += w * dalpha;
                acc[3] += w * da;
                acc[4] += w * db;
            }
            acc
        };
        let acc = parallel_sum(&p.rows, eval);
        let n = p.total_weight;
        (
            acc[0] / n,
            [
                r * acc[1] / n,
                alpha * acc[2] / n,
                a * acc[3] / n,
                b * acc[4] / n,
            ],
        )
    }

    /// Fits by maximum likelihood (see the module notes). `None` for an empty base.
    pub fn fit(data: &Grouped) -> Option<Fit<BgNbd>> {
        if data.rows.is_empty() {
            return None;
        }
        let scale = data
            .rows
            .iter()
            .map(|(h, _)| h.t)
            .fold(0.0_f64, f64::max)
            .max(f64::MIN_POSITIVE);
        let scale = if scale > 0.0 && scale.is_finite() {
            scale
        } else {
            1.0
        };
        let from_log = |v: &[f64]| BgNbd {
            r: v[0].clamp(-LOG_BOUND, LOG_BOUND).exp(),
            alpha: v[1].clamp(-LOG_BOUND, LOG_BOUND).exp(),
            a: v[2].clamp(-LOG_BOUND, LOG_BOUND).exp(),
            b: v[3].clamp(-LOG_BOUND, LOG_BOUND).exp(),
        };
        let objective_on = |prepared: Prepared| {
            move |v: &[f64]| {
                if v.iter().any(|x| x.abs() > LOG_BOUND) {
                    return (f64::INFINITY, vec![f64::NAN; 4]);
                }
                let (ll, g) = from_log(v).mean_ll_and_gradient(&prepared);
                (-ll, g.iter().map(|d| -d).collect())
            }
        };
        let starts: [[f64; 4]; 4] = [
            [0.0, 0.0, 0.0, 0.0],
            [-1.0, -1.0, -0.5, 1.0],
            [0.5, -2.0, 1.0, 2.0],
            [-2.0, 1.0, -2.0, 0.0],
        ];
        let full = objective_on(prepare(data, scale));
        let warm = subsample(&data.rows).and_then(|rows| {
            let sample = objective_on(prepare(&Grouped { rows }, scale));
            minimise_from(&starts, &sample, |v| sample(v).0)
        });
        let best = finish_from(warm, &starts, &full)?;
        let mut params = from_log(&best.x);
        params.alpha *= scale;
        // The objective at the optimum is the mean log-likelihood of the rescaled times: each
        // customer's differs from the unscaled one by x·ln(scale) (the density of tₓ), so the
        // total needs no further pass over the rows.
        let repeats: f64 = data.rows.iter().map(|(h, w)| w * f64::from(h.x)).sum();
        Some(Fit {
            log_likelihood: -best.value * data.customers() - scale.ln() * repeats,
            params,
            customers: data.customers(),
            rows: data.rows.len(),
            iterations: best.iterations,
            converged: best.converged && best.x.iter().all(|v| v.abs() < LOG_BOUND - 1.0),
        })
    }

    /// Log-odds that the customer has dropped out: `ln(a/(b+x−1)) + (r+x) ln((α+T)/(α+tₓ))`
    /// (−∞ for `x = 0`, who cannot have dropped out in this model).
    fn log_odds_dead(&self, h: History) -> f64 {
        if h.x == 0 {
            return f64::NEG_INFINITY;
        }
        self.log_odds_dead_from(self.odds_base(h.x), (self.alpha + h.t).ln(), h)
    }

    /// The terms of [`BgNbd::log_odds_dead`] that depend on `x` alone: `ln a − ln(b+x−1)`.
    fn odds_base(&self, x: u32) -> f64 {
        self.a.ln() - (self.b + f64::from(x) - 1.0).ln()
    }

    /// [`BgNbd::log_odds_dead`] from its parts shared by customers of one repeat count and age
    /// (the same operations in the same order, so the same value to the bit).
    fn log_odds_dead_from(&self, base: f64, ln_alpha_t: f64, h: History) -> f64 {
        if h.x == 0 {
            return f64::NEG_INFINITY;
        }
        base + (self.r + f64::from(h.x)) * (ln_alpha_t - (self.alpha + h.tx).ln())
    }

    /// [`BgNbd::p_alive`] with the parts its [`Outlook`] holds.
    pub fn p_alive_in(&self, outlook: &Outlook, h: History) -> f64 {
        expit(-self.log_odds_dead_from(outlook.odds_base, outlook.ln_alpha_t, h))
    }

    /// Probability the customer is still alive at the end of observation (Hardie note 021).
    /// 1 for every one-time buyer: in BG/NBD a customer can only drop out after a purchase.
    pub fn p_alive(&self, h: History) -> f64 {
        expit(-self.log_odds_dead(h))
    }

    /// Expected purchases in the next `t` (FHL eq. 10), given the history:
    ///
    /// `(a+b+x−1)/(a−1) · [1 − (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; a+b+x−1; z)] · P(alive)`,
    /// `z = t/(α+T+t)` — eq. 10 after Euler's transformation
    /// `₂F₁(r+x, b+x; c; z) = (1−z)^(c−r−b−2x)·₂F₁(c−r−x, c−b−x; c; z)`, `c = a+b+x−1`: the
    /// factor `((α+T)/(α+T+t))^(r+x) = (1−z)^(r+x)` of eq. 10 cancels against it, leaving
    /// parameters that do not grow with `x`. `a = 1` exactly is a removable singularity, taken
    /// as the mean of the values just either side.
    pub fn expected_purchases(&self, t: f64, h: History) -> f64 {
        self.expected_if_alive(t, h.x, h.t) * self.p_alive(h)
    }

    /// Expected purchases in the next `t` of a customer still alive with `x` repeat purchases
    /// and age `age`: eq. 10 without its P(alive) factor. It does not depend on when the last
    /// purchase was, so customers of one repeat count and age share it (the CLV report
    /// computes it once per such group).
    pub fn expected_if_alive(&self, t: f64, x: u32, age: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        if (self.a - 1.0).abs() < 1e-9 {
            let side = |a: f64| BgNbd { a, ..*self }.expected_if_alive(t, x, age);
            return 0.5 * (side(1.0 - 1e-6) + side(1.0 + 1e-6));
        }
        let BgNbd { r, alpha, a, b } = *self;
        if a + b > HOMOGENEOUS_FROM {
            return self.expected_if_alive_homogeneous(t, x, age);
        }
        let xf = f64::from(x);
        let z = t / (alpha + age + t);
        let f = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + xf - 1.0, z);
        let bracket = 1.0 - (1.0 - z).powf(a - 1.0) * f;
        let value = (a + b + xf - 1.0) / (a - 1.0) * bracket;
        if value.is_finite() {
            value
        } else {
            // A large a (the series grows like e^(a·z) and overflows): the Beta is all but a
            // point mass, whose limit follows.
            self.expected_if_alive_homogeneous(t, x, age)
        }
    }

    /// [`BgNbd::expected_if_alive`] in the limit a, b → ∞ with `p = a/(a+b)` held: everyone
    /// drops out after a purchase with the same chance `p`. Given the rate λ, expected
    /// purchases in `t` are `(1 − e^(−λpt))/p`; over λ's posterior Gamma(r+x, α+T) that is
    /// `(1 − ((α+T)/(α+T+pt))^(r+x))/p`. A fit reaches this edge (and reports it has not
    /// converged) when a base shows no spread in dropout at all.
    fn expected_if_alive_homogeneous(&self, t: f64, x: u32, age: f64) -> f64 {
        let p = self.a / (self.a + self.b);
        let shape = self.r + f64::from(x);
        if p <= 0.0 {
            // Nobody drops out: the NBD's (r+x)/(α+T)·t.
            return shape / (self.alpha + age) * t;
        }
        -(-shape * (p * t / (self.alpha + age)).ln_1p()).exp_m1() / p
    }

    /// What a customer alive with `x` repeat purchases at age `age` is expected to do: purchases
    /// over `horizon`, and lifetime value per unit of spend (see [`lifetime_value`]).
    /// Multiplied by P(alive) (and the spend) these are the customer's figures.
    pub fn outlook(&self, x: u32, age: f64, horizon: f64, value: &ValueTerms) -> Outlook {
        let mut per_spend = 0.0;
        let mut previous = 0.0;
        let mut discount = 1.0;
        for i in 1..=value.periods {
            let cumulative = self.expected_if_alive(value.period * f64::from(i), x, age);
            discount *= 1.0 + value.discount;
            per_spend += (cumulative - previous) / discount;
            previous = cumulative;
        }
        Outlook {
            purchases: self.expected_if_alive(horizon, x, age),
            value_per_spend: per_spend,
            odds_base: self.odds_base(x),
            ln_alpha_t: (self.alpha + age).ln(),
        }
    }

    /// Expected purchases in `(0, t]` by a new customer (FHL eq. 9): the conditional form with
    /// no history.
    pub fn expected_purchases_new(&self, t: f64) -> f64 {
        self.expected_purchases(
            t,
            History {
                x: 0,
                tx: 0.0,
                t: 0.0,
            },
        )
    }
}

/// Gamma-Gamma parameters: spend per transaction ~ Gamma(p, ν), ν ~ Gamma(q, γ) (γ in money
/// units of the data).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

/// A grouped spend prepared for the fit: its logarithms, which do not change between
/// evaluations, and its weight.
#[derive(Clone, Copy)]
struct SpendRow {
    spend: Spend,
    ln_m: f64,
    ln_x: f64,
    weight: f64,
}

/// A repeat customer's spend: `x ≥ 1` repeat transactions with mean value `m > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Spend {
    pub x: u32,
    pub m: f64,
}

impl GammaGamma {
    pub fn log_likelihood_one(&self, s: Spend) -> f64 {
        self.shared_ln(s.x) + self.ln_rest(s)
    }

    pub fn log_likelihood(&self, data: &[(Spend, f64)]) -> f64 {
        parallel_sum(data, |rows: &[(Spend, f64)]| {
            // Grouped rows come sorted by x: the Γ terms once per run of equal x.
            let mut memo: Option<(u32, f64)> = None;
            let mut total = 0.0;
            for &(s, w) in rows {
                let shared = match memo {
                    Some((x, v)) if x == s.x => v,
                    _ => {
                        let v = self.shared_ln(s.x);
                        memo = Some((s.x, v));
                        v
                    }
                };
                total += w * (shared + self.ln_rest(s));
            }
            [total]
        })[0]
    }

    /// The part of a spend's log-likelihood that depends on `x` only.
    fn shared_ln(&self, x: u32) -> f64 {
        let px = self.p * f64::from(x);
        ln_gamma(px + self.q) - ln_gamma(px) - ln_gamma(self.q)
    }

    /// The rest of it.
    fn ln_rest(&self, s: Spend) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        let (x, m) = (f64::from(s.x), s.m);
        let px = p * x;
        q * gamma.ln() + (px - 1.0) * m.ln() + px * x.ln() - (px + q) * (gamma + m * x).ln()
    }

    /// Mean log-likelihood and its gradient in (ln p, ln q, ln γ); money rescaled by the caller.
    fn mean_ll_and_gradient(&self, data: &[SpendRow], total: f64) -> (f64, [f64; 3]) {
        let GammaGamma { p, q, gamma } = *self;
        let (lg_q, dg_q, ln_gamma_param) = (ln_gamma(q), digamma(q), gamma.ln());
        let acc = parallel_sum(data, |rows: &[SpendRow]| {
            let mut acc = [0.0_f64; 5];
            // Rows come sorted by x: the Γ and ψ terms, which depend on x only, are computed
            // once per run of equal x.
            let mut memo: Option<(u32, f64, f64, f64)> = None;
            for &SpendRow {
                spend: s,
                ln_m,
                ln_x,
                weight: w,
            } in rows
            {
                let (x, m) = (f64::from(s.x), s.m);
                let px = p * x;
                let (lg_diff, dg_pxq, dg_diff) = match memo {
                    Some((mx, a, b, c)) if mx == s.x => (a, b, c),
                    _ => {
                        let dg_pxq = digamma(px + q);
                        let terms = (
                            ln_gamma(px + q) - ln_gamma(px),
                            dg_pxq,
                            dg_pxq - digamma(px),
                        );
                        memo = Some((s.x, terms.0, terms.1, terms.2));
                        terms
                    }
                };
                let ln_gm = (gamma + m * x).ln();
                let value = lg_diff - lg_q + q * ln_gamma_param + (px - 1.0) * ln_m + px * ln_x
                    - (px + q) * ln_gm;
                let dp = x * (dg_diff + ln_m + ln_x - ln_gm);
                let dq = dg_pxq - dg_q + ln_gamma_param - ln_gm;
                let dgamma = q / gamma - (px + q) / (gamma + m * x);
                acc[0] += w * value;
                acc[1] += w * dp;
                acc[2] += w * dq;
                acc[3] += w * dgamma;
            }
            acc
        });
        (
            acc[0] / total,
            [
                p * acc[1] / total,
                q * acc[2] / total,
                gamma * acc[3] / total,
            ],
        )
    }

    /// Groups spends exactly (equal `x` and `m` bit for bit).
    pub fn group(spends: impl IntoIterator<Item = Spend>) -> Vec<(Spend, f64)> {
        // Sorted as one packed integer each, (x, bits of m): the order of the pair.
        let mut all: Vec<u128> = spends
            .into_iter()
            .map(|s| (u128::from(s.x) << 64) | u128::from(s.m.to_bits()))
            .collect();
        super::sort::radix_sort(&mut all);
        // Reserved for every spend (pages never written are never resident), so the rows do
        // not move while they grow.
        let mut rows: Vec<(Spend, f64)> = Vec::with_capacity(all.len());
        let mut last = None;
        for key in all {
            if last == Some(key) {
                if let Some((_, w)) = rows.last_mut() {
                    *w += 1.0;
                }
                continue;
            }
            last = Some(key);
            let s = Spend {
                x: (key >> 64) as u32,
                m: f64::from_bits(key as u64),
            };
            rows.push((s, 1.0));
        }
        rows
    }

    /// Fits by maximum likelihood over repeat customers with positive mean spend (others are
    /// ignored). `None` when there are none.
    pub fn fit(data: &[(Spend, f64)]) -> Option<Fit<GammaGamma>> {
        let usable = |(s, w): &&(Spend, f64)| s.x > 0 && s.m > 0.0 && s.m.is_finite() && *w > 0.0;
        let (mut rows, mut total, mut spent) = (0, 0.0, 0.0);
        for (s, w) in data.iter().filter(usable) {
            rows += 1;
            total += w;
            spent += s.m * w;
        }
        if rows == 0 {
            return None;
        }
        let scale = spent / total;
        let from_log = |v: &[f64]| GammaGamma {
            p: v[0].exp(),
            q: v[1].exp(),
            gamma: v[2].exp(),
        };
        // Rescaled money, with ln m and ln x, which do not change between evaluations: built
        // straight from the grouped rows (at 1M customers a filtered and a rescaled copy of
        // them were another 40 MB at the fit's peak).
        let prepared = |spend: Spend, weight: f64| {
            let spend = Spend {
                x: spend.x,
                m: spend.m / scale,
            };
            SpendRow {
                spend,
                ln_m: spend.m.ln(),
                ln_x: f64::from(spend.x).ln(),
                weight,
            }
        };
        let objective_on = |rows: Vec<SpendRow>| {
            let total: f64 = rows.iter().map(|r| r.weight).sum();
            move |v: &[f64]| {
                if v.iter().any(|x| x.abs() > LOG_BOUND) {
                    return (f64::INFINITY, vec![f64::NAN; 3]);
                }
                let (ll, g) = from_log(v).mean_ll_and_gradient(&rows, total);
                (-ll, g.iter().map(|d| -d).collect())
            }
        };
        let starts: [[f64; 3]; 3] = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 0.5, 1.5]];
        let warm = subsample_of(data.iter().copied().filter(|r| usable(&r)), rows, total)
            .map(|sample| sample.into_iter().map(|(s, w)| prepared(s, w)).collect())
            .and_then(|rows| {
                let sample = objective_on(rows);
                minimise_from(&starts, &sample, |v| sample(v).0)
            });
        let full = objective_on(
            data.iter()
                .filter(usable)
                .map(|&(s, w)| prepared(s, w))
                .collect(),
        );
        let best = finish_from(warm, &starts, &full)?;
        let mut params = from_log(&best.x);
        params.gamma *= scale;
        // As for BG/NBD: each customer's log-likelihood in rescaled money differs from the
        // unscaled one by ln(scale).
        Some(Fit {
            log_likelihood: -best.value * total - scale.ln() * total,
            params,
            customers: total,
            rows,
            iterations: best.iterations,
            converged: best.converged && best.x.iter().all(|v| v.abs() < LOG_BOUND - 1.0),
        })
    }

    /// The population's mean spend per transaction, `pγ/(q−1)` (infinite for `q ≤ 1`).
    pub fn population_mean(&self) -> f64 {
        if self.q <= 1.0 {
            f64::INFINITY
        } else {
            self.p * self.gamma / (self.q - 1.0)
        }
    }

    /// Expected spend per transaction given `x` repeat transactions of mean `m`:
    /// `(1−w)·pγ/(q−1) + w·m`, `w = px/(px+q−1)`; the population mean for `x = 0`.
    pub fn expected_spend(&self, x: u32, m: f64) -> f64 {
        if x == 0 {
            return self.population_mean();
        }
        let px = self.p * f64::from(x);
        let w = px / (px + self.q - 1.0);
        (1.0 - w) * self.population_mean() + w * m.max(0.0)
    }
}

/// How lifetime value is counted: `periods` periods of `period` time units, discounted by
/// `discount` per period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueTerms {
    pub period: f64,
    pub periods: u32,
    pub discount: f64,
}

/// [`BgNbd::outlook`]: a live customer's expected purchases over the horizon, and lifetime
/// value per unit of spend per purchase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outlook {
    pub purchases: f64,
    pub value_per_spend: f64,
    /// The parts of P(alive) that depend on the repeat count and age only.
    odds_base: f64,
    ln_alpha_t: f64,
}

/// Lifetime value over `periods` periods of `period` time units each, discounted by `discount`
/// per period: `Σᵢ (E[Y(i·period)] − E[Y((i−1)·period)]) · spend / (1+discount)^i` — the
/// scheme of lifetimes' `customer_lifetime_value` (there: 12 months of 30 days, 1 %/month).
pub fn lifetime_value(
    model: &BgNbd,
    h: History,
    spend: f64,
    period: f64,
    periods: u32,
    discount: f64,
) -> f64 {
    let terms = ValueTerms {
        period,
        periods,
        discount,
    };
    model.outlook(h.x, h.t, 0.0, &terms).value_per_spend * model.p_alive(h) * spend
}

/// Rows a warm-start fit uses: above this, the fit starts on an evenly spread subsample.
const WARM_ROWS: usize = 4_000;

/// A weight-proportional systematic sample of about [`WARM_ROWS`] rows (points at even steps
/// of the cumulative weight, each worth one step), standing for the whole base; `None` when
/// the data are small anyway.
fn subsample<T: Copy>(rows: &[(T, f64)]) -> Option<Vec<(T, f64)>> {
    let total: f64 = rows.iter().map(|(_, w)| w).sum();
    subsample_of(rows.iter().copied(), rows.len(), total)
}

/// [`subsample`] of `count` rows of weight `total` given one by one.
fn subsample_of<T: Copy>(
    rows: impl Iterator<Item = (T, f64)>,
    count: usize,
    total: f64,
) -> Option<Vec<(T, f64)>> {
    if count <= 2 * WARM_ROWS {
        return None;
    }
    let step = total / WARM_ROWS as f64;
    let mut out: Vec<(T, f64)> = Vec::with_capacity(WARM_ROWS);
    let mut next = 0.5 * step;
    let mut cumulative = 0.0;
    for (row, w) in rows {
        cumulative += w;
        let mut picked = 0.0;
        while next < cumulative {
            picked += step;
            next += step;
        }
        if picked > 0.0 {
            out.push((row, picked));
        }
    }
    Some(out)
}

/// The fit on the full data: BFGS from the warm start (its point and inverse Hessian) when
/// there is one and it converges there, else every start on the full data.
fn finish_from<const N: usize>(
    warm: Option<Minimum>,
    starts: &[[f64; N]],
    full: &impl Fn(&[f64]) -> (f64, Vec<f64>),
) -> Option<Minimum> {
    if let Some(w) = warm {
        let m = optim::bfgs_from(full, &w.x, Some(&w.inverse_hessian), Options::default());
        if m.converged && m.value.is_finite() {
            return Some(m);
        }
        let mut all: Vec<[f64; N]> = starts.to_vec();
        if let Ok(point) = <[f64; N]>::try_from(m.x.as_slice()) {
            all.push(point);
        }
        return minimise_from(&all, full, |v| full(v).0);
    }
    minimise_from(starts, full, |v| full(v).0)
}

/// Runs BFGS from every start (Nelder–Mead where BFGS fails) and keeps the lowest value.
fn minimise_from<const N: usize>(
    starts: &[[f64; N]],
    objective: impl Fn(&[f64]) -> (f64, Vec<f64>),
    value: impl Fn(&[f64]) -> f64,
) -> Option<Minimum> {
    let mut best: Option<Minimum> = None;
    for start in starts {
        let mut m = optim::bfgs(&objective, start, Options::default());
        if !m.value.is_finite() || !m.converged {
            let nm = optim::nelder_mead(&value, &m.x, 0.5, 1e-14, 20_000);
            if nm.value < m.value || !m.value.is_finite() {
                // Polish the Nelder–Mead point with BFGS once more.
                let polished = optim::bfgs(&objective, &nm.x, Options::default());
                m = if polished.value <= nm.value {
                    polished
                } else {
                    nm
                };
            }
        }
        if m.value.is_finite() && best.as_ref().is_none_or(|b| m.value < b.value) {
            best = Some(m);
        }
    }
    best
}

/// Below this many rows the work stays on the calling thread.
const PARALLEL_FROM: usize = 20_000;

/// Sums `eval` over `rows`, split across the available cores for large inputs.
fn parallel_sum<T: Sync, const K: usize>(
    rows: &[T],
    eval: impl Fn(&[T]) -> [f64; K] + Sync,
) -> [f64; K] {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if rows.len() < PARALLEL_FROM || threads < 2 {
        return eval(rows);
    }
    let chunk = rows.len().div_ceil(threads);
    let eval = &eval;
    let parts: Vec<[f64; K]> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(chunk)
            .map(|part| scope.spawn(move || eval(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or([f64::NAN; K]))
            .collect()
    });
    let mut out = [0.0; K];
    for part in parts {
        for (o, v) in out.iter_mut().zip(part) {
            *o += v;
        }
    }
    out
}

/// The fitted models with what they describe: the day and time unit of the histories and the
/// spend model's currency. The server keeps one set to score a customer at once (P(alive) in
/// the search index, the detail pane's figures) between refits.
#[derive(Clone, Debug, PartialEq)]
pub struct Models {
    /// The UTC day number the histories end on.
    pub as_of: i32,
    /// Days per time unit of the histories (1 or 7).
    pub unit_days: f64,
    /// The Gamma-Gamma model's currency.
    pub currency: Option<String>,
    pub bg_nbd: Option<BgNbd>,
    pub gamma_gamma: Option<GammaGamma>,
}

impl Models {
    /// A customer's history as of the models' day: `x` repeat purchase days, last purchase
    /// and age in units since the first purchase day.
    pub fn history(&self, repeats: u32, first_day: i32, last_day: i32) -> History {
        let d = self.unit_days;
        History {
            x: repeats,
            tx: f64::from(last_day - first_day) / d,
            t: f64::from((self.as_of - first_day).max(last_day - first_day)) / d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDNOW: &str = include_str!("../../tests/fixtures/cdnow/cdnow_customers_summary.csv");
    const CDNOW_SPEND: &str =
        include_str!("../../tests/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv");

    fn cdnow_histories() -> Vec<History> {
        CDNOW
            .lines()
            .skip(1)
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                History {
                    x: f[1].parse().unwrap(),
                    tx: f[2].parse().unwrap(),
                    t: f[3].parse().unwrap(),
                }
            })
            .collect()
    }

    fn cdnow_spends() -> Vec<Spend> {
        CDNOW_SPEND
            .lines()
            .skip(1)
            .filter_map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                let x: u32 = f[1].parse().unwrap();
                let m: f64 = f[4].parse().unwrap();
                (x > 0).then_some(Spend { x, m })
            })
            .collect()
    }

    const PAPER: BgNbd = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    fn within(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs()
    }

    #[test]
    fn cdnow_groups_into_its_distinct_histories() {
        let histories = cdnow_histories();
        assert_eq!(histories.len(), 2357);
        let grouped = Grouped::new(histories.iter().copied());
        assert_eq!(grouped.customers(), 2357.0);
        // Recomputed independently in the research note: 2357 → 1016 distinct (x, tₓ, T).
        assert_eq!(grouped.rows.len(), 1016);
        let zero = grouped
            .rows
            .iter()
            .filter(|(h, _)| h.x == 0)
            .map(|(_, w)| w)
            .sum::<f64>();
        assert_eq!(zero, 1411.0);
    }

    #[test]
    fn log_likelihood_at_the_published_parameters_is_the_published_one() {
        let data = Grouped::new(cdnow_histories());
        let ll = PAPER.log_likelihood(&data);
        assert!((ll - -9582.43).abs() < 0.01, "{ll}");
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let data = Grouped::new(cdnow_histories());
        let p = prepare(&data, 38.86);
        let at = BgNbd {
            r: 0.3,
            alpha: 0.2,
            a: 0.7,
            b: 2.9,
        };
        let (_, g) = at.mean_ll_and_gradient(&p);
        let logs = [at.r.ln(), at.alpha.ln(), at.a.ln(), at.b.ln()];
        for i in 0..4 {
            let mut up = logs;
            let mut down = logs;
            up[i] += 1e-6;
            down[i] -= 1e-6;
            let f = |v: [f64; 4]| {
                BgNbd {
                    r: v[0].exp(),
                    alpha: v[1].exp(),
                    a: v[2].exp(),
                    b: v[3].exp(),
                }
                .mean_ll_and_gradient(&p)
                .0
            };
            let numeric = (f(up) - f(down)) / 2e-6;
            assert!((g[i] - numeric).abs() < 1e-7, "∂{i}: {} vs {numeric}", g[i]);
        }
    }

    #[test]
    fn bg_nbd_fit_reproduces_cdnow() {
        let data = Grouped::new(cdnow_histories());
        let fit = BgNbd::fit(&data).unwrap();
        let p = fit.params;
        assert!(fit.converged, "{fit:?}");
        assert!(within(p.r, 0.243, 0.005), "r = {}", p.r);
        assert!(within(p.alpha, 4.414, 0.005), "α = {}", p.alpha);
        assert!(within(p.a, 0.793, 0.005), "a = {}", p.a);
        assert!(within(p.b, 2.426, 0.005), "b = {}", p.b);
        assert!(
            (fit.log_likelihood - -9582.4).abs() < 0.05,
            "{}",
            fit.log_likelihood
        );
        // The reported total (from the objective on rescaled times) is the direct sum.
        let direct = p.log_likelihood(&data);
        assert!(
            (fit.log_likelihood - direct).abs() < 1e-9 * direct.abs(),
            "{} vs {direct}",
            fit.log_likelihood
        );
        // lifetimes' unrounded fit (Quickstart): the same maximum to 4–5 digits.
        assert!(within(p.r, 0.242593, 1e-4) && within(p.alpha, 4.413532, 1e-4));
        assert!(within(p.a, 0.792886, 1e-3) && within(p.b, 2.425752, 1e-3));
        // It is a maximum: every nearby point is lower.
        for (i, d) in [(0, 1e-3), (1, -1e-3), (2, 1e-3), (3, -1e-3)] {
            let mut q = [p.r, p.alpha, p.a, p.b];
            q[i] *= 1.0 + d;
            let other = BgNbd {
                r: q[0],
                alpha: q[1],
                a: q[2],
                b: q[3],
            };
            assert!(other.log_likelihood(&data) < fit.log_likelihood);
        }
    }

    #[test]
    fn the_maximum_does_not_move_when_the_data_are_replicated() {
        let data = Grouped::new(cdnow_histories());
        let once = BgNbd::fit(&data).unwrap();
        // 43 × 2357 = 101,351 customers: the scale at which lifetimes drifts.
        let many = BgNbd::fit(&data.replicated(43.0)).unwrap();
        for (a, b) in [
            (once.params.r, many.params.r),
            (once.params.alpha, many.params.alpha),
            (once.params.a, many.params.a),
            (once.params.b, many.params.b),
        ] {
            assert!(within(b, a, 1e-6), "{a} vs {b}");
        }
        assert!(within(
            many.log_likelihood,
            43.0 * once.log_likelihood,
            1e-9
        ));
        // Replicated as separate rows, not as weights: the same, since grouping merges them.
        let spelled_out = Grouped::new(std::iter::repeat_n(cdnow_histories(), 43).flatten());
        assert_eq!(spelled_out.rows.len(), 1016);
        let again = BgNbd::fit(&spelled_out).unwrap();
        assert!(within(again.params.alpha, once.params.alpha, 1e-6));
    }

    #[test]
    fn a_different_time_unit_scales_alpha_only() {
        let days = Grouped::new(cdnow_histories().into_iter().map(|h| History {
            x: h.x,
            tx: h.tx * 7.0,
            t: h.t * 7.0,
        }));
        let weeks = BgNbd::fit(&Grouped::new(cdnow_histories())).unwrap().params;
        let in_days = BgNbd::fit(&days).unwrap().params;
        assert!(within(in_days.alpha, weeks.alpha * 7.0, 1e-6));
        assert!(within(in_days.r, weeks.r, 1e-6) && within(in_days.b, weeks.b, 1e-5));
    }

    #[test]
    fn predictions_match_hand_worked_and_published_values() {
        // Research note §2.8 (paper parameters, customer x=2, tₓ=30.43, T=38.86).
        let h = History {
            x: 2,
            tx: 30.43,
            t: 38.86,
        };
        assert!(
            (PAPER.p_alive(h) - 0.7266).abs() < 1e-4,
            "{}",
            PAPER.p_alive(h)
        );
        let ey = PAPER.expected_purchases(39.0, h);
        assert!((ey - 1.2260).abs() < 1e-4, "{ey}");
        for (t, want) in [
            (0.1429, 0.0078),
            (1.0, 0.0533),
            (3.0, 0.1509),
            (31.8571, 1.0420),
            (32.0, 1.0452),
            (78.0, 1.8605),
        ] {
            let got = PAPER.expected_purchases_new(t);
            assert!((got - want).abs() < 1e-4, "E[X({t})] = {got}, want {want}");
        }
        // One-time buyers cannot have dropped out in BG/NBD.
        let once = History {
            x: 0,
            tx: 0.0,
            t: 30.0,
        };
        assert_eq!(PAPER.p_alive(once), 1.0);
        // Direct series (no transformation) agrees for a small count: eq. 10 as printed.
        let BgNbd { r, alpha, a, b } = PAPER;
        let x = 2.0;
        let z = 39.0 / (alpha + 38.86 + 39.0);
        let direct = (a + b + x - 1.0) / (a - 1.0)
            * (1.0
                - ((alpha + 38.86) / (alpha + 38.86 + 39.0)).powf(r + x)
                    * hyp2f1(r + x, b + x, a + b + x - 1.0, z))
            / (1.0 + a / (b + x - 1.0) * ((alpha + 38.86) / (alpha + 30.43)).powf(r + x));
        assert!((direct - ey).abs() < 1e-12, "{direct} vs {ey}");
    }

    /// A base with no spread in dropout drives a and b towards infinity: predictions stay
    /// finite and meet the point-mass limit continuously.
    #[test]
    fn a_point_mass_dropout_gives_finite_continuous_predictions() {
        let h = History {
            x: 4,
            tx: 30.0,
            t: 38.0,
        };
        let scaled = |k: f64| BgNbd {
            a: PAPER.a * k,
            b: PAPER.b * k,
            ..PAPER
        };
        let limit = scaled(1e12).expected_if_alive_homogeneous(39.0, h.x, h.t);
        assert!(limit.is_finite() && limit > 0.0, "{limit}");
        for k in [1e3, 1e5, 1e7, 1e9, 1e12, 1e300] {
            let m = scaled(k);
            let e = m.expected_if_alive(39.0, h.x, h.t);
            assert!(e.is_finite(), "k = {k}: {e}");
            assert!((e - limit).abs() <= 2e-3 * limit, "k = {k}: {e} vs {limit}");
            assert!(m.expected_purchases(39.0, h).is_finite());
            assert!(m.p_alive(h).is_finite());
        }
        // Approaching the edge from the series side (k = 100: a + b ≈ 322).
        let near = scaled(100.0).expected_if_alive(39.0, h.x, h.t);
        assert!((near - limit).abs() <= 0.02 * limit, "{near} vs {limit}");
        // Nobody drops out at all: the NBD.
        let never = BgNbd {
            a: 0.0,
            b: 1e7,
            ..PAPER
        };
        let nbd = (PAPER.r + 4.0) / (PAPER.alpha + 38.0) * 39.0;
        assert!((never.expected_if_alive(39.0, h.x, h.t) - nbd).abs() < 1e-12 * nbd);
    }

    #[test]
    fn huge_repeat_counts_neither_overflow_nor_lose_monotonicity() {
        // x = 10⁵: (α+T)^(r+x) overflows f64 by far; the log forms do not.
        let busy = History {
            x: 100_000,
            tx: 200.0,
            t: 200.0,
        };
        // At ~500 purchases a week, one silent week means gone.
        let paused = History { tx: 199.0, ..busy };
        assert!(PAPER.p_alive(paused) < 1e-200);
        let ll = PAPER.log_likelihood_one(busy);
        assert!(ll.is_finite(), "{ll}");
        let pa = PAPER.p_alive(busy);
        assert!((0.0..=1.0).contains(&pa));
        let ey = PAPER.expected_purchases(10.0, busy);
        assert!(ey.is_finite() && ey > 0.0, "{ey}");
        // A customer who stopped long ago with many purchases is as good as gone.
        let gone = History {
            x: 5_000,
            tx: 10.0,
            t: 200.0,
        };
        assert!(PAPER.p_alive(gone) < 1e-300);
        assert!(PAPER.expected_purchases(10.0, gone) < 1e-300);
        // One more purchase at the same time can only help (lifetimes' underflow test idea).
        let a = PAPER.expected_purchases(
            52.0,
            History {
                x: 132,
                tx: 199.0,
                t: 200.0,
            },
        );
        let b = PAPER.expected_purchases(
            52.0,
            History {
                x: 133,
                tx: 199.0,
                t: 200.0,
            },
        );
        assert!(b > a && (b - a) < 1.0, "{a} {b}");
        // Rate ≈ x/T for an active heavy buyer: 10⁵ purchases in 200 weeks → ~500/week.
        assert!((ey / 10.0 - 500.0).abs() < 25.0, "{ey}");
    }

    #[test]
    fn gamma_gamma_reproduces_cdnow() {
        let spends = cdnow_spends();
        assert_eq!(spends.len(), 946);
        let grouped = GammaGamma::group(spends.iter().copied());
        let fit = GammaGamma::fit(&grouped).unwrap();
        let g = fit.params;
        assert!(fit.converged, "{fit:?}");
        assert!(within(g.p, 6.25, 0.005), "p = {}", g.p);
        assert!(within(g.q, 3.74, 0.005), "q = {}", g.q);
        assert!(within(g.gamma, 15.44, 0.005), "γ = {}", g.gamma);
        let at_paper = GammaGamma {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        };
        let ll = at_paper.log_likelihood(&grouped);
        assert!((ll - -4055.92).abs() < 0.01, "{ll}");
        assert!(fit.log_likelihood >= ll);
        let direct = g.log_likelihood(&grouped);
        assert!(
            (fit.log_likelihood - direct).abs() < 1e-9 * direct.abs(),
            "{} vs {direct}",
            fit.log_likelihood
        );
        // Conditional expected spend, first CDNOW ids (research note §2.8, paper params).
        let firsts: Vec<(u32, f64)> = CDNOW_SPEND
            .lines()
            .skip(1)
            .take(3)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[1].parse().unwrap(), f[4].parse().unwrap())
            })
            .collect();
        let want = [24.66, 18.92, 35.22];
        for ((x, m), w) in firsts.into_iter().zip(want) {
            let e = at_paper.expected_spend(x, m);
            assert!((e - w).abs() < 0.006, "E[M|{x},{m}] = {e}, want {w}");
        }
        // Money unit does not matter beyond γ: fit in cents.
        let cents = GammaGamma::group(spends.iter().map(|s| Spend {
            x: s.x,
            m: s.m * 100.0,
        }));
        let c = GammaGamma::fit(&cents).unwrap().params;
        assert!(within(c.gamma, g.gamma * 100.0, 1e-6) && within(c.p, g.p, 1e-6));
        // Replicated data: same maximum.
        let many = GammaGamma::fit(
            &grouped
                .iter()
                .map(|(s, w)| (*s, w * 43.0))
                .collect::<Vec<_>>(),
        )
        .unwrap()
        .params;
        assert!(within(many.q, g.q, 1e-6) && within(many.gamma, g.gamma, 1e-6));
    }

    #[test]
    fn lifetime_value_is_discounted_expected_purchases_times_spend() {
        let h = History {
            x: 2,
            tx: 30.43,
            t: 38.86,
        };
        // No discount: CLV = E[Y(total)] × spend exactly.
        let undiscounted = lifetime_value(&PAPER, h, 20.0, 4.0, 10, 0.0);
        let direct = PAPER.expected_purchases(40.0, h) * 20.0;
        assert!((undiscounted - direct).abs() < 1e-9);
        let discounted = lifetime_value(&PAPER, h, 20.0, 4.0, 10, 0.01);
        assert!(discounted < undiscounted && discounted > 0.9 * undiscounted);
    }

    /// A simulated base big enough for the warm start (a subsample fit, then the full data
    /// from its point and inverse Hessian): no start on the full data does better.
    #[test]
    fn the_warm_started_fit_is_the_full_data_maximum() {
        let mut seed = 99_u64;
        let mut uniform = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut histories = Vec::new();
        for _ in 0..30_000 {
            // Rate ~ exponential mixture, dropout ~ uniform(0, 0.5): not BG/NBD exactly.
            let rate = -uniform().ln() / 20.0;
            let p = 0.5 * uniform();
            let t = (100.0 + 900.0 * uniform()).floor();
            let (mut x, mut last, mut now) = (0, 0.0, 0.0);
            loop {
                now += -uniform().ln() / rate;
                if now > t || uniform() < p {
                    break;
                }
                x += 1;
                last = now.floor();
            }
            histories.push(History { x, tx: last, t });
        }
        let data = Grouped::new(histories);
        assert!(data.rows.len() > 2 * WARM_ROWS, "{}", data.rows.len());
        let fit = BgNbd::fit(&data).unwrap();
        assert!(fit.converged, "{fit:?}");
        let scale = data.rows.iter().map(|(h, _)| h.t).fold(0.0, f64::max);
        let prepared = prepare(&data, scale);
        let objective = |v: &[f64]| {
            let m = BgNbd {
                r: v[0].exp(),
                alpha: v[1].exp(),
                a: v[2].exp(),
                b: v[3].exp(),
            };
            let (ll, g) = m.mean_ll_and_gradient(&prepared);
            (-ll, g.iter().map(|d| -d).collect::<Vec<f64>>())
        };
        for start in [[0.0; 4], [-1.0, -1.0, -0.5, 1.0], [0.5, -2.0, 1.0, 2.0]] {
            let m = optim::bfgs(objective, &start, Options::default());
            let p = BgNbd {
                r: m.x[0].exp(),
                alpha: m.x[1].exp() * scale,
                a: m.x[2].exp(),
                b: m.x[3].exp(),
            };
            let ll = p.log_likelihood(&data);
            assert!(
                ll <= fit.log_likelihood + 1e-6 * ll.abs(),
                "{ll} vs {}",
                fit.log_likelihood
            );
        }
    }

    #[test]
    fn an_empty_base_has_no_fit() {
        assert!(BgNbd::fit(&Grouped::default()).is_none());
        assert!(GammaGamma::fit(&[]).is_none());
    }
}
