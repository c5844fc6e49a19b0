//! `regroup show PLAN`: prints a saved plan as `plan` printed it (text,
//! markdown or JSON), offline, so that a plan kept by CI can be read before
//! it is applied.

use super::{use_color, Exit};
use crate::cli::{Global, ShowArgs};
use crate::output::Stdout;
use crate::render;

pub(super) fn run(global: &Global, args: &ShowArgs, out: &mut Stdout) -> anyhow::Result<Exit> {
    let plan = crate::planning::read_plan(&args.planfile)?;
    render::renderer(args.format, use_color(global)).write(&plan, out)?;
    Ok(Exit::Success)
}
