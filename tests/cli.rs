//! Drives the real `regroup` binary against an in-process emulator on
//! 127.0.0.1:0. [`Setup`] builds the account and the manifest; each test
//! then runs commands and looks at their output, their exit code and the
//! emulator's state and request log.

use std::path::PathBuf;

mod support;

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
    fn instances(self, count: usize) -> Setup {
        self.many(ResourceType::Instance, count)
    }

    /// Adds `count` resources of a type, `<prefix>bp1test<n>`, to the
    /// default group.
    fn many(mut self, rtype: ResourceType, count: usize) -> Setup {
        let prefix = rtype.id_prefix().unwrap_or("key-");
        for n in 0..count {
            self = self.resource(rtype, &format!("{prefix}bp1test{n:05}"), None);
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

    /// Replaces the account with a generated one.
    fn fleet(mut self, fleet: Fleet) -> Setup {
        self.fleet = fleet;
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
        Command::from_std(self.process(args))
    }

    /// The same as a plain process, to run in a pseudo-terminal or signal.
    fn process(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("regroup"));
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .env("REGROUP_ENDPOINT", self.emulator.url())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(self.dir.path());
        if !args.contains(&"-f") {
            command.arg("-f").arg(&self.manifest);
        }
        command.args(args);
        command
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    /// Changes the account behind regroup's back, as the console would.
    fn edit(&self, change: impl FnOnce(&mut regroup::emulator::state::Account)) {
        self.runtime.block_on(self.emulator.edit(change));
    }

    /// Removes a resource from the account.
    fn delete(&self, rtype: ResourceType, id: &str) {
        self.edit(|account| {
            account
                .resources
                .remove(&(rtype, "cn-hangzhou".to_owned(), id.to_owned()));
        });
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

/// Calls per action that one `plan` made.
fn calls_of(env: &Running) -> std::collections::BTreeMap<String, usize> {
    let mut calls = std::collections::BTreeMap::new();
    for request in env.requests() {
        *calls.entry(request.action).or_default() += 1;
    }
    calls
}

#[test]
fn a_thousand_explicit_instances_take_ten_reads() {
    let mut manifest =
        String::from("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n");
    for n in 0..1_000 {
        manifest.push_str(&format!("      - instance/i-bp1test{n:05}\n"));
    }
    let env = Setup::new().instances(1_500).manifest(&manifest).start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Plan: 1000 to move, 0 unchanged."), "{out}");
    let calls = calls_of(&env);
    assert_eq!(calls.get("DescribeInstances"), Some(&10), "{calls:?}");
    assert_eq!(calls.get("ListResourceGroups"), Some(&1), "{calls:?}");
    assert_eq!(calls.len(), 2, "{calls:?}");
}

#[test]
fn a_select_over_a_thousand_disks_takes_two_reads() {
    let env = Setup::new()
        .many(ResourceType::Disk, 1_000)
        .instances(10)
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: disk\n")
        .start();
    let (code, out, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Plan: 1000 to move, 0 unchanged."), "{out}");
    let calls = calls_of(&env);
    assert_eq!(calls.get("DescribeDisks"), Some(&2), "{calls:?}");
    assert_eq!(calls.len(), 2, "only disks are read: {calls:?}");
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
        // The manifest is read before credentials are looked for, so the
        // error is about the manifest even where there are none.
        let (code, _, err) = stdout_of(
            env.regroup(command)
                .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
                .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        );
        assert_eq!(code, 1, "{command:?}: {err}");
        assert!(
            err.contains("regroup.yaml:5:17: groups.prod.resources[0]: `d-bp1test00000` is not an instance id"),
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
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    support::spawn_emulator(&args)
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
        .stderr(std::fs::File::create(dir.path().join("apply.err")).unwrap())
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

    let saved = Fleet::load(&state).unwrap_or_else(|e| {
        let apply_said = std::fs::read_to_string(dir.path().join("apply.err")).unwrap_or_default();
        panic!("the state file does not load after SIGKILL: {e:?}\napply said: {apply_said}")
    });
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
    let (report, progress) = apply_all_with_report(&env, &["--parallelism", "32"], 2_000);
    // Without a terminal, progress comes as plain lines on stderr, for CI logs.
    assert!(
        progress.contains("Applying: ") && progress.contains("/2000 done, 0 failed, "),
        "{progress}"
    );
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

/// Malformed manifests: each must fail with exactly this location and a
/// message that starts like this.
const MALFORMED: &[(&str, &str, &str)] = &[
    ("empty file", "", "regroup.yaml:1:1: missing field `version`"),
    ("not a map", "- a\n- b\n", "regroup.yaml:1:1: invalid type: sequence, expected struct RawManifest"),
    ("syntax error", "version: 1\ngroups: \"prod\n", "regroup.yaml:3:1: found unexpected end of stream"),
    ("tab indentation", "version: 1\ngroups:\n\tprod: {}\n", "regroup.yaml:3:1: found character that cannot start any token"),
    ("missing version", "groups:\n  prod:\n    resources: [instance/i-1]\n", "regroup.yaml:1:1: missing field `version`"),
    ("version 2", "version: 2\ngroups: {}\n", "regroup.yaml:1:10: version: unsupported manifest version 2; this regroup reads version 1"),
    ("version as text", "version: one\ngroups: {}\n", "regroup.yaml:1:10: version: invalid type: string \"one\", expected the manifest version, 1"),
    ("missing groups", "version: 1\n", "regroup.yaml:1:1: missing field `groups`"),
    ("unknown top-level key", "version: 1\ngroup: {}\n", "regroup.yaml:2:1: unknown field `group`, expected one of `version`, `regions`, `groups`"),
    ("regions not a list", "version: 1\nregions: cn-hangzhou\ngroups: {}\n", "regroup.yaml:2:10: regions: invalid type: string \"cn-hangzhou\", expected a sequence"),
    ("bad region id", "version: 1\nregions: [CN_Hangzhou]\ngroups: {}\n", "regroup.yaml:2:11: regions[0]: `CN_Hangzhou` is not a region id"),
    ("empty groups", "version: 1\nregions: [cn-hangzhou]\ngroups: {}\n", "regroup.yaml:3:1: `groups` is empty"),
    ("groups as a list", "version: 1\ngroups:\n  - prod\n", "regroup.yaml:3:3: groups: invalid type: sequence, expected a map"),
    ("empty group", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod: {}\n", "regroup.yaml:4:3: group `prod` is empty"),
    ("group of nothing", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: []\n", "regroup.yaml:4:3: group `prod` is empty"),
    ("unknown group key", "version: 1\ngroups:\n  prod:\n    resource: [instance/i-1]\n", "regroup.yaml:4:5: groups.prod: unknown field `resource`, expected `resources` or `select`"),
    ("resources not a list", "version: 1\ngroups:\n  prod:\n    resources: instance/i-1\n", "regroup.yaml:4:16: groups.prod.resources: invalid type: string \"instance/i-1\", expected a sequence"),
    ("entry without slash", "version: 1\ngroups:\n  prod:\n    resources: [i-bp1abc]\n", "regroup.yaml:4:17: groups.prod.resources[0]: `i-bp1abc` is not `type/id` (like instance/i-bp1abc)"),
    ("unknown type", "version: 1\ngroups:\n  prod:\n    resources: [vm/i-bp1abc]\n", "regroup.yaml:4:17: groups.prod.resources[0]: unknown resource type `vm` (one of: instance, disk, snapshot, image, securitygroup, ddh, eni, keypair, launchtemplate)"),
    ("type in capitals", "version: 1\ngroups:\n  prod:\n    resources: [Instance/i-bp1abc]\n", "regroup.yaml:4:17: groups.prod.resources[0]: unknown resource type `Instance`"),
    ("id of another type", "version: 1\ngroups:\n  prod:\n    resources: [instance/d-bp1abc]\n", "regroup.yaml:4:17: groups.prod.resources[0]: `d-bp1abc` is not an instance id: instance ids start with `i-`"),
    ("id with a space", "version: 1\ngroups:\n  prod:\n    resources: [\"disk/d-bp1 abc\"]\n", "regroup.yaml:4:17: groups.prod.resources[0]: `d-bp1 abc` is not a disk id: expected `d-` followed by 1 to 64 letters and digits"),
    ("empty id", "version: 1\ngroups:\n  prod:\n    resources: [snapshot/]\n", "regroup.yaml:4:17: groups.prod.resources[0]: `` is not a snapshot id: snapshot ids start with `s-`"),
    ("bad key pair name", "version: 1\ngroups:\n  prod:\n    resources: [keypair/9lives]\n", "regroup.yaml:4:17: groups.prod.resources[0]: `9lives` is not a key pair name"),
    ("entry as a number", "version: 1\ngroups:\n  prod:\n    resources: [42]\n", "regroup.yaml:4:17: groups.prod.resources[0]: invalid type: integer `42`, expected a resource as `type/id` or as a map {type, id, region}"),
    ("map entry unknown key", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: disk, id: d-1, zone: a}\n", "regroup.yaml:5:31: groups.prod.resources[0]: unknown field `zone`, expected one of `type`, `id`, `region`"),
    ("map entry without id", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: disk}\n", "regroup.yaml:5:9: groups.prod.resources[0]: missing field `id`"),
    ("map entry unknown type", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: volume, id: d-1}\n", "regroup.yaml:5:16: groups.prod.resources[0].type: unknown variant `volume`"),
    ("map entry bad region", "version: 1\ngroups:\n  prod:\n    resources:\n      - {type: disk, id: d-1, region: Hangzhou}\n", "regroup.yaml:5:39: groups.prod.resources[0].region: `Hangzhou` is not a region id"),
    ("no region anywhere", "version: 1\ngroups:\n  prod:\n    resources:\n      - instance/i-1\n", "regroup.yaml:5:9: instance/i-1 names no region and the manifest has no `regions`"),
    ("rule without region", "version: 1\ngroups:\n  prod:\n    select:\n      - tags: {a: b}\n", "regroup.yaml:5:9: this select rule names no region"),
    ("duplicate in a group", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-1\n      - instance/i-1\n", "regroup.yaml:7:9: instance/i-1 is listed twice in group `prod` (also at regroup.yaml:6:9)"),
    ("same resource in two groups", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  dev:\n    resources: [instance/i-1]\n  prod:\n    resources: [instance/i-1]\n", "regroup.yaml:7:17: instance/i-1 is in group `prod` here and in group `dev` at regroup.yaml:5:17"),
    ("unknown rule key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tag: {a: b}\n", "regroup.yaml:6:9: groups.prod.select[0]: unknown field `tag`, expected one of `type`, `tags`, `name`, `in_group`, `region`"),
    ("rule with unknown type", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: [instance, vm]\n", "regroup.yaml:6:26: groups.prod.select[0].type[1]: unknown variant `vm`"),
    ("rule with empty type list", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: []\n", "regroup.yaml:6:15: groups.prod.select[0].type: an empty list matches nothing"),
    ("rule with bad glob", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - name: \"pay-[\"\n", "regroup.yaml:6:15: groups.prod.select[0].name: `pay-[` is not a valid glob: unclosed character class"),
    ("tags not a map", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - tags: [team]\n", "regroup.yaml:6:15: groups.prod.select[0].tags: invalid type: sequence, expected a map"),
    ("select not a list", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select: {tags: {a: b}}\n", "regroup.yaml:5:13: groups.prod.select: invalid type: map, expected a sequence"),
    ("empty group key", "version: 1\nregions: [cn-hangzhou]\ngroups:\n  \"\":\n    resources: [instance/i-1]\n", "regroup.yaml:4:3: a group key is empty"),
];

#[test]
fn malformed_manifests_say_what_and_where_and_call_nothing() {
    assert!(MALFORMED.len() >= 30);
    let env = Setup::new().instances(1).start();
    let mut wrong = Vec::new();
    for (name, text, expected) in MALFORMED {
        std::fs::write(env.path("regroup.yaml"), text).unwrap();
        let (code, _, err) = stdout_of(env.regroup(&["-f", "regroup.yaml", "plan"]));
        if code != 1 || !err.starts_with(&format!("Error: {expected}")) {
            wrong.push(format!(
                "{name}:\n    got      {code} {err}\n    expected 1 Error: {expected}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(env.requests().is_empty(), "{:?}", env.requests());
}

#[test]
fn the_schema_describes_the_manifest() {
    let env = Setup::new().start();
    let (code, out, _) = stdout_of(env.regroup(&["schema"]));
    assert_eq!(code, 0);
    let schema: serde_json::Value = serde_json::from_str(&out).expect("the schema is JSON");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], serde_json::json!(["version", "groups"]));
    let types = schema["$defs"]["ResourceType"]["enum"]
        .as_array()
        .expect("the types are listed");
    assert_eq!(types.len(), 9);
    assert_eq!(schema["$defs"]["Rule"]["additionalProperties"], false);
}

#[test]
fn ignore_missing_plans_the_rest_with_a_warning() {
    let env = Setup::new()
        .instances(1)
        .manifest("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1test00000\n      - instance/i-bp1gone\n")
        .start();
    let (code, _, err) = stdout_of(env.regroup(&["plan"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("regroup.yaml:7:9: instance/i-bp1gone in cn-hangzhou"),
        "{err}"
    );
    let (code, out, err) =
        stdout_of(env.regroup(&["plan", "--ignore-missing", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["missing"][0]["id"], "i-bp1gone");
    assert_eq!(plan["changes"].as_array().unwrap().len(), 1);
    assert!(plan["warnings"][0]
        .as_str()
        .unwrap()
        .contains("does not exist"));
}

/// `apply --auto-approve ARGS --report`, which must move all `count`
/// resources; returns the report and what apply printed on stderr.
fn apply_all_with_report(
    env: &Running,
    args: &[&str],
    count: usize,
) -> (serde_json::Value, String) {
    let report = env.path("report.json");
    let mut all = vec![
        "apply",
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let (code, out, err) = stdout_of(env.regroup(&all));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Apply complete! {count} moved, 0 failed.")),
        "{out}"
    );
    (read_json(&report), err)
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the file exists"))
        .expect("the file is JSON")
}

#[test]
fn the_prompt_accepts_only_yes() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    for (answer, moved) in [("y", false), ("YES", false), ("", false), ("yes", true)] {
        let mut session =
            rexpect::session::spawn_command(env.process(&["apply"]), Some(20_000)).unwrap();
        session
            .exp_string("Do you want to perform these actions?")
            .unwrap();
        session.exp_string("Enter a value:").unwrap();
        session.send_line(answer).unwrap();
        let rest = session.exp_eof().unwrap();
        if moved {
            assert!(
                rest.contains("Apply complete! 2 moved, 0 failed."),
                "{rest}"
            );
        } else {
            assert!(rest.contains("Apply cancelled."), "{answer:?}: {rest}");
            assert_eq!(env.writes(), 0, "{answer:?} approved");
        }
    }
    assert_eq!(env.group_of("i-bp1test00001"), "rg-prod");
}

#[test]
fn without_a_terminal_apply_needs_auto_approve() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, _, err) = stdout_of(env.regroup(&["apply"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("stdin is not a terminal; pass --auto-approve"),
        "{err}"
    );
    assert_eq!(env.writes(), 0);
}

#[test]
fn resources_gone_before_the_writes_fail_alone_and_a_rerun_converges() {
    let env = Setup::new().instances(6).manifest(ALL_INTO_PROD).start();
    let report = env.path("report.json");
    let mut session = rexpect::session::spawn_command(
        env.process(&["apply", "--report", report.to_str().unwrap()]),
        Some(20_000),
    )
    .unwrap();
    session.exp_string("Plan: 6 to move, 0 unchanged.").unwrap();
    session.exp_string("Enter a value:").unwrap();
    env.delete(ResourceType::Instance, "i-bp1test00001");
    env.delete(ResourceType::Instance, "i-bp1test00004");
    session.send_line("yes").unwrap();
    let rest = session.exp_eof().unwrap();
    let status = session.process().wait().unwrap();
    assert!(
        format!("{status:?}").starts_with("Exited(") && format!("{status:?}").ends_with(", 1)"),
        "{status:?}"
    );
    assert!(
        rest.contains("Apply complete! 4 moved, 2 failed."),
        "{rest}"
    );
    assert!(
        rest.contains("instance/i-bp1test00001 (cn-hangzhou): InvalidResourceId.NotFound"),
        "{rest}"
    );
    for n in [0, 2, 3, 5] {
        assert_eq!(env.group_of(&format!("i-bp1test{n:05}")), "rg-prod");
    }
    let report = read_json(&report);
    assert_eq!(
        (report["moved"].as_u64(), report["failed"].as_u64()),
        (Some(4), Some(2))
    );

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("No changes."), "{out}");
}

#[test]
fn a_saved_plan_is_applied_exactly() {
    let env = Setup::new().instances(2).manifest(ALL_INTO_PROD).start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    // An instance that the rule would match appears after planning: the
    // saved plan still moves only what it lists.
    env.edit(|account| {
        let mut late = account.resources.values().next().cloned().unwrap();
        late.id = "i-bp1late".into();
        account.resources.insert(
            (
                ResourceType::Instance,
                "cn-hangzhou".into(),
                "i-bp1late".into(),
            ),
            late,
        );
    });
    let (code, out, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Apply complete! 2 moved, 0 failed."), "{out}");
    assert_eq!(env.writes(), 2);
    assert_eq!(env.group_of("i-bp1late"), "rg-default");
}

#[test]
fn a_stale_plan_is_refused_before_any_write() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    env.edit(|account| {
        let key = (
            ResourceType::Instance,
            "cn-hangzhou".to_owned(),
            "i-bp1test00001".to_owned(),
        );
        if let Some(resource) = account.resources.get_mut(&key) {
            resource.group = Some("rg-dev".into());
        }
    });
    let before = env.runtime.block_on(env.emulator.snapshot());
    let (code, _, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(err.contains("the saved plan is stale"), "{err}");
    assert!(
        err.contains(
            "instance/i-bp1test00001 (cn-hangzhou): planned from rg-default, now in rg-dev"
        ),
        "{err}"
    );
    assert!(
        !err.contains("i-bp1test00000"),
        "only what drifted is listed: {err}"
    );
    assert_eq!(env.writes(), 0);
    assert_eq!(env.runtime.block_on(env.emulator.snapshot()), before);
}

#[test]
fn plans_from_another_manifest_or_format_are_refused() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));

    let mut newer = read_json(&plan);
    newer["format_version"] = serde_json::json!(2);
    let newer_path = env.path("newer.json");
    std::fs::write(&newer_path, newer.to_string()).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", newer_path.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        err.contains("plan format version 2 is not supported"),
        "{err}"
    );

    let mut edited = read_json(&plan);
    edited["changes"][0]["resource"]["type"] = serde_json::json!("vm");
    let edited_path = env.path("edited.json");
    std::fs::write(&edited_path, edited.to_string()).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", edited_path.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        err.contains("not a valid regroup plan") && err.contains("unknown variant `vm`"),
        "{err}"
    );

    std::fs::write(
        &env.manifest,
        format!("{TWO_INTO_PROD}      - instance/i-bp1test00002\n"),
    )
    .unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(err.contains("was planned from another version of"), "{err}");
    assert_eq!(env.writes(), 0);
}

#[test]
fn moves_the_api_acknowledged_but_did_not_make_are_failures() {
    let env = Setup::new()
        .instances(3)
        .manifest(TWO_INTO_PROD)
        .emulator(|s| s.phantom_rate = 1.0)
        .start();
    let (code, out, _) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Apply complete! 0 moved, 2 failed."), "{out}");
    assert!(
        out.contains(
            "NotMovedDespiteSuccess: the call succeeded but the resource is still in rg-default"
        ),
        "{out}"
    );
}

#[test]
fn two_thousand_moves_through_faults_and_a_rate_limit_all_land() {
    let env = Setup::new()
        .instances(2_000)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.fault_rate = 0.2;
            s.qps = Some(100);
            s.record_requests = false;
        })
        .start();
    let (report, _) = apply_all_with_report(&env, &["--max-tries", "12"], 2_000);
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2_000);
    assert!(outcomes.iter().all(|o| o["status"] == "moved"));
    assert!(
        outcomes.iter().any(|o| o["tries"].as_u64() > Some(1)),
        "faults were retried"
    );
    let fleet = env.runtime.block_on(env.emulator.snapshot());
    assert!(fleet
        .resources
        .iter()
        .all(|r| r.group.as_deref() == Some("rg-prod")));
}

#[test]
fn an_interrupt_lets_calls_in_flight_finish_and_a_rerun_finishes_the_rest() {
    let env = Setup::new()
        .instances(300)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.latency = std::time::Duration::from_millis(20);
            s.record_requests = false;
        })
        .start();
    let report = env.path("report.json");
    let child = env
        .process(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "4",
            "--report",
            report.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let moved_now = || {
        let fleet = env.runtime.block_on(env.emulator.snapshot());
        fleet.resources.iter().filter(|r| r.group.is_some()).count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while moved_now() < 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{out}");
    assert!(out.contains("Apply interrupted!"), "{out}");

    let report = read_json(&report);
    assert_eq!(report["interrupted"], true);
    let fleet = env.runtime.block_on(env.emulator.snapshot());
    let in_prod: std::collections::BTreeSet<String> = fleet
        .resources
        .iter()
        .filter(|r| r.group.is_some())
        .map(|r| r.id.clone())
        .collect();
    let outcomes = report["outcomes"].as_array().unwrap();
    let reported_moved: std::collections::BTreeSet<String> = outcomes
        .iter()
        .filter(|o| o["status"] == "moved")
        .map(|o| o["change"]["resource"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reported_moved, in_prod,
        "the report says exactly what moved"
    );
    let not_started = outcomes
        .iter()
        .filter(|o| o["status"] == "not_started")
        .count();
    assert!(
        not_started > 0 && not_started + in_prod.len() == 300,
        "{not_started} not started, {} moved",
        in_prod.len()
    );

    let (code, out, err) = stdout_of(env.regroup(&["apply", "--auto-approve"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Apply complete! {not_started} moved, 0 failed.")),
        "{out}"
    );
    assert!(env
        .runtime
        .block_on(env.emulator.snapshot())
        .resources
        .iter()
        .all(|r| r.group.is_some()));
}

#[test]
fn a_thousand_resources_of_every_type_are_read_in_the_fewest_calls() {
    let fleet = support::fleet(1_000);
    let minimum_by_id = support::minimum_calls_by_id(&fleet);
    let minimum_listing = support::minimum_calls_to_list(&fleet);
    for (manifest, minimum) in [
        (support::explicit_manifest(&fleet), minimum_by_id),
        (support::select_manifest(), minimum_listing),
    ] {
        let env = Setup::new()
            .fleet(fleet.clone())
            .manifest(&manifest)
            .start();
        let (code, out, err) = stdout_of(env.regroup(&["plan", "--format", "json"]));
        assert_eq!(code, 0, "{err}");
        let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
        let planned = plan["changes"].as_array().unwrap().len()
            + plan["unchanged"].as_u64().unwrap() as usize;
        assert_eq!(planned, 1_000);
        let calls = env.requests().len();
        assert_eq!(calls, minimum, "{:?}", calls_of(&env));
    }
    eprintln!("1,000 resources: {minimum_by_id} calls by id, {minimum_listing} by listing");
}

#[test]
fn export_then_plan_gives_no_changes() {
    let fleet = support::fleet(900);
    let env = Setup::new().fleet(fleet).start();
    let mut args = vec!["export"];
    for region in support::REGIONS {
        args.extend(["--region", region]);
    }
    let (code, exported, err) = stdout_of(env.regroup(&args));
    assert_eq!(code, 0, "{err}");
    assert!(exported.starts_with("# Exported by regroup"), "{exported}");
    // Groups keyed by name, all five, each with its members.
    for (_, name) in support::GROUPS {
        assert!(
            exported.contains(&format!("\n  {name}:\n    resources:\n")),
            "{name} missing"
        );
    }
    std::fs::write(env.path("exported.yaml"), &exported).unwrap();

    let (code, out, err) = stdout_of(env.regroup(&["-f", "exported.yaml", "validate"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("5 groups, 900 explicit resources"), "{out}");
    let (code, out, err) =
        stdout_of(env.regroup(&["-f", "exported.yaml", "plan", "--detailed-exitcode"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("No changes. All 900 resources"), "{out}");

    // The manifest's own JSON Schema accepts it.
    let (_, schema, _) = stdout_of(env.regroup(&["schema"]));
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let manifest: serde_json::Value = serde_yaml::from_str(&exported).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    // And it would catch a mistake.
    let mut broken = manifest.clone();
    broken["groups"]["prod"]["resources"][0] = serde_json::json!("vm/i-1");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn export_narrows_by_type_and_group_and_keys_by_name() {
    let env = Setup::new()
        .instances(2)
        .resource(ResourceType::Disk, "d-bp1disk", Some("rg-prod"))
        .resource(ResourceType::Instance, "i-bp1prod", Some("rg-prod"))
        .start();
    let (code, out, err) = stdout_of(env.regroup(&[
        "export",
        "--region",
        "cn-hangzhou",
        "--type",
        "instance",
        "--group",
        "prod",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("regions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1prod\n"), "{out}");
    let (code, _, err) =
        stdout_of(env.regroup(&["export", "--region", "cn-hangzhou", "--group", "prd"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("--group: no resource group has the id or name `prd`; closest names: prod"),
        "{err}"
    );
    let (code, _, err) = stdout_of(env.regroup(&["export"]));
    assert_eq!(code, 1);
    assert!(err.contains("pass --region"), "{err}");
}

/// Every `regroup …` command line in the shell of a CI file (`run:` in
/// GitHub Actions, `script:` in GitLab CI), cut at the first shell operator,
/// quotes taken off.
fn regroup_invocations(yaml: &serde_yaml::Value, in_shell: bool, found: &mut Vec<Vec<String>>) {
    match yaml {
        serde_yaml::Value::String(text) if in_shell => {
            for line in text.lines() {
                let Some(start) = line.find("regroup ") else {
                    continue;
                };
                let before = line[..start].trim_end();
                if !(before.is_empty() || before.ends_with("&&") || before.ends_with(';')) {
                    continue;
                }
                let words: Vec<String> = line[start..]
                    .split_whitespace()
                    .take_while(|w| !matches!(*w, ">" | "|" | "||" | "&&" | ";" | "2>&1"))
                    .map(|w| w.trim_matches('"').to_owned())
                    .collect();
                found.push(words);
            }
        }
        serde_yaml::Value::Sequence(items) => items
            .iter()
            .for_each(|v| regroup_invocations(v, in_shell, found)),
        serde_yaml::Value::Mapping(map) => {
            for (key, value) in map {
                let shell = in_shell || matches!(key.as_str(), Some("run" | "script"));
                regroup_invocations(value, shell, found);
            }
        }
        _ => {}
    }
}

#[test]
fn ci_examples_are_valid_yaml_calling_real_commands() {
    use clap::Parser;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/gitops");
    let mut total = 0;
    for file in ["github-actions.yml", "gitlab-ci.yml", "drift-detection.yml"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut found = Vec::new();
        regroup_invocations(&yaml, false, &mut found);
        assert!(!found.is_empty(), "{file}: no regroup command found");
        for words in &found {
            if let Err(error) = regroup::Cli::try_parse_from(words) {
                panic!(
                    "{file}: `{}` is not a valid regroup command:\n{error}",
                    words.join(" ")
                );
            }
        }
        total += found.len();
    }
    assert_eq!(total, 9, "every regroup command of the three files");
}

#[test]
fn gitops_docs_show_a_real_plan_comment() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::cargo_bin("regroup").unwrap();
    command.env_clear().current_dir(&root).args([
        "emulator",
        "--fleet",
        "examples/fleet.yaml",
        "--",
        "plan",
        "-f",
        "examples/regroup.yaml",
        "--format",
        "markdown",
    ]);
    let (code, comment, err) = stdout_of(command);
    assert_eq!(code, 0, "{err}");
    let docs = std::fs::read_to_string(root.join("docs/gitops.md")).unwrap();
    assert!(
        docs.contains(&comment),
        "docs/gitops.md does not show what the tool prints now:\n{comment}"
    );
}

#[test]
fn completions_and_version() {
    let env = Setup::new().start();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, _) = stdout_of(env.regroup(&["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(
            out.contains("regroup") && out.contains("apply") && out.contains("auto-approve"),
            "{shell}"
        );
    }
    let (code, out, _) = stdout_of(env.regroup(&["--version"]));
    assert_eq!(code, 0);
    assert!(
        out.contains(env!("CARGO_PKG_VERSION"))
            && out.contains("ECS 2014-05-26")
            && out.contains("Resource Manager 2020-03-31"),
        "{out}"
    );
}

#[test]
fn hostile_manifests_get_clear_errors_and_make_no_call() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(env.path(name), bytes).unwrap();
        name.to_owned()
    };
    let mut laughs = String::from("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: &l0 [instance/i-bp1test00000]\n");
    for level in 1..=9 {
        let previous = format!("*l{}", level - 1);
        laughs.push_str(&format!(
            "  g{level}:\n    resources: &l{level} [{}]\n",
            vec![previous; 10].join(", ")
        ));
    }
    let deep = format!(
        "version: 1\ngroups:\n  prod:\n    select:\n      - tags: {}{}\n",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let mut huge =
        String::from("version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n");
    while huge.len() <= 10 * 1024 * 1024 {
        huge.push_str("      - instance/i-bp1aaaaaaaaaaaaaaaaa\n");
    }
    std::fs::create_dir(env.path("a-folder")).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            write("laughs.yaml", laughs.as_bytes()),
            "laughs.yaml:5:16: groups.g1.resources[0]: invalid type: sequence",
        ),
        (
            write("deep.yaml", deep.as_bytes()),
            "deep.yaml:5:15: groups.prod.select[0].tags: invalid type: sequence, expected a map",
        ),
        (write("huge.yaml", huge.as_bytes()), "huge.yaml: is 10485"),
        (
            write(
                "latin1.yaml",
                b"version: 1\ngroups:\n  caf\xe9:\n    resources: [instance/i-1]\n",
            ),
            "latin1.yaml: is not UTF-8 text (invalid byte at offset 24)",
        ),
        ("a-folder".to_owned(), "a-folder: is a directory"),
        (
            "missing.yaml".to_owned(),
            "could not read the manifest missing.yaml",
        ),
    ];
    for (file, expected) in cases {
        for command in ["validate", "plan"] {
            let (code, _, err) = stdout_of(env.regroup(&["-f", &file, command]));
            assert_eq!(code, 1, "{file} {command}: {err}");
            assert!(
                err.starts_with(&format!("Error: {expected}")),
                "{file} {command}: {err}"
            );
        }
    }
    assert!(env.requests().is_empty(), "{:?}", env.requests());
}

#[test]
fn hand_edited_plans_are_refused_before_any_call() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    let calls_after_planning = env.requests().len();
    let original = read_json(&plan);
    let edit = |name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut edited = original.clone();
        change(&mut edited);
        let path = env.path(name);
        std::fs::write(&path, edited.to_string()).unwrap();
        path
    };
    let cases = [
        (
            edit("group.json", &|p| {
                p["changes"][0]["to"]["id"] = serde_json::json!("rg-dev")
            }),
            "the plan was changed after it was made",
        ),
        (
            edit("type.json", &|p| {
                p["changes"][0]["resource"]["type"] = serde_json::json!("vm")
            }),
            "not a valid regroup plan: unknown variant `vm`",
        ),
        (
            edit("version.json", &|p| {
                p["format_version"] = serde_json::json!(7)
            }),
            "plan format version 7 is not supported",
        ),
        (
            edit("array.json", &|p| *p = serde_json::json!([1, 2])),
            "not a valid regroup plan",
        ),
    ];
    for (path, expected) in cases {
        let (code, _, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(expected), "{path:?}: {err}");
    }
    assert_eq!(
        env.requests().len(),
        calls_after_planning,
        "a refused plan makes no call"
    );
}

#[test]
fn the_emulator_refuses_bodies_over_a_mebibyte() {
    let env = Setup::new().start();
    let runtime = &env.runtime;
    let url = env.emulator.url();
    let (status, body) = runtime.block_on(async move {
        let response = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(vec![b'a'; 2 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    });
    assert_eq!(status, 413);
    assert!(body.contains("<Code>RequestBodyTooLarge</Code>"), "{body}");
}

#[test]
fn idle_connections_are_closed() {
    use std::io::{Read, Write};
    let env = Setup::new()
        .emulator(|s| s.idle_timeout = std::time::Duration::from_secs(1))
        .start();
    // The read timeout is ten times the idle timeout: a read that times out
    // means the server kept the connection open.
    let closed = |result: std::io::Result<usize>| match result {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    let mut silent = std::net::TcpStream::connect(env.emulator.addr()).unwrap();
    silent
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut buffer = [0u8; 64];
    let result = silent.read(&mut buffer);
    assert!(closed(result), "a silent connection is closed");

    // One request, then silence: answered, then closed.
    let mut kept = std::net::TcpStream::connect(env.emulator.addr()).unwrap();
    kept.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    kept.write_all(b"GET /?Action=X HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let ended = kept.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        ended.is_ok(),
        "the connection stayed open after its answer: {ended:?}"
    );
}

#[test]
fn five_hundred_connections_at_once_are_all_answered() {
    let (mut child, url) = spawn_emulator(&[
        "--fleet",
        &format!("{}/examples/fleet.yaml", env!("CARGO_MANIFEST_DIR")),
    ]);
    let addr = url.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers: Vec<String> = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Open them all first, so that all 500 are open together.
        let mut streams = Vec::new();
        for _ in 0..500 {
            let stream = tokio::net::TcpStream::connect(&addr).await;
            streams.push(stream.unwrap_or_else(|e| panic!("connection {} to {addr}: {e}", streams.len())));
        }
        let requests = streams.into_iter().map(|mut stream| async move {
            stream
                .write_all(b"GET /?Format=JSON&Action=DescribeInstances HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.unwrap();
            String::from_utf8_lossy(&answer).into_owned()
        });
        futures::future::join_all(requests).await
    });
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(answers.len(), 500);
    for answer in &answers {
        assert!(
            answer.starts_with("HTTP/1.1 400") && answer.contains("\"Code\":\"MissingParameter\""),
            "{answer}"
        );
    }
    let rss_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        rss_kb > 0 && rss_kb < 200 * 1024,
        "the emulator holds {rss_kb} kB"
    );
}

#[test]
fn a_terminal_gets_a_progress_bar() {
    let env = Setup::new()
        .instances(200)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            s.latency = std::time::Duration::from_millis(20);
            s.record_requests = false;
        })
        .start();
    let mut command = env.process(&["apply", "--auto-approve", "--parallelism", "2"]);
    command.env("TERM", "xterm");
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    // The bar's counter, drawn on the terminal while the moves run.
    session.exp_regex(r"\d+/200").unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(
        rest.contains("Apply complete! 200 moved, 0 failed."),
        "{rest}"
    );
    assert!(
        !rest.contains("Applying: "),
        "a terminal gets the bar, not log lines"
    );
}

#[test]
fn a_second_interrupt_exits_at_once() {
    use std::io::BufRead;
    let env = Setup::new()
        .instances(20)
        .manifest(ALL_INTO_PROD)
        .emulator(|s| {
            // Calls in flight take long, so the first interrupt leaves the
            // process waiting for them when the second arrives.
            s.latency = std::time::Duration::from_secs(3);
            s.record_requests = false;
        })
        .start();
    let mut child = env
        .process(&["apply", "--auto-approve", "--parallelism", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // The plan is printed just before the moves start.
    let mut seen = String::new();
    for line in stdout.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("Plan: 20 to move") {
            break;
        }
    }
    assert!(seen.contains("Plan: 20 to move"), "{seen}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let interrupt = || {
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
    };
    interrupt();
    std::thread::sleep(std::time::Duration::from_millis(300));
    interrupt();
    let status = child.wait().unwrap();
    let rest: Vec<String> = stdout.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130));
    // It did not wait for the calls in flight: they are left unverified,
    // and the summary still says so.
    assert!(
        rest.iter()
            .any(|l| l.contains("Apply interrupted!") && l.contains("4 unverified")),
        "{rest:?}"
    );
}
