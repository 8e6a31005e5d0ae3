//! What a model declares about its load beyond one simulation, for capacity studies: today's
//! load profile, the peak load it must reach, growth hypotheses and exceptional events.
//!
//! These are facts and assumptions the studies read (a study runs the model at projected loads
//! and at event peaks); the engine never reads them. Each type has a validating constructor,
//! so a bad number is reported at the script line that wrote it; the rules that need the
//! workload (a profile in users for a closed workload, in requests per second for an open one)
//! are checked by [`super::validate`]. Loads are users (closed workload) or requests per second
//! (open); monthly rates are fractions (`0.04` is +4 % a month); months count from today
//! (month 0).

use super::limits::*;
use super::spec::SpecError;
use super::{Origin, Workload};
use crate::format::plain_number as num;
use serde::{Deserialize, Serialize};

/// What a load level counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadUnit {
    /// Concurrent users, for a closed workload (`m.users`).
    Users,
    /// Requests per second, for an open workload (`m.arrivals`).
    RequestsPerSecond,
}

impl LoadUnit {
    /// The unit of a workload's level.
    pub fn of(w: &Workload) -> LoadUnit {
        if w.is_closed() {
            LoadUnit::Users
        } else {
            LoadUnit::RequestsPerSecond
        }
    }

    /// `users` or `req/s`, for output people read.
    pub fn word(self) -> &'static str {
        match self {
            LoadUnit::Users => "users",
            LoadUnit::RequestsPerSecond => "req/s",
        }
    }

    /// The largest level of this unit a model supports.
    pub fn max(self) -> f64 {
        match self {
            LoadUnit::Users => f64::from(MAX_USERS),
            LoadUnit::RequestsPerSecond => MAX_RATE_PER_S,
        }
    }
}

/// Checks a load level: finite, > 0 and within its unit's range.
fn level(field: &'static str, unit: LoadUnit, value: f64) -> Result<f64, SpecError> {
    if !(value.is_finite() && value > 0.0) {
        return Err(SpecError::NotPositive { field, value });
    }
    if value > unit.max() {
        return Err(SpecError::Invalid(format!(
            "`{field}` is {} {}; at most {} are supported",
            num(value),
            unit.word(),
            num(unit.max())
        )));
    }
    Ok(value)
}

/// Checks a monthly growth rate: a fraction in (-1, [`MAX_MONTHLY_GROWTH`]].
pub fn monthly_rate(field: &'static str, value: f64) -> Result<f64, SpecError> {
    if value.is_finite() && value > -1.0 && value <= MAX_MONTHLY_GROWTH {
        return Ok(value);
    }
    Err(SpecError::Invalid(format!(
        "`{field}` is a monthly growth as a fraction (0.04 = +4 % a month) and must be > -1 and \
         at most {} (got {})",
        num(MAX_MONTHLY_GROWTH),
        num(value)
    )))
}

/// Checks a load multiplier: finite, > 0 and at most [`MAX_LOAD_MULTIPLIER`].
pub fn multiplier(field: &str, value: f64) -> Result<f64, SpecError> {
    if value.is_finite() && value > 0.0 && value <= MAX_LOAD_MULTIPLIER {
        return Ok(value);
    }
    Err(SpecError::Invalid(format!(
        "`{field}` is a load multiplier and must be > 0 and at most {} (got {})",
        num(MAX_LOAD_MULTIPLIER),
        num(value)
    )))
}

/// Checks a month from today: a whole number from 0 to [`MAX_HORIZON_MONTHS`].
pub fn month(field: &'static str, value: i64) -> Result<u32, SpecError> {
    super::count(field, value, 0, MAX_HORIZON_MONTHS)
}

/// Today's load (template table 2.1): its average, its daily and weekly peaks, and its trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadProfile {
    pub unit: LoadUnit,
    /// The load averaged over a week.
    pub average: f64,
    /// The peak hour of a typical day.
    pub daily_peak: f64,
    /// The peak hour of the busiest day of the week.
    pub weekly_peak: f64,
    /// Today's growth per month, a fraction (0.04 = +4 % a month).
    pub monthly_trend: f64,
    /// The daily and weekly shape the three levels were derived from, when given so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<LoadShape>,
    pub origin: Option<Origin>,
}

/// A week of load as a base level times an hour-of-day and a day-of-week multiplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadShape {
    pub base: f64,
    /// 24 multipliers, hour 0 (midnight to 1 am) first.
    pub hourly: Vec<f64>,
    /// 7 multipliers, Monday first.
    pub daily: Vec<f64>,
}

