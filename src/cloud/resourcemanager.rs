//! Typed Resource Manager calls: listing the account's resource groups, and
//! `ListResources`/`MoveResources` for the types of other services than ECS
//! (docs/sources/resourcemanager-services.md §1–§3).

use serde::Deserialize;

use super::client::{Call, CallOutcome, Client, CloudError, Service};
use crate::resource::{Group, ResourceKey, ResourceType};

/// A resource group as `ListResourceGroups` reports it: the fields of
/// `ResourceGroups.ResourceGroup[]` that regroup reads (the
/// `ListResourceGroupsResponseBodyResourceGroupsResourceGroup` model of
/// `alibabacloud_resourcemanager20200331` 2.6.2; docs/sources/ecs-models.md
/// §6); the answer is read straight into these, every other field skipped.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireGroup {
    id: String,
    name: String,
    #[serde(default)]
    status: String,
}

const PAGE_SIZE: u32 = 100;
/// A bound on the pages read, so a misbehaving server cannot loop us: 1,000
/// pages is 100,000 groups, far beyond the service's quota.
const MAX_PAGES: u32 = 1_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResponse {
    resource_groups: GroupList,
    total_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupList {
    #[serde(default)]
    resource_group: Vec<WireGroup>,
}

/// Every resource group of the account, page by page.
pub async fn list_resource_groups(client: &Client) -> Result<Vec<Group>, CloudError> {
    let mut groups = Vec::new();
    for page in 1..=MAX_PAGES {
        let params = [
            ("PageNumber", page.to_string()),
            ("PageSize", PAGE_SIZE.to_string()),
        ];
        let call = Call::new(
            Service::ResourceManager,
            None,
            "ListResourceGroups",
            &params,
        );
        let parsed: ListResponse = client.call(&call).await.result?;
        let received = parsed.resource_groups.resource_group.len();
        groups.extend(
            parsed
                .resource_groups
                .resource_group
                .into_iter()
                .map(|wire| Group {
                    id: wire.id.into(),
                    name: wire.name.into(),
                    status: wire.status,
                }),
        );
        if received == 0 || groups.len() as u64 >= parsed.total_count {
            break;
        }
    }
    Ok(groups)
}

/// One resource as `ListResources` reports it: `Resources.Resource[]`
/// (`alibabacloud_resourcemanager20200331==2.6.2`
/// `models/_list_resources_response_body.py` lines 136–151;
/// docs/sources/resourcemanager-services.md §3.2). No names, no tags.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedResource {
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    #[serde(default)]
    pub region_id: String,
    #[serde(default)]
    pub resource_group_id: String,
}

/// One page of `ListResources`: wrapped `Resources.Resource[]` and a
/// `TotalCount` (same model, lines 39–51, 93–96).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedPage {
    #[serde(default)]
    pub resources: ListedResources,
    #[serde(default)]
    pub total_count: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedResources {
    #[serde(default)]
    pub resource: Vec<ListedResource>,
}

/// The most `ListResources` returns a page: `PageSize` is 1 to 100
/// (`_list_resources_request.py` lines 31–34; §3.1).
pub const LIST_PAGE_SIZE: u32 = 100;
/// The most (service, type) pairs one `ListResources` filters on:
/// `ResourceTypes.N`, N = 1 to 50 ("A maximum of 50 resource types are
/// supported", same file lines 45–48; §3.1).
pub const LIST_MAX_TYPES: usize = 50;
/// The most resources one `MoveResources` takes: "A maximum of 10
/// resources can be moved at a time" (`_move_resources_request.py` lines
/// 20–22; §2.1).
pub const MOVE_MAX_RESOURCES: usize = 10;
/// Resource Manager's published limit for `ListResources` and
/// `MoveResources`: 10 calls a second each, per account
/// (https://help.aliyun.com/en/resource-management/resource-directory/developer-reference/api-resourcemanager-2020-03-31-quota;
/// §6). The limiter keeps under it from the first call.
pub const PUBLISHED_QPS: u32 = 10;

/// What one `ListResources` call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFilter<'a> {
    /// Every resource of these types (at most [`LIST_MAX_TYPES`]), in
    /// `region` if given (the parameter is `Region`, not `RegionId`:
    /// `_list_resources_request.py` lines 35–36).
    Types {
        types: &'a [ResourceType],
        region: Option<&'a str>,
    },
    /// The one resource of this id (`ResourceId` takes a single id, lines
    /// 39–40), with its type and region.
    Id(&'a ResourceKey),
}

