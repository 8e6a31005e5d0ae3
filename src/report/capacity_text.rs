//! The terminal summary's capacity answers: which goals today's configuration already holds,
//! the cheapest configuration for each other goal with its cost, its proof of minimality in
//! one line and its headroom, and each hypothesis's roadmap.

use crate::analysis::results::Results;
use crate::format::sig3;
use crate::study::capacity::roadmap::{Roadmap, RoadmapStep};
use crate::study::capacity::{CapacityResults, GoalResult, When};
use std::fmt::Write;

/// An amount of money: whole when it is, else with cents.
pub fn money(x: f64, currency: &str) -> String {
    if (x - x.round()).abs() < 0.005 {
        format!("{:.0} {currency}", x.round())
    } else {
        format!("{x:.2} {currency}")
    }
}

/// An amount against today's: `+115 EUR over today`, `65 EUR less than today`.
fn against_today(x: f64, currency: &str) -> String {
    if x >= 0.0 {
        format!("+{} over today", money(x, currency))
    } else {
        format!("{} less than today", money(-x, currency))
    }
}

/// A month with a fraction, as a roadmap starts changes: `10.5`.
pub fn month(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn goal_name(g: &GoalResult) -> String {
    match (&g.goal.when, &g.goal.hypothesis) {
        (When::Event { event, .. }, Some(h)) => {
            format!("through {event} ({h}, month {})", g.goal.month)
        }
        (When::Event { event, .. }, None) => format!("through {event}"),
        (_, Some(h)) => format!("at {} ({h})", g.goal.label()),
        (_, None) => "at today's peak".to_string(),
    }
}

/// The roadmap step that brings `g`'s answer into service, if one does.
fn step_for<'a>(c: &'a CapacityResults, g: &GoalResult) -> Option<&'a RoadmapStep> {
    let a = g.answer.as_ref()?;
    let h = g.goal.hypothesis.as_deref().unwrap_or("today");
    let rm = c.roadmaps.iter().find(|r| r.hypothesis == h)?;
    let event = match &g.goal.when {
        When::Event { event, .. } => Some(event.as_str()),
        _ => None,
    };
    rm.steps
        .iter()
        .find(|s| s.event.as_deref() == event && s.configuration == a.configuration)
}

