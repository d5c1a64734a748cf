//! The agency's identity: one ed25519 key that signs records and is also the
//! node's libp2p identity, so a PeerId *is* an agency (docs/security.md, "Assets").

use std::{
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
};

use kawan_protocol::{AgencyKey, Keypair};
use libp2p::{PeerId, identity};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot read key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write key file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("key file {path} does not hold 64 hex characters (an ed25519 secret key)")]
    Malformed { path: PathBuf },
    #[error("key file {path} is readable by other users (mode {mode:o}); run: chmod 600 {path}")]
    Permissions { path: PathBuf, mode: u32 },
    #[error("not an ed25519 libp2p key")]
    Libp2p,
}

/// Loads the key at `path`, or creates one (mode 0600) if there is none.
pub fn load_or_create(path: &Path) -> Result<Keypair, IdentityError> {
    if path.exists() { load(path) } else { create(path) }
}

/// Loads an existing key file: 64 hex characters, readable by its owner only.
pub fn load(path: &Path) -> Result<Keypair, IdentityError> {
    let read_err = |source| IdentityError::Read { path: path.to_owned(), source };
    let mode = fs::metadata(path).map_err(read_err)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(IdentityError::Permissions { path: path.to_owned(), mode });
    }
    let text = fs::read_to_string(path).map_err(read_err)?;
    from_text(&text).ok_or_else(|| IdentityError::Malformed { path: path.to_owned() })
}

/// A key file's contents (64 hex characters) as a key.
pub fn from_text(text: &str) -> Option<Keypair> {
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret).ok()?;
    Some(Keypair::from_secret_bytes(secret))
}

/// Creates a new random key at `path`; never overwrites an existing file.
pub fn create(path: &Path) -> Result<Keypair, IdentityError> {
    let write_err = |source| IdentityError::Write { path: path.to_owned(), source };
    let secret = random_secret()?;
    crate::files::create_atomic(path, format!("{}\n", hex::encode(secret)).as_bytes(), 0o600).map_err(write_err)?;
    Ok(Keypair::from_secret_bytes(secret))
}

/// Fresh secret bytes from the OS, via libp2p's own ed25519 generator.
fn random_secret() -> Result<[u8; 32], IdentityError> {
    let kp = identity::Keypair::generate_ed25519().try_into_ed25519().map_err(|_| IdentityError::Libp2p)?;
    let mut secret = [0u8; 32];
    secret.copy_from_slice(kp.secret().as_ref());
    Ok(secret)
}

/// The same key as a libp2p identity.
pub fn libp2p_keypair(key: &Keypair) -> Result<identity::Keypair, IdentityError> {
    identity::Keypair::ed25519_from_bytes(key.secret_bytes()).map_err(|_| IdentityError::Libp2p)
}

/// The PeerId of an agency key.
pub fn peer_id(key: &AgencyKey) -> Result<PeerId, IdentityError> {
    let pk = identity::ed25519::PublicKey::try_from_bytes(&key.0).map_err(|_| IdentityError::Libp2p)?;
    Ok(identity::PublicKey::from(pk).to_peer_id())
}

/// The agency key behind a PeerId, if it is an inline ed25519 key.
pub fn agency_key(peer: &PeerId) -> Option<AgencyKey> {
    let pk = identity::PublicKey::try_decode_protobuf(peer_public_bytes(peer)?).ok()?;
    Some(AgencyKey(pk.try_into_ed25519().ok()?.to_bytes()))
}

/// An ed25519 PeerId is an identity multihash of the protobuf-encoded key.
fn peer_public_bytes(peer: &PeerId) -> Option<&[u8]> {
    let mh = peer.as_ref();
    (mh.code() == 0).then(|| mh.digest())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_private_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agency.key");
        let k = load_or_create(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load_or_create(&path).unwrap().public(), k.public());
        assert!(create(&path).is_err(), "never overwrites");
    }

    #[test]
    fn a_readable_or_malformed_key_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agency.key");
        fs::write(&path, "not hex").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("64 hex") && err.contains("agency.key"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(load(&path), Err(IdentityError::Permissions { .. })));
    }

    #[test]
    fn the_peer_id_is_the_agency_key() {
        let k = Keypair::from_secret_bytes([3; 32]);
        let via_libp2p = libp2p_keypair(&k).unwrap().public().to_peer_id();
        assert_eq!(peer_id(&k.public()).unwrap(), via_libp2p);
        assert_eq!(agency_key(&via_libp2p), Some(k.public()));
    }
}
