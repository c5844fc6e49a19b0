//! Every resource type `JoinResourceGroup` takes, end to end through the
//! real binary against an in-process emulator: plan → apply → plan again
//! has no changes, and an exported manifest plans to no changes; the same
//! with an emulator whose Describe* items leave the default group's
//! `ResourceGroupId` empty; and a target group that is not `OK` is refused
//! before any write.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use regroup::emulator::fleet::{AccessKey, Fleet, FleetGroup, FleetResource};
use regroup::emulator::{Emulator, LoggedRequest, Settings};
use regroup::resource::ResourceType;

const KEY_ID: &str = "testid";
const SECRET: &str = "testsecret";
const REGION: &str = "cn-hangzhou";

fn group(id: &str, name: &str, status: Option<&str>) -> FleetGroup {
    FleetGroup {
        id: id.into(),
        name: name.into(),
        default: name == "default",
        display_name: None,
        status: status.map(str::to_owned),
    }
}

fn resource(rtype: ResourceType, n: usize, group: Option<&str>) -> FleetResource {
    FleetResource {
        rtype,
        id: crate::support::id_of(rtype, n),
        region: REGION.into(),
        name: format!("{rtype}-{n}"),
        group: group.map(str::to_owned),
        tags: [("team".to_owned(), "pay".to_owned())].into(),
        status: None,
        owner: None,
    }
}

/// Groups `default`, `prod` and `dev`, and `resources`.
fn fleet(resources: Vec<FleetResource>) -> Fleet {
    Fleet {
        account_id: "1234567890123456".into(),
        access_keys: vec![AccessKey {
            id: KEY_ID.into(),
            secret: SECRET.into(),
            security_token: None,
            denied_actions: Vec::new(),
        }],
        resource_groups: vec![
            group("rg-default", "default", None),
            group("rg-prod", "prod", None),
            group("rg-dev", "dev", None),
        ],
        resources,
        oidc_tokens: Vec::new(),
    }
}

