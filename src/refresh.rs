//! Periodic re-provisioning on a background thread.
//!
//! One worker per handle re-runs [`Provisioner::attempt`] about
//! `refresh_rate` seconds after the last success and, after a failure,
//! sooner: after an exponential back-off with random jitter, capped at the
//! period. It never asks while a call is up; an attempt that falls due
//! during a call runs once right after hang-up. It waits on the
//! provisioner's gate (the call flag and its condvar), so hang-up, stop and
//! [`Refresher::refresh_now`] wake it at once, whatever is left of a period
//! or a back-off.
//!
//! # How the periods are drawn, so that a fleet spreads
//!
//! Thousands of phones share one server. Started together (an office
//! powering up, an update restarting every phone), a fleet whose periods
//! were all exactly `refresh_rate` would arrive in lockstep forever. With T
//! the refresh rate:
//!
//! - After a *steady* success (the worker's own scheduled attempt following
//!   a success) the period is uniform in `[0.9 T, 1.1 T]`: mean T, and the
//!   jitter slowly mixes whatever synchronised the fleet.
//! - After any other success (the first one the worker sees, whoever ran
//!   it; the first after failures; one asked for by `refresh_now`) the
//!   period is `T/2 + E`, where E is drawn from the *equilibrium
//!   distribution* of the steady periods: E = U x V', U uniform in
//!   `[0, 1]` and V' a steady period biased by its length (density
//!   proportional to v on `[0.9 T, 1.1 T]`). Renewal theory says that a
//!   handle whose first period is E and whose later ones are steady asks at
//!   a constant rate 1/T from the start; shifted by T/2, from T/2 on. So a
//!   fleet started together arrives at a flat N/T per second from half a
//!   period after its first burst: spread over the period by the end of the
//!   first one. The mean of `T/2 + E` is T (1 + 0.1²/6), 0.17% over T, and
//!   every later period has mean T: an operator's capacity planning (one
//!   request per phone per period) holds.
//!
//! Two simpler rules were considered and fail one of the two goals: every
//! period uniform in `[0.5 T, 1.5 T]` keeps the mean but the edges of the
//! sums of uniform periods pile up (a 1.5x peak at 1.5 T, 1.38x in bins of
//! T/4, fading over several periods); a random phase (first period uniform
//! in `[0, T]`) and then exactly T spreads at once but makes the first
//! period T/2 on average (two requests per phone in the first period) and
//! never mixes again after something re-synchronises the fleet.
//!
//! A `Retry-After` on a `503` or `429` sets a floor under the next attempt
//! after that failure: uniform in `[R, 1.5 R]`, or, for R at or beyond the
//! period, in `[0.75 T, T]` like the longest back-off (a broken header must
//! not silence provisioning for a day). The back-off still applies; the
//! later of the two wins.

use crate::error::{Error, Result, Status};
use crate::provisioner::{History, Provisioner, Report};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
/// A steady period is uniform in `[1 - STEADY_JITTER, 1 + STEADY_JITTER]`
/// times the refresh rate (see the module's documentation).
const STEADY_JITTER: f64 = 0.1;
/// A wait asked by `Retry-After: R` is uniform in `[R, (1 + RETRY_AFTER_JITTER) R]`.
const RETRY_AFTER_JITTER: f64 = 0.5;

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

/// The period after a steady success: uniform in `[0.9, 1.1]` x `period`.
pub fn steady_period(period: Duration) -> Duration {
    period.mul_f64(1.0 - STEADY_JITTER + 2.0 * STEADY_JITTER * fastrand::f64())
}

/// The period after any other success: `period/2 + E`, E drawn from the
/// equilibrium distribution of [`steady_period`] (see the module's
/// documentation): from half a period on, a handle asks at a flat rate.
pub fn fresh_period(period: Duration) -> Duration {
    let (low, high) = (1.0 - STEADY_JITTER, 1.0 + STEADY_JITTER);
    // A steady period biased by its length: inverse of its CDF, (v² - low²) / (high² - low²).
    let biased = (low * low + fastrand::f64() * (high * high - low * low)).sqrt();
    period.mul_f64(0.5 + fastrand::f64() * biased)
}

