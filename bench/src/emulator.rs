//! The emulator as a separate process: start it, read its URL, read its counters, stop it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ghpkg_mock::Stats;

/// A running `ghpkg-mock serve`, killed on drop.
pub struct EmulatorProcess {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base_url: String,
    http: reqwest::Client,
}

/// How to start the emulator.
pub struct EmulatorSettings<'a> {
    pub fixture: &'a Path,
    pub latency: Duration,
    pub time_scale: f64,
}

impl EmulatorProcess {
    /// Starts `mock serve` on an ephemeral loopback port with GitHub's rate limits on.
    pub fn start(mock: &Path, settings: &EmulatorSettings<'_>) -> Result<Self> {
        let mut child = Command::new(mock)
            .args(["serve", "--addr", "127.0.0.1:0", "--rate-limits", "github"])
            .arg("--fixture")
            .arg(settings.fixture)
            .arg("--latency")
            .arg(format!("{}ms", settings.latency.as_millis()))
            .arg("--time-scale")
            .arg(settings.time_scale.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", mock.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        lines.read_line(&mut first)?;
        // Keep reading what it prints (tokens, hints), so that its stdout never closes on it.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        let Some(base_url) = first.trim().strip_prefix("ghpkg-mock listening on ") else {
            let _ = child.kill();
            bail!("unexpected first line from ghpkg-mock: {first:?}");
        };
        Ok(Self {
            base_url: base_url.to_string(),
            child,
            http: reqwest::Client::new(),
        })
    }

    /// The emulator's counters (`GET /_mock/stats`).
    pub async fn stats(&self) -> Result<Stats> {
        let url = format!("{}/_mock/stats", self.base_url);
        Ok(self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
