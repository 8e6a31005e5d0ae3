//! Data volume: what a model's requests send back and write, from the byte sizes it declares.
//!
//! Pure functions for capacity studies: bandwidth at a request rate (template table 3.2,
//! "bande passante (pic)") and the size of a database after months of writes ("taille base de
//! donnees"). A write step counts as its expectation: inside a `repeat` its count times, inside
//! a branch its probability, inside a cache miss the miss ratio. Client retries are not counted
//! (how often a request is retried depends on the run), nor the writes of background jobs (the
//! model does not give them steps).

use super::{Checked, Model, QueryOp, ResourceKind, Step};

/// Seconds in a month: a Julian year (365.25 days) over 12, that is 30.4375 days.
pub const SECONDS_PER_MONTH: f64 = 365.25 * 86_400.0 / 12.0;

/// Expected bytes written by one run of `steps`, on database `db` (every database when
/// `None`); write steps that declare no bytes count 0.
///
/// # Formula
/// A write adds its bytes; `repeat(n, s)` adds `n × bytes(s)`; `branch(p, a, b)` adds
/// `p × bytes(a) + (1 - p) × bytes(b)`; `cache.get(h, miss)` adds `(1 - h) × bytes(miss)`.
pub fn expected_bytes_written(steps: &[Step], db: Option<&str>) -> f64 {
    steps.iter().map(|s| step_bytes(s, db)).sum()
}

fn step_bytes(s: &Step, on: Option<&str>) -> f64 {
    match s {
        Step::Query {
            db,
            op: QueryOp::Write,
            bytes: Some(b),
            ..
        } if on.is_none_or(|name| name == db) => *b,
        Step::Repeat { times, steps } => f64::from(*times) * expected_bytes_written(steps, on),
        Step::Branch {
            probability,
            then,
            otherwise,
        } => {
            probability * expected_bytes_written(then, on)
                + (1.0 - probability) * expected_bytes_written(otherwise, on)
        }
        Step::CacheGet {
            hit_ratio, miss, ..
        } => (1.0 - hit_ratio) * expected_bytes_written(miss, on),
        _ => 0.0,
    }
}

impl Model {
    /// Bytes of one response of endpoint `name`, if the model declares them.
    pub fn response_bytes(&self, name: &str) -> Option<f64> {
        self.endpoint(name)?.response_bytes
    }

    /// Expected bytes one request of endpoint `name` writes, over all databases (see
    /// [`expected_bytes_written`]); `None` for an unknown endpoint.
    pub fn bytes_written_per_request(&self, name: &str) -> Option<f64> {
        Some(expected_bytes_written(&self.endpoint(name)?.steps, None))
    }

    /// As [`Model::bytes_written_per_request`], on database `db` only.
    pub fn bytes_written_per_request_to(&self, name: &str, db: &str) -> Option<f64> {
        Some(expected_bytes_written(
            &self.endpoint(name)?.steps,
            Some(db),
        ))
    }

    /// Bytes the database `db` holds today, if the model declares them.
    pub fn database_size_bytes(&self, db: &str) -> Option<f64> {
        match &self.resource(db)?.kind {
            ResourceKind::Database(d) => d.data_size_bytes,
            _ => None,
        }
    }
}

impl Checked {
    /// Expected bytes per request of the mix (the on-start endpoint, outside the mix, is not
    /// counted), with `per_endpoint` giving an endpoint's bytes.
    fn mix_mean(&self, per_endpoint: impl Fn(usize) -> f64) -> f64 {
        self.mix
            .iter()
            .enumerate()
            .map(|(i, w)| w * per_endpoint(i))
            .sum()
    }

    /// Bits per second of responses at `rate_per_s` requests per second over the mix;
    /// `None` when no endpoint of the mix declares its response bytes (endpoints that do not
    /// count 0).
    ///
    /// # Formula
    /// `8 × rate × Σ_e mix_e × response_bytes_e`.
    pub fn response_bits_per_s(&self, rate_per_s: f64) -> Option<f64> {
        let eps = &self.model.endpoints;
        let declared = eps
            .iter()
            .zip(&self.mix)
            .any(|(e, w)| *w > 0.0 && e.response_bytes.is_some());
        let bytes = self.mix_mean(|i| eps[i].response_bytes.unwrap_or(0.0));
        declared.then_some(8.0 * rate_per_s * bytes)
    }

    /// Bytes per second written to database `db` (every database when `None`) at
    /// `rate_per_s` requests per second over the mix.
    pub fn bytes_written_per_s(&self, rate_per_s: f64, db: Option<&str>) -> f64 {
        let eps = &self.model.endpoints;
        rate_per_s * self.mix_mean(|i| expected_bytes_written(&eps[i].steps, db))
    }

    /// The size of database `db` after one month per entry of `monthly_rates_per_s` (each the
    /// average request rate of that month, month 1 first), from its declared size today;
    /// `None` when the model declares no size for it.
    ///
    /// # Formula
    /// `size_today + Σ_m bytes_written_per_s(rate_m) × SECONDS_PER_MONTH`.
    pub fn database_size_after(&self, db: &str, monthly_rates_per_s: &[f64]) -> Option<f64> {
        let today = self.model.database_size_bytes(db)?;
        let per_request = self.bytes_written_per_s(1.0, Some(db));
        let requests: f64 = monthly_rates_per_s
            .iter()
            .map(|r| r * SECONDS_PER_MONTH)
            .sum();
        Some(today + per_request * requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Dist;

    fn write(db: &str, bytes: f64) -> Step {
        Step::Query {
            db: db.into(),
            op: QueryOp::Write,
            service: Dist::constant(0.001).unwrap(),
            bytes: Some(bytes),
        }
    }

    #[test]
    fn bytes_written_are_the_flows_exact_expectation() {
        let read = Step::Query {
            db: "db".into(),
            op: QueryOp::Read,
            service: Dist::constant(0.001).unwrap(),
            bytes: None,
        };
        // 100 + 3 × 10 + 0.25 × (2 × 40) + 0.5 × 8 + 0.1 × 1000, by hand: 254; the other
        // database's 7 bytes only in the total.
        let flow = vec![
            write("db", 100.0),
            Step::Repeat {
                times: 3,
                steps: vec![write("db", 10.0), read],
            },
            Step::Branch {
                probability: 0.25,
                then: vec![Step::Repeat {
                    times: 2,
                    steps: vec![write("db", 40.0)],
                }],
                otherwise: vec![write("other", 7.0 / 0.75)],
            },
            Step::CacheGet {
                cache: "redis".into(),
                hit_ratio: 0.5,
                miss: vec![write("db", 8.0)],
            },
            Step::Branch {
                probability: 0.1,
                then: vec![write("db", 1000.0)],
                otherwise: vec![],
            },
        ];
        let on_db = expected_bytes_written(&flow, Some("db"));
        assert!((on_db - 254.0).abs() < 1e-9, "{on_db}");
        let all = expected_bytes_written(&flow, None);
        assert!((all - 261.0).abs() < 1e-9, "{all}");
        assert_eq!(expected_bytes_written(&flow, Some("none")), 0.0);
    }

    #[test]
    fn a_month_is_a_twelfth_of_a_julian_year() {
        assert_eq!(SECONDS_PER_MONTH, 2_629_800.0);
    }
}
