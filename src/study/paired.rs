//! Paired differences between two cells that share seeds (common random numbers).
//!
//! Replication `i` of both cells drew from the same streams, so the per-replication
//! differences `d_i = after_i − before_i` carry the change and little of the noise the two
//! share: the interval of the difference is a Student t interval on the `d_i` (n − 1 degrees
//! of freedom), not the two intervals combined. The relative change `after / before − 1` is a
//! ratio of means, its interval from the delta method on the paired values
//! (`z_i = after_i − r · before_i`). The pairing gain `(Var a + Var b) / Var d` says how many
//! times fewer replications pairing needs than independent seeds for the same interval: the
//! factor by which common random numbers narrowed it, squared.
//!
//! Percentiles are compared through the replications' own percentiles (the per-replication
//! column of the figure): a short run biases each, but both sides alike, and the difference
//! keeps a replication-mean interval whose coverage the tests check on a case with a known
//! answer.

use crate::stats::Estimate;
use crate::stats::ci::{mean_sd, t_quantile};
use serde::{Deserialize, Serialize};

/// A figure before and after a change, and the change, paired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub before: f64,
    pub after: f64,
    /// `after − before`, with its paired 95 % interval.
    pub difference: Estimate,
    /// `after / before − 1`, with its paired 95 % interval (NaN when `before` is 0).
    pub relative: Estimate,
    /// `(Var before + Var after) / Var difference`: above 1 when pairing narrowed the
    /// interval (infinite when every difference is the same).
    pub pairing_gain: f64,
    pub replications: usize,
}

/// The paired difference of two per-replication columns (the first `n` of each, `n` the
/// shorter); replications where either value is unknown are left out of both.
pub fn paired(before: &[f64], after: &[f64]) -> Difference {
    let (b, a): (Vec<f64>, Vec<f64>) = before
        .iter()
        .zip(after)
        .filter(|(b, a)| b.is_finite() && a.is_finite())
        .map(|(b, a)| (*b, *a))
        .unzip();
    let n = b.len();
    let nan = Estimate::new(f64::NAN, f64::NAN, f64::NAN, n as u32);
    let (mb, sb, _) = mean_sd(&b);
    let (ma, sa, _) = mean_sd(&a);
    if n == 0 {
        return Difference {
            before: f64::NAN,
            after: f64::NAN,
            difference: nan,
            relative: nan,
            pairing_gain: f64::NAN,
            replications: 0,
        };
    }
    let t = t_quantile(n);
    let root_n = (n as f64).sqrt();
    let d: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a - b).collect();
    let (md, sd, _) = mean_sd(&d);
    let half = if n >= 2 {
        t * sd / root_n
    } else {
        f64::INFINITY
    };
    let difference = Estimate::new(md, md - half, md + half, n as u32);
    let relative = if mb != 0.0 {
        let r = ma / mb;
        let z: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a - r * b).collect();
        let (_, sz, _) = mean_sd(&z);
        let half = if n >= 2 {
            t * sz / root_n / mb.abs()
        } else {
            f64::INFINITY
        };
        Estimate::new(r - 1.0, r - 1.0 - half, r - 1.0 + half, n as u32)
    } else {
        nan
    };
    let independent = sb * sb + sa * sa;
    let pairing_gain = if sd > 0.0 {
        independent / (sd * sd)
    } else if independent > 0.0 {
        f64::INFINITY
    } else {
        1.0
    };
    Difference {
        before: mb,
        after: ma,
        difference,
        relative,
        pairing_gain,
        replications: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_noise_cancels_in_the_difference() {
        // after = before + 2 exactly: the difference is known without error.
        let before = [10.0, 14.0, 9.0, 12.0, 11.0];
        let after: Vec<f64> = before.iter().map(|b| b + 2.0).collect();
        let d = paired(&before, &after);
        assert_eq!(d.difference.mean, 2.0);
        assert_eq!(d.difference.ci_low, 2.0);
        assert_eq!(d.difference.ci_high, 2.0);
        assert!(d.pairing_gain.is_infinite());
        assert!((d.relative.mean - 2.0 / 11.2).abs() < 1e-12);
    }

    #[test]
    fn the_interval_is_a_t_interval_on_the_differences() {
        let before = [1.0, 2.0, 3.0, 4.0];
        let after = [1.5, 2.0, 3.5, 5.0]; // d = 0.5, 0, 0.5, 1
        let d = paired(&before, &after);
        let (m, s) = (0.5, (1.0f64 / 6.0).sqrt());
        let h = t_quantile(4) * s / 2.0;
        assert!((d.difference.mean - m).abs() < 1e-12);
        assert!((d.difference.ci_high - (m + h)).abs() < 1e-12);
        // Var a + Var b = 2.5 + 5/3 against Var d = 1/6.
        assert!((d.pairing_gain - (2.5 + 5.0 / 3.0) * 6.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_values_leave_their_pair_out() {
        let d = paired(&[1.0, f64::NAN, 3.0], &[2.0, 5.0, 4.0]);
        assert_eq!(d.replications, 2);
        assert_eq!(d.difference.mean, 1.0);
    }
}
