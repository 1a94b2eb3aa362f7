use ghpkg::{Error, Pacing, PackageType};

use crate::hostile::{Hostile, Reply, versions_page};
use crate::{client, client_with, quick};

#[tokio::test]
async fn a_truncated_body_is_retried_and_a_complete_one_that_does_not_decode_is_not() {
    // The first two answers are cut off halfway; the third is whole.
    let body = versions_page(1, 20);
    let half = body.len() / 2;
    let server = Hostile::start(move |_, n| {
        let reply = Reply::json(200, &body);
        if n < 2 { reply.cut_after(half) } else { reply }
    })
    .await;
    let page = client(&server.base_url(), "ghp_x")
        .org("acme")
        .package(PackageType::Container, "app")
        .versions()
        .send()
        .await
        .expect("the third answer is whole");
    assert_eq!(page.items.len(), 20);
    assert_eq!(server.requests().len(), 3);

    // Whole, but not a list of versions: a decode error at once, never retried.
    let server = Hostile::start(|_, _| Reply::json(200, r#"{"unexpected": true}"#)).await;
    let error = client(&server.base_url(), "ghp_x")
        .org("acme")
        .package(PackageType::Container, "app")
        .versions()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn a_truncated_body_that_never_heals_is_a_transport_error_after_the_retries() {
    let server = Hostile::start(|_, _| Reply::json(200, &versions_page(1, 20)).cut_after(10)).await;
    let client = client_with(
        &server.base_url(),
        "ghp_x",
        Pacing {
            max_retries: 2,
            ..quick()
        },
    );
    let error = client
        .org("acme")
        .package(PackageType::Container, "app")
        .get()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn a_non_json_error_keeps_its_status_and_an_excerpt() {
    let server = Hostile::start(|request, _| match request.target.as_str() {
        t if t.contains("/versions/1") => Reply::text(
            404,
            "text/html",
            "<html><body><h1>Not Found (proxy)</h1></body></html>",
        ),
        t if t.contains("/versions/2") => Reply::text(403, "text/plain", ""),
        _ => Reply::text(502, "text/html", "<html><h1>502 Bad Gateway</h1></html>"),
    })
    .await;
    let client = client_with(
        &server.base_url(),
        "ghp_x",
        Pacing {
            max_retries: 0,
            ..quick()
        },
    );
    let package = client.org("acme").package(PackageType::Container, "app");

    let error = package.version(1).get().await.unwrap_err();
    assert_eq!(error.status(), Some(404), "{error:?}");
    assert!(error.to_string().contains("Not Found (proxy)"), "{error}");

    let error = package.version(2).delete().await.unwrap_err();
    assert_eq!(error.status(), Some(403), "{error:?}");
    assert!(error.to_string().contains("empty"), "{error}");

    let error = package.get().await.unwrap_err();
    assert!(
        matches!(error, Error::Http { status: 502, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("502 Bad Gateway"), "{error}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_without_reading_it_all() {
    let huge = format!("[{}]", "0,".repeat(600_000) + "0");
    let server = Hostile::start(move |_, _| Reply::json(200, &huge)).await;
    let client = client_with(
        &server.base_url(),
        "ghp_x",
        Pacing {
            max_body_bytes: 1024 * 1024,
            ..quick()
        },
    );
    let error = client
        .org("acme")
        .package(PackageType::Container, "app")
        .versions()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::TooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1, "not retried");
}
