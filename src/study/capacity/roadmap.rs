//! The roadmap of each growth hypothesis: the changes month by month, when to start each one
//! given its lead time, the metric that triggers it, and what the infrastructure costs each
//! month, per component.
//!
//! The configuration in service starts as today's. At each horizon whose cheapest
//! configuration differs from it, the one in service is simulated at the horizon's peak; if it
//! fails there, the change is needed from the first month it fails (searched by bisection
//! over the months, as the what-ifs' breach months are) and must start its lead time earlier.
//! The trigger is the utilization the configuration in service reaches at the daily peak in
//! the latest whole month by which the change must start (one month before it is needed, at
//! the latest), read off that month's simulated cell: a team that sees it cross the figure
//! starts the change in time. An event needs the cheapest configuration that holds its peak
//! without removing anything in service (a walk from the configuration of its month up), from
//! its lead time before the event to the event's end; its cost is counted pro rata in the
//! months that span holds.

use super::super::breach::{self, Search};
use super::super::cell::{CellPlan, Holds};
use super::super::cells::Cells;
use super::walk::{Candidates, Walk};
use super::{GoalResult, When};
use crate::engine::SimError;
use crate::model::config::{Change, ComponentCost, Config, Setting};
use crate::model::scaling::DAYS_PER_MONTH;
use crate::model::{Growth, Model};
use crate::stats::{Metric, ResourceMetric, Scope};
use serde::{Deserialize, Serialize};

/// One change of a roadmap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapStep {
    /// The month the change must be in service from.
    pub month: u32,
    /// The month to start it by: `month` minus its longest lead time.
    pub start_by_month: f64,
    /// The lead time does not fit before `month` (the change is needed sooner than it can be
    /// made from today).
    pub late: bool,
    /// The changes in words: `+1 mysql replica`.
    pub action: String,
    pub changes: Vec<Change>,
    /// The configuration after it.
    pub configuration: String,
    /// What a team can watch to start it in time.
    pub trigger: String,
    /// Why it is needed.
    pub reason: String,
    /// The event it prepares, when it is for an event's duration only.
    pub event: Option<String>,
    /// Monthly cost after it, and over the cost before it.
    pub monthly_cost: f64,
    pub extra_monthly: f64,
}

/// One month of a roadmap's costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthCost {
    pub month: u32,
    pub configuration: String,
    pub components: Vec<ComponentCost>,
    /// The events' temporary changes, pro rata of their duration.
    pub events_extra: f64,
    pub total: f64,
}

/// One hypothesis's roadmap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roadmap {
    /// The hypothesis, `today` without growth.
    pub hypothesis: String,
    pub steps: Vec<RoadmapStep>,
    pub months: Vec<MonthCost>,
    /// Why the roadmap stops short, when a goal has no configuration that holds.
    pub note: Option<String>,
}

/// The roadmap of every hypothesis (one for today's load without growth).
///
/// # Errors
/// A replication that stalls.
pub fn roadmaps(
    model: &Model,
    results: &[GoalResult],
    cands: &mut Candidates,
    cells: &mut Cells,
    plan: &CellPlan,
    base: f64,
) -> Result<Vec<Roadmap>, SimError> {
    let mut out = Vec::new();
    let names: Vec<Option<String>> = if model.growth.is_empty() {
        vec![None]
    } else {
        model.growth.iter().map(|g| Some(g.name.clone())).collect()
    };
    for h in names {
        let growth = h.as_ref().and_then(|n| model.growth_hypothesis(n));
        let mine: Vec<&GoalResult> = results.iter().filter(|r| r.goal.hypothesis == h).collect();
        out.push(one(model, growth, &mine, cands, cells, plan, base)?);
    }
    Ok(out)
}

/// The level of month `m` of `growth` (today's peak without one).
fn level_at(growth: Option<&Growth>, base: f64, m: u32) -> f64 {
    base * growth.and_then(|g| g.load(m)).unwrap_or(1.0)
}

