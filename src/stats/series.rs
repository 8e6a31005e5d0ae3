//! Spans of a run: the time-series windows, and the stages of a load test (a ramp, a hold),
//! each measured on its own so that a peak is not averaged away by the quiet parts around it.
//!
//! A span records throughput, errors, the load level, and per resource its time-averaged busy
//! servers and queue, and per *tracked* endpoint (those a reader follows: with an objective or
//! at least [`crate::engine::program::TRACKED_SHARE`] of the mix, at most
//! [`crate::engine::program::MAX_TRACKED`]; see [`crate::engine::Program::series_slot`]) its
//! successes, errors and response times. Response times go to small [`Coarse`] histograms, pooled over replications
//! for the span's percentiles.

use super::histogram::{Coarse, CoarseRecorder};
use serde::{Deserialize, Serialize};

pub use crate::engine::program::UNTRACKED;

/// What one span of one replication measured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpanRecord {
    pub end_s: f64,
    pub ok: u64,
    pub errors: u64,
    pub latency_sum_s: f64,
    /// Time-averaged load level (active users, or the arrival rate).
    pub level_mean: f64,
    /// Time-averaged queue length of each resource.
    pub queue_mean: Vec<f64>,
    /// Time-averaged busy servers of each resource.
    #[serde(default)]
    pub busy_mean: Vec<f64>,
    /// Per tracked endpoint: successful responses and errors.
    #[serde(default)]
    pub endpoint_ok: Vec<u64>,
    #[serde(default)]
    pub endpoint_errors: Vec<u64>,
}

/// Successful-response times of one span: of every endpoint, and of each tracked one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpanLatency {
    pub all: Coarse,
    #[serde(default)]
    pub endpoints: Vec<Coarse>,
}

impl SpanLatency {
    pub fn add(&mut self, o: &SpanLatency) {
        self.all.add(&o.all);
        if self.endpoints.len() < o.endpoints.len() {
            self.endpoints.resize(o.endpoints.len(), Coarse::default());
        }
        for (a, b) in self.endpoints.iter_mut().zip(&o.endpoints) {
            a.add(b);
        }
    }
}

/// The spans of one replication, in time order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Series {
    pub records: Vec<SpanRecord>,
    pub latency: Vec<SpanLatency>,
}

/// Pools span histograms over replications (integer sums: any order gives the same).
pub fn pool_latency(into: &mut Vec<SpanLatency>, from: &[SpanLatency]) {
    if into.len() < from.len() {
        into.resize(from.len(), SpanLatency::default());
    }
    for (a, b) in into.iter_mut().zip(from) {
        a.add(b);
    }
}

/// Sums over replications of one span, in replication order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpanSum {
    reps: u32,
    end_s: f64,
    ok: u64,
    errors: u64,
    latency_sum_s: f64,
    level_mean: f64,
    queue_mean: Vec<f64>,
    busy_mean: Vec<f64>,
    endpoint_ok: Vec<u64>,
    endpoint_errors: Vec<u64>,
}

