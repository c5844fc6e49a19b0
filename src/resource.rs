//! The vocabulary shared by every layer: the resource types (the ECS ones
//! that `JoinResourceGroup` accepts, and every other service's that
//! Resource Manager groups), how their ids look, the key that names one
//! resource in one region, resource groups, and the inventory the planner
//! diffs against. Domain types only: wire shapes live in `api` and `cloud`.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A resource type regroup can place in a group. The thirteen named
/// variants are the ECS types of `JoinResourceGroup`: all its
/// `ResourceType` takes in the current SDK model (PyPI
/// `alibabacloud_ecs20140526==7.11.8` `JoinResourceGroupRequest.resource_type`,
/// and the JoinResourceGroup doc's request parameters; docs/sources/ecs-models.md
/// §1); they are read with their Describe* calls and moved with
/// `JoinResourceGroup`, and keep their short names (`instance`), which are
/// the API's own, case-sensitive values. [`ResourceType::Other`] is any
/// other type Resource Manager groups (doc 94479), named `service:type`,
/// read with `ListResources` and moved with `MoveResources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    Instance,
    Disk,
    Snapshot,
    Image,
    SecurityGroup,
    Ddh,
    DdhCluster,
    Eni,
    KeyPair,
    LaunchTemplate,
    Command,
    Activation,
    ManagedInstance,
    Other(OtherType),
}

/// A type of another service than ECS: a handle into doc 94479's table
/// ([`services::OTHER_TYPES`]), so that a [`ResourceType`] stays `Copy`.
/// Ordered as the table is, by service and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OtherType(u16);

impl OtherType {
    fn row(self) -> &'static services::OtherRow {
        &services::OTHER_TYPES[usize::from(self.0)]
    }

    /// Every type of the table, in its order.
    fn all() -> impl Iterator<Item = OtherType> {
        (0..services::OTHER_TYPES.len()).map(|i| OtherType(i as u16))
    }

    /// The type with these codes (compared without regard to case, since
    /// Resource Manager does not document whether it does).
    fn find(service: &str, rm_type: &str) -> Option<OtherType> {
        OtherType::all().find(|t| {
            t.row().service.eq_ignore_ascii_case(service)
                && t.row().rm_type.eq_ignore_ascii_case(rm_type)
        })
    }
}

/// How the ids of a type look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdShape {
    /// A prefix, then letters and digits: `i-bp1…`.
    Prefixed(&'static str),
    /// Key pairs are named, not numbered: the name is the id.
    KeyPairName,
    /// A UUID in hex, like the activation id `4ECEEE12-56F1-4FBC-9AB1-890F1234****`
    /// of the SDK model's example (TS6 `DescribeActivationsResponseBody`
    /// `activationId` @example; tests/fixtures/api/DescribeActivations.json).
    Uuid,
    /// An OSS bucket's name, which is its id: 3 to 63 lower-case letters,
    /// digits and hyphens, starting and ending with a letter or digit
    /// ("Bucket naming conventions",
    /// https://www.alibabacloud.com/help/en/oss/user-guide/bucket-naming-conventions,
    /// Mar 20, 2026; the same rules in OSS error 0015-00000001's page).
    BucketName,
    /// A type whose ids no source describes: regroup checks only what any
    /// id satisfies, 1 to [`FREE_ID_MAX`] characters, none of them space
    /// or control characters. A bound of our own, not an API fact.
    Free,
}

/// The longest id regroup accepts for a type of [`IdShape::Free`]: room
/// for any id seen, small enough to keep a hostile manifest cheap.
pub const FREE_ID_MAX: usize = 255;

impl ResourceType {
    /// The thirteen ECS types of `JoinResourceGroup`, in the order of the
    /// API's list. Every other type is in [`ResourceType::every`].
    pub const ALL: [ResourceType; 13] = [
        ResourceType::Instance,
        ResourceType::Disk,
        ResourceType::Snapshot,
        ResourceType::Image,
        ResourceType::SecurityGroup,
        ResourceType::Ddh,
        ResourceType::DdhCluster,
        ResourceType::Eni,
        ResourceType::KeyPair,
        ResourceType::LaunchTemplate,
        ResourceType::Command,
        ResourceType::Activation,
        ResourceType::ManagedInstance,
    ];

