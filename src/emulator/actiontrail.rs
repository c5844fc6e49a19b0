//! ActionTrail in the emulator: every membership change it performs is
//! recorded as an event (a `JoinResourceGroup` call, under the caller's
//! access key; a move by an auto-grouping rule, under Resource Manager's
//! principal), and `LookupEvents` (API 2020-07-06) answers them with the
//! documented limits.
//!
//! Sources. Request: `alibabacloud_actiontrail20200706==2.6.0`
//! `models/_lookup_events_request.py` (l.11-37: `Direction` FORWARD or
//! BACKWARD, the default; `EndTime` default now; `LookupAttribute` of
//! `Key`/`Value`; `MaxResults` "0 to 50"; `NextToken`; `StartTime` default
//! seven days back), sent as query parameters `LookupAttribute.N.Key` by
//! `client.py` `lookup_events_with_options` (l.2739-2770: RPC, version
//! 2020-07-06). Response: `models/_lookup_events_response_body.py`
//! (`EndTime`, `Events` as untyped objects, `NextToken`, `RequestId`,
//! `StartTime`). Limits: the LookupEvents page
//! (https://www.alibabacloud.com/help/doc-detail/185722.htm): at most twice
//! per second; "The maximum time range is 30 days", events "in the recent
//! 90 days"; and "How do I configure the LookupAttribute parameter"
//! (https://www.alibabacloud.com/help/en/actiontrail/support/how-to-set-the-lookupattribute-parameter):
//! one or two conditions, exact and case-sensitive, the same key twice
//! keeps the second, more than two uses only the first two. Event fields
//! (`eventId`, `eventName`, `eventTime`, `acsRegion`, `serviceName`,
//! `requestParameters`, `resourceName`, `resourceType`, `userIdentity` with
//! `type`, `principalId`, `accountId`, `accessKeyId`, `userName`): the event
//! samples of https://www.alibabacloud.com/help/doc-detail/28826.htm and
//! https://www.alibabacloud.com/help/en/actiontrail/user-guide/query-actiontrail-events-by-assuming-a-ram-role.
//!
//! Not established, so chosen here: the error codes of a bad `MaxResults`
//! or time range (the emulator's `InvalidParameter`), the default page size
//! (20, the doc's example), and how an auto-grouping move is recorded
//! (`JoinResourceGroup` under the principal `resourcemanager.aliyuncs.com`,
//! `userIdentity.type` `system`, no access key).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::gateway::{Failure, Params};
use super::state::{Account, ResourceIndex};

pub const LOOKUP_EVENTS: &str = "LookupEvents";

const MAX_RESULTS: u32 = 50;
const DEFAULT_RESULTS: u32 = 20;
const MAX_CONDITIONS: usize = 2;
const RETENTION_DAYS: i64 = 90;
const MAX_WINDOW_DAYS: i64 = 30;
const DEFAULT_WINDOW_DAYS: i64 = 7;
const CALLS_PER_SECOND: u32 = 2;

/// The principal an auto-grouping rule's moves are recorded under.
pub const AUTO_GROUPING_PRINCIPAL: &str = "resourcemanager.aliyuncs.com";

/// The recorded events, oldest first, and the calls of the current second.
#[derive(Debug, Clone, Default)]
pub struct Trail {
    events: Vec<Value>,
    second: i64,
    calls: u32,
}

/// Who made a change.
pub enum Mover<'a> {
    /// A caller, by its access key (a fleet key is a RAM user's; one with a
    /// security token was issued to an assumed role).
    Key {
        id: &'a str,
        assumed_role: bool,
    },
    AutoGrouping,
}

/// ActionTrail's resource type name, as in `ACS::ECS::Instance` (the
/// LookupAttribute page's example).
fn resource_type_name(rtype: crate::resource::ResourceType) -> String {
    let name = rtype.as_str();
    let mut chars = name.chars();
    let capitalized: String = chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default();
    format!("ACS::ECS::{capitalized}")
}

