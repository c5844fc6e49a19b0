//! The two profile files and what they ask for, without any I/O beyond the
//! token file's path: the aliyun CLI's `~/.aliyun/config.json` (its modes
//! and keys as `alibabacloud-credentials` 1.0.12 `provider/cli_profile.py`
//! and aliyun-cli `config/profile.go` read them) and the INI credentials
//! file (`provider/profile.py`, credentials-go `providers/profile.go`). Each
//! turns into a [`Recipe`]; docs/sources/credentials.md §3–4 has the facts.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::fetch::{Fetcher, MetadataRequest};
use super::Refreshing;
use super::{CredentialSource, Credentials, CredentialsError, Environment, Secret};

/// `DurationSeconds` when a profile gives none: 3600, the default of
/// `ram_role_arn.py` and `oidc.py` and of AssumeRole itself (DOC-AR).
pub const DEFAULT_DURATION: u32 = 3600;
/// AssumeRole refuses less (DOC-AR; `ram_role_arn.py` raises below 900).
const MIN_DURATION: u32 = 900;

/// The session name when none is configured; the Python package uses
/// `credentials-python-<unix time>`, which fits the 2–32 characters
/// `[A-Za-z0-9.@-_]` that DOC-AR allows, and so does this.
pub fn default_session_name() -> String {
    format!("regroup-{}", chrono::Utc::now().timestamp())
}

/// What a profile asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipe {
    /// `AK` / `StsToken` / `access_key`.
    Keys(Credentials),
    /// `RamRoleArn` / `ChainableRamRoleArn` / `ram_role_arn`: AssumeRole
    /// signed with the source's keys.
    AssumeRole {
        source: Box<Recipe>,
        role: RoleRequest,
    },
    /// `OIDC` / `oidc_role_arn`, and the OIDC variables.
    Oidc(OidcRequest),
    /// `EcsRamRole` / `ecs_ram_role`.
    EcsRole(MetadataRequest),
    /// `CredentialsURI`, and `ALIBABA_CLOUD_CREDENTIALS_URI`.
    Uri(String),
    /// `External`: a command printing JSON keys.
    External(String),
}

/// An AssumeRole request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    pub role_arn: String,
    pub session_name: String,
    pub duration: u32,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    pub sts_host: String,
}

/// An AssumeRoleWithOIDC request; the token is read from its file at every
/// fetch, as the official providers do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcRequest {
    pub role_arn: String,
    pub provider_arn: String,
    pub token_file: PathBuf,
    pub session_name: String,
    pub duration: u32,
    pub policy: Option<String>,
    pub sts_host: String,
}

impl Recipe {
    /// Fixed keys, or the fetcher that gets temporary ones; a role's source
    /// becomes a source of its own, fetched when the role is.
    pub fn into_fetcher(self, origin: &str) -> Result<Credentials, Box<Fetcher>> {
        match self {
            Recipe::Keys(credentials) => Ok(credentials),
            Recipe::AssumeRole { source, role } => {
                let source = match source.into_fetcher(origin) {
                    Ok(credentials) => CredentialSource::Static {
                        origin: origin.to_owned(),
                        credentials,
                    },
                    Err(fetcher) => CredentialSource::Temporary(Arc::new(Refreshing::new(
                        format!("{origin}, source"),
                        *fetcher,
                    ))),
                };
                Err(Box::new(Fetcher::AssumeRole { source, role }))
            }
            Recipe::Oidc(request) => Err(Box::new(Fetcher::Oidc(request))),
            Recipe::EcsRole(request) => Err(Box::new(Fetcher::Metadata(request))),
            Recipe::Uri(uri) => Err(Box::new(Fetcher::Uri(uri))),
            Recipe::External(command) => Err(Box::new(Fetcher::External(command))),
        }
    }
}

/// The STS endpoint settings from the environment: `ALIBABA_CLOUD_STS_REGION`
/// and `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED` (`ram_role_arn.py`, `oidc.py`).
#[derive(Debug, Clone, Default)]
pub struct StsDefaults {
    region: Option<String>,
    vpc: bool,
}

impl StsDefaults {
    pub fn from_env(env: &Environment) -> StsDefaults {
        StsDefaults {
            region: env.var("ALIBABA_CLOUD_STS_REGION"),
            vpc: env.flag("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"),
        }
    }

