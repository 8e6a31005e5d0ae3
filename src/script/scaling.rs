//! What a model declares for the capacity search: `m.costs(#{ … })` (the currency and a
//! monthly budget cap) and `m.scaling(resource, #{ … })` (how one resource scales and what
//! it costs).
//!
//! A declaration is checked at its call against the resource as the model has it there, so an
//! option that does not fit (a range that leaves out today's value, a size whose cores are not
//! the app's) is reported at its line.

use super::builder::{ModelHandle, earlier};
use super::values::*;
use crate::model::scaling::{
    CostPlan, Direction, InstanceSize, Knob, ScaleOut, Scaling, ScalingOption,
};
use crate::model::{MAX_PARALLEL, MAX_RESOURCES};
use rhai::{Array, Dynamic, Engine, NativeCallContext};

const COSTS_KEYS: &[&str] = &["currency", "budget"];
const SCALING_KEYS: &[&str] = &[
    "instances",
    "replicas",
    "servers",
    "workers",
    "pool",
    "connections",
    "price",
    "sizes",
    "size",
    "resize_lead_time",
    "horizontal",
    "constraint",
];
const OPTION_KEYS: &[&str] = &["min", "max", "step", "price", "lead_time"];
const SIZE_KEYS: &[&str] = &[
    "name",
    "cores",
    "memory_mb",
    "workers",
    "service_factor",
    "price",
];
/// The largest price a script may write, per month.
const MAX_PRICE: f64 = 1e12;
/// Most instance sizes one resource may list.
const MAX_SIZES: usize = 100;

pub(crate) fn register(engine: &mut Engine) {
    engine.register_fn(
        "costs",
        |ctx: NativeCallContext, m: &mut ModelHandle, o: Dynamic| -> Res<()> {
            let o = Opts::new(&o, "m.costs", COSTS_KEYS)?;
            let currency = o.text_or("currency", "EUR")?;
            if currency.trim().is_empty() || currency.chars().count() > 10 {
                return Err("m.costs: `currency` must be a short code like \"EUR\"".into());
            }
            let budget = o.number("budget")?.map(|b| price(b, "budget")).transpose();
            let budget = for_item("m.costs", budget)?;
            let at = m.origin(&ctx);
            let mut b = m.edit()?;
            if let Some(first) = &b.model.costs {
                let first = first.origin.as_ref().map(|o| earlier(o, &at));
                let first = first.map_or(String::new(), |f| format!(" at {f}"));
                return Err(format!("m.costs was already called{first}: a model has one").into());
            }
            b.model.costs = Some(CostPlan {
                currency,
                budget,
                origin: Some(at),
            });
            Ok(())
        },
    );
    engine.register_fn(
        "scaling",
        |ctx: NativeCallContext, m: &mut ModelHandle, h: Dynamic, o: Dynamic| -> Res<()> {
            let Some(h) = Handle::from_dynamic(&h) else {
                let got = kind(&h);
                return Err(format!("`m.scaling` needs a resource handle, got {got}").into());
            };
            let item = format!("scaling of {h}");
            let o = Opts::new(&o, &format!("m.scaling of {h}"), SCALING_KEYS)?;
            let at = m.origin(&ctx);
            let mut b = m.edit()?;
            let r = b.model.resource(&h.name);
            let r = r.ok_or_else(|| format!("{h} is not in this model"))?;
            let mut s = for_item(&item, scaling(&h.name, &r.kind, &o))?;
            for_item(&item, s.check(&r.kind).map_err(msg))?;
            if let Some(first) = b.model.scaling.iter().find(|x| x.resource == h.name) {
                let first = first.origin.as_ref().map(|o| earlier(o, &at));
                let first = first.map_or(String::new(), |f| format!(" at {f}"));
                return Err(format!(
                    "{item}: already declared{first}: give all its options in one m.scaling"
                )
                .into());
            }
            if b.model.scaling.len() >= MAX_RESOURCES {
                return Err(format!("{item}: at most {MAX_RESOURCES} are supported").into());
            }
            s.origin = Some(at);
            b.model.scaling.push(s);
            Ok(())
        },
    );
}

/// A monthly price: finite, >= 0, at most [`MAX_PRICE`].
fn price(x: f64, what: &str) -> Result<f64, String> {
    if x.is_finite() && (0.0..=MAX_PRICE).contains(&x) {
        Ok(x)
    } else {
        Err(format!(
            "`{what}` must be a monthly amount >= 0 and at most {MAX_PRICE:e} (got {x})"
        ))
    }
}

fn lead_time(o: &Opts, key: &str) -> Result<f64, String> {
    Ok(o.duration(key)?.unwrap_or(0.0))
}

fn bounded(o: &Opts, key: &str, default: i64, lo: i64) -> Result<u32, String> {
    let v = o.count(key, default)?;
    if !(lo..=i64::from(MAX_PARALLEL)).contains(&v) {
        return Err(format!(
            "`{key}` must be from {lo} to {MAX_PARALLEL} (got {v})"
        ));
    }
    Ok(v as u32)
}

