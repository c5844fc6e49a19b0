//! A plan over the member accounts of a Resource Directory: the members
//! listed with the base credentials (`cloud::directory`), selected by the
//! manifest's `accounts:` block, `--account` and `--shard` (the pure
//! `crate::accounts`), a client for each that acts in it through the role
//! the manifest names (STS `AssumeRole` on `acs:ram::<id>:role/<role>`,
//! docs/sources/resource-directory.md §7, refreshed like any temporary
//! key), and each account planned as a run of one account is, several at
//! once, each under its own rate limiter (quotas are per account, §6).
//! One account's failure is its own: it is listed in the plan with its
//! error and the others are planned.

use std::sync::Arc;

use futures::{Stream, StreamExt as _};

use crate::accounts::{self, Member, Shard};
use crate::cloud::client::Client;
use crate::cloud::credentials::{self, CredentialsError};
use crate::cloud::directory;
use crate::manifest::accounts::AccountsSpec;
use crate::manifest::Manifest;
use crate::plan::{AccountPlan, AccountStatus, ManifestInfo, Plan};

/// How many accounts are planned (or applied) at once. Each has its own
/// quotas, so more at once is faster until the machine's connections or
/// memory run short: each account's inventory is held while it is planned.
pub const ACCOUNTS_AT_ONCE: usize = 16;

/// What narrows the members a run acts in, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Fanout {
    /// `--account`: only these ids.
    pub only: Vec<String>,
    /// `--shard I/N`.
    pub shard: Option<Shard>,
    /// `--rate`, for each account's limiter.
    pub max_rate: Option<f64>,
}

/// A member's client, or why there is none (one line).
pub type MemberClient = (AccountStatus, Result<Client, String>);

/// The members the manifest's `accounts:` selects, narrowed by `--account`
/// and `--shard`, sorted by account id.
pub async fn discover(
    base: &Client,
    spec: &AccountsSpec,
    fanout: &Fanout,
) -> anyhow::Result<Vec<Member>> {
    let members = directory::list_accounts(base).await?;
    let chosen = accounts::select(&members, spec, &fanout.only)?;
    Ok(chosen
        .into_iter()
        .filter(|m| fanout.shard.is_none_or(|shard| shard.holds(&m.account_id)))
        .cloned()
        .collect())
}

/// A client that acts in `account_id` through `role`, sharing the base
/// client's connections and call counts but with its own rate limiter.
pub async fn connect_member(
    base: &Client,
    account_id: &str,
    role: &str,
    max_rate: Option<f64>,
) -> Result<Client, String> {
    let arn = format!("acs:ram::{account_id}:role/{role}");
    let source = credentials::assume_role(
        format!("role {role} of account {account_id}"),
        base.credentials().clone(),
        arn,
        base.transport(),
    )
    .await
    .map_err(|error| {
        let why = match &error {
            CredentialsError::Fetch { source, .. } => source.to_string(),
            other => other.to_string(),
        };
        one_line(&format!("cannot assume role {role}: {why}"))
    })?;
    Ok(Client::with_transport(
        base.transport().clone(),
        source,
        max_rate,
    ))
}

/// Clients for `statuses`, several at once, in the order given, each
/// through the role its status records, else `fallback_role`.
pub async fn connect_members(
    base: &Client,
    statuses: Vec<AccountStatus>,
    fallback_role: &str,
    max_rate: Option<f64>,
) -> Vec<MemberClient> {
    futures::stream::iter(statuses)
        .map(|status| async move {
            let role = status.role_or(fallback_role);
            let client = connect_member(base, &status.account_id, role, max_rate).await;
            (status, client)
        })
        .buffered(ACCOUNTS_AT_ONCE)
        .collect()
        .await
}

/// Plans the manifest in every member it selects: one plan, with a part
/// per account; the clients of the accounts planned, for an apply to
/// reuse. (`regroup plan` shows and saves each account's part as it comes
/// instead: `planning::stream`.)
pub async fn plan_across(
    base: &Client,
    manifest: &Manifest,
    spec: &AccountsSpec,
    fanout: &Fanout,
    ignore_missing: bool,
) -> anyhow::Result<(Plan, Vec<(AccountStatus, Client)>)> {
    let parts: Vec<(AccountPlan, Option<Client>)> =
        planned_members(base, manifest, spec, fanout, ignore_missing)
            .await?
            .collect()
            .await;
    let mut clients = Vec::new();
    let mut plans = Vec::with_capacity(parts.len());
    for ((status, plan), client) in parts {
        if let Some(client) = client {
            clients.push((status.clone(), client));
        }
        plans.push((status, plan));
    }
    let mut plan = Plan::combine(manifest_info(manifest), plans, chrono::Utc::now());
    // Only this: the caller adds its own warnings and, once, that the plan
    // manages nothing (`strict::with_warnings`), as `regroup plan` does.
    if plan.accounts.is_empty() {
        plan.warnings.push(none_selected(fanout));
    }
    tracing::info!(calls = base.stats().requests, "plan read the accounts");
    Ok((plan, clients))
}

