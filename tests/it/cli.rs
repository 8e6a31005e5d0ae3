//! The `capsim` command line as a user runs it: the real binary on the shipped models and on the
//! fixtures in `tests/fixtures/`, judged by its exit codes, the text it prints and the files it
//! writes. Its helpers are shared with the other modules (`errors.rs`, `models.rs`, `partials.rs`).

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tempfile::TempDir;

/// The files every run writes into its output folder.
pub(crate) const FILES: [&str; 3] = ["summary.csv", "timeseries.csv", "results.json"];

/// Longest a command may take before the test fails, a guard against a hang: the slowest here
/// run ebook's whole study at 2 replications a cell (about 110 cells, 60 s of CPU; twice that
/// on a machine shared with the rest of the suite).
const TIMEOUT: Duration = Duration::from_secs(300);

/// A small closed model with a staged and a steady-state scenario: a run of a few replications
/// takes well under a second.
const SMALL: &str = "tests/fixtures/small.rhai";

/// The repository root: commands run from it, so model paths read as in the docs.
pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `capsim ARGS` from the repository root, without colour.
pub(crate) fn capsim<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    cargo_bin_cmd!("capsim")
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .expect("capsim starts")
}

/// The 1-based number of the first line of `file` (under the repository) containing `text`,
/// outside comments (each error fixture opens with one saying what is wrong).
pub(crate) fn line_of(file: &str, text: &str) -> u32 {
    let source = std::fs::read_to_string(repo().join(file)).expect("a readable file");
    let index = source
        .lines()
        .position(|l| !l.trim_start().starts_with("//") && l.contains(text))
        .unwrap_or_else(|| panic!("no `{text}` in {file}"));
    u32::try_from(index + 1).expect("a line number")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, showing everything the command printed when it differs.
pub(crate) fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// A path as a command-line argument (temporary folders have UTF-8 names).
pub(crate) fn arg(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

pub(crate) fn tempdir() -> TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the summary block under `header` (`objectives`, `endpoints`, `resources`) of
/// the first scenario, up to the next blank line.
fn block<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    let mut lines = text.lines();
    lines
        .by_ref()
        .find(|l| l.trim_start().starts_with(header))
        .unwrap_or_else(|| panic!("no `{header}` block in:\n{text}"));
    lines.take_while(|l| !l.trim().is_empty()).collect()
}

/// An objective row without its `✓ ` (pass), `✗ ` (fail) or `? ` (inconclusive) mark; `None`
/// when it has none.
fn objective(row: &str) -> Option<&str> {
    let row = row.trim_start();
    row.strip_prefix("✓ ")
        .or_else(|| row.strip_prefix("✗ "))
        .or_else(|| row.strip_prefix("? "))
}

/// The line under an objective that says why it failed or could not be decided.
fn verdict_reason(row: &str) -> bool {
    let row = row.trim_start();
    row.starts_with("fail: ") || row.starts_with("inconclusive: ")
}

/// True when one row of a summary block names `name` exactly (`name ....... figures`).
fn lists(rows: &[&str], name: &str) -> bool {
    let row = format!("{name} .");
    rows.iter().any(|l| l.trim_start().starts_with(&row))
}

/// Every path under `dir` whose file name contains `.tmp-` (a temporary output file).
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains(".tmp-"))
        {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(temporaries(&path));
        }
    }
    found
}

/// Runs SMALL with `--replications reps --seed seed` and `extra` into `out`; asserts exit 0.
pub(crate) fn run_small(out: &Path, reps: u32, seed: u64, extra: &[&str]) -> Output {
    let (reps, seed) = (reps.to_string(), seed.to_string());
    // The load tests only: a study cannot be sharded (see the README), so the unsharded run
    // a merge is compared with runs none.
    let mut args = vec!["run", SMALL, "--replications", &reps, "--seed", &seed];
    args.extend(["--only", "loadtests", "-q", "-o", arg(out)]);
    args.extend(extra);
    let o = capsim(&args);
    assert_exit(&o, 0);
    o
}

