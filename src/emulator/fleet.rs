//! The fleet file: the account an emulator starts from, and the form in which
//! `--state` saves it. The same shape serves both, so a state file can be
//! read back as a fleet. A fleet may also hold a Resource Directory: the
//! management account (the fleet's own) with member accounts in folders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resource::ResourceType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    pub account_id: String,
    pub access_keys: Vec<AccessKey>,
    pub resource_groups: Vec<FleetGroup>,
    #[serde(default)]
    pub resources: Vec<FleetResource>,
    /// OIDC tokens that `AssumeRoleWithOIDC` accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_tokens: Vec<OidcToken>,
    /// Resource Manager's automatic transfer rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_grouping: Option<super::autogroup::AutoGrouping>,
    /// The Resource Directory's member accounts; with none, the account has
    /// no Resource Directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<MemberAccount>,
    /// The directory's folders under its Root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<Folder>,
}

/// A member of the Resource Directory: an account of its own, of the same
/// shape as the fleet's minus what only the management account has (OIDC
/// tokens, members, folders).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberAccount {
    pub account_id: String,
    /// `DisplayName` in the directory.
    pub name: String,
    /// The folder (`fd-…`) the member is in; none means the Root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// `ResourceAccount` (created in the directory, the default) or
    /// `CloudAccount` (invited): `Type` in `ListAccounts`
    /// (alibabacloud_resourcedirectorymaster20220419==2.3.1
    /// `models/_list_accounts_response_body.py` l.99–103).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// The member's own RAM users' keys, if a test calls as the member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<AccessKey>,
    pub resource_groups: Vec<FleetGroup>,
    #[serde(default)]
    pub resources: Vec<FleetResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_grouping: Option<super::autogroup::AutoGrouping>,
    /// The RAM roles the management account may assume in the member. The
    /// directory creates `ResourceDirectoryAccountAccessRole` in every
    /// member (docs/sources/resource-directory.md §8); `roles: []` is a
    /// member that deleted it.
    #[serde(default = "default_roles")]
    pub roles: Vec<String>,
    /// The member's tags in the directory (`ListAccounts` filters by them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// The role the directory creates in each member.
pub const MEMBER_ACCESS_ROLE: &str = "ResourceDirectoryAccountAccessRole";

fn default_roles() -> Vec<String> {
    vec![MEMBER_ACCESS_ROLE.to_owned()]
}

/// A Resource Directory folder. Ids look like the SDK's examples,
/// `fd-QRzuim****` (docs/sources/resource-directory.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Folder {
    pub id: String,
    pub name: String,
    /// The parent folder; none means the Root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The folder's tags (`ListFoldersForParent` shows and filters them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    /// Set for an STS key: requests must carry this `SecurityToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_token: Option<String>,
    /// RAM actions this key's principal may not call, e.g.
    /// `ecs:DescribeDisks`: such a call gets 403 `Forbidden.RAM`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetGroup {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Resource Manager's state of the group: `OK` (the default),
    /// `Creating` or `PendingDelete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetResource {
    #[serde(rename = "type")]
    pub rtype: ResourceType,
    pub id: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The group's id; none means the default group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// For images and dedicated hosts: their state (default `Available`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// For images: `self` (default), `system`, `others` or `marketplace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// For instances: the ids of the disks and ENIs attached to it (in its
    /// region), which follow it under associated transfer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcToken {
    pub token: String,
    pub role_arn: String,
    pub provider_arn: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("could not read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// Not YAML as the manifest reads it (the message names file:line:column).
    #[error(transparent)]
    Yaml(#[from] crate::manifest::ManifestError),
}

impl Fleet {
    /// Reads a fleet (YAML) or a state file (JSON, which is YAML too).
    pub fn load(path: &std::path::Path) -> Result<Fleet, FleetError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FleetError::Read {
            path: shown.clone(),
            source,
        })?;
        let invalid = |e: serde_json::Error| FleetError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        };
        let fleet: Fleet = if text.trim_start().starts_with('{') {
            serde_json::from_str(&text).map_err(invalid)?
        } else {
            // The manifest's YAML reader, then serde from its JSON.
            serde_json::from_value(crate::manifest::yaml_to_json(&shown, &text)?)
                .map_err(invalid)?
        };
        fleet.check().map_err(|message| FleetError::Invalid {
            path: shown,
            message,
        })?;
        Ok(fleet)
    }

    /// Checks what the format cannot: one default group, ids of the shape
    /// their type has, known groups, no resource twice, in the account and
    /// in each member; then the directory itself (see [`check_directory`]).
    pub fn check(&self) -> Result<(), String> {
        check_account(&self.resource_groups, &self.resources)?;
        for member in &self.accounts {
            check_account(&member.resource_groups, &member.resources)
                .map_err(|problem| format!("member account {}: {problem}", member.account_id))?;
        }
        check_directory(self)
    }
}

