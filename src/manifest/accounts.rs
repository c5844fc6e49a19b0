//! The manifest's top-level `accounts:` block: which member accounts of a
//! Resource Directory one run plans (every member, or a list of account
//! ids, folder ids and names), which to leave out, and the RAM role assumed
//! in each (docs/manifest.md, "Many accounts"). It is read here, value by
//! value with its position, and checked as far as the file alone allows;
//! which accounts the entries name is only known once the directory has
//! been listed (`planning::accounts`).

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use sha2::{Digest, Sha256};

use super::yaml::{Fault, Fields, Kind, Node, Position, Reader, Under, Wanted};
use super::{Location, Problem};

/// The role assumed in every member when the manifest names none: the
/// role Resource Directory creates in each member, trusting the management
/// account (docs/sources/resource-directory.md §8).
pub const DEFAULT_ROLE: &str = "ResourceDirectoryAccountAccessRole";

/// The longest role name taken: RAM role names are short (the default is
/// 34 characters); a longer value is a mistake, not a role.
const MAX_ROLE_CHARS: usize = 64;

/// The checked `accounts:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsSpec {
    /// `all: true`: every member the directory lists.
    pub all: bool,
    /// The members asked for by id, folder or name (empty with `all`).
    pub include: Vec<AccountRef>,
    /// Members left out, whatever named them.
    pub exclude: Vec<AccountRef>,
    /// The RAM role assumed in each member.
    pub role: String,
    /// Where the `accounts` key stands.
    pub location: Location,
}

/// One way of naming members, with where the manifest says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    pub kind: RefKind,
    pub text: String,
    pub location: Location,
}

/// What an entry of `include:` or `exclude:` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// An account id: all digits (like `181761095690****` in the
    /// directory's own examples, docs/sources/resource-directory.md §2.2).
    Id,
    /// A folder id (`fd-…`, or the Root's `r-…`): every member under it,
    /// at any depth.
    Folder,
    /// A member's display name or logon name.
    Name,
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            RefKind::Id => "account",
            RefKind::Folder => "folder",
            RefKind::Name => "account name",
        };
        write!(f, "{what} `{}` ({})", self.text, self.location)
    }
}

/// `accounts:` as read, each value with its position.
#[derive(Debug)]
pub struct RawAccounts {
    pub all: bool,
    pub include: Vec<(String, Position)>,
    pub exclude: Vec<(String, Position)>,
    pub role: Option<String>,
    pub at: Position,
}

const ACCOUNT: Wanted = (
    "an account id, a folder id or an account name",
    "`1234567890123456`, `fd-abc123` or `payments-prod`",
);
const ACCOUNT_LIST: Wanted = (
    "a list of account ids, folder ids or account names",
    "`[1234567890123456, fd-abc123, payments-prod]`",
);
const SHAPE: Wanted = (
    "`all: true`, an `include:` list, or a list of accounts",
    "`accounts: {all: true}` or `accounts: [1234567890123456, fd-abc123]`",
);

/// Reads the value of `accounts:`: a list of accounts, or a map of `all`,
/// `include`, `exclude` and `role`.
pub fn read(reader: &mut Reader) -> Result<RawAccounts, Fault> {
    let node = reader.node()?;
    let at = node.at();
    match node {
        Node::List(_) => {
            let include = read_list(reader, node)?;
            Ok(RawAccounts {
                all: false,
                include,
                exclude: Vec::new(),
                role: None,
                at,
            })
        }
        Node::Map(_) => read_map(reader, at),
        other => Err(other.wrong(SHAPE)),
    }
}

fn read_map(reader: &mut Reader, at: Position) -> Result<RawAccounts, Fault> {
    let mut accounts = RawAccounts {
        all: false,
        include: Vec::new(),
        exclude: Vec::new(),
        role: None,
        at,
    };
    let mut fields = Fields::new(&["all", "include", "exclude", "role"]);
    while let Some((key, key_at)) = reader.key()? {
        let name = fields.add(&key, key_at)?;
        let node = reader.node().key(&key)?;
        match name {
            "all" => accounts.all = read_all(node).key(&key)?,
            "include" => accounts.include = read_list(reader, node).key(&key)?,
            "exclude" => accounts.exclude = read_list(reader, node).key(&key)?,
            // "role", the one name left
            _ => accounts.role = Some(read_role(node).key(&key)?),
        }
    }
    match (accounts.all, fields.has("include")) {
        (true, true) => Err(invalid(
            at,
            "`all: true` and `include:` are both given",
            "keep `all: true` for every member, or `include:` for some",
        )),
        (false, false) => Err(invalid(
            at,
            "`accounts` names no account",
            "write `all: true` for every member of the directory, or `include: [...]` with account ids, folder ids or names",
        )),
        _ => Ok(accounts),
    }
}

