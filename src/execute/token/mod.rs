//! SPL Token, natively: the classic Token program
//! (`TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`) with its exact account layouts
//! ([`Mint`] 82 bytes, [`TokenAccount`] 165 bytes, [`Multisig`] 355 bytes, see `state`),
//! its instruction encoding ([`TokenInstruction`]) and its error numbering
//! ([`TokenError`], returned as [`InstructionError::Custom`]).
//!
//! Every rule below is `spl-token` 4.0 `processor.rs` (`Processor::process_*`), in its
//! order; "validate owner" is its `validate_owner`: the authority account's key must be
//! the expected one ([`TokenError::OwnerMismatch`]); when that account is a [`Multisig`]
//! owned by this program, at least `m` of its `n` signer keys must be among the
//! instruction's trailing accounts and have signed (each key counted once), else it must
//! itself have signed ([`InstructionError::MissingRequiredSignature`]). "Unpack" fails
//! with [`InstructionError::InvalidAccountData`] on a wrong length or tag and
//! [`InstructionError::UninitializedAccount`] on an uninitialized account. A missing
//! account is [`InstructionError::NotEnoughAccountKeys`]. Writes to accounts this program
//! does not own, or that are not writable, fail by the runtime's rules (as on Solana),
//! and data or lamports a rule leaves unchanged are not written.
//!
//! - **InitializeMint** (0) `[mint, rent sysvar]` / **InitializeMint2** (20) `[mint]`,
//!   data `decimals, mint_authority, freeze_authority option`
//!   (`_process_initialize_mint`): the rent sysvar key must be the Rent sysvar
//!   ([`InstructionError::InvalidArgument`]); unpack the mint unchecked; initialized:
//!   [`TokenError::AlreadyInUse`]; balance under rent exemption for its length:
//!   [`TokenError::NotRentExempt`]; then set the authorities and decimals.
//! - **InitializeAccount** (1) `[account, mint, owner, rent sysvar]`, **InitializeAccount2**
//!   (16) `[account, mint, rent sysvar]` owner in the data, **InitializeAccount3** (18)
//!   `[account, mint]` (`_process_initialize_account`): unpack unchecked; initialized:
//!   `AlreadyInUse`; not rent-exempt: `NotRentExempt`; unless the mint is the native mint
//!   (`So11111111111111111111111111111111111111112`), the mint must be owned by this
//!   program ([`InstructionError::IncorrectProgramId`]) and unpack
//!   ([`TokenError::InvalidMint`]); a native account's `is_native` is its rent-exempt
//!   reserve and its amount its lamports above it (below: [`TokenError::Overflow`]).
//! - **InitializeMultisig** (2) `[multisig, rent sysvar, signers..]` / **InitializeMultisig2**
//!   (19) `[multisig, signers..]`, data `m` (`_process_initialize_multisig`): unpack
//!   unchecked; initialized: `AlreadyInUse`; not rent-exempt: `NotRentExempt`; 1 to 11
//!   signer accounts, else [`TokenError::InvalidNumberOfProvidedSigners`]; `m` in 1..=11,
//!   else [`TokenError::InvalidNumberOfRequiredSigners`].
//! - **Transfer** (3) `[source, destination, authority, signers..]`, **TransferChecked**
//!   (12) `[source, mint, destination, authority, signers..]` (`process_transfer`): unpack
//!   both; either frozen: [`TokenError::AccountFrozen`]; amount above the source's:
//!   [`TokenError::InsufficientFunds`]; mints differ: [`TokenError::MintMismatch`]; checked:
//!   the mint account must be the source's mint (`MintMismatch`), unpack, and its decimals
//!   equal the given ones ([`TokenError::MintDecimalsMismatch`]); authority = the delegate
//!   when the authority account is the source's delegate (validate owner, allowance below
//!   the amount: `InsufficientFunds`, allowance reduced, delegate cleared at 0, except in a
//!   self-transfer), else the owner (validate owner); a self-transfer or a zero amount
//!   requires both accounts owned by this program (`IncorrectProgramId`); a self-transfer
//!   then ends; amounts move (`Overflow`); a native source moves the lamports too.
//! - **Approve** (4) `[source, delegate, owner, signers..]`, **ApproveChecked** (13)
//!   `[source, mint, delegate, owner, signers..]` (`process_approve`): unpack; frozen:
//!   `AccountFrozen`; checked: mint and decimals as for TransferChecked; validate the
//!   owner; set delegate and allowance.
//! - **Revoke** (5) `[source, owner, signers..]` (`process_revoke`): unpack; frozen:
//!   `AccountFrozen`; validate the owner; clear delegate and allowance.
//! - **SetAuthority** (6) `[account or mint, current authority, signers..]`
//!   (`process_set_authority`): a 165-byte account: frozen: `AccountFrozen`; `AccountOwner`
//!   (validate the owner; a new owner is required, else [`TokenError::InvalidInstruction`];
//!   delegate cleared; a native account's close authority cleared) or `CloseAccount`
//!   (validate the close authority, else the owner); other types
//!   [`TokenError::AuthorityTypeNotSupported`]. An 82-byte mint: `MintTokens` (no
//!   authority: [`TokenError::FixedSupply`]) or `FreezeAccount` (none:
//!   [`TokenError::MintCannotFreeze`]), validated, replaced; other types
//!   `AuthorityTypeNotSupported`. Any other length: `InvalidArgument`.
//! - **MintTo** (7) / **MintToChecked** (14) `[mint, destination, authority, signers..]`
//!   (`process_mint_to`): unpack the destination; frozen: `AccountFrozen`; native:
//!   [`TokenError::NativeNotSupported`]; the mint must be its mint (`MintMismatch`); unpack
//!   the mint; checked: `MintDecimalsMismatch`; no mint authority: `FixedSupply`, else
//!   validate it; a zero amount requires both owned by this program; amount and supply
//!   grow (`Overflow`).
//! - **Burn** (8) / **BurnChecked** (15) `[source, mint, authority, signers..]`
//!   (`process_burn`): unpack both; frozen: `AccountFrozen`; native: `NativeNotSupported`;
//!   amount above the balance: `InsufficientFunds`; mint differs: `MintMismatch`; checked:
//!   `MintDecimalsMismatch`; unless the account's owner is the System program or the
//!   incinerator, the authority is the delegate (validated, allowance checked and reduced)
//!   or the owner (validated); a zero amount requires both owned by this program; amount
//!   and supply shrink.
//! - **CloseAccount** (9) `[account, destination, authority, signers..]`
//!   (`process_close_account`): the same account twice: `InvalidAccountData`; unpack; a
//!   non-native account holding tokens: [`TokenError::NonNativeHasBalance`]; unless its
//!   owner is the System program or the incinerator (then the destination must be the
//!   incinerator, else `InvalidAccountData`), validate the close authority (else the
//!   owner); every lamport goes to the destination (`Overflow`); the account is deleted
//!   (`delete_account`: assigned to the System program, its data freed).
//! - **FreezeAccount** (10) / **ThawAccount** (11) `[account, mint, authority, signers..]`
//!   (`process_toggle_freeze_account`): unpack; already frozen (or not frozen, to thaw):
//!   [`TokenError::InvalidState`]; native: `NativeNotSupported`; the mint must be its mint
//!   (`MintMismatch`); unpack the mint; no freeze authority: `MintCannotFreeze`, else
//!   validate it; state set.
//! - **SyncNative** (17) `[account]` (`process_sync_native`): owned by this program
//!   (`IncorrectProgramId`); unpack; not native: [`TokenError::NonNativeNotSupported`];
//!   amount = lamports − reserve (`Overflow`), never lower than before (`InvalidState`).
//! - **GetAccountDataSize** (21) `[mint]`, **AmountToUiAmount** (23) `[mint]`,
//!   **UiAmountToAmount** (24) `[mint]`: the mint owned by this program
//!   (`IncorrectProgramId`) and unpacking (`InvalidMint`); UiAmountToAmount's text must
//!   parse at the mint's decimals (`InvalidArgument`). txpipe keeps no return data, so
//!   these change nothing.
//! - **InitializeImmutableOwner** (22) `[account]`: unpack unchecked; initialized:
//!   `AlreadyInUse`; otherwise nothing (a no-op in this program, as in `spl-token`).
//!
//! Compute units: [`TokenInstruction::units`] per instruction (SPL Token's measured
//! figures), consumed before it runs; data that does not decode costs
//! [`TokenProgram::DECODE_FAILURE_UNITS`].

