//! Honest confidence intervals: coverage over many independent runs at the default precision,
//! run lengthening, and the automatic warm-up, on queues whose answers are known exactly.

use crate::support::checked;
use capsim::analysis::queueing::MMc;
use capsim::engine::Program;
use capsim::model::Checked;
use capsim::montecarlo::{self, Exec, Precision, Replications, RunParams, ScenarioRun, WarmupRule};
use capsim::stats::{Estimate, Scope};

/// Independent runs per coverage test. A correct procedure covers in about 95 % of runs; with
/// 200 runs the accepted 90-99 % lies 3.2 binomial standard deviations below 95 % and 2.6 above.
const RUNS: u64 = 200;
const COVERAGE_LOW: f64 = 0.90;
const COVERAGE_HIGH: f64 = 0.99;

/// An M/M/c queue (exponential service, mean 1 s) at utilization `rho`, one stage-less scenario
/// of `duration` with the warm-up rule `warmup`.
fn mmc(c: u32, rho: f64, duration: &str, warmup: &str) -> (Checked, Program, MMc) {
    let lambda = rho * f64::from(c);
    let src = format!(
        r#"
let m = model("M/M/{c}");
let q = m.station("q", #{{ servers: {c}, service: exponential(sec(1)) }});
m.endpoint("job", 1, [q.visit()]);
m.arrivals(per_sec({lambda}));
m.slo(#{{ p95: minutes(10) }});
m.scenario("steady", #{{ duration: {duration}, warmup: {warmup} }});
"#
    );
    let (c_, p) = checked(&src);
    (c_, p, MMc::new(lambda, 1.0, c).expect("a stable queue"))
}

fn run(c: &Checked, p: &Program, replications: Replications, seed: u64) -> ScenarioRun {
    let params = RunParams {
        seed,
        replications,
        duration_s: None,
        scenarios: vec![],
    };
    montecarlo::run(c, p, &params, &Exec::default())
        .expect("the run succeeds")
        .remove(0)
}

fn global(r: &ScenarioRun, metric: &str) -> Estimate {
    let i = r
        .aggregate
        .schema
        .find(&Scope::Global, metric.parse().expect("a metric"))
        .unwrap();
    r.aggregate.estimate(i)
}

/// The exact mean, p95 and p99 response time of the queue, ms.
fn truth(q: &MMc) -> [(&'static str, f64); 3] {
    [
        ("latency_mean", 1e3 * q.mean_response()),
        ("latency_p95", 1e3 * q.response_quantile(0.95).unwrap()),
        ("latency_p99", 1e3 * q.response_quantile(0.99).unwrap()),
    ]
}

/// Runs `RUNS` independent precision-driven runs (seeds `first_seed..`) and checks that each
/// figure's interval covers the exact value in 90-99 % of them.
fn assert_coverage(what: &str, c: &Checked, p: &Program, q: &MMc, first_seed: u64) {
    assert_coverage_over(RUNS, Precision::DEFAULT, what, (c, p, q), first_seed);
}

/// [`assert_coverage`] over `runs` runs at precision `precision`.
fn assert_coverage_over(
    runs: u64,
    precision: Precision,
    what: &str,
    (c, p, q): (&Checked, &Program, &MMc),
    first_seed: u64,
) {
    let truth = truth(q);
    let mut covered = [0u64; 3];
    let mut below = [0u64; 3];
    for seed in first_seed..first_seed + runs {
        let r = run(c, p, Replications::Precision(precision), seed);
        for (k, (metric, exact)) in truth.iter().enumerate() {
            let e = global(&r, metric);
            if e.covers(*exact) {
                covered[k] += 1;
            } else if e.ci_high < *exact {
                below[k] += 1;
            }
        }
    }
    let summary: Vec<String> = truth
        .iter()
        .zip(covered.iter().zip(&below))
        .map(|((m, _), (c, b))| {
            format!(
                "{m} {:.3} ({b} of the misses below)",
                *c as f64 / runs as f64
            )
        })
        .collect();
    eprintln!("{what}: coverage over {runs} runs: {}", summary.join(", "));
    for ((metric, _), c) in truth.iter().zip(covered) {
        let coverage = c as f64 / runs as f64;
        assert!(
            (COVERAGE_LOW..=COVERAGE_HIGH).contains(&coverage),
            "{what}: the 95 % interval of {metric} covered the exact value in {coverage:.3} of \
             {runs} runs, outside {COVERAGE_LOW}..={COVERAGE_HIGH} ({})",
            summary.join(", ")
        );
    }
}

#[test]
fn mm1_intervals_cover_the_exact_mean_p95_and_p99() {
    let (c, p, q) = mmc(1, 0.8, "hours(8)", r#""auto""#);
    assert_coverage("M/M/1 rho 0.8", &c, &p, &q, 10_000);
}

#[test]
fn mmc_intervals_cover_the_exact_mean_p95_and_p99() {
    let (c, p, q) = mmc(2, 0.8, "hours(8)", r#""auto""#);
    assert_coverage("M/M/2 rho 0.8", &c, &p, &q, 20_000);
}

/// Near saturation the tails are hardest: M/M/1 at utilization 0.95, whose relaxation time is
/// about 1 / (mu (1 - sqrt(rho))^2) = 1 560 s. A run at the default ±5 % needs some 25 M
/// events here, so to fit the suite's time this test asks for ±10 % (a quarter of the events),
/// starts at the length the precision loop settles on (128 h: from 32 h it doubles twice), fixes the warm-up at 2 h (4.6
/// relaxation times) instead of running MSER-5 pilots, and counts 100 runs (a correct
/// procedure then lands in 90-99 % with probability about 0.96). The default precision from
/// 8 h with MSER-5 is the ignored test below.
#[test]
fn mm1_near_saturation_intervals_cover_the_exact_p95_and_p99() {
    let (c, p, q) = mmc(1, 0.95, "hours(128)", "hours(2)");
    let tenth = Precision {
        target: 0.10,
        ..Precision::DEFAULT
    };
    assert_coverage_over(100, tenth, "M/M/1 rho 0.95 at 10 %", (&c, &p, &q), 30_000);
}

/// The same from 8 h runs with the automatic warm-up, over 200 runs: about 20 minutes on 2
/// cores, so on demand: `cargo test --profile ci --test it rigor::mm1_near -- --ignored
/// --nocapture`. Measured: mean 0.965, p95 0.970, p99 0.935.
#[test]
#[ignore = "slow: run on demand"]
fn mm1_near_saturation_from_eight_hours_with_mser_covers() {
    let (c, p, q) = mmc(1, 0.95, "hours(8)", r#""auto""#);
    assert_coverage("M/M/1 rho 0.95 from 8 h", &c, &p, &q, 30_000);
}

/// The case that motivates lengthening: M/M/1 at utilization 0.9 from runs of 1 h, where the
/// replications' p99 is badly biased. About 2 minutes in a release build, so not in the
/// default suite: `cargo test --release --test it rigor::mm1_at_0_9 -- --ignored --nocapture`.
#[test]
#[ignore = "slow: run on demand"]
fn mm1_at_0_9_from_one_hour_runs_covers_after_lengthening() {
    let (c, p, q) = mmc(1, 0.9, "hours(1)", r#""auto""#);
    assert_coverage("M/M/1 rho 0.9 from 1 h", &c, &p, &q, 1000);
}

#[test]
fn too_short_runs_are_lengthened_and_the_lengthening_is_reported() {
    let (c, p, _) = mmc(1, 0.9, "minutes(10)", r#""auto""#);
    let r = run(&c, &p, Replications::Precision(Precision::DEFAULT), 7);
    let report = r.precision.as_ref().expect("a precision report");
    assert!(report.lengthened >= 1, "{report:?}");
    assert_eq!(r.horizon_s, 600.0 * 2f64.powi(report.lengthened as i32));
    assert_eq!(report.horizon_s, r.horizon_s);
    assert!(report.estimator.contains("pooled"), "{}", report.estimator);

    // A load test's stages fix its length: it is never lengthened.
    let (c, p) = checked(
        r#"
let m = model("staged");
let q = m.station("q", #{ servers: 1, service: exponential(sec(1)) });
m.endpoint("job", 1, [q.visit()]);
m.arrivals(per_sec(0.9));
m.slo(#{ p95: minutes(10) });
m.scenario("ramp", #{ stages: [stage(minutes(5), 0.9), stage(minutes(5), 0.9)] });
"#,
    );
    let r = run(&c, &p, Replications::Precision(Precision::DEFAULT), 7);
    assert_eq!(r.precision.unwrap().lengthened, 0);
    assert_eq!(r.horizon_s, 600.0);
}

/// Started empty at utilization 0.9, an M/M/4 queue needs several relaxation times (about
/// 1 / (c mu (1 - sqrt(rho))^2) = 95 s) to forget its start; until then responses are too fast.
/// With the whole run measured, 1 024 replications of 10 min give an interval of the mean
/// response time that lies below the exact 2.97 s (seed 3: 2.87 s, up to 2.93 s, a bias of about
/// 3 %); with the automatic MSER-5 truncation (78 s), the same replications' interval covers it
/// (2.90 to 3.02 s). The bias is about 3.5 % over seeds: 256 replications, whose interval is
/// about as wide, left the untruncated interval below the exact value for only a third of the
/// seeds; at 1 024 it did for 8 seeds of 8, and the truncated one covered for 7.
#[test]
fn the_automatic_warm_up_removes_the_empty_start_bias() {
    let fixed = Replications::Fixed { n: 1024 };
    let exact = 1e3 * MMc::new(3.6, 1.0, 4).unwrap().mean_response();

    let (c, p, _) = mmc(4, 0.9, "minutes(10)", r#""none""#);
    let whole = run(&c, &p, fixed, 3);
    assert_eq!(whole.warmup.rule, WarmupRule::None);
    let e = global(&whole, "latency_mean");
    eprintln!("untruncated: {e:?}");
    assert!(
        e.ci_high < exact,
        "the untruncated interval should lie below the exact {exact} ms: {e:?}"
    );

    let (c, p, _) = mmc(4, 0.9, "minutes(10)", r#""auto""#);
    let cut = run(&c, &p, fixed, 3);
    assert_eq!(cut.warmup.rule, WarmupRule::Mser5);
    assert!(cut.warmup.seconds > 0.0, "{:?}", cut.warmup);
    let e = global(&cut, "latency_mean");
    eprintln!("truncated after {:?}: {e:?}", cut.warmup);
    assert!(
        e.covers(exact),
        "the truncated interval should cover the exact {exact} ms: {e:?} (warm-up {:?})",
        cut.warmup
    );
}
