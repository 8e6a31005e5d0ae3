//! Projections and events: the current configuration at the peak loads growth and events
//! bring, every month of each hypothesis simulated.
//!
//! A month's peak is today's peak times the hypothesis's multipliers of users and of traffic
//! per user. In a closed workload both are carried by the number of users (a user whose traffic
//! doubles loads the servers as two users at today's traffic while think time dominates the
//! response time; the error is of the order of R / (R + Z), a few percent for web users
//! thinking seconds), so that every month is a cell of the same subject, paired with the others.

use super::cell::{Cell, CellPlan, Holds, Subject};
use super::cells::Cells;
use super::points::LoadPoint;
use crate::analysis::breaks::{self, Bottleneck};
use crate::analysis::slo::{SloCheck, Verdict};
use crate::engine::SimError;
use crate::model::LoadEvent;
use serde::{Deserialize, Serialize};

/// One month of a projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthPoint {
    pub month: u32,
    /// Today's peak times this (users x traffic per user).
    pub load_multiplier: f64,
    pub point: LoadPoint,
}

/// What breaks first, where it breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    /// The objective that fails (with its endpoint), its figure's interval and target.
    pub objective: String,
    pub check: SloCheck,
    pub bottleneck: Option<Bottleneck>,
}

/// One growth hypothesis, month by month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub hypothesis: String,
    pub months: Vec<MonthPoint>,
    /// The first month whose peak fails an objective, and what fails.
    pub first_breach: Option<(u32, Breach)>,
    /// Months where no objective failed but some could not be decided.
    pub undecided_months: Vec<u32>,
    /// Bandwidth and database sizes month by month (see [`super::volume`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume: Vec<super::volume::MonthVolume>,
}

/// One event on top of one hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventResult {
    pub event: String,
    pub hypothesis: String,
    pub month: u32,
    pub multiplier: f64,
    pub duration_s: f64,
    pub point: LoadPoint,
    pub breach: Option<Breach>,
    /// Minutes of the 30-day error budget the event consumes: its error rate (the upper end
    /// of its interval, to be safe) times its duration; and the budget.
    pub budget_consumed_min: Option<f64>,
    pub budget_min: Option<f64>,
}

/// The failing objective that misses its target by the most, with the bottleneck there.
pub(super) fn breach(subject: &Subject, cell: &Cell, checks: &[SloCheck]) -> Option<Breach> {
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
    Some(Breach {
        objective: worst.objective(),
        check: worst.clone(),
        bottleneck: breaks::bottleneck(&subject.prog, &cell.aggregate),
    })
}

/// Projects every hypothesis of the model from today's peak `peak`.
///
/// # Errors
/// A replication that stalls.
pub fn projections(
    subject: &Subject,
    plan: &CellPlan,
    peak: f64,
    cells: &mut Cells,
) -> Result<Vec<Projection>, SimError> {
    let mut out = Vec::new();
    for g in &subject.checked.model.growth {
        let mut p = Projection {
            hypothesis: g.name.clone(),
            months: Vec::new(),
            first_breach: None,
            undecided_months: Vec::new(),
            volume: Vec::new(),
        };
        for (month, m) in g.months.iter().enumerate() {
            let month = month as u32;
            let (cell, holds) = cells.settled(subject, plan, peak * m.load())?;
            let point = LoadPoint::of(subject, cell, holds, peak);
            match holds {
                Holds::No if p.first_breach.is_none() => {
                    p.first_breach = breach(subject, cell, &point.slos).map(|b| (month, b));
                }
                Holds::Undecided => p.undecided_months.push(month),
                _ => {}
            }
            p.months.push(MonthPoint {
                month,
                load_multiplier: m.load(),
                point,
            });
        }
        p.volume = super::volume::volumes(&subject.checked, &p);
        out.push(p);
    }
    Ok(out)
}

/// The 30-day error budget in minutes, from the model's availability objective (or its
/// global error-rate objective: [`super::accounting::budget_objective`]).
pub fn error_budget_min(subject: &Subject) -> Option<f64> {
    let (_, allowed) = super::accounting::budget_objective(subject)?;
    Some(crate::analysis::budget::budget_min(allowed))
}

/// Every event on top of every hypothesis: its peak is its multiplier times the projected
/// peak of its month.
///
/// # Errors
/// A replication that stalls.
pub fn events(
    subject: &Subject,
    plan: &CellPlan,
    peak: f64,
    cells: &mut Cells,
) -> Result<Vec<EventResult>, SimError> {
    let model = &subject.checked.model;
    let budget = error_budget_min(subject);
    let mut out = Vec::new();
    let today = [("today".to_string(), 1.0)];
    for e in &model.events {
        let bases: Vec<(String, f64)> = if model.growth.is_empty() {
            today.to_vec()
        } else {
            model
                .growth
                .iter()
                .map(|g| {
                    let m = g.load(e.month.min(g.horizon_months)).unwrap_or(1.0);
                    (g.name.clone(), m)
                })
                .collect()
        };
        for (hypothesis, growth) in bases {
            out.push(event(
                subject, plan, peak, cells, e, hypothesis, growth, budget,
            )?);
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn event(
    subject: &Subject,
    plan: &CellPlan,
    peak: f64,
    cells: &mut Cells,
    e: &LoadEvent,
    hypothesis: String,
    growth: f64,
    budget: Option<f64>,
) -> Result<EventResult, SimError> {
    let (cell, holds) = cells.settled(subject, plan, peak * growth * e.multiplier)?;
    let point = LoadPoint::of(subject, cell, holds, peak);
    let breach = breach(subject, cell, &point.slos);
    let worst_error = point.error_rate.ci_high;
    Ok(EventResult {
        event: e.name.clone(),
        hypothesis,
        month: e.month,
        multiplier: e.multiplier,
        duration_s: e.duration_s,
        budget_consumed_min: budget
            .map(|_| crate::analysis::budget::consumed_over_min(worst_error, e.duration_s))
            .filter(|x| x.is_finite()),
        budget_min: budget,
        point,
        breach,
    })
}
