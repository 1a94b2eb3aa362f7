//! Scenario 8: the Action's start. Its install step (`action/install.sh download`) fetches the
//! release binary from a release server on loopback and checks it against `SHA256SUMS`, then
//! its prune step (`action/run.sh prune`) plans; the figure is the time from the install step's
//! start to the plan printed. The floor is the same prune with the binary already installed: what
//! the install costs on top (the goal is under 10 s in all; `cargo install` took 446 s).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::emulator::EmulatorProcess;
use crate::report::Figure;
use crate::scenarios::ORG;

const TOKEN: &str = "ghp_user-0_all";
/// The goal for install plus plan, in seconds.
const GOAL_SECONDS: f64 = 10.0;
/// Repetitions of each measurement (the median is reported).
const REPETITIONS: usize = 3;

/// Runs scenario 8 against `emulator` (one npm package `pkg-0`) with the release binary `ghpkg`.
pub async fn install_to_plan(
    emulator: &EmulatorProcess,
    ghpkg: &Path,
    out: &Path,
) -> Result<Vec<Figure>> {
    let root = workspace_root();
    let version = release_version(ghpkg)?;
    let tag = format!("v{version}");
    let binary = std::fs::read(ghpkg).with_context(|| format!("reading {}", ghpkg.display()))?;
    let asset = asset_name()?;
    let sums = format!("{}  {asset}\n", sha256_hex(&binary));
    let files = BTreeMap::from([
        (format!("{tag}/{asset}"), binary.clone()),
        (format!("{tag}/SHA256SUMS"), sums.into_bytes()),
    ]);
    let releases = serve(files).await?;

    let mut with_install = Vec::new();
    let mut plan_alone = Vec::new();
    for repetition in 0..REPETITIONS {
        let temp = out.join(format!("action-runner-{repetition}"));
        let _ = std::fs::remove_dir_all(&temp);
        std::fs::create_dir_all(&temp)?;
        let started = Instant::now();
        let outputs = temp.join("install-outputs");
        let status = step(&root, &temp, &outputs)
            .arg(root.join("action/install.sh"))
            .arg("download")
            .env("GHPKG_ACTION_REF", &tag)
            .env("INPUT_RELEASE_URL", &releases)
            .status()?;
        ensure!(status.success(), "the install step failed");
        let installed = std::fs::read_to_string(&outputs)?
            .lines()
            .find_map(|line| line.strip_prefix("ghpkg=").map(PathBuf::from))
            .context("the install step named no binary")?;
        ensure!(
            std::fs::read(&installed)? == binary,
            "installed the wrong binary"
        );
        let installing = started.elapsed();
        let planning = until_plan(prune(&root, &temp, &installed, &emulator.base_url))?;
        with_install.push(installing + planning);
        // The same plan with the binary in place.
        plan_alone.push(until_plan(prune(
            &root,
            &temp,
            &installed,
            &emulator.base_url,
        ))?);
    }
    let measured = median(&mut with_install);
    let floor = median(&mut plan_alone);
    println!(
        "scenario 8: the Action's install (download, SHA256SUMS) to the plan printed: {measured:.2} s; \
         the plan alone {floor:.2} s ({} MiB binary)",
        binary.len() / (1 << 20)
    );
    Ok(vec![Figure {
        scenario: "8 Action: install to plan",
        metric: "elapsed",
        unit: "s",
        measured,
        floor,
        ratio: measured / floor,
        target: "<= 10 s (floor: plan alone)",
        met: measured <= GOAL_SECONDS,
    }])
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is in the workspace")
        .to_path_buf()
}

/// `ghpkg --version`'s number.
fn release_version(ghpkg: &Path) -> Result<String> {
    let output = Command::new(ghpkg).arg("--version").output()?;
    let text = String::from_utf8(output.stdout)?;
    text.trim()
        .strip_prefix("ghpkg ")
        .map(str::to_string)
        .with_context(|| format!("unexpected --version: {text}"))
}

/// This machine's release asset (the bench runs on Linux).
fn asset_name() -> Result<String> {
    match std::env::consts::ARCH {
        "x86_64" => Ok("ghpkg-x86_64-unknown-linux-musl".into()),
        "aarch64" => Ok("ghpkg-aarch64-unknown-linux-musl".into()),
        other => bail!("no release asset for {other}"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A step's process: bash with the runner's environment under `temp`.
fn step(root: &Path, temp: &Path, outputs: &Path) -> Command {
    let mut command = Command::new("bash");
    command
        .current_dir(temp)
        .env("GITHUB_ACTION_PATH", root)
        .env("GITHUB_OUTPUT", outputs)
        .env("GITHUB_ACTIONS", "true")
        .env("RUNNER_OS", "Linux")
        .env(
            "RUNNER_ARCH",
            if cfg!(target_arch = "aarch64") {
                "ARM64"
            } else {
                "X64"
            },
        )
        .env("RUNNER_TEMP", temp)
        .env_remove("GITHUB_STEP_SUMMARY");
    command
}

/// The prune step: a dry run keeping the 10 newest versions of `pkg-0`.
fn prune(root: &Path, temp: &Path, ghpkg: &Path, api: &str) -> Command {
    let mut command = step(root, temp, &temp.join("prune-outputs"));
    command
        .arg(root.join("action/run.sh"))
        .arg("prune")
        .env("GHPKG", ghpkg)
        .env("GH_TOKEN", TOKEN)
        .env("INPUT_PACKAGE_TYPE", "npm")
        .env("INPUT_PACKAGES", "pkg-0")
        .env("INPUT_ORG", ORG)
        .env("INPUT_API_URL", api)
        .env("INPUT_KEEP", "10")
        // The emulator's rate-limit windows are scaled; so are the client's.
        .env("GHPKG_TIME_SCALE", crate::scenarios::TIME_SCALE.to_string());
    command
}

/// Runs `command` and returns the time from its start to the plan's first line printed; the
/// process is then waited for, and must succeed.
fn until_plan(mut command: Command) -> Result<Duration> {
    let started = Instant::now();
    let mut child = command.stdout(Stdio::piped()).spawn()?;
    let stdout = child.stdout.take().expect("piped");
    let mut printed = None;
    for line in BufReader::new(stdout).lines() {
        if printed.is_none() && line?.starts_with("Plan for ") {
            printed = Some(started.elapsed());
        }
    }
    ensure!(child.wait()?.success(), "the prune step failed");
    printed.context("the prune step printed no plan")
}

fn median(values: &mut [Duration]) -> f64 {
    values.sort();
    values[values.len() / 2].as_secs_f64()
}

/// Serves `files` at `/TAG/FILE` on loopback; returns the base URL.
async fn serve(files: BTreeMap<String, Vec<u8>>) -> Result<String> {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    let files = Arc::new(files);
    let app = axum::Router::new()
        .route(
            "/{tag}/{file}",
            axum::routing::get(
                |State(files): State<Arc<BTreeMap<String, Vec<u8>>>>,
                 UrlPath((tag, file)): UrlPath<(String, String)>| async move {
                    match files.get(&format!("{tag}/{file}")) {
                        Some(bytes) => (StatusCode::OK, bytes.clone()),
                        None => (StatusCode::NOT_FOUND, Vec::new()),
                    }
                },
            ),
        )
        .with_state(files);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
