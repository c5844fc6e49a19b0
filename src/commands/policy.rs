//! `regroup policy`: the least-privilege RAM policy for what a manifest
//! needs, as JSON to paste into the RAM console or a Terraform
//! `alicloud_ram_policy`. Offline: it needs the manifest only.

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::{json, Value};

use super::{load_manifest, Exit};
use crate::api::describe::TypeApi;
use crate::api::ram::action_name;
use crate::api::Service;
use crate::cli::Global;
use crate::inventory;
use crate::output::Stdout;
use crate::resource::ResourceType;

pub(super) fn run(global: &Global, out: &mut Stdout) -> anyhow::Result<Exit> {
    let manifest = load_manifest(global)?;
    // A whole listing and a read by id need the same permission.
    let needs: BTreeSet<(String, ResourceType)> =
        inventory::scopes(&manifest).into_keys().collect();
    serde_json::to_writer_pretty(&mut *out, &policy(&needs))?;
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
/// - Not included because regroup needs none: STS `AssumeRoleWithOIDC`
///   (the OIDC credential path) is an anonymous call that the role's trust
///   policy allows, not the caller's policy; regroup calls no other STS
///   API and no Quota Center API.
pub fn policy(needs: &BTreeSet<(String, ResourceType)>) -> Value {
    let mut reads: Vec<String> = needs
        .iter()
        .map(|(_, rtype)| action_name(Service::Ecs, TypeApi::of(*rtype).action))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    reads.push(action_name(Service::ResourceManager, "ListResourceGroups"));
    let resources: Vec<String> = needs
        .iter()
        .map(|(region, rtype)| format!("acs:ecs:{region}:*:{rtype}/*"))
        .collect();
    json!({
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": reads, "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [action_name(Service::Ecs, "JoinResourceGroup")],
                "Resource": resources,
            },
        ],
    })
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
        let policy = policy(&needs);
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
    }
}
