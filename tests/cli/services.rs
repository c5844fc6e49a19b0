//! Other services' types (`service:type`, issue 27) end to end through the
//! real binary against the emulator: 12 ECS resources and 16 others (4 each
//! of EIPs, CLB load balancers, RDS instances and OSS buckets) planned,
//! applied and converged into one group, the others moving through
//! `MoveResources` in calls of at most 10 (counted from the emulator's
//! request log); a `MoveResources` answer that fails one resource gives a
//! report that matches the account resource by resource; ids read in the
//! fewest `ListResources` calls; `tags` rules on EIPs served by Resource
//! Center where it is on and refused at their line where it is off, or
//! where it cannot search the type; `export --all-services` round-trips; an undo plan and an exclusive
//! group work for them as for ECS types.

use std::collections::BTreeMap;

use crate::harness::{read_json, stdout_of, Running, Setup};
use crate::text::indoc;
use regroup::emulator::fleet::FleetResource;
use regroup::resource::ResourceType;

const REGION: &str = "cn-hangzhou";

fn rtype(name: &str) -> ResourceType {
    name.parse().expect("a known type")
}

/// Adds `count` resources of `spelling`'s type called `<prefix><n>`,
/// alternately in the default group and `legacy`; returns their manifest
/// entries, in the spelling given (`vpc:eip` is read as `eip:eip`).
fn add(setup: &mut Setup, spelling: &str, prefix: &str, count: usize) -> Vec<String> {
    let t = rtype(spelling);
    (0..count)
        .map(|n| {
            let id = format!("{prefix}{n:04}");
            setup.fleet.resources.push(FleetResource {
                group: (n % 2 == 1).then(|| "rg-legacy".to_owned()),
                ..crate::support::resource(t, &id, REGION)
            });
            format!("{spelling}/{id}")
        })
        .collect()
}

/// The issue's account: 12 ECS resources and 4 each of EIPs, CLB load
/// balancers, RDS instances and OSS buckets, none in `prod`; and the
/// manifest entries that put all 28 there, in the issue's spellings.
fn twenty_eight() -> (Setup, Vec<String>) {
    let mut setup = Setup::new();
    let mut entries = Vec::new();
    entries.extend(add(&mut setup, "instance", "i-bp1svc", 6));
    entries.extend(add(&mut setup, "disk", "d-bp1svc", 3));
    entries.extend(add(&mut setup, "securitygroup", "sg-bp1svc", 3));
    entries.extend(add(&mut setup, "vpc:eip", "eip-bp1svc", 4));
    entries.extend(add(&mut setup, "slb:instance", "lb-bp1svc", 4));
    entries.extend(add(&mut setup, "rds:DBInstance", "rm-bp1svc", 4));
    entries.extend(add(&mut setup, "oss:bucket", "assets-", 4));
    (setup, entries)
}

fn manifest(entries: &[String]) -> String {
    let mut text = format!("version: 1\nregions: [{REGION}]\ngroups:\n  prod:\n    resources:\n");
    for entry in entries {
        text.push_str(&format!("      - {entry}\n"));
    }
    text
}

/// Each resource's group now, by id.
fn account(env: &Running) -> BTreeMap<String, String> {
    env.snapshot()
        .resources
        .into_iter()
        .map(|r| (r.id, r.group.unwrap_or_else(|| "rg-default".into())))
        .collect()
}

/// The `Resources.N.ResourceId` of every `MoveResources` call, call by call.
fn move_calls(env: &Running) -> Vec<Vec<String>> {
    env.requests()
        .into_iter()
        .filter(|r| r.action == "MoveResources")
        .map(|r| {
            r.params
                .iter()
                .filter(|(k, _)| k.starts_with("Resources.") && k.ends_with(".ResourceId"))
                .map(|(_, v)| v.clone())
                .collect()
        })
        .collect()
}

/// `apply --auto-approve --report`: its exit code, stdout, and the report.
fn apply(env: &Running) -> (i32, String, serde_json::Value) {
    let report = env.path("report.json");
    let (code, out, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ]));
    assert!(
        report.exists(),
        "a report is written on every path: {out}{err}"
    );
    (code, out, read_json(&report))
}

