//! Outputs: documents rendered to bytes. An exporter renders one kind of document (a run's
//! [`Results`] today; a study and the plan build on the same trait) into the files it names;
//! [`write_all`] writes them atomically. The report computes nothing: every figure comes
//! computed in the document, and every number is written through [`crate::format`]. The
//! terminal summary is [`text`].

pub mod capacity_csv;
mod capacity_text;
pub mod csv;
pub mod json;
pub mod study_csv;
pub mod text;
pub mod time_csv;
mod time_text;
pub mod write;

pub use crate::analysis::results::Results;
pub use write::{WriteError, write_all};

use thiserror::Error;

/// Why an output could not be rendered.
#[derive(Debug, Error)]
pub enum RenderError {
    #[error("cannot render {file}: {message}")]
    Render { file: String, message: String },
}

/// One rendered file: its name in the output folder and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Output {
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Output {
        Output {
            name: name.into(),
            bytes,
        }
    }
}

/// Renders a document of kind `D` into the files it makes (one for a table, one per chart
/// for a set of charts).
pub trait Exporter<D: ?Sized> {
    fn render(&self, doc: &D) -> Result<Vec<Output>, RenderError>;
}

/// The files of a run's output folder.
pub fn exporters() -> Vec<Box<dyn Exporter<Results>>> {
    vec![
        Box::new(csv::SummaryCsv),
        Box::new(csv::TimeseriesCsv),
        Box::new(csv::StagesCsv),
        Box::new(study_csv::ProjectionsCsv),
        Box::new(study_csv::EventsCsv),
        Box::new(study_csv::WhatifCsv),
        Box::new(study_csv::WhatifBreachCsv),
        Box::new(study_csv::SloCsv),
        Box::new(study_csv::ErrorBudgetCsv),
        Box::new(study_csv::BreakingPointCsv),
        Box::new(time_csv::BottlenecksCsv),
        Box::new(capacity_csv::CapacityCsv),
        Box::new(capacity_csv::CandidatesCsv),
        Box::new(capacity_csv::RoadmapCsv),
        Box::new(capacity_csv::CostsCsv),
        Box::new(json::ResultsJson),
    ]
}
