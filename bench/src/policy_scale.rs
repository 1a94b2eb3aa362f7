//! Scenario 11: a policy at scale. A dry-run `ghpkg prune --policy FILE` (the release binary, as
//! a user runs it) over one organization's 50 npm packages of 2,000 versions each (100,000
//! versions) with a policy of ten rules ([`POLICY`]): its wall time against the floor of the
//! listing it must do, its CPU time (user + sys) and its peak resident memory (GNU `time`),
//! against the issue's targets of 1.2× the floor, 1 s and 64 MiB.
//!
//! Each measured run gets a fresh emulator, so that no run inherits the budget (5,000 requests
//! an hour, an hour of 6 minutes at time scale 10) or the points of the one before. While
//! ghpkg runs, the emulator's counters are sampled every [`SAMPLE_EVERY`], which says when each
//! package's listing ended (its count is read before and after it), so that a wall far from the
//! floor can be explained.

use std::ffi::OsStr;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use ghpkg::{Pacing, PackageType};
use ghpkg_mock::{Fixture, Stats, SyntheticSpec};

use crate::emulator::{EmulatorProcess, EmulatorSettings};
use crate::report::Figure;
use crate::scenarios::{
    LATENCY, ORG, TIME_SCALE, VERSIONS_OPERATION, client, paced, points_floor, requests_of,
    round_trip, time_ghpkg,
};

/// The organization's npm packages, `pkg-0` … `pkg-49`.
pub const PACKAGES: u32 = 50;
/// Versions of each package.
pub const VERSIONS_PER_PACKAGE: u32 = 2_000;
/// The policy's rules.
const RULES: usize = 10;
/// The wall time target, as a ratio to the floor.
const WALL_TARGET: f64 = 1.2;
/// The CPU target (user + sys), in seconds.
const CPU_TARGET_S: f64 = 1.0;
/// The peak memory target.
const RSS_TARGET_MIB: f64 = 64.0;
/// Measured runs, each against a fresh emulator (the medians are reported).
const REPETITIONS: usize = 3;
/// How often the emulator's counters are read while ghpkg runs.
const SAMPLE_EVERY: Duration = Duration::from_millis(25);
/// The token of `user-0`, admin of `org-0` (see `ghpkg_mock::SyntheticSpec`).
/// The owner's package listing, sent once to match the policy's globs.
const PACKAGES_OPERATION: &str = "packages/list-packages-for-organization";
/// A package's `GET` (its `version_count`), sent before and after its listing.
const PACKAGE_OPERATION: &str = "packages/get-package-for-organization";

/// The scenario's policy: ten npm rules over package globs, every package selected by at least
/// one (`pkg-[0-9]` and `pkg-*` by several). The versions are `1.M.P` (M from 0 to 19, P from 0
/// to 99, oldest first, spread over two years), so every rule selects something but
/// `prerelease_only`, which reads every name as a version and finds none.
pub const POLICY: &str = r#"# ghpkg-bench scenario 11: ten rules over org-0's npm packages pkg-0 … pkg-49.
max_deletions = 100000

[[rules]]
name = "trim pkg-1x"
action = "delete"
type = "npm"
packages = ["pkg-1*"]
keep_newest = 50

[[rules]]
name = "old pkg-2x"
action = "delete"
type = "npm"
packages = ["pkg-2*"]
older_than = "180d"

[[rules]]
name = "two lines of pkg-3x"
action = "delete"
type = "npm"
packages = ["pkg-3*"]
keep_per_major = 200

[[rules]]
name = "pre-releases of pkg-4x"
action = "delete"
type = "npm"
packages = ["pkg-4*"]
prerelease_only = true

[[rules]]
name = "early lines of pkg-4x"
action = "delete"
type = "npm"
packages = ["pkg-4*"]
version_match = ["1.0.*", "1.1.*", "1.2.*"]
exclude_versions = ["1.0.0"]

[[rules]]
name = "singles"
action = "delete"
type = "npm"
packages = ["pkg-[0-9]"]
keep_newest = 100
older_than = "30d"

[[rules]]
name = "ancient"
action = "delete"
type = "npm"
packages = ["pkg-*"]
exclude_packages = ["pkg-0"]
older_than = "600d"
exclude_versions = ["1.0.*"]

[[rules]]
name = "1.1x lines of pkg-1x and pkg-3x"
action = "delete"
type = "npm"
packages = ["pkg-1*", "pkg-3*"]
version_match = ["1.1?.*"]
keep_per_minor = 10

