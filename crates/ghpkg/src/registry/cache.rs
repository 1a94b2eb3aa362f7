//! The manifest cache: manifests by digest on disk. A manifest by digest never changes, so a
//! cached one is never read from the registry again (each read counts as a download). What the
//! cache returns is checked against its digest; a damaged file is ignored and replaced.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::sha256_hex;
use crate::journal::write_replacing;

/// Manifests by digest under one directory: `sha256/<hex>` holds the bytes, `sha256/<hex>.type`
/// the media type.
#[derive(Clone, Debug)]
pub struct ManifestCache {
    directory: PathBuf,
}

impl ManifestCache {
    /// A cache in `directory` (created when first written).
    pub fn new(directory: PathBuf) -> Self {
        Self { directory }
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn paths(&self, hex: &str) -> (PathBuf, PathBuf) {
        let base = self.directory.join("sha256");
        (base.join(hex), base.join(format!("{hex}.type")))
    }

    /// The manifest with sha256 `hex` and its media type, if cached and intact.
    pub(crate) fn get(&self, hex: &str) -> Option<(Bytes, String)> {
        let (bytes_path, type_path) = self.paths(hex);
        let bytes = std::fs::read(bytes_path).ok()?;
        if sha256_hex(&bytes) != hex {
            return None;
        }
        let media_type = std::fs::read_to_string(type_path).ok()?;
        let media_type = media_type.trim();
        let valid = !media_type.is_empty()
            && media_type.len() <= 255
            && media_type.bytes().all(|b| b.is_ascii_graphic());
        valid.then(|| (Bytes::from(bytes), media_type.to_string()))
    }

    /// Caches a manifest; a failure to write only means it is read again next time.
    pub(crate) fn put(&self, hex: &str, bytes: &[u8], media_type: &str) {
        let (bytes_path, type_path) = self.paths(hex);
        if let Some(parent) = bytes_path.parent()
            && std::fs::create_dir_all(parent).is_err()
        {
            return;
        }
        // The type first: a manifest file without its type is ignored, never misread. Neither
        // is synced: a file a crash loses or empties fails the checks of `get` and is read
        // from the registry again.
        if write_replacing(&type_path, media_type.as_bytes()).is_ok() {
            let _ = write_replacing(&bytes_path, bytes);
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
        std::fs::write(dir.path().join("sha256").join(&hex), b"tampered").unwrap();
        assert!(cache.get(&hex).is_none(), "a damaged file is not trusted");
    }
}
