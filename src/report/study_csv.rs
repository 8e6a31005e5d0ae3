//! The study's tables as CSV, units in the column names: `breaking_point.csv` (the
//! latency-vs-load curve the breaking-point search simulated).

use super::{Exporter, Output, RenderError, Results};
use crate::stats::Estimate;

pub struct BreakingPointCsv;

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
