//! What a figure measures and in which unit: one typed key per kind of figure.
//!
//! Each metric is defined once, here: its name in the outputs, its unit, the values it can
//! take and, for the metrics read off a replication, how its value is computed from the
//! replication's record ([`RequestMetric::value`], [`ResourceMetric::value`]). A figure's value
//! is computed from its key, so a figure cannot be pushed out of order, and a metric added
//! without a definition does not compile. Names are the ones the outputs have always used
//! (`latency_p95`, `error_rate`, ...), so `results.json` and the CSV files read the same.

use super::breakdown::PartsRecord;
use super::ci::Range;
use super::recorder::{EndpointRecord, ResourceRecord};
use crate::engine::ErrorKind;
use crate::model::validate::REPORTED_PERCENTILES;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The unit of a figure, as written in the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// Per second.
    Rps,
    /// A fraction in [0, 1] (shown as a percentage).
    Ratio,
    /// A score in [0, 1] (Apdex).
    Score,
    /// A number of requests (in a queue, in service, unfinished).
    Requests,
    /// Megabytes.
    Mb,
    /// Concurrent users.
    Users,
    /// A count per successful request (visits to a resource).
    PerRequest,
}

impl Unit {
    pub const ALL: [Unit; 8] = [
        Unit::Ms,
        Unit::Rps,
        Unit::Ratio,
        Unit::Score,
        Unit::Requests,
        Unit::Mb,
        Unit::Users,
        Unit::PerRequest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Rps => "rps",
            Unit::Ratio => "ratio",
            Unit::Score => "score",
            Unit::Requests => "requests",
            Unit::Mb => "mb",
            Unit::Users => "users",
            Unit::PerRequest => "per_request",
        }
    }

    /// The values a figure in this unit can take: fractions lie in [0, 1], everything else
    /// capsim reports is a duration, a rate, a count or a size, never negative.
    pub fn range(self) -> Range {
        match self {
            Unit::Ratio | Unit::Score => Range::Unit,
            _ => Range::NonNegative,
        }
    }
}

/// A latency percentile, in thousandths of a percent (`95` is 95 000), so that it can be a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percentile(u32);

impl Percentile {
    /// The percentile `p` (in percent, `99.9`), rounded to a thousandth of a percent.
    pub fn new(p: f64) -> Percentile {
        Percentile((p * 1000.0).round().clamp(0.0, 100_000.0) as u32)
    }

    /// In percent: `99.9`.
    pub fn percent(self) -> f64 {
        f64::from(self.0) / 1000.0
    }

    /// As a probability: `0.999` (the percent over 100, as it was always computed, so the
    /// figures read the same to the last bit).
    pub fn q(self) -> f64 {
        self.percent() / 100.0
    }
}

/// What a request scope (all endpoints, or one) reports per replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestMetric {
    Throughput,
    AttemptRate,
    ErrorRate,
    ErrorRateOf(ErrorKind),
    LatencyMean,
    Latency(Percentile),
    LatencyMax,
    Apdex,
    InSystemMean,
    ResidenceMean,
    Unfinished,
}

impl RequestMetric {
    /// Every metric of a request scope, in report order.
    pub fn all() -> impl Iterator<Item = RequestMetric> {
        use RequestMetric::*;
        [Throughput, AttemptRate, ErrorRate]
            .into_iter()
            .chain(ErrorKind::ALL.map(ErrorRateOf))
            .chain([LatencyMean])
            .chain(REPORTED_PERCENTILES.map(|p| Latency(Percentile::new(p))))
            .chain([LatencyMax, Apdex, InSystemMean, ResidenceMean, Unfinished])
    }

    pub fn unit(self) -> Unit {
        use RequestMetric::*;
        match self {
            Throughput | AttemptRate => Unit::Rps,
            ErrorRate | ErrorRateOf(_) => Unit::Ratio,
            LatencyMean | Latency(_) | LatencyMax | ResidenceMean => Unit::Ms,
            Apdex => Unit::Score,
            InSystemMean | Unfinished => Unit::Requests,
        }
    }

