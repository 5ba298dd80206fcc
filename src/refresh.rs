//! Periodic re-provisioning on a background thread.
//!
//! One worker per handle re-runs [`Provisioner::attempt`] `refresh_rate`
//! seconds after the last success and, after a failure, sooner: after an
//! exponential back-off with random jitter, capped at the period. It never
//! asks while a call is up; an attempt that falls due during a call runs once
//! right after hang-up. It waits on the provisioner's gate (the call flag and
//! its condvar), so hang-up and stop wake it at once, whatever is left of a
//! period or a back-off.

use crate::error::{Error, Result, Status};
use crate::provisioner::{History, Provisioner, Report};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

/// The first retry after a failure comes after about this long.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Each further consecutive failure doubles the back-off, up to the period.
const BACKOFF_FACTOR: u32 = 2;
/// A back-off is drawn uniformly from `[JITTER_LOW * d, d]`: a fleet that
/// failed together spreads out, and consecutive back-offs never overlap, so
/// each retry waits longer than the one before.
const JITTER_LOW: f64 = 0.75;

thread_local! {
    static ON_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is a refresh worker (whose panics are caught and
/// reported as INTERNAL, so a panic hook may keep quiet about them).
pub fn on_worker_thread() -> bool {
    ON_WORKER.try_with(std::cell::Cell::get).unwrap_or(false)
}

/// What the worker calls after each attempt, on its own thread.
pub type Callback = Box<dyn FnMut(&Result<Report>) + Send>;

/// The back-off after `failures` consecutive failures (1 or more): base
/// times factor^(failures-1), capped at `period`, times a random factor in
/// [JITTER_LOW, 1].
pub fn backoff(failures: u32, period: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(24);
    let full = BACKOFF_BASE.saturating_mul(BACKOFF_FACTOR.saturating_pow(doublings)).min(period);
    full.mul_f64(JITTER_LOW + (1.0 - JITTER_LOW) * fastrand::f64())
}

/// A running worker. Dropping it stops it (see [`stop`](Self::stop)).
pub struct Refresher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    worker: ThreadId,
}

struct Shared {
    provisioner: Arc<Provisioner>,
    stop: AtomicBool,
}

impl Refresher {
    /// Starts the worker. PROVISION_ERR_ARGUMENT when `refresh_rate` is 0.
    pub fn start(
        provisioner: Arc<Provisioner>,
        local_config: Option<PathBuf>,
        callback: Callback,
    ) -> Result<Refresher> {
        if provisioner.settings().refresh_rate == 0 {
            return Err(Error::argument(
                "refresh_rate is 0: the provision file asks for provisioning once at start-up only",
            ));
        }
        let shared = Arc::new(Shared { provisioner, stop: AtomicBool::new(false) });
        let thread = thread::Builder::new()
            .name("provision-refresh".into())
            .spawn({
                let shared = shared.clone();
                move || {
                    ON_WORKER.set(true);
                    work(&shared, local_config, callback)
                }
            })
            .map_err(|e| Error::new(Status::PROVISION_ERR_INTERNAL, format!("cannot start the refresh worker: {e}")))?;
        Ok(Refresher { worker: thread.thread().id(), shared, thread: Some(thread) })
    }

    /// Whether the worker still works: not asked to stop, and not ended by a
    /// server that set `refresh_rate` to 0.
    pub fn is_running(&self) -> bool {
        !self.shared.stop.load(Ordering::SeqCst) && self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Whether the caller is the worker itself (inside the callback).
    pub fn is_worker_thread(&self) -> bool {
        thread::current().id() == self.worker
    }

    /// Asks the worker to stop and wakes it. No attempt starts and no
    /// callback is made after this returns.
    pub fn signal_stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.provisioner.wake();
    }

    /// Stops the worker and waits for it: at most the end of an attempt in
    /// progress. From the worker's own thread (inside the callback) it only
    /// signals: the worker ends when the callback returns.
    pub fn stop(&mut self) {
        self.signal_stop();
        if self.is_worker_thread() {
            return;
        }
        if let Some(thread) = self.thread.take() {
            // The worker catches panics, so the join cannot carry one.
            let _ = thread.join();
        }
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// When the next attempt is due.
struct Plan {
    due: Instant,
    failures: u32,
    /// The last success this plan has taken into account.
    seen_success: Option<Instant>,
}

impl Plan {
    /// Right away without a run so far; after a back-off when the last run
    /// failed; a period after the last success otherwise (see `follow`).
    fn new(history: History, period: Duration) -> Plan {
        let mut plan = Plan { due: Instant::now(), failures: 0, seen_success: None };
        if let Some(failed) = history.last_failure.filter(|f| history.last_success < Some(*f)) {
            plan.seen_success = history.last_success;
            plan.failed(failed, period);
        }
        plan
    }

    /// Takes a success of any run on the handle (the worker's or the
    /// softphone's own) into account: the next one is a period after it.
    /// True when that moved the plan.
    fn follow(&mut self, history: History, period: Duration) -> bool {
        let Some(success) = history.last_success.filter(|_| history.last_success != self.seen_success) else {
            return false;
        };
        self.seen_success = Some(success);
        self.failures = 0;
        self.due = success + period;
        true
    }

    fn failed(&mut self, at: Instant, period: Duration) {
        self.failures = self.failures.saturating_add(1);
        self.due = at + backoff(self.failures, period);
    }
}

/// Periods longer than this (136 years) are this: as good as never, and
/// `Instant` arithmetic on them cannot overflow.
const LONGEST_PERIOD_S: u64 = 1 << 32;

fn period_of(provisioner: &Provisioner) -> Duration {
    Duration::from_secs(provisioner.settings().refresh_rate.min(LONGEST_PERIOD_S))
}

fn work(shared: &Shared, local_config: Option<PathBuf>, mut callback: Callback) {
    let provisioner = &*shared.provisioner;
    let mut plan = Plan::new(provisioner.history(), period_of(provisioner));
    loop {
        // A server's <provision> section may have changed the period.
        let period = period_of(provisioner);
        if period.is_zero() {
            return;
        }
        plan.follow(provisioner.history(), period);
        if !shared.wait_until(plan.due) {
            return;
        }
        if plan.follow(provisioner.history(), period) {
            continue; // the softphone's own run succeeded meanwhile
        }
        let result =
            catch_unwind(AssertUnwindSafe(|| provisioner.attempt(local_config.as_deref()))).unwrap_or_else(|_| {
                Err(Error::new(
                    Status::PROVISION_ERR_INTERNAL,
                    "internal error (a bug in libprovision): the refresh attempt panicked",
                ))
            });
        if matches!(&result, Err(e) if e.status == Status::PROVISION_ERR_DEFERRED) {
            continue; // a call came up just now: wait for its hang-up
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let _ = catch_unwind(AssertUnwindSafe(|| callback(&result)));
        if !matches!(&result, Ok(report) if report.cached.is_none()) {
            plan.failed(Instant::now(), period);
        }
    }
}

impl Shared {
    /// Waits until `due` has passed and no call is up; false when asked to
    /// stop first.
    fn wait_until(&self, due: Instant) -> bool {
        let (call_active, changed) = self.provisioner.gate();
        let mut active: MutexGuard<'_, bool> = call_active.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            let now = Instant::now();
            active = if *active {
                changed.wait(active).unwrap_or_else(PoisonError::into_inner)
            } else if now < due {
                changed.wait_timeout(active, due - now).unwrap_or_else(PoisonError::into_inner).0
            } else {
                return true;
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_by_the_factor_within_its_jitter_and_stops_at_the_period() {
        let period = Duration::from_secs(3600);
        for failures in 1..=8u32 {
            let full = BACKOFF_BASE * BACKOFF_FACTOR.pow(failures - 1);
            for _ in 0..50 {
                let d = backoff(failures, period);
                assert!(d <= full && d >= full.mul_f64(JITTER_LOW), "{failures}: {d:?}");
            }
        }
        for _ in 0..50 {
            let d = backoff(40, period);
            assert!(d <= period && d >= period.mul_f64(JITTER_LOW), "{d:?}");
        }
        assert!(backoff(u32::MAX, Duration::from_secs(1)) <= Duration::from_secs(1));
    }

    #[test]
    fn a_huge_refresh_rate_cannot_overflow_the_schedule() {
        let p = Provisioner::from_xml(
            "<provision><base_urls><base_url>http://127.0.0.1:9/</base_url></base_urls>\
             <options><refresh_rate>18446744073709551615</refresh_rate></options>\
             <significant_sections>accounts</significant_sections></provision>",
        )
        .unwrap();
        let period = period_of(&p);
        let now = Instant::now();
        let mut plan = Plan::new(History { last_success: Some(now), last_failure: None }, period);
        plan.follow(History { last_success: Some(now), last_failure: Some(now) }, period);
        plan.failed(now, period);
        assert!(plan.due > now);
    }

    #[test]
    fn the_first_attempt_is_at_once_then_after_the_last_success_or_a_backoff() {
        let period = Duration::from_secs(60);
        let before = Instant::now();
        let plan = Plan::new(History::default(), period);
        assert!(plan.due >= before && plan.due <= Instant::now());

        let t = Instant::now();
        let mut plan = Plan::new(History { last_success: Some(t), last_failure: None }, period);
        plan.follow(History { last_success: Some(t), last_failure: None }, period);
        assert_eq!(plan.due, t + period);

        let later = t + Duration::from_secs(5);
        let history = History { last_success: Some(t), last_failure: Some(later) };
        let mut plan = Plan::new(history, period);
        plan.follow(history, period);
        assert_eq!(plan.failures, 1, "the old success does not cancel the newer failure");
        assert!(plan.due > later && plan.due <= later + BACKOFF_BASE);
    }
}
