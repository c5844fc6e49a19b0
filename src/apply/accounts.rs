//! An apply over the member accounts of a Resource Directory (a manifest
//! with `accounts:`, or a plan saved from one): each account's part is
//! checked and applied with the client that acts in it, several accounts
//! at once, each under its own rate limiter, as a run of one account is.
//! `--max-errors` counts failed joins across the accounts; a RAM denial or
//! a canary stops new joins in its own account only. The report is one,
//! every outcome naming its account, and so is the undo plan made from it.
//! An account that could not be planned is reported as such and fails the
//! run; the others are applied.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use futures::StreamExt as _;

use super::conflicts::skip_conflicts;
use super::flow::{finish, review, show_plan, Source};
use super::halt::Stop;
use super::interrupts::Interrupts;
use super::progress::ProgressStyle;
use super::report::Report;
use super::request::{Applied, ApplyRequest, Ended};
use super::run::{run_under, ApplyOptions};
use super::saved;
use super::stale::check_stale;
use crate::cloud::client::Client;
use crate::manifest::accounts::DEFAULT_ROLE;
use crate::output::Stdout;
use crate::plan::{AccountStatus, Change, ManifestInfo, Plan};
use crate::planning::accounts::{check_accounts, connect_members, plan_across, ACCOUNTS_AT_ONCE};
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
            // The role each account records (a plan saved before roles
            // were recorded names none: the manifest's, if at hand).
            let fallback_role = manifest
                .as_ref()
                .and_then(|m| m.accounts.as_ref())
                .map_or(DEFAULT_ROLE, |spec| spec.role.as_str());
            let planned: Vec<AccountStatus> = plan
                .accounts
                .iter()
                .filter(|a| a.error.is_none())
                .cloned()
                .collect();
            let mut clients = Vec::new();
            for (status, client) in
                connect_members(&base, planned, fallback_role, request.connect.max_rate).await
            {
                let client = client.map_err(|why| {
                    anyhow::anyhow!(
                        "account {} ({}): {why}; nothing was changed",
                        status.account_id,
                        status.name
                    )
                })?;
                clients.push((status, client));
            }
            let plan = check_saved(*plan, manifest.as_ref(), &clients, &mut skipped, out)
                .await
                .map(|(plan, back)| {
                    already_back = back;
                    plan
                })?;
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
    let plan = skip_conflicts(plan, request.rails.override_rules, &mut skipped, out)?;
    if let Err(error) = out.flush() {
        tracing::warn!("could not print the plan: {error}");
    }
    let mut report = run_accounts(&base, &plan, &clients, request, &interrupts).await;
    for (change, why) in skipped {
        report.add_not_started(change, why);
    }
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
async fn check_saved(
    plan: Plan,
    manifest: Option<&crate::manifest::Manifest>,
    clients: &[(AccountStatus, Client)],
    skipped: &mut Vec<(Change, String)>,
    out: &mut Stdout,
) -> anyhow::Result<(Plan, usize)> {
    let mut parts = Vec::new();
    let mut already_back = 0;
    for ((status, part), (_, client)) in plan.split_accounts().into_iter().zip(clients) {
        let named = |error: anyhow::Error| {
            error.context(format!("account {} ({})", status.account_id, status.name))
        };
        let part = if plan.undo {
            let mut set_aside = Vec::new();
            let (part, back) = saved::settle_undo(client, part, &mut set_aside, out)
                .await
                .map_err(named)?;
            already_back += back;
            skipped.extend(
                set_aside
                    .into_iter()
                    .map(|(change, why)| (in_account(change, &status.account_id), why)),
            );
            part
        } else {
            check_stale(client, &part)
                .await
                .map_err(|e| named(e.into()))?;
            match manifest {
                Some(manifest) => saved::recheck_against_manifest(client, part, manifest)
                    .await
                    .map_err(named)?,
                None => part,
            }
        };
        parts.push((status, Ok(part)));
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

fn in_account(change: Change, account_id: &Arc<String>) -> Change {
    Change {
        account_id: Some(account_id.clone()),
        ..change
    }
}

/// Each account's part run with its client, several at once; one report.
async fn run_accounts(
    base: &Client,
    plan: &Plan,
    clients: &[(AccountStatus, Client)],
    request: &ApplyRequest,
    interrupts: &Interrupts,
) -> Report {
    let started_at = Utc::now();
    let stop = Stop::new(request.rails.run.max_errors);
    // Accounts run at once: one bar each would draw over the others.
    let options = ApplyOptions {
        progress: ProgressStyle::Lines,
        ..request.rails.run.clone()
    };
    let options = &options;
    let runs = plan
        .split_accounts()
        .into_iter()
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