    /// Every type regroup knows: the ECS ones, then doc 94479's others.
    pub fn every() -> impl Iterator<Item = ResourceType> {
        ResourceType::ALL
            .into_iter()
            .chain(OtherType::all().map(ResourceType::Other))
    }

    /// Whether this is one of the ECS types read with Describe* and moved
    /// with `JoinResourceGroup` (ECS's types that only Resource Manager
    /// moves, like `ecs:snapshotpolicy`, are not).
    pub fn is_ecs(self) -> bool {
        !matches!(self, ResourceType::Other(_))
    }

    /// The Cloud Service Code of doc 94479: `ecs` for the ECS types.
    pub fn service(self) -> &'static str {
        match self {
            ResourceType::Other(other) => other.row().service,
            _ => "ecs",
        }
    }

    /// Resource Manager's Resource Type code, as `ListResources` reports it
    /// and `MoveResources` takes it (docs/sources/resourcemanager-services.md
    /// §2.1): the short name for the ECS types.
    pub fn rm_type(self) -> &'static str {
        match self {
            ResourceType::Other(other) => other.row().rm_type,
            ecs => ecs.as_str(),
        }
    }

    /// The type Resource Manager names with these codes, if regroup knows it.
    pub fn from_rm(service: &str, rm_type: &str) -> Option<ResourceType> {
        if service.eq_ignore_ascii_case("ecs") {
            if let Some(ecs) = ResourceType::ALL
                .into_iter()
                .find(|t| t.as_str().eq_ignore_ascii_case(rm_type))
            {
                return Some(ecs);
            }
        }
        OtherType::find(service, rm_type).map(ResourceType::Other)
    }

    /// The name manifests, plans and reports use: the short name of an ECS
    /// type (the `ResourceType` value `JoinResourceGroup` expects), else
    /// `service:type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Other(other) => other.row().name,
            ResourceType::Instance => "instance",
            ResourceType::Disk => "disk",
            ResourceType::Snapshot => "snapshot",
            ResourceType::Image => "image",
            ResourceType::SecurityGroup => "securitygroup",
            ResourceType::Ddh => "ddh",
            ResourceType::DdhCluster => "ddhcluster",
            ResourceType::Eni => "eni",
            ResourceType::KeyPair => "keypair",
            ResourceType::LaunchTemplate => "launchtemplate",
            ResourceType::Command => "command",
            ResourceType::Activation => "activation",
            ResourceType::ManagedInstance => "managedinstance",
        }
    }

    /// How ids of this type look. The prefixes of the four newer types come
    /// from the SDK model's examples (TS6 `@alicloud/ecs20140526@6.1.0`
    /// `src/client.ts` @example, as in tests/fixtures/api/): `dc-bp12wlf6am0vz9v2****`
    /// (DescribeDedicatedHostClusters), `c-hz01272yr52****` (DescribeCommands),
    /// `mi-hz018jrc1o0****` (DescribeManagedInstances).
    pub fn id_shape(self) -> IdShape {
        match self {
            ResourceType::Instance => IdShape::Prefixed("i-"),
            ResourceType::Disk => IdShape::Prefixed("d-"),
            ResourceType::Snapshot => IdShape::Prefixed("s-"),
            ResourceType::Image => IdShape::Prefixed("m-"),
            ResourceType::SecurityGroup => IdShape::Prefixed("sg-"),
            ResourceType::Ddh => IdShape::Prefixed("dh-"),
            ResourceType::DdhCluster => IdShape::Prefixed("dc-"),
            ResourceType::Eni => IdShape::Prefixed("eni-"),
            ResourceType::KeyPair => IdShape::KeyPairName,
            ResourceType::LaunchTemplate => IdShape::Prefixed("lt-"),
            ResourceType::Command => IdShape::Prefixed("c-"),
            ResourceType::Activation => IdShape::Uuid,
            ResourceType::ManagedInstance => IdShape::Prefixed("mi-"),
            ResourceType::Other(other) => other.row().shape,
        }
    }

    /// The prefix every id of this type starts with, if it has one.
    pub fn id_prefix(self) -> Option<&'static str> {
        match self.id_shape() {
            IdShape::Prefixed(prefix) => Some(prefix),
            IdShape::KeyPairName | IdShape::Uuid | IdShape::BucketName | IdShape::Free => None,
        }
    }

    /// `a` or `an`, for messages.
    fn article(self) -> &'static str {
        if self.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        }
    }

    /// Checks that `id` is shaped like an id of this type, and says what is
    /// wrong when it is not.
    pub fn check_id(self, id: &str) -> Result<(), String> {
        match self.id_shape() {
            IdShape::Prefixed(prefix) => {
                let body = id.strip_prefix(prefix).ok_or_else(|| {
                    format!(
                        "`{id}` is not {} {self} id: {self} ids start with `{prefix}`",
                        self.article()
                    )
                })?;
                if body.is_empty()
                    || body.len() > 64
                    || !body.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(format!(
                        "`{id}` is not {} {self} id: expected `{prefix}` followed by 1 to 64 letters and digits",
                        self.article()
                    ));
                }
                Ok(())
            }
            IdShape::KeyPairName => check_key_pair_name(id),
            IdShape::Uuid => {
                let parts: Vec<&str> = id.split('-').collect();
                let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
                let hex = parts
                    .iter()
                    .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()));
                if lengths != [8, 4, 4, 4, 12] || !hex {
                    return Err(format!(
                        "`{id}` is not {} {self} id: expected a UUID like `4ECEEE12-56F1-4FBC-9AB1-890F12345678`",
                        self.article()
                    ));
                }
                Ok(())
            }
            IdShape::BucketName => {
                let allowed = id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                let ends = !id.starts_with('-') && !id.ends_with('-');
                if !(3..=63).contains(&id.len()) || !allowed || !ends {
                    return Err(format!(
                        "`{id}` is not a bucket name: 3 to 63 lower-case letters, digits and `-`, starting and ending with a letter or digit"
                    ));
                }
                Ok(())
            }
            IdShape::Free => {
                let count = id.chars().count();
                if count == 0
                    || count > FREE_ID_MAX
                    || id.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(format!(
                        "`{id}` is not {} {self} id: expected 1 to {FREE_ID_MAX} characters without spaces",
                        self.article()
                    ));
                }
                Ok(())
            }
        }
    }
}

