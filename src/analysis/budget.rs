//! The error budget: how many minutes of failure an availability objective allows over a
//! window, and how many a simulated error rate would use.
//!
//! The budget counts requests, as an availability SLO on requests does: with an objective of
//! 99.9 %, 0.1 % of the window's requests may fail, which at a steady traffic is as many
//! requests as 0.1 % of the window's minutes, 43.2 min over 30 days. A simulated error rate
//! `e` (failed requests over all requests) uses `e` of the window's minutes.
//!
//! A study simulates the peak hour only, so it holds the peak's error rate over the whole
//! window: the consumption it reports is an upper bound (off-peak the load, and with it the
//! error rate, is lower). The load profile's average over its peak is not used to weigh it
//! down: an error rate is not proportional to the load (it is 0 below saturation and climbs
//! steeply past it), so that weighting would be a guess, not a bound.

/// The window every budget is counted over, days (the template's "budget d'erreur (30j)").
pub const WINDOW_DAYS: f64 = 30.0;

/// Minutes in the window: 30 × 24 × 60 = 43 200.
pub const WINDOW_MIN: f64 = WINDOW_DAYS * 24.0 * 60.0;

/// The error budget over [`WINDOW_DAYS`], minutes, of an objective that allows
/// `allowed_error_ratio` of the requests to fail (`1 - availability`).
///
/// # Formula
/// `budget = allowed_error_ratio × 43 200 min`; 99.9 % gives 43.2 min.
pub fn budget_min(allowed_error_ratio: f64) -> f64 {
    allowed_error_ratio * WINDOW_MIN
}

/// Minutes of the budget an error rate `error_ratio` (failed over all requests) uses when it
/// holds over the whole window.
///
/// # Formula
/// `consumed = error_ratio × 43 200 min`.
pub fn consumed_min(error_ratio: f64) -> f64 {
    error_ratio * WINDOW_MIN
}

/// Minutes of the budget an error rate uses over `duration_s` seconds only (an event).
///
/// # Formula
/// `consumed = error_ratio × duration_s / 60`.
pub fn consumed_over_min(error_ratio: f64, duration_s: f64) -> f64 {
    error_ratio * duration_s / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_nines_allow_43_point_2_minutes_in_30_days() {
        assert!((budget_min(1.0 - 0.999) - 43.2).abs() < 1e-9);
        assert!((budget_min(1.0 - 0.9995) - 21.6).abs() < 1e-9);
        assert_eq!(WINDOW_MIN, 43_200.0);
    }

    #[test]
    fn an_error_rate_uses_its_share_of_the_window() {
        // 0.05 % of the requests failing for 30 days: half of a 99.9 % budget.
        assert!((consumed_min(0.0005) - 21.6).abs() < 1e-9);
        assert!((consumed_min(0.0005) / budget_min(0.001) - 0.5).abs() < 1e-12);
        // 1 % failing for 48 h: 28.8 min.
        assert!((consumed_over_min(0.01, 48.0 * 3600.0) - 28.8).abs() < 1e-9);
        assert_eq!(consumed_min(0.0), 0.0);
    }
}
