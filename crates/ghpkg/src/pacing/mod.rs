//! Pacing and retries: the one place that decides when a request is sent, and whether it is sent
//! again.
//!
//! Every request of a [`Client`](crate::Client) — generated operations and `Link` pages alike —
//! goes through one [`Pacer`], installed as the `ghpkg-api` [`Transport`](ghpkg_api::Transport).
//!
//! Proactive, so that GitHub's limits are not tripped:
//! - at most [`Pacing::max_concurrency`] requests in flight;
//! - at most [`Pacing::points_per_minute`] secondary-limit points in any sliding minute (GitHub
//!   counts a `GET` as 1 point and a `DELETE` or `POST` as 5). A request's points stay in the
//!   window from the moment it is sent until a minute after its response arrived, so the budget
//!   holds on the server's clock too, whatever the latency;
//! - the primary budget from the last `X-RateLimit-Remaining`/`-Reset` headers: when it is spent,
//!   wait for the reset, or (with [`Pacing::wait_for_primary_reset`] off) answer at once with a
//!   synthesized `403` that carries `x-ratelimit-remaining: 0`, so that the caller gets
//!   [`Error::RateLimited`](crate::Error) without a request being sent.
//!
//! Reactive, when GitHub still says no:
//! - a secondary-limit `403` or a `429`: honour `Retry-After`; without one, wait at least a minute
//!   and double the wait each time, as GitHub asks. Every request of the client pauses meanwhile;
//! - a primary-limit `403` (`x-ratelimit-remaining: 0`): wait for `x-ratelimit-reset` if allowed;
//! - `500`, `502`, `503`, `504`, dropped connections, timeouts and truncated bodies: retry with
//!   exponential backoff and full jitter, at most [`Pacing::max_retries`] times;
//! - never `400`, `401`, `404`, `422` or any other answer: those go back to the caller as they are.
//!
//! Blank or malformed rate-limit headers are ignored, and a reset time in the past means the
//! budget has renewed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

/// How fast and how persistently a client talks to GitHub.
#[derive(Clone, Debug)]
pub struct Pacing {
    /// Requests in flight at once (GitHub allows 100 per token; the default stays well under).
    pub max_concurrency: usize,
    /// Secondary-limit points spent in any sliding minute at most (GitHub's limit: 900).
    pub points_per_minute: u32,
    /// How many times shorter every rate-limit window is than GitHub's (1.0 for GitHub; the
    /// emulator's `--time-scale` for a scaled benchmark). Backoff after errors is not scaled.
    pub time_scale: f64,
    /// Wait for the primary budget to reset (`true`), or fail fast with
    /// [`Error::RateLimited`](crate::Error) (`false`).
    pub wait_for_primary_reset: bool,
    /// Retries of one request after a `5xx`, a dropped connection or a truncated body.
    pub max_retries: u32,
    /// The first backoff delay; each retry doubles it, with full jitter.
    pub backoff_base: Duration,
    /// The longest backoff delay.
    pub backoff_max: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            points_per_minute: GITHUB_POINTS_PER_MINUTE,
            time_scale: 1.0,
            wait_for_primary_reset: true,
            max_retries: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

impl Pacing {
    /// No proactive pacing and no retries: every request is sent at once, and every answer goes
    /// back to the caller as it is. Rate-limit headers are still read.
    pub fn unpaced() -> Self {
        Self {
            max_concurrency: Semaphore::MAX_PERMITS,
            points_per_minute: u32::MAX,
            time_scale: 1.0,
            wait_for_primary_reset: false,
            max_retries: 0,
            backoff_base: Duration::ZERO,
            backoff_max: Duration::ZERO,
        }
    }

    /// The sliding window the points budget is measured over: a minute, scaled.
    fn points_window(&self) -> Duration {
        scaled(Duration::from_secs(60), self.time_scale)
    }
}

/// GitHub's secondary limit: points per minute for REST requests.
pub const GITHUB_POINTS_PER_MINUTE: u32 = 900;

/// How many rate-limit waits one request sits through before its `403`/`429` goes to the caller.
const RATE_LIMIT_RETRIES: u32 = 5;

/// The points GitHub's secondary limit charges for a request with this method.
pub fn request_points(method: &Method) -> u32 {
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        1
    } else {
        5
    }
}

