//! Verifying that a package's tags still pull whole: every tag resolves to the version GitHub
//! lists it on, and every child and referrer of a tagged image still exists in the registry.
//! Existence is checked with `HEAD`, which does not count as a download; manifests whose
//! entries must be known are read through the cache.

use std::collections::{BTreeSet, HashSet, VecDeque};

use futures::TryStreamExt;
use ghpkg_retention::{ManifestKind, attachment_subject};

use super::Registry;
use super::graph::parse_manifest;
use crate::error::Result;
use crate::package::PackageHandle;
use crate::types::PackageVersion;

/// The most manifests one tag's graph may hold before verify gives up on it (a cycle or a
/// hostile registry).
const MAX_GRAPH: usize = 10_000;

/// One tag that would not pull whole.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BrokenTag {
    /// The tag.
    pub tag: String,
    /// The digest GitHub lists the tag on.
    pub digest: String,
    /// What is wrong.
    pub problem: String,
}

/// What [`PackageHandle::verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Tags checked.
    pub tags: usize,
    /// Manifests checked (tags' own and their children and referrers).
    pub manifests: usize,
    /// The tags that would not pull whole; empty when all is well.
    pub broken: Vec<BrokenTag>,
}

impl VerifyReport {
    /// Whether every tag pulls whole.
    pub fn is_whole(&self) -> bool {
        self.broken.is_empty()
    }
}

impl PackageHandle {
    /// Checks that every tag of the package resolves to the version GitHub lists it on, and
    /// that every child and referrer of a tagged image still exists in `registry`.
    pub async fn verify(&self, registry: &Registry) -> Result<VerifyReport> {
        let versions: Vec<PackageVersion> = self.versions().stream().try_collect().await?;
        let repository = self.repository().await?;
        let mut report = VerifyReport::default();
        let mut checked: HashSet<String> = HashSet::new();
        for version in &versions {
            for tag in version.tags() {
                report.tags += 1;
                let verified = if attachment_subject(tag).is_some() {
                    // A signature or attestation: it must resolve; it has no children.
                    match registry.resolve(&repository, tag).await {
                        Ok(Some(resolved)) if resolved.digest == version.name => Ok(1),
                        Ok(Some(resolved)) => Err(format!(
                            "the tag resolves to {}, but GitHub lists it on {}",
                            resolved.digest, version.name
                        )),
                        Ok(None) => Err("the tag does not resolve in the registry".into()),
                        Err(problem) => Err(problem),
                    }
                } else {
                    self.verify_tag(registry, &repository, tag, &version.name, &mut checked)
                        .await
                };
                match verified {
                    Ok(count) => report.manifests += count,
                    Err(problem) => report.broken.push(BrokenTag {
                        tag: tag.clone(),
                        digest: version.name.clone(),
                        problem,
                    }),
                }
            }
        }
        Ok(report)
    }

    /// Checks one tag's whole graph; the number of manifests checked, or what is broken.
    async fn verify_tag(
        &self,
        registry: &Registry,
        repository: &str,
        tag: &str,
        digest: &str,
        checked: &mut HashSet<String>,
    ) -> std::result::Result<usize, String> {
        let kind = match registry.resolve(repository, tag).await? {
            None => return Err("the tag does not resolve in the registry".into()),
            Some(resolved) if resolved.digest != digest => {
                return Err(format!(
                    "the tag resolves to {}, but GitHub lists it on {digest}",
                    resolved.digest
                ));
            }
            // The media type says whether it has entries to read; without one, read it.
            Some(resolved) => resolved
                .media_type
                .map_or(ManifestKind::Index, |media_type| {
                    ManifestKind::from_media_type(&media_type)
                }),
        };
        let mut count = 0;
        let mut queue = VecDeque::from([(digest.to_string(), kind)]);
        let mut seen = BTreeSet::new();
        while let Some((current, kind)) = queue.pop_front() {
            if !seen.insert(current.clone()) {
                continue;
            }
            if seen.len() > MAX_GRAPH {
                return Err(format!("its graph holds more than {MAX_GRAPH} manifests"));
            }
            count += 1;
            if current != digest && !checked.contains(&current) {
                if registry.resolve(repository, &current).await?.is_none() {
                    return Err(format!("{current}, which it needs, is missing"));
                }
                checked.insert(current.clone());
            }
            // Only an index has entries worth reading (a download, unless cached).
            if kind == ManifestKind::Index {
                let fetched = registry.manifest(repository, &current).await?;
                let manifest = parse_manifest(&fetched.bytes, &fetched.media_type)?;
                for child in manifest.children {
                    queue.push_back((child.digest, child.kind));
                }
            }
            if let Some(referrers) = registry.referrers(repository, &current).await? {
                for referrer in referrers {
                    queue.push_back((referrer, ManifestKind::Image));
                }
            }
        }
        Ok(count)
    }
}
