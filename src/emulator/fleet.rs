//! The fleet file: the account an emulator starts from, and the form in which
//! `--state` saves it. The same shape serves both, so a state file can be
//! read back as a fleet.

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
    /// Resource Center is enabled: `GetResourceCenterServiceStatus` says
    /// so and `SearchResources` answers (off by default, as in a new account).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resource_center: bool,
    /// OIDC tokens that `AssumeRoleWithOIDC` accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_tokens: Vec<OidcToken>,
    /// Resource Manager's automatic transfer rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_grouping: Option<super::autogroup::AutoGrouping>,
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
    /// Resource Manager's `MoveResources` fails for this resource with this
    /// per-resource `ErrorCode` (e.g. `NoPermission`), in a call that
    /// otherwise succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_error: Option<String>,
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
    /// their type has, known groups, no resource twice.
    pub fn check(&self) -> Result<(), String> {
        let defaults = self.resource_groups.iter().filter(|g| g.default).count();
        if defaults != 1 {
            return Err(format!(
                "exactly one resource group must be `default: true`, found {defaults}"
            ));
        }
        let ids: std::collections::HashSet<&str> =
            self.resource_groups.iter().map(|g| g.id.as_str()).collect();
        let mut seen = std::collections::HashSet::new();
        for r in &self.resources {
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
}
