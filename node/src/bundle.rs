//! Bundle files: a signed bundle (`kawan_protocol::bundle`) sealed with age
//! to the recipient agency's key, so that a USB stick lost between two
//! air-gapped offices reveals nothing and only the node it was made for
//! can open it.
//!
//! The recipient is the X25519 form of the agency's ed25519 key (the
//! construction age's own `ssh-ed25519` recipients use): a member's key in
//! the trust list is all an exporter needs, and the importing node opens
//! the file with its own agency key. What the bundle holds and who may
//! receive it are decided in `service::bundle`.

use std::io::{Read, Write};

use bech32::{Bech32, Hrp};
use kawan_protocol::{AgencyKey, Keypair, bundle::MAX_BUNDLE_BYTES};

#[derive(Debug, thiserror::Error)]
pub enum BundleFileError {
    #[error("not a Kawan bundle file (not age-encrypted: {0})")]
    NotAge(String),
    #[error("this bundle was sealed for another agency's node: this node's key cannot open it")]
    NotForUs,
    #[error("the bundle file is damaged or was altered (its encryption does not check out: {0})")]
    Damaged(String),
    #[error("the bundle is larger than {MAX_BUNDLE_BYTES} bytes")]
    TooLarge,
    #[error("{0} is not a usable agency key for sealing")]
    BadKey(AgencyKey),
    #[error("cannot seal the bundle: {0}")]
    Seal(String),
}

fn recipient(to: &AgencyKey) -> Result<age::x25519::Recipient, BundleFileError> {
    let bad = || BundleFileError::BadKey(*to);
    let public = to.x25519().map_err(|_| bad())?;
    let hrp = Hrp::parse("age").map_err(|_| bad())?;
    bech32::encode::<Bech32>(hrp, &public).map_err(|_| bad())?.parse().map_err(|_| bad())
}

fn identity(key: &Keypair) -> Result<age::x25519::Identity, BundleFileError> {
    let bad = || BundleFileError::BadKey(key.public());
    let hrp = Hrp::parse("age-secret-key-").map_err(|_| bad())?;
    let text = bech32::encode::<Bech32>(hrp, &key.x25519_secret()).map_err(|_| bad())?.to_uppercase();
    text.parse().map_err(|_| bad())
}

/// Seals signed bundle bytes to `to`.
pub fn seal(signed: &[u8], to: &AgencyKey) -> Result<Vec<u8>, BundleFileError> {
    let seal_err = |e: &dyn std::fmt::Display| BundleFileError::Seal(e.to_string());
    let recipient = recipient(to)?;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .map_err(|e| seal_err(&e))?;
    let mut out = Vec::with_capacity(signed.len() + 512);
    let mut writer = encryptor.wrap_output(&mut out).map_err(|e| seal_err(&e))?;
    writer.write_all(signed).map_err(|e| seal_err(&e))?;
    writer.finish().map_err(|e| seal_err(&e))?;
    Ok(out)
}

/// Opens a bundle file with this node's key; the signed bundle bytes.
pub fn unseal(file: &[u8], key: &Keypair) -> Result<Vec<u8>, BundleFileError> {
    let decryptor = age::Decryptor::new(file).map_err(|e| BundleFileError::NotAge(e.to_string()))?;
    let identity = identity(key)?;
    let mut reader = decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => BundleFileError::NotForUs,
        e => BundleFileError::Damaged(e.to_string()),
    })?;
    let mut out = Vec::new();
    (&mut reader)
        .take(MAX_BUNDLE_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BundleFileError::Damaged(e.to_string()))?;
    if out.len() > MAX_BUNDLE_BYTES {
        return Err(BundleFileError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recipient_opens_a_sealed_bundle_and_damage_is_named() {
        let (to, other) = (Keypair::from_secret_bytes([2; 32]), Keypair::from_secret_bytes([3; 32]));
        let sealed = seal(b"signed bundle bytes", &to.public()).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"signed"), "nothing readable in the file");
        assert_eq!(unseal(&sealed, &to).unwrap(), b"signed bundle bytes");
        assert!(matches!(unseal(&sealed, &other), Err(BundleFileError::NotForUs)));
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(matches!(unseal(&damaged, &to), Err(BundleFileError::Damaged(_))));
        assert!(matches!(unseal(b"plain text", &to), Err(BundleFileError::NotAge(_))));
    }
}
