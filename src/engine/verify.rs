//! Checks a [`Program`] once, before the event loop trusts it.
//!
//! The event loop indexes its tables without bounds checks (`sim::at`), which is sound only
//! for a program whose every index is in range and whose flows cannot run past their last
//! instruction. [`Program::compile`] builds only such programs, but a `Program` has public
//! fields and can be built or changed by hand; [`Program::verify`] checks those facts on
//! whatever it is given, and [`crate::engine::simulate`] refuses a program that fails them.
//!
//! Two passes: the tables and each instruction on its own (indices, jump targets), then the
//! flows from every entry point with what a request may hold at each instruction (routed or
//! not, loops open, units held), as a bytecode verifier does.

use super::program::{AppGroup, DbGroup, EndpointProg, Op, Program, Sel, Source, UNTRACKED};
use super::sim::{MAX_HELD, MAX_LOOPS};
use std::fmt;
use thiserror::Error;

/// Where in a program a rule is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The instruction at this index of [`Program::ops`].
    Op(u32),
    Endpoint(u32),
    App(u32),
    Db(u32),
    Sampler(u32),
    /// The workload's source, mix and streams.
    Workload,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Op(pc) => write!(f, "instruction {pc}"),
            Place::Endpoint(i) => write!(f, "endpoint {i}"),
            Place::App(g) => write!(f, "app group {g}"),
            Place::Db(g) => write!(f, "database group {g}"),
            Place::Sampler(s) => write!(f, "sampler {s}"),
            Place::Workload => f.write_str("the workload"),
        }
    }
}

/// What an index points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Resource,
    Sampler,
    Stream,
    Instruction,
    Endpoint,
    App,
    Db,
    LoopDepth,
    Instance,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Table::Resource => "resource",
            Table::Sampler => "sampler",
            Table::Stream => "stream",
            Table::Instruction => "instruction",
            Table::Endpoint => "endpoint",
            Table::App => "app group",
            Table::Db => "database group",
            Table::LoopDepth => "loop depth",
            Table::Instance => "app instance",
        })
    }
}

/// A fact the event loop relies on that a program does not satisfy.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProgramError {
    #[error("{at}: {table} {index} is out of range (there are {len})")]
    OutOfRange {
        at: Place,
        table: Table,
        index: u64,
        len: usize,
    },
    #[error("{len} instructions; at most {} can be addressed", u32::MAX)]
    TooLong { len: usize },
    #[error("the program has no endpoint; the mix needs at least one")]
    NoEndpoints,
    #[error("{what} has {len} entries for {endpoints} endpoints; it needs one per endpoint")]
    Length {
        what: &'static str,
        len: usize,
        endpoints: usize,
    },
    #[error(
        "endpoint {endpoint}: series slot {slot} does not match `tracked`; a slot is `UNTRACKED` or the index in `tracked` that names the endpoint"
    )]
    Slot { endpoint: u32, slot: u32 },
    #[error("app group {app} has no instance; an app runs at least one")]
    NoInstance { app: u32 },
    #[error("resource {res}: processor-sharing cores with no core; give them at least one")]
    NoCores { res: u32 },
    #[error(
        "{at}: resource {res} is used the wrong way; a `Share` runs on processor-sharing cores and every other instruction on a resource with a queue"
    )]
    Sharing { at: Place, res: u32 },
    #[error(
        "instruction {pc}: control goes on past the last instruction; end every flow with `End` or a `Jump`"
    )]
    RunsOffEnd { pc: u32 },
    #[error(
        "instruction {pc}: goes back to instruction {to}; jumps, branches and spawns go forward, only a `LoopEnd` goes back"
    )]
    JumpsBack { pc: u32, to: u32 },
    #[error("instruction {pc}: a loop of no iteration; a `LoopStart` counts at least 1")]
    EmptyLoop { pc: u32 },
    #[error(
        "instruction {pc}: the `LoopEnd` names instruction {start}, which is not an earlier `LoopStart` of the same depth"
    )]
    LoopEnd { pc: u32, start: u32 },
    #[error(
        "instruction {pc}: a loop of depth {depth} where {open} loops are open; a loop's depth is the number of loops around it, so its `LoopStart` of depth d comes inside d open loops and its `LoopEnd` inside d + 1"
    )]
    LoopNesting { pc: u32, depth: u8, open: u8 },
    #[error("instruction {pc}: a request may hold more than {MAX_HELD} units here")]
    HoldsTooMany { pc: u32 },
    #[error("instruction {pc}: a `Release` where a request may hold nothing")]
    ReleasesNothing { pc: u32 },
    #[error(
        "instruction {pc}: a per-instance resource before the request is routed; a `Route` to the endpoint's app comes first (a background job has no instance)"
    )]
    NotRouted { pc: u32 },
    #[error(
        "instruction {pc}: per-instance resource {base} is not the workers, cores or pool of the app the request was routed to"
    )]
    WrongInstance { pc: u32, base: u32 },
    #[error(
        "instruction {pc}: routes to app group {group}; a request is routed once, to its endpoint's app (a background job is not routed)"
    )]
    BadRoute { pc: u32, group: u32 },
    #[error(
        "instruction {pc}: takes proxy connection {res}; a request takes one, its endpoint's `front` (a background job takes none)"
    )]
    BadFront { pc: u32, res: u32 },
    #[error(
        "instruction {pc}: reached with different states (a background job and a request, another app or proxy, routed or not, other loops open); flows do not share instructions that way"
    )]
    Conflict { pc: u32 },
}

