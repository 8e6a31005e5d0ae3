//! The Rhai engine a model script runs in: bounded, quiet on stdout, confined for imports.
//!
//! A model file may come from anyone, so the engine caps what a script can consume (operations,
//! wall-clock time, call depth, sizes, modules), refuses undefined variables at compile time,
//! and sends `print` and `debug` to stderr because stdout carries machine-readable output
//! (`capsim check --json`).

use super::builder::{self, ModelSlot};
use super::resolver::{ConfinedResolver, Texts};
use super::values::Budget;
use super::{dists, outlook, resources, scaling, scenario, steps, units, variants, workload};
use crate::model::MAX_SCRIPT_SECONDS;
use rhai::{Dynamic, Engine};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Operations a script may run before it is stopped: far more than any model needs, and an
/// endless loop ends with an error instead of hanging the CLI.
pub(crate) const MAX_OPERATIONS: u64 = 50_000_000;

/// Deepest nesting of script function calls.
pub(crate) const MAX_CALL_LEVELS: usize = 64;

/// Deepest nesting of expressions (at the top level; half of it inside functions).
pub(crate) const MAX_EXPR_DEPTH: usize = 64;

/// Longest string, in bytes.
pub(crate) const MAX_STRING: usize = 65_536;

/// Longest list (long `empirical` lists fit).
pub(crate) const MAX_ARRAY: usize = 1_000_000;

/// Largest map.
pub(crate) const MAX_MAP: usize = 10_000;

/// What ends a script that runs too long, for the error message to recognise.
pub(crate) const TIMED_OUT: &str = "capsim: the script's time is up";

/// The caps on the work a script may do; tests lower them to stop a runaway script fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    pub operations: u64,
    /// Wall-clock seconds.
    pub seconds: u64,
}

impl Caps {
    pub(crate) const DEFAULT: Caps = Caps {
        operations: MAX_OPERATIONS,
        seconds: MAX_SCRIPT_SECONDS,
    };
}

/// What the engine is built for: the main file's name and folder, and where its results go.
pub(crate) struct Setup<'a> {
    pub main_file: &'a str,
    pub base_dir: &'a Path,
    pub cwd: &'a Path,
    pub texts: Texts,
    pub slot: Rc<ModelSlot>,
    /// [`Caps::DEFAULT`] except in tests that need a runaway script to stop quickly.
    pub caps: Caps,
}

/// Builds the sandboxed engine with the whole model language registered.
pub(crate) fn engine(setup: Setup) -> Engine {
    let mut engine = Engine::new();
    limit(&mut engine, setup.caps);
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
    let budget = Budget::new();
    steps::register(&mut engine, &budget);
    workload::register(&mut engine);
    scenario::register(&mut engine);
    outlook::register(&mut engine);
    variants::register(&mut engine, &budget);
    scaling::register(&mut engine);
    engine
}

fn limit(engine: &mut Engine, caps: Caps) {
    engine
        .set_max_operations(caps.operations)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_EXPR_DEPTH / 2)
        .set_max_string_size(MAX_STRING)
        .set_max_array_size(MAX_ARRAY)
        .set_max_map_size(MAX_MAP)
        .set_max_modules(64)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true);
    // The operation limit stops a loop of cheap operations; this stops one of slow ones (with
    // size limits set, Rhai measures a whole list each time it grows). The clock is read once
    // every 1024 operations.
    let start = Instant::now();
    let limit = Duration::from_secs(caps.seconds);
    engine.on_progress(move |ops| {
        (ops % 1024 == 0 && start.elapsed() > limit).then(|| Dynamic::from(TIMED_OUT))
    });
}
