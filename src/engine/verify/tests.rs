//! `Program::verify` accepts what the compiler builds, refuses each kind of broken index or
//! flow with its own error, and `simulate` then returns that error instead of running.

use super::*;
use crate::engine::{ScenarioPlan, SimError, simulate};
use crate::model::{Checked, validate};
use crate::stats::Recorder;
use proptest::prelude::*;
use std::path::Path;

/// Every kind of instruction: a proxy in front of an app with a request-scoped pool and
/// processor-sharing cores, a database with replicas, a cache (a branch), a repeat (a loop), a
/// branch, a background queue (a spawn); the last flow ends with a service.
const MODEL: &str = r#"
    let m = model("verify");
    let web = m.app("web", #{ instances: 2, workers: 4, cpus: 2, mode: "async",
                              pool: #{ size: 3, scope: "request" } });
    m.proxy("lb", #{ upstream: web, connections: 100, workers: 1, service: exponential(us(100)) });
    let db = m.database("db", #{ replicas: 2, connections: 4 });
    let cache = m.cache("cache", #{ servers: 1, service: exponential(us(200)) });
    let jobs = m.background("jobs", #{ workers: 1 });
    let disk = m.station("disk", #{ servers: 1, service: exponential(ms(1)) });
    m.endpoint("read", 3, [
        web.compute(exponential(ms(2))),
        cache.get(0.9, [db.read(exponential(ms(1)))]),
        repeat(3, [db.read(exponential(ms(1))), web.compute(exponential(ms(1)))]),
        branch(0.5, [disk.visit()]),
    ], #{ timeout: sec(1) });
    m.endpoint("write", 1, [jobs.enqueue(exponential(ms(5))), db.write(ms(2)), disk.visit()]);
    m.arrivals(per_sec(20));
    m.scenario("short", #{ duration: sec(10) });
"#;

/// One station, one endpoint: `[Serve, End]`.
const TINY: &str = r#"
    let m = model("tiny");
    let disk = m.station("disk", #{ servers: 1, service: exponential(ms(1)) });
    m.endpoint("e", 1, [disk.visit()]);
    m.arrivals(per_sec(10));
    m.scenario("short", #{ duration: sec(10) });
"#;

fn compiled(src: &str) -> (Checked, Program) {
    let model = crate::script::load_str(src, "verify.rhai", Path::new(".")).expect("loads");
    let c = validate(model).expect("valid");
    let p = Program::compile(&c);
    (c, p)
}

/// Runs the model's first scenario with `p`.
fn run(c: &Checked, p: &Program) -> Result<(), SimError> {
    let s = &c.scenarios[0];
    let plan = ScenarioPlan::new(s, p.base_level, c.model.settings.default_duration_s, None);
    simulate(p, &plan, 7, 0, Recorder::new(p, 0)).map(|_| ())
}

/// The first instruction that satisfies `f`.
fn first(p: &Program, f: impl Fn(&Op) -> bool) -> u32 {
    p.ops.iter().position(f).expect("the model has one") as u32
}

fn op(p: &mut Program, pc: u32) -> &mut Op {
    &mut p.ops[pc as usize]
}

fn out_of_range(at: Place, table: Table, index: usize, len: usize) -> ProgramError {
    ProgramError::OutOfRange {
        at,
        table,
        index: index as u64,
        len,
    }
}

fn is_fixed_serve(o: &Op) -> bool {
    matches!(
        o,
        Op::Serve {
            res: Sel::Fixed(_),
            ..
        }
    )
}

fn uses_instance(o: &Op) -> bool {
    matches!(
        o,
        Op::Acquire {
            res: Sel::Instance(_)
        } | Op::Serve {
            res: Sel::Instance(_),
            ..
        }
    )
}

/// A corruption of the compiled [`MODEL`] and the error it must cause.
type Case = (&'static str, fn(&mut Program) -> ProgramError);

const CASES: &[Case] = &[
    ("a resource index", |p| {
        let (pc, n) = (first(p, is_fixed_serve), p.resources.len());
        if let Op::Serve { res, .. } = op(p, pc) {
            *res = Sel::Fixed(n as u32);
        }
        out_of_range(Place::Op(pc), Table::Resource, n, n)
    }),
    ("a sampler", |p| {
        let (pc, n) = (first(p, is_fixed_serve), p.samplers.len());
        if let Op::Serve { sampler, .. } = op(p, pc) {
            *sampler = n as u32;
        }
        out_of_range(Place::Op(pc), Table::Sampler, n, n)
    }),
    ("a branch's stream", |p| {
        let (pc, n) = (
            first(p, |o| matches!(o, Op::Branch { .. })),
            p.streams.len(),
        );
        if let Op::Branch { stream, .. } = op(p, pc) {
            *stream = n as u32;
        }
        out_of_range(Place::Op(pc), Table::Stream, n, n)
    }),
    ("a sampler's stream", |p| {
        let n = p.streams.len();
        p.samplers[0].stream = n as u32;
        out_of_range(Place::Sampler(0), Table::Stream, n, n)
    }),
    ("an app group's stream", |p| {
        let n = p.streams.len();
        p.apps[0].stream = n as u32;
        out_of_range(Place::App(0), Table::Stream, n, n)
    }),
    ("a jump target", |p| {
        let (pc, n) = (first(p, |o| matches!(o, Op::Jump { .. })), p.ops.len());
        *op(p, pc) = Op::Jump { to: n as u32 };
        out_of_range(Place::Op(pc), Table::Instruction, n, n)
    }),
    ("a jump back", |p| {
        let pc = first(p, |o| matches!(o, Op::Jump { .. }));
        *op(p, pc) = Op::Jump { to: pc };
        ProgramError::JumpsBack { pc, to: pc }
    }),
    ("a branch target", |p| {
        let (pc, n) = (first(p, |o| matches!(o, Op::Branch { .. })), p.ops.len());
        if let Op::Branch { else_pc, .. } = op(p, pc) {
            *else_pc = n as u32;
        }
        out_of_range(Place::Op(pc), Table::Instruction, n, n)
    }),
    ("an endpoint's entry", |p| {
        let n = p.ops.len();
        p.endpoints[1].entry = n as u32;
        out_of_range(Place::Endpoint(1), Table::Instruction, n, n)
    }),
    ("a spawn's entry", |p| {
        let (pc, n) = (first(p, |o| matches!(o, Op::Spawn { .. })), p.ops.len());
        *op(p, pc) = Op::Spawn { entry: n as u32 };
        out_of_range(Place::Op(pc), Table::Instruction, n, n)
    }),
    ("a flow without its final End", |p| {
        assert_eq!(p.ops.pop(), Some(Op::End));
        ProgramError::RunsOffEnd {
            pc: p.ops.len() as u32 - 1,
        }
    }),
    ("a loop depth", |p| {
        let pc = first(p, |o| matches!(o, Op::LoopStart { .. }));
        if let Op::LoopStart { depth, .. } = op(p, pc) {
            *depth = MAX_LOOPS as u8;
        }
        out_of_range(Place::Op(pc), Table::LoopDepth, MAX_LOOPS, MAX_LOOPS)
    }),
    ("a loop nested deeper than it is", |p| {
        let pc = first(p, |o| matches!(o, Op::LoopStart { .. }));
        let end = first(p, |o| matches!(o, Op::LoopEnd { .. }));
        if let Op::LoopStart { depth, .. } = op(p, pc) {
            *depth = 1;
        }
        if let Op::LoopEnd { depth, .. } = op(p, end) {
            *depth = 1;
        }
        ProgramError::LoopNesting {
            pc,
            depth: 1,
            open: 0,
        }
    }),
    ("a loop end whose start is not a loop start", |p| {
        let end = first(p, |o| matches!(o, Op::LoopEnd { .. }));
        let Op::LoopEnd { start, .. } = op(p, end) else {
            unreachable!()
        };
        *start += 1;
        let start = *start;
        ProgramError::LoopEnd { pc: end, start }
    }),
    ("a loop of no iteration", |p| {
        let pc = first(p, |o| matches!(o, Op::LoopStart { .. }));
        if let Op::LoopStart { n, .. } = op(p, pc) {
            *n = 0;
        }
        ProgramError::EmptyLoop { pc }
    }),
    ("a route's group", |p| {
        let (pc, n) = (first(p, |o| matches!(o, Op::Route { .. })), p.apps.len());
        *op(p, pc) = Op::Route { group: n as u32 };
        out_of_range(Place::Op(pc), Table::App, n, n)
    }),
    ("a request that is not routed", |p| {
        let pc = first(p, |o| matches!(o, Op::Route { .. }));
        *op(p, pc) = Op::Jump { to: pc + 1 };
        assert!(uses_instance(&p.ops[pc as usize + 1]));
        ProgramError::NotRouted { pc: pc + 1 }
    }),
    ("a per-instance resource of no app", |p| {
        let pc = first(p, uses_instance);
        let base = p.dbs[0].primary;
        if let Op::Acquire { res } | Op::Serve { res, .. } = op(p, pc) {
            *res = Sel::Instance(base);
        }
        ProgramError::WrongInstance { pc, base }
    }),
    ("a release of nothing", |p| {
        let pc = first(p, |o| matches!(o, Op::Acquire { .. }));
        *op(p, pc) = Op::Jump { to: pc + 1 };
        let release = (pc..).find(|&i| p.ops[i as usize] == Op::Release);
        ProgramError::ReleasesNothing {
            pc: release.expect("a compute step releases its worker"),
        }
    }),
    ("a share on cores that queue", |p| {
        let cpu = p.apps[0].cpu;
        p.resources[cpu as usize + 1].shared = false;
        ProgramError::Sharing {
            at: Place::App(0),
            res: cpu + 1,
        }
    }),
    ("an app's instances past the program's", |p| {
        p.instances -= 1;
        let n = p.instances as usize;
        out_of_range(Place::App(0), Table::Instance, n, n)
    }),
    ("a database's replicas past the resources", |p| {
        let n = p.resources.len();
        let first = p.dbs[0].first_replica as usize;
        p.dbs[0].replicas = (n - first + 1) as u32;
        out_of_range(Place::Db(0), Table::Resource, n, n)
    }),
    ("an endpoint's proxy connection", |p| {
        let pc = first(p, |o| matches!(o, Op::FrontAcquire { .. }));
        let Op::FrontAcquire { res } = p.ops[pc as usize] else {
            unreachable!()
        };
        p.endpoints[0].front = Some(p.dbs[0].primary);
        ProgramError::BadFront { pc, res }
    }),
    ("the mix", |p| {
        p.mix_cdf.pop();
        ProgramError::Length {
            what: "mix_cdf",
            len: 1,
            endpoints: 2,
        }
    }),
    ("the series slots", |p| {
        p.series_slot.push(UNTRACKED);
        ProgramError::Length {
            what: "series_slot",
            len: 3,
            endpoints: 2,
        }
    }),
    ("a tracked endpoint without its slot", |p| {
        p.series_slot[0] = UNTRACKED;
        ProgramError::Slot {
            endpoint: 0,
            slot: 0,
        }
    }),
];

#[test]
fn every_compiled_program_verifies_and_runs() {
    for src in [MODEL, TINY] {
        let (c, p) = compiled(src);
        assert_eq!(p.verify(), Ok(()));
        run(&c, &p).expect("runs");
    }
}

#[test]
fn each_broken_index_is_refused_with_its_own_error_and_simulate_does_not_run() {
    let (c, good) = compiled(MODEL);
    for (what, corrupt) in CASES {
        let mut p = good.clone();
        let want = corrupt(&mut p);
        assert_eq!(p.verify(), Err(want.clone()), "{what}");
        assert_eq!(run(&c, &p), Err(SimError::Program(want)), "{what}");
    }
}

#[test]
fn a_request_holding_more_than_the_engine_has_room_for_is_refused() {
    let (c, mut p) = compiled(TINY);
    let Op::Serve { res, sampler } = p.ops[0] else {
        panic!("{:?}", p.ops)
    };
    let acquires = std::iter::repeat_n(Op::Acquire { res }, MAX_HELD);
    p.ops = acquires
        .chain([Op::Serve { res, sampler }, Op::End])
        .collect();
    let want = ProgramError::HoldsTooMany {
        pc: MAX_HELD as u32,
    };
    assert_eq!(p.verify(), Err(want.clone()));
    assert_eq!(run(&c, &p), Err(SimError::Program(want)));
    // One unit fewer fits.
    p.ops.remove(0);
    assert_eq!(p.verify(), Ok(()));
}

#[test]
fn a_loop_that_takes_a_unit_per_iteration_is_refused() {
    let (_, mut p) = compiled(MODEL);
    let end = first(&p, |o| matches!(o, Op::LoopEnd { .. }));
    let release = (0..end).rev().find(|&pc| p.ops[pc as usize] == Op::Release);
    let Some(Op::Acquire { res }) = release.map(|pc| p.ops[pc as usize - 2]) else {
        panic!("a compute step ends the loop's body")
    };
    *op(&mut p, release.unwrap()) = Op::Acquire { res };
    assert!(
        matches!(p.verify(), Err(ProgramError::HoldsTooMany { .. })),
        "{:?}",
        p.verify()
    );
}

#[test]
fn a_message_says_where_and_what_is_right() {
    let e = out_of_range(Place::Op(12), Table::Resource, 40, 30);
    assert_eq!(
        SimError::Program(e).to_string(),
        "the program cannot be run: instruction 12: resource 40 is out of range (there are 30); a program compiled from a checked model by `Program::compile` always can"
    );
}

/// One field of one instruction set to `v` (`which` 0 or 4: which field), or the instruction
/// replaced by a jump to `v`, a `Release` or an `End`.
fn corrupt(op: Op, which: u8, v: u32) -> Op {
    let sel = |s: Sel| match s {
        Sel::Fixed(_) => Sel::Fixed(v),
        Sel::Instance(_) => Sel::Instance(v),
        Sel::DbRead(_) => Sel::DbRead(v),
        Sel::DbWrite(_) => Sel::DbWrite(v),
    };
    match (which % 4, op) {
        (1, _) => Op::Jump { to: v },
        (2, _) => Op::Release,
        (3, _) => Op::End,
        (_, Op::Serve { res, sampler }) if which < 4 => Op::Serve {
            res: sel(res),
            sampler,
        },
        (_, Op::Serve { res, .. }) => Op::Serve { res, sampler: v },
        (_, Op::Share { res, sampler }) => Op::Share {
            res: sel(res),
            sampler,
        },
        (_, Op::Acquire { res }) => Op::Acquire { res: sel(res) },
        (_, Op::AcquirePool { res }) => Op::AcquirePool { res: sel(res) },
        (_, Op::Hold { .. }) => Op::Hold { sampler: v },
        (_, Op::Branch { p, stream, .. }) if which < 4 => Op::Branch {
            p,
            stream,
            else_pc: v,
        },
        (_, Op::Branch { p, else_pc, .. }) => Op::Branch {
            p,
            stream: v,
            else_pc,
        },
        (_, Op::Jump { .. }) => Op::Jump { to: v },
        (_, Op::LoopStart { depth, .. }) => Op::LoopStart { n: v, depth },
        (_, Op::LoopEnd { depth, .. }) => Op::LoopEnd { start: v, depth },
        (_, Op::FrontAcquire { .. }) => Op::FrontAcquire { res: v },
        (_, Op::Route { .. }) => Op::Route { group: v },
        (_, Op::Spawn { .. }) => Op::Spawn { entry: v },
        (_, o @ (Op::Release | Op::End)) => o,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Whatever one corrupted instruction `verify` lets through runs without a panic (the
    /// tests' debug assertions check every unchecked index).
    #[test]
    fn what_verify_accepts_runs(pc in 0usize..1000, which in 0u8..8, v in 0u32..80) {
        let (c, mut p) = compiled(MODEL);
        let pc = pc % p.ops.len();
        p.ops[pc] = corrupt(p.ops[pc], which, v);
        if p.verify().is_ok() {
            prop_assert!(run(&c, &p).is_ok());
        }
    }
}
