//! Monte Carlo: independent replications of each scenario, run in parallel with rayon and folded
//! in replication order.
//!
//! Replication `i` draws every random stream from (seed, `i`, stream), never from a thread or a
//! shard, and replications are reduced in index order, so a run's output is bit-identical for any
//! thread count and for any split into shards.

pub mod envelope;
mod ordered;
pub mod plan;
pub mod precision;
pub mod shard;

use crate::engine::{Program, ScenarioPlan, SimError, simulate};
use crate::model::{Checked, Scenario};
use crate::stats::figures::global_record;
use crate::stats::histogram::Latency;
use crate::stats::{Aggregate, Recorder, RepSummary, Replication, Schema};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use thiserror::Error;

pub use plan::{WarmupInfo, WarmupRule};
pub use precision::{Precision, PrecisionReport};
pub use shard::Shard;

/// Why a run failed.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("scenario `{scenario}`: {source}")]
    Sim {
        scenario: String,
        #[source]
        source: SimError,
    },
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
    #[error("no scenario named `{0}`; the model has: {1}")]
    UnknownScenario(String, String),
}

/// How many replications to run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Replications {
    /// Exactly this many.
    Fixed { n: u32 },
    /// Batches until the SLO-relevant figures reach the precision (see [`precision`]).
    Precision(Precision),
}

/// Everything that decides a run's numbers (and so is written into its results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunParams {
    pub seed: u64,
    pub replications: Replications,
    /// Overrides the length of stage-less scenarios, seconds.
    pub duration_s: Option<f64>,
    pub scenarios: Vec<String>,
}

