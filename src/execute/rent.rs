//! Rent exemption as the SPL programs read it from the Rent sysvar: txpipe charges no
//! rent (see the module docs of `execute`), but the Token and Associated Token Account
//! programs require and fund rent-exempt balances, so they use the cluster's values.
//!
//! Source: `solana-rent` `Rent::default` (`DEFAULT_LAMPORTS_PER_BYTE_YEAR` 3,480,
//! `DEFAULT_EXEMPTION_THRESHOLD` 2.0, `ACCOUNT_STORAGE_OVERHEAD` 128) and
//! `Rent::minimum_balance` = (128 + data length) × 3,480 × 2.

use crate::Pubkey;

/// The Rent sysvar's id, `SysvarRent111111111111111111111111111111111`.
pub const RENT_SYSVAR_ID: Pubkey = [
    0x06, 0xa7, 0xd5, 0x17, 0x19, 0x2c, 0x5c, 0x51, 0x21, 0x8c, 0xc9, 0x4c, 0x3d, 0x4a, 0xf1, 0x7f,
    0x58, 0xda, 0xee, 0x08, 0x9b, 0xa1, 0xfd, 0x44, 0xe3, 0xdb, 0xd9, 0x8a, 0x00, 0x00, 0x00, 0x00,
];

/// Lamports per byte-year (`DEFAULT_LAMPORTS_PER_BYTE_YEAR`).
pub const LAMPORTS_PER_BYTE_YEAR: u64 = 3_480;
/// Years of rent an exempt balance holds (`DEFAULT_EXEMPTION_THRESHOLD`, 2.0).
pub const EXEMPTION_THRESHOLD_YEARS: u64 = 2;
/// Bytes every account is charged for besides its data (`ACCOUNT_STORAGE_OVERHEAD`).
pub const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// The least balance that makes an account of `data_len` bytes rent-exempt
/// (`Rent::minimum_balance`; 2,039,280 for a 165-byte token account, 1,461,600 for an
/// 82-byte mint).
pub fn minimum_balance(data_len: usize) -> u64 {
    (ACCOUNT_STORAGE_OVERHEAD.saturating_add(data_len as u64))
        .saturating_mul(LAMPORTS_PER_BYTE_YEAR)
        .saturating_mul(EXEMPTION_THRESHOLD_YEARS)
}

/// Whether `lamports` keep an account of `data_len` bytes rent-exempt (`Rent::is_exempt`).
pub fn is_exempt(lamports: u64, data_len: usize) -> bool {
    lamports >= minimum_balance(data_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_figures() {
        assert_eq!(minimum_balance(0), 890_880);
        assert_eq!(minimum_balance(82), 1_461_600);
        assert_eq!(minimum_balance(165), 2_039_280);
        assert!(is_exempt(2_039_280, 165));
        assert!(!is_exempt(2_039_279, 165));
        assert_eq!(
            crate::tx::base58::encode(&RENT_SYSVAR_ID),
            "SysvarRent111111111111111111111111111111111"
        );
    }
}
