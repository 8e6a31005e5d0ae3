//! `capsim merge`: combine shards' partial results into the outputs of the whole run.

use super::args::MergeArgs;
use super::error::CliError;
use crate::engine::Program;
use crate::model::validate;
use crate::montecarlo::shard::{self, Partial};
use crate::report::{self, Results};

pub fn merge(a: &MergeArgs) -> Result<u8, CliError> {
    let mut parts = Vec::new();
    for p in &a.parts {
        let path = p.display().to_string();
        let bytes = std::fs::read(p).map_err(|e| CliError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        parts.push((path.clone(), Partial::parse(&path, &bytes)?));
    }
    let first = &parts.first().ok_or(shard::MergeError::Empty)?.1;
    let c = validate(first.model.clone())?;
    let prog = Program::compile(&c);
    let params = first.run.clone();
    let runs = shard::merge(&parts, &prog, c.workload.is_closed())?;
    let results = Results::new(&c, &prog, &params, &runs);
    let out = a
        .output
        .clone()
        .unwrap_or_else(|| super::default_output(&c));
    let written = report::write_all(&out, &results, &report::exporters())?;
    super::emit_summary(&report::text::render(&results), &written);
    Ok(0)
}
