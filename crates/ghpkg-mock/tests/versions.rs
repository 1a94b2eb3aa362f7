//! Version operations in all three scopes: listing and `Link` pagination, get, delete with
//! GitHub's refusals, restore within 30 days.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{client, demo, failure, link, start_time};
use ghpkg_api::operations::{Action, OwnerFamily};
use ghpkg_api::types::{PackageType, PackageVersion, PackageVersionState};
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{Fixture, MockOptions, MockServer, messages, tokens};

#[tokio::test]
async fn walking_link_pages_yields_every_web_app_version_once_newest_first() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let first = octocat
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .per_page(100)
        .send()
        .await
        .unwrap();
    let mut versions: Vec<PackageVersion> = Vec::new();
    let mut next = link(first.headers(), "next");
    assert!(link(first.headers(), "last").unwrap().ends_with("page=30"));
    versions.extend(first.into_inner());
    let mut pages = 1;
    while let Some(url) = next {
        let page = octocat
            .get_page::<Vec<PackageVersion>>(&url, Action::ListVersions.spec(OwnerFamily::Org))
            .await
            .unwrap();
        next = link(page.headers(), "next");
        versions.extend(page.into_inner());
        pages += 1;
    }
    assert_eq!(pages, 30);
    assert_eq!(versions.len(), WEB_APP_VERSION_COUNT);
    let ids: HashSet<i64> = versions.iter().map(|v| v.id).collect();
    assert_eq!(ids.len(), WEB_APP_VERSION_COUNT);
    assert!(
        versions
            .windows(2)
            .all(|pair| (pair[0].created_at, pair[0].id) > (pair[1].created_at, pair[1].id))
    );
    assert_eq!(versions[0].id, WEB_APP_LATEST_VERSION_ID);
    assert_eq!(versions.last().unwrap().id, WEB_APP_OLDEST_VERSION_ID);
    let untagged = versions
        .iter()
        .filter(|v| {
            v.metadata
                .as_ref()
                .unwrap()
                .container
                .as_ref()
                .unwrap()
                .tags
                .is_empty()
        })
        .count();
    assert!(untagged > 500 && untagged < 2_000, "{untagged}");
}

#[tokio::test]
async fn pages_default_to_30_and_serve_at_most_100() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let list = || {
        octocat
            .packages_get_all_package_versions_for_package_owned_by_org()
            .org(ACME)
            .package_type(PackageType::Container)
            .package_name(WEB_APP)
    };
    let default = list().send().await.unwrap();
    assert_eq!(default.len(), 30);
    assert!(
        link(default.headers(), "last")
            .unwrap()
            .ends_with("page=100")
    );
    assert!(link(default.headers(), "prev").is_none());
    let big = list().per_page(500).send().await.unwrap();
    assert_eq!(big.len(), 100);
    let beyond = list().page(31).per_page(100).send().await.unwrap();
    assert!(beyond.is_empty());
}

#[tokio::test]
async fn a_version_shows_its_tags_and_urls() {
    let server = demo().await;
    let version = client(&server, tokens::OCTOCAT_ALL)
        .packages_get_package_version_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(API)
        .package_version_id(API_LATEST_VERSION_ID)
        .send()
        .await
        .unwrap()
        .into_inner();
    let base = server.base_url();
    assert_eq!(
        version.url,
        format!("{base}/orgs/acme/packages/container/api/versions/{API_LATEST_VERSION_ID}")
    );
    assert_eq!(
        version.package_html_url,
        format!("{base}/orgs/acme/packages/container/package/api")
    );
    assert!(version.name.starts_with("sha256:") && version.name.len() == 71);
    let metadata = version.metadata.unwrap();
    assert_eq!(metadata.package_type, "container");
    assert_eq!(metadata.container.unwrap().tags, ["latest", "1.2.0"]);
    assert!(version.deleted_at.is_none());

    let legacy = client(&server, tokens::OCTOCAT_ALL)
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(ACME)
        .package_type(PackageType::Docker)
        .package_name(LEGACY_IMAGE)
        .send()
        .await
        .unwrap();
    let docker = legacy[0]
        .metadata
        .as_ref()
        .unwrap()
        .docker
        .as_ref()
        .unwrap();
    assert_eq!(docker.tags, ["latest"]);
}

