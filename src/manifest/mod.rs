//! The manifest: which resources belong to which resource group. This module
//! reads a YAML file into a checked [`Manifest`]; every problem it finds comes
//! back as a [`ManifestError`] that says file:line:column, the path of the
//! value and a hint. It is the only module that knows about YAML (the
//! emulator's fleet file is read through [`yaml_to_json`]), so the YAML
//! library can be swapped here alone.

pub mod accounts;
pub mod export;
mod meaning;
mod raw;
mod repeated;
mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::resource::ResourceType;
use yaml::{Fault, Segment};
pub use yaml::{Found, KeyPath, Position};

/// Manifests larger than this are refused before parsing (an endless input
/// such as /dev/zero is read only this far): a manifest naming 1,000,000
/// resources by id is about 74 MB.
pub const MAX_MANIFEST_BYTES: u64 = 128 * 1024 * 1024;

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
    /// A problem at a place in the file: `file:line:column: path: what`,
    /// then a hint on the next line.
    #[error("{location}: {}{problem}\n  hint: {}", path_prefix(.path), .problem.hint())]
    Invalid {
        location: Location,
        path: KeyPath,
        problem: Box<Problem>,
    },
}

fn path_prefix(path: &KeyPath) -> String {
    if path.0.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// What is wrong with a manifest; [`ManifestError::Invalid`] adds where.
/// Every message is ours: the YAML parser's text appears only as the
/// detail of a syntax error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("this is not valid YAML: {detail}")]
    Syntax { detail: String, tab: bool },
    #[error("the file holds more than one YAML document")]
    Documents,
    #[error("aliases (`*name`) are not read in a manifest")]
    Alias,
    #[error("a key must be text, not a list or a map")]
    ComplexKey,
    #[error("lists and maps are nested too deeply")]
    TooDeep,
    #[error("the manifest is empty")]
    Empty,
    #[error("expected {expected}, found {found}")]
    WrongShape {
        expected: &'static str,
        example: &'static str,
        found: Found,
    },
    #[error("expected {expected}, found {found}")]
    Unquoted {
        expected: &'static str,
        found: Found,
    },
    #[error("unknown key `{key}`")]
    UnknownKey {
        key: String,
        allowed: &'static [&'static str],
    },
    #[error("`{key}` is missing")]
    MissingKey { key: &'static str },
    #[error("`{key}` is given twice: first at {first}, again at {second}")]
    DuplicateKey {
        key: String,
        first: Position,
        second: Position,
    },
    #[error("unsupported manifest version {found}; this regroup reads version 1")]
    Version { found: String },
    #[error("an empty list matches nothing")]
    EmptyList,
    #[error("`{text}` is not `type/id`")]
    NotTypeId { text: String },
    /// The detail is [`ResourceType`]'s `FromStr` error.
    #[error("{detail}")]
    UnknownType { detail: String },
    /// The id's shape does not fit its type: the detail is
    /// [`ResourceType::check_id`]'s.
    #[error("{detail}")]
    Id { detail: String },
    #[error("`{text}` is not a region id")]
    Region { text: String },
    #[error("`{pattern}` is not a valid glob: {reason}")]
    Glob { pattern: String, reason: String },
    #[error("a group key is empty")]
    EmptyGroupKey,
    #[error("group `{key}` is empty")]
    EmptyGroup { key: String },
    #[error("`groups` is empty")]
    NoGroups,
    #[error("{what} names no region and the manifest has no `regions`")]
    NoRegion { what: String },
    #[error("{resource} is listed twice in group `{group}` (also at {first})")]
    ListedTwice {
        resource: String,
        group: String,
        first: Location,
    },
    #[error("{detail}")]
    MaxChanges { detail: String },
    #[error("this rule has no condition, so it selects every resource of its regions")]
    SelectsEverything,
    /// Other services' names and tags come from Resource Center's
    /// SearchResources, which names types `ACS::…`: a type with no such
    /// name known cannot be searched (ListResources reports no tags and no
    /// names; docs/sources/resourcemanager-services.md §3.2, §5.3, §12.2).
    #[error("`tags` and `name` cannot select {rtype}: regroup reads other services' names and tags with Resource Center's SearchResources, and no Resource Center type (`ACS::…`) is known for {rtype}")]
    UnreadTagsOrNames { rtype: ResourceType },
    /// A problem of the `accounts:` block, with its hint.
    #[error("{detail}")]
    Accounts { detail: String, hint: &'static str },
    #[error("{resource} is in group `{group}` here and in group `{other_group}` at {other}")]
    TwoGroups {
        resource: String,
        group: String,
        other_group: String,
        other: Location,
    },
}

impl Problem {
    /// How to fix it.
    pub fn hint(&self) -> String {
        match self {
            Problem::Syntax { tab: true, .. } => {
                "indent with spaces: YAML does not allow tabs for indentation".into()
            }
            Problem::Syntax { .. } => {
                "check the indentation, and that quotes and brackets are closed, at or before this place".into()
            }
            Problem::Documents => "keep one document: remove the `---` and what follows it, or merge the two".into(),
            Problem::Alias => "write the value out in full where it is used".into(),
            Problem::ComplexKey => "write the key as plain text, like `prod:`".into(),
            Problem::TooDeep => "no value here nests more than a few levels".into(),
            Problem::Empty => "start with `version: 1` and a `groups:` map (see docs/manifest.md)".into(),
            Problem::WrongShape { example, .. } => format!("write it like {example}"),
            Problem::Unquoted { found, .. } => format!(
                "quote it to keep it text: \"{}\"",
                found.unquoted().unwrap_or_default()
            ),
            Problem::UnknownKey { key, allowed } => {
                let list: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
                let closest = allowed
                    .iter()
                    .map(|k| (strsim::levenshtein(key, k), k))
                    .filter(|(distance, _)| *distance <= 2)
                    .min();
                match closest {
                    Some((_, k)) => format!("did you mean `{k}`? The keys allowed here: {}", list.join(", ")),
                    None => format!("remove or correct the key; the keys allowed here: {}", list.join(", ")),
                }
            }
            Problem::MissingKey { key: "version" } => "start the manifest with `version: 1`".into(),
            Problem::MissingKey { key: "groups" } => "declare groups under `groups:`".into(),
            Problem::MissingKey { .. } => {
                "a resource map needs `type` and `id`, like {type: disk, id: d-bp1abc}".into()
            }
            Problem::DuplicateKey { .. } => {
                "YAML would keep only one of the two: merge them, or remove one".into()
            }
            Problem::Version { .. } => "write `version: 1`".into(),
            Problem::EmptyList => "remove the key, or name at least one value".into(),
            Problem::NotTypeId { .. } => "write a resource as `type/id`, like instance/i-bp1abc".into(),
            Problem::UnknownType { .. } => "resource types are lower-case".into(),
            Problem::Id { .. } => "copy the id from the console, or from `regroup export`".into(),
            Problem::Region { .. } => {
                "region ids look like cn-hangzhou: lower-case letters, digits and dashes".into()
            }
            Problem::Glob { .. } => {
                "`*` matches any run of characters, `?` one, `[abc]` one of a set, `{a,b}` either".into()
            }
            Problem::EmptyGroupKey => "use a resource group id (rg-…) or name".into(),
            Problem::EmptyGroup { .. } => {
                "give it `resources:` or `select:` entries, or remove it".into()
            }
            Problem::NoGroups => "declare at least one group with resources or select rules".into(),
            Problem::NoRegion { .. } => {
                "add `region:` to it, or a top-level `regions: [cn-hangzhou]`".into()
            }
            Problem::MaxChanges { .. } => {
                "write a count, like `max_changes: 50`, or a share of the managed resources, like `max_changes: 5%`".into()
            }
            Problem::SelectsEverything => {
                "add a condition (`type`, `tags`, `name` or `in_group`), or write `all: true` if the group is to take every resource".into()
            }
            Problem::UnreadTagsOrNames { .. } => {
                "select it by `type`, `region` and `in_group`, or list its resources under `resources:`; docs/manifest.md#other-services-servicetype lists the types `tags` and `name` can select".into()
            }
            Problem::ListedTwice { .. } => "remove one of the two entries".into(),
            Problem::Accounts { hint, .. } => (*hint).into(),
            Problem::TwoGroups { .. } => {
                "a resource belongs to one group: remove one of the two entries".into()
            }
        }
    }
}

/// The checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file as given on the command line, for messages.
    pub file: String,
    /// sha256 of what the manifest means (module `meaning`): comments and
    /// layout do not change it, any change of meaning does. A saved plan
    /// names the manifest it came from by it.
    pub sha256: String,
    pub groups: Vec<GroupSpec>,
    /// The top-level `max_changes`: the most moves a plan may make
    /// (`--max-changes` wins over it).
    pub max_changes: Option<MaxChanges>,
    /// The top-level `evict_to` (a group id or name) and where it stands;
    /// `None`: the account's default group.
    pub evict_to: Option<(String, Location)>,
    /// The top-level `accounts:`: the Resource Directory members planned,
    /// each in its own account; `None`: the credentials' own account.
    pub accounts: Option<accounts::AccountsSpec>,
}

