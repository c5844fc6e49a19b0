//! Drives the real `regroup` binary against an in-process emulator on
//! 127.0.0.1:0. [`Setup`] builds the account and the manifest; each test
//! then runs commands and looks at their output, their exit code and the
//! emulator's state and request log.

use std::path::PathBuf;

use assert_cmd::Command;
use regroup::emulator::fleet::{AccessKey, Fleet, FleetGroup, FleetResource, OidcToken};
use regroup::emulator::{Emulator, LoggedRequest, Settings};
use regroup::resource::ResourceType;

const KEY_ID: &str = "testid";
const SECRET: &str = "testsecret";

/// Builds an account and a manifest for one test.
struct Setup {
    fleet: Fleet,
    manifest: String,
    settings: Settings,
}

impl Setup {
    /// An account with groups `default`, `prod`, `legacy` and `dev`, and no
    /// resources yet.
    fn new() -> Setup {
        let group = |id: &str, name: &str, default: bool| FleetGroup {
            id: id.into(),
            name: name.into(),
            default,
            display_name: None,
        };
        Setup {
            fleet: Fleet {
                account_id: "1234567890123456".into(),
                access_keys: vec![AccessKey {
                    id: KEY_ID.into(),
                    secret: SECRET.into(),
                    security_token: None,
                }],
                resource_groups: vec![
                    group("rg-default", "default", true),
                    group("rg-prod", "prod", false),
                    group("rg-legacy", "legacy", false),
                    group("rg-dev", "dev", false),
                ],
                resources: Vec::new(),
                oidc_tokens: Vec::new(),
            },
            manifest: String::new(),
            settings: Settings {
                record_requests: true,
                ..Settings::default()
            },
        }
    }

    /// Adds a resource in cn-hangzhou, in `group` (`None`: the default).
    fn resource(mut self, rtype: ResourceType, id: &str, group: Option<&str>) -> Setup {
        self.fleet.resources.push(FleetResource {
            rtype,
            id: id.into(),
            region: "cn-hangzhou".into(),
            name: format!("{id}-name"),
            group: group.map(str::to_owned),
            tags: Default::default(),
            status: None,
            owner: None,
        });
        self
    }

    /// Adds `count` instances `i-bp1test<n>` to the default group.
    fn instances(mut self, count: usize) -> Setup {
        for n in 0..count {
            self = self.resource(ResourceType::Instance, &format!("i-bp1test{n:05}"), None);
        }
        self
    }

    /// Changes how the emulator behaves (rate limit, faults, …).
    fn emulator(mut self, change: impl FnOnce(&mut Settings)) -> Setup {
        change(&mut self.settings);
        self
    }

    /// Adds an access key; with a token, an STS key.
    fn key(mut self, id: &str, secret: &str, token: Option<&str>) -> Setup {
        self.fleet.access_keys.push(AccessKey {
            id: id.into(),
            secret: secret.into(),
            security_token: token.map(str::to_owned),
        });
        self
    }

    /// An OIDC token that `AssumeRoleWithOIDC` accepts for `role`.
    fn oidc_token(mut self, token: &str, role: &str, provider: &str) -> Setup {
        self.fleet.oidc_tokens.push(OidcToken {
            token: token.into(),
            role_arn: role.into(),
            provider_arn: provider.into(),
        });
        self
    }

    fn manifest(mut self, text: &str) -> Setup {
        self.manifest = text.to_owned();
        self
    }

    fn start(self) -> Running {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let emulator = runtime
            .block_on(Emulator::start(
                self.fleet,
                self.settings,
                "127.0.0.1:0".parse().unwrap(),
            ))
            .expect("the emulator starts");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let manifest = dir.path().join("regroup.yaml");
        std::fs::write(&manifest, self.manifest).expect("the manifest is written");
        Running {
            runtime,
            emulator,
            dir,
            manifest,
        }
    }
}

/// A running emulator with a manifest beside it.
struct Running {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    dir: tempfile::TempDir,
    manifest: PathBuf,
}

impl Running {
    /// `regroup ARGS` against the emulator, in a scrubbed environment whose
    /// HOME is the test's folder.
    fn regroup(&self, args: &[&str]) -> Command {
        let mut command = Command::cargo_bin("regroup").expect("the binary is built");
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .env("REGROUP_ENDPOINT", self.emulator.url())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(self.dir.path())
            .arg("-f")
            .arg(&self.manifest)
            .args(args);
        command
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    fn writes(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == "JoinResourceGroup")
            .count()
    }

