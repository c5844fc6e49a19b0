//! Temporary keys: where they are fetched from (STS `AssumeRole` and
//! `AssumeRoleWithOIDC`, the ECS metadata server, a credentials URI, an
//! external process); the cache that fetches them again is
//! [`super::Refreshing`]. Every fetch over the network goes through the
//! client's [`Transport`]: the same retries, timeouts and `-vv` logs as any
//! API call.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::files::{json_error, OidcRequest, RoleRequest};
use super::{
    CredentialSource, Credentials, CredentialsError, Environment, Secret, METADATA_DEFAULT,
    METADATA_ENDPOINT_VAR,
};
use crate::api::Service;
use crate::cloud::client::{Call, CloudError, PlainRequest, Signer, Transport};

/// How temporary keys are fetched.
#[derive(Debug)]
pub enum Fetcher {
    AssumeRole {
        source: CredentialSource,
        role: RoleRequest,
    },
    Oidc(OidcRequest),
    Metadata(MetadataRequest),
    Uri(String),
    External(String),
}

/// Keys with their expiry (`None`: they do not expire).
#[derive(Debug, Clone)]
pub struct Fresh {
    pub credentials: Credentials,
    pub expires: Option<DateTime<Utc>>,
}

/// The four fields every temporary-key answer carries: STS `Credentials`
/// (DOC-AR; `AssumeRoleResponseBody` of `alibabacloud_sts20150401` 1.2.0),
/// the metadata document and the credentials-URI body (§5–6).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TemporaryKey {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
    /// `Success` in a metadata document and a credentials-URI body.
    #[serde(default)]
    code: Option<String>,
}

/// `yyyy-MM-ddTHH:mm:ssZ`, parsed as strictly as the official providers do
/// (`'%Y-%m-%dT%H:%M:%SZ'` in Python, `"2006-01-02T15:04:05Z"` in Go; §9).
pub fn parse_expiration(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc())
}

impl TemporaryKey {
    fn into_fresh(self, need_success: bool) -> Result<Fresh, String> {
        if need_success && self.code.as_deref() != Some("Success") {
            return Err("the answer's Code is not Success".into());
        }
        let expires = parse_expiration(&self.expiration).ok_or_else(|| {
            format!(
                "Expiration `{}` is not yyyy-MM-ddTHH:mm:ssZ",
                self.expiration
            )
        })?;
        Ok(Fresh {
            credentials: Credentials {
                access_key_id: self.access_key_id,
                access_key_secret: Secret::new(self.access_key_secret),
                security_token: Some(Secret::new(self.security_token)),
            },
            expires: Some(expires),
        })
    }
}

/// Where the ECS metadata server is and what to ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    pub base: String,
    /// The role; discovered from the server when `None`.
    pub role_name: Option<String>,
    /// Whether to go on without an IMDSv2 token when the server gives none
    /// (off with `ALIBABA_CLOUD_IMDSV1_DISABLED=true`).
    pub v1_allowed: bool,
}

/// What a metadata server's role listing said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovered {
    Role(String),
    /// It answered, but with no role: why, for the chain's list of reasons.
    NoRole(String),
}

/// IMDSv2 token lifetime asked for: 21600 s, the Python package's
/// `DEFAULT_METADATA_TOKEN_DURATION` (docs allow 1–21600).
const METADATA_TOKEN_TTL: &str = "21600";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

impl MetadataRequest {
    /// The server at `http://100.100.100.200`, or `REGROUP_METADATA_ENDPOINT`
    /// for tests (plain http to a loopback address only); the role from
    /// `role_name`, else `ALIBABA_CLOUD_ECS_METADATA`.
    pub fn from_env(
        env: &Environment,
        role_name: Option<String>,
    ) -> Result<MetadataRequest, CredentialsError> {
        let base = match env.var(METADATA_ENDPOINT_VAR) {
            Some(url) => {
                let loopback_http = reqwest::Url::parse(&url)
                    .is_ok_and(|u| u.scheme() == "http" && crate::cloud::client::is_loopback(&u));
                if !loopback_http {
                    return Err(CredentialsError::Invalid {
                        origin: METADATA_ENDPOINT_VAR.into(),
                        problem: format!(
                            "`{url}` is not a plain http:// URL of a loopback address"
                        ),
                    });
                }
                url.trim_end_matches('/').to_owned()
            }
            None => METADATA_DEFAULT.to_owned(),
        };
        Ok(MetadataRequest {
            base,
            role_name: role_name.or_else(|| env.var("ALIBABA_CLOUD_ECS_METADATA")),
            v1_allowed: !env.flag("ALIBABA_CLOUD_IMDSV1_DISABLED"),
        })
    }

