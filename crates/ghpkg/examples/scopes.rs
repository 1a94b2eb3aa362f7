//! One API over the three owner scopes: an organization, a user, and the user the token
//! belongs to. Starts the emulator in-process, so it runs offline:
//!
//! ```sh
//! cargo run -p ghpkg --example scopes
//! ```

use ghpkg::{Client, PackageType, Scope};
use ghpkg_mock::fixture::demo;
use ghpkg_mock::{MockOptions, MockServer, tokens};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start(MockOptions::default()).await?;
    println!("emulator listening at {}", server.base_url());

    let client = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .build()?;
    println!("token scopes: {}", client.token_scopes().await?.join(", "));

    let scopes = [
        client.org(demo::ACME),
        client.user(demo::OCTOCAT),
        client.authenticated_user(),
    ];
    for scope in &scopes {
        describe(scope).await?;
    }

    // The same handle methods in every scope: here, the versions of octocat's image.
    let hello = client
        .authenticated_user()
        .package(PackageType::Container, demo::HELLO_DOCKER);
    println!("\nversions of {}:", hello.name());
    for version in hello.versions().send().await? {
        let tags = if version.is_tagged() {
            version.tags().join(", ")
        } else {
            "untagged".to_string()
        };
        println!(
            "  {:>7}  {}  {tags}",
            version.id(),
            version.digest().unwrap_or(version.name())
        );
    }

    // Errors say what to do next: a read-only token cannot delete.
    let read_only = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_READ)
        .build()?;
    let refused = read_only
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD)
        .version(demo::LEFT_PAD_VERSION_IDS[0] as u64)
        .delete()
        .await;
    if let Err(error) = refused {
        println!("\ndeleting with a read-only token:\n  {error}");
    }

    server.stop().await;
    Ok(())
}

/// Prints the container and npm packages of `scope`, and its Docker migration conflicts.
async fn describe(scope: &Scope) -> ghpkg::Result<()> {
    println!("\n== {}", scope.owner());
    for package_type in [PackageType::Container, PackageType::Npm] {
        let page = scope.packages(package_type.clone()).send().await?;
        for package in &page.items {
            println!(
                "  {:<9} {:<14} {:<8} {} versions",
                package.package_type(),
                package.name(),
                package.visibility(),
                package.version_count()
            );
        }
    }
    let conflicts = scope.docker_conflicts().await?;
    let names: Vec<&str> = conflicts.iter().map(|p| p.name()).collect();
    println!("  Docker migration conflicts: {}", names.join(", "));
    Ok(())
}
