//! Compute budgets: the ComputeBudget program's instructions, the limits they set, the
//! fee they imply, and the built-in [`ComputeBudgetProgram`].
//!
//! Every rule here is Agave's; the source of each is named where it is applied:
//! - instruction layouts: `solana-compute-budget-interface` `ComputeBudgetInstruction`
//!   (Borsh: one byte of variant index, then the field little-endian; decoded with
//!   `solana_borsh::v1::try_from_slice_unchecked`, so bytes after the field are ignored);
//! - scanning a transaction's instructions and sanitizing the requests:
//!   `solana-compute-budget-instruction` `ComputeBudgetInstructionDetails::try_from`,
//!   `process_instruction`, `sanitize_and_convert_to_compute_budget_limits`;
//! - constants: `solana-compute-budget` `compute_budget_limits`
//!   (`DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT`, `MAX_COMPUTE_UNIT_LIMIT`,
//!   `MIN_HEAP_FRAME_BYTES`, `MAX_HEAP_FRAME_BYTES`, `MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES`);
//! - the fee: `solana-fee` `calculate_fee_details` (signature fee plus prioritization
//!   fee, saturating) and `solana-compute-budget` `get_prioritization_fee`.
//!
//! # The rules
//! - Instructions whose program is the ComputeBudget program ([`COMPUTE_BUDGET_PROGRAM_ID`])
//!   are read in order. Data that does not decode as `RequestHeapFrame` (1),
//!   `SetComputeUnitLimit` (2), `SetComputeUnitPrice` (3) or
//!   `SetLoadedAccountsDataSizeLimit` (4) (variant 0, the deprecated `RequestUnits`, an
//!   unknown variant, or a field cut short) fails the transaction with
//!   [`TxError::InvalidComputeBudgetData`] for that instruction; a second instruction of a
//!   kind already seen fails it with [`TxError::DuplicateInstruction`] (the first failure
//!   in instruction order wins).
//! - Then: a requested heap frame must be a multiple of 1,024 in 32 KiB..=256 KiB
//!   ([`TxError::InvalidComputeBudgetData`] naming that instruction); a requested loaded
//!   accounts data size of 0 is [`TxError::InvalidLoadedAccountsDataSizeLimit`].
//! - The compute-unit limit is the requested one, or 200,000 per instruction that is not
//!   a ComputeBudget instruction, at most 1,400,000. (Agave's newer default, behind the
//!   `reserve_minimal_cus_for_builtin_instructions` feature, gives builtins 3,000 each;
//!   this crate keeps the rule above, which is what a validator without that feature
//!   runs.) The price defaults to 0; the loaded data size to 64 MiB, and at most that.
//! - A transaction whose compute budget fails these rules is **not executed and pays no
//!   fee**: Agave finds the error while validating the fee payer
//!   (`TransactionBatchProcessor::validate_transaction_nonce_and_fee_payer`), before
//!   anything is charged.
//! - Fee = `lamports_per_signature` × signatures + prioritization fee, where the
//!   prioritization fee = ceil(price × limit / 1,000,000) lamports (price in
//!   micro-lamports per compute unit, times the **limit**, not the units used), saturating
//!   at `u64::MAX`.

use crate::Pubkey;

use super::error::{InstructionError, TxError};
use super::program::{InstructionContext, Program};

/// The ComputeBudget program's id, `ComputeBudget111111111111111111111111111111`.
pub const COMPUTE_BUDGET_PROGRAM_ID: Pubkey = [
    3, 6, 70, 111, 229, 33, 23, 50, 255, 236, 173, 186, 114, 195, 155, 231, 188, 140, 229, 187,
    197, 247, 18, 107, 44, 67, 155, 58, 64, 0, 0, 0,
];

/// Compute units per instruction that is not a ComputeBudget instruction, when the
/// transaction sets no limit.
pub const DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT: u32 = 200_000;
/// The largest compute-unit limit of a transaction.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;
/// The smallest (and default) heap frame, bytes.
pub const MIN_HEAP_FRAME_BYTES: u32 = 32 * 1024;
/// The largest heap frame, bytes.
pub const MAX_HEAP_FRAME_BYTES: u32 = 256 * 1024;
/// The largest (and default) total of account data a transaction may load, bytes.
pub const MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES: u32 = 64 * 1024 * 1024;
/// Micro-lamports per lamport (the unit of the compute-unit price).
pub const MICRO_LAMPORTS_PER_LAMPORT: u64 = 1_000_000;

