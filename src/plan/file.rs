//! The plan file: its format version and size ceiling, the checksum that
//! seals it, reading it back, and the undo plan bound to the report of the
//! apply it undoes.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{AccountId, Change, GroupRef, GroupSummary, Plan, ReportRef};

/// The version of the plan's JSON form. A change that could make an older
/// regroup misread a plan raises it.
pub const FORMAT_VERSION: u32 = 1;

/// Saved plans larger than this are refused before parsing. A plan of
/// 100,000 changes from the benchmark's fleet (short ids and names) is
/// 45.7 MB, 457 bytes a change (measured: `plan -o` of 100,000 by-id moves);
/// this leaves room for real ids, 128-character names and long paths, about
/// 1,300 bytes a change at 100,000 changes, and no more.
pub const MAX_PLAN_BYTES: u64 = 128 * 1024 * 1024;

impl Plan {
    /// The checksum the plan should carry: the sha256 of its JSON with the
    /// checksum field empty. The JSON streams into the hash, so a plan of
    /// 100,000 changes is neither copied nor written out whole to memory.
    fn compute_checksum(&mut self) -> String {
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
        let kept = std::mem::take(&mut self.checksum);
        let mut hashing = Hashing(Sha256::new());
        serde_json::to_writer(&mut hashing, &*self).expect("a plan always serializes");
        self.checksum = kept;
        format!("{:x}", hashing.0.finalize())
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
        .seal()
    }

    /// Sets the checksum; the planner does this last.
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
        Ok(plan)
    }
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
