//! The reported figures: which numbers a scenario produces, in which unit, by which estimator,
//! and how each is read off one replication.
//!
//! A [`Schema`] lists the figures once per scenario; every replication yields one `f64` per
//! figure, in schema order. That flat vector is all the across-replication statistics need,
//! besides the pooled histograms of [`Pooled`].

use super::ci::Range;
use super::histogram::{CdfBand, Coarse, Latency};
use super::recorder::{EndpointRecord, Replication};
use super::series::{SpanLatency, pool_latency};
use crate::engine::{ErrorKind, Program, ResKind, UNLIMITED};
use serde::{Deserialize, Serialize};

/// What a figure describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Scope {
    /// All endpoints together.
    Global,
    Endpoint(String),
    Resource(String),
    /// An app instance (memory).
    Instance(String),
    /// The offered load: active users, or the arrival rate.
    Load,
}

impl Scope {
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Endpoint(_) => "endpoint",
            Scope::Resource(_) => "resource",
            Scope::Instance(_) => "instance",
            Scope::Load => "load",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Scope::Global => "all",
            Scope::Endpoint(n) | Scope::Resource(n) | Scope::Instance(n) => n,
            Scope::Load => "load",
        }
    }
}

/// How the across-replication estimate is formed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Mean of the per-replication values, Student t interval.
    ReplicationMean,
    /// Quantile `q` of the histogram pooled over replications; its interval inverts the
    /// replications' fractions of values below that point (see
    /// [`super::ci::inverted_quantile`]).
    PooledQuantile { q: f64, hist: HistRef },
}

/// Which pooled histogram a quantile is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistRef {
    Global,
    Endpoint(u32),
    ResourceWait(u32),
}

/// One reported figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureKey {
    pub scope: Scope,
    /// snake_case, e.g. `latency_p95`.
    pub metric: String,
    /// `ms`, `rps`, `ratio`, `requests`, `mb`, `users`.
    pub unit: String,
    pub estimator: Estimator,
    /// The values it can take, which its interval respects.
    #[serde(default)]
    pub range: Range,
    /// How requests with no response at the end of the runs widen its interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_case: Option<WorstCase>,
}

/// A figure whose interval also covers what it would be if the requests that had no response
/// when the runs ended never got one (see [`Pooled::counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "if_unfinished_never_end", rename_all = "snake_case")]
pub enum WorstCase {
    /// They would all be errors: the upper end is at least `(errors + unfinished) /
    /// (responses + unfinished)`.
    ErrorRate { slot: u32 },
    /// They would all be frustrated: the lower end is at most the Apdex without their credit.
    Apdex { slot: u32 },
}

use crate::model::validate::REPORTED_PERCENTILES;

/// The metric name of a latency percentile (`95` -> `latency_p95`, `99.9` -> `latency_p99_9`).
pub fn latency_metric(percentile: f64) -> String {
    format!("latency_p{}", format!("{percentile}").replace('.', "_"))
}

/// The figures of one scenario, in extraction order.
///
/// Only the figures are stored; their bands are derived from them, also when a schema is read
/// back (`serde(from)`), so a deserialised schema reads the same bands as the one written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "SchemaFigures")]
pub struct Schema {
    pub figures: Vec<FigureKey>,
    /// The histograms the pooled-quantile figures read, in order of first use, each with the
    /// smallest and largest quantile read from it; and per figure the index of its histogram
    /// there (the index of its [`CdfBand`] in [`Schema::bands`]).
    #[serde(skip)]
    band_hists: Vec<(HistRef, f64, f64)>,
    #[serde(skip)]
    band_slots: Vec<Option<u32>>,
}

/// What a [`Schema`] is serialised as: its figures.
#[derive(Deserialize)]
struct SchemaFigures {
    figures: Vec<FigureKey>,
}

