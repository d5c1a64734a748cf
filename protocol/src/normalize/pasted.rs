//! What copy-paste carries: invisible format characters (zero-width spaces
//! and joiners, byte-order marks, bidi marks and isolates, soft hyphens) and
//! the decimal digits of the region's scripts. Analysts paste from chat
//! apps, PDFs and browsers in Thai, Lao, Khmer, Burmese, Arabic…; the value
//! they mean is the one written with ASCII digits and no invisible marks.

use std::borrow::Cow;

/// Invisible format characters that change nothing a person sees.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                // soft hyphen
        | '\u{061C}'              // Arabic letter mark
        | '\u{180E}'              // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner; LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{FEFF}'              // byte-order mark, zero-width no-break space
    )
}

/// The first code point (digit zero) of each run of ten decimal digits
/// (Unicode category Nd) in the Basic Multilingual Plane.
const ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
    0x0E50, // Thai
    0x0ED0, // Lao
    0x0F20, 0x1040, // Myanmar
    0x1090, // Myanmar Shan
    0x17E0, // Khmer
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0,
    0xAA50, 0xABF0, 0xFF10, // full-width
];

/// The ASCII digit a decimal digit of any script stands for.
pub fn ascii_digit(c: char) -> Option<char> {
    let cp = c as u32;
    if c.is_ascii() {
        return None;
    }
    ZEROS.iter().find(|z| (**z..**z + 10).contains(&cp)).map(|z| char::from(b'0' + (cp - z) as u8))
}

/// The ASCII character a full-width form (East Asian input methods) or an
/// ideographic space stands for.
fn ascii_form(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' => Some(' '),
        _ => None,
    }
}

/// Drops invisible format characters; with `digits`, writes every decimal
/// digit (and every full-width form) in ASCII. Borrowed when there is
/// nothing to change.
pub fn clean(raw: &str, digits: bool) -> Cow<'_, str> {
    if raw.is_ascii() {
        return Cow::Borrowed(raw);
    }
    let ascii = |c: char| ascii_digit(c).or_else(|| ascii_form(c));
    let changes = |c: char| invisible(c) || (digits && ascii(c).is_some());
    if !raw.chars().any(changes) {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(raw.chars().filter(|c| !invisible(*c)).map(|c| if digits { ascii(c).unwrap_or(c) } else { c }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_run_is_ten_digits_of_one_script() {
        for z in ZEROS {
            let zero = char::from_u32(*z).unwrap();
            let nine = char::from_u32(*z + 9).unwrap();
            assert!(zero.is_numeric() && nine.is_numeric(), "{z:04X}");
            assert_eq!((ascii_digit(zero), ascii_digit(nine)), (Some('0'), Some('9')), "{z:04X}");
        }
        assert_eq!(ascii_digit('7'), None);
        assert_eq!(clean("๐๘๑-๒๓๔", true), "081-234");
        assert_eq!(clean("\u{200B}abc\u{FEFF}", false), "abc");
        assert!(matches!(clean("plain", true), Cow::Borrowed(_)));
    }
}
