//! Formatting of physical quantities for people: durations in the unit a reader expects.

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
}
