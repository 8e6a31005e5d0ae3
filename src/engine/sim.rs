//! The event loop: one clock, one event list, requests moving through their flows while
//! holding resources at once (a worker while it waits for a pool connection while that waits
//! for a database slot).
//!
//! Requests live in a slab of fixed-size slots reused through a free list, resource queues are
//! ring buffers, and every per-event decision is an index or a `match` on a small enum, so the
//! steady state allocates nothing and looks nothing up by name.

use super::events::{Event, EventList, Kind};
use super::observer::{ErrorKind, Observer, Outcome};
use super::parts::{Part, Tracker};
use super::program::{Op, Program, Sel, Source};
use super::rng::{Rng, stream, stream_key};
use super::sampler::{Sampler, unit};
use super::sharing::{Departure, SharedCores};
use super::verify::ProgramError;
use super::workload::ScenarioPlan;
use crate::model::Policy;
use rand_distr::{Distribution, Exp1};
use std::collections::VecDeque;
use thiserror::Error;

/// Resources a request can hold at once (worker, pool connection, core or DB slot, ...).
pub(crate) const MAX_HELD: usize = 8;
/// Nested `repeat` levels (see `model::validate::MAX_REPEAT_DEPTH`).
pub(crate) const MAX_LOOPS: usize = crate::model::validate::MAX_REPEAT_DEPTH;
/// No request / no user / not routed.
const NONE: u32 = u32::MAX;
/// Endpoint index of a background job.
const JOB: u32 = u32::MAX;
/// Events in a row at one instant before the run is declared stalled.
const STALL_LIMIT: u64 = 50_000_000;

const CLIENT_GONE: u8 = 1;
const POOL_HELD: u8 = 2;
const FRONT_HELD: u8 = 4;
const ROUTED: u8 = 8;
const ALIVE: u8 = 16;

/// Why a run could not complete.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimError {
    #[error(
        "the simulation stopped advancing at t = {at_s} s: {events} events happened at that instant (a zero think time or backoff with instant errors loops forever); give the think time or the retry backoff a positive duration"
    )]
    Stalled { at_s: f64, events: u64 },
    #[error(
        "the program cannot be run: {0}; a program compiled from a checked model by `Program::compile` always can"
    )]
    Program(#[from] ProgramError),
}

/// What a run did, beside what the observer measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunInfo {
    /// Events taken off the event list.
    pub events: u64,
    /// Requests (not jobs) still in the system at the end, per endpoint.
    pub in_system: Vec<u64>,
    /// Attempts still waiting for a response at the end, per endpoint.
    pub awaiting_response: Vec<u64>,
    /// Background jobs still queued or running at the end.
    pub jobs_in_system: u64,
}

#[derive(Debug, Clone, Copy)]
struct Req {
    pc: u32,
    ep: u32,
    inc: u32,
    wait_gen: u32,
    waiting_on: u32,
    client: u32,
    attempt: u32,
    inst: u32,
    flags: u8,
    n_held: u8,
    held: [u32; MAX_HELD],
    loops: [u32; MAX_LOOPS],
    start: f64,
}

impl Req {
    const EMPTY: Req = Req {
        pc: 0,
        ep: 0,
        inc: 0,
        wait_gen: 0,
        waiting_on: NONE,
        client: NONE,
        attempt: 0,
        inst: NONE,
        flags: 0,
        n_held: 0,
        held: [0; MAX_HELD],
        loops: [0; MAX_LOOPS],
        start: 0.0,
    };
}

#[derive(Debug, Clone, Copy)]
struct Waiter {
    req: u32,
    generation: u32,
    since: f64,
}

#[derive(Debug, Clone)]
struct Res {
    busy: u32,
    waiting: u32,
    units: u32,
    cap: u32,
    timeout_s: f64,
    queue: VecDeque<Waiter>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum UserState {
    Retired,
    Thinking,
    Waiting,
    Backoff,
}

#[derive(Debug, Clone, Copy)]
struct User {
    state: UserState,
    inc: u32,
    ep: u32,
    attempt: u32,
    /// Its on-start request is still to be answered.
    fresh: bool,
}

enum Acq {
    Granted,
    Queued,
    Refused,
}

/// One replication of one scenario; `PARTS`: it follows each request's parts (see
/// [`super::parts`]). A constant, so a run that does not follow them compiles without them.
pub struct Sim<'p, O: Observer, const PARTS: bool> {
    prog: &'p Program,
    plan: &'p ScenarioPlan,
    /// Owned, not borrowed: the event loop reaches the accumulators without an indirection.
    obs: O,
    now: f64,
    events: EventList,
    reqs: Vec<Req>,
    free: Vec<u32>,
    live: u32,
    res: Vec<Res>,
    /// Processor-sharing cores, and per resource its index among them (or `NONE`).
    shares: Vec<SharedCores>,
    share_of: Vec<u32>,
    rngs: Vec<Rng>,
    ready: VecDeque<u32>,
    inst_load: Vec<u32>,
    rr: Vec<u32>,
    db_rr: Vec<u32>,
    users: Vec<User>,
    free_users: Vec<u32>,
    active_users: u32,
    to_retire: u32,
    changes: Vec<(f64, i32)>,
    event_count: u64,
    /// Each request's time by part (empty unless `PARTS`).
    parts: Tracker,
}