#[tokio::test]
async fn deleted_versions_are_listed_by_state_until_the_window_closes() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let list = |state| {
        octocat
            .packages_get_all_package_versions_for_package_owned_by_org()
            .org(ACME)
            .package_type(PackageType::Container)
            .package_name(API)
            .state(state)
            .send()
    };
    let active: Vec<i64> = list(PackageVersionState::Active)
        .await
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(
        active,
        [
            API_UNTAGGED_VERSION_ID,
            API_LATEST_VERSION_ID,
            API_STABLE_VERSION_ID,
            API_POPULAR_VERSION_ID
        ]
    );
    let deleted = list(PackageVersionState::Deleted).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].id, API_RESTORABLE_VERSION_ID);
    assert!(deleted[0].deleted_at.is_some());
    let get = |id| {
        octocat
            .packages_get_package_version_for_organization()
            .org(ACME)
            .package_type(PackageType::Container)
            .package_name(API)
            .package_version_id(id)
            .send()
    };
    assert!(
        get(API_RESTORABLE_VERSION_ID)
            .await
            .unwrap()
            .deleted_at
            .is_some()
    );
    assert_eq!(
        failure(get(API_EXPIRED_VERSION_ID).await).await,
        (404, messages::VERSION_NOT_FOUND.into())
    );
    assert_eq!(failure(get(999_999_999).await).await.0, 404);
    let http = reqwest::Client::new();
    let bad_state = http
        .get(format!(
            "{}/orgs/acme/packages/container/api/versions?state=gone",
            server.base_url()
        ))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_state.status(), 400);
    let bad_id = http
        .get(format!(
            "{}/orgs/acme/packages/container/api/versions/latest",
            server.base_url()
        ))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_id.status(), 404);
}

#[tokio::test]
async fn deleting_a_version_is_soft_and_only_once() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let victim = WEB_APP_OLDEST_VERSION_ID + 10;
    let delete = || {
        octocat
            .packages_delete_package_version_for_org()
            .org(ACME)
            .package_type(PackageType::Container)
            .package_name(WEB_APP)
            .package_version_id(victim)
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), 204);
    let state = server.state();
    let (_, version) = state.version(victim).unwrap();
    assert_eq!(version.deleted_at, Some(start_time()));
    assert_eq!(
        failure(delete().await).await,
        (404, messages::VERSION_NOT_FOUND.into())
    );
    let package = octocat
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .send()
        .await
        .unwrap();
    assert_eq!(package.version_count, 2_999);
    let deleted = octocat
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .state(PackageVersionState::Deleted)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.iter().map(|v| v.id).collect::<Vec<_>>(), [victim]);
}

#[tokio::test]
async fn a_popular_public_version_cannot_be_deleted() {
    let server = demo().await;
    let result = client(&server, tokens::OCTOCAT_ALL)
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(API)
        .package_version_id(API_POPULAR_VERSION_ID)
        .send()
        .await;
    assert_eq!(
        failure(result).await,
        (400, messages::POPULAR_VERSION.into())
    );
    let state = server.state();
    assert!(
        state
            .version(API_POPULAR_VERSION_ID)
            .unwrap()
            .1
            .deleted_at
            .is_none()
    );
}

#[tokio::test]
async fn the_last_tagged_version_of_a_container_stays() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let delete = |id| {
        octocat
            .packages_delete_package_version_for_authenticated_user()
            .package_type(PackageType::Container)
            .package_name(HELLO_DOCKER)
            .package_version_id(id)
            .send()
    };
    let [latest, v101, v100, untagged_new, untagged_old] = HELLO_DOCKER_VERSION_IDS;
    for id in [latest, v101, untagged_new, untagged_old] {
        assert_eq!(delete(id).await.unwrap().status(), 204, "{id}");
    }
    assert_eq!(
        failure(delete(v100).await).await,
        (400, messages::LAST_TAGGED_VERSION.into())
    );
}

#[tokio::test]
async fn the_last_version_of_a_package_stays() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let delete = |id| {
        octocat
            .packages_delete_package_version_for_org()
            .org(ACME)
            .package_type(PackageType::Npm)
            .package_name(LEFT_PAD)
            .package_version_id(id)
            .send()
    };
    let [first, second, third] = LEFT_PAD_VERSION_IDS;
    assert_eq!(delete(first).await.unwrap().status(), 204);
    assert_eq!(delete(third).await.unwrap().status(), 204);
    assert_eq!(
        failure(delete(second).await).await,
        (400, messages::LAST_VERSION.into())
    );
}

