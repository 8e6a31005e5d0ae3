//! How numbers read, in every message and document: durations in the unit a reader expects,
//! percentages, rates, and a figure with its confidence interval. One module, so that the
//! terminal summary, the CSV comments, the error messages and the documents to come (the plan,
//! in more than one language) say a number the same way.

use crate::stats::ci::Upper;
use crate::stats::{Estimate, Unit};

/// Seconds in a Julian year (365.25 days), the unit of durations longer than two years.
const YEAR_S: f64 = 365.25 * 86_400.0;

/// Formats a duration given in seconds with a unit that keeps 3 significant figures readable:
/// `850 µs`, `12.3 ms`, `4.20 s`, `30 min`, `2 h`, `5 d`, `31.7 years`; beyond a million
/// years (only ever in an error message) in seconds with an exponent, `8.64e304 s`.
pub fn fmt_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return format!("{seconds} s");
    }
    if seconds.abs() >= 1e6 * YEAR_S {
        return format!("{seconds:.2e} s");
    }
    let a = seconds.abs();
    if a == 0.0 {
        "0 s".to_string()
    } else if a < 1e-3 {
        format!("{} µs", sig3(seconds * 1e6))
    } else if a < 1.0 {
        format!("{} ms", sig3(seconds * 1e3))
    } else if a < 120.0 {
        format!("{} s", sig3(seconds))
    } else if a < 7200.0 {
        format!("{} min", sig3(seconds / 60.0))
    } else if a < 3.0 * 86400.0 {
        format!("{} h", sig3(seconds / 3600.0))
    } else if a < 2.0 * YEAR_S {
        format!("{} d", sig3(seconds / 86400.0))
    } else {
        format!("{} years", sig3(seconds / YEAR_S))
    }
}

/// Formats a size in bytes with decimal units and 3 significant figures: `512 B`, `35 kB`,
/// `1.5 MB`, `2.4 GB`, `1.2 TB`.
pub fn fmt_bytes(bytes: f64) -> String {
    let units = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    for (size, unit) in units {
        if bytes.abs() >= size {
            return format!("{} {unit}", sig3(bytes / size));
        }
    }
    format!("{} B", sig3(bytes))
}

/// Formats a bit rate given in bits per second with decimal units and 3 significant figures,
/// as network links are sold: `512 bps`, `35 kbps`, `4.1 Mbps`, `1.2 Gbps`.
pub fn fmt_bit_rate(bits_per_s: f64) -> String {
    let units = [(1e12, "Tbps"), (1e9, "Gbps"), (1e6, "Mbps"), (1e3, "kbps")];
    for (size, unit) in units {
        if bits_per_s.abs() >= size {
            return format!("{} {unit}", sig3(bits_per_s / size));
        }
    }
    format!("{} bps", sig3(bits_per_s))
}

/// A signed relative change as a percentage with one decimal: `-41.3%`, `+2.0%`.
pub fn signed_pct1(x: f64) -> String {
    format!("{}{:.1}%", if x >= 0.0 { "+" } else { "" }, 100.0 * x)
}

