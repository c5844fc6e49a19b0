//! Which planned moves an auto-grouping rule would undo: the rules'
//! matching and the conflicts marked on a plan. Pure: `cloud::rules` reads
//! the rules.

use crate::resource::auto_grouping::{Rule, Rules};
use crate::resource::{Resource, ResourceType, Resources};

use super::{Change, GroupRef, Plan, RuleRef};

/// Whether `value` is in `only` (empty: any) and not in `except`.
fn within(value: &str, only: &[String], except: &[String]) -> bool {
    (only.is_empty() || only.iter().any(|v| v == value)) && !except.iter().any(|v| v == value)
}

impl Rule {
    /// Whether the rule selects `resource` once it is in group `to`.
    /// Scope types are `<service>.<type>`, e.g. `ecs.instance` (§1.6). The
    /// group scope is read as the group the resource is in, which is what
    /// the field's name says; the docs do not define it further.
    pub fn selects(&self, resource: &Resource, to: &str) -> bool {
        let key = &resource.key;
        let rtype = format!("ecs.{}", key.rtype);
        within(to, &self.scope.groups, &self.scope.exclude_groups)
            && within(&rtype, &self.scope.types, &self.scope.exclude_types)
            && within(
                &key.region,
                &self.scope.regions,
                &self.scope.exclude_regions,
            )
            && within(&key.id, &self.scope.ids, &self.scope.exclude_ids)
            && self
                .tags
                .iter()
                .all(|(k, v)| resource.tag(k) == Some(v.as_str()))
            && (self.names.is_empty() || self.names.iter().any(|n| **n == *resource.name))
    }
}

/// The first rule of `rules` that selects `resource` once moved to `to`
/// and targets another group: the rule that would undo the move.
pub(super) fn conflict_of(
    rules: &Rules,
    resource: &Resource,
    to: &GroupRef,
) -> Option<Box<RuleRef>> {
    rules
        .rules
        .iter()
        .find(|rule| rule.selects(resource, &to.id))
        .filter(|rule| !to.holds(&rule.target))
        .map(|rule| Box::new(rule.rule.clone()))
}

/// Marks each of `changes` that a rule would undo ([`conflict_of`]).
pub(super) fn mark(changes: &mut [Change], resources: &Resources, rules: &Rules) {
    for change in changes {
        if let Some(resource) = resources.get(&change.resource) {
            change.conflict = conflict_of(rules, resource, &change.to);
        }
    }
}

/// Says the rules' warnings in a plan that moves anything.
pub(super) fn note(plan: Plan, rules: &Rules) -> Plan {
    let mut plan = plan;
    plan.warnings.extend(rules.warnings.iter().cloned());
    if !rules.follow_instances.is_empty() {
        let types = rules.follow_instances.join(", ");
        let side_effects = plan
            .changes
            .iter()
            .filter(|c| c.resource.rtype == ResourceType::Instance)
            .map(|c| {
                format!(
                    "{}: associated transfer is on, so its attached resources ({types}) move with it to {}",
                    c.resource, c.to.name
                )
            })
            .collect::<Vec<_>>();
        plan.warnings.extend(side_effects);
    }
    plan
}
