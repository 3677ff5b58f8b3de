//! Building and signing transactions (tests, the workload generator, tools).
//!
//! [`MessageSpec`] is the owned description of a message; [`encode_message`] writes its wire
//! bytes, [`sign_message`] prefixes the signatures, and [`MessageSpec::from_view`] reads a
//! parsed transaction back, so `parse(build(x))` gives `x` again.

use ed25519_dalek::{Signer, SigningKey};

use super::{
    encode_compact_u16, AddressTableLookup, CompiledInstruction, MessageHeader, TransactionView,
    Version,
};
use crate::{Hash, Pubkey};

/// The System program's id: 32 zero bytes.
pub const SYSTEM_PROGRAM_ID: Pubkey = [0; 32];

/// System instruction discriminant: CreateAccount.
pub const SYSTEM_CREATE_ACCOUNT: u32 = 0;
/// System instruction discriminant: Transfer.
pub const SYSTEM_TRANSFER: u32 = 2;

/// An owned instruction.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct InstructionSpec {
    /// Index of the program's key among the static keys.
    pub program_id_index: u8,
    /// Indexes of the instruction's accounts in the loaded key list.
    pub accounts: Vec<u8>,
    /// Instruction data.
    pub data: Vec<u8>,
}

/// An owned address-table lookup.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LookupSpec {
    /// The table account.
    pub account_key: Pubkey,
    /// Indexes loaded as writable.
    pub writable_indexes: Vec<u8>,
    /// Indexes loaded as read-only.
    pub readonly_indexes: Vec<u8>,
}

/// An owned message, legacy or v0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageSpec {
    /// Legacy or v0 (lookups are written only for v0).
    pub version: Version,
    /// Header counts.
    pub header: MessageHeader,
    /// Static account keys (signers first).
    pub static_keys: Vec<Pubkey>,
    /// Recent blockhash.
    pub recent_blockhash: Hash,
    /// Instructions.
    pub instructions: Vec<InstructionSpec>,
    /// v0 address-table lookups.
    pub lookups: Vec<LookupSpec>,
}

impl MessageSpec {
    /// Reads a parsed transaction's message back into its owned form.
    pub fn from_view(view: &TransactionView<'_>) -> Self {
        Self {
            version: view.version(),
            header: view.header(),
            static_keys: view.static_keys().to_vec(),
            recent_blockhash: *view.recent_blockhash(),
            instructions: view
                .instructions()
                .iter()
                .map(|ix: &CompiledInstruction<'_>| InstructionSpec {
                    program_id_index: ix.program_id_index,
                    accounts: ix.accounts.to_vec(),
                    data: ix.data.to_vec(),
                })
                .collect(),
            lookups: view
                .address_table_lookups()
                .iter()
                .map(|l: &AddressTableLookup<'_>| LookupSpec {
                    account_key: *l.account_key,
                    writable_indexes: l.writable_indexes.to_vec(),
                    readonly_indexes: l.readonly_indexes.to_vec(),
                })
                .collect(),
        }
    }
}

/// Appends a compact-u16 length; lengths past 65535 are clamped (the result then fails to
/// parse, which is what a builder of an oversize message deserves, not a panic).
fn put_len(len: usize, out: &mut Vec<u8>) {
    encode_compact_u16(u16::try_from(len).unwrap_or(u16::MAX), out);
}

/// The wire bytes of a message.
pub fn encode_message(spec: &MessageSpec) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if spec.version == Version::V0 {
        out.push(0x80);
    }
    out.push(spec.header.num_required_signatures);
    out.push(spec.header.num_readonly_signed_accounts);
    out.push(spec.header.num_readonly_unsigned_accounts);
    put_len(spec.static_keys.len(), &mut out);
    for key in &spec.static_keys {
        out.extend_from_slice(key);
    }
    out.extend_from_slice(&spec.recent_blockhash);
    put_len(spec.instructions.len(), &mut out);
    for ix in &spec.instructions {
        out.push(ix.program_id_index);
        put_len(ix.accounts.len(), &mut out);
        out.extend_from_slice(&ix.accounts);
        put_len(ix.data.len(), &mut out);
        out.extend_from_slice(&ix.data);
    }
    if spec.version == Version::V0 {
        put_len(spec.lookups.len(), &mut out);
        for l in &spec.lookups {
            out.extend_from_slice(&l.account_key);
            put_len(l.writable_indexes.len(), &mut out);
            out.extend_from_slice(&l.writable_indexes);
            put_len(l.readonly_indexes.len(), &mut out);
            out.extend_from_slice(&l.readonly_indexes);
        }
    }
    out
}

/// A full packet: the signatures of `signers` (in order) over `message`, then `message`.
pub fn sign_message(message: &[u8], signers: &[&SigningKey]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + 64 * signers.len() + message.len());
    put_len(signers.len(), &mut out);
    for key in signers {
        out.extend_from_slice(&key.sign(message).to_bytes());
    }
    out.extend_from_slice(message);
    out
}

/// A packet with the given signature bytes (not necessarily valid) over `message`.
pub fn assemble(signatures: &[[u8; 64]], message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + 64 * signatures.len() + message.len());
    put_len(signatures.len(), &mut out);
    for sig in signatures {
        out.extend_from_slice(sig);
    }
    out.extend_from_slice(message);
    out
}

/// System Transfer instruction data: `u32 2, u64 lamports` (little-endian).
pub fn transfer_data(lamports: u64) -> Vec<u8> {
    let mut data = Vec::with_capacity(12);
    data.extend_from_slice(&SYSTEM_TRANSFER.to_le_bytes());
    data.extend_from_slice(&lamports.to_le_bytes());
    data
}

/// System CreateAccount instruction data: `u32 0, u64 lamports, u64 space, [u8; 32] owner`.
pub fn create_account_data(lamports: u64, space: u64, owner: &Pubkey) -> Vec<u8> {
    let mut data = Vec::with_capacity(52);
    data.extend_from_slice(&SYSTEM_CREATE_ACCOUNT.to_le_bytes());
    data.extend_from_slice(&lamports.to_le_bytes());
    data.extend_from_slice(&space.to_le_bytes());
    data.extend_from_slice(owner);
    data
}

/// The legacy message of a System transfer `from -> to` (from pays the fee).
pub fn system_transfer_message(
    from: &Pubkey,
    to: &Pubkey,
    lamports: u64,
    recent_blockhash: &Hash,
) -> MessageSpec {
    MessageSpec {
        version: Version::Legacy,
        header: MessageHeader {
            num_required_signatures: 1,
            num_readonly_signed_accounts: 0,
            num_readonly_unsigned_accounts: 1,
        },
        static_keys: vec![*from, *to, SYSTEM_PROGRAM_ID],
        recent_blockhash: *recent_blockhash,
        instructions: vec![InstructionSpec {
            program_id_index: 2,
            accounts: vec![0, 1],
            data: transfer_data(lamports),
        }],
        lookups: Vec::new(),
    }
}

/// A signed legacy System transfer of `lamports` from `from` to `to`.
pub fn system_transfer(
    from: &SigningKey,
    to: &Pubkey,
    lamports: u64,
    recent_blockhash: &Hash,
) -> Vec<u8> {
    let spec = system_transfer_message(
        &from.verifying_key().to_bytes(),
        to,
        lamports,
        recent_blockhash,
    );
    sign_message(&encode_message(&spec), &[from])
}
