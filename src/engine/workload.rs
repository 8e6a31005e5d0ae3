//! A scenario's load over time: the piecewise-linear level of k6 stages, and when a closed
//! workload starts and stops virtual users to follow it.

use crate::model::{Scenario, Stage, Warmup};

/// The load level (users, or arrivals per second) as a piecewise-linear function of time.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelFn {
    /// `(time_s, level)` breakpoints, times non-decreasing, starting at 0.
    points: Vec<(f64, f64)>,
    /// `1 / level` when the level is constant and positive: arrivals then cost a multiply.
    constant_inverse: Option<f64>,
}

impl LevelFn {
    /// A constant level.
    pub fn constant(level: f64) -> LevelFn {
        LevelFn::new(vec![(0.0, level)])
    }

    fn new(points: Vec<(f64, f64)>) -> LevelFn {
        let constant = points.len() == 1 && points[0].1 > 0.0;
        LevelFn {
            constant_inverse: constant.then(|| 1.0 / points[0].1),
            points,
        }
    }

    /// k6 stages starting from `start`: each moves linearly to its target over its duration.
    pub fn stages(start: f64, stages: &[Stage]) -> LevelFn {
        let mut points = vec![(0.0, start)];
        let mut t = 0.0;
        for s in stages {
            t += s.duration_s;
            points.push((t, s.target));
        }
        LevelFn::new(points)
    }

    /// The level at time `t` (the last breakpoint's level after it; the latest of equal times).
    pub fn at(&self, t: f64) -> f64 {
        let i = self.points.partition_point(|p| p.0 <= t);
        if i == 0 {
            return self.points[0].1;
        }
        let (t0, l0) = self.points[i - 1];
        match self.points.get(i) {
            Some(&(t1, l1)) if t1 > t0 => l0 + (l1 - l0) * (t - t0) / (t1 - t0),
            _ => l0,
        }
    }

    pub fn max(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }

    pub fn is_constant(&self) -> bool {
        self.points.iter().all(|p| p.1 == self.points[0].1)
    }

    /// The time `x >= t` at which the integral of the level from `t` reaches `work`, or `None`
    /// if it never does (the level stays at zero).
    ///
    /// Arrivals of an open workload are generated in operational time: a Poisson process of
    /// intensity `level(t)` has unit-exponential increments of this integral, and a renewal
    /// process is time-changed the same way. This is exact for piecewise-linear levels, handles
    /// stretches of zero load, and costs one division when the level is constant.
    #[inline]
    pub fn advance(&self, t: f64, work: f64) -> Option<f64> {
        if let Some(inverse) = self.constant_inverse {
            return Some(t + work * inverse);
        }
        if self.points.len() == 1 {
            let l = self.points[0].1;
            return (l > 0.0).then(|| t + work / l);
        }
        let mut t = t;
        let mut work = work;
        let mut i = self.points.partition_point(|p| p.0 <= t);
        while i < self.points.len() {
            let (t1, l1) = self.points[i];
            let l0 = self.at(t);
            let area = (l0 + l1) / 2.0 * (t1 - t);
            if area >= work && t1 > t {
                return Some(t + solve_segment(l0, (l1 - l0) / (t1 - t), work));
            }
            work -= area;
            t = t1;
            i += 1;
        }
        let last = self.points[self.points.len() - 1].1;
        (last > 0.0).then(|| t + work / last)
    }

    /// Times at which a closed workload starts (+1) or stops (-1) one user so that the number
    /// of users follows `floor(level(t))`, in time order.
    pub fn user_changes(&self) -> Vec<(f64, i32)> {
        let mut out = Vec::new();
        let start = self.points[0].1.floor() as i64;
        for _ in 0..start {
            out.push((0.0, 1));
        }
        for w in self.points.windows(2) {
            let ((t0, l0), (t1, l1)) = (w[0], w[1]);
            let (k0, k1) = (l0.floor() as i64, l1.floor() as i64);
            let at = |k: f64| {
                if t1 > t0 && l1 != l0 {
                    t0 + (k - l0) / (l1 - l0) * (t1 - t0)
                } else {
                    t0
                }
            };
            if k1 > k0 {
                for k in (k0 + 1)..=k1 {
                    out.push((at(k as f64), 1));
                }
            } else {
                for k in (k1..k0).rev() {
                    // Dropping below k + 1 users happens when the level crosses k + 1 downwards.
                    out.push((at((k + 1) as f64).min(t1), -1));
                }
            }
        }
        out
    }
}

/// The `d >= 0` with `l0 * d + slope * d^2 / 2 = work`, in a form that does not cancel.
fn solve_segment(l0: f64, slope: f64, work: f64) -> f64 {
    if slope.abs() < 1e-300 {
        return work / l0;
    }
    let disc = (l0 * l0 + 2.0 * slope * work).max(0.0);
    // Equivalent to (-l0 + sqrt(disc)) / slope, without the subtraction.
    2.0 * work / (l0 + disc.sqrt())
}

