//! `summary.csv` (one row per scenario x scope x metric, like Locust's stats) and
//! `timeseries.csv` (one row per scenario x window, like Locust's stats_history).

use super::{Exporter, RenderError, Results};

pub struct SummaryCsv;
pub struct TimeseriesCsv;

fn finish(file: &'static str, w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, RenderError> {
    w.into_inner().map_err(|e| RenderError::Render {
        file,
        message: e.to_string(),
    })
}

fn err(file: &'static str) -> impl Fn(csv::Error) -> RenderError {
    move |e| RenderError::Render {
        file,
        message: e.to_string(),
    }
}

/// A number as CSV text: empty when unknown (no data).
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn render(&self, r: &Results) -> Result<Vec<u8>, RenderError> {
        let e = err(self.file_name());
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "scenario",
            "scope",
            "name",
            "metric",
            "unit",
            "mean",
            "ci_low",
            "ci_high",
            "replications",
            "estimator",
        ];
        w.write_record(header).map_err(&e)?;
        for s in &r.scenarios {
            for f in &s.figures {
                let estimator = match f.key.estimator {
                    crate::stats::Estimator::ReplicationMean => "replication_mean",
                    crate::stats::Estimator::PooledQuantile { .. } => {
                        "pooled_quantile_inverted_cdf"
                    }
                };
                let row = [
                    s.name.clone(),
                    f.key.scope.kind().to_string(),
                    f.key.scope.name().to_string(),
                    f.key.metric.clone(),
                    f.key.unit.clone(),
                    num(f.estimate.mean),
                    num(f.estimate.ci_low),
                    num(f.estimate.ci_high),
                    f.estimate.n.to_string(),
                    estimator.to_string(),
                ];
                w.write_record(&row).map_err(&e)?;
            }
        }
        finish(self.file_name(), w)
    }
}

/// A resource name as a column-name fragment: `flask[1] workers` -> `flask_1_workers`.
pub fn column_fragment(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

impl Exporter for TimeseriesCsv {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }

    fn render(&self, r: &Results) -> Result<Vec<u8>, RenderError> {
        let e = err(self.file_name());
        let mut w = csv::Writer::from_writer(Vec::new());
        let level = if r.closed_workload {
            "active_users"
        } else {
            "arrival_rate_rps"
        };
        let mut header: Vec<String> = [
            "scenario",
            "window_start_s",
            "window_end_s",
            level,
            "throughput_rps",
            "p95_ms",
            "mean_ms",
            "error_rate",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(
            r.resources
                .iter()
                .map(|res| format!("queue_{}", column_fragment(&res.name))),
        );
        w.write_record(&header).map_err(&e)?;
        for s in &r.scenarios {
            for win in &s.timeseries {
                let mut row = vec![
                    s.name.clone(),
                    num(win.start_s),
                    num(win.end_s),
                    num(win.level),
                    num(win.throughput_rps),
                    win.p95_ms.map_or(String::new(), num),
                    win.mean_ms.map_or(String::new(), num),
                    num(win.error_rate),
                ];
                row.extend(win.queue.iter().map(|q| num(*q)));
                w.write_record(&row).map_err(&e)?;
            }
        }
        finish(self.file_name(), w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_become_snake_case_columns() {
        assert_eq!(column_fragment("flask[1] workers"), "flask_1_workers");
        assert_eq!(column_fragment("mysql replica 1"), "mysql_replica_1");
    }
}
