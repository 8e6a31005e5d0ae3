//! Where the time goes, measured: per endpoint and over all endpoints, the response time of
//! successful requests split by part (the wait for and the service at each resource group, the
//! delays), over all requests and over the slowest 5 %, the requests that make the p95.
//!
//! The engine hands over each answered request's parts ([`crate::engine::Spent`]). Keeping
//! every request until the run's p95 is known would cost memory without bound, so requests
//! are summed by response-time class instead (eight classes per doubling of the response
//! time); when the run ends, the slowest classes that hold 5 % of the requests are the slow
//! ones, the class the 95th percentile falls in counted in proportion.

use crate::engine::{Part, Program, Spent, parts};
use serde::{Deserialize, Serialize};

/// The share of requests that are "the slowest": those above the p95.
pub const SLOW_SHARE: f64 = 0.05;
/// What the response-time classes are (powers of two of seconds, eight classes each).
const CLASSES_PER_DOUBLING: u32 = 8;
const CLASSES: usize = 256;
/// The shortest response time with a class of its own, 2^-20 s (about 1 us); shorter ones
/// share the first class, and response times beyond 2^12 s (68 min) the last.
const SHORTEST_EXPONENT: i64 = -20;

/// What a scope's time is split into: each resource group's wait and service, and the delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// Index in [`PartLayout::groups`].
    pub group: u32,
    pub in_service: bool,
}

/// Which slots each scope has and which slot each engine part goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct PartLayout {
    /// The resource groups (`flask workers`, `mysql replicas`), then `delay` if any flow has one.
    pub groups: Vec<String>,
    /// Per scope (0: all endpoints, then endpoint `e` at `e + 1`), its slots in report order.
    pub scopes: Vec<Vec<Slot>>,
    /// Per scope, per engine part code (`resource * 2 + in_service`, the delay last), the index
    /// of its slot in that scope.
    slot_of: Vec<Vec<u32>>,
}

const NO_SLOT: u32 = u32::MAX;

impl PartLayout {
    pub fn new(prog: &Program) -> PartLayout {
        let mut groups: Vec<String> = Vec::new();
        let mut group_of = Vec::with_capacity(prog.resources.len());
        for r in &prog.resources {
            let g = match groups.iter().position(|x| *x == r.group) {
                Some(g) => g,
                None => {
                    groups.push(r.group.clone());
                    groups.len() - 1
                }
            };
            group_of.push(g as u32);
        }
        let endpoint_parts: Vec<Vec<Part>> = (0..prog.endpoints.len())
            .map(|e| parts::reachable(prog, e))
            .collect();
        let delay_group = endpoint_parts
            .iter()
            .flatten()
            .any(|p| *p == Part::DELAY)
            .then(|| {
                groups.push("delay".into());
                (groups.len() - 1) as u32
            });
        let slot = |p: &Part| match p.resource() {
            Some(res) => Slot {
                group: group_of[res as usize],
                in_service: p.in_service(),
            },
            None => Slot {
                group: delay_group.expect("a delay part comes with the delay group"),
                in_service: true,
            },
        };
        let codes = 2 * prog.resources.len() + 1;
        let all: Vec<Part> = {
            let mut v: Vec<Part> = endpoint_parts.iter().flatten().copied().collect();
            v.sort();
            v.dedup();
            v
        };
        let mut scopes = Vec::new();
        let mut slot_of = Vec::new();
        for parts in std::iter::once(&all).chain(&endpoint_parts) {
            let mut slots: Vec<Slot> = Vec::new();
            let mut map = vec![NO_SLOT; codes];
            for p in parts {
                let s = slot(p);
                let k = match slots.iter().position(|x| *x == s) {
                    Some(k) => k,
                    None => {
                        slots.push(s);
                        slots.len() - 1
                    }
                };
                map[code(*p, codes)] = k as u32;
            }
            scopes.push(slots);
            slot_of.push(map);
        }
        PartLayout {
            groups,
            scopes,
            slot_of,
        }
    }