mod error;
mod instruction;
mod state;

pub use error::TokenError;
pub use instruction::{AuthorityType, TokenInstruction};
pub use state::{AccountState, Mint, Multisig, TokenAccount, MAX_SIGNERS};

use crate::state::key_eq;
use crate::Pubkey;

use super::error::InstructionError;
use super::program::{InstructionContext, Program};
use super::rent;
use super::system::SystemProgram;

/// The SPL Token program id, `TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`.
pub const TOKEN_PROGRAM_ID: Pubkey = [
    0x06, 0xdd, 0xf6, 0xe1, 0xd7, 0x65, 0xa1, 0x93, 0xd9, 0xcb, 0xe1, 0x46, 0xce, 0xeb, 0x79, 0xac,
    0x1c, 0xb4, 0x85, 0xed, 0x5f, 0x5b, 0x37, 0x91, 0x3a, 0x8c, 0xf5, 0x85, 0x7e, 0xff, 0x00, 0xa9,
];

/// The Token-2022 program id, `TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb` (not
/// implemented: named so that what calls it can say so).
pub const TOKEN_2022_PROGRAM_ID: Pubkey = [
    0x06, 0xdd, 0xf6, 0xe1, 0xee, 0x75, 0x8f, 0xde, 0x18, 0x42, 0x5d, 0xbc, 0xe4, 0x6c, 0xcd, 0xda,
    0xb6, 0x1a, 0xfc, 0x4d, 0x83, 0xb9, 0x0d, 0x27, 0xfe, 0xbd, 0xf9, 0x28, 0xd8, 0xa1, 0x8b, 0xfc,
];