/// The key pair name grammar, one for manifest, fleet and export: 2 to 128
/// characters, starting with a letter (Unicode letters included), of
/// letters, digits and `:_.-`. Source: the official Python SDK
/// alibabacloud-ecs20140526 7.11.8, `models/_import_key_pair_request.py`,
/// `ImportKeyPairRequest.key_pair_name`: "2 to 128 characters in length and
/// must start with a letter, either uppercase or lowercase, or a Chinese
/// character. It cannot start with http:// or https://. The name can contain
/// characters that are classified as letters in Unicode, including letters,
/// Chinese characters, and digits. It can also contain colons (:),
/// underscores (_), periods (.), or hyphens (-)." (`CreateKeyPair` allows a
/// subset: no periods, per `_create_key_pair_request.py`.) `http://` is
/// excluded already: `/` is not allowed.
fn check_key_pair_name(id: &str) -> Result<(), String> {
    let starts_with_letter = id.chars().next().is_some_and(char::is_alphabetic);
    let allowed = id
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if !(2..=128).contains(&id.chars().count()) || !starts_with_letter || !allowed {
        return Err(format!(
            "`{id}` is not a key pair name: 2 to 128 characters, starting with a letter, of letters, digits and `-_.:`"
        ));
    }
    Ok(())
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the types and their aliases are listed, for messages.
pub const TYPES_DOC: &str = "docs/manifest.md#resource-types";

impl FromStr for ResourceType {
    type Err = String;

    /// The short name of an ECS type (`instance`), or `service:type` with
    /// doc 94479's codes (`eip:eip`, and `ecs:instance` for `instance`), or
    /// an alias of one ([`services::ALIASES`]). Case-sensitive, as the ECS
    /// names are.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let canonical = services::ALIASES
            .iter()
            .find(|(alias, _)| *alias == s)
            .map_or(s, |(_, canonical)| canonical);
        let ecs_short = canonical.strip_prefix("ecs:").unwrap_or(canonical);
        if let Some(ecs) = ResourceType::ALL
            .into_iter()
            .find(|t| t.as_str() == ecs_short)
        {
            return Ok(ecs);
        }
        if let Some(other) = OtherType::all().find(|t| t.row().name == canonical) {
            return Ok(ResourceType::Other(other));
        }
        let hint = ResourceType::every()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .map(|t| format!(" (did you mean `{t}`?)"))
            .unwrap_or_default();
        Err(format!(
            "unknown resource type `{s}`{hint}: an ECS type ({}) or `service:type` with the codes of Resource Manager's doc 94479, like `eip:eip` (see {TYPES_DOC})",
            ecs_names()
        ))
    }
}

