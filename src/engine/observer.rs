//! The seam between the engine and the statistics: the engine reports what happens, an
//! [`Observer`] listens. Observers are generic parameters, so the calls inline into the event
//! loop and cost nothing when an observer ignores them.

use super::parts::Spent;
use serde::{Deserialize, Serialize};

/// Why a request failed, as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A full queue, backlog or connection limit refused it.
    Rejected,
    /// It waited longer than a pool's timeout for a connection.
    PoolTimeout,
    /// No response within the endpoint's timeout (the server may still be working on it).
    ClientTimeout,
    /// The run's cap on requests in flight refused it (overload protection of the simulator).
    Capped,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 4] = [
        ErrorKind::Rejected,
        ErrorKind::PoolTimeout,
        ErrorKind::ClientTimeout,
        ErrorKind::Capped,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Rejected => "rejected",
            ErrorKind::PoolTimeout => "pool_timeout",
            ErrorKind::ClientTimeout => "client_timeout",
            ErrorKind::Capped => "capped",
        }
    }
}

/// What the client got for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error(ErrorKind),
}

/// Receives the engine's reports. All times are seconds since the start of the run.
pub trait Observer {
    /// Whether it wants each answered request's time by part ([`Observer::request_parts`]).
    /// Asked once per run: the engine follows the parts only then.
    fn tracks_parts(&self) -> bool {
        false
    }
    /// A request of `ep` got a successful response after `latency` seconds, which `parts`
    /// divide (they sum to it): each part it spent time in once, with its total and visits, in
    /// the order first met. Only when [`Observer::tracks_parts`].
    fn request_parts(&mut self, _ep: u32, _latency: f64, _parts: &[Spent]) {}
    /// A resource's busy servers or waiting requests changed (called after the change).
    fn resource_level(&mut self, res: u32, now: f64, busy: u32, waiting: u32);
    /// A request was granted a server of `res` after waiting `wait` seconds (0 when immediate).
    fn resource_wait(&mut self, res: u32, wait: f64);
    /// `res` refused a request: its queue was full.
    fn resource_reject(&mut self, res: u32);
    /// A request gave up waiting for `res` after `wait` seconds (pool timeout).
    fn resource_timeout(&mut self, res: u32, wait: f64);
    /// A request of endpoint `ep` entered the system.
    fn request_started(&mut self, ep: u32, now: f64);
    /// A request of `ep` that entered at `started_at` left the system (finished or failed).
    fn request_left(&mut self, ep: u32, now: f64, started_at: f64);
    /// The client of `ep` got `outcome` after `latency` seconds.
    fn response(&mut self, ep: u32, now: f64, latency: f64, outcome: Outcome);
    /// When the run ends: an attempt of `ep` still waiting for its response, sent `age`
    /// seconds ago (its response time is at least that: right-censored). Called before
    /// [`Observer::finish`].
    fn unfinished(&mut self, ep: u32, age: f64);
    /// The number of requests routed to app instance `inst` changed.
    fn instance_load(&mut self, inst: u32, now: f64, in_flight: u32);
    /// The number of active virtual users (or, for an open workload, the arrival rate) changed.
    fn load_level(&mut self, now: f64, level: f64);
    /// A background job was dropped or a request refused by the in-flight cap.
    fn capped(&mut self, now: f64);
    /// End of a time-series window.
    fn window_end(&mut self, now: f64);
    /// End of a stage of the scenario's load profile (the last one ends with the run).
    fn stage_end(&mut self, now: f64);
    /// End of the warm-up: forget everything measured so far.
    fn reset(&mut self, now: f64);
    /// End of the run.
    fn finish(&mut self, now: f64);
}
