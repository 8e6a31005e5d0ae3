//! The results of a run as one document: what `results.json` holds and every exporter reads.

use crate::analysis::breaks::{self, Bottleneck, FirstFailure, StageResult};
use crate::analysis::capacity::{self, ScenarioLoad};
use crate::analysis::slo::{self, SloCheck};
use crate::analysis::timing::{self, ScopeTime, TimeBreakdown};
use crate::engine::{Program, ResKind};
use crate::model::{Checked, Model};
use crate::montecarlo::{PrecisionReport, RunParams, ScenarioRun, WarmupInfo};
use crate::stats::{Estimate, Figure, Metric, Scope, SpanSummary};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How the figures are defined (they change the numbers, so they travel with them).
pub const SEMANTICS: [(&str, &str); 12] = [
    (
        "cores",
        "an app's cores are shared by processor sharing unless it says scheduling: fcfs: each of n runnable compute steps progresses at min(1, cpus / n); the cpu queue is the runnable steps beyond the cores, its wait the time runnable but not running",
    ),
    (
        "latency",
        "response time of successful responses as the client sees it, and the age of every request still waiting for its response when the run ended (right-censored: at least that slow); errors are counted in error_rate",
    ),
    (
        "unfinished",
        "intervals are widened to what a figure would be if the requests still waiting at the end never got a response (errors for error_rate, frustrated for apdex, infinitely slow for percentiles); a percentile that leaves unknown is reported as a lower bound (upper: unbounded)",
    ),
    (
        "verdict",
        "pass when the whole 95% interval meets the target, fail when the whole interval misses it, inconclusive otherwise",
    ),
    (
        "client_timeout",
        "a response later than the endpoint's timeout is a client_timeout error at the timeout; the server keeps working on it, and the proxy frees its connection",
    ),
    (
        "throughput",
        "successful responses per second of measured time",
    ),
    (
        "error_rate",
        "errors / all responses (successful + errors), per attempt; retries are attempts",
    ),
    (
        "queue",
        "requests waiting for a server, not counting those in service",
    ),
    ("utilization", "time-averaged busy servers / servers"),
    (
        "warm_up",
        "steady-state figures leave out the warm-up (statistics reset at its end, requests counted by completion time); scenarios with stages report the whole run",
    ),
    (
        "parts",
        "a successful request's response time is the sum of its parts: per resource group (an app's instances together, a database's replicas together) the wait for a unit and the time in service (on processor-sharing cores the step's work, the rest of the step a wait for a core), and delays; the slowest 5% are an endpoint's requests above its 95th percentile within each replication, cut by response-time classes 9% wide (the class of the p95 counted in proportion)",
    ),
    (
        "pool",
        "a request takes its pooled connection at its first query and returns it when it ends (scope request) or around each query (scope query)",
    ),
];

/// A flattened resource, as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceMeta {
    pub name: String,
    pub kind: ResKind,
    /// Servers; `None` when unlimited.
    pub servers: Option<u32>,
}

/// One scenario's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResults {
    pub name: String,
    pub description: Option<String>,
    pub horizon_s: f64,
    pub window_s: f64,
    pub warmup: WarmupInfo,
    pub replications: usize,
    pub events: u64,
    /// Attempts or jobs refused by the run's in-flight cap (overload protection).
    pub capped: u64,
    pub precision: Option<PrecisionReport>,
    /// Resources the open workload offers 100 % or more of their capacity at the scenario's
    /// peak (utilization law): their queues grow for as long as the overload lasts.
    pub overloaded: Vec<Overload>,
    /// Requests that had no response when the runs ended.
    pub unfinished: Unfinished,
    pub slos: Vec<SloCheck>,
    /// The busiest active resource, as measured over the whole run.
    pub bottleneck: Option<Bottleneck>,
    /// The first objective to fail (in a stage of a load test, or over the whole run).
    pub first_failure: Option<FirstFailure>,
    pub figures: Vec<Figure>,
    pub timeseries: Vec<SpanSummary>,
    /// The stages of a load test, each measured on its own (empty without stages).
    pub stages: Vec<StageResult>,
    /// Where the time goes: response times split by part, and the resource groups ranked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeBreakdown>,
}

