//! `summary.csv` (one row per scenario x scope x metric, like Locust's stats) and
//! `timeseries.csv` (one row per scenario x window, like Locust's stats_history).

use super::{Exporter, Output, RenderError, Results};

pub struct SummaryCsv;

const SUMMARY: &str = "summary.csv";
pub struct TimeseriesCsv;

pub(super) fn finish(
    file: &'static str,
    w: csv::Writer<Vec<u8>>,
) -> Result<Vec<Output>, RenderError> {
    let bytes = w.into_inner().map_err(|e| RenderError::Render {
        file: file.into(),
        message: e.to_string(),
    })?;
    Ok(vec![Output::new(file, bytes)])
}

pub(super) fn err(file: &'static str) -> impl Fn(csv::Error) -> RenderError {
    move |e| RenderError::Render {
        file: file.into(),
        message: e.to_string(),
    }
}

/// A number as CSV text: empty when unknown (no data).
pub(super) fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

impl Exporter<Results> for SummaryCsv {
    /// One row per figure, then one per objective (scope `objective`, with its `target` and
    /// `verdict`, as k6's summary export carries its thresholds). `upper` says what `ci_high`
    /// is: `limit` (the 95 % limit), `at_least_max` (the limit lies beyond the largest value
    /// observed, which `ci_high` holds) or `unbounded` (unfinished requests leave the figure
    /// unknown above `mean`; `ci_high` is empty).
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        let e = err(SUMMARY);
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
            "upper",
            "target",
            "verdict",
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
                let k = &f.key;
                let mut row = estimate_row(&s.name, &k.scope, k.metric, k.unit, &f.estimate);
                let upper = upper(&f.estimate).to_string();
                row.extend([estimator.to_string(), upper, String::new(), String::new()]);
                w.write_record(&row).map_err(&e)?;
            }
            for c in &s.slos {
                let scope = c
                    .endpoint
                    .as_ref()
                    .map_or(crate::stats::Scope::Global, |n| {
                        crate::stats::Scope::Endpoint(n.clone())
                    });
                let mut row = estimate_row(&s.name, &scope, c.metric, c.unit, &c.value);
                row[1] = "objective".into();
                let quantile = matches!(
                    c.metric,
                    crate::stats::Metric::Request(crate::stats::RequestMetric::Latency(_))
                );
                let estimator = if quantile {
                    "pooled_quantile_inverted_cdf"
                } else {
                    "replication_mean"
                };
                row.extend([
                    estimator.to_string(),
                    upper(&c.value).into(),
                    num(c.threshold),
                    c.verdict.word().to_string(),
                ]);
                w.write_record(&row).map_err(&e)?;
            }
        }
        finish(SUMMARY, w)
    }
}

/// The first nine columns of a row: scenario, scope kind, name, metric, unit, the estimate
/// and its replications.
fn estimate_row(
    scenario: &str,
    scope: &crate::stats::Scope,
    metric: crate::stats::Metric,
    unit: crate::stats::Unit,
    e: &crate::stats::Estimate,
) -> Vec<String> {
    vec![
        scenario.to_string(),
        scope.kind().to_string(),
        scope.name().to_string(),
        metric.to_string(),
        unit.to_string(),
        num(e.mean),
        num(e.ci_low),
        num(e.ci_high),
        e.n.to_string(),
    ]
}

fn upper(e: &crate::stats::Estimate) -> &'static str {
    match e.upper {
        crate::stats::ci::Upper::Limit => "limit",
        crate::stats::ci::Upper::AtLeastMax => "at_least_max",
        crate::stats::ci::Upper::Unbounded => "unbounded",
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

impl Exporter<Results> for TimeseriesCsv {
    /// One row per scenario x window.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        spans("timeseries.csv", r, "window", |s| {
            s.timeseries.iter().map(|w| (None, w)).collect()
        })
    }
}

/// `stages.csv`: one row per scenario x stage of a load test, the same columns as
/// `timeseries.csv` plus the stage's number and what it does.
pub struct StagesCsv;

impl Exporter<Results> for StagesCsv {
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        spans("stages.csv", r, "stage", |s| {
            s.stages
                .iter()
                .map(|st| (Some((st.index, st.label.as_str())), &st.span))
                .collect()
        })
    }
}

type SpanRow<'a> = (Option<(usize, &'a str)>, &'a crate::stats::SpanSummary);

/// Rows of spans: the span's figures, then per resource its utilization (busy servers over
/// servers; empty for an unlimited one) and queue, then per followed endpoint its p95.
fn spans<'a>(
    file: &'static str,
    r: &'a Results,
    what: &str,
    rows: impl Fn(&'a crate::analysis::results::ScenarioResults) -> Vec<SpanRow<'a>>,
) -> Result<Vec<Output>, RenderError> {
    let e = err(file);
    let mut w = csv::Writer::from_writer(Vec::new());
    let level = if r.closed_workload {
        "active_users"
    } else {
        "arrival_rate_rps"
    };
    let mut header: Vec<String> = vec!["scenario".into()];
    if what == "stage" {
        header.extend(["stage".into(), "stage_does".into()]);
    }
    header.extend([
        format!("{what}_start_s"),
        format!("{what}_end_s"),
        level.into(),
        "throughput_rps".into(),
        "p95_ms".into(),
        "mean_ms".into(),
        "error_rate".into(),
    ]);
    let fragment = |n: &str| column_fragment(n);
    header.extend(
        r.resources
            .iter()
            .map(|res| format!("queue_{}", fragment(&res.name))),
    );
    header.extend(
        r.resources
            .iter()
            .map(|res| format!("utilization_{}", fragment(&res.name))),
    );
    header.extend(r.tracked.iter().map(|n| format!("p95_ms_{}", fragment(n))));
    w.write_record(&header).map_err(&e)?;
    let opt = |x: Option<f64>| x.map_or(String::new(), num);
    for s in &r.scenarios {
        for (stage, win) in rows(s) {
            let mut row = vec![s.name.clone()];
            if let Some((k, label)) = stage {
                row.extend([k.to_string(), label.to_string()]);
            }
            row.extend([
                num(win.start_s),
                num(win.end_s),
                num(win.level),
                num(win.throughput_rps),
                opt(win.p95_ms),
                opt(win.mean_ms),
                num(win.error_rate),
            ]);
            row.extend(win.queue.iter().map(|q| num(*q)));
            row.extend(win.utilization.iter().map(|u| opt(*u)));
            row.extend(win.endpoint_p95_ms.iter().map(|p| opt(*p)));
            w.write_record(&row).map_err(&e)?;
        }
    }
    finish(file, w)
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
