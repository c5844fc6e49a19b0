//! Every credential source end to end: the real binary against an
//! in-process emulator that serves STS and the metadata paths. Each source
//! plans (exit 2, changes) with calls signed by the expected kind of key,
//! `whoami` is snapshotted per source, and no secret or token reaches any
//! output at -vvv. The metadata server is the emulator's
//! (`REGROUP_METADATA_ENDPOINT`) or disabled; 100.100.100.200 is never
//! contacted.

use std::path::PathBuf;

use assert_cmd::Command;
use regroup::emulator::Settings;

use crate::harness::{
    apply_all_with_report, assert_has_line, assert_no_calls, stdout_of, Running, Setup,
    ALL_INTO_PROD,
};

const ACCOUNT: &str = "1234567890123456";
const KEY_ID: &str = "LTAItestkey00001";
const SECRET: &str = "SECRET-fleet-d0n7-l3ak";
const STS_KEY: &str = "STS.fleettemporary01";
const STS_SECRET: &str = "SECRET-sts-d0n7-l3ak";
const STS_TOKEN: &str = "TOKEN-sts-n3v3r-pr1nt";
const ROLE: &str = "acs:ram::1234567890123456:role/deploy";
const PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/gh";
const OIDC_TOKEN: &str = "OIDC-t0ken-n3v3r-pr1nt";
const INSTANCE_ROLE: &str = "regroup-emulator-role";

/// A fleet key, an STS key, an OIDC token for [`ROLE`] and `instances`
/// instances to move into prod; commands run with no credentials at all,
/// HOME in the test's folder, and no metadata server.
fn start(instances: usize, settings: Settings) -> Running {
    Setup::new()
        .key(KEY_ID, SECRET, None)
        .key(STS_KEY, STS_SECRET, Some(STS_TOKEN))
        .oidc_token(OIDC_TOKEN, ROLE, PROVIDER)
        .instances(instances)
        .emulator(|s| {
            *s = Settings {
                record_requests: true,
                ..settings
            }
        })
        .manifest(ALL_INTO_PROD)
        .without_env_keys()
        .start()
}

/// What configuring the credential sources takes of the test's folder and
/// emulator.
trait Sources {
    fn with_metadata(&self, command: &mut Command);
    fn cli_profile(&self, profile: &str);
    fn ini(&self, section: &str);
    fn token_file(&self) -> PathBuf;
    fn signers(&self) -> Vec<String>;
    fn succeeded(&self, action: &str) -> usize;
    fn issued_secrets(&self) -> Vec<String>;
}

impl Sources for Running {
    /// The metadata server is the emulator's, at the same address.
    fn with_metadata(&self, command: &mut Command) {
        command
            .env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
            .env("REGROUP_METADATA_ENDPOINT", self.emulator.url());
    }

