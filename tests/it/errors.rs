//! Bad input gets a clear error, never a panic: exit code 1 and a message naming the file, the
//! line and the problem, in both error formats. One fixture per mistake, in
//! `tests/fixtures/errors/`; `capsim check` loads and validates exactly as `capsim run` does.

use crate::cli::{assert_exit, capsim, line_of, stderr};
use std::time::{Duration, Instant};

const DIR: &str = "tests/fixtures/errors";

/// Runs `capsim check` on `model` in both error formats and asserts that each exits 1, names
/// `file` (where the error is; usually the model) at `line`, and says `message`. Returns the
/// short and the human renderings.
fn assert_reported_at(model: &str, file: &str, line: u32, message: &str) -> (String, String) {
    let at = format!("{file}:{line}:");

    let short = capsim(["--error-format", "short", "check", model]);
    assert_exit(&short, 1);
    let short = stderr(&short);
    assert!(!short.contains("panicked"), "{short}");
    assert!(
        short.starts_with(&at),
        "the short format starts with `{at}`:\n{short}"
    );
    assert!(short.contains(": error: "), "{short}");
    assert!(
        short.contains(message),
        "the short format says `{message}`:\n{short}"
    );

    let human = capsim(["check", model]);
    assert_exit(&human, 1);
    let human = stderr(&human);
    assert!(!human.contains("panicked"), "{human}");
    assert!(
        human.contains(&at),
        "the human format names `{at}`:\n{human}"
    );
    assert!(
        human.contains(message),
        "the human format says `{message}`:\n{human}"
    );
    (short, human)
}

/// [`assert_reported_at`] for an error in the fixture `name` itself.
fn assert_reported(name: &str, line: u32, message: &str) -> (String, String) {
    let path = format!("{DIR}/{name}");
    assert_reported_at(&path, &path, line, message)
}

#[test]
fn a_typo_in_a_variable_name_is_a_compile_error_at_its_line_and_column() {
    let (short, human) = assert_reported("typo_in_variable.rhai", 4, "Undefined variable: sever");
    assert!(
        short.starts_with(&format!("{DIR}/typo_in_variable.rhai:4:23: error: ")),
        "{short}"
    );
    // The human format quotes the line and puts the caret under the typo.
    let lines: Vec<&str> = human.lines().collect();
    let quoted = lines
        .iter()
        .position(|l| l.ends_with("m.endpoint(\"job\", 1, [sever.visit()]);"))
        .unwrap_or_else(|| panic!("the line is quoted:\n{human}"));
    let column = |l: &str, pat: &str| l.find(pat).map(|b| l[..b].chars().count());
    assert_eq!(
        column(lines[quoted + 1], "┬"),
        column(lines[quoted], "sever"),
        "the caret points at `sever`:\n{human}"
    );
}

#[test]
fn a_misspelt_function_is_named_with_its_arguments() {
    assert_reported(
        "misspelt_function.rhai",
        4,
        "no function `exponentail (Duration)`: check the name and the arguments",
    );
}

#[test]
fn a_negative_service_time_is_refused_where_it_is_written() {
    assert_reported(
        "negative_service_time.rhai",
        4,
        "`ms(-5)` is not a valid duration (-5 ms): durations must be finite and >= 0",
    );
}

