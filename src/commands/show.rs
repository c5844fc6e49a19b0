//! `regroup show PLAN`: prints a saved plan as `plan` printed it (text,
//! markdown or JSON), offline, so that a plan kept by CI can be read before
//! it is applied.

use std::path::Path;

use anyhow::Context as _;

use super::{use_color, Exit};
use crate::bounded_read::read_at_most;
use crate::cli::{Global, ShowArgs};
use crate::output::Stdout;
use crate::plan::{Plan, MAX_PLAN_BYTES};
use crate::render;

/// A saved plan, read whole (bounded) and checked against its checksum.
pub(super) fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let bytes = read_at_most(path, MAX_PLAN_BYTES)?;
    Plan::from_json(&bytes)
        .with_context(|| format!("{} is not a plan regroup can use", path.display()))
}

pub(super) fn run(global: &Global, args: &ShowArgs, out: &mut Stdout) -> anyhow::Result<Exit> {
    let plan = read_plan(&args.planfile)?;
    render::renderer(args.format, use_color(global)).write(&plan, out)?;
    Ok(Exit::Success)
}
