//! The one validation step: the model as written becomes the [`Checked`] model.
//!
//! Rules that span several items live here (a step naming a resource that does not exist,
//! weights summing to zero, an SLO on an unknown endpoint, ...). Every broken rule gives its own
//! [`ModelError`], naming the item and where it was declared; all of them are reported at once.
//! Things that are allowed but probably not meant (a step longer than the run) are
//! [`ModelWarning`]s. Nothing after this step re-validates: the engine compiles a [`Checked`]
//! model infallibly.

mod outlook;
mod size;
mod variants;
mod warnings;

use super::*;
use crate::format::fmt_duration;
use std::collections::BTreeMap;
use thiserror::Error;

/// Latency percentiles the runs report, hence the ones an objective may name.
pub const REPORTED_PERCENTILES: [f64; 5] = [50.0, 90.0, 95.0, 99.0, 99.9];

/// Deepest nesting of `repeat` blocks the engine supports (it keeps one counter per level).
pub const MAX_REPEAT_DEPTH: usize = 4;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{item}: {message}")]
pub struct ModelError {
    /// The item at fault, e.g. ``endpoint `GET /api/releases` ``.
    pub item: String,
    pub message: String,
    pub origin: Option<Origin>,
}

/// Something a valid model does that is probably not what its author meant; it does not stop
/// the model from running.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{item}: {message}")]
pub struct ModelWarning {
    /// The item concerned, e.g. ``endpoint `GET /api/releases` ``.
    pub item: String,
    pub message: String,
    pub origin: Option<Origin>,
}

/// All broken rules of a model.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("the model has {} error(s); the first: {}", .0.len(), .0[0])]
pub struct ValidationErrors(pub Vec<ModelError>);

/// A model that passed validation, with its references resolved to indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub model: Model,
    /// The workload (validation guarantees there is one).
    pub workload: Workload,
    /// Per endpoint: the index in `model.resources` of the app serving it.
    pub endpoint_app: Vec<Option<usize>>,
    /// Per resource: for an app, the index of the proxy in front of it.
    pub proxy_of: Vec<Option<usize>>,
    /// Endpoint weights normalised to sum to 1.
    pub mix: Vec<f64>,
    /// Index of the on-start endpoint of a closed workload.
    pub on_start: Option<usize>,
    /// The scenarios to run: those declared, or one steady-state scenario.
    pub scenarios: Vec<Scenario>,
    /// What validation found doubtful but allowed, for the CLI to print.
    pub warnings: Vec<ModelWarning>,
    /// The what-if variants, each validated, in the order of `model.variants`.
    pub variants: Vec<Checked>,
}

impl Checked {
    pub fn resource_index(&self, name: &str) -> Option<usize> {
        self.model.resources.iter().position(|r| r.name == name)
    }

    pub fn endpoint_index(&self, name: &str) -> Option<usize> {
        self.model.endpoints.iter().position(|e| e.name == name)
    }

    /// The validated model of the what-if variant named `name`.
    pub fn variant(&self, name: &str) -> Option<&Checked> {
        let i = self.model.variants.iter().position(|v| v.name == name)?;
        self.variants.get(i)
    }
}

struct Validator<'m> {
    model: &'m Model,
    errors: Vec<ModelError>,
    warnings: Vec<ModelWarning>,
}

impl Validator<'_> {
    fn error(&mut self, item: String, origin: &Option<Origin>, message: impl Into<String>) {
        self.errors.push(ModelError {
            item,
            message: message.into(),
            origin: origin.clone(),
        });
    }

    fn warn(&mut self, item: String, origin: &Option<Origin>, message: impl Into<String>) {
        self.warnings.push(ModelWarning {
            item,
            message: message.into(),
            origin: origin.clone(),
        });
    }

    /// The item model-wide rules name: ``model `shop` ``.
    fn model_item(&self) -> String {
        format!("model `{}`", self.model.name)
    }

    fn kind_of(&self, name: &str) -> Option<&ResourceKind> {
        self.model.resource(name).map(|r| &r.kind)
    }
}

