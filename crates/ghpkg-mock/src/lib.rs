//! `ghpkg-mock`: an in-memory, stateful emulator of the GitHub Packages REST API on loopback.
//!
//! It serves all 27 operations of `ghpkg-api`'s generated table (organization,
//! authenticated-user and user scopes) at `/` like github.com and under `/api/v3` like Enterprise
//! Server, with GitHub's error bodies and status codes, classic token scopes, organization roles,
//! soft deletion with the 30-day restore window, `Link` pagination, rate limits, seeded latency
//! and faults (including answers lost after a change was applied), idle-connection closing and a
//! connection cap. Bodies are the `ghpkg-api` generated types, so they match the spec by
//! construction, and [`MockServer::changes`] is the server's own record of what it changed.
//!
//! Beside the Packages API it answers `GET /rate_limit`, `GET /user` and `GET /users/{username}`
//! through the same pipeline, and serves the read side of the container registry as a client of
//! `ghcr.io` sees it (`/v2/`, `/token`, manifests, the referrers API, tag lists) on the same
//! origin: container versions are manifests named by their digests, image graphs included (see
//! [`fixture::graphs`] for named cases and `FIXTURES.md` for the format).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use ghpkg_api::types::PackageType;
//! use ghpkg_mock::{MockOptions, MockServer, fixture::demo, tokens};
//!
//! let server = MockServer::start(MockOptions::default()).await?;
//! let client = ghpkg_api::Client::with_base_url(&server.base_url(), Some(tokens::OCTOCAT_ALL));
//! let packages = client
//!     .packages_list_packages_for_organization()
//!     .org(demo::ACME)
//!     .package_type(PackageType::Container)
//!     .send()
//!     .await
//!     .expect("octocat may list acme's packages");
//! assert!(packages.iter().any(|p| p.name == demo::WEB_APP));
//! assert_eq!(server.stats().count("packages/list-packages-for-organization", 200), 1);
//! assert!(server.changes().is_empty(), "listing changes nothing");
//! # Ok(()) }
//! ```
//!
//! The binary (`ghpkg-mock serve`) runs the same server from the command line; see the README.

pub mod fixture;
pub mod tokens;

mod accounts;
mod auth;
mod changes;
mod clock;
mod connection;
mod error;
mod faults;
mod handlers;
mod pagination;
mod rate_limit;
mod registry;
mod routes;
mod server;
mod state;
mod stats;
mod stored;
pub mod tag_closure;
mod upstream;
mod wire;
mod world_change;

pub use auth::{DELETE_PACKAGES, INSTALLATION_TOKEN_PREFIX, READ_PACKAGES, WRITE_PACKAGES};
pub use changes::AppliedChange;
pub use clock::MockClock;
pub use error::messages;
pub use faults::{Faults, FaultsParseError};
pub use fixture::{Fixture, FixtureError, Manifest, SyntheticSpec};
pub use rate_limit::RateLimits;
pub use registry::RegistryFailure;
pub use routes::operation_ids;
pub use server::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, MockOptions, MockServer};
pub use state::{PackageRecord, RESTORE_WINDOW, StateSnapshot, UnlistedManifest, VersionRecord};
pub use stats::{FaultCounts, RateLimitRejections, RegistryStats, Stats, UNMATCHED_OPERATION};
pub use tag_closure::{BrokenTag, Missing};
pub use upstream::{Upstream, UpstreamError, UpstreamScan};
pub use world_change::{OnVersionsPage, Push, PushError, Pushed, PushedManifest, WorldChange};
