//! Names and tags of other services' resources (the `service:type`
//! types), for the `select` rules that choose them by `tags` or `name`.
//! `ListResources`, which reads their membership, reports neither (§3.2 of
//! docs/sources/resourcemanager-services.md); Resource Center's
//! `SearchResources` reports both (§5.3), but only where the account has
//! Resource Center on. So a plan that needs them asks
//! `GetResourceCenterServiceStatus` once and, when it is on, searches;
//! when it is off the plan fails at the rule's line, before it is made.
//!
//! Calls: `SearchResources` filters on several `ACS::…` types and several
//! regions at once (a filter's values are ORed, filters ANDed; §5.2), and
//! has no id list, so every (type set, regions) the rules read is one
//! listing of pages of 100. The group stays `ListResources`': that
//! listing runs anyway for a rule's types, and Resource Center is an index
//! the services feed (its status has an `InitialStatus` for the index
//! being built, §5.1) whose `ResourceGroupId` no source promises current
//! right after a `MoveResources` (the SDK model says only "The resource
//! group ID."), while moves and evictions must be planned from the group
//! the resource is in. One extra listing buys tags and names; the group is
//! never planned from a copy.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::api::resource_center::{acs_type, rm_pair};
use crate::cloud::client::{Client, CloudError};
use crate::cloud::resource_center::{self, FoundResource, ServiceStatus};
use crate::manifest::{Location, Manifest};
use crate::resource::{Interner, ResourceKey, ResourceType, Resources};

/// How many listings run at once; the limiter paces them.
const CONCURRENCY: usize = 8;
/// A bound on one listing's pages: 10,000 pages of 100 is a million
/// resources.
const MAX_PAGES: usize = 10_000;
/// Where to turn Resource Center on: `EnableResourceCenter`, "Activates the
/// Resource Center service" (Alibaba Cloud's API reference, Dec 2025).
pub const ENABLE_DOC: &str = "https://www.alibabacloud.com/help/en/resource-management/resource-center/developer-reference/api-resourcecenter-2022-12-01-enableresourcecenter";

/// The (region, type) pairs of other services whose names and tags some
/// rule reads, each with the first such rule's place.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needs(BTreeMap<(String, ResourceType), Location>);

impl Needs {
    /// What the manifest's `tags`/`name` rules read of other services'
    /// types, in the regions each rule covers.
    pub fn of(manifest: &Manifest) -> Needs {
        let mut needs = BTreeMap::new();
        let rules = manifest.groups.iter().flat_map(|g| &g.rules);
        for rule in rules.filter(|r| !r.tags.is_empty() || r.name.is_some()) {
            for rtype in rule.types.iter().filter(|t| !t.is_ecs()) {
                for region in rule.regions.iter() {
                    needs
                        .entry((region.clone(), *rtype))
                        .or_insert_with(|| rule.location.clone());
                }
            }
        }
        Needs(needs)
    }

    /// Whether no rule needs a search.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The error for an account whose Resource Center cannot answer, at
    /// the first rule that needs it.
    fn refusal(&self, status: &ServiceStatus) -> Option<SearchError> {
        let ((_, rtype), location) = self.0.iter().min_by_key(|(_, location)| *location)?;
        let why = if status.service_status == "Enabled" {
            format!(
                "Resource Center is enabled but has not finished building its index (InitialStatus {}), so a search could miss resources",
                status.initial_status
            )
        } else {
            "Resource Center is not enabled for this account".to_owned()
        };
        Some(SearchError::Unavailable {
            location: location.clone(),
            rtype: *rtype,
            why,
        })
    }

    /// The listings: the regions of each distinct set of `ACS::…` types.
    /// Types without one are left out: the manifest refuses `tags` and
    /// `name` on them.
    fn listings(&self) -> Vec<Listing> {
        let mut by_region: BTreeMap<&str, BTreeSet<&'static str>> = BTreeMap::new();
        for (region, rtype) in self.0.keys() {
            if let Some(acs) = acs_type(rtype.service(), rtype.rm_type()) {
                by_region.entry(region).or_default().insert(acs);
            }
        }
        let mut by_types: BTreeMap<Vec<&'static str>, Vec<String>> = BTreeMap::new();
        for (region, types) in by_region {
            by_types
                .entry(types.into_iter().collect())
                .or_default()
                .push(region.to_owned());
        }
        by_types
            .into_iter()
            .map(|(acs_types, regions)| Listing { acs_types, regions })
            .collect()
    }
}

/// One search: every resource of these types in these regions.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    acs_types: Vec<&'static str>,
    regions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Resource Center is off, or on but still indexing: the rule cannot
    /// be served, which is the manifest's problem in this account.
    #[error("{location}: this rule selects {rtype} by `tags` or `name`, which regroup reads with Resource Center's SearchResources, and {why}\n  hint: enable Resource Center ({ENABLE_DOC}) and plan again, or select {rtype} by `type`, `region` and `in_group`, or list them under `resources:` (docs/manifest.md#other-services-servicetype)")]
    Unavailable {
        location: Location,
        rtype: ResourceType,
        why: String,
    },
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// The names and tags found, by resource.
#[derive(Debug, Default)]
pub struct Labels(BTreeMap<ResourceKey, FoundResource>);

