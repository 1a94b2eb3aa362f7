//! The one classifier: what an answer or a transport failure means. Pacing asks it whether and
//! when to send a request again; error mapping asks it which [`ErrorKind`] to report. Nothing
//! else in the crate reads a status code to decide either.
//!
//! - `2xx`: success. `3xx`: a redirect (pacing decides whether it may be followed).
//! - A secondary rate limit: `429`, or `403` with `Retry-After` or a "secondary rate limit" /
//!   "abuse detection" message. Wait `Retry-After`, or at least a minute, doubling.
//! - The primary rate limit: `403` or `429` with `x-ratelimit-remaining: 0` (and no secondary
//!   message). Wait for `x-ratelimit-reset`.
//! - `500`, `502`, `503`, `504`: transient; back off and retry a request that may be repeated.
//! - Anything else: permanent, with its kind.
//! - A connection that could not be made: transient for every method (nothing was sent). A
//!   connection dropped, timed out or cut mid-body after the request was sent: transient for a
//!   request that may be repeated ([`ghpkg_api::method_is_repeatable`]), permanent for a
//!   `POST`, whose effect is then unknown.
//!
//! Server-chosen numbers are read defensively: a `Retry-After` or reset that is blank, negative,
//! not a number or out of range counts as absent, and no wait is longer than the caller's ceiling
//! (see [`Pacing::max_wait`](crate::Pacing::max_wait)).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use crate::error::kind::ErrorKind;

/// What an answer or a failure asks for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// A `2xx`: hand it to the caller.
    Success,
    /// A `3xx`.
    Redirect,
    /// A secondary rate limit: wait this long (the server's `Retry-After`), or the default
    /// backoff when `None`, then retry.
    SecondaryLimit(Option<Duration>),
    /// The primary budget is spent until this time (`None` when the reset is absent or garbled).
    PrimaryLimit(Option<DateTime<Utc>>),
    /// A transient failure: back off, then retry.
    Transient,
    /// A failure that will not go away by itself.
    Permanent(ErrorKind),
}

impl Verdict {
    /// Whether the verdict is a rate limit of either kind.
    pub(crate) fn is_rate_limit(&self) -> bool {
        matches!(self, Verdict::SecondaryLimit(_) | Verdict::PrimaryLimit(_))
    }
}

/// [`classify_answer`] for an answer's whole body, whose message is read only where it
/// decides the verdict (a `403` or `429`, which may be a secondary limit): a page of versions
/// is never scanned for one.
pub(crate) fn classify_body(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Verdict {
    let message = match status.as_u16() {
        403 | 429 => message_of(body),
        _ => String::new(),
    };
    classify_answer(status, headers, &message)
}

/// Classifies an answer from its status, headers and message (GitHub's `message`, or the start
/// of the body).
pub(crate) fn classify_answer(status: StatusCode, headers: &HeaderMap, message: &str) -> Verdict {
    let code = status.as_u16();
    if status.is_success() {
        return Verdict::Success;
    }
    if status.is_redirection() {
        return Verdict::Redirect;
    }
    if code == 403 || code == 429 {
        let lower = message.to_ascii_lowercase();
        let secondary_message =
            lower.contains("secondary rate limit") || lower.contains("abuse detection");
        let spent = header_str(headers, "x-ratelimit-remaining") == Some("0");
        if spent && !secondary_message {
            return Verdict::PrimaryLimit(rate_limit_reset(headers));
        }
        let retry_after = retry_after(headers);
        if code == 429 || secondary_message || retry_after.is_some() {
            return Verdict::SecondaryLimit(retry_after);
        }
    }
    if is_transient_status(code) {
        return Verdict::Transient;
    }
    match code {
        401 => Verdict::Permanent(ErrorKind::Unauthorized),
        403 => Verdict::Permanent(ErrorKind::Forbidden),
        404 => Verdict::Permanent(ErrorKind::NotFound),
        400 | 409 | 422 => Verdict::Permanent(ErrorKind::Refused),
        _ => Verdict::Permanent(ErrorKind::Http),
    }
}

/// Whether an answer with status `code` is a server problem that may go away by itself (`500`,
/// `502`, `503`, `504`), so that the same request may be sent again.
pub(crate) fn is_transient_status(code: u16) -> bool {
    matches!(code, 500 | 502 | 503 | 504)
}

/// How far a request got before its transport failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No connection was made: nothing was sent.
    NotConnected,
    /// The request may have reached the server: the connection dropped or timed out, or the
    /// answer's body was cut off.
    AfterSending,
    /// The server's TLS certificate is not trusted ([`certificate_problem`]): nothing was
    /// sent, and sending again cannot help.
    Untrusted,
}

