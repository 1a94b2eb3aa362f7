//! The library against the emulator: every operation through every scope, every error kind,
//! pagination and bulk work, and the token staying secret.

mod bulk;
mod errors;
mod pagination;
mod scopes;
mod secrets;

use ghpkg::{Client, Pacing};
use ghpkg_mock::{MockOptions, MockServer};

pub use ghpkg_mock::fixture::demo;
pub use ghpkg_mock::tokens;

/// A fresh emulator with the demo fixture, so that tests never see each other's changes.
pub async fn mock() -> MockServer {
    MockServer::start(MockOptions::default())
        .await
        .expect("the emulator starts")
}

/// A client of `server` that authenticates with `token`.
pub fn client(server: &MockServer, token: &str) -> Client {
    builder(server).token(token).build().expect("a client")
}

/// A builder aimed at `server`, with no token from the environment and default pacing except
/// for the per-minute points budget, raised so that a test never waits a minute for it (pacing
/// has tests of its own).
pub fn builder(server: &MockServer) -> ghpkg::ClientBuilder {
    Client::builder()
        .base_url(server.base_url())
        .without_token()
        .pacing(Pacing {
            points_per_minute: 1_000_000,
            ..Pacing::default()
        })
}

/// How many requests `server` has answered so far.
pub fn requests(server: &MockServer) -> u64 {
    server.stats().total_requests
}
