//! The vocabulary shared by every layer: the ECS resource types that
//! `JoinResourceGroup` accepts, how their ids look, the key that names one
//! resource in one region, resource groups, and the inventory the planner
//! diffs against. Domain types only: wire shapes live in `api` and `cloud`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One of the ECS resource types of `JoinResourceGroup`: all thirteen its
/// `ResourceType` takes in the current SDK model (PyPI
/// `alibabacloud_ecs20140526==7.11.8` `JoinResourceGroupRequest.resource_type`,
/// and the JoinResourceGroup doc's request parameters; docs/sources/ecs-models.md
/// §1). The names are the API's own values, which are case-sensitive.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    Instance,
    Disk,
    Snapshot,
    Image,
    #[serde(rename = "securitygroup")]
    SecurityGroup,
    Ddh,
    #[serde(rename = "ddhcluster")]
    DdhCluster,
    Eni,
    #[serde(rename = "keypair")]
    KeyPair,
    #[serde(rename = "launchtemplate")]
    LaunchTemplate,
    Command,
    Activation,
    #[serde(rename = "managedinstance")]
    ManagedInstance,
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
}

impl ResourceType {
    /// In the order of the API's list.
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

    /// The `ResourceType` value the API expects.
    pub fn as_str(self) -> &'static str {
        match self {
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
        }
    }

    /// The prefix every id of this type starts with, if it has one.
    pub fn id_prefix(self) -> Option<&'static str> {
        match self.id_shape() {
            IdShape::Prefixed(prefix) => Some(prefix),
            IdShape::KeyPairName | IdShape::Uuid => None,
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

impl FromStr for ResourceType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
                format!("unknown resource type `{s}` (one of: {})", names.join(", "))
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
    pub resources: BTreeMap<ResourceKey, Resource>,
}

impl Inventory {
    /// The inventory of what was read, with every empty `ResourceGroupId`
    /// read as the default group's id (see [`DEFAULT_GROUP_NAME`]), so that
    /// the planner and export see one id per group. With no group of that
    /// name, an empty id stays empty.
    pub fn new(groups: Vec<Group>, mut resources: BTreeMap<ResourceKey, Resource>) -> Inventory {
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
        let resources: BTreeMap<ResourceKey, Resource> =
            [resource("i-a", ""), resource("i-b", "rg-p")]
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