/// Asserts that the three output files of two folders are byte-identical.
pub(crate) fn assert_same_outputs(a: &Path, b: &Path) {
    for f in FILES {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The terminal summary without its `wrote <path>` lines.
fn summary_text(o: &Output) -> String {
    let text = stdout(o);
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("wrote ")).collect();
    kept.join("\n")
}

// ----- capsim run --------------------------------------------------------------------------------

#[test]
fn run_prints_a_k6_style_summary_and_writes_the_three_files() {
    let tmp = tempdir();
    let out = tmp.path().join("ebook");
    let o = capsim([
        "run",
        "models/ebook.rhai",
        "--scenario",
        "normal",
        "--replications",
        "2",
        "--seed",
        "7",
        "-o",
        arg(&out),
    ]);
    assert_exit(&o, 0);
    let text = stdout(&o);

    let objectives = block(&text, "objectives");
    let marked: Vec<&str> = objectives.iter().filter_map(|l| objective(l)).collect();
    let reasons = objectives.iter().filter(|l| verdict_reason(l)).count();
    assert_eq!(
        marked.len() + reasons,
        objectives.len(),
        "every objective is marked ✓, ✗ or ?, with its reason under it:\n{text}"
    );
    assert!(
        marked.iter().any(|o| o.starts_with("p(95) < 200ms ")),
        "the global p95 objective:\n{text}"
    );
    assert!(
        marked
            .iter()
            .any(|o| o.starts_with("GET /api/releases: p(95) < 200ms ")),
        "the per-endpoint p95 objective:\n{text}"
    );

    let endpoints = block(&text, "endpoints");
    for task in [
        "GET /api/dashboard/stats",
        "GET /api/releases",
        "GET /api/rules",
        "POST /api/wizard/create",
    ] {
        assert!(lists(&endpoints, task), "endpoint `{task}` in:\n{text}");
    }
    let resources = block(&text, "resources");
    for name in ["nginx", "flask[1] cpu", "mysql primary", "redis"] {
        assert!(lists(&resources, name), "resource `{name}` in:\n{text}");
    }

    for f in FILES {
        let path = out.join(f);
        assert!(path.is_file(), "{} was written", path.display());
        assert!(
            text.contains(&format!("wrote {}", path.display())),
            "the run says it wrote {f}:\n{text}"
        );
    }
    let json = read_json(&out.join("results.json"));
    assert_eq!(json["model"]["name"], "eBook Scene Packer v2");
    assert_eq!(json["run"]["seed"], 7);
    assert_eq!(json["run"]["replications"]["n"], 2);
    assert_eq!(json["scenarios"][0]["name"], "normal");
    assert_eq!(json["scenarios"].as_array().map(Vec::len), Some(1));
}

#[test]
fn run_exits_1_on_a_model_error_and_writes_nothing() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let model = "tests/fixtures/errors/zero_servers.rhai";
    let o = capsim(["run", model, "--replications", "2", "-q", "-o", arg(&out)]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("`servers` must be a whole number from 1 to 1000000"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "no output folder after a model error");
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--replications", "2", "--bogus"],
            "unexpected argument '--bogus'",
        ),
        (&["--precision", "2"], "--precision must lie in (0, 1)"),
        (
            &["--replications", "2", "--shard", "3/2"],
            "`3/2` is not a shard",
        ),
        (&["--shard", "1/2"], "--replications <N>"),
    ];
    for (extra, message) in cases {
        let tmp = tempdir();
        let out = tmp.path().join("out");
        let mut args = vec!["run", "models/mm1.rhai", "-q", "-o", arg(&out)];
        args.extend(extra);
        let o = capsim(&args);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(message), "{extra:?}: {}", stderr(&o));
        assert!(
            !out.exists(),
            "{extra:?}: nothing written after a usage error"
        );
    }
}

#[test]
fn fail_on_slo_exits_99_when_an_objective_is_missed() {
    let tmp = tempdir();
    let model = "tests/fixtures/unmeetable_slo.rhai";
    let args = |out: &Path| -> Vec<String> {
        let base = ["run", model, "--replications", "2", "-q", "-o", arg(out)];
        base.iter().map(|s| s.to_string()).collect()
    };

    let plain = capsim(args(&tmp.path().join("plain")));
    assert_exit(&plain, 0);
    assert!(
        stdout(&plain).contains("✗ p(95) < 10ms "),
        "{}",
        stdout(&plain)
    );

    let strict_out = tmp.path().join("strict");
    let mut strict = args(&strict_out);
    strict.push("--fail-on-slo".into());
    let strict = capsim(strict);
    assert_exit(&strict, 99);
    assert!(
        stdout(&strict).contains("✗ p(95) < 10ms "),
        "{}",
        stdout(&strict)
    );
    for f in FILES {
        assert!(
            strict_out.join(f).is_file(),
            "{f} is written even when objectives fail"
        );
    }
}

