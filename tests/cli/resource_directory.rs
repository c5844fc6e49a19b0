//! The emulator's Resource Directory through the official Tea SDKs
//! (tests/sdk/resource_directory.py): the management account lists the
//! members of examples/fleet-accounts.yaml, assumes
//! `ResourceDirectoryAccountAccessRole` into each and reads its groups with
//! the member's keys; a member without the role is refused.

use crate::harness::{Setup, KEY_ID, SECRET};
use crate::tools;
use regroup::emulator::fleet::{Fleet, FleetGroup, MemberAccount};

/// The SDKs the script imports, pinned (alibabacloud_tea_openapi 0.4.6
/// comes with them, as for the other Tea SDK tests).
const SDKS: [&str; 3] = [
    "alibabacloud_resourcedirectorymaster20220419==2.3.1",
    "alibabacloud_sts20150401==1.2.0",
    "alibabacloud_resourcemanager20200331==2.6.2",
];

/// examples/fleet-accounts.yaml, plus a member that deleted the role.
fn fleet() -> Fleet {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut fleet =
        Fleet::load(&root.join("examples/fleet-accounts.yaml")).expect("the example loads");
    fleet.accounts.push(MemberAccount {
        account_id: "1000000000000009".into(),
        name: "no-role".into(),
        folder: None,
        account_type: Some("CloudAccount".into()),
        access_keys: Vec::new(),
        resource_groups: vec![FleetGroup {
            id: "rg-acfmm9default0001".into(),
            name: "default".into(),
            default: true,
            display_name: None,
            status: None,
        }],
        resources: Vec::new(),
        auto_grouping: None,
        roles: Vec::new(),
        tags: Default::default(),
    });
    fleet
}

#[test]
fn the_official_sdks_list_members_assume_into_each_and_read_its_groups() {
    let python = tools::python(&SDKS);
    let env = Setup::new().fleet(fleet()).start();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/resource_directory.py");
    let output = std::process::Command::new(python)
        .arg(script)
        .args([&env.emulator.addr().to_string(), KEY_ID, SECRET])
        // Nothing of this machine's: no proxy, no credentials.
        .env_clear()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .output()
        .expect("the python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    let groups = "default,team-0,team-1,team-2";
    let role = "assumed-role/ResourceDirectoryAccountAccessRole/sdk-walk";
    assert_eq!(
        stdout,
        format!(
            "ok ListAccounts: 4 members\n\
             ok folder production: member-0,member-1\n\
             ok folder development: member-2\n\
             ok member-0: acs:ram::1000000000000001:{role} sees groups {groups}\n\
             ok member-1: acs:ram::1000000000000002:{role} sees groups {groups}\n\
             ok member-2: acs:ram::1000000000000003:{role} sees groups {groups}\n\
             ok no-role: AssumeRole refused with EntityNotExist.Role\n\
             ok members may not list the directory: EntityNotExists.ResourceDirectory (HTTP 404)\n"
        ),
        "the walk's lines; stderr: {stderr}"
    );
    // The SDKs signed with V3, and the members' reads went to the members.
    let requests = env.requests();
    assert!(
        requests
            .iter()
            .all(|r| !r.params.contains_key("SignatureVersion")),
        "the SDKs signed with V3"
    );
    let assumed = requests
        .iter()
        .filter(|r| r.action == "AssumeRole" && r.status == 200)
        .count();
    assert_eq!(assumed, 3, "one role assumed per member that has it");
}
