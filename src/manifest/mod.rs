//! The manifest: which resources belong to which resource group. This module
//! reads a YAML file into a checked [`Manifest`]; every problem it finds comes
//! back as a [`ManifestError`] that says file:line:column. It is the only
//! module that knows about YAML, so the YAML library can be swapped here alone.

pub mod export;
mod raw;
mod source_map;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::resource::ResourceType;
use source_map::SourceMap;

/// Manifests larger than this are refused before parsing: even 100,000
/// explicit entries fit in well under half of it.
pub const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;

/// A place in the manifest. The file name is shared, not copied: a
/// manifest of 100,000 entries has 100,000 locations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("could not read the manifest {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{location}: {message}{}", hint_suffix(.hint))]
    Invalid {
        location: Location,
        message: String,
        hint: Option<String>,
    },
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\n  hint: {h}"))
        .unwrap_or_default()
}

/// The checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file as given on the command line, for messages.
    pub file: String,
    /// sha256 of the file's bytes, so a saved plan can name what it came from.
    pub sha256: String,
    pub groups: Vec<GroupSpec>,
}

/// One group of the manifest and what should be in it.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// The key as written: a group id (`rg-…`) or a group name.
    pub key: String,
    pub location: Location,
    pub resources: Vec<ExplicitEntry>,
    pub rules: Vec<Rule>,
}

/// One resource named by id.
#[derive(Debug, Clone)]
pub struct ExplicitEntry {
    pub rtype: ResourceType,
    pub id: String,
    /// The regions to look in: the entry's own, else the manifest's
    /// defaults; shared between entries that name the same ones.
    pub regions: Regions,
    pub location: Location,
}

/// A `select` rule: a resource matches when every given condition holds.
#[derive(Debug, Clone)]
pub struct Rule {
    pub types: Vec<ResourceType>,
    pub tags: BTreeMap<String, String>,
    pub name: Option<globset::GlobMatcher>,
    /// A group id or name, resolved by the planner.
    pub in_group: Option<String>,
    pub regions: Regions,
    pub location: Location,
}

/// A list of regions, shared between the entries and rules that name it.
pub type Regions = Arc<[String]>;

/// Hands out one shared [`Regions`] per distinct list.
#[derive(Default)]
struct RegionLists(HashMap<Vec<String>, Regions>);

impl RegionLists {
    fn get(&mut self, list: Vec<String>) -> Regions {
        self.0
            .entry(list)
            .or_insert_with_key(|list| list.as_slice().into())
            .clone()
    }
}

