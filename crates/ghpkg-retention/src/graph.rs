//! The per-package image graph: which version lists or refers to which, built from the facts.
//!
//! Edges go from a parent to what depends on it: index → child (nested indexes too),
//! subject → referrer (from `subject` fields, the referrers API, and cosign/referrer tags),
//! attested manifest → buildx attestation. Only versions present in the package are nodes.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::facts::VersionFacts;
use crate::image::{ImageGraph, ManifestFacts, attachment_subject};

/// How a version depends on a parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EdgeKind {
    /// The parent is an index that lists it.
    Child,
    /// It refers to the parent (signature, SBOM, attestation, OCI referrer).
    Referrer,
}

/// What the engine knows about a version's manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestStatus {
    /// Read and parsed.
    Read,
    /// Reading it failed: what it lists and what it refers to are unknown.
    Unreadable,
    /// The caller did not read it: what it lists and what it refers to are unknown.
    NotRead,
}

impl ManifestStatus {
    /// Whether what the manifest lists or refers to is unknown.
    pub(crate) fn hides_references(self) -> bool {
        matches!(self, ManifestStatus::Unreadable | ManifestStatus::NotRead)
    }
}

/// An index entry that is not a version of the package and could not be followed: the
/// registry does not have it, it could not be read, or it was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Missing {
    /// The version whose manifest lists it (directly, or through manifests that are not
    /// versions).
    pub parent: usize,
    /// The entry's digest.
    pub digest: String,
    /// Why it could not be followed.
    pub why: String,
}

/// The graph of one package, by version index (position in the package's `versions`).
#[derive(Debug, Default)]
///
/// A graph without manifests ([`PackageGraph::without_manifests`]) holds nothing per version,
/// so that a package of 150,000 versions with no image graph costs nothing to decide with one:
/// its per-version tables are empty, and the accessors answer for an absent entry.
pub(crate) struct PackageGraph {
    /// For each version, its parents and how it depends on each; sorted, without duplicates.
    /// Empty when there are no edges.
    parents: Vec<Vec<(usize, EdgeKind)>>,
    /// For each version, what depends on it; sorted, without duplicates. Empty when there are
    /// no edges.
    dependents: Vec<Vec<(usize, EdgeKind)>>,
    /// For each version, what is known about its manifest. Empty when none was read.
    status: Vec<ManifestStatus>,
    /// Why each unreadable manifest could not be read, by version.
    unreadable: BTreeMap<usize, String>,
    /// For each untagged root that depends on something absent: why it is an orphan. Empty
    /// when there are no orphans.
    orphan: Vec<Option<String>>,
    /// A cycle, as a path of version indexes that starts and ends at the same version.
    pub cycle: Option<Vec<usize>>,
    /// Index entries that are not versions and could not be followed.
    pub missing_children: Vec<Missing>,
}

/// What an index entry that is not a version leads to: the versions it lists (through any
/// depth of manifests that are not versions), and the entries that could not be followed.
#[derive(Clone, Default)]
struct Expansion {
    versions: Vec<usize>,
    missing: Vec<(String, String)>,
}

impl PackageGraph {
    /// A graph with no edges: every version is a root whose manifest was not read.
    pub(crate) fn without_manifests() -> PackageGraph {
        PackageGraph {
            parents: Vec::new(),
            dependents: Vec::new(),
            status: Vec::new(),
            unreadable: BTreeMap::new(),
            orphan: Vec::new(),
            cycle: None,
            missing_children: Vec::new(),
        }
    }

