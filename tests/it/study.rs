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
