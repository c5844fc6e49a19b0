//! `regroup apply`: the command line resolved, one library call
//! ([`apply::apply`]), its end as an exit code.

use super::options::{connect_options, fanout, manifest_choice, rails, use_color};
use super::{Exit, Overrides};
use crate::apply::{self, ApplyRequest, Ended, ProgressStyle};
use crate::cli::{ApplyArgs, Global};
use crate::output::Stdout;

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &ApplyArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    let request = ApplyRequest {
        connect: connect_options(global, overrides, args.rails.rate),
        manifest: manifest_choice(global),
        regions: global.regions.clone(),
        planfile: args.planfile.clone(),
        auto_approve: args.auto_approve,
        strict: args.strict,
        report: args.report.clone(),
        undo_plan: args.undo_plan.clone(),
        rails: rails(&args.rails, ProgressStyle::detect()),
        color: use_color(global),
        fanout: fanout(&args.accounts, args.rails.rate),
    };
    let applied = apply::apply(&request, out).await?;
    // Said after the summary: the moves were made, the record was not.
    for failure in &applied.unwritten {
        super::report_error(failure);
    }
    Ok(match applied.ended {
        Ended::Success => Exit::Success,
        Ended::Failure => Exit::Failure,
        Ended::Interrupted => Exit::Interrupted,
    })
}