    fn cli_profile(&self, profile: &str) {
        self.write(
            ".aliyun/config.json",
            &format!(r#"{{"current": "main", "profiles": [{profile}]}}"#),
        );
    }

    fn ini(&self, section: &str) {
        self.write(
            ".alibabacloud/credentials",
            &format!("[default]\n{section}"),
        );
    }

    fn token_file(&self) -> PathBuf {
        self.write("oidc-token", OIDC_TOKEN)
    }

    /// The keys that signed reads and writes, and how many times each
    /// fetch action succeeded.
    fn signers(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .requests()
            .iter()
            .filter(|r| r.action.starts_with("Describe") || r.action == "JoinResourceGroup")
            .filter_map(|r| r.params.get("AccessKeyId").cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    fn succeeded(&self, action: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == action && r.status == 200)
            .count()
    }

    /// The secrets and tokens of every key the emulator issued.
    fn issued_secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        self.edit(|account| {
            for issued in account.issued_keys.values() {
                secrets.push(issued.key.secret.clone());
                secrets.extend(issued.key.security_token.clone());
            }
        });
        secrets
    }
}

/// How the calls of a source are signed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Signed {
    /// With this fleet key.
    By(&'static str),
    /// With a key the emulator issued, after this many fetches by `action`.
    Issued(&'static str, usize),
}

/// One credential source: its name and how to configure it.
type Configure = fn(&Running, &mut Command);

const ASSUMED: Signed = Signed::Issued("AssumeRole", 1);
const OIDC: Signed = Signed::Issued("AssumeRoleWithOIDC", 1);
const METADATA: Signed = Signed::Issued("metadata credentials", 1);

#[rustfmt::skip]
const SOURCES: &[(&str, Configure, Signed)] = &[
    ("env_keys", env_keys, Signed::By(KEY_ID)),
    ("env_sts_token", env_sts_token, Signed::By(STS_KEY)),
    ("oidc_env", oidc_env, OIDC),
    ("cli_ak", cli_ak, Signed::By(KEY_ID)),
    ("cli_sts_token", cli_sts_token, Signed::By(STS_KEY)),
    ("cli_ram_role_arn", cli_ram_role_arn, ASSUMED),
    ("cli_chainable", cli_chainable, Signed::Issued("AssumeRole", 2)),
    ("cli_ecs_ram_role", cli_ecs_ram_role, METADATA),
    ("cli_oidc", cli_oidc, OIDC),
    ("cli_credentials_uri", cli_credentials_uri, METADATA),
    ("cli_external", cli_external, Signed::By(STS_KEY)),
    ("ini_access_key", ini_access_key, Signed::By(KEY_ID)),
    ("ini_ram_role_arn", ini_ram_role_arn, ASSUMED),
    ("ini_ecs_ram_role", ini_ecs_ram_role, METADATA),
    ("ini_oidc_role_arn", ini_oidc_role_arn, OIDC),
    ("ecs_metadata", ecs_metadata, METADATA),
    ("credentials_uri_env", credentials_uri_env, METADATA),
];

fn env_keys(_: &Running, c: &mut Command) {
    c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET);
}

fn env_sts_token(_: &Running, c: &mut Command) {
    c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", STS_KEY)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", STS_SECRET)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN);
}

fn oidc_env(env: &Running, c: &mut Command) {
    c.env("ALIBABA_CLOUD_ROLE_ARN", ROLE)
        .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", PROVIDER)
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", env.token_file())
        .env("ALIBABA_CLOUD_ROLE_SESSION_NAME", "oidc-env");
}

fn cli_ak(env: &Running, _: &mut Command) {
    env.cli_profile(&format!(
        r#"{{"name": "main", "mode": "AK", "access_key_id": "{KEY_ID}", "access_key_secret": "{SECRET}"}}"#
    ));
}

fn cli_sts_token(env: &Running, _: &mut Command) {
    env.cli_profile(&format!(
        r#"{{"name": "main", "mode": "StsToken", "access_key_id": "{STS_KEY}", "access_key_secret": "{STS_SECRET}", "sts_token": "{STS_TOKEN}"}}"#
    ));
}

fn role_profile(name: &str, session: &str) -> String {
    format!(
        r#"{{"name": "{name}", "mode": "RamRoleArn", "access_key_id": "{KEY_ID}", "access_key_secret": "{SECRET}", "ram_role_arn": "{ROLE}", "ram_session_name": "{session}", "expired_seconds": 900}}"#
    )
}

fn cli_ram_role_arn(env: &Running, _: &mut Command) {
    env.cli_profile(&role_profile("main", "cli-role"));
}

fn cli_chainable(env: &Running, _: &mut Command) {
    env.cli_profile(&format!(
        r#"{}, {{"name": "main", "mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": "acs:ram::{ACCOUNT}:role/audit", "ram_session_name": "chained"}}"#,
        role_profile("base", "base")
    ));
}

fn cli_ecs_ram_role(env: &Running, c: &mut Command) {
    env.with_metadata(c);
    env.cli_profile(&format!(
        r#"{{"name": "main", "mode": "EcsRamRole", "ram_role_name": "{INSTANCE_ROLE}"}}"#
    ));
}