/// The wrapped-SOL mint, `So11111111111111111111111111111111111111112`.
pub const NATIVE_MINT: Pubkey = [
    0x06, 0x9b, 0x88, 0x57, 0xfe, 0xab, 0x81, 0x84, 0xfb, 0x68, 0x7f, 0x63, 0x46, 0x18, 0xc0, 0x35,
    0xda, 0xc4, 0x39, 0xdc, 0x1a, 0xeb, 0x3b, 0x55, 0x98, 0xa0, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x01,
];

/// The incinerator, `1nc1nerator11111111111111111111111111111111`.
pub const INCINERATOR: Pubkey = [
    0x00, 0x33, 0x90, 0x72, 0x8d, 0x34, 0x11, 0x60, 0x79, 0xbd, 0xc9, 0x11, 0xbf, 0xff, 0x00, 0xdb,
    0xd4, 0x4d, 0x2e, 0xcd, 0xcc, 0xf7, 0x9c, 0xa6, 0xe1, 0x00, 0x38, 0xe1, 0x00, 0x00, 0x00, 0x00,
];

/// The SPL Token program (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenProgram;

impl TokenProgram {
    /// Compute units of an instruction whose data does not decode (an estimate: SPL
    /// Token fails such data within its entrypoint, before any account is read).
    pub const DECODE_FAILURE_UNITS: u64 = 1_000;

    /// The account data of a new mint.
    pub fn mint_data(
        mint_authority: Option<Pubkey>,
        supply: u64,
        decimals: u8,
        freeze_authority: Option<Pubkey>,
    ) -> Vec<u8> {
        Mint {
            mint_authority,
            supply,
            decimals,
            is_initialized: true,
            freeze_authority,
        }
        .pack()
    }

    /// The account data of an initialized, non-native token account.
    pub fn account_data(mint: Pubkey, owner: Pubkey, amount: u64) -> Vec<u8> {
        TokenAccount::initialized(mint, owner, amount).pack()
    }
}

impl Program for TokenProgram {
    fn estimate_units(&self, data: &[u8]) -> u64 {
        TokenInstruction::unpack(data).map_or(Self::DECODE_FAILURE_UNITS, |i| i.units())
    }

