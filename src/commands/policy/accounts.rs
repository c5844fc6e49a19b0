//! `regroup policy` for a manifest with `accounts:`: two documents, as
//! the run needs two identities. One for the RAM user or role regroup runs
//! as in the management account (it lists the members and assumes the
//! role in each); one for that role in every member (what a run in one
//! account needs, [`super::policy`]).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::api::ram::action_name;
use crate::api::Service;
use crate::manifest::accounts::{AccountsSpec, RefKind};

/// The two documents, each labelled with where it is attached.
pub fn across_accounts(spec: &AccountsSpec, member_policy: Value) -> Value {
    json!({
        "management_account": {
            "attach_to": "the RAM user or role regroup runs as, in the Resource Directory's management account",
            "policy": management_policy(spec),
        },
        "member_accounts": {
            "attach_to": format!("the RAM role {} in each member account (accounts.role)", spec.role),
            "policy": member_policy,
        },
    })
}

/// What the management account's identity needs:
///
/// - `resourcemanager:ListAccounts`, the one directory call regroup makes
///   (`src/cloud/directory.rs`), on `acs:resourcemanager::{#accountId}:account/*`,
///   the resource of its page's RAM table; the account is `*` since the
///   manifest does not name the management account
///   (docs/sources/resource-directory.md §4).
/// - `sts:AssumeRole` on the manifest's role only, in the ARN form
///   AssumeRole takes (`acs:ram::$accountID:role/$roleName`,
///   <https://www.alibabacloud.com/help/doc-detail/28763.htm>): in the
///   members the manifest names by id when it names them all by id, else
///   in every account (folders, names and `all: true` are only resolved
///   by listing the directory; §7, §8.1).
pub fn management_policy(spec: &AccountsSpec) -> Value {
    json!({
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [action_name(Service::ResourceDirectory, "ListAccounts")],
                "Resource": ["acs:resourcemanager::*:account/*"],
            },
            {
                "Effect": "Allow",
                "Action": [action_name(Service::Sts, "AssumeRole")],
                "Resource": role_arns(spec),
            },
        ],
    })
}

/// The ARNs of the role in the accounts it may be assumed in.
fn role_arns(spec: &AccountsSpec) -> Vec<String> {
    let by_id = !spec.all && spec.include.iter().all(|r| r.kind == RefKind::Id);
    let accounts: BTreeSet<&str> = if by_id {
        let excluded: BTreeSet<&str> = spec.exclude.iter().map(|r| r.text.as_str()).collect();
        spec.include
            .iter()
            .map(|r| r.text.as_str())
            .filter(|id| !excluded.contains(id))
            .collect()
    } else {
        BTreeSet::from(["*"])
    };
    accounts
        .into_iter()
        .map(|account| format!("acs:ram::{account}:role/{}", spec.role))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::accounts::AccountRef;
    use crate::manifest::Location;

    fn here() -> Location {
        Location {
            file: "regroup.yaml".into(),
            line: 1,
            column: 1,
        }
    }

    fn named(kind: RefKind, text: &str) -> AccountRef {
        AccountRef {
            kind,
            text: text.to_owned(),
            location: here(),
        }
    }

    fn spec(all: bool, include: Vec<AccountRef>, exclude: Vec<AccountRef>) -> AccountsSpec {
        AccountsSpec {
            all,
            include,
            exclude,
            role: "regroup-mover".to_owned(),
            location: here(),
        }
    }

    #[test]
    fn members_named_by_id_narrow_assume_role_to_them() {
        let ids = spec(
            false,
            vec![
                named(RefKind::Id, "1002"),
                named(RefKind::Id, "1001"),
                named(RefKind::Id, "1003"),
            ],
            vec![named(RefKind::Id, "1003")],
        );
        assert_eq!(
            management_policy(&ids)["Statement"],
            json!([
                {
                    "Effect": "Allow",
                    "Action": ["resourcemanager:ListAccounts"],
                    "Resource": ["acs:resourcemanager::*:account/*"]
                },
                {
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole"],
                    "Resource": ["acs:ram::1001:role/regroup-mover", "acs:ram::1002:role/regroup-mover"]
                }
            ]),
            "the listed members but the excluded one, in order"
        );
    }

    #[test]
    fn all_members_a_folder_or_a_name_assume_the_role_in_any_account() {
        for accounts in [
            spec(true, vec![], vec![named(RefKind::Id, "1003")]),
            spec(
                false,
                vec![named(RefKind::Id, "1001"), named(RefKind::Folder, "fd-abc")],
                vec![],
            ),
            spec(false, vec![named(RefKind::Name, "payments-prod")], vec![]),
        ] {
            assert_eq!(
                role_arns(&accounts),
                ["acs:ram::*:role/regroup-mover"],
                "{accounts:?}"
            );
        }
    }

    #[test]
    fn both_documents_are_labelled_with_the_role() {
        let member = json!({"Version": "1", "Statement": []});
        let both = across_accounts(&spec(true, vec![], vec![]), member.clone());
        assert_eq!(both["member_accounts"]["policy"], member, "{both}");
        assert_eq!(
            both["member_accounts"]["attach_to"],
            "the RAM role regroup-mover in each member account (accounts.role)"
        );
        assert_eq!(
            both["management_account"]["policy"]["Version"], "1",
            "{both}"
        );
    }
}
