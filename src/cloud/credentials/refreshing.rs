//! [`Refreshing`]: temporary keys cached, fetched again before they
//! expire once for every call waiting on them, and a failed fetch
//! remembered for a few seconds so that the calls behind it do not each
//! fetch again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::fetch::{Fetcher, Fresh};
use super::{Credentials, CredentialsError};
use crate::cloud::client::Transport;

/// Temporary keys are fetched again this long before they expire: 180 s,
/// as credentials-go does for every provider (§8), or a quarter of the
/// key's lifetime when that is shorter, so a key that lives seconds (the
/// emulator's `--sts-ttl`) is not fetched again for every call.
const REFRESH_MARGIN: Duration = Duration::from_secs(180);

/// When keys fetched at `fetched` that expire at `expires` are due again.
pub fn refresh_due(fetched: DateTime<Utc>, expires: DateTime<Utc>) -> DateTime<Utc> {
    let lifetime = (expires - fetched).max(chrono::TimeDelta::zero());
    let margin = chrono::TimeDelta::from_std(REFRESH_MARGIN)
        .unwrap_or(chrono::TimeDelta::MAX)
        .min(lifetime / 4);
    expires - margin
}

#[derive(Debug, Clone)]
struct Cached {
    fresh: Fresh,
    due: Option<DateTime<Utc>>,
}

/// How long a failed fetch stands for every call instead of a new fetch:
/// 1 s after the first failure, doubling with each failure in a row, at
/// most 10 s. A fetch has already been tried again by the transport (its
/// retries and backoff) before it counts as failed; this keeps the calls
/// in flight behind it, and those of the next seconds, from each fetching
/// again: one fetch for N calls, not N in a row against STS or the
/// metadata server. The official providers' back-off after a failed
/// refresh with a cached key is of the same size (docs/credentials.md,
/// "A failed fetch").
const FIRST_HOLD: Duration = Duration::from_secs(1);
const MAX_HOLD: Duration = Duration::from_secs(10);

fn hold_after(in_a_row: u32) -> Duration {
    let doublings = in_a_row.saturating_sub(1).min(8);
    FIRST_HOLD.saturating_mul(1 << doublings).min(MAX_HOLD)
}

/// The last fetch's failure, and until when it stands.
#[derive(Debug)]
struct Failed {
    error: CredentialsError,
    until: Instant,
    in_a_row: u32,
}

