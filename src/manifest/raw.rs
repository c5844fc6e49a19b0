//! The manifest exactly as written, read in one pass over the YAML events
//! ([`super::yaml::Reader`]), every value with its position. Every check
//! that can be made on a single value is made here, where the value's
//! position is at hand. The same types generate `regroup schema`, so what
//! loads and what the schema accepts are declared in one place (a test in
//! `tests.rs` runs sample manifests through both).

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::yaml::{Fault, Fields, Kind, Node, Position, Reader, Scalar, SeenKeys, Under, Wanted};
use super::{MaxChanges, Problem, RegionLists, Regions};
use crate::resource::ResourceType;

/// A regroup manifest: which resources belong to which resource group.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "regroup manifest, version 1")]
pub struct RawManifest {
    /// Checked when read; only version 1 exists.
    #[serde(rename = "version")]
    pub _version: Version,
    /// Default regions for entries and rules that name none.
    #[serde(default)]
    pub regions: Vec<RegionId>,
    /// Keyed by resource group ID (rg-…) or by a group's exact name.
    #[schemars(extend("minProperties" = 1, "propertyNames" = {"pattern": "\\S"}))]
    pub groups: BTreeMap<String, RawGroup>,
    /// The most moves one plan may make: a count, or a share of the
    /// resources the manifest manages, like `5%`; `--max-changes` wins.
    #[serde(default)]
    pub max_changes: Option<MaxChanges>,
    /// Where `exclusive` groups send the resources the manifest does not
    /// place in them (ID or name); default: the account's default group.
    pub evict_to: Option<String>,
    /// Where the `evict_to` value stands.
    #[schemars(skip)]
    pub evict_to_at: Option<Position>,
    /// Where the `groups` key stands.
    #[schemars(skip)]
    pub groups_at: Position,
    /// The member accounts of a Resource Directory to plan; omitted: the
    /// account the credentials are in.
    #[serde(default)]
    pub accounts: Option<super::accounts::RawAccounts>,
    /// The entries' `region`s, one shared list each, for the rest to share.
    #[schemars(skip)]
    pub region_lists: RegionLists,
}

/// The manifest format version; only 1 exists.
#[derive(Debug, Clone, Copy)]
pub struct Version;

/// A region id such as `cn-hangzhou`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegionId(pub String);

/// What belongs to one group: explicit resources, and rules that select
/// resources in bulk. An explicit entry beats a rule.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Group")]
#[schemars(extend("anyOf" = [
    {"required": ["resources"], "properties": {"resources": {"minItems": 1}}},
    {"required": ["select"], "properties": {"select": {"minItems": 1}}}
]))]
pub struct RawGroup {
    /// Explicit members: `type/id`, or `{type, id, region}`.
    #[serde(default)]
    pub resources: Vec<RawEntry>,
    /// Bulk rules; every condition of one rule must hold.
    #[serde(default)]
    pub select: Vec<RawRule>,
    /// `true`: the group holds exactly what the manifest places in it;
    /// other members of the types and regions the manifest covers are
    /// moved to `evict_to`.
    #[serde(default)]
    pub exclusive: bool,
    /// Where the group's key stands.
    #[schemars(skip)]
    pub at: Position,
}

/// An explicit resource: `type/id`, or `{type, id, region}`. Held by the
/// million in a large manifest, so kept small: the id without spare room,
/// the region one shared list per distinct region.
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub rtype: ResourceType,
    pub id: Box<str>,
    pub region: Option<Regions>,
    pub at: Position,
}

/// A bulk rule: a resource matches when every condition given holds. A
/// rule needs a condition (`type`, `tags`, `name` or `in_group`), or
/// `all: true` to take every resource of its regions.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
#[schemars(extend("anyOf" = [
    {"required": ["all"], "properties": {"all": {"const": true}}},
    {"required": ["type"], "properties": {"type": {"not": {"type": "null"}}}},
    {"required": ["tags"], "properties": {"tags": {"type": "object", "minProperties": 1}}},
    {"required": ["name"], "properties": {"name": {"type": "string"}}},
    {"required": ["in_group"], "properties": {"in_group": {"type": "string"}}}
]))]
pub struct RawRule {
    /// One type or a list; omitted means every type.
    #[serde(rename = "type", default)]
    pub types: Option<OneOrMany<ResourceType>>,
    /// Tags the resource must carry, with these values. Values are text:
    /// quote one that YAML would read as a number or boolean (`"1"`).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// A glob on the resource's name, like `pay-*`.
    pub name: Option<NameGlob>,
    /// The group the resource is in now (ID or name).
    pub in_group: Option<String>,
    /// One region or a list; omitted means the manifest's `regions`.
    pub region: Option<OneOrMany<RegionId>>,
    /// `true` to take every resource of the rule's regions: needed by a
    /// rule without conditions, so that `select: [{}]` is never a typo.
    #[serde(default)]
    pub all: bool,
    /// Where the rule starts.
    #[schemars(skip)]
    pub at: Position,
}

