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

use super::credentials::{CredentialSource, CredentialsError};
use super::ratelimit::RateLimiter;
use crate::api::ram::{self, AccessDeniedDetail};
pub use crate::api::Service;
use crate::api::{sign, sign_v3};

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
        let parsed = reqwest::Url::parse(url).map_err(|_| EndpointError::NotAUrl(redact(url)))?;
        match parsed.scheme() {
            "https" => {}
            "http" => {
                if !is_loopback(&parsed) {
                    return Err(EndpointError::PlainHttpNotLoopback(redact(url)));
                }
            }
            _ => return Err(EndpointError::Scheme(redact(url))),
        }
        // A user and password in the URL would go out as HTTP Basic
        // authentication on every call; regroup authenticates by signature
        // only, so they are dropped here (and redacted wherever the URL is
        // shown).
        let mut bare = parsed;
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        Ok(Endpoints::Override(
            bare.as_str().trim_end_matches('/').to_owned(),
        ))
    }

    /// Whether calls must go straight to the endpoint, whatever the proxy
    /// variables say: a loopback endpoint is on this machine (a proxy
    /// elsewhere cannot even reach it), and plain http, accepted only for
    /// loopback, must not carry signed requests and tokens to a proxy in the
    /// clear. Alibaba Cloud's own endpoints are all https and may be proxied.
    pub fn direct_only(&self) -> bool {
        match self {
            Endpoints::AlibabaCloud => false,
            Endpoints::Override(url) => reqwest::Url::parse(url)
                .map(|parsed| parsed.scheme() != "https" || is_loopback(&parsed))
                .unwrap_or(true),
        }
    }

    pub fn url(&self, service: Service, region: Option<&str>) -> String {
        match self {
            Endpoints::Override(url) => url.clone(),
            Endpoints::AlibabaCloud => {
                format!("https://{}", crate::api::endpoints::host(service, region))
            }
        }
    }
}

/// Whether a URL's host is a loopback address (127.0.0.0/8, ::1) or
/// `localhost`.
fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An error the API answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// For a RAM denial: what was denied to whom, in place of the message.
    pub access_denied: Option<Box<AccessDeniedDetail>>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access_denied {
            Some(denied) => write!(
                f,
                "{}: {} is not allowed {}; {} (HTTP {}",
                self.code,
                describe_principal(denied),
                denied.auth_action,
                GRANT_HINT,
                self.status
            )?,
            None => write!(f, "{}: {} (HTTP {}", self.code, self.message, self.status)?,
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        f.write_str(")")
    }
}