/// The ECS types' names, for messages.
pub fn ecs_names() -> String {
    let names: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
    names.join(", ")
}

/// Every spelling the manifest accepts for a type: the names of
/// [`ResourceType::every`], `ecs:` and a short name, and the aliases. What
/// the JSON schema lists.
pub fn accepted_names() -> Vec<String> {
    let mut names: Vec<String> = ResourceType::every()
        .map(|t| t.as_str().to_owned())
        .collect();
    names.extend(ResourceType::ALL.iter().map(|t| format!("ecs:{t}")));
    names.extend(
        services::ALIASES
            .iter()
            .map(|(alias, _)| (*alias).to_owned()),
    );
    names
}

impl Serialize for ResourceType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResourceType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for ResourceType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ResourceType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An ECS type's short name, or `service:type` with the codes of Resource Manager's doc 94479.",
            "type": "string",
            "enum": accepted_names()
        })
    }
}

/// Names one resource: its type, region and id. Ordered so that plans and
/// reports come out in the same order every time. The text is shared, not
/// copied: an inventory, its plan and its report hold the same key, and a
/// region is one string for every resource in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceKey {
    #[serde(rename = "type")]
    pub rtype: ResourceType,
    pub region: Arc<str>,
    pub id: Arc<str>,
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({})", self.rtype, self.id, self.region)
    }
}

/// A resource as the cloud reports it. Its text is shared: the name with the
/// plan's change, the group id and the tags with every resource that has
/// the same (see [`Interner`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub key: ResourceKey,
    pub name: Arc<str>,
    pub group_id: Arc<str>,
    /// Tags as (key, value) pairs. A list, not a map: resources carry few
    /// tags, and a plan of 100,000 resources holds 100,000 of these. Shared
    /// too: resources tagged alike hold one list ([`Interner::tags`]).
    pub tags: Tags,
}

impl Resource {
    /// The value of tag `key`, if the resource has it.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }
}

/// A resource's tags, as (key, value) pairs.
pub type Tags = Arc<[(Arc<str>, Arc<str>)]>;

/// Hands out one shared copy of each distinct string: group ids, regions
/// and tags repeat across thousands of resources; and of each distinct
/// tag list, which repeats as often (a list of its own was 48 bytes of
/// every resource).
#[derive(Debug, Default)]
pub struct Interner {
    texts: HashSet<Arc<str>>,
    tag_lists: HashSet<Tags>,
}

impl Interner {
    /// The shared copy of `text`.
    pub fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.texts.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = text.into();
        self.texts.insert(shared.clone());
        shared
    }

    /// The shared copy of the tag list of these (key, value) pairs.
    pub fn tags<'t>(&mut self, pairs: impl Iterator<Item = (&'t str, &'t str)>) -> Tags {
        let list: Vec<(Arc<str>, Arc<str>)> = pairs
            .map(|(key, value)| (self.get(key), self.get(value)))
            .collect();
        if let Some(shared) = self.tag_lists.get(list.as_slice()) {
            return shared.clone();
        }
        let shared: Tags = list.into();
        self.tag_lists.insert(shared.clone());
        shared
    }
}

/// A resource group of the account, as the planner and the inventory see it.
/// Its id and name are shared with every resource and change that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: Arc<str>,
    pub name: Arc<str>,
    /// Resource Manager's lifecycle state (`OK`, `Creating`,
    /// `PendingDelete`, ...), kept as reported.
    pub status: String,
}

/// The `Status` of a group that resources can join: Resource Manager's
/// states are `Creating`, `OK` and `PendingDelete`
/// (`alibabacloud_resourcemanager20200331==2.6.2` `ListResourceGroupsRequest.status`),
/// and `JoinResourceGroup` refuses the others with
/// `InvalidStatus.ResourceGroup` (docs/sources/ecs-models.md §1).
pub const GROUP_READY: &str = "OK";