    /// `sts[-vpc].<region>.aliyuncs.com`; a profile's region and VPC switch
    /// win over the environment's. Without a region it is
    /// `sts.aliyuncs.com` even with VPC on: the VPC prefix needs a region
    /// (docs/sources/credentials.md §7, "Endpoint selection").
    pub fn host(&self, region: Option<&str>, vpc: bool) -> String {
        match region.or(self.region.as_deref()) {
            Some(region) => {
                let prefix = if vpc || self.vpc { "sts-vpc" } else { "sts" };
                format!("{prefix}.{region}.aliyuncs.com")
            }
            None => "sts.aliyuncs.com".into(),
        }
    }
}

/// A profile file's verdict: what to do, or why this file has nothing.
#[derive(Debug)]
pub enum Found {
    Recipe { origin: String, recipe: Recipe },
    Skipped(String),
}

/// A JSON error by position only: serde's messages can quote a value, and a
/// value here can be a secret.
pub fn json_error(e: &serde_json::Error) -> String {
    format!("not valid JSON (line {}, column {})", e.line(), e.column())
}

/// Reads `config.json`: the profile `wanted`, else the file's `current`.
pub fn cli_profile(
    path: &Path,
    text: &str,
    wanted: Option<&str>,
    sts: &StsDefaults,
    env: &Environment,
) -> Result<Found, CredentialsError> {
    let invalid = |problem: String| CredentialsError::Invalid {
        origin: path.display().to_string(),
        problem,
    };
    let config: Value = serde_json::from_str(text).map_err(|e| invalid(json_error(&e)))?;
    let profiles: Vec<&Map<String, Value>> = config
        .get("profiles")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let name = match wanted {
        Some(name) => name.to_owned(),
        None => match config.get("current").and_then(Value::as_str) {
            Some(current) if !current.is_empty() => current.to_owned(),
            _ => {
                return Ok(Found::Skipped(format!(
                    "{} names no current profile",
                    path.display()
                )))
            }
        },
    };
    let by_name = |name: &str| {
        profiles
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .copied()
    };
    if by_name(&name).is_none() {
        let names: Vec<&str> = profiles
            .iter()
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        return Ok(Found::Skipped(format!(
            "{} has no profile named `{name}` (profiles: {})",
            path.display(),
            names.join(", ")
        )));
    }
    let origin = format!("aliyun CLI profile `{name}` ({})", path.display());
    let mut visited = HashSet::new();
    match cli_recipe(&by_name, &name, sts, env, &mut visited) {
        Ok(Some(recipe)) => Ok(Found::Recipe { origin, recipe }),
        Ok(None) => Ok(Found::Skipped(format!(
            "profile `{name}` uses a mode regroup does not support (OAuth and the CLI-only modes); trying the next source"
        ))),
        Err(problem) => Err(CredentialsError::Invalid { origin, problem }),
    }
}

/// A profile's string field; numbers and booleans as text, empty as absent.
fn field(profile: &Map<String, Value>, key: &str) -> Option<String> {
    match profile.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The mode a profile without `mode` gets, in the order of aliyun-cli
/// `config/profile.go` `AutoModeRecognition`.
fn guess_mode(p: &Map<String, Value>) -> &'static str {
    let has = |k: &str| field(p, k).is_some();
    if has("access_key_id") && has("access_key_secret") {
        if has("sts_token") {
            "StsToken"
        } else if has("ram_role_arn") {
            "RamRoleArn"
        } else {
            "AK"
        }
    } else if has("ram_role_name") {
        "EcsRamRole"
    } else if has("process_command") {
        "External"
    } else if has("oidc_provider_arn") && has("oidc_token_file") && has("ram_role_arn") {
        "OIDC"
    } else if has("cloud_sso_sign_in_url") {
        "CloudSSO"
    } else {
        ""
    }
}

