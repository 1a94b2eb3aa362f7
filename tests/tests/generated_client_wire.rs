//! On a loopback server, the generated client sends what GitHub expects for every operation in
//! each of the three scopes: method, path (a package named `repo/image` goes out as
//! `repo%2Fimage`), query, and GitHub's headers; and a GitHub error body comes back typed.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ghpkg_api::types::{PackageType, PackageVersionState, PackageVisibility};
use ghpkg_api::{Client, ClientInfo, Error};

const TOKEN: &str = "ghp_wiretest0123456789";

/// What the server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    fn take(&self) -> Seen {
        let mut seen = self.seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "exactly one request per call");
        seen.pop().unwrap()
    }
}

const PACKAGE: &str = r#"{"id": 1, "name": "repo/image", "package_type": "container", "visibility": "private",
    "url": "u", "html_url": "h", "version_count": 1,
    "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}"#;
const VERSION: &str = r#"{"id": 42, "name": "sha256:abc", "url": "u", "package_html_url": "p",
    "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
    "metadata": {"package_type": "container", "container": {"tags": ["latest"]}}}"#;

/// Answers like GitHub would for the path's shape; `missing` names 404 with GitHub's body.
async fn answer(State(recorder): State<Recorder>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let path = parts.uri.path().to_string();
    recorder.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts.headers.clone(),
    });
    if path.contains("missing") {
        return (
            StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            r#"{"message": "Package not found.", "documentation_url": "https://docs.github.com/rest/packages/packages"}"#,
        )
            .into_response();
    }
    let body = match (parts.method.as_str(), path.as_str()) {
        ("DELETE", _) | ("POST", _) => return StatusCode::NO_CONTENT.into_response(),
        (_, p) if p.ends_with("/docker/conflicts") || p.ends_with("/packages") => {
            format!("[{PACKAGE}]")
        }
        (_, p) if p.ends_with("/versions") => format!("[{VERSION}]"),
        (_, p) if p.contains("/versions/") => VERSION.to_string(),
        _ => PACKAGE.to_string(),
    };
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

