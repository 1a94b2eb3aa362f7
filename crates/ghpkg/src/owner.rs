//! [`Owner`]: whose packages a request addresses, and the one function that picks the family of
//! operations for it ([`Owner::family`]).

use std::fmt;

use ghpkg_api::operations::OwnerFamily;

use crate::error::{Error, Result};
use crate::names::{self, NameKind};

/// Whose packages: an organization, a user, or the user the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// An organization, by login.
    Org(String),
    /// A user, by login.
    User(String),
    /// The user the token belongs to (`/user/...`).
    AuthenticatedUser,
}

impl Owner {
    /// The family of operations that addresses this owner: the one place that chooses.
    pub fn family(&self) -> OwnerFamily {
        match self {
            Owner::Org(_) => OwnerFamily::Org,
            Owner::User(_) => OwnerFamily::User,
            Owner::AuthenticatedUser => OwnerFamily::AuthenticatedUser,
        }
    }

    /// The login in the request's path, if the family has one.
    pub fn login(&self) -> Option<&str> {
        match self {
            Owner::Org(login) | Owner::User(login) => Some(login),
            Owner::AuthenticatedUser => None,
        }
    }

    /// Fails with [`Error::InvalidName`] for a login that breaks GitHub's rule.
    pub(crate) fn validate(&self) -> Result<()> {
        let (kind, login) = match self {
            Owner::Org(login) => (NameKind::Organization, login),
            Owner::User(login) => (NameKind::User, login),
            Owner::AuthenticatedUser => return Ok(()),
        };
        names::check_owner(login).map_err(|problem| Error::invalid_name(kind, login, problem))
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Org(login) => write!(f, "organization {login}"),
            Owner::User(login) => write!(f, "user {login}"),
            Owner::AuthenticatedUser => f.write_str("the authenticated user"),
        }
    }
}