impl From<SchemaFigures> for Schema {
    /// The schema of `figures`, with the histograms its pooled quantiles read, each with the
    /// smallest and largest quantile read from it.
    fn from(SchemaFigures { figures }: SchemaFigures) -> Schema {
        let mut band_hists: Vec<(HistRef, f64, f64)> = Vec::new();
        let band_slots = figures
            .iter()
            .map(|k| match k.estimator {
                Estimator::PooledQuantile { q, hist } => {
                    let slot = match band_hists.iter().position(|b| b.0 == hist) {
                        Some(s) => s,
                        None => {
                            band_hists.push((hist, q, q));
                            band_hists.len() - 1
                        }
                    };
                    let b = &mut band_hists[slot];
                    (b.1, b.2) = (b.1.min(q), b.2.max(q));
                    Some(slot as u32)
                }
                Estimator::ReplicationMean => None,
            })
            .collect();
        Schema {
            figures,
            band_hists,
            band_slots,
        }
    }
}

/// A replication-mean figure; fractions (`ratio`, `score`) lie in [0, 1], everything else
/// capsim reports is a duration, a rate, a count or a size, never negative.
fn key(scope: &Scope, metric: &str, unit: &str) -> FigureKey {
    let range = match unit {
        "ratio" | "score" => Range::Unit,
        _ => Range::NonNegative,
    };
    FigureKey {
        scope: scope.clone(),
        metric: metric.to_string(),
        unit: unit.to_string(),
        estimator: Estimator::ReplicationMean,
        range,
        worst_case: None,
    }
}

impl Schema {
    pub fn new(prog: &Program, closed: bool) -> Schema {
        let mut f = Vec::new();
        let load_unit = if closed { "users" } else { "rps" };
        f.push(key(&Scope::Load, "level_mean", load_unit));
        f.push(key(&Scope::Load, "level_max", load_unit));
        request_figures(&mut f, &Scope::Global, HistRef::Global, 0);
        for (i, e) in prog.endpoints.iter().enumerate() {
            let scope = Scope::Endpoint(e.name.clone());
            request_figures(&mut f, &scope, HistRef::Endpoint(i as u32), i as u32 + 1);
        }
        for (i, r) in prog.resources.iter().enumerate() {
            resource_figures(&mut f, &Scope::Resource(r.name.clone()), i as u32, r.units);
        }
        for app in &prog.apps {
            if app.memory.is_some() {
                for i in 0..app.instances {
                    let s = Scope::Instance(format!("{}[{}]", app.name, i + 1));
                    f.push(key(&s, "memory_mean", "mb"));
                    f.push(key(&s, "memory_peak", "mb"));
                    // Memory in use over RAM: above 1 when the model overcommits.
                    let mut k = key(&s, "memory_utilization", "ratio");
                    k.range = Range::NonNegative;
                    f.push(k);
                }
            }
        }
        Schema::from(SchemaFigures { figures: f })
    }

    pub fn find(&self, scope: &Scope, metric: &str) -> Option<usize> {
        self.figures
            .iter()
            .position(|k| &k.scope == scope && k.metric == metric)
    }

    /// The index of figure `i`'s [`CdfBand`] in [`Schema::bands`] (pooled-quantile figures).
    pub fn quantile_slot(&self, i: usize) -> Option<usize> {
        self.band_slots
            .get(i)
            .copied()
            .flatten()
            .map(|s| s as usize)
    }

    /// One [`CdfBand`] per histogram that pooled-quantile figures read, for replication `r`
    /// (whose endpoints together are `global`, see [`global_record`]): around every quantile
    /// read from it (see [`CdfBand::spanning`]).
    pub fn bands(&self, r: &Replication, global: &EndpointRecord) -> Vec<CdfBand> {
        self.band_hists
            .iter()
            .map(|&(hist, low, high)| {
                let h = match hist {
                    HistRef::Global => Coarse::from_latency(&global.latency),
                    HistRef::Endpoint(i) => Coarse::from_latency(&r.endpoints[i as usize].latency),
                    HistRef::ResourceWait(i) => {
                        Coarse::from_latency(&r.resources[i as usize].waits)
                    }
                };
                CdfBand::spanning(&h, low, high)
            })
            .collect()
    }

