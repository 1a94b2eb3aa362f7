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