/// An emulator in its own runtime, and a folder for manifests and plans.
struct Env {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl Env {
    fn start(fleet: Fleet, empty_default_group_id: bool) -> Env {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let settings = Settings {
            record_requests: true,
            empty_default_group_id,
            ..Settings::default()
        };
        let emulator = runtime
            .block_on(Emulator::start(
                fleet,
                settings,
                "127.0.0.1:0".parse().unwrap(),
            ))
            .expect("the emulator starts");
        Env {
            runtime,
            emulator,
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("the file is written");
    }

    /// `regroup ARGS` in a scrubbed environment; exit code, stdout, stderr.
    fn regroup(&self, args: &[&str]) -> (i32, String, String) {
        regroup_in(self.dir.path(), Some(&self.emulator.url()), args)
    }

    fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    fn groups(&self) -> Vec<(String, Option<String>)> {
        self.runtime
            .block_on(self.emulator.snapshot())
            .resources
            .into_iter()
            .map(|r| (r.id, r.group))
            .collect()
    }
}

fn regroup_in(dir: &Path, endpoint: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut command = Command::cargo_bin("regroup").expect("the binary is built");
    command
        .env_clear()
        .env("HOME", dir)
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .current_dir(dir)
        .args(args);
    if let Some(endpoint) = endpoint {
        command.env("REGROUP_ENDPOINT", endpoint);
    }
    let output = command.output().expect("regroup runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Exports the account and checks that planning the export changes nothing.
fn export_round_trips(env: &Env, resources: usize) -> String {
    let (code, exported, err) = env.regroup(&["export", "--region", REGION]);
    assert_eq!(code, 0, "{err}");
    env.write("exported.yaml", &exported);
    let (code, out, err) = env.regroup(&["-f", "exported.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{exported}\n{out}{err}");
    assert!(
        out.starts_with(&format!("No changes. All {resources} resources")),
        "{out}"
    );
    exported
}

#[test]
fn every_type_plans_applies_converges_and_exports() {
    for rtype in ResourceType::ALL {
        // Two in the default group, one in dev; for dedicated hosts, one of
        // them in a state the API hides unless asked for.
        let mut resources = vec![
            resource(rtype, 0, None),
            resource(rtype, 1, None),
            resource(rtype, 2, Some("rg-dev")),
        ];
        if rtype == ResourceType::Ddh {
            resources[1].status = Some("UnderAssessment".into());
        }
        if rtype == ResourceType::Image {
            resources[1].status = Some("CreateFailed".into());
        }
        let ids: Vec<String> = resources.iter().map(|r| r.id.clone()).collect();
        let env = Env::start(fleet(resources), false);
        env.write(
            "regroup.yaml",
            &format!(
                "version: 1\nregions: [{REGION}]\ngroups:\n  prod:\n    resources:\n      - {rtype}/{}\n      - {rtype}/{}\n  default:\n    resources: [{rtype}/{}]\n",
                ids[0], ids[1], ids[2]
            ),
        );

        let (code, out, err) = env.regroup(&["plan", "--detailed-exitcode", "-o", "plan.json"]);
        assert_eq!(code, 2, "{rtype}: {out}{err}");
        assert!(
            out.contains("Plan: 3 to move, 0 unchanged."),
            "{rtype}: {out}"
        );
        let (code, out, err) = env.regroup(&["apply", "plan.json", "--auto-approve"]);
        assert_eq!(code, 0, "{rtype}: {out}{err}");
        assert!(
            out.contains("Apply complete! 3 moved, 0 failed."),
            "{rtype}: {out}"
        );
        let mut groups = env.groups();
        groups.sort();
        assert_eq!(
            groups,
            vec![
                (ids[0].clone(), Some("rg-prod".to_owned())),
                (ids[1].clone(), Some("rg-prod".to_owned())),
                (ids[2].clone(), None),
            ],
            "{rtype}"
        );
        let (code, out, err) = env.regroup(&["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0, "{rtype}: {out}{err}");
        assert!(out.starts_with("No changes."), "{rtype}: {out}");

        let exported = export_round_trips(&env, 3);
        for id in &ids {
            assert!(
                exported.contains(&format!("{rtype}/{id}")),
                "{rtype}: {exported}"
            );
        }
    }
}

#[test]
fn an_empty_default_group_id_is_read_as_the_default_group_either_way() {
    for empty in [true, false] {
        let mut resources = Vec::new();
        for (n, rtype) in ResourceType::ALL.into_iter().enumerate() {
            resources.push(resource(rtype, n, None));
            resources.push(resource(rtype, 100 + n, Some("rg-prod")));
        }
        let env = Env::start(fleet(resources.clone()), empty);
        export_round_trips(&env, resources.len());

        // Everything in default to prod and back, through a saved plan, so
        // that the stale guard and verification read empty ids too.
        let mut manifest = format!("version: 1\nregions: [{REGION}]\ngroups:\n");
        for (key, from) in [("prod", None), ("default", Some("rg-prod"))] {
            manifest.push_str(&format!("  {key}:\n    resources:\n"));
            for r in resources.iter().filter(|r| r.group.as_deref() == from) {
                manifest.push_str(&format!("      - {}/{}\n", r.rtype, r.id));
            }
        }
        env.write("regroup.yaml", &manifest);
        let (code, out, err) = env.regroup(&["plan", "-o", "plan.json"]);
        assert_eq!(code, 0, "empty={empty}: {out}{err}");
        assert!(
            out.contains(&format!("Plan: {} to move, 0 unchanged.", resources.len())),
            "empty={empty}: {out}"
        );
        let (code, out, err) = env.regroup(&["apply", "plan.json", "--auto-approve"]);
        assert_eq!(code, 0, "empty={empty}: {out}{err}");
        assert!(
            out.contains(&format!(
                "Apply complete! {} moved, 0 failed.",
                resources.len()
            )),
            "empty={empty}: {out}"
        );
        let (code, out, err) = env.regroup(&["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0, "empty={empty}: {out}{err}");
        assert!(out.starts_with("No changes."), "empty={empty}: {out}");
        export_round_trips(&env, resources.len());
    }
}

#[test]
fn the_emulator_flag_leaves_the_default_group_id_empty() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(vec![
        resource(ResourceType::Instance, 0, None),
        resource(ResourceType::Command, 1, Some("rg-prod")),
    ]);
    std::fs::write(
        dir.path().join("fleet.yaml"),
        serde_json::to_string(&fleet).unwrap(),
    )
    .unwrap();
    let (code, out, err) = regroup_in(
        dir.path(),
        None,
        &[
            "emulator",
            "--fleet",
            "fleet.yaml",
            "--default-group-id",
            "empty",
            "--",
            "export",
            "--region",
            REGION,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let instance = crate::support::id_of(ResourceType::Instance, 0);
    assert!(
        out.contains(&format!(
            "  default:\n    resources:\n      - instance/{instance}\n"
        )),
        "{out}"
    );
    let (code, _, err) = regroup_in(
        dir.path(),
        None,
        &[
            "emulator",
            "--fleet",
            "fleet.yaml",
            "--default-group-id",
            "none",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--default-group-id"), "{err}");
}

#[test]
fn a_target_group_being_deleted_is_refused_before_any_write() {
    let mut fleet = fleet(vec![resource(ResourceType::Disk, 0, None)]);
    fleet.resource_groups[1].status = Some("PendingDelete".into());
    let env = Env::start(fleet, false);
    let disk = crate::support::id_of(ResourceType::Disk, 0);
    env.write(
        "regroup.yaml",
        &format!(
            "version: 1\nregions: [{REGION}]\ngroups:\n  prod:\n    resources: [disk/{disk}]\n"
        ),
    );
    let (code, out, err) = env.regroup(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(
            "regroup.yaml:4:3: resource group `prod` (rg-prod) is `PendingDelete`, not `OK`"
        ),
        "{err}"
    );
    assert!(env
        .requests()
        .iter()
        .all(|r| r.action != "JoinResourceGroup"));
}
