//! SLO accounting (template tables 1.2 and 1.3): at today's peak and at the +3, +6 and
//! +12-month peaks of each growth hypothesis, the error budget over 30 days and what the
//! simulated error rate uses of it, the Apdex against its target, and every objective's
//! verdict (pass, fail, or inconclusive when the interval straddles the target), globally and
//! per endpoint.
//!
//! Every figure is read off a simulated cell (the projections' cells: free when they ran); the
//! budget arithmetic is [`crate::analysis::budget`], which holds the peak's error rate over the
//! whole 30 days, an upper bound of what the month consumes.

use super::cell::{CellPlan, Subject};
use super::cells::Cells;
use crate::analysis::budget;
use crate::analysis::slo::{self, SloCheck, Verdict};
use crate::engine::SimError;
use crate::model::Target;
use crate::stats::{Estimate, Metric, RequestMetric, Scope};
use serde::{Deserialize, Serialize};

/// The horizons a hypothesis is accounted at, months from today (template table 3.2).
pub const HORIZONS: [u32; 3] = [3, 6, 12];

/// The error budget at one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBudget {
    /// The objective it comes from: `availability >= 99.9%` (or, without one, the global
    /// error-rate objective).
    pub objective: String,
    /// The share of requests allowed to fail: `1 - availability`.
    pub allowed_error_ratio: f64,
    pub window_days: f64,
    /// Minutes over the window (see [`budget::budget_min`]).
    pub budget_min: f64,
    /// The simulated global error rate at the peak, failed over all requests.
    pub error_rate: Estimate,
    /// Minutes used if that rate held over the whole window (see [`budget::consumed_min`]),
    /// with the error rate's interval.
    pub consumed_min: Estimate,
    /// `budget_min - consumed_min` at its mean, and at the upper end of the consumption's
    /// interval (the worst case); negative when the budget is overspent.
    pub remaining_min: f64,
    pub remaining_min_worst: f64,
}

/// The Apdex of one scope against its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApdexAt {
    /// The endpoint, or `None` for the whole API.
    pub endpoint: Option<String>,
    /// The threshold T, ms.
    pub t_ms: f64,
    pub value: Estimate,
    pub target: f64,
    pub verdict: Verdict,
}

/// The accounts at one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloAccount {
    /// `today`, or `+3 months (optimistic)`.
    pub when: String,
    /// The hypothesis, `None` for today.
    pub hypothesis: Option<String>,
    pub month: u32,
    /// The peak level simulated: users or requests per second.
    pub level: f64,
    pub replications: u32,
    pub budget: Option<ErrorBudget>,
    pub apdex: Vec<ApdexAt>,
    /// Every objective's verdict, global and per endpoint, in declaration order.
    pub verdicts: Vec<SloCheck>,
}

impl SloAccount {
    /// How many verdicts are pass, fail and inconclusive.
    pub fn tally(&self) -> (usize, usize, usize) {
        let n = |v: Verdict| self.verdicts.iter().filter(|c| c.verdict == v).count();
        (n(Verdict::Pass), n(Verdict::Fail), n(Verdict::Inconclusive))
    }
}

/// The objective the budget comes from and the share of requests it lets fail: the global
/// availability objective, else the global error-rate one.
pub fn budget_objective(subject: &Subject) -> Option<(String, f64)> {
    let global = || {
        subject
            .checked
            .model
            .slos
            .iter()
            .filter(|s| s.endpoint.is_none())
            .flat_map(|s| &s.targets)
    };
    let availability = global().find_map(|t| match *t {
        Target::Availability { min } => Some((slo::label(t), 1.0 - min)),
        _ => None,
    });
    availability.or_else(|| {
        global().find_map(|t| match *t {
            Target::ErrorRate { max } => Some((slo::label(t), max)),
            _ => None,
        })
    })
}

/// An estimate times `k` (k >= 0), its interval and its kind of upper end kept.
fn scaled(e: &Estimate, k: f64) -> Estimate {
    Estimate {
        mean: e.mean * k,
        ci_low: e.ci_low * k,
        ci_high: e.ci_high * k,
        ..*e
    }
}