/// One ComputeBudget instruction (`solana-compute-budget-interface`
/// `ComputeBudgetInstruction`, less the deprecated variant 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComputeBudgetInstruction {
    /// Variant 1: the heap frame size in bytes.
    RequestHeapFrame(u32),
    /// Variant 2: the transaction's compute-unit limit.
    SetComputeUnitLimit(u32),
    /// Variant 3: the price of a compute unit, in micro-lamports.
    SetComputeUnitPrice(u64),
    /// Variant 4: the most account data the transaction may load, in bytes.
    SetLoadedAccountsDataSizeLimit(u32),
}

impl ComputeBudgetInstruction {
    /// Decodes instruction data as Borsh does with `try_from_slice_unchecked`: variant
    /// byte, little-endian field, trailing bytes ignored. `None` for variant 0, an
    /// unknown variant, or a field cut short.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let (&variant, rest) = data.split_first()?;
        let u32_field = || rest.first_chunk::<4>().map(|b| u32::from_le_bytes(*b));
        match variant {
            1 => u32_field().map(Self::RequestHeapFrame),
            2 => u32_field().map(Self::SetComputeUnitLimit),
            3 => rest
                .first_chunk::<8>()
                .map(|b| Self::SetComputeUnitPrice(u64::from_le_bytes(*b))),
            4 => u32_field().map(Self::SetLoadedAccountsDataSizeLimit),
            _ => None,
        }
    }

    /// The instruction data (Borsh).
    pub fn encode(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(9);
        match *self {
            Self::RequestHeapFrame(v) => {
                data.push(1);
                data.extend_from_slice(&v.to_le_bytes());
            }
            Self::SetComputeUnitLimit(v) => {
                data.push(2);
                data.extend_from_slice(&v.to_le_bytes());
            }
            Self::SetComputeUnitPrice(v) => {
                data.push(3);
                data.extend_from_slice(&v.to_le_bytes());
            }
            Self::SetLoadedAccountsDataSizeLimit(v) => {
                data.push(4);
                data.extend_from_slice(&v.to_le_bytes());
            }
        }
        data
    }
}

/// What a transaction's compute budget allows (`solana-compute-budget`
/// `ComputeBudgetLimits`), after the rules of the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComputeBudgetLimits {
    /// Heap frame, bytes.
    pub heap_bytes: u32,
    /// Compute units the transaction may consume.
    pub compute_unit_limit: u32,
    /// Micro-lamports per compute unit.
    pub compute_unit_price: u64,
    /// Account data the transaction may load, bytes.
    pub loaded_accounts_bytes: u32,
    /// Whether the limit was set by a `SetComputeUnitLimit` instruction (else it is the
    /// default for the instruction count).
    pub limit_requested: bool,
}

impl Default for ComputeBudgetLimits {
    /// The limits of a transaction with one instruction and no ComputeBudget instruction.
    fn default() -> Self {
        Self::for_instructions(1)
    }
}

impl ComputeBudgetLimits {
    /// The limits of a transaction with `n` instructions, none of them ComputeBudget ones.
    pub fn for_instructions(n: u32) -> Self {
        Self {
            heap_bytes: MIN_HEAP_FRAME_BYTES,
            compute_unit_limit: n
                .saturating_mul(DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT)
                .min(MAX_COMPUTE_UNIT_LIMIT),
            compute_unit_price: 0,
            loaded_accounts_bytes: MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES,
            limit_requested: false,
        }
    }

