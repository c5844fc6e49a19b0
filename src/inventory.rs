//! Reads what the manifest touches from the account: the resource groups, and
//! the current group, name and tags of every resource that an explicit entry
//! names or a `select` rule may match. Reads are batched (id filters of the
//! largest size each API takes, pages of the largest size it allows) and all
//! independent reads run at once through the client's rate limiter.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::atomic::{AtomicBool, Ordering};

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::api::describe::{Paging, Sweep, TypeApi};
use crate::api::ram::{self, AccessDeniedDetail};
use crate::cloud::client::{Client, CloudError};
use crate::cloud::ecs::{self, Cursor, Selection};
use crate::cloud::resourcemanager;
use crate::manifest::Manifest;
use crate::resource::{Inventory, Resource, ResourceKey, ResourceType, Resources};
use crate::schedule;

mod ids;
pub mod search;
mod services;

pub use ids::IdSet;

/// How many reads (a listing, or a batch of ids, of one type in one
/// region) may be in flight at once; the rate limiter decides how fast they
/// go. Reads of different (type, region) fall in different buckets, so
/// more of them at once fill more of the quota: at 20 ms a call, 16 kept a
/// 100k by-id plan's 1,286 calls at 2.4 s, 32 at 1.5 s (docs/benchmarks.md).
const READ_CONCURRENCY: usize = 32;
/// How many pages or id batches of one read may be in flight at once. It
/// multiplies [`READ_CONCURRENCY`], so it stays where it was: 512 calls at
/// most in all.
const PAGE_CONCURRENCY: usize = 16;
/// A bound on the pages of one listing, so a server that keeps handing out
/// tokens cannot keep us reading forever: 10,000 pages of 100 is a million
/// resources of one type in one region.
const MAX_PAGES: usize = 10_000;

/// What to read for one (region, type): everything, or these ids,
/// borrowed from where they are held (the manifest, the keys read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope<'a> {
    All,
    /// Everything, and a listing that comes back with fewer items than it
    /// reported (`TotalCount`) is an error, not a smaller account: what an
    /// `exclusive` group's evictions are decided from.
    Complete,
    Ids(IdSet<'a>),
}

/// The reads a manifest needs, by (region, type). A pair that any rule
/// selects from is listed whole, and its explicit ids come from that listing
/// for free; other pairs are read by id.
pub fn scopes(manifest: &Manifest) -> BTreeMap<(String, ResourceType), ReadScope<'_>> {
    let mut scopes: BTreeMap<(String, ResourceType), ReadScope> = BTreeMap::new();
    for group in &manifest.groups {
        for rule in &group.rules {
            for region in rule.regions.iter() {
                for rtype in &rule.types {
                    scopes.insert((region.clone(), *rtype), ReadScope::All);
                }
            }
        }
    }
    let named = manifest
        .groups
        .iter()
        .flat_map(|group| &group.resources)
        .flat_map(|entry| {
            entry
                .regions
                .iter()
                .map(|region| (region.as_str(), entry.rtype, entry.id.as_str()))
        });
    for ((region, rtype), ids) in ids::by_place(named) {
        scopes
            .entry((region.to_owned(), rtype))
            .or_insert(ReadScope::Ids(ids));
    }
    // An exclusive group's members must all be seen, in every type and
    // region the manifest covers, to know which ones it does not place.
    if manifest.has_exclusive() {
        scopes
            .values_mut()
            .for_each(|scope| *scope = ReadScope::Complete);
    }
    scopes
}

/// Reads the groups and every resource in `scopes`. When RAM refuses any
/// read, the error names every read permission missing, not only the
/// first one met.
pub async fn read(
    client: &Client,
    scopes: &BTreeMap<(String, ResourceType), ReadScope<'_>>,
) -> Result<Inventory, CloudError> {
    let (groups, resources) = futures::join!(
        resourcemanager::list_resource_groups(client),
        read_resources(client, scopes)
    );
    let mut denials = Vec::new();
    let groups = match groups {
        Ok(groups) => Some(groups),
        Err(error) => {
            denials.push(error.denial().cloned().ok_or(error)?);
            None
        }
    };
    let resources = match resources {
        Ok(resources) => Some(resources),
        Err(CloudError::PermissionsMissing(more)) => {
            denials.extend(more);
            None
        }
        Err(error) => return Err(error),
    };
    match (groups, resources) {
        (Some(groups), Some(resources)) => {
            Ok(Inventory::new(groups, Resources::from_list(resources)))
        }
        _ => Err(CloudError::PermissionsMissing(denials)),
    }
}