/// Runs replication `replication` of `plan` with `seed`, reporting to `obs`, and gives the
/// observer back.
///
/// `prog` is verified first ([`Program::verify`]): the event loop indexes the program's tables
/// without bounds checks. The check is linear in the program's size, once per replication,
/// nothing beside its events.
///
/// # Errors
/// [`SimError::Program`] when `prog` fails its verification (it was not built by
/// [`Program::compile`], or was changed since); [`SimError::Stalled`] when the model makes
/// simulated time stop (e.g. zero think time with errors that come back instantly).
pub fn simulate<O: Observer>(
    prog: &Program,
    plan: &ScenarioPlan,
    seed: u64,
    replication: u64,
    obs: O,
) -> Result<(O, RunInfo), SimError> {
    prog.verify()?;
    if obs.tracks_parts() {
        run::<O, true>(prog, plan, seed, replication, obs)
    } else {
        run::<O, false>(prog, plan, seed, replication, obs)
    }
}

fn run<O: Observer, const PARTS: bool>(
    prog: &Program,
    plan: &ScenarioPlan,
    seed: u64,
    replication: u64,
    obs: O,
) -> Result<(O, RunInfo), SimError> {
    let mut sim = Sim::<O, PARTS>::new(prog, plan, seed, replication, obs);
    sim.start();
    sim.run()?;
    Ok(sim.finish())
}

impl<'p, O: Observer, const PARTS: bool> Sim<'p, O, PARTS> {
    fn new(prog: &'p Program, plan: &'p ScenarioPlan, seed: u64, replication: u64, obs: O) -> Self {
        let rngs = prog
            .streams
            .iter()
            .map(|s| stream(seed, replication, stream_key(s)))
            .collect();
        let res = prog
            .resources
            .iter()
            .map(|r| Res {
                busy: 0,
                waiting: 0,
                units: r.units,
                cap: r.queue_cap,
                timeout_s: r.timeout_s,
                queue: VecDeque::new(),
            })
            .collect();
        let mut shares = Vec::new();
        let share_of = prog
            .resources
            .iter()
            .enumerate()
            .map(|(id, r)| {
                if !r.shared {
                    return NONE;
                }
                shares.push(SharedCores::new(id as u32, r.units));
                (shares.len() - 1) as u32
            })
            .collect();
        Sim {
            prog,
            plan,
            obs,
            now: 0.0,
            events: EventList::with_capacity(1024),
            reqs: Vec::new(),
            free: Vec::new(),
            live: 0,
            res,
            shares,
            share_of,
            rngs,
            ready: VecDeque::new(),
            inst_load: vec![0; prog.instances as usize],
            rr: vec![0; prog.apps.len()],
            db_rr: vec![0; prog.dbs.len()],
            users: Vec::new(),
            free_users: Vec::new(),
            active_users: 0,
            to_retire: 0,
            changes: Vec::new(),
            event_count: 0,
            parts: Tracker::default(),
        }
    }

    fn start(&mut self) {
        let level = self.plan.level.at(0.0);
        self.obs.load_level(0.0, level);
        match self.prog.source {
            Source::Closed { .. } => {
                self.changes = self.plan.level.user_changes();
                if !self.changes.is_empty() {
                    self.events.push(self.changes[0].0, Kind::LevelStep, 0, 0);
                }
            }
            Source::Poisson | Source::Renewal { .. } => self.schedule_arrival(),
        }
        if self.plan.window_s < self.plan.horizon_s {
            self.events.push(self.plan.window_s, Kind::Window, 1, 0);
        }
        if self.plan.warmup_s > 0.0 {
            self.events.push(self.plan.warmup_s, Kind::Reset, 0, 0);
        }
        for &t in &self.plan.stage_ends {
            if t < self.plan.horizon_s {
                self.events.push(t, Kind::StageEnd, 0, 0);
            }
        }
    }

    fn run(&mut self) -> Result<(), SimError> {
        let horizon = self.plan.horizon_s;
        let mut same_instant = 0u64;
        while let Some(ev) = self.events.pop() {
            if ev.time > horizon {
                break;
            }
            if ev.time == self.now {
                same_instant += 1;
                if same_instant > STALL_LIMIT {
                    return Err(SimError::Stalled {
                        at_s: self.now,
                        events: same_instant,
                    });
                }
            } else {
                same_instant = 0;
            }
            self.now = ev.time;
            self.event_count += 1;
            self.dispatch(ev);
            while let Some(r) = self.ready.pop_front() {
                self.resume(r);
            }
        }
        self.now = horizon;
        Ok(())
    }

