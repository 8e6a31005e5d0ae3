//! Where a request's time goes: the parts of its response time, each a wait for or a service
//! at one resource, or a delay.
//!
//! Time passes for a request only while it waits for a unit, is in service (a `Serve`, or work
//! on processor-sharing cores), or is held by a delay; every other instruction takes no time.
//! So a request's response time is exactly the sum of its parts, and the engine finds them by
//! noting, at each of those moments, how long the part that just ended lasted. It does so only
//! for an observer that asks ([`super::Observer::tracks_parts`]), in a table of its own beside
//! the request slots; the event loop is compiled apart for it (`sim::Sim`'s `PARTS`), so a run
//! that does not ask carries none of it. A request keeps one total per part it met (not one
//! entry per step), so its memory is bounded by its flow's parts however many steps it loops.

use super::program::{Op, Program, Sel, UNLIMITED};

/// One part of a response time: a wait for, or a service at, a resource, or a delay.
///
/// Encoded in a `u32` as `resource << 1 | in_service`, the delay as [`Part::DELAY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Part(u32);

impl Part {
    /// Time held by a `delay` step (network, a sleep): no resource.
    pub const DELAY: Part = Part(u32::MAX);

    pub fn wait(res: u32) -> Part {
        Part(res << 1)
    }

    pub fn service(res: u32) -> Part {
        Part(res << 1 | 1)
    }

    /// The resource, unless it is the delay.
    pub fn resource(self) -> Option<u32> {
        (self != Part::DELAY).then_some(self.0 >> 1)
    }

    /// Whether it is time in service (or a delay), not a wait.
    pub fn in_service(self) -> bool {
        self.0 & 1 == 1
    }
}

/// A part, the seconds a request spent in it, and how many times it entered it (services
/// begun: a query per visit to a database), as the engine reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spent {
    pub part: Part,
    pub seconds: f64,
    pub visits: u32,
}

/// Per request slot: the part in progress (`None` between two instants that take no time),
/// since when, and the parts so far.
#[derive(Debug, Clone, Default)]
struct Track {
    current: Option<Part>,
    since: f64,
    spent: Vec<Spent>,
}

impl Track {
    /// Adds `seconds` of `part` (a visit, if it is a service) to its total. A flow meets a
    /// handful of parts, so a scan beats a map.
    #[inline]
    fn add(&mut self, part: Part, seconds: f64) {
        let visits = u32::from(part.in_service());
        match self.spent.iter_mut().find(|s| s.part == part) {
            Some(s) => {
                s.seconds += seconds;
                s.visits += visits;
            }
            None => self.spent.push(Spent {
                part,
                seconds,
                visits,
            }),
        }
    }
}

/// The parts of every request in the system, by request slot. Each slot keeps its buffer
/// when it is reused, so the steady state allocates nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracker {
    slots: Vec<Track>,
}

impl Tracker {
    /// Request slot `r` starts a request at `now`.
    #[inline]
    pub(crate) fn start(&mut self, r: u32, now: f64) {
        let r = r as usize;
        if r >= self.slots.len() {
            self.slots.resize_with(r + 1, Track::default);
        }
        let t = &mut self.slots[r];
        t.current = None;
        t.since = now;
        t.spent.clear();
    }

    /// The part in progress ends at `now`; `next` begins (or nothing, for `None`).
    #[inline]
    pub(crate) fn switch(&mut self, r: u32, now: f64, next: Option<Part>) {
        let t = &mut self.slots[r as usize];
        if let Some(part) = t.current {
            t.add(part, now - t.since);
        }
        t.current = next;
        t.since = now;
    }

    /// Work of `work` seconds on processor-sharing cores `res` ends at `now`: of the time
    /// since it began, `work` was service and the rest a wait for a core.
    #[inline]
    pub(crate) fn shared_done(&mut self, r: u32, now: f64, res: u32, work: f64) {
        let t = &mut self.slots[r as usize];
        let elapsed = now - t.since;
        let served = work.min(elapsed);
        t.add(Part::wait(res), elapsed - served);
        t.add(Part::service(res), served);
        t.current = None;
        t.since = now;
    }

    /// The parts of the request in slot `r`, once it is answered.
    pub(crate) fn spent(&self, r: u32) -> &[Spent] {
        &self.slots[r as usize].spent
    }
}

/// The parts a request of endpoint `ep` can spend time in, sorted, each once:
/// every part its flow can reach from its entry (a per-instance resource counts for every
/// instance, a read for every replica). Background jobs it starts are not part of it.
pub fn reachable(prog: &Program, ep: usize) -> Vec<Part> {
    let e = &prog.endpoints[ep];
    let instances = e.group.map_or(0, |g| prog.apps[g as usize].instances);
    let mut seen = vec![false; prog.ops.len()];
    let mut todo = vec![e.entry];
    let mut parts = Vec::new();
    let mut add = |p: Part| {
        if !parts.contains(&p) {
            parts.push(p);
        }
    };
    while let Some(pc) = todo.pop() {
        let Some(op) = prog.ops.get(pc as usize) else {
            continue;
        };
        if std::mem::replace(&mut seen[pc as usize], true) {
            continue;
        }
        let next = pc + 1;
        // A resource without a limit never makes a request wait.
        let waits = |id: u32| prog.resources[id as usize].units != UNLIMITED;
        match *op {
            Op::Serve { res, .. } | Op::Share { res, .. } => {
                for id in selected(prog, res, instances) {
                    if waits(id) {
                        add(Part::wait(id));
                    }
                    add(Part::service(id));
                }
            }
            Op::Acquire { res } | Op::AcquirePool { res } => {
                for id in selected(prog, res, instances)
                    .into_iter()
                    .filter(|&id| waits(id))
                {
                    add(Part::wait(id));
                }
            }
            Op::Hold { .. } => add(Part::DELAY),
            _ => {}
        }
        match *op {
            Op::End => {}
            Op::Jump { to } => todo.push(to),
            Op::Branch { else_pc, .. } => todo.extend([next, else_pc]),
            _ => todo.push(next),
        }
    }
    parts.sort();
    parts
}

/// The resources an instruction's selector can stand for.
fn selected(prog: &Program, sel: Sel, instances: u32) -> Vec<u32> {
    match sel {
        Sel::Fixed(id) => vec![id],
        Sel::Instance(base) => (base..base + instances).collect(),
        Sel::DbWrite(g) => vec![prog.dbs[g as usize].primary],
        Sel::DbRead(g) => {
            let db = &prog.dbs[g as usize];
            if db.replicas == 0 {
                vec![db.primary]
            } else {
                (db.first_replica..db.first_replica + db.replicas).collect()
            }
        }
    }
}
