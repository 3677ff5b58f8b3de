//! One account record and its digest.

use sha2::{Digest, Sha256};

use crate::{Hash, Pubkey};

/// An account: a balance, the program that owns it, its data, and whether it holds a
/// program.
///
/// The default account (0 lamports, owner = the System program's all-zero id, no data,
/// not executable) is what a key that was never written reads as.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Account {
    /// Balance in lamports.
    pub lamports: u64,
    /// The program allowed to change this account's data and debit its lamports.
    pub owner: Pubkey,
    /// Account data (owned by `owner`).
    pub data: Vec<u8>,
    /// Whether the account holds an executable program (never changed by execution).
    pub executable: bool,
}

impl Account {
    /// A data-less, non-executable account with `lamports`, owned by `owner`.
    pub fn new(lamports: u64, owner: Pubkey) -> Self {
        Self {
            lamports,
            owner,
            data: Vec::new(),
            executable: false,
        }
    }

    /// The account's digest under key `pubkey`:
    /// `SHA-256(pubkey || lamports (u64 LE) || owner || executable (0/1) || data_len (u64 LE) || data)`.
    pub fn digest(&self, pubkey: &Pubkey) -> Hash {
        let mut h = Sha256::new();
        h.update(pubkey);
        h.update(self.lamports.to_le_bytes());
        h.update(self.owner);
        h.update([u8::from(self.executable)]);
        h.update((self.data.len() as u64).to_le_bytes());
        h.update(&self.data);
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_layout() {
        let a = Account {
            lamports: 0x0102,
            owner: [7; 32],
            data: vec![9, 9, 9],
            executable: true,
        };
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&[1; 32]);
        bytes.extend_from_slice(&0x0102u64.to_le_bytes());
        bytes.extend_from_slice(&[7; 32]);
        bytes.push(1);
        bytes.extend_from_slice(&3u64.to_le_bytes());
        bytes.extend_from_slice(&[9, 9, 9]);
        let want: Hash = Sha256::digest(&bytes).into();
        assert_eq!(a.digest(&[1; 32]), want);
        assert_ne!(a.digest(&[2; 32]), want);
    }
}