/// Adds `b` into `a` element by element, growing `a` to `b`'s length.
fn add_into<T: Copy + Default + std::ops::AddAssign>(a: &mut Vec<T>, b: &[T]) {
    if a.len() < b.len() {
        a.resize(b.len(), T::default());
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

impl SpanSum {
    /// Adds one replication's spans to the sums.
    pub fn fold(sums: &mut Vec<SpanSum>, spans: &[SpanRecord]) {
        if sums.len() < spans.len() {
            sums.resize(spans.len(), SpanSum::default());
        }
        for (sum, w) in sums.iter_mut().zip(spans) {
            sum.reps += 1;
            sum.end_s = w.end_s;
            sum.ok += w.ok;
            sum.errors += w.errors;
            sum.latency_sum_s += w.latency_sum_s;
            sum.level_mean += w.level_mean;
            add_into(&mut sum.queue_mean, &w.queue_mean);
            add_into(&mut sum.busy_mean, &w.busy_mean);
            add_into(&mut sum.endpoint_ok, &w.endpoint_ok);
            add_into(&mut sum.endpoint_errors, &w.endpoint_errors);
        }
    }

    /// The mean response time of the span, seconds, if it had a successful response.
    pub fn mean_s(&self) -> Option<f64> {
        (self.ok > 0).then(|| self.latency_sum_s / self.ok as f64)
    }
}

/// One span averaged over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanSummary {
    pub start_s: f64,
    pub end_s: f64,
    /// Active users (closed workload) or arrival rate (open), time-averaged.
    pub level: f64,
    pub throughput_rps: f64,
    /// 95th percentile of successful responses in the span (pooled over replications), ms.
    pub p95_ms: Option<f64>,
    pub mean_ms: Option<f64>,
    pub error_rate: f64,
    /// Time-averaged queue length per resource, in program order.
    pub queue: Vec<f64>,
    /// Time-averaged busy servers over servers per resource (`None` for an unlimited one).
    pub utilization: Vec<Option<f64>>,
    /// Per tracked endpoint (in slot order): p95 of successful responses, ms, and error rate.
    pub endpoint_p95_ms: Vec<Option<f64>>,
    pub endpoint_error_rate: Vec<Option<f64>>,
}

/// Errors over responses, when there were responses.
fn rate(errors: u64, ok: u64) -> Option<f64> {
    let n = ok + errors;
    (n > 0).then(|| errors as f64 / n as f64)
}

impl SpanSum {
    /// The span from `start_s`, with its pooled histograms `latency` and the resources' servers
    /// `units` ([`crate::engine::UNLIMITED`] for none).
    pub fn summary(
        &self,
        start_s: f64,
        latency: Option<&SpanLatency>,
        units: &[u32],
    ) -> SpanSummary {
        let n = f64::from(self.reps.max(1));
        let width = self.end_s - start_s;
        let p95 = |c: Option<&Coarse>| c.and_then(|c| c.quantile(0.95)).map(|s| 1e3 * s);
        let tracked = self.endpoint_ok.len();
        SpanSummary {
            start_s,
            end_s: self.end_s,
            level: self.level_mean / n,
            throughput_rps: if width > 0.0 {
                self.ok as f64 / n / width
            } else {
                0.0
            },
            p95_ms: p95(latency.map(|l| &l.all)),
            mean_ms: self.mean_s().map(|s| 1e3 * s),
            error_rate: rate(self.errors, self.ok).unwrap_or(0.0),
            queue: self.queue_mean.iter().map(|q| q / n).collect(),
            utilization: units
                .iter()
                .enumerate()
                .map(|(k, &u)| {
                    let busy = self.busy_mean.get(k).copied().unwrap_or(0.0) / n;
                    (u != crate::engine::UNLIMITED).then(|| busy / f64::from(u))
                })
                .collect(),
            endpoint_p95_ms: (0..tracked)
                .map(|k| p95(latency.and_then(|l| l.endpoints.get(k))))
                .collect(),
            endpoint_error_rate: (0..tracked)
                .map(|k| rate(self.endpoint_errors[k], self.endpoint_ok[k]))
                .collect(),
        }
    }

    /// Summaries of consecutive spans.
    pub fn summaries(sums: &[SpanSum], latency: &[SpanLatency], units: &[u32]) -> Vec<SpanSummary> {
        let mut start = 0.0;
        sums.iter()
            .enumerate()
            .map(|(i, w)| {
                let out = w.summary(start, latency.get(i), units);
                start = w.end_s;
                out
            })
            .collect()
    }
}

/// The span being measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanAcc {
    start_s: f64,
    level_base: f64,
    queue_base: Vec<f64>,
    busy_base: Vec<f64>,
    ok: u64,
    errors: u64,
    latency_sum: f64,
    latency: CoarseRecorder,
    endpoint_latency: Vec<CoarseRecorder>,
    endpoint_ok: Vec<u64>,
    endpoint_errors: Vec<u64>,
    /// Whether latencies go into the distributions, not only into the counts and sums.
    pub(crate) quantiles: bool,
}

