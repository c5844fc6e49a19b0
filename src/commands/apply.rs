//! `regroup apply`: plan (or load a saved plan), ask, move, verify, report.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context as _};

use super::{
    check_max_changes, client, load_manifest, load_manifest_noting, make_plan, strict, use_color,
    Exit, Overrides,
};
use crate::api::describe::TypeApi;
use crate::apply::{self, ApplyOptions, Interrupts, ProgressStyle};
use crate::atomic_file;
use crate::cli::{ApplyArgs, Global, DEFAULT_MANIFEST};
use crate::cloud::client::Client;
use crate::cloud::quotas;
use crate::cloud::resourcemanager;
use crate::inventory;
use crate::manifest::Manifest;
use crate::output::Stdout;
use crate::plan::{Change, Plan, PlanOptions};
use crate::render::{self, Render};
use crate::resource::{Inventory, Resource, ResourceKey, ResourceType};

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &ApplyArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    // Local input first, so that a bad manifest or plan file is reported as
    // such, whatever the state of the credentials.
    enum Source {
        /// A saved plan, with the manifest to check it against when there
        /// is one.
        Saved(Box<Plan>, Option<Manifest>),
        /// With the warnings about `--region` options it does not read.
        Manifest(Manifest, Vec<String>),
    }
    let source = match &args.planfile {
        Some(path) => {
            let (plan, manifest) = load_saved_plan(path, global)?;
            if plan.undo {
                writeln!(
                    out,
                    "Applying the undo plan {}: it moves resources back to where an apply found them, as saved; a resource moved since is left where it is.",
                    path.display()
                )?;
            } else if manifest.is_none() {
                writeln!(
                    out,
                    "Applying {} as saved: there is no {DEFAULT_MANIFEST} to check its changes against (pass -f MANIFEST to check them).",
                    path.display()
                )?;
            }
            Source::Saved(Box::new(plan), manifest)
        }
        None => {
            let (manifest, region_warnings) = load_manifest_noting(global)?;
            Source::Manifest(manifest, region_warnings)
        }
    };
    for path in [&args.report, &args.undo_plan].into_iter().flatten() {
        check_output_path(path, global, args)?;
    }
    let client = client(global, overrides, args.rate).await?;
    // Quotas first, so that the plan's reads are paced too.
    let regions = match &source {
        Source::Saved(plan, _) => plan
            .changes
            .iter()
            .map(|c| c.resource.region.to_string())
            .collect(),
        Source::Manifest(manifest, _) => inventory::scopes(manifest)
            .into_keys()
            .map(|(region, _)| region)
            .collect(),
    };
    let actions = std::iter::once("JoinResourceGroup")
        .chain(ResourceType::ALL.iter().map(|t| TypeApi::of(*t).action))
        .collect();
    quotas::pace(&client, &actions, &regions).await;
    // An undo plan's resources that moved since it was written: left where
    // they are, and reported.
    let mut stale = Vec::new();
    let plan = match source {
        Source::Saved(mut plan, _) if plan.undo => {
            let (_, drifts) = apply::find_drift(&client, &plan).await?;
            for drift in drifts {
                if let Some(at) = plan
                    .changes
                    .iter()
                    .position(|c| c.resource == drift.resource)
                {
                    let change = plan.changes.remove(at);
                    let why = format!(
                        "stale, not moved back: {}",
                        apply::describe_drift(&drift).trim_start()
                    );
                    writeln!(out, "  {why}")?;
                    stale.push((change, why));
                }
            }
            check_max_changes(&plan, args.max_changes, None)?;
            *plan
        }
        Source::Saved(plan, manifest) => {
            let current = apply::check_stale(&client, &plan).await?;
            if let Some(manifest) = &manifest {
                check_against_manifest(&client, &plan, manifest, current).await?;
            }
            check_max_changes(&plan, args.max_changes, manifest.as_ref())?;
            strict::check(&plan, args.strict)?;
            // What is about to move, before it moves.
            if plan.has_changes() {
                show_plan(&plan, global, out);
            }
            *plan
        }
        Source::Manifest(manifest, region_warnings) => {
            let plan = make_plan(&client, &manifest, args.ignore_missing).await?;
            let plan = strict::with_warnings(plan, region_warnings);
            show_plan(&plan, global, out);
            check_max_changes(&plan, args.max_changes, Some(&manifest))?;
            strict::check(&plan, args.strict)?;
            if plan.has_changes() && !args.auto_approve && !approve(out)? {
                writeln!(out, "\nApply cancelled.")?;
                return Ok(Exit::Failure);
            }
            plan
        }
    };
    if !plan.has_changes() {
        if args.planfile.is_some() {
            writeln!(out, "{}", render::summary_line(&plan))?;
        }
        return Ok(if stale.is_empty() {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    let plan = skip_conflicts(plan, args.override_rules, &mut stale, out)?;
    // What was printed so far is the plan; the progress that follows goes
    // to stderr, so stdout is flushed now to keep the two in order.
    if let Err(error) = out.flush() {
        tracing::warn!("could not print the plan: {error}");
    }
    let interrupts = Interrupts::watch(client.clone());
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        progress: ProgressStyle::detect(),
        max_errors: args.max_errors.map(|n| n as usize),
        canary: args.canary.map(|n| n as usize),
    };
    // Every way the run can end comes back here with a complete report.
    let mut report = apply::run(&client, &plan, &options, &interrupts).await;
    for (change, why) in stale {
        report.add_not_started(change, why);
    }
    // The records first: moves were made, so neither a closed stdout nor a
    // full disk may cost them or turn a failed run into exit 0. The undo
    // plan before the report: of the two, it matters most when something
    // went wrong.
    let undo = args.undo_plan.as_ref().map(|path| {
        let undo = report.undo_plan(&plan);
        atomic_file::write(path, |file| render::Json.write(&undo, file))
            .with_context(|| format!("could not write the undo plan {}", path.display()))
            .map(|()| (path, undo.changes.len()))
    });
    let saved = args.report.as_ref().map(|path| {
        atomic_file::write(path, |file| {
            Ok(serde_json::to_writer_pretty(file, &report)?)
        })
        .with_context(|| format!("could not write the report {}", path.display()))
    });
    let mut printed = write!(out, "\n{}", report.summary());
    if let Some(Ok((path, count))) = &undo {
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
    let exit = if report.interrupted {
        Exit::Interrupted
    } else if report.succeeded() {
        Exit::Success
    } else {
        Exit::Failure
    };
    let mut written = true;
    for failure in [undo.and_then(Result::err), saved.and_then(Result::err)]
        .into_iter()
        .flatten()
    {
        super::report_error(&failure);
        written = false;
    }
    Ok(if exit == Exit::Success && !written {
        Exit::Failure
    } else {
        exit
    })
}

/// Takes out the moves an auto-grouping rule would undo, to be reported
/// `not_started` (the manifest cannot hold while the rule stands), or with
/// `--override-rules` keeps them and warns.
fn skip_conflicts(
    mut plan: Plan,
    override_rules: bool,
    skipped: &mut Vec<(Change, String)>,
    out: &mut Stdout,
) -> anyhow::Result<Plan> {
    let conflicting = plan.changes.iter().filter(|c| c.conflict.is_some()).count();
    if conflicting == 0 {
        return Ok(plan);
    }
    if override_rules {
        writeln!(
            out,
            "\nWarning: --override-rules: moving {conflicting} resource(s) against an auto-grouping rule, which may move them back"
        )?;
        return Ok(plan);
    }
    let (against, kept) = std::mem::take(&mut plan.changes)
        .into_iter()
        .partition(|c| c.conflict.is_some());
    plan.changes = kept;
    for change in against {
        let rule = change
            .conflict
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let why =
            format!("skipped: {rule} would move it back (pass --override-rules to move it anyway)");
        writeln!(out, "  {}: {why}", change.resource)?;
        skipped.push((change, why));
    }
    Ok(plan)
}

/// Checks `--report` and `--undo-plan` before the first call, so that a
/// bad path is not found after the moves: each must be writable, and
/// neither the manifest nor the plan being applied, nor the other.
fn check_output_path(path: &Path, global: &Global, args: &ApplyArgs) -> anyhow::Result<()> {
    atomic_file::check_target(path)?;
    if args.report.is_some() && args.report == args.undo_plan {
        bail!(
            "--report and --undo-plan name the same file, {}",
            path.display()
        );
    }
    atomic_file::check_not_input(path, &global.file, "the manifest")?;
    if let Some(plan) = &args.planfile {
        atomic_file::check_not_input(path, plan, "the plan being applied")?;
    }
    Ok(())
}

/// Reads a saved plan, and the manifest it must have been planned from:
/// `None` only when `-f` names no file and there is no `regroup.yaml`.
/// Prints the plan as text. Showing it is for a person; a closed stdout in
/// a pipeline (`--auto-approve | head`) does not cancel the apply that was
/// asked for, whose report and exit code still count.
fn show_plan(plan: &Plan, global: &Global, out: &mut Stdout) {
    let shown = render::Text {
        color: use_color(global),
    }
    .write(plan, out);
    if let Err(error) = shown {
        tracing::warn!("could not print the plan: {error}");
    }
}

fn load_saved_plan(path: &Path, global: &Global) -> anyhow::Result<(Plan, Option<Manifest>)> {
    let plan = super::show::read_plan(path)
        .with_context(|| format!("{} cannot be applied", path.display()))?;
    // An undo plan moves resources against the manifest by design.
    if plan.undo || (global.file == Path::new(DEFAULT_MANIFEST) && !global.file.exists()) {
        return Ok((plan, None));
    }
    let manifest = load_manifest(global)?;
    if manifest.sha256 != plan.manifest.sha256 {
        bail!(
            "{} was planned from another version of {} (sha256 {} then, {} now); plan again",
            path.display(),
            global.file.display(),
            plan.manifest
                .sha256
                .get(..12)
                .unwrap_or(&plan.manifest.sha256),
            manifest.sha256.get(..12).unwrap_or(&manifest.sha256)
        );
    }
    Ok((plan, Some(manifest)))
}

/// Re-derives the plan from the manifest against the state the stale guard
/// read (`current`, the planned resources) and the account's groups, and
/// refuses saved changes that the manifest does not ask for: the plan's
/// checksum proves it intact, not that the manifest made it.
async fn check_against_manifest(
    client: &Client,
    plan: &Plan,
    manifest: &Manifest,
    current: BTreeMap<ResourceKey, Resource>,
) -> anyhow::Result<()> {
    let groups = resourcemanager::list_resource_groups(client)
        .await
        .context("could not read the resource groups to check the plan")?;
    let inventory = Inventory {
        groups,
        resources: current,
    };
    // Only the planned resources were read: explicit entries for the others
    // are not missing, just not looked at.
    let options = PlanOptions {
        ignore_missing: true,
    };
    let fresh = crate::plan::plan(manifest, &inventory, options, chrono::Utc::now())
        .context("could not check the plan against the manifest")?;
    crate::plan::check_saved_against(plan, &fresh)?;
    Ok(())
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
