//! What the library adds to the one [`Owner`] type (which lives in the engine, so that plans and
//! requests share it): the one function that picks the family of operations for an owner
//! ([`family`]), and the check of its login before any request.

use ghpkg_api::operations::OwnerFamily;
pub use ghpkg_retention::Owner;

use crate::error::{Error, Result};
use crate::names::{self, NameKind};

/// The family of operations that addresses `owner`: the one place that chooses between the
/// organization, user and authenticated-user operations.
pub(crate) fn family(owner: &Owner) -> OwnerFamily {
    match owner {
        Owner::Org(_) => OwnerFamily::Org,
        Owner::User(_) => OwnerFamily::User,
        Owner::AuthenticatedUser(_) => OwnerFamily::AuthenticatedUser,
    }
}

/// Fails with [`Error::InvalidName`] for a login that breaks GitHub's rule.
pub(crate) fn validate(owner: &Owner) -> Result<()> {
    let (kind, login) = match owner {
        Owner::Org(login) => (NameKind::Organization, login),
        Owner::User(login) => (NameKind::User, login),
        Owner::AuthenticatedUser(_) => return Ok(()),
    };
    names::check_owner(login).map_err(|problem| Error::invalid_name(kind, login, problem))
}
