//! Flow control like the real service's: `--quota ACTION=N/Ws` limits, each
//! counted per (action, region) in fixed calendar windows, and Quota
//! Center's `ListProductQuotas` reporting exactly those limits.
//!
//! Sources (docs/sources/signing-quotas.md):
//! - §5, ECS "API throttling": counted per account, region and API in
//!   calendar minutes; a call throttled in minute T is allowed again in
//!   minute T+1; the refusal is `Throttling.User`, HTTP 400.
//! - §4: `x-acs-retry-after` in milliseconds, as `alibabacloud_tea_openapi`
//!   0.4.6 reads it; real ECS may not send it, so it is behind a setting.
//! - §6: the `ListProductQuotas` request (`ProductCode`, `QuotaCategory`,
//!   `Dimensions.N.Key/Value`, `MaxResults` 1–100 default 30, `NextToken`)
//!   and response fields, from `alibabacloud-quotas20200510==1.2.2`
//!   `models.py`; the answer has the field paths of
//!   tests/fixtures/api/ListProductQuotas.json (a test checks it).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use super::gateway::{Failure, Params};
use super::offset_paging;
use crate::api::describe::TypeApi;
use crate::api::quota::{self, QuotaSpec};
use crate::clock::WallClock;
use crate::resource::ResourceType;

/// Quota Center is another product with its own limits: ECS quotas,
/// `*` included, never apply to it.
pub const LIST_PRODUCT_QUOTAS: &str = "ListProductQuotas";

/// The enforced limits and the calls counted in each one's current window.
#[derive(Debug)]
pub struct Quotas {
    specs: Vec<QuotaSpec>,
    clock: WallClock,
    /// (action, region) → (window number, calls in it).
    counts: std::sync::Mutex<HashMap<(String, String), (u128, u32)>>,
}

impl Quotas {
    /// `None` when there is nothing to enforce.
    pub fn new(specs: Vec<QuotaSpec>) -> Option<Quotas> {
        (!specs.is_empty()).then(|| Quotas {
            specs,
            clock: WallClock::new(),
            counts: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The limit on `action`: its own, else `*`'s (the last given wins).
    fn limit_of(&self, action: &str) -> Option<&QuotaSpec> {
        if action == LIST_PRODUCT_QUOTAS {
            return None;
        }
        let last = |wanted: &str| self.specs.iter().rev().find(|s| s.action == wanted);
        last(action).or_else(|| last("*"))
    }

    /// Counts a call; a call over the limit is refused with how long until
    /// its window ends.
    pub fn admit(&self, action: &str, region: &str) -> Result<(), Duration> {
        let Some(spec) = self.limit_of(action) else {
            return Ok(());
        };
        let number = self.clock.window_number(spec.window);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = counts
            .entry((action.to_owned(), region.to_owned()))
            .or_insert((number, 0));
        if entry.0 != number {
            *entry = (number, 0);
        }
        if entry.1 < spec.limit {
            entry.1 += 1;
            Ok(())
        } else {
            Err(self.clock.until_next_window(spec.window))
        }
    }

    fn usage(&self, action: &str, region: &str, spec: &QuotaSpec) -> u32 {
        let number = self.clock.window_number(spec.window);
        self.counts
            .lock()
            .map(|c| match c.get(&(action.to_owned(), region.to_owned())) {
                Some((n, count)) if *n == number => *count,
                _ => 0,
            })
            .unwrap_or(0)
    }
}

/// The refusal of a call over its quota, with the time to wait when the
/// emulator is told to send one.
pub fn throttled(retry_after: Option<Duration>) -> Failure {
    let (code, message) = quota::THROTTLING_USER;
    let mut failure = Failure::new(400, code, message);
    failure.retry_after_ms =
        retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1));
    failure
}

/// The actions the emulator serves, by Quota Center product code.
fn actions_of(product: &str) -> Vec<&'static str> {
    match product {
        "ecs" => std::iter::once("JoinResourceGroup")
            .chain(ResourceType::ALL.iter().map(|t| TypeApi::of(*t).action))
            .collect(),
        "resourcemanager" => vec!["ListResourceGroups", "GetResourceGroup"],
        "sts" => vec!["AssumeRoleWithOIDC"],
        _ => Vec::new(),
    }
}

