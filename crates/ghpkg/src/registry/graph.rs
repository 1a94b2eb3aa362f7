//! Reading a container package's image graph: which manifests to read, in which order, and what
//! each says (parsed with `oci-spec`'s index, manifest and descriptor types).
//!
//! **The rule: every version's manifest is read**, and every index entry that is not a version
//! (to follow it to the versions it lists). A parent's descriptor never stands in for a child's
//! own manifest: only the child says whether it is an index with entries of its own, and only
//! reading every version finds every `subject` (signatures, SBOMs, attestations of any depth).
//! So the referrers API is not needed for planning: every referrer is a version, read. Reads go
//! in waves of the client's concurrency, newest first, entries that are not versions as soon as
//! they are found. Each manifest is a download on GitHub, and is read once ever with a manifest
//! cache (manifests by digest never change), so a rerun downloads only what was pushed since.
//! [`PackageHandle::facts_for_plan`] reads nothing at all when the rules could not delete
//! anything whatever the graph holds.

use std::collections::{BTreeMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use ghpkg_retention::{
    ChildRef, ImageGraph, Manifest, ManifestFacts, ManifestKind, PackageFacts, Policy, ReadStats,
    Rules, Target, VersionFacts, needs_image_graph, policy_needs_image_graph,
};
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use serde::Deserialize as _;

use super::Registry;
use crate::error::{Error, Result};
use crate::facts::{PlanningEvent, no_progress};
use crate::package::PackageHandle;
use crate::types::PackageType;

/// The annotation buildx sets on an attestation manifest's entry in an index.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// The annotation naming the manifest an attestation attests.
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

impl PackageHandle {
    /// Every active version as the engine's facts, and — for container and docker packages —
    /// the image graph read from `registry`: every version's manifest, and every index entry
    /// that is not a version (see [the module docs](crate::registry)). Other package types get no graph.
    pub async fn facts_with_graph(&self, registry: &Registry) -> Result<PackageFacts> {
        let mut facts = self.facts().await?;
        if self.is_container() {
            facts.graph = Some(
                self.read_graph(registry, &facts.versions, &no_progress)
                    .await?,
            );
        }
        Ok(facts)
    }

    /// What planning `rules` for `target` at `now` needs of this package: its facts, with the
    /// image graph only when the rules could delete one of its versions (a container package
    /// the rules cannot touch reads no manifest, so spends no download).
    ///
    /// Reports the count, the pages listed and the manifests read to `on_event` as they come
    /// (cheaply: a few integers per page or manifest). When the graph's reads met a problem
    /// that keeps the whole registry from being read, [`Registry::problems_seen`] counts it and
    /// [`Registry::last_problem`] says what it was.
    pub async fn facts_for_plan(
        &self,
        registry: &Registry,
        target: &Target,
        rules: &Rules,
        now: DateTime<Utc>,
        on_event: &(dyn Fn(PlanningEvent<'_>) + Send + Sync),
    ) -> Result<PackageFacts> {
        // Rules that do not validate are refused by the planner; read as if they could delete.
        let needed =
            |facts: &PackageFacts| needs_image_graph(target, facts, rules, now).unwrap_or(true);
        self.facts_and_graph_when(registry, needed, on_event).await
    }

    /// What planning `policy` for `target` at `now` needs of this package: as
    /// [`facts_for_plan`](Self::facts_for_plan), with the graph when a delete rule of the policy
    /// that selects the package could delete one of its versions.
    pub async fn facts_for_policy(
        &self,
        registry: &Registry,
        target: &Target,
        policy: &Policy,
        now: DateTime<Utc>,
        on_event: &(dyn Fn(PlanningEvent<'_>) + Send + Sync),
    ) -> Result<PackageFacts> {
        let needed = |facts: &PackageFacts| {
            policy_needs_image_graph(target, facts, policy, now).unwrap_or(true)
        };
        self.facts_and_graph_when(registry, needed, on_event).await
    }

    /// The facts, and the image graph of a container package when `needed` says so.
    async fn facts_and_graph_when(
        &self,
        registry: &Registry,
        needed: impl FnOnce(&PackageFacts) -> bool,
        on_event: &(dyn Fn(PlanningEvent<'_>) + Send + Sync),
    ) -> Result<PackageFacts> {
        let mut facts = self.facts_reporting(on_event).await?;
        if self.is_container() && needed(&facts) {
            facts.graph = Some(self.read_graph(registry, &facts.versions, on_event).await?);
        }
        Ok(facts)
    }

    fn is_container(&self) -> bool {
        matches!(
            self.package_type(),
            PackageType::Container | PackageType::Docker
        )
    }

    async fn read_graph(
        &self,
        registry: &Registry,
        versions: &[VersionFacts],
        on_event: &(dyn Fn(PlanningEvent<'_>) + Send + Sync),
    ) -> Result<ImageGraph> {
        let repository = self.repository().await?;
        let concurrency = self.scope().client().concurrency();
        let on_read = |read: usize, known: usize| {
            on_event(PlanningEvent::ManifestsRead {
                package: self.name(),
                read: read as u64,
                known: known as u64,
            })
        };
        Ok(read_graph(registry, &repository, versions, concurrency, &on_read).await)
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
                            "GitHub did not name the owner of {}; address it through Client::org \
                             or Client::user instead of Client::authenticated_user",
                            self.name()
                        ))
                    })?
                    .to_string()
            }
        };
        Ok(format!("{}/{}", owner.to_ascii_lowercase(), self.name()))
    }
}

/// The most index entries that are not versions one package's graph may follow; beyond it
/// they stay unread (and the engine fails the package closed if a kept index needs them).
const MAX_UNLISTED: usize = 10_000;

/// Reads every manifest of `versions` and every index entry that is not a version, up to
/// `concurrency` at once (the registry's pacer holds the cap), newest first. Reads are taken
/// in the order they were started, and the next starts as each is taken, so the order of
/// reads is independent of timing (an index's entries are queued first when it is taken) and
/// no slot waits for a whole batch. After each read, `on_read(read, known)`: manifests read
/// so far, of those known to be needed so far.
pub(crate) async fn read_graph(
    registry: &Registry,
    repository: &str,
    versions: &[VersionFacts],
    concurrency: usize,
    on_read: &(dyn Fn(usize, usize) + Send + Sync),
) -> ImageGraph {
    let mut newest_first: Vec<&VersionFacts> = versions.iter().collect();
    newest_first.sort_by_key(|v| std::cmp::Reverse((v.created_at, v.id)));
    let listed: HashSet<&str> = versions.iter().map(|v| v.name.as_str()).collect();
    let concurrency = concurrency.max(1);
    let mut manifests: BTreeMap<String, ManifestFacts> = BTreeMap::new();
    let mut reads = ReadStats::default();
    let mut queue: VecDeque<String> = newest_first.iter().map(|v| v.name.clone()).collect();
    let mut unlisted = 0;
    let mut in_flight = FuturesOrdered::new();
    let mut pending: HashSet<String> = HashSet::new();
    loop {
        while in_flight.len() < concurrency {
            let Some(digest) = queue.pop_front() else {
                break;
            };
            if manifests.contains_key(&digest) || !pending.insert(digest.clone()) {
                continue;
            }
            in_flight.push_back(async move {
                let fetched = registry.manifest(repository, &digest).await;
                (digest, fetched)
            });
        }
        let Some((digest, fetched)) = in_flight.next().await else {
            break;
        };
        pending.remove(&digest);
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
                            let known = listed.contains(child.digest.as_str())
                                || manifests.contains_key(&child.digest)
                                || pending.contains(&child.digest);
                            if !known && unlisted < MAX_UNLISTED {
                                // Not a version: only its own manifest says what it lists.
                                unlisted += 1;
                                queue.push_front(child.digest.clone());
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
        on_read(manifests.len(), versions.len() + unlisted);
    }
    on_read(manifests.len(), manifests.len());
    ImageGraph {
        manifests,
        referrers: BTreeMap::new(),
        reads,
    }
}

/// What a manifest says, for the graph: its kind, its entries (for an index), its subject.
///
/// One pass finds the manifest's shape (skipping its arrays), a second parses it as the type
/// that shape calls for: bytes go to `oci-spec`'s types directly, never through a
/// `serde_json::Value`. A key given twice is refused (which one a registry believes is
/// anyone's guess).
pub(crate) fn parse_manifest(
    bytes: &[u8],
    media_type: &str,
) -> std::result::Result<Manifest, String> {
    let shape: Shape = serde_json::from_slice(bytes).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => format!("not a JSON object of one key each: {error}"),
        _ => format!("not JSON: {error}"),
    })?;
    // A struct would also take an array, by position.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    let declared = shape.media_type.clone().flatten();
    let declared = declared.as_deref().unwrap_or(media_type);
    let declared_kind = ManifestKind::from_media_type(declared);
    if shape.manifests.is_some() || declared_kind == ManifestKind::Index {
        let index: ImageIndex = serde_json::from_slice(bytes)
            .map_err(|error| format!("not a valid image index: {error}"))?;
        return Ok(Manifest {
            kind: ManifestKind::Index,
            children: index.manifests().iter().map(child).collect(),
            subject: index.subject().as_ref().map(|d| d.digest().to_string()),
            artifact_type: index.artifact_type().as_ref().map(ToString::to_string),
        });
    }
    if shape.layers.is_some() || shape.config.is_some() {
        let kind = match declared_kind {
            ManifestKind::Other(_) if shape.media_type.is_none() => ManifestKind::Image,
            kind => kind,
        };
        let manifest: ImageManifest = serde_json::from_slice(bytes)
            .map_err(|error| format!("not a valid image manifest: {error}"))?;
        return Ok(Manifest {
            kind,
            children: Vec::new(),
            subject: manifest.subject().as_ref().map(|d| d.digest().to_string()),
            artifact_type: manifest.artifact_type().as_ref().map(ToString::to_string),
        });
    }
    // Anything else (an OCI artifact manifest, a type not known yet) may still refer to a
    // subject: a referrer of a kept image must be seen whatever its shape.
    let subject = match shape.subject {
        None => None,
        Some(subject) => {
            let descriptor: Descriptor = serde_json::from_value(subject)
                .map_err(|error| format!("its subject is not a valid descriptor: {error}"))?;
            Some(descriptor.digest().to_string())
        }
    };
    Ok(Manifest {
        kind: ManifestKind::Other(crate::classify::excerpt(declared)),
        children: Vec::new(),
        subject,
        artifact_type: shape
            .artifact_type
            .flatten()
            .as_deref()
            .map(crate::classify::excerpt),
    })
}

/// The keys of a manifest that say which type to parse it as; the rest is skipped. Each
/// field is `Some` when its key is present, whatever its value (`null` included), as the
/// type's own parse then judges it.
#[derive(serde::Deserialize)]
struct Shape {
    /// Present; a string, else not a declared type (the answer's `Content-Type` stands).
    #[serde(rename = "mediaType", default, deserialize_with = "present_string")]
    media_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    manifests: Option<()>,
    #[serde(default, deserialize_with = "present")]
    layers: Option<()>,
    #[serde(default, deserialize_with = "present")]
    config: Option<()>,
    #[serde(default, deserialize_with = "present_value")]
    subject: Option<serde_json::Value>,
    #[serde(rename = "artifactType", default, deserialize_with = "present_string")]
    artifact_type: Option<Option<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<()>, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| Some(()))
}

fn present_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Option<String>>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(Some(value.as_str().map(str::to_string)))
}

