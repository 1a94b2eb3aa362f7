//! Progress bars on standard error: hidden when it is not a terminal, with `--json` and with
//! `--quiet`. Deleting and restoring show an ETA from the pacing budget
//! ([`Pacing::writes_per_minute`]): no run can be faster than that, whatever the latency.

use std::time::Duration;

use ghpkg::Pacing;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::render::Output;
use crate::render::time::duration;

/// A progress bar, or nothing when progress is hidden.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Listing `packages` packages, one at a time.
    pub fn listing(out: &Output, packages: usize) -> Progress {
        let bar = new_bar(out, packages as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} listing {msg} [{bar:30}] {pos}/{len} packages")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    /// Deleting (or restoring: `verb`) `versions` versions under `pacing`.
    pub fn writing(out: &Output, verb: &'static str, versions: u64, pacing: &Pacing) -> Progress {
        let bar = new_bar(out, versions);
        let per_minute = pacing.writes_per_minute();
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} {verb} [{{bar:30}}] {{pos}}/{{len}} versions, {{msg}} ETA {{budget_eta}}"
        ))
        .expect("the template is valid")
        .progress_chars("=> ")
        .with_key(
            "budget_eta",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let remaining = state.len().unwrap_or(0).saturating_sub(state.pos());
                let eta = budget_eta(remaining, per_minute).max(state.eta());
                let _ = w.write_str(&duration(eta));
            },
        );
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    /// Says what is being worked on.
    pub fn message(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }

    /// One more done.
    pub fn advance(&self) {
        self.bar.inc(1);
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

/// The least time `remaining` writes take at `per_minute`.
pub fn budget_eta(remaining: u64, per_minute: f64) -> Duration {
    if per_minute <= 0.0 || !per_minute.is_finite() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(remaining as f64 / per_minute * 60.0)
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
}
