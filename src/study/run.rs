//! Runs a model's study: the shared plan first (one run length and one warm-up for every
//! cell), then each part asked for, all on one cache of cells ([`Cells`]): the breaking-point
//! search first (each probe decides the next), then every cell the projections, events and
//! what-ifs need, settled together, and the parts read them.

use super::accounting::{self, SloAccount};
use super::breaking::{self, BreakingPoint};
use super::cell::{CellPlan, Subject};
use super::cells::Cells;
use super::outlook::{self, EventResult, Projection};
use super::progress::Watch;
use super::whatif::{self, WhatIf};
use crate::analysis::capacity;
use crate::engine::SimError;
use crate::model::{Checked, Effort, Scenario, Warmup};
use crate::montecarlo::plan::{self as mcplan, WarmupInfo};
use crate::montecarlo::{Replications, RunParams};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Length of a study cell's replication unless `--duration` says otherwise, seconds: long
/// enough for steady-state percentiles of web requests (hundreds of thousands of responses at
/// a few hundred users), short enough that a study of dozens of cells takes seconds.
pub const STUDY_RUN_S: f64 = 600.0;
/// Replications at a cell's first look.
pub const FIRST_LOOK: u32 = 4;
/// The name of the model itself among a study's subjects.
pub const BASELINE: &str = "baseline";
/// Pilot replications that decide the study's warm-up (MSER-5).
const PILOTS: u32 = 8;

/// The parts of a study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    Projections,
    Events,
    Whatif,
    BreakingPoint,
    Capacity,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Projections,
        Part::Events,
        Part::Whatif,
        Part::BreakingPoint,
        Part::Capacity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Part::Projections => "projections",
            Part::Events => "events",
            Part::Whatif => "whatif",
            Part::BreakingPoint => "breaking-point",
            Part::Capacity => "capacity",
        }
    }
}

/// What decides a study's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyParams {
    pub seed: u64,
    /// Most replications of one cell.
    pub max_replications: u32,
    /// The run length of every cell, seconds (default [`STUDY_RUN_S`]).
    pub duration_s: Option<f64>,
    pub parts: Vec<Part>,
}

/// The plan every cell ran, as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedPlan {
    pub seed: u64,
    pub horizon_s: f64,
    pub warmup: WarmupInfo,
    /// The level the warm-up was decided at (the heaviest load the study expects to hold).
    pub warmup_level: f64,
    pub first_look: u32,
    pub max_replications: u32,
}

/// Everything a study found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyResults {
    pub plan: SharedPlan,
    /// Today's peak level (users or arrivals/s): the load profile's daily peak, or the
    /// workload's own level.
    pub base_level: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projections: Vec<Projection>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events_at_peak: Vec<EventResult>,
    /// Error budget, Apdex and every verdict today and at +3/+6/+12 months (with the
    /// projections).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slo_accounts: Vec<SloAccount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whatifs: Vec<WhatIf>,
    pub breaking_point: Option<BreakingPoint>,
    /// The cheapest configurations, their proof and the roadmap (a model with scaling options).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<super::capacity::CapacityResults>,
    /// Why the capacity search did not run, when the model declares scaling options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_skipped: Option<String>,
    /// Simulation work: cells and events over the whole study.
    pub cells: usize,
    pub events: u64,
    /// Wall-clock time, seconds (not part of the results: it varies).
    #[serde(skip)]
    pub wall_s: f64,
}

/// A steady-state scenario at `level`.
fn steady(level: f64, horizon_s: f64, warmup: Warmup) -> Scenario {
    Scenario {
        name: "study".into(),
        description: None,
        start_level: Some(level),
        stages: Vec::new(),
        duration_s: Some(horizon_s),
        warmup,
        origin: None,
    }
}

/// The level where the analytic bounds say the bottleneck saturates: the utilization law for
/// an open workload (today's level over the busiest active resource's utilization), the
/// asymptotic knee N* for a closed one.
pub fn analytic_saturation(c: &Checked, base: f64) -> Option<f64> {
    let mut at_base = c.clone();
    at_base.scenarios = vec![steady(base, STUDY_RUN_S, Warmup::None)];
    let load = capacity::analyse(&at_base).into_iter().next()?;
    if c.workload.is_closed() {
        return load.saturation_users.filter(|n| n.is_finite() && *n > 0.0);
    }
    let busiest = load
        .resources
        .iter()
        .filter(|r| !r.lower_bound)
        .filter_map(|r| r.utilization)
        .fold(0.0, f64::max);
    (busiest > 0.0).then(|| base / busiest)
}

/// Why a study could not run.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A variant's model does not validate (the loader validates every variant, so this
    /// names a model built outside it).
    #[error("variant `{name}`: {message}")]
    Variant { name: String, message: String },
}

/// Today's peak: the load profile's daily peak when the model declares one, the workload's
/// own level otherwise.
pub fn today_peak(c: &Checked) -> f64 {
    c.model
        .load_profile
        .as_ref()
        .filter(|p| p.unit == crate::model::LoadUnit::of(&c.workload))
        .map_or(c.workload.base_level(), |p| p.daily_peak)
}

