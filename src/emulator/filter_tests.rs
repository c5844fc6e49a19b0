//! The request-model filters the emulator honours beyond ids, tags and the
//! group: every row of `TypeApi::filters`, driven generically, so a filter
//! added to the table is tested without new code; and the filters of
//! `ListAutoGroupingRules` and `GetResourceGroup`'s `IncludeTags`.

use serde_json::Value;

use super::api::{describe, get_resource_group};
use super::autogroup::{list_rules, AutoGrouping, Rule, RuleMatch};
use super::gateway::params_of as params;
use super::state::Account;
use super::tests::{fleet, test_id};
use crate::api::describe::{Compared, Filter, IdFilter, Match, TypeApi};
use crate::resource::ResourceType;

const REGION: &str = "cn-hangzhou";
/// The one item of its type that the filter under test picks.
const PICKED: usize = 2;

/// A value of `filter` that selects the picked item, and one that selects
/// none: built from the match rule, so a wildcard filter gets a pattern
/// and a substring filter a part of the value.
fn values(filter: &Filter, picked: &str) -> (String, String) {
    let full = match filter.compared {
        Compared::Id => picked.to_owned(),
        Compared::Name => "picked-item-name".to_owned(),
        Compared::AttachedTo => test_id(ResourceType::Instance, 1),
        Compared::InstanceStatus => "Stopped".to_owned(),
    };
    let selecting = match filter.how {
        Match::Exact => full.clone(),
        Match::Wildcard => format!("{}*", &full[..full.len() - 2]),
        Match::Substring => full[1..full.len() - 1].to_owned(),
    };
    (selecting, format!("{full}-other"))
}

/// The test fleet with the picked item of `api`'s type given what the
/// filter compares: a name, a state, or an instance it is attached to.
fn account_for(api: &TypeApi, filter: &Filter) -> (Account, String) {
    let mut fleet = fleet(4);
    let picked = test_id(api.rtype, PICKED);
    let owner = test_id(ResourceType::Instance, 1);
    for resource in &mut fleet.resources {
        if resource.rtype == api.rtype && resource.id == picked && resource.region == REGION {
            match filter.compared {
                Compared::Name => resource.name = "picked-item-name".into(),
                Compared::InstanceStatus => resource.status = Some("Stopped".into()),
                Compared::Id | Compared::AttachedTo => {}
            }
        }
        if filter.compared == Compared::AttachedTo
            && resource.rtype == ResourceType::Instance
            && resource.id == owner
        {
            resource.attached.push(picked.clone());
        }
    }
    (Account::from_fleet(fleet), picked)
}

fn listed_ids(api: &TypeApi, answer: &Value) -> Vec<String> {
    let list = api.list_path.iter().fold(answer, |v, key| &v[*key]);
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item[api.id_field].as_str().expect("an id").to_owned())
        .collect()
}

/// The parameters a read of `api` takes to see every item of the region.
fn base(api: &TypeApi) -> Vec<(&'static str, &'static str)> {
    let mut base = vec![("RegionId", REGION)];
    base.extend(api.always.iter().copied());
    base
}

#[test]
fn every_table_filter_lists_only_the_items_it_matches() {
    let mut seen = 0;
    for rtype in ResourceType::ALL {
        let api = TypeApi::of(rtype);
        for filter in api.filters {
            seen += 1;
            let (account, picked) = account_for(api, filter);
            let parameter = if filter.repeated {
                format!("{}.1", filter.parameter)
            } else {
                filter.parameter.to_owned()
            };
            let (selecting, none) = values(filter, &picked);
            let ask = |value: &str| {
                let mut pairs = base(api);
                pairs.push((parameter.as_str(), value));
                describe(&account, api, &params(&pairs))
                    .unwrap_or_else(|f| panic!("{} {parameter}: {}", api.action, f.message))
            };
            let all = describe(&account, api, &params(&base(api))).expect("an unfiltered read");
            assert!(
                listed_ids(api, &all).len() > 1,
                "{}: the unfiltered read lists more than the picked item",
                api.action
            );
            assert_eq!(
                listed_ids(api, &ask(&selecting)),
                vec![picked.clone()],
                "{} {parameter}={selecting} lists only the picked item",
                api.action
            );
            assert_eq!(
                listed_ids(api, &ask(&none)),
                Vec::<String>::new(),
                "{} {parameter}={none} lists nothing",
                api.action
            );
        }
    }
    // Instances 2, disks 2, snapshots, images, security groups 2, hosts,
    // host clusters, ENIs 2, launch templates, commands, managed instances.
    assert_eq!(seen, 15, "the table's filters were all tried");
}

