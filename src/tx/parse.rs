//! The zero-copy transaction view.

use std::collections::HashSet;

use super::{
    decode_compact_u16, ParseError, ResolveError, MAX_ACCOUNTS_PER_INSTRUCTION, MAX_ACCOUNT_KEYS,
    MAX_INSTRUCTIONS, PACKET_DATA_SIZE,
};
use crate::sigverify::SigItem;
use crate::{Hash, Pubkey, Signature};

/// Message format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// The original format (first message byte below 0x80).
    Legacy,
    /// Versioned message, version 0 (address-table lookups).
    V0,
}

impl Version {
    /// `"legacy"` or `"v0"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::V0 => "v0",
        }
    }
}

/// The three header counts of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MessageHeader {
    /// Signatures required; the first this many static keys are the signers.
    pub num_required_signatures: u8,
    /// The last this many signers are read-only.
    pub num_readonly_signed_accounts: u8,
    /// The last this many unsigned static keys are read-only.
    pub num_readonly_unsigned_accounts: u8,
}

/// An instruction as on the wire: indexes into the account key list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompiledInstruction<'a> {
    /// Index of the program's key (always a static key, never 0).
    pub program_id_index: u8,
    /// Indexes of the instruction's accounts in the loaded key list.
    pub accounts: &'a [u8],
    /// Opaque instruction data.
    pub data: &'a [u8],
}

/// A v0 address-table lookup: keys to load from an on-chain table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressTableLookup<'a> {
    /// The table account.
    pub account_key: &'a Pubkey,
    /// Table indexes loaded as writable.
    pub writable_indexes: &'a [u8],
    /// Table indexes loaded as read-only.
    pub readonly_indexes: &'a [u8],
}

/// Resolves address-table lookups against chain state.
pub trait AddressResolver: Send + Sync {
    /// The keys a lookup loads: (writable, read-only), in the lookup's index order.
    ///
    /// # Errors
    /// When the table is unknown or an index is out of range.
    fn resolve(
        &self,
        lookup: &AddressTableLookup<'_>,
    ) -> Result<(Vec<Pubkey>, Vec<Pubkey>), ResolveError>;
}

/// Every account key a transaction loads, in index order, with access flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountKeys {
    /// Static keys, then all lookups' writable keys, then all lookups' read-only keys.
    pub keys: Vec<Pubkey>,
    /// `writable[i]` tells whether `keys[i]` may be written.
    pub writable: Vec<bool>,
    /// The first `num_signers` keys are signers.
    pub num_signers: usize,
}

/// A parsed transaction borrowing the packet: nothing is copied but small index tables
/// (bounded by the packet size).
#[derive(Clone, Debug)]
pub struct TransactionView<'a> {
    packet: &'a [u8],
    signatures: &'a [Signature],
    message: &'a [u8],
    version: Version,
    header: MessageHeader,
    static_keys: &'a [Pubkey],
    recent_blockhash: &'a Hash,
    instructions: Vec<CompiledInstruction<'a>>,
    lookups: Vec<AddressTableLookup<'a>>,
    num_lookup_writable: usize,
    num_lookup_readonly: usize,
}

/// A bounds-checked reader over the packet.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn len(&mut self, field: &'static str) -> Result<usize, ParseError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let (value, used) = decode_compact_u16(rest).map_err(|e| ParseError::compact(e, field))?;
        self.pos += used;
        Ok(usize::from(value))
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(ParseError::Truncated { field })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(ParseError::Truncated { field })?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(ParseError::Truncated { field })?;
        self.pos = end;
        Ok(out)
    }

    fn array_list<const N: usize>(
        &mut self,
        count: usize,
        field: &'static str,
    ) -> Result<&'a [[u8; N]], ParseError> {
        let len = count
            .checked_mul(N)
            .ok_or(ParseError::Truncated { field })?;
        let bytes = self.take(len, field)?;
        let (arrays, rest) = bytes.as_chunks::<N>();
        debug_assert!(rest.is_empty());
        Ok(arrays)
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
}

