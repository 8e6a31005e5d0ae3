//! Stream names: what a step is, not where it is (see [`super::names`]).

use super::*;
use crate::model::validate;
use std::path::Path;

fn compiled(src: &str) -> Program {
    let model = crate::script::load_str(src, "names.rhai", Path::new(".")).expect("loads");
    Program::compile(&validate(model).expect("valid"))
}

/// A model with one endpoint `e` running `steps` (Rhai text) on app `api`, database `db`,
/// cache `cache` and station `disk`.
fn flow(steps: &str) -> Program {
    compiled(&format!(
        r#"
        let m = model("names");
        let api = m.app("api", #{{ workers: 4 }});
        let db = m.database("db");
        let cache = m.cache("cache", #{{ service: ms(1) }});
        let disk = m.station("disk", #{{ service: ms(1) }});
        m.endpoint("e", 1, [{steps}]);
        m.arrivals(per_sec(10));
        "#
    ))
}

/// The names of endpoint `e`'s streams, in the order its flow was compiled.
fn names(p: &Program) -> Vec<&str> {
    let mine = p.streams.iter().filter(|s| s.starts_with("ep:e/"));
    mine.map(String::as_str).collect()
}

/// The name of the stream sampler `i` draws from.
fn sampler_stream(p: &Program, i: usize) -> &str {
    &p.streams[p.samplers[i].stream as usize]
}

#[test]
fn a_step_is_named_by_its_blocks_its_kind_and_resource_and_its_occurrence() {
    let p = flow(
        "api.compute(ms(1)), db.read(ms(1)), db.read(ms(1)), db.write(ms(1)),
         cache.get(0.9, [db.read(ms(1))]),
         repeat(3, [db.read(ms(1)), api.compute(ms(1))]),
         branch(0.5, [disk.visit()], [delay(ms(1))]),
         db.read(ms(1)).times(2),
         api.compute(ms(1))",
    );
    assert_eq!(
        names(&p),
        [
            "ep:e/compute api#1",
            "ep:e/read db#1",
            "ep:e/read db#2",
            "ep:e/write db#1",
            "ep:e/get cache#1/get",
            "ep:e/get cache#1/hit",
            "ep:e/get cache#1/miss/read db#1",
            "ep:e/get cache#1/set",
            "ep:e/repeat#1/read db#1",
            "ep:e/repeat#1/compute api#1",
            "ep:e/branch#1/branch",
            "ep:e/branch#1/then/visit disk#1",
            "ep:e/branch#1/else/delay#1",
            "ep:e/repeat#2/read db#1",
            "ep:e/compute api#2",
        ]
    );
}

#[test]
fn inserting_a_step_of_another_kind_keeps_the_names_of_the_others() {
    let before = flow("db.read(ms(1)), api.compute(ms(2))");
    let after = flow("delay(ms(1)), db.read(ms(1)), api.compute(ms(2))");
    // The read and the compute are the last two sampling sites of both flows.
    assert_eq!(sampler_stream(&before, 0), sampler_stream(&after, 1));
    assert_eq!(sampler_stream(&before, 1), sampler_stream(&after, 2));
    assert_eq!(sampler_stream(&after, 2), "ep:e/compute api#1");
}

#[test]
fn a_labelled_step_keeps_its_name_when_a_step_of_its_kind_is_inserted_before_it() {
    let before = flow(r#"api.compute(ms(1)), api.compute(ms(3)).label("serialise")"#);
    let after =
        flow(r#"api.compute(ms(1)), api.compute(ms(2)), api.compute(ms(3)).label("serialise")"#);
    assert_eq!(sampler_stream(&before, 1), "ep:e/serialise");
    assert_eq!(sampler_stream(&after, 2), "ep:e/serialise");
    // A labelled step takes no occurrence number: the inserted compute is the second.
    assert_eq!(sampler_stream(&after, 1), "ep:e/compute api#2");
}

#[test]
fn a_labelled_block_names_its_streams_and_its_steps_after_its_label() {
    let p = flow(
        r#"cache.get(0.9, [db.read(ms(1))]).label("session"),
           repeat(2, [db.read(ms(1))]).label("lazy loads")"#,
    );
    assert_eq!(
        names(&p),
        [
            "ep:e/session/get",
            "ep:e/session/hit",
            "ep:e/session/miss/read db#1",
            "ep:e/session/set",
            "ep:e/lazy loads/read db#1",
        ]
    );
}

#[test]
fn names_that_coincide_still_get_streams_of_their_own() {
    // `a`'s repeat and the endpoint `a/repeat#1` both name a `read db#1` under `ep:a/repeat#1`.
    let p = compiled(
        r#"
        let m = model("names");
        let db = m.database("db");
        m.endpoint("a", 1, [repeat(2, [db.read(ms(1))])]);
        m.endpoint("a/repeat#1", 1, [db.read(ms(2))]);
        m.arrivals(per_sec(10));
        "#,
    );
    assert_eq!(sampler_stream(&p, 0), "ep:a/repeat#1/read db#1");
    assert_eq!(sampler_stream(&p, 1), "ep:a/repeat#1/read db#1~2");
}

#[test]
fn a_renewal_process_draws_its_gaps_from_the_arrival_stream() {
    let p = compiled(
        r#"
        let m = model("renewal");
        let disk = m.station("disk", #{ service: ms(1) });
        m.endpoint("e", 1, [disk.visit()]);
        m.arrivals(uniform(ms(50), ms(150)));
        "#,
    );
    let Source::Renewal { interarrival } = p.source else {
        panic!("a renewal source")
    };
    assert_eq!(p.samplers[interarrival as usize].stream, p.arrival_stream);
    assert_eq!(p.streams[p.arrival_stream as usize], "arrivals");
}
