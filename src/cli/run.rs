//! `capsim run`: simulate, print the summary, write the outputs (or a shard's partial result).

use super::args::{RunArgs, RunPart};
use super::error::{CliError, EXIT_SLO};
use crate::montecarlo::shard::Partial;
use crate::montecarlo::{self, Exec, Precision, Replications, RunParams, Shard};
use crate::report::{self, Results, write::write_files};
use crate::stats::{Metric, RequestMetric, Scope};
use crate::study;
use std::io::IsTerminal;

/// `--quick`: a 10 % target, 3 to 6 replications, runs never lengthened.
pub const QUICK: Precision = Precision {
    target: 0.10,
    initial: 3,
    max_replications: 6,
    max_lengthenings: 0,
};

/// The replications asked for (the value parsers already checked each number's range).
fn replications(a: &RunArgs) -> Replications {
    if let Some(n) = a.replications {
        return Replications::Fixed { n };
    }
    if a.quick {
        return Replications::Precision(QUICK);
    }
    let mut p = Precision::DEFAULT;
    if let Some(t) = a.precision {
        p.target = t;
    }
    if let Some(m) = a.max_replications {
        p.max_replications = m;
        p.initial = p.initial.min(m);
    }
    Replications::Precision(p)
}

/// The shard to run. More shards than replications leave some shards empty (shard 1 always
/// among them): every shard of such a job is refused alike, so none writes a partial result
/// that `capsim merge` would then wait in vain to complete.
fn shard(a: &RunArgs) -> Result<Option<Shard>, CliError> {
    let sh = match a.shard.as_deref() {
        None => return Ok(None),
        Some("auto") => Shard::from_env(|k| std::env::var(k).ok(), a.shard_count)?,
        Some(s) => Shard::parse(s)?,
    };
    match a.replications {
        Some(n) if sh.count > n => Err(CliError::Usage(empty_shards(sh, n))),
        _ => Ok(Some(sh)),
    }
}

/// "--shard 3/5: 5 shards of 2 replication(s) leave 3 shards empty (shard 1 among them); ..."
fn empty_shards(sh: Shard, n: u32) -> String {
    let (k, count) = (sh.index + 1, sh.count);
    let which = if sh.is_empty(u64::from(n)) {
        format!("shard {k} empty")
    } else {
        format!("{} shards empty (shard 1 among them)", count - n)
    };
    format!(
        "--shard {k}/{count}: {count} shards of {n} replication(s) leave {which}; use at most {n} shards"
    )
}

pub fn run(a: &RunArgs, short: bool) -> Result<u8, CliError> {
    let replications = replications(a);
    let shard = shard(a)?;
    let (c, prog) = super::load(&a.model, short)?;
    let params = RunParams {
        seed: a.seed,
        replications,
        duration_s: a.duration,
        scenarios: a.scenarios.clone(),
    };
    let exec = Exec {
        threads: a.threads.map(|t| t as usize),
        progress: !a.quiet && std::io::stderr().is_terminal(),
        shard,
    };
    let parts = parts(a);
    if shard.is_some() && parts.iter().any(|p| matches!(p, RunPart::Study(_))) && !a.only.is_empty()
    {
        return Err(CliError::Usage(
            "--shard runs load tests only: a study searches, each step deciding the next, so its parts cannot be split into shards; run them without --shard".into(),
        ));
    }
    let runs = if parts.contains(&RunPart::LoadTests) {
        montecarlo::run(&c, &prog, &params, &exec)?
    } else {
        Vec::new()
    };
    if a.timing {
        for r in &runs {
            eprintln!("{}", timing_line(r, &prog));
        }
    }
    let out = a
        .output
        .clone()
        .unwrap_or_else(|| super::default_output(&c));
    if let Some(sh) = shard {
        let partial = Partial::new(&c.model, &params, sh, runs);
        let bytes = partial
            .to_bytes()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let written = write_files(&out, &[report::Output::new(partial.file_name(), bytes)])?;
        eprintln!("wrote {}", written[0].display());
        return Ok(0);
    }
    let mut results = Results::new(&c, &prog, &params, &runs);
    let study_parts: Vec<study::run::Part> = parts
        .iter()
        .filter_map(|p| match p {
            RunPart::Study(s) => Some(*s),
            RunPart::LoadTests => None,
        })
        .collect();
    if !study_parts.is_empty() && !c.model.slos.is_empty() {
        let sp = study::run::StudyParams {
            seed: a.seed,
            max_replications: study_replications(replications),
            duration_s: a.duration,
            parts: study_parts,
        };
        let bar = study_bar(exec.progress);
        let watch = std::sync::Arc::new(StudyBar(bar.clone()));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(exec.threads.unwrap_or(0))
            .build()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let st = pool
            .install(|| study::run::run_watched(&c, &sp, watch))
            .map_err(|e| CliError::Usage(format!("study: {e}")))?;
        bar.finish_and_clear();
        if a.timing {
            eprintln!(
                "timing: study cells={} events={} wall_s={:.6}",
                st.cells, st.events, st.wall_s
            );
            if let Some(c) = &st.capacity {
                eprintln!(
                    "timing: capacity cells={} events={} wall_s={:.6} considered={} ruled_out_by_bounds={} simulated={}",
                    c.cells, c.events, c.wall_s, c.considered, c.ruled_out_by_bounds, c.simulated
                );
            }
        }
        results.study = Some(st);
    }
    let written = report::write_all(&out, &results, &report::exporters())?;
    super::emit_summary(&report::text::render(&results), &written);
    if a.timing {
        eprintln!("{}", memory_line());
    }
    Ok(if a.fail_on_slo && !results.slos_met() {
        EXIT_SLO
    } else {
        0
    })
}

