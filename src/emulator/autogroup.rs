//! Resource Manager's automatic transfer (auto grouping) as the emulator
//! models it: the fleet's rules, the reads regroup makes of them
//! (`ListAutoGroupingRules`, `GetAutoGroupingStatus`,
//! `ListAssociatedTransferSetting`), and the rules undoing a move after the
//! fleet's delay. Response shapes are those of the official SDK models
//! (PyPI `alibabacloud_resourcemanager20200331` 2.6.2, flat arrays;
//! docs/sources/resourcemanager-rules.md §1.2, §1.1, §2.1, and the fixtures
//! tests/fixtures/api/rm_*.json).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::gateway::{Failure, Params};
use super::state::{Account, ResourceIndex};
use crate::resource::ResourceType;

pub const LIST_AUTO_GROUPING_RULES: &str = "ListAutoGroupingRules";
pub const GET_AUTO_GROUPING_STATUS: &str = "GetAutoGroupingStatus";
pub const LIST_ASSOCIATED_TRANSFER_SETTING: &str = "ListAssociatedTransferSetting";

/// The fleet's `auto_grouping:` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoGrouping {
    pub enabled: bool,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// How long after a move a rule moves the resource back; the emulator
    /// does it when the account is next read after that.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// Associated-resource transfer: moving an instance moves the
    /// resources the fleet lists as `attached` to it (the console doc,
    /// docs/sources/resourcemanager-rules.md §2.2). It needs automatic
    /// transfer on (§1.7), hence its place here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub associated_transfer: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    /// The group's id or name.
    pub target_group: String,
    #[serde(rename = "match")]
    pub matches: RuleMatch,
}

/// What a rule selects; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMatch {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub rtype: Option<ResourceType>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl RuleMatch {
    fn selects(&self, resource: &super::fleet::FleetResource) -> bool {
        self.rtype.is_none_or(|t| t == resource.rtype)
            && self.name.as_ref().is_none_or(|n| *n == resource.name)
            && self
                .tags
                .iter()
                .all(|(k, v)| resource.tags.get(k) == Some(v))
    }
}

/// The rules of an account whose automatic transfer is on.
fn active(account: &Account) -> &[Rule] {
    match &account.auto_grouping {
        Some(config) if config.enabled => &config.rules,
        _ => &[],
    }
}

/// The id of the group a rule's `target_group` names.
fn target_id<'a>(account: &'a Account, rule: &Rule) -> Option<&'a str> {
    account
        .groups
        .iter()
        .find(|g| g.id == rule.target_group || g.name == rule.target_group)
        .map(|g| g.id.as_str())
}

/// Notes a move, for a rule to undo once the delay has passed.
pub fn moved(account: &mut Account, index: ResourceIndex, now: Instant) {
    if active(account).is_empty() {
        return;
    }
    let delay = account.auto_grouping.as_ref().map_or(0, |c| c.delay_ms);
    account
        .pending_transfers
        .push((index, now + Duration::from_millis(delay)));
}

/// Moves every resource whose delay has passed into the group of the first
/// rule that selects it. Returns whether anything changed.
pub fn enforce(account: &mut Account, now: Instant) -> bool {
    let (due, waiting) = std::mem::take(&mut account.pending_transfers)
        .into_iter()
        .partition(|(_, at)| *at <= now);
    account.pending_transfers = waiting;
    let mut changed = false;
    let now_utc = chrono::Utc::now();
    for (index, _) in due {
        let Some(resource) = account.resources.get(&index) else {
            continue;
        };
        let target = active(account)
            .iter()
            .find(|rule| rule.matches.selects(resource))
            .and_then(|rule| target_id(account, rule))
            .map(str::to_owned);
        let Some(target) = target else { continue };
        let group = (target != account.default_group).then_some(target.clone());
        if let Some(resource) = account.resources.get_mut(&index) {
            if resource.group != group {
                resource.group = group;
                changed = true;
                let mover = super::actiontrail::Mover::AutoGrouping;
                super::actiontrail::record_move(account, &index, &target, mover, now_utc);
            }
        }
    }
    if changed {
        account.generation += 1;
    }
    changed
}

/// One condition clause of the rule language
/// (docs/sources/resourcemanager-rules.md §1.5).
fn clause(path: &str, operator: &str, desired: String) -> Value {
    json!({
        "desired": desired,
        "featurePath": path,
        "featureSource": "RESOURCE",
        "operator": operator,
    })
}

fn condition(children: Vec<Value>) -> String {
    json!({ "children": children, "operator": "and" }).to_string()
}