    #[inline]
    fn dispatch(&mut self, ev: Event) {
        // The two kinds that make most events are tested first with plain conditional
        // branches, which predict far better than the jump table a full `match` compiles to.
        let kind = ev.kind();
        if kind == Kind::Wake {
            return self.wake(ev.a());
        }
        if kind == Kind::Arrival {
            let ep = self.pick_endpoint();
            self.issue(ep, NONE, 0);
            return self.schedule_arrival();
        }
        self.dispatch_other(ev, kind);
    }

    #[inline(never)]
    fn dispatch_other(&mut self, ev: Event, kind: Kind) {
        match kind {
            Kind::Arrival | Kind::Wake => unreachable!("dispatched before"),
            Kind::LevelStep => self.level_step(ev.a() as usize),
            Kind::UserWake => self.user_wake(ev.a(), ev.b()),
            Kind::ClientTimeout => self.client_timeout(ev.a(), ev.b()),
            Kind::WaitTimeout => self.wait_timeout(ev.a(), ev.b()),
            Kind::Retry => self.issue(ev.a(), NONE, ev.b()),
            Kind::Window => {
                self.obs.window_end(self.now);
                let next = self.plan.window_s * f64::from(ev.a() + 1);
                if next < self.plan.horizon_s {
                    self.events.push(next, Kind::Window, ev.a() + 1, 0);
                }
            }
            Kind::Reset => self.obs.reset(self.now),
            Kind::CoreDone => self.core_done(ev.a(), ev.b()),
            Kind::StageEnd => self.obs.stage_end(self.now),
        }
    }

    fn finish(mut self) -> (O, RunInfo) {
        let n = self.prog.endpoints.len();
        let mut info = RunInfo {
            events: self.event_count,
            in_system: vec![0; n],
            awaiting_response: vec![0; n],
            jobs_in_system: 0,
        };
        for r in self.reqs.iter().filter(|r| r.flags & ALIVE != 0) {
            if r.ep == JOB {
                info.jobs_in_system += 1;
                continue;
            }
            info.in_system[r.ep as usize] += 1;
            if r.flags & CLIENT_GONE == 0 {
                info.awaiting_response[r.ep as usize] += 1;
                self.obs.unfinished(r.ep, self.now - r.start);
            }
        }
        self.obs.finish(self.now);
        (self.obs, info)
    }

    // ----- workload -------------------------------------------------------------------------

    #[inline]
    fn rng(&mut self, stream: u32) -> &mut Rng {
        at_mut(&mut self.rngs, stream)
    }

    #[inline(always)]
    fn pick_endpoint(&mut self) -> u32 {
        if self.prog.mix_cdf[0] == f64::INFINITY {
            return 0; // a single endpoint in the mix: no draw needed
        }
        let u = unit(self.rng(self.prog.mix_stream));
        self.prog.mix_cdf.iter().position(|c| u < *c).unwrap_or(0) as u32
    }

    #[inline(always)]
    fn schedule_arrival(&mut self) {
        let work = match self.prog.source {
            Source::Poisson => {
                let e: f64 = Exp1.sample(self.rng(self.prog.arrival_stream));
                e
            }
            Source::Renewal { interarrival } => self.draw(interarrival) * self.prog.base_level,
            Source::Closed { .. } => return,
        };
        if let Some(t) = self.plan.level.advance(self.now, work)
            && t <= self.plan.horizon_s
        {
            self.events.push(t, Kind::Arrival, 0, 0);
        }
    }

    #[inline(always)]
    fn draw(&mut self, sampler: u32) -> f64 {
        let site = at(&self.prog.samplers, sampler);
        let rng = at_mut(&mut self.rngs, site.stream);
        match site.sampler {
            // The queueing models' staple, kept out of the general match.
            Sampler::Exp(mean) => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            ref s => s.sample(rng),
        }
    }

    fn level_step(&mut self, i: usize) {
        let (_, delta) = self.changes[i];
        if delta > 0 {
            if self.to_retire > 0 {
                self.to_retire -= 1;
            } else {
                self.start_user();
            }
        } else {
            self.to_retire += 1;
        }
        self.obs.load_level(
            self.now,
            f64::from(self.active_users) - f64::from(self.to_retire),
        );
        if let Some(&(t, _)) = self.changes.get(i + 1) {
            self.events.push(t, Kind::LevelStep, (i + 1) as u32, 0);
        }
    }

    fn start_user(&mut self) {
        let u = match self.free_users.pop() {
            Some(u) => u,
            None => {
                let u = User {
                    state: UserState::Retired,
                    inc: 0,
                    ep: 0,
                    attempt: 0,
                    fresh: false,
                };
                self.users.push(u);
                (self.users.len() - 1) as u32
            }
        };
        self.active_users += 1;
        self.users[u as usize].inc = self.users[u as usize].inc.wrapping_add(1);
        let Source::Closed { on_start, .. } = self.prog.source else {
            unreachable!("closed workload")
        };
        self.users[u as usize].fresh = on_start.is_some();
        let ep = match on_start {
            Some(ep) => ep,
            None => self.pick_endpoint(),
        };
        self.user_issue(u, ep, 0);
    }

