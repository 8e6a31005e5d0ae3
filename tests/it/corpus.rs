//! The bad-input corpus: every way of getting a model or a command line wrong that we know of,
//! run through the real binary. Each case asserts the exit code (1 for a model or input error,
//! 2 for a usage error), that the message names the file and line where there is one, that it
//! says what is wrong in its key words, and that nothing panicked. The model cases run in both
//! error formats. Every file in `tests/fixtures/errors/` must have a case here.

use crate::cli::{arg, assert_exit, capsim, line_of, repo, stderr, stdout, tempdir};
use std::collections::BTreeSet;

const DIR: &str = "tests/fixtures/errors";

/// A bad model file and what `capsim check` must say about it.
struct Bad {
    /// The fixture, in [`DIR`].
    file: &'static str,
    /// The file the error is in, when it is not the fixture (an imported module).
    elsewhere: Option<&'static str>,
    /// A text on the line the error names, in that file; `None` for an error with no line
    /// (an unreadable file), which must still name the file.
    line_with: Option<&'static str>,
    /// Key words the message must contain.
    says: &'static [&'static str],
}

/// A case whose error is in the fixture, on the line containing `line_with`.
const fn at(file: &'static str, line_with: &'static str, says: &'static [&'static str]) -> Bad {
    Bad {
        file,
        elsewhere: None,
        line_with: Some(line_with),
        says,
    }
}

/// A case whose error is in another file, on the line containing `line_with`.
const fn at_in(
    file: &'static str,
    elsewhere: &'static str,
    line_with: &'static str,
    says: &'static [&'static str],
) -> Bad {
    Bad {
        file,
        elsewhere: Some(elsewhere),
        line_with: Some(line_with),
        says,
    }
}

