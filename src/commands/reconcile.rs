//! `regroup reconcile`: the command line resolved, one library call
//! ([`reconcile::reconcile`]), its end as an exit code.

use super::options::{connect_options, fanout, rails};
use super::{Exit, Overrides};
use crate::apply::ProgressStyle;
use crate::cli::{Global, ReconcileArgs, ReconcileMode};
use crate::output::Stdout;
use crate::reconcile::{self, Mode, ReconcileOptions};

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &ReconcileArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    let options = ReconcileOptions {
        manifest: global.manifest_path(),
        regions: global.regions.clone(),
        connect: connect_options(global, overrides, args.rails.rate),
        interval: args.interval,
        mode: match args.mode {
            ReconcileMode::Detect => Mode::Detect,
            ReconcileMode::Correct => Mode::Correct,
        },
        metrics_listen: args.metrics_listen,
        metrics_public: args.metrics_public,
        report_dir: args.report_dir.clone(),
        runs: args.runs,
        rails: rails(&args.rails, ProgressStyle::Lines),
        fanout: fanout(&args.accounts, args.rails.rate),
    };
    Ok(if reconcile::reconcile(&options, out).await? {
        Exit::Success
    } else {
        Exit::Failure
    })
}
