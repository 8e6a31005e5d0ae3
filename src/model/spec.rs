//! Resource specifications and their validating constructors.
//!
//! Each constructor checks the rules of one resource (servers >= 1, a timeout > 0, a hit ratio in
//! [0, 1], ...) and names the offending field, so a script error points at the line that wrote it.

use super::Dist;
use super::limits::*;
use crate::format::plain_number as num;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a resource, step or workload parameter was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SpecError {
    #[error("`{field}` must be a whole number from {min} to {max} (got {value})")]
    Count {
        field: &'static str,
        min: u32,
        max: u32,
        value: i64,
    },
    #[error("`{field}` must be a finite number > 0 (got {})", num(*.value))]
    NotPositive { field: &'static str, value: f64 },
    #[error("`{field}` must be a finite number >= 0 (got {})", num(*.value))]
    Negative { field: &'static str, value: f64 },
    #[error("`{field}` is a probability and must lie in [0, 1] (got {})", num(*.value))]
    Probability { field: &'static str, value: f64 },
    #[error("unknown {what} `{value}`; expected one of: {choices}")]
    Choice {
        what: &'static str,
        value: String,
        choices: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Checks a count from the script (an `i64`) against its range (see [`super::limits`]) and
/// narrows it; the maxima keep every count below the engine's `u32::MAX` "unlimited".
pub fn count(field: &'static str, value: i64, min: u32, max: u32) -> Result<u32, SpecError> {
    match u32::try_from(value) {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(SpecError::Count {
            field,
            min,
            max,
            value,
        }),
    }
}

/// Checks a strictly positive, finite number.
pub fn positive(field: &'static str, value: f64) -> Result<f64, SpecError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(SpecError::NotPositive { field, value })
    }
}

/// Checks a non-negative, finite number.
pub fn non_negative(field: &'static str, value: f64) -> Result<f64, SpecError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(SpecError::Negative { field, value })
    }
}

/// Checks a probability.
pub fn probability(field: &'static str, value: f64) -> Result<f64, SpecError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(SpecError::Probability { field, value })
    }
}

/// Checks a byte size: finite, >= 0 and at most [`MAX_BYTES`].
pub fn byte_size(field: &'static str, bytes: f64) -> Result<f64, SpecError> {
    let b = non_negative(field, bytes)?;
    if b > MAX_BYTES {
        return Err(SpecError::Invalid(format!(
            "`{field}` is {} bytes; at most 1e15 (a petabyte) are supported",
            num(b)
        )));
    }
    Ok(b)
}

/// How a proxy, or a database's reads, pick among equivalent servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    RoundRobin,
    /// Fewest requests in progress (nginx `least_conn`), ties to the lowest index.
    LeastConn,
    Random,
    /// Two random choices, the less loaded wins (nginx `random two least_conn`).
    PowerOfTwo,
}

impl Policy {
    pub const CHOICES: &'static str = "round_robin, least_conn, random, power_of_two";

    /// The word a script writes for it (`least_conn`), for output people read back.
    pub fn word(self) -> &'static str {
        match self {
            Policy::RoundRobin => "round_robin",
            Policy::LeastConn => "least_conn",
            Policy::Random => "random",
            Policy::PowerOfTwo => "power_of_two",
        }
    }

    pub fn parse(s: &str) -> Result<Policy, SpecError> {
        match s {
            "round_robin" => Ok(Policy::RoundRobin),
            "least_conn" => Ok(Policy::LeastConn),
            "random" => Ok(Policy::Random),
            "power_of_two" | "p2c" => Ok(Policy::PowerOfTwo),
            _ => Err(SpecError::Choice {
                what: "balancing policy",
                value: s.to_string(),
                choices: Policy::CHOICES,
            }),
        }
    }
}

/// Generic multi-server FCFS queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationSpec {
    pub servers: u32,
    /// Waiting room (not counting requests in service); an arrival finding it full is rejected.
    pub queue: Option<u32>,
    /// Default service time of a visit.
    pub service: Option<Dist>,
}

