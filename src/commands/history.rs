//! `regroup history TYPE/ID`: the membership changes ActionTrail recorded
//! for one resource over the last 90 days — when, from which group to
//! which, and who (principal and access key) — newest first.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context as _;

use super::{client, Exit, Overrides};
use crate::cli::{Global, HistoryArgs};
use crate::cloud::{actiontrail, resourcemanager};
use crate::output::Stdout;
use crate::resource::ResourceType;

/// LookupEvents allows two calls a second (the LookupEvents page).
const LOOKUP_RATE: f64 = 2.0;

pub(super) async fn run(
    global: &Global,
    overrides: &Overrides,
    args: &HistoryArgs,
    out: &mut Stdout,
) -> anyhow::Result<Exit> {
    let (rtype, id) = args.resource.split_once('/').with_context(|| {
        format!(
            "`{}` is not TYPE/ID, such as instance/i-bp1…",
            args.resource
        )
    })?;
    let rtype: ResourceType = rtype
        .parse()
        .map_err(|problem: String| anyhow::anyhow!("`{}`: {problem}", args.resource))?;
    let [region] = global.regions.as_slice() else {
        anyhow::bail!("history needs the resource's region: pass one --region");
    };
    crate::api::regions::check(region).map_err(|problem| anyhow::anyhow!("--region: {problem}"))?;
    let client = client(global, overrides, Some(LOOKUP_RATE)).await?;
    let history = actiontrail::history(
        &client,
        region,
        id,
        chrono::Utc::now(),
        usize::from(args.max_calls),
    )
    .await
    .context("could not read ActionTrail")?;
    // Group ids are shown with their names when the account can list them.
    let names: HashMap<String, String> = match resourcemanager::list_resource_groups(&client).await
    {
        Ok(groups) => groups
            .into_iter()
            .map(|g| (g.id.to_string(), g.name.to_string()))
            .collect(),
        Err(error) => {
            tracing::warn!("could not read the group names: {error}");
            HashMap::new()
        }
    };
    let group = |id: &str| match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    };
    writeln!(
        out,
        "{}/{id} in {region}: {} membership change(s) in the last 90 days, newest first",
        rtype.as_str(),
        history.moves.len()
    )?;
    for (n, change) in history.moves.iter().enumerate() {
        // The group it left is the one the move before put it in.
        let from = history
            .moves
            .get(n + 1)
            .map_or_else(|| "?".to_owned(), |before| group(&before.to));
        let key = change
            .access_key
            .as_deref()
            .map_or_else(String::new, |key| format!(", access key {key}"));
        writeln!(
            out,
            "  {}  {from} -> {}  by {} {}{key}",
            change.at,
            group(&change.to),
            change.principal_type,
            change.principal
        )?;
    }
    if let Some(why) = &history.stopped_early {
        writeln!(out, "Stopped early: {why}")?;
    } else if !history.moves.is_empty() {
        writeln!(
            out,
            "? : where it was before the oldest move is older than ActionTrail keeps (90 days)."
        )?;
    }
    Ok(Exit::Success)
}
