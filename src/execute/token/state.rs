//! SPL Token's account layouts, byte for byte (`spl-token` `state.rs`, `Pack` impls):
//! [`Mint`] (82 bytes), [`TokenAccount`] (165 bytes), [`Multisig`] (355 bytes). Integers
//! are little-endian; a `COption<Pubkey>` is a 4-byte tag (`[0,0,0,0]` none,
//! `[1,0,0,0]` some) and 32 bytes, a `COption<u64>` the tag and 8 bytes; a `bool` is one
//! byte, 0 or 1. Any other tag, bool or state byte is [`InstructionError::InvalidAccountData`],
//! as is a wrong length.

use crate::Pubkey;

use super::super::error::InstructionError;

/// Fixed-size little-endian reader over account data; running out or a bad tag is
/// invalid account data.
struct Unpacker<'a>(&'a [u8]);

impl Unpacker<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], InstructionError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(InstructionError::InvalidAccountData)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, InstructionError> {
        self.take::<1>().map(|[b]| b)
    }

    fn u64(&mut self) -> Result<u64, InstructionError> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    fn bool(&mut self) -> Result<bool, InstructionError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(InstructionError::InvalidAccountData),
        }
    }

    fn tag(&mut self) -> Result<bool, InstructionError> {
        match self.take::<4>()? {
            [0, 0, 0, 0] => Ok(false),
            [1, 0, 0, 0] => Ok(true),
            _ => Err(InstructionError::InvalidAccountData),
        }
    }

    fn coption_key(&mut self) -> Result<Option<Pubkey>, InstructionError> {
        let some = self.tag()?;
        let key = self.take::<32>()?;
        Ok(some.then_some(key))
    }

    fn coption_u64(&mut self) -> Result<Option<u64>, InstructionError> {
        let some = self.tag()?;
        let v = self.u64()?;
        Ok(some.then_some(v))
    }
}

fn put_coption_key(out: &mut Vec<u8>, v: &Option<Pubkey>) {
    match v {
        Some(k) => {
            out.extend_from_slice(&[1, 0, 0, 0]);
            out.extend_from_slice(k);
        }
        None => out.extend_from_slice(&[0; 36]),
    }
}

fn put_coption_u64(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(x) => {
            out.extend_from_slice(&[1, 0, 0, 0]);
            out.extend_from_slice(&x.to_le_bytes());
        }
        None => out.extend_from_slice(&[0; 12]),
    }
}

/// A token mint (82 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mint {
    /// Who may mint; `None` is a fixed supply.
    pub mint_authority: Option<Pubkey>,
    /// Tokens in circulation.
    pub supply: u64,
    /// Decimal places of the token's amounts.
    pub decimals: u8,
    /// Whether the mint was initialized.
    pub is_initialized: bool,
    /// Who may freeze accounts of this mint; `None`: nobody.
    pub freeze_authority: Option<Pubkey>,
}

impl Mint {
    /// Packed length.
    pub const LEN: usize = 82;

    /// Decodes `data` whether initialized or not (`Pack::unpack_unchecked`).
    ///
    /// # Errors
    /// [`InstructionError::InvalidAccountData`] on a wrong length or a bad tag.
    pub fn unpack_unchecked(data: &[u8]) -> Result<Self, InstructionError> {
        if data.len() != Self::LEN {
            return Err(InstructionError::InvalidAccountData);
        }
        let mut r = Unpacker(data);
        Ok(Self {
            mint_authority: r.coption_key()?,
            supply: r.u64()?,
            decimals: r.u8()?,
            is_initialized: r.bool()?,
            freeze_authority: r.coption_key()?,
        })
    }

    /// Decodes an initialized mint (`Pack::unpack`).
    ///
    /// # Errors
    /// As [`Mint::unpack_unchecked`], and [`InstructionError::UninitializedAccount`].
    pub fn unpack(data: &[u8]) -> Result<Self, InstructionError> {
        let m = Self::unpack_unchecked(data)?;
        if !m.is_initialized {
            return Err(InstructionError::UninitializedAccount);
        }
        Ok(m)
    }

    /// The 82 bytes.
    pub fn pack(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        put_coption_key(&mut out, &self.mint_authority);
        out.extend_from_slice(&self.supply.to_le_bytes());
        out.push(self.decimals);
        out.push(u8::from(self.is_initialized));
        put_coption_key(&mut out, &self.freeze_authority);
        out
    }
}

