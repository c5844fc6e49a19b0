//! A client-side rate limiter shared by every call of a run: one bucket per
//! (action, region), because that is how the cloud counts (ECS "API
//! throttling", docs/sources/signing-quotas.md §5).
//!
//! A bucket whose quota is known (from Quota Center, see
//! [`super::quotas`]) keeps under it from the first call. A quota of a
//! second or less is a rate: calls are spaced evenly just under it. A
//! longer calendar window (`500/60s`) is an allowance: the calls of a
//! window may all leave at once, up to what the window still allows, and
//! then wait for the next window. What it allows: the whole limit less
//! what Quota Center reported used in the window it was read in; where it
//! reported no usage, less a small safety margin in every window. One whose
//! quota is unknown adapts: it starts modestly and speeds up while
//! calls succeed; when the server throttles, it slows down and then probes
//! upward only gently, so a long run settles just under the server's limit.
//!
//! Either way a throttle closes the bucket: the cloud counts calls in
//! calendar windows, so a throttled API stays refused until its window ends.
//! No call starts until the bucket may have reopened (a retry hint, the end
//! of the known window, or a second later), and then a single call probes;
//! the others follow only once it succeeds. The ECS docs advise probing at
//! 1 call/s after a throttle (signing-quotas.md §5).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::WallClock;

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
/// A known per-second quota is paced at this share of it: just under, so
/// that the jitter of the network does not push a window over.
pub const QUOTA_HEADROOM: f64 = 0.95;
/// Of a longer window's allowance this share is left unspent when Quota
/// Center reported no usage, for another client of the same account that
/// nothing showed; at least one call is.
const WINDOW_SAFETY_SHARE: f64 = 0.02;
/// Quotas with a window longer than this are allowances, not rates.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// What a call's round trip is taken to be until one has answered.
pub const INITIAL_LATENCY: Duration = Duration::from_millis(250);
/// The weight of the newest round trip in the latency estimate.
const LATENCY_WEIGHT: f64 = 0.2;
/// Without a better estimate, a closed bucket is probed this often: the
/// ECS docs' 1 QPS.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// A probe waits this long past the end of a known window, for the clocks
/// of client and server to disagree a little.
const WINDOW_MARGIN: Duration = Duration::from_millis(50);
/// How late a caller may take its turn and still keep the schedule.
const LATE_SLACK: Duration = Duration::from_millis(10);
/// How often a caller behind a probe looks again.
const BEHIND_PROBE_POLL: Duration = Duration::from_millis(100);

/// A closed bucket: no call before `until`, then one probe at a time.
#[derive(Debug, Clone, Copy)]
struct Closed {
    until: Instant,
    probe_out: bool,
}

/// A calendar-window quota's allowance, and what this run spent of it.
#[derive(Debug, Clone, Copy)]
struct Allowance {
    /// Calls this run may make in one window.
    per_window: u32,
    window: Duration,
    /// The window that `spent` counts.
    number: u128,
    spent: u32,
    /// Calls charged in advance to window `number + 1`: a call that leaves
    /// just before a window ends may reach the server in the next one, so
    /// it counts in both.
    carried: u32,
}

impl Allowance {
    /// Moves the count on to window `number` when it is a later one.
    fn roll_to(&mut self, number: u128) {
        if number > self.number {
            self.spent = if number == self.number + 1 {
                self.carried
            } else {
                0
            };
            self.carried = 0;
            self.number = number;
        }
    }

    /// Calls still allowed in the current window.
    fn left(&self) -> u32 {
        self.per_window.saturating_sub(self.spent)
    }
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    /// The rate at which the server last throttled; `None` until it has.
    throttled_at: Option<f64>,
    /// When the rate was last cut. A throttle of a call sent before then
    /// says nothing new: the cut already answered it.
    last_cut: Option<Instant>,
    /// The published limit: calls per window.
    quota: Option<(u32, Duration)>,
    /// For a quota of a window longer than a second.
    allowance: Option<Allowance>,
    closed: Option<Closed>,
    /// When the next call may start: calls leave evenly spaced at `rate`,
    /// with no burst.
    next: Instant,
    /// The round trip of a successful call, smoothed; `None` before one.
    latency: Option<Duration>,
}

