//! Bounded, canonical CBOR.
//!
//! Decoding is two passes. The first walks the raw headers with `ciborium-ll`
//! and checks every declared length against [`Bounds`] *and* against the bytes
//! actually left, so nothing is ever allocated from a length a peer merely
//! claimed. Only then does serde (`ciborium`) build the value. Finally the value
//! is re-encoded and must equal the input: there is exactly one accepted
//! encoding of any value, so ids and signatures cannot be malleated.

use ciborium_ll::{Decoder, Header};
use serde::{Serialize, de::DeserializeOwned};

use crate::limits::Bounds;

/// Why some CBOR was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    #[error("input is {len} bytes, more than the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("input ends early (at byte {offset})")]
    Truncated { offset: usize },
    #[error("malformed CBOR at byte {offset}")]
    Malformed { offset: usize },
    #[error("string of {len} bytes at byte {offset} exceeds the limit of {max}")]
    StringTooLong { offset: usize, len: usize, max: usize },
    #[error("{len} items at byte {offset} exceed the limit of {max}")]
    TooManyItems { offset: usize, len: usize, max: usize },
    #[error("nesting deeper than {max} at byte {offset}")]
    TooDeep { offset: usize, max: usize },
    #[error("indefinite-length item at byte {offset} (only definite lengths are accepted)")]
    Indefinite { offset: usize },
    #[error("CBOR tag at byte {offset} (tags are not used by Kawan)")]
    Tagged { offset: usize },
    #[error("{count} trailing bytes after the value")]
    TrailingBytes { count: usize },
    #[error("does not match the expected structure: {0}")]
    Shape(String),
    #[error("not in canonical form (re-encoding differs)")]
    NonCanonical,
    #[error("cannot encode: {0}")]
    Encode(String),
}

/// Encodes a value. Struct fields keep declaration order, which is the
/// canonical order documented in docs/protocol.md.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CborError> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|e| CborError::Encode(e.to_string()))?;
    Ok(out)
}

/// Decodes `bytes` as exactly one `T`, within `bounds`, in canonical form.
pub fn decode<T: Serialize + DeserializeOwned>(bytes: &[u8], bounds: &Bounds) -> Result<T, CborError> {
    check_structure(bytes, bounds)?;
    let value: T = ciborium::from_reader(bytes).map_err(|e| CborError::Shape(shape_message(e)))?;
    if encode(&value)? != bytes {
        return Err(CborError::NonCanonical);
    }
    Ok(value)
}

/// Like [`decode`] without the canonical-form check, for *peeking* at
/// untrusted bytes (routing a record before it is verified). Bounds are
/// still enforced before anything is allocated. Never for accepting data.
pub fn peek<T: DeserializeOwned>(bytes: &[u8], bounds: &Bounds) -> Result<T, CborError> {
    check_structure(bytes, bounds)?;
    ciborium::from_reader(bytes).map_err(|e| CborError::Shape(shape_message(e)))
}

fn shape_message(e: ciborium::de::Error<std::io::Error>) -> String {
    match e {
        ciborium::de::Error::Io(e) => e.to_string(),
        ciborium::de::Error::Syntax(at) => format!("syntax error at byte {at}"),
        ciborium::de::Error::Semantic(at, msg) => match at {
            Some(at) => format!("{msg} (at byte {at})"),
            None => msg,
        },
        ciborium::de::Error::RecursionLimitExceeded => "nesting too deep".into(),
    }
}