    /// One value per figure for replication `r` (whose endpoints together are `global`), in
    /// schema order.
    pub fn extract(&self, prog: &Program, r: &Replication, global: &EndpointRecord) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.figures.len());
        out.push(r.level_mean);
        out.push(r.level_max);
        request_values(&mut out, global, r.measured_s());
        for e in &r.endpoints {
            request_values(&mut out, e, r.measured_s());
        }
        for (res, info) in r.resources.iter().zip(&prog.resources) {
            resource_values(&mut out, res, info.units, r.measured_s());
        }
        for app in &prog.apps {
            if let Some(m) = &app.memory {
                for i in 0..app.instances {
                    let k = (app.first_instance + i) as usize;
                    let fixed = m.base_mb + f64::from(app.worker_count) * m.per_worker_mb;
                    let mean = fixed + r.instance_load_mean[k] * m.per_request_mb;
                    out.push(mean);
                    out.push(fixed + r.instance_load_max[k] * m.per_request_mb);
                    out.push(mean / m.ram_mb);
                }
            }
        }
        debug_assert_eq!(out.len(), self.figures.len());
        out
    }
}

/// The figures of a request scope; `slot` is its index in [`Pooled::counts`].
fn request_figures(f: &mut Vec<FigureKey>, s: &Scope, hist: HistRef, slot: u32) {
    f.push(key(s, "throughput", "rps"));
    f.push(key(s, "attempt_rate", "rps"));
    let mut k = key(s, "error_rate", "ratio");
    k.worst_case = Some(WorstCase::ErrorRate { slot });
    f.push(k);
    for k in ErrorKind::ALL {
        f.push(key(s, &format!("error_rate_{}", k.name()), "ratio"));
    }
    f.push(key(s, "latency_mean", "ms"));
    for p in REPORTED_PERCENTILES {
        let mut k = key(s, &latency_metric(p), "ms");
        k.estimator = Estimator::PooledQuantile { q: p / 100.0, hist };
        f.push(k);
    }
    f.push(key(s, "latency_max", "ms"));
    let mut k = key(s, "apdex", "score");
    k.worst_case = Some(WorstCase::Apdex { slot });
    f.push(k);
    f.push(key(s, "in_system_mean", "requests"));
    f.push(key(s, "residence_mean", "ms"));
    f.push(key(s, "unfinished", "requests"));
}

fn request_values(out: &mut Vec<f64>, e: &super::recorder::EndpointRecord, span: f64) {
    let responses = e.responses() as f64;
    let ratio = |x: u64| {
        if responses > 0.0 {
            x as f64 / responses
        } else {
            0.0
        }
    };
    out.push(e.ok as f64 / span);
    out.push(responses / span);
    out.push(ratio(e.error_count()));
    for k in ErrorKind::ALL {
        out.push(ratio(e.errors[k.index()]));
    }
    // Response times, with the unfinished attempts at their age (`latency` holds both).
    let timed = e.latency.count();
    let per_timed = |x: f64| if timed > 0 { x } else { f64::NAN };
    out.push(per_timed(1e3 * e.latency_sum_s / timed as f64));
    for p in REPORTED_PERCENTILES {
        out.push(per_timed(1e3 * e.latency.quantile(p / 100.0)));
    }
    out.push(per_timed(1e3 * e.latency.max()));
    let asked = responses + e.unfinished_count() as f64;
    out.push(if asked > 0.0 {
        e.apdex_credit() / asked
    } else {
        f64::NAN
    });
    out.push(e.in_system_mean);
    out.push(if e.left > 0 {
        1e3 * e.residence_sum_s / e.left as f64
    } else {
        f64::NAN
    });
    out.push(e.unfinished_count() as f64);
}