    fn process(&self, ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        let data = ctx.data();
        let ix = match TokenInstruction::unpack(data) {
            Ok(ix) => ix,
            Err(e) => {
                ctx.consume_units(Self::DECODE_FAILURE_UNITS)?;
                return Err(e.into());
            }
        };
        ctx.consume_units(ix.units())?;
        use TokenInstruction as I;
        match ix {
            I::InitializeMint {
                decimals,
                mint_authority,
                freeze_authority,
                with_rent_sysvar,
            } => initialize_mint(
                ctx,
                decimals,
                mint_authority,
                freeze_authority,
                with_rent_sysvar,
            ),
            I::InitializeAccount => {
                need(ctx, 4)?;
                let owner = *ctx.key(2)?;
                initialize_account(ctx, owner, Some(3))
            }
            I::InitializeAccount2 { owner } => initialize_account(ctx, owner, Some(2)),
            I::InitializeAccount3 { owner } => initialize_account(ctx, owner, None),
            I::InitializeMultisig {
                m,
                with_rent_sysvar,
            } => initialize_multisig(ctx, m, with_rent_sysvar),
            I::Transfer { amount } => transfer(ctx, amount, None),
            I::TransferChecked { amount, decimals } => transfer(ctx, amount, Some(decimals)),
            I::Approve { amount } => approve(ctx, amount, None),
            I::ApproveChecked { amount, decimals } => approve(ctx, amount, Some(decimals)),
            I::Revoke => revoke(ctx),
            I::SetAuthority {
                authority_type,
                new_authority,
            } => set_authority(ctx, authority_type, new_authority),
            I::MintTo { amount } => mint_to(ctx, amount, None),
            I::MintToChecked { amount, decimals } => mint_to(ctx, amount, Some(decimals)),
            I::Burn { amount } => burn(ctx, amount, None),
            I::BurnChecked { amount, decimals } => burn(ctx, amount, Some(decimals)),
            I::CloseAccount => close_account(ctx),
            I::FreezeAccount => toggle_freeze(ctx, true),
            I::ThawAccount => toggle_freeze(ctx, false),
            I::SyncNative => sync_native(ctx),
            I::GetAccountDataSize | I::AmountToUiAmount { .. } => read_mint(ctx).map(|_| ()),
            I::UiAmountToAmount { ui_amount } => {
                let mint = read_mint(ctx)?;
                ui_amount_to_amount(ui_amount, mint.decimals).map(|_| ())
            }
            I::InitializeImmutableOwner => {
                need(ctx, 1)?;
                if TokenAccount::unpack_unchecked(&ctx.account(0)?.data)?.is_initialized() {
                    return Err(TokenError::AlreadyInUse.into());
                }
                Ok(())
            }
        }
    }
}

/// Fails unless the instruction has at least `n` accounts.
fn need(ctx: &InstructionContext<'_>, n: usize) -> Result<(), InstructionError> {
    if ctx.num_accounts() < n {
        return Err(InstructionError::NotEnoughAccountKeys);
    }
    Ok(())
}

/// `check_account_owner`: account `i` must be owned by this program.
fn check_owned(ctx: &InstructionContext<'_>, i: usize) -> Result<(), InstructionError> {
    if !key_eq(&ctx.account(i)?.owner, ctx.program_id()) {
        return Err(InstructionError::IncorrectProgramId);
    }
    Ok(())
}

/// `Rent::from_account_info`: account `i` must be the Rent sysvar.
fn check_rent_sysvar(ctx: &InstructionContext<'_>, i: usize) -> Result<(), InstructionError> {
    if !key_eq(ctx.key(i)?, &rent::RENT_SYSVAR_ID) {
        return Err(InstructionError::InvalidArgument);
    }
    Ok(())
}

fn token_account(ctx: &InstructionContext<'_>, i: usize) -> Result<TokenAccount, InstructionError> {
    TokenAccount::unpack(&ctx.account(i)?.data)
}

fn mint(ctx: &InstructionContext<'_>, i: usize) -> Result<Mint, InstructionError> {
    Mint::unpack(&ctx.account(i)?.data)
}

/// Writes `data` into account `i` when it differs from what it holds.
fn store(
    ctx: &mut InstructionContext<'_>,
    i: usize,
    data: Vec<u8>,
) -> Result<(), InstructionError> {
    if ctx.account(i)?.data != data {
        ctx.account_mut(i)?.data = data;
    }
    Ok(())
}

/// Sets account `i`'s lamports when they differ.
fn set_lamports(
    ctx: &mut InstructionContext<'_>,
    i: usize,
    lamports: u64,
) -> Result<(), InstructionError> {
    if ctx.account(i)?.lamports != lamports {
        ctx.account_mut(i)?.lamports = lamports;
    }
    Ok(())
}

/// `validate_owner`: the authority at `authority` is `expected` and signed, or is a
/// multisig of this program enough of whose signers are among the accounts from
/// `signers_from` on and signed.
fn validate_owner(
    ctx: &InstructionContext<'_>,
    expected: &Pubkey,
    authority: usize,
    signers_from: usize,
) -> Result<(), InstructionError> {
    if !key_eq(ctx.key(authority)?, expected) {
        return Err(TokenError::OwnerMismatch.into());
    }
    let account = ctx.account(authority)?;
    if key_eq(&account.owner, ctx.program_id()) && account.data.len() == Multisig::LEN {
        let multisig = Multisig::unpack(&account.data)?;
        let mut matched = [false; MAX_SIGNERS];
        let mut num_signers = 0u8;
        for i in signers_from..ctx.num_accounts() {
            let signer = ctx.key(i)?;
            for (position, key) in multisig
                .signers
                .iter()
                .enumerate()
                .take(usize::from(multisig.n))
            {
                if key_eq(key, signer) && !matched[position] {
                    if !ctx.is_signer(i) {
                        return Err(InstructionError::MissingRequiredSignature);
                    }
                    matched[position] = true;
                    num_signers += 1;
                }
            }
        }
        if num_signers < multisig.m {
            return Err(InstructionError::MissingRequiredSignature);
        }
        return Ok(());
    }
    if !ctx.is_signer(authority) {
        return Err(InstructionError::MissingRequiredSignature);
    }
    Ok(())
}

