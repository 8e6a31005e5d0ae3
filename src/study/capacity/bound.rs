//! Necessary conditions: what a configuration must satisfy to meet its objectives at a load,
//! checked before any simulation. A configuration that breaks one cannot hold, so the search
//! rules it out without simulating it; one that satisfies all of them may still fail, and is
//! simulated.
//!
//! Only bounds that really apply to the objectives' statistics are used. Each rests on the
//! utilization law, `X x D_k <= c_k` at every resource `k` (work done per second never exceeds
//! its servers), where `X` counts the requests whose work `k` must do:
//!
//! - **Open workload** at `lambda` requests/s: if the objectives hold, at most a fraction `e`
//!   of the requests fail (the error-rate objective, or one minus the availability one). The
//!   server keeps working on a request whose client gave up, and a request turned away does
//!   no work; the failures may be the requests with the most work, but each spares at most
//!   `W`, the mean work of the heaviest request of the mix (every path at once). So
//!   `lambda (D_k - e W) / c_k < 1` is necessary; at 1 or above, the queue of work grows
//!   without end.
//! - **Closed workload** of `N` users thinking `Z` on average: Little's law over a user's cycle
//!   gives `X = N / (Z + R)`, with `R` the mean time a request takes as its client sees it.
//!   If the objectives hold and every request ends by its timeout `T`, then `R` is at most
//!   `(1 - e) (q t + (1 - q) T) + e T` for a latency objective `p(q) < t` over all successful
//!   responses (a `q` share of them within `t`, the rest within `T`; failures within `T`).
//!   So `X >= N / (Z + R_max)` and `X (D_k - e W) / c_k < 1` is necessary.
//!
//! A bound on the mean response time alone is never used against a percentile objective:
//! only the chain above, through the throughput, which holds for any distribution. Passive
//! holdings (sync workers, pools, proxy connections) enter with their lower-bound demand
//! (the service times they hold), which keeps the condition necessary. A background queue is
//! left out: a request only hands it a job, so its backlog does not delay the request.

use crate::analysis::capacity::demand_rows;
use crate::model::{Checked, Target, Workload};

/// Why a configuration cannot meet its objectives at a load, found without simulating it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Breach {
    /// The resource row that would be over capacity.
    pub resource: String,
    /// The utilization it would need at least, as a fraction.
    pub utilization_at_least: f64,
    /// The bound in words, with its figures.
    pub text: String,
}

/// The largest share of requests the global objectives let fail: the tightest of the
/// error-rate and availability targets, 1 when there is none.
fn allowed_errors(c: &Checked) -> f64 {
    let mut e: f64 = 1.0;
    for slo in c.model.slos.iter().filter(|s| s.endpoint.is_none()) {
        for t in &slo.targets {
            match *t {
                Target::ErrorRate { max } => e = e.min(max),
                Target::Availability { min } => e = e.min(1.0 - min),
                _ => {}
            }
        }
    }
    e.clamp(0.0, 1.0)
}

/// The longest a request can take as its client sees it: the largest timeout of the mix's
/// endpoints, when every one of them has one and none retries.
fn longest_request_s(c: &Checked) -> Option<f64> {
    let mut longest: f64 = 0.0;
    for (i, e) in c.model.endpoints.iter().enumerate() {
        if c.mix[i] <= 0.0 {
            continue;
        }
        if e.retry.as_ref().is_some_and(|r| r.count > 0) {
            return None;
        }
        longest = longest.max(e.timeout_s?);
    }
    Some(longest)
}

/// The largest mean response time (as clients see it) that the global objectives allow, when
/// they bound it at all: the tightest over the global latency objectives.
fn largest_mean_s(c: &Checked, e: f64) -> Option<f64> {
    let t_max = longest_request_s(c)?;
    c.model
        .slos
        .iter()
        .filter(|s| s.endpoint.is_none())
        .flat_map(|s| &s.targets)
        .filter_map(|t| match *t {
            Target::Latency { percentile, max_s } => {
                let q = percentile / 100.0;
                Some((1.0 - e) * (q * max_s + (1.0 - q) * t_max) + e * t_max)
            }
            _ => None,
        })
        .min_by(f64::total_cmp)
}

