//! The actions the emulator serves: the ECS Describe* reads of every type and
//! `JoinResourceGroup`, Resource Manager's `ListResourceGroups` and
//! `GetResourceGroup` (STS is in `sts`). Filters, paging, limits
//! and errors follow the real API; the per-type facts come from the client's
//! own table, [`TypeApi`].

use serde_json::{json, Map, Value};

use super::fleet::FleetResource;
use super::gateway::{Failure, Params};
use super::state::Account;
use crate::api::describe::{
    Compared, Filter, IdFilter, Match, Paging, TypeApi, HOST_STATUSES, IMAGE_STATUSES,
};
use crate::api::Service;
use crate::resource::ResourceType;

/// The service each action belongs to; `None` for an unknown action.
pub fn service_of(action: &str) -> Option<Service> {
    Some(match action {
        "JoinResourceGroup" => Service::Ecs,
        "ListResourceGroups"
        | "GetResourceGroup"
        | super::autogroup::LIST_AUTO_GROUPING_RULES
        | super::autogroup::GET_AUTO_GROUPING_STATUS
        | super::autogroup::LIST_ASSOCIATED_TRANSFER_SETTING
        | super::resources::LIST_RESOURCES
        | super::resources::MOVE_RESOURCES => Service::ResourceManager,
        crate::api::resource_center::GET_SERVICE_STATUS
        | crate::api::resource_center::SEARCH_RESOURCES => Service::ResourceCenter,
        "AssumeRole" | "AssumeRoleWithOIDC" | "GetCallerIdentity" => Service::Sts,
        super::quota::LIST_PRODUCT_QUOTAS => Service::Quotas,
        super::actiontrail::LOOKUP_EVENTS => Service::ActionTrail,
        other if TypeApi::by_action(other).is_some() => Service::Ecs,
        _ => return None,
    })
}

/// The API version each action belongs to; `None` for an unknown action.
pub fn version_of(action: &str) -> Option<&'static str> {
    service_of(action).map(Service::api_version)
}

pub(super) fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, Failure> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Failure::missing(name))
}

pub(super) fn number(params: &Params, name: &str, default: u32, max: u32) -> Result<u32, Failure> {
    match params.get(name) {
        None => Ok(default),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Failure::invalid(
                name,
                &format!("must be a whole number from 1 to {max}"),
            )),
        },
    }
}

/// A whole number the service clamps rather than refuses: below `min` is
/// `min` (and so is none), above `max` is `max`.
fn clamped(params: &Params, name: &str, min: u32, max: u32) -> Result<u32, Failure> {
    match params.get(name) {
        None => Ok(min),
        Some(text) => text
            .parse::<i64>()
            .map(|n| n.clamp(i64::from(min), i64::from(max)) as u32)
            .map_err(|_| Failure::invalid(name, "must be a whole number")),
    }
}

/// Page `PageNumber` (from 1) of `PageSize` (1 to `max`, default 10) items,
/// with `PageNumber`, `PageSize` and `TotalCount` added to `body`.
fn numbered_page<'a>(
    found: &[&'a FleetResource],
    params: &Params,
    max: u32,
    body: &mut Map<String, Value>,
) -> Result<Vec<&'a FleetResource>, Failure> {
    let size = number(params, "PageSize", 10, max)? as usize;
    let page_number = number(params, "PageNumber", 1, u32::MAX)? as usize;
    body.insert("TotalCount".into(), json!(found.len()));
    body.insert("PageNumber".into(), json!(page_number));
    body.insert("PageSize".into(), json!(size));
    Ok(found
        .iter()
        .skip((page_number - 1).saturating_mul(size))
        .take(size)
        .copied()
        .collect())
}

/// `Name.1`, `Name.2`, … up to `max` values.
pub(super) fn repeated(params: &Params, name: &str, max: usize) -> Result<Vec<String>, Failure> {
    let prefix = format!("{name}.");
    let mut values: Vec<(usize, String)> = Vec::new();
    for (key, value) in params.range(prefix.clone()..) {
        let Some(rest) = key.strip_prefix(&prefix) else {
            break;
        };
        let Ok(n) = rest.parse::<usize>() else {
            continue;
        };
        if n == 0 || n > max {
            return Err(Failure::invalid(
                key,
                &format!("{name} takes 1 to {max} values"),
            ));
        }
        values.push((n, value.clone()));
    }
    values.sort();
    Ok(values.into_iter().map(|(_, v)| v).collect())
}

