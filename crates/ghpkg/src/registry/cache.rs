//! The manifest cache: manifests by digest on disk. A manifest by digest never changes, so a
//! cached one is never read from the registry again (each read counts as a download). What the
//! cache returns is checked against its digest; a damaged file is ignored and replaced.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::sha256_hex;
use crate::journal::write_replacing;

/// Manifests by digest under one directory: `sha256/<hex>` holds the media type, a newline and
/// the bytes, so that a read is one file. (Before, a `sha256/<hex>.type` beside the bytes held
/// the type: such a file fails the digest check, is read from the registry again and
/// replaced.)
#[derive(Clone, Debug)]
pub struct ManifestCache {
    directory: PathBuf,
}

/// The longest media type a cached manifest may have.
const MAX_MEDIA_TYPE: usize = 255;

impl ManifestCache {
    /// A cache in `directory` (created when first written).
    pub fn new(directory: PathBuf) -> Self {
        Self { directory }
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn path(&self, hex: &str) -> PathBuf {
        self.directory.join("sha256").join(hex)
    }

    /// The manifest with sha256 `hex` and its media type, if cached and intact.
    pub(crate) fn get(&self, hex: &str) -> Option<(Bytes, String)> {
        let file = Bytes::from(std::fs::read(self.path(hex)).ok()?);
        let newline = file
            .iter()
            .take(MAX_MEDIA_TYPE + 1)
            .position(|&b| b == b'\n')?;
        let media_type = std::str::from_utf8(&file[..newline]).ok()?;
        let valid = !media_type.is_empty() && media_type.bytes().all(|b| b.is_ascii_graphic());
        let bytes = file.slice(newline + 1..);
        (valid && sha256_hex(&bytes) == hex).then(|| (bytes, media_type.to_string()))
    }

    /// Caches a manifest; a failure to write only means it is read again next time.
    pub(crate) fn put(&self, hex: &str, bytes: &[u8], media_type: &str) {
        let path = self.path(hex);
        if media_type.len() > MAX_MEDIA_TYPE || media_type.contains('\n') {
            return;
        }
        if let Some(parent) = path.parent()
            && std::fs::create_dir_all(parent).is_err()
        {
            return;
        }
        let mut file = Vec::with_capacity(media_type.len() + 1 + bytes.len());
        file.extend_from_slice(media_type.as_bytes());
        file.push(b'\n');
        file.extend_from_slice(bytes);
        // Unsynced: a file a crash loses or empties fails the checks of `get` and is read from
        // the registry again.
        if write_replacing(&path, &file).is_ok() {
            // The type file of the layout before, if any.
            let _ = std::fs::remove_file(path.with_extension("type"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_manifests_come_back_only_when_intact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ManifestCache::new(dir.path().to_path_buf());
        let bytes = br#"{"schemaVersion":2}"#;
        let hex = sha256_hex(bytes);
        assert!(cache.get(&hex).is_none());
        cache.put(&hex, bytes, "application/vnd.oci.image.manifest.v1+json");
        let (got, media_type) = cache.get(&hex).unwrap();
        assert_eq!(&got[..], bytes);
        assert_eq!(media_type, "application/vnd.oci.image.manifest.v1+json");
        let file = dir.path().join("sha256").join(&hex);
        let mut damaged = std::fs::read(&file).unwrap();
        *damaged.last_mut().unwrap() ^= 1;
        std::fs::write(&file, damaged).unwrap();
        assert!(cache.get(&hex).is_none(), "a damaged file is not trusted");
        for bad in [&b"tampered"[..], b"", b"\n{}", b"application/json"] {
            std::fs::write(&file, bad).unwrap();
            assert!(cache.get(&hex).is_none(), "{bad:?} is not trusted");
        }
    }

    #[test]
    fn a_cache_of_the_layout_before_is_read_again_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ManifestCache::new(dir.path().to_path_buf());
        let bytes = br#"{"schemaVersion":2}"#;
        let hex = sha256_hex(bytes);
        let old = dir.path().join("sha256").join(&hex);
        std::fs::create_dir_all(old.parent().unwrap()).unwrap();
        std::fs::write(&old, bytes).unwrap();
        std::fs::write(old.with_extension("type"), "application/json").unwrap();
        assert!(cache.get(&hex).is_none(), "the bytes alone are no entry");
        cache.put(&hex, bytes, "application/vnd.oci.image.manifest.v1+json");
        assert!(cache.get(&hex).is_some());
        assert!(
            !old.with_extension("type").exists(),
            "the old type file is gone"
        );
    }
}
