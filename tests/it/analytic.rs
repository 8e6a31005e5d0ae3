//! The engine against closed-form queueing results. Each test runs a model written in the
//! model language through the whole pipeline (script, validation, engine, statistics) and
//! accepts theory within the 99.9 % confidence interval (see `support::TEST_CONFIDENCE`), plus the
//! histogram's resolution for percentiles.

use crate::support::*;
use capsim::analysis::queueing::{MMc, MMcK, MvaStation, erlang_b, md1_mean_response, mva};

fn mmc_model(c: u32, lambda: f64) -> String {
    format!(
        r#"let m = model("mmc");
           let q = m.station("q", #{{ servers: {c}, service: exponential(sec(1)) }});
           m.endpoint("job", 1, [q.visit()]);
           m.arrivals(per_sec({lambda}));"#
    )
}

/// Simulated customers per configuration: enough that the interval of p99 at utilization 0.9
/// is a few percent wide.
fn duration_for(rho: f64, lambda: f64) -> f64 {
    let customers = if rho >= 0.9 { 300_000.0 } else { 125_000.0 };
    customers / lambda
}

fn check_mmc(c: u32, rho: f64) {
    let lambda = rho * f64::from(c);
    let theory = MMc::new(lambda, 1.0, c).unwrap();
    let runs = run(
        &mmc_model(c, lambda),
        20,
        Some(duration_for(rho, lambda)),
        11,
    );
    let r = &runs[0];
    let what = |m: &str| format!("M/M/{c} at rho {rho}: {m}");
    assert_agrees(
        &what("mean response"),
        global(r, "latency_mean"),
        1e3 * theory.mean_response(),
        0.0,
    );
    assert_agrees(
        &what("mean wait"),
        resource(r, "q", "wait_mean"),
        1e3 * theory.mean_wait(),
        0.0,
    );
    assert_agrees(
        &what("mean queue"),
        resource(r, "q", "queue_mean"),
        theory.mean_queue_len(),
        0.0,
    );
    assert_agrees(
        &what("utilization"),
        resource(r, "q", "utilization"),
        rho,
        0.0,
    );
    for (metric, p) in [("latency_p95", 0.95), ("latency_p99", 0.99)] {
        let q = theory.response_quantile(p).unwrap();
        assert_agrees(&what(metric), global(r, metric), 1e3 * q, HDR_RELATIVE);
    }
}

#[test]
fn mm1_matches_theory_at_utilization_0_5_0_8_0_9() {
    for rho in [0.5, 0.8, 0.9] {
        check_mmc(1, rho);
    }
}

#[test]
fn mm3_matches_erlang_c_at_utilization_0_5_0_8_0_9() {
    for rho in [0.5, 0.8, 0.9] {
        check_mmc(3, rho);
    }
}

#[test]
fn the_mmc_comparison_tells_servers_five_percent_slower() {
    // The power of the test: the same run must reject the answer of a system whose servers are
    // 5 % slower, so an engine that is wrong by that much cannot pass.
    let runs = run(&mmc_model(3, 2.4), 20, Some(duration_for(0.8, 2.4)), 11);
    let wrong = MMc::new(2.4, 1.0 / 1.05, 3).unwrap();
    assert_rejects(
        "M/M/3 mean response",
        global(&runs[0], "latency_mean"),
        1e3 * wrong.mean_response(),
        0.0,
    );
    let wrong_p99 = wrong.response_quantile(0.99).unwrap();
    assert_rejects(
        "M/M/3 p99",
        global(&runs[0], "latency_p99"),
        1e3 * wrong_p99,
        HDR_RELATIVE,
    );
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    let src = r#"let m = model("md1");
        let q = m.station("q", #{ servers: 1, service: constant(sec(1)) });
        m.endpoint("job", 1, [q.visit()]);
        m.arrivals(per_sec(0.8));"#;
    let runs = run(src, 20, Some(150_000.0), 5);
    let w = md1_mean_response(0.8, 1.0).unwrap();
    assert!(
        (w - 3.0).abs() < 1e-12,
        "P-K: W = 1 + rho / (2 (1 - rho)) = 3 s"
    );
    assert_agrees(
        "M/D/1 mean response",
        global(&runs[0], "latency_mean"),
        1e3 * w,
        0.0,
    );
    assert_agrees(
        "M/D/1 mean wait",
        resource(&runs[0], "q", "wait_mean"),
        1e3 * (w - 1.0),
        0.0,
    );
    // An M/M/1 at the same load waits twice as long: the engine must not confuse the two.
    let mm1 = MMc::new(0.8, 1.0, 1).unwrap().mean_response();
    assert_rejects(
        "M/D/1 vs M/M/1",
        global(&runs[0], "latency_mean"),
        1e3 * mm1,
        0.0,
    );
}

#[test]
fn tandem_stations_add_their_response_times() {
    let src = r#"let m = model("tandem");
        let a = m.station("a", #{ servers: 1, service: exponential(ms(10)) });
        let b = m.station("b", #{ servers: 2, service: exponential(ms(25)) });
        m.endpoint("job", 1, [a.visit(), b.visit()]);
        m.arrivals(per_sec(60));"#;
    let runs = run(src, 20, Some(2_500.0), 3);
    let wa = MMc::new(60.0, 100.0, 1).unwrap().mean_response();
    let wb = MMc::new(60.0, 40.0, 2).unwrap().mean_response();
    let r = &runs[0];
    assert_agrees(
        "tandem response",
        global(r, "latency_mean"),
        1e3 * (wa + wb),
        0.0,
    );
    assert_agrees(
        "station a utilization",
        resource(r, "a", "utilization"),
        0.6,
        0.0,
    );
    assert_agrees(
        "station b utilization",
        resource(r, "b", "utilization"),
        0.75,
        0.0,
    );
}

#[test]
fn probabilistic_routing_matches_the_jackson_network() {
    let src = r#"let m = model("three tiers");
        let lb = m.station("lb", #{ servers: 1, service: exponential(ms(1)) });
        let app = m.station("app", #{ servers: 8, service: exponential(ms(30)) });
        let db = m.station("db", #{ servers: 4, service: exponential(ms(10)) });
        m.endpoint("request", 1, [lb.visit(), app.visit(), branch(0.3, [db.visit()])]);
        m.arrivals(per_sec(200));"#;
    let runs = run(src, 20, Some(1_500.0), 7);
    let stations = [(1.0, 1000.0, 1), (1.0, 1000.0 / 30.0, 8), (0.3, 100.0, 4)];
    let w = capsim::analysis::queueing::jackson_mean_response(200.0, &stations).unwrap();
    assert!(
        (w - 0.039_607_792_3).abs() < 1e-9,
        "the reference value of the notes"
    );
    let r = &runs[0];
    assert_agrees("Jackson response", global(r, "latency_mean"), 1e3 * w, 0.0);
    assert_agrees("db visits", resource(r, "db", "served_rate"), 60.0, 0.0);
    assert_agrees(
        "app utilization",
        resource(r, "app", "utilization"),
        0.75,
        0.0,
    );
}

#[test]
fn a_closed_network_with_think_time_matches_exact_mva() {
    let src = r#"let m = model("closed");
        let cpu = m.station("cpu", #{ servers: 1, service: exponential(ms(20)) });
        let disk = m.station("disk", #{ servers: 2, service: exponential(ms(60)) });
        m.endpoint("transaction", 1, [cpu.visit(), disk.visit()]);
        m.users(1, exponential(sec(1)));
        m.scenario("n1", #{ level: 1, duration: hours(10) });
        m.scenario("n10", #{ level: 10, duration: hours(2.5) });
        m.scenario("n50", #{ level: 50, duration: hours(1) });"#;
    let runs = run(src, 20, None, 9);
    let stations = [
        MvaStation::queueing(0.020, 1),
        MvaStation::queueing(0.060, 2),
    ];
    let exact = mva(&stations, 1.0, 50).unwrap();
    for (r, n) in runs.iter().zip([1usize, 10, 50]) {
        let point = &exact[n - 1];
        let what = format!("N = {n}");
        assert_agrees(
            &format!("{what} throughput"),
            global(r, "throughput"),
            point.throughput,
            0.0,
        );
        assert_agrees(
            &format!("{what} response"),
            global(r, "latency_mean"),
            1e3 * point.response_time_s,
            0.0,
        );
    }
}

#[test]
fn erlang_b_is_the_blocking_of_a_queue_without_waiting_room() {
    let src = r#"let m = model("erlang b");
        let q = m.station("trunks", #{ servers: 10, queue: 0, service: exponential(sec(1)) });
        m.endpoint("call", 1, [q.visit()]);
        m.arrivals(per_sec(5));"#;
    let runs = run(src, 20, Some(100_000.0), 13);
    let b = erlang_b(10, 5.0).unwrap();
    assert!((b - 0.018_384_6).abs() < 1e-7);
    assert_agrees("blocking", global(&runs[0], "error_rate_rejected"), b, 0.0);
}

#[test]
fn mmck_blocking_and_response_match_the_birth_death_chain() {
    let src = r#"let m = model("mmck");
        let q = m.station("q", #{ servers: 2, queue: 3, service: exponential(sec(1)) });
        m.endpoint("job", 1, [q.visit()]);
        m.arrivals(per_sec(1.8));"#;
    let runs = run(src, 20, Some(100_000.0), 17);
    let theory = MMcK::new(1.8, 1.0, 2, 5).unwrap();
    let r = &runs[0];
    assert_agrees(
        "M/M/2/5 blocking",
        global(r, "error_rate_rejected"),
        theory.blocking_prob(),
        0.0,
    );
    assert_agrees(
        "M/M/2/5 response of the accepted",
        global(r, "latency_mean"),
        1e3 * theory.mean_response(),
        0.0,
    );
    assert_agrees(
        "M/M/2/5 throughput",
        global(r, "throughput"),
        theory.throughput(),
        0.0,
    );
}
