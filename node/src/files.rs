//! Writing files so that a crash never leaves half of one: write a temporary
//! file beside the target, sync it, rename it over the target, sync the
//! directory. A reader sees the old file or the new one, never a mix; a
//! signed trust list or a config is never destroyed by a crash mid-write.

use std::{
    fs,
    io::Write as _,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

/// Replaces `path` with `bytes` atomically and durably. `mode` sets the
/// permission bits of the new file (e.g. 0o600 for secrets).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file path"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Like [`write_atomic`], but refuses to replace an existing file (keys).
pub fn create_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    if path.exists() {
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "file exists"));
    }
    write_atomic(path, bytes, mode)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kawan.toml");
        write_atomic(&p, b"old", 0o644).unwrap();
        write_atomic(&p, b"new contents", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new contents");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("genesis.trust");
        write_atomic(&p, b"signed list", 0o644).unwrap();
        // Renaming a file over a directory fails: the old file must survive.
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert!(write_atomic(&sub, b"x", 0o644).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"signed list");
        assert!(create_atomic(&p, b"other", 0o600).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"signed list");
    }
}
