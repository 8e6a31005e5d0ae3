//! The observer that measures a replication: per endpoint, per resource, per app instance, and
//! in time-series windows. When the run ends it becomes a [`Replication`] record.

use super::breakdown::{PartsAcc, PartsRecord};
use super::histogram::{Latency, LatencyRecorder};
use super::series::{Series, SpanAcc, UNTRACKED};
use super::timeavg::{Levels, TimeAverage};
use crate::engine::{ErrorKind, Observer, Outcome, Program, Spent};
use serde::{Deserialize, Serialize};

/// What one endpoint did in the measured part of a replication.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EndpointRecord {
    /// Requests that entered the system.
    pub started: u64,
    /// Requests that left the system (finished or failed), and their total time in it.
    pub left: u64,
    pub residence_sum_s: f64,
    /// Successful responses, and errors by [`ErrorKind`] index.
    pub ok: u64,
    pub errors: [u64; 4],
    /// Response times of successful responses, and the age of every attempt still waiting for
    /// its response when the run ended (a right-censored response time: it is at least that).
    pub latency: Latency,
    /// The sum of the same values, seconds.
    pub latency_sum_s: f64,
    /// Apdex counts over the same values (an unfinished attempt by its age so far).
    pub apdex_satisfied: u64,
    pub apdex_tolerating: u64,
    /// The ages of the attempts still waiting for a response when the run ended (also in
    /// `latency`).
    pub unfinished: Latency,
    /// Those of them whose age so far is within T, and within 4 T.
    pub unfinished_satisfied: u64,
    pub unfinished_tolerating: u64,
    /// Time-averaged requests in the system (for Little's law).
    pub in_system_mean: f64,
    /// Requests in the system, and attempts awaiting a response, when measurement began/ended.
    pub in_system_at_start: u64,
    pub in_system_at_end: u64,
    pub awaiting_at_start: u64,
    pub awaiting_at_end: u64,
}

impl EndpointRecord {
    pub fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }

    pub fn responses(&self) -> u64 {
        self.ok + self.error_count()
    }

    /// Attempts with no response when the run ended.
    pub fn unfinished_count(&self) -> u64 {
        self.unfinished.count()
    }

    /// The Apdex numerator (`satisfied + tolerating / 2`), unfinished attempts by their age.
    pub fn apdex_credit(&self) -> f64 {
        self.apdex_satisfied as f64 + self.apdex_tolerating as f64 / 2.0
    }

    /// What of [`Self::apdex_credit`] the unfinished attempts give (nothing, if they never end).
    pub fn unfinished_apdex_credit(&self) -> f64 {
        self.unfinished_satisfied as f64 + self.unfinished_tolerating as f64 / 2.0
    }
}

/// What one resource did in the measured part of a replication.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceRecord {
    pub busy_mean: f64,
    pub busy_max: f64,
    /// Requests waiting (not counting those in service).
    pub waiting_mean: f64,
    pub waiting_max: f64,
    /// Units granted, and the total and distribution of the waits before them.
    pub grants: u64,
    pub wait_sum_s: f64,
    pub waits: Latency,
    pub rejects: u64,
    pub timeouts: u64,
    pub timeout_wait_sum_s: f64,
}

/// Everything measured in one replication.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Replication {
    pub index: u64,
    pub measured_from_s: f64,
    pub measured_to_s: f64,
    pub endpoints: Vec<EndpointRecord>,
    pub resources: Vec<ResourceRecord>,
    /// Per app instance: mean and maximum requests routed to it.
    pub instance_load_mean: Vec<f64>,
    pub instance_load_max: Vec<f64>,
    pub level_mean: f64,
    pub level_max: f64,
    /// Attempts and jobs refused by the in-flight cap.
    pub capped: u64,
    /// The time-series windows.
    pub windows: Series,
    /// The stages of a load test (empty without stages).
    pub stages: Series,
    /// The response time split by part, per scope (all endpoints, then each), when the
    /// recorder tracked parts ([`Recorder::with_parts`]); empty otherwise.
    #[serde(default)]
    pub parts: Vec<PartsRecord>,
    pub events: u64,
}

impl Replication {
    pub fn measured_s(&self) -> f64 {
        self.measured_to_s - self.measured_from_s
    }
}

#[derive(Debug, Clone, Default)]
struct EndpointAcc {
    rec: EndpointRecord,
    latency: LatencyRecorder,
    /// Requests in the system and the sum of their arrival times. With the residence times of
    /// those that left, these give the time-integral of the number in the system exactly,
    /// without a time-average update at every arrival and departure.
    in_system: u64,
    arrivals_sum: f64,
    /// Time spent before the measured span by the requests in the system at its start.
    before_start: f64,
    awaiting: u64,
    apdex_t: f64,
}

impl EndpointAcc {
    /// Whether a response time satisfies (<= T) or is tolerated (<= 4 T), as 0/1 counts.
    #[inline]
    fn apdex(&self, latency: f64) -> (u64, u64) {
        // Branch-free: which side of T a response falls on is as random as the latency.
        let satisfied = latency <= self.apdex_t;
        (
            u64::from(satisfied),
            u64::from(!satisfied && latency <= 4.0 * self.apdex_t),
        )
    }
}

