//! Manifests as the running emulator keeps them: each once, as the exact bytes the registry
//! serves, shared (`Arc`) by every version and index entry that names it, and found by its
//! digest, held as 32 bytes rather than as `sha256:…` text.
//!
//! What else a fixture's [`Manifest`] carries (artifact type, annotations, children) is read
//! back from the bytes when it is asked for: by the referrers API for the few manifests it
//! lists, and by [`StateSnapshot`](crate::StateSnapshot)s.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use crate::fixture::manifest::{
    self, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, Manifest, OCI_INDEX, OCI_MANIFEST,
};

/// A SHA-256 digest, written `sha256:<64 lower-case hex digits>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Digest([u8; 32]);

impl Digest {
    /// The digest `text` writes, if it is `sha256:` and 64 lower-case hex digits.
    pub fn parse(text: &str) -> Option<Digest> {
        let hex = text.strip_prefix("sha256:")?;
        if hex.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut bytes = [0; 32];
        hex::decode_to_slice(hex, &mut bytes).ok()?;
        Some(Digest(bytes))
    }

    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(sha2::Sha256::digest(bytes).into())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One manifest the registry serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredManifest {
    /// The SHA-256 of `bytes`.
    pub digest: Digest,
    /// The `Content-Type` it is served with (borrowed for the four usual ones).
    pub media_type: Cow<'static, str>,
    /// The bytes served.
    pub bytes: Bytes,
    /// `subject.digest`, for an OCI 1.1 referrer (the referrers API filters on it).
    pub subject: Option<Box<str>>,
}

/// `media_type` borrowed from the constants when it is one of them.
fn media_type(text: String) -> Cow<'static, str> {
    match text.as_str() {
        OCI_MANIFEST => Cow::Borrowed(OCI_MANIFEST),
        OCI_INDEX => Cow::Borrowed(OCI_INDEX),
        DOCKER_MANIFEST => Cow::Borrowed(DOCKER_MANIFEST),
        DOCKER_MANIFEST_LIST => Cow::Borrowed(DOCKER_MANIFEST_LIST),
        _ => Cow::Owned(text),
    }
}

impl StoredManifest {
    /// A manifest resolved from a fixture (its digest was computed over its bytes).
    pub fn from_manifest(manifest: Manifest) -> StoredManifest {
        StoredManifest {
            digest: Digest::parse(&manifest.digest).unwrap_or_else(|| Digest::of(&manifest.bytes)),
            media_type: media_type(manifest.media_type),
            bytes: manifest.bytes,
            subject: manifest.subject.map(String::into_boxed_str),
        }
    }

    /// An OCI image manifest the generator wrote itself (no subject).
    pub fn oci_image(bytes: Bytes) -> StoredManifest {
        StoredManifest {
            digest: Digest::of(&bytes),
            media_type: Cow::Borrowed(OCI_MANIFEST),
            bytes,
            subject: None,
        }
    }

    /// The manifest as a fixture describes it (read again from the bytes).
    pub fn to_manifest(&self) -> Manifest {
        manifest::redescribe(self.digest.to_string(), self.bytes.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_reads_and_writes_sha256_hex() {
        let text = manifest::sha256_digest(b"hello");
        let digest = Digest::parse(&text).unwrap();
        assert_eq!(digest.to_string(), text);
        assert_eq!(digest, Digest::of(b"hello"));
        assert_eq!(Digest::parse(&text.to_uppercase()), None);
        assert_eq!(
            Digest::parse(&format!("sha256:{}", text[7..].to_uppercase())),
            None
        );
        assert_eq!(Digest::parse(&format!("sha256:{}", &text[7..70])), None);
        assert_eq!(Digest::parse("sha256:abc"), None);
        assert_eq!(Digest::parse("latest"), None);
    }
}
