//! Where a transaction's accounts are read and committed: the [`AccountAccess`] trait and
//! its view straight into the table ([`TableAccess`]). The window's working copies are the
//! other view ([`super::working_set::SlotAccess`]).

use crate::state::{Account, AccountsTable};
use crate::Pubkey;

/// Where one transaction's accounts are read and committed, by key index: the table
/// itself ([`TableAccess`]) or a window's working copies
/// ([`super::working_set::WorkingSet`]).
pub(super) trait AccountAccess {
    /// A copy of the account at key index `i` (the default account when absent).
    fn load(&self, i: usize) -> Account;
    /// Commits `account` at key index `i`.
    fn store(&mut self, i: usize, account: Account);
    /// Takes `fee` from the fee payer (key index 0) and nothing else: what a transaction
    /// whose instruction failed leaves behind.
    fn charge_fee_only(&mut self, fee: u64);
}

/// One transaction's accounts, straight in the table; records the keys it writes.
pub(super) struct TableAccess<'a> {
    pub(super) table: &'a AccountsTable,
    pub(super) keys: &'a [Pubkey],
    pub(super) modified: &'a mut Vec<Pubkey>,
}

impl AccountAccess for TableAccess<'_> {
    fn load(&self, i: usize) -> Account {
        self.keys
            .get(i)
            .and_then(|k| self.table.get(k))
            .unwrap_or_default()
    }

    fn store(&mut self, i: usize, account: Account) {
        if let Some(key) = self.keys.get(i) {
            self.table.insert(*key, account);
            self.modified.push(*key);
        }
    }

    fn charge_fee_only(&mut self, fee: u64) {
        if let Some(payer) = self.keys.first() {
            self.table
                .update(payer, |a| a.lamports = a.lamports.saturating_sub(fee));
            self.modified.push(*payer);
        }
    }
}