/// The floor a server's `Retry-After: asked` puts under the next attempt:
/// at least `asked`, up to half as long again so that a fleet told the same
/// does not return in one instant; at or beyond `period`, the longest
/// back-off's `[0.75, 1]` x `period` instead.
pub fn retry_after_wait(asked: Duration, period: Duration) -> Duration {
    if asked >= period {
        return period.mul_f64(JITTER_LOW + (1.0 - JITTER_LOW) * fastrand::f64());
    }
    let longest = asked.mul_f64(1.0 + RETRY_AFTER_JITTER).min(period);
    asked + (longest - asked).mul_f64(fastrand::f64())
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
    /// When an attempt asked by `refresh_now`, not started yet, is due.
    asked: Mutex<Option<Instant>>,
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
        let shared = Arc::new(Shared { provisioner, stop: AtomicBool::new(false), asked: Mutex::new(None) });
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

    /// Asks the worker for an attempt after a uniformly random delay in
    /// `[0, max_delay]`, so that a fleet told at once (a SIP `check-sync`)
    /// spreads over the window. It replaces the scheduled attempt (or
    /// back-off), whether that was due sooner or later; calls made before
    /// that attempt starts coalesce into one, the earliest due time winning.
    /// The attempt still waits for hang-up during a call, and for the end of
    /// a server's `Retry-After`. The period after its success is drawn
    /// afresh. PROVISION_ERR_ARGUMENT when the worker no longer runs.
    pub fn refresh_now(&self, max_delay: Duration) -> Result<()> {
        if !self.is_running() {
            return Err(Error::argument("no refresh worker runs on this handle"));
        }
        let due = Instant::now() + max_delay.mul_f64(fastrand::f64());
        self.shared.ask(due);
        Ok(())
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
    /// No attempt before this: a server's `Retry-After`, jittered.
    not_before: Option<Instant>,
}

/// How the period after a success is drawn (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rhythm {
    /// The worker's scheduled attempt after a success: [`steady_period`].
    Steady,
    /// Anything else: [`fresh_period`].
    Fresh,
}

impl Plan {
    /// Right away without a run so far; after a back-off when the last run
    /// failed; a fresh period after the last success otherwise (see `follow`).
    fn new(history: History, period: Duration) -> Plan {
        let mut plan = Plan { due: Instant::now(), failures: 0, seen_success: None, not_before: None };
        if let Some(failed) = history.last_failure.filter(|f| history.last_success < Some(*f)) {
            plan.seen_success = history.last_success;
            plan.failed(failed, period, history.retry_after);
        }
        plan
    }

    /// Takes a success of any run on the handle (the worker's or the
    /// softphone's own) into account: the next attempt is a period after it,
    /// drawn as `rhythm` says. True when that moved the plan.
    fn follow(&mut self, history: History, period: Duration, rhythm: Rhythm) -> bool {
        let Some(success) = history.last_success.filter(|_| history.last_success != self.seen_success) else {
            return false;
        };
        self.seen_success = Some(success);
        self.failures = 0;
        self.not_before = None;
        self.due = success
            + match rhythm {
                Rhythm::Steady => steady_period(period),
                Rhythm::Fresh => fresh_period(period),
            };
        true
    }

    /// The rhythm after the worker's own successful attempt: steady only
    /// when it was the scheduled one after a success.
    fn rhythm_after(&self, asked: bool) -> Rhythm {
        match (self.seen_success, self.failures, asked) {
            (Some(_), 0, false) => Rhythm::Steady,
            _ => Rhythm::Fresh,
        }
    }

    fn failed(&mut self, at: Instant, period: Duration, retry_after: Option<Duration>) {
        self.failures = self.failures.saturating_add(1);
        self.not_before = retry_after.map(|asked| at + retry_after_wait(asked, period));
        self.due = (at + backoff(self.failures, period)).max(self.not_before.unwrap_or(at));
    }

