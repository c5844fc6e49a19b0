//! Resource Manager's `ListResources` and `MoveResources`, and Resource
//! Center, against their documented behaviour: paging and filters, the
//! ten-item limit, mixed per-resource results, the answers' shapes against
//! the fixtures from the SDK models, RAM denials, and non-ECS resources
//! kept out of the ECS reads and `JoinResourceGroup`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::fidelity_tests::paths;
use super::fleet::{Fleet, FleetResource};
use super::gateway::{params_of, Failure, Params};
use super::resource_center::{search_resources, service_status};
use super::resources::{list_resources, move_resources, MAX_MOVED};
use super::state::Account;
use super::tests::{call_router, fleet, resource};
use super::{Emulator, Settings};
use crate::resource::ResourceType;

const REGION: &str = "cn-hangzhou";

fn rm(service: &str, rm_type: &str) -> ResourceType {
    ResourceType::from_rm(service, rm_type)
        .unwrap_or_else(|| panic!("{service}:{rm_type} is a Resource Manager type"))
}

/// The four non-ECS types of issue 27, with ids shaped as the SDK and
/// Terraform examples show them (docs/sources/resourcemanager-services.md §8.2).
fn others() -> [(ResourceType, &'static str); 4] {
    [
        (rm("eip", "eip"), "eip-bp1test"),
        (rm("slb", "loadbalancer"), "lb-bp1test"),
        (rm("rds", "dbinstance"), "rm-bp1test"),
        (rm("oss", "bucket"), "bucket-test-"),
    ]
}

/// The test fleet (two of each ECS type in cn-hangzhou, one in
/// cn-shanghai) with `per_type` resources of each of the four other types
/// in cn-hangzhou, the odd ones in prod.
fn mixed_fleet(per_type: usize) -> Fleet {
    let mut fleet = fleet(2);
    for (rtype, prefix) in others() {
        for n in 0..per_type {
            let id = format!("{prefix}{n:04}");
            fleet.resources.push(FleetResource {
                group: (n % 2 == 1).then(|| "rg-prod".to_owned()),
                tags: [("team".to_owned(), format!("t{}", n % 3))].into(),
                ..resource(rtype, &id, REGION)
            });
        }
    }
    fleet.check().expect("the mixed fleet is a valid fleet");
    fleet
}

fn list(account: &Account, pairs: &[(&str, &str)]) -> Result<Value, Failure> {
    list_resources(account, &params_of(pairs))
}

fn ids(answer: &Value) -> Vec<String> {
    answer["Resources"]["Resource"]
        .as_array()
        .expect("Resources.Resource is a list")
        .iter()
        .map(|r| r["ResourceId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn moved(account: &mut Account, params: &Params) -> Result<Value, Failure> {
    let mut n = 0;
    move_resources(account, params, || {
        n += 1;
        format!("REQ-{n}")
    })
    .map(|(answer, _)| answer)
}

/// `Resources.N.*` for `items` of (service, type, id), all in cn-hangzhou.
fn move_params(group: &str, items: &[(&str, &str, &str)]) -> Params {
    let mut params = params_of(&[("ResourceGroupId", group)]);
    for (n, (service, rm_type, id)) in items.iter().enumerate() {
        let n = n + 1;
        for (field, value) in [
            ("Service", *service),
            ("ResourceType", *rm_type),
            ("ResourceId", *id),
            ("RegionId", REGION),
        ] {
            params.insert(format!("Resources.{n}.{field}"), value.to_owned());
        }
    }
    params
}

#[test]
fn list_resources_pages_through_every_resource_of_every_service() {
    let account = Account::from_fleet(mixed_fleet(4));
    let every: BTreeSet<String> = account.resources.values().map(|r| r.id.clone()).collect();
    let mut seen = Vec::new();
    for page in 1..=every.len().div_ceil(7) + 1 {
        let answer = list(
            &account,
            &[("PageSize", "7"), ("PageNumber", &page.to_string())],
        )
        .expect("a page");
        assert_eq!(
            answer["TotalCount"],
            every.len(),
            "TotalCount on page {page}"
        );
        assert_eq!(
            (answer["PageNumber"].as_u64(), answer["PageSize"].as_u64()),
            (Some(page as u64), Some(7))
        );
        seen.extend(ids(&answer));
    }
    assert_eq!(seen.len(), every.len(), "no resource twice: {seen:?}");
    assert_eq!(
        seen.into_iter().collect::<BTreeSet<_>>(),
        every,
        "every resource once"
    );
    // Default 10; 1 to 100 (`_list_resources_request.py` l.31–34).
    assert_eq!(
        ids(&list(&account, &[]).unwrap()).len(),
        10,
        "default page size"
    );
    assert_eq!(
        ids(&list(&account, &[("PageSize", "100")]).unwrap()).len(),
        every.len().min(100)
    );
    for bad in ["0", "101", "x"] {
        let refused = list(&account, &[("PageSize", bad)]).expect_err(bad);
        assert_eq!(refused.code, "InvalidParameter", "PageSize={bad}");
    }
    // Count=false: TotalCount -1, paging unchanged (l.23–26); the Python
    // SDK sends `True`/`False`.
    for (count, total) in [
        ("False", -1),
        ("false", -1),
        ("True", every.len() as i64),
        ("true", every.len() as i64),
    ] {
        let answer = list(&account, &[("Count", count)]).unwrap();
        assert_eq!(answer["TotalCount"].as_i64(), Some(total), "Count={count}");
        assert_eq!(ids(&answer).len(), 10, "Count={count} still pages");
    }
}

#[test]
fn list_resources_filters_as_the_request_model_says() {
    let account = Account::from_fleet(mixed_fleet(4));
    let count = |pairs: &[(&str, &str)]| {
        list(&account, &[&[("PageSize", "100")], pairs].concat()).unwrap()["TotalCount"].as_u64()
    };
    // 13 ECS types × (2 in cn-hangzhou + 1 in cn-shanghai), 4 × 4 others.
    assert_eq!(count(&[]), Some(13 * 3 + 16), "everything");
    assert_eq!(count(&[("Service", "ecs")]), Some(13 * 3), "ecs");
    assert_eq!(count(&[("Service", "eip")]), Some(4), "eip");
    assert_eq!(
        count(&[("Service", "slb"), ("ResourceType", "loadbalancer")]),
        Some(4),
        "slb:loadbalancer"
    );
    assert_eq!(count(&[("ResourceType", "bucket")]), Some(4), "bucket");
    assert_eq!(count(&[("Region", "cn-shanghai")]), Some(13), "cn-shanghai");
    assert_eq!(
        count(&[("ResourceId", "rm-bp1test0002")]),
        Some(1),
        "one id"
    );
    // The default group's resources are listed under its id.
    assert_eq!(
        count(&[("ResourceGroupId", "rg-prod"), ("Service", "oss")]),
        Some(2),
        "prod buckets"
    );
    assert_eq!(
        count(&[("ResourceGroupId", "rg-default"), ("Service", "oss")]),
        Some(2),
        "default buckets"
    );
    // Complete ResourceTypes pairs replace Service/ResourceType; a half
    // pair is ignored (l.45–48, l.60–73).
    let pairs = [
        ("Service", "ecs"),
        ("ResourceTypes.1.Service", "eip"),
        ("ResourceTypes.1.ResourceType", "eip"),
        ("ResourceTypes.2.Service", "rds"),
        ("ResourceTypes.2.ResourceType", "dbinstance"),
        ("ResourceTypes.3.Service", "oss"),
    ];
    assert_eq!(
        count(&pairs),
        Some(8),
        "eip and rds, not ecs, not the half oss pair"
    );
    assert_eq!(
        list(
            &account,
            &[
                ("ResourceTypes.51.Service", "eip"),
                ("ResourceTypes.51.ResourceType", "eip")
            ]
        )
        .unwrap_err()
        .code,
        "InvalidParameter",
        "at most 50 pairs"
    );
    // The items carry the doc's codes.
    let answer = list(&account, &[("ResourceId", "lb-bp1test0001")]).unwrap();
    let item = &answer["Resources"]["Resource"][0];
    assert_eq!(
        (
            &item["Service"],
            &item["ResourceType"],
            &item["ResourceGroupId"],
            &item["RegionId"]
        ),
        (
            &Value::from("slb"),
            &Value::from("loadbalancer"),
            &Value::from("rg-prod"),
            &Value::from(REGION)
        ),
        "{item}"
    );
}

#[test]
fn move_resources_moves_up_to_ten_of_any_service_and_says_so_per_resource() {
    let mut account = Account::from_fleet(mixed_fleet(4));
    let ecs_instance = super::tests::test_id(ResourceType::Instance, 0);
    let items = [
        ("eip", "eip", "eip-bp1test0000"),
        ("slb", "loadbalancer", "lb-bp1test0000"),
        ("rds", "dbinstance", "rm-bp1test0000"),
        ("oss", "bucket", "bucket-test-0000"),
        ("ecs", "instance", ecs_instance.as_str()),
    ];
    let answer = moved(&mut account, &move_params("rg-dev", &items)).expect("the call succeeds");
    let responses = answer["Responses"]
        .as_array()
        .expect("a flat Responses list");
    assert_eq!(responses.len(), items.len(), "{answer}");
    for (entry, (service, rm_type, id)) in responses.iter().zip(items) {
        assert_eq!(entry["Status"], "SUCCESS", "{entry}");
        assert_eq!(
            (
                entry["Service"].as_str(),
                entry["ResourceType"].as_str(),
                entry["ResourceId"].as_str()
            ),
            (Some(service), Some(rm_type), Some(id))
        );
        assert!(
            entry.get("ErrorCode").is_none(),
            "no ErrorCode on success: {entry}"
        );
        assert!(
            entry["RequestId"]
                .as_str()
                .is_some_and(|r| r.starts_with("REQ-")),
            "{entry}"
        );
        let listed = list(&account, &[("ResourceId", id)]).unwrap();
        assert_eq!(
            listed["Resources"]["Resource"][0]["ResourceGroupId"], "rg-dev",
            "{id} moved"
        );
    }
    // Ten is the most (`_move_resources_request.py` l.20–22); eleven is
    // refused whole and moves nothing.
    let eleven: Vec<(String, String)> = (0..=MAX_MOVED)
        .map(|n| {
            (
                ResourceType::Disk.as_str().to_owned(),
                super::tests::test_id(ResourceType::Disk, n),
            )
        })
        .collect();
    let eleven: Vec<(&str, &str, &str)> = eleven
        .iter()
        .map(|(t, id)| ("ecs", t.as_str(), id.as_str()))
        .collect();
    let before = account.generation;
    let refused = moved(&mut account, &move_params("rg-dev", &eleven)).unwrap_err();
    assert_eq!(
        (refused.status, refused.code.as_str()),
        (400, "LimitExceeded.Resources")
    );
    assert_eq!(account.generation, before, "nothing moved");
    assert!(
        moved(&mut account, &move_params("rg-dev", &eleven[..MAX_MOVED])).is_ok(),
        "ten are fine"
    );
}

#[test]
fn move_resources_answers_mixed_results_with_the_documented_code() {
    let mut fleet = mixed_fleet(4);
    for r in fleet
        .resources
        .iter_mut()
        .filter(|r| r.id == "eip-bp1test0002")
    {
        r.move_error = Some("NoPermission".into());
    }
    let mut account = Account::from_fleet(fleet);
    let items = [
        ("eip", "eip", "eip-bp1test0000"),
        ("eip", "eip", "eip-bp1test0002"),
        ("eip", "eip", "eip-bp1test9999"),
    ];
    let answer =
        moved(&mut account, &move_params("rg-dev", &items)).expect("HTTP 200 with mixed results");
    let outcome: Vec<(&str, Option<&str>, Option<&str>)> = answer["Responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["Status"].as_str().unwrap_or_default(),
                e["ErrorCode"].as_str(),
                e["ErrorMsg"].as_str(),
            )
        })
        .collect();
    // NoPermission / "No permissions": the doc's example
    // (tests/fixtures/api/rm_MoveResources.json).
    let fixture: Value = crate::api::fixtures::json("rm_MoveResources.json");
    let documented = &fixture["Responses"][0];
    assert_eq!(
        outcome,
        vec![
            ("SUCCESS", None, None),
            (
                "FAIL",
                documented["ErrorCode"].as_str(),
                documented["ErrorMsg"].as_str()
            ),
            (
                "FAIL",
                Some("InvalidResourceId.NotFound"),
                Some("The ResourceId provided does not exist in our records.")
            ),
        ],
        "{answer}"
    );
    let group = |id: &str| {
        list(&account, &[("ResourceId", id)]).unwrap()["Resources"]["Resource"][0]
            ["ResourceGroupId"]
            .clone()
    };
    assert_eq!(group("eip-bp1test0000"), "rg-dev", "the success moved");
    assert_eq!(group("eip-bp1test0002"), "rg-default", "the failure stayed");
}

#[test]
fn move_resources_refuses_whole_calls_it_cannot_route() {
    let mut account = Account::from_fleet(mixed_fleet(2));
    let code =
        |account: &mut Account, params: &Params| moved(account, params).map(|_| ()).unwrap_err();
    let missing = code(&mut account, &params_of(&[("ResourceGroupId", "rg-dev")]));
    assert_eq!(
        (missing.status, missing.code.as_str()),
        (400, "MissingParameter"),
        "no Resources"
    );
    let missing = code(
        &mut account,
        &move_params("", &[("eip", "eip", "eip-bp1test0000")]),
    );
    assert_eq!(missing.code, "MissingParameter", "no ResourceGroupId");
    let unknown = code(
        &mut account,
        &move_params("rg-nope", &[("eip", "eip", "eip-bp1test0000")]),
    );
    assert_eq!(
        (unknown.status, unknown.code.as_str()),
        (404, "EntityNotExists.ResourceGroup")
    );
    // A pair doc 94479 does not list, the alias spellings among
    // them, and the ECS types only JoinResourceGroup moves.
    for (service, rm_type) in [
        ("vpc", "eip"),
        ("slb", "instance"),
        ("rds", "DBInstance"),
        ("ecs", "command"),
        ("nope", "thing"),
    ] {
        let refused = code(
            &mut account,
            &move_params(
                "rg-dev",
                &[("eip", "eip", "eip-bp1test0000"), (service, rm_type, "x-1")],
            ),
        );
        assert_eq!(
            (refused.status, refused.code.as_str()),
            (400, "SERVICE_REGION_NO_ENDPOINT"),
            "{service}:{rm_type}"
        );
    }
    assert_eq!(
        list(&account, &[("ResourceId", "eip-bp1test0000")]).unwrap()["Resources"]["Resource"][0]
            ["ResourceGroupId"],
        "rg-default",
        "a refused call moves nothing"
    );
}

/// The answers have the field paths and JSON types of the fixtures built
/// from the SDK models' examples.
#[test]
fn answers_have_the_models_shapes() {
    let fleet = Fleet {
        resource_center: true,
        ..mixed_fleet(2)
    };
    let mut account = Account::from_fleet(fleet);
    let shape = |value: &Value| {
        let mut out = BTreeMap::new();
        paths(value, "", &mut out);
        out.remove("RequestId");
        out
    };
    let fixture = |name: &str| shape(&crate::api::fixtures::json::<Value>(name));
    assert_eq!(
        shape(&list(&account, &[]).unwrap()),
        fixture("rm_ListResources.json"),
        "ListResources"
    );
    let failing = moved(
        &mut account,
        &move_params("rg-dev", &[("eip", "eip", "eip-bp1test9999")]),
    )
    .unwrap();
    assert_eq!(
        shape(&failing),
        fixture("rm_MoveResources.json"),
        "MoveResources with a failure"
    );
    assert_eq!(
        shape(&service_status(&account)),
        fixture("rc_GetResourceCenterServiceStatus.json"),
        "GetResourceCenterServiceStatus"
    );
    // SearchResources: every path of the answer is the model's, and every
    // path of the model is in the answer but those "returned only if the
    // service provides them" (`_search_resources_response_body.py` l.49–77).
    let answer = shape(
        &search_resources(
            &account,
            &params_of(&[
                ("MaxResults", "1"),
                ("Filter.1.Key", "RegionId"),
                ("Filter.1.Value.1", REGION),
                // Tagged ones, so that the answer has `Tags[]` items, and
                // more than one, so that it has `NextToken`.
                ("Filter.2.Key", "ResourceType"),
                ("Filter.2.Value.1", "ACS::EIP::EipAddress"),
            ]),
        )
        .unwrap(),
    );
    let mut model = fixture("rc_SearchResources.json");
    for (path, types) in &answer {
        assert_eq!(model.get(path), Some(types), "SearchResources {path}");
    }
    model.retain(|path, _| {
        !["ExpireTime", "IpAddress", "ZoneId"]
            .iter()
            .any(|optional| path.contains(optional))
    });
    for path in model.keys() {
        assert!(answer.contains_key(path), "SearchResources lacks {path}");
    }
}

#[test]
fn resource_center_is_off_unless_the_fleet_enables_it() {
    let account = Account::from_fleet(mixed_fleet(2));
    assert_eq!(service_status(&account)["ServiceStatus"], "Disabled");
    assert_eq!(
        search_resources(&account, &params_of(&[]))
            .unwrap_err()
            .code,
        "ServiceNotEnabled"
    );
}

#[test]
fn search_resources_filters_and_pages_indexed_types_with_names_and_tags() {
    let account = Account::from_fleet(Fleet {
        resource_center: true,
        ..mixed_fleet(4)
    });
    let search =
        |pairs: &[(&str, &str)]| search_resources(&account, &params_of(pairs)).expect("a search");
    let found = |answer: &Value| -> Vec<String> {
        answer["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ResourceId"].as_str().unwrap().to_owned())
            .collect()
    };
    // Every indexed resource once, 7 a page, NextToken on all but the last.
    let (mut seen, mut token) = (Vec::new(), String::new());
    for _ in 0..20 {
        let answer = search(&[("MaxResults", "7"), ("NextToken", &token)]);
        seen.extend(found(&answer));
        match answer.get("NextToken").and_then(Value::as_str) {
            Some(next) => token = next.to_owned(),
            None => break,
        }
    }
    // 9 indexed ECS types × 3, and the 16 others; commands, activations,
    // managed instances and host clusters are not indexed.
    assert_eq!(seen.len(), 9 * 3 + 16, "{seen:?}");
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        seen.len(),
        "none twice"
    );
    assert_eq!(
        search(&[]).as_object().unwrap()["MaxResults"],
        20,
        "default MaxResults"
    );
    for bad in ["0", "501"] {
        assert_eq!(
            search_resources(&account, &params_of(&[("MaxResults", bad)]))
                .unwrap_err()
                .code,
            "InvalidParameter",
            "MaxResults={bad}"
        );
    }
    // Filters are ANDed, a filter's values ORed.
    let buckets_and_eips = search(&[
        ("MaxResults", "100"),
        ("Filter.1.Key", "ResourceType"),
        ("Filter.1.Value.1", "ACS::OSS::Bucket"),
        ("Filter.1.Value.2", "ACS::EIP::EipAddress"),
        ("Filter.2.Key", "ResourceName"),
        ("Filter.2.MatchType", "Prefix"),
        ("Filter.2.Value.1", "bucket-test-000"),
    ]);
    assert_eq!(
        found(&buckets_and_eips),
        vec![
            "bucket-test-0000",
            "bucket-test-0001",
            "bucket-test-0002",
            "bucket-test-0003"
        ]
    );
    let item = &buckets_and_eips["Resources"][1];
    assert_eq!(
        (
            &item["ResourceName"],
            &item["ResourceType"],
            &item["ResourceGroupId"],
            &item["Tags"]
        ),
        (
            &Value::from("bucket-test-0001-name"),
            &Value::from("ACS::OSS::Bucket"),
            &Value::from("rg-prod"),
            &serde_json::json!([{"Key": "team", "Value": "t1"}])
        ),
        "{item}"
    );
    let in_prod = search(&[
        ("MaxResults", "100"),
        ("ResourceGroupId", "rg-prod"),
        ("Filter.1.Key", "ResourceType"),
        ("Filter.1.Value.1", "ACS::RDS::DBInstance"),
    ]);
    assert_eq!(found(&in_prod), vec!["rm-bp1test0001", "rm-bp1test0003"]);
    assert_eq!(
        search_resources(
            &account,
            &params_of(&[("Filter.1.Key", "Colour"), ("Filter.1.Value.1", "x")])
        )
        .unwrap_err()
        .code,
        "InvalidParameter",
        "an undocumented key"
    );
}

