//! Reads the resources of other services than ECS (the `service:type`
//! types) from Resource Manager's `ListResources`, in as few calls as it
//! allows: it has no list of ids, only a single `ResourceId`, but takes up
//! to 50 (service, type) pairs and pages of 100
//! (docs/sources/resourcemanager-services.md §3.1). So every type of the
//! manifest is listed together, 50 pairs a listing, in the one region the
//! manifest covers (or in all, kept by region here); ids not yet seen
//! after a listing's first page are read one call each when that is
//! cheaper than the listing's remaining pages. Reading N ids then costs
//! at most one call more than `min(N, pages)`, the least the API allows.
//!
//! `ListResources` reports no names and no tags (§3.2): these resources
//! are read with an empty name and no tags; where a `tags`/`name` rule
//! needs them, `super::search` adds them from Resource Center.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt, TryStreamExt};

use super::{IdSet, ReadScope};
use crate::cloud::client::{Client, CloudError};
use crate::cloud::resourcemanager::{
    self, ListFilter, ListedResource, LIST_MAX_TYPES, LIST_PAGE_SIZE,
};
use crate::resource::{Interner, Resource, ResourceKey, ResourceType};

/// How many calls run at once; the limiter paces them.
const CONCURRENCY: usize = 16;
/// A bound on one listing's pages: 10,000 pages of 100 is a million
/// resources.
const MAX_PAGES: u64 = 10_000;

/// What the manifest wants of the other services' types, from the scopes.
#[derive(Debug, Default, PartialEq, Eq)]
struct Wanted<'a> {
    /// (region, type) pairs read whole, and whether a short listing is an
    /// error (an exclusive group's).
    whole: BTreeMap<(String, ResourceType), bool>,
    /// Ids wanted in (region, type) pairs not read whole.
    ids: BTreeMap<(String, ResourceType), &'a IdSet<'a>>,
}

impl<'a> Wanted<'a> {
    fn of(scopes: &'a BTreeMap<(String, ResourceType), ReadScope<'a>>) -> Wanted<'a> {
        let mut wanted = Wanted::default();
        for ((region, rtype), scope) in scopes.iter().filter(|((_, t), _)| !t.is_ecs()) {
            let at = (region.clone(), *rtype);
            match scope {
                ReadScope::All => _ = wanted.whole.insert(at, false),
                ReadScope::Complete => _ = wanted.whole.insert(at, true),
                ReadScope::Ids(ids) => _ = wanted.ids.insert(at, ids),
            }
        }
        wanted
    }

    fn is_empty(&self) -> bool {
        self.whole.is_empty() && self.ids.is_empty()
    }

    /// Whether a listed resource is one the manifest wants.
    fn keeps(&self, key: &ResourceKey) -> bool {
        let at = (key.region.to_string(), key.rtype);
        self.whole.contains_key(&at) || self.ids.get(&at).is_some_and(|ids| ids.contains(&key.id))
    }

    /// The one region every pair is in, which a listing can filter on.
    fn single_region(&self) -> Option<&str> {
        let mut regions = self
            .whole
            .keys()
            .chain(self.ids.keys())
            .map(|(region, _)| region.as_str());
        let first = regions.next()?;
        regions.all(|r| r == first).then_some(first)
    }

    /// The listings to make: the types, 50 a listing, each with whether
    /// it must be read whole (some pair of it is wanted whole) and whether
    /// a short listing is an error.
    fn listings(&self) -> Vec<Listing> {
        let types: BTreeSet<ResourceType> = self
            .whole
            .keys()
            .chain(self.ids.keys())
            .map(|(_, t)| *t)
            .collect();
        let types: Vec<ResourceType> = types.into_iter().collect();
        types
            .chunks(LIST_MAX_TYPES)
            .map(|chunk| Listing {
                types: chunk.to_vec(),
                whole: self.whole.keys().any(|(_, t)| chunk.contains(t)),
                complete: self
                    .whole
                    .iter()
                    .any(|((_, t), complete)| *complete && chunk.contains(t)),
            })
            .collect()
    }

    /// The keys of the wanted ids of these types.
    fn id_keys(&self, types: &[ResourceType]) -> Vec<ResourceKey> {
        self.ids
            .iter()
            .filter(|((_, t), _)| types.contains(t))
            .flat_map(|((region, rtype), ids)| {
                ids.as_slice().iter().map(|id| ResourceKey {
                    rtype: *rtype,
                    region: region.as_str().into(),
                    id: (*id).into(),
                })
            })
            .collect()
    }
}

/// One listing over up to 50 types.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    types: Vec<ResourceType>,
    whole: bool,
    complete: bool,
}

/// Whether reading the ids not yet seen one by one (`unseen` calls) costs
/// less than the listing's `pages_left`. Ties list: a listing also tells
/// which ids do not exist.
fn by_id_is_cheaper(unseen: usize, pages_left: u64) -> bool {
    (unseen as u64) < pages_left
}