/// A token account's state byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccountState {
    /// Not yet initialized (0).
    #[default]
    Uninitialized,
    /// Usable (1).
    Initialized,
    /// Frozen by the mint's freeze authority (2): no transfer, approve, burn or mint.
    Frozen,
}

/// A token account (165 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenAccount {
    /// The mint of its tokens.
    pub mint: Pubkey,
    /// Its owner (the wallet).
    pub owner: Pubkey,
    /// Tokens held.
    pub amount: u64,
    /// Who may spend up to `delegated_amount` of them besides the owner.
    pub delegate: Option<Pubkey>,
    /// Uninitialized, initialized or frozen.
    pub state: AccountState,
    /// For a wrapped-SOL account, the rent-exempt reserve its lamports keep beyond
    /// `amount`.
    pub is_native: Option<u64>,
    /// Tokens the delegate may still spend.
    pub delegated_amount: u64,
    /// Who may close the account; `None`: the owner.
    pub close_authority: Option<Pubkey>,
}

impl TokenAccount {
    /// Packed length.
    pub const LEN: usize = 165;

    /// An initialized, non-native account holding `amount` of `mint` for `owner`.
    pub fn initialized(mint: Pubkey, owner: Pubkey, amount: u64) -> Self {
        Self {
            mint,
            owner,
            amount,
            state: AccountState::Initialized,
            ..Self::default()
        }
    }

    /// Decodes `data` whether initialized or not (`Pack::unpack_unchecked`).
    ///
    /// # Errors
    /// [`InstructionError::InvalidAccountData`] on a wrong length, a bad tag or state.
    pub fn unpack_unchecked(data: &[u8]) -> Result<Self, InstructionError> {
        if data.len() != Self::LEN {
            return Err(InstructionError::InvalidAccountData);
        }
        let mut r = Unpacker(data);
        Ok(Self {
            mint: r.take::<32>()?,
            owner: r.take::<32>()?,
            amount: r.u64()?,
            delegate: r.coption_key()?,
            state: match r.u8()? {
                0 => AccountState::Uninitialized,
                1 => AccountState::Initialized,
                2 => AccountState::Frozen,
                _ => return Err(InstructionError::InvalidAccountData),
            },
            is_native: r.coption_u64()?,
            delegated_amount: r.u64()?,
            close_authority: r.coption_key()?,
        })
    }

    /// Decodes an initialized account (`Pack::unpack`).
    ///
    /// # Errors
    /// As [`TokenAccount::unpack_unchecked`], and [`InstructionError::UninitializedAccount`].
    pub fn unpack(data: &[u8]) -> Result<Self, InstructionError> {
        let a = Self::unpack_unchecked(data)?;
        if a.state == AccountState::Uninitialized {
            return Err(InstructionError::UninitializedAccount);
        }
        Ok(a)
    }

    /// The 165 bytes.
    pub fn pack(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(&self.mint);
        out.extend_from_slice(&self.owner);
        out.extend_from_slice(&self.amount.to_le_bytes());
        put_coption_key(&mut out, &self.delegate);
        out.push(match self.state {
            AccountState::Uninitialized => 0,
            AccountState::Initialized => 1,
            AccountState::Frozen => 2,
        });
        put_coption_u64(&mut out, self.is_native);
        out.extend_from_slice(&self.delegated_amount.to_le_bytes());
        put_coption_key(&mut out, &self.close_authority);
        out
    }

    /// Whether it is initialized (not [`AccountState::Uninitialized`]).
    pub fn is_initialized(&self) -> bool {
        self.state != AccountState::Uninitialized
    }

    /// Whether it is frozen.
    pub fn is_frozen(&self) -> bool {
        self.state == AccountState::Frozen
    }

    /// Whether it holds wrapped SOL.
    pub fn is_native(&self) -> bool {
        self.is_native.is_some()
    }
}

/// Most signers of a multisig (`MAX_SIGNERS`).
pub const MAX_SIGNERS: usize = 11;

/// An m-of-n multisig authority (355 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Multisig {
    /// Signatures required.
    pub m: u8,
    /// Valid signers (the first `n` of `signers`).
    pub n: u8,
    /// Whether it was initialized.
    pub is_initialized: bool,
    /// The signer keys.
    pub signers: [Pubkey; MAX_SIGNERS],
}

