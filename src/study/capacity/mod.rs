//! Minimum-cost capacity: for every growth hypothesis at +3, +6 and +12 months and for every
//! event, the cheapest configuration of the declared scaling options that meets every
//! objective at that load, shown to be the cheapest; the roadmap of changes month by month;
//! and how far each chosen configuration holds beyond its goal.
//!
//! - [`bound`]: the necessary conditions that rule a candidate out without simulating it;
//! - [`walk`]: the walk through the configurations in order of cost, its record of why every
//!   cheaper one was ruled out, the fresh-seed confirmation of the answer;
//! - [`roadmap`]: when each change is needed, when to start it given its lead time, what
//!   metric triggers it, and the monthly cost per component.

pub mod bound;
pub mod roadmap;
pub mod walk;

use super::breaking::{self, BreakingPoint};
use super::cell::{CellPlan, Subject};
use super::cells::Cells;
use super::progress::Watch;
use crate::analysis::slo::{SloCheck, Verdict};
use crate::engine::SimError;
use crate::model::config::{Change, ComponentCost, Config, Space};
use crate::model::scaling::Scaling;
use crate::model::{Checked, Model};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use walk::{Candidate, Candidates, Outcome, Walk};

/// The horizons every hypothesis is planned for, in months (those within its own horizon).
pub const HORIZONS: [u32; 3] = [3, 6, 12];

/// What a goal asks to hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum When {
    /// Today's peak (a model without growth hypotheses).
    Today,
    /// The hypothesis's peak `months` from today.
    Horizon { months: u32 },
    /// An event's peak, on top of its month's.
    Event {
        event: String,
        multiplier: f64,
        duration_s: f64,
    },
}

/// One load the infrastructure must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// The growth hypothesis, `None` without one.
    pub hypothesis: Option<String>,
    pub when: When,
    /// The month it comes at.
    pub month: u32,
    /// Users (closed workload) or arrivals per second (open).
    pub level: f64,
}

impl Goal {
    /// `+12 months`, `marketing campaign`, `today`.
    pub fn label(&self) -> String {
        match &self.when {
            When::Today => "today".to_string(),
            When::Horizon { months } => format!("+{months} months"),
            When::Event { event, .. } => event.clone(),
        }
    }
}

/// Whether removing one unit of the answer breaks an objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneLess {
    /// What is removed: `-1 mysql replica`.
    pub change: String,
    /// An objective fails (simulated or by a bound) without it.
    pub breaks: bool,
    pub reason: String,
}

/// How far a configuration holds beyond its goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headroom {
    /// Its breaking point: the largest level that holds and the smallest that fails.
    pub holds_up_to: Option<f64>,
    pub fails_from: Option<f64>,
    /// `holds_up_to` over the goal's level, minus 1.
    pub margin: Option<f64>,
    /// The last month of the goal's hypothesis whose peak is within `holds_up_to`, and
    /// whether the hypothesis's horizon ends before the configuration breaks.
    pub holds_until_month: Option<u32>,
    pub beyond_horizon: bool,
}

/// The cheapest configuration that holds a goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Its place in the cost order.
    pub rank: usize,
    pub configuration: String,
    pub config: Config,
    pub monthly_cost: f64,
    /// Over today's monthly cost.
    pub extra_cost: f64,
    pub components: Vec<ComponentCost>,
    /// From today's configuration.
    pub changes: Vec<Change>,
    /// Every objective with fresh seeds (the confirmation run).
    pub checks: Vec<SloCheck>,
    pub one_less: Vec<OneLess>,
    pub headroom: Option<Headroom>,
}

/// An objective no configuration within the options and the budget met, and the best
/// figure the simulated ones reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unmet {
    pub objective: String,
    /// `fail` when every candidate simulated failed it (or a bound rules them all out),
    /// `inconclusive` when the best one could not decide it.
    pub verdict: Verdict,
    pub best: String,
    pub best_configuration: String,
}

/// The search's result for one goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalResult {
    pub goal: Goal,
    pub answer: Option<Answer>,
    /// Today's configuration holds this goal (it is then the answer, unless a cheaper one
    /// holds too).
    pub today_holds: bool,
    /// Every candidate looked at before the answer (every one, when none holds), in cost
    /// order, with its outcome: the proof of minimality.
    pub record: Vec<Candidate>,
    pub considered: usize,
    pub ruled_out_by_bounds: usize,
    pub simulated: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<Unmet>,
}

