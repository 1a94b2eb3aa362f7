//! GitHub's error responses: a status and a `BasicError` body with `message` and
//! `documentation_url`.

use axum::http::StatusCode;
use ghpkg_api::types::BasicError;

/// An error answer of the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub documentation_url: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>, documentation_url: &str) -> Self {
        Self {
            status,
            message: message.into(),
            documentation_url: documentation_url.to_owned(),
        }
    }

    /// The body GitHub sends with it.
    pub fn body(&self) -> BasicError {
        BasicError {
            message: Some(self.message.clone()),
            documentation_url: Some(self.documentation_url.clone()),
            status: Some(self.status.as_u16().to_string()),
            url: None,
        }
    }
}

/// Messages GitHub uses, kept in one place so tests and handlers agree.
pub mod messages {
    /// 401 without a token.
    pub const REQUIRES_AUTHENTICATION: &str = "Requires authentication";
    /// 401 with a token GitHub does not know.
    pub const BAD_CREDENTIALS: &str = "Bad credentials";
    /// 404 for an unknown owner or path.
    pub const NOT_FOUND: &str = "Not Found";
    /// 404 for a package that does not exist or that the caller may not see.
    pub const PACKAGE_NOT_FOUND: &str = "Package not found.";
    /// 404 for a version that does not exist (or is already deleted).
    pub const VERSION_NOT_FOUND: &str = "Package version not found.";
    /// 400 when `page × per_page` passes 10,000 on a package list.
    pub const PAGE_LIMIT: &str =
        "The value of per_page multiplied by page cannot be greater than 10000.";
    /// 400 when deleting the last tagged version of a container package.
    pub const LAST_TAGGED_VERSION: &str = "You cannot delete the last tagged version of a package. You must delete the package instead.";
    /// 400 when deleting the last version of a package.
    pub const LAST_VERSION: &str =
        "You cannot delete the last version of a package. You must delete the package instead.";
    /// 400 when deleting a popular public version.
    pub const POPULAR_VERSION: &str = "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.";
    /// 400 when deleting a public package with a popular version.
    pub const POPULAR_PACKAGE: &str = "Publicly visible packages with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.";
    /// 403 from the secondary rate limit.
    pub const SECONDARY_RATE_LIMIT: &str =
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
}
