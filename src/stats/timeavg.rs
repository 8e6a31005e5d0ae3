//! Time-weighted averages of a level (busy servers, queue length, users).
//!
//! The integral runs from time 0 and is never reset; a reset (the end of a warm-up) only moves
//! the base the mean is measured from, so time-series windows that straddle the reset still see
//! the whole integral.

use serde::{Deserialize, Serialize};

/// The integral of a piecewise-constant level over time, with its maximum since the base.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TimeAverage {
    last: f64,
    level: f64,
    integral: f64,
    max: f64,
    base_t: f64,
    base_integral: f64,
}

impl TimeAverage {
    /// The level changes to `level` at time `now` (>= the previous change).
    #[inline]
    pub fn set(&mut self, now: f64, level: f64) {
        self.integral += self.level * (now - self.last);
        self.last = now;
        self.level = level;
        if level > self.max {
            self.max = level;
        }
    }

    /// Measures from `now` on: the mean and the maximum restart from the current level.
    pub fn reset(&mut self, now: f64) {
        self.base_integral = self.integral_at(now);
        self.base_t = now;
        self.max = self.level;
    }

    /// The integral from time 0 up to `now`.
    #[inline]
    pub fn integral_at(&self, now: f64) -> f64 {
        self.integral + self.level * (now - self.last)
    }

    /// The time-weighted mean from the base up to `now`.
    pub fn mean_at(&self, now: f64) -> f64 {
        let span = now - self.base_t;
        if span > 0.0 {
            (self.integral_at(now) - self.base_integral) / span
        } else {
            self.level
        }
    }

    /// The maximum since the base.
    pub fn max(&self) -> f64 {
        self.max
    }

    pub fn level(&self) -> f64 {
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_weights_each_level_by_its_duration() {
        let mut a = TimeAverage::default();
        a.set(0.0, 2.0);
        a.set(1.0, 0.0);
        a.set(3.0, 4.0);
        // 2 for 1 s, 0 for 2 s, 4 for 1 s: 6 / 4.
        assert_eq!(a.mean_at(4.0), 1.5);
        assert_eq!(a.max(), 4.0);
    }

    #[test]
    fn a_reset_moves_the_base_but_keeps_the_integral() {
        let mut a = TimeAverage::default();
        a.set(0.0, 10.0);
        a.reset(5.0);
        a.set(6.0, 0.0);
        assert_eq!(a.mean_at(7.0), 5.0);
        assert_eq!(a.max(), 10.0);
        assert_eq!(a.integral_at(7.0), 60.0);
    }
}
