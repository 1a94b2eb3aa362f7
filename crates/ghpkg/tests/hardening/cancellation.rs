use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use ghpkg::{ItemResult, Pacing, PackageType};
use ghpkg_mock::fixture::demo::{ACME, WEB_APP};
use ghpkg_mock::{MockOptions, MockServer, tokens};

use crate::client_with;

#[tokio::test]
async fn dropping_a_thousand_in_flight_requests_leaks_no_budget() {
    let server = MockServer::start(MockOptions {
        latency: Duration::from_millis(100),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    // GitHub's 900 points a minute: 1,000 leaked DELETE reservations (5,000 points) would stall
    // the client for good.
    let client = client_with(&server.base_url(), tokens::OCTOCAT_ALL, Pacing::default());
    let package = client.org(ACME).package(PackageType::Container, WEB_APP);
    let ids: Vec<u64> = package
        .versions()
        .per_page(100)
        .send()
        .await
        .unwrap()
        .items
        .iter()
        .filter(|v| !v.is_tagged())
        .map(|v| v.id())
        .collect();
    // One deadline for all of them, as a caller's timeout or Ctrl-C would set. (A deadline per
    // future, taken at its first poll, staggers them over however long the first poll of 1,000
    // takes on a loaded machine; each one still waiting when an earlier one is dropped is then
    // rightly sent, and hundreds of deletes sent do spend the budget.)
    let deadline = tokio::time::Instant::now() + Duration::from_millis(20);
    let dropped = (0..1000).map(|n| {
        let version = package.version(ids[n % ids.len()]);
        async move { tokio::time::timeout_at(deadline, version.delete()).await }
    });
    let timed_out = join_all(dropped).await;
    assert!(
        timed_out.iter().all(Result::is_err),
        "every request was dropped in flight"
    );
    // The ones that were on the wire may have been applied; give the emulator time to finish them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = server.stats().total_requests - 1;
    let concurrency = u64::try_from(Pacing::default().max_concurrency).unwrap();
    assert!(
        sent <= concurrency,
        "only the requests holding a permit at the deadline left: {sent} reached the emulator"
    );

    // The client still runs at full speed: 40 more deletes take a few round trips, not a minute.
    let still_there: Vec<u64> = package
        .versions()
        .per_page(100)
        .page(2)
        .send()
        .await
        .unwrap()
        .items
        .iter()
        .filter(|v| !v.is_tagged())
        .map(|v| v.id())
        .take(40)
        .collect();
    let started = Instant::now();
    let outcomes: Vec<_> = tokio::time::timeout(
        Duration::from_secs(30),
        package.delete_versions(still_there).collect(),
    )
    .await
    .expect("the client is not stalled");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.result, ItemResult::Deleted))
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn streams_dropped_mid_request_leave_the_client_usable() {
    let server = MockServer::start(MockOptions {
        latency: Duration::from_millis(50),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client_with(
        &server.base_url(),
        tokens::OCTOCAT_ALL,
        Pacing {
            max_concurrency: 2,
            points_per_minute: 30,
            time_scale: 60.0, // a one-second window
            ..Pacing::default()
        },
    );
    let package = client.org(ACME).package(PackageType::Container, WEB_APP);
    for _ in 0..40 {
        let mut stream = package.versions().stream();
        let cut = tokio::time::timeout(Duration::from_millis(10), stream.next()).await;
        assert!(cut.is_err(), "the first page was still in flight");
    }
    // What was sent is charged to the window and leaves it; nothing is held for ever.
    let got = tokio::time::timeout(Duration::from_secs(10), package.get()).await;
    assert!(matches!(got, Ok(Ok(_))), "{got:?}");
}
