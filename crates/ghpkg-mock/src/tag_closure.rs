//! An independent check that every tag still pulls whole, over the emulator's own state: for
//! each tag of each live container package, the closure of what pulling and verifying it needs,
//! and every digest in it that the registry no longer serves.
//!
//! It shares nothing with the code under test: manifests are parsed here with plain
//! `serde_json` from the exact bytes the registry serves (not with the fixtures' parsed fields,
//! nor `ghpkg` or `ghpkg-retention` graph code), so a test that asserts
//! [`StateSnapshot::broken_tags`] is empty does not trust any of them.
//!
//! The closure of a tag starts at the manifest it names and takes in, until nothing is added:
//! every `manifests[].digest` of a manifest in it (nested indexes and entries the registry
//! serves without a version included); every manifest whose `subject.digest` is in it; and every
//! manifest tagged `sha256-<hex>.sig`, `.att` or `.sbom` for a digest in it. Referrers and
//! attachments are found among the served manifests and among deleted versions (which keep
//! their bytes and tags in the state): a deleted signature of a live image is a broken tag.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_json::Value;

use crate::state::{PackageRecord, StateSnapshot};

/// A tag whose closure needs a digest the registry does not serve.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BrokenTag {
    /// The package's owner.
    pub owner: String,
    /// The package.
    pub package: String,
    /// The tag.
    pub tag: String,
    /// The digest needed and not served.
    pub missing: String,
    /// The manifest in the closure that needs it: the index whose entry it is, or the subject
    /// it refers to (by `subject` or by an attachment tag).
    pub needed_by: String,
    /// Why it is not served.
    pub why: Missing,
}

/// Why a needed digest is not served.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Missing {
    /// Version `version_id` had it, and is deleted.
    Deleted {
        /// The deleted version.
        version_id: i64,
    },
    /// No version of the package ever had it.
    NeverExisted,
}

impl std::fmt::Display for BrokenTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.why {
            Missing::Deleted { version_id } => format!("version {version_id} was deleted"),
            Missing::NeverExisted => "no version ever had it".to_owned(),
        };
        write!(
            f,
            "{}/{}:{} needs {} (needed by {}), not served: {why}",
            self.owner, self.package, self.tag, self.missing, self.needed_by
        )
    }
}

impl StateSnapshot {
    /// Every tag of every live container package whose closure (see the
    /// [module docs](crate::tag_closure)) needs a digest that is not served, sorted; empty when
    /// every tag pulls whole.
    pub fn broken_tags(&self) -> Vec<BrokenTag> {
        let mut broken: Vec<BrokenTag> = self
            .packages
            .iter()
            .filter(|p| !p.is_deleted())
            .flat_map(package_broken_tags)
            .collect();
        broken.sort();
        broken.dedup();
        broken
    }
}

/// What the walk knows of one served manifest.
struct Served<'a> {
    /// `manifests[].digest`, as written.
    entries: Vec<String>,
    /// `subject.digest`, if any.
    subject: Option<String>,
    tags: &'a [String],
}