/// For the *Checked instructions: the mint at `i` is `expected_mint` and has `decimals`.
fn check_mint_decimals(
    ctx: &InstructionContext<'_>,
    i: usize,
    expected_mint: &Pubkey,
    decimals: u8,
) -> Result<(), InstructionError> {
    if !key_eq(ctx.key(i)?, expected_mint) {
        return Err(TokenError::MintMismatch.into());
    }
    if mint(ctx, i)?.decimals != decimals {
        return Err(TokenError::MintDecimalsMismatch.into());
    }
    Ok(())
}

fn initialize_mint(
    ctx: &mut InstructionContext<'_>,
    decimals: u8,
    mint_authority: Pubkey,
    freeze_authority: Option<Pubkey>,
    with_rent_sysvar: bool,
) -> Result<(), InstructionError> {
    need(ctx, if with_rent_sysvar { 2 } else { 1 })?;
    if with_rent_sysvar {
        check_rent_sysvar(ctx, 1)?;
    }
    let account = ctx.account(0)?;
    let mut m = Mint::unpack_unchecked(&account.data)?;
    if m.is_initialized {
        return Err(TokenError::AlreadyInUse.into());
    }
    if !rent::is_exempt(account.lamports, account.data.len()) {
        return Err(TokenError::NotRentExempt.into());
    }
    m.mint_authority = Some(mint_authority);
    m.decimals = decimals;
    m.is_initialized = true;
    m.freeze_authority = freeze_authority;
    store(ctx, 0, m.pack())
}

/// InitializeAccount(2/3): account 0, mint 1, the owner given, the rent sysvar at
/// `rent_at` when there is one.
fn initialize_account(
    ctx: &mut InstructionContext<'_>,
    owner: Pubkey,
    rent_at: Option<usize>,
) -> Result<(), InstructionError> {
    need(ctx, rent_at.map_or(2, |r| r + 1))?;
    if let Some(r) = rent_at {
        check_rent_sysvar(ctx, r)?;
    }
    let account = ctx.account(0)?;
    let (lamports, data_len) = (account.lamports, account.data.len());
    let mut a = TokenAccount::unpack_unchecked(&account.data)?;
    if a.is_initialized() {
        return Err(TokenError::AlreadyInUse.into());
    }
    if !rent::is_exempt(lamports, data_len) {
        return Err(TokenError::NotRentExempt.into());
    }
    let mint_key = *ctx.key(1)?;
    let is_native_mint = key_eq(&mint_key, &NATIVE_MINT);
    if !is_native_mint {
        check_owned(ctx, 1)?;
        mint(ctx, 1).map_err(|_| InstructionError::from(TokenError::InvalidMint))?;
    }
    a.mint = mint_key;
    a.owner = owner;
    a.close_authority = None;
    a.delegate = None;
    a.delegated_amount = 0;
    a.state = AccountState::Initialized;
    if is_native_mint {
        let reserve = rent::minimum_balance(data_len);
        a.is_native = Some(reserve);
        a.amount = lamports
            .checked_sub(reserve)
            .ok_or(InstructionError::from(TokenError::Overflow))?;
    } else {
        a.is_native = None;
        a.amount = 0;
    }
    store(ctx, 0, a.pack())
}