/// Reads back the current state of exactly these resources, by id: for the
/// stale-plan guard and for verification after apply; held as an
/// inventory's resources are, one list sorted by key.
pub async fn read_keys(client: &Client, keys: &[ResourceKey]) -> Result<Resources, CloudError> {
    let scopes = ids::by_place(keys.iter().map(|key| (&*key.region, key.rtype, &*key.id)))
        .into_iter()
        .map(|((region, rtype), ids)| ((region.to_owned(), rtype), ReadScope::Ids(ids)))
        .collect();
    Ok(Resources::from_list(read_resources(client, &scopes).await?))
}

/// Whether a listing that holds fewer items than it reported may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completeness {
    AsRead,
    Complete,
}

/// One unit of reading, run concurrently with the others.
enum Read<'a> {
    /// Every page of one listing; for an API with a sweep filter, of the
    /// items with one of its values; with `Complete`, a short listing is
    /// an error.
    Pages(
        &'a str,
        &'static TypeApi,
        Selection<'a>,
        Option<&'static str>,
        Completeness,
    ),
    /// Ids best read by listing first: see [`read_ids_listing_first`].
    ListingFirst(&'a str, &'static TypeApi, &'a IdSet<'a>),
    /// Ids of an API with a sweep filter: see [`read_ids_swept`].
    Swept(&'a str, &'static TypeApi, Sweep, &'a [&'a str]),
}

impl Read<'_> {
    /// The rate limiter's bucket this read falls in.
    fn bucket(&self) -> (&'static str, String) {
        match self {
            Read::Pages(region, api, ..)
            | Read::ListingFirst(region, api, _)
            | Read::Swept(region, api, ..) => (api.action, (*region).to_owned()),
        }
    }
}

/// The ECS types' reads and the other services' (`services`), at once, in
/// no order.
async fn read_resources(
    client: &Client,
    scopes: &BTreeMap<(String, ResourceType), ReadScope<'_>>,
) -> Result<Vec<Resource>, CloudError> {
    services::beside(client, scopes, read_ecs_resources(client, scopes)).await
}

