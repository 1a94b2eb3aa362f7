//! The one error type. Every [`Error`] has a stable [`kind`](Error::kind) for programs (the
//! CLI's `--json` prints it), the HTTP [`status`](Error::status) GitHub answered with, and a
//! [`hint`](Error::hint) that says what to do next; its `Display` is the summary followed by the
//! hint.
//!
//! No message, `Debug` output or log line contains the token: responses never echo it, and URLs in
//! transport errors have their `token` query parameter (the restore token) redacted.
//!
//! [`mapping`] turns what the generated client reports into an `Error`.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ghpkg_api::{TokenKind, TokenProblem};

use crate::operation::Operation;
use crate::scopes::how_to_fix;

pub(crate) mod kind;
pub(crate) mod mapping;

pub use kind::ErrorKind;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// An organization's login.
    Organization,
    /// A user's login.
    User,
    /// A package's name.
    Package,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Organization => "organization name",
            NameKind::User => "user name",
            NameKind::Package => "package name",
        })
    }
}

/// `name` as it may appear in a message: escaped, and cut to 80 characters.
pub(crate) fn shown(name: &str) -> String {
    let escaped = format!("{name:?}");
    match escaped.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…\"", &escaped[..cut]),
        None => escaped,
    }
}

/// Why GitHub refused to delete or restore something that exists.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The version is the package's last tagged version; delete the package instead.
    LastTaggedVersion,
    /// The version is the package's last version; delete the package instead.
    LastVersion,
    /// The package is public and a version has more than 5,000 downloads; only GitHub support
    /// can delete it.
    TooManyDownloads,
    /// Another refusal, with GitHub's message.
    Other(String),
}

impl RefusalReason {
    /// Recognises GitHub's refusal messages.
    pub fn from_message(message: &str) -> Self {
        let lower = message.to_ascii_lowercase();
        if lower.contains("last tagged version") {
            RefusalReason::LastTaggedVersion
        } else if lower.contains("last version") {
            RefusalReason::LastVersion
        } else if lower.contains("5000 downloads")
            || lower.contains("5,000 downloads")
            || lower.contains("downloads cannot be deleted")
        {
            RefusalReason::TooManyDownloads
        } else {
            RefusalReason::Other(message.to_string())
        }
    }

    /// A stable name for programs (`last-tagged-version`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            RefusalReason::LastTaggedVersion => "last-tagged-version",
            RefusalReason::LastVersion => "last-version",
            RefusalReason::TooManyDownloads => "too-many-downloads",
            RefusalReason::Other(_) => "other",
        }
    }

    /// What the user can do about it.
    fn advice(&self) -> &'static str {
        match self {
            RefusalReason::LastTaggedVersion | RefusalReason::LastVersion => {
                "To remove it, delete the whole package instead (PackageHandle::delete)."
            }
            RefusalReason::TooManyDownloads => {
                "Only GitHub support can delete it: https://support.github.com/contact"
            }
            RefusalReason::Other(_) => {
                "Check the package's state on GitHub; the request will keep failing until that changes."
            }
        }
    }
}

/// Which of GitHub's rate limits stopped a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitKind {
    /// The hourly request budget (`x-ratelimit-remaining: 0`).
    Primary,
    /// A secondary limit: too many requests at once or too many points per minute.
    Secondary,
}

