//! The capacity search's tables as CSV: `capacity.csv` (per goal, the cheapest configuration,
//! its monthly cost and every objective's verdict with its interval, from the fresh-seed
//! confirmation), `capacity_candidates.csv` (the proof: every candidate cheaper than each
//! answer and why it was ruled out), `roadmap.csv` (the changes by month with their start,
//! trigger and cost) and `costs.csv` (each hypothesis's monthly cost per component).

use super::csv::num;
use super::{Exporter, Output, RenderError, Results};
use crate::study::capacity::{CapacityResults, GoalResult};

pub struct CapacityCsv;
pub struct CandidatesCsv;
pub struct RoadmapCsv;
pub struct CostsCsv;

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

fn capacity(r: &Results) -> Option<&CapacityResults> {
    r.study.as_ref()?.capacity.as_ref()
}

/// A table's file from its header and rows.
fn render(
    file: &'static str,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Vec<Output>, RenderError> {
    let header = header.iter().map(|h| h.to_string()).collect();
    super::study_csv::render_rows(file, header, rows)
}

/// The level column's name: users for a closed workload, requests/s for an open one.
fn level_column(r: &Results) -> &'static str {
    if r.closed_workload {
        "level_users"
    } else {
        "level_rps"
    }
}

/// The goal's identifying cells: hypothesis, goal, month, level.
fn goal_cells(g: &GoalResult) -> Vec<String> {
    vec![
        g.goal.hypothesis.clone().unwrap_or_default(),
        g.goal.label(),
        g.goal.month.to_string(),
        num(g.goal.level),
    ]
}

impl Exporter<Results> for CapacityCsv {
    /// One row per goal and objective; a goal nothing holds has one row per objective no
    /// candidate met, with the best figure reached.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(c) = capacity(r) else {
            return Ok(Vec::new());
        };
        let header = [
            "hypothesis",
            "goal",
            "month",
            level_column(r),
            "configuration",
            "currency",
            "monthly_cost",
            "extra_monthly_cost",
            "today_holds",
            "candidates_considered",
            "ruled_out_by_bounds",
            "simulated",
            "headroom_level",
            "holds_until_month",
            "objective",
            "target",
            "unit",
            "estimate",
            "ci_low",
            "ci_high",
            "verdict",
            "note",
        ];
        let mut rows = Vec::new();
        for g in &c.goals {
            let mut head = goal_cells(g);
            match &g.answer {
                Some(a) => {
                    let h = a.headroom.as_ref();
                    head.extend([
                        a.configuration.clone(),
                        c.currency.clone(),
                        num(a.monthly_cost),
                        num(a.extra_cost),
                        g.today_holds.to_string(),
                        g.considered.to_string(),
                        g.ruled_out_by_bounds.to_string(),
                        g.simulated.to_string(),
                        opt(h.and_then(|h| h.holds_up_to)),
                        opt(h.and_then(|h| h.holds_until_month)),
                    ]);
                    for k in &a.checks {
                        let mut row = head.clone();
                        let objective = k.objective();
                        row.extend([
                            objective,
                            num(k.threshold),
                            k.unit.to_string(),
                            num(k.value.mean),
                            num(k.value.ci_low),
                            num(k.value.ci_high),
                            k.verdict.word().to_string(),
                            String::new(),
                        ]);
                        rows.push(row);
                    }
                }
                None => {
                    head.extend([
                        "none holds".to_string(),
                        c.currency.clone(),
                        String::new(),
                        String::new(),
                        g.today_holds.to_string(),
                        g.considered.to_string(),
                        g.ruled_out_by_bounds.to_string(),
                        g.simulated.to_string(),
                        String::new(),
                        String::new(),
                    ]);
                    for u in &g.unmet {
                        let mut row = head.clone();
                        row.extend([
                            u.objective.clone(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            u.verdict.word().to_string(),
                            format!(
                                "met by no configuration; at best {} ({})",
                                u.best, u.best_configuration
                            ),
                        ]);
                        rows.push(row);
                    }
                    if g.unmet.is_empty() {
                        let mut row = head.clone();
                        row.extend(std::iter::repeat_n(String::new(), 8));
                        rows.push(row);
                    }
                }
            }
        }
        render("capacity.csv", &header, rows)
    }
}

