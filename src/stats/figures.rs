//! The reported figures: which numbers a scenario produces, in which unit, by which estimator,
//! and how each is read off one replication.
//!
//! A [`Schema`] lists the figures once per scenario; every replication yields one `f64` per
//! figure, in schema order. That flat vector is all the across-replication statistics need,
//! besides the pooled histograms of [`Pooled`].

use super::histogram::{CdfBand, Coarse, Latency};
use super::recorder::Replication;
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
}

use crate::model::validate::REPORTED_PERCENTILES;

/// The metric name of a latency percentile (`95` -> `latency_p95`, `99.9` -> `latency_p99_9`).
pub fn latency_metric(percentile: f64) -> String {
    format!("latency_p{}", format!("{percentile}").replace('.', "_"))
}

/// The figures of one scenario, in extraction order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub figures: Vec<FigureKey>,
}

fn key(scope: &Scope, metric: &str, unit: &str) -> FigureKey {
    FigureKey {
        scope: scope.clone(),
        metric: metric.to_string(),
        unit: unit.to_string(),
        estimator: Estimator::ReplicationMean,
    }
}

impl Schema {
    pub fn new(prog: &Program, closed: bool) -> Schema {
        let mut f = Vec::new();
        let load_unit = if closed { "users" } else { "rps" };
        f.push(key(&Scope::Load, "level_mean", load_unit));
        f.push(key(&Scope::Load, "level_max", load_unit));
        request_figures(&mut f, &Scope::Global, HistRef::Global);
        for (i, e) in prog.endpoints.iter().enumerate() {
            request_figures(
                &mut f,
                &Scope::Endpoint(e.name.clone()),
                HistRef::Endpoint(i as u32),
            );
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
                    f.push(key(&s, "memory_utilization", "ratio"));
                }
            }
        }
        Schema { figures: f }
    }

    pub fn find(&self, scope: &Scope, metric: &str) -> Option<usize> {
        self.figures
            .iter()
            .position(|k| &k.scope == scope && k.metric == metric)
    }

    /// The position of figure `i` among the pooled-quantile figures (the index of its
    /// [`CdfBand`] in [`Schema::bands`]).
    pub fn quantile_slot(&self, i: usize) -> Option<usize> {
        matches!(self.figures[i].estimator, Estimator::PooledQuantile { .. }).then(|| {
            self.figures[..i]
                .iter()
                .filter(|k| matches!(k.estimator, Estimator::PooledQuantile { .. }))
                .count()
        })
    }

    /// One [`CdfBand`] per pooled-quantile figure for replication `r`, in schema order.
    pub fn bands(&self, r: &Replication) -> Vec<CdfBand> {
        // Each histogram binned once, whatever the number of its percentiles.
        let endpoints: Vec<Coarse> = r
            .endpoints
            .iter()
            .map(|e| Coarse::from_latency(&e.latency))
            .collect();
        let mut global = Coarse::default();
        for e in &endpoints {
            global.add(e);
        }
        let mut waits: Vec<Option<Coarse>> = vec![None; r.resources.len()];
        self.figures
            .iter()
            .filter_map(|k| match k.estimator {
                Estimator::PooledQuantile { q, hist } => Some((q, hist)),
                Estimator::ReplicationMean => None,
            })
            .map(|(q, hist)| {
                let h = match hist {
                    HistRef::Global => &global,
                    HistRef::Endpoint(i) => &endpoints[i as usize],
                    HistRef::ResourceWait(i) => waits[i as usize].get_or_insert_with(|| {
                        Coarse::from_latency(&r.resources[i as usize].waits)
                    }),
                };
                CdfBand::around(h, q)
            })
            .collect()
    }

    /// One value per figure for replication `r`, in schema order.
    pub fn extract(&self, prog: &Program, r: &Replication) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.figures.len());
        out.push(r.level_mean);
        out.push(r.level_max);
        let global = global_record(r);
        request_values(&mut out, &global, r.measured_s());
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

fn request_figures(f: &mut Vec<FigureKey>, s: &Scope, hist: HistRef) {
    f.push(key(s, "throughput", "rps"));
    f.push(key(s, "attempt_rate", "rps"));
    f.push(key(s, "error_rate", "ratio"));
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
    f.push(key(s, "apdex", "score"));
    f.push(key(s, "in_system_mean", "requests"));
    f.push(key(s, "residence_mean", "ms"));
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
    out.push(if e.ok > 0 {
        1e3 * e.latency_sum_s / e.ok as f64
    } else {
        f64::NAN
    });
    for p in REPORTED_PERCENTILES {
        out.push(if e.ok > 0 {
            1e3 * e.latency.quantile(p / 100.0)
        } else {
            f64::NAN
        });
    }
    out.push(if e.ok > 0 {
        1e3 * e.latency.max()
    } else {
        f64::NAN
    });
    let apdex = (e.apdex_satisfied as f64 + e.apdex_tolerating as f64 / 2.0) / responses;
    out.push(if responses > 0.0 { apdex } else { f64::NAN });
    out.push(e.in_system_mean);
    out.push(if e.left > 0 {
        1e3 * e.residence_sum_s / e.left as f64
    } else {
        f64::NAN
    });
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
pub fn global_record(r: &Replication) -> super::recorder::EndpointRecord {
    let mut g = super::recorder::EndpointRecord::default();
    for e in &r.endpoints {
        g.started += e.started;
        g.left += e.left;
        g.residence_sum_s += e.residence_sum_s;
        g.ok += e.ok;
        for k in 0..4 {
            g.errors[k] += e.errors[k];
        }
        g.latency.add(&e.latency);
        g.latency_sum_s += e.latency_sum_s;
        g.apdex_satisfied += e.apdex_satisfied;
        g.apdex_tolerating += e.apdex_tolerating;
        g.in_system_mean += e.in_system_mean;
    }
    g
}

/// Histograms pooled over replications: integer sums, identical in any merge order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Pooled {
    pub global: Latency,
    pub endpoints: Vec<Latency>,
    pub resource_waits: Vec<Latency>,
    /// Successful-response times per time-series window.
    pub windows: Vec<Coarse>,
}

impl Pooled {
    pub fn new(prog: &Program) -> Pooled {
        Pooled {
            global: Latency::new(),
            endpoints: vec![Latency::new(); prog.endpoints.len()],
            resource_waits: vec![Latency::new(); prog.resources.len()],
            windows: Vec::new(),
        }
    }

    pub fn add_replication(&mut self, r: &Replication) {
        for (p, e) in self.endpoints.iter_mut().zip(&r.endpoints) {
            p.add(&e.latency);
            self.global.add(&e.latency);
        }
        for (p, res) in self.resource_waits.iter_mut().zip(&r.resources) {
            p.add(&res.waits);
        }
        self.add_windows(&r.window_latency);
    }

    fn add_windows(&mut self, windows: &[Coarse]) {
        if self.windows.len() < windows.len() {
            self.windows.resize(windows.len(), Coarse::default());
        }
        for (p, w) in self.windows.iter_mut().zip(windows) {
            p.add(w);
        }
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
        self.add_windows(&other.windows);
    }

    pub fn hist(&self, h: HistRef) -> &Latency {
        match h {
            HistRef::Global => &self.global,
            HistRef::Endpoint(i) => &self.endpoints[i as usize],
            HistRef::ResourceWait(i) => &self.resource_waits[i as usize],
        }
    }
}

/// True for the kinds of resources whose utilization is SLO-relevant (all with a unit limit).
pub fn has_utilization(kind: ResKind, units: u32) -> bool {
    units != UNLIMITED && kind != ResKind::ProxyConnections
}