async fn read_ecs_resources(
    client: &Client,
    scopes: &BTreeMap<(String, ResourceType), ReadScope<'_>>,
) -> Result<Vec<Resource>, CloudError> {
    let reads: Vec<Read> = scopes
        .iter()
        // Other services' types are read through Resource Manager.
        .filter(|((_, rtype), _)| rtype.is_ecs())
        .flat_map(|((region, rtype), scope)| {
            let api = TypeApi::of(*rtype);
            let completeness = if *scope == ReadScope::Complete {
                Completeness::Complete
            } else {
                Completeness::AsRead
            };
            let reads: Vec<Read> = match (scope, api.sweep) {
                (ReadScope::All | ReadScope::Complete, None) => {
                    vec![Read::Pages(region, api, Selection::All, None, completeness)]
                }
                // One listing per value: together they hold every item.
                (ReadScope::All | ReadScope::Complete, Some(sweep)) => sweep
                    .values
                    .iter()
                    .map(|value| {
                        Read::Pages(region, api, Selection::All, Some(*value), completeness)
                    })
                    .collect(),
                (ReadScope::Ids(ids), Some(sweep)) => {
                    vec![Read::Swept(region, api, sweep, ids.as_slice())]
                }
                (ReadScope::Ids(ids), None)
                    if ids.len() > api.id_batch()
                        && api.paging.max_page() as usize > api.id_batch() =>
                {
                    vec![Read::ListingFirst(region, api, ids)]
                }
                (ReadScope::Ids(ids), None) => ids
                    .as_slice()
                    .chunks(api.id_batch())
                    .map(|chunk| {
                        let ids = Selection::Ids(chunk);
                        Read::Pages(region, api, ids, None, Completeness::AsRead)
                    })
                    .collect(),
            };
            reads
        })
        .collect();
    // Each (action, region) has its own limit: take turns between them.
    // After a RAM denial no new read starts: the reads not started only
    // learn whether they are refused too (see `check_skipped`).
    let denied = AtomicBool::new(false);
    // A read by id finds each of its ids once at most: room for them all
    // from the start, rather than a list grown by doubling, which holds
    // the old list and the new one at once (144 MB at 1,000,000 by id).
    let named: usize = scopes
        .iter()
        .filter(|((_, rtype), _)| rtype.is_ecs())
        .map(|(_, scope)| match scope {
            ReadScope::Ids(ids) => ids.len(),
            ReadScope::All | ReadScope::Complete => 0,
        })
        .sum();
    let (found, denials, skipped) = stream::iter(schedule::round_robin(reads, Read::bucket))
        .map(|read| {
            let denied = &denied;
            async move {
                if denied.load(Ordering::SeqCst) {
                    return Ok::<_, CloudError>(Outcome::Skipped(read));
                }
                let result = match &read {
                    Read::Pages(region, api, selection, swept, completeness) => {
                        read_all_pages(client, api, region, selection, *swept, *completeness).await
                    }
                    Read::ListingFirst(region, api, ids) => {
                        read_ids_listing_first(client, api, region, ids).await
                    }
                    Read::Swept(region, api, sweep, ids) => {
                        read_ids_swept(client, api, region, *sweep, ids).await
                    }
                };
                match result {
                    Ok(resources) => Ok(Outcome::Read(resources)),
                    Err(error) => {
                        let denial = error.denial().cloned().ok_or(error)?;
                        denied.store(true, Ordering::SeqCst);
                        Ok(Outcome::Denied(denial))
                    }
                }
            }
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_fold(
            (Vec::with_capacity(named), Vec::new(), Vec::new()),
            |(mut found, mut denials, mut skipped), outcome| async move {
                match outcome {
                    Outcome::Read(resources) => found.extend(resources),
                    Outcome::Denied(denial) => denials.push(denial),
                    Outcome::Skipped(read) => skipped.push(read),
                }
                Ok((found, denials, skipped))
            },
        )
        .await?;
    if denials.is_empty() {
        return Ok(found);
    }
    let more = check_skipped(client, skipped).await?;
    Err(CloudError::PermissionsMissing(
        denials.into_iter().chain(more).collect(),
    ))
}

/// What became of one read.
enum Outcome<'a> {
    Read(Vec<Resource>),
    Denied(AccessDeniedDetail),
    /// Not started, because another read was refused.
    Skipped(Read<'a>),
}

/// Whether RAM refuses the reads that were not started, without reading
/// them: `DryRun=true` where the API's SDK model documents it, else the
/// read's first page. One check per (region, action).
async fn check_skipped(
    client: &Client,
    skipped: Vec<Read<'_>>,
) -> Result<Vec<AccessDeniedDetail>, CloudError> {
    let mut seen = BTreeSet::new();
    let checks: Vec<(&str, &'static TypeApi, Selection<'_>)> = skipped
        .into_iter()
        .map(|read| match read {
            Read::Pages(region, api, selection, ..) => (region, api, selection),
            Read::ListingFirst(region, api, _) | Read::Swept(region, api, ..) => {
                (region, api, Selection::All)
            }
        })
        .filter(|(region, api, _)| seen.insert((*region, api.action)))
        .collect();
    let results: Vec<Result<(), CloudError>> = stream::iter(checks)
        .map(|(region, api, selection)| async move {
            if ram::documents_dry_run(api.action) {
                ecs::dry_run(client, api, region).await
            } else {
                let swept = api.sweep.and_then(|sweep| sweep.values.first().copied());
                ecs::describe(client, api, region, &selection, swept, None)
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(READ_CONCURRENCY)
        .collect()
        .await;
    let mut denials = Vec::new();
    for result in results {
        if let Err(error) = result {
            denials.push(error.denial().cloned().ok_or(error)?);
        }
    }
    Ok(denials)
}

/// Reads named resources of a type whose page holds more than one id read
/// asks for (disks and ENIs: 500 against 100; key pairs: 50 against 1) by
/// listing the whole (region, type) while that pays, then the ids not yet
/// seen by id. Dense manifests cost what the listing costs; sparse ones,
/// one call more than reading by id.
///
/// Numbered pages: the first says how many there are, so the rest of the
/// listing has a known cost; when it is no more than reading the ids not
/// yet seen by id, the rest are read at once. Token pages come one after
/// another, and listing goes on while the pages read so far held at least
/// as many of the wanted ids per page as one read by id would fetch, and
/// more than one read by id is still needed.
async fn read_ids_listing_first(
    client: &Client,
    api: &'static TypeApi,
    region: &str,
    wanted: &IdSet<'_>,
) -> Result<Vec<Resource>, CloudError> {
    let batch = api.id_batch();
    let page_size = api.paging.max_page() as usize;
    let mut found: Vec<Resource> = Vec::new();
    let keep = |found: &mut Vec<Resource>, resources: Vec<Resource>| {
        found.extend(resources.into_iter().filter(|r| wanted.contains(&r.key.id)));
    };
    let first = ecs::describe(client, api, region, &Selection::All, None, None).await?;
    let mut listed = first.resources.len();
    keep(&mut found, first.resources);
    let unseen_reads =
        |found: &[Resource]| wanted.len().saturating_sub(found.len()).div_ceil(batch);
    if let Paging::Numbered { max } = api.paging {
        let pages = numbered_pages(first.total_count.unwrap_or(0), max);
        let rest = pages.saturating_sub(1) as usize;
        if rest <= unseen_reads(&found) {
            let mut pages = pages_from(client, api, region, &Selection::All, None, pages);
            while let Some(resources) = pages.try_next().await? {
                keep(&mut found, resources);
            }
            // The whole listing is read: what was not in it does not exist.
            return Ok(found);
        }
    } else {
        let mut next = first.next;
        for _ in 1..MAX_PAGES {
            let Some(cursor) = next.take() else {
                // The whole listing is read: what was not in it does not exist.
                return Ok(found);
            };
            let listing_pays = found.len() * page_size >= batch * listed.max(1);
            if found.len() == wanted.len() || !listing_pays || unseen_reads(&found) <= 1 {
                break;
            }
            let page =
                ecs::describe(client, api, region, &Selection::All, None, Some(&cursor)).await?;
            listed += page.resources.len();
            keep(&mut found, page.resources);
            next = page.next;
        }
    }
    let seen = IdSet::new(found.iter().map(|r| &*r.key.id).collect());
    let unseen: Vec<&str> = wanted
        .as_slice()
        .iter()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    found.extend(read_by_id(client, api, region, &unseen, None).await?);
    Ok(found)
}

/// How many numbered pages of `max` hold `total` items, within the bound.
fn numbered_pages(total: u64, max: u32) -> u32 {
    total.div_ceil(u64::from(max)).min(MAX_PAGES as u64) as u32
}

/// Numbered pages 2 to `pages` of a listing, read at once, as they come.
fn pages_from<'a>(
    client: &'a Client,
    api: &'static TypeApi,
    region: &'a str,
    selection: &'a Selection<'a>,
    swept: Option<&'a str>,
    pages: u32,
) -> impl futures::Stream<Item = Result<Vec<Resource>, CloudError>> + 'a {
    stream::iter(2..=pages)
        .map(move |number| async move {
            ecs::describe(
                client,
                api,
                region,
                selection,
                swept,
                Some(&Cursor::Number(number)),
            )
            .await
            .map(|page| page.resources)
        })
        .buffer_unordered(PAGE_CONCURRENCY)
}

/// Reads named resources of an API whose sweep filter lists one value per
/// call: the ids are asked for with each value in turn, the next value only
/// for the ids not found yet. Resources in the API's default state (the
/// first value) cost what a plain read by id costs.
async fn read_ids_swept(
    client: &Client,
    api: &'static TypeApi,
    region: &str,
    sweep: Sweep,
    ids: &[&str],
) -> Result<Vec<Resource>, CloudError> {
    let mut unseen: Vec<&str> = ids.to_vec();
    let mut found = Vec::new();
    for value in sweep.values {
        if unseen.is_empty() {
            break;
        }
        let resources = read_by_id(client, api, region, &unseen, Some(value)).await?;
        let seen = IdSet::new(resources.iter().map(|r| &*r.key.id).collect());
        unseen.retain(|id| !seen.contains(id));
        found.extend(resources);
    }
    Ok(found)
}

/// Reads `ids` in batches of the most one read takes, concurrently.
async fn read_by_id(
    client: &Client,
    api: &'static TypeApi,
    region: &str,
    ids: &[&str],
    swept: Option<&str>,
) -> Result<Vec<Resource>, CloudError> {
    let pages: Vec<Vec<Resource>> = stream::iter(ids.chunks(api.id_batch()))
        .map(|chunk| async move {
            let selection = Selection::Ids(chunk);
            read_all_pages(client, api, region, &selection, swept, Completeness::AsRead).await
        })
        .buffer_unordered(PAGE_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(pages.into_iter().flatten().collect())
}

/// Reads every page of one listing. Numbered pages after the first are read
/// at once, since the first says how many there are; token pages can only
/// be read one after another.
async fn read_all_pages(
    client: &Client,
    api: &'static TypeApi,
    region: &str,
    selection: &Selection<'_>,
    swept: Option<&str>,
    completeness: Completeness,
) -> Result<Vec<Resource>, CloudError> {
    let first = ecs::describe(client, api, region, selection, swept, None).await?;
    let mut resources = first.resources;
    match api.paging {
        Paging::Numbered { max } => {
            let total = first.total_count.unwrap_or(0);
            let pages = numbered_pages(total, max);
            let mut rest = pages_from(client, api, region, selection, swept, pages);
            while let Some(page) = rest.try_next().await? {
                resources.extend(page);
            }
            if completeness == Completeness::Complete {
                if let Some(message) = short_listing(region, resources.len(), total) {
                    return Err(CloudError::Incomplete {
                        action: api.action.to_owned(),
                        message,
                    });
                }
            }
        }
        Paging::Token { .. } => {
            let mut next = first.next;
            let mut pages = 1;
            while let Some(cursor) = next {
                if pages >= MAX_PAGES {
                    return Err(CloudError::Decode {
                        action: api.action.to_owned(),
                        message: format!(
                            "more than {MAX_PAGES} pages in {region}; stopped reading"
                        ),
                    });
                }
                let page =
                    ecs::describe(client, api, region, selection, swept, Some(&cursor)).await?;
                resources.extend(page.resources);
                next = page.next;
                pages += 1;
            }
        }
    }
    Ok(resources)
}

/// Why a listing that holds fewer items than its first page reported
/// (`TotalCount`) cannot stand: pages lost, or an answer that came back
/// empty while the resources are there; `None` when it is whole. Only
/// numbered listings report a total.
fn short_listing(region: &str, read: usize, reported: u64) -> Option<String> {
    if read as u64 >= reported {
        return None;
    }
    let what = if read == 0 {
        format!("came back empty while it reported {reported} resource(s)")
    } else {
        format!("came back with {read} of the {reported} resources it reported")
    };
    Some(format!(
        "the listing in {region} {what}; an exclusive group's evictions need every member seen, so none are planned from a short listing (plan again)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resources_read_in_any_order_are_held_by_key() {
        // Read in no order, over types and regions.
        let count = 10_007;
        let resource = |n: usize| Resource {
            key: ResourceKey {
                rtype: ResourceType::ALL[n % ResourceType::ALL.len()],
                region: ["cn-hangzhou", "cn-beijing"][n % 2].into(),
                id: format!("x-{n}").into(),
            },
            name: format!("name-{n}").into(),
            group_id: "rg-a".into(),
            tags: crate::resource::Tags::default(),
        };
        // A permutation of 0..count: 7919 is prime and does not divide it.
        let read: Vec<Resource> = (0..count).map(|n| resource(n * 7919 % count)).collect();
        let held = Resources::from_list(read);
        let mut expected: Vec<Resource> = (0..count).map(resource).collect();
        expected.sort_by(|a, b| a.key.cmp(&b.key));
        assert!(
            held.values().eq(expected.iter()),
            "every resource once, in key order"
        );
        assert!(
            expected.iter().all(|r| held.get(&r.key) == Some(r)),
            "each found under its own key"
        );
        assert!(
            Resources::from_list(Vec::new()).values().next().is_none(),
            "nothing read, nothing held"
        );
    }

    #[test]
    fn a_short_or_empty_listing_is_refused_and_names_itself() {
        assert_eq!(short_listing("cn-hangzhou", 3, 3), None);
        assert_eq!(short_listing("cn-hangzhou", 0, 0), None);
        let empty = short_listing("cn-hangzhou", 0, 3).unwrap();
        assert!(
            empty.starts_with(
                "the listing in cn-hangzhou came back empty while it reported 3 resource(s)"
            ),
            "{empty}"
        );
        let short = short_listing("cn-shanghai", 2, 5).unwrap();
        assert!(
            short.contains("came back with 2 of the 5 resources it reported"),
            "{short}"
        );
    }
}
