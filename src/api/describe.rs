//! The per-type facts of the Describe* reads: action, id filter, paging,
//! response shape, for every type `JoinResourceGroup` takes. The client reads with this table and the emulator serves
//! from it; the facts themselves come from the official SDK models and docs
//! (cited per row), never from either side of this crate.

use crate::resource::ResourceType;

/// How a Describe* call takes a list of ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFilter {
    /// `Name=["a","b"]`, a JSON array in one parameter.
    JsonArray(&'static str),
    /// `Name.1=a&Name.2=b`.
    Repeated(&'static str),
    /// `Name=a`: one id per call, matched exactly.
    Single(&'static str),
    /// `Name=a`: one name per call, where `*` is a wildcard (key pairs).
    NamePattern(&'static str),
}

impl IdFilter {
    /// The parameter's name.
    pub fn name(self) -> &'static str {
        match self {
            IdFilter::JsonArray(n)
            | IdFilter::Repeated(n)
            | IdFilter::Single(n)
            | IdFilter::NamePattern(n) => n,
        }
    }
}

/// How a Describe* call pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `MaxResults` (up to `max`) and an opaque `NextToken`; the deprecated
    /// `PageNumber`/`PageSize` still page when `MaxResults` and `NextToken`
    /// are absent. With `clamps`, a `MaxResults` below 10 is served as 10
    /// and one above `max` as `max` (the request model says so), else it is
    /// refused.
    Token { max: u32, clamps: bool },
    /// `PageNumber` (from 1) and `PageSize` (up to `max`), with `TotalCount`.
    Numbered { max: u32 },
}

impl Paging {
    pub fn max_page(self) -> u32 {
        match self {
            Paging::Token { max, .. } | Paging::Numbered { max } => max,
        }
    }
}

/// A filter that takes one value per call and lists only the items with
/// that value, defaulting to one of them: to see every item, each read is
/// made once per value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    pub parameter: &'static str,
    pub values: &'static [&'static str],
}

/// How a [`Filter`] compares its value with an item's attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The whole value.
    Exact,
    /// `*` stands for any run of characters ("Fuzzy search with the
    /// asterisk (*) wildcard").
    Wildcard,
    /// "Fuzzy search is supported" without a wildcard: taken as a
    /// substring, as for `ListResourceGroups`.
    Substring,
}

/// What a [`Filter`] compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    /// The item's id.
    Id,
    /// The item's name.
    Name,
    /// An instance's state (`Running` unless the fleet says otherwise).
    InstanceStatus,
    /// The instance the item is attached to (disks and ENIs).
    AttachedTo,
}

/// A filter of a request model beyond ids, tags, the group and the states
/// of images and hosts: `parameter=value` lists only the items whose
/// `compared` attribute matches. With `repeated`, the parameter is
/// `Name.1`, `Name.2`, … and an item matches any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub parameter: &'static str,
    pub compared: Compared,
    pub how: Match,
    pub repeated: bool,
}

const fn filter(parameter: &'static str, compared: Compared, how: Match) -> Filter {
    Filter {
        parameter,
        compared,
        how,
        repeated: false,
    }
}

/// Everything that differs between the Describe* reads.
#[derive(Debug)]
pub struct TypeApi {
    pub rtype: ResourceType,
    pub action: &'static str,
    pub id_filter: IdFilter,
    /// Most ids one call's filter takes.
    pub max_ids: usize,
    pub paging: Paging,
    /// Where the items are: `["Instances", "Instance"]` for
    /// `{"Instances": {"Instance": [...]}}`, `["ActivationList"]` for a flat
    /// list.
    pub list_path: &'static [&'static str],
    pub id_field: &'static str,
    /// The item's name; activations have none.
    pub name_field: Option<&'static str>,
    /// Where an item's `{TagKey, TagValue}` list is: `["Tags", "Tag"]`, or
    /// `["Tags"]` for the flat lists of the Cloud Assistant APIs.
    pub tags_path: &'static [&'static str],
    /// `Tag` (`Tag.N.Key`) for all but launch templates (`TemplateTag`).
    pub tag_parameter: &'static str,
    /// The group filter's name; a trap, since it never returns the default
    /// group's resources.
    pub group_filter: &'static str,
    /// Parameters that every read sends, to see past the API's defaults.
    pub always: &'static [(&'static str, &'static str)],
    /// A single-valued filter with a default that hides items: every read
    /// is made once per value.
    pub sweep: Option<Sweep>,
    /// The other filters of the request model that change which items are
    /// listed, on the attributes the emulator's fleet has (the line of each
    /// is in docs/sources/conformance.md §7).
    pub filters: &'static [Filter],
}

