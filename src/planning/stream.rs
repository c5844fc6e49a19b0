//! `regroup plan`'s plan, as it shows and saves it. Over the members of a
//! manifest's `accounts:`, each account's part is shown as soon as it (and
//! every account before it, in account-id order) is planned, its changes
//! go to a temporary file, and it is dropped: the run holds the accounts
//! being planned (`ACCOUNTS_AT_ONCE`) and the small rest of the plan
//! (accounts, counts, missing entries, groups, warnings), not the sum of
//! every account's changes. The plan's JSON, which lists the accounts
//! before the changes, is written once every account is planned, with the
//! changes read back from the file, as the very bytes the plan held whole
//! would be (`plan::spill`). A manifest without `accounts:` is planned
//! whole, as before.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use futures::StreamExt as _;

use super::accounts::{manifest_info, none_selected, planned_members, refuse_fanout, Fanout};
use super::strict;
use crate::cloud::client::Client;
use crate::manifest::Manifest;
use crate::plan::{AccountPlan, Combining, ManifestInfo, Plan, Spill, Totals};
use crate::render::{self, Format, Render as _, Sections};

/// How the plan is shown on stdout.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub format: Format,
    pub color: bool,
}

/// A plan as `regroup plan` shows and saves it.
pub enum Planned {
    /// A plan of one account, held whole.
    Whole(Plan),
    /// A plan over accounts whose sections were shown as they came.
    Streamed(Streamed),
}

/// A plan over accounts, all of it but its changes, which wait in a file.
pub struct Streamed {
    head: Plan,
    totals: Totals,
    spill: Spill<File>,
    sections: Option<Box<dyn Sections>>,
}

/// The plan of a run: over the members when the manifest has `accounts:`
/// (each account's section shown on `out` as it is planned), else whole;
/// with `extra` warnings (the `--region`s the manifest does not read).
pub async fn plan_shown(
    base: &Client,
    manifest: &Manifest,
    fanout: &Fanout,
    ignore_missing: bool,
    extra: Vec<String>,
    shown: Shown,
    out: &mut dyn Write,
) -> anyhow::Result<Planned> {
    let Some(spec) = &manifest.accounts else {
        // The credentials' own account, where `--account` and `--shard`
        // mean nothing.
        refuse_fanout(manifest, fanout)?;
        let plan = super::make_plan(base, manifest, ignore_missing).await?;
        return Ok(Planned::Whole(strict::with_warnings(plan, extra)));
    };
    let parts = planned_members(base, manifest, spec, fanout, ignore_missing).await?;
    let mut parts = std::pin::pin!(parts);
    let mut streaming = Streaming::new(manifest_info(manifest), shown)?;
    while let Some((part, _client)) = parts.next().await {
        streaming.add(part, out)?;
    }
    tracing::info!(calls = base.stats().requests, "plan read the accounts");
    Ok(Planned::Streamed(streaming.finish(fanout, extra)))
}

/// A plan over accounts being planned: each part shown and spilled.
struct Streaming {
    combining: Combining,
    spill: Spill<File>,
    /// Where the spill is, for the errors that name it.
    folder: PathBuf,
    sections: Option<Box<dyn Sections>>,
}

impl Streaming {
    fn new(manifest: ManifestInfo, shown: Shown) -> anyhow::Result<Streaming> {
        // Anonymous, in the temporary folder: removed when closed, however
        // the run ends.
        let folder = std::env::temp_dir();
        let file = tempfile::tempfile_in(&folder).with_context(|| {
            format!(
                "could not make a temporary file in {} for the plan's changes (set TMPDIR to a writable folder)",
                folder.display()
            )
        })?;
        Ok(Streaming {
            combining: Combining::new(manifest),
            spill: Spill::new(file),
            folder,
            sections: render::sections(shown.format, shown.color),
        })
    }

    /// The next account's part: its section shown, its changes spilled.
    fn add(&mut self, (status, part): AccountPlan, out: &mut dyn Write) -> anyhow::Result<()> {
        if let Some(sections) = &mut self.sections {
            sections.account(&status, part.as_ref().map_err(String::as_str), out)?;
        }
        let changes = self.combining.add((status, part));
        self.spill.push(&changes).with_context(|| {
            format!(
                "could not write the plan's changes to a temporary file in {}",
                self.folder.display()
            )
        })?;
        Ok(())
    }

    /// The plan made now, with its warnings: that it covers no account,
    /// if so, then `extra`, then that it manages nothing, if so.
    fn finish(self, fanout: &Fanout, extra: Vec<String>) -> Streamed {
        let (mut head, totals) = self.combining.finish(chrono::Utc::now());
        let none = head.accounts.is_empty().then(|| none_selected(fanout));
        let warnings = none.into_iter().chain(extra).collect();
        strict::add_warnings(&mut head, totals, warnings);
        Streamed {
            head,
            totals,
            spill: self.spill,
            sections: self.sections,
        }
    }
}