/// The most mean work one request of the mix can bring, seconds: every step's mean service
/// time along all its paths at once (both sides of every branch, every cache lookup a miss and
/// its set, a repeat its count of times), and the proxy in front of its app.
fn heaviest_request_s(c: &Checked) -> f64 {
    use crate::model::{ResourceKind, Step};
    let own = |name: &str| -> f64 {
        match c.model.resource(name).map(|r| &r.kind) {
            Some(ResourceKind::Station(s)) => s.service.as_ref().map_or(0.0, |d| d.mean()),
            Some(ResourceKind::Cache(x)) => x.service.mean(),
            Some(ResourceKind::External(x)) => x.delay.mean(),
            _ => 0.0,
        }
    };
    fn steps(list: &[Step], own: &dyn Fn(&str) -> f64) -> f64 {
        list.iter().map(|s| step(s, own)).sum()
    }
    fn step(s: &Step, own: &dyn Fn(&str) -> f64) -> f64 {
        match s {
            Step::Compute { demand, .. } => demand.mean(),
            Step::Query { service, .. } | Step::Enqueue { service, .. } => service.mean(),
            Step::Visit { station, service } => service.as_ref().map_or(own(station), |d| d.mean()),
            Step::Call { external, delay } => delay.as_ref().map_or(own(external), |d| d.mean()),
            Step::CacheGet { cache, miss, .. } => 2.0 * own(cache) + steps(miss, own),
            Step::Branch {
                then, otherwise, ..
            } => steps(then, own) + steps(otherwise, own),
            Step::Repeat {
                times,
                steps: inner,
            } => f64::from(*times) * steps(inner, own),
            Step::Delay { delay } => delay.mean(),
            Step::Labelled { inner, .. } => step(inner, own),
        }
    }
    let proxies: f64 = c
        .model
        .resources
        .iter()
        .filter_map(|r| match &r.kind {
            ResourceKind::Proxy(p) => Some(p.service.mean()),
            _ => None,
        })
        .sum();
    c.model
        .endpoints
        .iter()
        .enumerate()
        .filter(|(i, _)| c.mix[*i] > 0.0)
        .map(|(_, e)| steps(&e.steps, &own))
        .fold(0.0, f64::max)
        + proxies
}

