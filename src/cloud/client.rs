//! The HTTP transport to Alibaba Cloud's RPC APIs: endpoints, common
//! parameters, signing, error decoding, retries with backoff, the shared rate
//! limiter, and call statistics. Every network call of regroup goes through
//! [`Client::call`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::Value;

use super::credentials::{CredentialSource, Credentials, CredentialsError};
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

/// Whether `url` names a loopback host (127.0.0.0/8, ::1, `localhost`).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
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
                if !is_loopback(&parsed) {
                    return Err(EndpointError::PlainHttpNotLoopback(url.into()));
                }
            }
            _ => return Err(EndpointError::Scheme(url.into())),
        }
        Ok(Endpoints::Override(url.trim_end_matches('/').to_owned()))
    }

    /// The URL of an STS host the credential chain chose
    /// (`sts[-vpc].<region>.aliyuncs.com`), or the override.
    pub fn sts_url(&self, host: &str) -> String {
        match self {
            Endpoints::Override(url) => url.clone(),
            Endpoints::AlibabaCloud => format!("https://{host}"),
        }
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
    },
    #[error("{action}: no response from {endpoint}: {message}")]
    Transport {
        action: String,
        endpoint: String,
        message: String,
        /// No connection was made at all (refused, or timed out connecting).
        connect: bool,
    },
    #[error("{action}: the response is not the JSON expected: {message}")]
    Decode { action: String, message: String },
    /// A temporary key expired between its refresh and the server; it has
    /// been dropped, so the next try fetches a new one.
    #[error("{action}: {error}")]
    KeyExpired {
        action: String,
        #[source]
        error: ApiError,
    },
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
}

