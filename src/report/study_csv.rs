//! The study's tables as CSV, units in the column names: `breaking_point.csv` (the
//! latency-vs-load curve the breaking-point search simulated), `projections.csv` (every month
//! of every growth hypothesis, with its data volume), `events.csv` (every event on every
//! hypothesis), `whatif.csv` (every variant's paired changes), `whatif_breach.csv` (the month
//! each variant breaks under each hypothesis, beside the baseline's), `slo.csv` (every
//! objective's verdict today and at +3/+6/+12 months) and `error_budget.csv` (the 30-day error
//! budget and the Apdex there).

use super::csv::num;
use super::{Exporter, Output, RenderError, Results};
use crate::stats::Estimate;

pub struct BreakingPointCsv;
pub struct ProjectionsCsv;
pub struct EventsCsv;
pub struct WhatifCsv;
pub struct WhatifBreachCsv;
pub struct SloCsv;
pub struct ErrorBudgetCsv;

const BREAKING_POINT: &str = "breaking_point.csv";

/// The mean and both interval ends of an estimate.
fn three(e: &Estimate) -> [String; 3] {
    [num(e.mean), num(e.ci_low), num(e.ci_high)]
}

impl Exporter<Results> for BreakingPointCsv {
    /// One row per level simulated, in increasing order; nothing when no search ran.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(bp) = r.study.as_ref().and_then(|s| s.breaking_point.as_ref()) else {
            return Ok(Vec::new());
        };
        let err = |e: csv::Error| RenderError::Render {
            file: BREAKING_POINT.into(),
            message: e.to_string(),
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        let level = if r.closed_workload {
            "level_users"
        } else {
            "level_rps"
        };
        let mut header: Vec<String> = [level, "multiplier", "replications", "slos_hold"]
            .map(String::from)
            .to_vec();
        for f in [
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "throughput_rps",
            "error_rate_ratio",
        ] {
            header.extend([f.to_string(), format!("{f}_ci_low"), format!("{f}_ci_high")]);
        }
        let resources: Vec<&String> = bp
            .points
            .first()
            .map(|p| p.utilization.iter().map(|(n, _)| n).collect())
            .unwrap_or_default();
        for n in &resources {
            header.push(format!(
                "utilization_ratio_{}",
                super::csv::column_fragment(n)
            ));
        }
        w.write_record(&header).map_err(err)?;
        for p in &bp.points {
            let holds = match p.holds {
                crate::study::Holds::Yes => "yes",
                crate::study::Holds::No => "no",
                crate::study::Holds::Undecided => "inconclusive",
            };
            let mut row = vec![
                num(p.level),
                num(p.multiplier),
                p.replications.to_string(),
                holds.to_string(),
            ];
            for e in [
                &p.p50_ms,
                &p.p95_ms,
                &p.p99_ms,
                &p.throughput_rps,
                &p.error_rate,
            ] {
                row.extend(three(e));
            }
            row.extend(p.utilization.iter().map(|(_, e)| num(e.mean)));
            w.write_record(&row).map_err(err)?;
        }
        let bytes = w.into_inner().map_err(|e| RenderError::Render {
            file: BREAKING_POINT.into(),
            message: e.to_string(),
        })?;
        Ok(vec![Output::new(BREAKING_POINT, bytes)])
    }
}

