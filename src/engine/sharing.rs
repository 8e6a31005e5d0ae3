//! Processor sharing of an app instance's cores, as an operating system time-slices its
//! runnable processes: each of the `n` compute steps present progresses at `min(1, cores / n)`
//! of a core, and none waits in a queue.
//!
//! All present steps progress at the same rate, so it is enough to follow one *virtual time*
//! `V`, the work each present step has received since it arrived plus its arrival offset: it
//! grows at `min(1, cores / n)` per second. A step arriving at `V0` with `w` seconds of work
//! finishes when `V` reaches `V0 + w`, so steps finish in the order of those tags and only the
//! smallest matters: the next departure is `(tag - V) / rate` seconds away. Each arrival or
//! departure changes `n`, hence the rate, so the one pending departure event is rescheduled
//! (a generation number makes the superseded one a no-op); when the rate does not change and
//! the smallest tag stays the same, the pending event stands.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A compute step on shared cores.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// The virtual time at which it is done.
    finish_v: f64,
    /// Arrival order, for a total order among equal tags (first in, first out).
    seq: u64,
    /// The request's slot.
    pub req: u32,
    /// When it arrived, seconds.
    pub since: f64,
    /// Its work, seconds of one core.
    pub work: f64,
}

impl PartialEq for Job {
    fn eq(&self, o: &Job) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Job {}

impl PartialOrd for Job {
    fn partial_cmp(&self, o: &Job) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Job {
    /// Reversed, so that the standard max-heap yields the smallest tag first. Tags are finite
    /// and non-negative, whose bit patterns order like the numbers.
    fn cmp(&self, o: &Job) -> Ordering {
        (o.finish_v.to_bits(), o.seq).cmp(&(self.finish_v.to_bits(), self.seq))
    }
}

/// A departure to schedule: at `time_s`, valid while the cores' generation is `generation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Departure {
    pub time_s: f64,
    pub generation: u32,
}

/// The cores of one app instance under processor sharing.
#[derive(Debug, Clone)]
pub struct SharedCores {
    /// The resource these cores are (for the observer).
    pub res: u32,
    cores: u32,
    virtual_s: f64,
    last_s: f64,
    jobs: BinaryHeap<Job>,
    seq: u64,
    generation: u32,
    /// The pending departure's time (NaN when none is pending).
    scheduled_s: f64,
}

impl SharedCores {
    pub fn new(res: u32, cores: u32) -> SharedCores {
        SharedCores {
            res,
            cores,
            virtual_s: 0.0,
            last_s: 0.0,
            jobs: BinaryHeap::new(),
            seq: 0,
            generation: 0,
            scheduled_s: f64::NAN,
        }
    }

