//! The builder every CLI test shares: [`Setup`] makes an account and a
//! manifest, [`Running`] is an in-process emulator on 127.0.0.1:0 with the
//! manifest beside it and runs the real `regroup` binary against it, in a
//! scrubbed environment.

use std::path::PathBuf;

use assert_cmd::Command;
use regroup::emulator::fleet::{AccessKey, Fleet, FleetGroup, FleetResource, OidcToken};
use regroup::emulator::{Emulator, LoggedRequest, Settings};
use regroup::resource::ResourceType;

pub const KEY_ID: &str = "testid";
pub const SECRET: &str = "testsecret";

/// Builds an account and a manifest for one test.
pub struct Setup {
    pub fleet: Fleet,
    manifest: String,
    settings: Settings,
}

impl Setup {
    /// An account with groups `default`, `prod`, `legacy` and `dev`, and no
    /// resources yet.
    pub fn new() -> Setup {
        let group = |id: &str, name: &str, default: bool| FleetGroup {
            id: id.into(),
            name: name.into(),
            default,
            display_name: None,
            status: None,
        };
        Setup {
            fleet: Fleet {
                account_id: "1234567890123456".into(),
                access_keys: vec![AccessKey {
                    id: KEY_ID.into(),
                    secret: SECRET.into(),
                    security_token: None,
                    denied_actions: Vec::new(),
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
    pub fn resource(mut self, rtype: ResourceType, id: &str, group: Option<&str>) -> Setup {
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
    pub fn instances(self, count: usize) -> Setup {
        self.many(ResourceType::Instance, count)
    }

    /// Adds `count` resources of a type, `<prefix>bp1test<n>`, to the
    /// default group.
    pub fn many(mut self, rtype: ResourceType, count: usize) -> Setup {
        let prefix = rtype.id_prefix().unwrap_or("key-");
        for n in 0..count {
            self = self.resource(rtype, &format!("{prefix}bp1test{n:05}"), None);
        }
        self
    }

    /// Changes how the emulator behaves (rate limit, faults, …).
    pub fn emulator(mut self, change: impl FnOnce(&mut Settings)) -> Setup {
        change(&mut self.settings);
        self
    }

    /// Adds an access key; with a token, an STS key.
    pub fn key(mut self, id: &str, secret: &str, token: Option<&str>) -> Setup {
        self.fleet.access_keys.push(AccessKey {
            id: id.into(),
            secret: secret.into(),
            security_token: token.map(str::to_owned),
            denied_actions: Vec::new(),
        });
        self
    }

    /// An OIDC token that `AssumeRoleWithOIDC` accepts for `role`.
    pub fn oidc_token(mut self, token: &str, role: &str, provider: &str) -> Setup {
        self.fleet.oidc_tokens.push(OidcToken {
            token: token.into(),
            role_arn: role.into(),
            provider_arn: provider.into(),
        });
        self
    }

    /// Replaces the account with a generated one.
    pub fn fleet(mut self, fleet: Fleet) -> Setup {
        self.fleet = fleet;
        self
    }

    pub fn manifest(mut self, text: &str) -> Setup {
        self.manifest = text.to_owned();
        self
    }

    pub fn start(self) -> Running {
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
pub struct Running {
    pub runtime: tokio::runtime::Runtime,
    pub emulator: Emulator,
    dir: tempfile::TempDir,
    pub manifest: PathBuf,
}

impl Running {
    /// `regroup ARGS` against the emulator, in a scrubbed environment whose
    /// HOME is the test's folder.
    pub fn regroup(&self, args: &[&str]) -> Command {
        Command::from_std(self.process(args))
    }

    /// The same as a plain process, to run in a pseudo-terminal or signal.
    pub fn process(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("regroup"));
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .env("REGROUP_ENDPOINT", self.emulator.url())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            // Never the ECS metadata address from a test.
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .current_dir(self.dir.path());
        if !args.contains(&"-f") {
            command.arg("-f").arg(&self.manifest);
        }
        command.args(args);
        command
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    /// Changes the account behind regroup's back, as the console would.
    pub fn edit(&self, change: impl FnOnce(&mut regroup::emulator::state::Account)) {
        self.runtime.block_on(self.emulator.edit(change));
    }

    /// Removes a resource from the account.
    pub fn delete(&self, rtype: ResourceType, id: &str) {
        self.edit(|account| {
            account
                .resources
                .remove(&(rtype, "cn-hangzhou".to_owned(), id.to_owned()));
        });
    }

    pub fn writes(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == "JoinResourceGroup")
            .count()
    }

    pub fn group_of(&self, id: &str) -> String {
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
pub fn stdout_of(mut command: impl std::borrow::BorrowMut<Command>) -> (i32, String, String) {
    let output = command.borrow_mut().output().expect("regroup runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub const TWO_INTO_PROD: &str = "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      - instance/i-bp1test00000\n      - instance/i-bp1test00001\n";

/// Calls per action that one `plan` made.
pub fn calls_of(env: &Running) -> std::collections::BTreeMap<String, usize> {
    let mut calls = std::collections::BTreeMap::new();
    for request in env.requests() {
        *calls.entry(request.action).or_default() += 1;
    }
    calls
}

/// Starts `regroup emulator` as its own process and returns it with its URL.
pub fn spawn_emulator(args: &[&str]) -> (std::process::Child, String) {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    crate::support::spawn_emulator(&args)
}

/// Every instance `i-bp1test*` into prod, by rule.
pub const ALL_INTO_PROD: &str =
    "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    select:\n      - type: instance\n";

/// `apply --auto-approve ARGS --report`, which must move all `count`
/// resources; returns the report and what apply printed on stderr.
pub fn apply_all_with_report(
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

pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the file exists"))
        .expect("the file is JSON")
}