impl Planned {
    /// The plan, or all of it but its changes: its accounts and warnings.
    pub fn head(&self) -> &Plan {
        match self {
            Planned::Whole(plan) => plan,
            Planned::Streamed(streamed) => &streamed.head,
        }
    }

    /// What the plan counts.
    pub fn totals(&self) -> Totals {
        match self {
            Planned::Whole(plan) => plan.totals(),
            Planned::Streamed(streamed) => streamed.totals,
        }
    }

    /// The plan as JSON, as `render::Json` writes it.
    pub fn write_json(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Planned::Whole(plan) => render::Json.write(plan, out),
            Planned::Streamed(streamed) => {
                streamed.spill.write_plan(&streamed.head, out)?;
                out.write_all(b"\n")
            }
        }
    }

    /// Shows the plan as `shown` says: whole, or the rest of it after the
    /// sections shown as the accounts were planned.
    pub fn show(&mut self, shown: Shown, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Planned::Whole(plan) => render::renderer(shown.format, shown.color).write(plan, out),
            // Over no account (an empty shard) nothing was shown or
            // spilled: the head is the whole plan, shown as `regroup show`
            // shows it once saved (a plan naming no account reads as one
            // account's).
            Planned::Streamed(Streamed { head, .. }) if head.accounts.is_empty() => {
                render::renderer(shown.format, shown.color).write(head, out)
            }
            Planned::Streamed(Streamed {
                head,
                totals,
                sections: Some(sections),
                ..
            }) => sections.finish(head, *totals, out),
            Planned::Streamed(_) => self.write_json(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{sample_plan, sample_status};

    /// Three accounts: one with a warning, one failed, one with nothing to
    /// move.
    fn parts() -> Vec<AccountPlan> {
        let one = sample_plan();
        let mut noted = one.clone();
        noted.warnings.push("a warning of its own".into());
        let mut still = one.clone();
        still.changes.clear();
        vec![
            (sample_status("1001"), Ok(noted)),
            (sample_status("1002"), Err("cannot assume role R".into())),
            (sample_status("1003"), Ok(still)),
        ]
    }

    /// The plan streamed account by account in `format`: what was shown as
    /// the accounts came, what was shown at the end, and the JSON.
    fn streamed(format: Format) -> (String, String, Vec<u8>, Planned) {
        let shown = Shown {
            format,
            color: false,
        };
        let mut streaming = Streaming::new(sample_plan().manifest, shown).expect("a spill");
        let mut as_they_came = Vec::new();
        for part in parts() {
            streaming.add(part, &mut as_they_came).expect("shown");
        }
        let mut planned = Planned::Streamed(streaming.finish(&Fanout::default(), Vec::new()));
        let mut at_the_end = Vec::new();
        planned.show(shown, &mut at_the_end).expect("shown");
        let mut json = Vec::new();
        planned.write_json(&mut json).expect("written");
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
        (text(as_they_came), text(at_the_end), json, planned)
    }

    #[test]
    fn a_streamed_plan_is_shown_and_saved_as_the_plan_held_whole() {
        let (as_they_came, at_the_end, json, planned) = streamed(Format::Text);
        let one = sample_plan();
        let whole = Plan::combine(one.manifest.clone(), parts(), planned.head().created_at);
        let text = render::Text { color: false }.render(&whole);
        assert_eq!(
            format!("{as_they_came}{at_the_end}"),
            text,
            "the same text, a section at a time"
        );
        assert!(
            as_they_came.starts_with("── Account 1001 (member-1001) ──\n\nregroup will move")
                && as_they_came.ends_with("── Account 1003 (member-1003) ──\n\nNo changes. The 1 resource the manifest manages is in its group.\n\n"),
            "each section as its account came: {as_they_came}"
        );
        assert_eq!(
            at_the_end,
            "Warning: account 1001: a warning of its own\n\n3 accounts: 2 planned, 1 failed.\nPlan: 2 to move, 2 unchanged.\n",
            "the warnings and the combined summary at the end"
        );
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            render::Json.render(&whole),
            "the same JSON, byte for byte"
        );
        assert_eq!(
            planned.totals(),
            whole.totals(),
            "the guards count the same"
        );
        Plan::from_json(&json).expect("reads back");
    }

    #[test]
    fn a_streamed_comment_is_gathered_and_written_at_the_end() {
        let (as_they_came, at_the_end, _, planned) = streamed(Format::Markdown);
        assert_eq!(as_they_came, "", "nothing until the summary is known");
        let one = sample_plan();
        let whole = Plan::combine(one.manifest.clone(), parts(), planned.head().created_at);
        assert_eq!(
            at_the_end,
            render::Markdown.render(&whole),
            "the same comment"
        );
    }

    #[test]
    fn a_streamed_json_plan_is_shown_whole_at_the_end() {
        let (as_they_came, at_the_end, json, _) = streamed(Format::Json);
        assert_eq!(as_they_came, "", "nothing until every account is planned");
        assert_eq!(at_the_end.as_bytes(), json, "the plan's JSON");
    }
}
