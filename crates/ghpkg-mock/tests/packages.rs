//! Package operations in all three scopes: list, get, delete, restore and the Docker-migration
//! conflict lists, through the generated client.

mod common;

use std::time::Duration;

use common::{anonymous, client, demo, failure, link, start_time};
use ghpkg_api::operations::{Action, OwnerFamily};
use ghpkg_api::types::{PackageType, PackageVisibility};
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{messages, tokens};

fn names(packages: &[ghpkg_api::types::Package]) -> Vec<&str> {
    packages.iter().map(|p| p.name.as_str()).collect()
}

#[tokio::test]
async fn org_packages_are_listed_by_type_and_visibility() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let list = |package_type| {
        octocat
            .packages_list_packages_for_organization()
            .org(ACME)
            .package_type(package_type)
    };
    let containers = list(PackageType::Container).send().await.unwrap();
    assert_eq!(names(&containers), [API, GATEWAY, WEB_APP]);
    let npm = list(PackageType::Npm).send().await.unwrap();
    assert_eq!(names(&npm), [LEFT_PAD, REUSED_NAME]);
    let docker = list(PackageType::Docker).send().await.unwrap();
    assert_eq!(names(&docker), [LEGACY_IMAGE, LEGACY_TOOLS]);
    for (package_type, name) in [
        (PackageType::Maven, ACME_CORE),
        (PackageType::Rubygems, ACME_GEM),
        (PackageType::Nuget, ACME_LIB),
    ] {
        assert_eq!(names(&list(package_type).send().await.unwrap()), [name]);
    }
    let public = list(PackageType::Container)
        .visibility(PackageVisibility::Public)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&public), [API]);
    let private = list(PackageType::Container)
        .visibility(PackageVisibility::Private)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&private), [GATEWAY, WEB_APP]);
}

#[tokio::test]
async fn a_package_carries_absolute_urls_owner_repository_and_version_count() {
    let server = demo().await;
    let package = client(&server, tokens::OCTOCAT_ALL)
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .send()
        .await
        .unwrap()
        .into_inner();
    let base = server.base_url();
    assert_eq!(package.name, WEB_APP);
    assert_eq!(package.package_type, "container");
    assert_eq!(package.visibility, "private");
    assert_eq!(package.version_count, 3_000);
    assert_eq!(
        package.url,
        format!("{base}/orgs/acme/packages/container/web%2Fapp")
    );
    assert_eq!(
        package.html_url,
        format!("{base}/orgs/acme/packages/container/package/web%2Fapp")
    );
    let owner = package.owner.unwrap();
    assert_eq!((owner.login.as_str(), owner.id), (ACME, ACME_ID));
    assert_eq!(owner.type_, "Organization");
    assert_eq!(package.repository.unwrap().full_name, "acme/web");
    assert!(package.created_at < start_time() - chrono::TimeDelta::days(700));
}

#[tokio::test]
async fn listing_needs_a_valid_package_type_and_stays_within_10000_results() {
    let server = demo().await;
    let http = reqwest::Client::new();
    for query in ["", "?package_type=gems"] {
        let response = http
            .get(format!("{}/orgs/acme/packages{query}", server.base_url()))
            .bearer_auth(tokens::OCTOCAT_ALL)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("package_type"),
            "{body}"
        );
    }
    let result = client(&server, tokens::OCTOCAT_ALL)
        .packages_list_packages_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .page(101)
        .per_page(100)
        .send()
        .await;
    assert_eq!(failure(result).await, (400, messages::PAGE_LIMIT.into()));
}