pub(super) fn render_rows(
    file: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
) -> Result<Vec<Output>, RenderError> {
    let err = |e: csv::Error| RenderError::Render {
        file: file.into(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(err)?;
    for r in rows {
        w.write_record(&r).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| RenderError::Render {
        file: file.into(),
        message: e.to_string(),
    })?;
    Ok(vec![Output::new(file, bytes)])
}

fn holds_word(h: crate::study::Holds) -> &'static str {
    match h {
        crate::study::Holds::Yes => "yes",
        crate::study::Holds::No => "no",
        crate::study::Holds::Undecided => "inconclusive",
    }
}

/// The point columns shared by projections and events: level, replications, verdict,
/// p50/p95/p99, throughput and error rate with intervals, and the busiest utilization.
fn point_header(level: &str) -> Vec<String> {
    let mut h: Vec<String> = [level, "replications", "slos_hold"]
        .map(String::from)
        .to_vec();
    for f in [
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "throughput_rps",
        "error_rate_ratio",
    ] {
        h.extend([f.to_string(), format!("{f}_ci_low"), format!("{f}_ci_high")]);
    }
    h.extend([
        "busiest_resource".into(),
        "busiest_utilization_ratio".into(),
    ]);
    h
}

fn point_row(p: &crate::study::points::LoadPoint) -> Vec<String> {
    let mut row = vec![
        num(p.level),
        p.replications.to_string(),
        holds_word(p.holds).into(),
    ];
    for e in [
        &p.p50_ms,
        &p.p95_ms,
        &p.p99_ms,
        &p.throughput_rps,
        &p.error_rate,
    ] {
        row.extend(three(e));
    }
    let busiest = p
        .utilization
        .iter()
        .max_by(|a, b| a.1.mean.total_cmp(&b.1.mean));
    row.push(busiest.map_or(String::new(), |(n, _)| n.clone()));
    row.push(busiest.map_or(String::new(), |(_, e)| num(e.mean)));
    row
}

fn level_column(r: &Results) -> &'static str {
    if r.closed_workload {
        "peak_users"
    } else {
        "peak_rps"
    }
}

impl Exporter<Results> for ProjectionsCsv {
    /// One row per hypothesis x month; nothing without hypotheses.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(st) = r.study.as_ref().filter(|s| !s.projections.is_empty()) else {
            return Ok(Vec::new());
        };
        let mut header: Vec<String> = ["hypothesis", "month", "load_multiplier"]
            .map(String::from)
            .to_vec();
        header.extend(point_header(level_column(r)));
        header.push("first_breach".into());
        header.extend(
            [
                "bandwidth_gbps",
                "bandwidth_gbps_ci_low",
                "bandwidth_gbps_ci_high",
            ]
            .map(String::from),
        );
        header.push("average_rps".into());
        let dbs: Vec<String> = st
            .projections
            .first()
            .and_then(|p| p.volume.first())
            .map(|v| v.databases.iter().map(|d| d.database.clone()).collect())
            .unwrap_or_default();
        for d in &dbs {
            header.push(format!("db_size_bytes_{}", super::csv::column_fragment(d)));
        }
        let mut rows = Vec::new();
        for p in &st.projections {
            for (k, m) in p.months.iter().enumerate() {
                let mut row = vec![
                    p.hypothesis.clone(),
                    m.month.to_string(),
                    num(m.load_multiplier),
                ];
                row.extend(point_row(&m.point));
                let first = p.first_breach.as_ref().is_some_and(|(k, _)| *k == m.month);
                row.push(if first { "yes".into() } else { String::new() });
                let v = p.volume.get(k);
                match v.and_then(|v| v.bandwidth_gbps.as_ref()) {
                    Some(b) => row.extend(three(b)),
                    None => row.extend([String::new(), String::new(), String::new()]),
                }
                row.push(v.map_or(String::new(), |v| num(v.average_rps)));
                for i in 0..dbs.len() {
                    let size = v.and_then(|v| v.databases.get(i)).map(|d| d.bytes);
                    row.push(size.map_or(String::new(), num));
                }
                rows.push(row);
            }
        }
        render_rows("projections.csv", header, rows)
    }
}

