//! Special functions the customer-base models need, in plain `f64`: `ln Γ`, the digamma
//! function `ψ`, Gauss's hypergeometric series `₂F₁`, and overflow-free `ln(eˣ + eʸ)` and
//! logistic. No allocation, no dependencies; accuracy is tested against published values.

/// `½·ln(2π)`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Below this the recurrences shift the argument up before the asymptotic series is used.
const SHIFT_TO: f64 = 7.0;

/// `ln Γ(x)` for `x > 0` (NaN otherwise): the argument is shifted to ≥ 7 with
/// `Γ(x) = Γ(x+n) / (x(x+1)…(x+n−1))`, then Stirling's series to the `z⁻¹³` term, whose
/// truncation error there is below 1e-14 relative.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let mut z = x;
    let mut shift = 0.0;
    if z < SHIFT_TO {
        let mut product = 1.0;
        while z < SHIFT_TO {
            product *= z;
            z += 1.0;
        }
        shift = product.ln();
    }
    let inv = 1.0 / z;
    let inv2 = inv * inv;
    // Bernoulli terms B₂ₖ / (2k(2k−1) z^(2k−1)), k = 1..7.
    let series = inv
        * (1.0 / 12.0
            + inv2
                * (-1.0 / 360.0
                    + inv2
                        * (1.0 / 1260.0
                            + inv2
                                * (-1.0 / 1680.0
                                    + inv2
                                        * (1.0 / 1188.0
                                            + inv2 * (-691.0 / 360_360.0 + inv2 / 156.0))))));
    (z - 0.5) * z.ln() - z + HALF_LN_2PI + series - shift
}

/// Where [`digamma`]'s series starts: its first omitted term is ~4e-17 there.
const DIGAMMA_SHIFT_TO: f64 = 10.0;

/// The digamma function `ψ(x) = d/dx ln Γ(x)` for `x > 0`: shifted to ≥ 10 with
/// `ψ(x) = ψ(x+1) − 1/x`, then the asymptotic series to the `z⁻¹⁴` term.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let mut z = x;
    let mut shift = 0.0;
    while z < DIGAMMA_SHIFT_TO {
        shift -= 1.0 / z;
        z += 1.0;
    }
    let inv = 1.0 / z;
    let inv2 = inv * inv;
    let series = inv2
        * (-1.0 / 12.0
            + inv2
                * (1.0 / 120.0
                    + inv2
                        * (-1.0 / 252.0
                            + inv2
                                * (1.0 / 240.0
                                    + inv2
                                        * (-1.0 / 132.0
                                            + inv2 * (691.0 / 32_760.0 - inv2 / 12.0))))));
    z.ln() - 0.5 * inv + series + shift
}

/// `ln(eˣ + eʸ)` without overflow (either may be −∞).
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    if hi == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// The logistic function `1 / (1 + e⁻ˣ)`, exact in both tails.
pub fn expit(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Most terms the hypergeometric series may take before giving up.
const MAX_TERMS: usize = 1_000_000;

/// Gauss's hypergeometric function `₂F₁(a, b; c; z)` for `0 ≤ z < 1`, `c > 0`, by its power
/// series `Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ`, summed until a term no longer changes the sum (NaN if it
/// does not settle within a million terms). Callers keep `a`, `b` moderate — see
/// [`crate::analytics::clv`], which applies Euler's transformation first so that the
/// parameters that grow with a customer's purchase count move into a power of `1 − z`.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if !(0.0..1.0).contains(&z) || c <= 0.0 {
        return f64::NAN;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..MAX_TERMS {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        let next = sum + term;
        if !next.is_finite() {
            return f64::NAN;
        }
        // Stop once the terms are negligible and shrinking (they can grow at first).
        if term.abs() <= f64::EPSILON * 0.25 * next.abs()
            && (a + n) * (b + n) <= (c + n) * (n + 1.0)
        {
            return next;
        }
        if term == 0.0 {
            return next;
        }
        sum = next;
    }
    f64::NAN
}

