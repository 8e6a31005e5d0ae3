//! Shared helpers: build a model from Rhai text, run it, read figures, and compare them with
//! theory within tolerances derived from the confidence intervals.

use capsim::engine::Program;
use capsim::model::{Checked, validate};
use capsim::montecarlo::{self, Exec, Replications, RunParams, ScenarioRun};
use capsim::stats::{Estimate, Scope};
use std::path::Path;

/// Tests accept theory within the 99.9 % Student t interval of the replications (the reported
/// ones are 95 %): a correct engine fails one comparison in a thousand seeds, and a fixed seed
/// makes each test deterministic.
pub const TEST_CONFIDENCE: f64 = 0.999;

/// How much wider the test interval is than the reported 95 % one, for `n` replications.
pub fn widen(n: u32) -> f64 {
    let n = n as usize;
    capsim::stats::ci::t_quantile_at(n, TEST_CONFIDENCE) / capsim::stats::ci::t_quantile(n)
}

/// Relative error an HDR histogram with 3 significant digits adds to a percentile.
pub const HDR_RELATIVE: f64 = capsim::stats::histogram::LATENCY_RELATIVE_ERROR;

pub fn checked(src: &str) -> (Checked, Program) {
    let model =
        capsim::script::load_str(src, "test.rhai", Path::new(".")).expect("the test model loads");
    let c = validate(model).expect("the test model is valid");
    let p = Program::compile(&c);
    (c, p)
}

/// Runs every scenario of `src` with `reps` replications of `duration_s` (stage-less scenarios).
pub fn run(src: &str, reps: u32, duration_s: Option<f64>, seed: u64) -> Vec<ScenarioRun> {
    let (c, p) = checked(src);
    run_checked(&c, &p, reps, duration_s, seed, None)
}

pub fn run_checked(
    c: &Checked,
    p: &Program,
    reps: u32,
    duration_s: Option<f64>,
    seed: u64,
    threads: Option<usize>,
) -> Vec<ScenarioRun> {
    let params = RunParams {
        seed,
        replications: Replications::Fixed { n: reps },
        duration_s,
        scenarios: vec![],
    };
    let exec = Exec {
        threads,
        ..Exec::default()
    };
    montecarlo::run(c, p, &params, &exec).expect("the run succeeds")
}

pub fn fig(r: &ScenarioRun, scope: &Scope, metric: &str) -> Estimate {
    let i = r
        .aggregate
        .schema
        .find(scope, metric.parse().expect("a metric"))
        .unwrap_or_else(|| panic!("no figure {scope:?} {metric}"));
    r.aggregate.estimate(i)
}

pub fn global(r: &ScenarioRun, metric: &str) -> Estimate {
    fig(r, &Scope::Global, metric)
}

pub fn resource(r: &ScenarioRun, name: &str, metric: &str) -> Estimate {
    fig(r, &Scope::Resource(name.to_string()), metric)
}

/// Asserts that `theory` lies in the widened interval of `e`, allowing also `slack` (relative
/// to theory) for a documented bias such as histogram resolution.
pub fn assert_agrees(what: &str, e: Estimate, theory: f64, slack: f64) {
    assert!(e.n >= 2, "{what}: needs replications for an interval");
    let h = e.half_width() * widen(e.n) + slack * theory.abs();
    assert!(
        (e.mean - theory).abs() <= h,
        "{what}: simulated {:.6} ± {:.6} (99.9 % ± {h:.6}) but theory says {theory:.6} (off by {:.2} %)",
        e.mean,
        e.half_width(),
        100.0 * (e.mean - theory) / theory
    );
}

/// Asserts that `wrong` lies outside the widened interval: the comparison has the power to
/// catch an engine that is off by that much.
pub fn assert_rejects(what: &str, e: Estimate, wrong: f64, slack: f64) {
    let h = e.half_width() * widen(e.n) + slack * wrong.abs();
    assert!(
        (e.mean - wrong).abs() > h,
        "{what}: the test cannot tell {:.6} ± {h:.6} from the wrong answer {wrong:.6}",
        e.mean
    );
}
