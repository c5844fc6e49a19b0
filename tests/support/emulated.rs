//! A small harness for CLI tests of one topic: an emulator on 127.0.0.1:0
//! with one fleet, a manifest beside it, and the real `regroup` binary run
//! against both in a scrubbed environment.

use std::path::PathBuf;

use regroup::emulator::fleet::{AccessKey, Fleet, FleetGroup, FleetResource};
use regroup::emulator::{Emulator, LoggedRequest, Settings};
use regroup::resource::ResourceType;

pub const KEY_ID: &str = "testid";
pub const SECRET: &str = "testsecret";

/// An account with groups `default` (`rg-default`) and `prod` (`rg-prod`),
/// one key denied `denied`, and these resources in cn-hangzhou's default
/// group.
pub fn fleet(denied: &[&str], resources: &[(ResourceType, &str)]) -> Fleet {
    let group = |id: &str, name: &str, default: bool| FleetGroup {
        id: id.into(),
        name: name.into(),
        default,
        display_name: None,
        status: None,
    };
    Fleet {
        account_id: "1234567890123456".into(),
        access_keys: vec![AccessKey {
            id: KEY_ID.into(),
            secret: SECRET.into(),
            security_token: None,
            denied_actions: denied.iter().map(|a| (*a).to_owned()).collect(),
        }],
        resource_groups: vec![
            group("rg-default", "default", true),
            group("rg-prod", "prod", false),
        ],
        resources: resources
            .iter()
            .map(|(rtype, id)| FleetResource {
                rtype: *rtype,
                id: (*id).into(),
                region: "cn-hangzhou".into(),
                name: format!("{id}-name"),
                group: None,
                tags: Default::default(),
                status: None,
                owner: None,
            })
            .collect(),
        oidc_tokens: Vec::new(),
    }
}

/// A running emulator with a manifest beside it.
pub struct Running {
    pub runtime: tokio::runtime::Runtime,
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
    pub manifest: PathBuf,
}

impl Running {
    pub fn start(fleet: Fleet, manifest: &str) -> Running {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let settings = Settings {
            record_requests: true,
            ..Settings::default()
        };
        let emulator = runtime
            .block_on(Emulator::start(
                fleet,
                settings,
                "127.0.0.1:0".parse().unwrap(),
            ))
            .expect("the emulator starts");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("regroup.yaml");
        std::fs::write(&path, manifest).expect("the manifest is written");
        Running {
            runtime,
            emulator,
            dir,
            manifest: path,
        }
    }

    /// `regroup ARGS` against the emulator: exit code, stdout, stderr.
    pub fn regroup(&self, args: &[&str]) -> (i32, String, String) {
        let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("regroup"))
            .env_clear()
            .env("HOME", self.dir.path())
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .env("REGROUP_ENDPOINT", self.emulator.url())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(self.dir.path())
            .arg("-f")
            .arg(&self.manifest)
            .args(args)
            .output()
            .expect("regroup runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    pub fn writes(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == "JoinResourceGroup")
            .count()
    }

    /// The group a resource is in now.
    pub fn group_of(&self, id: &str) -> String {
        let fleet = self.runtime.block_on(self.emulator.snapshot());
        fleet
            .resources
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.group.clone())
            .unwrap_or_else(|| "rg-default".into())
    }
}
