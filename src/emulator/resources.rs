//! Resource Manager's view of every resource in a group, of any service:
//! `ListResources` (the fleet's resources, ECS ones included, as the
//! service lists them) and `MoveResources` (up to ten resources of any
//! services and regions per call, each with its own `Status`), plus the one
//! move both this and ECS `JoinResourceGroup` make. Shapes and limits are
//! those of `alibabacloud_resourcemanager20200331==2.6.2`; the facts and
//! the choices where no source speaks are in
//! docs/sources/resourcemanager-services.md §2–§3 and docs/emulator.md.

use serde_json::{json, Map, Value};

use super::fleet::FleetResource;
use super::gateway::{Failure, Params};
use super::state::{Account, ResourceIndex};
use crate::resource::ResourceType;

pub const LIST_RESOURCES: &str = "ListResources";
pub const MOVE_RESOURCES: &str = "MoveResources";

/// "A maximum of 50 resource types are supported."
/// (`_list_resources_request.py` l.45–48).
const MAX_TYPE_PAIRS: usize = 50;

/// "A maximum of 10 resources can be moved at a time."
/// (`_move_resources_request.py` l.20–22).
pub const MAX_MOVED: usize = 10;

/// `PageSize` 1–100, default 10 (`_list_resources_request.py` l.31–34;
/// META-RM `minimum 1`, `maximum 100`).
const MAX_PAGE_SIZE: u32 = 100;

/// The fleet records no creation times: every resource reports this one,
/// in the UTC form of the model's example `2015-01-23T12:33:18Z`.
const CREATE_DATE: &str = "2024-01-01T00:00:00Z";

/// The per-resource error the doc's example shows, and its message
/// (DOC-MR-MD; `MoveResourcesResponseBodyResponses` @example
/// `NoPermission` / `No permissions`, tests/fixtures/api/rm_MoveResources.json).
pub const NO_PERMISSION: (&str, &str) = ("NoPermission", "No permissions");

/// Whether Resource Manager's `MoveResources` moves this type. Doc 94479's
/// ECS row lists `ddh disk eni image instance keypair launchtemplate
/// securitygroup snapshot snapshotpolicy imagecomponent imagepipeline`: of
/// the thirteen types of ECS `JoinResourceGroup`, it lacks `ddhcluster`,
/// `command`, `activation` and `managedinstance`
/// (docs/sources/resourcemanager-services.md §8.3), which only
/// `JoinResourceGroup` moves.
pub fn moves(rtype: ResourceType) -> bool {
    !matches!(
        rtype,
        ResourceType::DdhCluster
            | ResourceType::Command
            | ResourceType::Activation
            | ResourceType::ManagedInstance
    )
}

/// The type named by a `Service`/`ResourceType` pair, spelt exactly as
/// doc 94479's codes (the manifest's aliases such as `vpc`/`eip` are
/// regroup's, not the service's).
fn named(service: &str, rm_type: &str) -> Option<ResourceType> {
    ResourceType::from_rm(service, rm_type)
        .filter(|t| t.service() == service && t.rm_type() == rm_type)
}

/// Puts the resource at `index` in `group` and returns whether anything
/// changed. An instance's `attached` resources follow it under associated
/// transfer (docs/sources/resourcemanager-rules.md §2.2), and an
/// auto-grouping rule may move it back later.
pub fn place(account: &mut Account, index: &ResourceIndex, group: &str) -> bool {
    let new_group = (group != account.default_group).then(|| group.to_owned());
    let follows = super::autogroup::associated_transfer(account);
    let Some(resource) = account.resources.get_mut(index) else {
        return false;
    };
    if resource.group == new_group {
        return false;
    }
    resource.group = new_group.clone();
    let attached = if follows {
        resource.attached.clone()
    } else {
        Vec::new()
    };
    let region = &index.1;
    for id in attached {
        let follower = account
            .resources
            .values_mut()
            .find(|r| &r.region == region && r.id == id);
        if let Some(follower) = follower {
            follower.group = new_group.clone();
        }
    }
    account.generation += 1;
    super::autogroup::moved(account, index.clone(), std::time::Instant::now());
    true
}

/// The `ResourceTypes.N.{Service,ResourceType}` pairs with both halves
/// set ("if only one is set, the pair is ignored": l.60–73); N from 1 to 50.
fn type_pairs(params: &Params) -> Result<Vec<(String, String)>, Failure> {
    let mut pairs = Vec::new();
    for (key, service) in params.range("ResourceTypes.".to_owned()..) {
        let Some(rest) = key.strip_prefix("ResourceTypes.") else {
            break;
        };
        let Some(n) = rest.strip_suffix(".Service") else {
            continue;
        };
        let index: usize = n
            .parse()
            .ok()
            .filter(|n| (1..=MAX_TYPE_PAIRS).contains(n))
            .ok_or_else(|| Failure::invalid(key, &format!("N is 1 to {MAX_TYPE_PAIRS}")))?;
        if let Some(rm_type) = params.get(&format!("ResourceTypes.{index}.ResourceType")) {
            pairs.push((service.clone(), rm_type.clone()));
        }
    }
    Ok(pairs)
}

