//! Parallel scaling of replications: one study through `capsim::montecarlo::run` (what
//! `capsim run` calls), with `Exec { threads: Some(1) }` and `Some(2)`.
//!
//! - `scaling_mm3_8x1e6/threads/{1,2}`: 8 replications of `benches/peers/mm3.rhai`, horizon for
//!   ~1e6 events each (warm-up "none": no pilot runs).
//! - `scaling_ebook_normal_4x/threads/{1,2}`: 4 replications of `models/ebook.rhai`, scenario
//!   `normal` (30-min stage profile).
//!
//! criterion reports the time of each (and events/s over the whole study). The last function,
//! `speedup`, times both thread counts of each study itself (alternating, 5 runs each, median)
//! and prints `speedup 2 threads / 1 thread: X.XX` to stderr; it runs only under `cargo bench`
//! (not in criterion's `--test` mode). Target: >= 1.8 on 2 cores.
//!
//! `cargo bench --bench scaling`; see benches/README.md.

mod common;

use capsim::engine::Program;
use capsim::model::Checked;
use capsim::montecarlo::{Exec, Replications, RunParams, run};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SEED: u64 = 1;
/// Simulated seconds of M/M/3 giving ~1e6 events (5.1 events per simulated second: 2.55
/// customers/s, 2 events each).
const MM3_HORIZON_1E6: f64 = 196_000.0;

/// A study: a compiled model and the run parameters.
struct Study {
    name: &'static str,
    checked: Checked,
    prog: Program,
    params: RunParams,
}

impl Study {
    fn new(
        name: &'static str,
        rel: &str,
        scenario: &str,
        reps: u32,
        duration_s: Option<f64>,
    ) -> Study {
        let (checked, prog) = common::load(rel);
        let params = RunParams {
            seed: SEED,
            replications: Replications::Fixed { n: reps },
            duration_s,
            scenarios: vec![scenario.to_string()],
        };
        Study {
            name,
            checked,
            prog,
            params,
        }
    }

    /// Runs the whole study on `threads` threads; returns its events.
    fn run(&self, threads: usize) -> u64 {
        let exec = Exec {
            threads: Some(threads),
            ..Exec::default()
        };
        let runs = run(&self.checked, &self.prog, &self.params, &exec).expect("run");
        let events = runs.iter().map(|r| r.aggregate.events).sum();
        black_box(runs);
        events
    }

    fn seconds(&self, threads: usize) -> f64 {
        let t = Instant::now();
        self.run(threads);
        t.elapsed().as_secs_f64()
    }
}

fn studies() -> Vec<Study> {
    vec![
        Study::new(
            "scaling_mm3_8x1e6",
            "benches/peers/mm3.rhai",
            "steady",
            8,
            Some(MM3_HORIZON_1E6),
        ),
        Study::new(
            "scaling_ebook_normal_4x",
            "models/ebook.rhai",
            "normal",
            4,
            None,
        ),
    ]
}

fn scaling(c: &mut Criterion) {
    for study in studies() {
        let events = study.run(2);
        eprintln!("{}: {events} events per study", study.name);
        let mut g = c.benchmark_group(study.name);
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(8))
            .throughput(Throughput::Elements(events));
        for threads in [1usize, 2] {
            g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
                b.iter(|| study.run(t))
            });
        }
        g.finish();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Times each study on 1 and 2 threads, alternating, and prints the ratio of the medians.
fn speedup(_c: &mut Criterion) {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not (criterion's test mode).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    const RUNS: usize = 5;
    for study in studies() {
        study.run(2); // warm-up
        let (mut one, mut two) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            one.push(study.seconds(1));
            two.push(study.seconds(2));
        }
        let (m1, m2) = (median(one.clone()), median(two.clone()));
        let fmt = |v: &[f64]| {
            v.iter()
                .map(|s| format!("{s:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        eprintln!(
            "{}: 1 thread median {m1:.3} s [{}], 2 threads median {m2:.3} s [{}]",
            study.name,
            fmt(&one),
            fmt(&two)
        );
        eprintln!(
            "{}: speedup 2 threads / 1 thread: {:.2}",
            study.name,
            m1 / m2
        );
    }
}

criterion_group!(benches, scaling, speedup);
criterion_main!(benches);
