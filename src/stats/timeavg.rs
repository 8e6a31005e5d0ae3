//! Time-weighted averages of levels (busy servers, queue length, users).
//!
//! A [`Levels`] tracks `N` levels that change at the same instants (a resource's busy servers
//! and its queue), so one update pays for the time step once. The integral runs from time 0
//! and is never reset; a reset (the end of a warm-up) only moves the base the mean is measured
//! from, so time-series windows that straddle the reset still see the whole integral.

use serde::{Deserialize, Serialize};

/// The integrals of `N` piecewise-constant levels over time, with their maxima since the base.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Levels<const N: usize> {
    last: f64,
    #[serde(with = "serde_arrays")]
    level: [f64; N],
    #[serde(with = "serde_arrays")]
    integral: [f64; N],
    #[serde(with = "serde_arrays")]
    max: [f64; N],
    base_t: f64,
    #[serde(with = "serde_arrays")]
    base_integral: [f64; N],
}

/// One level.
pub type TimeAverage = Levels<1>;

impl<const N: usize> Default for Levels<N> {
    fn default() -> Self {
        Levels {
            last: 0.0,
            level: [0.0; N],
            integral: [0.0; N],
            max: [0.0; N],
            base_t: 0.0,
            base_integral: [0.0; N],
        }
    }
}

impl<const N: usize> Levels<N> {
    /// The levels change to `levels` at time `now` (>= the previous change).
    #[inline]
    pub fn set(&mut self, now: f64, levels: [f64; N]) {
        let dt = now - self.last;
        self.last = now;
        for (i, &new) in levels.iter().enumerate() {
            self.integral[i] += self.level[i] * dt;
            self.level[i] = new;
            if new > self.max[i] {
                self.max[i] = new;
            }
        }
    }

    /// Measures from `now` on: the means and the maxima restart from the current levels.
    pub fn reset(&mut self, now: f64) {
        self.base_integral = self.integral_at(now);
        self.base_t = now;
        self.max = self.level;
    }

    /// The integrals from time 0 up to `now`.
    #[inline]
    pub fn integral_at(&self, now: f64) -> [f64; N] {
        std::array::from_fn(|i| self.integral[i] + self.level[i] * (now - self.last))
    }

    /// The time-weighted means from the base up to `now`.
    pub fn mean_at(&self, now: f64) -> [f64; N] {
        let span = now - self.base_t;
        let int = self.integral_at(now);
        std::array::from_fn(|i| {
            if span > 0.0 {
                (int[i] - self.base_integral[i]) / span
            } else {
                self.level[i]
            }
        })
    }

    /// The maxima since the base.
    pub fn max(&self) -> [f64; N] {
        self.max
    }

    pub fn level(&self) -> [f64; N] {
        self.level
    }
}

/// Serde for fixed-size `f64` arrays of any length (serde derives only up to 32 and not for a
/// const generic `N`).
mod serde_arrays {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(a: &[f64; N], s: S) -> Result<S::Ok, S::Error> {
        a.as_slice().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[f64; N], D::Error> {
        let v = Vec::<f64>::deserialize(d)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom(format!("expected {N} numbers")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_weights_each_level_by_its_duration() {
        let mut a = TimeAverage::default();
        a.set(0.0, [2.0]);
        a.set(1.0, [0.0]);
        a.set(3.0, [4.0]);
        // 2 for 1 s, 0 for 2 s, 4 for 1 s: 6 / 4.
        assert_eq!(a.mean_at(4.0), [1.5]);
        assert_eq!(a.max(), [4.0]);
    }

    #[test]
    fn a_reset_moves_the_base_but_keeps_the_integral() {
        let mut a = TimeAverage::default();
        a.set(0.0, [10.0]);
        a.reset(5.0);
        a.set(6.0, [0.0]);
        assert_eq!(a.mean_at(7.0), [5.0]);
        assert_eq!(a.max(), [10.0]);
        assert_eq!(a.integral_at(7.0), [60.0]);
    }

    #[test]
    fn paired_levels_are_independent() {
        let mut p = Levels::<2>::default();
        p.set(0.0, [1.0, 3.0]);
        p.set(2.0, [2.0, 0.0]);
        assert_eq!(p.mean_at(4.0), [1.5, 1.5]);
        assert_eq!(p.max(), [2.0, 3.0]);
    }
}
