//! Tests of what a model declares for capacity studies: byte sizes and data volume, the load
//! profile and target, growth hypotheses, events and what-if variants, end to end from script
//! text to model value or error.

use super::tests::{eval, fails, load, ok, project};
use super::*;
use crate::model::*;
use rhai::Dynamic;
use std::path::PathBuf;

/// A small model with data volumes; the scripts of the tests add lines after it.
const BASE: &str = "let m = model(\"x\");
let api = m.app(\"api\", #{ workers: 4 });
let db = m.database(\"db\", #{ connections: 3, data_size: mb(2) });
let redis = m.cache(\"redis\", #{ service: ms(1) });
m.endpoint(\"GET /\", 3, [api.compute(ms(5)), redis.get(0.5, [db.read(ms(2))])], #{ response_bytes: kb(10) });
m.endpoint(\"POST /\", 1, [api.compute(ms(5)), db.write(ms(2), #{ bytes: kb(4) }).times(2)], #{ response_bytes: kb(2) });
m.users(10, sec(1));
";

/// The line of the first line a test adds to [`BASE`].
const NEXT: u32 = 8;

fn with(extra: &str) -> Model {
    ok(&format!("{BASE}{extra}"))
}

fn fails_with(extra: &str) -> (u32, u32, String) {
    fails(&format!("{BASE}{extra}"))
}

fn checked(extra: &str) -> Checked {
    validate(with(extra)).unwrap_or_else(|e| panic!("{e}"))
}

fn invalid(extra: &str) -> Vec<ModelError> {
    match validate(with(extra)) {
        Ok(_) => panic!("valid: {extra}"),
        Err(e) => e.0,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

// ---- sizes and data volume ------------------------------------------------------------------

#[test]
fn sizes_are_decimal_and_print_readably() {
    assert_eq!(eval::<f64>("kb(35).bytes").unwrap(), 35_000.0);
    assert_eq!(eval::<f64>("(gb(1.5) * 2).bytes").unwrap(), 3e9);
    assert_eq!(
        eval::<String>("(mb(1) + kb(500)).to_string()").unwrap(),
        "1.5 MB"
    );
    assert_eq!(eval::<String>("`${kb(8) / 3}`").unwrap(), "2.67 kB");
    assert!(eval::<bool>("kb(1) < mb(1) && gb(1) == mb(1000)").unwrap());
    let err = eval::<Dynamic>("kb(-1)").unwrap_err();
    assert!(err.contains("`kb(-1)` is not a valid size"), "{err}");
    let err = eval::<Dynamic>("tb(2000)").unwrap_err();
    assert!(err.contains("at most 1e15 bytes"), "{err}");
}

#[test]
fn a_bare_number_for_a_size_asks_for_a_unit() {
    let (line, column, message) =
        fails_with("m.endpoint(\"GET /x\", 1, [api.compute(ms(1))], #{ response_bytes: 35 });");
    assert_eq!((line, column), (NEXT, 3));
    assert!(message.contains("use kb(…), mb(…) or gb(…)"), "{message}");
}

#[test]
fn bandwidth_writes_and_database_size_match_a_hand_computation() {
    let c = checked("");
    // Mix 3:1. Responses: 0.75 x 10 kB + 0.25 x 2 kB = 8 kB a request; writes: 0.25 x 2 x 4 kB
    // = 2 kB a request; the read in the cache miss writes nothing.
    assert_eq!(c.model.response_bytes("GET /"), Some(10_000.0));
    assert_eq!(c.model.bytes_written_per_request("POST /"), Some(8_000.0));
    assert_eq!(c.model.bytes_written_per_request("GET /"), Some(0.0));
    assert_eq!(c.response_bits_per_s(10.0), Some(8.0 * 10.0 * 8_000.0));
    assert_eq!(c.bytes_written_per_s(10.0, Some("db")), 20_000.0);
    // Two months at 10 then 20 requests per second: 2 kB x 30 x 2 629 800 s on top of 2 MB.
    let after = c.database_size_after("db", &[10.0, 20.0]).unwrap();
    assert!(close(after, 2e6 + 2_000.0 * 30.0 * 2_629_800.0), "{after}");
    assert_eq!(c.database_size_after("redis", &[10.0]), None);
}

#[test]
fn bytes_go_on_writes_only() {
    let (_, _, message) = fails_with("let r = db.read(ms(1), #{ bytes: kb(1) });");
    assert!(message.contains("no function"), "{message}");
}

// ---- load profile and target ----------------------------------------------------------------

#[test]
fn a_profile_given_as_levels_or_as_a_shape_is_stored_with_its_levels() {
    let m = with(
        "m.load_profile(#{ average: 40, daily_peak: 100, weekly_peak: 130, monthly_trend: 0.04 });",
    );
    let mut want = LoadProfile::new(LoadUnit::Users, 40.0, 100.0, 130.0, 0.04).unwrap();
    want.origin = m.load_profile.as_ref().unwrap().origin.clone();
    assert_eq!(m.load_profile, Some(want));
    let m = with(
        "let h = []; h.pad(24, 0.5); h[14] = 2.0;\nm.load_profile(#{ base: 50, hourly: h, daily: [1, 1, 1, 1, 1.4, 0.3, 0.3] });",
    );
    let p = m.load_profile.unwrap();
    assert!(close(p.weekly_peak, 50.0 * 2.0 * 1.4), "{p:?}");
    assert_eq!(p.monthly_trend, 0.0);
    assert_eq!(p.shape.unwrap().hourly.len(), 24);
    assert_eq!(p.origin.unwrap().line, NEXT + 1);
}

#[test]
fn an_open_workloads_profile_is_in_rates() {
    let src = "let m = model(\"open\");\nlet s = m.station(\"s\", #{ service: ms(1) });\nm.endpoint(\"e\", 1, [s.visit()]);\nm.arrivals(per_sec(10));\nm.load_profile(#{ average: per_sec(5), daily_peak: per_sec(10), weekly_peak: per_min(900) });\nm.load_target(#{ peak: per_sec(50) });";
    let c = validate(ok(src)).unwrap();
    let p = c.model.load_profile.unwrap();
    assert_eq!((p.unit, p.weekly_peak), (LoadUnit::RequestsPerSecond, 15.0));
    assert_eq!(c.model.load_target.unwrap().peak, 50.0);
}

#[test]
fn a_profile_in_the_wrong_unit_for_the_workload_is_refused_by_validation() {
    let errors = invalid(
        "m.load_profile(#{ average: per_sec(4), daily_peak: per_sec(10), weekly_peak: per_sec(13) });",
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].item, "load profile");
    assert!(
        errors[0].message.contains("the workload is closed"),
        "{errors:?}"
    );
    assert_eq!(errors[0].origin.as_ref().unwrap().line, NEXT);
}

#[test]
fn malformed_profiles_are_refused_at_the_call() {
    let cases = [
        (
            "m.load_profile(#{ average: 40, daily_peak: per_sec(1), weekly_peak: 130 });",
            "mixes users and rates",
        ),
        (
            "m.load_profile(#{ average: 140, daily_peak: 100, weekly_peak: 130 });",
            "weekly_peak >= daily_peak >= average",
        ),
        (
            "m.load_profile(#{ base: 1, hourly: [1, 1], daily: [1, 1, 1, 1, 1, 1, 1] });",
            "`hourly` must have 24 multipliers",
        ),
        (
            "m.load_profile(#{ average: 1, daily_peak: 1 });",
            "`weekly_peak` is required",
        ),
        (
            "m.load_profile(#{ base: 1, average: 1, hourly: [], daily: [] });",
            "`average` does not go with a shape",
        ),
        (
            "m.load_profile(#{ average: 1, daily_peak: 1, weekly_peak: 1, monthly_trend: -1 });",
            "must be > -1",
        ),
        (
            "m.load_target(#{ peak: 500, by_month: 121 });",
            "`by_month` must be a whole number from 0 to 120",
        ),
    ];
    for (line, says) in cases {
        let (at, column, message) = fails_with(line);
        assert_eq!((at, column), (NEXT, 3), "{line}");
        assert!(message.contains(says), "{line}: {message}");
        assert!(message.starts_with("load "), "{line}: {message}");
    }
}

#[test]
fn a_second_profile_names_the_first() {
    let p = "m.load_profile(#{ average: 1, daily_peak: 1, weekly_peak: 1 });\n";
    let (line, _, message) = fails_with(&format!("{p}{p}"));
    assert_eq!(line, NEXT + 1);
    assert!(
        message.contains(&format!("already called at line {NEXT}")),
        "{message}"
    );
}

// ---- growth hypotheses ----------------------------------------------------------------------

#[test]
fn hypotheses_store_their_multipliers_per_month() {
    let m = with(
        "m.growth(\"optimistic\", #{ users: 0.08, traffic_per_user: 0.02 });\nlet k = 0.5;\nm.growth(\"custom\", #{ curve: |month| 1.0 + k * month, horizon: 4 });",
    );
    let g = m.growth_hypothesis("optimistic").unwrap();
    assert_eq!((g.horizon_months, g.months.len()), (12, 13));
    assert!(close(
        g.load(12).unwrap(),
        1.08_f64.powi(12) * 1.02_f64.powi(12)
    ));
    let c = m.growth_hypothesis("custom").unwrap();
    assert_eq!(c.rule, GrowthRule::Curve);
    let loads: Vec<f64> = (0..=4).map(|i| c.load(i).unwrap()).collect();
    assert_eq!(loads, [1.0, 1.5, 2.0, 2.5, 3.0]);
    assert_eq!(c.origin.as_ref().unwrap().line, NEXT + 2);
}

#[test]
fn an_error_inside_a_curve_points_into_the_curve() {
    let (line, _, message) = fails_with(
        "m.growth(\"c\", #{ horizon: 3, curve: |month| {\n    if month == 2 { throw \"no data for month 2\"; }\n    1.0\n} });",
    );
    assert_eq!(line, NEXT + 1);
    assert_eq!(message, "no data for month 2");
}

#[test]
fn a_curve_starts_at_today_and_returns_numbers() {
    let cases = [
        (
            "m.growth(\"c\", #{ curve: |month| 2.0 });",
            "must give 1 at month 0",
        ),
        (
            "m.growth(\"c\", #{ curve: |month| \"x\" });",
            "at month 0 it returned string",
        ),
        (
            "m.growth(\"c\", #{ curve: 3 });",
            "`curve` must be a function like |month|",
        ),
        (
            "m.growth(\"c\", #{ curve: |a, b| 1.0 });",
            "a closure could not be called with (i64)",
        ),
        (
            "m.growth(\"c\", #{ users: 0.1, curve: |m| 1.0 });",
            "`users` does not go with a `curve`",
        ),
        ("m.growth(\"c\", #{ horizon: 12 });", "give monthly growths"),
        (
            "m.growth(\"c\", #{ users: 0.1, horizon: 121 });",
            "`horizon` must be a whole number from 1 to 120",
        ),
    ];
    for (line, says) in cases {
        let (at, _, message) = fails_with(line);
        assert_eq!(at, NEXT, "{line}");
        assert!(message.contains(says), "{line}: {message}");
    }
}

#[test]
fn hypotheses_events_and_variants_stop_at_their_caps() {
    let cases = [
        (
            "for i in 0..21 { m.growth(`g${i}`, #{ users: 0.01 }); }",
            "already has 20 growth hypotheses",
        ),
        (
            "for i in 0..101 { m.event(`e${i}`, #{ month: 1, multiplier: 2, duration: hours(1) }); }",
            "already has 100 events",
        ),
        (
            "for i in 0..101 { m.variant(`v${i}`, |m| {}); }",
            "already has 100 variants",
        ),
    ];
    for (line, says) in cases {
        let (at, _, message) = fails_with(line);
        assert_eq!(at, NEXT, "{line}");
        assert!(message.contains(says), "{line}: {message}");
    }
}

// ---- events ---------------------------------------------------------------------------------

#[test]
fn events_keep_their_month_multiplier_duration_and_labels() {
    let m = with(
        "m.event(\"campaign\", #{ month: 4, multiplier: 3.0, duration: hours(48), date: \"spring\", preparation: \"pre-scaling\" });",
    );
    let e = &m.events[0];
    assert_eq!((e.month, e.multiplier, e.duration_s), (4, 3.0, 172_800.0));
    assert_eq!(
        (e.date.as_deref(), e.preparation.as_deref()),
        (Some("spring"), Some("pre-scaling"))
    );
    let (_, _, message) =
        fails_with("m.event(\"e\", #{ month: 4, multiplier: 3.0, duration: 48 });");
    assert!(
        message.starts_with("event `e`: `duration` must be a duration"),
        "{message}"
    );
    let (_, _, message) =
        fails_with("m.event(\"e\", #{ month: 4.5, multiplier: 3.0, duration: hours(1) });");
    assert!(
        message.contains("`month` must be a whole number"),
        "{message}"
    );
}

#[test]
fn an_event_beyond_every_horizon_is_a_warning() {
    let c = checked(
        "m.growth(\"g\", #{ users: 0.01, horizon: 6 });\nm.event(\"late\", #{ month: 9, multiplier: 2, duration: days(1) });",
    );
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0]
            .message
            .contains("beyond every growth hypothesis's horizon")
    );
    let errors = invalid(
        "m.event(\"e\", #{ month: 1, multiplier: 2, duration: days(1) });\nm.event(\"e\", #{ month: 2, multiplier: 2, duration: days(1) });",
    );
    assert_eq!(
        errors[0].message,
        format!("declared twice (first declared at line {NEXT})")
    );
}

// ---- variants -------------------------------------------------------------------------------

#[test]
fn a_change_rebuilds_the_resource_from_its_declared_options() {
    let c = checked(
        "m.variant(\"replica\", #{ effort: \"M\", rationale: \"why\" }, |m| {\n    m.change(db, #{ replicas: 2 });\n});",
    );
    let v = &c.model.variants[0];
    assert_eq!(
        (v.effort, v.rationale.as_deref()),
        (Some(Effort::M), Some("why"))
    );
    let ResourceKind::Database(d) = &v.model.resource("db").unwrap().kind else {
        panic!()
    };
    assert_eq!(
        (d.replicas, d.connections, d.data_size_bytes),
        (2, 3, Some(2e6))
    );
    assert_eq!(
        v.model
            .resource("db")
            .unwrap()
            .origin
            .as_ref()
            .unwrap()
            .line,
        NEXT + 1
    );
    let ResourceKind::Database(base) = &c.model.resource("db").unwrap().kind else {
        panic!()
    };
    assert_eq!(base.replicas, 0, "the base is unchanged");
    assert!(v.model.variants.is_empty());
    assert_eq!(c.variant("replica").unwrap().model, *v.model);
    assert_eq!(c.model.variant("replica"), Some(&*v.model));
}

#[test]
fn service_factors_hit_ratios_and_steps_change_in_the_variant_only() {
    let c = checked(
        "m.variant(\"faster\", |m| m.service_factor(api, 0.5));\nm.variant(\"hits\", |m| m.hit_ratio(redis, 0.9));\nm.variant(\"flat\", |m| m.replace_steps(\"GET /\", [api.compute(ms(1))]));",
    );
    let demand = |m: &Model| match &m.endpoints[0].steps[0] {
        Step::Compute { demand, .. } => demand.mean(),
        s => panic!("{s:?}"),
    };
    assert_eq!(demand(c.model.variant("faster").unwrap()), 0.0025);
    assert_eq!(demand(&c.model), 0.005);
    let hits = c.model.variant("hits").unwrap();
    assert!(matches!(
        hits.endpoints[0].steps[1],
        Step::CacheGet { hit_ratio: 0.9, .. }
    ));
    let flat = c.model.variant("flat").unwrap();
    assert_eq!(flat.endpoints[0].steps.len(), 1);
    assert_eq!(flat.endpoints[0].origin.as_ref().unwrap().line, NEXT + 2);
    assert_eq!(c.variants.len(), 3);
}

#[test]
fn a_variant_sees_what_the_script_declares_after_it() {
    let m = with(
        "m.variant(\"v\", |m| m.change(db, #{ replicas: 1 }));\nm.endpoint(\"GET /late\", 1, [api.compute(ms(1))]);",
    );
    assert_eq!(m.variant("v").unwrap().endpoints.len(), 3);
}

#[test]
fn an_error_inside_a_variant_points_into_its_closure_and_names_it() {
    let (line, column, message) =
        fails_with("m.variant(\"bad\", |m| {\n    m.change(db, #{ replicas: -1 });\n});");
    assert_eq!((line, column), (NEXT + 1, 7));
    assert!(
        message.starts_with("variant `bad`: database `db`: `replicas` must be a whole number"),
        "{message}"
    );
}

#[test]
fn a_variant_is_validated_like_the_base_and_its_errors_name_it() {
    let errors =
        invalid("m.variant(\"v\", |m| {\n    m.slo(\"GET /none\", #{ p95: ms(100) });\n});");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].item, "variant `v`: SLO for `GET /none`");
    assert_eq!(errors[0].origin.as_ref().unwrap().line, NEXT + 1);
    let errors = invalid("m.variant(\"v\", |m| {});\nm.variant(\"v\", |m| {});");
    assert_eq!(errors[0].item, "variant `v`");
    assert!(errors[0].message.starts_with("declared twice"));
}

#[test]
fn edits_belong_to_variants_and_variants_to_the_base() {
    let cases = [
        (
            "m.change(db, #{ replicas: 2 });",
            "inside m.variant(name, |m| { … })",
        ),
        ("m.service_factor(db, 0.5);", "inside m.variant"),
        (
            "let base = m;\nm.variant(\"v\", |v| { base.settings(#{ max_in_flight: 5 }); });",
            "the base model is finished",
        ),
        (
            "m.variant(\"v\", |v| { m.settings(#{ max_in_flight: 5 }); });",
            "captures the value the method is called on",
        ),
        (
            "m.variant(\"v\", |m| { m.variant(\"w\", |m| {}); });",
            "declared inside variant `v`",
        ),
        (
            "m.variant(\"v\", || {});",
            "a closure could not be called with (Model)",
        ),
        (
            "m.variant(\"v\", #{ effort: \"XL\" }, |m| {});",
            "unknown effort `XL`; expected one of: S, M, L",
        ),
        (
            "m.variant(\"v\", |m| m.hit_ratio(db, 0.9));",
            "must be a cache handle",
        ),
        (
            "m.variant(\"v\", |m| m.hit_ratio(redis, 0.9, \"POST /\"));",
            "no step gets from cache `redis` in endpoint `POST /`",
        ),
        (
            "m.variant(\"v\", |m| m.replace_steps(\"GET /x\", [api.compute(ms(1))]));",
            "no endpoint `GET /x`",
        ),
        (
            "m.variant(\"v\", |m| m.change(db, #{ replica: 2 }));",
            "unknown option `replica`",
        ),
    ];
    for (line, says) in cases {
        let (_, _, message) = fails_with(line);
        assert!(message.contains(says), "{line}: {message}");
    }
}

#[test]
fn a_variant_can_call_an_imported_modules_functions() {
    let module = "fn more(m, db) {\n    m.change(db, #{ replicas: 3 });\n}\n";
    let (_dir, models) = project(&[("scripts/tune.rhai", module)]);
    let src = format!("import \"tune\" as tune;\n{BASE}m.variant(\"v\", |m| tune::more(m, db));");
    let m = load_str(&src, "models/x.rhai", &models).unwrap_or_else(|e| panic!("{}", e.one_line()));
    let ResourceKind::Database(d) = &m.variant("v").unwrap().resource("db").unwrap().kind else {
        panic!()
    };
    assert_eq!(d.replicas, 3);
}

#[test]
fn a_model_without_declarations_serialises_as_before() {
    let json = serde_json::to_string(&load("let m = model(\"x\");").unwrap()).unwrap();
    for key in [
        "load_profile",
        "load_target",
        "growth",
        "events",
        "variants",
        "bytes",
    ] {
        assert!(!json.contains(key), "{key} in {json}");
    }
}

// ---- the shipped modules and model ----------------------------------------------------------

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_growth_and_events_modules_declare_what_they_say() {
    let src = format!(
        "import \"growth\" as gr;\nimport \"events\" as ev;\n{BASE}\
         gr::three(m, [0.03, 0.01], [0.08, 0.02], [0.15, 0.03]);\n\
         gr::hypothesis_reaching(m, \"target\", 100, 500, 12, 0.0);\n\
         gr::linear(m, \"linear\", 0.05, 12);\n\
         gr::s_curve(m, \"viral\", 10.0, 6, 0.8, 12);\n\
         ev::campaign(m, \"campaign\", 4, 3.0, hours(48));\n\
         ev::season(m, \"season\", 9, 2.0, 2);\n\
         ev::launch(m, \"launch\", 6, 5.0);\n\
         ev::yearly(m, \"black friday\", 1, 4.0, days(3), 24);\n"
    );
    let m = load_str(&src, "models/x.rhai", &repo().join("models"))
        .unwrap_or_else(|e| panic!("{}", e.one_line()));
    let names: Vec<&str> = m.growth.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "conservative",
            "optimistic",
            "aggressive",
            "target",
            "linear",
            "viral"
        ]
    );
    assert!(close(
        m.growth_hypothesis("target").unwrap().load(12).unwrap(),
        5.0
    ));
    assert!(close(
        m.growth_hypothesis("linear").unwrap().load(10).unwrap(),
        1.5
    ));
    let viral = m.growth_hypothesis("viral").unwrap();
    assert_eq!(viral.load(0), Some(1.0));
    assert!(viral.load(12).unwrap() > viral.load(6).unwrap());
    let events: Vec<(&str, u32, f64)> = m
        .events
        .iter()
        .map(|e| (e.name.as_str(), e.month, e.duration_s / 3600.0))
        .collect();
    assert_eq!(
        events,
        [
            ("campaign", 4, 48.0),
            ("season", 9, 336.0),
            ("launch", 6, 24.0),
            ("black friday (month 1)", 1, 72.0),
            ("black friday (month 13)", 13, 72.0),
        ]
    );
    validate(m).unwrap();
}

