//! The compiled form of a checked model: flat resources, flat instructions, samplers.
//!
//! Each endpoint's flow (and each background job) becomes a run of [`Op`]s in one array; a
//! request is a program counter into it. Resources are flattened so that every app instance's
//! workers, cores and pool, and every database node, is one counted resource with a FCFS queue.
//! Names are resolved here once; the event loop only sees indices.
//!
//! Each sampling site gets a random stream of its own, named by what the step is rather than by
//! its position in the flow (see `program/names.rs` and [`super::rng`]), so that a what-if that
//! edits a flow keeps the draws of the steps it did not touch: common random numbers between
//! the baseline and the variant.

use super::sampler::Sampler;
use crate::model::{
    AppSpec, Checked, CoreScheduling, DatabaseSpec, Dist, Policy, PoolScope, QueryOp, ResourceKind,
    Step, WorkerMode,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod names;
#[cfg(test)]
mod tests;

/// Share of the mix from which an endpoint gets its own time series and stage figures.
pub const TRACKED_SHARE: f64 = 0.01;
/// Most endpoints with their own time series (memory: one small histogram per endpoint, span
/// and replication in flight).
pub const MAX_TRACKED: usize = 100;
/// The series slot of an endpoint without its own time series.
pub const UNTRACKED: u32 = u32::MAX;

/// Units of a resource without a limit (an external API without a concurrency cap).
pub const UNLIMITED: u32 = u32::MAX;

/// What a flattened resource stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResKind {
    Station,
    ProxyConnections,
    ProxyWorkers,
    AppWorkers,
    AppCpu,
    Pool,
    DbPrimary,
    DbReplica,
    Cache,
    External,
    Background,
}

/// One counted resource with a FCFS queue.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceInfo {
    /// Display name, e.g. `flask[2] cpu`.
    pub name: String,
    pub kind: ResKind,
    /// Index of the model resource it belongs to.
    pub owner: usize,
    /// App instance (0-based) for per-instance resources.
    pub instance: Option<u32>,
    /// Servers, or [`UNLIMITED`].
    pub units: u32,
    /// Waiting room, or [`UNLIMITED`].
    pub queue_cap: u32,
    /// Longest wait before an error, seconds (infinite when none).
    pub timeout_s: f64,
    /// Its servers are shared by processor sharing (an app's cores): no queue, every holder
    /// progresses at `min(1, units / holders)`.
    pub shared: bool,
    /// What the time a request spends here is reported under (see [`super::parts`]): the
    /// instances of an app (`flask workers`) and the replicas of a database (`mysql
    /// replicas`) are one group, interchangeable to the request that a balancer routes.
    #[serde(skip)]
    pub group: String,
}

/// Which resource an instruction uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sel {
    Fixed(u32),
    /// `base + the request's app instance`.
    Instance(u32),
    /// A read: a replica of database group `g` chosen by its policy (or the primary).
    DbRead(u32),
    /// A write: the primary of database group `g`.
    DbWrite(u32),
}

/// One instruction of a flow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// Wait for a server of `res`, hold it for a draw of `sampler`, release it.
    Serve {
        res: Sel,
        sampler: u32,
    },
    /// Wait for a unit of `res` and keep it (until a `Release` or the end of the request).
    Acquire {
        res: Sel,
    },
    /// Like `Acquire` unless the request already holds its pool connection.
    AcquirePool {
        res: Sel,
    },
    /// Give back the most recently acquired unit.
    Release,
    /// Run a draw of `sampler` of work on a processor-sharing resource (an app's cores): no
    /// wait for a server, the work progresses at the resource's share of its cores.
    Share {
        res: Sel,
        sampler: u32,
    },
    /// Hold everything held for a draw of `sampler`.
    Hold {
        sampler: u32,
    },
    /// With probability `p` go on, otherwise jump to `else_pc`.
    Branch {
        p: f64,
        stream: u32,
        else_pc: u32,
    },
    Jump {
        to: u32,
    },
    /// Sets loop counter `depth` to `n`.
    LoopStart {
        n: u32,
        depth: u8,
    },
    /// Decrements loop counter `depth`; jumps back to `start + 1` while it is positive.
    LoopEnd {
        start: u32,
        depth: u8,
    },
    /// Takes a proxy connection, held until the response or the client's timeout.
    FrontAcquire {
        res: u32,
    },
    /// Picks an instance of app group `group` by its policy.
    Route {
        group: u32,
    },
    /// Starts a background job at `entry`; the request goes on at once.
    Spawn {
        entry: u32,
    },
    /// The request is complete.
    End,
}