/// Validates a model and derives its checked form.
///
/// # Errors
/// Every rule the model breaks, each naming its item and its origin.
pub fn validate(model: Model) -> Result<Checked, ValidationErrors> {
    let mut v = Validator {
        model: &model,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    // Beyond the supported maxima the other rules could take very long (and say little).
    size::check_model_size(&mut v);
    if !v.errors.is_empty() {
        return Err(ValidationErrors(v.errors));
    }
    check_unique_names(&mut v);
    let proxy_of = check_proxies(&mut v);
    let endpoint_app: Vec<Option<usize>> = model
        .endpoints
        .iter()
        .map(|e| check_endpoint(&mut v, e))
        .collect();
    let mix = check_mix(&mut v);
    let (workload, on_start) = check_workload(&mut v);
    outlook::check_outlook(&mut v, workload.as_ref());
    check_slos(&mut v);
    let scenarios = check_scenarios(&mut v);
    check_settings(&mut v);
    check_scaling(&mut v);
    warnings::warn_long_steps(&mut v, &scenarios);
    // A variant repeats every error of the base: only a valid base's variants are checked.
    let variants = if v.errors.is_empty() {
        variants::check_variants(&mut v)
    } else {
        Vec::new()
    };
    let Validator {
        errors, warnings, ..
    } = v;
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    let workload = workload.expect("a workload exists when there are no errors");
    Ok(Checked {
        model,
        workload,
        endpoint_app,
        proxy_of,
        mix,
        on_start,
        scenarios,
        warnings,
        variants,
    })
}

fn check_unique_names(v: &mut Validator) {
    let m = v.model;
    for (i, r) in m.resources.iter().enumerate() {
        if r.name.trim().is_empty() {
            v.error(
                format!("{} #{}", r.kind.type_name(), i + 1),
                &r.origin,
                "needs a name",
            );
        }
    }
    let resources = m.resources.iter().map(|r| (r.name.as_str(), &r.origin));
    for (i, first) in duplicates(resources) {
        let r = &m.resources[i];
        let msg = format!(
            "another resource already has this name{}; names must be unique",
            first_declared(first, &r.origin)
        );
        v.error(
            format!("{} `{}`", r.kind.type_name(), r.name),
            &r.origin,
            msg,
        );
    }
    for (i, first) in duplicates(m.endpoints.iter().map(|e| (e.name.as_str(), &e.origin))) {
        let e = &m.endpoints[i];
        let msg = format!("declared twice{}", first_declared(first, &e.origin));
        v.error(format!("endpoint `{}`", e.name), &e.origin, msg);
    }
    for (i, first) in duplicates(m.scenarios.iter().map(|s| (s.name.as_str(), &s.origin))) {
        let s = &m.scenarios[i];
        let msg = format!("declared twice{}", first_declared(first, &s.origin));
        v.error(format!("scenario `{}`", s.name), &s.origin, msg);
    }
    if m.endpoints.is_empty() {
        let msg = "declares no endpoint; add one with m.endpoint(name, weight, [steps])";
        v.error(v.model_item(), &m.origin, msg);
    }
}

/// The index of every item whose name an earlier item already has, with that earlier item's
/// origin (in O(n log n): a model may have many items).
fn duplicates<'a>(
    items: impl Iterator<Item = (&'a str, &'a Option<Origin>)>,
) -> Vec<(usize, &'a Option<Origin>)> {
    let mut first: BTreeMap<&str, &Option<Origin>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, (name, origin)) in items.enumerate() {
        match first.get(name) {
            Some(earlier) => out.push((i, *earlier)),
            None => {
                first.insert(name, origin);
            }
        }
    }
    out
}

