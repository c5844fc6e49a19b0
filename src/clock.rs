//! Wall-clock time that a paused tokio clock drives: calendar windows (the
//! way the cloud counts API quotas) line up with the real clock in a run and
//! advance in exact steps in tests with `tokio::time::pause`.

use std::time::Duration;

/// The time since the Unix epoch, read as the start's wall clock plus the
/// tokio clock's progress since.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    epoch_at_start: Duration,
    start: tokio::time::Instant,
}

impl WallClock {
    pub fn new() -> WallClock {
        WallClock {
            epoch_at_start: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default(),
            start: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Duration {
        self.epoch_at_start + self.start.elapsed()
    }

    /// The number of the calendar window of length `window` we are in.
    pub fn window_number(&self, window: Duration) -> u128 {
        self.now().as_millis() / window.as_millis().max(1)
    }

    /// How long until the current calendar window of length `window` ends.
    pub fn until_next_window(&self, window: Duration) -> Duration {
        let length = window.as_millis().max(1);
        let left = length - self.now().as_millis() % length;
        Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX))
    }
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn windows_follow_the_paused_clock() {
        let clock = WallClock::new();
        let window = Duration::from_secs(60);
        let first = clock.window_number(window);
        let left = clock.until_next_window(window);
        assert!(!left.is_zero() && left <= window);
        tokio::time::advance(left).await;
        assert_eq!(clock.window_number(window), first + 1);
        assert_eq!(clock.until_next_window(window), window);
    }
}
