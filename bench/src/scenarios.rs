//! The three scenarios of issue 4's benchmark, and scenario 3's child process.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use ghpkg::{Client, Pacing, PackageHandle, PackageType, request_points};
use ghpkg_mock::{Fixture, Stats, SyntheticSpec};
use reqwest::Method;

use crate::emulator::{EmulatorProcess, EmulatorSettings};
use crate::flag;
use crate::report::{Figure, print_table};

/// Latency the emulator adds to every answer.
pub(crate) const LATENCY: Duration = Duration::from_millis(40);
/// How many times shorter the emulator's and the client's rate-limit windows are than GitHub's.
pub(crate) const TIME_SCALE: f64 = 10.0;
/// Versions listed in scenarios 1 and 3.
const LISTED_VERSIONS: u32 = 10_000;
/// Versions deleted in scenario 2.
const DELETED_VERSIONS: usize = 900;
/// GitHub's secondary limit, in DELETE requests per minute (900 points ÷ 5 points each).
const DELETES_PER_MINUTE: f64 = 180.0;
/// The least time `gets` GETs and `deletes` DELETEs can take from an empty secondary-limit
/// window: GitHub lets 900 points (`Pacing::default().points_per_minute`) through per sliding window (a GET is
/// 1 point, a DELETE 5), so the points need `ceil(points / 900) - 1` full windows, plus the last
/// batch's round trip (LATENCY is its floor).
pub fn points_floor(gets: usize, deletes: usize, window: Duration) -> f64 {
    let points = gets as u64 * u64::from(request_points(&Method::GET))
        + deletes as u64 * u64::from(request_points(&Method::DELETE));
    let windows = points.div_ceil(u64::from(Pacing::default().points_per_minute)) - 1;
    windows as f64 * window.as_secs_f64() + LATENCY.as_secs_f64()
}

/// Deletes in flight in scenario 2 (the pacer's own cap, `Pacing::default().max_concurrency`).
const DELETES_IN_FLIGHT: usize = 8;
/// Repetitions of scenario 1 (the median is reported).
const REPETITIONS: usize = 3;
/// The synthetic fixtures' org and token (see `ghpkg_mock::SyntheticSpec`).
pub(crate) const ORG: &str = "org-0";
pub(crate) const TOKEN: &str = "ghp_user-0_all";
pub(crate) const VERSIONS_OPERATION: &str =
    "packages/get-all-package-versions-for-package-owned-by-org";

/// What GNU `time` says of one `ghpkg` run.
pub struct Timed {
    /// Wall time, as the bench saw it.
    pub wall_s: f64,
    /// Peak resident memory.
    pub peak_rss_mib: f64,
    /// User and system CPU time.
    pub cpu_s: f64,
}

/// Runs `ghpkg --org org-0 --api-url API --quiet --time-scale 10 ARGS…` with the synthetic
/// owner's token under GNU `time` (which `scenario` names when it is missing), its output
/// dropped: it must succeed.
pub fn time_ghpkg<S: AsRef<std::ffi::OsStr>>(
    scenario: &str,
    ghpkg: &Path,
    api: &str,
    args: &[S],
) -> Result<Timed> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        bail!("{scenario} measures with GNU time: install it (Debian package `time`)");
    }
    let started = Instant::now();
    let output = std::process::Command::new(time)
        .args(["-f", "ghpkg-bench-time %M %U %S"])
        .arg(ghpkg)
        .args(["--org", ORG, "--api-url", api, "--quiet"])
        .args(["--time-scale", &TIME_SCALE.to_string()])
        .args(args)
        .env("GH_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .output()?;
    let wall_s = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success(),
        "{scenario}: ghpkg failed: {stderr}"
    );
    let line = stderr
        .lines()
        .find_map(|line| line.strip_prefix("ghpkg-bench-time "))
        .context("GNU time printed nothing")?;
    let fields: Vec<f64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    ensure!(fields.len() == 3, "unexpected GNU time line: {line}");
    Ok(Timed {
        wall_s,
        peak_rss_mib: fields[0] / 1024.0,
        cpu_s: fields[1] + fields[2],
    })
}

