//! What the caller knows: where the packages live, and each package's versions.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::image::ImageGraph;

/// Where the packages live; recorded in the plan so that it is applied to the same place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The GitHub host, e.g. `github.com` or an Enterprise Server host name.
    pub host: String,
    /// Whose packages they are.
    pub owner: Owner,
    /// GitHub's package type: `container`, `docker`, `npm`, `maven`, `nuget` or `rubygems`.
    pub package_type: String,
}

impl Target {
    /// Whether the packages are container images (`container` or `docker`), whose versions are
    /// manifests that can reference one another and whose last tagged version GitHub keeps.
    pub fn is_container(&self) -> bool {
        self.package_type.eq_ignore_ascii_case("container")
            || self.package_type.eq_ignore_ascii_case("docker")
    }
}

/// The owner of the packages, as GitHub's three API scopes see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Owner {
    /// An organization (`/orgs/{org}/packages`).
    Org(String),
    /// Any user (`/users/{username}/packages`).
    User(String),
    /// The token's user (`/user/packages`), with the login when it is known.
    AuthenticatedUser(Option<String>),
}

/// One version of a package, as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionFacts {
    /// GitHub's version id; never 0.
    pub id: u64,
    /// The manifest digest (`sha256:<64 hex>`) for container images, the version string for
    /// other package types.
    pub name: String,
    /// The container tags; empty for an untagged version and for other package types.
    #[serde(default)]
    pub tags: Vec<String>,
    /// When the version was created.
    pub created_at: DateTime<Utc>,
    /// When the version was last updated (for images, when a tag last moved to or from it).
    pub updated_at: DateTime<Utc>,
}

/// One package: its versions and, for container images, what the registry said about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageFacts {
    /// The package name, e.g. `web/app`.
    pub name: String,
    /// Every version of the package.
    pub versions: Vec<VersionFacts>,
    /// The image graph, when the caller read the manifests. A container package without one
    /// gets no deletions (`keep:graph-not-read`).
    #[serde(default)]
    pub graph: Option<ImageGraph>,
    /// Why the listing of `versions` cannot be trusted to be complete, when it cannot (the
    /// package's version count disagreed with what was listed, or changed while it was read):
    /// nothing in the package is deleted (`keep:incomplete-listing`).
    #[serde(default)]
    pub incomplete_listing: Option<String>,
}