/// Today's configuration and its cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Today {
    pub configuration: String,
    pub monthly_cost: f64,
    pub components: Vec<ComponentCost>,
}

/// Everything the capacity search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityResults {
    pub currency: String,
    pub budget: Option<f64>,
    pub today: Today,
    /// The declared options, for the plan's scalability tables.
    pub options: Vec<Scaling>,
    /// Configurations the options span within the budget, and above it.
    pub configurations: usize,
    pub over_budget: usize,
    pub goals: Vec<GoalResult>,
    pub roadmaps: Vec<roadmap::Roadmap>,
    /// Search work: candidates looked at over all goals, ruled out by a bound, simulated.
    pub considered: usize,
    pub ruled_out_by_bounds: usize,
    pub simulated: usize,
    /// Cells and events simulated for the capacity search (cells other parts had already
    /// simulated are not counted).
    pub cells: usize,
    pub events: u64,
    #[serde(skip)]
    pub wall_s: f64,
}

/// The goals of `model`: each hypothesis at each of [`HORIZONS`] within its horizon, then each
/// event on each hypothesis (today's peak without growth), as the events' study forms them.
pub fn goals(model: &Model, base: f64) -> Vec<Goal> {
    let mut out = Vec::new();
    for g in &model.growth {
        // The horizons within the hypothesis's own; its horizon itself when it is shorter.
        let mut horizons: Vec<u32> = HORIZONS
            .into_iter()
            .filter(|h| *h <= g.horizon_months)
            .collect();
        if horizons.is_empty() {
            horizons.push(g.horizon_months);
        }
        for h in horizons {
            out.push(Goal {
                hypothesis: Some(g.name.clone()),
                when: When::Horizon { months: h },
                month: h,
                level: base * g.load(h).unwrap_or(1.0),
            });
        }
    }
    if model.growth.is_empty() {
        out.push(Goal {
            hypothesis: None,
            when: When::Today,
            month: 0,
            level: base,
        });
    }
    for e in &model.events {
        let on: Vec<(Option<String>, f64)> = if model.growth.is_empty() {
            vec![(None, 1.0)]
        } else {
            model
                .growth
                .iter()
                .map(|g| {
                    let m = g.load(e.month.min(g.horizon_months)).unwrap_or(1.0);
                    (Some(g.name.clone()), m)
                })
                .collect()
        };
        for (hypothesis, m) in on {
            out.push(Goal {
                hypothesis,
                when: When::Event {
                    event: e.name.clone(),
                    multiplier: e.multiplier,
                    duration_s: e.duration_s,
                },
                month: e.month,
                level: base * m * e.multiplier,
            });
        }
    }
    out
}

/// Runs the capacity search of `c` from today's peak `base`, on the study's cells.
/// `today_breaking` is the study's breaking point of today's configuration, when it ran.
///
/// # Errors
/// A replication that stalls.
pub fn run(
    c: &Checked,
    plan: &CellPlan,
    base: f64,
    cells: &mut Cells,
    today_breaking: Option<&BreakingPoint>,
    watch: Option<Arc<dyn Watch>>,
    step: &dyn Fn(&str),
) -> Result<Option<CapacityResults>, SimError> {
    let started = std::time::Instant::now();
    let model = &c.model;
    let Some(space) = Space::of(model).ok().flatten() else {
        return Ok(None);
    };
    let (cells_before, events_before) = (cells.len(), cells.events);
    let mut cands = Candidates::new(model, &space, watch);
    let goals = goals(model, base);
    step("capacity: cheapest configurations");
    let mut walks: Vec<Walk> = goals.iter().map(|g| Walk::new(g.level)).collect();
    walk::walk_all(&mut walks, &mut cands, cells, plan)?;
    let today = space.today();
    let today_cost = space.cost(model, &today);
    let mut results: Vec<GoalResult> = goals
        .into_iter()
        .zip(&walks)
        .map(|(goal, w)| goal_result(goal, w, &cands, &today, today_cost))
        .collect();
    step("capacity: headroom");
    headroom(&mut results, &mut cands, cells, plan, base, today_breaking)?;
    step("capacity: roadmap");
    let roadmaps = roadmap::roadmaps(model, &results, &mut cands, cells, plan, base)?;
    let considered = results.iter().map(|g| g.considered).sum();
    let ruled_out_by_bounds = results.iter().map(|g| g.ruled_out_by_bounds).sum();
    let simulated = results.iter().map(|g| g.simulated).sum();
    Ok(Some(CapacityResults {
        currency: space.currency.clone(),
        budget: space.budget,
        today: Today {
            configuration: space.describe(model, &today),
            monthly_cost: today_cost,
            components: space.costs(model, &today),
        },
        options: model.scaling.clone(),
        configurations: cands.within,
        over_budget: cands.over_budget,
        goals: results,
        roadmaps,
        considered,
        ruled_out_by_bounds,
        simulated,
        cells: cells.len() - cells_before,
        events: cells.events - events_before,
        wall_s: started.elapsed().as_secs_f64(),
    }))
}

