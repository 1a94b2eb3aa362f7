use std::time::{Duration, Instant};

use ghpkg::{Error, Pacing, PackageType, RateLimitKind};

use crate::client_with;
use crate::hostile::{Hostile, Reply};

fn pacing(max_wait: Duration) -> Pacing {
    Pacing {
        max_wait,
        backoff_base: Duration::from_millis(2),
        backoff_max: Duration::from_millis(20),
        ..Pacing::default()
    }
}

async fn get(server: &Hostile, pacing: Pacing) -> (ghpkg::Result<ghpkg::Package>, Duration) {
    let client = client_with(&server.base_url(), "ghp_x", pacing);
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        client
            .org("acme")
            .package(PackageType::Container, "app")
            .get(),
    )
    .await
    .expect("no wait is unbounded");
    (result, started.elapsed())
}

#[tokio::test]
async fn a_retry_after_beyond_the_ceiling_is_a_typed_error_not_a_wait_or_a_panic() {
    for value in ["18446744073709551615", "86400"] {
        let server = Hostile::start(move |_, _| {
            Reply::json(
                403,
                r#"{"message":"You have exceeded a secondary rate limit."}"#,
            )
            .header("retry-after", value)
        })
        .await;
        let (result, elapsed) = get(&server, pacing(Duration::from_secs(60))).await;
        let error = result.unwrap_err();
        assert!(
            matches!(
                error,
                Error::RateLimited {
                    kind: RateLimitKind::Secondary,
                    ..
                }
            ),
            "{value}: {error:?}"
        );
        assert!(error.retry_after().is_some(), "says when: {error}");
        assert!(
            elapsed < Duration::from_secs(2),
            "{value}: waited {elapsed:?}"
        );
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_retry_after_date_beyond_the_ceiling_is_a_typed_error_that_says_how_long() {
    let server = Hostile::start(|_, _| {
        Reply::json(429, r#"{"message":"Too many requests"}"#)
            .header("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")
    })
    .await;
    let (result, _) = get(&server, pacing(Duration::from_secs(60))).await;
    let error = result.unwrap_err();
    assert!(
        matches!(
            error,
            Error::RateLimited {
                kind: RateLimitKind::Secondary,
                ..
            }
        ),
        "{error:?}"
    );
    let asked = error.retry_after().expect("the date is read, not ignored");
    assert!(asked > Duration::from_secs(60), "{asked:?}");
    assert_eq!(server.requests().len(), 1, "not waited for");
}

#[tokio::test]
async fn a_retry_after_date_in_the_past_in_any_http_form_is_retried_at_once() {
    // Absent, the wait would be the default minute, longer than `get`'s guard.
    for past in [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ] {
        let server = Hostile::start(move |_, n| {
            if n >= 1 {
                return Reply::json(404, r#"{"message":"Package not found."}"#);
            }
            Reply::json(429, "{}").header("retry-after", past)
        })
        .await;
        let (result, _) = get(&server, pacing(Duration::from_secs(60))).await;
        assert!(result.unwrap_err().is_not_found(), "{past}");
        assert_eq!(server.requests().len(), 2, "{past}");
    }
}

#[tokio::test]
async fn a_reset_far_in_the_future_is_a_typed_error_that_says_when() {
    let reset = chrono::Utc::now().timestamp() + 10 * 3600;
    let server = Hostile::start(move |_, _| {
        Reply::json(403, r#"{"message":"API rate limit exceeded"}"#)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-reset", &reset.to_string())
    })
    .await;
    let (result, elapsed) = get(&server, pacing(Duration::from_secs(3600))).await;
    let error = result.unwrap_err();
    let Error::RateLimited {
        kind: RateLimitKind::Primary,
        reset: Some(at),
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(at.timestamp(), reset);
    assert!(elapsed < Duration::from_secs(2), "waited {elapsed:?}");
    assert!(error.to_string().contains("until"), "{error}");
}

#[tokio::test]
async fn a_reset_in_the_past_is_backed_off_not_retried_at_once() {
    let reset = chrono::Utc::now().timestamp() - 600;
    let server = Hostile::start(move |_, n| {
        if n >= 2 {
            return Reply::json(200, r#"{"id":1,"name":"app","package_type":"container","visibility":"private","url":"u","html_url":"h","version_count":1,"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z"}"#);
        }
        Reply::json(403, r#"{"message":"API rate limit exceeded"}"#)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &reset.to_string())
    })
    .await;
    let (result, elapsed) = get(&server, pacing(Duration::from_secs(60))).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(server.requests().len(), 3);
    assert!(
        elapsed >= Duration::from_secs(2),
        "two back-offs of at least a second each: {elapsed:?}"
    );
}

#[tokio::test]
async fn garbled_rate_limit_headers_count_as_absent() {
    let server = Hostile::start(move |_, n| {
        if n >= 1 {
            return Reply::json(404, r#"{"message":"Package not found."}"#);
        }
        Reply::json(429, "{}")
            .header("retry-after", "-5")
            .header("x-ratelimit-reset", "soon")
    })
    .await;
    let (result, _) = get(
        &server,
        Pacing {
            time_scale: 600.0, // the default minute's wait becomes 100 ms
            ..pacing(Duration::from_secs(60))
        },
    )
    .await;
    assert!(result.unwrap_err().is_not_found());
    assert_eq!(server.requests().len(), 2);
}