impl Labels {
    /// The found resources of the pairs `needs` holds, by key; others
    /// (a region or type the search matched only as a cross product of
    /// its filters) dropped.
    fn of(found: impl IntoIterator<Item = FoundResource>, needs: &Needs) -> Labels {
        let mut shared = Interner::default();
        let labels = found
            .into_iter()
            .filter_map(|item| {
                let (service, rm_type) = rm_pair(&item.resource_type)?;
                let rtype = ResourceType::from_rm(service, rm_type)?;
                if !needs.0.contains_key(&(item.region_id.clone(), rtype)) {
                    return None;
                }
                let key = ResourceKey {
                    rtype,
                    region: shared.get(&item.region_id),
                    id: item.resource_id.as_str().into(),
                };
                Some((key, item))
            })
            .collect();
        Labels(labels)
    }

    /// Gives the resources read (by `ListResources`, whose group they
    /// keep) the names and tags found. A resource the index does not hold
    /// yet keeps none, and no `tags`/`name` rule selects it this time.
    pub fn apply_to(self, resources: &mut Resources) {
        let mut shared = Interner::default();
        for (key, found) in self.0 {
            if let Some(resource) = resources.get_mut(&key) {
                resource.name = shared.get(&found.resource_name);
                resource.tags = found
                    .tags
                    .iter()
                    .map(|t| (shared.get(&t.key), shared.get(&t.value)))
                    .collect();
            }
        }
    }
}

/// The names and tags `needs` asks for: nothing, without a call, when it
/// asks for none; else the status once, then every listing.
pub async fn read(client: &Client, needs: &Needs) -> Result<Labels, SearchError> {
    if needs.is_empty() {
        return Ok(Labels::default());
    }
    resource_center::pace_published(client);
    let status = resource_center::service_status(client).await?;
    if !status.searchable() {
        if let Some(refusal) = needs.refusal(&status) {
            return Err(refusal);
        }
    }
    let found: Vec<Vec<FoundResource>> = stream::iter(needs.listings())
        .map(|listing| async move { search(client, &listing).await })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(Labels::of(found.into_iter().flatten(), needs))
}