/// `Count`: the Python SDK sends `True`/`False` (`str()` of a bool), the
/// others `true`/`false` (docs/sources/resourcemanager-services.md §1).
fn count_asked(params: &Params) -> Result<bool, Failure> {
    match params.get("Count").map(String::as_str) {
        None | Some("true" | "True") => Ok(true),
        Some("false" | "False") => Ok(false),
        Some(_) => Err(Failure::invalid("Count", "true or false")),
    }
}

fn listed(account: &Account, resource: &FleetResource) -> Value {
    json!({
        "CreateDate": CREATE_DATE,
        "RegionId": resource.region,
        "ResourceGroupId": account.group_of(resource),
        "ResourceId": resource.id,
        "ResourceType": resource.rtype.rm_type(),
        "Service": resource.rtype.service(),
    })
}

/// The resources a listing may hold, in the account's order: only the
/// ranges of `types` when the filters name them, so that listing a few
/// types of a large account reads those alone.
fn candidates(
    account: &Account,
    types: Option<Vec<ResourceType>>,
) -> Box<dyn Iterator<Item = &FleetResource> + '_> {
    let Some(mut types) = types else {
        return Box::new(account.resources.values());
    };
    types.sort_unstable();
    types.dedup();
    Box::new(types.into_iter().flat_map(move |rtype| {
        account
            .resources
            .range((rtype, String::new(), String::new())..)
            .take_while(move |((t, _, _), _)| *t == rtype)
            .map(|(_, resource)| resource)
    }))
}

/// `ListResources`: every fleet resource that passes the filters, in a
/// stable order, a page of `PageSize` at `PageNumber`. `ResourceTypes`
/// pairs, when any is complete, replace `Service` and `ResourceType`
/// (l.45–48). `ResourceGroupId` finds the default group's resources too:
/// Resource Manager knows every resource's group (unlike the ECS reads'
/// filter, docs/sources/ecs-models.md §4). `Count=false` answers
/// `TotalCount` -1 (l.23–26).
pub fn list_resources(account: &Account, params: &Params) -> Result<Value, Failure> {
    let size = super::api::number(params, "PageSize", 10, MAX_PAGE_SIZE)? as usize;
    let page_number = super::api::number(params, "PageNumber", 1, u32::MAX)? as usize;
    let counted = count_asked(params)?;
    let pairs = type_pairs(params)?;
    let given = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let (service, rm_type) = if pairs.is_empty() {
        (given("Service"), given("ResourceType"))
    } else {
        (None, None)
    };
    let (group, region, id) = (
        given("ResourceGroupId"),
        given("Region"),
        given("ResourceId"),
    );
    let named_types: Option<Vec<ResourceType>> = match (service, rm_type) {
        _ if !pairs.is_empty() => Some(pairs.iter().filter_map(|(s, t)| named(s, t)).collect()),
        (Some(s), Some(t)) => Some(named(s, t).into_iter().collect()),
        _ => None,
    };
    let found: Vec<&FleetResource> = candidates(account, named_types)
        .filter(|r| {
            let (s, t) = (r.rtype.service(), r.rtype.rm_type());
            (pairs.is_empty() || pairs.iter().any(|(ps, pt)| ps == s && pt == t))
                && service.is_none_or(|v| v == s)
                && rm_type.is_none_or(|v| v == t)
                && group.is_none_or(|g| g == account.group_of(r))
                && region.is_none_or(|g| g == r.region)
                && id.is_none_or(|i| i == r.id)
        })
        .collect();
    let page: Vec<Value> = found
        .iter()
        .skip((page_number - 1).saturating_mul(size))
        .take(size)
        .map(|r| listed(account, r))
        .collect();
    Ok(json!({
        "PageNumber": page_number,
        "PageSize": size,
        "TotalCount": if counted { found.len() as i64 } else { -1 },
        "Resources": { "Resource": page },
    }))
}

/// One `Resources.N` item of a `MoveResources` call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    service: String,
    rm_type: String,
    id: String,
    region: String,
}