fn initialize_multisig(
    ctx: &mut InstructionContext<'_>,
    m: u8,
    with_rent_sysvar: bool,
) -> Result<(), InstructionError> {
    let first_signer = if with_rent_sysvar { 2 } else { 1 };
    need(ctx, first_signer)?;
    if with_rent_sysvar {
        check_rent_sysvar(ctx, 1)?;
    }
    let account = ctx.account(0)?;
    let mut multisig = Multisig::unpack_unchecked(&account.data)?;
    if multisig.is_initialized {
        return Err(TokenError::AlreadyInUse.into());
    }
    if !rent::is_exempt(account.lamports, account.data.len()) {
        return Err(TokenError::NotRentExempt.into());
    }
    let n = ctx.num_accounts() - first_signer;
    if !(1..=MAX_SIGNERS).contains(&n) {
        return Err(TokenError::InvalidNumberOfProvidedSigners.into());
    }
    if !(1..=MAX_SIGNERS).contains(&usize::from(m)) {
        return Err(TokenError::InvalidNumberOfRequiredSigners.into());
    }
    multisig.m = m;
    multisig.n = n as u8;
    for (slot, i) in multisig.signers.iter_mut().zip(first_signer..) {
        if i >= ctx.num_accounts() {
            break;
        }
        *slot = *ctx.key(i)?;
    }
    multisig.is_initialized = true;
    store(ctx, 0, multisig.pack())
}

fn transfer(
    ctx: &mut InstructionContext<'_>,
    amount: u64,
    decimals: Option<u8>,
) -> Result<(), InstructionError> {
    // [source, (mint,) destination, authority, signers..]
    let (source, mint_at, dest, authority) = match decimals {
        None => (0, None, 1, 2),
        Some(_) => (0, Some(1), 2, 3),
    };
    need(ctx, authority + 1)?;
    let mut src = token_account(ctx, source)?;
    let mut dst = token_account(ctx, dest)?;
    if src.is_frozen() || dst.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if src.amount < amount {
        return Err(TokenError::InsufficientFunds.into());
    }
    if !key_eq(&src.mint, &dst.mint) {
        return Err(TokenError::MintMismatch.into());
    }
    if let (Some(m), Some(d)) = (mint_at, decimals) {
        check_mint_decimals(ctx, m, &src.mint, d)?;
    }
    let self_transfer = key_eq(ctx.key(source)?, ctx.key(dest)?);
    match src.delegate {
        Some(delegate) if key_eq(ctx.key(authority)?, &delegate) => {
            validate_owner(ctx, &delegate, authority, authority + 1)?;
            if src.delegated_amount < amount {
                return Err(TokenError::InsufficientFunds.into());
            }
            if !self_transfer {
                src.delegated_amount -= amount;
                if src.delegated_amount == 0 {
                    src.delegate = None;
                }
            }
        }
        _ => validate_owner(ctx, &src.owner, authority, authority + 1)?,
    }
    if self_transfer || amount == 0 {
        check_owned(ctx, source)?;
        check_owned(ctx, dest)?;
    }
    if self_transfer {
        return Ok(());
    }
    let overflow = || InstructionError::from(TokenError::Overflow);
    src.amount = src.amount.checked_sub(amount).ok_or_else(overflow)?;
    dst.amount = dst.amount.checked_add(amount).ok_or_else(overflow)?;
    if src.is_native() {
        let from = ctx
            .account(source)?
            .lamports
            .checked_sub(amount)
            .ok_or_else(overflow)?;
        let to = ctx
            .account(dest)?
            .lamports
            .checked_add(amount)
            .ok_or_else(overflow)?;
        set_lamports(ctx, source, from)?;
        set_lamports(ctx, dest, to)?;
    }
    store(ctx, source, src.pack())?;
    store(ctx, dest, dst.pack())
}

fn approve(
    ctx: &mut InstructionContext<'_>,
    amount: u64,
    decimals: Option<u8>,
) -> Result<(), InstructionError> {
    // [source, (mint,) delegate, owner, signers..]
    let (source, mint_at, delegate, owner) = match decimals {
        None => (0, None, 1, 2),
        Some(_) => (0, Some(1), 2, 3),
    };
    need(ctx, owner + 1)?;
    let mut src = token_account(ctx, source)?;
    if src.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if let (Some(m), Some(d)) = (mint_at, decimals) {
        check_mint_decimals(ctx, m, &src.mint, d)?;
    }
    validate_owner(ctx, &src.owner, owner, owner + 1)?;
    src.delegate = Some(*ctx.key(delegate)?);
    src.delegated_amount = amount;
    store(ctx, source, src.pack())
}

fn revoke(ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
    need(ctx, 2)?;
    let mut src = token_account(ctx, 0)?;
    if src.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    validate_owner(ctx, &src.owner, 1, 2)?;
    src.delegate = None;
    src.delegated_amount = 0;
    store(ctx, 0, src.pack())
}

