//! Errors and warnings of the command line, and how they are shown: with the source line and a
//! caret (miette), or in the one-line `file:line:col: error: message` (`warning:`) form that
//! editors and CI parse.

use crate::model::{ModelError, ModelWarning, Origin, ValidationErrors};
use crate::montecarlo::RunError;
use crate::montecarlo::shard::{MergeError, ShardError};
use crate::report::WriteError;
use crate::script::ScriptError;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity,
    SourceCode, SourceSpan,
};
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
    /// A mistake on the command line (a bad flag, a `--scenario` the model does not have) is a
    /// usage error; everything else is an input error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::Shard(_)
            | CliError::Run(RunError::UnknownScenario(..)) => EXIT_USAGE,
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

/// A located warning: rendered as an error is, with the warning mark.
#[derive(Debug, Error)]
#[error(transparent)]
struct Warned(Located);

impl Diagnostic for Warned {
    fn severity(&self) -> Option<Severity> {
        Some(Severity::Warning)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.0.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.0.labels()
    }
}

/// Whether a located message is an error or a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
}

impl Level {
    fn word(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// Renders a model's warnings for stderr, one after the other (nothing when there are none).
pub fn render_warnings(warnings: &[ModelWarning], short: bool) -> String {
    warnings
        .iter()
        .map(|w| render_item(&w.to_string(), &w.origin, short, Level::Warning))
        .collect()
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
    render_item(&m.to_string(), &m.origin, short, Level::Error)
}

/// One model error or warning: at its origin's line when it has one and the file can be read.
fn render_item(text: &str, origin: &Option<Origin>, short: bool, level: Level) -> String {
    let word = level.word();
    let Some(o) = origin else {
        return format!("{word}: {text}\n");
    };
    if short {
        return format!("{o}: {word}: {text}\n");
    }
    match std::fs::read_to_string(&o.file) {
        Ok(source) => {
            let offset = offset_of(&source, o.line, o.column);
            let at = Located::new(&o.file, &source, offset, text, "declared here");
            render_diagnostic(&o.file, text, level, at)
        }
        Err(_) => format!("{o}: {word}: {text}\n"),
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

impl Located {
    fn new(file: &str, text: &str, offset: usize, message: &str, label: &str) -> Located {
        Located {
            message: message.to_string(),
            src: NamedSource::new(file, text.to_string()),
            span: SourceSpan::new(offset.into(), 1),
            label: label.to_string(),
        }
    }
}

fn located(file: &str, text: &str, offset: usize, message: &str, label: &str) -> String {
    let at = Located::new(file, text, offset, message, label);
    render_diagnostic(file, message, Level::Error, at)
}

/// Renders with miette, in colour only on a terminal without `NO_COLOR`.
fn render_diagnostic(file: &str, message: &str, level: Level, at: Located) -> String {
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if colour {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme);
    let mut out = String::new();
    let rendered = match level {
        Level::Error => handler.render_report(&mut out, &at),
        Level::Warning => handler.render_report(&mut out, &Warned(at)),
    };
    match rendered {
        Ok(()) => out,
        Err(_) => format!("{file}: {}: {message}\n", level.word()),
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