    /// The slot of part `p` in `scope`. Every part the engine reports is one the static walk
    /// found ([`parts::reachable`]); one it did not is left out rather than misfiled.
    #[inline]
    fn slot(&self, scope: usize, p: Part) -> Option<usize> {
        let map = &self.slot_of[scope];
        let k = *map.get(code(p, map.len()))?;
        debug_assert!(k != NO_SLOT, "part {p:?} was not found reachable");
        (k != NO_SLOT).then_some(k as usize)
    }
}

/// The index of part `p` in a table of `codes` entries, one per resource's wait and service,
/// then the delay.
#[inline]
fn code(p: Part, codes: usize) -> usize {
    match p.resource() {
        Some(res) => 2 * res as usize + usize::from(p.in_service()),
        None => codes - 1,
    }
}

/// Sums over a set of requests: how many, their response times, and per slot the time spent
/// and the visits (services begun).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TimeSplit {
    pub requests: f64,
    pub latency_s: f64,
    pub time_s: Vec<f64>,
    pub visits: Vec<f64>,
}

impl TimeSplit {
    fn new(slots: usize) -> TimeSplit {
        TimeSplit {
            requests: 0.0,
            latency_s: 0.0,
            time_s: vec![0.0; slots],
            visits: vec![0.0; slots],
        }
    }

    /// Adds `w` times `other`.
    fn add(&mut self, other: &TimeSplit, w: f64) {
        self.requests += w * other.requests;
        self.latency_s += w * other.latency_s;
        for (a, b) in self.time_s.iter_mut().zip(&other.time_s) {
            *a += w * b;
        }
        for (a, b) in self.visits.iter_mut().zip(&other.visits) {
            *a += w * b;
        }
    }

    /// Mean milliseconds per request in slot `k` (NaN without requests).
    pub fn mean_ms(&self, k: usize) -> f64 {
        1e3 * self.time_s[k] / self.requests
    }

    /// Mean visits per request to slot `k`.
    pub fn visits_per_request(&self, k: usize) -> f64 {
        self.visits[k] / self.requests
    }
}

/// One scope's measured split: over all its successful requests, and over the slowest 5 %.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PartsRecord {
    pub all: TimeSplit,
    pub slow: TimeSplit,
}

/// The response-time class of `latency` seconds: eight per doubling, from the bits of the
/// float (its exponent and the top three bits of its mantissa), with no logarithm.
#[inline]
fn class(latency: f64) -> usize {
    let shortest = ((SHORTEST_EXPONENT + 1023) as u64) << 52;
    let bits = latency.max(0.0).to_bits().max(shortest);
    let c = (bits - shortest) >> (52 - CLASSES_PER_DOUBLING.trailing_zeros());
    (c as usize).min(CLASSES - 1)
}

/// Measures one replication's split, scope by scope.
#[derive(Debug, Clone)]
pub struct PartsAcc {
    layout: PartLayout,
    /// Per scope, per response-time class (allocated when first used).
    classes: Vec<Vec<Option<Box<TimeSplit>>>>,
}

impl PartsAcc {
    pub fn new(prog: &Program) -> PartsAcc {
        let layout = PartLayout::new(prog);
        let classes = layout.scopes.iter().map(|_| vec![None; CLASSES]).collect();
        PartsAcc { layout, classes }
    }

    /// A successful request of endpoint `ep`, answered after `latency` seconds spent in `parts`.
    #[inline]
    pub fn record(&mut self, ep: u32, latency: f64, spent: &[Spent]) {
        let c = class(latency);
        for scope in [0, ep as usize + 1] {
            let n = self.layout.scopes[scope].len();
            let split = self.classes[scope][c].get_or_insert_with(|| Box::new(TimeSplit::new(n)));
            split.requests += 1.0;
            split.latency_s += latency;
            for s in spent {
                let Some(k) = self.layout.slot(scope, s.part) else {
                    continue;
                };
                split.time_s[k] += s.seconds;
                split.visits[k] += f64::from(s.visits);
            }
        }
    }

