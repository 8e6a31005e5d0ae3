//! Minimal discrete-event loop for the peer benchmark (no capsim code).
//!
//! One binary heap of events keyed by (time, seq), one FIFO queue per station,
//! one Xoshiro256++ generator, exponential draws via rand_distr's ziggurat `Exp1`.
//! Counted events: an arrival at a station, a service start, a service end.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_distr::Exp1;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Destination of a station's output: another station, or leave the system.
#[derive(Clone, Copy)]
enum Next {
    Exit,
    Station(usize),
    /// With probability `p` go to `to`, else leave.
    Branch { p: f64, to: usize },
}

struct Station {
    servers: u32,
    mean_service: f64,
    next: Next,
    busy: u32,
    /// Waiting customers: the time each entered the system.
    queue: VecDeque<f64>,
}

const EXTERNAL_ARRIVAL: usize = usize::MAX;

/// Heap entry. `BinaryHeap` is a max-heap: the ordering is reversed so that the
/// earliest (time, seq) pops first.
struct Ev {
    t: f64,
    seq: u64,
    /// Station whose service ends, or `EXTERNAL_ARRIVAL`.
    what: usize,
    /// Time the customer entered the system.
    born: f64,
}

impl PartialEq for Ev {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Ev {}
impl PartialOrd for Ev {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ev {
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t).then_with(|| o.seq.cmp(&self.seq))
    }
}

struct Sim {
    rng: Xoshiro256PlusPlus,
    heap: BinaryHeap<Ev>,
    seq: u64,
    stations: Vec<Station>,
    events: u64,
    customers: u64,
    measured: u64,
    sum_response: f64,
    warmup: f64,
}

impl Sim {
    #[inline]
    fn exp(&mut self, mean: f64) -> f64 {
        let e: f64 = self.rng.sample(Exp1);
        e * mean
    }

    #[inline]
    fn push(&mut self, t: f64, what: usize, born: f64) {
        self.seq += 1;
        self.heap.push(Ev { t, seq: self.seq, what, born });
    }

    #[inline]
    fn start_service(&mut self, now: f64, s: usize, born: f64) {
        self.events += 1; // service start
        let d = self.exp(self.stations[s].mean_service);
        self.push(now + d, s, born);
    }

    #[inline]
    fn arrive(&mut self, now: f64, s: usize, born: f64) {
        self.events += 1; // arrival at a station
        let st = &mut self.stations[s];
        if st.busy < st.servers {
            st.busy += 1;
            self.start_service(now, s, born);
        } else {
            st.queue.push_back(born);
        }
    }

    #[inline]
    fn leave(&mut self, now: f64, born: f64) {
        self.customers += 1;
        if now > self.warmup {
            self.measured += 1;
            self.sum_response += now - born;
        }
    }

    fn run(&mut self, rate: f64, horizon: f64) {
        let first = self.exp(1.0 / rate);
        self.push(first, EXTERNAL_ARRIVAL, first);
        while let Some(ev) = self.heap.pop() {
            let now = ev.t;
            if now > horizon {
                break;
            }
            if ev.what == EXTERNAL_ARRIVAL {
                let next = now + self.exp(1.0 / rate);
                self.push(next, EXTERNAL_ARRIVAL, next);
                self.arrive(now, 0, now);
                continue;
            }
            let s = ev.what;
            self.events += 1; // service end
            if let Some(born) = self.stations[s].queue.pop_front() {
                self.start_service(now, s, born);
            } else {
                self.stations[s].busy -= 1;
            }
            match self.stations[s].next {
                Next::Exit => self.leave(now, ev.born),
                Next::Station(to) => self.arrive(now, to, ev.born),
                Next::Branch { p, to } => {
                    let u: f64 = self.rng.random();
                    if u < p {
                        self.arrive(now, to, ev.born)
                    } else {
                        self.leave(now, ev.born)
                    }
                }
            }
        }
    }
}

fn station(servers: u32, mean_service: f64, next: Next) -> Station {
    Station { servers, mean_service, next, busy: 0, queue: VecDeque::with_capacity(1024) }
}

fn usage() -> ! {
    eprintln!("usage: capsim-peer-minimal --model mm3|tier3 --horizon SECONDS --seed N");
    std::process::exit(2)
}

fn main() {
    let mut model = String::new();
    let mut horizon: f64 = f64::NAN;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--model" => model = val(),
            "--horizon" => horizon = val().parse().unwrap_or_else(|_| usage()),
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if !(horizon > 0.0) {
        usage();
    }
    let (rate, stations) = match model.as_str() {
        "mm3" => (2.55, vec![station(3, 1.0, Next::Exit)]),
        "tier3" => (
            200.0,
            vec![
                station(1, 0.001, Next::Station(1)),
                station(8, 0.030, Next::Branch { p: 0.3, to: 2 }),
                station(4, 0.010, Next::Exit),
            ],
        ),
        _ => usage(),
    };

    let mut sim = Sim {
        rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        heap: BinaryHeap::with_capacity(1024),
        seq: 0,
        stations,
        events: 0,
        customers: 0,
        measured: 0,
        sum_response: 0.0,
        warmup: 0.1 * horizon,
    };

    let t0 = Instant::now();
    sim.run(rate, horizon);
    let wall = t0.elapsed().as_secs_f64();

    let mean = if sim.measured > 0 {
        format!("{}", sim.sum_response / sim.measured as f64)
    } else {
        "null".to_string()
    };
    println!(
        "{{\"tool\": \"minimal\", \"model\": \"{}\", \"customers\": {}, \"wall_s\": {}, \"customers_per_s\": {}, \"mean_response_s\": {}, \"events\": {}, \"events_per_s\": {}}}",
        model,
        sim.customers,
        wall,
        sim.customers as f64 / wall,
        mean,
        sim.events,
        sim.events as f64 / wall,
    );
}
