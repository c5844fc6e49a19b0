//! Member accounts: every request acts in the account its key belongs to,
//! the management account's keys assume `ResourceDirectoryAccountAccessRole`
//! into a member, and no account's keys see another's resources.

use serde_json::Value;

use super::directory::tests::ids;
use super::fleet::{AccessKey, Fleet, FleetGroup, FleetResource, Folder, MemberAccount};
use super::tests::{client, client_for, fleet, start};
use super::{Emulator, Settings};
use crate::cloud::client::{Call, CloudError, Service, NO_PARAMS};
use crate::resource::ResourceType;

const REGION: &str = "cn-hangzhou";
const ACCESS_ROLE: &str = "ResourceDirectoryAccountAccessRole";
/// Has the role; instances `i-m1a000` (default group) and `i-m1a001` (`team-1`).
const MEMBER: &str = "2000000000000001";
/// Deleted the role; its own RAM user has key `member2key`.
const WITHOUT_ROLE: &str = "2000000000000002";

fn group(id: &str, name: &str, default: bool) -> FleetGroup {
    FleetGroup {
        id: id.into(),
        name: name.into(),
        default,
        display_name: None,
        status: None,
    }
}

fn instance(id: &str, group: Option<&str>) -> FleetResource {
    FleetResource {
        rtype: ResourceType::Instance,
        id: id.into(),
        region: REGION.into(),
        name: String::new(),
        group: group.map(str::to_owned),
        tags: Default::default(),
        status: None,
        owner: None,
        attached: Vec::new(),
    }
}

fn member(account_id: &str, prefix: &str, roles: &[&str]) -> MemberAccount {
    MemberAccount {
        account_id: account_id.into(),
        name: format!("team {prefix}"),
        folder: Some("fd-teams".into()),
        account_type: None,
        access_keys: Vec::new(),
        resource_groups: vec![
            group(&format!("rg-{prefix}-default"), "default", true),
            group(&format!("rg-{prefix}-team"), "team-1", false),
        ],
        resources: vec![
            instance(&format!("i-{prefix}000"), None),
            instance(
                &format!("i-{prefix}001"),
                Some(&format!("rg-{prefix}-team")),
            ),
        ],
        auto_grouping: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        tags: Default::default(),
    }
}

/// The emulator's usual test account (management, key `testid`) with two
/// members in folder `fd-teams`.
fn directory_fleet() -> Fleet {
    let mut fleet = fleet(1);
    let mut without_role = member(WITHOUT_ROLE, "m2a", &[]);
    without_role.access_keys.push(AccessKey {
        id: "member2key".into(),
        secret: "member2secret".into(),
        security_token: None,
        denied_actions: Vec::new(),
    });
    fleet.accounts = vec![member(MEMBER, "m1a", &[ACCESS_ROLE]), without_role];
    fleet.folders = vec![Folder {
        id: "fd-teams".into(),
        name: "teams".into(),
        parent: None,
        tags: Default::default(),
    }];
    fleet
}

async fn call(
    client: &crate::cloud::client::Client,
    service: Service,
    action: &str,
    params: &[(&str, &str)],
) -> Result<Value, CloudError> {
    let region = (service == Service::Ecs).then_some(REGION);
    client
        .call::<Value>(&Call::new(service, region, action, params))
        .await
        .result
}

fn code_of(result: Result<Value, CloudError>) -> (u16, String) {
    let error = result.expect_err("the call fails");
    let api = error.api_error().expect("an API error").clone();
    (api.status, api.code)
}

/// The instance ids `client` sees in the region.
async fn instance_ids(client: &crate::cloud::client::Client) -> Vec<String> {
    let answer = call(client, Service::Ecs, "DescribeInstances", NO_PARAMS)
        .await
        .expect("DescribeInstances");
    ids(&answer, "Instances", "Instance", "InstanceId")
}

/// `JoinResourceGroup` of instance `id` into `group`, signed by `client`.
async fn join(
    client: &crate::cloud::client::Client,
    id: &str,
    group: &str,
) -> Result<Value, CloudError> {
    let params = [
        ("ResourceType", "instance"),
        ("ResourceId", id),
        ("ResourceGroupId", group),
    ];
    call(client, Service::Ecs, "JoinResourceGroup", &params).await
}

/// The group instance `id` of member `account` is recorded in (`None`:
/// the default group).
async fn group_in(emulator: &Emulator, account: &str, id: &str) -> Option<String> {
    let member = emulator
        .snapshot_account(account)
        .await
        .expect("the member");
    let resource = member
        .resources
        .iter()
        .find(|r| r.id == id)
        .expect("the instance");
    resource.group.clone()
}

