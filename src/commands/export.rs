//! `regroup export`: print a manifest that matches the account as it is now,
//! in the regions given with `--region`, else in the manifest's; the ECS
//! types, or with `--all-services` every type Resource Manager groups.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::{bail, Context as _};

use super::{client, Exit, Overrides};
use crate::cli::{ExportArgs, Global};
use crate::cloud::client::redact;
use crate::inventory;
use crate::manifest::export;
use crate::output::Stdout;
use crate::plan;
use crate::resource::{Inventory, ResourceType, DEFAULT_GROUP_NAME};

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &ExportArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    super::check_region_options(global)?;
    let regions = if global.regions.is_empty() {
        manifest_regions(global)?
    } else {
        global.regions.clone()
    };
    let client = client(global, overrides, None).await?;
    let types: Vec<ResourceType> = if args.all_services {
        ResourceType::every().collect()
    } else if args.types.is_empty() {
        ResourceType::ALL.to_vec()
    } else {
        args.types.clone()
    };
    let scopes = regions
        .iter()
        .flat_map(|region| {
            types
                .iter()
                .map(move |t| ((region.clone(), *t), inventory::ReadScope::All))
        })
        .collect();
    let account = inventory::read(&client, &scopes).await?;
    let wanted: Vec<String> = args
        .groups
        .iter()
        .map(|key| plan::find_group(key, &account.groups).map(|g| g.id.to_string()))
        .collect::<Result<_, String>>()
        .map_err(|message| anyhow::anyhow!("--group: {message}"))?;
    let source = match overrides.endpoint.as_ref().or(global.endpoint.as_ref()) {
        Some(url) => redact(url),
        None => "Alibaba Cloud".to_owned(),
    };
    let header = vec![
        format!(
            "Exported by regroup {} at {} from {source}.",
            env!("CARGO_PKG_VERSION"),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        ),
        "Planning this manifest against the same account gives `No changes.`".to_owned(),
    ];
    let mut groups = export::groups_of(&account, &wanted);
    if args.exclusive {
        mark_exclusive(&mut groups, &account)?;
    }
    if groups.iter().all(|g| g.members.is_empty()) {
        // A manifest needs at least one group with members; printing an
        // empty `groups:` would give a file that does not load.
        bail!(
            "nothing to export: no resources{} in {}{}, and a manifest needs at least one",
            if args.types.is_empty() {
                String::new()
            } else {
                format!(" of type {}", join(&args.types))
            },
            regions.join(", "),
            if args.groups.is_empty() {
                String::new()
            } else {
                format!(" in group {}", args.groups.join(", "))
            }
        );
    }
    // The manifest reads ids with one grammar; an id the cloud reports that
    // does not fit it would make the exported file fail to load.
    for export::ExportedMember { key, .. } in groups.iter().flat_map(|g| &g.members) {
        key.rtype
            .check_id(&key.id)
            .map_err(|problem| anyhow::anyhow!("cannot export {key}: {problem}"))?;
    }
    out.write_all(export::to_yaml(&header, &regions, &groups).as_bytes())?;
    Ok(Exit::Success)
}

/// Without `--region`, the regions the manifest reads (`-f`, by default
/// `regroup.yaml`), so that re-exporting a managed account needs no option.
fn manifest_regions(global: &Global) -> anyhow::Result<Vec<String>> {
    let manifest = super::load_manifest(global).with_context(|| {
        format!(
            "export reads the manifest's regions when no --region is given, and {} does not load: pass --region ID (repeatable)",
            global.manifest_path().display()
        )
    })?;
    let regions: BTreeSet<String> = inventory::scopes(&manifest)
        .into_keys()
        .map(|(region, _)| region)
        .collect();
    Ok(regions.into_iter().collect())
}

/// `--exclusive`: every group but the default one, where evictions go
/// when a manifest names no `evict_to`, and which cannot be exclusive
/// itself.
fn mark_exclusive(groups: &mut [export::ExportedGroup], account: &Inventory) -> anyhow::Result<()> {
    let Some(default) = account
        .groups
        .iter()
        .find(|g| &*g.name == DEFAULT_GROUP_NAME)
    else {
        bail!("--exclusive: the account has no group named `{DEFAULT_GROUP_NAME}` for evictions to go to; export without --exclusive and add `evict_to:`");
    };
    for group in groups {
        group.exclusive = *group.key != *default.name && *group.key != *default.id;
    }
    Ok(())
}

fn join(types: &[ResourceType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