impl StationSpec {
    pub fn new(servers: i64, queue: Option<i64>, service: Option<Dist>) -> Result<Self, SpecError> {
        Ok(StationSpec {
            servers: count("servers", servers, 1, MAX_PARALLEL)?,
            queue: queue
                .map(|q| count("queue", q, 0, MAX_CAPACITY))
                .transpose()?,
            service,
        })
    }
}

/// A reverse proxy / load balancer (nginx) in front of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxySpec {
    /// The app it balances over.
    pub upstream: String,
    pub policy: Policy,
    /// Concurrent connections it accepts; one more is refused (an error).
    pub connections: Option<u32>,
    /// Processes doing the proxy's own work (nginx `worker_processes`).
    pub workers: u32,
    /// The proxy's own processing time per request.
    pub service: Dist,
}

impl ProxySpec {
    pub fn new(
        upstream: String,
        policy: Policy,
        connections: Option<i64>,
        workers: i64,
        service: Dist,
    ) -> Result<Self, SpecError> {
        Ok(ProxySpec {
            upstream,
            policy,
            connections: connections
                .map(|c| count("connections", c, 1, MAX_PARALLEL))
                .transpose()?,
            workers: count("workers", workers, 1, MAX_PARALLEL)?,
            service,
        })
    }
}

/// Whether a worker is held for the whole request or only while it computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerMode {
    /// gunicorn `sync`: held for the whole request, DB and external waits included.
    Sync,
    /// gevent/asyncio: held only while computing.
    Async,
}

impl WorkerMode {
    /// The word a script writes for it (`sync`).
    pub fn word(self) -> &'static str {
        match self {
            WorkerMode::Sync => "sync",
            WorkerMode::Async => "async",
        }
    }

    pub fn parse(s: &str) -> Result<WorkerMode, SpecError> {
        match s {
            "sync" => Ok(WorkerMode::Sync),
            "async" => Ok(WorkerMode::Async),
            _ => Err(SpecError::Choice {
                what: "worker mode",
                value: s.to_string(),
                choices: "sync, async",
            }),
        }
    }
}

/// How an app instance's cores are shared among the compute steps that want them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoreScheduling {
    /// As an operating system time-slices runnable processes: each of `n` runnable compute
    /// steps progresses at `min(1, cpus / n)` of a core, so a short step is slowed by a long one
    /// rather than queued behind it (gunicorn's workers are processes Linux shares the cores
    /// among).
    #[default]
    ProcessorSharing,
    /// A step waits for a free core and then holds it until it is done, first come first
    /// served.
    Fcfs,
}

impl CoreScheduling {
    pub const CHOICES: &'static str = "processor_sharing (alias ps), fcfs";

    /// The word a script writes for it.
    pub fn word(self) -> &'static str {
        match self {
            CoreScheduling::ProcessorSharing => "processor_sharing",
            CoreScheduling::Fcfs => "fcfs",
        }
    }

    pub fn parse(s: &str) -> Result<CoreScheduling, SpecError> {
        match s {
            "processor_sharing" | "ps" => Ok(CoreScheduling::ProcessorSharing),
            "fcfs" => Ok(CoreScheduling::Fcfs),
            _ => Err(SpecError::Choice {
                what: "core scheduling",
                value: s.to_string(),
                choices: CoreScheduling::CHOICES,
            }),
        }
    }
}

/// When a request takes its pooled DB connection and gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolScope {
    /// Taken at the request's first query, returned when the request ends (a SQLAlchemy session).
    Request,
    /// Taken before each query and returned right after it.
    Query,
}