    /// Forgets everything (the end of the warm-up).
    pub fn reset(&mut self) {
        for scope in &mut self.classes {
            scope.iter_mut().for_each(|c| *c = None);
        }
    }

    /// Per scope: the split over all requests and over the slowest [`SLOW_SHARE`].
    pub fn records(&self) -> Vec<PartsRecord> {
        self.classes
            .iter()
            .zip(&self.layout.scopes)
            .map(|(classes, slots)| {
                let mut all = TimeSplit::new(slots.len());
                for c in classes.iter().flatten() {
                    all.add(c, 1.0);
                }
                let mut slow = TimeSplit::new(slots.len());
                let mut wanted = SLOW_SHARE * all.requests;
                for c in classes.iter().rev().flatten() {
                    if wanted <= 0.0 {
                        break;
                    }
                    let w = (wanted / c.requests).min(1.0);
                    slow.add(c, w);
                    wanted -= w * c.requests;
                }
                PartsRecord { all, slow }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_double_every_eight() {
        assert_eq!(class(0.0), 0);
        assert_eq!(class(2f64.powi(-20)), 0);
        assert_eq!(class(2f64.powi(-19)), 8);
        assert_eq!(class(1.0), 160);
        assert_eq!(class(1.5), 164);
        assert!(class(1.49) < class(1.51));
        assert_eq!(class(1e30), CLASSES - 1);
        let mut last = 0;
        for i in 0..2000 {
            let c = class(1e-6 * 1.01f64.powi(i));
            assert!(c >= last);
            last = c;
        }
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    use crate::model::validate;
    use std::path::Path;

    fn layout(src: &str) -> (Program, PartLayout) {
        let model = crate::script::load_str(src, "parts.rhai", Path::new(".")).expect("loads");
        let prog = Program::compile(&validate(model).expect("valid"));
        let layout = PartLayout::new(&prog);
        (prog, layout)
    }

    /// Instances of an app and replicas of a database are one group each; an endpoint has the
    /// slots its flow can reach, and no wait where nothing can make it wait.
    #[test]
    fn groups_gather_instances_and_replicas_and_scopes_hold_what_flows_reach() {
        let (_, l) = layout(
            r#"let m = model("parts");
            let app = m.app("app", #{ instances: 3, workers: 4, cpus: 2, pool: #{ size: 2 } });
            let db = m.database("db", #{ replicas: 2 });
            let api = m.external("api", #{ delay: ms(30) });
            m.endpoint("read", 1, [app.compute(ms(1)), db.read(ms(2))]);
            m.endpoint("call", 1, [app.compute(ms(1)), api.call(), delay(ms(5))]);
            m.arrivals(per_sec(10));"#,
        );
        for g in [
            "app workers",
            "app cpu",
            "app pool",
            "db primary",
            "db replicas",
            "api",
            "delay",
        ] {
            assert!(l.groups.iter().any(|x| x == g), "{g} in {:?}", l.groups);
        }
        let names = |scope: usize| -> Vec<String> {
            l.scopes[scope]
                .iter()
                .map(|s| {
                    format!(
                        "{} {}",
                        l.groups[s.group as usize],
                        if s.in_service { "service" } else { "wait" }
                    )
                })
                .collect()
        };
        let read = names(1);
        assert!(read.contains(&"db replicas wait".to_string()), "{read:?}");
        assert!(read.contains(&"db replicas service".to_string()));
        assert!(read.contains(&"app pool wait".to_string()));
        assert!(
            !read
                .iter()
                .any(|s| s.starts_with("api") || s.starts_with("delay"))
        );
        assert!(
            !read.contains(&"app workers service".to_string()),
            "a held worker has no service"
        );
        let call = names(2);
        assert!(call.contains(&"api service".to_string()), "{call:?}");
        assert!(
            !call.contains(&"api wait".to_string()),
            "an unlimited external never waits"
        );
        assert!(call.contains(&"delay service".to_string()));
        assert!(!call.iter().any(|s| s.starts_with("db")));
        // All endpoints together have every slot of each.
        let all = names(0);
        assert!(read.iter().chain(&call).all(|s| all.contains(s)));
    }
}
