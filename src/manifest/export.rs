//! Writes a manifest that describes the account as it is: the output of
//! `regroup export`. It lives here because this module owns the YAML.

use std::fmt::Write;

use std::sync::Arc;

use crate::resource::{Group, Inventory, ResourceKey};

/// One group of an exported manifest: its key and its members, in order.
pub struct ExportedGroup {
    pub key: String,
    pub members: Vec<ExportedMember>,
    /// Written as `exclusive: true` (`export --exclusive`).
    pub exclusive: bool,
}

/// A resource of an exported group, with its name (empty when it has
/// none), which is written as a comment after its entry.
pub struct ExportedMember {
    pub key: ResourceKey,
    pub name: Arc<str>,
}

/// Words that some YAML reader takes for something other than a string:
/// YAML 1.1's booleans and nulls (which PyYAML and many CI tools still
/// read), YAML 1.2's core schema, and 1.1's merge and value keys. Compared
/// without case, which covers every spelling either version accepts.
/// Sources: YAML 1.1 types <https://yaml.org/type/bool.html>,
/// <https://yaml.org/type/null.html>, <https://yaml.org/type/merge.html>,
/// <https://yaml.org/type/value.html>; YAML 1.2.2 §10.3.2 (core schema tags).
const RESERVED_WORDS: [&str; 14] = [
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "<<", "=", ".inf", ".nan",
];

/// Whether `text` may be written as a plain scalar and read back as the same
/// string by YAML 1.1 and 1.2 readers, in block and flow context alike. Kept
/// narrow on purpose: letters, digits and `-_./`, starting with a letter
/// (so that no number, date, sexagesimal `1:20`, `0x10`, `012`, `1e3` or
/// `.inf` can be read), and none of the reserved words.
fn is_plain_safe(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !RESERVED_WORDS
            .iter()
            .any(|word| word.eq_ignore_ascii_case(text))
}

/// A YAML scalar for `text`: plain when every YAML reader gets the same
/// string back, double-quoted with escapes otherwise.
pub(super) fn scalar(text: &str) -> String {
    if is_plain_safe(text) {
        return text.to_owned();
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            // Other control characters, and the line breaks YAML 1.1 knows
            // (NEL, LS, PS), which a reader would fold away.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
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
        if group.exclusive {
            let _ = writeln!(out, "    exclusive: true");
        }
        let _ = writeln!(out, "    resources:");
        for ExportedMember { key, name } in &group.members {
            let entry = if single_region {
                scalar(&format!("{}/{}", key.rtype, key.id))
            } else {
                format!(
                    "{{type: {}, id: {}, region: {}}}",
                    key.rtype,
                    scalar(&key.id),
                    scalar(&key.region)
                )
            };
            let _ = writeln!(out, "      - {entry}{}", name_comment(name));
        }
    }
    out
}

/// `  # name`, for a reader to tell the entries apart; nothing for a
/// resource without a name. A comment ends at the line's end, so every
/// character a YAML reader takes for a line break (YAML 1.2.2 §5.4, and
/// 1.1's NEL, LS and PS) and every other control character becomes a space.
fn name_comment(name: &str) -> String {
    let shown: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    match shown.trim() {
        "" => String::new(),
        shown => format!("  # {shown}"),
    }
}

/// The key that names `group` in a manifest: its name when that name is
/// no other group's and no group's id (a key is looked up as an id first),
/// its id otherwise. Names so chosen differ from each other and from every
/// id, so keys never repeat.
fn key_of(group: &Group, groups: &[Group]) -> String {
    let unique_name = !group.name.is_empty()
        && groups.iter().filter(|g| g.name == group.name).count() == 1
        && !groups.iter().any(|g| g.id == group.name);
    if unique_name {
        group.name.to_string()
    } else {
        group.id.to_string()
    }
}