type Check = Result<(), ProgramError>;

impl Program {
    /// Checks every index and structural fact the event loop relies on: every index an
    /// instruction, an endpoint, a group or the workload holds is in range; every flow ends
    /// with `End` or a `Jump`, jumps only forward (only a loop's end goes back, a bounded
    /// number of times, so no flow runs forever within one instant), nests its loops and
    /// routes its request before it uses a per-instance resource; a request never releases
    /// more units than it holds nor holds more than the engine has room for. A program from
    /// [`Program::compile`] always passes.
    ///
    /// The cost is linear in the program's size (each instruction is visited a bounded number
    /// of times), negligible beside a replication.
    ///
    /// # Errors
    /// The first rule broken, with where.
    pub fn verify(&self) -> Result<(), ProgramError> {
        Tables { p: self }.run()?;
        Flows::new(self).run()
    }
}

fn below(at: Place, table: Table, index: impl Into<u64>, len: usize) -> Check {
    let index = index.into();
    if index < len as u64 {
        Ok(())
    } else {
        Err(ProgramError::OutOfRange {
            at,
            table,
            index,
            len,
        })
    }
}

/// The first pass: the tables, and each instruction on its own.
struct Tables<'p> {
    p: &'p Program,
}

impl Tables<'_> {
    fn run(&self) -> Check {
        let p = self.p;
        if p.ops.len() > u32::MAX as usize {
            return Err(ProgramError::TooLong { len: p.ops.len() });
        }
        for (id, r) in p.resources.iter().enumerate() {
            if r.shared && r.units == 0 {
                return Err(ProgramError::NoCores { res: id as u32 });
            }
        }
        for (i, site) in p.samplers.iter().enumerate() {
            self.stream(Place::Sampler(i as u32), site.stream)?;
        }
        self.workload()?;
        for (i, e) in p.endpoints.iter().enumerate() {
            self.endpoint(i as u32, e)?;
        }
        self.slots()?;
        for (g, a) in p.apps.iter().enumerate() {
            self.app(g as u32, a)?;
        }
        for (g, d) in p.dbs.iter().enumerate() {
            self.db(g as u32, d)?;
        }
        (0..p.ops.len()).try_for_each(|pc| self.op(pc as u32))
    }

    fn stream(&self, at: Place, s: u32) -> Check {
        below(at, Table::Stream, s, self.p.streams.len())
    }

    fn sampler(&self, at: Place, s: u32) -> Check {
        below(at, Table::Sampler, s, self.p.samplers.len())
    }

    fn workload(&self) -> Check {
        let (p, at) = (self.p, Place::Workload);
        self.stream(at, p.mix_stream)?;
        self.stream(at, p.arrival_stream)?;
        match p.source {
            Source::Closed { think, on_start } => {
                self.sampler(at, think)?;
                if let Some(ep) = on_start {
                    below(at, Table::Endpoint, ep, p.endpoints.len())?;
                }
            }
            Source::Renewal { interarrival } => self.sampler(at, interarrival)?,
            Source::Poisson => {}
        }
        let endpoints = p.endpoints.len();
        if endpoints == 0 {
            return Err(ProgramError::NoEndpoints);
        }
        for (what, len) in [
            ("mix_cdf", p.mix_cdf.len()),
            ("series_slot", p.series_slot.len()),
        ] {
            if len != endpoints {
                return Err(ProgramError::Length {
                    what,
                    len,
                    endpoints,
                });
            }
        }
        Ok(())
    }

    fn endpoint(&self, i: u32, e: &EndpointProg) -> Check {
        let (p, at) = (self.p, Place::Endpoint(i));
        below(at, Table::Instruction, e.entry, p.ops.len())?;
        if let Some(b) = e.backoff {
            self.sampler(at, b)?;
        }
        if let Some(res) = e.front {
            self.queued(at, res)?;
        }
        if let Some(g) = e.group {
            below(at, Table::App, g, p.apps.len())?;
        }
        Ok(())
    }

    /// Each endpoint's series slot is `UNTRACKED` or the index in `tracked` that names it, and
    /// every entry of `tracked` is named back.
    fn slots(&self) -> Check {
        let p = self.p;
        for (i, &slot) in p.series_slot.iter().enumerate() {
            let back = p.tracked.get(slot as usize) == Some(&(i as u32));
            if slot != UNTRACKED && !back {
                return Err(ProgramError::Slot {
                    endpoint: i as u32,
                    slot,
                });
            }
        }
        for (slot, &ep) in p.tracked.iter().enumerate() {
            if p.series_slot.get(ep as usize) != Some(&(slot as u32)) {
                return Err(ProgramError::Slot {
                    endpoint: ep,
                    slot: slot as u32,
                });
            }
        }
        Ok(())
    }

    fn app(&self, g: u32, a: &AppGroup) -> Check {
        let at = Place::App(g);
        if a.instances == 0 {
            return Err(ProgramError::NoInstance { app: g });
        }
        let last = u64::from(a.first_instance) + u64::from(a.instances) - 1;
        below(at, Table::Instance, last, self.p.instances as usize)?;
        self.stream(at, a.stream)?;
        self.run_of(at, a.workers, a.instances, Some(false))?;
        self.run_of(at, a.cpu, a.instances, None)?;
        if let Some(pool) = a.pool {
            self.run_of(at, pool, a.instances, Some(false))?;
        }
        Ok(())
    }

    fn db(&self, g: u32, d: &DbGroup) -> Check {
        let at = Place::Db(g);
        self.stream(at, d.stream)?;
        self.queued(at, d.primary)?;
        if d.replicas > 0 {
            self.run_of(at, d.first_replica, d.replicas, Some(false))?;
        }
        Ok(())
    }

    /// Resources `base..base + n` exist and are all processor-sharing cores or all not
    /// (`shared`: which one, when it matters).
    fn run_of(&self, at: Place, base: u32, n: u32, shared: Option<bool>) -> Check {
        let res = &self.p.resources;
        let (start, end) = (base as usize, base as usize + n as usize);
        below(at, Table::Resource, end as u64 - 1, res.len())?;
        let run = &res[start..end];
        let want = shared.unwrap_or(run[0].shared);
        match run.iter().position(|r| r.shared != want) {
            Some(k) => Err(ProgramError::Sharing {
                at,
                res: (start + k) as u32,
            }),
            None => Ok(()),
        }
    }

    /// Resource `res` exists and has a queue (is not processor-sharing cores).
    fn queued(&self, at: Place, res: u32) -> Check {
        self.run_of(at, res, 1, Some(false))
    }

    fn op(&self, pc: u32) -> Check {
        let (p, at) = (self.p, Place::Op(pc));
        let op = p.ops[pc as usize];
        match op {
            Op::Serve { res, sampler } => {
                self.sel(pc, res, false)?;
                self.sampler(at, sampler)?;
            }
            Op::Share { res, sampler } => {
                self.sel(pc, res, true)?;
                self.sampler(at, sampler)?;
            }
            Op::Acquire { res } | Op::AcquirePool { res } => self.sel(pc, res, false)?,
            Op::Hold { sampler } => self.sampler(at, sampler)?,
            Op::Branch {
                stream, else_pc, ..
            } => {
                self.stream(at, stream)?;
                self.forward(pc, else_pc)?;
            }
            Op::Jump { to } => self.forward(pc, to)?,
            Op::Spawn { entry } => self.forward(pc, entry)?,
            Op::LoopStart { n, depth } => {
                below(at, Table::LoopDepth, depth, MAX_LOOPS)?;
                if n == 0 {
                    return Err(ProgramError::EmptyLoop { pc });
                }
            }
            Op::LoopEnd { start, depth } => {
                below(at, Table::LoopDepth, depth, MAX_LOOPS)?;
                self.loop_end(pc, start, depth)?;
            }
            Op::FrontAcquire { res } => self.queued(at, res)?,
            Op::Route { group } => below(at, Table::App, group, p.apps.len())?,
            Op::Release | Op::End => {}
        }
        let goes_on = !matches!(op, Op::End | Op::Jump { .. });
        if goes_on && pc as usize + 1 >= p.ops.len() {
            return Err(ProgramError::RunsOffEnd { pc });
        }
        Ok(())
    }

    /// What a selector can check without the flow (a per-instance one is checked by
    /// [`Flows`], which knows the app the request was routed to).
    fn sel(&self, pc: u32, sel: Sel, share: bool) -> Check {
        let (p, at) = (self.p, Place::Op(pc));
        match sel {
            Sel::Fixed(id) => {
                below(at, Table::Resource, id, p.resources.len())?;
                self.shared_as(pc, id, share)
            }
            Sel::Instance(base) => below(at, Table::Resource, base, p.resources.len()),
            Sel::DbRead(g) | Sel::DbWrite(g) => {
                below(at, Table::Db, g, p.dbs.len())?;
                self.shared_as(pc, p.dbs[g as usize].primary, share)
            }
        }
    }

    fn shared_as(&self, pc: u32, res: u32, share: bool) -> Check {
        if self.p.resources[res as usize].shared == share {
            Ok(())
        } else {
            Err(ProgramError::Sharing {
                at: Place::Op(pc),
                res,
            })
        }
    }

    /// `to` is a later instruction.
    fn forward(&self, pc: u32, to: u32) -> Check {
        below(Place::Op(pc), Table::Instruction, to, self.p.ops.len())?;
        if to <= pc {
            return Err(ProgramError::JumpsBack { pc, to });
        }
        Ok(())
    }

    /// A `LoopEnd` jumps back to `start + 1`: `start` must be an earlier `LoopStart` of its
    /// depth (so `start + 1 <= pc` is an instruction).
    fn loop_end(&self, pc: u32, start: u32, depth: u8) -> Check {
        let opens = start < pc
            && matches!(self.p.ops[start as usize], Op::LoopStart { depth: d, .. } if d == depth);
        if opens {
            Ok(())
        } else {
            Err(ProgramError::LoopEnd { pc, start })
        }
    }
}

