//! The Resource Directory a fleet with member accounts has, as
//! `resourcedirectorymaster` 2022-04-19 answers for it: `ListAccounts`,
//! `ListAccountsForParent`, `ListFoldersForParent` and
//! `GetResourceDirectory`. Parameters, answer shapes and errors follow the
//! SDK models and the API pages as docs/sources/resource-directory.md
//! records them (PY-RDM = `alibabacloud_resourcedirectorymaster20220419==2.3.1`).
//! The directory itself never changes while the emulator runs: these calls
//! only read it, and the members' content lives in their own accounts.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::fleet::{Fleet, Folder, MemberAccount};
use super::gateway::{Failure, Params};

pub const LIST_ACCOUNTS: &str = "ListAccounts";
pub const LIST_ACCOUNTS_FOR_PARENT: &str = "ListAccountsForParent";
pub const LIST_FOLDERS_FOR_PARENT: &str = "ListFoldersForParent";
pub const GET_RESOURCE_DIRECTORY: &str = "GetResourceDirectory";

/// The directory's actions.
pub const ACTIONS: [&str; 4] = [
    LIST_ACCOUNTS,
    LIST_ACCOUNTS_FOR_PARENT,
    LIST_FOLDERS_FOR_PARENT,
    GET_RESOURCE_DIRECTORY,
];

/// When the emulated directory and its members were created: a fixed time
/// in the pages' form (`2021-01-18T08:01:50.522Z`, §2.2).
const CREATED: &str = "2024-01-01T00:00:00.000Z";

/// A member as the directory knows it; what is in it lives in its account.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub account_id: String,
    pub name: String,
    pub folder: Option<String>,
    pub account_type: Option<String>,
    pub roles: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl Member {
    /// Splits a fleet's member into what the directory knows and the
    /// member's own account, as a fleet of its own.
    pub fn split(member: MemberAccount) -> (Member, Fleet) {
        let MemberAccount {
            account_id,
            name,
            folder,
            account_type,
            access_keys,
            resource_groups,
            resources,
            auto_grouping,
            roles,
            tags,
        } = member;
        let account = Fleet {
            account_id: account_id.clone(),
            access_keys,
            resource_groups,
            resources,
            oidc_tokens: Vec::new(),
            auto_grouping,
            accounts: Vec::new(),
            folders: Vec::new(),
        };
        let member = Member {
            account_id,
            name,
            folder,
            account_type,
            roles,
            tags,
        };
        (member, account)
    }

    /// The fleet's member again, from this and the member's account.
    pub fn join(&self, account: Fleet) -> MemberAccount {
        MemberAccount {
            account_id: account.account_id,
            name: self.name.clone(),
            folder: self.folder.clone(),
            account_type: self.account_type.clone(),
            access_keys: account.access_keys,
            resource_groups: account.resource_groups,
            resources: account.resources,
            auto_grouping: account.auto_grouping,
            roles: self.roles.clone(),
            tags: self.tags.clone(),
        }
    }

    /// `Type`: `ResourceAccount` unless the fleet says `CloudAccount`.
    fn kind(&self) -> &str {
        self.account_type.as_deref().unwrap_or("ResourceAccount")
    }

    /// `JoinMethod` and `Status`: a resource account was `created` and is
    /// `CreateSuccess`, a cloud account `invited` and `InviteSuccess` (the
    /// values PY-RDM `_list_accounts_response_body.py` l.87–96 lists).
    fn joined(&self) -> (&'static str, &'static str) {
        if self.kind() == "CloudAccount" {
            ("invited", "InviteSuccess")
        } else {
            ("created", "CreateSuccess")
        }
    }
}

/// A management account's directory: its id, its Root, folders, members.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    pub id: String,
    pub root_id: String,
    pub management_id: String,
    pub folders: Vec<Folder>,
    pub members: Vec<Member>,
}

