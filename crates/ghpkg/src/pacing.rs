//! Placeholder for the pacing policy (the lead's `pacing.rs` replaces this file): it keeps the
//! agreed interface and forwards every request unchanged, remembering only the last
//! `X-OAuth-Scopes` and rate-limit headers it saw.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;

/// How fast and how persistently the client talks to GitHub.
#[derive(Clone, Debug)]
pub struct Pacing {
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Secondary-limit points spent per minute at most.
    pub points_per_minute: u32,
    /// Multiplier applied to every wait (the emulator runs clocks faster).
    pub time_scale: f64,
    /// Whether to wait for the primary budget to reset instead of failing.
    pub wait_for_primary_reset: bool,
    /// Retries of one request after a transient failure.
    pub max_retries: u32,
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_max: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            max_concurrency: 4,
            points_per_minute: 900,
            time_scale: 1.0,
            wait_for_primary_reset: true,
            max_retries: 3,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }
}

impl Pacing {
    /// No pacing, no waiting and no retries.
    pub fn unpaced() -> Self {
        Self {
            max_concurrency: usize::MAX,
            points_per_minute: u32::MAX,
            time_scale: 1.0,
            wait_for_primary_reset: false,
            max_retries: 0,
            backoff_base: Duration::ZERO,
            backoff_max: Duration::ZERO,
        }
    }
}

/// The primary rate-limit budget as GitHub last reported it.
#[derive(Clone, Debug)]
pub struct RateLimitStatus {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// Requests spent in this window.
    pub used: u64,
    /// When the window resets.
    pub reset: chrono::DateTime<chrono::Utc>,
    /// The budget's resource name (`core`).
    pub resource: String,
}

/// The transport that applies [`Pacing`] to every request.
pub(crate) struct Pacer {
    #[allow(dead_code)]
    pacing: Pacing,
    scopes: Mutex<Option<Vec<String>>>,
}

impl Pacer {
    /// A pacer that applies `pacing`.
    pub(crate) fn new(pacing: Pacing) -> Arc<Pacer> {
        Arc::new(Pacer {
            pacing,
            scopes: Mutex::new(None),
        })
    }

    /// The scopes of the last `X-OAuth-Scopes` header seen.
    pub(crate) fn granted_scopes(&self) -> Option<Vec<String>> {
        self.scopes.lock().ok()?.clone()
    }

    /// The last rate-limit status seen.
    pub(crate) fn rate_limit(&self) -> Option<RateLimitStatus> {
        None
    }
}

impl ghpkg_api::Transport for Pacer {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        _operation_id: &'static str,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>> {
        Box::pin(async move {
            let response = client.execute(request).await?;
            if let Some(value) = response.headers().get("x-oauth-scopes")
                && let Ok(text) = value.to_str()
                && let Ok(mut scopes) = self.scopes.lock()
            {
                *scopes = Some(
                    text.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                );
            }
            Ok(response)
        })
    }
}