impl<'a> TransactionView<'a> {
    /// Parses and sanity-checks a packet.
    ///
    /// # Errors
    /// The first sanity rule the packet breaks, as a [`ParseError`].
    pub fn parse(packet: &'a [u8]) -> Result<Self, ParseError> {
        if packet.len() > PACKET_DATA_SIZE {
            return Err(ParseError::PacketTooLong { len: packet.len() });
        }
        let mut r = Reader {
            bytes: packet,
            pos: 0,
        };
        let num_signatures = r.len("num_signatures")?;
        let signatures = r.array_list::<64>(num_signatures, "signatures")?;
        let message_start = r.pos;

        let first = r.u8("message header")?;
        let (version, num_required_signatures) = if first & 0x80 != 0 {
            let version = first & 0x7f;
            if version != 0 {
                return Err(ParseError::UnknownVersion { version });
            }
            (Version::V0, r.u8("message header")?)
        } else {
            (Version::Legacy, first)
        };
        let header = MessageHeader {
            num_required_signatures,
            num_readonly_signed_accounts: r.u8("message header")?,
            num_readonly_unsigned_accounts: r.u8("message header")?,
        };
        let num_static = r.len("num_static_keys")?;
        let static_keys = r.array_list::<32>(num_static, "static keys")?;
        let recent_blockhash =
            r.array_list::<32>(1, "recent blockhash")?
                .first()
                .ok_or(ParseError::Truncated {
                    field: "recent blockhash",
                })?;

        let num_instructions = r.len("num_instructions")?;
        // every instruction takes at least 3 bytes: the allocation is bounded by the packet
        let mut instructions = Vec::with_capacity(num_instructions.min(r.remaining() / 3));
        for _ in 0..num_instructions {
            let program_id_index = r.u8("instruction program index")?;
            let n = r.len("instruction account count")?;
            let accounts = r.take(n, "instruction accounts")?;
            let n = r.len("instruction data length")?;
            let data = r.take(n, "instruction data")?;
            instructions.push(CompiledInstruction {
                program_id_index,
                accounts,
                data,
            });
        }

        let mut lookups = Vec::new();
        let (mut num_lookup_writable, mut num_lookup_readonly) = (0usize, 0usize);
        if version == Version::V0 {
            let n = r.len("num_address_table_lookups")?;
            // every lookup takes at least 34 bytes
            lookups.reserve(n.min(r.remaining() / 34));
            for _ in 0..n {
                let account_key = r.array_list::<32>(1, "lookup table key")?.first().ok_or(
                    ParseError::Truncated {
                        field: "lookup table key",
                    },
                )?;
                let w = r.len("lookup writable count")?;
                let writable_indexes = r.take(w, "lookup writable indexes")?;
                let ro = r.len("lookup readonly count")?;
                let readonly_indexes = r.take(ro, "lookup readonly indexes")?;
                num_lookup_writable += w;
                num_lookup_readonly += ro;
                lookups.push(AddressTableLookup {
                    account_key,
                    writable_indexes,
                    readonly_indexes,
                });
            }
        }
        if r.remaining() > 0 {
            return Err(ParseError::TrailingBytes {
                count: r.remaining(),
            });
        }

        let view = Self {
            packet,
            signatures,
            message: packet.get(message_start..).unwrap_or_default(),
            version,
            header,
            static_keys,
            recent_blockhash,
            instructions,
            lookups,
            num_lookup_writable,
            num_lookup_readonly,
        };
        view.sanitize()?;
        Ok(view)
    }