/// A cap on how many moves one plan may make: a count, or a share of the
/// resources the manifest manages (those it moves and those already in
/// place), so that a typo in a rule cannot move thousands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxChanges {
    Count(usize),
    Percent(f64),
}

impl MaxChanges {
    /// The most moves allowed when the manifest manages `managed`
    /// resources; a share rounds down, so 10% of 15 allows 1.
    pub fn limit(self, managed: usize) -> usize {
        match self {
            MaxChanges::Count(count) => count,
            MaxChanges::Percent(percent) => (managed as f64 * percent / 100.0).floor() as usize,
        }
    }
}

impl std::str::FromStr for MaxChanges {
    type Err = String;

    fn from_str(text: &str) -> Result<MaxChanges, String> {
        let trimmed = text.trim();
        match trimmed.strip_suffix('%') {
            Some(number) => match number.trim().parse::<f64>() {
                Ok(percent) if (0.0..=100.0).contains(&percent) => Ok(MaxChanges::Percent(percent)),
                _ => Err(format!("`{text}` is not a share from 0% to 100%")),
            },
            None => trimmed.parse().map(MaxChanges::Count).map_err(|_| {
                format!("`{text}` is not a whole number of changes or a share such as 5%")
            }),
        }
    }
}

impl fmt::Display for MaxChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxChanges::Count(count) => write!(f, "{count}"),
            MaxChanges::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

