//! Same seed, same output, whatever the thread count.

use crate::support::*;
use capsim::report::{Exporter, Results, json::ResultsJson};

const MODEL: &str = r#"
let m = model("determinism");
let app = m.app("app", #{ instances: 3, workers: 2, cpus: 1, pool: #{ size: 2, timeout: ms(200) } });
let px = m.proxy("px", #{ upstream: app, policy: "power_of_two" });
let db = m.database("db", #{ replicas: 2, connections: 2, read_policy: "random" });
m.endpoint("r", 3, [app.compute(lognormal_p(ms(5), ms(20))), branch(0.7, [db.read(exponential(ms(4))).times(3)], [db.write(ms(6))])],
           #{ timeout: ms(400), retries: 1, backoff: uniform(ms(10), ms(50)) });
m.endpoint("w", 1, [app.compute(mixture([[0.9, ms(3)], [0.1, ms(80)]]))]);
m.users(40, uniform(ms(50), ms(300)));
m.scenario("ramp", #{ stages: [ramp(40, sec(10)), hold(sec(50))] });
m.scenario("steady", #{ duration: sec(200) });
"#;

fn results_json(threads: usize) -> Vec<u8> {
    let (c, p) = checked(MODEL);
    let runs = run_checked(&c, &p, 7, None, 99, Some(threads));
    let params = capsim::montecarlo::RunParams {
        seed: 99,
        replications: capsim::montecarlo::Replications::Fixed { n: 7 },
        duration_s: None,
        scenarios: vec![],
    };
    let mut files = ResultsJson
        .render(&Results::new(&c, &p, &params, &runs))
        .unwrap();
    files.remove(0).bytes
}

#[test]
fn results_are_bit_identical_on_one_two_and_three_threads() {
    let one = results_json(1);
    assert_eq!(one, results_json(2), "1 vs 2 threads");
    assert_eq!(one, results_json(3), "1 vs 3 threads");
}

#[test]
fn another_seed_gives_other_numbers() {
    let (c, p) = checked(MODEL);
    let a = run_checked(&c, &p, 2, None, 1, Some(1));
    let b = run_checked(&c, &p, 2, None, 2, Some(1));
    assert_ne!(a[0].aggregate.values, b[0].aggregate.values);
}

/// A schema is stored as its figures only; read back, it derives the same interval bands (which
/// histogram each pooled percentile reads, and over which quantiles), so a schema that went
/// through a file reads the same intervals as the one written.
#[test]
fn a_schema_read_back_from_json_is_the_schema_written() {
    let (c, p) = crate::support::checked(&std::fs::read_to_string("models/ebook.rhai").unwrap());
    let schema = capsim::stats::Schema::new(&p, c.workload.is_closed());
    let json = serde_json::to_string(&schema).unwrap();
    let back: capsim::stats::Schema = serde_json::from_str(&json).unwrap();
    assert_eq!(back, schema);
    let slots = |s: &capsim::stats::Schema| {
        (0..s.figures.len())
            .map(|i| s.quantile_slot(i))
            .collect::<Vec<_>>()
    };
    assert_eq!(slots(&back), slots(&schema));
    assert!(slots(&schema).iter().any(Option::is_some));
}
