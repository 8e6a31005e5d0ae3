//! The model under construction and the `model(name)` function that starts it.
//!
//! A script declares exactly one model; its handle is shared (`Rc<RefCell<…>>`) so that every
//! copy the script passes around — to its own functions or to an imported module — adds to
//! the same model. The loader takes the finished [`Model`] out once the script has run.

use super::values::{Res, text};
use crate::model::{Model, Origin};
use rhai::{Dynamic, Engine, NativeCallContext};
use std::cell::RefCell;
use std::rc::Rc;

/// The model a script is building, and where its single-call items were declared.
#[derive(Debug)]
pub(crate) struct Builder {
    pub model: Model,
    /// Where the workload was declared (a second declaration is an error naming it).
    pub workload_at: Option<Origin>,
    /// The file reported for calls from an unnamed source.
    fallback_file: String,
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
            let name = text(&name, "model name")?;
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
