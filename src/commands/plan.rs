//! `regroup plan`: read the account, print the plan, optionally save it.
//! Over a manifest's `accounts:`, each account is shown as it is planned
//! and the plan is saved at the end (`planning::stream`).

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use super::options::{check_not_manifest, fanout, load_manifest_noting};
use super::{client, use_color, Exit, Overrides};
use crate::atomic_file;
use crate::cli::{Global, PlanArgs};
use crate::output::{Stdout, Tee};
use crate::planning::accounts::check_accounts;
use crate::planning::stream::{plan_shown, Planned, Shown};
use crate::planning::{check_max_changes, strict};
use crate::render::Format;

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
    let shown = Shown {
        format: args.format,
        color: use_color(global),
    };
    let mut plan = plan_shown(
        &client,
        &manifest,
        &fanout,
        args.ignore_missing,
        region_warnings,
        shown,
        out,
    )
    .await?;
    let within_limit = check_max_changes(plan.totals(), args.max_changes, Some(&manifest));
    // The plan holds what it needs of the manifest: not kept while rendering.
    drop(manifest);
    let strictly = strict::check(plan.head(), args.strict);
    // A plan shown as JSON and saved is the same bytes twice: serialized
    // once, into both, when nothing between showing and saving can stop
    // the save (the guards passed, no `--who` calls to make).
    let saved_as_shown =
        args.format == Format::Json && !args.who && within_limit.is_ok() && strictly.is_ok();
    match &args.out {
        Some(path) if saved_as_shown => save(path, &mut plan, Some(out))?,
        _ => plan.show(shown, out)?,
    }
    if args.who {
        crate::history::last_movers(&client, plan.head(), out).await?;
    }
    // Shown, so that the moves can be looked at, but not saved.
    within_limit?;
    strictly?;
    if let Some(path) = args.out.as_ref().filter(|_| !saved_as_shown) {
        save(path, &mut plan, None)?;
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
    check_accounts(plan.head())?;
    Ok(if args.detailed_exitcode && plan.totals().has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Saves the plan as JSON to `path`, whole or not at all, writing the same
/// bytes to `shown` as they go when given.
fn save(path: &Path, plan: &mut Planned, shown: Option<&mut Stdout>) -> anyhow::Result<()> {
    atomic_file::write(path, |file| match shown {
        Some(shown) => plan.write_json(&mut Tee(shown, file)),
        None => plan.write_json(file),
    })
    .with_context(|| format!("could not save the plan to {}", path.display()))
}
