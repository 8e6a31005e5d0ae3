//! Durations, rates and sizes in the language: constructors with explicit units, arithmetic
//! that can never produce a negative or NaN duration nor leave the documented ranges
//! (durations up to `model::MAX_DURATION_S`, rates up to `model::MAX_RATE_PER_S`, sizes up to
//! `model::MAX_BYTES`), comparisons and readable printing.

use super::values::{Bytes, Duration, Rate, Res, number};
use crate::format::{fmt_bytes, fmt_duration, sig3};
use rhai::{Dynamic, Engine};

/// Each duration constructor as `seconds = x * mul / div`: dividing for the sub-second units
/// keeps `ms(5)` exactly the double nearest 0.005 (multiplying by 1e-3 would not).
const DURATION_UNITS: [(&str, f64, f64); 6] = [
    ("us", 1.0, 1e6),
    ("ms", 1.0, 1e3),
    ("sec", 1.0, 1.0),
    ("minutes", 60.0, 1.0),
    ("hours", 3600.0, 1.0),
    ("days", 86_400.0, 1.0),
];

/// Seconds per unit of each rate constructor (a rate is events per second).
const RATE_UNITS: [(&str, f64); 3] = [("per_sec", 1.0), ("per_min", 60.0), ("per_hour", 3600.0)];

/// Bytes per unit of each size constructor: decimal (SI) units, as disks and network links
/// are rated (`kb(1)` is 1000 bytes, not 1024).
const BYTE_UNITS: [(&str, f64); 4] = [("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12)];

pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Duration>("Duration");
    engine.register_type_with_name::<Rate>("Rate");
    engine.register_type_with_name::<Bytes>("Bytes");
    register_constructors(engine);
    register_bytes(engine);
    register_duration_arithmetic(engine);
    register_duration_comparisons(engine);
    register_rate_arithmetic(engine);
    register_printing(engine);
    engine.register_get("seconds", |d: &mut Duration| d.0);
    engine.register_get("ms", |d: &mut Duration| d.0 * 1e3);
}

fn register_constructors(engine: &mut Engine) {
    for (name, mul, div) in DURATION_UNITS {
        engine.register_fn(name, move |x: Dynamic| -> Res<Duration> {
            let n = number(&x, name)?;
            Ok(Duration::checked(n * mul / div, || {
                format!("`{name}({x})`")
            })?)
        });
    }
    for (name, per) in RATE_UNITS {
        engine.register_fn(name, move |x: Dynamic| -> Res<Rate> {
            let n = number(&x, name)?;
            Ok(Rate::checked(n / per, || format!("`{name}({x})`"))?)
        });
    }
}

fn bytes_op(b: f64, a: impl std::fmt::Display, sym: &str, k: impl std::fmt::Display) -> Res<Bytes> {
    Ok(Bytes::checked(b, || format!("`{a} {sym} {k}`"))?)
}

/// `kb(x)` … `tb(x)`, sums, scaling, comparisons, `.bytes` and printing of sizes.
fn register_bytes(engine: &mut Engine) {
    for (name, per) in BYTE_UNITS {
        engine.register_fn(name, move |x: Dynamic| -> Res<Bytes> {
            let n = number(&x, name)?;
            Ok(Bytes::checked(n * per, || format!("`{name}({x})`"))?)
        });
    }
    engine.register_fn("+", |a: Bytes, b: Bytes| bytes_op(a.0 + b.0, a, "+", b));
    engine.register_fn("*", |a: Bytes, k: i64| bytes_op(a.0 * k as f64, a, "*", k));
    engine.register_fn("*", |a: Bytes, k: f64| bytes_op(a.0 * k, a, "*", k));
    engine.register_fn("*", |k: i64, a: Bytes| bytes_op(a.0 * k as f64, k, "*", a));
    engine.register_fn("*", |k: f64, a: Bytes| bytes_op(a.0 * k, k, "*", a));
    engine.register_fn("/", |a: Bytes, k: i64| bytes_op(a.0 / k as f64, a, "/", k));
    engine.register_fn("/", |a: Bytes, k: f64| bytes_op(a.0 / k, a, "/", k));
    engine.register_fn("<", |a: Bytes, b: Bytes| a.0 < b.0);
    engine.register_fn(">", |a: Bytes, b: Bytes| a.0 > b.0);
    engine.register_fn("==", |a: Bytes, b: Bytes| a.0 == b.0);
    engine.register_get("bytes", |b: &mut Bytes| b.0);
    engine.register_fn("to_string", |b: &mut Bytes| b.to_string());
    engine.register_fn("to_debug", |b: &mut Bytes| b.to_string());
}

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&fmt_bytes(self.0))
    }
}