fn set_authority(
    ctx: &mut InstructionContext<'_>,
    authority_type: AuthorityType,
    new_authority: Option<Pubkey>,
) -> Result<(), InstructionError> {
    need(ctx, 2)?;
    let len = ctx.account(0)?.data.len();
    if len == TokenAccount::LEN {
        let mut a = token_account(ctx, 0)?;
        if a.is_frozen() {
            return Err(TokenError::AccountFrozen.into());
        }
        match authority_type {
            AuthorityType::AccountOwner => {
                validate_owner(ctx, &a.owner, 1, 2)?;
                a.owner =
                    new_authority.ok_or(InstructionError::from(TokenError::InvalidInstruction))?;
                a.delegate = None;
                a.delegated_amount = 0;
                if a.is_native() {
                    a.close_authority = None;
                }
            }
            AuthorityType::CloseAccount => {
                let authority = a.close_authority.unwrap_or(a.owner);
                validate_owner(ctx, &authority, 1, 2)?;
                a.close_authority = new_authority;
            }
            _ => return Err(TokenError::AuthorityTypeNotSupported.into()),
        }
        store(ctx, 0, a.pack())
    } else if len == Mint::LEN {
        let mut m = mint(ctx, 0)?;
        match authority_type {
            AuthorityType::MintTokens => {
                let authority = m
                    .mint_authority
                    .ok_or(InstructionError::from(TokenError::FixedSupply))?;
                validate_owner(ctx, &authority, 1, 2)?;
                m.mint_authority = new_authority;
            }
            AuthorityType::FreezeAccount => {
                let authority = m
                    .freeze_authority
                    .ok_or(InstructionError::from(TokenError::MintCannotFreeze))?;
                validate_owner(ctx, &authority, 1, 2)?;
                m.freeze_authority = new_authority;
            }
            _ => return Err(TokenError::AuthorityTypeNotSupported.into()),
        }
        store(ctx, 0, m.pack())
    } else {
        Err(InstructionError::InvalidArgument)
    }
}

fn mint_to(
    ctx: &mut InstructionContext<'_>,
    amount: u64,
    decimals: Option<u8>,
) -> Result<(), InstructionError> {
    // [mint, destination, authority, signers..]
    need(ctx, 3)?;
    let mut dst = token_account(ctx, 1)?;
    if dst.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if dst.is_native() {
        return Err(TokenError::NativeNotSupported.into());
    }
    if !key_eq(ctx.key(0)?, &dst.mint) {
        return Err(TokenError::MintMismatch.into());
    }
    let mut m = mint(ctx, 0)?;
    if decimals.is_some_and(|d| d != m.decimals) {
        return Err(TokenError::MintDecimalsMismatch.into());
    }
    match m.mint_authority {
        Some(authority) => validate_owner(ctx, &authority, 2, 3)?,
        None => return Err(TokenError::FixedSupply.into()),
    }
    if amount == 0 {
        check_owned(ctx, 0)?;
        check_owned(ctx, 1)?;
    }
    let overflow = || InstructionError::from(TokenError::Overflow);
    dst.amount = dst.amount.checked_add(amount).ok_or_else(overflow)?;
    m.supply = m.supply.checked_add(amount).ok_or_else(overflow)?;
    store(ctx, 1, dst.pack())?;
    store(ctx, 0, m.pack())
}

/// Whether a token account's owner is the System program or the incinerator (tokens
/// anyone may burn, an account anyone may close into the incinerator).
fn owned_by_system_or_incinerator(a: &TokenAccount) -> bool {
    key_eq(&a.owner, &SystemProgram::ID) || key_eq(&a.owner, &INCINERATOR)
}

fn burn(
    ctx: &mut InstructionContext<'_>,
    amount: u64,
    decimals: Option<u8>,
) -> Result<(), InstructionError> {
    // [source, mint, authority, signers..]
    need(ctx, 3)?;
    let mut src = token_account(ctx, 0)?;
    let mut m = mint(ctx, 1)?;
    if src.is_frozen() {
        return Err(TokenError::AccountFrozen.into());
    }
    if src.is_native() {
        return Err(TokenError::NativeNotSupported.into());
    }
    if src.amount < amount {
        return Err(TokenError::InsufficientFunds.into());
    }
    if !key_eq(ctx.key(1)?, &src.mint) {
        return Err(TokenError::MintMismatch.into());
    }
    if decimals.is_some_and(|d| d != m.decimals) {
        return Err(TokenError::MintDecimalsMismatch.into());
    }
    if !owned_by_system_or_incinerator(&src) {
        match src.delegate {
            Some(delegate) if key_eq(ctx.key(2)?, &delegate) => {
                validate_owner(ctx, &delegate, 2, 3)?;
                if src.delegated_amount < amount {
                    return Err(TokenError::InsufficientFunds.into());
                }
                src.delegated_amount -= amount;
                if src.delegated_amount == 0 {
                    src.delegate = None;
                }
            }
            _ => validate_owner(ctx, &src.owner, 2, 3)?,
        }
    }
    if amount == 0 {
        check_owned(ctx, 0)?;
        check_owned(ctx, 1)?;
    }
    let overflow = || InstructionError::from(TokenError::Overflow);
    src.amount = src.amount.checked_sub(amount).ok_or_else(overflow)?;
    m.supply = m.supply.checked_sub(amount).ok_or_else(overflow)?;
    store(ctx, 0, src.pack())?;
    store(ctx, 1, m.pack())
}