impl PoolScope {
    /// The word a script writes for it (`request`).
    pub fn word(self) -> &'static str {
        match self {
            PoolScope::Request => "request",
            PoolScope::Query => "query",
        }
    }

    pub fn parse(s: &str) -> Result<PoolScope, SpecError> {
        match s {
            "request" => Ok(PoolScope::Request),
            "query" => Ok(PoolScope::Query),
            _ => Err(SpecError::Choice {
                what: "pool scope",
                value: s.to_string(),
                choices: "request, query",
            }),
        }
    }
}

/// A DB connection pool per app instance (SQLAlchemy `pool_size`, `pool_timeout`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolSpec {
    pub size: u32,
    /// A wait longer than this is an error; `None` waits forever.
    pub timeout_s: Option<f64>,
    pub scope: PoolScope,
}

impl PoolSpec {
    pub fn new(size: i64, timeout_s: Option<f64>, scope: PoolScope) -> Result<Self, SpecError> {
        Ok(PoolSpec {
            size: count("pool size", size, 1, MAX_PARALLEL)?,
            timeout_s: timeout_s.map(|t| positive("pool timeout", t)).transpose()?,
            scope,
        })
    }
}

/// Memory of one app instance: `base + workers x per_worker + in_flight x per_request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemorySpec {
    pub ram_mb: f64,
    pub base_mb: f64,
    pub per_worker_mb: f64,
    pub per_request_mb: f64,
}

impl MemorySpec {
    pub fn new(ram: f64, base: f64, per_worker: f64, per_request: f64) -> Result<Self, SpecError> {
        Ok(MemorySpec {
            ram_mb: positive("ram_mb", ram)?,
            base_mb: non_negative("base_mb", base)?,
            per_worker_mb: non_negative("per_worker_mb", per_worker)?,
            per_request_mb: non_negative("per_request_mb", per_request)?,
        })
    }
}

/// An application tier: `instances` hosts, each with `workers`, a backlog, `cpus` and a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSpec {
    pub instances: u32,
    pub workers: u32,
    /// Listen backlog per instance: requests waiting for a worker; one more is refused.
    pub backlog: Option<u32>,
    pub cpus: u32,
    pub mode: WorkerMode,
    /// How the cores are shared (processor sharing unless the model says `fcfs`).
    #[serde(default)]
    pub scheduling: CoreScheduling,
    pub pool: Option<PoolSpec>,
    pub memory: Option<MemorySpec>,
}

impl AppSpec {
    pub fn new(
        instances: i64,
        workers: i64,
        backlog: Option<i64>,
        cpus: i64,
        mode: WorkerMode,
        pool: Option<PoolSpec>,
        memory: Option<MemorySpec>,
    ) -> Result<Self, SpecError> {
        Ok(AppSpec {
            instances: count("instances", instances, 1, MAX_INSTANCES)?,
            workers: count("workers", workers, 1, MAX_PARALLEL)?,
            backlog: backlog
                .map(|b| count("backlog", b, 0, MAX_CAPACITY))
                .transpose()?,
            cpus: count("cpus", cpus, 1, MAX_PARALLEL)?,
            mode,
            scheduling: CoreScheduling::default(),
            pool,
            memory,
        })
    }
}

/// A database: a primary and `replicas`, each running at most `connections` queries at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSpec {
    pub replicas: u32,
    /// Queries a node runs at once (its effective parallelism); more wait in its queue.
    pub connections: u32,
    pub queue: Option<u32>,
    /// How reads pick a replica.
    pub read_policy: Policy,
    /// Bytes the database holds today, when the model says (for data-volume projections; the
    /// engine does not read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_size_bytes: Option<f64>,
}

impl DatabaseSpec {
    pub fn new(
        replicas: i64,
        connections: i64,
        queue: Option<i64>,
        read_policy: Policy,
    ) -> Result<Self, SpecError> {
        Ok(DatabaseSpec {
            replicas: count("replicas", replicas, 0, MAX_REPLICAS)?,
            connections: count("connections", connections, 1, MAX_PARALLEL)?,
            queue: queue
                .map(|q| count("queue", q, 0, MAX_CAPACITY))
                .transpose()?,
            read_policy,
            data_size_bytes: None,
        })
    }

