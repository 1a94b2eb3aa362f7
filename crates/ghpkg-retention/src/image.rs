//! What the registry said about a container package's manifests: the input of the image graph.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the registry said about the manifests of one container package.
///
/// # What to read
///
/// Read the manifest of **every version**, and of every index entry that is not a version
/// (follow those to the versions they list). A parent's descriptor may say what an entry is;
/// only the entry's own manifest says what it lists and what it refers to, so the engine never
/// takes a descriptor's word for it. A version that is missing from `manifests`, or
/// [`Unreadable`](ManifestFacts::Unreadable), makes the whole package delete nothing
/// (`keep:unreadable-graph`), and so does a kept index's entry that is not a version and could
/// not be read. When the rules cannot delete anything in a package whatever its graph holds
/// ([`needs_image_graph`](crate::needs_image_graph) says so), pass no graph and read nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageGraph {
    /// Each digest that was read, and what was found.
    #[serde(default)]
    pub manifests: BTreeMap<String, ManifestFacts>,
    /// Subject digest → the digests the OCI referrers API listed for it, for the subjects it was
    /// asked about.
    #[serde(default)]
    pub referrers: BTreeMap<String, Vec<String>>,
    /// How many manifests were read, echoed into the plan.
    #[serde(default)]
    pub reads: ReadStats,
}

/// The result of reading one manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestFacts {
    /// The manifest was read and parsed.
    Read(Manifest),
    /// The manifest could not be read or parsed; the reason is shown in the plan.
    Unreadable {
        /// What went wrong, e.g. `HTTP 500` or `invalid JSON`.
        reason: String,
    },
}

/// The parts of a manifest that make up the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Index, image, or another media type.
    pub kind: ManifestKind,
    /// The entries of an index (platform images, attestations, nested indexes); empty for an
    /// image.
    #[serde(default)]
    pub children: Vec<ChildRef>,
    /// The OCI 1.1 `subject`: the digest this manifest refers to (a signature, SBOM or
    /// attestation of that digest).
    #[serde(default)]
    pub subject: Option<String>,
    /// The OCI 1.1 `artifactType`, shown for information only.
    #[serde(default)]
    pub artifact_type: Option<String>,
}

/// What a manifest or descriptor is, by media type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestKind {
    /// An OCI image index or a Docker manifest list: it lists other manifests.
    Index,
    /// An OCI image manifest or a Docker image manifest: a leaf.
    Image,
    /// Any other media type, kept as given; treated as a leaf.
    Other(String),
}

impl ManifestKind {
    /// Classifies a media type (parameters after `;` are ignored): the OCI index and the Docker
    /// manifest list are indexes, the OCI and Docker image manifests are images.
    pub fn from_media_type(media_type: &str) -> ManifestKind {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        match essence {
            "application/vnd.oci.image.index.v1+json"
            | "application/vnd.docker.distribution.manifest.list.v2+json" => ManifestKind::Index,
            "application/vnd.oci.image.manifest.v1+json"
            | "application/vnd.docker.distribution.manifest.v2+json"
            | "application/vnd.docker.distribution.manifest.v1+json"
            | "application/vnd.docker.distribution.manifest.v1+prettyjws" => ManifestKind::Image,
            other => ManifestKind::Other(other.to_owned()),
        }
    }
}

/// One entry of an index, from its descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildRef {
    /// The entry's digest.
    pub digest: String,
    /// What the descriptor's media type says the entry is: shown for information only, since
    /// descriptors can be wrong; the entry's own manifest decides.
    pub kind: ManifestKind,
    /// `os/arch[/variant]`, or `unknown/unknown` for attestations; absent in fallback indexes.
    #[serde(default)]
    pub platform: Option<String>,
    /// For a buildx attestation manifest (`vnd.docker.reference.type: attestation-manifest`):
    /// the digest it attests (`vnd.docker.reference.digest`). Shown for information: an
    /// attestation is a child of the index that lists it and goes with that index, so that
    /// planning again after an apply plans nothing new.
    #[serde(default)]
    pub attestation_for: Option<String>,
}

/// How many manifests the caller read, and how many of those came from its cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadStats {
    /// Manifests fetched from the registry (each counts as a download).
    pub from_registry: u64,
    /// Manifests found in the caller's cache.
    pub from_cache: u64,
}

