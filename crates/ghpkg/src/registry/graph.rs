//! Reading a container package's image graph: which manifests to read, in which order, and what
//! each says (parsed with `oci-spec`'s index, manifest and descriptor types).
//!
//! Only what the plan needs is read: every tagged version first (newest first), then every other
//! version that no index read so far lists as a leaf child, in waves of the client's concurrency,
//! newest first (an index is usually pushed after its children, so reading it first spares them).
//! Children an index lists with an image media type are known from its descriptor and never
//! read; children that are indexes themselves are read next. When the registry answers the OCI
//! referrers API (probed once per run), the referrers of every tagged version are asked for too,
//! alongside the reads (listing referrers is not a download).

use std::collections::{BTreeMap, HashSet, VecDeque};

use futures::StreamExt;
use ghpkg_retention::{
    ChildRef, ImageGraph, Manifest, ManifestFacts, ManifestKind, PackageFacts, ReadStats,
    VersionFacts, attachment_subject,
};
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use super::Registry;
use crate::error::{Error, Result};
use crate::package::PackageHandle;
use crate::types::PackageType;

/// The annotation buildx sets on an attestation manifest's entry in an index.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// The annotation naming the manifest an attestation attests.
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

impl PackageHandle {
    /// Every active version as the engine's facts, and — for container and docker packages —
    /// the image graph read from `registry` (see [the module docs](crate::registry)). Other
    /// package types get no graph.
    pub async fn facts_with_graph(&self, registry: &Registry) -> Result<PackageFacts> {
        let mut facts = self.facts().await?;
        if !matches!(
            self.package_type(),
            PackageType::Container | PackageType::Docker
        ) {
            return Ok(facts);
        }
        let repository = self.repository().await?;
        let concurrency = self.scope().client().concurrency();
        facts.graph = Some(read_graph(registry, &repository, &facts.versions, concurrency).await);
        Ok(facts)
    }

    /// The package's repository in the registry: `owner/name`, the owner lower-cased and the
    /// name's `/` kept.
    pub(crate) async fn repository(&self) -> Result<String> {
        let owner = match self.scope().owner().login() {
            Some(login) => login.to_string(),
            None => {
                let package = self.get().await?;
                package
                    .owner_login()
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "GitHub did not name the owner of {}; pass --user or --org",
                            self.name()
                        ))
                    })?
                    .to_string()
            }
        };
        Ok(format!("{}/{}", owner.to_ascii_lowercase(), self.name()))
    }
}

/// Reads what the engine needs of the manifests of `versions`: the manifests and the referrers
/// at once, `concurrency` requests in flight between them (the registry's pacer holds the cap).
pub(crate) async fn read_graph(
    registry: &Registry,
    repository: &str,
    versions: &[VersionFacts],
    concurrency: usize,
) -> ImageGraph {
    let mut newest_first: Vec<&VersionFacts> = versions.iter().collect();
    newest_first.sort_by_key(|v| std::cmp::Reverse((v.created_at, v.id)));
    let (tagged, untagged): (Vec<&VersionFacts>, Vec<&VersionFacts>) =
        newest_first.into_iter().partition(|v| !v.tags.is_empty());
    let concurrency = concurrency.max(1);
    let ((manifests, reads), referrers) = futures::join!(
        read_manifests(
            registry,
            repository,
            versions,
            &tagged,
            &untagged,
            concurrency
        ),
        read_referrers(registry, repository, &tagged, concurrency),
    );
    ImageGraph {
        manifests,
        referrers,
        reads,
    }
}

