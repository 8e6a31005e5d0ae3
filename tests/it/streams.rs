//! Random streams are named by what a step is (or by its label), not by its place in a flow:
//! every sampling site of a shipped model has a stream of its own, and a what-if that edits a
//! flow leaves the draws of the steps it did not touch as they were (common random numbers).

use crate::cli::repo;
use crate::support::{checked, global, run_checked};
use capsim::engine::Program;
use capsim::engine::program::{Op, Source};
use capsim::model::validate;
use capsim::script::load_str;
use std::collections::BTreeMap;

/// Who draws from each stream: every sampler, branch, balancer, replica choice and the mix.
/// A renewal process's gaps are the arrival stream itself, one source.
fn stream_users(p: &Program) -> BTreeMap<u32, Vec<String>> {
    let mut users: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut add = |s: u32, who: String| users.entry(s).or_default().push(who);
    add(p.mix_stream, "the mix".into());
    add(p.arrival_stream, "the arrivals".into());
    let renewal = match p.source {
        Source::Renewal { interarrival } => Some(interarrival as usize),
        _ => None,
    };
    for (i, site) in p.samplers.iter().enumerate() {
        if Some(i) != renewal {
            add(site.stream, format!("sampler {i}"));
        }
    }
    for (pc, op) in p.ops.iter().enumerate() {
        if let Op::Branch { stream, .. } = op {
            add(*stream, format!("the branch at instruction {pc}"));
        }
    }
    for (g, a) in p.apps.iter().enumerate() {
        add(a.stream, format!("app group {g}"));
    }
    for (g, d) in p.dbs.iter().enumerate() {
        add(d.stream, format!("database group {g}"));
    }
    users
}

#[test]
fn every_sampling_site_of_every_shipped_model_draws_from_a_stream_of_its_own() {
    let dir = repo().join("models");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("models/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    for path in files {
        let model = capsim::script::load_file(&path).expect("a shipped model loads");
        let p = Program::compile(&validate(model).expect("a shipped model is valid"));
        let mut names = p.streams.clone();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            p.streams.len(),
            "{}: a name twice",
            path.display()
        );
        for (s, who) in stream_users(&p) {
            assert!(
                who.len() == 1,
                "{}: stream `{}` is shared by {who:?}",
                path.display(),
                p.streams[s as usize]
            );
        }
    }
}

/// The names of `endpoint`'s streams, in the order its flow was compiled (the flow's order).
fn flow_streams<'p>(p: &'p Program, endpoint: &str) -> Vec<&'p str> {
    let prefix = format!("ep:{endpoint}/");
    let mine = p.streams.iter().filter(|s| s.starts_with(&prefix));
    mine.map(String::as_str).collect()
}

#[test]
fn the_eager_loading_variant_keeps_the_streams_of_the_steps_around_the_n_plus_1_block() {
    let src = std::fs::read_to_string(repo().join("models/ebook.rhai")).expect("ebook.rhai");
    let model = load_str(&src, "models/ebook.rhai", &repo().join("models")).expect("loads");
    let variant = model.variant("eager loading").expect("the what-if").clone();
    let compile = |m: capsim::model::Model| Program::compile(&validate(m).expect("valid"));
    let (before, after) = (compile(model), compile(variant));
    let releases = "GET /api/releases";
    let (b, a) = (
        flow_streams(&before, releases),
        flow_streams(&after, releases),
    );
    // The proxy, the handler's compute, the session lookup (get, hit, miss read, set) and the
    // page and count queries come before the block, the serialisation after it; the block is
    // the lazy loads' compute and read, or the eager query and its ORM work.
    assert_eq!(b.len(), 11, "{b:?}");
    assert_eq!(a.len(), 11, "{a:?}");
    assert_eq!(b[..8], a[..8]);
    assert_eq!(b[10], a[10]);
    assert_eq!(b[10], "ep:GET /api/releases/serialise");
    assert_ne!(b[8..10], a[8..10], "the block's own steps differ");
    // The other endpoints' streams do not change at all.
    let others = |p: &Program| -> Vec<String> {
        let mine = format!("ep:{releases}/");
        p.streams
            .iter()
            .filter(|s| !s.starts_with(&mine))
            .cloned()
            .collect()
    };
    assert_eq!(others(&before), others(&after));
}

/// One endpoint on an app and a database; `first` (Rhai text) is put before its steps.
fn one_endpoint(first: &str) -> String {
    format!(
        r#"
        let m = model("crn");
        let api = m.app("api", #{{ workers: 8, cpus: 2 }});
        let db = m.database("db", #{{ connections: 4 }});
        m.endpoint("e", 1, [
            {first}
            api.compute(exponential(ms(4))),
            db.read(exponential(ms(3))),
            api.compute(exponential(ms(2))),
        ]);
        m.arrivals(per_sec(150));
        m.scenario("steady", #{{ duration: sec(60) }});
        "#
    )
}

#[test]
fn a_zero_work_step_inserted_early_leaves_the_later_steps_draws_unchanged() {
    let figures = |first: &str| {
        let (c, p) = checked(&one_endpoint(first));
        let r = &run_checked(&c, &p, 2, None, 17, Some(1))[0];
        ["latency_mean", "latency_p99", "latency_max"].map(|m| global(r, m).mean)
    };
    let plain = figures("");
    // A delay of no time is a step of another kind: the request waits for nothing, and with the
    // same draws for the steps after it every request takes exactly as long.
    let with_delay = figures("delay(ms(0)),");
    assert_eq!(plain, with_delay);
    // The check has power: another draw of the same model gives other figures.
    let other = figures("api.compute(ms(0)),");
    assert_ne!(
        plain, other,
        "a compute first renumbers the computes after it"
    );
}