    fn name(self) -> String {
        use RequestMetric::*;
        match self {
            Throughput => "throughput".into(),
            AttemptRate => "attempt_rate".into(),
            ErrorRate => "error_rate".into(),
            ErrorRateOf(k) => format!("error_rate_{}", k.name()),
            LatencyMean => "latency_mean".into(),
            Latency(p) => format!("latency_p{}", format!("{}", p.percent()).replace('.', "_")),
            LatencyMax => "latency_max".into(),
            Apdex => "apdex".into(),
            InSystemMean => "in_system_mean".into(),
            ResidenceMean => "residence_mean".into(),
            Unfinished => "unfinished".into(),
        }
    }

    /// Its value in one replication of `span` measured seconds. Response times count the
    /// attempts unfinished at the end at their age (`latency` holds both); NaN when nothing
    /// was timed.
    pub fn value(self, e: &EndpointRecord, span: f64) -> f64 {
        use RequestMetric::*;
        let responses = e.responses() as f64;
        let ratio = |x: u64| {
            if responses > 0.0 {
                x as f64 / responses
            } else {
                0.0
            }
        };
        let timed = e.latency.count();
        let per_timed = |x: f64| if timed > 0 { x } else { f64::NAN };
        match self {
            Throughput => e.ok as f64 / span,
            AttemptRate => responses / span,
            ErrorRate => ratio(e.error_count()),
            ErrorRateOf(k) => ratio(e.errors[k.index()]),
            LatencyMean => per_timed(1e3 * e.latency_sum_s / timed as f64),
            Latency(p) => per_timed(1e3 * e.latency.quantile(p.q())),
            LatencyMax => per_timed(1e3 * e.latency.max()),
            Apdex => {
                let asked = responses + e.unfinished_count() as f64;
                if asked > 0.0 {
                    e.apdex_credit() / asked
                } else {
                    f64::NAN
                }
            }
            InSystemMean => e.in_system_mean,
            ResidenceMean => {
                if e.left > 0 {
                    1e3 * e.residence_sum_s / e.left as f64
                } else {
                    f64::NAN
                }
            }
            Unfinished => e.unfinished_count() as f64,
        }
    }
}

/// What a resource reports per replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceMetric {
    /// Time-averaged busy servers over servers (resources with a limit).
    Utilization,
    /// Time-averaged units in use (unlimited resources, which have no utilization).
    InUseMean,
    InUseMax,
    QueueMean,
    QueueMax,
    WaitMean,
    WaitP95,
    ServedRate,
    RejectRate,
    TimeoutRate,
}

impl ResourceMetric {
    /// The metrics of a resource, in report order: `limited` resources report their
    /// utilization, unlimited ones their mean use.
    pub fn all(limited: bool) -> impl Iterator<Item = ResourceMetric> {
        use ResourceMetric::*;
        [if limited { Utilization } else { InUseMean }]
            .into_iter()
            .chain([
                InUseMax,
                QueueMean,
                QueueMax,
                WaitMean,
                WaitP95,
                ServedRate,
                RejectRate,
                TimeoutRate,
            ])
    }

    pub fn unit(self) -> Unit {
        use ResourceMetric::*;
        match self {
            Utilization => Unit::Ratio,
            InUseMean | InUseMax | QueueMean | QueueMax => Unit::Requests,
            WaitMean | WaitP95 => Unit::Ms,
            ServedRate | RejectRate | TimeoutRate => Unit::Rps,
        }
    }

