//! Repeated timing with medians and ranges.
//!
//! The machine is shared, so contestants are timed in rounds (one sample of
//! each per round, in turn): a burst of load hits them all alike instead of
//! whichever happened to be running. A sample repeats the operation enough
//! times to last about `SAMPLE_TARGET`, so the clock's resolution and the
//! loop's own cost do not matter.
//!
//! Work done on one thread (a merge, a parse) is timed on that thread's CPU
//! clock, which counts its user and kernel time (page faults included) but
//! not the time other processes held the CPU; anything that waits on
//! another thread or the network is timed on the wall clock.

use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// CLOCK_THREAD_CPUTIME_ID.
    Thread,
    Wall,
}

impl Clock {
    fn now(self) -> Duration {
        match self {
            Clock::Wall => START.with(|start| start.elapsed()),
            Clock::Thread => {
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: a valid clock id and a valid out pointer.
                unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
                Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
            }
        }
    }
}

thread_local! {
    static START: Instant = Instant::now();
}

pub const SAMPLE_TARGET: Duration = Duration::from_millis(40);

/// Per-operation times of the samples, in seconds.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub samples: Vec<f64>,
}

impl Stats {
    fn sorted(&self) -> Vec<f64> {
        let mut s = self.samples.clone();
        s.sort_by(|a, b| a.total_cmp(b));
        s
    }
    pub fn median(&self) -> f64 {
        let s = self.sorted();
        let n = s.len();
        if n == 0 {
            return f64::NAN;
        }
        if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        }
    }
    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }
    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    /// The median over rounds of this contestant's sample divided by
    /// `other`'s sample of the same round: a paired comparison, which a
    /// slow spell of the machine during some rounds leaves alone, where a
    /// ratio of the two medians may take one contestant's slow rounds and
    /// the other's fast ones. Both must come from the same `run_rounds`.
    pub fn paired_ratio(&self, other: &Stats) -> f64 {
        assert_eq!(self.samples.len(), other.samples.len(), "not timed in the same rounds");
        Stats { samples: self.samples.iter().zip(&other.samples).map(|(a, b)| a / b).collect() }.median()
    }
}

pub struct Contestant<'a> {
    pub name: String,
    pub clock: Clock,
    run: Box<dyn FnMut() + 'a>,
    iters: u32,
    pub stats: Stats,
}

impl<'a> Contestant<'a> {
    /// Timed on this thread's CPU clock.
    pub fn new(name: impl Into<String>, run: impl FnMut() + 'a) -> Self {
        Self::with_clock(name, Clock::Thread, run)
    }

    /// Timed on the wall clock: for what waits on other threads or the network.
    pub fn wall(name: impl Into<String>, run: impl FnMut() + 'a) -> Self {
        Self::with_clock(name, Clock::Wall, run)
    }

    fn with_clock(name: impl Into<String>, clock: Clock, run: impl FnMut() + 'a) -> Self {
        Contestant { name: name.into(), clock, run: Box::new(run), iters: 1, stats: Stats::default() }
    }

    /// Warms up (caches, connection pools, page tables) and picks how many
    /// operations make one sample.
    fn calibrate(&mut self) {
        let start = self.clock.now();
        (self.run)();
        let one = (self.clock.now() - start).max(Duration::from_nanos(50));
        let start = self.clock.now();
        (self.run)();
        let one = one.min((self.clock.now() - start).max(Duration::from_nanos(50)));
        self.iters = (SAMPLE_TARGET.as_secs_f64() / one.as_secs_f64()).clamp(1.0, 1e7) as u32;
    }

    fn sample(&mut self) {
        let start = self.clock.now();
        for _ in 0..self.iters {
            (self.run)();
        }
        self.stats.samples.push((self.clock.now() - start).as_secs_f64() / f64::from(self.iters));
    }
}

/// Times every contestant for `rounds` rounds, interleaved.
pub fn run_rounds(contestants: &mut [Contestant<'_>], rounds: usize) {
    for c in contestants.iter_mut() {
        c.calibrate();
    }
    for _ in 0..rounds {
        for c in contestants.iter_mut() {
            c.sample();
        }
    }
}