/// `ListProductQuotas`: the FlowControl quotas of `ProductCode`'s actions,
/// one per (action, region) for ECS (whose limits are regional) over the
/// requested `regionId` dimension or else every region of the account.
pub fn list_product_quotas(
    quotas: Option<&Quotas>,
    params: &Params,
    account_id: &str,
    account_regions: BTreeSet<String>,
) -> Result<Value, Failure> {
    let product = params
        .get("ProductCode")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Failure::missing("ProductCode"))?;
    let max_results = offset_paging::max_results(params, 1, 100, 30)?;
    let start = offset_paging::start(params)?;
    let mut wanted_region = None;
    for n in 1.. {
        let Some(key) = params.get(&format!("Dimensions.{n}.Key")) else {
            break;
        };
        if key == "regionId" {
            wanted_region = params.get(&format!("Dimensions.{n}.Value")).cloned();
        }
    }
    let flow_control = params
        .get("QuotaCategory")
        .is_some_and(|c| c == quota::FLOW_CONTROL);
    let regional = product == "ecs";
    let regions: Vec<String> = match (&wanted_region, regional) {
        (_, false) => vec![String::new()],
        (Some(region), true) => vec![region.clone()],
        (None, true) => account_regions.into_iter().collect(),
    };
    let mut all = Vec::new();
    if let (Some(quotas), true) = (quotas, flow_control) {
        for action in actions_of(product) {
            let Some(spec) = quotas.limit_of(action) else {
                continue;
            };
            for region in &regions {
                all.push(entry(quotas, product, action, region, spec, account_id));
            }
        }
    }
    // `QuotaActionCode`, "The quota ID." (`alibabacloud_quotas20200510`
    // 1.2.2 `models.py` l.4181): only that quota.
    if let Some(code) = params.get("QuotaActionCode").filter(|c| !c.is_empty()) {
        all.retain(|quota| quota["QuotaActionCode"] == code.as_str());
    }
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(start).take(max_results).collect();
    let next = offset_paging::next_token(start, page.len(), total);
    Ok(json!({
        "TotalCount": total,
        "MaxResults": max_results,
        "NextToken": next,
        "Quotas": page,
    }))
}

