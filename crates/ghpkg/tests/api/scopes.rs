//! The nine operations work the same through each of the three owner scopes: 27 in all.

use futures::TryStreamExt;
use ghpkg::{Client, PackageType, Scope, VersionState};

use crate::{client, demo, mock, tokens};

/// What one scope's walk through the nine operations touches.
struct Walk {
    scope: Scope,
    /// A type to list and a package expected among the results.
    listed: (PackageType, &'static str),
    /// A package with versions, one of which may be deleted and restored.
    versioned: (PackageType, &'static str),
    deletable_version: u64,
    version_count: usize,
    /// A package that may be deleted and restored.
    deletable_package: (PackageType, &'static str),
    /// A package expected among the Docker migration conflicts.
    conflict: &'static str,
}

/// Runs all nine operations of `walk.scope` and checks each answer.
async fn walk_all_nine(walk: Walk) {
    let scope = &walk.scope;

    // list packages
    let page = scope.packages(walk.listed.0.clone()).send().await.unwrap();
    assert!(
        page.items
            .iter()
            .any(|package| package.name() == walk.listed.1),
        "{} not listed for {}",
        walk.listed.1,
        scope.owner()
    );
    assert!(
        page.items
            .iter()
            .all(|package| package.package_type() == walk.listed.0)
    );

    // get package
    let package = scope.package(walk.versioned.0.clone(), walk.versioned.1);
    let got = package.get().await.unwrap();
    assert_eq!(got.name(), walk.versioned.1);
    assert_eq!(got.package_type(), walk.versioned.0);
    assert_eq!(got.version_count(), walk.version_count as u64);

    // list versions
    let versions: Vec<_> = package.versions().stream().try_collect().await.unwrap();
    assert_eq!(versions.len(), walk.version_count);
    assert!(versions.iter().any(|v| v.id() == walk.deletable_version));

    // get version
    let version = package.version(walk.deletable_version);
    assert_eq!(version.get().await.unwrap().id(), walk.deletable_version);

    // delete version: gone, or (where the owner may still see it) marked deleted
    version.delete().await.unwrap();
    match version.get().await {
        Ok(deleted) => assert!(deleted.is_deleted(), "{deleted:?}"),
        Err(error) => assert!(error.is_not_found(), "{error:?}"),
    }

    // restore version
    version.restore().await.unwrap();
    let restored = version.get().await.unwrap();
    assert!(!restored.is_deleted());

    // delete package
    let doomed = scope.package(walk.deletable_package.0.clone(), walk.deletable_package.1);
    doomed.delete().await.unwrap();
    assert!(doomed.get().await.unwrap_err().is_not_found());

    // restore package
    doomed.restore().await.unwrap();
    assert_eq!(doomed.get().await.unwrap().name(), walk.deletable_package.1);

    // Docker migration conflicts
    let conflicts = scope.docker_conflicts().await.unwrap();
    assert!(
        conflicts
            .iter()
            .any(|package| package.name() == walk.conflict),
        "{} not among {:?}",
        walk.conflict,
        conflicts.iter().map(|p| p.name()).collect::<Vec<_>>()
    );
}

fn org_walk(client: &Client) -> Walk {
    Walk {
        scope: client.org(demo::ACME),
        listed: (PackageType::Container, demo::WEB_APP),
        versioned: (PackageType::Npm, demo::LEFT_PAD),
        deletable_version: demo::LEFT_PAD_VERSION_IDS[0] as u64,
        version_count: demo::LEFT_PAD_VERSION_IDS.len(),
        deletable_package: (PackageType::Rubygems, demo::ACME_GEM),
        conflict: demo::LEGACY_IMAGE,
    }
}

fn user_walk(client: &Client) -> Walk {
    Walk {
        scope: client.user(demo::OCTOCAT),
        listed: (PackageType::Container, demo::HELLO_DOCKER),
        versioned: (PackageType::Container, demo::HELLO_DOCKER),
        deletable_version: demo::HELLO_DOCKER_VERSION_IDS[4] as u64,
        version_count: demo::HELLO_DOCKER_VERSION_IDS.len(),
        deletable_package: (PackageType::Rubygems, demo::OCTO_NAME),
        conflict: demo::OCTO_LEGACY,
    }
}

fn authenticated_user_walk(client: &Client) -> Walk {
    Walk {
        scope: client.authenticated_user(),
        listed: (PackageType::Npm, demo::OCTO_NPM),
        versioned: (PackageType::Container, demo::HELLO_DOCKER),
        deletable_version: demo::HELLO_DOCKER_VERSION_IDS[3] as u64,
        version_count: demo::HELLO_DOCKER_VERSION_IDS.len(),
        deletable_package: (PackageType::Rubygems, demo::OCTO_NAME),
        conflict: demo::OCTO_LEGACY_PUBLIC,
    }
}

#[tokio::test]
async fn the_org_scope_reaches_all_nine_operations() {
    let server = mock().await;
    walk_all_nine(org_walk(&client(&server, tokens::OCTOCAT_ALL))).await;
}

#[tokio::test]
async fn the_user_scope_reaches_all_nine_operations() {
    let server = mock().await;
    walk_all_nine(user_walk(&client(&server, tokens::OCTOCAT_ALL))).await;
}

#[tokio::test]
async fn the_authenticated_user_scope_reaches_all_nine_operations() {
    let server = mock().await;
    walk_all_nine(authenticated_user_walk(&client(
        &server,
        tokens::OCTOCAT_ALL,
    )))
    .await;
}

#[tokio::test]
async fn the_three_scopes_together_answer_all_27_operations_successfully() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    for walk in [
        org_walk(&client),
        user_walk(&client),
        authenticated_user_walk(&client),
    ] {
        walk_all_nine(walk).await;
    }
    let stats = server.stats();
    let operations: Vec<&str> = ghpkg_mock::operation_ids().collect();
    assert_eq!(operations.len(), 27);
    for operation in operations {
        let succeeded = stats.count(operation, 200) + stats.count(operation, 204);
        assert!(succeeded > 0, "{operation} was never answered with success");
    }
}

#[tokio::test]
async fn deleted_versions_are_listed_with_state_deleted_and_can_be_restored() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let api = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::API);
    let deleted: Vec<_> = api
        .versions()
        .state(VersionState::Deleted)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(deleted.iter().all(|version| version.is_deleted()));
    assert!(
        deleted
            .iter()
            .any(|version| version.id() == demo::API_RESTORABLE_VERSION_ID as u64)
    );
    api.version(demo::API_RESTORABLE_VERSION_ID as u64)
        .restore()
        .await
        .unwrap();
    let active: Vec<_> = api.versions().stream().try_collect().await.unwrap();
    assert!(
        active
            .iter()
            .any(|version| version.id() == demo::API_RESTORABLE_VERSION_ID as u64)
    );
}