/// Non-ECS resources stay out of the ECS reads, and ECS
/// `JoinResourceGroup` refuses their types as its thirteen-value
/// `ResourceType` does (docs/sources/ecs-models.md §1:
/// `InvalidResourceType.NotFound`, 404). RAM denies both Resource Manager
/// actions through `denied_actions`.
#[tokio::test]
async fn ecs_calls_never_see_other_services_and_ram_denies_the_rm_actions() {
    let mut fleet = mixed_fleet(2);
    fleet.access_keys[0].denied_actions = vec![
        "resourcemanager:MoveResources".into(),
        "resourcemanager:ListResources".into(),
        "resourcecenter:SearchResources".into(),
    ];
    fleet.resource_center = true;
    let router = Emulator::service(fleet, Settings::default()).expect("a router");
    for (service, rm_type, id) in [
        ("eip", "eip", "eip-bp1test0000"),
        ("oss", "bucket", "bucket-test-0000"),
        ("eip", "eip:eip", "eip-bp1test0000"),
    ] {
        let refused = call_router(
            &router,
            "JoinResourceGroup",
            REGION,
            &[
                ("ResourceType", rm_type),
                ("ResourceId", id),
                ("ResourceGroupId", "rg-dev"),
            ],
        )
        .await;
        assert_eq!(
            refused,
            (404, "InvalidResourceType.NotFound".to_owned()),
            "{service}:{rm_type}"
        );
    }
    let denied = call_router(&router, "ListResources", REGION, &[]).await;
    assert_eq!(denied, (403, "Forbidden.RAM".to_owned()));
    let denied = call_router(
        &router,
        "MoveResources",
        REGION,
        &[("ResourceGroupId", "rg-dev")],
    )
    .await;
    assert_eq!(denied, (403, "Forbidden.RAM".to_owned()));
    let denied = call_router(&router, "SearchResources", REGION, &[]).await;
    assert_eq!(denied, (403, "Forbidden.RAM".to_owned()));
    let allowed = call_router(&router, "GetResourceCenterServiceStatus", REGION, &[]).await;
    assert_eq!(allowed, (200, String::new()), "only the denied actions are");

    let account = Account::from_fleet(mixed_fleet(2));
    let ecs = ResourceType::ALL.into_iter().filter(|t| t.is_ecs());
    for api in ecs.map(crate::api::describe::TypeApi::of) {
        let answer = super::api::describe(
            &account,
            api,
            &params_of(&[
                ("RegionId", REGION),
                ("PageSize", "50"),
                ("MaxResults", "50"),
            ]),
        )
        .expect("a read");
        let text = answer.to_string();
        for (_, prefix) in others() {
            assert!(
                !text.contains(prefix),
                "{} lists a {prefix}…: {text}",
                api.action
            );
        }
    }
}