/// What a caller may do now.
enum Turn {
    Go,
    Wait(Duration),
    /// The bucket is closed and the caller said not to wait for it.
    Refused,
}

impl Bucket {
    fn turn(&mut self, now: Instant, hold: bool, clock: &WallClock) -> Turn {
        if let Some(closed) = &mut self.closed {
            if !hold {
                return Turn::Refused;
            }
            if now < closed.until {
                return Turn::Wait(closed.until - now);
            }
            if closed.probe_out {
                return Turn::Wait(BEHIND_PROBE_POLL);
            }
            closed.probe_out = true;
            return Turn::Go;
        }
        if now < self.next {
            return Turn::Wait(self.next - now);
        }
        let latency = self.latency.unwrap_or(INITIAL_LATENCY);
        if let Some(allowance) = &mut self.allowance {
            allowance.roll_to(clock.window_number(allowance.window));
            let left = clock.until_next_window(allowance.window);
            // A call that may still be on its way when the window ends.
            let straddles = left < latency + WINDOW_MARGIN;
            if allowance.left() == 0 || (straddles && allowance.carried >= allowance.per_window) {
                return Turn::Wait(left + WINDOW_MARGIN);
            }
            allowance.spent += 1;
            if straddles {
                allowance.carried += 1;
            }
        }
        let interval = Duration::from_secs_f64(1.0 / self.rate);
        // A waiter wakes a little late (timers tick in milliseconds): keep
        // to the schedule then, or the rate would drift below the one set;
        // after an idle spell, start afresh from now.
        let from = if now - self.next > LATE_SLACK.min(interval) {
            now
        } else {
            self.next
        };
        self.next = from + interval;
        Turn::Go
    }
}

#[derive(Debug)]
pub struct RateLimiter {
    ceiling: Option<f64>,
    clock: WallClock,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl RateLimiter {
    /// `ceiling`: calls per second that no bucket exceeds (`--rate`).
    pub fn new(ceiling: Option<f64>) -> RateLimiter {
        RateLimiter {
            ceiling: ceiling.filter(|r| *r > 0.0),
            clock: WallClock::new(),
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
                quota: None,
                allowance: None,
                closed: None,
                next: Instant::now(),
                latency: None,
            });
        f(bucket, ceiling)
    }

    /// Keeps `action` in `region` under `limit` calls per calendar
    /// `window` (never above `--rate`), from now on: paced just under it
    /// for a window of a second or less, else as an allowance per window.
    /// `used`: calls already counted in the current window (Quota Center's
    /// usage), spent from this window's allowance; `None` when unknown,
    /// which leaves a margin of every window unspent.
    pub fn set_quota(
        &self,
        action: &str,
        region: Option<&str>,
        limit: u32,
        window: Duration,
        used: Option<u32>,
    ) {
        let number = self.clock.window_number(window);
        self.with_bucket(action, region, |bucket, ceiling| {
            bucket.quota = Some((limit, window));
            if window <= RATE_WINDOW {
                let rate = f64::from(limit) / window.as_secs_f64().max(0.001) * QUOTA_HEADROOM;
                bucket.rate = rate.min(ceiling);
                bucket.allowance = None;
                return;
            }
            let margin = match used {
                Some(_) => 0,
                None => (f64::from(limit) * WINDOW_SAFETY_SHARE).ceil().max(1.0) as u32,
            };
            bucket.rate = ceiling;
            bucket.allowance = Some(Allowance {
                per_window: limit.saturating_sub(margin).max(1),
                window,
                number,
                spent: used.unwrap_or(0),
                carried: 0,
            });
        });
    }