    fn name(self) -> &'static str {
        use ResourceMetric::*;
        match self {
            Utilization => "utilization",
            InUseMean => "in_use_mean",
            InUseMax => "in_use_max",
            QueueMean => "queue_mean",
            QueueMax => "queue_max",
            WaitMean => "wait_mean",
            WaitP95 => "wait_p95",
            ServedRate => "served_rate",
            RejectRate => "reject_rate",
            TimeoutRate => "timeout_rate",
        }
    }

    /// Its value in one replication of `span` measured seconds, for a resource of `units`
    /// servers (or unlimited).
    pub fn value(self, r: &ResourceRecord, units: u32, span: f64) -> f64 {
        use ResourceMetric::*;
        let per_grant = |x: f64| if r.grants > 0 { x } else { f64::NAN };
        match self {
            Utilization => r.busy_mean / f64::from(units),
            InUseMean => r.busy_mean,
            InUseMax => r.busy_max,
            QueueMean => r.waiting_mean,
            QueueMax => r.waiting_max,
            WaitMean => per_grant(1e3 * r.wait_sum_s / r.grants as f64),
            WaitP95 => per_grant(1e3 * r.waits.quantile(0.95)),
            ServedRate => r.grants as f64 / span,
            RejectRate => r.rejects as f64 / span,
            TimeoutRate => r.timeouts as f64 / span,
        }
    }
}

/// What an app instance with a memory model reports per replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryMetric {
    Mean,
    Peak,
    /// Memory in use over RAM: above 1 when the model overcommits.
    Utilization,
}

impl MemoryMetric {
    pub const ALL: [MemoryMetric; 3] = [
        MemoryMetric::Mean,
        MemoryMetric::Peak,
        MemoryMetric::Utilization,
    ];

    pub fn unit(self) -> Unit {
        match self {
            MemoryMetric::Mean | MemoryMetric::Peak => Unit::Mb,
            MemoryMetric::Utilization => Unit::Ratio,
        }
    }

    fn name(self) -> &'static str {
        match self {
            MemoryMetric::Mean => "memory_mean",
            MemoryMetric::Peak => "memory_peak",
            MemoryMetric::Utilization => "memory_utilization",
        }
    }
}

/// What a part of the response time reports (see [`super::breakdown`]): the mean time per
/// successful request spent waiting for, or in service at, one resource group, over all
/// requests or over the slowest 5 %, and the visits per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartMetric {
    Waiting,
    InService,
    SlowWaiting,
    SlowInService,
    Visits,
}

impl PartMetric {
    pub const ALL: [PartMetric; 5] = [
        PartMetric::Waiting,
        PartMetric::InService,
        PartMetric::SlowWaiting,
        PartMetric::SlowInService,
        PartMetric::Visits,
    ];

    /// Whether it is read off a slot of time in service (a service or a delay), not a wait.
    pub fn in_service(self) -> bool {
        !matches!(self, PartMetric::Waiting | PartMetric::SlowWaiting)
    }

    /// Whether it is over the slowest 5 %.
    pub fn slow(self) -> bool {
        matches!(self, PartMetric::SlowWaiting | PartMetric::SlowInService)
    }

    pub fn unit(self) -> Unit {
        match self {
            PartMetric::Visits => Unit::PerRequest,
            _ => Unit::Ms,
        }
    }

    fn name(self) -> &'static str {
        match self {
            PartMetric::Waiting => "time_waiting",
            PartMetric::InService => "time_in_service",
            PartMetric::SlowWaiting => "slow_time_waiting",
            PartMetric::SlowInService => "slow_time_in_service",
            PartMetric::Visits => "visits",
        }
    }

    /// Its value in one replication's split of a scope, for slot `k`: NaN without requests.
    pub fn value(self, r: &PartsRecord, k: usize) -> f64 {
        match self {
            PartMetric::Waiting | PartMetric::InService => r.all.mean_ms(k),
            PartMetric::SlowWaiting | PartMetric::SlowInService => r.slow.mean_ms(k),
            PartMetric::Visits => r.all.visits_per_request(k),
        }
    }
}

/// What a figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// The offered load, averaged over the measured time: users (closed) or arrivals per
    /// second (open).
    LevelMean,
    /// Its largest value.
    LevelMax,
    Request(RequestMetric),
    Resource(ResourceMetric),
    Memory(MemoryMetric),
    Part(PartMetric),
    /// `1 − error_rate`: judged by objectives, not a figure of its own.
    Availability,
}

