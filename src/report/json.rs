//! `results.json`: everything, with the model and the run parameters to reproduce it.

use super::{Exporter, Output, RenderError, Results};

pub struct ResultsJson;

pub const RESULTS_JSON: &str = "results.json";

impl Exporter<Results> for ResultsJson {
    fn render(&self, results: &Results) -> Result<Vec<Output>, RenderError> {
        let mut bytes = serde_json::to_vec_pretty(results).map_err(|e| RenderError::Render {
            file: RESULTS_JSON.into(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        Ok(vec![Output::new(RESULTS_JSON, bytes)])
    }
}
