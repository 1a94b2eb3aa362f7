//! The one error type, and the one function that turns what the generated client reports into
//! it ([`from_api`]).
//!
//! Every message says what failed, why, and what to do next. No message, `Debug` output or log
//! line contains the token: responses never echo it, and URLs in transport errors have their
//! `token` query parameter (the restore token) redacted.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ghpkg_api::types::BasicError;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::token_scopes::{
    Operation, X_ACCEPTED_OAUTH_SCOPES, X_OAUTH_SCOPES, how_to_fix, missing_scopes,
    scopes_in_header,
};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

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

    /// What the user can do about it.
    fn advice(&self) -> &'static str {
        match self {
            RefusalReason::LastTaggedVersion | RefusalReason::LastVersion => {
                "To remove it, delete the whole package (PackageHandle::delete, or `ghpkg delete` on the package)."
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

/// Everything that can go wrong, each with what to do next in its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// GitHub did not accept the credentials (`401`): no token, or a bad or expired one.
    Unauthorized {
        /// The operation.
        operation: Operation,
        /// GitHub's message.
        message: String,
    },
    /// The token lacks classic scopes the operation needs (`403`, or a pre-flight check).
    MissingScopes {
        /// The operation.
        operation: Operation,
        /// The scopes the operation needs.
        required: Vec<String>,
        /// The scopes the token has, from `X-OAuth-Scopes`.
        granted: Vec<String>,
    },
    /// The token has the scopes but its account may not do this (`403`), such as deleting an
    /// organization's package without admin rights.
    Forbidden {
        /// The operation.
        operation: Operation,
        /// GitHub's message.
        message: String,
    },
    /// The owner, package or version does not exist, or the token's account may not see it:
    /// GitHub answers `404` for both.
    NotFound {
        /// The operation.
        operation: Operation,
        /// GitHub's message.
        message: String,
    },
    /// GitHub refused to delete or restore something that exists (`400`).
    Refused {
        /// The operation.
        operation: Operation,
        /// Why, as far as ghpkg recognises it.
        reason: RefusalReason,
        /// GitHub's message.
        message: String,
    },
    /// A rate limit stopped the request, and pacing did not (or was told not to) wait it out.
    RateLimited {
        /// The operation.
        operation: Operation,
        /// Which limit.
        kind: RateLimitKind,
        /// How long to wait before trying again, when known.
        retry_after: Option<Duration>,
        /// When the primary budget resets, when known.
        reset: Option<DateTime<Utc>>,
        /// GitHub's message.
        message: String,
    },
    /// The request was not sent because its input is invalid.
    InvalidInput {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Any other error status from GitHub.
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
        /// What reqwest reported (its URL has the restore token redacted).
        #[source]
        source: reqwest::Error,
    },
    /// GitHub answered, but the answer could not be decoded.
    Decode {
        /// The operation.
        operation: Operation,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// An [`Error::InvalidInput`] with `message`.
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
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
            | Error::Decode { operation, .. } => Some(*operation),
            Error::Transport { operation, .. } => *operation,
            Error::InvalidInput { .. } => None,
        }
    }

    /// The HTTP status GitHub answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::Refused { .. } => Some(400),
            Error::Http { status, .. } => Some(*status),
            Error::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether the same request may succeed later without any change: rate limits, server
    /// errors and network failures. ghpkg's pacing has already retried these as far as
    /// [`crate::Pacing`] allows.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Transport { .. } => true,
            Error::Http { status, .. } => *status >= 500 || *status == 408,
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unauthorized { operation, message } => write!(
                f,
                "ghpkg: {operation}: GitHub did not accept the credentials (401 {message:?}). \
                 Set GH_TOKEN or GITHUB_TOKEN (or pass a token to the client builder) to a valid \
                 personal access token (classic) with read:packages; `gh auth token` prints the one gh uses."
            ),
            Error::MissingScopes {
                operation,
                required,
                granted,
            } => {
                let has = if granted.is_empty() {
                    "no classic scopes".to_string()
                } else {
                    granted.join(", ")
                };
                write!(
                    f,
                    "ghpkg: {operation} needs token scopes {}; the token has {has}. {}",
                    required.join(", "),
                    how_to_fix(required, granted)
                )
            }
            Error::Forbidden { operation, message } => {
                let who = if operation.is_write() {
                    "deleting or restoring an organization's package needs admin rights in the \
                     organization or on the package; ask an owner to grant them"
                } else {
                    "ask the package's owner for read access"
                };
                write!(
                    f,
                    "ghpkg: {operation}: GitHub refused access (403 {message:?}). The token has the \
                     scopes, but its account lacks permission: {who}."
                )
            }
            Error::NotFound { operation, message } => write!(
                f,
                "ghpkg: {operation}: not found (404 {message:?}). Check the owner, package type, \
                 package name and version id. GitHub also answers 404 when the token's account \
                 may not see the package, so check its access too."
            ),
            Error::Refused {
                operation,
                reason,
                message,
            } => write!(
                f,
                "ghpkg: {operation}: GitHub refused: {message} {}",
                reason.advice()
            ),
            Error::RateLimited {
                operation,
                kind: RateLimitKind::Primary,
                reset,
                ..
            } => {
                let when = match reset {
                    Some(reset) => format!(
                        "; it resets at {} (in {}s)",
                        reset.to_rfc3339(),
                        (*reset - Utc::now()).num_seconds().max(0)
                    ),
                    None => String::new(),
                };
                write!(
                    f,
                    "ghpkg: {operation}: GitHub's primary rate limit is spent{when}. Wait until \
                     then, or keep Pacing::wait_for_primary_reset on so that ghpkg waits for you."
                )
            }
            Error::RateLimited {
                operation,
                kind: RateLimitKind::Secondary,
                retry_after,
                message,
                ..
            } => {
                let wait = match retry_after {
                    Some(wait) => format!("{}s", wait.as_secs().max(1)),
                    None => "at least a minute".to_string(),
                };
                write!(
                    f,
                    "ghpkg: {operation}: GitHub's secondary rate limit stopped the request \
                     ({message:?}). Wait {wait} before retrying, and send fewer requests at once \
                     (lower Pacing::max_concurrency or Pacing::points_per_minute)."
                )
            }
            Error::InvalidInput { message } => write!(f, "ghpkg: invalid input: {message}"),
            Error::Http {
                operation,
                status,
                message,
            } => {
                let next = if *status >= 500 {
                    "GitHub had a server problem and ghpkg's retries ran out; try again later \
                     (https://www.githubstatus.com shows incidents)."
                } else {
                    "Check the request's parameters against GitHub's documentation."
                };
                write!(
                    f,
                    "ghpkg: {operation}: GitHub answered {status} {message:?}. {next}"
                )
            }
            Error::Transport { operation, source } => {
                let what = operation.map_or("request", Operation::description);
                write!(
                    f,
                    "ghpkg: {what}: could not talk to GitHub ({source}). Check the network, any \
                     proxy and the base URL; ghpkg already retried as its pacing allows."
                )
            }
            Error::Decode { operation, message } => write!(
                f,
                "ghpkg: {operation}: GitHub's answer could not be decoded ({message}). If this \
                 persists the API may have changed; please report it with this message."
            ),
        }
    }
}