/// The `Resources.N.{ResourceId,RegionId,ResourceType,Service}` items in
/// the order of N. The model marks the list required and each field
/// optional (META-RM); an item missing a field names nothing that could be
/// moved, so the call is refused naming it (our choice).
fn items(params: &Params) -> Result<Vec<Item>, Failure> {
    let numbers = super::api::list_numbers(params, "Resources");
    if numbers.is_empty() {
        return Err(Failure::missing("Resources"));
    }
    if numbers.len() > MAX_MOVED {
        // No source gives this error: the code and message follow
        // ListResources' documented `LimitExceeded.ResourceIds` (META-RM).
        return Err(Failure::new(
            400,
            "LimitExceeded.Resources",
            format!("The maximum number of Resources is exceeded: at most {MAX_MOVED} per call."),
        ));
    }
    numbers
        .into_iter()
        .map(|n| {
            let field = |name: &str| {
                let key = format!("Resources.{n}.{name}");
                params
                    .get(&key)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .ok_or_else(|| Failure::missing(&key))
            };
            Ok(Item {
                service: field("Service")?,
                rm_type: field("ResourceType")?,
                id: field("ResourceId")?,
                region: field("RegionId")?,
            })
        })
        .collect()
}

/// The call-level refusal of a pair no service answers to: the documented
/// `SERVICE_REGION_NO_ENDPOINT` (DOC-MR-MD; META-RM), whose message asks
/// for the right service. Which code the service gives an unknown type is
/// not documented; this is our choice.
fn no_endpoint() -> Failure {
    Failure::new(
        400,
        "SERVICE_REGION_NO_ENDPOINT",
        "Please input right service and region",
    )
}

/// `MoveResources`: refuses the whole call for a missing or unknown
/// destination group, no or more than ten items, or an item naming a
/// service/type pair doc 94479 does not list; otherwise answers HTTP 200
/// with one `Responses[]` entry per item, `SUCCESS` or `FAIL` with its
/// `ErrorCode` and `ErrorMsg` (`_move_resources_response_body.py`
/// l.21–54). An item fails when the resource is not in that region (our
/// choice of code: ECS `JoinResourceGroup`'s `InvalidResourceId.NotFound`)
/// or when the fleet marks it `move_error`. `request_id` makes each
/// item's own `RequestId`. Returns the answer and whether anything moved.
pub fn move_resources(
    account: &mut Account,
    params: &Params,
    mut request_id: impl FnMut() -> String,
) -> Result<(Value, bool), Failure> {
    let group = super::api::required(params, "ResourceGroupId")?.to_owned();
    let items = items(params)?;
    let Some(target) = account.groups.iter().find(|g| g.id == group) else {
        // Undocumented for MoveResources: the code and message of
        // GetResourceGroup's 404 (META-RM).
        return Err(Failure::new(
            404,
            "EntityNotExists.ResourceGroup",
            "The specified resource group does not exist. You must first create a resource group.",
        ));
    };
    if super::api::group_status(target) != crate::resource::GROUP_READY {
        // As ECS JoinResourceGroup refuses it (docs/sources/ecs-models.md §1).
        return Err(Failure::new(
            403,
            "InvalidStatus.ResourceGroup",
            "You cannot perform an operation on a resource group that is being created or deleted.",
        ));
    }
    let types = items
        .iter()
        .map(|item| {
            named(&item.service, &item.rm_type)
                .filter(|t| moves(*t))
                .ok_or_else(no_endpoint)
        })
        .collect::<Result<Vec<ResourceType>, Failure>>()?;
    let mut moved_any = false;
    let responses: Vec<Value> = items
        .into_iter()
        .zip(types)
        .map(|(item, rtype)| {
            let index = (rtype, item.region.clone(), item.id.clone());
            let failure = match account.resources.get(&index) {
                None => Some((
                    "InvalidResourceId.NotFound".to_owned(),
                    "The ResourceId provided does not exist in our records.".to_owned(),
                )),
                Some(resource) => resource.move_error.as_ref().map(|code| {
                    let message = if code == NO_PERMISSION.0 {
                        NO_PERMISSION.1.to_owned()
                    } else {
                        code.clone()
                    };
                    (code.clone(), message)
                }),
            };
            let mut entry = Map::new();
            entry.insert("Service".into(), json!(item.service));
            entry.insert("ResourceType".into(), json!(item.rm_type));
            entry.insert("ResourceId".into(), json!(item.id));
            entry.insert("RegionId".into(), json!(item.region));
            entry.insert("RequestId".into(), json!(request_id()));
            match failure {
                Some((code, message)) => {
                    entry.insert("Status".into(), json!("FAIL"));
                    entry.insert("ErrorCode".into(), json!(code));
                    entry.insert("ErrorMsg".into(), json!(message));
                }
                None => {
                    moved_any |= place(account, &index, &group);
                    entry.insert("Status".into(), json!("SUCCESS"));
                }
            }
            Value::Object(entry)
        })
        .collect();
    Ok((json!({ "Responses": responses }), moved_any))
}