    fn request<'a>(
        &self,
        method: reqwest::Method,
        path: &str,
        label: &'a str,
        token: Option<&str>,
    ) -> PlainRequest<'a> {
        let mut headers = Vec::new();
        match token {
            Some(token) => headers.push(("X-aliyun-ecs-metadata-token", token.to_owned())),
            None if method == reqwest::Method::PUT => headers.push((
                "X-aliyun-ecs-metadata-token-ttl-seconds",
                METADATA_TOKEN_TTL.to_owned(),
            )),
            None => {}
        }
        PlainRequest {
            method,
            url: format!("{}{path}", self.base),
            label,
            headers,
            metadata: true,
        }
    }

    /// Whether a metadata server answers at all: one try, no retries, so a
    /// machine that is not on ECS learns it within the connect timeout.
    pub async fn probe(&self, transport: &Transport) -> Result<bool, CredentialsError> {
        let request = self.request(
            reqwest::Method::PUT,
            "/latest/api/token",
            "metadata token",
            None,
        );
        match transport.plain(&request, Some(1)).await.result {
            Err(CloudError::Transport { connect: true, .. }) => Ok(false),
            _ => Ok(true),
        }
    }

    /// An IMDSv2 token, or `None` to go on with v1 when the server gives
    /// none and v1 is allowed (`provider/ecs_ram_role.py`).
    async fn token(
        &self,
        transport: &Transport,
        origin: &str,
    ) -> Result<Option<String>, CredentialsError> {
        let request = self.request(
            reqwest::Method::PUT,
            "/latest/api/token",
            "metadata token",
            None,
        );
        match transport.plain(&request, None).await.result {
            Ok(token) => Ok(Some(token.trim().to_owned())),
            Err(_) if self.v1_allowed => Ok(None),
            Err(error) => Err(fetch_error(
                origin,
                "the IMDSv2 token (IMDSv1 is disabled)",
                error,
            )),
        }
    }

    /// The instance's RAM role, from `GET …/security-credentials/` (whose
    /// body is the role's name; credentials-go trims it). A server that
    /// answers the listing with an HTTP error status or an empty body has
    /// no role to give; only a failure to get an answer at all is an error.
    pub async fn discover_role(
        &self,
        transport: &Transport,
        origin: &str,
    ) -> Result<Discovered, CredentialsError> {
        let token = self.token(transport, origin).await?;
        let request = self.request(
            reqwest::Method::GET,
            CREDENTIALS_PATH,
            "metadata role",
            token.as_deref(),
        );
        match transport.plain(&request, None).await.result {
            Ok(listing) => {
                let role = listing.lines().next().unwrap_or_default().trim();
                Ok(if role.is_empty() {
                    Discovered::NoRole("the role listing is empty".into())
                } else {
                    Discovered::Role(role.to_owned())
                })
            }
            Err(CloudError::Api { error, .. }) => Ok(Discovered::NoRole(format!(
                "the role listing answered HTTP {}",
                error.status
            ))),
            Err(error) => Err(fetch_error(origin, "the instance's RAM role name", error)),
        }
    }

    async fn fetch(&self, transport: &Transport, origin: &str) -> Result<Fresh, CredentialsError> {
        let role = match &self.role_name {
            Some(role) => role.clone(),
            None => match self.discover_role(transport, origin).await? {
                Discovered::Role(role) => role,
                Discovered::NoRole(why) => {
                    return Err(CredentialsError::Invalid {
                        origin: origin.to_owned(),
                        problem: format!("the instance has no RAM role attached ({why})"),
                    })
                }
            },
        };
        if role.contains('/') {
            return Err(CredentialsError::Invalid {
                origin: origin.to_owned(),
                problem: format!("`{role}` is not a RAM role name"),
            });
        }
        let token = self.token(transport, origin).await?;
        let path = format!("{CREDENTIALS_PATH}{role}");
        let request = self.request(
            reqwest::Method::GET,
            &path,
            "metadata credentials",
            token.as_deref(),
        );
        let body = transport.plain(&request, None).await.result.map_err(|e| {
            fetch_error(origin, &format!("the credentials of RAM role `{role}`"), e)
        })?;
        decode_key(origin, &body, true)
    }
}