fn present_value<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
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
    fn an_artifact_manifest_names_its_subject() {
        let sbom = serde_json::json!({
            "mediaType": "application/vnd.oci.artifact.manifest.v1+json",
            "artifactType": "application/spdx+json",
            "blobs": [],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(4), "size": 10}
        });
        let manifest = parse_manifest(sbom.to_string().as_bytes(), "").unwrap();
        assert_eq!(manifest.subject, Some(digest(4)));
        assert_eq!(
            manifest.artifact_type.as_deref(),
            Some("application/spdx+json")
        );
    }

    #[test]
    fn hostile_manifests_are_unreadable_not_panics() {
        for bytes in [
            &b"not json"[..],
            b"[]",
            br#"{"manifests": "nope"}"#,
            br#"{"manifests": [{"digest": "sha256:short"}]}"#,
            br#"{"layers": 5}"#,
            // A key present with null is still that key: the type's own parse refuses it.
            br#"{"manifests": null}"#,
            br#"{"layers": null}"#,
            br#"{"mediaType": "application/x-unknown", "subject": null}"#,
            // A key given twice: which one the registry believed is unknown.
            br#"{"manifests": [], "manifests": []}"#,
            br#"{"mediaType": "application/x-unknown", "subject": {}, "subject": {}}"#,
            b" [{}] ",
        ] {
            assert!(
                parse_manifest(bytes, "").is_err(),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert!(
            parse_manifest(
                br#"{"mediaType": "application/x-unknown", "subject": {"digest": "nope"}}"#,
                ""
            )
            .is_err(),
            "a subject that cannot be followed makes the manifest unreadable"
        );
        let other = parse_manifest(br#"{"mediaType": "application/x-unknown"}"#, "").unwrap();
        assert_eq!(
            other.kind,
            ManifestKind::Other("application/x-unknown".into())
        );
    }
}
