//! The model language: a Rhai script, evaluated once, that yields a plain [`Model`].
//!
//! Rhai stays inside this module: the script builds the model through the functions registered
//! here (documented in `docs/model-language.md`), and what leaves is model data with an
//! [`Origin`](crate::model::Origin) on every item, never a Rhai value. Errors, including those
//! the model's validating constructors raise, come back as [`ScriptError`] at the file, line
//! and column of the call that caused them.
//!
//! ```no_run
//! let model = capsim::script::load_file(std::path::Path::new("models/shop.rhai"))?;
//! # Ok::<(), capsim::script::ScriptError>(())
//! ```

mod builder;
mod dists;
mod error;
mod outlook;
mod resolver;
mod resources;
mod sandbox;
mod scaling;
mod scenario;
mod steps;
mod units;
mod values;
mod variants;
mod workload;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_scaling;
#[cfg(test)]
mod tests_study;

pub use error::ScriptError;

use crate::model::{Model, Origin};
use std::path::Path;
use std::rc::Rc;

/// Reads and evaluates a model file; imports resolve next to it. Sets `model.source` to `path`.
///
/// # Errors
/// [`ScriptError::Io`] when the file cannot be read, [`ScriptError::NotText`] when it is not
/// UTF-8, [`ScriptError::Eval`] for any compile or
/// run-time error (with its file, line and column), [`ScriptError::NoModel`] when the script
/// never calls `model(name)`.
pub fn load_file(path: &Path) -> Result<Model, ScriptError> {
    let source = std::fs::read_to_string(path).map_err(|source| {
        let path = path.to_path_buf();
        if source.kind() == std::io::ErrorKind::InvalidData {
            ScriptError::NotText { path }
        } else {
            ScriptError::Io { path, source }
        }
    })?;
    let base_dir = path.parent().unwrap_or(Path::new(""));
    let mut model = load_str(&source, &path.display().to_string(), base_dir)?;
    model.source = Some(path.display().to_string());
    Ok(model)
}

/// Evaluates a model script held in memory; `name` is the file name errors and origins use,
/// and imports resolve under `base_dir` (see the module resolver's rules).
///
/// # Errors
/// As [`load_file`], without `Io` for the main script.
pub fn load_str(source: &str, name: &str, base_dir: &Path) -> Result<Model, ScriptError> {
    load_limited(source, name, base_dir, sandbox::Caps::DEFAULT)
}

/// [`load_str`] with caps on the script's work of the caller's choice.
fn load_limited(
    source: &str,
    name: &str,
    base_dir: &Path,
    caps: sandbox::Caps,
) -> Result<Model, ScriptError> {
    let texts: resolver::Texts = Rc::default();
    texts
        .borrow_mut()
        .insert(name.to_string(), source.to_string());
    let slot = Rc::new(builder::ModelSlot::default());
    let cwd = std::env::current_dir().unwrap_or_default();
    let setup = sandbox::Setup {
        main_file: name,
        base_dir,
        cwd: &cwd,
        texts: texts.clone(),
        slot: slot.clone(),
        caps,
    };
    let mut engine = sandbox::engine(setup);
    let result = run(&mut engine, source, name, &slot);
    drop(engine);
    let texts = texts.borrow();
    let cx = error::Context {
        main_file: name,
        texts: &texts,
        caps,
    };
    match result {
        Err(Failure::Parse(e)) => Err(cx.parse(&e)),
        Err(Failure::Run(e)) => Err(cx.runtime(&e)),
        Err(Failure::Variant(v, at, e)) => Err(cx.in_variant(&v, &at, &e)),
        Err(Failure::At(at, message)) => Err(cx.at(&at, message)),
        Ok(()) => slot.take().ok_or_else(|| ScriptError::NoModel {
            file: name.to_string(),
        }),
    }
}

/// Why a script did not yield a model.
pub(crate) enum Failure {
    Parse(rhai::ParseError),
    Run(Box<rhai::EvalAltResult>),
    /// An error while the closure of the named variant, declared at that origin, ran.
    Variant(String, Origin, Box<rhai::EvalAltResult>),
    /// A rule broken by a declaration, reported at its place.
    At(Origin, String),
}

/// Compiles the main script under its file name, runs it once, then builds its variants
/// while the engine is alive.
///
/// The script runs as a module so that its functions, closures included, keep its top-level
/// imports: registered in the engine once the script has run, they let a variant's closure
/// call an imported module's functions (`lt::load_test(m, …)`) as the script could.
fn run(
    engine: &mut rhai::Engine,
    source: &str,
    name: &str,
    slot: &builder::ModelSlot,
) -> Result<(), Failure> {
    let mut ast = engine.compile(source).map_err(Failure::Parse)?;
    ast.set_source(name);
    let scope = rhai::Scope::new();
    let script = rhai::Module::eval_ast_as_new(scope, &ast, engine).map_err(Failure::Run)?;
    engine.register_global_module(script.into());
    variants::apply(engine, slot)
}