/// Runs every scenario, prints the table and writes `DIR/results.json`.
pub async fn run_all(mock: &Path, ghpkg: &Path, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let window = Duration::from_secs(60).div_f64(TIME_SCALE);
    println!(
        "ghpkg bench: emulator `{}` as a separate process, {} ms latency, GitHub's limits on.",
        mock.display(),
        LATENCY.as_millis()
    );
    println!(
        "Rate-limit windows are scaled down {TIME_SCALE}x (a minute lasts {:.1} s) in both the \
         emulator and the client, so that scenario 2 runs in seconds instead of minutes.\n",
        window.as_secs_f64()
    );
    let mut figures = Vec::new();
    let listing_fixture = write_fixture(
        out,
        "fixture-list.json",
        SyntheticSpec {
            seed: 1,
            organizations: 1,
            users: 1,
            packages_per_owner: 2,
            versions_per_package: LISTED_VERSIONS,
            // pkg-0 for scenarios 1 and 3, pkg-1 for scenario 4's dry run.
            package_types: vec![
                ghpkg_api::types::PackageType::Container,
                ghpkg_api::types::PackageType::Npm,
            ],
            public_share: 0.0,
            ..SyntheticSpec::default()
        },
    )?;
    let emulator = EmulatorProcess::start(
        mock,
        &EmulatorSettings {
            fixture: &listing_fixture,
            latency: LATENCY,
            time_scale: TIME_SCALE,
        },
    )?;
    figures.extend(list_versions(&emulator).await?);
    figures.extend(client_cost(&emulator).await?);
    figures.extend(crate::retention::dry_run(&emulator).await?);
    drop(emulator);

    let deleting_fixture = write_fixture(
        out,
        "fixture-delete.json",
        one_package_of_1_000(ghpkg_api::types::PackageType::Npm),
    )?;
    let emulator = EmulatorProcess::start(
        mock,
        &EmulatorSettings {
            fixture: &deleting_fixture,
            latency: LATENCY,
            time_scale: TIME_SCALE,
        },
    )?;
    figures.extend(bulk_delete(&emulator, window).await?);
    drop(emulator);
    let emulator = EmulatorProcess::start(
        mock,
        &EmulatorSettings {
            fixture: &deleting_fixture,
            latency: LATENCY,
            time_scale: TIME_SCALE,
        },
    )?;
    figures.extend(crate::action::install_to_plan(&emulator, ghpkg, out).await?);
    drop(emulator);
    // A fresh emulator with the same 1,000 versions: the same 900 deletions through the apply.
    let emulator = EmulatorProcess::start(
        mock,
        &EmulatorSettings {
            fixture: &deleting_fixture,
            latency: LATENCY,
            time_scale: TIME_SCALE,
        },
    )?;
    let (applied, npm_elapsed) =
        crate::retention::apply_deletions(&emulator, window, out, PackageType::Npm).await?;
    figures.extend(applied);
    drop(emulator);
    // The same 900 deletions of container images: the apply re-checks the registry for pushes.
    let recheck_fixture = write_fixture(
        out,
        "fixture-recheck.json",
        one_package_of_1_000(ghpkg_api::types::PackageType::Container),
    )?;
    let emulator = EmulatorProcess::start(
        mock,
        &EmulatorSettings {
            fixture: &recheck_fixture,
            latency: LATENCY,
            time_scale: TIME_SCALE,
        },
    )?;
    let (applied, container_elapsed) =
        crate::retention::apply_deletions(&emulator, window, out, PackageType::Container).await?;
    figures.extend(applied);
    figures.push(crate::retention::recheck_overhead(
        container_elapsed,
        npm_elapsed,
    ));
    drop(emulator);

    let graph_fixture = write_fixture(
        out,
        "fixture-graph.json",
        SyntheticSpec {
            seed: 3,
            organizations: 1,
            users: 1,
            packages_per_owner: 1,
            versions_per_package: crate::retention::VERSIONS,
            multi_arch_images: crate::retention::MULTI_ARCH_IMAGES,
            package_types: vec![ghpkg_api::types::PackageType::Container],
            public_share: 0.0,
            ..SyntheticSpec::default()
        },
    )?;
    let emulator = EmulatorProcess::start(
        mock,
        &EmulatorSettings {
            fixture: &graph_fixture,
            latency: LATENCY,
            time_scale: TIME_SCALE,
        },
    )?;
    figures.extend(crate::retention::graph_dry_run(&emulator, out).await?);
    drop(emulator);

    let scale_fixture = write_fixture(
        out,
        "fixture-scale-npm.json",
        SyntheticSpec {
            seed: 4,
            organizations: 1,
            users: 1,
            packages_per_owner: 1,
            versions_per_package: crate::scale::VERSIONS,
            package_types: vec![ghpkg_api::types::PackageType::Npm],
            public_share: 0.0,
            ..SyntheticSpec::default()
        },
    )?;
    let emulator = EmulatorProcess::start(
        mock,
        &EmulatorSettings {
            fixture: &scale_fixture,
            latency: LATENCY,
            time_scale: TIME_SCALE,
        },
    )?;
    figures.extend(crate::scale::npm_dry_run(&emulator, ghpkg).await?);
    drop(emulator);
    figures.extend(crate::emulator_scale::run(mock).await?);
    // Scenario 11 starts its own emulators, one per measured run.
    figures.extend(crate::policy_scale::run(mock, ghpkg, out).await?);
    figures.extend(crate::container_scale::run(mock, ghpkg, out).await?);

    println!();
    print_table(&figures);
    let path = out.join("results.json");
    let json = serde_json::json!({
        "latency_ms": LATENCY.as_millis() as u64,
        "time_scale": TIME_SCALE,
        "figures": figures,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    println!("\nwrote {}", path.display());
    if figures.iter().all(|f| f.met) {
        println!("all targets met");
    } else {
        println!("some targets NOT met (see the `met` column)");
    }
    Ok(())
}

/// The world of the deletion scenarios: one private package of `package_type` with 1,000
/// versions.
fn one_package_of_1_000(package_type: ghpkg_api::types::PackageType) -> SyntheticSpec {
    SyntheticSpec {
        seed: 2,
        organizations: 1,
        users: 1,
        packages_per_owner: 1,
        versions_per_package: 1_000,
        package_types: vec![package_type],
        public_share: 0.0,
        ..SyntheticSpec::default()
    }
}

fn write_fixture(out: &Path, name: &str, spec: SyntheticSpec) -> Result<PathBuf> {
    let path = out.join(name);
    let fixture = Fixture::synthetic(spec);
    std::fs::write(&path, serde_json::to_vec(&fixture)?)?;
    Ok(path)
}

pub(crate) fn client(base_url: &str, pacing: Pacing) -> Result<Client> {
    Ok(Client::builder()
        .base_url(base_url)
        .token(TOKEN)
        .pacing(pacing)
        .build()?)
}

pub(crate) fn paced() -> Pacing {
    Pacing {
        time_scale: TIME_SCALE,
        ..Pacing::default()
    }
}

/// The fixture's only package in the org.
pub(crate) async fn the_package(
    client: &Client,
    package_type: PackageType,
) -> Result<PackageHandle> {
    let page = client
        .org(ORG)
        .packages(package_type.clone())
        .send()
        .await?;
    let package = page.items.first().context("the fixture has a package")?;
    Ok(client
        .org(ORG)
        .package(package_type, package.name().to_string()))
}

/// One round trip: a full page of 100 versions of `package`, fetched alone, median of five.
pub(crate) async fn round_trip(package: &PackageHandle) -> Result<Duration> {
    let mut trips = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        package.versions().per_page(100).send().await?;
        trips.push(started.elapsed());
    }
    trips.sort();
    Ok(trips[trips.len() / 2])
}

pub(crate) fn requests_of(stats: &Stats, operation: &str) -> u64 {
    stats.count_operation(operation)
}

/// Scenario 1: list every version of a 10,000-version package.
async fn list_versions(emulator: &EmulatorProcess) -> Result<Vec<Figure>> {
    let client = client(&emulator.base_url, paced())?;
    let package = the_package(&client, PackageType::Container).await?;

    let round_trip = round_trip(&package).await?;

    let pages = LISTED_VERSIONS.div_ceil(100) as u64;
    // One concurrency setting: the stream keeps the pacer's `max_concurrency` pages in flight.
    let in_flight = client.concurrency() as u64;
    let floor = round_trip.as_secs_f64() * (1 + (pages - 1).div_ceil(in_flight)) as f64;

    let mut walls = Vec::new();
    let mut requests = Vec::new();
    for _ in 0..REPETITIONS {
        let before = requests_of(&emulator.stats().await?, VERSIONS_OPERATION);
        let started = Instant::now();
        let ids: Vec<u64> = package
            .versions()
            .stream()
            .map_ok(|v| v.id())
            .try_collect()
            .await?;
        walls.push(started.elapsed().as_secs_f64());
        let after = requests_of(&emulator.stats().await?, VERSIONS_OPERATION);
        requests.push(after - before);
        let unique: HashSet<u64> = ids.iter().copied().collect();
        ensure!(
            ids.len() == LISTED_VERSIONS as usize && unique.len() == ids.len(),
            "listed {} versions ({} distinct), expected {LISTED_VERSIONS}",
            ids.len(),
            unique.len()
        );
    }
    walls.sort_by(f64::total_cmp);
    let wall = walls[walls.len() / 2];
    let made = *requests.iter().max().unwrap() as f64;
    println!(
        "scenario 1: {LISTED_VERSIONS} versions in {pages} pages, {in_flight} in flight; \
         round trip {:.1} ms; walls {:?} s; requests {:?}",
        round_trip.as_secs_f64() * 1e3,
        walls
            .iter()
            .map(|w| (w * 1e3).round() / 1e3)
            .collect::<Vec<_>>(),
        requests
    );
    Ok(vec![
        Figure {
            scenario: "1 list 10,000 versions @40ms",
            metric: "requests",
            unit: "count",
            measured: made,
            floor: pages as f64,
            ratio: made / pages as f64,
            target: "exactly ceil(N/100)",
            met: requests.iter().all(|&r| r == pages),
        },
        Figure {
            scenario: "1 list 10,000 versions @40ms",
            metric: "wall time",
            unit: "s",
            measured: wall,
            floor,
            ratio: wall / floor,
            target: "<= 1.15x floor",
            met: wall / floor <= 1.15,
        },
    ])
}

/// Scenario 2: delete 900 versions with the secondary limit enforced.
async fn bulk_delete(emulator: &EmulatorProcess, window: Duration) -> Result<Vec<Figure>> {
    let client = Client::builder()
        .base_url(&emulator.base_url)
        .token(TOKEN)
        .pacing(paced())
        .concurrency(DELETES_IN_FLIGHT)
        .build()?;
    let package = the_package(&client, PackageType::Npm).await?;
    let ids: Vec<u64> = package
        .versions()
        .stream()
        .map_ok(|v| v.id())
        .try_collect()
        .await?;
    ensure!(
        ids.len() > DELETED_VERSIONS,
        "the fixture has enough versions"
    );
    // The oldest 900; the newest stays, so GitHub's last-version rule never applies.
    let doomed: Vec<u64> = ids[ids.len() - DELETED_VERSIONS..].to_vec();
    // Let the listing's points leave the window, so that the run starts from an empty budget.
    tokio::time::sleep(window + Duration::from_millis(200)).await;

    let before = emulator.stats().await?;
    let started = Instant::now();
    let outcomes: Vec<_> = package.delete_versions(doomed).collect().await;
    let elapsed = started.elapsed().as_secs_f64();
    let after = emulator.stats().await?;

    let deleted = outcomes.iter().filter(|o| o.is_success()).count();
    if deleted != DELETED_VERSIONS {
        let failure = outcomes.iter().find_map(|o| o.error());
        bail!("deleted {deleted} of {DELETED_VERSIONS}; first failure: {failure:?}");
    }
    let rejections = (after.count_status(403) + after.count_status(429))
        - (before.count_status(403) + before.count_status(429));
    let limiter = (after.rate_limit_rejections.primary + after.rate_limit_rejections.secondary)
        - (before.rate_limit_rejections.primary + before.rate_limit_rejections.secondary);

    let allowed_rate = DELETES_PER_MINUTE / window.as_secs_f64();
    let floor_time = points_floor(0, DELETED_VERSIONS, window);
    let rate = DELETED_VERSIONS as f64 / elapsed;
    println!(
        "scenario 2: {DELETED_VERSIONS} deletes, {DELETES_IN_FLIGHT} in flight, in {elapsed:.2} s \
         ({rate:.1}/s); GitHub allows \
         {allowed_rate:.1}/s sustained; 403/429 answers {rejections}, limiter rejections {limiter}"
    );
    Ok(vec![
        Figure {
            scenario: "2 delete 900, secondary limit on",
            metric: "time vs burst-aware floor",
            unit: "s",
            measured: elapsed,
            floor: floor_time,
            ratio: floor_time / elapsed,
            target: ">= 0.95 of allowed",
            met: floor_time / elapsed >= 0.95,
        },
        Figure {
            scenario: "2 delete 900, secondary limit on",
            metric: "rate vs 180 DELETE/min",
            unit: "DELETE/s",
            measured: rate,
            floor: allowed_rate,
            ratio: rate / allowed_rate,
            target: ">= 0.95 of allowed",
            met: rate / allowed_rate >= 0.95,
        },
        Figure {
            scenario: "2 delete 900, secondary limit on",
            metric: "403/429 answers",
            unit: "count",
            measured: (rejections + limiter) as f64,
            floor: 0.0,
            ratio: 0.0,
            target: "zero",
            met: rejections == 0 && limiter == 0,
        },
    ])
}

/// What scenario 3's child process reports.
#[derive(serde::Serialize, serde::Deserialize)]
struct ProbeReport {
    versions: usize,
    cpu_ms: f64,
    peak_rss_mib: f64,
}

/// Scenario 3: the client's own CPU time and peak memory for 10,000 versions, in a child process.
async fn client_cost(emulator: &EmulatorProcess) -> Result<Vec<Figure>> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args(["probe", "--base", &emulator.base_url])
        .output()?;
    ensure!(
        output.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: ProbeReport = serde_json::from_slice(&output.stdout)?;
    ensure!(
        report.versions == LISTED_VERSIONS as usize,
        "probe listed {} versions",
        report.versions
    );
    println!(
        "scenario 3: child process listed {} versions: {:.1} ms CPU while listing, peak RSS {:.1} MiB",
        report.versions, report.cpu_ms, report.peak_rss_mib
    );
    Ok(vec![
        Figure {
            scenario: "3 client cost per 10,000 listed",
            metric: "CPU time",
            unit: "ms",
            measured: report.cpu_ms,
            floor: 100.0,
            ratio: report.cpu_ms / 100.0,
            target: "<= 100 ms (ratio: /target)",
            met: report.cpu_ms <= 100.0,
        },
        Figure {
            scenario: "3 client cost per 10,000 listed",
            metric: "peak memory (RSS)",
            unit: "MiB",
            measured: report.peak_rss_mib,
            floor: 64.0,
            ratio: report.peak_rss_mib / 64.0,
            target: "<= 64 MiB (ratio: /target)",
            met: report.peak_rss_mib <= 64.0,
        },
    ])
}

/// Scenario 3's child: lists every version once and prints a [`ProbeReport`] as JSON.
pub async fn probe(args: &[String]) -> Result<()> {
    let base = flag(args, "--base").context("probe needs --base URL")?;
    let client = client(&base, paced())?;
    let package = the_package(&client, PackageType::Container).await?;
    let cpu_before = process_cpu_time()?;
    let mut versions = 0;
    let mut stream = package.versions().stream();
    while let Some(version) = stream.next().await {
        version?;
        versions += 1;
    }
    let cpu = process_cpu_time()? - cpu_before;
    let report = ProbeReport {
        versions,
        cpu_ms: cpu.as_secs_f64() * 1e3,
        peak_rss_mib: peak_rss_kib()? as f64 / 1024.0,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// CPU time of every thread of this process so far (Linux: `/proc/self/task/*/schedstat`, ns).
pub(crate) fn process_cpu_time() -> Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").context("reading /proc (Linux only)")? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat"))?;
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

/// Peak resident set size of this process (Linux: `VmHWM` in `/proc/self/status`).
fn peak_rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmHWM missing from /proc/self/status")
}
