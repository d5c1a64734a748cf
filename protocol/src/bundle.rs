//! Bundles: sync over a file, for agencies whose nodes are air-gapped or
//! only now and then online (docs/protocol.md §6).
//!
//! A bundle is what one member's node would have sent another over the
//! network, written down: signed records the recipient may receive and the
//! trust-list chain, in one body signed by the exporting node's agency key
//! and addressed to one recipient key. The node seals it to the
//! recipient (age, to the X25519 form of its agency key), so only that
//! node can open it; this module is the format inside the seal and has no
//! I/O. Records keep their own signatures: a bundle adds nothing an
//! importer must take on trust but who made it and for whom.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::{
    AgencyKey, CborError, Keypair, NetworkId, RecordId, Sig, cbor,
    limits::{Bounds, MAX_ENVELOPE_BYTES, MAX_TRUST_LIST_BYTES},
};

/// Signatures over a bundle body use this domain, so no record or trust-list
/// signature can be passed off as one.
pub const BUNDLE_DOMAIN: &[u8] = b"kawan/bundle/v1";
/// Largest bundle accepted (the signed body and its signature).
pub const MAX_BUNDLE_BYTES: usize = 512 << 20;
/// Most records one bundle carries.
pub const MAX_BUNDLE_RECORDS: usize = 4 << 20;

const OUTER: Bounds = Bounds { max_bytes: MAX_BUNDLE_BYTES, max_string: MAX_BUNDLE_BYTES, max_items: 2, max_depth: 1 };
const BODY: Bounds = Bounds {
    max_bytes: MAX_BUNDLE_BYTES,
    max_string: if MAX_TRUST_LIST_BYTES > MAX_ENVELOPE_BYTES { MAX_TRUST_LIST_BYTES } else { MAX_ENVELOPE_BYTES },
    max_items: MAX_BUNDLE_RECORDS,
    max_depth: 2,
};

/// What a bundle carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub network: NetworkId,
    /// The exporting node's agency key (it signs the bundle).
    pub from: AgencyKey,
    /// The one node meant to import it.
    pub to: AgencyKey,
    pub created_ms: u64,
    /// Records the exporter stored before this were left out (`--since`), if set.
    pub since_ms: Option<u64>,
    /// Signed trust lists, oldest first: the exporter's chain.
    pub lists: Vec<ByteBuf>,
    /// Record envelopes, each log in order.
    pub records: Vec<ByteBuf>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedBundle {
    body: ByteBuf,
    sig: Sig,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a Kawan bundle: {0}")]
    Decode(CborError),
    #[error("the bundle's signature does not match its contents or the key it names (altered after it was made)")]
    BadSignature,
    #[error("cannot encode the bundle: {0}")]
    Encode(CborError),
}

impl Bundle {
    /// Signs the bundle with the exporting node's key: the bytes to seal,
    /// and the bundle's id (see [`Bundle::open`]).
    pub fn sign(&self, key: &Keypair) -> Result<(Vec<u8>, RecordId), BundleError> {
        let body = cbor::encode(self).map_err(BundleError::Encode)?;
        let sig = key.sign(BUNDLE_DOMAIN, &body);
        let id = RecordId::of(&body);
        let bytes = cbor::encode(&SignedBundle { body: ByteBuf::from(body), sig }).map_err(BundleError::Encode)?;
        Ok((bytes, id))
    }

    /// Reads signed bundle bytes and checks the signature against the key
    /// the bundle names as its maker; returns the bundle and its id (the
    /// BLAKE3 hash of the signed body: the same bundle, the same id). Whether
    /// that key is a member's, and whether the bundle is for this node, is
    /// the importer's to check.
    pub fn open(bytes: &[u8]) -> Result<(Bundle, RecordId), BundleError> {
        let signed: SignedBundle = cbor::decode(bytes, &OUTER).map_err(BundleError::Decode)?;
        let bundle: Bundle = cbor::decode(&signed.body, &BODY).map_err(BundleError::Decode)?;
        if !bundle.from.verify(BUNDLE_DOMAIN, &signed.body, &signed.sig) {
            return Err(BundleError::BadSignature);
        }
        Ok((bundle, RecordId::of(&signed.body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(from: &Keypair) -> Bundle {
        Bundle {
            network: NetworkId::new("kawan-example").unwrap(),
            from: from.public(),
            to: Keypair::from_secret_bytes([2; 32]).public(),
            created_ms: 1_800_000_000_000,
            since_ms: None,
            lists: vec![ByteBuf::from(b"list".to_vec())],
            records: vec![ByteBuf::from(b"envelope-bytes".to_vec())],
        }
    }

    #[test]
    fn a_bundle_opens_as_it_was_made_and_any_change_is_caught() {
        let key = Keypair::from_secret_bytes([1; 32]);
        let (bytes, made) = bundle(&key).sign(&key).unwrap();
        let (opened, id) = Bundle::open(&bytes).unwrap();
        assert_eq!((opened, id), (bundle(&key), made));
        assert_eq!(Bundle::open(&bytes).unwrap().1, id, "the same bundle, the same id");
        // One byte of a record changed: refused.
        let at = bytes.windows(14).position(|w| w == b"envelope-bytes").unwrap();
        let mut altered = bytes.clone();
        altered[at] = b'E';
        assert!(matches!(Bundle::open(&altered), Err(BundleError::BadSignature)));
        // Signed by another key than the one it names: refused.
        let (forged, _) = bundle(&key).sign(&Keypair::from_secret_bytes([3; 32])).unwrap();
        assert!(matches!(Bundle::open(&forged), Err(BundleError::BadSignature)));
        assert!(matches!(Bundle::open(b"not a bundle"), Err(BundleError::Decode(_))));
    }
}
