use futures::StreamExt;
use ghpkg::{Error, NameKind, PackageType};
use ghpkg_mock::fixture::demo::{ACME, HELLO_DOCKER, OCTOCAT, WEB_APP};
use ghpkg_mock::{MockOptions, MockServer, tokens};

use crate::client;

#[tokio::test]
async fn a_name_can_never_move_a_request_to_another_resource() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = client(&server.base_url(), tokens::OCTOCAT_ALL);
    let before = server.stats().total_requests;
    let world = server.state();
    assert!(
        world
            .package(
                OCTOCAT,
                ghpkg_api::types::PackageType::Container,
                HELLO_DOCKER
            )
            .is_some()
    );

    let traversal = r"x\..\..\..\..\..\user\packages\container\hello_docker";
    let error = client
        .org(ACME)
        .package(PackageType::Container, traversal)
        .delete()
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::InvalidName {
                kind: NameKind::Package,
                ..
            }
        ),
        "{error:?}"
    );

    for name in [
        "..",
        ".",
        "web/..",
        "../web/app",
        "%2e%2e",
        "web%2Fapp",
        "a b",
        "x\ny",
    ] {
        let error = client
            .org(ACME)
            .package(PackageType::Container, name)
            .get()
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::InvalidName { .. }),
            "{name:?}: {error:?}"
        );
    }
    for owner in ["..", ".", "acme/../user", r"acme\x", ""] {
        let error = client
            .org(owner)
            .package(PackageType::Container, WEB_APP)
            .get()
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::InvalidName { .. }),
            "{owner:?}: {error:?}"
        );
    }

    // In bulk too: nothing is sent, and every outcome names the bad input.
    let outcomes: Vec<_> = client
        .org(ACME)
        .package(
            PackageType::Container,
            "web/../../../users/octocat/packages/container/hello_docker",
        )
        .delete_versions([1, 2, 3])
        .collect()
        .await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.error(), Some(Error::InvalidName { .. })))
    );

    assert_eq!(server.stats().total_requests, before, "nothing was sent");
    assert_eq!(
        server.state(),
        world,
        "nothing changed, octocat's hello_docker included"
    );
}

#[tokio::test]
async fn the_low_level_client_refuses_a_url_that_does_not_have_its_operations_shape() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let api = ghpkg_api::Client::with_base_url(&server.base_url(), Some(tokens::OCTOCAT_ALL));
    let error = api
        .packages_delete_package_for_org()
        .org(ACME)
        .package_type(ghpkg_api::types::PackageType::Container)
        .package_name("..")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, ghpkg_api::Error::InvalidRequest(_)),
        "{error:?}"
    );
    assert_eq!(server.stats().total_requests, 0, "nothing was sent");
}
