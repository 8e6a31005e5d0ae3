//! Offered load and analytic utilization, for `capsim check`: what the model asks of each
//! resource before any simulation.
//!
//! For each request class the expected visits and service demand at every resource follow from
//! its steps (branch probabilities, hit ratios and repeat counts multiply through). Then:
//! - open workloads: the utilization law `U = lambda x D / servers` at the scenario's peak rate;
//!   a resource at or above 1 cannot reach a steady state;
//! - closed workloads: the asymptotic bounds of Lazowska et al. (QSP ch. 5),
//!   `X <= min(N / (D + Z), 1 / D_max)` with `D_max` the largest demand per server, and the
//!   population `N* = (D + Z) / D_max` beyond which the bottleneck saturates.
//!
//! Passive resources (sync workers, pools, proxy connections) are held across other steps;
//! their holding time is at least the sum of the mean service times held, so their figure is a
//! lower bound (queueing only adds to it), marked as such.

use super::queueing::{AsymptoticBounds, MvaStation, asymptotic_bounds};
use crate::engine::workload::ScenarioPlan;
use crate::model::{Checked, Dist, QueryOp, ResourceKind, Scenario, Step, WorkerMode, Workload};
use serde::{Deserialize, Serialize};

/// Demand a request class puts on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Demand {
    /// Expected visits per request.
    pub visits: f64,
    /// Expected busy time per request, seconds.
    pub seconds: f64,
}

/// One resource's offered load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceLoad {
    pub name: String,
    pub kind: String,
    /// Total servers (over instances or nodes).
    pub servers: Option<u32>,
    /// Per request of the mix.
    pub visits: f64,
    pub demand_s: f64,
    /// Analytic utilization at the scenario's peak (`None` for unlimited resources).
    pub utilization: Option<f64>,
    /// Mean concurrency for unlimited resources (`lambda x D`).
    pub concurrency: f64,
    /// The figure is a lower bound (a passive resource held across other steps).
    pub lower_bound: bool,
    pub saturated: bool,
}

/// The analysis of one scenario at its peak load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioLoad {
    pub scenario: String,
    /// Users (closed) or arrivals per second (open) at the peak.
    pub peak_level: f64,
    /// Requests per second at the peak (open), or the throughput bound (closed).
    pub throughput_rps: f64,
    pub resources: Vec<ResourceLoad>,
    /// Closed workloads: the asymptotic bounds at the peak population.
    pub bounds: Option<AsymptoticBounds>,
    /// Closed workloads: the population where the bottleneck saturates.
    pub saturation_users: Option<f64>,
    /// The resource with the largest demand per server.
    pub bottleneck: Option<String>,
    /// A stage-less scenario with a resource at or above 100 %: no steady state.
    pub steady_state_impossible: bool,
}

/// Accumulated demand per model resource, with a separate slot for passive holdings.
#[derive(Debug, Clone, Default)]
struct Acc {
    /// Per model resource: active demand (servers busy).
    active: Vec<Demand>,
    /// Per model resource: passive holding (sync workers / pool / proxy connections).
    held: Vec<Demand>,
    /// Per model resource: the reads among a database's active demand.
    reads: Vec<Demand>,
}

impl Acc {
    fn new(n: usize) -> Acc {
        Acc {
            active: vec![Demand::default(); n],
            held: vec![Demand::default(); n],
            reads: vec![Demand::default(); n],
        }
    }
}

/// Per-request demand of the whole mix, per model resource.
fn mix_demands(c: &Checked) -> Acc {
    let mut acc = Acc::new(c.model.resources.len());
    for (i, e) in c.model.endpoints.iter().enumerate() {
        let w = c.mix[i];
        if w <= 0.0 {
            continue;
        }
        let app = c.endpoint_app[i];
        let flow = walk(c, &e.steps, w, &mut acc);
        if let Some(a) = app {
            add_app_holdings(c, a, w, flow, &mut acc);
        }
    }
    acc
}

fn add_app_holdings(c: &Checked, a: usize, w: f64, flow_s: f64, acc: &mut Acc) {
    let ResourceKind::App(spec) = &c.model.resources[a].kind else {
        return;
    };
    if spec.mode == WorkerMode::Sync {
        acc.held[a].visits += w;
        acc.held[a].seconds += w * flow_s;
    }
    if let Some(px) = c.proxy_of[a] {
        let ResourceKind::Proxy(p) = &c.model.resources[px].kind else {
            return;
        };
        acc.active[px].visits += w;
        acc.active[px].seconds += w * p.service.mean();
        acc.held[px].visits += w;
        acc.held[px].seconds += w * (flow_s + p.service.mean());
    }
}

/// Mean time spent in database queries by one execution of `steps`.
fn query_time(c: &Checked, steps: &[Step]) -> f64 {
    let mut scratch = Acc::new(c.model.resources.len());
    walk(c, steps, 1.0, &mut scratch);
    c.model
        .resources
        .iter()
        .zip(&scratch.active)
        .filter(|(r, _)| matches!(r.kind, ResourceKind::Database(_)))
        .map(|(_, d)| d.seconds)
        .sum()
}

