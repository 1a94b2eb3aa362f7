//! Verifying that a package's tags still pull whole: every tag resolves to the version GitHub
//! lists it on, and every child and referrer of a tagged image still exists in the registry.
//!
//! It reads like the planner: each digest is checked once per run, whichever tags share it.
//! Existence (and the registry's own media type) comes from `HEAD`, which does not count as a
//! download; only a manifest the registry does not call an image is read (an index, for its
//! entries), from the manifest cache when it is there. A parent's descriptor never decides
//! whether a child is read.

use std::collections::{BTreeSet, HashMap, VecDeque};

use futures::TryStreamExt;
use ghpkg_retention::{ManifestKind, attachment_subject};

use super::graph::parse_manifest;
use super::{Registry, Resolved};
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
        let mut walk = Walk {
            registry,
            repository: &repository,
            dependents: HashMap::new(),
        };
        for version in &versions {
            for tag in version.tags() {
                report.tags += 1;
                let verified = if attachment_subject(tag).is_some() {
                    // A signature or attestation: it must resolve; it has no children.
                    match registry.resolve(&repository, tag).await {
                        Ok(Some(resolved)) if resolved.digest == version.name() => Ok(1),
                        Ok(Some(resolved)) => Err(format!(
                            "the tag resolves to {}, but GitHub lists it on {}",
                            resolved.digest,
                            version.name()
                        )),
                        Ok(None) => Err("the tag does not resolve in the registry".into()),
                        Err(problem) => Err(problem),
                    }
                } else {
                    walk.tag(tag, version.name()).await
                };
                match verified {
                    Ok(count) => report.manifests += count,
                    Err(problem) => report.broken.push(BrokenTag {
                        tag: tag.clone(),
                        digest: version.name().to_string(),
                        problem,
                    }),
                }
            }
        }
        Ok(report)
    }
}

/// One run's walk over a repository's graph: what each digest needs, found once.
struct Walk<'a> {
    registry: &'a Registry,
    repository: &'a str,
    /// Per digest checked: what it needs (its entries and referrers), or why it is broken.
    dependents: HashMap<String, std::result::Result<Vec<String>, String>>,
}

impl Walk<'_> {
    /// Checks one tag's whole graph; the number of manifests checked, or what is broken.
    async fn tag(&mut self, tag: &str, digest: &str) -> std::result::Result<usize, String> {
        match self.registry.resolve(self.repository, tag).await? {
            None => return Err("the tag does not resolve in the registry".into()),
            Some(resolved) if resolved.digest != digest => {
                return Err(format!(
                    "the tag resolves to {}, but GitHub lists it on {digest}",
                    resolved.digest
                ));
            }
            // The tag's `HEAD` answered for the digest too.
            Some(resolved) => {
                if !self.dependents.contains_key(digest) {
                    let found = self.find(digest, Some(resolved)).await;
                    self.dependents.insert(digest.to_string(), found);
                }
            }
        }
        let mut count = 0;
        let mut queue = VecDeque::from([digest.to_string()]);
        let mut seen = BTreeSet::new();
        while let Some(current) = queue.pop_front() {
            if !seen.insert(current.clone()) {
                continue;
            }
            if seen.len() > MAX_GRAPH {
                return Err(format!("its graph holds more than {MAX_GRAPH} manifests"));
            }
            count += 1;
            queue.extend(self.needs(&current).await?);
        }
        Ok(count)
    }

    /// What `digest` needs to pull whole, checked once per run: it must exist; an index's
    /// entries and every manifest's referrers are needed too.
    async fn needs(&mut self, digest: &str) -> std::result::Result<Vec<String>, String> {
        if let Some(known) = self.dependents.get(digest) {
            return known.clone();
        }
        let found = self.find(digest, None).await;
        self.dependents.insert(digest.to_string(), found.clone());
        found
    }

    /// What `digest` needs, `resolved` being its `HEAD`'s answer when one was had already.
    async fn find(
        &self,
        digest: &str,
        resolved: Option<Resolved>,
    ) -> std::result::Result<Vec<String>, String> {
        let resolved = match resolved {
            Some(resolved) => resolved,
            None => match self.registry.resolve(self.repository, digest).await? {
                Some(resolved) => resolved,
                None => return Err(format!("{digest}, which it needs, is missing")),
            },
        };
        let mut needs = Vec::new();
        // The registry's own media type, not a parent's descriptor; without one, read it.
        let image = resolved.media_type.is_some_and(|media_type| {
            ManifestKind::from_media_type(&media_type) == ManifestKind::Image
        });
        if !image {
            let fetched = self.registry.manifest(self.repository, digest).await?;
            let manifest = parse_manifest(&fetched.bytes, &fetched.media_type)?;
            needs.extend(manifest.children.into_iter().map(|child| child.digest));
        }
        if let Some(referrers) = self.registry.referrers(self.repository, digest).await? {
            needs.extend(referrers);
        }
        Ok(needs)
    }
}
