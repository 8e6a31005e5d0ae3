//! The rules that keep a run's work and memory within what the engine supports: the model-wide
//! maxima of [`crate::model::limits`], the steps one request runs, and the load a scenario's
//! stages ask for.

use super::Validator;
use crate::format::sig3;
use crate::model::*;

/// Refuses a model beyond the supported maxima (endpoints, resources, app instances, steps,
/// scenarios); each message names the limit.
pub(super) fn check_model_size(v: &mut Validator) {
    let m = v.model;
    let instances: u64 = m
        .resources
        .iter()
        .filter_map(|r| match &r.kind {
            ResourceKind::App(a) => Some(u64::from(a.instances)),
            _ => None,
        })
        .sum();
    let steps: usize = m.endpoints.iter().map(|e| count_steps(&e.steps)).sum();
    let rules = [
        (m.endpoints.len() as u64, MAX_ENDPOINTS as u64, "endpoints"),
        (m.resources.len() as u64, MAX_RESOURCES as u64, "resources"),
        (
            instances,
            MAX_TOTAL_INSTANCES,
            "app instances over all apps",
        ),
        (
            steps as u64,
            MAX_STEPS as u64,
            "steps over all endpoints (nested steps included, a repeat's body once)",
        ),
        (m.scenarios.len() as u64, MAX_SCENARIOS as u64, "scenarios"),
        (m.slos.len() as u64, MAX_SLOS as u64, "objectives"),
        (
            m.growth.len() as u64,
            MAX_GROWTH_HYPOTHESES as u64,
            "growth hypotheses",
        ),
        (m.events.len() as u64, MAX_EVENTS as u64, "events"),
        (m.variants.len() as u64, MAX_VARIANTS as u64, "variants"),
        (
            variant_steps(m) as u64,
            MAX_VARIANT_STEPS as u64,
            "steps over all its variants' models",
        ),
    ];
    for (n, max, what) in rules {
        if n > max {
            let msg = format!("has {n} {what}; at most {max} are supported");
            v.error(v.model_item(), &m.origin, msg);
        }
    }
    check_dist_parts(v);
}

/// Steps over the endpoints of all the variants' models.
pub(crate) fn variant_steps(m: &Model) -> usize {
    let models = m.variants.iter().map(|v| &*v.model);
    models
        .flat_map(|x| x.endpoints.iter())
        .map(|e| count_steps(&e.steps))
        .sum()
}

/// Refuses a model whose distributions, counted at each use, have more than
/// [`MAX_MODEL_DIST_PARTS`] parts: the engine compiles each use into a sampler with its own
/// copy of the samples.
fn check_dist_parts(v: &mut Validator) {
    let m = v.model;
    let mut total = 0_usize;
    for d in model_dists(m) {
        total = total.saturating_add(d.parts_within(MAX_MODEL_DIST_PARTS));
        if total > MAX_MODEL_DIST_PARTS.saturating_mul(1000) {
            break;
        }
    }
    if total > MAX_MODEL_DIST_PARTS {
        let msg = format!(
            "its distributions have {total} parts over all their uses (an empirical list's samples \
             and a mixture's components count at each use); at most {MAX_MODEL_DIST_PARTS} are \
             supported, since each use is compiled with its own copy: use long empirical lists in \
             fewer places"
        );
        v.error(v.model_item(), &m.origin, msg);
    }
}

/// Every use of a distribution in a model: resources' own times, steps, backoffs, think time
/// and inter-arrival time.
fn model_dists(m: &Model) -> Vec<&Dist> {
    let mut out = Vec::new();
    for r in &m.resources {
        match &r.kind {
            ResourceKind::Station(s) => out.extend(s.service.as_ref()),
            ResourceKind::Proxy(p) => out.push(&p.service),
            ResourceKind::Cache(c) => out.push(&c.service),
            ResourceKind::External(x) => out.push(&x.delay),
            _ => {}
        }
    }
    for e in &m.endpoints {
        step_dists(&e.steps, &mut out);
        out.extend(e.retry.as_ref().map(|r| &r.backoff));
    }
    match &m.workload {
        Some(Workload::Closed { think, .. }) => out.push(think),
        Some(Workload::Open {
            arrivals: Arrivals::Renewal { interarrival },
        }) => out.push(interarrival),
        _ => {}
    }
    out
}

fn step_dists<'m>(steps: &'m [Step], out: &mut Vec<&'m Dist>) {
    for s in steps {
        match s {
            Step::Compute { demand: d, .. }
            | Step::Query { service: d, .. }
            | Step::Enqueue { service: d, .. }
            | Step::Delay { delay: d } => out.push(d),
            Step::Visit { service, .. } => out.extend(service.as_ref()),
            Step::Call { delay, .. } => out.extend(delay.as_ref()),
            _ => {}
        }
        for inner in s.nested() {
            step_dists(inner, out);
        }
    }
}

