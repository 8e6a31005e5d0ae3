//! Errors of the command line, and how they are shown: with the source line and a caret
//! (miette), or in the one-line `file:line:col: error: message` form editors and CI parse.

use crate::model::{ModelError, ValidationErrors};
use crate::montecarlo::RunError;
use crate::montecarlo::shard::{MergeError, ShardError};
use crate::report::WriteError;
use crate::script::ScriptError;
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource, SourceSpan};
use std::io::IsTerminal;
use thiserror::Error;

/// Exit code of a model or input error.
pub const EXIT_INPUT: u8 = 1;
/// Exit code of a usage error (also clap's).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a run whose objectives failed under `--fail-on-slo` (k6's code).
pub const EXIT_SLO: u8 = 99;

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    /// The check found a scenario that cannot reach a steady state (already printed).
    #[error("{0}")]
    Saturated(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Shard(_) => EXIT_USAGE,
            _ => EXIT_INPUT,
        }
    }
}

/// A located error, rendered by miette with its source line.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
struct Located {
    message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
}

/// Renders an error for stderr.
pub fn render(e: &CliError, short: bool) -> String {
    match e {
        CliError::Script(s) => render_script(s, short),
        CliError::Invalid(v) => {
            v.0.iter()
                .map(|m| render_model(m, short))
                .collect::<Vec<_>>()
                .join("")
        }
        other => format!("error: {}\n", chain(other)),
    }
}

/// The message with its sources, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn render_script(e: &ScriptError, short: bool) -> String {
    if short {
        return format!("{}\n", e.one_line());
    }
    match (e, e.offset()) {
        (
            ScriptError::Eval {
                file,
                message,
                source_text: Some(text),
                ..
            },
            Some(offset),
        ) => located(file, text, offset, message, "here"),
        _ => format!("error: {e}\n"),
    }
}

fn render_model(m: &ModelError, short: bool) -> String {
    let Some(o) = &m.origin else {
        return format!("error: {m}\n");
    };
    if short {
        return format!("{}:{}:{}: error: {m}\n", o.file, o.line, o.column);
    }
    match std::fs::read_to_string(&o.file) {
        Ok(text) => {
            let offset = offset_of(&text, o.line, o.column);
            located(&o.file, &text, offset, &m.to_string(), "declared here")
        }
        Err(_) => format!("{}:{}:{}: error: {m}\n", o.file, o.line, o.column),
    }
}

/// Byte offset of a 1-based line and character column.
pub fn offset_of(text: &str, line: u32, column: u32) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = &text[start.min(text.len())..];
    let col: usize = rest
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    (start + col).min(text.len())
}

fn located(file: &str, text: &str, offset: usize, message: &str, label: &str) -> String {
    let diag = Located {
        message: message.to_string(),
        src: NamedSource::new(file, text.to_string()),
        span: SourceSpan::new(offset.into(), 1),
        label: label.to_string(),
    };
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if colour {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    match GraphicalReportHandler::new_themed(theme).render_report(&mut out, &diag) {
        Ok(()) => out,
        Err(_) => format!("{file}: error: {message}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_lines_and_characters() {
        let text = "ab\nµcd\nef";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 2), 5);
        assert_eq!(offset_of(text, 3, 2), 9);
    }
}
