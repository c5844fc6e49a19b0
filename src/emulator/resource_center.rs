//! Resource Center in the emulator, for a fleet with `resource_center:
//! true`: `GetResourceCenterServiceStatus` and `SearchResources` over the
//! fleet's resources of the types Resource Center indexes, with their
//! names and tags, shaped as `alibabacloud_resourcecenter20221201==1.6.1`'s
//! models (flat arrays; docs/sources/resourcemanager-services.md §5,
//! tests/fixtures/api/rc_*.json).

use serde_json::{json, Value};

use super::fleet::FleetResource;
use super::gateway::{Failure, Params};
use super::offset_paging;
use super::state::Account;
use crate::api::resource_center::{
    acs_type, MatchType, DEFAULT_MAX_RESULTS, FILTER_KEYS, MAX_RESULTS,
};

/// `GetResourceCenterServiceStatus`: `Enabled` with `InitialStatus`
/// `Finished` (the index is built), or `Disabled`
/// (`_get_resource_center_service_status_response_body.py` l.7–25).
pub fn service_status(account: &Account) -> Value {
    if account.resource_center {
        json!({ "ServiceStatus": "Enabled", "InitialStatus": "Finished" })
    } else {
        json!({ "ServiceStatus": "Disabled" })
    }
}

/// One `Filter.N` of a search.
struct Filter {
    key: String,
    /// As sent, for the answer's echo.
    match_type: String,
    how: MatchType,
    values: Vec<String>,
}

/// The `Filter.N.{Key,MatchType,Value.M}` of a request, in the order of N.
/// A key outside the documented five is refused (our choice: no source
/// says what the service does with one), and `MatchType` defaults to
/// `Equals`, the one match the SDK model names.
fn filters(params: &Params) -> Result<Vec<Filter>, Failure> {
    super::api::list_numbers(params, "Filter")
        .into_iter()
        .map(|n| {
            let name = format!("Filter.{n}.Key");
            let key = params
                .get(&name)
                .cloned()
                .ok_or_else(|| Failure::missing(&name))?;
            if !FILTER_KEYS.contains(&key.as_str()) {
                return Err(Failure::invalid(
                    &name,
                    &format!("one of {}", FILTER_KEYS.join(", ")),
                ));
            }
            let how_name = format!("Filter.{n}.MatchType");
            let match_type = params.get(&how_name).map_or("Equals", String::as_str);
            let how = MatchType::parse(match_type).ok_or_else(|| {
                Failure::invalid(
                    &how_name,
                    "Equals, Prefix, Contains, NotContains, Exists or NotExists",
                )
            })?;
            let values = super::api::repeated(params, &format!("Filter.{n}.Value"), usize::MAX)?;
            Ok(Filter {
                key,
                match_type: match_type.to_owned(),
                how,
                values,
            })
        })
        .collect()
}

/// What Resource Center knows of a fleet resource: its `ACS::…` type, or
/// `None` for a type it does not index.
fn indexed(resource: &FleetResource) -> Option<&'static str> {
    acs_type(resource.rtype.service(), resource.rtype.rm_type())
}

fn attribute<'a>(
    account: &'a Account,
    resource: &'a FleetResource,
    acs: &'static str,
    key: &str,
) -> Option<&'a str> {
    match key {
        "ResourceType" => Some(acs),
        "RegionId" => Some(&resource.region),
        "ResourceId" => Some(&resource.id),
        "ResourceGroupId" => Some(account.group_of(resource)),
        "ResourceName" => Some(&resource.name),
        _ => None,
    }
}

fn found(account: &Account, resource: &FleetResource, acs: &str) -> Value {
    let tags: Vec<Value> = resource
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    json!({
        "AccountId": account.account_id,
        "CreateTime": "2024-01-01T00:00:00Z",
        "Deleted": false,
        "RegionId": resource.region,
        "ResourceGroupId": account.group_of(resource),
        "ResourceId": resource.id,
        "ResourceName": resource.name,
        "ResourceType": acs,
        "Tags": tags,
    })
}

/// `SearchResources`: the indexed resources that pass every filter (ANDed;
/// a filter's values ORed) and the top-level `ResourceGroupId`, in a stable
/// order, `MaxResults` (1–500, default 20) a page with `NextToken` on every
/// page but the last. `SortCriterion`, `IncludeDeletedResources` and
/// `SearchExpression` are accepted and change nothing: every resource has
/// the same creation time and none is deleted. With Resource Center off the
/// call is refused (no source gives the code; ours is `ServiceNotEnabled`).
pub fn search_resources(account: &Account, params: &Params) -> Result<Value, Failure> {
    if !account.resource_center {
        return Err(Failure::new(
            400,
            "ServiceNotEnabled",
            "Resource Center is not enabled for this account.",
        ));
    }
    let filters = filters(params)?;
    let size = offset_paging::max_results(params, 1, MAX_RESULTS, DEFAULT_MAX_RESULTS)?;
    let start = offset_paging::start(params)?;
    let group = params.get("ResourceGroupId").filter(|g| !g.is_empty());
    let matching: Vec<(&FleetResource, &'static str)> = account
        .resources
        .values()
        .filter_map(|r| indexed(r).map(|acs| (r, acs)))
        .filter(|(r, _)| group.is_none_or(|g| g == account.group_of(r)))
        .filter(|(r, acs)| {
            filters
                .iter()
                .all(|f| f.how.passes(attribute(account, r, acs, &f.key), &f.values))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(size)
        .map(|(r, acs)| found(account, r, acs))
        .collect();
    let echoed: Vec<Value> = filters
        .iter()
        .map(|f| json!({"Key": f.key, "MatchType": f.match_type, "Values": f.values}))
        .collect();
    let mut body = json!({
        "Filters": echoed,
        "MaxResults": size,
        "Resources": page,
    });
    let next = offset_paging::next_token(start, page.len(), matching.len());
    if !next.is_empty() {
        body["NextToken"] = json!(next);
    }
    Ok(body)
}