/// A value that may be written alone or as a list.
#[derive(Debug, Clone)]
pub struct OneOrMany<T>(pub Vec<T>);

/// A glob on a resource's name, checked when read.
#[derive(Debug, Clone)]
pub struct NameGlob {
    pub matcher: globset::GlobMatcher,
}

const EXAMPLE_ENTRY: &str =
    "`instance/i-bp1abc` or `{type: disk, id: d-bp1abc, region: cn-hangzhou}`";

impl RawManifest {
    /// Reads manifest text in one pass; the first problem met ends it.
    pub fn read(text: &str) -> Result<RawManifest, Fault> {
        let mut reader = Reader::new(text);
        let start = Position { line: 1, column: 1 };
        let root = match reader.root()? {
            None => return Err(Fault::new(start, Problem::Empty)),
            Some(Node::Scalar(s)) if s.kind == Kind::Null => {
                return Err(Fault::new(start, Problem::Empty))
            }
            Some(root) => root,
        };
        let Node::Map(at) = root else {
            return Err(root.wrong((
                "a map with `version` and `groups`",
                "`version: 1` and `groups:` on their own lines",
            )));
        };
        let mut fields = Fields::new(&[
            "version",
            "regions",
            "max_changes",
            "evict_to",
            "accounts",
            "groups",
        ]);
        let mut regions = Vec::new();
        let mut max_changes = None;
        let mut evict_to = None;
        let mut groups = None;
        let mut accounts = None;
        let mut lists = RegionLists::default();
        while let Some((key, key_at)) = reader.key()? {
            match fields.add(&key, key_at)? {
                "version" => reader.node().and_then(read_version).key(&key)?,
                "regions" => {
                    regions = reader
                        .node()
                        .and_then(|node| {
                            list(&mut reader, node, REGION_LIST, |_, n| {
                                RegionId::read(n.text(REGION)?)
                            })
                        })
                        .key(&key)?;
                }
                "max_changes" => {
                    max_changes = reader.node().and_then(read_max_changes).key(&key)?;
                }
                "evict_to" => {
                    evict_to = reader
                        .node()
                        .and_then(|n| optional(n).map(|n| n.text(GROUP)).transpose())
                        .key(&key)?
                        .map(|value| (value.text, value.at));
                }
                "accounts" => accounts = Some(super::accounts::read(&mut reader).key(&key)?),
                // "groups", the one name left
                _ => groups = Some((read_groups(&mut reader, &mut lists).key(&key)?, key_at)),
            }
        }
        reader.end()?;
        if !fields.has("version") {
            return Err(Fault::new(at, Problem::MissingKey { key: "version" }));
        }
        let Some((groups, groups_at)) = groups else {
            return Err(Fault::new(at, Problem::MissingKey { key: "groups" }));
        };
        Ok(RawManifest {
            _version: Version,
            regions,
            groups,
            max_changes,
            evict_to_at: evict_to.as_ref().map(|(_, at)| *at),
            evict_to: evict_to.map(|(text, _)| text),
            groups_at,
            accounts,
            region_lists: lists,
        })
    }
}

const REGION_LIST: Wanted = ("a list of region ids", "`[cn-hangzhou, cn-shanghai]`");
const REGION: Wanted = ("a region id", "`cn-hangzhou`");
const TYPE: Wanted = ("a resource type", "`instance`");
const ID: Wanted = ("a resource id", "`i-bp1abc`");
const GLOB: Wanted = ("a glob on the resource's name", "`\"pay-*\"`");
const GROUP: Wanted = ("a group id or name", "`legacy`");
const TAG_VALUE: Wanted = ("a tag value (text)", "`team: payments`");

fn read_version(node: Node) -> Result<(), Fault> {
    match &node {
        Node::Scalar(s) if matches!(s.kind, Kind::Int | Kind::Float) => {
            if super::yaml::number(s) == Some(1.0) {
                Ok(())
            } else {
                Err(Fault::new(
                    s.at,
                    Problem::Version {
                        found: s.text.clone(),
                    },
                ))
            }
        }
        _ => Err(node.wrong(("the manifest version, the number 1", "`version: 1`"))),
    }
}

