//! The fault soak: a prune of thousands of versions, image graphs included, applied while the
//! emulator injects every fault GitHub and the network produce — server errors, dropped
//! connections, truncated bodies, changes applied whose answer was lost, secondary limits with
//! and without `Retry-After`, 429s, latency jitter — over several seeds. The verdict comes from
//! the emulator's own record of changes, never from the client's report: every planned version
//! deleted exactly once, nothing else touched, nothing planned left undone, and a journal line
//! for each.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::Utc;
use ghpkg::apply::{self, ApplyOptions, Event};
use ghpkg::journal::{Journal, Outcome};
use ghpkg::registry::{Registry, RegistryOptions};
use ghpkg::retention::{Rules, TagSelection};
use ghpkg::{Client, Pacing, PackageType};
use ghpkg_mock::{Faults, Fixture, MockOptions, MockServer, RateLimits, SyntheticSpec};

/// Windows run this many times faster than GitHub's, in the emulator and the client alike.
const TIME_SCALE: f64 = 120.0;

/// Everything the soak injects, as shares of requests.
fn faults() -> Faults {
    Faults {
        error_rate: 0.05,
        error_statuses: vec![502, 503],
        drop_rate: 0.01,
        truncate_rate: 0.01,
        lost_rate: 0.01,
        secondary_rate: 0.004,
        secondary_retry_after: Some(Duration::from_secs(1)),
        too_many_rate: 0.004,
        too_many_retry_after: None,
        ..Faults::none()
    }
}

/// What one seed's run did, for the figures.
#[derive(Debug, Default)]
struct Figures {
    planned: usize,
    requests: u64,
    faults: u64,
    elapsed: Duration,
}

async fn soak(seed: u64) -> Figures {
    let server = MockServer::start(MockOptions {
        fixture: Fixture::synthetic(SyntheticSpec {
            seed,
            organizations: 1,
            users: 1,
            packages_per_owner: 1,
            versions_per_package: 3_000,
            multi_arch_images: 300,
            untagged_share: 0.75,
            package_types: vec![ghpkg_api::types::PackageType::Container],
            public_share: 0.0,
            ..SyntheticSpec::default()
        }),
        faults: faults(),
        jitter: Duration::from_millis(3),
        rate_limits: RateLimits {
            time_scale: TIME_SCALE,
            ..RateLimits::github()
        },
        seed,
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = Client::builder()
        .base_url(server.base_url())
        .token("ghp_user-0_all")
        .pacing(Pacing {
            time_scale: TIME_SCALE,
            max_retries: 12,
            backoff_base: Duration::from_millis(5),
            backoff_max: Duration::from_millis(100),
            ..Pacing::default()
        })
        .build()
        .unwrap();
    let scope = client.org("org-0");
    let package = scope.package(PackageType::Container, "pkg-0");
    let cache = tempfile::tempdir().unwrap();
    let registry = Registry::new(
        &client,
        RegistryOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            ..RegistryOptions::default()
        },
    )
    .unwrap();
    let facts = package.facts_with_graph(&registry).await.unwrap();
    let rules = Rules {
        tag_selection: Some(TagSelection::Untagged),
        ..Rules::default()
    };
    let target = scope.target(&PackageType::Container, None);
    let plan = ghpkg::retention::plan(&target, vec![facts], &rules, Utc::now()).unwrap();
    // Faults can make a manifest unreadable; then the package deletes nothing, by design. The
    // soak needs a plan that deletes: the registry reads are retried, so that never happens.
    assert!(
        plan.packages[0].fail_closed.is_none(),
        "{:?}",
        plan.packages[0].fail_closed
    );
    assert!(
        plan.deletions.len() >= 2_000,
        "{} deletions",
        plan.deletions.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&journal_path, &apply::journal_scope(&plan)).unwrap();
    let started = Instant::now();
    let options = ApplyOptions::new().registry(&registry);
    let report = apply::apply(&client, &plan, &mut journal, &options, &|_: Event<'_>| {})
        .await
        .unwrap();
    let elapsed = started.elapsed();
    // One run does it all: every fault is retried or waited out.
    assert!(!report.has_failures(), "seed {seed}: {:?}", report.not_done);

    // The emulator's record.
    let mut deleted: BTreeMap<i64, usize> = BTreeMap::new();
    for change in server.changes() {
        assert_eq!(
            change.operation_id,
            "packages/delete-package-version-for-org"
        );
        *deleted.entry(change.version_id.unwrap()).or_default() += 1;
    }
    let planned: BTreeSet<i64> = plan.deletions.iter().map(|d| d.id as i64).collect();
    let touched: BTreeSet<i64> = deleted.keys().copied().collect();
    assert_eq!(
        touched.difference(&planned).count(),
        0,
        "seed {seed}: nothing outside the plan is touched"
    );
    assert_eq!(
        planned.difference(&touched).count(),
        0,
        "seed {seed}: nothing planned is left undone"
    );
    let twice: Vec<_> = deleted.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "seed {seed}: deleted more than once: {twice:?}"
    );

    // The journal accounts for every planned version, as deleted (or already gone after a lost
    // answer).
    let state = Journal::read(&journal_path, Some(&apply::journal_scope(&plan))).unwrap();
    for id in &planned {
        let outcome = state.outcome("pkg-0", *id as u64);
        assert!(
            matches!(outcome, Some(Outcome::Deleted | Outcome::AlreadyGone)),
            "seed {seed}: version {id} is {outcome:?} in the journal"
        );
    }
    let stats = server.stats();
    let injected = stats.faults.errors
        + stats.faults.drops
        + stats.faults.truncations
        + stats.faults.lost
        + stats.faults.secondary_limits
        + stats.faults.too_many_requests;
    assert!(
        injected > 50,
        "seed {seed}: faults were injected ({:?})",
        stats.faults
    );
    Figures {
        planned: planned.len(),
        requests: stats.total_requests,
        faults: injected,
        elapsed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_under_every_fault_deletes_exactly_the_plan_once_over_several_seeds() {
    let mut total = Figures::default();
    for seed in [11, 12, 13] {
        let figures = soak(seed).await;
        println!("seed {seed}: {figures:?}");
        total.planned += figures.planned;
        total.requests += figures.requests;
        total.faults += figures.faults;
        total.elapsed += figures.elapsed;
    }
    println!(
        "fault soak: {} planned deletions over 3 seeds, {} requests, {} faults injected, \
         0 wrong deletions, 0 left undone, {:.1} s applying",
        total.planned,
        total.requests,
        total.faults,
        total.elapsed.as_secs_f64()
    );
}
