//! Connection hygiene: idle connections are closed after `idle_timeout`, and no more than
//! `max_connections` are served at once.

mod common;

use std::time::{Duration, Instant};

use common::demo_options;
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{MockOptions, MockServer, tokens};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn get_request() -> String {
    format!(
        "GET /orgs/acme/packages/container/web%2Fapp/versions/{WEB_APP_LATEST_VERSION_ID} HTTP/1.1\r\n\
         Host: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
        tokens::OCTOCAT_ALL
    )
}

/// Reads one whole answer (head and `Content-Length` body) from `stream`.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the connection closed mid-answer");
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .map_or(0, |n| n.trim().parse().unwrap());
            if body.len() >= length {
                return text;
            }
        }
    }
}

/// Waits until the server has `count` connections open, or panics after `within`.
async fn wait_for_open_connections(server: &MockServer, count: usize, within: Duration) {
    let started = Instant::now();
    while server.open_connections() != count {
        assert!(
            started.elapsed() < within,
            "{} connections open, expected {count}",
            server.open_connections()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether the server closed `stream`: a read ends (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0_u8; 64];
    match tokio::time::timeout(within, stream.read(&mut buffer)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) => panic!("the server sent bytes nobody asked for"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let server = MockServer::start(MockOptions {
        idle_timeout: Duration::from_millis(300),
        ..demo_options()
    })
    .await
    .unwrap();
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    wait_for_open_connections(&server, 200, Duration::from_secs(5)).await;
    let mut still_open = 0;
    for stream in &mut idle {
        if !closed_within(stream, Duration::from_secs(3)).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "connections left open past the idle timeout");
    wait_for_open_connections(&server, 0, Duration::from_secs(3)).await;
}

#[tokio::test]
async fn a_keep_alive_connection_serves_requests_until_it_has_been_idle_too_long() {
    let server = MockServer::start(MockOptions {
        idle_timeout: Duration::from_millis(400),
        ..demo_options()
    })
    .await
    .unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    for _ in 0..3 {
        stream.write_all(get_request().as_bytes()).await.unwrap();
        assert!(read_answer(&mut stream).await.starts_with("HTTP/1.1 200"));
        // Less than the timeout between requests keeps the connection.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_request_slower_than_the_idle_timeout_still_gets_its_answer() {
    let server = MockServer::start(MockOptions {
        idle_timeout: Duration::from_millis(100),
        latency: Duration::from_millis(400),
        ..demo_options()
    })
    .await
    .unwrap();
    let response = reqwest::Client::new()
        .get(format!(
            "{}/orgs/acme/packages/container/web%2Fapp/versions/{WEB_APP_LATEST_VERSION_ID}",
            server.base_url()
        ))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn no_more_than_max_connections_are_served_at_once() {
    let server = MockServer::start(MockOptions {
        max_connections: 3,
        ..demo_options()
    })
    .await
    .unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    wait_for_open_connections(&server, 3, Duration::from_secs(5)).await;

    // The fourth client connects (the kernel queues it) but is not served.
    let mut waiting = TcpStream::connect(server.addr()).await.unwrap();
    waiting.write_all(get_request().as_bytes()).await.unwrap();
    let mut buffer = [0_u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.read(&mut buffer)).await;
    assert!(early.is_err(), "a fourth connection was served");
    assert_eq!(server.open_connections(), 3);

    // Once one closes, the waiting client is accepted and answered.
    drop(held.pop());
    let answer = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut waiting))
        .await
        .expect("the waiting client is served once a slot frees");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(server.open_connections(), 3);
}

#[tokio::test]
async fn no_connection_slots_is_refused_at_start() {
    let error = MockServer::start(MockOptions {
        max_connections: 0,
        ..demo_options()
    })
    .await
    .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