fn resource_figures(f: &mut Vec<FigureKey>, s: &Scope, i: u32, units: u32) {
    if units == UNLIMITED {
        f.push(key(s, "in_use_mean", "requests"));
    } else {
        f.push(key(s, "utilization", "ratio"));
    }
    f.push(key(s, "in_use_max", "requests"));
    f.push(key(s, "queue_mean", "requests"));
    f.push(key(s, "queue_max", "requests"));
    f.push(key(s, "wait_mean", "ms"));
    let mut k = key(s, "wait_p95", "ms");
    k.estimator = Estimator::PooledQuantile {
        q: 0.95,
        hist: HistRef::ResourceWait(i),
    };
    f.push(k);
    f.push(key(s, "served_rate", "rps"));
    f.push(key(s, "reject_rate", "rps"));
    f.push(key(s, "timeout_rate", "rps"));
}

fn resource_values(out: &mut Vec<f64>, r: &super::recorder::ResourceRecord, units: u32, span: f64) {
    out.push(if units == UNLIMITED {
        r.busy_mean
    } else {
        r.busy_mean / f64::from(units)
    });
    out.push(r.busy_max);
    out.push(r.waiting_mean);
    out.push(r.waiting_max);
    out.push(if r.grants > 0 {
        1e3 * r.wait_sum_s / r.grants as f64
    } else {
        f64::NAN
    });
    out.push(if r.grants > 0 {
        1e3 * r.waits.quantile(0.95)
    } else {
        f64::NAN
    });
    out.push(r.grants as f64 / span);
    out.push(r.rejects as f64 / span);
    out.push(r.timeouts as f64 / span);
}

/// All endpoints of a replication summed into one record (histograms merged).
pub fn global_record(r: &Replication) -> EndpointRecord {
    let mut g = EndpointRecord::default();
    for e in &r.endpoints {
        g.started += e.started;
        g.left += e.left;
        g.residence_sum_s += e.residence_sum_s;
        g.ok += e.ok;
        for k in 0..4 {
            g.errors[k] += e.errors[k];
        }
        g.latency_sum_s += e.latency_sum_s;
        g.apdex_satisfied += e.apdex_satisfied;
        g.apdex_tolerating += e.apdex_tolerating;
        g.unfinished_satisfied += e.unfinished_satisfied;
        g.unfinished_tolerating += e.unfinished_tolerating;
        g.in_system_mean += e.in_system_mean;
    }
    g.latency = Latency::sum(r.endpoints.iter().map(|e| &e.latency));
    g.unfinished = Latency::sum(r.endpoints.iter().map(|e| &e.unfinished));
    g
}

/// Histograms pooled over replications: integer sums, identical in any merge order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Pooled {
    /// Response times of every endpoint together, and of each, with the attempts unfinished
    /// at the end of a run at their age.
    pub global: Latency,
    pub endpoints: Vec<Latency>,
    pub resource_waits: Vec<Latency>,
    /// Successful-response times per time-series window, and per stage.
    pub windows: Vec<SpanLatency>,
    #[serde(default)]
    pub stages: Vec<SpanLatency>,
    /// Per request scope (all endpoints first, then each endpoint): what a verdict needs to
    /// know of the requests that had no response when the runs ended.
    pub counts: Vec<ScopeCounts>,
}

/// Totals of one request scope over the pooled replications.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScopeCounts {
    /// Responses (successes and errors) and errors.
    pub responses: u64,
    pub errors: u64,
    /// The ages of the attempts with no response when their run ended.
    pub unfinished: Latency,
    /// Apdex credit (`satisfied + tolerating / 2`) in half-units, and what of it the
    /// unfinished attempts give by their age so far.
    pub apdex_halves: u64,
    pub unfinished_apdex_halves: u64,
}

