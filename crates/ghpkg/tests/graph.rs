//! Image-graph-aware retention against the emulator's registry: graphs read from manifests,
//! planned, applied and verified whole, for every named case of the emulator; fail closed when
//! reads fail; and downloads spared by the digest cache.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use ghpkg::apply::{self, ApplyOptions, Event};
use ghpkg::journal::Journal;
use ghpkg::outcome::{NotDoneReason, PackageOutcome, PackageResult};
use ghpkg::registry::{Registry, RegistryOptions, RegistryProblemKind};
use ghpkg::retention::{Decision, Plan, ReasonCode, Rules, TagPattern, TagSelection};
use ghpkg::{Client, Pacing, PackageType, PlanningEvent};
use ghpkg_mock::fixture::{demo, graphs};
use ghpkg_mock::{Fixture, MockOptions, MockServer, RegistryFailure, tokens};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .pacing(Pacing {
            time_scale: 60.0,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            ..Pacing::default()
        })
        .build()
        .unwrap()
}

fn registry(client: &Client, cache: &Path) -> Registry {
    Registry::new(
        client,
        RegistryOptions {
            cache_dir: Some(cache.to_path_buf()),
            ..RegistryOptions::default()
        },
    )
    .unwrap()
}

async fn plan_for(client: &Client, registry: &Registry, package: &str, rules: &Rules) -> Plan {
    let scope = client.org(demo::ACME);
    let facts = scope
        .package(PackageType::Container, package)
        .facts_with_graph(registry)
        .await
        .unwrap();
    assert!(facts.graph.is_some());
    let target = scope.target(&PackageType::Container, None);
    ghpkg::retention::plan(&target, vec![facts], rules, Utc::now()).unwrap()
}

fn untagged() -> Rules {
    Rules {
        tag_selection: Some(TagSelection::Untagged),
        ..Rules::default()
    }
}

fn decisions(plan: &Plan) -> BTreeMap<u64, (Decision, ReasonCode)> {
    plan.packages
        .iter()
        .flat_map(|p| &p.decisions)
        .map(|d| (d.id, (d.decision, d.reason)))
        .collect()
}

fn quiet(_: Event<'_>) {}

/// What `verify` says is broken in each package of `plan`.
async fn damage(client: &Client, registry: &Registry, plan: &Plan) -> Vec<(String, String)> {
    let mut broken = Vec::new();
    for package in &plan.packages {
        let report = client
            .org(demo::ACME)
            .package(PackageType::Container, package.name.clone())
            .verify(registry)
            .await
            .unwrap();
        broken.extend(report.broken.into_iter().map(|b| (b.tag, b.problem)));
    }
    broken
}

/// Applies `plan`, then checks against the emulator that exactly its deletions happened and
/// that every tag of the package pulls as whole as before (no new damage).
async fn apply_and_verify(server: &MockServer, client: &Client, registry: &Registry, plan: &Plan) {
    let damage_before = damage(client, registry, plan).await;
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(
        &dir.path().join("journal.jsonl"),
        &apply::journal_scope(plan),
    )
    .unwrap();
    let before = server.changes().len();
    apply::apply(
        client,
        plan,
        &mut journal,
        &ApplyOptions::new().registry(registry),
        &quiet,
    )
    .await
    .unwrap();
    let deleted: Vec<u64> = server.changes()[before..]
        .iter()
        .filter_map(|change| change.version_id)
        .map(|id| id as u64)
        .collect();
    // Planned versions someone else deleted before the apply (case 13) are not sent again.
    let gone_before: Vec<u64> = server.changes()[..before]
        .iter()
        .filter_map(|change| change.version_id)
        .map(|id| id as u64)
        .collect();
    let mut planned: Vec<u64> = plan
        .deletions
        .iter()
        .map(|d| d.id)
        .filter(|id| !gone_before.contains(id))
        .collect();
    let mut sorted = deleted.clone();
    sorted.sort_unstable();
    planned.sort_unstable();
    assert_eq!(sorted, planned, "exactly the plan's deletions");
    let damage_after = damage(client, registry, plan).await;
    assert_eq!(damage_after, damage_before, "the apply broke no tag");
}

#[tokio::test]
async fn the_demo_gateway_keeps_the_untagged_child_a_live_tag_uses() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server);
    let cache = tempfile::tempdir().unwrap();
    let registry = registry(&client, cache.path());
    let plan = plan_for(&client, &registry, demo::GATEWAY, &untagged()).await;
    assert!(
        damage(&client, &registry, &plan).await.is_empty(),
        "whole before"
    );
    let decided = decisions(&plan);
    assert_eq!(
        decided[&(demo::GATEWAY_SHARED_CHILD_ID as u64)],
        (Decision::Keep, ReasonCode::ChildOfKept)
    );
    for index in demo::GATEWAY_UNTAGGED_INDEX_IDS {
        assert_eq!(decided[&(index as u64)].0, Decision::Delete, "{index}");
    }
    assert!(
        decided
            .values()
            .any(|(_, reason)| *reason == ReasonCode::ChildOfDeleted),
        "children of the deleted builds go with them"
    );
    // Parents before children.
    let order: Vec<u64> = plan.deletions.iter().map(|d| d.id).collect();
    for decision in &plan.packages[0].decisions {
        if let Some(graph) = &decision.graph
            && decision.decision == Decision::Delete
        {
            let position = order.iter().position(|id| *id == decision.id).unwrap();
            for parent in &graph.parents {
                if let Some(parent_position) = order.iter().position(|id| id == parent) {
                    assert!(
                        parent_position < position,
                        "{parent} before {}",
                        decision.id
                    );
                }
            }
        }
    }
    apply_and_verify(&server, &client, &registry, &plan).await;
}

