//! From a scenario to the plan the engine runs, including its warm-up.
//!
//! Stage-less scenarios report steady-state figures: their warm-up is found by MSER-5 on pilot
//! replications (seeded apart from the measured ones) started empty, as the measured ones are.
//! Scenarios with stages report the whole run, as k6 does, unless they fix a warm-up.

use super::{Progress, Replicator, RunParams};
use crate::engine::{Program, ScenarioPlan, SimError};
use crate::model::{Checked, Scenario, Warmup};
use crate::stats::{Aggregate, Schema, mser::mser5};
use serde::{Deserialize, Serialize};

/// Pilot replications for the automatic warm-up (a constant, so the warm-up, and with it every
/// result, does not depend on the thread count).
pub const PILOT_REPLICATIONS: u64 = 4;
/// Windows of a pilot run (MSER-5 then sees 100 batches).
pub const PILOT_WINDOWS: f64 = 500.0;
/// Mixed into the seed of pilot replications so they are independent of the measured ones.
const PILOT_SALT: u64 = 0x5049_4C4F_5453_4545;

/// How the left-out initial part of a run was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmupRule {
    /// The whole run is reported (scenarios with stages, or `warmup: "none"`).
    None,
    /// A warm-up fixed by the model.
    Fixed,
    /// MSER-5 on the per-window mean response time of pilot replications.
    Mser5,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WarmupInfo {
    pub rule: WarmupRule,
    pub seconds: f64,
}

/// The plan of scenario `s`, with its warm-up decided.
///
/// # Errors
/// A pilot replication that stalls.
pub fn plan(
    c: &Checked,
    prog: &Program,
    s: &Scenario,
    params: &RunParams,
) -> Result<(ScenarioPlan, WarmupInfo), SimError> {
    let mut s = s.clone();
    if s.stages.is_empty()
        && let Some(d) = params.duration_s
    {
        s.duration_s = Some(d);
    }
    let settings = &c.model.settings;
    let mut plan = ScenarioPlan::new(
        &s,
        prog.base_level,
        settings.default_duration_s,
        settings.window_s,
    );
    let info = match s.warmup {
        Warmup::Fixed { .. } => WarmupInfo {
            rule: WarmupRule::Fixed,
            seconds: plan.warmup_s,
        },
        Warmup::None => WarmupInfo {
            rule: WarmupRule::None,
            seconds: 0.0,
        },
        Warmup::Auto if !ScenarioPlan::is_steady(&s) => WarmupInfo {
            rule: WarmupRule::None,
            seconds: 0.0,
        },
        Warmup::Auto => {
            let seconds = pilot_warmup(c, prog, &plan, params.seed)?;
            WarmupInfo {
                rule: WarmupRule::Mser5,
                seconds,
            }
        }
    };
    plan.warmup_s = info.seconds;
    Ok((plan, info))
}

/// Runs the pilot replications and returns the MSER-5 truncation, seconds.
fn pilot_warmup(
    c: &Checked,
    prog: &Program,
    plan: &ScenarioPlan,
    seed: u64,
) -> Result<f64, SimError> {
    let mut pilot = plan.clone();
    pilot.window_s = plan.horizon_s / PILOT_WINDOWS;
    pilot.warmup_s = 0.0;
    let mut agg = Aggregate::new(Schema::new(prog, c.workload.is_closed()), prog);
    let progress = Progress::disabled();
    let rep = Replicator {
        prog,
        seed: seed ^ PILOT_SALT,
        progress: &progress,
    };
    rep.batch(&pilot, 0..PILOT_REPLICATIONS, &mut agg)?;
    let cut = mser5(&agg.window_means());
    Ok(cut as f64 * pilot.window_s)
}
