//! Typed Resource Center (2022-12-01) calls: whether the account has it
//! on (`GetResourceCenterServiceStatus`) and one page of
//! `SearchResources`, the only read that reports other services'
//! resources with their names and tags
//! (docs/sources/resourcemanager-services.md §5).

use serde::Deserialize;

use super::client::{Call, Client, CloudError, Service};
use crate::api::resource_center::{GET_SERVICE_STATUS, SEARCH_RESOURCES};

/// `GetResourceCenterServiceStatus`' answer
/// (`alibabacloud_resourcecenter20221201==1.6.1`
/// `models/_get_resource_center_service_status_response_body.py` l.7–25,
/// wire keys l.36–42; §5.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceStatus {
    /// `Enabled` or `Disabled`.
    #[serde(default)]
    pub service_status: String,
    /// `Pending` while the index is being built, then `Finished`.
    #[serde(default)]
    pub initial_status: String,
}

impl ServiceStatus {
    /// Whether `SearchResources` answers for every resource: the service
    /// on and its index built (§5.1: while `Pending`, results may be
    /// incomplete, and a rule would silently select fewer).
    pub fn searchable(&self) -> bool {
        self.service_status == "Enabled" && self.initial_status == "Finished"
    }
}

/// The account's Resource Center status, in one call (no parameters).
pub async fn service_status(client: &Client) -> Result<ServiceStatus, CloudError> {
    let params: [(&str, &str); 0] = [];
    let call = Call::new(Service::ResourceCenter, None, GET_SERVICE_STATUS, &params);
    client.call(&call).await.result
}

/// The most resources a `SearchResources` page holds that every source
/// allows: the SDK model says `MaxResults` is 1 to 100
/// (`_search_resources_request.py` l.24–28, version 1.6.1, the newest on
/// PyPI); the newer doc pages say 1 to 500 (§5.2). A client keeps to 100.
pub const SEARCH_PAGE_SIZE: usize = 100;
/// Resource Center's published limit for `SearchResources` and
/// `GetResourceCenterServiceStatus`: 20 calls a second each, per account
/// (https://help.aliyun.com/zh/resource-management/developer-reference/api-resourcecenter-2022-12-01-quota;
/// §6). The limiter keeps under it from the first call.
pub const PUBLISHED_QPS: u32 = 20;

/// One page of `SearchResources`: flat `Resources[]`, and `NextToken` on
/// every page but the last; there is no `TotalCount`
/// (`_search_resources_response_body.py` l.45–62, 77–85; §5.3).
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchPage {
    #[serde(default)]
    pub resources: Vec<FoundResource>,
    #[serde(default)]
    pub next_token: String,
}

