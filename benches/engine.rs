//! Engine throughput: events per second of one replication, one thread, all statistics on.
//!
//! Every bench runs `capsim::engine::simulate` with a `capsim::stats::Recorder` (what
//! `capsim run` attaches to each replication) on a plan built exactly as the Monte Carlo runner
//! builds it (`capsim::montecarlo::plan::plan`). Each configuration is simulated once before it
//! is measured, to count its events (the seed is fixed, so every iteration does the same work):
//! criterion then reports `Throughput::Elements(events)`, i.e. events/s.
//!
//! - `mmc/mm3`: `benches/peers/mm3.rhai` (M/M/3, rho = 0.85), horizon for ~2e6 events.
//! - `ebook/normal`: `models/ebook.rhai`, scenario `normal` (its whole 30-min stage profile).
//! - `cores/{ps,fcfs}-{normal,max}`: the cost of processor-sharing cores (the default) against
//!   first-come-first-served ones, on the ebook model's `normal` (50 users, cores 5 % busy)
//!   and `max` (500 users, cores 45 % busy, up to 5 runnable steps on 2 cores) scenarios.
//! - `parts/{off,on}-{mm3,ebook}`: the cost of splitting each request's response time by part
//!   (`Recorder::with_parts`, what `capsim run`'s load tests do) against a recorder that does
//!   not ask for it (the study's cells), on M/M/3 and on the ebook model's `max` scenario.
//! - `events_scaling/{1e5,1e6,1e7,1e8}`: M/M/3 with horizons for ~1e5 .. 1e8 events; events/s
//!   should be flat (cost linear in the number of events).
//!
//! `cargo bench --bench engine` (about 3 min on 2 cores); see benches/README.md.

mod common;

use capsim::engine::{Program, ScenarioPlan, simulate};
use capsim::model::Checked;
use capsim::montecarlo::{Replications, RunParams, plan::plan};
use capsim::stats::Recorder;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use std::hint::black_box;
use std::time::Duration;

const SEED: u64 = 1;

/// A compiled model.
struct Loaded {
    checked: Checked,
    prog: Program,
}

fn load(rel: &str) -> Loaded {
    let (checked, prog) = common::load(rel);
    Loaded { checked, prog }
}

impl Loaded {
    /// The plan `capsim run` would simulate for `scenario`, with `--duration duration_s`.
    fn plan(&self, scenario: &str, duration_s: Option<f64>) -> ScenarioPlan {
        let s = self
            .checked
            .scenarios
            .iter()
            .find(|s| s.name == scenario)
            .unwrap_or_else(|| panic!("no scenario `{scenario}`"));
        let params = RunParams {
            seed: SEED,
            replications: Replications::Fixed { n: 1 },
            duration_s,
            scenarios: vec![scenario.to_string()],
        };
        plan(&self.checked, &self.prog, s, &params).expect("plan").0
    }

    /// One replication with all statistics on; returns its event count.
    fn run_once(&self, plan: &ScenarioPlan) -> u64 {
        self.run_with(plan, false)
    }

    /// One replication, also splitting response times by part when `parts`.
    fn run_with(&self, plan: &ScenarioPlan, parts: bool) -> u64 {
        let rec = Recorder::new(&self.prog, 0).with_parts(&self.prog, parts);
        let (rec, info) = simulate(&self.prog, plan, SEED, 0, rec).expect("simulate");
        black_box(rec);
        info.events
    }
}

/// Simulated seconds of M/M/3 that give about `events` events (calibrated on a short run, so
/// it follows whatever the engine counts as an event).
fn mm3_horizon(mm3: &Loaded, events: f64) -> f64 {
    const PILOT_S: f64 = 50_000.0;
    let n = mm3.run_once(&mm3.plan("steady", Some(PILOT_S)));
    (events * PILOT_S / n as f64).round()
}

