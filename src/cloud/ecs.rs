//! Typed ECS calls: one page of a Describe* read, and `JoinResourceGroup`.
//! What differs between the reads is the wire contract's table,
//! [`crate::api::describe::TypeApi`].

use serde_json::Value;

use super::client::{CallOutcome, Client, CloudError};
use crate::api::describe::{Paging, TypeApi};
use crate::api::Service;
use crate::resource::{Resource, ResourceKey};

/// Which resources of a (region, type) a read asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Ids(Vec<String>),
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Token(String),
    Number(u32),
}

#[derive(Debug)]
pub struct Page {
    pub resources: Vec<Resource>,
    pub next: Option<Cursor>,
    /// For numbered paging: how many items there are in all.
    pub total_count: Option<u64>,
}

/// One page of a Describe* read, with the largest page size the API allows.
/// `swept` is the value of the API's [`TypeApi::sweep`] filter this read
/// asks for (`None`: the API's default).
pub async fn describe(
    client: &Client,
    api: &TypeApi,
    region: &str,
    selection: &Selection,
    swept: Option<&str>,
    cursor: Option<&Cursor>,
) -> Result<Page, CloudError> {
    let mut params: Vec<(String, String)> = api
        .always
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Selection::Ids(ids) = selection {
        params.extend(api.id_params(ids));
    }
    if let (Some(sweep), Some(value)) = (api.sweep, swept) {
        params.push((sweep.parameter.to_owned(), value.to_owned()));
    }
    let page_size = api.paging.max_page().to_string();
    match (api.paging, cursor) {
        (Paging::Token { .. }, cursor) => {
            params.push(("MaxResults".into(), page_size));
            if let Some(Cursor::Token(token)) = cursor {
                params.push(("NextToken".into(), token.clone()));
            }
        }
        (Paging::Numbered { .. }, cursor) => {
            params.push(("PageSize".into(), page_size));
            let number = match cursor {
                Some(Cursor::Number(n)) => *n,
                _ => 1,
            };
            params.push(("PageNumber".into(), number.to_string()));
        }
    }
    let body = client
        .call(Service::Ecs, Some(region), api.action, &params)
        .await?;
    parse_page(api, region, &body).map_err(|message| CloudError::Decode {
        action: api.action.to_owned(),
        message,
    })
}

/// The value at `path` under `value`.
fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn parse_page(api: &TypeApi, region: &str, body: &Value) -> Result<Page, String> {
    let items = match at(body, api.list_path) {
        Some(Value::Array(items)) => items.as_slice(),
        Some(_) => return Err(format!("{} is not a list", api.list_path.join("."))),
        None => &[],
    };
    let text = |item: &Value, field: &str| {
        item.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let resources = items
        .iter()
        .map(|item| {
            let id = text(item, api.id_field);
            if id.is_empty() {
                return Err(format!("an item has no {}", api.id_field));
            }
            let tags = at(item, api.tags_path)
                .and_then(Value::as_array)
                .map(|tags| {
                    tags.iter()
                        .map(|t| (text(t, "TagKey"), text(t, "TagValue")))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            Ok(Resource {
                key: ResourceKey {
                    rtype: api.rtype,
                    region: region.to_owned(),
                    id,
                },
                name: api
                    .name_field
                    .map(|field| text(item, field))
                    .unwrap_or_default(),
                group_id: text(item, "ResourceGroupId"),
                tags,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (next, total_count) = match api.paging {
        Paging::Token { .. } => {
            let token = text(body, "NextToken");
            ((!token.is_empty()).then_some(Cursor::Token(token)), None)
        }
        Paging::Numbered { .. } => {
            let number = body.get("PageNumber").and_then(Value::as_u64).unwrap_or(1);
            let size = body
                .get("PageSize")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let total = body.get("TotalCount").and_then(Value::as_u64).unwrap_or(0);
            let more = number * size < total && !resources.is_empty();
            let next = u32::try_from(number + 1)
                .ok()
                .filter(|_| more)
                .map(Cursor::Number);
            (next, Some(total))
        }
    };
    Ok(Page {
        resources,
        next,
        total_count,
    })
}

/// Moves one resource into `group_id`.
pub async fn join_resource_group(
    client: &Client,
    key: &ResourceKey,
    group_id: &str,
) -> CallOutcome {
    client
        .call_detailed(
            Service::Ecs,
            Some(&key.region),
            "JoinResourceGroup",
            &[
                ("ResourceType", key.rtype.as_str().to_owned()),
                ("ResourceId", key.id.clone()),
                ("ResourceGroupId", group_id.to_owned()),
            ],
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceType;

    #[test]
    fn parses_items_tags_and_the_next_page() {
        let api = TypeApi::of(ResourceType::LaunchTemplate);
        let body = serde_json::json!({
            "RequestId": "r", "TotalCount": 3, "PageNumber": 1, "PageSize": 2,
            "LaunchTemplateSets": {"LaunchTemplateSet": [
                {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "web", "ResourceGroupId": "rg-1",
                 "Tags": {"Tag": [{"TagKey": "team", "TagValue": "pay"}]}},
                {"LaunchTemplateId": "lt-2", "LaunchTemplateName": "db", "ResourceGroupId": "rg-2"}
            ]}
        });
        let page = parse_page(api, "cn-hangzhou", &body).unwrap();
        assert_eq!(page.resources.len(), 2);
        assert_eq!(page.resources[0].tag("team"), Some("pay"));
        assert_eq!(page.resources[1].group_id, "rg-2");
        assert_eq!(page.next, Some(Cursor::Number(2)));
    }
}
