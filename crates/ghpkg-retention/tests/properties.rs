//! Properties over generated packages, image graphs and rules.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;
use ghpkg_retention::{
    Age, ChildRef, Decision, ImageGraph, ManifestFacts, ManifestKind, OrderBy, PackageFacts, Plan,
    Policy, PolicyRule, ReasonCode, RuleAction, Rules, TagPattern, TagSelection, Target,
    VersionFacts, plan, plan_policy,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use sha2::Digest;
use support::*;

const TAG_POOL: [&str; 8] = ["latest", "v1", "v2", "v10", "pr-1", "pr-2", "dev", "main"];

fn arb_rules(max_id: u64) -> impl Strategy<Value = Rules> {
    let ids: Vec<String> = (1..=max_id).map(|i| i.to_string()).collect();
    (
        (
            option::of(0usize..4),
            prop_oneof![Just(OrderBy::CreatedAt), Just(OrderBy::UpdatedAt)],
            option::of(select(vec!["1d", "7d", "30d", "2w", "1 month"])),
            subsequence(vec!["pr-*", "v*", "re:v\\d+", "dev", "main"], 0..=2),
            subsequence(vec!["v1", "re:dev|main", "pr-2"], 0..=1),
        ),
        (
            option::of(select(vec![
                TagSelection::Tagged,
                TagSelection::Untagged,
                TagSelection::Both,
            ])),
            subsequence(vec!["latest", "v2", "re:pr-1"], 0..=2),
            subsequence(ids, 0..=2),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (keep_newest, order_by, older_than, include, exclude),
                (tag_selection, protected, protected_versions, orphans),
            )| Rules {
                keep_newest,
                order_by,
                older_than: older_than.map(|a| Age::parse(a).unwrap()),
                include_tags: patterns(&include),
                exclude_tags: patterns(&exclude),
                tag_selection,
                protected_tags: patterns(&protected),
                protected_versions,
                orphans,
                ..Rules::default()
            },
        )
        .prop_filter("rules that validate", |rules| rules.validate().is_ok())
}

/// Versions 1..=n with ages, updates and each pool tag on at most one version.
fn arb_versions() -> impl Strategy<Value = Vec<VersionFacts>> {
    (1usize..10)
        .prop_flat_map(|n| {
            (
                vec((0i64..60, 0i64..10), n),
                vec(option::of(0..n), TAG_POOL.len()),
            )
        })
        .prop_map(|(times, owners)| {
            times
                .iter()
                .enumerate()
                .map(|(i, &(age, updated_later))| VersionFacts {
                    id: i as u64 + 1,
                    name: digest(i as u64 + 1),
                    tags: TAG_POOL
                        .iter()
                        .zip(&owners)
                        .filter(|(_, owner)| **owner == Some(i))
                        .map(|(tag, _)| (*tag).to_owned())
                        .collect(),
                    created_at: days_ago(age),
                    updated_at: days_ago(age) + TimeDelta::days(updated_later),
                })
                .collect()
        })
}

/// A container package of single-platform images (all read), or an npm package.
fn arb_flat_package() -> impl Strategy<Value = (Target, PackageFacts)> {
    (arb_versions(), any::<bool>()).prop_map(|(versions, is_container)| {
        if is_container {
            let manifests = versions
                .iter()
                .map(|v| (v.name.clone(), read(ManifestKind::Image, vec![], None)))
                .collect();
            let graph = ImageGraph {
                manifests,
                ..ImageGraph::default()
            };
            let package = PackageFacts {
                name: "web/app".into(),
                versions,
                graph: Some(graph),
                incomplete_listing: None,
            };
            (container(), package)
        } else {
            let versions = versions
                .into_iter()
                .map(|v| VersionFacts { tags: vec![], ..v })
                .collect();
            let package = PackageFacts {
                name: "lib".into(),
                versions,
                graph: None,
                incomplete_listing: None,
            };
            (npm(), package)
        }
    })
}

fn decision_of(plan: &Plan, id: u64) -> Decision {
    plan.packages
        .iter()
        .flat_map(|p| &p.decisions)
        .find(|d| d.id == id)
        .map(|d| d.decision)
        .expect("every version is decided")
}

fn is_user_tag(tag: &str) -> bool {
    ghpkg_retention::attachment_subject(tag).is_none()
}

fn protected_by_tag(rules: &Rules, version: &VersionFacts) -> bool {
    version
        .tags
        .iter()
        .filter(|t| is_user_tag(t))
        .any(|t| rules.protected_tags.iter().any(|p| p.is_match(t)))
}

fn protected_by_entry(rules: &Rules, version: &VersionFacts) -> bool {
    rules
        .protected_versions
        .iter()
        .any(|e| *e == version.id.to_string() || *e == version.name)
}

/// Properties every plan has, whatever the package.
fn check_universal(target: &Target, packages: &[PackageFacts], rules: &Rules, plan: &Plan) {
    for package in packages {
        let decided: Vec<Decision> = package
            .versions
            .iter()
            .map(|v| decision_of(plan, v.id))
            .collect();
        for (version, decision) in package.versions.iter().zip(&decided) {
            if protected_by_entry(rules, version) || protected_by_tag(rules, version) {
                assert_eq!(
                    *decision,
                    Decision::Keep,
                    "protected version {} deleted",
                    version.id
                );
            }
        }
        if !package.versions.is_empty() {
            assert!(
                decided.contains(&Decision::Keep),
                "every version of {} is deleted",
                package.name
            );
        }
        if target.is_container() {
            let tagged: Vec<Decision> = package
                .versions
                .iter()
                .zip(&decided)
                .filter(|(v, _)| v.tags.iter().any(|t| is_user_tag(t)))
                .map(|(_, d)| *d)
                .collect();
            if !tagged.is_empty() {
                assert!(
                    tagged.contains(&Decision::Keep),
                    "every tagged version deleted"
                );
            }
        }
    }
    let delete_decisions: BTreeSet<u64> = plan
        .packages
        .iter()
        .flat_map(|p| &p.decisions)
        .filter(|d| d.decision == Decision::Delete)
        .map(|d| d.id)
        .collect();
    let deletions: Vec<u64> = deleted(plan);
    let unique: BTreeSet<u64> = deletions.iter().copied().collect();
    assert_eq!(unique.len(), deletions.len(), "a deletion is listed twice");
    assert_eq!(
        unique, delete_decisions,
        "deletions and delete decisions differ"
    );
    assert_eq!(plan.sha256, plan.sha256());
    // The SHA-256 streamed from borrowed fields is that of the whole plan's compact JSON with
    // an empty `sha256`, as it always was (plans on disk keep verifying).
    let mut canonical = plan.clone();
    canonical.sha256.clear();
    let whole = sha2::Sha256::digest(serde_json::to_vec(&canonical).unwrap());
    let whole: String = whole.iter().map(|byte| format!("{byte:02x}")).collect();
    assert_eq!(plan.sha256(), whole);
}

proptest! {
    #[test]
    fn protected_versions_are_never_deleted_and_packages_never_emptied(
        (target, package) in arb_flat_package(),
        rules in arb_rules(10),
    ) {
        let packages = vec![package];
        let plan = plan(&target, packages.clone(), &rules, now()).unwrap();
        check_universal(&target, &packages, &rules, &plan);
    }

    /// For a package without tags or graph, with `keep_newest` N ≥ 1 and no age rule, the N
    /// newest versions (by the `order_by` timestamp, then id), protected ones included, are
    /// kept, the unprotected among them by `keep:newest-n`; every other unprotected version is
    /// deleted, and every protected one kept.
    #[test]
    fn keep_newest_keeps_exactly_the_n_newest_selected_versions(
        versions in arb_versions(),
        keep in 1usize..6,
        by_update in any::<bool>(),
        protected in vec(1u64..10, 0..3),
    ) {
        let versions: Vec<VersionFacts> =
            versions.into_iter().map(|v| VersionFacts { tags: vec![], ..v }).collect();
        let order_by = if by_update { OrderBy::UpdatedAt } else { OrderBy::CreatedAt };
        let rules = rules(|r| {
            r.keep_newest = Some(keep);
            r.order_by = order_by;
            r.protected_versions = protected.iter().map(u64::to_string).collect();
        });
        let timestamp = |v: &VersionFacts| if by_update { v.updated_at } else { v.created_at };
        let mut selected: Vec<&VersionFacts> = versions.iter().collect();
        selected.sort_by_key(|v| std::cmp::Reverse((timestamp(v), v.id)));
        let package = PackageFacts { name: "lib".into(), versions: versions.clone(), graph: None, incomplete_listing: None };
        let plan = plan(&npm(), vec![package], &rules, now()).unwrap();
        let reasons = reasons(&plan);
        for (rank, version) in selected.iter().enumerate() {
            let expected = if protected.contains(&version.id) {
                ReasonCode::ProtectedVersion
            } else if rank < keep {
                ReasonCode::NewestN
            } else {
                ReasonCode::BeyondNewestN
            };
            prop_assert_eq!(reasons[&version.id], expected, "rank {}", rank);
        }
    }

    /// With any rules: keep_newest ranks the selected versions, protected ones included; the
    /// min(N, ranked) newest are protected or `keep:newest-n`, and no other is `keep:newest-n`,
    /// unless a GitHub refusal changed a candidate's reason.
    #[test]
    fn keep_newest_ranks_candidates_newest_first(
        (target, package) in arb_flat_package(),
        rules in arb_rules(10),
    ) {
        let Some(keep) = rules.keep_newest else { return Ok(()) };
        let packages = vec![package];
        let plan = plan(&target, packages.clone(), &rules, now()).unwrap();
        let reasons = reasons(&plan);
        prop_assume!(!reasons.values().any(|r| matches!(
            r,
            ReasonCode::GithubRefusesLastTagged | ReasonCode::GithubRefusesLastVersion
                | ReasonCode::GraphNotRead
        )));
        let ranked = [ReasonCode::NewestN, ReasonCode::BeyondNewestN, ReasonCode::OlderThan, ReasonCode::TooNew];
        let key = |v: &VersionFacts| (match rules.order_by {
            OrderBy::CreatedAt => v.created_at,
            OrderBy::UpdatedAt => v.updated_at,
            OrderBy::Version => unreachable!("arb_rules orders by a timestamp"),
        }, v.id);
        let protected = [ReasonCode::ProtectedTag, ReasonCode::ProtectedVersion];
        let details: BTreeMap<u64, &str> = plan.packages[0]
            .decisions
            .iter()
            .map(|d| (d.id, &*d.detail))
            .collect();
        let is_ranked = |v: &VersionFacts| {
            let reason = reasons[&v.id];
            ranked.contains(&reason)
                || (protected.contains(&reason) && details[&v.id].contains(" newest of "))
        };
        let mut candidates: Vec<&VersionFacts> =
            packages[0].versions.iter().filter(|v| is_ranked(v)).collect();
        candidates.sort_by_key(|v| std::cmp::Reverse(key(v)));
        for (rank, version) in candidates.iter().enumerate() {
            let reason = reasons[&version.id];
            if rank < keep {
                prop_assert!(
                    reason == ReasonCode::NewestN || protected.contains(&reason),
                    "rank {} is {}", rank, reason
                );
            } else {
                prop_assert_ne!(reason, ReasonCode::NewestN, "rank {}", rank);
            }
        }
    }

    #[test]
    fn the_same_input_in_any_order_gives_the_same_plan_and_sha(
        (target, package) in arb_flat_package(),
        rules in arb_rules(10),
        rotation in any::<Index>(),
    ) {
        let first = plan(&target, vec![package.clone()], &rules, now()).unwrap();
        let again = plan(&target, vec![package.clone()], &rules, now()).unwrap();
        prop_assert_eq!(first.to_json(), again.to_json());
        let mut rotated = package.clone();
        let by = rotation.index(rotated.versions.len());
        rotated.versions.rotate_left(by);
        let other = PackageFacts { name: "zz/other".into(), versions: vec![], graph: None, incomplete_listing: None };
        let shuffled = plan(&target, vec![other.clone(), rotated], &rules, now()).unwrap();
        let ordered = plan(&target, vec![package, other], &rules, now()).unwrap();
        prop_assert_eq!(&shuffled.sha256, &ordered.sha256);
        prop_assert_eq!(shuffled.to_json(), ordered.to_json());
    }

    #[test]
    fn a_tagged_version_with_an_unselected_tag_is_kept(
        (target, package) in arb_flat_package(),
        rules in arb_rules(10),
    ) {
        let plan = plan(&target, vec![package.clone()], &rules, now()).unwrap();
        for version in &package.versions {
            let unselected = version.tags.iter().any(|tag| {
                let included = rules.include_tags.is_empty()
                    || rules.include_tags.iter().any(|p| p.is_match(tag));
                let excluded = rules.exclude_tags.iter().any(|p| p.is_match(tag));
                !included || excluded
            });
            if unselected {
                prop_assert_eq!(decision_of(&plan, version.id), Decision::Keep, "{:?}", version.tags);
            }
        }
    }
}

/// A generated image graph: indexes over shared platform images, nested indexes, buildx
/// attestations, and referrers found through `subject`, the referrers API or cosign tags.
#[derive(Debug, Clone)]
struct GraphSpec {
    leaves: usize,
    /// (entries as picks among leaves, a nested earlier index, with attestations)
    indexes: Vec<(Vec<Index>, Option<Index>, bool)>,
    /// (subject pick among all versions so far, how the link is recorded: 0 subject field,
    /// 1 referrers API, 2 cosign tag, 3 referrer whose subject is absent)
    referrers: Vec<(Index, u8)>,
    ages: Vec<i64>,
    /// Each pool tag: the version it is on, if any.
    tags: Vec<Option<Index>>,
    /// Leaf children that are left unread.
    unread: Vec<bool>,
    /// A version whose manifest is unreadable.
    unreadable: Option<Index>,
    /// An index that lists itself or a later index (a cycle).
    cycle: Option<Index>,
}

fn arb_graph_spec() -> impl Strategy<Value = GraphSpec> {
    (
        1usize..7,
        vec(
            (
                vec(any::<Index>(), 1..4),
                option::of(any::<Index>()),
                any::<bool>(),
            ),
            0..4,
        ),
        vec((any::<Index>(), 0u8..4), 0..4),
        vec(0i64..60, 1..8),
        vec(option::of(any::<Index>()), TAG_POOL.len()),
        vec(any::<bool>(), 8),
        option::weighted(0.2, any::<Index>()),
        option::weighted(0.05, any::<Index>()),
    )
        .prop_map(
            |(leaves, indexes, referrers, ages, tags, unread, unreadable, cycle)| GraphSpec {
                leaves,
                indexes,
                referrers,
                ages,
                tags,
                unread,
                unreadable,
                cycle,
            },
        )
}

/// A package built from a spec, with the edges its facts reveal, computed independently of
/// the engine: (parent id, child id).
struct World {
    package: PackageFacts,
    edges: BTreeSet<(u64, u64)>,
    has_cycle: bool,
    /// Versions whose manifest is unreadable or was not read.
    hidden: BTreeSet<u64>,
}

fn build_world(spec: &GraphSpec) -> World {
    #[derive(Clone)]
    struct Node {
        manifest: ManifestFacts,
        tags: Vec<String>,
        listed_leaf: bool,
    }
    let image = || read(ManifestKind::Image, vec![], None);
    let mut nodes: Vec<Node> = (0..spec.leaves)
        .map(|_| Node {
            manifest: image(),
            tags: vec![],
            listed_leaf: false,
        })
        .collect();
    let mut index_ids: Vec<u64> = Vec::new();
    let mut referrers_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (picks, nested_pick, attest) in &spec.indexes {
        let mut leaves: Vec<usize> = picks.iter().map(|p| p.index(spec.leaves)).collect();
        leaves.sort_unstable();
        leaves.dedup();
        let mut children: Vec<ChildRef> = leaves
            .iter()
            .map(|&l| entry(l as u64 + 1, Some("linux/amd64")))
            .collect();
        for &leaf in &leaves {
            nodes[leaf].listed_leaf = true;
        }
        if *attest {
            for &leaf in &leaves {
                nodes.push(Node {
                    manifest: image(),
                    tags: vec![],
                    listed_leaf: true,
                });
                children.push(attestation(nodes.len() as u64, leaf as u64 + 1));
            }
        }
        if let (Some(pick), false) = (nested_pick, index_ids.is_empty()) {
            children.push(nested(index_ids[pick.index(index_ids.len())]));
        }
        nodes.push(Node {
            manifest: read(ManifestKind::Index, children, None),
            tags: vec![],
            listed_leaf: false,
        });
        index_ids.push(nodes.len() as u64);
    }
    let mut has_cycle = false;
    if let (Some(pick), false) = (spec.cycle, index_ids.is_empty()) {
        // The first index lists a pick among all indexes at or after it: itself or a later
        // one that (maybe) nests it; only a real loop counts as a cycle.
        let from = index_ids[0];
        let to = index_ids[pick.index(index_ids.len())];
        if let ManifestFacts::Read(manifest) = &mut nodes[from as usize - 1].manifest {
            manifest.children.push(nested(to));
        }
        has_cycle = true; // confirmed below against the edges
    }
    for (pick, how) in &spec.referrers {
        let subject = pick.index(nodes.len()) as u64 + 1;
        let node = match how {
            0 => Node {
                manifest: read(ManifestKind::Image, vec![], Some(digest(subject))),
                tags: vec![],
                listed_leaf: false,
            },
            1 => {
                referrers_map
                    .entry(digest(subject))
                    .or_default()
                    .push(digest(nodes.len() as u64 + 1));
                Node {
                    manifest: image(),
                    tags: vec![],
                    listed_leaf: false,
                }
            }
            2 => Node {
                manifest: image(),
                tags: vec![sig_tag(subject, ".sig")],
                listed_leaf: false,
            },
            _ => Node {
                manifest: read(ManifestKind::Image, vec![], Some(digest(500 + subject))),
                tags: vec![],
                listed_leaf: false,
            },
        };
        nodes.push(node);
    }
    for (tag, owner) in TAG_POOL.iter().zip(&spec.tags) {
        if let Some(owner) = owner {
            let at = owner.index(nodes.len());
            nodes[at].tags.push((*tag).to_owned());
        }
    }
    if let Some(pick) = spec.unreadable {
        let victim = pick.index(nodes.len());
        nodes[victim].manifest = ManifestFacts::Unreadable {
            reason: "HTTP 500".into(),
        };
    }

    let mut manifests = BTreeMap::new();
    let mut versions = Vec::new();
    let mut edges = BTreeSet::new();
    let mut listed_by_read: BTreeSet<u64> = BTreeSet::new();
    for (i, node) in nodes.iter().enumerate() {
        let id = i as u64 + 1;
        if let ManifestFacts::Read(manifest) = &node.manifest {
            for child in &manifest.children {
                let child_id = u64::from_str_radix(&child.digest[7..], 16).unwrap();
                edges.insert((id, child_id));
                if child.kind != ManifestKind::Index {
                    listed_by_read.insert(child_id);
                }
            }
            if let Some(subject) = &manifest.subject {
                let subject_id = u64::from_str_radix(&subject[7..], 16).unwrap();
                if subject_id <= nodes.len() as u64 {
                    edges.insert((subject_id, id));
                }
            }
        }
        for tag in &node.tags {
            if let Some(subject) = ghpkg_retention::attachment_subject(tag) {
                edges.insert((u64::from_str_radix(&subject[7..], 16).unwrap(), id));
            }
        }
    }
    for (subject, referrers) in &referrers_map {
        let subject_id = u64::from_str_radix(&subject[7..], 16).unwrap();
        for referrer in referrers {
            edges.insert((subject_id, u64::from_str_radix(&referrer[7..], 16).unwrap()));
        }
    }
    let mut hidden = BTreeSet::new();
    for (i, node) in nodes.iter().enumerate() {
        let id = i as u64 + 1;
        let unread =
            node.listed_leaf && listed_by_read.contains(&id) && spec.unread[i % spec.unread.len()];
        match &node.manifest {
            ManifestFacts::Unreadable { .. } => {
                hidden.insert(id);
                manifests.insert(digest(id), node.manifest.clone());
            }
            _ if unread => {
                hidden.insert(id);
            }
            manifest => {
                manifests.insert(digest(id), manifest.clone());
            }
        }
        let age = spec.ages[i % spec.ages.len()];
        versions.push(VersionFacts {
            id,
            name: digest(id),
            tags: node.tags.clone(),
            created_at: days_ago(age),
            updated_at: days_ago(age),
        });
    }
    if has_cycle {
        has_cycle = reaches(&edges, index_ids[0], index_ids[0]);
    }
    World {
        package: PackageFacts {
            name: "web/app".into(),
            versions,
            graph: Some(ImageGraph {
                manifests,
                referrers: referrers_map,
                ..ImageGraph::default()
            }),
            incomplete_listing: None,
        },
        edges,
        has_cycle,
        hidden,
    }
}

/// Whether `to` is reachable from `from` in one or more steps.
fn reaches(edges: &BTreeSet<(u64, u64)>, from: u64, to: u64) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(node) = stack.pop() {
        for &(parent, child) in edges {
            if parent == node {
                if child == to {
                    return true;
                }
                if seen.insert(child) {
                    stack.push(child);
                }
            }
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Simulating the deletions in order never breaks a graph: at every step, every version
    /// still present has every child and referrer the facts reveal, so kept tags stay whole and
    /// an interrupted run leaves only orphans. Nothing kept is deleted.
    #[test]
    fn deletions_never_break_a_kept_graph_even_when_interrupted(
        spec in arb_graph_spec(),
        rules in arb_rules(20),
    ) {
        let world = build_world(&spec);
        let packages = vec![world.package.clone()];
        let plan = plan(&container(), packages.clone(), &rules, now()).unwrap();
        check_universal(&container(), &packages, &rules, &plan);

        let mut present: BTreeSet<u64> = world.package.versions.iter().map(|v| v.id).collect();
        for deletion in &plan.deletions {
            present.remove(&deletion.id);
            for &(parent, child) in &world.edges {
                prop_assert!(
                    !present.contains(&parent) || present.contains(&child) || parent == child,
                    "after deleting {}, {} is present without {}", deletion.id, parent, child
                );
            }
        }
        if world.has_cycle {
            prop_assert!(plan.deletions.is_empty(), "a package with a cycle deletes nothing");
        }
        if !world.hidden.is_empty() {
            prop_assert!(
                plan.deletions.is_empty(),
                "a package with a manifest that was not read deletes nothing"
            );
        }
    }

    /// Plans are a fixpoint: applying a plan to the registry (its versions, manifests and
    /// referrers gone) and planning again with the same rules at the same moment plans nothing
    /// (a scheduled job never deletes on its second run what its first could have deleted).
    #[test]
    fn planning_again_after_applying_a_plan_plans_nothing(
        spec in arb_graph_spec(),
        rules in arb_rules(20),
    ) {
        let world = build_world(&spec);
        let first = plan(&container(), vec![world.package.clone()], &rules, now()).unwrap();
        let applied = applied(&world.package, &first);
        let second = plan(&container(), vec![applied], &rules, now()).unwrap();
        prop_assert!(
            second.deletions.is_empty(),
            "the second plan deletes {:?} after the first deleted {:?}",
            second.deletions.iter().map(|d| (d.id, reason_in(&second, d.id))).collect::<Vec<_>>(),
            first.deletions.iter().map(|d| d.id).collect::<Vec<_>>()
        );
    }
}

/// `package` after `plan` was applied to the registry: the deleted versions gone, and with
/// them their manifests and what the referrers API said of them.
fn applied(package: &PackageFacts, plan: &Plan) -> PackageFacts {
    let gone: BTreeSet<String> = plan.deletions.iter().map(|d| d.name.to_string()).collect();
    let mut after = package.clone();
    after.versions.retain(|v| !gone.contains(&v.name));
    if let Some(graph) = &mut after.graph {
        graph.manifests.retain(|digest, _| !gone.contains(digest));
        graph.referrers.retain(|subject, _| !gone.contains(subject));
        for referrers in graph.referrers.values_mut() {
            referrers.retain(|referrer| !gone.contains(referrer));
        }
    }
    after
}

fn reason_in(plan: &Plan, id: u64) -> ReasonCode {
    plan.packages
        .iter()
        .flat_map(|p| &p.decisions)
        .find(|d| d.id == id)
        .map(|d| d.reason)
        .expect("a decision")
}

fn arb_mutation() -> impl Strategy<Value = (Index, u8, u8)> {
    (any::<Index>(), 0u8..4, any::<u8>())
}

proptest! {
    #[test]
    fn the_age_parser_never_panics(text in any::<String>(), shaped in "[ 0-9a-zA-Z.,+-]{0,24}") {
        for input in [&text, &shaped] {
            if let Ok(age) = Age::parse(input) {
                let cutoff = age.cutoff(now());
                prop_assert!(cutoff < now());
                prop_assert!(cutoff >= now() - TimeDelta::days(36_600));
            }
        }
    }

    #[test]
    fn the_pattern_parser_never_panics(text in any::<String>(), regex in "re:[\\\\()\\[\\]{}*+?|^$.a-z0-9,]{0,16}", tag in "[a-z0-9.-]{0,12}") {
        for input in [&text, &regex] {
            if let Ok(pattern) = TagPattern::parse(input) {
                let _ = pattern.is_match(&tag);
            }
        }
    }

    #[test]
    fn the_policy_reader_never_panics_on_arbitrary_text(
        text in any::<String>(),
        shaped in "(\\[\\[rules\\]\\]\n|name = \"[a-zé]{0,3}\"\n|action = \"(keep|delete)\"\n|type = \"(npm|container)\"\n|keep_newest = [0-9]{1,3}\n|include_tags = \\[\"[a-z*]{0,3}\"\\]\n|older_than = \"[0-9a-z ]{0,4}\"\n){0,12}",
    ) {
        let _ = Policy::from_toml(&text);
        let _ = Policy::from_toml(&shaped);
    }

    #[test]
    fn the_plan_loader_never_panics_on_arbitrary_text(text in any::<String>()) {
        prop_assert!(Plan::from_json(&text).is_err());
    }

    /// A mutated plan is either refused or, when the mutation did not change its content
    /// (whitespace, number spelling), loads as the very same plan.
    #[test]
    fn a_mutated_plan_is_refused_or_unchanged(
        (target, package) in arb_flat_package(),
        rules in arb_rules(10),
        mutations in vec(arb_mutation(), 1..4),
    ) {
        let original = plan(&target, vec![package], &rules, now()).unwrap();
        let mut bytes = original.to_json().into_bytes();
        for (at, how, byte) in mutations {
            let at = at.index(bytes.len());
            match how {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                2 => { bytes.remove(at); }
                _ => bytes.truncate(at),
            }
            if bytes.is_empty() {
                break;
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(loaded) = Plan::from_json(&text) {
            prop_assert_eq!(loaded, original);
        }
    }
}

/// The policy of one delete rule for `rules`, plus `extra` rules.
fn policy_of(rules: &Rules, extra: Vec<PolicyRule>) -> Policy {
    let mut policy = Policy::of_rules(rules, "container");
    policy.rules[0].name = "delete".into();
    policy.rules.extend(extra);
    policy
}

fn keep_rule(patterns_given: &[&str]) -> PolicyRule {
    PolicyRule {
        include_tags: patterns(patterns_given),
        ..PolicyRule::new("keep", RuleAction::Keep, "container")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The flags are a policy of one rule: planning the rules through a policy decides every
    /// version alike, in the same words, and deletes the same versions in the same order.
    #[test]
    fn a_policy_of_the_flags_plans_exactly_what_the_flags_plan(
        spec in arb_graph_spec(),
        rules in arb_rules(20),
    ) {
        let world = build_world(&spec);
        let flags = plan(&container(), vec![world.package.clone()], &rules, now()).unwrap();
        let policy = Policy::of_rules(&rules, "container");
        let through = plan_policy(&container(), vec![world.package], &policy, now()).unwrap();
        let decisions = |plan: &Plan| -> Vec<(u64, Decision, ReasonCode, String)> {
            plan.packages
                .iter()
                .flat_map(|p| &p.decisions)
                .map(|d| (d.id, d.decision, d.reason, d.detail.to_string()))
                .collect()
        };
        prop_assert_eq!(decisions(&flags), decisions(&through));
        prop_assert_eq!(&flags.deletions, &through.deletions);
        prop_assert_eq!(flags.budget, through.budget);
    }

    /// A policy's plan is a fixpoint too: applying it and planning again with the same policy
    /// plans nothing.
    #[test]
    fn planning_a_policy_again_after_applying_it_plans_nothing(
        spec in arb_graph_spec(),
        first in arb_rules(20),
        second in arb_rules(20),
        keep in subsequence(vec!["v*", "pr-*", "dev", "re:v\\d+"], 1..=2),
    ) {
        let world = build_world(&spec);
        let mut second_rule = Policy::of_rules(&second, "container").rules.remove(0);
        second_rule.name = "second".into();
        let policy = policy_of(&first, vec![second_rule, keep_rule(&keep)]);
        let once = plan_policy(&container(), vec![world.package.clone()], &policy, now()).unwrap();
        let applied = applied(&world.package, &once);
        let again = plan_policy(&container(), vec![applied], &policy, now()).unwrap();
        prop_assert!(
            again.deletions.is_empty(),
            "the second plan deletes {:?} after the first deleted {:?}",
            again.deletions.iter().map(|d| (d.id, reason_in(&again, d.id))).collect::<Vec<_>>(),
            once.deletions.iter().map(|d| d.id).collect::<Vec<_>>()
        );
    }

    /// Keep always wins: whatever two delete rules say, every tagged version whose every tag a
    /// keep rule selects (or protects) is kept, and the keep rule deletes nothing the delete
    /// rules alone would have kept, unless they kept an image only because GitHub refuses to
    /// delete the last tagged version (which the keep rule now keeps another of).
    #[test]
    fn a_keep_rule_never_loses_to_a_delete_rule(
        spec in arb_graph_spec(),
        first in arb_rules(20),
        second in arb_rules(20),
        keep in subsequence(vec!["v*", "pr-*", "dev", "re:v\\d+"], 1..=2),
    ) {
        let world = build_world(&spec);
        let mut second_rule = Policy::of_rules(&second, "container").rules.remove(0);
        second_rule.name = "second".into();
        let without = policy_of(&first, vec![second_rule.clone()]);
        let with = policy_of(&first, vec![second_rule, keep_rule(&keep)]);
        let package = world.package.clone();
        let alone = plan_policy(&container(), vec![package.clone()], &without, now()).unwrap();
        let kept = plan_policy(&container(), vec![package.clone()], &with, now()).unwrap();
        let keep_patterns = patterns(&keep);
        for version in &package.versions {
            let user_tags: Vec<&String> = version.tags.iter().filter(|t| is_user_tag(t)).collect();
            let selected = !user_tags.is_empty()
                && user_tags.iter().all(|tag| {
                    keep_patterns.iter().any(|p| p.is_match(tag))
                        || with.protected_tags.iter().any(|p| p.is_match(tag))
                });
            if selected {
                prop_assert_eq!(
                    decision_of(&kept, version.id), Decision::Keep,
                    "version {} ({:?}) is selected by the keep rule", version.id, version.tags
                );
            }
        }
        // A version GitHub's refusal kept holds up its whole image; once the keep rule keeps
        // another tagged version, that image may go. Otherwise nothing newly goes.
        let rescued = alone.packages.iter().flat_map(|p| &p.decisions).any(|d| {
            matches!(
                d.reason,
                ReasonCode::GithubRefusesLastTagged | ReasonCode::GithubRefusesLastVersion
            )
        });
        // A version the keep rule keeps whose parents all go stands alone, a root: like a
        // protected one, it then takes a place among the delete rules' newest (so the next
        // run plans nothing more), which may leave another version beyond them.
        let deleted_ids: BTreeSet<u64> = kept.deletions.iter().map(|d| d.id).collect();
        let stands_alone = kept.packages.iter().flat_map(|p| &p.decisions).any(|d| {
            let parents: Vec<u64> = world
                .edges
                .iter()
                .filter(|&&(_, child)| child == d.id)
                .map(|&(parent, _)| parent)
                .collect();
            d.reason == ReasonCode::KeptByRule
                && !parents.is_empty()
                && parents.iter().all(|p| deleted_ids.contains(p))
        });
        for deletion in kept.deletions.iter().filter(|_| !rescued && !stands_alone) {
            let before = reason_in(&alone, deletion.id);
            prop_assert!(
                before.decision() == Decision::Delete,
                "the keep rule made {} deleted (it was {})", deletion.id, before
            );
        }
    }
}