/// Classifies a transport failure of a request with `method`.
pub(crate) fn classify_failure(method: &Method, failure: Failure) -> Verdict {
    match failure {
        Failure::NotConnected => Verdict::Transient,
        Failure::Untrusted => Verdict::Permanent(ErrorKind::Transport),
        Failure::AfterSending if is_repeatable(method) => Verdict::Transient,
        Failure::AfterSending => Verdict::Permanent(ErrorKind::Transport),
    }
}

/// The certificate problem behind a transport failure, when the server's TLS certificate is
/// not trusted (signed by an unknown issuer, expired, issued for another name, …): a failure
/// that never goes away by itself, and that the caller must name as such.
pub(crate) fn certificate_problem(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(rustls::Error::InvalidCertificate(problem)) = error.downcast_ref() {
            return Some(describe_certificate_problem(problem));
        }
        // An `io::Error`'s `source` skips the error it wraps: step into it instead.
        next = match error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

fn describe_certificate_problem(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError;
    match problem {
        CertificateError::UnknownIssuer => {
            "its issuer is not trusted (a self-signed certificate, or one from a private CA)".into()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "it is issued for another host name".into()
        }
        CertificateError::Revoked => "it has been revoked".into(),
        CertificateError::Other(other) => format!("it is not accepted ({other})"),
        other => format!("it is not accepted ({other:?})"),
    }
}

/// Whether sending the request twice has the effect of sending it once
/// ([`ghpkg_api::method_is_repeatable`]: RFC 9110's idempotent methods).
pub(crate) fn is_repeatable(method: &Method) -> bool {
    ghpkg_api::method_is_repeatable(method.as_str())
}

/// `Retry-After` as seconds (GitHub's form) or an HTTP date, from now. Blank, negative, garbled
/// and out-of-range values count as absent; a date in the past is zero. A far one is as long as
/// it says: the pacer does not wait longer than [`Pacing::max_wait`](crate::Pacing::max_wait).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, Utc::now())
}

/// [`retry_after`] with `now` given, so that a date can be measured against a known clock.
pub(crate) fn retry_after_at(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = header_str(headers, RETRY_AFTER.as_str())?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = http_date(value)?;
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP date in any of the three forms RFC 9110 (section 5.6.7) says a recipient must
/// accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), and the obsolete RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    const OBSOLETE_FORMS: [&str; 2] = ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"];
    OBSOLETE_FORMS
        .iter()
        .find_map(|form| NaiveDateTime::parse_from_str(value, form).ok())
        .map(|naive| naive.and_utc())
}

/// `x-ratelimit-reset` (seconds since the epoch) as a time; `None` when absent, garbled or out of
/// range.
pub(crate) fn rate_limit_reset(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let seconds: i64 = header_str(headers, "x-ratelimit-reset")?.parse().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

/// A header's value as trimmed text; `None` when absent, blank or not text.
pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then_some(value)
}

/// GitHub's `message` from a JSON error body, or the start of the body as text (at most 200
/// characters).
pub(crate) fn message_of(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Message {
        message: Option<String>,
    }
    if let Ok(Message {
        message: Some(message),
    }) = serde_json::from_slice::<Message>(body)
    {
        return excerpt(&message);
    }
    excerpt(String::from_utf8_lossy(body).trim())
}