/// Adds the demand of `steps` executed with probability-weight `w`; returns the mean duration
/// of one execution without queueing, seconds.
fn walk(c: &Checked, steps: &[Step], w: f64, acc: &mut Acc) -> f64 {
    steps.iter().map(|s| walk_step(c, s, w, acc)).sum()
}

fn visit(acc: &mut Acc, r: usize, w: f64, d: &Dist) -> f64 {
    let m = d.mean();
    acc.active[r].visits += w;
    acc.active[r].seconds += w * m;
    m
}

fn walk_step(c: &Checked, s: &Step, w: f64, acc: &mut Acc) -> f64 {
    let idx = |name: &str| c.resource_index(name).expect("validated resource");
    let kind = |name: &str| &c.model.resources[idx(name)].kind;
    match s {
        Step::Compute { app, demand } => visit(acc, idx(app), w, demand),
        Step::Visit { station, service } => {
            let ResourceKind::Station(st) = kind(station) else {
                return 0.0;
            };
            let d = service
                .as_ref()
                .or(st.service.as_ref())
                .expect("validated service");
            visit(acc, idx(station), w, d)
        }
        Step::Query {
            db, service, op, ..
        } => {
            let m = visit(acc, idx(db), w, service);
            if *op == QueryOp::Read {
                acc.reads[idx(db)].visits += w;
                acc.reads[idx(db)].seconds += w * m;
            }
            m
        }
        Step::CacheGet {
            cache,
            hit_ratio,
            miss,
        } => {
            let ResourceKind::Cache(spec) = kind(cache) else {
                return 0.0;
            };
            let get = visit(acc, idx(cache), w, &spec.service);
            let p = 1.0 - hit_ratio;
            let miss_s = walk(c, miss, w * p, acc);
            let set = visit(acc, idx(cache), w * p, &spec.service);
            get + p * (miss_s + set)
        }
        Step::Call { external, delay } => {
            let ResourceKind::External(spec) = kind(external) else {
                return 0.0;
            };
            visit(acc, idx(external), w, delay.as_ref().unwrap_or(&spec.delay))
        }
        Step::Enqueue { queue, service } => {
            visit(acc, idx(queue), w, service);
            0.0
        }
        Step::Branch {
            probability,
            then,
            otherwise,
        } => {
            let a = walk(c, then, w * probability, acc);
            let b = walk(c, otherwise, w * (1.0 - probability), acc);
            probability * a + (1.0 - probability) * b
        }
        Step::Repeat { times, steps } => {
            let k = f64::from(*times);
            k * walk(c, steps, w * k, acc)
        }
        Step::Delay { delay } => delay.mean(),
        Step::Labelled { inner, .. } => walk_step(c, inner, w, acc),
    }
}

/// Servers of a model resource as the analysis sees them: totals over instances and nodes.
fn servers(kind: &ResourceKind) -> Option<u32> {
    match kind {
        ResourceKind::Station(s) => Some(s.servers),
        ResourceKind::Proxy(p) => Some(p.workers),
        ResourceKind::App(a) => Some(a.instances * a.cpus),
        ResourceKind::Database(d) => Some(d.connections),
        ResourceKind::Cache(c) => Some(c.servers),
        ResourceKind::External(e) => e.limit,
        ResourceKind::Background(b) => Some(b.workers),
    }
}

/// The analysis of every scenario of the model.
pub fn analyse(c: &Checked) -> Vec<ScenarioLoad> {
    let acc = mix_demands(c);
    c.scenarios
        .iter()
        .map(|s| analyse_scenario(c, s, &acc))
        .collect()
}

fn peak_level(c: &Checked, s: &Scenario) -> f64 {
    let plan = ScenarioPlan::new(
        s,
        c.workload.base_level(),
        c.model.settings.default_duration_s,
        None,
    );
    plan.level.max()
}

