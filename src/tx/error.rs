//! Parse and resolve errors: one variant per sanity rule.

use super::CompactU16Error;

/// Why a packet is not a well-formed transaction. Each sanity rule of the wire format has
/// its own variant; [`ParseError::kind`] gives a stable short name for machine output.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The packet is longer than [`super::PACKET_DATA_SIZE`].
    #[error("packet of {len} bytes is longer than the 1232-byte limit")]
    PacketTooLong {
        /// Packet length in bytes.
        len: usize,
    },
    /// The packet ended inside a field.
    #[error("packet truncated inside {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A compact-u16 length does not fit in 16 bits or continues past its third byte.
    #[error("compact-u16 {field} overflows 16 bits")]
    CompactU16Overflow {
        /// The field being read.
        field: &'static str,
    },
    /// A compact-u16 length is not minimally encoded.
    #[error("compact-u16 {field} is not minimally encoded")]
    CompactU16NonMinimal {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes follow the end of the message.
    #[error("{count} trailing bytes after the message")]
    TrailingBytes {
        /// How many bytes follow.
        count: usize,
    },
    /// The message's version byte names a version other than 0.
    #[error("unknown message version {version}")]
    UnknownVersion {
        /// The version number (the byte without its high bit).
        version: u8,
    },
    /// The header requires no signature: there would be no fee payer.
    #[error("num_required_signatures is 0")]
    NoRequiredSignatures,
    /// The number of signatures differs from the header's required signatures.
    #[error("{signatures} signatures but the header requires {required}")]
    SignatureCountMismatch {
        /// Signatures present.
        signatures: usize,
        /// Signatures the header requires.
        required: usize,
    },
    /// Every signer is read-only, so the fee payer (key 0) would not be writable.
    #[error("{readonly_signed} read-only signed accounts leave no writable fee payer among {required} signers")]
    FeePayerNotWritable {
        /// num_readonly_signed_accounts.
        readonly_signed: u8,
        /// num_required_signatures.
        required: u8,
    },
    /// The header names more signed plus read-only unsigned keys than there are.
    #[error("header needs {needed} keys (signed + read-only unsigned) but only {static_keys} static keys are present")]
    NotEnoughStaticKeys {
        /// num_required_signatures + num_readonly_unsigned_accounts.
        needed: usize,
        /// Static keys present.
        static_keys: usize,
    },
    /// More than [`super::MAX_ACCOUNT_KEYS`] keys in total (static plus lookups).
    #[error("{total} account keys exceed the limit of 256")]
    TooManyAccountKeys {
        /// Total account keys.
        total: usize,
    },
    /// More than [`super::MAX_INSTRUCTIONS`] instructions (SIMD-0160).
    #[error("{count} instructions exceed the limit of 64")]
    TooManyInstructions {
        /// Instructions in the message.
        count: usize,
    },
    /// An instruction lists more than [`super::MAX_ACCOUNTS_PER_INSTRUCTION`] account
    /// indexes (SIMD-0406).
    #[error("instruction {instruction} lists {count} accounts, more than the limit of 255")]
    TooManyInstructionAccounts {
        /// Instruction index.
        instruction: usize,
        /// Account indexes the instruction lists.
        count: usize,
    },
    /// An instruction's program is the fee payer (index 0).
    #[error("instruction {instruction} uses the fee payer as its program")]
    ProgramIdIsFeePayer {
        /// Instruction index.
        instruction: usize,
    },
    /// An instruction's program index is not a static key.
    #[error(
        "instruction {instruction} program index {index} out of range ({static_keys} static keys)"
    )]
    ProgramIdIndexOutOfRange {
        /// Instruction index.
        instruction: usize,
        /// The program index.
        index: u8,
        /// Static keys present.
        static_keys: usize,
    },
    /// An instruction's account index is past the last account key.
    #[error("instruction {instruction} account index {index} out of range ({keys} account keys)")]
    AccountIndexOutOfRange {
        /// Instruction index.
        instruction: usize,
        /// The account index.
        index: u8,
        /// Account keys in total (static plus lookups).
        keys: usize,
    },
    /// The same key appears twice in the static key list. (Agave's parser does not check
    /// this; Agave rejects such a transaction later, when it locks the accounts
    /// (`validate_account_locks`, `AccountLoadedTwice`): the same packets are dropped, at
    /// another stage.)
    #[error("static key {index} duplicates an earlier key")]
    DuplicateAccountKey {
        /// Index of the second occurrence.
        index: usize,
    },
    /// A v0 address-table lookup loads no account.
    #[error("address table lookup {lookup} loads no account")]
    EmptyAddressTableLookup {
        /// Lookup index.
        lookup: usize,
    },
}

impl ParseError {
    pub(crate) fn compact(err: CompactU16Error, field: &'static str) -> Self {
        match err {
            CompactU16Error::Truncated => Self::Truncated { field },
            CompactU16Error::Overflow => Self::CompactU16Overflow { field },
            CompactU16Error::NonMinimal => Self::CompactU16NonMinimal { field },
        }
    }

    /// A stable snake_case name of the rule that failed (for JSON output and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PacketTooLong { .. } => "packet_too_long",
            Self::Truncated { .. } => "truncated",
            Self::CompactU16Overflow { .. } => "compact_u16_overflow",
            Self::CompactU16NonMinimal { .. } => "compact_u16_non_minimal",
            Self::TrailingBytes { .. } => "trailing_bytes",
            Self::UnknownVersion { .. } => "unknown_version",
            Self::NoRequiredSignatures => "no_required_signatures",
            Self::SignatureCountMismatch { .. } => "signature_count_mismatch",
            Self::FeePayerNotWritable { .. } => "fee_payer_not_writable",
            Self::NotEnoughStaticKeys { .. } => "not_enough_static_keys",
            Self::TooManyAccountKeys { .. } => "too_many_account_keys",
            Self::TooManyInstructions { .. } => "too_many_instructions",
            Self::TooManyInstructionAccounts { .. } => "too_many_instruction_accounts",
            Self::ProgramIdIsFeePayer { .. } => "program_id_is_fee_payer",
            Self::ProgramIdIndexOutOfRange { .. } => "program_id_index_out_of_range",
            Self::AccountIndexOutOfRange { .. } => "account_index_out_of_range",
            Self::DuplicateAccountKey { .. } => "duplicate_account_key",
            Self::EmptyAddressTableLookup { .. } => "empty_address_table_lookup",
        }
    }
}

/// Why the full account key list of a v0 transaction could not be formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The transaction has address-table lookups and no resolver was given.
    #[error("transaction uses address lookup tables and no resolver is configured")]
    NoResolver,
    /// The lookup table account is unknown to the resolver.
    #[error("address lookup table {table} not found")]
    TableNotFound {
        /// Hex of the table key.
        table: String,
    },
    /// A lookup index is past the end of the table.
    #[error("address lookup table {table} has no entry {index}")]
    IndexOutOfRange {
        /// Hex of the table key.
        table: String,
        /// The index.
        index: u8,
    },
    /// The resolver returned a different number of keys than the lookup asked for.
    #[error("resolver returned {got} keys for a lookup of {expected}")]
    WrongKeyCount {
        /// Keys asked for.
        expected: usize,
        /// Keys returned.
        got: usize,
    },
    /// A key appears twice once lookups are resolved.
    #[error("account key {index} is loaded twice")]
    DuplicateAccountKey {
        /// Index of the second occurrence in the loaded list.
        index: usize,
    },
}
