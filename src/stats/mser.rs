//! MSER-5 warm-up detection (White 1997; Franklin & White 2008).
//!
//! The series is cut into batches of [`BATCH`] consecutive observations; for each candidate
//! truncation `d` (in batches, at most half the series) the statistic
//! `MSER(d) = sum_{i > d} (Y_i - mean_{>d})^2 / (n - d)^2` weighs the variance of what is kept
//! against how much is kept; the `d` that minimises it is the warm-up. capsim applies it to the
//! series of per-window mean response times averaged over pilot replications.

/// Observations per MSER batch.
pub const BATCH: usize = 5;

/// The number of leading observations to discard, a multiple of [`BATCH`]. Missing
/// observations (`None`) are left out of their batch; an empty batch is skipped.
pub fn mser5(series: &[Option<f64>]) -> usize {
    let batches: Vec<(usize, f64)> = series
        .chunks(BATCH)
        .enumerate()
        .filter_map(|(b, chunk)| {
            let xs: Vec<f64> = chunk
                .iter()
                .flatten()
                .copied()
                .filter(|x| x.is_finite())
                .collect();
            (!xs.is_empty()).then(|| (b, xs.iter().sum::<f64>() / xs.len() as f64))
        })
        .collect();
    let n = batches.len();
    if n < 4 {
        return 0;
    }
    let mut best = (f64::INFINITY, 0usize);
    for d in 0..=n / 2 {
        let kept = &batches[d..];
        let k = kept.len() as f64;
        let mean = kept.iter().map(|b| b.1).sum::<f64>() / k;
        let ss = kept.iter().map(|b| (b.1 - mean).powi(2)).sum::<f64>();
        let stat = ss / (k * k);
        if stat < best.0 {
            best = (stat, d);
        }
    }
    let (_, d) = best;
    if d == 0 { 0 } else { batches[d].0 * BATCH }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(i: usize) -> f64 {
        // A deterministic, zero-mean wiggle standing in for noise.
        ((i as f64) * 12.9898).sin() * 0.05
    }

    #[test]
    fn a_rising_transient_is_cut() {
        let series: Vec<Option<f64>> = (0..500)
            .map(|i| {
                let ramp = 1.0 - (-(i as f64) / 40.0).exp();
                Some(ramp + noisy(i))
            })
            .collect();
        let d = mser5(&series);
        assert!((60..=250).contains(&d), "truncation {d}");
        assert_eq!(d % BATCH, 0);
    }

    #[test]
    fn a_stationary_series_keeps_nearly_everything() {
        let series: Vec<Option<f64>> = (0..500).map(|i| Some(1.0 + noisy(i))).collect();
        assert!(mser5(&series) <= 50);
    }

    #[test]
    fn short_or_empty_series_truncate_nothing() {
        assert_eq!(mser5(&[]), 0);
        assert_eq!(mser5(&[Some(1.0), None, Some(3.0)]), 0);
    }
}