/// Turns what the generated client reports for `operation` into an [`Error`]: the one place that
/// maps responses to errors. `granted_fallback` is the token's scopes as last seen, used when a
/// response says a scope is missing but carries no `X-OAuth-Scopes`.
pub(crate) async fn from_api<E: ErrorBody>(
    operation: Operation,
    error: ghpkg_api::Error<E>,
    granted_fallback: Option<Vec<String>>,
) -> Error {
    use ghpkg_api::Error as Api;
    match error {
        Api::ErrorResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let message = response.into_inner().into_message();
            classify(operation, status, &headers, message, granted_fallback)
        }
        Api::UnexpectedResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(source) => {
                    return Error::Transport {
                        operation: Some(operation),
                        source: redact(source),
                    };
                }
            };
            if status.is_success() {
                return Error::Decode {
                    operation,
                    message: format!("unexpected status {status}"),
                };
            }
            let message = message_of(&body);
            classify(operation, status, &headers, message, granted_fallback)
        }
        Api::CommunicationError(source)
        | Api::InvalidUpgrade(source)
        | Api::ResponseBodyError(source) => Error::Transport {
            operation: Some(operation),
            source: redact(source),
        },
        Api::InvalidResponsePayload(_, source) => Error::Decode {
            operation,
            message: source.to_string(),
        },
        Api::InvalidRequest(message) => Error::invalid_input(message),
        Api::Custom(message) => Error::Decode { operation, message },
    }
}

