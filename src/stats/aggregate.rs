//! Across-replication statistics: replications are folded in replication order, so the
//! floating-point sums, and hence every reported digit, are the same for any thread count and
//! for any split of the replications into shards.

use super::ci::{self, Estimate, Range, Upper};
use super::figures::{Estimator, FigureKey, Pooled, Schema, ScopeCounts, WorstCase, global_record};
use super::histogram::CdfBand;
use super::histogram::Latency;
use super::recorder::{EndpointRecord, Replication};
use super::series::{SpanLatency, SpanRecord, SpanSum, SpanSummary};
use crate::engine::Program;
use serde::{Deserialize, Serialize};

/// What a replication leaves once its histograms are pooled: small and serialisable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepSummary {
    pub index: u64,
    /// One value per schema figure (`null` in JSON where there was no data).
    #[serde(with = "nan_as_null")]
    pub values: Vec<f64>,
    /// One per histogram that pooled-quantile figures read: what their intervals need of this
    /// replication.
    pub bands: Vec<CdfBand>,
    pub windows: Vec<SpanRecord>,
    #[serde(default)]
    pub stages: Vec<SpanRecord>,
    pub events: u64,
    pub capped: u64,
}

impl RepSummary {
    /// The summary of replication `r`, whose endpoints together are `global` (see
    /// [`global_record`]).
    pub fn new(
        schema: &Schema,
        prog: &Program,
        r: &Replication,
        global: &EndpointRecord,
    ) -> RepSummary {
        RepSummary {
            index: r.index,
            values: schema.extract(prog, r, global),
            bands: schema.bands(r, global),
            windows: r.windows.records.clone(),
            stages: r.stages.records.clone(),
            events: r.events,
            capped: r.capped,
        }
    }
}

/// One reported figure with its estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    #[serde(flatten)]
    pub key: FigureKey,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// Replications folded so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub schema: Schema,
    pub pooled: Pooled,
    /// Per-replication figure values, in replication order.
    pub values: Vec<Vec<f64>>,
    /// Per-replication [`CdfBand`]s, in replication order.
    pub bands: Vec<Vec<CdfBand>>,
    pub indices: Vec<u64>,
    pub events: u64,
    pub capped: u64,
    windows: Vec<SpanSum>,
    #[serde(default)]
    stages: Vec<SpanSum>,
    /// Servers of each resource ([`crate::engine::UNLIMITED`] for none), for utilizations.
    #[serde(default)]
    units: Vec<u32>,
    /// The folded replications themselves, when a shard must hand them on to a merge.
    pub kept: Option<Vec<RepSummary>>,
}

impl Aggregate {
    pub fn new(schema: Schema, prog: &Program) -> Aggregate {
        Aggregate {
            schema,
            pooled: Pooled::new(prog),
            values: Vec::new(),
            bands: Vec::new(),
            indices: Vec::new(),
            events: 0,
            capped: 0,
            windows: Vec::new(),
            stages: Vec::new(),
            units: prog.resources.iter().map(|r| r.units).collect(),
            kept: None,
        }
    }

    /// Keeps every folded replication (for a shard's partial result).
    pub fn keep_replications(&mut self) {
        self.kept = Some(Vec::new());
    }

    pub fn replications(&self) -> usize {
        self.values.len()
    }

    /// Folds the next replication (callers pass them in replication order).
    pub fn fold(&mut self, s: &RepSummary) {
        debug_assert!(
            self.indices.last().is_none_or(|l| *l < s.index),
            "replications out of order"
        );
        self.values.push(s.values.clone());
        self.bands.push(s.bands.clone());
        self.indices.push(s.index);
        self.events += s.events;
        self.capped += s.capped;
        if let Some(kept) = &mut self.kept {
            kept.push(s.clone());
        }
        SpanSum::fold(&mut self.windows, &s.windows);
        SpanSum::fold(&mut self.stages, &s.stages);
    }

    /// Folds a replication and pools its histograms.
    pub fn add(&mut self, prog: &Program, r: &Replication) {
        let global = global_record(r);
        let s = RepSummary::new(&self.schema, prog, r, &global);
        self.pooled.add_replication(r, &global.latency);
        self.fold(&s);
    }

    /// The values of figure `i` across replications.
    pub fn column(&self, i: usize) -> Vec<f64> {
        self.values.iter().map(|v| v[i]).collect()
    }

    /// The estimate of figure `i`, its interval widened to what the requests with no response
    /// at the end of the runs could make it (see [`unfinished_bound`] and [`WorstCase`]).
    pub fn estimate(&self, i: usize) -> Estimate {
        let key = &self.schema.figures[i];
        let e = self.sampling_estimate(i);
        match key.estimator {
            Estimator::ReplicationMean => match key.worst_case {
                Some(w) => self.worst_case(e, w),
                None => e,
            },
            Estimator::PooledQuantile { q, hist } => match self.pooled.counts_of(hist) {
                Some(c) if e.mean.is_finite() => unfinished_bound(e, q, self.pooled.hist(hist), c),
                _ => e,
            },
        }
    }