/// Records that `index` joined `group` by `mover`.
pub fn record_move(
    account: &mut Account,
    index: &ResourceIndex,
    group: &str,
    mover: Mover,
    now: DateTime<Utc>,
) {
    let (rtype, region, id) = index;
    let identity = match mover {
        Mover::Key {
            id: key,
            assumed_role,
        } => json!({
            "type": if assumed_role { "assumed-role" } else { "ram-user" },
            "principalId": key,
            "accountId": account.account_id,
            "accessKeyId": key,
            "userName": key,
        }),
        Mover::AutoGrouping => json!({
            "type": "system",
            "principalId": AUTO_GROUPING_PRINCIPAL,
            "accountId": account.account_id,
            "userName": AUTO_GROUPING_PRINCIPAL,
        }),
    };
    let number = account.trail.events.len() + 1;
    let event = json!({
        "eventId": format!("EMU{number:08}-0000-4000-8000-000000000000"),
        "eventName": "JoinResourceGroup",
        "eventSource": format!("ecs.{region}.aliyuncs.com"),
        "eventTime": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "eventType": "ApiCall",
        "eventRW": "Write",
        "eventVersion": "1",
        "apiVersion": "2014-05-26",
        "acsRegion": region,
        "serviceName": "Ecs",
        "requestParameters": {
            "RegionId": region,
            "ResourceType": rtype.as_str(),
            "ResourceId": id,
            "ResourceGroupId": group,
        },
        "resourceName": id,
        "resourceType": resource_type_name(*rtype),
        "userIdentity": identity,
    });
    account.trail.events.push(event);
}

/// Records a `JoinResourceGroup` that moved a resource, under the key that
/// signed it (none for an unsigned call, which cannot move anything).
pub fn record_join(
    account: &mut Account,
    key_id: Option<&str>,
    params: &Params,
    now: DateTime<Utc>,
) {
    let Some(key_id) = key_id else { return };
    let field = |name: &str| params.get(name).cloned().unwrap_or_default();
    let Ok(rtype) = field("ResourceType").parse::<crate::resource::ResourceType>() else {
        return;
    };
    let index = (rtype, field("RegionId"), field("ResourceId"));
    let assumed_role = account
        .key(key_id)
        .is_some_and(|key| key.security_token.is_some());
    let mover = Mover::Key {
        id: key_id,
        assumed_role,
    };
    record_move(account, &index, &field("ResourceGroupId"), mover, now);
}

fn time(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, Failure> {
    params
        .get(name)
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| Failure::invalid(name, "must be a UTC time as YYYY-MM-DDThh:mm:ssZ"))
        })
        .transpose()
}

/// The lookup conditions as the service reads them: the first two, a key
/// given twice keeping its second value.
fn conditions(params: &Params) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for n in 1..=MAX_CONDITIONS {
        let key = params.get(&format!("LookupAttribute.{n}.Key"));
        let value = params.get(&format!("LookupAttribute.{n}.Value"));
        if let (Some(key), Some(value)) = (key, value) {
            found.retain(|(k, _)| k != key);
            found.push((key.clone(), value.clone()));
        }
    }
    found
}

/// Whether `event` has `value` under the lookup key `key` (exact,
/// case-sensitive); an unknown key matches nothing.
fn matches(event: &Value, key: &str, value: &str) -> bool {
    let field = match key {
        "ServiceName" => &event["serviceName"],
        "EventName" => &event["eventName"],
        "User" => &event["userIdentity"]["userName"],
        "EventId" => &event["eventId"],
        "ResourceType" => &event["resourceType"],
        "ResourceName" => &event["resourceName"],
        "EventRW" => &event["eventRW"],
        "EventAccessKeyId" => &event["userIdentity"]["accessKeyId"],
        _ => return false,
    };
    field.as_str() == Some(value)
}

