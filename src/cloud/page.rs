//! One Describe* answer read straight into [`Resource`]s: the hot path of
//! a plan, which reads every resource of an account. The reader walks the
//! JSON once, driven by the wire contract's table
//! ([`crate::api::describe::TypeApi`]: where the list is, which fields hold
//! the id, the name and the tags), keeps only those fields and the paging
//! fields, and skips everything else unread; no item is ever held as a
//! `serde_json::Value`.
//!
//! The field names are the SDK response models': every item has
//! `ResourceGroupId` and a `Tags.Tag[]` (or flat `Tags[]`) list of
//! `{TagKey, TagValue}`, and every page `NextToken`, `PageNumber`,
//! `PageSize` and `TotalCount` as its paging allows
//! (`@alicloud/ecs20140526` 6.1.0, e.g. `DescribeInstancesResponseBody`
//! and `DescribeInstancesResponseBodyInstancesInstanceTagsTag`;
//! docs/sources/ecs-models.md §2 lists them per type).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::api::describe::TypeApi;
use crate::resource::{Interner, Resource, ResourceKey};

/// What one Describe* answer holds for regroup.
#[derive(Debug, Default)]
pub(super) struct WirePage {
    pub resources: Vec<Resource>,
    pub next_token: Option<String>,
    pub page_number: Option<u64>,
    pub page_size: Option<u64>,
    pub total_count: Option<u64>,
}

/// Reads one answer of `api` in `region`. Regions, group ids and tags
/// repeat from item to item: the page keeps one copy of each.
pub(super) fn read(api: &TypeApi, region: &str, body: &str) -> Result<WirePage, serde_json::Error> {
    let mut shared = Interner::default();
    let region = shared.get(region);
    let mut json = serde_json::Deserializer::from_str(body);
    let page = PageSeed {
        items: Items {
            api,
            region: &region,
            shared: &mut shared,
        },
    }
    .deserialize(&mut json)?;
    json.end()?;
    Ok(page)
}

/// A JSON string, borrowed from the body when it holds no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A string field, `""` when it is null.
fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Cow<'de, str>, A::Error> {
    Ok(map
        .next_value::<Option<Text<'de>>>()?
        .map_or(Cow::Borrowed(""), |t| t.0))
}

/// One tag of an item (`TagKey`, `TagValue`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireTag<'a> {
    #[serde(borrow, default)]
    tag_key: Cow<'a, str>,
    #[serde(borrow, default)]
    tag_value: Cow<'a, str>,
}

/// The value at `path` inside nested objects, read with `inner`: `None`
/// when a step is missing or null, as an empty list is.
struct AtPath<'p, S> {
    path: &'p [&'p str],
    inner: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for AtPath<'_, S> {
    type Value = Option<S::Value>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for AtPath<'_, S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.path.first() {
            Some(step) => write!(f, "an object with `{step}`"),
            None => f.write_str("a value"),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        match self.path.split_first() {
            None => self.inner.deserialize(deserializer).map(Some),
            Some(_) => deserializer.deserialize_map(self),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((step, rest)) = self.path.split_first() else {
            return Err(de::Error::custom("a path step past its end"));
        };
        let mut inner = Some(AtPath {
            path: rest,
            inner: self.inner,
        });
        let mut found = None;
        while let Some(Text(key)) = map.next_key()? {
            match (key == *step).then(|| inner.take()).flatten() {
                Some(next) => found = map.next_value_seed(next)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// The list of items of one page, each read into a [`Resource`].
struct Items<'s> {
    api: &'s TypeApi,
    region: &'s Arc<str>,
    shared: &'s mut Interner,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = Vec<Resource>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = Vec<Resource>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} as a list", self.api.list_path.join("."))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut resources = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(resource) = seq.next_element_seed(Item {
            api: self.api,
            region: self.region,
            shared: &mut *self.shared,
        })? {
            resources.push(resource);
        }
        Ok(resources)
    }
}

/// One item: its id, name, group and tags, the other fields skipped.
struct Item<'s> {
    api: &'s TypeApi,
    region: &'s Arc<str>,
    shared: &'s mut Interner,
}

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = Resource;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = Resource;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an item as an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let api = self.api;
        let (tags_field, tags_rest) = api
            .tags_path
            .split_first()
            .ok_or_else(|| de::Error::custom("the table names no tags field"))?;
        let (mut id, mut name, mut group) =
            (Cow::Borrowed(""), Cow::Borrowed(""), Cow::Borrowed(""));
        let mut tags = Vec::new();
        while let Some(Text(key)) = map.next_key()? {
            if key == api.id_field {
                id = text(&mut map)?;
            } else if api.name_field == Some(&*key) {
                name = text(&mut map)?;
            } else if key == "ResourceGroupId" {
                group = text(&mut map)?;
            } else if key == *tags_field {
                let list = AtPath {
                    path: tags_rest,
                    inner: std::marker::PhantomData::<Vec<WireTag<'de>>>,
                };
                tags = map.next_value_seed(list)?.unwrap_or_default();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if id.is_empty() {
            return Err(de::Error::custom(format!(
                "an item has no {}",
                api.id_field
            )));
        }
        // A key pair's name is its id (`KeyPairName`).
        if api.name_field == Some(api.id_field) {
            name = id.clone();
        }
        let shared = self.shared;
        Ok(Resource {
            key: ResourceKey {
                rtype: api.rtype,
                region: self.region.clone(),
                id: (*id).into(),
            },
            name: (*name).into(),
            group_id: shared.get(&group),
            tags: shared.tags(tags.iter().map(|tag| (&*tag.tag_key, &*tag.tag_value))),
        })
    }
}

/// The answer's top level: the list where the table says, and the paging
/// fields.
struct PageSeed<'s> {
    items: Items<'s>,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = WirePage;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = WirePage;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Describe* answer as an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (list_field, list_rest) = self
            .items
            .api
            .list_path
            .split_first()
            .ok_or_else(|| de::Error::custom("the table names no list field"))?;
        let mut items = Some(self.items);
        let mut page = WirePage::default();
        while let Some(Text(key)) = map.next_key()? {
            match &*key {
                "NextToken" => page.next_token = Some(text(&mut map)?.into_owned()),
                "PageNumber" => page.page_number = map.next_value()?,
                "PageSize" => page.page_size = map.next_value()?,
                "TotalCount" => page.total_count = map.next_value()?,
                _ => match (key == *list_field).then(|| items.take()).flatten() {
                    Some(items) => {
                        let list = AtPath {
                            path: list_rest,
                            inner: items,
                        };
                        page.resources = map.next_value_seed(list)?.unwrap_or_default();
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
            }
        }
        Ok(page)
    }
}
