//! Quota discovery: before the first write, regroup asks Quota Center for
//! the FlowControl quotas of the ECS APIs it will call in the regions
//! involved, and paces each (action, region) just under its limit from the
//! first call. Without an answer (RAM denies `quotas:ListProductQuotas`,
//! or the account has none published) the limiter adapts instead.
//!
//! The call, from docs/sources/signing-quotas.md §6
//! (`alibabacloud-quotas20200510==1.2.2` `client.py`
//! `list_product_quotas_with_options` l.1960 and `models.py`
//! `ListProductQuotasRequest` l.4143 / `ListProductQuotasResponseBody`
//! l.4659): `ListProductQuotas`, version 2020-05-10 on
//! `quotas.aliyuncs.com`, with `ProductCode=ecs`,
//! `QuotaCategory=FlowControl`, `Dimensions.1.Key=regionId`,
//! `Dimensions.1.Value=<region>`, `MaxResults` up to 100 and `NextToken`
//! paging; each of `Quotas[]` has `TotalQuota`, `Period{PeriodValue,
//! PeriodUnit}` and `Dimensions{regionId}`. RAM action
//! `quotas:ListProductQuotas`. `TotalUsage` ("The quota usage", float,
//! `models.py` `ListProductQuotasResponseBodyQuotas` l.4441/l.4518, read at
//! l.4649): for a FlowControl quota, taken as the calls already counted in
//! the current window, which this run then does not spend; a usage that is
//! in fact older only makes the first window more cautious.
//!
//! Which API a quota limits: the real naming of ECS FlowControl quota ids
//! was not found (signing-quotas.md, "Not found"), so a quota is matched by
//! `QuotaName` or `UsageMetric.MetricDimensions.label` being the action's
//! name, as in tests/fixtures/api/ListProductQuotas.json.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Deserialize;

use super::client::{Call, Client, CloudError, Service};
use crate::api::quota;

/// A quota limit on one (action, region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub action: String,
    pub region: String,
    pub limit: u32,
    pub window: Duration,
    /// Calls already counted in the current window (`TotalUsage`), when
    /// Quota Center reported it.
    pub used: Option<u32>,
}

