//! Perceptual image hashes (profile photos reused across fake recruiter
//! accounts): pHash (64-bit, 16 hex digits) or PDQ (256-bit, 64 hex digits),
//! lower-case hex. Matching is by Hamming distance, not equality.

use super::Reason;

pub(super) fn normalize(s: &str) -> Result<String, Reason> {
    let t = s.strip_prefix("0x").unwrap_or(s).to_ascii_lowercase();
    if matches!(t.len(), 16 | 64) && t.bytes().all(|b| b.is_ascii_hexdigit()) { Ok(t) } else { Err(Reason::ImageHash) }
}

/// Bits that differ between two normalised hashes of the same length.
pub fn hamming_distance(a: &str, b: &str) -> Option<u32> {
    let (a, b) = (hex::decode(a).ok()?, hex::decode(b).ok()?);
    (a.len() == b.len()).then(|| a.iter().zip(&b).map(|(x, y)| (x ^ y).count_ones()).sum())
}
