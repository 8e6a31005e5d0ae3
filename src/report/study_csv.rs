//! The study's tables as CSV, units in the column names: `breaking_point.csv` (the
//! latency-vs-load curve the breaking-point search simulated), `projections.csv` (every month
//! of every growth hypothesis), `events.csv` (every event on every hypothesis) and
//! `whatif.csv` (every variant's paired changes).

use super::{Exporter, Output, RenderError, Results};
use crate::stats::Estimate;

pub struct BreakingPointCsv;
pub struct ProjectionsCsv;
pub struct EventsCsv;
pub struct WhatifCsv;

const BREAKING_POINT: &str = "breaking_point.csv";

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

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

fn render_rows(
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
        let mut rows = Vec::new();
        for p in &st.projections {
            for m in &p.months {
                let mut row = vec![
                    p.hypothesis.clone(),
                    m.month.to_string(),
                    num(m.load_multiplier),
                ];
                row.extend(point_row(&m.point));
                let first = p.first_breach.as_ref().is_some_and(|(k, _)| *k == m.month);
                row.push(if first { "yes".into() } else { String::new() });
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
