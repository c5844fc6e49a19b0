//! An apply over the member accounts of a Resource Directory (a manifest
//! with `accounts:`, or a plan saved from one): each account's part is
//! checked and applied with the client that acts in it, several accounts
//! at once, each under its own rate limiter, as a run of one account is.
//! `--max-errors` counts failed joins across the accounts; a RAM denial or
//! a canary stops new joins in its own account only. The report is one,
//! every outcome naming its account, and so is the undo plan made from it.
//! An account that could not be planned (or, for a saved plan, whose role
//! cannot be assumed or which cannot be read back) is reported as such and
//! fails the run; the others are applied. A saved plan that is stale in any
//! account, or asks for what the manifest does not, is refused whole.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use futures::StreamExt as _;

use super::flow::{apply_plan, finish, pace_under_quotas, review, show_plan, Movers, Source};
use super::halt::Stop;
use super::interrupts::Interrupts;
use super::progress::ProgressStyle;
use super::report::Report;
use super::request::{Applied, ApplyRequest, Ended};
use super::run::{run_under, ApplyOptions};
use super::saved;
use super::stale::{check_stale, ApplyError};
use crate::cloud::client::Client;
use crate::manifest::accounts::DEFAULT_ROLE;
use crate::output::Stdout;
use crate::plan::{AccountStatus, Change, ManifestInfo, Plan, UnaskedChanges};
use crate::planning::accounts::{
    check_accounts, connect_members, plan_across, MemberClient, ACCOUNTS_AT_ONCE,
};
use crate::planning::{check_max_changes, strict};

/// Runs `regroup apply` over several accounts: the plan made (or the saved
/// one checked account by account), shown, approved, applied.
pub(super) async fn apply_across(
    request: &ApplyRequest,
    source: Source,
    base: Client,
    out: &mut Stdout,
) -> anyhow::Result<Applied> {
    let mut skipped = Vec::new();
    let mut already_back = 0;
    let (plan, clients) = match source {
        Source::Manifest(manifest, region_warnings) => {
            let spec = manifest
                .accounts
                .as_ref()
                .context("a manifest over several accounts has `accounts:`")?;
            let (plan, clients) = plan_across(
                &base,
                &manifest,
                spec,
                &request.fanout,
                request.rails.ignore_missing,
            )
            .await?;
            let plan = strict::with_warnings(plan, region_warnings);
            if !review(&plan, &manifest, request, out)? {
                return Ok(Applied::just(Ended::Failure));
            }
            (plan, clients)
        }
        Source::Saved(plan, manifest) => {
            let manifest_role = manifest
                .as_ref()
                .and_then(|m| m.accounts.as_ref())
                .map(|spec| spec.role.as_str());
            let planned = planned_accounts(&plan, manifest_role);
            let fallback_role = manifest_role.unwrap_or(DEFAULT_ROLE);
            // A member whose role cannot be assumed is that account's
            // failure, found while checking: the others are applied.
            let members =
                connect_members(&base, planned, fallback_role, request.connect.max_rate).await;
            let plan = check_saved(*plan, manifest.as_ref(), &members, &mut skipped, out)
                .await
                .map(|(plan, back)| {
                    already_back = back;
                    plan
                })?;
            let clients: Vec<(AccountStatus, Client)> = members
                .into_iter()
                .filter_map(|(status, client)| Some((status, client.ok()?)))
                .collect();
            if !plan.undo {
                check_max_changes(&plan, request.rails.max_changes, manifest.as_ref())?;
                strict::check(&plan, request.strict)?;
                if plan.has_changes() {
                    show_plan(&plan, request.color, out);
                }
            }
            (plan, clients)
        }
    };
    if !plan.has_changes() && skipped.is_empty() {
        if request.planfile.is_some() {
            writeln!(out, "{}", crate::render::summary_line(&plan))?;
        }
        check_accounts(&plan)?;
        return Ok(Applied::just(Ended::Success));
    }
    let interrupts = Interrupts::watch(base.clone());
    let movers = Movers::Members {
        base: &base,
        clients: &clients,
    };
    let (plan, report) =
        apply_plan(movers, plan, &request.rails, skipped, &interrupts, out).await?;
    let applied = finish(&report, &plan, request, already_back, out)?;
    if let Err(error) = check_accounts(&plan) {
        crate::output::report_error(&error);
        return Ok(Applied {
            ended: match applied.ended {
                Ended::Interrupted => Ended::Interrupted,
                _ => Ended::Failure,
            },
            ..applied
        });
    }
    Ok(applied)
}

