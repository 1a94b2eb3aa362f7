//! [`ErrorKind`]: the stable names of the kinds of [`Error`](crate::Error). A leaf: the
//! classifier assigns kinds, and the error model reports them.

use std::fmt;

/// The stable kind of an [`Error`](crate::Error), for programs: [`ErrorKind::as_str`] never changes for a
/// kind, and new kinds may be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `unauthorized`
    Unauthorized,
    /// `missing-scopes`
    MissingScopes,
    /// `forbidden`
    Forbidden,
    /// `not-found`
    NotFound,
    /// `refused`
    Refused,
    /// `rate-limited`
    RateLimited,
    /// `invalid-input`
    InvalidInput,
    /// `invalid-name`
    InvalidName,
    /// `invalid-token`
    InvalidToken,
    /// `http`
    Http,
    /// `transport`
    Transport,
    /// `decode`
    Decode,
    /// `pagination`
    Pagination,
    /// `redirected`
    Redirected,
    /// `too-large`
    TooLarge,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::Unauthorized,
        ErrorKind::MissingScopes,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::Refused,
        ErrorKind::RateLimited,
        ErrorKind::InvalidInput,
        ErrorKind::InvalidName,
        ErrorKind::InvalidToken,
        ErrorKind::Http,
        ErrorKind::Transport,
        ErrorKind::Decode,
        ErrorKind::Pagination,
        ErrorKind::Redirected,
        ErrorKind::TooLarge,
    ];

    /// The stable name (`not-found`, `rate-limited`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::MissingScopes => "missing-scopes",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Refused => "refused",
            ErrorKind::RateLimited => "rate-limited",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::InvalidName => "invalid-name",
            ErrorKind::InvalidToken => "invalid-token",
            ErrorKind::Http => "http",
            ErrorKind::Transport => "transport",
            ErrorKind::Decode => "decode",
            ErrorKind::Pagination => "pagination",
            ErrorKind::Redirected => "redirected",
            ErrorKind::TooLarge => "too-large",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