[[rules]]
name = "keep the 1.19 line"
action = "keep"
type = "npm"
packages = ["pkg-*"]
version_match = ["1.19.*"]

[[rules]]
name = "keep recent pkg-2x and pkg-4x"
action = "keep"
type = "npm"
packages = ["pkg-2*", "pkg-4*"]
newer_than = "90d"
keep_newest = 20
"#;

/// The world: `org-0` (and `user-0`, whose own packages are not read) with [`PACKAGES`] private
/// npm packages of [`VERSIONS_PER_PACKAGE`] versions each — the world of `ghpkg-mock serve
/// --synthetic --orgs 1 --users 1 --packages 50 --versions 2000 --types npm --seed 11`, but
/// all private, as scenario 9's.
fn spec() -> SyntheticSpec {
    SyntheticSpec {
        seed: 11,
        organizations: 1,
        users: 1,
        packages_per_owner: PACKAGES,
        versions_per_package: VERSIONS_PER_PACKAGE,
        package_types: vec![ghpkg_api::types::PackageType::Npm],
        public_share: 0.0,
        ..SyntheticSpec::default()
    }
}

/// What one measured run saw.
struct Run {
    wall_s: f64,
    peak_rss_mib: f64,
    cpu_s: f64,
    /// The round trip of a page of 100 versions just before (median of five).
    trip_s: f64,
    /// Requests the emulator answered during the run: in all, and the owner's package listing,
    /// the packages' counts and the versions pages.
    requests: u64,
    listings: u64,
    counts: u64,
    pages: u64,
    /// 403/429 answers and rate-limiter rejections during the run.
    refused: u64,
    /// When each package's listing ended (its second count), seconds from the start, to within
    /// [`SAMPLE_EVERY`].
    package_ends: Vec<f64>,
}

/// The requests the dry run needs: the owner's package listing (one page: 50 packages), then
/// for each package its 20 pages of 100 versions and its count before and after the listing.
fn requests_needed() -> (u64, u64) {
    let pages = u64::from(PACKAGES) * u64::from(VERSIONS_PER_PACKAGE.div_ceil(100));
    let per_package_requests = pages + 2 * u64::from(PACKAGES);
    (1, per_package_requests)
}

/// The floor of the dry run's wall time at `in_flight` requests at once and round trip `trip`:
/// the time an ideal client takes that keeps both of GitHub's caps and nothing else. The
/// owner's package listing comes first (its answer names the packages the globs select), then
/// the `R = 50 × (20 + 2) = 1,100` requests of the packages (each package's 20 pages and its
/// count before and after), each sent as soon as
///
/// - one of the `in_flight` slots is free (the pacer's one cap, `Pacing::max_concurrency`, 8 by
///   default: request `k` waits for request `k − in_flight` to be answered), and
/// - GitHub's points budget allows it (900 points a sliding minute, 6 s at time scale 10; each
///   `GET` is 1 point: request `k` waits until request `k − 900` has left the window).
///
/// It ends when the last answer arrives. Returned with its two one-cap bounds, for the report:
/// the latency floor `trip × (1 + ceil(R / in_flight))` and the points floor
/// ([`points_floor`]). Here both caps bind (about 6 s each at 40 ms), so the floor is their
/// sum's shape rather than their maximum: 900 requests at 8 in flight, a wait for the window,
/// then the last 201 at 8 in flight again.
fn floor(trip: f64, in_flight: u64, window: Duration) -> (f64, f64, f64) {
    let (first, rest) = requests_needed();
    let latency = trip * (first + rest.div_ceil(in_flight)) as f64;
    let budget = points_floor((first + rest) as usize, 0, window);
    let per_window = Pacing::default().points_per_minute as usize;
    let in_flight = in_flight.max(1) as usize;
    // Send times: the package listing at 0, the rest after its answer.
    let mut sent: Vec<f64> = vec![0.0];
    for k in 1..=(rest as usize) {
        let slot = if k > in_flight {
            sent[k - in_flight] + trip
        } else {
            trip
        };
        let points = if k >= per_window {
            sent[k - per_window] + window.as_secs_f64()
        } else {
            0.0
        };
        sent.push(slot.max(points));
    }
    let combined = sent.last().copied().unwrap_or(0.0) + trip;
    (combined, latency, budget)
}

