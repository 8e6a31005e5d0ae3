//! Steps (what a request does) and `m.endpoint`, which names a list of them.
//!
//! Step constructors are methods of the resource handles (`db.read(ms(5))`) plus a few
//! top-level control-flow functions (`branch`, `repeat`, `delay`). Each returns a `Step` value;
//! the model refers to resources by name, so a step only carries its handle's name. Functions
//! that put steps inside a new one copy them, and pay for the copies from the script's
//! [`Budget`].

use super::builder::ModelHandle;
use super::values::*;
use crate::model::{
    Endpoint, MAX_RETRIES, MAX_TIMES, QueryOp, RetrySpec, Step, count, non_negative,
};
use rhai::{Dynamic, Engine, NativeCallContext};

fn step(s: Step) -> Res<ScriptStep> {
    Ok(ScriptStep(std::rc::Rc::new(s)))
}

pub(crate) fn register(engine: &mut Engine, budget: &Budget) {
    engine.register_type_with_name::<ScriptStep>("Step");
    engine.register_fn("to_string", |s: &mut ScriptStep| describe(&s.0));
    engine.register_fn("to_debug", |s: &mut ScriptStep| format!("{:?}", s.0));
    register_resource_steps(engine);
    register_data_steps(engine, budget);
    register_external_steps(engine);
    register_control_flow(engine, budget);
    register_label(engine, budget);
    register_endpoint(engine, budget);
}

/// Steps on the compute tier: CPU work on an app, visits to a station.
fn register_resource_steps(engine: &mut Engine) {
    engine.register_fn("compute", |h: &mut Handle, d: Dynamic| {
        step(Step::Compute {
            app: h.expect(Kind::App, "compute")?.into(),
            demand: dist(&d, "demand")?,
        })
    });
    engine.register_fn("visit", |h: &mut Handle| {
        step(Step::Visit {
            station: h.expect(Kind::Station, "visit")?.into(),
            service: None,
        })
    });
    engine.register_fn("visit", |h: &mut Handle, d: Dynamic| {
        let station = h.expect(Kind::Station, "visit")?.into();
        step(Step::Visit {
            station,
            service: Some(dist(&d, "service")?),
        })
    });
}

/// Steps on the data tier: database queries, cache lookups and background jobs.
fn register_data_steps(engine: &mut Engine, budget: &Budget) {
    for (method, op) in [("read", QueryOp::Read), ("write", QueryOp::Write)] {
        engine.register_fn(method, move |h: &mut Handle, d: Dynamic| {
            let db = h.expect(Kind::Database, method)?.into();
            step(Step::Query {
                db,
                op,
                service: dist(&d, "service")?,
                bytes: None,
            })
        });
    }
    // `db.write(service, #{ bytes: kb(2) })`: what the write adds to the database.
    engine.register_fn("write", |h: &mut Handle, d: Dynamic, o: Dynamic| {
        let db: String = h.expect(Kind::Database, "write")?.into();
        let o = Opts::new(&o, &format!("the write on `{db}`"), &["bytes"])?;
        let bytes = o.bytes("bytes")?;
        step(Step::Query {
            db,
            op: QueryOp::Write,
            service: dist(&d, "service")?,
            bytes,
        })
    });
    let b = budget.clone();
    engine.register_fn(
        "get",
        move |h: &mut Handle, p: Dynamic, miss: Dynamic| -> Res<ScriptStep> {
            let cache: String = h.expect(Kind::Cache, "get")?.into();
            let item = format!("cache `{cache}`");
            let hit_ratio = for_item(&item, probability(&p, "hit_ratio"))?;
            let miss = for_item(&item, steps(&miss, "miss steps", &b))?;
            step(Step::CacheGet {
                cache,
                hit_ratio,
                miss,
            })
        },
    );
    engine.register_fn("enqueue", |h: &mut Handle, d: Dynamic| {
        step(Step::Enqueue {
            queue: h.expect(Kind::Background, "enqueue")?.into(),
            service: dist(&d, "service")?,
        })
    });
}

/// `ext.call()` reaches these through the external handle's curried `Fn` (see [`Handle::into_dynamic`]).
fn register_external_steps(engine: &mut Engine) {
    engine.register_fn(
        "to_string",
        |f: &mut rhai::FnPtr| match Handle::from_fn_ptr(f) {
            Some(h) => h.to_string(),
            None => format!("Fn({})", f.fn_name()),
        },
    );
    engine.register_fn(EXTERNAL_CALL_FN, |h: Handle| {
        step(Step::Call {
            external: h.expect(Kind::External, "call")?.into(),
            delay: None,
        })
    });
    engine.register_fn(EXTERNAL_CALL_FN, |h: Handle, d: Dynamic| {
        let external = h.expect(Kind::External, "call")?.into();
        step(Step::Call {
            external,
            delay: Some(dist(&d, "delay")?),
        })
    });
}

fn register_control_flow(engine: &mut Engine, budget: &Budget) {
    let b = budget.clone();
    engine.register_fn("branch", move |p: Dynamic, then: Dynamic| {
        branch(&p, &then, None, &b)
    });
    let b = budget.clone();
    engine.register_fn(
        "branch",
        move |p: Dynamic, then: Dynamic, otherwise: Dynamic| {
            branch(&p, &then, Some(&otherwise), &b)
        },
    );
    let b = budget.clone();
    engine.register_fn(
        "repeat",
        move |n: Dynamic, body: Dynamic| -> Res<ScriptStep> {
            let times = count("times", integer(&n, "times")?, 0, MAX_TIMES).map_err(msg)?;
            step(Step::Repeat {
                times,
                steps: steps(&body, "steps", &b)?,
            })
        },
    );
    let b = budget.clone();
    engine.register_fn(
        "times",
        move |s: &mut ScriptStep, n: Dynamic| -> Res<ScriptStep> {
            let times = count("times", integer(&n, "times")?, 0, MAX_TIMES).map_err(msg)?;
            nesting(s.0.depth(), "step.times(n)")?;
            step(Step::Repeat {
                times,
                steps: vec![b.copy(&s.0)?],
            })
        },
    );
    engine.register_fn("delay", |d: Dynamic| {
        step(Step::Delay {
            delay: dist(&d, "delay")?,
        })
    });
}

