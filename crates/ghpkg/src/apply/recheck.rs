//! Re-checking the image graph a plan deletes from: before the first delete of a container
//! package, and again at an interval during a long apply, the versions pushed since the plan
//! are read, and every planned version one of them now lists (directly, or through indexes
//! and entries that are not versions) is held back as in use.
//!
//! The first check costs nothing when nothing was pushed: it uses the listing the apply makes
//! anyway. Each later one lists the newest versions only until a page holds nothing new, and
//! reads only the new manifests (through the manifest cache). The window that remains is a push
//! between the last check and a delete: at most the interval, plus one batch of deletes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use ghpkg_retention::{Decision, PackagePlan};

use crate::package::PackageHandle;
use crate::pagination::STREAM_PER_PAGE;
use crate::registry::Registry;
use crate::registry::graph::parse_manifest;
use crate::types::PackageVersion;

/// The default interval between re-checks during one package's deletions.
pub const DEFAULT_RECHECK_INTERVAL: Duration = Duration::from_secs(10);

/// The most manifests one package's re-checks may read before giving up (and deleting no
/// more of it): a hostile registry cannot keep an apply reading forever.
const MAX_READS: usize = 10_000;

/// Why a planned version must not be deleted after all.
pub(super) enum Hold {
    /// A version pushed since the plan uses it: the text names which.
    InUse(String),
    /// A version pushed since the plan could not be read or listed, so nothing more of the
    /// package is deleted: the text says why.
    Unreadable(String),
}

/// The re-check state of one package's deletions.
pub(super) struct Recheck<'a> {
    registry: Option<&'a Registry>,
    package: &'a PackageHandle,
    every: Duration,
    last: Instant,
    repository: Option<String>,
    /// Every version id the plan or a check has seen.
    known: HashSet<u64>,
    /// The digests of the plan's versions (deleted or kept).
    planned_digests: HashSet<Arc<str>>,
    /// The planned deletions, by digest.
    deletions: HashMap<Arc<str>, u64>,
    /// Planned deletions now in use, and by what.
    in_use: HashMap<u64, String>,
    unreadable: Option<String>,
    reads: usize,
}

impl<'a> Recheck<'a> {
    /// The re-check of `package`'s deletions; no check at all without a registry (packages
    /// without image graphs).
    pub(super) fn new(
        registry: Option<&'a Registry>,
        package: &'a PackageHandle,
        plan: &PackagePlan,
        every: Duration,
    ) -> Recheck<'a> {
        Recheck {
            registry,
            package,
            every,
            last: Instant::now(),
            repository: None,
            known: plan.decisions.iter().map(|d| d.id).collect(),
            planned_digests: plan.decisions.iter().map(|d| d.name.clone()).collect(),
            deletions: plan
                .decisions
                .iter()
                .filter(|d| d.decision == Decision::Delete)
                .map(|d| (d.name.clone(), d.id))
                .collect(),
            in_use: HashMap::new(),
            unreadable: None,
            reads: 0,
        }
    }

    /// Why the planned version `id` must not be deleted now, if it must not.
    pub(super) fn hold(&self, id: u64) -> Option<Hold> {
        if let Some(why) = &self.unreadable {
            return Some(Hold::Unreadable(why.clone()));
        }
        self.in_use.get(&id).cloned().map(Hold::InUse)
    }

    /// Examines what `listed` (the package as listed now) holds that the plan did not know (a
    /// version whose id is not a valid one is examined too: it cannot be known).
    pub(super) async fn examine(&mut self, listed: &[PackageVersion]) {
        if self.registry.is_none() {
            return;
        }
        let fresh: Vec<&PackageVersion> = listed
            .iter()
            .filter(|version| !self.known.contains(&version.id()))
            .collect();
        self.read_new(&fresh).await;
        self.last = Instant::now();
    }

    /// Re-checks when the interval has passed since the last check: lists the newest versions
    /// until a page holds nothing new, and examines what is new.
    pub(super) async fn when_due(&mut self) {
        if self.registry.is_none() || self.unreadable.is_some() || self.last.elapsed() < self.every
        {
            return;
        }
        let mut listing = self.package.versions().sequential().stream();
        let mut fresh = Vec::new();
        let mut known_in_a_row = 0;
        while let Some(version) = listing.next().await {
            let version = match version {
                Ok(version) => version,
                Err(error) => {
                    self.unreadable = Some(format!(
                        "the package could not be listed again to check for pushes: {error}"
                    ));
                    return;
                }
            };
            if self.known.contains(&version.id()) {
                known_in_a_row += 1;
                if known_in_a_row >= STREAM_PER_PAGE {
                    break;
                }
            } else {
                known_in_a_row = 0;
                fresh.push(version);
            }
        }
        drop(listing);
        let fresh: Vec<&PackageVersion> = fresh.iter().collect();
        self.read_new(&fresh).await;
        self.last = Instant::now();
    }

    /// Reads the manifests of `fresh` versions, and what they list that the plan does not
    /// know, marking each planned deletion they reach as in use.
    async fn read_new(&mut self, fresh: &[&PackageVersion]) {
        let Some(registry) = self.registry else {
            return;
        };
        if fresh.is_empty() {
            return;
        }
        let repository = match &self.repository {
            Some(repository) => repository.clone(),
            None => match self.package.repository().await {
                Ok(repository) => self.repository.insert(repository).clone(),
                Err(error) => {
                    self.unreadable = Some(format!(
                        "versions were pushed since the plan, and the package's repository \
                         could not be named to read them: {error}"
                    ));
                    return;
                }
            },
        };
        let mut queue: VecDeque<(String, String)> = VecDeque::new();
        for version in fresh {
            self.known.insert(version.id());
            queue.push_back((version.name().to_string(), label(version)));
        }
        let mut seen: HashSet<String> = HashSet::new();
        while let Some((digest, user)) = queue.pop_front() {
            if !seen.insert(digest.clone()) {
                continue;
            }
            self.reads += 1;
            if self.reads > MAX_READS {
                self.unreadable = Some(format!(
                    "more than {MAX_READS} manifests pushed since the plan were read"
                ));
                return;
            }
            let manifest = match registry.manifest(&repository, &digest).await {
                Ok(fetched) => parse_manifest(&fetched.bytes, &fetched.media_type),
                Err(why) => Err(why),
            };
            let manifest = match manifest {
                Ok(manifest) => manifest,
                Err(why) => {
                    self.unreadable = Some(format!(
                        "{digest}, pushed since the plan (for {user}), could not be read: {why}"
                    ));
                    return;
                }
            };
            for child in manifest.children {
                if let Some(&id) = self.deletions.get(child.digest.as_str()) {
                    self.in_use
                        .entry(id)
                        .or_insert_with(|| format!("{user}, pushed since the plan, lists it"));
                } else if !self.planned_digests.contains(child.digest.as_str()) {
                    // Pushed since the plan, or not a version: what it lists matters too.
                    queue.push_back((child.digest, user.clone()));
                }
            }
        }
    }
}

/// `version 123 (v2, latest)` or `version 123`.
fn label(version: &PackageVersion) -> String {
    match version.tags() {
        [] => format!("version {}", version.id()),
        tags => format!("version {} ({})", version.id(), tags.join(", ")),
    }
}