/// One group of the manifest and what should be in it.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// The key as written: a group id (`rg-…`) or a group name.
    pub key: String,
    pub location: Location,
    pub resources: Vec<ExplicitEntry>,
    pub rules: Vec<Rule>,
    /// `exclusive: true`: members the manifest does not place here are
    /// evicted.
    pub exclusive: bool,
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
#[derive(Debug, Default)]
struct RegionLists(HashMap<Vec<String>, Regions>);

impl RegionLists {
    /// The shared copy of `list`, made the first time it is asked for:
    /// looked up by the slice, so a million entries asking for the same
    /// region allocate nothing.
    fn get(&mut self, list: &[String]) -> Regions {
        if let Some(shared) = self.0.get(list) {
            return shared.clone();
        }
        let shared: Regions = list.into();
        self.0.insert(list.to_vec(), shared.clone());
        shared
    }
}

impl Rule {
    /// Whether a resource matches every condition but `in_group` and region,
    /// which need the account's groups and are checked by the planner.
    pub fn matches(&self, resource: &crate::resource::Resource) -> bool {
        self.types.contains(&resource.key.rtype)
            && self.regions.iter().any(|r| *r == *resource.key.region)
            && self
                .tags
                .iter()
                .all(|(k, v)| resource.tag(k) == Some(v.as_str()))
            && self
                .name
                .as_ref()
                .is_none_or(|glob| glob.is_match(&*resource.name))
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
        let raw = Manifest::read_raw(&shown, &text)?;
        // The text is not needed once read: 68 MB for a million entries,
        // given back before the entries are checked and copied.
        drop(text);
        Manifest::check(&shown, raw)
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
        Manifest::check(file, Manifest::read_raw(file, text)?)
    }

