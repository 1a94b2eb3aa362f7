//! Streams walk every page exactly once, concurrently or not, in the same order.

use std::collections::HashSet;

use futures::TryStreamExt;
use ghpkg::{PackageType, Paging};

use crate::{client, demo, mock, requests, tokens};

#[tokio::test]
async fn streaming_web_app_yields_every_version_exactly_once_in_the_same_order_either_way() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let web_app = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP);

    let before = requests(&server);
    let concurrent: Vec<u64> = web_app
        .versions()
        .paging(Paging::Concurrent(4))
        .stream()
        .map_ok(|version| version.id())
        .try_collect()
        .await
        .unwrap();
    let pages = demo::WEB_APP_VERSION_COUNT.div_ceil(100) as u64;
    assert_eq!(requests(&server) - before, pages, "one request per page");

    let sequential: Vec<u64> = web_app
        .versions()
        .sequential()
        .stream()
        .map_ok(|version| version.id())
        .try_collect()
        .await
        .unwrap();

    assert_eq!(concurrent.len(), demo::WEB_APP_VERSION_COUNT);
    let unique: HashSet<u64> = concurrent.iter().copied().collect();
    assert_eq!(unique.len(), demo::WEB_APP_VERSION_COUNT, "duplicates");
    assert!(unique.contains(&(demo::WEB_APP_OLDEST_VERSION_ID as u64)));
    assert!(unique.contains(&(demo::WEB_APP_LATEST_VERSION_ID as u64)));
    assert_eq!(concurrent, sequential);
}

#[tokio::test]
async fn small_pages_follow_links_to_the_end() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let ids: Vec<u64> = client
        .user(demo::OCTOCAT)
        .package(PackageType::Container, demo::HELLO_DOCKER)
        .versions()
        .per_page(2)
        .stream()
        .map_ok(|version| version.id())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, demo::HELLO_DOCKER_VERSION_IDS.map(|id| id as u64));
}

#[tokio::test]
async fn one_page_carries_its_links() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let page = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP)
        .versions()
        .per_page(100)
        .page(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 100);
    assert!(page.has_next());
    assert_eq!(page.last_page(), Some(30));
    assert!(page.links.prev.is_some());
    assert_eq!(
        ghpkg::pagination::page_number(page.links.next.as_deref().unwrap()),
        Some(3)
    );
}

#[tokio::test]
async fn a_stream_may_start_at_a_later_page() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let versions = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP)
        .versions();
    let all: Vec<u64> = versions
        .clone()
        .stream()
        .map_ok(|version| version.id())
        .try_collect()
        .await
        .unwrap();
    let from_page_29: Vec<u64> = versions
        .page(29)
        .stream()
        .map_ok(|version| version.id())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(from_page_29, all[2800..]);
}

#[tokio::test]
async fn package_listings_stream_too() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let packages: Vec<String> = client
        .org(demo::ACME)
        .packages(PackageType::Container)
        .per_page(1)
        .stream()
        .map_ok(|package| package.name().to_string())
        .try_collect()
        .await
        .unwrap();
    assert!(packages.iter().any(|name| name == demo::WEB_APP));
    assert!(packages.iter().any(|name| name == demo::API));
    let unique: HashSet<&String> = packages.iter().collect();
    assert_eq!(unique.len(), packages.len());
}
