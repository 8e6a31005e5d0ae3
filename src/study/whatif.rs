//! What-ifs: each variant of the model against the baseline, paired by common random numbers,
//! at today's peak and at the +12-month peak of each hypothesis.
//!
//! The two cells compared run the same plan and seeds, and the same number of replications
//! (the one that needed more to settle sets it for both), so their differences are paired
//! replication by replication (see [`super::paired`]).

use super::cell::{CellPlan, Holds, Subject};
use super::cells::Cells;
use super::paired::{Difference, paired};
use crate::engine::{SimError, UNLIMITED};
use crate::model::Effort;
use crate::stats::{Metric, RequestMetric, ResourceMetric, Scope};
use serde::{Deserialize, Serialize};

/// One figure before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureChange {
    pub scope: Scope,
    pub metric: Metric,
    pub change: Difference,
}

/// A variant at one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfAt {
    /// `today`, or `+12 months (optimistic)`.
    pub load: String,
    pub level: f64,
    pub holds_before: Holds,
    pub holds_after: Holds,
    pub figures: Vec<FigureChange>,
}

/// One variant's effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    pub variant: String,
    pub effort: Option<Effort>,
    pub rationale: Option<String>,
    pub at: Vec<WhatIfAt>,
    /// Under each growth hypothesis, the first month the baseline breaks and the first the
    /// variant does (see [`super::breach`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breach_months: Vec<BreachShift>,
}

/// Whether a variant moves the month growth breaks the configuration, under one hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreachShift {
    pub hypothesis: String,
    pub horizon_months: u32,
    /// The baseline's first month failing an objective; `None`: it holds through the horizon.
    pub before: Option<u32>,
    /// The variant's.
    pub after: Option<u32>,
    /// What fails first, in the baseline and with the variant.
    pub before_objective: Option<String>,
    pub after_objective: Option<String>,
    /// Months before the breach (or through the horizon) left undecided.
    pub before_undecided: Vec<u32>,
    pub after_undecided: Vec<u32>,
    /// The variant's months the search looked at, in its order (see
    /// [`super::breach::FirstBreach::months_simulated`]).
    pub after_months_simulated: Vec<u32>,
}

impl BreachShift {
    /// Months the variant gains (positive: the breach comes later), counting "beyond the
    /// horizon" as the month after it; `None` when neither breaks.
    pub fn months_gained(&self) -> Option<i64> {
        let beyond = i64::from(self.horizon_months) + 1;
        let m = |x: Option<u32>| x.map_or(beyond, i64::from);
        (self.before.is_some() || self.after.is_some()).then(|| m(self.after) - m(self.before))
    }
}

impl WhatIf {
    /// The relative change of the global p95 at the first load (today): what variants are
    /// ranked by.
    pub fn p95_change(&self) -> f64 {
        self.at
            .first()
            .and_then(|a| {
                a.figures
                    .iter()
                    .find(|f| f.scope == Scope::Global && f.metric == Metric::latency(95.0))
            })
            .map_or(f64::NAN, |f| f.change.relative.mean)
    }
}

/// The figures a what-if compares: p95, p99 and error rate of all endpoints and of each
/// endpoint with an objective, and the utilization of every resource with a limit.
fn compared(base: &Subject) -> Vec<(Scope, Metric)> {
    let model = &base.checked.model;
    let mut scopes = vec![Scope::Global];
    for e in &model.endpoints {
        if model
            .slos
            .iter()
            .any(|s| s.endpoint.as_ref() == Some(&e.name))
        {
            scopes.push(Scope::Endpoint(e.name.clone()));
        }
    }
    let mut out = Vec::new();
    for s in scopes {
        for m in [
            Metric::latency(95.0),
            Metric::latency(99.0),
            Metric::Request(RequestMetric::ErrorRate),
        ] {
            out.push((s.clone(), m));
        }
    }
    for r in base.prog.resources.iter().filter(|r| r.units != UNLIMITED) {
        out.push((
            Scope::Resource(r.name.clone()),
            Metric::Resource(ResourceMetric::Utilization),
        ));
    }
    out
}

/// Every variant of `variants` against `base` at each of `loads` (name, level). The baseline's
/// cells come from `cells` (at today's peak and at the +12-month peaks they are projection
/// months), and each pair is extended there to one replication count.
///
/// # Errors
/// A replication that stalls.
pub fn whatifs(
    base: &Subject,
    variants: &[(Subject, Option<Effort>, Option<String>)],
    plan: &CellPlan,
    loads: &[(String, f64)],
    cells: &mut Cells,
) -> Result<Vec<WhatIf>, SimError> {
    let figures = compared(base);
    let mut out = Vec::new();
    for (v, effort, rationale) in variants {
        let mut at = Vec::new();
        for (name, level) in loads {
            // Paired on the same replications: the one that needed more sets the count.
            let [(b, hb), (a, ha)] = cells.paired(base, v, plan, *level)?;
            let changes = figures
                .iter()
                .filter_map(|(scope, metric)| {
                    let x = b.column(scope, *metric)?;
                    let y = a.column(scope, *metric)?;
                    Some(FigureChange {
                        scope: scope.clone(),
                        metric: *metric,
                        change: paired(&x, &y),
                    })
                })
                .collect();
            at.push(WhatIfAt {
                load: name.clone(),
                level: a.level,
                holds_before: hb,
                holds_after: ha,
                figures: changes,
            });
        }
        out.push(WhatIf {
            variant: v.name.clone(),
            effort: *effort,
            rationale: rationale.clone(),
            at,
            breach_months: Vec::new(),
        });
    }
    out.sort_by(|x, y| x.p95_change().total_cmp(&y.p95_change()));
    Ok(out)
}
