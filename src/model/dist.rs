//! Probability distributions of durations (service times, think times, inter-arrival times).
//!
//! A [`Dist`] is plain data: the script builds it once through the validating constructors
//! below, `capsim check` reads its analytic mean, and the engine turns it into a fast sampler.
//! All values are in seconds. Every constructor rejects parameters that would make sampling
//! undefined (negative, NaN or infinite values, a p95 below its p50, a Pareto tail without a
//! finite mean), a mean beyond [`MAX_DURATION_S`] and mixtures nested deeper than
//! [`MAX_NESTING`], so nothing downstream has to re-check them.

use super::limits::{MAX_DIST_PARTS, MAX_DURATION_S, MAX_DURATION_TEXT, MAX_NESTING};
use super::shared::Shared;
use crate::format::{fmt_duration, plain_number as num};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal as StdNormal};
use statrs::function::gamma::gamma as gamma_fn;
use thiserror::Error;

/// The standard normal quantile at 0.95, used to fit a lognormal from its p50 and p95.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// A distribution of non-negative durations, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dist {
    /// Always `value_s`.
    Constant { value_s: f64 },
    /// Exponential with the given mean (a Poisson process's gaps; an M/M/c server).
    Exponential { mean_s: f64 },
    /// Uniform on `[low_s, high_s]` (Locust's `between(a, b)`).
    Uniform { low_s: f64, high_s: f64 },
    /// Normal with the given mean and standard deviation, truncated at zero by rejection:
    /// negative draws are redrawn, so the mean is the truncated normal's mean.
    Normal { mean_s: f64, sd_s: f64 },
    /// Lognormal: `exp(N(mu, sigma))`, `mu` in log-seconds.
    LogNormal { mu: f64, sigma: f64 },
    /// Gamma with a shape and a scale; an Erlang-k when the shape is an integer.
    Gamma { shape: f64, scale_s: f64 },
    /// Weibull with a shape `k` and a scale `lambda`.
    Weibull { shape: f64, scale_s: f64 },
    /// Pareto (type I) with a minimum `scale_s` and a tail index `shape > 1`.
    Pareto { scale_s: f64, shape: f64 },
    /// Draws uniformly from observed samples (what an APM export or a load-test log gives).
    /// Shared, not copied, by every use.
    Empirical { samples_s: Shared<f64> },
    /// With probability `weight / total` draws from that component. Shared by every use.
    Mixture { components: Shared<Component> },
}

/// One weighted component of a [`Dist::Mixture`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub weight: f64,
    pub dist: Dist,
}

/// Why a distribution's parameters were refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DistError {
    #[error("{what} must be a finite number >= 0 (got {})", num(*.value))]
    NotNonNegative { what: &'static str, value: f64 },
    #[error("{what} must be a finite number > 0 (got {})", num(*.value))]
    NotPositive { what: &'static str, value: f64 },
    #[error("uniform needs low <= high (got low {low} s, high {high} s)")]
    UniformOrder { low: f64, high: f64 },
    #[error(
        "lognormal from percentiles needs p95 > p50 (got p50 {p50} s, p95 {p95} s): a p95 below the median is impossible"
    )]
    PercentileOrder { p50: f64, p95: f64 },
    #[error(
        "normal with mean {mean} s is mostly negative: truncated at zero it would be a different distribution; use a positive mean"
    )]
    NormalMean { mean: f64 },
    #[error(
        "pareto shape must be > 1 so the mean is finite (got {shape}); a tail that heavy never reaches a steady state"
    )]
    ParetoShape { shape: f64 },
    #[error("{what} needs at least one value")]
    Empty { what: &'static str },
    #[error("mixture weights must be finite, >= 0 and sum to more than 0")]
    MixtureWeights,
    #[error("{} has a mean of {}: a distribution's mean must be at most {MAX_DURATION_TEXT}", .what, fmt_duration(*.mean))]
    MeanTooLong { what: String, mean: f64 },
    #[error("mixtures nest {depth} deep; at most {MAX_NESTING} are supported")]
    TooDeep { depth: usize },
    #[error(
        "this mixture has more than {MAX_DIST_PARTS} parts (samples and components, counting a component each time it is used); use fewer components or samples"
    )]
    TooLarge,
}

fn non_negative(what: &'static str, value: f64) -> Result<f64, DistError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(DistError::NotNonNegative { what, value })
    }
}

