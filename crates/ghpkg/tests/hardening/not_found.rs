use futures::StreamExt;
use ghpkg::{Error, ItemResult, PackageType};
use ghpkg_mock::fixture::demo::{ACME, WEB_APP};
use ghpkg_mock::{MockOptions, MockServer, tokens};

use crate::client;

#[tokio::test]
async fn a_404_for_a_missing_package_is_a_failure_not_already_gone() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server.base_url(), tokens::OCTOCAT_ALL);
    for (owner, name) in [(ACME, "web/ap"), ("acme-typo", WEB_APP)] {
        let outcomes: Vec<_> = client
            .org(owner)
            .package(PackageType::Container, name)
            .delete_versions([101, 102, 103])
            .collect()
            .await;
        for outcome in &outcomes {
            let Some(Error::NotFound { message, .. }) = outcome.error() else {
                panic!("{owner}/{name}: {:?}", outcome.result)
            };
            assert!(message.contains("does not exist"), "{message}");
        }
    }
}

#[tokio::test]
async fn a_404_for_a_version_of_a_package_that_exists_is_already_gone() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server.base_url(), tokens::OCTOCAT_ALL);
    let outcomes: Vec<_> = client
        .org(ACME)
        .package(PackageType::Container, WEB_APP)
        .delete_versions([999_999_999, 999_999_998])
        .collect()
        .await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.result, ItemResult::AlreadyGone)),
        "{outcomes:?}"
    );
    assert_eq!(
        server
            .stats()
            .count("packages/get-package-for-organization", 200),
        1,
        "the package was checked once for the whole run"
    );
}
