//! Load profiles: the stage constructors `ramp`, `hold`, `stage` and `m.scenario`.
//!
//! Stages are k6's `{duration, target}`: each moves the load level linearly to its target.
//! `hold(d)` has no target of its own; it is resolved when the scenario is built, to the
//! previous stage's target (or the scenario's start level, 0 when none is given, as in k6).

use super::builder::ModelHandle;
use super::values::*;
use crate::model::{Scenario, Stage, Warmup};
use rhai::{Array, Dynamic, Engine, NativeCallContext};

/// A stage as written; holds get their target when the scenario is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ScriptStage {
    To { duration_s: f64, target: f64 },
    Hold { duration_s: f64 },
}

const SCENARIO_KEYS: &[&str] = &["stages", "duration", "level", "warmup", "description"];

pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<ScriptStage>("Stage");
    engine.register_fn("to_string", |s: &mut ScriptStage| describe(s));
    engine.register_fn("to_debug", |s: &mut ScriptStage| describe(s));
    engine.register_fn(
        "ramp",
        |target: Dynamic, over: Dynamic| -> Res<ScriptStage> {
            let target = level(&target, "ramp target")?;
            Ok(ScriptStage::To {
                duration_s: duration(&over, "ramp duration")?,
                target,
            })
        },
    );
    engine.register_fn("stage", |d: Dynamic, target: Dynamic| -> Res<ScriptStage> {
        let duration_s = duration(&d, "stage duration")?;
        Ok(ScriptStage::To {
            duration_s,
            target: level(&target, "stage target")?,
        })
    });
    engine.register_fn("hold", |d: Dynamic| -> Res<ScriptStage> {
        Ok(ScriptStage::Hold {
            duration_s: duration(&d, "hold duration")?,
        })
    });
    engine.register_fn(
        "scenario",
        |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic, o: Dynamic| -> Res<()> {
            let name = super::values::name(&name, "scenario name")?;
            let o = Opts::new(&o, "m.scenario", SCENARIO_KEYS)?;
            let item = format!("scenario `{name}`");
            let mut s = for_item(&item, scenario(name, &o))?;
            s.origin = Some(m.origin(&ctx));
            Ok(for_item(&item, m.add_scenario(s))?)
        },
    );
}

fn describe(s: &ScriptStage) -> String {
    use crate::format::fmt_duration;
    match s {
        ScriptStage::To { duration_s, target } => {
            format!("to {target} over {}", fmt_duration(*duration_s))
        }
        ScriptStage::Hold { duration_s } => format!("hold for {}", fmt_duration(*duration_s)),
    }
}

fn scenario(name: String, o: &Opts) -> Result<Scenario, String> {
    let start_level = o.get("level").map(|l| level(l, "level")).transpose()?;
    let stages = match o.get("stages") {
        Some(v) => resolve(&stage_list(v)?, start_level.unwrap_or(0.0)),
        None => Vec::new(),
    };
    Ok(Scenario {
        name,
        description: o.text("description")?,
        start_level,
        stages,
        duration_s: o.duration("duration")?,
        warmup: o
            .get("warmup")
            .map(warmup)
            .transpose()?
            .unwrap_or(Warmup::Auto),
        origin: None,
    })
}

fn stage_list(v: &Dynamic) -> Result<Vec<ScriptStage>, String> {
    let Some(items) = v.read_lock::<Array>() else {
        return Err(format!(
            "`stages` must be a list like [ramp(100, minutes(2)), hold(minutes(10))], got {}",
            kind(v)
        ));
    };
    if items.is_empty() {
        return Err("`stages` is empty: give at least one stage, like \
             [ramp(100, minutes(2)), hold(minutes(10))], or leave `stages` out for a \
             steady-state run"
            .to_string());
    }
    let stage_at = |(i, s): (usize, &Dynamic)| match s.read_lock::<ScriptStage>() {
        Some(s) => Ok(*s),
        None => Err(format!(
            "`stages[{i}]` must be ramp(…), hold(…) or stage(…), got {}",
            kind(s)
        )),
    };
    items.iter().enumerate().map(stage_at).collect()
}

/// Gives every hold the level reached before it.
fn resolve(stages: &[ScriptStage], start_level: f64) -> Vec<Stage> {
    let mut current = start_level;
    let mut out = Vec::with_capacity(stages.len());
    for s in stages {
        let (duration_s, target) = match *s {
            ScriptStage::To { duration_s, target } => (duration_s, target),
            ScriptStage::Hold { duration_s } => (duration_s, current),
        };
        current = target;
        out.push(Stage { duration_s, target });
    }
    out
}

fn warmup(v: &Dynamic) -> Result<Warmup, String> {
    if let Some(d) = v.read_lock::<Duration>() {
        return Ok(Warmup::Fixed { seconds: d.0 });
    }
    match v.as_immutable_string_ref().as_deref().map(|s| s.as_str()) {
        Ok("auto") => Ok(Warmup::Auto),
        Ok("none") => Ok(Warmup::None),
        _ => Err(format!(
            "`warmup` must be a duration like minutes(2), \"auto\" or \"none\", got {}",
            describe_value(v)
        )),
    }
}

/// A value for a message: strings are shown, other values by their type.
fn describe_value(v: &Dynamic) -> String {
    match v.as_immutable_string_ref() {
        Ok(s) => format!("\"{}\"", s.as_str()),
        Err(_) => kind(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_keep_the_previous_target_or_the_start_level() {
        let stages = [
            ScriptStage::Hold { duration_s: 5.0 },
            ScriptStage::To {
                duration_s: 60.0,
                target: 100.0,
            },
            ScriptStage::Hold { duration_s: 600.0 },
        ];
        let got = resolve(&stages, 10.0);
        let targets: Vec<f64> = got.iter().map(|s| s.target).collect();
        assert_eq!(targets, vec![10.0, 100.0, 100.0]);
    }
}