/// The primary rate-limit budget as GitHub last reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitStatus {
    /// Requests allowed per window (`X-RateLimit-Limit`).
    pub limit: u64,
    /// Requests left in this window (`X-RateLimit-Remaining`).
    pub remaining: u64,
    /// Requests spent in this window (`X-RateLimit-Used`).
    pub used: u64,
    /// When the window resets (`X-RateLimit-Reset`).
    pub reset: DateTime<Utc>,
    /// The budget's resource name (`X-RateLimit-Resource`, usually `core`).
    pub resource: String,
}

impl RateLimitStatus {
    /// Reads GitHub's `X-RateLimit-*` headers; `None` when they are absent, blank or malformed.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| -> Option<u64> { header_str(headers, name)?.parse().ok() };
        let remaining = number("x-ratelimit-remaining")?;
        let reset = DateTime::from_timestamp(number("x-ratelimit-reset")? as i64, 0)?;
        let limit = number("x-ratelimit-limit").unwrap_or(remaining);
        Some(Self {
            limit,
            remaining,
            used: number("x-ratelimit-used").unwrap_or(limit.saturating_sub(remaining)),
            reset,
            resource: header_str(headers, "x-ratelimit-resource")
                .unwrap_or("core")
                .to_string(),
        })
    }
}

/// What GitHub's answer asks of the pacer.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Hand the response to the caller.
    Deliver,
    /// A secondary limit: pause everything for this long (or the backoff, if `None`), then retry.
    SecondaryLimit(Option<Duration>),
    /// The primary budget is spent until this time.
    PrimaryLimit(DateTime<Utc>),
    /// A transient server error: back off and retry.
    Transient,
}

/// Reads a response's status, headers and (for `403`s) body into a [`Verdict`].
fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Verdict {
    let retry_after = retry_after(headers);
    match status.as_u16() {
        429 => Verdict::SecondaryLimit(retry_after),
        403 => {
            if header_str(headers, "x-ratelimit-remaining") == Some("0")
                && let Some(reset) = header_str(headers, "x-ratelimit-reset")
                    .and_then(|s| s.parse::<i64>().ok())
                    .and_then(|s| DateTime::from_timestamp(s, 0))
            {
                return Verdict::PrimaryLimit(reset);
            }
            let text = String::from_utf8_lossy(body).to_ascii_lowercase();
            if retry_after.is_some()
                || text.contains("secondary rate limit")
                || text.contains("abuse detection")
            {
                Verdict::SecondaryLimit(retry_after)
            } else {
                Verdict::Deliver
            }
        }
        500 | 502 | 503 | 504 => Verdict::Transient,
        _ => Verdict::Deliver,
    }
}

/// `Retry-After` in seconds (GitHub's form), or as an HTTP date; `None` when blank or malformed.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_str(headers, RETRY_AFTER.as_str())?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then_some(value)
}

fn scaled(duration: Duration, time_scale: f64) -> Duration {
    if time_scale.is_finite() && time_scale > 0.0 {
        duration.div_f64(time_scale)
    } else {
        duration
    }
}

/// The longest a pacer sleeps for a primary reset it was told about (guards against clock skew).
const MAX_PRIMARY_WAIT: Duration = Duration::from_secs(3600);

/// Mutable pacing state, behind one short-lived lock.
#[derive(Default)]
struct Budget {
    /// Points of answered requests, each leaving the window at its instant.
    window: VecDeque<(Instant, u32)>,
    /// Sum of the points in `window`.
    window_points: u64,
    /// Points of requests sent and not yet answered.
    in_flight_points: u64,
    /// Requests sent and not yet answered (for the primary budget).
    in_flight_requests: u64,
    /// After a secondary limit, nothing is sent before this instant.
    paused_until: Option<Instant>,
    /// Consecutive secondary limits without `Retry-After` (doubles the wait).
    secondary_strikes: u32,
    /// The primary budget as last reported.
    primary: Option<RateLimitStatus>,
    /// The token's scopes as last reported by `X-OAuth-Scopes`.
    scopes: Option<Vec<String>>,
}

