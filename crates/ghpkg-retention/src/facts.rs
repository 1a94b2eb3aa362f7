//! What the caller knows: where the packages live, and each package's versions.

use std::fmt;

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

impl fmt::Display for Target {
    /// `container packages of organization acme on github.com`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} packages of {} on {}",
            self.package_type, self.owner, self.host
        )
    }
}

/// Whose packages: an organization, any user, or the user the token belongs to, as GitHub's
/// three API scopes see them. The one owner type of the workspace: the library's requests, the
/// plan and the journal all use it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Owner {
    /// An organization, by login (`/orgs/{org}/packages`).
    Org(String),
    /// Any user, by login (`/users/{username}/packages`).
    User(String),
    /// The token's user (`/user/packages`), with the login when it is known. Requests never
    /// use the login; plans and journals record it so that people can read them.
    AuthenticatedUser(Option<String>),
}

impl Owner {
    /// The login that addresses the owner in a request's path (`/orgs/{org}`,
    /// `/users/{username}`); `None` for the authenticated user, whose path (`/user`) has none.
    pub fn login(&self) -> Option<&str> {
        match self {
            Owner::Org(login) | Owner::User(login) => Some(login),
            Owner::AuthenticatedUser(_) => None,
        }
    }

    /// Whether `self` and `other` address the same packages: the same kind of owner and the
    /// same login in the path (the authenticated user's recorded login does not count).
    pub fn addresses_same(&self, other: &Owner) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.login() == other.login()
    }

    /// Whether this is the authenticated user, whatever login is known for it.
    pub fn is_authenticated_user(&self) -> bool {
        matches!(self, Owner::AuthenticatedUser(_))
    }
}

impl fmt::Display for Owner {
    /// `organization acme`, `user octocat`, `the authenticated user octocat`: the one
    /// description of an owner.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Org(login) => write!(f, "organization {login}"),
            Owner::User(login) => write!(f, "user {login}"),
            Owner::AuthenticatedUser(Some(login)) => write!(f, "the authenticated user {login}"),
            Owner::AuthenticatedUser(None) => f.write_str("the authenticated user"),
        }
    }
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