/// A goal's result from its finished walk.
fn goal_result(
    goal: Goal,
    w: &Walk,
    cands: &Candidates,
    today: &Config,
    today_cost: f64,
) -> GoalResult {
    let (model, space) = (cands.model, cands.space);
    let answer = w.answer.as_ref().map(|(k, checks)| {
        let (config, cost) = &cands.list[*k];
        let one_less = space
            .one_less(model, config)
            .into_iter()
            .map(|(_, less)| {
                let change = space
                    .changes(model, config, &less)
                    .into_iter()
                    .map(|c| c.text)
                    .collect::<Vec<_>>()
                    .join(", ");
                let seen = cands
                    .index_of(&less)
                    .and_then(|i| w.record.iter().find(|r| r.rank == i));
                let (breaks, reason) = match seen.map(|r| &r.outcome) {
                    Some(o @ (Outcome::Bound { .. } | Outcome::Fails { .. })) => (true, o.text()),
                    Some(o) => (false, format!("{}: {}", o.word(), o.text())),
                    None => (false, "not looked at".to_string()),
                };
                OneLess {
                    change,
                    breaks,
                    reason,
                }
            })
            .collect();
        Answer {
            rank: *k,
            configuration: space.describe(model, config),
            config: config.clone(),
            monthly_cost: *cost,
            extra_cost: cost - today_cost,
            components: space.costs(model, config),
            changes: space.changes(model, today, config),
            checks: checks.clone(),
            one_less,
            headroom: None,
        }
    });
    let today_holds = answer.as_ref().is_some_and(|a| a.config == *today)
        || w.simulated.iter().any(|(k, checks)| {
            cands.list[*k].0 == *today && checks.iter().all(|c| c.verdict == Verdict::Pass)
        });
    let unmet = if answer.is_none() {
        unmet(w, cands)
    } else {
        Vec::new()
    };
    let considered = w.record.len() + usize::from(answer.is_some());
    GoalResult {
        goal,
        answer,
        today_holds,
        ruled_out_by_bounds: w
            .record
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Bound { .. }))
            .count(),
        simulated: w.record.iter().filter(|r| r.outcome.simulated()).count()
            + usize::from(w.answer.is_some()),
        considered,
        record: w.record.clone(),
        unmet,
    }
}

/// The objectives no simulated candidate passed, each with the best figure reached and where;
/// when no candidate was simulated, what the bounds that ruled them out proved.
fn unmet(w: &Walk, cands: &Candidates) -> Vec<Unmet> {
    let Some((_, first)) = w.simulated.first() else {
        return unmet_by_bounds(w, cands);
    };
    let key = |c: &SloCheck| (c.endpoint.clone(), c.label.clone());
    let mut out = Vec::new();
    for objective in first {
        let mut best: Option<(f64, usize, &SloCheck)> = None;
        let mut passed = false;
        for (k, checks) in &w.simulated {
            let Some(c) = checks.iter().find(|c| key(c) == key(objective)) else {
                continue;
            };
            passed |= c.verdict == Verdict::Pass;
            let badness = if c.below { c.value.mean } else { -c.value.mean };
            if badness.is_finite() && best.is_none_or(|(b, _, _)| badness < b) {
                best = Some((badness, *k, c));
            }
        }
        if passed {
            continue;
        }
        if let Some((_, k, c)) = best {
            out.push(Unmet {
                verdict: if c.verdict == Verdict::Fail {
                    Verdict::Fail
                } else {
                    Verdict::Inconclusive
                },
                objective: c.objective(),
                best: walk::figure(c),
                best_configuration: cands.label(k),
            });
        }
    }
    out
}

