//! The one HTTP path of regroup: every request (API call, STS call,
//! metadata or credentials-URI fetch) goes through [`Transport::retrying`],
//! which waits its turn in the rate limiter, counts and logs each try
//! without secrets, tries transient failures again within the
//! [`RetryPolicy`]'s bounds, keeps the circuit breakers, and stops waiting
//! once the run is interrupted.
//!
//! Retries are bounded by time (`--retry-for`) as well as by count: a
//! throttled call waits for its quota window to reopen (see
//! [`super::ratelimit`]) without using up tries, since ECS counts calls in
//! calendar minutes and a minute outlasts any count of quick retries. A
//! circuit breaker stops starting calls to an endpoint after
//! [`super::retry::BREAKER_THRESHOLD`] consecutive timeouts or refused connections, so a
//! dead or hung server ends a run instead of holding it for hours; and after
//! [`Transport::interrupt`] nothing is retried or waited for.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::client::{ClientConfig, SignatureVersion};
use super::endpoints::{goes_direct, Endpoints};
use super::error::{ApiError, CloudError};
use super::ratelimit::RateLimiter;
use super::retry::{Breakers, CallOutcome, CallStats, RetryPolicy, StatsSnapshot};

/// How long the ECS metadata server gets: one second to connect and one to
/// answer, as the official providers allow (`alibabacloud-credentials`
/// 1.0.12 `provider/ecs_ram_role.py`: connect 1000 ms, read 1000 ms;
/// credentials-go v1.4.12 `providers/ecs_ram_role.go`: 1 s and 1 s; see
/// docs/sources/credentials.md §5), so a machine that is not on ECS learns
/// it within a second.
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const METADATA_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// The most bytes a plain answer (the metadata server's, a credentials
/// URI's) may hold: 4 MiB, as every other credential source is read
/// (docs/credentials.md). Real answers are a few hundred bytes of JSON; an
/// answer that streams for ever ends in an error here instead of filling
/// memory. RPC answers are read as they come, without this bound.
pub const MAX_PLAIN_ANSWER_BYTES: usize = 4 << 20;

/// An HTTP request that is not an RPC call: the ECS metadata server and a
/// credentials URI.
pub struct PlainRequest<'a> {
    pub method: reqwest::Method,
    pub url: String,
    /// What the log calls it; never holds a secret.
    pub label: &'a str,
    pub headers: Vec<(&'static str, String)>,
    /// The metadata server's short timeouts instead of the API's.
    pub metadata: bool,
}

