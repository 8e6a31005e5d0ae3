//! The search for the cheapest configuration that holds a goal's load, and its proof.
//!
//! Every configuration within the budget is listed from the cheapest
//! ([`Space::in_cost_order`]). For each goal the walk takes them in that order: a candidate
//! that breaks a necessary condition ([`super::bound`]) is ruled out without simulation; any
//! other is simulated as a study cell (common random numbers: every candidate's replication
//! `i` draws the same streams), and one whose objectives all pass is run again with fresh
//! seeds. The first candidate that passes both is the answer; every cheaper one is in the
//! record with the reason it was ruled out. The walks of all goals advance together, so that
//! each round settles the cells of every goal at once and both cores stay busy.

use super::super::breaking::CONFIRM_SALT;
use super::super::cell::{CellPlan, Holds, Subject};
use super::super::cells::Cells;
use super::super::outlook;
use super::super::progress::Watch;
use super::super::run::BASELINE;
use super::bound;
use crate::analysis::slo::{SloCheck, Verdict};
use crate::engine::SimError;
use crate::model::config::{Config, Space};
use crate::model::{Checked, Model};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Why a candidate is not the answer, or that it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Ruled out without simulation: it breaks a necessary condition.
    Bound { resource: String, text: String },
    /// Simulated: an objective fails (its whole interval misses the target).
    Fails { objective: String, text: String },
    /// Simulated: no objective fails, but some could not be decided at the most replications.
    Inconclusive { text: String },
    /// Every objective passed with the study's seeds, not again with fresh ones.
    Unconfirmed { text: String },
    /// The configuration is not a valid model (e.g. a pool smaller than its workers need).
    Invalid { text: String },
    /// Every objective passes, with the study's seeds and with fresh ones.
    Holds,
}

impl Outcome {
    /// The reason in one line.
    pub fn text(&self) -> String {
        match self {
            Outcome::Bound { text, .. }
            | Outcome::Fails { text, .. }
            | Outcome::Inconclusive { text }
            | Outcome::Unconfirmed { text }
            | Outcome::Invalid { text } => text.clone(),
            Outcome::Holds => "every objective passes, confirmed with fresh seeds".to_string(),
        }
    }

    /// The word a table shows.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Bound { .. } => "ruled out by a bound",
            Outcome::Fails { .. } => "fails",
            Outcome::Inconclusive { .. } => "inconclusive",
            Outcome::Unconfirmed { .. } => "not confirmed",
            Outcome::Invalid { .. } => "invalid",
            Outcome::Holds => "holds",
        }
    }

    pub fn simulated(&self) -> bool {
        matches!(
            self,
            Outcome::Fails { .. }
                | Outcome::Inconclusive { .. }
                | Outcome::Unconfirmed { .. }
                | Outcome::Holds
        )
    }
}

/// One candidate the walk looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its place in the cost order (0: the cheapest configuration).
    pub rank: usize,
    pub configuration: String,
    pub monthly_cost: f64,
    pub outcome: Outcome,
}

/// The listed configurations and the subjects built for them so far.
pub struct Candidates<'a> {
    pub model: &'a Model,
    pub space: &'a Space,
    /// Within the budget, cheapest first, with their monthly costs; then today's
    /// configuration when it is above the budget (the roadmap simulates it as the one in
    /// service, but no walk takes it).
    pub list: Vec<(Config, f64)>,
    /// How many of `list` are within the budget: the candidates a walk takes.
    pub within: usize,
    /// Configurations above the budget, left out of the candidates.
    pub over_budget: usize,
    pub today: Config,
    built: Vec<Option<Result<Subject, String>>>,
    watch: Option<Arc<dyn Watch>>,
}

/// The prefix of a configuration's subject name, keeping its cells apart from a variant's.
const SUBJECT_PREFIX: &str = "capacity: ";

impl<'a> Candidates<'a> {
    pub fn new(model: &'a Model, space: &'a Space, watch: Option<Arc<dyn Watch>>) -> Self {
        let (mut list, over_budget) = space.in_cost_order(model);
        let within = list.len();
        let today = space.today();
        if !list.iter().any(|(c, _)| *c == today) {
            let cost = space.cost(model, &today);
            list.push((today.clone(), cost));
        }
        let n = list.len();
        Candidates {
            model,
            space,
            list,
            within,
            over_budget,
            today,
            built: (0..n).map(|_| None).collect(),
            watch,
        }
    }