/// Every member the manifest selects planned, [`ACCOUNTS_AT_ONCE`] at a
/// time, each yielded in account-id order as soon as it and every one
/// before it is planned: its part, and the client acting in it when it
/// could be planned. At most that many accounts' inventories and plans are
/// held at once.
pub(super) async fn planned_members<'a>(
    base: &'a Client,
    manifest: &'a Manifest,
    spec: &'a AccountsSpec,
    fanout: &'a Fanout,
    ignore_missing: bool,
) -> anyhow::Result<impl Stream<Item = (AccountPlan, Option<Client>)> + 'a> {
    let members = discover(base, spec, fanout).await?;
    tracing::info!(accounts = members.len(), "planning across accounts");
    let statuses: Vec<AccountStatus> = members.iter().map(|m| status_of(m, &spec.role)).collect();
    Ok(futures::stream::iter(statuses)
        .map(move |status| plan_one(base, manifest, spec, fanout, ignore_missing, status))
        .buffered(ACCOUNTS_AT_ONCE))
}

/// The manifest as a plan names it.
pub(super) fn manifest_info(manifest: &Manifest) -> ManifestInfo {
    ManifestInfo {
        file: manifest.file.clone(),
        sha256: manifest.sha256.clone(),
    }
}

/// The warning of a plan over no account, so that an empty shard does not
/// read as a plan of one account.
pub(super) fn none_selected(fanout: &Fanout) -> String {
    match fanout.shard {
        Some(shard) => format!("shard {shard} holds none of the member accounts the manifest's `accounts:` selects (the split is by a hash of the account id)"),
        None => "the manifest's `accounts:` selects no member account".to_owned(),
    }
}

/// One member planned with a client acting in it: its plan and the
/// client, or why there is none.
async fn plan_one(
    base: &Client,
    manifest: &Manifest,
    spec: &AccountsSpec,
    fanout: &Fanout,
    ignore_missing: bool,
    status: AccountStatus,
) -> (AccountPlan, Option<Client>) {
    let client = match connect_member(base, &status.account_id, &spec.role, fanout.max_rate).await {
        Ok(client) => client,
        Err(error) => return ((status, Err(error)), None),
    };
    match super::make_plan(&client, manifest, ignore_missing).await {
        Ok(plan) => ((status, Ok(plan)), Some(client)),
        Err(error) => (
            (status, Err(crate::output::causes(&error).join(": "))),
            None,
        ),
    }
}

/// The account as the plan lists it, with the role assumed in it (saved,
/// so that the plan is applied through it without its manifest).
fn status_of(member: &Member, role: &str) -> AccountStatus {
    AccountStatus {
        account_id: Arc::new(member.account_id.clone()),
        name: member.name().to_owned(),
        role: Some(role.to_owned()),
        error: None,
    }
}

/// The accounts that failed, as an error: one line each, naming the
/// account.
pub fn check_accounts(plan: &Plan) -> anyhow::Result<()> {
    let failed: Vec<String> = plan
        .failed_accounts()
        .map(|a| {
            format!(
                "account {} ({}): {}",
                a.account_id,
                a.name,
                a.error.as_deref().unwrap_or_default()
            )
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} of {} account(s) failed:\n{}",
        failed.len(),
        plan.accounts.len(),
        failed.join("\n")
    )
}

/// Messages from the server are shown on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `--account` and `--shard` select among the manifest's `accounts:`.
pub fn refuse_fanout(manifest: &Manifest, fanout: &Fanout) -> anyhow::Result<()> {
    let flag = match (fanout.only.is_empty(), fanout.shard) {
        (false, _) => "--account",
        (true, Some(_)) => "--shard",
        (true, None) => return Ok(()),
    };
    anyhow::bail!(
        "{flag} selects among the member accounts of a manifest's `accounts:`, and {} has none\n  hint: add `accounts: {{all: true}}` (docs/manifest.md, \"Many accounts\"), or leave out {flag}",
        manifest.file
    )
}