#[tokio::test]
async fn versions_restore_within_30_days_only() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let restore = |id| {
        octocat
            .packages_restore_package_version_for_org()
            .org(ACME)
            .package_type(PackageType::Container)
            .package_name(API)
            .package_version_id(id)
            .send()
    };
    assert_eq!(
        restore(API_RESTORABLE_VERSION_ID).await.unwrap().status(),
        204
    );
    assert!(
        server
            .state()
            .version(API_RESTORABLE_VERSION_ID)
            .unwrap()
            .1
            .deleted_at
            .is_none()
    );
    let (status, message) = failure(restore(API_EXPIRED_VERSION_ID).await).await;
    assert_eq!(status, 404);
    assert!(message.contains("30 days"), "{message}");
    let (status, message) = failure(restore(API_LATEST_VERSION_ID).await).await;
    assert_eq!(status, 404);
    assert!(message.contains("not deleted"), "{message}");

    // A version deleted now is restorable for 30 days on the server's clock, and not after.
    let delete_web = |id| {
        octocat
            .packages_delete_package_version_for_org()
            .org(ACME)
            .package_type(PackageType::Container)
            .package_name(WEB_APP)
            .package_version_id(id)
            .send()
    };
    let restore_web = |id| {
        octocat
            .packages_restore_package_version_for_org()
            .org(ACME)
            .package_type(PackageType::Container)
            .package_name(WEB_APP)
            .package_version_id(id)
            .send()
    };
    let (early, late) = (WEB_APP_OLDEST_VERSION_ID, WEB_APP_OLDEST_VERSION_ID + 1);
    delete_web(early).await.unwrap();
    delete_web(late).await.unwrap();
    server.clock().advance(Duration::from_secs(30 * 24 * 3600));
    assert_eq!(restore_web(early).await.unwrap().status(), 204);
    server.clock().advance(Duration::from_secs(24 * 3600));
    let (status, message) = failure(restore_web(late).await).await;
    assert_eq!(status, 404);
    assert!(message.contains("30 days"), "{message}");
}

#[tokio::test]
async fn a_version_whose_name_was_reused_cannot_be_restored() {
    let fixture = Fixture::from_json(
        r#"{
          "users": [{"login": "dev", "id": 1}],
          "tokens": [{"token": "t", "user": "dev", "scopes": ["read:packages", "write:packages"]}],
          "packages": [{
            "owner": "dev", "package_type": "npm", "name": "lib", "created_at": "-20days",
            "versions": [
              {"id": 10, "name": "1.0.0", "created_at": "-20days", "deleted_at": "-3days"},
              {"id": 11, "name": "1.0.0", "created_at": "-2days"}
            ]}]
        }"#,
    )
    .unwrap();
    let server = MockServer::start(MockOptions {
        fixture,
        ..common::demo_options()
    })
    .await
    .unwrap();
    let result = client(&server, "t")
        .packages_restore_package_version_for_authenticated_user()
        .package_type(PackageType::Npm)
        .package_name("lib")
        .package_version_id(10)
        .send()
        .await;
    let (status, message) = failure(result).await;
    assert_eq!(status, 400);
    assert!(message.contains("1.0.0"), "{message}");
}

#[tokio::test]
async fn the_authenticated_user_scope_covers_list_get_delete_and_restore() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let listed = octocat
        .packages_get_all_package_versions_for_package_owned_by_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await
        .unwrap();
    let ids: Vec<i64> = listed.iter().map(|v| v.id).collect();
    assert_eq!(ids, HELLO_DOCKER_VERSION_IDS);
    assert_eq!(
        listed[0].url,
        format!(
            "{}/users/octocat/packages/container/hello_docker/versions/{}",
            server.base_url(),
            HELLO_DOCKER_VERSION_IDS[0]
        )
    );
    let id = HELLO_DOCKER_VERSION_IDS[3];
    let version = octocat
        .packages_get_package_version_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .package_version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(version.id, id);
    let deleted = octocat
        .packages_delete_package_version_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .package_version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let listed_deleted = octocat
        .packages_get_all_package_versions_for_package_owned_by_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .state(PackageVersionState::Deleted)
        .send()
        .await
        .unwrap();
    assert_eq!(listed_deleted.len(), 1);
    let restored = octocat
        .packages_restore_package_version_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .package_version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 204);
}

#[tokio::test]
async fn the_user_scope_reads_public_versions_and_lets_only_the_owner_change_them() {
    let server = demo().await;
    let mona = client(&server, tokens::MONA_ALL);
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let listed = mona
        .packages_get_all_package_versions_for_package_owned_by_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        ["0.3.0", "0.2.0", "0.1.0"]
    );
    assert_eq!(listed[0].license.as_deref(), Some("MIT"));
    let id = listed[0].id;
    let version = mona
        .packages_get_package_version_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .package_version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        version.description.as_deref(),
        Some("Octo-name client for Ruby")
    );
    let hidden = mona
        .packages_get_all_package_versions_for_package_owned_by_user()
        .username(OCTOCAT)
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await;
    assert_eq!(failure(hidden).await.0, 404);
    let foreign = mona
        .packages_delete_package_version_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .package_version_id(id)
        .send()
        .await;
    let (status, message) = failure(foreign).await;
    assert_eq!(status, 403);
    assert!(message.contains("admin"), "{message}");
    let own = octocat
        .packages_delete_package_version_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .package_version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 204);
    let foreign_restore = mona
        .packages_restore_package_version_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .package_version_id(id)
        .send()
        .await;
    assert_eq!(failure(foreign_restore).await.0, 403);
    let restored = octocat
        .packages_restore_package_version_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Rubygems)
        .package_name(OCTO_NAME)
        .package_version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 204);
}