#[test]
fn fail_on_slo_exits_0_when_every_objective_is_met() {
    let tmp = tempdir();
    let o = run_small(&tmp.path().join("out"), 2, 1, &["--fail-on-slo"]);
    assert!(stdout(&o).contains("✓ p(95) < 500ms "), "{}", stdout(&o));
    assert!(!stdout(&o).contains('✗'), "{}", stdout(&o));
}

// ----- capsim check ------------------------------------------------------------------------------

#[test]
fn check_flags_a_saturated_model() {
    let o = capsim(["check", "models/saturated.rhai"]);
    assert_exit(&o, 1);
    let text = stdout(&o);
    let worker = text
        .lines()
        .find(|l| l.trim_start().starts_with("worker ") && l.contains("120.0%"))
        .unwrap_or_else(|| panic!("no `worker ... 120.0%` row in:\n{text}"));
    assert!(worker.contains("no steady state"), "{worker}");
    assert!(
        stderr(&o).contains("overload load a resource at or above 100 %"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_accepts_a_stable_model() {
    let o = capsim(["check", "models/mm1.rhai"]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).starts_with("model `M/M/1`: valid\n"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("90.0%"),
        "the server at rho = 0.9:\n{}",
        stdout(&o)
    );
    assert_eq!(stderr(&o), "");
}

#[test]
fn check_json_prints_the_model_as_json() {
    let o = capsim(["check", "--json", "models/mm1.rhai"]);
    assert_exit(&o, 0);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}):\n{}", stdout(&o)));
    assert_eq!(doc["model"]["name"], "M/M/1");
    assert_eq!(doc["capacity"][0]["bottleneck"], "server");
}

// ----- determinism -------------------------------------------------------------------------------

#[test]
fn the_same_seed_gives_byte_identical_outputs_on_one_and_two_threads() {
    let tmp = tempdir();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    run_small(&one, 4, 11, &["--threads", "1"]);
    run_small(&two, 4, 11, &["--threads", "2"]);
    assert_same_outputs(&one, &two);
}

#[test]
fn another_seed_gives_other_results() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_small(&a, 4, 11, &["--threads", "2"]);
    run_small(&b, 4, 12, &["--threads", "2"]);
    let json = |d: &Path| read(&d.join("results.json"));
    assert!(
        json(&a) != json(&b),
        "seeds 11 and 12 gave identical results.json"
    );
}

// ----- writing the outputs -----------------------------------------------------------------------

#[test]
fn an_output_path_that_is_a_file_fails_naming_it_and_leaves_no_temporary_file() {
    let tmp = tempdir();
    let out = tmp.path().join("not-a-folder");
    std::fs::write(&out, "keep me").expect("a file");
    let o = capsim(["run", SMALL, "--replications", "2", "-q", "-o", arg(&out)]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains(&format!("cannot write {}", out.display())),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(&out), b"keep me");
    assert_eq!(temporaries(tmp.path()), Vec::<PathBuf>::new());
}

#[test]

fn a_failed_write_leaves_none_of_the_new_files() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("results.json")).expect("a folder in the way");
    let o = capsim(["run", SMALL, "--replications", "2", "-q", "-o", arg(&out)]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("results.json"), "{}", stderr(&o));
    assert_eq!(temporaries(tmp.path()), Vec::<PathBuf>::new());
    for f in ["summary.csv", "timeseries.csv"] {
        assert!(
            !out.join(f).exists(),
            "{f} was written although results.json was not"
        );
    }
}

#[test]

fn a_closed_stdout_neither_panics_nor_loses_the_outputs() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let o = std::process::Command::new(cargo_bin!("capsim"))
        .current_dir(repo())
        .args(["run", SMALL, "--replications", "2", "-q", "-o", arg(&out)])
        .stdout(writer)
        .output()
        .expect("capsim starts");
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_ne!(o.status.code(), Some(101), "{}", stderr(&o));
    for f in FILES {
        assert!(
            out.join(f).is_file(),
            "{f} is written whatever happens to stdout"
        );
    }
}

// ----- help and error formats --------------------------------------------------------------------

#[test]
fn every_command_help_shows_examples() {
    for command in ["run", "check", "merge"] {
        let o = capsim([command, "--help"]);
        assert_exit(&o, 0);
        let example = format!("\nExamples:\n  capsim {command} ");
        assert!(
            stdout(&o).contains(&example),
            "{command} --help:\n{}",
            stdout(&o)
        );
    }
}

