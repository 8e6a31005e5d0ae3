//! Service-level objectives judged against a scenario's estimates.
//!
//! A verdict is decided by the 95 % confidence interval, never by the point estimate alone: an
//! objective passes when the whole interval meets its target, fails when the whole interval
//! misses it, and is inconclusive otherwise (the interval straddles the target, its upper end
//! lies beyond the largest value observed, requests still waiting at the end of the runs leave
//! it unbounded, or a single replication gives no interval). Studies that decide breaking
//! points and capacities from verdicts build on this: a pass is shown, not guessed.

use crate::format::{fmt_ms, fmt_pct, value as fmt_value};
use crate::model::{Model, Slo, Target};
use crate::stats::ci::Upper;
use crate::stats::{Aggregate, Estimate, Metric, RequestMetric, Scope, Unit};
use serde::{Deserialize, Serialize};

/// What the interval says of an objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole interval meets the target.
    Pass,
    /// The whole interval misses it.
    Fail,
    /// The data cannot tell (see [`SloCheck::reason`]).
    Inconclusive,
}

impl Verdict {
    /// The k6-style mark: `✓`, `✗`, or `?` for inconclusive.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Pass => "✓",
            Verdict::Fail => "✗",
            Verdict::Inconclusive => "?",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// One objective's verdict in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloCheck {
    /// The endpoint, or `None` for the whole API.
    pub endpoint: Option<String>,
    /// k6-style label, e.g. `p(95) < 200ms`.
    pub label: String,
    /// The figure it is judged on (`latency_p95`, `error_rate`, `availability`, `apdex`).
    pub metric: Metric,
    /// The measured figure, in `unit`.
    pub value: Estimate,
    pub unit: Unit,
    pub threshold: f64,
    /// The target is an upper limit (`<`) rather than a lower one (`>=`).
    pub below: bool,
    pub verdict: Verdict,
    /// Why an inconclusive verdict could not be decided, or what a failing one rests on.
    pub reason: Option<String>,
}

impl SloCheck {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// The objective with its endpoint, as reports name it: `GET /x: p(95) < 200ms`.
    pub fn objective(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("{e}: {}", self.label),
            None => self.label.clone(),
        }
    }
}

/// Judges every target of every objective of `model` against `agg`.
pub fn evaluate(model: &Model, agg: &Aggregate) -> Vec<SloCheck> {
    model
        .slos
        .iter()
        .flat_map(|slo| {
            slo.targets
                .iter()
                .filter_map(move |t| judge(model, slo, t, agg))
        })
        .collect()
}

/// k6's name of a percentile (`p(95)`, `p(99.9)`).
pub fn percentile_label(percentile: f64) -> String {
    format!("p({percentile})")
}

/// What one target compares: label, metric, figure, unit, threshold, and whether it is an
/// upper limit.
type Compared = (String, Metric, Estimate, Unit, f64, bool);

/// The k6-style label of a target: `p(95) < 200ms`, `error_rate < 0.1%`,
/// `availability >= 99.9%`, `apdex >= 0.95`.
pub fn label(t: &Target) -> String {
    match *t {
        Target::Latency { percentile, max_s } => {
            format!("{} < {}", percentile_label(percentile), fmt_ms(max_s * 1e3))
        }
        Target::ErrorRate { max } => format!("error_rate < {}", fmt_pct(max)),
        Target::Availability { min } => format!("availability >= {}", fmt_pct(min)),
        Target::Apdex { min } => format!("apdex >= {min}"),
    }
}

