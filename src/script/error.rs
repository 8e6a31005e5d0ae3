//! Script errors as the user should see them: one file, line and column, one message.
//!
//! Rhai wraps an error raised inside a script function or an imported module
//! (`ErrorInFunctionCall`, `ErrorInModule`); the message a user needs is the innermost one, at
//! the innermost position, in the file that position belongs to. This module walks to it,
//! drops Rhai's own ` (line L, position C)` suffix and keeps the text of that file so the CLI
//! can show the line with a caret.

use super::sandbox::{
    Caps, MAX_ARRAY, MAX_CALL_LEVELS, MAX_EXPR_DEPTH, MAX_MAP, MAX_STRING, TIMED_OUT,
};
use rhai::{EvalAltResult, ParseError, ParseErrorType, Position};
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Why a model script could not be turned into a model.
#[derive(Debug, Error)]
pub enum ScriptError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is not UTF-8 text: a model is a Rhai script saved as UTF-8", path.display())]
    NotText { path: PathBuf },
    /// A compile or run-time error at a place in a script (`line` 0 when Rhai gave none).
    #[error("{}", located(file, *line, *column, message))]
    Eval {
        file: String,
        /// 1-based; 0 when unknown.
        line: u32,
        /// 1-based, in characters.
        column: u32,
        message: String,
        /// The whole text of `file`, for a snippet with a caret.
        source_text: Option<String>,
    },
    #[error(
        "{file}: the script never calls model(name); start it with `let m = model(\"my system\");`"
    )]
    NoModel { file: String },
}

fn located(file: &str, line: u32, column: u32, message: &str) -> String {
    if line == 0 {
        format!("{file}: {message}")
    } else {
        format!("{file}:{line}:{column}: {message}")
    }
}

impl ScriptError {
    /// File, 1-based line and 1-based column of the error, when it has one.
    pub fn location(&self) -> Option<(String, u32, u32)> {
        match self {
            ScriptError::Eval {
                file, line, column, ..
            } if *line > 0 => Some((file.clone(), *line, *column)),
            _ => None,
        }
    }

    /// The `file:line:col: error: message` form that editors and CI annotators parse.
    pub fn one_line(&self) -> String {
        match self {
            ScriptError::Io { path, source } => {
                format!("{}: error: cannot read: {source}", path.display())
            }
            ScriptError::NotText { path } => format!(
                "{}: error: not UTF-8 text: a model is a Rhai script saved as UTF-8",
                path.display()
            ),
            ScriptError::Eval {
                file,
                line,
                column,
                message,
                ..
            } => located(
                file,
                *line,
                *column,
                &format!("error: {}", message.replace('\n', " ")),
            ),
            ScriptError::NoModel { file } => {
                format!("{file}: error: the script never calls model(name)")
            }
        }
    }

    /// Byte offset of the error's position in its `source_text` (for a miette `SourceSpan`).
    pub fn offset(&self) -> Option<usize> {
        let ScriptError::Eval {
            line,
            column,
            source_text: Some(text),
            ..
        } = self
        else {
            return None;
        };
        let start = text
            .split_inclusive('\n')
            .take((*line as usize).checked_sub(1)?)
            .map(str::len)
            .sum::<usize>();
        let rest = text.get(start..)?;
        let col = rest
            .char_indices()
            .nth((*column as usize).saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i);
        Some(start + col)
    }
}

/// What a conversion needs to know: the main file, the texts of the files read and the caps
/// on the script's work (to explain a runaway script).
pub(crate) struct Context<'a> {
    pub main_file: &'a str,
    pub texts: &'a BTreeMap<String, String>,
    pub caps: Caps,
}

