//! Data volume along the projections (template tables 2.1 and 3.2): the bandwidth of the
//! responses at each month's peak and the size of each database month by month, from the
//! byte sizes the model declares ([`crate::model::volume`]) and the simulated throughput of
//! each month's cell.
//!
//! Bandwidth at the peak is the cell's simulated throughput (all endpoints, responses per
//! second) times the mix's mean response size, with the throughput's interval. A database
//! grows by the writes of every month: a month's average request rate is its peak cell's
//! simulated throughput times the load profile's average over its daily peak (the profile's
//! ratio of levels; 1 without a profile, which makes the size an upper bound), exact for an
//! open workload below saturation and, for a closed one, as close as the throughput is
//! proportional to the users (response times short against the think time).

use super::outlook::Projection;
use crate::model::{Checked, LoadUnit, ResourceKind};
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

/// One database's size at one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSize {
    pub database: String,
    pub bytes: f64,
}

/// The data volume of one month of a projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthVolume {
    pub month: u32,
    /// Response bandwidth at the month's peak, Gbit/s (`None` when no endpoint of the mix
    /// declares its response bytes).
    pub bandwidth_gbps: Option<Estimate>,
    /// The month's average request rate the writes are counted at, requests per second.
    pub average_rps: f64,
    /// Each database with a declared size, after this month's writes (month 0: today's).
    pub databases: Vec<DatabaseSize>,
}

/// The load profile's average over its daily peak, 1 without a profile in the workload's unit.
pub fn average_over_peak(c: &Checked) -> f64 {
    c.model
        .load_profile
        .as_ref()
        .filter(|p| p.unit == LoadUnit::of(&c.workload))
        .map_or(1.0, |p| p.average / p.daily_peak)
}

/// The databases that declare their size today.
fn sized_databases(c: &Checked) -> Vec<&str> {
    c.model
        .resources
        .iter()
        .filter(|r| matches!(&r.kind, ResourceKind::Database(d) if d.data_size_bytes.is_some()))
        .map(|r| r.name.as_str())
        .collect()
}

/// The volume of every month of `p`, from its simulated throughputs.
pub fn volumes(c: &Checked, p: &Projection) -> Vec<MonthVolume> {
    let bits_per_request = c.response_bits_per_s(1.0);
    let ratio = average_over_peak(c);
    let dbs = sized_databases(c);
    let mut rates = Vec::new();
    p.months
        .iter()
        .map(|m| {
            let x = &m.point.throughput_rps;
            let average_rps = x.mean * ratio;
            if m.month > 0 {
                rates.push(average_rps);
            }
            let databases = dbs
                .iter()
                .filter_map(|db| {
                    Some(DatabaseSize {
                        database: db.to_string(),
                        bytes: c.database_size_after(db, &rates)?,
                    })
                })
                .collect();
            MonthVolume {
                month: m.month,
                bandwidth_gbps: bits_per_request.map(|b| Estimate {
                    mean: x.mean * b / 1e9,
                    ci_low: x.ci_low * b / 1e9,
                    ci_high: x.ci_high * b / 1e9,
                    ..*x
                }),
                average_rps,
                databases,
            }
        })
        .collect()
}