    pub fn index_of(&self, c: &Config) -> Option<usize> {
        self.list.iter().position(|(x, _)| x == c)
    }

    pub fn label(&self, k: usize) -> String {
        self.space.describe(self.model, &self.list[k].0)
    }

    /// The subject of candidate `k`, validated and compiled on first use; today's
    /// configuration is the study's baseline, so its cells are the projections' own.
    pub fn subject(&mut self, k: usize) -> Result<&Subject, &str> {
        if self.built[k].is_none() {
            let config = &self.list[k].0;
            let name = if *config == self.today {
                BASELINE.to_string()
            } else {
                format!(
                    "{SUBJECT_PREFIX}{}",
                    self.space.describe(self.model, config)
                )
            };
            let built = self
                .space
                .apply(self.model, config)
                .map_err(|e| e.to_string())
                .and_then(|m| crate::model::validate(m).map_err(|e| e.to_string()))
                .map(|checked: Checked| Subject::new(name, checked).watched(self.watch.clone()));
            self.built[k] = Some(built);
        }
        match self.built[k].as_ref().expect("just built") {
            Ok(s) => Ok(s),
            Err(e) => Err(e.as_str()),
        }
    }
}

/// Where one goal's walk stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Looking at candidate `pos` with the study's seeds.
    Searching,
    /// Candidate `pos` passed; running it with fresh seeds.
    Confirming,
    /// Finished: `pos` is the answer, or the end of the list.
    Done,
}

/// One goal's walk.
pub struct Walk {
    pub level: f64,
    /// Only configurations at least this one in every option (an event's walk: add to what
    /// is in service, never remove).
    floor: Option<Config>,
    pos: usize,
    state: State,
    pub record: Vec<Candidate>,
    /// The answer's index and its checks with fresh seeds.
    pub answer: Option<(usize, Vec<SloCheck>)>,
    /// Per candidate simulated: its index and its checks (for the best figures reached).
    pub simulated: Vec<(usize, Vec<SloCheck>)>,
}

impl Walk {
    pub fn new(level: f64) -> Walk {
        Walk {
            level,
            floor: None,
            pos: 0,
            state: State::Searching,
            record: Vec::new(),
            answer: None,
            simulated: Vec::new(),
        }
    }

    /// A walk over the configurations at least `floor` in every option only.
    pub fn above(level: f64, floor: Config) -> Walk {
        Walk {
            floor: Some(floor),
            ..Walk::new(level)
        }
    }

    fn rule_out(&mut self, cands: &Candidates, k: usize, outcome: Outcome) {
        self.record.push(Candidate {
            rank: k,
            configuration: cands.label(k),
            monthly_cost: cands.list[k].1,
            outcome,
        });
        self.pos = k + 1;
        self.state = State::Searching;
    }

    /// Advances as far as the cells already simulated allow; returns the cell it needs next
    /// (candidate, plan), if any.
    fn advance(
        &mut self,
        cands: &mut Candidates,
        cells: &mut Cells,
        plan: &CellPlan,
        fresh: &CellPlan,
    ) -> Result<Option<(usize, CellPlan)>, SimError> {
        loop {
            if self.state == State::Done {
                return Ok(None);
            }
            let k = self.pos;
            if k >= cands.within {
                self.state = State::Done;
                return Ok(None);
            }
            if let Some(f) = &self.floor
                && !cands.space.at_least(cands.model, &cands.list[k].0, f)
            {
                self.pos = k + 1;
                continue;
            }
            let subject = match cands.subject(k) {
                Ok(s) => s,
                Err(e) => {
                    let text = format!("not a valid model: {e}");
                    self.rule_out(cands, k, Outcome::Invalid { text });
                    continue;
                }
            };
            if self.state == State::Searching
                && let Some(b) = bound::breach(&subject.checked, self.level)
            {
                let outcome = Outcome::Bound {
                    resource: b.resource,
                    text: b.text,
                };
                self.rule_out(cands, k, outcome);
                continue;
            }
            let on = if self.state == State::Confirming {
                fresh
            } else {
                plan
            };
            if !cells.contains(subject, on, self.level) {
                return Ok(Some((k, *on)));
            }
            let (cell, holds) = cells.settled(subject, on, self.level)?;
            let checks = cell.checks(subject);
            match (self.state, holds) {
                (State::Searching, Holds::Yes) => {
                    self.simulated.push((k, checks));
                    self.state = State::Confirming;
                }
                (State::Searching, Holds::No) => {
                    let b = outlook::breach(subject, cell, &checks);
                    self.simulated.push((k, checks.clone()));
                    let (objective, text) = failing(&checks, b.map(|b| b.objective));
                    self.rule_out(cands, k, Outcome::Fails { objective, text });
                }
                (State::Searching, Holds::Undecided) => {
                    let text = undecided(&checks, cell.replications());
                    self.simulated.push((k, checks));
                    self.rule_out(cands, k, Outcome::Inconclusive { text });
                }
                (State::Confirming, Holds::Yes) => {
                    self.answer = Some((k, checks));
                    self.state = State::Done;
                }
                (State::Confirming, h) => {
                    let text = format!(
                        "every objective passed with the study's seeds; with fresh seeds {}",
                        if h == Holds::No {
                            failing(&checks, None).1
                        } else {
                            undecided(&checks, cell.replications())
                        }
                    );
                    self.rule_out(cands, k, Outcome::Unconfirmed { text });
                }
                (State::Done, _) => unreachable!("a finished walk needs no cell"),
            }
        }
    }
}

