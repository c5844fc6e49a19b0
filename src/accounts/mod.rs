//! Many accounts, without I/O: the vocabulary of a Resource Directory
//! member as regroup reads it (`Member`), which members a manifest's
//! `accounts:` block and `--account` select (`select`), and the split of
//! them into `--shard I/N` (`shard`). `cloud::directory` lists the members;
//! `planning::accounts` plans each.

mod select;
mod shard;

pub use select::select;
pub use shard::{Shard, ShardError, MAX_SHARDS};

/// A member account as `ListAccounts` describes it (resourcedirectorymaster
/// 2022-04-19, `ListAccountsResponseBodyAccountsAccount`,
/// docs/sources/resource-directory.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `AccountId`.
    pub account_id: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `AccountName`, the logon name (`alice@rd-3g****.aliyunid.com`).
    pub account_name: Option<String>,
    /// `FolderId`: the folder the member sits in directly.
    pub folder_id: String,
    /// `ResourceDirectoryPath`: `rd-…/r-…/fd-…/…/<account id>`, every
    /// folder above the member.
    pub path: String,
}

impl Member {
    /// Whether the member sits in `folder`, directly or below it: its
    /// `FolderId`, or a folder of its `ResourceDirectoryPath` (§2.3: one
    /// `ListAccounts` answers for a folder at any depth).
    pub fn is_under(&self, folder: &str) -> bool {
        self.folder_id == folder || self.path.split('/').any(|part| part == folder)
    }

    /// The name shown beside the id.
    pub fn name(&self) -> &str {
        &self.display_name
    }
}
