//! The `capsim` command line: parse, run one command, render its error once, exit.

mod args;
mod check;
mod error;
mod merge;
mod run;

pub use args::Cli;
pub use error::{CliError, EXIT_INPUT, EXIT_SLO, EXIT_USAGE, offset_of};

use crate::engine::Program;
use crate::model::{Checked, validate};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    let short = cli.error_format == args::ErrorFormat::Short;
    let result = match cli.command {
        args::Command::Run(a) => run::run(&a, short),
        args::Command::Check(a) => check::check(&a, short),
        args::Command::Merge(a) => merge::merge(&a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprint!("{}", error::render(&e, short));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Loads, validates and compiles a model file; prints its warnings to stderr (in the `short`
/// or the human error format), which never change the exit code.
fn load(path: &Path, short: bool) -> Result<(Checked, Program), CliError> {
    let model = crate::script::load_file(path)?;
    let checked = validate(model)?;
    eprint!("{}", error::render_warnings(&checked.warnings, short));
    let prog = Program::compile(&checked);
    Ok((checked, prog))
}

/// Prints to stdout, ignoring a closed pipe (`capsim run … | head`): what matters, the output
/// files, is written before anything is printed, and a reader that went away is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The summary, then the files written.
fn emit_summary(summary: &str, written: &[PathBuf]) {
    let files: String = written
        .iter()
        .map(|w| format!("wrote {}\n", w.display()))
        .collect();
    emit(&format!("{summary}\n{files}"));
}

/// The default output folder of a model: `output/<model-name>`.
fn default_output(c: &Checked) -> PathBuf {
    Path::new("output").join(c.model.slug())
}