    /// When the next attempt may start: an attempt asked for (`refresh_now`)
    /// replaces the scheduled one; neither comes before a server's `Retry-After`.
    fn next(&self, asked: Option<Instant>) -> Instant {
        let due = asked.unwrap_or(self.due);
        self.not_before.map_or(due, |floor| due.max(floor))
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
        let period = period_of(provisioner);
        if period.is_zero() {
            return;
        }
        plan.follow(provisioner.history(), period, Rhythm::Fresh);
        if !shared.wait_for(&plan) {
            return;
        }
        if plan.follow(provisioner.history(), period, Rhythm::Fresh) {
            continue; // the softphone's own run succeeded meanwhile
        }
        // Every attempt asked for until now is answered by this one.
        let asked = lock(&shared.asked).take();
        let result =
            catch_unwind(AssertUnwindSafe(|| provisioner.attempt(local_config.as_deref()))).unwrap_or_else(|_| {
                Err(Error::new(
                    Status::PROVISION_ERR_INTERNAL,
                    "internal error (a bug in libprovision): the refresh attempt panicked",
                ))
            });
        if matches!(&result, Err(e) if e.status == Status::PROVISION_ERR_DEFERRED) {
            if let Some(due) = asked {
                shared.ask(due); // still owed, after hang-up
            }
            continue; // a call came up just now: wait for its hang-up
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let rhythm = plan.rhythm_after(asked.is_some());
        let _ = catch_unwind(AssertUnwindSafe(|| callback(&result)));
        // The answer's <provision> section may have changed the period.
        let period = period_of(provisioner);
        if matches!(&result, Ok(report) if report.cached.is_none()) {
            plan.follow(provisioner.history(), period, rhythm);
        } else {
            plan.failed(Instant::now(), period, provisioner.history().retry_after);
        }
    }
}

/// A poisoned lock only means a panic elsewhere; what it guards is a plain time.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Records an asked attempt (the earliest due time wins) and wakes the worker.
    fn ask(&self, due: Instant) {
        {
            let mut asked = lock(&self.asked);
            *asked = Some(asked.map_or(due, |earlier| earlier.min(due)));
        }
        // The worker reads `asked` under the gate's lock, which waking takes:
        // this cannot fall between its look and its wait.
        self.provisioner.wake();
    }

    /// Waits until the plan's next attempt is due and no call is up; false
    /// when asked to stop first. Hang-up, stop and `ask` wake it to look again.
    fn wait_for(&self, plan: &Plan) -> bool {
        let (call_active, changed) = self.provisioner.gate();
        let mut active: MutexGuard<'_, bool> = lock(call_active);
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            let now = Instant::now();
            let due = plan.next(*lock(&self.asked));
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
        let ok = History { last_success: Some(now), ..History::default() };
        let mut plan = Plan::new(ok, period);
        plan.follow(History { last_failure: Some(now), ..ok }, period, Rhythm::Fresh);
        plan.follow(History { last_success: Some(now + Duration::from_secs(1)), ..ok }, period, Rhythm::Steady);
        plan.failed(now, period, Some(Duration::MAX));
        assert!(plan.due > now);
    }

    #[test]
    fn the_first_attempt_is_at_once_then_after_the_last_success_or_a_backoff() {
        let period = Duration::from_secs(60);
        let before = Instant::now();
        let plan = Plan::new(History::default(), period);
        assert!(plan.due >= before && plan.due <= Instant::now());

        let t = Instant::now();
        let ok = History { last_success: Some(t), ..History::default() };
        let mut plan = Plan::new(ok, period);
        plan.follow(ok, period, Rhythm::Fresh);
        assert!(plan.due >= t + period / 2 && plan.due <= t + period.mul_f64(1.6), "a fresh period");

        let later = t + Duration::from_secs(5);
        let history = History { last_failure: Some(later), ..ok };
        let mut plan = Plan::new(history, period);
        plan.follow(history, period, Rhythm::Fresh);
        assert_eq!(plan.failures, 1, "the old success does not cancel the newer failure");
        assert!(plan.due > later && plan.due <= later + BACKOFF_BASE);
    }

    /// Draws of `draw(period)` as fractions of the period.
    fn fractions(n: usize, draw: fn(Duration) -> Duration) -> Vec<f64> {
        let period = Duration::from_secs(3600);
        (0..n).map(|_| draw(period).as_secs_f64() / period.as_secs_f64()).collect()
    }

    fn mean(xs: &[f64]) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    #[test]
    fn steady_periods_keep_the_mean_within_their_jitter() {
        fastrand::seed(11);
        let xs = fractions(100_000, steady_period);
        assert!(xs.iter().all(|x| (0.9..=1.1).contains(x)));
        assert!((mean(&xs) - 1.0).abs() < 0.002, "{}", mean(&xs));
        // Uniform: each fifth of the range holds a fifth of the draws.
        for fifth in 0..5 {
            let low = 0.9 + 0.04 * fifth as f64;
            let share = xs.iter().filter(|x| (low..low + 0.04).contains(*x)).count() as f64 / xs.len() as f64;
            assert!((share - 0.2).abs() < 0.01, "{fifth}: {share}");
        }
    }

