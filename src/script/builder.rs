//! The model under construction and the `model(name)` function that starts it.
//!
//! A script declares exactly one model; its handle is shared (`Rc<RefCell<…>>`) so that every
//! copy the script passes around — to its own functions or to an imported module — adds to
//! the same model. The loader takes the finished [`Model`] out once the script has run.
//! Items enter the model only through the `add_*` methods here, which refuse one beyond the
//! model-wide maxima at its call: validation checks them too, but by then a script in a loop
//! could already have filled the memory.
//!
//! When the script has run, the base model is sealed and each what-if variant's closure runs on
//! a [`ModelHandle::fork`] of it: a copy that knows it belongs to a variant.

use super::values::{self, Res};
use crate::model::{
    Endpoint, MAX_ENDPOINTS, MAX_RESOURCES, MAX_SCENARIOS, MAX_SLOS, MAX_STEPS, Model, Origin,
    Resource, Scenario, Slo, Step,
};
use rhai::{Dynamic, Engine, FnPtr, Map, NativeCallContext};
use std::cell::{RefCell, RefMut};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The model a script is building, and where its single-call items were declared.
#[derive(Debug)]
pub(crate) struct Builder {
    pub model: Model,
    /// Where the workload was declared (a second declaration is an error naming it).
    pub workload_at: Option<Origin>,
    /// Each resource's options as declared (or as a variant last changed them), so that
    /// `m.change` rebuilds it from them.
    pub declared: BTreeMap<String, Map>,
    /// The variants declared, to be built once the script has run.
    pub pending: Vec<PendingVariant>,
    /// The variant this builder is the copy for, if it is one.
    pub in_variant: Option<String>,
    /// Set when the script (or the variant's closure) has run: the model is finished.
    sealed: bool,
    /// The file reported for calls from an unnamed source.
    fallback_file: String,
}

/// A variant as declared: its closure runs after the script.
#[derive(Debug, Clone)]
pub(crate) struct PendingVariant {
    pub name: String,
    pub effort: Option<crate::model::Effort>,
    pub rationale: Option<String>,
    pub origin: Origin,
    pub change: FnPtr,
}

/// The script's handle on the model.
#[derive(Debug, Clone)]
pub(crate) struct ModelHandle(pub Rc<RefCell<Builder>>);

impl ModelHandle {
    /// Where the current native call is, in the file of the script or module that made it.
    pub(crate) fn origin(&self, ctx: &NativeCallContext) -> Origin {
        let fallback = self.0.borrow().fallback_file.clone();
        origin_of(ctx, &fallback)
    }

    /// The builder, for a change: refused once the model is finished (a variant's closure
    /// that reaches the base model's handle instead of the one it is given).
    pub(crate) fn edit(&self) -> Result<RefMut<'_, Builder>, String> {
        let b = self.0.borrow_mut();
        if b.sealed {
            return Err(match &b.in_variant {
                Some(v) => format!(
                    "variant `{v}` is finished: its closure changes the model only while it runs"
                ),
                None => "the base model is finished once the script has run: a variant's \
                         closure changes the model it is given (`|m| { m.change(…) }`), not \
                         the base model's handle"
                    .to_string(),
            });
        }
        Ok(b)
    }

    /// The builder of a variant, for the edits only a variant may make (`what` names one).
    pub(crate) fn edit_variant(&self, what: &str) -> Result<RefMut<'_, Builder>, String> {
        let b = self.edit()?;
        if b.in_variant.is_none() {
            return Err(format!(
                "{what} changes a variant's copy of the model: call it inside \
                 m.variant(name, |m| {{ … }}) on the handle the closure is given"
            ));
        }
        Ok(b)
    }

    /// Marks the model finished.
    pub(crate) fn seal(&self) {
        self.0.borrow_mut().sealed = true;
    }

    /// A copy of the finished model for variant `name` to change: without variants of its own.
    pub(crate) fn fork(&self, name: &str) -> ModelHandle {
        let b = self.0.borrow();
        let mut model = b.model.clone();
        model.variants.clear();
        let builder = Builder {
            model,
            workload_at: b.workload_at.clone(),
            declared: b.declared.clone(),
            pending: Vec::new(),
            in_variant: Some(name.to_string()),
            sealed: false,
            fallback_file: b.fallback_file.clone(),
        };
        ModelHandle(Rc::new(RefCell::new(builder)))
    }

    /// Adds an endpoint, within [`MAX_ENDPOINTS`] and [`MAX_STEPS`] over all endpoints.
    pub(crate) fn add_endpoint(&self, e: Endpoint) -> Result<(), String> {
        let mut b = self.edit()?;
        room(b.model.endpoints.len(), MAX_ENDPOINTS, "endpoints")?;
        let before: usize = b.model.endpoints.iter().map(|e| steps_in(&e.steps)).sum();
        let total = before + steps_in(&e.steps);
        if total > MAX_STEPS {
            return Err(format!(
                "the model's endpoints would have {total} steps (nested steps included, a \
                 repeat's body once); at most {MAX_STEPS} are supported"
            ));
        }
        b.model.endpoints.push(e);
        Ok(())
    }

    /// Adds a resource, within [`MAX_RESOURCES`].
    pub(crate) fn add_resource(&self, r: Resource) -> Result<(), String> {
        let mut b = self.edit()?;
        room(b.model.resources.len(), MAX_RESOURCES, "resources")?;
        b.model.resources.push(r);
        Ok(())
    }

    /// Adds a scenario, within [`MAX_SCENARIOS`].
    pub(crate) fn add_scenario(&self, s: Scenario) -> Result<(), String> {
        let mut b = self.edit()?;
        room(b.model.scenarios.len(), MAX_SCENARIOS, "scenarios")?;
        b.model.scenarios.push(s);
        Ok(())
    }

    /// Adds an objective, within [`MAX_SLOS`].
    pub(crate) fn add_slo(&self, s: Slo) -> Result<(), String> {
        let mut b = self.edit()?;
        room(b.model.slos.len(), MAX_SLOS, "objectives (m.slo calls)")?;
        b.model.slos.push(s);
        Ok(())
    }
}

