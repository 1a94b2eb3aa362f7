//! The ergonomic GitHub Packages client: one API over the organization, user and
//! authenticated-user scopes, pagination as streams, typed errors that say what to do next, and
//! pacing that keeps bulk work within GitHub's rate limits.
//!
//! ```
//! use futures::{StreamExt, TryStreamExt};
//! use ghpkg::{Client, PackageType, Pacing};
//! use ghpkg_mock::{MockOptions, MockServer};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The emulator on loopback; against github.com, leave out `base_url` and the token
//!     // comes from GH_TOKEN or GITHUB_TOKEN. `unpaced()`: the emulator has no limits here,
//!     // and the default pacing would hold deletions to GitHub's real budget.
//!     let server = MockServer::start(MockOptions::default()).await?;
//!     let client = Client::builder()
//!         .base_url(server.base_url())
//!         .token("ghp_octocat_all")
//!         .pacing(Pacing::unpaced())
//!         .build()?;
//!
//!     // Every version of acme's container image, as one stream over all 30 pages.
//!     let web_app = client.org("acme").package(PackageType::Container, "web/app");
//!     let untagged: Vec<u64> = web_app
//!         .versions()
//!         .stream()
//!         .try_filter(|version| std::future::ready(!version.is_tagged()))
//!         .map_ok(|version| version.id())
//!         .try_collect()
//!         .await?;
//!     println!("{} untagged versions", untagged.len());
//!
//!     // Delete ten of them, with one outcome per version.
//!     let outcomes: Vec<_> = web_app
//!         .delete_versions(untagged.into_iter().take(10))
//!         .collect()
//!         .await;
//!     assert!(outcomes.iter().all(|outcome| outcome.is_success()));
//!
//!     // A read-only token gets an error that names the missing scope and how to add it.
//!     let read_only = Client::builder()
//!         .base_url(server.base_url())
//!         .token("ghp_octocat_read")
//!         .build()?;
//!     let error = read_only
//!         .org("acme")
//!         .package(PackageType::Container, "web/app")
//!         .version(outcomes[0].id)
//!         .restore()
//!         .await
//!         .unwrap_err();
//!     assert!(matches!(error, ghpkg::Error::MissingScopes { .. }));
//!     println!("{error}");
//!     server.stop().await;
//!     Ok(())
//! }
//! ```
//!
//! # Dependencies
//!
//! The library is async and needs a runtime; the example also uses `futures` for the streams
//! and the emulator, `ghpkg-mock`. All three are separate dependencies:
//!
//! ```toml
//! [dependencies]
//! ghpkg = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! futures = "0.3"
//!
//! [dev-dependencies]
//! ghpkg-mock = "0.1"   # the emulator, for tests and rehearsals
//! ```
//!
//! Times are [`chrono`]'s, re-exported as `ghpkg::chrono`; the generated low-level client is
//! [`ghpkg_api`] (`Client::api`), whose enums convert to and from this crate's
//! ([`PackageType`] ↔ `ghpkg_api::types::PackageType`).
//!
//! # Pacing
//!
//! The default [`Pacing`] is GitHub's real budget: 900 points a sliding minute, a `DELETE` or
//! `POST` costing 5, so a bulk run makes about 180 deletions a minute, against GitHub and
//! against the emulator alike (a 1,209-version delete takes nearly seven minutes). To rehearse
//! quickly against the emulator, use [`Pacing::unpaced`] (with `MockOptions::default()`, whose
//! limits are off), or scale the minute on both sides: [`Pacing::time_scale`] set to the
//! emulator's `RateLimits::time_scale`.
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
//! - [`Package`] and [`PackageVersion`]: GitHub's answers through typed accessors (ids as
//!   `u64`, times as `DateTime<Utc>`); [`PackageType`], [`Visibility`] and [`VersionState`]
//!   accept values GitHub adds later and convert to and from the generated enums.
//!
//! Every request goes through one pacing transport (see [`Pacing`]): it waits and retries, so
//! nothing else in this crate does. What an answer means is decided in one place, the
//! classifier that pacing and errors share.

pub mod apply;
mod bulk;
mod checkpoint;
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
pub use checkpoint::ListingCheckpoints;
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

#[cfg(test)]
mod examples_as_copied {
    //! The README's Rust examples and this crate's are compiled as doc tests, which prove what a
    //! user copies only if nothing is hidden from them: no rustdoc `# ` lines.

    /// The lines of `markdown`'s Rust code blocks that rustdoc would hide, as (line, text).
    fn hidden_lines(markdown: &str) -> Vec<(usize, String)> {
        let mut hidden = Vec::new();
        let mut in_rust = None;
        for (index, line) in markdown.lines().enumerate() {
            let trimmed = line.trim_start();
            if let Some(info) = trimmed.strip_prefix("```") {
                in_rust = match in_rust {
                    Some(_) => None,
                    None => {
                        let language = info.split(',').next().unwrap_or_default().trim();
                        Some(language.is_empty() || language == "rust")
                    }
                };
                continue;
            }
            if in_rust == Some(true) && (trimmed == "#" || trimmed.starts_with("# ")) {
                hidden.push((index + 1, line.to_string()));
            }
        }
        hidden
    }

    #[test]
    fn readme_rust_examples_hide_no_lines() {
        let hidden = hidden_lines(include_str!("../../../README.md"));
        assert!(
            hidden.is_empty(),
            "README.md hides lines from its readers, so the example they copy is not the one \
             compiled; write them out: {hidden:?}"
        );
    }

    #[test]
    fn crate_examples_hide_no_lines() {
        let docs: String = include_str!("lib.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//!"))
            .map(|line| format!("{}\n", line.strip_prefix(' ').unwrap_or(line)))
            .collect();
        let hidden = hidden_lines(&docs);
        assert!(hidden.is_empty(), "crate docs hide lines: {hidden:?}");
    }

    #[test]
    fn a_hidden_line_is_found() {
        let markdown = "```rust\n# async fn run() {\nlet x = 1;\n#[derive(Debug)]\n```\n\
                        ```sh\n# a comment\n```\n";
        assert_eq!(
            hidden_lines(markdown),
            [(2, "# async fn run() {".to_string())]
        );
    }
}
