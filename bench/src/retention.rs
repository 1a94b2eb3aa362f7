//! The retention scenarios: a dry-run prune of 10,000 versions (issue 10), applying 900
//! deletions through the journal (issue 10; of container images with the apply's re-check,
//! issue 15), and a graph-aware dry run over 2,000 multi-arch images (issues 11 and 15).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use chrono::Utc;
use ghpkg::apply::{self, ApplyOptions, Event};
use ghpkg::journal::{Journal, Outcome};
use ghpkg::registry::{Registry, RegistryOptions};
use ghpkg::retention::{Age, Rules, TagSelection};
use ghpkg::{PackageHandle, PackageType};

use crate::emulator::EmulatorProcess;
use crate::flag;
use crate::report::Figure;
use crate::scenarios::{
    ORG, VERSIONS_OPERATION, client, paced, requests_of, round_trip, the_package,
};

/// Versions in the dry-run and graph scenarios.
pub const VERSIONS: u32 = 10_000;
/// Multi-arch images in the graph scenario (each an index, 2 platforms, 2 attestations).
pub const MULTI_ARCH_IMAGES: u32 = 2_000;
/// Deletions applied in the apply scenario.
pub const APPLIED: usize = 900;

/// The floor of listing `versions` at `round_trip` with `in_flight` pages at once.
fn listing_floor(round_trip: Duration, versions: u32, in_flight: u64) -> f64 {
    let pages = u64::from(versions.div_ceil(100));
    round_trip.as_secs_f64() * (1 + (pages - 1).div_ceil(in_flight)) as f64
}

/// What the dry-run child process reports.
#[derive(serde::Serialize, serde::Deserialize)]
struct DryRunReport {
    versions: usize,
    decisions: usize,
    wall_s: f64,
    cpu_ms: f64,
}

fn dry_run_rules() -> Rules {
    Rules {
        keep_newest: Some(50),
        older_than: Some(Age::parse("30d").expect("a valid age")),
        ..Rules::default()
    }
}

