//! Who is calling and what they may do: the `Authorization` header, classic OAuth scopes and
//! the caller's standing with a package owner. Whether a token's scopes cover an operation's is
//! `ghpkg_api::scopes`'s rule (`write:packages` implies `read:packages`), the library's too.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use ghpkg_api::types::PackageVisibility;

use crate::fixture::OrgRole;
use crate::state::{Account, OwnerKind, Store};

pub use ghpkg_api::scopes::{DELETE_PACKAGES, READ_PACKAGES, WRITE_PACKAGES};

/// The prefix of an installation token (GitHub Actions' `GITHUB_TOKEN`, an app's), as GitHub
/// names its tokens. The emulator treats a fixture token with this prefix as one: its `scopes`
/// stand for the installation's permissions, GitHub sends no `X-OAuth-Scopes` for it, and what
/// they do not allow is answered `404 Package not found.`, as GitHub answers a `GITHUB_TOKEN`
/// whose repository may not manage the package.
pub const INSTALLATION_TOKEN_PREFIX: &str = "ghs_";

/// An authenticated caller.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub token: String,
    pub login: String,
    pub user_id: i64,
    pub scopes: Vec<String>,
    /// Whether the token is an installation token ([`INSTALLATION_TOKEN_PREFIX`]).
    pub installation: bool,
}

impl Caller {
    /// The first of `required` that the token's scopes do not cover.
    pub fn missing_scope(&self, required: &[&'static str]) -> Option<&'static str> {
        ghpkg_api::scopes::missing(required, &self.scopes)
            .first()
            .copied()
    }

    /// The token's scopes as GitHub prints them in `X-OAuth-Scopes`.
    pub fn scopes_header(&self) -> String {
        self.scopes.join(", ")
    }
}

/// The `Authorization` header named a token the emulator does not know, or was malformed.
#[derive(Debug)]
pub(crate) struct BadCredentials;

/// The caller behind `headers`: `Ok(None)` without an `Authorization` header.
pub(crate) fn authenticate(
    headers: &HeaderMap,
    store: &Store,
) -> Result<Option<Caller>, BadCredentials> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| BadCredentials)?.trim();
    let (scheme, secret) = value.split_once(' ').ok_or(BadCredentials)?;
    if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("token") {
        return Err(BadCredentials);
    }
    caller_for_token(secret.trim(), store)
        .map(Some)
        .ok_or(BadCredentials)
}

/// The caller a token secret (a fixture token) authenticates, if it is one.
pub(crate) fn caller_for_token(secret: &str, store: &Store) -> Option<Caller> {
    let record = store.token(secret)?;
    let user = store.account(&record.user)?;
    Some(Caller {
        token: secret.to_owned(),
        login: user.login.clone(),
        user_id: user.id,
        scopes: record.scopes.clone(),
        installation: secret.starts_with(INSTALLATION_TOKEN_PREFIX),
    })
}

/// What a caller may do with an owner's packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    /// Sees public packages only.
    PublicOnly,
    /// Sees every package (organization members).
    Read,
    /// Sees, deletes and restores every package (the user themself, organization admins).
    Admin,
}

impl Access {
    /// Whether a package with `visibility` is visible at this level.
    pub fn can_see(self, visibility: PackageVisibility) -> bool {
        self >= Access::Read || visibility == PackageVisibility::Public
    }
}

/// The caller's standing with `owner`.
pub(crate) fn access(owner: &Account, caller: Option<&Caller>) -> Access {
    let Some(caller) = caller else {
        return Access::PublicOnly;
    };
    match owner.kind {
        OwnerKind::User if owner.login.eq_ignore_ascii_case(&caller.login) => Access::Admin,
        OwnerKind::User => Access::PublicOnly,
        OwnerKind::Organization => match owner.members.get(&caller.login.to_lowercase()) {
            Some(OrgRole::Admin) => Access::Admin,
            Some(OrgRole::Member) => Access::Read,
            None => Access::PublicOnly,
        },
    }
}
