//! The budget: what a client may still send, and the [`Reservation`] each request holds while it
//! is in flight.
//!
//! A reservation is a guard. Dropping it at any await point (a timeout, a `select!`, a stream
//! dropped half-way) settles it: points of a request that may have been sent stay counted in the
//! sliding window, as GitHub counts them; a request that was never sent returns its points at
//! once. So a cancelled request never leaks budget, and waiting requests are woken either way.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::classify::header_str;
use crate::scopes::{X_OAUTH_SCOPES, parse_scope_list};

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
        let reset = crate::classify::rate_limit_reset(headers)?;
        let limit = number("x-ratelimit-limit").unwrap_or(remaining);
        Some(Self {
            limit,
            remaining,
            used: number("x-ratelimit-used").unwrap_or(limit.saturating_sub(remaining)),
            reset,
            resource: header_str(headers, "x-ratelimit-resource")
                .unwrap_or("core")
                .chars()
                .take(32)
                .collect(),
        })
    }
}

/// What stands between a request and the network right now.
#[derive(Debug, PartialEq)]
pub(crate) enum Gate {
    /// Send.
    Open,
    /// A pause or the sliding window holds it back until then.
    WaitUntil(Instant),
    /// Every point is held by requests in flight; wait for one to be answered.
    WaitForAnswers,
    /// The primary budget is spent until then.
    PrimarySpent(DateTime<Utc>),
}

/// The mutable state, behind one short-lived lock.
#[derive(Default)]
struct State {
    /// Points of sent requests, each leaving the window at its instant.
    window: VecDeque<(Instant, u32)>,
    /// Sum of the points in `window`.
    window_points: u64,
    /// Points of requests reserved and not yet settled.
    in_flight_points: u64,
    /// Requests reserved and not yet settled (for the primary budget).
    in_flight_requests: u64,
    /// Nothing is sent before this instant (after a rate limit).
    paused_until: Option<Instant>,
    /// Consecutive secondary limits without `Retry-After` (doubles the wait).
    secondary_strikes: u32,
    /// The primary budget as last reported.
    primary: Option<RateLimitStatus>,
    /// The token's scopes as last reported by `X-OAuth-Scopes`.
    scopes: Option<Vec<String>>,
}

impl State {
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

/// Whose budget it is: GitHub counts its limits per token (per address without one), on each
/// API. Clients whose pacing sets another limit or window keep budgets of their own.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct BudgetKey {
    /// The API's base URL (`https://api.github.com`, `https://HOST/api/v3`).
    api: String,
    /// SHA-256 of the token, so that the registry never holds a token longer than its clients.
    token: Option<[u8; 32]>,
    limit: u32,
    window: Duration,
}

impl BudgetKey {
    /// The key of `token` on the API at `api`, with `limit` points per `window`.
    pub(crate) fn new(api: &str, token: Option<&str>, limit: u32, window: Duration) -> Self {
        Self {
            api: api.to_string(),
            token: token.map(|token| Sha256::digest(token.as_bytes()).into()),
            limit,
            window,
        }
    }
}

/// Every budget in use in this process, by whose it is: two clients built for one token share
/// one budget, as GitHub counts one. An entry lives as long as a client holds its budget.
static BUDGETS: LazyLock<Mutex<HashMap<BudgetKey, Weak<Budget>>>> = LazyLock::new(Default::default);

/// The budget of `key`, shared with every live client of the same key.
pub(crate) fn shared_budget(key: BudgetKey) -> Arc<Budget> {
    let mut budgets = BUDGETS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    budgets.retain(|_, budget| budget.strong_count() > 0);
    if let Some(budget) = budgets.get(&key).and_then(Weak::upgrade) {
        return budget;
    }
    let budget = Arc::new(Budget::new(key.limit, key.window));
    budgets.insert(key, Arc::downgrade(&budget));
    budget
}

/// One token's budget: the points window, the primary budget, pauses, and the requests in
/// flight.
pub(crate) struct Budget {
    state: Mutex<State>,
    answered: Notify,
    /// Points allowed in any sliding window.
    limit: u64,
    /// How long a sent request's points stay counted after its answer.
    window: Duration,
}

