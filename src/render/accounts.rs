//! A plan over several accounts, for people: a section per account (its
//! moves and groups as a plan of one account shows them, or the one line
//! saying why it could not be planned), then the combined summary. The
//! JSON needs nothing of this: each change names its account there.

use std::fmt::Write;

use super::escape::{self, code, markdown as cell};
use super::markdown::{body, cut_note, push_within, warnings};
use super::{count, summary_line, Text};
use crate::plan::{AccountStatus, Plan};

/// Each account of the plan in order, with its part when it was planned.
fn parts(plan: &Plan) -> Vec<(AccountStatus, Option<Plan>)> {
    let mut planned = plan.split_accounts().into_iter().peekable();
    plan.accounts
        .iter()
        .map(|account| match planned.next_if(|(a, _)| a == account) {
            Some((_, part)) => (account.clone(), Some(part)),
            None => (account.clone(), None),
        })
        .collect()
}

/// `3 accounts: 2 planned, 1 failed.`
fn overview(plan: &Plan) -> String {
    let failed = plan.failed_accounts().count();
    let planned = plan.accounts.len() - failed;
    let failing = if failed > 0 {
        format!(", {failed} failed")
    } else {
        String::new()
    };
    format!(
        "{}: {planned} planned{failing}.",
        count(plan.accounts.len(), "account", "accounts")
    )
}

fn title(account: &AccountStatus) -> String {
    format!("Account {} ({})", account.account_id, account.name)
}

impl Text {
    /// Warnings first (each names its account), a section per account, the
    /// overview and the plan's summary line.
    pub(super) fn accounts(&self, plan: &Plan, out: &mut String) {
        for warning in &plan.warnings {
            let _ = writeln!(out, "Warning: {}", escape::terminal(warning));
        }
        if !plan.warnings.is_empty() {
            out.push('\n');
        }
        for (account, part) in parts(plan) {
            let heading = escape::terminal(&title(&account));
            match (part, &account.error) {
                (Some(part), _) => {
                    let _ = writeln!(out, "{}\n", self.bold(&format!("── {heading} ──")));
                    self.body(&part, out);
                }
                (None, error) => {
                    let why = escape::terminal(error.as_deref().unwrap_or_default());
                    let _ = writeln!(out, "{}", self.bold(&format!("── {heading} ──")));
                    let _ = writeln!(out, "{}", self.warn(&format!("Failed: {why}")));
                }
            }
            out.push('\n');
        }
        let _ = writeln!(out, "{}", self.bold(&overview(plan)));
        let _ = writeln!(out, "{}", self.bold(&summary_line(plan)));
    }
}

/// The comment for a plan over several accounts: the combined summary, a
/// table of the accounts, then each planned account's moves, all within
/// the comment limit.
pub(super) fn markdown(plan: &Plan, out: &mut String) {
    let _ = writeln!(out, "**{} {}**\n", overview(plan), summary_line(plan));
    let parts = parts(plan);
    let _ = writeln!(
        out,
        "| Account | Name | Moves | Unchanged | |\n|---|---|---|---|---|"
    );
    let rows = parts.iter().map(|(account, part)| match part {
        Some(part) => format!(
            "| {} | {} | {} | {} | planned |\n",
            code(&account.account_id),
            cell(&account.name),
            part.changes.len(),
            part.unchanged
        ),
        None => format!(
            "| {} | {} | | | ⚠ failed: {} |\n",
            code(&account.account_id),
            cell(&account.name),
            cell(account.error.as_deref().unwrap_or_default())
        ),
    });
    let hidden = push_within(out, rows);
    out.push_str(&cut_note(hidden, "account", "accounts"));
    for (account, part) in &parts {
        let Some(part) = part else { continue };
        if !part.has_changes() {
            continue;
        }
        out.push('\n');
        body(part, out, &format!("{}: ", cell(&title(account))));
    }
    warnings(plan, out);
}
