//! What breaks, as the simulation measured it (not the analytic guess of `capsim check`): the
//! busiest resource and the held resources it saturates, each stage of a load test on its own,
//! and the first objective to fail.
//!
//! Resources are *active* (they do work: cores, database nodes, a cache, a station, an
//! external dependency with a limit, background workers, the proxy's own workers) or *held*
//! (sync workers, pool connections, proxy connections: held while the request waits on
//! something else). The bottleneck is the active resource with the highest utilization; a held
//! resource near 100 % is its symptom, reported beside it.

use super::slo::{SloCheck, Verdict};
use crate::engine::{Program, ResKind, UNLIMITED};
use crate::model::{Scenario, Slo, Target};
use crate::stats::{Aggregate, Metric, ResourceMetric, Scope, SpanSummary, Unit};
use serde::{Deserialize, Serialize};

/// A held resource busier than this is reported as saturated beside the bottleneck.
pub const HELD_SATURATED: f64 = 0.95;

/// The measured bottleneck of a scenario (or of one of its stages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    /// The busiest active resource and its utilization.
    pub resource: String,
    pub utilization: f64,
    /// Its mean queue and the 95th percentile of the wait for it (ms), over the whole run.
    pub queue_mean: Option<f64>,
    pub wait_p95_ms: Option<f64>,
    /// Held resources (workers, pools, connections) busy at least [`HELD_SATURATED`].
    pub saturated_held: Vec<(String, f64)>,
}

/// The first objective to fail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstFailure {
    /// Its label, with the endpoint (`GET /x: p(95) < 200ms`).
    pub objective: String,
    /// Where it first failed: the stage (1-based) of a load test, or `None` over the whole run.
    pub stage: Option<usize>,
    /// Its figure there, in the objective's unit, and the target.
    pub value: f64,
    pub threshold: f64,
    pub unit: Unit,
}

/// One stage of a load test, measured on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageResult {
    /// 1-based.
    pub index: usize,
    /// `ramp to 500`, `hold 500`.
    pub label: String,
    #[serde(flatten)]
    pub span: SpanSummary,
    pub bottleneck: Option<Bottleneck>,
    /// The objectives its own figures break.
    pub broken: Vec<String>,
}

fn is_active(kind: ResKind) -> bool {
    !matches!(
        kind,
        ResKind::AppWorkers | ResKind::Pool | ResKind::ProxyConnections
    )
}

/// The busiest active resource among `utilization` (per program resource, `None` when
/// unlimited), with the saturated held ones.
fn busiest(prog: &Program, utilization: &[Option<f64>]) -> Option<Bottleneck> {
    let pairs = || {
        prog.resources
            .iter()
            .zip(utilization)
            .filter_map(|(r, u)| u.filter(|u| u.is_finite()).map(|u| (r, u)))
    };
    let (top, u) = pairs()
        .filter(|(r, _)| is_active(r.kind))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(Bottleneck {
        resource: top.name.clone(),
        utilization: u,
        queue_mean: None,
        wait_p95_ms: None,
        saturated_held: pairs()
            .filter(|(r, u)| !is_active(r.kind) && *u >= HELD_SATURATED)
            .map(|(r, u)| (r.name.clone(), u))
            .collect(),
    })
}

/// The whole run's bottleneck, from its figures.
pub fn bottleneck(prog: &Program, agg: &Aggregate) -> Option<Bottleneck> {
    let figure = |name: &str, metric: ResourceMetric| {
        agg.schema
            .find(&Scope::Resource(name.to_string()), Metric::Resource(metric))
            .map(|i| agg.estimate(i).mean)
            .filter(|x| x.is_finite())
    };
    let utilization: Vec<Option<f64>> = prog
        .resources
        .iter()
        .map(|r| {
            if r.units == UNLIMITED {
                None
            } else {
                figure(&r.name, ResourceMetric::Utilization)
            }
        })
        .collect();
    let mut b = busiest(prog, &utilization)?;
    b.queue_mean = figure(&b.resource, ResourceMetric::QueueMean);
    b.wait_p95_ms = figure(&b.resource, ResourceMetric::WaitP95);
    Some(b)
}