/// What runs a flow: a client's request of an endpoint with this app and proxy, or a
/// background job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    Request {
        group: Option<u32>,
        front: Option<u32>,
    },
    Job,
}

/// The `(units held, pool taken)` pairs a request may be in at an instruction, as bits
/// `2 * units + pool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held(u32);

// Up to `MAX_HELD + 1` units (one too many, before it is refused) fit the bits.
const _: () = assert!(2 * (MAX_HELD + 1) + 1 < 32);

impl Held {
    /// Nothing held, no pool connection taken.
    const NONE: Held = Held(1);
    /// The pairs without the pool taken: the even bits.
    const NO_POOL: u32 = 0x5555_5555;

    fn acquire(self) -> Held {
        Held(self.0 << 2)
    }

    /// Takes a unit unless the pool connection is already taken.
    fn acquire_pool(self) -> Held {
        Held(((self.0 & Self::NO_POOL) << 3) | (self.0 & !Self::NO_POOL))
    }

    fn release(self) -> Held {
        Held(self.0 >> 2)
    }

    fn most(self) -> u32 {
        (31 - self.0.leading_zeros()) / 2
    }

    fn fewest(self) -> u32 {
        self.0.trailing_zeros() / 2
    }
}

/// What is known of a request when it reaches an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    runner: Runner,
    routed: bool,
    front_held: bool,
    /// Loops open around the instruction.
    open: u8,
    held: Held,
}

