//! Generated blocks for benchmarks and tools: the peer-to-peer transfer workload
//! (Block-STM's "p2p": System transfers between random pairs of a fixed set of accounts),
//! optionally with a [`super::WorkProgram`] instruction per transaction whose rounds follow
//! a [`CostDist`] ([`WorkSpec`]).

use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::state::Account;
use crate::tx::build::{self, InstructionSpec, MessageSpec};
use crate::tx::{MessageHeader, Version};
use crate::{Hash, Pubkey};

use super::compute_budget::DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT;
use super::work::WorkProgram;

/// How a workload's work rounds are spread over its transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "sigma")]
pub enum CostDist {
    /// Every transaction the same rounds.
    #[default]
    Const,
    /// Log-normal with this sigma and the given mean: rounds = mean × exp(σ z − σ²/2),
    /// z standard normal, rounded.
    Lognormal(f64),
}

impl std::str::FromStr for CostDist {
    type Err = String;
    /// `const` or `lognormal:SIGMA` (SIGMA finite, 0 to 4).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "const" => Ok(Self::Const),
            Some(("lognormal", v)) => match v.parse::<f64>() {
                Ok(sigma) if (0.0..=4.0).contains(&sigma) => Ok(Self::Lognormal(sigma)),
                _ => Err(format!(
                    "cost distribution {s:?}: sigma must be a number in 0..=4"
                )),
            },
            _ => Err(format!(
                "cost distribution {s:?}: expected const or lognormal:SIGMA"
            )),
        }
    }
}

impl std::fmt::Display for CostDist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Const => write!(f, "const"),
            Self::Lognormal(s) => write!(f, "lognormal:{s}"),
        }
    }
}

impl CostDist {
    /// Draws one transaction's rounds for a mean of `mean` rounds, at most `max`.
    pub fn draw(&self, rng: &mut impl Rng, mean: u32, max: u32) -> u32 {
        let rounds = match *self {
            Self::Const => f64::from(mean),
            Self::Lognormal(sigma) => {
                // Box-Muller: u1 in (0, 1], so the logarithm is finite.
                let u1: f64 = 1.0 - rng.gen::<f64>();
                let u2: f64 = rng.gen();
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                f64::from(mean) * (sigma * z - sigma * sigma / 2.0).exp()
            }
        };
        // A float-to-int cast saturates (NaN gives 0).
        (rounds.round() as u32).min(max)
    }
}

/// The work each generated transaction carries besides its transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WorkSpec {
    /// Mean [`WorkProgram`] rounds per transaction; 0: plain transfers, no work
    /// instruction.
    pub rounds: u32,
    /// How rounds spread over the transactions.
    pub dist: CostDist,
}

impl WorkSpec {
    /// The most rounds a transfer-plus-work transaction may carry: what fits its default
    /// compute-unit limit (2 × 200,000) after the transfer's 150 units.
    pub fn max_rounds() -> u32 {
        WorkProgram::max_rounds(
            2 * u64::from(DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT) - super::SystemProgram::UNITS,
        )
    }
}

/// A transfer `from -> to` of `lamports`, plus a work instruction of `rounds` rounds on
/// `from`'s target account when `rounds` is `Some`: keys `[from, to, target, System,
/// work program]`, signed by `from`.
pub fn transfer_with_work(
    from: &SigningKey,
    to: &Pubkey,
    lamports: u64,
    rounds: Option<u32>,
    blockhash: &Hash,
) -> Vec<u8> {
    let Some(rounds) = rounds else {
        return build::system_transfer(from, to, lamports, blockhash);
    };
    let payer = from.verifying_key().to_bytes();
    let spec = MessageSpec {
        version: Version::Legacy,
        header: MessageHeader {
            num_required_signatures: 1,
            num_readonly_signed_accounts: 0,
            num_readonly_unsigned_accounts: 2,
        },
        static_keys: vec![
            payer,
            *to,
            WorkProgram::target_of(&payer),
            build::SYSTEM_PROGRAM_ID,
            WorkProgram::ID,
        ],
        recent_blockhash: *blockhash,
        instructions: vec![
            InstructionSpec {
                program_id_index: 3,
                accounts: vec![0, 1],
                data: build::transfer_data(lamports),
            },
            InstructionSpec {
                program_id_index: 4,
                accounts: vec![2],
                data: WorkProgram::instruction_data(rounds),
            },
        ],
        lookups: Vec::new(),
    };
    build::sign_message(&build::encode_message(&spec), &[from])
}

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