/// `" (first declared at line 3)"`, or nothing when either origin is unknown.
fn first_declared(first: &Option<Origin>, now: &Option<Origin>) -> String {
    match (first, now) {
        (Some(f), Some(n)) => format!(" (first declared at {})", f.seen_from(n)),
        (Some(f), None) => format!(" (first declared at {f})"),
        _ => String::new(),
    }
}

fn check_proxies(v: &mut Validator) -> Vec<Option<usize>> {
    let m = v.model;
    let mut proxy_of = vec![None; m.resources.len()];
    for (i, r) in m.resources.iter().enumerate() {
        let ResourceKind::Proxy(p) = &r.kind else {
            continue;
        };
        let item = format!("proxy `{}`", r.name);
        match m.resources.iter().position(|a| a.name == p.upstream) {
            Some(a) if matches!(m.resources[a].kind, ResourceKind::App(_)) => {
                if proxy_of[a].is_some() {
                    let msg = format!("app `{}` already has a proxy in front of it", p.upstream);
                    v.error(item, &r.origin, msg);
                } else {
                    proxy_of[a] = Some(i);
                }
            }
            _ => v.error(
                item,
                &r.origin,
                format!("upstream `{}` is not an app", p.upstream),
            ),
        }
    }
    proxy_of
}

/// Checks an endpoint's steps and returns the app serving it.
fn check_endpoint(v: &mut Validator, e: &Endpoint) -> Option<usize> {
    let item = format!("endpoint `{}`", e.name);
    let app_index = serving_app(v, e, &item);
    if let Some(t) = e.timeout_s
        && !(t.is_finite() && t > 0.0)
    {
        let msg = format!("timeout must be > 0 (got {t} s)");
        v.error(item.clone(), &e.origin, msg);
    }
    if !(e.weight.is_finite() && e.weight >= 0.0) {
        let msg = format!("weight must be >= 0 (got {})", e.weight);
        v.error(item.clone(), &e.origin, msg);
    }
    if e.steps.is_empty() {
        let msg =
            "has no steps: give it at least one step, e.g. [api.compute(ms(5))] or [delay(ms(5))]";
        v.error(item.clone(), &e.origin, msg);
    }
    check_steps(v, &item, &e.origin, &e.steps, 0);
    check_unique_labels(v, &item, e);
    size::check_request_length(v, &item, e);
    app_index
}

/// The index of the app serving an endpoint: its `app` option, the app of its compute steps,
/// or the model's only app.
fn serving_app(v: &mut Validator, e: &Endpoint, item: &str) -> Option<usize> {
    let mut apps = Vec::new();
    collect_compute_apps(&e.steps, &mut apps);
    if let Some(a) = &e.app {
        apps.insert(0, a.clone());
    }
    apps.dedup();
    let resources = &v.model.resources;
    let app_names: Vec<&str> = resources
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::App(_)))
        .map(|r| r.name.as_str())
        .collect();
    let app = match apps.as_slice() {
        [] if app_names.len() == 1 => app_names[0].to_string(),
        [] => return None,
        [one] => one.clone(),
        many => {
            let msg = format!(
                "runs on several apps ({}); an endpoint is served by one",
                many.join(", ")
            );
            v.error(item.to_string(), &e.origin, msg);
            return None;
        }
    };
    let idx = resources.iter().position(|r| r.name == app);
    match idx.map(|i| &resources[i].kind) {
        Some(ResourceKind::App(_)) => idx,
        _ => {
            v.error(
                item.to_string(),
                &e.origin,
                format!("`{app}` is not an app"),
            );
            None
        }
    }
}

fn collect_compute_apps(steps: &[Step], out: &mut Vec<String>) {
    for s in steps {
        if let Step::Compute { app, .. } = s
            && !out.contains(app)
        {
            out.push(app.clone());
        }
        for inner in s.nested() {
            collect_compute_apps(inner, out);
        }
    }
}

fn check_steps(
    v: &mut Validator,
    item: &str,
    origin: &Option<Origin>,
    steps: &[Step],
    depth: usize,
) {
    for s in steps {
        check_step(v, item, origin, s, depth);
    }
}