/// The numbers N of a list of objects `Name.N.Field`, in order, each once.
pub(super) fn list_numbers(params: &Params, name: &str) -> Vec<usize> {
    let prefix = format!("{name}.");
    let mut numbers: Vec<usize> = params
        .range(prefix.clone()..)
        .map_while(|(key, _)| key.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_once('.').and_then(|(n, _)| n.parse().ok()))
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// The tag filters `Prefix.N.Key` / `Prefix.N.Value`, N from 1 to 20.
fn tag_filters(params: &Params, prefix: &str) -> Result<Vec<(String, Option<String>)>, Failure> {
    let mut tags = Vec::new();
    for n in 1..=20 {
        let key = params.get(&format!("{prefix}.{n}.Key"));
        let value = params.get(&format!("{prefix}.{n}.Value"));
        match (key, value) {
            (Some(key), value) => tags.push((key.clone(), value.cloned())),
            (None, Some(_)) => return Err(Failure::missing(&format!("{prefix}.{n}.Key"))),
            (None, None) => {}
        }
    }
    if params.contains_key(&format!("{prefix}.21.Key")) {
        return Err(Failure::invalid(prefix, "at most 20 tags"));
    }
    Ok(tags)
}

/// The ids a Describe* call asks for, or `None` for all of them. A
/// single-valued filter is one value, commas and all.
fn requested_ids(api: &TypeApi, params: &Params) -> Result<Option<Vec<String>>, Failure> {
    let ids = match api.id_filter {
        IdFilter::JsonArray(name) => match params.get(name) {
            None => return Ok(None),
            Some(text) => serde_json::from_str::<Vec<String>>(text)
                .map_err(|_| Failure::invalid(name, "must be a JSON array of strings"))?,
        },
        IdFilter::Repeated(name) => {
            let ids = repeated(params, name, api.max_ids)?;
            if ids.is_empty() {
                return Ok(None);
            }
            ids
        }
        IdFilter::Single(name) | IdFilter::NamePattern(name) => match params.get(name) {
            None => return Ok(None),
            Some(text) => vec![text.clone()],
        },
    };
    if ids.len() > api.max_ids {
        return Err(Failure::invalid(
            api.id_filter.name(),
            &format!("at most {} ids per call", api.max_ids),
        ));
    }
    Ok(Some(ids))
}

/// The states a Describe* call of images or dedicated hosts asks for, or
/// `None` for a type without states. Images take a comma list or `ALL`
/// (TEA `DescribeImagesRequest.status`); hosts take one state (TEA
/// `DescribeDedicatedHostsRequest.status`, the values of
/// [`HOST_STATUSES`]). Both default to `Available`.
fn requested_states<'a>(
    api: &TypeApi,
    params: &'a Params,
) -> Result<Option<Vec<&'a str>>, Failure> {
    let given = params.get("Status").map(String::as_str);
    match api.rtype {
        ResourceType::Image => Ok(Some(match given {
            None => vec!["Available"],
            Some("ALL") => IMAGE_STATUSES.split(',').collect(),
            Some(list) => list.split(',').map(str::trim).collect(),
        })),
        ResourceType::Ddh => match given {
            None => Ok(Some(vec!["Available"])),
            Some(state) if HOST_STATUSES.values.contains(&state) => Ok(Some(vec![state])),
            Some(_) => Err(Failure::invalid(
                "Status",
                &format!("one of {}", HOST_STATUSES.values.join(", ")),
            )),
        },
        _ => Ok(None),
    }
}

/// The filters of `api.filters` that `params` sets, each with its values.
fn requested_filters(
    api: &'static TypeApi,
    params: &Params,
) -> Result<Vec<(&'static Filter, Vec<String>)>, Failure> {
    let mut requested = Vec::new();
    for filter in api.filters {
        let wanted: Vec<String> = if filter.repeated {
            repeated(params, filter.parameter, api.max_ids)?
        } else {
            params.get(filter.parameter).cloned().into_iter().collect()
        };
        if !wanted.is_empty() {
            requested.push((filter, wanted));
        }
    }
    Ok(requested)
}

/// Whether `resource` passes every requested filter; a repeated one passes
/// when any of its values matches.
fn passes(account: &Account, resource: &FleetResource, filters: &[(&Filter, Vec<String>)]) -> bool {
    filters.iter().all(|(filter, wanted)| {
        let attribute = match filter.compared {
            Compared::Id => Some(resource.id.as_str()),
            Compared::Name => Some(resource.name.as_str()),
            Compared::InstanceStatus => Some(instance_status(resource)),
            Compared::AttachedTo => attached_to(account, resource),
        };
        attribute.is_some_and(|attribute| {
            wanted.iter().any(|wanted| match filter.how {
                Match::Exact => wanted == attribute,
                Match::Wildcard => wildcard_match(wanted, attribute),
                Match::Substring => attribute.contains(wanted.as_str()),
            })
        })
    })
}