fn analyse_scenario(c: &Checked, s: &Scenario, acc: &Acc) -> ScenarioLoad {
    let peak = peak_level(c, s);
    let rows = rows(c, acc);
    let (x, bounds, nstar) = match &c.workload {
        Workload::Open { .. } => (peak, None, None),
        Workload::Closed { think, .. } => closed_bound(&rows, think.mean(), peak),
    };
    let mut resources = Vec::new();
    for (name, kind, srv, d, lower) in rows {
        let utilization = srv.map(|k| x * d.seconds / f64::from(k));
        let saturated = utilization.is_some_and(|u| u >= 1.0);
        resources.push(ResourceLoad {
            name,
            kind: kind.to_string(),
            servers: srv,
            visits: d.visits,
            demand_s: d.seconds,
            utilization,
            concurrency: x * d.seconds,
            lower_bound: lower,
            saturated,
        });
    }
    let bottleneck = resources
        .iter()
        .filter(|r| !r.lower_bound && r.utilization.is_some())
        .max_by(|a, b| {
            a.utilization
                .partial_cmp(&b.utilization)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|r| r.name.clone());
    let open_saturated = matches!(c.workload, Workload::Open { .. })
        && resources.iter().any(|r| r.saturated && !r.lower_bound);
    ScenarioLoad {
        scenario: s.name.clone(),
        peak_level: peak,
        throughput_rps: x,
        resources,
        bounds,
        saturation_users: nstar,
        bottleneck,
        steady_state_impossible: open_saturated && s.stages.is_empty(),
    }
}

/// A resource row: its name, its kind's label, its servers (`None`: unlimited), its demand
/// per request of the mix, and whether that demand is a lower bound (a passive holding).
pub type Row = (String, &'static str, Option<u32>, Demand, bool);

/// The demand rows of `c` per request of its mix, before any load: what the utilization law
/// multiplies by a throughput.
pub fn demand_rows(c: &Checked) -> Vec<Row> {
    rows(c, &mix_demands(c))
}

/// Rows of active demand (every resource) and passive holdings (sync workers, proxy
/// connections).
fn rows(c: &Checked, acc: &Acc) -> Vec<Row> {
    let mut out = Vec::new();
    for (i, r) in c.model.resources.iter().enumerate() {
        let label = match &r.kind {
            ResourceKind::App(_) => "app cpu",
            k => k.type_name(),
        };
        if let ResourceKind::Database(d) = &r.kind {
            db_rows(&mut out, &r.name, d, acc.active[i], acc.reads[i]);
        } else {
            out.push((
                r.name.clone(),
                label,
                servers(&r.kind),
                acc.active[i],
                false,
            ));
        }
        let held = acc.held[i];
        if held.visits > 0.0 {
            match &r.kind {
                ResourceKind::App(a) => {
                    let name = format!("{} workers", r.name);
                    out.push((
                        name,
                        "app workers",
                        Some(a.instances * a.workers),
                        held,
                        true,
                    ));
                }
                ResourceKind::Proxy(p) => {
                    let name = format!("{} connections", r.name);
                    out.push((name, "proxy connections", p.connections, held, true));
                }
                _ => {}
            }
        }
        if let ResourceKind::App(a) = &r.kind
            && let Some(pool) = &a.pool
        {
            let q = pool_demand(c, i);
            let name = format!("{} pool", r.name);
            out.push((name, "pool", Some(a.instances * pool.size), q, true));
        }
    }
    out
}

/// The primary takes the writes (and the reads when there is no replica); each replica an
/// equal share of the reads.
fn db_rows(
    out: &mut Vec<Row>,
    name: &str,
    d: &crate::model::DatabaseSpec,
    all: Demand,
    reads: Demand,
) {
    let writes = Demand {
        visits: all.visits - reads.visits,
        seconds: all.seconds - reads.seconds,
    };
    if d.replicas == 0 {
        out.push((
            format!("{name} primary"),
            "database",
            Some(d.connections),
            all,
            false,
        ));
        return;
    }
    out.push((
        format!("{name} primary"),
        "database",
        Some(d.connections),
        writes,
        false,
    ));
    let k = f64::from(d.replicas);
    let share = Demand {
        visits: reads.visits / k,
        seconds: reads.seconds / k,
    };
    for r in 0..d.replicas {
        out.push((
            format!("{name} replica {}", r + 1),
            "database",
            Some(d.connections),
            share,
            false,
        ));
    }
}

/// Lower bound of pool holding per request of the mix: the database time of the app's
/// endpoints.
fn pool_demand(c: &Checked, app: usize) -> Demand {
    let mut d = Demand::default();
    for (i, e) in c.model.endpoints.iter().enumerate() {
        if c.endpoint_app[i] == Some(app) && c.mix[i] > 0.0 {
            let q = query_time(c, &e.steps);
            if q > 0.0 {
                d.visits += c.mix[i];
                d.seconds += c.mix[i] * q;
            }
        }
    }
    d
}

fn closed_bound(
    rows: &[Row],
    think_s: f64,
    n: f64,
) -> (f64, Option<AsymptoticBounds>, Option<f64>) {
    let stations: Vec<MvaStation> = rows
        .iter()
        .filter(|r| !r.4 && r.3.seconds > 0.0)
        .map(|r| match r.2 {
            Some(k) => MvaStation::queueing(r.3.seconds, k),
            None => MvaStation::delay(r.3.seconds),
        })
        .collect();
    let total: f64 = stations.iter().map(|s| s.demand_s).sum();
    let dmax = stations
        .iter()
        .map(MvaStation::demand_per_server_s)
        .fold(0.0, f64::max);
    let users = n.floor().max(0.0) as u32;
    if users == 0 || dmax <= 0.0 {
        return (0.0, None, None);
    }
    match asymptotic_bounds(total, dmax, think_s, users) {
        Ok(b) => (b.throughput_upper, Some(b), Some((total + think_s) / dmax)),
        Err(_) => (0.0, None, None),
    }
}
