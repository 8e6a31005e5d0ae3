//! Processor-sharing cores (the default for apps) against their closed forms, and against
//! first-come-first-served cores on the same load, which they must be told apart from.
//!
//! - M/G/1-PS: the mean response time is `E[S] / (1 - rho)` whatever the service distribution
//!   (Kleinrock, Queueing Systems vol. 2, 4.4), and a job of size `x` takes `x / (1 - rho)` on
//!   average: short jobs are not stuck behind long ones.
//! - M/G/c-PS with each of `n` jobs served at `min(1, c / n)` is a symmetric queue: its number
//!   in system has the M/M/c distribution whatever the service distribution, so its mean
//!   response is M/M/c's (Erlang C).

use crate::support::*;
use capsim::analysis::queueing::{MMc, mg1_mean_response};
use capsim::stats::Scope;

/// One app instance with `cores` cores and enough async workers never to bind; `endpoints`
/// are `(name, weight, demand)`; Poisson arrivals at `lambda`.
fn app_model(cores: u32, scheduling: &str, lambda: f64, endpoints: &[(&str, u32, &str)]) -> String {
    let mut src = format!(
        r#"let m = model("cores");
           let api = m.app("api", #{{ cpus: {cores}, workers: 100000, mode: "async", scheduling: "{scheduling}" }});
           m.arrivals(per_sec({lambda}));
        "#
    );
    for (name, weight, demand) in endpoints {
        src.push_str(&format!(
            "m.endpoint(\"{name}\", {weight}, [api.compute({demand})]);\n"
        ));
    }
    src
}

fn mean_ms(r: &capsim::montecarlo::ScenarioRun, endpoint: &str) -> capsim::stats::Estimate {
    fig(r, &Scope::Endpoint(endpoint.to_string()), "latency_mean")
}

/// M/G/1-PS at utilization 0.7 (10 ms mean work, 70 requests/s): W = 10 / 0.3 = 33.3 ms for
/// exponential, constant and hyperexponential work
/// alike. First-come-first-served cores give 21.7 ms (constant) and 85.8 ms
/// (hyperexponential, SCV 5.5) by Pollaczek-Khinchine: the test tells the two apart.
#[test]
fn mg1_ps_mean_response_is_insensitive_to_the_work_distribution() {
    let theory = 10.0 / (1.0 - 0.7);
    let hyper = "mixture([[0.9, exponential(ms(5))], [0.1, exponential(ms(55))]])";
    // E[S^2] = 0.9 * 2 * 25 + 0.1 * 2 * 3025 = 650 ms^2: SCV = 650 / 100 - 1 = 5.5.
    for (what, demand, fcfs_scv) in [
        ("exponential", "exponential(ms(10))", 1.0),
        ("constant", "ms(10)", 0.0),
        ("hyperexponential", hyper, 5.5),
    ] {
        let runs = run(
            &app_model(1, "ps", 70.0, &[("job", 1, demand)]),
            20,
            Some(1500.0),
            5,
        );
        let e = global(&runs[0], "latency_mean");
        assert_agrees(&format!("M/G/1-PS, {what} work"), e, theory, 0.0);
        let fcfs = 1e3 * mg1_mean_response(70.0, 0.010, fcfs_scv).unwrap();
        if (fcfs - theory).abs() > 1.0 {
            assert_rejects(&format!("{what}: FCFS's {fcfs:.1} ms"), e, fcfs, 0.0);
        }
    }
}

/// The short-job advantage: 10 ms and 100 ms jobs (4 to 1) at utilization 0.7 on one core.
/// Under processor sharing E[T | S = x] = x / (1 - rho): 33.3 ms and 333 ms. First come first
/// served makes both wait the same W_q = lambda E[S^2] / (2 (1 - rho)) = 86.7 ms: 96.7 ms and
/// 187 ms.
#[test]
fn under_ps_a_job_takes_its_size_over_one_minus_rho() {
    let jobs = [("short", 4, "ms(10)"), ("long", 1, "ms(100)")];
    let lambda = 25.0; // E[S] = 0.8 * 10 + 0.2 * 100 = 28 ms: rho = 0.7
    let ps = run(&app_model(1, "ps", lambda, &jobs), 20, Some(3000.0), 9);
    let fcfs = run(&app_model(1, "fcfs", lambda, &jobs), 20, Some(3000.0), 9);
    let wq = 1e3 * lambda * (0.8 * 0.010f64.powi(2) + 0.2 * 0.100f64.powi(2)) / (2.0 * 0.3);
    for (name, x) in [("short", 10.0), ("long", 100.0)] {
        let e = mean_ms(&ps[0], name);
        assert_agrees(&format!("PS, {name} jobs"), e, x / 0.3, 0.0);
        assert_rejects(&format!("PS, {name} jobs against FCFS"), e, x + wq, 0.0);
        let f = mean_ms(&fcfs[0], name);
        assert_agrees(&format!("FCFS, {name} jobs"), f, x + wq, 0.0);
    }
}

/// Two cores at utilization 0.8 (20 ms mean work, 80 requests/s): the mean response is the
/// M/M/2 one (Erlang C: 55.6 ms) for lognormal and constant work.
#[test]
fn mgc_ps_has_the_mmc_mean_response_whatever_the_work() {
    let theory = 1e3 * MMc::new(80.0, 50.0, 2).unwrap().mean_response();
    for demand in ["lognormal(ms(20), ms(40))", "ms(20)", "exponential(ms(20))"] {
        let runs = run(
            &app_model(2, "ps", 80.0, &[("job", 1, demand)]),
            20,
            Some(1500.0),
            13,
        );
        let e = global(&runs[0], "latency_mean");
        assert_agrees(&format!("M/G/2-PS, {demand}"), e, theory, 0.0);
        let u = resource(&runs[0], "api[1] cpu", "utilization");
        assert_agrees(&format!("M/G/2-PS utilization, {demand}"), u, 0.8, 0.0);
    }
}

#[test]
fn apps_share_their_cores_unless_told_fcfs() {
    let (_, ps) = checked(
        r#"let m = model("x"); let api = m.app("api", #{ cpus: 2 });
           m.endpoint("e", 1, [api.compute(ms(1))]); m.arrivals(per_sec(1));"#,
    );
    let cpu = ps
        .resources
        .iter()
        .find(|r| r.name == "api[1] cpu")
        .unwrap();
    assert!(cpu.shared, "processor sharing is the default");
    let (_, fcfs) = checked(
        r#"let m = model("x"); let api = m.app("api", #{ cpus: 2, scheduling: "fcfs" });
           m.endpoint("e", 1, [api.compute(ms(1))]); m.arrivals(per_sec(1));"#,
    );
    assert!(fcfs.resources.iter().all(|r| !r.shared));
}
