//! Tests of the model language, end to end from script text to model value or error.

use super::sandbox::{self, Setup};
use super::values::{Duration, ScriptDist};
use super::*;
use crate::model::*;
use rhai::Dynamic;
use std::path::{Path, PathBuf};

const FILE: &str = "test.rhai";

pub(super) fn load(src: &str) -> Result<Model, ScriptError> {
    load_str(src, FILE, Path::new("."))
}

pub(super) fn ok(src: &str) -> Model {
    load(src).unwrap_or_else(|e| panic!("{}", e.one_line()))
}

/// The error's line, column and message.
pub(super) fn fails(src: &str) -> (u32, u32, String) {
    match load(src) {
        Err(ScriptError::Eval {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected an evaluation error, got {other:?}"),
    }
}

/// Evaluates one expression in the sandboxed engine.
pub(super) fn eval<T: Clone + 'static>(expr: &str) -> Result<T, String> {
    let setup = Setup {
        main_file: FILE,
        base_dir: Path::new("."),
        cwd: Path::new("."),
        texts: Default::default(),
        slot: Default::default(),
        caps: sandbox::Caps::DEFAULT,
    };
    sandbox::engine(setup)
        .eval::<T>(expr)
        .map_err(|e| e.to_string())
}

fn dist(expr: &str) -> Dist {
    eval::<ScriptDist>(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .0
}

fn without_origins(mut m: Model) -> Model {
    m.resources.iter_mut().for_each(|r| r.origin = None);
    m.endpoints.iter_mut().for_each(|e| e.origin = None);
    m.slos.iter_mut().for_each(|s| s.origin = None);
    m.scenarios.iter_mut().for_each(|s| s.origin = None);
    m.workload_origin = None;
    m.origin = None;
    m
}

// ---- units ----------------------------------------------------------------------------------

#[test]
fn duration_constructors_carry_their_unit() {
    assert_eq!(eval::<f64>("ms(5).seconds").unwrap(), 0.005);
    assert_eq!(eval::<f64>("us(250).seconds").unwrap(), 0.000_25);
    assert_eq!(eval::<f64>("sec(1.5).ms").unwrap(), 1500.0);
    assert_eq!(eval::<f64>("minutes(2).seconds").unwrap(), 120.0);
    assert_eq!(eval::<f64>("hours(1).seconds").unwrap(), 3600.0);
    assert_eq!(eval::<f64>("days(1).seconds").unwrap(), 86_400.0);
}

#[test]
fn duration_arithmetic_and_comparisons() {
    assert_eq!(eval::<f64>("(ms(5) + ms(10)).ms").unwrap(), 15.0);
    assert_eq!(eval::<f64>("(sec(1) - ms(250)).ms").unwrap(), 750.0);
    assert_eq!(eval::<f64>("(ms(5) * 3).ms").unwrap(), 15.0);
    assert_eq!(eval::<f64>("(2.5 * ms(2)).ms").unwrap(), 5.0);
    assert_eq!(eval::<f64>("(sec(1) / 4).ms").unwrap(), 250.0);
    assert_eq!(eval::<f64>("sec(1) / ms(250)").unwrap(), 4.0);
    assert!(
        eval::<bool>("ms(5) < sec(1) && sec(1) >= ms(1000) && ms(1) != ms(2) && ms(3) == ms(3)")
            .unwrap()
    );
    assert_eq!(eval::<String>("ms(12.3).to_string()").unwrap(), "12.3 ms");
    assert_eq!(eval::<String>("`${per_min(3000)}`").unwrap(), "50/s");
    assert_eq!(
        eval::<String>("(per_sec(10) * 5).to_string()").unwrap(),
        "50/s"
    );
}

#[test]
fn negative_durations_are_errors_at_the_call() {
    let (line, column, message) = fails("let m = model(\"x\");\nlet d = sec(-1);");
    assert_eq!((line, column), (2, 9));
    assert!(
        message.contains("`sec(-1)` is not a valid duration"),
        "{message}"
    );
    let (line, _, message) = fails("let m = model(\"x\");\n\nlet d = ms(5) - ms(10);");
    assert_eq!(line, 3);
    assert!(message.contains("must be finite and >= 0"), "{message}");
}

#[test]
fn a_negative_mean_stops_at_the_duration_and_a_zero_mean_at_the_distribution() {
    let (line, column, message) = fails("let m = model(\"x\");\nlet d = exponential(ms(-5));");
    assert_eq!((line, column), (2, 21));
    assert!(message.contains("ms(-5)"), "{message}");
    let (_, column, message) = fails("let m = model(\"x\");\nlet d = exponential(ms(0));");
    assert_eq!(column, 9);
    assert_eq!(
        message,
        "exponential mean must be a finite number > 0 (got 0)"
    );
}

// ---- distributions --------------------------------------------------------------------------

#[test]
fn every_distribution_constructor_builds_the_model_value() {
    let table = [
        ("constant(ms(5))", Dist::constant(0.005)),
        ("exponential(ms(5))", Dist::exponential(0.005)),
        ("uniform(sec(1), sec(3))", Dist::uniform(1.0, 3.0)),
        ("normal(ms(20), ms(5))", Dist::normal(0.02, 0.005)),
        ("lognormal(ms(20), ms(10))", Dist::lognormal(0.02, 0.01)),
        (
            "lognormal_p(ms(6), ms(20))",
            Dist::lognormal_percentiles(0.006, 0.02),
        ),
        ("erlang(3, ms(30))", Dist::erlang(3, 0.03)),
        ("gamma(2.5, ms(4))", Dist::gamma(2.5, 0.004)),
        ("weibull(1, sec(2))", Dist::weibull(1.0, 2.0)),
        ("pareto(ms(10), 2.5)", Dist::pareto(0.01, 2.5)),
        (
            "empirical([ms(1), ms(2), ms(6)])",
            Dist::empirical(vec![0.001, 0.002, 0.006]),
        ),
    ];
    for (expr, want) in table {
        assert_eq!(dist(expr), want.unwrap(), "{expr}");
    }
}

#[test]
fn mixtures_accept_durations_as_constant_components() {
    let got = dist("mixture([[9, ms(10)], [1.0, exponential(ms(500))]])");
    let want = Dist::mixture(vec![
        Component {
            weight: 9.0,
            dist: Dist::constant(0.01).unwrap(),
        },
        Component {
            weight: 1.0,
            dist: Dist::exponential(0.5).unwrap(),
        },
    ]);
    assert_eq!(got, want.unwrap());
    assert!(
        (eval::<Duration>("mixture([[9, ms(10)], [1, ms(100)]]).mean")
            .unwrap()
            .0
            - 0.019)
            .abs()
            < 1e-12
    );
}

#[test]
fn a_p95_below_the_p50_is_refused_with_the_models_message() {
    let (line, column, message) =
        fails("let m = model(\"x\");\nlet d = lognormal_p(ms(20), ms(6));");
    assert_eq!((line, column), (2, 9));
    assert!(
        message.starts_with("lognormal from percentiles needs p95 > p50"),
        "{message}"
    );
}

#[test]
fn a_bare_number_where_a_duration_is_expected_asks_for_a_unit() {
    let (_, _, message) = fails("let m = model(\"x\");\nlet d = exponential(5);");
    assert!(
        message.contains("`exponential mean` must be a duration"),
        "{message}"
    );
    assert!(message.contains("use ms(…) or sec(…)"), "{message}");
    let (_, _, message) = fails("let m = model(\"x\");\nm.station(\"s\", #{ service: 5 });");
    assert!(
        message.contains("`service` must be a distribution or a duration like ms(5), got i64"),
        "{message}"
    );
}

#[test]
fn malformed_lists_name_the_element() {
    let (_, _, message) = fails("let m = model(\"x\");\nlet d = empirical([ms(1), 2]);");
    assert!(
        message.contains("`empirical[1]` must be a duration"),
        "{message}"
    );
    let (_, _, message) = fails("let m = model(\"x\");\nlet d = mixture([[1, ms(1)], ms(2)]);");
    assert!(
        message.contains("`mixture[1]` must be a [weight, distribution] pair"),
        "{message}"
    );
}

// ---- the whole language ---------------------------------------------------------------------

const SHOP: &str = r#"
let m = model("shop");
let api = m.app("api", #{ instances: 2, workers: 4, cpus: 2, backlog: 64, mode: "async",
    pool: #{ size: 5, timeout: sec(3), scope: "query" },
    memory: #{ ram_mb: 2048, base_mb: 300, per_worker_mb: 80, per_request_mb: 2 } });
let lb = m.proxy("lb", #{ upstream: api, policy: "least_conn", connections: 1000, workers: 2, service: us(50) });
let disk = m.station("disk", #{ servers: 2, queue: 10, service: exponential(ms(4)) });
let db = m.database("db", #{ replicas: 1, connections: 20, queue: 100, read_policy: "random" });
let redis = m.cache("redis", #{ service: ms(1) });
let psp = m.external("psp", #{ delay: lognormal_p(ms(80), ms(300)), limit: 50, queue: 10 });
let jobs = m.background("jobs", #{ workers: 3, queue: 500 });
m.endpoint("GET /item", 8, [
    api.compute(exponential(ms(5))),
    redis.get(0.9, [db.read(ms(3))]),
    disk.visit(),
    disk.visit(ms(2)),
], #{ timeout: sec(2), retries: 2, backoff: ms(100), app: api });
m.endpoint("POST /order", 1.5, [
    db.write(uniform(ms(2), ms(4))),
    psp.call(),
    psp.call(ms(50)),
    jobs.enqueue(ms(200)),
    branch(0.1, [delay(ms(10))]),
    branch(0.5, [delay(ms(1))], [delay(ms(2))]),
    repeat(3, [db.read(ms(1))]),
    db.read(ms(1)).times(4),
]);
m.users(100, uniform(sec(1), sec(3)), #{ on_start: "GET /item" });
m.slo(#{ p95: ms(300), p999: sec(1), error_rate: 0.01, availability: 0.999, apdex: 0.9, apdex_t: ms(200) });
m.slo("GET /item", #{ p99: ms(500) });
m.scenario("peak", #{ stages: [ramp(200, minutes(2)), hold(minutes(10)), stage(minutes(1), 0)],
    level: 50, warmup: "none", description: "peak hour" });
m.scenario("soak", #{ duration: hours(2), warmup: minutes(5) });
m.settings(#{ max_in_flight: 5000, window: sec(10), default_duration: minutes(30), apdex_t: ms(400) });
"#;

fn d(r: Result<Dist, DistError>) -> Dist {
    r.unwrap()
}

fn resource(name: &str, kind: ResourceKind) -> Resource {
    Resource {
        name: name.into(),
        kind,
        origin: None,
    }
}

fn shop_resources() -> Vec<Resource> {
    let pool = PoolSpec::new(5, Some(3.0), PoolScope::Query).unwrap();
    let memory = MemorySpec::new(2048.0, 300.0, 80.0, 2.0).unwrap();
    let app = AppSpec::new(
        2,
        4,
        Some(64),
        2,
        WorkerMode::Async,
        Some(pool),
        Some(memory),
    )
    .unwrap();
    let proxy = ProxySpec::new(
        "api".into(),
        Policy::LeastConn,
        Some(1000),
        2,
        d(Dist::constant(50e-6)),
    )
    .unwrap();
    vec![
        resource("api", ResourceKind::App(app)),
        resource("lb", ResourceKind::Proxy(proxy)),
        resource(
            "disk",
            ResourceKind::Station(
                StationSpec::new(2, Some(10), Some(d(Dist::exponential(0.004)))).unwrap(),
            ),
        ),
        resource(
            "db",
            ResourceKind::Database(DatabaseSpec::new(1, 20, Some(100), Policy::Random).unwrap()),
        ),
        resource(
            "redis",
            ResourceKind::Cache(CacheSpec::new(1, d(Dist::constant(0.001))).unwrap()),
        ),
        resource(
            "psp",
            ResourceKind::External(
                ExternalSpec::new(
                    d(Dist::lognormal_percentiles(0.08, 0.3)),
                    Some(50),
                    Some(10),
                )
                .unwrap(),
            ),
        ),
        resource(
            "jobs",
            ResourceKind::Background(BackgroundSpec::new(3, Some(500)).unwrap()),
        ),
    ]
}

fn read(s: f64) -> Step {
    Step::Query {
        db: "db".into(),
        op: QueryOp::Read,
        service: d(Dist::constant(s)),
        bytes: None,
    }
}

fn delay(s: f64) -> Step {
    Step::Delay {
        delay: d(Dist::constant(s)),
    }
}

fn shop_endpoints() -> Vec<Endpoint> {
    let item = vec![
        Step::Compute {
            app: "api".into(),
            demand: d(Dist::exponential(0.005)),
        },
        Step::CacheGet {
            cache: "redis".into(),
            hit_ratio: 0.9,
            miss: vec![read(0.003)],
        },
        Step::Visit {
            station: "disk".into(),
            service: None,
        },
        Step::Visit {
            station: "disk".into(),
            service: Some(d(Dist::constant(0.002))),
        },
    ];
    let order = vec![
        Step::Query {
            db: "db".into(),
            op: QueryOp::Write,
            service: d(Dist::uniform(0.002, 0.004)),
            bytes: None,
        },
        Step::Call {
            external: "psp".into(),
            delay: None,
        },
        Step::Call {
            external: "psp".into(),
            delay: Some(d(Dist::constant(0.05))),
        },
        Step::Enqueue {
            queue: "jobs".into(),
            service: d(Dist::constant(0.2)),
        },
        Step::Branch {
            probability: 0.1,
            then: vec![delay(0.01)],
            otherwise: vec![],
        },
        Step::Branch {
            probability: 0.5,
            then: vec![delay(0.001)],
            otherwise: vec![delay(0.002)],
        },
        Step::Repeat {
            times: 3,
            steps: vec![read(0.001)],
        },
        Step::Repeat {
            times: 4,
            steps: vec![read(0.001)],
        },
    ];
    let retry = Some(RetrySpec {
        count: 2,
        backoff: d(Dist::constant(0.1)),
    });
    vec![
        Endpoint {
            name: "GET /item".into(),
            weight: 8.0,
            steps: item,
            app: Some("api".into()),
            timeout_s: Some(2.0),
            retry,
            origin: None,
            response_bytes: None,
        },
        Endpoint {
            name: "POST /order".into(),
            weight: 1.5,
            steps: order,
            app: None,
            timeout_s: None,
            retry: None,
            origin: None,
            response_bytes: None,
        },
    ]
}

fn shop_rest(m: &mut Model) {
    m.workload = Some(Workload::Closed {
        users: 100,
        think: d(Dist::uniform(1.0, 3.0)),
        on_start: Some("GET /item".into()),
    });
    let global = vec![
        Target::Latency {
            percentile: 95.0,
            max_s: 0.3,
        },
        Target::Latency {
            percentile: 99.9,
            max_s: 1.0,
        },
        Target::ErrorRate { max: 0.01 },
        Target::Availability { min: 0.999 },
        Target::Apdex { min: 0.9 },
    ];
    m.slos = vec![
        Slo {
            endpoint: None,
            targets: global,
            apdex_t_s: Some(0.2),
            origin: None,
        },
        Slo {
            endpoint: Some("GET /item".into()),
            targets: vec![Target::Latency {
                percentile: 99.0,
                max_s: 0.5,
            }],
            apdex_t_s: None,
            origin: None,
        },
    ];
    let stages = vec![
        Stage {
            duration_s: 120.0,
            target: 200.0,
        },
        Stage {
            duration_s: 600.0,
            target: 200.0,
        },
        Stage {
            duration_s: 60.0,
            target: 0.0,
        },
    ];
    m.scenarios = vec![
        Scenario {
            name: "peak".into(),
            description: Some("peak hour".into()),
            start_level: Some(50.0),
            stages,
            duration_s: None,
            warmup: Warmup::None,
            origin: None,
        },
        Scenario {
            name: "soak".into(),
            description: None,
            start_level: None,
            stages: vec![],
            duration_s: Some(7200.0),
            warmup: Warmup::Fixed { seconds: 300.0 },
            origin: None,
        },
    ];
    m.settings = Settings {
        max_in_flight: 5000,
        window_s: Some(10.0),
        default_duration_s: 1800.0,
        apdex_t_s: 0.4,
    };
}

#[test]
fn every_function_builds_the_expected_model_value() {
    let mut want = Model::new("shop");
    want.resources = shop_resources();
    want.endpoints = shop_endpoints();
    shop_rest(&mut want);
    let got = without_origins(ok(SHOP));
    assert_eq!(got.resources, want.resources);
    assert_eq!(got.endpoints, want.endpoints);
    assert_eq!(got, want);
    validate(got).expect("the shop model is valid");
}

#[test]
fn defaults_fill_what_the_options_leave_out() {
    let m = ok(r#"let m = model("x");
        let api = m.app("api");
        m.proxy("lb", #{ upstream: api });
        m.station("s");
        m.database("db", #{});
        m.background("bg");
        m.endpoint("e", 1, [api.compute(ms(1))]);
        m.users(10, sec(1));"#);
    let kinds: Vec<_> = m.resources.into_iter().map(|r| r.kind).collect();
    let app = AppSpec::new(1, 1, None, 1, WorkerMode::Sync, None, None).unwrap();
    let proxy = ProxySpec::new(
        "api".into(),
        Policy::RoundRobin,
        None,
        1,
        d(Dist::constant(0.0)),
    )
    .unwrap();
    assert_eq!(kinds[0], ResourceKind::App(app));
    assert_eq!(kinds[1], ResourceKind::Proxy(proxy));
    assert_eq!(
        kinds[2],
        ResourceKind::Station(StationSpec::new(1, None, None).unwrap())
    );
    assert_eq!(
        kinds[3],
        ResourceKind::Database(DatabaseSpec::new(0, 10, None, Policy::RoundRobin).unwrap())
    );
    assert_eq!(
        kinds[4],
        ResourceKind::Background(BackgroundSpec::new(1, None).unwrap())
    );
    assert_eq!(
        m.workload,
        Some(Workload::Closed {
            users: 10,
            think: d(Dist::constant(1.0)),
            on_start: None
        })
    );
    assert_eq!(m.endpoints[0].retry, None);
}

#[test]
fn arrivals_take_a_rate_or_an_interarrival_distribution() {
    let m = ok("let m = model(\"x\");\nm.arrivals(per_min(3000));");
    assert_eq!(
        m.workload,
        Some(Workload::Open {
            arrivals: Arrivals::Poisson { rate_per_s: 50.0 }
        })
    );
    let m = ok("let m = model(\"x\");\nm.arrivals(exponential(ms(20)));");
    let arrivals = Arrivals::Renewal {
        interarrival: d(Dist::exponential(0.02)),
    };
    assert_eq!(m.workload, Some(Workload::Open { arrivals }));
    let (_, _, message) = fails("let m = model(\"x\");\nm.arrivals(50);");
    assert!(message.contains("per_sec(50)"), "{message}");
}

#[test]
fn holds_resolve_to_the_level_reached_before_them() {
    let m = ok(r#"let m = model("x");
        m.scenario("open", #{ stages: [hold(sec(5)), ramp(per_sec(80), minutes(1)), hold(minutes(5))], level: per_sec(20) });"#);
    let targets: Vec<f64> = m.scenarios[0].stages.iter().map(|s| s.target).collect();
    assert_eq!(targets, vec![20.0, 80.0, 80.0]);
    let m = ok(
        "let m = model(\"x\");\nm.scenario(\"s\", #{ stages: [hold(sec(5))], warmup: \"auto\" });",
    );
    assert_eq!(m.scenarios[0].stages[0].target, 0.0);
    assert_eq!(m.scenarios[0].warmup, Warmup::Auto);
}

#[test]
fn origins_name_the_file_line_and_column_of_each_call() {
    let m = ok(SHOP);
    let at = |o: &Option<Origin>| o.clone().map(|o| (o.file, o.line, o.column)).unwrap();
    assert_eq!(at(&m.resources[0].origin), (FILE.to_string(), 3, 13));
    assert_eq!(at(&m.resources[1].origin), (FILE.to_string(), 6, 12));
    assert_eq!(at(&m.endpoints[0].origin), (FILE.to_string(), 12, 3));
    assert_eq!(at(&m.slos[1].origin).1, 30);
    assert_eq!(at(&m.scenarios[1].origin).1, 33);
}

// ---- errors ---------------------------------------------------------------------------------

#[test]
fn a_misspelt_variable_is_a_compile_error_with_its_position() {
    let (line, column, message) =
        fails("let m = model(\"x\");\nlet api = m.app(\"api\");\nlet s = apii.compute(ms(1));");
    assert_eq!((line, column), (3, 9));
    assert!(message.contains("apii"), "{message}");
}

#[test]
fn zero_servers_name_the_station_and_the_field() {
    let (line, column, message) =
        fails("let m = model(\"x\");\nm.station(\"db\", #{ servers: 0 });");
    assert_eq!((line, column), (2, 3));
    assert_eq!(
        message,
        "station `db`: `servers` must be a whole number from 1 to 1000000 (got 0)"
    );
}

#[test]
fn a_hit_ratio_above_one_is_refused_at_the_get() {
    let src = "let m = model(\"x\");\nlet c = m.cache(\"c\", #{ service: ms(1) });\nlet s = c.get(1.5, []);";
    let (line, column, message) = fails(src);
    assert_eq!((line, column), (3, 11));
    assert_eq!(
        message,
        "cache `c`: `hit_ratio` is a probability and must lie in [0, 1] (got 1.5)"
    );
}

#[test]
fn unknown_options_list_the_valid_keys() {
    let (_, _, message) = fails("let m = model(\"x\");\nm.station(\"db\", #{ severs: 2 });");
    assert_eq!(
        message,
        "unknown option `severs` for m.station; valid: servers, queue, service"
    );
    let (_, _, message) = fails("let m = model(\"x\");\nm.app(\"a\", #{ pool: #{ sise: 2 } });");
    assert!(
        message.contains("unknown option `sise` for the app's pool; valid: size, timeout, scope"),
        "{message}"
    );
}

#[test]
fn wrong_choices_and_types_say_what_is_expected() {
    let (_, _, message) =
        fails("let m = model(\"x\");\nm.database(\"db\", #{ read_policy: \"fastest\" });");
    assert!(
        message.starts_with(
            "database `db`: unknown balancing policy `fastest`; expected one of: round_robin"
        ),
        "{message}"
    );
    let (_, _, message) = fails("let m = model(\"x\");\nm.app(\"a\", #{ workers: 2.5 });");
    assert!(
        message.contains("`workers` must be a whole number like 4, got f64"),
        "{message}"
    );
    let (_, _, message) = fails("let m = model(\"x\");\nm.proxy(\"lb\", #{ upstream: \"api\" });");
    assert!(
        message.contains("`upstream` must be an app handle returned by m.app(…), got string"),
        "{message}"
    );
    let (_, _, message) = fails("let m = model(\"x\");\nm.cache(\"c\");");
    assert!(message.contains("`service` is required"), "{message}");
}

#[test]
fn objectives_settings_and_scenarios_refuse_out_of_range_values() {
    let cases = [
        (
            "m.slo(#{ error_rate: 1.5 });",
            "global SLO: `error_rate` is a probability and must lie in [0, 1] (got 1.5)",
        ),
        (
            "m.slo(\"e\", #{ p95: ms(0) });",
            "SLO for `e`: `p95` must be a finite number > 0 (got 0)",
        ),
        (
            "m.settings(#{ window: sec(0) });",
            "settings: `window` must be a finite number > 0 (got 0)",
        ),
        (
            "m.settings(#{ max_in_flight: 0 });",
            "settings: `max_in_flight` must be a whole number from 1 to 10000000 (got 0)",
        ),
        (
            "m.scenario(\"s\", #{ warmup: \"later\" });",
            "scenario `s`: `warmup` must be a duration like minutes(2), \"auto\" or \"none\", got \"later\"",
        ),
        (
            "m.scenario(\"s\", #{ stages: [ramp(-5, sec(1))] });",
            "`ramp target` must be a finite number >= 0 (got -5)",
        ),
    ];
    for (call, want) in cases {
        let (line, _, message) = fails(&format!("let m = model(\"x\");\n{call}"));
        assert_eq!((line, message.as_str()), (2, want), "{call}");
    }
}

#[test]
fn a_step_list_element_that_is_not_a_step_is_named_by_index() {
    let (_, _, message) = fails(
        "let m = model(\"x\");\nlet a = m.app(\"a\");\nm.endpoint(\"e\", 1, [a.compute(ms(1)), ms(5)]);",
    );
    assert!(
        message.starts_with("endpoint `e`: `steps[1]` must be a step"),
        "{message}"
    );
    assert!(message.ends_with("got Duration"), "{message}");
}

#[test]
fn steps_on_the_wrong_kind_of_resource_say_which_kind_they_need() {
    let (_, _, message) =
        fails("let m = model(\"x\");\nlet a = m.app(\"a\");\nlet s = a.read(ms(1));");
    assert_eq!(
        message,
        "`read` is a method of database handles, but `a` is an app"
    );
    let (_, _, message) = fails("let m = model(\"x\");\nlet a = m.app(\"a\");\nlet s = a.call();");
    assert!(
        message.contains("`call` only works on an external handle"),
        "{message}"
    );
}

#[test]
fn negative_weights_are_errors_at_the_endpoint() {
    let (line, _, message) = fails("let m = model(\"x\");\n\nm.endpoint(\"e\", -1, []);");
    assert_eq!(line, 3);
    assert_eq!(
        message,
        "endpoint `e`: `weight` must be a finite number >= 0 (got -1)"
    );
}

#[test]
fn one_model_and_one_workload_per_script() {
    let (line, _, message) = fails("let m = model(\"x\");\nlet n = model(\"y\");");
    assert_eq!(line, 2);
    assert!(message.contains("already called at line 1"), "{message}");
    let (line, _, message) =
        fails("let m = model(\"x\");\nm.users(5, sec(1));\nm.arrivals(per_sec(5));");
    assert_eq!(line, 3);
    assert_eq!(message, "the workload is already declared at line 2");
    assert!(matches!(
        load("let x = 1;"),
        Err(ScriptError::NoModel { .. })
    ));
}

#[test]
fn errors_inside_script_functions_point_into_the_function() {
    let src = "let m = model(\"x\");\nfn add(m) {\n    m.database(\"db\", #{ connections: 0 })\n}\nadd(m);";
    let (line, column, message) = fails(src);
    assert_eq!((line, column), (3, 7));
    assert!(
        message.contains("`connections` must be a whole number from 1 to 1000000"),
        "{message}"
    );
}

/// Caps on a script's work: `operations`, and `seconds` of wall-clock time.
fn caps(operations: u64, seconds: u64) -> sandbox::Caps {
    sandbox::Caps {
        operations,
        seconds,
    }
}

#[test]
fn filling_a_long_list_one_item_at_a_time_stops_at_the_time_limit() {
    let src = "let m = model(\"x\");\nlet a = [];\nfor i in 0..900000 { a.push(i); }";
    let start = std::time::Instant::now();
    let Err(ScriptError::Eval { line, message, .. }) =
        load_limited(src, FILE, Path::new("."), caps(sandbox::MAX_OPERATIONS, 1))
    else {
        panic!("the loop was not stopped")
    };
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    assert_eq!(line, 3);
    assert!(
        message.starts_with("the script ran for more than 1 s without finishing"),
        "{message}"
    );
}

#[test]
fn an_endless_recursion_and_oversized_values_say_which_limit() {
    let cases = [
        (
            "fn f(n) { f(n + 1) }\nf(0);",
            "function calls nest more than 64 deep",
        ),
        (
            "let s = \"xxxxxxxxxx\";\nfor i in 0..20 { s += s; }",
            "a string has at most 65536 bytes",
        ),
        (
            "let a = [];\na.pad(2000000, 0);",
            "a list has at most 1000000 elements",
        ),
    ];
    for (src, says) in cases {
        let (_, _, message) = fails(&format!("let m = model(\"x\");\n{src}"));
        assert!(message.contains(says), "{src}: {message}");
    }
}

#[test]
fn copying_steps_many_times_stops_at_the_script_step_budget() {
    let src = "let m = model(\"x\");\nlet s = [];\ns.pad(1000, delay(ms(1)));\n\
               let all = [];\nfor i in 0..5000 { all.push(branch(0.5, s)); }";
    let (line, _, message) = fails(src);
    assert_eq!(line, 5);
    assert!(
        message.contains("the script builds more than 1000000 steps in all"),
        "{message}"
    );
}

#[test]
fn one_long_empirical_list_used_by_many_steps_is_shared_not_copied() {
    let src = "let m = model(\"x\");\nlet big = [];\nbig.pad(100000, ms(1));\n\
               let d = empirical(big);\nlet db = m.database(\"db\");\nlet s = [];\n\
               for i in 0..5000 { s.push(db.read(d)); }\nm.endpoint(\"e\", 1, s);\n\
               m.arrivals(per_sec(1));";
    let m = ok(src);
    let errors = validate(m).unwrap_err().0;
    assert!(
        errors[0]
            .message
            .contains("its distributions have 500005000 parts over all their uses"),
        "{errors:?}"
    );
}

#[test]
fn an_endless_loop_stops_with_too_many_operations() {
    // A lower limit than the real one keeps the test fast; the mechanism is the same.
    let src = "let m = model(\"x\");\nlet i = 0;\nloop { i += 1; }";
    let Err(ScriptError::Eval { line, message, .. }) =
        load_limited(src, FILE, Path::new("."), caps(100_000, 60))
    else {
        panic!("the loop was not stopped")
    };
    assert_eq!(line, 3);
    assert!(
        message.starts_with("too many operations: the script ran more than 100000 operations"),
        "{message}"
    );
}

#[test]
fn errors_carry_the_text_of_their_file() {
    let Err(e) = load("let m = model(\"x\");\nlet d = sec(-1);") else {
        panic!("no error")
    };
    let ScriptError::Eval { source_text, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(source_text.as_deref().unwrap().contains("sec(-1)"));
    assert_eq!(
        e.one_line(),
        "test.rhai:2:9: error: `sec(-1)` is not a valid duration (-1 s): durations must be finite and >= 0"
    );
    assert_eq!(e.offset(), Some("let m = model(\"x\");\nlet d = ".len()));
}

// ---- imports --------------------------------------------------------------------------------

/// A model folder and a sibling `scripts/` folder in a fresh temporary directory.
pub(super) fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    (dir, models)
}

const LOAD_TEST: &str = "fn load_test(m, name, users, hold, ramp_rate) {\n    m.scenario(name, #{ stages: [ramp(users, ramp_rate), hold(hold)] });\n}\n";

#[test]
fn modules_in_the_scripts_folder_can_call_the_model_api() {
    let (_dir, models) = project(&[("scripts/load.rhai", LOAD_TEST)]);
    let src = "import \"load\" as lt;\nlet m = model(\"x\");\nlt::load_test(m, \"peak\", 100, minutes(10), minutes(2));";
    let m = load_str(src, "models/x.rhai", &models).unwrap_or_else(|e| panic!("{}", e.one_line()));
    let s = &m.scenarios[0];
    assert_eq!(
        s.stages,
        vec![
            Stage {
                duration_s: 120.0,
                target: 100.0
            },
            Stage {
                duration_s: 600.0,
                target: 100.0
            }
        ]
    );
    let origin = s.origin.clone().unwrap();
    assert!(origin.file.ends_with("load.rhai"), "{origin}");
    assert_eq!((origin.line, origin.column), (2, 7));
}

#[test]
fn an_error_inside_a_module_names_the_module_file_and_line() {
    let bad = "fn add(m) {\n    m.station(\"s\", #{ servers: 0 });\n}\n";
    let (_dir, models) = project(&[("models/lib.rhai", bad)]);
    let src = "import \"lib\" as lib;\nlet m = model(\"x\");\nlib::add(m);";
    let Err(e) = load_str(src, "models/x.rhai", &models) else {
        panic!("no error")
    };
    let (file, line, column) = e.location().unwrap();
    assert!(file.ends_with("lib.rhai"), "{file}");
    assert_eq!((line, column), (2, 7));
    let ScriptError::Eval {
        source_text,
        message,
        ..
    } = e
    else {
        unreachable!()
    };
    assert_eq!(source_text.as_deref(), Some(bad));
    assert_eq!(
        message,
        "station `s`: `servers` must be a whole number from 1 to 1000000 (got 0)"
    );
}

#[test]
fn a_module_that_does_not_compile_names_its_file() {
    let (_dir, models) = project(&[("models/broken.rhai", "fn f( {\n")]);
    let Err(e) = load_str(
        "import \"broken\" as b;\nlet m = model(\"x\");",
        "x.rhai",
        &models,
    ) else {
        panic!()
    };
    assert!(e.location().unwrap().0.ends_with("broken.rhai"), "{e}");
}

#[test]
fn imports_outside_the_allowed_folders_are_refused() {
    let (dir, models) = project(&[("secret.rhai", "let m = model(\"stolen\");")]);
    let secret = dir.path().join("secret");
    for import in [
        "../../secret".to_string(),
        "../../../etc/passwd".to_string(),
        secret.display().to_string(),
    ] {
        let src = format!("let m = model(\"x\");\nimport \"{import}\" as s;");
        let Err(e) = load_str(&src, "x.rhai", &models) else {
            panic!("{import} was loaded")
        };
        let ScriptError::Eval { line, message, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(line, 2);
        assert!(
            message.starts_with(&format!(
                "import `{import}` is outside the allowed folders: "
            )),
            "{message}"
        );
    }
}

#[test]
fn an_import_cycle_is_an_error_naming_both_modules_not_a_crash() {
    let (_dir, models) = project(&[
        ("models/a.rhai", "import \"b\" as b;\n"),
        ("models/b.rhai", "import \"a\" as a;\n"),
    ]);
    let Err(e) = load_str(
        "import \"a\" as a;\nlet m = model(\"x\");",
        "x.rhai",
        &models,
    ) else {
        panic!("the cycle was accepted")
    };
    assert!(e.to_string().contains("is a cycle"), "{e}");
    // It names the module imported, the module importing it, and the chain between them.
    let (a, b) = (models.join("a.rhai"), models.join("b.rhai"));
    let (a, b) = (a.display(), b.display());
    let want = format!("{b} imports {a}, which is still being loaded ({a} -> {b} -> {a})");
    assert!(e.to_string().contains(&want), "{e}");
    assert_eq!(e.location().map(|l| (l.0, l.1)), Some((b.to_string(), 1)));
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_of_the_allowed_folders_is_refused() {
    let (dir, models) = project(&[("outside/secret.rhai", "let m = model(\"stolen\");")]);
    std::os::unix::fs::symlink(
        dir.path().join("outside/secret.rhai"),
        models.join("link.rhai"),
    )
    .unwrap();
    let Err(e) = load_str(
        "let m = model(\"x\");\nimport \"link\" as s;",
        "x.rhai",
        &models,
    ) else {
        panic!("the link was followed")
    };
    assert!(
        e.to_string().contains("is outside the allowed folders"),
        "{e}"
    );
}

#[test]
fn a_missing_module_lists_where_it_was_looked_for() {
    let (_dir, models) = project(&[]);
    let Err(e) = load_str(
        "import \"nope\" as n;\nlet m = model(\"x\");",
        "x.rhai",
        &models,
    ) else {
        panic!()
    };
    assert!(
        e.to_string()
            .contains("import `nope`: no nope.rhai in the allowed folders"),
        "{e}"
    );
}

#[test]
fn load_file_reads_the_file_and_records_its_path() {
    let (_dir, models) = project(&[(
        "models/m.rhai",
        "let m = model(\"x\");\nm.users(1, sec(1));",
    )]);
    let path = models.join("m.rhai");
    let m = load_file(&path).unwrap();
    assert_eq!(m.source, Some(path.display().to_string()));
    assert!(matches!(
        load_file(&models.join("none.rhai")),
        Err(ScriptError::Io { .. })
    ));
}

#[test]
fn unknown_functions_show_a_readable_signature() {
    let (line, column, message) = fails("let m = model(\"x\");\nm.statoin(\"s\");");
    assert_eq!((line, column), (2, 3));
    assert!(
        message.starts_with("no function `statoin (Model, string)`"),
        "{message}"
    );
}

#[test]
fn handles_and_values_print_readably() {
    let src = "let m = model(\"x\");\nlet e = m.external(\"psp\", #{ delay: ms(3) });\n\
               `${e} ${m.app(\"a\")} ${exponential(ms(5))} ${e.call()}`";
    let got = eval::<String>(src).unwrap();
    assert_eq!(
        got,
        "external `psp` app `a` exponential(mean 5 ms) call `psp`"
    );
}

// ---- ranges and whole-model rules ---------------------------------------------------------

#[test]
fn durations_and_rates_stop_at_their_documented_maxima() {
    assert_eq!(eval::<f64>("sec(1e9).seconds").unwrap(), 1e9);
    assert_eq!(
        eval::<String>("(per_min(6e10)).to_string()").unwrap(),
        "1000000000/s"
    );
    for (expr, says) in [
        (
            "days(1e300)",
            "durations are at most 1e9 s (about 31.7 years)",
        ),
        ("sec(1e9) + sec(1)", "durations are at most 1e9 s"),
        ("hours(1) * 1e6", "durations are at most 1e9 s"),
        ("per_sec(2e9)", "rates are at most 1e9 per second"),
        ("per_sec(1e8) * 100", "rates are at most 1e9 per second"),
        ("per_hour(-1)", "rates must be finite and >= 0"),
    ] {
        let err = eval::<Dynamic>(expr).map(|_| ()).unwrap_err();
        assert!(err.contains(says), "{expr}: {err}");
    }
}

#[test]
fn counts_beyond_their_range_give_the_range() {
    let (_, _, message) = fails("let m = model(\"x\");\nm.users(9223372036854775807, sec(1));");
    assert_eq!(
        message,
        "workload: `users` must be a whole number from 1 to 1000000 (got 9223372036854775807)"
    );
    let (_, _, message) =
        fails("let m = model(\"x\");\nm.station(\"s\", #{ servers: 4294967295 });");
    assert!(
        message.contains("from 1 to 1000000 (got 4294967295)"),
        "{message}"
    );
}

#[test]
fn an_empty_stage_list_asks_for_a_stage_or_no_stages() {
    let (line, _, message) = fails("let m = model(\"x\");\nm.scenario(\"s\", #{ stages: [] });");
    assert_eq!(line, 2);
    assert!(message.contains("give at least one stage"), "{message}");
    assert!(
        message.contains("leave `stages` out for a steady-state run"),
        "{message}"
    );
}

#[test]
fn steps_nested_beyond_the_limit_are_refused_where_they_are_built() {
    let src = "let m = model(\"x\");\nlet s = [delay(ms(1))];\n\
               for i in 0..100 { s = [branch(0.5, s)]; }";
    let (line, _, message) = fails(src);
    assert_eq!(line, 3);
    assert!(
        message.contains("at most 32 levels are supported"),
        "{message}"
    );
    let src = "let m = model(\"x\");\nlet s = delay(ms(1));\nfor i in 0..100 { s = s.times(2); }";
    let (_, _, message) = fails(src);
    assert!(message.contains("at most 32 levels"), "{message}");
}

#[test]
fn model_wide_errors_point_at_the_model_call() {
    let m = ok("let x = 1;\nlet m = model(\"x\");");
    let errors = validate(m).unwrap_err().0;
    let lines: Vec<_> = errors
        .iter()
        .map(|e| e.origin.as_ref().map(|o| o.line))
        .collect();
    assert_eq!(lines, vec![Some(2), Some(2)], "{errors:?}");
    assert!(
        errors[0].message.contains("declares no endpoint"),
        "{errors:?}"
    );
    assert!(errors[1].message.contains("has no workload"), "{errors:?}");
}

#[test]
fn a_name_declared_twice_points_at_both_declarations() {
    let m = ok(
        "let m = model(\"x\");\nlet a = m.station(\"s\", #{ service: ms(1) });\n\
                m.endpoint(\"e\", 1, [a.visit()]);\nm.endpoint(\"e\", 1, [a.visit()]);\n\
                m.station(\"s\");\nm.arrivals(per_sec(1));",
    );
    let errors = validate(m).unwrap_err().0;
    let said: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        said.contains(&"station `s`: another resource already has this name (first declared at line 2); names must be unique".to_string()),
        "{said:?}"
    );
    assert!(
        said.contains(&"endpoint `e`: declared twice (first declared at line 3)".to_string()),
        "{said:?}"
    );
    assert_eq!(errors[0].origin.as_ref().map(|o| o.line), Some(5));
}

#[test]
fn an_endpoint_without_steps_is_refused() {
    let m = ok("let m = model(\"x\");\nm.endpoint(\"empty\", 1, []);\nm.arrivals(per_sec(1));");
    let errors = validate(m).unwrap_err().0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "endpoint `empty`: has no steps: give it at least one step, e.g. [api.compute(ms(5))] or [delay(ms(5))]"
    );
}

#[test]
fn a_step_longer_than_its_scenario_is_a_warning_not_an_error() {
    let m = ok(
        "let m = model(\"x\");\nm.endpoint(\"stuck\", 1, [delay(sec(1e9))]);\n\
                m.arrivals(per_sec(1));\nm.scenario(\"x\", #{ duration: hours(1) });",
    );
    let c = validate(m).expect("a long step is allowed");
    let said: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        said,
        vec![
            "endpoint `stuck`: a `delay` step's mean of 31.7 years exceeds scenario `x`'s run of 60 min: its requests will not finish within the run"
        ]
    );
    assert_eq!(c.warnings[0].origin.as_ref().map(|o| o.line), Some(2));
}

// ---- documentation --------------------------------------------------------------------------

/// The ```rhai blocks of the language guide (blocks marked `rhai,ignore` need other files).
fn doc_examples() -> Vec<String> {
    let doc = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/model-language.md"
    ));
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line) {
            (None, "```rhai") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_example_of_the_language_guide_runs() {
    let examples = doc_examples();
    assert!(
        examples.len() >= 10,
        "found only {} examples",
        examples.len()
    );
    for (i, src) in examples.iter().enumerate() {
        if let Err(e) = load_str(src, &format!("example {}", i + 1), Path::new(".")) {
            panic!("{}\n{src}", e.one_line());
        }
    }
}

#[test]
fn the_import_example_of_the_language_guide_runs() {
    let doc = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/model-language.md"
    ));
    let ignored: Vec<&str> = doc
        .split("```rhai,ignore\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let [module, model] = ignored.as_slice() else {
        panic!("expected two import examples")
    };
    let (_dir, models) = project(&[("scripts/load.rhai", module), ("models/shop.rhai", model)]);
    let m = load_file(&models.join("shop.rhai")).unwrap_or_else(|e| panic!("{}", e.one_line()));
    assert_eq!(m.scenarios[0].stages.len(), 2);
}