/// The rule type of every fleet rule: a custom rule-based transfer
/// (`_list_auto_grouping_rules_request.py` l.27 lists it beside
/// `associated_transfer`).
const CUSTOM_CONDITION: &str = "custom_condition";

/// `ListAutoGroupingRules` with the filters of its request model
/// (`alibabacloud_resourcemanager20200331==2.6.2`
/// `models/_list_auto_grouping_rules_request.py`): `RuleId` (l.21),
/// `RuleName` (l.23) and `RuleType` (l.27) match exactly; `MaxResults`
/// is 1 to 50 (l.17; 50 when unset, which the model leaves open) and
/// `NextToken` (l.19) is the position of the next rule.
pub fn list_rules(account: &Account, params: &Params) -> Result<Value, Failure> {
    let max_results = super::offset_paging::max_results(params, 1, 50, 50)?;
    let start = super::offset_paging::start(params)?;
    let wanted = |name: &str, value: &str| params.get(name).is_none_or(|w| w == value);
    let matching: Vec<&Rule> = active(account)
        .iter()
        .filter(|rule| {
            wanted("RuleId", &rule.id)
                && wanted("RuleName", &rule.name)
                && wanted("RuleType", CUSTOM_CONDITION)
        })
        .collect();
    let rules: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max_results)
        .map(|rule| {
            let target = target_id(account, rule).unwrap_or(&rule.target_group);
            let mut scope = Vec::new();
            if !rule.matches.tags.is_empty() {
                // `desired` is itself a JSON string holding the tag map.
                let tags = serde_json::to_string(&rule.matches.tags).unwrap_or_default();
                scope.push(clause("$.tags", "TagMatchAll", tags));
            }
            if let Some(name) = &rule.matches.name {
                scope.push(clause("$.resourceName", "StringEqualsAny", name.clone()));
            }
            json!({
                "RuleId": rule.id,
                "RuleName": rule.name,
                "RuleDesc": "",
                "RuleType": CUSTOM_CONDITION,
                "CreateTime": "2025-01-01T10:00:00+08:00",
                "ModifyTime": "2025-01-01T10:00:00+08:00",
                // `ecs.instance`: the scope's type naming (§1.6).
                "ResourceTypesScope": rule.matches.rtype.map(|t| format!("ecs.{t}")).unwrap_or_default(),
                // Scopes the fleet's rules do not have: empty, any.
                "ExcludeResourceTypesScope": "",
                "RegionIdsScope": "",
                "ExcludeRegionIdsScope": "",
                "ResourceGroupIdsScope": "",
                "ExcludeResourceGroupIdsScope": "",
                "ResourceIdsScope": "",
                "ExcludeResourceIdsScope": "",
                "RuleContents": [{
                    "RuleContentId": format!("grc-{}", rule.id.trim_start_matches("gr-")),
                    "TargetResourceGroupCondition": condition(vec![clause("$.resourceGroupId", "StringEquals", target.to_owned())]),
                    "AutoGroupingScopeCondition": condition(scope),
                }],
            })
        })
        .collect();
    let next_token = super::offset_paging::next_token(start, rules.len(), matching.len());
    Ok(json!({ "MaxResults": max_results, "NextToken": next_token, "Rules": rules }))
}

/// `GetAutoGroupingStatus`: note the response's spelling
/// `EnableExistedResourcesTransfer` (§1.1).
pub fn status(account: &Account) -> Value {
    let enabled = account.auto_grouping.as_ref().is_some_and(|c| c.enabled);
    json!({
        "EnableExistedResourcesTransfer": enabled,
        "EnableStatus": if enabled { "Enable" } else { "Disable" },
    })
}

/// Whether moving an instance moves what is attached to it.
pub fn associated_transfer(account: &Account) -> bool {
    account
        .auto_grouping
        .as_ref()
        .is_some_and(|c| c.enabled && c.associated_transfer)
}

