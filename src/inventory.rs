//! Reads what the manifest touches from the account: the resource groups, and
//! the current group, name and tags of every resource that an explicit entry
//! names or a `select` rule may match. Reads are batched (id filters of the
//! largest size each API takes, pages of the largest size it allows) and all
//! independent reads run at once through the client's rate limiter.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::cloud::client::{Client, CloudError};
use crate::cloud::ecs::{self, Cursor, IdFilter, Paging, Selection, TypeApi};
use crate::cloud::resourcemanager::{self, ResourceGroup};
use crate::manifest::Manifest;
use crate::resource::{Resource, ResourceKey, ResourceType};

/// How many reads may be in flight at once; the rate limiter decides how
/// fast they go.
const READ_CONCURRENCY: usize = 16;
/// A bound on the pages of one listing, so a server that keeps handing out
/// tokens cannot keep us reading forever: 10,000 pages of 100 is a million
/// resources of one type in one region.
const MAX_PAGES: usize = 10_000;

/// What the account holds, for what the manifest touches.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub groups: Vec<ResourceGroup>,
    pub resources: BTreeMap<ResourceKey, Resource>,
}

/// What to read for one (region, type): everything, or these ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    All,
    Ids(BTreeSet<String>),
}

/// The reads a manifest needs, by (region, type). A pair that any rule
/// selects from is listed whole, and its explicit ids come from that listing
/// for free; other pairs are read by id.
pub fn scopes(manifest: &Manifest) -> BTreeMap<(String, ResourceType), ReadScope> {
    let mut scopes: BTreeMap<(String, ResourceType), ReadScope> = BTreeMap::new();
    for group in &manifest.groups {
        for rule in &group.rules {
            for region in &rule.regions {
                for rtype in &rule.types {
                    scopes.insert((region.clone(), *rtype), ReadScope::All);
                }
            }
        }
    }
    for group in &manifest.groups {
        for entry in &group.resources {
            for region in &entry.regions {
                let scope = scopes
                    .entry((region.clone(), entry.rtype))
                    .or_insert_with(|| ReadScope::Ids(BTreeSet::new()));
                if let ReadScope::Ids(ids) = scope {
                    ids.insert(entry.id.clone());
                }
            }
        }
    }
    scopes
}

/// Reads the groups and every resource in `scopes`.
pub async fn read(
    client: &Client,
    scopes: &BTreeMap<(String, ResourceType), ReadScope>,
) -> Result<Inventory, CloudError> {
    let (groups, resources) = futures::try_join!(
        resourcemanager::list_resource_groups(client),
        read_resources(client, scopes)
    )?;
    Ok(Inventory { groups, resources })
}

/// Reads back the current state of exactly these resources, by id: for the
/// stale-plan guard and for verification after apply.
pub async fn read_keys(
    client: &Client,
    keys: &[ResourceKey],
) -> Result<BTreeMap<ResourceKey, Resource>, CloudError> {
    let mut scopes: BTreeMap<(String, ResourceType), ReadScope> = BTreeMap::new();
    for key in keys {
        if let ReadScope::Ids(ids) = scopes
            .entry((key.region.clone(), key.rtype))
            .or_insert_with(|| ReadScope::Ids(BTreeSet::new()))
        {
            ids.insert(key.id.clone());
        }
    }
    read_resources(client, &scopes).await
}

/// One unit of reading, run concurrently with the others.
enum Read<'a> {
    /// Every page of one listing.
    Pages(&'a str, &'static TypeApi, Selection),
    /// Named resources of a type whose filter takes one name per call
    /// (key pairs): see [`read_names`].
    Names(&'a str, &'static TypeApi, Vec<String>),
}

