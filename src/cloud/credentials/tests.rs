//! The chain: each file format parsed (examples from docs/credentials.md and
//! the aliyun CLI README), the order and fall-through of sources, and the
//! temporary keys against the emulator: one fetch for every call in flight,
//! a refresh through STS faults, an expired key replaced mid-call.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use futures::future::join_all;

use super::files::{self, Found, Recipe, StsDefaults};
use super::*;
use crate::cloud::client::{
    Call, Client, ClientConfig, Endpoints, RetryPolicy, Service, NO_PARAMS,
};
use crate::emulator::tests::fleet;
use crate::emulator::{Emulator, Settings};

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

/// Never used for a request: the chain's static sources need no network,
/// and tests that do fetch use [`transport_to`].
fn offline_transport() -> Transport {
    transport_for(Endpoints::override_with("http://127.0.0.1:9").unwrap())
}

fn transport_for(endpoints: Endpoints) -> Transport {
    Transport::new(&ClientConfig {
        endpoints,
        retry: RetryPolicy {
            max_tries: 8,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        },
        ..ClientConfig::default()
    })
    .unwrap()
}

fn transport_to(emulator: &Emulator) -> Transport {
    transport_for(Endpoints::override_with(&emulator.url()).unwrap())
}

/// The environment every chain test starts from: no metadata server.
const NO_METADATA: (&str, &str) = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");

async fn resolve_offline(
    env: &Environment,
    profile: Option<&str>,
) -> Result<Resolved, CredentialsError> {
    resolve(env, profile, &offline_transport()).await
}

fn static_keys(source: &CredentialSource) -> (String, Credentials) {
    match source {
        CredentialSource::Static {
            origin,
            credentials,
        } => (origin.clone(), credentials.clone()),
        other => panic!("expected static keys, got {other:?}"),
    }
}