#[tokio::test]
async fn every_graph_case_is_planned_applied_and_verified_whole() {
    let server = MockServer::start(MockOptions {
        fixture: graphs::all(),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(&server);
    let cache = tempfile::tempdir().unwrap();
    let registry = registry(&client, cache.path());
    let orphans_too = Rules {
        orphans: true,
        ..untagged()
    };
    let cases: [(&str, Rules); 13] = [
        (graphs::multi_arch::PACKAGE, untagged()),
        (graphs::shared_child::PACKAGE, untagged()),
        (
            graphs::many_tags::PACKAGE,
            Rules {
                include_tags: vec![TagPattern::parse("pr-*").unwrap()],
                ..Rules::default()
            },
        ),
        (graphs::cosign_legacy::PACKAGE, untagged()),
        (graphs::referrer::PACKAGE, untagged()),
        (graphs::fallback_index::PACKAGE, untagged()),
        (graphs::nested_index::PACKAGE, untagged()),
        (graphs::orphans::PACKAGE, orphans_too),
        (graphs::broken_index::PACKAGE, untagged()),
        (graphs::docker_manifest_list::PACKAGE, untagged()),
        (graphs::moved_tag::PACKAGE, untagged()),
        (graphs::registry_error::PACKAGE, untagged()),
        (graphs::stale_listing::PACKAGE, untagged()),
    ];
    let mut all = BTreeMap::new();
    for (package, rules) in &cases {
        let plan = plan_for(&client, &registry, package, rules).await;
        all.extend(decisions(&plan));
        let broken_before = damage(&client, &registry, &plan).await;
        // Cases 9 and 12 are broken from the start (an index lists a child nobody has; the
        // registry fails on a child): verify says so, naming the tag.
        let expected_broken = [
            graphs::broken_index::PACKAGE,
            graphs::registry_error::PACKAGE,
        ]
        .contains(package);
        assert_eq!(
            !broken_before.is_empty(),
            expected_broken,
            "{package}: {broken_before:?}"
        );
        if *package == graphs::stale_listing::PACKAGE {
            // Someone deletes a planned version between the listing and the apply.
            let victim = plan.deletions.first().expect("something to delete").id;
            server
                .delete_version_as(demo::HUBOT, victim as i64)
                .unwrap();
        }
        apply_and_verify(&server, &client, &registry, &plan).await;
    }
    let keep = |id: i64| all[&(id as u64)].0 == Decision::Keep;
    let reason = |id: i64| all[&(id as u64)].1;
    // 1: a live multi-arch image keeps its platforms and attestations.
    for id in [
        graphs::multi_arch::AMD64,
        graphs::multi_arch::ARM64,
        graphs::multi_arch::AMD64_ATTESTATION,
        graphs::multi_arch::ARM64_ATTESTATION,
    ] {
        assert_eq!(reason(id), ReasonCode::ChildOfKept, "{id}");
    }
    // 2: a child shared by a kept and a deleted index is kept; the other child goes.
    assert!(keep(graphs::shared_child::SHARED_CHILD));
    assert!(!keep(graphs::shared_child::OLD_INDEX));
    assert!(!keep(graphs::shared_child::OLD_ARM64));
    // 3: an image with an unselected tag is kept (`latest` is protected before that is even
    // asked); the one with only `pr-*` tags goes.
    assert_eq!(reason(graphs::many_tags::IMAGE), ReasonCode::ProtectedTag);
    assert_eq!(
        reason(graphs::many_tags::PREVIOUS),
        ReasonCode::PartialTagMatch
    );
    assert!(!keep(graphs::many_tags::PR_ONLY));
    // 4, 5: signatures, attestations and referrers of a kept image are kept.
    assert_eq!(
        reason(graphs::cosign_legacy::SIGNATURE),
        ReasonCode::ReferrerOfKept
    );
    assert_eq!(
        reason(graphs::cosign_legacy::ATTESTATION),
        ReasonCode::ReferrerOfKept
    );
    assert_eq!(reason(graphs::referrer::SBOM), ReasonCode::ReferrerOfKept);
    // 6, 7, 10: fallback, nested and Docker manifest lists keep their whole graph.
    assert!(keep(graphs::fallback_index::FIRST) && keep(graphs::fallback_index::SECOND));
    assert!(keep(graphs::nested_index::INNER) && keep(graphs::nested_index::S390X));
    assert!(keep(graphs::docker_manifest_list::ARM64));
    // 8: orphans whose index is gone are deleted, as orphans or as untagged.
    assert_eq!(reason(graphs::orphans::SIGNATURE), ReasonCode::Orphan);
    assert!(!keep(graphs::orphans::AMD64) && !keep(graphs::orphans::ARM64));
    assert!(keep(graphs::orphans::IMAGE));
    // 11: the image a tag moved away from is deleted; the tagged one kept.
    assert!(!keep(graphs::moved_tag::OLD) && keep(graphs::moved_tag::NEW));
    // 12: the unreadable child is never read (its parent lists it), and is kept.
    assert!(keep(graphs::registry_error::FAILING));
}

#[tokio::test]
async fn when_a_kept_images_manifest_cannot_be_read_nothing_in_the_package_is_deleted() {
    let fixture = Fixture::demo();
    let digest = fixture
        .digest_of(demo::GATEWAY_LATEST_INDEX_ID)
        .expect("a real digest");
    let server = MockServer::start(MockOptions {
        fixture,
        registry_failures: vec![RegistryFailure::always(&digest, 503)],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(&server);
    let cache = tempfile::tempdir().unwrap();
    let registry = registry(&client, cache.path());
    let plan = plan_for(&client, &registry, demo::GATEWAY, &untagged()).await;
    assert!(plan.deletions.is_empty(), "{:?}", plan.deletions);
    let package = &plan.packages[0];
    assert!(package.fail_closed.is_some(), "the plan says why");
    assert!(
        package
            .decisions
            .iter()
            .any(|d| d.reason == ReasonCode::UnreadableGraph)
    );
}

#[tokio::test]
async fn a_second_plan_of_an_unchanged_package_reads_no_manifest_from_the_registry() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server);
    let cache = tempfile::tempdir().unwrap();
    let first = plan_for(
        &client,
        &registry(&client, cache.path()),
        demo::GATEWAY,
        &untagged(),
    )
    .await;
    let reads = server.stats().registry.manifest_reads;
    assert!(first.reads.from_registry > 0);
    assert_eq!(
        first.reads.from_registry, reads,
        "the plan counts what was read"
    );
    // Every manifest read at most once ever: no digest twice.
    assert!(
        server
            .stats()
            .registry
            .manifest_reads_by_digest
            .values()
            .all(|&n| n == 1)
    );

    // A new run (a new registry reader, the same cache).
    let second = plan_for(
        &client,
        &registry(&client, cache.path()),
        demo::GATEWAY,
        &untagged(),
    )
    .await;
    assert_eq!(
        server.stats().registry.manifest_reads,
        reads,
        "no new download"
    );
    assert_eq!(second.reads.from_registry, 0);
    assert_eq!(second.reads.from_cache, first.reads.from_registry);
    assert_eq!(second.deletions, first.deletions);
}

#[tokio::test]
async fn verify_checks_each_digest_once_and_reads_only_what_is_not_an_image() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server);
    let gateway = || {
        client
            .org(demo::ACME)
            .package(PackageType::Container, demo::GATEWAY)
    };
    // No cache: only the run's own memory can spare a second read.
    let uncached = Registry::new(&client, RegistryOptions::default()).unwrap();
    let report = gateway().verify(&uncached).await.unwrap();
    assert!(report.is_whole(), "{:?}", report.broken);
    let stats = server.stats().registry;
    // `v1.2.0` and `latest` share an index: it is read once, and no image is read at all.
    assert!(
        stats.manifest_reads_by_digest.values().all(|&n| n == 1),
        "{:?}",
        stats.manifest_reads_by_digest
    );
    let tagged_images = server
        .state()
        .package(
            demo::ACME,
            ghpkg_api::types::PackageType::Container,
            demo::GATEWAY,
        )
        .unwrap()
        .active_versions()
        .filter(|v| v.tags.iter().any(|t| !t.starts_with("sha256-")))
        .count() as u64;
    assert!(
        stats.manifest_reads <= tagged_images,
        "{} reads for {tagged_images} tagged indexes",
        stats.manifest_reads
    );

    // With a cache, a second run reads nothing: the indexes come from it.
    let cache = tempfile::tempdir().unwrap();
    let first = registry_reads_after(&server, || async {
        gateway()
            .verify(&registry(&client, cache.path()))
            .await
            .unwrap()
    })
    .await;
    assert_eq!(first, stats.manifest_reads);
    let again = registry_reads_after(&server, || async {
        gateway()
            .verify(&registry(&client, cache.path()))
            .await
            .unwrap()
    })
    .await;
    assert_eq!(again, 0);
}