/// The identifier (`Name`) of the account's default resource group. No API
/// field marks the default group (`ListResourceGroups` and
/// `GetResourceGroup` items have none: docs/sources/ecs-models.md §6), and
/// a Describe* item of a resource in it may carry an empty
/// `ResourceGroupId` (§4: not established either way). Its identifier is
/// `default`: that is how the Terraform provider's own examples find it
/// (`data "alicloud_resource_manager_resource_groups" { name_regex = "default" }`
/// in aliyun/terraform-provider-alicloud
/// `website/docs/r/ecs_image_component.html.markdown` and
/// `website/docs/r/oss_bucket.html.markdown`), and an identifier never
/// changes (`UpdateResourceGroup` takes only `NewDisplayName`:
/// `alibabacloud_resourcemanager20200331==2.6.2`
/// `models/_update_resource_group_request.py`).
pub const DEFAULT_GROUP_NAME: &str = "default";

/// Whether a resource whose Describe* item reports `reported` as its
/// `ResourceGroupId` is in the group `id` named `name`: an empty id stands
/// for the default group.
pub fn reported_in(reported: &str, id: &str, name: &str) -> bool {
    reported == id || (reported.is_empty() && name == DEFAULT_GROUP_NAME)
}

/// What the account holds, for what the manifest touches: the planner's
/// view of the cloud, read by `inventory` and diffed by `plan`.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub groups: Vec<Group>,
    pub resources: Resources,
}

impl Inventory {
    /// The inventory of what was read, with every empty `ResourceGroupId`
    /// read as the default group's id (see [`DEFAULT_GROUP_NAME`]), so that
    /// the planner and export see one id per group. With no group of that
    /// name, an empty id stays empty.
    pub fn new(groups: Vec<Group>, mut resources: Resources) -> Inventory {
        let default = groups
            .iter()
            .find(|g| &*g.name == DEFAULT_GROUP_NAME)
            .map(|g| g.id.clone());
        if let Some(default) = default {
            for resource in resources.values_mut() {
                if resource.group_id.is_empty() {
                    resource.group_id.clone_from(&default);
                }
            }
        }
        Inventory { groups, resources }
    }
}

pub(crate) mod auto_grouping;
mod resources;
mod services;

