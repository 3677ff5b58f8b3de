//! SPL Token instruction data, decoded as `spl-token` `TokenInstruction::unpack` does: a
//! one-byte tag, then the fields (little-endian; a `COption<Pubkey>` argument is one byte,
//! 0 none or 1 some, then the key when some). Data that does not decode, or an unknown
//! tag, is [`TokenError::InvalidInstruction`]; bytes after the fields are ignored.

use crate::Pubkey;

use super::error::TokenError;

/// Which authority `SetAuthority` changes (`AuthorityType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorityType {
    /// 0: the mint's mint authority.
    MintTokens,
    /// 1: the mint's freeze authority.
    FreezeAccount,
    /// 2: a token account's owner.
    AccountOwner,
    /// 3: a token account's close authority.
    CloseAccount,
}

/// A decoded SPL Token instruction (tags as in `spl-token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the instruction's arguments, named as in spl-token
pub enum TokenInstruction<'a> {
    /// 0 (and 20, `InitializeMint2`, without the rent sysvar account).
    InitializeMint {
        decimals: u8,
        mint_authority: Pubkey,
        freeze_authority: Option<Pubkey>,
        with_rent_sysvar: bool,
    },
    /// 1.
    InitializeAccount,
    /// 2 (and 19, `InitializeMultisig2`, without the rent sysvar account).
    InitializeMultisig { m: u8, with_rent_sysvar: bool },
    /// 3.
    Transfer { amount: u64 },
    /// 4.
    Approve { amount: u64 },
    /// 5.
    Revoke,
    /// 6.
    SetAuthority {
        authority_type: AuthorityType,
        new_authority: Option<Pubkey>,
    },
    /// 7.
    MintTo { amount: u64 },
    /// 8.
    Burn { amount: u64 },
    /// 9.
    CloseAccount,
    /// 10.
    FreezeAccount,
    /// 11.
    ThawAccount,
    /// 12.
    TransferChecked { amount: u64, decimals: u8 },
    /// 13.
    ApproveChecked { amount: u64, decimals: u8 },
    /// 14.
    MintToChecked { amount: u64, decimals: u8 },
    /// 15.
    BurnChecked { amount: u64, decimals: u8 },
    /// 16: the owner in the data, the rent sysvar account.
    InitializeAccount2 { owner: Pubkey },
    /// 17.
    SyncNative,
    /// 18: the owner in the data, no rent sysvar account.
    InitializeAccount3 { owner: Pubkey },
    /// 21.
    GetAccountDataSize,
    /// 22.
    InitializeImmutableOwner,
    /// 23.
    AmountToUiAmount { amount: u64 },
    /// 24.
    UiAmountToAmount { ui_amount: &'a str },
}

fn split_u8(input: &[u8]) -> Result<(u8, &[u8]), TokenError> {
    input
        .split_first()
        .map(|(&b, rest)| (b, rest))
        .ok_or(TokenError::InvalidInstruction)
}

fn split_u64(input: &[u8]) -> Result<(u64, &[u8]), TokenError> {
    input
        .split_first_chunk::<8>()
        .map(|(b, rest)| (u64::from_le_bytes(*b), rest))
        .ok_or(TokenError::InvalidInstruction)
}

fn split_pubkey(input: &[u8]) -> Result<(Pubkey, &[u8]), TokenError> {
    input
        .split_first_chunk::<32>()
        .map(|(b, rest)| (*b, rest))
        .ok_or(TokenError::InvalidInstruction)
}

fn split_pubkey_option(input: &[u8]) -> Result<(Option<Pubkey>, &[u8]), TokenError> {
    match input.split_first() {
        Some((&0, rest)) => Ok((None, rest)),
        Some((&1, rest)) => split_pubkey(rest).map(|(k, rest)| (Some(k), rest)),
        _ => Err(TokenError::InvalidInstruction),
    }
}

impl<'a> TokenInstruction<'a> {
    /// Decodes instruction data.
    ///
    /// # Errors
    /// [`TokenError::InvalidInstruction`] when it does not decode.
    pub fn unpack(input: &'a [u8]) -> Result<Self, TokenError> {
        use TokenInstruction as I;
        let (tag, rest) = split_u8(input)?;
        Ok(match tag {
            0 | 20 => {
                let (decimals, rest) = split_u8(rest)?;
                let (mint_authority, rest) = split_pubkey(rest)?;
                let (freeze_authority, _) = split_pubkey_option(rest)?;
                I::InitializeMint {
                    decimals,
                    mint_authority,
                    freeze_authority,
                    with_rent_sysvar: tag == 0,
                }
            }
            1 => I::InitializeAccount,
            2 | 19 => I::InitializeMultisig {
                m: split_u8(rest)?.0,
                with_rent_sysvar: tag == 2,
            },
            3 | 4 | 7 | 8 | 23 => {
                let (amount, _) = split_u64(rest)?;
                match tag {
                    3 => I::Transfer { amount },
                    4 => I::Approve { amount },
                    7 => I::MintTo { amount },
                    8 => I::Burn { amount },
                    _ => I::AmountToUiAmount { amount },
                }
            }
            5 => I::Revoke,
            6 => {
                let (t, rest) = split_u8(rest)?;
                let authority_type = match t {
                    0 => AuthorityType::MintTokens,
                    1 => AuthorityType::FreezeAccount,
                    2 => AuthorityType::AccountOwner,
                    3 => AuthorityType::CloseAccount,
                    _ => return Err(TokenError::InvalidInstruction),
                };
                let (new_authority, _) = split_pubkey_option(rest)?;
                I::SetAuthority {
                    authority_type,
                    new_authority,
                }
            }
            9 => I::CloseAccount,
            10 => I::FreezeAccount,
            11 => I::ThawAccount,
            12..=15 => {
                let (amount, rest) = split_u64(rest)?;
                let (decimals, _) = split_u8(rest)?;
                match tag {
                    12 => I::TransferChecked { amount, decimals },
                    13 => I::ApproveChecked { amount, decimals },
                    14 => I::MintToChecked { amount, decimals },
                    _ => I::BurnChecked { amount, decimals },
                }
            }
            16 => I::InitializeAccount2 {
                owner: split_pubkey(rest)?.0,
            },
            17 => I::SyncNative,
            18 => I::InitializeAccount3 {
                owner: split_pubkey(rest)?.0,
            },
            21 => I::GetAccountDataSize,
            22 => I::InitializeImmutableOwner,
            24 => I::UiAmountToAmount {
                ui_amount: std::str::from_utf8(rest).map_err(|_| TokenError::InvalidInstruction)?,
            },
            _ => return Err(TokenError::InvalidInstruction),
        })
    }