    fn user_issue(&mut self, u: u32, ep: u32, attempt: u32) {
        let user = &mut self.users[u as usize];
        user.state = UserState::Waiting;
        user.ep = ep;
        user.attempt = attempt;
        self.issue(ep, u, attempt);
    }

    /// After a response: retry, stop (ramp-down), or think.
    fn user_response(&mut self, u: u32, ep: u32, attempt: u32, ok: bool) {
        let e = &self.prog.endpoints[ep as usize];
        if !ok && attempt < e.retries {
            let wait = e.backoff.map_or(0.0, |b| self.draw(b));
            self.users[u as usize].state = UserState::Backoff;
            self.users[u as usize].attempt = attempt + 1;
            let inc = self.users[u as usize].inc;
            self.events.push(self.now + wait, Kind::UserWake, u, inc);
        } else if self.to_retire > 0 {
            self.retire(u);
        } else {
            let Source::Closed { think, .. } = self.prog.source else {
                unreachable!("closed")
            };
            if std::mem::take(&mut self.users[u as usize].fresh) {
                // Like Locust, the first task follows the on-start request without a wait.
                let next = self.pick_endpoint();
                return self.user_issue(u, next, 0);
            }
            let t = self.draw(think);
            self.users[u as usize].state = UserState::Thinking;
            let inc = self.users[u as usize].inc;
            self.events.push(self.now + t, Kind::UserWake, u, inc);
        }
    }

    fn user_wake(&mut self, u: u32, inc: u32) {
        let user = self.users[u as usize];
        if user.inc != inc {
            return;
        }
        match user.state {
            UserState::Backoff => self.user_issue(u, user.ep, user.attempt),
            UserState::Thinking if self.to_retire > 0 => self.retire(u),
            UserState::Thinking => {
                let ep = self.pick_endpoint();
                self.user_issue(u, ep, 0);
            }
            UserState::Retired | UserState::Waiting => {}
        }
    }

    fn retire(&mut self, u: u32) {
        self.to_retire -= 1;
        self.active_users -= 1;
        let user = &mut self.users[u as usize];
        user.state = UserState::Retired;
        user.inc = user.inc.wrapping_add(1);
        self.free_users.push(u);
        self.obs.load_level(
            self.now,
            f64::from(self.active_users) - f64::from(self.to_retire),
        );
    }

    // ----- requests -------------------------------------------------------------------------

    #[inline(always)]
    fn alloc(&mut self, ep: u32, client: u32, attempt: u32, pc: u32) -> u32 {
        let r = match self.free.pop() {
            Some(r) => r,
            None => {
                self.reqs.push(Req::EMPTY);
                (self.reqs.len() - 1) as u32
            }
        };
        // Only the header is reset: `held` and `loops` are written before they are read.
        let slot = at_mut(&mut self.reqs, r);
        slot.pc = pc;
        slot.ep = ep;
        slot.inc = slot.inc.wrapping_add(1);
        slot.waiting_on = NONE;
        slot.client = client;
        slot.attempt = attempt;
        slot.inst = NONE;
        slot.flags = ALIVE;
        slot.n_held = 0;
        slot.start = self.now;
        self.live += 1;
        if PARTS {
            self.parts.start(r, self.now);
        }
        r
    }

    /// The part request `r` was in ends now, and `next` begins (see [`Tracker::switch`]).
    #[inline(always)]
    fn part(&mut self, r: u32, next: Option<Part>) {
        if PARTS {
            self.parts.switch(r, self.now, next);
        }
    }

    #[inline(always)]
    fn free_req(&mut self, r: u32) {
        let slot = at_mut(&mut self.reqs, r);
        slot.inc = slot.inc.wrapping_add(1);
        slot.flags = 0;
        self.free.push(r);
        self.live -= 1;
    }

    /// A client sends an attempt of endpoint `ep`.
    #[inline]
    fn issue(&mut self, ep: u32, client: u32, attempt: u32) {
        if self.live >= self.prog.max_in_flight {
            self.obs.capped(self.now);
            self.obs
                .response(ep, self.now, 0.0, Outcome::Error(ErrorKind::Capped));
            return self.client_outcome(client, ep, attempt, false);
        }
        let entry = self.prog.endpoints[ep as usize].entry;
        let r = self.alloc(ep, client, attempt, entry);
        self.obs.request_started(ep, self.now);
        let timeout = self.prog.endpoints[ep as usize].timeout_s;
        if timeout.is_finite() {
            let inc = at_mut(&mut self.reqs, r).inc;
            self.events
                .push(self.now + timeout, Kind::ClientTimeout, r, inc);
        }
        self.advance(r);
    }

    fn client_outcome(&mut self, client: u32, ep: u32, attempt: u32, ok: bool) {
        if client != NONE {
            return self.user_response(client, ep, attempt, ok);
        }
        let e = &self.prog.endpoints[ep as usize];
        if !ok && attempt < e.retries {
            let wait = e.backoff.map_or(0.0, |b| self.draw(b));
            self.events
                .push(self.now + wait, Kind::Retry, ep, attempt + 1);
        }
    }