fn positive(what: &'static str, value: f64) -> Result<f64, DistError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(DistError::NotPositive { what, value })
    }
}

/// Refuses a distribution whose mean is not a duration the engine supports (a gamma of shape
/// 1e300, a Weibull of shape 0.001, a Pareto tail just above 1).
fn bounded(d: Dist) -> Result<Dist, DistError> {
    let mean = d.mean();
    if mean.is_finite() && mean <= MAX_DURATION_S {
        return Ok(d);
    }
    Err(DistError::MeanTooLong {
        what: d.describe_parameters(),
        mean,
    })
}

impl Dist {
    pub fn constant(value_s: f64) -> Result<Dist, DistError> {
        bounded(Dist::Constant {
            value_s: non_negative("constant value", value_s)?,
        })
    }

    pub fn exponential(mean_s: f64) -> Result<Dist, DistError> {
        bounded(Dist::Exponential {
            mean_s: positive("exponential mean", mean_s)?,
        })
    }

    pub fn uniform(low_s: f64, high_s: f64) -> Result<Dist, DistError> {
        let low_s = non_negative("uniform low", low_s)?;
        let high_s = non_negative("uniform high", high_s)?;
        if low_s > high_s {
            return Err(DistError::UniformOrder {
                low: low_s,
                high: high_s,
            });
        }
        bounded(Dist::Uniform { low_s, high_s })
    }

    pub fn normal(mean_s: f64, sd_s: f64) -> Result<Dist, DistError> {
        let sd_s = non_negative("normal sd", sd_s)?;
        if !mean_s.is_finite() || mean_s <= 0.0 {
            return Err(DistError::NormalMean { mean: mean_s });
        }
        bounded(Dist::Normal { mean_s, sd_s })
    }

    /// Lognormal with the given mean and standard deviation (of the durations, not of their logs).
    ///
    /// # Formula
    /// `sigma^2 = ln(1 + sd^2 / mean^2)`, `mu = ln(mean) - sigma^2 / 2`.
    pub fn lognormal(mean_s: f64, sd_s: f64) -> Result<Dist, DistError> {
        let mean_s = positive("lognormal mean", mean_s)?;
        let sd_s = non_negative("lognormal sd", sd_s)?;
        let sigma2 = (1.0 + (sd_s / mean_s).powi(2)).ln();
        bounded(Dist::LogNormal {
            mu: mean_s.ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        })
    }

    /// Lognormal fitted to a median and a 95th percentile, as read off an APM.
    ///
    /// # Formula
    /// `mu = ln(p50)`, `sigma = (ln(p95) - ln(p50)) / z_0.95`.
    pub fn lognormal_percentiles(p50_s: f64, p95_s: f64) -> Result<Dist, DistError> {
        let p50_s = positive("lognormal p50", p50_s)?;
        let p95_s = positive("lognormal p95", p95_s)?;
        if p95_s <= p50_s {
            return Err(DistError::PercentileOrder {
                p50: p50_s,
                p95: p95_s,
            });
        }
        bounded(Dist::LogNormal {
            mu: p50_s.ln(),
            sigma: (p95_s.ln() - p50_s.ln()) / Z95,
        })
    }

    /// Erlang-k with the given mean: the sum of `k` exponential phases.
    pub fn erlang(k: u32, mean_s: f64) -> Result<Dist, DistError> {
        let k = positive("erlang k", f64::from(k))?;
        let mean_s = positive("erlang mean", mean_s)?;
        bounded(Dist::Gamma {
            shape: k,
            scale_s: mean_s / k,
        })
    }

    pub fn gamma(shape: f64, scale_s: f64) -> Result<Dist, DistError> {
        bounded(Dist::Gamma {
            shape: positive("gamma shape", shape)?,
            scale_s: positive("gamma scale", scale_s)?,
        })
    }

    pub fn weibull(shape: f64, scale_s: f64) -> Result<Dist, DistError> {
        bounded(Dist::Weibull {
            shape: positive("weibull shape", shape)?,
            scale_s: positive("weibull scale", scale_s)?,
        })
    }

    pub fn pareto(scale_s: f64, shape: f64) -> Result<Dist, DistError> {
        let scale_s = positive("pareto scale", scale_s)?;
        let shape = positive("pareto shape", shape)?;
        if shape <= 1.0 {
            return Err(DistError::ParetoShape { shape });
        }
        bounded(Dist::Pareto { scale_s, shape })
    }

