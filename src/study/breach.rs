//! When growth breaks a configuration: the first month of a growth hypothesis whose peak
//! fails an objective, for the baseline and for each what-if variant, so that a variant can
//! say whether it moves the breach and to which month.
//!
//! The baseline's months are searched in order from today, stopping at the first that fails
//! (the projections' cells: free when they ran), so its breach is the projections' one. A
//! variant may make things better or worse, so its search spans every month, never only those
//! from the baseline's breach on. When the hypothesis's load never decreases from one month to
//! the next, the variant's first failing month is found by bisection over the months: the
//! horizon first (a variant that holds there holds every month before), then halving the
//! months between the last that holds and the first that fails. This rests on the verdict
//! being monotone in the load (a heavier peak never holds where a lighter one fails, as the
//! projections' test checks), and the month reported is simulated on both sides: it fails,
//! the month before it does not. A curve whose load decreases somewhere is searched in order.
//! The study's one cache holds every subject's cells, so a level simulated before costs nothing; every cell
//! runs the study's one plan, paired with the baseline's by common random numbers.

use super::cell::{CellPlan, Holds, Subject};
use super::cells::Cells;
use super::outlook;
use super::whatif::{BreachShift, WhatIf};
use crate::engine::SimError;
use crate::model::Growth;
use serde::{Deserialize, Serialize};

/// The first month a subject breaks under one hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstBreach {
    /// The first month whose peak fails an objective; `None` when none fails within the
    /// horizon.
    pub month: Option<u32>,
    /// What fails first there (the objective that misses its target by the most).
    pub objective: Option<String>,
    /// Months before it where no objective failed but some could not be decided.
    pub undecided_months: Vec<u32>,
    /// The months the search looked at, in its order (a month the what-ifs had simulated at the
    /// same level, holding or undecided, was not simulated again).
    pub months_simulated: Vec<u32>,
}

/// The first month of `months` (indices into the hypothesis) that fails, searched in order.
/// `fails(month)` simulates it and says whether it fails, and the objective if so.
type Probe<'a> = dyn FnMut(u32) -> Result<(Holds, Option<String>), SimError> + 'a;

fn in_order(horizon: u32, probe: &mut Probe, out: &mut FirstBreach) -> Result<(), SimError> {
    for month in 0..=horizon {
        if visit(month, probe, out)? {
            return Ok(());
        }
    }
    Ok(())
}

/// Simulates `month`; records it; true when it fails.
fn visit(month: u32, probe: &mut Probe, out: &mut FirstBreach) -> Result<bool, SimError> {
    let (holds, objective) = probe(month)?;
    out.months_simulated.push(month);
    match holds {
        Holds::No => {
            out.month = Some(month);
            out.objective = objective;
            Ok(true)
        }
        Holds::Undecided => {
            out.undecided_months.push(month);
            Ok(false)
        }
        Holds::Yes => Ok(false),
    }
}

/// The first failing month by bisection, for a load that never decreases by month.
fn bisection(horizon: u32, probe: &mut Probe, out: &mut FirstBreach) -> Result<(), SimError> {
    if !visit(horizon, probe, out)? {
        return Ok(());
    }
    let (mut holds, mut fails) = (None::<u32>, horizon);
    let mut failed = (out.month, out.objective.take());
    loop {
        let lo = holds.map_or(0, |h| h + 1);
        if lo >= fails {
            break;
        }
        let mid = lo + (fails - lo) / 2;
        out.month = None;
        if visit(mid, probe, out)? {
            fails = mid;
            failed = (out.month, out.objective.take());
        } else {
            holds = Some(mid);
        }
    }
    (out.month, out.objective) = failed;
    out.undecided_months.retain(|m| *m < fails);
    out.undecided_months.sort_unstable();
    Ok(())
}

/// The most months a variant's search of `g` simulates: the horizon and one month per halving
/// by bisection (see [`Search::Bisection`]), every month in order.
pub fn most_months(g: &Growth) -> u64 {
    let n = g.months.len() as u64;
    if rising(g) {
        (2 + u64::from(n.next_power_of_two().trailing_zeros())).min(n)
    } else {
        n
    }
}

/// True when the load never decreases from one month to the next.
fn rising(g: &Growth) -> bool {
    g.months.windows(2).all(|w| w[1].load() >= w[0].load())
}

/// How the months of a hypothesis are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Every month from today until one fails.
    InOrder,
    /// By bisection when the load never decreases by month, in order otherwise.
    Bisection,
}

