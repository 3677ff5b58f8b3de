//! Synthetic workloads for `txpipe bench`: funded accounts and signed System transfers with
//! a chosen contention pattern, signatures per transaction, and shares of invalid
//! signatures, duplicates and v0 messages, optionally each with a
//! [`crate::execute::WorkProgram`] instruction (`work_rounds`, `cost_dist`).
//! Deterministic from the seed; serialisable so a signed workload can be cached on disk.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::mix::{self, Mix, Planner, Zipf};
use crate::execute::workload::{CostDist, WorkSpec};
use crate::execute::{ProgramRegistry, WorkProgram};
use crate::state::Account;
use crate::tx::build::{self, InstructionSpec, MessageSpec};
use crate::tx::{MessageHeader, Version};
use crate::Pubkey;

/// How transfer endpoints are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Contention {
    /// Uniformly among all accounts.
    Uniform,
    /// Zipf with exponent s: account i drawn with weight 1/(i+1)^s.
    Zipf(f64),
    /// This share of transfers goes to account 0 (the hot account); the rest uniform.
    Hot(f64),
}

impl std::str::FromStr for Contention {
    type Err = String;
    /// `uniform`, `zipf:S` (e.g. `zipf:1.1`), or `hot:SHARE` (e.g. `hot:0.3`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let num = |v: &str| -> Result<f64, String> {
            v.parse::<f64>()
                .map_err(|e| format!("bad number {v:?} in contention {s:?}: {e}"))
        };
        match s.split_once(':') {
            None if s == "uniform" => Ok(Self::Uniform),
            Some(("zipf", v)) if num(v)? > 0.0 => Ok(Self::Zipf(num(v)?)),
            Some(("hot", v)) if (0.0..=1.0).contains(&num(v)?) => Ok(Self::Hot(num(v)?)),
            _ => Err(format!(
                "contention {s:?}: expected uniform, zipf:S (S > 0) or hot:SHARE (0..=1)"
            )),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    /// Funded accounts (at least 2).
    pub accounts: usize,
    /// Transactions.
    pub transactions: usize,
    /// Signatures per transaction (1 to 8): the payer plus read-only co-signers.
    pub signatures_per_tx: usize,
    /// How endpoints are drawn.
    pub contention: Contention,
    /// Share of transactions with a corrupted signature (0 to 1).
    pub invalid_share: f64,
    /// Share of transactions that replay an earlier packet (0 to 1).
    pub duplicate_share: f64,
    /// Share of transactions encoded as v0 messages (0 to 1).
    pub v0_share: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Mean work-program rounds per transaction (0, the default: plain transfers). With
    /// work, each transaction also runs a work instruction on its sender's target account
    /// ([`WorkProgram::target_of`], in the genesis), capped at [`WorkSpec::max_rounds`].
    /// Absent from caches written before it existed (read as 0); a spec with work
    /// serialises differently, so it never finds a cache of another spec.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub work_rounds: u32,
    /// How work rounds spread over the transactions (default `const`).
    #[serde(default, skip_serializing_if = "is_const")]
    pub cost_dist: CostDist,
    /// Which transactions ([`Mix`], default System transfers). The token mixes take one
    /// signature per transaction and no work rounds; their holders are drawn Zipf with
    /// the exponent of a `zipf:S` contention, else 1. Absent from caches of transfer
    /// workloads, which serialise as before it existed.
    #[serde(default, skip_serializing_if = "is_transfer")]
    pub mix: Mix,
}

fn is_transfer(m: &Mix) -> bool {
    *m == Mix::Transfer
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

fn is_const(d: &CostDist) -> bool {
    *d == CostDist::Const
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        Self {
            accounts: 10_000,
            transactions: 100_000,
            signatures_per_tx: 1,
            contention: Contention::Uniform,
            invalid_share: 0.01,
            duplicate_share: 0.01,
            v0_share: 0.2,
            seed: 1,
            work_rounds: 0,
            cost_dist: CostDist::Const,
            mix: Mix::Transfer,
        }
    }
}

/// Why a workload could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The spec is out of range.
    #[error("invalid workload: {0}")]
    Invalid(String),
    /// Reading or writing a cached workload failed.
    #[error("workload cache I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A cached workload is corrupt or from another format version.
    #[error("workload cache is corrupt: {0}")]
    Corrupt(String),
    /// A cached workload's spec could not be written or read as JSON.
    #[error("workload cache spec")]
    Spec(#[from] serde_json::Error),
}

