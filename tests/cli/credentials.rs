//! Credentials: wrong keys, secrets kept out of output and files, OIDC.

use crate::harness::{assert_has_line, stdout_of, Setup, EXAMPLE, TWO_INTO_PROD};
use assert_cmd::Command;

#[test]
fn a_wrong_secret_is_a_clear_error_and_writes_nothing() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, out, err) = stdout_of(
        env.regroup(&["apply", "--auto-approve"])
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret"),
    );
    assert_eq!(code, 1, "{out}{err}");
    // One line: the code, the hint, and not the server's string to sign.
    let (line, request_id) = err
        .trim_end()
        .rsplit_once(", request id ")
        .expect("the error names its request");
    assert_eq!(
        line,
        "Error: ListResourceGroups: SignatureDoesNotMatch: Specified signature is not matched with our calculation; \
         hint: check the AccessKey secret, which does not match the AccessKey ID \
         (`regroup whoami -v` says where the credentials come from) (HTTP 400",
        "the whole error: {err}"
    );
    assert!(!request_id.contains('\n'), "one line: {err}");
    assert!(!err.contains("not-the-secret"), "the secret leaked: {err}");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
    assert_eq!(
        env.group_of("i-bp1test00000"),
        "rg-default",
        "i-bp1test00000 should end in rg-default"
    );
}

/// A loopback address where nothing listens: the port was free a moment
/// ago, and its listener is closed.
fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// Logging (issue 24 item 10): at the default verbosity the circuit
/// breaker's warning reads like the `Error:` line after it, not like a log
/// line (no timestamp, no `WARN`).
#[test]
fn a_warning_at_the_default_verbosity_reads_like_the_error_lines() {
    let env = Setup::new().instances(1).manifest(TWO_INTO_PROD).start();
    let closed = closed_endpoint();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]).env("REGROUP_ENDPOINT", &closed));
    assert_eq!(code, 1, "{out}{err}");
    let warning = format!(
        "Warning: the endpoint stopped answering: no more calls start there (endpoint: {closed}, failures: 5)"
    );
    assert!(
        err.lines().any(|line| line == warning),
        "the breaker's warning, in the command's voice: {err}"
    );
    assert!(
        err.lines()
            .all(|line| line.starts_with("Warning: ") || line.starts_with("Error: ")),
        "no log-formatted line among the errors: {err}"
    );
}

/// Policy (issue 29): `policy --for history` grants what `history` calls,
/// in the manifest's region, and a key denied it is told that option.
#[test]
fn policy_for_history_grants_lookup_events_and_a_denial_names_it() {
    let env = Setup::new()
        .instances(2)
        .deny(&["actiontrail:LookupEvents"])
        .manifest(TWO_INTO_PROD)
        .start();
    let (code, out, err) = stdout_of(env.regroup(&["policy", "--for", "history"]));
    assert_eq!(code, 0, "{err}");
    let policy: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        policy["Statement"][1],
        serde_json::json!({
            "Effect": "Allow",
            "Action": ["actiontrail:LookupEvents"],
            "Resource": ["acs:actiontrail:cn-hangzhou:*:*"]
        }),
        "{out}"
    );
    let (_, default, _) = stdout_of(env.regroup(&["policy"]));
    assert!(
        !default.contains("actiontrail"),
        "the default policy grants no ActionTrail: {default}"
    );
    let (code, out, err) = stdout_of(env.regroup(&[
        "history",
        "instance/i-bp1test00000",
        "--region",
        "cn-hangzhou",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("actiontrail:LookupEvents")
            && err.contains("hint: grant it in RAM (`regroup policy -f MANIFEST --for history`"),
        "{err}"
    );
}

#[test]
fn secrets_never_reach_output_errors_or_files() {
    const SECRET_VALUE: &str = "SECRET-d0n7-l3ak";
    const TOKEN_VALUE: &str = "TOKEN-n3v3r-pr1nt";
    const PASSWORD: &str = "PASSW0RD-1n-ur1";
    let env = Setup::new()
        .instances(3)
        .key("STS.leaktest", SECRET_VALUE, Some(TOKEN_VALUE))
        .manifest(TWO_INTO_PROD)
        // Faults, so that retries are logged too; seeded, so that no call
        // fails all its tries by chance (faults are a function of the seed
        // and the request).
        .emulator(|s| {
            s.fault_rate = 0.3;
            s.seed = Some(7);
        })
        .start();
    let plan = env.path("plan.json");
    let report = env.path("report.json");
    let mut seen = String::new();
    for args in [
        vec!["plan", "-vvv", "-o", plan.to_str().unwrap()],
        vec![
            "apply",
            "-vvv",
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ],
    ] {
        let (code, out, err) = stdout_of(
            env.regroup(&args)
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.leaktest")
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET_VALUE)
                .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN_VALUE)
                .env("RUST_LOG", "trace"),
        );
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(err.contains("call"), "-vvv logs each call: {err}");
        seen.push_str(&out);
        seen.push_str(&err);
    }
    seen.push_str(&std::fs::read_to_string(plan).unwrap());
    seen.push_str(&std::fs::read_to_string(report).unwrap());

    // A wrong secret with an STS key: the server echoes its string to
    // sign, which holds the token; `-v` logs it, with the token masked.
    let (code, out, err) = stdout_of(
        env.regroup(&["plan", "-v"])
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.leaktest")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN_VALUE),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(err.contains("SecurityToken%3D***"), "{err}");
    seen.push_str(&out);
    seen.push_str(&err);

    // A password in the endpoint's URL: in the exported manifest's header,
    // in an endpoint that is refused, and in one that does not answer.
    let with_password = |url: &str| url.replacen("://", &format!("://user:{PASSWORD}@"), 1);
    let emulator = with_password(&env.emulator.url());
    let (code, out, err) = stdout_of(
        env.regroup(&["export", "--region", "cn-hangzhou"])
            .env("REGROUP_ENDPOINT", &emulator),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("from http://***@127.0.0.1:"), "{out}");
    seen.push_str(&out);
    seen.push_str(&err);
    let closed = closed_endpoint();
    for endpoint in [with_password("http://10.0.0.1"), with_password(&closed)] {
        let (code, out, err) = stdout_of(
            env.regroup(&["plan", "--max-tries", "1"])
                .env("REGROUP_ENDPOINT", &endpoint),
        );
        assert_eq!(code, 1, "{endpoint}: {out}{err}");
        // The error names the endpoint, never with its password.
        assert!(
            err.contains("127.0.0.1") || err.contains("10.0.0.1"),
            "{endpoint}: {err}"
        );
        seen.push_str(&out);
        seen.push_str(&err);
    }
    assert!(!seen.contains(SECRET_VALUE), "the secret leaked");
    assert!(!seen.contains(TOKEN_VALUE), "the token leaked");
    assert!(!seen.contains(PASSWORD), "the URL's password leaked");
}