/// The resources of `group` as the official Python SDK's `ListResources`
/// (alibabacloud_resourcemanager20200331 2.6.2) pages them: `service:type/id`.
fn listed_by_the_sdk(env: &Running, group: &str) -> Vec<String> {
    const SCRIPT: &str = r#"
import sys
from alibabacloud_resourcemanager20200331 import models
from alibabacloud_resourcemanager20200331.client import Client
from alibabacloud_tea_openapi import models as open_api_models
endpoint, key_id, secret, group = sys.argv[1:5]
client = Client(open_api_models.Config(access_key_id=key_id, access_key_secret=secret,
    endpoint=endpoint, protocol="http", region_id="cn-hangzhou"))
found = []
for page in range(1, 11):
    body = client.list_resources(models.ListResourcesRequest(
        resource_group_id=group, page_size=100, page_number=page)).body
    found += [f"{r.service}:{r.resource_type}/{r.resource_id}" for r in body.resources.resource]
    if len(found) >= body.total_count:
        break
print("\n".join(sorted(found)))
"#;
    let mut command =
        std::process::Command::new(crate::tools::python(crate::conformance::PYTHON_SDKS));
    command.arg("-c").arg(SCRIPT).args([
        &env.emulator.addr().to_string(),
        crate::harness::KEY_ID,
        crate::harness::SECRET,
        group,
    ]);
    let output = crate::tools::loopback_only(&mut command)
        .output()
        .expect("the SDK runs");
    assert!(
        output.status.success(),
        "the SDK's ListResources failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn twelve_ecs_and_sixteen_others_converge_into_one_group() {
    let (setup, entries) = twenty_eight();
    let env = setup.manifest(&manifest(&entries)).start();
    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "changes to make exit 2: {out}{err}");
    assert!(out.contains("Plan: 28 to move, 0 unchanged."), "{out}");
    for line in [
        "  ~ eip:eip/eip-bp1svc0000 (cn-hangzhou)  default → prod  # ",
        "  ~ slb:loadbalancer/lb-bp1svc0001 (cn-hangzhou)  legacy → prod  # ",
        "  ~ rds:dbinstance/rm-bp1svc0002 (cn-hangzhou)  default → prod  # ",
        "  ~ oss:bucket/assets-0003 (cn-hangzhou)  legacy → prod  # ",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "the issue's spellings are planned as doc 94479's codes: `{line}` in {out}"
        );
    }

    let (code, out, report) = apply(&env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Apply complete! 28 moved, 0 failed."), "{out}");
    assert_eq!(report["moved"], 28, "{report}");
    let calls = move_calls(&env);
    let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        vec![10, 6],
        "the 16 other services' moves, at most 10 a MoveResources call: {calls:?}"
    );
    assert_eq!(
        env.writes(),
        12,
        "the 12 ECS moves are JoinResourceGroup calls"
    );
    let groups = account(&env);
    assert_eq!(groups.len(), 28);
    assert!(
        groups.values().all(|g| g == "rg-prod"),
        "every resource is in prod: {groups:?}"
    );

    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "nothing left to do: {out}{err}");
    assert!(out.starts_with("No changes. All 28 resources"), "{out}");

    let listed = listed_by_the_sdk(&env, "rg-prod");
    let mut expected: Vec<String> = entries
        .iter()
        .map(|entry| {
            let (t, id) = entry.split_once('/').expect("type/id");
            let t = rtype(t);
            format!("{}:{}/{id}", t.service(), t.rm_type())
        })
        .collect();
    expected.sort();
    assert_eq!(listed, expected, "the official SDK lists all 28 in prod");
}