fn cli_oidc(env: &Running, _: &mut Command) {
    env.cli_profile(&format!(
        r#"{{"name": "main", "mode": "OIDC", "ram_role_arn": "{ROLE}", "oidc_provider_arn": "{PROVIDER}", "oidc_token_file": "{}", "ram_session_name": "cli-oidc"}}"#,
        env.token_file().display()
    ));
}

/// The credentials-URI body has the metadata document's fields (§6 of
/// docs/sources/credentials.md), so the emulator's metadata path serves it.
fn uri(env: &Running) -> String {
    format!(
        "{}/latest/meta-data/ram/security-credentials/{INSTANCE_ROLE}",
        env.emulator.url()
    )
}

fn cli_credentials_uri(env: &Running, _: &mut Command) {
    env.cli_profile(&format!(
        r#"{{"name": "main", "mode": "CredentialsURI", "credentials_uri": "{}"}}"#,
        uri(env)
    ));
}

fn cli_external(env: &Running, _: &mut Command) {
    let script = env.write(
        "get-keys.sh",
        &format!(
            "printf '%s' '{{\"mode\": \"StsToken\", \"access_key_id\": \"{STS_KEY}\", \"access_key_secret\": \"{STS_SECRET}\", \"sts_token\": \"{STS_TOKEN}\"}}'\n"
        ),
    );
    env.cli_profile(&format!(
        r#"{{"name": "main", "mode": "External", "process_command": "sh '{}'"}}"#,
        script.display()
    ));
}

fn ini_access_key(env: &Running, _: &mut Command) {
    env.ini(&format!(
        "type = access_key\naccess_key_id = {KEY_ID}\naccess_key_secret = {SECRET}\n"
    ));
}

fn ini_ram_role_arn(env: &Running, _: &mut Command) {
    env.ini(&format!("type = ram_role_arn\naccess_key_id = {KEY_ID}\naccess_key_secret = {SECRET}\nrole_arn = {ROLE}\nrole_session_name = ini-role\n"));
}

fn ini_ecs_ram_role(env: &Running, c: &mut Command) {
    env.with_metadata(c);
    env.ini("type = ecs_ram_role\n");
}

fn ini_oidc_role_arn(env: &Running, _: &mut Command) {
    env.ini(&format!(
        "type = oidc_role_arn\nrole_arn = {ROLE}\noidc_provider_arn = {PROVIDER}\noidc_token_file_path = {}\nrole_session_name = ini-oidc\n",
        env.token_file().display()
    ));
}

fn ecs_metadata(env: &Running, c: &mut Command) {
    env.with_metadata(c);
}

fn credentials_uri_env(env: &Running, c: &mut Command) {
    c.env("ALIBABA_CLOUD_CREDENTIALS_URI", uri(env));
}

/// Plans with source `name` and checks who signed the calls.
fn plan_with(name: &str) {
    let (_, configure, signed) = SOURCES.iter().find(|s| s.0 == name).unwrap();
    let env = start(2, Settings::default());
    let mut plan = env.regroup(&["plan", "--detailed-exitcode"]);
    configure(&env, &mut plan);
    let (code, out, err) = stdout_of(plan);
    assert_eq!(code, 2, "{name}: {out}{err}");
    assert!(out.contains("2 to move"), "{name}: {out}");
    let signers = env.signers();
    match *signed {
        Signed::By(key) => assert_eq!(signers, [key], "{name}"),
        Signed::Issued(action, fetches) => {
            assert_eq!(signers.len(), 1, "{name}: {signers:?}");
            assert!(signers[0].starts_with("STS."), "{name}: {signers:?}");
            assert!(
                signers[0] != STS_KEY,
                "{name}: an issued key, not the fleet's"
            );
            assert_eq!(env.succeeded(action), fetches, "{name}: {action}");
        }
    }
}