impl Exporter<Results> for CandidatesCsv {
    /// One row per candidate each goal looked at, in cost order, the answer last.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(c) = capacity(r) else {
            return Ok(Vec::new());
        };
        let header = [
            "hypothesis",
            "goal",
            "month",
            level_column(r),
            "rank",
            "configuration",
            "currency",
            "monthly_cost",
            "outcome",
            "reason",
        ];
        let mut rows = Vec::new();
        for g in &c.goals {
            let head = goal_cells(g);
            for cand in &g.record {
                let mut row = head.clone();
                row.extend([
                    cand.rank.to_string(),
                    cand.configuration.clone(),
                    c.currency.clone(),
                    num(cand.monthly_cost),
                    cand.outcome.word().to_string(),
                    cand.outcome.text(),
                ]);
                rows.push(row);
            }
            if let Some(a) = &g.answer {
                let mut row = head.clone();
                row.extend([
                    a.rank.to_string(),
                    a.configuration.clone(),
                    c.currency.clone(),
                    num(a.monthly_cost),
                    "answer".to_string(),
                    "every objective passes, confirmed with fresh seeds".to_string(),
                ]);
                rows.push(row);
            }
        }
        render("capacity_candidates.csv", &header, rows)
    }
}

impl Exporter<Results> for RoadmapCsv {
    /// One row per change, by hypothesis and month.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(c) = capacity(r) else {
            return Ok(Vec::new());
        };
        let header = [
            "hypothesis",
            "month_needed",
            "start_by_month",
            "late",
            "event",
            "action",
            "trigger",
            "configuration",
            "currency",
            "monthly_cost",
            "extra_monthly_cost",
            "reason",
        ];
        let mut rows = Vec::new();
        for rm in &c.roadmaps {
            for s in &rm.steps {
                rows.push(vec![
                    rm.hypothesis.clone(),
                    s.month.to_string(),
                    format!("{:.2}", s.start_by_month),
                    s.late.to_string(),
                    s.event.clone().unwrap_or_default(),
                    s.action.clone(),
                    s.trigger.clone(),
                    s.configuration.clone(),
                    c.currency.clone(),
                    num(s.monthly_cost),
                    num(s.extra_monthly),
                    s.reason.clone(),
                ]);
            }
        }
        render("roadmap.csv", &header, rows)
    }
}

impl Exporter<Results> for CostsCsv {
    /// One row per hypothesis, month and component, then the events' temporary changes and
    /// the month's total.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(c) = capacity(r) else {
            return Ok(Vec::new());
        };
        let header = [
            "hypothesis",
            "month",
            "component",
            "nodes",
            "size",
            "currency",
            "monthly_cost",
        ];
        let mut rows = Vec::new();
        for rm in &c.roadmaps {
            for m in &rm.months {
                let at = |component: &str, nodes: String, size: String, cost: f64| {
                    vec![
                        rm.hypothesis.clone(),
                        m.month.to_string(),
                        component.to_string(),
                        nodes,
                        size,
                        c.currency.clone(),
                        num(cost),
                    ]
                };
                for k in &m.components {
                    rows.push(at(
                        &k.resource,
                        k.nodes.to_string(),
                        k.size.clone().unwrap_or_default(),
                        k.monthly,
                    ));
                }
                if m.events_extra > 0.0 {
                    rows.push(at(
                        "events (temporary, pro rata)",
                        String::new(),
                        String::new(),
                        m.events_extra,
                    ));
                }
                rows.push(at("total", String::new(), String::new(), m.total));
            }
        }
        render("costs.csv", &header, rows)
    }
}