    fn sanitize(&self) -> Result<(), ParseError> {
        let h = self.header;
        let required = usize::from(h.num_required_signatures);
        if required == 0 {
            return Err(ParseError::NoRequiredSignatures);
        }
        if self.signatures.len() != required {
            return Err(ParseError::SignatureCountMismatch {
                signatures: self.signatures.len(),
                required,
            });
        }
        if h.num_readonly_signed_accounts >= h.num_required_signatures {
            return Err(ParseError::FeePayerNotWritable {
                readonly_signed: h.num_readonly_signed_accounts,
                required: h.num_required_signatures,
            });
        }
        let needed = required + usize::from(h.num_readonly_unsigned_accounts);
        if needed > self.static_keys.len() {
            return Err(ParseError::NotEnoughStaticKeys {
                needed,
                static_keys: self.static_keys.len(),
            });
        }
        let total = self.num_account_keys();
        if total > MAX_ACCOUNT_KEYS {
            return Err(ParseError::TooManyAccountKeys { total });
        }
        for (lookup, l) in self.lookups.iter().enumerate() {
            if l.writable_indexes.is_empty() && l.readonly_indexes.is_empty() {
                return Err(ParseError::EmptyAddressTableLookup { lookup });
            }
        }
        if self.instructions.len() > MAX_INSTRUCTIONS {
            return Err(ParseError::TooManyInstructions {
                count: self.instructions.len(),
            });
        }
        for (instruction, ix) in self.instructions.iter().enumerate() {
            if ix.accounts.len() > MAX_ACCOUNTS_PER_INSTRUCTION {
                return Err(ParseError::TooManyInstructionAccounts {
                    instruction,
                    count: ix.accounts.len(),
                });
            }
            if ix.program_id_index == 0 {
                return Err(ParseError::ProgramIdIsFeePayer { instruction });
            }
            if usize::from(ix.program_id_index) >= self.static_keys.len() {
                return Err(ParseError::ProgramIdIndexOutOfRange {
                    instruction,
                    index: ix.program_id_index,
                    static_keys: self.static_keys.len(),
                });
            }
            if let Some(&index) = ix.accounts.iter().find(|&&a| usize::from(a) >= total) {
                return Err(ParseError::AccountIndexOutOfRange {
                    instruction,
                    index,
                    keys: total,
                });
            }
        }
        let mut seen = HashSet::with_capacity(self.static_keys.len());
        for (index, key) in self.static_keys.iter().enumerate() {
            if !seen.insert(key) {
                return Err(ParseError::DuplicateAccountKey { index });
            }
        }
        Ok(())
    }

