use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use ghpkg::{ItemResult, Pacing, PackageType};
use ghpkg_mock::fixture::demo::{ACME, WEB_APP};
use ghpkg_mock::{Faults, MockOptions, MockServer, tokens};

use crate::client_with;

/// Deletes `count` untagged versions of acme's web/app under `faults`, and checks the
/// emulator's own record: each planned version deleted exactly once, nothing else, nothing left.
async fn delete_under(faults: Faults, seed: u64, count: usize) {
    let server = MockServer::start(MockOptions {
        faults,
        seed,
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client_with(
        &server.base_url(),
        tokens::OCTOCAT_ALL,
        Pacing {
            max_retries: 10,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(10),
            time_scale: 600.0,
            ..Pacing::default()
        },
    );
    let package = client.org(ACME).package(PackageType::Container, WEB_APP);
    let ids: Vec<u64> = package
        .versions()
        .stream()
        .try_filter(|v| std::future::ready(!v.is_tagged()))
        .map_ok(|v| v.id())
        .take(count)
        .try_collect()
        .await
        .expect("the listing survives the faults");
    assert_eq!(ids.len(), count);

    let outcomes: Vec<_> = package.delete_versions(ids.clone()).collect().await;
    for outcome in &outcomes {
        assert!(
            matches!(
                outcome.result,
                ItemResult::Deleted | ItemResult::AlreadyGone
            ),
            "{}: {:?}",
            outcome.id,
            outcome.result
        );
    }
    let mut deletions: BTreeMap<u64, usize> = BTreeMap::new();
    for change in server.changes() {
        assert_eq!(
            change.operation_id,
            "packages/delete-package-version-for-org"
        );
        *deletions
            .entry(change.version_id.unwrap() as u64)
            .or_default() += 1;
    }
    let planned: HashSet<u64> = ids.into_iter().collect();
    assert_eq!(
        deletions.keys().copied().collect::<HashSet<_>>(),
        planned,
        "nothing else, nothing left"
    );
    assert!(deletions.values().all(|&n| n == 1), "each exactly once");
}

#[tokio::test]
async fn truncated_and_lost_answers_leave_no_planned_version_undone() {
    for seed in [1, 2, 3] {
        delete_under(
            Faults {
                truncate_rate: 0.05,
                lost_rate: 0.05,
                ..Faults::none()
            },
            seed,
            300,
        )
        .await;
    }
}

#[tokio::test]
async fn server_errors_drops_and_injected_limits_leave_no_planned_version_undone() {
    delete_under(
        Faults {
            error_rate: 0.05,
            error_statuses: vec![502, 503],
            drop_rate: 0.02,
            truncate_rate: 0.02,
            lost_rate: 0.02,
            secondary_rate: 0.02,
            secondary_retry_after: Some(Duration::from_millis(10)),
            too_many_rate: 0.02,
            too_many_retry_after: None,
            ..Faults::none()
        },
        7,
        300,
    )
    .await;
}
