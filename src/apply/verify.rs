//! Verification during a run: the changes whose join succeeded are read back
//! in batches while further joins go on, so that a change is known to be
//! `moved` as soon as a read finds it in its target group, and a run whose
//! credentials or endpoint die later keeps what it had verified. The final
//! read-back (`read_back`) then covers only what is not verified yet.
//!
//! A batch is read when one (region, type) holds as many landed changes as
//! one read by id takes, so the reads cost what the final read-back would
//! have cost for the same ids: never one call per change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::api::describe::TypeApi;
use crate::cloud::client::Client;
use crate::inventory;
use crate::plan::Change;
use crate::resource::{ResourceKey, ResourceType};

/// How many landed changes of a type make a batch read during the run, or
/// `None` when such reads would cost more than the final read-back: a type
/// read one id per call, a type read by sweeping a filter's values, or one
/// whose pages hold more than one read by id asks for (the final read-back
/// lists those first, which covers many ids per call).
fn batch_size(api: &TypeApi) -> Option<usize> {
    let batch = api.id_batch();
    let listing_pays = api.paging.max_page() as usize > batch;
    (batch > 1 && api.sweep.is_none() && !listing_pays).then_some(batch)
}

/// The landed changes waiting for a read, by (region, type).
#[derive(Default)]
pub(super) struct Batches {
    waiting: BTreeMap<(Arc<str>, ResourceType), Vec<Change>>,
}

impl Batches {
    /// Adds a change whose join succeeded; returns a batch to read once its
    /// (region, type) holds as many as one read takes.
    pub(super) fn add(&mut self, change: Change) -> Option<Vec<Change>> {
        let key = &change.resource;
        // Other services' types are read back by the final read-back.
        if !key.rtype.is_ecs() {
            return None;
        }
        let size = batch_size(TypeApi::of(key.rtype))?;
        let scope = (key.region.clone(), key.rtype);
        let waiting = self.waiting.entry(scope.clone()).or_default();
        waiting.push(change);
        if waiting.len() < size {
            return None;
        }
        self.waiting.remove(&scope)
    }
}

/// Reads back one batch: the resources found in their target group. A read
/// that fails verifies nothing; the final read-back tries them again.
async fn read_batch(client: &Client, batch: Vec<Change>) -> Vec<ResourceKey> {
    let keys: Vec<ResourceKey> = batch.iter().map(|c| c.resource.clone()).collect();
    match inventory::read_keys(client, &keys).await {
        Ok(current) => batch
            .into_iter()
            .filter(|c| {
                current
                    .get(&c.resource)
                    .is_some_and(|r| c.to.holds(&r.group_id))
            })
            .map(|c| c.resource)
            .collect(),
        Err(error) => {
            tracing::debug!(error = %format!("{error:#}"), "read-back during the run failed");
            Vec::new()
        }
    }
}

/// Reads back the changes that arrive on `landed` (those whose join
/// succeeded) in batches, several at once, and adds to `verified` each one
/// found in its target group, until `landed` closes and the reads started
/// are done. The ids left in unfilled batches are for the final read-back.
pub(super) async fn verify_as_landed(
    client: &Client,
    mut landed: UnboundedReceiver<Change>,
    verified: &mut BTreeSet<ResourceKey>,
) {
    let mut batches = Batches::default();
    let mut reads = FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            next = landed.recv(), if open => match next {
                Some(change) => {
                    if let Some(batch) = batches.add(change) {
                        reads.push(read_batch(client, batch));
                    }
                }
                None => open = false,
            },
            Some(found) = reads.next(), if !reads.is_empty() => verified.extend(found),
            else => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(rtype: ResourceType, region: &str, n: usize) -> Change {
        super::super::tests::change(rtype, region, &format!("r-{n}"), "rg-from", "rg-to")
    }

    #[test]
    fn a_batch_is_one_full_read_by_id_of_one_region_and_type() {
        // DescribeInstances takes 100 ids a call (TypeApi's InstanceIds).
        let mut batches = Batches::default();
        let mut ready = Vec::new();
        for n in 0..250 {
            for region in ["cn-hangzhou", "cn-beijing"] {
                if let Some(batch) = batches.add(change(ResourceType::Instance, region, n)) {
                    ready.push(batch);
                }
            }
        }
        let sizes: Vec<(usize, String)> = ready
            .iter()
            .map(|b| (b.len(), b[0].resource.region.to_string()))
            .collect();
        assert_eq!(
            sizes,
            vec![
                (100, "cn-hangzhou".to_owned()),
                (100, "cn-beijing".to_owned()),
                (100, "cn-hangzhou".to_owned()),
                (100, "cn-beijing".to_owned()),
            ],
            "two full batches per region, the 50 left over wait for the final read-back"
        );
        for batch in &ready {
            let region = &batch[0].resource.region;
            assert!(
                batch.iter().all(|c| &c.resource.region == region),
                "a batch holds one region"
            );
        }
    }

    #[test]
    fn types_read_one_id_a_call_or_listed_first_wait_for_the_final_read_back() {
        // Key pairs: one KeyPairName a call; disks: pages of 500 against 100
        // ids, which the final read-back lists first.
        let mut batches = Batches::default();
        for n in 0..500 {
            for rtype in [ResourceType::KeyPair, ResourceType::Disk] {
                assert!(
                    batches.add(change(rtype, "cn-hangzhou", n)).is_none(),
                    "{rtype:?} is never read during the run"
                );
            }
        }
    }
}