/// examples/fleet-services.yaml is the account issue 27 walks through: 12
/// ECS resources and 4 each of four other services, all listed by
/// ListResources, one of whose moves fails.
#[test]
fn the_services_example_fleet_has_twelve_ecs_resources_and_sixteen_others() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet-services.yaml");
    let fleet = Fleet::load(&path).expect("the example loads");
    assert!(fleet.resource_center, "Resource Center is on");
    let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
    for r in &fleet.resources {
        *per_type
            .entry(format!("{}:{}", r.rtype.service(), r.rtype.rm_type()))
            .or_default() += 1;
    }
    let ecs: usize = per_type
        .iter()
        .filter(|(t, _)| t.starts_with("ecs:"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(ecs, 12, "{per_type:?}");
    for other in [
        "eip:eip",
        "slb:loadbalancer",
        "rds:dbinstance",
        "oss:bucket",
    ] {
        assert_eq!(per_type.get(other), Some(&4), "{other} in {per_type:?}");
    }
    let failing: Vec<&str> = fleet
        .resources
        .iter()
        .filter(|r| r.move_error.is_some())
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(failing, vec!["payments-assets-4"]);
    let account = Account::from_fleet(fleet);
    let listed = list(&account, &[("PageSize", "100")]).unwrap();
    assert_eq!(listed["TotalCount"], 28, "ListResources lists all 28");
}

/// A state file keeps what this module adds to a fleet: other services'
/// resources, `move_error` and `resource_center`.
#[test]
fn the_state_file_form_keeps_other_services_and_their_settings() {
    let mut fleet = Fleet {
        resource_center: true,
        ..mixed_fleet(2)
    };
    fleet.resources[0].move_error = Some("NoPermission".into());
    let saved =
        serde_json::to_string(&Account::from_fleet(fleet.clone()).to_fleet()).expect("JSON");
    assert!(
        saved.contains("\"eip:eip\"") && saved.contains("\"move_error\":\"NoPermission\""),
        "{saved}"
    );
    let read: Fleet = serde_json::from_str(&saved).expect("read back");
    assert!(read.resource_center, "resource_center kept");
    let key = |f: &Fleet| -> BTreeSet<(String, Option<String>)> {
        f.resources
            .iter()
            .map(|r| (format!("{}/{}", r.rtype, r.id), r.move_error.clone()))
            .collect()
    };
    assert_eq!(
        key(&read),
        key(&fleet),
        "every resource and move_error kept"
    );
}
