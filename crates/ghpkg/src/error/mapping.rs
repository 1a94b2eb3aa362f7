//! The one mapping from what the generated client reports to an [`Error`]. Which answers are
//! rate limits, transient or permanent is the classifier's ([`crate::classify`]); this module adds
//! the operation's context (its scopes, the token's kind) and builds the error.

use ghpkg_api::{NotDelivered, TokenKind};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;

use super::{Error, ErrorKind, RateLimitKind, RefusalReason};
use crate::classify::{self, Verdict};
use crate::operation::Operation;
use crate::pacing::Undelivered;
use crate::scopes::{X_ACCEPTED_OAUTH_SCOPES, X_OAUTH_SCOPES, missing_scopes, scopes_in_header};

/// What the mapping knows besides the answer.
#[derive(Clone, Debug, Default)]
pub(crate) struct Context {
    /// The token's scopes as last seen, for a `403` that carries no `X-OAuth-Scopes`.
    pub granted: Option<Vec<String>>,
    /// The kind of token sent, if any.
    pub token: Option<TokenKind>,
}

/// Maps a generated-client error for `operation`. The documented error body `E` is any
/// generated type with GitHub's `message` field (`BasicError` in every fragment).
pub(crate) async fn from_api<E: Serialize>(
    operation: Operation,
    error: ghpkg_api::Error<E>,
    context: &Context,
) -> Error {
    use ghpkg_api::Error as Api;
    match error {
        Api::ErrorResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let message = serde_json::to_value(response.into_inner())
                .ok()
                .and_then(|body| body.get("message")?.as_str().map(classify::excerpt))
                .unwrap_or_default();
            from_answer(operation, status, &headers, message, context)
        }
        Api::UnexpectedResponse(response) => {
            if let Some(undelivered) = NotDelivered::of(&response) {
                return from_undelivered(operation, undelivered);
            }
            let status = response.status();
            let headers = response.headers().clone();
            // The pacer read this body whole and bounded; reading it again costs nothing.
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(source) => return transport(operation, source),
            };
            if status.is_success() {
                return Error::Decode {
                    operation,
                    message: format!("unexpected status {status}"),
                };
            }
            from_answer(
                operation,
                status,
                &headers,
                classify::message_of(&body),
                context,
            )
        }
        Api::CommunicationError(source)
        | Api::InvalidUpgrade(source)
        | Api::ResponseBodyError(source) => transport(operation, source),
        Api::InvalidResponsePayload(_, source) => Error::Decode {
            operation,
            message: source.to_string(),
        },
        Api::InvalidRequest(message) => Error::invalid_input(message),
        Api::Custom(message) => Error::Decode { operation, message },
    }
}

/// A transport failure; a `POST` whose connection broke after sending has an unknown outcome.
fn transport(operation: Operation, source: reqwest::Error) -> Error {
    Error::Transport {
        operation: Some(operation),
        outcome_unknown: !operation.is_repeatable() && !source.is_connect(),
        cause: crate::redact::redact(source),
    }
}

/// A failure the pacer reported instead of an answer.
fn from_undelivered(operation: Operation, undelivered: &NotDelivered) -> Error {
    match undelivered.error().downcast_ref::<Undelivered>() {
        Some(Undelivered::PrimarySpent { reset }) => Error::RateLimited {
            operation,
            kind: RateLimitKind::Primary,
            retry_after: (*reset - chrono::Utc::now()).to_std().ok(),
            reset: Some(*reset),
            status: None,
            message: "not sent: the primary budget is spent".into(),
        },
        Some(Undelivered::Redirected { status, location }) => Error::Redirected {
            operation,
            status: *status,
            location: location.clone(),
        },
        Some(Undelivered::TooLarge { limit }) => Error::TooLarge {
            operation,
            limit: *limit,
        },
        None => Error::Decode {
            operation,
            message: undelivered.error().to_string(),
        },
    }
}