/// The first month of `g` whose peak (today's `peak` times the month's multiplier) fails an
/// objective, searched as `search` says. `known` lists verdicts of `subject` already
/// simulated elsewhere (the what-ifs' cells: level, verdict): a month at the same level (the
/// same number of users for a closed workload) that held or was undecided there is not
/// simulated again.
///
/// # Errors
/// A replication that stalls.
pub fn first_breach(
    subject: &Subject,
    plan: &CellPlan,
    peak: f64,
    g: &Growth,
    cells: &mut Cells,
    search: Search,
    known: &[(f64, Holds)],
) -> Result<FirstBreach, SimError> {
    let mut out = FirstBreach {
        month: None,
        objective: None,
        undecided_months: Vec::new(),
        months_simulated: Vec::new(),
    };
    let closed = subject.checked.workload.is_closed();
    // A closed workload runs floor(level) users; the cache rounds its levels first.
    let same = |k: f64, level: f64| {
        if closed {
            k.floor() == level.round().max(1.0)
        } else {
            k == level
        }
    };
    let mut probe = |month: u32| {
        let level = peak * g.load(month).unwrap_or(1.0);
        let seen = known
            .iter()
            .find(|(k, h)| *h != Holds::No && same(*k, level));
        if let Some((_, h)) = seen {
            return Ok((*h, None));
        }
        let (cell, holds) = cells.settled(subject, plan, level)?;
        let objective = (holds == Holds::No)
            .then(|| outlook::breach(subject, cell, &cell.checks(subject)).map(|b| b.objective))
            .flatten();
        Ok((holds, objective))
    };
    let horizon = g.months.len().saturating_sub(1) as u32;
    if search == Search::Bisection && rising(g) {
        bisection(horizon, &mut probe, &mut out)?;
    } else {
        in_order(horizon, &mut probe, &mut out)?;
    }
    Ok(out)
}

/// Fills in every what-if's breach months under every hypothesis: the baseline's from
/// `base_cells` (the projections' cells, so free when they ran), each variant's from a cache
/// of its own and from the verdicts of its what-if cells (its +12-month cells are the
/// horizon's, where the bisection starts). The study's cache holds every subject's cells, so
/// a level any part simulated costs nothing.
///
/// # Errors
/// A replication that stalls.
pub fn shifts(
    base: &Subject,
    cells: &mut Cells,
    variants: &[&Subject],
    plan: &CellPlan,
    peak: f64,
    whatifs: &mut [WhatIf],
) -> Result<(), SimError> {
    let growth = &base.checked.model.growth;
    let mut before = Vec::new();
    for g in growth {
        before.push(first_breach(
            base,
            plan,
            peak,
            g,
            cells,
            Search::InOrder,
            &[],
        )?);
    }
    for v in variants {
        let mut shifts = Vec::new();
        let known: Vec<(f64, Holds)> = whatifs
            .iter()
            .find(|w| w.variant == v.name)
            .map(|w| w.at.iter().map(|a| (a.level, a.holds_after)).collect())
            .unwrap_or_default();
        for (g, b) in growth.iter().zip(&before) {
            let a = first_breach(v, plan, peak, g, cells, Search::Bisection, &known)?;
            shifts.push(BreachShift {
                hypothesis: g.name.clone(),
                horizon_months: g.horizon_months,
                before: b.month,
                after: a.month,
                before_objective: b.objective.clone(),
                after_objective: a.objective,
                before_undecided: b.undecided_months.clone(),
                after_undecided: a.undecided_months,
                after_months_simulated: a.months_simulated,
            });
        }
        if let Some(w) = whatifs.iter_mut().find(|w| w.variant == v.name) {
            w.breach_months = shifts;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> FirstBreach {
        FirstBreach {
            month: None,
            objective: None,
            undecided_months: Vec::new(),
            months_simulated: Vec::new(),
        }
    }

    /// A monotone verdict: holds before `first_fail`, undecided in `undecided`, fails from
    /// `first_fail` on.
    fn verdicts(
        first_fail: Option<u32>,
        undecided: &[u32],
    ) -> impl FnMut(u32) -> (Holds, Option<String>) {
        let undecided = undecided.to_vec();
        move |m| match first_fail {
            Some(f) if m >= f => (Holds::No, Some(format!("fails from {f}"))),
            _ if undecided.contains(&m) => (Holds::Undecided, None),
            _ => (Holds::Yes, None),
        }
    }

    #[test]
    fn bisection_finds_the_first_failing_month_the_in_order_search_finds() {
        for horizon in [1u32, 6, 12, 24] {
            for first in (0..=horizon).map(Some).chain([None]) {
                let undecided: Vec<u32> =
                    first.map_or(vec![], |f| f.checked_sub(1).into_iter().collect());
                let mut v = verdicts(first, &undecided);
                let mut probe = |m: u32| Ok(v(m));
                let (mut a, mut b) = (empty(), empty());
                in_order(horizon, &mut probe, &mut a).unwrap();
                bisection(horizon, &mut probe, &mut b).unwrap();
                assert_eq!(a.month, first, "in order, horizon {horizon}");
                assert_eq!(b.month, first, "bisection, horizon {horizon}");
                assert_eq!(a.objective, b.objective);
                assert_eq!(b.undecided_months, a.undecided_months, "{first:?}");
                // At most the horizon plus one halving per power of two.
                let most = 2 + (f64::from(horizon + 1)).log2().ceil() as usize;
                assert!(b.months_simulated.len() <= most, "{b:?}");
                // The month before the breach was simulated and did not fail.
                if let Some(f) = first.filter(|f| *f > 0) {
                    assert!(b.months_simulated.contains(&(f - 1)), "{b:?}");
                }
            }
        }
    }
}