    pub fn empirical(samples_s: Vec<f64>) -> Result<Dist, DistError> {
        if samples_s.is_empty() {
            return Err(DistError::Empty { what: "empirical" });
        }
        for &s in &samples_s {
            non_negative("empirical sample", s)?;
        }
        if samples_s.len() >= MAX_DIST_PARTS {
            return Err(DistError::TooLarge);
        }
        bounded(Dist::Empirical {
            samples_s: samples_s.into(),
        })
    }

    pub fn mixture(components: Vec<Component>) -> Result<Dist, DistError> {
        if components.is_empty() {
            return Err(DistError::Empty { what: "mixture" });
        }
        let valid = components
            .iter()
            .all(|c| c.weight.is_finite() && c.weight >= 0.0);
        let total: f64 = components.iter().map(|c| c.weight).sum();
        if !(valid && total.is_finite() && total > 0.0) {
            return Err(DistError::MixtureWeights);
        }
        let d = Dist::Mixture {
            components: components.into(),
        };
        // The size first: the depth and the mean walk the mixture as the engine expands it.
        if d.parts_within(MAX_DIST_PARTS) > MAX_DIST_PARTS {
            return Err(DistError::TooLarge);
        }
        let depth = d.depth();
        if depth > MAX_NESTING {
            return Err(DistError::TooDeep { depth });
        }
        bounded(d)
    }

    /// The same distribution with every draw multiplied by `factor` (a faster machine: 0.7).
    ///
    /// # Formula
    /// Each parameter with the dimension of a duration is multiplied by `factor`; a lognormal's
    /// `mu` becomes `mu + ln(factor)`; the truncation of a normal at 0 is kept (it is
    /// invariant under scaling). The mean is multiplied by `factor`, the variance by its square.
    ///
    /// # Errors
    /// `factor` not finite and > 0, or a scaled mean beyond [`MAX_DURATION_S`].
    pub fn scaled(&self, factor: f64) -> Result<Dist, DistError> {
        let f = positive("service factor", factor)?;
        bounded(self.scaled_unchecked(f))
    }

    fn scaled_unchecked(&self, f: f64) -> Dist {
        match self {
            Dist::Constant { value_s } => Dist::Constant {
                value_s: value_s * f,
            },
            Dist::Exponential { mean_s } => Dist::Exponential { mean_s: mean_s * f },
            Dist::Uniform { low_s, high_s } => Dist::Uniform {
                low_s: low_s * f,
                high_s: high_s * f,
            },
            Dist::Normal { mean_s, sd_s } => Dist::Normal {
                mean_s: mean_s * f,
                sd_s: sd_s * f,
            },
            Dist::LogNormal { mu, sigma } => Dist::LogNormal {
                mu: mu + f.ln(),
                sigma: *sigma,
            },
            Dist::Gamma { shape, scale_s } => Dist::Gamma {
                shape: *shape,
                scale_s: scale_s * f,
            },
            Dist::Weibull { shape, scale_s } => Dist::Weibull {
                shape: *shape,
                scale_s: scale_s * f,
            },
            Dist::Pareto { scale_s, shape } => Dist::Pareto {
                scale_s: scale_s * f,
                shape: *shape,
            },
            Dist::Empirical { samples_s } => Dist::Empirical {
                samples_s: samples_s.iter().map(|s| s * f).collect::<Vec<_>>().into(),
            },
            Dist::Mixture { components } => Dist::Mixture {
                components: components
                    .iter()
                    .map(|c| Component {
                        weight: c.weight,
                        dist: c.dist.scaled_unchecked(f),
                    })
                    .collect::<Vec<_>>()
                    .into(),
            },
        }
    }

    /// Its parts as the engine expands it: 1 per distribution, plus an empirical's samples; a
    /// mixture counts a component's parts each time it is used. The count stops soon after it
    /// passes `limit`, so it stays cheap on a mixture built to be huge.
    pub fn parts_within(&self, limit: usize) -> usize {
        match self {
            Dist::Empirical { samples_s } => 1 + samples_s.len(),
            Dist::Mixture { components } => {
                let mut total = 1_usize;
                for c in components.iter() {
                    total = total.saturating_add(c.dist.parts_within(limit));
                    if total > limit {
                        break;
                    }
                }
                total
            }
            _ => 1,
        }
    }

