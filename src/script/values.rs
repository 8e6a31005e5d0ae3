//! The script's value types and the conversions from Rhai values to model data.
//!
//! Every function of the language takes its arguments as `Dynamic` and converts them here, so a
//! wrong type gets a message that says what was expected (`service` must be a distribution or a
//! duration like ms(5), got i64) instead of Rhai's "function not found" with a signature.
//! Durations carry their unit in their type: a bare number where a duration is expected is an
//! error, never a silent "seconds".

use crate::model::{
    Dist, MAX_BYTES, MAX_DURATION_S, MAX_DURATION_TEXT, MAX_NAME_CHARS, MAX_NESTING,
    MAX_RATE_PER_S, MAX_RATE_TEXT, MAX_SCRIPT_STEPS, Step,
};
use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map};
use std::cell::Cell;
use std::rc::Rc;

/// Result of a registered native function: Rhai fills in the position of the call.
pub(crate) type Res<T> = Result<T, Box<EvalAltResult>>;

/// Name of the native function an external handle (a curried `Fn`) calls on `ext.call(…)`.
pub(crate) const EXTERNAL_CALL_FN: &str = "external_call";

/// A span of time in seconds; finite, >= 0 and at most [`MAX_DURATION_S`] by construction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Duration(pub f64);

impl Duration {
    /// Checks a computed duration; `expr` describes the computation for the message.
    pub(crate) fn checked(seconds: f64, expr: impl FnOnce() -> String) -> Result<Self, String> {
        let got = || crate::format::fmt_duration(seconds);
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(format!(
                "{} is not a valid duration ({}): durations must be finite and >= 0",
                expr(),
                got()
            ));
        }
        if seconds > MAX_DURATION_S {
            return Err(format!(
                "{} is not a valid duration ({} s): durations are at most {MAX_DURATION_TEXT}, \
                 beyond which event times lose microsecond resolution",
                expr(),
                crate::format::plain_number(seconds)
            ));
        }
        Ok(Duration(seconds))
    }
}

/// Events per second; finite, >= 0 and at most [`MAX_RATE_PER_S`] by construction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Rate(pub f64);

impl Rate {
    /// Checks a computed rate; `expr` describes the computation for the message.
    pub(crate) fn checked(per_s: f64, expr: impl FnOnce() -> String) -> Result<Self, String> {
        if !(per_s.is_finite() && per_s >= 0.0) {
            return Err(format!(
                "{} is not a valid rate: rates must be finite and >= 0",
                expr()
            ));
        }
        if per_s > MAX_RATE_PER_S {
            return Err(format!(
                "{} is not a valid rate ({per_s:.3e} per second): rates are at most {MAX_RATE_TEXT}",
                expr()
            ));
        }
        Ok(Rate(per_s))
    }
}

/// A size in bytes (decimal units: `kb(1)` is 1000 bytes); finite, >= 0 and at most
/// [`MAX_BYTES`] by construction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Bytes(pub f64);

impl Bytes {
    /// Checks a computed size; `expr` describes the computation for the message.
    pub(crate) fn checked(bytes: f64, expr: impl FnOnce() -> String) -> Result<Self, String> {
        if bytes.is_finite() && (0.0..=MAX_BYTES).contains(&bytes) {
            return Ok(Bytes(bytes));
        }
        Err(format!(
            "{} is not a valid size ({} bytes): sizes must be finite, >= 0 and at most 1e15 \
             bytes (a petabyte)",
            expr(),
            crate::format::plain_number(bytes)
        ))
    }
}

/// A validated distribution (the model's own type, wrapped so Rhai can hold it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScriptDist(pub Dist);

/// One step of an endpoint's flow, shared: Rhai copies a value each time it is stored or
/// passed, and a step may hold many others.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScriptStep(pub Rc<Step>);

/// The steps a script may still build, copies included ([`MAX_SCRIPT_STEPS`] at the start):
/// shared by every function that copies steps into a new one.
#[derive(Debug, Clone)]
pub(crate) struct Budget(Rc<Cell<usize>>);

