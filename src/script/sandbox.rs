//! The Rhai engine a model script runs in: bounded, quiet on stdout, confined for imports.
//!
//! A model file may come from anyone, so the engine caps what a script can consume (operations,
//! call depth, sizes, modules), refuses undefined variables at compile time, and sends `print`
//! and `debug` to stderr because stdout carries machine-readable output (`capsim check --json`).

use super::builder::{self, ModelSlot};
use super::resolver::{ConfinedResolver, Texts};
use super::{dists, resources, scenario, steps, units, workload};
use rhai::Engine;
use std::path::Path;
use std::rc::Rc;

/// Operations a script may run before it is stopped: far more than any model needs, and an
/// endless loop ends with an error instead of hanging the CLI.
pub(crate) const MAX_OPERATIONS: u64 = 50_000_000;

/// What the engine is built for: the main file's name and folder, and where its results go.
pub(crate) struct Setup<'a> {
    pub main_file: &'a str,
    pub base_dir: &'a Path,
    pub cwd: &'a Path,
    pub texts: Texts,
    pub slot: Rc<ModelSlot>,
    /// [`MAX_OPERATIONS`] except in tests that need a runaway script to stop quickly.
    pub max_operations: u64,
}

/// Builds the sandboxed engine with the whole model language registered.
pub(crate) fn engine(setup: Setup) -> Engine {
    let mut engine = Engine::new();
    limit(&mut engine, setup.max_operations);
    engine.on_print(|text| eprintln!("{text}"));
    engine.on_debug(|text, source, pos| match (source, pos.line()) {
        (Some(s), Some(l)) => eprintln!("[{s}:{l}] {text}"),
        _ => eprintln!("{text}"),
    });
    engine.set_module_resolver(ConfinedResolver::new(
        setup.base_dir,
        setup.cwd,
        setup.texts,
    ));
    builder::register(&mut engine, setup.slot, Rc::from(setup.main_file));
    units::register(&mut engine);
    dists::register(&mut engine);
    resources::register(&mut engine);
    steps::register(&mut engine);
    workload::register(&mut engine);
    scenario::register(&mut engine);
    engine
}

fn limit(engine: &mut Engine, max_operations: u64) {
    engine
        .set_max_operations(max_operations)
        .set_max_call_levels(64)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(65_536)
        .set_max_array_size(1_000_000)
        .set_max_map_size(10_000)
        .set_max_modules(64)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true);
}