/// A variant as the what-ifs take it: its subject, effort and rationale.
type Variant = (Subject, Option<Effort>, Option<String>);

/// The subjects of the model's variants, each validated and compiled once.
fn variants(c: &Checked, watch: &Option<Arc<dyn Watch>>) -> Result<Vec<Variant>, StudyError> {
    c.model
        .variants
        .iter()
        .map(|v| {
            if v.name == BASELINE {
                return Err(StudyError::Variant {
                    name: v.name.clone(),
                    message: format!(
                        "`{BASELINE}` names the model itself in a study (its cells are keyed by it); give the variant another name"
                    ),
                });
            }
            let checked =
                crate::model::validate((*v.model).clone()).map_err(|e| StudyError::Variant {
                    name: v.name.clone(),
                    message: e.to_string(),
                })?;
            Ok((
                Subject::new(v.name.clone(), checked).watched(watch.clone()),
                v.effort,
                v.rationale.clone(),
            ))
        })
        .collect()
}

/// The loads the what-ifs compare at: today's peak `base`, and the +12-month peak of each
/// hypothesis (within its horizon).
fn whatif_loads(c: &Checked, base: f64) -> Vec<(String, f64)> {
    let mut loads = vec![("today".to_string(), base)];
    for g in &c.model.growth {
        let month = 12.min(g.horizon_months);
        let m = g.load(month).unwrap_or(1.0);
        loads.push((format!("+{month} months ({})", g.name), base * m));
    }
    loads
}

/// The levels of the baseline that the parts other than the breaking point will simulate
/// (projection months, events' peaks, the what-ifs' loads), for the search to lean towards.
/// The same products as [`outlook::projections`] and [`outlook::events`] form; a level
/// missed here is only simulated twice, never wrong.
fn wanted_levels(c: &Checked, base: f64, parts: &[Part]) -> Vec<f64> {
    let model = &c.model;
    let mut out = Vec::new();
    if parts.contains(&Part::Projections) {
        for g in &model.growth {
            out.extend(g.months.iter().map(|m| base * m.load()));
        }
    }
    if parts.contains(&Part::Events) {
        for e in &model.events {
            if model.growth.is_empty() {
                out.push(base * e.multiplier);
            }
            for g in &model.growth {
                let m = g.load(e.month.min(g.horizon_months)).unwrap_or(1.0);
                out.push(base * m * e.multiplier);
            }
        }
    }
    if parts.contains(&Part::Whatif) && !model.variants.is_empty() {
        out.extend(whatif_loads(c, base).into_iter().map(|(_, l)| l));
    }
    if parts.contains(&Part::Capacity) && !model.scaling.is_empty() {
        out.extend(super::capacity::goals(model, base).iter().map(|g| g.level));
    }
    out
}

/// Runs the parts of `params` on the checked model `c`; `step` hears the name of each step.
///
/// # Errors
/// A replication that stalls.
pub fn run(
    c: &Checked,
    params: &StudyParams,
    step: &dyn Fn(&str),
) -> Result<StudyResults, StudyError> {
    run_inner(c, params, step, None)
}

/// As [`run`], told to `watch`: the cells it expects, each step, each settled cell.
///
/// # Errors
/// A replication that stalls.
pub fn run_watched(
    c: &Checked,
    params: &StudyParams,
    watch: Arc<dyn Watch>,
) -> Result<StudyResults, StudyError> {
    run_inner(c, params, &|_| {}, Some(watch))
}

/// About how many cells the parts of `params` settle at most: every month of every
/// hypothesis, every event on every hypothesis, the what-ifs at their loads and each
/// variant's breach search, the breaking point's cap.
pub fn expected_cells(c: &Checked, params: &StudyParams) -> u64 {
    let m = &c.model;
    let has = |p: Part| params.parts.contains(&p);
    let months: u64 = m
        .growth
        .iter()
        .map(|g| u64::from(g.horizon_months) + 1)
        .sum();
    let hypotheses = m.growth.len().max(1) as u64;
    let variants = m.variants.len() as u64;
    let mut n = 0;
    if has(Part::Projections) {
        n += months.max(1);
    }
    if has(Part::Events) {
        n += m.events.len() as u64 * hypotheses;
    }
    if has(Part::Whatif) && variants > 0 {
        let searched: u64 = m.growth.iter().map(super::breach::most_months).sum();
        n += (variants + 1) * (1 + m.growth.len() as u64) + variants * searched;
        if !has(Part::Projections) {
            n += months;
        }
    }
    if has(Part::BreakingPoint) {
        n += breaking::MAX_CELLS as u64;
    }
    if has(Part::Capacity) && !m.scaling.is_empty() {
        // A goal settles its candidates up to the answer and a confirmation; the chosen
        // configurations' breaking points a search each. A guess for the progress bar only.
        let goals = super::capacity::goals(m, 1.0).len() as u64;
        n += 4 * goals + 2 * breaking::MAX_CELLS as u64;
    }
    n
}