#[test]
fn a_negative_service_time_is_shown_with_its_source_line() {
    let o = capsim(["check", "tests/fixtures/errors/negative_service_time.rhai"]);
    assert_exit(&o, 1);
    insta::assert_snapshot!(stderr(&o), @r#"
      × `ms(-5)` is not a valid duration (-5 ms): durations must be finite and >= 0
       ╭─[tests/fixtures/errors/negative_service_time.rhai:4:48]
     3 │ let server = m.station("server", #{ service: ms(5) });
     4 │ m.endpoint("job", 1, [server.visit(exponential(ms(-5)))]);
       ·                                                ┬
       ·                                                ╰── here
     5 │ m.arrivals(per_sec(1));
       ╰────
    "#);
}

#[test]
fn a_hit_ratio_above_one_is_refused() {
    assert_reported(
        "hit_ratio_above_one.rhai",
        5,
        "cache `redis`: `hit_ratio` is a probability and must lie in [0, 1] (got 1.5)",
    );
}

#[test]
fn a_station_with_zero_servers_is_refused() {
    assert_reported(
        "zero_servers.rhai",
        3,
        "station `server`: `servers` must be a whole number from 1 to 1000000 (got 0)",
    );
}

#[test]
fn a_lognormal_with_its_p95_below_its_median_is_refused() {
    assert_reported(
        "lognormal_p95_below_p50.rhai",
        4,
        "lognormal from percentiles needs p95 > p50",
    );
}

#[test]
fn an_unknown_option_lists_the_valid_ones() {
    assert_reported(
        "unknown_option.rhai",
        3,
        "unknown option `severs` for m.station; valid: servers, queue, service",
    );
}

#[test]

fn endpoint_weights_summing_to_zero_are_reported_at_an_endpoint() {
    assert_reported("zero_weights.rhai", 4, "endpoint weights sum to zero");
}

#[test]
fn an_objective_for_an_unknown_endpoint_is_reported_at_the_objective() {
    let (_, human) = assert_reported(
        "slo_on_unknown_endpoint.rhai",
        6,
        "endpoint `GET /nothing` does not exist (endpoints: `GET /item`)",
    );
    insta::assert_snapshot!(human, @r#"
      × SLO for `GET /nothing`: endpoint `GET /nothing` does not exist (endpoints: `GET /item`)
       ╭─[tests/fixtures/errors/slo_on_unknown_endpoint.rhai:6:3]
     5 │ m.arrivals(per_sec(1));
     6 │ m.slo("GET /nothing", #{ p95: ms(100) });
       ·   ┬
       ·   ╰── declared here
       ╰────
    "#);
}

#[test]

fn an_on_start_naming_no_endpoint_is_reported_at_the_workload() {
    assert_reported(
        "on_start_unknown_endpoint.rhai",
        5,
        "on_start endpoint `POST /login` does not exist",
    );
}

#[test]
fn an_import_leaving_the_allowed_folders_is_refused() {
    assert_reported(
        "import_escape.rhai",
        2,
        "import `../../etc/passwd` is outside the allowed folders",
    );
}

#[test]
fn an_endless_loop_stops_with_too_many_operations() {
    let start = Instant::now();
    assert_reported("endless_loop.rhai", 7, "too many operations");
    // Two runs (both formats) of ~2 s each with the `ci` profile; far longer means the
    // operation limit no longer stops the script.
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "the endless loop took {took:?} to stop"
    );
}

#[test]
fn an_error_inside_an_imported_module_is_reported_in_the_module() {
    let module = "scripts/loadtests.rhai";
    let line = line_of(module, "the ramp rate must be > 0 users per second");
    assert_reported_at(
        &format!("{DIR}/bad_argument_to_module.rhai"),
        module,
        line,
        "load_test \"normal\": the ramp rate must be > 0 users per second (got 0)",
    );
}

#[test]

fn a_warmup_longer_than_its_scenario_is_refused() {
    assert_reported("warmup_longer_than_run.rhai", 6, "scenario `short`");
}

#[test]
fn a_missing_model_file_is_named() {
    let model = format!("{DIR}/no_such_model.rhai");
    for format in ["human", "short"] {
        for command in ["check", "run"] {
            let o = capsim(["--error-format", format, command, &model]);
            assert_exit(&o, 1);
            let err = stderr(&o);
            assert!(!err.contains("panicked"), "{err}");
            assert!(
                err.contains(&model),
                "{format} {command} names the path:\n{err}"
            );
            assert!(err.contains("cannot read"), "{format} {command}:\n{err}");
        }
    }
}
