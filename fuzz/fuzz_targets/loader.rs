//! Model text -> the loader, validation, compilation and the analytic check, in process: what
//! `capsim check` does, without the process. Imports resolve from the shipped `models/`
//! folder, so `import "loadtests"` finds `scripts/loadtests.rhai`.
#![no_main]

use capsim::model::validate;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let model = match capsim::script::load_str(source, "fuzz.rhai", &base) {
        Ok(model) => model,
        Err(e) => {
            // What the CLI renders: the message, the one-line form, the caret's offset (in
            // the text of the file the error is in, which may be an imported module).
            let _ = (e.to_string(), e.one_line(), e.location());
            if let (
                Some(offset),
                capsim::script::ScriptError::Eval {
                    source_text: Some(text),
                    ..
                },
            ) = (e.offset(), &e)
            {
                assert!(
                    text.is_char_boundary(offset),
                    "offset {offset} inside or past the text"
                );
            }
            return;
        }
    };
    let Ok(checked) = validate(model) else {
        return;
    };
    let _program = capsim::engine::Program::compile(&checked);
    let loads = capsim::analysis::capacity::analyse(&checked);
    // `check --json` writes the model and its loads.
    let _ =
        serde_json::to_string(&serde_json::json!({ "model": checked.model, "capacity": loads }));
});
