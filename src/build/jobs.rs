//! The worker pool: N plain threads take items in order from a shared counter, each with its own
//! state (a script host), and send results back to the calling thread.
//!
//! Owns [`run`]. Must not know what an item is.
//!
//! Why plain threads and not rayon tasks: a job blocks (waiting for the memory budget, running a
//! script interpreter that is not parallel), and a blocked rayon worker is a core lost to every
//! op's parallel loops. The workers here only drive scripts; the ops they call hand their
//! parallel work to rayon's global pool (one thread per core), which every worker shares. So a
//! build runs at most `jobs` interpreter threads plus one rayon thread per core, never
//! `jobs × cores`: a 4096² asset beside fifty 256² ones takes the cores it can use in turn.
//!
//! Results come back in completion order through a channel; the caller's `done` sees each at
//! once (progress lines). `go_on` is asked on the worker, as soon as an item finishes, whether
//! further items may start (false for a failure without `--keep-going`), so no worker takes a
//! new item after that. Items never started come back as `None`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `work` over `items` on `workers` threads. `state` makes each thread's state once, on the
/// thread. `go_on` is asked on the worker after each item; once it says `false` no further
/// item starts. `done` is called on the calling thread for each result as it arrives. Returns
/// each item's result by index.
pub fn run<T, S, R>(
    items: &[T],
    workers: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
    go_on: impl Fn(&R) -> bool + Sync,
    mut done: impl FnMut(usize, &R),
) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let workers = workers.clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, R)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop, state, work, go_on) = (&next, &stop, &state, &work, &go_on);
            scope.spawn(move || {
                let mut own: Option<S> = None;
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let s = own.get_or_insert_with(state);
                    let result = work(s, item);
                    if !go_on(&result) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            done(i, &r);
            results[i] = Some(r);
        }
    });
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_and_results_keep_their_index() {
        let items: Vec<u32> = (0..100).collect();
        let mut seen = 0;
        let out = run(&items, 4, || (), |_, &x| x * 2, |_| true, |_, _| seen += 1);
        assert_eq!(seen, 100);
        assert_eq!(out, items.iter().map(|x| Some(x * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn a_refusal_starts_nothing_more() {
        // One worker takes items in order: nothing after the refused item 5 starts.
        let items: Vec<u32> = (0..1000).collect();
        let out = run(&items, 1, || (), |_, &x| x, |&r| r != 5, |_, _| {});
        assert!(out[..=5].iter().all(Option::is_some));
        assert!(out[6..].iter().all(Option::is_none));
    }
}
