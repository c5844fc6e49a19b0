//! Calls to Alibaba Cloud's RPC APIs: one [`Call`] value (service, region,
//! action, parameters) and one entry point, [`Transport::call`], which adds
//! the common parameters, signs each try (RPC v1, or ACS3 for
//! `--signature-version v3`), sends it through the transport's retries and
//! decodes the answer into the type the caller asks for. [`Client`] is that
//! entry point bound to a run's credentials and rate limiter.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::de::DeserializeOwned;

use super::credentials::{CredentialSource, Credentials};
use super::ratelimit::RateLimiter;
use super::redact::redacted;
use crate::api::{sign, sign_v3};

// The client's vocabulary, named from here by its callers so that they
// depend on one module whichever file an idea lives in.
pub use super::endpoints::{is_loopback, Endpoints};
pub use super::error::{ApiError, CloudError, EXPIRED_TOKEN};
pub use super::redact::redact;
pub use super::retry::{CallOutcome, RetryPolicy, StatsSnapshot};
pub use super::transport::{PlainRequest, Transport, METADATA_CONNECT_TIMEOUT};
pub use crate::api::Service;

/// One API call: what is asked of which service where. Each try builds
/// its request from it afresh (a new nonce and timestamp).
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub service: Service,
    /// The `RegionId` parameter, and the region of the endpoint; `None`
    /// for the global services.
    pub region: Option<&'a str>,
    pub action: &'a str,
    /// The action's own parameters, beyond the common ones and `RegionId`.
    pub params: Vec<(&'a str, &'a str)>,
    /// Where the call goes when not to the service's endpoint for
    /// `region`: the STS host the credential chain chose.
    pub endpoint: Option<&'a str>,
    /// Set just before the first request leaves, so that a caller stopped
    /// at once can tell a call that was sent from one still waiting its
    /// turn.
    pub sent: Option<&'a AtomicBool>,
}