/// A generated workload: the accounts to load and the signed packets, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// What was generated.
    pub spec: WorkloadSpec,
    /// Funded accounts, then (with work) their work targets.
    pub genesis: Vec<(Pubkey, Account)>,
    /// Signed packets.
    pub packets: Vec<Vec<u8>>,
}

/// Lamports each generated account starts with.
pub const FUNDING: u64 = 1_000_000_000_000;

const MAGIC: &[u8; 8] = b"TXPWL001";

fn key_of(seed: u64, i: usize) -> SigningKey {
    let h = crate::hash::sha256v(&[
        b"txpipe-workload",
        &seed.to_le_bytes(),
        &(i as u64).to_le_bytes(),
    ]);
    SigningKey::from_bytes(&h)
}

struct Sampler {
    cumulative: Vec<f64>,
    contention: Contention,
    n: usize,
}

impl Sampler {
    fn new(n: usize, contention: Contention) -> Self {
        let cumulative = match contention {
            Contention::Zipf(s) => {
                let mut acc = 0.0;
                (0..n)
                    .map(|i| {
                        acc += 1.0 / ((i + 1) as f64).powf(s);
                        acc
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        Self {
            cumulative,
            contention,
            n,
        }
    }

    fn draw(&self, rng: &mut impl Rng, hot_allowed: bool) -> usize {
        match self.contention {
            Contention::Uniform => rng.gen_range(0..self.n),
            Contention::Hot(share) => {
                if hot_allowed && rng.gen_bool(share) {
                    0
                } else {
                    rng.gen_range(0..self.n)
                }
            }
            Contention::Zipf(_) => {
                let total = self.cumulative.last().copied().unwrap_or(1.0);
                let x = rng.gen::<f64>() * total;
                self.cumulative.partition_point(|&c| c < x).min(self.n - 1)
            }
        }
    }
}

/// One planned transaction, before signing.
struct Plan {
    from: usize,
    to: usize,
    cosigners: Vec<usize>,
    lamports: u64,
    v0: bool,
    corrupt: Option<(usize, u8)>,
    duplicate_of: Option<usize>,
    /// Work rounds, when the workload has work.
    rounds: Option<u32>,
}

/// With work, appends every funded account's work target to `genesis`.
fn add_work_targets(genesis: &mut Vec<(Pubkey, Account)>, spec: &WorkloadSpec) {
    if spec.work_rounds == 0 {
        return;
    }
    let targets: Vec<(Pubkey, Account)> = genesis
        .iter()
        .map(|(k, _)| (WorkProgram::target_of(k), WorkProgram::account(1)))
        .collect();
    genesis.extend(targets);
}

impl Workload {
    /// Generates and signs a workload, reporting progress as (signed, total).
    ///
    /// # Errors
    /// [`WorkloadError::Invalid`] for an out-of-range spec.
    pub fn generate(
        spec: &WorkloadSpec,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Self, WorkloadError> {
        let share_ok = |x: f64| (0.0..=1.0).contains(&x);
        if spec.accounts < 2
            || !(1..=8).contains(&spec.signatures_per_tx)
            || spec.signatures_per_tx > spec.accounts
            || !share_ok(spec.invalid_share)
            || !share_ok(spec.duplicate_share)
            || !share_ok(spec.v0_share)
        {
            return Err(WorkloadError::Invalid(format!(
                "need accounts >= 2, 1 <= signatures_per_tx <= min(8, accounts), shares in 0..=1: {spec:?}"
            )));
        }
        if spec.mix != Mix::Transfer && (spec.signatures_per_tx != 1 || spec.work_rounds != 0) {
            return Err(WorkloadError::Invalid(format!(
                "the {} mix takes one signature per transaction and no work rounds",
                spec.mix
            )));
        }
        let keys: Vec<SigningKey> = (0..spec.accounts)
            .into_par_iter()
            .map(|i| key_of(spec.seed, i))
            .collect();
        let pubkeys: Vec<Pubkey> = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
        let mut genesis = pubkeys
            .iter()
            .map(|k| (*k, Account::new(FUNDING, build::SYSTEM_PROGRAM_ID)))
            .collect();
        add_work_targets(&mut genesis, spec);
        mix::add_token_state(&mut genesis, spec.accounts, spec.mix, spec.seed);
        if spec.mix != Mix::Transfer {
            let packets = generate_mix(spec, &keys, &pubkeys, progress);
            return Ok(Self {
                spec: spec.clone(),
                genesis,
                packets,
            });
        }
        // The rounds from a random source of their own, so that the transfers are those
        // of the same spec without work.
        let mut work_rng = ChaCha20Rng::seed_from_u64(spec.seed ^ 0x776f_726b);
        let (max_rounds, work) = (
            WorkSpec::max_rounds(),
            WorkSpec {
                rounds: spec.work_rounds,
                dist: spec.cost_dist,
            },
        );

        let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
        let sampler = Sampler::new(spec.accounts, spec.contention);
        let plans: Vec<Plan> = (0..spec.transactions)
            .map(|i| {
                if i > 0 && rng.gen_bool(spec.duplicate_share) {
                    let of = rng.gen_range(0..i);
                    return Plan {
                        from: 0,
                        to: 0,
                        cosigners: Vec::new(),
                        lamports: 0,
                        v0: false,
                        corrupt: None,
                        duplicate_of: Some(of),
                        rounds: None,
                    };
                }
                let from = sampler.draw(&mut rng, false);
                let mut to = sampler.draw(&mut rng, true);
                if to == from {
                    to = (from + 1) % spec.accounts;
                }
                let mut cosigners = Vec::with_capacity(spec.signatures_per_tx - 1);
                while cosigners.len() + 1 < spec.signatures_per_tx {
                    let c = rng.gen_range(0..spec.accounts);
                    if c != from && c != to && !cosigners.contains(&c) {
                        cosigners.push(c);
                    } else if spec.accounts <= spec.signatures_per_tx + 1 {
                        // too few accounts to avoid `to`: allow it as a co-signer
                        if c != from && !cosigners.contains(&c) {
                            cosigners.push(c);
                        }
                    }
                }
                Plan {
                    from,
                    to,
                    cosigners,
                    lamports: rng.gen_range(1..1_000_000),
                    v0: rng.gen_bool(spec.v0_share),
                    corrupt: rng
                        .gen_bool(spec.invalid_share)
                        .then(|| (rng.gen_range(0..64), 1u8 << rng.gen_range(0..8))),
                    duplicate_of: None,
                    rounds: (work.rounds > 0)
                        .then(|| work.dist.draw(&mut work_rng, work.rounds, max_rounds)),
                }
            })
            .collect();

        let done = AtomicUsize::new(0);
        let total = plans.len();
        let step = (total / 100).max(1);
        let mut packets: Vec<Vec<u8>> = plans
            .par_iter()
            .map(|p| {
                let packet = if p.duplicate_of.is_some() {
                    Vec::new()
                } else {
                    sign_plan(p, &keys, &pubkeys)
                };
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(step) || n == total {
                    progress(n, total);
                }
                packet
            })
            .collect();
        for (i, p) in plans.iter().enumerate() {
            if let Some(of) = p.duplicate_of {
                packets[i] = packets[of].clone();
            }
        }
        Ok(Self {
            spec: spec.clone(),
            genesis,
            packets,
        })
    }

    /// The packets cut into blocks of `block_size` (cloned).
    pub fn blocks(&self, block_size: usize) -> Vec<Vec<Vec<u8>>> {
        self.packets
            .chunks(block_size.max(1))
            .map(|c| c.to_vec())
            .collect()
    }

    /// The programs the workload's transactions call: the default registry, plus the
    /// work program.
    pub fn registry(&self) -> ProgramRegistry {
        WorkProgram::registry()
    }

    /// Writes the workload in txpipe's cache format (the funded accounts only: work
    /// targets and token state are derived again when read).
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_to(&self, w: &mut impl Write) -> Result<(), WorkloadError> {
        let spec = serde_json::to_vec(&self.spec)?;
        w.write_all(MAGIC)?;
        w.write_all(&(spec.len() as u64).to_le_bytes())?;
        w.write_all(&spec)?;
        let funded = &self.genesis[..self.genesis.len().min(self.spec.accounts)];
        w.write_all(&(funded.len() as u64).to_le_bytes())?;
        for (k, a) in funded {
            w.write_all(k)?;
            w.write_all(&a.lamports.to_le_bytes())?;
        }
        w.write_all(&(self.packets.len() as u64).to_le_bytes())?;
        for p in &self.packets {
            w.write_all(&(p.len() as u16).to_le_bytes())?;
            w.write_all(p)?;
        }
        Ok(())
    }

    /// Reads a workload written by [`Workload::write_to`].
    ///
    /// # Errors
    /// I/O errors, or [`WorkloadError::Corrupt`] for a file in another format.
    pub fn read_from(r: &mut impl Read) -> Result<Self, WorkloadError> {
        let corrupt = |m: &str| WorkloadError::Corrupt(m.to_string());
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(corrupt("bad magic"));
        }
        let mut u64_buf = [0u8; 8];
        let mut read_u64 = |r: &mut dyn Read| -> Result<u64, WorkloadError> {
            r.read_exact(&mut u64_buf)?;
            Ok(u64::from_le_bytes(u64_buf))
        };
        let spec_len = read_u64(r)?;
        if spec_len > 1 << 16 {
            return Err(corrupt("spec too long"));
        }
        let mut spec = vec![0u8; spec_len as usize];
        r.read_exact(&mut spec)?;
        let spec: WorkloadSpec = serde_json::from_slice(&spec)?;
        let n = read_u64(r)?;
        if n != spec.accounts as u64 {
            return Err(corrupt("account count differs from spec"));
        }
        let mut genesis = Vec::with_capacity(spec.accounts);
        for _ in 0..n {
            let mut k = [0u8; 32];
            r.read_exact(&mut k)?;
            let lamports = read_u64(r)?;
            genesis.push((k, Account::new(lamports, build::SYSTEM_PROGRAM_ID)));
        }
        add_work_targets(&mut genesis, &spec);
        mix::add_token_state(&mut genesis, spec.accounts, spec.mix, spec.seed);
        let n = read_u64(r)?;
        if n != spec.transactions as u64 {
            return Err(corrupt("transaction count differs from spec"));
        }
        let mut packets = Vec::with_capacity(spec.transactions);
        for _ in 0..n {
            let mut len = [0u8; 2];
            r.read_exact(&mut len)?;
            let len = u16::from_le_bytes(len) as usize;
            if len > crate::tx::PACKET_DATA_SIZE {
                return Err(corrupt("packet too long"));
            }
            let mut p = vec![0u8; len];
            r.read_exact(&mut p)?;
            packets.push(p);
        }
        Ok(Self {
            spec,
            genesis,
            packets,
        })
    }
}

/// The signed packets of a token mix (same shares of replays, invalid signatures and
/// v0 messages as the transfer mix).
fn generate_mix(
    spec: &WorkloadSpec,
    keys: &[SigningKey],
    pubkeys: &[Pubkey],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Vec<u8>> {
    let s = match spec.contention {
        Contention::Zipf(s) => s,
        _ => 1.0,
    };
    let planner = Planner {
        mix: spec.mix,
        seed: spec.seed,
        pubkeys,
        holders: Zipf::new(pubkeys.len(), s),
        mints: Zipf::new(mix::HELD_MINTS, 1.0),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
    type Planned = (Option<mix::MixPlan>, Option<(usize, u8)>, Option<usize>);
    let plans: Vec<Planned> = (0..spec.transactions)
        .map(|i| {
            if i > 0 && rng.gen_bool(spec.duplicate_share) {
                return (None, None, Some(rng.gen_range(0..i)));
            }
            let v0 = rng.gen_bool(spec.v0_share);
            let plan = planner.plan(&mut rng, v0);
            let corrupt = rng
                .gen_bool(spec.invalid_share)
                .then(|| (rng.gen_range(0..64), 1u8 << rng.gen_range(0..8)));
            (Some(plan), corrupt, None)
        })
        .collect();
    let done = AtomicUsize::new(0);
    let total = plans.len();
    let step = (total / 100).max(1);
    let mut packets: Vec<Vec<u8>> = plans
        .par_iter()
        .map(|(plan, corrupt, _)| {
            let packet = plan
                .as_ref()
                .map_or_else(Vec::new, |p| mix::sign(p, keys, *corrupt));
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(step) || n == total {
                progress(n, total);
            }
            packet
        })
        .collect();
    for (i, (_, _, dup)) in plans.iter().enumerate() {
        if let Some(of) = dup {
            packets[i] = packets[*of].clone();
        }
    }
    packets
}

fn sign_plan(p: &Plan, keys: &[SigningKey], pubkeys: &[Pubkey]) -> Vec<u8> {
    let k = 1 + p.cosigners.len();
    let mut static_keys = Vec::with_capacity(k + 2);
    static_keys.push(pubkeys[p.from]);
    static_keys.extend(p.cosigners.iter().map(|&c| pubkeys[c]));
    let to_index = if let Some(pos) = p.cosigners.iter().position(|&c| c == p.to) {
        // the destination co-signs (tiny account sets): it is a read-only signer, so the
        // transfer fails with AccountNotWritable, which is a fine outcome to exercise
        (1 + pos) as u8
    } else {
        static_keys.push(pubkeys[p.to]);
        (static_keys.len() - 1) as u8
    };
    // With work: the sender's target (writable), then the work program after System.
    let target_index = p.rounds.map(|_| {
        static_keys.push(WorkProgram::target_of(&pubkeys[p.from]));
        (static_keys.len() - 1) as u8
    });
    static_keys.push(build::SYSTEM_PROGRAM_ID);
    let system_index = (static_keys.len() - 1) as u8;
    let mut instructions = vec![InstructionSpec {
        program_id_index: system_index,
        accounts: vec![0, to_index],
        data: build::transfer_data(p.lamports),
    }];
    if let (Some(rounds), Some(target)) = (p.rounds, target_index) {
        static_keys.push(WorkProgram::ID);
        instructions.push(InstructionSpec {
            program_id_index: system_index + 1,
            accounts: vec![target],
            data: WorkProgram::instruction_data(rounds),
        });
    }
    let spec = MessageSpec {
        version: if p.v0 { Version::V0 } else { Version::Legacy },
        header: MessageHeader {
            num_required_signatures: k as u8,
            num_readonly_signed_accounts: (k - 1) as u8,
            num_readonly_unsigned_accounts: if p.rounds.is_some() { 2 } else { 1 },
        },
        recent_blockhash: [7u8; 32],
        instructions,
        static_keys,
        lookups: Vec::new(),
    };
    let signers: Vec<&SigningKey> = std::iter::once(&keys[p.from])
        .chain(p.cosigners.iter().map(|&c| &keys[c]))
        .collect();
    let mut packet = build::sign_message(&build::encode_message(&spec), &signers);
    if let Some((byte, bit)) = p.corrupt {
        packet[1 + byte] ^= bit;
    }
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(work_rounds: u32) -> WorkloadSpec {
        WorkloadSpec {
            accounts: 20,
            transactions: 50,
            work_rounds,
            cost_dist: CostDist::Lognormal(1.0),
            ..WorkloadSpec::default()
        }
    }

    #[test]
    fn a_spec_without_work_serialises_as_before_work_existed() {
        let plain = WorkloadSpec {
            cost_dist: CostDist::Const,
            ..spec(0)
        };
        let json = serde_json::to_string(&plain).expect("serialises");
        assert!(
            !json.contains("work_rounds") && !json.contains("cost_dist"),
            "{json}"
        );
        // An old cache's spec (no work fields) reads as a spec without work.
        let old: WorkloadSpec = serde_json::from_str(&json).expect("reads");
        assert_eq!(old.work_rounds, 0);
        assert_eq!(old.cost_dist, CostDist::Const);
        let with = serde_json::to_string(&spec(5)).expect("serialises");
        assert!(with.contains("\"work_rounds\":5"), "{with}");
    }

    #[test]
    fn a_workload_with_work_round_trips_through_the_cache_format() {
        let w = Workload::generate(&spec(5), &|_, _| {}).expect("generates");
        // Funded accounts, then one work target each.
        assert_eq!(w.genesis.len(), 40);
        assert!(w.genesis[20..]
            .iter()
            .all(|(_, a)| a.owner == WorkProgram::ID && a.data.len() == 32));
        let mut buf = Vec::new();
        w.write_to(&mut buf).expect("writes");
        let back = Workload::read_from(&mut buf.as_slice()).expect("reads");
        assert_eq!(back, w);
        // The same transfers as without work, each with a work instruction.
        let plain = Workload::generate(
            &WorkloadSpec {
                work_rounds: 0,
                ..spec(0)
            },
            &|_, _| {},
        )
        .expect("generates");
        assert_eq!(plain.genesis[..], w.genesis[..20]);
        assert!(w
            .packets
            .iter()
            .zip(&plain.packets)
            .all(|(a, b)| a.len() > b.len()));
    }
}