fn read_all(node: Node) -> Result<bool, Fault> {
    match node {
        Node::Scalar(s) if s.kind == Kind::Bool && s.text.eq_ignore_ascii_case("true") => Ok(true),
        other => Err(other.wrong(("true", "`all: true`"))),
    }
}

fn read_role(node: Node) -> Result<String, Fault> {
    let role = node.text((
        "a RAM role name",
        "`role: ResourceDirectoryAccountAccessRole`",
    ))?;
    let fits = !role.text.is_empty()
        && role.text.chars().count() <= MAX_ROLE_CHARS
        && !role.text.contains([':', '/'])
        && !role.text.chars().any(char::is_whitespace);
    if fits {
        Ok(role.text)
    } else {
        Err(invalid(
            role.at,
            &format!("`{}` is not a RAM role name", role.text),
            "write the role's name alone, like `ResourceDirectoryAccountAccessRole`, not its ARN",
        ))
    }
}

/// A non-empty list of accounts, none twice.
fn read_list(reader: &mut Reader, node: Node) -> Result<Vec<(String, Position)>, Fault> {
    let Node::List(list_at) = node else {
        return Err(node.wrong(ACCOUNT_LIST));
    };
    let mut items: Vec<(String, Position)> = Vec::new();
    while let Some(item) = reader.item().index(items.len())? {
        let index = items.len();
        let (text, at) = account_text(item).index(index)?;
        if let Some((_, first)) = items.iter().find(|(seen, _)| *seen == text) {
            let detail = format!("`{text}` is listed twice (first at {first})");
            return Err(invalid(at, &detail, "remove one of the two")).index(index);
        }
        items.push((text, at));
    }
    if items.is_empty() {
        return Err(Fault::new(list_at, Problem::EmptyList));
    }
    Ok(items)
}

/// An account id may be written unquoted: YAML reads it as a number, whose
/// digits are the id.
fn account_text(node: Node) -> Result<(String, Position), Fault> {
    match node {
        Node::Scalar(s) if s.kind == Kind::Int && s.text.bytes().all(|b| b.is_ascii_digit()) => {
            Ok((s.text, s.at))
        }
        other => {
            let scalar = other.text(ACCOUNT)?;
            if scalar.text.trim().is_empty() {
                return Err(invalid(
                    scalar.at,
                    &format!("`{}` names no account", scalar.text),
                    "write an account id, a folder id (fd-…) or an account's name",
                ));
            }
            Ok((scalar.text, scalar.at))
        }
    }
}

/// What a written entry names: digits are an account id, `fd-…` and `r-…`
/// folder ids, anything else a name.
pub fn kind_of(text: &str) -> RefKind {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        RefKind::Id
    } else if text.starts_with("fd-") || text.starts_with("r-") {
        RefKind::Folder
    } else {
        RefKind::Name
    }
}

fn invalid(at: Position, detail: &str, hint: &'static str) -> Fault {
    Fault::new(
        at,
        Problem::Accounts {
            detail: detail.to_owned(),
            hint,
        },
    )
}

impl RawAccounts {
    /// The checked block, its positions made places in `file`.
    pub fn check(self, locate: impl Fn(Position) -> Location) -> AccountsSpec {
        let refs = |list: Vec<(String, Position)>| {
            list.into_iter()
                .map(|(text, at)| AccountRef {
                    kind: kind_of(&text),
                    text,
                    location: locate(at),
                })
                .collect()
        };
        AccountsSpec {
            all: self.all,
            include: refs(self.include),
            exclude: refs(self.exclude),
            role: self.role.unwrap_or_else(|| DEFAULT_ROLE.to_owned()),
            location: locate(self.at),
        }
    }
}

impl AccountsSpec {
    /// The manifest's hash with what this block means folded in, so that a
    /// saved plan made for other accounts or another role no longer matches
    /// its manifest; a manifest without `accounts:` keeps its hash.
    pub fn fold_into(&self, sha256: &str) -> String {
        let texts =
            |list: &[AccountRef]| -> Vec<String> { list.iter().map(|r| r.text.clone()).collect() };
        let meaning = serde_json::json!({
            "manifest": sha256,
            "accounts": {
                "all": self.all,
                "include": texts(&self.include),
                "exclude": texts(&self.exclude),
                "role": self.role,
            }
        });
        format!("{:x}", Sha256::digest(meaning.to_string().as_bytes()))
    }
}

