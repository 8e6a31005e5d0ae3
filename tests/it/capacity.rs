//! The minimum-cost capacity search against answers known by hand or in closed form: the
//! smallest M/M/c meeting a p95 target (exact response-time distribution), a case where a
//! bigger instance costs less than more instances, the completeness of the minimality record,
//! and a roadmap whose changes start in time.

use crate::support::checked;
use capsim::analysis::queueing::MMc;
use capsim::model::config::{Config, Space};
use capsim::model::{Checked, validate};
use capsim::study::capacity::walk::Outcome;
use capsim::study::capacity::{self, CapacityResults, GoalResult};
use capsim::study::{CellPlan, Cells, Holds, Subject};

/// An M/M/c of 100 ms services at `rate` arrivals/s with `servers` today, the objective
/// p95 < `target_ms` (and at most 0.1 % errors), and a server option at 100 EUR a month.
fn mmc(rate: f64, servers: u32, target_ms: u32, extra: &str) -> String {
    format!(
        r#"
let m = model("M/M/c capacity");
let pool = m.station("pool", #{{ servers: {servers}, service: exponential(ms(100)) }});
m.endpoint("job", 1, [pool.visit()]);
m.arrivals(per_sec({rate}));
m.slo(#{{ p95: ms({target_ms}), error_rate: 0.001 }});
m.costs(#{{ currency: "EUR" }});
m.scaling(pool, #{{ servers: #{{ min: 1, max: 8, lead_time: days(45) }}, price: 100 }});
{extra}
"#
    )
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

/// The smallest number of servers whose exact p95 (M/M/c, FCFS) is below `target_s`.
fn exact_smallest_c(rate: f64, target_s: f64) -> u32 {
    (1..100)
        .find(|&c| {
            f64::from(c) * 10.0 > rate
                && MMc::new(rate, 10.0, c)
                    .unwrap()
                    .response_quantile(0.95)
                    .unwrap()
                    < target_s
        })
        .unwrap()
}

fn search(c: &Checked, base: f64, seed: u64) -> CapacityResults {
    let mut cells = Cells::default();
    capacity::run(c, &plan(seed), base, &mut cells, None, None, &|_| {})
        .unwrap()
        .expect("the model declares scaling options")
}

/// The subject of configuration `config` of `c`, as the search builds it.
fn subject(c: &Checked, config: &Config) -> Subject {
    let space = Space::of(&c.model).unwrap().unwrap();
    let m = space.apply(&c.model, config).unwrap();
    Subject::new(format!("{config:?}"), validate(m).unwrap())
}

/// Every configuration cheaper than the answer is in the record, in cost order, each with a
/// reason; nothing else is.
fn assert_minimality_recorded(c: &Checked, g: &GoalResult) {
    let a = g.answer.as_ref().expect("an answer");
    let space = Space::of(&c.model).unwrap().unwrap();
    let (all, _) = space.in_cost_order(&c.model);
    let ranks: Vec<usize> = g.record.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, (0..a.rank).collect::<Vec<_>>(), "{g:#?}");
    for r in &g.record {
        assert!(r.monthly_cost <= a.monthly_cost, "{r:?}");
        assert!(!r.outcome.text().is_empty(), "{r:?}");
        assert!(!matches!(r.outcome, Outcome::Holds), "{r:?}");
        assert_eq!(r.configuration, space.describe(&c.model, &all[r.rank].0));
    }
    assert_eq!(all[a.rank].0, a.config);
}

#[test]
fn the_search_finds_the_smallest_mmc_meeting_a_p95_target() {
    let (rate, target) = (25.0, 0.4);
    let exact = exact_smallest_c(rate, target);
    assert_eq!(exact, 4); // p95 665 ms with 3 servers, 342 ms with 4
    let (c, _) = checked(&mmc(rate, 3, 400, ""));
    let r = search(&c, rate, 7);
    assert_eq!(r.goals.len(), 1);
    let g = &r.goals[0];
    let a = g.answer.as_ref().expect("4 servers hold");
    assert_eq!(a.config, Config(vec![exact]), "{g:#?}");
    assert_eq!(a.monthly_cost, 400.0);
    assert_eq!(a.extra_cost, 100.0);
    assert!(!g.today_holds);
    // 1 and 2 servers are over 100 % busy: ruled out by the utilization law, not simulated;
    // 3 servers are simulated and fail.
    assert!(matches!(&g.record[0].outcome, Outcome::Bound { resource, .. } if resource == "pool"));
    assert!(matches!(g.record[1].outcome, Outcome::Bound { .. }));
    assert!(
        matches!(&g.record[2].outcome, Outcome::Fails { objective, .. } if objective.contains("p(95)")),
        "{:?}",
        g.record[2]
    );
    assert_eq!((g.ruled_out_by_bounds, g.simulated), (2, 2));
    assert_minimality_recorded(&c, g);
    assert_eq!(a.one_less.len(), 1);
    assert!(a.one_less[0].breaks, "{:?}", a.one_less);
    assert_eq!(a.one_less[0].change, "-1 pool server");
    // Other seeds again: the answer holds and one server fewer fails.
    for seed in [101, 202] {
        let answer = subject(&c, &Config(vec![exact]));
        let (_, holds) = Cells::default()
            .settled(&answer, &plan(seed), rate)
            .map(|(_, h)| ((), h))
            .unwrap();
        assert_eq!(holds, Holds::Yes, "seed {seed}");
        let fewer = subject(&c, &Config(vec![exact - 1]));
        let (_, holds) = Cells::default()
            .settled(&fewer, &plan(seed), rate)
            .map(|(_, h)| ((), h))
            .unwrap();
        assert_eq!(holds, Holds::No, "seed {seed}");
    }
    // Its headroom is its breaking point, above this load.
    let h = a.headroom.as_ref().unwrap();
    assert!(h.holds_up_to.unwrap() >= rate, "{h:?}");
}

#[test]
fn a_bigger_instance_can_cost_less_than_more_instances() {
    // 250 requests/s of 10 ms of cpu and a 5 ms read. Two small instances (1 core each) are
    // 125 % busy, and one replica is 125 % busy: both must change. Two big instances (2 cores,
    // 140 EUR) cost 280; a third small one 300 and leaves each core 83 % busy, too slow for
    // the 150 ms p95. So the cheapest answer is vertical: 2 big instances and 2 replicas, 520.
    let src = r#"
let m = model("vertical beats horizontal");
let api = m.app("api", #{ instances: 2, workers: 64, cpus: 1 });
let db = m.database("db", #{ replicas: 1, connections: 1 });
m.endpoint("GET /", 1, [api.compute(exponential(ms(10))), db.read(exponential(ms(5)))]);
m.arrivals(per_sec(250));
m.slo(#{ p95: ms(150), error_rate: 0.001 });
m.scaling(api, #{
    instances: #{ min: 2, max: 4 },
    sizes: [#{ name: "small", cores: 1, price: 100 }, #{ name: "big", cores: 2, price: 140 }],
    size: "small",
});
m.scaling(db, #{ replicas: #{ min: 1, max: 3 }, price: 80 });
"#;
    let (c, _) = checked(src);
    let r = search(&c, 250.0, 3);
    let g = &r.goals[0];
    let a = g.answer.as_ref().expect("an answer");
    // Dimensions: api instances, api size (0 small, 1 big), db replicas.
    assert_eq!(a.config, Config(vec![2, 1, 2]), "{g:#?}");
    assert_eq!(a.monthly_cost, 520.0);
    let changes: Vec<&str> = a.changes.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(changes, ["api small -> big", "+1 db replica"]);
    // Every cheaper configuration is over 100 % somewhere: ruled out without simulation.
    assert_eq!(g.record.len(), 5, "{:#?}", g.record);
    assert!(
        g.record
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Bound { .. }))
    );
    assert_minimality_recorded(&c, g);
    // Removing a unit anywhere breaks it: back to small instances, or to one replica (the
    // instances are at their minimum).
    assert_eq!(a.one_less.len(), 2, "{:?}", a.one_less);
    assert!(a.one_less.iter().all(|o| o.breaks), "{:?}", a.one_less);
    // The obvious fix, a third small instance with the second replica, costs more and fails.
    let horizontal = subject(&c, &Config(vec![3, 0, 2]));
    let (_, holds) = Cells::default()
        .settled(&horizontal, &plan(3), 250.0)
        .unwrap();
    assert_eq!(holds, Holds::No);
}

#[test]
fn the_roadmap_starts_each_change_in_time() {
    // 20/s today growing 7 % a month: 24.5/s at +3 months, 30.0 at +6, 45.0 at +12. With the
    // exact M/M/c and p95 < 450 ms: 4 servers until month 6 (p95 413 ms), 478 ms in month 7;
    // 6 servers at +12 (353 ms; 5 give 686 ms).
    let extra = r#"
m.load_profile(#{ average: per_sec(10), daily_peak: per_sec(20), weekly_peak: per_sec(22) });
m.growth("steady", #{ users: 0.07 });
"#;
    let (c, _) = checked(&mmc(20.0, 4, 450, extra));
    let r = search(&c, 20.0, 11);
    let g = c.model.growth_hypothesis("steady").unwrap();
    for goal in &r.goals {
        let level = goal.goal.level;
        let exact = exact_smallest_c(level, 0.45);
        let a = goal.answer.as_ref().unwrap();
        assert_eq!(a.config, Config(vec![exact]), "{goal:#?}");
        assert_minimality_recorded(&c, goal);
    }
    assert_eq!(r.roadmaps.len(), 1);
    let rm = &r.roadmaps[0];
    let lead_months = 45.0 / 30.4375;
    let changes: Vec<_> = rm.steps.iter().filter(|s| s.event.is_none()).collect();
    assert_eq!(changes.len(), 1, "{rm:#?}");
    let s = changes[0];
    // The first month 4 servers fail: month 7, exactly as the closed form says.
    let first_exact_breach = (0..=12)
        .find(|&m| {
            let l = 20.0 * g.load(m).unwrap();
            MMc::new(l, 10.0, 4)
                .unwrap()
                .response_quantile(0.95)
                .unwrap()
                > 0.45
        })
        .unwrap();
    assert_eq!(s.month, first_exact_breach);
    assert_eq!(s.action, "+2 pool servers");
    // In time: started its lead time before the month it is needed, never after it.
    assert!((s.start_by_month - (f64::from(s.month) - lead_months)).abs() < 1e-9);
    assert!(s.start_by_month + lead_months <= f64::from(s.month) + 1e-9);
    assert!(!s.late);
    assert!(
        s.trigger.contains("pool utilization above"),
        "{}",
        s.trigger
    );
    // Costs: 400 a month until month 6, 600 from month 7.
    let totals: Vec<f64> = rm.months.iter().map(|m| m.total).collect();
    assert_eq!(totals[..7], [400.0; 7]);
    assert_eq!(totals[7..], [600.0; 6]);
}