fn write(dir: &Path, relative: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn keys(id: &str, secret: &str, token: Option<&str>) -> Recipe {
    Recipe::Keys(Credentials {
        access_key_id: id.into(),
        access_key_secret: Secret::new(secret),
        security_token: token.map(Secret::new),
    })
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
fn key_ids_show_only_their_ends() {
    let id = |s: &str| Credentials {
        access_key_id: s.into(),
        access_key_secret: Secret::new("x"),
        security_token: None,
    };
    assert_eq!(id("LTAI4GENiH2u8MVj7Khh").masked_id(), "LTAI…7Khh");
    assert_eq!(id("STS.L4aBSCSJVMuKg5U1").masked_id(), "STS.…g5U1");
    assert_eq!(id("testid").masked_id(), "****");
}

// ---- the aliyun CLI's config.json, one profile per mode ----

/// The modes of docs/credentials.md, with the keys aliyun-cli's README and
/// `config/profile.go` give them.
const CLI_CONFIG: &str = r#"{
    "current": "ak",
    "profiles": [
        {"name": "ak", "mode": "AK", "access_key_id": "LTAIak", "access_key_secret": "s1", "region_id": "cn-hangzhou"},
        {"name": "sts", "mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "s2", "sts_token": "t2"},
        {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIsrc", "access_key_secret": "s3",
         "ram_role_arn": "acs:ram::1234567890123456:role/deploy", "ram_session_name": "ci", "expired_seconds": 900,
         "external_id": "ext", "policy": "{}", "sts_region": "cn-shanghai", "enable_vpc": true},
        {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "role",
         "ram_role_arn": "acs:ram::1234567890123456:role/audit", "ram_session_name": "chained"},
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "worker"},
        {"name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/ci", "oidc_provider_arn": "acs:ram::1:oidc-provider/gh",
         "oidc_token_file": "/var/run/token", "role_session_name": "py-name"},
        {"name": "uri", "mode": "CredentialsURI", "credentials_uri": "http://127.0.0.1:1/creds"},
        {"name": "ext", "mode": "External", "process_command": "get-keys --json"},
        {"name": "oauth", "mode": "OAuth"},
        {"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://signin"},
        {"name": "guess", "access_key_id": "LTAIguess", "access_key_secret": "s4", "ram_role_arn": "acs:ram::1:role/g"},
        {"name": "upper", "mode": "ak", "access_key_id": "LTAIup", "access_key_secret": "s5"},
        {"name": "half", "mode": "AK", "access_key_id": "LTAIhalf"},
        {"name": "short", "mode": "RamRoleArn", "access_key_id": "a", "access_key_secret": "b", "ram_role_arn": "acs:ram::1:role/x", "expired_seconds": 60},
        {"name": "loop1", "mode": "ChainableRamRoleArn", "source_profile": "loop2", "ram_role_arn": "acs:ram::1:role/x"},
        {"name": "loop2", "mode": "ChainableRamRoleArn", "source_profile": "loop1", "ram_role_arn": "acs:ram::1:role/x"},
        {"name": "weird", "mode": "Telepathy"}
    ]
}"#;

fn cli(profile: Option<&str>) -> Result<Found, CredentialsError> {
    cli_with(profile, &[])
}

fn cli_with(profile: Option<&str>, vars: &[(&str, &str)]) -> Result<Found, CredentialsError> {
    let env = environment(vars, None);
    files::cli_profile(
        Path::new("config.json"),
        CLI_CONFIG,
        profile,
        &StsDefaults::from_env(&env),
        &env,
    )
}

fn recipe(found: Result<Found, CredentialsError>) -> Recipe {
    match found {
        Ok(Found::Recipe { recipe, .. }) => recipe,
        other => panic!("expected a recipe, got {other:?}"),
    }
}

#[test]
fn cli_ak_and_sts_token_profiles_are_keys() {
    assert_eq!(recipe(cli(None)), keys("LTAIak", "s1", None), "current");
    assert_eq!(recipe(cli(Some("sts"))), keys("STS.x", "s2", Some("t2")));
    assert_eq!(
        recipe(cli(Some("upper"))),
        keys("LTAIup", "s5", None),
        "modes ignore case"
    );
}

#[test]
fn cli_ram_role_arn_reads_every_key() {
    let Recipe::AssumeRole { source, role } = recipe(cli(Some("role"))) else {
        panic!("RamRoleArn assumes a role")
    };
    assert_eq!(*source, keys("LTAIsrc", "s3", None));
    assert_eq!(
        role,
        files::RoleRequest {
            role_arn: "acs:ram::1234567890123456:role/deploy".into(),
            session_name: "ci".into(),
            duration: 900,
            policy: Some("{}".into()),
            external_id: Some("ext".into()),
            sts_host: "sts-vpc.cn-shanghai.aliyuncs.com".into(),
        }
    );
}

#[test]
fn cli_chainable_role_uses_its_source_profile() {
    let Recipe::AssumeRole { source, role } = recipe(cli(Some("chain"))) else {
        panic!("ChainableRamRoleArn assumes a role")
    };
    assert_eq!(role.role_arn, "acs:ram::1234567890123456:role/audit");
    assert_eq!(role.duration, files::DEFAULT_DURATION);
    assert_eq!(role.sts_host, "sts.aliyuncs.com");
    assert!(
        matches!(&*source, Recipe::AssumeRole { role, .. } if role.role_arn.ends_with("role/deploy")),
        "{source:?}"
    );
}

#[test]
fn cli_other_modes() {
    match recipe(cli(Some("ecs"))) {
        Recipe::EcsRole(request) => {
            assert_eq!(request.role_name.as_deref(), Some("worker"));
            assert_eq!(request.base, METADATA_DEFAULT);
        }
        other => panic!("{other:?}"),
    }
    match recipe(cli(Some("oidc"))) {
        Recipe::Oidc(request) => {
            assert_eq!(request.provider_arn, "acs:ram::1:oidc-provider/gh");
            assert_eq!(
                request.session_name, "py-name",
                "the Python package's key is read too"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        recipe(cli(Some("uri"))),
        Recipe::Uri("http://127.0.0.1:1/creds".into())
    );
    assert_eq!(
        recipe(cli(Some("ext"))),
        Recipe::External("get-keys --json".into())
    );
    assert!(
        matches!(recipe(cli(Some("guess"))), Recipe::AssumeRole { .. }),
        "keys and a role without a mode are RamRoleArn"
    );
}

#[test]
fn cli_unsupported_modes_are_skipped_and_broken_profiles_are_errors() {
    match cli(Some("oauth")) {
        Ok(Found::Skipped(why)) => assert!(why.contains("does not support"), "{why}"),
        other => panic!("{other:?}"),
    }
    // CloudSSO without a cached key: what to run, never "not found".
    match cli(Some("sso")) {
        Err(CredentialsError::Invalid { problem, .. }) => assert!(
            problem.contains("CloudSSO profile with no cached temporary key")
                && problem.contains("aliyun configure --profile sso"),
            "{problem}"
        ),
        other => panic!("{other:?}"),
    }
    for (name, expected) in [
        ("half", "profile `half` has no `access_key_secret`"),
        (
            "short",
            "expired_seconds must be a whole number of at least 900, not 60",
        ),
        ("loop1", "through a loop"),
        ("weird", "unknown mode `Telepathy`"),
    ] {
        let error = cli(Some(name)).unwrap_err().to_string();
        assert!(error.contains(expected), "{name}: {error}");
        assert!(error.contains(&format!("profile `{name}`")), "{error}");
    }
    let blocked = cli_with(
        Some("ext"),
        &[("ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS", "true")],
    );
    assert!(blocked.unwrap_err().to_string().contains("forbids"));
}

#[test]
fn sts_host_follows_region_and_vpc_variables() {
    let sts = |vars: &[(&str, &str)]| StsDefaults::from_env(&environment(vars, None));
    assert_eq!(sts(&[]).host(None, false), "sts.aliyuncs.com");
    assert_eq!(
        sts(&[]).host(None, true),
        "sts.aliyuncs.com",
        "VPC needs a region"
    );
    let regional = sts(&[("ALIBABA_CLOUD_STS_REGION", "cn-beijing")]);
    assert_eq!(regional.host(None, false), "sts.cn-beijing.aliyuncs.com");
    assert_eq!(
        regional.host(Some("cn-shanghai"), false),
        "sts.cn-shanghai.aliyuncs.com"
    );
    let vpc = sts(&[
        ("ALIBABA_CLOUD_STS_REGION", "cn-beijing"),
        ("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "TRUE"),
    ]);
    assert_eq!(vpc.host(None, false), "sts-vpc.cn-beijing.aliyuncs.com");
}

// ---- the INI credentials file, one section per type ----

/// The INI types of docs/credentials.md (`provider/profile.py` keys).
const INI: &str = "\
# written by hand
[default]
type = access_key
access_key_id = LTAIini   # a trailing comment
access_key_secret = inisecret

[role]
type = ram_role_arn
access_key_id = LTAIsrc
access_key_secret = srcsecret
role_arn = acs:ram::1234567890123456:role/deploy
role_session_name = ini-session

[ecs]
type = ecs_ram_role
role_name = worker

[oidc]
type = oidc_role_arn
role_arn = acs:ram::1:role/ci
oidc_provider_arn = acs:ram::1:oidc-provider/gh
oidc_token_file_path = /var/run/token

[rsa]
type = rsa_key_pair

[odd]
type = bearer

[untyped]
access_key_id = LTAIuntyped
access_key_secret = s
";

fn ini(profile: Option<&str>) -> Result<Found, CredentialsError> {
    let env = environment(&[], None);
    files::credentials_ini(
        Path::new("credentials"),
        INI,
        profile,
        &StsDefaults::default(),
        &env,
    )
}

#[test]
fn ini_types() {
    assert_eq!(
        recipe(ini(None)),
        keys("LTAIini", "inisecret", None),
        "comments are stripped"
    );
    assert_eq!(recipe(ini(Some("untyped"))), keys("LTAIuntyped", "s", None));
    let Recipe::AssumeRole { source, role } = recipe(ini(Some("role"))) else {
        panic!("ram_role_arn assumes a role")
    };
    assert_eq!(*source, keys("LTAIsrc", "srcsecret", None));
    assert_eq!(
        (role.session_name.as_str(), role.duration),
        ("ini-session", 3600)
    );
    assert!(
        matches!(recipe(ini(Some("ecs"))), Recipe::EcsRole(r) if r.role_name.as_deref() == Some("worker"))
    );
    assert!(
        matches!(recipe(ini(Some("oidc"))), Recipe::Oidc(r) if r.token_file == Path::new("/var/run/token"))
    );
    assert!(matches!(ini(Some("rsa")), Ok(Found::Skipped(_))));
    assert!(matches!(ini(Some("nosuch")), Ok(Found::Skipped(_))));
    let error = ini(Some("odd")).unwrap_err().to_string();
    assert!(
        error.contains("[odd]") && error.contains("type `bearer`"),
        "{error}"
    );
}

// ---- the chain: order and fall-through ----

#[tokio::test]
async fn environment_keys_win_over_files_and_terraform_names_come_second() {
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
            ("ALICLOUD_ACCESS_KEY", "tf"),
            ("ALICLOUD_SECRET_KEY", "tfs"),
        ],
        Some(home.path()),
    );
    let (origin, c) = static_keys(&resolve_offline(&env, None).await.unwrap().source);
    assert_eq!(
        (c.access_key_id.as_str(), c.security_token),
        ("envid", Some(Secret::new("tok")))
    );
    assert!(origin.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));

    let env = environment(
        &[("ALICLOUD_ACCESS_KEY", "tf"), ("ALICLOUD_SECRET_KEY", "s")],
        None,
    );
    assert_eq!(
        static_keys(&resolve_offline(&env, None).await.unwrap().source)
            .1
            .access_key_id,
        "tf"
    );

    let env = environment(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")], Some(home.path()));
    let err = resolve_offline(&env, None).await.unwrap_err().to_string();
    assert!(err.contains("must be set together"), "{err}");
}

#[tokio::test]
async fn some_oidc_variables_without_the_others_name_the_missing_ones() {
    let env = environment(
        &[
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/ci"),
            NO_METADATA,
        ],
        None,
    );
    let err = resolve_offline(&env, None).await.unwrap_err().to_string();
    assert!(
        err.contains("ALIBABA_CLOUD_ROLE_ARN set")
            && err
                .contains("ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE missing"),
        "{err}"
    );
}

#[tokio::test]
async fn cli_profile_beats_the_ini_file_and_profile_names_both() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CLI_CONFIG);
    write(home.path(), ".alibabacloud/credentials", INI);
    let env = environment(&[NO_METADATA], Some(home.path()));
    for (profile, expected) in [
        (None, "LTAIak"),
        (Some("sts"), "STS.x"),
        (Some("untyped"), "LTAIuntyped"),
    ] {
        let resolved = resolve_offline(&env, profile).await.unwrap();
        assert_eq!(
            static_keys(&resolved.source).1.access_key_id,
            expected,
            "{profile:?}"
        );
    }
}

