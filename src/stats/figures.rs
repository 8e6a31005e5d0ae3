//! The reported figures: which numbers a scenario produces, in which unit, by which estimator,
//! and how each is read off one replication.
//!
//! A [`Schema`] lists the figures once per scenario; every replication yields one `f64` per
//! figure, in schema order. That flat vector is all the across-replication statistics need,
//! besides the pooled histograms of [`Pooled`].

use super::breakdown::{PartLayout, Slot};
use super::ci::Range;
use super::histogram::{CdfBand, Coarse, Latency};
use super::metric::{MemoryMetric, Metric, PartMetric, RequestMetric, ResourceMetric, Unit};
use super::recorder::{EndpointRecord, Replication};
use super::series::{SpanLatency, pool_latency};
use crate::engine::{Program, ResKind, UNLIMITED};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What a figure describes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The time requests of endpoint `of` (or of all endpoints together: `None`) spend at
    /// resource group `at` (see [`super::breakdown`]).
    Part {
        of: Option<String>,
        at: String,
    },
}

impl Scope {
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Endpoint(_) => "endpoint",
            Scope::Resource(_) => "resource",
            Scope::Instance(_) => "instance",
            Scope::Load => "load",
            Scope::Part { .. } => "part",
        }
    }

    /// Its name in the outputs; a part's is `<endpoint> @ <group>` (`all endpoints @ <group>`).
    pub fn name(&self) -> Cow<'_, str> {
        match self {
            Scope::Global => "all".into(),
            Scope::Endpoint(n) | Scope::Resource(n) | Scope::Instance(n) => n.as_str().into(),
            Scope::Load => "load".into(),
            Scope::Part { of, at } => {
                format!("{} @ {at}", of.as_deref().unwrap_or("all endpoints")).into()
            }
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
    pub metric: Metric,
    pub unit: Unit,
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
    /// Whether it has the response-time split's figures (see [`Schema::with_parts`]).
    #[serde(skip)]
    parts: bool,
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
        let parts = figures.iter().any(|k| matches!(k.metric, Metric::Part(_)));
        Schema {
            figures,
            band_hists,
            band_slots,
            parts,
        }
    }
}

/// What a figure is read off a replication: a part of the program (by index) and its metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The offered load's mean or (`max`) largest value.
    Load {
        max: bool,
    },
    /// A request metric of all endpoints together (`None`) or of one.
    Request(Option<u32>, RequestMetric),
    Resource(u32, ResourceMetric),
    /// Instance `i` of app `app` (its memory).
    Memory {
        app: u32,
        i: u32,
        m: MemoryMetric,
    },
    /// Slot `slot` of the response-time split of scope `scope` (0: all endpoints, then
    /// endpoint `e` at `e + 1`; see [`PartLayout`]).
    Part {
        scope: u32,
        slot: u32,
        m: PartMetric,
    },
}

impl Source {
    fn metric(self) -> Metric {
        match self {
            Source::Load { max: false } => Metric::LevelMean,
            Source::Load { max: true } => Metric::LevelMax,
            Source::Request(_, m) => Metric::Request(m),
            Source::Resource(_, m) => Metric::Resource(m),
            Source::Memory { m, .. } => Metric::Memory(m),
            Source::Part { m, .. } => Metric::Part(m),
        }
    }
}

/// Every figure of `prog`, in report order: the one list both [`Schema::new`] and
/// [`Schema::extract`] walk, so that their orders agree by construction; the response-time
/// split's figures last, when `parts` is `Some`.
fn walk(prog: &Program, parts: Option<&PartLayout>, mut f: impl FnMut(Source)) {
    f(Source::Load { max: false });
    f(Source::Load { max: true });
    for m in RequestMetric::all() {
        f(Source::Request(None, m));
    }
    for e in 0..prog.endpoints.len() as u32 {
        for m in RequestMetric::all() {
            f(Source::Request(Some(e), m));
        }
    }
    for (i, r) in prog.resources.iter().enumerate() {
        for m in ResourceMetric::all(r.units != UNLIMITED) {
            f(Source::Resource(i as u32, m));
        }
    }
    for (app, a) in prog.apps.iter().enumerate() {
        if a.memory.is_some() {
            for i in 0..a.instances {
                for m in MemoryMetric::ALL {
                    f(Source::Memory {
                        app: app as u32,
                        i,
                        m,
                    });
                }
            }
        }
    }
    let Some(layout) = parts else { return };
    for (scope, slots) in layout.scopes.iter().enumerate() {
        // By group, in the order of the scope's slots: its wait, its service, visits.
        let mut groups: Vec<u32> = slots.iter().map(|s| s.group).collect();
        groups.dedup();
        for g in groups {
            for m in PartMetric::ALL {
                let want = Slot {
                    group: g,
                    in_service: m.in_service(),
                };
                if let Some(k) = slots.iter().position(|s| *s == want) {
                    f(Source::Part {
                        scope: scope as u32,
                        slot: k as u32,
                        m,
                    });
                }
            }
        }
    }
}