    /// Encodes the instruction data (the inverse of [`TokenInstruction::unpack`]).
    pub fn pack(&self) -> Vec<u8> {
        use TokenInstruction as I;
        fn key_option(out: &mut Vec<u8>, k: &Option<Pubkey>) {
            match k {
                Some(k) => {
                    out.push(1);
                    out.extend_from_slice(k);
                }
                None => out.push(0),
            }
        }
        let mut out = Vec::with_capacity(35);
        match *self {
            I::InitializeMint {
                decimals,
                mint_authority,
                freeze_authority,
                with_rent_sysvar,
            } => {
                out.push(if with_rent_sysvar { 0 } else { 20 });
                out.push(decimals);
                out.extend_from_slice(&mint_authority);
                key_option(&mut out, &freeze_authority);
            }
            I::InitializeAccount => out.push(1),
            I::InitializeMultisig {
                m,
                with_rent_sysvar,
            } => out.extend_from_slice(&[if with_rent_sysvar { 2 } else { 19 }, m]),
            I::Transfer { amount }
            | I::Approve { amount }
            | I::MintTo { amount }
            | I::Burn { amount }
            | I::AmountToUiAmount { amount } => {
                out.push(match self {
                    I::Transfer { .. } => 3,
                    I::Approve { .. } => 4,
                    I::MintTo { .. } => 7,
                    I::Burn { .. } => 8,
                    _ => 23,
                });
                out.extend_from_slice(&amount.to_le_bytes());
            }
            I::Revoke => out.push(5),
            I::SetAuthority {
                authority_type,
                new_authority,
            } => {
                out.push(6);
                out.push(match authority_type {
                    AuthorityType::MintTokens => 0,
                    AuthorityType::FreezeAccount => 1,
                    AuthorityType::AccountOwner => 2,
                    AuthorityType::CloseAccount => 3,
                });
                key_option(&mut out, &new_authority);
            }
            I::CloseAccount => out.push(9),
            I::FreezeAccount => out.push(10),
            I::ThawAccount => out.push(11),
            I::TransferChecked { amount, decimals }
            | I::ApproveChecked { amount, decimals }
            | I::MintToChecked { amount, decimals }
            | I::BurnChecked { amount, decimals } => {
                out.push(match self {
                    I::TransferChecked { .. } => 12,
                    I::ApproveChecked { .. } => 13,
                    I::MintToChecked { .. } => 14,
                    _ => 15,
                });
                out.extend_from_slice(&amount.to_le_bytes());
                out.push(decimals);
            }
            I::InitializeAccount2 { owner } | I::InitializeAccount3 { owner } => {
                out.push(if matches!(self, I::InitializeAccount2 { .. }) {
                    16
                } else {
                    18
                });
                out.extend_from_slice(&owner);
            }
            I::SyncNative => out.push(17),
            I::GetAccountDataSize => out.push(21),
            I::InitializeImmutableOwner => out.push(22),
            I::UiAmountToAmount { ui_amount } => {
                out.push(24);
                out.extend_from_slice(ui_amount.as_bytes());
            }
        }
        out
    }

    /// Compute units SPL Token 3.x consumes for it on mainnet (the `CU (SPL Token)` column
    /// of `febo/p-token`'s README, measured on Solana 2.1.0). Instructions that table
    /// does not list (`SyncNative`, `GetAccountDataSize`, `InitializeImmutableOwner`)
    /// are given the smallest figure it lists, `Revoke`'s 2,677 (an estimate).
    pub fn units(&self) -> u64 {
        use TokenInstruction as I;
        match self {
            I::InitializeMint {
                with_rent_sysvar: true,
                ..
            } => 2_967,
            I::InitializeMint { .. } => 2_827,
            I::InitializeAccount => 4_527,
            I::InitializeMultisig {
                with_rent_sysvar: true,
                ..
            } => 2_973,
            I::InitializeMultisig { .. } => 2_826,
            I::Transfer { .. } => 4_645,
            I::Approve { .. } => 2_904,
            I::Revoke => 2_677,
            I::SetAuthority { .. } => 3_167,
            I::MintTo { .. } => 4_538,
            I::Burn { .. } => 4_753,
            I::CloseAccount => 2_916,
            I::FreezeAccount => 4_265,
            I::ThawAccount => 4_267,
            I::TransferChecked { .. } => 6_201,
            I::ApproveChecked { .. } => 4_459,
            I::MintToChecked { .. } => 4_546,
            I::BurnChecked { .. } => 4_755,
            I::InitializeAccount2 { .. } => 4_388,
            I::InitializeAccount3 { .. } => 4_240,
            I::AmountToUiAmount { .. } => 2_501,
            I::UiAmountToAmount { .. } => 3_161,
            I::SyncNative | I::GetAccountDataSize | I::InitializeImmutableOwner => 2_677,
        }
    }
}
