//! Authentication, classic token scopes and owner roles, over all 27 operations.

mod common;

use common::{client, demo, failure};
use ghpkg_api::types::PackageType;
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{messages, tokens};
use reqwest::Method;

/// One request per operation (the 9 actions in the org, authenticated-user and user scopes),
/// on packages octocat may see, with the operationId GitHub gives it.
fn all_operations() -> Vec<(Method, String, &'static str)> {
    let scopes = [
        ("/orgs/acme", "org"),
        ("/user", "authenticated-user"),
        ("/users/octocat", "user"),
    ];
    let mut requests = Vec::new();
    for (prefix, scope) in scopes {
        let package = if scope == "org" {
            format!("{prefix}/packages/npm/left-pad")
        } else {
            format!("{prefix}/packages/container/hello_docker")
        };
        let version = if scope == "org" {
            LEFT_PAD_VERSION_IDS[0]
        } else {
            HELLO_DOCKER_VERSION_IDS[4]
        };
        requests.extend([
            (Method::GET, format!("{prefix}/docker/conflicts")),
            (Method::GET, format!("{prefix}/packages?package_type=npm")),
            (Method::GET, package.clone()),
            (Method::DELETE, package.clone()),
            (Method::POST, format!("{package}/restore")),
            (Method::GET, format!("{package}/versions")),
            (Method::GET, format!("{package}/versions/{version}")),
            (Method::DELETE, format!("{package}/versions/{version}")),
            (
                Method::POST,
                format!("{package}/versions/{version}/restore"),
            ),
        ]);
    }
    requests
        .into_iter()
        .zip(ghpkg_mock::operation_ids())
        .map(|((method, path), id)| (method, path, id))
        .collect()
}

#[tokio::test]
async fn every_operation_requires_a_token_except_public_conflict_lists() {
    let server = demo().await;
    let http = reqwest::Client::new();
    for (method, path, operation) in all_operations() {
        let response = http
            .request(method.clone(), format!("{}{path}", server.base_url()))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let conflicts = path.ends_with("/docker/conflicts") && !path.starts_with("/user/");
        if conflicts {
            assert_eq!(status, 200, "{method} {path}");
            continue;
        }
        assert_eq!(status, 401, "{method} {path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["message"], messages::REQUIRES_AUTHENTICATION);
        let anchor = body["documentation_url"].as_str().unwrap();
        assert!(
            anchor.starts_with("https://docs.github.com/rest/packages/packages#"),
            "{anchor}"
        );
        assert_eq!(server.stats().count(operation, 401), 1, "{operation}");
    }
}

#[tokio::test]
async fn an_unknown_token_is_bad_credentials_everywhere() {
    let server = demo().await;
    let http = reqwest::Client::new();
    for (method, path, _) in all_operations() {
        for header in [
            "Bearer ghp_nobody",
            "token ghp_nobody",
            "Basic Zm9vOmJhcg==",
        ] {
            let response = http
                .request(method.clone(), format!("{}{path}", server.base_url()))
                .header("authorization", header)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "{method} {path} {header}");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["message"], messages::BAD_CREDENTIALS);
        }
    }
}

#[tokio::test]
async fn both_authorization_schemes_are_accepted() {
    let server = demo().await;
    let http = reqwest::Client::new();
    for header in ["Bearer ghp_octocat_read", "token ghp_octocat_read"] {
        let response = http
            .get(format!(
                "{}/user/packages?package_type=container",
                server.base_url()
            ))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{header}");
    }
}

#[tokio::test]
async fn a_token_without_scopes_is_refused_by_every_operation_naming_the_scope() {
    let server = demo().await;
    let http = reqwest::Client::new();
    for (method, path, _) in all_operations() {
        let response = http
            .request(method.clone(), format!("{}{path}", server.base_url()))
            .bearer_auth(tokens::OCTOCAT_NONE)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        assert_eq!(response.headers()["x-oauth-scopes"], "");
        let accepted = response.headers()["x-accepted-oauth-scopes"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: serde_json::Value = response.json().await.unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("You need at least read:packages scope to "),
            "{message}"
        );
        let expected = match method.as_str() {
            "DELETE" => "delete:packages, read:packages",
            "POST" => "read:packages, write:packages",
            _ => "read:packages",
        };
        assert_eq!(accepted, expected, "{method} {path}");
    }
    // Refused requests change nothing.
    assert_eq!(server.state(), common::demo().await.state());
}

#[tokio::test]
async fn deleting_needs_delete_packages_and_restoring_needs_write_packages() {
    let server = demo().await;
    let read_only = client(&server, tokens::OCTOCAT_READ);
    let delete = read_only
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .package_version_id(LEFT_PAD_VERSION_IDS[0])
        .send()
        .await;
    assert_eq!(
        failure(delete).await,
        (
            403,
            "You need at least delete:packages scope to delete package versions.".into()
        )
    );
    let restore = read_only
        .packages_restore_package_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(OLD_SERVICE)
        .send()
        .await;
    assert_eq!(
        failure(restore).await,
        (
            403,
            "You need at least write:packages scope to restore packages.".into()
        )
    );

    let no_restore = client(&server, tokens::OCTOCAT_NORESTORE);
    let deleted = no_restore
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .package_version_id(LEFT_PAD_VERSION_IDS[0])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let restore = no_restore
        .packages_restore_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .package_version_id(LEFT_PAD_VERSION_IDS[0])
        .send()
        .await;
    let (status, message) = failure(restore).await;
    assert_eq!(status, 403);
    assert!(message.contains("write:packages"), "{message}");
    // The refused restore changed nothing.
    let state = server.state();
    assert!(
        state
            .version(LEFT_PAD_VERSION_IDS[0])
            .unwrap()
            .1
            .is_deleted()
    );
}