/// The parts to run: those of `--only`, or all.
fn parts(a: &RunArgs) -> Vec<RunPart> {
    if !a.only.is_empty() {
        return a.only.clone();
    }
    std::iter::once(RunPart::LoadTests)
        .chain(study::run::Part::ALL.map(RunPart::Study))
        .collect()
}

/// Most replications of a study cell: the run's own count or cap, at most
/// [`STUDY_MAX_REPLICATIONS`] (a study decides verdicts, not figures to a precision).
fn study_replications(r: Replications) -> u32 {
    match r {
        Replications::Fixed { n } => n,
        Replications::Precision(p) => p.max_replications.min(STUDY_MAX_REPLICATIONS),
    }
    .max(2)
}

/// The default cap on a study cell's replications.
pub const STUDY_MAX_REPLICATIONS: u32 = 16;

/// One progress bar over the whole study: its length the cells the study expects, one tick
/// per settled cell, the current step named; hidden when stderr is not a terminal or
/// `--quiet` is given.
fn study_bar(enabled: bool) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "study: [{bar:30}] {pos}/{len} cells · {msg} · {elapsed}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// The study's watcher that draws [`study_bar`].
struct StudyBar(indicatif::ProgressBar);

impl study::progress::Watch for StudyBar {
    fn expect(&self, cells: u64) {
        self.0.set_length(cells);
    }

    fn step(&self, name: &str) {
        self.0.set_message(name.to_string());
    }

    /// The expected count is an estimate: a study that settles more cells lengthens the bar.
    fn settled(&self) {
        self.0.inc(1);
        if self.0.length().is_some_and(|n| self.0.position() > n) {
            self.0.set_length(self.0.position());
        }
    }
}

/// The process's peak resident memory so far, from Linux's `/proc/self/status` (`VmHWM`), as
/// a `memory:` line (`n/a` where the file does not exist).
fn memory_line() -> String {
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or_else(|| "n/a".to_string(), |kb| format!("{:.1}", kb / 1024.0));
    format!("memory: peak_rss_mb={peak}")
}

/// One `timing:` line per scenario, parsed by the benchmarks.
fn timing_line(r: &montecarlo::ScenarioRun, prog: &crate::engine::Program) -> String {
    let customers: f64 = r
        .aggregate
        .schema
        .find(&Scope::Global, Metric::Request(RequestMetric::AttemptRate))
        .map(|i| r.aggregate.column(i).iter().sum::<f64>() * (r.horizon_s - r.warmup.seconds))
        .unwrap_or(0.0);
    let mean = r
        .aggregate
        .schema
        .find(&Scope::Global, Metric::Request(RequestMetric::LatencyMean))
        .map_or(f64::NAN, |i| r.aggregate.estimate(i).mean / 1e3);
    let _ = prog;
    format!(
        "timing: scenario={} replications={} wall_s={:.6} events={} customers={:.0} events_per_s={:.0} customers_per_s={:.0} mean_response_s={:.9}",
        r.name,
        r.aggregate.replications(),
        r.wall_s,
        r.aggregate.events,
        customers,
        r.aggregate.events as f64 / r.wall_s,
        customers / r.wall_s,
        mean
    )
}