    /// Reports a response to the request's client (once: a client that timed out is gone).
    #[inline(always)]
    fn respond(&mut self, r: u32, outcome: Outcome) {
        let q = at_mut(&mut self.reqs, r);
        if q.ep == JOB || q.flags & CLIENT_GONE != 0 {
            return;
        }
        q.flags |= CLIENT_GONE;
        let (ep, client, attempt, latency) = (q.ep, q.client, q.attempt, self.now - q.start);
        self.obs.response(ep, self.now, latency, outcome);
        if PARTS && outcome == Outcome::Ok {
            self.obs.request_parts(ep, latency, self.parts.spent(r));
        }
        if client != NONE || outcome != Outcome::Ok {
            self.client_outcome(client, ep, attempt, outcome == Outcome::Ok);
        }
    }

    /// Interprets the request's flow until it blocks, waits or leaves.
    fn advance(&mut self, r: u32) {
        loop {
            let pc = at_mut(&mut self.reqs, r).pc;
            // Conditional branches rather than a jump table: see `dispatch`.
            let op = *at(&self.prog.ops, pc);
            if let Op::Serve { res, sampler } = op {
                return self.serve(r, res, sampler);
            }
            if op == Op::End {
                return self.complete_outlined(r);
            }
            if let Op::Branch { p, stream, else_pc } = op {
                let u = unit(self.rng(stream));
                at_mut(&mut self.reqs, r).pc = if u < p { pc + 1 } else { else_pc };
                continue;
            }
            if !self.step(r, pc, op) {
                return;
            }
        }
    }

    /// Executes any instruction but `Serve` and `End` (kept apart so the hot loop above stays
    /// small); returns whether the request goes on at once.
    #[inline(never)]
    fn step(&mut self, r: u32, pc: u32, op: Op) -> bool {
        match op {
            Op::Acquire { res } | Op::AcquirePool { res } => {
                let pool = matches!(*at(&self.prog.ops, pc), Op::AcquirePool { .. });
                if pool && at_mut(&mut self.reqs, r).flags & POOL_HELD != 0 {
                    at_mut(&mut self.reqs, r).pc += 1;
                    return true;
                }
                let id = self.resolve(res, r);
                match self.acquire(id, r) {
                    Acq::Granted => self.after_grant(r),
                    Acq::Queued => return false,
                    Acq::Refused => {
                        self.fail(r, ErrorKind::Rejected);
                        return false;
                    }
                }
            }
            Op::Release => {
                let q = at_mut(&mut self.reqs, r);
                q.n_held -= 1;
                let id = q.held[q.n_held as usize];
                q.pc += 1;
                self.release(id);
            }
            Op::Hold { sampler } => {
                self.part(r, Some(Part::DELAY));
                let d = self.draw(sampler);
                let inc = at_mut(&mut self.reqs, r).inc;
                self.events.push(self.now + d, Kind::Wake, r, inc);
                return false;
            }
            Op::Branch { p, stream, else_pc } => {
                let u = unit(self.rng(stream));
                let q = at_mut(&mut self.reqs, r);
                q.pc = if u < p { pc + 1 } else { else_pc };
            }
            Op::Jump { to } => at_mut(&mut self.reqs, r).pc = to,
            Op::LoopStart { n, depth } => {
                let q = at_mut(&mut self.reqs, r);
                q.loops[depth as usize] = n;
                q.pc += 1;
            }
            Op::LoopEnd { start, depth } => {
                let q = at_mut(&mut self.reqs, r);
                q.loops[depth as usize] -= 1;
                q.pc = if q.loops[depth as usize] > 0 {
                    start + 1
                } else {
                    pc + 1
                };
            }
            Op::FrontAcquire { res } => {
                let rs = at_mut(&mut self.res, res);
                if rs.busy >= rs.units {
                    self.obs.resource_reject(res);
                    self.fail(r, ErrorKind::Rejected);
                    return false;
                }
                rs.busy += 1;
                let (busy, waiting) = (rs.busy, rs.waiting);
                self.obs.resource_level(res, self.now, busy, waiting);
                self.obs.resource_wait(res, 0.0);
                let q = at_mut(&mut self.reqs, r);
                q.flags |= FRONT_HELD;
                q.pc += 1;
            }
            Op::Route { group } => {
                self.route(r, group);
                at_mut(&mut self.reqs, r).pc += 1;
            }
            Op::Spawn { entry } => {
                at_mut(&mut self.reqs, r).pc += 1;
                self.spawn(entry);
            }
            Op::Share { res, sampler } => {
                let id = self.resolve(res, r);
                self.part(r, None);
                let work = self.draw(sampler);
                let k = *at(&self.share_of, id);
                let next = at_mut(&mut self.shares, k).arrive(self.now, r, work);
                self.share_changed(k, next);
                return false;
            }
            Op::Serve { .. } | Op::End => unreachable!("handled by advance"),
        }
        true
    }