async fn serve() -> (Client, Recorder) {
    let recorder = Recorder::default();
    let app = Router::new().fallback(answer).with_state(recorder.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (Client::with_base_url(&base, Some(TOKEN)), recorder)
}

/// GitHub's headers, and nothing progenitor would add that GitHub does not use.
fn assert_github_headers(seen: &Seen) {
    let header = |name: &str| {
        seen.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        header("authorization").as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        header("accept").as_deref(),
        Some("application/vnd.github+json")
    );
    assert_eq!(
        header("x-github-api-version").as_deref(),
        Some("2022-11-28")
    );
    assert!(
        header("user-agent").is_some_and(|ua| ua.starts_with("ghpkg/")),
        "{seen:?}"
    );
    assert!(
        header("api-version").is_none(),
        "progenitor's api-version header is removed"
    );
}

/// A query string's pairs in a stable order (GitHub does not care about their order).
fn query_pairs(query: &str) -> Vec<String> {
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    pairs.sort();
    pairs
}

/// Sends one call, then checks what went out.
macro_rules! expect_request {
    ($recorder:expr, $call:expr, $method:literal, $path:expr, $query:expr) => {{
        $call.send().await.expect(concat!($method, " succeeds"));
        let seen = $recorder.take();
        assert_eq!(seen.method, $method);
        assert_eq!(seen.path, $path);
        assert_eq!(
            query_pairs(&seen.query),
            query_pairs(&$query),
            "query of {}",
            $path
        );
        assert_github_headers(&seen);
    }};
}

#[tokio::test]
async fn org_scope_requests_are_what_github_expects() {
    let (client, recorder) = serve().await;
    let c = &client;
    let pkg = "/orgs/acme/packages/container/repo%2Fimage";
    expect_request!(
        recorder,
        c.packages_list_docker_migration_conflicting_packages_for_organization()
            .org("acme"),
        "GET",
        "/orgs/acme/docker/conflicts",
        ""
    );
    expect_request!(
        recorder,
        c.packages_list_packages_for_organization()
            .org("acme")
            .package_type(PackageType::Container)
            .visibility(PackageVisibility::Internal)
            .page(2)
            .per_page(100),
        "GET",
        "/orgs/acme/packages",
        "package_type=container&visibility=internal&page=2&per_page=100"
    );
    expect_request!(
        recorder,
        c.packages_get_package_for_organization()
            .org("acme")
            .package_type(PackageType::Container)
            .package_name("repo/image"),
        "GET",
        pkg,
        ""
    );
    expect_request!(
        recorder,
        c.packages_delete_package_for_org()
            .org("acme")
            .package_type(PackageType::Container)
            .package_name("repo/image"),
        "DELETE",
        pkg,
        ""
    );
    expect_request!(
        recorder,
        c.packages_restore_package_for_org()
            .org("acme")
            .package_type(PackageType::Container)
            .package_name("repo/image")
            .token("pkgtoken"),
        "POST",
        format!("{pkg}/restore"),
        "token=pkgtoken"
    );
    expect_request!(
        recorder,
        c.packages_get_all_package_versions_for_package_owned_by_org()
            .org("acme")
            .package_type(PackageType::Container)
            .package_name("repo/image")
            .page(3)
            .per_page(50)
            .state(PackageVersionState::Deleted),
        "GET",
        format!("{pkg}/versions"),
        "page=3&per_page=50&state=deleted"
    );
    expect_request!(
        recorder,
        c.packages_get_package_version_for_organization()
            .org("acme")
            .package_type(PackageType::Container)
            .package_name("repo/image")
            .package_version_id(42),
        "GET",
        format!("{pkg}/versions/42"),
        ""
    );
    expect_request!(
        recorder,
        c.packages_delete_package_version_for_org()
            .org("acme")
            .package_type(PackageType::Container)
            .package_name("repo/image")
            .package_version_id(42),
        "DELETE",
        format!("{pkg}/versions/42"),
        ""
    );
    expect_request!(
        recorder,
        c.packages_restore_package_version_for_org()
            .org("acme")
            .package_type(PackageType::Container)
            .package_name("repo/image")
            .package_version_id(42),
        "POST",
        format!("{pkg}/versions/42/restore"),
        ""
    );
}

#[tokio::test]
async fn authenticated_user_scope_requests_are_what_github_expects() {
    let (client, recorder) = serve().await;
    let c = &client;
    let pkg = "/user/packages/npm/repo%2Fimage";
    expect_request!(
        recorder,
        c.packages_list_docker_migration_conflicting_packages_for_authenticated_user(),
        "GET",
        "/user/docker/conflicts",
        ""
    );
    expect_request!(
        recorder,
        c.packages_list_packages_for_authenticated_user()
            .package_type(PackageType::Npm)
            .visibility(PackageVisibility::Public),
        "GET",
        "/user/packages",
        "package_type=npm&visibility=public"
    );
    expect_request!(
        recorder,
        c.packages_get_package_for_authenticated_user()
            .package_type(PackageType::Npm)
            .package_name("repo/image"),
        "GET",
        pkg,
        ""
    );
    expect_request!(
        recorder,
        c.packages_delete_package_for_authenticated_user()
            .package_type(PackageType::Npm)
            .package_name("repo/image"),
        "DELETE",
        pkg,
        ""
    );
    expect_request!(
        recorder,
        c.packages_restore_package_for_authenticated_user()
            .package_type(PackageType::Npm)
            .package_name("repo/image"),
        "POST",
        format!("{pkg}/restore"),
        ""
    );
    expect_request!(
        recorder,
        c.packages_get_all_package_versions_for_package_owned_by_authenticated_user()
            .package_type(PackageType::Npm)
            .package_name("repo/image")
            .state(PackageVersionState::Active),
        "GET",
        format!("{pkg}/versions"),
        "state=active"
    );
    expect_request!(
        recorder,
        c.packages_get_package_version_for_authenticated_user()
            .package_type(PackageType::Npm)
            .package_name("repo/image")
            .package_version_id(7),
        "GET",
        format!("{pkg}/versions/7"),
        ""
    );
    expect_request!(
        recorder,
        c.packages_delete_package_version_for_authenticated_user()
            .package_type(PackageType::Npm)
            .package_name("repo/image")
            .package_version_id(7),
        "DELETE",
        format!("{pkg}/versions/7"),
        ""
    );
    expect_request!(
        recorder,
        c.packages_restore_package_version_for_authenticated_user()
            .package_type(PackageType::Npm)
            .package_name("repo/image")
            .package_version_id(7),
        "POST",
        format!("{pkg}/versions/7/restore"),
        ""
    );
}

#[tokio::test]
async fn user_scope_requests_are_what_github_expects() {
    let (client, recorder) = serve().await;
    let c = &client;
    let pkg = "/users/octocat/packages/maven/com.example%2Fcore";
    expect_request!(
        recorder,
        c.packages_list_docker_migration_conflicting_packages_for_user()
            .username("octocat"),
        "GET",
        "/users/octocat/docker/conflicts",
        ""
    );
    expect_request!(
        recorder,
        c.packages_list_packages_for_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .per_page(1),
        "GET",
        "/users/octocat/packages",
        "package_type=maven&per_page=1"
    );
    expect_request!(
        recorder,
        c.packages_get_package_for_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .package_name("com.example/core"),
        "GET",
        pkg,
        ""
    );
    expect_request!(
        recorder,
        c.packages_delete_package_for_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .package_name("com.example/core"),
        "DELETE",
        pkg,
        ""
    );
    expect_request!(
        recorder,
        c.packages_restore_package_for_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .package_name("com.example/core")
            .token("t"),
        "POST",
        format!("{pkg}/restore"),
        "token=t"
    );
    expect_request!(
        recorder,
        c.packages_get_all_package_versions_for_package_owned_by_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .package_name("com.example/core")
            .page(2)
            .per_page(100),
        "GET",
        format!("{pkg}/versions"),
        "page=2&per_page=100"
    );
    expect_request!(
        recorder,
        c.packages_get_package_version_for_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .package_name("com.example/core")
            .package_version_id(9),
        "GET",
        format!("{pkg}/versions/9"),
        ""
    );
    expect_request!(
        recorder,
        c.packages_delete_package_version_for_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .package_name("com.example/core")
            .package_version_id(9),
        "DELETE",
        format!("{pkg}/versions/9"),
        ""
    );
    expect_request!(
        recorder,
        c.packages_restore_package_version_for_user()
            .username("octocat")
            .package_type(PackageType::Maven)
            .package_name("com.example/core")
            .package_version_id(9),
        "POST",
        format!("{pkg}/versions/9/restore"),
        ""
    );
}

#[tokio::test]
async fn a_github_404_comes_back_as_a_typed_error_with_its_message() {
    let (client, recorder) = serve().await;
    let error = client
        .packages_get_package_for_organization()
        .org("acme")
        .package_type(PackageType::Container)
        .package_name("missing")
        .send()
        .await
        .unwrap_err();
    recorder.take();
    let Error::ErrorResponse(response) = error else {
        panic!("expected a typed error response, got {error:?}")
    };
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.message.as_deref(), Some("Package not found."));
}

