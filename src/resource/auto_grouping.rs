//! Resource Manager's automatic transfer (auto grouping) rules as data:
//! what `cloud::rules` reads and `plan::rules` evaluates, so that neither
//! of the two uses the other.

use std::collections::BTreeMap;

/// A Resource Manager auto-grouping rule, as `ListAutoGroupingRules` names
/// it (`RuleId`, `RuleName`; docs/sources/resourcemanager-rules.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRef {
    pub id: String,
    pub name: String,
}

impl std::fmt::Display for RuleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "auto-grouping rule \"{}\" ({})", self.name, self.id)
    }
}

/// What the account's rules mean for a plan.
#[derive(Debug, Default)]
pub struct Rules {
    pub rules: Vec<Rule>,
    /// Said once in the plan: a rule that could not be read, or no
    /// permission to read them.
    pub warnings: Vec<String>,
    /// The types (`AssociatedResourceType`) that follow an instance to its
    /// new group under associated transfer; empty when it is off.
    pub follow_instances: Vec<String>,
}

/// A custom-condition rule regroup can evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub rule: RuleRef,
    /// The group the rule moves what it selects into.
    pub target: String,
    pub scope: Scope,
    pub tags: BTreeMap<String, String>,
    pub names: Vec<String>,
}

/// The rule's comma-separated `…Scope` fields (§1.2); empty means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub regions: Vec<String>,
    pub exclude_regions: Vec<String>,
    pub ids: Vec<String>,
    pub exclude_ids: Vec<String>,
    pub groups: Vec<String>,
    pub exclude_groups: Vec<String>,
}
