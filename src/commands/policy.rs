//! `regroup policy`: the least-privilege RAM policy for what a manifest
//! needs, for the commands asked for (`--for apply`, the default, and
//! `--for history`), as JSON to paste into the RAM console or a Terraform
//! `alicloud_ram_policy`. Offline: it needs the manifest only. A manifest
//! with `accounts:` gets two documents (`accounts`).

mod accounts;

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::{json, Value};

use super::{load_manifest, Exit};
use crate::api::describe::TypeApi;
use crate::api::ram::action_name;
use crate::api::resource_center::{GET_SERVICE_STATUS, SEARCH_RESOURCES};
use crate::api::Service;
use crate::cli::{Global, PolicyArgs, PolicyFor};
use crate::inventory;
use crate::output::Stdout;
use crate::resource::ResourceType;

pub(super) fn run(global: &Global, args: &PolicyArgs, out: &mut Stdout) -> anyhow::Result<Exit> {
    let manifest = load_manifest(global)?;
    // A whole listing and a read by id need the same permission.
    let needs: BTreeSet<(String, ResourceType)> =
        inventory::scopes(&manifest).into_keys().collect();
    let searches = !inventory::search::Needs::of(&manifest).is_empty();
    let commands: BTreeSet<PolicyFor> = args.commands.iter().copied().collect();
    let single = policy(&needs, searches, &commands);
    let printed = match &manifest.accounts {
        Some(spec) => accounts::across_accounts(spec, single),
        None => single,
    };
    serde_json::to_writer_pretty(&mut *out, &printed)?;
    writeln!(out)?;
    Ok(Exit::Success)
}