/// A case whose error names the file but no line.
const fn unlocated(file: &'static str, says: &'static [&'static str]) -> Bad {
    Bad {
        file,
        elsewhere: None,
        line_with: None,
        says,
    }
}

/// Mistakes refused at the call that makes them, while the script runs.
const AT_THE_CALL: &[Bad] = &[
    at(
        "empty_stages.rhai",
        "stages: []",
        &[
            "`stages` is empty",
            "give at least one stage",
            "leave `stages` out for a steady-state run",
        ],
    ),
    at(
        "duration_beyond_the_maximum.rhai",
        "days(1e300)",
        &[
            "`days(1e300)` is not a valid duration",
            "at most 1e9 s (about 31.7 years)",
        ],
    ),
    at(
        "duration_sum_beyond_the_maximum.rhai",
        "+ sec(1)",
        &["not a valid duration (1000000001 s)", "at most 1e9 s"],
    ),
    at(
        "rate_beyond_the_maximum.rhai",
        "per_sec(2e9)",
        &["not a valid rate", "rates are at most 1e9 per second"],
    ),
    at(
        "rate_product_beyond_the_maximum.rhai",
        "base * 100",
        &["not a valid rate", "at most 1e9 per second"],
    ),
    at(
        "negative_rate.rhai",
        "per_hour(-1)",
        &["`per_hour(-1)` is not a valid rate", "finite and >= 0"],
    ),
    at(
        "nan_duration.rhai",
        "sqrt",
        &["`ms(NaN)` is not a valid duration", "finite and >= 0"],
    ),
    at(
        "infinite_duration.rhai",
        "1e308",
        &["`sec(inf)` is not a valid duration"],
    ),
    at(
        "negative_service_time.rhai",
        "ms(-5)",
        &["`ms(-5)` is not a valid duration (-5 ms)"],
    ),
    at(
        "users_beyond_the_maximum.rhai",
        "m.users(",
        &["`users` must be a whole number from 1 to 1000000 (got 9223372036854775807)"],
    ),
    at(
        "servers_at_the_unlimited_sentinel.rhai",
        "4294967295",
        &["`servers` must be a whole number from 1 to 1000000 (got 4294967295)"],
    ),
    at(
        "zero_servers.rhai",
        "servers: 0",
        &["`servers` must be a whole number from 1 to 1000000 (got 0)"],
    ),
    at(
        "negative_queue.rhai",
        "queue: -1",
        &["`queue` must be a whole number from 0 to 1000000000 (got -1)"],
    ),
    at(
        "instances_beyond_the_maximum.rhai",
        "1001",
        &["`instances` must be a whole number from 1 to 1000 (got 1001)"],
    ),
    at(
        "replicas_beyond_the_maximum.rhai",
        "5000",
        &["`replicas` must be a whole number from 0 to 1000 (got 5000)"],
    ),
    at(
        "retries_beyond_the_maximum.rhai",
        "retries: 1001",
        &["`retries` must be a whole number from 0 to 1000 (got 1001)"],
    ),
    at(
        "repeat_beyond_the_maximum.rhai",
        "repeat(",
        &["`times` must be a whole number from 0 to 1000000000 (got 1000000001)"],
    ),
    at(
        "max_in_flight_beyond_the_maximum.rhai",
        "max_in_flight",
        &["`max_in_flight` must be a whole number from 1 to 10000000"],
    ),
    at(
        "fractional_servers.rhai",
        "2.5",
        &["`servers` must be a whole number like 4, got f64"],
    ),
    at(
        "huge_float_count.rhai",
        "1e10",
        &["`connections` must be a whole number like 4, got f64"],
    ),
    at(
        "erlang_without_phases.rhai",
        "erlang(0",
        &["`erlang k` must be a whole number from 1 to 1000000 (got 0)"],
    ),
    at(
        "too_many_endpoints.rhai",
        "m.endpoint(",
        &["the model already has 1000 endpoints, the most supported"],
    ),
    at(
        "too_many_resources.rhai",
        "m.station(",
        &["the model already has 1000 resources, the most supported"],
    ),
    at(
        "too_many_steps.rhai",
        "m.endpoint(",
        &["would have 100200 steps", "at most 100000 are supported"],
    ),
    at(
        "too_many_scenarios.rhai",
        "m.scenario(",
        &["the model already has 100 scenarios, the most supported"],
    ),
    at(
        "steps_nested_too_deep.rhai",
        "branch(0.5, s)",
        &[
            "would nest steps 33 deep",
            "at most 32 levels are supported",
        ],
    ),
    at(
        "mixture_nested_too_deep.rhai",
        "mixture(",
        &["mixtures nest 33 deep; at most 32 are supported"],
    ),
    at(
        "copied_steps_beyond_the_budget.rhai",
        "all.push",
        &["the script builds more than 1000000 steps in all, copies included"],
    ),
    at(
        "name_too_long.rhai",
        "m.station(n)",
        &["`station name` is 65536 characters long; a name has at most 200"],
    ),
    at(
        "bare_number_for_a_duration.rhai",
        "service: 5",
        &[
            "`service` must be a distribution or a duration like ms(5), got i64",
            "units must be explicit",
        ],
    ),
    at(
        "wrong_type_for_a_choice.rhai",
        "mode: 1",
        &["`mode` must be a string, got i64"],
    ),
    at(
        "unknown_policy.rhai",
        "fastest",
        &[
            "unknown balancing policy `fastest`",
            "round_robin, least_conn, random, power_of_two",
        ],
    ),
    at(
        "unknown_option.rhai",
        "severs",
        &["unknown option `severs` for m.station; valid: servers, queue, service"],
    ),
    at(
        "unknown_endpoint_option.rhai",
        "timout",
        &["unknown option `timout` for m.endpoint; valid: timeout, retries, backoff, app"],
    ),
    at(
        "missing_required_option.rhai",
        "m.cache(",
        &["cache `redis`: `service` is required, e.g. service: ms(1)"],
    ),
    at(
        "missing_pool_size.rhai",
        "pool:",
        &["`size` is required, e.g. size: 10"],
    ),
    at(
        "upstream_by_name.rhai",
        "m.proxy(",
        &["`upstream` must be an app handle returned by m.app(…), got string"],
    ),
    at(
        "proxy_upstream_not_an_app.rhai",
        "m.proxy(",
        &["`upstream` must be an app handle", "got database handle"],
    ),
    at(
        "step_on_the_wrong_handle.rhai",
        "db.compute",
        &["`compute` is a method of app handles, but `db` is a database"],
    ),
    at(
        "call_on_a_non_external.rhai",
        "db.call()",
        &["`call` only works on an external handle"],
    ),
    at(
        "not_a_step_in_a_list.rhai",
        "ms(5)]",
        &["`steps[1]` must be a step", "got Duration"],
    ),
    at(
        "model_twice.rhai",
        "model(\"second\")",
        &["model(…) was already called at line 2: a script declares one model"],
    ),
    at(
        "label_with_a_slash.rhai",
        "page/count",
        &["the step label `page/count` contains `/` or `#`"],
    ),
    at(
        "reserved_label.rhai",
        "label(\"backoff\")",
        &["the step label `backoff` names one of the endpoint's own streams"],
    ),
    at(
        "hit_ratio_above_one.rhai",
        "1.5",
        &["`hit_ratio` is a probability and must lie in [0, 1] (got 1.5)"],
    ),
    at(
        "negative_hit_ratio.rhai",
        "-0.1",
        &["`hit_ratio` is a probability and must lie in [0, 1] (got -0.1)"],
    ),
    at(
        "nan_probability.rhai",
        "0.0 / 0.0",
        &["`branch probability` is a probability and must lie in [0, 1] (got NaN)"],
    ),
    at(
        "negative_weight.rhai",
        "-1",
        &["`weight` must be a finite number >= 0 (got -1)"],
    ),
    at(
        "zero_timeout.rhai",
        "timeout: ms(0)",
        &["`timeout` must be a finite number > 0 (got 0)"],
    ),
    at(
        "negative_stage_target.rhai",
        "ramp(-5",
        &["`ramp target` must be a finite number >= 0 (got -5)"],
    ),
    at(
        "percentile_not_reported.rhai",
        "p75: ms(100)",
        &["unknown option `p75` for m.slo; valid: p50, p90, p95, p99, p999"],
    ),
    at(
        "pareto_shape_one.rhai",
        "pareto(",
        &["pareto shape must be > 1 so the mean is finite (got 1)"],
    ),
    at(
        "empirical_empty.rhai",
        "empirical([])",
        &["empirical needs at least one value"],
    ),
    at(
        "mixture_weights_zero.rhai",
        "mixture(",
        &["mixture weights must be finite, >= 0 and sum to more than 0"],
    ),
    at(
        "mixture_weights_infinite.rhai",
        "1e308",
        &["mixture weights must be finite"],
    ),
    at(
        "gamma_mean_beyond_the_maximum.rhai",
        "gamma(",
        &[
            "gamma(shape 1e300, scale 1 s) has a mean of 1.00e300 s",
            "at most 1e9 s",
        ],
    ),
    at(
        "weibull_mean_overflows.rhai",
        "weibull(",
        &["weibull(shape 0.001, scale 1 s) has a mean of inf s"],
    ),
    at(
        "lognormal_p95_below_p50.rhai",
        "lognormal_p(",
        &["lognormal from percentiles needs p95 > p50"],
    ),
    at(
        "normal_mean_zero.rhai",
        "normal(",
        &[
            "normal with mean 0 s is mostly negative",
            "use a positive mean",
        ],
    ),
    at(
        "uniform_reversed.rhai",
        "uniform(",
        &["uniform needs low <= high"],
    ),
    at(
        "misspelt_function.rhai",
        "exponentail",
        &["no function `exponentail (Duration)`"],
    ),
    at(
        "thrown_error.rhai",
        "throw \"",
        &["the plan is not finished"],
    ),
    at(
        "import_escape.rhai",
        "import",
        &["import `../../etc/passwd` is outside the allowed folders"],
    ),
    at(
        "import_absolute_path.rhai",
        "import",
        &["import `/etc/passwd` is outside the allowed folders"],
    ),
    at(
        "import_missing_module.rhai",
        "import",
        &["import `no_such_module`: no no_such_module.rhai in the allowed folders"],
    ),
    at_in(
        "import_cycle.rhai",
        "tests/fixtures/errors/modules/cycle_b.rhai",
        "import",
        &[
            "import `modules/cycle_a` is a cycle",
            "tests/fixtures/errors/modules/cycle_b.rhai imports tests/fixtures/errors/modules/cycle_a.rhai",
            "which is still being loaded",
        ],
    ),
    at_in(
        "bad_argument_to_module.rhai",
        "scripts/loadtests.rhai",
        "the ramp rate must be > 0 users per second",
        &["the ramp rate must be > 0 users per second (got 0)"],
    ),
    at(
        "load_profile_peak_below_average.rhai",
        "m.load_profile(",
        &["load profile: the levels must satisfy weekly_peak >= daily_peak >= average"],
    ),
    at(
        "load_profile_with_23_hours.rhai",
        "m.load_profile(",
        &["`hourly` must have 24 multipliers", "got 23"],
    ),
    at(
        "growth_curve_not_one_today.rhai",
        "m.growth(",
        &["growth hypothesis `custom`: the curve must give 1 at month 0"],
    ),
    at(
        "growth_curve_that_throws.rhai",
        "throw",
        &["no forecast beyond month 6"],
    ),
    at(
        "growth_horizon_beyond_the_maximum.rhai",
        "m.growth(",
        &["`horizon` must be a whole number from 1 to 120 (got 600)"],
    ),
    at(
        "growth_beyond_a_millionfold.rhai",
        "m.growth(",
        &[
            "at month 8 the load multiplier would be 1679616",
            "at most 1000000",
        ],
    ),
    at(
        "too_many_growth_hypotheses.rhai",
        "m.growth(",
        &["already has 20 growth hypotheses"],
    ),
    at(
        "event_duration_bare_number.rhai",
        "m.event(",
        &[
            "event `campaign`: `duration` must be a duration",
            "use ms(…) or sec(…)",
        ],
    ),
    at(
        "event_month_beyond_the_maximum.rhai",
        "m.event(",
        &["`month` must be a whole number from 0 to 120 (got 240)"],
    ),
    at(
        "too_many_events.rhai",
        "m.event(",
        &["already has 100 events"],
    ),
    at(
        "response_bytes_bare_number.rhai",
        "response_bytes",
        &[
            "`response_bytes` must be a size like kb(35)",
            "use kb(…), mb(…) or gb(…)",
        ],
    ),
    at(
        "size_beyond_the_maximum.rhai",
        "tb(2000000)",
        &["`tb(2000000)` is not a valid size", "at most 1e15 bytes"],
    ),
    at(
        "too_many_variants.rhai",
        "m.variant(",
        &["already has 100 variants"],
    ),
    at(
        "variant_error_inside_its_closure.rhai",
        "replicas: 5000",
        &[
            "variant `many replicas`: database `db`: `replicas` must be a whole number from 0 to 1000",
        ],
    ),
    at(
        "change_outside_a_variant.rhai",
        "m.change(",
        &["call it inside m.variant(name, |m| { … })"],
    ),
    at(
        "variant_changes_the_base_model.rhai",
        "base.settings",
        &["variant `more`: the base model is finished"],
    ),
    at(
        "unknown_effort.rhai",
        "XL",
        &["unknown effort `XL`; expected one of: S, M, L"],
    ),
    at(
        "service_factor_zero.rhai",
        "service_factor",
        &["variant `instant`: database `db`: service factor must be a finite number > 0"],
    ),
];

/// Mistakes only the whole model shows, found by validation after the script has run.
const IN_VALIDATION: &[Bad] = &[
    at(
        "endpoint_without_steps.rhai",
        "GET /health",
        &["endpoint `GET /health`: has no steps: give it at least one step"],
    ),
    at(
        "scenario_longer_than_the_maximum.rhai",
        "m.scenario(",
        &["scenario `forever`: lasts 38 years in all", "at most 1e9 s"],
    ),
    at(
        "scenario_shorter_than_the_minimum.rhai",
        "m.scenario(",
        &[
            "scenario `blink`: lasts 5e-324 s in all",
            "a run lasts at least 1e-9 s (1 ns)",
        ],
    ),
    at(
        "default_duration_below_the_minimum.rhai",
        "model(",
        &["default duration must be at least 1e-9 s (1 ns) (got 5e-324 s)"],
    ),
    at(
        "interarrival_mean_zero.rhai",
        "m.arrivals(",
        &["the inter-arrival time must have a mean > 0"],
    ),
    at(
        "interarrival_too_short.rhai",
        "m.arrivals(",
        &[
            "arrivals come at 10000000000 per second",
            "at most 1e9 per second",
        ],
    ),
    at(
        "too_many_instances_over_all_apps.rhai",
        "model(",
        &["has 1200 app instances over all apps; at most 1000 are supported"],
    ),
    at(
        "nested_repeats_that_never_end.rhai",
        "m.endpoint(",
        &[
            "one request may run 10000000000 steps",
            "lower the repeat counts",
        ],
    ),
    at(
        "closed_level_beyond_the_maximum.rhai",
        "m.scenario(",
        &["stage 1 asks for 2000000 users; at most 1000000 are supported"],
    ),
    at(
        "open_level_beyond_the_maximum.rhai",
        "m.scenario(",
        &["stage 1 asks for 2000000000 arrivals per second"],
    ),
    at(
        "too_many_user_changes.rhai",
        "m.scenario(",
        &["start and stop users 20000000 times; at most 10000000"],
    ),
    at(
        "empirical_used_too_often.rhai",
        "model(",
        &["20000200 parts over all their uses", "at most 10000000"],
    ),
    at(
        "no_workload.rhai",
        "model(",
        &["model `no workload`: has no workload; declare m.users(n, think) or m.arrivals(rate)"],
    ),
    at(
        "no_endpoint.rhai",
        "model(",
        &["model `no endpoint`: declares no endpoint"],
    ),
    at(
        "zero_weights.rhai",
        "GET /a",
        &["endpoint weights sum to zero"],
    ),
    at(
        "duplicate_resource.rhai",
        "let other",
        &["station `server`: another resource already has this name (first declared at line 3)"],
    ),
    at(
        "duplicate_endpoint.rhai",
        "m.endpoint(\"job\", 2",
        &["endpoint `job`: declared twice (first declared at line 4)"],
    ),
    at(
        "duplicate_label.rhai",
        "ms(3)",
        &[
            "endpoint `GET /item`: the label `query` is given to two of its steps (first declared at line 6)",
        ],
    ),
    at(
        "duplicate_scenario.rhai",
        "minutes(10)",
        &["scenario `peak`: declared twice (first declared at line 6)"],
    ),
    at(
        "duplicate_across_files.rhai",
        "let db",
        &["first declared at tests/fixtures/errors/modules/declares_db.rhai:3:7"],
    ),
    at(
        "slo_on_unknown_endpoint.rhai",
        "GET /nothing",
        &["endpoint `GET /nothing` does not exist (endpoints: `GET /item`)"],
    ),
    at(
        "on_start_unknown_endpoint.rhai",
        "on_start",
        &["on_start endpoint `POST /login` does not exist"],
    ),
    at(
        "app_with_two_proxies.rhai",
        "let b",
        &["proxy `b`: app `api` already has a proxy in front of it"],
    ),
    at(
        "visit_without_service_time.rhai",
        "m.endpoint(",
        &["visits station `disk`, which has no service time"],
    ),
    at(
        "stages_and_duration.rhai",
        "m.scenario(",
        &["gives both stages and a duration"],
    ),
    at(
        "warmup_longer_than_run.rhai",
        "m.scenario(",
        &["warm-up of 100 s leaves nothing of its 10 s to report"],
    ),
    at(
        "load_profile_in_rates_for_users.rhai",
        "m.load_profile(",
        &["load profile: is in req/s, but the workload is closed"],
    ),
    at(
        "duplicate_event.rhai",
        "month: 8",
        &["event `campaign`: declared twice (first declared at line 7)"],
    ),
    at(
        "variant_breaks_a_rule.rhai",
        "m.slo(",
        &["variant `cached`: SLO for `GET /cached`: endpoint `GET /cached` does not exist"],
    ),
    at(
        "duplicate_variant.rhai",
        "replicas: 2",
        &["variant `replica`: declared twice (first declared at line 7)"],
    ),
];

/// Files that are not scripts, scripts that are not models, and scripts the sandbox stops.
const FILES_AND_SANDBOX: &[Bad] = &[
    unlocated("no_such_model.rhai", &["cannot read", "No such file"]),
    unlocated("a_directory.rhai", &["cannot read", "Is a directory"]),
    unlocated("not_utf8.rhai", &["not UTF-8 text"]),
    unlocated("empty_file.rhai", &["the script never calls model(name)"]),
    unlocated("no_model.rhai", &["the script never calls model(name)"]),
    at(
        "syntax_error.rhai",
        "let server",
        &["Expecting ';' to terminate this statement"],
    ),
    at(
        "typo_in_variable.rhai",
        "sever.visit",
        &["Undefined variable: sever"],
    ),
    at(
        "endless_loop.rhai",
        "loop",
        &["too many operations", "is there an endless loop?"],
    ),
    at(
        "variant_that_never_ends.rhai",
        "m.variant(",
        &[
            "variant `spin`: too many operations",
            "is there an endless loop?",
        ],
    ),
    at(
        "endless_recursion.rhai",
        "deeper(0)",
        &["function calls nest more than 64 deep: is there an endless recursion?"],
    ),
    at(
        "huge_string.rhai",
        "s += s",
        &["a string has at most 65536 bytes"],
    ),
    at(
        "huge_array.rhai",
        "a.pad(",
        &["a list has at most 1000000 elements"],
    ),
    at(
        "deep_expression.rhai",
        "let x",
        &["expressions nest too deep: at most 64 levels"],
    ),
];

/// Asserts that no panic (nor Rust's own report of one) reached the user.
fn assert_no_panic(what: &str, err: &str) {
    for sign in ["panicked", "RUST_BACKTRACE", "stack overflow"] {
        assert!(!err.contains(sign), "{what}: {sign}:\n{err}");
    }
}

/// Runs `capsim check` on a case in both error formats and asserts everything it promises.
fn assert_refused(case: &Bad) {
    let model = format!("{DIR}/{}", case.file);
    let file = case.elsewhere.map_or(model.clone(), str::to_string);
    let at = case
        .line_with
        .map(|t| format!("{file}:{}:", line_of(&file, t)));
    for format in ["short", "human"] {
        let o = capsim(["--error-format", format, "check", &model]);
        let what = format!("{} ({format})", case.file);
        assert_exit(&o, 1);
        let err = stderr(&o);
        assert_no_panic(&what, &err);
        assert_eq!(stdout(&o), "", "{what}: nothing on stdout");
        match (&at, format) {
            (Some(at), "short") => assert!(
                err.starts_with(at.as_str()),
                "{what}: starts with `{at}`:\n{err}"
            ),
            (Some(at), _) => assert!(err.contains(at.as_str()), "{what}: names `{at}`:\n{err}"),
            (None, _) => assert!(err.contains(&file), "{what}: names {file}:\n{err}"),
        }
        for key in case.says {
            assert!(err.contains(key), "{what}: says `{key}`:\n{err}");
        }
    }
}

#[test]
fn mistakes_are_refused_at_the_call_that_makes_them() {
    AT_THE_CALL.iter().for_each(assert_refused);
}

#[test]
fn mistakes_of_the_whole_model_are_refused_by_validation_at_the_item_at_fault() {
    IN_VALIDATION.iter().for_each(assert_refused);
}

#[test]
fn unreadable_files_non_models_and_runaway_scripts_are_refused_without_a_panic() {
    FILES_AND_SANDBOX.iter().for_each(assert_refused);
}

#[test]
fn every_fixture_of_the_errors_folder_has_a_case_and_the_corpus_has_at_least_60() {
    let cases: BTreeSet<&str> = [AT_THE_CALL, IN_VALIDATION, FILES_AND_SANDBOX]
        .iter()
        .flat_map(|t| t.iter().map(|c| c.file))
        .collect();
    let dir = repo().join(DIR);
    let fixtures: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("the fixtures folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".rhai"))
        .collect();
    let missing: Vec<&String> = fixtures
        .iter()
        .filter(|f| !cases.contains(f.as_str()))
        .collect();
    assert!(missing.is_empty(), "fixtures without a case: {missing:?}");
    let total = cases.len() + USAGE.len();
    assert!(total >= 60, "the corpus has {total} cases");
}

#[test]
fn run_refuses_a_bad_model_as_check_does_and_writes_nothing() {
    for file in [
        "endpoint_without_steps.rhai",
        "empty_stages.rhai",
        "duration_beyond_the_maximum.rhai",
        "no_workload.rhai",
    ] {
        let tmp = tempdir();
        let out = tmp.path().join("out");
        let model = format!("{DIR}/{file}");
        let o = capsim([
            "--error-format",
            "short",
            "run",
            &model,
            "--replications",
            "2",
            "-q",
            "-o",
            arg(&out),
        ]);
        assert_exit(&o, 1);
        let err = stderr(&o);
        assert_no_panic(file, &err);
        assert!(err.starts_with(&format!("{model}:")), "{file}:\n{err}");
        assert!(!out.exists(), "{file}: nothing written");
    }
}

/// A command line, its exit code and the key words of its message.
struct Usage {
    args: &'static [&'static str],
    exit: i32,
    says: &'static [&'static str],
}