    /// The whole packet.
    pub fn packet(&self) -> &'a [u8] {
        self.packet
    }

    /// The signatures, in signer order.
    pub fn signatures(&self) -> &'a [Signature] {
        self.signatures
    }

    /// The signed message bytes (for v0 including the version byte).
    pub fn message(&self) -> &'a [u8] {
        self.message
    }

    /// Legacy or v0.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header counts.
    pub fn header(&self) -> MessageHeader {
        self.header
    }

    /// The static account keys.
    pub fn static_keys(&self) -> &'a [Pubkey] {
        self.static_keys
    }

    /// The recent blockhash.
    pub fn recent_blockhash(&self) -> &'a Hash {
        self.recent_blockhash
    }

    /// The instructions.
    pub fn instructions(&self) -> &[CompiledInstruction<'a>] {
        &self.instructions
    }

    /// The v0 address-table lookups (empty for legacy).
    pub fn address_table_lookups(&self) -> &[AddressTableLookup<'a>] {
        &self.lookups
    }

    /// The fee payer: static key 0, always a writable signer.
    pub fn fee_payer(&self) -> &'a Pubkey {
        // sanitize guarantees at least one static key (required >= 1 <= static keys)
        &self.static_keys[0]
    }

    /// Static keys plus every key the lookups load.
    pub fn num_account_keys(&self) -> usize {
        self.static_keys.len() + self.num_lookup_writable + self.num_lookup_readonly
    }

    /// Whether loaded key `i` is a signer.
    pub fn is_signer(&self, i: usize) -> bool {
        i < usize::from(self.header.num_required_signatures)
    }

    /// Whether loaded key `i` (static keys, then lookups' writable, then lookups'
    /// read-only) is writable.
    pub fn is_writable(&self, i: usize) -> bool {
        let h = self.header;
        let required = usize::from(h.num_required_signatures);
        let num_static = self.static_keys.len();
        if i < required {
            i < required - usize::from(h.num_readonly_signed_accounts)
        } else if i < num_static {
            i < num_static.saturating_sub(usize::from(h.num_readonly_unsigned_accounts))
        } else {
            i < num_static + self.num_lookup_writable
        }
    }

    /// The (pubkey, message, signature) triples to verify, signer order.
    pub fn sig_items(&self) -> impl ExactSizeIterator<Item = SigItem<'a>> + '_ {
        let message = self.message;
        self.signatures
            .iter()
            .zip(self.static_keys.iter())
            .map(move |(signature, pubkey)| SigItem {
                pubkey,
                message,
                signature,
            })
    }

    /// Every loaded key with access flags, resolving lookups with `resolver`.
    ///
    /// # Errors
    /// [`ResolveError::NoResolver`] when the transaction has lookups and no resolver is
    /// given; the resolver's errors; a key loaded twice.
    pub fn account_keys(
        &self,
        resolver: Option<&dyn AddressResolver>,
    ) -> Result<AccountKeys, ResolveError> {
        let mut keys = Vec::with_capacity(self.num_account_keys());
        keys.extend_from_slice(self.static_keys);
        if !self.lookups.is_empty() {
            let resolver = resolver.ok_or(ResolveError::NoResolver)?;
            let mut readonly = Vec::with_capacity(self.num_lookup_readonly);
            for lookup in &self.lookups {
                let (w, r) = resolver.resolve(lookup)?;
                if w.len() != lookup.writable_indexes.len()
                    || r.len() != lookup.readonly_indexes.len()
                {
                    return Err(ResolveError::WrongKeyCount {
                        expected: lookup.writable_indexes.len() + lookup.readonly_indexes.len(),
                        got: w.len() + r.len(),
                    });
                }
                keys.extend_from_slice(&w);
                readonly.extend_from_slice(&r);
            }
            keys.extend_from_slice(&readonly);
            let mut seen = HashSet::with_capacity(keys.len());
            for (index, key) in keys.iter().enumerate() {
                if !seen.insert(key) {
                    return Err(ResolveError::DuplicateAccountKey { index });
                }
            }
        }
        let writable = (0..keys.len()).map(|i| self.is_writable(i)).collect();
        Ok(AccountKeys {
            keys,
            writable,
            num_signers: usize::from(self.header.num_required_signatures),
        })
    }
}

/// A byte range of the packet (packets are at most [`PACKET_DATA_SIZE`] bytes, so `u16`
/// offsets suffice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u16,
    len: u16,
}

impl Span {
    /// The range `part` occupies in `packet`; `part` must be a sub-slice of `packet`.
    fn of(packet: &[u8], part: &[u8]) -> Self {
        let start = (part.as_ptr() as usize).wrapping_sub(packet.as_ptr() as usize);
        debug_assert!(start + part.len() <= packet.len(), "not a sub-slice");
        Self {
            start: start as u16,
            len: part.len() as u16,
        }
    }

    fn get(self, packet: &[u8]) -> Option<&[u8]> {
        let start = usize::from(self.start);
        packet.get(start..start + usize::from(self.len))
    }

    fn arrays<const N: usize>(self, packet: &[u8]) -> Option<&[[u8; N]]> {
        match self.get(packet)?.as_chunks::<N>() {
            (arrays, []) => Some(arrays),
            _ => None,
        }
    }
}

/// Where one instruction's parts lie in the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InstructionLayout {
    program_id_index: u8,
    accounts: Span,
    data: Span,
}

/// Where one address-table lookup's parts lie in the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LookupLayout {
    account_key: Span,
    writable_indexes: Span,
    readonly_indexes: Span,
}