#[tokio::test]
async fn an_absent_current_profile_falls_through_to_the_ini_file() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".aliyun/config.json",
        &CLI_CONFIG.replace("\"current\": \"ak\"", "\"current\": \"gone\""),
    );
    write(home.path(), ".alibabacloud/credentials.ini", INI);
    let env = environment(&[NO_METADATA], Some(home.path()));
    let resolved = resolve_offline(&env, None).await.unwrap();
    let (origin, c) = static_keys(&resolved.source);
    assert_eq!(c.access_key_id, "LTAIini");
    assert!(origin.contains("credentials.ini [default]"), "{origin}");
    assert!(
        resolved
            .skipped
            .iter()
            .any(|s| s.why.contains("no profile named `gone`")),
        "{:?}",
        resolved.skipped
    );
}

#[tokio::test]
async fn an_unsupported_mode_is_skipped_and_a_named_profile_found_nowhere_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CLI_CONFIG);
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[oauth]\naccess_key_id = LTAIinisso\naccess_key_secret = s\n",
    );
    let env = environment(&[NO_METADATA], Some(home.path()));
    let resolved = resolve_offline(&env, Some("oauth")).await.unwrap();
    assert_eq!(static_keys(&resolved.source).1.access_key_id, "LTAIinisso");
    assert!(resolved
        .skipped
        .iter()
        .any(|s| s.why.contains("does not support")));

    let err = resolve_offline(&env, Some("nowhere"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("profile `nowhere`")
            && err.contains("config.json")
            && err.contains(".alibabacloud/credentials"),
        "{err}"
    );
}

