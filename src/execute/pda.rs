//! Program-derived addresses, exactly as Solana derives them (`solana-pubkey`
//! `Pubkey::create_program_address` / `find_program_address`): SHA-256 over the seeds, the
//! program id and the marker `"ProgramDerivedAddress"`; a result that is a point on the
//! ed25519 curve is refused (someone could hold its private key), and the search tries the
//! bump seed from 255 down to 0, returning the first address off the curve. The curve test
//! is curve25519-dalek's `CompressedEdwardsY::decompress`, as in `solana-curve25519`
//! (`bytes_are_curve_point`).

use curve25519_dalek::edwards::CompressedEdwardsY;

use crate::Pubkey;

/// Most seeds an address takes (`MAX_SEEDS`, the bump included).
pub const MAX_SEEDS: usize = 16;
/// Longest seed (`MAX_SEED_LEN`).
pub const MAX_SEED_LEN: usize = 32;
/// The marker hashed after the program id.
const PDA_MARKER: &[u8] = b"ProgramDerivedAddress";
/// Compute units of one `create_program_address` try (Agave:
/// `ComputeBudget::create_program_address_units`, 1,500); `find_program_address` pays it
/// per bump tried.
pub const CREATE_PROGRAM_ADDRESS_UNITS: u64 = 1_500;

/// Whether 32 bytes decode as a point of the ed25519 curve.
pub fn is_on_curve(bytes: &Pubkey) -> bool {
    CompressedEdwardsY(*bytes).decompress().is_some()
}

/// The address of `seeds` under `program_id`, or `None` when the seeds break the limits
/// ([`MAX_SEEDS`], [`MAX_SEED_LEN`]) or the hash falls on the curve.
pub fn create_program_address(seeds: &[&[u8]], program_id: &Pubkey) -> Option<Pubkey> {
    if seeds.len() > MAX_SEEDS || seeds.iter().any(|s| s.len() > MAX_SEED_LEN) {
        return None;
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seeds.len() + 2);
    parts.extend_from_slice(seeds);
    parts.push(program_id);
    parts.push(PDA_MARKER);
    let address = crate::hash::sha256v(&parts);
    (!is_on_curve(&address)).then_some(address)
}

/// The first off-curve address of `seeds ‖ [bump]` under `program_id`, bump from 255
/// down, with its bump; `None` when no bump gives one (or the seeds break the limits).
/// Also returns how many bumps were tried (for the compute cost).
pub fn find_program_address(seeds: &[&[u8]], program_id: &Pubkey) -> Option<(Pubkey, u8, u32)> {
    if seeds.len() >= MAX_SEEDS {
        return None;
    }
    let mut tries = 0u32;
    for bump in (0..=u8::MAX).rev() {
        tries += 1;
        let b = [bump];
        let mut with_bump: Vec<&[u8]> = Vec::with_capacity(seeds.len() + 1);
        with_bump.extend_from_slice(seeds);
        with_bump.push(&b);
        if let Some(address) = create_program_address(&with_bump, program_id) {
            return Some((address, bump, tries));
        }
    }
    None
}
