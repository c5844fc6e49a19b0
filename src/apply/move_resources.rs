//! The changes of other services' types (`service:type`), moved with
//! Resource Manager's `MoveResources`: at most 10 resources a call, all to
//! one target group, regions and services mixed
//! (docs/sources/resourcemanager-services.md §2.1). A call that succeeds
//! answers each resource's own `Status` (`SUCCESS`/`FAIL`, with `ErrorCode`
//! and `ErrorMsg` on a failure, §2.2), which becomes that change's outcome;
//! a call that fails fails its whole batch. Read-back settles each as it
//! does a join.

use std::time::Instant;

use super::execute::outcome_of;
use super::report::{Outcome, Status};
use crate::cloud::client::CallOutcome;
use crate::cloud::resourcemanager::{MoveAnswer, MoveResponse, MOVE_MAX_RESOURCES, MOVE_SUCCESS};
use crate::plan::Change;
use crate::resource::ResourceKey;

/// The changes as `MoveResources` calls: by target group (one
/// `ResourceGroupId` a call), at most [`MOVE_MAX_RESOURCES`] each, in the
/// order the changes came in.
pub(super) fn batches(changes: Vec<Change>) -> Vec<Vec<Change>> {
    let mut by_group: Vec<(std::sync::Arc<str>, Vec<Change>)> = Vec::new();
    for change in changes {
        match by_group
            .iter_mut()
            .find(|(group, _)| *group == change.to.id)
        {
            Some((_, list)) => list.push(change),
            None => by_group.push((change.to.id.clone(), vec![change])),
        }
    }
    by_group
        .into_iter()
        .flat_map(|(_, list)| {
            list.chunks(MOVE_MAX_RESOURCES)
                .map(<[Change]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether an item of `Responses` is about `key`: same id, type and
/// service, and the same region when the answer names one.
fn answers(item: &MoveResponse, key: &ResourceKey) -> bool {
    item.resource_id == *key.id
        && item.service.eq_ignore_ascii_case(key.rtype.service())
        && item.resource_type.eq_ignore_ascii_case(key.rtype.rm_type())
        && (item.region_id.is_empty() || item.region_id == *key.region)
}

/// Each change's outcome from one call's answer. A failed call fails every
/// change of it (as a failed join does); a call that succeeded gives each
/// change its own item's `Status`; a change the answer says nothing of is
/// `unverified` until read back.
pub(super) fn outcomes(
    batch: Vec<Change>,
    call: CallOutcome<MoveAnswer>,
    started: Instant,
) -> Vec<Outcome> {
    batch
        .into_iter()
        .map(|change| {
            let mut outcome = outcome_of(change, &call, started);
            let Ok(answer) = &call.result else {
                return outcome;
            };
            let item = answer
                .responses
                .iter()
                .find(|item| answers(item, &outcome.change.resource));
            // Each item carries its own request id (§2.2).
            if let Some(id) = item
                .map(|i| &i.request_id)
                .filter(|id| !id.is_empty() && !outcome.request_ids.contains(id))
            {
                outcome.request_ids.push(id.clone());
            }
            match item {
                Some(item) if item.status == MOVE_SUCCESS => {}
                Some(item) => {
                    outcome.status = Status::Failed;
                    outcome.code = Some(non_empty(&item.error_code, "FAIL"));
                    outcome.message = Some(non_empty(
                        &item.error_msg,
                        "MoveResources answered FAIL for this resource",
                    ));
                }
                None => {
                    outcome.status = Status::Unverified;
                    outcome.note = Some("MoveResources' answer did not name this resource".into());
                }
            }
            outcome
        })
        .collect()
}

/// `text`, or `otherwise` when the answer left it empty (an empty
/// `ErrorCode` is as good as none: §2.2).
fn non_empty(text: &str, otherwise: &str) -> String {
    if text.is_empty() {
        otherwise.to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::client::CloudError;
    use crate::resource::ResourceType;

    fn change(t: &str, id: &str, to: &str) -> Change {
        let rtype: ResourceType = t.parse().expect("a known type");
        super::super::tests::change(rtype, "cn-hangzhou", id, "rg-from", to)
    }

    #[test]
    fn changes_go_ten_a_call_and_one_group_a_call() {
        let mut changes: Vec<Change> = (0..23)
            .map(|n| change("eip:eip", &format!("eip-{n}"), "rg-a"))
            .collect();
        changes.extend((0..4).map(|n| change("oss:bucket", &format!("bucket-{n}"), "rg-b")));
        changes.push(change("rds:dbinstance", "rm-1", "rg-a"));
        let sizes: Vec<(usize, String)> = batches(changes)
            .iter()
            .map(|b| {
                assert!(b.iter().all(|c| c.to.id == b[0].to.id), "one group a call");
                (b.len(), b[0].to.id.to_string())
            })
            .collect();
        assert_eq!(
            sizes,
            vec![
                (10, "rg-a".to_owned()),
                (10, "rg-a".to_owned()),
                (4, "rg-a".to_owned()),
                (4, "rg-b".to_owned()),
            ],
            "24 moves to rg-a in calls of 10, 10, 4; rg-b's 4 in their own call"
        );
        assert!(batches(Vec::new()).is_empty());
    }

    fn item(id: &str, service: &str, t: &str, status: &str, code: &str, msg: &str) -> MoveResponse {
        MoveResponse {
            service: service.into(),
            resource_type: t.into(),
            resource_id: id.into(),
            region_id: "cn-hangzhou".into(),
            request_id: "r".into(),
            status: status.into(),
            error_code: code.into(),
            error_msg: msg.into(),
        }
    }

    #[test]
    fn each_resource_takes_its_own_status_from_the_answer() {
        let batch = vec![
            change("eip:eip", "eip-1", "rg-a"),
            change("eip:eip", "eip-2", "rg-a"),
            change("slb:loadbalancer", "lb-1", "rg-a"),
            change("oss:bucket", "bucket-1", "rg-a"),
        ];
        // The doc's example item shape (DOC-MR-MD): empty ErrorCode on SUCCESS.
        let answer = MoveAnswer {
            responses: vec![
                item("eip-1", "eip", "eip", "SUCCESS", "", ""),
                item(
                    "eip-2",
                    "eip",
                    "eip",
                    "FAIL",
                    "NoPermission",
                    "No permissions",
                ),
                item("lb-1", "slb", "loadbalancer", "FAIL", "", ""),
            ],
        };
        let call = CallOutcome {
            result: Ok(answer),
            tries: 1,
            request_ids: vec!["req-1".into()],
        };
        let got: Vec<(String, Status, Option<String>, Option<String>)> =
            outcomes(batch, call, Instant::now())
                .into_iter()
                .map(|o| {
                    (
                        o.change.resource.id.to_string(),
                        o.status,
                        o.code,
                        o.message,
                    )
                })
                .collect();
        assert_eq!(
            got,
            vec![
                ("eip-1".into(), Status::Moved, None, None),
                (
                    "eip-2".into(),
                    Status::Failed,
                    Some("NoPermission".into()),
                    Some("No permissions".into())
                ),
                (
                    "lb-1".into(),
                    Status::Failed,
                    Some("FAIL".into()),
                    Some("MoveResources answered FAIL for this resource".into())
                ),
                ("bucket-1".into(), Status::Unverified, None, None),
            ]
        );
    }

    #[test]
    fn a_failed_call_fails_its_whole_batch_with_the_calls_code() {
        let batch = vec![
            change("eip:eip", "eip-1", "rg-a"),
            change("eip:eip", "eip-2", "rg-a"),
        ];
        let error = CloudError::Decode {
            action: "MoveResources".into(),
            message: "not JSON".into(),
        };
        let call = CallOutcome {
            result: Err(error),
            tries: 1,
            request_ids: vec![],
        };
        let got = outcomes(batch, call, Instant::now());
        assert_eq!(got.len(), 2);
        assert!(
            got.iter()
                .all(|o| o.status == Status::Failed && o.code.is_some()),
            "{got:?}"
        );
    }
}
