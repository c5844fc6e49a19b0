//! Typed Resource Directory calls: the members of the directory the
//! credentials manage, by `ListAccounts` of resourcedirectorymaster
//! 2022-04-19 (the version and call the Terraform provider uses,
//! `alicloud/data_source_alicloud_resource_manager_accounts.go` l.139;
//! docs/sources/resource-directory.md §1–2), read into
//! [`crate::accounts::Member`].

use serde::Deserialize;

use super::client::{Call, Client, CloudError, Service};
use crate::accounts::Member;

/// `PageSize` may be 1 to 100, default 10 (`ListAccountsRequest` of
/// `alibabacloud_resourcedirectorymaster20220419` 2.3.1, l.36–39; §2.1):
/// the largest page, for the fewest calls.
const PAGE_SIZE: u32 = 100;
/// A bound on the pages read, so that a misbehaving server cannot loop us:
/// 100 pages is 10,000 members, far beyond any directory's member quota.
const MAX_PAGES: u32 = 100;

/// `Accounts.Account[]`'s fields that regroup reads (wire keys of
/// `ListAccountsResponseBodyAccountsAccount`, 2.3.1
/// `_list_accounts_response_body.py` l.195–231; §2.2); every other field
/// is skipped unread.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireAccount {
    account_id: String,
    #[serde(default)]
    display_name: String,
    /// Only in the 2022-04-19 answer.
    #[serde(default)]
    account_name: Option<String>,
    #[serde(default)]
    folder_id: String,
    #[serde(default)]
    resource_directory_path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResponse {
    accounts: AccountList,
    total_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountList {
    #[serde(default)]
    account: Vec<WireAccount>,
}

/// The error codes that say the caller cannot list the directory: the one
/// ListAccounts documents (404 `EntityNotExists.ResourceDirectory`), and
/// those documented for a member caller on other Resource Directory calls
/// (§4.1).
const NOT_MANAGER: [&str; 3] = [
    "EntityNotExists.ResourceDirectory",
    "MemberAccountAccessDenied",
    "NoPermission.ResourceDirectory.MemberAccount",
];

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Only the management account or a delegated administrator may call
    /// `ListAccounts` (the ListAccounts page of both versions, §4).
    #[error("{source}\n  hint: the manifest's `accounts:` needs credentials of the Resource Directory's management account (or a delegated administrator): only they may list its members")]
    NotManager {
        #[source]
        source: CloudError,
    },
    #[error(transparent)]
    Call(#[from] CloudError),
}

/// Every member of the directory, page by page.
pub async fn list_accounts(client: &Client) -> Result<Vec<Member>, DirectoryError> {
    let mut members = Vec::new();
    let mut total = 0;
    for page in 1..=MAX_PAGES {
        let params = [
            ("PageNumber", page.to_string()),
            ("PageSize", PAGE_SIZE.to_string()),
        ];
        let call = Call::new(Service::ResourceDirectory, None, "ListAccounts", &params);
        let parsed: ListResponse =
            client
                .call(&call)
                .await
                .result
                .map_err(|error| match &error {
                    CloudError::Api { error: api, .. }
                        if NOT_MANAGER.contains(&api.code.as_str()) =>
                    {
                        DirectoryError::NotManager { source: error }
                    }
                    _ => DirectoryError::Call(error),
                })?;
        let received = parsed.accounts.account.len();
        members.extend(parsed.accounts.account.into_iter().map(|wire| Member {
            account_id: wire.account_id,
            display_name: wire.display_name,
            account_name: wire.account_name.filter(|n| !n.is_empty()),
            folder_id: wire.folder_id,
            path: wire.resource_directory_path,
        }));
        total = parsed.total_count;
        if received == 0 || members.len() as u64 >= total {
            break;
        }
    }
    // `accounts: {all: true}` over part of the directory would plan some
    // members as if they were all: a listing that ended short (an empty
    // page, or the page bound) is an error, not a smaller directory.
    if (members.len() as u64) < total {
        return Err(DirectoryError::Call(CloudError::Incomplete {
            action: "ListAccounts".into(),
            message: format!(
                "the directory reports {total} members, but its pages held {}",
                members.len()
            ),
        }));
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_listing_that_ends_short_is_an_error_not_a_smaller_directory() {
        // Three members reported, one handed out, then an empty page.
        let page = |accounts: serde_json::Value| {
            serde_json::json!({
                "RequestId": "r", "PageNumber": 1, "PageSize": 100, "TotalCount": 3,
                "Accounts": {"Account": accounts},
            })
        };
        let client = crate::cloud::tests::canned_server(vec![
            page(serde_json::json!([{"AccountId": "1001", "DisplayName": "a"}])),
            page(serde_json::json!([])),
        ])
        .await;
        let error = list_accounts(&client).await.expect_err("a short listing");
        assert_eq!(
            error.to_string(),
            "ListAccounts: the directory reports 3 members, but its pages held 1"
        );
    }
}
