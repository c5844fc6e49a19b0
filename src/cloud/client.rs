//! The HTTP transport to Alibaba Cloud's RPC APIs: endpoints, common
//! parameters, signing, error decoding, retries with backoff, the shared rate
//! limiter, and call statistics. Every network call of regroup goes through
//! [`Client::call`].
//!
//! Retries are bounded by time (`--retry-for`) as well as by count: a
//! throttled call waits for its quota window to reopen (see
//! [`super::ratelimit`]) without using up tries, since ECS counts calls in
//! calendar minutes and a minute outlasts any count of quick retries. A
//! circuit breaker stops starting calls to an endpoint after
//! [`BREAKER_THRESHOLD`] consecutive timeouts or refused connections, so a
//! dead or hung server ends a run instead of holding it for hours; and after
//! [`Client::interrupt`] nothing is retried or waited for.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use rand::Rng;
use serde_json::Value;

use super::credentials::{CredentialSource, CredentialsError};
use super::ratelimit::RateLimiter;
use crate::api::sign;
pub use crate::api::Service;

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("`{0}` is not a URL")]
    NotAUrl(String),
    #[error("`{0}`: only https:// and http:// endpoints are supported")]
    Scheme(String),
    #[error("`{0}`: plain http:// is accepted only for loopback addresses (127.0.0.0/8, ::1, localhost); use https://")]
    PlainHttpNotLoopback(String),
}

/// Where each call goes: the real regional endpoints, or one URL for all
/// (`--endpoint`), such as the emulator's.
#[derive(Debug, Clone)]
pub enum Endpoints {
    AlibabaCloud,
    Override(String),
}

impl Endpoints {
    /// Checks an `--endpoint` URL: https anywhere, plain http only to loopback,
    /// so that signatures and tokens never cross a network in the clear.
    pub fn override_with(url: &str) -> Result<Endpoints, EndpointError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| EndpointError::NotAUrl(url.into()))?;
        match parsed.scheme() {
            "https" => {}
            "http" => {
                let loopback = match parsed.host() {
                    Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    None => false,
                };
                if !loopback {
                    return Err(EndpointError::PlainHttpNotLoopback(url.into()));
                }
            }
            _ => return Err(EndpointError::Scheme(url.into())),
        }
        Ok(Endpoints::Override(url.trim_end_matches('/').to_owned()))
    }

    pub fn url(&self, service: Service, region: Option<&str>) -> String {
        match self {
            Endpoints::Override(url) => url.clone(),
            Endpoints::AlibabaCloud => match (service, region) {
                (Service::Ecs, Some("cn-hangzhou")) => {
                    "https://ecs-cn-hangzhou.aliyuncs.com".into()
                }
                (Service::Ecs, Some(region)) => format!("https://ecs.{region}.aliyuncs.com"),
                (Service::Ecs, None) => "https://ecs.aliyuncs.com".into(),
                (Service::ResourceManager, _) => "https://resourcemanager.aliyuncs.com".into(),
                (Service::Sts, _) => "https://sts.aliyuncs.com".into(),
                // `_endpoint_rule = 'central'` in alibabacloud-quotas20200510
                // 1.2.2 client.py l.24 (docs/sources/signing-quotas.md §6).
                (Service::Quotas, _) => "https://quotas.aliyuncs.com".into(),
            },
        }
    }
}

/// An error the API answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (HTTP {}", self.code, self.message, self.status)?;
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        f.write_str(")")
    }
}

impl ApiError {
    /// Decodes an error body (`{RequestId, HostId, Code, Message}`); a body
    /// that is not one still yields an error that says what came back.
    pub fn from_body(status: u16, body: &str) -> ApiError {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match field("Code") {
            Some(code) => ApiError {
                status,
                code,
                message: field("Message").unwrap_or_default(),
                request_id: field("RequestId"),
            },
            None => ApiError {
                status,
                code: format!("HTTP{status}"),
                message: body.chars().take(200).collect(),
                request_id: None,
            },
        }
    }

    pub fn is_throttling(&self) -> bool {
        self.code.starts_with("Throttling") || self.code == "Rejected.Throttling"
    }

