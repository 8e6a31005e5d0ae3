//! The event list: a binary heap ordered by (time, sequence).
//!
//! Events at equal times leave in the order they were scheduled (FIFO), so a run is a pure
//! function of its seed. Times are non-negative finite `f64`s, whose IEEE bit patterns order like
//! the numbers themselves, so comparing the bits as integers is exact and branch-light.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// What an event does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// The next open-workload arrival.
    Arrival,
    /// A closed workload starts or stops a user (`a`: index into the change list).
    LevelStep,
    /// A user's think time or retry backoff ends (`a`: user, `b`: its incarnation).
    UserWake,
    /// A request's service or hold ends (`a`: request slot, `b`: incarnation).
    Wake,
    /// A request's client gives up (`a`: request slot, `b`: incarnation).
    ClientTimeout,
    /// A request's wait for a resource times out (`a`: request slot, `b`: wait generation).
    WaitTimeout,
    /// An open-workload client retries (`a`: endpoint, `b`: attempt number).
    Retry,
    /// End of a time-series window.
    Window,
    /// End of the warm-up.
    Reset,
}

/// One scheduled event.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub time: f64,
    pub seq: u64,
    pub kind: Kind,
    pub a: u32,
    pub b: u32,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Event {}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Event {
    /// Reversed, so that std's max-heap pops the earliest (time, seq) first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time.to_bits(), other.seq).cmp(&(self.time.to_bits(), self.seq))
    }
}

/// The future event list.
#[derive(Debug, Default)]
pub struct EventList {
    heap: BinaryHeap<Event>,
    seq: u64,
}

impl EventList {
    pub fn with_capacity(n: usize) -> EventList {
        EventList {
            heap: BinaryHeap::with_capacity(n),
            seq: 0,
        }
    }

    /// Schedules an event; `time` must be finite and >= 0.
    #[inline]
    pub fn push(&mut self, time: f64, kind: Kind, a: u32, b: u32) {
        debug_assert!(time >= 0.0 && time.is_finite(), "bad event time {time}");
        self.seq += 1;
        self.heap.push(Event {
            time,
            seq: self.seq,
            kind,
            a,
            b,
        });
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_leave_by_time_then_in_scheduling_order() {
        let mut q = EventList::default();
        q.push(2.0, Kind::Window, 0, 0);
        q.push(1.0, Kind::Wake, 1, 0);
        q.push(1.0, Kind::Wake, 2, 0);
        q.push(0.0, Kind::Arrival, 3, 0);
        q.push(1.0, Kind::Wake, 4, 0);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.a).collect();
        assert_eq!(order, vec![3, 1, 2, 4, 0]);
    }

    #[test]
    fn float_bits_order_like_the_times() {
        let mut q = EventList::default();
        for (i, t) in [1e-9, 0.5, 3.0, 1e6, 0.0, 2.5e-3].iter().enumerate() {
            q.push(*t, Kind::Wake, i as u32, 0);
        }
        let times: Vec<f64> = std::iter::from_fn(|| q.pop()).map(|e| e.time).collect();
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(times, sorted);
    }
}