/// The instance (in the same region) whose attached disks and ENIs list
/// `resource`, if any.
fn attached_to<'a>(account: &'a Account, resource: &FleetResource) -> Option<&'a str> {
    let key = (
        ResourceType::Instance,
        resource.region.clone(),
        String::new(),
    );
    account
        .resources
        .range(key..)
        .take_while(|((t, r, _), _)| *t == ResourceType::Instance && *r == resource.region)
        .find(|(_, instance)| instance.attached.contains(&resource.id))
        .map(|(_, instance)| instance.id.as_str())
}

fn instance_status(resource: &FleetResource) -> &str {
    resource.status.as_deref().unwrap_or("Running")
}

/// Whether `name` matches `pattern`, where `*` is a wildcard (key-pair
/// names, instance and command names).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len()
                && name.starts_with(head)
                && wildcard_tail(tail, &name[head.len()..])
        }
    }
}

fn wildcard_tail(pattern: &str, name: &str) -> bool {
    if pattern.is_empty() {
        return true;
    }
    (0..=name.len())
        .filter(|i| name.is_char_boundary(*i))
        .any(|i| wildcard_match(pattern, &name[i..]))
}

/// `value` nested under `path`: `{"a": {"b": value}}` for `["a", "b"]`.
fn nest(path: &[&str], value: Value) -> Value {
    path.iter()
        .rev()
        .fold(value, |inner, key| json!({ *key: inner }))
}

fn item(account: &Account, api: &TypeApi, resource: &FleetResource) -> Value {
    let mut fields = Map::new();
    fields.insert(api.id_field.into(), json!(resource.id));
    if let Some(name_field) = api.name_field {
        fields.insert(
            name_field.into(),
            json!(if api.id_field == name_field {
                &resource.id
            } else {
                &resource.name
            }),
        );
    }
    fields.insert("RegionId".into(), json!(resource.region));
    fields.insert(
        "ResourceGroupId".into(),
        json!(account.reported_group(resource)),
    );
    let tags: Vec<Value> = resource
        .tags
        .iter()
        .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
        .collect();
    if let Value::Object(tags) = nest(api.tags_path, json!(tags)) {
        fields.extend(tags);
    }
    if matches!(api.rtype, ResourceType::Image | ResourceType::Ddh) {
        fields.insert(
            "Status".into(),
            json!(resource.status.as_deref().unwrap_or("Available")),
        );
    }
    // TEA `_describe_instances_response_body.py`: each instance has `Status`.
    if api.rtype == ResourceType::Instance {
        fields.insert("Status".into(), json!(instance_status(resource)));
    }
    if api.rtype == ResourceType::Image {
        fields.insert(
            "ImageOwnerAlias".into(),
            json!(resource.owner.as_deref().unwrap_or("self")),
        );
    }
    Value::Object(fields)
}

