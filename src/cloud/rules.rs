//! Resource Manager's automatic transfer (auto grouping) as regroup reads
//! it: whether it is on (`GetAutoGroupingStatus`) and its custom rules
//! (`ListAutoGroupingRules`), so that plan can mark the moves a rule would
//! undo (`plan::rules` evaluates them), and the associated-transfer setting
//! (`ListAssociatedTransferSetting`), so that it can say what follows an
//! instance. Facts and shapes: docs/sources/resourcemanager-rules.md (PyPI
//! `alibabacloud_resourcemanager20200331` 2.6.2 models, Go SDK examples),
//! fixtures tests/fixtures/api/rm_*.json.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::client::{Call, Client, CloudError, Service};
pub use crate::resource::auto_grouping::{Rule, Rules};
use crate::resource::auto_grouping::{RuleRef, Scope};
// The unit tests below evaluate what they read.
#[cfg(test)]
use crate::resource::{Resource, ResourceType};

/// `MaxResults`: "Valid values: 1 to 50" (§1.2; Java async SDK
/// `@Validation(maximum = 50)`).
const PAGE_SIZE: u32 = 50;
/// A bound on the pages read: the service allows 10 custom rules (§1.3).
const MAX_PAGES: u32 = 100;

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatusResponse {
    #[serde(default)]
    enable_status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResponse {
    #[serde(default)]
    next_token: String,
    /// A flat array in every current SDK model (§2.1).
    #[serde(default)]
    rules: Vec<WireRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRule {
    rule_id: String,
    #[serde(default)]
    rule_name: String,
    #[serde(default)]
    rule_type: String,
    #[serde(default)]
    resource_types_scope: String,
    #[serde(default)]
    exclude_resource_types_scope: String,
    #[serde(default)]
    region_ids_scope: String,
    #[serde(default)]
    exclude_region_ids_scope: String,
    #[serde(default)]
    resource_ids_scope: String,
    #[serde(default)]
    exclude_resource_ids_scope: String,
    #[serde(default)]
    resource_group_ids_scope: String,
    #[serde(default)]
    exclude_resource_group_ids_scope: String,
    #[serde(default)]
    rule_contents: Vec<WireContent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireContent {
    #[serde(default)]
    target_resource_group_condition: String,
    #[serde(default)]
    auto_grouping_scope_condition: String,
}

/// A condition: a JSON string holding `{"children":[clause…],"operator":"and"}` (§1.5).
#[derive(Deserialize)]
struct Condition {
    #[serde(default)]
    children: Vec<Clause>,
    #[serde(default)]
    operator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Clause {
    #[serde(default)]
    desired: String,
    #[serde(default)]
    feature_path: String,
    #[serde(default)]
    operator: String,
}

fn decode(action: &str, e: serde_json::Error) -> CloudError {
    CloudError::Decode {
        action: action.into(),
        message: e.to_string(),
    }
}

/// Reads the rules. A plan does not fail for them: without permission to
/// read them, or when the reads fail after their retries, the plan says
/// so once, as a warning, and marks no conflicts.
pub async fn read(client: &Client) -> Rules {
    read_rules(client).await.unwrap_or_else(|error| {
        let why = if error.denial().is_some() {
            "no permission to read"
        } else {
            "could not read"
        };
        Rules {
            warnings: vec![format!(
                "{why} the automatic-transfer (auto grouping) rules and settings, so moves they would undo and resources that would follow are not marked: {error}"
            )],
            ..Rules::default()
        }
    })
}

async fn read_rules(client: &Client) -> Result<Rules, CloudError> {
    const STATUS: &str = "GetAutoGroupingStatus";
    let body = client
        .call::<serde_json::Value>(&Call::new(
            Service::ResourceManager,
            None,
            STATUS,
            &[] as &[(&str, &str)],
        ))
        .await
        .result?;
    let status: StatusResponse = serde_json::from_value(body).map_err(|e| decode(STATUS, e))?;
    // `Partial_Enable`: only associated transfer is on; `Disable` deletes
    // the rules (§1.1, §1.7).
    let mut found = Rules::default();
    let rules_on = matches!(status.enable_status.as_str(), "Enable" | "Enabling");
    if !rules_on && status.enable_status != "Partial_Enable" {
        return Ok(found);
    }
    found.follow_instances = read_associated(client).await?;
    if !rules_on {
        return Ok(found);
    }
    const LIST: &str = "ListAutoGroupingRules";
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let mut params = vec![
            ("MaxResults", PAGE_SIZE.to_string()),
            ("RuleType", "custom_condition".to_owned()),
        ];
        if !token.is_empty() {
            params.push(("NextToken", token.clone()));
        }
        let body = client
            .call::<serde_json::Value>(&Call::new(Service::ResourceManager, None, LIST, &params))
            .await
            .result?;
        let page: ListResponse = serde_json::from_value(body).map_err(|e| decode(LIST, e))?;
        for wire in page
            .rules
            .into_iter()
            .filter(|r| r.rule_type != "associated_transfer")
        {
            understand(wire, &mut found);
        }
        if page.next_token.is_empty() || page.next_token == token {
            break;
        }
        token = page.next_token;
    }
    Ok(found)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssociatedResponse {
    associated_transfer_setting: AssociatedSetting,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssociatedSetting {
    #[serde(default)]
    status: String,
    /// Flat in every current SDK model (§2.1).
    #[serde(default)]
    rule_settings: Vec<RuleSetting>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RuleSetting {
    #[serde(default)]
    master_service: String,
    #[serde(default)]
    master_resource_type: String,
    #[serde(default)]
    associated_resource_type: String,
    #[serde(default)]
    status: String,
}

/// `ListAssociatedTransferSetting`: the types that follow an ECS instance
/// (`MasterService` `ecs`, `MasterResourceType` `instance`), when the
/// setting and the rule setting are both `Enable` (§2.1).
async fn read_associated(client: &Client) -> Result<Vec<String>, CloudError> {
    const ACTION: &str = "ListAssociatedTransferSetting";
    let body = client
        .call::<serde_json::Value>(&Call::new(
            Service::ResourceManager,
            None,
            ACTION,
            &[] as &[(&str, &str)],
        ))
        .await
        .result?;
    let setting = serde_json::from_value::<AssociatedResponse>(body)
        .map_err(|e| decode(ACTION, e))?
        .associated_transfer_setting;
    if setting.status != "Enable" {
        return Ok(Vec::new());
    }
    Ok(setting
        .rule_settings
        .into_iter()
        .filter(|r| {
            r.status == "Enable"
                && r.master_service == "ecs"
                && r.master_resource_type == "instance"
        })
        .map(|r| r.associated_resource_type)
        .collect())
}

/// Turns a listed rule into one [`Rule`] per content record, or a warning
/// naming what regroup cannot evaluate.
fn understand(wire: WireRule, found: &mut Rules) {
    let rule = RuleRef {
        id: wire.rule_id,
        name: wire.rule_name,
    };
    let scope = Scope {
        types: list(&wire.resource_types_scope),
        exclude_types: list(&wire.exclude_resource_types_scope),
        regions: list(&wire.region_ids_scope),
        exclude_regions: list(&wire.exclude_region_ids_scope),
        ids: list(&wire.resource_ids_scope),
        exclude_ids: list(&wire.exclude_resource_ids_scope),
        groups: list(&wire.resource_group_ids_scope),
        exclude_groups: list(&wire.exclude_resource_group_ids_scope),
    };
    for content in wire.rule_contents {
        match content_rule(&content) {
            Ok((target, tags, names)) => found.rules.push(Rule {
                rule: rule.clone(),
                target,
                scope: scope.clone(),
                tags,
                names,
            }),
            Err(why) => found
                .warnings
                .push(format!("{rule}: {why}; moves it would undo are not marked")),
        }
    }
}

type Content = (String, BTreeMap<String, String>, Vec<String>);

fn content_rule(content: &WireContent) -> Result<Content, String> {
    let parse = |text: &str| -> Result<Condition, String> {
        if text.trim().is_empty() {
            return Ok(Condition {
                children: Vec::new(),
                operator: "and".into(),
            });
        }
        let condition: Condition =
            serde_json::from_str(text).map_err(|e| format!("its condition is not JSON ({e})"))?;
        if condition.operator != "and" {
            return Err(format!(
                "its condition operator `{}` is not read",
                condition.operator
            ));
        }
        Ok(condition)
    };
    let target = parse(&content.target_resource_group_condition)?
        .children
        .into_iter()
        .find(|c| c.feature_path == "$.resourceGroupId" && c.operator == "StringEquals")
        .map(|c| c.desired)
        .ok_or("its target group condition names no `$.resourceGroupId`")?;
    let mut tags = BTreeMap::new();
    let mut names = Vec::new();
    for clause in parse(&content.auto_grouping_scope_condition)?.children {
        match (clause.feature_path.as_str(), clause.operator.as_str()) {
            // `desired` is itself a JSON string holding the tag map.
            ("$.tags", "TagMatchAll") => {
                let map: BTreeMap<String, String> = serde_json::from_str(&clause.desired)
                    .map_err(|e| format!("its tag condition is not a tag map ({e})"))?;
                tags.extend(map);
            }
            ("$.resourceName", "StringEqualsAny") => names.extend(list(&clause.desired)),
            (path, operator) => {
                return Err(format!(
                    "its condition on `{path}` with `{operator}` is one regroup does not evaluate"
                ))
            }
        }
    }
    Ok((target, tags, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture's rule (Go SDK examples): a tag map target of
    /// `rg-aek2********qcy`, scoped to `ecs.instance,vpc.vpc`.
    #[test]
    fn the_sdk_example_rule_is_understood() {
        let body: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/api/rm_ListAutoGroupingRules.json"
        ))
        .expect("the fixture is JSON");
        let page: ListResponse = serde_json::from_value(body).expect("the fixture parses");
        let mut found = Rules::default();
        for wire in page.rules {
            understand(wire, &mut found);
        }
        assert!(found.warnings.is_empty(), "{:?}", found.warnings);
        let rule = &found.rules[0];
        assert_eq!(rule.rule.id, "gr-acfo******hy6a");
        assert_eq!(rule.target, "rg-aek2********qcy");
        assert_eq!(rule.tags.get("project").map(String::as_str), Some("A"));
        assert_eq!(rule.tags.get("env").map(String::as_str), Some("online"));
        assert_eq!(rule.scope.types, ["ecs.instance", "vpc.vpc"]);
    }

    /// The scopes narrow a rule: by the group the move puts the resource
    /// in, by type, and by id exclusion.
    #[test]
    fn scopes_narrow_what_a_rule_selects() {
        let wire: WireRule = serde_json::from_value(serde_json::json!({
            "RuleId": "gr-1",
            "RuleName": "r",
            "RuleType": "custom_condition",
            "ResourceTypesScope": "ecs.instance",
            "ExcludeResourceIdsScope": "i-skip",
            "ResourceGroupIdsScope": "rg-b",
            "RuleContents": [{
                "TargetResourceGroupCondition": r#"{"children":[{"desired":"rg-a","featurePath":"$.resourceGroupId","featureSource":"RESOURCE","operator":"StringEquals"}],"operator":"and"}"#,
                "AutoGroupingScopeCondition": r#"{"children":[{"desired":"web","featurePath":"$.resourceName","featureSource":"RESOURCE","operator":"StringEqualsAny"}],"operator":"and"}"#,
            }],
        }))
        .expect("a rule");
        let mut found = Rules::default();
        understand(wire, &mut found);
        let rule = &found.rules[0];
        let resource = |rtype, id: &str, name: &str| Resource {
            key: crate::resource::ResourceKey {
                rtype,
                region: "cn-hangzhou".into(),
                id: id.into(),
            },
            name: name.into(),
            group_id: "rg-x".into(),
            tags: crate::resource::Tags::default(),
        };
        assert!(rule.selects(&resource(ResourceType::Instance, "i-1", "web"), "rg-b"));
        assert!(!rule.selects(&resource(ResourceType::Instance, "i-1", "web"), "rg-c"));
        assert!(!rule.selects(&resource(ResourceType::Instance, "i-1", "db"), "rg-b"));
        assert!(!rule.selects(&resource(ResourceType::Instance, "i-skip", "web"), "rg-b"));
        assert!(!rule.selects(&resource(ResourceType::Disk, "d-1", "web"), "rg-b"));
    }

    #[test]
    fn an_unknown_condition_is_a_warning_not_a_guess() {
        let content = WireContent {
            target_resource_group_condition: r#"{"children":[{"desired":"rg-1","featurePath":"$.resourceGroupId","featureSource":"RESOURCE","operator":"StringEquals"}],"operator":"and"}"#.into(),
            auto_grouping_scope_condition: r#"{"children":[{"desired":"vpc-1","featurePath":"$.vpcId","featureSource":"RESOURCE","operator":"StringEqualsAny"}],"operator":"and"}"#.into(),
        };
        let why = content_rule(&content).expect_err("a VPC condition is not evaluated");
        assert!(why.contains("$.vpcId"), "{why}");
    }
}