#[derive(Debug, Clone, Default)]
struct ResourceAcc {
    rec: ResourceRecord,
    waits: LatencyRecorder,
    /// Busy servers and waiting requests.
    levels: Levels<2>,
}

/// Measures one replication.
#[derive(Debug, Clone)]
pub struct Recorder {
    index: u64,
    start_s: f64,
    endpoints: Vec<EndpointAcc>,
    resources: Vec<ResourceAcc>,
    instances: Vec<TimeAverage>,
    level: TimeAverage,
    capped: u64,
    /// Per endpoint, its slot among the endpoints followed in spans.
    series_slot: Vec<u32>,
    window: SpanAcc,
    windows: Series,
    /// The current stage, for a scenario with stages.
    stage: Option<SpanAcc>,
    stages: Series,
    parts: Option<PartsAcc>,
}

impl Recorder {
    pub fn new(prog: &Program, index: u64) -> Recorder {
        let endpoints = prog
            .endpoints
            .iter()
            .map(|e| EndpointAcc {
                apdex_t: e.apdex_t_s,
                ..EndpointAcc::default()
            })
            .collect();
        let n = prog.resources.len();
        Recorder {
            index,
            start_s: 0.0,
            endpoints,
            resources: vec![ResourceAcc::default(); n],
            instances: vec![TimeAverage::default(); prog.instances as usize],
            level: TimeAverage::default(),
            capped: 0,
            series_slot: prog.series_slot.clone(),
            window: SpanAcc::new(n, prog.tracked.len()),
            windows: Series::default(),
            stage: None,
            stages: Series::default(),
            parts: None,
        }
    }

    /// Also splits each successful request's response time by part (see
    /// [`super::breakdown`]).
    pub fn with_parts(mut self, prog: &Program, on: bool) -> Recorder {
        self.parts = on.then(|| PartsAcc::new(prog));
        self
    }

    /// Also measures each stage of a load test on its own.
    pub fn with_stages(mut self, staged: bool) -> Recorder {
        self.stage = staged.then(|| SpanAcc::new(self.resources.len(), self.window_slots()));
        self
    }

    /// Whether time-series windows keep their latency distributions (see
    /// [`crate::engine::ScenarioPlan::window_quantiles`]).
    pub fn with_window_quantiles(mut self, on: bool) -> Recorder {
        self.window.quantiles = on;
        self
    }

    fn window_slots(&self) -> usize {
        self.series_slot.iter().filter(|s| **s != UNTRACKED).count()
    }

    /// Closes span `acc` at `now` into `series`.
    fn close(
        acc: &mut SpanAcc,
        series: &mut Series,
        now: f64,
        level: &TimeAverage,
        resources: &[ResourceAcc],
    ) {
        let (record, latency) = acc.close(
            now,
            level.integral_at(now)[0],
            resources.iter().map(|r| r.levels.integral_at(now)),
        );
        series.records.push(record);
        series.latency.push(latency);
    }

    /// The record of the replication; `events` is the engine's count.
    pub fn into_replication(self, events: u64, end_s: f64) -> Replication {
        let endpoints = self
            .endpoints
            .into_iter()
            .map(|e| EndpointRecord {
                latency: e.latency.to_latency(),
                ..e.rec
            })
            .collect();
        let resources = self
            .resources
            .into_iter()
            .map(|r| ResourceRecord {
                waits: r.waits.to_latency(),
                ..r.rec
            })
            .collect();
        Replication {
            index: self.index,
            measured_from_s: self.start_s,
            measured_to_s: end_s,
            endpoints,
            resources,
            instance_load_mean: self.instances.iter().map(|t| t.mean_at(end_s)[0]).collect(),
            instance_load_max: self.instances.iter().map(|t| t.max()[0]).collect(),
            level_mean: self.level.mean_at(end_s)[0],
            level_max: self.level.max()[0],
            capped: self.capped,
            windows: self.windows,
            stages: self.stages,
            parts: self.parts.map_or_else(Vec::new, |p| p.records()),
            events,
        }
    }
}

impl Observer for Recorder {
    fn tracks_parts(&self) -> bool {
        self.parts.is_some()
    }

    #[inline]
    fn request_parts(&mut self, ep: u32, latency: f64, parts: &[Spent]) {
        if let Some(p) = &mut self.parts {
            p.record(ep, latency, parts);
        }
    }

    #[inline]
    fn resource_level(&mut self, res: u32, now: f64, busy: u32, waiting: u32) {
        let r = &mut self.resources[res as usize];
        r.levels.set(now, [f64::from(busy), f64::from(waiting)]);
    }

    #[inline]
    fn resource_wait(&mut self, res: u32, wait: f64) {
        let r = &mut self.resources[res as usize].rec;
        r.grants += 1;
        r.wait_sum_s += wait;
        // Zero waits go through the same conversion (to bucket 0): a branch on `wait > 0` would
        // be as unpredictable as the queue.
        self.resources[res as usize].waits.record(wait);
    }