impl CloudError {
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            CloudError::Api { error, .. } | CloudError::KeyExpired { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The error code for reports: the API's code, or a name for the kind of
    /// failure when there is none.
    pub fn code(&self) -> String {
        match self {
            CloudError::Api { error, .. } | CloudError::KeyExpired { error, .. } => {
                error.code.clone()
            }
            CloudError::Transport { .. } => "Transport".into(),
            CloudError::Decode { .. } => "Decode".into(),
            CloudError::Credentials(_) => "Credentials".into(),
        }
    }

    fn is_transient(&self) -> bool {
        match self {
            CloudError::Api { error, .. } => error.is_transient(),
            CloudError::Transport { .. } | CloudError::KeyExpired { .. } => true,
            CloudError::Decode { .. } | CloudError::Credentials(_) => false,
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
    /// Tries in all, the first included.
    pub max_tries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
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
pub struct CallOutcome<T = Value> {
    pub result: Result<T, CloudError>,
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

/// How long the ECS metadata server gets: one second to connect and one to
/// answer, as the official providers allow (`alibabacloud-credentials`
/// 1.0.12 `provider/ecs_ram_role.py`: connect 1000 ms, read 1000 ms;
/// credentials-go v1.4.12 `providers/ecs_ram_role.go`: 1 s and 1 s; see
/// docs/sources/credentials.md §5), so a machine that is not on ECS learns
/// it within a second.
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const METADATA_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// The parameters of a call that takes none beyond the common ones.
pub const NO_PARAMS: &[(&str, &str)] = &[];

/// Parameters whose values are secrets: logs show that they were sent, not
/// what they were.
const SECRET_PARAMS: [&str; 4] = ["SecurityToken", "OIDCToken", "Signature", "AccessKeySecret"];

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
    http: reqwest::Client,
    metadata_http: reqwest::Client,
    endpoints: Endpoints,
    retry: RetryPolicy,
    stats: Arc<CallStats>,
}

impl Transport {
    pub fn new(config: &ClientConfig) -> Result<Transport, reqwest::Error> {
        let builder = |connect, total| {
            reqwest::Client::builder()
                .connect_timeout(connect)
                .timeout(total)
                .pool_max_idle_per_host(64)
                .user_agent(concat!("regroup/", env!("CARGO_PKG_VERSION")))
                // A metadata server or credentials URI answering with a
                // redirect must not send the request elsewhere.
                .redirect(reqwest::redirect::Policy::none())
                .build()
        };
        Ok(Transport {
            http: builder(config.connect_timeout, config.request_timeout)?,
            metadata_http: builder(METADATA_CONNECT_TIMEOUT, METADATA_REQUEST_TIMEOUT)?,
            endpoints: config.endpoints.clone(),
            retry: config.retry,
            stats: Arc::new(CallStats::default()),
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Runs `once` until it succeeds, fails for good, or `max_tries` (the
    /// policy's when `None`) are spent; each try is logged at `-vv`.
    async fn retrying<T, F, Fut>(
        &self,
        action: &str,
        region: Option<&str>,
        limiter: Option<&RateLimiter>,
        max_tries: Option<u32>,
        mut once: F,
    ) -> CallOutcome<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<(T, Option<String>), CloudError>>,
    {
        let max_tries = max_tries.unwrap_or(self.retry.max_tries);
        let mut request_ids = Vec::new();
        let mut try_number = 0;
        loop {
            try_number += 1;
            let sent_at = match limiter {
                Some(limiter) => Some(limiter.acquire(action, region).await),
                None => None,
            };
            let started = Instant::now();
            self.stats.record_request(action, try_number);
            let result = once(try_number).await;
            let elapsed = started.elapsed();
            match &result {
                Ok((_, id)) => {
                    if let Some(limiter) = limiter {
                        limiter.on_success(action, region);
                    }
                    request_ids.extend(id.clone());
                }
                Err(error) => {
                    if let Some(api) = error.api_error() {
                        request_ids.extend(api.request_id.clone());
                        if api.is_throttling() {
                            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                            if let (Some(limiter), Some(sent_at)) = (limiter, sent_at) {
                                limiter.on_throttled(action, region, sent_at);
                            }
                        }
                    }
                }
            }
            tracing::debug!(
                action,
                region = region.unwrap_or("-"),
                attempt = try_number,
                latency_ms = elapsed.as_millis() as u64,
                outcome = %match &result {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => e.api_error().map(|a| format!("{} {}", a.status, a.code)).unwrap_or_else(|| e.code()),
                },
                "call"
            );
            match result {
                Ok((value, _)) => {
                    return CallOutcome {
                        result: Ok(value),
                        tries: try_number,
                        request_ids,
                    }
                }
                Err(error) if error.is_transient() && try_number < max_tries => {
                    tokio::time::sleep(self.retry.delay_before(try_number + 1)).await;
                }
                Err(error) => {
                    return CallOutcome {
                        result: Err(error),
                        tries: try_number,
                        request_ids,
                    }
                }
            }
        }
    }

    /// An RPC call to `endpoint`, signed with `signer` (RPC v1), or sent
    /// without a signature when `signer` is `None` (`AssumeRoleWithOIDC`).
    pub async fn rpc(
        &self,
        endpoint: &str,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
        signer: Option<&Credentials>,
    ) -> Result<Value, CloudError> {
        self.retrying(action, region, None, None, |_| {
            self.send_rpc(endpoint, service, region, action, params, signer)
        })
        .await
        .result
    }

    /// One request; a retry calls this again, so every try gets a fresh
    /// nonce and timestamp.
    async fn send_rpc(
        &self,
        endpoint: &str,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
        signer: Option<&Credentials>,
    ) -> Result<(Value, Option<String>), CloudError> {
        let nonce = format!("{:032x}", rand::rng().random::<u128>());
        let timestamp = timestamp_now();
        let mut all: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", service.api_version()),
            ("Format", "JSON"),
            ("Timestamp", &timestamp),
        ];
        if let Some(credentials) = signer {
            all.extend([
                ("AccessKeyId", credentials.access_key_id.as_str()),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureVersion", "1.0"),
                ("SignatureNonce", &nonce),
            ]);
            if let Some(token) = &credentials.security_token {
                all.push(("SecurityToken", token.expose()));
            }
        }
        if let Some(region) = region {
            all.push(("RegionId", region));
        }
        all.extend(params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
        tracing::trace!(action, params = %redacted(&all), "request");
        let mut query = sign::canonical_query(all.iter().copied());
        if let Some(credentials) = signer {
            let signature = sign::sign(
                "POST",
                all.iter().copied(),
                credentials.access_key_secret.expose(),
            );
            query = format!("{query}&Signature={}", sign::percent_encode(&signature));
        }
        let (status, body) = self
            .send(
                &self.http,
                reqwest::Method::POST,
                &format!("{endpoint}/?{query}"),
                &[],
                action,
                endpoint,
            )
            .await?;
        if !(200..300).contains(&status) {
            return Err(CloudError::Api {
                action: action.to_owned(),
                error: ApiError::from_body(status, &body),
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

    /// A plain request (metadata server, credentials URI) through the same
    /// retries and logs; `max_tries` of 1 probes without retrying. The body
    /// of a 2xx answer is returned as text; any other status is an
    /// [`ApiError`] named after the status (the body is not kept, as it may
    /// echo a secret).
    pub async fn plain(
        &self,
        request: &PlainRequest<'_>,
        max_tries: Option<u32>,
    ) -> CallOutcome<String> {
        let http = if request.metadata {
            &self.metadata_http
        } else {
            &self.http
        };
        self.retrying(request.label, None, None, max_tries, |_| async {
            let (status, body) = self
                .send(
                    http,
                    request.method.clone(),
                    &request.url,
                    &request.headers,
                    request.label,
                    request.label,
                )
                .await?;
            if (200..300).contains(&status) {
                Ok((body, None))
            } else {
                Err(CloudError::Api {
                    action: request.label.to_owned(),
                    error: ApiError::from_body(status, ""),
                })
            }
        })
        .await
    }

    /// Sends one request and reads its whole answer. Errors name `shown`,
    /// never the URL, which carries the signature and tokens.
    async fn send(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        headers: &[(&'static str, String)],
        action: &str,
        shown: &str,
    ) -> Result<(u16, String), CloudError> {
        let transport = |e: reqwest::Error| CloudError::Transport {
            action: action.to_owned(),
            endpoint: shown.to_owned(),
            message: describe_transport_error(&e),
            connect: e.is_connect() || (e.is_timeout() && !e.is_body()),
        };
        let mut builder = http.request(method, url);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(transport)?;
        Ok((status, body))
    }
}

/// `k=v` pairs for a log line, secrets replaced by `***`.
fn redacted(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            if SECRET_PARAMS.contains(k) {
                format!("{k}=***")
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One pooled HTTP client for a whole run, shared by reads and writes.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    credentials: CredentialSource,
    limiter: Arc<RateLimiter>,
}

impl Client {
    #[cfg(test)]
    pub fn new(
        config: ClientConfig,
        credentials: CredentialSource,
    ) -> Result<Client, reqwest::Error> {
        Ok(Client::with_transport(
            Transport::new(&config)?,
            credentials,
            config.max_rate,
        ))
    }

    /// A client on a transport that already exists, such as the one the
    /// credential chain fetched its keys with.
    pub fn with_transport(
        transport: Transport,
        credentials: CredentialSource,
        max_rate: Option<f64>,
    ) -> Client {
        Client {
            transport,
            credentials,
            limiter: Arc::new(RateLimiter::new(max_rate)),
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.transport.stats()
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn credentials(&self) -> &CredentialSource {
        &self.credentials
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
    /// request ids the server gave.
    pub async fn call_detailed(
        &self,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
    ) -> CallOutcome {
        let endpoint = self.transport.endpoints.url(service, region);
        self.call_at(&endpoint, service, region, action, params)
            .await
    }

    /// Calls `action` at `endpoint`, signed with the run's credentials, which
    /// are fetched again when due on every try.
    pub async fn call_at(
        &self,
        endpoint: &str,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
    ) -> CallOutcome {
        self.transport
            .retrying(action, region, Some(&self.limiter), None, |_| async {
                let credentials = self.credentials.credentials(&self.transport).await?;
                let result = self
                    .transport
                    .send_rpc(
                        endpoint,
                        service,
                        region,
                        action,
                        params,
                        Some(&credentials),
                    )
                    .await;
                match result {
                    Err(CloudError::Api { action, error })
                        if error.code == EXPIRED_TOKEN
                            && self.credentials.forget(&credentials.access_key_id) =>
                    {
                        Err(CloudError::KeyExpired { action, error })
                    }
                    other => other,
                }
            })
            .await
    }
}

/// The code of a call signed with a temporary key that has expired (the
/// gateway errors table in docs/sources/credentials.md §7).
pub const EXPIRED_TOKEN: &str = "InvalidSecurityToken.Expired";

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
        };
        for next_try in 2..40 {
            assert!(policy.delay_before(next_try) <= Duration::from_millis(800));
        }
        assert!(policy.delay_before(2) <= Duration::from_millis(100));
    }
}