fn check_step(v: &mut Validator, item: &str, origin: &Option<Origin>, s: &Step, depth: usize) {
    let expect = |v: &mut Validator, name: &str, want: &str, ok: bool| {
        if v.kind_of(name).is_none() {
            let known: Vec<&str> = v.model.resources.iter().map(|r| r.name.as_str()).collect();
            let msg = format!(
                "uses `{name}`, which does not exist (resources: {})",
                known.join(", ")
            );
            v.error(item.to_string(), origin, msg);
        } else if !ok {
            v.error(
                item.to_string(),
                origin,
                format!("uses `{name}` as a {want}, but it is not one"),
            );
        }
    };
    match s {
        Step::Compute { app, .. } => {
            let ok = matches!(v.kind_of(app), Some(ResourceKind::App(_)));
            expect(v, app, "app", ok);
        }
        Step::Visit { station, service } => match v.kind_of(station) {
            Some(ResourceKind::Station(st)) => {
                if service.is_none() && st.service.is_none() {
                    let msg = format!(
                        "visits station `{station}`, which has no service time; give one to the station or the visit"
                    );
                    v.error(item.to_string(), origin, msg);
                }
            }
            _ => expect(v, station, "station", false),
        },
        Step::Query { db, op, bytes, .. } => {
            let ok = matches!(v.kind_of(db), Some(ResourceKind::Database(_)));
            expect(v, db, "database", ok);
            if *op == QueryOp::Read && bytes.is_some() {
                let msg = format!("gives bytes to a read on `{db}`; bytes are what a write adds");
                v.error(item.to_string(), origin, msg);
            }
        }
        Step::CacheGet {
            cache,
            hit_ratio,
            miss,
        } => {
            let ok = matches!(v.kind_of(cache), Some(ResourceKind::Cache(_)));
            expect(v, cache, "cache", ok);
            if let Err(e) = probability("hit_ratio", *hit_ratio) {
                v.error(item.to_string(), origin, e.to_string());
            }
            check_steps(v, item, origin, miss, depth);
        }
        Step::Call { external, .. } => {
            let ok = matches!(v.kind_of(external), Some(ResourceKind::External(_)));
            expect(v, external, "external dependency", ok);
        }
        Step::Enqueue { queue, .. } => {
            let ok = matches!(v.kind_of(queue), Some(ResourceKind::Background(_)));
            expect(v, queue, "background queue", ok);
        }
        Step::Branch {
            probability: p,
            then,
            otherwise,
        } => {
            if let Err(e) = probability("branch probability", *p) {
                v.error(item.to_string(), origin, e.to_string());
            }
            check_steps(v, item, origin, then, depth);
            check_steps(v, item, origin, otherwise, depth);
        }
        Step::Repeat { steps, .. } => {
            if depth + 1 > MAX_REPEAT_DEPTH {
                let msg = format!(
                    "nests repeats {} deep; at most {MAX_REPEAT_DEPTH} are supported",
                    depth + 1
                );
                v.error(item.to_string(), origin, msg);
            }
            check_steps(v, item, origin, steps, depth + 1);
        }
        Step::Delay { .. } => {}
        Step::Labelled {
            label,
            inner,
            origin: at,
        } => {
            if let Err(e) = check_label(label) {
                let at = if at.is_some() { at } else { origin };
                v.error(item.to_string(), at, e.to_string());
            }
            check_step(v, item, origin, inner, depth);
        }
    }
}

/// Refuses a label given to two steps of one endpoint: it names their random streams.
fn check_unique_labels(v: &mut Validator, item: &str, e: &Endpoint) {
    let mut labels = Vec::new();
    collect_labels(&e.steps, &mut labels);
    for (i, first) in duplicates(labels.iter().copied()) {
        let (label, at) = labels[i];
        let at = if at.is_some() { at } else { &e.origin };
        let msg = format!(
            "the label `{label}` is given to two of its steps{}; a label names a step's random \
             streams, so each is unique within an endpoint",
            first_declared(first, at)
        );
        v.error(item.to_string(), at, msg);
    }
}