/// An app tier's instances and their per-instance resources.
#[derive(Debug, Clone)]
pub struct AppGroup {
    pub name: String,
    pub instances: u32,
    /// Global index of instance 0 (instances are numbered across apps).
    pub first_instance: u32,
    pub policy: Policy,
    pub stream: u32,
    pub workers: u32,
    pub cpu: u32,
    pub pool: Option<u32>,
    pub memory: Option<crate::model::MemorySpec>,
    pub worker_count: u32,
}

/// A database's nodes: the primary, then the replicas.
#[derive(Debug, Clone)]
pub struct DbGroup {
    pub primary: u32,
    pub first_replica: u32,
    pub replicas: u32,
    pub policy: Policy,
    pub stream: u32,
}

/// A place in the model where a duration is drawn, with its own random stream.
#[derive(Debug, Clone)]
pub struct Site {
    pub sampler: Sampler,
    pub stream: u32,
}

/// A compiled endpoint.
#[derive(Debug, Clone)]
pub struct EndpointProg {
    pub name: String,
    pub entry: u32,
    /// Client timeout, seconds (infinite when none).
    pub timeout_s: f64,
    pub retries: u32,
    pub backoff: Option<u32>,
    pub apdex_t_s: f64,
    /// The proxy connection resource the request holds, if a proxy fronts its app.
    pub front: Option<u32>,
    pub group: Option<u32>,
}

/// How requests are generated.
#[derive(Debug, Clone)]
pub enum Source {
    Closed { think: u32, on_start: Option<u32> },
    Poisson,
    Renewal { interarrival: u32 },
}

/// A checked model compiled for the event loop.
#[derive(Debug, Clone)]
pub struct Program {
    pub ops: Vec<Op>,
    pub resources: Vec<ResourceInfo>,
    pub endpoints: Vec<EndpointProg>,
    pub apps: Vec<AppGroup>,
    pub dbs: Vec<DbGroup>,
    /// Every sampling site: its distribution and the stream it draws from.
    pub samplers: Vec<Site>,
    /// Names of the random streams, all different (see [`super::rng`]); their hashes seed them.
    pub streams: Vec<String>,
    /// Cumulative endpoint weights of the mix.
    pub mix_cdf: Vec<f64>,
    pub mix_stream: u32,
    pub arrival_stream: u32,
    pub source: Source,
    /// The workload's own level: users, or arrivals per second.
    pub base_level: f64,
    pub max_in_flight: u32,
    /// Total app instances over all apps.
    pub instances: u32,
    /// Per endpoint, its slot among the endpoints followed in time series and stages (those
    /// with an objective or at least [`TRACKED_SHARE`] of the mix, the first [`MAX_TRACKED`] in
    /// model order), or [`UNTRACKED`].
    pub series_slot: Vec<u32>,
    /// The followed endpoints' indices, by slot.
    pub tracked: Vec<u32>,
}

impl Program {
    /// Compiles a checked model. Infallible: the checked model satisfies every rule it needs,
    /// and the program satisfies every rule of [`Program::verify`].
    pub fn compile(c: &Checked) -> Program {
        let p = Compiler::new(c).run();
        // Every test and fuzz case that compiles a model checks the claim above (the ci
        // profile has debug assertions on): a rule of `verify` the compiler breaks panics here
        // rather than reading as a bad program at run time.
        #[cfg(debug_assertions)]
        if let Err(e) = p.verify() {
            panic!("the compiler built a program that fails verification: {e}");
        }
        p
    }

    pub fn stream_index(&self, name: &str) -> Option<usize> {
        self.streams.iter().position(|s| s == name)
    }
}

/// Where a model resource went in the flat list.
#[derive(Debug, Clone, Copy)]
enum Placed {
    Station(u32),
    Proxy { conn: u32, workers: u32 },
    App(u32),
    Db(u32),
    Cache(u32),
    External(u32),
    Background(u32),
}