    /// Whether trying again may succeed: decided by the code first, then by
    /// the HTTP status.
    pub fn is_transient(&self) -> bool {
        self.is_throttling()
            || matches!(
                self.code.as_str(),
                "ServiceUnavailable" | "InternalError" | "EntityExists.AssociatedTransferTasks"
            )
            || matches!(self.status, 500 | 502 | 503 | 504)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("{action}: {error}")]
    Api {
        action: String,
        #[source]
        error: ApiError,
        /// The server's `x-acs-retry-after`, in milliseconds as
        /// `alibabacloud_tea_openapi` reads it (signing-quotas.md §4).
        retry_after: Option<Duration>,
    },
    #[error("{action}: no response from {endpoint}: {message}")]
    Transport {
        action: String,
        endpoint: String,
        message: String,
        /// A timeout or a refused connection: the server may be down or
        /// hung, which the circuit breaker counts; a connection dropped
        /// mid-answer is not.
        unreachable: bool,
    },
    #[error("{action}: not sent: {endpoint} stopped answering ({failures} timeouts or refused connections in a row)")]
    CircuitOpen {
        action: String,
        endpoint: String,
        failures: u32,
    },
    #[error("{action}: not sent: the run was interrupted")]
    Interrupted { action: String },
    #[error("{action}: the response is not the JSON expected: {message}")]
    Decode { action: String, message: String },
    #[error("credentials")]
    Credentials(#[from] CredentialsError),
}

impl CloudError {
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            CloudError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The error code for reports: the API's code, or a name for the kind of
    /// failure when there is none.
    pub fn code(&self) -> String {
        match self {
            CloudError::Api { error, .. } => error.code.clone(),
            CloudError::Transport { .. } => "Transport".into(),
            CloudError::CircuitOpen { .. } => "CircuitOpen".into(),
            CloudError::Interrupted { .. } => "Interrupted".into(),
            CloudError::Decode { .. } => "Decode".into(),
            CloudError::Credentials(_) => "Credentials".into(),
        }
    }

    /// Whether a later call may succeed where this one failed; for the
    /// second pass of an apply.
    pub fn is_transient_failure(&self) -> bool {
        self.is_transient()
            || matches!(
                self,
                CloudError::CircuitOpen { .. } | CloudError::Interrupted { .. }
            )
    }

