//! Who moved a resource: ActionTrail's `LookupEvents` (API 2020-07-06),
//! asked for a resource's `JoinResourceGroup` events, newest first.
//!
//! The limits bound what one question costs (sources in
//! `src/emulator/actiontrail.rs`): at most 50 events a call, two lookup
//! conditions (here the resource's id and the event name), a window of at
//! most 30 days, events of the last 90 days, at most two calls a second
//! (the caller's rate limiter paces them). A history reads the 90 days as
//! three windows, newest first, and stops after `max_calls` calls, saying
//! so.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;

use super::client::{Call, Client, CloudError};
use crate::api::Service;

const WINDOW_DAYS: i64 = 30;
const RETENTION_DAYS: i64 = 90;
const PAGE_SIZE: &str = "50";

/// What a history is of.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// One resource, by id: its moves.
    Resource(&'a str),
    /// One group, by id: the moves into it (an event names the group
    /// joined, not the one left, and no lookup key matches a group, so the
    /// account's `JoinResourceGroup` events are read and filtered here).
    Group(&'a str),
}

/// One membership change ActionTrail recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The resource moved (`resourceName`).
    pub resource: String,
    pub at: String,
    /// The group it joined (`ResourceGroupId` of the call).
    pub to: String,
    /// `userIdentity.type`: `ram-user`, `assumed-role`, `root-account`, …
    pub principal_type: String,
    pub principal: String,
    pub access_key: Option<String>,
}

/// A resource's moves, newest first, and why the search stopped short.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub moves: Vec<Move>,
    pub stopped_early: Option<String>,
}

/// The `JoinResourceGroup` events of `subject` in `region` over the last
/// 90 days, in at most `max_calls` calls.
pub async fn history(
    client: &Client,
    region: &str,
    subject: Subject<'_>,
    now: DateTime<Utc>,
    max_calls: usize,
) -> Result<History, CloudError> {
    let mut conditions = vec![("EventName", "JoinResourceGroup")];
    if let Subject::Resource(id) = subject {
        conditions.insert(0, ("ResourceName", id));
    }
    let oldest = now - Duration::days(RETENTION_DAYS) + Duration::minutes(1);
    let mut history = History::default();
    let mut calls = 0;
    let mut end = now;
    while end > oldest {
        let start = (end - Duration::days(WINDOW_DAYS)).max(oldest);
        let mut token: Option<String> = None;
        loop {
            if calls == max_calls {
                history.stopped_early = Some(format!(
                    "stopped after {calls} LookupEvents call(s); older moves were not read"
                ));
                return Ok(history);
            }
            calls += 1;
            let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
            let mut params: Vec<(String, String)> = conditions
                .iter()
                .enumerate()
                .flat_map(|(n, (key, value))| {
                    [
                        (format!("LookupAttribute.{}.Key", n + 1), (*key).to_owned()),
                        (
                            format!("LookupAttribute.{}.Value", n + 1),
                            (*value).to_owned(),
                        ),
                    ]
                })
                .collect();
            params.extend(
                [
                    ("MaxResults", PAGE_SIZE.to_owned()),
                    ("Direction", "BACKWARD".to_owned()),
                    ("StartTime", stamp(start)),
                    ("EndTime", stamp(end)),
                ]
                .map(|(name, value)| (name.to_owned(), value)),
            );
            if let Some(token) = &token {
                params.push(("NextToken".to_owned(), token.clone()));
            }
            let body: Value = client
                .call(&Call::new(
                    Service::ActionTrail,
                    Some(region),
                    "LookupEvents",
                    &params,
                ))
                .await
                .result?;
            let events = body["Events"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            history.moves.extend(
                events
                    .iter()
                    .filter(|event| event["acsRegion"].as_str() == Some(region))
                    .filter_map(move_of)
                    .filter(|change| match subject {
                        Subject::Resource(_) => true,
                        Subject::Group(group) => change.to == group,
                    }),
            );
            token = body["NextToken"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        end = start;
    }
    Ok(history)
}

/// A move out of a `JoinResourceGroup` event; `None` for an event without
/// its time or target group.
fn move_of(event: &Value) -> Option<Move> {
    let text = |value: &Value| value.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let identity = &event["userIdentity"];
    Some(Move {
        resource: text(&event["resourceName"])?,
        at: text(&event["eventTime"])?,
        to: text(&event["requestParameters"]["ResourceGroupId"])?,
        principal_type: text(&identity["type"]).unwrap_or_else(|| "unknown".into()),
        principal: text(&identity["userName"])
            .or_else(|| text(&identity["principalId"]))
            .unwrap_or_else(|| "unknown".into()),
        access_key: text(&identity["accessKeyId"]),
    })
}
