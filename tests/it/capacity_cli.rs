//! `capsim run --only capacity` as a user runs it: the real binary on small M/M/c models
//! written to a temporary folder, judged by the four capacity tables, results.json and the
//! summary it prints. Each run takes about a second (30-minute cells, at most 8
//! replications).

use crate::cli::{arg, assert_exit, capsim, read_json, stdout, tempdir};
use serde_json::Value;
use std::path::Path;

/// An M/M/c of 100 ms exponential services at `rate` arrivals/s with `servers` today, the
/// objectives p95 < 450 ms and at most 0.1 % errors, and a server option from 1 to `max` at
/// 100 EUR a month; `extra` (growth, events, costs) after it.
fn mmc(rate: u32, servers: u32, max: u32, costs: &str, extra: &str) -> String {
    format!(
        r#"let m = model("capacity cli");
let pool = m.station("pool", #{{ servers: {servers}, service: exponential(ms(100)) }});
m.endpoint("job", 1, [pool.visit()]);
m.arrivals(per_sec({rate}));
m.slo(#{{ p95: ms(450), error_rate: 0.001 }});
m.costs({costs});
m.scaling(pool, #{{ servers: #{{ min: 1, max: {max}, lead_time: days(45) }}, price: 100 }});
{extra}
"#
    )
}

/// Growth of 7 % a month from a daily peak of 20/s and a campaign that multiplies month 3's
/// peak by 1.5: goals +3, +6, +12 months and the campaign.
const GROWING: &str = r#"m.load_profile(#{ average: per_sec(10), daily_peak: per_sec(20), weekly_peak: per_sec(22) });
m.growth("steady", #{ users: 0.07 });
m.event("campaign", #{ month: 3, multiplier: 1.5, duration: hours(48) });
"#;

/// The capacity tables and their headers.
const TABLES: [(&str, &str); 4] = [
    (
        "capacity.csv",
        "hypothesis,goal,month,level_rps,configuration,currency,monthly_cost,extra_monthly_cost,today_holds,candidates_considered,ruled_out_by_bounds,simulated,headroom_level,holds_until_month,objective,target,unit,estimate,ci_low,ci_high,verdict,note",
    ),
    (
        "capacity_candidates.csv",
        "hypothesis,goal,month,level_rps,rank,configuration,currency,monthly_cost,outcome,reason",
    ),
    (
        "roadmap.csv",
        "hypothesis,month_needed,start_by_month,late,event,action,trigger,configuration,currency,monthly_cost,extra_monthly_cost,reason",
    ),
    (
        "costs.csv",
        "hypothesis,month,component,nodes,size,currency,monthly_cost",
    ),
];

/// Writes `model` into a fresh folder, runs `capsim run model.rhai --only capacity` on it
/// into `out` and asserts exit 0; returns the summary printed.
fn run_capacity(dir: &Path, model: &str) -> String {
    let file = dir.join("model.rhai");
    std::fs::write(&file, model).expect("a writable temporary folder");
    let out = dir.join("out");
    let o = capsim([
        "run",
        arg(&file),
        "--only",
        "capacity",
        "--duration",
        "1800",
        "--replications",
        "8",
        "-q",
        "-o",
        arg(&out),
    ]);
    assert_exit(&o, 0);
    stdout(&o)
}

/// The rows of `file` under `dir/out` as maps from column to value, after checking its header.
fn table(dir: &Path, file: &str) -> Vec<std::collections::HashMap<String, String>> {
    let path = dir.join("out").join(file);
    let (_, header) = TABLES
        .iter()
        .find(|(f, _)| *f == file)
        .expect("a capacity table");
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let got: Vec<String> = r
        .headers()
        .expect("a header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(got.join(","), *header, "{file}");
    r.records()
        .map(|row| {
            let row = row.unwrap_or_else(|e| panic!("{file}: {e}"));
            got.iter()
                .cloned()
                .zip(row.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn capacity_json(dir: &Path) -> Value {
    let json = read_json(&dir.join("out").join("results.json"));
    let c = json["study"]["capacity"].clone();
    assert!(c["goals"].is_array(), "no study.capacity.goals in {json}");
    c
}

/// The summary line that starts with `prefix` (trimmed), or a failure showing the summary.
fn line<'a>(summary: &'a str, prefix: &str) -> &'a str {
    summary
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting `{prefix}` in:\n{summary}"))
}

#[test]
fn a_capacity_run_writes_the_four_tables_and_prints_the_answers_and_the_roadmap() {
    let tmp = tempdir();
    let summary = run_capacity(
        tmp.path(),
        &mmc(20, 4, 8, "#{ currency: \"EUR\" }", GROWING),
    );
    for (file, _) in TABLES {
        assert!(tmp.path().join("out").join(file).is_file(), "no {file}");
    }
    // A row per goal and objective: 3 horizons and the campaign, 2 objectives each.
    let rows = table(tmp.path(), "capacity.csv");
    let goals = ["+3 months", "+6 months", "+12 months", "campaign"];
    let objectives = ["p(95) < 450ms", "error_rate < 0.1%"];
    assert_eq!(rows.len(), goals.len() * objectives.len(), "{rows:#?}");
    for g in goals {
        for o in objectives {
            let n = rows
                .iter()
                .filter(|r| r["goal"] == g && r["objective"] == o)
                .count();
            assert_eq!(n, 1, "{g} / {o}: {rows:#?}");
        }
    }
    for r in &rows {
        assert_eq!(
            (r["hypothesis"].as_str(), r["verdict"].as_str()),
            ("steady", "pass")
        );
        assert_eq!(r["currency"], "EUR");
    }
    // The exact M/M/c: 4 servers hold to month 6 (p95 413 ms at 30/s), 6 at +12 (45/s; 5
    // give 686 ms), 5 through the campaign (36.75/s; 4 give over 900 ms).
    let config = |g: &str| {
        let r = rows.iter().find(|r| r["goal"] == g).unwrap();
        (r["configuration"].clone(), r["monthly_cost"].clone())
    };
    assert_eq!(
        config("+6 months"),
        ("pool: 4 servers".into(), "400".into())
    );
    assert_eq!(
        config("+12 months"),
        ("pool: 6 servers".into(), "600".into())
    );
    assert_eq!(config("campaign"), ("pool: 5 servers".into(), "500".into()));

    // The proof: each goal's candidates in cost order, the answer last.
    let cands = table(tmp.path(), "capacity_candidates.csv");
    let twelve: Vec<_> = cands.iter().filter(|r| r["goal"] == "+12 months").collect();
    let ranks: Vec<&str> = twelve.iter().map(|r| r["rank"].as_str()).collect();
    assert_eq!(ranks, ["0", "1", "2", "3", "4", "5"]);
    assert_eq!(twelve[5]["outcome"], "answer");
    assert!(twelve[..5].iter().all(|r| r["outcome"] != "answer"));

    // The roadmap: +2 servers needed in month 7, started 45 days before.
    let steps = table(tmp.path(), "roadmap.csv");
    let growth = steps
        .iter()
        .find(|r| r["event"].is_empty())
        .expect("a change");
    assert_eq!(
        (growth["month_needed"].as_str(), growth["action"].as_str()),
        ("7", "+2 pool servers")
    );
    assert_eq!(
        growth["start_by_month"],
        format!("{:.2}", 7.0 - 45.0 / 30.4375)
    );

    // Costs: a total per month 0 to 12, each the sum of its month's other rows.
    let costs = table(tmp.path(), "costs.csv");
    let totals: Vec<_> = costs.iter().filter(|r| r["component"] == "total").collect();
    let months: Vec<String> = totals.iter().map(|r| r["month"].clone()).collect();
    assert_eq!(months, (0..=12).map(|m| m.to_string()).collect::<Vec<_>>());
    for t in &totals {
        let parts: f64 = costs
            .iter()
            .filter(|r| r["month"] == t["month"] && r["component"] != "total")
            .map(|r| r["monthly_cost"].parse::<f64>().unwrap())
            .sum();
        let total: f64 = t["monthly_cost"].parse().unwrap();
        assert!(
            (parts - total).abs() < 1e-9,
            "month {}: {parts} vs {total}",
            t["month"]
        );
    }
    let total = |m: usize| totals[m]["monthly_cost"].parse::<f64>().unwrap();
    assert_eq!(
        (total(0), total(6), total(7), total(12)),
        (400.0, 400.0, 600.0, 600.0)
    );
    // The campaign's fifth server for 48 h in month 3, pro rata.
    assert!(
        (total(3) - (400.0 + 100.0 * 2.0 / 30.4375)).abs() < 1e-9,
        "{}",
        total(3)
    );

    let c = capacity_json(tmp.path());
    let goals_json = c["goals"].as_array().unwrap();
    assert_eq!(goals_json.len(), 4);
    assert!(goals_json.iter().all(|g| g["answer"].is_object()), "{c}");
    assert_eq!(
        (c["configurations"].as_u64(), c["over_budget"].as_u64()),
        (Some(8), Some(0))
    );

    let cheapest = line(
        &summary,
        "Cheapest configuration holding every SLO at +12 months (steady): pool: 6 servers: 600 EUR/month (+200 EUR over today)",
    );
    assert!(
        cheapest.contains("start +2 pool servers by month 5.5"),
        "{cheapest}"
    );
    let roadmap = line(&summary, "Roadmap (steady): ");
    assert!(
        roadmap.contains("month 7 (start by 5.5): +2 pool servers"),
        "{roadmap}"
    );
    assert!(!summary.contains("No configuration"), "{summary}");
}

#[test]
fn when_nothing_holds_the_run_names_the_objective_and_the_best_figure_reached() {
    // 25/s needs 4 servers (3 give p95 665 ms); at most 3 are offered. 1 and 2 are over
    // 100 % busy; 3 are simulated and fail.
    let tmp = tempdir();
    let summary = run_capacity(tmp.path(), &mmc(25, 3, 3, "#{ currency: \"EUR\" }", ""));
    let none = line(
        &summary,
        "No configuration within the options and the budget holds every SLO at today's peak: ",
    );
    assert!(
        none.contains("p(95) < 450ms (at best p(95) < 450ms: "),
        "{none}"
    );
    assert!(none.contains(", pool: 3 servers)"), "{none}");
    assert!(!summary.contains("Cheapest configuration"), "{summary}");

    let c = capacity_json(tmp.path());
    let g = &c["goals"][0];
    assert!(g["answer"].is_null(), "{g}");
    let unmet = g["unmet"].as_array().expect("unmet objectives");
    assert!(!unmet.is_empty(), "{g}");
    assert_eq!(unmet[0]["objective"], "p(95) < 450ms");
    assert_eq!(unmet[0]["best_configuration"], "pool: 3 servers");
    assert!(
        unmet[0]["best"]
            .as_str()
            .unwrap()
            .starts_with("p(95) < 450ms: "),
        "{g}"
    );
    // Every configuration is in the record: two by a bound, one simulated.
    assert_eq!(g["record"].as_array().unwrap().len(), 3, "{g}");
    assert_eq!(
        (g["ruled_out_by_bounds"].as_u64(), g["simulated"].as_u64()),
        (Some(2), Some(1))
    );

    let rows = table(tmp.path(), "capacity.csv");
    assert_eq!(rows.len(), unmet.len(), "{rows:#?}");
    assert_eq!(rows[0]["configuration"], "none holds");
    assert_eq!(rows[0]["verdict"], "fail");
    assert!(rows[0]["note"].contains("(pool: 3 servers)"), "{rows:#?}");
    // Nothing to change to: no roadmap step.
    assert!(table(tmp.path(), "roadmap.csv").is_empty());
}

#[test]
fn a_budget_below_every_configuration_that_holds_is_reported_with_those_above_it() {
    // 25/s: today's 4 servers (400 EUR) hold, 3 do not; the budget stops at 300.
    let tmp = tempdir();
    let model = mmc(25, 4, 8, "#{ currency: \"EUR\", budget: 300 }", "");
    let summary = run_capacity(tmp.path(), &model);
    let head = line(&summary, "Capacity: today's configuration");
    assert!(head.contains("budget 300 EUR/month"), "{head}");
    let none = line(
        &summary,
        "No configuration within the options and the budget holds every SLO at today's peak: ",
    );
    assert!(none.contains("pool: 3 servers)"), "{none}");
    assert!(!summary.contains("Cheapest configuration"), "{summary}");
    assert!(
        summary.contains("3 configurations within the budget, 5 above it"),
        "{summary}"
    );

    let c = capacity_json(tmp.path());
    assert_eq!(c["budget"].as_f64(), Some(300.0));
    assert_eq!(
        (c["configurations"].as_u64(), c["over_budget"].as_u64()),
        (Some(3), Some(5))
    );
    let g = &c["goals"][0];
    assert!(g["answer"].is_null(), "{g}");
    assert!(!g["unmet"].as_array().expect("unmet").is_empty(), "{g}");
    // Nothing above the budget was looked at.
    let record = g["record"].as_array().unwrap();
    assert!(
        record
            .iter()
            .all(|r| r["monthly_cost"].as_f64().unwrap() <= 300.0),
        "{g}"
    );
}

#[test]
fn a_budget_below_todays_cost_still_finds_a_cheaper_configuration() {
    // 8/s: today's 4 servers (400 EUR) are above the 300 EUR budget, and 2 servers hold
    // (40 % busy; 1 server gives p95 1.5 s). The roadmap changes to them at once: the
    // configuration in service is above the budget.
    let tmp = tempdir();
    let model = mmc(8, 4, 8, "#{ currency: \"EUR\", budget: 300 }", "");
    let summary = run_capacity(tmp.path(), &model);
    let cheapest = line(
        &summary,
        "Cheapest configuration holding every SLO at today's peak: pool: 2 servers: 200 EUR/month (200 EUR less than today)",
    );
    assert!(
        cheapest.contains("start -2 pool servers by month"),
        "{cheapest}"
    );
    assert!(
        cheapest.contains("costs 400 EUR a month, above the budget"),
        "{cheapest}"
    );
    let c = capacity_json(tmp.path());
    assert_eq!(
        (c["configurations"].as_u64(), c["over_budget"].as_u64()),
        (Some(3), Some(5))
    );
    let g = &c["goals"][0];
    assert_eq!(g["answer"]["monthly_cost"].as_f64(), Some(200.0), "{g}");
    let record = g["record"].as_array().unwrap();
    assert_eq!(record.len(), 1, "{g}");
    assert_eq!(record[0]["configuration"], "pool: 1 server");
}

#[test]
fn when_every_configuration_is_ruled_out_by_a_bound_the_run_says_what_the_bound_proved() {
    // 35/s needs 5 servers; at most 3 are offered, and even 3 would be 117 % busy: no
    // candidate is simulated, each is ruled out by the utilization law.
    let tmp = tempdir();
    let summary = run_capacity(tmp.path(), &mmc(35, 3, 3, "#{ currency: \"EUR\" }", ""));
    let none = line(
        &summary,
        "No configuration within the options and the budget holds every SLO at today's peak: ",
    );
    assert!(
        none.contains(
            "p(95) < 450ms and error_rate < 0.1% together (at best `pool` 117 % busy or more by the utilization law, pool: 3 servers)"
        ),
        "{none}"
    );
    let c = capacity_json(tmp.path());
    let g = &c["goals"][0];
    assert!(g["answer"].is_null(), "{g}");
    assert_eq!(
        (g["ruled_out_by_bounds"].as_u64(), g["simulated"].as_u64()),
        (Some(3), Some(0))
    );
    let unmet = g["unmet"].as_array().expect("unmet objectives");
    assert_eq!(unmet.len(), 1, "{g}");
    assert_eq!(unmet[0]["best_configuration"], "pool: 3 servers");
    let rows = table(tmp.path(), "capacity.csv");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["verdict"], "fail");
    assert!(rows[0]["note"].contains("117 % busy"), "{rows:#?}");
}