struct Compiler<'c> {
    c: &'c Checked,
    p: Program,
    placed: Vec<Placed>,
    /// Index of each name in `p.streams`.
    stream_of: BTreeMap<String, u32>,
}

impl<'c> Compiler<'c> {
    fn new(c: &'c Checked) -> Self {
        let p = Program {
            ops: Vec::new(),
            resources: Vec::new(),
            endpoints: Vec::new(),
            apps: Vec::new(),
            dbs: Vec::new(),
            samplers: Vec::new(),
            streams: Vec::new(),
            mix_cdf: Vec::new(),
            mix_stream: 0,
            arrival_stream: 0,
            source: Source::Poisson,
            base_level: c.workload.base_level(),
            max_in_flight: c.model.settings.max_in_flight,
            instances: 0,
            series_slot: Vec::new(),
            tracked: Vec::new(),
        };
        Compiler {
            c,
            p,
            placed: Vec::new(),
            stream_of: BTreeMap::new(),
        }
    }

    fn run(mut self) -> Program {
        for (i, r) in self.c.model.resources.iter().enumerate() {
            let placed = self.place(i, &r.name, &r.kind);
            self.placed.push(placed);
        }
        self.compile_workload();
        for (i, e) in self.c.model.endpoints.iter().enumerate() {
            self.compile_endpoint(i, e);
        }
        self.track_endpoints();
        self.p
    }

    /// Chooses the endpoints followed in time series (see [`Program::series_slot`]).
    fn track_endpoints(&mut self) {
        let m = &self.c.model;
        for (i, e) in m.endpoints.iter().enumerate() {
            let objective = m.slos.iter().any(|s| s.endpoint.as_ref() == Some(&e.name));
            let followed = objective || self.c.mix[i] >= TRACKED_SHARE;
            if followed && self.p.tracked.len() < MAX_TRACKED {
                self.p.series_slot.push(self.p.tracked.len() as u32);
                self.p.tracked.push(i as u32);
            } else {
                self.p.series_slot.push(UNTRACKED);
            }
        }
    }

    /// The stream named `name`, shared by whatever asks for that name: a model-wide source of
    /// randomness (`mix`, `arrivals`, `route:<app>`, `reads:<db>`), one of each.
    fn stream(&mut self, name: String) -> u32 {
        if let Some(&i) = self.stream_of.get(&name) {
            return i;
        }
        self.new_stream(name)
    }

    fn new_stream(&mut self, name: String) -> u32 {
        let i = self.p.streams.len() as u32;
        self.stream_of.insert(name.clone(), i);
        self.p.streams.push(name);
        i
    }

    /// A stream of its own for the sampling site `name`. Two sites never share one: should a
    /// model's names make two sites' names coincide (an endpoint named like another's step,
    /// `GET /a` and `GET /a/repeat#1`), the later in compile order gets `~2`, `~3`, ...
    fn site_stream(&mut self, name: String) -> u32 {
        if !self.stream_of.contains_key(&name) {
            return self.new_stream(name);
        }
        let free = (2_u64..)
            .map(|k| format!("{name}~{k}"))
            .find(|n| !self.stream_of.contains_key(n))
            .expect("a free name");
        self.new_stream(free)
    }

    /// A sampler of `d` for the sampling site `site`, on a stream of its own.
    fn sampler(&mut self, d: &Dist, site: String) -> u32 {
        let stream = self.site_stream(site);
        self.sampler_on(d, stream)
    }

    fn sampler_on(&mut self, d: &Dist, stream: u32) -> u32 {
        self.p.samplers.push(Site {
            sampler: Sampler::new(d),
            stream,
        });
        (self.p.samplers.len() - 1) as u32
    }

    fn resource(&mut self, mut info: ResourceInfo) -> u32 {
        info.group = match (info.instance, info.kind) {
            (Some(i), _) => info.name.replacen(&format!("[{}]", i + 1), "", 1),
            (None, ResKind::DbReplica) => match info.name.rsplit_once(" replica ") {
                Some((db, _)) => format!("{db} replicas"),
                None => info.name.clone(),
            },
            (None, _) => info.name.clone(),
        };
        self.p.resources.push(info);
        (self.p.resources.len() - 1) as u32
    }

