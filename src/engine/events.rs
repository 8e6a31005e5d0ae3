//! The event list: a 4-ary heap ordered by (time, sequence).
//!
//! Events at equal times leave in the order they were scheduled (FIFO), so a run is a pure
//! function of its seed. Times are non-negative finite `f64`s, whose IEEE bit patterns order like
//! the numbers themselves, so comparing the bits as integers is exact and branch-light.

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
    /// A compute step on processor-sharing cores is done (`a`: the cores, `b`: the departure's
    /// generation).
    CoreDone,
    /// End of a stage of the load profile.
    StageEnd,
}

/// One scheduled event, packed into three 64-bit words (a layout the heap moves cheaply):
/// the time, the sequence number with the kind in its low byte, and the two payload words.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub time: f64,
    tag: u64,
    data: u64,
}

impl Event {
    #[inline(always)]
    pub fn kind(&self) -> Kind {
        // The low byte was written from a `Kind` in `push`; the match maps each value to the
        // variant with that same discriminant, which compiles to nothing but a range check.
        match self.tag as u8 {
            0 => Kind::Arrival,
            1 => Kind::LevelStep,
            2 => Kind::UserWake,
            3 => Kind::Wake,
            4 => Kind::ClientTimeout,
            5 => Kind::WaitTimeout,
            6 => Kind::Retry,
            7 => Kind::Window,
            8 => Kind::Reset,
            9 => Kind::CoreDone,
            _ => Kind::StageEnd,
        }
    }

    #[inline]
    pub fn a(&self) -> u32 {
        self.data as u32
    }

    #[inline]
    pub fn b(&self) -> u32 {
        (self.data >> 32) as u32
    }

    pub fn seq(&self) -> u64 {
        self.tag >> 8
    }
}

/// The future event list: an implicit 4-ary min-heap of [`Event`]s.
///
/// Four children per node halve the depth of a binary heap; with the "hole" technique each
/// level moves one event instead of swapping two. Ties in time leave in scheduling order.
#[derive(Debug, Default)]
pub struct EventList {
    heap: Vec<Event>,
    /// The pending arrival of an open workload, kept beside the heap: an arrival stream has
    /// exactly one event pending at a time, so it needs no sifting; `pop` compares it with the
    /// heap's top, which keeps the (time, sequence) order exact.
    arrival: Option<Event>,
    seq: u64,
}

/// Children per heap node.
const ARITY: usize = 4;

/// True when `a` must leave before `b`.
#[inline(always)]
fn before(a: &Event, b: &Event) -> bool {
    // One 128-bit comparison instead of a lexicographic pair: time in the high half, the
    // sequence-and-kind tag in the low half.
    let key = |e: &Event| (u128::from(e.time.to_bits()) << 64) | u128::from(e.tag);
    key(a) < key(b)
}

impl EventList {
    pub fn with_capacity(n: usize) -> EventList {
        EventList {
            heap: Vec::with_capacity(n),
            arrival: None,
            seq: 0,
        }
    }

    /// Schedules an event; `time` must be finite and >= 0.
    #[inline]
    pub fn push(&mut self, time: f64, kind: Kind, a: u32, b: u32) {
        debug_assert!(time >= 0.0 && time.is_finite(), "bad event time {time}");
        self.seq += 1;
        let tag = (self.seq << 8) | kind as u64;
        let ev = Event {
            time,
            tag,
            data: u64::from(a) | (u64::from(b) << 32),
        };
        if kind == Kind::Arrival && self.arrival.is_none() {
            self.arrival = Some(ev);
            return;
        }
        let mut hole = self.heap.len();
        self.heap.push(ev);
        let h = self.heap.as_mut_ptr();
        // SAFETY: `hole` starts at the last index and only moves to parents, so it and
        // `parent` are always below `len`.
        unsafe {
            while hole > 0 {
                let parent = (hole - 1) / ARITY;
                if !before(&ev, &*h.add(parent)) {
                    break;
                }
                *h.add(hole) = *h.add(parent);
                hole = parent;
            }
            *h.add(hole) = ev;
        }
    }

    /// Takes the earliest event. Always inlined: the event loop is compiled twice (with and
    /// without the response-time split, see `sim::Sim`), and a call here costs 5 % of the loop.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<Event> {
        if let Some(a) = self.arrival
            && self.heap.first().is_none_or(|top| before(&a, top))
        {
            self.arrival = None;
            return Some(a);
        }
        self.pop_heap()
    }

    #[inline]
    fn pop_heap(&mut self) -> Option<Event> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some(last);
        }
        let h = self.heap.as_mut_ptr();
        // SAFETY: `hole` starts at 0 < n and only moves to a child below `n`; the children
        // scanned lie in `first..end` with `end <= n`.
        unsafe {
            let top = *h;
            let mut hole = 0;
            loop {
                let first = hole * ARITY + 1;
                if first >= n {
                    break;
                }
                let end = (first + ARITY).min(n);
                let mut best = first;
                for c in first + 1..end {
                    if before(&*h.add(c), &*h.add(best)) {
                        best = c;
                    }
                }
                if !before(&*h.add(best), &last) {
                    break;
                }
                *h.add(hole) = *h.add(best);
                hole = best;
            }
            *h.add(hole) = last;
            Some(top)
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len() + usize::from(self.arrival.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.a()).collect();
        assert_eq!(order, vec![3, 1, 2, 4, 0]);
    }

    #[test]
    fn the_heap_orders_any_sequence_like_a_sort() {
        // A pseudo-random mix of pushes and pops against a sorted reference.
        let mut q = EventList::default();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if !x.is_multiple_of(3) || reference.is_empty() {
                let t = (x % 1000) as f64 * 0.25;
                q.push(t, Kind::Wake, step, 0);
                reference.push((t.to_bits(), u64::from(step)));
            } else {
                reference.sort();
                let (t, a) = reference.remove(0);
                let e = q.pop().unwrap();
                assert_eq!((e.time.to_bits(), u64::from(e.a())), (t, a));
            }
        }
        reference.sort();
        for (t, a) in reference {
            let e = q.pop().unwrap();
            assert_eq!((e.time.to_bits(), u64::from(e.a())), (t, a));
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn the_arrival_beside_the_heap_keeps_the_order() {
        let mut q = EventList::default();
        q.push(1.0, Kind::Wake, 1, 0);
        q.push(1.0, Kind::Arrival, 2, 0);
        q.push(0.5, Kind::Wake, 3, 0);
        q.push(1.0, Kind::Wake, 4, 0);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.a()).collect();
        assert_eq!(order, vec![3, 1, 2, 4]);
        q.push(2.0, Kind::Arrival, 5, 0);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop().map(|e| e.kind()), Some(Kind::Arrival));
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