#[tokio::test]
async fn a_credentials_file_variable_naming_no_file_is_an_error() {
    let env = environment(
        &[
            ("ALIBABA_CLOUD_CREDENTIALS_FILE", "/nonexistent/creds"),
            NO_METADATA,
        ],
        None,
    );
    let err = resolve_offline(&env, None).await.unwrap_err().to_string();
    assert!(err.contains("/nonexistent/creds does not exist"), "{err}");
}

/// With no source configured and metadata disabled, the chain ends with
/// every reason and sends nothing: the transport, regroup's only HTTP path,
/// counted no request. (This proves no request was made through regroup's
/// code; it cannot observe the network itself.)
#[tokio::test]
async fn nothing_configured_lists_every_source_and_sends_no_request() {
    let home = tempfile::tempdir().unwrap();
    let env = environment(&[NO_METADATA], Some(home.path()));
    let transport = offline_transport();
    let err = resolve(&env, None, &transport)
        .await
        .unwrap_err()
        .to_string();
    for place in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALICLOUD_ACCESS_KEY",
        "OIDC",
        ".aliyun/config.json",
        ".alibabacloud/credentials",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED is true",
        "ALIBABA_CLOUD_CREDENTIALS_URI is not set",
    ] {
        assert!(err.contains(place), "{place} missing from: {err}");
    }
    assert_eq!(transport.stats().requests, 0);
}

