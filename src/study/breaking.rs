//! The breaking point: the largest load at which every objective still holds.
//!
//! A search over the load level (users, or arrivals per second), each step a simulated cell.
//! The analytic saturation level of `capsim check` (utilization law for an open workload, the
//! asymptotic knee N* for a closed one) only places the first probe above today's load; the
//! answer comes from simulation. Verdicts are three-way, so the answer is an interval: the
//! largest level that surely holds and the smallest that surely fails, with the inconclusive
//! levels (where the intervals straddle a target) between them. The two decisive cells are
//! run again with fresh seeds: a study decides many verdicts, and the answer must not rest on
//! one lucky draw.

use super::cell::{CellPlan, Holds, Subject};
use super::cells::Cells;
use super::points::LoadPoint;
use crate::analysis::breaks::{self, Bottleneck};
use crate::analysis::slo::Verdict;
use crate::engine::SimError;
use serde::{Deserialize, Serialize};

/// Mixed into the seed of the confirmation runs, so they are independent of the search's.
pub(crate) const CONFIRM_SALT: u64 = 0x434F_4E46_4952_4D21;
/// The search stops when the bracket is this narrow, relative to its lower end.
pub const RELATIVE_TOLERANCE: f64 = 0.025;
/// Most cells the search simulates (a bracket still wider than the tolerance then says so).
pub const MAX_CELLS: usize = 14;
/// Levels tried, outwards from the bracket, to confirm each of its ends with fresh seeds.
const CONFIRM_TRIES: usize = 3;
/// The search looks up to this multiple of today's level, and down to its inverse.
const FARTHEST: f64 = 64.0;

/// The search's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakingPoint {
    /// Today's level the multipliers are relative to.
    pub base_level: f64,
    /// The level where the analytic bound says the bottleneck saturates (the first probe
    /// above today), if one applies.
    pub analytic_saturation: Option<f64>,
    /// The largest level simulated where every objective passes, and passes again with fresh
    /// seeds (`None`: even the lowest level probed fails or is undecided).
    pub holds_up_to: Option<f64>,
    /// The smallest level simulated where an objective fails, and fails again with fresh seeds
    /// (`None`: none failed up to the farthest level probed).
    pub fails_from: Option<f64>,
    /// Whether both ends were confirmed (within [`CONFIRM_TRIES`] levels of the search's).
    pub confirmed: bool,
    /// The objective that fails at the lowest level (with its endpoint), and that level.
    pub first_to_break: Option<(String, f64)>,
    /// The busiest resource where it fails.
    pub bottleneck: Option<Bottleneck>,
    /// Every level simulated, in increasing order: the latency-vs-load curve.
    pub points: Vec<LoadPoint>,
    /// Simulation work, for the speed report: the cells the search simulated and their events
    /// (a level another part had simulated already is not counted again).
    pub cells: usize,
    pub events: u64,
}

/// Whether a level is a whole number of users (closed workloads).
fn step(level: f64, closed: bool) -> f64 {
    if closed {
        level.round().max(1.0)
    } else {
        level
    }
}

/// Searches the breaking point of `subject` from its level `base`, on cells of its own.
///
/// # Errors
/// A replication that stalls.
pub fn search(
    subject: &Subject,
    plan: &CellPlan,
    base: f64,
    analytic_saturation: Option<f64>,
) -> Result<BreakingPoint, SimError> {
    search_in(
        &mut Cells::default(),
        subject,
        plan,
        base,
        analytic_saturation,
        &[],
    )
}

