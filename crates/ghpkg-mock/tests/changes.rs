//! The emulator's own record of applied changes: what tests check instead of trusting the
//! client.

mod common;

use std::time::Duration;

use common::{client, demo, failure, start_time};
use ghpkg_api::types::PackageType;
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{AppliedChange, tokens};

#[tokio::test]
async fn every_applied_delete_and_restore_is_logged_in_order_with_operation_owner_and_actor() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    octocat
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .package_version_id(WEB_APP_OLDEST_VERSION_ID)
        .send()
        .await
        .unwrap();
    server.clock().advance(Duration::from_secs(60));
    octocat
        .packages_delete_package_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await
        .unwrap();
    octocat
        .packages_restore_package_for_user()
        .username(OCTOCAT)
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await
        .unwrap();
    client(&server, tokens::OCTOCAT_ALL)
        .packages_restore_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .package_version_id(WEB_APP_OLDEST_VERSION_ID)
        .send()
        .await
        .unwrap();

    let changes = server.changes();
    let summary: Vec<(u64, &str, &str, &str, Option<i64>)> = changes
        .iter()
        .map(|c| {
            (
                c.sequence,
                c.operation_id.as_str(),
                c.owner.as_str(),
                c.package_name.as_str(),
                c.version_id,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                1,
                "packages/delete-package-version-for-org",
                ACME,
                WEB_APP,
                Some(WEB_APP_OLDEST_VERSION_ID)
            ),
            (
                2,
                "packages/delete-package-for-authenticated-user",
                OCTOCAT,
                HELLO_DOCKER,
                None
            ),
            (
                3,
                "packages/restore-package-for-user",
                OCTOCAT,
                HELLO_DOCKER,
                None
            ),
            (
                4,
                "packages/restore-package-version-for-org",
                ACME,
                WEB_APP,
                Some(WEB_APP_OLDEST_VERSION_ID)
            ),
        ]
    );
    assert!(changes.iter().all(|c| c.actor == OCTOCAT));
    assert_eq!(changes[0].at, start_time());
    assert_eq!(changes[1].at, start_time() + chrono::TimeDelta::seconds(60));
    assert!(
        changes
            .iter()
            .all(|c| c.package_type == PackageType::Container)
    );
}

#[tokio::test]
async fn refused_and_read_only_requests_leave_no_entry() {
    let server = demo().await;
    let hubot = client(&server, tokens::HUBOT_ALL);
    let refused = hubot
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .package_version_id(WEB_APP_OLDEST_VERSION_ID)
        .send()
        .await;
    assert_eq!(failure(refused).await.0, 403);
    let missing = client(&server, tokens::OCTOCAT_ALL)
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .package_version_id(1)
        .send()
        .await;
    assert_eq!(failure(missing).await.0, 404);
    hubot
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .send()
        .await
        .unwrap();
    assert!(server.changes().is_empty());
}

#[tokio::test]
async fn the_log_is_served_as_json_at_mock_changes_under_either_prefix() {
    let server = demo().await;
    client(&server, tokens::MONA_ALL)
        .packages_delete_package_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(SECRET)
        .send()
        .await
        .unwrap();
    for base in [server.base_url(), server.enterprise_base_url()] {
        let served: Vec<AppliedChange> = reqwest::get(format!("{base}/_mock/changes"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(served, server.changes());
    }
    let raw: serde_json::Value = reqwest::get(format!("{}/_mock/changes", server.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw[0]["actor"], MONA);
    assert_eq!(raw[0]["package_type"], "container");
    assert_eq!(raw[0]["version_id"], serde_json::Value::Null);
    assert_eq!(raw[0]["at"], "2025-06-01T12:00:00Z");
    assert_eq!(server.stats().total_requests, 1, "/_mock/* is not counted");
}
