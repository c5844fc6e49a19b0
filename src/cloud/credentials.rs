//! The credential chain, searched in the order the official tools use; the
//! first source found wins. Secrets live in [`Secret`], whose `Debug` and
//! `Display` never show the value, so they cannot leak through logs or errors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::Mutex;

/// A secret string. It prints as `***` and is only read through
/// [`Secret::expose`], where it is about to be used.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An access key, with an STS token when it is a temporary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub security_token: Option<Secret>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("no credentials found; looked in:\n{}", .tried.iter().map(|t| format!("  - {t}")).collect::<Vec<_>>().join("\n"))]
    NotFound { tried: Vec<String> },
    #[error("{origin}: {problem}")]
    Invalid { origin: String, problem: String },
    #[error("could not read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("OIDC role assumption through STS failed: {0}")]
    Sts(String),
}

/// Looks up an environment variable by name.
pub type VarLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the chain reads from the process: environment variables and the home
/// folder. Tests pass their own so that no test reads the developer's files.
pub struct Environment {
    pub vars: VarLookup,
    pub home: Option<PathBuf>,
}

impl Environment {
    /// The real process environment.
    pub fn from_process() -> Self {
        Environment {
            vars: Box::new(|name| std::env::var(name).ok().filter(|v| !v.is_empty())),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    fn var(&self, name: &str) -> Option<String> {
        (self.vars)(name).filter(|v| !v.is_empty())
    }
}

/// Where credentials come from once the chain has chosen: fixed keys, or an
/// OIDC role whose temporary keys are fetched and refreshed on demand.
#[derive(Clone, Debug)]
pub enum CredentialSource {
    Static {
        origin: String,
        credentials: Credentials,
    },
    Oidc(Arc<OidcRole>),
}

impl CredentialSource {
    /// Where the credentials were found, for `-v` logs and errors.
    pub fn origin(&self) -> String {
        match self {
            CredentialSource::Static { origin, .. } => origin.clone(),
            CredentialSource::Oidc(role) => format!("OIDC role {}", role.role_arn),
        }
    }

    /// The keys to sign the next request with.
    pub async fn credentials(
        &self,
        http: &reqwest::Client,
        sts_endpoint: &str,
    ) -> Result<Credentials, CredentialsError> {
        match self {
            CredentialSource::Static { credentials, .. } => Ok(credentials.clone()),
            CredentialSource::Oidc(role) => role.credentials(http, sts_endpoint).await,
        }
    }
}

/// An OIDC role to assume with `AssumeRoleWithOIDC`; caches the temporary keys
/// and fetches new ones shortly before they expire.
#[derive(Debug)]
pub struct OidcRole {
    pub role_arn: String,
    pub provider_arn: String,
    pub token_file: PathBuf,
    pub session_name: String,
    cached: Mutex<Option<(Credentials, DateTime<Utc>)>>,
}

/// Temporary keys are renewed this long before they expire, so that a
/// request signed with them never reaches the server expired.
const OIDC_REFRESH_MARGIN: Duration = Duration::from_secs(180);
const OIDC_SESSION_SECONDS: u32 = 3600;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResponse {
    credentials: StsCredentials,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: DateTime<Utc>,
}

impl OidcRole {
    pub fn new(
        role_arn: String,
        provider_arn: String,
        token_file: PathBuf,
        session_name: String,
    ) -> OidcRole {
        OidcRole {
            role_arn,
            provider_arn,
            token_file,
            session_name,
            cached: Mutex::new(None),
        }
    }

    /// Makes the cached key look about to expire, as it will after a long run.
    #[cfg(test)]
    pub async fn expire_soon(&self) {
        if let Some((_, expires)) = self.cached.lock().await.as_mut() {
            *expires = Utc::now() + OIDC_REFRESH_MARGIN / 2;
        }
    }

    async fn credentials(
        &self,
        http: &reqwest::Client,
        sts_endpoint: &str,
    ) -> Result<Credentials, CredentialsError> {
        let mut cached = self.cached.lock().await;
        if let Some((credentials, expires)) = cached.as_ref() {
            if Utc::now() + OIDC_REFRESH_MARGIN < *expires {
                return Ok(credentials.clone());
            }
        }
        let token =
            std::fs::read_to_string(&self.token_file).map_err(|source| CredentialsError::Read {
                path: self.token_file.clone(),
                source,
            })?;
        let fresh = self.assume_role(http, sts_endpoint, token.trim()).await?;
        *cached = Some(fresh.clone());
        Ok(fresh.0)
    }

    async fn assume_role(
        &self,
        http: &reqwest::Client,
        sts_endpoint: &str,
        token: &str,
    ) -> Result<(Credentials, DateTime<Utc>), CredentialsError> {
        let query = [
            ("Action", "AssumeRoleWithOIDC"),
            ("Version", "2015-04-01"),
            ("Format", "JSON"),
            ("Timestamp", &super::client::timestamp_now()),
        ];
        let duration = OIDC_SESSION_SECONDS.to_string();
        let form = [
            ("RoleArn", self.role_arn.as_str()),
            ("OIDCProviderArn", self.provider_arn.as_str()),
            ("OIDCToken", token),
            ("RoleSessionName", self.session_name.as_str()),
            ("DurationSeconds", duration.as_str()),
        ];
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let url = format!(
            "{}/?{}",
            sts_endpoint.trim_end_matches('/'),
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish()
        );
        let response = http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| CredentialsError::Sts(super::client::describe_transport_error(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| CredentialsError::Sts(super::client::describe_transport_error(&e)))?;
        if !status.is_success() {
            let error = super::client::ApiError::from_body(status.as_u16(), &text);
            return Err(CredentialsError::Sts(error.to_string()));
        }
        let parsed: AssumeRoleResponse = serde_json::from_str(&text)
            .map_err(|e| CredentialsError::Sts(format!("unexpected response: {e}")))?;
        let c = parsed.credentials;
        Ok((
            Credentials {
                access_key_id: c.access_key_id,
                access_key_secret: Secret::new(c.access_key_secret),
                security_token: Some(Secret::new(c.security_token)),
            },
            c.expiration,
        ))
    }
}

/// Walks the chain and returns the first source found. `profile` is the
/// `--profile` option, which beats `ALIBABA_CLOUD_PROFILE`.
pub fn resolve(
    env: &Environment,
    profile: Option<&str>,
) -> Result<CredentialSource, CredentialsError> {
    let mut tried = Vec::new();

    for (id_var, secret_var, token_var) in [
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
        ),
        (
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
            "ALICLOUD_SECURITY_TOKEN",
        ),
    ] {
        tried.push(format!("environment variables {id_var} and {secret_var}"));
        match (env.var(id_var), env.var(secret_var)) {
            (Some(id), Some(secret)) => {
                return Ok(CredentialSource::Static {
                    origin: format!("environment ({id_var})"),
                    credentials: Credentials {
                        access_key_id: id,
                        access_key_secret: Secret::new(secret),
                        security_token: env.var(token_var).map(Secret::new),
                    },
                });
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(CredentialsError::Invalid {
                    origin: "environment".into(),
                    problem: format!("{id_var} and {secret_var} must be set together"),
                });
            }
            (None, None) => {}
        }
    }

    tried.push("OIDC: ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE".into());
    let oidc = [
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    ]
    .map(|name| env.var(name));
    if let [Some(role_arn), Some(provider_arn), Some(token_file)] = oidc {
        return Ok(CredentialSource::Oidc(Arc::new(OidcRole::new(
            role_arn,
            provider_arn,
            PathBuf::from(token_file),
            env.var("ALIBABA_CLOUD_ROLE_SESSION_NAME")
                .unwrap_or_else(|| "regroup".into()),
        ))));
    }

    let profile = profile
        .map(str::to_owned)
        .or_else(|| env.var("ALIBABA_CLOUD_PROFILE"));

    let cli_config = env
        .var("ALIBABA_CLOUD_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".aliyun/config.json")));
    if let Some(path) = cli_config {
        tried.push(format!("aliyun CLI configuration {}", path.display()));
        if let Some(text) = read_if_present(&path)? {
            return from_cli_config(&path, &text, profile.as_deref());
        }
    }

    let ini = env
        .var("ALIBABA_CLOUD_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            env.home
                .as_ref()
                .map(|h| h.join(".alibabacloud/credentials"))
        });
    if let Some(path) = ini {
        tried.push(format!("credentials file {}", path.display()));
        if let Some(text) = read_if_present(&path)? {
            return from_credentials_ini(&path, &text, profile.as_deref());
        }
    }

    Err(CredentialsError::NotFound { tried })
}

fn read_if_present(path: &Path) -> Result<Option<String>, CredentialsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CredentialsError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

#[derive(Deserialize)]
struct CliConfig {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(Deserialize)]
struct CliProfile {
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
}

fn from_cli_config(
    path: &Path,
    text: &str,
    profile: Option<&str>,
) -> Result<CredentialSource, CredentialsError> {
    let origin = path.display().to_string();
    let invalid = |problem: String| CredentialsError::Invalid {
        origin: origin.clone(),
        problem,
    };
    let config: CliConfig =
        serde_json::from_str(text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    let wanted = profile.unwrap_or(&config.current);
    let chosen = config
        .profiles
        .iter()
        .find(|p| p.name == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = config.profiles.iter().map(|p| p.name.as_str()).collect();
            invalid(format!(
                "no profile named `{wanted}` (profiles: {})",
                names.join(", ")
            ))
        })?;
    let security_token = match chosen.mode.as_str() {
        "AK" => None,
        "StsToken" => Some(Secret::new(chosen.sts_token.clone())),
        other => {
            return Err(invalid(format!(
                "profile `{wanted}` uses mode `{other}`, which regroup does not support (use AK or StsToken)"
            )))
        }
    };
    if chosen.access_key_id.is_empty() || chosen.access_key_secret.is_empty() {
        return Err(invalid(format!(
            "profile `{wanted}` has no access_key_id or access_key_secret"
        )));
    }
    Ok(CredentialSource::Static {
        origin: format!("{origin} (profile {wanted})"),
        credentials: Credentials {
            access_key_id: chosen.access_key_id.clone(),
            access_key_secret: Secret::new(chosen.access_key_secret.clone()),
            security_token,
        },
    })
}

/// Reads the `[profile]` section of `~/.alibabacloud/credentials`, a small
/// INI file of `key = value` lines.
fn from_credentials_ini(
    path: &Path,
    text: &str,
    profile: Option<&str>,
) -> Result<CredentialSource, CredentialsError> {
    let wanted = profile.unwrap_or("default");
    let origin = path.display().to_string();
    let invalid = |problem: String| CredentialsError::Invalid {
        origin: origin.clone(),
        problem,
    };
    let mut section: Option<&str> = None;
    let mut values = std::collections::HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim());
        } else if section == Some(wanted) {
            if let Some((key, value)) = line.split_once('=') {
                values.insert(key.trim(), value.trim());
            }
        }
    }
    if values.is_empty() {
        return Err(invalid(format!("no [{wanted}] section with keys")));
    }
    let kind = values.get("type").copied().unwrap_or("access_key");
    if kind != "access_key" {
        return Err(invalid(format!(
            "[{wanted}] has type `{kind}`, which regroup does not support (use access_key)"
        )));
    }
    match (values.get("access_key_id"), values.get("access_key_secret")) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok(CredentialSource::Static {
                origin: format!("{origin} [{wanted}]"),
                credentials: Credentials {
                    access_key_id: (*id).to_owned(),
                    access_key_secret: Secret::new(*secret),
                    security_token: None,
                },
            })
        }
        _ => Err(invalid(format!(
            "[{wanted}] needs access_key_id and access_key_secret"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn environment(vars: &[(&str, &str)], home: Option<&Path>) -> Environment {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Environment {
            vars: Box::new(move |name| vars.get(name).cloned()),
            home: home.map(Path::to_owned),
        }
    }

    fn static_keys(source: CredentialSource) -> (String, Credentials) {
        match source {
            CredentialSource::Static {
                origin,
                credentials,
            } => (origin, credentials),
            other => panic!("expected static keys, got {other:?}"),
        }
    }

    #[test]
    fn secrets_never_print() {
        let c = Credentials {
            access_key_id: "id".into(),
            access_key_secret: Secret::new("S3CRET-VALUE"),
            security_token: Some(Secret::new("TOKEN-VALUE")),
        };
        let shown = format!("{c:?} {}", c.access_key_secret);
        assert!(!shown.contains("S3CRET-VALUE") && !shown.contains("TOKEN-VALUE"));
    }

    #[test]
    fn environment_keys_win_over_files() {
        let home = tempfile::tempdir().unwrap();
        write(
            home.path(),
            ".alibabacloud/credentials",
            "[default]\naccess_key_id = file\naccess_key_secret = s\n",
        );
        let env = environment(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "envid"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "tok"),
            ],
            Some(home.path()),
        );
        let (origin, c) = static_keys(resolve(&env, None).unwrap());
        assert_eq!(c.access_key_id, "envid");
        assert_eq!(c.security_token, Some(Secret::new("tok")));
        assert!(origin.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
    }

    #[test]
    fn terraform_variables_are_read_after_the_official_ones() {
        let env = environment(
            &[("ALICLOUD_ACCESS_KEY", "tf"), ("ALICLOUD_SECRET_KEY", "s")],
            None,
        );
        assert_eq!(
            static_keys(resolve(&env, None).unwrap()).1.access_key_id,
            "tf"
        );
    }

    #[test]
    fn half_set_environment_is_an_error() {
        let env = environment(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")], None);
        let err = resolve(&env, None).unwrap_err().to_string();
        assert!(err.contains("must be set together"), "{err}");
    }

    #[test]
    fn oidc_beats_config_files() {
        let home = tempfile::tempdir().unwrap();
        write(
            home.path(),
            ".alibabacloud/credentials",
            "[default]\naccess_key_id = file\naccess_key_secret = s\n",
        );
        let env = environment(
            &[
                ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/ci"),
                (
                    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                    "acs:ram::1:oidc-provider/gh",
                ),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/tmp/token"),
            ],
            Some(home.path()),
        );
        match resolve(&env, None).unwrap() {
            CredentialSource::Oidc(role) => assert_eq!(role.role_arn, "acs:ram::1:role/ci"),
            other => panic!("expected OIDC, got {other:?}"),
        }
    }

    const CLI_CONFIG: &str = r#"{
        "current": "main",
        "profiles": [
            {"name": "main", "mode": "AK", "access_key_id": "mainid", "access_key_secret": "mains"},
            {"name": "sts", "mode": "StsToken", "access_key_id": "stsid", "access_key_secret": "stss", "sts_token": "t"},
            {"name": "ecs", "mode": "EcsRamRole"}
        ]
    }"#;

    #[test]
    fn cli_config_uses_current_then_profile_option_then_env_profile() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CLI_CONFIG);
        let env = environment(&[], Some(home.path()));
        assert_eq!(
            static_keys(resolve(&env, None).unwrap()).1.access_key_id,
            "mainid"
        );
        let (_, sts) = static_keys(resolve(&env, Some("sts")).unwrap());
        assert_eq!(
            (sts.access_key_id.as_str(), sts.security_token),
            ("stsid", Some(Secret::new("t")))
        );

        let env = environment(&[("ALIBABA_CLOUD_PROFILE", "sts")], Some(home.path()));
        assert_eq!(
            static_keys(resolve(&env, None).unwrap()).1.access_key_id,
            "stsid"
        );
        assert_eq!(
            static_keys(resolve(&env, Some("main")).unwrap())
                .1
                .access_key_id,
            "mainid"
        );
    }

    #[test]
    fn cli_config_names_unsupported_modes_and_missing_profiles() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CLI_CONFIG);
        let env = environment(&[], Some(home.path()));
        let err = resolve(&env, Some("ecs")).unwrap_err().to_string();
        assert!(
            err.contains("EcsRamRole") && err.contains("not support"),
            "{err}"
        );
        let err = resolve(&env, Some("nope")).unwrap_err().to_string();
        assert!(
            err.contains("no profile named `nope`") && err.contains("main, sts, ecs"),
            "{err}"
        );
    }

    #[test]
    fn config_file_path_can_be_overridden() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "elsewhere.json", CLI_CONFIG);
        let path = dir.path().join("elsewhere.json");
        let env = environment(
            &[("ALIBABA_CLOUD_CONFIG_FILE", path.to_str().unwrap())],
            None,
        );
        assert_eq!(
            static_keys(resolve(&env, None).unwrap()).1.access_key_id,
            "mainid"
        );
    }

    #[test]
    fn credentials_ini_is_the_last_resort() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "creds",
            "# comment\n[default]\ntype = access_key\naccess_key_id = iniid\naccess_key_secret = inis\n[other]\naccess_key_id = o\naccess_key_secret = p\n",
        );
        let path = dir.path().join("creds");
        let env = environment(
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", path.to_str().unwrap())],
            None,
        );
        assert_eq!(
            static_keys(resolve(&env, None).unwrap()).1.access_key_id,
            "iniid"
        );
        assert_eq!(
            static_keys(resolve(&env, Some("other")).unwrap())
                .1
                .access_key_id,
            "o"
        );
    }

    #[test]
    fn nothing_found_lists_every_place_tried() {
        let home = tempfile::tempdir().unwrap();
        let env = environment(&[], Some(home.path()));
        let err = resolve(&env, None).unwrap_err().to_string();
        for place in [
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALICLOUD_ACCESS_KEY",
            "OIDC",
            ".aliyun/config.json",
            ".alibabacloud/credentials",
        ] {
            assert!(err.contains(place), "{place} missing from: {err}");
        }
    }

    fn write(dir: &Path, relative: &str, text: &str) {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
