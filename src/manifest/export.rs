//! Writes a manifest that describes the account as it is: the output of
//! `regroup export`. It lives here because this module owns the YAML.

use std::fmt::Write;

use crate::resource::{Inventory, ResourceKey};

/// One group of an exported manifest: its key and its members, in order.
pub struct ExportedGroup {
    pub key: String,
    pub members: Vec<ResourceKey>,
}

/// Words that YAML 1.1 readers (PyYAML, many CI tools) take for booleans
/// or null, though YAML 1.2 reads them as text.
const YAML_1_1_WORDS: [&str; 12] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<",
];

/// A YAML scalar for `text`: plain when our reader reads it back as the
/// same text, also inside a flow list or map, and no YAML 1.1 reader takes
/// it for something else; double-quoted (a JSON string, which is valid
/// YAML) otherwise.
pub(super) fn scalar(text: &str) -> String {
    let plain = !text.contains([',', '[', ']', '{', '}', '#', '"', '\'', '\\'])
        && !YAML_1_1_WORDS.contains(&text.to_ascii_lowercase().as_str())
        && super::yaml::reads_back_plain(text);
    if plain {
        text.to_owned()
    } else {
        serde_json::Value::from(text).to_string()
    }
}

/// The manifest text. With one region, entries are `type/id` under
/// `regions: [that one]`; with several, each entry names its region, so a
/// key pair name used in two regions cannot be confused.
pub fn to_yaml(header: &[String], regions: &[String], groups: &[ExportedGroup]) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "version: 1");
    let region_list: Vec<String> = regions.iter().map(|r| scalar(r)).collect();
    let _ = writeln!(out, "regions: [{}]", region_list.join(", "));
    let _ = writeln!(out, "groups:");
    let single_region = regions.len() == 1;
    for group in groups.iter().filter(|g| !g.members.is_empty()) {
        let _ = writeln!(out, "  {}:", scalar(&group.key));
        let _ = writeln!(out, "    resources:");
        for key in &group.members {
            if single_region {
                let _ = writeln!(
                    out,
                    "      - {}",
                    scalar(&format!("{}/{}", key.rtype, key.id))
                );
            } else {
                let _ = writeln!(
                    out,
                    "      - {{type: {}, id: {}, region: {}}}",
                    key.rtype,
                    scalar(&key.id),
                    scalar(&key.region)
                );
            }
        }
    }
    out
}

/// The groups of an exported manifest: every group of `account` (only those
/// in `wanted`, when it is not empty) with its members, keyed by name where
/// the name is unique and by id otherwise, sorted by key. Pure, so that what
/// `export` decides is tested without a server.
pub fn groups_of(account: &Inventory, wanted: &[String]) -> Vec<ExportedGroup> {
    let mut groups: Vec<ExportedGroup> = account
        .groups
        .iter()
        .filter(|g| wanted.is_empty() || wanted.contains(&g.id))
        .map(|group| {
            let unique_name = account
                .groups
                .iter()
                .filter(|g| g.name == group.name)
                .count()
                == 1;
            ExportedGroup {
                key: if unique_name && !group.name.is_empty() {
                    group.name.clone()
                } else {
                    group.id.clone()
                },
                members: account
                    .resources
                    .values()
                    .filter(|r| r.group_id == group.id)
                    .map(|r| r.key.clone())
                    .collect(),
            }
        })
        .collect();
    groups.sort_by(|a, b| a.key.cmp(&b.key));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Group, Resource, ResourceType};

    fn group(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            name: name.into(),
            status: "OK".into(),
        }
    }

    fn instance(id: &str, group_id: &str) -> Resource {
        Resource {
            key: ResourceKey {
                rtype: ResourceType::Instance,
                region: "cn-hangzhou".into(),
                id: id.into(),
            },
            name: String::new(),
            group_id: group_id.into(),
            tags: Vec::new(),
        }
    }

    fn account() -> Inventory {
        let resources = [
            instance("i-b", "rg-1"),
            instance("i-a", "rg-1"),
            instance("i-c", "rg-2"),
            instance("i-d", "rg-3"),
        ];
        Inventory {
            groups: vec![
                group("rg-1", "prod"),
                group("rg-2", "dev"),
                group("rg-3", "dev"),
            ],
            resources: resources.into_iter().map(|r| (r.key.clone(), r)).collect(),
        }
    }

    #[test]
    fn groups_are_keyed_by_unique_names_and_ids_otherwise_in_key_order() {
        let groups = groups_of(&account(), &[]);
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["prod", "rg-2", "rg-3"]);
        let prod: Vec<&str> = groups[0].members.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(prod, ["i-a", "i-b"]);
    }

    #[test]
    fn only_wanted_groups_are_exported() {
        let groups = groups_of(&account(), &["rg-2".to_owned()]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].key, "rg-2");
        assert_eq!(groups[0].members[0].id, "i-c");
    }
}