#[tokio::test]
async fn the_link_header_is_formatted_as_github_does() {
    let server = demo().await;
    let base = server.base_url();
    let http = reqwest::Client::new();
    let get = |query: &str| {
        http.get(format!("{base}/orgs/acme/packages?{query}"))
            .bearer_auth(tokens::OCTOCAT_ALL)
            .send()
    };
    let first = get("package_type=npm&per_page=1").await.unwrap();
    assert_eq!(
        first.headers()["link"],
        format!(
            "<{base}/orgs/acme/packages?package_type=npm&per_page=1&page=2>; rel=\"next\", \
             <{base}/orgs/acme/packages?package_type=npm&per_page=1&page=2>; rel=\"last\""
        )
        .as_str()
    );
    let second = get("package_type=npm&per_page=1&page=2").await.unwrap();
    assert_eq!(
        second.headers()["link"],
        format!(
            "<{base}/orgs/acme/packages?package_type=npm&per_page=1&page=1>; rel=\"prev\", \
             <{base}/orgs/acme/packages?package_type=npm&per_page=1&page=1>; rel=\"first\""
        )
        .as_str()
    );
    let all = get("package_type=npm").await.unwrap();
    assert!(all.headers().get("link").is_none());
}

#[tokio::test]
async fn unknown_packages_and_owners_are_not_found() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let missing = octocat
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name("no-such-package")
        .send()
        .await;
    assert_eq!(
        failure(missing).await,
        (404, messages::PACKAGE_NOT_FOUND.into())
    );
    let deleted = octocat
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(OLD_SERVICE)
        .send()
        .await;
    assert_eq!(failure(deleted).await.0, 404);
    let no_org = octocat
        .packages_list_packages_for_organization()
        .org("initech")
        .package_type(PackageType::Npm)
        .send()
        .await;
    assert_eq!(failure(no_org).await, (404, messages::NOT_FOUND.into()));
    // A user is not an organization.
    let user_as_org = octocat
        .packages_list_packages_for_organization()
        .org(MONA)
        .package_type(PackageType::Npm)
        .send()
        .await;
    assert_eq!(failure(user_as_org).await.0, 404);
    // Organization names are not case sensitive.
    let upper = octocat
        .packages_list_packages_for_organization()
        .org("ACME")
        .package_type(PackageType::Npm)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&upper), [LEFT_PAD, REUSED_NAME]);
}

#[tokio::test]
async fn deleting_an_org_package_hides_it_until_it_is_restored() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let response = octocat
        .packages_delete_package_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let state = server.state();
    let deleted = state
        .packages_named(ACME, PackageType::Npm, LEFT_PAD)
        .next()
        .unwrap();
    assert_eq!(deleted.deleted_at, Some(start_time()));
    assert!(state.package(ACME, PackageType::Npm, LEFT_PAD).is_none());
    let get = octocat
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .send()
        .await;
    assert_eq!(failure(get).await.0, 404);
    let listed = octocat
        .packages_list_packages_for_organization()
        .org(ACME)
        .package_type(PackageType::Npm)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&listed), [REUSED_NAME]);
    let again = octocat
        .packages_delete_package_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .send()
        .await;
    assert_eq!(failure(again).await.0, 404);

    let restored = octocat
        .packages_restore_package_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .token("package-token")
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 204);
    let package = octocat
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .send()
        .await
        .unwrap();
    assert_eq!(package.version_count, 3);
}

#[tokio::test]
async fn a_public_package_with_a_popular_version_cannot_be_deleted() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let org = octocat
        .packages_delete_package_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(API)
        .send()
        .await;
    assert_eq!(failure(org).await, (400, messages::POPULAR_PACKAGE.into()));
    let own = octocat
        .packages_delete_package_for_authenticated_user()
        .package_type(PackageType::Npm)
        .package_name(OCTO_NPM)
        .send()
        .await;
    assert_eq!(failure(own).await, (400, messages::POPULAR_PACKAGE.into()));
    assert!(
        server
            .state()
            .package(ACME, PackageType::Container, API)
            .is_some()
    );
}