/// The labels of `steps`, nested ones included, in flow order, with where each was given.
fn collect_labels<'m>(steps: &'m [Step], out: &mut Vec<(&'m str, &'m Option<Origin>)>) {
    for s in steps {
        if let Step::Labelled { label, origin, .. } = s {
            out.push((label, origin));
        }
        for inner in s.nested() {
            collect_labels(inner, out);
        }
    }
}

fn check_mix(v: &mut Validator) -> Vec<f64> {
    let m = v.model;
    let total: f64 = m.endpoints.iter().map(|e| e.weight.max(0.0)).sum();
    let positive = total.is_finite() && total > 0.0;
    if !m.endpoints.is_empty() && !positive {
        let msg = "endpoint weights sum to zero: give at least one endpoint a weight > 0";
        let at = m.endpoints[0]
            .origin
            .as_ref()
            .or(m.origin.as_ref())
            .cloned();
        v.error(v.model_item(), &at, msg);
        return vec![0.0; m.endpoints.len()];
    }
    m.endpoints
        .iter()
        .map(|e| e.weight.max(0.0) / total)
        .collect()
}

fn check_workload(v: &mut Validator) -> (Option<Workload>, Option<usize>) {
    let m = v.model;
    let Some(w) = &m.workload else {
        let msg = "has no workload; declare m.users(n, think) or m.arrivals(rate)";
        v.error(v.model_item(), &m.origin, msg);
        return (None, None);
    };
    let item = "workload".to_string();
    let mut on_start_idx = None;
    match w {
        Workload::Closed {
            users, on_start, ..
        } => {
            if !(1..=MAX_USERS).contains(users) {
                let msg = format!("users must be from 1 to {MAX_USERS} (got {users})");
                v.error(item.clone(), &m.workload_origin, msg);
            }
            if let Some(name) = on_start {
                on_start_idx = m.endpoints.iter().position(|e| &e.name == name);
                if on_start_idx.is_none() {
                    let msg = format!(
                        "on_start endpoint `{name}` does not exist (endpoints: {})",
                        endpoint_list(m)
                    );
                    v.error(item, &m.workload_origin, msg);
                }
            }
        }
        Workload::Open { arrivals } => {
            if let Some(msg) = arrivals_problem(arrivals) {
                v.error(item, &m.workload_origin, msg);
            }
        }
    }
    (Some(w.clone()), on_start_idx)
}

/// Why an open workload's arrivals cannot be simulated: no arrivals at all, or more than one
/// per nanosecond.
fn arrivals_problem(a: &Arrivals) -> Option<String> {
    let rate = a.rate_per_s();
    match a {
        Arrivals::Poisson { rate_per_s } if !(rate_per_s.is_finite() && *rate_per_s > 0.0) => {
            Some(format!("arrival rate must be > 0 (got {rate_per_s}/s)"))
        }
        Arrivals::Renewal { interarrival }
            if !(interarrival.mean().is_finite() && interarrival.mean() > 0.0) =>
        {
            Some("the inter-arrival time must have a mean > 0".to_string())
        }
        _ if rate > MAX_RATE_PER_S => Some(format!(
            "arrivals come at {} per second; at most {MAX_RATE_TEXT} are supported",
            crate::format::sig3(rate)
        )),
        _ => None,
    }
}