    fn plain(
        &mut self,
        name: String,
        kind: ResKind,
        owner: usize,
        units: u32,
        queue: Option<u32>,
    ) -> u32 {
        let queue_cap = queue.unwrap_or(UNLIMITED);
        let info = ResourceInfo {
            name,
            kind,
            owner,
            instance: None,
            units,
            queue_cap,
            timeout_s: f64::INFINITY,
            shared: false,
            group: String::new(),
        };
        self.resource(info)
    }

    fn place(&mut self, owner: usize, name: &str, kind: &ResourceKind) -> Placed {
        match kind {
            ResourceKind::Station(s) => Placed::Station(self.plain(
                name.to_string(),
                ResKind::Station,
                owner,
                s.servers,
                s.queue,
            )),
            ResourceKind::Proxy(p) => {
                let units = p.connections.unwrap_or(UNLIMITED);
                let conn = self.plain(
                    format!("{name} connections"),
                    ResKind::ProxyConnections,
                    owner,
                    units,
                    Some(0),
                );
                let workers = self.plain(
                    name.to_string(),
                    ResKind::ProxyWorkers,
                    owner,
                    p.workers,
                    None,
                );
                Placed::Proxy { conn, workers }
            }
            ResourceKind::App(a) => Placed::App(self.place_app(owner, name, a)),
            ResourceKind::Database(d) => Placed::Db(self.place_db(owner, name, d)),
            ResourceKind::Cache(c) => {
                Placed::Cache(self.plain(name.to_string(), ResKind::Cache, owner, c.servers, None))
            }
            ResourceKind::External(e) => {
                let units = e.limit.unwrap_or(UNLIMITED);
                Placed::External(self.plain(
                    name.to_string(),
                    ResKind::External,
                    owner,
                    units,
                    e.queue,
                ))
            }
            ResourceKind::Background(b) => Placed::Background(self.plain(
                name.to_string(),
                ResKind::Background,
                owner,
                b.workers,
                b.queue,
            )),
        }
    }

    /// Lays out per instance: workers of every instance, then cores, then pools, so that
    /// `base + instance` addresses any of them.
    fn place_app(&mut self, owner: usize, name: &str, a: &AppSpec) -> u32 {
        let per_instance = |c: &mut Self, label: &str, kind, units, queue: u32, timeout_s: f64| {
            let mut base = None;
            for i in 0..a.instances {
                let info = ResourceInfo {
                    name: format!("{name}[{}] {label}", i + 1),
                    kind,
                    owner,
                    instance: Some(i),
                    units,
                    queue_cap: queue,
                    timeout_s,
                    shared: false,
                    group: String::new(),
                };
                let id = c.resource(info);
                base.get_or_insert(id);
            }
            base.expect("an app has at least one instance")
        };
        let backlog = a.backlog.unwrap_or(UNLIMITED);
        let workers = per_instance(
            self,
            "workers",
            ResKind::AppWorkers,
            a.workers,
            backlog,
            f64::INFINITY,
        );
        let cpu = per_instance(
            self,
            "cpu",
            ResKind::AppCpu,
            a.cpus,
            UNLIMITED,
            f64::INFINITY,
        );
        let shared = a.scheduling == CoreScheduling::ProcessorSharing;
        for r in &mut self.p.resources[cpu as usize..(cpu + a.instances) as usize] {
            r.shared = shared;
        }
        let pool = a.pool.as_ref().map(|p| {
            let timeout = p.timeout_s.unwrap_or(f64::INFINITY);
            per_instance(self, "pool", ResKind::Pool, p.size, UNLIMITED, timeout)
        });
        let stream = self.stream(format!("route:{name}"));
        self.p.apps.push(AppGroup {
            name: name.to_string(),
            instances: a.instances,
            first_instance: self.p.instances,
            policy: Policy::RoundRobin,
            stream,
            workers,
            cpu,
            pool,
            memory: a.memory.clone(),
            worker_count: a.workers,
        });
        self.p.instances += a.instances;
        (self.p.apps.len() - 1) as u32
    }

