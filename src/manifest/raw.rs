//! The manifest exactly as written, as serde reads it. Every check that can
//! be made on a single value is made here, while serde_yaml still knows the
//! value's position, so its error carries file:line:column.

use std::collections::BTreeMap;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;

use crate::resource::ResourceType;

/// A regroup manifest: which resources belong to which resource group.
#[derive(Debug, Deserialize, JsonSchema)]
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
    pub groups: BTreeMap<String, RawGroup>,
}

/// The manifest format version; only 1 exists.
#[derive(Debug, Clone, Copy)]
pub struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VersionVisitor;

        impl Visitor<'_> for VersionVisitor {
            type Value = Version;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the manifest version, 1")
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Version, E> {
                if number == 1 {
                    Ok(Version)
                } else {
                    Err(E::custom(format!(
                        "unsupported manifest version {number}; this regroup reads version 1"
                    )))
                }
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Version, E> {
                self.visit_u64(u64::try_from(number).unwrap_or(u64::MAX))
            }
        }

        deserializer.deserialize_u64(VersionVisitor)
    }
}

/// Reads a string and checks it inside the visitor, while the YAML reader
/// still points at the value, so an error names the value's own position.
struct CheckedStr<T> {
    expecting: &'static str,
    check: fn(&str) -> Result<T, String>,
}

impl<T> Visitor<'_> for CheckedStr<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.check)(text).map_err(E::custom)
    }
}

/// A region id such as `cn-hangzhou`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegionId(pub String);

impl RegionId {
    fn check(text: &str) -> Result<RegionId, String> {
        let shaped = text.len() <= 64
            && text.contains('-')
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if shaped {
            Ok(RegionId(text.to_owned()))
        } else {
            Err(format!(
                "`{text}` is not a region id (like cn-hangzhou: lower-case letters, digits and dashes)"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for RegionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(CheckedStr {
            expecting: "a region id",
            check: RegionId::check,
        })
    }
}

/// What belongs to one group: explicit resources, and rules that select
/// resources in bulk. An explicit entry beats a rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Group")]
pub struct RawGroup {
    /// Explicit members: `type/id`, or `{type, id, region}`.
    #[serde(default)]
    pub resources: Vec<RawEntry>,
    /// Bulk rules; every condition of one rule must hold.
    #[serde(default)]
    pub select: Vec<RawRule>,
}

/// An explicit resource: `type/id`, or `{type, id, region}`.
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub rtype: ResourceType,
    pub id: String,
    pub region: Option<RegionId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntryMap {
    #[serde(rename = "type")]
    rtype: ResourceType,
    id: String,
    region: Option<RegionId>,
}

impl RawEntry {
    fn checked<E: de::Error>(
        rtype: ResourceType,
        id: String,
        region: Option<RegionId>,
    ) -> Result<Self, E> {
        rtype.check_id(&id).map_err(E::custom)?;
        Ok(RawEntry { rtype, id, region })
    }
}

impl<'de> Deserialize<'de> for RawEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;

        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = RawEntry;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a resource as `type/id` or as a map {type, id, region}")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawEntry, E> {
                let (rtype, id) = text.split_once('/').ok_or_else(|| {
                    E::custom(format!(
                        "`{text}` is not `type/id` (like instance/i-bp1abc)"
                    ))
                })?;
                let rtype: ResourceType = rtype.parse().map_err(E::custom)?;
                RawEntry::checked(rtype, id.to_owned(), None)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawEntry, A::Error> {
                let entry = RawEntryMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                RawEntry::checked(entry.rtype, entry.id, entry.region)
            }
        }

        deserializer.deserialize_any(EntryVisitor)
    }
}

/// A bulk rule: a resource matches when every condition given holds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
pub struct RawRule {
    /// One type or a list; omitted means every type.
    #[serde(rename = "type", default)]
    pub types: Option<OneOrMany<ResourceType>>,
    /// Tags the resource must carry, with these values.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// A glob on the resource's name, like `pay-*`.
    pub name: Option<NameGlob>,
    /// The group the resource is in now (ID or name).
    pub in_group: Option<String>,
    /// One region or a list; omitted means the manifest's `regions`.
    pub region: Option<OneOrMany<RegionId>>,
}

/// A value that may be written alone or as a list.
#[derive(Debug, Clone)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("one value or a list of values")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(text))
                    .map(|one| OneOrMany(vec![one]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let items = Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                if items.is_empty() {
                    return Err(de::Error::custom(
                        "an empty list matches nothing; remove the key or name a value",
                    ));
                }
                Ok(OneOrMany(items))
            }
        }

        deserializer.deserialize_any(ListVisitor(std::marker::PhantomData))
    }
}

/// A glob on a resource's name, checked when read.
#[derive(Debug, Clone)]
pub struct NameGlob {
    pub matcher: globset::GlobMatcher,
}

impl NameGlob {
    fn check(pattern: &str) -> Result<NameGlob, String> {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map_err(|e| format!("`{pattern}` is not a valid glob: {}", e.kind()))?;
        Ok(NameGlob {
            matcher: glob.compile_matcher(),
        })
    }
}

impl<'de> Deserialize<'de> for NameGlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(CheckedStr {
            expecting: "a glob on the resource's name",
            check: NameGlob::check,
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

impl JsonSchema for RegionId {
    fn schema_name() -> Cow<'static, str> {
        "RegionId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A region id, like cn-hangzhou.",
            "type": "string",
            "pattern": "^[a-z0-9]+(-[a-z0-9]+)+$"
        })
    }
}

impl JsonSchema for RawEntry {
    fn schema_name() -> Cow<'static, str> {
        "Resource".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let types: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
        let pattern = format!("^({})/.+$", types.join("|"));
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