    /// Continues a request that was granted a unit while it waited.
    fn resume(&mut self, r: u32) {
        self.after_grant(r);
        self.advance(r);
    }

    /// Moves past an `Acquire`/`AcquirePool` that was just granted.
    #[inline(always)]
    fn after_grant(&mut self, r: u32) {
        let q = at_mut(&mut self.reqs, r);
        if matches!(*at(&self.prog.ops, q.pc), Op::AcquirePool { .. }) {
            q.flags |= POOL_HELD;
        }
        q.pc += 1;
    }

    /// Starts the service of request `r` at resource `id`, whose server it holds.
    #[inline(always)]
    fn start_service(&mut self, r: u32, id: u32, sampler: u32) {
        self.part(r, Some(Part::service(id)));
        let d = self.draw(sampler);
        let inc = at_mut(&mut self.reqs, r).inc;
        self.events.push(self.now + d, Kind::Wake, r, inc);
    }

    /// A service or a hold ended.
    #[inline(always)]
    fn wake(&mut self, r: u32) {
        let q = at_mut(&mut self.reqs, r);
        let serve = matches!(*at(&self.prog.ops, q.pc), Op::Serve { .. });
        q.pc += 1;
        let next = q.pc;
        if serve {
            q.n_held -= 1;
            let id = q.held[q.n_held as usize];
            self.part(r, None);
            self.release(id);
        } else {
            self.part(r, None);
        }
        // A flow that ends with this service completes here, without entering the interpreter.
        if *at(&self.prog.ops, next) == Op::End {
            return self.complete(r);
        }
        self.advance(r);
    }

    /// A compute step on shared cores `k` may be done: the request goes on past its `Share`.
    fn core_done(&mut self, k: u32, generation: u32) {
        let Some((job, next)) = at_mut(&mut self.shares, k).depart(self.now, generation) else {
            return; // superseded by a later arrival or departure
        };
        self.share_changed(k, next);
        let id = at(&self.shares, k).res;
        // The time it was runnable but not running: its wait for a core.
        let delay = (self.now - job.since - job.work).max(0.0);
        self.obs.resource_wait(id, delay);
        if PARTS {
            self.parts.shared_done(job.req, self.now, id, job.work);
        }
        let q = at_mut(&mut self.reqs, job.req);
        q.pc += 1;
        if *at(&self.prog.ops, q.pc) == Op::End {
            return self.complete(job.req);
        }
        self.advance(job.req);
    }

    /// Reports shared cores `k`'s new levels and schedules their next departure, if it moved.
    fn share_changed(&mut self, k: u32, next: Option<Departure>) {
        let cores = at(&self.shares, k);
        let (busy, waiting) = cores.levels();
        let id = cores.res;
        self.obs.resource_level(id, self.now, busy, waiting);
        if let Some(d) = next {
            self.events.push(d.time_s, Kind::CoreDone, k, d.generation);
        }
    }

    /// Starts a `Serve`: the request waits for a server of `res`, or starts its service.
    #[inline(always)]
    fn serve(&mut self, r: u32, res: Sel, sampler: u32) {
        let id = self.resolve(res, r);
        match self.acquire(id, r) {
            Acq::Granted => self.start_service(r, id, sampler),
            Acq::Queued => {}
            Acq::Refused => self.fail(r, ErrorKind::Rejected),
        }
    }

    #[inline(always)]
    fn resolve(&mut self, sel: Sel, r: u32) -> u32 {
        if let Sel::Fixed(id) = sel {
            return id;
        }
        match sel {
            Sel::Fixed(id) => id,
            Sel::Instance(base) => base + at_mut(&mut self.reqs, r).inst,
            Sel::DbWrite(g) => self.prog.dbs[g as usize].primary,
            Sel::DbRead(g) => self.pick_replica(g),
        }
    }

    fn pick_replica(&mut self, g: u32) -> u32 {
        let db = &self.prog.dbs[g as usize];
        if db.replicas == 0 {
            return db.primary;
        }
        let (first, n, policy, stream) = (db.first_replica, db.replicas, db.policy, db.stream);
        first + self.choose(n, policy, stream, Pick::Db(g))
    }

    fn route(&mut self, r: u32, group: u32) {
        let app = &self.prog.apps[group as usize];
        let (first, n, policy, stream) =
            (app.first_instance, app.instances, app.policy, app.stream);
        let i = self.choose(n, policy, stream, Pick::App(group));
        let q = at_mut(&mut self.reqs, r);
        q.inst = i;
        q.flags |= ROUTED;
        let g = (first + i) as usize;
        self.inst_load[g] += 1;
        self.obs
            .instance_load(g as u32, self.now, self.inst_load[g]);
    }

    /// Requests in progress at server `i` of a balanced group: routed and not yet answered for
    /// app instances (nginx's count of upstream connections), queued or running for DB nodes.
    fn load_of(&self, pick: Pick, i: u32) -> u32 {
        match pick {
            Pick::App(g) => {
                self.inst_load[(self.prog.apps[g as usize].first_instance + i) as usize]
            }
            Pick::Db(g) => {
                let x = &self.res[(self.prog.dbs[g as usize].first_replica + i) as usize];
                x.busy + x.waiting
            }
        }
    }