impl SpanAcc {
    pub(crate) fn new(resources: usize, tracked: usize) -> SpanAcc {
        SpanAcc {
            queue_base: vec![0.0; resources],
            busy_base: vec![0.0; resources],
            endpoint_latency: vec![CoarseRecorder::default(); tracked],
            endpoint_ok: vec![0; tracked],
            endpoint_errors: vec![0; tracked],
            quantiles: true,
            ..SpanAcc::default()
        }
    }

    pub(crate) fn start_s(&self) -> f64 {
        self.start_s
    }

    /// A successful response of tracked endpoint `slot` (or [`UNTRACKED`]).
    #[inline]
    pub(crate) fn ok(&mut self, slot: u32, latency: f64) {
        self.ok += 1;
        self.latency_sum += latency;
        if self.quantiles {
            self.latency.record(latency);
        }
        if slot != UNTRACKED {
            self.endpoint_ok[slot as usize] += 1;
            if self.quantiles {
                self.endpoint_latency[slot as usize].record(latency);
            }
        }
    }

    #[inline]
    pub(crate) fn error(&mut self, slot: u32) {
        self.errors += 1;
        if slot != UNTRACKED {
            self.endpoint_errors[slot as usize] += 1;
        }
    }

    /// Ends the span at `now`, given the load level's integral and each resource's
    /// `[busy, queue]` integrals since time 0, and starts the next one.
    pub(crate) fn close(
        &mut self,
        now: f64,
        level_integral: f64,
        resources: impl Iterator<Item = [f64; 2]>,
    ) -> (SpanRecord, SpanLatency) {
        let span = now - self.start_s;
        let mean = |int: f64, base: f64| if span > 0.0 { (int - base) / span } else { 0.0 };
        let n = self.queue_base.len();
        let (mut busy_mean, mut queue_mean) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (k, [busy, queue]) in resources.enumerate() {
            busy_mean.push(mean(busy, self.busy_base[k]));
            queue_mean.push(mean(queue, self.queue_base[k]));
            (self.busy_base[k], self.queue_base[k]) = (busy, queue);
        }
        let tracked = self.endpoint_ok.len();
        let record = SpanRecord {
            end_s: now,
            ok: std::mem::take(&mut self.ok),
            errors: std::mem::take(&mut self.errors),
            latency_sum_s: std::mem::take(&mut self.latency_sum),
            level_mean: mean(level_integral, self.level_base),
            queue_mean,
            busy_mean,
            endpoint_ok: std::mem::replace(&mut self.endpoint_ok, vec![0; tracked]),
            endpoint_errors: std::mem::replace(&mut self.endpoint_errors, vec![0; tracked]),
        };
        let latency = SpanLatency {
            all: self.latency.take(),
            endpoints: self
                .endpoint_latency
                .iter_mut()
                .map(CoarseRecorder::take)
                .collect(),
        };
        self.start_s = now;
        self.level_base = level_integral;
        (record, latency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_averages_over_its_own_time_and_restarts() {
        let mut s = SpanAcc::new(1, 1);
        s.ok(0, 0.1);
        s.ok(UNTRACKED, 0.3);
        s.error(0);
        // Level integral 20 over 10 s; a resource busy 5 s-units, queue 2 s-units.
        let (r, l) = s.close(10.0, 20.0, [[5.0, 2.0]].into_iter());
        assert_eq!(
            (r.ok, r.errors, r.endpoint_ok[0], r.endpoint_errors[0]),
            (2, 1, 1, 1)
        );
        assert_eq!(
            (r.level_mean, r.busy_mean[0], r.queue_mean[0]),
            (2.0, 0.5, 0.2)
        );
        assert_eq!((l.all.count(), l.endpoints[0].count()), (2, 1));
        let (r, _) = s.close(20.0, 20.0, [[15.0, 2.0]].into_iter());
        assert_eq!(
            (r.ok, r.level_mean, r.busy_mean[0], r.queue_mean[0]),
            (0, 0.0, 1.0, 0.0)
        );
    }

    #[test]
    fn a_span_of_no_time_reports_zeros() {
        let mut s = SpanAcc::new(1, 0);
        let (r, _) = s.close(0.0, 0.0, [[0.0, 0.0]].into_iter());
        assert_eq!(r.level_mean, 0.0);
    }
}
