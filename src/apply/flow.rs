//! `regroup apply` from start to end, as one call: the local input checked
//! first, then plan (or take a saved plan), show, ask, move, verify, and
//! write the records; [`apply_plan`] is the part `reconcile` shares.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;

use super::accounts::run_accounts;
use super::conflicts::skip_conflicts;
use super::interrupts::Interrupts;
use super::records;
use super::report::Report;
use super::request::{Applied, ApplyRequest, Ended, Rails};
use super::run::run;
use super::saved;
use super::stale::check_stale;
use crate::api::describe::TypeApi;
use crate::cloud::client::Client;
use crate::cloud::{connect, quotas};
use crate::inventory;
use crate::manifest::Manifest;
use crate::output::Stdout;
use crate::plan::{AccountStatus, Change, Plan};
use crate::planning::{self, check_max_changes, make_plan, strict};
use crate::render::{self, Render};
use crate::resource::ResourceType;

/// Where the plan comes from.
pub(super) enum Source {
    /// A saved plan, with the manifest to check it against when there is
    /// one.
    Saved(Box<Plan>, Option<Manifest>),
    /// With the warnings about `--region` options it does not read.
    Manifest(Manifest, Vec<String>),
}

/// Runs one `regroup apply`: every way it ends comes back as [`Applied`],
/// with a complete report written when moves were started.
pub async fn apply(request: &ApplyRequest, out: &mut Stdout) -> anyhow::Result<Applied> {
    // Local input first, so that a bad manifest or plan file is reported as
    // such, whatever the state of the credentials.
    let source = local_source(request, out)?;
    records::check_paths(request)?;
    let client = connect::client(&request.connect).await?;
    if source.spans_accounts() {
        return super::accounts::apply_across(request, source, client, out).await;
    }
    let pacing = pace_alongside(&client, &source);
    // Changes left out, each with why: an undo plan's resources that moved
    // since it was written, and moves against an auto-grouping rule.
    let mut skipped = Vec::new();
    // Undo changes already undone (an undo plan applied twice): nothing to
    // do for them, and no failure.
    let mut already_back = 0;
    let plan = match source {
        Source::Saved(plan, _) if plan.undo => {
            let (plan, back) = saved::settle_undo(&client, *plan, &mut skipped, out).await?;
            already_back = back;
            check_max_changes(&plan, request.rails.max_changes, None)?;
            plan
        }
        Source::Saved(plan, manifest) => {
            check_stale(&client, &plan).await?;
            let plan = match &manifest {
                Some(manifest) => saved::recheck_against_manifest(&client, *plan, manifest).await?,
                None => *plan,
            };
            check_max_changes(&plan, request.rails.max_changes, manifest.as_ref())?;
            strict::check(&plan, request.strict)?;
            // What is about to move, before it moves.
            if plan.has_changes() {
                show_plan(&plan, request.color, out);
            }
            plan
        }
        Source::Manifest(manifest, region_warnings) => {
            let plan = make_plan(&client, &manifest, request.rails.ignore_missing).await?;
            let plan = strict::with_warnings(plan, region_warnings);
            if !review(&plan, &manifest, request, out)? {
                return Ok(Applied::just(Ended::Failure));
            }
            plan
        }
    };
    if !plan.has_changes() && skipped.is_empty() {
        if request.planfile.is_some() {
            writeln!(out, "{}", render::summary_line(&plan))?;
        }
        return Ok(Applied::just(Ended::Success));
    }
    let _ = pacing.await;
    let interrupts = Interrupts::watch(client.clone());
    let (plan, report) = apply_plan(
        Movers::Account(&client),
        plan,
        &request.rails,
        skipped,
        &interrupts,
        out,
    )
    .await?;
    finish(&report, &plan, request, already_back, out)
}

/// Writes the records of a run that made moves, prints its summary, and
/// says how it ended.
pub(super) fn finish(
    report: &Report,
    plan: &Plan,
    request: &ApplyRequest,
    already_back: usize,
    out: &mut Stdout,
) -> anyhow::Result<Applied> {
    let written = records::write(report, plan, request)?;
    let mut printed = write!(out, "\n{}", report.summary());
    if let Some((path, count)) = &written.undo {
        printed = printed.and_then(|()| {
            writeln!(
                out,
                "Saved the undo plan to {}: `regroup apply {}` moves the {count} resource(s) moved here back.",
                path.display(),
                path.display(),
            )
        });
    }
    if let Err(error) = printed.and_then(|()| out.flush()) {
        tracing::warn!("could not print the summary: {error}");
    }
    tracing::info!(stats = ?report.calls, "apply finished");
    let ended = if report.interrupted {
        Ended::Interrupted
    } else if report.succeeded_but(already_back) && written.failures.is_empty() {
        Ended::Success
    } else {
        Ended::Failure
    };
    Ok(Applied {
        ended,
        unwritten: written.failures,
    })
}

/// Where a plan's joins are made.
#[derive(Clone, Copy)]
pub enum Movers<'a> {
    /// In the client's own account.
    Account(&'a Client),
    /// In each member of a plan over accounts, with its client, several
    /// accounts at once; `base` is the run's own client.
    Members {
        base: &'a Client,
        clients: &'a [(AccountStatus, Client)],
    },
}