/// The decoded body of a documented error response.
pub(crate) trait ErrorBody {
    /// GitHub's message, or an empty string.
    fn into_message(self) -> String;
}

impl ErrorBody for BasicError {
    fn into_message(self) -> String {
        self.message.unwrap_or_default()
    }
}

impl ErrorBody for () {
    fn into_message(self) -> String {
        String::new()
    }
}

/// GitHub's `message` from a JSON error body, or the start of the body as text.
fn message_of(body: &[u8]) -> String {
    if let Ok(error) = serde_json::from_slice::<BasicError>(body)
        && let Some(message) = error.message
    {
        return message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Classifies an error status with its headers and message.
pub(crate) fn classify(
    operation: Operation,
    status: StatusCode,
    headers: &HeaderMap,
    message: String,
    granted_fallback: Option<Vec<String>>,
) -> Error {
    if let Some(limited) = rate_limit(operation, status, headers, &message) {
        return limited;
    }
    match status.as_u16() {
        401 => Error::Unauthorized { operation, message },
        403 => {
            let granted = scopes_in_header(headers, X_OAUTH_SCOPES);
            let mentions_scope = message.to_ascii_lowercase().contains("scope");
            let required: Vec<String> = operation
                .required_scopes()
                .iter()
                .map(|s| s.to_string())
                .collect();
            let lacks_required = granted.as_ref().is_some_and(|granted| {
                !missing_scopes(operation.required_scopes(), granted).is_empty()
            });
            let accepted_unmet =
                match (&granted, scopes_in_header(headers, X_ACCEPTED_OAUTH_SCOPES)) {
                    (Some(granted), Some(accepted)) if !accepted.is_empty() => {
                        let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
                        missing_scopes(&accepted, granted).len() == accepted.len()
                    }
                    _ => false,
                };
            if lacks_required || accepted_unmet || mentions_scope {
                Error::MissingScopes {
                    operation,
                    required,
                    granted: granted.or(granted_fallback).unwrap_or_default(),
                }
            } else {
                Error::Forbidden { operation, message }
            }
        }
        404 => Error::NotFound { operation, message },
        400 | 409 | 422 => {
            let reason = RefusalReason::from_message(&message);
            if operation.is_write() || !matches!(reason, RefusalReason::Other(_)) {
                Error::Refused {
                    operation,
                    reason,
                    message,
                }
            } else {
                Error::Http {
                    operation,
                    status: status.as_u16(),
                    message,
                }
            }
        }
        _ => Error::Http {
            operation,
            status: status.as_u16(),
            message,
        },
    }
}

/// A rate-limit error, if the response is one: `429`, or `403` with `x-ratelimit-remaining: 0`
/// (primary), a "secondary rate limit" message or a `Retry-After` header (secondary).
fn rate_limit(
    operation: Operation,
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
) -> Option<Error> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::FORBIDDEN {
        return None;
    }
    let remaining = header_u64(headers, "x-ratelimit-remaining");
    let reset = header_u64(headers, "x-ratelimit-reset")
        .and_then(|epoch| DateTime::<Utc>::from_timestamp(i64::try_from(epoch).ok()?, 0));
    let retry_after = retry_after(headers);
    let secondary_message = message
        .to_ascii_lowercase()
        .contains("secondary rate limit");
    let kind = if remaining == Some(0) && !secondary_message {
        RateLimitKind::Primary
    } else if status == StatusCode::TOO_MANY_REQUESTS || secondary_message || retry_after.is_some()
    {
        RateLimitKind::Secondary
    } else {
        return None;
    };
    let retry_after = retry_after.or_else(|| {
        let reset = reset?;
        (kind == RateLimitKind::Primary).then(|| (reset - Utc::now()).to_std().unwrap_or_default())
    });
    Some(Error::RateLimited {
        operation,
        kind,
        retry_after,
        reset,
        message: message.to_string(),
    })
}

/// A header parsed as an unsigned number.
fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
}