#[tokio::test]
async fn org_packages_restore_only_within_30_days_and_into_a_free_name() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let restore = |package_type, name: &'static str| {
        octocat
            .packages_restore_package_for_org()
            .org(ACME)
            .package_type(package_type)
            .package_name(name)
            .send()
    };
    assert_eq!(
        restore(PackageType::Container, OLD_SERVICE)
            .await
            .unwrap()
            .status(),
        204
    );
    let (status, message) = failure(restore(PackageType::Container, ANCIENT_SERVICE).await).await;
    assert_eq!(status, 404);
    assert!(message.contains("30 days"), "{message}");
    let (status, message) = failure(restore(PackageType::Npm, REUSED_NAME).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("in use"), "{message}");
    let (status, _) = failure(restore(PackageType::Npm, "never-existed").await).await;
    assert_eq!(status, 404);
    // Restoring a live package finds nothing deleted to restore.
    let (status, _) = failure(restore(PackageType::Container, WEB_APP).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_restore_window_closes_after_30_days_on_the_clock() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    for name in [ACME_GEM, ACME_CORE] {
        let package_type = if name == ACME_GEM {
            PackageType::Rubygems
        } else {
            PackageType::Maven
        };
        octocat
            .packages_delete_package_for_org()
            .org(ACME)
            .package_type(package_type)
            .package_name(name)
            .send()
            .await
            .unwrap();
    }
    server.clock().advance(Duration::from_secs(29 * 24 * 3600));
    let gem = octocat
        .packages_restore_package_for_org()
        .org(ACME)
        .package_type(PackageType::Rubygems)
        .package_name(ACME_GEM)
        .send()
        .await
        .unwrap();
    assert_eq!(gem.status(), 204);
    server.clock().advance(Duration::from_secs(2 * 24 * 3600));
    let core = octocat
        .packages_restore_package_for_org()
        .org(ACME)
        .package_type(PackageType::Maven)
        .package_name(ACME_CORE)
        .send()
        .await;
    let (status, message) = failure(core).await;
    assert_eq!(status, 404);
    assert!(message.contains("30 days"), "{message}");
}

#[tokio::test]
async fn the_authenticated_user_manages_their_own_packages() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let containers = octocat
        .packages_list_packages_for_authenticated_user()
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&containers), [HELLO_DOCKER]);
    let hello = octocat
        .packages_get_package_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await
        .unwrap();
    assert_eq!(hello.version_count, 5);
    assert_eq!(hello.owner.as_ref().unwrap().type_, "User");
    assert_eq!(
        hello.url,
        format!(
            "{}/users/octocat/packages/container/hello_docker",
            server.base_url()
        )
    );
    let delete = octocat
        .packages_delete_package_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    let listed = octocat
        .packages_list_packages_for_authenticated_user()
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert!(listed.is_empty());
    for name in [HELLO_DOCKER, OCTO_OLD_CLI] {
        let restored = octocat
            .packages_restore_package_for_authenticated_user()
            .package_type(PackageType::Container)
            .package_name(name)
            .send()
            .await
            .unwrap();
        assert_eq!(restored.status(), 204, "{name}");
    }
    let ancient = octocat
        .packages_restore_package_for_authenticated_user()
        .package_type(PackageType::Npm)
        .package_name(OCTO_ANCIENT)
        .send()
        .await;
    assert_eq!(failure(ancient).await.0, 404);
    let listed = octocat
        .packages_list_packages_for_authenticated_user()
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&listed), [HELLO_DOCKER, OCTO_OLD_CLI]);
}

#[tokio::test]
async fn another_users_namespace_shows_only_public_packages() {
    let server = demo().await;
    let mona = client(&server, tokens::MONA_ALL);
    let npm = mona
        .packages_list_packages_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Npm)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&npm), [OCTO_NPM]);
    let containers = mona
        .packages_list_packages_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert!(containers.is_empty());
    let hidden = mona
        .packages_get_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await;
    assert_eq!(
        failure(hidden).await,
        (404, messages::PACKAGE_NOT_FOUND.into())
    );
    let public = mona
        .packages_get_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .send()
        .await
        .unwrap();
    assert_eq!(public.visibility, "public");
    // Organizations resolve under /users too, with the same visibility rules.
    let acme = mona
        .packages_list_packages_for_user()
        .username(ACME)
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&acme), [API]);
    // The user themself sees everything in the user scope.
    let own = client(&server, tokens::OCTOCAT_ALL)
        .packages_list_packages_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&own), [HELLO_DOCKER]);
    let unknown = mona
        .packages_list_packages_for_user()
        .username("nobody-here")
        .package_type(PackageType::Npm)
        .send()
        .await;
    assert_eq!(failure(unknown).await.0, 404);
}

