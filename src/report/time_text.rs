//! The terminal summary's "where the time goes" block: per endpoint, the resource groups that
//! take the most of the slowest requests' time, the N+1 call-outs, and the groups ranked.

use crate::analysis::results::{Results, ScenarioResults};
use crate::analysis::timing::{GroupLoad, GroupTime, ScopeTime};
use crate::format::{fmt_ms, percent as pct_value, sig3};
use crate::stats::breakdown::SLOW_SHARE;
use std::fmt::Write;

/// Groups named per endpoint.
const TOP: usize = 3;
/// Groups ranked.
const RANKED: usize = 5;

pub(super) fn render(out: &mut String, s: &ScenarioResults, name_width: usize) {
    let Some(t) = &s.time else {
        return;
    };
    let _ = writeln!(
        out,
        "\n  where the time goes (mean per successful request, and over the slowest {} of each endpoint: the requests above its p95)",
        pct_value(SLOW_SHARE)
    );
    for scope in t.scopes.iter() {
        let Some(name) = &scope.endpoint else {
            continue;
        };
        if !scope.mean_ms.is_finite() {
            let _ = writeln!(
                out,
                "    {} no successful responses",
                super::text::dots(name, name_width)
            );
            continue;
        }
        let _ = writeln!(
            out,
            "    {} mean {}, slowest {}: {}",
            super::text::dots(name, name_width),
            fmt_ms(scope.mean_ms),
            fmt_ms(scope.slow_mean_ms),
            top(scope)
        );
        for n in &scope.n_plus_one {
            let _ = writeln!(
                out,
                "      ! N+1: {} visits to {} per request, {} of that database's time",
                sig3(n.visits),
                n.database,
                pct_value(n.db_time_share)
            );
        }
    }
    if !t.bottlenecks.is_empty() {
        let ranked: Vec<String> = t
            .bottlenecks
            .iter()
            .take(RANKED)
            .map(|g| {
                let at = busiest(g).map_or(String::new(), |r| format!(", at {r}"));
                format!(
                    "{} {} busy{at} ({} of the slow requests' time)",
                    g.group,
                    busy(g),
                    pct_value(g.slow_share)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "    busiest (share of the slowest {} of all endpoints' requests together): {}",
            pct_value(SLOW_SHARE),
            ranked.join("; ")
        );
    }
}

/// `mysql replicas 61 % (58 % waiting), flask cpu 30 %, ...`
fn top(scope: &ScopeTime) -> String {
    scope
        .groups
        .iter()
        .filter(|g| g.slow_share >= 0.005)
        .take(TOP)
        .map(group)
        .collect::<Vec<_>>()
        .join(", ")
}

fn group(g: &GroupTime) -> String {
    let waiting = if g.slow_waiting_share >= 0.005 {
        format!(" ({} waiting)", pct_value(g.slow_waiting_share))
    } else {
        String::new()
    };
    format!("{} {}{waiting}", g.group, pct_value(g.slow_share))
}

/// The answers' line on where the time goes: in the scenario and endpoint of
/// [`Results::time_focus`], the groups that take the slowest requests' time, the busiest group
/// with its share of it, and the N+1 call-outs.
pub(super) fn answer(out: &mut String, r: &Results) {
    let Some((s, scope)) = r.time_focus() else {
        return;
    };
    let Some(t) = &s.time else { return };
    let mut line = format!(
        "  Where the time goes (scenario {}): the slowest {} of {} ({} on average): {}",
        s.name,
        pct_value(SLOW_SHARE),
        scope.endpoint.as_deref().unwrap_or("all endpoints"),
        fmt_ms(scope.slow_mean_ms),
        top(scope)
    );
    if let Some(b) = t.bottlenecks.first() {
        let at = busiest(b).map_or(String::new(), |r| format!(" at {r}"));
        line.push_str(&format!(
            "; busiest: {} ({} busy{at}; {} of the time of the slowest {} of all requests)",
            b.group,
            busy(b),
            pct_value(b.slow_share),
            pct_value(SLOW_SHARE)
        ));
    }
    let _ = writeln!(out, "{line}.");
    for sc in t.scopes.iter().filter(|x| !x.n_plus_one.is_empty()) {
        for n in &sc.n_plus_one {
            let _ = writeln!(
                out,
                "  N+1: {} makes {} visits to {} per request ({} of that database's time).",
                sc.endpoint.as_deref().unwrap_or("all endpoints"),
                sig3(n.visits),
                n.database,
                pct_value(n.db_time_share)
            );
        }
    }
}

/// A group's utilization (that of its busiest resource), or `-` without one.
fn busy(g: &GroupLoad) -> String {
    g.utilization
        .as_ref()
        .map_or("-".into(), |u| pct_value(u.mean))
}

/// The busiest resource of a group of several (`flask[2] cpu`); none when the group is one.
fn busiest(g: &GroupLoad) -> Option<&str> {
    (g.busiest != g.group).then_some(g.busiest.as_str())
}
