//! Argument vectors -> clap and the value parsers of `src/cli/args.rs`, and `--shard` values ->
//! `Shard::parse`, in process (nothing is simulated). The vector is built from known flags
//! and arbitrary values, so the fuzzer spends its time on the numbers rather than on finding
//! flag names.
#![no_main]

use arbitrary::Arbitrary;
use capsim::cli::Cli;
use capsim::montecarlo::Shard;
use clap::Parser;
use libfuzzer_sys::fuzz_target;

const COMMANDS: &[&str] = &["run", "check", "merge"];

const FLAGS: &[&str] = &[
    "--replications",
    "--seed",
    "--precision",
    "--max-replications",
    "--duration",
    "--threads",
    "--shard",
    "--shard-count",
    "--scenario",
    "--error-format",
    "--quick",
    "--fail-on-slo",
    "--timing",
    "-q",
    "-o",
    "--json",
    "--help",
    "--version",
];

#[derive(Debug, Arbitrary)]
struct Input {
    command: u8,
    args: Vec<(u8, String, bool)>,
}

fuzz_target!(|input: Input| {
    let mut argv = vec![
        "capsim".to_string(),
        COMMANDS[input.command as usize % COMMANDS.len()].to_string(),
        "model.rhai".to_string(),
    ];
    for (flag, value, joined) in &input.args {
        let flag = FLAGS[*flag as usize % FLAGS.len()];
        if flag == "--shard" {
            let _ = Shard::parse(value);
        }
        if *joined {
            argv.push(format!("{flag}={value}"));
        } else {
            argv.push(flag.to_string());
            argv.push(value.clone());
        }
    }
    match Cli::try_parse_from(&argv) {
        Ok(cli) => {
            let _ = format!("{cli:?}");
        }
        Err(e) => {
            let _ = (e.to_string(), e.render().to_string(), e.use_stderr());
        }
    }
});
