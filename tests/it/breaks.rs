//! Saying what breaks: the measured bottleneck, each stage of a load test measured on its own,
//! the first objective to fail, and per-window utilization in the time series.

use crate::cli::{arg, assert_exit, capsim, tempdir};
use crate::support::checked;
use capsim::analysis::queueing::MMc;
use capsim::montecarlo::{self, Exec, Replications, RunParams};
use capsim::report::Results;

/// An open staircase on a 100 requests/s server (exponential 10 ms) behind a 40 % busy one:
/// jumps to 20, 50, 90 and 95 requests/s, each held 10 minutes.
const STAIRS: &str = r#"
let m = model("stairs");
let web = m.station("web", #{ servers: 1, service: exponential(ms(4)) });
let db = m.station("db", #{ servers: 1, service: exponential(ms(10)) });
m.endpoint("GET /x", 1, [web.visit(), db.visit()]);
m.arrivals(per_sec(20));
m.slo(#{ p95: ms(200) });
m.scenario("stairs", #{
    level: 20,
    stages: [hold(minutes(10)), stage(sec(0), 50), hold(minutes(10)),
             stage(sec(0), 90), hold(minutes(10)), stage(sec(0), 95), hold(minutes(10))],
});
"#;

fn results(src: &str, reps: u32) -> Results {
    let (c, p) = checked(src);
    let params = RunParams {
        seed: 4,
        replications: Replications::Fixed { n: reps },
        duration_s: None,
        scenarios: vec![],
    };
    let runs = montecarlo::run(&c, &p, &params, &Exec::default()).expect("the run succeeds");
    Results::new(&c, &p, &params, &runs)
}

/// Averaged over the whole staircase the db is 64 % busy and the p95 hides the last step;
/// measured per stage, its utilization follows lambda x 10 ms and the p95 objective first fails
/// at 90 requests/s, where M/M/1 tandem theory puts the p95 above 200 ms (at 50/s it is ~70 ms).
#[test]
fn each_stage_is_measured_on_its_own_and_the_first_failure_named() {
    let r = results(STAIRS, 10);
    let s = &r.scenarios[0];
    let holds: Vec<_> = s
        .stages
        .iter()
        .filter(|st| st.label.starts_with("hold"))
        .collect();
    assert_eq!(holds.len(), 4, "{:?}", s.stages);
    let db = r.resources.iter().position(|x| x.name == "db").unwrap();
    for (st, lambda) in holds.iter().zip([20.0, 50.0, 90.0, 95.0]) {
        let u = st.span.utilization[db].expect("a limited resource");
        assert!(
            (u - lambda * 0.010).abs() < 0.03,
            "{}: db {u} at {lambda}/s",
            st.label
        );
        assert_eq!(
            st.bottleneck.as_ref().unwrap().resource,
            "db",
            "{}",
            st.label
        );
    }
    let f = s.first_failure.as_ref().expect("p95 < 200ms fails");
    let hold_90 = holds[2].index;
    assert_eq!(f.stage, Some(hold_90), "{f:?}");
    assert_eq!(f.objective, "p(95) < 200ms");
    assert!(holds[1].broken.is_empty() && !holds[2].broken.is_empty());
    // Theory for the 50/s stage: two M/M/1 in tandem; the db's own p95 alone is 60 ms.
    let db_alone = 1e3
        * MMc::new(50.0, 100.0, 1)
            .unwrap()
            .response_quantile(0.95)
            .unwrap();
    assert!(holds[1].span.p95_ms.unwrap() > db_alone);
    assert_eq!(s.bottleneck.as_ref().unwrap().resource, "db");
}

/// 108 requests/s on a database that serves 111/s: its queue holds the two sync workers too,
/// which read near 100 % busy. The bottleneck named is the database; the workers are its
/// symptom.
#[test]
fn a_held_resource_is_a_symptom_beside_the_active_bottleneck() {
    let src = r#"
let m = model("held");
let api = m.app("api", #{ workers: 2, cpus: 4 });
let db = m.database("db", #{ connections: 1 });
m.endpoint("GET /x", 1, [api.compute(ms(1)), db.read(exponential(ms(9)))]);
m.arrivals(per_sec(108));
m.scenario("busy", #{ duration: minutes(5) });
"#;
    let r = results(src, 4);
    let b = r.scenarios[0].bottleneck.as_ref().unwrap();
    assert_eq!(b.resource, "db primary", "{b:?}");
    assert!(b.utilization > 0.9, "{b:?}");
    assert!(
        b.saturated_held.iter().any(|(n, _)| n == "api[1] workers"),
        "{b:?}"
    );
}

/// The files say which resource hit 100 % at which step: per-window utilization of every
/// resource and p95 per endpoint in `timeseries.csv`, one row per stage in `stages.csv`.
#[test]
fn the_time_series_and_the_stages_carry_utilization_and_endpoint_p95() {
    let tmp = tempdir();
    let model = tmp.path().join("stairs.rhai");
    std::fs::write(&model, STAIRS).unwrap();
    let out = tmp.path().join("out");
    let o = capsim([
        "run",
        arg(&model),
        "--replications",
        "2",
        "-q",
        "-o",
        arg(&out),
    ]);
    assert_exit(&o, 0);
    let read = |f: &str| {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<Vec<String>> = rd
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    };
    let (header, rows) = read("timeseries.csv");
    let util = header
        .iter()
        .position(|h| h == "utilization_db")
        .expect("a column");
    assert!(header.iter().any(|h| h == "p95_ms_get_x"), "{header:?}");
    let first: f64 = rows[0][util].parse().unwrap();
    let last: f64 = rows[rows.len() - 1][util].parse().unwrap();
    assert!(first < 0.3 && last > 0.85, "{first} .. {last}");
    let (header, rows) = read("stages.csv");
    assert_eq!(&header[..3], ["scenario", "stage", "stage_does"]);
    assert_eq!(rows.len(), 7, "{rows:?}");
}