#[allow(clippy::too_many_arguments)]
fn one(
    model: &Model,
    growth: Option<&Growth>,
    goals: &[&GoalResult],
    cands: &mut Candidates,
    cells: &mut Cells,
    plan: &CellPlan,
    base: f64,
) -> Result<Roadmap, SimError> {
    let space = cands.space;
    let mut steps = Vec::new();
    let mut note = None;
    let mut current = cands.today.clone();
    // (from month, configuration), in month order.
    let mut in_service: Vec<(u32, Config)> = vec![(0, current.clone())];
    let mut horizons: Vec<&&GoalResult> = goals
        .iter()
        .filter(|g| !matches!(g.goal.when, When::Event { .. }))
        .collect();
    horizons.sort_by_key(|g| g.goal.month);
    for g in horizons {
        let Some(answer) = &g.answer else {
            let what = g.unmet.first().map_or(String::new(), |u| {
                format!(": {} at best {}", u.objective, u.best)
            });
            note = Some(format!(
                "no configuration within the options and the budget holds {}{what}",
                g.goal.label()
            ));
            break;
        };
        if answer.config == current {
            continue;
        }
        let Some(k) = cands.index_of(&current) else {
            note = Some(format!(
                "the configuration in service ({}) costs more than the budget",
                space.describe(model, &current)
            ));
            break;
        };
        let Ok(subject) = cands.subject(k) else {
            break;
        };
        // A configuration in service above the budget is changed at once, for the budget.
        let before = space.cost(model, &current);
        let over_budget = space.budget.is_some_and(|b| before > b + 1e-9);
        let (_, holds) = cells.settled(subject, plan, g.goal.level)?;
        if holds == Holds::Yes && !over_budget {
            continue;
        }
        let needed = match growth {
            _ if over_budget => 0,
            Some(gr) => {
                let first =
                    breach::first_breach(subject, plan, base, gr, cells, Search::Bisection, &[])?;
                first.month.unwrap_or(g.goal.month).min(g.goal.month)
            }
            None => 0,
        };
        let changes = space.changes(model, &current, &answer.config);
        let lead = changes.iter().map(|c| c.lead_months).fold(0.0, f64::max);
        let start_by = f64::from(needed) - lead;
        let watch_month = (start_by.floor() as i64).min(i64::from(needed) - 1);
        let trigger = if over_budget {
            format!(
                "the configuration in service costs {before} {} a month, above the budget",
                space.currency
            )
        } else if watch_month >= 0 {
            let level = level_at(growth, base, watch_month as u32);
            let (cell, _) = cells.settled(subject, plan, level)?;
            trigger(model, subject, cell, &changes, watch_month as u32)
        } else {
            "needed now: the configuration in service fails the first month's peak".to_string()
        };
        let reason = if over_budget {
            format!(
                "the configuration in service is above the budget; the cheapest that holds {} is this one",
                g.goal.label()
            )
        } else {
            format!(
                "the configuration in service fails from month {needed}; the cheapest that holds {} is this one",
                g.goal.label()
            )
        };
        steps.push(RoadmapStep {
            month: needed,
            start_by_month: start_by,
            late: start_by < 0.0,
            action: action(&changes),
            configuration: answer.configuration.clone(),
            trigger,
            reason,
            event: None,
            monthly_cost: answer.monthly_cost,
            extra_monthly: answer.monthly_cost - before,
            changes,
        });
        current = answer.config.clone();
        in_service.push((needed, current.clone()));
    }
    let horizon = growth.map_or(0, |g| g.horizon_months);
    let mut events: Vec<&&GoalResult> = goals
        .iter()
        .filter(|g| matches!(g.goal.when, When::Event { .. }))
        .collect();
    events.sort_by_key(|g| g.goal.month);
    // The events' temporary changes: from, to (months) and their extra monthly cost.
    let mut extras: Vec<(f64, f64, f64)> = Vec::new();
    for g in events {
        let When::Event {
            event, duration_s, ..
        } = &g.goal.when
        else {
            continue;
        };
        let at = config_at(&in_service, g.goal.month).clone();
        let mut w = Walk::above(g.goal.level, at.clone());
        super::walk::walk_all(std::slice::from_mut(&mut w), cands, cells, plan)?;
        let before = space.cost(model, &at);
        let Some((k, _)) = &w.answer else {
            steps.push(RoadmapStep {
                month: g.goal.month,
                start_by_month: f64::from(g.goal.month),
                late: false,
                action: "none holds".to_string(),
                changes: Vec::new(),
                configuration: space.describe(model, &at),
                trigger: "-".to_string(),
                reason: format!(
                    "no configuration within the options and the budget, from the one in service up, holds the peak of {event}"
                ),
                event: Some(event.clone()),
                monthly_cost: before,
                extra_monthly: 0.0,
            });
            continue;
        };
        let (chosen, cost) = cands.list[*k].clone();
        let changes = space.changes(model, &at, &chosen);
        let lead = changes.iter().map(|c| c.lead_months).fold(0.0, f64::max);
        let start_by = f64::from(g.goal.month) - lead;
        let days = duration_s / 86_400.0;
        if cost > before {
            // Paid from the start of the change (its lead time before the event) to the
            // event's end, each month for the part of it that month holds.
            let end = f64::from(g.goal.month) + days / DAYS_PER_MONTH;
            extras.push((start_by.max(0.0), end, cost - before));
        }
        let (action, trigger, reason) = if changes.is_empty() {
            (
                "none: the configuration in service holds it".to_string(),
                "-".to_string(),
                format!("the configuration in service holds the peak of {event}"),
            )
        } else {
            (
                format!(
                    "{} for {}",
                    action(&changes),
                    crate::format::fmt_duration(*duration_s)
                ),
                format!("{event} scheduled in month {}", g.goal.month),
                format!(
                    "the configuration in service fails the peak of {event}; the cheapest that holds it without removing anything is this one"
                ),
            )
        };
        steps.push(RoadmapStep {
            month: g.goal.month,
            start_by_month: start_by,
            late: start_by < 0.0,
            action,
            changes,
            configuration: space.describe(model, &chosen),
            trigger,
            reason,
            event: Some(event.clone()),
            monthly_cost: cost,
            extra_monthly: cost - before,
        });
    }
    steps.sort_by(|a, b| {
        a.month
            .cmp(&b.month)
            .then(a.event.is_some().cmp(&b.event.is_some()))
    });
    let last = horizon.max(goals.iter().map(|g| g.goal.month).max().unwrap_or(0));
    let months = (0..=last)
        .map(|m| {
            let c = config_at(&in_service, m);
            let components = space.costs(model, c);
            let (a, b) = (f64::from(m), f64::from(m) + 1.0);
            let events_extra: f64 = extras
                .iter()
                .map(|&(from, to, extra)| extra * (to.min(b) - from.max(a)).max(0.0))
                .sum();
            let total = components.iter().map(|x| x.monthly).sum::<f64>() + events_extra;
            MonthCost {
                month: m,
                configuration: space.describe(model, c),
                components,
                events_extra,
                total,
            }
        })
        .collect();
    Ok(Roadmap {
        hypothesis: growth.map_or("today".to_string(), |g| g.name.clone()),
        steps,
        months,
        note,
    })
}