/// Six letters and digits from `seed`, for the directory's ids
/// (`rd-3G****`, `r-Wm****` in the pages' examples, §2.2).
fn short_id(seed: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut hash = super::sts::stable_hash(seed);
    (0..6)
        .map(|_| {
            let c = ALPHABET[(hash % 62) as usize];
            hash /= 62;
            char::from(c)
        })
        .collect()
}

impl Directory {
    /// The directory of a management account with `members` in `folders`;
    /// `None` when there are neither, as an account without a directory.
    pub fn new(management_id: &str, folders: Vec<Folder>, members: Vec<Member>) -> Option<Self> {
        if folders.is_empty() && members.is_empty() {
            return None;
        }
        Some(Directory {
            id: format!("rd-{}", short_id(&format!("rd {management_id}"))),
            root_id: format!("r-{}", short_id(&format!("root {management_id}"))),
            management_id: management_id.to_owned(),
            folders,
            members,
        })
    }

    /// `RDPath` of a folder (`None`: the Root) from the directory down,
    /// `rd-…/r-…/fd-…/fd-…` (§2.2).
    fn path_of(&self, folder: Option<&str>) -> String {
        let mut chain = Vec::new();
        let mut at = folder;
        // Bounded by the folder count: the fleet's check refuses cycles.
        while let Some(id) = at.filter(|_| chain.len() <= self.folders.len()) {
            chain.push(id);
            at = self
                .folders
                .iter()
                .find(|f| f.id == id)
                .and_then(|f| f.parent.as_deref());
        }
        chain.push(&self.root_id);
        chain.push(&self.id);
        chain.reverse();
        chain.join("/")
    }

    /// A member as `ListAccounts` shows it (PY-RDM
    /// `_list_accounts_response_body.py` wire keys l.195–231); `with_path`
    /// adds `ResourceDirectoryPath`, which `ListAccountsForParent` lacks
    /// (§3).
    fn account_item(&self, member: &Member, with_path: bool, with_tags: bool) -> Value {
        let (join_method, status) = member.joined();
        let mut item = json!({
            "AccountId": member.account_id,
            // A resource account's logon name is `<name>@<rd-id>.aliyunid.com`
            // (§2.2, from CreateResourceAccount's example).
            "AccountName": format!("{}@{}.aliyunid.com", member.account_id, self.id),
            "DisplayName": member.name,
            "FolderId": member.folder.as_deref().unwrap_or(&self.root_id),
            "JoinMethod": join_method,
            "JoinTime": CREATED,
            "ModifyTime": CREATED,
            "ResourceDirectoryId": self.id,
            "Status": status,
            "Type": member.kind(),
        });
        if with_path {
            item["ResourceDirectoryPath"] = json!(format!(
                "{}/{}",
                self.path_of(member.folder.as_deref()),
                member.account_id
            ));
        }
        if with_tags {
            item["Tags"] = tag_list(&member.tags);
        }
        item
    }

    /// The folder `ParentFolderId` names: `None` for the Root (also when it
    /// is not given, which ListFoldersForParent documents, §3); 400
    /// `InvalidParameter.ParentFolderId` for what is not a folder id, 404
    /// `EntityNotExists.Folder` for one the directory lacks (META-RM, §3).
    fn parent<'a>(&self, params: &'a Params) -> Result<Option<&'a str>, Failure> {
        let Some(id) = params.get("ParentFolderId").filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if *id == self.root_id {
            return Ok(None);
        }
        if !id.starts_with("fd-") && !id.starts_with("r-") {
            return Err(Failure::new(
                400,
                "InvalidParameter.ParentFolderId",
                "The ParentFolderId is invalid.",
            ));
        }
        if !self.folders.iter().any(|f| f.id == *id) {
            return Err(Failure::new(
                404,
                "EntityNotExists.Folder",
                "The resource directory folder does not exist.",
            ));
        }
        Ok(Some(id))
    }
}

