//! The cells a study has simulated, shared by all its parts, so that a cell is simulated once
//! however many parts read it.
//!
//! With common random numbers a cell is a pure function of (subject, plan, level): replication
//! `i` of a cell draws from (seed, `i`, stream) whichever part asks for it, so a cell read again
//! is the cell that would have been simulated again, bit for bit. The breaking-point search,
//! the projections (month 0 of every hypothesis is today's peak), the events and the what-ifs
//! (their baseline cells at today's peak and at the +12-month peaks are projection months)
//! all read and insert here.
//!
//! A cell keyed here only ever grows by replications (a what-if extends both cells of a pair to
//! the same count): its verdict is then taken again on all its replications, so that a part
//! reading it later sees one cell whose verdict and figures agree.

use super::cell::{Cell, CellPlan, Holds, Subject};
use crate::engine::SimError;
use crate::montecarlo::{Batch, batch_many};

/// One simulated cell and the key it was simulated under.
struct Entry {
    subject: String,
    plan: CellPlan,
    cell: Cell,
    holds: Holds,
}

/// The cells a study has simulated, by (subject name, plan, level).
#[derive(Default)]
pub struct Cells {
    entries: Vec<Entry>,
    /// Events simulated in these cells so far, extensions included.
    pub events: u64,
}

/// The level a cell of `subject` runs at: whole users for a closed workload (the engine runs
/// the floor of a level; the cache rounds, so that 160.7 users are 161, not 160), the level
/// itself for an open one.
pub fn cell_level(subject: &Subject, level: f64) -> f64 {
    if subject.checked.workload.is_closed() {
        level.round().max(1.0)
    } else {
        level
    }
}

impl Cells {
    /// The settled cell of `subject` at `level` (simulated when new).
    ///
    /// # Errors
    /// A replication that stalls.
    pub fn settled(
        &mut self,
        subject: &Subject,
        plan: &CellPlan,
        level: f64,
    ) -> Result<(&Cell, Holds), SimError> {
        let k = self.settle(subject, plan, level)?;
        let e = &self.entries[k];
        Ok((&e.cell, e.holds))
    }

    /// The settled cells of `before` and `after` at `level`, both extended to the larger of
    /// their replication counts, so that their replications pair one to one.
    ///
    /// # Errors
    /// A replication that stalls.
    pub fn paired(
        &mut self,
        before: &Subject,
        after: &Subject,
        plan: &CellPlan,
        level: f64,
    ) -> Result<[(&Cell, Holds); 2], SimError> {
        let b = self.settle(before, plan, level)?;
        let a = self.settle(after, plan, level)?;
        let n = self.entries[a]
            .cell
            .replications()
            .max(self.entries[b].cell.replications());
        self.extend(b, before, n)?;
        self.extend(a, after, n)?;
        let (eb, ea) = (&self.entries[b], &self.entries[a]);
        Ok([(&eb.cell, eb.holds), (&ea.cell, ea.holds)])
    }

    /// Whether the cell of `subject` at `level` is already simulated under `plan`.
    pub fn contains(&self, subject: &Subject, plan: &CellPlan, level: f64) -> bool {
        self.find(subject, plan, cell_level(subject, level))
            .is_some()
    }

    /// The number of cells simulated.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, subject: &Subject, plan: &CellPlan, level: f64) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.cell.level == level && e.subject == subject.name && e.plan == *plan)
    }

    /// Settles every cell of `wanted` (subject, level) not simulated yet, all at once: each
    /// look runs the replications of every cell still undecided as one stream of work, so
    /// that both cores stay busy from one cell to the next. Each cell settles as it would
    /// alone ([`Cell::settle`]: the looks of `plan` until its verdict is decided or the cap).
    ///
    /// # Errors
    /// A replication that stalls.
    pub fn settle_all(
        &mut self,
        plan: &CellPlan,
        wanted: &[(&Subject, f64)],
    ) -> Result<(), SimError> {
        let mut fresh: Vec<(&Subject, Cell, Holds)> = Vec::new();
        for &(subject, level) in wanted {
            let level = cell_level(subject, level);
            let known = self.find(subject, plan, level).is_some()
                || fresh
                    .iter()
                    .any(|(s, c, _)| s.name == subject.name && c.level == level);
            if !known {
                fresh.push((subject, Cell::new(subject, plan, level), Holds::Undecided));
            }
        }
        let mut open: Vec<bool> = vec![true; fresh.len()];
        for n in plan.looks() {
            let batches = fresh
                .iter_mut()
                .zip(&open)
                .filter(|(_, open)| **open)
                .map(|((subject, cell, _), _)| Batch {
                    prog: &subject.prog,
                    plan: &cell.plan,
                    seed: plan.seed,
                    range: u64::from(cell.replications())..u64::from(n),
                    agg: &mut cell.aggregate,
                })
                .collect();
            batch_many(batches)?;
            for ((subject, cell, holds), open) in fresh.iter_mut().zip(open.iter_mut()) {
                if *open {
                    *holds = Holds::of(&cell.checks(subject));
                    *open = *holds == Holds::Undecided;
                    if !*open {
                        tell_settled(subject);
                    }
                }
            }
        }
        for ((subject, cell, holds), still_open) in fresh.into_iter().zip(open) {
            if still_open {
                tell_settled(subject); // undecided at the cap: settled all the same
            }
            self.events += cell.aggregate.events;
            self.entries.push(Entry {
                subject: subject.name.clone(),
                plan: *plan,
                cell,
                holds,
            });
        }
        Ok(())
    }

    /// The index of the settled cell of `subject` at `level`, simulated when new.
    fn settle(
        &mut self,
        subject: &Subject,
        plan: &CellPlan,
        level: f64,
    ) -> Result<usize, SimError> {
        let level = cell_level(subject, level);
        if self.find(subject, plan, level).is_none() {
            self.settle_all(plan, &[(subject, level)])?;
        }
        Ok(self
            .find(subject, plan, level)
            .expect("a cell just settled is in the cache"))
    }

    /// Extends cell `k` (a cell of `subject`) to `n` replications and takes its verdict again
    /// on all of them.
    fn extend(&mut self, k: usize, subject: &Subject, n: u32) -> Result<(), SimError> {
        let e = &mut self.entries[k];
        if e.cell.replications() >= n {
            return Ok(());
        }
        let had = e.cell.aggregate.events;
        e.cell.extend_to(subject, e.plan.seed, n)?;
        self.events += e.cell.aggregate.events - had;
        e.holds = Holds::of(&e.cell.checks(subject));
        Ok(())
    }
}

/// Tells `subject`'s watcher, if any, that one of its cells settled.
fn tell_settled(subject: &Subject) {
    if let Some(w) = &subject.watch {
        w.settled();
    }
}
