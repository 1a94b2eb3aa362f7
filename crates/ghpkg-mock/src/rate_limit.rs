//! GitHub's REST rate limits: the primary hourly budget and the secondary limits (concurrent
//! requests and points per minute), measured on the injected clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// Requests per hour GitHub allows a caller without a token.
const ANONYMOUS_PER_HOUR: u32 = 60;

/// Which limits apply and how big they are.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    /// Whether limits are enforced and `X-RateLimit-*` headers sent.
    pub enabled: bool,
    /// Requests per hour per token (GitHub: 5,000).
    pub primary_per_hour: u32,
    /// Secondary-limit points per minute per token (GitHub: 900; GET costs 1, DELETE/POST 5).
    pub secondary_points_per_minute: u32,
    /// Requests per token in flight at once (GitHub: 100).
    pub max_concurrent: u32,
    /// Speeds the windows up: 10.0 makes the hour 6 minutes and the minute 6 seconds.
    pub time_scale: f64,
}

impl RateLimits {
    /// GitHub's published limits, enforced.
    pub fn github() -> Self {
        Self {
            enabled: true,
            primary_per_hour: 5_000,
            secondary_points_per_minute: 900,
            max_concurrent: 100,
            time_scale: 1.0,
        }
    }

    /// No limits and no rate-limit headers (GitHub's numbers kept for when they are enabled).
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::github()
        }
    }

    /// A window of `seconds`, shrunk by `time_scale`.
    pub(crate) fn window(&self, seconds: f64) -> TimeDelta {
        let scale = if self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        };
        TimeDelta::milliseconds(((seconds * 1000.0) / scale).max(1.0) as i64)
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::off()
    }
}

/// Who a budget belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Identity {
    Token { token: String, user_id: i64 },
    Anonymous { ip: String },
}

/// The primary budget after a request, for the `X-RateLimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quota {
    pub limit: u32,
    pub remaining: u32,
    pub used: u32,
    /// Epoch seconds when the hourly window resets.
    pub reset: i64,
}

/// Why a request was turned away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The hourly budget is spent.
    Primary { quota: Quota, message: String },
    /// Too many points this minute, or too many requests in flight.
    Secondary { quota: Quota, retry_after: u64 },
}

#[derive(Debug)]
struct Bucket {
    hour_start: DateTime<Utc>,
    used: u32,
    minute_start: DateTime<Utc>,
    points: u32,
    in_flight: u32,
}

/// Counts every identity's requests.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<Identity, Bucket>>,
}

