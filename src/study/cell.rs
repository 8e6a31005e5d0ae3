//! A cell: one subject (the model or a variant of it) at one load level, simulated in steady
//! state under the study's one plan, with common random numbers.
//!
//! Every cell of a study runs the same plan (run length, warm-up, window) and replication `i`
//! of every cell draws from (seed, `i`, stream): two cells compared with each other are paired
//! replication by replication. A cell grows by replications only ([`Cell::extend_to`]), never
//! by a plan of its own, so a comparison that needs more replications extends both sides.

use crate::analysis::slo::{self, SloCheck, Verdict};
use crate::engine::{Program, ScenarioPlan, SimError};
use crate::model::{Checked, Scenario, Warmup};
use crate::montecarlo::{Progress, Replicator};
use crate::stats::{Aggregate, Estimate, Metric, Schema, Scope};
use std::sync::Arc;

use super::progress::Watch;

/// A model the study simulates: the base model or one of its variants, validated and compiled
/// once.
pub struct Subject {
    /// `baseline`, or the variant's name.
    pub name: String,
    pub checked: Checked,
    pub prog: Program,
    /// Told of every cell of this subject that settles (see [`Cell::settle`]).
    pub watch: Option<Arc<dyn Watch>>,
}

impl Subject {
    pub fn new(name: impl Into<String>, checked: Checked) -> Subject {
        let prog = Program::compile(&checked);
        Subject {
            name: name.into(),
            checked,
            prog,
            watch: None,
        }
    }

    /// The same subject, its settled cells told to `watch`.
    pub fn watched(mut self, watch: Option<Arc<dyn Watch>>) -> Subject {
        self.watch = watch;
        self
    }

    /// The level (users or arrivals/s) the model declares as today's.
    pub fn base_level(&self) -> f64 {
        self.prog.base_level
    }
}

/// The one plan every cell of a study runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellPlan {
    pub seed: u64,
    /// Length of each replication, seconds, warm-up included.
    pub horizon_s: f64,
    /// The initial part left out of every replication, seconds.
    pub warmup_s: f64,
    /// Replications at the first look; each later look doubles them.
    pub first_look: u32,
    /// Most replications a cell runs before its verdict is called inconclusive.
    pub max_replications: u32,
}

impl CellPlan {
    /// The looks a cell's verdict is taken at: `first_look`, then doubling up to the cap. Few
    /// looks keep the chance of a wrong verdict near the 5 % of one look (each look is another
    /// chance to stop on a fluke); the study confirms its decisive cells with fresh seeds.
    pub fn looks(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut n = self.first_look.max(2);
        while n < self.max_replications {
            out.push(n);
            n *= 2;
        }
        out.push(self.max_replications.max(2));
        out
    }
}

/// Whether the model's objectives hold in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holds {
    /// Every objective passes.
    Yes,
    /// At least one objective fails.
    No,
    /// No objective fails, but at least one is inconclusive.
    Undecided,
}

impl Holds {
    /// The verdict of a cell whose objectives checked as `checks`.
    pub fn of(checks: &[SloCheck]) -> Holds {
        if checks.iter().any(|c| c.verdict == Verdict::Fail) {
            Holds::No
        } else if checks.iter().all(|c| c.verdict == Verdict::Pass) {
            Holds::Yes
        } else {
            Holds::Undecided
        }
    }
}

/// One subject at one level, with the replications run so far.
pub struct Cell {
    pub level: f64,
    pub plan: ScenarioPlan,
    pub aggregate: Aggregate,
}

impl Cell {
    /// An empty cell of `subject` at `level`.
    pub fn new(subject: &Subject, plan: &CellPlan, level: f64) -> Cell {
        let scenario = Scenario {
            name: format!("{} at {level}", subject.name),
            description: None,
            start_level: Some(level),
            stages: Vec::new(),
            duration_s: Some(plan.horizon_s),
            warmup: Warmup::Fixed {
                seconds: plan.warmup_s,
            },
            origin: None,
        };
        let settings = &subject.checked.model.settings;
        let sp = ScenarioPlan::new(
            &scenario,
            subject.prog.base_level,
            settings.default_duration_s,
            settings.window_s,
        );
        let schema = Schema::new(&subject.prog, subject.checked.workload.is_closed());
        Cell {
            level,
            plan: sp,
            aggregate: Aggregate::new(schema, &subject.prog),
        }
    }

    pub fn replications(&self) -> u32 {
        self.aggregate.replications() as u32
    }

    /// Runs replications up to `n` in all (none when it has them already).
    ///
    /// # Errors
    /// A replication that stalls.
    pub fn extend_to(&mut self, subject: &Subject, seed: u64, n: u32) -> Result<(), SimError> {
        let have = self.replications();
        if have >= n {
            return Ok(());
        }
        let progress = Progress::disabled();
        let rep = Replicator {
            prog: &subject.prog,
            seed,
            progress: &progress,
        };
        rep.batch(
            &self.plan,
            u64::from(have)..u64::from(n),
            &mut self.aggregate,
        )
    }

    /// The verdict of every objective of `subject`'s model in this cell.
    pub fn checks(&self, subject: &Subject) -> Vec<SloCheck> {
        slo::evaluate(&subject.checked.model, &self.aggregate)
    }

    /// Runs the looks of `plan` until the objectives' verdicts settle (all pass, or one fails)
    /// or the cap is reached; returns whether the objectives hold.
    ///
    /// # Errors
    /// A replication that stalls.
    pub fn settle(
        &mut self,
        subject: &Subject,
        plan: &CellPlan,
    ) -> Result<(Holds, Vec<SloCheck>), SimError> {
        let mut result = (Holds::Undecided, Vec::new());
        for n in plan.looks() {
            if n < self.replications() {
                continue;
            }
            self.extend_to(subject, plan.seed, n)?;
            let checks = self.checks(subject);
            let holds = Holds::of(&checks);
            result = (holds, checks);
            if holds != Holds::Undecided {
                break;
            }
        }
        if result.1.is_empty() && self.replications() > 0 {
            let checks = self.checks(subject);
            result = (Holds::of(&checks), checks);
        }
        if let Some(w) = &subject.watch {
            w.settled();
        }
        Ok(result)
    }

    /// The estimate of figure `metric` of `scope`, if the model has it.
    pub fn estimate(&self, scope: &Scope, metric: Metric) -> Option<Estimate> {
        let i = self.aggregate.schema.find(scope, metric)?;
        Some(self.aggregate.estimate(i))
    }

    /// The per-replication values of figure `metric` of `scope` (for paired differences).
    pub fn column(&self, scope: &Scope, metric: Metric) -> Option<Vec<f64>> {
        let i = self.aggregate.schema.find(scope, metric)?;
        Some(self.aggregate.column(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_double_up_to_the_cap() {
        let plan = CellPlan {
            seed: 1,
            horizon_s: 100.0,
            warmup_s: 10.0,
            first_look: 4,
            max_replications: 20,
        };
        assert_eq!(plan.looks(), vec![4, 8, 16, 20]);
        let one = CellPlan {
            max_replications: 4,
            ..plan
        };
        assert_eq!(one.looks(), vec![4]);
    }
}