#[tokio::test]
async fn container_versions_expose_tags_and_digests() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let versions: Vec<_> = client
        .user(demo::OCTOCAT)
        .package(PackageType::Container, demo::HELLO_DOCKER)
        .versions()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let newest = versions
        .iter()
        .find(|v| v.id() == demo::HELLO_DOCKER_VERSION_IDS[0] as u64)
        .unwrap();
    assert!(
        newest.tags().iter().any(|tag| tag == "latest"),
        "{newest:?}"
    );
    assert!(newest.digest().unwrap().starts_with("sha256:"));
    let untagged = versions
        .iter()
        .find(|v| v.id() == demo::HELLO_DOCKER_VERSION_IDS[4] as u64)
        .unwrap();
    assert!(!untagged.is_tagged());
}

#[tokio::test]
async fn an_enterprise_style_base_url_with_a_path_works_the_same() {
    let server = mock().await;
    let client = crate::builder(&server)
        .base_url(server.enterprise_base_url())
        .token(tokens::OCTOCAT_ALL)
        .build()
        .unwrap();
    assert!(
        client.base_url().ends_with("/api/v3"),
        "{}",
        client.base_url()
    );
    let ids: Vec<u64> = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP)
        .versions()
        .stream()
        .map_ok(|version| version.id())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.len(), demo::WEB_APP_VERSION_COUNT);
}
