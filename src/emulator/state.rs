//! The emulated accounts in memory (the fleet's own and its Resource
//! Directory's members), which account a request's key acts in, and the
//! optional state file. Every change is saved before the request that made
//! it is answered; concurrent changes share one write (group commit), and
//! each write replaces the file by rename, so a crash never leaves a torn
//! file.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, RwLock};

use super::directory::{Directory, Member};
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
            oidc_tokens: self.oidc_tokens.clone(),
            auto_grouping: self.auto_grouping.clone(),
            accounts: Vec::new(),
            folders: Vec::new(),
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

/// One account the emulator serves, with its own quotas (quotas are per
/// account, docs/sources/resource-directory.md §6: "regionId, API,
/// ParentUid") and how much of it the state file holds.
pub struct Slot {
    /// The account's id, which never changes: readable without the lock.
    pub account_id: String,
    pub account: RwLock<Account>,
    pub quotas: Option<super::quota::Quotas>,
    persisted: AtomicU64,
}

/// Where a request's key leads: the account it belongs to, and for a key
/// STS issued, when it may be forgotten.
struct Route {
    slot: usize,
    forget_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every account the emulator serves (the management account first, then
/// the members of its Resource Directory), with their persistence and the
/// routes from access keys to accounts.
pub struct Store {
    slots: Vec<Slot>,
    pub directory: Option<Directory>,
    /// Keys of the members, fleet's and issued: a key not here is the
    /// management account's.
    routes: std::sync::RwLock<HashMap<String, Route>>,
    state_file: Option<PathBuf>,
    writer: Mutex<()>,
}

impl Store {
    /// The management account and its members from `fleet`, each with
    /// quotas `quotas` and set up by `configure`.
    pub fn new(
        mut fleet: Fleet,
        quotas: &[crate::api::quota::QuotaSpec],
        configure: impl Fn(&mut Account),
        state_file: Option<PathBuf>,
    ) -> Store {
        let slot = |fleet: Fleet| {
            let mut account = Account::from_fleet(fleet);
            configure(&mut account);
            Slot {
                account_id: account.account_id.clone(),
                account: RwLock::new(account),
                quotas: super::quota::Quotas::new(quotas.to_vec()),
                persisted: AtomicU64::new(0),
            }
        };
        let members = std::mem::take(&mut fleet.accounts);
        let folders = std::mem::take(&mut fleet.folders);
        let management_id = fleet.account_id.clone();
        let mut slots = vec![slot(fleet)];
        let mut routes = HashMap::new();
        let mut directory_members = Vec::new();
        for member in members {
            let (member, account) = Member::split(member);
            for key in &account.access_keys {
                let route = Route {
                    slot: slots.len(),
                    forget_at: None,
                };
                routes.insert(key.id.clone(), route);
            }
            slots.push(slot(account));
            directory_members.push(member);
        }
        Store {
            slots,
            directory: Directory::new(&management_id, folders, directory_members),
            routes: std::sync::RwLock::new(routes),
            state_file,
            writer: Mutex::new(()),
        }
    }

    /// The management account: the fleet's own.
    pub fn management(&self) -> &Slot {
        &self.slots[0]
    }

    /// The account with id `account_id`, management or member.
    pub fn slot_of_account(&self, account_id: &str) -> Option<&Slot> {
        self.index_of(account_id).and_then(|i| self.slots.get(i))
    }

    fn index_of(&self, account_id: &str) -> Option<usize> {
        if account_id == self.management().account_id {
            return Some(0);
        }
        let members = &self.directory.as_ref()?.members;
        let index = members.iter().position(|m| m.account_id == account_id)?;
        Some(index + 1)
    }

    /// The account a request signed with `key_id` acts in.
    pub fn route(&self, key_id: Option<&str>) -> &Slot {
        let slot = key_id.and_then(|id| {
            let routes = self.routes.read().ok()?;
            routes.get(id).map(|route| route.slot)
        });
        slot.and_then(|i| self.slots.get(i))
            .unwrap_or_else(|| self.management())
    }

    /// Sends `key_id`, which STS issued into the member `account_id`, to
    /// that member until `forget_at`; routes past theirs are dropped.
    pub fn route_issued(
        &self,
        key_id: &str,
        account_id: &str,
        forget_at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        let Some(slot) = self.index_of(account_id).filter(|i| *i > 0) else {
            return;
        };
        if let Ok(mut routes) = self.routes.write() {
            routes.retain(|_, route| route.forget_at.is_none_or(|at| at > now));
            routes.insert(
                key_id.to_owned(),
                Route {
                    slot,
                    forget_at: Some(forget_at),
                },
            );
        }
    }

    /// The whole fleet as it is now: the management account with its
    /// members, as `--state` saves it.
    pub async fn to_fleet(&self) -> Fleet {
        self.snapshot().await.0
    }

    /// The fleet, and the generation of each account it covers.
    async fn snapshot(&self) -> (Fleet, Vec<u64>) {
        let mut generations = Vec::with_capacity(self.slots.len());
        let mut fleet = {
            let account = self.management().account.read().await;
            generations.push(account.generation);
            account.to_fleet()
        };
        if let Some(directory) = &self.directory {
            for (member, slot) in directory.members.iter().zip(&self.slots[1..]) {
                let account = slot.account.read().await;
                generations.push(account.generation);
                fleet.accounts.push(member.join(account.to_fleet()));
            }
            fleet.folders = directory.folders.clone();
        }
        (fleet, generations)
    }

    /// Returns once the state file holds generation `generation` of
    /// `slot`'s account or later. One caller writes (every account) while
    /// the others wait; when they get the lock their change is usually
    /// written already, so a burst costs a few writes.
    pub async fn persist(&self, slot: &Slot, generation: u64) -> std::io::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        if slot.persisted.load(Ordering::Acquire) >= generation {
            return Ok(());
        }
        let _writing = self.writer.lock().await;
        if slot.persisted.load(Ordering::Acquire) >= generation {
            return Ok(());
        }
        let (fleet, covered) = self.snapshot().await;
        let text = serde_json::to_string(&fleet).map_err(std::io::Error::other)?;
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            crate::atomic_file::write(&path, |out| out.write_all(text.as_bytes()))
        })
        .await
        .map_err(std::io::Error::other)??;
        for (slot, generation) in self.slots.iter().zip(covered) {
            slot.persisted.store(generation, Ordering::Release);
        }
        Ok(())
    }
}