/// Temporary keys, fetched on first use and again when due. Calls that find
/// them due wait for one fetch instead of each making their own; a failed
/// fetch stands for a short while ([`hold_after`]) for every call, which
/// gets the keys still valid or else the same error.
#[derive(Debug)]
pub struct Refreshing {
    origin: String,
    fetcher: Fetcher,
    cached: std::sync::RwLock<Option<Cached>>,
    failed: std::sync::Mutex<Option<Failed>>,
    turn: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl Refreshing {
    pub fn new(origin: String, fetcher: Fetcher) -> Refreshing {
        Refreshing {
            origin,
            fetcher,
            cached: std::sync::RwLock::new(None),
            failed: std::sync::Mutex::new(None),
            turn: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// How many times keys were fetched (also in each fetch's log line).
    #[cfg(test)]
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The cached keys when `usable` says they still are.
    fn cached_if(&self, usable: impl Fn(&Cached, DateTime<Utc>) -> bool) -> Option<Credentials> {
        let cached = self.cached.read().ok()?;
        cached
            .as_ref()
            .filter(|c| usable(c, Utc::now()))
            .map(|c| c.fresh.credentials.clone())
    }

    fn not_due(cached: &Cached, now: DateTime<Utc>) -> bool {
        cached.due.is_none_or(|due| now < due)
    }

    fn not_expired(cached: &Cached, now: DateTime<Utc>) -> bool {
        cached.fresh.expires.is_none_or(|expires| now < expires)
    }

    /// While the last fetch's failure stands: the cached keys if they have
    /// not expired, else that failure again.
    fn while_failed(&self) -> Option<Result<Credentials, CredentialsError>> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        let failed = failed.as_ref().filter(|f| Instant::now() < f.until)?;
        Some(
            self.cached_if(Self::not_expired)
                .ok_or_else(|| failed.error.clone()),
        )
    }

    /// Remembers a failed fetch; how long it stands.
    fn remember(&self, error: &CredentialsError) -> Duration {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        let in_a_row = failed.as_ref().map_or(0, |f| f.in_a_row) + 1;
        let hold = hold_after(in_a_row);
        *failed = Some(Failed {
            error: error.clone(),
            until: Instant::now() + hold,
            in_a_row,
        });
        hold
    }

    /// The keys, fetched first when due. When a fetch fails but the cached
    /// keys have not expired yet, they are used: a failing STS does not
    /// stop a run its keys still cover. A failed fetch stands for a few
    /// seconds ([`hold_after`]): the calls waiting on it and those that come
    /// meanwhile get the keys still valid or the same error, without
    /// fetching; the first call after that fetches again.
    pub async fn credentials(
        &self,
        transport: &Transport,
    ) -> Result<Credentials, CredentialsError> {
        if let Some(credentials) = self.cached_if(Self::not_due) {
            return Ok(credentials);
        }
        if let Some(answer) = self.while_failed() {
            return answer;
        }
        let _turn = self.turn.lock().await;
        // Whoever held the turn before may have fetched already, or failed.
        if let Some(credentials) = self.cached_if(Self::not_due) {
            return Ok(credentials);
        }
        if let Some(answer) = self.while_failed() {
            return answer;
        }
        let fetched_at = Utc::now();
        match self.fetcher.fetch(transport, &self.origin).await {
            Ok(fresh) => {
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = None;
                let fetches = self.fetches.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::info!(
                    source = %self.origin,
                    fetches,
                    key = %fresh.credentials.masked_id(),
                    expires = %fresh.expires.map_or_else(|| "never".to_owned(), |e| e.to_rfc3339()),
                    "fetched temporary credentials"
                );
                let due = fresh
                    .expires
                    .map(|expires| refresh_due(fetched_at, expires));
                let credentials = fresh.credentials.clone();
                if let Ok(mut cached) = self.cached.write() {
                    *cached = Some(Cached { fresh, due });
                }
                Ok(credentials)
            }
            Err(error) => {
                let hold = self.remember(&error);
                match self.cached_if(Self::not_expired) {
                    Some(credentials) => {
                        tracing::warn!(source = %self.origin, "could not refresh credentials, using the current ones until they expire, trying again in {} s: {error}", hold.as_secs());
                        Ok(credentials)
                    }
                    None => {
                        // The caller reports the error; this says for how long it stands.
                        tracing::debug!(source = %self.origin, "could not fetch credentials, not trying again for {} s: {error}", hold.as_secs());
                        Err(error)
                    }
                }
            }
        }
    }

    /// Lets the last failure's hold end now, as it will in a few seconds.
    #[cfg(test)]
    pub fn end_failure_hold(&self) {
        if let Some(failed) = self
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            failed.until = Instant::now();
        }
    }

    /// The server said `access_key_id` expired: make sure the next call
    /// fetches new keys, unless another call already has. Always true: a
    /// temporary source can always be asked again.
    pub fn forget(&self, access_key_id: &str) -> bool {
        if let Ok(mut cached) = self.cached.write() {
            if let Some(c) = cached.as_mut() {
                if c.fresh.credentials.access_key_id == access_key_id {
                    let now = Utc::now();
                    c.due = Some(now);
                    c.fresh.expires = Some(now);
                }
            }
        }
        true
    }

    /// Makes the cached keys due now, as they will be after a long run.
    #[cfg(test)]
    pub fn make_due(&self) {
        if let Ok(mut cached) = self.cached.write() {
            if let Some(c) = cached.as_mut() {
                c.due = Some(Utc::now());
            }
        }
    }
}