impl Budget {
    fn expire(&mut self, now: Instant) {
        while let Some(&(leaves, points)) = self.window.front() {
            if leaves > now {
                break;
            }
            self.window.pop_front();
            self.window_points -= u64::from(points);
        }
    }
}

/// What stands between a request and the network right now.
enum Gate {
    Open,
    WaitUntil(Instant),
    WaitForAnswers,
    PrimarySpent(DateTime<Utc>),
}

/// The transport that applies [`Pacing`] to every request of a client.
pub(crate) struct Pacer {
    pacing: Pacing,
    permits: Semaphore,
    budget: Mutex<Budget>,
    answered: Notify,
}

impl Pacer {
    /// A pacer that applies `pacing`.
    pub(crate) fn new(pacing: Pacing) -> Arc<Pacer> {
        let permits = pacing.max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Arc::new(Pacer {
            permits: Semaphore::new(permits),
            pacing,
            budget: Mutex::new(Budget::default()),
            answered: Notify::new(),
        })
    }

    /// The scopes of the last `X-OAuth-Scopes` header seen.
    pub(crate) fn granted_scopes(&self) -> Option<Vec<String>> {
        self.budget().scopes.clone()
    }

    /// The last primary rate-limit status seen.
    pub(crate) fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.budget().primary.clone()
    }

    fn budget(&self) -> MutexGuard<'_, Budget> {
        self.budget
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `points` may be spent, then reserves them (and one primary request).
    /// Returns the reset time instead when the primary budget is spent and waiting is off.
    async fn reserve(&self, points: u32) -> Result<(), DateTime<Utc>> {
        loop {
            let gate = self.try_reserve(points);
            match gate {
                Gate::Open => return Ok(()),
                Gate::WaitUntil(when) => tokio::time::sleep_until(when).await,
                Gate::WaitForAnswers => {
                    let answered = self.answered.notified();
                    // Re-check: an answer may have arrived between the check and `notified()`.
                    if matches!(self.try_reserve_check(points), Gate::Open) {
                        continue;
                    }
                    answered.await;
                }
                Gate::PrimarySpent(reset) => {
                    if !self.pacing.wait_for_primary_reset {
                        return Err(reset);
                    }
                    let wait = (reset - Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(MAX_PRIMARY_WAIT);
                    tracing::warn!(
                        seconds = wait.as_secs(),
                        "primary rate limit spent; waiting for the reset"
                    );
                    tokio::time::sleep(wait + Duration::from_secs(1)).await;
                    // Trust the next response's headers rather than the stale budget.
                    self.budget().primary = None;
                }
            }
        }
    }

    /// Checks the gates without reserving anything.
    fn try_reserve_check(&self, points: u32) -> Gate {
        let mut budget = self.budget();
        self.gate(&mut budget, points)
    }

    /// Checks the gates and reserves when they are open.
    fn try_reserve(&self, points: u32) -> Gate {
        let mut budget = self.budget();
        let gate = self.gate(&mut budget, points);
        if matches!(gate, Gate::Open) {
            budget.in_flight_points += u64::from(points);
            budget.in_flight_requests += 1;
        }
        gate
    }

    fn gate(&self, budget: &mut Budget, points: u32) -> Gate {
        let now = Instant::now();
        if let Some(until) = budget.paused_until {
            if until > now {
                return Gate::WaitUntil(until);
            }
            budget.paused_until = None;
        }
        if let Some(primary) = &budget.primary
            && primary.reset > Utc::now()
            && primary.remaining <= budget.in_flight_requests
        {
            return Gate::PrimarySpent(primary.reset);
        }
        budget.expire(now);
        let limit = u64::from(self.pacing.points_per_minute);
        let wanted = u64::from(points);
        let committed = budget.window_points + budget.in_flight_points;
        // A request costlier than the whole budget still goes when nothing else is counted.
        if committed + wanted <= limit || committed == 0 {
            return Gate::Open;
        }
        match budget.window.front() {
            Some(&(leaves, _)) => Gate::WaitUntil(leaves),
            None => Gate::WaitForAnswers,
        }
    }

    /// Releases a reservation when its answer (or failure) arrived, and learns from headers.
    fn settle(&self, points: u32, headers: Option<&HeaderMap>) {
        let now = Instant::now();
        let mut budget = self.budget();
        budget.in_flight_points -= u64::from(points);
        budget.in_flight_requests -= 1;
        let leaves = now + self.pacing.points_window();
        budget.window.push_back((leaves, points));
        budget.window_points += u64::from(points);
        if let Some(headers) = headers {
            if let Some(status) = RateLimitStatus::from_headers(headers) {
                let newer = match &budget.primary {
                    Some(known) if known.reset == status.reset => {
                        status.remaining < known.remaining
                    }
                    _ => true,
                };
                if newer {
                    budget.primary = Some(status);
                }
            }
            // A blank `X-OAuth-Scopes` is meaningful: the token has no scopes.
            if let Some(scopes) = headers.get("x-oauth-scopes").and_then(|v| v.to_str().ok()) {
                budget.scopes = Some(
                    scopes
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                );
            }
        }
        drop(budget);
        self.answered.notify_waiters();
    }

    /// Pauses every request of the client after a secondary limit; returns the pause.
    fn pause_for_secondary_limit(&self, retry_after: Option<Duration>) -> Duration {
        let mut budget = self.budget();
        let wait = match retry_after {
            Some(wait) => {
                budget.secondary_strikes = 0;
                wait
            }
            None => {
                budget.secondary_strikes += 1;
                let minute = scaled(Duration::from_secs(60), self.pacing.time_scale);
                minute * 2u32.saturating_pow(budget.secondary_strikes.saturating_sub(1).min(5))
            }
        };
        let until = Instant::now() + wait;
        if budget.paused_until.is_none_or(|paused| paused < until) {
            budget.paused_until = Some(until);
        }
        wait
    }

    /// Exponential backoff with full jitter for retry number `attempt` (0-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .pacing
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.pacing.backoff_max);
        ceiling.mul_f64(rand::random::<f64>())
    }

    /// Sends one attempt: a permit, a reservation, the request, and the whole body.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        points: u32,
    ) -> Result<Attempt, DateTime<Utc>> {
        self.reserve(points).await?;
        let permit = self.permits.acquire().await;
        let sent = client.execute(request).await;
        let result = match sent {
            Ok(response) => {
                let status = response.status();
                let version = response.version();
                let headers = response.headers().clone();
                match response.bytes().await {
                    Ok(body) => Ok(Buffered {
                        status,
                        version,
                        headers,
                        body,
                    }),
                    Err(error) => Err((error, Some(headers))),
                }
            }
            Err(error) => Err((error, None)),
        };
        drop(permit);
        Ok(match result {
            Ok(buffered) => {
                self.settle(points, Some(&buffered.headers));
                Attempt::Answered(buffered)
            }
            Err((error, headers)) => {
                self.settle(points, headers.as_ref());
                Attempt::Failed(error)
            }
        })
    }

    async fn execute_paced(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        operation_id: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let points = request_points(request.method());
        let mut transient_retries = 0;
        let mut rate_limit_retries = 0;
        let mut pending = request;
        loop {
            // A body-less request clones; only a streaming body could not, and then it is sent once.
            let retry_copy = pending.try_clone();
            let attempt = match self.attempt(client, pending, points).await {
                Ok(attempt) => attempt,
                Err(reset) => return Ok(primary_spent_response(reset)),
            };
            let Some(next) = retry_copy else {
                return attempt.into_response();
            };
            pending = next;
            match attempt {
                Attempt::Failed(error) => {
                    // The URL of a restore carries the package token: never log or return it.
                    let error = crate::error::redact(error);
                    if transient_retries >= self.pacing.max_retries || !is_transient(&error) {
                        return Err(error);
                    }
                    let wait = self.backoff(transient_retries);
                    transient_retries += 1;
                    tracing::debug!(operation_id, %error, ?wait, "transport error; retrying");
                    tokio::time::sleep(wait).await;
                }
                Attempt::Answered(buffered) => {
                    match classify(buffered.status, &buffered.headers, &buffered.body) {
                        Verdict::Deliver => return Ok(buffered.into_response()),
                        Verdict::Transient => {
                            if transient_retries >= self.pacing.max_retries {
                                return Ok(buffered.into_response());
                            }
                            let wait = self.backoff(transient_retries);
                            transient_retries += 1;
                            tracing::debug!(operation_id, status = %buffered.status, ?wait, "server error; retrying");
                            tokio::time::sleep(wait).await;
                        }
                        Verdict::SecondaryLimit(retry_after) => {
                            if rate_limit_retries >= RATE_LIMIT_RETRIES
                                || self.pacing.max_retries == 0
                            {
                                return Ok(buffered.into_response());
                            }
                            rate_limit_retries += 1;
                            let wait = self.pause_for_secondary_limit(retry_after);
                            tracing::warn!(operation_id, ?wait, "secondary rate limit; pausing");
                        }
                        Verdict::PrimaryLimit(_) => {
                            if !self.pacing.wait_for_primary_reset
                                || rate_limit_retries >= RATE_LIMIT_RETRIES
                            {
                                return Ok(buffered.into_response());
                            }
                            rate_limit_retries += 1;
                            // This answer's headers recorded the spent budget and its reset;
                            // the next reservation waits for it.
                        }
                    }
                }
            }
        }
    }
}