async fn registry_reads_after<F, Fut, T>(server: &MockServer, run: F) -> u64
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let before = server.stats().registry.manifest_reads;
    run().await;
    server.stats().registry.manifest_reads - before
}

#[tokio::test]
async fn planning_the_demo_again_after_applying_its_plan_plans_nothing() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server);
    let cache = tempfile::tempdir().unwrap();
    let registry = registry(&client, cache.path());
    let first = plan_for(&client, &registry, demo::GATEWAY, &untagged()).await;
    assert!(!first.deletions.is_empty());
    apply_and_verify(&server, &client, &registry, &first).await;
    let second = plan_for(&client, &registry, demo::GATEWAY, &untagged()).await;
    assert!(
        second.deletions.is_empty(),
        "the second plan deletes {:?}",
        second.deletions.iter().map(|d| d.id).collect::<Vec<_>>()
    );
}

/// A push during a long apply, after its first check: the periodic re-check sees the new index
/// and spares the planned platform image it reuses (and only that).
#[tokio::test]
async fn a_push_during_the_apply_is_seen_by_the_next_re_check() {
    use ghpkg::apply::SkipReason;
    use ghpkg::journal::{JournalReason, Outcome};
    use ghpkg_mock::{OnVersionsPage, Push, WorldChange};
    use graphs::push_between_plan_and_apply::*;
    let server = MockServer::start(MockOptions {
        fixture: graphs::push_between_plan_and_apply(),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(&server);
    let cache = tempfile::tempdir().unwrap();
    let registry = registry(&client, cache.path());
    assert_eq!(graphs::OWNER, demo::ACME, "plan_for plans acme's packages");
    let plan = plan_for(&client, &registry, PACKAGE, &untagged()).await;
    let planned: Vec<u64> = plan.deletions.iter().map(|d| d.id).collect();
    assert!(planned.contains(&(PLATFORM as u64)), "{planned:?}");

    // The apply's own listing sees nothing new; the push lands just before the re-check's.
    let state = server.state();
    let platform = state.version(PLATFORM).unwrap().1;
    let index = pushed_index(
        &platform.name,
        platform.manifest.as_ref().unwrap().bytes.len(),
    );
    for change in [
        WorldChange::delete_as("hubot", []),
        WorldChange::Push(Push::version(graphs::OWNER, PACKAGE, index).tag(PUSHED_TAG)),
    ] {
        server.arm(OnVersionsPage {
            owner: graphs::OWNER.into(),
            package: PACKAGE.into(),
            page: 1,
            change,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(
        &dir.path().join("journal.jsonl"),
        &apply::journal_scope(&plan),
    )
    .unwrap();
    let options = ApplyOptions::new()
        .registry(&registry)
        .recheck_every(Duration::ZERO);
    apply::apply(&client, &plan, &mut journal, &options, &quiet)
        .await
        .unwrap();
    assert_eq!(server.armed(), 0, "the re-check listed the package again");
    let platform_entry = journal
        .state()
        .entries
        .iter()
        .find(|e| e.version_id == PLATFORM as u64)
        .unwrap();
    assert_eq!(platform_entry.outcome, Outcome::Skipped);
    assert_eq!(
        platform_entry.reason,
        JournalReason::Skipped(SkipReason::NowInUse)
    );
    assert!(
        platform_entry
            .detail
            .as_deref()
            .unwrap()
            .contains(PUSHED_TAG),
        "{:?}",
        platform_entry.detail
    );
    assert!(
        journal
            .state()
            .entries
            .iter()
            .filter(|e| e.version_id != PLATFORM as u64 && e.outcome != Outcome::Intent)
            .all(|e| e.outcome == Outcome::Deleted),
        "the rest of the plan is deleted"
    );
    assert_eq!(server.state().broken_tags(), []);
}

/// Every planning event, owned, in order.
#[derive(Debug, PartialEq)]
enum Seen {
    Counted(u64),
    Listed(u64, u64),
    Read(u64, u64),
}

fn seen(events: &std::sync::Mutex<Vec<Seen>>, event: PlanningEvent<'_>) {
    let seen = match event {
        PlanningEvent::Counted { versions, .. } => Seen::Counted(versions),
        PlanningEvent::Listed {
            pages, versions, ..
        } => Seen::Listed(pages, versions),
        PlanningEvent::ManifestsRead { read, known, .. } => Seen::Read(read, known),
        _ => return,
    };
    events.lock().unwrap().push(seen);
}

#[tokio::test]
async fn planning_reports_the_count_each_page_listed_and_each_manifest_read() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server);
    let scope = client.org(demo::ACME);

    // 3,000 versions: thirty pages of a hundred, each reported as it arrives.
    let events = std::sync::Mutex::new(Vec::new());
    let facts = scope
        .package(PackageType::Container, demo::WEB_APP)
        .facts_reporting(&|event| seen(&events, event))
        .await
        .unwrap();
    assert_eq!(facts.versions.len(), demo::WEB_APP_VERSION_COUNT);
    let events = events.into_inner().unwrap();
    assert!(events.contains(&Seen::Counted(demo::WEB_APP_VERSION_COUNT as u64)));
    let pages: Vec<(u64, u64)> = events
        .iter()
        .filter_map(|event| match event {
            Seen::Listed(pages, versions) => Some((*pages, *versions)),
            _ => None,
        })
        .collect();
    let expected: Vec<(u64, u64)> = (1..=30).map(|page| (page, page * 100)).collect();
    assert_eq!(pages, expected);

    // The gateway's graph: every manifest read is reported, ending with all of them.
    let cache = tempfile::tempdir().unwrap();
    let registry = registry(&client, cache.path());
    let events = std::sync::Mutex::new(Vec::new());
    let target = scope.target(&PackageType::Container, None);
    let facts = scope
        .package(PackageType::Container, demo::GATEWAY)
        .facts_for_plan(&registry, &target, &untagged(), Utc::now(), &|event| {
            seen(&events, event)
        })
        .await
        .unwrap();
    let manifests = facts.graph.as_ref().unwrap().manifests.len() as u64;
    let reads: Vec<(u64, u64)> = events
        .into_inner()
        .unwrap()
        .into_iter()
        .filter_map(|event| match event {
            Seen::Read(read, known) => Some((read, known)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reads.len() as u64,
        manifests + 1,
        "one per read, then the total"
    );
    assert!(reads.windows(2).all(|w| w[0].0 <= w[1].0), "{reads:?}");
    assert!(reads.iter().all(|(read, known)| read <= known), "{reads:?}");
    assert_eq!(reads.last(), Some(&(manifests, manifests)));
}

#[tokio::test]
async fn a_registry_that_cannot_be_reached_is_named_as_why_its_package_was_not_done() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server);
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let registry = Registry::new(
        &client,
        RegistryOptions {
            url: Some(url),
            ..RegistryOptions::default()
        },
    )
    .unwrap();
    assert_eq!(registry.problems_seen(), 0);
    let scope = client.org(demo::ACME);
    let target = scope.target(&PackageType::Container, None);
    let facts = scope
        .package(PackageType::Container, demo::GATEWAY)
        .facts_for_plan(&registry, &target, &untagged(), Utc::now(), &|_| {})
        .await
        .unwrap();
    assert!(registry.problems_seen() > 0);
    let problem = registry.last_problem().expect("the problem is kept");
    assert_eq!(problem.kind, RegistryProblemKind::Unreachable);
    assert!(problem.message.contains("could not reach the registry"));

    let plan = ghpkg::retention::plan(&target, vec![facts], &untagged(), Utc::now()).unwrap();
    let dry_run = PackageResult::of_plan(&plan, &BTreeMap::new());
    assert_eq!(
        dry_run[0].outcome,
        PackageOutcome::NotDone(NotDoneReason::UnreadableGraph),
        "without the registry's problem, the plan's own reason"
    );
    let problems = BTreeMap::from([(demo::GATEWAY.to_string(), problem.clone())]);
    let named = PackageResult::of_plan(&plan, &problems);
    assert_eq!(
        named[0].outcome,
        PackageOutcome::NotDone(NotDoneReason::RegistryUnreachable)
    );
    assert_eq!(named[0].detail.as_deref(), Some(problem.message.as_str()));
}
