//! The emulator against an oracle it was not written from: the response
//! bodies in tests/fixtures/api/, built from the official SDK models
//! (docs/sources/ecs-models.md §8). For every Describe* API, each path the
//! fixture has for a field regroup reads (the list, the id, the name,
//! `ResourceGroupId`, the tags, the paging fields, `RequestId`) must be in
//! the emulator's answer with the same JSON type. The paths come from the
//! fixture, so a list or tag path the table got wrong fails here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::tests::{client, fleet, start};
use super::Settings;
use crate::api::describe::{Paging, TypeApi};
use crate::api::Service;
use crate::cloud::client::Call;
use crate::resource::ResourceType;

fn fixture(action: &str) -> Value {
    crate::api::fixtures::json(&format!("{action}.json"))
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every path in `value` (`a.b[].c`) with the JSON types found at it.
pub(super) fn paths(value: &Value, at: &str, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    out.entry(at.to_owned()).or_default().insert(type_of(value));
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                paths(inner, &path, out);
            }
        }
        Value::Array(items) => {
            for inner in items {
                paths(inner, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

/// The field names regroup reads from a response of `api`.
fn read_fields(api: &TypeApi) -> Vec<&'static str> {
    let mut fields = vec![
        api.id_field,
        "ResourceGroupId",
        "TagKey",
        "TagValue",
        "RequestId",
    ];
    fields.extend(api.name_field);
    match api.paging {
        Paging::Token { .. } => fields.push("NextToken"),
        Paging::Numbered { .. } => fields.extend(["PageNumber", "PageSize", "TotalCount"]),
    }
    fields
}

#[tokio::test]
async fn every_describe_answer_has_the_sdk_models_paths_and_types_for_what_regroup_reads() {
    // Two of each type: one in the default group without tags, one in
    // `prod` tagged, so that every field has a value to show.
    let emulator = start(fleet(2), Settings::default()).await;
    let client = client(&emulator);
    let mut checked = 0;
    for rtype in ResourceType::ALL {
        let api = TypeApi::of(rtype);
        let mut params: Vec<(&str, String)> = api
            .always
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect();
        params.extend(api.sweep.map(|s| (s.parameter, s.values[0].to_owned())));
        let answer = client
            .call::<Value>(&Call::new(
                Service::Ecs,
                Some("cn-hangzhou"),
                api.action,
                &params,
            ))
            .await
            .result
            .unwrap();
        let mut expected = BTreeMap::new();
        paths(&fixture(api.action), "", &mut expected);
        let mut served = BTreeMap::new();
        paths(&answer, "", &mut served);
        let wanted = read_fields(api);
        let read: Vec<(&String, &BTreeSet<&str>)> = expected
            .iter()
            .filter(|(path, _)| {
                let last = path.rsplit(['.', '[']).next().unwrap_or_default();
                wanted.contains(&last)
            })
            .collect();
        // The fixture holds every field regroup reads.
        for field in &wanted {
            assert!(
                read.iter().any(|(path, _)| path.ends_with(field)),
                "{}: the fixture has no {field}",
                api.action
            );
        }
        for (path, types) in read {
            assert_eq!(
                served.get(path),
                Some(types),
                "{}: `{path}` is {types:?} in the SDK model's example",
                api.action
            );
            checked += 1;
        }
    }
    // 13 APIs, at least id, group, two tag fields, a paging field and the
    // request id each.
    assert!(checked >= 13 * 6, "{checked}");
}

#[tokio::test]
async fn an_empty_default_group_id_keeps_its_type() {
    let settings = Settings {
        empty_default_group_id: true,
        ..Settings::default()
    };
    let emulator = start(fleet(2), settings).await;
    let answer = client(&emulator)
        .call::<Value>(&Call::new(
            Service::Ecs,
            Some("cn-hangzhou"),
            "DescribeInstances",
            &[] as &[(&str, String)],
        ))
        .await
        .result
        .unwrap();
    let groups: Vec<&str> = answer["Instances"]["Instance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ResourceGroupId"].as_str().unwrap())
        .collect();
    assert_eq!(groups, vec!["", "rg-prod"]);
}
