//! Generated blocks for benchmarks and tools: the peer-to-peer transfer workload
//! (Block-STM's "p2p": System transfers between random pairs of a fixed set of accounts).

use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::state::Account;
use crate::tx::build;
use crate::{Hash, Pubkey};

/// Why a workload could not be generated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// Transfers need two distinct accounts.
    #[error("need at least 2 accounts, got {0}")]
    TooFewAccounts(usize),
    /// [`P2pBlock::generate_within`]: no group holds two accounts.
    #[error("no group holds two of the {0} accounts")]
    NoGroupOfTwo(usize),
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
        let (mut rng, signers, pubkeys, blockhash) = Self::accounts(accounts, seed);
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

    /// Like [`P2pBlock::generate`], but each transfer's recipient is drawn from its
    /// sender's group (`group(key)`), and senders from the groups of at least two
    /// accounts: with [`super::window_part`] as the group, no transfer spans two parts of
    /// the executor's split (a benchmark's way to separate the cost of moving accounts
    /// between cores). Deterministic in `seed` and `group`.
    ///
    /// # Errors
    /// [`WorkloadError::TooFewAccounts`] when `accounts < 2`;
    /// [`WorkloadError::NoGroupOfTwo`] when every group holds a single account.
    pub fn generate_within(
        accounts: usize,
        txs: usize,
        seed: u64,
        group: impl Fn(&Pubkey) -> usize,
    ) -> Result<Self, WorkloadError> {
        if accounts < 2 {
            return Err(WorkloadError::TooFewAccounts(accounts));
        }
        let (mut rng, signers, pubkeys, blockhash) = Self::accounts(accounts, seed);
        let mut members: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (i, key) in pubkeys.iter().enumerate() {
            members.entry(group(key)).or_default().push(i);
        }
        let groups: Vec<Vec<usize>> = members.into_values().filter(|m| m.len() >= 2).collect();
        let senders: Vec<(usize, usize)> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, m)| (0..m.len()).map(move |i| (g, i)))
            .collect();
        if senders.is_empty() {
            return Err(WorkloadError::NoGroupOfTwo(accounts));
        }
        let mut packets = Vec::with_capacity(txs);
        for _ in 0..txs {
            let (g, i) = senders[rng.gen_range(0..senders.len())];
            let m = &groups[g];
            let j = (i + rng.gen_range(1..m.len())) % m.len();
            let lamports = rng.gen_range(1..=1000);
            packets.push(build::system_transfer(
                &signers[m[i]],
                &pubkeys[m[j]],
                lamports,
                &blockhash,
            ));
        }
        Ok(Self { pubkeys, packets })
    }

    /// The random source after drawing `accounts` signing keys, their public keys and a
    /// blockhash from `seed`.
    fn accounts(accounts: usize, seed: u64) -> (ChaCha20Rng, Vec<SigningKey>, Vec<Pubkey>, Hash) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let signers: Vec<SigningKey> = (0..accounts)
            .map(|_| SigningKey::from_bytes(&rng.gen()))
            .collect();
        let pubkeys: Vec<Pubkey> = signers
            .iter()
            .map(|k| k.verifying_key().to_bytes())
            .collect();
        let blockhash = rng.gen();
        (rng, signers, pubkeys, blockhash)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::TransactionView;

    /// (sender, recipient) of every transfer.
    fn pairs(block: &P2pBlock) -> Vec<(Pubkey, Pubkey)> {
        block
            .packets
            .iter()
            .map(|p| {
                let view = TransactionView::parse(p).expect("generated packet parses");
                let keys = view.static_keys();
                (keys[0], keys[1])
            })
            .collect()
    }

    #[test]
    fn generate_within_keeps_every_transfer_in_its_group() {
        let group = |k: &Pubkey| usize::from(k[0] % 3);
        let block = P2pBlock::generate_within(60, 500, 7, group).expect("groups of two");
        let pairs = pairs(&block);
        assert_eq!(pairs.len(), 500);
        assert!(pairs
            .iter()
            .all(|(from, to)| from != to && group(from) == group(to)));
        // Every group is used, in both roles.
        for g in 0..3 {
            assert!(pairs.iter().any(|(from, _)| group(from) == g));
        }
        // Deterministic in the seed.
        let again = P2pBlock::generate_within(60, 500, 7, group).expect("groups of two");
        assert_eq!(block.packets, again.packets);
    }

    #[test]
    fn generate_within_skips_single_account_groups_and_rejects_all_singles() {
        // Key 0 alone in its group; the rest together.
        let block = P2pBlock::generate(10, 0, 3).expect("accounts");
        let lone = block.pubkeys[0];
        let group = |k: &Pubkey| usize::from(*k == lone);
        let within = P2pBlock::generate_within(10, 300, 3, group).expect("a group of nine");
        assert!(pairs(&within)
            .iter()
            .all(|(from, to)| *from != lone && *to != lone));
        // Every key alone in its group.
        let keys = block.pubkeys.clone();
        let alone = |k: &Pubkey| keys.iter().position(|p| p == k).unwrap_or(usize::MAX);
        assert_eq!(
            P2pBlock::generate_within(10, 1, 3, alone).err(),
            Some(WorkloadError::NoGroupOfTwo(10))
        );
        assert_eq!(
            P2pBlock::generate_within(1, 1, 3, |_| 0).err(),
            Some(WorkloadError::TooFewAccounts(1))
        );
    }
}
