//! [`Token`]: a GitHub token that never reaches a log, what kind it is, and whether it can be sent.

use std::fmt;
use std::sync::Arc;

/// The longest token accepted. GitHub's tokens are 40 to 255 characters; a GitHub App's JWT is
/// under 1,000. Anything longer is a mistake (a file pasted whole), not a token.
pub const MAX_TOKEN_LEN: usize = 2048;

/// A GitHub token: a personal access token (classic or fine-grained), an OAuth token, an
/// installation token such as GitHub Actions' `GITHUB_TOKEN`.
///
/// Its `Debug` output is redacted, so that a token never reaches a log through a client.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Arc<str>);

/// Why a token cannot be sent in an `Authorization` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenProblem {
    /// It is empty or only whitespace.
    Empty,
    /// It contains whitespace or control characters (a trailing newline from a file, a CR/LF).
    Whitespace,
    /// It contains characters outside printable ASCII.
    Unprintable,
    /// It is longer than [`MAX_TOKEN_LEN`].
    TooLong,
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenProblem::Empty => "the token is empty; set it to a GitHub token",
            TokenProblem::Whitespace => {
                "the token contains whitespace or a line break; remove it (a token read from a \
                 file often ends with a newline)"
            }
            TokenProblem::Unprintable => {
                "the token contains characters that are not printable ASCII; GitHub tokens never do"
            }
            TokenProblem::TooLong => {
                "the token is longer than 2048 characters; GitHub tokens are far shorter, so this \
                 is probably not a token"
            }
        })
    }
}

impl std::error::Error for TokenProblem {}

/// What kind of token it is, by GitHub's prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// A personal access token (classic), `ghp_`: has classic scopes (`X-OAuth-Scopes`).
    Classic,
    /// A fine-grained personal access token, `github_pat_`: permissions, not scopes.
    FineGrained,
    /// An OAuth app token, `gho_`: has classic scopes.
    OAuth,
    /// A GitHub App user-to-server token, `ghu_`.
    UserToServer,
    /// A GitHub App installation token, `ghs_`, such as GitHub Actions' `GITHUB_TOKEN`.
    Installation,
    /// A prefix GitHub does not document (an older 40-hex classic token, or a value that is not
    /// a GitHub token).
    Unknown,
}

impl TokenKind {
    /// Whether GitHub reports the token's grants as classic scopes in `X-OAuth-Scopes`.
    pub fn has_classic_scopes(self) -> bool {
        matches!(
            self,
            TokenKind::Classic | TokenKind::OAuth | TokenKind::Unknown
        )
    }

    /// A stable name for programs (`classic`, `fine-grained`, `oauth`, `user-to-server`,
    /// `installation`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Classic => "classic",
            TokenKind::FineGrained => "fine-grained",
            TokenKind::OAuth => "oauth",
            TokenKind::UserToServer => "user-to-server",
            TokenKind::Installation => "installation",
            TokenKind::Unknown => "unknown",
        }
    }

    /// A short description ("personal access token (classic)").
    pub fn description(self) -> &'static str {
        match self {
            TokenKind::Classic => "personal access token (classic)",
            TokenKind::FineGrained => "fine-grained personal access token",
            TokenKind::OAuth => "OAuth app token",
            TokenKind::UserToServer => "GitHub App user token",
            TokenKind::Installation => "GitHub App installation token (such as GITHUB_TOKEN)",
            TokenKind::Unknown => "token of unknown kind",
        }
    }
}

impl Token {
    /// Wraps a token string. It is checked when a client is built ([`Token::validate`]).
    pub fn new(token: impl Into<String>) -> Self {
        Self(Arc::from(token.into()))
    }

    /// The secret itself. Use it only to build an `Authorization` header.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the token can be sent: not empty, no whitespace or control characters, printable
    /// ASCII, at most [`MAX_TOKEN_LEN`] characters.
    pub fn validate(&self) -> Result<(), TokenProblem> {
        let token = &*self.0;
        if token.trim().is_empty() {
            return Err(TokenProblem::Empty);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenProblem::TooLong);
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TokenProblem::Whitespace);
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenProblem::Unprintable);
        }
        Ok(())
    }

    /// The kind of token, from its prefix.
    pub fn kind(&self) -> TokenKind {
        let token = &*self.0;
        [
            ("ghp_", TokenKind::Classic),
            ("github_pat_", TokenKind::FineGrained),
            ("gho_", TokenKind::OAuth),
            ("ghu_", TokenKind::UserToServer),
            ("ghs_", TokenKind::Installation),
        ]
        .into_iter()
        .find_map(|(prefix, kind)| token.starts_with(prefix).then_some(kind))
        .unwrap_or(TokenKind::Unknown)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl From<&str> for Token {
    fn from(token: &str) -> Self {
        Self::new(token)
    }
}

impl From<String> for Token {
    fn from(token: String) -> Self {
        Self::new(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_blank_multiline_unprintable_and_huge_tokens_are_refused() {
        let cases = [
            ("", TokenProblem::Empty),
            ("   ", TokenProblem::Empty),
            ("ghp_abc\r\nX-Evil: 1", TokenProblem::Whitespace),
            ("ghp_abc\n", TokenProblem::Whitespace),
            ("ghp_ab c", TokenProblem::Whitespace),
            ("ghp_abcé", TokenProblem::Unprintable),
        ];
        for (token, problem) in cases {
            assert_eq!(Token::new(token).validate(), Err(problem), "{token:?}");
        }
        let huge = "a".repeat(10 * 1024);
        assert_eq!(Token::new(huge).validate(), Err(TokenProblem::TooLong));
        assert_eq!(Token::new("ghp_0123456789abcdef").validate(), Ok(()));
    }

    #[test]
    fn kinds_come_from_githubs_prefixes() {
        assert_eq!(Token::new("ghp_x").kind(), TokenKind::Classic);
        assert_eq!(Token::new("github_pat_x").kind(), TokenKind::FineGrained);
        assert_eq!(Token::new("ghs_x").kind(), TokenKind::Installation);
        assert_eq!(Token::new("0123abcd").kind(), TokenKind::Unknown);
        assert!(!TokenKind::Installation.has_classic_scopes());
        assert!(TokenKind::Classic.has_classic_scopes());
    }
}