/// Replaces the value of a `token` query parameter (the restore token) in the error's URL.
pub(crate) fn redact(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut()
        && url.query_pairs().any(|(name, _)| name == "token")
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if name == "token" {
                    "<redacted>".to_string()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn classify_with(
        operation: Operation,
        status: u16,
        pairs: &[(&'static str, &str)],
        message: &str,
    ) -> Error {
        classify(
            operation,
            StatusCode::from_u16(status).unwrap(),
            &headers(pairs),
            message.to_string(),
            None,
        )
    }

    #[test]
    fn errors_and_clients_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_send_sync::<crate::Client>();
        assert_send_sync::<crate::PackageHandle>();
    }

    #[test]
    fn status_401_is_unauthorized_and_says_where_tokens_come_from() {
        let error = classify_with(Operation::GetPackage, 401, &[], "Requires authentication");
        assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
        assert!(error.to_string().contains("GH_TOKEN"), "{error}");
    }

    #[test]
    fn a_403_with_scopes_that_do_not_cover_the_operation_is_missing_scopes() {
        let error = classify_with(
            Operation::DeleteVersion,
            403,
            &[
                ("x-oauth-scopes", "read:packages"),
                ("x-accepted-oauth-scopes", "delete:packages, read:packages"),
            ],
            "Forbidden",
        );
        let Error::MissingScopes {
            operation,
            required,
            granted,
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*operation, Operation::DeleteVersion);
        assert_eq!(required, &["read:packages", "delete:packages"]);
        assert_eq!(granted, &["read:packages"]);
        assert_eq!(
            error.to_string(),
            "ghpkg: delete package version needs token scopes read:packages, delete:packages; \
             the token has read:packages. Create a personal access token (classic) with the \
             missing scopes at https://github.com/settings/tokens/new?scopes=read:packages,delete:packages, \
             or run `gh auth refresh -s delete:packages`."
        );
    }

    #[test]
    fn a_403_whose_message_mentions_scopes_is_missing_scopes_even_without_headers() {
        let error = classify(
            Operation::RestorePackage,
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            "Resource not accessible: token is missing the write:packages scope".into(),
            Some(vec!["read:packages".into()]),
        );
        let Error::MissingScopes { granted, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(granted, &["read:packages"]);
        assert!(
            error
                .to_string()
                .contains("gh auth refresh -s write:packages")
        );
    }

    #[test]
    fn a_403_with_sufficient_scopes_is_forbidden() {
        let error = classify_with(
            Operation::DeletePackage,
            403,
            &[("x-oauth-scopes", "read:packages, delete:packages")],
            "You must be an admin",
        );
        assert!(matches!(error, Error::Forbidden { .. }), "{error:?}");
        assert!(error.to_string().contains("admin"), "{error}");
    }

    #[test]
    fn status_404_is_not_found_and_mentions_permissions() {
        let error = classify_with(Operation::GetVersion, 404, &[], "Package not found.");
        assert!(error.is_not_found());
        assert!(error.to_string().contains("also answers 404"), "{error}");
    }

    #[test]
    fn githubs_refusal_messages_become_refusal_reasons() {
        let cases = [
            (
                "You cannot delete the last tagged version of a package. You must delete the package instead.",
                RefusalReason::LastTaggedVersion,
            ),
            (
                "You cannot delete the last version of a package. You must delete the package instead.",
                RefusalReason::LastVersion,
            ),
            (
                "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.",
                RefusalReason::TooManyDownloads,
            ),
            (
                "Namespace is taken",
                RefusalReason::Other("Namespace is taken".into()),
            ),
        ];
        for (message, expected) in cases {
            let error = classify_with(Operation::DeleteVersion, 400, &[], message);
            let Error::Refused { reason, .. } = &error else {
                panic!("{error:?}")
            };
            assert_eq!(reason, &expected);
        }
    }

    #[test]
    fn a_400_on_a_read_is_an_http_error() {
        let error = classify_with(
            Operation::ListPackages,
            400,
            &[],
            "Pagination is limited to 10000 results",
        );
        assert!(
            matches!(error, Error::Http { status: 400, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_403_with_no_remaining_budget_is_the_primary_rate_limit() {
        let reset = Utc::now().timestamp() + 120;
        let error = classify_with(
            Operation::ListVersions,
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset.to_string()),
            ],
            "API rate limit exceeded for user ID 1.",
        );
        let Error::RateLimited {
            kind,
            reset: Some(at),
            retry_after: Some(wait),
            ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*kind, RateLimitKind::Primary);
        assert_eq!(at.timestamp(), reset);
        assert!(wait.as_secs() <= 120 && wait.as_secs() >= 100, "{wait:?}");
        assert!(error.is_retryable());
        assert!(
            error.to_string().contains("wait_for_primary_reset"),
            "{error}"
        );
    }

    #[test]
    fn secondary_limits_are_recognised_by_message_retry_after_or_429() {
        let by_message = classify_with(
            Operation::DeleteVersion,
            403,
            &[("x-ratelimit-remaining", "4000")],
            "You have exceeded a secondary rate limit. Please wait a few minutes.",
        );
        assert!(matches!(
            by_message,
            Error::RateLimited {
                kind: RateLimitKind::Secondary,
                ..
            }
        ));
        let by_header = classify_with(Operation::GetPackage, 403, &[("retry-after", "30")], "");
        assert_eq!(by_header.retry_after(), Some(Duration::from_secs(30)));
        let by_status = classify_with(Operation::GetPackage, 429, &[], "Too many requests");
        assert!(matches!(
            by_status,
            Error::RateLimited {
                kind: RateLimitKind::Secondary,
                ..
            }
        ));
        assert!(
            by_status.to_string().contains("max_concurrency"),
            "{by_status}"
        );
    }

    #[test]
    fn server_errors_are_retryable_http_errors() {
        let error = classify_with(Operation::GetPackage, 502, &[], "Bad gateway");
        assert!(matches!(error, Error::Http { status: 502, .. }));
        assert!(error.is_retryable());
        assert!(!classify_with(Operation::GetPackage, 404, &[], "").is_retryable());
    }

    #[test]
    fn non_json_bodies_still_give_a_message() {
        assert_eq!(
            message_of(br#"{"message":"Package not found."}"#),
            "Package not found."
        );
        assert_eq!(message_of(b"  upstream timeout \n"), "upstream timeout");
        let long = "x".repeat(500);
        assert_eq!(message_of(long.as_bytes()).chars().count(), 201);
    }

    #[tokio::test]
    async fn unexpected_responses_are_read_and_classified() {
        let response = http::Response::builder()
            .status(400)
            .body(r#"{"message":"You cannot delete the last version of a package. You must delete the package instead."}"#)
            .unwrap();
        let error = from_api(
            Operation::DeleteVersion,
            ghpkg_api::Error::<BasicError>::UnexpectedResponse(reqwest::Response::from(response)),
            None,
        )
        .await;
        assert!(
            matches!(
                error,
                Error::Refused {
                    reason: RefusalReason::LastVersion,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn documented_error_responses_keep_their_headers() {
        let mut map = HeaderMap::new();
        map.insert("x-oauth-scopes", HeaderValue::from_static(""));
        let body = BasicError {
            message: Some("Forbidden".into()),
            ..Default::default()
        };
        let error = from_api(
            Operation::ListPackages,
            ghpkg_api::Error::ErrorResponse(ghpkg_api::ResponseValue::new(
                body,
                StatusCode::FORBIDDEN,
                map,
            )),
            None,
        )
        .await;
        let Error::MissingScopes { granted, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(granted.is_empty());
        assert!(error.to_string().contains("no classic scopes"), "{error}");
    }
}