/// The failing objective that misses by the most, and the sentence of its figure.
fn failing(checks: &[SloCheck], worst: Option<String>) -> (String, String) {
    let fails: Vec<&SloCheck> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .collect();
    let pick = worst
        .as_ref()
        .and_then(|w| fails.iter().find(|c| c.objective() == *w))
        .or(fails.first())
        .copied();
    let Some(c) = pick else {
        return (String::new(), "an objective fails".to_string());
    };
    let others = fails.len() - 1;
    let more = if others > 0 {
        format!(" (and {others} more)")
    } else {
        String::new()
    };
    (c.objective(), format!("simulated: {}{more}", figure(c)))
}

/// An objective's figure against its target: `GET /x: p(95) < 200ms: 250ms ±10ms`.
pub fn figure(c: &SloCheck) -> String {
    let shown = crate::format::estimate(&c.value, c.unit);
    format!("{}: {shown}", c.objective())
}

fn undecided(checks: &[SloCheck], n: u32) -> String {
    let open: Vec<String> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Inconclusive)
        .map(figure)
        .collect();
    format!(
        "simulated: undecided after {n} replications: {}",
        open.join("; ")
    )
}

/// Runs every walk to its end, a round at a time: each round settles the cells that every
/// unfinished walk needs next, together.
///
/// # Errors
/// A replication that stalls.
pub fn walk_all(
    walks: &mut [Walk],
    cands: &mut Candidates,
    cells: &mut Cells,
    plan: &CellPlan,
) -> Result<(), SimError> {
    let fresh = CellPlan {
        seed: plan.seed ^ CONFIRM_SALT,
        ..*plan
    };
    loop {
        let mut wanted: Vec<(usize, CellPlan, f64)> = Vec::new();
        for w in walks.iter_mut() {
            if let Some((k, on)) = w.advance(cands, cells, plan, &fresh)? {
                wanted.push((k, on, w.level));
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        for on in [*plan, fresh] {
            let mine: Vec<(usize, f64)> = wanted
                .iter()
                .filter(|(_, p, _)| *p == on)
                .map(|&(k, _, l)| (k, l))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let subjects: Vec<(&Subject, f64)> = {
                for &(k, _) in &mine {
                    let _ = cands.subject(k);
                }
                mine.iter()
                    .map(|&(k, l)| (cands.subject_ref(k), l))
                    .collect()
            };
            cells.settle_all(&on, &subjects)?;
        }
    }
}

impl Candidates<'_> {
    /// The subject of candidate `k`, already built and valid.
    fn subject_ref(&self, k: usize) -> &Subject {
        match self.built[k].as_ref() {
            Some(Ok(s)) => s,
            _ => unreachable!("a walk only asks for the cells of valid, built candidates"),
        }
    }

    /// The built subject of candidate `k`, if it was built and is valid.
    pub fn built(&self, k: usize) -> Option<&Subject> {
        self.built.get(k)?.as_ref()?.as_ref().ok()
    }
}
