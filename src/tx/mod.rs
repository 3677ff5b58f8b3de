//! Solana wire-format transactions, legacy and v0: a zero-copy parser with every sanity
//! rule as its own error ([`ParseError`]), a builder that encodes and signs ([`build`]), and
//! access sets (which keys are signers, writable, read-only). A parsed transaction's
//! [`Layout`] (offsets, owning no bytes) re-attaches to its packet without a second parse.
//!
//! The wire format is described in `shared/notes/solana-wire-format.md`; in short:
//! `compact-u16 n, [u8; 64] x n signatures, message`, where every signature signs the whole
//! message bytes exactly as they appear on the wire.

pub mod base58;
pub mod build;
mod error;
mod parse;
mod shortvec;

pub use error::{ParseError, ResolveError};
pub use parse::{
    AccountKeys, AddressResolver, AddressTableLookup, CompiledInstruction, Layout, MessageHeader,
    TransactionView, Version,
};
pub use shortvec::{decode_compact_u16, encode_compact_u16, CompactU16Error};

/// Largest packet accepted, in bytes (IPv6 minimum MTU minus headers, as in Solana).
pub const PACKET_DATA_SIZE: usize = 1232;

/// Largest number of account keys a transaction may load (static plus table lookups).
pub const MAX_ACCOUNT_KEYS: usize = 256;

/// Most top-level instructions a transaction may carry: 64 (SIMD-0160, "Static instruction
/// limit"; Agave's sigverify gate `SanitizedTransactionView::try_new_sanitized` with
/// `SanitizeConfig::max_instructions = 64`). A 65-instruction packet fits in 1232 bytes, so
/// the packet size does not imply this limit.
pub const MAX_INSTRUCTIONS: usize = 64;

/// Most account indexes one instruction may list: 255 (SIMD-0406, "Limit instruction
/// accounts"; Agave's `SanitizeConfig::max_accounts_per_instruction = 255`). The indexes
/// are bytes, so repeats are allowed and 256 of them fit in a packet.
pub const MAX_ACCOUNTS_PER_INSTRUCTION: usize = 255;

/// Fee charged per signature, in lamports.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5000;