/// How many pages of [`LIST_PAGE_SIZE`] hold `total` resources, within the
/// bound.
fn pages_for(total: i64) -> u64 {
    u64::try_from(total)
        .unwrap_or(0)
        .div_ceil(u64::from(LIST_PAGE_SIZE))
        .min(MAX_PAGES)
}

/// Every resource of the other services' types that `scopes` asks for,
/// with its current group. Empty, without a call, when it asks for none.
async fn read(
    client: &Client,
    scopes: &BTreeMap<(String, ResourceType), ReadScope<'_>>,
) -> Result<BTreeMap<ResourceKey, Resource>, CloudError> {
    let wanted = Wanted::of(scopes);
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    resourcemanager::pace_published(client, "ListResources");
    let region = wanted.single_region();
    let mut listed = Vec::new();
    for listing in wanted.listings() {
        listed.extend(read_listing(client, &wanted, &listing, region).await?);
    }
    let mut shared = Interner::default();
    Ok(listed
        .into_iter()
        .filter_map(|item| to_resource(item, &mut shared))
        .filter(|resource| wanted.keeps(&resource.key))
        .map(|resource| (resource.key.clone(), resource))
        .collect())
}

/// The resources of one listing: its first page, then its other pages or,
/// when cheaper, the ids not seen yet one by one.
async fn read_listing(
    client: &Client,
    wanted: &Wanted<'_>,
    listing: &Listing,
    region: Option<&str>,
) -> Result<Vec<ListedResource>, CloudError> {
    let filter = ListFilter::Types {
        types: &listing.types,
        region,
    };
    let first = resourcemanager::list_resources(client, &filter, 1).await?;
    let total = first.total_count;
    let pages = pages_for(total);
    let mut found = first.resources.resource;
    if !listing.whole {
        let seen: BTreeSet<(String, String)> = found
            .iter()
            .map(|r| (r.region_id.clone(), r.resource_id.clone()))
            .collect();
        let unseen: Vec<ResourceKey> = wanted
            .id_keys(&listing.types)
            .into_iter()
            .filter(|k| !seen.contains(&(k.region.to_string(), k.id.to_string())))
            .collect();
        if by_id_is_cheaper(unseen.len(), pages.saturating_sub(1)) {
            found.extend(read_by_id(client, &unseen).await?);
            return Ok(found);
        }
    }
    let rest: Vec<Vec<ListedResource>> = stream::iter(2..=pages.max(1))
        .map(|page| {
            let filter = &filter;
            async move {
                let page = u32::try_from(page).unwrap_or(u32::MAX);
                resourcemanager::list_resources(client, filter, page)
                    .await
                    .map(|p| p.resources.resource)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    found.extend(rest.into_iter().flatten());
    if listing.complete && (found.len() as i64) < total {
        return Err(CloudError::Incomplete {
            action: "ListResources".into(),
            message: format!(
                "the listing came back with {} of the {total} resources it reported; an exclusive group's evictions need every member seen, so none are planned from a short listing (plan again)",
                found.len()
            ),
        });
    }
    Ok(found)
}

/// Each of `keys` with its own `ResourceId` call.
async fn read_by_id(
    client: &Client,
    keys: &[ResourceKey],
) -> Result<Vec<ListedResource>, CloudError> {
    let pages: Vec<Vec<ListedResource>> = stream::iter(keys)
        .map(|key| async move {
            resourcemanager::list_resources(client, &ListFilter::Id(key), 1)
                .await
                .map(|p| p.resources.resource)
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(pages.into_iter().flatten().collect())
}

/// A listed resource as the planner sees it; `None` for a type regroup
/// does not know (the service lists more than doc 94479 may have named).
fn to_resource(item: ListedResource, shared: &mut Interner) -> Option<Resource> {
    let rtype = ResourceType::from_rm(&item.service, &item.resource_type)?;
    Some(Resource {
        key: ResourceKey {
            rtype,
            region: shared.get(&item.region_id),
            id: item.resource_id.into(),
        },
        name: shared.get(""),
        group_id: shared.get(&item.resource_group_id),
        tags: crate::resource::Tags::default(),
    })
}

/// The other services' reads run beside `ecs` (the ECS types' reads),
/// their results as one: RAM denials of both are named together.
pub(super) async fn beside(
    client: &Client,
    scopes: &BTreeMap<(String, ResourceType), ReadScope<'_>>,
    ecs: impl std::future::Future<Output = Result<Vec<Resource>, CloudError>>,
) -> Result<Vec<Resource>, CloudError> {
    let (ecs, others) = futures::join!(ecs, read(client, scopes));
    match (ecs, others) {
        (Ok(mut found), Ok(others)) => {
            found.extend(others.into_values());
            Ok(found)
        }
        (Err(CloudError::PermissionsMissing(mut denials)), Err(other)) => {
            denials.push(other.denial().cloned().ok_or(other)?);
            Err(CloudError::PermissionsMissing(denials))
        }
        (Err(error), _) => Err(error),
        (Ok(_), Err(other)) => match other.denial().cloned() {
            Some(denial) => Err(CloudError::PermissionsMissing(vec![denial])),
            None => Err(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtype(name: &str) -> ResourceType {
        name.parse().expect("a known type")
    }

    fn scopes<'a>(
        items: &[(&str, &str, ReadScope<'a>)],
    ) -> BTreeMap<(String, ResourceType), ReadScope<'a>> {
        items
            .iter()
            .map(|(region, t, scope)| (((*region).to_owned(), rtype(t)), scope.clone()))
            .collect()
    }

    fn ids<'a>(list: &[&'a str]) -> ReadScope<'a> {
        ReadScope::Ids(IdSet::new(list.to_vec()))
    }

    #[test]
    fn ecs_types_are_left_to_their_describe_reads() {
        let read = scopes(&[
            ("cn-hangzhou", "instance", ReadScope::All),
            ("cn-hangzhou", "eip:eip", ids(&["eip-1"])),
        ]);
        let wanted = Wanted::of(&read);
        assert!(wanted.whole.is_empty(), "{wanted:?}");
        assert_eq!(wanted.ids.len(), 1, "{wanted:?}");
        assert!(Wanted::of(&scopes(&[("cn-hangzhou", "disk", ids(&["d-1"]))])).is_empty());
    }

    #[test]
    fn types_are_listed_fifty_a_listing_whole_where_a_rule_reads_them() {
        let all: Vec<ResourceType> = ResourceType::every()
            .filter(|t| !t.is_ecs())
            .take(120)
            .collect();
        let mut items: BTreeMap<(String, ResourceType), ReadScope> = all
            .iter()
            .map(|t| (("cn-hangzhou".to_owned(), *t), ids(&["x-1"])))
            .collect();
        items.insert(("cn-hangzhou".to_owned(), all[70]), ReadScope::Complete);
        let listings = Wanted::of(&items).listings();
        let shape: Vec<(usize, bool, bool)> = listings
            .iter()
            .map(|l| (l.types.len(), l.whole, l.complete))
            .collect();
        assert_eq!(
            shape,
            vec![(50, false, false), (50, true, true), (20, false, false)],
            "120 types in listings of 50; only the one holding a whole scope is read whole"
        );
    }

    #[test]
    fn one_region_is_filtered_on_and_several_are_kept_by_region() {
        let one_read = scopes(&[
            ("cn-hangzhou", "eip:eip", ids(&["eip-1"])),
            ("cn-hangzhou", "oss:bucket", ReadScope::All),
        ]);
        let one = Wanted::of(&one_read);
        assert_eq!(one.single_region(), Some("cn-hangzhou"));
        let two_read = scopes(&[
            ("cn-hangzhou", "eip:eip", ids(&["eip-1"])),
            ("cn-beijing", "eip:eip", ids(&["eip-2"])),
        ]);
        let two = Wanted::of(&two_read);
        assert_eq!(two.single_region(), None);
        let key = |region: &str, id: &str| ResourceKey {
            rtype: rtype("eip:eip"),
            region: region.into(),
            id: id.into(),
        };
        assert!(two.keeps(&key("cn-beijing", "eip-2")));
        assert!(
            !two.keeps(&key("cn-beijing", "eip-1")),
            "eip-1 is wanted in cn-hangzhou only"
        );
    }

    #[test]
    fn ids_are_read_one_by_one_only_when_that_is_fewer_calls() {
        // After the first page: 3 ids unseen against 9 pages left: by id.
        assert!(by_id_is_cheaper(3, 9));
        // 9 unseen against 9 pages: the listing, which also tells what is gone.
        assert!(!by_id_is_cheaper(9, 9));
        assert!(!by_id_is_cheaper(0, 0));
        assert_eq!(pages_for(0), 0);
        assert_eq!(pages_for(100), 1);
        assert_eq!(pages_for(101), 2);
        assert_eq!(pages_for(-1), 0, "`Count=false` answers -1");
    }

    #[test]
    fn listed_items_become_resources_of_known_types_only() {
        let mut shared = Interner::default();
        let item = |service: &str, t: &str| ListedResource {
            service: service.into(),
            resource_type: t.into(),
            resource_id: "eip-1".into(),
            region_id: "cn-hangzhou".into(),
            resource_group_id: "rg-1".into(),
        };
        let eip = to_resource(item("eip", "eip"), &mut shared).expect("a known type");
        assert_eq!(eip.key.to_string(), "eip:eip/eip-1 (cn-hangzhou)");
        assert_eq!(
            (&*eip.group_id, &*eip.name, eip.tags.len()),
            ("rg-1", "", 0)
        );
        assert!(to_resource(item("nosuch", "thing"), &mut shared).is_none());
    }
}