    fn is_transient(&self) -> bool {
        match self {
            CloudError::Api { error, .. } => error.is_transient(),
            CloudError::Transport { .. } => true,
            CloudError::CircuitOpen { .. }
            | CloudError::Interrupted { .. }
            | CloudError::Decode { .. }
            | CloudError::Credentials(_) => false,
        }
    }
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

/// The current time as the API's `Timestamp` wants it.
pub fn timestamp_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

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

impl RetryPolicy {
    /// Exponential backoff with full jitter: a random wait up to
    /// `base * 2^(try-1)`, capped.
    fn delay_before(&self, next_try: u32) -> Duration {
        let exponent = next_try.saturating_sub(2).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
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
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
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

    fn record_request(&self, action: &str, try_number: u32) {
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
pub struct CallOutcome {
    pub result: Result<Value, CloudError>,
    pub tries: u32,
    pub request_ids: Vec<String>,
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoints: Endpoints,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Ceiling of calls per second for each (action, region); `None` lets the
    /// limiter find the server's limit by itself.
    pub max_rate: Option<f64>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoints: Endpoints::AlibabaCloud,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_rate: None,
        }
    }
}

/// The parameters of a call that takes none beyond the common ones.
#[cfg(test)]
pub const NO_PARAMS: &[(&str, &str)] = &[];

/// One pooled HTTP client for a whole run, shared by reads and writes.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    credentials: CredentialSource,
    config: Arc<ClientConfig>,
    limiter: Arc<RateLimiter>,
    stats: Arc<CallStats>,
    breakers: Arc<Mutex<HashMap<String, Breaker>>>,
    interrupted: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Client {
    pub fn new(
        config: ClientConfig,
        credentials: CredentialSource,
    ) -> Result<Client, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_max_idle_per_host(64)
            .user_agent(concat!("regroup/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            credentials,
            limiter: Arc::new(RateLimiter::new(config.max_rate)),
            config: Arc::new(config),
            stats: Arc::new(CallStats::default()),
            breakers: Arc::new(Mutex::new(HashMap::new())),
            interrupted: Arc::new(tokio::sync::watch::Sender::new(false)),
        })
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// From now on nothing is retried and nobody waits for a closed quota
    /// window: calls that are waiting give up, calls in flight finish.
    pub fn interrupt(&self) {
        self.interrupted.send_replace(true);
    }

    fn is_interrupted(&self) -> bool {
        *self.interrupted.borrow()
    }

    /// Resolves once [`Client::interrupt`] is called.
    async fn interruption(&self) {
        let mut watch = self.interrupted.subscribe();
        let _ = watch.wait_for(|interrupted| *interrupted).await;
    }

    /// Whether calls to `endpoint` are stopped, and after how many failures.
    fn breaker_open(&self, endpoint: &str) -> Option<u32> {
        let breakers = self.breakers.lock().unwrap_or_else(|p| p.into_inner());
        breakers
            .get(endpoint)
            .filter(|b| b.open)
            .map(|b| b.failures)
    }

    /// Counts an answer (any HTTP answer closes the count) or a failure to
    /// get one.
    fn record_reach(&self, endpoint: &str, unreachable: bool) {
        let mut breakers = self.breakers.lock().unwrap_or_else(|p| p.into_inner());
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

    /// Calls `action` and returns its JSON body, retrying transient failures.
    pub async fn call(
        &self,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
    ) -> Result<Value, CloudError> {
        self.call_detailed(service, region, action, params)
            .await
            .result
    }

    /// Like [`Client::call`], but also says how many tries it took and which
    /// request ids the server gave. `tries` 0 means nothing was sent.
    pub async fn call_detailed(
        &self,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
    ) -> CallOutcome {
        let policy = self.config.retry;
        let endpoint = self.config.endpoints.url(service, region);
        let mut request_ids = Vec::new();
        let mut tries = 0;
        // Failures other than throttling, which has its own patience.
        let mut failures = 0;
        let mut deadline = None;
        let mut last_error: Option<CloudError> = None;
        let finish = |result, tries, request_ids| CallOutcome {
            result,
            tries,
            request_ids,
        };
        loop {
            if let Some(failures) = self.breaker_open(&endpoint) {
                let error = CloudError::CircuitOpen {
                    action: action.to_owned(),
                    endpoint: endpoint.clone(),
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
            let turn = async {
                match deadline {
                    Some(deadline) => tokio::time::timeout_at(
                        deadline,
                        self.limiter.acquire(action, region, hold),
                    )
                    .await
                    .ok()
                    .flatten(),
                    None => self.limiter.acquire(action, region, hold).await,
                }
            };
            let sent_at = tokio::select! {
                sent_at = turn => sent_at,
                () = self.interruption(), if hold => None,
            };
            let Some(sent_at) = sent_at else {
                let error = last_error.unwrap_or_else(interrupted);
                return finish(Err(error), tries, request_ids);
            };
            tries += 1;
            deadline.get_or_insert(sent_at + policy.retry_for);
            let started = Instant::now();
            let result = self
                .send_once(service, region, action, params, tries, &endpoint)
                .await;
            let elapsed = started.elapsed();
            let mut wait = None;
            match &result {
                Ok((_, id)) => {
                    self.record_reach(&endpoint, false);
                    self.limiter.on_success(action, region);
                    request_ids.extend(id.clone());
                }
                Err(CloudError::Api {
                    error, retry_after, ..
                }) => {
                    self.record_reach(&endpoint, false);
                    request_ids.extend(error.request_id.clone());
                    if error.is_throttling() {
                        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                        self.limiter
                            .on_throttled(action, region, sent_at, *retry_after);
                    } else {
                        self.limiter.on_other_failure(action, region);
                        failures += 1;
                        wait = Some(policy.delay_before(failures + 1));
                    }
                }
                Err(error) => {
                    if let CloudError::Transport { unreachable, .. } = error {
                        self.record_reach(&endpoint, *unreachable);
                    }
                    self.limiter.on_other_failure(action, region);
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
                || failures >= policy.max_tries
                || out_of_time
                || self.is_interrupted()
            {
                return finish(Err(error), tries, request_ids);
            }
            if let Some(wait) = wait {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.interruption() => return finish(Err(error), tries, request_ids),
                }
            }
            last_error = Some(error);
        }
    }

    /// One signed request; a retry calls this again, so every try gets a
    /// fresh nonce and timestamp.
    async fn send_once(
        &self,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
        try_number: u32,
        endpoint: &str,
    ) -> Result<(Value, Option<String>), CloudError> {
        let sts_endpoint = self.config.endpoints.url(Service::Sts, None);
        let credentials = self
            .credentials
            .credentials(&self.http, &sts_endpoint)
            .await?;
        let nonce = format!("{:032x}", rand::rng().random::<u128>());
        let timestamp = timestamp_now();
        let mut all: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", service.api_version()),
            ("Format", "JSON"),
            ("AccessKeyId", &credentials.access_key_id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &timestamp),
        ];
        if let Some(token) = &credentials.security_token {
            all.push(("SecurityToken", token.expose()));
        }
        if let Some(region) = region {
            all.push(("RegionId", region));
        }
        all.extend(params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
        let signature = sign::sign(
            "POST",
            all.iter().copied(),
            credentials.access_key_secret.expose(),
        );
        let query = format!(
            "{}&Signature={}",
            sign::canonical_query(all.iter().copied()),
            sign::percent_encode(&signature)
        );

        self.stats.record_request(action, try_number);
        let transport = |e: reqwest::Error| CloudError::Transport {
            action: action.to_owned(),
            endpoint: endpoint.to_owned(),
            message: describe_transport_error(&e),
            unreachable: e.is_timeout() || e.is_connect(),
        };
        let response = self
            .http
            .post(format!("{endpoint}/?{query}"))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(crate::api::quota::RETRY_AFTER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        let body = response.text().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(CloudError::Api {
                action: action.to_owned(),
                error: ApiError::from_body(status, &body),
                retry_after,
            });
        }
        let value: Value = serde_json::from_str(&body).map_err(|e| CloudError::Decode {
            action: action.to_owned(),
            message: e.to_string(),
        })?;
        let request_id = value
            .get("RequestId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok((value, request_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:1",
            "http://[::1]:9",
            "https://ecs.example.com",
        ] {
            assert!(Endpoints::override_with(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1",
            "http://example.com",
            "ftp://127.0.0.1",
            "nonsense",
        ] {
            assert!(Endpoints::override_with(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn real_endpoints_follow_the_sdk_map() {
        let e = Endpoints::AlibabaCloud;
        assert_eq!(
            e.url(Service::Ecs, Some("cn-hangzhou")),
            "https://ecs-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            e.url(Service::Ecs, Some("cn-shanghai")),
            "https://ecs.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(e.url(Service::Ecs, None), "https://ecs.aliyuncs.com");
        assert_eq!(
            e.url(Service::ResourceManager, Some("cn-shanghai")),
            "https://resourcemanager.aliyuncs.com"
        );
        assert_eq!(e.url(Service::Sts, None), "https://sts.aliyuncs.com");
    }

    #[test]
    fn errors_are_classified_by_code_then_status() {
        let e = |status, code: &str| ApiError {
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        };
        assert!(e(400, "Throttling.User").is_transient());
        assert!(e(429, "Rejected.Throttling").is_transient());
        assert!(e(400, "EntityExists.AssociatedTransferTasks").is_transient());
        assert!(e(503, "ServiceUnavailable").is_transient());
        assert!(e(502, "Whatever").is_transient());
        assert!(!e(404, "InvalidResourceId.NotFound").is_transient());
        assert!(!e(400, "SignatureDoesNotMatch").is_transient());
        assert!(e(500, "AnythingElse").is_transient());
    }

    #[test]
    fn error_bodies_decode_and_non_json_still_says_something() {
        let e = ApiError::from_body(
            404,
            r#"{"RequestId":"R1","HostId":"h","Code":"InvalidResourceId.NotFound","Message":"gone"}"#,
        );
        assert_eq!(e.code, "InvalidResourceId.NotFound");
        assert_eq!(e.request_id.as_deref(), Some("R1"));
        assert_eq!(
            e.to_string(),
            "InvalidResourceId.NotFound: gone (HTTP 404, request id R1)"
        );
        let e = ApiError::from_body(502, "<html>bad gateway</html>");
        assert_eq!(e.code, "HTTP502");
        assert!(e.is_transient());
    }

    #[test]
    fn backoff_is_bounded_by_the_cap() {
        let policy = RetryPolicy {
            max_tries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            ..RetryPolicy::default()
        };
        for next_try in 2..40 {
            assert!(policy.delay_before(next_try) <= Duration::from_millis(800));
        }
        assert!(policy.delay_before(2) <= Duration::from_millis(100));
    }
}
