//! The changes of a plan over many accounts kept out of memory while the
//! accounts are planned: each account's changes are written, as they come,
//! to a file the caller gives (one compact JSON line each), and the plan is
//! written at the end with its changes read back from there one at a time,
//! as the same bytes [`Plan::write_json`] writes for the plan holding them
//! (same fields in the same order, same checksum). The JSON lists the
//! accounts, with their errors, before the changes, so it can only be
//! written once every account is planned; this keeps a run over 100
//! accounts as small as the accounts planned at once.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use serde::ser::{Error as _, SerializeSeq as _};
use serde::{Serialize, Serializer};

use super::file::write_sealed;
use super::{Change, Plan};

/// Changes waiting in `F` (a temporary file), in the order pushed.
pub struct Spill<F: Read + Write + Seek> {
    file: BufWriter<F>,
    count: usize,
}

impl<F: Read + Write + Seek> Spill<F> {
    pub fn new(file: F) -> Spill<F> {
        Spill {
            file: BufWriter::with_capacity(64 * 1024, file),
            count: 0,
        }
    }

    /// Writes `changes` after those pushed before.
    pub fn push(&mut self, changes: &[Change]) -> std::io::Result<()> {
        for change in changes {
            serde_json::to_writer(&mut self.file, change)?;
            self.file.write_all(b"\n")?;
        }
        self.count += changes.len();
        Ok(())
    }

    /// Writes `head` (a plan without its changes, from
    /// [`super::Combining`]) as the plan holding the changes pushed, in
    /// order: byte for byte what [`Plan::write_json`] writes. It can be
    /// written again.
    pub fn write_plan(&mut self, head: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        let changes = Spilled {
            lines: RefCell::new(Some(BufReader::with_capacity(64 * 1024, &mut *file))),
            count: self.count,
        };
        let written = write_sealed(&head.json_with(&changes), out);
        drop(changes);
        file.seek(SeekFrom::End(0))?;
        written
    }
}

/// The spilled changes as the JSON array of a plan's `changes`, read once,
/// as they are written.
struct Spilled<R> {
    lines: RefCell<Option<R>>,
    count: usize,
}

impl<R: BufRead> Serialize for Spilled<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let lines = self
            .lines
            .borrow_mut()
            .take()
            .ok_or_else(|| S::Error::custom("the spilled changes are written once"))?;
        // As a `Vec` is written: the length first, the same bytes.
        let mut seq = serializer.serialize_seq(Some(self.count))?;
        let mut read = 0;
        for change in serde_json::Deserializer::from_reader(lines).into_iter::<Change>() {
            let change = change.map_err(|e| S::Error::custom(format!("a spilled change: {e}")))?;
            seq.serialize_element(&change)?;
            read += 1;
        }
        if read != self.count {
            return Err(S::Error::custom(format!(
                "{read} spilled change(s) read back of {}",
                self.count
            )));
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::plan::{sample_plan, sample_status, AccountPlan, Combining, Missing};
    use crate::resource::ResourceType;

    /// Four accounts: one with a missing entry and a warning, one failed,
    /// one with nothing to move, one as planned.
    fn parts() -> Vec<AccountPlan> {
        let one = sample_plan();
        let mut noted = one.clone();
        noted.missing.push(Missing {
            rtype: ResourceType::Disk,
            id: "d-gone".into(),
            regions: vec!["cn-hangzhou".into()],
            source: one.changes[0].source.clone(),
            account_id: None,
        });
        noted
            .warnings
            .push("a \"quoted\" warning\twith a tab".into());
        let mut still = one.clone();
        still.changes.clear();
        still.evictions = 0;
        vec![
            (sample_status("1001"), Ok(noted)),
            (sample_status("1002"), Err("cannot assume role R".into())),
            (sample_status("1003"), Ok(still)),
            (sample_status("1004"), Ok(one)),
        ]
    }

    #[test]
    fn a_spilled_plan_is_written_as_the_combined_plan_byte_for_byte() {
        let one = sample_plan();
        let combined = Plan::combine(one.manifest.clone(), parts(), one.created_at);
        let mut whole = Vec::new();
        combined.write_json(&mut whole).expect("writes");

        let mut combining = Combining::new(one.manifest.clone());
        let mut spill = Spill::new(Cursor::new(Vec::new()));
        for part in parts() {
            spill.push(&combining.add(part)).expect("spills");
        }
        let (head, totals) = combining.finish(one.created_at);
        assert!(head.changes.is_empty(), "the head holds no change");
        assert_eq!(totals, combined.totals(), "counted as the whole plan");
        let mut streamed = Vec::new();
        spill.write_plan(&head, &mut streamed).expect("writes");
        assert_eq!(
            String::from_utf8(streamed.clone()).unwrap(),
            String::from_utf8(whole).unwrap(),
            "the same bytes, checksum included"
        );
        let back = Plan::from_json(&streamed).expect("reads back, checksum verified");
        assert_eq!(back.changes.len(), 4, "both planned accounts' moves");
        assert_eq!(back.missing.len(), 1, "the missing entry");
        assert_eq!(back.failed_accounts().count(), 1, "the failed account");
        let mut again = Vec::new();
        spill.write_plan(&head, &mut again).expect("writes again");
        assert_eq!(again, streamed, "written again, the same");
    }

    #[test]
    fn a_spill_that_lost_a_change_is_not_written_as_a_plan() {
        let one = sample_plan();
        let mut combining = Combining::new(one.manifest.clone());
        let changes = combining.add((sample_status("1001"), Ok(one.clone())));
        let mut spill = Spill::new(Cursor::new(Vec::new()));
        spill.push(&changes).expect("spills");
        spill.count += 1;
        let error = spill
            .write_plan(&combining.finish(one.created_at).0, &mut Vec::new())
            .expect_err("one change short");
        assert!(
            error
                .to_string()
                .contains("2 spilled change(s) read back of 3"),
            "{error}"
        );
    }
}
