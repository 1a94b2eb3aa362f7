//! Progress bars on standard error: hidden when it is not a terminal, with `--json` and with
//! `--quiet`.
//!
//! - **Planning** shows, per package, the pages of its listing and the manifests of its image
//!   graph as the library reports them ([`ghpkg::PlanningEvent`]), with an ETA: pages at the
//!   pacing budget ([`Pacing::reads_per_minute`]), manifests at the rate seen so far.
//! - **Deleting and restoring** show an ETA from the pacing budget
//!   ([`Pacing::writes_per_minute`]): no run can be faster than that, whatever the latency.
//!   While a rate limit holds every request back ([`ghpkg::Client::rate_limit_pause`]), the bar
//!   says it is waiting and until when, and the ETA counts down through the wait.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Local, Utc};
use ghpkg::{Client, Pacing, PlanningEvent};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::render::Output;
use crate::render::time::{count, duration};

/// A progress bar, or nothing when progress is hidden.
pub struct Progress {
    bar: ProgressBar,
    /// What planning has reported of the package being read.
    planning: Option<Arc<Mutex<PlanningState>>>,
}

impl Progress {
    /// Planning `packages` packages, one at a time, under `pacing`: feed it the library's
    /// events with [`Progress::planning_event`].
    pub fn planning(out: &Output, packages: usize, pacing: &Pacing) -> Progress {
        let bar = new_bar(out, packages as u64);
        let state = Arc::new(Mutex::new(PlanningState::new(pacing.reads_per_minute())));
        let shown = Arc::clone(&state);
        bar.set_style(
            ProgressStyle::with_template("{spinner} planning {pos}/{len} packages: {planning}")
                .expect("the template is valid")
                .with_key(
                    "planning",
                    move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                        if let Ok(state) = shown.lock() {
                            let _ = w.write_str(&state.status(Instant::now()));
                        }
                    },
                ),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar,
            planning: Some(state),
        }
    }

    /// Deleting or restoring (`verb`) `versions` versions under `pacing`.
    pub fn writing(out: &Output, verb: &'static str, versions: u64, pacing: &Pacing) -> Progress {
        writing_bar(out, verb, versions, pacing, None)
    }

    /// Deleting `versions` versions through `client`, saying when its rate limit holds it.
    pub fn deleting(out: &Output, verb: &'static str, versions: u64, client: &Client) -> Progress {
        writing_bar(out, verb, versions, client.pacing(), Some(client.clone()))
    }

    /// Takes in what planning reports.
    pub fn planning_event(&self, event: PlanningEvent<'_>) {
        if let Some(state) = &self.planning
            && let Ok(mut state) = state.lock()
        {
            state.record(event, Instant::now());
        }
    }

    /// Says what is being worked on.
    pub fn message(&self, message: impl Into<String>) {
        let message = message.into();
        if let Some(state) = &self.planning
            && let Ok(mut state) = state.lock()
        {
            state.start(&message, Instant::now());
        }
        self.bar.set_message(message);
    }

    /// One more done.
    pub fn advance(&self) {
        self.bar.inc(1);
    }

    /// Runs `f` with the bar cleared (to print a line without tearing it).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn new_bar(out: &Output, length: u64) -> ProgressBar {
    let bar = ProgressBar::new(length);
    if !out.shows_progress() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

fn writing_bar(
    out: &Output,
    verb: &'static str,
    versions: u64,
    pacing: &Pacing,
    client: Option<Client>,
) -> Progress {
    let bar = new_bar(out, versions);
    let per_minute = pacing.writes_per_minute();
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} {verb} [{{bar:30}}] {{pos}}/{{len}} versions, {{msg}} {{budget_eta}}"
    ))
    .expect("the template is valid")
    .progress_chars("=> ")
    .with_key(
        "budget_eta",
        move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let remaining = state.len().unwrap_or(0).saturating_sub(state.pos());
            let pause = client
                .as_ref()
                .and_then(Client::rate_limit_pause)
                .map(|until| Pause::until(until, Utc::now()));
            let _ = w.write_str(&writing_status(
                remaining,
                per_minute,
                state.eta(),
                pause.as_ref(),
            ));
        },
    );
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    Progress {
        bar,
        planning: None,
    }
}

/// A rate-limit pause, as the bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    /// When it ends, as a local time of day (`14:03:12`).
    pub until: String,
    /// How long it still lasts.
    pub left: Duration,
}

impl Pause {
    /// The pause ending at `until`, seen at `now`.
    pub fn until(until: DateTime<Utc>, now: DateTime<Utc>) -> Pause {
        Pause {
            until: until.with_timezone(&Local).format("%H:%M:%S").to_string(),
            left: (until - now).to_std().unwrap_or(Duration::ZERO),
        }
    }
}

/// The end of the deleting bar: the ETA — at least what `per_minute` writes allow for
/// `remaining`, at least what the bar has seen (`observed`) — or, during `pause`, that it is
/// waiting and until when, with the ETA counted down through the wait.
pub fn writing_status(
    remaining: u64,
    per_minute: f64,
    observed: Duration,
    pause: Option<&Pause>,
) -> String {
    let floor = budget_eta(remaining, per_minute);
    match pause {
        // The rate seen so far stalls during a pause: the wait and the budget say it all.
        Some(pause) => format!(
            "waiting for GitHub's rate limit until {} ({} left), ETA {}",
            pause.until,
            duration(pause.left),
            duration(pause.left + floor)
        ),
        None => format!("ETA {}", duration(floor.max(observed))),
    }
}

/// The least time `remaining` writes take at `per_minute`.
pub fn budget_eta(remaining: u64, per_minute: f64) -> Duration {
    if per_minute <= 0.0 || !per_minute.is_finite() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(remaining as f64 / per_minute * 60.0)
}

