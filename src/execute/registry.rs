//! The [`ProgramRegistry`]: which [`Program`] runs under which program id.

use std::collections::HashMap;
use std::sync::Arc;

use crate::Pubkey;

use super::compute_budget::{ComputeBudgetProgram, COMPUTE_BUDGET_PROGRAM_ID};
use super::program::Program;
use super::system::SystemProgram;

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
    /// A registry holding the built-in [`SystemProgram`] and [`ComputeBudgetProgram`].
    fn default() -> Self {
        let mut r = Self::empty();
        r.register(SystemProgram::ID, Arc::new(SystemProgram));
        r.register(COMPUTE_BUDGET_PROGRAM_ID, Arc::new(ComputeBudgetProgram));
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