/// Scenario 4: a dry-run prune of one npm package of 10,000 versions, in a child process, so
/// that its CPU time is the client's alone.
pub async fn dry_run(emulator: &EmulatorProcess) -> Result<Vec<Figure>> {
    let client = client(&emulator.base_url, paced())?;
    let package = the_package(&client, PackageType::Npm).await?;
    let trip = round_trip(&package).await?;
    // The listing, then the package's version count once more (the first goes beside page 1).
    let floor = listing_floor(trip, VERSIONS, client.concurrency() as u64) + trip.as_secs_f64();
    let mut reports = Vec::new();
    for _ in 0..3 {
        let output = std::process::Command::new(std::env::current_exe()?)
            .args(["probe-prune", "--base", &emulator.base_url])
            .output()?;
        ensure!(
            output.status.success(),
            "probe-prune failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: DryRunReport = serde_json::from_slice(&output.stdout)?;
        ensure!(
            report.versions == VERSIONS as usize,
            "listed {}",
            report.versions
        );
        reports.push(report);
    }
    reports.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let median = &reports[1];
    println!(
        "scenario 4: dry-run prune of {} versions ({} decisions): wall {:.3} s (floor {floor:.3} s), \
         client CPU {:.1} ms",
        median.versions, median.decisions, median.wall_s, median.cpu_ms
    );
    Ok(vec![
        Figure {
            scenario: "4 dry-run prune 10,000 @40ms",
            metric: "wall vs listing floor",
            unit: "s",
            measured: median.wall_s,
            floor,
            ratio: median.wall_s / floor,
            target: "<= 1.2x floor",
            met: median.wall_s / floor <= 1.2,
        },
        Figure {
            scenario: "4 dry-run prune 10,000 @40ms",
            metric: "client CPU",
            unit: "ms",
            measured: median.cpu_ms,
            floor: 150.0,
            ratio: median.cpu_ms / 150.0,
            target: "< 150 ms (ratio: /target)",
            met: median.cpu_ms < 150.0,
        },
    ])
}

/// Scenario 4's child: lists, plans and renders once, and prints a [`DryRunReport`].
pub async fn probe_prune(args: &[String]) -> Result<()> {
    let base = flag(args, "--base").context("probe-prune needs --base URL")?;
    let client = client(&base, paced())?;
    let package = the_package(&client, PackageType::Npm).await?;
    let cpu_before = crate::scenarios::process_cpu_time()?;
    let started = Instant::now();
    let facts = package.facts().await?;
    let target = client.org(ORG).target(&PackageType::Npm, None);
    let plan = ghpkg::retention::plan(&target, vec![facts], &dry_run_rules(), Utc::now())?;
    // Rendered as `ghpkg prune --plan-out` would write it.
    std::hint::black_box(plan.to_json());
    let wall = started.elapsed();
    let cpu = crate::scenarios::process_cpu_time()? - cpu_before;
    let report = DryRunReport {
        versions: plan.packages[0].decisions.len(),
        decisions: plan.packages[0].decisions.len(),
        wall_s: wall.as_secs_f64(),
        cpu_ms: cpu.as_secs_f64() * 1e3,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Scenario 5: applying 900 deletions through the library's apply, journal and pacing, of an
/// npm package (`registry: None`) or, for scenario 7, of a container package whose apply
/// re-checks the registry for pushes as it goes. Returns the figures and the elapsed time.
pub async fn apply_deletions(
    emulator: &EmulatorProcess,
    window: Duration,
    dir: &Path,
    package_type: PackageType,
) -> Result<(Vec<Figure>, f64)> {
    let container = package_type == PackageType::Container;
    let scenario = if container {
        "7 apply 900 container deletions (re-check)"
    } else {
        "5 apply 900 deletions (journal)"
    };
    let client = client(&emulator.base_url, paced())?;
    let package: PackageHandle = the_package(&client, package_type.clone()).await?;
    let registry = Registry::new(&client, RegistryOptions::default())?;
    let facts = if container {
        package.facts_with_graph(&registry).await?
    } else {
        package.facts().await?
    };
    let listed = facts.versions.len();
    let target = client.org(ORG).target(&package_type, None);
    // Keep fewer until exactly APPLIED go: a container package may keep a version the rules
    // would delete (a signature of a kept image, GitHub's last tagged version).
    let mut plan = None;
    for keep in (listed.saturating_sub(APPLIED + 20)..=listed - APPLIED).rev() {
        let rules = Rules {
            keep_newest: Some(keep),
            tag_selection: container.then_some(TagSelection::Both),
            ..Rules::default()
        };
        let planned = ghpkg::retention::plan(&target, vec![facts.clone()], &rules, Utc::now())?;
        if planned.deletions.len() >= APPLIED {
            plan = Some(planned);
            break;
        }
    }
    let plan = plan.context("no keep_newest plans 900 deletions")?;
    ensure!(
        plan.deletions.len() == APPLIED,
        "planned {}",
        plan.deletions.len()
    );
    // Start from an empty window.
    tokio::time::sleep(window + Duration::from_millis(200)).await;
    let before = emulator.stats().await?;
    let journal_path = dir.join("bench-apply.journal.jsonl");
    let _ = std::fs::remove_file(&journal_path);
    let mut journal = Journal::open(&journal_path, &apply::journal_scope(&plan))?;
    let options = ApplyOptions::new().registry(&registry);
    let started = Instant::now();
    let report = apply::apply(&client, &plan, &mut journal, &options, &|_: Event<'_>| {}).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let after = emulator.stats().await?;
    ensure!(
        report.count(Outcome::Deleted) == APPLIED,
        "deleted {} of {APPLIED}: {:?}",
        report.count(Outcome::Deleted),
        report.not_done
    );
    let rejections = (after.count_status(403) + after.count_status(429))
        - (before.count_status(403) + before.count_status(429));
    let listings =
        requests_of(&after, VERSIONS_OPERATION) - requests_of(&before, VERSIONS_OPERATION);
    let manifest_reads = after.registry.manifest_reads - before.registry.manifest_reads;
    // The apply lists the package again before deleting (its check that the plan still holds),
    // so its floor counts those pages' points too; re-checks are not in the floor.
    let pages = listed.div_ceil(100);
    let floor_time = crate::scenarios::points_floor(pages, APPLIED, window);
    let rate = APPLIED as f64 / elapsed;
    let allowed = 180.0 / window.as_secs_f64();
    println!(
        "scenario {}: applied {APPLIED} deletions with the journal in {elapsed:.2} s ({rate:.1}/s; \
         allowed {allowed:.1}/s); {listings} listing pages ({} beyond the first listing), \
         {manifest_reads} manifest reads; 403/429 answers {rejections}",
        &scenario[..1],
        listings.saturating_sub(pages as u64)
    );
    Ok((
        vec![
            Figure {
                scenario,
                metric: "time vs points floor",
                unit: "s",
                measured: elapsed,
                floor: floor_time,
                ratio: floor_time / elapsed,
                target: ">= 0.95 of allowed",
                met: floor_time / elapsed >= 0.95,
            },
            Figure {
                scenario,
                metric: "403/429 answers",
                unit: "count",
                measured: rejections as f64,
                floor: 0.0,
                ratio: 0.0,
                target: "zero",
                met: rejections == 0,
            },
        ],
        elapsed,
    ))
}

/// Scenario 7's comparison: the container apply, which re-checks the registry, against the
/// npm apply of scenario 5, which has nothing to re-check: nothing changed, so the re-check's
/// whole cost is the difference.
pub fn recheck_overhead(with_recheck: f64, without: f64) -> Figure {
    let ratio = with_recheck / without;
    Figure {
        scenario: "7 apply 900 container deletions (re-check)",
        metric: "time vs scenario 5",
        unit: "s",
        measured: with_recheck,
        floor: without,
        ratio,
        target: "<= 1.05x scenario 5",
        met: ratio <= 1.05,
    }
}

/// Scenario 6: a graph-aware dry run over 10,000 versions (2,000 multi-arch images): every
/// manifest read at most once, the wall time against the floor of the listing plus the reads,
/// and a rerun that reads nothing.
pub async fn graph_dry_run(emulator: &EmulatorProcess, dir: &Path) -> Result<Vec<Figure>> {
    let client = client(&emulator.base_url, paced())?;
    let package = the_package(&client, PackageType::Container).await?;
    let trip = round_trip(&package).await?;
    let in_flight = client.concurrency() as u64;
    let cache = dir.join("bench-manifest-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let registry = || {
        Registry::new(
            &client,
            RegistryOptions {
                cache_dir: Some(cache.clone()),
                ..RegistryOptions::default()
            },
        )
    };
    let rules = Rules {
        tag_selection: Some(TagSelection::Untagged),
        ..Rules::default()
    };
    let target = client.org(ORG).target(&PackageType::Container, None);
    let before = emulator.stats().await?;
    let started = Instant::now();
    let facts = package.facts_with_graph(&registry()?).await?;
    let plan = ghpkg::retention::plan(&target, vec![facts], &rules, Utc::now())?;
    let wall = started.elapsed().as_secs_f64();
    let after = emulator.stats().await?;
    let reads = after.registry.manifest_reads - before.registry.manifest_reads;
    let read_twice = after
        .registry
        .manifest_reads_by_digest
        .values()
        .filter(|&&n| n > 1)
        .count();
    // Every registry request (manifest reads, referrers, the challenge and the token exchange)
    // shares the client's concurrency, after the listing.
    let registry_requests = after.registry.requests - before.registry.requests;
    // The listing and the version count after it, then the reads.
    let floor = listing_floor(trip, VERSIONS, in_flight)
        + trip.as_secs_f64()
        + trip.as_secs_f64() * (registry_requests.div_ceil(in_flight)) as f64;

    let rerun_started = Instant::now();
    let facts = package.facts_with_graph(&registry()?).await?;
    let rerun = ghpkg::retention::plan(&target, vec![facts], &rules, Utc::now())?;
    let rerun_wall = rerun_started.elapsed().as_secs_f64();
    let rerun_reads =
        emulator.stats().await?.registry.manifest_reads - after.registry.manifest_reads;
    ensure!(
        rerun.deletions == plan.deletions,
        "the rerun planned the same"
    );
    println!(
        "scenario 6: graph dry run of {VERSIONS} versions: {reads} manifests read \
         ({read_twice} read twice), {} deletions planned, wall {wall:.3} s (floor {floor:.3} s); \
         rerun {rerun_wall:.3} s with {rerun_reads} reads ({} from the cache)",
        plan.deletions.len(),
        rerun.reads.from_cache
    );
    Ok(vec![
        Figure {
            scenario: "6 graph dry run 10,000/2,000",
            metric: "manifests read twice",
            unit: "count",
            measured: read_twice as f64,
            floor: 0.0,
            ratio: 0.0,
            target: "zero",
            met: read_twice == 0,
        },
        Figure {
            scenario: "6 graph dry run 10,000/2,000",
            metric: "wall vs listing+reads floor",
            unit: "s",
            measured: wall,
            floor,
            ratio: wall / floor,
            target: "<= 1.3x floor",
            met: wall / floor <= 1.3,
        },
        Figure {
            scenario: "6 graph dry run 10,000/2,000",
            metric: "rerun manifest reads",
            unit: "count",
            measured: rerun_reads as f64,
            floor: 0.0,
            ratio: 0.0,
            target: "zero",
            met: rerun_reads == 0,
        },
    ])
}
