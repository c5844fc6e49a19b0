//! Typed ECS calls: one page of a Describe* read, and `JoinResourceGroup`.
//! What differs between the reads is the wire contract's table,
//! [`crate::api::describe::TypeApi`].

use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::client::{Call, CallOutcome, Client, CloudError};
use crate::api::describe::{Paging, TypeApi};
use crate::api::{ram, Service};
use crate::resource::{Resource, ResourceKey};

/// Which resources of a (region, type) a read asks for.
/// The ids are borrowed: a batch is a slice of the read's sorted ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection<'a> {
    All,
    Ids(&'a [&'a str]),
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Token(String),
    Number(u32),
}

#[derive(Debug)]
pub struct Page {
    pub resources: Vec<Resource>,
    pub next: Option<Cursor>,
    /// For numbered paging: how many items there are in all.
    pub total_count: Option<u64>,
}

/// One page of a Describe* read, with the largest page size the API allows.
/// `swept` is the value of the API's [`TypeApi::sweep`] filter this read
/// asks for (`None`: the API's default).
pub async fn describe(
    client: &Client,
    api: &TypeApi,
    region: &str,
    selection: &Selection<'_>,
    swept: Option<&str>,
    cursor: Option<&Cursor>,
) -> Result<Page, CloudError> {
    let mut params: Vec<(String, String)> = api
        .always
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Selection::Ids(ids) = selection {
        params.extend(api.id_params(ids));
    }
    if let (Some(sweep), Some(value)) = (api.sweep, swept) {
        params.push((sweep.parameter.to_owned(), value.to_owned()));
    }
    let page_size = api.paging.max_page().to_string();
    match (api.paging, cursor) {
        (Paging::Token { .. }, cursor) => {
            params.push(("MaxResults".into(), page_size));
            if let Some(Cursor::Token(token)) = cursor {
                params.push(("NextToken".into(), token.clone()));
            }
        }
        (Paging::Numbered { .. }, cursor) => {
            params.push(("PageSize".into(), page_size));
            let number = match cursor {
                Some(Cursor::Number(n)) => *n,
                _ => 1,
            };
            params.push(("PageNumber".into(), number.to_string()));
        }
    }
    let body: Box<RawValue> = client
        .call(&Call::new(Service::Ecs, Some(region), api.action, &params))
        .await
        .result?;
    parse_page(api, region, body.get()).map_err(|message| CloudError::Decode {
        action: api.action.to_owned(),
        message,
    })
}

/// One page from a Describe* answer's body (read by [`super::page`]), and
/// where the next one starts.
fn parse_page(api: &TypeApi, region: &str, body: &str) -> Result<Page, String> {
    let wire = super::page::read(api, region, body).map_err(|e| e.to_string())?;
    let (next, total_count) = match api.paging {
        Paging::Token { .. } => (
            wire.next_token
                .filter(|token| !token.is_empty())
                .map(Cursor::Token),
            None,
        ),
        Paging::Numbered { .. } => {
            let number = wire.page_number.unwrap_or(1);
            let size = wire.page_size.unwrap_or(1).max(1);
            let total = wire.total_count.unwrap_or(0);
            let more = number * size < total && !wire.resources.is_empty();
            let next = u32::try_from(number + 1)
                .ok()
                .filter(|_| more)
                .map(Cursor::Number);
            (next, Some(total))
        }
    };
    Ok(Page {
        resources: wire.resources,
        next,
        total_count,
    })
}