/// Checks the result of an operator, naming the operation in the message.
fn op(
    seconds: f64,
    a: impl std::fmt::Display,
    sym: &str,
    b: impl std::fmt::Display,
) -> Res<Duration> {
    Ok(Duration::checked(seconds, || format!("`{a} {sym} {b}`"))?)
}

fn register_duration_arithmetic(engine: &mut Engine) {
    engine.register_fn("+", |a: Duration, b: Duration| op(a.0 + b.0, a, "+", b));
    engine.register_fn("-", |a: Duration, b: Duration| op(a.0 - b.0, a, "-", b));
    engine.register_fn("*", |a: Duration, k: i64| op(a.0 * k as f64, a, "*", k));
    engine.register_fn("*", |a: Duration, k: f64| op(a.0 * k, a, "*", k));
    engine.register_fn("*", |k: i64, a: Duration| op(a.0 * k as f64, k, "*", a));
    engine.register_fn("*", |k: f64, a: Duration| op(a.0 * k, k, "*", a));
    engine.register_fn("/", |a: Duration, k: i64| op(a.0 / k as f64, a, "/", k));
    engine.register_fn("/", |a: Duration, k: f64| op(a.0 / k, a, "/", k));
    engine.register_fn("/", |a: Duration, b: Duration| -> Res<f64> {
        if b.0 == 0.0 {
            return Err(format!("`{a} / {b}` divides by a zero duration").into());
        }
        Ok(a.0 / b.0)
    });
}

fn register_duration_comparisons(engine: &mut Engine) {
    engine.register_fn("<", |a: Duration, b: Duration| a.0 < b.0);
    engine.register_fn("<=", |a: Duration, b: Duration| a.0 <= b.0);
    engine.register_fn(">", |a: Duration, b: Duration| a.0 > b.0);
    engine.register_fn(">=", |a: Duration, b: Duration| a.0 >= b.0);
    engine.register_fn("==", |a: Duration, b: Duration| a.0 == b.0);
    engine.register_fn("!=", |a: Duration, b: Duration| a.0 != b.0);
}

fn rate_op(per_s: f64, r: Rate, k: impl std::fmt::Display) -> Res<Rate> {
    Ok(Rate::checked(per_s, || format!("`{r} * {k}`"))?)
}

fn register_rate_arithmetic(engine: &mut Engine) {
    engine.register_fn("*", |r: Rate, k: i64| rate_op(r.0 * k as f64, r, k));
    engine.register_fn("*", |r: Rate, k: f64| rate_op(r.0 * k, r, k));
    engine.register_fn("*", |k: i64, r: Rate| rate_op(r.0 * k as f64, r, k));
    engine.register_fn("*", |k: f64, r: Rate| rate_op(r.0 * k, r, k));
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&fmt_duration(self.0))
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/s", sig3(self.0))
    }
}

fn register_printing(engine: &mut Engine) {
    engine.register_fn("to_string", |d: &mut Duration| d.to_string());
    engine.register_fn("to_debug", |d: &mut Duration| d.to_string());
    engine.register_fn("to_string", |r: &mut Rate| r.to_string());
    engine.register_fn("to_debug", |r: &mut Rate| r.to_string());
}