/// Everything that can go wrong. Every error has a stable [`kind`](Error::kind) for programs,
/// the HTTP [`status`](Error::status) GitHub answered with, and a [`hint`](Error::hint) that
/// says what to do next; `Display` is the summary followed by the hint. No message contains the
/// token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// GitHub did not accept the credentials (`401`): no token, or a bad or expired one.
    Unauthorized {
        /// The operation.
        operation: Operation,
        /// GitHub's message.
        message: String,
        /// The kind of token sent, if any.
        token: Option<TokenKind>,
    },
    /// The token lacks classic scopes the operation needs (`403`, or a pre-flight check).
    MissingScopes {
        /// The operation.
        operation: Operation,
        /// The status GitHub answered with (`403`); `None` when ghpkg's pre-flight check found
        /// the scopes missing and did not send the request.
        status: Option<u16>,
        /// The scopes the operation needs.
        required: Vec<String>,
        /// The scopes the token has, from `X-OAuth-Scopes`.
        granted: Vec<String>,
    },
    /// The token's account may not do this (`403`), such as deleting an organization's package
    /// without admin rights, or a token kind the Packages API does not accept.
    Forbidden {
        /// The operation.
        operation: Operation,
        /// GitHub's message.
        message: String,
        /// The kind of token sent, if any.
        token: Option<TokenKind>,
    },
    /// The owner, package or version does not exist, or the token's account may not see it:
    /// GitHub answers `404` for both.
    NotFound {
        /// The operation.
        operation: Operation,
        /// GitHub's message, or ghpkg's when it checked what is missing.
        message: String,
        /// The kind of token sent, if any.
        token: Option<TokenKind>,
    },
    /// GitHub refused a request about something that exists (`400`, `409` or `422`).
    Refused {
        /// The operation.
        operation: Operation,
        /// The status GitHub answered with.
        status: u16,
        /// Why, as far as ghpkg recognises it.
        reason: RefusalReason,
        /// GitHub's message.
        message: String,
    },
    /// A rate limit stopped the request, and pacing did not (or may not) wait it out.
    RateLimited {
        /// The operation.
        operation: Operation,
        /// Which limit.
        kind: RateLimitKind,
        /// How long to wait before trying again, when known.
        retry_after: Option<Duration>,
        /// When the primary budget returns, when known.
        reset: Option<DateTime<Utc>>,
        /// The status GitHub answered with; `None` when ghpkg did not send the request because
        /// the budget is spent for longer than it may wait.
        status: Option<u16>,
        /// GitHub's message, or ghpkg's.
        message: String,
    },
    /// The request was not sent because its input is invalid.
    InvalidInput {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An owner or package name breaks the name rules (see [`crate::names`]); nothing was sent.
    InvalidName {
        /// Which name.
        kind: NameKind,
        /// The name as given.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The token cannot be sent; the client was not built.
    InvalidToken {
        /// What is wrong with it.
        problem: TokenProblem,
    },
    /// Any other error status, with GitHub's message or the start of a non-JSON body.
    Http {
        /// The operation.
        operation: Operation,
        /// The status code.
        status: u16,
        /// GitHub's message, or the start of the body.
        message: String,
    },
    /// The request or response did not make it across the network (after pacing's retries).
    Transport {
        /// The operation, if the failure happened during one.
        operation: Option<Operation>,
        /// Whether the request may have been applied: a `POST` whose answer was lost is never
        /// sent again.
        outcome_unknown: bool,
        /// What reqwest reported (its URL has the restore token redacted). The error's
        /// message already includes it and its causes, so it is not also the error's
        /// `source()`: a chain printed cause by cause says each thing once.
        cause: reqwest::Error,
    },
    /// GitHub's answer arrived whole but does not match the model.
    Decode {
        /// The operation.
        operation: Operation,
        /// What went wrong.
        message: String,
    },
    /// The `Link` headers of a listing loop or cannot be followed.
    Pagination {
        /// The operation.
        operation: Operation,
        /// What went wrong.
        message: String,
    },
    /// The server redirected to another origin, or redirected a request that is not a `GET`.
    Redirected {
        /// The operation.
        operation: Operation,
        /// The redirect's status.
        status: u16,
        /// Where it pointed (the `Location` header).
        location: String,
    },
    /// The answer's body is larger than [`Pacing::max_body_bytes`](crate::Pacing::max_body_bytes).
    TooLarge {
        /// The operation.
        operation: Operation,
        /// The limit, in bytes.
        limit: usize,
    },
}

impl Error {
    /// An [`Error::InvalidInput`] with `message`.
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// An [`Error::InvalidName`].
    pub(crate) fn invalid_name(kind: NameKind, name: &str, problem: String) -> Self {
        Error::InvalidName {
            kind,
            name: name.to_string(),
            problem,
        }
    }

    /// The stable kind, for programs.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::MissingScopes { .. } => ErrorKind::MissingScopes,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Refused { .. } => ErrorKind::Refused,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::InvalidName { .. } => ErrorKind::InvalidName,
            Error::InvalidToken { .. } => ErrorKind::InvalidToken,
            Error::Http { .. } => ErrorKind::Http,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::Pagination { .. } => ErrorKind::Pagination,
            Error::Redirected { .. } => ErrorKind::Redirected,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
        }
    }

    /// The operation that failed, unless the error happened before one started.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::Unauthorized { operation, .. }
            | Error::MissingScopes { operation, .. }
            | Error::Forbidden { operation, .. }
            | Error::NotFound { operation, .. }
            | Error::Refused { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::Http { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Pagination { operation, .. }
            | Error::Redirected { operation, .. }
            | Error::TooLarge { operation, .. } => Some(*operation),
            Error::Transport { operation, .. } => *operation,
            Error::InvalidInput { .. } | Error::InvalidName { .. } | Error::InvalidToken { .. } => {
                None
            }
        }
    }

    /// The HTTP status GitHub answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::MissingScopes { status, .. } | Error::RateLimited { status, .. } => *status,
            Error::NotFound { .. } => Some(404),
            Error::Refused { status, .. }
            | Error::Http { status, .. }
            | Error::Redirected { status, .. } => Some(*status),
            Error::Transport { cause, .. } => cause.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether the same request may succeed later without any change: rate limits, server
    /// errors and network failures. ghpkg's pacing has already retried these as far as
    /// [`crate::Pacing`] allows.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } => true,
            Error::Transport {
                outcome_unknown, ..
            } => !outcome_unknown,
            Error::Http { status, .. } => crate::classify::is_transient_status(*status),
            _ => false,
        }
    }

    /// Whether this is a [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// How long to wait before retrying, when GitHub said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What happened, in one sentence.
    pub fn summary(&self) -> String {
        match self {
            Error::Unauthorized {
                operation, message, ..
            } => format!("{operation}: GitHub did not accept the credentials (401 {message:?})"),
            Error::MissingScopes {
                operation,
                required,
                granted,
                ..
            } => {
                let has = if granted.is_empty() {
                    "no classic scopes".to_string()
                } else {
                    granted.join(", ")
                };
                format!(
                    "{operation} needs token scopes {}; the token has {has}",
                    required.join(", ")
                )
            }
            Error::Forbidden {
                operation, message, ..
            } => {
                format!("{operation}: GitHub refused access (403 {message:?})")
            }
            Error::NotFound {
                operation, message, ..
            } => {
                format!("{operation}: not found (404 {message:?})")
            }
            Error::Refused {
                operation,
                status,
                message,
                ..
            } => format!("{operation}: GitHub refused ({status}): {message}"),
            Error::RateLimited {
                operation,
                kind: RateLimitKind::Primary,
                reset,
                status,
                ..
            } => {
                let when = match reset {
                    Some(reset) => format!(
                        " until {} (in {}s)",
                        reset.to_rfc3339(),
                        (*reset - Utc::now()).num_seconds().max(0)
                    ),
                    None => String::new(),
                };
                let sent = if status.is_none() {
                    " (ghpkg did not send the request)"
                } else {
                    ""
                };
                format!("{operation}: GitHub's primary rate limit is spent{when}{sent}")
            }
            Error::RateLimited {
                operation,
                kind: RateLimitKind::Secondary,
                retry_after,
                message,
                ..
            } => {
                let wait = match retry_after {
                    Some(wait) => format!("; GitHub asks to wait {}s", wait.as_secs().max(1)),
                    None => String::new(),
                };
                format!(
                    "{operation}: GitHub's secondary rate limit stopped the request ({message:?}){wait}"
                )
            }
            Error::InvalidInput { message } => format!("invalid input: {message}"),
            Error::InvalidName {
                kind,
                name,
                problem,
            } => format!("invalid {kind} {}: it {problem}", shown(name)),
            Error::InvalidToken { problem } => format!("invalid token: {problem}"),
            Error::Http {
                operation,
                status,
                message,
            } => format!("{operation}: GitHub answered {status} {message:?}"),
            Error::Transport {
                operation, cause, ..
            } => {
                let what = operation.map_or("request", Operation::description);
                match crate::classify::certificate_problem(cause) {
                    Some(problem) => format!(
                        "{what}: the server's TLS certificate is not trusted: {problem} ({})",
                        chain(cause)
                    ),
                    None => format!("{what}: could not talk to GitHub ({})", chain(cause)),
                }
            }
            Error::Decode { operation, message } => {
                format!("{operation}: GitHub's answer does not match the API's model ({message})")
            }
            Error::Pagination { operation, message } => {
                format!("{operation}: the listing's pages cannot be followed: {message}")
            }
            Error::Redirected {
                operation,
                status,
                location,
            } => format!("{operation}: the server redirected ({status}) to {location:?}"),
            Error::TooLarge { operation, limit } => {
                format!("{operation}: the answer is larger than {limit} bytes")
            }
        }
    }

    /// What to do next.
    pub fn hint(&self) -> String {
        match self {
            Error::Unauthorized { token: None, .. } => {
                "Set GH_TOKEN or GITHUB_TOKEN (or pass a token to the client builder) to a \
                 personal access token (classic) with read:packages; `gh auth token` prints the \
                 one gh uses."
                    .into()
            }
            Error::Unauthorized { .. } => {
                "The token may be expired or revoked: create a new personal access token \
                 (classic) with read:packages at https://github.com/settings/tokens, or run \
                 `gh auth token` for the one gh uses."
                    .into()
            }
            Error::MissingScopes {
                required, granted, ..
            } => how_to_fix(required, granted),
            // An extension's operation (from another fragment): the Packages advice below is
            // not about it.
            Error::NotFound { operation, .. } if operation.action().is_none() => format!(
                "Check the parameters of {} against GitHub's documentation{}. GitHub also \
                 answers 404 when the token's account may not see the resource, so check its \
                 access too.",
                operation.id(),
                match operation.spec().docs_url {
                    "" => String::new(),
                    url => format!(" ({url})"),
                }
            ),
            Error::Forbidden {
                token: Some(TokenKind::FineGrained),
                ..
            }
            | Error::NotFound {
                token: Some(TokenKind::FineGrained),
                ..
            } => "GitHub Packages' REST API does not accept fine-grained personal access tokens \
                  for most registries; use a personal access token (classic) with \
                  read:packages (and delete:packages to delete, write:packages to restore)."
                .into(),
            Error::Forbidden {
                token: Some(TokenKind::Installation),
                ..
            }
            | Error::NotFound {
                token: Some(TokenKind::Installation),
                ..
            } => "An installation token such as GitHub Actions' GITHUB_TOKEN reaches only \
                  packages that grant its repository access: give the job `permissions: \
                  packages: write` (deleting also needs the Admin role for the repository in the \
                  package's settings), or use a personal access token (classic)."
                .into(),
            Error::Forbidden { operation, .. } => {
                if operation.is_write() {
                    "The token has the scopes, but its account lacks permission: deleting or \
                     restoring an organization's package needs admin rights in the organization \
                     or on the package; ask an owner to grant them."
                        .into()
                } else {
                    "The token has the scopes, but its account lacks permission: ask the \
                     package's owner for read access."
                        .into()
                }
            }
            Error::NotFound { .. } => "Check the owner, package type, package name and version \
                 id. GitHub also answers 404 when the token's account may not see the package, \
                 so check its access too."
                .into(),
            Error::Refused { reason, .. } => reason.advice().into(),
            Error::RateLimited {
                kind: RateLimitKind::Primary,
                ..
            } => "Wait until the reset, or raise Pacing::max_wait (or keep \
                  Pacing::wait_for_primary_reset on) so that ghpkg waits for you."
                .into(),
            Error::RateLimited { .. } => "Wait before retrying, and send fewer requests at once \
                 (lower Pacing::max_concurrency or Pacing::points_per_minute); raise \
                 Pacing::max_wait to let ghpkg wait longer."
                .into(),
            Error::InvalidInput { .. } => {
                "Nothing was sent; correct the input and try again.".into()
            }
            Error::InvalidName { .. } => "Nothing was sent; check the spelling (see the name \
                 rules in ghpkg's `names` module)."
                .into(),
            Error::InvalidToken { .. } => "Fix the token in GH_TOKEN or GITHUB_TOKEN (or the \
                 one given to the client builder); `gh auth token` prints a valid one."
                .into(),
            Error::Http { status, .. } if crate::classify::is_transient_status(*status) => {
                "GitHub had a server problem and \
                 ghpkg's retries ran out; try again later (https://www.githubstatus.com shows \
                 incidents)."
                    .into()
            }
            Error::Http { .. } => {
                "Check the request's parameters against GitHub's documentation.".into()
            }
            Error::Transport {
                outcome_unknown: true,
                ..
            } => "The request may have been applied: check the resource's state before sending \
                  it again."
                .into(),
            Error::Transport { cause, .. }
                if crate::classify::certificate_problem(cause).is_some() =>
            {
                UNTRUSTED_CERTIFICATE_ADVICE.into()
            }
            Error::Transport { .. } => "Check the network, any proxy and the base URL; ghpkg \
                 already retried as its pacing allows."
                .into(),
            Error::Decode { .. } => "If this persists the API may have changed; please report \
                 it with this message."
                .into(),
            Error::Pagination { .. } => "The server's Link headers are not usable; list again \
                 later, or page with .page(n) by hand."
                .into(),
            Error::Redirected { .. } => "ghpkg follows redirects only for reads on the same \
                 origin, and never re-sends a DELETE or POST elsewhere; check the base URL or \
                 Enterprise Server host."
                .into(),
            Error::TooLarge { .. } => "Nothing this large is expected from the Packages API; \
                 check the base URL, or raise Pacing::max_body_bytes."
                .into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summary = self.summary();
        let stop = if summary.ends_with(['.', '!', '?', '…']) {
            ""
        } else {
            "."
        };
        write!(f, "ghpkg: {summary}{stop} {}", self.hint())
    }
}