/// `Tags.Tag[]` of `{Key, Value}` (PY-RDM `_list_accounts_response_body.py`).
fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    json!({ "Tag": tags })
}

/// 404 `EntityNotExists.ResourceDirectory`, the only error the ListAccounts
/// pages document: for an account without a directory, and for a member
/// (no code is documented for a member; §4.1 recommends this one).
fn no_directory() -> Failure {
    Failure::new(
        404,
        "EntityNotExists.ResourceDirectory",
        "The resource directory for the account is not enabled. We recommend that you first enable the resource directory for the account.",
    )
}

/// The directory, when `caller` is its management account: only it (or a
/// delegated administrator, which the emulator does not model) may list it
/// (§4).
fn managed_by<'a>(
    directory: Option<&'a Directory>,
    caller: &str,
) -> Result<&'a Directory, Failure> {
    directory
        .filter(|d| d.management_id == caller)
        .ok_or_else(no_directory)
}

/// `Tag.N.Key` / `Tag.N.Value` (N from 1, PY-RDM
/// `_list_accounts_request.py` l.44–56): a member must carry every one; a
/// tag without a value matches any value.
fn tag_filter(params: &Params) -> Vec<(String, Option<String>)> {
    (1..)
        .map_while(|n| {
            let key = params.get(&format!("Tag.{n}.Key"))?;
            Some((key.clone(), params.get(&format!("Tag.{n}.Value")).cloned()))
        })
        .collect()
}

/// Whether a member or folder (`name`, `id`, `tags`) passes `QueryKeyword`
/// (a fuzzy match on the name or the id, PY-RDM
/// `_list_accounts_request.py` l.40–43) and the tag filter.
fn matches(name: &str, id: &str, tags: &BTreeMap<String, String>, params: &Params) -> bool {
    let keyword = params
        .get("QueryKeyword")
        .map(|k| k.to_lowercase())
        .unwrap_or_default();
    let named = name.to_lowercase().contains(&keyword) || id.to_lowercase().contains(&keyword);
    named
        && tag_filter(params).iter().all(|(key, value)| {
            tags.get(key)
                .is_some_and(|v| value.as_ref().is_none_or(|wanted| wanted == v))
        })
}

fn member_matches(member: &Member, params: &Params) -> bool {
    matches(&member.name, &member.account_id, &member.tags, params)
}