/// Formats a parameter as typed, with an exponent when it is very large or very small
/// (`1e300`, not three hundred digits).
pub fn plain_number(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Formats a number with 3 significant figures, without a trailing `.0`.
pub fn sig3(x: f64) -> String {
    let a = x.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A duration in ms, readable and without a space (`200ms`, `1.5s`), as k6 writes thresholds.
pub fn fmt_ms(ms: f64) -> String {
    fmt_duration(ms / 1e3).replace(' ', "")
}

/// A ratio as a percentage without trailing zeros (`0.1%`), as a target is written.
pub fn fmt_pct(r: f64) -> String {
    let s = format!("{:.4}", r * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A value in its unit, for messages: `200ms`, `0.1%`, `3.14`.
pub fn value(x: f64, unit: Unit) -> String {
    match unit {
        Unit::Ms => fmt_ms(x),
        Unit::Ratio => fmt_pct(x),
        _ => sig3(x),
    }
}

/// A measured value in its unit, as a table shows it: `148ms`, `16.6%` (see [`percent`]),
/// `0.940` (a score), `3.14`.
pub fn measured(x: f64, unit: Unit) -> String {
    display(x, unit).0
}

/// A figure with its interval: `148ms ±6ms` (symmetric within a quarter: the wider side),
/// `148ms +12/−6ms` (asymmetric),
/// `148ms +≥52/−6ms` (the upper limit lies beyond the largest value observed), `> 4min`
/// (unfinished requests leave it unbounded: only a lower bound is known), `0.32% ±0.05%`.
pub fn estimate(e: &Estimate, unit: Unit) -> String {
    if !e.mean.is_finite() {
        return "-".to_string();
    }
    let (shown, scale, suffix) = display(e.mean, unit);
    if e.upper == Upper::Unbounded {
        return format!("> {shown}");
    }
    if e.n < 2 {
        return shown;
    }
    let (below, above) = (e.mean - e.ci_low, e.ci_high - e.mean);
    if e.upper == Upper::Limit && above == 0.0 && below == 0.0 {
        return shown; // no spread observed
    }
    let d = |x: f64| sig2(x / scale);
    if e.upper == Upper::Limit && (above - below).abs() <= 0.25 * above.max(below) {
        return format!("{shown} ±{}{suffix}", d(above.max(below)));
    }
    let at_least = if e.upper == Upper::AtLeastMax {
        "≥"
    } else {
        ""
    };
    format!("{shown} +{at_least}{}/−{}{suffix}", d(above), d(below))
}

/// A width with 2 significant figures (an interval's width is known to no better).
pub fn sig2(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let decimals = (1 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A value as shown, and the scale and unit its interval's widths are given in.
fn display(x: f64, unit: Unit) -> (String, f64, &'static str) {
    match unit {
        Unit::Ms => {
            let shown = fmt_ms(x);
            let (suffix, scale) = ["µs", "ms", "s", "min", "h", "d"]
                .iter()
                .zip([1e-3, 1.0, 1e3, 6e4, 3.6e6, 8.64e7])
                .find(|(u, _)| {
                    shown.ends_with(*u) && shown.trim_end_matches(*u).parse::<f64>().is_ok()
                })
                .map_or(("ms", 1.0), |(u, k)| (*u, k));
            (shown, scale, suffix)
        }
        Unit::Ratio => (percent(x), 0.01, "%"),
        Unit::Score => (format!("{x:.3}"), 1.0, ""),
        _ => (sig3(x), 1.0, ""),
    }
}

/// A measured ratio as a percentage with 3 significant digits, more near 100 % so that an
/// availability of 99.95 % does not read as 100 %.
pub fn percent(x: f64) -> String {
    let p = 100.0 * x;
    if p > 99.0 && p < 100.0 {
        let s = format!("{p:.4}");
        return format!("{}%", s.trim_end_matches('0').trim_end_matches('.'));
    }
    format!("{}%", sig3(p))
}

/// A ratio as a percentage with one decimal (`96.0%`), for utilizations in a column.
pub fn percent1(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A rate per second, `0` when nothing happened.
pub fn rate(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{}/s", sig3(x))
    }
}

/// `m:ss` (or `h:mm:ss`) since the start of a run.
pub fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(fmt_duration(0.000_85), "850 µs");
        assert_eq!(fmt_duration(0.0123), "12.3 ms");
        assert_eq!(fmt_duration(0.2), "200 ms");
        assert_eq!(fmt_duration(4.2), "4.2 s");
        assert_eq!(fmt_duration(1800.0), "30 min");
        assert_eq!(fmt_duration(7200.0), "2 h");
        assert_eq!(fmt_duration(10.0 * 86400.0), "10 d");
        assert_eq!(fmt_duration(1e9), "31.7 years");
        assert_eq!(fmt_duration(8.64e304), "8.64e304 s");
    }

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(fmt_bytes(512.0), "512 B");
        assert_eq!(fmt_bytes(35_000.0), "35 kB");
        assert_eq!(fmt_bytes(1.5e9), "1.5 GB");
        assert_eq!(fmt_bytes(2e12), "2 TB");
    }

    #[test]
    fn bit_rates_use_decimal_units() {
        assert_eq!(fmt_bit_rate(512.0), "512 bps");
        assert_eq!(fmt_bit_rate(4.1e6), "4.1 Mbps");
        assert_eq!(fmt_bit_rate(1.25e9), "1.25 Gbps");
        assert_eq!(signed_pct1(-0.413), "-41.3%");
        assert_eq!(signed_pct1(0.02), "+2.0%");
    }

    #[test]
    fn thresholds_read_like_k6() {
        assert_eq!(fmt_ms(200.0), "200ms");
        assert_eq!(fmt_pct(0.001), "0.1%");
        assert_eq!(fmt_pct(0.999), "99.9%");
    }

    #[test]
    fn values_carry_their_interval() {
        let e = Estimate::new(148.0, 142.0, 154.0, 8);
        assert_eq!(estimate(&e, Unit::Ms), "148ms ±6ms");
        let s = Estimate::new(14_900.0, 14_490.0, 15_310.0, 8);
        assert_eq!(estimate(&s, Unit::Ms), "14.9s ±0.41s");
        assert_eq!(
            estimate(&Estimate::new(0.0, 0.0, 0.0, 8), Unit::Ratio),
            "0%"
        );
        let r = Estimate::new(0.0032, 0.0027, 0.0037, 8);
        assert_eq!(estimate(&r, Unit::Ratio), "0.32% ±0.05%");
        let skew = Estimate::new(148.0, 142.0, 160.0, 8);
        assert_eq!(estimate(&skew, Unit::Ms), "148ms +12/−6ms");
        let open = Estimate {
            upper: Upper::AtLeastMax,
            ..Estimate::new(148.0, 142.0, 200.0, 3)
        };
        assert_eq!(estimate(&open, Unit::Ms), "148ms +≥52/−6ms");
        let unbounded = Estimate {
            upper: Upper::Unbounded,
            ..Estimate::new(240_000.0, 230_000.0, f64::NAN, 3)
        };
        assert_eq!(estimate(&unbounded, Unit::Ms), "> 4min");
        assert_eq!(percent(0.165_951), "16.6%");
        assert_eq!(percent(0.999_5), "99.95%");
    }
}