/// What planning has reported of the package being read.
#[derive(Clone, Debug)]
pub struct PlanningState {
    package: String,
    reads_per_minute: f64,
    versions: Option<u64>,
    pages: u64,
    /// Pages taken from a listing checkpoint (not listed again).
    resumed: u64,
    read: u64,
    known: u64,
    /// When the first manifest of the package was read.
    reading_since: Option<Instant>,
}

impl PlanningState {
    /// Nothing reported yet; pages are listed at most `reads_per_minute` a minute.
    pub fn new(reads_per_minute: f64) -> PlanningState {
        PlanningState {
            package: String::new(),
            reads_per_minute,
            versions: None,
            pages: 0,
            resumed: 0,
            read: 0,
            known: 0,
            reading_since: None,
        }
    }

    /// A new package, `package`, starts at `now`.
    pub fn start(&mut self, package: &str, _now: Instant) {
        *self = PlanningState {
            package: package.to_string(),
            ..PlanningState::new(self.reads_per_minute)
        };
    }

    /// Takes in `event`, seen at `now`.
    pub fn record(&mut self, event: PlanningEvent<'_>, now: Instant) {
        match event {
            PlanningEvent::Counted { versions, .. } => {
                self.versions = Some(versions);
                self.pages = self.resumed;
            }
            PlanningEvent::Resumed { pages, .. } => {
                self.resumed = pages;
                self.pages = pages;
            }
            PlanningEvent::Listed { pages, .. } => self.pages = pages,
            PlanningEvent::ManifestsRead { read, known, .. } => {
                if self.reading_since.is_none() {
                    self.reading_since = Some(now);
                }
                self.read = read;
                self.known = known;
            }
            _ => {}
        }
    }

    /// The package, its pages and manifests so far, and the ETA of what is left of it.
    pub fn status(&self, now: Instant) -> String {
        let mut out = self.package.clone();
        let pages_total = self
            .versions
            .map(|versions| versions.div_ceil(u64::from(ghpkg::pagination::STREAM_PER_PAGE)));
        let mut eta = Duration::ZERO;
        match pages_total {
            Some(total) => {
                let pages = self.pages.min(total);
                out.push_str(&format!(", {}/{} pages", count(pages), count(total)));
                if self.resumed > 0 {
                    out.push_str(&format!(" (resumed after page {})", count(self.resumed)));
                }
                eta += budget_eta(total - pages, self.reads_per_minute);
            }
            None if self.pages > 0 => out.push_str(&format!(", {} pages", count(self.pages))),
            None => {}
        }
        if self.known > 0 {
            out.push_str(&format!(
                ", {}/{} manifests",
                count(self.read),
                count(self.known)
            ));
            if let Some(since) = self.reading_since
                && self.read > 0
            {
                let per_read = now.duration_since(since).div_f64(self.read as f64);
                eta += per_read.mul_f64(self.known.saturating_sub(self.read) as f64);
            }
        }
        if self.versions.is_some() {
            out.push_str(&format!(", ETA {}", duration(eta)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_budget_allows_180_deletions_a_minute() {
        let pacing = Pacing::default();
        assert_eq!(pacing.writes_per_minute(), 180.0);
        assert_eq!(
            budget_eta(900, pacing.writes_per_minute()),
            Duration::from_secs(300)
        );
        let scaled = Pacing {
            time_scale: 10.0,
            ..Pacing::default()
        };
        assert_eq!(
            budget_eta(900, scaled.writes_per_minute()),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn during_a_rate_limit_pause_the_bar_says_until_when_and_the_eta_counts_down() {
        let per_minute = Pacing::default().writes_per_minute();
        // 180 left: a minute of budget. The rate seen so far is slower, and frozen.
        let frozen = Duration::from_secs(600);
        assert_eq!(writing_status(180, per_minute, frozen, None), "ETA 10m 00s");
        let pause = |left: u64| Pause {
            until: "14:03:12".into(),
            left: Duration::from_secs(left),
        };
        let early = writing_status(180, per_minute, frozen, Some(&pause(40)));
        let later = writing_status(180, per_minute, frozen, Some(&pause(10)));
        assert_eq!(
            early,
            "waiting for GitHub's rate limit until 14:03:12 (40s left), ETA 1m 40s"
        );
        assert_eq!(
            later,
            "waiting for GitHub's rate limit until 14:03:12 (10s left), ETA 1m 10s"
        );
    }

    #[test]
    fn planning_shows_pages_and_manifests_with_an_eta_from_the_budget() {
        let start = Instant::now();
        // GitHub's budget: 900 pages a minute, 15 a second.
        let mut state = PlanningState::new(Pacing::default().reads_per_minute());
        state.start("web/app", start);
        assert_eq!(state.status(start), "web/app");
        let package = "web/app";
        state.record(
            PlanningEvent::Counted {
                package,
                versions: 3_000,
            },
            start,
        );
        assert_eq!(state.status(start), "web/app, 0/30 pages, ETA 2s");
        state.record(
            PlanningEvent::Listed {
                package,
                pages: 30,
                versions: 3_000,
            },
            start,
        );
        state.record(
            PlanningEvent::ManifestsRead {
                package,
                read: 1,
                known: 3_000,
            },
            start,
        );
        let later = start + Duration::from_secs(10);
        state.record(
            PlanningEvent::ManifestsRead {
                package,
                read: 1_001,
                known: 3_000,
            },
            later,
        );
        // 1,000 reads took 10 s; 1,999 are left.
        assert_eq!(
            state.status(later),
            "web/app, 30/30 pages, 1,001/3,000 manifests, ETA 19s"
        );
    }
}