impl Exporter<Results> for EventsCsv {
    /// One row per event x hypothesis; nothing without events.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(st) = r.study.as_ref().filter(|s| !s.events_at_peak.is_empty()) else {
            return Ok(Vec::new());
        };
        let mut header: Vec<String> = ["event", "hypothesis", "month", "multiplier", "duration_s"]
            .map(String::from)
            .to_vec();
        header.extend(point_header(level_column(r)));
        header.extend([
            "breaks".into(),
            "error_budget_consumed_min".into(),
            "error_budget_30d_min".into(),
        ]);
        let rows = st
            .events_at_peak
            .iter()
            .map(|e| {
                let mut row = vec![
                    e.event.clone(),
                    e.hypothesis.clone(),
                    e.month.to_string(),
                    num(e.multiplier),
                    num(e.duration_s),
                ];
                row.extend(point_row(&e.point));
                row.push(
                    e.breach
                        .as_ref()
                        .map_or(String::new(), |b| b.objective.clone()),
                );
                row.push(e.budget_consumed_min.map_or(String::new(), num));
                row.push(e.budget_min.map_or(String::new(), num));
                row
            })
            .collect();
        render_rows("events.csv", header, rows)
    }
}

impl Exporter<Results> for WhatifCsv {
    /// One row per variant x load x figure: before, after, the paired difference and the
    /// relative change with their intervals, and the pairing gain.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(st) = r.study.as_ref().filter(|s| !s.whatifs.is_empty()) else {
            return Ok(Vec::new());
        };
        let header: Vec<String> = [
            "variant",
            "effort",
            "load",
            "level",
            "scope",
            "name",
            "metric",
            "unit",
            "before",
            "after",
            "difference",
            "difference_ci_low",
            "difference_ci_high",
            "relative_change_ratio",
            "relative_ci_low",
            "relative_ci_high",
            "pairing_gain",
            "replications",
            "slos_hold_before",
            "slos_hold_after",
        ]
        .map(String::from)
        .to_vec();
        let mut rows = Vec::new();
        for w in &st.whatifs {
            for a in &w.at {
                for f in &a.figures {
                    let c = &f.change;
                    let mut row = vec![
                        w.variant.clone(),
                        w.effort.map_or(String::new(), |e| e.word().to_string()),
                        a.load.clone(),
                        num(a.level),
                        f.scope.kind().to_string(),
                        f.scope.name().to_string(),
                        f.metric.to_string(),
                        f.metric.unit(r.closed_workload).to_string(),
                        num(c.before),
                        num(c.after),
                    ];
                    row.extend(three(&c.difference));
                    row.extend(three(&c.relative));
                    row.extend([
                        num(c.pairing_gain),
                        c.replications.to_string(),
                        holds_word(a.holds_before).into(),
                        holds_word(a.holds_after).into(),
                    ]);
                    rows.push(row);
                }
            }
        }
        render_rows("whatif.csv", header, rows)
    }
}

fn month_cell(m: Option<u32>) -> String {
    m.map_or(String::new(), |m| m.to_string())
}

fn months_list(ms: &[u32]) -> String {
    ms.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

impl Exporter<Results> for WhatifBreachCsv {
    /// One row per variant x hypothesis: the first month the baseline and the variant fail an
    /// objective (empty: holds through the horizon), the months gained, what fails first, and
    /// the months left undecided before; nothing without what-ifs under growth.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(st) = r
            .study
            .as_ref()
            .filter(|s| s.whatifs.iter().any(|w| !w.breach_months.is_empty()))
        else {
            return Ok(Vec::new());
        };
        let header: Vec<String> = [
            "variant",
            "hypothesis",
            "horizon_months",
            "baseline_breach_month",
            "variant_breach_month",
            "months_gained",
            "baseline_breaks",
            "variant_breaks",
            "baseline_undecided_months",
            "variant_undecided_months",
            "variant_months_simulated",
        ]
        .map(String::from)
        .to_vec();
        let mut rows = Vec::new();
        for w in &st.whatifs {
            for b in &w.breach_months {
                rows.push(vec![
                    w.variant.clone(),
                    b.hypothesis.clone(),
                    b.horizon_months.to_string(),
                    month_cell(b.before),
                    month_cell(b.after),
                    b.months_gained().map_or(String::new(), |g| g.to_string()),
                    b.before_objective.clone().unwrap_or_default(),
                    b.after_objective.clone().unwrap_or_default(),
                    months_list(&b.before_undecided),
                    months_list(&b.after_undecided),
                    months_list(&b.after_months_simulated),
                ]);
            }
        }
        render_rows("whatif_breach.csv", header, rows)
    }
}