/// The configuration in service in month `m`.
fn config_at(in_service: &[(u32, Config)], m: u32) -> &Config {
    &in_service
        .iter()
        .rev()
        .find(|(from, _)| *from <= m)
        .unwrap_or(&in_service[0])
        .1
}

fn action(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| c.text.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The metric that says a change is due: the busiest group of the resources the change
/// grows, as the cell of the configuration in service shows it in month `month`.
fn trigger(
    model: &Model,
    subject: &super::super::cell::Subject,
    cell: &super::super::cell::Cell,
    changes: &[Change],
    month: u32,
) -> String {
    let grown: Vec<usize> = changes
        .iter()
        .filter(|c| c.to > c.from || c.setting == Setting::Size)
        .filter_map(|c| model.resources.iter().position(|r| r.name == c.resource))
        .collect();
    let mut best: Option<(String, f64)> = None;
    for r in subject
        .prog
        .resources
        .iter()
        .filter(|r| grown.contains(&r.owner))
    {
        let scope = Scope::Resource(r.name.clone());
        let Some(u) = cell
            .estimate(&scope, Metric::Resource(ResourceMetric::Utilization))
            .map(|e| e.mean)
            .filter(|u| u.is_finite())
        else {
            continue;
        };
        if best.as_ref().is_none_or(|(_, b)| u > *b) {
            best = Some((r.group.clone(), u));
        }
    }
    match best {
        Some((group, u)) => format!(
            "{group} utilization above {:.0} % at the daily peak (as simulated for month {month})",
            (u * 100.0).floor()
        ),
        None => {
            let p95 = cell
                .estimate(&Scope::Global, Metric::latency(95.0))
                .map_or(f64::NAN, |e| e.mean);
            format!(
                "p95 above {} at the daily peak (as simulated for month {month})",
                crate::format::fmt_ms(p95)
            )
        }
    }
}
