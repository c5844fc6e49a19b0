//! Where each service's API lives, per region: the host names of the real
//! endpoints. The client sends every call to [`host`]'s answer unless
//! `--endpoint` overrides it.
//!
//! ECS follows the current official Tea SDK: PyPI
//! `alibabacloud_ecs20140526==7.11.8`, `client.py` `Client.__init__`, which
//! sets `_endpoint_rule = 'regional'` and the `_endpoint_map` below; a region
//! the map does not list gets the rule's `ecs.<region>.aliyuncs.com`
//! (`alibabacloud_tea_openapi==0.4.6` `utils.py` `get_endpoint_rules`). The
//! ECS endpoint page (https://alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-endpoint)
//! gives `ecs.<region>.aliyuncs.com` for every public region, cn-hangzhou
//! included, and the old `aliyunsdkcore` table sends nine regions to
//! `ecs-cn-hangzhou.aliyuncs.com`: where they disagree, the current SDK's map
//! wins, since it is what the official tools send today
//! (docs/sources/ecs-models.md §7; tests/fixtures/api/ecs_endpoints*.json).

use super::Service;

/// `_endpoint_map` of `alibabacloud_ecs20140526==7.11.8` `client.py`,
/// verbatim (tests/fixtures/api/ecs_endpoints_tea_sdk_endpoint_map.json).
const ECS_ENDPOINT_MAP: [(&str, &str); 35] = [
    ("ap-northeast-2-pop", "ecs.aliyuncs.com"),
    ("cn-beijing-finance-pop", "ecs.aliyuncs.com"),
    ("cn-beijing-gov-1", "ecs.aliyuncs.com"),
    ("cn-beijing-nu16-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-edge-1", "ecs.cn-qingdao-nebula.aliyuncs.com"),
    ("cn-fujian", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-haidian-cm12-c01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-hangzhou", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-hangzhou-bj-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-hangzhou-finance", "ecs.aliyuncs.com"),
    (
        "cn-hangzhou-internal-prod-1",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    (
        "cn-hangzhou-internal-test-1",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    (
        "cn-hangzhou-internal-test-2",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    (
        "cn-hangzhou-internal-test-3",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    ("cn-hangzhou-test-306", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-hongkong-finance-pop", "ecs.aliyuncs.com"),
    (
        "cn-huhehaote-nebula-1",
        "ecs.cn-qingdao-nebula.aliyuncs.com",
    ),
    ("cn-north-2-gov-1", "ecs.aliyuncs.com"),
    ("cn-shanghai-et15-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shanghai-et2-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shanghai-finance-1", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shanghai-inner", "ecs.aliyuncs.com"),
    (
        "cn-shanghai-internal-test-1",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    ("cn-shenzhen-finance-1", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shenzhen-inner", "ecs.aliyuncs.com"),
    ("cn-shenzhen-st4-d01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shenzhen-su18-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-wuhan", "ecs.aliyuncs.com"),
    ("cn-yushanfang", "ecs.aliyuncs.com"),
    ("cn-zhangbei", "ecs.aliyuncs.com"),
    ("cn-zhangbei-na61-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-zhangjiakou-na62-a01", "ecs.cn-zhangjiakou.aliyuncs.com"),
    (
        "cn-zhengzhou-nebula-1",
        "ecs.cn-qingdao-nebula.aliyuncs.com",
    ),
    ("eu-west-1-oxs", "ecs.cn-shenzhen-cloudstone.aliyuncs.com"),
    ("rus-west-1-pop", "ecs.aliyuncs.com"),
];

/// The host name of `service`'s endpoint for `region`.
///
/// Resource Manager is central: `alibabacloud_resourcemanager20200331==2.6.2`
/// `client.py` sets `_endpoint_rule = 'central'` with no map, which gives
/// `resourcemanager.aliyuncs.com` (docs/sources/ecs-models.md §6). STS
/// without a region is `sts.aliyuncs.com` (docs/sources/credentials.md §7,
/// "Endpoint selection", from the STS endpoint doc DOC-EP).
pub fn host(service: Service, region: Option<&str>) -> String {
    match (service, region) {
        (Service::Ecs, Some(region)) => ECS_ENDPOINT_MAP
            .iter()
            .find(|(r, _)| *r == region)
            .map(|(_, host)| (*host).to_owned())
            .unwrap_or_else(|| format!("ecs.{region}.aliyuncs.com")),
        // The SDK's rule without a region is the central endpoint.
        (Service::Ecs, None) => "ecs.aliyuncs.com".to_owned(),
        (Service::ResourceManager, _) => "resourcemanager.aliyuncs.com".to_owned(),
        (Service::Sts, _) => "sts.aliyuncs.com".to_owned(),
        // `_endpoint_rule = 'central'` in alibabacloud-quotas20200510 1.2.2
        // client.py l.24 (docs/sources/signing-quotas.md §6).
        (Service::Quotas, _) => "quotas.aliyuncs.com".to_owned(),
        // `_endpoint_rule = 'regional'` in alibabacloud_actiontrail20200706
        // 2.6.0 client.py l.23.
        (Service::ActionTrail, Some(region)) => format!("actiontrail.{region}.aliyuncs.com"),
        (Service::ActionTrail, None) => "actiontrail.aliyuncs.com".to_owned(),
        // `_endpoint_rule = ''` and no map in
        // alibabacloud_resourcedirectorymaster20220419==2.3.1 client.py l.23:
        // one host for every region (docs/sources/resource-directory.md §1).
        (Service::ResourceDirectory, _) => "resourcedirectorymaster.aliyuncs.com".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn fixture(name: &str) -> BTreeMap<String, String> {
        crate::api::fixtures::json(name)
    }

    #[test]
    fn every_region_of_the_sdk_map_goes_where_the_sdk_sends_it() {
        let map = fixture("ecs_endpoints_tea_sdk_endpoint_map.json");
        assert_eq!(map.len(), ECS_ENDPOINT_MAP.len());
        for (region, expected) in &map {
            assert_eq!(&host(Service::Ecs, Some(region)), expected, "{region}");
        }
    }

    #[test]
    fn every_documented_region_gets_its_regional_endpoint_unless_the_sdk_map_overrides_it() {
        let documented = fixture("ecs_endpoints.json");
        let map = fixture("ecs_endpoints_tea_sdk_endpoint_map.json");
        assert!(documented.len() >= 30, "the table lists the public regions");
        let mut overridden = Vec::new();
        for (region, doc_host) in &documented {
            let got = host(Service::Ecs, Some(region));
            match map.get(region) {
                Some(sdk_host) => {
                    assert_eq!(&got, sdk_host, "{region}");
                    overridden.push(region.as_str());
                }
                None => assert_eq!(&got, doc_host, "{region}"),
            }
        }
        // The one public region where the doc and the current SDK differ.
        assert_eq!(overridden, vec!["cn-hangzhou"]);
    }

    #[test]
    fn resource_manager_is_central_in_every_region() {
        for (region, expected) in fixture("resourcemanager_endpoints.json") {
            assert_eq!(host(Service::ResourceManager, Some(&region)), expected);
        }
        assert_eq!(
            host(Service::ResourceManager, None),
            "resourcemanager.aliyuncs.com"
        );
    }

    #[test]
    fn resource_directory_is_one_host_in_every_region() {
        // Computed by alibabacloud_resourcedirectorymaster20220419==2.3.1's
        // Client for each region (docs/sources/resource-directory.md §1).
        for (region, expected) in fixture("resourcedirectorymaster_endpoints.json") {
            assert_eq!(host(Service::ResourceDirectory, Some(&region)), expected);
        }
        assert_eq!(
            host(Service::ResourceDirectory, None),
            "resourcedirectorymaster.aliyuncs.com"
        );
    }

    #[test]
    fn the_old_sdk_table_is_not_followed_where_it_disagrees() {
        // aliyunsdkcore sends cn-shanghai to the legacy central host; the
        // current SDK and the doc send it to its regional endpoint.
        let old = fixture("ecs_endpoints_aliyunsdkcore.json");
        assert_eq!(old["cn-shanghai"], "ecs-cn-hangzhou.aliyuncs.com");
        assert_eq!(
            host(Service::Ecs, Some("cn-shanghai")),
            "ecs.cn-shanghai.aliyuncs.com"
        );
    }
}