fn include_tags(params: &Params) -> bool {
    params
        .get("IncludeTags")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Serves `items` a page at a time into `body` under `list`/`element`:
/// `PageNumber` (from 1) and `PageSize` (1 to 100, default 10, §2.1, §3),
/// or, when `MaxResults` is given and `tokens` allows it, a `NextToken`
/// page ("token-based paging is preferentially used", PY-RDM
/// `_list_accounts_request.py` l.26–29).
fn page(
    items: Vec<Value>,
    params: &Params,
    tokens: bool,
    list: &str,
    element: &str,
) -> Result<Value, Failure> {
    let total = items.len();
    let mut body = json!({ "TotalCount": total });
    let (start, size) = if tokens && params.contains_key("MaxResults") {
        let size = super::offset_paging::max_results(params, 1, 100, 10)?;
        let start = super::offset_paging::start(params)?;
        let served = total.saturating_sub(start).min(size);
        // The response model has no `MaxResults` (PY-RDM
        // `_list_accounts_response_body.py` l.10–31).
        body["NextToken"] = json!(super::offset_paging::next_token(start, served, total));
        (start, size)
    } else {
        let size = super::api::number(params, "PageSize", 10, 100)? as usize;
        let number = super::api::number(params, "PageNumber", 1, u32::MAX)? as usize;
        body["PageNumber"] = json!(number);
        body["PageSize"] = json!(size);
        ((number - 1).saturating_mul(size), size)
    };
    let served: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    body[list] = json!({ element: served });
    Ok(body)
}

/// `ListAccounts`: every member at any depth, with its
/// `ResourceDirectoryPath` (PY-RDM `_list_accounts_response_body.py`).
pub fn list_accounts(
    directory: Option<&Directory>,
    caller: &str,
    params: &Params,
) -> Result<Value, Failure> {
    let directory = managed_by(directory, caller)?;
    list_members(directory, None, params)
}

/// `ListAccountsForParent`: the members directly in one folder, without
/// their path (§3).
pub fn list_accounts_for_parent(
    directory: Option<&Directory>,
    caller: &str,
    params: &Params,
) -> Result<Value, Failure> {
    let directory = managed_by(directory, caller)?;
    let parent = directory.parent(params)?;
    list_members(directory, Some(parent), params)
}

/// The members that pass the filters, all of them (`in_folder` `None`:
/// ListAccounts, with paths and token paging) or those directly in one
/// folder (`Some(None)` is the Root).
fn list_members(
    directory: &Directory,
    in_folder: Option<Option<&str>>,
    params: &Params,
) -> Result<Value, Failure> {
    let everywhere = in_folder.is_none();
    let tags = include_tags(params);
    let items = directory
        .members
        .iter()
        .filter(|m| in_folder.is_none_or(|folder| m.folder.as_deref() == folder))
        .filter(|m| member_matches(m, params))
        .map(|m| directory.account_item(m, everywhere, tags))
        .collect();
    page(items, params, everywhere, "Accounts", "Account")
}

/// `ListFoldersForParent`: the folders one level under the parent, the
/// Root's when none is named (§3: "first-level subfolders of the Root").
pub fn list_folders_for_parent(
    directory: Option<&Directory>,
    caller: &str,
    params: &Params,
) -> Result<Value, Failure> {
    let directory = managed_by(directory, caller)?;
    let parent = directory.parent(params)?;
    // The request has no `IncludeTags`: the folders carry their tags
    // (PY-RDM `_list_folders_for_parent_response_body.py` l.120–126).
    let items = directory
        .folders
        .iter()
        .filter(|f| f.parent.as_deref() == parent && matches(&f.name, &f.id, &f.tags, params))
        .map(|f| {
            json!({
                "CreateTime": CREATED,
                "FolderId": f.id,
                "FolderName": f.name,
                "Tags": tag_list(&f.tags),
            })
        })
        .collect();
    page(items, params, false, "Folders", "Folder")
}

/// `GetResourceDirectory`: the directory the caller manages or belongs to
/// (PY-RDM `_get_resource_directory_response_body.py` l.47–88); 404
/// `ResourceDirectoryNotInUse` for an account in none (§5).
pub fn get_resource_directory(
    directory: Option<&Directory>,
    caller: &str,
) -> Result<Value, Failure> {
    let directory = directory
        .filter(|d| d.management_id == caller || d.members.iter().any(|m| m.account_id == caller))
        .ok_or_else(|| {
            Failure::new(
                404,
                "ResourceDirectoryNotInUse",
                "The specified account is not an Alibaba Cloud account or a member account of the resource directory.",
            )
        })?;
    Ok(json!({
        "ResourceDirectory": {
            "ResourceDirectoryId": directory.id,
            "MasterAccountId": directory.management_id,
            "MasterAccountName": format!("{}@aliyun.com", directory.management_id),
            "RootFolderId": directory.root_id,
            "CreateTime": CREATED,
            // Features the emulator does not model, hence off.
            "ControlPolicyStatus": "Disabled",
            "MemberDeletionStatus": "Disabled",
            "MemberAccountDisplayNameSyncStatus": "Disabled",
            "IdentityInformation": "",
        }
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::emulator::gateway::params_of;

    fn member(id: &str, name: &str, folder: Option<&str>) -> Member {
        Member {
            account_id: id.into(),
            name: name.into(),
            folder: folder.map(str::to_owned),
            account_type: None,
            roles: Vec::new(),
            tags: BTreeMap::new(),
        }
    }

    fn folder(id: &str, name: &str, parent: Option<&str>) -> Folder {
        Folder {
            id: id.into(),
            name: name.into(),
            parent: parent.map(str::to_owned),
            tags: BTreeMap::new(),
        }
    }

    /// Root ⊃ {fdProd ⊃ {fdWeb}}, members: one in the Root, one in each
    /// folder.
    fn directory() -> Directory {
        Directory::new(
            "100",
            vec![
                folder("fd-prod", "prod", None),
                folder("fd-web", "web", Some("fd-prod")),
            ],
            vec![
                member("201", "top", None),
                member("202", "prod-a", Some("fd-prod")),
                member("203", "web-a", Some("fd-web")),
            ],
        )
        .expect("a directory")
    }

    /// The `id` field of each item of `answer`'s `list.element[]`.
    pub(crate) fn ids(answer: &Value, list: &str, element: &str, id: &str) -> Vec<String> {
        answer[list][element]
            .as_array()
            .expect("a list")
            .iter()
            .map(|item| item[id].as_str().expect("an id").to_owned())
            .collect()
    }

    #[test]
    fn list_accounts_shows_every_member_with_its_path_from_the_directory() {
        let d = directory();
        let answer = list_accounts(Some(&d), "100", &params_of(&[])).expect("management lists");
        assert_eq!(
            ids(&answer, "Accounts", "Account", "AccountId"),
            ["201", "202", "203"]
        );
        assert_eq!(answer["TotalCount"], 3);
        assert_eq!(answer["PageNumber"], 1);
        assert_eq!(answer["PageSize"], 10);
        let web = &answer["Accounts"]["Account"][2];
        assert_eq!(
            web["ResourceDirectoryPath"],
            format!("{}/{}/fd-prod/fd-web/203", d.id, d.root_id)
        );
        assert_eq!(web["FolderId"], "fd-web");
        assert_eq!(
            answer["Accounts"]["Account"][0]["FolderId"],
            d.root_id.as_str()
        );
        assert_eq!(web["Type"], "ResourceAccount");
        assert_eq!(web["JoinMethod"], "created");
        assert_eq!(web["Status"], "CreateSuccess");
        assert!(
            d.id.starts_with("rd-") && d.root_id.starts_with("r-"),
            "{d:?}"
        );
    }

    #[test]
    fn only_the_management_account_may_list_and_a_fleet_without_members_has_no_directory() {
        let d = directory();
        for call in [
            list_accounts,
            list_accounts_for_parent,
            list_folders_for_parent,
        ] {
            let member = call(Some(&d), "201", &params_of(&[])).expect_err("a member is refused");
            assert_eq!(
                (member.status, member.code.as_str()),
                (404, "EntityNotExists.ResourceDirectory")
            );
            let none = call(None, "100", &params_of(&[])).expect_err("no directory");
            assert_eq!(
                (none.status, none.code.as_str()),
                (404, "EntityNotExists.ResourceDirectory")
            );
        }
        assert!(Directory::new("100", Vec::new(), Vec::new()).is_none());
        let member_view =
            get_resource_directory(Some(&d), "202").expect("a member sees its directory");
        assert_eq!(member_view["ResourceDirectory"]["MasterAccountId"], "100");
        let stranger = get_resource_directory(Some(&d), "999").expect_err("not in the directory");
        assert_eq!(
            (stranger.status, stranger.code.as_str()),
            (404, "ResourceDirectoryNotInUse")
        );
    }

    #[test]
    fn pages_are_numbered_or_tokened_and_sizes_stay_within_one_to_a_hundred() {
        let d = directory();
        let second = list_accounts(
            Some(&d),
            "100",
            &params_of(&[("PageSize", "2"), ("PageNumber", "2")]),
        )
        .expect("page 2");
        assert_eq!(ids(&second, "Accounts", "Account", "AccountId"), ["203"]);
        for bad in ["0", "101", "x"] {
            let refused = list_accounts(Some(&d), "100", &params_of(&[("PageSize", bad)]))
                .expect_err("out of range");
            assert_eq!(refused.code, "InvalidParameter", "PageSize {bad}");
        }
        let first =
            list_accounts(Some(&d), "100", &params_of(&[("MaxResults", "2")])).expect("tokens");
        assert_eq!(
            ids(&first, "Accounts", "Account", "AccountId"),
            ["201", "202"]
        );
        let token = first["NextToken"].as_str().expect("a token").to_owned();
        let rest = list_accounts(
            Some(&d),
            "100",
            &params_of(&[("MaxResults", "2"), ("NextToken", &token)]),
        )
        .expect("next page");
        assert_eq!(ids(&rest, "Accounts", "Account", "AccountId"), ["203"]);
        assert_eq!(rest["NextToken"], "", "the last page has no next token");
    }

    #[test]
    fn parents_list_their_direct_members_and_folders_only() {
        let d = directory();
        let root = list_accounts_for_parent(Some(&d), "100", &params_of(&[])).expect("the Root");
        assert_eq!(ids(&root, "Accounts", "Account", "AccountId"), ["201"]);
        assert!(root["Accounts"]["Account"][0]
            .get("ResourceDirectoryPath")
            .is_none());
        let prod = list_accounts_for_parent(
            Some(&d),
            "100",
            &params_of(&[("ParentFolderId", "fd-prod")]),
        )
        .expect("fd-prod");
        assert_eq!(ids(&prod, "Accounts", "Account", "AccountId"), ["202"]);
        let top =
            list_folders_for_parent(Some(&d), "100", &params_of(&[])).expect("the Root's folders");
        assert_eq!(ids(&top, "Folders", "Folder", "FolderId"), ["fd-prod"]);
        let by_root_id = list_folders_for_parent(
            Some(&d),
            "100",
            &params_of(&[("ParentFolderId", &d.root_id)]),
        )
        .expect("the Root by id");
        assert_eq!(by_root_id, top);
        let under = list_folders_for_parent(
            Some(&d),
            "100",
            &params_of(&[("ParentFolderId", "fd-prod")]),
        )
        .expect("fd-prod's folders");
        assert_eq!(ids(&under, "Folders", "Folder", "FolderId"), ["fd-web"]);
        let unknown = list_folders_for_parent(
            Some(&d),
            "100",
            &params_of(&[("ParentFolderId", "fd-none")]),
        )
        .expect_err("unknown folder");
        assert_eq!(
            (unknown.status, unknown.code.as_str()),
            (404, "EntityNotExists.Folder")
        );
        let malformed =
            list_accounts_for_parent(Some(&d), "100", &params_of(&[("ParentFolderId", "x")]))
                .expect_err("not a folder id");
        assert_eq!(
            (malformed.status, malformed.code.as_str()),
            (400, "InvalidParameter.ParentFolderId")
        );
    }

    #[test]
    fn keywords_and_tags_filter_members() {
        let mut d = directory();
        d.members[1].tags.insert("env".into(), "prod".into());
        let by_name = list_accounts(Some(&d), "100", &params_of(&[("QueryKeyword", "WEB")]))
            .expect("keyword");
        assert_eq!(ids(&by_name, "Accounts", "Account", "AccountId"), ["203"]);
        let by_tag = list_accounts(
            Some(&d),
            "100",
            &params_of(&[
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
                ("IncludeTags", "true"),
            ]),
        )
        .expect("tag");
        assert_eq!(ids(&by_tag, "Accounts", "Account", "AccountId"), ["202"]);
        assert_eq!(
            by_tag["Accounts"]["Account"][0]["Tags"],
            json!({"Tag": [{"Key": "env", "Value": "prod"}]})
        );
    }
}