impl ScenarioResults {
    /// The Student t quantile its 95 % intervals use (with `replications − 1` degrees of
    /// freedom): how much wider than ±2 standard errors they are.
    pub fn student_t(&self) -> f64 {
        crate::stats::ci::t_quantile(self.replications)
    }
}

/// Requests still waiting for their response when the runs ended, over all replications:
/// right-censored response times, at least as long as their age.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Unfinished {
    pub requests: u64,
    /// Of the requests sent (answered or not).
    pub share: f64,
    /// Age of the oldest, seconds.
    pub oldest_s: f64,
    /// Endpoints where at least [`UNFINISHED_WORTH_SAYING`] of the requests sent had no
    /// response: the ones whose figures rest on survivors.
    pub endpoints: Vec<String>,
}

/// Share of an endpoint's requests left unfinished above which the summary says so: below it,
/// they are the few in flight when any run stops.
pub const UNFINISHED_WORTH_SAYING: f64 = 1e-3;

impl Unfinished {
    fn of(c: &Checked, pooled: &crate::stats::figures::Pooled) -> Unfinished {
        let share = |k: &crate::stats::figures::ScopeCounts| {
            let u = k.unfinished.count();
            let sent = k.responses + u;
            if sent == 0 {
                0.0
            } else {
                u as f64 / sent as f64
            }
        };
        let Some(all) = pooled.counts.first() else {
            return Unfinished::default();
        };
        let endpoints = c
            .model
            .endpoints
            .iter()
            .zip(&pooled.counts[1..])
            .filter(|(_, k)| share(k) >= UNFINISHED_WORTH_SAYING)
            .map(|(e, _)| e.name.clone())
            .collect();
        Unfinished {
            requests: all.unfinished.count(),
            share: share(all),
            oldest_s: all.unfinished.max(),
            endpoints,
        }
    }
}

/// A resource loaded beyond its capacity, by the utilization law.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overload {
    pub resource: String,
    pub utilization: f64,
}

/// Everything a run produced, plus what is needed to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub capsim_version: String,
    pub model: Model,
    pub run: RunParams,
    /// Closed workload (levels are users) or open (levels are arrivals per second).
    pub closed_workload: bool,
    pub semantics: Vec<(String, String)>,
    pub resources: Vec<ResourceMeta>,
    /// The endpoints followed in time series and stages, by slot.
    pub tracked: Vec<String>,
    pub max_in_flight: u32,
    pub scenarios: Vec<ScenarioResults>,
    /// The study (breaking point, ...), when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<crate::study::run::StudyResults>,
}

impl Results {
    pub fn new(c: &Checked, prog: &Program, params: &RunParams, runs: &[ScenarioRun]) -> Results {
        let loads = capacity::analyse(c);
        let resources = prog
            .resources
            .iter()
            .map(|r| ResourceMeta {
                name: r.name.clone(),
                kind: r.kind,
                servers: (r.units != crate::engine::UNLIMITED).then_some(r.units),
            })
            .collect();
        Results {
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            model: c.model.clone(),
            run: params.clone(),
            closed_workload: c.workload.is_closed(),
            semantics: SEMANTICS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            resources,
            tracked: prog
                .tracked
                .iter()
                .map(|&i| prog.endpoints[i as usize].name.clone())
                .collect(),
            max_in_flight: prog.max_in_flight,
            scenarios: runs.iter().map(|r| scenario(c, prog, r, &loads)).collect(),
            study: None,
        }
    }