/// How to execute a run (does not change its numbers).
#[derive(Debug, Clone, Default)]
pub struct Exec {
    pub threads: Option<usize>,
    pub progress: bool,
    pub shard: Option<Shard>,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRun {
    pub name: String,
    pub description: Option<String>,
    pub horizon_s: f64,
    pub window_s: f64,
    pub warmup: WarmupInfo,
    pub aggregate: Aggregate,
    pub precision: Option<PrecisionReport>,
    /// Wall-clock time of the scenario, seconds (not part of the results: it varies).
    #[serde(skip)]
    pub wall_s: f64,
}

/// Runs the selected scenarios of a checked model.
///
/// # Errors
/// An unknown scenario name, a stalled simulation, or a thread pool that cannot start.
pub fn run(
    c: &Checked,
    prog: &Program,
    params: &RunParams,
    exec: &Exec,
) -> Result<Vec<ScenarioRun>, RunError> {
    let pool = thread_pool(exec.threads)?;
    let scenarios = select(c, &params.scenarios)?;
    pool.install(|| {
        scenarios
            .iter()
            .map(|s| run_scenario(c, prog, s, params, exec))
            .collect()
    })
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, RunError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    b.build().map_err(|e| RunError::Threads {
        threads: threads.unwrap_or(0),
        message: e.to_string(),
    })
}

/// The scenarios named (all when none is), in the model's order.
pub fn select<'c>(c: &'c Checked, names: &[String]) -> Result<Vec<&'c Scenario>, RunError> {
    let known = || {
        c.scenarios
            .iter()
            .map(|s| format!("`{}`", s.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for n in names {
        if !c.scenarios.iter().any(|s| &s.name == n) {
            return Err(RunError::UnknownScenario(n.clone(), known()));
        }
    }
    Ok(c.scenarios
        .iter()
        .filter(|s| names.is_empty() || names.contains(&s.name))
        .collect())
}

fn run_scenario(
    c: &Checked,
    prog: &Program,
    s: &Scenario,
    params: &RunParams,
    exec: &Exec,
) -> Result<ScenarioRun, RunError> {
    let started = Instant::now();
    let err = |source| RunError::Sim {
        scenario: s.name.clone(),
        source,
    };
    let (mut plan, mut warmup) = plan::plan(c, prog, s, params).map_err(err)?;
    let schema = Schema::with_parts(prog, c.workload.is_closed());
    let mut agg = Aggregate::new(schema, prog);
    if exec.shard.is_some() {
        agg.keep_replications();
    }
    let progress = Progress::new(exec.progress, &s.name, params.replications);
    let precision = match params.replications {
        Replications::Fixed { n } => {
            let range = exec
                .shard
                .map_or(0..u64::from(n), |sh| sh.range(u64::from(n)));
            let rep = Replicator {
                prog,
                seed: params.seed,
                progress: &progress,
            };
            rep.batch(&plan, range, &mut agg).map_err(err)?;
            None
        }
        Replications::Precision(p) => {
            let rep = Replicator {
                prog,
                seed: params.seed,
                progress: &progress,
            };
            let lengthen = plan::lengthenable(s).then_some(&mut warmup);
            let report = precision::run(c, &rep, &mut plan, lengthen, p, &mut agg);
            Some(report.map_err(err)?)
        }
    };
    progress.finish();
    Ok(ScenarioRun {
        name: s.name.clone(),
        description: s.description.clone(),
        horizon_s: plan.horizon_s,
        window_s: plan.window_s,
        warmup,
        aggregate: agg,
        precision,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// Runs one replication and returns what it measured; with each request's time by part when
/// `parts` (a schema that has their figures, [`Schema::has_parts`]).
pub fn replicate(
    prog: &Program,
    plan: &ScenarioPlan,
    seed: u64,
    index: u64,
    parts: bool,
) -> Result<Replication, SimError> {
    let rec = Recorder::new(prog, index)
        .with_stages(!plan.stage_ends.is_empty())
        .with_window_quantiles(plan.window_quantiles)
        .with_parts(prog, parts);
    let (rec, info) = simulate(prog, plan, seed, index, rec)?;
    Ok(rec.into_replication(info.events, plan.horizon_s))
}

/// Replications started ahead of the last one folded, per thread: enough that a slow replication
/// does not idle the other threads, few enough that memory does not grow with the replication
/// count.
const IN_FLIGHT_PER_THREAD: u64 = 2;

/// Runs replications of one model: with which seed, and where progress goes.
pub struct Replicator<'a> {
    pub prog: &'a Program,
    pub seed: u64,
    pub progress: &'a Progress,
}

impl Replicator<'_> {
    /// Runs replications `range` of `plan` on the current pool's threads, folding each into
    /// `agg` in index order as soon as its predecessors are folded (see [`ordered`]).
    pub fn batch(
        &self,
        plan: &ScenarioPlan,
        range: std::ops::Range<u64>,
        agg: &mut Aggregate,
    ) -> Result<(), SimError> {
        let window = rayon::current_num_threads() as u64 * IN_FLIGHT_PER_THREAD;
        let schema = agg.schema.clone();
        let parts = schema.has_parts();
        ordered::fold_ordered(
            range,
            window,
            |i| {
                let r = replicate(self.prog, plan, self.seed, i, parts)?;
                self.progress.tick();
                Ok(RepParts::new(&schema, self.prog, r))
            },
            |r| {
                agg.pooled.add_replication(&r.replication, &r.global);
                agg.fold(&r.summary);
            },
        )
    }
}

/// One cell's share of a [`batch_many`]: replications `range` of `plan`, run on `prog` with
/// `seed`, folded into `agg`.
pub struct Batch<'a> {
    pub prog: &'a Program,
    pub plan: &'a ScenarioPlan,
    pub seed: u64,
    pub range: std::ops::Range<u64>,
    pub agg: &'a mut Aggregate,
}

/// Runs several batches as one stream of work on the current pool's threads, so that no thread
/// idles at the end of one batch while another is still running. Each batch's replications are
/// folded into its own aggregate in index order, as [`Replicator::batch`] folds them: the
/// aggregates are the same as if the batches had run one after the other.
///
/// # Errors
/// The first replication that stalls, in the order of the batches and their indices.
pub fn batch_many(batches: Vec<Batch<'_>>) -> Result<(), SimError> {
    let batches: Vec<Batch<'_>> = batches
        .into_iter()
        .filter(|b| !b.range.is_empty())
        .collect();
    let mut starts = Vec::with_capacity(batches.len());
    let mut total = 0;
    for b in &batches {
        starts.push(total);
        total += b.range.end - b.range.start;
    }
    let mut specs = Vec::with_capacity(batches.len());
    let mut aggs = Vec::with_capacity(batches.len());
    for b in batches {
        specs.push((b.prog, b.plan, b.seed, b.range.start, b.agg.schema.clone()));
        aggs.push(b.agg);
    }
    let window = rayon::current_num_threads() as u64 * IN_FLIGHT_PER_THREAD;
    ordered::fold_ordered(
        0..total,
        window,
        |g| {
            let j = starts.partition_point(|&s| s <= g) - 1;
            let (prog, plan, seed, first, schema) = &specs[j];
            let r = replicate(prog, plan, *seed, first + g - starts[j], schema.has_parts())?;
            Ok((j, RepParts::new(schema, prog, r)))
        },
        |(j, r)| {
            aggs[j].pooled.add_replication(&r.replication, &r.global);
            aggs[j].fold(&r.summary);
        },
    )
}

/// A replication with its figures already extracted and its endpoints' histograms summed
/// (done in the worker thread).
struct RepParts {
    replication: Replication,
    summary: RepSummary,
    global: Latency,
}

impl RepParts {
    fn new(schema: &Schema, prog: &Program, replication: Replication) -> RepParts {
        let global = global_record(&replication);
        let summary = RepSummary::new(schema, prog, &replication, &global);
        RepParts {
            replication,
            summary,
            global: global.latency,
        }
    }
}

/// A progress bar on stderr that appears only once a scenario has run for a second, and never
/// when stderr is not a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    pub fn disabled() -> Progress {
        Progress {
            bar: None,
            started: Instant::now(),
        }
    }

    fn new(enabled: bool, name: &str, reps: Replications) -> Progress {
        if !enabled {
            return Progress::disabled();
        }
        let len = match reps {
            Replications::Fixed { n } => u64::from(n),
            Replications::Precision(p) => u64::from(p.max_replications),
        };
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        let style =
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} replications {elapsed}")
                .expect("a valid template")
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        Progress {
            bar: Some(bar),
            started: Instant::now(),
        }
    }

    /// Sets the bar's length (when a precision run settles on its count).
    pub fn set_len(&self, len: u64) {
        if let Some(b) = &self.bar {
            b.set_length(len);
        }
    }

    pub fn tick(&self) {
        if let Some(b) = &self.bar {
            if b.is_hidden() && self.started.elapsed().as_secs_f64() > 1.0 {
                b.set_draw_target(ProgressDrawTarget::stderr());
            }
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