/// `ln Γ(x)` by the reflection formula for any non-integer real (tests only).
#[cfg(test)]
fn ln_abs_gamma_reflected(x: f64) -> f64 {
    use std::f64::consts::PI;
    if x > 0.0 {
        ln_gamma(x)
    } else {
        (PI / (PI * x).sin().abs()).ln() - ln_gamma(1.0 - x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1.0)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        let cases = [
            (0.5, 0.572_364_942_924_700_1), // ln √π
            (1.0, 0.0),
            (2.0, 0.0),
            (3.0, std::f64::consts::LN_2),
            (10.0, 12.801_827_480_081_469), // ln 9!
            (100.0, 359.134_205_369_575_4), // ln 99!
            (0.001, 6.907_178_885_383_853),
            (1e-10, 23.025_850_929_882_733),
            (1e6, 12_815_504.569_147_61),
            (0.243, 1.318_043_584_699_669_9),
        ];
        for (x, want) in cases {
            let got = ln_gamma(x);
            assert!(close(got, want, 1e-13), "lnΓ({x}) = {got}, want {want}");
        }
        assert!(ln_gamma(0.0).is_nan());
        assert!(ln_gamma(-1.5).is_nan());
        // Reflection agrees with the direct form across the shift boundary.
        assert!(close(
            ln_abs_gamma_reflected(-0.5),
            (2.0 * PI.sqrt()).ln(),
            1e-13
        ));
    }

    #[test]
    fn ln_gamma_satisfies_its_recurrence_everywhere() {
        // lnΓ(x+1) = lnΓ(x) + ln x, across the shift boundary at 7 and far beyond.
        let mut x = 0.013;
        while x < 5_000.0 {
            let lhs = ln_gamma(x + 1.0);
            let rhs = ln_gamma(x) + x.ln();
            assert!(close(lhs, rhs, 2e-14), "x = {x}: {lhs} vs {rhs}");
            x *= 1.37;
        }
    }

    #[test]
    fn digamma_matches_known_values_and_is_the_derivative() {
        let euler = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -euler, 1e-14));
        assert!(close(
            digamma(0.5),
            -euler - 2.0 * std::f64::consts::LN_2,
            1e-14
        ));
        assert!(close(digamma(10.0), 2.251_752_589_066_721, 1e-14));
        assert!(close(digamma(1e-3), -1_000.575_571_931_810_3, 1e-12));
        for x in [0.05, 0.8, 3.3, 6.999, 7.0, 42.0, 1e4] {
            let h = 1e-5 * x;
            let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(close(digamma(x), numeric, 1e-7), "ψ({x})");
        }
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1−z)/z
        for z in [0.0_f64, 0.1, 0.5, 0.9, 0.99] {
            let want = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
            assert!(close(hyp2f1(1.0, 1.0, 2.0, z), want, 1e-13), "z = {z}");
        }
        // ₂F₁(a, b; b; z) = (1−z)^−a
        assert!(close(hyp2f1(0.7, 3.0, 3.0, 0.6), 0.4_f64.powf(-0.7), 1e-13));
        // ₂F₁(½, ½; 3/2; z²) = arcsin(z)/z
        let z: f64 = 0.8;
        assert!(close(hyp2f1(0.5, 0.5, 1.5, z * z), z.asin() / z, 1e-12));
        // Euler's transformation holds numerically with a negative parameter.
        let (a, b, c, z) = (2.3, 0.8, 3.1, 0.45_f64);
        let euler = (1.0 - z).powf(c - a - b) * hyp2f1(c - a, c - b, c, z);
        assert!(close(hyp2f1(a, b, c, z), euler, 1e-13));
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_nan());
    }

    #[test]
    fn log_add_exp_and_expit_do_not_overflow() {
        assert!(close(
            log_add_exp(1000.0, 1000.0),
            1000.0 + std::f64::consts::LN_2,
            1e-15
        ));
        assert_eq!(log_add_exp(f64::NEG_INFINITY, -3.0), -3.0);
        assert_eq!(
            log_add_exp(f64::NEG_INFINITY, f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
        assert_eq!(expit(-800.0), 0.0_f64.max(expit(-800.0)));
        assert!(expit(-800.0) >= 0.0 && expit(-800.0) < 1e-300);
        assert_eq!(expit(800.0), 1.0);
        assert!(close(expit(0.0), 0.5, 1e-16));
    }
}
