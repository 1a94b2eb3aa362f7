//! Scenario 10: the emulator at a real user's scale. `ghpkg-mock serve --synthetic` (the release
//! binary) builds one container package of 160,000 versions — 150,000 single-platform images and
//! 2,000 multi-arch images (an index, two platform images and two attestations each) — in
//! process; the scenario measures the time until it prints its address (ready to serve) and its
//! resident memory then (`VmRSS` of `/proc/PID/status`), against the targets of 4 KB a version
//! (600 MB for 150,000) and 10 s, and checks that it answers: the package's version count, a
//! listing page, the `latest` index and its children, and an image by tag and by digest.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use ghpkg_mock::fixture::manifest::sha256_digest;
use serde_json::Value;

use crate::report::Figure;

/// Single-platform images of the package.
const SINGLE_ARCH_IMAGES: u32 = 150_000;
/// Multi-arch images of the package (five versions each).
const MULTI_ARCH_IMAGES: u32 = 2_000;
/// Versions of the package.
const VERSIONS: u32 = SINGLE_ARCH_IMAGES + 5 * MULTI_ARCH_IMAGES;
/// The memory target, in bytes a version.
const BYTES_PER_VERSION_TARGET: f64 = 4_096.0;
/// The memory target for 150,000 versions, in MB.
const RSS_TARGET_MB: f64 = 600.0;
/// The start target, in seconds.
const START_TARGET_S: f64 = 10.0;
/// The package's owner (`--orgs 0 --users 1`: one user, one package) and its token.
const OWNER: &str = "user-0";
const TOKEN: &str = "ghp_user-0_all";
const PACKAGE: &str = "pkg-0";

