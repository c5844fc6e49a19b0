//! `regroup export`: print a manifest that matches the account as it is now.

use std::io::Write;

use anyhow::bail;

use super::{client, Exit, Overrides};
use crate::cli::{ExportArgs, Global};
use crate::inventory;
use crate::manifest::export;
use crate::output::Stdout;
use crate::plan;
use crate::resource::ResourceType;

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &ExportArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    if global.regions.is_empty() {
        bail!("export needs the regions to read: pass --region ID (repeatable)");
    }
    let client = client(global, overrides, None).await?;
    let types = if args.types.is_empty() {
        ResourceType::ALL.to_vec()
    } else {
        args.types.clone()
    };
    let scopes = global
        .regions
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
        .map(|key| plan::find_group(key, &account.groups).map(|g| g.id.clone()))
        .collect::<Result<_, String>>()
        .map_err(|message| anyhow::anyhow!("--group: {message}"))?;
    let source = match overrides.endpoint.as_ref().or(global.endpoint.as_ref()) {
        Some(url) => url.clone(),
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
    let groups = export::groups_of(&account, &wanted);
    out.write_all(export::to_yaml(&header, &global.regions, &groups).as_bytes())?;
    Ok(Exit::Success)
}