#[test]
fn a_repeated_name_filter_lists_every_name_it_gives() {
    let api = TypeApi::of(ResourceType::LaunchTemplate);
    assert!(matches!(api.id_filter, IdFilter::Repeated(_)));
    let account = Account::from_fleet(fleet(4));
    let names = [0, 3].map(|n| format!("{}-name", test_id(api.rtype, n)));
    let answer = describe(
        &account,
        api,
        &params(&[
            ("RegionId", REGION),
            ("LaunchTemplateName.1", &names[0]),
            ("LaunchTemplateName.2", &names[1]),
        ]),
    )
    .expect("a read by two names");
    assert_eq!(
        listed_ids(api, &answer),
        vec![test_id(api.rtype, 0), test_id(api.rtype, 3)],
        "both named templates and no other"
    );
    let refused = describe(
        &account,
        api,
        &params(&[("RegionId", REGION), ("LaunchTemplateName.101", "x")]),
    )
    .expect_err("101 names are more than the model allows");
    assert_eq!(refused.code, "InvalidParameter", "{}", refused.message);
}

fn with_rules() -> Account {
    let mut fleet = fleet(1);
    let rule = |n: usize| Rule {
        id: format!("gr-{n}"),
        name: format!("rule {n}"),
        target_group: "prod".into(),
        matches: RuleMatch::default(),
    };
    fleet.auto_grouping = Some(AutoGrouping {
        enabled: true,
        rules: (1..=3).map(rule).collect(),
        delay_ms: 0,
        associated_transfer: false,
    });
    Account::from_fleet(fleet)
}

fn rule_ids(answer: &Value) -> Vec<&str> {
    answer["Rules"]
        .as_array()
        .expect("Rules is a list")
        .iter()
        .map(|r| r["RuleId"].as_str().expect("a RuleId"))
        .collect()
}

#[test]
fn auto_grouping_rules_filter_by_id_name_and_type() {
    let account = with_rules();
    let ask = |pairs: &[(&str, &str)]| list_rules(&account, &params(pairs)).expect("a listing");
    assert_eq!(rule_ids(&ask(&[])), ["gr-1", "gr-2", "gr-3"], "all rules");
    assert_eq!(rule_ids(&ask(&[("RuleId", "gr-2")])), ["gr-2"], "by id");
    assert_eq!(
        rule_ids(&ask(&[("RuleName", "rule 3")])),
        ["gr-3"],
        "by name"
    );
    assert_eq!(
        rule_ids(&ask(&[("RuleType", "custom_condition")])).len(),
        3,
        "the fleet's rules are custom_condition rules"
    );
    assert!(
        rule_ids(&ask(&[("RuleType", "associated_transfer")])).is_empty(),
        "no associated_transfer rules"
    );
}

#[test]
fn auto_grouping_rules_page_by_token_within_fifty() {
    let account = with_rules();
    let ask = |pairs: &[(&str, &str)]| list_rules(&account, &params(pairs));
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..5 {
        let page = ask(&[("MaxResults", "2"), ("NextToken", &token)]).expect("a page");
        assert_eq!(page["MaxResults"], 2, "the page size is echoed");
        seen.extend(rule_ids(&page).into_iter().map(str::to_owned));
        token = page["NextToken"].as_str().expect("a token").to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["gr-1", "gr-2", "gr-3"], "two pages, every rule once");
    for bad in ["0", "51", "x"] {
        let refused = ask(&[("MaxResults", bad)]).expect_err("outside 1 to 50");
        assert_eq!(refused.code, "InvalidParameter", "MaxResults={bad}");
    }
}

#[test]
fn get_resource_group_adds_tags_when_asked() {
    let account = Account::from_fleet(fleet(1));
    let plain = get_resource_group(&account, &params(&[("ResourceGroupId", "rg-prod")]))
        .expect("the group");
    assert!(
        plain["ResourceGroup"].get("Tags").is_none(),
        "no Tags unasked"
    );
    let tagged = get_resource_group(
        &account,
        &params(&[("ResourceGroupId", "rg-prod"), ("IncludeTags", "True")]),
    )
    .expect("the group");
    assert_eq!(
        tagged["ResourceGroup"]["Tags"]["Tag"],
        serde_json::json!([]),
        "an empty tag list: the fleet's groups carry none"
    );
}