/// The policy for reading and moving resources of these (region, type)
/// pairs. Format: `Version` "1" and `Statement`s of `Effect`, `Action`,
/// `Resource` (RAM policy syntax, docs/sources/resourcemanager-rules.md §4).
///
/// - Reads: the Describe* API of each type the manifest names, for plan,
///   the stale-plan guard and verification, and Resource Manager's
///   `ListResourceGroups`, on `*` (list APIs are not scoped to resources).
/// - Writes: `ecs:JoinResourceGroup` on the manifest's types in its regions
///   only, in the ARN forms of the API's "Authorization information"
///   (`acs:ecs:{#regionId}:{#accountId}:instance/{#instanceId}`, …); the
///   account is `*` since the manifest does not name it. The API lists no
///   associated operation, so the target group needs no permission of its
///   own.
/// - Other services' types (`service:type`), when the manifest names any:
///   `resourcemanager:ListResources` among the reads and
///   `resourcemanager:MoveResources` on `*` (its page's "Authorization
///   information": resource "All Resources", no associated operation;
///   docs/sources/resourcemanager-services.md §2.4). ListResources' pages
///   disclose no action ("no authorization required", §3.3); it is granted
///   all the same, named as every Resource Manager action is: an action
///   RAM does not check costs nothing, and a policy without it would break
///   the day it does.
/// - Resource Center, when a `tags`/`name` rule selects other services'
///   types (`searches`): `resourcecenter:GetResourceCenterServiceStatus`
///   and `resourcecenter:SearchResources` among the reads (the latter
///   "list, all resources" on its page; the former's name follows the
///   `<code>:<Action>` convention, no page discloses it;
///   docs/sources/resourcemanager-services.md §7).
/// - Not included because regroup needs none: STS `AssumeRoleWithOIDC`
///   (the OIDC credential path) is an anonymous call that the role's trust
///   policy allows, not the caller's policy; a run in one account calls
///   no other STS API (a run over accounts assumes a role in each member:
///   `accounts::management_policy`) and no Quota Center API.
/// - For `history` and `plan --who` (`--for history`):
///   `actiontrail:LookupEvents`, called in the region of the resource asked
///   about, on `acs:actiontrail:{region}:*:*` for the manifest's regions
///   (ActionTrail's RAM authentication table gives the resource as
///   `acs:actiontrail:${region}:${AccountId}:*`,
///   <https://www.alibabacloud.com/help/doc-detail/103029.html>;
///   docs/sources/actiontrail.md §1), and `ListResourceGroups`, which
///   `history` reads for group names.
pub fn policy(
    needs: &BTreeSet<(String, ResourceType)>,
    searches: bool,
    commands: &BTreeSet<PolicyFor>,
) -> Value {
    let apply = commands.contains(&PolicyFor::Apply);
    let mut reads: BTreeSet<String> = BTreeSet::new();
    if apply {
        reads.extend(
            needs
                .iter()
                .filter(|(_, rtype)| rtype.is_ecs())
                .map(|(_, rtype)| action_name(Service::Ecs, TypeApi::of(*rtype).action)),
        );
    }
    let other_services = apply && needs.iter().any(|(_, rtype)| !rtype.is_ecs());
    if other_services {
        reads.insert(action_name(Service::ResourceManager, "ListResources"));
    }
    if apply && searches {
        reads.extend(
            [GET_SERVICE_STATUS, SEARCH_RESOURCES]
                .map(|action| action_name(Service::ResourceCenter, action)),
        );
    }
    reads.insert(action_name(Service::ResourceManager, "ListResourceGroups"));
    let mut statements = vec![json!({"Effect": "Allow", "Action": reads, "Resource": "*"})];
    let joined: Vec<String> = needs
        .iter()
        .filter(|(_, rtype)| apply && rtype.is_ecs())
        .map(|(region, rtype)| format!("acs:ecs:{region}:*:{rtype}/*"))
        .collect();
    if !joined.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": [action_name(Service::Ecs, "JoinResourceGroup")],
            "Resource": joined,
        }));
    }
    if other_services {
        statements.push(json!({
            "Effect": "Allow",
            "Action": [action_name(Service::ResourceManager, "MoveResources")],
            "Resource": "*",
        }));
    }
    if commands.contains(&PolicyFor::History) {
        let regions: BTreeSet<&str> = needs.iter().map(|(region, _)| region.as_str()).collect();
        let resources: Vec<String> = regions
            .iter()
            .map(|region| format!("acs:actiontrail:{region}:*:*"))
            .collect();
        statements.push(json!({
            "Effect": "Allow",
            "Action": [action_name(Service::ActionTrail, "LookupEvents")],
            "Resource": resources,
        }));
    }
    json!({"Version": "1", "Statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_types_and_regions_named_are_granted() {
        let needs = BTreeSet::from([
            ("cn-hangzhou".to_owned(), ResourceType::Disk),
            ("cn-shanghai".to_owned(), ResourceType::Disk),
            ("cn-shanghai".to_owned(), ResourceType::KeyPair),
        ]);
        let policy = policy(&needs, false, &BTreeSet::from([PolicyFor::Apply]));
        assert_eq!(policy["Version"], "1");
        assert_eq!(
            policy["Statement"][0]["Action"],
            json!([
                "ecs:DescribeDisks",
                "ecs:DescribeKeyPairs",
                "resourcemanager:ListResourceGroups"
            ])
        );
        assert_eq!(
            policy["Statement"][1]["Resource"],
            json!([
                "acs:ecs:cn-hangzhou:*:disk/*",
                "acs:ecs:cn-shanghai:*:disk/*",
                "acs:ecs:cn-shanghai:*:keypair/*"
            ])
        );
        for statement in policy["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow");
        }
        assert_eq!(
            policy["Statement"].as_array().map(Vec::len),
            Some(2),
            "no ActionTrail unless asked for"
        );
    }

    #[test]
    fn other_services_add_list_and_move_resources_and_no_empty_join() {
        let eip: ResourceType = "eip:eip".parse().unwrap();
        let only_others = BTreeSet::from([("cn-hangzhou".to_owned(), eip)]);
        assert_eq!(
            policy(&only_others, false, &BTreeSet::from([PolicyFor::Apply]))["Statement"],
            json!([
                {
                    "Effect": "Allow",
                    "Action": ["resourcemanager:ListResourceGroups", "resourcemanager:ListResources"],
                    "Resource": "*"
                },
                {"Effect": "Allow", "Action": ["resourcemanager:MoveResources"], "Resource": "*"}
            ]),
            "no JoinResourceGroup statement with no ECS type to join"
        );
        let mixed = BTreeSet::from([
            ("cn-hangzhou".to_owned(), eip),
            ("cn-hangzhou".to_owned(), ResourceType::Instance),
        ]);
        let statements =
            policy(&mixed, false, &BTreeSet::from([PolicyFor::Apply]))["Statement"].clone();
        assert_eq!(
            statements[1]["Resource"],
            json!(["acs:ecs:cn-hangzhou:*:instance/*"])
        );
        assert_eq!(
            statements[2]["Action"],
            json!(["resourcemanager:MoveResources"])
        );
        let history = policy(&only_others, false, &BTreeSet::from([PolicyFor::History]));
        assert!(
            !history.to_string().contains("MoveResources"),
            "history moves nothing: {history}"
        );
    }

    /// Issue 29: `--for history` grants `actiontrail:LookupEvents` in the
    /// manifest's regions, alone or beside what apply needs.
    #[test]
    fn history_grants_lookup_events_in_the_manifests_regions() {
        let needs = BTreeSet::from([
            ("cn-hangzhou".to_owned(), ResourceType::Disk),
            ("cn-shanghai".to_owned(), ResourceType::Instance),
        ]);
        let history = policy(&needs, false, &BTreeSet::from([PolicyFor::History]));
        assert_eq!(
            history["Statement"],
            json!([
                {"Effect": "Allow", "Action": ["resourcemanager:ListResourceGroups"], "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": ["actiontrail:LookupEvents"],
                    "Resource": ["acs:actiontrail:cn-hangzhou:*:*", "acs:actiontrail:cn-shanghai:*:*"]
                }
            ]),
            "history reads group names and events, and moves nothing"
        );
        let both = policy(
            &needs,
            false,
            &BTreeSet::from([PolicyFor::Apply, PolicyFor::History]),
        );
        let statements = both["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 3, "{both}");
        assert_eq!(statements[1]["Action"], json!(["ecs:JoinResourceGroup"]));
        assert_eq!(statements[2]["Action"], json!(["actiontrail:LookupEvents"]));
    }
}
