//! Agency keys, signatures and content ids.
//!
//! An agency's ed25519 key signs its records and is also its libp2p identity,
//! so a PeerId *is* an agency. Generating keys needs an OS random source, which
//! is I/O, so it lives in the node; this crate only loads secret bytes.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

/// An agency's ed25519 public key (32 bytes); shown as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgencyKey(pub [u8; 32]);

/// A record's id: BLAKE3-256 of its `signed` bytes; shown as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(pub [u8; 32]);

/// An ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sig(pub [u8; 64]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("expected {expected} hex characters, got {got:?}")]
    BadHex { expected: usize, got: String },
    #[error("not a valid ed25519 public key")]
    InvalidPoint,
    #[error("weak ed25519 public key (small order) refused")]
    Weak,
}

pub(crate) fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], KeyError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s.trim(), &mut out)
        .map_err(|_| KeyError::BadHex { expected: N * 2, got: s.chars().take(140).collect() })?;
    Ok(out)
}

/// Decompressed keys of recent authors. Decompressing a key costs a third
/// of a verification, and a network has few authors and many records: a
/// node verifying one record at a time (pushes, announcements) would
/// otherwise pay it every time. Bounded; cleared when full.
static DECOMPRESSED: std::sync::Mutex<Option<std::collections::HashMap<[u8; 32], VerifyingKey>>> =
    std::sync::Mutex::new(None);
const DECOMPRESSED_MAX: usize = 16_384;

impl AgencyKey {
    /// The key as ed25519-dalek wants it; refuses invalid and weak points.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let mut cache = DECOMPRESSED.lock().unwrap_or_else(|e| e.into_inner());
        let cache = cache.get_or_insert_with(Default::default);
        if let Some(vk) = cache.get(&self.0) {
            return Ok(*vk);
        }
        let vk = VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::InvalidPoint)?;
        if vk.is_weak() {
            return Err(KeyError::Weak);
        }
        if cache.len() >= DECOMPRESSED_MAX {
            cache.clear();
        }
        cache.insert(self.0, vk);
        Ok(vk)
    }

    /// The X25519 (Montgomery) form of this key: what files for this agency
    /// are sealed to (see [`Keypair::x25519_secret`]).
    pub fn x25519(&self) -> Result<[u8; 32], KeyError> {
        Ok(self.verifying_key()?.to_montgomery().to_bytes())
    }

    /// Verifies `sig` over `domain || message`, strictly (no malleable signatures).
    pub fn verify(&self, domain: &[u8], message: &[u8], sig: &Sig) -> bool {
        let Ok(vk) = self.verifying_key() else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(&prefixed(domain, message), &sig).is_ok()
    }
}

/// `domain || message`: what is actually signed, so a signature made for one
/// purpose (a record) can never be replayed as another (a trust list).
pub(crate) fn prefixed(domain: &[u8], message: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain.len() + message.len());
    m.extend_from_slice(domain);
    m.extend_from_slice(message);
    m
}

impl RecordId {
    pub fn of(signed: &[u8]) -> RecordId {
        RecordId(*blake3::hash(signed).as_bytes())
    }
}

/// An agency's signing key. Clone is for handing it to the store's writer
/// thread, which signs a publish once its log position is known.
#[derive(Clone)]
pub struct Keypair(SigningKey);

impl Keypair {
    /// Loads a key from its 32 secret bytes (the ed25519 seed).
    pub fn from_secret_bytes(secret: [u8; 32]) -> Keypair {
        Keypair(SigningKey::from_bytes(&secret))
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public(&self) -> AgencyKey {
        AgencyKey(self.0.verifying_key().to_bytes())
    }

    /// The X25519 secret of this key: the scalar ed25519 itself derives
    /// from the seed (the first half of its SHA-512). It opens what was
    /// sealed to [`AgencyKey::x25519`] (bundles: plain age X25519 stanzas
    /// over the same birational map age's ssh-ed25519 recipients use), so
    /// an agency needs no second key.
    pub fn x25519_secret(&self) -> [u8; 32] {
        self.0.to_scalar_bytes()
    }

    /// Signs `domain || message`.
    pub fn sign(&self, domain: &[u8], message: &[u8]) -> Sig {
        Sig(self.0.sign(&prefixed(domain, message)).to_bytes())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?})", self.public())
    }
}

/// Hex text in JSON, a byte string in CBOR, for a fixed-size hash type
/// (also `attachment`'s).
macro_rules! hex_display {
    ($name:ident, $n:expr) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::keys::KeyError;
            fn from_str(s: &str) -> Result<Self, $crate::keys::KeyError> {
                $crate::keys::parse_hex::<$n>(s).map($name)
            }
        }
        // A byte string in CBOR (the wire format); hex text in JSON and other
        // human-readable formats (the API).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() { s.serialize_str(&hex::encode(self.0)) } else { s.serialize_bytes(&self.0) }
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let s = <String as serde::Deserialize>::deserialize(d)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    serde_bytes::deserialize::<[u8; $n], D>(d).map($name)
                }
            }
        }
    };
}
hex_display!(AgencyKey, 32);
hex_display!(RecordId, 32);
hex_display!(Sig, 64);
pub(crate) use hex_display;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_bound_to_their_domain() {
        let k = Keypair::from_secret_bytes([7; 32]);
        let sig = k.sign(b"kawan/record/v1", b"hello");
        assert!(k.public().verify(b"kawan/record/v1", b"hello", &sig));
        assert!(!k.public().verify(b"kawan/trust/v1", b"hello", &sig));
        assert!(!k.public().verify(b"kawan/record/v1", b"hellO", &sig));
    }

    #[test]
    fn hex_forms_round_trip_and_bad_hex_is_named() {
        let k = Keypair::from_secret_bytes([1; 32]).public();
        assert_eq!(k.to_string().parse::<AgencyKey>().unwrap(), k);
        let err = "abc".parse::<AgencyKey>().unwrap_err();
        assert!(err.to_string().contains("64 hex"), "{err}");
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (small order).
        let mut id = [0u8; 32];
        id[0] = 1;
        assert_eq!(AgencyKey(id).verifying_key().unwrap_err(), KeyError::Weak);
    }
}