impl Multisig {
    /// Packed length.
    pub const LEN: usize = 355;

    /// Decodes `data` whether initialized or not.
    ///
    /// # Errors
    /// [`InstructionError::InvalidAccountData`] on a wrong length or a bad bool.
    pub fn unpack_unchecked(data: &[u8]) -> Result<Self, InstructionError> {
        if data.len() != Self::LEN {
            return Err(InstructionError::InvalidAccountData);
        }
        let mut r = Unpacker(data);
        let m = r.u8()?;
        let n = r.u8()?;
        let is_initialized = r.bool()?;
        let mut signers = [[0u8; 32]; MAX_SIGNERS];
        for s in signers.iter_mut() {
            *s = r.take::<32>()?;
        }
        Ok(Self {
            m,
            n,
            is_initialized,
            signers,
        })
    }

    /// Decodes an initialized multisig.
    ///
    /// # Errors
    /// As [`Multisig::unpack_unchecked`], and [`InstructionError::UninitializedAccount`].
    pub fn unpack(data: &[u8]) -> Result<Self, InstructionError> {
        let m = Self::unpack_unchecked(data)?;
        if !m.is_initialized {
            return Err(InstructionError::UninitializedAccount);
        }
        Ok(m)
    }

    /// The 355 bytes.
    pub fn pack(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(self.m);
        out.push(self.n);
        out.push(u8::from(self.is_initialized));
        for s in &self.signers {
            out.extend_from_slice(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_trip_at_their_lengths() {
        let mint = Mint {
            mint_authority: Some([1; 32]),
            supply: 42,
            decimals: 6,
            is_initialized: true,
            freeze_authority: None,
        };
        let bytes = mint.pack();
        assert_eq!(bytes.len(), Mint::LEN);
        assert_eq!(&bytes[..4], &[1, 0, 0, 0]);
        assert_eq!(&bytes[36..44], &42u64.to_le_bytes());
        assert_eq!((bytes[44], bytes[45]), (6, 1));
        assert_eq!(Mint::unpack(&bytes), Ok(mint));
        let account = TokenAccount {
            mint: [2; 32],
            owner: [3; 32],
            amount: 7,
            delegate: Some([4; 32]),
            state: AccountState::Frozen,
            is_native: Some(2_039_280),
            delegated_amount: 5,
            close_authority: Some([5; 32]),
        };
        let bytes = account.pack();
        assert_eq!(bytes.len(), TokenAccount::LEN);
        assert_eq!(bytes[108], 2, "state at offset 108");
        assert_eq!(&bytes[64..72], &7u64.to_le_bytes(), "amount at offset 64");
        assert_eq!(TokenAccount::unpack(&bytes), Ok(account));
        let multisig = Multisig {
            m: 2,
            n: 3,
            is_initialized: true,
            signers: [[9; 32]; MAX_SIGNERS],
        };
        assert_eq!(multisig.pack().len(), Multisig::LEN);
        assert_eq!(Multisig::unpack(&multisig.pack()), Ok(multisig));
    }

    #[test]
    fn bad_lengths_tags_and_states_are_invalid_data() {
        let bad = InstructionError::InvalidAccountData;
        assert_eq!(Mint::unpack(&[0; 81]), Err(bad.clone()));
        assert_eq!(
            Mint::unpack(&[0; 82]),
            Err(InstructionError::UninitializedAccount)
        );
        let mut m = Mint::default().pack();
        m[0] = 2;
        assert_eq!(Mint::unpack_unchecked(&m), Err(bad.clone()));
        let mut m = Mint::default().pack();
        m[45] = 2;
        assert_eq!(Mint::unpack_unchecked(&m), Err(bad.clone()));
        assert_eq!(TokenAccount::unpack(&[0; 166]), Err(bad.clone()));
        assert_eq!(
            TokenAccount::unpack(&[0; 165]),
            Err(InstructionError::UninitializedAccount)
        );
        let mut a = TokenAccount::default().pack();
        a[108] = 3;
        assert_eq!(TokenAccount::unpack_unchecked(&a), Err(bad.clone()));
        assert_eq!(Multisig::unpack(&[0; 354]), Err(bad));
    }
}