#[test]
fn plan_with_env_keys() {
    plan_with("env_keys");
}
#[test]
fn plan_with_env_sts_token() {
    plan_with("env_sts_token");
}
#[test]
fn plan_with_oidc_env() {
    plan_with("oidc_env");
}
#[test]
fn plan_with_cli_ak() {
    plan_with("cli_ak");
}
#[test]
fn plan_with_cli_sts_token() {
    plan_with("cli_sts_token");
}
#[test]
fn plan_with_cli_ram_role_arn() {
    plan_with("cli_ram_role_arn");
}
#[test]
fn plan_with_cli_chainable_ram_role_arn() {
    plan_with("cli_chainable");
}
#[test]
fn plan_with_cli_ecs_ram_role() {
    plan_with("cli_ecs_ram_role");
}
#[test]
fn plan_with_cli_oidc() {
    plan_with("cli_oidc");
}
#[test]
fn plan_with_cli_credentials_uri() {
    plan_with("cli_credentials_uri");
}
#[test]
fn plan_with_cli_external_process() {
    plan_with("cli_external");
}
#[test]
fn plan_with_ini_access_key() {
    plan_with("ini_access_key");
}
#[test]
fn plan_with_ini_ram_role_arn() {
    plan_with("ini_ram_role_arn");
}
#[test]
fn plan_with_ini_ecs_ram_role() {
    plan_with("ini_ecs_ram_role");
}
#[test]
fn plan_with_ini_oidc_role_arn() {
    plan_with("ini_oidc_role_arn");
}
#[test]
fn plan_with_the_ecs_metadata_server() {
    plan_with("ecs_metadata");
}
#[test]
fn plan_with_a_credentials_uri() {
    plan_with("credentials_uri_env");
}