    #[test]
    fn fresh_periods_keep_the_mean_within_five_percent() {
        fastrand::seed(12);
        let xs = fractions(100_000, fresh_period);
        assert!(xs.iter().all(|x| (0.5..=1.6).contains(x)));
        let want = 1.0 + STEADY_JITTER * STEADY_JITTER / 6.0;
        assert!((mean(&xs) - want).abs() < 0.005, "{} against {want}", mean(&xs));
        assert!(xs.iter().any(|x| *x < 0.52) && xs.iter().any(|x| *x > 1.55), "the whole range is drawn");
    }

    /// The point of the fresh period: a fleet started together (every handle
    /// asks at 0, then one fresh period, then steady ones) asks at a flat
    /// rate from half a period on. Every period uniform in [0.5, 1.5] would
    /// pile up to 1.5x near 1.5 periods, which this catches.
    #[test]
    fn a_fleet_started_together_is_flat_from_half_a_period_on() {
        fastrand::seed(13);
        const HANDLES: usize = 20_000;
        const BINS_PER_PERIOD: usize = 10;
        const PERIODS: usize = 6;
        let period = Duration::from_secs(100);
        let mut bins = vec![0usize; PERIODS * BINS_PER_PERIOD];
        for _ in 0..HANDLES {
            let mut t = fresh_period(period).as_secs_f64() / period.as_secs_f64();
            while t < PERIODS as f64 {
                bins[(t * BINS_PER_PERIOD as f64) as usize] += 1;
                t += steady_period(period).as_secs_f64() / period.as_secs_f64();
            }
        }
        assert!(bins[..BINS_PER_PERIOD / 2].iter().all(|b| *b == 0), "nothing before half a period: {bins:?}");
        let expected = (HANDLES / BINS_PER_PERIOD) as f64;
        for (i, count) in bins.iter().enumerate().skip(BINS_PER_PERIOD / 2) {
            let ratio = *count as f64 / expected;
            assert!((0.93..1.07).contains(&ratio), "bin {i} of {BINS_PER_PERIOD} a period: {ratio:.3}x the mean");
        }
    }

    #[test]
    fn retry_after_is_a_jittered_floor_capped_at_the_period() {
        fastrand::seed(14);
        let period = Duration::from_secs(60);
        let asked = Duration::from_secs(6);
        let waits: Vec<Duration> = (0..2000).map(|_| retry_after_wait(asked, period)).collect();
        assert!(waits.iter().all(|w| *w >= asked && *w <= asked.mul_f64(1.5)), "at least what was asked");
        let (low, high) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
        assert!(*high - *low > Duration::from_secs(2), "jittered: {low:?} to {high:?}");
        assert!(retry_after_wait(Duration::from_secs(50), period) <= period, "the jitter stops at the period");
        for asked in [period, Duration::from_secs(86_400), Duration::MAX] {
            let wait = retry_after_wait(asked, period);
            assert!(wait <= period && wait >= period.mul_f64(JITTER_LOW), "{asked:?}: {wait:?}");
        }
        assert_eq!(retry_after_wait(Duration::ZERO, period), Duration::ZERO);
    }

    #[test]
    fn a_retry_after_floors_the_backoff_and_an_asked_attempt() {
        let period = Duration::from_secs(60);
        let at = Instant::now();
        let mut plan = Plan::new(History::default(), period);
        plan.failed(at, period, Some(Duration::from_secs(10)));
        assert!(plan.due >= at + Duration::from_secs(10) && plan.due <= at + Duration::from_secs(15));
        assert_eq!(plan.next(Some(at)), plan.not_before.unwrap(), "refresh_now waits for the server too");
        plan.failed(at, period, None);
        assert!(plan.due <= at + Duration::from_secs(2), "without the header, the back-off alone");
        assert_eq!(plan.next(Some(at)), at, "an asked attempt replaces a back-off");
        let later = at + Duration::from_secs(100);
        assert_eq!(plan.next(Some(later)), later, "whether it was due sooner or later");
    }

    #[test]
    fn only_a_scheduled_attempt_after_a_success_keeps_the_steady_rhythm() {
        let period = Duration::from_secs(60);
        let t = Instant::now();
        let mut plan = Plan::new(History::default(), period);
        assert_eq!(plan.rhythm_after(false), Rhythm::Fresh, "the first success");
        plan.follow(History { last_success: Some(t), ..History::default() }, period, Rhythm::Fresh);
        assert_eq!(plan.rhythm_after(false), Rhythm::Steady);
        assert_eq!(plan.rhythm_after(true), Rhythm::Fresh, "after refresh_now");
        plan.failed(t, period, None);
        assert_eq!(plan.rhythm_after(false), Rhythm::Fresh, "after a failure");
    }
}