/// A page token: the hex of the last id served. Resources are served in id
/// order, so the next page starts after it even if others were added.
fn encode_token(id: &str) -> String {
    id.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Option<String> {
    if token.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    String::from_utf8(bytes?).ok()
}

pub fn describe(
    account: &Account,
    api: &'static TypeApi,
    params: &Params,
) -> Result<Value, Failure> {
    let region = required(params, "RegionId")?;
    let ids = requested_ids(api, params)?;
    let tags = tag_filters(params, api.tag_parameter)?;
    let group_filter = params.get(api.group_filter).filter(|g| !g.is_empty());
    let statuses = requested_states(api, params)?;
    let filters = requested_filters(api, params)?;
    let owner = if api.rtype == ResourceType::Image {
        params.get("ImageOwnerAlias").map(String::as_str)
    } else {
        None
    };

    let matches = |r: &FleetResource| {
        tags.iter().all(|(k, v)| match v {
            Some(v) => r.tags.get(k) == Some(v),
            None => r.tags.contains_key(k),
        }) && group_filter.is_none_or(|g| {
            // The trap of the real API: the group filter never returns the
            // default group's resources.
            r.group.as_deref() == Some(g.as_str())
        }) && statuses
            .as_ref()
            .is_none_or(|s| s.contains(&r.status.as_deref().unwrap_or("Available")))
            && owner.is_none_or(|o| o == r.owner.as_deref().unwrap_or("self"))
            && passes(account, r, &filters)
    };
    let key = |id: &str| (api.rtype, region.to_owned(), id.to_owned());
    let mut found: Vec<&FleetResource> = match (&ids, api.id_filter) {
        (Some(ids), IdFilter::NamePattern(_)) => account
            .resources
            .range(key("")..)
            .take_while(|((t, r, _), _)| *t == api.rtype && r == region)
            .map(|(_, res)| res)
            .filter(|res| ids.iter().any(|pattern| wildcard_match(pattern, &res.id)))
            .collect(),
        (Some(ids), _) => {
            let mut unique: Vec<&String> = ids.iter().collect();
            unique.sort();
            unique.dedup();
            unique
                .into_iter()
                .filter_map(|id| account.resources.get(&key(id)))
                .collect()
        }
        (None, _) => account
            .resources
            .range(key("")..)
            .take_while(|((t, r, _), _)| *t == api.rtype && r == region)
            .map(|(_, res)| res)
            .collect(),
    };
    found.retain(|r| matches(r));

    let mut body = Map::new();
    // `MaxResults`/`NextToken` page by token; without either, the
    // deprecated `PageNumber`/`PageSize` the request models still list page
    // by number (TEA `_describe_instances_request.py` l.153–156). Every
    // response model has `NextToken`, `PageNumber`, `PageSize` and
    // `TotalCount`, none `MaxResults` (`_describe_*_response_body.py`).
    let page: Vec<&FleetResource> = match api.paging {
        Paging::Token { max, clamps }
            if params.contains_key("MaxResults") || params.contains_key("NextToken") =>
        {
            let size = if clamps {
                clamped(params, "MaxResults", 10, max)?
            } else {
                number(params, "MaxResults", 10, max)?
            } as usize;
            let after =
                match params.get("NextToken").filter(|t| !t.is_empty()) {
                    Some(token) => Some(decode_token(token).ok_or_else(|| {
                        Failure::invalid("NextToken", "not a token this API issued")
                    })?),
                    None => None,
                };
            let start = after.map_or(0, |after| found.partition_point(|r| r.id <= after));
            let page: Vec<&FleetResource> = found.iter().skip(start).take(size).copied().collect();
            let more = start + page.len() < found.len();
            let token = if more {
                page.last().map(|r| encode_token(&r.id)).unwrap_or_default()
            } else {
                String::new()
            };
            body.insert("NextToken".into(), json!(token));
            body.insert("TotalCount".into(), json!(found.len()));
            page
        }
        Paging::Token { max, .. } => {
            body.insert("NextToken".into(), json!(""));
            numbered_page(&found, params, max, &mut body)?
        }
        Paging::Numbered { max } => numbered_page(&found, params, max, &mut body)?,
    };
    let items: Vec<Value> = page.into_iter().map(|r| item(account, api, r)).collect();
    if let Value::Object(list) = nest(api.list_path, json!(items)) {
        body.extend(list);
    }
    if api.rtype == ResourceType::Image {
        body.insert("RegionId".into(), json!(region));
    }
    Ok(Value::Object(body))
}

/// `JoinResourceGroup`, with the seed's checks, codes and statuses. With
/// `really_move` false it answers as if it had moved the resource, but does
/// not. Returns whether anything changed.
pub fn join_resource_group(
    account: &mut Account,
    params: &Params,
    really_move: bool,
) -> Result<bool, Failure> {
    // The current doc's error table (docs/sources/ecs-models.md §1, DOC-JRG):
    // MissingParameter is 403 and names the parameter; the NotFound
    // messages name ResourceType, ResourceGroup and ResourceId.
    let value = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Failure {
                status: 403,
                ..Failure::missing(name)
            })
    };
    let region = value("RegionId")?;
    let rtype = value("ResourceType")?;
    let id = value("ResourceId")?;
    let group = value("ResourceGroupId")?;
    let rtype: ResourceType = ResourceType::ALL
        .into_iter()
        .find(|t| t.as_str() == rtype)
        .ok_or_else(|| {
            Failure::new(
                404,
                "InvalidResourceType.NotFound",
                "The ResourceType provided does not exist in our records.",
            )
        })?;
    let Some(target) = account.groups.iter().find(|g| g.id == group) else {
        return Err(Failure::new(
            404,
            "InvalidResourceGroup.NotFound",
            "The ResourceGroup provided does not exist in our records.",
        ));
    };
    // JoinResourceGroup doc, error codes (docs/sources/ecs-models.md §1).
    if group_status(target) != "OK" {
        return Err(Failure::new(
            403,
            "InvalidStatus.ResourceGroup",
            "You cannot perform an operation on a resource group that is being created or deleted.",
        ));
    }
    let index = (rtype, region.to_owned(), id.to_owned());
    if !account.resources.contains_key(&index) {
        return Err(Failure::new(
            404,
            "InvalidResourceId.NotFound",
            "The ResourceId provided does not exist in our records.",
        ));
    }
    if !really_move {
        return Ok(false);
    }
    Ok(super::resources::place(account, &index, group))
}