/// The first necessary condition that `c` breaks at `level` (users, or requests/s), if any.
pub fn breach(c: &Checked, level: f64) -> Option<Breach> {
    let e = allowed_errors(c);
    if e >= 1.0 {
        return None;
    }
    let (throughput, why) = match &c.workload {
        Workload::Open { .. } => (level, format!("{level:.4} requests/s arrive")),
        Workload::Closed { think, .. } => {
            let r_max = largest_mean_s(c, e)?;
            let z = think.mean();
            // The users a cell runs (see `cells::cell_level`).
            let users = level.round().max(1.0);
            let x = users / (z + r_max);
            let why = format!(
                "{users} users thinking {z:.3} s need at least {x:.1} requests/s when every objective holds (mean response at most {r_max:.3} s by the latency, error and timeout bounds)"
            );
            (x, why)
        }
    };
    // The failures may be the requests with the most work at any one resource: each one
    // spares at most the work of the heaviest request (every branch taken, every cache lookup
    // missed), so at most `e x throughput x heaviest` of work per second goes undone.
    let heaviest = heaviest_request_s(c);
    demand_rows(c)
        .into_iter()
        .filter(|r| r.1 != "background")
        .filter_map(|(name, _, servers, d, _)| {
            let k = f64::from(servers?);
            let u = throughput * (d.seconds - e * heaviest) / k;
            (u >= 1.0).then(|| Breach {
                text: format!(
                    "utilization law: {why}; at least {:.2} % of them succeed, each failure sparing at most {:.3} ms of work, which puts `{name}` at {:.0} % or more ({:.3} ms of work per request over {} servers)",
                    100.0 * (1.0 - e),
                    heaviest * 1e3,
                    100.0 * u,
                    d.seconds * 1e3,
                    servers.unwrap_or(0)
                ),
                resource: name,
                utilization_at_least: u,
            })
        })
        .max_by(|a, b| a.utilization_at_least.total_cmp(&b.utilization_at_least))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn mmc(servers: i64, rate: f64, timeout: Option<f64>) -> Checked {
        let mut m = Model::new("m");
        m.resources = vec![Resource {
            name: "s".into(),
            kind: ResourceKind::Station(
                StationSpec::new(servers, None, Some(Dist::exponential(0.01).unwrap())).unwrap(),
            ),
            origin: None,
        }];
        m.endpoints = vec![Endpoint {
            name: "GET /".into(),
            weight: 1.0,
            steps: vec![Step::Visit {
                station: "s".into(),
                service: None,
            }],
            app: None,
            timeout_s: timeout,
            retry: None,
            origin: None,
            response_bytes: None,
        }];
        m.workload = Some(Workload::Open {
            arrivals: Arrivals::Poisson { rate_per_s: rate },
        });
        m.slos = vec![Slo {
            endpoint: None,
            targets: vec![
                Target::Latency {
                    percentile: 95.0,
                    max_s: 0.05,
                },
                Target::ErrorRate { max: 0.01 },
            ],
            apdex_t_s: None,
            origin: None,
        }];
        validate(m).unwrap()
    }

    #[test]
    fn the_utilization_law_counts_the_requests_that_must_succeed() {
        // 250/s x 10 ms over 2 servers = 1.25; 99 % must succeed: 1.2375 >= 1.
        let b = breach(&mmc(2, 250.0, None), 250.0).expect("over capacity");
        assert!((b.utilization_at_least - 1.2375).abs() < 1e-9, "{b:?}");
        assert!(b.text.contains("`s`"), "{}", b.text);
        // 3 servers: 0.825, possible.
        assert!(breach(&mmc(3, 250.0, None), 250.0).is_none());
        // 201/s over 2 servers: 1.005 x 0.99 = 0.995 < 1: not ruled out (1 % may fail).
        assert!(breach(&mmc(2, 201.0, None), 201.0).is_none());
    }

    /// A station of `servers` servers (10 ms exponential services) behind two endpoints with
    /// these timeouts, weights 3:1, visited by a closed workload thinking 1 s on average; the
    /// objectives p95 < 50 ms with `targets` besides.
    fn closed(servers: i64, timeouts: [Option<f64>; 2], targets: Vec<Target>) -> Checked {
        let mut m = Model::new("closed");
        m.resources = vec![Resource {
            name: "s".into(),
            kind: ResourceKind::Station(
                StationSpec::new(servers, None, Some(Dist::exponential(0.01).unwrap())).unwrap(),
            ),
            origin: None,
        }];
        m.endpoints = [("GET /a", 3.0), ("GET /b", 1.0)]
            .into_iter()
            .zip(timeouts)
            .map(|((name, weight), timeout_s)| Endpoint {
                name: name.into(),
                weight,
                steps: vec![Step::Visit {
                    station: "s".into(),
                    service: None,
                }],
                app: None,
                timeout_s,
                retry: None,
                origin: None,
                response_bytes: None,
            })
            .collect();
        m.workload = Some(Workload::Closed {
            users: 10,
            think: Dist::exponential(1.0).unwrap(),
            on_start: None,
        });
        let mut all = vec![Target::Latency {
            percentile: 95.0,
            max_s: 0.05,
        }];
        all.extend(targets);
        m.slos = vec![Slo {
            endpoint: None,
            targets: all,
            apdex_t_s: None,
            origin: None,
        }];
        validate(m).unwrap()
    }

    fn errors(max: f64) -> Vec<Target> {
        vec![Target::ErrorRate { max }]
    }

    #[test]
    fn a_closed_workload_with_timeouts_everywhere_is_bounded_through_littles_law() {
        // Every request ends within the longest timeout, T = 2 s. With 1 % errors allowed and
        // p95 < 50 ms, the mean response is at most 0.99 (0.95 x 0.05 + 0.05 x 2) + 0.01 x 2
        // = 0.166225 s, so 1000 users thinking 1 s send at least 1000 / 1.166225 = 857.5
        // requests/s, 99 % of which succeed after 10 ms of work: 8.49 servers busy at least.
        let r_max = 0.99 * (0.95 * 0.05 + 0.05 * 2.0) + 0.01 * 2.0;
        let busy = 0.99 * 1000.0 / (1.0 + r_max) * 0.01;
        let c = closed(2, [Some(1.0), Some(2.0)], errors(0.01));
        let b = breach(&c, 1000.0).expect("2 servers cannot serve 1000 users");
        assert_eq!(b.resource, "s");
        assert!(
            (b.utilization_at_least - busy / 2.0).abs() < 1e-9,
            "{b:?} against {}",
            busy / 2.0
        );
        assert!(b.text.contains("1000 users thinking 1.000 s"), "{}", b.text);
        assert!(b.text.contains("0.166 s"), "{}", b.text);
        // 8 servers: 106 % busy at least, ruled out; 9 servers: 94 %, not ruled out.
        assert!(breach(&closed(8, [Some(1.0), Some(2.0)], errors(0.01)), 1000.0).is_some());
        assert!(breach(&closed(9, [Some(1.0), Some(2.0)], errors(0.01)), 1000.0).is_none());
        // Fewer users on 2 servers: 100 users need 0.85 servers busy at least.
        assert!(breach(&c, 100.0).is_none());
        // The two servers are full from 235.6 users; users are whole, rounded as a cell runs
        // them, so 235.4 count as 235 (99.7 % busy, not ruled out) and 235.6 as 236 (ruled out).
        let edge = 2.0 / (0.99 * 0.01) * (1.0 + r_max);
        assert_eq!(edge.floor(), 235.0);
        assert!(breach(&c, edge.floor()).is_none(), "{edge}");
        assert!(breach(&c, edge.floor() + 0.4).is_none(), "{edge}");
        assert!(breach(&c, edge.floor() + 0.6).is_some(), "{edge}");
        assert!(breach(&c, edge.floor() + 1.0).is_some(), "{edge}");
        // An availability objective allows failures as an error rate does.
        let available = closed(
            2,
            [Some(1.0), Some(2.0)],
            vec![Target::Availability { min: 0.99 }],
        );
        let b2 = breach(&available, 1000.0).expect("ruled out through availability");
        assert!((b2.utilization_at_least - b.utilization_at_least).abs() < 1e-9);
    }

    #[test]
    fn a_closed_workload_without_a_timeout_everywhere_is_never_ruled_out() {
        // One endpoint may take any time: its requests bound the throughput by nothing.
        let c = closed(1, [Some(1.0), None], errors(0.01));
        assert_eq!(breach(&c, 100_000.0), None);
        // Retries stretch a request past its timeout: no bound either.
        let mut c = closed(1, [Some(1.0), Some(1.0)], errors(0.01));
        assert!(breach(&c, 100_000.0).is_some());
        c.model.endpoints[1].retry = Some(RetrySpec {
            count: 2,
            backoff: Dist::constant(0.1).unwrap(),
        });
        assert_eq!(breach(&c, 100_000.0), None);
    }

    #[test]
    fn without_an_error_objective_nothing_is_ruled_out() {
        // Every request may fail: none needs to be served. Closed and open alike.
        let c = closed(1, [Some(1.0), Some(1.0)], Vec::new());
        assert_eq!(breach(&c, 100_000.0), None);
        let mut open = mmc(1, 10_000.0, None);
        open.model.slos[0]
            .targets
            .retain(|t| !matches!(t, Target::ErrorRate { .. }));
        let open = validate(open.model).unwrap();
        assert_eq!(breach(&open, 10_000.0), None);
    }

    #[test]
    fn failures_may_be_the_heaviest_requests() {
        // 995/s of 1 ms and 5/s of 1 s on a station of its own without a waiting room: the
        // slow station is 500 % offered, yet turning away ~80 % of its requests fails only
        // 0.4 % of all, within the 1 % allowed. No bound may rule one slow server out.
        let src = r#"
let m = model("mix");
let fast = m.station("fast", #{ servers: 2, service: exponential(ms(1)) });
let slow = m.station("slow", #{ servers: 1, queue: 0, service: exponential(sec(1)) });
m.endpoint("A", 995, [fast.visit()]);
m.endpoint("B", 5, [slow.visit()]);
m.arrivals(per_sec(1000));
m.slo(#{ p95: ms(50), error_rate: 0.01 });
"#;
        let m = crate::script::load_str(src, "mix.rhai", std::path::Path::new(".")).unwrap();
        let c = validate(m).unwrap();
        assert!(breach(&c, 1000.0).is_none());
        // With no failure allowed the slow station is truly over capacity.
        let strict = src.replace("error_rate: 0.01", "error_rate: 0.0");
        let m = crate::script::load_str(&strict, "mix.rhai", std::path::Path::new(".")).unwrap();
        let b = breach(&validate(m).unwrap(), 1000.0).expect("500 % busy");
        assert_eq!(b.resource, "slow");
    }
}
