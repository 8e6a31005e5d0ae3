//! The terminal summary, in the conventions load testers know from k6: the objectives first
//! (`✓ p(95) < 200ms  p(95)=148ms ± 6`), then one row per endpoint, then one row per resource.
//! Every `±` is the half-width of the 95 % confidence interval across replications.

use crate::analysis::results::{FigureIndex, Results, ScenarioResults};
use crate::format::{
    clock, estimate as value_text, fmt_bit_rate, fmt_bytes, fmt_duration, fmt_ms, fmt_pct,
    measured, percent as pct_value, percent1 as pct, rate, sig3, signed_pct1, value,
};
use crate::montecarlo::WarmupRule;
use crate::stats::ci::{MIN_MEANINGFUL_REPLICATIONS, Upper};
use crate::stats::{Metric, RequestMetric as Req, ResourceMetric as Res, Scope, Unit};
use crate::study::accounting::{HORIZONS, SloAccount};
use crate::study::outlook::Projection;
use crate::study::whatif::BreachShift;
use std::fmt::Write;

/// Width of the name column (names are cut with an ellipsis beyond it).
const NAME: usize = 30;

/// Renders the summary of every scenario.
pub fn render(r: &Results) -> String {
    let mut out = String::new();
    answers(&mut out, r);
    for s in &r.scenarios {
        scenario(&mut out, r, s);
    }
    out
}

fn scenario(out: &mut String, r: &Results, s: &ScenarioResults) {
    let _ = writeln!(
        out,
        "\n█ scenario {}{}",
        s.name,
        s.description
            .as_ref()
            .map_or(String::new(), |d| format!(" — {d}"))
    );
    let _ = writeln!(out, "  {}", header_line(r, s));
    if let Some(p) = &s.precision {
        let missed: Vec<String> = p
            .figures
            .iter()
            .filter(|f| !f.reached)
            .map(|f| format!("{} {}", f.scope.name(), f.metric))
            .collect();
        let status = if missed.is_empty() {
            "all SLO figures reached it".to_string()
        } else {
            format!(
                "not reached by {}: {}",
                missed.len(),
                shorten(&missed.join(", "), 160)
            )
        };
        let _ = writeln!(out, "  precision ±{} target: {status}", fmt_pct(p.target));
    }
    for o in &s.overloaded {
        let _ = writeln!(
            out,
            "  ! overloaded: `{}` is offered {} of its capacity at the peak (utilization law): its queue grows for as long as that lasts, so a steady-state figure depends on the run length",
            o.resource,
            pct(o.utilization)
        );
    }
    if s.capped > 0 {
        let _ = writeln!(
            out,
            "  ! saturated: {} attempts or jobs were refused by the cap of {} requests in flight",
            s.capped, r.max_in_flight
        );
    }
    warnings(out, s);
    if !s.slos.is_empty() {
        let _ = writeln!(out, "\n  objectives");
        for c in &s.slos {
            let scope = c
                .endpoint
                .as_ref()
                .map_or(String::new(), |e| format!("{e}: "));
            let label = format!("{scope}{}", c.label);
            let name = c.label.split(' ').next().unwrap_or("");
            let value = value_text(&c.value, c.unit);
            let mark = c.verdict.mark();
            // An unbounded figure reads as a bound: `p(95) > 4min`.
            let eq = if c.value.upper == Upper::Unbounded {
                " "
            } else {
                "="
            };
            let _ = writeln!(out, "    {mark} {} {name}{eq}{value}", dots(&label, 44));
            if let Some(why) = &c.reason {
                let _ = writeln!(out, "        {}: {why}", c.verdict.word());
            }
        }
    }
    breaks(out, r, s);
    stages(out, r, s);
    endpoints(out, s);
    super::time_text::render(out, s, NAME);
    resources(out, r, s);
}

