//! Who moved resources, as ActionTrail recorded it: `plan --who`'s last
//! mover of each drifted resource, and the one line that names who made a
//! move, which `regroup history` prints too.

use std::io::Write;

use crate::cloud::actiontrail;
use crate::cloud::client::Client;
use crate::plan::Plan;

/// LookupEvents calls `plan --who` may make in all: ten seconds of the
/// service's two a second.
const WHO_BUDGET: usize = 20;

/// For `plan --who`: who last moved each drifted resource, one call each
/// (the newest 30-day window), at most [`WHO_BUDGET`] calls.
pub async fn last_movers(client: &Client, plan: &Plan, out: &mut impl Write) -> anyhow::Result<()> {
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
        let subject = actiontrail::Subject::Resource(&key.id);
        let history = actiontrail::history(client, &key.region, subject, now, 1).await;
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
pub fn by(change: &actiontrail::Move) -> String {
    let key = change
        .access_key
        .as_deref()
        .map_or_else(String::new, |key| format!(", access key {key}"));
    format!("by {} {}{key}", change.principal_type, change.principal)
}