/// Runs the scenario: writes the world and the policy to `out`, checks the policy, then
/// [`REPETITIONS`] measured runs, each against a fresh emulator.
pub async fn run(mock: &Path, ghpkg: &Path, out: &Path) -> Result<Vec<Figure>> {
    std::fs::create_dir_all(out)?;
    let fixture = out.join("fixture-policy-scale.json");
    let mut writer = BufWriter::new(std::fs::File::create(&fixture)?);
    Fixture::write_synthetic(&spec(), &mut writer)?;
    writer.flush()?;
    drop(writer);
    let policy = out.join("policy-scale.toml");
    std::fs::write(&policy, POLICY)?;
    check_policy(ghpkg, &policy)?;

    let window = Duration::from_secs(60).div_f64(TIME_SCALE);
    let mut runs = Vec::new();
    let mut in_flight = 0;
    for _ in 0..REPETITIONS {
        let emulator = EmulatorProcess::start(
            mock,
            &EmulatorSettings {
                fixture: &fixture,
                latency: LATENCY,
                time_scale: TIME_SCALE,
            },
        )?;
        let client = client(&emulator.base_url, paced())?;
        in_flight = client.concurrency() as u64;
        let package = client.org(ORG).package(PackageType::Npm, "pkg-0");
        let trip = round_trip(&package).await?;
        // The round trips just now spent budget: let the window pass.
        tokio::time::sleep(window).await;
        runs.push(measure(&emulator, ghpkg, &policy, trip).await?);
    }

    let median = |value: fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(value).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let trip = median(|r| r.trip_s);
    let (floor, latency_floor, budget_floor) = floor(trip, in_flight, window);
    let wall = median(|r| r.wall_s);
    let cpu = median(|r| r.cpu_s);
    let rss = median(|r| r.peak_rss_mib);
    let (first, rest) = requests_needed();
    let needed = first + rest;
    let requests = runs.iter().map(|r| r.requests).max().unwrap_or(0);
    let refused: u64 = runs.iter().map(|r| r.refused).sum();
    let rounded = |values: Vec<f64>| {
        values
            .into_iter()
            .map(|v| (v * 1e3).round() / 1e3)
            .collect::<Vec<_>>()
    };
    println!(
        "scenario 11: dry-run prune --policy ({RULES} rules) of {PACKAGES} npm packages × \
         {VERSIONS_PER_PACKAGE} versions: walls {:?} s (floor {floor:.2} s, both caps at once; \
         latency alone {latency_floor:.2} s at {in_flight} in flight and a {:.1} ms round trip, \
         points alone {budget_floor:.2} s), CPU {:?} s, peak RSS {:?} MiB; requests {:?} (needed {needed}: \
         {first} package listing, {} counts, {} pages), 403/429 and limiter rejections {refused}",
        rounded(runs.iter().map(|r| r.wall_s).collect()),
        trip * 1e3,
        rounded(runs.iter().map(|r| r.cpu_s).collect()),
        rounded(runs.iter().map(|r| r.peak_rss_mib).collect()),
        runs.iter()
            .map(|r| (r.requests, r.listings, r.counts, r.pages))
            .collect::<Vec<_>>(),
        2 * PACKAGES,
        rest - 2 * u64::from(PACKAGES),
    );
    explain(&runs, trip, in_flight);

    let scenario = "11 policy, 50 × 2,000 npm versions";
    Ok(vec![
        Figure {
            scenario,
            metric: "wall vs listing floor",
            unit: "s",
            measured: wall,
            floor,
            ratio: wall / floor,
            target: "<= 1.2x floor",
            met: wall / floor <= WALL_TARGET,
        },
        Figure {
            scenario,
            metric: "client CPU (user+sys)",
            unit: "s",
            measured: cpu,
            floor: CPU_TARGET_S,
            ratio: cpu / CPU_TARGET_S,
            target: "< 1 s (ratio: /target)",
            met: cpu < CPU_TARGET_S,
        },
        Figure {
            scenario,
            metric: "peak memory (RSS)",
            unit: "MiB",
            measured: rss,
            floor: RSS_TARGET_MIB,
            ratio: rss / RSS_TARGET_MIB,
            target: "< 64 MiB (ratio: /target)",
            met: rss < RSS_TARGET_MIB,
        },
        Figure {
            scenario,
            metric: "requests",
            unit: "count",
            measured: requests as f64,
            floor: needed as f64,
            ratio: requests as f64 / needed as f64,
            target: "1 + 50 x 22, none refused",
            met: runs.iter().all(|r| r.requests == needed) && refused == 0,
        },
    ])
}