fn compared(slo: &Slo, t: &Target, agg: &Aggregate) -> Option<Compared> {
    let scope = match &slo.endpoint {
        Some(e) => Scope::Endpoint(e.clone()),
        None => Scope::Global,
    };
    let find = |metric: Metric| agg.schema.find(&scope, metric).map(|i| agg.estimate(i));
    let label = label(t);
    let error_rate = Metric::Request(RequestMetric::ErrorRate);
    Some(match *t {
        Target::Latency { percentile, max_s } => {
            let metric = Metric::latency(percentile);
            (label, metric, find(metric)?, Unit::Ms, max_s * 1e3, true)
        }
        Target::ErrorRate { max } => (label, error_rate, find(error_rate)?, Unit::Ratio, max, true),
        Target::Availability { min } => {
            let e = find(error_rate)?;
            let v = Estimate::new(1.0 - e.mean, 1.0 - e.ci_high, 1.0 - e.ci_low, e.n);
            (label, Metric::Availability, v, Unit::Ratio, min, false)
        }
        Target::Apdex { min } => {
            let apdex = Metric::Request(RequestMetric::Apdex);
            (label, apdex, find(apdex)?, Unit::Score, min, false)
        }
    })
}

fn judge(model: &Model, slo: &Slo, t: &Target, agg: &Aggregate) -> Option<SloCheck> {
    let (label, metric, value, unit, threshold, below) = compared(slo, t, agg)?;
    let (verdict, mut reason) = decide(&value, threshold, below, unit);
    let slot = match &slo.endpoint {
        None => Some(0),
        Some(e) => model
            .endpoints
            .iter()
            .position(|x| &x.name == e)
            .map(|i| i + 1),
    };
    let unfinished = slot
        .and_then(|k| agg.pooled.counts.get(k))
        .map_or(0, |c| c.unfinished.count());
    if verdict == Verdict::Inconclusive && unfinished > 0 {
        let worst = if below { value.ci_high } else { value.ci_low };
        let as_what = match t {
            Target::Latency { .. } => None,
            Target::Apdex { .. } => Some("frustrated"),
            _ => Some("errors"),
        };
        if let Some(as_what) = as_what {
            reason = Some(format!(
                "counted as {as_what}, the {unfinished} request(s) with no response when the runs ended would make it {}",
                fmt_value(worst, unit)
            ));
        }
    }
    Some(SloCheck {
        endpoint: slo.endpoint.clone(),
        label,
        metric,
        value,
        unit,
        threshold,
        below,
        verdict,
        reason,
    })
}

/// The verdict of an interval against a target, and why when it is not a plain pass.
///
/// An upper-limit target (`p(95) < 200ms`) passes when the interval's upper limit is known and
/// below it, fails when the lower limit is at or above it; a lower-limit target
/// (`availability >= 99.9%`) the other way round.
pub fn decide(e: &Estimate, threshold: f64, below: bool, unit: Unit) -> (Verdict, Option<String>) {
    if !e.mean.is_finite() {
        return (Verdict::Fail, Some("no response was measured".into()));
    }
    if e.n < 2 {
        let why = "a single replication gives no interval: run at least 2 (better 5 or more)";
        return (Verdict::Inconclusive, Some(why.into()));
    }
    let known_high = e.upper == Upper::Limit;
    let (pass, fail) = if below {
        (known_high && e.ci_high < threshold, e.ci_low >= threshold)
    } else {
        (e.ci_low >= threshold, known_high && e.ci_high < threshold)
    };
    if pass {
        return (Verdict::Pass, None);
    }
    let shown = |x: f64| fmt_value(x, unit);
    if fail {
        let why = match e.upper {
            Upper::Unbounded => Some(format!(
                "requests still waiting when the runs ended put it above {}",
                shown(e.mean)
            )),
            _ => None,
        };
        return (Verdict::Fail, why);
    }
    let why = match e.upper {
        Upper::Unbounded => format!(
            "requests still waiting when the runs ended leave it unknown above {}",
            shown(e.mean)
        ),
        Upper::AtLeastMax => format!(
            "the interval's upper end lies beyond the largest value observed ({}): more replications or longer runs decide it",
            shown(e.ci_high)
        ),
        Upper::Limit => format!(
            "the 95 % interval [{}, {}] contains the target: more replications (a smaller --precision) decide it",
            shown(e.ci_low),
            shown(e.ci_high)
        ),
    };
    (Verdict::Inconclusive, Some(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_labelled_like_k6() {
        assert_eq!(percentile_label(99.9), "p(99.9)");
    }
}
