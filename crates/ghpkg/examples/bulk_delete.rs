//! Deletes the untagged versions of `acme`'s container `web/app` in bulk, paced to GitHub's
//! published limits, which the emulator enforces here (900 points a minute, a delete costing 5).
//! Both clocks run 60 times faster so the run takes seconds, not minutes.
//!
//! ```sh
//! cargo run -p ghpkg --example bulk_delete
//! ```

use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use ghpkg::{BulkSummary, Client, ItemResult, Pacing, PackageType};
use ghpkg_mock::fixture::demo;
use ghpkg_mock::{MockOptions, MockServer, RateLimits, tokens};

/// How many times faster than GitHub's clocks both sides run.
const TIME_SCALE: f64 = 60.0;

/// How many versions to delete.
const HOW_MANY: usize = 300;

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
        "emulator listening at {} with GitHub's rate limits, {TIME_SCALE}x time",
        server.base_url()
    );

    let client = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .pacing(Pacing {
            time_scale: TIME_SCALE,
            ..Pacing::default()
        })
        .concurrency(8)
        .build()?;
    let web_app = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP);

    let untagged: Vec<u64> = web_app
        .versions()
        .stream()
        .try_filter(|version| std::future::ready(!version.is_tagged()))
        .map_ok(|version| version.id())
        .take(HOW_MANY)
        .try_collect()
        .await?;
    println!("deleting {} untagged versions", untagged.len());

    let started = Instant::now();
    let mut summary = BulkSummary::default();
    let mut outcomes = web_app.delete_versions(untagged.clone());
    while let Some(outcome) = outcomes.next().await {
        summary.record(&outcome);
        if let ItemResult::Failed(error) = &outcome.result {
            println!("  {} failed: {error}", outcome.id);
        }
        if summary.total() % 50 == 0 {
            println!("  {} done after {:.1?}", summary.total(), started.elapsed());
        }
    }
    println!(
        "deleted {}, already gone {}, failed {} in {:.1?}",
        summary.deleted,
        summary.already_gone,
        summary.failed,
        started.elapsed()
    );

    let again: BulkSummary = web_app
        .delete_versions(untagged.into_iter().take(10))
        .collect::<Vec<_>>()
        .await
        .iter()
        .collect();
    println!(
        "running again on 10 of them: {} already gone",
        again.already_gone
    );

    if let Some(budget) = client.rate_limit() {
        println!(
            "primary budget: {} of {} left",
            budget.remaining, budget.limit
        );
    }
    let stats = server.stats();
    println!(
        "requests refused by the emulator's rate limits: {} primary, {} secondary",
        stats.rate_limit_rejections.primary, stats.rate_limit_rejections.secondary
    );

    server.stop().await;
    Ok(())
}