/// The error budget at a cell whose global error rate is `error_rate`.
pub fn error_budget(objective: String, allowed: f64, error_rate: Estimate) -> ErrorBudget {
    let budget = budget::budget_min(allowed);
    let consumed = scaled(&error_rate, budget::consumed_min(1.0));
    ErrorBudget {
        objective,
        allowed_error_ratio: allowed,
        window_days: budget::WINDOW_DAYS,
        budget_min: budget,
        remaining_min: budget - consumed.mean,
        remaining_min_worst: budget - consumed.ci_high,
        error_rate,
        consumed_min: consumed,
    }
}

/// The Apdex threshold of a scope, seconds: its objective's, else the global one's, else the
/// settings'.
fn apdex_t_s(subject: &Subject, endpoint: Option<&str>) -> f64 {
    let c = &subject.checked;
    match endpoint {
        Some(e) => crate::engine::program::apdex_t(c, e),
        None => c
            .model
            .slos
            .iter()
            .find(|s| s.endpoint.is_none())
            .and_then(|s| s.apdex_t_s)
            .unwrap_or(c.model.settings.apdex_t_s),
    }
}

/// The accounts of `subject` at `level`.
fn account(
    subject: &Subject,
    plan: &CellPlan,
    cells: &mut Cells,
    level: f64,
    (when, hypothesis, month): (String, Option<String>, u32),
) -> Result<SloAccount, SimError> {
    let (cell, _) = cells.settled(subject, plan, level)?;
    let verdicts = cell.checks(subject);
    let error_rate = cell.estimate(&Scope::Global, Metric::Request(RequestMetric::ErrorRate));
    let budget = budget_objective(subject)
        .zip(error_rate)
        .map(|((objective, allowed), e)| error_budget(objective, allowed, e));
    let apdex = verdicts
        .iter()
        .filter(|c| c.metric == Metric::Request(RequestMetric::Apdex))
        .map(|c| ApdexAt {
            endpoint: c.endpoint.clone(),
            t_ms: 1e3 * apdex_t_s(subject, c.endpoint.as_deref()),
            value: c.value,
            target: c.threshold,
            verdict: c.verdict,
        })
        .collect();
    Ok(SloAccount {
        when,
        hypothesis,
        month,
        level: cell.level,
        replications: cell.replications(),
        budget,
        apdex,
        verdicts,
    })
}

/// The accounts at today's peak `peak` and at each of [`HORIZONS`] (within its horizon) of
/// every hypothesis.
///
/// # Errors
/// A replication that stalls.
pub fn accounts(
    subject: &Subject,
    plan: &CellPlan,
    peak: f64,
    cells: &mut Cells,
) -> Result<Vec<SloAccount>, SimError> {
    let mut out = vec![account(
        subject,
        plan,
        cells,
        peak,
        ("today".into(), None, 0),
    )?];
    for g in &subject.checked.model.growth {
        for month in HORIZONS.into_iter().filter(|m| *m <= g.horizon_months) {
            let m = g.load(month).unwrap_or(1.0);
            let when = format!("+{month} months ({})", g.name);
            out.push(account(
                subject,
                plan,
                cells,
                peak * m,
                (when, Some(g.name.clone()), month),
            )?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_scales_the_error_rate_and_its_interval() {
        let e = Estimate::new(0.0005, 0.0002, 0.0008, 8);
        let b = error_budget("availability >= 99.9%".into(), 0.001, e);
        assert!((b.budget_min - 43.2).abs() < 1e-9);
        assert!((b.consumed_min.mean - 21.6).abs() < 1e-9);
        assert!((b.consumed_min.ci_low - 8.64).abs() < 1e-9);
        assert!((b.consumed_min.ci_high - 34.56).abs() < 1e-9);
        assert!((b.remaining_min - 21.6).abs() < 1e-9);
        assert!((b.remaining_min_worst - 8.64).abs() < 1e-9);
        // Overspent: a 0.3 % error rate uses three budgets.
        let over = error_budget("x".into(), 0.001, Estimate::new(0.003, 0.003, 0.003, 8));
        assert!((over.remaining_min + 86.4).abs() < 1e-9);
    }
}
