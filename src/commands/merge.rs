//! `regroup merge FILE…`: the plans of a fleet's shards combined into one
//! (`planning::merge`), printed as `plan` prints a plan and optionally
//! saved; offline.

use anyhow::Context as _;

use super::{use_color, Exit};
use crate::atomic_file;
use crate::cli::{Global, MergeArgs};
use crate::output::Stdout;
use crate::render::{self, Render};

pub(super) fn run(global: &Global, args: &MergeArgs, out: &mut Stdout) -> anyhow::Result<Exit> {
    if let Some(path) = &args.out {
        atomic_file::check_target(path)?;
        for input in &args.files {
            atomic_file::check_not_input(path, input, "a plan being merged")?;
        }
    }
    let merged = crate::planning::merge::read_and_merge(&args.files)?;
    render::renderer(args.format, use_color(global)).write(&merged, out)?;
    if let Some(path) = &args.out {
        atomic_file::write(path, |file| render::Json.write(&merged, file))
            .with_context(|| format!("could not save the merged plan to {}", path.display()))?;
    }
    Ok(Exit::Success)
}