/// The recipe of profile `name`; `None` for a mode regroup does not support.
fn cli_recipe<'a>(
    by_name: &dyn Fn(&str) -> Option<&'a Map<String, Value>>,
    name: &str,
    sts: &StsDefaults,
    env: &Environment,
    visited: &mut HashSet<String>,
) -> Result<Option<Recipe>, String> {
    if !visited.insert(name.to_owned()) {
        return Err(format!(
            "profile `{name}` is its own source_profile, through a loop"
        ));
    }
    let p = by_name(name).ok_or_else(|| format!("no profile named `{name}`"))?;
    let required =
        |key: &str| field(p, key).ok_or_else(|| format!("profile `{name}` has no `{key}`"));
    let mode = field(p, "mode").unwrap_or_else(|| guess_mode(p).to_owned());
    // aliyun-cli matches modes case-insensitively (`NormalizeMode`).
    let keys = |token: Option<String>| -> Result<Recipe, String> {
        Ok(Recipe::Keys(Credentials {
            access_key_id: required("access_key_id")?,
            access_key_secret: Secret::new(required("access_key_secret")?),
            security_token: token.map(Secret::new),
        }))
    };
    let role = || -> Result<RoleRequest, String> {
        Ok(RoleRequest {
            role_arn: required("ram_role_arn")?,
            session_name: field(p, "ram_session_name").unwrap_or_else(default_session_name),
            duration: duration(p, name)?,
            policy: field(p, "policy"),
            external_id: field(p, "external_id"),
            sts_host: sts_host(p, sts),
        })
    };
    let recipe = match mode.to_ascii_lowercase().as_str() {
        "ak" => keys(None)?,
        "ststoken" => keys(Some(required("sts_token")?))?,
        // aliyun-cli also signs with `sts_token` when the source key is a
        // temporary one; the Python package ignores it.
        "ramrolearn" => Recipe::AssumeRole {
            source: Box::new(keys(field(p, "sts_token"))?),
            role: role()?,
        },
        "chainableramrolearn" => {
            let source = required("source_profile")?;
            let inner = cli_recipe(by_name, &source, sts, env, visited)?.ok_or_else(|| {
                format!("source_profile `{source}` uses a mode regroup does not support")
            })?;
            Recipe::AssumeRole {
                source: Box::new(inner),
                role: role()?,
            }
        }
        "ecsramrole" => Recipe::EcsRole(
            MetadataRequest::from_env(env, field(p, "ram_role_name")).map_err(|e| e.to_string())?,
        ),
        // The session name: `ram_session_name` for aliyun-cli and
        // credentials-go, `role_session_name` for the Python package.
        "oidc" => Recipe::Oidc(OidcRequest {
            role_arn: required("ram_role_arn")?,
            provider_arn: required("oidc_provider_arn")?,
            token_file: PathBuf::from(required("oidc_token_file")?),
            session_name: field(p, "ram_session_name")
                .or_else(|| field(p, "role_session_name"))
                .unwrap_or_else(default_session_name),
            duration: duration(p, name)?,
            policy: field(p, "policy"),
            sts_host: sts_host(p, sts),
        }),
        // aliyun-cli only (`profile.go`); it falls back to the variable.
        "credentialsuri" => Recipe::Uri(
            field(p, "credentials_uri")
                .or_else(|| env.var("ALIBABA_CLOUD_CREDENTIALS_URI"))
                .ok_or_else(|| format!("profile `{name}` has no `credentials_uri`"))?,
        ),
        "external" => {
            if env
                .var("ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS")
                .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
            {
                return Err(format!(
                    "profile `{name}` runs an external process, which ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS forbids"
                ));
            }
            Recipe::External(required("process_command")?)
        }
        "cloudsso" => Recipe::Keys(super::cloudsso::cached_key(
            p,
            name,
            chrono::Utc::now().timestamp(),
        )?),
        "oauth" | "ramrolearnwithrolename" | "rsakeypair" | "bearertoken" | "anonymous" => {
            return Ok(None)
        }
        "" => {
            return Err(format!(
                "profile `{name}` has no `mode` and no keys to guess one from"
            ))
        }
        _ => return Err(format!("profile `{name}` has an unknown mode `{mode}`")),
    };
    Ok(Some(recipe))
}

/// `expired_seconds`, at least 900.
fn duration(p: &Map<String, Value>, name: &str) -> Result<u32, String> {
    match field(p, "expired_seconds") {
        None => Ok(DEFAULT_DURATION),
        Some(text) => match text.parse::<u32>() {
            Ok(0) => Ok(DEFAULT_DURATION),
            Ok(n) if n >= MIN_DURATION => Ok(n),
            _ => Err(format!(
                "profile `{name}`: expired_seconds must be a whole number of at least {MIN_DURATION}, not {text}"
            )),
        },
    }
}

/// A profile's STS host: `sts_endpoint` (aliyun-cli) as given, else from
/// `sts_region` and `enable_vpc` (the Python package).
fn sts_host(p: &Map<String, Value>, sts: &StsDefaults) -> String {
    if let Some(endpoint) = field(p, "sts_endpoint") {
        let host = endpoint
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        return host.trim_end_matches('/').to_owned();
    }
    let vpc = field(p, "enable_vpc").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    sts.host(field(p, "sts_region").as_deref(), vpc)
}