impl State {
    fn start(runner: Runner) -> State {
        State {
            runner,
            routed: false,
            front_held: false,
            open: 0,
            held: Held::NONE,
        }
    }

    /// Whether `self` and `o` may meet at one instruction: all but the units held agree.
    fn meets(&self, o: &State) -> bool {
        (self.runner, self.routed, self.front_held, self.open)
            == (o.runner, o.routed, o.front_held, o.open)
    }
}

/// The second pass: the flows from every entry point, with the state each instruction is
/// reached in, until nothing changes. Control only goes forward but at a `LoopEnd`, and a
/// state only grows by the units a request may hold (at most `2 * (MAX_HELD + 1)` times), so
/// each instruction is visited a bounded number of times.
struct Flows<'p> {
    p: &'p Program,
    at: Vec<Option<State>>,
    todo: Vec<u32>,
}

impl<'p> Flows<'p> {
    fn new(p: &'p Program) -> Self {
        Flows {
            p,
            at: vec![None; p.ops.len()],
            todo: Vec::new(),
        }
    }

    fn run(mut self) -> Check {
        for e in &self.p.endpoints {
            let runner = Runner::Request {
                group: e.group,
                front: e.front,
            };
            self.reach(e.entry, State::start(runner))?;
        }
        while let Some(pc) = self.todo.pop() {
            let s = self.at[pc as usize].expect("queued once reached");
            self.step(pc, s)?;
        }
        Ok(())
    }