/// Every page of one listing, following `NextToken` (absent on the last
/// page, §5.2) up to [`MAX_PAGES`].
async fn search(client: &Client, listing: &Listing) -> Result<Vec<FoundResource>, CloudError> {
    let regions: Vec<&str> = listing.regions.iter().map(String::as_str).collect();
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = resource_center::search_params(&listing.acs_types, &regions, token.as_deref());
        let page = resource_center::search_page(client, &params).await?;
        found.extend(page.resources);
        if page.next_token.is_empty() {
            return Ok(found);
        }
        // A server that hands back the token it was given would be
        // followed to the page bound; it is an answer that cannot end.
        if token.as_deref() == Some(page.next_token.as_str()) {
            return Err(CloudError::Incomplete {
                action: crate::api::resource_center::SEARCH_RESOURCES.into(),
                message: "the next page's token is the one just sent; no plan is made from part of a search".into(),
            });
        }
        token = Some(page.next_token);
    }
    Err(CloudError::Incomplete {
        action: crate::api::resource_center::SEARCH_RESOURCES.into(),
        message: format!(
            "still a next page after {MAX_PAGES} pages of {}; no plan is made from part of a search",
            resource_center::SEARCH_PAGE_SIZE
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_search_whose_next_token_does_not_move_stops_at_once() {
        // Every page names the same next page: without the check it would be
        // followed to the page bound.
        let client = crate::cloud::tests::canned_server(vec![serde_json::json!({
            "RequestId": "r", "MaxResults": 100, "NextToken": "same", "Resources": [],
        })])
        .await;
        let listing = Listing {
            acs_types: vec!["ACS::VPC::EIP"],
            regions: vec!["cn-hangzhou".into()],
        };
        let error = search(&client, &listing)
            .await
            .expect_err("a token that never moves");
        assert_eq!(
            error.to_string(),
            "SearchResources: the next page's token is the one just sent; no plan is made from part of a search"
        );
    }
    use crate::cloud::resource_center::FoundTag;

    fn rtype(name: &str) -> ResourceType {
        name.parse().expect("a known type")
    }

    fn manifest(text: &str) -> Manifest {
        Manifest::parse("m.yaml", text).expect("a manifest")
    }

    fn needs(items: &[(&str, &str, usize)]) -> Needs {
        Needs(
            items
                .iter()
                .map(|(region, t, line)| {
                    let at = Location {
                        file: "m.yaml".into(),
                        line: *line,
                        column: 1,
                    };
                    (((*region).to_owned(), rtype(t)), at)
                })
                .collect(),
        )
    }

    #[test]
    fn only_tag_and_name_rules_on_other_services_need_a_search() {
        let found = Needs::of(&manifest(
            "version: 1\nregions: [cn-hangzhou, cn-beijing]\ngroups:\n  prod:\n    select:\n      - {type: [instance, eip:eip], tags: {team: a}}\n      - {type: oss:bucket}\n      - {type: eip:eip, name: web-*, region: cn-shanghai}\n",
        ));
        let pairs: Vec<(String, String, usize)> = found
            .0
            .iter()
            .map(|((region, t), at)| (region.clone(), t.to_string(), at.line))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("cn-beijing".into(), "eip:eip".into(), 6),
                ("cn-hangzhou".into(), "eip:eip".into(), 6),
                ("cn-shanghai".into(), "eip:eip".into(), 8),
            ],
            "ECS types keep their Describe reads, a rule without tags or name needs no search"
        );
    }

    #[test]
    fn regions_of_the_same_types_share_one_listing() {
        let listings = needs(&[
            ("cn-hangzhou", "eip:eip", 1),
            ("cn-hangzhou", "oss:bucket", 1),
            ("cn-beijing", "eip:eip", 1),
            ("cn-beijing", "oss:bucket", 1),
            ("cn-shanghai", "eip:eip", 1),
        ])
        .listings();
        assert_eq!(
            listings,
            vec![
                Listing {
                    acs_types: vec!["ACS::EIP::EipAddress"],
                    regions: vec!["cn-shanghai".into()],
                },
                Listing {
                    acs_types: vec!["ACS::EIP::EipAddress", "ACS::OSS::Bucket"],
                    regions: vec!["cn-beijing".into(), "cn-hangzhou".into()],
                },
            ],
            "one search per set of types, over all the regions that read that set"
        );
    }

    #[test]
    fn the_refusal_names_the_first_rule_and_why() {
        let needs = needs(&[
            ("cn-hangzhou", "oss:bucket", 9),
            ("cn-beijing", "eip:eip", 4),
        ]);
        let off = ServiceStatus {
            service_status: "Disabled".into(),
            initial_status: String::new(),
        };
        let text = needs.refusal(&off).expect("a refusal").to_string();
        assert!(
            text.starts_with("m.yaml:4:1: this rule selects eip:eip by `tags` or `name`, which regroup reads with Resource Center's SearchResources, and Resource Center is not enabled for this account\n  hint: enable Resource Center (https://"),
            "{text}"
        );
        let pending = ServiceStatus {
            service_status: "Enabled".into(),
            initial_status: "Pending".into(),
        };
        let text = needs.refusal(&pending).expect("a refusal").to_string();
        assert!(text.contains("(InitialStatus Pending)"), "{text}");
        assert!(Needs::default().refusal(&off).is_none());
    }

    #[test]
    fn found_names_and_tags_go_to_the_resources_read_and_no_others() {
        let found = |id: &str, region: &str, acs: &str| FoundResource {
            resource_id: id.into(),
            resource_type: acs.into(),
            region_id: region.into(),
            resource_name: format!("{id}-name"),
            tags: vec![FoundTag {
                key: "team".into(),
                value: "payments".into(),
            }],
        };
        let labels = Labels::of(
            [
                found("eip-1", "cn-hangzhou", "ACS::EIP::EipAddress"),
                // A pair no rule reads, matched as the cross product of the filters.
                found("eip-2", "cn-beijing", "ACS::EIP::EipAddress"),
                found("x-1", "cn-hangzhou", "ACS::Nosuch::Thing"),
            ],
            &needs(&[
                ("cn-hangzhou", "eip:eip", 1),
                ("cn-beijing", "oss:bucket", 1),
            ]),
        );
        let resource = |id: &str, region: &str| {
            let key = ResourceKey {
                rtype: rtype("eip:eip"),
                region: region.into(),
                id: id.into(),
            };
            let resource = crate::resource::Resource {
                key: key.clone(),
                name: "".into(),
                group_id: "rg-1".into(),
                tags: crate::resource::Tags::default(),
            };
            (key, resource)
        };
        let mut resources: Resources = [
            resource("eip-1", "cn-hangzhou"),
            resource("eip-2", "cn-beijing"),
            resource("eip-3", "cn-hangzhou"),
        ]
        .into_iter()
        .collect();
        labels.apply_to(&mut resources);
        // In key order: cn-beijing before cn-hangzhou.
        let seen: Vec<(String, String, Option<String>, String)> = resources
            .values()
            .map(|r| {
                (
                    r.key.id.to_string(),
                    r.name.to_string(),
                    r.tag("team").map(str::to_owned),
                    r.group_id.to_string(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("eip-2".into(), String::new(), None, "rg-1".into()),
                (
                    "eip-1".into(),
                    "eip-1-name".into(),
                    Some("payments".into()),
                    "rg-1".into()
                ),
                ("eip-3".into(), String::new(), None, "rg-1".into()),
            ],
            "names and tags only where a rule reads them; the group is ListResources'"
        );
    }
}