/// A connection that failed, timed out or was cut mid-body is worth another try.
fn is_transient(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_timeout() || error.is_request() || error.is_body()
}

/// One attempt's outcome.
enum Attempt {
    Answered(Buffered),
    Failed(reqwest::Error),
}

impl Attempt {
    fn into_response(self) -> reqwest::Result<reqwest::Response> {
        match self {
            Attempt::Answered(buffered) => Ok(buffered.into_response()),
            Attempt::Failed(error) => Err(error),
        }
    }
}

/// A response read whole, so that a truncated body is caught here and retried.
struct Buffered {
    status: StatusCode,
    version: reqwest::Version,
    headers: HeaderMap,
    body: Bytes,
}

impl Buffered {
    fn into_response(self) -> reqwest::Response {
        let mut response = http::Response::new(self.body);
        *response.status_mut() = self.status;
        *response.version_mut() = self.version;
        *response.headers_mut() = self.headers;
        reqwest::Response::from(response)
    }
}

/// The answer given, without sending, when the primary budget is spent and waiting is off.
fn primary_spent_response(reset: DateTime<Utc>) -> reqwest::Response {
    let body = serde_json::json!({
        "message": "API rate limit exceeded: ghpkg did not send this request because the token's \
                    primary budget is spent until the reset and waiting is off \
                    (Pacing::wait_for_primary_reset).",
        "documentation_url": "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
    });
    let mut response = http::Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = StatusCode::FORBIDDEN;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset.timestamp()));
    headers.insert(
        "x-ghpkg-not-sent",
        HeaderValue::from_static("primary-rate-limit"),
    );
    reqwest::Response::from(response)
}