/// A group's Resource Manager state, `OK` unless the fleet says otherwise.
pub(super) fn group_status(group: &super::fleet::FleetGroup) -> &str {
    group.status.as_deref().unwrap_or("OK")
}

fn group_json(account: &Account, group: &super::fleet::FleetGroup) -> Value {
    json!({
        "Id": group.id,
        "Name": group.name,
        "DisplayName": group.display_name.as_deref().unwrap_or(&group.name),
        "Status": group_status(group),
        "AccountId": account.account_id,
        "CreateDate": "2024-01-01T00:00:00+08:00",
    })
}

/// `ListResourceGroups` with the filters of its request model
/// (`alibabacloud_resourcemanager20200331==2.6.2`
/// `models/_list_resource_groups_request.py`): `DisplayName` and `Name`
/// match fuzzily (l.23, l.34: "Fuzzy match is supported"; taken as a
/// substring), `ResourceGroupId` filters unless `ResourceGroupIds` is set
/// (l.46–57), `Status` (l.58), `Tag.N` (l.64; the fleet's groups carry no
/// tags, so a tag filter matches none), and `IncludeTags=true` adds each
/// group's `Tags.Tag` list (l.27–32; always when a tag filter is set).
pub fn list_resource_groups(account: &Account, params: &Params) -> Result<Value, Failure> {
    let size = number(params, "PageSize", 10, 100)? as usize;
    let page_number = number(params, "PageNumber", 1, u32::MAX)? as usize;
    let mut ids = repeated(params, "ResourceGroupIds", 100)?;
    if ids.is_empty() {
        ids.extend(params.get("ResourceGroupId").cloned());
    }
    let tags = tag_filters(params, "Tag")?;
    let fuzzy =
        |name: &str, value: &str| params.get(name).is_none_or(|n| value.contains(n.as_str()));
    let status = params.get("Status");
    let matching: Vec<&super::fleet::FleetGroup> = account
        .groups
        .iter()
        .filter(|g| fuzzy("Name", &g.name))
        .filter(|g| fuzzy("DisplayName", g.display_name.as_deref().unwrap_or(&g.name)))
        .filter(|g| ids.is_empty() || ids.contains(&g.id))
        .filter(|g| status.is_none_or(|s| s == group_status(g)))
        .filter(|_| tags.is_empty())
        .collect();
    let with_tags = !tags.is_empty() || include_tags(params);
    let page: Vec<Value> = matching
        .iter()
        .skip((page_number - 1).saturating_mul(size))
        .take(size)
        .map(|g| {
            let mut group = group_json(account, g);
            if with_tags {
                group["Tags"] = json!({ "Tag": [] });
            }
            group
        })
        .collect();
    Ok(json!({
        "TotalCount": matching.len(),
        "PageNumber": page_number,
        "PageSize": size,
        "ResourceGroups": { "ResourceGroup": page },
    }))
}

/// Whether `IncludeTags` is true: the Python SDKs send `True` (str of a
/// bool), Node `true`.
fn include_tags(params: &Params) -> bool {
    params
        .get("IncludeTags")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `GetResourceGroup`: `IncludeTags=true` adds the group's `Tags.Tag` list
/// (`_get_resource_group_request.py` l.17; the fleet's groups have none).
pub fn get_resource_group(account: &Account, params: &Params) -> Result<Value, Failure> {
    let id = required(params, "ResourceGroupId")?;
    let group = account.groups.iter().find(|g| g.id == id).ok_or_else(|| {
        Failure::new(
            404,
            "EntityNotExist.ResourceGroup",
            "The resource group does not exist.",
        )
    })?;
    let mut group = group_json(account, group);
    if include_tags(params) {
        group["Tags"] = json!({ "Tag": [] });
    }
    Ok(json!({ "ResourceGroup": group }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(
            decode_token(&encode_token("i-bp1abc")).as_deref(),
            Some("i-bp1abc")
        );
        assert_eq!(decode_token("zz"), None);
        assert_eq!(decode_token("abc"), None);
    }

    #[test]
    fn key_pair_names_take_wildcards() {
        assert!(wildcard_match("deploy-*", "deploy-key"));
        assert!(wildcard_match("*key", "deploy-key"));
        assert!(wildcard_match("*", "x"));
        assert!(wildcard_match("d*-*y", "deploy-key"));
        assert!(!wildcard_match("deploy", "deploy-key"));
    }
}