impl JsonSchema for RawAccounts {
    fn schema_name() -> Cow<'static, str> {
        "Accounts".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let account = json_schema!({
            "description": "An account id (digits), a Resource Directory folder id (fd-…), or an account's name.",
            "type": ["string", "integer"]
        });
        let list =
            json_schema!({"type": "array", "items": account, "minItems": 1, "uniqueItems": true});
        json_schema!({
            "description": "The member accounts of a Resource Directory to plan, each through a RAM role assumed in it.",
            "oneOf": [
                list,
                {
                    "type": "object",
                    "properties": {
                        "all": {"const": true, "description": "Every member the directory lists."},
                        "include": list,
                        "exclude": list,
                        "role": {"type": "string", "minLength": 1, "maxLength": MAX_ROLE_CHARS, "pattern": "^[^:/\\s]+$", "default": DEFAULT_ROLE}
                    },
                    "additionalProperties": false,
                    "oneOf": [{"required": ["all"]}, {"required": ["include"]}]
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest::Manifest;

    use super::*;

    const GROUPS: &str = "groups:\n  prod:\n    select: [{tags: {team: a}}]\n";

    fn parse(block: &str) -> Result<Manifest, String> {
        let text = format!("version: 1\nregions: [cn-hangzhou]\naccounts:{block}{GROUPS}");
        Manifest::parse("regroup.yaml", &text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_every_form() {
        let all = parse("\n  all: true\n  exclude: [1234567890123456]\n  role: regroup\n").unwrap();
        let spec = all.accounts.expect("accounts read");
        assert!(spec.all, "all: true");
        assert_eq!(spec.role, "regroup", "the role given");
        assert_eq!(
            spec.exclude[0].kind,
            RefKind::Id,
            "unquoted digits are an id"
        );
        let listed = parse(" [1234567890123456, fd-abc123, \"payments prod\"]\n").unwrap();
        let spec = listed.accounts.expect("accounts read");
        let kinds: Vec<RefKind> = spec.include.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [RefKind::Id, RefKind::Folder, RefKind::Name],
            "each entry's kind"
        );
        assert_eq!(spec.role, DEFAULT_ROLE, "the default role");
        assert_eq!(
            spec.include[1].location.to_string(),
            "regroup.yaml:3:30",
            "where it stands"
        );
    }

    #[test]
    fn a_manifest_without_accounts_keeps_its_hash_and_accounts_change_it() {
        let plain = Manifest::parse(
            "regroup.yaml",
            &format!("version: 1\nregions: [cn-hangzhou]\n{GROUPS}"),
        )
        .unwrap();
        assert!(plain.accounts.is_none(), "no accounts block");
        let all = parse("\n  all: true\n").unwrap();
        let other_role = parse("\n  all: true\n  role: regroup\n").unwrap();
        assert_ne!(plain.sha256, all.sha256, "accounts are part of the meaning");
        assert_ne!(all.sha256, other_role.sha256, "so is the role");
        assert_eq!(
            all.sha256,
            parse(" {all: true}\n").unwrap().sha256,
            "the layout is not"
        );
    }

    #[test]
    fn refuses_with_file_and_line() {
        for (block, expected) in [
            ("\n  role: x\n", "regroup.yaml:4:3: accounts: `accounts` names no account"),
            ("\n  all: true\n  include: [1]\n", "regroup.yaml:4:3: accounts: `all: true` and `include:` are both given"),
            ("\n  all: false\n", "regroup.yaml:4:8: accounts.all: expected true, found `false`"),
            (" [1, 1]\n", "regroup.yaml:3:15: accounts[1]: `1` is listed twice (first at 3:12)"),
            (" []\n", "regroup.yaml:3:11: accounts: an empty list matches nothing"),
            ("\n  all: true\n  role: acs:ram::1:role/x\n", "regroup.yaml:5:9: accounts.role: `acs:ram::1:role/x` is not a RAM role name"),
            ("\n  all: true\n  roles: x\n", "regroup.yaml:5:3: accounts: unknown key `roles`"),
            (" yes\n", "regroup.yaml:3:11: accounts: expected `all: true`, an `include:` list, or a list of accounts"),
        ] {
            let error = parse(block).expect_err(block);
            assert!(error.starts_with(expected), "{block:?}: {error}");
        }
    }
}