fn endpoint_list(m: &Model) -> String {
    m.endpoints
        .iter()
        .map(|e| format!("`{}`", e.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_slos(v: &mut Validator) {
    let m = v.model;
    for slo in &m.slos {
        let item = match &slo.endpoint {
            Some(e) => format!("SLO for `{e}`"),
            None => "global SLO".to_string(),
        };
        if let Some(e) = &slo.endpoint
            && !m.endpoints.iter().any(|x| &x.name == e)
        {
            let msg = format!(
                "endpoint `{e}` does not exist (endpoints: {})",
                endpoint_list(m)
            );
            v.error(item.clone(), &slo.origin, msg);
        }
        if let Some(t) = slo.apdex_t_s
            && !(t.is_finite() && t > 0.0)
        {
            v.error(
                item.clone(),
                &slo.origin,
                format!("apdex T must be a duration > 0 (got {t} s)"),
            );
        }
        for t in &slo.targets {
            if let Some(msg) = target_problem(t) {
                v.error(item.clone(), &slo.origin, msg);
            }
        }
    }
}

fn target_problem(t: &Target) -> Option<String> {
    match *t {
        Target::Latency { percentile, max_s } => {
            if !REPORTED_PERCENTILES.contains(&percentile) {
                Some(format!(
                    "percentile {percentile} is not reported; use one of p50, p90, p95, p99, p999"
                ))
            } else if !(max_s.is_finite() && max_s > 0.0) {
                Some(format!(
                    "p{percentile} target must be a duration > 0 (got {max_s} s)"
                ))
            } else {
                None
            }
        }
        Target::ErrorRate { max } => probability("error_rate", max).err().map(|e| e.to_string()),
        Target::Availability { min } => probability("availability", min)
            .err()
            .map(|e| e.to_string()),
        Target::Apdex { min } => probability("apdex target", min)
            .err()
            .map(|e| e.to_string()),
    }
}

fn check_scenarios(v: &mut Validator) -> Vec<Scenario> {
    let m = v.model;
    for s in &m.scenarios {
        let item = format!("scenario `{}`", s.name);
        check_stages(v, s, &item);
        check_scenario_values(v, s, &item);
        check_scenario_length(v, s, &item);
        size::check_scenario_levels(v, s, &item);
    }
    if m.scenarios.is_empty() {
        vec![steady_scenario()]
    } else {
        m.scenarios.clone()
    }
}

/// The scenario run when a model declares none.
fn steady_scenario() -> Scenario {
    Scenario {
        name: "steady".to_string(),
        description: Some("the workload held at its declared level".to_string()),
        start_level: None,
        stages: Vec::new(),
        duration_s: None,
        warmup: Warmup::Auto,
        origin: None,
    }
}

fn check_stages(v: &mut Validator, s: &Scenario, item: &str) {
    for (i, st) in s.stages.iter().enumerate() {
        if !(st.duration_s.is_finite() && st.duration_s >= 0.0) {
            let msg = format!("stage {} has a negative or NaN duration", i + 1);
            v.error(item.to_string(), &s.origin, msg);
        }
        if !(st.target.is_finite() && st.target >= 0.0) {
            let msg = format!("stage {} has a negative or NaN target", i + 1);
            v.error(item.to_string(), &s.origin, msg);
        }
    }
}

/// A scenario's own values: a duration or stages (not both), a start level, a warm-up.
fn check_scenario_values(v: &mut Validator, s: &Scenario, item: &str) {
    let mut problems = Vec::new();
    if s.duration_s.is_some() && !s.stages.is_empty() {
        problems.push(
            "gives both stages and a duration; the stages set the length, drop the duration"
                .to_string(),
        );
    }
    if let Some(d) = s.duration_s
        && !(d.is_finite() && d > 0.0)
    {
        problems.push(format!("duration must be > 0 (got {d} s)"));
    }
    if let Some(l) = s.start_level
        && !(l.is_finite() && l >= 0.0)
    {
        problems.push(format!("start level must be >= 0 (got {l})"));
    }
    if let Warmup::Fixed { seconds } = s.warmup
        && !(seconds.is_finite() && seconds >= 0.0)
    {
        problems.push(format!("warm-up must be >= 0 (got {seconds} s)"));
    }
    for msg in problems {
        v.error(item.to_string(), &s.origin, msg);
    }
}

/// A scenario's length: at least [`MIN_RUN_S`], at most [`MAX_DURATION_S`], longer than its
/// warm-up.
fn check_scenario_length(v: &mut Validator, s: &Scenario, item: &str) {
    let length = total_duration(s, v.model.settings.default_duration_s);
    if let Warmup::Fixed { seconds } = s.warmup
        && seconds >= length
        && length > 0.0
    {
        let msg = format!(
            "warm-up of {seconds} s leaves nothing of its {length} s to report; make the warm-up shorter than the run"
        );
        v.error(item.to_string(), &s.origin, msg);
    }
    if length <= 0.0 {
        let msg = "lasts 0 s: give it stages or a duration";
        v.error(item.to_string(), &s.origin, msg);
    } else if length < MIN_RUN_S {
        let msg = format!("lasts {length:e} s in all; a run lasts at least {MIN_RUN_TEXT}");
        v.error(item.to_string(), &s.origin, msg);
    }
    if length > MAX_DURATION_S {
        let msg = format!(
            "lasts {} in all; a run lasts at most {MAX_DURATION_TEXT}",
            fmt_duration(length)
        );
        v.error(item.to_string(), &s.origin, msg);
    }
}

/// Length of a scenario's run, seconds.
pub fn total_duration(s: &Scenario, default_duration_s: f64) -> f64 {
    if s.stages.is_empty() {
        s.duration_s.unwrap_or(default_duration_s)
    } else {
        s.stages.iter().map(|st| st.duration_s).sum::<f64>()
    }
}

/// Settings are set by `m.settings`, which has no origin of its own: errors point at the model.
fn check_settings(v: &mut Validator) {
    let s = &v.model.settings;
    let at = &v.model.origin;
    let item = "settings".to_string();
    if !(1..=MAX_IN_FLIGHT).contains(&s.max_in_flight) {
        let msg = format!(
            "max_in_flight must be from 1 to {MAX_IN_FLIGHT} (got {})",
            s.max_in_flight
        );
        v.error(item.clone(), at, msg);
    }
    let durations = [
        ("window", s.window_s),
        ("default duration", Some(s.default_duration_s)),
        ("apdex T", Some(s.apdex_t_s)),
    ];
    for (what, d) in durations {
        if let Some(d) = d
            && !(d.is_finite() && d > 0.0 && d <= MAX_DURATION_S)
        {
            let msg = format!("{what} must be > 0 and at most {MAX_DURATION_TEXT} (got {d} s)");
            v.error(item.clone(), at, msg);
        }
    }
    // The length of the scenarios that give none, and of the one a model without scenarios gets.
    let d = s.default_duration_s;
    if d > 0.0 && d < MIN_RUN_S {
        let msg = format!("default duration must be at least {MIN_RUN_TEXT} (got {d:e} s)");
        v.error(item.clone(), at, msg);
    }
}

/// Scaling options: one declaration per resource, each fitting the resource it prices, and a
/// space small enough to list.
fn check_scaling(v: &mut Validator) {
    let model = v.model;
    for (i, s) in model.scaling.iter().enumerate() {
        let item = format!("scaling of `{}`", s.resource);
        let Some(r) = model.resource(&s.resource) else {
            let msg = format!("`{}` is not a resource of the model", s.resource);
            v.error(item, &s.origin, msg);
            continue;
        };
        if let Some(earlier) = model.scaling[..i].iter().find(|e| e.resource == s.resource) {
            let at = earlier
                .origin
                .as_ref()
                .map_or("earlier".to_string(), |o| format!("at {o}"));
            let msg = format!("declared twice (first {at}): give all its options in one m.scaling");
            v.error(item, &s.origin, msg);
            continue;
        }
        if let Err(e) = s.check(&r.kind) {
            v.error(item, &s.origin, e.to_string());
        }
    }
    if v.errors.is_empty()
        && let Err(e) = super::config::Space::of(model)
    {
        let at = model.scaling.last().and_then(|s| s.origin.clone());
        v.error("scaling options".to_string(), &at, e.to_string());
    }
}