    /// Compute steps present.
    pub fn len(&self) -> u32 {
        self.jobs.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Cores busy (`min(n, cores)`) and steps runnable beyond the cores (`n - cores`), the
    /// levels an observer sees as busy servers and a queue.
    pub fn levels(&self) -> (u32, u32) {
        let n = self.len();
        (n.min(self.cores), n.saturating_sub(self.cores))
    }

    /// The share of a core each present step gets.
    fn rate(&self) -> f64 {
        let n = self.len();
        if n <= self.cores {
            1.0
        } else {
            f64::from(self.cores) / f64::from(n)
        }
    }

    fn advance(&mut self, now: f64) {
        self.virtual_s += (now - self.last_s) * self.rate();
        self.last_s = now;
    }

    /// A step of `work` seconds arrives for request `req`; returns a departure to schedule
    /// when the next one moved.
    pub fn arrive(&mut self, now: f64, req: u32, work: f64) -> Option<Departure> {
        self.advance(now);
        self.seq += 1;
        self.jobs.push(Job {
            finish_v: self.virtual_s + work,
            seq: self.seq,
            req,
            since: now,
            work,
        });
        self.next(now)
    }

    /// The pending departure is due: returns the step that is done and a departure to schedule
    /// for the next, or `None` when `generation` was superseded.
    pub fn depart(&mut self, now: f64, generation: u32) -> Option<(Job, Option<Departure>)> {
        if generation != self.generation || self.jobs.is_empty() {
            return None;
        }
        self.advance(now);
        let job = self.jobs.pop().expect("a step is present");
        // The departure was timed for the virtual time to reach the tag: take it exactly, so
        // rounding does not drift.
        self.virtual_s = job.finish_v;
        self.scheduled_s = f64::NAN;
        Some((job, self.next(now)))
    }

    /// The next departure, unless it is the one already pending.
    fn next(&mut self, now: f64) -> Option<Departure> {
        let first = self.jobs.peek()?;
        let time_s = now + ((first.finish_v - self.virtual_s) / self.rate()).max(0.0);
        if time_s.to_bits() == self.scheduled_s.to_bits() {
            return None;
        }
        self.generation = self.generation.wrapping_add(1);
        self.scheduled_s = time_s;
        Some(Departure {
            time_s,
            generation: self.generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the cores by hand: arrivals at given times, departures when due; returns each
    /// request's departure time.
    fn simulate(cores: u32, arrivals: &[(f64, f64)]) -> Vec<f64> {
        let mut c = SharedCores::new(0, cores);
        let mut done = vec![f64::NAN; arrivals.len()];
        let mut pending: Option<Departure> = None;
        let mut next_arrival = 0;
        loop {
            let arrival_t = arrivals.get(next_arrival).map(|a| a.0);
            let arrival_first = match (arrival_t, pending) {
                (Some(t), Some(d)) => t <= d.time_s,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return done,
            };
            if arrival_first {
                let (t, work) = arrivals[next_arrival];
                if let Some(d) = c.arrive(t, next_arrival as u32, work) {
                    pending = Some(d);
                }
                next_arrival += 1;
            } else {
                let d = pending.expect("a pending departure");
                let (job, next) = c.depart(d.time_s, d.generation).expect("current");
                done[job.req as usize] = d.time_s;
                pending = next;
            }
        }
    }

    #[test]
    fn two_steps_on_one_core_share_it_equally() {
        // 1 s and 3 s of work arriving together on one core: both run at half speed until the
        // short one is done at 2 s; the long one then has 2 s left at full speed: done at 4 s.
        let t = simulate(1, &[(0.0, 1.0), (0.0, 3.0)]);
        assert_eq!(t, vec![2.0, 4.0]);
    }

    #[test]
    fn a_short_step_is_slowed_by_a_long_one_not_queued_behind_it() {
        // A 10 s step runs alone; a 1 s step arrives at 2 s and shares the core: done at 4 s
        // (FCFS would finish it at 11 s). The long one lost 1 s: done at 11 s.
        let t = simulate(1, &[(0.0, 10.0), (2.0, 1.0)]);
        assert!((t[1] - 4.0).abs() < 1e-12, "{t:?}");
        assert!((t[0] - 11.0).abs() < 1e-12, "{t:?}");
    }

    #[test]
    fn steps_up_to_the_cores_run_at_full_speed() {
        let t = simulate(2, &[(0.0, 1.0), (0.5, 1.0)]);
        assert_eq!(t, vec![1.0, 1.5]);
        // A third step makes all three run at 2/3 of a core.
        let t = simulate(2, &[(0.0, 2.0), (0.0, 2.0), (0.0, 2.0)]);
        for x in t {
            assert!((x - 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn a_superseded_departure_is_ignored() {
        let mut c = SharedCores::new(0, 1);
        let first = c.arrive(0.0, 0, 1.0).expect("a departure");
        let second = c.arrive(0.5, 1, 1.0).expect("the rate changed");
        assert!(c.depart(first.time_s, first.generation).is_none());
        assert_eq!(second.time_s, 1.5);
        let (job, _) = c.depart(second.time_s, second.generation).unwrap();
        assert_eq!(job.req, 0);
        assert_eq!(c.levels(), (1, 0));
    }

    #[test]
    fn an_arrival_that_leaves_the_rate_and_the_first_tag_keeps_the_pending_event() {
        let mut c = SharedCores::new(0, 4);
        assert!(c.arrive(0.0, 0, 1.0).is_some());
        assert!(c.arrive(0.1, 1, 5.0).is_none());
        assert_eq!(c.levels(), (2, 0));
    }
}