/// The groups of an exported manifest: every group of `account` (only those
/// in `wanted`, when it is not empty) with its members, keyed as
/// [`key_of`] says, sorted by key. Pure, so that what
/// `export` decides is tested without a server.
pub fn groups_of(account: &Inventory, wanted: &[String]) -> Vec<ExportedGroup> {
    let mut groups: Vec<ExportedGroup> = account
        .groups
        .iter()
        .filter(|g| wanted.is_empty() || wanted.iter().any(|id| **id == *g.id))
        .map(|group| ExportedGroup {
            key: key_of(group, &account.groups),
            members: account
                .resources
                .values()
                .filter(|r| r.group_id == group.id)
                .map(|r| ExportedMember {
                    key: r.key.clone(),
                    name: r.name.clone(),
                })
                .collect(),
            exclusive: false,
        })
        .collect();
    groups.sort_by(|a, b| a.key.cmp(&b.key));
    groups
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Resource, ResourceType};

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
            name: "".into(),
            group_id: group_id.into(),
            tags: crate::resource::Tags::default(),
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
        let prod: Vec<&str> = groups[0].members.iter().map(|m| &*m.key.id).collect();
        assert_eq!(prod, ["i-a", "i-b"]);
    }

    #[test]
    fn only_wanted_groups_are_exported() {
        let groups = groups_of(&account(), &["rg-2".to_owned()]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].key, "rg-2");
        assert_eq!(&*groups[0].members[0].key.id, "i-c");
    }

    #[test]
    fn a_name_that_is_another_groups_id_is_not_a_key() {
        let mut account = account();
        account.groups[0].name = "rg-2".into();
        let keys: Vec<String> = groups_of(&account, &[])
            .into_iter()
            .map(|g| g.key)
            .collect();
        assert_eq!(keys, ["rg-1", "rg-2", "rg-3"]);
    }

    #[test]
    fn each_entry_is_followed_by_its_resource_name_on_one_line() {
        let mut account = account();
        let named = |account: &mut Inventory, id: &str, name: &str| {
            let resource = account
                .resources
                .values_mut()
                .find(|r| &*r.key.id == id)
                .unwrap();
            resource.name = name.into();
        };
        named(&mut account, "i-a", "web-1");
        named(&mut account, "i-b", "two\nlines\u{2028}# and a hash");
        named(&mut account, "i-c", " \t ");
        let groups = groups_of(&account, &[]);
        let regions = ["cn-hangzhou".to_owned()];
        assert_eq!(
            to_yaml(&[], &regions, &groups),
            "version: 1\nregions: [cn-hangzhou]\ngroups:\n  prod:\n    resources:\n      \
             - instance/i-a  # web-1\n      - instance/i-b  # two lines # and a hash\n  \
             rg-2:\n    resources:\n      - instance/i-c\n  rg-3:\n    resources:\n      \
             - instance/i-d\n",
            "a name on the entry's line, its line breaks as spaces; none for a blank name"
        );
        let both = ["cn-hangzhou".to_owned(), "cn-shanghai".to_owned()];
        assert!(
            to_yaml(&[], &both, &groups)
                .contains("      - {type: instance, id: i-a, region: cn-hangzhou}  # web-1\n"),
            "the same after a flow mapping"
        );
    }

    #[test]
    fn what_yaml_readers_would_not_read_as_that_string_is_quoted() {
        for word in [
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "n",
            "true",
            "False",
            "null",
            "~",
            "1e3",
            "0x10",
            "012",
            "1:20",
            "2001-12-14",
            ".inf",
            "-1",
            "",
            " a",
            "a b",
            "a: b",
            "a,b",
            "#x",
            "k#x",
            "<<",
            "=",
            "@x",
            "`x",
            "a\"b",
            "line\nbreak",
            "*x",
            "&x",
            "!x",
            "%x",
            "[x]",
            "{x}",
            "x:y",
        ] {
            let written = scalar(word);
            assert!(written.starts_with('"'), "{word:?} is written {written}");
        }
        for plain in [
            "prod",
            "cn-hangzhou",
            "instance/i-bp1abc",
            "deploy-key",
            "web_1.a",
            "rg-acfm1",
        ] {
            assert_eq!(scalar(plain), plain);
        }
    }

    #[test]
    fn quoted_scalars_read_back_as_the_same_string() {
        for text in [
            "yes",
            "a\"b\\c",
            "tab\there",
            "nul\u{0}",
            "ls\u{2028}",
            "中文",
            "x: y, z",
        ] {
            let document = format!("key: {}\nflow: {{k: {}}}\n", scalar(text), scalar(text));
            let docs = yaml_rust2::YamlLoader::load_from_str(&document).expect("valid YAML");
            assert_eq!(docs[0]["key"].as_str(), Some(text), "{document}");
            assert_eq!(docs[0]["flow"]["k"].as_str(), Some(text), "{document}");
        }
    }
}