impl LoadShape {
    /// Checks a shape: 24 hourly and 7 daily multipliers, finite and >= 0, each list with a
    /// positive mean.
    pub fn new(base: f64, hourly: Vec<f64>, daily: Vec<f64>) -> Result<LoadShape, SpecError> {
        shape_list("hourly", &hourly, 24, "hour 0 (midnight) first")?;
        shape_list("daily", &daily, 7, "Monday first")?;
        Ok(LoadShape {
            base,
            hourly,
            daily,
        })
    }

    /// `(average, daily peak, weekly peak)`.
    ///
    /// # Formula
    /// `average = base × mean(hourly) × mean(daily)`,
    /// `daily peak = base × max(hourly) × mean(daily)`,
    /// `weekly peak = base × max(hourly) × max(daily)`.
    pub fn levels(&self) -> (f64, f64, f64) {
        let (h_mean, h_max) = mean_max(&self.hourly);
        let (d_mean, d_max) = mean_max(&self.daily);
        let b = self.base;
        (b * h_mean * d_mean, b * h_max * d_mean, b * h_max * d_max)
    }
}

fn shape_list(field: &str, xs: &[f64], len: usize, order: &str) -> Result<(), SpecError> {
    if xs.len() != len {
        return Err(SpecError::Invalid(format!(
            "`{field}` must have {len} multipliers ({order}), got {}",
            xs.len()
        )));
    }
    if let Some((i, x)) = xs
        .iter()
        .enumerate()
        .find(|(_, x)| !x.is_finite() || **x < 0.0)
    {
        return Err(SpecError::Invalid(format!(
            "`{field}[{i}]` must be a finite multiplier >= 0 (got {})",
            num(*x)
        )));
    }
    if mean_max(xs).0 <= 0.0 {
        return Err(SpecError::Invalid(format!(
            "`{field}` multipliers are all 0: there would be no load at all"
        )));
    }
    Ok(())
}

fn mean_max(xs: &[f64]) -> (f64, f64) {
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    (mean, xs.iter().copied().fold(0.0, f64::max))
}

impl LoadProfile {
    /// Today's load given as its three levels; `weekly_peak >= daily_peak >= average > 0`.
    pub fn new(
        unit: LoadUnit,
        average: f64,
        daily_peak: f64,
        weekly_peak: f64,
        monthly_trend: f64,
    ) -> Result<LoadProfile, SpecError> {
        let average = level("average", unit, average)?;
        let daily_peak = level("daily_peak", unit, daily_peak)?;
        let weekly_peak = level("weekly_peak", unit, weekly_peak)?;
        if daily_peak < average || weekly_peak < daily_peak {
            return Err(SpecError::Invalid(format!(
                "the levels must satisfy weekly_peak >= daily_peak >= average (got average {}, \
                 daily_peak {}, weekly_peak {})",
                num(average),
                num(daily_peak),
                num(weekly_peak)
            )));
        }
        Ok(LoadProfile {
            unit,
            average,
            daily_peak,
            weekly_peak,
            monthly_trend: monthly_rate("monthly_trend", monthly_trend)?,
            shape: None,
            origin: None,
        })
    }

    /// Today's load given as a weekly shape; the three levels are derived from it (see
    /// [`LoadShape::levels`]).
    pub fn from_shape(
        unit: LoadUnit,
        shape: LoadShape,
        monthly_trend: f64,
    ) -> Result<LoadProfile, SpecError> {
        level("base", unit, shape.base)?;
        let (average, daily_peak, weekly_peak) = shape.levels();
        let mut p = LoadProfile::new(unit, average, daily_peak, weekly_peak, monthly_trend)?;
        p.shape = Some(shape);
        Ok(p)
    }
}

/// The peak load the system must hold (the plan's production objective), and by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadTarget {
    pub unit: LoadUnit,
    /// The peak load: users (closed workload) or requests per second (open).
    pub peak: f64,
    /// The month from today by which it must be held, when the plan says.
    pub by_month: Option<u32>,
    /// The data the system must hold then, bytes (the plan's "10 000+ releases" at an assumed
    /// size per release), when the plan says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_size_bytes: Option<f64>,
    pub description: Option<String>,
    pub origin: Option<Origin>,
}

impl LoadTarget {
    pub fn new(unit: LoadUnit, peak: f64, by_month: Option<i64>) -> Result<LoadTarget, SpecError> {
        Ok(LoadTarget {
            unit,
            peak: level("peak", unit, peak)?,
            by_month: by_month.map(|m| month("by_month", m)).transpose()?,
            data_size_bytes: None,
            description: None,
            origin: None,
        })
    }
}

/// How a growth hypothesis was given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum GrowthRule {
    /// Compounded monthly rates (fractions) of the users and of the traffic per user.
    Compound {
        users_per_month: f64,
        traffic_per_user_per_month: f64,
    },
    /// A curve of the load multiplier per month, written as a function in the script; its
    /// load is carried by the users (the traffic per user stays today's).
    Curve,
}