    fn rr_mut(&mut self, pick: Pick) -> &mut u32 {
        match pick {
            Pick::App(g) => &mut self.rr[g as usize],
            Pick::Db(g) => &mut self.db_rr[g as usize],
        }
    }

    /// Picks one of `n` equivalent servers by `policy`.
    fn choose(&mut self, n: u32, policy: Policy, stream: u32, pick: Pick) -> u32 {
        if n == 1 {
            return 0;
        }
        let next = *self.rr_mut(pick) % n;
        match policy {
            Policy::RoundRobin => {
                *self.rr_mut(pick) = (next + 1) % n;
                next
            }
            Policy::LeastConn => {
                // Fewest in progress; ties go round-robin, as nginx's least_conn does.
                let best = (0..n)
                    .map(|k| (next + k) % n)
                    .min_by_key(|&i| self.load_of(pick, i))
                    .unwrap_or(0);
                *self.rr_mut(pick) = (best + 1) % n;
                best
            }
            Policy::Random => self.draw_index(stream, n),
            Policy::PowerOfTwo => {
                let a = self.draw_index(stream, n);
                let b = (a + 1 + self.draw_index(stream, n - 1)) % n;
                if self.load_of(pick, b) < self.load_of(pick, a) {
                    b
                } else {
                    a
                }
            }
        }
    }

    /// A uniform index in `0..n`.
    fn draw_index(&mut self, stream: u32, n: u32) -> u32 {
        ((unit(self.rng(stream)) * f64::from(n)) as u32).min(n - 1)
    }

    fn spawn(&mut self, entry: u32) {
        if self.live >= self.prog.max_in_flight {
            self.obs.capped(self.now);
            return;
        }
        let j = self.alloc(JOB, NONE, 0, entry);
        self.advance(j);
    }

    // ----- resources ------------------------------------------------------------------------

    #[inline(always)]
    fn acquire(&mut self, id: u32, r: u32) -> Acq {
        let rs = at_mut(&mut self.res, id);
        if rs.busy < rs.units && rs.waiting == 0 {
            rs.busy += 1;
            let (busy, waiting) = (rs.busy, rs.waiting);
            self.obs.resource_level(id, self.now, busy, waiting);
            self.obs.resource_wait(id, 0.0);
            self.hold(r, id);
            return Acq::Granted;
        }
        if rs.waiting >= rs.cap {
            self.obs.resource_reject(id);
            return Acq::Refused;
        }
        let q = at_mut(&mut self.reqs, r);
        rs.queue.push_back(Waiter {
            req: r,
            generation: q.wait_gen,
            since: self.now,
        });
        rs.waiting += 1;
        q.waiting_on = id;
        if PARTS {
            self.parts.switch(r, self.now, Some(Part::wait(id)));
        }
        let (busy, waiting, timeout) = (rs.busy, rs.waiting, rs.timeout_s);
        self.obs.resource_level(id, self.now, busy, waiting);
        if timeout.is_finite() {
            let generation = q.wait_gen;
            self.events
                .push(self.now + timeout, Kind::WaitTimeout, r, generation);
        }
        Acq::Queued
    }

    #[inline(always)]
    fn hold(&mut self, r: u32, id: u32) {
        let q = at_mut(&mut self.reqs, r);
        q.held[q.n_held as usize] = id;
        q.n_held += 1;
    }

    /// Gives a unit of `id` back and hands it to the first live waiter, if any.
    #[inline(always)]
    fn release(&mut self, id: u32) {
        let rs = at_mut(&mut self.res, id);
        rs.busy -= 1;
        while let Some(w) = rs.queue.pop_front() {
            let q = at_mut(&mut self.reqs, w.req);
            if q.wait_gen != w.generation {
                continue; // it gave up waiting (timeout); its entry was left behind
            }
            q.wait_gen = q.wait_gen.wrapping_add(1);
            q.waiting_on = NONE;
            rs.waiting -= 1;
            rs.busy += 1;
            let (busy, waiting) = (rs.busy, rs.waiting);
            self.obs.resource_level(id, self.now, busy, waiting);
            self.obs.resource_wait(id, self.now - w.since);
            self.hold(w.req, id);
            match *at(&self.prog.ops, at_mut(&mut self.reqs, w.req).pc) {
                Op::Serve { sampler, .. } => self.start_service(w.req, id, sampler),
                _ => {
                    self.part(w.req, None);
                    self.ready.push_back(w.req);
                }
            }
            return;
        }
        let (busy, waiting) = (rs.busy, rs.waiting);
        self.obs.resource_level(id, self.now, busy, waiting);
    }