fn close_account(ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
    // [account, destination, authority, signers..]
    need(ctx, 3)?;
    if key_eq(ctx.key(0)?, ctx.key(1)?) {
        return Err(InstructionError::InvalidAccountData);
    }
    let src = token_account(ctx, 0)?;
    if !src.is_native() && src.amount != 0 {
        return Err(TokenError::NonNativeHasBalance.into());
    }
    let authority = src.close_authority.unwrap_or(src.owner);
    if !owned_by_system_or_incinerator(&src) {
        validate_owner(ctx, &authority, 2, 3)?;
    } else if !key_eq(ctx.key(1)?, &INCINERATOR) {
        return Err(InstructionError::InvalidAccountData);
    }
    let lamports = ctx.account(0)?.lamports;
    let to = ctx
        .account(1)?
        .lamports
        .checked_add(lamports)
        .ok_or(InstructionError::from(TokenError::Overflow))?;
    set_lamports(ctx, 1, to)?;
    let closed = ctx.account_mut(0)?;
    closed.lamports = 0;
    closed.data = Vec::new();
    closed.owner = SystemProgram::ID;
    Ok(())
}

fn toggle_freeze(ctx: &mut InstructionContext<'_>, freeze: bool) -> Result<(), InstructionError> {
    // [account, mint, authority, signers..]
    need(ctx, 3)?;
    let mut a = token_account(ctx, 0)?;
    if freeze == a.is_frozen() {
        return Err(TokenError::InvalidState.into());
    }
    if a.is_native() {
        return Err(TokenError::NativeNotSupported.into());
    }
    if !key_eq(ctx.key(1)?, &a.mint) {
        return Err(TokenError::MintMismatch.into());
    }
    let m = mint(ctx, 1)?;
    match m.freeze_authority {
        Some(authority) => validate_owner(ctx, &authority, 2, 3)?,
        None => return Err(TokenError::MintCannotFreeze.into()),
    }
    a.state = if freeze {
        AccountState::Frozen
    } else {
        AccountState::Initialized
    };
    store(ctx, 0, a.pack())
}

fn sync_native(ctx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
    need(ctx, 1)?;
    check_owned(ctx, 0)?;
    let mut a = token_account(ctx, 0)?;
    let Some(reserve) = a.is_native else {
        return Err(TokenError::NonNativeNotSupported.into());
    };
    let new_amount = ctx
        .account(0)?
        .lamports
        .checked_sub(reserve)
        .ok_or(InstructionError::from(TokenError::Overflow))?;
    if new_amount < a.amount {
        return Err(TokenError::InvalidState.into());
    }
    a.amount = new_amount;
    store(ctx, 0, a.pack())
}

/// GetAccountDataSize / AmountToUiAmount / UiAmountToAmount: the mint (account 0),
/// owned by this program and initialized.
fn read_mint(ctx: &InstructionContext<'_>) -> Result<Mint, InstructionError> {
    need(ctx, 1)?;
    check_owned(ctx, 0)?;
    mint(ctx, 0).map_err(|_| TokenError::InvalidMint.into())
}

/// `try_ui_amount_into_amount`: decimal text to base units at `decimals`.
fn ui_amount_to_amount(ui_amount: &str, decimals: u8) -> Result<u64, InstructionError> {
    let decimals = usize::from(decimals);
    let mut parts = ui_amount.split('.');
    let mut amount = parts.next().unwrap_or("").to_string();
    let after = parts.next().unwrap_or("").trim_end_matches('0');
    if (amount.is_empty() && after.is_empty()) || parts.next().is_some() || after.len() > decimals {
        return Err(InstructionError::InvalidArgument);
    }
    amount.push_str(after);
    amount.extend(std::iter::repeat_n('0', decimals - after.len()));
    amount
        .parse::<u64>()
        .map_err(|_| InstructionError::InvalidArgument)
}
