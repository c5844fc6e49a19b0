//! A plan over several accounts, for people: a section per account (its
//! moves and groups as a plan of one account shows them, or the one line
//! saying why it could not be planned), each as its account is planned,
//! then the combined summary: the plan's warnings (each naming its
//! account), the overview and the summary line. `regroup plan` feeds
//! [`Sections`] account by account and holds no account's plan once it is
//! shown; a plan read whole goes through the same [`write_all`]. Text is
//! written section by section; markdown, a comment within GitHub's limit,
//! is gathered (bounded) and written at the end. The JSON needs nothing of
//! this: each change names its account there.

use std::fmt::Write as _;
use std::io::Write;

use super::escape::{self, code, markdown as cell};
use super::markdown::{cut_note, moves, warnings, COMMENT_LIMIT, TITLE};
use super::{count, summary_line, Format, Text};
use crate::plan::{AccountStatus, Plan, Totals};

/// A plan over several accounts shown one account at a time, in account-id
/// order.
pub trait Sections {
    /// The next account's section: its plan (a plan of one account, its
    /// warnings left to the end), or why it could not be planned.
    fn account(
        &mut self,
        account: &AccountStatus,
        part: Result<&Plan, &str>,
        out: &mut dyn Write,
    ) -> std::io::Result<()>;

    /// The end: `head` is the plan over the accounts (its changes need not
    /// be there), `totals` what it counts.
    fn finish(&mut self, head: &Plan, totals: Totals, out: &mut dyn Write) -> std::io::Result<()>;
}

/// The sections of `format`; none for JSON, which is written whole once
/// every account is planned.
pub fn sections(format: Format, color: bool) -> Option<Box<dyn Sections>> {
    match format {
        Format::Text => Some(Box::new(Text { color })),
        Format::Markdown => Some(Box::new(MarkdownSections::default())),
        Format::Json => None,
    }
}

