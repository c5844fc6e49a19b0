//! Writes a manifest that describes the account as it is: the output of
//! `regroup export`. It lives here because this module owns the YAML.

use std::fmt::Write;

use crate::resource::ResourceKey;

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
