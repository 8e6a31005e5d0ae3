//! Tests of what a model declares for the capacity search, `m.costs` and `m.scaling`, from
//! script text to model value or error: each bad declaration is an error naming its line and
//! what is wrong (never a panic), and a good one gives the configuration space it describes.

use super::tests::{fails, ok};
use crate::model::config::{Config, MAX_CONFIGURATIONS, Setting, Space};
use crate::model::scaling::{Direction, Knob, ScaleOut};
use crate::model::{ModelError, validate};

/// A small model with a resource of each kind the tests scale; the scripts of the tests add
/// lines after it.
const BASE: &str = "let m = model(\"x\");
let api = m.app(\"api\", #{ instances: 2, workers: 4, cpus: 2 });
let db = m.database(\"db\", #{ replicas: 1, connections: 2 });
let pool = m.station(\"pool\", #{ servers: 3, service: ms(10) });
m.endpoint(\"GET /\", 1, [api.compute(ms(5)), db.read(ms(2)), pool.visit()]);
m.users(10, sec(1));
";

/// The line of the first line a test adds to [`BASE`].
const NEXT: u32 = 7;

/// The error of `extra` after [`BASE`]: its line, column and message.
fn fails_with(extra: &str) -> (u32, u32, String) {
    fails(&format!("{BASE}{extra}"))
}

/// Asserts that `extra` (one call, on the first added line) is refused at that call with a
/// message that contains every one of `says`.
fn refused_at_the_call(extra: &str, says: &[&str]) -> String {
    let (line, column, message) = fails_with(extra);
    assert_eq!((line, column), (NEXT, 3), "{extra}: {message}");
    for s in says {
        assert!(message.contains(s), "no `{s}` in: {message}");
    }
    message
}

/// The validation errors of `extra` after [`BASE`] (the script itself runs).
fn invalid(extra: &str) -> Vec<ModelError> {
    match validate(ok(&format!("{BASE}{extra}"))) {
        Ok(_) => panic!("valid: {extra}"),
        Err(e) => e.0,
    }
}

#[test]
fn a_knob_the_resource_has_not_is_refused_naming_those_it_has() {
    let message = refused_at_the_call(
        "m.scaling(api, #{ replicas: #{ min: 1, max: 2 }, price: 50 });",
        &[
            "scaling of app `api`",
            "no `replicas` to scale",
            "instances, workers, pool",
        ],
    );
    assert!(message.starts_with("scaling of app `api`"), "{message}");
    refused_at_the_call(
        "m.scaling(pool, #{ instances: #{ max: 4 }, price: 50 });",
        &["scaling of station `pool`", "no `instances`", "servers"],
    );
}

#[test]
fn todays_value_outside_the_range_is_refused() {
    refused_at_the_call(
        "m.scaling(api, #{ instances: #{ min: 3, max: 5 }, price: 50 });",
        &[
            "scaling of app `api`",
            "`instances`: today's 2 lies outside min 3 .. max 5",
        ],
    );
    refused_at_the_call(
        "m.scaling(db, #{ replicas: #{ min: 2, max: 3 }, price: 80 });",
        &["`replicas`: today's 1 lies outside min 2 .. max 3"],
    );
    // A max below today's (min defaults to today's): the range is empty.
    refused_at_the_call(
        "m.scaling(pool, #{ servers: #{ max: 2 }, price: 10 });",
        &["`servers`: min 3 is above max 2"],
    );
}

#[test]
fn a_price_with_sizes_is_refused() {
    refused_at_the_call(
        "m.scaling(api, #{ price: 50, sizes: [#{ name: \"small\", cores: 2, price: 50 }] });",
        &["give either `price` or `sizes`", "not both"],
    );
}

#[test]
fn neither_a_price_nor_sizes_is_refused() {
    refused_at_the_call(
        "m.scaling(api, #{ instances: #{ min: 2, max: 4 } });",
        &["scaling of app `api`", "give `price`", "or `sizes`"],
    );
}

#[test]
fn a_size_whose_cores_are_not_the_apps_cpus_is_refused() {
    // The one size is today's: 4 cores, the app 2 cpus.
    refused_at_the_call(
        "m.scaling(api, #{ sizes: [#{ name: \"big\", cores: 4, price: 90 }] });",
        &["today's size `big` has 4 cores, the app 2"],
    );
    refused_at_the_call(
        "m.scaling(api, #{ sizes: [#{ name: \"small\", cores: 1, price: 50 }, #{ name: \"big\", cores: 2, price: 90 }], size: \"small\" });",
        &["today's size `small` has 1 cores, the app 2"],
    );
}

#[test]
fn an_unknown_size_name_is_refused_naming_the_sizes() {
    refused_at_the_call(
        "m.scaling(api, #{ sizes: [#{ name: \"small\", cores: 2, price: 50 }, #{ name: \"big\", cores: 4, price: 90 }], size: \"huge\" });",
        &["size `huge` is not among the sizes (`small`, `big`)"],
    );
}

#[test]
fn a_second_scaling_of_one_resource_names_the_first() {
    let (line, column, message) = fails_with(
        "m.scaling(pool, #{ servers: #{ max: 4 }, price: 10 });\nm.scaling(pool, #{ price: 10 });",
    );
    assert_eq!((line, column), (NEXT + 1, 3), "{message}");
    assert!(message.contains("scaling of station `pool`"), "{message}");
    assert!(
        message.contains(&format!("already declared at line {NEXT}")),
        "{message}"
    );
    assert!(message.contains("in one m.scaling"), "{message}");
}

#[test]
fn a_second_costs_names_the_first() {
    let (line, column, message) = fails_with(
        "m.costs(#{ currency: \"EUR\" });\nm.costs(#{ currency: \"USD\", budget: 900 });",
    );
    assert_eq!((line, column), (NEXT + 1, 3), "{message}");
    assert!(
        message.contains(&format!("m.costs was already called at line {NEXT}")),
        "{message}"
    );
}

#[test]
fn negative_prices_and_budgets_are_refused() {
    let cases = [
        "m.scaling(pool, #{ price: -10 });",
        "m.scaling(api, #{ sizes: [#{ name: \"small\", cores: 2, price: -5 }] });",
        "m.scaling(api, #{ workers: #{ min: 2, max: 8, price: -1 }, price: 50 });",
        "m.costs(#{ currency: \"EUR\", budget: -100 });",
    ];
    for extra in cases {
        refused_at_the_call(extra, &["must be a monthly amount >= 0"]);
    }
}

#[test]
fn an_unknown_horizontal_word_is_refused_with_the_choices() {
    refused_at_the_call(
        "m.scaling(pool, #{ price: 10, horizontal: \"maybe\" });",
        &[
            "scaling of station `pool`",
            "`maybe`",
            "expected one of: yes, partial, no",
        ],
    );
}

#[test]
fn a_horizontal_option_with_its_own_price_is_refused() {
    refused_at_the_call(
        "m.scaling(pool, #{ servers: #{ min: 1, max: 8, price: 10 }, price: 100 });",
        &[
            "`servers`",
            "adds nodes",
            "give `price` (or `sizes`) to m.scaling",
        ],
    );
    // A vertical option has a price per unit.
    let m = ok(&format!(
        "{BASE}m.scaling(api, #{{ workers: #{{ min: 2, max: 8, price: 3 }}, price: 50 }});"
    ));
    assert_eq!(m.scaling[0].options[0].direction, Direction::Vertical);
    assert_eq!(m.scaling[0].options[0].unit_price, 3.0);
}

#[test]
fn a_space_beyond_the_most_configurations_is_refused_at_validation() {
    // 100 x 100 x 100 x 100 configurations, past the 100 000 a search lists.
    let errors = invalid(
        "m.scaling(api, #{ instances: #{ min: 1, max: 100 }, workers: #{ min: 1, max: 100 }, price: 50 });\nm.scaling(db, #{ replicas: #{ min: 0, max: 99 }, connections: #{ min: 1, max: 100 }, price: 80 });",
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.item, "scaling options");
    assert!(
        e.message
            .contains("span 100000000 configurations; at most 100000"),
        "{}",
        e.message
    );
    assert!(e.message.contains("narrow a min .. max"), "{}", e.message);
    assert_eq!(e.origin.as_ref().map(|o| o.line), Some(NEXT + 1), "{e:?}");
    // Exactly at the cap it is accepted.
    assert_eq!(MAX_CONFIGURATIONS, 100_000);
    let at_cap = ok(&format!(
        "{BASE}m.scaling(api, #{{ instances: #{{ min: 1, max: 100 }}, workers: #{{ min: 1, max: 100 }}, price: 50 }});\nm.scaling(pool, #{{ servers: #{{ min: 1, max: 10 }}, price: 10 }});"
    ));
    let c = validate(at_cap).unwrap_or_else(|e| panic!("{e}"));
    let space = Space::of(&c.model).unwrap().unwrap();
    let total: usize = space.dims.iter().map(|d| d.values.len()).product();
    assert_eq!(total, MAX_CONFIGURATIONS);
}

#[test]
fn scaling_needs_a_resource_handle() {
    for (extra, got) in [
        ("m.scaling(\"pool\", #{ price: 10 });", "string"),
        ("m.scaling(42, #{ price: 10 });", "i64"),
        ("m.scaling(ms(5), #{ price: 10 });", "Duration"),
    ] {
        let message = refused_at_the_call(extra, &["`m.scaling` needs a resource handle"]);
        assert!(message.contains(got), "{extra}: {message}");
    }
}

#[test]
fn a_well_formed_declaration_gives_its_space_and_todays_cost() {
    let src = format!(
        "{BASE}m.costs(#{{ currency: \"USD\", budget: 2000 }});
m.scaling(api, #{{
    instances: #{{ min: 2, max: 4, lead_time: days(1) }},
    sizes: [#{{ name: \"small\", cores: 2, price: 60 }}, #{{ name: \"big\", cores: 4, service_factor: 0.6, price: 110 }}],
    size: \"small\",
    resize_lead_time: days(2),
    constraint: \"stateless\",
}});
m.scaling(db, #{{ replicas: #{{ min: 1, max: 3, step: 2, lead_time: days(14) }}, connections: #{{ min: 2, max: 4, price: 5 }}, price: 80, horizontal: \"partial\" }});
m.scaling(pool, #{{ price: 10 }});"
    );
    let c = validate(ok(&src)).unwrap_or_else(|e| panic!("{e}"));
    let m = &c.model;
    assert_eq!(m.scaling.len(), 3);
    let api = &m.scaling[0];
    assert_eq!(api.origin.as_ref().unwrap().line, NEXT + 1);
    assert_eq!(
        (api.size, api.resize_lead_time_s),
        (Some(0), 2.0 * 86_400.0)
    );
    assert_eq!(api.scale_out, ScaleOut::Yes);
    assert_eq!(api.constraint.as_deref(), Some("stateless"));
    assert_eq!(m.scaling[1].scale_out, ScaleOut::Partial);
    let costs = m.costs.as_ref().unwrap();
    assert_eq!(
        (costs.currency.as_str(), costs.budget),
        ("USD", Some(2000.0))
    );

    let space = Space::of(m).unwrap().expect("options declared");
    let dims: Vec<(&str, Setting, Vec<u32>, u32)> = space
        .dims
        .iter()
        .map(|d| (d.resource.as_str(), d.setting, d.values.clone(), d.today))
        .collect();
    assert_eq!(
        dims,
        [
            ("api", Setting::Knob(Knob::Instances), vec![2, 3, 4], 2),
            ("api", Setting::Size, vec![0, 1], 0),
            // Step 2 from 1: 1, 3.
            ("db", Setting::Knob(Knob::Replicas), vec![1, 3], 1),
            ("db", Setting::Knob(Knob::Connections), vec![2, 3, 4], 2),
        ]
    );
    assert_eq!(
        (space.currency.as_str(), space.budget),
        ("USD", Some(2000.0))
    );
    let today = space.today();
    assert_eq!(today, Config(vec![2, 0, 1, 2]));
    // api: 2 x 60; db: (primary + 1 replica) x (80 + 2 connections x 5); pool: 3 servers x 10.
    assert_eq!(space.cost(m, &today), 120.0 + 2.0 * (80.0 + 10.0) + 30.0);
    assert_eq!(
        space.describe(m, &today),
        "api: 2 instances on small; db: 1 replica, 2 connections"
    );
    let (all, over) = space.in_cost_order(m);
    assert_eq!(all.len() + over, 3 * 2 * 2 * 3);
    assert!(all.iter().all(|(_, cost)| *cost <= 2000.0));
}