/// INI sections and their `key = value` lines. Anything after `#` is a
/// comment and values are trimmed, as `provider/profile.py` reads them.
/// As the official SDKs read the file: a UTF-8 byte-order mark is skipped
/// (gopkg.in/ini, which the Go SDK's `providers/profile.go` reads with,
/// drops it in `parser.go` before parsing), and a section or a key given
/// twice is an error (the Python SDK reads with `configparser.ConfigParser()`,
/// `strict=True` by default, which raises `DuplicateSectionError` and
/// `DuplicateOptionError` naming the line), never "the last one wins".
pub fn parse_ini(text: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    // Where each section and key was first given, for the error.
    let mut section_lines: BTreeMap<String, usize> = BTreeMap::new();
    let mut key_lines: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_owned();
            if let Some(first) = section_lines.insert(name.clone(), number) {
                return Err(format!(
                    "line {number}: section [{name}] is given twice (first at line {first})"
                ));
            }
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((key, value))) = (&current, line.split_once('=')) {
            let key = key.trim().to_owned();
            if let Some(first) = key_lines.insert((section.clone(), key.clone()), number) {
                return Err(format!(
                    "line {number}: key `{key}` of section [{section}] is given twice (first at line {first})"
                ));
            }
            if let Some(values) = sections.get_mut(section) {
                values.insert(key, value.trim().to_owned());
            }
        }
    }
    Ok(sections)
}

/// Reads the section `wanted` (else `[default]`) of the INI credentials
/// file; its `type` is one of `access_key`, `ram_role_arn`, `ecs_ram_role`
/// and `oidc_role_arn` (`utils/auth_constant.py`).
pub fn credentials_ini(
    path: &Path,
    text: &str,
    wanted: Option<&str>,
    sts: &StsDefaults,
    env: &Environment,
) -> Result<Found, CredentialsError> {
    let wanted = wanted.unwrap_or("default");
    let sections = parse_ini(text).map_err(|problem| CredentialsError::Invalid {
        origin: format!("credentials file {}", path.display()),
        problem,
    })?;
    let Some(values) = sections.get(wanted) else {
        return Ok(Found::Skipped(format!(
            "{} has no [{wanted}] section",
            path.display()
        )));
    };
    let origin = format!("credentials file {} [{wanted}]", path.display());
    let invalid = |problem: String| CredentialsError::Invalid {
        origin: origin.clone(),
        problem,
    };
    let get = |key: &str| values.get(key).filter(|v| !v.is_empty()).cloned();
    let required = |key: &str| get(key).ok_or_else(|| invalid(format!("needs `{key}`")));
    let keys = || -> Result<Recipe, CredentialsError> {
        Ok(Recipe::Keys(Credentials {
            access_key_id: required("access_key_id")?,
            access_key_secret: Secret::new(required("access_key_secret")?),
            security_token: None,
        }))
    };
    let session_name = get("role_session_name").unwrap_or_else(default_session_name);
    // A section without `type` but with keys is read as `access_key`, as
    // the file has always been written by hand that way.
    let kind = get("type").unwrap_or_else(|| "access_key".into());
    let recipe = match kind.as_str() {
        "access_key" => keys()?,
        // The INI form has no duration: 3600 (`provider/profile.py`).
        "ram_role_arn" => Recipe::AssumeRole {
            source: Box::new(keys()?),
            role: RoleRequest {
                role_arn: required("role_arn")?,
                session_name,
                duration: DEFAULT_DURATION,
                policy: get("policy"),
                external_id: None,
                sts_host: sts.host(None, false),
            },
        },
        "ecs_ram_role" => Recipe::EcsRole(MetadataRequest::from_env(env, get("role_name"))?),
        "oidc_role_arn" => Recipe::Oidc(OidcRequest {
            role_arn: required("role_arn")?,
            provider_arn: required("oidc_provider_arn")?,
            token_file: PathBuf::from(required("oidc_token_file_path")?),
            session_name,
            duration: DEFAULT_DURATION,
            policy: get("policy"),
            sts_host: sts.host(None, false),
        }),
        "rsa_key_pair" => {
            return Ok(Found::Skipped(format!(
                "[{wanted}] has the deprecated type rsa_key_pair, which regroup does not support; trying the next source"
            )))
        }
        other => {
            return Err(invalid(format!(
                "type `{other}` is not one of access_key, ram_role_arn, ecs_ram_role, oidc_role_arn"
            )))
        }
    };
    Ok(Found::Recipe { origin, recipe })
}
