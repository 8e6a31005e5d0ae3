//! The command line as the user typed it (clap). Validation into what the commands need
//! happens in the commands themselves.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    /// Exactly this many replications per scenario (instead of a precision target).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub replications: Option<u32>,
    /// Target relative half-width of the 95 % CIs of the SLO figures [default: 0.05].
    #[arg(long, value_name = "P", conflicts_with = "replications")]
    pub precision: Option<f64>,
    /// Cap on replications of a precision-driven run [default: 64].
    #[arg(long, value_name = "N", conflicts_with = "replications", value_parser = clap::value_parser!(u32).range(2..))]
    pub max_replications: Option<u32>,
    /// Lower precision for fast iteration: a 10 % target, 3 to 6 replications, no lengthening.
    #[arg(long, conflicts_with_all = ["replications", "precision"])]
    pub quick: bool,
    /// Seed of every random stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (results do not depend on it) [default: all cores].
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Output folder [default: output/<model-name>].
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Exit with code 99 when an objective is missed (as k6 does for a failed threshold).
    #[arg(long)]
    pub fail_on_slo: bool,
    /// Length of stage-less (steady-state) scenarios, seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Print each scenario's wall time, events/s and customers/s to stderr.
    #[arg(long)]
    pub timing: bool,
    /// Run only shard K of N of the replications (`K/N`, 1-based, or `auto` from a Kubernetes
    /// Indexed Job or a Slurm array) and write a partial result for `capsim merge`.
    #[arg(long, value_name = "K/N|auto", requires = "replications")]
    pub shard: Option<String>,
    /// The shard count for `--shard auto` under a Kubernetes Indexed Job (its completions).
    #[arg(long, value_name = "N")]
    pub shard_count: Option<u32>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
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