impl Rule {
    /// Whether a resource matches every condition but `in_group` and region,
    /// which need the account's groups and are checked by the planner.
    pub fn matches(&self, resource: &crate::resource::Resource) -> bool {
        self.types.contains(&resource.key.rtype)
            && self.regions.contains(&resource.key.region)
            && self
                .tags
                .iter()
                .all(|(k, v)| resource.tag(k) == Some(v.as_str()))
            && self
                .name
                .as_ref()
                .is_none_or(|glob| glob.is_match(&resource.name))
    }
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let shown = path.display().to_string();
        let read_error = |source| ManifestError::Read {
            path: shown.clone(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(read_error)?;
        if metadata.is_dir() {
            return Err(ManifestError::File {
                path: shown,
                message: "is a directory; pass the manifest file with -f".into(),
            });
        }
        if metadata.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::File {
                path: shown,
                message: format!(
                    "is {} bytes; manifests are limited to {MAX_MANIFEST_BYTES} bytes (split it, or use select rules)",
                    metadata.len()
                ),
            });
        }
        let bytes = crate::bounded_read::read_at_most(path, MAX_MANIFEST_BYTES)
            .map_err(|e| read_error(e.into_io()))?;
        let text = String::from_utf8(bytes).map_err(|e| ManifestError::File {
            path: shown.clone(),
            message: format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Manifest::parse(&shown, &text)
    }

    /// Parses and checks manifest text; `file` names it in messages.
    ///
    /// ```
    /// use regroup::Manifest;
    ///
    /// let manifest = Manifest::parse(
    ///     "regroup.yaml",
    ///     "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources: [instance/i-bp1abc]\n",
    /// )
    /// .unwrap();
    /// assert_eq!(manifest.groups[0].key, "prod");
    ///
    /// let error = Manifest::parse("regroup.yaml", "version: 1\ngroups:\n  prod:\n    resources: [vm/i-1]\n")
    ///     .unwrap_err();
    /// assert!(error.to_string().starts_with("regroup.yaml:4:17: groups.prod.resources[0]: unknown resource type `vm`"));
    /// ```
    pub fn parse(file: &str, text: &str) -> Result<Manifest, ManifestError> {
        let raw: raw::RawManifest = serde_yaml::from_str(text).map_err(|e| yaml_error(file, &e))?;
        let map = SourceMap::build(text);
        let shared_file: Arc<str> = file.into();
        let locate = |path: &[&str]| {
            let position = map.get(path).unwrap_or_default();
            Location {
                file: shared_file.clone(),
                line: position.line,
                column: position.column,
            }
        };
        let mut region_lists = RegionLists::default();
        let default_regions = region_lists.get(raw.regions.iter().map(|r| r.0.clone()).collect());
        let needs_region = |location: Location, what: &str| ManifestError::Invalid {
            location,
            message: format!("{what} names no region and the manifest has no `regions`"),
            hint: Some("add `region:` to it, or a top-level `regions: [cn-hangzhou]`".into()),
        };

        let mut groups = Vec::with_capacity(raw.groups.len());
        // Where each explicit resource was first named, to find duplicates
        // and conflicts: (type, id, region) → (group key, location).
        let mut seen: HashMap<(ResourceType, String, String), (String, Location)> = HashMap::new();
        for (key, group) in raw.groups {
            let group_location = locate(&["groups", &key]);
            if key.trim().is_empty() {
                return Err(ManifestError::Invalid {
                    location: group_location,
                    message: "a group key is empty".into(),
                    hint: Some("use a resource group id (rg-…) or name".into()),
                });
            }
            if group.resources.is_empty() && group.select.is_empty() {
                return Err(ManifestError::Invalid {
                    location: group_location,
                    message: format!("group `{key}` is empty"),
                    hint: Some("give it `resources:` or `select:` entries, or remove it".into()),
                });
            }
            let mut resources = Vec::with_capacity(group.resources.len());
            for (index, entry) in group.resources.into_iter().enumerate() {
                let location = locate(&["groups", &key, "resources", &index.to_string()]);
                let regions = match entry.region {
                    Some(region) => region_lists.get(vec![region.0]),
                    None if default_regions.is_empty() => {
                        return Err(needs_region(
                            location,
                            &format!("{}/{}", entry.rtype, entry.id),
                        ))
                    }
                    None => default_regions.clone(),
                };
                for region in regions.iter() {
                    let identity = (entry.rtype, entry.id.clone(), region.clone());
                    if let Some((other_group, other)) = seen.get(&identity) {
                        let (message, hint) = if *other_group == key {
                            (
                                format!(
                                    "{}/{} is listed twice in group `{key}` (also at {other})",
                                    entry.rtype, entry.id
                                ),
                                "remove one of the two entries",
                            )
                        } else {
                            (
                                format!(
                                    "{}/{} is in group `{key}` here and in group `{other_group}` at {other}",
                                    entry.rtype, entry.id
                                ),
                                "a resource belongs to one group: remove one of the two entries",
                            )
                        };
                        return Err(ManifestError::Invalid {
                            location,
                            message,
                            hint: Some(hint.into()),
                        });
                    }
                    seen.insert(identity, (key.clone(), location.clone()));
                }
                resources.push(ExplicitEntry {
                    rtype: entry.rtype,
                    id: entry.id,
                    regions,
                    location,
                });
            }
            let mut rules = Vec::with_capacity(group.select.len());
            for (index, rule) in group.select.into_iter().enumerate() {
                let location = locate(&["groups", &key, "select", &index.to_string()]);
                let regions = match rule.region {
                    Some(list) => region_lists.get(list.0.into_iter().map(|r| r.0).collect()),
                    None if default_regions.is_empty() => {
                        return Err(needs_region(location, "this select rule"))
                    }
                    None => default_regions.clone(),
                };
                rules.push(Rule {
                    types: rule
                        .types
                        .map(|t| t.0)
                        .unwrap_or_else(|| ResourceType::ALL.to_vec()),
                    tags: rule.tags,
                    name: rule.name.map(|glob| glob.matcher),
                    in_group: rule.in_group,
                    regions,
                    location,
                });
            }
            groups.push(GroupSpec {
                key,
                location: group_location,
                resources,
                rules,
            });
        }
        if groups.is_empty() {
            return Err(ManifestError::Invalid {
                location: locate(&["groups"]),
                message: "`groups` is empty".into(),
                hint: Some("declare at least one group with resources or select rules".into()),
            });
        }
        Ok(Manifest {
            file: file.to_owned(),
            sha256: format!("{:x}", Sha256::digest(text.as_bytes())),
            groups,
        })
    }

    /// Keeps only what lies in `regions` (the `--region` option); an empty
    /// list keeps everything.
    pub fn limit_to_regions(&mut self, regions: &[String]) {
        if regions.is_empty() {
            return;
        }
        let keep = |list: &mut Regions| {
            *list = list
                .iter()
                .filter(|r| regions.contains(r))
                .cloned()
                .collect();
        };
        for group in &mut self.groups {
            group
                .resources
                .iter_mut()
                .for_each(|e| keep(&mut e.regions));
            group.resources.retain(|e| !e.regions.is_empty());
            group.rules.iter_mut().for_each(|r| keep(&mut r.regions));
            group.rules.retain(|r| !r.regions.is_empty());
        }
    }
}

/// The JSON Schema of the manifest, generated from the types that read it,
/// for editors and CI checks.
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(raw::RawManifest).to_value()
}

/// Turns a serde_yaml error into one that names file:line:column and, where
/// it can, says how to fix it.
fn yaml_error(file: &str, error: &serde_yaml::Error) -> ManifestError {
    let full = error.to_string();
    // serde_yaml appends " at line L column C"; the location is shown in
    // front instead, the way compilers do.
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    };
    let hint = if message.contains("unknown field") {
        Some("remove or correct the key; the keys allowed here are listed above")
    } else if message.contains("unknown variant") {
        Some("resource types are lower-case: instance disk snapshot image securitygroup ddh eni keypair launchtemplate")
    } else if message.contains("missing field `version`") {
        Some("start the manifest with `version: 1`")
    } else if message.contains("missing field `groups`") {
        Some("declare groups under `groups:`")
    } else if message.contains("invalid type") {
        Some("check the value's shape against docs/manifest.md")
    } else {
        None
    };
    let position = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    ManifestError::Invalid {
        location: Location {
            file: file.into(),
            line: position.0,
            column: position.1,
        },
        message,
        hint: hint.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests;
