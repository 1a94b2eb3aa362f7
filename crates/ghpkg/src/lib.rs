//! The ergonomic GitHub Packages client: one API over the organization, user and
//! authenticated-user scopes, pagination as streams, typed errors that say what to do next, and
//! pacing that keeps bulk work within GitHub's rate limits.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::{StreamExt, TryStreamExt};
//! use ghpkg::{Client, PackageType};
//! use ghpkg_mock::{MockOptions, MockServer};
//!
//! // The emulator on loopback; against github.com, leave out `base_url` and the token
//! // comes from GH_TOKEN or GITHUB_TOKEN.
//! let server = MockServer::start(MockOptions::default()).await?;
//! let client = Client::builder()
//!     .base_url(server.base_url())
//!     .token("ghp_octocat_all")
//!     .build()?;
//!
//! // Every version of acme's container image, as one stream over all 30 pages.
//! let web_app = client.org("acme").package(PackageType::Container, "web/app");
//! let untagged: Vec<u64> = web_app
//!     .versions()
//!     .stream()
//!     .try_filter(|version| std::future::ready(!version.is_tagged()))
//!     .map_ok(|version| version.id())
//!     .try_collect()
//!     .await?;
//! println!("{} untagged versions", untagged.len());
//!
//! // Delete ten of them, with one outcome per version.
//! let outcomes: Vec<_> = web_app
//!     .delete_versions(untagged.into_iter().take(10))
//!     .collect()
//!     .await;
//! assert!(outcomes.iter().all(|outcome| outcome.is_success()));
//!
//! // A read-only token gets an error that names the missing scope and how to add it.
//! let read_only = Client::builder()
//!     .base_url(server.base_url())
//!     .token("ghp_octocat_read")
//!     .build()?;
//! let error = read_only
//!     .org("acme")
//!     .package(PackageType::Container, "web/app")
//!     .version(outcomes[0].id)
//!     .restore()
//!     .await
//!     .unwrap_err();
//! assert!(matches!(error, ghpkg::Error::MissingScopes { .. }));
//! println!("{error}");
//! server.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Map
//!
//! - [`Client`] and [`ClientBuilder`]: token (explicit, else `GH_TOKEN`, else `GITHUB_TOKEN`),
//!   github.com, Enterprise Server or any base URL, timeouts, [`Pacing`].
//! - [`Scope`], from [`Client::org`], [`Client::user`] or [`Client::authenticated_user`]: the same
//!   methods for all three owners — [`Scope::packages`], [`Scope::package`],
//!   [`Scope::docker_conflicts`]. `owner::family` picks the operation of the generated table
//!   ([`ghpkg_api::operations`]); nothing else chooses between the three.
//! - [`PackageHandle`] and [`VersionHandle`]: get, delete, restore, list versions;
//!   [`PackageHandle::delete_versions`] and [`PackageHandle::restore_versions`] for bulk work
//!   with a [`BulkOutcome`] per version.
//! - [`Page`] for one page, `stream()` on the listing builders for everything; see
//!   [`pagination`] for how pages are followed and [`link`] for the `Link` parser.
//! - [`Error`]: one enum with a stable [`ErrorKind`], a status and a hint. [`names`] holds the
//!   rules owner and package names must follow; [`scopes`] reads classic token scopes.
//! - [`Package`] and [`PackageVersion`] wrap the generated models; [`PackageType`],
//!   [`Visibility`] and [`VersionState`] accept values GitHub adds later.
//!
//! Every request goes through one pacing transport (see [`Pacing`]): it waits and retries, so
//! nothing else in this crate does. What an answer means is decided in one place, the
//! classifier that pacing and errors share.

pub mod apply;
mod bulk;
mod classify;
mod client;
mod error;
mod facts;
pub mod journal;
pub mod link;
pub mod names;
mod operation;
pub mod outcome;
mod owner;
mod owner_scope;
mod pacing;
mod package;
pub mod pagination;
mod redact;
pub mod registry;
pub mod scopes;
mod types;
mod version;

pub use bulk::{BulkOutcome, BulkSummary, ItemResult};
pub use client::{
    Client, ClientBuilder, TOKEN_ENV_VARS, is_loopback, token_from, token_from_env,
    token_source_from_env,
};
pub use error::{Error, ErrorKind, RateLimitKind, RefusalReason, Result};
pub use facts::PlanningEvent;
pub use ghpkg_api::operations::{Action, OwnerFamily};
pub use ghpkg_api::{Token, TokenKind, TokenProblem};
pub use names::NameKind;
pub use operation::Operation;
pub use owner::Owner;
pub use owner_scope::{ListPackages, Scope};
pub use pacing::{Pacing, RateLimitStatus, request_points};
pub use package::{ListVersions, PackageHandle};
pub use pagination::{Page, Paging};
pub use types::{InvalidNumber, Package, PackageType, PackageVersion, VersionState, Visibility};
pub use version::VersionHandle;

/// The retention engine (`ghpkg-retention`): rules, plans and their reason codes.
pub use ghpkg_retention as retention;

/// The `chrono` this crate's times are ([`DateTime<Utc>`](chrono::DateTime)), so that a program
/// can name them without its own dependency.
pub use chrono;

/// The README's Rust examples, compiled as doc tests so that they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
