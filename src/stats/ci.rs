//! Confidence intervals across replications (Student t).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Confidence level of every interval capsim reports.
pub const CONFIDENCE: f64 = 0.95;

/// A point estimate with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Replications it is based on.
    pub n: u32,
}

impl Estimate {
    /// Half the interval's width (0 with one replication: no spread is known).
    pub fn half_width(&self) -> f64 {
        (self.ci_high - self.ci_low) / 2.0
    }

    /// The half-width relative to the mean (infinite for a zero mean with some spread).
    pub fn relative_half_width(&self) -> f64 {
        let h = self.half_width();
        if h == 0.0 {
            0.0
        } else if self.mean == 0.0 {
            f64::INFINITY
        } else {
            h / self.mean.abs()
        }
    }

    pub fn covers(&self, x: f64) -> bool {
        self.ci_low <= x && x <= self.ci_high
    }
}

/// The two-sided Student t quantile for [`CONFIDENCE`] with `n - 1` degrees of freedom.
pub fn t_quantile(n: usize) -> f64 {
    t_quantile_at(n, CONFIDENCE)
}

/// The two-sided Student t quantile for `confidence` with `n - 1` degrees of freedom
/// (infinite below two replications: no spread is known).
pub fn t_quantile_at(n: usize, confidence: f64) -> f64 {
    if n < 2 {
        return f64::INFINITY;
    }
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("positive degrees of freedom");
    t.inverse_cdf(0.5 + confidence / 2.0)
}

/// Sample mean and standard deviation of the finite values, summed in the given order.
pub fn mean_sd(xs: &[f64]) -> (f64, f64, usize) {
    let finite = || xs.iter().copied().filter(|x| x.is_finite());
    let n = finite().count();
    if n == 0 {
        return (f64::NAN, f64::NAN, 0);
    }
    let mean = finite().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, 0.0, n);
    }
    let var = finite().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var.sqrt(), n)
}

/// The replication-mean estimate: `mean ± t * sd / sqrt(n)`.
///
/// # Formula
/// With one replication the interval is the point itself, marked by `n = 1`.
pub fn replication_mean(xs: &[f64]) -> Estimate {
    let (mean, sd, n) = mean_sd(xs);
    around(mean, sd, n)
}

/// The interval of a quantile of data pooled over replications, found by inverting the
/// replications' distribution functions at the pooled point.
///
/// # Formula
/// With `x = Q(q)` the pooled `q` quantile and `F_i(x)` replication `i`'s fraction of values
/// at or below it (`fractions`), `h = t(n-1) * sd(F_i(x)) / sqrt(n)` is the half-width of the
/// interval of the probability `F(x)`; the quantile's interval is `[Q(q - h), Q(q + h)]`
/// (Woodruff 1952, with replications as independent clusters).
///
/// Why not the spread of the replications' own quantiles (sectioning)? A quantile of a short
/// autocorrelated run is a strongly non-linear statistic; its spread misjudges the pooled
/// quantile's error (on M/M/1 at utilization 0.9, 64 replications of 8 h: 88 % coverage for
/// p99, 70 % at 1 h). A fraction below a fixed point is a mean, whose replication spread is
/// honest (95 % and 91 % in the same runs).
pub fn inverted_quantile(q: f64, fractions: &[f64], quantile: impl Fn(f64) -> f64) -> Estimate {
    let point = quantile(q);
    let (_, sd, n) = mean_sd(fractions);
    if n < 2 || !point.is_finite() {
        return around(point, 0.0, n);
    }
    let h = t_quantile(n) * sd / (n as f64).sqrt();
    Estimate {
        mean: point,
        ci_low: quantile((q - h).max(0.0)).min(point),
        ci_high: quantile((q + h).min(1.0)).max(point),
        n: n as u32,
    }
}

fn around(point: f64, sd: f64, n: usize) -> Estimate {
    let h = if n >= 2 {
        t_quantile(n) * sd / (n as f64).sqrt()
    } else {
        0.0
    };
    Estimate {
        mean: point,
        ci_low: point - h,
        ci_high: point + h,
        n: n as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Student t, two-sided 95 %: 12.706 (1 df), 2.262 (9 df), 1.984 (99 df).
        assert!((t_quantile(2) - 12.7062).abs() < 1e-3);
        assert!((t_quantile(10) - 2.2622).abs() < 1e-3);
        assert!((t_quantile(100) - 1.9842).abs() < 1e-3);
    }

    #[test]
    fn the_interval_is_mean_plus_minus_t_se() {
        let e = replication_mean(&[1.0, 2.0, 3.0, 4.0]);
        let se = (5.0f64 / 3.0).sqrt() / 2.0;
        assert!((e.mean - 2.5).abs() < 1e-12);
        assert!((e.half_width() - t_quantile(4) * se).abs() < 1e-12);
        assert!(e.covers(2.5) && !e.covers(10.0));
    }

    #[test]
    fn a_quantile_interval_inverts_the_probability_interval() {
        // Q(p) = 10 p (uniform on 0..10); fractions below the point with sd 0.02 over 4.
        let fractions = [0.48, 0.50, 0.52, 0.50];
        let e = inverted_quantile(0.5, &fractions, |p| 10.0 * p);
        let sd = (0.0008f64 / 3.0).sqrt();
        let h = t_quantile(4) * sd / 2.0;
        assert_eq!(e.mean, 5.0);
        assert!((e.ci_low - 10.0 * (0.5 - h)).abs() < 1e-12);
        assert!((e.ci_high - 10.0 * (0.5 + h)).abs() < 1e-12);
        // Probabilities are clamped to [0, 1].
        let wide = inverted_quantile(0.99, &[0.5, 1.0], |p| 10.0 * p);
        assert_eq!(wide.ci_high, 10.0);
        // One replication: no spread known.
        assert_eq!(inverted_quantile(0.5, &[0.5], |p| p).half_width(), 0.0);
    }

    #[test]
    fn non_finite_values_are_left_out() {
        let e = replication_mean(&[1.0, f64::NAN, 3.0]);
        assert_eq!(e.n, 2);
        assert_eq!(e.mean, 2.0);
    }
}
