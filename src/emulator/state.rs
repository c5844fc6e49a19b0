//! The emulated account in memory, and its optional state file. Every change
//! is saved before the request that made it is answered; concurrent changes
//! share one write (group commit), and each write replaces the file by
//! rename, so a crash never leaves a torn file.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, RwLock};

use super::fleet::{AccessKey, Fleet, FleetGroup, FleetResource, OidcToken};
use crate::resource::ResourceType;

/// Resources are keyed by (type, region, id) so that one listing is one
/// range of the map, already in the order pages are served.
pub type ResourceIndex = (ResourceType, String, String);

#[derive(Debug)]
pub struct Account {
    pub account_id: String,
    pub keys: HashMap<String, AccessKey>,
    pub groups: Vec<FleetGroup>,
    pub default_group: String,
    /// Describe* items of resources in the default group carry an empty
    /// `ResourceGroupId` instead of the group's id: whether the real
    /// service does is not established (docs/sources/ecs-models.md §4), so
    /// the emulator can answer either way.
    pub empty_default_group_id: bool,
    pub resources: BTreeMap<ResourceIndex, FleetResource>,
    /// Whether Resource Center is enabled (the fleet's `resource_center`).
    pub resource_center: bool,
    pub oidc_tokens: Vec<OidcToken>,
    pub auto_grouping: Option<super::autogroup::AutoGrouping>,
    /// Moves an auto-grouping rule may undo, and when it does.
    pub pending_transfers: Vec<(ResourceIndex, std::time::Instant)>,
    /// Keys issued by STS and the metadata server: not saved, like the
    /// real ones they only live for a while.
    pub issued_keys: HashMap<String, super::sts::Issued>,
    /// The membership changes made, as ActionTrail records them (not saved).
    pub trail: super::actiontrail::Trail,
    /// Counts the changes made, so the writer knows what a write covers.
    pub generation: u64,
}

impl Account {
    pub fn from_fleet(fleet: Fleet) -> Account {
        let default_group = fleet
            .resource_groups
            .iter()
            .find(|g| g.default)
            .map(|g| g.id.clone())
            .unwrap_or_default();
        Account {
            account_id: fleet.account_id,
            keys: fleet
                .access_keys
                .into_iter()
                .map(|k| (k.id.clone(), k))
                .collect(),
            groups: fleet.resource_groups,
            resources: fleet
                .resources
                .into_iter()
                .map(|mut r| {
                    if r.group.as_deref() == Some(default_group.as_str()) {
                        r.group = None;
                    }
                    ((r.rtype, r.region.clone(), r.id.clone()), r)
                })
                .collect(),
            resource_center: fleet.resource_center,
            default_group,
            empty_default_group_id: false,
            oidc_tokens: fleet.oidc_tokens,
            auto_grouping: fleet.auto_grouping,
            pending_transfers: Vec::new(),
            issued_keys: HashMap::new(),
            trail: Default::default(),
            generation: 0,
        }
    }

    pub fn to_fleet(&self) -> Fleet {
        let mut keys: Vec<AccessKey> = self.keys.values().cloned().collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        Fleet {
            account_id: self.account_id.clone(),
            access_keys: keys,
            resource_groups: self.groups.clone(),
            resources: self.resources.values().cloned().collect(),
            resource_center: self.resource_center,
            oidc_tokens: self.oidc_tokens.clone(),
            auto_grouping: self.auto_grouping.clone(),
        }
    }

    /// The group a resource is in, the default group when none is recorded.
    pub fn group_of<'a>(&'a self, resource: &'a FleetResource) -> &'a str {
        resource.group.as_deref().unwrap_or(&self.default_group)
    }

    /// The `ResourceGroupId` a Describe* item of `resource` carries.
    pub fn reported_group<'a>(&'a self, resource: &'a FleetResource) -> &'a str {
        match &resource.group {
            None if self.empty_default_group_id => "",
            _ => self.group_of(resource),
        }
    }

    pub fn key(&self, id: &str) -> Option<&AccessKey> {
        self.keys
            .get(id)
            .or_else(|| self.issued_keys.get(id).map(|issued| &issued.key))
    }

    /// When an issued key expires; `None` for the fleet's own keys.
    pub fn expiry(&self, id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        self.issued_keys.get(id).map(|issued| issued.expires)
    }
}

/// The account with its persistence.
pub struct Store {
    pub account: RwLock<Account>,
    state_file: Option<PathBuf>,
    writer: Mutex<()>,
    persisted: AtomicU64,
}

impl Store {
    pub fn new(account: Account, state_file: Option<PathBuf>) -> Store {
        Store {
            account: RwLock::new(account),
            state_file,
            writer: Mutex::new(()),
            persisted: AtomicU64::new(0),
        }
    }

    /// Returns once the state file holds generation `generation` or later.
    /// One caller writes while the others wait; when they get the lock their
    /// change is usually written already, so a burst costs a few writes.
    pub async fn persist(&self, generation: u64) -> std::io::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        if self.persisted.load(Ordering::Acquire) >= generation {
            return Ok(());
        }
        let _writing = self.writer.lock().await;
        if self.persisted.load(Ordering::Acquire) >= generation {
            return Ok(());
        }
        let (text, covered) = {
            let account = self.account.read().await;
            let text = serde_json::to_string(&account.to_fleet()).map_err(std::io::Error::other)?;
            (text, account.generation)
        };
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            crate::atomic_file::write(&path, |out| out.write_all(text.as_bytes()))
        })
        .await
        .map_err(std::io::Error::other)??;
        self.persisted.store(covered, Ordering::Release);
        Ok(())
    }
}