/// Adds one throughput bench of `plan` to `group`.
fn bench_plan(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    model: &Loaded,
    plan: &ScenarioPlan,
) {
    let events = model.run_once(plan);
    eprintln!(
        "{label}: horizon {} s, {events} events per iteration",
        plan.horizon_s
    );
    group.throughput(Throughput::Elements(events));
    group.bench_with_input(BenchmarkId::from_parameter(label), plan, |b, plan| {
        b.iter(|| model.run_once(black_box(plan)))
    });
}

/// A group of long iterations: flat sampling, 10 samples, 1 s of warm-up.
fn flat_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    g
}

/// A group `group` holding the one bench `name` of `plan`, measured for 4 s.
fn single(c: &mut Criterion, group: &str, name: &str, m: &Loaded, plan: &ScenarioPlan) {
    let mut g = flat_group(c, group);
    g.measurement_time(Duration::from_secs(4));
    bench_plan(&mut g, name, m, plan);
    g.finish();
}

fn mmc(c: &mut Criterion) {
    let mm3 = load("benches/peers/mm3.rhai");
    let plan = mm3.plan("steady", Some(mm3_horizon(&mm3, 2e6)));
    single(c, "mmc", "mm3", &mm3, &plan);
}

fn ebook(c: &mut Criterion) {
    let ebook = load("models/ebook.rhai");
    let plan = ebook.plan("normal", None);
    single(c, "ebook", "normal", &ebook, &plan);
}

/// The ebook model with its app's cores shared first come first served.
fn ebook_fcfs() -> Loaded {
    let ebook = load("models/ebook.rhai");
    let mut model = ebook.checked.model;
    for r in &mut model.resources {
        if let capsim::model::ResourceKind::App(a) = &mut r.kind {
            a.scheduling = capsim::model::CoreScheduling::Fcfs;
        }
    }
    let checked = capsim::model::validate(model).expect("still valid");
    let prog = Program::compile(&checked);
    Loaded { checked, prog }
}

fn cores(c: &mut Criterion) {
    let (ps, fcfs) = (load("models/ebook.rhai"), ebook_fcfs());
    let mut g = flat_group(c, "cores");
    g.measurement_time(Duration::from_secs(8));
    for scenario in ["normal", "max"] {
        for (label, m) in [("ps", &ps), ("fcfs", &fcfs)] {
            let plan = m.plan(scenario, None);
            bench_plan(&mut g, &format!("{label}-{scenario}"), m, &plan);
        }
    }
    g.finish();
}

fn parts(c: &mut Criterion) {
    let mm3 = load("benches/peers/mm3.rhai");
    let ebook = load("models/ebook.rhai");
    let mm3_plan = mm3.plan("steady", Some(mm3_horizon(&mm3, 2e6)));
    let ebook_plan = ebook.plan("max", None);
    let mut g = flat_group(c, "parts");
    g.measurement_time(Duration::from_secs(6));
    for (name, m, plan) in [("mm3", &mm3, &mm3_plan), ("ebook", &ebook, &ebook_plan)] {
        let events = m.run_once(plan);
        g.throughput(Throughput::Elements(events));
        for on in [false, true] {
            let label = format!("{}-{name}", if on { "on" } else { "off" });
            g.bench_with_input(BenchmarkId::from_parameter(label), plan, |b, plan| {
                b.iter(|| m.run_with(black_box(plan), on))
            });
        }
    }
    g.finish();
}

fn events_scaling(c: &mut Criterion) {
    let mm3 = load("benches/peers/mm3.rhai");
    let mut g = flat_group(c, "events_scaling");
    for (name, events, secs) in [
        ("1e5", 1e5, 3),
        ("1e6", 1e6, 4),
        ("1e7", 1e7, 12),
        ("1e8", 1e8, 60),
    ] {
        let plan = mm3.plan("steady", Some(mm3_horizon(&mm3, events)));
        g.measurement_time(Duration::from_secs(secs));
        bench_plan(&mut g, name, &mm3, &plan);
    }
    g.finish();
}

criterion_group!(benches, mmc, ebook, cores, parts, events_scaling);
criterion_main!(benches);
