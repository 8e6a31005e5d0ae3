//! Where the time goes: the split of the response time by part sums to the response time, and
//! puts the time where hand-computable models say it is.

use crate::support::*;
use capsim::analysis::timing;
use capsim::engine::ScenarioPlan;
use capsim::montecarlo::{ScenarioRun, replicate};
use capsim::stats::Scope;

fn part(r: &ScenarioRun, of: &str, at: &str, metric: &str) -> capsim::stats::Estimate {
    fig(
        r,
        &Scope::Part {
            of: Some(of.into()),
            at: at.into(),
        },
        metric,
    )
}

/// Two M/M/1 stations in tandem: 10 requests/s, services of 50 ms and 80 ms (utilizations
/// 0.5 and 0.8). By Burke's theorem the sojourn times at the two stations are independent
/// exponentials of rates mu - lambda: 10/s and 2.5/s (means 100 ms and 400 ms), each a wait of
/// rho / (mu - lambda) (50 ms, 320 ms) plus the service (50 ms, 80 ms).
const TANDEM: &str = r#"let m = model("tandem");
    let a = m.station("a", #{ servers: 1, service: exponential(ms(50)) });
    let b = m.station("b", #{ servers: 1, service: exponential(ms(80)) });
    m.endpoint("job", 1, [a.visit(), b.visit()]);
    m.arrivals(per_sec(10));
    m.scenario("steady", #{ duration: sec(20000), warmup: sec(200) });"#;

/// `P(S > q)` for `S` the sum of independent exponentials of rates `a` and `b`.
fn tail(a: f64, b: f64, q: f64) -> f64 {
    (b * (-a * q).exp() - a * (-b * q).exp()) / (b - a)
}

/// `E[T1 | T1 + T2 > q]` for independent `T1 ~ Exp(a)`, `T2 ~ Exp(b)`.
fn first_given_tail(a: f64, b: f64, q: f64) -> f64 {
    let c = a - b;
    let below = a * (-b * q).exp() * (1.0 - (-c * q).exp() * (1.0 + c * q)) / (c * c);
    let above = (-a * q).exp() * (q + 1.0 / a);
    (below + above) / tail(a, b, q)
}

#[test]
fn tandem_time_lands_where_jackson_says() {
    let runs = run(TANDEM, 8, None, 11);
    let r = &runs[0];
    for (at, wait, service) in [("a", 50.0, 50.0), ("b", 320.0, 80.0)] {
        assert_agrees(
            &format!("{at} waiting"),
            part(r, "job", at, "time_waiting"),
            wait,
            0.0,
        );
        assert_agrees(
            &format!("{at} in service"),
            part(r, "job", at, "time_in_service"),
            service,
            0.0,
        );
    }
    // The slowest 5 %: the response time's 95th percentile q solves P(S > q) = 0.05; the
    // time at each station given S > q is E[T_i | S > q].
    let (a, b) = (10.0, 2.5);
    let (mut lo, mut hi) = (0.0, 10.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if tail(a, b, mid) > 0.05 {
            lo = mid
        } else {
            hi = mid
        }
    }
    let q = 0.5 * (lo + hi);
    let slow_a = 1e3 * first_given_tail(a, b, q);
    let slow_b = 1e3 * first_given_tail(b, a, q);
    let slow = |at: &str| {
        let w = part(r, "job", at, "slow_time_waiting");
        let s = part(r, "job", at, "slow_time_in_service");
        (w.mean + s.mean, w.half_width() + s.half_width(), w.n)
    };
    // The slow cut is made by response-time classes 9 % wide, the class of the p95 taken in
    // proportion: 3 % of slack for it.
    for (at, exact) in [("a", slow_a), ("b", slow_b)] {
        let (mean, half, n) = slow(at);
        let allowed = half * widen(n) + 0.03 * exact;
        assert!(
            (mean - exact).abs() <= allowed,
            "slowest 5 % at {at}: simulated {mean:.1} ms ± {allowed:.1}, exact {exact:.1} ms"
        );
    }
    // And the test can tell: the slow requests' time is not the average request's (133 ms
    // against 100 ms at a, 1 580 ms against 400 ms at b).
    assert!(slow_a > 1.25 * 100.0 && slow_b > 3.0 * 400.0);
    for (at, average) in [("a", 100.0), ("b", 400.0)] {
        let (mean, half, n) = slow(at);
        assert!((mean - average).abs() > half * widen(n) + 0.03 * average);
    }
    // The parts sum to the mean response time (which also counts, at their age, the few
    // requests unfinished when each run ended: hence not to the last digit).
    let total: f64 = ["a", "b"]
        .iter()
        .flat_map(|at| {
            [
                part(r, "job", at, "time_waiting").mean,
                part(r, "job", at, "time_in_service").mean,
            ]
        })
        .sum();
    let mean = global(r, "latency_mean").mean;
    assert!(
        (total - mean).abs() <= 1e-4 * mean,
        "parts {total} against mean {mean}"
    );
}

/// A listing that queries once for the page and once per item (12 items), beside an endpoint
/// that queries once, at a load where the database is nearly idle.
const N_PLUS_ONE: &str = r#"let m = model("n+1");
    let app = m.app("app", #{ instances: 2, workers: 8, cpus: 2, pool: #{ size: 4 } });
    let db = m.database("db", #{ replicas: 1, connections: 4 });
    m.endpoint("list", 1, [app.compute(exponential(ms(2))), db.read(ms(2)), db.read(ms(1)).times(12)]);
    m.endpoint("item", 1, [app.compute(exponential(ms(2))), db.read(ms(2))]);
    m.arrivals(per_sec(5));
    m.scenario("steady", #{ duration: sec(2000), warmup: sec(20) });"#;

#[test]
fn an_n_plus_one_listing_is_called_out_with_its_visits() {
    let (c, p) = checked(N_PLUS_ONE);
    let runs = run_checked(&c, &p, 4, None, 5, None);
    let r = &runs[0];
    let visits = part(r, "list", "db replicas", "visits");
    assert_eq!(visits.mean, 13.0, "one page query and 12 item queries");
    assert_eq!(part(r, "item", "db replicas", "visits").mean, 1.0);
    let split = timing::split(&p, &r.aggregate.figures()).expect("parts were tracked");
    let list = split.scope("list").expect("list");
    assert_eq!(list.n_plus_one.len(), 1, "{:?}", list.n_plus_one);
    let n = &list.n_plus_one[0];
    assert_eq!(n.database, "db replicas");
    // Same throughput, 14 ms of database work per listing against 2 ms per item, and waits
    // near zero: the listing takes about 14 / 16 of the database's time.
    assert!(
        (n.db_time_share - 14.0 / 16.0).abs() < 0.02,
        "{}",
        n.db_time_share
    );
    assert!(split.scope("item").expect("item").n_plus_one.is_empty());
}

/// One request in ten calls a slow dependency (1 s); the rest take ~10 ms: the slowest 5 % are
/// all among the slow calls, so their time is the dependency's, while on average it is 10x
/// less visible.
const HEAVY_TAIL: &str = r#"let m = model("heavy tail");
    let web = m.station("web", #{ servers: 4, service: exponential(ms(10)) });
    let api = m.external("api", #{ delay: sec(1) });
    m.endpoint("page", 1, [web.visit(), branch(0.1, [api.call()])]);
    m.arrivals(per_sec(20));
    m.scenario("steady", #{ duration: sec(4000), warmup: sec(40) });"#;

#[test]
fn the_slowest_requests_show_the_rare_slow_dependency() {
    let (c, p) = checked(HEAVY_TAIL);
    let runs = run_checked(&c, &p, 4, None, 9, None);
    let r = &runs[0];
    assert_agrees(
        "api time over all requests",
        part(r, "page", "api", "time_in_service"),
        100.0,
        0.0,
    );
    assert_agrees(
        "api time over the slowest 5 %",
        part(r, "page", "api", "slow_time_in_service"),
        1000.0,
        0.0,
    );
    let split = timing::split(&p, &r.aggregate.figures()).expect("parts were tracked");
    let page = split.scope("page").expect("page");
    let top = page.dominant().expect("a group");
    assert_eq!(top.group, "api");
    assert!(top.slow_share > 0.97, "{}", top.slow_share);
    assert!(top.share < 0.95, "{}", top.share);
}

/// In every replication, with every kind of error about (see `conservation::STRESSED`), the
/// parts of the successful requests sum to their response times, over all requests and over
/// the slowest 5 %, per endpoint and over all; there is one split request per successful
/// response; and following the parts changes nothing else the replication measures.
#[test]
fn parts_sum_to_the_response_times() {
    let (c, prog) = checked(crate::conservation::STRESSED);
    let sums = |what: &str, split: &capsim::stats::breakdown::TimeSplit| {
        let sum: f64 = split.time_s.iter().sum();
        assert!(
            (sum - split.latency_s).abs() <= 1e-9 * split.latency_s.max(1.0),
            "{what}: parts {sum} s against {} s",
            split.latency_s
        );
        assert!(split.time_s.iter().all(|t| *t >= 0.0), "{what}");
    };
    for s in &c.scenarios {
        let plan = ScenarioPlan::new(s, prog.base_level, 3600.0, None);
        for i in 0..3 {
            let r = replicate(&prog, &plan, 42, i, true).expect("runs");
            let without = replicate(&prog, &plan, 42, i, false).expect("runs");
            assert_eq!(r.endpoints, without.endpoints, "{} {i}", s.name);
            assert_eq!(r.resources, without.resources, "{} {i}", s.name);
            assert_eq!(r.events, without.events);
            let ok: u64 = r.endpoints.iter().map(|e| e.ok).sum();
            assert_eq!(r.parts[0].all.requests, ok as f64);
            for (k, p) in r.parts.iter().enumerate() {
                let what = format!("{} replication {i} scope {k}", s.name);
                sums(&what, &p.all);
                sums(&format!("{what} (slowest)"), &p.slow);
                if k > 0 {
                    assert_eq!(p.all.requests, r.endpoints[k - 1].ok as f64, "{what}");
                }
            }
        }
    }
}