    /// Builds the graph from what the manifests say; `has_user_tags[i]` says whether version
    /// `i` has a tag that is not a cosign or referrer tag. Version names must be unique.
    ///
    /// Edges come from the content of manifests only, never from a parent's descriptor: an
    /// index lists its entries (an entry that is not a version is followed through its own
    /// manifest, when it was read, to the versions it lists), a manifest's `subject` makes it a
    /// referrer of that digest, and so do attachment tags and the referrers API's answers. A
    /// buildx attestation is a child of the index that lists it, like any entry: it goes with
    /// that index, whatever image it describes.
    pub(crate) fn build(
        versions: &[VersionFacts],
        has_user_tags: &[bool],
        facts: &ImageGraph,
    ) -> PackageGraph {
        let by_name: BTreeMap<&str, usize> = versions
            .iter()
            .enumerate()
            .map(|(index, version)| (version.name.as_str(), index))
            .collect();
        let mut edges: BTreeSet<(usize, usize, EdgeKind)> = BTreeSet::new();
        let mut absent_subject: Vec<Option<String>> = vec![None; versions.len()];
        let mut missing_children = Vec::new();
        let mut expansions: BTreeMap<&str, Expansion> = BTreeMap::new();

        for (index, version) in versions.iter().enumerate() {
            if let Some(ManifestFacts::Read(manifest)) = facts.manifests.get(&version.name) {
                for child in &manifest.children {
                    if let Some(&child_index) = by_name.get(child.digest.as_str()) {
                        edges.insert((index, child_index, EdgeKind::Child));
                        continue;
                    }
                    let expansion = expand(&child.digest, &by_name, facts, &mut expansions);
                    for &child_index in &expansion.versions {
                        edges.insert((index, child_index, EdgeKind::Child));
                    }
                    missing_children.extend(expansion.missing.iter().map(|(digest, why)| {
                        Missing {
                            parent: index,
                            digest: digest.clone(),
                            why: why.clone(),
                        }
                    }));
                }
                if let Some(subject) = &manifest.subject {
                    match by_name.get(subject.as_str()) {
                        Some(&subject_index) => {
                            edges.insert((subject_index, index, EdgeKind::Referrer));
                        }
                        None => {
                            absent_subject[index] = Some(format!(
                                "its manifest's subject {subject} is not in the package"
                            ));
                        }
                    }
                }
            }
            for tag in &version.tags {
                let Some(subject) = attachment_subject(tag) else {
                    continue;
                };
                match by_name.get(subject.as_str()) {
                    Some(&subject_index) => {
                        edges.insert((subject_index, index, EdgeKind::Referrer));
                    }
                    None => {
                        absent_subject[index].get_or_insert_with(|| {
                            format!("its tag `{tag}` names {subject}, which is not in the package")
                        });
                    }
                }
            }
        }
        for (subject, referrers) in &facts.referrers {
            let subject_index = by_name.get(subject.as_str()).copied();
            for referrer in referrers {
                let Some(&referrer_index) = by_name.get(referrer.as_str()) else {
                    continue;
                };
                match subject_index {
                    Some(subject_index) => {
                        edges.insert((subject_index, referrer_index, EdgeKind::Referrer));
                    }
                    None => {
                        absent_subject[referrer_index].get_or_insert_with(|| {
                            format!("the registry lists it as a referrer of {subject}, which is not in the package")
                        });
                    }
                }
            }
        }

        let mut parents = vec![Vec::new(); versions.len()];
        let mut dependents = vec![Vec::new(); versions.len()];
        for &(parent, child, kind) in &edges {
            parents[child].push((parent, kind));
            dependents[parent].push((child, kind));
        }
        for list in parents.iter_mut().chain(dependents.iter_mut()) {
            list.sort_unstable();
            list.dedup();
        }

        let mut unreadable = BTreeMap::new();
        let status = versions
            .iter()
            .enumerate()
            .map(
                |(index, version)| match facts.manifests.get(&version.name) {
                    Some(ManifestFacts::Read(_)) => ManifestStatus::Read,
                    Some(ManifestFacts::Unreadable { reason }) => {
                        unreadable.insert(index, reason.clone());
                        ManifestStatus::Unreadable
                    }
                    None => ManifestStatus::NotRead,
                },
            )
            .collect();

        let mut orphan: Vec<Option<String>> = absent_subject
            .into_iter()
            .enumerate()
            .map(|(index, why)| why.filter(|_| parents[index].is_empty() && !has_user_tags[index]))
            .collect();
        if orphan.iter().all(Option::is_none) {
            orphan = Vec::new();
        }

        let cycle = find_cycle(&dependents);
        PackageGraph {
            parents,
            dependents,
            status,
            unreadable,
            orphan,
            cycle,
            missing_children,
        }
    }

    /// Whether no version lists or is referred to by the version.
    pub(crate) fn is_root(&self, index: usize) -> bool {
        self.parents(index).is_empty()
    }

    /// The version's parents and how it depends on each; sorted, without duplicates.
    pub(crate) fn parents(&self, index: usize) -> &[(usize, EdgeKind)] {
        self.parents.get(index).map_or(&[], Vec::as_slice)
    }

    /// What depends on the version; sorted, without duplicates.
    pub(crate) fn dependents(&self, index: usize) -> &[(usize, EdgeKind)] {
        self.dependents.get(index).map_or(&[], Vec::as_slice)
    }

    /// What is known about the version's manifest.
    pub(crate) fn status(&self, index: usize) -> ManifestStatus {
        self.status
            .get(index)
            .copied()
            .unwrap_or(ManifestStatus::NotRead)
    }