impl ghpkg_api::Transport for Pacer {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation_id: &'static str,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>> {
        Box::pin(self.execute_paced(client, request, operation_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn github_charges_one_point_for_reads_and_five_for_writes() {
        assert_eq!(request_points(&Method::GET), 1);
        assert_eq!(request_points(&Method::DELETE), 5);
        assert_eq!(request_points(&Method::POST), 5);
    }

    #[test]
    fn a_secondary_limit_403_is_recognised_by_retry_after_or_by_its_message() {
        let with_retry_after = headers(&[("retry-after", "7")]);
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &with_retry_after, b"{}"),
            Verdict::SecondaryLimit(Some(Duration::from_secs(7)))
        );
        let body = br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &HeaderMap::new(), body),
            Verdict::SecondaryLimit(None)
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), b""),
            Verdict::SecondaryLimit(None)
        );
    }

    #[test]
    fn a_blank_retry_after_is_treated_as_absent() {
        let blank = headers(&[("retry-after", " ")]);
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &blank, b""),
            Verdict::SecondaryLimit(None)
        );
    }

    #[test]
    fn a_primary_limit_403_carries_its_reset() {
        let spent = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000000"),
        ]);
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &spent, b"{}"),
            Verdict::PrimaryLimit(DateTime::from_timestamp(1_700_000_000, 0).unwrap())
        );
    }

    #[test]
    fn a_missing_scope_403_and_client_errors_are_delivered_untouched() {
        let scope = br#"{"message":"You need at least read:packages scope to list packages."}"#;
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &HeaderMap::new(), scope),
            Verdict::Deliver
        );
        for status in [400, 401, 404, 422] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(classify(status, &HeaderMap::new(), b"{}"), Verdict::Deliver);
        }
        for status in [500, 502, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(classify(status, &HeaderMap::new(), b""), Verdict::Transient);
        }
    }

    #[test]
    fn rate_limit_headers_are_read_and_blank_ones_ignored() {
        let status = RateLimitStatus::from_headers(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4999"),
            ("x-ratelimit-used", "1"),
            ("x-ratelimit-reset", "1700000000"),
            ("x-ratelimit-resource", "core"),
        ]))
        .unwrap();
        assert_eq!(status.limit, 5000);
        assert_eq!(status.remaining, 4999);
        assert_eq!(status.used, 1);
        assert_eq!(status.resource, "core");
        assert!(
            RateLimitStatus::from_headers(&headers(&[
                ("x-ratelimit-remaining", ""),
                ("x-ratelimit-reset", "1700000000"),
            ]))
            .is_none()
        );
    }

    #[tokio::test]
    async fn the_points_budget_holds_back_requests_until_the_window_frees_them() {
        let pacer = Pacer::new(Pacing {
            points_per_minute: 10,
            time_scale: 600.0, // a 100 ms window
            ..Pacing::default()
        });
        for _ in 0..2 {
            pacer.reserve(5).await.unwrap();
            pacer.settle(5, None);
        }
        let started = Instant::now();
        pacer.reserve(5).await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(90),
            "the third DELETE waits for the first to leave the window"
        );
    }

    #[tokio::test]
    async fn a_reset_in_the_past_means_the_primary_budget_renewed() {
        let pacer = Pacer::new(Pacing {
            wait_for_primary_reset: false,
            ..Pacing::default()
        });
        let past = Utc::now().timestamp() - 60;
        pacer.reserve(1).await.unwrap();
        pacer.settle(
            1,
            Some(&headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &past.to_string()),
            ])),
        );
        assert!(pacer.reserve(1).await.is_ok());
    }

    #[tokio::test]
    async fn a_spent_primary_budget_fails_fast_when_waiting_is_off() {
        let pacer = Pacer::new(Pacing {
            wait_for_primary_reset: false,
            ..Pacing::default()
        });
        let future = Utc::now().timestamp() + 600;
        pacer.reserve(1).await.unwrap();
        pacer.settle(
            1,
            Some(&headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &future.to_string()),
            ])),
        );
        let reset = pacer.reserve(1).await.unwrap_err();
        assert_eq!(reset.timestamp(), future);
        let response = primary_spent_response(reset);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    }

    #[test]
    fn without_retry_after_a_secondary_limit_waits_a_minute_then_backs_off() {
        let pacer = Pacer::new(Pacing::default());
        assert_eq!(
            pacer.pause_for_secondary_limit(None),
            Duration::from_secs(60)
        );
        assert_eq!(
            pacer.pause_for_secondary_limit(None),
            Duration::from_secs(120)
        );
        assert_eq!(
            pacer.pause_for_secondary_limit(Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }
}