impl<'a> Call<'a> {
    pub fn new(
        service: Service,
        region: Option<&'a str>,
        action: &'a str,
        params: &'a [(impl AsRef<str>, impl AsRef<str>)],
    ) -> Call<'a> {
        Call {
            service,
            region,
            action,
            params: params
                .iter()
                .map(|(name, value)| (name.as_ref(), value.as_ref()))
                .collect(),
            endpoint: None,
            sent: None,
        }
    }

    /// The same call, sent to `endpoint`.
    pub fn at(self, endpoint: &'a str) -> Call<'a> {
        Call {
            endpoint: Some(endpoint),
            ..self
        }
    }

    /// The same call, setting `sent` when its first request leaves.
    pub fn marking_sent(self, sent: Option<&'a AtomicBool>) -> Call<'a> {
        Call { sent, ..self }
    }
}

/// The parameters of a call that takes none beyond the common ones.
pub const NO_PARAMS: &[(&str, &str)] = &[];

/// Who signs a call, and whose turn it waits.
#[derive(Clone, Copy)]
pub enum Signer<'a> {
    /// Sent without a signature (`AssumeRoleWithOIDC`).
    Unsigned,
    /// Signed with this key: the credential chain's own STS calls, made
    /// before there is a [`Client`].
    Key(&'a Credentials),
    /// A run's calls: signed with its credentials, fetched again when due
    /// on every try (a temporary key that expired is dropped, so the next
    /// try fetches a new one), each try waiting its turn in its limiter.
    Run {
        credentials: &'a CredentialSource,
        limiter: &'a RateLimiter,
    },
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

    /// Makes `call` with the run's credentials under its rate limiter: the
    /// one way regroup calls an API (see [`Transport::call`]).
    pub async fn call<T: DeserializeOwned>(&self, call: &Call<'_>) -> CallOutcome<T> {
        let signer = Signer::Run {
            credentials: &self.credentials,
            limiter: &self.limiter,
        };
        self.transport.call(call, signer).await
    }
}

impl Transport {
    /// Makes `call`, signed as `signer` says, trying transient failures
    /// again, and decodes the answer's body into `T` (a typed response, or
    /// [`serde_json::Value`]). `tries` 0 in the outcome means nothing was
    /// sent.
    pub async fn call<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        signer: Signer<'_>,
    ) -> CallOutcome<T> {
        let endpoint = match call.endpoint {
            Some(endpoint) => endpoint.to_owned(),
            None => self.endpoints.url(call.service, call.region),
        };
        let limiter = match signer {
            Signer::Run { limiter, .. } => Some(limiter),
            Signer::Unsigned | Signer::Key(_) => None,
        };
        self.retrying(
            call.action,
            call.region,
            &endpoint,
            limiter,
            None,
            |_| async {
                let fetched;
                let key = match signer {
                    Signer::Unsigned => None,
                    Signer::Key(key) => Some(key),
                    Signer::Run { credentials, .. } => {
                        // Boxed: fetching a key may itself call STS through
                        // here, so the futures nest.
                        fetched = Box::pin(credentials.credentials(self)).await?;
                        Some(&fetched)
                    }
                };
                if let Some(sent) = call.sent {
                    sent.store(true, Ordering::SeqCst);
                }
                match self.attempt(&endpoint, call, key).await {
                    Err(CloudError::Api { action, error, .. })
                        if error.code == EXPIRED_TOKEN
                            && matches!(signer, Signer::Run { credentials, .. }
                            if key.is_some_and(|key| credentials.forget(&key.access_key_id))) =>
                    {
                        Err(CloudError::KeyExpired { action, error })
                    }
                    other => other,
                }
            },
        )
        .await
    }

    /// One try of `call` at `endpoint`: a new nonce and timestamp, signed
    /// with `key` when there is one.
    async fn attempt<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        call: &Call<'_>,
        key: Option<&Credentials>,
    ) -> Result<(T, Option<String>), CloudError> {
        let Call {
            service,
            region,
            action,
            ..
        } = *call;
        let nonce = format!("{:032x}", rand::rng().random::<u128>());
        let timestamp = timestamp_now();
        let mut all: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", service.api_version()),
            ("Format", "JSON"),
            ("Timestamp", &timestamp),
        ];
        if let Some(credentials) = key {
            super::redact::register_credentials(credentials);
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
            .chain(call.params.iter().copied())
            .collect();
        all.extend(own.iter().copied());
        tracing::trace!(action, params = %redacted(&all), "request");
        let (url, headers) = match key {
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
                if let Some(credentials) = key {
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
        let answer = self
            .send(
                &self.http,
                reqwest::Method::POST,
                &url,
                &headers,
                action,
                endpoint,
                None,
            )
            .await?;
        if !(200..300).contains(&answer.status) {
            let mut error = ApiError::from_body(answer.status, &answer.body);
            error.name_denied_action(service, action);
            return Err(CloudError::Api {
                action: action.to_owned(),
                error,
                retry_after: answer.retry_after,
            });
        }
        let decode = |e: serde_json::Error| CloudError::Decode {
            action: action.to_owned(),
            message: e.to_string(),
        };
        let value: T = serde_json::from_str(&answer.body).map_err(decode)?;
        // A second, shallow read for the request id, which every answer
        // carries beside its own fields (`RequestId`, in every response
        // model of the SDKs); the first read kept only what `T` asks for.
        let RequestId { request_id } = serde_json::from_str(&answer.body).map_err(decode)?;
        Ok((value, request_id))
    }
}

/// The request id of an answer, every other field skipped unread.
#[derive(serde::Deserialize)]
struct RequestId {
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
}

/// The current time as the API's `Timestamp` wants it.
pub fn timestamp_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Which signature requests carry: RPC v1 (HMAC-SHA1 over the parameters,
/// the default) or V3 (ACS3-HMAC-SHA256 over headers, what the current
/// official SDKs send).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
