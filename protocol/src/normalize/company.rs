//! Company names: Unicode NFKC, case-folded, whitespace collapsed, so that
//! full-width, differently-spaced and differently-cased spellings match.

use unicode_normalization::UnicodeNormalization;

use super::Reason;

pub(super) fn normalize(s: &str) -> Result<String, Reason> {
    let nfkc: String = s.nfkc().collect();
    let folded = nfkc.to_lowercase();
    let collapsed = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err(Reason::Empty);
    }
    Ok(collapsed)
}
