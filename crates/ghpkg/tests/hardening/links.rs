use std::time::Duration;

use futures::TryStreamExt;
use ghpkg::{Error, PackageType};

use crate::client;
use crate::hostile::{Hostile, Reply, Seen, versions_page};

fn page_of(target: &str) -> u64 {
    target
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|page| page.parse().ok())
        .unwrap_or(1)
}

fn link(request: &Seen, page: u64, rel: &str) -> String {
    format!(
        "<{}/orgs/acme/packages/container/app/versions?per_page=100&page={page}>; rel=\"{rel}\"",
        request.base
    )
}

async fn list_all(server: &Hostile) -> ghpkg::Result<Vec<ghpkg::PackageVersion>> {
    let client = client(&server.base_url(), "ghp_x");
    let listing = client
        .org("acme")
        .package(PackageType::Container, "app")
        .versions()
        .stream()
        .try_collect::<Vec<_>>();
    tokio::time::timeout(Duration::from_secs(10), listing)
        .await
        .expect("the listing ends promptly")
}

#[tokio::test]
async fn a_last_page_of_a_billion_is_never_derived_up_front() {
    // Three full pages, then a short fourth; `last` claims 999,999,999 pages.
    let server = Hostile::start(|request, _| {
        let page = page_of(&request.target);
        let count = if page <= 3 { 100 } else { 7 };
        let mut reply = Reply::json(200, &versions_page(page * 1000, count));
        if page < 4 {
            let links = format!(
                "{}, {}",
                link(request, page + 1, "next"),
                link(request, 999_999_999, "last")
            );
            reply = reply.header("link", &links);
        }
        reply
    })
    .await;
    let versions = list_all(&server).await.unwrap();
    assert_eq!(versions.len(), 307);
    assert!(
        server.requests().len() <= 12,
        "a window of pages at a time, not a billion: {} requests",
        server.requests().len()
    );
}

#[tokio::test]
async fn a_next_link_that_loops_ends_with_a_typed_error() {
    // Page 1 -> 2 -> 1 -> 2 ...
    let server = Hostile::start(|request, _| {
        let page = page_of(&request.target);
        Reply::json(200, &versions_page(page * 1000, 100))
            .header("link", &link(request, 3 - page, "next"))
    })
    .await;
    let error = list_all(&server).await.unwrap_err();
    assert!(matches!(error, Error::Pagination { .. }), "{error:?}");
    assert_eq!(error.kind().as_str(), "pagination");
    assert!(
        server.requests().len() <= 3,
        "{} requests",
        server.requests().len()
    );
}

#[tokio::test]
async fn a_link_to_another_origin_is_never_followed() {
    let server = Hostile::start(|_, _| {
        Reply::json(200, &versions_page(1, 100)).header(
            "link",
            "<https://evil.example/orgs/acme/packages/container/app/versions?page=2>; rel=\"next\"",
        )
    })
    .await;
    let error = list_all(&server).await.unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}