#[test]
fn a_mixed_move_answer_gives_a_report_that_matches_the_account() {
    let mut setup = Setup::new();
    let mut entries = add(&mut setup, "eip:eip", "eip-bp1mix", 4);
    entries.extend(add(&mut setup, "oss:bucket", "mixed-", 2));
    // MoveResources answers FAIL/NoPermission for these two, SUCCESS for the rest.
    for resource in &mut setup.fleet.resources {
        if ["eip-bp1mix0002", "mixed-0001"].contains(&resource.id.as_str()) {
            resource.move_error = Some("NoPermission".into());
        }
    }
    let env = setup.manifest(&manifest(&entries)).start();
    let before = account(&env);
    let (code, out, report) = apply(&env);
    assert_eq!(code, 1, "an apply with failed changes exits 1: {out}");
    assert!(out.contains("Apply complete! 4 moved, 2 failed."), "{out}");
    assert_eq!(move_calls(&env).len(), 1, "six moves are one call");
    let now = account(&env);
    for outcome in report["outcomes"].as_array().expect("outcomes") {
        let id = outcome["change"]["resource"]["id"].as_str().expect("an id");
        let status = outcome["status"].as_str().expect("a status");
        match status {
            "moved" => assert_eq!(now[id], "rg-prod", "{id} is moved: {outcome}"),
            "failed" => {
                assert_eq!(now[id], before[id], "{id} failed and stayed: {outcome}");
                assert_eq!(outcome["code"], "NoPermission", "{outcome}");
                assert_eq!(outcome["message"], "No permissions", "{outcome}");
            }
            other => panic!("{id} is {other}: {outcome}"),
        }
    }
    let failed: Vec<&str> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "failed")
        .map(|o| o["change"]["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["eip-bp1mix0002", "mixed-0001"]);
}

#[test]
fn ids_are_read_in_the_fewest_list_resources_calls() {
    // 450 EIPs, 5 pages of 100: a manifest of 3 of them reads the first
    // page and then each id not on it (3 calls at most), never the 4 pages
    // left; a manifest of 300 reads the whole listing (5 calls).
    let mut setup = Setup::new();
    let all = add(&mut setup, "eip:eip", "eip-bp1many", 450);
    let env = setup.manifest(&manifest(&all[447..])).start();
    let calls = |env: &Running| {
        env.requests()
            .iter()
            .filter(|r| r.action == "ListResources")
            .count()
    };
    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("Plan: 3 to move, 0 unchanged."), "{out}");
    assert_eq!(
        calls(&env),
        4,
        "3 ids not on the first page: that page, then one call per id, not the 4 pages left"
    );
    env.write("m300.yaml", &manifest(&all[..300]));
    let before = calls(&env);
    let (code, out, err) = env.run(&["-f", "m300.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("Plan: 300 to move, 0 unchanged."), "{out}");
    assert_eq!(
        calls(&env) - before,
        5,
        "300 ids of 450: the listing's 5 pages, not 300 calls"
    );
}

#[test]
fn tag_and_name_rules_on_types_resource_center_cannot_search_are_refused_at_their_line() {
    let env = Setup::new()
        .manifest(&one_rule(
            "{type: [instance, cdn:domain], tags: {team: payments}}",
        ))
        .start();
    let (code, out, err) = env.run(&["plan"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "Error: {}:6:10: groups.prod.select[0]: `tags` and `name` cannot select cdn:domain: regroup reads other services' names and tags with Resource Center's SearchResources, and no Resource Center type (`ACS::…`) is known for cdn:domain\n  hint: select it by `type`, `region` and `in_group`, or list its resources under `resources:`; docs/manifest.md#other-services-servicetype lists the types `tags` and `name` can select\n",
            env.manifest.display()
        ),
        "the rule's place, what is wrong, and what to do"
    );
    assert!(
        env.requests().is_empty(),
        "nothing is called for a bad manifest"
    );
}

/// A manifest that puts what `rule` selects in prod; the rule is on line 6.
fn one_rule(rule: &str) -> String {
    format!("version: 1\nregions: [{REGION}]\ngroups:\n  prod:\n    select:\n      - {rule}\n")
}

/// examples/fleet-services.yaml (Resource Center on), with its third EIP
/// tagged for another team, so that a tag rule has EIPs to leave out.
fn services_example(resource_center: bool) -> Setup {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet-services.yaml");
    let mut fleet = regroup::emulator::fleet::Fleet::load(&path).expect("the example loads");
    assert!(fleet.resource_center, "the example has Resource Center on");
    fleet.resource_center = resource_center;
    let third = fleet
        .resources
        .iter_mut()
        .find(|r| r.id == "eip-bp1cccccccccccccccccccc")
        .expect("the example's third EIP");
    third.tags = BTreeMap::from([("team".to_owned(), "search".to_owned())]);
    Setup::new()
        .fleet(fleet)
        .manifest(&one_rule("{type: eip:eip, tags: {team: payments}}"))
}

/// The actions `regroup policy` grants for the test's manifest.
fn policy_actions(env: &Running) -> Vec<String> {
    let (code, out, err) = env.run(&["policy"]);
    assert_eq!(code, 0, "{err}");
    let policy: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["Action"].as_array().expect("actions"))
        .map(|a| a.as_str().expect("an action").to_owned())
        .collect()
}

/// How many calls of `action` the emulator has seen.
fn count(env: &Running, action: &str) -> usize {
    env.requests().iter().filter(|r| r.action == action).count()
}

#[test]
fn a_tag_rule_on_eips_plans_exactly_the_tagged_ones_through_resource_center() {
    let env = services_example(true).start();
    let before = account(&env);
    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "changes to make exit 2: {out}{err}");
    let rule = format!("{}:6:10", env.manifest.display());
    assert_eq!(
        out,
        format!(
            "regroup will move these resources:

  ~ eip:eip/eip-bp1aaaaaaaaaaaaaaaaaaaa (cn-hangzhou)  default → prod  # {rule}
  ~ eip:eip/eip-bp1bbbbbbbbbbbbbbbbbbbb (cn-hangzhou)  legacy → prod  # {rule}

Groups, before → after:
  default (rg-acfmdefault00001)
    - eip:eip/eip-bp1aaaaaaaaaaaaaaaaaaaa (cn-hangzhou)
  legacy (rg-acfmlegacy000001)
    - eip:eip/eip-bp1bbbbbbbbbbbbbbbbbbbb (cn-hangzhou)
  prod (rg-acfmprod00000001)
      … 1 unchanged
    + eip:eip/eip-bp1aaaaaaaaaaaaaaaaaaaa (cn-hangzhou)
    + eip:eip/eip-bp1bbbbbbbbbbbbbbbbbbbb (cn-hangzhou)

Plan: 2 to move, 1 unchanged.
"
        ),
        "the two tagged EIPs outside prod move, the one in prod is unchanged, the one tagged for another team is left alone"
    );
    assert_eq!(
        count(&env, "GetResourceCenterServiceStatus"),
        1,
        "the status is asked once a plan"
    );
    let searches: Vec<_> = env
        .requests()
        .into_iter()
        .filter(|r| r.action == "SearchResources")
        .collect();
    assert_eq!(searches.len(), 1, "28 resources: one page of 100");
    let filters: Vec<(&str, &str)> = searches[0]
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("Filter.") || *k == "MaxResults")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        filters,
        vec![
            ("Filter.1.Key", "ResourceType"),
            ("Filter.1.MatchType", "Equals"),
            ("Filter.1.Value.1", "ACS::EIP::EipAddress"),
            ("Filter.2.Key", "RegionId"),
            ("Filter.2.MatchType", "Equals"),
            ("Filter.2.Value.1", "cn-hangzhou"),
            ("MaxResults", "100"),
        ],
        "EIPs of the manifest's region, the SDK model's largest page"
    );

    let (code, out, report) = apply(&env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Apply complete! 2 moved, 0 failed."), "{out}");
    assert_eq!(report["moved"], 2, "{report}");
    assert_eq!(
        move_calls(&env),
        vec![vec![
            "eip-bp1aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "eip-bp1bbbbbbbbbbbbbbbbbbbb".to_owned()
        ]],
        "one MoveResources for the two"
    );
    let mut expected = before;
    for id in ["eip-bp1aaaaaaaaaaaaaaaaaaaa", "eip-bp1bbbbbbbbbbbbbbbbbbbb"] {
        expected.insert(id.to_owned(), "rg-acfmprod00000001".to_owned());
    }
    assert_eq!(account(&env), expected, "only the two tagged EIPs moved");

    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "converged: {out}{err}");
    assert!(out.starts_with("No changes. All 3 resources"), "{out}");

    let actions = policy_actions(&env);
    for action in [
        "resourcecenter:GetResourceCenterServiceStatus",
        "resourcecenter:SearchResources",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} granted: {actions:?}"
        );
    }
}