const fn usage(args: &'static [&'static str], says: &'static [&'static str]) -> Usage {
    Usage {
        args,
        exit: 2,
        says,
    }
}

/// Command lines for `capsim run models/mm1.rhai -q -o <tmp> ARGS` unless they start with a
/// command of their own.
const USAGE: &[Usage] = &[
    usage(
        &["--replications", "-1"],
        &["--replications must be a whole number from 1 to 10000 (got -1)"],
    ),
    usage(
        &["--replications", "0"],
        &["--replications must be a whole number from 1 to 10000 (got 0)"],
    ),
    usage(
        &["--replications", "10001"],
        &["from 1 to 10000 (got 10001)"],
    ),
    usage(
        &["--replications", "2.5"],
        &["--replications must be a whole number from 1 to 10000 (got 2.5)"],
    ),
    usage(&["--replications", "nan"], &["(got nan)"]),
    usage(
        &["--seed", "-5"],
        &["--seed must be a whole number from 0 to 18446744073709551615 (got -5)"],
    ),
    usage(
        &["--seed", "18446744073709551616"],
        &["--seed must be a whole number from 0 to"],
    ),
    usage(
        &["--precision", "-1"],
        &["--precision must lie in (0, 1)", "(got -1)"],
    ),
    usage(
        &["--precision", "2"],
        &["--precision must lie in (0, 1)", "(got 2)"],
    ),
    usage(
        &["--precision", "nan"],
        &["--precision must lie in (0, 1)", "(got nan)"],
    ),
    usage(&["--precision", "inf"], &["--precision must lie in (0, 1)"]),
    usage(
        &["--duration", "-5"],
        &[
            "--duration must be a number of seconds from 1e-9 s (1 ns) to 1e9 s",
            "(got -5)",
        ],
    ),
    usage(
        &["--duration", "inf"],
        &["--duration must be a number of seconds", "(got inf)"],
    ),
    usage(&["--duration", "-inf"], &["(got -inf)"]),
    // Found by the fuzzing harness: its warm-up windows were 0 s wide, and memory ran out.
    usage(
        &["--duration", "5e-324"],
        &["from 1e-9 s (1 ns) to 1e9 s", "(got 5e-324)"],
    ),
    usage(&["--duration", "NaN"], &["(got NaN)"]),
    usage(
        &["--duration", "1e10"],
        &["to 1e9 s (about 31.7 years) (got 1e10)"],
    ),
    usage(
        &["--threads", "-2"],
        &["--threads must be a whole number from 1 to 256 (got -2)"],
    ),
    usage(
        &["--threads", "257"],
        &["--threads must be a whole number from 1 to 256 (got 257)"],
    ),
    usage(
        &["--max-replications", "-3"],
        &["--max-replications must be a whole number from 2 to 10000 (got -3)"],
    ),
    usage(
        &["--max-replications", "20000"],
        &["from 2 to 10000 (got 20000)"],
    ),
    usage(
        &[
            "--replications",
            "2",
            "--shard",
            "auto",
            "--shard-count",
            "-1",
        ],
        &["--shard-count must be a whole number from 1 to 10000 (got -1)"],
    ),
    usage(
        &["--replications", "2", "--shard", "0/3"],
        &["`0/3` is not a shard"],
    ),
    usage(
        &["--replications", "2", "--shard", "-1/3"],
        &["`-1/3` is not a shard"],
    ),
    usage(
        &["--replications", "2", "--shard", "3/2"],
        &["`3/2` is not a shard"],
    ),
    usage(
        &["--replications", "2", "--shard", "3/5"],
        &["5 shards of 2 replication(s) leave", "use at most 2 shards"],
    ),
    usage(
        &["--replications", "2", "--shard", "1/5"],
        &["leave shard 1 empty; use at most 2 shards"],
    ),
    usage(&["--shard", "1/2"], &["--replications <N>"]),
    usage(
        &["--replications", "2", "--precision", "0.1"],
        &["'--replications <N>' cannot be used with '--precision <P>'"],
    ),
    usage(
        &["--quick", "--replications", "2"],
        &["'--quick' cannot be used with '--replications <N>'"],
    ),
    usage(
        &["--replications", "2", "--scenario", "nope"],
        &["no scenario named `nope`; the model has: `steady state`"],
    ),
    usage(&["--bogus"], &["unexpected argument '--bogus'"]),
    usage(
        &["check"],
        &["required arguments were not provided", "<MODEL>"],
    ),
    usage(
        &["merge"],
        &["required arguments were not provided", "<PARTS>"],
    ),
    usage(&["frobnicate"], &["unrecognized subcommand 'frobnicate'"]),
    usage(
        &["--error-format", "weird", "check", "models/mm1.rhai"],
        &["invalid value 'weird'", "human, short"],
    ),
    Usage {
        args: &["merge", "tests/fixtures/small.rhai"],
        exit: 1,
        says: &["tests/fixtures/small.rhai: not a capsim partial result"],
    },
    Usage {
        args: &["merge", "tests/fixtures/no_such_part.json"],
        exit: 1,
        says: &["cannot read tests/fixtures/no_such_part.json"],
    },
];

