//! Typed Resource Manager calls: listing the account's resource groups.

use serde::Deserialize;

use super::client::{Call, Client, CloudError, Service};
use crate::resource::Group;

/// A resource group as `ListResourceGroups` reports it: the fields of
/// `ResourceGroups.ResourceGroup[]` that regroup reads (the
/// `ListResourceGroupsResponseBodyResourceGroupsResourceGroup` model of
/// `alibabacloud_resourcemanager20200331` 2.6.2; docs/sources/ecs-models.md
/// §6); the answer is read straight into these, every other field skipped.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireGroup {
    id: String,
    name: String,
    #[serde(default)]
    status: String,
}

const PAGE_SIZE: u32 = 100;
/// A bound on the pages read, so a misbehaving server cannot loop us: 1,000
/// pages is 100,000 groups, far beyond the service's quota.
const MAX_PAGES: u32 = 1_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResponse {
    resource_groups: GroupList,
    total_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupList {
    #[serde(default)]
    resource_group: Vec<WireGroup>,
}

/// Every resource group of the account, page by page.
pub async fn list_resource_groups(client: &Client) -> Result<Vec<Group>, CloudError> {
    let mut groups = Vec::new();
    for page in 1..=MAX_PAGES {
        let params = [
            ("PageNumber", page.to_string()),
            ("PageSize", PAGE_SIZE.to_string()),
        ];
        let call = Call::new(
            Service::ResourceManager,
            None,
            "ListResourceGroups",
            &params,
        );
        let parsed: ListResponse = client.call(&call).await.result?;
        let received = parsed.resource_groups.resource_group.len();
        groups.extend(
            parsed
                .resource_groups
                .resource_group
                .into_iter()
                .map(|wire| Group {
                    id: wire.id.into(),
                    name: wire.name.into(),
                    status: wire.status,
                }),
        );
        if received == 0 || groups.len() as u64 >= parsed.total_count {
            break;
        }
    }
    Ok(groups)
}