/// A client signed with the keys `AssumeRole` into `account` gave.
async fn assume(emulator: &Emulator, account: &str) -> crate::cloud::client::Client {
    let arn = format!("acs:ram::{account}:role/{ACCESS_ROLE}");
    let answer = call(
        &client(emulator),
        Service::Sts,
        "AssumeRole",
        &[("RoleArn", &arn), ("RoleSessionName", "regroup")],
    )
    .await
    .expect("the management account assumes the member's role");
    let c = &answer["Credentials"];
    client_for(
        emulator,
        c["AccessKeyId"].as_str().expect("a key id"),
        c["AccessKeySecret"].as_str().expect("a secret"),
        c["SecurityToken"].as_str(),
    )
}

#[tokio::test]
async fn the_management_account_lists_its_members_and_each_acts_in_its_own_account() {
    let settings = Settings {
        record_requests: true,
        ..Settings::default()
    };
    let emulator = start(directory_fleet(), settings).await;
    let management = client(&emulator);
    let listed = call(
        &management,
        Service::ResourceDirectory,
        "ListAccounts",
        NO_PARAMS,
    )
    .await
    .expect("ListAccounts from the management account");
    let members = ids(&listed, "Accounts", "Account", "AccountId");
    assert_eq!(
        members,
        [MEMBER, WITHOUT_ROLE],
        "the members, not the management account"
    );
    assert_eq!(listed["Accounts"]["Account"][0]["FolderId"], "fd-teams");

    let in_member = assume(&emulator, MEMBER).await;
    assert_eq!(instance_ids(&in_member).await, ["i-m1a000", "i-m1a001"]);
    let groups = call(
        &in_member,
        Service::ResourceManager,
        "ListResourceGroups",
        NO_PARAMS,
    )
    .await
    .expect("the member's groups");
    assert_eq!(
        ids(&groups, "ResourceGroups", "ResourceGroup", "Id"),
        ["rg-m1a-default", "rg-m1a-team"]
    );
    let me = call(&in_member, Service::Sts, "GetCallerIdentity", NO_PARAMS)
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me["AccountId"], MEMBER);
    assert_eq!(
        me["Arn"],
        format!("acs:ram::{MEMBER}:assumed-role/{ACCESS_ROLE}/regroup")
    );
    assert_eq!(me["IdentityType"], "AssumedRoleUser");

    // The management account's keys still see only its own.
    let own = instance_ids(&management).await;
    assert!(
        !own.is_empty() && own.iter().all(|id| !id.starts_with("i-m1a")),
        "management sees its own instances only: {own:?}"
    );
    // The request log names the account each request acted in.
    let described: Vec<String> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.action == "DescribeInstances")
        .map(|r| r.account)
        .collect();
    assert_eq!(described, [MEMBER.to_owned(), fleet(0).account_id]);
    // A member does not list the directory.
    assert_eq!(
        code_of(
            call(
                &in_member,
                Service::ResourceDirectory,
                "ListAccounts",
                NO_PARAMS
            )
            .await
        ),
        (404, "EntityNotExists.ResourceDirectory".into())
    );
    emulator.stop().await;
}

#[tokio::test]
async fn a_members_keys_change_only_that_member() {
    let emulator = start(directory_fleet(), Settings::default()).await;
    let in_member = assume(&emulator, MEMBER).await;
    join(&in_member, "i-m1a000", "rg-m1a-team")
        .await
        .expect("a join in the member");
    assert_eq!(
        group_in(&emulator, MEMBER, "i-m1a000").await,
        Some("rg-m1a-team".into())
    );
    // The management account's resources and groups are not the member's.
    assert_eq!(
        code_of(join(&in_member, "i-0000", "rg-m1a-team").await),
        (404, "InvalidResourceId.NotFound".into()),
        "a management instance is not in the member"
    );
    assert_eq!(
        code_of(join(&in_member, "i-m1a001", "rg-prod").await),
        (404, "InvalidResourceGroup.NotFound".into()),
        "a management group is not in the member"
    );
    let management = emulator.snapshot().await;
    assert!(
        management
            .resources
            .iter()
            .all(|r| !r.id.starts_with("i-m1a")),
        "no member resource leaks into the management account"
    );
    let saved_member = management
        .accounts
        .iter()
        .find(|m| m.account_id == MEMBER)
        .expect("the snapshot holds the member");
    let member = emulator.snapshot_account(MEMBER).await.expect("the member");
    assert_eq!(
        saved_member.resources, member.resources,
        "the whole snapshot and the member's agree"
    );
    emulator.stop().await;
}