impl Budget {
    pub(crate) fn new() -> Budget {
        Budget(Rc::new(Cell::new(MAX_SCRIPT_STEPS)))
    }

    /// Takes the steps of `list` (counted before they are copied) out of the budget.
    fn spend(&self, list: &[&Step]) -> Result<(), String> {
        let left = self.0.get();
        let mut n = 0_usize;
        for s in list {
            n = n.saturating_add(Step::count_within(std::slice::from_ref(*s), left));
            if n > left {
                return Err(format!(
                    "the script builds more than {MAX_SCRIPT_STEPS} steps in all, copies \
                     included (branch(p, steps) copies `steps`): build each list of steps once"
                ));
            }
        }
        self.0.set(left - n);
        Ok(())
    }

    /// A copy of one step, paid for.
    pub(crate) fn copy(&self, s: &Step) -> Result<Step, String> {
        self.spend(&[s])?;
        Ok(s.clone())
    }
}

/// What kind of resource a handle names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Station,
    Proxy,
    App,
    Database,
    Cache,
    External,
    Background,
}

impl Kind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Station => "station",
            Kind::Proxy => "proxy",
            Kind::App => "app",
            Kind::Database => "database",
            Kind::Cache => "cache",
            Kind::External => "external",
            Kind::Background => "background",
        }
    }
}

/// A resource as the script holds it: steps and options refer to resources by name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Handle {
    pub kind: Kind,
    pub name: String,
}

impl Handle {
    /// Checks that the handle is of the kind a method needs.
    pub(crate) fn expect(&self, kind: Kind, method: &str) -> Result<&str, String> {
        if self.kind == kind {
            return Ok(&self.name);
        }
        Err(format!(
            "`{method}` is a method of {} handles, but `{}` is {} {}",
            kind.word(),
            self.name,
            article(self.kind.word()),
            self.kind.word()
        ))
    }

    /// The value a script receives: externals are a curried `Fn` so that `ext.call()` works
    /// (Rhai reserves the method name `call` for function pointers).
    pub(crate) fn into_dynamic(self) -> Dynamic {
        if self.kind != Kind::External {
            return Dynamic::from(self);
        }
        let mut f = FnPtr::new(EXTERNAL_CALL_FN).expect("a valid identifier");
        f.add_curry(Dynamic::from(self));
        Dynamic::from(f)
    }

    /// Reads a handle back from a script value (a plain handle or an external's `Fn`).
    pub(crate) fn from_dynamic(v: &Dynamic) -> Option<Handle> {
        if let Some(h) = v.read_lock::<Handle>() {
            return Some(h.clone());
        }
        Handle::from_fn_ptr(&*v.read_lock::<FnPtr>()?)
    }

