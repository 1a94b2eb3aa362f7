//! The ergonomic GitHub Packages client: one API over the organization, user and
//! authenticated-user scopes, pagination as streams, typed errors that say what to do next, and
//! pacing that keeps bulk work within GitHub's rate limits.
//!
//! ```no_run
//! # async fn run() -> ghpkg::Result<()> {
//! use futures::TryStreamExt;
//! use ghpkg::{Client, PackageType};
//!
//! let client = Client::builder().build()?; // token from GH_TOKEN or GITHUB_TOKEN
//! let app = client.org("acme").package(PackageType::Container, "web/app");
//! let untagged: Vec<i64> = app
//!     .versions()
//!     .stream()
//!     .try_filter(|version| std::future::ready(!version.is_tagged()))
//!     .map_ok(|version| version.id)
//!     .try_collect()
//!     .await?;
//! println!("{} untagged versions", untagged.len());
//! # Ok(()) }
//! ```

mod bulk;
mod client;
mod error;
mod pacing;
mod package;
pub mod pagination;
mod scope;
pub mod token_scopes;
mod types;

pub use bulk::{BulkOutcome, BulkSummary, ItemResult};
pub use client::{Client, ClientBuilder, TOKEN_ENV_VARS, token_from_env};
pub use error::{Error, RateLimitKind, RefusalReason, Result};
pub use ghpkg_api::Token;
pub use pacing::{Pacing, RateLimitStatus};
pub use package::{ListVersions, PackageHandle, VersionHandle};
pub use pagination::{Page, Paging};
pub use scope::{ListPackages, Owner, Scope};
pub use token_scopes::Operation;
pub use types::{Package, PackageType, PackageVersion, VersionState, Visibility};
