//! How many calls to keep in flight: by Little's law, the calls in flight
//! are the rate they leave at times how long each takes. The rate limiter
//! knows both for every (action, region) — the rate its quota allows and
//! the round trip of its recent calls — so a [`Gate`] keeps that many
//! calls going (with some spare for the spread of round trips), and
//! resizes itself as calls finish and the latency moves. The quota, not
//! the latency, then limits a run; `--parallelism` stays a cap.

use std::sync::Mutex;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::ratelimit::RateLimiter;

/// Round trips vary: keep this many times the mean in flight.
const SPREAD: f64 = 1.5;
/// And a few more, so that a slow quota still has a call waiting its turn.
const SPARE: usize = 2;

/// The calls worth having in flight when the buckets want `wanted` in all,
/// never more than `cap` and never fewer than one.
pub fn size(wanted: f64, cap: usize) -> usize {
    let wanted = if wanted.is_finite() {
        wanted.max(0.0)
    } else {
        0.0
    };
    let sized = (wanted * SPREAD).ceil().min(cap as f64) as usize;
    sized.saturating_add(SPARE).clamp(1, cap.max(1))
}

/// Admits calls of one action to the regions it is made in, as many at a
/// time as [`size`] says for their buckets.
pub struct Gate<'a> {
    limiter: &'a RateLimiter,
    action: &'a str,
    regions: Vec<String>,
    cap: usize,
    semaphore: Semaphore,
    /// The permits the semaphore has now, held ones included.
    permits: Mutex<usize>,
}

/// A call's place in the gate; the gate resizes when it is given back.
pub struct Pass<'g, 'a> {
    gate: &'g Gate<'a>,
    permit: Option<SemaphorePermit<'g>>,
}

impl Drop for Pass<'_, '_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        self.gate.resize();
    }
}

impl<'a> Gate<'a> {
    /// A gate for `action` made in `regions`, at most `cap` at once.
    pub fn new(
        limiter: &'a RateLimiter,
        action: &'a str,
        regions: impl IntoIterator<Item = String>,
        cap: usize,
    ) -> Gate<'a> {
        let regions: std::collections::BTreeSet<String> = regions.into_iter().collect();
        let gate = Gate {
            limiter,
            action,
            regions: regions.into_iter().collect(),
            cap: cap.max(1),
            semaphore: Semaphore::new(0),
            permits: Mutex::new(0),
        };
        gate.resize();
        gate
    }

    /// Waits for a place, which the call holds until the pass is dropped.
    pub async fn enter(&self) -> Pass<'_, 'a> {
        // The semaphore is never closed, so acquiring only ever waits.
        let permit = self.semaphore.acquire().await.ok();
        Pass { gate: self, permit }
    }

    /// How many calls the gate lets in now.
    #[cfg(test)]
    fn permits(&self) -> usize {
        *self
            .permits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Matches the permits to what the buckets want now. Permits in use
    /// cannot be taken back: a smaller size takes effect as they return.
    fn resize(&self) {
        let wanted: f64 = self
            .regions
            .iter()
            .map(|region| self.limiter.wanted_in_flight(self.action, Some(region)))
            .sum();
        let target = size(wanted, self.cap);
        let mut permits = self
            .permits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if target > *permits {
            self.semaphore.add_permits(target - *permits);
            *permits = target;
        } else {
            *permits -= self.semaphore.forget_permits(*permits - target);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cloud::ratelimit::INITIAL_LATENCY;

    #[test]
    fn the_size_is_rate_times_latency_with_spare_within_the_cap() {
        // 190 calls/s at 250 ms: 47.5 in flight on average.
        assert_eq!(size(190.0 * 0.25, 512), 72 + SPARE);
        assert_eq!(size(190.0 * 0.25, 64), 64, "--parallelism caps it");
        assert_eq!(size(0.0, 64), SPARE, "a call still waits its turn");
        assert_eq!(size(f64::NAN, 64), SPARE);
        assert_eq!(size(5.0, 0), 1, "never none");
    }

    #[tokio::test(start_paused = true)]
    async fn the_gate_follows_the_quota_and_the_latency() {
        let limiter = RateLimiter::new(None);
        for region in ["r1", "r2"] {
            limiter.set_quota("J", Some(region), 200, Duration::from_secs(1), None);
        }
        let gate = Gate::new(&limiter, "J", ["r2".into(), "r1".into(), "r2".into()], 512);
        let at = |latency: f64| size(2.0 * 190.0 * latency, 512);
        assert_eq!(gate.permits(), at(INITIAL_LATENCY.as_secs_f64()));
        // Faster answers: fewer calls needed in flight, as they return.
        let passes: Vec<_> = futures::future::join_all((0..10).map(|_| gate.enter())).await;
        for region in ["r1", "r2"] {
            for _ in 0..50 {
                limiter.observe_latency("J", Some(region), Duration::from_millis(20));
            }
        }
        drop(passes);
        let settled = gate.permits();
        assert!(
            settled < at(0.03) && settled >= at(0.02),
            "{settled} at about 20 ms"
        );
        // Slower answers: more.
        for _ in 0..50 {
            limiter.observe_latency("J", Some("r1"), Duration::from_millis(500));
        }
        drop(gate.enter().await);
        assert!(
            gate.permits() > size(190.0 * 0.45, 512),
            "{}",
            gate.permits()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_allowance_is_all_let_in_up_to_the_cap() {
        let limiter = RateLimiter::new(None);
        limiter.set_quota("J", Some("r"), 500, Duration::from_secs(60), None);
        let gate = Gate::new(&limiter, "J", ["r".to_owned()], 256);
        assert_eq!(gate.permits(), 256);
        let gate = Gate::new(&limiter, "J", ["r".to_owned()], 1024);
        assert_eq!(gate.permits(), size(490.0, 1024), "the allowance less 2 %");
    }
}