#[test]
fn metadata_goes_to_100_100_100_200_unless_a_loopback_test_server_is_named() {
    let default = fetch::MetadataRequest::from_env(&environment(&[], None), None).unwrap();
    assert_eq!(default.base, "http://100.100.100.200");
    assert!(default.v1_allowed);
    let env = environment(
        &[
            (METADATA_ENDPOINT_VAR, "http://127.0.0.1:8080/"),
            ("ALIBABA_CLOUD_ECS_METADATA", "worker"),
            ("ALIBABA_CLOUD_IMDSV1_DISABLED", "true"),
        ],
        None,
    );
    let test = fetch::MetadataRequest::from_env(&env, None).unwrap();
    assert_eq!(
        (
            test.base.as_str(),
            test.role_name.as_deref(),
            test.v1_allowed
        ),
        ("http://127.0.0.1:8080", Some("worker"), false)
    );
    for bad in [
        "http://100.100.100.200",
        "https://127.0.0.1",
        "http://10.0.0.1:80",
        "nonsense",
    ] {
        let env = environment(&[(METADATA_ENDPOINT_VAR, bad)], None);
        assert!(
            fetch::MetadataRequest::from_env(&env, None).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn metadata_gets_one_second_to_connect() {
    assert_eq!(
        crate::cloud::client::METADATA_CONNECT_TIMEOUT,
        Duration::from_secs(1)
    );
    assert!(crate::cloud::transport::METADATA_REQUEST_TIMEOUT <= Duration::from_secs(2));
}

/// A server that accepts but never answers: the probe gives up after the
/// metadata timeout (on the paused clock) and the chain reads it as "no
/// metadata server".
#[tokio::test(start_paused = true)]
async fn a_silent_metadata_server_counts_as_absent_after_its_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let env = environment(&[(METADATA_ENDPOINT_VAR, &url)], None);
    let request = fetch::MetadataRequest::from_env(&env, None).unwrap();
    let started = tokio::time::Instant::now();
    assert!(!request.probe(&offline_transport()).await.unwrap());
    let waited = started.elapsed();
    assert!(
        waited >= crate::cloud::client::METADATA_CONNECT_TIMEOUT
            && waited <= Duration::from_secs(3),
        "{waited:?}"
    );
}

#[test]
fn refresh_is_due_three_minutes_early_or_a_quarter_of_a_short_life() {
    let t0 = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let hour = t0 + chrono::TimeDelta::hours(1);
    assert_eq!(
        refreshing::refresh_due(t0, hour),
        hour - chrono::TimeDelta::seconds(180)
    );
    let short = t0 + chrono::TimeDelta::seconds(8);
    assert_eq!(
        refreshing::refresh_due(t0, short),
        t0 + chrono::TimeDelta::seconds(6)
    );
    assert_eq!(refreshing::refresh_due(t0, t0), t0);
}

#[test]
fn expirations_parse_only_in_the_documented_form() {
    assert!(fetch::parse_expiration("2015-04-09T11:52:19Z").is_some());
    for bad in [
        "2015-04-09T11:52:19.5Z",
        "2015-04-09T11:52:19+00:00",
        "tomorrow",
    ] {
        assert!(fetch::parse_expiration(bad).is_none(), "{bad}");
    }
}

#[test]
fn official_fixtures_decode() {
    for file in ["sts_AssumeRole.json", "sts_AssumeRoleWithOIDC.json"] {
        let value: serde_json::Value = crate::api::fixtures::json(file);
        let fresh = fetch::decode_sts("test", value).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            fresh.credentials.access_key_id.starts_with("STS."),
            "{file}"
        );
    }
    for file in [
        "metadata_credentials.json",
        "metadata_credentials_uri_response.json",
    ] {
        let text = crate::api::fixtures::text(file);
        let fresh =
            fetch::decode_key("test", &text, true).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(fresh.expires.is_some(), "{file}");
        let failed = text.replace("\"Success\"", "\"Failed\"");
        assert!(fetch::decode_key("test", &failed, true).is_err(), "{file}");
    }
}

// ---- temporary keys against the emulator ----

async fn start(settings: Settings) -> Emulator {
    Emulator::start(
        fleet(2),
        Settings {
            record_requests: true,
            ..settings
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn role_config(dir: &Path, source_key: &str) -> Environment {
    let config = format!(
        r#"{{"current": "deploy", "profiles": [{{"name": "deploy", "mode": "RamRoleArn",
        "access_key_id": "{source_key}", "access_key_secret": "testsecret",
        "ram_role_arn": "acs:ram::1234567890123456:role/deploy", "ram_session_name": "unit"}}]}}"#
    );
    write(dir, ".aliyun/config.json", &config);
    environment(&[NO_METADATA], Some(dir))
}

