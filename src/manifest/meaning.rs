//! What a manifest means, as the bytes its `sha256` is taken of. A saved
//! plan names the manifest it came from by this hash, so the hash must
//! change with everything regroup reads from the file and with nothing
//! else: comments, blank lines, indentation, quoting, flow or block style,
//! the order of keys in a map and the `type/id` or `{type, id}` spelling of
//! an entry leave it alone.
//!
//! The canonical form is the compact JSON of the checked manifest's parts
//! (groups, their entries with the regions each is looked for in, rules,
//! `exclusive`, `max_changes`, `evict_to`), in a fixed field order, with no
//! source locations. It is built from the checked structures rather than
//! from the YAML events because those structures are what planning reads:
//! two manifests that plan alike hash alike (a region given once under
//! `regions` or on every entry), and whatever a new key means reaches the
//! hash as soon as the structures carry it. Lists keep the order they are
//! written in, so reordering entries counts as a change: a harmless
//! re-plan rather than a missed one.

use std::collections::BTreeMap;

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{ExplicitEntry, GroupSpec, MaxChanges, Rule};

/// Names the form, so that a later change of what it holds cannot hash
/// like this one.
const FORM: &str = "regroup manifest version 1, meaning 1";

/// The hex sha256 of the canonical form of a checked manifest's parts.
pub(super) fn sha256(
    groups: &[GroupSpec],
    max_changes: Option<MaxChanges>,
    evict_to: Option<&str>,
) -> String {
    let meaning = Meaning {
        form: FORM,
        max_changes: max_changes.map(|limit| limit.to_string()),
        evict_to,
        groups: Each(groups, Group),
    };
    let mut hasher = Sha256::new();
    // Writing into a hasher cannot fail, and every map key is text, so
    // serde_json has nothing to refuse.
    serde_json::to_writer(&mut hasher, &meaning)
        .expect("the manifest's meaning serializes to JSON");
    format!("{:x}", hasher.finalize())
}

#[derive(Serialize)]
struct Meaning<'a> {
    form: &'static str,
    max_changes: Option<String>,
    evict_to: Option<&'a str>,
    groups: Each<'a, GroupSpec, fn(&'a GroupSpec) -> Group<'a>>,
}

/// A slice written as a JSON list of `view(item)`, without collecting the
/// views first: a manifest may hold a million entries.
struct Each<'a, T, F>(&'a [T], F);

impl<'a, T, F, V> Serialize for Each<'a, T, F>
where
    F: Fn(&'a T) -> V,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(&self.1))
    }
}

struct Group<'a>(&'a GroupSpec);

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let group = self.0;
        let mut fields = serializer.serialize_struct("Group", 4)?;
        fields.serialize_field("key", &group.key)?;
        fields.serialize_field("exclusive", &group.exclusive)?;
        fields.serialize_field("resources", &Each(&group.resources, Entry))?;
        fields.serialize_field("rules", &Each(&group.rules, RuleView))?;
        fields.end()
    }
}

struct Entry<'a>(&'a ExplicitEntry);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entry = self.0;
        let mut fields = serializer.serialize_struct("Entry", 3)?;
        fields.serialize_field("type", entry.rtype.as_str())?;
        fields.serialize_field("id", &entry.id)?;
        fields.serialize_field("regions", &*entry.regions)?;
        fields.end()
    }
}

struct RuleView<'a>(&'a Rule);

impl Serialize for RuleView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rule = self.0;
        let types: Vec<&str> = rule.types.iter().map(|t| t.as_str()).collect();
        let tags: &BTreeMap<String, String> = &rule.tags;
        let mut fields = serializer.serialize_struct("Rule", 5)?;
        fields.serialize_field("types", &types)?;
        fields.serialize_field("tags", tags)?;
        fields.serialize_field("name", &rule.name.as_ref().map(|g| g.glob().glob()))?;
        fields.serialize_field("in_group", &rule.in_group)?;
        fields.serialize_field("regions", &*rule.regions)?;
        fields.end()
    }
}