fn scaling(name: &str, kind: &crate::model::ResourceKind, o: &Opts) -> Result<Scaling, String> {
    let mut options = Vec::new();
    for knob in Knob::ALL {
        let Some(v) = o.get(knob.word()) else {
            continue;
        };
        let direction = crate::model::scaling::direction(kind, knob).map_err(msg)?;
        let what = format!("`{}`", knob.word());
        let oo = Opts::new(v, &what, OPTION_KEYS)?;
        let now = crate::model::scaling::current(kind, knob).unwrap_or(1);
        let lo = if knob == Knob::Replicas { 0 } else { 1 };
        let opt = (|| {
            let min = bounded(&oo, "min", i64::from(now), lo)?;
            let max = bounded(&oo, "max", i64::from(now), lo)?;
            let step = bounded(&oo, "step", 1, 1)?;
            let unit_price = oo.number("price")?.map(|p| price(p, "price")).transpose()?;
            if direction == Direction::Horizontal && unit_price.is_some() {
                return Err(format!(
                    "adds nodes, each at the node's price: give `price` (or `sizes`) to m.scaling, not to {what}"
                ));
            }
            Ok::<_, String>(ScalingOption {
                knob,
                direction,
                min,
                max,
                step,
                unit_price: unit_price.unwrap_or(0.0),
                lead_time_s: lead_time(&oo, "lead_time")?,
            })
        })();
        options.push(for_item(&what, opt)?);
    }
    let sizes = match o.get("sizes") {
        None => Vec::new(),
        Some(v) => sizes(v)?,
    };
    let size = match o.text("size")? {
        None if sizes.len() == 1 => Some(0),
        None => None,
        Some(n) => Some(sizes.iter().position(|s| s.name == n).ok_or_else(|| {
            let known: Vec<String> = sizes.iter().map(|s| format!("`{}`", s.name)).collect();
            format!("size `{n}` is not among the sizes ({})", known.join(", "))
        })?),
    };
    let node_price = o.number("price")?.map(|p| price(p, "price")).transpose()?;
    let scale_out =
        ScaleOut::parse(&o.text_or("horizontal", default_scale_out(kind))?).map_err(msg)?;
    Ok(Scaling {
        resource: name.to_string(),
        options,
        sizes,
        size,
        resize_lead_time_s: lead_time(o, "resize_lead_time")?,
        price: node_price,
        scale_out,
        constraint: o.text("constraint")?,
        origin: None,
    })
}

/// Whether a resource of this kind scales out unless the script says: a database only
/// partly (its reads), a proxy or an external service not at all.
fn default_scale_out(kind: &crate::model::ResourceKind) -> &'static str {
    use crate::model::ResourceKind::*;
    match kind {
        Database(_) => "partial",
        Proxy(_) | External(_) => "no",
        _ => "yes",
    }
}

fn sizes(v: &Dynamic) -> Result<Vec<InstanceSize>, String> {
    let Some(list) = v.read_lock::<Array>().map(|a| a.clone()) else {
        return Err(format!(
            "`sizes` must be a list of maps like [#{{ name: \"large\", cores: 2, price: 70 }}], got {}",
            kind(v)
        ));
    };
    if list.is_empty() || list.len() > MAX_SIZES {
        return Err(format!("`sizes` must list 1 to {MAX_SIZES} sizes"));
    }
    let mut out: Vec<InstanceSize> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let o = Opts::new(s, &format!("size {}", i + 1), SIZE_KEYS)?;
        let name = Opts::required(o.text("name")?, "name", "\"c6i.large\"")?;
        let item = format!("size `{name}`");
        let one = (|| {
            let count = |k: &str| -> Result<Option<u32>, String> {
                match o.opt_count(k)? {
                    None => Ok(None),
                    Some(c) if (1..=i64::from(MAX_PARALLEL)).contains(&c) => Ok(Some(c as u32)),
                    Some(c) => Err(format!("`{k}` must be from 1 to {MAX_PARALLEL} (got {c})")),
                }
            };
            let memory_mb = o.number("memory_mb")?;
            if memory_mb.is_some_and(|m| !(m.is_finite() && m > 0.0)) {
                return Err("`memory_mb` must be > 0".to_string());
            }
            let factor = o.number("service_factor")?.unwrap_or(1.0);
            if !(factor.is_finite() && factor > 0.0 && factor <= 1e6) {
                return Err(format!("`service_factor` must be > 0 (got {factor})"));
            }
            let p = Opts::required(o.number("price")?, "price", "70")?;
            Ok::<_, String>(InstanceSize {
                name: name.clone(),
                cores: count("cores")?,
                memory_mb,
                workers: count("workers")?,
                service_factor: factor,
                price: price(p, "price")?,
            })
        })();
        let one = for_item(&item, one)?;
        if out.iter().any(|s| s.name == one.name) {
            return Err(format!("{item} is listed twice"));
        }
        out.push(one);
    }
    Ok(out)
}
