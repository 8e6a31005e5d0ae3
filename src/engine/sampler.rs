//! Fast samplers compiled from [`Dist`]: an enum (no dynamic dispatch), parameters precomputed.

use super::rng::Rng;
use crate::model::Dist;
use rand::Rng as _;
use rand_distr::{Distribution, Exp1, Gamma, Pareto, StandardNormal, Weibull};

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A distribution ready to draw from.
#[derive(Debug, Clone)]
pub enum Sampler {
    Constant(f64),
    /// Exponential with this mean (ziggurat `Exp1` scaled).
    Exp(f64),
    Uniform {
        low: f64,
        width: f64,
    },
    /// Normal truncated at zero by rejection (the model guarantees mean > 0, so >= 50 % accept).
    Normal {
        mean: f64,
        sd: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma(Gamma<f64>),
    Weibull(Weibull<f64>),
    Pareto(Pareto<f64>),
    Empirical(Box<[f64]>),
    /// Components with cumulative probabilities (the last is 1).
    Mixture(Box<[(f64, Sampler)]>),
}

impl Sampler {
    /// Compiles a validated distribution. The model's constructors already refused invalid
    /// parameters, so the rand_distr constructors cannot fail here.
    pub fn new(d: &Dist) -> Sampler {
        match d {
            Dist::Constant { value_s } => Sampler::Constant(*value_s),
            Dist::Exponential { mean_s } => Sampler::Exp(*mean_s),
            Dist::Uniform { low_s, high_s } => Sampler::Uniform {
                low: *low_s,
                width: high_s - low_s,
            },
            Dist::Normal { mean_s, sd_s } => Sampler::Normal {
                mean: *mean_s,
                sd: *sd_s,
            },
            Dist::LogNormal { mu, sigma } => Sampler::LogNormal {
                mu: *mu,
                sigma: *sigma,
            },
            Dist::Gamma { shape, scale_s } => {
                Sampler::Gamma(Gamma::new(*shape, *scale_s).expect("validated gamma"))
            }
            Dist::Weibull { shape, scale_s } => {
                Sampler::Weibull(Weibull::new(*scale_s, *shape).expect("validated weibull"))
            }
            Dist::Pareto { scale_s, shape } => {
                Sampler::Pareto(Pareto::new(*scale_s, *shape).expect("validated pareto"))
            }
            Dist::Empirical { samples_s } => {
                Sampler::Empirical(samples_s.clone().into_boxed_slice())
            }
            Dist::Mixture { components } => {
                let total: f64 = components.iter().map(|c| c.weight).sum();
                let mut acc = 0.0;
                let mut parts: Vec<(f64, Sampler)> = components
                    .iter()
                    .map(|c| {
                        acc += c.weight / total;
                        (acc, Sampler::new(&c.dist))
                    })
                    .collect();
                if let Some(last) = parts.last_mut() {
                    last.0 = 1.0;
                }
                Sampler::Mixture(parts.into_boxed_slice())
            }
        }
    }

    /// Draws one duration, seconds.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match self {
            Sampler::Exp(mean) => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Sampler::Constant(v) => *v,
            Sampler::Uniform { low, width } => low + width * unit(rng),
            Sampler::Normal { mean, sd } => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = mean + sd * z;
                if x >= 0.0 {
                    break x;
                }
            },
            Sampler::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Sampler::Gamma(g) => g.sample(rng),
            Sampler::Weibull(w) => w.sample(rng),
            Sampler::Pareto(p) => p.sample(rng),
            Sampler::Empirical(v) => v[(unit(rng) * v.len() as f64) as usize],
            Sampler::Mixture(parts) => {
                let u = unit(rng);
                let i = parts
                    .iter()
                    .position(|(c, _)| u < *c)
                    .unwrap_or(parts.len() - 1);
                parts[i].1.sample(rng)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use crate::model::Component;

    /// Draws enough samples that the sample mean lies within 5 standard errors of the analytic
    /// mean (a false alarm about once in 3.5 million runs).
    fn assert_mean_matches(d: Dist) {
        const N: usize = 200_000;
        let s = Sampler::new(&d);
        let mut rng = stream(1, 0, 99);
        let xs: Vec<f64> = (0..N).map(|_| s.sample(&mut rng)).collect();
        assert!(
            xs.iter().all(|x| *x >= 0.0 && x.is_finite()),
            "{d:?} drew a negative value"
        );
        let mean = xs.iter().sum::<f64>() / N as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (N - 1) as f64;
        let se = (var / N as f64).sqrt().max(1e-12);
        assert!(
            (mean - d.mean()).abs() < 5.0 * se,
            "{d:?}: sample mean {mean} vs analytic {} (se {se})",
            d.mean()
        );
    }

    #[test]
    fn every_distribution_samples_its_analytic_mean() {
        assert_mean_matches(Dist::constant(0.3).unwrap());
        assert_mean_matches(Dist::exponential(0.005).unwrap());
        assert_mean_matches(Dist::uniform(1.0, 3.0).unwrap());
        assert_mean_matches(Dist::normal(0.01, 0.01).unwrap());
        assert_mean_matches(Dist::lognormal(0.02, 0.03).unwrap());
        assert_mean_matches(Dist::lognormal_percentiles(0.006, 0.02).unwrap());
        assert_mean_matches(Dist::erlang(3, 0.01).unwrap());
        assert_mean_matches(Dist::gamma(0.5, 0.01).unwrap());
        assert_mean_matches(Dist::weibull(1.5, 0.01).unwrap());
        assert_mean_matches(Dist::pareto(0.001, 3.5).unwrap());
        assert_mean_matches(Dist::empirical(vec![0.001, 0.002, 0.010]).unwrap());
        let mix = Dist::mixture(vec![
            Component {
                weight: 0.9,
                dist: Dist::exponential(0.005).unwrap(),
            },
            Component {
                weight: 0.1,
                dist: Dist::constant(0.2).unwrap(),
            },
        ]);
        assert_mean_matches(mix.unwrap());
    }
}
