//! How patiently a call is tried again and what the tries cost: the
//! [`RetryPolicy`] (full-jitter backoff, the longer wait for a transfer task
//! in progress), the per-endpoint circuit [`Breakers`], the [`CallStats`]
//! counters, and the [`CallOutcome`] of one logical call.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use super::error::{ApiError, CloudError};

/// How often and how patiently a call is tried again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included, for failures other than
    /// throttling.
    pub max_tries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts later than this after the first try (`--retry-for`).
    pub retry_for: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            retry_for: Duration::from_secs(300),
        }
    }
}

/// Timeouts or refused connections in a row after which an endpoint is
/// taken for down.
pub const BREAKER_THRESHOLD: u32 = 5;

/// Consecutive failures to reach one endpoint; open once it reached
/// [`BREAKER_THRESHOLD`], for the rest of the run.
#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open: bool,
}

/// The circuit breakers of a run, one per endpoint.
#[derive(Debug, Default)]
pub(super) struct Breakers(Mutex<HashMap<String, Breaker>>);

impl Breakers {
    /// Whether calls to `endpoint` are stopped, and after how many failures.
    pub(super) fn open(&self, endpoint: &str) -> Option<u32> {
        let breakers = self.0.lock().unwrap_or_else(|p| p.into_inner());
        breakers
            .get(endpoint)
            .filter(|b| b.open)
            .map(|b| b.failures)
    }

    /// Counts an answer (any HTTP answer closes the count) or a failure to
    /// get one.
    pub(super) fn record(&self, endpoint: &str, unreachable: bool) {
        let mut breakers = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let breaker = breakers.entry(endpoint.to_owned()).or_default();
        if unreachable {
            breaker.failures += 1;
            if breaker.failures >= BREAKER_THRESHOLD && !breaker.open {
                breaker.open = true;
                tracing::warn!(
                    endpoint,
                    failures = breaker.failures,
                    "the endpoint stopped answering: no more calls start there"
                );
            }
        } else if !breaker.open {
            breaker.failures = 0;
        }
    }
}

/// A transfer task in progress ([`ApiError::is_transfer_task`]):
/// JoinResourceGroup's "An associated transfer task is in progress. Try
/// again later." (HTTP 400; the error table of the JoinResourceGroup doc,
/// docs/sources/resourcemanager-rules.md §2.3), and MoveResources' own.
/// A transfer task moves an instance's disks and ENIs with it, for a time
/// no source states (§2.3: "how long the in progress window lasts" was not
/// found); far longer than a 5xx blip, so a retry after it waits at least
/// this long, plus a backoff of its own that starts here.
const TRANSFER_TASK_WAIT: Duration = Duration::from_secs(2);

impl RetryPolicy {
    /// Exponential backoff with full jitter: a random wait up to
    /// `base * 2^(try-1)`, capped.
    pub(super) fn delay_before(&self, next_try: u32) -> Duration {
        let exponent = next_try.saturating_sub(2).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }

    /// The wait before try `next_try` after an API error: the backoff, and
    /// for a transfer task in progress [`TRANSFER_TASK_WAIT`] plus a backoff
    /// based on it (up to eight times it).
    pub(super) fn delay_after(&self, error: &ApiError, next_try: u32) -> Duration {
        if !error.is_transfer_task() {
            return self.delay_before(next_try);
        }
        let longer = RetryPolicy {
            base_delay: TRANSFER_TASK_WAIT,
            max_delay: self.max_delay.max(TRANSFER_TASK_WAIT * 8),
            ..*self
        };
        TRANSFER_TASK_WAIT + longer.delay_before(next_try)
    }
}

/// Counters of what the client did, for benchmarks, tests and `-v` output.
#[derive(Debug, Default)]
pub struct CallStats {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    per_action: Mutex<BTreeMap<String, u64>>,
}

/// A copy of [`CallStats`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSnapshot {
    /// HTTP requests sent, tries included.
    pub requests: u64,
    /// Requests that were tries after the first.
    pub retries: u64,
    /// Responses that said the caller was throttled.
    pub throttled: u64,
    /// Requests per action.
    pub per_action: BTreeMap<String, u64>,
}

impl CallStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            per_action: self
                .per_action
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
        }
    }

    pub(super) fn record_throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_request(&self, action: &str, try_number: u32) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if try_number > 1 {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut map) = self.per_action.lock() {
            *map.entry(action.to_owned()).or_default() += 1;
        }
    }
}

/// The result of one logical call, with what it took to get it.
#[derive(Debug)]
pub struct CallOutcome<T = Value> {
    pub result: Result<T, CloudError>,
    pub tries: u32,
    pub request_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An API error with only a status and a code, as the server sends it.
    fn api_error(status: u16, code: &str) -> ApiError {
        ApiError::from_body(status, &format!(r#"{{"Code":"{code}","Message":""}}"#))
    }

    /// Backoff from 100 ms, capped at 800 ms.
    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_tries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn a_transfer_task_in_progress_waits_longer_than_other_failures() {
        let policy = policy();
        let e = api_error;
        let task = e(400, "EntityExists.AssociatedTransferTasks");
        let blip = e(503, "ServiceUnavailable");
        for next_try in 2..8 {
            // The task's ceiling doubles from 2 s up to 16 s, on top of 2 s.
            let ceiling = TRANSFER_TASK_WAIT * (1u32 << (next_try - 2).min(3));
            for _ in 0..50 {
                let waited = policy.delay_after(&task, next_try);
                assert!(
                    waited >= TRANSFER_TASK_WAIT && waited <= TRANSFER_TASK_WAIT + ceiling,
                    "try {next_try}: {waited:?}"
                );
                assert!(policy.delay_after(&blip, next_try) <= Duration::from_millis(800));
            }
        }
    }

    #[test]
    fn backoff_is_full_jitter_up_to_a_doubling_capped_ceiling() {
        let policy = policy();
        // The ceiling before try n is base * 2^(n-2), capped: 100, 200, 400,
        // then 800 ms. Every delay lies in [0, ceiling], and 200 draws reach
        // both ends of that range (each end's quarter is missed by all of
        // them with odds of (3/4)^200).
        for (next_try, ceiling) in [(2, 100), (3, 200), (4, 400), (5, 800), (6, 800), (39, 800)] {
            let delays: Vec<u64> = (0..200)
                .map(|_| policy.delay_before(next_try).as_millis() as u64)
                .collect();
            let (low, high) = (delays.iter().min(), delays.iter().max());
            assert!(
                high <= Some(&ceiling) && high >= Some(&(ceiling * 3 / 4)),
                "try {next_try}: the longest of 200 delays is {high:?} ms, the ceiling {ceiling} ms"
            );
            assert!(
                low <= Some(&(ceiling / 4)),
                "try {next_try}: the shortest of 200 delays is {low:?} ms, not jittered down to 0"
            );
        }
    }
}
