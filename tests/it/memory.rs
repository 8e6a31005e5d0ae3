//! Bounded memory: a run's peak resident memory does not grow with its simulated duration or
//! its replication count, and an overloaded open workload stays within its cap on requests in
//! flight. Measured by the real binary, which reports its peak RSS (`VmHWM`) under `--timing`.

use crate::cli::{assert_exit, capsim, stderr, stdout};
use std::path::Path;

/// Asserts that a bigger run's peak RSS did not grow beyond the base run's by more than 10 %
/// (the issue's bound), plus 2 MB for the allocator's granularity on a process of a few tens of
/// MB. (It may come out lower: where a growing queue's vector reallocates differs.)
fn assert_same_peak(what: &str, base: f64, other: f64) {
    assert!(
        other - base <= 0.10 * base + 2.0,
        "{what}: peak RSS {other:.1} MB against {base:.1} MB"
    );
}

/// Runs `capsim run MODEL ARGS --timing` on one thread (with several, the peak depends on which
/// replications happen to run at the same moment) into a temporary folder; returns the peak RSS
/// (MB) and the summary.
fn peak(model: &str, args: &[&str]) -> (f64, String) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut all = vec![
        "run",
        model,
        "--only",
        "loadtests",
        "--timing",
        "-q",
        "--threads",
        "1",
    ];
    all.push("-o");
    all.push(out.to_str().unwrap());
    all.extend(args);
    let o = capsim(&all);
    assert_exit(&o, 0);
    let err = stderr(&o);
    let mb = err
        .lines()
        .find_map(|l| l.strip_prefix("memory: peak_rss_mb="))
        .unwrap_or_else(|| panic!("no memory line in:\n{err}"));
    if mb == "n/a" || !Path::new("/proc/self/status").exists() {
        return (f64::NAN, stdout(&o));
    }
    (mb.parse().unwrap(), stdout(&o))
}

#[test]
fn peak_memory_does_not_grow_with_duration_or_replications() {
    let model = "models/mm1.rhai";
    let (base, _) = peak(model, &["--replications", "4", "--duration", "20000"]);
    if base.is_nan() {
        return; // no /proc: nothing to measure on this platform
    }
    let (longer, _) = peak(model, &["--replications", "4", "--duration", "200000"]);
    let (more, _) = peak(model, &["--replications", "40", "--duration", "20000"]);
    eprintln!(
        "peak RSS: base {base:.1} MB, 10x duration {longer:.1} MB, 10x replications {more:.1} MB"
    );
    assert_same_peak("10x the duration", base, longer);
    assert_same_peak("10x the replications", base, more);
}

/// An open workload at utilization 1.5 (1.5 arrivals/s on one server of mean 1 s) for a long
/// horizon: the queue grows by 0.5/s until the cap of 100 000 requests in the system, after
/// which arrivals are refused. Twice the horizon past the cap needs no more memory, and the
/// summary says the scenario saturated.
#[test]
fn an_overloaded_open_workload_is_capped_and_reported_saturated() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("overload.rhai");
    std::fs::write(
        &model,
        r#"
let m = model("overload");
let q = m.station("q", #{ servers: 1, service: exponential(sec(1)) });
m.endpoint("job", 1, [q.visit()]);
m.arrivals(per_sec(1.5));
m.slo(#{ p95: sec(10) });
m.scenario("overload", #{ duration: days(3), warmup: "none" });
"#,
    )
    .unwrap();
    let model = model.to_str().unwrap();
    // The cap (100 000) is reached after about 200 000 s = 2.3 days.
    let (base, summary) = peak(model, &["--replications", "2"]);
    assert!(
        summary.contains("saturated") && summary.contains("100000"),
        "{summary}"
    );
    let (longer, summary) = peak(model, &["--replications", "2", "--duration", "518400"]);
    assert!(summary.contains("saturated"), "{summary}");
    eprintln!("overload peak RSS: 3 days {base:.1} MB, 6 days {longer:.1} MB");
    if !base.is_nan() {
        assert_same_peak("twice the overloaded horizon", base, longer);
    }
}