/// The study's answers in plain words, before any table.
fn answers(out: &mut String, r: &Results) {
    let Some(st) = &r.study else {
        return;
    };
    let unit = level_unit(r);
    let _ = writeln!(out, "\n█ answers");
    if !st.projections.is_empty() {
        let parts: Vec<String> = st
            .projections
            .iter()
            .map(|p| {
                let horizon = p.months.last().map_or(0, |m| m.month);
                match &p.first_breach {
                    Some((month, b)) => {
                        format!("breaks {} in month {month} ({})", b.objective, p.hypothesis)
                    }
                    None if p.undecided_months.is_empty() => {
                        format!("holds {horizon} months ({})", p.hypothesis)
                    }
                    None => format!(
                        "no objective fails in {horizon} months ({}), undecided in month(s) {}",
                        p.hypothesis,
                        p.undecided_months
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "  Current configuration (today's peak {} {unit}): {}.",
            sig3(st.base_level),
            parts.join("; ")
        );
    }
    for e in &st.events_at_peak {
        let what = match &e.breach {
            Some(b) => format!(
                "breaks {}{}",
                b.objective,
                b.bottleneck.as_ref().map_or(String::new(), |x| format!(
                    " ({} {} busy)",
                    x.resource,
                    pct_value(x.utilization)
                ))
            ),
            None => match e.point.holds {
                crate::study::Holds::Yes => "holds".to_string(),
                _ => "undecided".to_string(),
            },
        };
        let budget = match (e.budget_consumed_min, e.budget_min) {
            (Some(c), Some(b)) if b > 0.0 => format!(
                "; uses {} min of the 30-day error budget ({})",
                sig3(c),
                pct_value(c / b)
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  Event {} (x{}, {}, month {}, {}): {} {unit} at its peak, {what}{budget}.",
            e.event,
            sig3(e.multiplier),
            fmt_duration(e.duration_s),
            e.month,
            e.hypothesis,
            sig3(e.point.level),
        );
    }
    for w in &st.whatifs {
        let text: Vec<String> =
            w.at.iter()
                .filter_map(|a| {
                    let f = a.figures.iter().find(|f| {
                        f.scope == crate::stats::Scope::Global && f.metric == Metric::latency(95.0)
                    })?;
                    let d = &f.change.relative;
                    Some(format!(
                        "{}: p95 {} [{}, {}]",
                        a.load,
                        signed_pct1(d.mean),
                        pct1(d.ci_low),
                        pct1(d.ci_high)
                    ))
                })
                .collect();
        let held: Vec<&str> = w
            .breach_months
            .iter()
            .filter(|b| b.before.is_none() && b.after.is_none() && b.after_undecided.is_empty())
            .map(|b| b.hypothesis.as_str())
            .collect();
        let mut moves: Vec<String> = w
            .breach_months
            .iter()
            .filter(|b| !held.contains(&b.hypothesis.as_str()))
            .map(breach_shift)
            .collect();
        if let Some(b) = w.breach_months.first().filter(|_| !held.is_empty()) {
            moves.push(format!(
                "holds {} months as the baseline does ({})",
                b.horizon_months,
                held.join(", ")
            ));
        }
        let moves = if moves.is_empty() {
            String::new()
        } else {
            format!("; {}", moves.join("; "))
        };
        let _ = writeln!(out, "  What-if {}: {}{moves}.", w.variant, text.join("; "));
    }
    for p in &st.projections {
        volume(out, p);
    }
    accounts(out, &st.slo_accounts, unit);
    if let Some(bp) = &st.breaking_point {
        let today = sig3(bp.base_level);
        let range = match (bp.holds_up_to, bp.fails_from) {
            (Some(lo), Some(hi)) => format!(
                "{}-{} {unit} (today {today}: x{}-{})",
                sig3(lo),
                sig3(hi),
                sig3(lo / bp.base_level),
                sig3(hi / bp.base_level)
            ),
            (Some(lo), None) => format!(
                "beyond {} {unit}, the farthest level simulated (today {today})",
                sig3(lo)
            ),
            (None, Some(hi)) => format!(
                "below today's load: the objectives fail from {} {unit} (today {today})",
                sig3(hi)
            ),
            (None, None) => "undecided at every level simulated".to_string(),
        };
        let confirmed = if bp.confirmed {
            "both ends confirmed with fresh seeds"
        } else {
            "not confirmed with fresh seeds: read it as approximate"
        };
        let _ = writeln!(out, "  Breaking point: {range}; {confirmed}.");
        if let Some((objective, level)) = &bp.first_to_break {
            let busiest = bp.bottleneck.as_ref().map_or(String::new(), |b| {
                format!(
                    "; bottleneck: {} ({} busy)",
                    b.resource,
                    pct_value(b.utilization)
                )
            });
            let _ = writeln!(
                out,
                "  First to break: {objective} at {} {unit}{busiest}.",
                sig3(*level)
            );
        }
    }
    super::time_text::answer(out, r);
    super::capacity_text::answer(out, r, unit);
    let _ = writeln!(
        out,
        "  (study: {} cells of {} simulated each, warm-up {} left out, {} to {} replications per cell, seed {})",
        st.cells,
        fmt_duration(st.plan.horizon_s),
        fmt_duration(st.plan.warmup.seconds),
        st.plan.first_look,
        st.plan.max_replications,
        st.plan.seed
    );
}

/// A relative change as a percentage with one decimal: `-41.3%`.
fn pct1(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Whether a variant moves a hypothesis's breach: "moves the optimistic breach from month 7
/// to beyond 12".
fn breach_shift(b: &BreachShift) -> String {
    let (h, horizon) = (&b.hypothesis, b.horizon_months);
    let undecided = if b.after.is_none() && !b.after_undecided.is_empty() {
        format!(
            " (undecided in month(s) {})",
            b.after_undecided
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    let text = match (b.before, b.after) {
        (Some(x), Some(y)) if y > x => format!("moves the {h} breach from month {x} to month {y}"),
        (Some(x), Some(y)) if y < x => {
            format!("brings the {h} breach forward from month {x} to month {y}")
        }
        (Some(x), Some(_)) => format!("keeps the {h} breach in month {x}"),
        (Some(x), None) => format!("moves the {h} breach from month {x} to beyond {horizon}"),
        (None, Some(y)) => {
            format!("breaks in month {y} ({h}), where the baseline holds {horizon} months")
        }
        (None, None) => format!("{h}: holds {horizon} months, as the baseline"),
    };
    format!("{text}{undecided}")
}

/// The months of table 3.2: today and each of [`HORIZONS`] within the projection.
fn table_months(p: &Projection) -> impl Iterator<Item = &crate::study::volume::MonthVolume> {
    p.volume
        .iter()
        .filter(|v| v.month == 0 || HORIZONS.contains(&v.month))
}

fn month_word(month: u32) -> String {
    if month == 0 {
        "now".into()
    } else {
        format!("+{month} mo")
    }
}

/// One hypothesis's data volume: bandwidth at the peak and each database's size, now and at
/// +3/+6/+12 months.
fn volume(out: &mut String, p: &Projection) {
    let bandwidth: Vec<String> = table_months(p)
        .filter_map(|v| {
            let b = v.bandwidth_gbps.as_ref()?;
            Some(format!(
                "{} {}",
                fmt_bit_rate(b.mean * 1e9),
                month_word(v.month)
            ))
        })
        .collect();
    let mut parts = Vec::new();
    if !bandwidth.is_empty() {
        parts.push(format!("bandwidth at peak {}", bandwidth.join(", ")));
    }
    let names: Vec<&str> = p
        .volume
        .first()
        .map(|v| v.databases.iter().map(|d| d.database.as_str()).collect())
        .unwrap_or_default();
    for (k, name) in names.iter().enumerate() {
        let sizes: Vec<String> = table_months(p)
            .filter_map(|v| {
                let d = v.databases.get(k)?;
                Some(format!("{} {}", fmt_bytes(d.bytes), month_word(v.month)))
            })
            .collect();
        parts.push(format!("{name} {}", sizes.join(", ")));
    }
    if parts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  Data volume ({}): {}.",
        p.hypothesis,
        parts.join("; ")
    );
}

/// The SLO accounts: error budget, Apdex, and the verdicts, today and at each horizon.
fn accounts(out: &mut String, accounts: &[SloAccount], unit: &str) {
    let Some(first) = accounts.first() else {
        return;
    };
    let header = match &first.budget {
        Some(b) => format!(
            "error budget of {} over {} days: {} min, used at the peak's simulated error rate held all {} days (an upper bound)",
            b.objective,
            sig3(b.window_days),
            sig3(b.budget_min),
            sig3(b.window_days)
        ),
        None => "no availability or error-rate objective: no error budget".to_string(),
    };
    let _ = writeln!(out, "  SLO accounting ({header}):");
    for a in accounts {
        let mut parts = Vec::new();
        if let Some(b) = &a.budget {
            let c = &b.consumed_min;
            let mut left = if b.remaining_min >= 0.0 {
                format!("{} min left", sig3(b.remaining_min))
            } else {
                format!("overspent by {} min", sig3(-b.remaining_min))
            };
            if b.remaining_min >= 0.0 && b.remaining_min_worst < 0.0 {
                left.push_str(&format!(
                    " (at the interval's upper end overspent by {} min)",
                    sig3(-b.remaining_min_worst)
                ));
            }
            parts.push(format!(
                "uses {} min [{}, {}], {left}",
                sig3(c.mean),
                sig3(c.ci_low),
                sig3(c.ci_high)
            ));
        }
        for x in &a.apdex {
            let scope = x
                .endpoint
                .as_ref()
                .map_or(String::new(), |e| format!("{e} "));
            parts.push(format!(
                "{scope}Apdex(T {}) {} [{}, {}] {} target {}",
                fmt_ms(x.t_ms),
                measured(x.value.mean, Unit::Score),
                measured(x.value.ci_low, Unit::Score),
                measured(x.value.ci_high, Unit::Score),
                x.verdict.mark(),
                sig3(x.target)
            ));
        }
        let (pass, fail, open) = a.tally();
        let mut verdicts = format!("{pass} ✓ {fail} ✗ {open} ?");
        let named = |v: crate::analysis::slo::Verdict| -> Vec<String> {
            a.verdicts
                .iter()
                .filter(|c| c.verdict == v)
                .map(|c| c.objective())
                .collect()
        };
        let failing = named(crate::analysis::slo::Verdict::Fail);
        if !failing.is_empty() {
            verdicts.push_str(&format!(" (fail: {})", shorten(&failing.join(", "), 160)));
        }
        let open_named = named(crate::analysis::slo::Verdict::Inconclusive);
        if !open_named.is_empty() {
            verdicts.push_str(&format!(
                " (inconclusive: {})",
                shorten(&open_named.join(", "), 160)
            ));
        }
        parts.push(verdicts);
        let _ = writeln!(
            out,
            "    {} at {} {unit}: {}.",
            a.when,
            sig3(a.level),
            parts.join(" · ")
        );
    }
}

/// The measured bottleneck and the first objective to fail.
fn breaks(out: &mut String, r: &Results, s: &ScenarioResults) {
    let Some(b) = &s.bottleneck else {
        return;
    };
    let _ = writeln!(out, "\n  what breaks");
    let _ = writeln!(out, "    bottleneck: {}", bottleneck_text(b));
    if let Some(f) = &s.first_failure {
        let shown = |x: f64| match f.unit {
            Unit::Ratio => pct_value(x),
            u => value(x, u),
        };
        let at = match f.stage.and_then(|k| s.stages.get(k - 1)) {
            Some(st) => format!(
                "first in stage {} ({} {}, {}-{})",
                st.index,
                st.label,
                level_unit(r),
                clock(st.span.start_s),
                clock(st.span.end_s),
            ),
            None => "over the whole run".to_string(),
        };
        let _ = writeln!(
            out,
            "    first objective to fail: {} — {at}: {} against {}",
            f.objective,
            shown(f.value),
            shown(f.threshold)
        );
    }
}

fn bottleneck_text(b: &crate::analysis::breaks::Bottleneck) -> String {
    let mut t = format!("{} at {} busy", b.resource, pct_value(b.utilization));
    let mut detail = Vec::new();
    if let Some(q) = b.queue_mean {
        detail.push(format!("queue {}", sig3(q)));
    }
    if let Some(w) = b.wait_p95_ms {
        detail.push(format!("wait p95 {}", fmt_ms(w)));
    }
    if !detail.is_empty() {
        t.push_str(&format!(" ({})", detail.join(", ")));
    }
    if !b.saturated_held.is_empty() {
        let held: Vec<String> = b
            .saturated_held
            .iter()
            .map(|(n, u)| format!("{n} {}", pct_value(*u)))
            .collect();
        t.push_str(&format!(
            "; held near 100 %: {}",
            shorten(&held.join(", "), 140)
        ));
    }
    t
}

fn level_unit(r: &Results) -> &'static str {
    if r.closed_workload { "users" } else { "req/s" }
}

/// A load test's stages, each measured on its own: where the peak's figures show.
fn stages(out: &mut String, r: &Results, s: &ScenarioResults) {
    if s.stages.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n  {:<w$} {:>13} {:>8} {:>9} {:>9} {:>8}  busiest resource",
        "stages",
        "time",
        level_unit(r),
        "req/s",
        "p95",
        "errors",
        w = NAME + 2
    );
    for st in &s.stages {
        let sp = &st.span;
        let busiest = st.bottleneck.as_ref().map_or("-".into(), |b| {
            let held = match b.saturated_held.len() {
                0 => String::new(),
                n => format!(" (+{n} held near 100%)"),
            };
            format!("{} {}{held}", b.resource, pct(b.utilization))
        });
        let broken = if st.broken.is_empty() {
            String::new()
        } else {
            format!("  ✗ {}", shorten(&st.broken.join(", "), 80))
        };
        let _ = writeln!(
            out,
            "    {} {:>13} {:>8} {:>9} {:>9} {:>8}  {busiest}{broken}",
            dots(&format!("{} {}", st.index, st.label), NAME),
            format!("{}-{}", clock(sp.start_s), clock(sp.end_s)),
            sig3(sp.level),
            sig3(sp.throughput_rps),
            sp.p95_ms.map_or("-".into(), fmt_ms),
            pct_value(sp.error_rate),
        );
    }
}

/// What a reader must know before trusting the figures: too few replications for intervals
/// to mean much, and requests that had no response when the runs ended.
fn warnings(out: &mut String, s: &ScenarioResults) {
    if s.replications < MIN_MEANINGFUL_REPLICATIONS {
        let _ = writeln!(
            out,
            "  ! {} replication(s): intervals this wide decide little (Student t = {}); run {} or more",
            s.replications,
            sig3(s.student_t()),
            MIN_MEANINGFUL_REPLICATIONS
        );
    }
    let u = &s.unfinished;
    if !u.endpoints.is_empty() {
        let _ = writeln!(
            out,
            "  ! unfinished: {} request(s) ({} of those sent) had no response when the runs ended, the oldest after {} ({}): latency figures count each at its age, as at least that slow, and verdicts allow for their never ending",
            u.requests,
            pct_value(u.share),
            fmt_duration(u.oldest_s),
            shorten(&u.endpoints.join(", "), 120)
        );
    }
}

fn header_line(r: &Results, s: &ScenarioResults) -> String {
    let level = FigureIndex::new(s)
        .get(&Scope::Load, Metric::LevelMax)
        .map_or(0.0, |e| e.mean);
    let unit = if r.closed_workload {
        "users"
    } else {
        "req/s offered"
    };
    let warm = match s.warmup.rule {
        WarmupRule::None => "whole run reported".to_string(),
        WarmupRule::Fixed => format!(
            "warm-up {} left out (fixed)",
            fmt_duration(s.warmup.seconds)
        ),
        WarmupRule::Mser5 => format!(
            "warm-up {} left out (MSER-5)",
            fmt_duration(s.warmup.seconds)
        ),
    };
    format!(
        "peak {} {unit} · {} simulated · {} replications · {warm}",
        sig3(level),
        fmt_duration(s.horizon_s),
        s.replications
    )
}

fn endpoints(out: &mut String, s: &ScenarioResults) {
    let _ = writeln!(
        out,
        "\n  {:<w$} {:>9} {:>14} {:>16} {:>16} {:>9}",
        "endpoints",
        "req/s",
        "p50",
        "p95",
        "p99",
        "errors",
        w = NAME + 2
    );
    let figures = FigureIndex::new(s);
    let throughput = Metric::Request(Req::Throughput);
    let mut scopes: Vec<&Scope> = s
        .figures
        .iter()
        .filter(|f| matches!(f.key.scope, Scope::Endpoint(_)) && f.key.metric == throughput)
        .map(|f| &f.key.scope)
        .collect();
    scopes.push(&Scope::Global);
    for scope in scopes {
        let get = |m: Req| figures.get(scope, Metric::Request(m));
        let rps = get(Req::Throughput).map_or("-".into(), |e| sig3(e.mean));
        let ms = |p: f64| {
            figures
                .get(scope, Metric::latency(p))
                .map_or("-".into(), |e| value_text(e, Unit::Ms))
        };
        let err = get(Req::ErrorRate).map_or("-".into(), |e| pct_value(e.mean));
        let name = if *scope == Scope::Global {
            "all endpoints".into()
        } else {
            scope.name()
        };
        let _ = writeln!(
            out,
            "    {} {:>9} {:>14} {:>16} {:>16} {:>9}",
            dots(&name, NAME),
            rps,
            ms(50.0),
            ms(95.0),
            ms(99.0),
            err
        );
    }
}

fn resources(out: &mut String, r: &Results, s: &ScenarioResults) {
    let _ = writeln!(
        out,
        "\n  {:<w$} {:>17} {:>9} {:>9} {:>11} {:>10} {:>10}",
        "resources",
        "utilization",
        "queue",
        "avg max q",
        "wait p95",
        "rejected",
        "timeouts",
        w = NAME + 2
    );
    let figures = FigureIndex::new(s);
    for res in &r.resources {
        let scope = Scope::Resource(res.name.clone());
        let get = |m: Res| figures.get(&scope, Metric::Resource(m));
        let util = match get(Res::Utilization) {
            Some(e) => value_text(e, Unit::Ratio),
            None => get(Res::InUseMean).map_or("-".into(), |e| format!("{} busy", sig3(e.mean))),
        };
        let q = get(Res::QueueMean).map_or("-".into(), |e| sig3(e.mean));
        let qmax = get(Res::QueueMax).map_or("-".into(), |e| sig3(e.mean));
        let wait = get(Res::WaitP95)
            .filter(|e| e.mean.is_finite())
            .map_or("-".into(), |e| fmt_ms(e.mean));
        let rej = get(Res::RejectRate).map_or("-".into(), |e| rate(e.mean));
        let tmo = get(Res::TimeoutRate).map_or("-".into(), |e| rate(e.mean));
        let _ = writeln!(
            out,
            "    {} {:>17} {:>9} {:>9} {:>11} {:>10} {:>10}",
            dots(&res.name, NAME),
            util,
            q,
            qmax,
            wait,
            rej,
            tmo
        );
    }
    let _ = writeln!(
        out,
        "    (queue: requests waiting, time-averaged; avg max q: each replication's longest queue, averaged over replications)"
    );
}

/// `name.......` padded with leader dots to `width`, as k6 does.
pub(super) fn dots(name: &str, width: usize) -> String {
    let name = shorten(name, width);
    let n = name.chars().count();
    if n + 1 >= width {
        return format!("{name} ");
    }
    format!("{name} {}", ".".repeat(width - n - 1))
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaders_pad_names_to_a_column() {
        assert_eq!(dots("nginx", 10), "nginx ....");
        assert_eq!(dots("a-very-long-endpoint-name", 10), "a-very-lo… ");
    }
}
