//! The plans of a fleet's shards read and merged (`regroup merge`): each
//! file read as `apply` reads a saved plan (bounded, its format version
//! and checksum checked, an error naming the file), then `plan::merge`.

use std::path::PathBuf;

use crate::plan::{self, Plan, ShardPlan};

/// The plans saved at `paths`, merged in that order.
pub fn read_and_merge(paths: &[PathBuf]) -> anyhow::Result<Plan> {
    let shards = paths
        .iter()
        .map(|path| {
            Ok(ShardPlan {
                file: path.display().to_string(),
                plan: super::read_plan(path)?,
            })
        })
        .collect::<anyhow::Result<Vec<ShardPlan>>>()?;
    Ok(plan::merge(shards)?)
}