    /// The estimate of figure `i` with its sampling interval only: what more replications
    /// narrow, and so what a precision target judges (the allowance for unfinished requests
    /// does not shrink with replications).
    pub fn sampling_estimate(&self, i: usize) -> Estimate {
        let key = &self.schema.figures[i];
        match key.estimator {
            Estimator::ReplicationMean => ci::replication_mean(&self.column(i), key.range),
            Estimator::PooledQuantile { q, hist } => {
                let h = self.pooled.hist(hist);
                if h.count() == 0 {
                    return ci::replication_mean(&[], Range::Real); // no data: NaN
                }
                let slot = self
                    .schema
                    .quantile_slot(i)
                    .expect("a pooled-quantile figure");
                let point = h.quantile(q);
                let fractions: Vec<f64> = self
                    .bands
                    .iter()
                    .map(|b| b[slot].fraction_below(point))
                    .collect();
                ci::inverted_quantile(q, &fractions, |p| 1e3 * h.quantile(p))
            }
        }
    }

    /// Widens a rate's interval to its value if no unfinished attempt ever got a response.
    fn worst_case(&self, mut e: Estimate, w: WorstCase) -> Estimate {
        let (slot, worst) = match w {
            WorstCase::ErrorRate { slot } => {
                (slot, self.pooled.counts[slot as usize].worst_error_rate())
            }
            WorstCase::Apdex { slot } => (slot, self.pooled.counts[slot as usize].worst_apdex()),
        };
        let c = &self.pooled.counts[slot as usize];
        if c.unfinished.count() == 0 || !worst.is_finite() || !e.mean.is_finite() {
            return e;
        }
        match w {
            WorstCase::ErrorRate { .. } => e.ci_high = e.ci_high.max(worst),
            WorstCase::Apdex { .. } => e.ci_low = e.ci_low.min(worst),
        }
        e
    }

    pub fn figures(&self) -> Vec<Figure> {
        (0..self.schema.figures.len())
            .map(|i| Figure {
                key: self.schema.figures[i].clone(),
                estimate: self.estimate(i),
            })
            .collect()
    }

    /// The time-series windows, averaged over replications.
    pub fn windows(&self) -> Vec<SpanSummary> {
        SpanSum::summaries(&self.windows, &self.pooled.windows, &self.units)
    }

    /// The stages of a load test, averaged over replications (empty without stages).
    pub fn stages(&self) -> Vec<SpanSummary> {
        SpanSum::summaries(&self.stages, &self.pooled.stages, &self.units)
    }

    /// The `q` quantile of successful responses in stage `k`, of all endpoints (`slot` None)
    /// or of tracked endpoint `slot`, ms.
    pub fn stage_quantile(&self, k: usize, slot: Option<usize>, q: f64) -> Option<f64> {
        let l: &SpanLatency = self.pooled.stages.get(k)?;
        let h = match slot {
            None => &l.all,
            Some(i) => l.endpoints.get(i)?,
        };
        h.quantile(q).map(|s| 1e3 * s)
    }

    /// The mean-latency series of the windows (for warm-up detection), ms; `None` where a
    /// window had no successful response.
    pub fn window_means(&self) -> Vec<Option<f64>> {
        self.windows.iter().map(SpanSum::mean_s).collect()
    }
}

/// The interval of a pooled percentile `e` (of `q`, from `h`, which holds the unfinished
/// attempts at their age) widened for the attempts that had no response when their run ended.
///
/// # Formula
/// With `N` values in `h`, `U` of them unfinished and `r = max(1, ceil(q N))`: counted at their
/// age they give the lower bound `e`; counted as never ending they give the `r`-th smallest of
/// the `N - U` finished responses, the upper bound the interval is widened to. When `r > N - U`
/// that bound is infinite: the percentile is only known to be at least `e.mean`
/// ([`Upper::Unbounded`]).
fn unfinished_bound(mut e: Estimate, q: f64, h: &Latency, c: &ScopeCounts) -> Estimate {
    let u = c.unfinished.count();
    if u == 0 {
        return e;
    }
    let n = h.count();
    let rank = ((q.min(1.0) * n as f64).ceil() as u64).max(1);
    if rank > n - u {
        e.upper = Upper::Unbounded;
        e.ci_high = f64::NAN;
        return e;
    }
    let mut finished = h.clone();
    finished.subtract(&c.unfinished);
    let high = 1e3 * finished.at_rank(rank);
    e.ci_high = e.ci_high.max(high);
    e
}

/// Serialises `f64`s with non-finite values as `null` (JSON has no NaN), and reads them back.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<Option<f64>> = xs.iter().map(|x| x.is_finite().then_some(*x)).collect();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v = Vec::<Option<f64>>::deserialize(d)?;
        Ok(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}
