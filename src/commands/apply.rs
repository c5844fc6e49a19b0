//! `regroup apply`: plan (or load a saved plan), ask, move, verify, report.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context as _};

use super::{client, load_manifest, make_plan, use_color, Exit, Overrides};
use crate::api::describe::TypeApi;
use crate::apply::{self, ApplyOptions, Interrupts, ProgressStyle};
use crate::atomic_file;
use crate::cli::{ApplyArgs, Global};
use crate::cloud::quotas;
use crate::inventory;
use crate::manifest::Manifest;
use crate::output::Stdout;
use crate::plan::Plan;
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
        Saved(Plan),
        Manifest(Manifest),
    }
    let source = match &args.planfile {
        Some(path) => Source::Saved(load_saved_plan(path, global)?),
        None => Source::Manifest(load_manifest(global)?),
    };
    let client = client(global, overrides, args.rate)?;
    // Quotas first, so that the plan's reads are paced too.
    let regions = match &source {
        Source::Saved(plan) => plan
            .changes
            .iter()
            .map(|c| c.resource.region.clone())
            .collect(),
        Source::Manifest(manifest) => inventory::scopes(manifest)
            .into_keys()
            .map(|(region, _)| region)
            .collect(),
    };
    let actions = std::iter::once("JoinResourceGroup")
        .chain(ResourceType::ALL.iter().map(|t| TypeApi::of(*t).action))
        .collect();
    quotas::pace(&client, &actions, &regions).await;
    let plan = match source {
        Source::Saved(plan) => {
            apply::check_stale(&client, &plan).await?;
            plan
        }
        Source::Manifest(manifest) => {
            let plan = make_plan(&client, &manifest, args.ignore_missing).await?;
            render::Text {
                color: use_color(global),
            }
            .write(&plan, out)?;
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
        return Ok(Exit::Success);
    }
    // What was printed so far is the plan; the progress that follows goes
    // to stderr, so stdout is flushed now to keep the two in order.
    out.flush()?;
    let interrupts = Interrupts::watch(client.clone());
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        progress: ProgressStyle::detect(),
    };
    // Every way the run can end comes back here with a complete report.
    let report = apply::run(&client, &plan, &options, &interrupts).await;
    writeln!(out)?;
    write!(out, "{}", report.summary())?;
    out.flush()?;
    if let Some(path) = &args.report {
        atomic_file::write(path, |file| {
            Ok(serde_json::to_writer_pretty(file, &report)?)
        })
        .with_context(|| format!("could not write the report {}", path.display()))?;
    }
    tracing::info!(stats = ?report.calls, "apply finished");
    Ok(if report.interrupted {
        Exit::Interrupted
    } else if report.succeeded() {
        Exit::Success
    } else {
        Exit::Failure
    })
}

fn load_saved_plan(path: &Path, global: &Global) -> anyhow::Result<Plan> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("could not read the plan {}", path.display()))?;
    let plan =
        Plan::from_json(&bytes).with_context(|| format!("{} cannot be applied", path.display()))?;
    if let Ok(manifest) = std::fs::read(&global.file) {
        let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&manifest));
        if sha != plan.manifest.sha256 {
            bail!(
                "{} was planned from another version of {} (sha256 {} then, {} now); plan again",
                path.display(),
                global.file.display(),
                plan.manifest
                    .sha256
                    .get(..12)
                    .unwrap_or(&plan.manifest.sha256),
                &sha[..12]
            );
        }
    }
    Ok(plan)
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