/// The fields regroup reads of one page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    quotas: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    #[serde(default)]
    quota_name: String,
    total_quota: Option<f64>,
    total_usage: Option<f64>,
    period: Option<Period>,
    #[serde(default)]
    dimensions: serde_json::Map<String, serde_json::Value>,
    usage_metric: Option<UsageMetric>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Period {
    period_value: u64,
    period_unit: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsageMetric {
    #[serde(default)]
    metric_dimensions: serde_json::Map<String, serde_json::Value>,
}

/// The quotas in one `ListProductQuotas` answer, for `actions`; entries
/// without a usable limit or period are left out. Also the next page's
/// token.
fn parse(
    body: &serde_json::Value,
    actions: &BTreeSet<&str>,
) -> Result<(Vec<Quota>, Option<String>), String> {
    let page = Page::deserialize(body).map_err(|e| e.to_string())?;
    let quotas = page
        .quotas
        .into_iter()
        .filter_map(|entry| {
            let label = entry
                .usage_metric
                .as_ref()
                .and_then(|m| m.metric_dimensions.get("label"))
                .and_then(|v| v.as_str());
            let action = [Some(entry.quota_name.as_str()), label]
                .into_iter()
                .flatten()
                .find(|name| actions.contains(name))?;
            let limit = entry.total_quota.filter(|n| *n >= 1.0 && n.is_finite())?;
            let period = entry.period?;
            Some(Quota {
                action: action.to_owned(),
                region: entry
                    .dimensions
                    .get("regionId")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                // A fraction of a call cannot be made: round down.
                limit: limit.min(f64::from(u32::MAX)) as u32,
                window: quota::window_of(period.period_value, &period.period_unit)?,
                // A fraction of a call used counts as a whole one.
                used: entry
                    .total_usage
                    .filter(|n| n.is_finite())
                    .map(|n| n.ceil().clamp(0.0, f64::from(u32::MAX)) as u32),
            })
        })
        .collect();
    Ok((quotas, page.next_token.filter(|t| !t.is_empty())))
}

/// A bound on pages per region, so a server that keeps handing out tokens
/// cannot keep discovery going.
const MAX_PAGES: usize = 100;

/// Reads the FlowControl quotas of `actions` in each of `regions`.
pub async fn discover(
    client: &Client,
    actions: &BTreeSet<&str>,
    regions: &BTreeSet<String>,
) -> Result<Vec<Quota>, CloudError> {
    let mut found = Vec::new();
    for region in regions {
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = vec![
                ("ProductCode", "ecs".to_owned()),
                ("QuotaCategory", quota::FLOW_CONTROL.to_owned()),
                ("Dimensions.1.Key", "regionId".to_owned()),
                ("Dimensions.1.Value", region.clone()),
                ("MaxResults", "100".to_owned()),
            ];
            if let Some(token) = &token {
                params.push(("NextToken", token.clone()));
            }
            let body = client
                .call::<serde_json::Value>(&Call::new(
                    Service::Quotas,
                    None,
                    "ListProductQuotas",
                    &params,
                ))
                .await
                .result?;
            let (quotas, next) = parse(&body, actions).map_err(|message| CloudError::Decode {
                action: "ListProductQuotas".into(),
                message,
            })?;
            // A quota without a region dimension applies to every region.
            found.extend(quotas.into_iter().map(|q| Quota {
                region: if q.region.is_empty() {
                    region.clone()
                } else {
                    q.region
                },
                ..q
            }));
            match next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
    }
    Ok(found)
}

/// Discovers the quotas and sets them on the client's limiter; says at
/// `-v` what it found, or that it falls back to adapting. Never fails: the
/// adaptive limiter is always there.
pub async fn pace(client: &Client, actions: &BTreeSet<&str>, regions: &BTreeSet<String>) {
    match discover(client, actions, regions).await {
        Ok(quotas) => {
            for q in &quotas {
                client
                    .limiter()
                    .set_quota(&q.action, Some(&q.region), q.limit, q.window, q.used);
                tracing::info!(action = %q.action, region = %q.region, limit = q.limit, window_s = q.window.as_secs(), used = ?q.used, "quota known: keeping just under it");
            }
            let known: BTreeSet<(&str, &str)> = quotas
                .iter()
                .map(|q| (q.action.as_str(), q.region.as_str()))
                .collect();
            for region in regions {
                for action in actions {
                    if !known.contains(&(*action, region.as_str())) {
                        tracing::info!(action, region = %region, "no published quota: pacing adaptively");
                    }
                }
            }
        }
        Err(error) => tracing::info!(
            error = %error,
            "quota discovery failed (it needs quotas:ListProductQuotas): pacing adaptively"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_model_fixture_parses() {
        let body: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/api/ListProductQuotas.json"
        ))
        .unwrap();
        let actions = BTreeSet::from(["JoinResourceGroup", "DescribeInstances", "DescribeDisks"]);
        let (quotas, next) = parse(&body, &actions).unwrap();
        assert_eq!(next, None, "an empty NextToken is the last page");
        assert_eq!(
            quotas,
            vec![
                Quota {
                    action: "DescribeInstances".into(),
                    region: "cn-hangzhou".into(),
                    limit: 1200,
                    window: Duration::from_secs(60),
                    used: Some(37),
                },
                Quota {
                    action: "JoinResourceGroup".into(),
                    region: "cn-hangzhou".into(),
                    limit: 300,
                    window: Duration::from_secs(60),
                    used: Some(0),
                },
            ]
        );
        // Actions regroup does not call are left out.
        let (only, _) = parse(&body, &BTreeSet::from(["JoinResourceGroup"])).unwrap();
        assert_eq!(only.len(), 1);
    }

    #[test]
    fn entries_without_a_usable_limit_or_period_are_left_out() {
        let body = serde_json::json!({
            "NextToken": "2",
            "Quotas": [
                {"QuotaName": "JoinResourceGroup", "TotalQuota": 0, "Period": {"PeriodValue": 1, "PeriodUnit": "minute"}},
                {"QuotaName": "JoinResourceGroup", "TotalQuota": 5, "Period": {"PeriodValue": 1, "PeriodUnit": "fortnight"}},
                {"QuotaName": "JoinResourceGroup", "TotalQuota": 5},
                {"QuotaName": "q_x", "TotalQuota": 7, "TotalUsage": 2.5, "Period": {"PeriodValue": 2, "PeriodUnit": "second"},
                 "UsageMetric": {"MetricDimensions": {"label": "JoinResourceGroup"}}},
            ]
        });
        let (quotas, next) = parse(&body, &BTreeSet::from(["JoinResourceGroup"])).unwrap();
        assert_eq!(next.as_deref(), Some("2"));
        assert_eq!(quotas.len(), 1, "{quotas:?}");
        assert_eq!(
            (quotas[0].limit, quotas[0].window, quotas[0].used),
            (7, Duration::from_secs(2), Some(3))
        );
        assert!(parse(&serde_json::json!({"Quotas": 3}), &BTreeSet::new()).is_err());
    }
}
