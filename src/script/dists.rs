//! Distribution constructors: thin wrappers over the validating constructors of
//! [`crate::model::Dist`], so a bad parameter is reported at the line that wrote it.

use super::values::{Duration, Res, ScriptDist, dist, duration, integer, kind, msg, number};
use crate::model::{Component, Dist, DistError, MAX_ERLANG_K};
use rhai::{Array, Dynamic, Engine};

/// Wraps a constructor's result for the script.
fn made(r: Result<Dist, DistError>) -> Res<ScriptDist> {
    Ok(ScriptDist(r.map_err(msg)?))
}

pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<ScriptDist>("Dist");
    register_two_durations(engine);
    register_shaped(engine);
    engine.register_fn("constant", |d: Dynamic| {
        made(Dist::constant(duration(&d, "constant value")?))
    });
    engine.register_fn("exponential", |m: Dynamic| {
        made(Dist::exponential(duration(&m, "exponential mean")?))
    });
    engine.register_fn("erlang", |k: Dynamic, m: Dynamic| -> Res<ScriptDist> {
        let k = crate::model::count("erlang k", integer(&k, "erlang k")?, 1, MAX_ERLANG_K)
            .map_err(msg)?;
        made(Dist::erlang(k, duration(&m, "erlang mean")?))
    });
    engine.register_fn("empirical", |list: Dynamic| {
        made(Dist::empirical(samples(&list)?))
    });
    engine.register_fn("mixture", |list: Dynamic| {
        made(Dist::mixture(components(&list)?))
    });
    engine.register_get("mean", |d: &mut ScriptDist| Duration(d.0.mean()));
    engine.register_fn("to_string", |d: &mut ScriptDist| d.0.describe());
    engine.register_fn("to_debug", |d: &mut ScriptDist| d.0.describe());
}

/// Constructors whose two parameters are both durations.
fn register_two_durations(engine: &mut Engine) {
    type Ctor = fn(f64, f64) -> Result<Dist, DistError>;
    let table: [(&str, &str, &str, Ctor); 4] = [
        ("uniform", "uniform low", "uniform high", Dist::uniform),
        ("normal", "normal mean", "normal sd", Dist::normal),
        (
            "lognormal",
            "lognormal mean",
            "lognormal sd",
            Dist::lognormal,
        ),
        (
            "lognormal_p",
            "lognormal p50",
            "lognormal p95",
            Dist::lognormal_percentiles,
        ),
    ];
    for (name, a_what, b_what, ctor) in table {
        engine.register_fn(name, move |a: Dynamic, b: Dynamic| {
            made(ctor(duration(&a, a_what)?, duration(&b, b_what)?))
        });
    }
}

/// Constructors with a (unitless) shape and a duration scale, in the order they are written.
fn register_shaped(engine: &mut Engine) {
    engine.register_fn("gamma", |shape: Dynamic, scale: Dynamic| {
        made(Dist::gamma(
            number(&shape, "gamma shape")?,
            duration(&scale, "gamma scale")?,
        ))
    });
    engine.register_fn("weibull", |shape: Dynamic, scale: Dynamic| {
        made(Dist::weibull(
            number(&shape, "weibull shape")?,
            duration(&scale, "weibull scale")?,
        ))
    });
    engine.register_fn("pareto", |scale: Dynamic, shape: Dynamic| {
        made(Dist::pareto(
            duration(&scale, "pareto scale")?,
            number(&shape, "pareto shape")?,
        ))
    });
}

/// The samples of `empirical([...])`: every element a duration.
fn samples(v: &Dynamic) -> Result<Vec<f64>, String> {
    let Some(items) = v.read_lock::<Array>() else {
        return Err(format!(
            "empirical needs a list of durations like [ms(3), ms(5)], got {}",
            kind(v)
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, s)| duration(s, &format!("empirical[{i}]")))
        .collect()
}

/// The components of `mixture([[weight, dist], ...])`.
fn components(v: &Dynamic) -> Result<Vec<Component>, String> {
    let example = "[[0.9, ms(5)], [0.1, exponential(ms(200))]]";
    let Some(items) = v.read_lock::<Array>() else {
        return Err(format!(
            "mixture needs a list of [weight, distribution] pairs like {example}, got {}",
            kind(v)
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, pair)| component(i, pair, example))
        .collect()
}

fn component(i: usize, pair: &Dynamic, example: &str) -> Result<Component, String> {
    let bad = || {
        format!(
            "`mixture[{i}]` must be a [weight, distribution] pair like {example}, got {}",
            kind(pair)
        )
    };
    let Some(pair) = pair.read_lock::<Array>() else {
        return Err(bad());
    };
    let [weight, d] = pair.as_slice() else {
        return Err(bad());
    };
    let weight = number(weight, &format!("mixture[{i}] weight"))?;
    Ok(Component {
        weight,
        dist: dist(d, &format!("mixture[{i}] distribution"))?,
    })
}