/// The commands a usage case may start with; anything else is an option of `capsim run`.
const COMMANDS: [&str; 5] = ["check", "merge", "run", "frobnicate", "--error-format"];

#[test]
fn command_line_mistakes_exit_with_their_code_and_say_the_real_reason() {
    for case in USAGE {
        let tmp = tempdir();
        let out = tmp.path().join("out");
        let mut args: Vec<&str> = Vec::new();
        if !COMMANDS.contains(&case.args[0]) {
            args.extend(["run", "models/mm1.rhai", "-q", "-o", arg(&out)]);
        }
        args.extend(case.args);
        let o = capsim(&args);
        let what = format!("{:?}", case.args);
        assert_exit(&o, case.exit);
        let err = stderr(&o);
        assert_no_panic(&what, &err);
        for key in case.says {
            assert!(err.contains(key), "{what}: says `{key}`:\n{err}");
        }
        let expected = case.says.iter().any(|k| k.contains("unexpected argument"));
        assert!(
            expected || !err.contains("unexpected argument"),
            "{what}: a number taken for a flag:\n{err}"
        );
        assert!(
            !out.exists(),
            "{what}: nothing written after a refused command"
        );
    }
}

/// Found by the `shard_env` fuzz target: `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN` and
/// `MAX - MIN + 1` overflowed (a panic, exit 101, in a build with overflow checks).
#[test]
fn extreme_slurm_variables_are_a_usage_error_not_an_overflow() {
    let cases: [(&[(&str, &str)], &str); 2] = [
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "5127308593342709540"),
                ("SLURM_ARRAY_TASK_MIN", "-7115969826819932211"),
            ],
            "shard index 12243278420162641751 is outside 0..2",
        ),
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "0"),
                ("SLURM_ARRAY_TASK_MIN", "-9223372036854775808"),
                ("SLURM_ARRAY_TASK_MAX", "9223372036854775807"),
            ],
            "the Slurm array is not contiguous",
        ),
    ];
    for (env, says) in cases {
        let tmp = tempdir();
        let out = tmp.path().join("out");
        let args = ["run", "models/mm1.rhai", "-q", "--replications", "2"];
        let o = assert_cmd::cargo::cargo_bin_cmd!("capsim")
            .current_dir(repo())
            .env("NO_COLOR", "1")
            .env_remove("JOB_COMPLETION_INDEX")
            .envs(env.iter().copied())
            .args(args)
            .args(["--shard", "auto", "--shard-count", "2", "-o", arg(&out)])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("capsim starts");
        assert_exit(&o, 2);
        let err = stderr(&o);
        assert_no_panic(says, &err);
        assert!(err.contains(says), "says `{says}`:\n{err}");
    }
}