    /// The manifest as written, every value read and checked alone.
    fn read_raw(file: &str, text: &str) -> Result<raw::RawManifest, ManifestError> {
        raw::RawManifest::read(text).map_err(|fault| invalid_at(file.into(), fault))
    }

    /// The checks across values (groups, regions, resources named twice),
    /// and the manifest as a run uses it. Takes the raw manifest apart as
    /// it goes: each entry's id is moved, not copied.
    fn check(file: &str, raw: raw::RawManifest) -> Result<Manifest, ManifestError> {
        let shared_file: Arc<str> = file.into();
        let locate = |at: Position| Location {
            file: shared_file.clone(),
            line: at.line,
            column: at.column,
        };
        let invalid = |at: Position, path: &[Segment], problem: Problem| ManifestError::Invalid {
            location: locate(at),
            path: KeyPath(path.to_vec()),
            problem: Box::new(problem),
        };
        let mut region_lists = raw.region_lists;
        let default_list: Vec<String> = raw.regions.into_iter().map(|r| r.0).collect();
        let default_regions = region_lists.get(&default_list);

        let raw_groups: Vec<(String, raw::RawGroup)> = raw.groups.into_iter().collect();
        // The first resource named twice, found before the entries are
        // taken apart, and reported when the walk below reaches it, so
        // that any problem before it in the file is reported first.
        let repeat = first_repeated_entry(&raw_groups, &default_regions).map(|repeat| {
            let (first_key, first_group) = &raw_groups[repeat.first.group as usize];
            let first_at = first_group.resources[repeat.first.entry as usize].at;
            (repeat, first_key.clone(), locate(first_at))
        });
        let mut groups = Vec::with_capacity(raw_groups.len());
        for (group_index, (key, group)) in raw_groups.into_iter().enumerate() {
            let group_path = [Segment::Key("groups".into()), Segment::Key(key.clone())];
            let in_group = |list: &str, index: usize| {
                let mut path = group_path.to_vec();
                path.extend([Segment::Key(list.into()), Segment::Index(index)]);
                path
            };
            if key.trim().is_empty() {
                return Err(invalid(group.at, &group_path, Problem::EmptyGroupKey));
            }
            if group.resources.is_empty() && group.select.is_empty() {
                return Err(invalid(
                    group.at,
                    &group_path,
                    Problem::EmptyGroup { key: key.clone() },
                ));
            }
            let mut resources = Vec::with_capacity(group.resources.len());
            for (index, entry) in group.resources.into_iter().enumerate() {
                let resource = || format!("{}/{}", entry.rtype, entry.id);
                let regions = match &entry.region {
                    Some(regions) => regions.clone(),
                    None if default_regions.is_empty() => {
                        return Err(invalid(
                            entry.at,
                            &in_group("resources", index),
                            Problem::NoRegion { what: resource() },
                        ))
                    }
                    None => default_regions.clone(),
                };
                if let Some((repeat, first_key, first)) = &repeat {
                    let again = repeat.again;
                    if (again.group as usize, again.entry as usize) == (group_index, index) {
                        let problem = if repeat.first.group == again.group {
                            Problem::ListedTwice {
                                resource: resource(),
                                group: key.clone(),
                                first: first.clone(),
                            }
                        } else {
                            Problem::TwoGroups {
                                resource: resource(),
                                group: key.clone(),
                                other_group: first_key.clone(),
                                other: first.clone(),
                            }
                        };
                        return Err(invalid(entry.at, &in_group("resources", index), problem));
                    }
                }
                resources.push(ExplicitEntry {
                    rtype: entry.rtype,
                    id: entry.id.into_string(),
                    regions,
                    location: locate(entry.at),
                });
            }
            let mut rules = Vec::with_capacity(group.select.len());
            for (index, rule) in group.select.iter().enumerate() {
                let regions = match &rule.region {
                    Some(list) => {
                        let list: Vec<String> = list.0.iter().map(|r| r.0.clone()).collect();
                        region_lists.get(&list)
                    }
                    None if default_regions.is_empty() => {
                        return Err(invalid(
                            rule.at,
                            &in_group("select", index),
                            Problem::NoRegion {
                                what: "this select rule".into(),
                            },
                        ))
                    }
                    None => default_regions.clone(),
                };
                rules.push(Rule {
                    types: rule
                        .types
                        .as_ref()
                        .map(|t| t.0.clone())
                        .unwrap_or_else(|| ResourceType::ALL.to_vec()),
                    tags: rule.tags.clone(),
                    name: rule.name.as_ref().map(|glob| glob.matcher.clone()),
                    in_group: rule.in_group.clone(),
                    regions,
                    location: locate(rule.at),
                });
            }
            groups.push(GroupSpec {
                location: locate(group.at),
                key,
                resources,
                rules,
                exclusive: group.exclusive,
            });
        }
        if groups.is_empty() {
            return Err(invalid(raw.groups_at, &[], Problem::NoGroups));
        }
        let accounts = raw.accounts.map(|raw| raw.check(locate));
        let sha256 = meaning::sha256(&groups, raw.max_changes, raw.evict_to.as_deref());
        Ok(Manifest {
            file: file.to_owned(),
            sha256: match &accounts {
                Some(accounts) => accounts.fold_into(&sha256),
                None => sha256,
            },
            accounts,
            groups,
            max_changes: raw.max_changes,
            evict_to: raw
                .evict_to
                .zip(raw.evict_to_at)
                .map(|(key, at)| (key, locate(at))),
        })
    }