#[test]
fn a_tag_rule_on_eips_without_resource_center_fails_at_its_line_and_moves_nothing() {
    let env = services_example(false).start();
    let before = account(&env);
    let expected = format!(
        "Error: {}:6:10: this rule selects eip:eip by `tags` or `name`, which regroup reads with Resource Center's SearchResources, and Resource Center is not enabled for this account\n  hint: enable Resource Center (https://www.alibabacloud.com/help/en/resource-management/resource-center/developer-reference/api-resourcecenter-2022-12-01-enableresourcecenter) and plan again, or select eip:eip by `type`, `region` and `in_group`, or list them under `resources:` (docs/manifest.md#other-services-servicetype)\n",
        env.manifest.display()
    );
    for command in [
        &["plan", "--detailed-exitcode"][..],
        &["apply", "--auto-approve"],
    ] {
        let (code, out, err) = env.run(command);
        assert_eq!(
            code, 1,
            "{command:?} exits as for a bad manifest: {out}{err}"
        );
        assert_eq!(
            err, expected,
            "{command:?}: the rule's place, why, and what to do"
        );
    }
    assert_eq!(
        count(&env, "SearchResources"),
        0,
        "no search without Resource Center"
    );
    assert_eq!(
        (move_calls(&env).len(), env.writes()),
        (0, 0),
        "nothing is moved"
    );
    assert_eq!(account(&env), before, "the account is as it was");
}