/// `text` cut to 200 characters, with control characters shown as spaces.
pub(crate) fn excerpt(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match clean.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    }
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

    fn verdict(status: u16, pairs: &[(&'static str, &str)], message: &str) -> Verdict {
        classify_answer(
            StatusCode::from_u16(status).unwrap(),
            &headers(pairs),
            message,
        )
    }

    #[test]
    fn only_a_403_or_429_body_is_read_for_its_message() {
        let secondary = br#"{"message":"You have exceeded a secondary rate limit."}"#;
        let status = |code| StatusCode::from_u16(code).unwrap();
        let headers = HeaderMap::new();
        assert_eq!(
            classify_body(status(403), &headers, secondary),
            Verdict::SecondaryLimit(None)
        );
        assert_eq!(
            classify_body(status(200), &headers, secondary),
            Verdict::Success
        );
        assert_eq!(
            classify_body(status(404), &headers, secondary),
            Verdict::Permanent(ErrorKind::NotFound)
        );
    }

    #[test]
    fn secondary_limits_are_recognised_by_429_retry_after_or_message() {
        assert_eq!(
            verdict(403, &[("retry-after", "7")], "{}"),
            Verdict::SecondaryLimit(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            verdict(403, &[], "You have exceeded a secondary rate limit."),
            Verdict::SecondaryLimit(None)
        );
        assert_eq!(verdict(429, &[], ""), Verdict::SecondaryLimit(None));
    }

    #[test]
    fn the_primary_limit_carries_its_reset_even_on_a_429() {
        let spent = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000000"),
        ];
        let reset = DateTime::from_timestamp(1_700_000_000, 0);
        assert_eq!(verdict(403, &spent, ""), Verdict::PrimaryLimit(reset));
        assert_eq!(verdict(429, &spent, ""), Verdict::PrimaryLimit(reset));
    }

    #[test]
    fn hostile_retry_after_and_reset_values_count_as_absent() {
        for value in ["-5", "soon", "", " ", "1e9", "18446744073709551616"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", value)])),
                None,
                "{value:?}"
            );
        }
        assert_eq!(
            retry_after(&headers(&[("retry-after", "18446744073709551615")])),
            Some(Duration::from_secs(u64::MAX)),
            "a huge value parses; the pacer bounds it"
        );
        for value in ["-1e3", "x", "99999999999999999", "9223372036854775807"] {
            assert_eq!(
                rate_limit_reset(&headers(&[("x-ratelimit-reset", value)])),
                None,
                "{value:?}"
            );
        }
    }

    #[test]
    fn a_retry_after_date_in_any_http_form_is_the_time_until_it() {
        let now = DateTime::parse_from_rfc3339("2026-10-21T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |value: &str| retry_after_at(&headers(&[("retry-after", value)]), now);
        assert_eq!(
            at("Wed, 21 Oct 2026 07:28:00 GMT"),
            Some(Duration::from_secs(28 * 60)),
            "IMF-fixdate"
        );
        assert_eq!(
            at("Wednesday, 21-Oct-26 07:28:00 GMT"),
            Some(Duration::from_secs(28 * 60)),
            "RFC 850"
        );
        assert_eq!(
            at("Wed Oct 21 07:28:00 2026"),
            Some(Duration::from_secs(28 * 60)),
            "asctime"
        );
        assert_eq!(
            at("Thu Oct  1 07:00:00 2026"),
            Some(Duration::ZERO),
            "asctime, day padded with a space, in the past"
        );
        assert_eq!(
            at("Tue, 20 Oct 2026 07:00:00 GMT"),
            Some(Duration::ZERO),
            "a past date"
        );
        let far = at("Fri, 31 Dec 9999 23:59:59 GMT").expect("a far date is a wait, not absent");
        assert!(far > Duration::from_secs(7_000 * 365 * 86_400), "{far:?}");
        for garbled in [
            "Wed, 32 Oct 2026 07:28:00 GMT",
            "tomorrow",
            "Wed Oct 21 2026",
        ] {
            assert_eq!(at(garbled), None, "{garbled:?}");
        }
    }

    #[test]
    fn client_errors_are_permanent_and_server_errors_transient() {
        assert_eq!(
            verdict(403, &[], "You need at least read:packages scope"),
            Verdict::Permanent(ErrorKind::Forbidden)
        );
        for (status, kind) in [
            (400, ErrorKind::Refused),
            (401, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Refused),
            (422, ErrorKind::Refused),
            (418, ErrorKind::Http),
        ] {
            assert_eq!(verdict(status, &[], "{}"), Verdict::Permanent(kind));
        }
        for status in [500, 502, 503, 504] {
            assert_eq!(verdict(status, &[], ""), Verdict::Transient);
        }
        assert_eq!(verdict(204, &[], ""), Verdict::Success);
        assert_eq!(verdict(307, &[], ""), Verdict::Redirect);
    }

    #[test]
    fn a_post_whose_answer_was_lost_is_not_repeated() {
        assert_eq!(
            classify_failure(&Method::POST, Failure::AfterSending),
            Verdict::Permanent(ErrorKind::Transport)
        );
        assert_eq!(
            classify_failure(&Method::POST, Failure::NotConnected),
            Verdict::Transient
        );
        assert_eq!(
            classify_failure(&Method::DELETE, Failure::AfterSending),
            Verdict::Transient
        );
    }

    #[test]
    fn messages_come_from_json_or_the_start_of_the_body() {
        assert_eq!(
            message_of(br#"{"message":"Package not found."}"#),
            "Package not found."
        );
        assert_eq!(message_of(b"  upstream timeout \n"), "upstream timeout");
        assert_eq!(message_of("x".repeat(500).as_bytes()).chars().count(), 201);
        assert_eq!(message_of(b"<html>\r\n<b>502</b>"), "<html>  <b>502</b>");
    }
}
