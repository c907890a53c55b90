//! One way to stop long work: a cancel flag and a deadline, checked inside the ops.
//!
//! Owns [`Stopper`], the token every long op checks between rows, tiles or blocks, and the
//! per-thread "current" token that lets an op find it without a parameter. The host of a run
//! (`script::Host`, later `build` and `serve`) installs the run's token with [`scope`] for the
//! duration of the run; a plain-API caller may do the same. Ops call [`current`] once on the
//! calling thread, hand the token into their parallel closures (rayon workers are other threads,
//! so they cannot read the thread-local themselves), skip the remaining rows once it is stopped,
//! and return [`Stopper::check`]'s error at the end, so a stopped op never returns a half-made
//! image.
//!
//! Why a thread-local and not a parameter of every op: the plain API (`blur(&img, sigma)`) stays
//! as it is, and code that never installs a token pays one relaxed load per row. Why not per-op
//! timers: one flag set by the deadline, by `kiln watch` on a new save and by `kiln serve` when a
//! client goes away covers every op at once.
//!
//! Must not know about Rhai or any front end.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A cancel flag and an optional deadline. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct Stopper {
    flag: Arc<AtomicBool>,
    deadline: Option<(Instant, Duration)>,
}

impl Stopper {
    /// A token over `flag` (set from another thread to cancel) that also stops `limit` after
    /// `started`.
    pub fn new(flag: Arc<AtomicBool>, started: Instant, limit: Option<Duration>) -> Stopper {
        Stopper { flag, deadline: limit.map(|l| (started + l, l)) }
    }

    /// A token that never stops.
    pub fn never() -> Stopper {
        Stopper::default()
    }

    /// True once the flag is set or the deadline has passed.
    #[inline]
    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.deadline.is_some_and(|(d, _)| Instant::now() > d)
    }

    /// `Ok` while the work may go on; else the error that says why it stopped.
    pub fn check(&self) -> Result<()> {
        if self.flag.load(Ordering::Relaxed) {
            return Err(Error::Cancelled("run cancelled".into()));
        }
        match self.deadline {
            Some((d, limit)) if Instant::now() > d => Err(Error::TimedOut(limit)),
            _ => Ok(()),
        }
    }

    /// Sets the flag: every op checking this token stops at its next row.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Stopper>> = const { RefCell::new(None) };
}

/// The token installed on this thread, or one that never stops.
pub fn current() -> Stopper {
    CURRENT.with(|c| c.borrow().clone()).unwrap_or_default()
}

/// `Ok` unless the current token has stopped: the check between the steps of a long op.
pub fn checkpoint() -> Result<()> {
    CURRENT.with(|c| c.borrow().as_ref().map_or(Ok(()), Stopper::check))
}

/// Runs `work` with `token` installed on this thread, restoring what was there before (runs can
/// nest: a script run inside a build job).
pub fn scope<R>(token: Stopper, work: impl FnOnce() -> R) -> R {
    struct Restore(Option<Stopper>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.borrow_mut().replace(token));
    let _restore = Restore(previous);
    work()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_flag_stops_and_says_cancelled() {
        let flag = Arc::new(AtomicBool::new(false));
        let t = Stopper::new(flag.clone(), Instant::now(), None);
        assert!(!t.is_stopped());
        assert!(t.check().is_ok());
        flag.store(true, Ordering::Relaxed);
        assert!(t.is_stopped());
        assert!(matches!(t.check(), Err(Error::Cancelled(_))));
    }

    #[test]
    fn a_passed_deadline_stops_and_names_the_limit() {
        let t = Stopper::new(Arc::default(), Instant::now() - Duration::from_secs(2), Some(Duration::from_secs(1)));
        assert!(t.is_stopped());
        match t.check() {
            Err(e @ Error::TimedOut(_)) => assert!(e.to_string().contains("1.000s"), "{e}"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn scope_installs_and_restores_the_current_token() {
        assert!(checkpoint().is_ok(), "no token: never stopped");
        let outer = Stopper::never();
        let inner = Stopper::never();
        inner.cancel();
        scope(outer, || {
            assert!(checkpoint().is_ok());
            scope(inner, || assert!(checkpoint().is_err()));
            assert!(checkpoint().is_ok(), "the outer token is back");
        });
        assert!(!current().is_stopped());
    }
}
