//! The account crate against the emulator: its operations answer through the library, and its
//! requests spend the same pacing budget as the library's own.

use std::time::Duration;

use futures::future::join_all;
use ghpkg::{Client, ErrorKind, Owner, Pacing, PackageType};
use ghpkg_account::AccountExt;
use ghpkg_mock::fixture::demo::{ACME, OCTOCAT, WEB_APP};
use ghpkg_mock::{MockOptions, MockServer, RateLimits, tokens};

fn client(server: &MockServer, pacing: Pacing) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .pacing(pacing)
        .build()
        .unwrap()
}

#[tokio::test]
async fn account_operations_answer_through_the_library_with_its_errors() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server, Pacing::default());

    let me = client.authenticated_account().await.unwrap();
    assert_eq!(me.login, OCTOCAT);
    assert!(!me.is_organization());
    assert!(client.account(ACME).await.unwrap().is_organization());
    assert_eq!(
        client.owner_named(ACME).await.unwrap(),
        Owner::Org(ACME.to_string())
    );
    assert_eq!(
        client.owner_named(OCTOCAT).await.unwrap(),
        Owner::User(OCTOCAT.to_string())
    );

    let limits = client.rate_limits().await.unwrap();
    assert!(limits.rate.limit >= limits.rate.remaining);
    assert_eq!(limits.resources.core, limits.rate);
    assert!(limits.rate.reset_at().is_some());

    let missing = client.account("no-such-account").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert_eq!(
        missing.operation().map(|operation| operation.id()),
        Some("users/get-by-username")
    );
    let before = server.stats().total_requests;
    let invalid = client.account("../user").await.unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidName);
    assert_eq!(
        server.stats().total_requests,
        before,
        "refused before sending"
    );

    let anonymous = Client::builder()
        .base_url(server.base_url())
        .without_token()
        .build()
        .unwrap();
    let error = anonymous.authenticated_account().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized, "{error}");
}

#[tokio::test]
async fn library_and_extension_calls_on_one_token_share_one_budget() {
    // Thirty points a (scaled) minute for the token. Sixty reads at once, half through the
    // library and half through the extension, fit only if both draw on one budget.
    let server = MockServer::start(MockOptions {
        rate_limits: RateLimits {
            secondary_points_per_minute: 30,
            time_scale: 60.0,
            ..RateLimits::github()
        },
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = client(
        &server,
        Pacing {
            points_per_minute: 30,
            time_scale: 60.0,
            ..Pacing::default()
        },
    );
    let package = client.org(ACME).package(PackageType::Container, WEB_APP);
    let library = (0..30).map(|_| {
        let package = package.clone();
        async move { package.get().await.map(|_| ()) }
    });
    let extension = (0..30).map(|_| {
        let client = client.clone();
        async move { client.account(ACME).await.map(|_| ()) }
    });
    let results = tokio::time::timeout(
        Duration::from_secs(30),
        futures::future::join(join_all(library), join_all(extension)),
    )
    .await
    .expect("paced, not stuck");
    for result in results.0.iter().chain(results.1.iter()) {
        assert!(result.is_ok(), "{result:?}");
    }
    let stats = server.stats();
    assert_eq!(stats.rate_limit_rejections.secondary, 0, "{stats:?}");
    assert_eq!(stats.count_status(403) + stats.count_status(429), 0);
    assert!(stats.count_operation("users/get-by-username") >= 30);
}

#[tokio::test]
async fn the_generated_client_refuses_a_login_that_is_not_a_name_and_sends_nothing() {
    // The generated builder straight, as the README's recipe uses it: no name check of its own.
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server, Pacing::default());
    let api = ghpkg_account::Client::from_api(client.api());
    let before = server.stats().total_requests;
    for login in [
        "../acme", "acme/..", "acme/x", "..", "", "a?b", "a%2Fb", "a\\b", "a\nb",
    ] {
        let request = api.users_get_by_username().username(login).send();
        let error = client
            .run(ghpkg_account::operations::USERS_GET_BY_USERNAME, request)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{login:?}: {error}");
    }
    assert_eq!(
        server.stats().total_requests,
        before,
        "nothing reached the server"
    );
    assert_eq!(client.requests_sent(), 0, "nothing reached the transport");
}

#[tokio::test]
async fn a_404_of_an_extension_operation_gets_a_hint_about_that_operation() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server, Pacing::default());
    let missing = client.account("no-such-account").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    let hint = missing.hint();
    assert!(!hint.contains("package"), "{hint}");
    assert!(hint.contains("users/get-by-username"), "{hint}");
    let package = client
        .org(ACME)
        .package(PackageType::Container, "no-such-package")
        .get()
        .await
        .unwrap_err();
    assert!(package.hint().contains("package name"), "{package}");
}