/// Everything the engine needs to run one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioPlan {
    pub name: String,
    pub horizon_s: f64,
    pub level: LevelFn,
    /// Statistics are reset at this time (0: nothing is left out).
    pub warmup_s: f64,
    /// Width of a time-series window.
    pub window_s: f64,
    /// When each stage of the load profile ends, seconds (empty without stages).
    pub stage_ends: Vec<f64>,
    /// Whether each window also keeps its latency distribution (for the per-window
    /// percentiles); a warm-up pilot reads window means only, and its thousands of fine windows
    /// then cost a few counters each.
    pub window_quantiles: bool,
}

/// Most windows a time series keeps (memory stays bounded whatever the run length).
pub const MAX_WINDOWS: f64 = 2000.0;

impl ScenarioPlan {
    /// The plan of a scenario, before any automatic warm-up is decided (a `Warmup::Auto`
    /// stage-less scenario starts with no warm-up; the Monte Carlo runner sets it after its
    /// pilot run).
    pub fn new(
        s: &Scenario,
        base_level: f64,
        default_duration_s: f64,
        window_s: Option<f64>,
    ) -> ScenarioPlan {
        let horizon_s = crate::model::validate::total_duration(s, default_duration_s);
        let level = if s.stages.is_empty() {
            LevelFn::constant(s.start_level.unwrap_or(base_level))
        } else {
            LevelFn::stages(s.start_level.unwrap_or(0.0), &s.stages)
        };
        let warmup_s = match s.warmup {
            Warmup::Fixed { seconds } => seconds.min(horizon_s),
            Warmup::Auto | Warmup::None => 0.0,
        };
        let stage_ends = s
            .stages
            .iter()
            .scan(0.0, |t, st| {
                *t += st.duration_s;
                Some(*t)
            })
            .collect();
        ScenarioPlan {
            name: s.name.clone(),
            horizon_s,
            level,
            warmup_s,
            window_s: window_width(horizon_s, window_s),
            stage_ends,
            window_quantiles: true,
        }
    }

    /// True when the scenario's figures are steady-state ones eligible for automatic warm-up.
    pub fn is_steady(s: &Scenario) -> bool {
        s.stages.is_empty() && s.warmup == Warmup::Auto
    }
}

/// A window width: the one asked for (but at most [`MAX_WINDOWS`] windows), else a round
/// width giving about 120 windows.
pub fn window_width(horizon_s: f64, asked: Option<f64>) -> f64 {
    let floor = horizon_s / MAX_WINDOWS;
    if let Some(w) = asked {
        return w.max(floor);
    }
    const NICE: [f64; 16] = [
        0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
        3600.0,
    ];
    let target = horizon_s / 120.0;
    NICE.iter()
        .copied()
        .find(|w| *w >= target)
        .unwrap_or(target)
        .max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(duration_s: f64, target: f64) -> Stage {
        Stage { duration_s, target }
    }

    #[test]
    fn a_ramp_interpolates_linearly() {
        let f = LevelFn::stages(
            0.0,
            &[stage(10.0, 50.0), stage(100.0, 50.0), stage(10.0, 0.0)],
        );
        assert_eq!(f.at(5.0), 25.0);
        assert_eq!(f.at(50.0), 50.0);
        assert_eq!(f.at(115.0), 25.0);
        assert_eq!(f.at(500.0), 0.0);
    }

    #[test]
    fn user_changes_follow_the_floor_of_the_level() {
        let f = LevelFn::stages(0.0, &[stage(10.0, 5.0), stage(10.0, 5.0), stage(5.0, 0.0)]);
        let ch = f.user_changes();
        let starts: Vec<f64> = ch.iter().filter(|c| c.1 > 0).map(|c| c.0).collect();
        assert_eq!(starts, vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        let stops: Vec<f64> = ch.iter().filter(|c| c.1 < 0).map(|c| c.0).collect();
        assert_eq!(stops, vec![20.0, 21.0, 22.0, 23.0, 24.0]);
        assert_eq!(ch.iter().map(|c| c.1).sum::<i32>(), 0);
    }

    #[test]
    fn a_jump_stage_starts_users_at_once() {
        let f = LevelFn::stages(0.0, &[stage(0.0, 3.0), stage(10.0, 3.0)]);
        assert_eq!(f.user_changes(), vec![(0.0, 1), (0.0, 1), (0.0, 1)]);
        assert_eq!(f.at(0.0), 3.0);
    }

    #[test]
    fn advance_integrates_the_level() {
        let f = LevelFn::stages(
            0.0,
            &[stage(10.0, 0.0), stage(10.0, 100.0), stage(10.0, 100.0)],
        );
        // Nothing arrives during the silent first 10 s; the ramp to 100/s holds 500 units.
        let x = f.advance(0.0, 500.0).unwrap();
        assert!((x - 20.0).abs() < 1e-9, "{x}");
        let y = f.advance(0.0, 125.0).unwrap();
        assert!((y - 15.0).abs() < 1e-9, "{y}");
        let z = f.advance(20.0, 100.0).unwrap();
        assert!((z - 21.0).abs() < 1e-9, "{z}");
        assert_eq!(LevelFn::constant(0.0).advance(0.0, 1.0), None);
        assert_eq!(LevelFn::constant(4.0).advance(1.0, 2.0), Some(1.5));
    }

    #[test]
    fn windows_are_round_and_bounded() {
        assert_eq!(window_width(1800.0, None), 15.0);
        assert_eq!(window_width(1e9, Some(1.0)), 1e9 / MAX_WINDOWS);
    }
}