/// The query of one page of `ListResources` (all parameters go in the
/// query: PY-RM `client.py` 6053–6095; lists flatten to `Name.N.Field`, N
/// from 1).
pub fn list_params(filter: &ListFilter<'_>, page: u32) -> Vec<(String, String)> {
    let mut params = vec![
        ("PageNumber".to_owned(), page.to_string()),
        ("PageSize".to_owned(), LIST_PAGE_SIZE.to_string()),
    ];
    match filter {
        ListFilter::Types { types, region } => {
            for (n, rtype) in types.iter().enumerate() {
                let n = n + 1;
                params.push((
                    format!("ResourceTypes.{n}.Service"),
                    rtype.service().to_owned(),
                ));
                params.push((
                    format!("ResourceTypes.{n}.ResourceType"),
                    rtype.rm_type().to_owned(),
                ));
            }
            if let Some(region) = region {
                params.push(("Region".to_owned(), (*region).to_owned()));
            }
        }
        ListFilter::Id(key) => {
            params.push(("Service".to_owned(), key.rtype.service().to_owned()));
            params.push(("ResourceType".to_owned(), key.rtype.rm_type().to_owned()));
            params.push(("Region".to_owned(), key.region.to_string()));
            params.push(("ResourceId".to_owned(), key.id.to_string()));
        }
    }
    params
}

/// One page of `ListResources`.
pub async fn list_resources(
    client: &Client,
    filter: &ListFilter<'_>,
    page: u32,
) -> Result<ListedPage, CloudError> {
    let params = list_params(filter, page);
    let call = Call::new(Service::ResourceManager, None, "ListResources", &params);
    client.call(&call).await.result
}

/// `MoveResources`' answer: a flat `Responses[]`, one per resource
/// (`_move_resources_response_body.py` lines 10–54, wire keys 99–120;
/// §2.2). `ErrorCode`/`ErrorMsg` come only with `FAIL`, and may be empty
/// strings on `SUCCESS`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MoveAnswer {
    #[serde(default)]
    pub responses: Vec<MoveResponse>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MoveResponse {
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub resource_type: String,
    #[serde(default)]
    pub resource_id: String,
    #[serde(default)]
    pub region_id: String,
    #[serde(default)]
    pub request_id: String,
    /// `SUCCESS` or `FAIL` (lines 50–54).
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_msg: String,
}

/// `Status` of a resource that moved (same model, lines 50–54).
pub const MOVE_SUCCESS: &str = "SUCCESS";

/// The query of one `MoveResources` call: the target group and at most
/// [`MOVE_MAX_RESOURCES`] resources as `Resources.N.{ResourceId, RegionId,
/// ResourceType, Service}` (`_move_resources_request.py` lines 16–22, 61–80),
/// regions and services mixed as they come (§2.1).
pub fn move_params(group_id: &str, keys: &[&ResourceKey]) -> Vec<(String, String)> {
    let mut params = vec![("ResourceGroupId".to_owned(), group_id.to_owned())];
    for (n, key) in keys.iter().enumerate() {
        let n = n + 1;
        params.push((format!("Resources.{n}.ResourceId"), key.id.to_string()));
        params.push((format!("Resources.{n}.RegionId"), key.region.to_string()));
        params.push((
            format!("Resources.{n}.Service"),
            key.rtype.service().to_owned(),
        ));
        params.push((
            format!("Resources.{n}.ResourceType"),
            key.rtype.rm_type().to_owned(),
        ));
    }
    params
}

/// Moves `keys` (at most [`MOVE_MAX_RESOURCES`]) into `group_id` in one call.
pub async fn move_resources(
    client: &Client,
    group_id: &str,
    keys: &[&ResourceKey],
    sent: Option<&std::sync::atomic::AtomicBool>,
) -> CallOutcome<MoveAnswer> {
    let params = move_params(group_id, keys);
    let call =
        Call::new(Service::ResourceManager, None, "MoveResources", &params).marking_sent(sent);
    client.call(&call).await
}

/// Keeps the limiter under Resource Manager's published limit for `action`
/// ([`PUBLISHED_QPS`]) from its first call.
pub fn pace_published(client: &Client, action: &str) {
    pace_per_second(client, action, PUBLISHED_QPS);
}

/// Keeps the limiter under `qps` calls a second of a global `action`
/// (one bucket for every region) from its first call.
pub fn pace_per_second(client: &Client, action: &str, qps: u32) {
    client
        .limiter()
        .set_quota(action, None, qps, std::time::Duration::from_secs(1), None);
}
