//! The plan file: its format version and size ceiling, its fields in the
//! file's order (`PlanJson`, one view for a plan held whole and for one
//! whose changes were spilled), the checksum that seals it, reading it
//! back, and the undo plan bound to the report of the apply it undoes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    is_false, is_zero, AccountId, AccountStatus, Change, GroupRef, GroupSummary, ManifestInfo,
    MergedInput, Missing, Plan, ReportRef,
};

/// The version of the plan's JSON form. A change that could make an older
/// regroup misread a plan raises it.
pub const FORMAT_VERSION: u32 = 1;

/// Saved plans larger than this are refused before parsing. A plan of
/// 100,000 changes from the benchmark's fleet (short ids and names) is
/// 45.7 MB, 457 bytes a change (measured: `plan -o` of 100,000 by-id moves);
/// this leaves room for real ids, 128-character names and long paths, about
/// 1,300 bytes a change at 100,000 changes, and no more.
pub const MAX_PLAN_BYTES: u64 = 128 * 1024 * 1024;

/// A sha256 fed through `std::io::Write`.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds pretty JSON to a hash as compact JSON: without the whitespace
/// between tokens. serde_json writes strings, numbers and punctuation alike
/// in both forms and puts whitespace only between tokens, so what is left
/// is byte for byte what `serde_json::to_writer` writes.
#[derive(Default)]
struct Compacting {
    in_string: bool,
    escaped: bool,
}

impl Compacting {
    fn feed(&mut self, bytes: &[u8], hash: &mut Sha256) {
        let mut run = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            if self.in_string {
                match (self.escaped, byte) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
            } else if byte == b'"' {
                self.in_string = true;
            } else if byte.is_ascii_whitespace() {
                hash.update(&bytes[run..at]);
                run = at + 1;
            }
        }
        hash.update(&bytes[run..]);
    }
}

/// Passes pretty JSON on to `out` and, compacted, into the hash, but for
/// the last `keep` bytes written so far: the plan's checksum and the end
/// of the object, replaced once the rest is hashed.
struct Sealing<W> {
    out: W,
    hash: Sha256,
    compacting: Compacting,
    held: Vec<u8>,
    keep: usize,
}

impl<W: std::io::Write> std::io::Write for Sealing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.held.extend_from_slice(bytes);
        if self.held.len() > self.keep {
            let pass = self.held.len() - self.keep;
            self.compacting.feed(&self.held[..pass], &mut self.hash);
            self.out.write_all(&self.held[..pass])?;
            self.held.drain(..pass);
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The plan's JSON, field by field in the file's order, its changes
/// whatever `C` writes: the plan's own (`Plan`'s `Serialize`), or those of
/// a plan over many accounts read back one at a time from where they
/// waited (`plan::spill`), as the same bytes.
#[derive(Serialize)]
pub(super) struct PlanJson<'a, C> {
    format_version: u32,
    manifest: &'a ManifestInfo,
    created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    accounts: &'a [AccountStatus],
    changes: C,
    #[serde(skip_serializing_if = "is_zero")]
    evictions: usize,
    unchanged: usize,
    missing: &'a [Missing],
    warnings: &'a [String],
    groups: &'a [GroupSummary],
    #[serde(skip_serializing_if = "is_false")]
    undo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    undoes: &'a Option<ReportRef>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    merged_from: &'a [MergedInput],
    checksum: &'a str,
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json_with(&self.changes).serialize(serializer)
    }
}

