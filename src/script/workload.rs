//! How the model is loaded and judged: `m.users`, `m.arrivals`, `m.slo` and `m.settings`.

use super::builder::{ModelHandle, earlier};
use super::values::*;
use crate::model::{
    Arrivals, MAX_IN_FLIGHT, MAX_USERS, Settings, Slo, Target, Workload, count, positive,
    probability,
};
use rhai::{Dynamic, Engine, NativeCallContext};

pub(crate) fn register(engine: &mut Engine) {
    engine.register_fn(
        "users",
        |ctx: NativeCallContext, m: &mut ModelHandle, n: Dynamic, think: Dynamic| {
            users(&ctx, m, &n, &think, &Opts::empty())
        },
    );
    engine.register_fn(
        "users",
        |ctx: NativeCallContext, m: &mut ModelHandle, n: Dynamic, think: Dynamic, o: Dynamic| {
            users(
                &ctx,
                m,
                &n,
                &think,
                &Opts::new(&o, "m.users", &["on_start"])?,
            )
        },
    );
    engine.register_fn(
        "arrivals",
        |ctx: NativeCallContext, m: &mut ModelHandle, a: Dynamic| -> Res<()> {
            let arrivals = for_item("workload", arrivals(&a))?;
            declare_workload(&ctx, m, Workload::Open { arrivals })
        },
    );
    engine.register_fn(
        "slo",
        |ctx: NativeCallContext, m: &mut ModelHandle, o: Dynamic| slo(&ctx, m, None, &o),
    );
    engine.register_fn(
        "slo",
        |ctx: NativeCallContext, m: &mut ModelHandle, e: Dynamic, o: Dynamic| -> Res<()> {
            slo(&ctx, m, Some(name(&e, "endpoint name")?), &o)
        },
    );
    engine.register_fn("settings", |m: &mut ModelHandle, o: Dynamic| {
        settings(m, &o)
    });
}

fn users(
    ctx: &NativeCallContext,
    m: &ModelHandle,
    n: &Dynamic,
    think: &Dynamic,
    o: &Opts,
) -> Res<()> {
    let w = for_item("workload", closed(n, think, o))?;
    declare_workload(ctx, m, w)
}

fn closed(n: &Dynamic, think: &Dynamic, o: &Opts) -> Result<Workload, String> {
    let users = count("users", integer(n, "users")?, 1, MAX_USERS).map_err(msg)?;
    Ok(Workload::Closed {
        users,
        think: dist(think, "think")?,
        on_start: o.get("on_start").map(|v| name(v, "on_start")).transpose()?,
    })
}

/// A `Rate` is a Poisson process; a distribution (or a duration) is a renewal process.
fn arrivals(a: &Dynamic) -> Result<Arrivals, String> {
    if let Some(r) = a.read_lock::<Rate>() {
        let rate_per_s = positive("arrival rate", r.0).map_err(msg)?;
        return Ok(Arrivals::Poisson { rate_per_s });
    }
    if a.is_int() || a.is_float() {
        return Err(format!(
            "m.arrivals needs a rate like per_sec(50) or an inter-arrival distribution like exponential(ms(20)), got {}",
            kind(a)
        ));
    }
    let interarrival = dist(a, "inter-arrival time")?;
    if interarrival.mean() <= 0.0 {
        return Err("the inter-arrival time must have a mean > 0".into());
    }
    Ok(Arrivals::Renewal { interarrival })
}

/// Sets the workload; a second declaration names the first.
fn declare_workload(ctx: &NativeCallContext, m: &ModelHandle, w: Workload) -> Res<()> {
    let at = m.origin(ctx);
    let mut b = m.edit()?;
    if let Some(first) = &b.workload_at {
        return Err(format!(
            "the workload is already declared at {}",
            earlier(first, &at)
        )
        .into());
    }
    b.model.workload = Some(w);
    b.model.workload_origin = Some(at.clone());
    b.workload_at = Some(at);
    Ok(())
}

/// Latency keys and the percentile each one bounds.
const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p999", 99.9),
];

const SLO_KEYS: &[&str] = &[
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "error_rate",
    "availability",
    "apdex",
    "apdex_t",
];

fn slo(ctx: &NativeCallContext, m: &ModelHandle, endpoint: Option<String>, o: &Dynamic) -> Res<()> {
    let o = Opts::new(o, "m.slo", SLO_KEYS)?;
    let item = match &endpoint {
        Some(e) => format!("SLO for `{e}`"),
        None => "global SLO".to_string(),
    };
    let targets = for_item(&item, targets(&o))?;
    let apdex_t_s = for_item(&item, positive_duration(&o, "apdex_t"))?;
    let origin = Some(m.origin(ctx));
    let s = Slo {
        endpoint,
        targets,
        apdex_t_s,
        origin,
    };
    Ok(for_item(&item, m.add_slo(s))?)
}

/// The targets in a fixed order (latencies by percentile, then rates, then Apdex).
fn targets(o: &Opts) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for (key, percentile) in PERCENTILES {
        if let Some(max_s) = positive_duration(o, key)? {
            out.push(Target::Latency { percentile, max_s });
        }
    }
    let prob = |key: &'static str| -> Result<Option<f64>, String> {
        o.number(key)?
            .map(|x| probability(key, x).map_err(msg))
            .transpose()
    };
    if let Some(max) = prob("error_rate")? {
        out.push(Target::ErrorRate { max });
    }
    if let Some(min) = prob("availability")? {
        out.push(Target::Availability { min });
    }
    if let Some(min) = prob("apdex")? {
        out.push(Target::Apdex { min });
    }
    Ok(out)
}

/// An optional duration option that must be > 0.
fn positive_duration(o: &Opts, key: &'static str) -> Result<Option<f64>, String> {
    o.duration(key)?
        .map(|d| positive(key, d).map_err(msg))
        .transpose()
}

const SETTINGS_KEYS: &[&str] = &["max_in_flight", "window", "default_duration", "apdex_t"];

/// Overrides the settings the map names; the others keep their values.
fn settings(m: &ModelHandle, o: &Dynamic) -> Res<()> {
    let o = Opts::new(o, "m.settings", SETTINGS_KEYS)?;
    let mut b = m.edit()?;
    Ok(for_item(
        "settings",
        apply_settings(&o, &mut b.model.settings),
    )?)
}

fn apply_settings(o: &Opts, s: &mut Settings) -> Result<(), String> {
    if let Some(n) = o.opt_count("max_in_flight")? {
        s.max_in_flight = count("max_in_flight", n, 1, MAX_IN_FLIGHT).map_err(msg)?;
    }
    if let Some(w) = positive_duration(o, "window")? {
        s.window_s = Some(w);
    }
    if let Some(d) = positive_duration(o, "default_duration")? {
        s.default_duration_s = d;
    }
    if let Some(t) = positive_duration(o, "apdex_t")? {
        s.apdex_t_s = t;
    }
    Ok(())
}