/// Where the wall time went, from the packages' ends: how many packages were being listed at
/// once, and how long each took, in round trips.
fn explain(runs: &[Run], trip: f64, in_flight: u64) {
    let Some(run) = runs
        .iter()
        .find(|r| r.package_ends.len() == PACKAGES as usize)
    else {
        println!("scenario 11: the samples did not see every package's listing end");
        return;
    };
    let mut gaps: Vec<f64> = run.package_ends.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_by(f64::total_cmp);
    let gap = gaps.get(gaps.len() / 2).copied().unwrap_or(0.0);
    let first = run.package_ends[0];
    let last = run.package_ends[run.package_ends.len() - 1];
    // Requests in flight on average: requests × round trip ÷ wall (Little's law).
    let average = run.requests as f64 * trip / run.wall_s;
    println!(
        "scenario 11: packages' listings ended from {first:.2} s to {last:.2} s of the {:.2} s \
         run, one every {:.0} ms (median: {:.1} round trips, {:.1} ms each); {:.1} requests in \
         flight on average of the {in_flight} allowed",
        run.wall_s,
        gap * 1e3,
        gap / trip,
        trip * 1e3,
        average,
    );
}

/// `ghpkg policy check FILE`: the policy must be valid before it is measured.
fn check_policy(ghpkg: &Path, policy: &Path) -> Result<()> {
    let output = Command::new(ghpkg)
        .args(["policy", "check"])
        .arg(policy)
        .output()
        .with_context(|| format!("running {}", ghpkg.display()))?;
    ensure!(
        output.status.success(),
        "ghpkg policy check {} refused the scenario's policy: {}{}",
        policy.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// One measured run against `emulator`: the prune under GNU `time`, the emulator's counters
/// sampled meanwhile.
async fn measure(
    emulator: &EmulatorProcess,
    ghpkg: &Path,
    policy: &Path,
    trip: Duration,
) -> Result<Run> {
    let before = emulator.stats().await?;
    let (ghpkg, policy, api) = (
        ghpkg.to_path_buf(),
        policy.to_path_buf(),
        emulator.base_url.clone(),
    );
    let started = Instant::now();
    let prune = tokio::task::spawn_blocking(move || {
        let args = [
            OsStr::new("prune"),
            OsStr::new("--policy"),
            policy.as_os_str(),
        ];
        time_ghpkg(
            "scenario 11",
            &ghpkg,
            &api,
            &[&args[..], &[OsStr::new("--no-manifest-cache")]].concat(),
        )
    });
    tokio::pin!(prune);
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let timed = loop {
        tokio::select! {
            timed = &mut prune => break timed??,
            () = tokio::time::sleep(SAMPLE_EVERY) => {
                let stats = emulator.stats().await?;
                samples.push((
                    started.elapsed().as_secs_f64(),
                    requests_of(&stats, PACKAGE_OPERATION) - requests_of(&before, PACKAGE_OPERATION),
                ));
            }
        }
    };
    let after = emulator.stats().await?;
    let delta = |operation: &str| requests_of(&after, operation) - requests_of(&before, operation);
    let refused = (after.count_status(403) + after.count_status(429)
        - before.count_status(403)
        - before.count_status(429))
        + rejections(&after)
        - rejections(&before);
    // A package's listing ends with its second count: the k-th package's end is the first
    // sample with 2k counts.
    let package_ends = (1..=u64::from(PACKAGES))
        .filter_map(|k| {
            samples
                .iter()
                .find(|(_, counts)| *counts >= 2 * k)
                .map(|(at, _)| *at)
        })
        .collect();
    Ok(Run {
        wall_s: timed.wall_s,
        peak_rss_mib: timed.peak_rss_mib,
        cpu_s: timed.cpu_s,
        trip_s: trip.as_secs_f64(),
        requests: after.total_requests - before.total_requests,
        listings: delta(PACKAGES_OPERATION),
        counts: delta(PACKAGE_OPERATION),
        pages: delta(VERSIONS_OPERATION),
        refused,
        package_ends,
    })
}

fn rejections(stats: &Stats) -> u64 {
    stats.rate_limit_rejections.primary + stats.rate_limit_rejections.secondary
}
