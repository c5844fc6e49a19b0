//! Which requests the emulator fails (`--fault-rate`) or acknowledges
//! without acting on (`--phantom-rate`): a function of the seed and of the
//! request, never of the order in which concurrent requests arrive, so that
//! two runs with the same `--seed` and the same requests see the same faults.
//!
//! A request is known by its action and its parameters without the ones
//! that differ on every call (signature, nonce, timestamp) or between runs
//! (the access key and token, which STS hands out anew). The n-th arrival of
//! the same request rolls afresh, so a retry can succeed where the first
//! try failed, and a run repeats exactly as long as it sends the same
//! requests the same number of times.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::gateway::Params;

/// Parameters left out of a request's identity.
const VOLATILE: [&str; 5] = [
    "Signature",
    "SignatureNonce",
    "Timestamp",
    "AccessKeyId",
    "SecurityToken",
];

/// Rolls for faults, kept per request identity.
pub struct Dice {
    seed: u64,
    /// Arrivals so far per request identity.
    arrivals: Mutex<HashMap<[u8; 32], u32>>,
}

/// One arrival of one request, which the rolls are made for.
pub struct Arrival {
    identity: [u8; 32],
    attempt: u32,
    seed: u64,
}

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice {
            seed,
            arrivals: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an arrival of the request `action` with `params`.
    pub fn arrive(&self, action: &str, params: &Params) -> Arrival {
        let mut hash = Sha256::new();
        hash.update(action.as_bytes());
        // Params is sorted by name, so the identity does not depend on the
        // order the client wrote them in.
        for (name, value) in params {
            if VOLATILE.contains(&name.as_str()) {
                continue;
            }
            for part in [name, value] {
                hash.update((part.len() as u64).to_le_bytes());
                hash.update(part.as_bytes());
            }
        }
        let identity: [u8; 32] = hash.finalize().into();
        let attempt = match self.arrivals.lock() {
            Ok(mut arrivals) => {
                let count = arrivals.entry(identity).or_default();
                *count += 1;
                *count
            }
            Err(_) => 0,
        };
        Arrival {
            identity,
            attempt,
            seed: self.seed,
        }
    }
}

impl Arrival {
    /// A number in [0, 1) for `purpose`, the same for the same seed,
    /// request and attempt.
    pub fn roll(&self, purpose: &str) -> f64 {
        let mut hash = Sha256::new();
        hash.update(self.seed.to_le_bytes());
        hash.update(self.identity);
        hash.update(self.attempt.to_le_bytes());
        hash.update(purpose.as_bytes());
        let digest = hash.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // The top 53 bits, as f64 holds them exactly.
        (u64::from_le_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::emulator::gateway::params_of as params;

    #[test]
    fn rolls_depend_on_the_request_and_its_attempt_not_on_arrival_order() {
        let join = |id: &str, nonce: &str| {
            params(&[
                ("ResourceId", id),
                ("SignatureNonce", nonce),
                ("Timestamp", nonce),
            ])
        };
        let first = Dice::new(4);
        let a1 = first
            .arrive("JoinResourceGroup", &join("i-a", "1"))
            .roll("fault");
        let b1 = first
            .arrive("JoinResourceGroup", &join("i-b", "2"))
            .roll("fault");
        let a2 = first
            .arrive("JoinResourceGroup", &join("i-a", "3"))
            .roll("fault");
        // Another run, with b first and other nonces.
        let second = Dice::new(4);
        assert_eq!(
            second
                .arrive("JoinResourceGroup", &join("i-b", "x"))
                .roll("fault"),
            b1
        );
        assert_eq!(
            second
                .arrive("JoinResourceGroup", &join("i-a", "y"))
                .roll("fault"),
            a1
        );
        assert_eq!(
            second
                .arrive("JoinResourceGroup", &join("i-a", "z"))
                .roll("fault"),
            a2
        );
        assert_ne!(a1, a2, "a retry rolls afresh");
        let other_seed = Dice::new(5);
        assert_ne!(
            other_seed
                .arrive("JoinResourceGroup", &join("i-a", "1"))
                .roll("fault"),
            a1
        );
    }

    #[test]
    fn rolls_spread_over_zero_to_one() {
        let dice = Dice::new(1);
        let rolls: Vec<f64> = (0..2_000)
            .map(|n| {
                dice.arrive("DescribeDisks", &params(&[("PageNumber", &n.to_string())]))
                    .roll("fault")
            })
            .collect();
        assert!(rolls.iter().all(|r| (0.0..1.0).contains(r)));
        let below = rolls.iter().filter(|r| **r < 0.3).count();
        assert!((500..700).contains(&below), "{below} of 2000 below 0.3");
    }
}
