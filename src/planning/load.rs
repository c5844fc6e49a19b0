//! The manifest as a run reads it: every region it names and every
//! `--region` checked to be a real one, and the manifest limited to the
//! `--region`s given.

use std::collections::HashSet;
use std::path::Path;

use super::strict;
use crate::api::regions;
use crate::manifest::Manifest;

/// The manifest at `path`, limited to `limit` (the `--region`s; empty for
/// every region).
pub fn load_manifest(path: &Path, limit: &[String]) -> anyhow::Result<Manifest> {
    Ok(load_manifest_noting(path, limit)?.0)
}

/// The manifest limited to `limit`, and a warning for each region of it
/// that the manifest does not read.
pub fn load_manifest_noting(
    path: &Path,
    limit: &[String],
) -> anyhow::Result<(Manifest, Vec<String>)> {
    check_region_options(limit)?;
    let mut manifest = Manifest::load(path)?;
    check_manifest_regions(&manifest)?;
    let unused = strict::unused_region_options(limit, &manifest);
    manifest.limit_to_regions(limit);
    Ok((manifest, unused))
}

/// Every `--region` must be a real region: a typo would read nothing and
/// report `No changes`.
pub fn check_region_options(limit: &[String]) -> anyhow::Result<()> {
    for region in limit {
        regions::check(region).map_err(|problem| anyhow::anyhow!("--region: {problem}"))?;
    }
    Ok(())
}

/// Every region the manifest names, for the same reason, with the first
/// place that uses it.
fn check_manifest_regions(manifest: &Manifest) -> anyhow::Result<()> {
    let uses = manifest.groups.iter().flat_map(|group| {
        let entries = group.resources.iter().map(|e| (&e.regions, &e.location));
        let rules = group.rules.iter().map(|r| (&r.regions, &r.location));
        entries.chain(rules)
    });
    let mut checked = HashSet::new();
    for (list, location) in uses {
        for region in list.iter().filter(|r| checked.insert(r.as_str())) {
            regions::check(region)
                .map_err(|problem| anyhow::anyhow!("{location}: this entry's region {problem}"))?;
        }
    }
    Ok(())
}