    /// A call answered after `round_trip`: the latency estimate moves
    /// towards it.
    pub fn observe_latency(&self, action: &str, region: Option<&str>, round_trip: Duration) {
        self.with_bucket(action, region, |bucket, _| {
            bucket.latency = Some(match bucket.latency {
                None => round_trip,
                Some(old) => old.mul_f64(1.0 - LATENCY_WEIGHT) + round_trip.mul_f64(LATENCY_WEIGHT),
            });
        });
    }

    /// How many calls to `action` in `region` are worth having in flight,
    /// by Little's law: the bucket's rate times its latency; for a window's
    /// allowance, no more than the allowance (calls beyond it wait for the
    /// next window in [`RateLimiter::acquire`], ready to leave at once).
    pub fn wanted_in_flight(&self, action: &str, region: Option<&str>) -> f64 {
        self.with_bucket(action, region, |bucket, _| {
            let latency = bucket.latency.unwrap_or(INITIAL_LATENCY);
            let by_rate = bucket.rate * latency.as_secs_f64();
            match &bucket.allowance {
                Some(allowance) => by_rate.min(f64::from(allowance.per_window)),
                None => by_rate,
            }
        })
    }

    /// Waits until a call to `action` in `region` may start, and returns
    /// when it did: pass that to [`RateLimiter::on_throttled`]. A waiter
    /// looks again after each sleep, so a cut in the rate or a closed
    /// window slows callers that are already waiting. With `hold` false, a
    /// closed bucket answers `None` at once instead of waiting.
    pub async fn acquire(&self, action: &str, region: Option<&str>, hold: bool) -> Option<Instant> {
        loop {
            let now = Instant::now();
            let clock = &self.clock;
            match self.with_bucket(action, region, |bucket, _| bucket.turn(now, hold, clock)) {
                Turn::Go => return Some(now),
                Turn::Wait(wait) => tokio::time::sleep(wait).await,
                Turn::Refused => return None,
            }
        }
    }

    /// A call succeeded: the bucket is open, and an adaptive one speeds up.
    pub fn on_success(&self, action: &str, region: Option<&str>) {
        self.with_bucket(action, region, |bucket, ceiling| {
            bucket.closed = None;
            if bucket.quota.is_some() {
                return;
            }
            bucket.rate = match bucket.throttled_at {
                // Never throttled: grow by one call per second per success,
                // which doubles the rate about every second.
                None => bucket.rate + 1.0,
                Some(limit) => bucket.rate + limit * PROBE_STEP,
            }
            .min(ceiling);
        });
    }

    /// A call that was not answered (timeout, dropped connection, 5xx):
    /// whoever held a probe gives it back.
    pub fn on_other_failure(&self, action: &str, region: Option<&str>) {
        self.with_bucket(action, region, |bucket, _| {
            if let Some(closed) = &mut bucket.closed {
                closed.probe_out = false;
            }
        });
    }