#[test]
fn one_search_covers_every_region_of_a_rule() {
    // An EIP and a bucket tagged `team: a` and one of each untagged, in each
    // of two regions: one SearchResources page answers for all eight.
    let mut setup = Setup::new();
    setup.fleet.resource_center = true;
    for region in ["cn-hangzhou", "cn-beijing"] {
        for (t, id) in [("eip:eip", "eip-bp1two"), ("oss:bucket", "two-bucket")] {
            for (suffix, team) in [("a", "a"), ("b", "b")] {
                let mut resource =
                    crate::support::resource(rtype(t), &format!("{id}-{region}-{suffix}"), region);
                resource.tags = BTreeMap::from([("team".to_owned(), team.to_owned())]);
                setup.fleet.resources.push(resource);
            }
        }
    }
    let env = setup
        .manifest(
            "version: 1\nregions: [cn-hangzhou, cn-beijing]\ngroups:\n  prod:\n    select:\n      - {type: [eip:eip, oss:bucket], tags: {team: a}}\n",
        )
        .start();
    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}{err}");
    let mut moved: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  ~ "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    moved.sort_unstable();
    assert_eq!(
        moved,
        vec![
            "eip:eip/eip-bp1two-cn-beijing-a",
            "eip:eip/eip-bp1two-cn-hangzhou-a",
            "oss:bucket/two-bucket-cn-beijing-a",
            "oss:bucket/two-bucket-cn-hangzhou-a",
        ],
        "the tagged EIP and bucket of each region: {out}"
    );
    let searches: Vec<BTreeMap<String, String>> = env
        .requests()
        .into_iter()
        .filter(|r| r.action == "SearchResources")
        .map(|r| r.params)
        .collect();
    assert_eq!(
        searches.len(),
        1,
        "one search for both types in both regions"
    );
    let values = |filter: &str| -> Vec<&str> {
        searches[0]
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("Filter.{filter}.Value.")))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(
        values("1"),
        vec!["ACS::EIP::EipAddress", "ACS::OSS::Bucket"]
    );
    assert_eq!(values("2"), vec!["cn-beijing", "cn-hangzhou"]);
}