/// One quota in the shape of the fixture. Quota ids and names follow its
/// illustrative `q_ecs_api_<Action>` and `<Action>`: the real naming of ECS
/// FlowControl quota ids was not found (signing-quotas.md, "Not found").
fn entry(
    quotas: &Quotas,
    product: &str,
    action: &str,
    region: &str,
    spec: &QuotaSpec,
    account_id: &str,
) -> Value {
    let (value, unit) = quota::period_of(spec.window);
    let code = format!("q_{product}_api_{action}");
    let arn_region = if region.is_empty() { "*" } else { region };
    let mut dimensions = serde_json::Map::new();
    let mut metric_dimensions = json!({
        "productCode": product,
        "metricKey": code,
        "label": action,
    });
    if !region.is_empty() {
        dimensions.insert("regionId".into(), json!(region));
        metric_dimensions["regionId"] = json!(region);
    }
    json!({
        "ProductCode": product,
        "QuotaCategory": quota::FLOW_CONTROL,
        "QuotaActionCode": code,
        "QuotaName": action,
        "QuotaDescription": format!("Maximum number of {action} calls per {value} {unit} in the region"),
        "QuotaUnit": "",
        "QuotaType": "normal",
        "TotalQuota": spec.limit,
        "TotalUsage": quotas.usage(action, region, spec),
        "Period": {"PeriodValue": value, "PeriodUnit": unit},
        "Dimensions": dimensions,
        "QuotaArn": format!("acs:quotas:{arn_region}:{account_id}:quota/{product}/{code}"),
        "Consumable": true,
        "Adjustable": false,
        "GlobalQuota": false,
        "ApplicableType": "continuous",
        "ApplicableRange": [spec.limit, spec.limit],
        "SupportedRange": [],
        "UnadjustableDetail": "",
        "ApplyReasonTips": "",
        "QuotaItems": [],
        "UsageMetric": {
            "MetricNamespace": "acs_quotas_flowcontrol",
            "MetricName": "Usage",
            "MetricDimensions": metric_dimensions,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> QuotaSpec {
        text.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_admits_its_limit_then_refuses_until_it_ends() {
        let quotas = Quotas::new(vec![spec("JoinResourceGroup=40/60s")]).unwrap();
        for _ in 0..40 {
            quotas.admit("JoinResourceGroup", "cn-hangzhou").unwrap();
        }
        let left = quotas
            .admit("JoinResourceGroup", "cn-hangzhou")
            .unwrap_err();
        assert!(
            left <= Duration::from_secs(60) && !left.is_zero(),
            "{left:?}"
        );
        // Other regions and actions count on their own.
        quotas.admit("JoinResourceGroup", "cn-shanghai").unwrap();
        quotas.admit("DescribeInstances", "cn-hangzhou").unwrap();
        // Still refused just before the window ends, admitted just after:
        // a calendar window, not a sliding one.
        tokio::time::advance(left - Duration::from_millis(1)).await;
        assert!(quotas.admit("JoinResourceGroup", "cn-hangzhou").is_err());
        tokio::time::advance(Duration::from_millis(1)).await;
        for _ in 0..40 {
            quotas.admit("JoinResourceGroup", "cn-hangzhou").unwrap();
        }
        assert_eq!(
            quotas
                .admit("JoinResourceGroup", "cn-hangzhou")
                .unwrap_err(),
            Duration::from_secs(60)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_action_of_its_own_beats_star_and_quota_center_is_not_counted() {
        let quotas = Quotas::new(vec![spec("*=2/1s"), spec("JoinResourceGroup=3/1s")]).unwrap();
        let admitted = |action: &str| {
            (0..10)
                .filter(|_| quotas.admit(action, "r").is_ok())
                .count()
        };
        assert_eq!(admitted("DescribeDisks"), 2);
        assert_eq!(admitted("JoinResourceGroup"), 3);
        assert_eq!(admitted(LIST_PRODUCT_QUOTAS), 10);
        assert!(Quotas::new(Vec::new()).is_none());
    }

    #[test]
    fn throttled_answers_carry_a_retry_hint_only_when_asked() {
        let plain = throttled(None);
        assert_eq!(
            (plain.status, plain.code.as_str()),
            (400, "Throttling.User")
        );
        assert_eq!(plain.retry_after_ms, None);
        let hinted = throttled(Some(Duration::from_millis(1500)));
        assert_eq!(hinted.retry_after_ms, Some(1500));
    }

    use crate::emulator::gateway::params_of as params;

    #[tokio::test(start_paused = true)]
    async fn list_product_quotas_reports_exactly_the_enforced_limits() {
        let quotas = Quotas::new(vec![
            spec("JoinResourceGroup=40/60s"),
            spec("DescribeInstances=2/60s"),
        ])
        .unwrap();
        quotas.admit("JoinResourceGroup", "cn-hangzhou").unwrap();
        let regions = BTreeSet::from(["cn-hangzhou".to_owned(), "cn-beijing".to_owned()]);
        let ask = |extra: &[(&str, &str)]| {
            let mut p = params(&[("ProductCode", "ecs"), ("QuotaCategory", "FlowControl")]);
            p.extend(params(extra));
            list_product_quotas(Some(&quotas), &p, "123", regions.clone()).unwrap()
        };
        let one_region = ask(&[
            ("Dimensions.1.Key", "regionId"),
            ("Dimensions.1.Value", "cn-hangzhou"),
        ]);
        let found: BTreeSet<(String, u64, u64, String)> = one_region["Quotas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["QuotaName"].as_str().unwrap().to_owned(),
                    q["TotalQuota"].as_u64().unwrap(),
                    q["Period"]["PeriodValue"].as_u64().unwrap(),
                    q["Period"]["PeriodUnit"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            found,
            BTreeSet::from([
                ("DescribeInstances".to_owned(), 2, 1, "minute".to_owned()),
                ("JoinResourceGroup".to_owned(), 40, 1, "minute".to_owned()),
            ])
        );
        let join = &one_region["Quotas"].as_array().unwrap()[0];
        assert_eq!(join["QuotaName"], "JoinResourceGroup");
        assert_eq!(join["TotalUsage"], 1);
        assert_eq!(join["Dimensions"]["regionId"], "cn-hangzhou");

        // `QuotaActionCode` picks one quota: both regions of it, no other.
        let code = join["QuotaActionCode"].as_str().unwrap().to_owned();
        let by_code = ask(&[("QuotaActionCode", &code)]);
        assert_eq!(by_code["TotalCount"], 2, "the quota in both regions");
        assert!(
            by_code["Quotas"]
                .as_array()
                .unwrap()
                .iter()
                .all(|q| q["QuotaActionCode"] == code.as_str()),
            "only the asked quota"
        );
        assert_eq!(ask(&[("QuotaActionCode", "q_none")])["TotalCount"], 0);

        // Both regions, one a page: every quota once, then no token.
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = ask(&[("MaxResults", "1"), ("NextToken", &token)]);
            assert_eq!(page["TotalCount"], 4);
            seen.extend(page["Quotas"].as_array().unwrap().iter().cloned());
            token = page["NextToken"].as_str().unwrap().to_owned();
            if token.is_empty() {
                break;
            }
        }
        assert_eq!(seen.len(), 4);
        // Other categories hold nothing here; a bad page size is refused.
        let common = list_product_quotas(
            Some(&quotas),
            &params(&[("ProductCode", "ecs")]),
            "123",
            regions.clone(),
        )
        .unwrap();
        assert_eq!(common["TotalCount"], 0);
        let error = list_product_quotas(
            Some(&quotas),
            &params(&[("ProductCode", "ecs"), ("MaxResults", "101")]),
            "123",
            regions,
        )
        .unwrap_err();
        assert_eq!(error.code, "InvalidParameter");
    }

    /// Every field path of a JSON value, arrays' items merged.
    fn paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(fields) => {
                for (key, child) in fields {
                    let path = format!("{prefix}/{key}");
                    out.insert(path.clone());
                    paths(child, &path, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    paths(item, &format!("{prefix}[]"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_answer_has_the_field_paths_of_the_sdk_model_fixture() {
        let fixture: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/api/ListProductQuotas.json"
        ))
        .unwrap();
        let quotas = Quotas::new(vec![spec("JoinResourceGroup=300/60s")]).unwrap();
        let mut answer = list_product_quotas(
            Some(&quotas),
            &params(&[("ProductCode", "ecs"), ("QuotaCategory", "FlowControl")]),
            "123",
            BTreeSet::from(["cn-hangzhou".to_owned()]),
        )
        .unwrap();
        // The gateway adds the request id to every answer.
        answer["RequestId"] = json!("R");
        let (mut expected, mut got) = (BTreeSet::new(), BTreeSet::new());
        paths(&fixture, "", &mut expected);
        paths(&answer, "", &mut got);
        assert_eq!(got, expected);
    }
}
