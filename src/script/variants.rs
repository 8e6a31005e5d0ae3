//! What-if variants: `m.variant(name, #{ … }, |m| { … })` and the edits a variant's closure
//! can make besides the whole language: `m.change`, `m.service_factor`, `m.hit_ratio` and
//! `m.replace_steps`.
//!
//! `m.variant` only records the closure. Once the script has run, [`apply`] seals the base
//! model and, for each variant in order, runs the closure on a copy of the finished base (a
//! fresh handle), while the engine and the AST are still alive; the copy becomes the variant's
//! model. So a variant sees everything the script declares, wherever `m.variant` is called.

use super::Failure;
use super::builder::{ModelHandle, ModelSlot, PendingVariant, room, steps_in};
use super::values::*;
use crate::model::{Effort, MAX_STEPS, MAX_VARIANT_STEPS, MAX_VARIANTS, Variant};
use rhai::{Dynamic, Engine, NativeCallContext};

const VARIANT_KEYS: &[&str] = &["effort", "rationale"];

pub(crate) fn register(engine: &mut Engine, budget: &Budget) {
    engine.register_fn(
        "variant",
        |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic, f: Dynamic| {
            declare(&ctx, m, &name, &Opts::empty(), &f)
        },
    );
    engine.register_fn(
        "variant",
        |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic, o: Dynamic, f: Dynamic| {
            declare(
                &ctx,
                m,
                &name,
                &Opts::new(&o, "m.variant", VARIANT_KEYS)?,
                &f,
            )
        },
    );
    engine.register_fn(
        "change",
        |ctx: NativeCallContext, m: &mut ModelHandle, h: Dynamic, o: Dynamic| {
            super::resources::change(&ctx, m, &h, &o)
        },
    );
    engine.register_fn(
        "service_factor",
        |m: &mut ModelHandle, h: Dynamic, f: Dynamic| service_factor(m, &h, &f),
    );
    engine.register_fn(
        "hit_ratio",
        |m: &mut ModelHandle, c: Dynamic, p: Dynamic| hit_ratio(m, &c, &p, None),
    );
    engine.register_fn(
        "hit_ratio",
        |m: &mut ModelHandle, c: Dynamic, p: Dynamic, e: Dynamic| -> Res<()> {
            let e = name(&e, "endpoint name")?;
            hit_ratio(m, &c, &p, Some(&e))
        },
    );
    let b = budget.clone();
    engine.register_fn(
        "replace_steps",
        move |ctx: NativeCallContext, m: &mut ModelHandle, e: Dynamic, s: Dynamic| {
            replace_steps(&ctx, m, &e, &s, &b)
        },
    );
}

fn service_factor(m: &ModelHandle, h: &Dynamic, f: &Dynamic) -> Res<()> {
    let Some(h) = Handle::from_dynamic(h) else {
        let got = kind(h);
        return Err(format!("`m.service_factor` needs a resource handle, got {got}").into());
    };
    let factor = number(f, "service factor")?;
    let mut b = m.edit_variant("m.service_factor")?;
    let r = b.model.scale_service_times(&h.name, factor);
    for_item(&h.to_string(), r.map_err(msg))?;
    Ok(())
}

/// Replaces an endpoint's steps, within [`MAX_STEPS`] over the model's endpoints; the
/// endpoint then has the origin of this call.
fn replace_steps(
    ctx: &NativeCallContext,
    m: &ModelHandle,
    e: &Dynamic,
    s: &Dynamic,
    budget: &Budget,
) -> Res<()> {
    let e = name(e, "endpoint name")?;
    let item = format!("endpoint `{e}`");
    let steps = for_item(&item, steps(s, "steps", budget))?;
    let at = m.origin(ctx);
    let mut b = m.edit_variant("m.replace_steps")?;
    let others = b.model.endpoints.iter().filter(|x| x.name != e);
    let total = others.map(|x| steps_in(&x.steps)).sum::<usize>() + steps_in(&steps);
    if total > MAX_STEPS {
        let msg = format!(
            "the model's endpoints would have {total} steps; at most {MAX_STEPS} are supported"
        );
        return Err(format!("{item}: {msg}").into());
    }
    let endpoint = for_item(&item, b.model.replace_steps(&e, steps).map_err(msg))?;
    endpoint.origin = Some(at);
    Ok(())
}

fn declare(
    ctx: &NativeCallContext,
    m: &ModelHandle,
    name: &Dynamic,
    o: &Opts,
    f: &Dynamic,
) -> Res<()> {
    let name = super::values::name(name, "variant name")?;
    let item = format!("variant `{name}`");
    let change = for_item(
        &item,
        closure(f, "change", "|m| { m.change(db, #{ replicas: 2 }) }"),
    )?;
    let effort = o.text("effort")?.map(|e| Effort::parse(&e)).transpose();
    let effort = for_item(&item, effort.map_err(msg))?;
    let rationale = o.text("rationale")?;
    let origin = m.origin(ctx);
    let mut b = m.edit()?;
    if let Some(v) = &b.in_variant {
        return Err(format!("{item}: declared inside variant `{v}`; a variant is one change of the base model, declare it with the others").into());
    }
    for_item(&item, room(b.pending.len(), MAX_VARIANTS, "variants"))?;
    b.pending.push(PendingVariant {
        name,
        effort,
        rationale,
        origin,
        change,
    });
    Ok(())
}

fn hit_ratio(m: &ModelHandle, c: &Dynamic, p: &Dynamic, endpoint: Option<&str>) -> Res<()> {
    let cache = handle(c, Kind::Cache, "cache")?;
    let p = number(p, "hit_ratio")?;
    let mut b = m.edit_variant("m.hit_ratio")?;
    let r = b.model.set_hit_ratio(&cache, p, endpoint);
    for_item(&format!("cache `{cache}`"), r.map_err(msg))?;
    Ok(())
}

/// Seals the base model and builds each declared variant from a copy of it; the variants'
/// models together stay within [`MAX_VARIANT_STEPS`].
///
/// A closure is called with an empty AST, so that Rhai finds it in the script's module (see
/// `script::run`), with the script's imports, rather than in the AST without them.
pub(crate) fn apply(engine: &Engine, slot: &ModelSlot) -> Result<(), Failure> {
    let ast = rhai::AST::empty();
    let Some(base) = slot.handle() else {
        return Ok(());
    };
    base.seal();
    let pending = std::mem::take(&mut base.0.borrow_mut().pending);
    let mut steps = 0_usize;
    for p in pending {
        let copy = base.fork(&p.name);
        let ran: Result<Dynamic, _> = p.change.call(engine, &ast, (copy.clone(),));
        // What the closure returns is of no use: it changes the model it is given.
        drop(ran.map_err(|e| Failure::Variant(p.name.clone(), p.origin.clone(), e))?);
        copy.seal();
        let mut model = copy.0.borrow().model.clone();
        // The capacity search runs on the model itself; its options describe the model as
        // written, which a variant changes.
        model.scaling.clear();
        model.costs = None;
        steps += model
            .endpoints
            .iter()
            .map(|e| steps_in(&e.steps))
            .sum::<usize>();
        if steps > MAX_VARIANT_STEPS {
            let message = format!(
                "variant `{}`: the variants' models would have {steps} steps in all (each \
                 variant is a whole copy of the model); at most {MAX_VARIANT_STEPS} are supported",
                p.name
            );
            return Err(Failure::At(p.origin, message));
        }
        base.0.borrow_mut().model.variants.push(Variant {
            name: p.name,
            effort: p.effort,
            rationale: p.rationale,
            origin: Some(p.origin),
            model: Box::new(model),
        });
    }
    Ok(())
}