    /// The same database holding `bytes` today (at most [`MAX_BYTES`]).
    pub fn with_data_size(self, bytes: f64) -> Result<Self, SpecError> {
        Ok(DatabaseSpec {
            data_size_bytes: Some(byte_size("data_size", bytes)?),
            ..self
        })
    }
}

/// A Redis-style cache: a station with its own service time per get or set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSpec {
    pub servers: u32,
    pub service: Dist,
}

impl CacheSpec {
    pub fn new(servers: i64, service: Dist) -> Result<Self, SpecError> {
        Ok(CacheSpec {
            servers: count("servers", servers, 1, MAX_PARALLEL)?,
            service,
        })
    }
}

/// A third-party dependency: a delay, optionally with a concurrency limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalSpec {
    pub delay: Dist,
    /// Calls in progress at once; `None` is unlimited.
    pub limit: Option<u32>,
    pub queue: Option<u32>,
}

impl ExternalSpec {
    pub fn new(delay: Dist, limit: Option<i64>, queue: Option<i64>) -> Result<Self, SpecError> {
        Ok(ExternalSpec {
            delay,
            limit: limit
                .map(|l| count("limit", l, 1, MAX_PARALLEL))
                .transpose()?,
            queue: queue
                .map(|q| count("queue", q, 0, MAX_CAPACITY))
                .transpose()?,
        })
    }
}

/// A Celery/RQ-style background queue served by a pool of workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackgroundSpec {
    pub workers: u32,
    /// Jobs waiting; one more is dropped and counted as a rejection.
    pub queue: Option<u32>,
}

impl BackgroundSpec {
    pub fn new(workers: i64, queue: Option<i64>) -> Result<Self, SpecError> {
        Ok(BackgroundSpec {
            workers: count("workers", workers, 1, MAX_PARALLEL)?,
            queue: queue
                .map(|q| count("queue", q, 0, MAX_CAPACITY))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_servers_are_refused_with_the_field_name() {
        let err = StationSpec::new(0, None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`servers` must be a whole number from 1 to 1000000 (got 0)"
        );
    }

    #[test]
    fn counts_say_their_whole_range() {
        let err = count("users", i64::MAX, 1, MAX_USERS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`users` must be a whole number from 1 to 1000000 (got 9223372036854775807)"
        );
        assert!(count("queue", -1, 0, MAX_CAPACITY).is_err());
        assert_eq!(count("queue", 0, 0, MAX_CAPACITY), Ok(0));
    }

    #[test]
    fn a_station_cannot_ask_for_the_engines_unlimited_sentinel() {
        let sentinel = i64::from(u32::MAX);
        assert!(StationSpec::new(sentinel, None, None).is_err());
        assert!(StationSpec::new(1, Some(sentinel), None).is_err());
    }

    #[test]
    fn a_hit_ratio_above_one_is_not_a_probability() {
        assert!(probability("hit_ratio", 1.5).is_err());
        assert!(probability("hit_ratio", f64::NAN).is_err());
        assert_eq!(probability("hit_ratio", 0.8), Ok(0.8));
    }

    #[test]
    fn choices_print_as_the_words_a_script_writes() {
        for p in [
            Policy::RoundRobin,
            Policy::LeastConn,
            Policy::Random,
            Policy::PowerOfTwo,
        ] {
            assert_eq!(Policy::parse(p.word()), Ok(p));
        }
        for m in [WorkerMode::Sync, WorkerMode::Async] {
            assert_eq!(WorkerMode::parse(m.word()), Ok(m));
        }
        for s in [PoolScope::Request, PoolScope::Query] {
            assert_eq!(PoolScope::parse(s.word()), Ok(s));
        }
    }

    #[test]
    fn unknown_policies_list_the_valid_ones() {
        let err = Policy::parse("leastconn").unwrap_err().to_string();
        assert!(err.contains("least_conn"), "{err}");
    }
}
