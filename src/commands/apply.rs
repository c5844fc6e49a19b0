//! `regroup apply`: plan (or load a saved plan), ask, move, verify, report.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::{
    apply_options, check_max_changes, client, load_manifest, load_manifest_noting, make_plan,
    strict, use_color, Exit, Overrides,
};
use crate::api::describe::TypeApi;
use crate::apply::{self, Interrupts, ProgressStyle};
use crate::atomic_file;
use crate::bounded_read::read_at_most;
use crate::cli::{ApplyArgs, Global};
use crate::cloud::client::Client;
use crate::cloud::quotas;
use crate::inventory;
use crate::manifest::Manifest;
use crate::output::Stdout;
use crate::plan::{Change, Plan, ReportRef};
use crate::render::{self, Render};
use crate::resource::ResourceType;

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
            check_saved_regions(&plan, &global.regions)?;
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
    if args.undo_plan.is_some() && args.report.is_none() {
        bail!("--undo-plan needs --report: an undo plan is bound to the report of the moves it undoes, and is applied only beside it");
    }
    let client = client(global, overrides, args.rails.rate).await?;
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
    // Discovery runs alongside the plan's reads (paced adaptively until it
    // answers) and is waited for before the first join.
    let pacing = tokio::spawn({
        let client = client.clone();
        async move { quotas::pace(&client, &actions, &regions).await }
    });
    // An undo plan's resources that moved since it was written: left where
    // they are, and reported.
    let mut stale = Vec::new();
    // Undo changes already undone (an undo plan applied twice): nothing
    // to do for them, and no failure.
    let mut already_back = 0;
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
                    let why = match &drift.now_in {
                        Some(group) if change.to.holds(group) => {
                            already_back += 1;
                            format!(
                                "{}: already back in {}, nothing to undo",
                                change.resource, change.to.id
                            )
                        }
                        _ => format!(
                            "stale, not moved back: {}",
                            apply::describe_drift(&drift).trim_start()
                        ),
                    };
                    writeln!(out, "  {why}")?;
                    stale.push((change, why));
                }
            }
            check_max_changes(&plan, args.rails.max_changes, None)?;
            *plan
        }
        Source::Saved(plan, manifest) => {
            apply::check_stale(&client, &plan).await?;
            let plan = match &manifest {
                Some(manifest) => recheck_against_manifest(&client, *plan, manifest).await?,
                None => *plan,
            };
            check_max_changes(&plan, args.rails.max_changes, manifest.as_ref())?;
            strict::check(&plan, args.strict)?;
            // What is about to move, before it moves.
            if plan.has_changes() {
                show_plan(&plan, global, out);
            }
            plan
        }
        Source::Manifest(manifest, region_warnings) => {
            let plan = make_plan(&client, &manifest, args.rails.ignore_missing).await?;
            let plan = strict::with_warnings(plan, region_warnings);
            show_plan(&plan, global, out);
            check_max_changes(&plan, args.rails.max_changes, Some(&manifest))?;
            strict::check(&plan, args.strict)?;
            if plan.has_changes() && !args.auto_approve && !approve(out)? {
                writeln!(out, "\nApply cancelled.")?;
                return Ok(Exit::Failure);
            }
            plan
        }
    };
    if !plan.has_changes() && stale.is_empty() {
        if args.planfile.is_some() {
            writeln!(out, "{}", render::summary_line(&plan))?;
        }
        return Ok(Exit::Success);
    }
    let plan = skip_conflicts(plan, args.rails.override_rules, &mut stale, out)?;
    // What was printed so far is the plan; the progress that follows goes
    // to stderr, so stdout is flushed now to keep the two in order.
    if let Err(error) = out.flush() {
        tracing::warn!("could not print the plan: {error}");
    }
    let _ = pacing.await;
    let interrupts = Interrupts::watch(client.clone());
    let options = apply_options(&args.rails, ProgressStyle::detect());
    // Every way the run can end comes back here with a complete report.
    let mut report = apply::run(&client, &plan, &options, &interrupts).await;
    for (change, why) in stale {
        report.add_not_started(change, why);
    }
    // The records first: moves were made, so neither a closed stdout nor a
    // full disk may cost them or turn a failed run into exit 0. The undo
    // plan before the report: of the two, it matters most when something
    // went wrong.
    // The report's bytes first: the undo plan carries their checksum.
    let report_bytes = serde_json::to_vec_pretty(&report)?;
    let undo = args
        .undo_plan
        .as_ref()
        .zip(args.report.as_ref())
        .map(|(path, report_path)| {
            let bound = ReportRef {
                file: atomic_file::canonical_target(report_path)?
                    .display()
                    .to_string(),
                sha256: apply::undo::report_sha256(&report_bytes),
            };
            let undo = report.undo_plan(&plan, bound);
            atomic_file::write(path, |file| render::Json.write(&undo, file))
                .with_context(|| format!("could not write the undo plan {}", path.display()))
                .map(|()| (path, undo.changes.len()))
        });
    let saved = args.report.as_ref().map(|path| {
        atomic_file::write(path, |file| file.write_all(&report_bytes))
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
    } else if report.succeeded_but(already_back) {
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
pub(super) fn skip_conflicts(
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
    if let Some((report, undo)) = args.report.as_ref().zip(args.undo_plan.as_ref()) {
        if atomic_file::same_target(report, undo) {
            bail!(
                "--report and --undo-plan name the same file, {} and {}",
                report.display(),
                undo.display()
            );
        }
    }
    atomic_file::check_not_input(path, &global.file, "the manifest")?;
    if let Some(plan) = &args.planfile {
        atomic_file::check_not_input(path, plan, "the plan being applied")?;
    }
    Ok(())
}

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

/// Reads a saved plan, and the manifest it must have been planned from:
/// the one `-f` (or `REGROUP_FILE`) names, which must exist, else the one
/// the plan names, `None` when that is gone. An undo plan is checked
/// against the report it was made from instead.
fn load_saved_plan(path: &Path, global: &Global) -> anyhow::Result<(Plan, Option<Manifest>)> {
    let plan = super::show::read_plan(path)
        .with_context(|| format!("{} cannot be applied", path.display()))?;
    if plan.undo {
        check_undo_report(&plan)?;
        return Ok((plan, None));
    }
    let global = if manifest_named() {
        global.clone()
    } else {
        let stored = PathBuf::from(&plan.manifest.file);
        if !stored.exists() {
            return Ok((plan, None));
        }
        Global {
            file: stored,
            ..global.clone()
        }
    };
    let manifest = load_manifest(&global)?;
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

/// Whether the manifest was named (`-f`, `--file` or `REGROUP_FILE`), not
/// left to its default: a named manifest that is missing is an error,
/// never a reason to skip the check. `Global` holds the value only, so the
/// command line is read again for where it came from; a command line that
/// does not parse here (regroup run as a library) counts as named.
fn manifest_named() -> bool {
    use clap::parser::ValueSource;
    use clap::CommandFactory;
    let Ok(matches) = crate::cli::Cli::command().try_get_matches() else {
        return true;
    };
    let mut scope = &matches;
    while let Some((_, inner)) = scope.subcommand() {
        scope = inner;
    }
    scope
        .value_source("file")
        .is_none_or(|source| source != ValueSource::DefaultValue)
}

/// Refuses a saved plan that moves resources outside `--region`: the
/// option limits what a run may touch, whether it plans or applies a plan.
fn check_saved_regions(plan: &Plan, regions: &[String]) -> anyhow::Result<()> {
    if regions.is_empty() {
        return Ok(());
    }
    let outside: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !regions.iter().any(|r| **r == *c.resource.region))
        .collect();
    if let Some(first) = outside.first() {
        bail!(
            "the saved plan moves {} resource(s) outside --region {} (the first: {}), so nothing was changed\n  hint: apply it without --region, or plan again with it",
            outside.len(),
            regions.join(", "),
            first.resource
        );
    }
    Ok(())
}

/// Checks an undo plan against the report it names, before any call.
fn check_undo_report(plan: &Plan) -> anyhow::Result<()> {
    let bound = plan
        .undoes
        .as_ref()
        .ok_or(apply::undo::UndoError::Unbound)?;
    let bytes = read_at_most(Path::new(&bound.file), apply::undo::MAX_REPORT_BYTES).with_context(
        || {
            format!(
                "could not read the report {} that the undo plan was made from, so nothing was changed",
                bound.file
            )
        },
    )?;
    apply::undo::check_against_report(plan, &bytes)?;
    Ok(())
}

/// Plans afresh from the manifest, reading every type and region it covers
/// as `plan` does, and returns the saved plan as it is applied: only
/// changes the manifest asks for, and everything else (what stays
/// unchanged, conflicts with auto-grouping rules, evictions) recomputed,
/// never read from the file. The plan's checksum proves it intact, not
/// that the manifest made it.
async fn recheck_against_manifest(
    client: &Client,
    plan: Plan,
    manifest: &Manifest,
) -> anyhow::Result<Plan> {
    let fresh = make_plan(client, manifest, true)
        .await
        .context("could not check the plan against the manifest")?;
    Ok(crate::plan::recheck(plan, &fresh)?)
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