/// Multipliers of today's level at one month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GrowthMonth {
    pub users: f64,
    pub traffic_per_user: f64,
}

impl GrowthMonth {
    /// The load multiplier: users × traffic per user.
    pub fn load(&self) -> f64 {
        self.users * self.traffic_per_user
    }
}

/// A named growth hypothesis (template table 3.1) with its multipliers precomputed per month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    pub name: String,
    pub horizon_months: u32,
    pub rule: GrowthRule,
    /// One entry per month from 0 (today, both multipliers 1) to the horizon.
    pub months: Vec<GrowthMonth>,
    pub origin: Option<Origin>,
}

/// The horizon of a hypothesis when the script gives none.
pub const DEFAULT_HORIZON_MONTHS: i64 = 12;

fn horizon(months: i64) -> Result<u32, SpecError> {
    super::count("horizon", months, 1, MAX_HORIZON_MONTHS)
}

impl Growth {
    /// Compounded monthly growth of the users and of the traffic per user over `horizon`
    /// months.
    ///
    /// # Formula
    /// `users(m) = (1 + users_per_month)^m`, `traffic_per_user(m) = (1 + traffic_per_month)^m`.
    pub fn compound(
        name: String,
        users_per_month: f64,
        traffic_per_month: f64,
        horizon_months: i64,
    ) -> Result<Growth, SpecError> {
        let u = monthly_rate("users", users_per_month)?;
        let t = monthly_rate("traffic_per_user", traffic_per_month)?;
        let h = horizon(horizon_months)?;
        let months = (0..=h as i32)
            .map(|m| GrowthMonth {
                users: (1.0 + u).powi(m),
                traffic_per_user: (1.0 + t).powi(m),
            })
            .collect();
        Growth::checked(
            name,
            h,
            GrowthRule::Compound {
                users_per_month: u,
                traffic_per_user_per_month: t,
            },
            months,
        )
    }

    /// A curve of load multipliers, one per month from 0 to the horizon; month 0 must be 1
    /// (today's load).
    pub fn from_curve(name: String, loads: Vec<f64>) -> Result<Growth, SpecError> {
        let h = horizon(loads.len() as i64 - 1)?;
        if loads[0] != 1.0 {
            return Err(SpecError::Invalid(format!(
                "the curve must give 1 at month 0 (today's load), got {}",
                num(loads[0])
            )));
        }
        let months = loads
            .into_iter()
            .map(|users| GrowthMonth {
                users,
                traffic_per_user: 1.0,
            })
            .collect();
        Growth::checked(name, h, GrowthRule::Curve, months)
    }

    fn checked(
        name: String,
        horizon_months: u32,
        rule: GrowthRule,
        months: Vec<GrowthMonth>,
    ) -> Result<Growth, SpecError> {
        for (m, g) in months.iter().enumerate() {
            for (what, x) in [
                ("users", g.users),
                ("traffic per user", g.traffic_per_user),
                ("load", g.load()),
            ] {
                if !(x.is_finite() && x > 0.0 && x <= MAX_LOAD_MULTIPLIER) {
                    return Err(SpecError::Invalid(format!(
                        "at month {m} the {what} multiplier would be {}; a multiplier must be \
                         > 0 and at most {} (a millionfold)",
                        num(x),
                        num(MAX_LOAD_MULTIPLIER)
                    )));
                }
            }
        }
        Ok(Growth {
            name,
            horizon_months,
            rule,
            months,
            origin: None,
        })
    }

    /// The multipliers at `month`, if it is within the horizon.
    pub fn at(&self, month: u32) -> Option<&GrowthMonth> {
        self.months.get(month as usize)
    }

    /// The load multiplier at `month`, if it is within the horizon.
    pub fn load(&self, month: u32) -> Option<f64> {
        self.at(month).map(GrowthMonth::load)
    }
}

/// An exceptional load event (template table 3.3): a campaign, a season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadEvent {
    pub name: String,
    /// When it happens, in months from today.
    pub month: u32,
    /// Its load over the load of that month without it.
    pub multiplier: f64,
    /// How long it lasts, seconds.
    pub duration_s: f64,
    /// A date or period as the plan writes it ("late November"), for reports; `month` is what
    /// computations use.
    pub date: Option<String>,
    /// What must be ready before it (pre-scaling, cache warm-up), for reports.
    pub preparation: Option<String>,
    pub origin: Option<Origin>,
}

