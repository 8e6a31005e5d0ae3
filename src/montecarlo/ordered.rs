//! Parallel work folded in index order, without a barrier.
//!
//! Replications must be reduced in index order (floating-point sums are not associative, and a
//! run's bytes must not depend on the thread count). Running them in chunks and folding each
//! chunk after a join makes every thread wait for the slowest replication of the chunk; on a
//! shared 2-vCPU machine, where one vCPU is often slower than the other, that cost 1.65× instead
//! of 2× on two threads. Here every pool thread takes the next index from a shared counter and,
//! when it finishes, parks its result in a small reorder buffer; whichever thread completes the
//! next index in order folds it (and any that were waiting behind it). A thread does not start
//! an index more than `window` past the last one folded, so memory stays bounded by the window,
//! never by the replication count.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// The results waiting for their turn, and the fold they wait for.
struct Reorder<T, E, F> {
    /// The next index to fold.
    next: u64,
    pending: BTreeMap<u64, Result<T, E>>,
    fold: F,
    /// The error of the lowest failing index, once reached in order.
    error: Option<E>,
}

/// Runs its closure when dropped during a panic: it stops the run and wakes the waiting
/// threads, so that threads waiting for the panicking index to be folded do not wait forever
/// (the panic then propagates out of `rayon::broadcast`). Forgotten on the normal path.
struct OnUnwind<F: Fn()>(F);

impl<F: Fn()> Drop for OnUnwind<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// Runs `work(i)` for every `i` in `range` on the threads of the current rayon pool and hands
/// each `Ok` result to `fold` in increasing `i`, while later indices are still running.
///
/// At most `window` indices (at least the pool's thread count) are started past the last one
/// folded. The first error in index order stops the run and is returned: indices after it are
/// not started, and their results, if already computed, are dropped. So the outcome (folded
/// prefix and error) is the same for any thread count.
///
/// # Errors
/// The error of the lowest index whose `work` failed.
pub fn fold_ordered<T, E, W, F>(range: Range<u64>, window: u64, work: W, fold: F) -> Result<(), E>
where
    T: Send,
    E: Send,
    W: Fn(u64) -> Result<T, E> + Sync,
    F: FnMut(T) + Send,
{
    let window = window.max(rayon::current_num_threads() as u64).max(1);
    let end = range.end;
    let counter = AtomicU64::new(range.start);
    let stop = AtomicBool::new(false);
    let state = Mutex::new(Reorder {
        next: range.start,
        pending: BTreeMap::new(),
        fold,
        error: None,
    });
    let turn = Condvar::new();
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);

    rayon::broadcast(|_| {
        loop {
            if stop.load(Ordering::Acquire) {
                break;
            }
            let i = counter.fetch_add(1, Ordering::Relaxed);
            if i >= end {
                break;
            }
            {
                let mut st = lock();
                while i >= st.next + window && !stop.load(Ordering::Acquire) {
                    st = turn.wait(st).unwrap_or_else(PoisonError::into_inner);
                }
            }
            if stop.load(Ordering::Acquire) {
                break;
            }
            // Covers `work` and `fold`. `stop` is set under the lock, as every change a waiter
            // tests is, so no waiter can test it, miss the store and then sleep through the
            // notification.
            let unwinding = OnUnwind(|| {
                let st = lock();
                stop.store(true, Ordering::Release);
                drop(st);
                turn.notify_all();
            });
            let r = work(i);
            let mut st = lock();
            st.pending.insert(i, r);
            loop {
                let next = st.next;
                let Some(r) = st.pending.remove(&next) else {
                    break;
                };
                match r {
                    Ok(v) => {
                        (st.fold)(v);
                        st.next += 1;
                    }
                    Err(e) => {
                        st.error = Some(e);
                        st.pending.clear();
                        stop.store(true, Ordering::Release);
                        break;
                    }
                }
            }
            drop(st);
            turn.notify_all();
            std::mem::forget(unwinding);
        }
    });

    let st = state.into_inner().unwrap_or_else(PoisonError::into_inner);
    match st.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
    }

    /// Work whose duration falls as the index grows, so later indices finish first.
    fn uneven(i: u64) -> Result<u64, String> {
        std::thread::sleep(Duration::from_micros(200 * (20 - i % 20)));
        Ok(i * i)
    }

    #[test]
    fn folds_in_index_order_on_any_thread_count() {
        for threads in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            pool(threads)
                .install(|| fold_ordered(5..65, 4, uneven, |v| seen.push(v)))
                .expect("no error");
            let want: Vec<u64> = (5..65u64).map(|i| i * i).collect();
            assert_eq!(seen, want, "{threads} threads");
        }
    }

    #[test]
    fn never_runs_more_than_the_window_ahead() {
        let folded = AtomicU64::new(0);
        let worst = AtomicUsize::new(0);
        pool(4)
            .install(|| {
                fold_ordered(
                    0..200,
                    6,
                    |i| {
                        let lead = i - folded.load(Ordering::SeqCst);
                        worst.fetch_max(lead as usize, Ordering::SeqCst);
                        uneven(i)
                    },
                    |_| {
                        folded.fetch_add(1, Ordering::SeqCst);
                    },
                )
            })
            .expect("no error");
        let worst = worst.into_inner();
        assert!(worst < 6, "started {worst} indices past the last folded");
        assert!(
            worst >= 1,
            "threads never overlapped: the test proves nothing"
        );
    }

    #[test]
    fn returns_the_lowest_failing_index_and_folds_exactly_the_prefix() {
        for threads in [1, 2, 4] {
            let mut seen = Vec::new();
            let r = pool(threads).install(|| {
                fold_ordered(
                    0..100,
                    8,
                    |i| {
                        if i == 17 || i == 19 || i == 60 {
                            Err(format!("failed at {i}"))
                        } else {
                            uneven(i)
                        }
                    },
                    |v| seen.push(v),
                )
            });
            assert_eq!(r, Err("failed at 17".to_string()), "{threads} threads");
            let want: Vec<u64> = (0..17u64).map(|i| i * i).collect();
            assert_eq!(seen, want, "{threads} threads");
        }
    }

    #[test]
    fn a_panic_in_work_propagates_instead_of_hanging() {
        let r = std::panic::catch_unwind(|| {
            pool(3).install(|| {
                fold_ordered(
                    0..50,
                    3,
                    |i| {
                        if i == 4 {
                            panic!("work {i} panicked");
                        }
                        uneven(i)
                    },
                    |_| {},
                )
            })
        });
        assert!(r.is_err(), "the panic was swallowed");
    }

    #[test]
    fn a_panic_in_fold_propagates_instead_of_hanging() {
        let r = std::panic::catch_unwind(|| {
            pool(3).install(|| {
                fold_ordered(0..50, 3, uneven, |v| {
                    if v == 16 {
                        panic!("fold of {v} panicked");
                    }
                })
            })
        });
        assert!(r.is_err(), "the panic was swallowed");
    }

    #[test]
    fn an_empty_range_folds_nothing() {
        let mut n = 0;
        pool(2)
            .install(|| fold_ordered(7..7, 4, uneven, |_| n += 1))
            .expect("no error");
        assert_eq!(n, 0);
    }
}