    /// How deeply mixtures nest in it: 0 for a plain distribution, 1 for a mixture of plain
    /// ones.
    pub fn depth(&self) -> usize {
        match self {
            Dist::Mixture { components } => {
                1 + components.iter().map(|c| c.dist.depth()).max().unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// The function and parameters that made it, for a message: `gamma(shape 1e300, scale 1 s)`.
    fn describe_parameters(&self) -> String {
        match self {
            Dist::Gamma { shape, scale_s } => {
                format!(
                    "gamma(shape {}, scale {})",
                    num(*shape),
                    fmt_duration(*scale_s)
                )
            }
            Dist::Weibull { shape, scale_s } => {
                format!(
                    "weibull(shape {}, scale {})",
                    num(*shape),
                    fmt_duration(*scale_s)
                )
            }
            Dist::Pareto { scale_s, shape } => {
                format!(
                    "pareto(scale {}, shape {})",
                    fmt_duration(*scale_s),
                    num(*shape)
                )
            }
            Dist::LogNormal { mu, sigma } => {
                format!("lognormal(mu {}, sigma {})", num(*mu), num(*sigma))
            }
            other => other.describe(),
        }
    }

    /// The analytic mean, in seconds.
    ///
    /// # Formula
    /// Truncated normal: `mu + sd * phi(a) / (1 - Phi(a))` with `a = -mu / sd`;
    /// lognormal: `exp(mu + sigma^2 / 2)`; Weibull: `lambda * Gamma(1 + 1/k)`;
    /// Pareto: `alpha * x_m / (alpha - 1)`.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant { value_s } => *value_s,
            Dist::Exponential { mean_s } => *mean_s,
            Dist::Uniform { low_s, high_s } => (low_s + high_s) / 2.0,
            Dist::Normal { mean_s, sd_s } => truncated_normal_mean(*mean_s, *sd_s),
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale_s } => shape * scale_s,
            Dist::Weibull { shape, scale_s } => scale_s * gamma_fn(1.0 + 1.0 / shape),
            Dist::Pareto { scale_s, shape } => shape * scale_s / (shape - 1.0),
            Dist::Empirical { samples_s } => samples_s.iter().sum::<f64>() / samples_s.len() as f64,
            Dist::Mixture { components } => {
                let total: f64 = components.iter().map(|c| c.weight).sum();
                components
                    .iter()
                    .map(|c| c.weight * c.dist.mean())
                    .sum::<f64>()
                    / total
            }
        }
    }

    /// The analytic variance, in seconds squared; infinite for a Pareto tail with shape <= 2.
    pub fn variance(&self) -> f64 {
        match self {
            Dist::Constant { .. } => 0.0,
            Dist::Exponential { mean_s } => mean_s * mean_s,
            Dist::Uniform { low_s, high_s } => (high_s - low_s).powi(2) / 12.0,
            Dist::Normal { mean_s, sd_s } => truncated_normal_variance(*mean_s, *sd_s),
            Dist::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Dist::Gamma { shape, scale_s } => shape * scale_s * scale_s,
            Dist::Weibull { shape, scale_s } => {
                let g1 = gamma_fn(1.0 + 1.0 / shape);
                let g2 = gamma_fn(1.0 + 2.0 / shape);
                scale_s * scale_s * (g2 - g1 * g1)
            }
            Dist::Pareto { scale_s, shape } if *shape > 2.0 => {
                scale_s * scale_s * shape / ((shape - 1.0).powi(2) * (shape - 2.0))
            }
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Empirical { samples_s } => {
                let m = self.mean();
                samples_s.iter().map(|s| (s - m).powi(2)).sum::<f64>() / samples_s.len() as f64
            }
            Dist::Mixture { components } => {
                let total: f64 = components.iter().map(|c| c.weight).sum();
                let m = self.mean();
                let second: f64 = components
                    .iter()
                    .map(|c| c.weight * (c.dist.variance() + c.dist.mean().powi(2)))
                    .sum::<f64>()
                    / total;
                second - m * m
            }
        }
    }

    /// The squared coefficient of variation `Var / mean^2` (1 for exponential, 0 for constant).
    pub fn scv(&self) -> f64 {
        let m = self.mean();
        if m > 0.0 {
            self.variance() / (m * m)
        } else {
            0.0
        }
    }

    /// True when every draw is exactly the mean (used by analytic checks of M/D/1).
    pub fn is_deterministic(&self) -> bool {
        matches!(self, Dist::Constant { .. })
    }

