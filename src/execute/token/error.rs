//! SPL Token's errors, numbered as its `TokenError` (`spl-token` `error.rs`): the program
//! fails with [`InstructionError::Custom`] holding that number.

use super::super::error::InstructionError;

/// SPL Token's `TokenError`, in its numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TokenError {
    /// 0: lamport balance below rent-exempt threshold.
    NotRentExempt = 0,
    /// 1: insufficient funds (tokens, or the delegate's allowance).
    InsufficientFunds = 1,
    /// 2: invalid mint.
    InvalidMint = 2,
    /// 3: account not associated with this mint.
    MintMismatch = 3,
    /// 4: owner does not match.
    OwnerMismatch = 4,
    /// 5: this token's supply is fixed (no mint authority).
    FixedSupply = 5,
    /// 6: the account or mint is already initialized.
    AlreadyInUse = 6,
    /// 7: invalid number of provided signers.
    InvalidNumberOfProvidedSigners = 7,
    /// 8: invalid number of required signers.
    InvalidNumberOfRequiredSigners = 8,
    /// 9: state is uninitialized.
    UninitializedState = 9,
    /// 10: instruction does not support native tokens.
    NativeNotSupported = 10,
    /// 11: a non-native account can only be closed if its balance is zero.
    NonNativeHasBalance = 11,
    /// 12: invalid instruction (data that does not decode).
    InvalidInstruction = 12,
    /// 13: state is invalid for the requested operation.
    InvalidState = 13,
    /// 14: operation overflowed.
    Overflow = 14,
    /// 15: account does not support the specified authority type.
    AuthorityTypeNotSupported = 15,
    /// 16: this token mint cannot freeze accounts.
    MintCannotFreeze = 16,
    /// 17: account is frozen.
    AccountFrozen = 17,
    /// 18: the mint's decimals differ from those given.
    MintDecimalsMismatch = 18,
    /// 19: instruction does not support non-native tokens.
    NonNativeNotSupported = 19,
}

impl TokenError {
    /// Its number.
    pub fn code(self) -> u32 {
        self as u32
    }
}

impl From<TokenError> for InstructionError {
    fn from(e: TokenError) -> Self {
        InstructionError::Custom(e.code())
    }
}