    fn place_db(&mut self, owner: usize, name: &str, d: &DatabaseSpec) -> u32 {
        let primary = self.plain(
            format!("{name} primary"),
            ResKind::DbPrimary,
            owner,
            d.connections,
            d.queue,
        );
        let mut first_replica = primary + 1;
        for r in 0..d.replicas {
            let id = self.plain(
                format!("{name} replica {}", r + 1),
                ResKind::DbReplica,
                owner,
                d.connections,
                d.queue,
            );
            if r == 0 {
                first_replica = id;
            }
        }
        let stream = self.stream(format!("reads:{name}"));
        let g = DbGroup {
            primary,
            first_replica,
            replicas: d.replicas,
            policy: d.read_policy,
            stream,
        };
        self.p.dbs.push(g);
        (self.p.dbs.len() - 1) as u32
    }

    fn compile_workload(&mut self) {
        let m = &self.c.model;
        self.p.mix_stream = self.stream("mix".to_string());
        self.p.arrival_stream = self.stream("arrivals".to_string());
        let mut acc = 0.0;
        self.p.mix_cdf = self
            .c
            .mix
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        // The last endpoint with a weight takes whatever rounding leaves above its sum, so a
        // draw never falls past it nor onto a zero-weight endpoint after it.
        if let Some(last) = self.c.mix.iter().rposition(|w| *w > 0.0) {
            for c in &mut self.p.mix_cdf[last..] {
                *c = f64::INFINITY;
            }
        }
        // Apply each proxy's policy to the app behind it.
        for (app_idx, proxy) in self.c.proxy_of.iter().enumerate() {
            if let (Some(px), Placed::App(g)) = (proxy, self.placed[app_idx])
                && let ResourceKind::Proxy(p) = &m.resources[*px].kind
            {
                self.p.apps[g as usize].policy = p.policy;
            }
        }
        self.p.source = match &self.c.workload {
            crate::model::Workload::Closed { think, .. } => {
                let think = self.sampler(think, "think".to_string());
                Source::Closed {
                    think,
                    on_start: self.c.on_start.map(|i| i as u32),
                }
            }
            crate::model::Workload::Open {
                arrivals: crate::model::Arrivals::Poisson { .. },
            } => Source::Poisson,
            crate::model::Workload::Open {
                arrivals: crate::model::Arrivals::Renewal { interarrival },
            } => {
                // The arrival process's one stream, as a Poisson process draws from.
                let interarrival = self.sampler_on(interarrival, self.p.arrival_stream);
                Source::Renewal { interarrival }
            }
        };
    }

    fn emit(&mut self, op: Op) -> u32 {
        self.p.ops.push(op);
        (self.p.ops.len() - 1) as u32
    }

    fn compile_endpoint(&mut self, i: usize, e: &crate::model::Endpoint) {
        let entry = self.p.ops.len() as u32;
        let app = self.c.endpoint_app[i];
        let group = app.map(|a| match self.placed[a] {
            Placed::App(g) => g,
            _ => unreachable!("validation resolved the endpoint's app to an app"),
        });
        let mut front = None;
        if let Some(px) = app.and_then(|a| self.c.proxy_of[a]) {
            let Placed::Proxy { conn, workers } = self.placed[px] else {
                unreachable!("a proxy")
            };
            let ResourceKind::Proxy(spec) = &self.c.model.resources[px].kind else {
                unreachable!("a proxy")
            };
            front = Some(conn);
            self.emit(Op::FrontAcquire { res: conn });
            let s = self.sampler(&spec.service, format!("{}/proxy", names::flow(&e.name)));
            self.emit(Op::Serve {
                res: Sel::Fixed(workers),
                sampler: s,
            });
        }
        let mut ctx = FlowCtx {
            flow: names::flow(&e.name),
            group,
            sync: false,
            depth: 0,
        };
        if let Some(g) = group {
            self.emit(Op::Route { group: g });
            let spec = self.app_spec(app.expect("a group has an app"));
            ctx.sync = spec.mode == WorkerMode::Sync;
            if ctx.sync {
                let workers = self.p.apps[g as usize].workers;
                self.emit(Op::Acquire {
                    res: Sel::Instance(workers),
                });
            }
        }
        let flow = ctx.flow.clone();
        self.steps(&mut ctx, &e.steps, &flow);
        self.emit(Op::End);
        let backoff = e
            .retry
            .as_ref()
            .map(|r| self.sampler(&r.backoff, format!("{flow}/backoff")));
        self.p.endpoints.push(EndpointProg {
            name: e.name.clone(),
            entry,
            timeout_s: e.timeout_s.unwrap_or(f64::INFINITY),
            retries: e.retry.as_ref().map_or(0, |r| r.count),
            backoff,
            apdex_t_s: apdex_t(self.c, &e.name),
            front,
            group,
        });
    }