#[tokio::test]
async fn roles_that_are_missing_or_do_not_trust_the_caller_are_refused() {
    let emulator = start(directory_fleet(), Settings::default()).await;
    let assume_with = |client: crate::cloud::client::Client, account: &'static str| async move {
        let arn = format!("acs:ram::{account}:role/{ACCESS_ROLE}");
        call(
            &client,
            Service::Sts,
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "regroup")],
        )
        .await
    };
    assert_eq!(
        code_of(assume_with(client(&emulator), WITHOUT_ROLE).await),
        (404, "EntityNotExist.Role".into()),
        "the member deleted the role"
    );
    let member_user = client_for(&emulator, "member2key", "member2secret", None);
    assert_eq!(
        code_of(assume_with(member_user, MEMBER).await),
        (403, "NoPermission".into()),
        "the role trusts the management account, not another member"
    );
    let member_user = client_for(&emulator, "member2key", "member2secret", None);
    assert!(
        instance_ids(&member_user).await == ["i-m2a000", "i-m2a001"],
        "a member's own key acts in that member"
    );
    emulator.stop().await;
}

/// RAM's `denied_actions` reach the directory's calls as any other
/// (`Forbidden.RAM`), and `AssumeRole` as STS refuses a caller without
/// `sts:AssumeRole`: 403 `NoPermission`, the answer a root key or a RAM user
/// without `AliyunSTSAssumeRoleAccess` gets (docs/sources/resource-directory.md §7.2).
#[tokio::test]
async fn ram_denials_reach_list_accounts_and_assume_role() {
    let mut fleet = directory_fleet();
    fleet.access_keys[0].denied_actions.extend([
        "resourcemanager:ListAccounts".to_owned(),
        "sts:AssumeRole".to_owned(),
    ]);
    let emulator = start(fleet, Settings::default()).await;
    let management = client(&emulator);
    assert_eq!(
        code_of(
            call(
                &management,
                Service::ResourceDirectory,
                "ListAccounts",
                NO_PARAMS
            )
            .await
        ),
        (403, "Forbidden.RAM".into())
    );
    let arn = format!("acs:ram::{MEMBER}:role/{ACCESS_ROLE}");
    let assumed = call(
        &management,
        Service::Sts,
        "AssumeRole",
        &[("RoleArn", &arn), ("RoleSessionName", "regroup")],
    )
    .await;
    assert_eq!(code_of(assumed), (403, "NoPermission".into()));
    // What is not denied still works.
    call(
        &management,
        Service::ResourceDirectory,
        "ListFoldersForParent",
        NO_PARAMS,
    )
    .await
    .expect("ListFoldersForParent is not denied");
    emulator.stop().await;
}

#[tokio::test]
async fn an_account_without_members_has_no_directory() {
    let emulator = start(fleet(1), Settings::default()).await;
    assert_eq!(
        code_of(
            call(
                &client(&emulator),
                Service::ResourceDirectory,
                "ListAccounts",
                NO_PARAMS
            )
            .await
        ),
        (404, "EntityNotExists.ResourceDirectory".into())
    );
    assert_eq!(
        code_of(
            call(
                &client(&emulator),
                Service::Sts,
                "AssumeRole",
                &[
                    ("RoleArn", &format!("acs:ram::{MEMBER}:role/{ACCESS_ROLE}")),
                    ("RoleSessionName", "regroup"),
                ],
            )
            .await
        ),
        (404, "EntityNotExist.Role".into())
    );
    emulator.stop().await;
}

#[tokio::test]
async fn the_state_file_keeps_the_members_and_their_changes() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let settings = Settings {
        state_file: Some(dir.path().join("state.json")),
        ..Settings::default()
    };
    let emulator = start(directory_fleet(), settings.clone()).await;
    let in_member = assume(&emulator, MEMBER).await;
    join(&in_member, "i-m1a000", "rg-m1a-team")
        .await
        .expect("a join in the member");
    let before = emulator.snapshot().await;
    emulator.stop().await;

    // A second emulator, from a fleet without the move, starts from the file.
    let second = start(directory_fleet(), settings).await;
    let after = second.snapshot().await;
    assert_eq!(
        after, before,
        "members, folders and the move survive a restart"
    );
    assert_eq!(
        group_in(&second, MEMBER, "i-m1a000").await,
        Some("rg-m1a-team".into())
    );
    second.stop().await;
}