    /// A short human description, e.g. `exp(mean 5 ms)`.
    pub fn describe(&self) -> String {
        use crate::format::fmt_duration as d;
        match self {
            Dist::Constant { value_s } => format!("constant {}", d(*value_s)),
            Dist::Exponential { mean_s } => format!("exponential(mean {})", d(*mean_s)),
            Dist::Uniform { low_s, high_s } => format!("uniform({}, {})", d(*low_s), d(*high_s)),
            Dist::Normal { mean_s, sd_s } => format!("normal({}, sd {})", d(*mean_s), d(*sd_s)),
            Dist::LogNormal { .. } => format!("lognormal(mean {})", d(self.mean())),
            Dist::Gamma { shape, .. } => format!("gamma(shape {shape}, mean {})", d(self.mean())),
            Dist::Weibull { shape, .. } => {
                format!("weibull(shape {shape}, mean {})", d(self.mean()))
            }
            Dist::Pareto { shape, .. } => format!("pareto(shape {shape}, mean {})", d(self.mean())),
            Dist::Empirical { samples_s } => {
                format!(
                    "empirical({} samples, mean {})",
                    samples_s.len(),
                    d(self.mean())
                )
            }
            Dist::Mixture { components } => {
                format!(
                    "mixture({} parts, mean {})",
                    components.len(),
                    d(self.mean())
                )
            }
        }
    }
}

fn std_normal() -> StdNormal {
    StdNormal::new(0.0, 1.0).expect("the standard normal is valid")
}

/// Mean of `N(mu, sd)` conditioned on being >= 0.
fn truncated_normal_mean(mu: f64, sd: f64) -> f64 {
    if sd == 0.0 {
        return mu;
    }
    let a = -mu / sd;
    let n = std_normal();
    let phi = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    mu + sd * phi / (1.0 - n.cdf(a))
}

