//! `regroup plan`: read the account, print the plan, optionally save it.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use super::options::{check_not_manifest, fanout, load_manifest_noting};
use super::{client, use_color, Exit, Overrides};
use crate::atomic_file;
use crate::cli::{Global, PlanArgs};
use crate::output::{Stdout, Tee};
use crate::plan::Plan;
use crate::planning::accounts::{check_accounts, plan_for};
use crate::planning::{check_max_changes, strict};
use crate::render::{self, Format, Render};

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &PlanArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    let (manifest, region_warnings) = load_manifest_noting(global)?;
    if let Some(path) = &args.out {
        atomic_file::check_target(path)?;
        check_not_manifest(path, global)?;
    }
    if args.who && manifest.accounts.is_some() {
        anyhow::bail!("--who reads one account's ActionTrail; a manifest with `accounts:` plans several (leave out --who)");
    }
    let client = client(global, overrides, None).await?;
    let fanout = fanout(&args.accounts, None);
    let plan = plan_for(&client, &manifest, &fanout, args.ignore_missing).await?;
    let plan = strict::with_warnings(plan, region_warnings);
    let within_limit = check_max_changes(&plan, args.max_changes, Some(&manifest));
    // The plan holds what it needs of the manifest: not kept while rendering.
    drop(manifest);
    let strictly = strict::check(&plan, args.strict);
    // A plan shown as JSON and saved is the same bytes twice: serialized
    // once, into both, when nothing between showing and saving can stop
    // the save (the guards passed, no `--who` calls to make).
    let saved_as_shown =
        args.format == Format::Json && !args.who && within_limit.is_ok() && strictly.is_ok();
    match &args.out {
        Some(path) if saved_as_shown => save(path, &plan, Some(out))?,
        _ => render::renderer(args.format, use_color(global)).write(&plan, out)?,
    }
    if args.who {
        crate::history::last_movers(&client, &plan, out).await?;
    }
    // Shown, so that the moves can be looked at, but not saved.
    within_limit?;
    strictly?;
    if let Some(path) = args.out.as_ref().filter(|_| !saved_as_shown) {
        save(path, &plan, None)?;
        if args.format == Format::Text {
            writeln!(
                out,
                "\nSaved the plan to {}. Apply it with: regroup apply {}",
                path.display(),
                path.display()
            )?;
        }
    }
    // Shown and saved, for the accounts that were planned; the run fails.
    check_accounts(&plan)?;
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Saves the plan as JSON to `path`, writing the same bytes to `shown` as
/// they go when given.
fn save(path: &Path, plan: &Plan, shown: Option<&mut Stdout>) -> anyhow::Result<()> {
    atomic_file::write(path, |file| match shown {
        Some(shown) => render::Json.write(plan, &mut Tee(shown, file)),
        None => render::Json.write(plan, file),
    })
    .with_context(|| format!("could not save the plan to {}", path.display()))
}