#[tokio::test]
async fn a_token_with_only_write_packages_reads_and_restores_but_cannot_delete() {
    // GitHub nests read:packages under write:packages and lists only the latter.
    const WRITE_ONLY: &str = "ghp_octocat_write_only";
    let mut fixture = ghpkg_mock::Fixture::demo();
    fixture.tokens.push(ghpkg_mock::fixture::FixtureToken {
        token: WRITE_ONLY.into(),
        user: OCTOCAT.into(),
        scopes: vec![ghpkg_mock::WRITE_PACKAGES.into()],
    });
    let server = common::serve(fixture).await;
    let write_only = client(&server, WRITE_ONLY);
    let packages = write_only
        .packages_list_packages_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .send()
        .await
        .expect("write:packages implies read:packages");
    assert!(packages.iter().any(|package| package.name == WEB_APP));
    let restored = write_only
        .packages_restore_package_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(OLD_SERVICE)
        .send()
        .await
        .expect("write:packages is what restoring needs");
    assert_eq!(restored.status(), 204);
    let delete = write_only
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .package_version_id(LEFT_PAD_VERSION_IDS[0])
        .send()
        .await;
    assert_eq!(
        failure(delete).await,
        (
            403,
            "You need at least delete:packages scope to delete package versions.".into()
        )
    );
}

#[tokio::test]
async fn scope_headers_come_with_successes_and_errors_alike() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let ok = octocat
        .packages_list_packages_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.headers()["x-oauth-scopes"],
        "read:packages, write:packages, delete:packages, repo"
    );
    assert_eq!(ok.headers()["x-accepted-oauth-scopes"], "read:packages");
    assert_eq!(
        ok.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let not_found = octocat
        .packages_delete_package_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name("missing")
        .send()
        .await
        .unwrap_err();
    let ghpkg_api::Error::ErrorResponse(response) = not_found else {
        panic!("expected a 404 error response");
    };
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["x-accepted-oauth-scopes"],
        "delete:packages, read:packages"
    );
    assert_eq!(
        response.headers()["x-oauth-scopes"],
        "read:packages, write:packages, delete:packages, repo"
    );
}

#[tokio::test]
async fn an_org_member_reads_private_packages_but_cannot_delete_or_restore() {
    let server = demo().await;
    let hubot = client(&server, tokens::HUBOT_ALL);
    let containers = hubot
        .packages_list_packages_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(containers.len(), 3, "api, platform/gateway and web/app");
    let delete = hubot
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .package_version_id(WEB_APP_OLDEST_VERSION_ID)
        .send()
        .await;
    let (status, message) = failure(delete).await;
    assert_eq!(status, 403);
    assert!(message.contains("admin"), "{message}");
    let delete_package = hubot
        .packages_delete_package_for_org()
        .org(ACME)
        .package_type(PackageType::Npm)
        .package_name(LEFT_PAD)
        .send()
        .await;
    assert_eq!(failure(delete_package).await.0, 403);
    let restore = hubot
        .packages_restore_package_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(OLD_SERVICE)
        .send()
        .await;
    assert_eq!(failure(restore).await.0, 403);
    let restore_version = hubot
        .packages_restore_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(API)
        .package_version_id(API_RESTORABLE_VERSION_ID)
        .send()
        .await;
    assert_eq!(failure(restore_version).await.0, 403);
    let state = server.state();
    assert!(
        !state
            .version(WEB_APP_OLDEST_VERSION_ID)
            .unwrap()
            .1
            .is_deleted()
    );
    assert!(state.package(ACME, PackageType::Npm, LEFT_PAD).is_some());

    // octocat is only a member of globex: same rules.
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let globex = octocat
        .packages_list_packages_for_organization()
        .org(GLOBEX)
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(globex[0].name, GLOBEX_APP);
    let delete = octocat
        .packages_delete_package_for_org()
        .org(GLOBEX)
        .package_type(PackageType::Container)
        .package_name(GLOBEX_APP)
        .send()
        .await;
    assert_eq!(failure(delete).await.0, 403);
}

#[tokio::test]
async fn an_outsider_sees_only_public_org_packages_and_gets_404_for_private_ones() {
    let server = demo().await;
    let mona = client(&server, tokens::MONA_ALL);
    let containers = mona
        .packages_list_packages_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0].name, API);
    let private = mona
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .send()
        .await;
    assert_eq!(
        failure(private).await,
        (404, messages::PACKAGE_NOT_FOUND.into())
    );
    let versions = mona
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .send()
        .await;
    assert_eq!(failure(versions).await.0, 404);
    let delete = mona
        .packages_delete_package_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .send()
        .await;
    assert_eq!(failure(delete).await.0, 404);
    // A public package is visible, so deleting it is forbidden rather than not found.
    let public = mona
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(API)
        .package_version_id(API_UNTAGGED_VERSION_ID)
        .send()
        .await;
    assert_eq!(failure(public).await.0, 403);
    // mona's own private container is hers alone.
    let secret = client(&server, tokens::OCTOCAT_ALL)
        .packages_get_package_for_user()
        .username(MONA)
        .package_type(PackageType::Container)
        .package_name(SECRET)
        .send()
        .await;
    assert_eq!(failure(secret).await.0, 404);
    let own = mona
        .packages_get_package_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(own.visibility, "private");
}
