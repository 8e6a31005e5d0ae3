//! From a scenario to the plan the engine runs, including its warm-up.
//!
//! Stage-less scenarios report steady-state figures: their warm-up is found by MSER-5 on pilot
//! replications (seeded apart from the measured ones) started empty, as the measured ones are.
//! Scenarios with stages report the whole run, as k6 does, unless they fix a warm-up.

use super::{Progress, Replications, Replicator, RunParams};
use crate::engine::workload::window_width;
use crate::engine::{Program, ScenarioPlan, SimError};
use crate::model::{Checked, Scenario, Warmup};
use crate::stats::{Aggregate, Schema, mser::mser5};
use serde::{Deserialize, Serialize};

/// Fewest and most pilot replications for the automatic warm-up.
pub const PILOTS_MIN: u64 = 8;
pub const PILOTS_MAX: u64 = 256;

/// Pilot replications for a run: as many as it measures (at most [`PILOTS_MAX`]).
///
/// Why: MSER-5 on the series averaged over `R` pilots weighs the transient's bias against the
/// noise of an `R`-replication mean. With fewer pilots than the run measures it accepts a bias
/// that is small against the pilots' noise but not against the final interval's, and truncates
/// too early (8 pilots cut an M/M/1 at utilization 0.9 after about 100 s where the transient
/// lasts several relaxation times of 380 s). The count depends on the run's parameters only,
/// never on threads or shards.
pub fn pilot_count(replications: Replications) -> u64 {
    let n = match replications {
        Replications::Fixed { n } => u64::from(n),
        Replications::Precision(p) => u64::from(p.max_replications),
    };
    n.clamp(PILOTS_MIN, PILOTS_MAX)
}
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
    /// The window width of the MSER-5 pilot series, seconds (0 without a pilot).
    pub resolution_s: f64,
    /// Pilot replications averaged into the series (0 without a pilot).
    pub pilots: u64,
}

impl WarmupInfo {
    /// A warm-up decided without pilot runs.
    fn without_pilot(rule: WarmupRule, seconds: f64) -> WarmupInfo {
        WarmupInfo {
            rule,
            seconds,
            resolution_s: 0.0,
            pilots: 0,
        }
    }
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
        Warmup::Fixed { .. } => WarmupInfo::without_pilot(WarmupRule::Fixed, plan.warmup_s),
        Warmup::None => WarmupInfo::without_pilot(WarmupRule::None, 0.0),
        Warmup::Auto if !ScenarioPlan::is_steady(&s) => {
            WarmupInfo::without_pilot(WarmupRule::None, 0.0)
        }
        Warmup::Auto => {
            let mut info = WarmupInfo {
                rule: WarmupRule::Mser5,
                seconds: 0.0,
                resolution_s: plan.horizon_s / PILOT_WINDOWS,
                pilots: pilot_count(params.replications),
            };
            info.seconds = pilot_warmup(c, prog, &plan, &info, params.seed)?;
            info
        }
    };
    plan.warmup_s = info.seconds;
    Ok((plan, info))
}

/// True when a scenario's run may be lengthened by the precision loop: a stage-less scenario
/// reporting steady-state figures (an automatic or fixed warm-up), whose answer does not
/// depend on its length.
pub fn lengthenable(s: &Scenario) -> bool {
    s.stages.is_empty() && s.warmup != Warmup::None
}

/// Doubles the run length of a stage-less scenario. An automatic warm-up is found again on
/// pilot runs of the new length, in windows as narrow as before (as long as the run has at
/// most [`crate::engine::workload::MAX_WINDOWS`] of them): with the transient at the same
/// resolution and a longer steady part after it, MSER-5 sees the transient more clearly, where
/// a short pilot run cuts a slow one too early.
///
/// # Errors
/// A pilot replication that stalls.
pub fn lengthen(
    c: &Checked,
    prog: &Program,
    plan: &mut ScenarioPlan,
    warmup: &mut WarmupInfo,
    seed: u64,
) -> Result<(), SimError> {
    plan.horizon_s *= 2.0;
    plan.window_s = window_width(plan.horizon_s, Some(plan.window_s));
    if warmup.rule == WarmupRule::Mser5 {
        warmup.resolution_s = window_width(plan.horizon_s, Some(warmup.resolution_s));
        warmup.seconds = pilot_warmup(c, prog, plan, warmup, seed)?;
        plan.warmup_s = warmup.seconds;
    }
    Ok(())
}

/// Runs the pilot replications and returns the MSER-5 truncation, seconds.
fn pilot_warmup(
    c: &Checked,
    prog: &Program,
    plan: &ScenarioPlan,
    info: &WarmupInfo,
    seed: u64,
) -> Result<f64, SimError> {
    let mut pilot = plan.clone();
    pilot.window_s = info.resolution_s;
    pilot.warmup_s = 0.0;
    pilot.window_quantiles = false;
    let mut agg = Aggregate::new(Schema::new(prog, c.workload.is_closed()), prog);
    let progress = Progress::disabled();
    let rep = Replicator {
        prog,
        seed: seed ^ PILOT_SALT,
        progress: &progress,
    };
    rep.batch(&pilot, 0..info.pilots, &mut agg)?;
    let cut = mser5(&agg.window_means());
    Ok(cut as f64 * pilot.window_s)
}