    fn group_of(&self, id: &str) -> String {
        let fleet = self.runtime.block_on(self.emulator.snapshot());
        let resource = fleet
            .resources
            .iter()
            .find(|r| r.id == id)
            .expect("the resource exists");
        resource
            .group
            .clone()
            .unwrap_or_else(|| "rg-default".into())
    }
}

/// Runs a command: its exit code, stdout and stderr.
fn stdout_of(mut command: impl std::borrow::BorrowMut<Command>) -> (i32, String, String) {
    let output = command.borrow_mut().output().expect("regroup runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const TWO_INTO_PROD: &str = "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1test00000\n      - instance/i-bp1test00001\n";

#[test]
fn plan_apply_then_nothing_left_to_do() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();

    let (code, out, _) = stdout_of(env.regroup(&["plan", "--detailed-exitcode"]));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("~ instance/i-bp1test00000 (cn-hangzhou)  default → prod"),
        "{out}"
    );
    assert!(
        out.contains("~ instance/i-bp1test00001 (cn-hangzhou)  default → prod"),
        "{out}"
    );
    assert!(!out.contains("i-bp1test00002"), "{out}");
    assert!(out.ends_with("Plan: 2 to move, 0 unchanged.\n"), "{out}");
    assert_eq!(env.writes(), 0, "plan never writes");

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Apply complete! 2 moved, 0 failed."), "{out}");
    assert_eq!(env.group_of("i-bp1test00000"), "rg-prod");
    assert_eq!(env.group_of("i-bp1test00001"), "rg-prod");
    assert_eq!(env.group_of("i-bp1test00002"), "rg-default");

    let (code, out, _) = stdout_of(env.regroup(&["plan", "--detailed-exitcode"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("No changes."), "{out}");
}

#[test]
fn ids_are_read_in_batches_of_a_hundred() {
    let mut manifest =
        String::from("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n");
    for n in 0..250 {
        manifest.push_str(&format!("      - instance/i-bp1test{n:05}\n"));
    }
    let env = Setup::new().instances(300).manifest(&manifest).start();
    let (code, out, _) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Plan: 250 to move, 0 unchanged."), "{out}");
    let reads = env
        .requests()
        .iter()
        .filter(|r| r.action == "DescribeInstances")
        .count();
    assert_eq!(reads, 3);
}

#[test]
fn a_wrong_secret_is_a_clear_error_and_writes_nothing() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, out, err) = stdout_of(
        env.regroup(&["apply", "--auto-approve"])
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret"),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.starts_with("Error: "), "{err}");
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains("not-the-secret"), "the secret leaked: {err}");
    assert_eq!(env.writes(), 0);
    assert_eq!(env.group_of("i-bp1test00000"), "rg-default");
}

#[test]
fn an_unknown_group_name_lists_the_closest_and_writes_nothing() {
    let env = Setup::new()
        .instances(1)
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prd:\n    resources: [instance/i-bp1test00000]\n")
        .start();
    let (code, _, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "regroup.yaml:4:3: no resource group has the id or name `prd`; closest names: prod"
        ),
        "{err}"
    );
    assert_eq!(env.writes(), 0);
}

#[test]
fn a_malformed_manifest_makes_no_call_at_all() {
    let env = Setup::new()
        .instances(1)
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/d-bp1test00000]\n")
        .start();
    for command in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        let (code, _, err) = stdout_of(env.regroup(command));
        assert_eq!(code, 1, "{command:?}: {err}");
        assert!(
            err.contains("regroup.yaml:5:17: groups.prod.resources[0]: `d-bp1test00000` is not a instance id"),
            "{command:?}: {err}"
        );
    }
    assert!(env.requests().is_empty(), "{:?}", env.requests());
}

#[test]
fn validate_needs_no_credentials() {
    let env = Setup::new().manifest(TWO_INTO_PROD).start();
    let (code, out, err) = stdout_of(
        env.regroup(&["validate"])
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env_remove("REGROUP_ENDPOINT"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("is valid: 1 groups, 2 explicit resources, 0 select rules."),
        "{out}"
    );
}

#[test]
fn the_emulator_runs_one_command_against_the_example_fleet() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut command = Command::cargo_bin("regroup").unwrap();
    command
        .env_clear()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["emulator", "--fleet"])
        .arg(examples.join("fleet.yaml"))
        .args(["--", "plan", "-f"])
        .arg(examples.join("regroup.yaml"));
    let (code, out, err) = stdout_of(command);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Plan: 10 to move, 0 unchanged."), "{out}");
}

