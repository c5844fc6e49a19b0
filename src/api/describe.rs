//! The per-type facts of the Describe* reads: action, id filter, paging,
//! response shape. The client reads with this table and the emulator serves
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
}
