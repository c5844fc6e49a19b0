//! Typed ECS calls: the nine Describe* reads and `JoinResourceGroup`. The
//! per-type facts (action, filters, paging, response shape) are one table,
//! [`TypeApi`], which the emulator serves from too, so the two cannot drift.

use serde_json::Value;

use super::client::{CallOutcome, Client, CloudError, Service};
use crate::resource::{Resource, ResourceKey, ResourceType};

/// How a Describe* call takes a list of ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFilter {
    /// `Name=["a","b"]`, a JSON array in one parameter.
    JsonArray(&'static str),
    /// `Name.1=a&Name.2=b`.
    Repeated(&'static str),
    /// `Name=a,b`.
    CommaList(&'static str),
    /// `Name=a`: one id per call.
    Single(&'static str),
}

/// How a Describe* call pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `MaxResults` (up to `max`) and an opaque `NextToken`.
    Token { max: u32 },
    /// `PageNumber` (from 1) and `PageSize` (up to `max`), with `TotalCount`.
    Numbered { max: u32 },
}

impl Paging {
    pub fn max_page(self) -> u32 {
        match self {
            Paging::Token { max } | Paging::Numbered { max } => max,
        }
    }
}

/// Everything that differs between the nine Describe* reads.
#[derive(Debug)]
pub struct TypeApi {
    pub rtype: ResourceType,
    pub action: &'static str,
    pub id_filter: IdFilter,
    /// Most ids one call's filter takes.
    pub max_ids: usize,
    pub paging: Paging,
    /// The list is at `response[list_outer][list_inner]`.
    pub list_outer: &'static str,
    pub list_inner: &'static str,
    pub id_field: &'static str,
    pub name_field: &'static str,
    /// `Tag` (`Tag.N.Key`) for all but launch templates (`TemplateTag`).
    pub tag_parameter: &'static str,
    /// The group filter's name; a trap, since it never returns the default
    /// group's resources.
    pub group_filter: &'static str,
    /// Parameters that every read sends, to see past the API's defaults.
    pub always: &'static [(&'static str, &'static str)],
}

/// Image states, all of them: by default only `Available` images are listed.
pub const IMAGE_STATUSES: &str = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";
/// Dedicated host states, all of them: by default only `Available` hosts are
/// listed.
pub const HOST_STATUSES: &str =
    "Available,UnderAssessment,PermanentFailure,TempUnavailable,Redeploying";

const TYPE_APIS: [TypeApi; 9] = [
    TypeApi {
        rtype: ResourceType::Instance,
        action: "DescribeInstances",
        id_filter: IdFilter::JsonArray("InstanceIds"),
        max_ids: 100,
        paging: Paging::Token { max: 100 },
        list_outer: "Instances",
        list_inner: "Instance",
        id_field: "InstanceId",
        name_field: "InstanceName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
    },
    TypeApi {
        rtype: ResourceType::Disk,
        action: "DescribeDisks",
        id_filter: IdFilter::JsonArray("DiskIds"),
        max_ids: 100,
        paging: Paging::Token { max: 500 },
        list_outer: "Disks",
        list_inner: "Disk",
        id_field: "DiskId",
        name_field: "DiskName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
    },
    TypeApi {
        rtype: ResourceType::Snapshot,
        action: "DescribeSnapshots",
        id_filter: IdFilter::JsonArray("SnapshotIds"),
        max_ids: 100,
        paging: Paging::Token { max: 100 },
        list_outer: "Snapshots",
        list_inner: "Snapshot",
        id_field: "SnapshotId",
        name_field: "SnapshotName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
    },
    TypeApi {
        rtype: ResourceType::Image,
        action: "DescribeImages",
        id_filter: IdFilter::CommaList("ImageId"),
        max_ids: 100,
        paging: Paging::Numbered { max: 100 },
        list_outer: "Images",
        list_inner: "Image",
        id_field: "ImageId",
        name_field: "ImageName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[("ImageOwnerAlias", "self"), ("Status", IMAGE_STATUSES)],
    },
    TypeApi {
        rtype: ResourceType::SecurityGroup,
        action: "DescribeSecurityGroups",
        id_filter: IdFilter::JsonArray("SecurityGroupIds"),
        max_ids: 100,
        paging: Paging::Token { max: 100 },
        list_outer: "SecurityGroups",
        list_inner: "SecurityGroup",
        id_field: "SecurityGroupId",
        name_field: "SecurityGroupName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
    },
    TypeApi {
        rtype: ResourceType::Ddh,
        action: "DescribeDedicatedHosts",
        id_filter: IdFilter::JsonArray("DedicatedHostIds"),
        max_ids: 100,
        paging: Paging::Token { max: 100 },
        list_outer: "DedicatedHosts",
        list_inner: "DedicatedHost",
        id_field: "DedicatedHostId",
        name_field: "DedicatedHostName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[("Status", HOST_STATUSES)],
    },
    TypeApi {
        rtype: ResourceType::Eni,
        action: "DescribeNetworkInterfaces",
        id_filter: IdFilter::Repeated("NetworkInterfaceId"),
        max_ids: 100,
        paging: Paging::Token { max: 500 },
        list_outer: "NetworkInterfaceSets",
        list_inner: "NetworkInterfaceSet",
        id_field: "NetworkInterfaceId",
        name_field: "NetworkInterfaceName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
    },
    TypeApi {
        rtype: ResourceType::KeyPair,
        action: "DescribeKeyPairs",
        id_filter: IdFilter::Single("KeyPairName"),
        max_ids: 1,
        paging: Paging::Numbered { max: 50 },
        list_outer: "KeyPairs",
        list_inner: "KeyPair",
        id_field: "KeyPairName",
        name_field: "KeyPairName",
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
    },
    TypeApi {
        rtype: ResourceType::LaunchTemplate,
        action: "DescribeLaunchTemplates",
        id_filter: IdFilter::Repeated("LaunchTemplateId"),
        max_ids: 100,
        paging: Paging::Numbered { max: 50 },
        list_outer: "LaunchTemplateSets",
        list_inner: "LaunchTemplateSet",
        id_field: "LaunchTemplateId",
        name_field: "LaunchTemplateName",
        tag_parameter: "TemplateTag",
        group_filter: "TemplateResourceGroupId",
        always: &[],
    },
];

impl TypeApi {
    pub fn of(rtype: ResourceType) -> &'static TypeApi {
        &TYPE_APIS[ResourceType::ALL
            .iter()
            .position(|t| *t == rtype)
            .expect("ALL holds every type")]
    }

    pub fn by_action(action: &str) -> Option<&'static TypeApi> {
        TYPE_APIS.iter().find(|api| api.action == action)
    }

    /// How many ids one read asks for: as many as the filter takes, but no
    /// more than one page holds, so that every read is a single call.
    pub fn id_batch(&self) -> usize {
        self.max_ids.min(self.paging.max_page() as usize)
    }

    /// The parameters that ask for exactly `ids` (at most `max_ids` of them).
    pub fn id_params(&self, ids: &[String]) -> Vec<(String, String)> {
        match self.id_filter {
            IdFilter::JsonArray(name) => vec![(
                name.to_owned(),
                serde_json::to_string(ids).expect("strings serialize"),
            )],
            IdFilter::Repeated(name) => ids
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("{name}.{}", i + 1), id.clone()))
                .collect(),
            IdFilter::CommaList(name) | IdFilter::Single(name) => {
                vec![(name.to_owned(), ids.join(","))]
            }
        }
    }
}

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
pub async fn describe(
    client: &Client,
    api: &TypeApi,
    region: &str,
    selection: &Selection,
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

fn parse_page(api: &TypeApi, region: &str, body: &Value) -> Result<Page, String> {
    let items = match body.get(api.list_outer).and_then(|v| v.get(api.list_inner)) {
        Some(Value::Array(items)) => items.as_slice(),
        Some(_) => {
            return Err(format!(
                "{}.{} is not a list",
                api.list_outer, api.list_inner
            ))
        }
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
            let tags = item
                .pointer("/Tags/Tag")
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
                name: text(item, api.name_field),
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

    #[test]
    fn every_type_has_its_table_row() {
        for t in ResourceType::ALL {
            assert_eq!(TypeApi::of(t).rtype, t);
        }
    }

    #[test]
    fn id_filters_take_their_shapes() {
        let ids = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            TypeApi::of(ResourceType::Instance).id_params(&ids),
            vec![("InstanceIds".to_owned(), r#"["a","b"]"#.to_owned())]
        );
        assert_eq!(
            TypeApi::of(ResourceType::Eni).id_params(&ids),
            vec![
                ("NetworkInterfaceId.1".to_owned(), "a".to_owned()),
                ("NetworkInterfaceId.2".to_owned(), "b".to_owned())
            ]
        );
        assert_eq!(
            TypeApi::of(ResourceType::Image).id_params(&ids),
            vec![("ImageId".to_owned(), "a,b".to_owned())]
        );
    }

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