/// A request admitted under the concurrency limit; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Permit {
    limiter: Arc<RateLimiter>,
    identity: Identity,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut buckets = self.limiter.lock();
        if let Some(bucket) = buckets.get_mut(&self.identity) {
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
        }
    }
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.limits.enabled
    }

    /// The limits in force (or, when off, GitHub's numbers).
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    fn primary_limit(&self, identity: &Identity) -> u32 {
        match identity {
            Identity::Token { .. } => self.limits.primary_per_hour,
            Identity::Anonymous { .. } => ANONYMOUS_PER_HOUR.min(self.limits.primary_per_hour),
        }
    }

    /// The primary budget of `identity` at `now` without spending any of it, as
    /// `GET /rate_limit` reports it: with limits off, or before the identity's first request in
    /// the window, the whole budget with a window starting now.
    pub fn peek(&self, identity: &Identity, now: DateTime<Utc>) -> Quota {
        let hour = self.limits.window(3600.0);
        let limit = self.primary_limit(identity);
        let (start, used) = match self.lock().get(identity) {
            Some(bucket) if self.limits.enabled && now < bucket.hour_start + hour => {
                (bucket.hour_start, bucket.used)
            }
            _ => (now, 0),
        };
        let reset_at = start + hour;
        Quota {
            limit,
            remaining: limit.saturating_sub(used),
            used,
            reset: reset_at.timestamp() + i64::from(reset_at.timestamp_subsec_nanos() > 0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Identity, Bucket>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a request costing `points` at `now`, or says why not. A rejected request costs
    /// nothing.
    pub fn admit(
        self: &Arc<Self>,
        identity: Identity,
        points: u32,
        now: DateTime<Utc>,
    ) -> Result<(Permit, Quota), Rejection> {
        let hour = self.limits.window(3600.0);
        let minute = self.limits.window(60.0);
        let limit = self.primary_limit(&identity);
        let mut buckets = self.lock();
        let bucket = buckets.entry(identity.clone()).or_insert(Bucket {
            hour_start: now,
            used: 0,
            minute_start: now,
            points: 0,
            in_flight: 0,
        });
        if now >= bucket.hour_start + hour {
            bucket.hour_start = now;
            bucket.used = 0;
        }
        if now >= bucket.minute_start + minute {
            bucket.minute_start = now;
            bucket.points = 0;
        }
        let reset_at = bucket.hour_start + hour;
        let reset = reset_at.timestamp() + i64::from(reset_at.timestamp_subsec_nanos() > 0);
        let quota = |used: u32| Quota {
            limit,
            remaining: limit.saturating_sub(used),
            used,
            reset,
        };
        if bucket.used >= limit {
            let message = match &identity {
                Identity::Token { user_id, .. } => {
                    format!("API rate limit exceeded for user ID {user_id}.")
                }
                Identity::Anonymous { ip } => format!(
                    "API rate limit exceeded for {ip}. (But here's the good news: Authenticated \
                     requests get a higher rate limit. Check out the documentation for more details.)"
                ),
            };
            return Err(Rejection::Primary {
                quota: quota(bucket.used),
                message,
            });
        }
        if bucket.in_flight >= self.limits.max_concurrent {
            return Err(Rejection::Secondary {
                quota: quota(bucket.used),
                retry_after: 1,
            });
        }
        if bucket.points.saturating_add(points) > self.limits.secondary_points_per_minute {
            let wait = bucket.minute_start + minute - now;
            let retry_after = u64::try_from(wait.num_milliseconds())
                .unwrap_or(0)
                .div_ceil(1000)
                .max(1);
            return Err(Rejection::Secondary {
                quota: quota(bucket.used),
                retry_after,
            });
        }
        bucket.used += 1;
        bucket.points += points;
        bucket.in_flight += 1;
        let quota = quota(bucket.used);
        drop(buckets);
        Ok((
            Permit {
                limiter: Arc::clone(self),
                identity,
            },
            quota,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Identity {
        Identity::Token {
            token: "t".into(),
            user_id: 42,
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn the_primary_budget_runs_out_and_resets_after_the_hour() {
        let limiter = Arc::new(RateLimiter::new(RateLimits {
            primary_per_hour: 2,
            ..RateLimits::github()
        }));
        let now = start();
        let (_, quota) = limiter.admit(token(), 1, now).unwrap();
        assert_eq!((quota.remaining, quota.used), (1, 1));
        assert_eq!(quota.reset, now.timestamp() + 3600);
        limiter.admit(token(), 1, now).unwrap();
        let Err(Rejection::Primary { message, quota }) = limiter.admit(token(), 1, now) else {
            panic!("expected a primary rejection");
        };
        assert_eq!(message, "API rate limit exceeded for user ID 42.");
        assert_eq!(quota.remaining, 0);
        assert!(limiter.admit(token(), 1, now + TimeDelta::hours(1)).is_ok());
    }

    #[test]
    fn peeking_reports_the_budget_without_spending_it() {
        let limiter = Arc::new(RateLimiter::new(RateLimits::github()));
        let now = start();
        let fresh = limiter.peek(&token(), now);
        assert_eq!(
            (fresh.limit, fresh.remaining, fresh.used),
            (5_000, 5_000, 0)
        );
        assert_eq!(fresh.reset, now.timestamp() + 3600);
        limiter.admit(token(), 1, now).unwrap();
        let later = now + TimeDelta::minutes(5);
        for _ in 0..3 {
            let quota = limiter.peek(&token(), later);
            assert_eq!((quota.remaining, quota.used), (4_999, 1));
            assert_eq!(
                quota.reset,
                now.timestamp() + 3600,
                "the window started earlier"
            );
        }
        let anonymous = Identity::Anonymous {
            ip: "127.0.0.1".into(),
        };
        assert_eq!(limiter.peek(&anonymous, now).limit, 60);
        let off = RateLimiter::new(RateLimits::off());
        assert_eq!(off.peek(&token(), now).remaining, 5_000);
    }

    #[test]
    fn concurrency_is_limited_while_permits_are_held() {
        let limiter = Arc::new(RateLimiter::new(RateLimits {
            max_concurrent: 1,
            ..RateLimits::github()
        }));
        let permit = limiter.admit(token(), 1, start()).unwrap();
        assert!(matches!(
            limiter.admit(token(), 1, start()),
            Err(Rejection::Secondary { .. })
        ));
        drop(permit);
        assert!(limiter.admit(token(), 1, start()).is_ok());
    }

    #[test]
    fn a_time_scale_shortens_the_windows() {
        let limiter = Arc::new(RateLimiter::new(RateLimits {
            secondary_points_per_minute: 5,
            time_scale: 10.0,
            ..RateLimits::github()
        }));
        limiter.admit(token(), 5, start()).unwrap();
        let Err(Rejection::Secondary { retry_after, .. }) =
            limiter.admit(token(), 1, start() + TimeDelta::seconds(1))
        else {
            panic!("expected a secondary rejection");
        };
        assert_eq!(retry_after, 5);
        assert!(
            limiter
                .admit(token(), 1, start() + TimeDelta::seconds(6))
                .is_ok()
        );
    }
}
