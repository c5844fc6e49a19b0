//! `regroup history TYPE/ID`: the membership changes ActionTrail recorded
//! for one resource over the last 90 days — when, from which group to
//! which, and who (principal and access key) — newest first.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context as _;

use super::{client, Exit, Overrides};
use crate::cli::{Global, HistoryArgs};
use crate::cloud::{actiontrail, resourcemanager};
use crate::history::by;
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
    let (kind, id) = args.resource.split_once('/').with_context(|| {
        format!(
            "`{}` is not TYPE/ID (instance/i-bp1…) or group/NAME",
            args.resource
        )
    })?;
    let of_group = kind == "group";
    if !of_group {
        let rtype = kind
            .parse::<ResourceType>()
            .map_err(|problem: String| anyhow::anyhow!("`{}`: {problem}", args.resource))?;
        if !rtype.is_ecs() {
            anyhow::bail!(
                "`{}`: {}",
                args.resource,
                crate::history::OTHER_SERVICES_UNREAD
            );
        }
    }
    let [region] = global.regions.as_slice() else {
        anyhow::bail!("history needs the region to read: pass one --region");
    };
    crate::api::regions::check(region).map_err(|problem| anyhow::anyhow!("--region: {problem}"))?;
    let client = client(global, overrides, Some(LOOKUP_RATE)).await?;
    // Group ids are shown with their names when the account can list them.
    let names: HashMap<String, String> = match resourcemanager::list_resource_groups(&client).await
    {
        Ok(groups) => groups
            .into_iter()
            .map(|g| (g.id.to_string(), g.name.to_string()))
            .collect(),
        Err(error) if of_group => {
            return Err(anyhow::Error::new(error).context("could not read the resource groups"))
        }
        Err(error) => {
            tracing::warn!("could not read the group names: {error}");
            HashMap::new()
        }
    };
    let group = |id: &str| match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    };
    let subject = if of_group {
        let group_id = names
            .iter()
            .find(|(gid, name)| *gid == id || *name == id)
            .map(|(gid, _)| gid.as_str())
            .with_context(|| format!("there is no resource group `{id}`"))?;
        actiontrail::Subject::Group(group_id)
    } else {
        actiontrail::Subject::Resource(id)
    };
    let max_calls = usize::from(args.max_calls);
    let history = actiontrail::history(&client, region, subject, chrono::Utc::now(), max_calls)
        .await
        .context("could not read ActionTrail")?;
    let what = if of_group {
        "move(s) into the group"
    } else {
        "membership change(s)"
    };
    writeln!(
        out,
        "{}/{id} in {region}: {} {what} in the last 90 days, newest first",
        kind,
        history.moves.len()
    )?;
    for (n, change) in history.moves.iter().enumerate() {
        let from = if of_group {
            change.resource.clone()
        } else {
            // The group it left is the one the move before put it in.
            history
                .moves
                .get(n + 1)
                .map_or_else(|| "?".to_owned(), |before| group(&before.to))
        };
        writeln!(
            out,
            "  {}  {from} -> {}  {}",
            change.at,
            group(&change.to),
            by(change)
        )?;
    }
    if let Some(why) = &history.stopped_early {
        writeln!(out, "Stopped early: {why}")?;
    } else if !of_group && !history.moves.is_empty() {
        writeln!(
            out,
            "? : where it was before the oldest move is older than ActionTrail keeps (90 days)."
        )?;
    }
    Ok(Exit::Success)
}