#[tokio::test]
async fn enterprise_clients_prefix_every_path_with_api_v3() {
    let recorder = Recorder::default();
    let app = Router::new().fallback(answer).with_state(recorder.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = Client::enterprise(&host, Some(TOKEN));
    client
        .packages_list_packages_for_user()
        .username("octocat")
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert_eq!(recorder.take().path, "/api/v3/users/octocat/packages");
}

#[tokio::test]
async fn link_pages_are_followed_through_the_same_headers_and_only_on_the_same_origin() {
    let (client, recorder) = serve().await;
    let base = client.baseurl().to_string();
    let page = client
        .get_page::<Vec<ghpkg_api::types::Package>>(
            &format!("{base}/orgs/acme/packages?package_type=container&page=2"),
            ghpkg_api::operations::by_id("packages/list-packages-for-organization").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.into_inner().len(), 1);
    let seen = recorder.take();
    assert_eq!(seen.query, "package_type=container&page=2");
    assert_github_headers(&seen);

    let error = client
        .get_page::<Vec<ghpkg_api::types::Package>>(
            "https://elsewhere.example/orgs/acme/packages?page=2",
            ghpkg_api::operations::by_id("packages/list-packages-for-organization").unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
    assert!(recorder.seen.lock().unwrap().is_empty(), "nothing was sent");
}