impl Budget {
    /// A budget of `limit` points per `window`.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            answered: Notify::new(),
            limit: u64::from(limit),
            window,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The last primary budget seen.
    pub(crate) fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.state().primary.clone()
    }

    /// The token's scopes from the last `X-OAuth-Scopes` seen.
    pub(crate) fn granted_scopes(&self) -> Option<Vec<String>> {
        self.state().scopes.clone()
    }

    /// Requests reserved and not yet settled, and their points.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> (u64, u64) {
        let state = self.state();
        (state.in_flight_requests, state.in_flight_points)
    }

    /// Checks the gates and, when they are open, reserves `points` and one primary request.
    pub(crate) fn try_reserve(&self, points: u32) -> Gate {
        let mut state = self.state();
        let gate = self.gate(&mut state, points);
        if gate == Gate::Open {
            state.in_flight_points += u64::from(points);
            state.in_flight_requests += 1;
        }
        gate
    }

    /// A future that completes when any reservation is settled; create it before re-checking
    /// the gates, so that a settlement in between is not missed.
    pub(crate) fn answered(&self) -> tokio::sync::futures::Notified<'_> {
        self.answered.notified()
    }

    /// Checks the gates without reserving.
    #[cfg(test)]
    pub(crate) fn check(&self, points: u32) -> Gate {
        let mut state = self.state();
        self.gate(&mut state, points)
    }

    fn gate(&self, state: &mut State, points: u32) -> Gate {
        let now = Instant::now();
        if let Some(until) = state.paused_until {
            if until > now {
                return Gate::WaitUntil(until);
            }
            state.paused_until = None;
        }
        if let Some(primary) = &state.primary
            && primary.reset > Utc::now()
            && primary.remaining <= state.in_flight_requests
        {
            return Gate::PrimarySpent(primary.reset);
        }
        state.expire(now);
        let wanted = u64::from(points);
        let committed = state.window_points + state.in_flight_points;
        // A request costlier than the whole budget still goes when nothing else is counted.
        if committed + wanted <= self.limit || committed == 0 {
            return Gate::Open;
        }
        match state.window.front() {
            Some(&(leaves, _)) => Gate::WaitUntil(leaves),
            None => Gate::WaitForAnswers,
        }
    }

    /// Settles a reservation of `points`: a request that may have been sent (`charged`) keeps
    /// its points in the window for one window from now. Learns from the answer's headers.
    fn settle(&self, points: u32, charged: bool, headers: Option<&HeaderMap>) {
        let mut state = self.state();
        state.in_flight_points = state.in_flight_points.saturating_sub(u64::from(points));
        state.in_flight_requests = state.in_flight_requests.saturating_sub(1);
        if charged {
            let leaves = Instant::now() + self.window;
            state.window.push_back((leaves, points));
            state.window_points += u64::from(points);
        }
        if let Some(headers) = headers {
            if let Some(status) = RateLimitStatus::from_headers(headers) {
                state.primary = Some(status);
            }
            if let Some(scopes) = header_str(headers, X_OAUTH_SCOPES)
                .map(parse_scope_list)
                .or_else(|| headers.get(X_OAUTH_SCOPES).map(|_| Vec::new()))
            {
                state.scopes = Some(scopes);
            }
        }
        drop(state);
        self.answered.notify_waiters();
    }

    /// Until when a rate limit holds every request back, if one does now: a pause after a
    /// rate-limited answer, or the primary budget spent until its reset (whichever is later).
    pub(crate) fn paused_until(&self) -> Option<DateTime<Utc>> {
        let state = self.state();
        let now = Instant::now();
        let paused = state
            .paused_until
            .filter(|until| *until > now)
            .map(|until| Utc::now() + (until - now));
        let spent = state
            .primary
            .as_ref()
            .filter(|primary| primary.remaining == 0 && primary.reset > Utc::now())
            .map(|primary| primary.reset);
        paused.max(spent)
    }

    /// Holds every request back until `until` (after a rate limit).
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut state = self.state();
        if state.paused_until.is_none_or(|paused| paused < until) {
            state.paused_until = Some(until);
        }
    }

    /// The wait after a secondary limit without `Retry-After`: `minute`, doubled for each
    /// consecutive one (up to 32 minutes). A limit with `Retry-After` resets the count.
    pub(crate) fn secondary_backoff(
        &self,
        retry_after: Option<Duration>,
        minute: Duration,
    ) -> Duration {
        let mut state = self.state();
        match retry_after {
            Some(wait) => {
                state.secondary_strikes = 0;
                wait
            }
            None => {
                state.secondary_strikes = state.secondary_strikes.saturating_add(1);
                let doublings = state.secondary_strikes.saturating_sub(1).min(5);
                minute.saturating_mul(2u32.pow(doublings))
            }
        }
    }

    /// An answer that was not a rate limit arrived: the next secondary limit without
    /// `Retry-After` waits a minute again, not double the last wait.
    pub(crate) fn clear_secondary_strikes(&self) {
        self.state().secondary_strikes = 0;
    }

    /// Forgets the primary budget (after waiting for its reset: the next answer says anew).
    pub(crate) fn forget_primary(&self) {
        self.state().primary = None;
    }

    /// A reservation of `points` already counted by [`Budget::try_reserve`].
    pub(crate) fn reservation(&self, points: u32) -> Reservation<'_> {
        Reservation {
            budget: self,
            points,
            sent: false,
            settled: false,
        }
    }
}