/// `max_changes`: a number, or text such as `5%`; `~` is no limit.
fn read_max_changes(node: Node) -> Result<Option<MaxChanges>, Fault> {
    let Some(node) = optional(node) else {
        return Ok(None);
    };
    match node {
        Node::Scalar(s) if matches!(s.kind, Kind::Int | Kind::Text) => s
            .text
            .parse()
            .map(Some)
            .map_err(|detail| Fault::new(s.at, Problem::MaxChanges { detail })),
        other => Err(other.wrong((
            "a count or a share",
            "`max_changes: 50` or `max_changes: 5%`",
        ))),
    }
}

/// A list whose items `each` reads; `shape` is what was expected and an
/// example, for a node that is not a list.
fn list<T>(
    reader: &mut Reader,
    node: Node,
    shape: Wanted,
    mut each: impl FnMut(&mut Reader, Node) -> Result<T, Fault>,
) -> Result<Vec<T>, Fault> {
    let Node::List(_) = node else {
        return Err(node.wrong(shape));
    };
    let mut items = Vec::new();
    loop {
        let index = items.len();
        let item = reader
            .item()
            .and_then(|item| item.map(|node| each(reader, node)).transpose())
            .index(index)?;
        match item {
            Some(item) => items.push(item),
            None => return Ok(items),
        }
    }
}

fn read_groups(
    reader: &mut Reader,
    region_lists: &mut RegionLists,
) -> Result<BTreeMap<String, RawGroup>, Fault> {
    let node = reader.node()?;
    let Node::Map(_) = node else {
        return Err(node.wrong((
            "a map of groups",
            "`prod:` indented under `groups:`, with its `resources:` or `select:`",
        )));
    };
    let mut groups = BTreeMap::new();
    let mut seen = SeenKeys::default();
    while let Some((key, at)) = reader.key()? {
        seen.add(&key, at)?;
        let group = read_group(reader, at, region_lists).key(&key)?;
        groups.insert(key, group);
    }
    Ok(groups)
}

fn read_group(
    reader: &mut Reader,
    at: Position,
    region_lists: &mut RegionLists,
) -> Result<RawGroup, Fault> {
    let mut group = RawGroup {
        resources: Vec::new(),
        select: Vec::new(),
        exclusive: false,
        at,
    };
    match reader.node()? {
        // (A fault here is placed under the group's key by the caller.)
        // `prod:` with nothing under it: an empty group, which the
        // manifest's checks name as such.
        Node::Scalar(s) if s.kind == Kind::Null => return Ok(group),
        Node::Map(_) => {}
        node => {
            return Err(node.wrong((
                "a map with `resources:` or `select:`",
                "`resources: [instance/i-bp1abc]` indented under the group",
            )))
        }
    }
    let mut fields = Fields::new(&["resources", "select", "exclusive"]);
    while let Some((key, key_at)) = reader.key()? {
        fields.add(&key, key_at)?;
        let node = reader.node().key(&key)?;
        if key == "exclusive" {
            group.exclusive = read_bool(node, ("true or false", "`exclusive: true`")).key(&key)?;
        } else if key == "resources" {
            group.resources = list(
                reader,
                node,
                ("a list of resources", EXAMPLE_ENTRY),
                |reader, node| read_entry(reader, node, region_lists),
            )
            .key(&key)?;
        } else {
            group.select = list(
                reader,
                node,
                ("a list of select rules", "`- tags: {team: payments}`"),
                read_rule,
            )
            .key(&key)?;
        }
    }
    Ok(group)
}

