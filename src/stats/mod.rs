//! Statistics: what a replication measured ([`recorder`]), and what replications say together
//! ([`aggregate`]): confidence intervals, pooled percentiles, time series, warm-up detection.

pub mod aggregate;
pub mod breakdown;
pub mod ci;
pub mod figures;
pub mod histogram;
pub mod metric;
pub mod mser;
pub mod recorder;
pub mod series;
pub mod timeavg;

pub use aggregate::{Aggregate, Figure, RepSummary};
pub use ci::Estimate;
pub use figures::{Estimator, FigureKey, Schema, Scope};
pub use metric::{Metric, PartMetric, Percentile, RequestMetric, ResourceMetric, Unit};
pub use recorder::{Recorder, Replication};
pub use series::SpanSummary;