/// One account's groups and resources: one default group, ids of the shape
/// their type has, known groups, no resource twice.
fn check_account(groups: &[FleetGroup], resources: &[FleetResource]) -> Result<(), String> {
    let defaults = groups.iter().filter(|g| g.default).count();
    if defaults != 1 {
        return Err(format!(
            "exactly one resource group must be `default: true`, found {defaults}"
        ));
    }
    let ids: std::collections::HashSet<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    for r in resources {
        // The manifest's id grammar, so that an account the emulator
        // serves can always be exported and planned.
        r.rtype
            .check_id(&r.id)
            .map_err(|problem| format!("resource {}/{}: {problem}", r.rtype, r.id))?;
        if let Some(group) = &r.group {
            if !ids.contains(group.as_str()) {
                return Err(format!(
                    "{}/{} is in group {group}, which the fleet does not declare",
                    r.rtype, r.id
                ));
            }
        }
        if !seen.insert((r.rtype, r.region.as_str(), r.id.as_str())) {
            return Err(format!(
                "{}/{} in {} is declared twice",
                r.rtype, r.id, r.region
            ));
        }
    }
    Ok(())
}

/// An account id as Alibaba Cloud writes them: digits only (the SDK
/// examples' `181761095690****` masks 16 digits).
fn is_account_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

/// A folder id: `fd-` and letters or digits (`fd-QRzuim****` in
/// docs/sources/resource-directory.md §2.2).
fn is_folder_id(id: &str) -> bool {
    id.strip_prefix("fd-")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The directory: member ids are account ids, each once and never the
/// management account's; folder ids have their shape, are unique, and name
/// known parents without a cycle; members are in known folders.
fn check_directory(fleet: &Fleet) -> Result<(), String> {
    let mut accounts = std::collections::HashSet::from([fleet.account_id.as_str()]);
    // A request acts in the account its key belongs to, so a key id names
    // one account.
    let mut keys = std::collections::HashSet::new();
    let all_keys = fleet
        .access_keys
        .iter()
        .chain(fleet.accounts.iter().flat_map(|m| &m.access_keys));
    for key in all_keys {
        if !keys.insert(key.id.as_str()) {
            return Err(format!("access key {} is declared twice", key.id));
        }
    }
    let folders: std::collections::HashMap<&str, &Folder> =
        fleet.folders.iter().map(|f| (f.id.as_str(), f)).collect();
    if folders.len() != fleet.folders.len() {
        return Err("a folder id is declared twice".into());
    }
    for folder in &fleet.folders {
        if !is_folder_id(&folder.id) {
            return Err(format!(
                "folder id {:?} is not of the form fd-<letters and digits>",
                folder.id
            ));
        }
        // Up the parents: at most one step per folder, else a cycle.
        let mut at = folder;
        for _ in 0..=fleet.folders.len() {
            let Some(parent) = &at.parent else { break };
            at = folders.get(parent.as_str()).ok_or_else(|| {
                format!(
                    "folder {} has parent {parent}, which the fleet does not declare",
                    at.id
                )
            })?;
        }
        if at.parent.is_some() {
            return Err(format!("folder {} is its own ancestor", folder.id));
        }
    }
    for member in &fleet.accounts {
        let id = &member.account_id;
        if !is_account_id(id) {
            return Err(format!(
                "member account id {id:?} is not an account id (digits only)"
            ));
        }
        if !accounts.insert(id) {
            return Err(format!("account {id} is declared twice"));
        }
        if let Some(folder) = &member.folder {
            if !folders.contains_key(folder.as_str()) {
                return Err(format!(
                    "member account {id} is in folder {folder}, which the fleet does not declare"
                ));
            }
        }
        if let Some(kind) = &member.account_type {
            if !matches!(kind.as_str(), "ResourceAccount" | "CloudAccount") {
                return Err(format!(
                    "member account {id}: account_type must be ResourceAccount or CloudAccount, not {kind}"
                ));
            }
        }
    }
    Ok(())
}
