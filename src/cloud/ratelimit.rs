//! A client-side rate limiter shared by every call of a run: one bucket per
//! (action, region), because that is how the cloud counts. It adapts:
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
/// The first throttle ends the start-up climb, which has overshot by then:
/// halve the rate, as TCP does.
const FIRST_BACKOFF: f64 = 0.5;
/// Later throttles come from gentle probing: back off a little.
const BACKOFF: f64 = 0.85;
/// After a throttle, each success raises the rate by this share of the rate
/// that was throttled, so getting back there takes many calls.
const PROBE_STEP: f64 = 0.0005;

#[derive(Debug)]
struct Bucket {
    rate: f64,
    /// The rate at which the server last throttled; `None` until it has.
    throttled_at: Option<f64>,
    /// When the rate was last cut. A throttle of a call sent before then
    /// says nothing new: the cut already answered it.
    last_cut: Option<Instant>,
    /// Up to one call's worth of permission, refilled at `rate`; no larger
    /// burst, so that calls leave evenly spaced.
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    /// Takes a token if there is one; otherwise says how long until there is.
    fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(1.0);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
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
                tokens: 1.0,
                refilled: Instant::now(),
            });
        f(bucket, ceiling)
    }

    /// Waits until a call to `action` in `region` may start, and returns
    /// when it did: pass that to [`RateLimiter::on_throttled`]. A waiter
    /// looks again after each sleep, so a cut in the rate slows callers
    /// that are already waiting.
    pub async fn acquire(&self, action: &str, region: Option<&str>) -> Instant {
        loop {
            let now = Instant::now();
            match self.with_bucket(action, region, |bucket, _| bucket.try_take(now)) {
                Ok(()) => return now,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
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

    /// The server throttled a call sent at `sent_at`.
    pub fn on_throttled(&self, action: &str, region: Option<&str>, sent_at: Instant) {
        self.with_bucket(action, region, |bucket, _| {
            if bucket.last_cut.is_some_and(|cut| sent_at <= cut) {
                return;
            }
            let factor = if bucket.throttled_at.is_none() {
                FIRST_BACKOFF
            } else {
                BACKOFF
            };
            bucket.throttled_at = Some(bucket.rate);
            bucket.rate = (bucket.rate * factor).max(MIN_RATE);
            bucket.last_cut = Some(Instant::now());
        });
    }

    /// The current rate of a bucket.
    #[cfg(test)]
    fn rate(&self, action: &str, region: Option<&str>) -> f64 {
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

    #[tokio::test(start_paused = true)]
    async fn throttling_slows_down_once_per_cut_then_probes_gently() {
        let limiter = RateLimiter::new(None);
        for _ in 0..200 {
            limiter.on_success("A", None);
        }
        let climbed = limiter.rate("A", None);
        let sent = limiter.acquire("A", None).await;
        limiter.on_throttled("A", None, sent);
        // A second throttle of a call sent before the cut changes nothing.
        limiter.on_throttled("A", None, sent);
        let halved = limiter.rate("A", None);
        assert!(
            (halved - climbed * FIRST_BACKOFF).abs() < 1e-9,
            "{climbed} -> {halved}"
        );

        tokio::time::advance(Duration::from_millis(10)).await;
        let sent = limiter.acquire("A", None).await;
        limiter.on_throttled("A", None, sent);
        let cut = limiter.rate("A", None);
        assert!((cut - halved * BACKOFF).abs() < 1e-9, "{halved} -> {cut}");
        limiter.on_success("A", None);
        assert!(
            limiter.rate("A", None) - cut < halved * 0.001,
            "probing is gentle"
        );
    }

    #[test]
    fn buckets_are_per_action_and_region() {
        let limiter = RateLimiter::new(None);
        limiter.on_throttled("A", Some("r1"), Instant::now());
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
