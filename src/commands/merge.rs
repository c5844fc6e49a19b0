//! `regroup merge FILE…`: the plans (or the reports) of a fleet's shards
//! combined into one (`apply::merge_files`), printed as `plan` prints a
//! plan (a report: its summary, or its JSON) and optionally saved; offline.

use std::io::Write;

use anyhow::Context as _;

use super::{use_color, Exit};
use crate::apply::merge_files::{read_and_merge, report_markdown, Merged};
use crate::atomic_file;
use crate::cli::{Global, MergeArgs};
use crate::output::Stdout;
use crate::render::{self, Format, Render};

pub(super) fn run(global: &Global, args: &MergeArgs, out: &mut Stdout) -> anyhow::Result<Exit> {
    if let Some(path) = &args.out {
        atomic_file::check_target(path)?;
        for input in &args.files {
            atomic_file::check_not_input(path, input, "a file being merged")?;
        }
    }
    let merged = read_and_merge(&args.files)?;
    match (&merged, args.format) {
        (Merged::Plan(plan), format) => {
            render::renderer(format, use_color(global)).write(plan, out)?
        }
        (Merged::Report(report), Format::Text) => out.write_all(report.summary().as_bytes())?,
        (Merged::Report(report), Format::Markdown) => {
            out.write_all(report_markdown(report).as_bytes())?
        }
        (Merged::Report(report), Format::Json) => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)?;
        }
    }
    if let Some(path) = &args.out {
        atomic_file::write(path, |file| match &merged {
            Merged::Plan(plan) => render::Json.write(plan, file),
            Merged::Report(report) => {
                serde_json::to_writer_pretty(&mut *file, report)?;
                writeln!(file)
            }
        })
        .with_context(|| format!("could not save the merged file to {}", path.display()))?;
    }
    Ok(Exit::Success)
}