    /// Whether any group is `exclusive`.
    pub fn has_exclusive(&self) -> bool {
        self.groups.iter().any(|g| g.exclusive)
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

/// Reads a YAML document into JSON by the manifest's rules (YAML 1.2 core
/// schema scalars, duplicate keys refused at any level, no aliases): for
/// the emulator's fleet file, which serde then reads from the JSON.
pub fn yaml_to_json(file: &str, text: &str) -> Result<serde_json::Value, ManifestError> {
    yaml::to_json(text).map_err(|fault| invalid_at(file.into(), fault))
}

/// A fault of the YAML reading as the error that names `file`.
fn invalid_at(file: Arc<str>, fault: Fault) -> ManifestError {
    ManifestError::Invalid {
        location: Location {
            file,
            line: fault.at.line,
            column: fault.at.column,
        },
        path: fault.path,
        problem: fault.problem,
    }
}

/// The first entry, in the manifest's order, that names a resource (type,
/// id and region) an entry before it named, and that entry: by sorting
/// 12-byte places, not by a map of every entry (see [`repeated`]).
fn first_repeated_entry(
    groups: &[(String, raw::RawGroup)],
    default_regions: &Regions,
) -> Option<repeated::Repeat> {
    let regions_of = |entry: &raw::RawEntry| entry.region.as_ref().unwrap_or(default_regions).len();
    let count = groups
        .iter()
        .flat_map(|(_, group)| &group.resources)
        .map(regions_of)
        .sum();
    let mut places = Vec::with_capacity(count);
    for (group, (_, raw_group)) in groups.iter().enumerate() {
        for (entry, raw_entry) in raw_group.resources.iter().enumerate() {
            // A manifest is at most 128 MiB: fewer than 2^32 of anything.
            places.extend((0..regions_of(raw_entry)).map(|region| repeated::Place {
                group: group as u32,
                entry: entry as u32,
                region: region as u32,
            }));
        }
    }
    repeated::first_repeat(places, |place| {
        let entry = &groups[place.group as usize].1.resources[place.entry as usize];
        let regions = entry.region.as_ref().unwrap_or(default_regions);
        (
            entry.rtype,
            &*entry.id,
            regions[place.region as usize].as_str(),
        )
    })
}

#[cfg(test)]
mod tests;