#[test]
fn a_search_ram_refuses_fails_the_plan_naming_the_action() {
    let env = services_example(true)
        .deny(&["resourcecenter:SearchResources"])
        .start();
    let before = account(&env);
    let (code, out, err) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with("Error: SearchResources: ")
            && err.contains("resourcecenter:SearchResources"),
        "the denied action is named: {err}"
    );
    assert_eq!(account(&env), before, "nothing is moved");
}

#[test]
fn a_name_rule_follows_search_pages_and_costs_one_listing_of_each_read() {
    // 250 EIPs, every fifth named `web-…`: the search's three pages of 100
    // (NextToken on the first two) find the 50, and the plan's reads are
    // the status, those 3 pages and ListResources' 3 pages of 100.
    let mut setup = Setup::new();
    add(&mut setup, "eip:eip", "eip-bp1page", 250);
    for (n, resource) in setup.fleet.resources.iter_mut().enumerate() {
        if n % 5 == 0 {
            resource.name = format!("web-{n}");
        }
    }
    setup.fleet.resource_center = true;
    let env = setup
        .manifest(&one_rule("{type: eip:eip, name: web-*}"))
        .start();
    let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("Plan: 50 to move, 0 unchanged."), "{out}");
    let calls: Vec<usize> = [
        "GetResourceCenterServiceStatus",
        "SearchResources",
        "ListResources",
    ]
    .iter()
    .map(|action| count(&env, action))
    .collect();
    assert_eq!(
        calls,
        vec![1, 3, 3],
        "status once, then pages of 100 of each listing"
    );
    let tokens: Vec<bool> = env
        .requests()
        .iter()
        .filter(|r| r.action == "SearchResources")
        .map(|r| r.params.contains_key("NextToken"))
        .collect();
    assert_eq!(
        tokens,
        vec![false, true, true],
        "each page after the first follows its token"
    );
}