/// Walks every header of one CBOR item and checks it against `bounds`.
pub fn check_structure(bytes: &[u8], bounds: &Bounds) -> Result<(), CborError> {
    if bytes.len() > bounds.max_bytes {
        return Err(CborError::TooLarge { len: bytes.len(), max: bounds.max_bytes });
    }
    let mut dec = Decoder::from(bytes);
    // Items still to read at each open nesting level; the root is one item.
    let mut pending: Vec<usize> = vec![1];
    while let Some(top) = pending.last_mut() {
        if *top == 0 {
            pending.pop();
            continue;
        }
        *top -= 1;
        let depth = pending.len();
        let offset = dec.offset();
        let header = dec.pull().map_err(|e| match e {
            ciborium_ll::Error::Io(_) => CborError::Truncated { offset },
            ciborium_ll::Error::Syntax(offset) => CborError::Malformed { offset },
        })?;
        let remaining = bytes.len().saturating_sub(dec.offset());
        match header {
            Header::Positive(_) | Header::Negative(_) | Header::Float(_) | Header::Simple(_) => {}
            Header::Tag(_) => return Err(CborError::Tagged { offset }),
            Header::Break | Header::Bytes(None) | Header::Text(None) | Header::Array(None) | Header::Map(None) => {
                return Err(CborError::Indefinite { offset });
            }
            Header::Bytes(Some(len)) | Header::Text(Some(len)) => {
                if len > bounds.max_string {
                    return Err(CborError::StringTooLong { offset, len, max: bounds.max_string });
                }
                if len > remaining {
                    return Err(CborError::Truncated { offset: bytes.len() });
                }
                skip(&mut dec, len)?;
            }
            Header::Array(Some(len)) | Header::Map(Some(len)) => {
                let items = match header {
                    Header::Map(_) => len.saturating_mul(2),
                    _ => len,
                };
                if len > bounds.max_items {
                    return Err(CborError::TooManyItems { offset, len, max: bounds.max_items });
                }
                // Every item takes at least one byte.
                if items > remaining {
                    return Err(CborError::Truncated { offset: bytes.len() });
                }
                if items > 0 {
                    if depth > bounds.max_depth {
                        return Err(CborError::TooDeep { offset, max: bounds.max_depth });
                    }
                    pending.push(items);
                }
            }
        }
    }
    let end = dec.offset();
    if end != bytes.len() {
        return Err(CborError::TrailingBytes { count: bytes.len() - end });
    }
    Ok(())
}

fn skip(dec: &mut Decoder<&[u8]>, mut len: usize) -> Result<(), CborError> {
    use ciborium_io::Read as _;
    let mut buf = [0u8; 512];
    while len > 0 {
        let n = len.min(buf.len());
        let offset = dec.offset();
        dec.read_exact(&mut buf[..n]).map_err(|_| CborError::Truncated { offset })?;
        len -= n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Bounds = Bounds { max_bytes: 64, max_string: 8, max_items: 4, max_depth: 2 };

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn accepts_well_formed_input_within_bounds() {
        check_structure(&hex("82016161"), &SMALL).unwrap(); // [1, "a"]
    }

    #[test]
    fn rejects_a_string_longer_than_the_limit_before_reading_it() {
        // text(9) "aaaaaaaaa"
        let err = check_structure(&hex("69616161616161616161"), &SMALL).unwrap_err();
        assert!(matches!(err, CborError::StringTooLong { len: 9, .. }), "{err}");
    }

    #[test]
    fn rejects_a_declared_length_larger_than_the_input() {
        // bytes(4 GiB) with nothing after it: must not allocate, must say truncated.
        let err = check_structure(&hex("5affffffff"), &Bounds { max_string: usize::MAX, ..SMALL }).unwrap_err();
        assert!(matches!(err, CborError::Truncated { .. }), "{err}");
        let err = check_structure(&hex("9a00000004"), &SMALL).unwrap_err();
        assert!(matches!(err, CborError::Truncated { .. }), "{err}");
    }

    #[test]
    fn rejects_too_many_items() {
        let err = check_structure(&hex("850101010101"), &SMALL).unwrap_err();
        assert!(matches!(err, CborError::TooManyItems { len: 5, .. }), "{err}");
    }

    #[test]
    fn rejects_nesting_deeper_than_the_limit() {
        check_structure(&hex("818101"), &SMALL).unwrap(); // [[1]]
        let err = check_structure(&hex("81818101"), &SMALL).unwrap_err(); // [[[1]]]
        assert!(matches!(err, CborError::TooDeep { .. }), "{err}");
    }

    #[test]
    fn rejects_indefinite_lengths_tags_and_trailing_bytes() {
        assert!(matches!(check_structure(&hex("9f01ff"), &SMALL), Err(CborError::Indefinite { .. })));
        assert!(matches!(check_structure(&hex("c101"), &SMALL), Err(CborError::Tagged { .. })));
        assert!(matches!(check_structure(&hex("0101"), &SMALL), Err(CborError::TrailingBytes { count: 1 })));
        assert!(matches!(check_structure(&hex(""), &SMALL), Err(CborError::Truncated { .. })));
    }

    #[test]
    fn rejects_non_minimal_integer_encoding() {
        // 1 encoded in two bytes.
        let err = decode::<u64>(&hex("1801"), &SMALL).unwrap_err();
        assert_eq!(err, CborError::NonCanonical);
        assert_eq!(decode::<u64>(&hex("01"), &SMALL).unwrap(), 1);
    }
}