impl ScopeCounts {
    fn add_record(&mut self, e: &super::recorder::EndpointRecord) {
        self.responses += e.responses();
        self.errors += e.error_count();
        self.unfinished.add(&e.unfinished);
        self.apdex_halves += 2 * e.apdex_satisfied + e.apdex_tolerating;
        self.unfinished_apdex_halves += 2 * e.unfinished_satisfied + e.unfinished_tolerating;
    }

    fn merge(&mut self, o: &ScopeCounts) {
        self.responses += o.responses;
        self.errors += o.errors;
        self.unfinished.add(&o.unfinished);
        self.apdex_halves += o.apdex_halves;
        self.unfinished_apdex_halves += o.unfinished_apdex_halves;
    }

    /// The error rate if every unfinished attempt ended in an error.
    pub fn worst_error_rate(&self) -> f64 {
        let u = self.unfinished.count();
        (self.errors + u) as f64 / (self.responses + u) as f64
    }

    /// The Apdex if no unfinished attempt ever got a response.
    pub fn worst_apdex(&self) -> f64 {
        let asked = self.responses + self.unfinished.count();
        (self.apdex_halves - self.unfinished_apdex_halves) as f64 / 2.0 / asked as f64
    }
}

impl Pooled {
    pub fn new(prog: &Program) -> Pooled {
        Pooled {
            global: Latency::new(),
            endpoints: vec![Latency::new(); prog.endpoints.len()],
            resource_waits: vec![Latency::new(); prog.resources.len()],
            windows: Vec::new(),
            stages: Vec::new(),
            counts: vec![ScopeCounts::default(); prog.endpoints.len() + 1],
        }
    }

    /// Pools replication `r`, whose endpoints' histograms together are `global` (summed once
    /// in the worker thread: adding the endpoints one by one here, in the serial fold, cost a
    /// merge per endpoint).
    pub fn add_replication(&mut self, r: &Replication, global: &Latency) {
        self.global.add(global);
        for (k, e) in r.endpoints.iter().enumerate() {
            self.endpoints[k].add(&e.latency);
            self.counts[0].add_record(e);
            self.counts[k + 1].add_record(e);
        }
        for (p, res) in self.resource_waits.iter_mut().zip(&r.resources) {
            p.add(&res.waits);
        }
        pool_latency(&mut self.windows, &r.windows.latency);
        pool_latency(&mut self.stages, &r.stages.latency);
    }

    /// Adds another pool (from a shard).
    pub fn merge(&mut self, other: &Pooled) {
        self.global.add(&other.global);
        for (p, o) in self.endpoints.iter_mut().zip(&other.endpoints) {
            p.add(o);
        }
        for (p, o) in self.resource_waits.iter_mut().zip(&other.resource_waits) {
            p.add(o);
        }
        for (p, o) in self.counts.iter_mut().zip(&other.counts) {
            p.merge(o);
        }
        pool_latency(&mut self.windows, &other.windows);
        pool_latency(&mut self.stages, &other.stages);
    }

    pub fn hist(&self, h: HistRef) -> &Latency {
        match h {
            HistRef::Global => &self.global,
            HistRef::Endpoint(i) => &self.endpoints[i as usize],
            HistRef::ResourceWait(i) => &self.resource_waits[i as usize],
        }
    }

    /// The counts of the request scope a histogram belongs to (none for resource waits).
    pub fn counts_of(&self, h: HistRef) -> Option<&ScopeCounts> {
        match h {
            HistRef::Global => self.counts.first(),
            HistRef::Endpoint(i) => self.counts.get(i as usize + 1),
            HistRef::ResourceWait(_) => None,
        }
    }
}

/// True for the kinds of resources whose utilization is SLO-relevant (all with a unit limit).
pub fn has_utilization(kind: ResKind, units: u32) -> bool {
    units != UNLIMITED && kind != ResKind::ProxyConnections
}
