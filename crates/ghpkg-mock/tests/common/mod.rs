//! Shared helpers for the emulator's integration tests: a demo server on a manual clock, clients,
//! and error decoding.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use ghpkg_api::types::BasicError;
use ghpkg_api::{Client, ResponseValue};
use ghpkg_mock::{MockClock, MockOptions, MockServer};

/// When every test's manual clock starts.
pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z")
        .unwrap()
        .to_utc()
}

/// Options for the demo world on a manual clock at [`start_time`].
pub fn demo_options() -> MockOptions {
    MockOptions {
        clock: MockClock::manual(start_time()),
        ..MockOptions::default()
    }
}

/// The demo world on a manual clock.
pub async fn demo() -> MockServer {
    MockServer::start(demo_options()).await.unwrap()
}

/// A generated client for `server` authenticating with `token`.
pub fn client(server: &MockServer, token: &str) -> Client {
    Client::with_base_url(&server.base_url(), Some(token))
}

/// A generated client without a token.
pub fn anonymous(server: &MockServer) -> Client {
    Client::with_base_url(&server.base_url(), None::<&str>)
}

/// Status and message of a failed call, whether the status is in the spec (`ErrorResponse`)
/// or not (`UnexpectedResponse`, e.g. the 400s of deletes).
pub async fn failure<T: std::fmt::Debug>(
    result: Result<ResponseValue<T>, ghpkg_api::Error<BasicError>>,
) -> (u16, String) {
    match result.expect_err("the call should fail") {
        ghpkg_api::Error::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let body = response.into_inner();
            assert!(
                body.documentation_url
                    .as_deref()
                    .is_some_and(|url| url.starts_with("https://docs.github.com/")),
                "{body:?}"
            );
            (status, body.message.unwrap_or_default())
        }
        ghpkg_api::Error::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let body: BasicError = response.json().await.expect("a JSON error body");
            (status, body.message.unwrap_or_default())
        }
        other => panic!("expected an error answer, got {other:?}"),
    }
}

/// The URL with relation `rel` in a `Link` header.
pub fn link(headers: &reqwest::header::HeaderMap, rel: &str) -> Option<String> {
    let header = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    header.split(", ").find_map(|part| {
        let (url, relation) = part.split_once("; ")?;
        (relation == format!("rel=\"{rel}\""))
            .then(|| url.trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

/// Sends `request` (a whole HTTP/1.1 request, head and body) on a new connection to `server`
/// and reads until the server closes it: the raw answer, head included.
pub async fn raw_exchange(server: &MockServer, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers and closes within 10 s")
    .unwrap();
    String::from_utf8(answer).unwrap()
}

/// A server for `fixture` on a manual clock at [`start_time`].
pub async fn serve(fixture: ghpkg_mock::Fixture) -> MockServer {
    MockServer::start(MockOptions {
        fixture,
        ..demo_options()
    })
    .await
    .unwrap()
}

/// A registry token for pulling `repository` (`acme/web/app`), exchanged at `/token` with HTTP
/// Basic credentials whose password is `github_token`, or anonymously.
pub async fn registry_token(
    server: &MockServer,
    github_token: Option<&str>,
    repository: &str,
) -> String {
    let response = token_request(server, github_token, repository).await;
    assert_eq!(response.status(), 200, "token exchange for {repository}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token"], body["access_token"]);
    body["token"].as_str().unwrap().to_owned()
}

/// `GET /token?scope=repository:REPOSITORY:pull&service=ghcr.io`.
pub async fn token_request(
    server: &MockServer,
    github_token: Option<&str>,
    repository: &str,
) -> reqwest::Response {
    let request = reqwest::Client::new()
        .get(format!("{}/token", server.base_url()))
        .query(&[
            ("scope", format!("repository:{repository}:pull")),
            ("service", "ghcr.io".to_owned()),
        ]);
    let request = match github_token {
        Some(token) => request.basic_auth("x-access-token", Some(token)),
        None => request,
    };
    request.send().await.unwrap()
}

/// `GET /v2/PATH` (e.g. `acme/web/app/manifests/latest`) with a registry token.
pub async fn registry_get(server: &MockServer, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/v2/{path}", server.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The `code` of a registry error body (`{"errors":[{"code": …}]}`).
pub async fn registry_error_code(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}
