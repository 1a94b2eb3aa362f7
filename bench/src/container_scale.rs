//! Scenario 12: the container plan at a real user's scale. A dry-run `ghpkg prune container
//! pkg-0 --untagged` (the release binary) over one package of 150,000 single-platform images,
//! which must read every version's manifest to know that none is an index: its peak resident
//! memory and CPU time (GNU `time`) against the targets of 64 MiB and 1.5 s, first with
//! an empty manifest cache (every manifest from the registry) and then with the cache that run
//! filled (a scheduled job's usual run). The emulator serves without latency or limits, so the
//! wall times (printed, not judged) are the client's and the emulator's work alone.

use std::path::Path;

use anyhow::Result;

use crate::emulator_scale::{ContainerWorld, serve_synthetic};
use crate::report::Figure;
use crate::scenarios::time_ghpkg;

/// Versions of the package, every one a single-platform image.
const VERSIONS: u32 = 150_000;
/// The peak memory target.
const RSS_TARGET_MIB: f64 = 64.0;
/// The CPU target, in seconds.
const CPU_TARGET_S: f64 = 1.5;

/// Runs the scenario, with its manifest cache under `out`.
pub async fn run(mock: &Path, ghpkg: &Path, out: &Path) -> Result<Vec<Figure>> {
    let served = serve_synthetic(
        mock,
        &ContainerWorld {
            seed: 12,
            orgs: 1,
            versions: VERSIONS,
            multi_arch: 0,
        },
    )?;
    let cache = out.join("manifest-cache-container-scale");
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::create_dir_all(&cache)?;
    let args = [
        "prune",
        "container",
        "pkg-0",
        "--untagged",
        "--manifest-cache",
        cache.to_str().unwrap_or_default(),
    ];
    let mut figures = Vec::new();
    for (scenario, run) in [
        ("12 container 150,000, cold cache", "empty cache"),
        (
            "12 container 150,000, warm cache",
            "cache filled by the cold run",
        ),
    ] {
        let timed = time_ghpkg("scenario 12", ghpkg, &served.base_url, &args)?;
        println!(
            "scenario 12: dry-run prune --untagged of {VERSIONS} single-platform images, \
             {run}: wall {:.2} s, CPU {:.2} s, peak RSS {:.1} MiB",
            timed.wall_s, timed.cpu_s, timed.peak_rss_mib
        );
        figures.push(Figure::at_most(
            scenario,
            "client CPU (user+sys)",
            "s",
            timed.cpu_s,
            CPU_TARGET_S,
            "<= 1.5 s (ratio: /target)",
        ));
        figures.push(Figure::at_most(
            scenario,
            "peak memory (RSS)",
            "MiB",
            timed.peak_rss_mib,
            RSS_TARGET_MIB,
            "<= 64 MiB (ratio: /target)",
        ));
    }
    drop(served);
    let _ = std::fs::remove_dir_all(&cache);
    Ok(figures)
}
