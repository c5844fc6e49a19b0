//! The credential chain, in the order of Alibaba Cloud's own default chain
//! (`alibabacloud-credentials` 1.0.12 `provider/default.py`; credentials-go
//! v1.4.12 `providers/default.go`; docs/sources/credentials.md §1):
//! environment keys → OIDC → aliyun CLI profile → credentials INI file →
//! ECS RAM role (metadata server) → credentials URI. A source that is not
//! configured is skipped and the reason kept for `whoami -v`; a source that
//! is configured but broken is an error that names it (where the official
//! chains fall through: see docs/credentials.md, "Where regroup differs").
//!
//! Secrets live in [`Secret`], whose `Debug` and `Display` never show the
//! value, so they cannot leak through logs or errors. Temporary keys (STS,
//! metadata, URI, external process) are fetched through the client's one
//! [`Transport`] and refreshed before they expire, once for every call in
//! flight ([`Refreshing`]); a fetch that failed is remembered for a
//! few seconds, so the calls that find it neither fetch again nor wait.

mod cloudsso;
mod fetch;
mod files;
mod refreshing;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::client::{CloudError, Transport};
use fetch::{Discovered, Fetcher, MetadataRequest};
use files::{Found, Recipe, StsDefaults};
pub use refreshing::Refreshing;

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