impl Metric {
    /// The latency percentile `p` (in percent) of a request scope.
    pub fn latency(p: f64) -> Metric {
        Metric::Request(RequestMetric::Latency(Percentile::new(p)))
    }

    /// Its unit; the load's is users for a closed workload, requests per second otherwise.
    pub fn unit(self, closed: bool) -> Unit {
        match self {
            Metric::LevelMean | Metric::LevelMax if closed => Unit::Users,
            Metric::LevelMean | Metric::LevelMax => Unit::Rps,
            Metric::Request(m) => m.unit(),
            Metric::Resource(m) => m.unit(),
            Metric::Memory(m) => m.unit(),
            Metric::Part(m) => m.unit(),
            Metric::Availability => Unit::Ratio,
        }
    }

    /// The values it can take (memory in use over RAM can exceed 1).
    pub fn range(self, closed: bool) -> Range {
        match self {
            Metric::Memory(MemoryMetric::Utilization) => Range::NonNegative,
            m => m.unit(closed).range(),
        }
    }

    /// Its name in the outputs, snake_case: `latency_p95`, `utilization`.
    pub fn name(self) -> String {
        match self {
            Metric::LevelMean => "level_mean".into(),
            Metric::LevelMax => "level_max".into(),
            Metric::Request(m) => m.name(),
            Metric::Resource(m) => m.name().into(),
            Metric::Memory(m) => m.name().into(),
            Metric::Part(m) => m.name().into(),
            Metric::Availability => "availability".into(),
        }
    }

    /// Every metric there is (each request, resource and memory metric once).
    pub fn all() -> impl Iterator<Item = Metric> {
        [Metric::LevelMean, Metric::LevelMax, Metric::Availability]
            .into_iter()
            .chain(RequestMetric::all().map(Metric::Request))
            .chain(ResourceMetric::all(true).map(Metric::Resource))
            .chain([Metric::Resource(ResourceMetric::InUseMean)])
            .chain(MemoryMetric::ALL.map(Metric::Memory))
            .chain(PartMetric::ALL.map(Metric::Part))
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no metric or unit capsim knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`")]
pub struct UnknownName {
    what: &'static str,
    name: String,
}

impl FromStr for Metric {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Metric, UnknownName> {
        Metric::all()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownName {
                what: "metric",
                name: s.to_string(),
            })
    }
}

impl FromStr for Unit {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Unit, UnknownName> {
        Unit::ALL
            .into_iter()
            .find(|u| u.name() == s)
            .ok_or_else(|| UnknownName {
                what: "unit",
                name: s.to_string(),
            })
    }
}

/// Metrics and units travel as their names, as they always have.
macro_rules! by_name {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let name = String::deserialize(d)?;
                name.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

by_name!(Metric);
by_name!(Unit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_one_name_that_reads_back() {
        let all: Vec<Metric> = Metric::all().collect();
        for m in &all {
            assert_eq!(m.name().parse::<Metric>(), Ok(*m), "{m}");
        }
        let mut names: Vec<String> = all.iter().map(|m| m.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len(), "two metrics share a name");
        assert!("latency_p96".parse::<Metric>().is_err());
    }

    #[test]
    fn percentile_names_are_the_outputs_own() {
        assert_eq!(Metric::latency(95.0).name(), "latency_p95");
        assert_eq!(Metric::latency(99.9).name(), "latency_p99_9");
        assert_eq!(Percentile::new(99.9).q(), 99.9 / 100.0);
    }

    #[test]
    fn units_read_back_and_fractions_stay_in_unit_range() {
        for u in Unit::ALL {
            assert_eq!(u.name().parse::<Unit>(), Ok(u));
        }
        assert_eq!(
            Metric::Request(RequestMetric::ErrorRate).range(false),
            Range::Unit
        );
        assert_eq!(
            Metric::Memory(MemoryMetric::Utilization).range(false),
            Range::NonNegative
        );
        assert_eq!(Metric::LevelMax.unit(true), Unit::Users);
        assert_eq!(Metric::LevelMax.unit(false), Unit::Rps);
    }
}
