//! The manifest exactly as written, as serde reads it. Every check that can
//! be made on a single value is made here, while serde_yaml still knows the
//! value's position, so its error carries file:line:column.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::resource::ResourceType;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    /// Checked when read; only version 1 exists.
    #[serde(rename = "version")]
    pub _version: Version,
    #[serde(default)]
    pub regions: Vec<RegionId>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    #[serde(default)]
    pub resources: Vec<RawEntry>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(rename = "type", default)]
    pub types: Option<OneOrMany<ResourceType>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub name: Option<NameGlob>,
    pub in_group: Option<String>,
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
