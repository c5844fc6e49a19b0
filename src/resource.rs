//! The vocabulary shared by every layer: the ECS resource types that
//! `JoinResourceGroup` accepts, how their ids look, the key that names one
//! resource in one region, resource groups, and the inventory the planner
//! diffs against. Domain types only: wire shapes live in `api` and `cloud`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the nine ECS resource types of `JoinResourceGroup`. The names are the
/// API's own `ResourceType` values, which are case-sensitive.
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
    Eni,
    #[serde(rename = "keypair")]
    KeyPair,
    #[serde(rename = "launchtemplate")]
    LaunchTemplate,
}

impl ResourceType {
    pub const ALL: [ResourceType; 9] = [
        ResourceType::Instance,
        ResourceType::Disk,
        ResourceType::Snapshot,
        ResourceType::Image,
        ResourceType::SecurityGroup,
        ResourceType::Ddh,
        ResourceType::Eni,
        ResourceType::KeyPair,
        ResourceType::LaunchTemplate,
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
            ResourceType::Eni => "eni",
            ResourceType::KeyPair => "keypair",
            ResourceType::LaunchTemplate => "launchtemplate",
        }
    }

    /// The prefix every id of this type starts with; key pairs are named, not
    /// numbered, so they have none.
    pub fn id_prefix(self) -> Option<&'static str> {
        match self {
            ResourceType::Instance => Some("i-"),
            ResourceType::Disk => Some("d-"),
            ResourceType::Snapshot => Some("s-"),
            ResourceType::Image => Some("m-"),
            ResourceType::SecurityGroup => Some("sg-"),
            ResourceType::Ddh => Some("dh-"),
            ResourceType::Eni => Some("eni-"),
            ResourceType::KeyPair => None,
            ResourceType::LaunchTemplate => Some("lt-"),
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
        match self.id_prefix() {
            Some(prefix) => {
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
            None => check_key_pair_name(id),
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
/// reports come out in the same order every time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceKey {
    #[serde(rename = "type")]
    pub rtype: ResourceType,
    pub region: String,
    pub id: String,
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({})", self.rtype, self.id, self.region)
    }
}

/// A resource as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub key: ResourceKey,
    pub name: String,
    pub group_id: String,
    /// Tags as (key, value) pairs. A list, not a map: resources carry few
    /// tags, and a plan of 100,000 resources holds 100,000 of these.
    pub tags: Vec<(String, String)>,
}

impl Resource {
    /// The value of tag `key`, if the resource has it.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A resource group of the account, as the planner and the inventory see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
    /// Resource Manager's lifecycle state (`OK`, `Creating`,
    /// `PendingDelete`, ...), kept as reported.
    pub status: String,
}

/// What the account holds, for what the manifest touches: the planner's
/// view of the cloud, read by `inventory` and diffed by `plan`.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub groups: Vec<Group>,
    pub resources: BTreeMap<ResourceKey, Resource>,
}

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
    }
}