fn read_entry(
    reader: &mut Reader,
    node: Node,
    region_lists: &mut RegionLists,
) -> Result<RawEntry, Fault> {
    match node {
        Node::Scalar(s) if s.kind == Kind::Text => {
            let Some((rtype, id)) = s.text.split_once('/') else {
                return Err(Fault::new(s.at, Problem::NotTypeId { text: s.text }));
            };
            let rtype = resource_type(rtype, s.at)?;
            rtype
                .check_id(id)
                .map_err(|detail| Fault::new(s.at, Problem::Id { detail }))?;
            Ok(RawEntry {
                rtype,
                id: id.into(),
                region: None,
                at: s.at,
            })
        }
        Node::Map(at) => {
            let mut fields = Fields::new(&["type", "id", "region"]);
            let (mut rtype, mut id, mut region) = (None, None, None);
            while let Some((key, key_at)) = reader.key()? {
                let name = fields.add(&key, key_at)?;
                let wanted = match name {
                    "type" => TYPE,
                    "id" => ID,
                    _ => REGION,
                };
                let value = reader.node().and_then(|n| n.text(wanted)).key(&key)?;
                match name {
                    "type" => rtype = Some(resource_type(&value.text, value.at).key(&key)?),
                    "id" => id = Some(value),
                    _ => {
                        let RegionId(region_id) = RegionId::read(value).key(&key)?;
                        region = Some(region_lists.get(std::slice::from_ref(&region_id)));
                    }
                }
            }
            let (Some(rtype), Some(id)) = (rtype, id) else {
                let key = if fields.has("type") { "id" } else { "type" };
                return Err(Fault::new(at, Problem::MissingKey { key }));
            };
            rtype
                .check_id(&id.text)
                .map_err(|detail| Fault::new(id.at, Problem::Id { detail }))
                .key("id")?;
            Ok(RawEntry {
                rtype,
                id: id.text.into_boxed_str(),
                region,
                at,
            })
        }
        node => Err(node.wrong(("a resource", EXAMPLE_ENTRY))),
    }
}

fn resource_type(text: &str, at: Position) -> Result<ResourceType, Fault> {
    text.parse()
        .map_err(|detail| Fault::new(at, Problem::UnknownType { detail }))
}

fn read_rule(reader: &mut Reader, node: Node) -> Result<RawRule, Fault> {
    let Node::Map(at) = node else {
        return Err(node.wrong((
            "a select rule (a map of conditions)",
            "`- {type: instance, tags: {team: payments}}`",
        )));
    };
    let mut rule = RawRule {
        types: None,
        tags: BTreeMap::new(),
        name: None,
        in_group: None,
        region: None,
        all: false,
        at,
    };
    let mut fields = Fields::new(&["type", "tags", "name", "in_group", "region", "all"]);
    while let Some((key, key_at)) = reader.key()? {
        let name = fields.add(&key, key_at)?;
        let node = reader.node().key(&key)?;
        match name {
            "type" => {
                rule.types =
                    one_or_many(reader, node, TYPE, |s| resource_type(&s.text, s.at)).key(&key)?;
            }
            "tags" => rule.tags = read_tags(reader, node).key(&key)?,
            "name" => {
                rule.name = optional(node)
                    .map(|n| NameGlob::read(n.text(GLOB)?))
                    .transpose()
                    .key(&key)?;
            }
            "in_group" => {
                rule.in_group = optional(node)
                    .map(|n| Ok(n.text(GROUP)?.text))
                    .transpose()
                    .key(&key)?;
            }
            "region" => {
                rule.region = one_or_many(reader, node, REGION, RegionId::read).key(&key)?;
            }
            // "all", the one name left
            _ => rule.all = read_bool(node, ("true or false", "`all: true`")).key(&key)?,
        }
    }
    let conditions = rule.types.is_some()
        || !rule.tags.is_empty()
        || rule.name.is_some()
        || rule.in_group.is_some();
    if !conditions && !rule.all {
        return Err(Fault::new(at, Problem::SelectsEverything));
    }
    if !rule.tags.is_empty() || rule.name.is_some() {
        let types = rule.types.iter().flat_map(|t| t.0.iter());
        let unsearchable = |t: &ResourceType| {
            !t.is_ecs() && crate::api::resource_center::acs_type(t.service(), t.rm_type()).is_none()
        };
        if let Some(other) = types.copied().find(unsearchable) {
            return Err(Fault::new(at, Problem::UnreadTagsOrNames { rtype: other }));
        }
    }
    Ok(rule)
}

/// `true` or `false`.
fn read_bool(node: Node, wanted: Wanted) -> Result<bool, Fault> {
    match node {
        Node::Scalar(s) if s.kind == Kind::Bool => Ok(s.text.eq_ignore_ascii_case("true")),
        other => Err(other.wrong(wanted)),
    }
}

/// A node, or `None` for `key: ~`, which means the key is not given.
fn optional(node: Node) -> Option<Node> {
    match &node {
        Node::Scalar(s) if s.kind == Kind::Null => None,
        _ => Some(node),
    }
}

