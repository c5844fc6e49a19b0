//! Which members a run plans: the manifest's `accounts:` block over the
//! directory's list, then `--account` narrowing it. Every entry must name
//! a member (a typo would silently plan nothing), and the answer is sorted
//! by account id, each member once.

use std::collections::BTreeMap;

use super::Member;
use crate::manifest::accounts::{AccountRef, AccountsSpec, RefKind};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    #[error("{0} names no member of the resource directory: check it against `ListAccounts` (aliyun resourcedirectorymaster ListAccounts), or remove it")]
    NoMember(String),
    #[error("--account {0} is not among the accounts the manifest's `accounts:` selects ({1})")]
    NotSelected(String, String),
}

/// The members `spec` selects from `members`, narrowed to `only` (the
/// `--account` ids) when given.
pub fn select<'a>(
    members: &'a [Member],
    spec: &AccountsSpec,
    only: &[String],
) -> Result<Vec<&'a Member>, SelectError> {
    let mut chosen: BTreeMap<&str, &Member> = BTreeMap::new();
    if spec.all {
        chosen.extend(members.iter().map(|m| (m.account_id.as_str(), m)));
    }
    for entry in &spec.include {
        chosen.extend(
            matching(members, entry)?
                .into_iter()
                .map(|m| (m.account_id.as_str(), m)),
        );
    }
    for entry in &spec.exclude {
        for member in matching(members, entry)? {
            chosen.remove(member.account_id.as_str());
        }
    }
    if let Some(missing) = only.iter().find(|id| !chosen.contains_key(id.as_str())) {
        return Err(SelectError::NotSelected(
            missing.clone(),
            spec.location.to_string(),
        ));
    }
    Ok(chosen
        .into_values()
        .filter(|m| only.is_empty() || only.contains(&m.account_id))
        .collect())
}

/// The members one entry names; none is an error naming the entry and
/// where the manifest says it.
fn matching<'a>(members: &'a [Member], entry: &AccountRef) -> Result<Vec<&'a Member>, SelectError> {
    let named = |m: &&Member| match entry.kind {
        RefKind::Id => m.account_id == entry.text,
        RefKind::Folder => m.is_under(&entry.text),
        RefKind::Name => {
            m.display_name == entry.text || m.account_name.as_deref() == Some(&entry.text)
        }
    };
    let found: Vec<&Member> = members.iter().filter(named).collect();
    if found.is_empty() {
        return Err(SelectError::NoMember(entry.to_string()));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn member(id: &str, name: &str, path: &str) -> Member {
        let folder = path.rsplit('/').nth(1).unwrap_or_default().to_owned();
        Member {
            account_id: id.into(),
            display_name: name.into(),
            account_name: Some(format!("{name}@rd-abc.aliyunid.com")),
            folder_id: folder,
            path: path.into(),
        }
    }

    fn directory() -> Vec<Member> {
        vec![
            member("1001", "payments", "rd-abc/r-root/fd-prod/1001"),
            member("1002", "search", "rd-abc/r-root/fd-prod/fd-eu/1002"),
            member("1003", "sandbox", "rd-abc/r-root/fd-dev/1003"),
        ]
    }

    fn spec(block: &str) -> AccountsSpec {
        let text = format!("version: 1\nregions: [cn-hangzhou]\naccounts:\n{block}groups:\n  prod:\n    select: [{{tags: {{team: a}}}}]\n");
        Manifest::parse("regroup.yaml", &text)
            .expect("the test manifest parses")
            .accounts
            .expect("it has accounts")
    }

    fn ids(chosen: &[&Member]) -> Vec<String> {
        chosen.iter().map(|m| m.account_id.clone()).collect()
    }

    #[test]
    fn all_takes_every_member_but_the_excluded() {
        let members = directory();
        let chosen = select(&members, &spec("  all: true\n  exclude: [sandbox]\n"), &[]).unwrap();
        assert_eq!(ids(&chosen), ["1001", "1002"], "every member but sandbox");
    }

    #[test]
    fn a_folder_takes_its_members_at_any_depth() {
        let members = directory();
        let chosen = select(&members, &spec("  include: [fd-prod]\n"), &[]).unwrap();
        assert_eq!(ids(&chosen), ["1001", "1002"], "fd-eu is below fd-prod");
        let chosen = select(&members, &spec("  include: [fd-eu, 1003]\n"), &[]).unwrap();
        assert_eq!(ids(&chosen), ["1002", "1003"], "a folder and an id, sorted");
    }

    #[test]
    fn names_match_the_display_or_logon_name() {
        let members = directory();
        let chosen = select(
            &members,
            &spec("  [search, payments@rd-abc.aliyunid.com]\n"),
            &[],
        )
        .unwrap();
        assert_eq!(ids(&chosen), ["1001", "1002"], "both names found");
    }

    #[test]
    fn an_entry_naming_no_member_is_an_error_with_its_place() {
        let members = directory();
        let error = select(&members, &spec("  include: [1001, fd-nope]\n"), &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "folder `fd-nope` (regroup.yaml:4:19) names no member of the resource directory: check it against `ListAccounts` (aliyun resourcedirectorymaster ListAccounts), or remove it",
            "the entry and its place"
        );
        let error = select(&members, &spec("  all: true\n  exclude: [9999]\n"), &[]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("account `9999` (regroup.yaml:5:13)"),
            "an exclude that names nothing is a typo too: {error}"
        );
    }

    #[test]
    fn account_options_narrow_the_selection() {
        let members = directory();
        let all = spec("  all: true\n  exclude: [1003]\n");
        let chosen = select(&members, &all, &["1002".into()]).unwrap();
        assert_eq!(ids(&chosen), ["1002"], "only the one asked for");
        let error = select(&members, &all, &["1003".into()]).unwrap_err();
        assert_eq!(
            error,
            SelectError::NotSelected("1003".into(), "regroup.yaml:4:3".into()),
            "an excluded account cannot be asked for"
        );
    }
}
