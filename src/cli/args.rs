//! The command line as the user typed it (clap). Numbers are checked against their ranges
//! here, by value parsers whose messages give the range (`--replications -1` is a number out of
//! range, not an unknown flag); rules that span several options live in the commands.

use crate::model::{MAX_DURATION_S, MAX_DURATION_TEXT, MIN_RUN_S, MIN_RUN_TEXT};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Most replications a run may ask for: the runner keeps one row of figures per replication.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// Most worker threads: far more than the cores of any machine this runs on.
pub const MAX_THREADS: u32 = 256;

const RUN_EXAMPLES: &str = "Examples:
  capsim run models/ebook.rhai
  capsim run models/ebook.rhai --scenario normal --scenario spike
  capsim run models/ebook.rhai --quick
  capsim run models/mm1.rhai --precision 0.02 --max-replications 200
  capsim run models/ebook.rhai --replications 20 --seed 7 --threads 2 -o out/ebook
  capsim run models/ebook.rhai --fail-on-slo        # exit 99 when an objective is missed
  capsim run models/ebook.rhai --replications 70 --shard 3/7 -o parts/";

const CHECK_EXAMPLES: &str = "Examples:
  capsim check models/ebook.rhai
  capsim check models/saturated.rhai      # exits 1: a resource is at or above 100 %
  capsim check models/ebook.rhai --json > model.json";

const MERGE_EXAMPLES: &str = "Examples:
  capsim merge parts/partial-*-of-7.json -o output/ebook
";

/// Capacity planning by discrete-event simulation: describe a system in a Rhai model, get
/// latency percentiles, errors and utilization with confidence intervals.
#[derive(Debug, Parser)]
#[command(name = "capsim", version, about, propagate_version = true)]
pub struct Cli {
    /// How errors are printed: `human` (with the source line) or `short` (file:line:col: error: ...).
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    Human,
    Short,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a model's scenarios and write summary.csv, timeseries.csv and results.json.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Validate a model and print its topology and analytic offered load.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Combine the partial results of a sharded run into the outputs of the whole run.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The model script.
    pub model: PathBuf,
    /// Run only this scenario (repeatable); all scenarios by default.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Exactly this many replications per scenario (instead of a precision target), 1 to 10000.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = replications)]
    pub replications: Option<u32>,
    /// Target relative half-width of the 95 % CIs of the SLO figures, in (0, 1) [default: 0.05].
    #[arg(long, value_name = "P", conflicts_with = "replications", allow_hyphen_values = true, value_parser = precision)]
    pub precision: Option<f64>,
    /// Cap on replications of a precision-driven run, 2 to 10000 [default: 64].
    #[arg(long, value_name = "N", conflicts_with = "replications", allow_negative_numbers = true, value_parser = max_replications)]
    pub max_replications: Option<u32>,
    /// Lower precision for fast iteration: a 10 % target, 3 to 6 replications, no lengthening.
    #[arg(long, conflicts_with_all = ["replications", "precision"])]
    pub quick: bool,
    /// Seed of every random stream, a whole number >= 0.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = seed)]
    pub seed: u64,
    /// Worker threads, 1 to 256 (results do not depend on it) [default: all cores].
    #[arg(long, value_name = "T", allow_negative_numbers = true, value_parser = threads)]
    pub threads: Option<u32>,
    /// Output folder [default: output/<model-name>].
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Exit with code 99 when an objective is missed (as k6 does for a failed threshold).
    #[arg(long)]
    pub fail_on_slo: bool,
    /// Length of stage-less (steady-state) scenarios, seconds (1e-9 to 1e9).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, value_parser = duration)]
    pub duration: Option<f64>,
    /// Print each scenario's wall time, events/s and customers/s to stderr.
    #[arg(long)]
    pub timing: bool,
    /// Run only shard K of N of the replications (`K/N`, 1-based, or `auto` from a Kubernetes
    /// Indexed Job or a Slurm array) and write a partial result for `capsim merge`.
    #[arg(
        long,
        value_name = "K/N|auto",
        requires = "replications",
        allow_hyphen_values = true
    )]
    pub shard: Option<String>,
    /// The shard count for `--shard auto` under a Kubernetes Indexed Job (its completions).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = shard_count)]
    pub shard_count: Option<u32>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Run only these parts, comma-separated: `loadtests` (the model's scenarios),
    /// `projections`, `events`, `whatif`, `breaking-point`, `capacity` [default: all].
    #[arg(long, value_name = "PARTS", value_delimiter = ',', value_parser = part)]
    pub only: Vec<RunPart>,
}

