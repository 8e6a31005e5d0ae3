//! What a model declares for capacity studies about its load: `m.load_profile`,
//! `m.load_target`, `m.growth` and `m.event`.
//!
//! Levels are users (plain numbers, for a closed workload) or rates (`per_sec(50)`, for an
//! open one); which one the workload needs is checked by validation, which knows the
//! workload. A growth curve written as a function is called here, for months 0 to the
//! horizon, and only its values are kept: the simulation never calls back into the script.

use super::builder::{ModelHandle, earlier, room};
use super::values::*;
use crate::model::outlook::DEFAULT_HORIZON_MONTHS;
use crate::model::*;
use rhai::{Array, Dynamic, Engine, NativeCallContext};

const PROFILE_KEYS: &[&str] = &[
    "average",
    "daily_peak",
    "weekly_peak",
    "base",
    "hourly",
    "daily",
    "monthly_trend",
];
const TARGET_KEYS: &[&str] = &["peak", "by_month", "data_size", "description"];
const GROWTH_KEYS: &[&str] = &["users", "traffic_per_user", "curve", "horizon"];
const EVENT_KEYS: &[&str] = &["month", "multiplier", "duration", "date", "preparation"];

pub(crate) fn register(engine: &mut Engine) {
    engine.register_fn(
        "load_profile",
        |ctx: NativeCallContext, m: &mut ModelHandle, o: Dynamic| -> Res<()> {
            let o = Opts::new(&o, "m.load_profile", PROFILE_KEYS)?;
            let mut p = for_item("load profile", profile(&o))?;
            let at = m.origin(&ctx);
            let mut b = m.edit()?;
            once(
                b.model.load_profile.as_ref().map(|p| &p.origin),
                "m.load_profile",
                &at,
            )?;
            p.origin = Some(at);
            b.model.load_profile = Some(p);
            Ok(())
        },
    );
    engine.register_fn(
        "load_target",
        |ctx: NativeCallContext, m: &mut ModelHandle, o: Dynamic| -> Res<()> {
            let o = Opts::new(&o, "m.load_target", TARGET_KEYS)?;
            let mut t = for_item("load target", target(&o))?;
            let at = m.origin(&ctx);
            let mut b = m.edit()?;
            once(
                b.model.load_target.as_ref().map(|t| &t.origin),
                "m.load_target",
                &at,
            )?;
            t.origin = Some(at);
            b.model.load_target = Some(t);
            Ok(())
        },
    );
    engine.register_fn(
        "growth",
        |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic, o: Dynamic| -> Res<()> {
            let name = super::values::name(&name, "growth hypothesis name")?;
            let item = format!("growth hypothesis `{name}`");
            let o = Opts::new(&o, "m.growth", GROWTH_KEYS)?;
            let mut g = growth(&ctx, name, &o).map_err(|e| prefixed(&item, *e))?;
            g.origin = Some(m.origin(&ctx));
            let mut b = m.edit()?;
            let len = b.model.growth.len();
            for_item(&item, room(len, MAX_GROWTH_HYPOTHESES, "growth hypotheses"))?;
            b.model.growth.push(g);
            Ok(())
        },
    );
    engine.register_fn(
        "event",
        |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic, o: Dynamic| -> Res<()> {
            let name = super::values::name(&name, "event name")?;
            let item = format!("event `{name}`");
            let o = Opts::new(&o, "m.event", EVENT_KEYS)?;
            let mut e = for_item(&item, event(name, &o))?;
            e.origin = Some(m.origin(&ctx));
            let mut b = m.edit()?;
            for_item(&item, room(b.model.events.len(), MAX_EVENTS, "events"))?;
            b.model.events.push(e);
            Ok(())
        },
    );
}

/// Refuses a second declaration of a once-only item, naming the first.
fn once(first: Option<&Option<Origin>>, func: &str, now: &Origin) -> Result<(), String> {
    match first {
        None => Ok(()),
        Some(Some(at)) => Err(format!(
            "{func} was already called at {}: a model has one",
            earlier(at, now)
        )),
        Some(None) => Err(format!("{func} was already called: a model has one")),
    }
}

/// A load level: a plain number of users or a `Rate` of requests per second.
fn load_level(v: &Dynamic, what: &str) -> Result<(f64, LoadUnit), String> {
    if let Some(r) = v.read_lock::<Rate>() {
        return Ok((r.0, LoadUnit::RequestsPerSecond));
    }
    match number(v, what) {
        Ok(x) => Ok((x, LoadUnit::Users)),
        Err(_) => Err(format!(
            "`{what}` must be a number of users or a rate like per_sec(50), got {}",
            kind(v)
        )),
    }
}