async fn read_resources(
    client: &Client,
    scopes: &BTreeMap<(String, ResourceType), ReadScope>,
) -> Result<BTreeMap<ResourceKey, Resource>, CloudError> {
    let reads: Vec<Read> = scopes
        .iter()
        .flat_map(|((region, rtype), scope)| {
            let api = TypeApi::of(*rtype);
            let reads: Vec<Read> = match scope {
                ReadScope::All => vec![Read::Pages(region, api, Selection::All)],
                ReadScope::Ids(ids) if ids.len() > 1 && matches!(api.id_filter, IdFilter::Single(_)) => {
                    vec![Read::Names(region, api, ids.iter().cloned().collect())]
                }
                ReadScope::Ids(ids) => ids
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .chunks(api.id_batch())
                    .map(|chunk| Read::Pages(region, api, Selection::Ids(chunk.to_vec())))
                    .collect(),
            };
            reads
        })
        .collect();
    stream::iter(reads)
        .map(|read| async move {
            match read {
                Read::Pages(region, api, selection) => read_all_pages(client, api, region, &selection).await,
                Read::Names(region, api, names) => read_names(client, api, region, names).await,
            }
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_fold(BTreeMap::new(), |mut all, page| async move {
            all.extend(page.into_iter().map(|r| (r.key.clone(), r)));
            Ok(all)
        })
        .await
}

/// Reads several names of a type whose filter takes one name per call. The
/// first page of the whole listing says how many there are; the rest is read
/// whichever way costs fewer calls: the remaining pages, or one call per
/// name not yet seen.
async fn read_names(
    client: &Client,
    api: &'static TypeApi,
    region: &str,
    names: Vec<String>,
) -> Result<Vec<Resource>, CloudError> {
    let first = ecs::describe(client, api, region, &Selection::All, None).await?;
    let wanted: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let page_size = u64::from(api.paging.max_page());
    let pages_left = first.total_count.unwrap_or(0).div_ceil(page_size).saturating_sub(1);
    let mut found: Vec<Resource> = first
        .resources
        .into_iter()
        .filter(|r| wanted.contains(r.key.id.as_str()))
        .collect();
    let seen: BTreeSet<String> = found.iter().map(|r| r.key.id.clone()).collect();
    let unseen: Vec<String> = names.iter().filter(|n| !seen.contains(*n)).cloned().collect();
    if unseen.is_empty() || pages_left == 0 {
        return Ok(found);
    }
    let rest: Vec<Vec<Resource>> = if pages_left <= unseen.len() as u64 {
        let pages = pages_left.min(MAX_PAGES as u64) as u32;
        stream::iter(2..=pages + 1)
            .map(|number| async move {
                ecs::describe(client, api, region, &Selection::All, Some(&Cursor::Number(number)))
                    .await
                    .map(|page| page.resources)
            })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?
    } else {
        stream::iter(unseen)
            .map(|name| async move { read_all_pages(client, api, region, &Selection::Ids(vec![name])).await })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?
    };
    found.extend(rest.into_iter().flatten().filter(|r| wanted.contains(r.key.id.as_str())));
    Ok(found)
}

/// Reads every page of one listing. Numbered pages after the first are read
/// at once, since the first page says how many there are; token pages can
/// only be read one after another.
async fn read_all_pages(
    client: &Client,
    api: &'static TypeApi,
    region: &str,
    selection: &Selection,
) -> Result<Vec<Resource>, CloudError> {
    let first = ecs::describe(client, api, region, selection, None).await?;
    let mut resources = first.resources;
    match api.paging {
        Paging::Numbered { max } => {
            let total = first.total_count.unwrap_or(0);
            let pages = total.div_ceil(u64::from(max)).min(MAX_PAGES as u64) as u32;
            let rest: Vec<Vec<Resource>> = stream::iter(2..=pages)
                .map(|number| async move {
                    ecs::describe(
                        client,
                        api,
                        region,
                        selection,
                        Some(&Cursor::Number(number)),
                    )
                    .await
                    .map(|page| page.resources)
                })
                .buffer_unordered(READ_CONCURRENCY)
                .try_collect()
                .await?;
            resources.extend(rest.into_iter().flatten());
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
                let page = ecs::describe(client, api, region, selection, Some(&cursor)).await?;
                resources.extend(page.resources);
                next = page.next;
                pages += 1;
            }
        }
    }
    Ok(resources)
}
