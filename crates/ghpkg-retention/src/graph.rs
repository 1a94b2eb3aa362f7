//! The per-package image graph: which version lists or refers to which, built from the facts.
//!
//! Edges go from a parent to what depends on it: index → child (nested indexes too),
//! subject → referrer (from `subject` fields, the referrers API, and cosign/referrer tags),
//! attested manifest → buildx attestation. Only versions present in the package are nodes.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::facts::VersionFacts;
use crate::image::{ImageGraph, ManifestFacts, ManifestKind, attachment_subject};

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
    /// Not read, listed as a leaf by an index that was read: fully known.
    ListedChild,
    /// Reading it failed: what it references is unknown.
    Unreadable,
    /// Neither read nor listed as a leaf by an index that was read: what it references is
    /// unknown.
    Unknown,
}

impl ManifestStatus {
    /// Whether what the manifest references is unknown, so keeping it cannot be proven safe.
    pub(crate) fn hides_references(self) -> bool {
        matches!(self, ManifestStatus::Unreadable | ManifestStatus::Unknown)
    }
}

/// The graph of one package, by version index (position in the package's `versions`).
#[derive(Debug, Default)]
pub(crate) struct PackageGraph {
    /// For each version, its parents and how it depends on each; sorted, without duplicates.
    pub parents: Vec<Vec<(usize, EdgeKind)>>,
    /// For each version, what depends on it; sorted, without duplicates.
    pub dependents: Vec<Vec<(usize, EdgeKind)>>,
    /// For each version, what is known about its manifest and why (for the plan's detail).
    pub status: Vec<(ManifestStatus, String)>,
    /// For each untagged root that depends on something absent: why it is an orphan.
    pub orphan: Vec<Option<String>>,
    /// A cycle, as a path of version indexes that starts and ends at the same version.
    pub cycle: Option<Vec<usize>>,
    /// (index version, digest) for each entry that is not a version of the package.
    pub missing_children: Vec<(usize, String)>,
}

impl PackageGraph {
    /// A graph with no edges: every version is a root whose manifest is unknown.
    pub(crate) fn without_manifests(count: usize) -> PackageGraph {
        PackageGraph {
            parents: vec![Vec::new(); count],
            dependents: vec![Vec::new(); count],
            status: vec![(ManifestStatus::Unknown, String::new()); count],
            orphan: vec![None; count],
            cycle: None,
            missing_children: Vec::new(),
        }
    }

    /// Builds the graph; `has_user_tags[i]` says whether version `i` has a tag that is not a
    /// cosign or referrer tag. Version names must be unique.
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
        // Whether a read index lists the version as a leaf, or as an index.
        let mut listed_as_leaf = vec![false; versions.len()];
        let mut listed_as_index = vec![false; versions.len()];

        for (index, version) in versions.iter().enumerate() {
            if let Some(ManifestFacts::Read(manifest)) = facts.manifests.get(&version.name) {
                for child in &manifest.children {
                    let Some(&child_index) = by_name.get(child.digest.as_str()) else {
                        missing_children.push((index, child.digest.clone()));
                        continue;
                    };
                    edges.insert((index, child_index, EdgeKind::Child));
                    if child.kind == ManifestKind::Index {
                        listed_as_index[child_index] = true;
                    } else {
                        listed_as_leaf[child_index] = true;
                    }
                    if let Some(&attested) = child
                        .attestation_for
                        .as_deref()
                        .and_then(|digest| by_name.get(digest))
                    {
                        edges.insert((attested, child_index, EdgeKind::Referrer));
                    }
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

        let status = versions
            .iter()
            .enumerate()
            .map(|(index, version)| match facts.manifests.get(&version.name) {
                Some(ManifestFacts::Read(_)) => (ManifestStatus::Read, "read".to_owned()),
                Some(ManifestFacts::Unreadable { reason }) => (
                    ManifestStatus::Unreadable,
                    format!("its manifest could not be read: {reason}"),
                ),
                None if listed_as_index[index] => (
                    ManifestStatus::Unknown,
                    "an index lists it as a nested index, but it was not read, so its entries are unknown".to_owned(),
                ),
                None if listed_as_leaf[index] => (
                    ManifestStatus::ListedChild,
                    "listed by an index that was read".to_owned(),
                ),
                None if !parents[index].is_empty() => (
                    ManifestStatus::Unknown,
                    "it refers to another version, but its manifest was not read".to_owned(),
                ),
                None => (
                    ManifestStatus::Unknown,
                    "its manifest was not read and no index that was read lists it".to_owned(),
                ),
            })
            .collect();

        let orphan = absent_subject
            .into_iter()
            .enumerate()
            .map(|(index, why)| why.filter(|_| parents[index].is_empty() && !has_user_tags[index]))
            .collect();

        let cycle = find_cycle(&dependents);
        PackageGraph {
            parents,
            dependents,
            status,
            orphan,
            cycle,
            missing_children,
        }
    }

    /// Whether no version lists or is referred to by the version.
    pub(crate) fn is_root(&self, index: usize) -> bool {
        self.parents[index].is_empty()
    }
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
    use crate::image::{ChildRef, Manifest};

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
        assert_eq!(graph.dependents[0], vec![(1, EdgeKind::Child)]);
        assert_eq!(graph.parents[1], vec![(0, EdgeKind::Child)]);
        assert!(graph.is_root(0) && !graph.is_root(1));
        assert_eq!(graph.status[1].0, ManifestStatus::ListedChild);
        assert_eq!(graph.missing_children, vec![(0, digest(9))]);
        assert_eq!(graph.cycle, None);
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
    fn an_unread_version_that_no_read_index_lists_is_unknown() {
        let versions = [version(0, &["v1"]), version(1, &[])];
        let graph = build(&versions, vec![]);
        assert_eq!(graph.status[0].0, ManifestStatus::Unknown);
        assert_eq!(graph.status[1].0, ManifestStatus::Unknown);
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
        assert_eq!(graph.parents[1], vec![(0, EdgeKind::Referrer)]);
        // The subject of version 2 is absent: an orphan, since attachment tags are not user tags.
        let tagged = [true, false, false];
        let graph = PackageGraph::build(&versions, &tagged, &ImageGraph::default());
        assert!(
            graph.orphan[2]
                .as_deref()
                .unwrap()
                .contains("not in the package")
        );
        assert_eq!(graph.orphan[1], None);
    }
}
