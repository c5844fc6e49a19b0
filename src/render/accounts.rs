//! A plan over several accounts, for people: a section per account (its
//! moves and groups as a plan of one account shows them, or the one line
//! saying why it could not be planned), then the combined summary. The
//! JSON needs nothing of this: each change names its account there.

use std::fmt::Write;

use super::escape::{self, code, markdown as cell};
use super::markdown::{body, cut_note, push_within, warnings, COMMENT_LIMIT};
use super::{count, summary_line, Text};
use crate::plan::{AccountStatus, Plan};

/// Room for one more account's section: its heading, its table's head,
/// its notes and the warnings' note.
const SECTION_ROOM: usize = 4_096;

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
pub(crate) fn overview(plan: &Plan) -> String {
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
    let moving: Vec<_> = parts
        .iter()
        .filter_map(|(account, part)| part.as_ref().map(|part| (account, part)))
        .filter(|(_, part)| part.has_changes())
        .collect();
    let mut shown = 0;
    for (account, part) in &moving {
        // Each section's rows keep to the limit; its heading and closing
        // lines need room of their own.
        if out.len() + SECTION_ROOM > COMMENT_LIMIT {
            break;
        }
        out.push('\n');
        body(part, out, &format!("{}: ", cell(&title(account))));
        shown += 1;
    }
    out.push_str(&cut_note(
        moving.len() - shown,
        "account's moves",
        "accounts' moves",
    ));
    warnings(plan, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{sample_plan, sample_status as status};
    use crate::render::{Markdown, Render};

    fn across(accounts: usize, failed: &str) -> Plan {
        let one = sample_plan();
        let mut parts: Vec<crate::plan::AccountPlan> = (0..accounts)
            .map(|n| (status(&format!("{}", 1001 + n)), Ok(one.clone())))
            .collect();
        parts.push((
            status(failed),
            Err("cannot assume role R: EntityNotExist.Role".into()),
        ));
        Plan::combine(one.manifest.clone(), parts, one.created_at)
    }

    #[test]
    fn text_has_a_section_per_account_and_the_combined_summary() {
        let text = Text { color: false }.render(&across(1, "9999"));
        assert_eq!(
            text,
            "── Account 1001 (member-1001) ──

regroup will move these resources:

  ~ instance/i-1 (cn-hangzhou)  default → prod  # regroup.yaml:5:15
  ~ instance/i-2 (cn-hangzhou)  default → prod  # regroup.yaml:5:15

Groups, before → after:
  default (rg-default)
    - instance/i-1 (cn-hangzhou)
    - instance/i-2 (cn-hangzhou)
  prod (rg-prod)
      … 1 unchanged
    + instance/i-1 (cn-hangzhou)
    + instance/i-2 (cn-hangzhou)

Plan: 2 to move, 1 unchanged.

── Account 9999 (member-9999) ──
Failed: cannot assume role R: EntityNotExist.Role

2 accounts: 1 planned, 1 failed.
Plan: 2 to move, 1 unchanged.
",
            "the plan as a person reads it"
        );
    }

    #[test]
    fn markdown_keeps_to_the_comment_limit_over_many_accounts() {
        let comment = Markdown.render(&across(2_000, "9999"));
        assert!(
            comment.chars().count() <= COMMENT_LIMIT,
            "{} characters",
            comment.chars().count()
        );
        assert!(
            comment.starts_with("### regroup plan\n\n**2001 accounts: 2000 planned, 1 failed. Plan: 4000 to move, 2000 unchanged.**\n"),
            "the combined summary first: {}",
            &comment[..200]
        );
        assert!(
            comment.contains("more accounts are not shown")
                && comment.contains("more accounts' moves are not shown"),
            "what is cut is counted"
        );
    }
}