/// Applies a plan that passed its guards: the moves an auto-grouping rule
/// would undo left out (or not, with `--override-rules`), the rest run
/// under the rails by `movers`, and every change left out reported
/// `not_started` with why. Returns the plan as run and its report.
pub async fn apply_plan(
    movers: Movers<'_>,
    plan: Plan,
    rails: &Rails,
    mut skipped: Vec<(Change, String)>,
    interrupts: &Interrupts,
    out: &mut impl Write,
) -> anyhow::Result<(Plan, Report)> {
    let plan = skip_conflicts(plan, rails.override_rules, &mut skipped, out)?;
    // What was printed so far is the plan; the progress that follows goes
    // to stderr, so stdout is flushed now to keep the two in order.
    if let Err(error) = out.flush() {
        tracing::warn!("could not print the plan: {error}");
    }
    let mut report = match movers {
        Movers::Account(client) => run(client, &plan, &rails.run, interrupts).await,
        Movers::Members { base, clients } => {
            run_accounts(base, &plan, clients, &rails.run, interrupts).await
        }
    };
    for (change, why) in skipped {
        report.add_not_started(change, why);
    }
    Ok((plan, report))
}

/// Quota discovery for the regions of `plan`'s changes, waited for:
/// before the first join of a run that did not discover them alongside
/// its plan (each account of a run over several, a `reconcile` run).
pub async fn pace_under_quotas(client: &Client, plan: &Plan) {
    quotas::pace(client, &paced_actions(), &regions_of(plan)).await;
}

/// The regions `plan`'s changes are in.
fn regions_of(plan: &Plan) -> BTreeSet<String> {
    plan.changes
        .iter()
        .map(|c| c.resource.region.to_string())
        .collect()
}

/// The saved plan (announced) or the manifest, read before any call.
fn local_source(request: &ApplyRequest, out: &mut Stdout) -> anyhow::Result<Source> {
    let Some(path) = &request.planfile else {
        let (manifest, warnings) =
            planning::load_manifest_noting(&request.manifest.path, &request.regions)?;
        if manifest.accounts.is_none() {
            planning::accounts::refuse_fanout(&manifest, &request.fanout)?;
        }
        return Ok(Source::Manifest(manifest, warnings));
    };
    if !request.fanout.only.is_empty() || request.fanout.shard.is_some() {
        bail!("--account and --shard choose the accounts to plan; a saved plan is applied to the accounts it was planned for (plan again with them)");
    }
    let (plan, manifest) = saved::load_saved_plan(path, &request.manifest, &request.regions)?;
    saved::check_saved_regions(&plan, &request.regions)?;
    if plan.undo {
        writeln!(
            out,
            "Applying the undo plan {}: it moves resources back to where an apply found them, as saved; a resource moved since is left where it is.",
            path.display()
        )?;
    } else if manifest.is_none() {
        writeln!(
            out,
            "Applying {} as saved: there is no {} to check its changes against (pass -f MANIFEST to check them).",
            path.display(),
            plan.manifest.file
        )?;
    }
    Ok(Source::Saved(Box::new(plan), manifest))
}

/// Quota discovery, run alongside the plan's reads (paced adaptively until
/// it answers) and waited for before the first join.
fn pace_alongside(client: &Client, source: &Source) -> tokio::task::JoinHandle<()> {
    let regions = match source {
        Source::Saved(plan, _) => regions_of(plan),
        Source::Manifest(manifest, _) => inventory::scopes(manifest)
            .into_keys()
            .map(|(region, _)| region)
            .collect(),
    };
    let actions = paced_actions();
    tokio::spawn({
        let client = client.clone();
        async move { quotas::pace(&client, &actions, &regions).await }
    })
}

/// The actions an apply calls whose quotas discovery looks up: the join
/// and the reads of its read-back.
fn paced_actions() -> BTreeSet<&'static str> {
    std::iter::once("JoinResourceGroup")
        .chain(ResourceType::ALL.iter().map(|t| TypeApi::of(*t).action))
        .collect()
}

/// A fresh plan shown, held to its guards and approved: whether to go
/// on (`false`: the person did not approve, which is said).
pub(super) fn review(
    plan: &Plan,
    manifest: &Manifest,
    request: &ApplyRequest,
    out: &mut Stdout,
) -> anyhow::Result<bool> {
    show_plan(plan, request.color, out);
    check_max_changes(plan, request.rails.max_changes, Some(manifest))?;
    strict::check(plan, request.strict)?;
    if plan.has_changes() && !request.auto_approve && !approve(out)? {
        writeln!(out, "\nApply cancelled.")?;
        return Ok(false);
    }
    Ok(true)
}

/// Prints the plan as text. Showing it is for a person; a closed stdout in
/// a pipeline (`--auto-approve | head`) does not cancel the apply that was
/// asked for, whose report and exit code still count.
pub(super) fn show_plan(plan: &Plan, color: bool, out: &mut Stdout) {
    if let Err(error) = (render::Text { color }).write(plan, out) {
        tracing::warn!("could not print the plan: {error}");
    }
}

/// Asks as Terraform does; only `yes` approves.
fn approve(out: &mut Stdout) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("apply needs approval, but stdin is not a terminal; pass --auto-approve to apply without asking");
    }
    write!(
        out,
        "\nDo you want to perform these actions?\n  regroup will move the resources shown above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    )?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

impl Source {
    /// Whether the plan is one over the members of a Resource Directory.
    fn spans_accounts(&self) -> bool {
        match self {
            Source::Saved(plan, _) => !plan.accounts.is_empty(),
            Source::Manifest(manifest, _) => manifest.accounts.is_some(),
        }
    }
}
