//! Small unconstrained minimisers for the model fits: BFGS with a backtracking line search
//! (the workhorse: the likelihoods come with analytic gradients) and Nelder–Mead (the fallback
//! when a gradient is not finite). Parameters are optimised on the log scale by the callers,
//! so "unconstrained" is enough.

/// Where a minimisation ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    /// The stopping rule was met (not just the iteration budget spent).
    pub converged: bool,
    /// Largest |gradient| component at `x` (NaN for Nelder–Mead).
    pub gradient_max: f64,
    /// BFGS's inverse-Hessian approximation at the end, row-major (empty for Nelder–Mead):
    /// a warm start for a related problem ([`bfgs_from`]).
    pub inverse_hessian: Vec<f64>,
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub max_iterations: usize,
    /// Stop when every gradient component is below this. The fits' objectives are mean
    /// log-likelihoods, whose summed gradients carry rounding noise of ~1e-9 at 10⁵–10⁶ rows:
    /// a tighter tolerance only buys line searches that cannot succeed.
    pub gradient_tolerance: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iterations: 1_000,
            gradient_tolerance: 1e-8,
        }
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0_f64, |m, x| m.max(x.abs()))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` (value and gradient) from `x0` by BFGS. Non-finite values are treated as
/// +∞ by the line search, so a step into an overflow is simply shortened.
pub fn bfgs(f: impl FnMut(&[f64]) -> (f64, Vec<f64>), x0: &[f64], options: Options) -> Minimum {
    bfgs_from(f, x0, None, options)
}

/// [`bfgs`] starting from an inverse-Hessian approximation `h0` (row-major), e.g. the one a
/// fit on a subsample ended with.
pub fn bfgs_from(
    mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>),
    x0: &[f64],
    h0: Option<&[f64]>,
    options: Options,
) -> Minimum {
    let n = x0.len();
    let mut x = x0.to_vec();
    let (mut fx, mut g) = f(&x);
    // Inverse Hessian approximation, row-major.
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 1.0;
    }
    let mut first_step = true;
    if let Some(h0) = h0.filter(|h0| h0.len() == n * n && h0.iter().all(|v| v.is_finite())) {
        h.copy_from_slice(h0);
        first_step = false;
    }
    let mut stalls = 0;
    for iteration in 0..options.max_iterations {
        if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Minimum {
                x,
                value: fx,
                iterations: iteration,
                converged: false,
                gradient_max: f64::NAN,
                inverse_hessian: h,
            };
        }
        if max_abs(&g) < options.gradient_tolerance {
            return Minimum {
                gradient_max: max_abs(&g),
                x,
                value: fx,
                iterations: iteration,
                converged: true,
                inverse_hessian: h,
            };
        }
        // Direction d = −H g; fall back to steepest descent when it does not descend.
        let mut d: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| h[i * n + j] * g[j]).sum::<f64>())
            .collect();
        let mut slope = dot(&d, &g);
        if slope >= 0.0 || !slope.is_finite() {
            d = g.iter().map(|v| -v).collect();
            slope = dot(&d, &g);
            for i in 0..n {
                for j in 0..n {
                    h[i * n + j] = if i == j { 1.0 } else { 0.0 };
                }
            }
            first_step = true;
        }
        // The quasi-Newton decrement −gᵀd predicts how much a full step can still gain: once
        // that is below rounding of the objective, no line search can tell better from worse.
        if -slope <= 1e-15 * fx.abs().max(1.0) {
            return Minimum {
                gradient_max: max_abs(&g),
                x,
                value: fx,
                iterations: iteration,
                converged: true,
                inverse_hessian: h,
            };
        }
        // Keep the first (unscaled) step modest: log-parameters move by at most 1.
        let mut step = if first_step {
            (1.0 / max_abs(&d)).min(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..40 {
            let trial: Vec<f64> = x.iter().zip(&d).map(|(xi, di)| xi + step * di).collect();
            let (ft, gt) = f(&trial);
            if ft.is_finite() && ft <= fx + 1e-4 * step * slope {
                accepted = Some((trial, ft, gt));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fnew, gn)) = accepted else {
            // No descent along d at any step: we are at the minimum to machine precision.
            return Minimum {
                gradient_max: max_abs(&g),
                x,
                value: fx,
                iterations: iteration,
                converged: max_abs(&g) < options.gradient_tolerance.sqrt(),
                inverse_hessian: h,
            };
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-300 {
            if first_step {
                // Nocedal & Wright's scaling of the initial inverse Hessian.
                let scale = sy / dot(&y, &y);
                for v in h.iter_mut() {
                    *v *= scale;
                }
                first_step = false;
            }
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| h[i * n + j] * y[j]).sum())
                .collect();
            let yhy = dot(&y, &hy);
            for i in 0..n {
                for j in 0..n {
                    h[i * n + j] += -rho * (hy[i] * s[j] + s[i] * hy[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
        let improvement = fx - fnew;
        x = xn;
        g = gn;
        fx = fnew;
        if improvement <= f64::EPSILON * fx.abs().max(1e-300) {
            stalls += 1;
            if stalls >= 5 {
                return Minimum {
                    gradient_max: max_abs(&g),
                    x,
                    value: fx,
                    iterations: iteration + 1,
                    converged: max_abs(&g) < options.gradient_tolerance.sqrt(),
                    inverse_hessian: h,
                };
            }
        } else {
            stalls = 0;
        }
    }
    Minimum {
        gradient_max: max_abs(&g),
        x,
        value: fx,
        iterations: options.max_iterations,
        converged: false,
        inverse_hessian: h,
    }
}

/// Minimises `f` from `x0` by Nelder–Mead with a simplex of side `scale`, stopping when the
/// simplex's values agree to `tolerance` (absolute) or after `max_evaluations`.
pub fn nelder_mead(
    mut f: impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    scale: f64,
    tolerance: f64,
    max_evaluations: usize,
) -> Minimum {
    let n = x0.len();
    let value = |v: f64| if v.is_finite() { v } else { f64::INFINITY };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let v0 = value(f(x0));
    simplex.push((x0.to_vec(), v0));
    for i in 0..n {
        let mut p = x0.to_vec();
        p[i] += scale;
        let v = value(f(&p));
        simplex.push((p, v));
    }
    let mut evaluations = n + 1;
    let mut iterations = 0;
    let mut converged = false;
    while evaluations < max_evaluations {
        iterations += 1;
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[n].1);
        if (worst - best).abs() <= tolerance {
            converged = true;
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p.0[j]).sum::<f64>() / n as f64)
            .collect();
        let towards = |t: f64, simplex: &[(Vec<f64>, f64)]| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j]))
                .collect()
        };
        let reflected = towards(-1.0, &simplex);
        let fr = value(f(&reflected));
        evaluations += 1;
        if fr < simplex[0].1 {
            let expanded = towards(-2.0, &simplex);
            let fe = value(f(&expanded));
            evaluations += 1;
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let t = if fr < simplex[n].1 { -0.5 } else { 0.5 };
            let contracted = towards(t, &simplex);
            let fc = value(f(&contracted));
            evaluations += 1;
            if fc < simplex[n].1.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                // Shrink towards the best point.
                let best = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    for (pj, bj) in p.0.iter_mut().zip(&best) {
                        *pj = bj + 0.5 * (*pj - bj);
                    }
                    p.1 = value(f(&p.0));
                    evaluations += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, value) = simplex.swap_remove(0);
    Minimum {
        x,
        value,
        iterations,
        converged,
        gradient_max: f64::NAN,
        inverse_hessian: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's banana: minimum 0 at (1, 1), a classic trap for naive descent.
    fn rosenbrock(x: &[f64]) -> (f64, Vec<f64>) {
        let (a, b) = (x[0], x[1]);
        let value = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
        let grad = vec![
            -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
            200.0 * (b - a * a),
        ];
        (value, grad)
    }

    #[test]
    fn bfgs_finds_rosenbrocks_minimum() {
        let m = bfgs(rosenbrock, &[-1.2, 1.0], Options::default());
        assert!(m.converged, "{m:?}");
        assert!(
            (m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8,
            "{m:?}"
        );
    }

    #[test]
    fn bfgs_survives_a_region_where_the_function_overflows() {
        // exp(x) − 2x: minimum at ln 2; a first step towards +huge overflows to ∞.
        let f = |x: &[f64]| ((x[0].exp() - 2.0 * x[0]), vec![x[0].exp() - 2.0]);
        let m = bfgs(f, &[-30.0], Options::default());
        assert!((m.x[0] - 2.0_f64.ln()).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn nelder_mead_finds_rosenbrocks_minimum() {
        let m = nelder_mead(|x| rosenbrock(x).0, &[-1.2, 1.0], 0.5, 1e-16, 10_000);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }
}