impl ApiError {
    /// Decodes an error body (`{RequestId, HostId, Code, Message}`); a body
    /// that is not one still yields an error that says what came back. The
    /// message is [`redact`]ed: `SignatureDoesNotMatch` echoes the server's
    /// string to sign, which holds the request's `SecurityToken`.
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
                access_denied: parsed
                    .as_ref()
                    .and_then(|v| v.get("AccessDeniedDetail"))
                    .and_then(|d| serde_json::from_value(d.clone()).ok())
                    .map(Box::new),
                code,
                message: redact(&field("Message").unwrap_or_default()),
                request_id: field("RequestId"),
            },
            None => ApiError {
                status,
                code: format!("HTTP{status}"),
                message: redact(&body.chars().take(200).collect::<String>()),
                request_id: None,
                access_denied: None,
            },
        }
    }

    /// Whether RAM refused the call. `Forbidden.RAM`, `NoPermission` and
    /// `NotAuthorized` are the denial codes of RAM's troubleshooting page
    /// (<https://alibabacloud.com/help/en/ram/support/how-to-troubleshoot-an-access-denied-error>);
    /// any answer with an `AccessDeniedDetail` is one too.
    pub fn is_permission_denied(&self) -> bool {
        self.access_denied.is_some()
            || matches!(
                self.code.as_str(),
                ram::FORBIDDEN | "NoPermission" | "NotAuthorized"
            )
    }

    /// Makes sure a denial names its action: an answer without
    /// `AccessDeniedDetail.AuthAction` is given the called API's RAM action.
    fn name_denied_action(&mut self, service: Service, action: &str) {
        if self.is_permission_denied() {
            let detail = self.access_denied.get_or_insert_with(Default::default);
            if detail.auth_action.is_empty() {
                detail.auth_action = ram::action_name(service, action);
            }
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
    },
    #[error("{action}: the response is not the JSON expected: {message}")]
    Decode { action: String, message: String },
    #[error("credentials")]
    Credentials(#[from] CredentialsError),
    /// RAM refused some reads: every action missing, in one line.
    #[error("{}", describe_missing(.0))]
    PermissionsMissing(Vec<AccessDeniedDetail>),
}

/// What to do about a denial, said once.
const GRANT_HINT: &str =
    "hint: grant it in RAM (`regroup policy -f MANIFEST` prints every permission regroup needs)";

/// `SubUser testid`, or `the caller` when the answer did not say.
fn describe_principal(detail: &AccessDeniedDetail) -> String {
    let who = format!(
        "{} {}",
        detail.auth_principal_type, detail.auth_principal_display_name
    );
    match who.trim() {
        "" => "the caller".to_owned(),
        who => who.to_owned(),
    }
}

/// One line for all the reads RAM refused: the actions (sorted, once
/// each) and the principals they were refused to.
fn describe_missing(denials: &[AccessDeniedDetail]) -> String {
    let actions: std::collections::BTreeSet<&str> =
        denials.iter().map(|d| d.auth_action.as_str()).collect();
    let principals: std::collections::BTreeSet<String> =
        denials.iter().map(describe_principal).collect();
    let one = actions.len() == 1;
    format!(
        "missing RAM permission{} for {}: {}; {}",
        if one { "" } else { "s" },
        principals.into_iter().collect::<Vec<_>>().join(", "),
        actions.into_iter().collect::<Vec<_>>().join(", "),
        if one {
            GRANT_HINT.to_owned()
        } else {
            GRANT_HINT.replace("grant it", "grant them")
        }
    )
}

impl CloudError {
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            CloudError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// What RAM refused, when this is a RAM denial.
    pub fn denial(&self) -> Option<&AccessDeniedDetail> {
        self.api_error()
            .filter(|e| e.is_permission_denied())
            .and_then(|e| e.access_denied.as_deref())
    }

    /// The error code for reports: the API's code, or a name for the kind of
    /// failure when there is none.
    pub fn code(&self) -> String {
        match self {
            CloudError::Api { error, .. } => error.code.clone(),
            CloudError::Transport { .. } => "Transport".into(),
            CloudError::Decode { .. } => "Decode".into(),
            CloudError::Credentials(_) => "Credentials".into(),
            CloudError::PermissionsMissing(_) => ram::FORBIDDEN.into(),
        }
    }

    fn is_transient(&self) -> bool {
        match self {
            CloudError::Api { error, .. } => error.is_transient(),
            CloudError::Transport { .. } => true,
            CloudError::Decode { .. }
            | CloudError::Credentials(_)
            | CloudError::PermissionsMissing(_) => false,
        }
    }
}

/// `text` with secrets that can end up in messages masked as `***`: the
/// value of a `SecurityToken` parameter (plain, or percent-encoded once or
/// twice, as in an echoed string to sign), and the user information of a
/// URL (`http://user:password@host` becomes `http://***@host`).
pub fn redact(text: &str) -> String {
    redact_userinfo(&redact_token(text))
}

fn redact_token(text: &str) -> String {
    const NAME: &str = "SecurityToken";
    const EQUALS: [&str; 3] = ["=", "%3D", "%253D"];
    const ENDS: [&str; 3] = ["&", "%26", "%2526"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(NAME) {
        let after_name = &rest[at + NAME.len()..];
        out.push_str(&rest[..at + NAME.len()]);
        let Some(equals) = EQUALS.iter().find(|e| after_name.starts_with(**e)) else {
            rest = after_name;
            continue;
        };
        out.push_str(equals);
        let value = &after_name[equals.len()..];
        let end = value
            .char_indices()
            .find(|(i, c)| {
                c.is_whitespace()
                    || matches!(c, '"' | '\'' | ',' | ')')
                    || ENDS.iter().any(|e| value[*i..].starts_with(e))
            })
            .map_or(value.len(), |(i, _)| i);
        out.push_str("***");
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let authority_starts = at + 3;
        out.push_str(&rest[..authority_starts]);
        let after = &rest[authority_starts..];
        let authority_len = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(after.len());
        match after[..authority_len].rfind('@') {
            Some(user_ends) => {
                out.push_str("***");
                rest = &after[user_ends..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
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
    pub signature: SignatureVersion,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoints: Endpoints::AlibabaCloud,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_rate: None,
            signature: SignatureVersion::V1,
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
}

impl Client {
    pub fn new(
        config: ClientConfig,
        credentials: CredentialSource,
    ) -> Result<Client, reqwest::Error> {
        let mut http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_max_idle_per_host(64)
            .user_agent(concat!("regroup/", env!("CARGO_PKG_VERSION")));
        // Otherwise reqwest honours HTTPS_PROXY, HTTP_PROXY and ALL_PROXY
        // (and their lower-case forms) for every URL, loopback included.
        if config.endpoints.direct_only() {
            http = http.no_proxy();
        }
        let http = http.build()?;
        Ok(Client {
            http,
            credentials,
            limiter: Arc::new(RateLimiter::new(config.max_rate)),
            config: Arc::new(config),
            stats: Arc::new(CallStats::default()),
        })
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
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
        let mut request_ids = Vec::new();
        let mut try_number = 0;
        loop {
            try_number += 1;
            let sent_at = self.limiter.acquire(action, region).await;
            let started = Instant::now();
            let result = self
                .send_once(service, region, action, params, try_number)
                .await;
            let elapsed = started.elapsed();
            match &result {
                Ok((_, id)) => {
                    self.limiter.on_success(action, region);
                    request_ids.extend(id.clone());
                }
                Err(error) => {
                    if let Some(api) = error.api_error() {
                        request_ids.extend(api.request_id.clone());
                        if api.is_throttling() {
                            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                            self.limiter.on_throttled(action, region, sent_at);
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
                Err(error) if error.is_transient() && try_number < self.config.retry.max_tries => {
                    tokio::time::sleep(self.config.retry.delay_before(try_number + 1)).await;
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

    /// One signed request; a retry calls this again, so every try gets a
    /// fresh nonce and timestamp.
    async fn send_once(
        &self,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
        try_number: u32,
    ) -> Result<(Value, Option<String>), CloudError> {
        let endpoint = self.config.endpoints.url(service, region);
        let sts_endpoint = self.config.endpoints.url(Service::Sts, None);
        let credentials = self
            .credentials
            .credentials(&self.http, &sts_endpoint)
            .await?;
        let nonce = format!("{:032x}", rand::rng().random::<u128>());
        let timestamp = timestamp_now();
        let signed = Signed {
            action,
            version: service.api_version(),
            region,
            params,
            credentials: &credentials,
            nonce: &nonce,
            timestamp: &timestamp,
        };
        let request = match self.config.signature {
            SignatureVersion::V1 => signed.rpc_v1(&self.http, &endpoint),
            SignatureVersion::V3 => signed.acs3(&self.http, &endpoint),
        };

        self.stats.record_request(action, try_number);
        let transport = |e: reqwest::Error| CloudError::Transport {
            action: action.to_owned(),
            endpoint: redact(&endpoint),
            message: describe_transport_error(&e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            let mut error = ApiError::from_body(status, &body);
            error.name_denied_action(service, action);
            return Err(CloudError::Api {
                action: action.to_owned(),
                error,
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

/// Which signature requests carry: RPC v1 (HMAC-SHA1 over the parameters,
/// the default) or V3 (ACS3-HMAC-SHA256 over headers, what the current
/// official SDKs send).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SignatureVersion {
    #[default]
    V1,
    V3,
}

/// One try of a call, ready to be signed either way.
struct Signed<'a, P> {
    action: &'a str,
    version: &'a str,
    region: Option<&'a str>,
    params: &'a [P],
    credentials: &'a super::credentials::Credentials,
    nonce: &'a str,
    timestamp: &'a str,
}

impl<P: ParamPair> Signed<'_, P> {
    /// The call's own parameters, `RegionId` first when there is a region.
    fn own_params(&self) -> Vec<(&str, &str)> {
        self.region
            .map(|r| ("RegionId", r))
            .into_iter()
            .chain(self.params.iter().map(ParamPair::pair))
            .collect()
    }

    /// RPC v1: every parameter, the common ones included, in the query of
    /// a POST with its `Signature` (api::sign).
    fn rpc_v1(&self, http: &reqwest::Client, endpoint: &str) -> reqwest::RequestBuilder {
        let credentials = self.credentials;
        let mut all: Vec<(&str, &str)> = vec![
            ("Action", self.action),
            ("Version", self.version),
            ("Format", "JSON"),
            ("AccessKeyId", &credentials.access_key_id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", self.nonce),
            ("Timestamp", self.timestamp),
        ];
        if let Some(token) = &credentials.security_token {
            all.push(("SecurityToken", token.expose()));
        }
        all.extend(self.own_params());
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
        http.post(format!("{endpoint}/?{query}"))
    }

    /// V3, as the official SDK sends an RPC API: a POST with the call's
    /// parameters in the query and an empty body, the action, version,
    /// time, nonce, body hash and STS token in `x-acs-*` headers, and every
    /// header sent signed (api::sign_v3; docs/sources/signing-quotas.md
    /// §1.2).
    fn acs3(&self, http: &reqwest::Client, endpoint: &str) -> reqwest::RequestBuilder {
        let credentials = self.credentials;
        let host = reqwest::Url::parse(endpoint)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = vec![
            ("host", &host),
            ("accept", "application/json"),
            ("x-acs-action", self.action),
            ("x-acs-version", self.version),
            ("x-acs-date", self.timestamp),
            ("x-acs-signature-nonce", self.nonce),
            ("x-acs-content-sha256", sign_v3::EMPTY_BODY_SHA256),
        ];
        if let Some(token) = &credentials.security_token {
            headers.push(("x-acs-security-token", token.expose()));
        }
        let query = self.own_params();
        let authorization = sign_v3::Request {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            hashed_payload: sign_v3::EMPTY_BODY_SHA256,
        }
        .sign(
            &credentials.access_key_id,
            credentials.access_key_secret.expose(),
        );
        let mut request = http.post(format!(
            "{endpoint}/?{}",
            sign_v3::canonical_query(query.iter().copied())
        ));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.header("authorization", authorization.header_value())
    }
}

/// A call's parameter as a name and a value, whatever string types hold it.
trait ParamPair {
    fn pair(&self) -> (&str, &str);
}

impl<K: AsRef<str>, V: AsRef<str>> ParamPair for (K, V) {
    fn pair(&self) -> (&str, &str) {
        (self.0.as_ref(), self.1.as_ref())
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
    fn only_https_beyond_this_machine_may_go_through_a_proxy() {
        for direct in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://127.0.0.2:443",
            "https://localhost",
        ] {
            let endpoints = Endpoints::override_with(direct).unwrap();
            assert!(endpoints.direct_only(), "{direct}");
        }
        assert!(!Endpoints::override_with("https://ecs.example.com")
            .unwrap()
            .direct_only());
        assert!(!Endpoints::AlibabaCloud.direct_only());
    }

    #[test]
    fn tokens_and_url_passwords_are_redacted() {
        for (text, expected) in [
            (
                "string to sign is:POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3DCAIS%252Bab%253D%253D%26Timestamp%3D1",
                "string to sign is:POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3D***%26Timestamp%3D1",
            ),
            (
                "SecurityToken=abc&SignatureMethod=HMAC-SHA1 and SecurityToken=xyz",
                "SecurityToken=***&SignatureMethod=HMAC-SHA1 and SecurityToken=***",
            ),
            ("SecurityToken is mandatory", "SecurityToken is mandatory"),
            (
                "`http://user:p%40ss@127.0.0.1:8/x`: no response from https://a:b@h?q=1",
                "`http://***@127.0.0.1:8/x`: no response from https://***@h?q=1",
            ),
            (
                "http://127.0.0.1:9/?a=b@c and mail@example.com",
                "http://127.0.0.1:9/?a=b@c and mail@example.com",
            ),
        ] {
            assert_eq!(redact(text), expected, "{text}");
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
            access_denied: None,
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

    /// The announcement's example answer (docs/sources/ecs-models.md §5).
    #[test]
    fn a_ram_denial_decodes_into_one_line_without_the_message() {
        let body =
            include_str!("../../tests/fixtures/api/Error_Forbidden.RAM_DescribeInstances.json");
        let error = ApiError::from_body(403, body);
        assert!(error.is_permission_denied());
        let detail = error.access_denied.as_deref().expect("the detail is read");
        assert_eq!(detail.auth_action, "ecs:DescribeInstances");
        assert_eq!(detail.auth_principal_display_name, "2***************9");
        let line = error.to_string();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.contains("SubUser 2***************9 is not allowed ecs:DescribeInstances"),
            "{line}"
        );
        assert!(line.contains("grant it"), "{line}");
        assert!(!line.contains("User not authorized"), "{line}");

        // A denial without the detail still names the API's action.
        let mut bare = ApiError::from_body(403, r#"{"Code":"Forbidden.RAM","Message":"m"}"#);
        bare.name_denied_action(Service::Ecs, "DescribeDisks");
        assert_eq!(
            bare.access_denied.map(|d| d.auth_action),
            Some("ecs:DescribeDisks".to_owned())
        );
        let mut other = ApiError::from_body(
            404,
            r#"{"Code":"InvalidResourceId.NotFound","Message":"m"}"#,
        );
        other.name_denied_action(Service::Ecs, "DescribeDisks");
        assert!(other.access_denied.is_none() && !other.is_permission_denied());

        let all = CloudError::PermissionsMissing(vec![
            AccessDeniedDetail {
                auth_action: "ecs:DescribeDisks".into(),
                ..Default::default()
            },
            AccessDeniedDetail {
                auth_action: "ecs:DescribeDisks".into(),
                ..Default::default()
            },
            AccessDeniedDetail {
                auth_action: "ecs:DescribeImages".into(),
                ..Default::default()
            },
        ]);
        assert_eq!(
            all.to_string(),
            "missing RAM permissions for the caller: ecs:DescribeDisks, ecs:DescribeImages; \
             hint: grant them in RAM (`regroup policy -f MANIFEST` prints every permission regroup needs)"
        );
    }

    #[test]
    fn backoff_is_full_jitter_up_to_a_doubling_capped_ceiling() {
        let policy = RetryPolicy {
            max_tries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
        };
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
