//! Streams all 3,000 versions of `acme`'s container `web/app`, first following `Link` headers
//! one page at a time, then fetching pages concurrently, and checks both give the same
//! sequence. The emulator adds 20 ms of latency per request, so the difference shows.
//!
//! ```sh
//! cargo run -p ghpkg --example stream_versions
//! ```

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use ghpkg::{Client, PackageType, PackageVersion, Paging};
use ghpkg_mock::fixture::demo;
use ghpkg_mock::{MockOptions, MockServer, tokens};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start(MockOptions {
        latency: Duration::from_millis(20),
        ..MockOptions::default()
    })
    .await?;
    println!(
        "emulator listening at {} (20 ms latency)",
        server.base_url()
    );

    let client = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .build()?;
    let web_app = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP);

    let mut runs = Vec::new();
    for paging in [Paging::Sequential, Paging::Concurrent(4)] {
        let started = Instant::now();
        let versions: Vec<PackageVersion> = web_app
            .versions()
            .paging(paging)
            .stream()
            .try_collect()
            .await?;
        let tagged = versions.iter().filter(|v| v.is_tagged()).count();
        println!(
            "{paging:?}: {} versions ({tagged} tagged, {} untagged) in {:.2?}",
            versions.len(),
            versions.len() - tagged,
            started.elapsed()
        );
        runs.push(versions.into_iter().map(|v| v.id()).collect::<Vec<_>>());
    }
    println!("same sequence both ways: {}", runs[0] == runs[1]);

    // Streams are lazy: take what you need and stop.
    let newest: Vec<PackageVersion> = web_app.versions().per_page(5).page(1).send().await?.items;
    for version in newest {
        println!("  {} {:?}", version.id(), version.tags());
    }

    server.stop().await;
    Ok(())
}