    /// What is known about the version's manifest, for a human.
    pub(crate) fn status_words(&self, index: usize) -> String {
        match self.status(index) {
            ManifestStatus::Read => "read".to_owned(),
            ManifestStatus::Unreadable => format!(
                "its manifest could not be read: {}",
                self.unreadable.get(&index).map_or("", String::as_str)
            ),
            ManifestStatus::NotRead => {
                "its manifest was not read, so what it lists and refers to is unknown".to_owned()
            }
        }
    }

    /// Why the version is an orphan, when it is an untagged root that depends on something
    /// absent.
    pub(crate) fn orphan(&self, index: usize) -> Option<&str> {
        self.orphan.get(index).and_then(Option::as_deref)
    }

    /// Whether any version is an orphan.
    pub(crate) fn has_orphans(&self) -> bool {
        !self.orphan.is_empty()
    }
}

/// What the entry `digest`, which is not a version, leads to: the versions its manifest lists,
/// through any depth of manifests that are not versions either, and what could not be
/// followed. Each digest is expanded once (`memo`); a loop among such manifests stops where it
/// closes.
fn expand<'a>(
    digest: &'a str,
    by_name: &BTreeMap<&str, usize>,
    facts: &'a ImageGraph,
    memo: &mut BTreeMap<&'a str, Expansion>,
) -> Expansion {
    if let Some(done) = memo.get(digest) {
        return done.clone();
    }
    // Marks the digest as being expanded, so that a loop back to it adds nothing.
    memo.insert(digest, Expansion::default());
    let mut expansion = Expansion::default();
    match facts.manifests.get(digest) {
        Some(ManifestFacts::Read(manifest)) => {
            for child in &manifest.children {
                match by_name.get(child.digest.as_str()) {
                    Some(&version) => expansion.versions.push(version),
                    None => {
                        let deeper = expand(&child.digest, by_name, facts, memo);
                        expansion.versions.extend(deeper.versions);
                        expansion.missing.extend(deeper.missing);
                    }
                }
            }
        }
        Some(ManifestFacts::Unreadable { reason }) => expansion.missing.push((
            digest.to_owned(),
            format!("it is not a version of the package, and reading it failed: {reason}"),
        )),
        None => expansion.missing.push((
            digest.to_owned(),
            "it is not a version of the package, and its manifest was not read".to_owned(),
        )),
    }
    expansion.versions.sort_unstable();
    expansion.versions.dedup();
    memo.insert(digest, expansion.clone());
    expansion
}

