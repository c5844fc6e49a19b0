//! `--shard I/N`: which accounts of a run shard `I` of `N` plans, so that a
//! CI matrix (GitHub Actions, GitLab `parallel:matrix`, Argo `withParam`)
//! can fan one manifest out over `N` jobs. An account's shard depends on
//! its id and `N` only, never on where it stands in the directory's list:
//! adding or removing a member moves no other member between shards, and
//! going from `N` to `N + 1` shards moves only about `1/(N + 1)` of them
//! (rendezvous hashing: each account goes to the shard whose hash with it
//! is highest). The hash is SHA-256, the same on every platform and
//! version, so every job of a matrix agrees on the split.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// The most shards: a GitHub Actions matrix runs at most 256 jobs.
pub const MAX_SHARDS: u32 = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("`{0}` is not I/N, like 1/3")]
    Shape(String),
    #[error("`{0}`: I must be from 1 to N, and N from 1 to {MAX_SHARDS}")]
    Range(String),
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if (1..=MAX_SHARDS).contains(&count) && (1..=count).contains(&index) {
            Ok(Shard { index, count })
        } else {
            Err(ShardError::Range(format!("{index}/{count}")))
        }
    }

    /// The shard (1-based) of `count` that `account_id` belongs to.
    pub fn of(account_id: &str, count: u32) -> u32 {
        (1..=count)
            .max_by_key(|shard| (weight(account_id, *shard), std::cmp::Reverse(*shard)))
            .unwrap_or(1)
    }

    /// Whether this shard plans `account_id`.
    pub fn holds(&self, account_id: &str) -> bool {
        Shard::of(account_id, self.count) == self.index
    }
}

/// The rendezvous weight of an account for one shard: the first eight
/// bytes of SHA-256 over the id and the shard's number.
fn weight(account_id: &str, shard: u32) -> u64 {
    let digest = Sha256::new()
        .chain_update(account_id.as_bytes())
        .chain_update([0])
        .chain_update(shard.to_be_bytes())
        .finalize();
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(head)
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let shape = || ShardError::Shape(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(shape)?;
        let number = |part: &str| part.trim().parse::<u32>().map_err(|_| shape());
        Shard::new(number(index)?, number(count)?).map_err(|_| ShardError::Range(text.to_owned()))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(count: usize) -> Vec<String> {
        (0..count)
            .map(|n| format!("{}", 1_000_000_000_000_000u64 + n as u64 * 7919))
            .collect()
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse(), Shard::new(2, 3), "I/N");
        assert_eq!(
            "2/3".parse::<Shard>().unwrap().to_string(),
            "2/3",
            "shown as given"
        );
        for bad in ["3", "a/3", "1/", "1/3/4"] {
            assert_eq!(
                bad.parse::<Shard>(),
                Err(ShardError::Shape(bad.into())),
                "{bad}"
            );
        }
        for bad in ["0/3", "4/3", "1/0", "1/257"] {
            assert_eq!(
                bad.parse::<Shard>(),
                Err(ShardError::Range(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_account_is_in_exactly_one_shard() {
        for count in [1, 2, 3, 7, 16] {
            for id in ids(100) {
                let holders = (1..=count)
                    .filter(|i| Shard::new(*i, count).unwrap().holds(&id))
                    .count();
                assert_eq!(holders, 1, "{id} in one of {count} shards");
            }
        }
    }

    #[test]
    fn the_split_does_not_depend_on_the_other_accounts() {
        let before: Vec<u32> = ids(500).iter().map(|id| Shard::of(id, 5)).collect();
        let mut grown = ids(1000);
        grown.reverse();
        for (id, shard) in ids(500).iter().zip(&before) {
            assert!(grown.contains(id), "the grown list holds {id}");
            assert_eq!(
                Shard::of(id, 5),
                *shard,
                "{id} stays in its shard as accounts are added"
            );
        }
    }

    #[test]
    fn shards_are_even_and_one_more_shard_moves_few() {
        let accounts = ids(10_000);
        let mut sizes = [0usize; 8];
        for id in &accounts {
            sizes[Shard::of(id, 8) as usize - 1] += 1;
        }
        for size in sizes {
            assert!(
                (1_100..=1_400).contains(&size),
                "about 1,250 of 10,000 in each of 8 shards: {sizes:?}"
            );
        }
        let moved = accounts
            .iter()
            .filter(|id| Shard::of(id, 8) != Shard::of(id, 9))
            .count();
        // Rendezvous hashing moves only the accounts the new shard wins:
        // about 1/9 of them (1,111); a split by position or modulo moves
        // most.
        assert!(
            (900..=1_350).contains(&moved),
            "going to 9 shards moves about 1,111: {moved}"
        );
    }
}
