//! Studies against answers known in closed form: the breaking point of an open M/M/c, and
//! paired what-ifs (a change that changes nothing, a server added at the bottleneck).

use crate::support::checked;
use capsim::analysis::queueing::MMc;
use capsim::stats::{Metric, Scope};
use capsim::study::cell::Cell;
use capsim::study::{CellPlan, Holds, Subject, breaking, paired::paired};

/// An M/M/3 with 100 ms services and the objective p95 < 400 ms, at `rate` arrivals/s.
fn mm3(rate: f64, servers: u32) -> String {
    format!(
        r#"
let m = model("M/M/c p95");
let pool = m.station("pool", #{{ servers: {servers}, service: exponential(ms(100)) }});
m.endpoint("job", 1, [pool.visit()]);
m.arrivals(per_sec({rate}));
m.slo(#{{ p95: ms(400) }});
"#
    )
}

/// The arrival rate at which the exact p95 of M/M/3 response times reaches 400 ms.
fn exact_breaking_rate() -> f64 {
    let p95 = |l: f64| {
        MMc::new(l, 10.0, 3)
            .unwrap()
            .response_quantile(0.95)
            .unwrap()
    };
    let (mut lo, mut hi) = (1.0, 29.99);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if p95(mid) < 0.4 { lo = mid } else { hi = mid }
    }
    lo
}

fn plan(seed: u64) -> CellPlan {
    CellPlan {
        seed,
        horizon_s: 2_000.0,
        warmup_s: 200.0,
        first_look: 4,
        max_replications: 16,
    }
}

#[test]
fn the_breaking_point_of_an_open_mmc_brackets_the_exact_rate() {
    let exact = exact_breaking_rate();
    let (c, _) = checked(&mm3(10.0, 3));
    let subject = Subject::new("baseline", c);
    let bp = breaking::search(&subject, &plan(5), 10.0, Some(30.0)).unwrap();
    let (lo, hi) = (bp.holds_up_to.unwrap(), bp.fails_from.unwrap());
    assert!(
        lo <= exact && exact <= hi,
        "exact {exact}: search says {lo}..{hi} ({bp:?})"
    );
    assert!(
        hi - lo <= 0.1 * exact,
        "bracket {lo}..{hi} too wide for {exact}"
    );
    assert!(
        bp.confirmed,
        "{:?}",
        bp.points
            .iter()
            .map(|p| (p.level, p.holds, p.replications, p.p95_ms))
            .collect::<Vec<_>>()
    );
    assert_eq!(bp.first_to_break.as_ref().unwrap().0, "p(95) < 400ms");
    assert_eq!(bp.bottleneck.as_ref().unwrap().resource, "pool");
    // The curve rises with the load (beyond its intervals).
    for w in bp.points.windows(2) {
        assert!(w[1].p95_ms.ci_high >= w[0].p95_ms.ci_low, "{:?}", bp.points);
    }
}

/// Runs `subject` at `rate` for `n` replications of the shared plan.
fn cell(subject: &Subject, plan: &CellPlan, rate: f64, n: u32) -> Cell {
    let mut cell = Cell::new(subject, plan, rate);
    cell.extend_to(subject, plan.seed, n).unwrap();
    cell
}

#[test]
fn pairing_narrows_differences_and_an_empty_change_changes_nothing() {
    let plan = plan(11);
    let base = Subject::new("baseline", checked(&mm3(24.0, 3)).0);
    let same = Subject::new("same", checked(&mm3(24.0, 3)).0);
    let more = Subject::new("4 servers", checked(&mm3(24.0, 4)).0);
    let p95 = Metric::latency(95.0);
    let col = |c: &Cell| c.column(&Scope::Global, p95).unwrap();
    let before = cell(&base, &plan, 24.0, 16);
    // A change that changes nothing: a difference of exactly 0, every replication.
    let d0 = paired(&col(&before), &col(&cell(&same, &plan, 24.0, 16)));
    assert_eq!(d0.difference.mean, 0.0);
    assert!(d0.difference.ci_low <= 0.0 && d0.difference.ci_high >= 0.0);
    // A server added at the bottleneck lowers p95, the interval excludes 0.
    let after = cell(&more, &plan, 24.0, 16);
    let d = paired(&col(&before), &col(&after));
    assert!(d.difference.ci_high < 0.0, "{d:?}");
    let exact_before = 1e3
        * MMc::new(24.0, 10.0, 3)
            .unwrap()
            .response_quantile(0.95)
            .unwrap();
    let exact_after = 1e3
        * MMc::new(24.0, 10.0, 4)
            .unwrap()
            .response_quantile(0.95)
            .unwrap();
    let exact = exact_after - exact_before;
    let slack = 0.05 * exact.abs(); // the replications' own p95s are biased a little in short runs
    assert!(
        d.difference.ci_low - slack <= exact && exact <= d.difference.ci_high + slack,
        "exact {exact}: {d:?}"
    );
    // Against independent seeds, pairing narrows the interval of a change that keeps the
    // queue's dynamics (a 5 % faster service): its gain is measured. (Adding a server takes
    // away most of the variance, so there is little left to pair.)
    let faster_src = mm3(24.0, 3).replace("ms(100)", "ms(95)");
    let faster = Subject::new("faster", checked(&faster_src).0);
    let d = paired(&col(&before), &col(&cell(&faster, &plan, 24.0, 16)));
    assert!(d.difference.ci_high < 0.0, "{d:?}");
    let other = CellPlan {
        seed: 12_345,
        ..plan
    };
    let independent = paired(&col(&before), &col(&cell(&faster, &other, 24.0, 16)));
    let narrowing = independent.difference.half_width() / d.difference.half_width();
    assert!(
        narrowing > 1.5,
        "pairing narrowed the interval {narrowing:.2}x only ({d:?})"
    );
    assert!(d.pairing_gain > 2.0, "{d:?}");
}

#[test]
fn a_cell_settles_as_soon_as_its_verdict_is_decided() {
    let plan = plan(3);
    let s = Subject::new("baseline", checked(&mm3(10.0, 3)).0);
    // Far below the breaking point: the first look decides.
    let mut easy = Cell::new(&s, &plan, 10.0);
    assert_eq!(easy.settle(&s, &plan).unwrap().0, Holds::Yes);
    assert_eq!(easy.replications(), 4);
    // Far above: fails at the first look too.
    let mut hard = Cell::new(&s, &plan, 29.0);
    assert_eq!(hard.settle(&s, &plan).unwrap().0, Holds::No);
    assert_eq!(hard.replications(), 4);
}

/// A closed machine-repairman network: `users` users thinking exponential 1 s between
/// requests to one exponential 50 ms server, objective p95 < 500 ms.
fn repairman(users: u32) -> String {
    format!(
        r#"
let m = model("repairman");
let cpu = m.station("cpu", #{{ servers: 1, service: exponential(ms(50)) }});
m.endpoint("job", 1, [cpu.visit()]);
m.users({users}, exponential(sec(1)));
m.slo(#{{ p95: ms(500) }});
"#
    )
}

/// The exact p95 of the response time with `n` users: by the arrival theorem a request finds
/// the server's queue as the network with `n − 1` users has it (the finite-source M/M/1,
/// p_k ∝ (n−1)!/(n−1−k)! (S/Z)^k), and with k ahead of it at an exponential FCFS server its
/// response time is Erlang(k + 1, 1/S).
fn exact_repairman_p95(n: u32) -> f64 {
    let (s, z) = (0.05, 1.0);
    let m = (n - 1) as usize;
    let mut w = vec![1.0f64; m + 1];
    for k in 1..=m {
        w[k] = w[k - 1] * (m + 1 - k) as f64 * s / z;
    }
    let total: f64 = w.iter().sum();
    let survival = |t: f64| -> f64 {
        // P(Erlang(k+1, mu) > t) = sum_{j<=k} e^{-mu t} (mu t)^j / j!
        let x = t / s;
        let mut term = (-x).exp();
        let mut cdf_tail = 0.0;
        let mut acc = 0.0;
        for (k, wk) in w.iter().enumerate() {
            if k > 0 {
                term *= x / k as f64;
            }
            acc += term;
            cdf_tail += wk / total * acc;
        }
        cdf_tail
    };
    let (mut lo, mut hi) = (0.0, 100.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if survival(mid) > 0.05 {
            lo = mid
        } else {
            hi = mid
        }
    }
    lo
}

#[test]
fn the_breaking_point_of_a_closed_network_brackets_the_exact_population() {
    // The largest population whose exact p95 stays below 500 ms.
    let exact = (1..200)
        .take_while(|&n| exact_repairman_p95(n) < 0.5)
        .last()
        .unwrap();
    assert!(exact_repairman_p95(1) < 0.2 && exact > 15, "exact {exact}");
    let s = Subject::new("baseline", checked(&repairman(5)).0);
    let guide = capsim::study::run::analytic_saturation(&s.checked, 5.0);
    let bp = breaking::search(&s, &plan(9), 5.0, guide).unwrap();
    let (lo, hi) = (bp.holds_up_to.unwrap(), bp.fails_from.unwrap());
    let exact = f64::from(exact);
    // The population that holds lies at or above the searched lower end, and the first one
    // that fails (exact + 1) at or below its upper end.
    assert!(
        lo <= exact && exact + 1.0 <= hi,
        "exact {exact}: searched {lo}..{hi}"
    );
    assert!(hi - lo <= 6.0, "bracket {lo}..{hi}");
}

/// The M/M/3 of [`mm3`] with today's peak at 12 arrivals/s growing 10 % a month for a year.
fn mm3_growing() -> String {
    mm3(12.0, 3)
        + r#"
m.load_profile(#{ average: per_sec(6), daily_peak: per_sec(12), weekly_peak: per_sec(14) });
m.growth("fast", #{ users: 0.10, traffic_per_user: 0.0, horizon: 12 });
"#
}

#[test]
fn projections_rise_with_the_load_and_break_where_the_exact_p95_does() {
    use capsim::study::run::{Part, StudyParams, run};
    let (c, _) = checked(&mm3_growing());
    let params = StudyParams {
        seed: 4,
        max_replications: 16,
        duration_s: Some(2_000.0),
        parts: vec![Part::Projections],
    };
    let st = run(&c, &params, &|_| {}).unwrap();
    let p = &st.projections[0];
    assert_eq!(p.months.len(), 13);
    // More load never lowers p95 beyond its interval.
    for w in p.months.windows(2) {
        // An upper end left unknown by unfinished requests is unbounded.
        let high = Some(w[1].point.p95_ms.ci_high).filter(|x| !x.is_nan());
        assert!(
            high.is_none_or(|h| h >= w[0].point.p95_ms.ci_low),
            "month {} -> {}: {:?} -> {:?}",
            w[0].month,
            w[1].month,
            w[0].point.p95_ms,
            w[1].point.p95_ms
        );
    }
    // The first month whose peak exceeds the exact breaking rate is where it breaks, give or
    // take a month whose verdict the intervals leave open.
    let exact = exact_breaking_rate();
    let first_over = (0..=12u32)
        .find(|&m| 12.0 * 1.1f64.powi(m as i32) > exact)
        .unwrap();
    let (month, b) = p.first_breach.as_ref().expect("a breach within the year");
    assert!(
        *month == first_over
            || (*month == first_over + 1 && p.undecided_months.contains(&first_over)),
        "breach in month {month}, exact rate passed in month {first_over} ({:?})",
        p.undecided_months
    );
    assert_eq!(b.objective, "p(95) < 400ms");
}

/// [`mm3_growing`] with an event and a fourth server as a variant: every part of a study.
fn mm3_whole_study() -> String {
    mm3_growing()
        + r#"
m.event("campaign", #{ month: 3, multiplier: 1.5, duration: hours(48) });
m.variant("a fourth server", |m| { m.change(pool, #{ servers: 4 }); });
m.scaling(pool, #{ servers: #{ min: 1, max: 6 }, price: 100 });
"#
}

/// As JSON, where an unbounded interval's NaN end equals itself.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn study_params(parts: Vec<capsim::study::run::Part>) -> capsim::study::run::StudyParams {
    capsim::study::run::StudyParams {
        seed: 6,
        max_replications: 8,
        duration_s: Some(500.0),
        parts,
    }
}

#[test]
fn the_parts_of_a_study_share_their_cells_and_read_what_they_would_simulate_alone() {
    use capsim::study::run::{Part, run};
    let (c, _) = checked(&mm3_whole_study());
    let whole = run(&c, &study_params(Part::ALL.to_vec()), &|_| {}).unwrap();
    let alone = |p: Part| run(&c, &study_params(vec![p]), &|_| {}).unwrap();
    let (projections, events, whatifs) = (
        alone(Part::Projections),
        alone(Part::Events),
        alone(Part::Whatif),
    );
    assert_eq!(json(&whole.projections), json(&projections.projections));
    assert_eq!(json(&whole.events_at_peak), json(&events.events_at_peak));
    assert_eq!(json(&whole.whatifs), json(&whatifs.whatifs));
    // The capacity search's answers and proofs too (its headroom starts from the study's
    // breaking point when that part runs, so only the answers and records are compared).
    let capacity = alone(Part::Capacity);
    let answers = |st: &capsim::study::run::StudyResults| {
        let c = st
            .capacity
            .as_ref()
            .expect("the model declares scaling options");
        let goals: Vec<_> = c
            .goals
            .iter()
            .map(|g| (g.answer.as_ref().map(|a| a.config.clone()), json(&g.record)))
            .collect();
        goals
    };
    assert_eq!(answers(&whole), answers(&capacity));
    // Month 0 is today's peak, the search's first probe and the what-ifs' first baseline: one
    // cell for all of them, and so for every level two parts ask for.
    let bp = whole.breaking_point.as_ref().unwrap();
    assert!(
        whole.cells < projections.cells + events.cells + whatifs.cells + bp.cells + capacity.cells,
        "{} cells in all, {} + {} + {} + {} + {} alone",
        whole.cells,
        projections.cells,
        events.cells,
        whatifs.cells,
        bp.cells,
        capacity.cells
    );
    assert!(
        whole.events
            < projections.events + events.events + whatifs.events + bp.events + capacity.events
    );
}

#[test]
fn a_whole_study_is_bit_identical_on_one_and_two_threads() {
    use capsim::study::run::{Part, run};
    let (c, _) = checked(&mm3_whole_study());
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let st = pool
            .install(|| run(&c, &study_params(Part::ALL.to_vec()), &|_| {}))
            .unwrap();
        json(&st)
    };
    assert_eq!(on(1), on(2));
}

#[test]
fn a_variant_named_baseline_is_refused_since_the_model_itself_has_that_name() {
    use capsim::study::run::{Part, StudyError, run};
    let model =
        mm3_growing() + r#"m.variant("baseline", |m| { m.change(pool, #{ servers: 4 }); });"#;
    let (c, _) = checked(&model);
    let err = run(&c, &study_params(vec![Part::Whatif]), &|_| {})
        .err()
        .unwrap();
    assert!(
        matches!(&err, StudyError::Variant { name, message } if name == "baseline" && message.contains("another name")),
        "{err}"
    );
}

/// The arrival rate at which the exact p95 of an M/M/c (100 ms services) reaches 400 ms.
fn exact_breaking_rate_of(servers: u32) -> f64 {
    let p95 = |l: f64| {
        MMc::new(l, 10.0, servers)
            .unwrap()
            .response_quantile(0.95)
            .unwrap()
    };
    let (mut lo, mut hi) = (0.1, 10.0 * f64::from(servers) - 0.01);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if p95(mid) < 0.4 { lo = mid } else { hi = mid }
    }
    lo
}

/// The first month of [`mm3_growing`]'s hypothesis whose peak exceeds `rate`, if within the
/// year.
fn first_month_over(rate: f64) -> Option<u32> {
    (0..=12u32).find(|&m| 12.0 * 1.1f64.powi(m as i32) > rate)
}

/// Whether a searched breach month agrees with the exact one, give or take the month before
/// it when the search left that one undecided.
fn agrees(got: Option<u32>, exact: Option<u32>, undecided: &[u32]) -> bool {
    got == exact
        || match (got, exact) {
            (Some(g), Some(e)) => g == e + 1 && undecided.contains(&e),
            (None, Some(e)) => e == 12 && undecided.contains(&12),
            _ => false,
        }
}

#[test]
fn a_server_added_at_the_bottleneck_moves_the_breach_month_where_the_exact_p95_says() {
    use capsim::study::run::{Part, StudyParams, run};
    let src = mm3_growing()
        + r#"
m.variant("a fourth server", |m| m.change(pool, #{ servers: 4 }));
m.variant("two servers", |m| m.change(pool, #{ servers: 2 }));
"#;
    let (c, _) = checked(&src);
    let params = StudyParams {
        seed: 4,
        max_replications: 16,
        duration_s: Some(2_000.0),
        parts: vec![Part::Projections, Part::Whatif],
    };
    let st = run(&c, &params, &|_| {}).unwrap();
    let projected = st.projections[0].first_breach.as_ref().map(|(m, _)| *m);
    let shift = |name: &str| {
        let w = st.whatifs.iter().find(|w| w.variant == name).unwrap();
        assert_eq!(w.breach_months.len(), 1, "{w:?}");
        w.breach_months[0].clone()
    };
    let four = shift("a fourth server");
    let two = shift("two servers");
    // The baseline's breach is the projections' own, on both variants' rows.
    assert_eq!(four.before, projected);
    assert_eq!(two.before, projected);
    assert!(projected.is_some());
    // Four servers break (if at all within the year) where the exact M/M/4 p95 passes 400 ms,
    // later than three; two servers earlier, where the exact M/M/2 p95 does.
    let exact4 = first_month_over(exact_breaking_rate_of(4));
    let exact2 = first_month_over(exact_breaking_rate_of(2));
    assert!(
        agrees(four.after, exact4, &four.after_undecided),
        "4 servers: breach {:?}, exact {exact4:?} ({four:?})",
        four.after
    );
    assert!(
        agrees(two.after, exact2, &two.after_undecided),
        "2 servers: breach {:?}, exact {exact2:?} ({two:?})",
        two.after
    );
    assert!(four.months_gained().unwrap() > 0, "{four:?}");
    assert!(two.months_gained().unwrap() < 0, "{two:?}");
    assert_eq!(two.after_objective.as_deref(), Some("p(95) < 400ms"));
    // The bisection simulated a handful of months, not the whole year.
    assert!(four.after_months_simulated.len() <= 5, "{four:?}");
}

/// A watcher that counts what it hears.
#[derive(Default)]
struct Counting {
    expected: std::sync::atomic::AtomicU64,
    settled: std::sync::atomic::AtomicU64,
    steps: std::sync::Mutex<Vec<String>>,
}

impl capsim::study::progress::Watch for Counting {
    fn expect(&self, cells: u64) {
        self.expected
            .store(cells, std::sync::atomic::Ordering::Relaxed);
    }
    fn step(&self, name: &str) {
        self.steps.lock().unwrap().push(name.to_string());
    }
    fn settled(&self) {
        self.settled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// An open model far from saturation with declared sizes: responses of 10 kB (GET, weight 3)
/// and 2 kB (POST, weight 1), each POST writing 2 x 4 kB, a 2 MB database; today's peak 10/s,
/// the average 5/s, growing 10 % a month.
fn volume_model() -> String {
    r#"
let m = model("volume");
let api = m.station("api", #{ servers: 4, service: exponential(ms(20)) });
let db = m.database("db", #{ replicas: 1, data_size: mb(2) });
m.endpoint("GET /", 3, [api.visit()], #{ response_bytes: kb(10) });
m.endpoint("POST /", 1, [api.visit(), db.write(ms(2), #{ bytes: kb(4) }).times(2)],
    #{ response_bytes: kb(2) });
m.arrivals(per_sec(10));
m.slo(#{ p95: ms(400), availability: 0.999 });
m.load_profile(#{ average: per_sec(5), daily_peak: per_sec(10), weekly_peak: per_sec(12) });
m.growth("fast", #{ users: 0.10, traffic_per_user: 0.0, horizon: 12 });
"#
    .to_string()
}

#[test]
fn projected_bandwidth_and_database_size_match_a_hand_computation() {
    use capsim::study::run::{Part, StudyParams, run_watched};
    use std::sync::atomic::Ordering;
    let (c, _) = checked(&volume_model());
    let params = StudyParams {
        seed: 8,
        max_replications: 4,
        duration_s: Some(1_000.0),
        parts: vec![Part::Projections],
    };
    let watch = std::sync::Arc::new(Counting::default());
    let st = run_watched(&c, &params, watch.clone()).unwrap();
    // The watcher heard every settled cell, within the count the study expected, and the steps.
    let settled = watch.settled.load(Ordering::Relaxed);
    assert_eq!(settled, st.cells as u64);
    assert_eq!(watch.expected.load(Ordering::Relaxed), 13);
    assert!(settled <= 13);
    assert_eq!(
        *watch.steps.lock().unwrap(),
        [
            "warm-up",
            "projection, event and what-if cells",
            "projections",
            "SLO accounting"
        ]
    );
    let p = &st.projections[0];
    assert_eq!(p.volume.len(), 13);
    let month_s = 365.25 * 86_400.0 / 12.0;
    // By hand: 0.75 x 10 kB + 0.25 x 2 kB = 8 kB a response; 0.25 x 2 x 4 kB = 2 kB written a
    // request.
    let mut hand_db = 2e6;
    let mut from_throughput = 2e6;
    for (m, v) in p.months.iter().zip(&p.volume) {
        assert_eq!(m.month, v.month);
        let rate = 10.0 * 1.1f64.powi(m.month as i32);
        // The bandwidth is the simulated throughput (close to the offered rate, nothing fails)
        // times 8 kB, in Gbit/s, with the throughput's interval.
        let x = &m.point.throughput_rps;
        let b = v.bandwidth_gbps.as_ref().unwrap();
        assert!((b.mean - x.mean * 64_000.0 / 1e9).abs() < 1e-12, "{b:?}");
        assert!(
            (b.ci_high - x.ci_high * 64_000.0 / 1e9).abs() < 1e-12,
            "{b:?}"
        );
        assert!(
            (b.mean / (rate * 64_000.0 / 1e9) - 1.0).abs() < 0.02,
            "month {}: {b:?}",
            m.month
        );
        // The database grows by each month's writes at half the peak's rate (average/peak).
        if m.month > 0 {
            hand_db += 0.5 * rate * 2_000.0 * month_s;
            from_throughput += 0.5 * x.mean * 2_000.0 * month_s;
        }
        assert!((v.average_rps - 0.5 * x.mean).abs() < 1e-9, "{v:?}");
        let size = v.databases[0].bytes;
        assert_eq!(v.databases[0].database, "db");
        assert!(
            (size / from_throughput - 1.0).abs() < 1e-9,
            "{size} vs {from_throughput}"
        );
        assert!((size / hand_db - 1.0).abs() < 0.02, "{size} vs {hand_db}");
    }
    // The SLO accounting: today and +3, +6, +12 months, the budget of 99.9 % over 30 days.
    let whens: Vec<&str> = st.slo_accounts.iter().map(|a| a.when.as_str()).collect();
    assert_eq!(
        whens,
        [
            "today",
            "+3 months (fast)",
            "+6 months (fast)",
            "+12 months (fast)"
        ]
    );
    for a in &st.slo_accounts {
        let b = a.budget.as_ref().unwrap();
        assert!((b.budget_min - 43.2).abs() < 1e-9);
        assert!((b.consumed_min.mean - b.error_rate.mean * 43_200.0).abs() < 1e-9);
        assert_eq!(a.verdicts.len(), 2, "{a:?}");
        let month = p.months.iter().find(|m| m.month == a.month).unwrap();
        assert_eq!(a.level, month.point.level);
    }
}