/// The one HTTP path of regroup: every request, API call, STS call, metadata
/// or credentials-URI fetch, goes through [`Transport::retrying`], which
/// counts it, logs it at `-vv` without secrets, and tries transient
/// failures again.
#[derive(Clone)]
pub struct Transport {
    pub(super) http: reqwest::Client,
    metadata_http: reqwest::Client,
    /// The API's timeouts, never through a proxy: for plain-http or
    /// loopback URLs such as a credentials URI.
    direct_http: reqwest::Client,
    pub(super) endpoints: Endpoints,
    retry: RetryPolicy,
    pub(super) signature: SignatureVersion,
    stats: Arc<CallStats>,
    breakers: Arc<Breakers>,
    interrupted: Arc<tokio::sync::watch::Sender<bool>>,
}
impl Transport {
    pub fn new(config: &ClientConfig) -> Result<Transport, reqwest::Error> {
        let builder = |connect, total, direct_only: bool| {
            let builder = reqwest::Client::builder()
                .connect_timeout(connect)
                .timeout(total)
                .pool_max_idle_per_host(64)
                .user_agent(concat!("regroup/", env!("CARGO_PKG_VERSION")))
                // A metadata server or credentials URI answering with a
                // redirect must not send the request elsewhere.
                .redirect(reqwest::redirect::Policy::none());
            // Otherwise reqwest honours HTTPS_PROXY, HTTP_PROXY and
            // ALL_PROXY (and their lower-case forms) for every URL,
            // loopback and plain http included.
            if direct_only {
                builder.no_proxy().build()
            } else {
                builder.build()
            }
        };
        Ok(Transport {
            http: builder(
                config.connect_timeout,
                config.request_timeout,
                config.endpoints.direct_only(),
            )?,
            // The metadata server is plain http (100.100.100.200, or the
            // emulator in tests): never through a proxy.
            metadata_http: builder(METADATA_CONNECT_TIMEOUT, METADATA_REQUEST_TIMEOUT, true)?,
            direct_http: builder(config.connect_timeout, config.request_timeout, true)?,
            endpoints: config.endpoints.clone(),
            retry: config.retry,
            signature: config.signature,
            stats: Arc::new(CallStats::default()),
            breakers: Arc::new(Breakers::default()),
            interrupted: Arc::new(tokio::sync::watch::Sender::new(false)),
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// From now on nothing is retried and nobody waits for a closed quota
    /// window: calls that are waiting give up, calls in flight finish.
    pub fn interrupt(&self) {
        self.interrupted.send_replace(true);
    }

    pub(super) fn is_interrupted(&self) -> bool {
        *self.interrupted.borrow()
    }

    /// Resolves once [`Transport::interrupt`] is called.
    async fn interruption(&self) {
        let mut watch = self.interrupted.subscribe();
        let _ = watch.wait_for(|interrupted| *interrupted).await;
    }

    /// Runs `once` until it succeeds or fails for good. With a `limiter`,
    /// each try waits its turn in the (action, region) bucket, which a
    /// throttled call holds closed until its window can have reopened, so
    /// throttling spends no tries; other transient failures are tried again
    /// up to `max_tries` (the policy's when `None`) with backoff. Retries
    /// stop at the policy's `retry_for` after the first try, when the
    /// endpoint's circuit breaker opens, and once the run is interrupted.
    /// Each try is counted, and logged at `-vv`.
    pub(super) async fn retrying<T, F, Fut>(
        &self,
        action: &str,
        region: Option<&str>,
        endpoint: &str,
        limiter: Option<&RateLimiter>,
        max_tries: Option<u32>,
        mut once: F,
    ) -> CallOutcome<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<(T, Option<String>), CloudError>>,
    {
        let policy = self.retry;
        let max_tries = max_tries.unwrap_or(policy.max_tries);
        let mut request_ids = Vec::new();
        let mut tries = 0;
        // Failures other than throttling under a limiter, which has its own
        // patience.
        let mut failures = 0;
        let mut deadline: Option<Instant> = None;
        let mut last_error: Option<CloudError> = None;
        let finish = |result, tries, request_ids| CallOutcome {
            result,
            tries,
            request_ids,
        };
        loop {
            if let Some(failures) = self.breakers.open(endpoint) {
                let error = CloudError::CircuitOpen {
                    action: action.to_owned(),
                    endpoint: endpoint.to_owned(),
                    failures,
                };
                return finish(Err(last_error.unwrap_or(error)), tries, request_ids);
            }
            // The first try waits its turn however long; a retry only
            // until the deadline, and nobody waits once interrupted.
            let interrupted = || CloudError::Interrupted {
                action: action.to_owned(),
            };
            let hold = !self.is_interrupted();
            let sent_at = match limiter {
                Some(limiter) => {
                    let turn = async {
                        match deadline {
                            Some(deadline) => tokio::time::timeout_at(
                                deadline,
                                limiter.acquire(action, region, hold),
                            )
                            .await
                            .ok()
                            .flatten(),
                            None => limiter.acquire(action, region, hold).await,
                        }
                    };
                    tokio::select! {
                        sent_at = turn => sent_at,
                        () = self.interruption(), if hold => None,
                    }
                }
                None if tries > 0 && !hold => None,
                None => Some(Instant::now()),
            };
            let Some(sent_at) = sent_at else {
                let error = last_error.unwrap_or_else(interrupted);
                return finish(Err(error), tries, request_ids);
            };
            tries += 1;
            deadline.get_or_insert(sent_at + policy.retry_for);
            let started = Instant::now();
            self.stats.record_request(action, tries);
            let result = once(tries).await;
            let elapsed = started.elapsed();
            let mut wait = None;
            match &result {
                Ok((_, id)) => {
                    self.breakers.record(endpoint, false);
                    if let Some(limiter) = limiter {
                        limiter.on_success(action, region);
                        limiter.observe_latency(action, region, elapsed);
                    }
                    request_ids.extend(id.clone());
                }
                Err(CloudError::Api {
                    error, retry_after, ..
                }) => {
                    self.breakers.record(endpoint, false);
                    request_ids.extend(error.request_id.clone());
                    match limiter {
                        Some(limiter) if error.is_throttling() => {
                            self.stats.record_throttled();
                            limiter.on_throttled(action, region, sent_at, *retry_after);
                        }
                        _ => {
                            if error.is_throttling() {
                                self.stats.record_throttled();
                            }
                            if let Some(limiter) = limiter {
                                limiter.on_other_failure(action, region);
                            }
                            failures += 1;
                            wait = Some(
                                retry_after
                                    .unwrap_or_else(|| policy.delay_after(error, failures + 1)),
                            );
                        }
                    }
                }
                Err(error) => {
                    if let CloudError::Transport { unreachable, .. } = error {
                        self.breakers.record(endpoint, *unreachable);
                    }
                    if let Some(limiter) = limiter {
                        limiter.on_other_failure(action, region);
                    }
                    failures += 1;
                    wait = Some(policy.delay_before(failures + 1));
                }
            }
            tracing::debug!(
                action,
                region = region.unwrap_or("-"),
                attempt = tries,
                latency_ms = elapsed.as_millis() as u64,
                outcome = %match &result {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => e.api_error().map(|a| format!("{} {}", a.status, a.code)).unwrap_or_else(|| e.code()),
                },
                "call"
            );
            let error = match result {
                Ok((value, _)) => return finish(Ok(value), tries, request_ids),
                Err(error) => error,
            };
            let out_of_time = deadline.is_some_and(|d| Instant::now() >= d);
            if !error.is_transient()
                || failures >= max_tries
                || out_of_time
                || self.is_interrupted()
            {
                return finish(Err(error), tries, request_ids);
            }
            if let Some(wait) = wait {
                // No retry starts after the deadline, whatever a hint says.
                let left = deadline.map_or(wait, |d| d.saturating_duration_since(Instant::now()));
                if left < wait {
                    return finish(Err(error), tries, request_ids);
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.interruption() => return finish(Err(error), tries, request_ids),
                }
            }
            last_error = Some(error);
        }
    }

    /// A plain request (metadata server, credentials URI) through the same
    /// retries and logs; `max_tries` of 1 probes without retrying. The body
    /// of a 2xx answer is returned as text, if it holds at most
    /// [`MAX_PLAIN_ANSWER_BYTES`] (a longer one is an error that is not
    /// tried again); any other status is an
    /// [`ApiError`] named after the status (the body is not kept, as it may
    /// echo a secret).
    pub async fn plain(
        &self,
        request: &PlainRequest<'_>,
        max_tries: Option<u32>,
    ) -> CallOutcome<String> {
        let http = if request.metadata {
            &self.metadata_http
        } else if goes_direct(&request.url) {
            &self.direct_http
        } else {
            &self.http
        };
        self.retrying(
            request.label,
            None,
            request.label,
            None,
            max_tries,
            |_| async {
                let answer = self
                    .send(
                        http,
                        request.method.clone(),
                        &request.url,
                        &request.headers,
                        request.label,
                        request.label,
                        Some(MAX_PLAIN_ANSWER_BYTES),
                    )
                    .await?;
                if (200..300).contains(&answer.status) {
                    Ok((answer.body, None))
                } else {
                    Err(CloudError::Api {
                        action: request.label.to_owned(),
                        error: ApiError::from_body(answer.status, ""),
                        retry_after: answer.retry_after,
                    })
                }
            },
        )
        .await
    }

    /// Sends one request and reads its whole answer, or with a `limit` only
    /// up to that many bytes (more is an error). Errors name `shown`, never
    /// the URL, which carries the signature and tokens.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        headers: &[(&'static str, String)],
        action: &str,
        shown: &str,
        limit: Option<usize>,
    ) -> Result<Answer, CloudError> {
        let transport = |e: reqwest::Error| CloudError::Transport {
            action: action.to_owned(),
            endpoint: shown.to_owned(),
            message: describe_transport_error(&e),
            connect: e.is_connect() || (e.is_timeout() && !e.is_body()),
            unreachable: e.is_timeout() || e.is_connect(),
        };
        // Whatever secret the request carries is masked in every message
        // from now on, in whichever form a server echoes it.
        super::redact::register_request(url, headers);
        // Every request here is body-less; a POST says so with
        // `Content-Length: 0`, as every official SDK sends (RFC 9110 §8.6;
        // docs/sources/conformance.md).
        let empty_post = method == reqwest::Method::POST;
        let mut builder = http.request(method, url);
        if empty_post {
            builder = builder.header(reqwest::header::CONTENT_LENGTH, "0");
        }
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        // The current Tea SDK waits this many milliseconds before a retry
        // when an answer carries it (docs/sources/signing-quotas.md §4).
        let retry_after = response
            .headers()
            .get(crate::api::quota::RETRY_AFTER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms).min(MAX_RETRY_HINT));
        let body = match limit {
            None => response.text().await.map_err(transport)?,
            Some(limit) => read_at_most(response, limit, action, transport).await?,
        };
        Ok(Answer {
            status,
            body,
            retry_after,
        })
    }
}

/// The longest a server's `x-acs-retry-after` may hold a call: ECS counts
/// quotas in calendar minutes (docs/sources/signing-quotas.md §5), so a hint
/// beyond a minute and a margin is not taken at its word.
const MAX_RETRY_HINT: Duration = Duration::from_secs(65);

/// One HTTP answer, read whole.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: String,
    /// `x-acs-retry-after`, when the server sent one.
    pub(super) retry_after: Option<Duration>,
}
/// The body of `response` as text, if it holds at most `limit` bytes: a
/// declared length over the limit is refused before a byte is read, and an
/// answer of unknown length is read chunk by chunk until it ends or passes
/// the limit. `transport` describes a failed read.
async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
    action: &str,
    transport: impl Fn(reqwest::Error) -> CloudError,
) -> Result<String, CloudError> {
    let too_large = || CloudError::Decode {
        action: action.to_owned(),
        message: format!("the answer is larger than the limit of {limit} bytes"),
    };
    if response
        .content_length()
        .is_some_and(|declared| declared > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(&transport)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Describes a transport failure without the URL, which would carry the
/// request's signature.
pub fn describe_transport_error(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "connection closed while reading the response"
    } else {
        "connection failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({cause})")
    }
}