/// A cycle in the graph, if there is one, found by an iterative depth-first search (no
/// recursion, so deep graphs cannot overflow the stack).
fn find_cycle(dependents: &[Vec<(usize, EdgeKind)>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; dependents.len()];
    for start in 0..dependents.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // The path from `start`, each with the position of the next dependent to visit.
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::OnPath;
        while let Some(&(node, next)) = path.last() {
            let Some(&(dependent, _)) = dependents[node].get(next) else {
                mark[node] = Mark::Done;
                path.pop();
                continue;
            };
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            match mark[dependent] {
                Mark::New => {
                    mark[dependent] = Mark::OnPath;
                    path.push((dependent, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|&(n, _)| n == dependent)?;
                    let mut cycle: Vec<usize> = path[from..].iter().map(|&(n, _)| n).collect();
                    cycle.push(dependent);
                    return Some(cycle);
                }
                Mark::Done => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{ChildRef, Manifest, ManifestKind};

    fn digest(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    fn version(n: u8, tags: &[&str]) -> VersionFacts {
        VersionFacts {
            id: u64::from(n) + 1,
            name: digest(n),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn index(children: &[u8]) -> ManifestFacts {
        ManifestFacts::Read(Manifest {
            kind: ManifestKind::Index,
            children: children
                .iter()
                .map(|&c| ChildRef {
                    digest: digest(c),
                    kind: ManifestKind::Image,
                    platform: None,
                    attestation_for: None,
                })
                .collect(),
            subject: None,
            artifact_type: None,
        })
    }

    fn build(versions: &[VersionFacts], manifests: Vec<(u8, ManifestFacts)>) -> PackageGraph {
        let facts = ImageGraph {
            manifests: manifests.into_iter().map(|(n, m)| (digest(n), m)).collect(),
            ..ImageGraph::default()
        };
        let tagged: Vec<bool> = versions.iter().map(|v| !v.tags.is_empty()).collect();
        PackageGraph::build(versions, &tagged, &facts)
    }

    #[test]
    fn an_index_is_the_parent_of_its_children_and_notes_missing_ones() {
        let versions = [version(0, &["v1"]), version(1, &[])];
        let graph = build(&versions, vec![(0, index(&[1, 9]))]);
        assert_eq!(graph.dependents(0), vec![(1, EdgeKind::Child)]);
        assert_eq!(graph.parents(1), vec![(0, EdgeKind::Child)]);
        assert!(graph.is_root(0) && !graph.is_root(1));
        assert_eq!(graph.status(1), ManifestStatus::NotRead);
        assert_eq!(graph.missing_children.len(), 1);
        assert_eq!(
            (
                graph.missing_children[0].parent,
                &graph.missing_children[0].digest
            ),
            (0, &digest(9))
        );
        assert_eq!(graph.cycle, None);
    }

    #[test]
    fn an_entry_that_is_not_a_version_is_followed_through_its_own_manifest() {
        // Version 0 lists 7, which is not a version: the registry serves it, and it lists
        // version 1 and 8, which it does not have.
        let versions = [version(0, &["v1"]), version(1, &[])];
        let mut facts = ImageGraph::default();
        facts.manifests.insert(digest(0), index(&[7]));
        facts.manifests.insert(digest(7), index(&[1, 8]));
        facts.manifests.insert(
            digest(8),
            ManifestFacts::Unreadable {
                reason: "HTTP 404".into(),
            },
        );
        let graph = PackageGraph::build(&versions, &[true, false], &facts);
        assert_eq!(graph.parents(1), vec![(0, EdgeKind::Child)]);
        assert_eq!(graph.missing_children.len(), 1);
        assert_eq!(graph.missing_children[0].digest, digest(8));
        assert!(graph.missing_children[0].why.contains("HTTP 404"));
    }

    #[test]
    fn a_descriptor_that_says_image_does_not_hide_an_index() {
        // The entry's descriptor says image; its manifest, read, is an index with a child.
        let versions = [version(0, &["v1"]), version(1, &[]), version(2, &[])];
        let graph = build(&versions, vec![(0, index(&[1])), (1, index(&[2]))]);
        assert_eq!(graph.parents(2), vec![(1, EdgeKind::Child)]);
    }

    #[test]
    fn a_buildx_attestation_is_a_child_of_its_index_not_a_referrer_of_its_image() {
        let versions = [version(0, &["v1"]), version(1, &[]), version(2, &[])];
        let mut listing = index(&[1, 2]);
        if let ManifestFacts::Read(manifest) = &mut listing {
            manifest.children[1].attestation_for = Some(digest(1));
        }
        let graph = build(&versions, vec![(0, listing)]);
        assert_eq!(graph.parents(2), vec![(0, EdgeKind::Child)]);
        assert!(graph.dependents(1).is_empty());
    }

    #[test]
    fn an_index_that_lists_itself_is_a_cycle() {
        let versions = [version(0, &["v1"])];
        let graph = build(&versions, vec![(0, index(&[0]))]);
        assert_eq!(graph.cycle, Some(vec![0, 0]));
    }

    #[test]
    fn a_loop_through_two_indexes_is_a_cycle() {
        let versions = [version(0, &["v1"]), version(1, &[]), version(2, &[])];
        let graph = build(
            &versions,
            vec![(0, index(&[1])), (1, index(&[2])), (2, index(&[1]))],
        );
        assert_eq!(graph.cycle, Some(vec![1, 2, 1]));
    }

    #[test]
    fn an_unread_version_is_not_read_whoever_lists_it() {
        let versions = [version(0, &["v1"]), version(1, &[])];
        let graph = build(&versions, vec![(0, index(&[1]))]);
        assert_eq!(graph.status(0), ManifestStatus::Read);
        assert_eq!(graph.status(1), ManifestStatus::NotRead);
    }

    #[test]
    fn a_cosign_tag_attaches_its_version_to_the_subject() {
        let hex = "00".repeat(32);
        let versions = [
            version(0, &["v1"]),
            version(1, &[&format!("sha256-{hex}.sig")]),
            version(2, &[&format!("sha256-{}.att", "ff".repeat(32))]),
        ];
        let graph = build(&versions, vec![]);
        assert_eq!(graph.parents(1), vec![(0, EdgeKind::Referrer)]);
        // The subject of version 2 is absent: an orphan, since attachment tags are not user tags.
        let tagged = [true, false, false];
        let graph = PackageGraph::build(&versions, &tagged, &ImageGraph::default());
        assert!(graph.orphan(2).unwrap().contains("not in the package"));
        assert_eq!(graph.orphan(1), None);
    }
}