#[test]
fn error_format_short_prints_file_line_column_error() {
    let model = "tests/fixtures/errors/negative_service_time.rhai";
    let o = capsim(["--error-format", "short", "check", model]);
    assert_exit(&o, 1);
    assert_eq!(
        stderr(&o),
        format!(
            "{model}:4:48: error: `ms(-5)` is not a valid duration (-5 ms): durations must be finite and >= 0\n"
        )
    );
    assert_eq!(stdout(&o), "");
}

// ----- sharding ----------------------------------------------------------------------------------

/// Runs shard `k` of `n` of a 7-replication run of SMALL into `parts`; returns its file.
pub(crate) fn shard(parts: &Path, k: u32, n: u32) -> PathBuf {
    let spec = format!("{k}/{n}");
    let o = run_small(parts, 7, 3, &["--shard", &spec]);
    let file = parts.join(format!("partial-{k}-of-{n}.json"));
    assert!(
        stderr(&o).contains(&format!("wrote {}", file.display())),
        "{}",
        stderr(&o)
    );
    file
}

/// `capsim merge PARTS -o out`.
pub(crate) fn merge(parts: &[&PathBuf], out: &Path) -> Output {
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(parts.iter().map(|p| arg(p)));
    args.extend(["-o", arg(out)]);
    capsim(&args)
}

#[test]
fn three_shards_merged_in_any_order_equal_the_unsharded_run() {
    let tmp = tempdir();
    let (full, parts, merged) = (
        tmp.path().join("full"),
        tmp.path().join("parts"),
        tmp.path().join("merged"),
    );
    let whole = run_small(&full, 7, 3, &[]);
    let p: Vec<PathBuf> = (1..=3).map(|k| shard(&parts, k, 3)).collect();
    let o = merge(&[&p[1], &p[2], &p[0]], &merged);
    assert_exit(&o, 0);
    assert_same_outputs(&full, &merged);
    assert_eq!(summary_text(&o), summary_text(&whole));
}

#[test]
fn seven_shards_merged_in_reverse_order_equal_the_unsharded_run() {
    let tmp = tempdir();
    let (full, parts, merged) = (
        tmp.path().join("full"),
        tmp.path().join("parts"),
        tmp.path().join("merged"),
    );
    run_small(&full, 7, 3, &[]);
    let p: Vec<PathBuf> = (1..=7).rev().map(|k| shard(&parts, k, 7)).collect();
    let o = merge(&p.iter().collect::<Vec<_>>(), &merged);
    assert_exit(&o, 0);
    assert_same_outputs(&full, &merged);
}

#[test]
fn one_two_and_seven_shards_merge_to_the_bytes_of_the_unsharded_run() {
    let tmp = tempdir();
    let full = tmp.path().join("full");
    run_small(&full, 7, 3, &[]);
    for (n, order) in [
        (1, vec![1]),
        (2, vec![2, 1]),
        (7, vec![4, 1, 7, 2, 6, 3, 5]),
    ] {
        let parts = tmp.path().join(format!("parts-{n}"));
        let merged = tmp.path().join(format!("merged-{n}"));
        let p: Vec<PathBuf> = order.iter().map(|&k| shard(&parts, k, n)).collect();
        let o = merge(&p.iter().collect::<Vec<_>>(), &merged);
        assert_exit(&o, 0);
        assert_same_outputs(&full, &merged);
    }
}

#[test]
fn merge_refuses_a_set_with_a_missing_shard() {
    let tmp = tempdir();
    let (parts, merged) = (tmp.path().join("parts"), tmp.path().join("merged"));
    let p: Vec<PathBuf> = (1..=3).map(|k| shard(&parts, k, 3)).collect();
    let o = merge(&[&p[0], &p[2]], &merged);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("a shard is missing"), "{}", stderr(&o));
    assert!(!merged.exists(), "nothing written by a refused merge");
}

#[test]
fn merge_refuses_a_duplicated_shard() {
    let tmp = tempdir();
    let (parts, merged) = (tmp.path().join("parts"), tmp.path().join("merged"));
    let p: Vec<PathBuf> = (1..=3).map(|k| shard(&parts, k, 3)).collect();
    let o = merge(&[&p[0], &p[1], &p[1], &p[2]], &merged);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("appears in more than one part"),
        "{}",
        stderr(&o)
    );
    assert!(!merged.exists(), "nothing written by a refused merge");
}
