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

/// LookupEvents calls `plan --who` may make in all: ten seconds of the
/// service's two a second.
const WHO_BUDGET: usize = 20;

/// For `plan --who`: who last moved each drifted resource, one call each
/// (the newest 30-day window), at most [`WHO_BUDGET`] calls.
pub(super) async fn last_movers(
    client: &crate::cloud::client::Client,
    plan: &crate::plan::Plan,
    out: &mut Stdout,
) -> anyhow::Result<()> {
    if !plan.has_changes() {
        return Ok(());
    }
    writeln!(out, "\nLast moved (ActionTrail, last 30 days):")?;
    let now = chrono::Utc::now();
    for (n, change) in plan.changes.iter().enumerate() {
        if n == WHO_BUDGET {
            writeln!(
                out,
                "Stopped early: {WHO_BUDGET} LookupEvents calls made; {} resource(s) not looked up.",
                plan.changes.len() - n
            )?;
            break;
        }
        let key = &change.resource;
        let history = actiontrail::history(client, &key.region, &key.id, now, 1).await;
        let line = match history.as_ref().map(|h| h.moves.first()) {
            Ok(Some(last)) => format!("to {} at {} {}", last.to, last.at, by(last)),
            Ok(None) => "no move recorded in the last 30 days".to_owned(),
            Err(error) => format!("could not tell: {error}"),
        };
        writeln!(out, "  {key}: {line}")?;
    }
    Ok(())
}

/// Who made a move: `by TYPE PRINCIPAL, access key ID`.
fn by(change: &actiontrail::Move) -> String {
    let key = change
        .access_key
        .as_deref()
        .map_or_else(String::new, |key| format!(", access key {key}"));
    format!("by {} {}{key}", change.principal_type, change.principal)
}

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
    } else if !history.moves.is_empty() {
        writeln!(
            out,
            "? : where it was before the oldest move is older than ActionTrail keeps (90 days)."
        )?;
    }
    Ok(Exit::Success)
}