pub use resources::Resources;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip_and_are_case_sensitive() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>(), Ok(t));
        }
        assert!("Instance".parse::<ResourceType>().is_err());
        assert!("securityGroup".parse::<ResourceType>().is_err());
        assert_eq!(
            "managedinstance".parse::<ResourceType>(),
            Ok(ResourceType::ManagedInstance)
        );
    }

    fn parsed(text: &str) -> ResourceType {
        text.parse()
            .unwrap_or_else(|e| panic!("`{text}` parses: {e}"))
    }

    #[test]
    fn the_table_is_sorted_unique_and_spelled_service_colon_type() {
        let rows = &services::OTHER_TYPES;
        for pair in rows.windows(2) {
            assert!(
                (pair[0].service, pair[0].rm_type) < (pair[1].service, pair[1].rm_type),
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for row in rows {
            assert_eq!(row.name, format!("{}:{}", row.service, row.rm_type));
            assert!(
                ResourceType::from_rm(row.service, row.rm_type).is_some_and(|t| !t.is_ecs()),
                "{} is not an ECS type of JoinResourceGroup",
                row.name
            );
        }
        assert!(rows.len() < usize::from(u16::MAX), "handles fit their u16");
    }

    #[test]
    fn every_type_prints_and_parses_back_the_same() {
        for t in ResourceType::every() {
            assert_eq!(parsed(t.as_str()), t);
            assert_eq!(parsed(&format!("{}:{}", t.service(), t.rm_type())), t);
            assert_eq!(ResourceType::from_rm(t.service(), t.rm_type()), Some(t));
            let json = serde_json::to_string(&t).expect("a type serializes");
            assert_eq!(json, format!("\"{t}\""));
            assert_eq!(serde_json::from_str::<ResourceType>(&json).ok(), Some(t));
        }
        assert_eq!(
            ResourceType::every().count(),
            13 + services::OTHER_TYPES.len()
        );
    }

    #[test]
    fn other_services_are_named_by_their_doc_94479_codes() {
        let eip = parsed("eip:eip");
        assert_eq!(
            (eip.service(), eip.rm_type(), eip.is_ecs()),
            ("eip", "eip", false)
        );
        assert_eq!(eip.to_string(), "eip:eip");
        let lb = parsed("slb:loadbalancer");
        assert_eq!((lb.service(), lb.rm_type()), ("slb", "loadbalancer"));
        let policy = parsed("ecs:snapshotpolicy");
        assert_eq!(
            (policy.service(), policy.rm_type(), policy.is_ecs()),
            ("ecs", "snapshotpolicy", false)
        );
        assert_eq!(policy.to_string(), "ecs:snapshotpolicy");
        // The ECS types keep their short names, with or without `ecs:`.
        assert_eq!(parsed("ecs:instance"), ResourceType::Instance);
        assert_eq!(ResourceType::Instance.to_string(), "instance");
        assert_eq!(
            (
                ResourceType::Instance.service(),
                ResourceType::Instance.rm_type()
            ),
            ("ecs", "instance")
        );
        assert!(ResourceType::Instance.is_ecs());
        assert_eq!(
            ResourceType::from_rm("ecs", "instance"),
            Some(ResourceType::Instance)
        );
        assert_eq!(
            ResourceType::from_rm("RDS", "DBInstance"),
            Some(parsed("rds:dbinstance"))
        );
        assert_eq!(
            ResourceType::from_rm("vpc", "eip"),
            None,
            "`vpc:eip` is no RM code"
        );
        assert_eq!(ResourceType::from_rm("nosuch", "thing"), None);
        // ECS types sort first, the others by service and type.
        assert!(ResourceType::ManagedInstance < parsed("ackone:cluster"));
        assert!(parsed("eip:eip") < parsed("oss:bucket"));
    }

    #[test]
    fn the_issues_spellings_are_aliases_of_the_doc_codes() {
        assert_eq!(parsed("vpc:eip"), parsed("eip:eip"));
        assert_eq!(parsed("slb:instance"), parsed("slb:loadbalancer"));
        assert_eq!(parsed("rds:DBInstance"), parsed("rds:dbinstance"));
        assert_eq!(parsed("vpc:eip").to_string(), "eip:eip");
        for name in accepted_names() {
            assert!(name.parse::<ResourceType>().is_ok(), "{name}");
        }
    }

    #[test]
    fn an_unknown_type_is_named_with_a_pointer_to_the_list() {
        let error = "vpc:nosuch".parse::<ResourceType>().unwrap_err();
        assert!(
            error.starts_with("unknown resource type `vpc:nosuch`: "),
            "{error}"
        );
        assert!(error.contains(TYPES_DOC), "{error}");
        let error = "EIP:EIP".parse::<ResourceType>().unwrap_err();
        assert!(error.contains("(did you mean `eip:eip`?)"), "{error}");
        assert!("ecs:eip".parse::<ResourceType>().is_err());
        assert!(serde_json::from_str::<ResourceType>("\"oss:Bucket\"").is_err());
    }

    #[test]
    fn other_services_ids_are_checked_by_their_shape() {
        assert!(parsed("eip:eip").check_id("eip-25877c70gddh").is_ok());
        assert!(parsed("eip:eip").check_id("lb-25877c70gddh").is_err());
        assert!(parsed("slb:loadbalancer").check_id("lb-abc123456").is_ok());
        let bucket = parsed("oss:bucket");
        assert!(bucket.check_id("examplebucket1").is_ok());
        assert!(bucket.check_id("test-bucket-2021").is_ok());
        for bad in [
            "Examplebucket1",
            "test_bucket_2021",
            "aliyun-oss-bucket-",
            "ab",
            &"b".repeat(64),
        ] {
            assert!(bucket.check_id(bad).is_err(), "{bad} is no bucket name");
        }
        let rds = parsed("rds:dbinstance");
        assert!(rds.check_id("rm-abc12345678").is_ok());
        assert!(rds.check_id("pgm-bp1x").is_ok());
        assert!(rds.check_id("").is_err());
        assert!(rds.check_id("rm abc").is_err());
        assert!(rds.check_id(&"r".repeat(FREE_ID_MAX)).is_ok());
        assert!(rds.check_id(&"r".repeat(FREE_ID_MAX + 1)).is_err());
    }

    fn resource(id: &str, group_id: &str) -> Resource {
        Resource {
            key: ResourceKey {
                rtype: ResourceType::Instance,
                region: "cn-hangzhou".into(),
                id: id.into(),
            },
            name: "".into(),
            group_id: group_id.into(),
            tags: Tags::default(),
        }
    }

    fn group(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            name: name.into(),
            status: GROUP_READY.into(),
        }
    }

    #[test]
    fn an_empty_group_id_is_the_group_named_default() {
        let resources: Resources = [resource("i-a", ""), resource("i-b", "rg-p")]
            .into_iter()
            .map(|r| (r.key.clone(), r))
            .collect();
        let inventory = Inventory::new(
            vec![group("rg-p", "prod"), group("rg-d", "default")],
            resources.clone(),
        );
        let groups: Vec<&str> = inventory.resources.values().map(|r| &*r.group_id).collect();
        assert_eq!(groups, vec!["rg-d", "rg-p"]);
        // Without a group of that name, nothing is guessed.
        let inventory = Inventory::new(vec![group("rg-p", "prod")], resources);
        assert_eq!(&*inventory.resources.values().next().unwrap().group_id, "");

        assert!(reported_in("", "rg-d", "default"));
        assert!(reported_in("rg-d", "rg-d", "default"));
        assert!(!reported_in("", "rg-p", "prod"));
        assert!(!reported_in("rg-p", "rg-d", "default"));
    }

    #[test]
    fn the_interner_hands_out_one_copy_of_each_text() {
        let mut shared = Interner::default();
        let first = shared.get("rg-prod");
        let again = shared.get(&String::from("rg-prod"));
        let other = shared.get("rg-dev");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!((&*first, &*other), ("rg-prod", "rg-dev"));

        let tags = shared.tags([("team", "payments")].into_iter());
        let alike = shared.tags([("team", "payments")].into_iter());
        let unlike = shared.tags([("team", "data")].into_iter());
        assert!(Arc::ptr_eq(&tags, &alike), "one list for alike tags");
        assert!(!Arc::ptr_eq(&tags, &unlike), "another for others");
        assert!(Arc::ptr_eq(&tags[0].0, &unlike[0].0), "their texts shared");
        assert_eq!(*unlike, [("team".into(), "data".into())]);
    }

    #[test]
    fn ids_are_checked_against_their_type() {
        assert!(ResourceType::Instance
            .check_id("i-bp1aaaaaaaaaaaaaaaaa")
            .is_ok());
        assert!(ResourceType::Instance
            .check_id("d-bp1aaaaaaaaaaaaaaaaa")
            .is_err());
        assert!(ResourceType::Instance.check_id("i-").is_err());
        assert!(ResourceType::Instance.check_id("i-abc def").is_err());
        assert!(ResourceType::KeyPair.check_id("deploy-key").is_ok());
        assert!(ResourceType::KeyPair.check_id("1deploy").is_err());
        assert!(ResourceType::KeyPair.check_id("n").is_err());
        assert!(ResourceType::KeyPair.check_id("k#x").is_err());
        assert!(ResourceType::KeyPair.check_id("密钥对.a:b_c-d").is_ok());
        assert!(ResourceType::KeyPair.check_id(&"k".repeat(128)).is_ok());
        assert!(ResourceType::KeyPair.check_id(&"k".repeat(129)).is_err());
        assert!(ResourceType::SecurityGroup.check_id("sg-bp1x").is_ok());
        assert!(ResourceType::DdhCluster
            .check_id("dc-bp12wlf6am0vz9v2")
            .is_ok());
        assert!(ResourceType::Command.check_id("c-hz01272yr52").is_ok());
        assert!(ResourceType::Command.check_id("cmd-1").is_err());
        assert!(ResourceType::ManagedInstance
            .check_id("mi-hz018jrc1o0")
            .is_ok());
        assert!(ResourceType::Activation
            .check_id("4ECEEE12-56F1-4FBC-9AB1-890F12345678")
            .is_ok());
        assert!(ResourceType::Activation
            .check_id("4ECEEE12-56F1-4FBC-9AB1")
            .is_err());
        assert!(ResourceType::Activation
            .check_id("4ECEEE12-56F1-4FBC-9AB1-890F1234XXXX")
            .is_err());
    }
}