/// Variance of `N(mu, sd)` conditioned on being >= 0.
fn truncated_normal_variance(mu: f64, sd: f64) -> f64 {
    if sd == 0.0 {
        return 0.0;
    }
    let a = -mu / sd;
    let n = std_normal();
    let phi = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let lambda = phi / (1.0 - n.cdf(a));
    sd * sd * (1.0 + a * lambda - lambda * lambda)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-9;

    #[test]
    fn lognormal_from_mean_and_sd_keeps_the_mean_and_the_variance() {
        let d = Dist::lognormal(0.02, 0.01).unwrap();
        assert!((d.mean() - 0.02).abs() < TOL);
        assert!((d.variance() - 0.0001).abs() < TOL);
    }

    #[test]
    fn lognormal_from_percentiles_has_that_median() {
        let d = Dist::lognormal_percentiles(0.006, 0.020).unwrap();
        let Dist::LogNormal { mu, sigma } = d else {
            panic!("not a lognormal")
        };
        assert!((mu.exp() - 0.006).abs() < TOL);
        assert!(((mu + sigma * Z95).exp() - 0.020).abs() < TOL);
    }

    #[test]
    fn percentile_lognormal_refuses_a_p95_below_the_p50() {
        assert!(matches!(
            Dist::lognormal_percentiles(0.02, 0.01),
            Err(DistError::PercentileOrder { .. })
        ));
    }

    #[test]
    fn negative_and_nan_parameters_are_refused() {
        assert!(Dist::exponential(-1.0).is_err());
        assert!(Dist::exponential(f64::NAN).is_err());
        assert!(Dist::constant(-0.001).is_err());
        assert!(Dist::uniform(2.0, 1.0).is_err());
        assert!(Dist::pareto(1.0, 0.9).is_err());
        assert!(Dist::empirical(vec![]).is_err());
        assert!(Dist::normal(-1.0, 1.0).is_err());
    }

    #[test]
    fn means_beyond_the_longest_duration_are_refused() {
        for d in [
            Dist::gamma(1e300, 1.0),
            Dist::weibull(0.001, 1.0),
            Dist::pareto(1.0, 1.0 + 1e-12),
            Dist::lognormal_percentiles(0.001, 1e9),
            Dist::constant(1e10),
        ] {
            assert!(matches!(d, Err(DistError::MeanTooLong { .. })), "{d:?}");
        }
        assert!(Dist::constant(1e9).is_ok());
        let err = Dist::gamma(1e300, 1.0).unwrap_err().to_string();
        assert!(
            err.starts_with("gamma(shape 1e300, scale 1 s) has a mean of 1.00e300 s"),
            "{err}"
        );
    }

    #[test]
    fn mixture_weights_must_have_a_finite_sum() {
        let one = |weight| Component {
            weight,
            dist: Dist::constant(0.01).unwrap(),
        };
        assert_eq!(
            Dist::mixture(vec![one(1e308), one(1e308)]),
            Err(DistError::MixtureWeights)
        );
    }

    #[test]
    fn a_mixture_whose_shared_components_expand_beyond_the_limit_is_refused() {
        let mut d = Dist::empirical(vec![0.001; 1000]).unwrap();
        let mut refused = None;
        for level in 0..MAX_NESTING {
            let pair = vec![
                Component {
                    weight: 1.0,
                    dist: d.clone(),
                },
                Component {
                    weight: 1.0,
                    dist: d.clone(),
                },
            ];
            match Dist::mixture(pair) {
                Ok(next) => d = next,
                Err(e) => {
                    refused = Some((level, e));
                    break;
                }
            }
        }
        let (level, e) = refused.expect("doubling 32 times passes the limit");
        assert_eq!(e, DistError::TooLarge);
        assert!(level < 15, "refused at level {level}");
    }

    #[test]
    fn mixtures_of_mixtures_stop_at_the_nesting_limit() {
        let mut d = Dist::constant(0.01).unwrap();
        for _ in 0..MAX_NESTING {
            d = Dist::mixture(vec![Component {
                weight: 1.0,
                dist: d,
            }])
            .unwrap();
        }
        let deeper = Dist::mixture(vec![Component {
            weight: 1.0,
            dist: d,
        }]);
        assert_eq!(
            deeper,
            Err(DistError::TooDeep {
                depth: MAX_NESTING + 1
            })
        );
    }

    #[test]
    fn truncated_normal_mean_exceeds_the_untruncated_mean() {
        let d = Dist::normal(1.0, 1.0).unwrap();
        // E[X | X >= 0] for N(1, 1) = 1 + phi(1) / Phi(1) = 1.287600...
        assert!((d.mean() - 1.287_599_58).abs() < 1e-6);
    }

    #[test]
    fn mixture_mean_is_the_weighted_mean() {
        let fast = Dist::constant(0.01).unwrap();
        let slow = Dist::constant(0.5).unwrap();
        let d = Dist::mixture(vec![
            Component {
                weight: 9.0,
                dist: fast,
            },
            Component {
                weight: 1.0,
                dist: slow,
            },
        ])
        .unwrap();
        assert!((d.mean() - 0.059).abs() < TOL);
    }

    #[test]
    fn scaling_multiplies_the_mean_by_the_factor_and_the_variance_by_its_square() {
        let mixture = Dist::mixture(vec![
            Component {
                weight: 3.0,
                dist: Dist::exponential(0.01).unwrap(),
            },
            Component {
                weight: 1.0,
                dist: Dist::lognormal_percentiles(0.02, 0.08).unwrap(),
            },
        ]);
        let all = [
            Dist::constant(0.005),
            Dist::exponential(0.005),
            Dist::uniform(0.001, 0.003),
            Dist::normal(0.01, 0.02),
            Dist::lognormal_percentiles(0.003, 0.012),
            Dist::gamma(2.5, 0.004),
            Dist::weibull(1.5, 0.02),
            Dist::pareto(0.01, 2.5),
            Dist::empirical(vec![0.001, 0.002, 0.009]),
            mixture,
        ];
        for d in all {
            let d = d.unwrap();
            for f in [0.7, 2.0] {
                let s = d.scaled(f).unwrap();
                let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
                assert!(rel(s.mean(), f * d.mean()) < 1e-12, "{d:?} x {f}");
                assert!(
                    rel(s.variance(), f * f * d.variance()) < 1e-9,
                    "{d:?} x {f}"
                );
            }
        }
        assert!(Dist::constant(0.01).unwrap().scaled(0.0).is_err());
        assert!(Dist::constant(0.01).unwrap().scaled(f64::NAN).is_err());
        assert!(matches!(
            Dist::constant(1e9).unwrap().scaled(2.0),
            Err(DistError::MeanTooLong { .. })
        ));
    }

    #[test]
    fn weibull_with_shape_one_is_exponential() {
        let d = Dist::weibull(1.0, 2.0).unwrap();
        assert!((d.mean() - 2.0).abs() < 1e-12);
        assert!((d.variance() - 4.0).abs() < 1e-9);
    }
}