impl LoadEvent {
    pub fn new(
        name: String,
        month_: i64,
        multiplier_: f64,
        duration_s: f64,
    ) -> Result<LoadEvent, SpecError> {
        if !(duration_s.is_finite() && duration_s > 0.0 && duration_s <= MAX_DURATION_S) {
            return Err(SpecError::Invalid(format!(
                "`duration` must be > 0 and at most {MAX_DURATION_TEXT} (got {} s)",
                num(duration_s)
            )));
        }
        Ok(LoadEvent {
            name,
            month: month("month", month_)?,
            multiplier: multiplier("multiplier", multiplier_)?,
            duration_s,
            date: None,
            preparation: None,
            origin: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-12;

    #[test]
    fn a_shape_derives_the_three_levels_by_the_documented_rule() {
        let mut hourly = vec![0.5; 24];
        hourly[14] = 2.0;
        let daily = vec![1.0, 1.0, 1.0, 1.0, 1.4, 0.3, 0.3];
        let shape = LoadShape::new(50.0, hourly, daily).unwrap();
        let p = LoadProfile::from_shape(LoadUnit::Users, shape, 0.04).unwrap();
        let h_mean = (23.0 * 0.5 + 2.0) / 24.0;
        let d_mean = 6.0 / 7.0;
        assert!((p.average - 50.0 * h_mean * d_mean).abs() < TOL);
        assert!((p.daily_peak - 50.0 * 2.0 * d_mean).abs() < TOL);
        assert!((p.weekly_peak - 50.0 * 2.0 * 1.4).abs() < TOL);
    }

    #[test]
    fn levels_must_be_ordered_and_shapes_complete() {
        assert!(LoadProfile::new(LoadUnit::Users, 40.0, 100.0, 130.0, 0.04).is_ok());
        let err = LoadProfile::new(LoadUnit::Users, 40.0, 30.0, 130.0, 0.0).unwrap_err();
        assert!(
            err.to_string()
                .contains("weekly_peak >= daily_peak >= average")
        );
        assert!(LoadProfile::new(LoadUnit::Users, 0.0, 1.0, 1.0, 0.0).is_err());
        assert!(LoadProfile::new(LoadUnit::Users, 1.0, 1.0, 2e6, 0.0).is_err());
        assert!(LoadProfile::new(LoadUnit::Users, 1.0, 1.0, 1.0, -1.0).is_err());
        let err = LoadShape::new(1.0, vec![1.0; 23], vec![1.0; 7]).unwrap_err();
        assert!(err.to_string().contains("24 multipliers"), "{err}");
        let mut daily = vec![1.0; 7];
        daily[3] = -0.1;
        let err = LoadShape::new(1.0, vec![1.0; 24], daily).unwrap_err();
        assert!(err.to_string().contains("`daily[3]`"), "{err}");
        assert!(LoadShape::new(1.0, vec![0.0; 24], vec![1.0; 7]).is_err());
    }

    #[test]
    fn compound_growth_multiplies_month_after_month() {
        let g = Growth::compound("optimistic".into(), 0.08, 0.02, 12).unwrap();
        assert_eq!(g.months.len(), 13);
        assert_eq!(g.load(0), Some(1.0));
        let want = 1.08_f64.powi(6) * 1.02_f64.powi(6);
        assert!((g.load(6).unwrap() - want).abs() < TOL);
        assert_eq!(g.load(13), None);
        assert!(Growth::compound("x".into(), 0.1, 0.0, 0).is_err());
        assert!(Growth::compound("x".into(), 0.1, 0.0, 121).is_err());
        // 11^12 is beyond a millionfold.
        assert!(Growth::compound("x".into(), 10.0, 0.0, 12).is_err());
    }

    #[test]
    fn a_curve_starts_at_today_and_stays_positive() {
        let g = Growth::from_curve("custom".into(), vec![1.0, 1.5, 2.0]).unwrap();
        assert_eq!(g.horizon_months, 2);
        assert_eq!(g.load(2), Some(2.0));
        let err = Growth::from_curve("c".into(), vec![2.0, 3.0]).unwrap_err();
        assert!(err.to_string().contains("1 at month 0"), "{err}");
        let err = Growth::from_curve("c".into(), vec![1.0, 0.0]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("at month 1 the users multiplier would be 0"),
            "{err}"
        );
    }

    #[test]
    fn events_need_a_month_a_positive_multiplier_and_a_duration() {
        assert!(LoadEvent::new("campaign".into(), 4, 3.0, 48.0 * 3600.0).is_ok());
        assert!(LoadEvent::new("x".into(), -1, 3.0, 1.0).is_err());
        assert!(LoadEvent::new("x".into(), 121, 3.0, 1.0).is_err());
        assert!(LoadEvent::new("x".into(), 1, 0.0, 1.0).is_err());
        assert!(LoadEvent::new("x".into(), 1, 2.0, 0.0).is_err());
    }
}