impl ReadStats {
    pub(crate) fn add(&mut self, other: ReadStats) {
        self.from_registry = self.from_registry.saturating_add(other.from_registry);
        self.from_cache = self.from_cache.saturating_add(other.from_cache);
    }
}

/// The subject digest named by a cosign or referrers-schema tag, or `None` for an ordinary tag.
///
/// `sha256-<64 hex>` (the OCI referrers tag schema) and `sha256-<64 hex>.sig`, `.att` or `.sbom`
/// (cosign) attach their version to `sha256:<64 hex>`; `sha512-<128 hex>` likewise. Such tags are
/// not user tags: tag rules, `keep_newest` and the last-tagged-version rule ignore them.
///
/// ```
/// use ghpkg_retention::attachment_subject;
///
/// let hex = "a".repeat(64);
/// assert_eq!(attachment_subject(&format!("sha256-{hex}.sig")), Some(format!("sha256:{hex}")));
/// assert_eq!(attachment_subject("v1.2"), None);
/// assert_eq!(attachment_subject("sha256-abc.sig"), None);
/// ```
pub fn attachment_subject(tag: &str) -> Option<String> {
    let stem = [".sig", ".att", ".sbom"]
        .iter()
        .find_map(|suffix| tag.strip_suffix(suffix))
        .unwrap_or(tag);
    let (algorithm, hex) = stem.split_once('-')?;
    is_digest_parts(algorithm, hex).then(|| format!("{algorithm}:{hex}"))
}

/// Whether `name` looks like a manifest digest (`sha256:<64 hex>` or `sha512:<128 hex>`).
pub(crate) fn is_digest(name: &str) -> bool {
    name.split_once(':')
        .is_some_and(|(algorithm, hex)| is_digest_parts(algorithm, hex))
}

fn is_digest_parts(algorithm: &str, hex: &str) -> bool {
    let length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == length
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_and_referrer_tags_name_their_subject() {
        let hex = "0123456789abcdef".repeat(4);
        let subject = Some(format!("sha256:{hex}"));
        assert_eq!(attachment_subject(&format!("sha256-{hex}")), subject);
        assert_eq!(attachment_subject(&format!("sha256-{hex}.sig")), subject);
        assert_eq!(attachment_subject(&format!("sha256-{hex}.att")), subject);
        assert_eq!(attachment_subject(&format!("sha256-{hex}.sbom")), subject);
        let long = "ab".repeat(64);
        assert_eq!(
            attachment_subject(&format!("sha512-{long}.sig")),
            Some(format!("sha512:{long}"))
        );
    }

    #[test]
    fn ordinary_tags_are_user_tags() {
        let hex = "a".repeat(64);
        for tag in [
            "latest".to_owned(),
            "sha256-abc".to_owned(),
            format!("sha256-{hex}.sig.sig"),
            format!("sha256-{}", "A".repeat(64)),
            format!("sha1-{hex}"),
            format!("sha256-{hex}.txt"),
            format!("sha256-{hex}x"),
        ] {
            assert_eq!(attachment_subject(&tag), None, "{tag}");
        }
    }

    #[test]
    fn digests_are_recognised() {
        assert!(is_digest(&format!("sha256:{}", "f".repeat(64))));
        assert!(!is_digest(&format!("sha256:{}", "f".repeat(63))));
        assert!(!is_digest("1.2.3"));
        assert!(!is_digest(&format!("sha256-{}", "f".repeat(64))));
        assert!(!is_digest(&format!("sha256:{}.sig", "f".repeat(64))));
    }

    #[test]
    fn media_types_classify_manifests() {
        assert_eq!(
            ManifestKind::from_media_type("application/vnd.oci.image.index.v1+json"),
            ManifestKind::Index
        );
        assert_eq!(
            ManifestKind::from_media_type(
                "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8"
            ),
            ManifestKind::Index
        );
        assert_eq!(
            ManifestKind::from_media_type("application/vnd.docker.distribution.manifest.v2+json"),
            ManifestKind::Image
        );
        assert_eq!(
            ManifestKind::from_media_type("application/vnd.oci.artifact.manifest.v1+json"),
            ManifestKind::Other("application/vnd.oci.artifact.manifest.v1+json".into())
        );
    }
}