impl Credentials {
    /// The key id as `whoami` shows it: its first and last four characters,
    /// or only stars when it is too short to hide anything that way.
    pub fn masked_id(&self) -> String {
        let id: Vec<char> = self.access_key_id.chars().collect();
        if id.len() < 12 {
            return "****".into();
        }
        let head: String = id[..4].iter().collect();
        let tail: String = id[id.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

/// Cloneable, so that a failed fetch can be remembered and given to the
/// calls that come while it is ([`Refreshing`]).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialsError {
    #[error("no credentials found; looked in:\n{}", .skipped.iter().map(|s| format!("  - {s}")).collect::<Vec<_>>().join("\n"))]
    NotFound { skipped: Vec<Skipped> },
    #[error("{origin}: {problem}")]
    Invalid { origin: String, problem: String },
    #[error("could not read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A fetch of temporary keys failed: `what` says which call for which
    /// role or server.
    #[error("{origin}: {what} failed")]
    Fetch {
        origin: String,
        what: String,
        #[source]
        source: Arc<CloudError>,
    },
    #[error("{origin}: {problem}")]
    Process { origin: String, problem: String },
}

/// A source the chain passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub source: String,
    pub why: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.why)
    }
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

    /// A switch the official tools read as on when it is `true` in any case
    /// (`auth_util.py`: `.lower() == 'true'`).
    fn flag(&self, name: &str) -> bool {
        self.var(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// Where credentials come from once the chain has chosen: fixed keys, or
/// temporary ones that are fetched and refreshed on demand.
#[derive(Clone, Debug)]
pub enum CredentialSource {
    Static {
        origin: String,
        credentials: Credentials,
    },
    Temporary(Arc<Refreshing>),
}

impl CredentialSource {
    /// Where the credentials were found, for `-v` logs, `whoami` and errors.
    pub fn origin(&self) -> String {
        match self {
            CredentialSource::Static { origin, .. } => origin.clone(),
            CredentialSource::Temporary(refreshing) => refreshing.origin().to_owned(),
        }
    }

    /// The keys to sign the next request with, refreshed first when due.
    pub async fn credentials(
        &self,
        transport: &Transport,
    ) -> Result<Credentials, CredentialsError> {
        match self {
            CredentialSource::Static { credentials, .. } => Ok(credentials.clone()),
            CredentialSource::Temporary(refreshing) => refreshing.credentials(transport).await,
        }
    }

    /// Drops the cached key `access_key_id` after the server said it
    /// expired; whether there was such a temporary key to drop.
    pub fn forget(&self, access_key_id: &str) -> bool {
        match self {
            CredentialSource::Static { .. } => false,
            CredentialSource::Temporary(refreshing) => refreshing.forget(access_key_id),
        }
    }

    /// How many times temporary keys were fetched.
    #[cfg(test)]
    pub fn fetches(&self) -> u64 {
        match self {
            CredentialSource::Static { .. } => 0,
            CredentialSource::Temporary(refreshing) => refreshing.fetches(),
        }
    }
}

/// The chain's choice, and the sources passed over before it.
#[derive(Debug)]
pub struct Resolved {
    pub source: CredentialSource,
    pub skipped: Vec<Skipped>,
}

/// The ECS metadata server's address (docs/sources/credentials.md §5).
pub const METADATA_DEFAULT: &str = "http://100.100.100.200";
/// For tests only: replaces [`METADATA_DEFAULT`]; plain http to loopback.
pub const METADATA_ENDPOINT_VAR: &str = "REGROUP_METADATA_ENDPOINT";

/// Walks the chain and returns the first source configured, with its first
/// temporary key already fetched, so that a broken source fails here with
/// its name. `profile` is the `--profile` option, which beats
/// `ALIBABA_CLOUD_PROFILE`.
pub async fn resolve(
    env: &Environment,
    profile: Option<&str>,
    transport: &Transport,
) -> Result<Resolved, CredentialsError> {
    let mut skipped = Vec::new();
    let mut skip = |source: &str, why: String| {
        skipped.push(Skipped {
            source: source.to_owned(),
            why,
        })
    };

    if let Some(source) = environment_keys(env, &mut skip)? {
        return Ok(Resolved { source, skipped });
    }
    let sts = StsDefaults::from_env(env);

    let found = if let Some(recipe) = oidc_from_env(env, &sts, &mut skip)? {
        Some(("OIDC role from ALIBABA_CLOUD_ROLE_ARN".to_owned(), recipe))
    } else {
        profile_files(env, profile, &sts, &mut skip)?
    };
    if let Some((origin, recipe)) = found {
        refuse_disabled_metadata(env, &origin, &recipe)?;
        let source = build(origin, recipe, transport).await?;
        return Ok(Resolved { source, skipped });
    }

    if let Some(source) = instance_role(env, transport, &mut skip).await? {
        return Ok(Resolved { source, skipped });
    }

    match env.var("ALIBABA_CLOUD_CREDENTIALS_URI") {
        Some(uri) => {
            let origin = "credentials URI from ALIBABA_CLOUD_CREDENTIALS_URI".to_owned();
            let source = build(origin, Recipe::Uri(uri), transport).await?;
            Ok(Resolved { source, skipped })
        }
        None => {
            skip(
                "credentials URI",
                "ALIBABA_CLOUD_CREDENTIALS_URI is not set".into(),
            );
            Err(CredentialsError::NotFound { skipped })
        }
    }
}

/// Step 1: `ALIBABA_CLOUD_ACCESS_KEY_ID` and `…_SECRET` (+ `…_SECURITY_TOKEN`)
/// as `provider/env.py` reads them, then the aliyun CLI's `ALIBABACLOUD_*`
/// names (aliyun/aliyun-cli `config/profile.go` lines 326-335, read after
/// `ALIBABA_CLOUD_*`), then Terraform's `ALICLOUD_*` names. Half
/// a pair is an error, so a typo does not silently pick up other keys.
fn environment_keys(
    env: &Environment,
    skip: &mut impl FnMut(&str, String),
) -> Result<Option<CredentialSource>, CredentialsError> {
    for (id_var, secret_var, token_var) in [
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
        ),
        (
            "ALIBABACLOUD_ACCESS_KEY_ID",
            "ALIBABACLOUD_ACCESS_KEY_SECRET",
            "ALIBABACLOUD_SECURITY_TOKEN",
        ),
        (
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
            "ALICLOUD_SECURITY_TOKEN",
        ),
    ] {
        match (env.var(id_var), env.var(secret_var)) {
            (Some(id), Some(secret)) => {
                return Ok(Some(CredentialSource::Static {
                    origin: format!("environment ({id_var})"),
                    credentials: Credentials {
                        access_key_id: id,
                        access_key_secret: Secret::new(secret),
                        security_token: env.var(token_var).map(Secret::new),
                    },
                }));
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(CredentialsError::Invalid {
                    origin: "environment".into(),
                    problem: format!("{id_var} and {secret_var} must be set together"),
                });
            }
            (None, None) => skip(
                "environment",
                format!("{id_var} and {secret_var} are not set"),
            ),
        }
    }
    Ok(None)
}

/// Step 5: the ECS RAM role, in the chain unless disabled (`default.py`
/// step 5). Skipped when no metadata server answers (not on ECS), and when
/// one answers but names no role when asked for it (a server that is not
/// ECS's, or an instance with no role attached): neither is a source the
/// user configured. A role named by `ALIBABA_CLOUD_ECS_METADATA`, or one
/// the server names but whose key fails, is an error.
async fn instance_role(
    env: &Environment,
    transport: &Transport,
    skip: &mut impl FnMut(&str, String),
) -> Result<Option<CredentialSource>, CredentialsError> {
    const SOURCE: &str = "ECS RAM role";
    if env.flag("ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
        skip(SOURCE, "ALIBABA_CLOUD_ECS_METADATA_DISABLED is true".into());
        return Ok(None);
    }
    let mut request = MetadataRequest::from_env(env, env.var("ALIBABA_CLOUD_ECS_METADATA"))?;
    if !request.probe(transport).await? {
        skip(
            SOURCE,
            format!(
                "no metadata server answered at {} within {} s (not on ECS)",
                request.base,
                super::client::METADATA_CONNECT_TIMEOUT.as_secs()
            ),
        );
        return Ok(None);
    }
    let origin = format!("{SOURCE} (metadata server {})", request.base);
    if request.role_name.is_none() {
        match request.discover_role(transport, &origin).await? {
            Discovered::Role(role) => request.role_name = Some(role),
            Discovered::NoRole(why) => {
                skip(
                    SOURCE,
                    format!(
                        "a server answers at {} but names no RAM role ({why}): not an ECS instance with a role attached",
                        request.base
                    ),
                );
                return Ok(None);
            }
        }
    }
    start(origin, Fetcher::Metadata(request), transport)
        .await
        .map(Some)
}

const OIDC_VARS: [&str; 3] = [
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
];

/// Step 2: OIDC, which needs all three variables (`auth_util.py`
/// `enable_oidc_credential`). Some but not all set is an error that names
/// the missing ones; the official chains skip it silently.
fn oidc_from_env(
    env: &Environment,
    sts: &StsDefaults,
    skip: &mut impl FnMut(&str, String),
) -> Result<Option<Recipe>, CredentialsError> {
    let values = OIDC_VARS.map(|name| env.var(name));
    match values {
        [Some(role_arn), Some(provider_arn), Some(token_file)] => {
            Ok(Some(Recipe::Oidc(files::OidcRequest {
                role_arn,
                provider_arn,
                token_file: PathBuf::from(token_file),
                session_name: env
                    .var("ALIBABA_CLOUD_ROLE_SESSION_NAME")
                    .unwrap_or_else(files::default_session_name),
                duration: files::DEFAULT_DURATION,
                policy: None,
                sts_host: sts.host(None, false),
            })))
        }
        [None, None, None] => {
            skip("OIDC", format!("{} are not set", OIDC_VARS.join(", ")));
            Ok(None)
        }
        _ => {
            let (set, missing): (Vec<_>, Vec<_>) = OIDC_VARS
                .iter()
                .zip(&values)
                .partition(|(_, value)| value.is_some());
            let names = |list: Vec<(&&str, &Option<String>)>| {
                list.iter().map(|(n, _)| **n).collect::<Vec<_>>().join(", ")
            };
            Err(CredentialsError::Invalid {
                origin: "OIDC".into(),
                problem: format!(
                    "{} set, but {} missing; OIDC needs all three",
                    names(set),
                    names(missing)
                ),
            })
        }
    }
}

/// Steps 3 and 4: the aliyun CLI's `config.json`, then the INI credentials
/// file. A profile asked for by name (`--profile`, `ALIBABA_CLOUD_PROFILE`)
/// that neither file has is an error rather than a reason to try the
/// instance role.
fn profile_files(
    env: &Environment,
    profile: Option<&str>,
    sts: &StsDefaults,
    skip: &mut impl FnMut(&str, String),
) -> Result<Option<(String, Recipe)>, CredentialsError> {
    let named = profile
        .map(str::to_owned)
        .or_else(|| env.var("ALIBABA_CLOUD_PROFILE"));
    let mut looked_in = Vec::new();

    // `ALIBABA_CLOUD_CONFIG_FILE` is read by credentials-go
    // (`providers/cli_profile.go` Build), not by the Python package.
    if env.flag("ALIBABA_CLOUD_CLI_PROFILE_DISABLED") {
        skip(
            "aliyun CLI profile",
            "ALIBABA_CLOUD_CLI_PROFILE_DISABLED is true".into(),
        );
    } else {
        let path = env
            .var("ALIBABA_CLOUD_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(|| env.home.as_ref().map(|h| h.join(".aliyun/config.json")));
        match path {
            Some(path) => match read_if_present(&path)? {
                Some(text) => {
                    looked_in.push(path.display().to_string());
                    match files::cli_profile(&path, &text, named.as_deref(), sts, env)? {
                        Found::Recipe { origin, recipe } => return Ok(Some((origin, recipe))),
                        Found::Skipped(why) => skip("aliyun CLI profile", why),
                    }
                }
                None => skip(
                    "aliyun CLI profile",
                    format!("{} does not exist", path.display()),
                ),
            },
            None => skip("aliyun CLI profile", "HOME is not set".into()),
        }
    }

    // `ALIBABA_CLOUD_CREDENTIALS_FILE`, else `~/.alibabacloud/credentials`
    // (credentials-go `providers/profile.go`), else `credentials.ini` (the
    // Python package's `provider/profile.py`).
    let ini = match env.var("ALIBABA_CLOUD_CREDENTIALS_FILE") {
        Some(path) => {
            let path = PathBuf::from(path);
            match read_if_present(&path)? {
                Some(text) => Some((path, text)),
                None => {
                    return Err(CredentialsError::Invalid {
                        origin: "ALIBABA_CLOUD_CREDENTIALS_FILE".into(),
                        problem: format!("{} does not exist", path.display()),
                    })
                }
            }
        }
        None => {
            let mut found = None;
            for name in ["credentials", "credentials.ini"] {
                let Some(home) = &env.home else { break };
                let path = home.join(".alibabacloud").join(name);
                if let Some(text) = read_if_present(&path)? {
                    found = Some((path, text));
                    break;
                }
            }
            found
        }
    };
    match ini {
        Some((path, text)) => {
            looked_in.push(path.display().to_string());
            match files::credentials_ini(&path, &text, named.as_deref(), sts, env)? {
                Found::Recipe { origin, recipe } => return Ok(Some((origin, recipe))),
                Found::Skipped(why) => skip("credentials file", why),
            }
        }
        None => skip(
            "credentials file",
            "~/.alibabacloud/credentials (or credentials.ini) does not exist".into(),
        ),
    }

    match named {
        Some(name) if !looked_in.is_empty() => Err(CredentialsError::Invalid {
            origin: format!("profile `{name}`"),
            problem: format!("not found in {}", looked_in.join(" or ")),
        }),
        _ => Ok(None),
    }
}

/// The most a credential file (the CLI's config, the INI file, an OIDC
/// token file) may hold. Such files hold a few profiles or one token,
/// kilobytes; this leaves room for a config of thousands of profiles and
/// turns `/dev/zero` or an endless FIFO into an error, not a full memory.
const MAX_CREDENTIAL_FILE_BYTES: u64 = 4 << 20;

fn read_if_present(path: &Path) -> Result<Option<String>, CredentialsError> {
    match read_credential_file(path) {
        Ok(text) => Ok(Some(text)),
        Err(CredentialsError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// A credential file's text, read within [`MAX_CREDENTIAL_FILE_BYTES`]
/// (and, for a FIFO or device, a time limit).
fn read_credential_file(path: &Path) -> Result<String, CredentialsError> {
    let read_error = |source| CredentialsError::Read {
        path: path.to_owned(),
        source: Arc::new(source),
    };
    let bytes = crate::bounded_read::read_at_most(path, MAX_CREDENTIAL_FILE_BYTES)
        .map_err(|e| read_error(e.into_io()))?;
    String::from_utf8(bytes)
        .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Refuses a recipe that would ask the ECS instance metadata for keys
/// (an `EcsRamRole` profile, or one chained on it) when
/// `ALIBABA_CLOUD_ECS_METADATA_DISABLED` is true: the official Python
/// provider refuses in its constructor whatever built it
/// (`provider/ecs_ram_role.py`, lines 34–35: "IMDS credentials is
/// disabled"), so the metadata address is never contacted.
fn refuse_disabled_metadata(
    env: &Environment,
    origin: &str,
    recipe: &Recipe,
) -> Result<(), CredentialsError> {
    let mut uses_metadata = recipe;
    while let Recipe::AssumeRole { source, .. } = uses_metadata {
        uses_metadata = source;
    }
    if matches!(uses_metadata, Recipe::EcsRole(_))
        && env.flag("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
    {
        return Err(CredentialsError::Invalid {
            origin: origin.to_owned(),
            problem: "it takes keys from the ECS instance metadata, which ALIBABA_CLOUD_ECS_METADATA_DISABLED=true forbids; the metadata address was not contacted".into(),
        });
    }
    Ok(())
}

/// Turns a recipe into a source, fetching the first temporary key.
async fn build(
    origin: String,
    recipe: Recipe,
    transport: &Transport,
) -> Result<CredentialSource, CredentialsError> {
    match recipe.into_fetcher(&origin) {
        Ok(credentials) => Ok(CredentialSource::Static {
            origin,
            credentials,
        }),
        Err(fetcher) => start(origin, *fetcher, transport).await,
    }
}

async fn start(
    origin: String,
    fetcher: Fetcher,
    transport: &Transport,
) -> Result<CredentialSource, CredentialsError> {
    let refreshing = Arc::new(Refreshing::new(origin, fetcher));
    refreshing.credentials(transport).await?;
    Ok(CredentialSource::Temporary(refreshing))
}

/// Keys of the role `role_arn`, assumed with `base`'s keys and refreshed
/// before they expire exactly as a `RamRoleArn` profile's are, the first
/// fetched now so that a role that cannot be assumed fails here: for a run
/// that acts in many accounts, each through a role in it.
pub async fn assume_role(
    origin: String,
    base: CredentialSource,
    role_arn: String,
    transport: &Transport,
) -> Result<CredentialSource, CredentialsError> {
    let role = files::RoleRequest {
        role_arn,
        session_name: files::default_session_name(),
        duration: files::DEFAULT_DURATION,
        policy: None,
        external_id: None,
        sts_host: sts_host(&Environment::from_process()),
    };
    start(
        origin,
        Fetcher::AssumeRole { source: base, role },
        transport,
    )
    .await
}

/// The STS host for calls of regroup's own (`whoami`), chosen from the
/// environment as the credential providers choose theirs.
pub fn sts_host(env: &Environment) -> String {
    StsDefaults::from_env(env).host(None, false)
}

#[cfg(test)]
mod tests;
