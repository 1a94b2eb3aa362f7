//! Scenario 9: a real user's scale. A dry-run `ghpkg prune` (the release binary, as a user runs
//! it) over one npm package of 150,000 versions with `--keep 10`: its peak resident memory and
//! CPU time (GNU `time`), and its wall time against the floor of the listing it must do — the
//! larger of the latency floor (1,500 pages, a round trip per window of pages in flight) and
//! GitHub's points budget (900 points a minute for 1,502 GETs).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use ghpkg::PackageType;

use crate::emulator::EmulatorProcess;
use crate::report::Figure;
use crate::scenarios::{
    TIME_SCALE, client, paced, points_floor, round_trip, the_package, time_ghpkg,
};

/// Versions of the package.
pub const VERSIONS: u32 = 150_000;
/// The peak memory target.
const RSS_TARGET_MIB: f64 = 64.0;
/// The CPU target, in seconds.
const CPU_TARGET_S: f64 = 1.5;
/// The wall time target, as a ratio to the floor.
const WALL_TARGET: f64 = 1.15;

/// Runs the scenario against `emulator` (one npm package of [`VERSIONS`] versions).
pub async fn npm_dry_run(emulator: &EmulatorProcess, ghpkg: &Path) -> Result<Vec<Figure>> {
    let client = client(&emulator.base_url, paced())?;
    let package = the_package(&client, PackageType::Npm).await?;
    let trip = round_trip(&package).await?;
    let pages = u64::from(VERSIONS.div_ceil(100));
    let in_flight = client.concurrency() as u64;
    let latency_floor = trip.as_secs_f64() * (1 + (pages - 1).div_ceil(in_flight)) as f64;
    let window = Duration::from_secs(60).div_f64(TIME_SCALE);
    // The pages and the package's count before and after.
    let budget_floor = points_floor(pages as usize + 2, 0, window);
    let floor = latency_floor.max(budget_floor);
    // The round trips just now spent budget: let the window pass.
    tokio::time::sleep(window).await;
    let run = time_ghpkg(
        "scenario 9",
        ghpkg,
        &emulator.base_url,
        &[
            "prune",
            "npm",
            package.name(),
            "--keep",
            "10",
            "--no-manifest-cache",
        ],
    )?;
    println!(
        "scenario 9: dry-run prune of {VERSIONS} npm versions (--keep 10): wall {:.2} s (floor \
         {floor:.2} s: latency {latency_floor:.2} s, points {budget_floor:.2} s), peak RSS \
         {:.1} MiB, CPU {:.2} s",
        run.wall_s, run.peak_rss_mib, run.cpu_s
    );
    let scenario = "9 dry run, 150,000 npm versions";
    Ok(vec![
        Figure {
            scenario,
            metric: "wall vs listing floor",
            unit: "s",
            measured: run.wall_s,
            floor,
            ratio: run.wall_s / floor,
            target: "<= 1.15x floor",
            met: run.wall_s / floor <= WALL_TARGET,
        },
        Figure::at_most(
            scenario,
            "peak memory (RSS)",
            "MiB",
            run.peak_rss_mib,
            RSS_TARGET_MIB,
            "<= 64 MiB (ratio: /target)",
        ),
        Figure::at_most(
            scenario,
            "client CPU",
            "s",
            run.cpu_s,
            CPU_TARGET_S,
            "<= 1.5 s (ratio: /target)",
        ),
    ])
}