    /// Scans a transaction's instructions, as `(program id, data)` in order, and applies
    /// the rules of the module docs.
    ///
    /// # Errors
    /// [`TxError::InvalidComputeBudgetData`], [`TxError::DuplicateInstruction`],
    /// [`TxError::InvalidLoadedAccountsDataSizeLimit`]: the transaction is not executed
    /// and pays no fee.
    pub fn from_instructions<'a>(
        instructions: impl Iterator<Item = (&'a Pubkey, &'a [u8])>,
    ) -> Result<Self, TxError> {
        let mut heap: Option<(u8, u32)> = None;
        let mut limit: Option<u32> = None;
        let mut price: Option<u64> = None;
        let mut loaded: Option<u32> = None;
        let mut others = 0u32;
        for (i, (program, data)) in instructions.enumerate() {
            // A transaction has at most 64 instructions (packet size); saturate anyway.
            let index = u8::try_from(i).unwrap_or(u8::MAX);
            if *program != COMPUTE_BUDGET_PROGRAM_ID {
                others = others.saturating_add(1);
                continue;
            }
            let duplicate = TxError::DuplicateInstruction(index);
            match ComputeBudgetInstruction::decode(data) {
                Some(ComputeBudgetInstruction::RequestHeapFrame(b)) => {
                    if heap.replace((index, b)).is_some() {
                        return Err(duplicate);
                    }
                }
                Some(ComputeBudgetInstruction::SetComputeUnitLimit(u)) => {
                    if limit.replace(u).is_some() {
                        return Err(duplicate);
                    }
                }
                Some(ComputeBudgetInstruction::SetComputeUnitPrice(p)) => {
                    if price.replace(p).is_some() {
                        return Err(duplicate);
                    }
                }
                Some(ComputeBudgetInstruction::SetLoadedAccountsDataSizeLimit(b)) => {
                    if loaded.replace(b).is_some() {
                        return Err(duplicate);
                    }
                }
                None => return Err(TxError::InvalidComputeBudgetData { index }),
            }
        }
        let heap_bytes = match heap {
            Some((index, b)) => {
                if !(MIN_HEAP_FRAME_BYTES..=MAX_HEAP_FRAME_BYTES).contains(&b)
                    || !b.is_multiple_of(1024)
                {
                    return Err(TxError::InvalidComputeBudgetData { index });
                }
                b
            }
            None => MIN_HEAP_FRAME_BYTES,
        };
        let loaded_accounts_bytes = match loaded {
            Some(0) => return Err(TxError::InvalidLoadedAccountsDataSizeLimit),
            Some(b) => b.min(MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES),
            None => MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES,
        };
        Ok(Self {
            heap_bytes,
            compute_unit_limit: limit
                .unwrap_or_else(|| others.saturating_mul(DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT))
                .min(MAX_COMPUTE_UNIT_LIMIT),
            compute_unit_price: price.unwrap_or(0),
            loaded_accounts_bytes,
            limit_requested: limit.is_some(),
        })
    }

    /// The prioritization fee of these limits ([`prioritization_fee`]).
    pub fn prioritization_fee(&self) -> u64 {
        prioritization_fee(self.compute_unit_price, u64::from(self.compute_unit_limit))
    }
}

/// ceil(`price` × `limit` / 1,000,000) lamports, `u64::MAX` when that does not fit
/// (`solana-compute-budget` `get_prioritization_fee`).
pub fn prioritization_fee(price_micro_lamports: u64, compute_unit_limit: u64) -> u64 {
    let micro = u128::from(price_micro_lamports) * u128::from(compute_unit_limit);
    let lamports = micro.div_ceil(u128::from(MICRO_LAMPORTS_PER_LAMPORT));
    u64::try_from(lamports).unwrap_or(u64::MAX)
}

/// A transaction's fee, by part (`solana-fee-structure` `FeeDetails`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeeDetails {
    /// `lamports_per_signature` × signatures.
    pub signature_fee: u64,
    /// [`prioritization_fee`] of the compute budget.
    pub prioritization_fee: u64,
}

impl FeeDetails {
    /// The fee of `signatures` signatures at `lamports_per_signature` under `limits`
    /// (`solana-fee` `calculate_fee_details`).
    pub fn new(signatures: u64, lamports_per_signature: u64, limits: &ComputeBudgetLimits) -> Self {
        Self {
            signature_fee: signatures.saturating_mul(lamports_per_signature),
            prioritization_fee: limits.prioritization_fee(),
        }
    }

    /// The whole fee, saturating.
    pub fn total(&self) -> u64 {
        self.signature_fee.saturating_add(self.prioritization_fee)
    }
}

/// The built-in ComputeBudget program: its instructions were read before the transaction
/// ran (see the module docs), so running one does nothing but consume its
/// [`ComputeBudgetProgram::UNITS`] (Agave: `solana-compute-budget-program`, a builtin
/// whose entrypoint returns `Ok(())` after `DEFAULT_COMPUTE_UNITS`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ComputeBudgetProgram;

impl ComputeBudgetProgram {
    /// Compute units of one ComputeBudget instruction (`DEFAULT_COMPUTE_UNITS`, 150).
    pub const UNITS: u64 = 150;
}

impl Program for ComputeBudgetProgram {
    fn base_units(&self) -> u64 {
        Self::UNITS
    }

