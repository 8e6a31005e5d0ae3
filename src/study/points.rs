//! What a study reports of one cell: the figures of the latency-vs-load curve and of the
//! projections, read off the cell's estimates (all simulated, with their 95 % intervals).

use super::cell::{Cell, Holds, Subject};
use crate::analysis::slo::SloCheck;
use crate::engine::UNLIMITED;
use crate::stats::{Estimate, Metric, RequestMetric, ResourceMetric, Scope};
use serde::{Deserialize, Serialize};

/// One simulated level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    /// Users (closed) or arrivals per second (open).
    pub level: f64,
    /// `level` over today's.
    pub multiplier: f64,
    pub replications: u32,
    pub holds: Holds,
    /// All endpoints together.
    pub p50_ms: Estimate,
    pub p95_ms: Estimate,
    pub p99_ms: Estimate,
    pub throughput_rps: Estimate,
    pub error_rate: Estimate,
    /// Per resource with a limit: its utilization.
    pub utilization: Vec<(String, Estimate)>,
    /// Every objective's verdict there.
    pub slos: Vec<SloCheck>,
}

impl LoadPoint {
    /// The point of `cell`, a cell of `subject`, against today's level `base`.
    pub fn of(subject: &Subject, cell: &Cell, holds: Holds, base: f64) -> LoadPoint {
        let g = |m: Metric| {
            cell.estimate(&Scope::Global, m)
                .unwrap_or_else(|| Estimate::new(f64::NAN, f64::NAN, f64::NAN, 0))
        };
        let utilization = subject
            .prog
            .resources
            .iter()
            .filter(|r| r.units != UNLIMITED)
            .filter_map(|r| {
                let scope = Scope::Resource(r.name.clone());
                let e = cell.estimate(&scope, Metric::Resource(ResourceMetric::Utilization))?;
                Some((r.name.clone(), e))
            })
            .collect();
        LoadPoint {
            level: cell.level,
            multiplier: cell.level / base,
            replications: cell.replications(),
            holds,
            p50_ms: g(Metric::latency(50.0)),
            p95_ms: g(Metric::latency(95.0)),
            p99_ms: g(Metric::latency(99.0)),
            throughput_rps: g(Metric::Request(RequestMetric::Throughput)),
            error_rate: g(Metric::Request(RequestMetric::ErrorRate)),
            utilization,
            slos: cell.checks(subject),
        }
    }
}
