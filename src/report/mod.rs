//! Outputs: one exporter per format behind [`Exporter`], each rendering the [`Results`] to
//! bytes; [`write_all`] then writes them atomically. The terminal summary is [`text`].

pub mod csv;
pub mod json;
pub mod results;
pub mod text;
pub mod write;

pub use results::Results;
pub use write::{WriteError, write_all};

use thiserror::Error;

/// Why an output could not be rendered.
#[derive(Debug, Error)]
pub enum RenderError {
    #[error("cannot render {file}: {message}")]
    Render { file: &'static str, message: String },
}

/// Renders results into one file's bytes.
pub trait Exporter {
    /// The file name it writes, e.g. `summary.csv`.
    fn file_name(&self) -> &'static str;
    fn render(&self, results: &Results) -> Result<Vec<u8>, RenderError>;
}

/// The files of a run's output folder.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(csv::SummaryCsv),
        Box::new(csv::TimeseriesCsv),
        Box::new(csv::StagesCsv),
        Box::new(json::ResultsJson),
    ]
}