    fn process(&self, _ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CB: &Pubkey = &COMPUTE_BUDGET_PROGRAM_ID;
    const OTHER: &Pubkey = &[9; 32];

    fn limits(ixs: &[(&'static Pubkey, Vec<u8>)]) -> Result<ComputeBudgetLimits, TxError> {
        ComputeBudgetLimits::from_instructions(ixs.iter().map(|(p, d)| (*p, d.as_slice())))
    }

    type Ixs = Vec<(&'static Pubkey, Vec<u8>)>;
    type Case = (&'static str, Ixs, Result<ComputeBudgetLimits, TxError>);

    fn cb(ix: ComputeBudgetInstruction) -> (&'static Pubkey, Vec<u8>) {
        (CB, ix.encode())
    }

    fn other() -> (&'static Pubkey, Vec<u8>) {
        (OTHER, vec![1, 2, 3])
    }

    use ComputeBudgetInstruction::*;

    #[test]
    fn decoding_follows_borsh() {
        let cases: &[(&[u8], Option<ComputeBudgetInstruction>)] = &[
            (&[], None),
            (&[0, 1, 0, 0, 0, 1, 0, 0, 0], None), // deprecated RequestUnits
            (&[1, 0, 0x80, 0, 0], Some(RequestHeapFrame(32 * 1024))),
            (&[1, 0, 0x80, 0], None), // short field
            (
                &[2, 0x40, 0x0d, 0x03, 0],
                Some(SetComputeUnitLimit(200_000)),
            ),
            (&[2, 1, 0, 0, 0, 0xff, 0xff], Some(SetComputeUnitLimit(1))), // trailing bytes
            (&[3, 1, 0, 0, 0, 0, 0, 0, 0], Some(SetComputeUnitPrice(1))),
            (&[3, 1, 0, 0, 0, 0, 0, 0], None),
            (
                &[4, 0, 0, 1, 0],
                Some(SetLoadedAccountsDataSizeLimit(65536)),
            ),
            (&[5, 0, 0, 0, 0], None),
            (&[0xff], None),
        ];
        for (data, want) in cases {
            assert_eq!(ComputeBudgetInstruction::decode(data), *want, "{data:?}");
            if let Some(ix) = want {
                assert_eq!(ComputeBudgetInstruction::decode(&ix.encode()), Some(*ix));
            }
        }
    }

    #[test]
    fn every_rule_table_driven() {
        let default_two = ComputeBudgetLimits::for_instructions(2);
        let ok = |f: &dyn Fn(&mut ComputeBudgetLimits)| {
            let mut l = default_two;
            f(&mut l);
            Ok(l)
        };
        let cases: Vec<Case> = vec![
            ("no instruction", vec![], ok(&|l| l.compute_unit_limit = 0)),
            (
                "two others: 2 x 200k",
                vec![other(), other()],
                Ok(default_two),
            ),
            (
                "ComputeBudget instructions do not count for the default",
                vec![cb(SetComputeUnitPrice(5)), other(), other()],
                ok(&|l| l.compute_unit_price = 5),
            ),
            (
                "eight others: capped at 1.4M",
                vec![other(); 8],
                ok(&|l| l.compute_unit_limit = MAX_COMPUTE_UNIT_LIMIT),
            ),
            (
                "requested limit",
                vec![cb(SetComputeUnitLimit(300)), other(), other()],
                ok(&|l| {
                    l.compute_unit_limit = 300;
                    l.limit_requested = true
                }),
            ),
            (
                "requested limit capped",
                vec![other(), other(), cb(SetComputeUnitLimit(u32::MAX))],
                ok(&|l| {
                    l.compute_unit_limit = MAX_COMPUTE_UNIT_LIMIT;
                    l.limit_requested = true
                }),
            ),
            (
                "requested limit 0",
                vec![cb(SetComputeUnitLimit(0)), other(), other()],
                ok(&|l| {
                    l.compute_unit_limit = 0;
                    l.limit_requested = true
                }),
            ),
            (
                "heap frame at both ends",
                vec![cb(RequestHeapFrame(256 * 1024)), other(), other()],
                ok(&|l| l.heap_bytes = 256 * 1024),
            ),
            (
                "heap frame not a multiple of 1024",
                vec![other(), cb(RequestHeapFrame(33 * 1024 + 1)), other()],
                Err(TxError::InvalidComputeBudgetData { index: 1 }),
            ),
            (
                "heap frame too small",
                vec![other(), other(), cb(RequestHeapFrame(31 * 1024))],
                Err(TxError::InvalidComputeBudgetData { index: 2 }),
            ),
            (
                "heap frame too large",
                vec![cb(RequestHeapFrame(257 * 1024))],
                Err(TxError::InvalidComputeBudgetData { index: 0 }),
            ),
            (
                "loaded data size",
                vec![cb(SetLoadedAccountsDataSizeLimit(1000)), other(), other()],
                ok(&|l| l.loaded_accounts_bytes = 1000),
            ),
            (
                "loaded data size capped",
                vec![
                    cb(SetLoadedAccountsDataSizeLimit(u32::MAX)),
                    other(),
                    other(),
                ],
                Ok(default_two),
            ),
            (
                "loaded data size 0",
                vec![cb(SetLoadedAccountsDataSizeLimit(0)), other(), other()],
                Err(TxError::InvalidLoadedAccountsDataSizeLimit),
            ),
            (
                "bad data",
                vec![other(), (CB, vec![2, 1, 0])],
                Err(TxError::InvalidComputeBudgetData { index: 1 }),
            ),
            (
                "deprecated RequestUnits",
                vec![(CB, vec![0, 1, 0, 0, 0, 0, 0, 0, 0])],
                Err(TxError::InvalidComputeBudgetData { index: 0 }),
            ),
            (
                "duplicate limit",
                vec![
                    cb(SetComputeUnitLimit(1)),
                    other(),
                    cb(SetComputeUnitLimit(1)),
                ],
                Err(TxError::DuplicateInstruction(2)),
            ),
            (
                "duplicate price",
                vec![cb(SetComputeUnitPrice(1)), cb(SetComputeUnitPrice(2))],
                Err(TxError::DuplicateInstruction(1)),
            ),
            (
                "duplicate heap, even when the first is invalid",
                vec![cb(RequestHeapFrame(1)), cb(RequestHeapFrame(32 * 1024))],
                Err(TxError::DuplicateInstruction(1)),
            ),
            (
                "duplicate loaded data size",
                vec![
                    cb(SetLoadedAccountsDataSizeLimit(0)),
                    cb(SetLoadedAccountsDataSizeLimit(1)),
                ],
                Err(TxError::DuplicateInstruction(1)),
            ),
            (
                "the first failure in order wins: bad data before a duplicate",
                vec![
                    (CB, vec![9]),
                    cb(SetComputeUnitPrice(1)),
                    cb(SetComputeUnitPrice(1)),
                ],
                Err(TxError::InvalidComputeBudgetData { index: 0 }),
            ),
            (
                "a duplicate before bad data",
                vec![
                    cb(SetComputeUnitPrice(1)),
                    cb(SetComputeUnitPrice(1)),
                    (CB, vec![9]),
                ],
                Err(TxError::DuplicateInstruction(1)),
            ),
            (
                "a duplicate before a bad heap size",
                vec![
                    cb(RequestHeapFrame(7)),
                    cb(SetComputeUnitPrice(1)),
                    cb(SetComputeUnitPrice(1)),
                ],
                Err(TxError::DuplicateInstruction(2)),
            ),
        ];
        for (name, ixs, want) in cases {
            assert_eq!(limits(&ixs), want, "{name}");
            if let Err(e) = &want {
                assert!(!e.fee_charged(), "{name}");
            }
        }
    }

    #[test]
    fn fee_formula_table_driven() {
        // (signatures, lamports per signature, price, limit, total)
        let cases: &[(u64, u64, u64, u32, u64)] = &[
            (1, 5000, 0, 200_000, 5000),
            (2, 5000, 0, 200_000, 10_000),
            (1, 5000, 1, 1, 5001),                  // ceil(1e-6) = 1
            (1, 5000, 1, 1_000_000, 5001),          // exactly 1 lamport
            (1, 5000, 1, 1_000_001, 5002),          // rounds up
            (1, 5000, 1_000_000, 200_000, 205_000), // 1 lamport per unit
            (1, 5000, 3, 333_333, 5000 + 1),        // 999,999 micro-lamports
            (1, 5000, 3, 333_334, 5000 + 2),        // 1,000,002
            (3, 0, 10, 1_400_000, 14),
            (1, 5000, u64::MAX, MAX_COMPUTE_UNIT_LIMIT, u64::MAX), // saturates
        ];
        for &(sigs, lps, price, limit, total) in cases {
            let l = ComputeBudgetLimits {
                compute_unit_price: price,
                compute_unit_limit: limit,
                ..ComputeBudgetLimits::default()
            };
            assert_eq!(
                FeeDetails::new(sigs, lps, &l).total(),
                total,
                "{sigs} {lps} {price} {limit}"
            );
        }
        assert_eq!(prioritization_fee(u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(prioritization_fee(0, u64::MAX), 0);
        assert_eq!(prioritization_fee(999_999, 1), 1);
    }
}