/// `ListAssociatedTransferSetting`: here the flag is spelled `Existing`
/// and is a string (§2.1). The one rule setting listed is the one the
/// sources confirm, an instance's disks (§2.2); the ENI's codes are not
/// published, though the emulator moves attached ENIs too.
pub fn associated_transfer_setting(account: &Account) -> Value {
    let status = if associated_transfer(account) {
        "Enable"
    } else {
        "Disable"
    };
    json!({
        "AssociatedTransferSetting": {
            "AccountId": account.account_id,
            "EnableExistingResourcesTransfer": "false",
            "RuleSettings": [{
                "MasterService": "ecs",
                "MasterResourceType": "instance",
                "AssociatedService": "ecs",
                "AssociatedResourceType": "disk",
                "Status": status,
            }],
            "Status": status,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::super::fidelity_tests::paths;
    use super::super::fleet::Fleet;
    use super::super::tests::{client, fleet, start};
    use super::super::Settings;
    use super::*;
    use crate::api::Service;
    use crate::cloud::client::Call;

    /// The test fleet with one enabled rule `gr-1` into `target`.
    fn with_rule(target: &str, matches: RuleMatch, delay_ms: u64) -> Fleet {
        let mut fleet = fleet(1);
        fleet.auto_grouping = Some(AutoGrouping {
            enabled: true,
            rules: vec![Rule {
                id: "gr-1".into(),
                name: "a rule".into(),
                target_group: target.into(),
                matches,
            }],
            delay_ms,
            associated_transfer: false,
        });
        fleet
    }

    /// The emulator's three answers against the fixtures built from the
    /// SDK models (docs/sources/resourcemanager-rules.md §5): the same
    /// field paths with the same JSON types, including the two spellings
    /// `EnableExistedResourcesTransfer` (a boolean) and
    /// `EnableExistingResourcesTransfer` (a string).
    #[tokio::test]
    async fn answers_have_the_sdk_models_field_paths_and_types() {
        let matches = RuleMatch {
            rtype: Some(ResourceType::Instance),
            tags: [("env".to_owned(), "online".to_owned())].into(),
            name: None,
        };
        let fleet = with_rule("prod", matches, 0);
        let emulator = start(fleet, Settings::default()).await;
        let client = client(&emulator);
        for action in [
            LIST_AUTO_GROUPING_RULES,
            GET_AUTO_GROUPING_STATUS,
            LIST_ASSOCIATED_TRANSFER_SETTING,
        ] {
            let fixture: Value = crate::api::fixtures::json(&format!("rm_{action}.json"));
            let answer = client
                .call::<Value>(&Call::new(
                    Service::ResourceManager,
                    None,
                    action,
                    &[] as &[(&str, &str)],
                ))
                .await
                .result
                .expect("the emulator answers");
            let (mut want, mut got) = (BTreeMap::new(), BTreeMap::new());
            paths(&fixture, "", &mut want);
            paths(&answer, "", &mut got);
            assert_eq!(got, want, "{action}: {answer}");
        }
    }

    /// A rule moves a moved resource back once its delay has passed, not
    /// before; a resource it does not select stays where it was moved.
    #[test]
    fn a_rule_undoes_a_move_after_its_delay() {
        let matches = RuleMatch {
            rtype: Some(ResourceType::Disk),
            ..RuleMatch::default()
        };
        let fleet = with_rule("rg-prod", matches, 1_000);
        let mut account = Account::from_fleet(fleet);
        let disk = account
            .resources
            .keys()
            .find(|(t, region, _)| *t == ResourceType::Disk && region == "cn-hangzhou")
            .cloned()
            .expect("a disk");
        let instance = account
            .resources
            .keys()
            .find(|(t, region, _)| *t == ResourceType::Instance && region == "cn-hangzhou")
            .cloned()
            .expect("an instance");
        assert_eq!(account.resources[&disk].group, None);
        let start = Instant::now();
        moved(&mut account, disk.clone(), start);
        moved(&mut account, instance.clone(), start);
        assert!(!enforce(&mut account, start + Duration::from_millis(999)));
        assert_eq!(account.resources[&disk].group, None);
        assert!(enforce(&mut account, start + Duration::from_millis(1_000)));
        assert_eq!(account.resources[&disk].group.as_deref(), Some("rg-prod"));
        assert_eq!(account.resources[&instance].group, None);
        assert!(account.pending_transfers.is_empty());
    }

    #[test]
    fn a_rule_selects_by_type_tags_and_name() {
        let mut resource = super::super::fleet::FleetResource {
            rtype: ResourceType::Instance,
            id: "i-1".into(),
            region: "cn-hangzhou".into(),
            name: "web".into(),
            group: None,
            tags: [("team".to_owned(), "a".to_owned())].into(),
            status: None,
            owner: None,
            attached: Vec::new(),
            move_error: None,
        };
        let tagged = RuleMatch {
            rtype: Some(ResourceType::Instance),
            tags: [("team".to_owned(), "a".to_owned())].into(),
            name: None,
        };
        assert!(tagged.selects(&resource));
        let named = RuleMatch {
            name: Some("db".into()),
            ..RuleMatch::default()
        };
        assert!(!named.selects(&resource));
        resource.rtype = ResourceType::Disk;
        assert!(!tagged.selects(&resource));
    }
}