/// `error` and its causes, each once: `error sending request: connection refused`.
/// What to do about a server certificate that is not trusted (the API's or the registry's).
pub(crate) const UNTRUSTED_CERTIFICATE_ADVICE: &str = "Check that the host is the one meant; \
     if it uses a private CA, add that CA to the system's trust store. Only for a test server \
     you trust, accept any certificate with ClientBuilder::danger_accept_invalid_certs.";

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let next_text = next.to_string();
        if !text.contains(&next_text) {
            text.push_str(": ");
            text.push_str(&next_text);
        }
        cause = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_clients_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_send_sync::<crate::Client>();
        assert_send_sync::<crate::PackageHandle>();
    }

    #[test]
    fn error_kinds_are_distinct_stable_names() {
        let names: std::collections::HashSet<_> =
            ErrorKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        assert_eq!(ErrorKind::NotFound.as_str(), "not-found");
    }

    #[test]
    fn refusals_report_the_status_github_sent() {
        for status in [400, 409, 422] {
            let error = Error::Refused {
                operation: Operation::from(
                    ghpkg_api::operations::Action::DeleteVersion
                        .spec(ghpkg_api::operations::OwnerFamily::Org),
                ),
                status,
                reason: RefusalReason::Other("x".into()),
                message: "x".into(),
            };
            assert_eq!(error.status(), Some(status));
            assert_eq!(error.kind(), ErrorKind::Refused);
        }
    }

    #[test]
    fn hints_name_only_things_that_exist() {
        let error = Error::Refused {
            operation: Operation::from(
                ghpkg_api::operations::Action::DeleteVersion
                    .spec(ghpkg_api::operations::OwnerFamily::Org),
            ),
            status: 400,
            reason: RefusalReason::LastTaggedVersion,
            message: "You cannot delete the last tagged version of a package.".into(),
        };
        assert!(!error.hint().contains("ghpkg delete"), "{error}");
        assert!(error.hint().contains("PackageHandle::delete"), "{error}");
    }

    fn delete_version() -> Operation {
        Operation::from(
            ghpkg_api::operations::Action::DeleteVersion
                .spec(ghpkg_api::operations::OwnerFamily::Org),
        )
    }

    #[test]
    fn githubs_own_full_stop_is_not_doubled() {
        let error = Error::Refused {
            operation: delete_version(),
            status: 400,
            reason: RefusalReason::LastTaggedVersion,
            message: "You cannot delete the last tagged version of a package.".into(),
        };
        let text = error.to_string();
        assert!(!text.contains(".."), "{text}");
        assert!(text.contains("package. To remove it"), "{text}");
        let error = Error::Http {
            operation: delete_version(),
            status: 418,
            message: "teapot".into(),
        };
        assert!(error.to_string().contains("\"teapot\". Check"), "{error}");
    }

    #[test]
    fn retryable_errors_are_what_the_classifier_calls_transient() {
        for status in 400..600 {
            let error = Error::Http {
                operation: delete_version(),
                status,
                message: String::new(),
            };
            let verdict = crate::classify::classify_answer(
                reqwest::StatusCode::from_u16(status).unwrap(),
                &reqwest::header::HeaderMap::new(),
                "",
            );
            assert_eq!(
                error.is_retryable(),
                verdict == crate::classify::Verdict::Transient,
                "{status}"
            );
        }
    }

    #[tokio::test]
    async fn a_transport_error_says_its_cause_once_in_a_chain() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let cause = reqwest::get(format!("http://{address}/"))
            .await
            .unwrap_err();
        let innermost = {
            let mut source: &dyn std::error::Error = &cause;
            while let Some(next) = source.source() {
                source = next;
            }
            source.to_string()
        };
        let error = Error::Transport {
            operation: Some(delete_version()),
            outcome_unknown: false,
            cause,
        };
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(next) = source {
            chain.push_str(&next.to_string());
            source = next.source();
        }
        assert_eq!(
            chain.matches(&innermost).count(),
            1,
            "{innermost:?} in {chain}"
        );
    }

    #[test]
    fn fine_grained_tokens_get_the_packages_api_advice() {
        let error = Error::Forbidden {
            operation: Operation::from(
                ghpkg_api::operations::Action::ListPackages
                    .spec(ghpkg_api::operations::OwnerFamily::Org),
            ),
            message: "Resource not accessible by personal access token".into(),
            token: Some(TokenKind::FineGrained),
        };
        assert!(error.hint().contains("(classic)"), "{error}");
    }
}