/// Reads the manifests of `tagged`, then of `untagged`, skipping every digest an index read so
/// far lists as a leaf child, in waves of `concurrency` reads. Waves, rather than a read started
/// as each ends, keep the set of digests read independent of timing: a rerun asks for exactly
/// the digests the first run cached, so it downloads nothing.
async fn read_manifests(
    registry: &Registry,
    repository: &str,
    versions: &[VersionFacts],
    tagged: &[&VersionFacts],
    untagged: &[&VersionFacts],
    concurrency: usize,
) -> (BTreeMap<String, ManifestFacts>, ReadStats) {
    let mut manifests: BTreeMap<String, ManifestFacts> = BTreeMap::new();
    let mut reads = ReadStats::default();
    let listed: HashSet<&str> = versions.iter().map(|v| v.name.as_str()).collect();
    let mut queue: VecDeque<String> = tagged
        .iter()
        .chain(untagged)
        .map(|v| v.name.clone())
        .collect();
    let mut leaves: HashSet<String> = HashSet::new();
    loop {
        let mut wave = Vec::new();
        while wave.len() < concurrency {
            let Some(digest) = queue.pop_front() else {
                break;
            };
            if manifests.contains_key(&digest) || leaves.contains(&digest) || wave.contains(&digest)
            {
                continue;
            }
            wave.push(digest);
        }
        if wave.is_empty() {
            break;
        }
        // In wave order, so that nested indexes are queued the same way every run.
        let mut results = futures::stream::iter(wave)
            .map(|digest| async move {
                let fetched = registry.manifest(repository, &digest).await;
                (digest, fetched)
            })
            .buffered(concurrency);
        while let Some((digest, fetched)) = results.next().await {
            let facts = match fetched {
                Ok(fetched) => {
                    if fetched.from_cache {
                        reads.from_cache += 1;
                    } else {
                        reads.from_registry += 1;
                    }
                    match parse_manifest(&fetched.bytes, &fetched.media_type) {
                        Ok(manifest) => {
                            for child in &manifest.children {
                                if child.kind == ManifestKind::Index {
                                    // A nested index: its own children matter; read it soon.
                                    if listed.contains(child.digest.as_str()) {
                                        queue.push_front(child.digest.clone());
                                    }
                                } else {
                                    leaves.insert(child.digest.clone());
                                }
                            }
                            ManifestFacts::Read(manifest)
                        }
                        Err(reason) => ManifestFacts::Unreadable { reason },
                    }
                }
                Err(reason) => ManifestFacts::Unreadable { reason },
            };
            manifests.insert(digest, facts);
        }
    }
    (manifests, reads)
}

/// The referrers of every tagged version (attachment tags, `sha256-<hex>.sig`, name their
/// subject already), when the registry answers the OCI referrers API: the first call probes it,
/// the rest go `concurrency` at a time. A version whose referrers cannot be listed has none
/// recorded (its graph still protects what its manifest lists).
async fn read_referrers(
    registry: &Registry,
    repository: &str,
    tagged: &[&VersionFacts],
    concurrency: usize,
) -> BTreeMap<String, Vec<String>> {
    let mut subjects = tagged
        .iter()
        .filter(|version| {
            !version
                .tags
                .iter()
                .all(|tag| attachment_subject(tag).is_some())
        })
        .map(|version| version.name.as_str());
    let mut referrers = BTreeMap::new();
    // Probe until the registry has said whether it answers the API at all.
    for digest in subjects.by_ref() {
        match registry.referrers(repository, digest).await {
            Ok(Some(found)) => {
                if !found.is_empty() {
                    referrers.insert(digest.to_string(), found);
                }
                break;
            }
            Ok(None) => return referrers,
            Err(_) => {}
        }
    }
    let mut listed = futures::stream::iter(subjects)
        .map(|digest| async move { (digest, registry.referrers(repository, digest).await) })
        .buffer_unordered(concurrency);
    while let Some((digest, found)) = listed.next().await {
        if let Ok(Some(found)) = found
            && !found.is_empty()
        {
            referrers.insert(digest.to_string(), found);
        }
    }
    referrers
}