/// `step.label(name)`: the step under a name of its own, so that its random streams keep their
/// draws when a variant edits the steps around it (see `Step::Labelled`).
fn register_label(engine: &mut Engine, budget: &Budget) {
    let b = budget.clone();
    engine.register_fn(
        "label",
        move |ctx: NativeCallContext, s: &mut ScriptStep, name: Dynamic| -> Res<ScriptStep> {
            let label = super::values::name(&name, "step label")?;
            nesting(s.0.depth(), "step.label(name)")?;
            let at = super::builder::origin_of(&ctx, "");
            step(Step::labelled(label, b.copy(&s.0)?, Some(at)).map_err(msg)?)
        },
    );
}

fn branch(
    p: &Dynamic,
    then: &Dynamic,
    otherwise: Option<&Dynamic>,
    budget: &Budget,
) -> Res<ScriptStep> {
    let probability = probability(p, "branch probability")?;
    let then = steps(then, "then steps", budget)?;
    let otherwise = otherwise
        .map(|o| steps(o, "otherwise steps", budget))
        .transpose()?
        .unwrap_or_default();
    step(Step::Branch {
        probability,
        then,
        otherwise,
    })
}

const ENDPOINT_KEYS: &[&str] = &["timeout", "retries", "backoff", "app", "response_bytes"];

fn register_endpoint(engine: &mut Engine, budget: &Budget) {
    let b = budget.clone();
    engine.register_fn(
        "endpoint",
        move |ctx: NativeCallContext,
              m: &mut ModelHandle,
              name: Dynamic,
              w: Dynamic,
              s: Dynamic| { endpoint(&ctx, m, &name, &w, &s, &Opts::empty(), &b) },
    );
    let b = budget.clone();
    engine.register_fn(
        "endpoint",
        move |ctx: NativeCallContext,
              m: &mut ModelHandle,
              name: Dynamic,
              w: Dynamic,
              s: Dynamic,
              o: Dynamic| {
            endpoint(
                &ctx,
                m,
                &name,
                &w,
                &s,
                &Opts::new(&o, "m.endpoint", ENDPOINT_KEYS)?,
                &b,
            )
        },
    );
}

/// Adds an endpoint; errors name it.
fn endpoint(
    ctx: &NativeCallContext,
    m: &ModelHandle,
    name: &Dynamic,
    weight: &Dynamic,
    body: &Dynamic,
    o: &Opts,
    budget: &Budget,
) -> Res<()> {
    let name = super::values::name(name, "endpoint name")?;
    let item = format!("endpoint `{name}`");
    let mut e = for_item(&item, endpoint_parts(&name, weight, body, o, budget))?;
    e.origin = Some(m.origin(ctx));
    Ok(for_item(&item, m.add_endpoint(e))?)
}

fn endpoint_parts(
    name: &str,
    weight: &Dynamic,
    body: &Dynamic,
    o: &Opts,
    budget: &Budget,
) -> Result<Endpoint, String> {
    let weight = non_negative("weight", number(weight, "weight")?).map_err(msg)?;
    let timeout_s = o
        .duration("timeout")?
        .map(|t| crate::model::positive("timeout", t))
        .transpose()
        .map_err(msg)?;
    let retries = count("retries", o.count("retries", 0)?, 0, MAX_RETRIES).map_err(msg)?;
    let backoff = o.dist_or_zero("backoff")?;
    let retry = (retries > 0).then_some(RetrySpec {
        count: retries,
        backoff,
    });
    let app = o
        .get("app")
        .map(|a| handle(a, Kind::App, "app"))
        .transpose()?;
    let steps = steps(body, "steps", budget)?;
    Ok(Endpoint {
        name: name.into(),
        weight,
        steps,
        app,
        timeout_s,
        retry,
        origin: None,
        response_bytes: o.bytes("response_bytes")?,
    })
}

/// A one-line description of a step, for `print(step)`.
fn describe(s: &Step) -> String {
    match s {
        Step::Compute { app, demand } => format!("compute on `{app}`: {}", demand.describe()),
        Step::Visit { station, .. } => format!("visit `{station}`"),
        Step::Query {
            db, op, service, ..
        } => {
            let verb = if *op == QueryOp::Read {
                "read"
            } else {
                "write"
            };
            format!("{verb} on `{db}`: {}", service.describe())
        }
        Step::CacheGet {
            cache,
            hit_ratio,
            miss,
        } => {
            format!(
                "get from `{cache}` (hit ratio {hit_ratio}, {} miss steps)",
                miss.len()
            )
        }
        Step::Call { external, .. } => format!("call `{external}`"),
        Step::Enqueue { queue, .. } => format!("enqueue on `{queue}`"),
        Step::Branch {
            probability,
            then,
            otherwise,
        } => {
            format!(
                "branch p={probability} ({} / {} steps)",
                then.len(),
                otherwise.len()
            )
        }
        Step::Repeat { times, steps } => format!("repeat {times} x {} steps", steps.len()),
        Step::Delay { delay } => format!("delay {}", delay.describe()),
        Step::Labelled { label, inner, .. } => format!("{} (labelled `{label}`)", describe(inner)),
    }
}