fn one_or_many<T>(
    reader: &mut Reader,
    node: Node,
    one: Wanted,
    read: impl Fn(Scalar) -> Result<T, Fault>,
) -> Result<Option<OneOrMany<T>>, Fault> {
    let Some(node) = optional(node) else {
        return Ok(None);
    };
    let Node::List(at) = node else {
        return Ok(Some(OneOrMany(vec![read(node.text(one)?)?])));
    };
    let mut items = Vec::new();
    while let Some(item) = reader.item().index(items.len())? {
        let index = items.len();
        items.push(item.text(one).and_then(&read).index(index)?);
    }
    if items.is_empty() {
        return Err(Fault::new(at, Problem::EmptyList));
    }
    Ok(Some(OneOrMany(items)))
}

fn read_tags(reader: &mut Reader, node: Node) -> Result<BTreeMap<String, String>, Fault> {
    let Node::Map(_) = node else {
        return Err(node.wrong(("a map of tag keys to values", "`tags: {team: payments}`")));
    };
    let mut tags = BTreeMap::new();
    let mut seen = SeenKeys::default();
    while let Some((key, at)) = reader.key()? {
        seen.add(&key, at)?;
        let value = reader.node().and_then(|n| n.text(TAG_VALUE)).key(&key)?;
        tags.insert(key, value.text);
    }
    Ok(tags)
}

impl RegionId {
    const MAX_LEN: usize = 64;

    fn read(scalar: Scalar) -> Result<RegionId, Fault> {
        // The same rule as the schema's pattern and length below.
        let text = scalar.text;
        let shaped = text.len() <= RegionId::MAX_LEN
            && text.contains('-')
            && text.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if shaped {
            Ok(RegionId(text))
        } else {
            Err(Fault::new(scalar.at, Problem::Region { text }))
        }
    }
}

/// The longest name glob: resource names are at most 128 characters, so
/// a longer glob is a mistake, and a very long one makes globset's regex
/// compiler give up (it panics rather than erring).
const MAX_GLOB_CHARS: usize = 1024;

impl NameGlob {
    fn read(scalar: Scalar) -> Result<NameGlob, Fault> {
        let length = scalar.text.chars().count();
        if length > MAX_GLOB_CHARS {
            let start: String = scalar.text.chars().take(32).collect();
            return Err(Fault::new(
                scalar.at,
                Problem::Glob {
                    pattern: format!("{start}…"),
                    reason: format!(
                        "it is {length} characters long, more than the {MAX_GLOB_CHARS} a name glob may have"
                    ),
                },
            ));
        }
        let glob = globset::GlobBuilder::new(&scalar.text)
            .literal_separator(false)
            .build()
            .map_err(|e| {
                Fault::new(
                    scalar.at,
                    Problem::Glob {
                        pattern: scalar.text.clone(),
                        reason: e.kind().to_string(),
                    },
                )
            })?;
        Ok(NameGlob {
            matcher: glob.compile_matcher(),
        })
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "The manifest format version.", "const": 1})
    }
}

impl JsonSchema for MaxChanges {
    fn schema_name() -> Cow<'static, str> {
        "MaxChanges".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A count of moves, or a share of the managed resources like `5%`.",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^\\s*(\\d+|(100(\\.0+)?|\\d{1,2}(\\.\\d+)?)\\s*%)\\s*$"}
            ]
        })
    }
}

impl JsonSchema for RegionId {
    fn schema_name() -> Cow<'static, str> {
        "RegionId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A region id, like cn-hangzhou.",
            "type": "string",
            "pattern": "^[a-z0-9]+(-[a-z0-9]+)+$",
            "maxLength": RegionId::MAX_LEN
        })
    }
}

impl JsonSchema for RawEntry {
    fn schema_name() -> Cow<'static, str> {
        "Resource".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let pattern = format!("^({})/.+$", crate::resource::accepted_names().join("|"));
        let rtype = generator.subschema_for::<ResourceType>();
        let region = generator.subschema_for::<RegionId>();
        json_schema!({
            "description": "A resource: `type/id`, or a map with its region.",
            "oneOf": [
                {"type": "string", "pattern": pattern},
                {
                    "type": "object",
                    "properties": {"type": rtype, "id": {"type": "string", "minLength": 1}, "region": region},
                    "required": ["type", "id"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>();
        json_schema!({
            "anyOf": [one, {"type": "array", "items": one, "minItems": 1}]
        })
    }
}

impl JsonSchema for NameGlob {
    fn schema_name() -> Cow<'static, str> {
        "NameGlob".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "A glob on the resource's name: `*`, `?`, `[abc]`, `{a,b}`.", "type": "string"})
    }
}
