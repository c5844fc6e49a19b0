//! A client-side rate limiter shared by every call of a run: one token bucket
//! per (action, region), because that is how the cloud counts. It adapts:
//! without a configured ceiling it starts modestly and speeds up while calls
//! succeed; when the server throttles, it slows down and then probes upward
//! only gently, so a long run settles just under the server's limit instead
//! of bouncing off it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Calls per second a bucket starts at when no ceiling is configured.
const INITIAL_RATE: f64 = 20.0;
/// A bucket never goes slower than this, so a run always progresses.
const MIN_RATE: f64 = 0.5;
/// Without a ceiling, a bucket stops speeding up here.
const UNBOUNDED_CEILING: f64 = 5_000.0;
/// After a throttle, the rate drops to this share of the rate that hit it.
const BACKOFF_FACTOR: f64 = 0.85;
/// After a throttle, each success raises the rate by this share of the rate
/// that was throttled, so getting back there takes many calls.
const PROBE_STEP: f64 = 0.0005;
/// Throttles that arrive this soon after a slow-down were caused by calls
/// sent before it, and do not slow down again.
const THROTTLE_QUIET: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Bucket {
    rate: f64,
    /// The rate at which the server last throttled; `None` until it has.
    throttled_at: Option<f64>,
    last_cut: Option<Instant>,
    /// When the next call may start: the bucket's schedule. Reserving a slot
    /// moves it on by 1/rate, so concurrent callers queue in order.
    next_slot: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    ceiling: Option<f64>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl RateLimiter {
    /// `ceiling`: calls per second that no bucket exceeds (`--rate`).
    pub fn new(ceiling: Option<f64>) -> RateLimiter {
        RateLimiter {
            ceiling: ceiling.filter(|r| *r > 0.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn with_bucket<T>(
        &self,
        action: &str,
        region: Option<&str>,
        f: impl FnOnce(&mut Bucket, f64) -> T,
    ) -> T {
        let ceiling = self.ceiling.unwrap_or(UNBOUNDED_CEILING);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets
            .entry((action.to_owned(), region.unwrap_or_default().to_owned()))
            .or_insert_with(|| Bucket {
                rate: self.ceiling.unwrap_or(INITIAL_RATE),
                throttled_at: None,
                last_cut: None,
                next_slot: Instant::now(),
            });
        f(bucket, ceiling)
    }

    /// Waits until a call to `action` in `region` may start.
    pub async fn acquire(&self, action: &str, region: Option<&str>) {
        let start_at = self.with_bucket(action, region, |bucket, _| {
            let now = Instant::now();
            let slot = bucket.next_slot.max(now);
            bucket.next_slot = slot + Duration::from_secs_f64(1.0 / bucket.rate);
            slot
        });
        tokio::time::sleep_until(start_at).await;
    }

    pub fn on_success(&self, action: &str, region: Option<&str>) {
        self.with_bucket(action, region, |bucket, ceiling| {
            bucket.rate = match bucket.throttled_at {
                // Never throttled: grow by one call per second per success,
                // which doubles the rate about every second.
                None => bucket.rate + 1.0,
                Some(limit) => bucket.rate + limit * PROBE_STEP,
            }
            .min(ceiling);
        });
    }

    pub fn on_throttled(&self, action: &str, region: Option<&str>) {
        self.with_bucket(action, region, |bucket, _| {
            let now = Instant::now();
            if bucket
                .last_cut
                .is_some_and(|t| now.duration_since(t) < THROTTLE_QUIET)
            {
                return;
            }
            bucket.throttled_at = Some(bucket.rate);
            bucket.rate = (bucket.rate * BACKOFF_FACTOR).max(MIN_RATE);
            bucket.last_cut = Some(now);
        });
    }

    /// The current rate of a bucket, for tests and `-v` output.
    pub fn rate(&self, action: &str, region: Option<&str>) -> f64 {
        self.with_bucket(action, region, |bucket, _| bucket.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceiling_is_never_exceeded() {
        let limiter = RateLimiter::new(Some(50.0));
        for _ in 0..1000 {
            limiter.on_success("JoinResourceGroup", Some("cn-hangzhou"));
        }
        assert_eq!(limiter.rate("JoinResourceGroup", Some("cn-hangzhou")), 50.0);
    }

    #[test]
    fn throttling_slows_down_once_per_burst_then_probes_gently() {
        let limiter = RateLimiter::new(None);
        for _ in 0..200 {
            limiter.on_success("A", None);
        }
        let before = limiter.rate("A", None);
        limiter.on_throttled("A", None);
        limiter.on_throttled("A", None);
        let after = limiter.rate("A", None);
        assert!(
            (after - before * BACKOFF_FACTOR).abs() < 1e-9,
            "{before} -> {after}"
        );
        limiter.on_success("A", None);
        assert!(limiter.rate("A", None) - after < before * 0.001);
    }

    #[test]
    fn buckets_are_per_action_and_region() {
        let limiter = RateLimiter::new(None);
        limiter.on_throttled("A", Some("r1"));
        assert!(limiter.rate("A", Some("r1")) < INITIAL_RATE);
        assert_eq!(limiter.rate("A", Some("r2")), INITIAL_RATE);
        assert_eq!(limiter.rate("B", Some("r1")), INITIAL_RATE);
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_at_the_rate() {
        let limiter = RateLimiter::new(Some(10.0));
        let start = tokio::time::Instant::now();
        for _ in 0..11 {
            limiter.acquire("A", None).await;
        }
        // 11 calls at 10/s: the first at once, the last a second later.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(990) && elapsed < Duration::from_millis(1100),
            "{elapsed:?}"
        );
    }
}