#[test]
fn an_absent_current_profile_falls_through_to_the_ini_file() {
    let env = start(2, Settings::default());
    env.write(
        ".aliyun/config.json",
        r#"{"current": "gone", "profiles": [{"name": "other", "mode": "AK", "access_key_id": "x", "access_key_secret": "y"}]}"#,
    );
    ini_access_key(&env, &mut env.regroup(&[]));
    let (code, out, err) = stdout_of(env.regroup(&["whoami", "-v"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no profile named `gone`"), "{out}");
    assert!(out.contains("Credentials: credentials file"), "{out}");
    assert_eq!(
        env.signers(),
        Vec::<String>::new(),
        "no call is signed when no credentials are found"
    );
}

#[test]
fn a_role_with_a_bad_source_key_names_the_profile_and_the_sts_error() {
    let env = start(2, Settings::default());
    env.cli_profile(&role_profile("main", "bad").replace(KEY_ID, "LTAInotinthefleet"));
    let (code, _, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert!(
        err.contains("aliyun CLI profile `main`")
            && err.contains(&format!("AssumeRole {ROLE}"))
            && err.contains("InvalidAccessKeyId.NotFound"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");
}

#[test]
fn some_oidc_variables_without_the_others_say_which_are_missing() {
    let env = start(1, Settings::default());
    let mut plan = env.regroup(&["plan"]);
    plan.env("ALIBABA_CLOUD_ROLE_ARN", ROLE);
    let (code, _, err) = stdout_of(plan);
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(&err, "Error: OIDC: ALIBABA_CLOUD_ROLE_ARN set, but ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE missing; OIDC needs all three");
    assert_no_calls(&env.emulator.requests());
}

/// No credentials anywhere: exit 1 with every reason, and not one request
/// (metadata disabled, as in every harness).
#[test]
fn no_credentials_at_all_fail_without_a_request() {
    let env = start(1, Settings::default());
    let (code, out, err) = stdout_of(env.regroup(&["whoami"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("no credentials found")
            && err.contains("ALIBABA_CLOUD_ECS_METADATA_DISABLED is true"),
        "{err}"
    );
    assert_no_calls(&env.emulator.requests());
}

/// No credentials, and something answering at the metadata address that
/// is no metadata server (the emulator under a path it does not serve):
/// the error is the chain's list of reasons, not the server's HTTP status.
#[test]
fn a_metadata_address_that_names_no_role_ends_in_the_list_of_reasons() {
    let env = start(1, Settings::default());
    let not_metadata = format!("{}/not-metadata", env.emulator.url());
    let (code, out, err) = stdout_of(
        env.regroup(&["whoami"])
            .env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
            .env("REGROUP_METADATA_ENDPOINT", &not_metadata),
    );
    assert_eq!(code, 1, "{out}");
    let shown = err.replace(&env.home().display().to_string(), "[HOME]");
    assert_eq!(
        shown,
        format!(
            "Error: no credentials found; looked in:
  - environment: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set
  - environment: ALIBABACLOUD_ACCESS_KEY_ID and ALIBABACLOUD_ACCESS_KEY_SECRET are not set
  - environment: ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY are not set
  - OIDC: ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE are not set
  - aliyun CLI profile: [HOME]/.aliyun/config.json does not exist
  - credentials file: ~/.alibabacloud/credentials (or credentials.ini) does not exist
  - ECS RAM role: a server answers at {not_metadata} but names no RAM role (the role listing answered HTTP 400): not an ECS instance with a role attached
  - credentials URI: ALIBABA_CLOUD_CREDENTIALS_URI is not set
"
        ),
        "the chain's list, with what the metadata address answered"
    );
}

/// `whoami` for each source: a stable text once the test's folder, the
/// emulator's address and issued key ids are masked.
#[test]
fn whoami_names_the_source_and_the_identity() {
    for (name, configure, _) in SOURCES {
        let env = start(1, Settings::default());
        let mut whoami = env.regroup(&["whoami", "-v"]);
        configure(&env, &mut whoami);
        let (code, out, err) = stdout_of(whoami);
        assert_eq!(code, 0, "{name}: {err}");
        let shown = out
            .replace(&env.home().display().to_string(), "[HOME]")
            .replace(&env.emulator.url(), "[EMULATOR]");
        let shown = mask_issued_keys(&shown);
        insta::assert_snapshot!(format!("whoami_{name}"), shown);
    }
}

/// Issued key ids are random: `STS.…abcd` becomes `STS.…[id]`, except the
/// fleet's own STS key.
fn mask_issued_keys(text: &str) -> String {
    let fleet_tail = &STS_KEY[STS_KEY.len() - 4..];
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("STS.…") {
        let (before, after) = rest.split_at(at + "STS.…".len());
        out.push_str(before);
        let tail: String = after.chars().take(4).collect();
        out.push_str(if tail == fleet_tail { &tail } else { "[id]" });
        rest = &after[tail.len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn no_secret_or_token_reaches_any_output_at_vvv() {
    for (name, configure, _) in SOURCES {
        let env = start(2, Settings::default());
        let mut seen = String::new();
        for args in [&["plan", "-vvv"][..], &["whoami", "-vvv"]] {
            let mut command = env.regroup(args);
            command.env("RUST_LOG", "trace");
            configure(&env, &mut command);
            let (code, out, err) = stdout_of(command);
            assert_eq!(code, 0, "{name} {args:?}: {err}");
            assert!(err.contains("call"), "{name}: -vvv logs each call");
            seen.push_str(&out);
            seen.push_str(&err);
        }
        let mut secrets = env.issued_secrets();
        secrets.extend([SECRET, STS_SECRET, STS_TOKEN, OIDC_TOKEN].map(String::from));
        for secret in secrets {
            assert!(!seen.contains(&secret), "{name}: `{secret}` leaked");
        }
    }
}

/// Keys that live 3 s, an apply that takes several lifetimes: every
/// refresh happens once (each fetched key signs calls), nothing fails.
/// The 2,000-move run with `--sts-ttl 5s` is in docs/credentials.md.
#[test]
fn an_apply_longer_than_its_keys_refreshes_them_and_fails_nothing() {
    let env = start(
        240,
        Settings {
            sts_ttl: Some(std::time::Duration::from_secs(3)),
            ..Settings::default()
        },
    );
    cli_ram_role_arn(&env, &mut env.regroup(&[]));
    apply_all_with_report(&env, &["--rate", "24", "--parallelism", "8"], 240);
    let fetches = env.succeeded("AssumeRole");
    assert!(
        fetches >= 3,
        "{fetches} AssumeRole calls for a 10 s apply of 3 s keys"
    );
    let signers = env.signers();
    assert_eq!(
        signers.len(),
        fetches,
        "each fetched key signed calls, so none was fetched twice: {signers:?}"
    );
}
