//! Conservation laws on every replication: nothing is created or lost, and Little's law holds
//! per resource and per endpoint.

use crate::support::*;
use capsim::engine::ScenarioPlan;
use capsim::engine::observer::ErrorKind;
use capsim::montecarlo::replicate;
use capsim::stats::Replication;

/// A model where every kind of error happens: a small backlog (rejections), a pool with a
/// timeout, client timeouts with retries, a cap on requests in flight, background jobs.
pub(crate) const STRESSED: &str = r#"
let m = model("stressed");
let app = m.app("app", #{ instances: 2, workers: 3, cpus: 1, backlog: 4,
                          pool: #{ size: 2, timeout: ms(300) } });
let nginx = m.proxy("nginx", #{ upstream: app, policy: "least_conn", connections: 10 });
let db = m.database("db", #{ replicas: 1, connections: 2 });
let cache = m.cache("cache", #{ service: exponential(ms(1)) });
let jobs = m.background("jobs", #{ workers: 1, queue: 5 });
m.endpoint("read", 6, [app.compute(exponential(ms(20))), cache.get(0.5, [db.read(exponential(ms(30))).times(3)])],
           #{ timeout: ms(600), retries: 2, backoff: exponential(ms(100)) });
m.endpoint("write", 2, [app.compute(exponential(ms(10))), db.write(exponential(ms(40))), jobs.enqueue(exponential(ms(500)))],
           #{ timeout: sec(1) });
m.endpoint("login", 0, [app.compute(ms(50))]);
m.users(120, exponential(ms(300)), #{ on_start: "login" });
m.settings(#{ max_in_flight: 14 });
m.scenario("ramp", #{ stages: [ramp(120, sec(20)), hold(sec(60)), ramp(0, sec(20))] });
m.scenario("steady", #{ level: 80, duration: sec(120), warmup: sec(30) });
"#;

fn replications() -> Vec<(String, Replication)> {
    let (c, prog) = checked(STRESSED);
    let mut out = Vec::new();
    for s in &c.scenarios {
        let plan = ScenarioPlan::new(s, prog.base_level, 3600.0, None);
        for i in 0..4 {
            out.push((
                s.name.clone(),
                replicate(&prog, &plan, 42, i, false).expect("runs"),
            ));
        }
    }
    out
}

#[test]
fn every_request_is_accounted_for() {
    let reps = replications();
    for (name, r) in &reps {
        for (k, e) in r.endpoints.iter().enumerate() {
            let what = format!("{name} replication {} endpoint {k}", r.index);
            // Server side: what entered leaves or is still inside.
            assert_eq!(
                e.started + e.in_system_at_start,
                e.left + e.in_system_at_end,
                "{what}: server side"
            );
            // Client side: every attempt (started, or refused by the cap before it started)
            // got exactly one response or still awaits it.
            let capped = e.errors[ErrorKind::Capped.index()];
            assert_eq!(
                e.started + capped + e.awaiting_at_start,
                e.ok + e.error_count() + e.awaiting_at_end,
                "{what}: client side"
            );
            // One response time per success, and one age per attempt still waiting.
            assert_eq!(
                e.unfinished_count(),
                e.awaiting_at_end,
                "{what}: unfinished"
            );
            assert_eq!(
                e.latency.count(),
                e.ok + e.unfinished_count(),
                "{what}: one latency per success or unfinished attempt"
            );
        }
    }
    // The model must exercise every error kind, or the identities above prove little.
    for kind in ErrorKind::ALL {
        let n: u64 = reps
            .iter()
            .flat_map(|(_, r)| &r.endpoints)
            .map(|e| e.errors[kind.index()])
            .sum();
        assert!(
            n > 0,
            "no {} error happened: the stress model is too gentle",
            kind.name()
        );
    }
}

#[test]
fn resources_never_exceed_their_servers() {
    let (_, prog) = checked(STRESSED);
    for (name, r) in replications() {
        for (res, info) in r.resources.iter().zip(&prog.resources) {
            assert!(
                res.busy_max <= f64::from(info.units),
                "{name}: {} over its {} servers",
                info.name,
                info.units
            );
            assert!(
                res.waiting_max <= f64::from(info.queue_cap),
                "{name}: {} over its queue cap",
                info.name
            );
        }
    }
}

/// Little's law `L = lambda W`, per replication; the only gap is what was inside at the two
/// ends of the measured span, which a long run makes negligible.
#[test]
fn littles_law_holds_per_resource_and_per_endpoint() {
    let src = r#"let m = model("little");
        let app = m.app("app", #{ instances: 2, workers: 4, cpus: 2, pool: #{ size: 3 } });
        let db = m.database("db", #{ replicas: 1, connections: 4 });
        m.endpoint("a", 3, [app.compute(exponential(ms(15))), db.read(exponential(ms(5))).times(4)]);
        m.endpoint("b", 1, [app.compute(exponential(ms(25))), db.write(exponential(ms(20)))]);
        m.arrivals(per_sec(150));"#;
    let (c, prog) = checked(src);
    let plan = ScenarioPlan::new(&c.scenarios[0], prog.base_level, 20_000.0, None);
    let r = replicate(&prog, &plan, 3, 0, false).unwrap();
    let span = r.measured_s();
    for (res, info) in r.resources.iter().zip(&prog.resources) {
        if res.grants == 0 {
            continue;
        }
        let lambda = (res.grants + res.timeouts) as f64 / span;
        let w = (res.wait_sum_s + res.timeout_wait_sum_s) / (res.grants + res.timeouts) as f64;
        let (l, lw) = (res.waiting_mean, lambda * w);
        assert!(
            (l - lw).abs() <= 0.005 * l.max(1e-3),
            "{}: Lq {l} vs lambda Wq {lw}",
            info.name
        );
    }
    for (k, e) in r.endpoints.iter().enumerate() {
        let lambda = e.left as f64 / span;
        let w = e.residence_sum_s / e.left as f64;
        let (l, lw) = (e.in_system_mean, lambda * w);
        assert!(
            (l - lw).abs() <= 0.005 * l,
            "endpoint {k}: L {l} vs lambda W {lw}"
        );
    }
}