/// A saved plan checked account by account with each account's client, as
/// a saved plan of one account is: the stale guard and the check against
/// the manifest (or, for an undo plan, the moves since set aside); the
/// plan as it is applied, and how many undo changes were already back.
///
/// Two kinds of trouble: a guard (the plan is stale in an account, or
/// holds changes the manifest does not ask for) refuses the whole plan
/// before any join, as for one account, since the plan as saved is no
/// longer what was approved; an account that cannot be read (no client,
/// an API error, throttling) is that account's failure: listed as failed,
/// its changes reported not started, and the others applied.
async fn check_saved(
    plan: Plan,
    manifest: Option<&crate::manifest::Manifest>,
    members: &[MemberClient],
    skipped: &mut Vec<(Change, String)>,
    out: &mut Stdout,
) -> anyhow::Result<(Plan, usize)> {
    let mut parts = Vec::new();
    let mut already_back = 0;
    for (status, part) in plan.split_accounts() {
        let named = |error: anyhow::Error| {
            error.context(format!("account {} ({})", status.account_id, status.name))
        };
        let client = members
            .iter()
            .find(|(member, _)| member.account_id == status.account_id)
            .map(|(_, client)| client.as_ref());
        let checked = match client {
            Some(Ok(client)) => check_part(client, part.clone(), manifest, out)
                .await
                .map_err(named)?,
            Some(Err(why)) => Err(why.clone()),
            None => Err("no client was made for the account".to_owned()),
        };
        let checked = match checked {
            Ok(Checked::Plan(part)) => part,
            Ok(Checked::Undo(part, set_aside, back)) => {
                already_back += back;
                skipped.extend(
                    set_aside
                        .into_iter()
                        .map(|(change, why)| (in_account(change, &status.account_id), why)),
                );
                part
            }
            Err(why) => {
                let line = format!("account {} ({}): {why}", status.account_id, status.name);
                skipped.extend(
                    part.changes
                        .into_iter()
                        .map(|change| (in_account(change, &status.account_id), line.clone())),
                );
                parts.push((status, Err(why)));
                continue;
            }
        };
        parts.push((status, Ok(checked)));
    }
    // Accounts that could not be planned stay listed, with their errors.
    parts.extend(plan.failed_accounts().map(|failed| {
        (
            failed.clone(),
            Err(failed.error.clone().unwrap_or_default()),
        )
    }));
    parts.sort_by(|a, b| a.0.account_id.cmp(&b.0.account_id));
    let info = ManifestInfo {
        file: plan.manifest.file.clone(),
        sha256: plan.manifest.sha256.clone(),
    };
    let mut checked = Plan::combine(info, parts, plan.created_at);
    checked.undo = plan.undo;
    checked.undoes = plan.undoes;
    Ok((checked, already_back))
}

/// One account's part as checked: the plan to apply, and for an undo plan
/// the changes set aside and how many were already back.
enum Checked {
    Plan(Plan),
    Undo(Plan, Vec<(Change, String)>, usize),
}

/// One account's part checked with its client: `Err` refuses the whole
/// plan (a guard), `Ok(Err(why))` is the account's failure (one line).
async fn check_part(
    client: &Client,
    part: Plan,
    manifest: Option<&crate::manifest::Manifest>,
    out: &mut Stdout,
) -> anyhow::Result<Result<Checked, String>> {
    let failure = |error: anyhow::Error| crate::output::causes(&error).join(": ");
    if part.undo {
        let mut set_aside = Vec::new();
        return Ok(saved::settle_undo(client, part, &mut set_aside, out)
            .await
            .map(|(part, back)| Checked::Undo(part, set_aside, back))
            .map_err(failure));
    }
    match check_stale(client, &part).await {
        Err(stale @ ApplyError::Stale(_)) => return Err(stale.into()),
        Err(unread) => return Ok(Err(failure(unread.into()))),
        Ok(_) => {}
    }
    let Some(manifest) = manifest else {
        return Ok(Ok(Checked::Plan(part)));
    };
    match saved::recheck_against_manifest(client, part, manifest).await {
        Ok(part) => Ok(Ok(Checked::Plan(part))),
        Err(error) if error.is::<UnaskedChanges>() => Err(error),
        Err(unread) => Ok(Err(failure(unread))),
    }
}

