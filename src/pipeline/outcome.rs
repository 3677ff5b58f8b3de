//! What the pipeline says about each transaction and each block.

use serde::Serialize;

use super::stage_id::StageId;
use crate::execute::TxError;
use crate::tx::ParseError;
use crate::Hash;

/// The result of one submitted transaction: exactly one per packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxOutcome {
    /// Executed successfully.
    Ok,
    /// Dropped at parse: the packet is not a well-formed transaction.
    Malformed(ParseError),
    /// Dropped at dedup: the same packet, or a transaction with the same first signature,
    /// was seen within the de-duplication window. No second effect.
    Duplicate,
    /// Dropped at signature verification: at least one signature is invalid.
    InvalidSignature,
    /// Reached execution and failed (see [`TxError::fee_charged`] for whether the fee was
    /// taken).
    Failed(TxError),
}

impl TxOutcome {
    /// The stage that dropped or failed the transaction (`None` for [`TxOutcome::Ok`]).
    pub fn stage(&self) -> Option<StageId> {
        match self {
            TxOutcome::Ok => None,
            TxOutcome::Malformed(_) => Some(StageId::Parse),
            TxOutcome::Duplicate => Some(StageId::Dedup),
            TxOutcome::InvalidSignature => Some(StageId::Sigverify),
            TxOutcome::Failed(_) => Some(StageId::Execute),
        }
    }

    /// Whether the transaction executed successfully.
    pub fn is_ok(&self) -> bool {
        matches!(self, TxOutcome::Ok)
    }

    /// A stable short name: `ok`, `malformed`, `duplicate`, `invalid_signature`,
    /// `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            TxOutcome::Ok => "ok",
            TxOutcome::Malformed(_) => "malformed",
            TxOutcome::Duplicate => "duplicate",
            TxOutcome::InvalidSignature => "invalid_signature",
            TxOutcome::Failed(_) => "failed",
        }
    }

    /// A human-readable reason (empty for [`TxOutcome::Ok`]).
    pub fn reason(&self) -> String {
        match self {
            TxOutcome::Ok => String::new(),
            TxOutcome::Malformed(e) => e.to_string(),
            TxOutcome::Duplicate => "duplicate transaction".into(),
            TxOutcome::InvalidSignature => "invalid signature".into(),
            TxOutcome::Failed(e) => e.to_string(),
        }
    }
}

/// Outcome counts of a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    /// Executed successfully.
    pub ok: u64,
    /// Dropped at parse.
    pub malformed: u64,
    /// Dropped as duplicates.
    pub duplicate: u64,
    /// Dropped for an invalid signature.
    pub invalid_signature: u64,
    /// Failed in execution with the fee charged.
    pub failed_fee_charged: u64,
    /// Failed in execution without a fee (payer could not pay, unresolvable keys).
    pub failed_no_fee: u64,
}

impl OutcomeCounts {
    /// Counts `outcomes`.
    pub fn of(outcomes: &[TxOutcome]) -> Self {
        let mut c = Self::default();
        for o in outcomes {
            c.add(o);
        }
        c
    }

    /// Adds one outcome.
    pub fn add(&mut self, o: &TxOutcome) {
        match o {
            TxOutcome::Ok => self.ok += 1,
            TxOutcome::Malformed(_) => self.malformed += 1,
            TxOutcome::Duplicate => self.duplicate += 1,
            TxOutcome::InvalidSignature => self.invalid_signature += 1,
            TxOutcome::Failed(e) if e.fee_charged() => self.failed_fee_charged += 1,
            TxOutcome::Failed(_) => self.failed_no_fee += 1,
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Self) {
        self.ok += other.ok;
        self.malformed += other.malformed;
        self.duplicate += other.duplicate;
        self.invalid_signature += other.invalid_signature;
        self.failed_fee_charged += other.failed_fee_charged;
        self.failed_no_fee += other.failed_no_fee;
    }

    /// Total transactions counted.
    pub fn total(&self) -> u64 {
        self.ok
            + self.malformed
            + self.duplicate
            + self.invalid_signature
            + self.failed_fee_charged
            + self.failed_no_fee
    }
}

/// A block's commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// Block number, from 0 in submission order.
    pub block: u64,
    /// Merkle root over the digests of the accounts the block modified, in key order
    /// ([`crate::state::state_hash_sorted`]).
    pub state_hash: Hash,
    /// Merkle root over the message digests (SHA-256) of the transactions that reached
    /// execution, in block order ([`crate::hash::merkle::transaction_root`]).
    pub transaction_root: Hash,
    /// Outcome counts.
    pub counts: OutcomeCounts,
    /// Fees taken from fee payers in this block.
    pub fees_charged: u64,
}

/// Everything the pipeline returns for one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockResult {
    /// One outcome per submitted packet, in submission order.
    pub outcomes: Vec<TxOutcome>,
    /// The block's commitment.
    pub commit: Commit,
}
