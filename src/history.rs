//! Who moved resources, as ActionTrail recorded it: `plan --who`'s last
//! mover of each drifted resource, and the one line that names who made a
//! move, which `regroup history` prints too.
//!
//! Only ECS `JoinResourceGroup` events are read. Other services' resources
//! move by Resource Manager's `MoveResources`, and no source says how
//! ActionTrail records that call (which lookup key finds a resource among
//! the ten a call may move, in which region's trail; see
//! docs/sources/actiontrail.md §5), so their moves are said to be unread
//! rather than reported as none.

use std::io::Write;

use crate::cloud::actiontrail;
use crate::cloud::client::Client;
use crate::plan::Plan;

/// LookupEvents calls `plan --who` may make in all: ten seconds of the
/// service's two a second.
const WHO_BUDGET: usize = 20;

/// For `plan --who`: who last moved each drifted resource of ECS, one call
/// each (the newest 30-day window), at most [`WHO_BUDGET`] calls; the
/// others' moves are said to be unread, without a call.
pub async fn last_movers(client: &Client, plan: &Plan, out: &mut impl Write) -> anyhow::Result<()> {
    if !plan.has_changes() {
        return Ok(());
    }
    writeln!(out, "\nLast moved (ActionTrail, last 30 days):")?;
    let now = chrono::Utc::now();
    let mut calls = 0;
    // ECS resources past the budget: counted, not looked up. The others'
    // lines still follow: theirs need no call.
    let mut past_budget = 0;
    for change in &plan.changes {
        let key = &change.resource;
        if !key.rtype.is_ecs() {
            writeln!(out, "  {key}: {OTHER_SERVICES_UNREAD}")?;
            continue;
        }
        if calls == WHO_BUDGET {
            past_budget += 1;
            continue;
        }
        calls += 1;
        let subject = actiontrail::Subject::Resource(&key.id);
        let history = actiontrail::history(client, &key.region, subject, now, 1).await;
        let line = match history.as_ref().map(|h| h.moves.first()) {
            Ok(Some(last)) => format!("to {} at {} {}", last.to, last.at, by(last)),
            Ok(None) => "no move recorded in the last 30 days".to_owned(),
            Err(error) => format!("could not tell: {error}"),
        };
        writeln!(out, "  {key}: {line}")?;
    }
    if past_budget > 0 {
        writeln!(
            out,
            "Stopped early: {WHO_BUDGET} LookupEvents calls made; {past_budget} resource(s) not looked up."
        )?;
    }
    Ok(())
}

/// What `plan --who` and `history` say of a resource of another service
/// than ECS, without a call.
pub const OTHER_SERVICES_UNREAD: &str = "not read: other services' resources move by Resource Manager's MoveResources, whose ActionTrail events regroup does not read (docs/sources/actiontrail.md §5)";

/// Who made a move: `by TYPE PRINCIPAL, access key ID`.
pub fn by(change: &actiontrail::Move) -> String {
    let key = change
        .access_key
        .as_deref()
        .map_or_else(String::new, |key| format!(", access key {key}"));
    format!("by {} {}{key}", change.principal_type, change.principal)
}