#[test]
fn oidc_credentials_work_end_to_end() {
    let env = Setup::new()
        .instances(2)
        .oidc_token(
            "gh-actions-token",
            "acs:ram::1:role/ci",
            "acs:ram::1:oidc-provider/gh",
        )
        .manifest(TWO_INTO_PROD)
        .start();
    let token = env.path("oidc-token");
    std::fs::write(&token, "gh-actions-token").unwrap();
    let oidc = |command: &mut Command| {
        command
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/ci")
            .env(
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                "acs:ram::1:oidc-provider/gh",
            )
            .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token);
    };
    let mut apply = env.regroup(&["apply", "--auto-approve"]);
    oidc(&mut apply);
    let (code, out, err) = stdout_of(apply);
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Apply complete! 2 moved, 0 failed.");

    std::fs::write(&token, "someone-elses-token").unwrap();
    let mut plan = env.regroup(&["plan"]);
    oidc(&mut plan);
    let (code, _, err) = stdout_of(plan);
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert!(
        err.contains("AuthenticationFail.OIDCToken.Invalid"),
        "{err}"
    );
}

#[test]
fn the_aliyun_clis_environment_names_and_cached_cloudsso_keys_work() {
    use crate::harness::{KEY_ID, SECRET};
    let env = Setup::new()
        .example_fleet()
        .key("STS.sso", "sso-secret", Some("sso-token"))
        .without_env_keys()
        .start();
    let mut command = env.regroup(&["whoami", "-v"]);
    command
        .env("ALIBABACLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABACLOUD_ACCESS_KEY_SECRET", SECRET);
    let (code, _, err) = crate::harness::stdout_of(command);
    assert_eq!(
        code, 0,
        "ALIBABACLOUD_* names, as the aliyun CLI reads them: {err}"
    );
    assert!(
        err.contains("environment (ALIBABACLOUD_ACCESS_KEY_ID)"),
        "{err}"
    );

    // A CloudSSO profile as `aliyun` leaves it after a sign-in: its cached
    // temporary key, valid for an hour more.
    let expires = chrono::Utc::now().timestamp() + 3_600;
    let profile = |expiration: i64| {
        format!(
            r#"{{"current": "sso", "profiles": [{{"name": "sso", "mode": "CloudSSO",
            "cloud_sso_sign_in_url": "https://signin-cn-shanghai.alibabacloudsso.com/d-1/login",
            "cloud_sso_account_id": "1", "cloud_sso_access_config": "ac-1",
            "access_key_id": "STS.sso", "access_key_secret": "sso-secret", "sts_token": "sso-token",
            "sts_expiration": {expiration}}}]}}"#
        )
    };
    env.write(".aliyun/config.json", &profile(expires));
    let (code, _, err) = env.run(&["plan", "-f", EXAMPLE, "--profile", "sso"]);
    assert_eq!(code, 0, "a valid cached CloudSSO key is used: {err}");
    env.write(".aliyun/config.json", &profile(expires - 7_200));
    let (code, _, err) = env.run(&["plan", "-f", EXAMPLE, "--profile", "sso"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("profile `sso` is a CloudSSO profile whose cached temporary key has expired")
            && err.contains("aliyun configure --profile sso")
            && !err.contains("not found"),
        "an expired CloudSSO key says what to run: {err}"
    );
}

#[test]
fn metadata_disabled_holds_for_an_ecs_ram_role_cli_profile() {
    let env = Setup::new().without_env_keys().start();
    env.write(
        ".aliyun/config.json",
        r#"{"current": "main", "profiles": [{"name": "main", "mode": "EcsRamRole", "ram_role_name": "instance-role"}]}"#,
    );
    // The metadata server the profile would ask is the emulator's, so a
    // call to it would be logged; the harness sets
    // ALIBABA_CLOUD_ECS_METADATA_DISABLED=true.
    let (code, out, err) = stdout_of(
        env.regroup(&["whoami", "--max-tries", "1"])
            .env("REGROUP_METADATA_ENDPOINT", env.emulator.url()),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("ALIBABA_CLOUD_ECS_METADATA_DISABLED=true forbids"),
        "{err}"
    );
    assert!(
        env.requests().is_empty(),
        "the metadata address was contacted: {:?}",
        env.requests().iter().map(|r| &r.action).collect::<Vec<_>>()
    );
}
