//! Regression tests of the library's hardening: each one states a property a destructive tool
//! needs, and each failed on the library before the property was built (see CHANGELOG.md).

mod hostile;

mod bodies;
mod cancellation;
mod faults;
mod links;
mod listings;
mod names;
mod not_found;
mod redirects;
mod registry;
mod tokens;
mod waits;

use std::time::Duration;

use ghpkg::{Client, Pacing};

/// A client of `base_url` with quick retries and everything else as shipped.
pub fn client(base_url: &str, token: &str) -> Client {
    client_with(base_url, token, quick())
}

/// A client of `base_url` with `pacing`.
pub fn client_with(base_url: &str, token: &str, pacing: Pacing) -> Client {
    Client::builder()
        .base_url(base_url)
        .token(token)
        .pacing(pacing)
        .build()
        .expect("a loopback client builds")
}

/// Backoff short enough for tests.
pub fn quick() -> Pacing {
    Pacing {
        backoff_base: Duration::from_millis(2),
        backoff_max: Duration::from_millis(20),
        ..Pacing::default()
    }
}