/// Where a parsed transaction's parts lie in its packet: offsets only, owning no bytes, so
/// it travels with the packet (between threads, say) while a [`TransactionView`] cannot.
/// [`Layout::view`] re-attaches it to the packet without parsing or checking it again;
/// [`Layout::sig_items`] gives the signature triples without even that.
///
/// A layout describes the packet it was taken from ([`TransactionView::layout`]) and no
/// other: given another packet of the same length it gives in-bounds but meaningless parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    packet_len: u16,
    signatures: Span,
    message: Span,
    version: Version,
    header: MessageHeader,
    static_keys: Span,
    recent_blockhash: Span,
    instructions: Vec<InstructionLayout>,
    lookups: Vec<LookupLayout>,
    num_lookup_writable: usize,
    num_lookup_readonly: usize,
}

impl TransactionView<'_> {
    /// The view's [`Layout`]: where its parts lie in the packet.
    pub fn layout(&self) -> Layout {
        let p = self.packet;
        Layout {
            packet_len: p.len() as u16,
            signatures: Span::of(p, self.signatures.as_flattened()),
            message: Span::of(p, self.message),
            version: self.version,
            header: self.header,
            static_keys: Span::of(p, self.static_keys.as_flattened()),
            recent_blockhash: Span::of(p, self.recent_blockhash),
            instructions: self
                .instructions
                .iter()
                .map(|ix| InstructionLayout {
                    program_id_index: ix.program_id_index,
                    accounts: Span::of(p, ix.accounts),
                    data: Span::of(p, ix.data),
                })
                .collect(),
            lookups: self
                .lookups
                .iter()
                .map(|l| LookupLayout {
                    account_key: Span::of(p, l.account_key),
                    writable_indexes: Span::of(p, l.writable_indexes),
                    readonly_indexes: Span::of(p, l.readonly_indexes),
                })
                .collect(),
            num_lookup_writable: self.num_lookup_writable,
            num_lookup_readonly: self.num_lookup_readonly,
        }
    }
}

impl Layout {
    /// The view of `packet`, the packet this layout was taken from, rebuilt from the
    /// offsets alone (no parsing, no sanity checks: the parse that made the layout did
    /// them). `None` when `packet` cannot be that packet (another length).
    pub fn view<'a>(&self, packet: &'a [u8]) -> Option<TransactionView<'a>> {
        if packet.len() != usize::from(self.packet_len) {
            return None;
        }
        let instructions = self
            .instructions
            .iter()
            .map(|ix| {
                Some(CompiledInstruction {
                    program_id_index: ix.program_id_index,
                    accounts: ix.accounts.get(packet)?,
                    data: ix.data.get(packet)?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let lookups = self
            .lookups
            .iter()
            .map(|l| {
                Some(AddressTableLookup {
                    account_key: l.account_key.arrays::<32>(packet)?.first()?,
                    writable_indexes: l.writable_indexes.get(packet)?,
                    readonly_indexes: l.readonly_indexes.get(packet)?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(TransactionView {
            packet,
            signatures: self.signatures.arrays::<64>(packet)?,
            message: self.message.get(packet)?,
            version: self.version,
            header: self.header,
            static_keys: self.static_keys.arrays::<32>(packet)?,
            recent_blockhash: self.recent_blockhash.arrays::<32>(packet)?.first()?,
            instructions,
            lookups,
            num_lookup_writable: self.num_lookup_writable,
            num_lookup_readonly: self.num_lookup_readonly,
        })
    }

    /// The (pubkey, message, signature) triples to verify, signer order, as
    /// [`TransactionView::sig_items`] gives them, straight from the offsets (nothing is
    /// allocated). `None` when `packet` cannot be the layout's packet (another length).
    pub fn sig_items<'a>(
        &self,
        packet: &'a [u8],
    ) -> Option<impl ExactSizeIterator<Item = SigItem<'a>>> {
        if packet.len() != usize::from(self.packet_len) {
            return None;
        }
        let message = self.message.get(packet)?;
        let signatures = self.signatures.arrays::<64>(packet)?;
        let static_keys = self.static_keys.arrays::<32>(packet)?;
        Some(
            signatures
                .iter()
                .zip(static_keys.iter())
                .map(move |(signature, pubkey)| SigItem {
                    pubkey,
                    message,
                    signature,
                }),
        )
    }
}