fn fetch_error(origin: &str, what: &str, error: CloudError) -> CredentialsError {
    CredentialsError::Fetch {
        origin: origin.to_owned(),
        what: what.to_owned(),
        source: std::sync::Arc::new(error),
    }
}

pub fn decode_key(origin: &str, body: &str, need_success: bool) -> Result<Fresh, CredentialsError> {
    let invalid = |problem: String| CredentialsError::Invalid {
        origin: origin.to_owned(),
        problem,
    };
    let key: TemporaryKey = serde_json::from_str(body).map_err(|e| {
        invalid(format!(
            "the answer is not AccessKeyId, AccessKeySecret, SecurityToken and Expiration: {}",
            json_error(&e)
        ))
    })?;
    key.into_fresh(need_success).map_err(invalid)
}

/// STS answers hold the key under `Credentials`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsAnswer {
    credentials: TemporaryKey,
}

pub fn decode_sts(origin: &str, value: serde_json::Value) -> Result<Fresh, CredentialsError> {
    let invalid = |problem: String| CredentialsError::Invalid {
        origin: origin.to_owned(),
        problem,
    };
    let answer: StsAnswer = serde_json::from_value(value).map_err(|_| {
        invalid("the STS answer has no Credentials with AccessKeyId, AccessKeySecret, SecurityToken and Expiration".into())
    })?;
    answer.credentials.into_fresh(false).map_err(invalid)
}

/// How long an external process may run: 60 s (`provider/external.py`).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The most an `External` process may print: its answer is one JSON
/// object of a key, a secret and a token, a few kilobytes.
const MAX_PROCESS_OUTPUT_BYTES: u64 = 4 << 20;

/// What an `External` process prints (aliyun-cli README "Use an external
/// program"; `provider/external.py`).
#[derive(Deserialize)]
struct ProcessOutput {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    expiration: Option<String>,
}

/// Splits a command line into words, with '…' and "…" quoting, as
/// `shlex.split` does for the Python package on POSIX.
fn split_command(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => word.get_or_insert_with(String::new).push(chars.next()?),
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '\\') => word.get_or_insert_with(String::new).push(chars.next()?),
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return None;
    }
    words.extend(word);
    Some(words)
}