/// Checks the key, the RAM permission and the required parameters of a
/// read without reading: `DryRun=true`, which the server answers with
/// `DryRunOperation` when they pass. Only for reads whose SDK model
/// documents it ([`ram::documents_dry_run`]).
pub async fn dry_run(client: &Client, api: &TypeApi, region: &str) -> Result<(), CloudError> {
    let call = Call::new(
        Service::Ecs,
        Some(region),
        api.action,
        &[("DryRun", "true")],
    );
    match client.call::<IgnoredAny>(&call).await.result {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .api_error()
                .is_some_and(|e| e.code == ram::DRY_RUN_PASSED) =>
        {
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Moves one resource into `group_id`.
pub async fn join_resource_group(
    client: &Client,
    key: &ResourceKey,
    group_id: &str,
    sent: Option<&std::sync::atomic::AtomicBool>,
) -> CallOutcome {
    let params = [
        ("ResourceType", key.rtype.as_str().to_owned()),
        ("ResourceId", key.id.to_string()),
        ("ResourceGroupId", group_id.to_owned()),
    ];
    let call = Call::new(
        Service::Ecs,
        Some(&key.region),
        "JoinResourceGroup",
        &params,
    )
    .marking_sent(sent);
    client.call(&call).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceType;

    #[test]
    fn parses_items_tags_and_the_next_page() {
        let api = TypeApi::of(ResourceType::LaunchTemplate);
        let body = serde_json::json!({
            "RequestId": "r", "TotalCount": 3, "PageNumber": 1, "PageSize": 2,
            "LaunchTemplateSets": {"LaunchTemplateSet": [
                {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "web", "ResourceGroupId": "rg-1",
                 "Tags": {"Tag": [{"TagKey": "team", "TagValue": "pay"}]}},
                {"LaunchTemplateId": "lt-2", "LaunchTemplateName": "db", "ResourceGroupId": "rg-2"}
            ]}
        });
        let page = parse_page(api, "cn-hangzhou", &body.to_string()).unwrap();
        assert_eq!(page.resources.len(), 2);
        assert_eq!(page.resources[0].tag("team"), Some("pay"));
        assert_eq!(&*page.resources[1].group_id, "rg-2");
        assert_eq!(page.next, Some(Cursor::Number(2)));
    }

    #[test]
    fn a_page_shares_its_region_group_ids_and_tags_between_items() {
        let api = TypeApi::of(ResourceType::LaunchTemplate);
        let item = |id: &str| {
            serde_json::json!({"LaunchTemplateId": id, "LaunchTemplateName": id, "ResourceGroupId": "rg-1",
                "Tags": {"Tag": [{"TagKey": "team", "TagValue": "pay"}]}})
        };
        let body = serde_json::json!({
            "TotalCount": 2, "PageNumber": 1, "PageSize": 2,
            "LaunchTemplateSets": {"LaunchTemplateSet": [item("lt-1"), item("lt-2")]}
        });
        let page = parse_page(api, "cn-hangzhou", &body.to_string()).unwrap();
        let [a, b] = &page.resources[..] else {
            panic!("two items: {:?}", page.resources)
        };
        assert!(std::sync::Arc::ptr_eq(&a.key.region, &b.key.region));
        assert!(std::sync::Arc::ptr_eq(&a.group_id, &b.group_id));
        assert!(std::sync::Arc::ptr_eq(&a.tags[0].0, &b.tags[0].0));
        assert!(std::sync::Arc::ptr_eq(&a.tags[0].1, &b.tags[0].1));
        // What is shared is only what is equal.
        assert_ne!(a.key.id, b.key.id);
        assert_eq!(&*b.group_id, "rg-1");
    }

    /// The response body of `action` from tests/fixtures/api/: built from
    /// the official SDK model's fields and @example values (TS6
    /// `@alicloud/ecs20140526@6.1.0`, checked against TEA 7.11.8;
    /// docs/sources/ecs-models.md §8), never from this crate.
    fn fixture(action: &str) -> serde_json::Value {
        crate::api::fixtures::json(&format!("{action}.json"))
    }

    /// One test per Describe* API: its fixture parses into the one resource
    /// the SDK example describes, with the example's values, and the next
    /// page is where the example's paging fields point.
    macro_rules! fixture_parses {
        ($($test:ident: $rtype:ident, $id:literal, $name:literal, $group:literal, $tag:expr, $next:expr;)*) => {$(
            #[test]
            fn $test() {
                let api = TypeApi::of(ResourceType::$rtype);
                let page = parse_page(api, "cn-hangzhou", &fixture(api.action).to_string()).unwrap();
                assert_eq!(page.resources.len(), 1);
                let r = &page.resources[0];
                assert_eq!(&*r.key.id, $id);
                assert_eq!(&*r.name, $name);
                assert_eq!(&*r.group_id, $group);
                let (key, value): (&str, &str) = $tag;
                assert_eq!(*r.tags, [(key.into(), value.into())]);
                let next: Option<Cursor> = $next;
                assert_eq!(page.next, next);
            }
        )*};
    }

    fn token(text: &str) -> Option<Cursor> {
        Some(Cursor::Token(text.to_owned()))
    }

    fixture_parses! {
        describe_instances_fixture_parses: Instance, "i-bp67acfmxazb4p****", "InstanceNameTest", "rg-bp67acfmxazb4p****", ("TestKey", "TestValue"), token("caeba0bbb2be03f84eb48b699f0a4883");
        describe_disks_fixture_parses: Disk, "d-bp18um4r4f2fve24****", "testDiskName", "rg-bp67acfmxazb4p****", ("TestKey", "TestValue"), token("AAAAAdDWBF2****");
        describe_snapshots_fixture_parses: Snapshot, "s-bp67acfmxazb4p****", "testSnapshotName", "rg-bp67acfmxazb4p****", ("TestKey", "TestValue"), token("caeba0bbb2be03f84eb48b699f0a4883");
        describe_images_fixture_parses: Image, "m-bp1g7004ksh0oeuc****", "testImageName", "rg-bp67acfmxazb4p****", ("DTS", "Oracle"), None;
        describe_security_groups_fixture_parses: SecurityGroup, "sg-bp67acfmxazb4p****", "SGTestName", "rg-bp67acfmxazb4p****", ("TestKey", "TestValue"), token("e71d8a535bd9cc11");
        describe_dedicated_hosts_fixture_parses: Ddh, "dh-bp165p6xk2tlw61e****", "MyDDHTestName", "rg-aek3b6jzp66****", ("TestKey", "TestValue"), token("e71d8a535bd9cc11");
        describe_dedicated_host_clusters_fixture_parses: DdhCluster, "dc-bp12wlf6am0vz9v2****", "myDDHCluster", "rg-bp67acfmxazb4p****", ("TestKey", "TestValue"), None;
        describe_network_interfaces_fixture_parses: Eni, "eni-bp125p95hhdhn3ot****", "my-eni-name", "rg-2ze88m67qx5z****", ("TestKey", "TestValue"), token("AAAAAdDWBF2****");
        describe_key_pairs_fixture_parses: KeyPair, "testKeyPairName", "testKeyPairName", "rg-amnhr7u7c7hj****", ("TestKey", "TestValue"), None;
        describe_launch_templates_fixture_parses: LaunchTemplate, "lt-m5e3ofjr1zn1aw7q****", "wd-152630748****", "rg-acfmxazb4p****", ("TestKey", "TestValue"), None;
        describe_commands_fixture_parses: Command, "c-hz01272yr52****", "testName", "rg-123******", ("owner", "zhangsan"), token("AAAAAdDWBF2");
        describe_activations_fixture_parses: Activation, "4ECEEE12-56F1-4FBC-9AB1-890F1234****", "", "rg-123******", ("owner", "zhangsan"), token("AAAAAdDWBF2****");
        describe_managed_instances_fixture_parses: ManagedInstance, "mi-hz018jrc1o0****", "webAPP-linux-01", "rg-123******", ("TestKey", "TestValue"), token("AAAAAdDWBF2");
    }

    #[test]
    fn every_describe_api_has_a_fixture_test() {
        // The macro above holds one row per type; this keeps a new type
        // from going without one.
        let source = include_str!("ecs.rs");
        for t in ResourceType::ALL {
            let api = TypeApi::of(t);
            let row = format!("fixture_parses: {:?},", t);
            assert!(source.contains(&row), "{}: no fixture test", api.action);
        }
    }
}
