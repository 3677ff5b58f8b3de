//! The [`ProgramRegistry`]: which [`Program`] runs under which program id.

use std::collections::HashMap;
use std::sync::Arc;

use crate::Pubkey;

use super::associated_token::{AssociatedTokenProgram, ASSOCIATED_TOKEN_PROGRAM_ID};
use super::compute_budget::{ComputeBudgetProgram, COMPUTE_BUDGET_PROGRAM_ID};
use super::memo::{MemoProgram, MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID};
use super::program::{Program, ProgramLookup};
use super::system::SystemProgram;
use super::token::{TokenProgram, TOKEN_PROGRAM_ID};

/// Maps program ids to programs.
#[derive(Clone)]
pub struct ProgramRegistry {
    programs: HashMap<Pubkey, Arc<dyn Program>, foldhash::fast::RandomState>,
}

impl std::fmt::Debug for ProgramRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<String> = self.programs.keys().map(hex::encode).collect();
        ids.sort();
        f.debug_struct("ProgramRegistry")
            .field("programs", &ids)
            .finish()
    }
}

impl Default for ProgramRegistry {
    /// A registry holding the built-in [`SystemProgram`] and [`ComputeBudgetProgram`],
    /// and the native SPL programs: [`TokenProgram`], [`AssociatedTokenProgram`] and
    /// [`MemoProgram`] (v1 and v2).
    fn default() -> Self {
        let mut r = Self::empty();
        r.register(SystemProgram::ID, Arc::new(SystemProgram));
        r.register(COMPUTE_BUDGET_PROGRAM_ID, Arc::new(ComputeBudgetProgram));
        r.register(TOKEN_PROGRAM_ID, Arc::new(TokenProgram));
        r.register(
            ASSOCIATED_TOKEN_PROGRAM_ID,
            Arc::new(AssociatedTokenProgram),
        );
        r.register(MEMO_PROGRAM_ID, Arc::new(MemoProgram::V2));
        r.register(MEMO_V1_PROGRAM_ID, Arc::new(MemoProgram::V1));
        r
    }
}

impl ProgramRegistry {
    /// A registry with no program (not even the System program).
    pub fn empty() -> Self {
        Self {
            programs: HashMap::default(),
        }
    }

    /// Registers `program` under `id`, returning the program it replaces.
    pub fn register(&mut self, id: Pubkey, program: Arc<dyn Program>) -> Option<Arc<dyn Program>> {
        self.programs.insert(id, program)
    }

    /// The program registered under `id`.
    pub fn get(&self, id: &Pubkey) -> Option<&dyn Program> {
        self.programs.get(id).map(|p| p.as_ref())
    }

    /// Number of registered programs.
    pub fn len(&self) -> usize {
        self.programs.len()
    }

    /// Whether no program is registered.
    pub fn is_empty(&self) -> bool {
        self.programs.is_empty()
    }
}

impl ProgramLookup for ProgramRegistry {
    fn program(&self, id: &Pubkey) -> Option<&dyn Program> {
        self.get(id)
    }
}