/// A block of signed System transfers between random pairs of `accounts` keys, each
/// optionally with a work instruction on its sender's target account.
#[derive(Clone, Debug)]
pub struct P2pBlock {
    /// The accounts' public keys.
    pub pubkeys: Vec<Pubkey>,
    /// One signed wire packet per transfer.
    pub packets: Vec<Vec<u8>>,
    /// The work the transactions carry.
    pub work: WorkSpec,
    /// Each transaction's work rounds (empty without work).
    pub rounds: Vec<u32>,
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
        Self::generate_with_work(accounts, txs, seed, WorkSpec::default())
    }

    /// Like [`P2pBlock::generate`], each transfer followed by a work instruction of rounds
    /// drawn from `work` (none when `work.rounds` is 0), capped at
    /// [`WorkSpec::max_rounds`]. The transfers are those [`P2pBlock::generate`] makes for
    /// the same seed; the rounds come from a second random source.
    ///
    /// # Errors
    /// [`WorkloadError::TooFewAccounts`] when `accounts < 2`.
    pub fn generate_with_work(
        accounts: usize,
        txs: usize,
        seed: u64,
        work: WorkSpec,
    ) -> Result<Self, WorkloadError> {
        if accounts < 2 {
            return Err(WorkloadError::TooFewAccounts(accounts));
        }
        let (mut rng, signers, pubkeys, blockhash) = Self::accounts(accounts, seed);
        let rounds = Self::draw_rounds(txs, seed, work);
        let packets = (0..txs)
            .map(|i| {
                let from = rng.gen_range(0..accounts);
                let to = (from + rng.gen_range(1..accounts)) % accounts;
                let lamports = rng.gen_range(1..=1000);
                transfer_with_work(
                    &signers[from],
                    &pubkeys[to],
                    lamports,
                    rounds.get(i).copied(),
                    &blockhash,
                )
            })
            .collect();
        Ok(Self {
            pubkeys,
            packets,
            work,
            rounds,
        })
    }

    /// Each of `txs` transactions' rounds (empty when `work.rounds` is 0).
    fn draw_rounds(txs: usize, seed: u64, work: WorkSpec) -> Vec<u32> {
        if work.rounds == 0 {
            return Vec::new();
        }
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x776f_726b);
        let max = WorkSpec::max_rounds();
        (0..txs)
            .map(|_| work.dist.draw(&mut rng, work.rounds, max))
            .collect()
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
        Self::generate_within_with_work(accounts, txs, seed, group, WorkSpec::default())
    }

    /// [`P2pBlock::generate_within`] with work, as [`P2pBlock::generate_with_work`] adds it.
    ///
    /// # Errors
    /// As [`P2pBlock::generate_within`].
    pub fn generate_within_with_work(
        accounts: usize,
        txs: usize,
        seed: u64,
        group: impl Fn(&Pubkey) -> usize,
        work: WorkSpec,
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
        let rounds = Self::draw_rounds(txs, seed, work);
        let mut packets = Vec::with_capacity(txs);
        for t in 0..txs {
            let (g, i) = senders[rng.gen_range(0..senders.len())];
            let m = &groups[g];
            let j = (i + rng.gen_range(1..m.len())) % m.len();
            let lamports = rng.gen_range(1..=1000);
            packets.push(transfer_with_work(
                &signers[m[i]],
                &pubkeys[m[j]],
                lamports,
                rounds.get(t).copied(),
                &blockhash,
            ));
        }
        Ok(Self {
            pubkeys,
            packets,
            work,
            rounds,
        })
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

    /// The starting state: every account System-owned with [`P2P_FUNDING`] lamports, and
    /// with work, every account's target ([`WorkProgram::target_of`]) as
    /// [`WorkProgram::account`] with 1 lamport.
    pub fn genesis(&self) -> impl Iterator<Item = (Pubkey, Account)> + '_ {
        let funded = self.pubkeys.iter().map(|k| {
            (
                *k,
                Account::new(P2P_FUNDING, crate::tx::build::SYSTEM_PROGRAM_ID),
            )
        });
        let targets = self
            .pubkeys
            .iter()
            .filter(|_| self.work.rounds > 0)
            .map(|k| (WorkProgram::target_of(k), WorkProgram::account(1)));
        funded.chain(targets)
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