const WARNS: &str = "tests/fixtures/warnings/step_longer_than_the_run.rhai";

/// The warning both commands print for [`WARNS`].
const WARNING: &str = "endpoint `GET /stuck`: a `delay` step's mean of 31.7 years exceeds scenario `minute`'s run of 60 s: its requests will not finish within the run";

#[test]
fn a_step_longer_than_the_run_is_a_warning_in_both_formats_that_keeps_exit_code_0() {
    let at = format!("{WARNS}:{}:", line_of(WARNS, "GET /stuck"));
    let short = capsim(["--error-format", "short", "check", WARNS]);
    assert_exit(&short, 0);
    assert_eq!(stderr(&short), format!("{at}3: warning: {WARNING}\n"));
    let human = capsim(["check", WARNS]);
    assert_exit(&human, 0);
    let err = stderr(&human);
    assert!(
        err.contains(WARNING) && err.contains(&at) && err.contains('⚠'),
        "{err}"
    );
    let json = capsim(["check", "--json", WARNS]);
    assert_exit(&json, 0);
    serde_json::from_slice::<serde_json::Value>(&json.stdout)
        .expect("stdout stays one JSON document");
}

#[test]
fn run_prints_the_warning_before_simulating_and_still_succeeds() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let o = capsim([
        "--error-format",
        "short",
        "run",
        WARNS,
        "--replications",
        "2",
        "-q",
        "-o",
        arg(&out),
    ]);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(&format!("warning: {WARNING}")),
        "{}",
        stderr(&o)
    );
    assert!(
        out.join("results.json").is_file(),
        "the run wrote its results"
    );
}