    /// The scenario and endpoint whose time split the answers describe: of the scenarios that
    /// split their response times, the lightest (by peak load) where an objective fails, with
    /// the endpoint of its first failing per-endpoint objective; else the heaviest, with its
    /// endpoint whose slowest requests are slowest.
    pub fn time_focus(&self) -> Option<(&ScenarioResults, &ScopeTime)> {
        let peak = |s: &ScenarioResults| {
            s.figures
                .iter()
                .find(|f| f.key.scope == Scope::Load && f.key.metric == Metric::LevelMax)
                .map_or(0.0, |f| f.estimate.mean)
        };
        let split: Vec<&ScenarioResults> =
            self.scenarios.iter().filter(|s| s.time.is_some()).collect();
        let failing = split
            .iter()
            .filter(|s| s.slos.iter().any(|c| c.verdict == slo::Verdict::Fail))
            .min_by(|a, b| peak(a).total_cmp(&peak(b)));
        let s = failing.or_else(|| split.iter().max_by(|a, b| peak(a).total_cmp(&peak(b))))?;
        let time = s.time.as_ref()?;
        let endpoint = s
            .slos
            .iter()
            .filter(|c| c.verdict == slo::Verdict::Fail)
            .find_map(|c| c.endpoint.as_deref())
            .and_then(|e| time.scope(e))
            .or_else(|| {
                time.scopes
                    .iter()
                    .filter(|t| t.endpoint.is_some())
                    .max_by(|a, b| a.slow_mean_ms.total_cmp(&b.slow_mean_ms))
            })?;
        Some((s, endpoint))
    }

    /// True when every objective of every scenario passes (an inconclusive verdict is not a
    /// pass).
    pub fn slos_met(&self) -> bool {
        self.scenarios
            .iter()
            .all(|s| s.slos.iter().all(SloCheck::passed))
    }
}

fn scenario(
    c: &Checked,
    prog: &Program,
    r: &ScenarioRun,
    loads: &[ScenarioLoad],
) -> ScenarioResults {
    let overloaded = loads
        .iter()
        .filter(|l| l.scenario == r.name && !c.workload.is_closed())
        .flat_map(|l| &l.resources)
        .filter(|res| res.saturated && !res.lower_bound)
        .map(|res| Overload {
            resource: res.name.clone(),
            utilization: res.utilization.unwrap_or(f64::NAN),
        })
        .collect();
    let slos = slo::evaluate(&c.model, &r.aggregate);
    let figures = r.aggregate.figures();
    let time = timing::split(prog, &figures);
    let stages = c
        .scenarios
        .iter()
        .find(|s| s.name == r.name)
        .map_or_else(Vec::new, |s| {
            breaks::stages(prog, s, &c.model.slos, &r.aggregate)
        });
    ScenarioResults {
        name: r.name.clone(),
        description: r.description.clone(),
        horizon_s: r.horizon_s,
        window_s: r.window_s,
        warmup: r.warmup,
        replications: r.aggregate.replications(),
        events: r.aggregate.events,
        capped: r.aggregate.capped,
        precision: r.precision.clone(),
        overloaded,
        unfinished: Unfinished::of(c, &r.aggregate.pooled),
        bottleneck: breaks::bottleneck(prog, &r.aggregate),
        first_failure: breaks::first_failure(prog, &r.aggregate, &c.model.slos, &slos, &stages),
        slos,
        figures,
        timeseries: r.aggregate.windows(),
        stages,
        time,
    }
}

/// A scenario's figures looked up by their key, in constant time (a summary of 1 000
/// endpoints reads tens of thousands of figures).
pub struct FigureIndex<'a> {
    by_key: HashMap<(&'a Scope, Metric), &'a Estimate>,
}

impl<'a> FigureIndex<'a> {
    pub fn new(s: &'a ScenarioResults) -> FigureIndex<'a> {
        FigureIndex::of(&s.figures)
    }

    /// The index of `figures` (a scenario's, before its results are assembled).
    pub fn of(figures: &'a [Figure]) -> FigureIndex<'a> {
        FigureIndex {
            by_key: figures
                .iter()
                .map(|f| ((&f.key.scope, f.key.metric), &f.estimate))
                .collect(),
        }
    }

    pub fn get(&self, scope: &Scope, metric: Metric) -> Option<&'a Estimate> {
        self.by_key.get(&(scope, metric)).copied()
    }
}