    /// Control comes to `pc` in state `s`.
    fn reach(&mut self, pc: u32, s: State) -> Check {
        let slot = &mut self.at[pc as usize];
        let merged = match *slot {
            None => s,
            Some(old) if old.meets(&s) => State {
                held: Held(old.held.0 | s.held.0),
                ..old
            },
            Some(_) => return Err(ProgramError::Conflict { pc }),
        };
        if *slot != Some(merged) {
            *slot = Some(merged);
            self.todo.push(pc);
        }
        Ok(())
    }

    fn step(&mut self, pc: u32, s: State) -> Check {
        let next = pc + 1; // an instruction: the first pass checked it
        match self.p.ops[pc as usize] {
            Op::Serve { res, .. } => {
                self.uses(pc, res, &s, false)?;
                // The unit served is held during the service.
                self.holds(pc, s.held.acquire())?;
                self.reach(next, s)
            }
            Op::Share { res, .. } => {
                self.uses(pc, res, &s, true)?;
                self.reach(next, s)
            }
            Op::Acquire { res } => {
                self.uses(pc, res, &s, false)?;
                let held = self.holds(pc, s.held.acquire())?;
                self.reach(next, State { held, ..s })
            }
            Op::AcquirePool { res } => {
                self.uses(pc, res, &s, false)?;
                let held = self.holds(pc, s.held.acquire_pool())?;
                self.reach(next, State { held, ..s })
            }
            Op::Release => {
                if s.held.fewest() == 0 {
                    return Err(ProgramError::ReleasesNothing { pc });
                }
                let held = s.held.release();
                self.reach(next, State { held, ..s })
            }
            Op::Hold { .. } => self.reach(next, s),
            Op::Branch { else_pc, .. } => {
                self.reach(next, s)?;
                self.reach(else_pc, s)
            }
            Op::Jump { to } => self.reach(to, s),
            Op::LoopStart { depth, .. } => {
                nests(pc, depth, s.open, depth)?;
                self.reach(
                    next,
                    State {
                        open: depth + 1,
                        ..s
                    },
                )
            }
            Op::LoopEnd { start, depth } => {
                nests(pc, depth, s.open, depth + 1)?;
                self.reach(start + 1, s)?;
                self.reach(next, State { open: depth, ..s })
            }
            Op::FrontAcquire { res } => {
                let own = matches!(s.runner, Runner::Request { front: Some(f), .. } if f == res);
                if !own || s.front_held {
                    return Err(ProgramError::BadFront { pc, res });
                }
                self.reach(
                    next,
                    State {
                        front_held: true,
                        ..s
                    },
                )
            }
            Op::Route { group } => {
                let own = matches!(s.runner, Runner::Request { group: Some(g), .. } if g == group);
                if !own || s.routed {
                    return Err(ProgramError::BadRoute { pc, group });
                }
                self.reach(next, State { routed: true, ..s })
            }
            Op::Spawn { entry } => {
                self.reach(entry, State::start(Runner::Job))?;
                self.reach(next, s)
            }
            Op::End => Ok(()),
        }
    }

    /// `held` fits the request's room for held units.
    fn holds(&self, pc: u32, held: Held) -> Result<Held, ProgramError> {
        if held.most() as usize > MAX_HELD {
            return Err(ProgramError::HoldsTooMany { pc });
        }
        Ok(held)
    }

    /// A per-instance selector names a resource of the app the request was routed to, of the
    /// right kind (the first pass checked the others and the groups' resources).
    fn uses(&self, pc: u32, sel: Sel, s: &State, share: bool) -> Check {
        let Sel::Instance(base) = sel else {
            return Ok(());
        };
        let (Runner::Request { group: Some(g), .. }, true) = (s.runner, s.routed) else {
            return Err(ProgramError::NotRouted { pc });
        };
        let a = &self.p.apps[g as usize];
        if base != a.workers && base != a.cpu && Some(base) != a.pool {
            return Err(ProgramError::WrongInstance { pc, base });
        }
        if self.p.resources[base as usize].shared != share {
            return Err(ProgramError::Sharing {
                at: Place::Op(pc),
                res: base,
            });
        }
        Ok(())
    }
}

/// A loop of depth `depth` opens or closes where `open` loops are open, and `inside` should be.
fn nests(pc: u32, depth: u8, open: u8, inside: u8) -> Check {
    if open == inside {
        Ok(())
    } else {
        Err(ProgramError::LoopNesting { pc, depth, open })
    }
}

#[cfg(test)]
mod tests;