/// What a manifest says, for the graph: its kind, its entries (for an index), its subject.
pub(crate) fn parse_manifest(
    bytes: &[u8],
    media_type: &str,
) -> std::result::Result<Manifest, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| format!("not JSON: {error}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "not a JSON object".to_string())?;
    let declared = object
        .get("mediaType")
        .and_then(serde_json::Value::as_str)
        .unwrap_or(media_type)
        .to_string();
    let declared_kind = ManifestKind::from_media_type(&declared);
    if object.contains_key("manifests") || declared_kind == ManifestKind::Index {
        let index: ImageIndex = serde_json::from_value(value)
            .map_err(|error| format!("not a valid image index: {error}"))?;
        return Ok(Manifest {
            kind: ManifestKind::Index,
            children: index.manifests().iter().map(child).collect(),
            subject: index.subject().as_ref().map(|d| d.digest().to_string()),
            artifact_type: index.artifact_type().as_ref().map(ToString::to_string),
        });
    }
    if object.contains_key("layers") || object.contains_key("config") {
        let kind = match declared_kind {
            ManifestKind::Other(_) if !object.contains_key("mediaType") => ManifestKind::Image,
            kind => kind,
        };
        let manifest: ImageManifest = serde_json::from_value(value)
            .map_err(|error| format!("not a valid image manifest: {error}"))?;
        return Ok(Manifest {
            kind,
            children: Vec::new(),
            subject: manifest.subject().as_ref().map(|d| d.digest().to_string()),
            artifact_type: manifest.artifact_type().as_ref().map(ToString::to_string),
        });
    }
    Ok(Manifest {
        kind: ManifestKind::Other(crate::failure::excerpt(&declared)),
        children: Vec::new(),
        subject: None,
        artifact_type: None,
    })
}

/// An index entry as the graph sees it.
fn child(descriptor: &Descriptor) -> ChildRef {
    let annotations = descriptor.annotations().as_ref();
    let annotation = |name: &str| annotations.and_then(|a| a.get(name)).cloned();
    let attestation_for = (annotation(REFERENCE_TYPE).as_deref() == Some("attestation-manifest"))
        .then(|| annotation(REFERENCE_DIGEST))
        .flatten();
    ChildRef {
        digest: descriptor.digest().to_string(),
        kind: ManifestKind::from_media_type(descriptor.media_type().as_ref()),
        platform: descriptor.platform().as_ref().map(|platform| {
            let mut name = format!("{}/{}", platform.os(), platform.architecture());
            if let Some(variant) = platform.variant() {
                name.push('/');
                name.push_str(variant);
            }
            name
        }),
        attestation_for,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    #[test]
    fn an_index_lists_its_platforms_and_attestations() {
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(1), "size": 10,
                 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(2), "size": 10,
                 "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": digest(1)}},
                {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest(3), "size": 10}
            ]
        });
        let manifest = parse_manifest(index.to_string().as_bytes(), "").unwrap();
        assert_eq!(manifest.kind, ManifestKind::Index);
        assert_eq!(
            manifest.children[0].platform.as_deref(),
            Some("linux/arm64/v8")
        );
        assert_eq!(manifest.children[1].attestation_for, Some(digest(1)));
        assert_eq!(manifest.children[2].kind, ManifestKind::Index);
    }

    #[test]
    fn a_referrer_names_its_subject() {
        let signature = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(9), "size": 2},
            "layers": [],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(4), "size": 10}
        });
        let manifest = parse_manifest(signature.to_string().as_bytes(), "").unwrap();
        assert_eq!(manifest.kind, ManifestKind::Image);
        assert_eq!(manifest.subject, Some(digest(4)));
    }

    #[test]
    fn hostile_manifests_are_unreadable_not_panics() {
        for bytes in [
            &b"not json"[..],
            b"[]",
            br#"{"manifests": "nope"}"#,
            br#"{"manifests": [{"digest": "sha256:short"}]}"#,
            br#"{"layers": 5}"#,
        ] {
            assert!(
                parse_manifest(bytes, "").is_err(),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let other = parse_manifest(br#"{"mediaType": "application/x-unknown"}"#, "").unwrap();
        assert_eq!(
            other.kind,
            ManifestKind::Other("application/x-unknown".into())
        );
    }
}
