//! Pacing and retries against the emulator: bulk work stays inside GitHub's limits, limits that
//! are hit anyway are waited out, transient failures are retried without deleting twice, and
//! client errors are never retried.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use ghpkg::{Client, Error, ItemResult, Pacing, PackageType, RateLimitKind};
use ghpkg_mock::fixture::demo::{ACME, WEB_APP};
use ghpkg_mock::{Faults, MockOptions, MockServer, RateLimits, tokens};

fn client(server: &MockServer, pacing: Pacing) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .pacing(pacing)
        .build()
        .expect("a loopback client builds")
}

/// Backoff short enough for tests; everything else as shipped.
fn quick_retries() -> Pacing {
    Pacing {
        backoff_base: Duration::from_millis(2),
        backoff_max: Duration::from_millis(20),
        max_retries: 10,
        ..Pacing::default()
    }
}

/// The emulator with GitHub's limits, and a minute that lasts one second.
async fn server_with_a_one_second_minute() -> MockServer {
    MockServer::start(MockOptions {
        rate_limits: RateLimits {
            time_scale: 60.0,
            ..RateLimits::github()
        },
        ..MockOptions::default()
    })
    .await
    .expect("the emulator starts")
}

/// Pacing as shipped, for a minute that lasts one second.
fn one_second_minute() -> Pacing {
    Pacing {
        time_scale: 60.0,
        ..Pacing::default()
    }
}

async fn untagged_versions(client: &Client, how_many: usize) -> Vec<u64> {
    client
        .org(ACME)
        .package(PackageType::Container, WEB_APP)
        .versions()
        .stream()
        .try_filter(|v| std::future::ready(!v.is_tagged()))
        .map_ok(|v| v.id())
        .take(how_many)
        .try_collect()
        .await
        .expect("web/app lists")
}

/// The emulator's deleted web/app versions (its records keep the wire model's `i64` ids).
fn deleted_in_web_app(server: &MockServer) -> HashSet<u64> {
    server
        .state()
        .packages
        .iter()
        .filter(|p| p.name == WEB_APP)
        .flat_map(|p| p.versions.iter())
        .filter(|v| v.is_deleted())
        .map(|v| v.id as u64)
        .collect()
}

#[tokio::test]
async fn a_paced_bulk_delete_stays_inside_the_secondary_limit() {
    let server = server_with_a_one_second_minute().await;
    let client = client(&server, one_second_minute());
    let ids = untagged_versions(&client, 300).await;
    assert_eq!(ids.len(), 300);

    let started = Instant::now();
    let outcomes: Vec<_> = client
        .org(ACME)
        .package(PackageType::Container, WEB_APP)
        .delete_versions(ids.clone())
        .collect()
        .await;
    let elapsed = started.elapsed();

    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.result, ItemResult::Deleted))
    );
    let stats = server.stats();
    assert_eq!(stats.rate_limit_rejections.secondary, 0, "{stats:?}");
    assert_eq!(stats.rate_limit_rejections.primary, 0);
    assert_eq!(stats.count_status(403) + stats.count_status(429), 0);
    // 300 DELETEs are 1,500 points: more than one (scaled) minute's 900, so pacing had to wait.
    assert!(
        elapsed >= Duration::from_millis(900),
        "finished in {elapsed:?}"
    );
    assert_eq!(
        deleted_in_web_app(&server)
            .intersection(&ids.iter().copied().collect())
            .count(),
        300
    );
}

#[tokio::test]
async fn two_clients_built_for_one_token_spend_one_budget() {
    let server = server_with_a_one_second_minute().await;
    // Built apart, as two parts of a program (or a library and its caller) would.
    let first = client(&server, one_second_minute());
    let second = client(&server, one_second_minute());
    let ids = untagged_versions(&first, 300).await;
    assert_eq!(ids.len(), 300);
    let (one_half, other_half) = ids.split_at(150);

    // Each half alone (750 points) fits one minute's 900; together (1,500) they do not.
    let package = |client: &Client| client.org(ACME).package(PackageType::Container, WEB_APP);
    let (first_outcomes, second_outcomes) = futures::join!(
        package(&first)
            .delete_versions(one_half.to_vec())
            .collect::<Vec<_>>(),
        package(&second)
            .delete_versions(other_half.to_vec())
            .collect::<Vec<_>>(),
    );

    assert!(
        first_outcomes
            .iter()
            .chain(&second_outcomes)
            .all(|o| matches!(o.result, ItemResult::Deleted))
    );
    let stats = server.stats();
    assert_eq!(stats.rate_limit_rejections.secondary, 0, "{stats:?}");
    assert_eq!(stats.count_status(403) + stats.count_status(429), 0);
    assert_eq!(
        deleted_in_web_app(&server)
            .intersection(&ids.iter().copied().collect())
            .count(),
        300
    );
}

