//! The plans of a fleet's shards read and merged (`regroup merge`): each
//! file read as `apply` reads a saved plan (bounded, its format version
//! and checksum checked, an error naming the file), then `plan::merge`.

use std::path::PathBuf;

use crate::plan::{self, Plan, Shard};

/// The plans saved at `paths`, merged in that order.
pub fn read_and_merge(paths: &[PathBuf]) -> anyhow::Result<Plan> {
    let shards = paths
        .iter()
        .map(|path| {
            Ok(Shard {
                file: path.display().to_string(),
                plan: super::read_plan(path)?,
            })
        })
        .collect::<anyhow::Result<Vec<Shard>>>()?;
    Ok(plan::merge(shards)?)
}