/// Image states, all of them: by default only `Available` images are
/// listed. `Status` takes a comma list (TEA `DescribeImagesRequest.status`:
/// "supports multiple values at the same time, separated by commas").
pub const IMAGE_STATUSES: &str = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";

/// Dedicated host states, all of them. `Status` is one value defaulting to
/// `Available`, and the SDK says nothing of a comma list (TEA
/// `DescribeDedicatedHostsRequest.status`), so hosts are listed once per
/// state.
pub const HOST_STATUSES: Sweep = Sweep {
    parameter: "Status",
    values: &[
        "Available",
        "UnderAssessment",
        "PermanentFailure",
        "TempUnavailable",
        "Redeploying",
    ],
};

/// The nested list and tag paths of most APIs.
const TAGS: &[&str] = &["Tags", "Tag"];

// Every row's facts: the official Tea SDK, PyPI `alibabacloud_ecs20140526`
// 7.11.8 ("TEA"): the request model `models/_describe_<api>_request.py`
// (id filter, its limit, paging and its maximum, filters) and the response
// model `models/_describe_<api>_response_body.py` (list path, id, name,
// `ResourceGroupId`, tags); repeated versus single parameters as
// `aliyun-python-sdk-ecs==4.24.83` `Describe<Api>Request.py` adds them.
// Collected with quotes in docs/sources/ecs-models.md §2–3; the fixtures
// tests/fixtures/api/Describe<Api>.json are these response models.
const TYPE_APIS: [TypeApi; 13] = [
    // TEA _describe_instances_*: InstanceIds JSON array ≤100; MaxResults
    // below 10 → 10, above 100 → 100 (_describe_instances_request.py l.140–145).
    TypeApi {
        rtype: ResourceType::Instance,
        action: "DescribeInstances",
        id_filter: IdFilter::JsonArray("InstanceIds"),
        max_ids: 100,
        paging: Paging::Token {
            max: 100,
            clamps: true,
        },
        list_path: &["Instances", "Instance"],
        id_field: "InstanceId",
        name_field: Some("InstanceName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.102 `InstanceName` ("Fuzzy search with the asterisk (*) wildcard"),
        // l.182 `Status`.
        filters: &[
            filter("InstanceName", Compared::Name, Match::Wildcard),
            filter("Status", Compared::InstanceStatus, Match::Exact),
        ],
    },
    // TEA _describe_disks_*: DiskIds JSON array ≤100; MaxResults below 10 →
    // 10, above 500 → 500 (_describe_disks_request.py l.136–141).
    TypeApi {
        rtype: ResourceType::Disk,
        action: "DescribeDisks",
        id_filter: IdFilter::JsonArray("DiskIds"),
        max_ids: 100,
        paging: Paging::Token {
            max: 500,
            clamps: true,
        },
        list_path: &["Disks", "Disk"],
        id_field: "DiskId",
        name_field: Some("DiskName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.93 `DiskName`, l.129 `InstanceId` ("The instance ID to which the
        // disk … is attached").
        filters: &[
            filter("DiskName", Compared::Name, Match::Exact),
            filter("InstanceId", Compared::AttachedTo, Match::Exact),
        ],
    },
    // TEA _describe_snapshots_*: SnapshotIds JSON array ≤100; MaxResults ≤100.
    TypeApi {
        rtype: ResourceType::Snapshot,
        action: "DescribeSnapshots",
        id_filter: IdFilter::JsonArray("SnapshotIds"),
        max_ids: 100,
        paging: Paging::Token {
            max: 100,
            clamps: false,
        },
        list_path: &["Snapshots", "Snapshot"],
        id_field: "SnapshotId",
        name_field: Some("SnapshotName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.91 `SnapshotName`.
        filters: &[filter("SnapshotName", Compared::Name, Match::Exact)],
    },
    // TEA _describe_images_*: ImageId is one image id ("The image ID.", no
    // list, unlike a legacy Japanese doc page; Terraform reads one id per
    // call: terraform-provider-alicloud alicloud/service_alicloud_ecs_v2.go
    // `describeEcsImage`); PageSize ≤100, no NextToken; ImageOwnerAlias
    // empty means system, self and others; Status defaults to Available.
    TypeApi {
        rtype: ResourceType::Image,
        action: "DescribeImages",
        id_filter: IdFilter::Single("ImageId"),
        max_ids: 1,
        paging: Paging::Numbered { max: 100 },
        list_path: &["Images", "Image"],
        id_field: "ImageId",
        name_field: Some("ImageName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[("ImageOwnerAlias", "self"), ("Status", IMAGE_STATUSES)],
        sweep: None,
        // l.79 `ImageName` ("Fuzzy search is supported").
        filters: &[filter("ImageName", Compared::Name, Match::Substring)],
    },
    // TEA _describe_security_groups_*: SecurityGroupIds JSON array ≤100;
    // MaxResults ≤100.
    TypeApi {
        rtype: ResourceType::SecurityGroup,
        action: "DescribeSecurityGroups",
        id_filter: IdFilter::JsonArray("SecurityGroupIds"),
        max_ids: 100,
        paging: Paging::Token {
            max: 100,
            clamps: false,
        },
        list_path: &["SecurityGroups", "SecurityGroup"],
        id_field: "SecurityGroupId",
        name_field: Some("SecurityGroupName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.77 `SecurityGroupId`, l.81 `SecurityGroupName`.
        filters: &[
            filter("SecurityGroupId", Compared::Id, Match::Exact),
            filter("SecurityGroupName", Compared::Name, Match::Exact),
        ],
    },
    // TEA _describe_dedicated_hosts_*: DedicatedHostIds ≤100 (a JSON array
    // as Terraform sends it: alicloud/service_alicloud_ecs.go
    // DescribeEcsDedicatedHost); MaxResults ≤100; Status one value,
    // default Available.
    TypeApi {
        rtype: ResourceType::Ddh,
        action: "DescribeDedicatedHosts",
        id_filter: IdFilter::JsonArray("DedicatedHostIds"),
        max_ids: 100,
        paging: Paging::Token {
            max: 100,
            clamps: false,
        },
        list_path: &["DedicatedHosts", "DedicatedHost"],
        id_field: "DedicatedHostId",
        name_field: Some("DedicatedHostName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: Some(HOST_STATUSES),
        // l.40 `DedicatedHostName`.
        filters: &[filter("DedicatedHostName", Compared::Name, Match::Exact)],
    },
    // TEA _describe_dedicated_host_clusters_*: DedicatedHostClusterIds JSON
    // array (["dc-x","dc-y"]), ≤100; PageSize ≤100, no NextToken.
    TypeApi {
        rtype: ResourceType::DdhCluster,
        action: "DescribeDedicatedHostClusters",
        id_filter: IdFilter::JsonArray("DedicatedHostClusterIds"),
        max_ids: 100,
        paging: Paging::Numbered { max: 100 },
        list_path: &["DedicatedHostClusters", "DedicatedHostCluster"],
        id_field: "DedicatedHostClusterId",
        name_field: Some("DedicatedHostClusterName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.31 `DedicatedHostClusterName`.
        filters: &[filter(
            "DedicatedHostClusterName",
            Compared::Name,
            Match::Exact,
        )],
    },
    // TEA _describe_network_interfaces_*: NetworkInterfaceId.N, N 1–100;
    // MaxResults below 10 → 10, above 500 → 500
    // (_describe_network_interfaces_request.py l.44–47).
    TypeApi {
        rtype: ResourceType::Eni,
        action: "DescribeNetworkInterfaces",
        id_filter: IdFilter::Repeated("NetworkInterfaceId"),
        max_ids: 100,
        paging: Paging::Token {
            max: 500,
            clamps: true,
        },
        list_path: &["NetworkInterfaceSets", "NetworkInterfaceSet"],
        id_field: "NetworkInterfaceId",
        name_field: Some("NetworkInterfaceName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.51 `NetworkInterfaceName`, l.38 `InstanceId` ("The instance ID to
        // which the … ENI is currently attached").
        filters: &[
            filter("NetworkInterfaceName", Compared::Name, Match::Exact),
            filter("InstanceId", Compared::AttachedTo, Match::Exact),
        ],
    },
    // TEA _describe_key_pairs_*: no id; KeyPairName one name with `*`
    // wildcards; PageSize ≤50, no NextToken.
    TypeApi {
        rtype: ResourceType::KeyPair,
        action: "DescribeKeyPairs",
        id_filter: IdFilter::NamePattern("KeyPairName"),
        max_ids: 1,
        paging: Paging::Numbered { max: 50 },
        list_path: &["KeyPairs", "KeyPair"],
        id_field: "KeyPairName",
        name_field: Some("KeyPairName"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // The name is the id: `KeyPairName` is the id filter.
        filters: &[],
    },
    // TEA _describe_launch_templates_*: LaunchTemplateId.N ≤100; PageSize
    // (maximum not stated in TEA 7.11.8; 50 as NOTES.md and the legacy
    // doc give it), no NextToken; TemplateResourceGroupId, TemplateTag.N.
    TypeApi {
        rtype: ResourceType::LaunchTemplate,
        action: "DescribeLaunchTemplates",
        id_filter: IdFilter::Repeated("LaunchTemplateId"),
        max_ids: 100,
        paging: Paging::Numbered { max: 50 },
        list_path: &["LaunchTemplateSets", "LaunchTemplateSet"],
        id_field: "LaunchTemplateId",
        name_field: Some("LaunchTemplateName"),
        tags_path: TAGS,
        tag_parameter: "TemplateTag",
        group_filter: "TemplateResourceGroupId",
        always: &[],
        sweep: None,
        // l.36 `LaunchTemplateName.N`, up to 100 names.
        filters: &[Filter {
            parameter: "LaunchTemplateName",
            compared: Compared::Name,
            how: Match::Exact,
            repeated: true,
        }],
    },
    // TEA _describe_commands_*: CommandId one id; MaxResults ≤50; without
    // Provider, the commands the account created (public ones cannot join a
    // group); the name is `Name`.
    TypeApi {
        rtype: ResourceType::Command,
        action: "DescribeCommands",
        id_filter: IdFilter::Single("CommandId"),
        max_ids: 1,
        paging: Paging::Token {
            max: 50,
            clamps: false,
        },
        list_path: &["Commands", "Command"],
        id_field: "CommandId",
        name_field: Some("Name"),
        tags_path: TAGS,
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.65 `Name` (private commands: `command*`, `*command`, `*command*`).
        filters: &[filter("Name", Compared::Name, Match::Wildcard)],
    },
    // TEA _describe_activations_*: ActivationId one id; MaxResults ≤50;
    // a flat `ActivationList[]` with flat `Tags[]`; no name (InstanceName is
    // the prefix of the managed instances it registers).
    TypeApi {
        rtype: ResourceType::Activation,
        action: "DescribeActivations",
        id_filter: IdFilter::Single("ActivationId"),
        max_ids: 1,
        paging: Paging::Token {
            max: 50,
            clamps: false,
        },
        list_path: &["ActivationList"],
        id_field: "ActivationId",
        name_field: None,
        tags_path: &["Tags"],
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // `InstanceName` is the prefix of the instances an activation
        // registers, not the activation's: no filter on it here.
        filters: &[],
    },
    // TEA _describe_managed_instances_*: InstanceId.N, N 1–50; MaxResults
    // ≤50; a flat `Instances[]` with flat `Tags[]`.
    TypeApi {
        rtype: ResourceType::ManagedInstance,
        action: "DescribeManagedInstances",
        id_filter: IdFilter::Repeated("InstanceId"),
        max_ids: 50,
        paging: Paging::Token {
            max: 50,
            clamps: false,
        },
        list_path: &["Instances"],
        id_field: "InstanceId",
        name_field: Some("InstanceName"),
        tags_path: &["Tags"],
        tag_parameter: "Tag",
        group_filter: "ResourceGroupId",
        always: &[],
        sweep: None,
        // l.45 `InstanceName`.
        filters: &[filter("InstanceName", Compared::Name, Match::Exact)],
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
    pub fn id_params(&self, ids: &[impl AsRef<str>]) -> Vec<(String, String)> {
        let ids = ids.iter().map(AsRef::as_ref);
        match self.id_filter {
            IdFilter::JsonArray(name) => vec![(
                name.to_owned(),
                serde_json::to_string(&ids.collect::<Vec<&str>>()).expect("strings serialize"),
            )],
            IdFilter::Repeated(name) => ids
                .enumerate()
                .map(|(i, id)| (format!("{name}.{}", i + 1), id.to_owned()))
                .collect(),
            IdFilter::Single(name) | IdFilter::NamePattern(name) => ids
                .take(1)
                .map(|id| (name.to_owned(), id.to_owned()))
                .collect(),
        }
    }
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
        // One image id per call: the SDK model takes a single id.
        assert_eq!(
            TypeApi::of(ResourceType::Image).id_params(&ids[..1]),
            vec![("ImageId".to_owned(), "a".to_owned())]
        );
        assert_eq!(TypeApi::of(ResourceType::Image).id_batch(), 1);
    }

    #[test]
    fn single_valued_filters_take_one_value_per_call() {
        for t in ResourceType::ALL {
            let api = TypeApi::of(t);
            if matches!(
                api.id_filter,
                IdFilter::Single(_) | IdFilter::NamePattern(_)
            ) {
                assert_eq!(api.max_ids, 1, "{t}");
            }
        }
        let hosts = TypeApi::of(ResourceType::Ddh)
            .sweep
            .expect("hosts sweep their states");
        assert_eq!(hosts.parameter, "Status");
        assert_eq!(hosts.values.len(), 5);
        assert!(!TypeApi::of(ResourceType::Image)
            .always
            .iter()
            .any(|(k, _)| *k == "ImageId"));
    }
}