/// The columns that say where an account was taken.
fn when_cells(a: &crate::study::accounting::SloAccount) -> Vec<String> {
    vec![
        a.when.clone(),
        a.hypothesis.clone().unwrap_or_default(),
        a.month.to_string(),
        num(a.level),
        a.replications.to_string(),
    ]
}

fn when_header(r: &Results) -> Vec<String> {
    [
        "when",
        "hypothesis",
        "month",
        level_column(r),
        "replications",
    ]
    .map(String::from)
    .to_vec()
}

impl Exporter<Results> for SloCsv {
    /// One row per load accounted x objective: its figure with its interval, the target and
    /// the verdict (`pass`, `fail`, `inconclusive`).
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(st) = r.study.as_ref().filter(|s| !s.slo_accounts.is_empty()) else {
            return Ok(Vec::new());
        };
        let mut header = when_header(r);
        header.extend(
            [
                "scope",
                "endpoint",
                "objective",
                "metric",
                "unit",
                "value",
                "value_ci_low",
                "value_ci_high",
                "target",
                "verdict",
            ]
            .map(String::from),
        );
        let mut rows = Vec::new();
        for a in &st.slo_accounts {
            for c in &a.verdicts {
                let mut row = when_cells(a);
                row.extend([
                    if c.endpoint.is_some() {
                        "endpoint"
                    } else {
                        "global"
                    }
                    .to_string(),
                    c.endpoint.clone().unwrap_or_default(),
                    c.label.clone(),
                    c.metric.to_string(),
                    c.unit.to_string(),
                ]);
                row.extend(three(&c.value));
                row.extend([num(c.threshold), c.verdict.word().to_string()]);
                rows.push(row);
            }
        }
        render_rows("slo.csv", header, rows)
    }
}

impl Exporter<Results> for ErrorBudgetCsv {
    /// One row per load accounted: the 30-day error budget, what the peak's simulated error
    /// rate held 30 days would use of it (with its interval) and what remains; the global Apdex
    /// against its target.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let Some(st) = r.study.as_ref().filter(|s| !s.slo_accounts.is_empty()) else {
            return Ok(Vec::new());
        };
        let mut header = when_header(r);
        header.extend(
            [
                "budget_objective",
                "window_days",
                "budget_min",
                "error_rate_ratio",
                "error_rate_ratio_ci_low",
                "error_rate_ratio_ci_high",
                "consumed_min",
                "consumed_min_ci_low",
                "consumed_min_ci_high",
                "remaining_min",
                "remaining_min_worst",
                "apdex_t_ms",
                "apdex_score",
                "apdex_score_ci_low",
                "apdex_score_ci_high",
                "apdex_target",
                "apdex_verdict",
                "slos_pass",
                "slos_fail",
                "slos_inconclusive",
            ]
            .map(String::from),
        );
        let blank = |n: usize| vec![String::new(); n];
        let mut rows = Vec::new();
        for a in &st.slo_accounts {
            let mut row = when_cells(a);
            match &a.budget {
                Some(b) => {
                    row.extend([b.objective.clone(), num(b.window_days), num(b.budget_min)]);
                    row.extend(three(&b.error_rate));
                    row.extend(three(&b.consumed_min));
                    row.extend([num(b.remaining_min), num(b.remaining_min_worst)]);
                }
                None => row.extend(blank(11)),
            }
            match a.apdex.iter().find(|x| x.endpoint.is_none()) {
                Some(x) => {
                    row.push(num(x.t_ms));
                    row.extend(three(&x.value));
                    row.extend([num(x.target), x.verdict.word().to_string()]);
                }
                None => row.extend(blank(6)),
            }
            let (p, f, i) = a.tally();
            row.extend([p.to_string(), f.to_string(), i.to_string()]);
            rows.push(row);
        }
        render_rows("error_budget.csv", header, rows)
    }
}