#[test]
fn the_ebook_model_declares_the_plans_outlook_and_its_what_ifs() {
    let c = validate(load_file(&repo().join("models/ebook.rhai")).unwrap()).unwrap();
    let m = &c.model;
    let p = m.load_profile.as_ref().unwrap();
    assert_eq!((p.unit, p.daily_peak), (LoadUnit::Users, 100.0));
    let t = m.load_target.as_ref().unwrap();
    assert_eq!(
        (t.peak, t.by_month, t.data_size_bytes),
        (500.0, Some(12), Some(80e6))
    );
    let aggressive = m.growth_hypothesis("aggressive").unwrap();
    assert!(aggressive.at(12).unwrap().users * 100.0 >= 500.0 - 1e-9);
    assert_eq!(m.growth.len(), 3);
    assert_eq!(m.events.len(), 2);
    assert_eq!(c.variants.len(), 7);
    let wizard = m
        .bytes_written_per_request("POST /api/wizard/create")
        .unwrap();
    assert!(close(wizard, 8_000.0), "{wizard}");
    // Eager loading: no repeat left in the listing, and the base keeps its N+1 pattern.
    let repeats = |m: &Model| {
        let e = m.endpoint("GET /api/releases").unwrap();
        e.steps
            .iter()
            .filter(|s| match s {
                Step::Labelled { inner, .. } => matches!(**inner, Step::Repeat { .. }),
                s => matches!(s, Step::Repeat { .. }),
            })
            .count()
    };
    assert_eq!(repeats(m), 1);
    assert_eq!(repeats(m.variant("eager loading").unwrap()), 0);
    // Every variant changes something.
    for v in &m.variants {
        let mut base = m.clone();
        base.variants.clear();
        assert_ne!(*v.model, base, "variant `{}` changes nothing", v.name);
    }
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}