/// Every candidate was ruled out by a bound (or invalid): the objectives the bound rests on,
/// together, and the candidate whose proved utilization is the lowest.
fn unmet_by_bounds(w: &Walk, cands: &Candidates) -> Vec<Unmet> {
    let best = w
        .record
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Bound { .. }))
        .filter_map(|r| {
            let b = bound::breach(&cands.built(r.rank)?.checked, w.level)?;
            Some((r.rank, b))
        })
        .min_by(|a, b| {
            a.1.utilization_at_least
                .total_cmp(&b.1.utilization_at_least)
        });
    let Some((k, b)) = best else {
        return Vec::new();
    };
    let objectives: Vec<String> = cands
        .model
        .slos
        .iter()
        .filter(|s| s.endpoint.is_none())
        .flat_map(|s| &s.targets)
        .map(crate::analysis::slo::label)
        .collect();
    vec![Unmet {
        verdict: Verdict::Fail,
        objective: format!("{} together", objectives.join(" and ")),
        best: format!(
            "`{}` {:.0} % busy or more by the utilization law",
            b.resource,
            100.0 * b.utilization_at_least
        ),
        best_configuration: cands.label(k),
    }]
}

/// The breaking point of every configuration chosen, and what it means for each goal: the
/// study's own for today's configuration, a search of its own for each other.
fn headroom(
    results: &mut [GoalResult],
    cands: &mut Candidates,
    cells: &mut Cells,
    plan: &CellPlan,
    base: f64,
    today_breaking: Option<&BreakingPoint>,
) -> Result<(), SimError> {
    let mut searched: Vec<(Config, BreakingPoint)> = Vec::new();
    let wanted: Vec<f64> = results.iter().map(|r| r.goal.level).collect();
    let starts: Vec<(Config, f64)> = results
        .iter()
        .filter_map(|r| Some((r.answer.as_ref()?.config.clone(), r.goal.level)))
        .collect();
    for r in results.iter_mut() {
        let Some(a) = r.answer.as_mut() else {
            continue;
        };
        let known = searched.iter().find(|(c, _)| *c == a.config).map(|x| &x.1);
        let bp = match (known, today_breaking) {
            (Some(bp), _) => bp.clone(),
            (None, Some(bp)) if a.config == cands.today => bp.clone(),
            (None, _) => {
                let k = cands.index_of(&a.config).expect("an answer is a candidate");
                let subject: &Subject = cands
                    .built(k)
                    .expect("an answer was simulated, so its subject is built");
                // The search starts from the heaviest goal this configuration answers (it
                // holds there, with both seeds: a cell already simulated), not from today.
                let from = starts
                    .iter()
                    .filter(|(c, _)| *c == a.config)
                    .map(|x| x.1)
                    .fold(base, f64::max);
                let saturation = super::run::analytic_saturation(&subject.checked, base);
                let bp = breaking::search_in(cells, subject, plan, from, saturation, &wanted)?;
                searched.push((a.config.clone(), bp.clone()));
                bp
            }
        };
        let growth = r
            .goal
            .hypothesis
            .as_ref()
            .filter(|_| matches!(r.goal.when, When::Horizon { .. }))
            .and_then(|h| cands.model.growth_hypothesis(h));
        let (until, beyond) = match (growth, bp.holds_up_to) {
            (Some(g), Some(up)) => {
                let months = g.months.len() as u32;
                let last = (0..months)
                    .take_while(|m| base * g.load(*m).unwrap_or(1.0) <= up * (1.0 + 1e-9))
                    .last();
                (last, last == Some(months - 1))
            }
            _ => (None, false),
        };
        a.headroom = Some(Headroom {
            holds_up_to: bp.holds_up_to,
            fails_from: bp.fails_from,
            margin: bp.holds_up_to.map(|up| up / r.goal.level - 1.0),
            holds_until_month: until,
            beyond_horizon: beyond,
        });
    }
    Ok(())
}
