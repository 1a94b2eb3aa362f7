//! `cargo xtask bench`: builds the emulator and the benchmark in release mode and runs them.
//!
//! The scenarios live in `bench/` (`ghpkg-bench`); the emulator runs as a separate process so
//! that the client's figures exclude it. Results: a table on stdout and `target/bench/results.json`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Builds `ghpkg-mock`, `ghpkg-bench` and the release `ghpkg` (without the demo feature, as
/// released) with `--release`, then runs every scenario.
pub fn run(root: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "ghpkg-cli",
            "--no-default-features",
            "--bin",
            "ghpkg",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building the release ghpkg failed");
    }
    let status = Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "ghpkg-mock",
            "-p",
            "ghpkg-bench",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building the benchmark failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let release = target.join("release");
    let status = Command::new(release.join("ghpkg-bench"))
        .current_dir(root)
        .arg("run")
        .arg("--mock")
        .arg(release.join("ghpkg-mock"))
        .arg("--ghpkg")
        .arg(release.join("ghpkg"))
        .arg("--out")
        .arg(target.join("bench"))
        .status()
        .context("running ghpkg-bench")?;
    if !status.success() {
        bail!("the benchmark failed");
    }
    Ok(())
}
