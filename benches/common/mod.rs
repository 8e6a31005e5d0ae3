//! What the benches share: loading a model as `capsim run` does.

use capsim::engine::Program;
use capsim::model::{Checked, validate};
use std::path::Path;

/// Loads, validates and compiles the model at `rel` (relative to the repository root); a
/// bench cannot go on without it, so failures panic with the reason.
pub fn load(rel: &str) -> (Checked, Program) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let model = capsim::script::load_file(&path)
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()));
    let checked =
        validate(model).unwrap_or_else(|e| panic!("{} is not valid: {e:?}", path.display()));
    let prog = Program::compile(&checked);
    (checked, prog)
}
