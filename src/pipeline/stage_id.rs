//! [`StageId`]: the one name of each step of the pipeline, for outcomes and metrics.

use serde::Serialize;

/// A step of the pipeline: where a transaction can stop ([`super::TxOutcome::stage`]) and
/// what a stage thread is (its metrics in [`super::MetricsSnapshot::stages`] are named
/// [`StageId::as_str`]).
///
/// De-duplication has no thread of its own: the parse thread drops replayed packets and
/// the execute thread replayed signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageId {
    /// Wire-format parsing and sanity checks.
    Parse,
    /// De-duplication (replayed packets and replayed signatures).
    Dedup,
    /// Signature verification.
    Sigverify,
    /// Execution (fees and instructions).
    Execute,
    /// Commitment of a block (transaction root, outcomes).
    Commit,
}

impl StageId {
    /// Number of stage ids (the size of arrays indexed by them).
    pub(crate) const COUNT: usize = 5;

    /// `"parse"`, `"dedup"`, `"sigverify"`, `"execute"`, `"commit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            StageId::Parse => "parse",
            StageId::Dedup => "dedup",
            StageId::Sigverify => "sigverify",
            StageId::Execute => "execute",
            StageId::Commit => "commit",
        }
    }

    /// Position in arrays indexed by stage id.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The stage thread after this one ([`super::STAGE_THREADS`] order), fed by this
    /// one's output queue.
    pub(crate) fn next_thread(self) -> Option<StageId> {
        let threads = super::STAGE_THREADS;
        let at = threads.iter().position(|&t| t == self)?;
        threads.get(at + 1).copied()
    }
}