    /// The external handle behind a function pointer, if it is one.
    pub(crate) fn from_fn_ptr(f: &FnPtr) -> Option<Handle> {
        if f.fn_name() != EXTERNAL_CALL_FN {
            return None;
        }
        f.curry()
            .first()
            .and_then(|c| c.read_lock::<Handle>().map(|h| h.clone()))
    }
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`", self.kind.word(), self.name)
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The script-level type name of a value, for messages ("Duration", "app handle", "i64").
pub(crate) fn kind(v: &Dynamic) -> String {
    if let Some(h) = Handle::from_dynamic(v) {
        return format!("{} handle", h.kind.word());
    }
    let name = if v.is::<Duration>() {
        "Duration"
    } else if v.is::<Rate>() {
        "Rate"
    } else if v.is::<Bytes>() {
        "Bytes"
    } else if v.is::<ScriptDist>() {
        "Dist"
    } else if v.is::<ScriptStep>() {
        "Step"
    } else if v.is::<super::scenario::ScriptStage>() {
        "Stage"
    } else if v.is::<super::builder::ModelHandle>() {
        "Model"
    } else {
        v.type_name()
    };
    name.to_string()
}

/// A number (INT or FLOAT).
pub(crate) fn number(v: &Dynamic, what: &str) -> Result<f64, String> {
    if let Ok(i) = v.as_int() {
        return Ok(i as f64);
    }
    v.as_float()
        .map_err(|_| format!("`{what}` must be a number, got {}", kind(v)))
}

/// A whole number (INT); a FLOAT is refused so `2.5` servers never rounds silently.
pub(crate) fn integer(v: &Dynamic, what: &str) -> Result<i64, String> {
    v.as_int()
        .map_err(|_| format!("`{what}` must be a whole number like 4, got {}", kind(v)))
}

/// A string.
pub(crate) fn text(v: &Dynamic, what: &str) -> Result<String, String> {
    match v.as_immutable_string_ref() {
        Ok(s) => Ok(s.to_string()),
        Err(_) => Err(format!("`{what}` must be a string, got {}", kind(v))),
    }
}

/// A name (of the model, a resource, an endpoint, a scenario): a string of at most
/// [`MAX_NAME_CHARS`] characters.
pub(crate) fn name(v: &Dynamic, what: &str) -> Result<String, String> {
    let s = text(v, what)?;
    let chars = s.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "`{what}` is {chars} characters long; a name has at most {MAX_NAME_CHARS}"
        ));
    }
    Ok(s)
}

/// A duration in seconds; a bare number is refused because its unit would be a guess.
pub(crate) fn duration(v: &Dynamic, what: &str) -> Result<f64, String> {
    if let Some(d) = v.read_lock::<Duration>() {
        return Ok(d.0);
    }
    Err(format!(
        "`{what}` must be a duration like ms(5), got {}{}",
        kind(v),
        unit_hint(v)
    ))
}

/// A size in bytes; a bare number is refused because its unit would be a guess.
pub(crate) fn bytes(v: &Dynamic, what: &str) -> Result<f64, String> {
    if let Some(b) = v.read_lock::<Bytes>() {
        return Ok(b.0);
    }
    let hint = if v.is_int() || v.is_float() {
        " (units must be explicit: use kb(…), mb(…) or gb(…))"
    } else {
        ""
    };
    Err(format!(
        "`{what}` must be a size like kb(35), got {}{hint}",
        kind(v)
    ))
}

/// A function pointer written in the script (a closure `|x| …` or `Fn("name")`); an external
/// handle, which is one too, is refused.
pub(crate) fn closure(v: &Dynamic, what: &str, example: &str) -> Result<FnPtr, String> {
    match v.read_lock::<FnPtr>() {
        Some(f) if Handle::from_fn_ptr(&f).is_none() => Ok(f.clone()),
        _ => Err(format!(
            "`{what}` must be a function like {example}, got {}",
            kind(v)
        )),
    }
}

/// A distribution; a plain duration means "always that long".
pub(crate) fn dist(v: &Dynamic, what: &str) -> Result<Dist, String> {
    if let Some(d) = v.read_lock::<ScriptDist>() {
        return Ok(d.0.clone());
    }
    if let Some(d) = v.read_lock::<Duration>() {
        return Dist::constant(d.0).map_err(|e| e.to_string());
    }
    Err(format!(
        "`{what}` must be a distribution or a duration like ms(5), got {}{}",
        kind(v),
        unit_hint(v)
    ))
}

fn unit_hint(v: &Dynamic) -> &'static str {
    if v.is_int() || v.is_float() {
        " (units must be explicit: use ms(…) or sec(…))"
    } else {
        ""
    }
}

/// A load level: a number (users or arrivals/s) or a `Rate`.
pub(crate) fn level(v: &Dynamic, what: &'static str) -> Result<f64, String> {
    let x = match v.read_lock::<Rate>() {
        Some(r) => r.0,
        None => number(v, what).map_err(|_| {
            format!(
                "`{what}` must be a number (users) or a rate like per_sec(50), got {}",
                kind(v)
            )
        })?,
    };
    crate::model::non_negative(what, x).map_err(|e| e.to_string())
}

/// A probability in [0, 1].
pub(crate) fn probability(v: &Dynamic, what: &'static str) -> Result<f64, String> {
    crate::model::probability(what, number(v, what)?).map_err(|e| e.to_string())
}

/// A list of steps, copied out of the script's values and paid for from `budget`; an element
/// that is not a step is named by its index.
pub(crate) fn steps(v: &Dynamic, what: &str, budget: &Budget) -> Result<Vec<Step>, String> {
    let Some(list) = v.read_lock::<Array>() else {
        return Err(format!(
            "`{what}` must be a list of steps like [db.read(ms(5))], got {}",
            kind(v)
        ));
    };
    let shared = list
        .iter()
        .enumerate()
        .map(|(i, s)| match s.read_lock::<ScriptStep>() {
            Some(s) => Ok(s.0.clone()),
            None => Err(format!(
                "`{what}[{i}]` must be a step such as db.read(ms(5)) or delay(ms(5)), got {}",
                kind(s)
            )),
        })
        .collect::<Result<Vec<Rc<Step>>, String>>()?;
    let depth = shared.iter().map(|s| s.depth()).max().unwrap_or(0);
    nesting(depth, what)?;
    budget.spend(&shared.iter().map(|s| &**s).collect::<Vec<_>>())?;
    Ok(shared.iter().map(|s| Step::clone(s)).collect())
}

/// Refuses steps nested deeper than [`MAX_NESTING`] (a script loop can build any depth).
pub(crate) fn nesting(depth: usize, what: &str) -> Result<(), String> {
    if depth < MAX_NESTING {
        return Ok(());
    }
    Err(format!(
        "`{what}` would nest steps {} deep (branches, cache misses and repeats inside one \
         another); at most {MAX_NESTING} levels are supported",
        depth + 1
    ))
}

/// A handle of the given kind.
pub(crate) fn handle(v: &Dynamic, want: Kind, what: &str) -> Result<String, String> {
    match Handle::from_dynamic(v) {
        Some(h) if h.kind == want => Ok(h.name),
        _ => Err(format!(
            "`{what}` must be {} {} handle returned by m.{}(…), got {}",
            article(want.word()),
            want.word(),
            want.word(),
            kind(v)
        )),
    }
}

/// An options map checked against the keys a function knows.
pub(crate) struct Opts {
    map: Map,
}

impl Opts {
    /// Refuses unknown keys, listing the valid ones.
    pub(crate) fn new(v: &Dynamic, func: &str, valid: &[&str]) -> Result<Opts, String> {
        let Some(map) = v.read_lock::<Map>().map(|m| m.clone()) else {
            return Err(format!(
                "the options of {func} must be a map like #{{ … }}, got {}",
                kind(v)
            ));
        };
        if let Some(bad) = map.keys().find(|k| !valid.contains(&k.as_str())) {
            return Err(format!(
                "unknown option `{bad}` for {func}; valid: {}",
                valid.join(", ")
            ));
        }
        Ok(Opts { map })
    }

    /// An empty options map (for the forms called without one).
    pub(crate) fn empty() -> Opts {
        Opts { map: Map::new() }
    }

    /// Options already checked (a resource's declared ones, merged with a variant's changes).
    pub(crate) fn from_map(map: Map) -> Opts {
        Opts { map }
    }

    pub(crate) fn map(&self) -> &Map {
        &self.map
    }

    /// Refuses a key the form in use does not take, naming the form.
    pub(crate) fn refuse(&self, key: &str, form: &str) -> Result<(), String> {
        if self.map.contains_key(key) {
            return Err(format!("`{key}` does not go with {form}"));
        }
        Ok(())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Dynamic> {
        self.map.get(key)
    }

    pub(crate) fn count(&self, key: &str, default: i64) -> Result<i64, String> {
        Ok(self.opt_count(key)?.unwrap_or(default))
    }

    pub(crate) fn opt_count(&self, key: &str) -> Result<Option<i64>, String> {
        self.get(key).map(|v| integer(v, key)).transpose()
    }

    pub(crate) fn number(&self, key: &str) -> Result<Option<f64>, String> {
        self.get(key).map(|v| number(v, key)).transpose()
    }

    pub(crate) fn duration(&self, key: &str) -> Result<Option<f64>, String> {
        self.get(key).map(|v| duration(v, key)).transpose()
    }

    pub(crate) fn bytes(&self, key: &str) -> Result<Option<f64>, String> {
        self.get(key).map(|v| bytes(v, key)).transpose()
    }

    pub(crate) fn dist(&self, key: &str) -> Result<Option<Dist>, String> {
        self.get(key).map(|v| dist(v, key)).transpose()
    }

    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, String> {
        self.get(key).map(|v| text(v, key)).transpose()
    }

    /// A text option with its default (a choice such as `mode: "async"`).
    pub(crate) fn text_or(&self, key: &str, default: &str) -> Result<String, String> {
        Ok(self.text(key)?.unwrap_or_else(|| default.to_string()))
    }

    /// A distribution option that defaults to no time at all.
    pub(crate) fn dist_or_zero(&self, key: &str) -> Result<Dist, String> {
        Ok(self.dist(key)?.unwrap_or(Dist::Constant { value_s: 0.0 }))
    }

    /// A value that must be given, with an example of it for the message.
    pub(crate) fn required<T>(value: Option<T>, key: &str, example: &str) -> Result<T, String> {
        value.ok_or_else(|| format!("`{key}` is required, e.g. {key}: {example}"))
    }
}

/// Prefixes an item's errors with its name: "station `db`: `servers` must be …".
pub(crate) fn for_item<T>(item: &str, r: Result<T, String>) -> Result<T, String> {
    r.map_err(|e| format!("{item}: {e}"))
}

/// Turns a model-crate error into a message.
pub(crate) fn msg<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_number_is_not_a_duration() {
        let err = duration(&Dynamic::from(5_i64), "timeout").unwrap_err();
        assert!(err.contains("use ms(…) or sec(…)"), "{err}");
    }

    #[test]
    fn a_duration_is_a_constant_distribution() {
        let d = dist(&Dynamic::from(Duration(0.25)), "service").unwrap();
        assert_eq!(d, Dist::constant(0.25).unwrap());
    }

    #[test]
    fn negative_results_are_not_durations() {
        assert!(Duration::checked(-1.0, || "x".into()).is_err());
        assert!(Duration::checked(f64::NAN, || "x".into()).is_err());
        assert_eq!(Duration::checked(0.0, || "x".into()), Ok(Duration(0.0)));
    }

    #[test]
    fn durations_stop_at_the_documented_maximum() {
        assert_eq!(Duration::checked(1e9, || "x".into()), Ok(Duration(1e9)));
        let err = Duration::checked(1e9 + 1.0, || "`x`".into()).unwrap_err();
        assert!(err.contains("at most 1e9 s (about 31.7 years)"), "{err}");
    }

    #[test]
    fn rates_stop_at_one_per_nanosecond() {
        assert_eq!(Rate::checked(1e9, || "x".into()), Ok(Rate(1e9)));
        assert!(Rate::checked(1e9 * 1.000_001, || "x".into()).is_err());
        assert!(Rate::checked(f64::NAN, || "x".into()).is_err());
        assert!(Rate::checked(-1.0, || "x".into()).is_err());
    }

    #[test]
    fn external_handles_round_trip_through_their_fn_pointer() {
        let h = Handle {
            kind: Kind::External,
            name: "psp".into(),
        };
        let v = h.clone().into_dynamic();
        assert!(v.is::<FnPtr>());
        assert_eq!(Handle::from_dynamic(&v), Some(h));
        assert_eq!(kind(&v), "external handle");
    }
}