/// The key of the figure read off `source`: its scope, unit, estimator, range and censoring.
fn key_of(prog: &Program, layout: Option<&PartLayout>, closed: bool, source: Source) -> FigureKey {
    let (scope, slot, hist) = match source {
        Source::Load { .. } => (Scope::Load, 0, HistRef::Global),
        Source::Request(None, _) => (Scope::Global, 0, HistRef::Global),
        Source::Request(Some(e), _) => (
            Scope::Endpoint(prog.endpoints[e as usize].name.clone()),
            e + 1,
            HistRef::Endpoint(e),
        ),
        Source::Resource(i, _) => (
            Scope::Resource(prog.resources[i as usize].name.clone()),
            0,
            HistRef::ResourceWait(i),
        ),
        Source::Memory { app, i, .. } => (
            Scope::Instance(format!("{}[{}]", prog.apps[app as usize].name, i + 1)),
            0,
            HistRef::Global,
        ),
        Source::Part { scope, slot, .. } => {
            let layout = layout.expect("part figures come with their layout");
            let group = layout.scopes[scope as usize][slot as usize].group;
            let of = match scope {
                0 => None,
                e => Some(prog.endpoints[e as usize - 1].name.clone()),
            };
            (
                Scope::Part {
                    of,
                    at: layout.groups[group as usize].clone(),
                },
                0,
                HistRef::Global,
            )
        }
    };
    let metric = source.metric();
    let estimator = match metric {
        Metric::Request(RequestMetric::Latency(p)) => Estimator::PooledQuantile { q: p.q(), hist },
        Metric::Resource(ResourceMetric::WaitP95) => Estimator::PooledQuantile { q: 0.95, hist },
        _ => Estimator::ReplicationMean,
    };
    let worst_case = match metric {
        Metric::Request(RequestMetric::ErrorRate) => Some(WorstCase::ErrorRate { slot }),
        Metric::Request(RequestMetric::Apdex) => Some(WorstCase::Apdex { slot }),
        _ => None,
    };
    FigureKey {
        scope,
        metric,
        unit: metric.unit(closed),
        estimator,
        range: metric.range(closed),
        worst_case,
    }
}

/// The value of the figure read off `source` in replication `r` (whose endpoints together
/// are `global`), `span` measured seconds long.
fn value_of(
    prog: &Program,
    r: &Replication,
    global: &EndpointRecord,
    span: f64,
    source: Source,
) -> f64 {
    match source {
        Source::Load { max: false } => r.level_mean,
        Source::Load { max: true } => r.level_max,
        Source::Request(None, m) => m.value(global, span),
        Source::Request(Some(e), m) => m.value(&r.endpoints[e as usize], span),
        Source::Resource(i, m) => {
            let units = prog.resources[i as usize].units;
            m.value(&r.resources[i as usize], units, span)
        }
        Source::Memory { app, i, m } => {
            let a = &prog.apps[app as usize];
            let Some(mem) = &a.memory else {
                return f64::NAN; // walked only for apps with a memory model
            };
            let k = (a.first_instance + i) as usize;
            let fixed = mem.base_mb + f64::from(a.worker_count) * mem.per_worker_mb;
            let mean = fixed + r.instance_load_mean[k] * mem.per_request_mb;
            match m {
                MemoryMetric::Mean => mean,
                MemoryMetric::Peak => fixed + r.instance_load_max[k] * mem.per_request_mb,
                MemoryMetric::Utilization => mean / mem.ram_mb,
            }
        }
        Source::Part { scope, slot, m } => r
            .parts
            .get(scope as usize)
            .map_or(f64::NAN, |p| m.value(p, slot as usize)),
    }
}

impl Schema {
    pub fn new(prog: &Program, closed: bool) -> Schema {
        Schema::build(prog, closed, None)
    }

    /// With the split of the response time by part (a replication then needs a recorder
    /// that tracks parts, see [`Schema::has_parts`]).
    pub fn with_parts(prog: &Program, closed: bool) -> Schema {
        Schema::build(prog, closed, Some(&PartLayout::new(prog)))
    }

    fn build(prog: &Program, closed: bool, layout: Option<&PartLayout>) -> Schema {
        let mut figures = Vec::new();
        walk(prog, layout, |source| {
            figures.push(key_of(prog, layout, closed, source))
        });
        Schema::from(SchemaFigures { figures })
    }

    /// Whether its replications must track each request's parts.
    pub fn has_parts(&self) -> bool {
        self.parts
    }

    /// The index of figure `metric` of `scope`.
    pub fn find(&self, scope: &Scope, metric: Metric) -> Option<usize> {
        self.figures
            .iter()
            .position(|k| k.metric == metric && &k.scope == scope)
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
    /// schema order: each computed from its own key.
    pub fn extract(&self, prog: &Program, r: &Replication, global: &EndpointRecord) -> Vec<f64> {
        let span = r.measured_s();
        let mut out = Vec::with_capacity(self.figures.len());
        let layout = self.parts.then(|| PartLayout::new(prog));
        walk(prog, layout.as_ref(), |source| {
            out.push(value_of(prog, r, global, span, source))
        });
        debug_assert_eq!(out.len(), self.figures.len());
        out
    }
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