#[test]
fn policy_grants_move_resources_and_export_all_services_round_trips() {
    let (setup, entries) = twenty_eight();
    let env = setup.manifest(&manifest(&entries)).start();
    let actions = policy_actions(&env);
    for action in [
        "resourcemanager:ListResources",
        "resourcemanager:MoveResources",
        "ecs:JoinResourceGroup",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    assert!(
        !actions.iter().any(|a| a.starts_with("resourcecenter:")),
        "no Resource Center without a tags/name rule on other services: {actions:?}"
    );

    let (code, exported, err) = env.run(&["export", "--region", REGION, "--all-services"]);
    assert_eq!(code, 0, "{err}");
    for entry in [
        "eip:eip/eip-bp1svc0000",
        "oss:bucket/assets-0001",
        "instance/i-bp1svc0000",
    ] {
        assert!(exported.contains(entry), "{entry} exported: {exported}");
    }
    env.write("exported.yaml", &exported);
    let (code, out, err) = env.run(&["-f", "exported.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{exported}\n{out}{err}");
    assert!(out.starts_with("No changes. All 28 resources"), "{out}");
}

#[test]
fn an_undo_plan_moves_other_services_back_where_they_were() {
    let mut setup = Setup::new();
    let mut entries = add(&mut setup, "eip:eip", "eip-bp1undo", 3);
    entries.extend(add(&mut setup, "oss:bucket", "undo-", 2));
    entries.extend(add(&mut setup, "instance", "i-bp1undo", 2));
    let env = setup.manifest(&manifest(&entries)).start();
    let before = account(&env);
    let (undo, _, out) = crate::harness::apply_recorded(&env);
    assert!(out.contains("Apply complete! 7 moved, 0 failed."), "{out}");
    assert!(account(&env).values().all(|g| g == "rg-prod"));
    let (code, out, err) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Apply complete! 7 moved, 0 failed."), "{out}");
    assert_eq!(account(&env), before, "every resource is back where it was");
    let mut calls: Vec<usize> = move_calls(&env).iter().map(Vec::len).collect();
    // The two calls back run at once: their order in the log is free.
    calls[1..].sort_unstable();
    assert_eq!(
        calls,
        vec![5, 2, 3],
        "one call there; back, one call per group the resources came from (legacy's 2, default's 3)"
    );
}

#[test]
fn an_exclusive_group_evicts_other_services_members_it_does_not_name() {
    let mut setup = Setup::new();
    for n in 0..4 {
        setup.fleet.resources.push(FleetResource {
            group: Some("rg-prod".into()),
            ..crate::support::resource(rtype("eip:eip"), &format!("eip-bp1ex{n}"), REGION)
        });
    }
    let env = setup
        .manifest(&indoc(
            "
            version: 1
            regions: [cn-hangzhou]
            groups:
              prod:
                exclusive: true
                resources: [eip:eip/eip-bp1ex0, eip:eip/eip-bp1ex1]
            ",
        ))
        .start();
    let (code, out, err) = env.run(&["plan"]);
    assert_eq!(code, 0, "{err}");
    for n in [2, 3] {
        assert!(
            out.contains(&format!(
                "  - eip:eip/eip-bp1ex{n} (cn-hangzhou)  prod → default  # "
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("Plan: 0 to move, 2 to evict, 2 unchanged."),
        "{out}"
    );
    let (code, out, _) = apply(&env);
    assert_eq!(code, 0, "{out}");
    let groups = account(&env);
    let placed: Vec<&str> = ["eip-bp1ex0", "eip-bp1ex1", "eip-bp1ex2", "eip-bp1ex3"]
        .iter()
        .map(|id| groups[*id].as_str())
        .collect();
    assert_eq!(
        placed,
        vec!["rg-prod", "rg-prod", "rg-default", "rg-default"]
    );
}

/// Issue 27's benchmark of reads by id, as call counts: N EIPs all named by
/// id cost `ceil(N / 100)` ListResources calls, the least the API allows
/// (a single `ResourceId` a call, or pages of 100: `min(N, N / 100)`).
#[test]
fn reading_n_resources_by_id_takes_the_minimum_of_list_resources_calls() {
    for n in [1_000, 10_000] {
        let mut setup = Setup::new();
        let all = add(&mut setup, "eip:eip", "eip-bp1bench", n);
        let env = setup.manifest(&manifest(&all)).start();
        let (code, out, err) = env.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(code, 2, "{err}");
        assert!(
            out.contains(&format!("Plan: {n} to move, 0 unchanged.")),
            "{n}: {out}"
        );
        let calls = env
            .requests()
            .iter()
            .filter(|r| r.action == "ListResources")
            .count();
        assert_eq!(
            calls,
            n.div_ceil(100),
            "{n} ids: the listing's pages of 100"
        );
    }
}

#[test]
fn a_denied_move_resources_fails_its_batch_and_stops_new_calls() {
    let mut setup = Setup::new();
    let entries = add(&mut setup, "eip:eip", "eip-bp1deny", 3);
    let env = setup
        .deny(&["resourcemanager:MoveResources"])
        .manifest(&manifest(&entries))
        .start();
    let before = account(&env);
    let (code, out, report) = apply(&env);
    assert_eq!(code, 1, "{out}");
    assert_eq!(account(&env), before, "nothing moved");
    assert_eq!(move_calls(&env).len(), 1, "one call for the three, refused");
    assert!(
        report["stopped"]
            .as_str()
            .is_some_and(|why| why.contains("resourcemanager:MoveResources")),
        "the run says RAM refused MoveResources: {report}"
    );
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    assert_eq!(
        outcomes.len(),
        3,
        "an outcome for each of the three: {report}"
    );
    for outcome in outcomes {
        assert_eq!(outcome["status"], "failed", "{outcome}");
        assert_eq!(outcome["code"], "Forbidden.RAM", "{outcome}");
    }
}