/// One resource of a page: the fields regroup reads of `Resources[]`
/// (same model, wire keys l.156–196; `ResourceType` is the `ACS::…` name,
/// `Tags` a flat array of `Key`/`Value`, l.239–240, 269–272).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FoundResource {
    pub resource_id: String,
    pub resource_type: String,
    #[serde(default)]
    pub region_id: String,
    #[serde(default)]
    pub resource_name: String,
    #[serde(default)]
    pub tags: Vec<FoundTag>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FoundTag {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// The query of one page: the resources of any of `acs_types` (`ACS::…`)
/// in any of `regions`: two `Filter`s, ANDed, each of whose values are
/// ORed (§5.2, the EN SearchResources page of Jan 2026), with `Equals`,
/// the match the SDK model names. All of it goes in the query (PY-RC
/// `client.py` l.3167–3190: `Utils.query` flattens to `Filter.N.Key`,
/// `Filter.N.Value.M`).
pub fn search_params(
    acs_types: &[&str],
    regions: &[&str],
    next_token: Option<&str>,
) -> Vec<(String, String)> {
    let mut params = vec![("MaxResults".to_owned(), SEARCH_PAGE_SIZE.to_string())];
    for (n, (key, values)) in [("ResourceType", acs_types), ("RegionId", regions)]
        .into_iter()
        .enumerate()
    {
        let n = n + 1;
        params.push((format!("Filter.{n}.Key"), key.to_owned()));
        params.push((format!("Filter.{n}.MatchType"), "Equals".to_owned()));
        for (m, value) in values.iter().enumerate() {
            params.push((format!("Filter.{n}.Value.{}", m + 1), (*value).to_owned()));
        }
    }
    if let Some(token) = next_token {
        params.push(("NextToken".to_owned(), token.to_owned()));
    }
    params
}

/// One page of `SearchResources` with these parameters.
pub async fn search_page(
    client: &Client,
    params: &[(String, String)],
) -> Result<SearchPage, CloudError> {
    let call = Call::new(Service::ResourceCenter, None, SEARCH_RESOURCES, params);
    client.call(&call).await.result
}

/// Keeps the limiter under [`PUBLISHED_QPS`] for both actions from their
/// first call.
pub fn pace_published(client: &Client) {
    for action in [GET_SERVICE_STATUS, SEARCH_RESOURCES] {
        super::resourcemanager::pace_per_second(client, action, PUBLISHED_QPS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_decodes_as_the_sdk_model_names_its_fields() {
        // The fixture holds every wire key of the SDK's response model.
        let text = include_str!("../../tests/fixtures/api/rc_SearchResources.json");
        let page: SearchPage = serde_json::from_str(text).expect("the fixture decodes");
        assert_eq!(
            page,
            SearchPage {
                resources: vec![FoundResource {
                    resource_id: "vtb-bp11lbh452fr8940s****".into(),
                    resource_type: "ACS::VPC::RouteTable".into(),
                    region_id: "cn-hangzhou".into(),
                    resource_name: "group1".into(),
                    tags: vec![FoundTag {
                        key: "tagKey".into(),
                        value: "tagValue".into()
                    }],
                }],
                next_token: "eyJzZWFyY2hBZnRlcnMiOlsiMTAwMTU2Nzk4MTU1OSJd****".into(),
            },
            "id, type, region, name, tags and the next page's token, the rest skipped"
        );
    }

    #[test]
    fn a_last_page_has_no_token_and_tags_are_a_flat_array() {
        let page: SearchPage = serde_json::from_str(
            r#"{"RequestId": "r", "MaxResults": 100, "Filters": [],
                "Resources": [{"ResourceId": "eip-1", "ResourceType": "ACS::EIP::EipAddress",
                  "RegionId": "cn-hangzhou", "ResourceName": "web", "ResourceGroupId": "rg-1",
                  "Deleted": false, "Tags": [{"Key": "team", "Value": "payments"}]},
                  {"ResourceId": "eip-2", "ResourceType": "ACS::EIP::EipAddress"}]}"#,
        )
        .expect("a page decodes");
        assert_eq!(page.next_token, "", "no NextToken: the last page");
        assert_eq!(
            page.resources[0].tags,
            vec![FoundTag {
                key: "team".into(),
                value: "payments".into()
            }]
        );
        assert_eq!(page.resources[0].resource_name, "web");
        assert_eq!(
            (
                page.resources[1].resource_name.as_str(),
                page.resources[1].tags.len()
            ),
            ("", 0),
            "a resource without name or tags decodes as having none"
        );
        assert!(
            serde_json::from_str::<SearchPage>(r#"{"Resources": [{"ResourceType": "x"}]}"#)
                .is_err(),
            "a resource without its id is not read as one"
        );
    }

    #[test]
    fn status_is_searchable_only_enabled_and_built() {
        let status = |s: &str, i: &str| ServiceStatus {
            service_status: s.into(),
            initial_status: i.into(),
        };
        assert!(status("Enabled", "Finished").searchable());
        assert!(!status("Enabled", "Pending").searchable());
        assert!(!status("Disabled", "").searchable());
        let decoded: ServiceStatus = serde_json::from_str(include_str!(
            "../../tests/fixtures/api/rc_GetResourceCenterServiceStatus.json"
        ))
        .expect("the fixture decodes");
        assert!(decoded.searchable(), "{decoded:?}");
    }

    #[test]
    fn params_filter_on_types_and_regions_a_hundred_a_page() {
        let params = search_params(
            &["ACS::EIP::EipAddress", "ACS::OSS::Bucket"],
            &["cn-hangzhou"],
            Some("tok"),
        );
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("MaxResults", "100"),
                ("Filter.1.Key", "ResourceType"),
                ("Filter.1.MatchType", "Equals"),
                ("Filter.1.Value.1", "ACS::EIP::EipAddress"),
                ("Filter.1.Value.2", "ACS::OSS::Bucket"),
                ("Filter.2.Key", "RegionId"),
                ("Filter.2.MatchType", "Equals"),
                ("Filter.2.Value.1", "cn-hangzhou"),
                ("NextToken", "tok"),
            ]
        );
    }
}