/// A plan over several accounts held whole, through `sections`.
pub(super) fn write_all(
    sections: &mut dyn Sections,
    plan: &Plan,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut planned = plan.split_accounts().peekable();
    for account in &plan.accounts {
        match planned.next_if(|(a, _)| a == account) {
            Some((_, part)) => sections.account(account, Ok(&part), out)?,
            None => {
                let why = account.error.as_deref().unwrap_or_default();
                sections.account(account, Err(why), out)?;
            }
        }
    }
    sections.finish(plan, plan.totals(), out)
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

/// Text: each section written as it comes; the warnings, the overview and
/// the plan's summary line at the end.
impl Sections for Text {
    fn account(
        &mut self,
        account: &AccountStatus,
        part: Result<&Plan, &str>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let heading = self.bold(&format!("── {} ──", escape::terminal(&title(account))));
        let mut section = String::new();
        match part {
            Ok(part) => {
                let _ = writeln!(section, "{heading}\n");
                self.moves(part, &mut section);
            }
            Err(error) => {
                let why = escape::terminal(error);
                let _ = writeln!(section, "{heading}");
                let _ = writeln!(section, "{}", self.warn(&format!("Failed: {why}")));
            }
        }
        section.push('\n');
        out.write_all(section.as_bytes())?;
        // Seen as it is planned, not when the buffer fills.
        out.flush()
    }

    fn finish(&mut self, head: &Plan, totals: Totals, out: &mut dyn Write) -> std::io::Result<()> {
        let mut closing = String::new();
        self.warnings(&head.warnings, &mut closing);
        let _ = writeln!(closing, "{}", self.bold(&overview(head)));
        let _ = writeln!(closing, "{}", self.bold(&summary_line(totals)));
        out.write_all(closing.as_bytes())
    }
}

/// Room in the comment for the table of accounts (about 200 rows), so that
/// the first accounts' moves do not crowd out the later accounts' rows.
const TABLE_ROOM: usize = 16 * 1024;
/// Room for the comment's first lines, the table's head and the notes
/// about what was cut.
const HEAD_ROOM: usize = 4 * 1024;
/// Room for the accounts' moves: the rest of the comment.
const SECTIONS_ROOM: usize = COMMENT_LIMIT - TABLE_ROOM - HEAD_ROOM;
/// Room for one more account's section: its heading, its table's head and
/// its notes.
const SECTION_ROOM: usize = 4_096;

/// The comment for a plan over several accounts: the combined summary, a
/// table of the accounts, each planned account's moves, then the warnings.
/// The summary comes first but is known last, so the table's rows and the
/// sections are gathered as the accounts come, each within its own room,
/// and written at the end: the comment's limit bounds what is held.
#[derive(Default)]
pub(super) struct MarkdownSections {
    rows: String,
    hidden_rows: usize,
    sections: String,
    hidden_sections: usize,
}

impl Sections for MarkdownSections {
    fn account(
        &mut self,
        account: &AccountStatus,
        part: Result<&Plan, &str>,
        _out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let row = match part {
            Ok(part) => format!(
                "| {} | {} | {} | {} | planned |\n",
                code(&account.account_id),
                cell(&account.name),
                part.changes.len(),
                part.unchanged
            ),
            Err(error) => format!(
                "| {} | {} | | | ⚠ failed: {} |\n",
                code(&account.account_id),
                cell(&account.name),
                cell(error)
            ),
        };
        // Once a row is cut, so are the rest, as a table is cut.
        if self.hidden_rows > 0 || self.rows.len() + row.len() > TABLE_ROOM {
            self.hidden_rows += 1;
        } else {
            self.rows.push_str(&row);
        }
        let part = match part {
            Ok(part) if part.has_changes() => part,
            _ => return Ok(()),
        };
        // Each section's rows keep to the room; its heading and closing
        // lines need room of their own.
        if self.hidden_sections > 0 || self.sections.len() + SECTION_ROOM > SECTIONS_ROOM {
            self.hidden_sections += 1;
            return Ok(());
        }
        self.sections.push('\n');
        moves(
            part,
            &mut self.sections,
            &format!("{}: ", cell(&title(account))),
            SECTIONS_ROOM,
        );
        Ok(())
    }

    fn finish(&mut self, head: &Plan, totals: Totals, out: &mut dyn Write) -> std::io::Result<()> {
        let mut comment = String::new();
        let _ = writeln!(comment, "{TITLE}\n");
        let _ = writeln!(comment, "**{} {}**\n", overview(head), summary_line(totals));
        let _ = writeln!(
            comment,
            "| Account | Name | Moves | Unchanged | |\n|---|---|---|---|---|"
        );
        comment.push_str(&self.rows);
        comment.push_str(&cut_note(self.hidden_rows, "account", "accounts"));
        comment.push_str(&self.sections);
        comment.push_str(&cut_note(
            self.hidden_sections,
            "account's moves",
            "accounts' moves",
        ));
        warnings(&head.warnings, &mut comment);
        out.write_all(comment.as_bytes())
    }
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

    /// The first accounts' many moves do not crowd out the later
    /// accounts' rows: the table has a room of its own.
    #[test]
    fn markdown_keeps_a_row_for_every_account_beside_large_sections() {
        let mut large = sample_plan();
        let first = large.changes[0].clone();
        large.changes = (0..500)
            .map(|n| {
                let mut change = first.clone();
                change.resource.id = format!("i-{n:04}").into();
                change
            })
            .collect();
        let parts = (0..20)
            .map(|n| (status(&format!("{}", 1001 + n)), Ok(large.clone())))
            .collect();
        let plan = Plan::combine(large.manifest.clone(), parts, large.created_at);
        let comment = Markdown.render(&plan);
        assert!(
            comment.chars().count() <= COMMENT_LIMIT,
            "{} characters",
            comment.chars().count()
        );
        for n in 0..20 {
            assert!(
                comment.contains(&format!(
                    "| `{}` | member-{} | 500 | 1 | planned |",
                    1001 + n,
                    1001 + n
                )),
                "a row for account {n}"
            );
        }
        assert!(
            comment.contains("<summary><b>Account 1001 (member-1001): Plan: 500 to move")
                && comment.contains("more accounts' moves are not shown"),
            "the first account's moves, the rest counted"
        );
    }
}