impl Plan {
    /// The plan's JSON with `changes` in place of its own.
    pub(super) fn json_with<C: Serialize>(&self, changes: C) -> PlanJson<'_, C> {
        PlanJson {
            format_version: self.format_version,
            manifest: &self.manifest,
            created_at: self.created_at,
            accounts: &self.accounts,
            changes,
            evictions: self.evictions,
            unchanged: self.unchanged,
            missing: &self.missing,
            warnings: &self.warnings,
            groups: &self.groups,
            undo: self.undo,
            undoes: &self.undoes,
            merged_from: &self.merged_from,
            checksum: &self.checksum,
        }
    }

    /// The checksum the plan should carry: the sha256 of its JSON with the
    /// checksum field empty. The JSON streams into the hash, so a plan of
    /// 100,000 changes is neither copied nor written out whole to memory.
    fn compute_checksum(&mut self) -> String {
        let kept = std::mem::take(&mut self.checksum);
        let mut hashing = Hashing(Sha256::new());
        serde_json::to_writer(&mut hashing, &*self).expect("a plan always serializes");
        self.checksum = kept;
        format!("{:x}", hashing.0.finalize())
    }

    /// Writes the plan as pretty JSON, sealed, in one pass: serialized
    /// once, its bytes go to `out` and, without the whitespace, into the
    /// hash, all but its last field, the checksum, which is written last in
    /// place of whatever the plan held (a plan is made without one). The
    /// checksum means what it always has, the sha256 of the compact JSON
    /// with the field empty, so plans saved before still verify.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        write_sealed(&self.json_with(&self.changes), out)
    }

    /// The undo plan of `moved`, changes of this plan that were (or may
    /// have been) made: each resource back to the group it was in, from the
    /// group it was moved to, in the same format (and with the same
    /// manifest) as this plan, bound to the report `undoes` that records
    /// them.
    pub fn undo<'a>(
        &self,
        moved: impl Iterator<Item = &'a Change>,
        undoes: ReportRef,
        now: DateTime<Utc>,
    ) -> Plan {
        let changes: Vec<Change> = moved
            .map(|change| Change {
                from: change.to.clone(),
                to: change.from.clone(),
                evict: false,
                conflict: None,
                ..change.clone()
            })
            .collect();
        // Per account in a plan over several: the same group name is a
        // different group in each.
        let groups: std::collections::BTreeSet<(&AccountId, &GroupRef)> = changes
            .iter()
            .flat_map(|c| [(&c.account_id, &c.from), (&c.account_id, &c.to)])
            .collect();
        let groups = groups
            .into_iter()
            .map(|(account_id, group)| GroupSummary {
                group: group.clone(),
                unchanged: 0,
                account_id: account_id.clone(),
            })
            .collect();
        let accounts = self
            .accounts
            .iter()
            .filter(|a| {
                changes
                    .iter()
                    .any(|c| c.account_id.as_ref() == Some(&a.account_id))
            })
            .cloned()
            .collect();
        Plan {
            format_version: FORMAT_VERSION,
            manifest: self.manifest.clone(),
            created_at: now,
            accounts,
            changes,
            evictions: 0,
            unchanged: 0,
            missing: Vec::new(),
            warnings: vec![format!(
                "this plan undoes an apply of {}: it moves resources back to where that apply found them",
                self.manifest.file
            )],
            groups,
            undo: true,
            undoes: Some(undoes),
            merged_from: Vec::new(),
            checksum: String::new(),
        }
    }

    /// The plan with its checksum set, as it reads back from a file: for
    /// tests that compare the two. Plans are sealed as they are written
    /// ([`Plan::write_json`]).
    #[cfg(test)]
    pub fn seal(mut self) -> Plan {
        self.checksum = self.compute_checksum();
        self
    }

    /// Reads a saved plan, refusing another format version, a file that is
    /// not a plan, and a plan changed since it was made.
    pub fn from_json(bytes: &[u8]) -> Result<Plan, PlanFileError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| PlanFileError::NotAPlan(e.to_string()))?;
        match value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(version) if version == u64::from(FORMAT_VERSION) => {}
            Some(version) => return Err(PlanFileError::Version(version)),
            None => return Err(PlanFileError::NotAPlan("no format_version".into())),
        }
        let mut plan: Plan =
            serde_json::from_value(value).map_err(|e| PlanFileError::NotAPlan(e.to_string()))?;
        let expected = plan.compute_checksum();
        if plan.checksum != expected {
            return Err(PlanFileError::Changed);
        }
        if let Some(problem) = plan.unplanned_account() {
            return Err(PlanFileError::NotAPlan(problem));
        }
        plan.share_groups();
        Ok(plan)
    }

    /// One handle per group, as in a plan just made: the JSON repeats a
    /// group in every change that names it, and a million changes read back
    /// each with their own would cost 48 bytes more apiece.
    fn share_groups(&mut self) {
        let mut shared: std::collections::HashSet<GroupRef> = std::collections::HashSet::new();
        let mut share = |group: &mut GroupRef| match shared.get(group) {
            Some(one) => *group = one.clone(),
            None => {
                shared.insert(group.clone());
            }
        };
        for change in &mut self.changes {
            share(&mut change.from);
            share(&mut change.to);
        }
        for summary in &mut self.groups {
            share(&mut summary.group);
        }
    }
}