#[test]
fn the_fleet_check_refuses_a_directory_that_cannot_be() {
    let refused = |change: &dyn Fn(&mut Fleet)| {
        let mut fleet = directory_fleet();
        change(&mut fleet);
        fleet.check().expect_err("refused")
    };
    assert_eq!(directory_fleet().check(), Ok(()));
    assert_eq!(
        refused(&|f| f.accounts[1].account_id = MEMBER.into()),
        format!("account {MEMBER} is declared twice")
    );
    assert_eq!(
        refused(&|f| f.accounts[0].account_id = f.account_id.clone()),
        format!("account {} is declared twice", fleet(0).account_id)
    );
    assert_eq!(
        refused(&|f| f.accounts[0].account_id = "team-a".into()),
        "member account id \"team-a\" is not an account id (digits only)"
    );
    assert_eq!(
        refused(&|f| f.accounts[0].folder = Some("fd-none".into())),
        format!("member account {MEMBER} is in folder fd-none, which the fleet does not declare")
    );
    assert_eq!(
        refused(&|f| f.folders[0].id = "teams".into()),
        "folder id \"teams\" is not of the form fd-<letters and digits>"
    );
    assert_eq!(
        refused(&|f| f.folders[0].parent = Some("fd-teams".into())),
        "folder fd-teams is its own ancestor"
    );
    assert_eq!(
        refused(&|f| f.accounts[1].access_keys[0].id = "testid".into()),
        "access key testid is declared twice"
    );
    assert_eq!(
        refused(&|f| f.accounts[0].resources[1].group = Some("rg-prod".into())),
        format!(
            "member account {MEMBER}: instance/i-m1a001 is in group rg-prod, which the fleet does not declare"
        )
    );
}

/// examples/fleet-accounts.yaml is what the README and the fan-out
/// acceptance test use: three members of ten instances, tagged
/// `team: team-0..2`, all in their default group, with groups `team-0..2`.
#[test]
fn the_example_fleet_has_three_members_of_ten_tagged_instances() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet-accounts.yaml");
    let fleet = Fleet::load(&path).expect("the example loads");
    assert_eq!(fleet.accounts.len(), 3, "three members");
    for member in &fleet.accounts {
        let names: Vec<&str> = member
            .resource_groups
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["default", "team-0", "team-1", "team-2"],
            "{}",
            member.account_id
        );
        assert_eq!(
            member.roles,
            [ACCESS_ROLE],
            "{} has the access role",
            member.account_id
        );
        let teams: Vec<&str> = member
            .resources
            .iter()
            .filter(|r| r.rtype == ResourceType::Instance && r.group.is_none())
            .map(|r| r.tags["team"].as_str())
            .collect();
        assert_eq!(
            teams.len(),
            10,
            "{}: ten instances in the default group",
            member.account_id
        );
        for team in ["team-0", "team-1", "team-2"] {
            assert!(
                teams.contains(&team),
                "{}: some instance is tagged {team}",
                member.account_id
            );
        }
    }
}

/// The directory's answers against the SDK models: every path of
/// tests/fixtures/api/rdm_<Action>.json (each field of the response model
/// set, through the model's own `to_map`) is in the emulator's answer with
/// the same JSON type, except the fields that are only there at times.
#[tokio::test]
async fn directory_answers_have_the_sdk_models_paths_and_types() {
    use super::fidelity_tests::paths;
    let mut fleet = directory_fleet();
    fleet.accounts[0].tags.insert("env".into(), "prod".into());
    fleet.folders[0]
        .tags
        .insert("owner".into(), "platform".into());
    let emulator = start(fleet, Settings::default()).await;
    // DeletionStatus: only while a member is being deleted; NextToken: only
    // under token paging (MaxResults), which has no page numbers.
    let sometimes = ["Accounts.Account[].DeletionStatus", "NextToken"];
    for (action, params) in [
        ("ListAccounts", vec![("IncludeTags", "true")]),
        (
            "ListAccountsForParent",
            vec![("IncludeTags", "true"), ("ParentFolderId", "fd-teams")],
        ),
        ("ListFoldersForParent", vec![]),
        ("GetResourceDirectory", vec![]),
    ] {
        let fixture: Value = crate::api::fixtures::json(&format!("rdm_{action}.json"));
        let answer = call(
            &client(&emulator),
            Service::ResourceDirectory,
            action,
            &params,
        )
        .await
        .unwrap_or_else(|e| panic!("{action}: {e}"));
        let (mut expected, mut got) = (Default::default(), Default::default());
        paths(&fixture, "", &mut expected);
        paths(&answer, "", &mut got);
        for (path, types) in &expected {
            if sometimes.contains(&path.as_str()) {
                continue;
            }
            assert_eq!(got.get(path), Some(types), "{action}: {path}");
        }
        let extra: Vec<&String> = got.keys().filter(|p| !expected.contains_key(*p)).collect();
        assert!(
            extra.is_empty(),
            "{action}: fields the model lacks: {extra:?}"
        );
    }
    emulator.stop().await;
}