fn run_inner(
    c: &Checked,
    params: &StudyParams,
    say: &dyn Fn(&str),
    watch: Option<Arc<dyn Watch>>,
) -> Result<StudyResults, StudyError> {
    let step = |name: &str| {
        say(name);
        if let Some(w) = &watch {
            w.step(name);
        }
    };
    if let Some(w) = &watch {
        w.expect(expected_cells(c, params));
    }
    let started = Instant::now();
    let subject = Subject::new(BASELINE, c.clone()).watched(watch.clone());
    let base = today_peak(c);
    let saturation = analytic_saturation(c, base);
    let horizon_s = params.duration_s.unwrap_or(STUDY_RUN_S);
    // The warm-up of the heaviest load expected to hold: 80 % of the analytic saturation.
    let warmup_level = saturation.map_or(base, |s| (0.8 * s).max(base));
    let warmup_level = if c.workload.is_closed() {
        warmup_level.round().max(1.0)
    } else {
        warmup_level
    };
    step("warm-up");
    let pilot = RunParams {
        seed: params.seed,
        replications: Replications::Fixed { n: PILOTS },
        duration_s: None,
        scenarios: Vec::new(),
    };
    let scenario = steady(warmup_level, horizon_s, Warmup::Auto);
    let (_, warmup) = mcplan::plan(c, &subject.prog, &scenario, &pilot)?;
    let plan = CellPlan {
        seed: params.seed,
        horizon_s,
        warmup_s: warmup.seconds,
        first_look: FIRST_LOOK.min(params.max_replications),
        max_replications: params.max_replications.max(2),
    };
    let mut out = StudyResults {
        plan: SharedPlan {
            seed: params.seed,
            horizon_s,
            warmup,
            warmup_level,
            first_look: plan.first_look,
            max_replications: plan.max_replications,
        },
        base_level: base,
        projections: Vec::new(),
        events_at_peak: Vec::new(),
        slo_accounts: Vec::new(),
        whatifs: Vec::new(),
        breaking_point: None,
        capacity: None,
        capacity_skipped: None,
        cells: 0,
        events: 0,
        wall_s: 0.0,
    };
    // One cache for every part. The breaking-point search runs first: its probes lean towards
    // the levels the other parts will ask for, which then cost nothing.
    let mut cells = Cells::default();
    let searched: Vec<Part> = params
        .parts
        .iter()
        .copied()
        .filter(|p| *p != Part::Capacity || plan.max_replications >= FIRST_LOOK)
        .collect();
    let wanted = wanted_levels(c, base, &searched);
    if params.parts.contains(&Part::BreakingPoint) {
        step("breaking point");
        let bp = breaking::search_in(&mut cells, &subject, &plan, base, saturation, &wanted)?;
        out.breaking_point = Some(bp);
    }
    // Every other cell is known now: settle them together, both cores busy throughout.
    let whatifs = params.parts.contains(&Part::Whatif) && !c.model.variants.is_empty();
    let variants = if whatifs {
        variants(c, &watch)?
    } else {
        Vec::new()
    };
    let loads = whatif_loads(c, base);
    let mut all: Vec<(&Subject, f64)> = wanted.iter().map(|&l| (&subject, l)).collect();
    for (v, _, _) in &variants {
        all.extend(loads.iter().map(|(_, l)| (v, *l)));
    }
    step("projection, event and what-if cells");
    cells.settle_all(&plan, &all)?;
    if params.parts.contains(&Part::Projections) && !c.model.growth.is_empty() {
        step("projections");
        out.projections = outlook::projections(&subject, &plan, base, &mut cells)?;
    }
    if params.parts.contains(&Part::Events) && !c.model.events.is_empty() {
        step("events");
        out.events_at_peak = outlook::events(&subject, &plan, base, &mut cells)?;
    }
    if params.parts.contains(&Part::Projections) {
        step("SLO accounting");
        out.slo_accounts = accounting::accounts(&subject, &plan, base, &mut cells)?;
    }
    if whatifs {
        step("what-ifs");
        out.whatifs = whatif::whatifs(&subject, &variants, &plan, &loads, &mut cells)?;
        if !c.model.growth.is_empty() {
            step("what-ifs: breach months");
            let subjects: Vec<&Subject> = variants.iter().map(|(s, _, _)| s).collect();
            super::breach::shifts(
                &subject,
                &mut cells,
                &subjects,
                &plan,
                base,
                &mut out.whatifs,
            )?;
        }
    }
    let capacity = params.parts.contains(&Part::Capacity) && !c.model.scaling.is_empty();
    if capacity && plan.max_replications < FIRST_LOOK {
        // Below the first look every percentile's interval reaches past the largest response
        // seen: no candidate can pass, and the walk would simulate every configuration.
        out.capacity_skipped = Some(format!(
            "not searched: a cell's verdict needs at least {FIRST_LOOK} replications, the study has {}",
            plan.max_replications
        ));
    } else if capacity {
        out.capacity = super::capacity::run(
            c,
            &plan,
            base,
            &mut cells,
            out.breaking_point.as_ref(),
            watch.clone(),
            &step,
        )?;
    }
    out.cells = cells.len();
    out.events = cells.events;
    out.wall_s = started.elapsed().as_secs_f64();
    Ok(out)
}
