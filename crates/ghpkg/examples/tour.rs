//! The README's demo: the main job of ghpkg — finding and removing stale container versions —
//! run offline against the embedded emulator, with GitHub's rate limits enforced (clocks 60x
//! faster so that it takes seconds).
//!
//! ```sh
//! cargo run -p ghpkg --example tour
//! ```

use std::time::Instant;

use chrono::{Duration, Utc};
use futures::{StreamExt, TryStreamExt};
use ghpkg::{BulkSummary, Client, Error, Pacing, PackageType, PackageVersion};
use ghpkg_mock::fixture::demo;
use ghpkg_mock::{MockOptions, MockServer, RateLimits, tokens};

/// How many times faster than GitHub's clocks the emulator and the client run.
const TIME_SCALE: f64 = 60.0;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start(MockOptions {
        rate_limits: RateLimits {
            time_scale: TIME_SCALE,
            ..RateLimits::github()
        },
        ..MockOptions::default()
    })
    .await?;
    println!(
        "emulator: {} (GitHub's limits, {TIME_SCALE}x time)\n",
        server.base_url()
    );
    let client = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .pacing(Pacing {
            time_scale: TIME_SCALE,
            ..Pacing::default()
        })
        .build()?;
    println!("token scopes: {}", client.token_scopes().await?.join(", "));

    // One API over the three owner scopes.
    for (label, scope) in [
        ("org acme", client.org(demo::ACME)),
        ("user mona", client.user(demo::MONA)),
        ("you (octocat)", client.authenticated_user()),
    ] {
        let names: Vec<String> = scope
            .packages(PackageType::Container)
            .stream()
            .map_ok(|p| {
                format!(
                    "{} ({}, {} versions)",
                    p.name(),
                    p.visibility(),
                    p.version_count()
                )
            })
            .try_collect()
            .await?;
        let shown = if names.is_empty() {
            "(none visible to you)".to_string()
        } else {
            names.join("; ")
        };
        println!("{label:>14}: {shown}");
    }

    // Every version of a 3,000-version image, as one stream.
    let web_app = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP);
    let started = Instant::now();
    let versions: Vec<PackageVersion> = web_app.versions().stream().try_collect().await?;
    let cutoff = Utc::now() - Duration::days(365);
    let stale: Vec<&PackageVersion> = versions
        .iter()
        .filter(|v| !v.is_tagged() && v.created_at() < cutoff)
        .collect();
    println!(
        "\n{}: {} versions listed in {:.0?}; {} tagged; {} untagged and older than a year",
        demo::WEB_APP,
        versions.len(),
        started.elapsed(),
        versions.iter().filter(|v| v.is_tagged()).count(),
        stale.len()
    );
    for version in stale.iter().take(3) {
        println!(
            "  would delete {} {} (created {})",
            version.id(),
            version.digest().unwrap_or(version.name()),
            version.created_at().date_naive()
        );
    }

    // Delete them, paced to 900 points a minute; one outcome per version.
    let started = Instant::now();
    let ids: Vec<u64> = stale.iter().map(|v| v.id()).collect();
    let summary: BulkSummary = web_app
        .delete_versions(ids.clone())
        .collect::<Vec<_>>()
        .await
        .iter()
        .collect();
    let stats = server.stats();
    println!(
        "deleted {}, already gone {}, failed {} in {:.1?}; rate-limit rejections: {}",
        summary.deleted,
        summary.already_gone,
        summary.failed,
        started.elapsed(),
        stats.rate_limit_rejections.primary + stats.rate_limit_rejections.secondary
    );

    // Within 30 days, a deletion can be undone.
    if let Some(&first) = ids.first() {
        web_app.version(first).restore().await?;
        println!("restored version {first}");
    }

    // Errors say what went wrong and what to do next.
    let read_only = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_READ)
        .build()?;
    let refused = read_only
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP)
        .version(versions[0].id())
        .delete()
        .await;
    if let Err(error @ Error::MissingScopes { .. }) = refused {
        println!("\nwith a read-only token:\n  {error}");
    }
    let popular = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::API)
        .version(demo::API_POPULAR_VERSION_ID as u64)
        .delete()
        .await;
    if let Err(error @ Error::Refused { .. }) = popular {
        println!("a popular public version:\n  {error}");
    }

    server.stop().await;
    Ok(())
}