/// Reads levels that must share one unit.
fn levels<const N: usize>(o: &Opts, keys: [&str; N]) -> Result<([f64; N], LoadUnit), String> {
    let mut out = [0.0; N];
    let mut unit = None;
    for (i, key) in keys.iter().enumerate() {
        let v = Opts::required(o.get(key), key, "100 (users) or per_sec(50)")?;
        let (x, u) = load_level(v, key)?;
        if unit.is_some_and(|first| first != u) {
            return Err(format!(
                "mixes users and rates: give every level as a plain number of users or every \
                 level as a rate like per_sec(50) (`{key}` is in {})",
                u.word()
            ));
        }
        (out[i], unit) = (x, Some(u));
    }
    Ok((out, unit.expect("at least one key")))
}

fn profile(o: &Opts) -> Result<LoadProfile, String> {
    let trend = o.number("monthly_trend")?.unwrap_or(0.0);
    if o.get("base").is_some() {
        for key in ["average", "daily_peak", "weekly_peak"] {
            o.refuse(
                key,
                "a shape (base, hourly, daily): its levels are derived from it",
            )?;
        }
        let ([base], unit) = levels(o, ["base"])?;
        let hourly = multipliers(o, "hourly")?;
        let daily = multipliers(o, "daily")?;
        let shape = LoadShape::new(base, hourly, daily).map_err(msg)?;
        return LoadProfile::from_shape(unit, shape, trend).map_err(msg);
    }
    for key in ["hourly", "daily"] {
        o.refuse(
            key,
            "levels (average, daily_peak, weekly_peak); a shape needs a `base`",
        )?;
    }
    let ([average, daily, weekly], unit) = levels(o, ["average", "daily_peak", "weekly_peak"])?;
    LoadProfile::new(unit, average, daily, weekly, trend).map_err(msg)
}

/// A list of plain multipliers.
fn multipliers(o: &Opts, key: &str) -> Result<Vec<f64>, String> {
    let v = Opts::required(o.get(key), key, "[1.0, 1.0, …]")?;
    let Some(list) = v.read_lock::<Array>() else {
        return Err(format!(
            "`{key}` must be a list of multipliers, got {}",
            kind(v)
        ));
    };
    list.iter()
        .enumerate()
        .map(|(i, x)| number(x, &format!("{key}[{i}]")))
        .collect()
}

fn target(o: &Opts) -> Result<LoadTarget, String> {
    let ([peak], unit) = levels(o, ["peak"])?;
    let mut t = LoadTarget::new(unit, peak, o.opt_count("by_month")?).map_err(msg)?;
    t.description = o.text("description")?;
    t.data_size_bytes = o
        .bytes("data_size")?
        .map(|b| byte_size("data_size", b))
        .transpose()
        .map_err(msg)?;
    Ok(t)
}

fn growth(ctx: &NativeCallContext, name: String, o: &Opts) -> Res<Growth> {
    let horizon = o.count("horizon", DEFAULT_HORIZON_MONTHS)?;
    let Some(curve) = o.get("curve") else {
        let users = o.number("users")?;
        let traffic = o.number("traffic_per_user")?;
        if users.is_none() && traffic.is_none() {
            return Err(
                "give monthly growths `users` and `traffic_per_user` (fractions: 0.05 \
                        is +5 % a month) or a `curve` (|month| multiplier)"
                    .into(),
            );
        }
        let (u, t) = (users.unwrap_or(0.0), traffic.unwrap_or(0.0));
        return Ok(Growth::compound(name, u, t, horizon).map_err(msg)?);
    };
    for key in ["users", "traffic_per_user"] {
        o.refuse(key, "a `curve`, which gives the whole load multiplier")?;
    }
    let f = closure(curve, "curve", "|month| 1.0 + 0.05 * month")?;
    // The horizon is checked before the function runs once per month.
    crate::model::count("horizon", horizon, 1, MAX_HORIZON_MONTHS).map_err(msg)?;
    let mut loads = Vec::new();
    for month in 0..=horizon {
        let v: Dynamic = f.call_within_context(ctx, (month,))?;
        let x = number(&v, "curve").map_err(|_| {
            format!(
                "the curve must return the load multiplier as a number; at month {month} it \
                 returned {}",
                kind(&v)
            )
        })?;
        loads.push(x);
    }
    Ok(Growth::from_curve(name, loads).map_err(msg)?)
}

/// Prefixes a message raised here with the item; an error from inside the curve's function
/// keeps its own place and words.
fn prefixed(item: &str, e: rhai::EvalAltResult) -> Box<rhai::EvalAltResult> {
    match e {
        rhai::EvalAltResult::ErrorRuntime(v, pos) if v.is_string() => {
            rhai::EvalAltResult::ErrorRuntime(format!("{item}: {v}").into(), pos).into()
        }
        other => other.into(),
    }
}

fn event(name: String, o: &Opts) -> Result<LoadEvent, String> {
    let month = Opts::required(o.opt_count("month")?, "month", "4 (months from today)")?;
    let mult = Opts::required(o.number("multiplier")?, "multiplier", "3.0")?;
    let duration = Opts::required(o.duration("duration")?, "duration", "hours(48)")?;
    let mut e = LoadEvent::new(name, month, mult, duration).map_err(msg)?;
    e.date = o.text("date")?;
    e.preparation = o.text("preparation")?;
    Ok(e)
}