/// Steps in a list, nested ones included; a repeat's body counts once.
pub(super) fn count_steps(steps: &[Step]) -> usize {
    Step::count_within(steps, usize::MAX)
}

/// Refuses an endpoint whose one request could run more than [`MAX_STEPS_PER_REQUEST`] steps:
/// nested repeats multiply (`repeat(1000, [repeat(1000, [...])])`), and a request is simulated
/// in one go, so such a run would look like a hang.
pub(super) fn check_request_length(v: &mut Validator, item: &str, e: &Endpoint) {
    let attempts = 1.0 + e.retry.as_ref().map_or(0.0, |r| f64::from(r.count));
    let most = attempts * steps_per_request(&e.steps);
    if most > MAX_STEPS_PER_REQUEST {
        let msg = format!(
            "one request may run {} steps (repeat counts multiplied through their nesting, retries included); \
             at most {} are supported: lower the repeat counts",
            sig3(most),
            sig3(MAX_STEPS_PER_REQUEST)
        );
        v.error(item.to_string(), &e.origin, msg);
    }
}

/// Most steps one pass through `steps` runs: repeats multiply, a branch takes its longer side,
/// a cache get may run its miss steps and a set.
fn steps_per_request(steps: &[Step]) -> f64 {
    let one = |s: &Step| match s {
        Step::Repeat { times, steps } => f64::from(*times) * steps_per_request(steps),
        Step::Branch {
            then, otherwise, ..
        } => 1.0 + steps_per_request(then).max(steps_per_request(otherwise)),
        Step::CacheGet { miss, .. } => 2.0 + steps_per_request(miss),
        Step::Labelled { inner, .. } => steps_per_request(std::slice::from_ref(&**inner)),
        _ => 1.0,
    };
    steps.iter().map(one).sum()
}

/// Refuses load levels beyond what the workload supports: at most [`MAX_USERS`] users (and
/// [`MAX_USER_CHANGES`] user starts and stops over the stages) for a closed workload, at most
/// [`MAX_RATE_PER_S`] arrivals per second for an open one.
pub(super) fn check_scenario_levels(v: &mut Validator, s: &Scenario, item: &str) {
    let Some(w) = &v.model.workload else {
        return;
    };
    let (max, unit) = if w.is_closed() {
        (f64::from(MAX_USERS), "users")
    } else {
        (MAX_RATE_PER_S, "arrivals per second")
    };
    let start = s.start_level.map(|l| ("the start level".to_string(), l));
    let targets = s.stages.iter().enumerate();
    let targets = targets.map(|(i, st)| (format!("stage {}", i + 1), st.target));
    for (what, level) in start.into_iter().chain(targets) {
        if level > max {
            let msg = format!(
                "{what} asks for {} {unit}; at most {} are supported",
                sig3(level),
                sig3(max)
            );
            v.error(item.to_string(), &s.origin, msg);
        }
    }
    let changes = user_changes(s.start_level.unwrap_or(0.0), &s.stages);
    if w.is_closed() && changes > MAX_USER_CHANGES {
        let msg = format!(
            "its stages start and stop users {} times; at most {} are supported: use fewer or smaller stages",
            sig3(changes),
            sig3(MAX_USER_CHANGES)
        );
        v.error(item.to_string(), &s.origin, msg);
    }
}

/// User starts and stops a closed scenario's stages imply: the engine follows the whole part
/// of the level, one user at a time.
fn user_changes(start: f64, stages: &[Stage]) -> f64 {
    let mut level = start.max(0.0).floor();
    let mut total = level;
    for st in stages {
        let next = st.target.max(0.0).floor();
        total += (next - level).abs();
        level = next;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> Step {
        Step::Delay {
            delay: Dist::constant(0.001).unwrap(),
        }
    }

    #[test]
    fn a_repeat_body_counts_once_and_nested_steps_count() {
        let body = vec![step(), step()];
        let steps = vec![
            Step::Repeat {
                times: 1000,
                steps: body,
            },
            step(),
        ];
        assert_eq!(count_steps(&steps), 4);
        assert_eq!(steps_per_request(&steps), 2001.0);
    }

    #[test]
    fn user_changes_follow_the_stages_up_and_down() {
        let stage = |target| Stage {
            duration_s: 60.0,
            target,
        };
        assert_eq!(
            user_changes(10.0, &[stage(100.0), stage(0.0), stage(5.5)]),
            10.0 + 90.0 + 100.0 + 5.0
        );
    }
}