fn parse(bytes: &[u8]) -> (Vec<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return (Vec::new(), None);
    };
    let entries = value
        .get("manifests")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e.get("digest").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let subject = value
        .get("subject")
        .and_then(|s| s.get("digest"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    (entries, subject)
}

/// `sha256-<hex>.sig` (or `.att`, `.sbom`) → `sha256:<hex>`.
fn attachment_subject(tag: &str) -> Option<String> {
    let stem = [".sig", ".att", ".sbom"]
        .iter()
        .find_map(|suffix| tag.strip_suffix(suffix))?;
    let hex = stem.strip_prefix("sha256-")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

fn package_broken_tags(package: &PackageRecord) -> Vec<BrokenTag> {
    let served: HashMap<&str, Served<'_>> = package
        .served_manifests()
        .map(|(_, manifest, tags)| {
            let (entries, subject) = parse(&manifest.bytes);
            (
                manifest.digest.as_str(),
                Served {
                    entries,
                    subject,
                    tags,
                },
            )
        })
        .collect();
    // Who depends on a digest besides its index: referrers by `subject`, attachments by tag,
    // served or deleted.
    let deleted = package.versions.iter().filter(|v| v.is_deleted());
    let deleted = deleted.filter_map(|v| {
        let manifest = v.manifest.as_ref()?;
        Some((
            manifest.digest.as_str(),
            parse(&manifest.bytes).1,
            v.tags.as_slice(),
        ))
    });
    let everything = served
        .iter()
        .map(|(&digest, m)| (digest, m.subject.clone(), m.tags))
        .chain(deleted);
    let mut dependents: HashMap<String, Vec<&str>> = HashMap::new();
    for (digest, subject, tags) in everything {
        let subjects = subject
            .into_iter()
            .chain(tags.iter().filter_map(|t| attachment_subject(t)));
        for subject in subjects {
            dependents.entry(subject).or_default().push(digest);
        }
    }
    let mut broken = Vec::new();
    for (&root, manifest) in &served {
        for tag in manifest.tags {
            let mut seen: BTreeSet<String> = BTreeSet::from([root.to_owned()]);
            let mut queue = VecDeque::from([root.to_owned()]);
            while let Some(digest) = queue.pop_front() {
                let Some(current) = served.get(digest.as_str()) else {
                    continue;
                };
                let needed = current.entries.iter().cloned().chain(
                    dependents
                        .get(&digest)
                        .into_iter()
                        .flatten()
                        .map(|d| (*d).to_owned()),
                );
                for next in needed {
                    if !served.contains_key(next.as_str()) {
                        broken.push(BrokenTag {
                            owner: package.owner.clone(),
                            package: package.name.clone(),
                            tag: tag.clone(),
                            missing: next.clone(),
                            needed_by: digest.clone(),
                            why: why_missing(package, &next),
                        });
                    }
                    if seen.insert(next.clone()) {
                        queue.push_back(next);
                    }
                }
            }
        }
    }
    broken
}

fn why_missing(package: &PackageRecord, digest: &str) -> Missing {
    package
        .versions
        .iter()
        .filter(|v| v.is_deleted() && v.name == digest)
        .map(|v| Missing::Deleted { version_id: v.id })
        .next()
        .unwrap_or(Missing::NeverExisted)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::fixture::{Fixture, graphs};
    use crate::state::Store;

    fn snapshot(fixture: &Fixture) -> StateSnapshot {
        Store::from_fixture(fixture.clone(), Utc::now())
            .unwrap()
            .snapshot()
    }

    fn delete(state: &mut StateSnapshot, id: i64) {
        let version = state
            .packages
            .iter_mut()
            .flat_map(|p| &mut p.versions)
            .find(|v| v.id == id)
            .unwrap();
        version.deleted_at = Some(Utc::now());
    }

    #[test]
    fn every_tag_of_the_intact_graph_cases_pulls_whole() {
        let mut world = graphs::all();
        world
            .packages
            .retain(|p| p.name != graphs::broken_index::PACKAGE);
        assert_eq!(snapshot(&world).broken_tags(), []);
    }

    #[test]
    fn a_deleted_platform_image_breaks_the_tags_of_its_index() {
        use graphs::multi_arch::*;
        let mut state = snapshot(&graphs::multi_arch());
        delete(&mut state, ARM64);
        let broken = state.broken_tags();
        let tags: Vec<&str> = broken.iter().map(|b| b.tag.as_str()).collect();
        assert_eq!(tags, ["latest", "v1.0.0"]);
        assert_eq!(broken[0].why, Missing::Deleted { version_id: ARM64 });
        let index = state.version(INDEX).unwrap().1.name.clone();
        assert_eq!(broken[0].needed_by, index);
    }

    #[test]
    fn a_child_of_a_nested_index_is_needed_through_the_inner_index() {
        use graphs::nested_index::*;
        let mut state = snapshot(&graphs::nested_index());
        delete(&mut state, AMD64);
        let broken = state.broken_tags();
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(broken[0].tag, "v1");
        assert_eq!(broken[0].needed_by, state.version(INNER).unwrap().1.name);
    }

    #[test]
    fn a_deleted_signature_found_by_its_attachment_tag_breaks_the_signed_tag() {
        use graphs::cosign_legacy::*;
        let mut state = snapshot(&graphs::cosign_legacy());
        delete(&mut state, SIGNATURE);
        let broken = state.broken_tags();
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(broken[0].tag, "v1.0.0");
        assert_eq!(
            broken[0].why,
            Missing::Deleted {
                version_id: SIGNATURE
            }
        );
        assert_eq!(broken[0].needed_by, state.version(IMAGE).unwrap().1.name);
    }

    #[test]
    fn a_deleted_referrer_found_by_its_subject_breaks_the_tag_of_its_subject() {
        use graphs::referrer::*;
        let mut state = snapshot(&graphs::referrer());
        delete(&mut state, SBOM);
        let broken = state.broken_tags();
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(
            (broken[0].tag.as_str(), &broken[0].why),
            ("v1", &Missing::Deleted { version_id: SBOM })
        );
    }

    #[test]
    fn an_entry_no_version_ever_had_is_reported_as_never_existing() {
        let state = snapshot(&graphs::broken_index());
        let broken = state.broken_tags();
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(broken[0].tag, "v3");
        assert_eq!(broken[0].why, Missing::NeverExisted);
        assert_eq!(
            broken[0].missing,
            crate::fixture::manifest::sha256_digest(
                graphs::broken_index::MISSING_S390X_SEED.as_bytes()
            )
        );
    }

    #[test]
    fn attachment_tags_name_their_subject() {
        let hex = "ab".repeat(32);
        assert_eq!(
            attachment_subject(&format!("sha256-{hex}.sig")),
            Some(format!("sha256:{hex}"))
        );
        assert!(attachment_subject(&format!("sha256-{hex}.sbom")).is_some());
        assert_eq!(attachment_subject("sha256-abc.sig"), None);
        assert_eq!(attachment_subject(&format!("sha256-{hex}")), None);
    }
}