/// Refuses one more item when the model already has `max`.
pub(crate) fn room(len: usize, max: usize, what: &str) -> Result<(), String> {
    if len < max {
        return Ok(());
    }
    Err(format!(
        "the model already has {max} {what}, the most supported"
    ))
}

/// Steps in a list, nested ones included (a repeat's body once).
pub(crate) fn steps_in(steps: &[Step]) -> usize {
    Step::count_within(steps, usize::MAX)
}

/// Where a native call is: the caller's source name (falling back to the main file), its
/// 1-based line and column.
pub(crate) fn origin_of(ctx: &NativeCallContext, fallback: &str) -> Origin {
    let pos = ctx.call_position();
    Origin {
        file: ctx.call_source().unwrap_or(fallback).to_string(),
        line: pos.line().unwrap_or(0) as u32,
        column: pos.position().unwrap_or(1) as u32,
    }
}

/// Describes where an earlier declaration was, relative to the current call.
pub(crate) fn earlier(at: &Origin, now: &Origin) -> String {
    at.seen_from(now)
}

/// The loader's slot for the one model a script declares.
#[derive(Debug, Default)]
pub(crate) struct ModelSlot {
    declared: RefCell<Option<(ModelHandle, Origin)>>,
}

impl ModelSlot {
    /// The handle of the model the script declared, if it did.
    pub(crate) fn handle(&self) -> Option<ModelHandle> {
        self.declared.borrow().as_ref().map(|(h, _)| h.clone())
    }

    /// The finished model, if the script declared one.
    pub(crate) fn take(&self) -> Option<Model> {
        let (handle, _) = self.declared.borrow_mut().take()?;
        let model = handle.0.borrow().model.clone();
        Some(model)
    }

    fn declare(&self, name: String, at: Origin, main_file: &str) -> Result<ModelHandle, String> {
        if let Some((_, first)) = &*self.declared.borrow() {
            return Err(format!(
                "model(…) was already called at {}: a script declares one model",
                earlier(first, &at)
            ));
        }
        let mut model = Model::new(name);
        model.origin = Some(at.clone());
        let builder = Builder {
            model,
            workload_at: None,
            declared: BTreeMap::new(),
            pending: Vec::new(),
            in_variant: None,
            sealed: false,
            fallback_file: main_file.into(),
        };
        let handle = ModelHandle(Rc::new(RefCell::new(builder)));
        *self.declared.borrow_mut() = Some((handle.clone(), at));
        Ok(handle)
    }
}

/// Registers the `Model` type and `model(name)`, which fills `slot`.
pub(crate) fn register(engine: &mut Engine, slot: Rc<ModelSlot>, main_file: Rc<str>) {
    engine.register_type_with_name::<ModelHandle>("Model");
    engine.register_fn(
        "model",
        move |ctx: NativeCallContext, name: Dynamic| -> Res<ModelHandle> {
            let name = values::name(&name, "model name")?;
            let at = origin_of(&ctx, &main_file);
            Ok(slot.declare(name, at, &main_file)?)
        },
    );
    engine.register_fn("to_string", |m: &mut ModelHandle| {
        format!("model `{}`", m.0.borrow().model.name)
    });
    engine.register_fn("to_debug", |m: &mut ModelHandle| {
        format!("model `{}`", m.0.borrow().model.name)
    });
}
