//! The ids of Alibaba Cloud's public regions where ECS serves, to catch a
//! mistyped `--region` or `regions:` entry before it reads an empty account
//! and reports `No changes`.
//!
//! A table, not the account's `DescribeRegions`: it needs no call and no
//! credentials (so `validate` checks regions offline too), and the emulator
//! and the real service are checked alike. Its cost: a region opened after
//! this table was written is refused until the table learns it.
//!
//! Source: the keys of `tests/fixtures/api/ecs_endpoints.json`, built in
//! docs/sources/ecs-models.md §7 from the official endpoint page
//! (https://alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-endpoint),
//! aliyunsdkcore's `data/endpoints.json` and the Terraform provider's
//! `alicloud/connectivity/regions.go`. Finance and government regions are
//! left out there because the sources disagree about them.

/// Every region id of the table, sorted.
pub const REGION_IDS: [&str; 32] = [
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-southeast-8",
    "cn-beijing",
    "cn-chengdu",
    "cn-fuzhou",
    "cn-guangzhou",
    "cn-hangzhou",
    "cn-heyuan",
    "cn-hongkong",
    "cn-huhehaote",
    "cn-nanjing",
    "cn-qingdao",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-wulanchabu",
    "cn-zhangjiakou",
    "cn-zhengzhou-jva",
    "eu-central-1",
    "eu-west-1",
    "me-central-1",
    "me-east-1",
    "na-south-1",
    "us-east-1",
    "us-west-1",
];

/// Checks that `id` is a known region, or says which known ones come
/// closest (within three edits).
pub fn check(id: &str) -> Result<(), String> {
    if REGION_IDS.contains(&id) {
        return Ok(());
    }
    // The nearest ones only, and only when near enough to be a typo.
    let distance = |known: &str| strsim::levenshtein(id, known);
    let nearest = REGION_IDS.iter().map(|k| distance(k)).min().unwrap_or(0);
    let near: Vec<&str> = REGION_IDS
        .iter()
        .copied()
        .filter(|known| nearest <= 3 && distance(known) == nearest)
        .collect();
    Err(match near.as_slice() {
        [] => format!("`{id}` is not an Alibaba Cloud region id (like cn-hangzhou)"),
        _ => format!(
            "`{id}` is not an Alibaba Cloud region id; did you mean {}?",
            near.join(" or ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_endpoint_fixture() {
        let fixture: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(include_str!("../../tests/fixtures/api/ecs_endpoints.json"))
                .expect("the fixture is JSON");
        let ids: Vec<&str> = fixture.keys().map(String::as_str).collect();
        assert_eq!(ids, REGION_IDS);
    }

    #[test]
    fn a_typo_gets_the_closest_region() {
        assert!(check("cn-hangzhou").is_ok());
        let error = check("cn-hangzou").expect_err("a typo");
        assert!(error.contains("did you mean cn-hangzhou?"), "{error}");
        let far = check("mars-north-1").expect_err("not a region");
        assert!(!far.contains("did you mean"), "{far}");
    }
}
