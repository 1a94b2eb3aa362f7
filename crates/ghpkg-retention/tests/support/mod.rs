//! Builders for packages, image graphs and rules, shared by the integration tests.
#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ghpkg_retention::{
    ChildRef, Decision, ImageGraph, Manifest, ManifestFacts, ManifestKind, Owner, PackageFacts,
    Plan, ReasonCode, Rules, TagPattern, Target, VersionFacts, plan,
};

/// The `now` of every test: 2024-06-30.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap()
}

/// `days` days before `now`.
pub fn days_ago(days: i64) -> DateTime<Utc> {
    now() - TimeDelta::days(days)
}

/// A digest made from a version id.
pub fn digest(id: u64) -> String {
    format!("sha256:{id:064x}")
}

/// The cosign signature tag of the version with id `subject`.
pub fn sig_tag(subject: u64, suffix: &str) -> String {
    format!("sha256-{subject:064x}{suffix}")
}

pub fn container() -> Target {
    Target {
        host: "github.com".into(),
        owner: Owner::Org("acme".into()),
        package_type: "container".into(),
    }
}

pub fn npm() -> Target {
    Target {
        host: "github.com".into(),
        owner: Owner::User("octocat".into()),
        package_type: "npm".into(),
    }
}

pub fn patterns(texts: &[&str]) -> Vec<TagPattern> {
    texts
        .iter()
        .map(|t| TagPattern::parse(t).unwrap())
        .collect()
}

/// `Rules::default()` changed by `change`.
pub fn rules(change: impl FnOnce(&mut Rules)) -> Rules {
    let mut rules = Rules::default();
    change(&mut rules);
    rules
}

/// A package under construction; versions are named by their id's digest.
pub struct Package {
    name: String,
    versions: Vec<VersionFacts>,
    graph: Option<ImageGraph>,
}

impl Package {
    /// A container package whose manifests were read (add them with `image`, `index`, ...).
    pub fn container(name: &str) -> Package {
        Package {
            name: name.into(),
            versions: Vec::new(),
            graph: Some(ImageGraph::default()),
        }
    }

    /// A package without an image graph.
    pub fn plain(name: &str) -> Package {
        Package {
            name: name.into(),
            versions: Vec::new(),
            graph: None,
        }
    }

    /// A version; in a container package its manifest was read and is a single-platform image
    /// (a leaf) unless [`manifest`](Self::manifest) says otherwise.
    pub fn version(self, id: u64, tags: &[&str], age_days: i64) -> Package {
        let mut package = self.unread(id, tags, age_days);
        if let Some(graph) = &mut package.graph {
            graph
                .manifests
                .entry(digest(id))
                .or_insert_with(|| read(ManifestKind::Image, vec![], None));
        }
        package
    }

    /// A version whose manifest was not read.
    pub fn unread(mut self, id: u64, tags: &[&str], age_days: i64) -> Package {
        self.versions.push(VersionFacts {
            id,
            name: digest(id),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            created_at: days_ago(age_days),
            updated_at: days_ago(age_days),
        });
        self
    }

    pub fn manifest(mut self, id: u64, facts: ManifestFacts) -> Package {
        self.graph
            .as_mut()
            .expect("a container package")
            .manifests
            .insert(digest(id), facts);
        self
    }

    /// A single-platform image, read.
    pub fn image(self, id: u64, tags: &[&str], age_days: i64) -> Package {
        self.version(id, tags, age_days)
            .manifest(id, read(ManifestKind::Image, vec![], None))
    }

    /// An index listing `children` as platform images, read.
    pub fn index(self, id: u64, tags: &[&str], age_days: i64, children: &[u64]) -> Package {
        let entries = children
            .iter()
            .map(|&c| entry(c, Some("linux/amd64")))
            .collect();
        self.version(id, tags, age_days)
            .manifest(id, read(ManifestKind::Index, entries, None))
    }

    /// An index with the given entries, read.
    pub fn index_of(
        self,
        id: u64,
        tags: &[&str],
        age_days: i64,
        entries: Vec<ChildRef>,
    ) -> Package {
        self.version(id, tags, age_days)
            .manifest(id, read(ManifestKind::Index, entries, None))
    }

    /// An OCI 1.1 referrer of `subject` (found through its `subject` field), read.
    pub fn referrer(self, id: u64, subject: u64, age_days: i64) -> Package {
        self.version(id, &[], age_days)
            .manifest(id, read(ManifestKind::Image, vec![], Some(digest(subject))))
    }

    /// A cosign signature of `subject` tagged `sha256-<hex>.sig`, read.
    pub fn signature(self, id: u64, subject: u64, age_days: i64) -> Package {
        let tag = sig_tag(subject, ".sig");
        self.image(id, &[&tag], age_days)
    }

    /// Records that the referrers API listed `referrer` for `subject`.
    pub fn listed_referrer(mut self, subject: u64, referrer: u64) -> Package {
        self.graph
            .as_mut()
            .expect("a container package")
            .referrers
            .entry(digest(subject))
            .or_default()
            .push(digest(referrer));
        self
    }

    pub fn build(self) -> PackageFacts {
        PackageFacts {
            name: self.name,
            versions: self.versions,
            graph: self.graph,
            incomplete_listing: None,
        }
    }
}

pub fn read(kind: ManifestKind, children: Vec<ChildRef>, subject: Option<String>) -> ManifestFacts {
    ManifestFacts::Read(Manifest {
        kind,
        children,
        subject,
        artifact_type: None,
    })
}

pub fn entry(child: u64, platform: Option<&str>) -> ChildRef {
    ChildRef {
        digest: digest(child),
        kind: ManifestKind::Image,
        platform: platform.map(str::to_owned),
        attestation_for: None,
    }
}

pub fn attestation(child: u64, attests: u64) -> ChildRef {
    ChildRef {
        digest: digest(child),
        kind: ManifestKind::Image,
        platform: Some("unknown/unknown".into()),
        attestation_for: Some(digest(attests)),
    }
}

pub fn nested(child: u64) -> ChildRef {
    ChildRef {
        digest: digest(child),
        kind: ManifestKind::Index,
        platform: None,
        attestation_for: None,
    }
}

/// Plans, expecting success.
pub fn plan_ok(target: &Target, packages: Vec<PackageFacts>, rules: &Rules) -> Plan {
    plan(target, packages.clone(), rules, now()).expect("the plan is made")
}

/// Every version's reason, by id.
pub fn reasons(plan: &Plan) -> BTreeMap<u64, ReasonCode> {
    plan.packages
        .iter()
        .flat_map(|p| &p.decisions)
        .map(|d| (d.id, d.reason))
        .collect()
}

pub fn reason(plan: &Plan, id: u64) -> ReasonCode {
    reasons(plan)[&id]
}

pub fn detail(plan: &Plan, id: u64) -> String {
    plan.packages
        .iter()
        .flat_map(|p| &p.decisions)
        .find(|d| d.id == id)
        .map(|d| d.detail.to_string())
        .expect("a decision")
}

/// The ids to delete, in plan order.
pub fn deleted(plan: &Plan) -> Vec<u64> {
    plan.deletions.iter().map(|d| d.id).collect()
}

pub fn kept(plan: &Plan) -> Vec<u64> {
    plan.packages
        .iter()
        .flat_map(|p| &p.decisions)
        .filter(|d| d.decision == Decision::Keep)
        .map(|d| d.id)
        .collect()
}

pub fn notes(plan: &Plan) -> Vec<String> {
    plan.notes.iter().map(|n| n.message.clone()).collect()
}
