//! The clock the emulator reads: deletion windows, rate-limit windows and fixture times are all
//! measured on it, so that tests can jump a month ahead without waiting.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// An injectable clock: real time ([`MockClock::system`]) or a hand-driven one
/// ([`MockClock::manual`]).
///
/// Clones share one clock, so a test keeps a handle and moves the server's time with
/// [`advance`](MockClock::advance) or [`set`](MockClock::set). Both work on a system clock too:
/// they shift it by a fixed offset from real time.
#[derive(Clone)]
pub struct MockClock {
    inner: Arc<Mutex<ClockState>>,
}

struct ClockState {
    /// `None` follows real time; `Some` is a fixed instant.
    manual: Option<DateTime<Utc>>,
    offset: TimeDelta,
}

impl ClockState {
    fn base(&self) -> DateTime<Utc> {
        self.manual.unwrap_or_else(Utc::now)
    }
}

impl MockClock {
    /// A clock that follows real time.
    pub fn system() -> Self {
        Self::from_state(ClockState {
            manual: None,
            offset: TimeDelta::zero(),
        })
    }

    /// A clock that stands still at `start` until it is advanced or set.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::from_state(ClockState {
            manual: Some(start),
            offset: TimeDelta::zero(),
        })
    }

    fn from_state(state: ClockState) -> Self {
        Self {
            inner: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ClockState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current time on this clock.
    pub fn now(&self) -> DateTime<Utc> {
        let state = self.lock();
        state.base() + state.offset
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        let mut state = self.lock();
        state.offset = state.offset.checked_add(&by).unwrap_or(TimeDelta::MAX);
    }

    /// Makes the clock read `to` now (and, for a system clock, run on from there).
    pub fn set(&self, to: DateTime<Utc>) {
        let mut state = self.lock();
        state.offset = to - state.base();
    }

    /// Whether this clock stands still between calls to `advance`/`set`.
    pub fn is_manual(&self) -> bool {
        self.lock().manual.is_some()
    }
}

impl Default for MockClock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for MockClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_manual() { "manual" } else { "system" };
        f.debug_struct("MockClock")
            .field("kind", &kind)
            .field("now", &self.now())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let clock = MockClock::manual(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(Duration::from_secs(31 * 24 * 3600));
        assert_eq!(clock.now(), start + TimeDelta::days(31));
        clock.set(start);
        assert_eq!(shared.now(), start);
    }

    #[test]
    fn a_system_clock_can_be_shifted() {
        let clock = MockClock::system();
        clock.advance(Duration::from_secs(3600));
        let ahead = clock.now() - Utc::now();
        assert!(ahead > TimeDelta::minutes(59), "{ahead}");
    }
}
