//! Service-level objectives judged against a scenario's estimates.
//!
//! A target is met when the point estimate meets it (as k6 judges a threshold); when the 95 %
//! confidence interval straddles the threshold the verdict is also marked uncertain, so a
//! "pass by a hair" is not mistaken for a margin.

use crate::model::{Slo, Target};
use crate::stats::figures::latency_metric;
use crate::stats::{Aggregate, Estimate, Scope};
use serde::{Deserialize, Serialize};

/// One objective's verdict in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloCheck {
    /// The endpoint, or `None` for the whole API.
    pub endpoint: Option<String>,
    /// k6-style label, e.g. `p(95) < 200 ms`.
    pub label: String,
    /// The measured figure, in `unit`.
    pub value: Estimate,
    pub unit: String,
    pub threshold: f64,
    pub met: bool,
    /// The confidence interval contains the threshold.
    pub uncertain: bool,
}

/// Judges every target of every objective against `agg`.
pub fn evaluate(slos: &[Slo], agg: &Aggregate) -> Vec<SloCheck> {
    slos.iter()
        .flat_map(|slo| slo.targets.iter().filter_map(move |t| judge(slo, t, agg)))
        .collect()
}

/// k6's name of a percentile (`p(95)`, `p(99.9)`).
pub fn percentile_label(percentile: f64) -> String {
    format!("p({percentile})")
}

fn judge(slo: &Slo, t: &Target, agg: &Aggregate) -> Option<SloCheck> {
    let scope = match &slo.endpoint {
        Some(e) => Scope::Endpoint(e.clone()),
        None => Scope::Global,
    };
    let find = |metric: &str| agg.schema.find(&scope, metric).map(|i| agg.estimate(i));
    let (label, value, unit, threshold, below) = match *t {
        Target::Latency { percentile, max_s } => {
            let v = find(&latency_metric(percentile))?;
            let label = format!("{} < {}", percentile_label(percentile), fmt_ms(max_s * 1e3));
            (label, v, "ms", max_s * 1e3, true)
        }
        Target::ErrorRate { max } => (
            format!("error_rate < {}", fmt_pct(max)),
            find("error_rate")?,
            "ratio",
            max,
            true,
        ),
        Target::Availability { min } => {
            let e = find("error_rate")?;
            let v = Estimate {
                mean: 1.0 - e.mean,
                ci_low: 1.0 - e.ci_high,
                ci_high: 1.0 - e.ci_low,
                n: e.n,
            };
            (
                format!("availability >= {}", fmt_pct(min)),
                v,
                "ratio",
                min,
                false,
            )
        }
        Target::Apdex { min } => (
            format!("apdex >= {min}"),
            find("apdex")?,
            "score",
            min,
            false,
        ),
    };
    let met = if below {
        value.mean < threshold
    } else {
        value.mean >= threshold
    };
    let met = met && value.mean.is_finite();
    let uncertain = value.ci_low <= threshold && threshold <= value.ci_high && value.n > 1;
    Some(SloCheck {
        endpoint: slo.endpoint.clone(),
        label,
        value,
        unit: unit.to_string(),
        threshold,
        met,
        uncertain,
    })
}

/// A duration in ms, readable (`200ms`, `1.5s`).
pub fn fmt_ms(ms: f64) -> String {
    crate::model::units::fmt_duration(ms / 1e3).replace(' ', "")
}

/// A ratio as a percentage without trailing zeros (`0.1%`).
pub fn fmt_pct(r: f64) -> String {
    let s = format!("{:.4}", r * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_schema() {
        assert_eq!(latency_metric(95.0), "latency_p95");
        assert_eq!(latency_metric(99.9), "latency_p99_9");
        assert_eq!(percentile_label(99.9), "p(99.9)");
    }

    #[test]
    fn thresholds_read_like_k6() {
        assert_eq!(fmt_ms(200.0), "200ms");
        assert_eq!(fmt_pct(0.001), "0.1%");
        assert_eq!(fmt_pct(0.999), "99.9%");
    }
}