/// The stages of scenario `s`, each with its bottleneck and the objectives it breaks.
pub fn stages(prog: &Program, s: &Scenario, slos: &[Slo], agg: &Aggregate) -> Vec<StageResult> {
    let mut level = s.start_level.unwrap_or(0.0);
    agg.stages()
        .into_iter()
        .enumerate()
        .map(|(k, span)| {
            let label = match s.stages.get(k) {
                Some(st) if st.target == level => format!("hold {}", level_text(level)),
                Some(st) => format!("ramp to {}", level_text(st.target)),
                None => "after the last stage".to_string(),
            };
            level = s.stages.get(k).map_or(level, |st| st.target);
            let broken = slos
                .iter()
                .flat_map(|slo| slo.targets.iter().map(move |t| (slo, t)))
                .filter_map(|(slo, t)| breach(prog, agg, k, &span, slo, t))
                .map(|(label, _, _, _)| label)
                .collect();
            StageResult {
                index: k + 1,
                label,
                bottleneck: busiest(prog, &span.utilization),
                span,
                broken,
            }
        })
        .collect()
}

fn level_text(x: f64) -> String {
    crate::format::sig3(x)
}

/// The label, figure, target and unit of objective target `t` when stage `k`'s own figures
/// break it. Latency targets are read from the stage's pooled histogram, rate targets from its
/// counts; Apdex is not judged per stage.
fn breach(
    prog: &Program,
    agg: &Aggregate,
    k: usize,
    span: &SpanSummary,
    slo: &Slo,
    t: &Target,
) -> Option<(String, f64, f64, Unit)> {
    let slot = match &slo.endpoint {
        None => None,
        Some(name) => {
            let ep = prog.endpoints.iter().position(|e| &e.name == name)?;
            match prog.series_slot[ep] {
                crate::engine::program::UNTRACKED => return None,
                s => Some(s as usize),
            }
        }
    };
    let error_rate = match slot {
        None => Some(span.error_rate),
        Some(i) => span.endpoint_error_rate.get(i).copied().flatten(),
    };
    let (value, threshold, unit, broken) = match *t {
        Target::Latency { percentile, max_s } => {
            let v = agg.stage_quantile(k, slot, percentile / 100.0)?;
            (v, max_s * 1e3, Unit::Ms, v >= max_s * 1e3)
        }
        Target::ErrorRate { max } => {
            let v = error_rate?;
            (v, max, Unit::Ratio, v >= max)
        }
        Target::Availability { min } => {
            let v = 1.0 - error_rate?;
            (v, min, Unit::Ratio, v < min)
        }
        Target::Apdex { .. } => return None,
    };
    broken.then(|| (label(slo, t), value, threshold, unit))
}

/// An objective's label with its endpoint, as the summary prints it.
fn label(slo: &Slo, t: &Target) -> String {
    let check = super::slo::label(t);
    match &slo.endpoint {
        Some(e) => format!("{e}: {check}"),
        None => check,
    }
}

/// The first objective to fail: in the earliest stage whose own figures break one, else the
/// failing objective furthest beyond its target over the whole run.
pub fn first_failure(
    prog: &Program,
    agg: &Aggregate,
    slos: &[Slo],
    checks: &[SloCheck],
    stages: &[StageResult],
) -> Option<FirstFailure> {
    for st in stages {
        let k = st.index - 1;
        for slo in slos {
            for t in &slo.targets {
                if let Some((objective, value, threshold, unit)) =
                    breach(prog, agg, k, &st.span, slo, t)
                {
                    return Some(FirstFailure {
                        objective,
                        stage: Some(st.index),
                        value,
                        threshold,
                        unit,
                    });
                }
            }
        }
    }
    let excess = |c: &SloCheck| {
        if c.below {
            c.value.mean / c.threshold
        } else {
            c.threshold / c.value.mean
        }
    };
    let worst = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .max_by(|a, b| excess(a).total_cmp(&excess(b)))?;
    Some(FirstFailure {
        objective: worst.objective(),
        stage: None,
        value: worst.value.mean,
        threshold: worst.threshold,
        unit: worst.unit,
    })
}