/// Writes `json` pretty and sealed in one pass (see [`Plan::write_json`]):
/// its bytes go to `out` and, without the whitespace, into the hash, all
/// but its checksum and the end of the object, written last.
pub(super) fn write_sealed<C: Serialize>(
    json: &PlanJson<'_, C>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    // How the plan's JSON ends: its checksum as a JSON string, then the
    // end of the object.
    let mut end = serde_json::to_vec(json.checksum)?;
    end.extend_from_slice(b"\n}");
    let mut sealing = Sealing {
        out,
        hash: Sha256::new(),
        compacting: Compacting::default(),
        held: Vec::new(),
        keep: end.len(),
    };
    {
        // Large writes, for the compacting and the holding back.
        let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, &mut sealing);
        serde_json::to_writer_pretty(&mut buffered, json)?;
        std::io::Write::flush(&mut buffered)?;
    }
    if sealing.held != end {
        return Err(std::io::Error::other(
            "a plan's JSON does not end with its checksum",
        ));
    }
    sealing.hash.update(b"\"\"}");
    let checksum = format!("{:x}", sealing.hash.finalize());
    write!(sealing.out, "\"{checksum}\"\n}}")
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("not a valid regroup plan: {0}")]
    NotAPlan(String),
    #[error("plan format version {0} is not supported; this regroup reads version {FORMAT_VERSION} (plan again with this version)")]
    Version(u64),
    #[error("the plan was changed after it was made (its checksum does not match); plan again instead of editing a plan")]
    Changed,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan written by `regroup plan --format json -o` at 00cdd46, before
    /// plans were sealed as they are written (the checksum was then the
    /// hash of a second, compact serialization), from the emulator and a
    /// fleet of six resources whose names need escaping: quotes, a
    /// backslash, a tab, a line break, a control character, CJK and emoji.
    const SAVED_BEFORE: &[u8] =
        include_bytes!("../../tests/fixtures/plans/saved-before-one-pass-seal.json");

    fn written(plan: &Plan) -> Vec<u8> {
        let mut bytes = Vec::new();
        crate::render::Render::write(&crate::render::Json, plan, &mut bytes)
            .expect("a plan writes to memory");
        bytes
    }

    #[test]
    fn a_plan_saved_before_verifies_and_is_written_back_byte_for_byte() {
        let plan = Plan::from_json(SAVED_BEFORE).expect("a plan saved before still verifies");
        assert_eq!(plan.changes.len(), 6, "the saved plan read whole");
        assert_eq!(
            String::from_utf8(written(&plan)).unwrap(),
            String::from_utf8(SAVED_BEFORE.to_vec()).unwrap(),
            "the same plan is written as the same bytes, checksum included"
        );
    }

    #[test]
    fn the_bytes_written_are_the_bytes_hashed() {
        let saved = Plan::from_json(SAVED_BEFORE).unwrap();
        // A plan as made: without a checksum, with more text to escape.
        let mut plan = Plan {
            checksum: String::new(),
            ..saved.clone()
        };
        plan.warnings
            .push("a \"quoted\" warning: with \\ and\n\ttabs, 🚀 ".to_owned());
        let bytes = written(&plan);
        let sealed = plan.clone().seal();
        assert_eq!(
            bytes,
            [serde_json::to_vec_pretty(&sealed).unwrap(), b"\n".to_vec()].concat(),
            "the same JSON as before, with the checksum a seal computes"
        );
        assert_eq!(Plan::from_json(&bytes).unwrap(), sealed, "it verifies");
        // What was hashed is what was written: the written bytes, with the
        // checksum emptied and compacted, hash to the checksum written.
        let text = String::from_utf8(bytes.clone()).unwrap();
        let emptied = text.replace(&sealed.checksum, "");
        let mut hash = Sha256::new();
        Compacting::default().feed(emptied.as_bytes(), &mut hash);
        assert_eq!(format!("{:x}", hash.finalize()), sealed.checksum);
        // And compacting gives serde_json's compact form exactly.
        let mut compacted = Sha256::new();
        Compacting::default().feed(&serde_json::to_vec_pretty(&plan).unwrap(), &mut compacted);
        assert_eq!(
            compacted.finalize(),
            Sha256::digest(serde_json::to_vec(&plan).unwrap()),
            "pretty JSON less its whitespace is compact JSON"
        );
        // A plan that was sealed (or read) with another checksum is written
        // with the one that matches it.
        let stale = Plan {
            checksum: "0".repeat(64),
            ..plan.clone()
        };
        assert_eq!(written(&stale), bytes, "the seal is made as it is written");
        let tampered = text.replacen("quoted", "qu0ted", 1);
        assert!(
            matches!(
                Plan::from_json(tampered.as_bytes()),
                Err(PlanFileError::Changed)
            ),
            "an edited plan is refused"
        );
    }
}