/// `LookupEvents`.
pub fn lookup_events(
    account: &mut Account,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<Value, Failure> {
    let trail = &mut account.trail;
    let second = now.timestamp();
    if trail.second != second {
        trail.second = second;
        trail.calls = 0;
    }
    trail.calls += 1;
    if trail.calls > CALLS_PER_SECOND {
        return Err(super::quota::throttled(None));
    }
    let max_results = match params.get("MaxResults") {
        None => DEFAULT_RESULTS,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_RESULTS)
            .ok_or_else(|| Failure::invalid("MaxResults", "valid values: 0 to 50"))?,
    };
    let (start, end) = match (time(params, "StartTime")?, time(params, "EndTime")?) {
        (Some(start), Some(end)) => (start, end),
        (None, None) => (now - Duration::days(DEFAULT_WINDOW_DAYS), now),
        _ => {
            return Err(Failure::invalid(
                "StartTime",
                "StartTime and EndTime are given together or not at all",
            ))
        }
    };
    if end < start || end - start > Duration::days(MAX_WINDOW_DAYS) {
        return Err(Failure::invalid(
            "EndTime",
            "the maximum time range is 30 days",
        ));
    }
    if start < now - Duration::days(RETENTION_DAYS) {
        return Err(Failure::invalid(
            "StartTime",
            "events of the recent 90 days can be queried",
        ));
    }
    let backward = match params.get("Direction").map(String::as_str) {
        None | Some("BACKWARD") => true,
        Some("FORWARD") => false,
        Some(_) => return Err(Failure::invalid("Direction", "FORWARD or BACKWARD")),
    };
    let conditions = conditions(params);
    let mut found: Vec<&Value> = trail
        .events
        .iter()
        .filter(|event| {
            let at = event["eventTime"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            at.is_some_and(|at| at >= start && at <= end)
                && conditions.iter().all(|(k, v)| matches(event, k, v))
        })
        .collect();
    if backward {
        found.reverse();
    }
    let offset: usize = match params.get("NextToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token
            .parse()
            .map_err(|_| Failure::invalid("NextToken", "not a token this query returned"))?,
    };
    let page: Vec<Value> = found
        .iter()
        .skip(offset)
        .take(max_results as usize)
        .map(|event| (*event).clone())
        .collect();
    let next = offset + page.len();
    let mut body = json!({
        "StartTime": start.to_rfc3339_opts(SecondsFormat::Secs, true),
        "EndTime": end.to_rfc3339_opts(SecondsFormat::Secs, true),
        "Events": page,
    });
    if next < found.len() {
        body["NextToken"] = json!(next.to_string());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceType;

    fn account_with_moves(count: usize, now: DateTime<Utc>) -> Account {
        let mut account = Account::from_fleet(crate::emulator::tests::fleet(1));
        for n in 0..count {
            let index = (
                ResourceType::Instance,
                "cn-hangzhou".to_owned(),
                format!("i-{n}"),
            );
            let mover = Mover::Key {
                id: "testid",
                assumed_role: false,
            };
            record_move(&mut account, &index, "rg-prod", mover, now);
        }
        account
    }

    use crate::emulator::gateway::params_of as params;

    /// A new second for each call, so that the 2/s limit does not interfere.
    fn at(now: DateTime<Utc>, call: i64) -> DateTime<Utc> {
        now + Duration::seconds(call)
    }

    #[test]
    fn pages_hold_at_most_50_and_more_is_refused() {
        let now = Utc::now();
        let mut account = account_with_moves(60, now);
        let first =
            lookup_events(&mut account, &params(&[("MaxResults", "50")]), at(now, 1)).unwrap();
        assert_eq!(first["Events"].as_array().unwrap().len(), 50);
        let token = first["NextToken"]
            .as_str()
            .expect("more to read")
            .to_owned();
        let second = lookup_events(
            &mut account,
            &params(&[("MaxResults", "50"), ("NextToken", &token)]),
            at(now, 2),
        )
        .unwrap();
        assert_eq!(second["Events"].as_array().unwrap().len(), 10);
        assert!(
            second.get("NextToken").is_none(),
            "the last page has no token"
        );
        let refused = lookup_events(&mut account, &params(&[("MaxResults", "51")]), at(now, 3));
        assert_eq!(refused.unwrap_err().code, "InvalidParameter");
    }

    #[test]
    fn windows_are_at_most_30_days_within_the_last_90() {
        let now = Utc::now();
        let mut account = account_with_moves(1, now);
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let window = |start: DateTime<Utc>, end: DateTime<Utc>| {
            params(&[("StartTime", &stamp(start)), ("EndTime", &stamp(end))])
        };
        let wide = window(now - Duration::days(31), now);
        assert!(
            lookup_events(&mut account, &wide, at(now, 1)).is_err(),
            "31 days"
        );
        let old = window(now - Duration::days(100), now - Duration::days(80));
        assert!(
            lookup_events(&mut account, &old, at(now, 2)).is_err(),
            "before 90 days"
        );
        let alone = params(&[("StartTime", &stamp(now))]);
        assert!(
            lookup_events(&mut account, &alone, at(now, 3)).is_err(),
            "one end only"
        );
        let fine = window(now - Duration::days(29), now + Duration::seconds(5));
        let body = lookup_events(&mut account, &fine, at(now, 4)).unwrap();
        assert_eq!(body["Events"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn two_calls_a_second_then_throttling() {
        let now = Utc::now();
        let mut account = account_with_moves(1, now);
        for _ in 0..2 {
            assert!(lookup_events(&mut account, &Params::new(), now).is_ok());
        }
        let third = lookup_events(&mut account, &Params::new(), now).unwrap_err();
        assert_eq!(third.code, "Throttling.User");
        assert!(
            lookup_events(&mut account, &Params::new(), at(now, 1)).is_ok(),
            "next second"
        );
    }

    #[test]
    fn conditions_are_exact_the_first_two_count_and_a_repeated_key_keeps_the_second() {
        let now = Utc::now();
        let mut account = account_with_moves(3, now);
        let count = |account: &mut Account, pairs: &[(&str, &str)], call: i64| {
            let body = lookup_events(account, &params(pairs), at(now, call)).unwrap();
            body["Events"].as_array().unwrap().len()
        };
        let by_id = [
            ("LookupAttribute.1.Key", "ResourceName"),
            ("LookupAttribute.1.Value", "i-1"),
        ];
        assert_eq!(count(&mut account, &by_id, 1), 1);
        let case = [
            ("LookupAttribute.1.Key", "ResourceName"),
            ("LookupAttribute.1.Value", "I-1"),
        ];
        assert_eq!(count(&mut account, &case, 2), 0, "case-sensitive");
        let repeated = [
            ("LookupAttribute.1.Key", "ResourceName"),
            ("LookupAttribute.1.Value", "i-1"),
            ("LookupAttribute.2.Key", "ResourceName"),
            ("LookupAttribute.2.Value", "i-2"),
        ];
        let body = lookup_events(&mut account, &params(&repeated), at(now, 3)).unwrap();
        assert_eq!(body["Events"][0]["resourceName"], "i-2", "the second wins");
        let third_ignored = [
            ("LookupAttribute.1.Key", "EventAccessKeyId"),
            ("LookupAttribute.1.Value", "testid"),
            ("LookupAttribute.2.Key", "EventName"),
            ("LookupAttribute.2.Value", "JoinResourceGroup"),
            ("LookupAttribute.3.Key", "ResourceName"),
            ("LookupAttribute.3.Value", "i-0"),
        ];
        assert_eq!(
            count(&mut account, &third_ignored, 4),
            3,
            "only the first two count"
        );
    }
}
