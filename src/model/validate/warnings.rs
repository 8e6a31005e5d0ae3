//! Warnings: what a valid model does that its author probably did not mean.
//!
//! A step whose mean is longer than a scenario's run is allowed (`sec(1e9)` models a call that
//! never returns), but its requests cannot finish within that run, so their latencies are
//! missing from the figures; the author should know before reading them.

use super::{Validator, total_duration};
use crate::format::fmt_duration;
use crate::model::*;

/// Warns, once per endpoint, when its slowest step's mean exceeds the run of a scenario.
pub(super) fn warn_long_steps(v: &mut Validator, scenarios: &[Scenario]) {
    let m = v.model;
    let runs: Vec<(&str, f64)> = scenarios
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                total_duration(s, m.settings.default_duration_s),
            )
        })
        .collect();
    for e in &m.endpoints {
        let Some((label, mean)) = slowest(m, &e.steps) else {
            continue;
        };
        let exceeded: Vec<(&str, f64)> = runs.iter().copied().filter(|r| mean > r.1).collect();
        if let Some(msg) = long_step_message(&label, mean, &exceeded) {
            v.warn(format!("endpoint `{}`", e.name), &e.origin, msg);
        }
    }
}

/// "a `delay` step's mean of 31.7 years exceeds scenario `x`'s run of 1 h: ...".
fn long_step_message(label: &str, mean: f64, exceeded: &[(&str, f64)]) -> Option<String> {
    let head = format!("a `{label}` step's mean of {}", fmt_duration(mean));
    match exceeded {
        [] => None,
        [(name, run)] => Some(format!(
            "{head} exceeds scenario `{name}`'s run of {}: its requests will not finish within the run",
            fmt_duration(*run)
        )),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|(name, run)| format!("`{name}` ({})", fmt_duration(*run)))
                .collect();
            Some(format!(
                "{head} exceeds the runs of scenarios {}: its requests will not finish within them",
                list.join(", ")
            ))
        }
    }
}

/// The step with the longest mean among `steps` (nested ones included), as the script writes
/// it (`db.read`), with that mean in seconds.
fn slowest(m: &Model, steps: &[Step]) -> Option<(String, f64)> {
    let mut best: Option<(String, f64)> = None;
    for s in steps {
        let inner = s.nested().into_iter().filter_map(|n| slowest(m, n));
        for (label, mean) in own_mean(m, s).into_iter().chain(inner) {
            if best.as_ref().is_none_or(|b| mean > b.1) {
                best = Some((label, mean));
            }
        }
    }
    best
}

/// A step's own mean time, with its label; `None` for steps a request does not wait on (an
/// enqueued job) or that only hold other steps (a branch, a repeat).
fn own_mean(m: &Model, s: &Step) -> Option<(String, f64)> {
    let spec = |name: &str| m.resource(name).map(|r| &r.kind);
    let (label, dist) = match s {
        Step::Compute { app, demand } => (format!("{app}.compute"), Some(demand)),
        Step::Visit { station, service } => {
            let own = match spec(station) {
                Some(ResourceKind::Station(st)) => st.service.as_ref(),
                _ => None,
            };
            (format!("{station}.visit"), service.as_ref().or(own))
        }
        Step::Query {
            db, op, service, ..
        } => {
            let verb = if *op == QueryOp::Read {
                "read"
            } else {
                "write"
            };
            (format!("{db}.{verb}"), Some(service))
        }
        Step::CacheGet { cache, .. } => match spec(cache) {
            Some(ResourceKind::Cache(c)) => (format!("{cache}.get"), Some(&c.service)),
            _ => return None,
        },
        Step::Call { external, delay } => {
            let own = match spec(external) {
                Some(ResourceKind::External(x)) => Some(&x.delay),
                _ => None,
            };
            (format!("{external}.call"), delay.as_ref().or(own))
        }
        Step::Delay { delay } => ("delay".to_string(), Some(delay)),
        Step::Enqueue { .. }
        | Step::Branch { .. }
        | Step::Repeat { .. }
        | Step::Labelled { .. } => return None,
    };
    dist.map(|d| (label, d.mean()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_scenario_is_named_with_its_run() {
        let msg = long_step_message("delay", 1e9, &[("x", 3600.0)]).unwrap();
        assert_eq!(
            msg,
            "a `delay` step's mean of 31.7 years exceeds scenario `x`'s run of 60 min: its requests will not finish within the run"
        );
    }

    #[test]
    fn several_scenarios_are_listed_and_none_gives_no_warning() {
        let msg = long_step_message("db.read", 7200.0, &[("a", 60.0), ("b", 3600.0)]).unwrap();
        assert!(
            msg.contains("the runs of scenarios `a` (60 s), `b` (60 min)"),
            "{msg}"
        );
        assert_eq!(long_step_message("delay", 1.0, &[]), None);
    }
}