/// Starts `regroup emulator` as its own process and returns it with its URL.
fn spawn_emulator(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("regroup"))
        .arg("emulator")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the emulator starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let first = std::io::BufReader::new(stderr)
        .lines()
        .next()
        .expect("a line")
        .expect("text");
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first}"))
        .to_owned();
    (child, url)
}

#[test]
fn sigkill_during_a_burst_of_joins_leaves_a_loadable_state() {
    let dir = tempfile::tempdir().unwrap();
    let fleet_path = dir.path().join("fleet.yaml");
    let state = dir.path().join("state.json");
    let mut fleet = Setup::new().instances(400).fleet;
    fleet.resources.iter_mut().for_each(|r| r.group = None);
    std::fs::write(&fleet_path, serde_yaml::to_string(&fleet).unwrap()).unwrap();
    let (mut child, url) = spawn_emulator(&[
        "--fleet",
        fleet_path.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]);

    let mut manifest = String::from("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: instance\n");
    manifest.push('\n');
    std::fs::write(dir.path().join("regroup.yaml"), &manifest).unwrap();
    let apply = std::process::Command::new(assert_cmd::cargo::cargo_bin("regroup"))
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args([
            "apply",
            "--auto-approve",
            "--parallelism",
            "16",
            "--endpoint",
            &url,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once some moves are saved, while others are in flight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let saved = std::fs::read_to_string(&state).unwrap_or_default();
        if saved.matches("rg-prod").count() > 20 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut apply = apply;
    let _ = apply.kill();
    let _ = apply.wait();

    let saved = Fleet::load(&state).expect("the state file loads after SIGKILL");
    assert_eq!(saved.resources.len(), 400);
    let moved = saved
        .resources
        .iter()
        .filter(|r| r.group.as_deref() == Some("rg-prod"))
        .count();
    assert!(moved >= 20, "{moved} moves were saved");
    assert!(saved
        .resources
        .iter()
        .all(|r| r.group.is_none() || r.group.as_deref() == Some("rg-prod")));
}

/// Every instance `i-bp1test*` into prod, by rule.
const ALL_INTO_PROD: &str =
    "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: instance\n";

#[test]
fn a_big_apply_under_a_server_rate_limit_is_barely_throttled() {
    let env = Setup::new()
        .instances(2_000)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.qps = Some(50);
            s.record_requests = false;
        })
        .start();
    let report = env.path("report.json");
    let (code, out, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "32",
        "--report",
        report.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Apply complete! 2000 moved, 0 failed."),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let requests = report["calls"]["requests"].as_u64().unwrap();
    let throttled = report["calls"]["throttled"].as_u64().unwrap();
    let share = throttled as f64 / requests as f64;
    eprintln!(
        "qps 50, 2000 joins: {throttled} of {requests} calls throttled ({:.2}%)",
        share * 100.0
    );
    assert!(
        share < 0.05,
        "{throttled} of {requests} calls were throttled"
    );
}

#[test]
fn secrets_never_reach_output_or_files_even_at_vvv() {
    const SECRET_VALUE: &str = "SECRET-d0n7-l3ak";
    const TOKEN_VALUE: &str = "TOKEN-n3v3r-pr1nt";
    let env = Setup::new()
        .instances(3)
        .key("STS.leaktest", SECRET_VALUE, Some(TOKEN_VALUE))
        .manifest(TWO_INTO_PROD)
        .emulator(|s| s.fault_rate = 0.3)
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
    assert!(!seen.contains(SECRET_VALUE), "the secret leaked");
    assert!(!seen.contains(TOKEN_VALUE), "the token leaked");
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
    assert!(out.contains("Apply complete! 2 moved, 0 failed."), "{out}");

    std::fs::write(&token, "someone-elses-token").unwrap();
    let mut plan = env.regroup(&["plan"]);
    oidc(&mut plan);
    let (code, _, err) = stdout_of(plan);
    assert_eq!(code, 1);
    assert!(
        err.contains("AuthenticationFail.OIDCToken.Invalid"),
        "{err}"
    );
}