/// A `ghpkg-mock serve --synthetic`, killed on drop.
pub(crate) struct Served {
    child: Child,
    /// Where it listens.
    pub base_url: String,
    ready_after: Duration,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the emulator with the scenario's world and waits for its address.
fn start(mock: &Path) -> Result<Served> {
    serve_synthetic(
        mock,
        &ContainerWorld {
            seed: 10,
            orgs: 0,
            versions: VERSIONS,
            multi_arch: MULTI_ARCH_IMAGES,
        },
    )
}

/// A synthetic world of one user and `orgs` organizations, each owning one container package
/// (`pkg-0`) of `versions` versions, `multi_arch` of its images multi-arch.
pub(crate) struct ContainerWorld {
    /// The generator's seed.
    pub seed: u64,
    /// Organizations besides the user.
    pub orgs: u32,
    /// Versions of each package.
    pub versions: u32,
    /// Multi-arch images of each package (five versions each).
    pub multi_arch: u32,
}

impl ContainerWorld {
    /// The world as `ghpkg-mock serve --synthetic`'s flags.
    fn serve_args(&self) -> Vec<String> {
        [
            ("--seed", self.seed.to_string()),
            ("--orgs", self.orgs.to_string()),
            ("--users", "1".to_owned()),
            ("--packages", "1".to_owned()),
            ("--types", "container".to_owned()),
            ("--versions", self.versions.to_string()),
            ("--multi-arch", self.multi_arch.to_string()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect()
    }
}

/// Starts `ghpkg-mock serve --synthetic` with `world` (no rate limits, no latency) and waits
/// for its address.
pub(crate) fn serve_synthetic(mock: &Path, world: &ContainerWorld) -> Result<Served> {
    let started = Instant::now();
    let mut child = Command::new(mock)
        .args(["serve", "--addr", "127.0.0.1:0", "--rate-limits", "off"])
        .arg("--synthetic")
        .args(world.serve_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", mock.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    lines.read_line(&mut first)?;
    let ready_after = started.elapsed();
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let Some(base_url) = first.trim().strip_prefix("ghpkg-mock listening on ") else {
        let _ = child.kill();
        bail!("unexpected first line from ghpkg-mock serve --synthetic: {first:?}");
    };
    Ok(Served {
        base_url: base_url.to_owned(),
        child,
        ready_after,
    })
}

/// A `/proc/PID/status` figure in bytes (`VmRSS`, `VmHWM`).
fn proc_status_bytes(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib * 1024)
}

/// Runs the scenario.
pub async fn run(mock: &Path) -> Result<Vec<Figure>> {
    let served = start(mock)?;
    let rss = proc_status_bytes(served.child.id(), "VmRSS")?;
    let peak = proc_status_bytes(served.child.id(), "VmHWM")?;
    let start_s = served.ready_after.as_secs_f64();
    let per_version = rss as f64 / f64::from(VERSIONS);
    let rss_mb = rss as f64 / 1e6;
    let answers = check_answers(&served.base_url).await;
    println!(
        "scenario 10: emulator with {VERSIONS} container versions ({SINGLE_ARCH_IMAGES} \
         single-platform, {MULTI_ARCH_IMAGES} multi-arch images): ready in {start_s:.2} s, RSS \
         {rss_mb:.1} MB ({per_version:.0} B a version), peak {:.1} MB; answers: {}",
        peak as f64 / 1e6,
        match &answers {
            Ok(timing) => format!("correct ({timing})"),
            Err(error) => format!("WRONG: {error:#}"),
        }
    );
    let scenario = "10 emulator, 160,000 versions";
    Ok(vec![
        Figure::at_most(
            scenario,
            "RSS after start a version",
            "B",
            per_version,
            BYTES_PER_VERSION_TARGET,
            "<= 4 KB (ratio: /target)",
        ),
        Figure::at_most(
            scenario,
            "RSS after start",
            "MB",
            rss_mb,
            RSS_TARGET_MB,
            "<= 600 MB (ratio: /target)",
        ),
        Figure::at_most(
            scenario,
            "start, ready to serve",
            "s",
            start_s,
            START_TARGET_S,
            "<= 10 s (ratio: /target)",
        ),
        Figure {
            scenario,
            metric: "listing and manifests answer",
            unit: "ok",
            measured: if answers.is_ok() { 1.0 } else { 0.0 },
            floor: 1.0,
            ratio: if answers.is_ok() { 1.0 } else { 0.0 },
            target: "correct",
            met: answers.is_ok(),
        },
    ])
}

/// A `GET` with the GitHub token, as JSON.
async fn api_get(http: &reqwest::Client, url: &str) -> Result<(reqwest::header::HeaderMap, Value)> {
    let response = http
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await?
        .error_for_status()?;
    let headers = response.headers().clone();
    Ok((headers, response.json().await?))
}

/// A manifest by `reference`: its `Content-Type`, `Docker-Content-Digest` and bytes.
async fn manifest(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    reference: &str,
) -> Result<(String, String, Vec<u8>)> {
    let response = http
        .get(format!(
            "{base_url}/v2/{OWNER}/{PACKAGE}/manifests/{reference}"
        ))
        .bearer_auth(token)
        .send()
        .await?;
    ensure!(
        response.status() == 200,
        "manifest {reference}: {}",
        response.status()
    );
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, digest) = (header("content-type"), header("docker-content-digest"));
    let bytes = response.bytes().await?.to_vec();
    ensure!(
        sha256_digest(&bytes) == digest,
        "manifest {reference}: its bytes are not its digest {digest}"
    );
    Ok((content_type, digest, bytes))
}

/// The sanity checks; on success, how long a manifest `GET` by digest took (mean of 1,000).
async fn check_answers(base_url: &str) -> Result<String> {
    let http = reqwest::Client::new();
    let package_url = format!("{base_url}/users/{OWNER}/packages/container/{PACKAGE}");
    let (_, package) = api_get(&http, &package_url).await?;
    ensure!(
        package["version_count"] == u64::from(VERSIONS),
        "version_count {} instead of {VERSIONS}",
        package["version_count"]
    );
    let (headers, newest) = api_get(&http, &format!("{package_url}/versions?per_page=100")).await?;
    let link = headers
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let last_page = VERSIONS.div_ceil(100);
    ensure!(
        newest.as_array().map(Vec::len) == Some(100)
            && link.contains(&format!("page={last_page}>; rel=\"last\"")),
        "the first page has {:?} versions and Link {link:?}",
        newest.as_array().map(Vec::len)
    );
    let (_, oldest) = api_get(
        &http,
        &format!("{package_url}/versions?per_page=100&page={last_page}"),
    )
    .await?;
    let token: Value = http
        .get(format!(
            "{base_url}/token?scope=repository:{OWNER}/{PACKAGE}:pull&service=ghcr.io"
        ))
        .basic_auth(OWNER, Some(TOKEN))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["token"].as_str().context("a registry token")?;
    // `latest` is the newest version: the newest multi-arch image's index.
    let (content_type, digest, bytes) = manifest(&http, base_url, token, "latest").await?;
    ensure!(
        content_type == "application/vnd.oci.image.index.v1+json" && newest[0]["name"] == digest,
        "latest is {content_type} {digest}, the newest version {}",
        newest[0]["name"]
    );
    let index: Value = serde_json::from_slice(&bytes)?;
    let children = index["manifests"].as_array().context("an index")?;
    ensure!(
        children.len() == 4,
        "the index has {} children",
        children.len()
    );
    for child in children {
        let child = child["digest"].as_str().context("a child digest")?;
        manifest(&http, base_url, token, child).await?;
    }
    // The oldest tagged single-platform image, by tag and by digest.
    let image = oldest
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .find(|v| v["metadata"]["container"]["tags"][0].is_string())
        .context("a tagged image on the last page")?;
    let name = image["name"].as_str().context("a name")?;
    let tag = image["metadata"]["container"]["tags"][0]
        .as_str()
        .context("a tag")?;
    for reference in [tag, name] {
        let (content_type, digest, _) = manifest(&http, base_url, token, reference).await?;
        ensure!(
            content_type == "application/vnd.oci.image.manifest.v1+json" && digest == name,
            "{reference} is {content_type} {digest}, not the image {name}"
        );
    }
    let started = Instant::now();
    const GETS: u32 = 1_000;
    for _ in 0..GETS {
        manifest(&http, base_url, token, name).await?;
    }
    Ok(format!(
        "a manifest GET by digest takes {:.2} ms",
        started.elapsed().as_secs_f64() * 1e3 / f64::from(GETS)
    ))
}