/// Builds the error for an answer with an error status.
pub(crate) fn from_answer(
    operation: Operation,
    status: StatusCode,
    headers: &HeaderMap,
    message: String,
    context: &Context,
) -> Error {
    let kind = match classify::classify_answer(status, headers, &message) {
        Verdict::PrimaryLimit(reset) => {
            return Error::RateLimited {
                operation,
                kind: RateLimitKind::Primary,
                retry_after: reset.and_then(|reset| (reset - chrono::Utc::now()).to_std().ok()),
                reset,
                status: Some(status.as_u16()),
                message,
            };
        }
        Verdict::SecondaryLimit(retry_after) => {
            return Error::RateLimited {
                operation,
                kind: RateLimitKind::Secondary,
                retry_after,
                reset: classify::rate_limit_reset(headers),
                status: Some(status.as_u16()),
                message,
            };
        }
        Verdict::Permanent(kind) => kind,
        Verdict::Success | Verdict::Redirect | Verdict::Transient => ErrorKind::Http,
    };
    let token = context.token;
    match kind {
        ErrorKind::Unauthorized => Error::Unauthorized {
            operation,
            message,
            token,
        },
        ErrorKind::Forbidden => forbidden(operation, headers, message, context),
        ErrorKind::NotFound => Error::NotFound {
            operation,
            message,
            token,
        },
        ErrorKind::Refused => {
            let reason = RefusalReason::from_message(&message);
            if operation.is_write() || !matches!(reason, RefusalReason::Other(_)) {
                Error::Refused {
                    operation,
                    status: status.as_u16(),
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

/// A `403` that is not a rate limit: missing classic scopes, or a lack of permission.
fn forbidden(
    operation: Operation,
    headers: &HeaderMap,
    message: String,
    context: &Context,
) -> Error {
    let classic = context.token.is_none_or(TokenKind::has_classic_scopes);
    let granted = scopes_in_header(headers, X_OAUTH_SCOPES);
    let required = operation.required_scopes();
    let lacks_required = granted
        .as_ref()
        .is_some_and(|granted| !missing_scopes(required, granted).is_empty());
    let accepted_unmet = match (&granted, scopes_in_header(headers, X_ACCEPTED_OAUTH_SCOPES)) {
        (Some(granted), Some(accepted)) if !accepted.is_empty() => {
            let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
            missing_scopes(&accepted, granted).len() == accepted.len()
        }
        _ => false,
    };
    let mentions_scope = message.to_ascii_lowercase().contains("scope");
    if classic && (lacks_required || accepted_unmet || mentions_scope) {
        return Error::MissingScopes {
            operation,
            status: Some(403),
            required: required.iter().map(|s| s.to_string()).collect(),
            granted: granted.or(context.granted.clone()).unwrap_or_default(),
        };
    }
    Error::Forbidden {
        operation,
        message,
        token: context.token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use ghpkg_api::operations::{Action, OwnerFamily};
    use ghpkg_api::types::BasicError;
    use reqwest::header::HeaderValue;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn op(action: Action) -> Operation {
        Operation::from(action.spec(OwnerFamily::Org))
    }

    fn map(action: Action, status: u16, pairs: &[(&'static str, &str)], message: &str) -> Error {
        from_answer(
            op(action),
            StatusCode::from_u16(status).unwrap(),
            &headers(pairs),
            message.to_string(),
            &Context::default(),
        )
    }

    #[test]
    fn status_401_is_unauthorized_and_says_where_tokens_come_from() {
        let error = map(Action::GetPackage, 401, &[], "Requires authentication");
        assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
        assert!(error.to_string().contains("GH_TOKEN"), "{error}");
    }

    #[test]
    fn a_403_with_scopes_that_do_not_cover_the_operation_is_missing_scopes() {
        let error = map(
            Action::DeleteVersion,
            403,
            &[
                ("x-oauth-scopes", "read:packages"),
                ("x-accepted-oauth-scopes", "delete:packages, read:packages"),
            ],
            "Forbidden",
        );
        let Error::MissingScopes {
            operation,
            status,
            required,
            granted,
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*status, Some(403), "GitHub answered this one");
        assert_eq!(operation.action(), Some(Action::DeleteVersion));
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
        let error = from_answer(
            op(Action::RestorePackage),
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            "Resource not accessible: token is missing the write:packages scope".into(),
            &Context {
                granted: Some(vec!["read:packages".into()]),
                token: None,
            },
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
    fn a_token_without_classic_scopes_is_never_told_it_lacks_them() {
        for token in [TokenKind::Installation, TokenKind::FineGrained] {
            let error = from_answer(
                op(Action::DeleteVersion),
                StatusCode::FORBIDDEN,
                &HeaderMap::new(),
                "Resource not accessible by integration; needs the delete:packages scope".into(),
                &Context {
                    granted: None,
                    token: Some(token),
                },
            );
            assert!(
                matches!(error, Error::Forbidden { token: Some(t), .. } if t == token),
                "{error:?}"
            );
        }
    }

    #[test]
    fn a_403_with_sufficient_scopes_is_forbidden() {
        let error = map(
            Action::DeletePackage,
            403,
            &[("x-oauth-scopes", "read:packages, delete:packages")],
            "You must be an admin",
        );
        assert!(matches!(error, Error::Forbidden { .. }), "{error:?}");
        assert!(error.to_string().contains("admin"), "{error}");
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
            let error = map(Action::DeleteVersion, 400, &[], message);
            let Error::Refused { reason, .. } = &error else {
                panic!("{error:?}")
            };
            assert_eq!(reason, &expected);
        }
    }

    #[test]
    fn a_400_on_a_read_is_an_http_error() {
        let error = map(
            Action::ListPackages,
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
        let error = map(
            Action::ListVersions,
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
            status: Some(403),
            ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*kind, RateLimitKind::Primary);
        assert_eq!(*at, DateTime::from_timestamp(reset, 0).unwrap());
        assert!(wait.as_secs() <= 120 && wait.as_secs() >= 100, "{wait:?}");
        assert!(error.is_retryable());
    }

    #[test]
    fn secondary_limits_keep_retry_after() {
        let by_header = map(Action::GetPackage, 403, &[("retry-after", "30")], "");
        assert_eq!(by_header.retry_after(), Some(Duration::from_secs(30)));
        let by_status = map(Action::GetPackage, 429, &[], "Too many requests");
        assert!(matches!(
            by_status,
            Error::RateLimited {
                kind: RateLimitKind::Secondary,
                status: Some(429),
                ..
            }
        ));
    }

    #[test]
    fn server_errors_are_retryable_http_errors() {
        let error = map(Action::GetPackage, 502, &[], "Bad gateway");
        assert!(matches!(error, Error::Http { status: 502, .. }));
        assert!(error.is_retryable());
        assert!(!map(Action::GetPackage, 404, &[], "").is_retryable());
    }

    #[tokio::test]
    async fn unexpected_responses_are_read_and_classified() {
        let response = http::Response::builder()
            .status(400)
            .body(r#"{"message":"You cannot delete the last version of a package. You must delete the package instead."}"#)
            .unwrap();
        let error = from_api(
            op(Action::DeleteVersion),
            ghpkg_api::Error::<BasicError>::UnexpectedResponse(reqwest::Response::from(response)),
            &Context::default(),
        )
        .await;
        assert!(
            matches!(
                error,
                Error::Refused {
                    reason: RefusalReason::LastVersion,
                    status: 400,
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
            op(Action::ListPackages),
            ghpkg_api::Error::ErrorResponse(ghpkg_api::ResponseValue::new(
                body,
                StatusCode::FORBIDDEN,
                map,
            )),
            &Context::default(),
        )
        .await;
        let Error::MissingScopes { granted, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(granted.is_empty());
        assert!(error.to_string().contains("no classic scopes"), "{error}");
    }
}