    fn app_spec(&self, app: usize) -> &'c AppSpec {
        match &self.c.model.resources[app].kind {
            ResourceKind::App(a) => a,
            _ => unreachable!("validation resolved an app"),
        }
    }

    /// Compiles the steps of the block named `block` (see `names`).
    fn steps(&mut self, ctx: &mut FlowCtx, steps: &[Step], block: &str) {
        let mut names = names::Block::default();
        for s in steps {
            let site = names.name(&ctx.flow, block, s);
            self.step(ctx, s, site);
        }
    }

    /// Compiles step `s`, whose streams are named `site` and `site/<sub-stream>`.
    fn step(&mut self, ctx: &mut FlowCtx, s: &Step, site: String) {
        match s {
            Step::Compute { demand, .. } => {
                let g = &self.p.apps[ctx
                    .group
                    .expect("validated: compute runs on the endpoint's app")
                    as usize];
                let (workers, cpu) = (g.workers, g.cpu);
                let shared = self.p.resources[cpu as usize].shared;
                let sm = self.sampler(demand, site);
                if !ctx.sync {
                    self.emit(Op::Acquire {
                        res: Sel::Instance(workers),
                    });
                }
                let res = Sel::Instance(cpu);
                self.emit(if shared {
                    Op::Share { res, sampler: sm }
                } else {
                    Op::Serve { res, sampler: sm }
                });
                if !ctx.sync {
                    self.emit(Op::Release);
                }
            }
            Step::Visit { station, service } => {
                let idx = self.index(station);
                let Placed::Station(res) = self.placed[idx] else {
                    unreachable!("validated station")
                };
                let ResourceKind::Station(spec) = &self.c.model.resources[idx].kind else {
                    unreachable!()
                };
                let d = service
                    .as_ref()
                    .or(spec.service.as_ref())
                    .expect("validated service time");
                let sm = self.sampler(d, site);
                self.emit(Op::Serve {
                    res: Sel::Fixed(res),
                    sampler: sm,
                });
            }
            Step::Query {
                db, op, service, ..
            } => self.query(ctx, db, *op, service, site),
            Step::CacheGet {
                cache,
                hit_ratio,
                miss,
            } => {
                let idx = self.index(cache);
                let Placed::Cache(res) = self.placed[idx] else {
                    unreachable!("validated cache")
                };
                let ResourceKind::Cache(spec) = &self.c.model.resources[idx].kind else {
                    unreachable!()
                };
                let get = self.sampler(&spec.service, format!("{site}/get"));
                self.emit(Op::Serve {
                    res: Sel::Fixed(res),
                    sampler: get,
                });
                let stream = self.stream(format!("{site}/hit"));
                let branch = self.emit(Op::Branch {
                    p: 1.0 - hit_ratio,
                    stream,
                    else_pc: 0,
                });
                self.steps(ctx, miss, &format!("{site}/miss"));
                let set = self.sampler(&spec.service, format!("{site}/set"));
                self.emit(Op::Serve {
                    res: Sel::Fixed(res),
                    sampler: set,
                });
                self.patch_else(branch);
            }
            Step::Call { external, delay } => {
                let idx = self.index(external);
                let Placed::External(res) = self.placed[idx] else {
                    unreachable!("validated external")
                };
                let ResourceKind::External(spec) = &self.c.model.resources[idx].kind else {
                    unreachable!()
                };
                let sm = self.sampler(delay.as_ref().unwrap_or(&spec.delay), site);
                self.emit(Op::Serve {
                    res: Sel::Fixed(res),
                    sampler: sm,
                });
            }
            Step::Enqueue { queue, service } => {
                let idx = self.index(queue);
                let Placed::Background(res) = self.placed[idx] else {
                    unreachable!("validated queue")
                };
                let sm = self.sampler(service, site);
                let spawn = self.emit(Op::Spawn { entry: 0 });
                let jump = self.emit(Op::Jump { to: 0 });
                let entry = self.emit(Op::Serve {
                    res: Sel::Fixed(res),
                    sampler: sm,
                });
                self.emit(Op::End);
                self.p.ops[spawn as usize] = Op::Spawn { entry };
                self.p.ops[jump as usize] = Op::Jump {
                    to: self.p.ops.len() as u32,
                };
            }
            Step::Branch {
                probability,
                then,
                otherwise,
            } => {
                let stream = self.stream(format!("{site}/branch"));
                let branch = self.emit(Op::Branch {
                    p: *probability,
                    stream,
                    else_pc: 0,
                });
                self.steps(ctx, then, &format!("{site}/then"));
                let jump = self.emit(Op::Jump { to: 0 });
                self.patch_else(branch);
                self.steps(ctx, otherwise, &format!("{site}/else"));
                self.p.ops[jump as usize] = Op::Jump {
                    to: self.p.ops.len() as u32,
                };
            }
            Step::Repeat { times, steps } => self.repeat(ctx, *times, steps, &site),
            Step::Delay { delay } => {
                let sm = self.sampler(delay, site);
                self.emit(Op::Hold { sampler: sm });
            }
            Step::Labelled { inner, .. } => self.step(ctx, inner, site),
        }
    }

    fn patch_else(&mut self, branch: u32) {
        let here = self.p.ops.len() as u32;
        if let Op::Branch { else_pc, .. } = &mut self.p.ops[branch as usize] {
            *else_pc = here;
        }
    }

    /// A repeat's body is the block named by the repeat's own name.
    fn repeat(&mut self, ctx: &mut FlowCtx, times: u32, steps: &[Step], block: &str) {
        match times {
            0 => {}
            1 => self.steps(ctx, steps, block),
            n => {
                let depth = ctx.depth;
                let start = self.emit(Op::LoopStart { n, depth });
                ctx.depth += 1;
                self.steps(ctx, steps, block);
                ctx.depth -= 1;
                self.emit(Op::LoopEnd { start, depth });
            }
        }
    }

    fn query(&mut self, ctx: &FlowCtx, db: &str, op: QueryOp, service: &Dist, site: String) {
        let idx = self.index(db);
        let Placed::Db(g) = self.placed[idx] else {
            unreachable!("validated database")
        };
        let pool = ctx.group.and_then(|gr| {
            let app = &self.p.apps[gr as usize];
            app.pool.map(|p| (p, self.app_scope(&app.name)))
        });
        let per_query = matches!(pool, Some((_, PoolScope::Query)));
        match pool {
            Some((p, PoolScope::Request)) => self.emit(Op::AcquirePool {
                res: Sel::Instance(p),
            }),
            Some((p, PoolScope::Query)) => self.emit(Op::Acquire {
                res: Sel::Instance(p),
            }),
            None => 0,
        };
        let sm = self.sampler(service, site);
        let res = match op {
            QueryOp::Read => Sel::DbRead(g),
            QueryOp::Write => Sel::DbWrite(g),
        };
        self.emit(Op::Serve { res, sampler: sm });
        if per_query {
            self.emit(Op::Release);
        }
    }

    fn app_scope(&self, app: &str) -> PoolScope {
        let idx = self.index(app);
        self.app_spec(idx)
            .pool
            .as_ref()
            .map_or(PoolScope::Request, |p| p.scope)
    }

    fn index(&self, name: &str) -> usize {
        self.c
            .resource_index(name)
            .expect("validation resolved every resource name")
    }
}

struct FlowCtx {
    /// The prefix of the flow's stream names, `ep:<endpoint>`.
    flow: String,
    group: Option<u32>,
    sync: bool,
    depth: u8,
}

/// The Apdex threshold of an endpoint: its SLO's, else the global SLO's, else the settings'.
pub fn apdex_t(c: &Checked, endpoint: &str) -> f64 {
    let own = c
        .model
        .slos
        .iter()
        .find(|s| s.endpoint.as_deref() == Some(endpoint))
        .and_then(|s| s.apdex_t_s);
    let global = c
        .model
        .slos
        .iter()
        .find(|s| s.endpoint.is_none())
        .and_then(|s| s.apdex_t_s);
    own.or(global).unwrap_or(c.model.settings.apdex_t_s)
}