async fn run_process(command: &str, origin: &str) -> Result<Fresh, CredentialsError> {
    let problem = |problem: String| CredentialsError::Process {
        origin: origin.to_owned(),
        problem,
    };
    let words = split_command(command)
        .ok_or_else(|| problem("process_command has an unclosed quote".into()))?;
    let (program, args) = words
        .split_first()
        .ok_or_else(|| problem("process_command is empty".into()))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| problem(format!("could not run `{program}`: {e}")))?;
    let stdout = child.stdout.take();
    // Its output is read up to a ceiling: a process that prints for ever
    // is stopped (dropping the child kills it), not read into memory.
    let run = async {
        use tokio::io::AsyncReadExt as _;
        let mut printed = Vec::new();
        if let Some(stdout) = stdout {
            stdout
                .take(MAX_PROCESS_OUTPUT_BYTES + 1)
                .read_to_end(&mut printed)
                .await?;
        }
        if printed.len() as u64 > MAX_PROCESS_OUTPUT_BYTES {
            return Ok((None, printed));
        }
        child.wait().await.map(|status| (Some(status), printed))
    };
    let (status, stdout) = tokio::time::timeout(PROCESS_TIMEOUT, run)
        .await
        .map_err(|_| {
            problem(format!(
                "`{program}` did not finish within {} s",
                PROCESS_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| problem(format!("could not run `{program}`: {e}")))?;
    let Some(status) = status else {
        return Err(problem(format!(
            "`{program}` printed more than the limit of {MAX_PROCESS_OUTPUT_BYTES} bytes"
        )));
    };
    if !status.success() {
        return Err(problem(format!("`{program}` failed ({status})")));
    }
    // The output holds secrets: errors say where it went wrong, not what
    // it said.
    let printed: ProcessOutput = serde_json::from_slice(&stdout)
        .map_err(|e| problem(format!("`{program}` printed {}", json_error(&e))))?;
    if printed.access_key_id.is_empty() || printed.access_key_secret.is_empty() {
        return Err(problem(format!(
            "`{program}` printed no access_key_id or access_key_secret"
        )));
    }
    let token = match printed.mode.as_str() {
        "AK" => None,
        "StsToken" if !printed.sts_token.is_empty() => Some(Secret::new(printed.sts_token)),
        "StsToken" => {
            return Err(problem(format!(
                "`{program}` printed mode StsToken without sts_token"
            )))
        }
        other => {
            return Err(problem(format!(
                "`{program}` printed mode `{other}`; AK or StsToken is expected"
            )))
        }
    };
    let expires = match printed.expiration {
        Some(text) => Some(parse_expiration(&text).ok_or_else(|| {
            problem(format!(
                "`{program}` printed an expiration that is not yyyy-MM-ddTHH:mm:ssZ"
            ))
        })?),
        None => None,
    };
    Ok(Fresh {
        credentials: Credentials {
            access_key_id: printed.access_key_id,
            access_key_secret: Secret::new(printed.access_key_secret),
            security_token: token,
        },
        expires,
    })
}

impl Fetcher {
    pub(super) async fn fetch(
        &self,
        transport: &Transport,
        origin: &str,
    ) -> Result<Fresh, CredentialsError> {
        match self {
            Fetcher::AssumeRole { source, role } => {
                // A chained role's source may itself be temporary: boxed,
                // as the future is recursive.
                let signer = Box::pin(source.credentials(transport)).await?;
                let duration = role.duration.to_string();
                let mut params = vec![
                    ("RoleArn", role.role_arn.as_str()),
                    ("RoleSessionName", role.session_name.as_str()),
                    ("DurationSeconds", duration.as_str()),
                ];
                params.extend(role.policy.as_deref().map(|p| ("Policy", p)));
                params.extend(role.external_id.as_deref().map(|e| ("ExternalId", e)));
                let url = transport.endpoints().sts_url(&role.sts_host);
                let answer = transport
                    .call(
                        &Call::new(Service::Sts, None, "AssumeRole", &params).at(&url),
                        Signer::Key(&signer),
                    )
                    .await
                    .result
                    .map_err(|e| {
                        fetch_error(
                            origin,
                            &format!("AssumeRole {} at {}", role.role_arn, role.sts_host),
                            e,
                        )
                    })?;
                decode_sts(origin, answer)
            }
            // Unsigned, with the token file read again each time (`oidc.py`).
            Fetcher::Oidc(request) => {
                let token = super::read_credential_file(&request.token_file)?;
                let duration = request.duration.to_string();
                let mut params = vec![
                    ("RoleArn", request.role_arn.as_str()),
                    ("OIDCProviderArn", request.provider_arn.as_str()),
                    ("OIDCToken", token.trim()),
                    ("RoleSessionName", request.session_name.as_str()),
                    ("DurationSeconds", duration.as_str()),
                ];
                params.extend(request.policy.as_deref().map(|p| ("Policy", p)));
                let url = transport.endpoints().sts_url(&request.sts_host);
                let answer = transport
                    .call(
                        &Call::new(Service::Sts, None, "AssumeRoleWithOIDC", &params).at(&url),
                        Signer::Unsigned,
                    )
                    .await
                    .result
                    .map_err(|e| {
                        fetch_error(
                            origin,
                            &format!(
                                "AssumeRoleWithOIDC {} at {}",
                                request.role_arn, request.sts_host
                            ),
                            e,
                        )
                    })?;
                decode_sts(origin, answer)
            }
            Fetcher::Metadata(request) => request.fetch(transport, origin).await,
            Fetcher::Uri(uri) => {
                let request = PlainRequest {
                    method: reqwest::Method::GET,
                    url: uri.clone(),
                    label: "credentials URI",
                    headers: Vec::new(),
                    metadata: false,
                };
                let body = transport
                    .plain(&request, None)
                    .await
                    .result
                    .map_err(|e| fetch_error(origin, "GET", e))?;
                decode_key(origin, &body, true)
            }
            Fetcher::External(command) => run_process(command, origin).await,
        }
    }
}