    /// The server throttled a call sent at `sent_at`, perhaps saying when to
    /// come back (`retry_after`). The bucket closes until then, or until its
    /// known window ends, or for [`PROBE_INTERVAL`]; and returns when that is.
    pub fn on_throttled(
        &self,
        action: &str,
        region: Option<&str>,
        sent_at: Instant,
        retry_after: Option<Duration>,
    ) -> Instant {
        let now = Instant::now();
        let clock = self.clock;
        self.with_bucket(action, region, |bucket, _| {
            let wait = match (retry_after, bucket.quota) {
                (Some(hint), _) => hint,
                (None, Some((_, window))) => clock.until_next_window(window) + WINDOW_MARGIN,
                (None, None) => PROBE_INTERVAL,
            };
            let until = bucket
                .closed
                .map_or(now + wait, |c| c.until.max(now + wait));
            // Only the throttle that closes an open bucket says the rate
            // was too high; probes refused in a closed window say nothing
            // about the rate.
            let was_open = bucket.closed.is_none();
            bucket.closed = Some(Closed {
                until,
                probe_out: false,
            });
            if bucket.quota.is_none() && was_open && bucket.last_cut.is_none_or(|cut| sent_at > cut)
            {
                let factor = if bucket.throttled_at.is_none() {
                    FIRST_BACKOFF
                } else {
                    BACKOFF
                };
                bucket.throttled_at = Some(bucket.rate);
                bucket.rate = (bucket.rate * factor).max(MIN_RATE);
                bucket.last_cut = Some(now);
            }
            until
        })
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
        limiter.set_quota("A", None, 6_000, Duration::from_secs(1), None);
        assert_eq!(limiter.rate("A", None), 50.0, "--rate caps a known quota");
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_slows_down_once_per_cut_then_probes_gently() {
        let limiter = RateLimiter::new(None);
        for _ in 0..200 {
            limiter.on_success("A", None);
        }
        let climbed = limiter.rate("A", None);
        let sent = limiter.acquire("A", None, true).await.unwrap();
        limiter.on_throttled("A", None, sent, None);
        // A second throttle of a call sent before the cut changes nothing.
        limiter.on_throttled("A", None, sent, None);
        let halved = limiter.rate("A", None);
        assert!(
            (halved - climbed * FIRST_BACKOFF).abs() < 1e-9,
            "{climbed} -> {halved}"
        );
        // The probe after the pause succeeds, and the bucket opens again.
        let probe = limiter.acquire("A", None, true).await.unwrap();
        limiter.on_success("A", None);
        tokio::time::advance(Duration::from_millis(10)).await;
        let sent = limiter.acquire("A", None, true).await.unwrap();
        assert!(sent > probe);
        limiter.on_throttled("A", None, sent, None);
        let cut = limiter.rate("A", None);
        assert!(
            (cut - (halved + climbed * PROBE_STEP) * BACKOFF).abs() < 1e-6,
            "{halved} -> {cut}"
        );
        limiter.on_success("A", None);
        assert!(
            limiter.rate("A", None) - cut < halved * 0.001,
            "probing is gentle"
        );
    }

    #[test]
    fn buckets_are_per_action_and_region() {
        let limiter = RateLimiter::new(None);
        limiter.on_throttled("A", Some("r1"), Instant::now(), None);
        assert!(limiter.rate("A", Some("r1")) < INITIAL_RATE);
        assert_eq!(limiter.rate("A", Some("r2")), INITIAL_RATE);
        assert_eq!(limiter.rate("B", Some("r1")), INITIAL_RATE);
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_at_the_rate() {
        let limiter = RateLimiter::new(Some(10.0));
        let start = tokio::time::Instant::now();
        for _ in 0..11 {
            limiter.acquire("A", None, true).await;
        }
        // 11 calls at 10/s: the first at once, the last a second later.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(990) && elapsed < Duration::from_millis(1100),
            "{elapsed:?}"
        );
    }

    /// Calls started in each second by `callers` tasks sharing a bucket,
    /// `calls` in all, in paused time.
    async fn starts_per_second(
        limiter: std::sync::Arc<RateLimiter>,
        callers: usize,
        calls: usize,
    ) -> Vec<usize> {
        let start = Instant::now();
        let times = std::sync::Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let (limiter, times) = (limiter.clone(), times.clone());
                tokio::spawn(async move {
                    for _ in 0..calls / callers {
                        let at = limiter.acquire("J", Some("r"), true).await.unwrap();
                        limiter.on_success("J", Some("r"));
                        times.lock().unwrap().push(at - start);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let times = times.lock().unwrap();
        let last = times.iter().max().map_or(0, |t| t.as_secs() as usize);
        let mut per_second = vec![0; last + 1];
        for t in times.iter() {
            per_second[t.as_secs() as usize] += 1;
        }
        per_second
    }

    #[tokio::test(start_paused = true)]
    async fn a_known_quota_is_paced_just_under_it_from_the_first_second() {
        let limiter = std::sync::Arc::new(RateLimiter::new(None));
        limiter.set_quota("J", Some("r"), 200, Duration::from_secs(1), None);
        let per_second = starts_per_second(limiter, 16, 1_000).await;
        // No slow start: the first second already runs at the paced rate,
        // and no second exceeds the quota.
        assert!(per_second[0] >= 190, "{per_second:?}");
        assert!(per_second.iter().all(|n| *n <= 200), "{per_second:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_bucket_holds_everyone_and_lets_one_probe_a_second() {
        let limiter = std::sync::Arc::new(RateLimiter::new(None));
        let sent = limiter.acquire("J", Some("r"), true).await.unwrap();
        let until = limiter.on_throttled("J", Some("r"), sent, None);
        assert_eq!(until - sent, PROBE_INTERVAL);
        assert!(
            limiter.acquire("J", Some("r"), false).await.is_none(),
            "no waiting: refused"
        );
        // Ten callers wait; the first through is the probe, the rest stay
        // behind it while it is out.
        let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let waiters: Vec<_> = (0..10)
            .map(|_| {
                let (limiter, started) = (limiter.clone(), started.clone());
                tokio::spawn(async move {
                    limiter.acquire("J", Some("r"), true).await;
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(999)).await;
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 0);
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(
            started.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one probe"
        );
        // The probe is refused again: another second, another single probe.
        limiter.on_throttled("J", Some("r"), Instant::now(), None);
        tokio::time::sleep(Duration::from_millis(1_001)).await;
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 2);
        // The probe gets through: the bucket opens for everyone.
        limiter.on_success("J", Some("r"));
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_waits_for_the_hint_or_the_end_of_the_known_window() {
        let limiter = RateLimiter::new(None);
        let now = Instant::now();
        let until = limiter.on_throttled("A", None, now, Some(Duration::from_millis(2_500)));
        assert_eq!(until - now, Duration::from_millis(2_500));

        limiter.set_quota("J", None, 40, Duration::from_secs(60), Some(0));
        let until = limiter.on_throttled("J", None, now, None);
        let left = limiter.clock.until_next_window(Duration::from_secs(60));
        assert_eq!(until - now, left + WINDOW_MARGIN);
        assert!(limiter.rate("J", None) > 0.6, "a known quota is not cut");
    }

    /// The calls that started in each calendar window of `window`, from the
    /// one the first started in, when `calls` calls go through `callers`
    /// tasks; and the offset into its window of each window's first call.
    async fn starts_per_window(
        limiter: std::sync::Arc<RateLimiter>,
        window: Duration,
        callers: usize,
        calls: usize,
    ) -> Vec<(usize, Duration)> {
        let clock = limiter.clock;
        let starts = std::sync::Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let (limiter, starts) = (limiter.clone(), starts.clone());
                tokio::spawn(async move {
                    for _ in 0..calls / callers {
                        limiter.acquire("J", Some("r"), true).await.unwrap();
                        limiter.on_success("J", Some("r"));
                        starts.lock().unwrap().push(clock.now());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let starts = starts.lock().unwrap();
        let number = |t: &Duration| t.as_millis() / window.as_millis();
        let first = starts.iter().map(number).min().unwrap();
        let mut per_window: Vec<(usize, Duration)> = Vec::new();
        for t in starts.iter() {
            let n = (number(t) - first) as usize;
            if per_window.len() <= n {
                per_window.resize(n + 1, (0, Duration::MAX));
            }
            let into = Duration::from_millis((t.as_millis() % window.as_millis()) as u64);
            per_window[n].0 += 1;
            per_window[n].1 = per_window[n].1.min(into);
        }
        per_window
    }

    /// The calls in each window are `calls`, and each window's first
    /// started `first` into it (to the millisecond: the wall clock's
    /// fraction of a millisecond and the timer's ticks may add one).
    fn assert_windows(per_window: &[(usize, Duration)], calls: &[usize], first: &[Duration]) {
        let counts: Vec<usize> = per_window.iter().map(|(n, _)| *n).collect();
        assert_eq!(counts, calls, "calls per window: {per_window:?}");
        for ((_, at), expected) in per_window.iter().zip(first) {
            let late = at.saturating_sub(*expected);
            assert!(
                *at >= *expected && late <= Duration::from_millis(2),
                "a window's first call at {at:?}, expected {expected:?}: {per_window:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_allowance_is_spent_at_once_then_waits_for_the_next_window() {
        let limiter = std::sync::Arc::new(RateLimiter::new(None));
        let window = Duration::from_secs(60);
        // Start 1 s into a window, of which Quota Center says 10 calls are
        // used.
        tokio::time::advance(limiter.clock.until_next_window(window) + Duration::from_secs(1))
            .await;
        limiter.set_quota("J", Some("r"), 500, window, Some(10));
        let per_window = starts_per_window(limiter.clone(), window, 32, 1_024).await;
        // The first window's 490 leave at once, and each later window's
        // 500 from its start (plus the margin for the clocks).
        assert_windows(
            &per_window,
            &[490, 500, 34],
            &[Duration::from_secs(1), WINDOW_MARGIN, WINDOW_MARGIN],
        );
        // Without a reported usage, 2 % of every window stays unspent.
        limiter.set_quota("J", Some("r"), 500, window, None);
        tokio::time::advance(limiter.clock.until_next_window(window)).await;
        let per_window = starts_per_window(limiter, window, 32, 1_024).await;
        assert_windows(
            &per_window,
            &[490, 490, 44],
            &[Duration::ZERO, WINDOW_MARGIN, WINDOW_MARGIN],
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_near_the_end_of_a_window_counts_in_the_next_one_too() {
        let limiter = std::sync::Arc::new(RateLimiter::new(None));
        let window = Duration::from_secs(60);
        // 100 ms before a window ends: a call may arrive in the next one.
        tokio::time::advance(limiter.clock.until_next_window(window) - Duration::from_millis(100))
            .await;
        limiter.set_quota("J", Some("r"), 10, window, Some(1));
        let per_window = starts_per_window(limiter, window, 1, 12).await;
        // 9 left in this window, all sent within its last 100 ms and so
        // charged to the next window too: 1 more there, 2 in the one after.
        assert_windows(
            &per_window,
            &[9, 1, 2],
            &[Duration::from_millis(59_900), WINDOW_MARGIN, WINDOW_MARGIN],
        );
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_is_rate_times_latency_or_a_window_allowance() {
        let limiter = RateLimiter::new(None);
        limiter.set_quota("P", None, 200, Duration::from_secs(1), None);
        let at = |latency: f64| 200.0 * QUOTA_HEADROOM * latency;
        let wanted = limiter.wanted_in_flight("P", None);
        assert!(
            (wanted - at(INITIAL_LATENCY.as_secs_f64())).abs() < 1e-9,
            "{wanted}"
        );
        limiter.observe_latency("P", None, Duration::from_millis(100));
        let wanted = limiter.wanted_in_flight("P", None);
        assert!(
            (wanted - at(0.1)).abs() < 1e-6,
            "the first answer sets it: {wanted}"
        );
        limiter.observe_latency("P", None, Duration::from_millis(600));
        let wanted = limiter.wanted_in_flight("P", None);
        assert!(
            (wanted - at(0.2)).abs() < 1e-6,
            "later ones move it: {wanted}"
        );

        limiter.set_quota("W", None, 500, Duration::from_secs(60), None);
        assert_eq!(limiter.wanted_in_flight("W", None), 490.0);
        let capped = RateLimiter::new(Some(100.0));
        capped.set_quota("W", None, 500, Duration::from_secs(60), Some(0));
        assert!(
            (capped.wanted_in_flight("W", None) - 100.0 * INITIAL_LATENCY.as_secs_f64()).abs()
                < 1e-9,
            "--rate still paces a window"
        );
    }
}