#[tokio::test]
async fn injected_server_errors_and_dropped_connections_are_retried_without_deleting_twice() {
    let server = MockServer::start(MockOptions {
        faults: Faults {
            error_rate: 0.15,
            drop_rate: 0.05,
            ..Faults::none()
        },
        seed: 7,
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(&server, quick_retries());
    let deleted_before = deleted_in_web_app(&server);
    let ids = untagged_versions(&client, 100).await;

    let outcomes: Vec<_> = client
        .org(ACME)
        .package(PackageType::Container, WEB_APP)
        .delete_versions(ids.clone())
        .collect()
        .await;

    for outcome in &outcomes {
        assert!(
            matches!(outcome.result, ItemResult::Deleted),
            "{}: {:?}",
            outcome.id,
            outcome.result
        );
    }
    let stats = server.stats();
    assert!(
        stats.faults.errors > 0 && stats.faults.drops > 0,
        "faults were injected: {:?}",
        stats.faults
    );
    assert_eq!(
        stats.count("packages/delete-package-version-for-org", 204),
        100,
        "each version was deleted exactly once"
    );
    let newly_deleted: HashSet<u64> = deleted_in_web_app(&server)
        .difference(&deleted_before)
        .copied()
        .collect();
    assert_eq!(newly_deleted, ids.into_iter().collect::<HashSet<_>>());
}

#[tokio::test]
async fn an_unpaced_client_gets_a_typed_secondary_limit_with_retry_after() {
    let server = MockServer::start(MockOptions {
        rate_limits: RateLimits {
            secondary_points_per_minute: 10,
            ..RateLimits::github()
        },
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(&server, Pacing::unpaced());
    let package = client.org(ACME).package(PackageType::Container, WEB_APP);
    for _ in 0..10 {
        package.get().await.expect("within the budget");
    }
    let error = package.get().await.unwrap_err();
    let Error::RateLimited {
        kind, retry_after, ..
    } = &error
    else {
        panic!("expected a secondary rate limit, got {error:?}")
    };
    assert_eq!(*kind, RateLimitKind::Secondary);
    assert!(retry_after.is_some_and(|wait| wait <= Duration::from_secs(60)));
    assert_eq!(server.stats().rate_limit_rejections.secondary, 1);
}

#[tokio::test]
async fn a_paced_client_waits_out_retry_after_and_succeeds() {
    let server = MockServer::start(MockOptions {
        rate_limits: RateLimits {
            secondary_points_per_minute: 5,
            time_scale: 60.0,
            ..RateLimits::github()
        },
        ..MockOptions::default()
    })
    .await
    .unwrap();
    // Another process with the same token spends the whole budget.
    let other = client(&server, Pacing::unpaced());
    let package = other.org(ACME).package(PackageType::Container, WEB_APP);
    for _ in 0..5 {
        package.get().await.unwrap();
    }
    let paced = client(&server, quick_retries());
    let started = Instant::now();
    let got = paced
        .org(ACME)
        .package(PackageType::Container, WEB_APP)
        .get()
        .await;
    assert!(got.is_ok(), "{got:?}");
    assert!(
        server.stats().rate_limit_rejections.secondary >= 1,
        "the first try was refused"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited for Retry-After"
    );
}

#[tokio::test]
async fn a_spent_primary_budget_fails_fast_without_sending_when_waiting_is_off() {
    let server = MockServer::start(MockOptions {
        rate_limits: RateLimits {
            primary_per_hour: 5,
            ..RateLimits::github()
        },
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(
        &server,
        Pacing {
            wait_for_primary_reset: false,
            ..Pacing::default()
        },
    );
    let package = client.org(ACME).package(PackageType::Container, WEB_APP);
    for _ in 0..5 {
        package.get().await.expect("within the hourly budget");
    }
    let error = package.get().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::RateLimited {
                kind: RateLimitKind::Primary,
                reset: Some(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        server.stats().total_requests,
        5,
        "the sixth request was never sent"
    );
    let status = client
        .rate_limit()
        .expect("the budget was read from headers");
    assert_eq!(status.remaining, 0);
}

#[tokio::test]
async fn not_found_is_never_retried() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server, quick_retries());
    let error = client
        .org(ACME)
        .package(PackageType::Container, "no-such-image")
        .get()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(server.stats().total_requests, 1);
}

#[tokio::test]
async fn persistent_server_errors_are_retried_a_bounded_number_of_times() {
    let server = MockServer::start(MockOptions {
        faults: Faults {
            error_rate: 1.0,
            ..Faults::none()
        },
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(
        &server,
        Pacing {
            max_retries: 2,
            ..quick_retries()
        },
    );
    let error = client
        .org(ACME)
        .package(PackageType::Container, WEB_APP)
        .get()
        .await
        .unwrap_err();
    assert!(error.status().is_some_and(|s| s >= 500), "{error:?}");
    assert_eq!(server.stats().total_requests, 3, "one try and two retries");
}