pub(super) fn answer(out: &mut String, r: &Results, unit: &str) {
    if let Some(why) = r.study.as_ref().and_then(|s| s.capacity_skipped.as_ref()) {
        let _ = writeln!(out, "  Capacity: {why}.");
    }
    let Some(c) = r.study.as_ref().and_then(|s| s.capacity.as_ref()) else {
        return;
    };
    let cur = c.currency.as_str();
    let budget = c.budget.map_or(String::new(), |b| {
        format!("; budget {}/month", money(b, cur))
    });
    let _ = writeln!(
        out,
        "  Capacity: today's configuration ({}) costs {}/month{budget}.",
        c.today.configuration,
        money(c.today.monthly_cost, cur)
    );
    let mut held: Vec<(Option<&str>, Vec<String>)> = Vec::new();
    for g in c
        .goals
        .iter()
        .filter(|g| g.answer.as_ref().is_some_and(|a| a.changes.is_empty()))
    {
        let h = g.goal.hypothesis.as_deref();
        match held.iter_mut().find(|(x, _)| *x == h) {
            Some((_, labels)) => labels.push(g.goal.label()),
            None => held.push((h, vec![g.goal.label()])),
        }
    }
    if !held.is_empty() {
        let groups: Vec<String> = held
            .iter()
            .map(|(h, labels)| match h {
                Some(h) => format!("{h}: {}", labels.join(", ")),
                None => labels.join(", "),
            })
            .collect();
        let _ = writeln!(
            out,
            "  Today's configuration already holds every SLO ({}).",
            groups.join("; ")
        );
    }
    for g in &c.goals {
        let Some(a) = &g.answer else {
            let unmet: Vec<String> = g
                .unmet
                .iter()
                .map(|u| {
                    format!(
                        "{} (at best {}, {})",
                        u.objective, u.best, u.best_configuration
                    )
                })
                .collect();
            let why = if unmet.is_empty() {
                "no candidate could be simulated".to_string()
            } else {
                unmet.join("; ")
            };
            let _ = writeln!(
                out,
                "  No configuration within the options and the budget holds every SLO {}: {why}.",
                goal_name(g)
            );
            continue;
        };
        if a.changes.is_empty() {
            continue;
        }
        let start = step_for(c, g).map_or(String::new(), |s| {
            let late = if s.late {
                ", late: its lead time does not fit"
            } else {
                ""
            };
            let trigger = if s.trigger == "-" {
                String::new()
            } else {
                format!("; trigger: {}", s.trigger)
            };
            format!(
                "; start {} by month {}{late}{trigger}",
                s.action,
                month(s.start_by_month)
            )
        });
        let _ = writeln!(
            out,
            "  Cheapest configuration holding every SLO {}: {}: {}/month ({}){start}.",
            goal_name(g),
            a.configuration,
            money(a.monthly_cost, cur),
            against_today(a.extra_cost, cur)
        );
        let cheaper = g.record.len();
        let by_bound = g.ruled_out_by_bounds;
        let simulated = g.record.iter().filter(|x| x.outcome.simulated()).count();
        let invalid = cheaper - by_bound - simulated;
        let invalid = if invalid > 0 {
            format!(", {invalid} not a valid model")
        } else {
            String::new()
        };
        let less: Vec<String> = a
            .one_less
            .iter()
            .map(|o| {
                let verdict = if o.breaks {
                    "breaks"
                } else {
                    "not shown to break"
                };
                format!("{} {verdict} ({})", o.change, o.reason)
            })
            .collect();
        let less = if less.is_empty() {
            "every option is at its minimum".to_string()
        } else {
            less.join("; ")
        };
        let head = a.headroom.as_ref().map_or(String::new(), |h| {
            let upto = h.holds_up_to.map_or("-".to_string(), sig3);
            let margin = h.margin.map_or(String::new(), |m| {
                format!(" ({:+.0} % over this goal)", 100.0 * m)
            });
            let until = match (h.holds_until_month, h.beyond_horizon) {
                (_, true) => ", beyond the hypothesis's horizon".to_string(),
                (Some(m), false) => format!(", until month {m}"),
                (None, false) => String::new(),
            };
            format!("; headroom: holds up to {upto} {unit}{margin}{until}")
        });
        let _ = writeln!(
            out,
            "    minimal: {cheaper} cheaper configuration(s) ruled out ({simulated} simulated, {by_bound} by a bound{invalid}); one unit less: {less}{head}."
        );
    }
    for rm in &c.roadmaps {
        roadmap(out, rm, cur);
    }
    let _ = writeln!(
        out,
        "  (capacity: {} configurations within the budget, {} above it; {} candidates over {} goals, {} ruled out by a bound, {} simulated; {} cells)",
        c.configurations,
        c.over_budget,
        c.considered,
        c.goals.len(),
        c.ruled_out_by_bounds,
        c.simulated,
        c.cells
    );
}

fn roadmap(out: &mut String, rm: &Roadmap, cur: &str) {
    let changes: Vec<String> = rm
        .steps
        .iter()
        .filter(|s| !s.changes.is_empty())
        .map(|s| {
            format!(
                "month {} (start by {}): {}",
                s.month,
                month(s.start_by_month),
                s.action
            )
        })
        .collect();
    let first = rm.months.first().map_or(0.0, |m| m.total);
    let last = rm.months.last();
    let cost = last.map_or(String::new(), |l| {
        format!(
            "; {}/month today, {}/month in month {}",
            money(first, cur),
            money(l.total, cur),
            l.month
        )
    });
    let what = if changes.is_empty() {
        "no change".to_string()
    } else {
        changes.join("; ")
    };
    let note = rm.note.as_ref().map_or(String::new(), |n| format!("; {n}"));
    let _ = writeln!(out, "  Roadmap ({}): {what}{cost}{note}.", rm.hypothesis);
}
