//! The HTTP transport to Alibaba Cloud's RPC APIs: endpoints, common
//! parameters, signing, error decoding, retries with backoff, the shared rate
//! limiter, and call statistics. Every network call of regroup (API calls,
//! STS, the metadata server, a credentials URI) goes through
//! [`Transport::retrying`].
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

use super::credentials::{CredentialSource, Credentials, CredentialsError};
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

/// Whether a request to `url` must bypass any proxy: a loopback host is on
/// this machine (a proxy elsewhere cannot even reach it), and plain http
/// must not carry signatures, keys or tokens to a proxy in the clear. An
/// unparsable URL goes direct, to be safe.
pub fn goes_direct(url: &str) -> bool {
    reqwest::Url::parse(url)
        .map(|parsed| parsed.scheme() != "https" || is_loopback(&parsed))
        .unwrap_or(true)
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
            Endpoints::Override(url) => goes_direct(url),
        }
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
            Endpoints::AlibabaCloud => {
                format!("https://{}", crate::api::endpoints::host(service, region))
            }
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

    /// `Throttling`, `Throttling.User`, `Throttling.Api` (the ECS throttling
    /// doc and gateway error tables, docs/sources/signing-quotas.md §5) and
    /// `Rejected.Throttling` (shared/api/NOTES.md's throttling row).
    pub fn is_throttling(&self) -> bool {
        self.code.starts_with("Throttling") || self.code == "Rejected.Throttling"
    }

    /// Whether trying again may succeed: decided by the code first, then by
    /// the HTTP status. `aliyun-python-sdk-core` 2.16.1 retries
    /// `InternalError`, `ServiceUnavailable`, `Throttling` and HTTP
    /// 500/502/503/504 (`retry_config.json`, `retry_condition.py`;
    /// docs/sources/signing-quotas.md §4); regroup also waits out the other
    /// throttling codes, and `EntityExists.AssociatedTransferTasks`, which
    /// the JoinResourceGroup reference documents as "try again later" (400;
    /// docs/sources/resourcemanager-rules.md §2).
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
        /// No connection was made at all (refused, or timed out connecting).
        connect: bool,
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
    /// A listing that must be whole came back short.
    #[error("{action}: {message}")]
    Incomplete { action: String, message: String },
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
            CloudError::Api { error, .. } | CloudError::KeyExpired { error, .. } => Some(error),
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
            CloudError::Api { error, .. } | CloudError::KeyExpired { error, .. } => {
                error.code.clone()
            }
            CloudError::Transport { .. } => "Transport".into(),
            CloudError::CircuitOpen { .. } => "CircuitOpen".into(),
            CloudError::Interrupted { .. } => "Interrupted".into(),
            CloudError::Decode { .. } => "Decode".into(),
            CloudError::Incomplete { .. } => "Incomplete".into(),
            CloudError::Credentials(_) => "Credentials".into(),
            CloudError::PermissionsMissing(_) => ram::FORBIDDEN.into(),
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
            CloudError::Transport { .. } | CloudError::KeyExpired { .. } => true,
            CloudError::CircuitOpen { .. }
            | CloudError::Interrupted { .. }
            | CloudError::Decode { .. }
            | CloudError::Incomplete { .. }
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
    // Each `=` with the `&` of its own encoding level: a token's own `&`
    // is encoded one level deeper than the separator after it (`%2526`
    // inside a string-to-sign whose separators are `%26`), so it never
    // ends the value early. A JSON field ends at its closing quote.
    const LEVELS: [(&str, &str); 5] = [
        ("=", "&"),
        ("%3D", "%26"),
        ("%253D", "%2526"),
        ("\":\"", "\""),
        ("\": \"", "\""),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(NAME) {
        let after_name = &rest[at + NAME.len()..];
        out.push_str(&rest[..at + NAME.len()]);
        let Some((equals, ends)) = LEVELS.iter().find(|(e, _)| after_name.starts_with(*e)) else {
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
                    || value[*i..].starts_with(ends)
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

/// `EntityExists.AssociatedTransferTasks`, JoinResourceGroup's "An
/// associated transfer task is in progress. Try again later." (HTTP 400;
/// the error table of the JoinResourceGroup doc, docs/sources/resourcemanager-rules.md §2.3).
const TRANSFER_TASK_CODE: &str = "EntityExists.AssociatedTransferTasks";
/// A transfer task moves an instance's disks and ENIs with it, for a time
/// no source states (§2.3: "how long the in progress window lasts" was not
/// found); far longer than a 5xx blip, so a retry after it waits at least
/// this long, plus a backoff of its own that starts here.
const TRANSFER_TASK_WAIT: Duration = Duration::from_secs(2);

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

    /// The wait before try `next_try` after an API error: the backoff, and
    /// for a transfer task in progress [`TRANSFER_TASK_WAIT`] plus a backoff
    /// based on it (up to eight times it).
    fn delay_after(&self, error: &ApiError, next_try: u32) -> Duration {
        if error.code != TRANSFER_TASK_CODE {
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
    /// The API's timeouts, never through a proxy: for plain-http or
    /// loopback URLs such as a credentials URI.
    direct_http: reqwest::Client,
    endpoints: Endpoints,
    retry: RetryPolicy,
    signature: SignatureVersion,
    stats: Arc<CallStats>,
    breakers: Arc<Mutex<HashMap<String, Breaker>>>,
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
            breakers: Arc::new(Mutex::new(HashMap::new())),
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

    fn is_interrupted(&self) -> bool {
        *self.interrupted.borrow()
    }

    /// Resolves once [`Transport::interrupt`] is called.
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

    /// Runs `once` until it succeeds or fails for good. With a `limiter`,
    /// each try waits its turn in the (action, region) bucket, which a
    /// throttled call holds closed until its window can have reopened, so
    /// throttling spends no tries; other transient failures are tried again
    /// up to `max_tries` (the policy's when `None`) with backoff. Retries
    /// stop at the policy's `retry_for` after the first try, when the
    /// endpoint's circuit breaker opens, and once the run is interrupted.
    /// Each try is counted, and logged at `-vv`.
    async fn retrying<T, F, Fut>(
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
            if let Some(failures) = self.breaker_open(endpoint) {
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
                    self.record_reach(endpoint, false);
                    if let Some(limiter) = limiter {
                        limiter.on_success(action, region);
                        limiter.observe_latency(action, region, elapsed);
                    }
                    request_ids.extend(id.clone());
                }
                Err(CloudError::Api {
                    error, retry_after, ..
                }) => {
                    self.record_reach(endpoint, false);
                    request_ids.extend(error.request_id.clone());
                    match limiter {
                        Some(limiter) if error.is_throttling() => {
                            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                            limiter.on_throttled(action, region, sent_at, *retry_after);
                        }
                        _ => {
                            if error.is_throttling() {
                                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
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
                        self.record_reach(endpoint, *unreachable);
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

    /// An RPC call to `endpoint`, signed with `signer` in the transport's
    /// signature version, or sent without a signature when `signer` is
    /// `None` (`AssumeRoleWithOIDC`).
    pub async fn rpc(
        &self,
        endpoint: &str,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
        signer: Option<&Credentials>,
    ) -> Result<Value, CloudError> {
        self.retrying(action, region, endpoint, None, None, |_| {
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
        let own: Vec<(&str, &str)> = region
            .map(|r| ("RegionId", r))
            .into_iter()
            .chain(params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
            .collect();
        all.extend(own.iter().copied());
        tracing::trace!(action, params = %redacted(&all), "request");
        let (url, headers) = match signer {
            Some(credentials) if self.signature == SignatureVersion::V3 => acs3_request(
                endpoint,
                action,
                service.api_version(),
                &own,
                credentials,
                &nonce,
                &timestamp,
            ),
            _ => {
                let mut query = sign::canonical_query(all.iter().copied());
                if let Some(credentials) = signer {
                    let signature = sign::sign(
                        "POST",
                        all.iter().copied(),
                        credentials.access_key_secret.expose(),
                    );
                    query = format!("{query}&Signature={}", sign::percent_encode(&signature));
                }
                (format!("{endpoint}/?{query}"), Vec::new())
            }
        };
        let Answer {
            status,
            body,
            retry_after,
        } = self
            .send(
                &self.http,
                reqwest::Method::POST,
                &url,
                &headers,
                action,
                endpoint,
            )
            .await?;
        if !(200..300).contains(&status) {
            let mut error = ApiError::from_body(status, &body);
            error.name_denied_action(service, action);
            return Err(CloudError::Api {
                action: action.to_owned(),
                error,
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
    ) -> Result<Answer, CloudError> {
        let transport = |e: reqwest::Error| CloudError::Transport {
            action: action.to_owned(),
            endpoint: shown.to_owned(),
            message: describe_transport_error(&e),
            connect: e.is_connect() || (e.is_timeout() && !e.is_body()),
            unreachable: e.is_timeout() || e.is_connect(),
        };
        // Every request here is body-less; a POST says so with
        // `Content-Length: 0`, as every official SDK sends (RFC 9110 §8.6).
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
        let body = response.text().await.map_err(transport)?;
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
struct Answer {
    status: u16,
    body: String,
    /// `x-acs-retry-after`, when the server sent one.
    retry_after: Option<Duration>,
}

/// `k=v` pairs for a log line, secrets replaced by `***`.
fn redacted(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            if crate::api::SECRET_PARAMETERS.contains(k) {
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

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// From now on nothing is retried and nobody waits for a closed quota
    /// window: calls that are waiting give up, calls in flight finish.
    pub fn interrupt(&self) {
        self.transport.interrupt();
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
        let endpoint = self.transport.endpoints.url(service, region);
        self.call_at(&endpoint, service, region, action, params, None)
            .await
    }

    /// Calls `action` at `endpoint`, signed with the run's credentials, which
    /// are fetched again when due on every try. `sent`, when given, is set
    /// just before the first request leaves, so that a caller stopped at
    /// once can tell a call that was sent from one still waiting its turn.
    pub async fn call_at(
        &self,
        endpoint: &str,
        service: Service,
        region: Option<&str>,
        action: &str,
        params: &[(impl AsRef<str>, impl AsRef<str>)],
        sent: Option<&std::sync::atomic::AtomicBool>,
    ) -> CallOutcome {
        self.transport
            .retrying(
                action,
                region,
                endpoint,
                Some(&self.limiter),
                None,
                |_| async {
                    let credentials = self.credentials.credentials(&self.transport).await?;
                    if let Some(sent) = sent {
                        sent.store(true, Ordering::SeqCst);
                    }
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
                        Err(CloudError::Api { action, error, .. })
                            if error.code == EXPIRED_TOKEN
                                && self.credentials.forget(&credentials.access_key_id) =>
                        {
                            Err(CloudError::KeyExpired { action, error })
                        }
                        other => other,
                    }
                },
            )
            .await
    }
}

/// The code of a call signed with a temporary key that has expired (the
/// gateway errors table in docs/sources/credentials.md §7).
pub const EXPIRED_TOKEN: &str = "InvalidSecurityToken.Expired";

/// Which signature requests carry: RPC v1 (HMAC-SHA1 over the parameters,
/// the default) or V3 (ACS3-HMAC-SHA256 over headers, what the current
/// official SDKs send).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SignatureVersion {
    #[default]
    V1,
    V3,
}

/// A signed V3 request as the official SDK sends an RPC API: a POST with
/// the call's own parameters (`own`: `RegionId` and the action's) in the
/// query and an empty body, the action, version, time, nonce, body hash and
/// STS token in `x-acs-*` headers, and every header sent signed
/// (api::sign_v3; docs/sources/signing-quotas.md §1.2). Returns the URL and
/// the headers.
fn acs3_request(
    endpoint: &str,
    action: &str,
    version: &str,
    own: &[(&str, &str)],
    credentials: &Credentials,
    nonce: &str,
    timestamp: &str,
) -> (String, Vec<(&'static str, String)>) {
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
    let mut headers: Vec<(&'static str, String)> = vec![
        ("host", host),
        ("accept", "application/json".to_owned()),
        ("x-acs-action", action.to_owned()),
        ("x-acs-version", version.to_owned()),
        ("x-acs-date", timestamp.to_owned()),
        ("x-acs-signature-nonce", nonce.to_owned()),
        (
            "x-acs-content-sha256",
            sign_v3::EMPTY_BODY_SHA256.to_owned(),
        ),
    ];
    if let Some(token) = &credentials.security_token {
        headers.push(("x-acs-security-token", token.expose().to_owned()));
    }
    let signed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let authorization = sign_v3::Request {
        method: "POST",
        path: "/",
        query: own,
        headers: &signed,
        hashed_payload: sign_v3::EMPTY_BODY_SHA256,
    }
    .sign(
        &credentials.access_key_id,
        credentials.access_key_secret.expose(),
    );
    headers.push(("authorization", authorization.header_value()));
    // `/`, not `/?`, without parameters, as the Tea SDK sends.
    let query = sign_v3::canonical_query(own.iter().copied());
    let url = if query.is_empty() {
        format!("{endpoint}/")
    } else {
        format!("{endpoint}/?{query}")
    };
    (url, headers)
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
            // A token with `&`: encoded once in the query, twice in the
            // string-to-sign; no part of it may survive.
            (
                "string to sign is:GET&%2F&SecurityToken%3Dtok%2526en%252Bx%26Timestamp%3D1",
                "string to sign is:GET&%2F&SecurityToken%3D***%26Timestamp%3D1",
            ),
            (
                "?SecurityToken=tok%26en&Version=1",
                "?SecurityToken=***&Version=1",
            ),
            (
                r#"{"SecurityToken":"tok&en=x","Code":"E"}"#,
                r#"{"SecurityToken":"***","Code":"E"}"#,
            ),
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
        let e = api_error;
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

    /// An API error with only a status and a code.
    fn api_error(status: u16, code: &str) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            access_denied: None,
        }
    }

    #[test]
    fn a_transfer_task_in_progress_waits_longer_than_other_failures() {
        let policy = RetryPolicy {
            max_tries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            ..RetryPolicy::default()
        };
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
        let policy = RetryPolicy {
            max_tries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            ..RetryPolicy::default()
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
