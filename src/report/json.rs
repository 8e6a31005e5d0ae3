//! `results.json`: everything, with the model and the run parameters to reproduce it.

use super::{Exporter, RenderError, Results};

pub struct ResultsJson;

impl Exporter for ResultsJson {
    fn file_name(&self) -> &'static str {
        "results.json"
    }

    fn render(&self, results: &Results) -> Result<Vec<u8>, RenderError> {
        let mut bytes = serde_json::to_vec_pretty(results).map_err(|e| RenderError::Render {
            file: self.file_name(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