    fn wait_timeout(&mut self, r: u32, generation: u32) {
        let q = at_mut(&mut self.reqs, r);
        if q.wait_gen != generation || q.waiting_on == NONE {
            return;
        }
        let id = q.waiting_on;
        q.wait_gen = q.wait_gen.wrapping_add(1);
        q.waiting_on = NONE;
        let rs = at_mut(&mut self.res, id);
        rs.waiting -= 1;
        // Entries of requests that gave up stay in the ring until they reach its front; compact
        // when they dominate so a stuck resource cannot grow its queue without bound.
        if rs.queue.len() > 64 && rs.queue.len() > 2 * rs.waiting as usize {
            let reqs = &self.reqs;
            rs.queue
                .retain(|w| reqs[w.req as usize].wait_gen == w.generation);
        }
        let (busy, waiting, waited) = (rs.busy, rs.waiting, rs.timeout_s);
        self.obs.resource_level(id, self.now, busy, waiting);
        self.obs.resource_timeout(id, waited);
        self.fail(r, ErrorKind::PoolTimeout);
    }

    /// Gives back what the client side holds: the proxy connection and the balancer's count.
    #[inline(always)]
    fn release_front(&mut self, r: u32) {
        let q = at(&self.reqs, r);
        let (flags, ep, inst) = (q.flags, q.ep, q.inst);
        if flags & (FRONT_HELD | ROUTED) == 0 {
            return;
        }
        if flags & FRONT_HELD != 0 {
            let front = self.prog.endpoints[ep as usize]
                .front
                .expect("a held front has a proxy");
            let rs = at_mut(&mut self.res, front);
            rs.busy -= 1;
            let (busy, waiting) = (rs.busy, rs.waiting);
            self.obs.resource_level(front, self.now, busy, waiting);
        }
        if flags & ROUTED != 0 {
            let group = self.prog.endpoints[ep as usize]
                .group
                .expect("a routed request has an app");
            let g = (self.prog.apps[group as usize].first_instance + inst) as usize;
            self.inst_load[g] -= 1;
            self.obs
                .instance_load(g as u32, self.now, self.inst_load[g]);
        }
        at_mut(&mut self.reqs, r).flags &= !(FRONT_HELD | ROUTED);
    }

    #[inline(always)]
    fn leave(&mut self, r: u32) {
        while at_mut(&mut self.reqs, r).n_held > 0 {
            let q = at_mut(&mut self.reqs, r);
            q.n_held -= 1;
            let id = q.held[q.n_held as usize];
            self.release(id);
        }
        let (ep, start) = (
            at_mut(&mut self.reqs, r).ep,
            at_mut(&mut self.reqs, r).start,
        );
        if ep != JOB {
            self.release_front(r);
            self.obs.request_left(ep, self.now, start);
        }
        self.free_req(r);
    }

    #[inline]
    fn fail(&mut self, r: u32, kind: ErrorKind) {
        self.respond(r, Outcome::Error(kind));
        self.leave(r);
    }

    #[inline(always)]
    fn complete(&mut self, r: u32) {
        self.respond(r, Outcome::Ok);
        self.leave(r);
    }

    /// [`Sim::complete`] as a call, keeping the interpreter loop small.
    #[inline(never)]
    fn complete_outlined(&mut self, r: u32) {
        self.complete(r);
    }

    fn client_timeout(&mut self, r: u32, inc: u32) {
        let q = at(&self.reqs, r);
        if q.inc != inc || q.flags & CLIENT_GONE != 0 {
            return;
        }
        // The proxy gives up too (a 504): it frees its connection and its balancer count,
        // while the app keeps working on the request.
        self.release_front(r);
        self.respond(r, Outcome::Error(ErrorKind::ClientTimeout));
    }
}

/// `v[i]` without the bounds check in release builds (checked in debug builds).
///
/// For the event loop's own indices only, each in bounds: request slots are never removed and
/// every slot index in an event or a queue came from `alloc`; resource, instruction, stream,
/// sampler and shared-core indices come from a program that [`simulate`] verified before the
/// loop ([`Program::verify`]: every index in range, every flow ends with `End` or a `Jump`,
/// loops close where they open, a per-instance resource is used only once the request is
/// routed, a `Share` only on processor-sharing cores). The tests run with debug assertions on.
#[inline(always)]
fn at<T>(v: &[T], i: u32) -> &T {
    debug_assert!((i as usize) < v.len(), "index {i} out of {}", v.len());
    // SAFETY: `i < v.len()`: an engine slot index, or one `Program::verify` checked (above).
    unsafe { v.get_unchecked(i as usize) }
}

/// The mutable form of [`at`], under the same guarantees.
#[inline(always)]
fn at_mut<T>(v: &mut [T], i: u32) -> &mut T {
    debug_assert!((i as usize) < v.len(), "index {i} out of {}", v.len());
    // SAFETY: as in [`at`]: an engine slot index, or one `Program::verify` checked.
    unsafe { v.get_unchecked_mut(i as usize) }
}

/// A balanced group: an app's instances or a database's replicas.
#[derive(Clone, Copy)]
enum Pick {
    App(u32),
    Db(u32),
}