fn in_account(change: Change, account_id: &Arc<String>) -> Change {
    Change {
        account_id: Some(account_id.clone()),
        ..change
    }
}

/// The accounts a saved plan planned, each with the role to assume: the
/// manifest's when it is at hand, since the manifest's hash is what the
/// plan is checked against and its `role` fields are not (an edited plan
/// resealed could name another role); else the role the plan recorded.
fn planned_accounts(plan: &Plan, manifest_role: Option<&str>) -> Vec<AccountStatus> {
    plan.accounts
        .iter()
        .filter(|a| a.error.is_none())
        .map(|a| AccountStatus {
            role: manifest_role.map(str::to_owned).or_else(|| a.role.clone()),
            ..a.clone()
        })
        .collect()
}

/// Each account's part run with its client, several at once; one report.
pub(super) async fn run_accounts(
    base: &Client,
    plan: &Plan,
    clients: &[(AccountStatus, Client)],
    run: &ApplyOptions,
    interrupts: &Interrupts,
) -> Report {
    let started_at = Utc::now();
    let stop = Stop::new(run.max_errors);
    // Accounts run at once: one bar each would draw over the others.
    let options = ApplyOptions {
        progress: ProgressStyle::Lines,
        ..run.clone()
    };
    let options = &options;
    let runs = plan
        .split_accounts()
        .filter(|(_, part)| part.has_changes())
        .filter_map(|(status, part)| {
            let client = clients
                .iter()
                .find(|(s, _)| s.account_id == status.account_id)
                .map(|(_, client)| client)?;
            Some((status, part, client))
        })
        .map(|(status, part, client)| {
            let stop = stop.sharing_failures();
            async move {
                // Each account has its own quotas: discovered, as a run of
                // one account discovers its own, before its first join.
                pace_under_quotas(client, &part).await;
                let report = run_under(client, &part, options, interrupts, &stop).await;
                (status, report, stop.get())
            }
        });
    let reports: Vec<_> = futures::stream::iter(runs)
        .buffered(ACCOUNTS_AT_ONCE)
        .collect()
        .await;
    let mut outcomes = Vec::new();
    let mut stopped = Vec::new();
    for (status, report, halt) in reports {
        if let Some(halt) = halt {
            stopped.push(format!("account {}: {}", status.account_id, halt.reason()));
        }
        outcomes.extend(report.outcomes.into_iter().map(|mut outcome| {
            outcome.change = in_account(outcome.change, &status.account_id);
            outcome
        }));
    }
    Report::finished(
        plan,
        started_at,
        interrupts.stopped(),
        (!stopped.is_empty()).then(|| stopped.join("; ")),
        base.stats(),
        outcomes,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_saved_plans_roles_give_way_to_the_manifests_at_hand() {
        let status = |id: &str, role: Option<&str>, error: Option<&str>| AccountStatus {
            account_id: Arc::new(id.to_owned()),
            name: id.to_owned(),
            role: role.map(str::to_owned),
            error: error.map(str::to_owned),
        };
        let plan = Plan {
            accounts: vec![
                status("1001", Some("edited-in"), None),
                status("1002", None, None),
                status("1003", Some("edited-in"), Some("AssumeRole failed")),
            ],
            ..Plan::empty()
        };
        let roles = |planned: Vec<AccountStatus>| -> Vec<(String, Option<String>)> {
            planned
                .into_iter()
                .map(|a| (a.account_id.to_string(), a.role))
                .collect()
        };
        assert_eq!(
            roles(planned_accounts(&plan, Some("regroup-mover"))),
            [
                ("1001".to_owned(), Some("regroup-mover".to_owned())),
                ("1002".to_owned(), Some("regroup-mover".to_owned()))
            ],
            "the manifest's role for every planned account; the failed one left out"
        );
        assert_eq!(
            roles(planned_accounts(&plan, None)),
            [
                ("1001".to_owned(), Some("edited-in".to_owned())),
                ("1002".to_owned(), None)
            ],
            "without the manifest, what the plan recorded"
        );
    }
}