    fn resource_reject(&mut self, res: u32) {
        self.resources[res as usize].rec.rejects += 1;
    }

    fn resource_timeout(&mut self, res: u32, wait: f64) {
        let r = &mut self.resources[res as usize].rec;
        r.timeouts += 1;
        r.timeout_wait_sum_s += wait;
    }

    #[inline]
    fn request_started(&mut self, ep: u32, now: f64) {
        let e = &mut self.endpoints[ep as usize];
        e.rec.started += 1;
        e.awaiting += 1;
        e.in_system += 1;
        e.arrivals_sum += now;
    }

    #[inline]
    fn request_left(&mut self, ep: u32, now: f64, started_at: f64) {
        let e = &mut self.endpoints[ep as usize];
        e.rec.left += 1;
        e.rec.residence_sum_s += now - started_at;
        e.in_system -= 1;
        e.arrivals_sum -= started_at;
    }

    #[inline]
    fn response(&mut self, ep: u32, _now: f64, latency: f64, outcome: Outcome) {
        let e = &mut self.endpoints[ep as usize];
        match outcome {
            Outcome::Ok => {
                e.awaiting -= 1;
                e.rec.ok += 1;
                e.latency.record(latency);
                e.rec.latency_sum_s += latency;
                let (satisfied, tolerating) = e.apdex(latency);
                e.rec.apdex_satisfied += satisfied;
                e.rec.apdex_tolerating += tolerating;
                let slot = self.series_slot[ep as usize];
                self.window.ok(slot, latency);
                if let Some(stage) = &mut self.stage {
                    stage.ok(slot, latency);
                }
            }
            Outcome::Error(kind) => {
                if kind != ErrorKind::Capped {
                    e.awaiting -= 1;
                }
                e.rec.errors[kind.index()] += 1;
                let slot = self.series_slot[ep as usize];
                self.window.error(slot);
                if let Some(stage) = &mut self.stage {
                    stage.error(slot);
                }
            }
        }
    }

    fn unfinished(&mut self, ep: u32, age: f64) {
        let e = &mut self.endpoints[ep as usize];
        e.latency.record(age);
        e.rec.latency_sum_s += age;
        e.rec.unfinished.record(age);
        let (satisfied, tolerating) = e.apdex(age);
        e.rec.apdex_satisfied += satisfied;
        e.rec.apdex_tolerating += tolerating;
        e.rec.unfinished_satisfied += satisfied;
        e.rec.unfinished_tolerating += tolerating;
    }

    fn instance_load(&mut self, inst: u32, now: f64, in_flight: u32) {
        self.instances[inst as usize].set(now, [f64::from(in_flight)]);
    }

    fn load_level(&mut self, now: f64, level: f64) {
        self.level.set(now, [level]);
    }

    fn capped(&mut self, _now: f64) {
        self.capped += 1;
    }

    fn window_end(&mut self, now: f64) {
        Self::close(
            &mut self.window,
            &mut self.windows,
            now,
            &self.level,
            &self.resources,
        );
    }

    fn stage_end(&mut self, now: f64) {
        if let Some(stage) = &mut self.stage {
            Self::close(stage, &mut self.stages, now, &self.level, &self.resources);
        }
    }

    fn reset(&mut self, now: f64) {
        self.start_s = now;
        for e in &mut self.endpoints {
            e.rec = EndpointRecord {
                in_system_at_start: e.in_system,
                awaiting_at_start: e.awaiting,
                ..Default::default()
            };
            e.before_start = e.in_system as f64 * now - e.arrivals_sum;
            e.latency.reset();
        }
        for r in &mut self.resources {
            r.rec = ResourceRecord::default();
            r.waits.reset();
            r.levels.reset(now);
        }
        self.instances.iter_mut().for_each(|t| t.reset(now));
        self.level.reset(now);
        self.capped = 0;
        if let Some(p) = &mut self.parts {
            p.reset();
        }
    }

    fn finish(&mut self, now: f64) {
        if now > self.window.start_s() {
            self.window_end(now);
        }
        if self.stage.as_ref().is_some_and(|s| now > s.start_s()) {
            self.stage_end(now);
        }
        for e in &mut self.endpoints {
            // Residence of those that left, plus the time so far of those still inside, less what
            // the ones inside at the start had spent before it.
            let integral = e.rec.residence_sum_s + (e.in_system as f64 * now - e.arrivals_sum)
                - e.before_start;
            let span = now - self.start_s;
            e.rec.in_system_mean = if span > 0.0 {
                integral / span
            } else {
                e.in_system as f64
            };
            e.rec.in_system_at_end = e.in_system;
            e.rec.awaiting_at_end = e.awaiting;
        }
        for r in &mut self.resources {
            let [busy_mean, waiting_mean] = r.levels.mean_at(now);
            let [busy_max, waiting_max] = r.levels.max();
            (r.rec.busy_mean, r.rec.waiting_mean) = (busy_mean, waiting_mean);
            (r.rec.busy_max, r.rec.waiting_max) = (busy_max, waiting_max);
        }
    }
}
