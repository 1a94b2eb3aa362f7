//! Hostile and bad input, end to end through the library: each gets a typed error (or is
//! decoded tolerantly, for values GitHub may add), never a panic, a hang or an allocation sized by
//! the input, and nothing is sent where it can be refused up front. The CLI's share (argument
//! parsing, plan and journal files) is in `crates/ghpkg-cli/tests`; the engine's (durations,
//! globs, regexes, plan files) in `crates/ghpkg-retention/tests`; `Link`, `Retry-After` and
//! redirects in `crates/ghpkg/tests/hardening`.

use std::time::Duration;

use ghpkg::{Client, ErrorKind, PackageType, VersionState, Visibility};
use ghpkg_mock::{MockOptions, MockServer, tokens};

async fn server_and_client() -> (MockServer, Client) {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let client = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn hostile_owner_and_package_names_are_refused_before_any_request() {
    let (server, client) = server_and_client().await;
    let long = "a".repeat(300);
    let names = [
        "",
        "/",
        "a/",
        "/a",
        ".",
        "..",
        "a/../b",
        r"a\b",
        "%2e%2e",
        "a%2Fb",
        "a b",
        "a\tb",
        "a\u{0}b",
        "a\nb",
        "ümlaut",
        "日本",
        long.as_str(),
    ];
    for name in names {
        let package = client.org("acme").package(PackageType::Container, name);
        let error = package.get().await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidName,
            "package {name:?}: {error}"
        );
        let error = client
            .org(name)
            .package(PackageType::Container, "app")
            .get()
            .await
            .unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidName,
            "owner {name:?}: {error}"
        );
        let error = client.user(name).docker_conflicts().await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidName,
            "user {name:?}: {error}"
        );
        assert!(
            !error.to_string().contains('\n'),
            "the message escapes control characters"
        );
    }
    assert_eq!(server.stats().total_requests, 0, "nothing was sent");
}

#[tokio::test]
async fn bad_ids_page_sizes_types_and_states_are_refused_before_any_request() {
    let (server, client) = server_and_client().await;
    let package = client
        .org("acme")
        .package(PackageType::Container, "web/app");
    // Ids are `u64`, so a negative one cannot be written; 0 is refused.
    let error = package.version(0).delete().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    for per_page in [0, 101, u32::MAX] {
        let error = package
            .versions()
            .per_page(per_page)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{per_page}");
    }
    let error = client
        .org("acme")
        .packages(PackageType::from("cargo"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = client
        .org("acme")
        .packages(PackageType::Container)
        .visibility(Visibility::from("secret"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = package
        .versions()
        .state(VersionState::from("purged"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(server.stats().total_requests, 0, "nothing was sent");
}

#[test]
fn bad_base_urls_and_tokens_are_refused_when_the_client_is_built() {
    for url in [
        "",
        "not a url",
        "https://",
        "ftp://api.github.com",
        "http://api.github.com",
        "http://10.1.2.3:8080",
        "https://api.github.com/?token=x",
        "https://api.github.com/#x",
        "https://me:ghp_secret@api.github.com",
    ] {
        let error = Client::builder()
            .base_url(url)
            .without_token()
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{url:?}: {error}");
        assert!(!error.to_string().contains("ghp_secret"), "{error}");
    }
    let ten_kb = "x".repeat(10 * 1024);
    for token in ["", "  ", "ghp_a\r\nb", "ghp_a\n", ten_kb.as_str()] {
        let error = Client::builder().token(token).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidToken, "{:.20?}", token);
    }
}

mod bodies {
    use super::*;
    use axum::Router;
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;

    /// A server whose every answer is `body` with `status`.
    async fn serving(status: StatusCode, body: Vec<u8>) -> String {
        let app =
            Router::new().fallback(move || {
                let body = body.clone();
                async move {
                    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    async fn get(body: Vec<u8>) -> ghpkg::Result<ghpkg::Page<ghpkg::PackageVersion>> {
        let base = serving(StatusCode::OK, body).await;
        let client = Client::builder()
            .base_url(base)
            .token("ghp_x")
            .pacing(ghpkg::Pacing {
                max_body_bytes: 16 * 1024 * 1024,
                backoff_base: Duration::from_millis(1),
                backoff_max: Duration::from_millis(2),
                ..ghpkg::Pacing::default()
            })
            .build()
            .unwrap();
        tokio::time::timeout(
            Duration::from_secs(20),
            client
                .org("acme")
                .package(PackageType::Container, "app")
                .versions()
                .send(),
        )
        .await
        .expect("never hangs")
    }

    #[tokio::test]
    async fn invalid_deeply_nested_and_huge_json_are_typed_errors() {
        let invalid = get(b"{not json".to_vec()).await.unwrap_err();
        assert_eq!(invalid.kind(), ErrorKind::Decode, "{invalid}");
        let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let nested = get(nested.into_bytes()).await.unwrap_err();
        assert_eq!(
            nested.kind(),
            ErrorKind::Decode,
            "no stack overflow: {nested}"
        );
        let huge = vec![b' '; 50 * 1024 * 1024];
        let huge = get(huge).await.unwrap_err();
        assert_eq!(huge.kind(), ErrorKind::TooLarge, "{huge}");
    }

    #[tokio::test]
    async fn values_github_may_add_are_decoded_not_refused() {
        let body = serde_json::json!([{
            "id": 1,
            "name": "sha256:00",
            "url": "u",
            "package_html_url": "h",
            "created_at": "2024-01-02T03:04:05Z",
            "updated_at": "2024-01-02T03:04:05Z",
            "metadata": {"package_type": "cargo", "container": {"tags": ["x"]}},
            "a_field_from_the_future": {"nested": true}
        }]);
        let page = get(body.to_string().into_bytes()).await.unwrap();
        assert_eq!(
            page.items[0].package_type(),
            Some(PackageType::Other("cargo".into()))
        );
    }
}
