//! When the next reconcile run starts: every interval, with up to a tenth
//! of it added at random so that many loops started together do not call
//! the API in step, and longer after runs that failed or were throttled
//! (the interval doubled per such run in a row, up to eight times it), so
//! that a dead endpoint or a closed quota is not hammered.

use std::time::Duration;

/// The longest backoff, as a multiple of the interval.
const MAX_BACKOFF_FACTOR: u32 = 8;

/// How a run went, as far as the pace is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunHealth {
    /// It ran and was not throttled.
    Clean,
    /// It failed, or the cloud throttled it.
    Strained,
}

impl RunHealth {
    /// A run that `failed` is strained only when no account it acted in
    /// succeeded: a member that keeps failing (its role removed) does not
    /// slow the others down. Any throttled answer strains it.
    pub fn of(failed: bool, an_account_succeeded: bool, throttled: u64) -> RunHealth {
        if (failed && !an_account_succeeded) || throttled > 0 {
            RunHealth::Strained
        } else {
            RunHealth::Clean
        }
    }
}

/// The loop's pace: the interval, and how many strained runs came in a row.
#[derive(Debug, Clone)]
pub struct Pace {
    interval: Duration,
    strained_in_a_row: u32,
}

impl Pace {
    pub fn new(interval: Duration) -> Pace {
        Pace {
            interval,
            strained_in_a_row: 0,
        }
    }

    /// The wait before the next run, after a run that went `health`;
    /// `jitter` is a number from 0 to 1 (random in a real run).
    pub fn after(&mut self, health: RunHealth, jitter: f64) -> Duration {
        self.strained_in_a_row = match health {
            RunHealth::Clean => 0,
            RunHealth::Strained => self.strained_in_a_row.saturating_add(1),
        };
        let factor = 1u32
            .checked_shl(self.strained_in_a_row)
            .unwrap_or(u32::MAX)
            .min(MAX_BACKOFF_FACTOR);
        let base = self.interval.saturating_mul(factor);
        base + self.interval.mul_f64(jitter.clamp(0.0, 1.0) / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_strained_when_throttled_or_when_no_account_succeeded() {
        assert_eq!(RunHealth::of(false, true, 0), RunHealth::Clean);
        assert_eq!(
            RunHealth::of(true, true, 0),
            RunHealth::Clean,
            "one member failing while others succeed keeps the interval"
        );
        assert_eq!(
            RunHealth::of(true, false, 0),
            RunHealth::Strained,
            "nothing succeeded"
        );
        assert_eq!(
            RunHealth::of(false, true, 1),
            RunHealth::Strained,
            "throttled"
        );
    }

    #[test]
    fn clean_runs_keep_the_interval_plus_at_most_a_tenth() {
        let mut pace = Pace::new(Duration::from_secs(100));
        assert_eq!(
            pace.after(RunHealth::Clean, 0.0),
            Duration::from_secs(100),
            "no jitter, the interval"
        );
        assert_eq!(
            pace.after(RunHealth::Clean, 1.0),
            Duration::from_secs(110),
            "full jitter, a tenth more"
        );
    }

    #[test]
    fn strained_runs_back_off_up_to_eight_times_and_a_clean_run_resets() {
        let mut pace = Pace::new(Duration::from_secs(10));
        let waits: Vec<u64> = (0..6)
            .map(|_| pace.after(RunHealth::Strained, 0.0).as_secs())
            .collect();
        assert_eq!(waits, [20, 40, 80, 80, 80, 80], "doubling, capped at 8x");
        assert_eq!(
            pace.after(RunHealth::Clean, 0.0),
            Duration::from_secs(10),
            "a clean run goes back to the interval"
        );
    }
}