/// Searches the breaking point of `subject` from its level `base`, reading and inserting its
/// cells in the study's `cells`. A bisection step whose gap holds one of the levels `wanted`
/// (those the study's other parts will simulate) in its middle half probes that level
/// instead of the midpoint: the gap still shrinks by a quarter at least, and the cell then
/// serves both parts.
///
/// # Errors
/// A replication that stalls.
pub fn search_in(
    cells: &mut Cells,
    subject: &Subject,
    plan: &CellPlan,
    base: f64,
    analytic_saturation: Option<f64>,
    wanted: &[f64],
) -> Result<BreakingPoint, SimError> {
    let closed = subject.checked.workload.is_closed();
    let (cells_before, events_before) = (cells.len(), cells.events);
    // What the search keeps of each level it probed.
    let mut probed: Vec<Probed> = Vec::new();
    let mut probe = |level: f64, probed: &mut Vec<Probed>| -> Result<Holds, SimError> {
        let level = step(level, closed);
        if let Some(p) = probed.iter().find(|p| p.point.level == level) {
            return Ok(p.point.holds);
        }
        let (cell, holds) = cells.settled(subject, plan, level)?;
        probed.push(Probed {
            point: LoadPoint::of(subject, cell, holds, base),
            bottleneck: breaks::bottleneck(&subject.prog, &cell.aggregate),
        });
        Ok(holds)
    };
    // Bracket: from today upwards (first to the analytic saturation), or downwards.
    let mut lo: Option<f64> = None; // surely holds
    let mut hi: Option<f64> = None; // surely fails
    let base = step(base, closed);
    match probe(base, &mut probed)? {
        Holds::Yes => {
            lo = Some(base);
            let mut next = analytic_saturation
                .filter(|s| *s > base * 1.1)
                .unwrap_or(2.0 * base);
            while next <= base * FARTHEST && probed.len() < MAX_CELLS {
                match probe(next, &mut probed)? {
                    Holds::Yes => lo = Some(step(next, closed)),
                    Holds::No => {
                        hi = Some(step(next, closed));
                        break;
                    }
                    Holds::Undecided => {}
                }
                next *= 2.0;
            }
        }
        h => {
            if h == Holds::No {
                hi = Some(base);
            }
            let mut next = base / 2.0;
            while next >= base / FARTHEST && probed.len() < MAX_CELLS {
                let level = step(next, closed);
                match probe(level, &mut probed)? {
                    Holds::Yes => {
                        lo = Some(level);
                        break;
                    }
                    Holds::No => hi = Some(level),
                    Holds::Undecided => {}
                }
                if closed && level <= 1.0 {
                    break;
                }
                next /= 2.0;
            }
        }
    }
    // Narrow: bisect the widest gap between the sure levels and the undecided ones.
    while let (Some(l), Some(h)) = (lo, hi) {
        if probed.len() >= MAX_CELLS {
            break;
        }
        let undecided: Vec<f64> = probed
            .iter()
            .map(|p| (p.point.level, p.point.holds))
            .filter(|&(x, s)| s == Holds::Undecided && x > l && x < h)
            .map(|(x, _)| x)
            .collect();
        let u_lo = undecided.iter().copied().fold(h, f64::min);
        let u_hi = undecided.iter().copied().fold(l, f64::max);
        let gaps = [(l, u_lo), (u_hi, h)];
        let Some(&(a, b)) = gaps
            .iter()
            .filter(|(a, b)| !narrow_enough(*a, *b, closed))
            .max_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)))
        else {
            break;
        };
        let mid = step(toward_wanted(a, b, wanted), closed);
        if mid <= a || mid >= b {
            break;
        }
        match probe(mid, &mut probed)? {
            Holds::Yes => lo = Some(mid),
            Holds::No => hi = Some(mid),
            Holds::Undecided => {}
        }
    }
    // Confirm with fresh seeds: the largest passing level that passes again, the smallest
    // failing level that fails again (a level at the edge of the bracket may not: the next
    // one out is then tried).
    let fresh = CellPlan {
        seed: plan.seed ^ CONFIRM_SALT,
        ..*plan
    };
    let mut confirm = |want: Holds, levels: Vec<f64>| -> Result<Option<f64>, SimError> {
        for level in levels.into_iter().take(CONFIRM_TRIES) {
            let (_, got) = cells.settled(subject, &fresh, level)?;
            if got == want {
                return Ok(Some(level));
            }
        }
        Ok(None)
    };
    let levels = |want: Holds| {
        let mut v: Vec<f64> = probed
            .iter()
            .filter(|p| p.point.holds == want)
            .map(|p| p.point.level)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let mut passing = levels(Holds::Yes);
    passing.reverse();
    let lo_confirmed = confirm(Holds::Yes, passing)?;
    let hi_confirmed = confirm(Holds::No, levels(Holds::No))?;
    let confirmed =
        lo_confirmed.is_some() == lo.is_some() && hi_confirmed.is_some() == hi.is_some();
    let (lo, hi) = (lo_confirmed.or(lo), hi_confirmed.or(hi));
    probed.sort_by(|a, b| a.point.level.total_cmp(&b.point.level));
    let first_to_break = first_to_break(&probed);
    let bottleneck = hi
        .and_then(|h| probed.iter().find(|p| p.point.level == h))
        .and_then(|p| p.bottleneck.clone());
    let points = probed.into_iter().map(|p| p.point).collect();
    Ok(BreakingPoint {
        base_level: base,
        analytic_saturation,
        holds_up_to: lo,
        fails_from: hi,
        confirmed,
        first_to_break,
        bottleneck,
        points,
        cells: cells.len() - cells_before,
        events: cells.events - events_before,
    })
}

/// The level to probe in the gap `(a, b)`: the level of `wanted` nearest its midpoint if one
/// lies in its middle half, the midpoint otherwise.
fn toward_wanted(a: f64, b: f64, wanted: &[f64]) -> f64 {
    let mid = (a + b) / 2.0;
    let quarter = (b - a) / 4.0;
    wanted
        .iter()
        .copied()
        .filter(|w| (w - mid).abs() <= quarter)
        .min_by(|x, y| (x - mid).abs().total_cmp(&(y - mid).abs()))
        .unwrap_or(mid)
}

/// True when the bracket `[a, b]` is as narrow as the search needs: within
/// [`RELATIVE_TOLERANCE`] of `a`, or adjacent whole users.
fn narrow_enough(a: f64, b: f64, closed: bool) -> bool {
    b - a <= RELATIVE_TOLERANCE * a || (closed && b - a <= 1.0)
}

/// A simulated level as the search keeps it.
struct Probed {
    point: LoadPoint,
    bottleneck: Option<Bottleneck>,
}

/// The objective that fails at the lowest level simulated, and that level.
fn first_to_break(cells: &[Probed]) -> Option<(String, f64)> {
    cells.iter().find_map(|p| {
        if p.point.holds != Holds::No {
            return None;
        }
        let worst = p
            .point
            .slos
            .iter()
            .filter(|k| k.verdict == Verdict::Fail)
            .max_by(|a, b| excess(a).total_cmp(&excess(b)))?;
        let name = worst.objective();
        Some((name, p.point.level))
    })
}

/// How far a failing objective is beyond its target (a ratio above 1).
fn excess(c: &crate::analysis::slo::SloCheck) -> f64 {
    if c.below {
        c.value.mean / c.threshold
    } else {
        c.threshold / c.value.mean
    }
}
