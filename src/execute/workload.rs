//! Generated blocks for benchmarks and tools: the peer-to-peer transfer workload
//! (Block-STM's "p2p": System transfers between random pairs of a fixed set of accounts).

use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::state::Account;
use crate::tx::build;
use crate::Pubkey;

/// Why a workload could not be generated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// Transfers need two distinct accounts.
    #[error("need at least 2 accounts, got {0}")]
    TooFewAccounts(usize),
}

/// A block of signed System transfers between random pairs of `accounts` keys.
#[derive(Clone, Debug)]
pub struct P2pBlock {
    /// The accounts' public keys.
    pub pubkeys: Vec<Pubkey>,
    /// One signed wire packet per transfer.
    pub packets: Vec<Vec<u8>>,
}

/// Lamports each account holds in [`P2pBlock::genesis`]: enough for every transfer of any
/// generated block to succeed.
pub const P2P_FUNDING: u64 = 1_000_000_000_000_000;

impl P2pBlock {
    /// Generates `txs` transfers of 1 to 1000 lamports, each from a random account to
    /// another random account, signed by the sender; deterministic in `seed`. With
    /// `accounts == 2` every transfer touches both accounts (full contention).
    ///
    /// # Errors
    /// [`WorkloadError::TooFewAccounts`] when `accounts < 2`.
    pub fn generate(accounts: usize, txs: usize, seed: u64) -> Result<Self, WorkloadError> {
        if accounts < 2 {
            return Err(WorkloadError::TooFewAccounts(accounts));
        }
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let signers: Vec<SigningKey> = (0..accounts)
            .map(|_| SigningKey::from_bytes(&rng.gen()))
            .collect();
        let pubkeys: Vec<Pubkey> = signers
            .iter()
            .map(|k| k.verifying_key().to_bytes())
            .collect();
        let blockhash = rng.gen();
        let packets = (0..txs)
            .map(|_| {
                let from = rng.gen_range(0..accounts);
                let to = (from + rng.gen_range(1..accounts)) % accounts;
                let lamports = rng.gen_range(1..=1000);
                build::system_transfer(&signers[from], &pubkeys[to], lamports, &blockhash)
            })
            .collect();
        Ok(Self { pubkeys, packets })
    }

    /// The starting state: every account System-owned with [`P2P_FUNDING`] lamports.
    pub fn genesis(&self) -> impl Iterator<Item = (Pubkey, Account)> + '_ {
        self.pubkeys.iter().map(|k| {
            (
                *k,
                Account::new(P2P_FUNDING, crate::tx::build::SYSTEM_PROGRAM_ID),
            )
        })
    }
}