/// A part of `capsim run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPart {
    /// The model's scenarios (its load tests).
    LoadTests,
    /// A part of the study.
    Study(crate::study::run::Part),
}

fn part(s: &str) -> Result<RunPart, String> {
    if s == "loadtests" {
        return Ok(RunPart::LoadTests);
    }
    crate::study::run::Part::ALL
        .into_iter()
        .find(|p| p.name() == s)
        .map(RunPart::Study)
        .ok_or_else(|| {
            let names: Vec<&str> = std::iter::once("loadtests")
                .chain(crate::study::run::Part::ALL.map(|p| p.name()))
                .collect();
            format!("unknown part `{s}`; the parts are: {}", names.join(", "))
        })
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The model script.
    pub model: PathBuf,
    /// Print the model and its analysis as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Partial results written by `capsim run --shard`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output folder [default: output/<model-name>].
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
}

// ----- value parsers: each message gives the flag, its range and what was typed ------------------

/// A whole number in `min..=max`; anything else (`-1`, `2.5`, `nan`) gets the range.
fn whole(flag: &str, s: &str, min: u64, max: u64) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if (i128::from(min)..=i128::from(max)).contains(&n) => Ok(n as u64),
        _ => Err(format!(
            "{flag} must be a whole number from {min} to {max} (got {s})"
        )),
    }
}

/// [`whole`] for a `u32` option.
fn whole32(flag: &str, s: &str, min: u32, max: u32) -> Result<u32, String> {
    whole(flag, s, u64::from(min), u64::from(max)).map(|n| n as u32)
}

fn replications(s: &str) -> Result<u32, String> {
    whole32("--replications", s, 1, MAX_REPLICATIONS)
}

fn max_replications(s: &str) -> Result<u32, String> {
    whole32("--max-replications", s, 2, MAX_REPLICATIONS)
}

fn threads(s: &str) -> Result<u32, String> {
    whole32("--threads", s, 1, MAX_THREADS)
}

fn shard_count(s: &str) -> Result<u32, String> {
    whole32("--shard-count", s, 1, MAX_REPLICATIONS)
}

fn seed(s: &str) -> Result<u64, String> {
    whole("--seed", s, 0, u64::MAX)
}

/// A finite number; NaN and infinities are refused like any other bad text.
fn finite(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

fn precision(s: &str) -> Result<f64, String> {
    match finite(s) {
        Some(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(format!(
            "--precision must lie in (0, 1), e.g. 0.05 for 5 % (got {s})"
        )),
    }
}

fn duration(s: &str) -> Result<f64, String> {
    match finite(s) {
        Some(d) if (MIN_RUN_S..=MAX_DURATION_S).contains(&d) => Ok(d),
        _ => Err(format!(
            "--duration must be a number of seconds from {MIN_RUN_TEXT} to {MAX_DURATION_TEXT} (got {s})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_out_of_range_name_the_flag_and_the_range() {
        assert_eq!(replications("20"), Ok(20));
        for bad in ["-1", "0", "10001", "2.5", "nan", ""] {
            let err = replications(bad).unwrap_err();
            assert_eq!(
                err,
                format!("--replications must be a whole number from 1 to 10000 (got {bad})")
            );
        }
        assert_eq!(seed("18446744073709551615"), Ok(u64::MAX));
        assert!(seed("-5").is_err());
    }

    #[test]
    fn nan_and_infinities_are_not_numbers_of_seconds() {
        // 5e-324 was found by the fuzzing harness: its warm-up windows were 0 s wide.
        for bad in [
            "nan", "NaN", "inf", "-inf", "-5", "0", "1e10", "5e-324", "1e-10",
        ] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        assert_eq!(duration("1e9"), Ok(1e9));
        assert_eq!(duration("1e-9"), Ok(1e-9));
        assert!(precision("inf").is_err());
        assert_eq!(precision("0.02"), Ok(0.02));
    }
}