impl Context<'_> {
    fn eval(&self, file: String, pos: Position, message: String) -> ScriptError {
        let source_text = self.texts.get(&file).cloned();
        let line = pos.line().unwrap_or(0) as u32;
        let column = if line == 0 {
            0
        } else {
            pos.position().unwrap_or(1) as u32
        };
        ScriptError::Eval {
            file,
            line,
            column,
            message,
            source_text,
        }
    }

    /// A compile error of the main file.
    pub(crate) fn parse(&self, err: &ParseError) -> ScriptError {
        self.eval(
            self.main_file.to_string(),
            err.position(),
            parse_message(err.err_type()),
        )
    }

    /// A rule broken at a known place.
    pub(crate) fn at(&self, at: &crate::model::Origin, message: String) -> ScriptError {
        ScriptError::Eval {
            file: at.file.clone(),
            line: at.line,
            column: at.column,
            message,
            source_text: self.texts.get(&at.file).cloned(),
        }
    }

    /// A run-time error of a variant's closure, at its innermost place (at the variant's
    /// declaration `at` when Rhai gives none, as for a runaway loop), naming the variant.
    pub(crate) fn in_variant(
        &self,
        variant: &str,
        at: &crate::model::Origin,
        err: &EvalAltResult,
    ) -> ScriptError {
        let mut e = self.runtime(err);
        if let ScriptError::Eval {
            line: 0, message, ..
        } = &e
        {
            return self.at(at, format!("variant `{variant}`: {message}"));
        }
        if let ScriptError::Eval { message, .. } = &mut e {
            *message = format!("variant `{variant}`: {message}");
        }
        e
    }

    /// A run-time error, reported at its innermost place.
    pub(crate) fn runtime(&self, err: &EvalAltResult) -> ScriptError {
        let (inner, file, pos) = innermost(err, self.main_file.to_string(), Position::NONE);
        let message = self.message(inner, &file, pos);
        self.eval(file, pos, message)
    }

    fn message(&self, err: &EvalAltResult, file: &str, pos: Position) -> String {
        match err {
            EvalAltResult::ErrorRuntime(v, _) if v.is_string() => v.to_string(),
            EvalAltResult::ErrorTooManyOperations(_) => format!(
                "too many operations: the script ran more than {} operations without finishing; \
                 is there an endless loop?",
                self.caps.operations
            ),
            EvalAltResult::ErrorTerminated(v, _) if v.to_string() == TIMED_OUT => format!(
                "the script ran for more than {} s without finishing; is it filling a long list \
                 one item at a time (each addition re-measures the list)? Build long lists with \
                 a literal or `pad`",
                self.caps.seconds
            ),
            EvalAltResult::ErrorStackOverflow(_) => format!(
                "function calls nest more than {MAX_CALL_LEVELS} deep: is there an endless recursion?"
            ),
            EvalAltResult::ErrorDataTooLarge(what, _) => too_large(what),
            EvalAltResult::ErrorDataRace(_, _) => "a closure passed to a method captures the value \
                the method is called on (`m.variant(\"v\", |v| { m.… })`): inside a variant, use \
                the model the closure is given, `|m| { m.… }`"
                .to_string(),
            EvalAltResult::ErrorMismatchDataType(want, _, _) if want == "Fn" && self.calls(file, pos) => {
                "`call` only works on an external handle: `let psp = m.external(\"psp\", #{ delay: ms(80) }); \
                 psp.call()`"
                    .to_string()
            }
            EvalAltResult::ErrorFunctionNotFound(sig, _) if sig.starts_with("anon$") => format!(
                "a closure could not be called with {}: give it one parameter for each \
                 argument (a variant's change is |m| {{ … }}, a growth curve |month| …), and \
                 write it in the file that passes it on: a closure made by an imported \
                 module can be called only inside that module",
                sig.split_once(' ').map_or("these arguments", |(_, args)| args)
            ),
            EvalAltResult::ErrorFunctionNotFound(sig, _) => format!(
                "no function `{}`: check the name and the arguments (docs/model-language.md lists them)",
                sig.replace("&str | ImmutableString | String", "string")
            ),
            other => strip_position(&other.to_string()),
        }
    }

    /// True when the line of `pos` uses `.call(` (Rhai reserves it for function pointers).
    fn calls(&self, file: &str, pos: Position) -> bool {
        let line = pos.line().unwrap_or(0);
        let text = self.texts.get(file).map(String::as_str).unwrap_or("");
        line > 0
            && text
                .lines()
                .nth(line - 1)
                .is_some_and(|l| l.contains(".call("))
    }
}

/// A compile error's message; the limits Rhai only names get their value.
fn parse_message(e: &ParseErrorType) -> String {
    match e {
        ParseErrorType::ExprTooDeep => format!(
            "expressions nest too deep: at most {MAX_EXPR_DEPTH} levels ({} inside functions)",
            MAX_EXPR_DEPTH / 2
        ),
        other => other.to_string(),
    }
}

/// "Length of string too large" with the limit that was passed.
fn too_large(what: &str) -> String {
    let limit = if what.contains("string") {
        format!("a string has at most {MAX_STRING} bytes")
    } else if what.contains("map") {
        format!("a map has at most {MAX_MAP} entries")
    } else {
        format!("a list has at most {MAX_ARRAY} elements, nested lists' elements included")
    };
    format!("{what} too large: {limit}")
}

/// Walks through function-call and module wrappers to the error that started it all, with the
/// file it happened in; a position-less error takes the position of its closest wrapper.
fn innermost(
    err: &EvalAltResult,
    file: String,
    outer: Position,
) -> (&EvalAltResult, String, Position) {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, src, inner, pos) => {
            let here = if src.is_empty() {
                file.clone()
            } else {
                src.clone()
            };
            let (e, f, p) = innermost(inner, here, Position::NONE);
            if p.is_none() {
                (e, file, *pos)
            } else {
                (e, f, p)
            }
        }
        EvalAltResult::ErrorInModule(path, inner, pos) => {
            let (e, f, p) = innermost(inner, path.clone(), Position::NONE);
            if p.is_none() {
                (e, file, *pos)
            } else {
                (e, f, p)
            }
        }
        other => {
            let pos = other.position();
            (other, file, if pos.is_none() { outer } else { pos })
        }
    }
}

/// Removes the ` (line L, position C)` Rhai appends to its messages.
fn strip_position(s: &str) -> String {
    match s.rfind(" (line ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rhai_positions_are_stripped() {
        assert_eq!(
            strip_position("Variable not found: x (line 3, position 9)"),
            "Variable not found: x"
        );
        assert_eq!(strip_position("no position here"), "no position here");
    }

    #[test]
    fn one_line_is_what_editors_parse() {
        let e = ScriptError::Eval {
            file: "m.rhai".into(),
            line: 3,
            column: 7,
            message: "boom".into(),
            source_text: None,
        };
        assert_eq!(e.one_line(), "m.rhai:3:7: error: boom");
        assert_eq!(e.location(), Some(("m.rhai".to_string(), 3, 7)));
    }

    #[test]
    fn offsets_count_characters_within_the_line() {
        let e = ScriptError::Eval {
            file: "m.rhai".into(),
            line: 2,
            column: 3,
            message: "x".into(),
            source_text: Some("µs\nab(c)\n".into()),
        };
        assert_eq!(e.offset(), Some("µs\n".len() + 2));
    }
}