/// Points reserved for one request in flight. Settled by [`Reservation::settle`], or on drop.
pub(crate) struct Reservation<'b> {
    budget: &'b Budget,
    points: u32,
    sent: bool,
    settled: bool,
}

impl Reservation<'_> {
    /// From now on the request may have reached the server: its points stay counted.
    pub(crate) fn mark_sent(&mut self) {
        self.sent = true;
    }

    /// Settles with the answer's headers (or none, after a transport failure).
    pub(crate) fn settle(mut self, headers: Option<&HeaderMap>) {
        self.settled = true;
        self.budget.settle(self.points, self.sent, headers);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.budget.settle(self.points, self.sent, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_dropped_reservation_is_settled_and_returns_unsent_points() {
        let budget = Budget::new(10, Duration::from_secs(60));
        assert_eq!(budget.try_reserve(5), Gate::Open);
        drop(budget.reservation(5));
        assert_eq!(budget.in_flight(), (0, 0));
        assert_eq!(budget.try_reserve(10), Gate::Open, "nothing was charged");
        let mut sent = budget.reservation(10);
        sent.mark_sent();
        drop(sent);
        assert_eq!(budget.in_flight(), (0, 0));
        assert!(
            matches!(budget.check(1), Gate::WaitUntil(_)),
            "a request that may have been sent stays in the window"
        );
    }

    #[test]
    fn rate_limit_headers_are_read_and_blank_ones_ignored() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4999"),
            ("x-ratelimit-used", "1"),
            ("x-ratelimit-reset", "1700000000"),
            ("x-ratelimit-resource", "core"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let status = RateLimitStatus::from_headers(&headers).unwrap();
        assert_eq!(
            (status.limit, status.remaining, status.used),
            (5000, 4999, 1)
        );
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static(""));
        assert!(RateLimitStatus::from_headers(&headers).is_none());
    }

    #[test]
    fn without_retry_after_a_secondary_limit_waits_a_minute_then_doubles() {
        let budget = Budget::new(900, Duration::from_secs(60));
        let minute = Duration::from_secs(60);
        assert_eq!(budget.secondary_backoff(None, minute), minute);
        assert_eq!(budget.secondary_backoff(None, minute), minute * 2);
        assert_eq!(
            budget.secondary_backoff(Some(Duration::from_secs(3)), minute),
            Duration::from_secs(3)
        );
        assert_eq!(budget.secondary_backoff(None, minute), minute);
        assert_eq!(budget.secondary_backoff(None, minute), minute * 2);
        budget.clear_secondary_strikes();
        assert_eq!(
            budget.secondary_backoff(None, minute),
            minute,
            "success resets the doubling"
        );
    }
}