#[tokio::test]
async fn user_scope_deletes_and_restores_need_the_owner() {
    let server = demo().await;
    let mona = client(&server, tokens::MONA_ALL);
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let public = mona
        .packages_delete_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .send()
        .await;
    let (status, message) = failure(public).await;
    assert_eq!(status, 403);
    assert!(message.contains("admin"), "{message}");
    let private = mona
        .packages_delete_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await;
    assert_eq!(failure(private).await.0, 404);
    let own = octocat
        .packages_delete_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 204);
    let foreign_restore = mona
        .packages_restore_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .send()
        .await;
    assert_eq!(failure(foreign_restore).await.0, 403);
    let restored = octocat
        .packages_restore_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .token("package-token")
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 204);
    assert!(
        server
            .state()
            .package(OCTOCAT, PackageType::Rubygems, OCTO_NAME)
            .is_some()
    );
}

#[tokio::test]
async fn docker_conflicts_are_listed_per_scope_and_publicly_without_a_token() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let org = octocat
        .packages_list_docker_migration_conflicting_packages_for_organization()
        .org(ACME)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&org), [LEGACY_IMAGE, LEGACY_TOOLS]);
    let org_public = anonymous(&server)
        .packages_list_docker_migration_conflicting_packages_for_organization()
        .org(ACME)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&org_public), [LEGACY_TOOLS]);
    let mine = octocat
        .packages_list_docker_migration_conflicting_packages_for_authenticated_user()
        .send()
        .await
        .unwrap();
    assert_eq!(names(&mine), [OCTO_LEGACY, OCTO_LEGACY_PUBLIC]);
    let user_public = anonymous(&server)
        .packages_list_docker_migration_conflicting_packages_for_user()
        .username(OCTOCAT)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&user_public), [OCTO_LEGACY_PUBLIC]);
    let as_mona = client(&server, tokens::MONA_ALL)
        .packages_list_docker_migration_conflicting_packages_for_user()
        .username(OCTOCAT)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&as_mona), [OCTO_LEGACY_PUBLIC]);
    let none = anonymous(&server)
        .packages_list_docker_migration_conflicting_packages_for_authenticated_user()
        .send()
        .await;
    // The spec lists no error for this operation, so the client reports any as unexpected.
    match none.unwrap_err() {
        ghpkg_api::Error::UnexpectedResponse(response) => assert_eq!(response.status(), 401),
        other => panic!("expected a 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_synthetic_world_pages_through_many_packages() {
    let fixture = ghpkg_mock::Fixture::synthetic(ghpkg_mock::SyntheticSpec {
        organizations: 1,
        users: 1,
        packages_per_owner: 150,
        versions_per_package: 1,
        ..Default::default()
    });
    let server = ghpkg_mock::MockServer::start(ghpkg_mock::MockOptions {
        fixture,
        ..common::demo_options()
    })
    .await
    .unwrap();
    let api = client(&server, "ghp_user-0_all");
    let first = api
        .packages_list_packages_for_organization()
        .org("org-0")
        .package_type(PackageType::Container)
        .per_page(100)
        .send()
        .await
        .unwrap();
    let next = link(first.headers(), "next").expect("a second page");
    let mut all: Vec<String> = first.iter().map(|p| p.name.clone()).collect();
    let second = api
        .get_page::<Vec<ghpkg_api::types::Package>>(
            &next,
            Action::ListPackages.spec(OwnerFamily::Org),
        )
        .await
        .unwrap();
    assert!(link(second.headers(), "next").is_none());
    all.extend(second.iter().map(|p| p.name.clone()));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 150);
}