/// A client signing with the keys of the role of [`role_config`] (the
/// first fetched), and that temporary source.
async fn role_client(emulator: &Emulator, home: &Path) -> (std::sync::Arc<Refreshing>, Client) {
    let transport = transport_to(emulator);
    let resolved = resolve(&role_config(home, "testid"), None, &transport)
        .await
        .unwrap();
    let CredentialSource::Temporary(refreshing) = resolved.source.clone() else {
        panic!("a role gives temporary keys")
    };
    let client = Client::with_transport(transport, resolved.source, Some(5_000.0));
    (refreshing, client)
}

/// The keys that signed the `DescribeInstances` calls.
fn signers_of_reads(emulator: &Emulator) -> std::collections::HashSet<String> {
    emulator
        .requests()
        .iter()
        .filter(|r| r.action == "DescribeInstances")
        .map(|r| r.params["AccessKeyId"].clone())
        .collect()
}

fn count(emulator: &Emulator, action: &str) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.action == action && r.status == 200)
        .count()
}

async fn describe_many(client: &Client, n: usize) {
    let calls = (0..n).map(|_| async {
        let call = Call::new(
            Service::Ecs,
            Some("cn-hangzhou"),
            "DescribeInstances",
            NO_PARAMS,
        );
        client.call::<serde_json::Value>(&call).await.result
    });
    for result in join_all(calls).await {
        result.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_fetch_serves_every_call_in_flight_and_one_refresh_when_due() {
    let emulator = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let (refreshing, client) = role_client(&emulator, home.path()).await;
    describe_many(&client, 40).await;
    assert_eq!(count(&emulator, "AssumeRole"), 1);

    refreshing.make_due();
    describe_many(&client, 40).await;
    assert_eq!(
        count(&emulator, "AssumeRole"),
        2,
        "40 calls found the key due; one fetched"
    );
    assert_eq!(client.credentials().fetches(), 2);
    let signers = signers_of_reads(&emulator);
    assert_eq!(signers.len(), 2);
    assert!(signers.iter().all(|k| k.starts_with("STS.")), "{signers:?}");
}

/// A role's keys fetched once from a new emulator, then its source key
/// deleted from the account, so that every later `AssumeRole` fails (404
/// `InvalidAccessKeyId.NotFound`, which is not tried again).
struct BrokenRole {
    emulator: Emulator,
    _home: tempfile::TempDir,
    refreshing: std::sync::Arc<Refreshing>,
    client: Client,
    /// The id of the key fetched before the source key went.
    held: String,
}

async fn a_role_whose_source_key_is_then_deleted() -> BrokenRole {
    let emulator = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let (refreshing, client) = role_client(&emulator, home.path()).await;
    let held = refreshing.credentials(client.transport()).await.unwrap();
    emulator
        .edit(|account| {
            account.keys.remove("testid");
        })
        .await;
    BrokenRole {
        emulator,
        _home: home,
        refreshing,
        client,
        held: held.access_key_id,
    }
}

/// `AssumeRole` requests the emulator answered, whatever the answer.
fn assume_role_calls(emulator: &Emulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.action == "AssumeRole")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_is_shared_by_the_calls_in_flight_and_remembered_briefly() {
    let role = a_role_whose_source_key_is_then_deleted().await;
    let (emulator, refreshing, client) = (&role.emulator, &role.refreshing, &role.client);
    // The server calls the held key expired: no key is left to sign with.
    assert!(
        refreshing.forget(&role.held),
        "a temporary key can be dropped"
    );
    let calls = (0..40).map(|_| refreshing.credentials(client.transport()));
    let errors: Vec<String> = join_all(calls)
        .await
        .into_iter()
        .map(|result| format!("{:#}", anyhow::Error::new(result.unwrap_err())))
        .collect();
    assert_eq!(
        assume_role_calls(emulator),
        2,
        "the first fetch, then one failed fetch for 40 calls, not 40"
    );
    let first = &errors[0];
    assert!(
        first.starts_with("aliyun CLI profile `deploy` (")
            && first.contains(
                ": AssumeRole acs:ram::1234567890123456:role/deploy at sts.aliyuncs.com failed: "
            )
            && first.contains("InvalidAccessKeyId.NotFound"),
        "the error names the source and the STS answer: {first}"
    );
    assert!(
        errors.iter().all(|e| e == first),
        "every call gets the same error: {errors:?}"
    );
    assert!(
        !first.contains("testsecret") && !first.contains(&role.held),
        "no secret and no key in the error: {first}"
    );
    // Remembered for a few seconds only: then the next call fetches again.
    refreshing.end_failure_hold();
    assert!(refreshing.credentials(client.transport()).await.is_err());
    assert_eq!(
        assume_role_calls(emulator),
        3,
        "once the failure's hold ends, one call fetches again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_serves_the_valid_keys_without_fetching_for_every_call() {
    let role = a_role_whose_source_key_is_then_deleted().await;
    let (emulator, refreshing, client) = (&role.emulator, &role.refreshing, &role.client);
    refreshing.make_due();
    describe_many(client, 40).await;
    assert_eq!(
        assume_role_calls(emulator),
        2,
        "40 calls found the key due: one refresh failed, and the others used the valid key"
    );
    let signers = signers_of_reads(emulator);
    assert_eq!(
        signers,
        std::collections::HashSet::from([role.held.clone()]),
        "every call signed with the key still valid"
    );
}

#[tokio::test]
async fn server_errors_from_sts_during_a_refresh_are_retried() {
    let emulator = start(Settings {
        fault_rate: 0.5,
        seed: Some(11),
        ..Settings::default()
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let (refreshing, client) = role_client(&emulator, home.path()).await;
    for _ in 0..10 {
        refreshing.make_due();
        client
            .call::<serde_json::Value>(&Call::new(
                Service::Ecs,
                Some("cn-hangzhou"),
                "DescribeInstances",
                NO_PARAMS,
            ))
            .await
            .result
            .unwrap();
    }
    let failed = emulator
        .requests()
        .iter()
        .filter(|r| r.action == "AssumeRole" && r.status != 200)
        .count();
    assert!(failed > 0, "the seed gives some AssumeRole faults");
    assert_eq!(refreshing.fetches(), 11);
}

#[tokio::test]
async fn a_key_the_server_calls_expired_is_replaced_and_the_call_tried_again() {
    let emulator = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let (_, client) = role_client(&emulator, home.path()).await;
    emulator
        .edit(|account| {
            for issued in account.issued_keys.values_mut() {
                issued.expires = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
            }
        })
        .await;
    let outcome = client
        .call::<serde_json::Value>(&Call::new(
            Service::Ecs,
            Some("cn-hangzhou"),
            "DescribeInstances",
            NO_PARAMS,
        ))
        .await;
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert_eq!(outcome.tries, 2);
    assert_eq!(count(&emulator, "AssumeRole"), 2);
    assert!(emulator
        .requests()
        .iter()
        .any(|r| r.code.as_deref() == Some("InvalidSecurityToken.Expired")));
}

#[tokio::test]
async fn a_role_with_a_bad_source_key_names_the_profile_and_the_sts_error() {
    let emulator = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let error = resolve(
        &role_config(home.path(), "LTAInotakey"),
        None,
        &transport_to(&emulator),
    )
    .await
    .unwrap_err();
    let shown = format!("{:#}", anyhow::Error::new(error));
    assert!(
        shown.contains("aliyun CLI profile `deploy`")
            && shown.contains("AssumeRole acs:ram::1234567890123456:role/deploy")
            && shown.contains("InvalidAccessKeyId.NotFound"),
        "{shown}"
    );
}

#[tokio::test]
async fn oidc_variables_beat_the_profile_files() {
    let emulator = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[default]\naccess_key_id = file\naccess_key_secret = s\n",
    );
    let token = write(home.path(), "token", "ci-token\n");
    let env = environment(
        &[
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/ci"),
            (
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                "acs:ram::1:oidc-provider/ci",
            ),
            ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token.to_str().unwrap()),
        ],
        Some(home.path()),
    );
    let resolved = resolve(&env, None, &transport_to(&emulator)).await.unwrap();
    assert!(
        resolved.source.origin().contains("OIDC"),
        "{}",
        resolved.source.origin()
    );
    assert_eq!(count(&emulator, "AssumeRoleWithOIDC"), 1);
}

#[tokio::test]
async fn the_metadata_server_is_used_when_nothing_else_is_configured() {
    let emulator = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let env = environment(
        &[(METADATA_ENDPOINT_VAR, &emulator.url())],
        Some(home.path()),
    );
    let transport = transport_to(&emulator);
    let resolved = resolve(&env, None, &transport).await.unwrap();
    assert!(
        resolved.source.origin().starts_with("ECS RAM role"),
        "{}",
        resolved.source.origin()
    );
    let client = Client::with_transport(transport, resolved.source, None);
    describe_many(&client, 3).await;
    for action in ["metadata token", "metadata role", "metadata credentials"] {
        assert!(count(&emulator, action) >= 1, "{action}");
    }
}

/// Something answers at the metadata address but is no metadata server
/// (the emulator under a path it does not serve): the chain goes on and
/// ends with every reason, the metadata one saying what the server
/// answered; a role the user named is still an error.
#[tokio::test]
async fn a_server_that_names_no_role_is_skipped_unless_a_role_is_named() {
    let emulator = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let not_metadata = format!("{}/not-metadata", emulator.url());
    let env = environment(&[(METADATA_ENDPOINT_VAR, &not_metadata)], Some(home.path()));
    let transport = transport_to(&emulator);
    let err = resolve(&env, None, &transport).await.unwrap_err();
    assert!(
        matches!(err, CredentialsError::NotFound { .. }),
        "the chain ends with its list: {err}"
    );
    let reason = format!(
        "  - ECS RAM role: a server answers at {not_metadata} but names no RAM role (the role listing answered HTTP 400): not an ECS instance with a role attached\n  - credentials URI"
    );
    assert!(err.to_string().contains(&reason), "{err}");

    let named = environment(
        &[
            (METADATA_ENDPOINT_VAR, &not_metadata),
            ("ALIBABA_CLOUD_ECS_METADATA", "worker"),
        ],
        Some(home.path()),
    );
    let err = resolve(&named, None, &transport).await.unwrap_err();
    assert!(
        err.to_string().starts_with("ECS RAM role (metadata server")
            && err
                .to_string()
                .contains("the credentials of RAM role `worker` failed"),
        "a named role that fails is an error: {err}"
    );
}

#[test]
fn an_ini_file_with_a_byte_order_mark_reads_its_first_section() {
    let sections = super::files::parse_ini("\u{feff}[default]\ntype = access_key\n").unwrap();
    assert_eq!(
        sections
            .get("default")
            .and_then(|s| s.get("type"))
            .map(String::as_str),
        Some("access_key"),
        "the BOM must not hide [default]: {sections:?}"
    );
}

#[test]
fn a_section_or_key_given_twice_in_an_ini_file_names_both_lines() {
    let twice = "[default]\ntype = access_key\n\n[default]\ntype = ecs_ram_role\n";
    assert_eq!(
        super::files::parse_ini(twice).unwrap_err(),
        "line 4: section [default] is given twice (first at line 1)"
    );
    let key_twice = "[default]\naccess_key_id = a\n# a comment\naccess_key_id = b\n";
    assert_eq!(
        super::files::parse_ini(key_twice).unwrap_err(),
        "line 4: key `access_key_id` of section [default] is given twice (first at line 2)"
    );
}
