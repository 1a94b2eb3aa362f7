//! `ghpkg-mock`: run the GitHub Packages emulator from the command line, or print a fixture.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use ghpkg_api::types::PackageType;
use ghpkg_mock::fixture::demo;
use ghpkg_mock::{
    DEFAULT_MAX_CONNECTIONS, Faults, Fixture, MockClock, MockOptions, MockServer, RateLimits,
    RegistryFailure, SyntheticSpec, Upstream,
};

/// An emulator of the GitHub Packages REST API on loopback, for offline tests and demos.
#[derive(Parser)]
#[command(name = "ghpkg-mock", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until Ctrl-C (at `/` and, Enterprise-style, under `/api/v3`).
    Serve(Box<ServeArgs>),
    /// Print a fixture as JSON: the demo world, the image-graph cases, or a synthetic one.
    Fixture(FixtureArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Fixture JSON file (see FIXTURES.md); the demo world when absent (with
    /// --upstream-registry: the demo's accounts and tokens, without its packages).
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic")]
    fixture: Option<PathBuf>,
    /// Generate the world in process instead of loading a fixture: the world `ghpkg-mock
    /// fixture --synthetic` prints with the same flags, built straight into the server's
    /// state (fit for 150,000 versions and more).
    #[arg(long, conflicts_with = "upstream_registry")]
    synthetic: bool,
    #[command(flatten)]
    generator: SyntheticArgs,
    /// Front a real local registry (CNCF distribution) at URL, e.g. `http://127.0.0.1:5000`:
    /// its repositories become container packages, and REST deletes of their versions delete
    /// the manifests there (it needs `storage.delete.enabled: true`).
    #[arg(long, value_name = "URL", requires = "upstream_storage")]
    upstream_registry: Option<url::Url>,
    /// The upstream registry's storage root (`storage.filesystem.rootdirectory`), read for
    /// untagged manifests, which its API does not list.
    #[arg(long, value_name = "DIR", requires = "upstream_registry")]
    upstream_storage: Option<PathBuf>,
    /// The account the upstream's packages belong to.
    #[arg(long, value_name = "LOGIN", default_value = demo::ACME, requires = "upstream_registry")]
    upstream_owner: String,
    /// Delay added to every answer, e.g. `40ms`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    latency: Duration,
    /// Up to this much more delay, uniformly drawn, e.g. `10ms`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    jitter: Duration,
    /// Injected faults, e.g. `5xx=0.05:502|503,drop=0.01,lost=0.01,truncate=0.01,slow=0.01:2s,
    /// secondary=0.01:60s,429=0.01:none` (see the README).
    #[arg(long, default_value = "none", long_help = Faults::help())]
    faults: Faults,
    /// Seed for jitter and faults (and, with --synthetic, of the generated world).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Enforce GitHub's rate limits, or not.
    #[arg(long, value_enum, default_value_t = RateLimitMode::Github)]
    rate_limits: RateLimitMode,
    /// Shrink rate-limit windows by this factor (10 makes the hour 6 minutes).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Close a connection after this long without a byte read or written, e.g. `30s`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    idle_timeout: Duration,
    /// Serve at most this many connections at once; more wait to be accepted.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_connections: usize,
    /// Answer the registry's referrers API with 404, as registries without it do.
    #[arg(long)]
    no_referrers: bool,
    /// Make the registry answer STATUS for a manifest, e.g. `sha256:…=500` (repeatable).
    #[arg(long, value_name = "DIGEST=STATUS", value_parser = parse_registry_failure)]
    registry_failure: Vec<RegistryFailure>,
}

fn parse_registry_failure(text: &str) -> Result<RegistryFailure, String> {
    let (digest, status) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("expected DIGEST=STATUS, got {text:?}"))?;
    let status: u16 = status
        .parse()
        .ok()
        .filter(|s| (400..=599).contains(s))
        .ok_or_else(|| format!("the status in {text:?} must be a number from 400 to 599"))?;
    Ok(RegistryFailure::always(digest, status))
}

#[derive(Clone, Copy, ValueEnum)]
enum RateLimitMode {
    /// 5,000 requests an hour, 900 points a minute, 100 concurrent requests per token.
    Github,
    /// No limits and no rate-limit headers.
    Off,
}

#[derive(clap::Args)]
struct FixtureArgs {
    /// Generate a synthetic fixture instead of printing the demo one.
    #[arg(long, conflicts_with = "graphs")]
    synthetic: bool,
    /// Print the world of every image-graph case (`ghpkg_mock::fixture::graphs::all`).
    #[arg(long)]
    graphs: bool,
    /// Seed of the synthetic generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    generator: SyntheticArgs,
}

/// The synthetic generator's flags (`SyntheticSpec`) but `--seed`, which `serve` also gives its faults.
#[derive(clap::Args)]
struct SyntheticArgs {
    /// Organizations.
    #[arg(long, default_value_t = 1)]
    orgs: u32,
    /// Users.
    #[arg(long, default_value_t = 2)]
    users: u32,
    /// Packages per owner.
    #[arg(long, default_value_t = 3)]
    packages: u32,
    /// Versions per package.
    #[arg(long, default_value_t = 50)]
    versions: u32,
    /// Package types, in turn (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "container")]
    types: Vec<String>,
    /// Multi-arch images per container package (5 versions each: index, 2 platforms, 2
    /// attestations).
    #[arg(long, default_value_t = 0)]
    multi_arch: u32,
}

impl SyntheticArgs {
    fn spec(&self, seed: u64) -> Result<SyntheticSpec, String> {
        let package_types = self
            .types
            .iter()
            .map(|t| {
                t.parse::<PackageType>().map_err(|_| {
                    format!("unknown package type {t:?} (npm, maven, rubygems, docker, nuget, container)")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SyntheticSpec {
            seed,
            organizations: self.orgs,
            users: self.users,
            packages_per_owner: self.packages,
            versions_per_package: self.versions,
            package_types,
            multi_arch_images: self.multi_arch,
            ..SyntheticSpec::default()
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Fixture(args) => print_fixture(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ghpkg-mock: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let upstream = match (&args.upstream_registry, &args.upstream_storage) {
        (Some(registry), Some(storage)) => {
            Some(Upstream::new(registry.clone(), storage).with_owner(args.upstream_owner.clone()))
        }
        _ => None,
    };
    let synthetic = if args.synthetic {
        Some(args.generator.spec(args.seed)?)
    } else {
        None
    };
    let fixture = match (&args.fixture, &synthetic) {
        (Some(path), _) => Fixture::load(path).map_err(|e| e.to_string())?,
        (None, Some(_)) => Fixture::default(),
        (None, None) if upstream.is_some() => demo::accounts(),
        (None, None) => Fixture::demo(),
    };
    // The tokens are printed once the server runs; the fixture itself moves into it.
    let tokens = match &synthetic {
        Some(spec) => token_summaries(&Fixture::synthetic_accounts(spec)),
        None => token_summaries(&fixture),
    };
    let rate_limits = match args.rate_limits {
        RateLimitMode::Github => RateLimits::github(),
        RateLimitMode::Off => RateLimits::off(),
    };
    let options = MockOptions {
        fixture,
        synthetic,
        addr: Some(args.addr),
        latency: args.latency,
        jitter: args.jitter,
        faults: args.faults.clone(),
        rate_limits: RateLimits {
            time_scale: args.time_scale,
            ..rate_limits
        },
        clock: MockClock::system(),
        seed: args.seed,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        registry_failures: args.registry_failure.clone(),
        referrers_api: !args.no_referrers,
        upstream,
    };
    let server = MockServer::start(options)
        .await
        .map_err(|e| format!("cannot start on {}: {e}", args.addr))?;
    println!("ghpkg-mock listening on {}", server.base_url());
    println!("Enterprise Server style: {}", server.enterprise_base_url());
    println!("Stats: {}/_mock/stats", server.base_url());
    println!("Applied changes: {}/_mock/changes", server.base_url());
    println!(
        "Registry (GHCR's read side): {}/v2/ (tokens: {}/token; referrers API {})",
        server.base_url(),
        server.base_url(),
        if args.no_referrers { "off" } else { "on" }
    );
    println!(
        "Rate limits: {}; faults: {}; latency: {} + up to {}; connections: at most {}, closed after {} idle",
        match args.rate_limits {
            RateLimitMode::Github => format!("github (time scale {})", args.time_scale),
            RateLimitMode::Off => "off".to_owned(),
        },
        args.faults,
        humantime::format_duration(args.latency),
        humantime::format_duration(args.jitter),
        args.max_connections,
        humantime::format_duration(args.idle_timeout),
    );
    if let Some(scan) = server.upstream_scan() {
        println!(
            "Upstream: {} manifests of {} repositories at {} as packages of {}",
            scan.manifests,
            scan.repositories.len(),
            args.upstream_registry
                .as_ref()
                .map_or(String::new(), |url| url.to_string()),
            args.upstream_owner
        );
        for skipped in &scan.skipped {
            println!("  skipped {skipped}");
        }
    }
    println!("Tokens:");
    for (token, user, scopes) in &tokens {
        let scopes = if scopes.is_empty() {
            "(no scopes)".to_owned()
        } else {
            scopes.join(", ")
        };
        println!("  {token:<28} {user:<12} {scopes}");
    }
    println!(
        "Try: curl -H \"Authorization: Bearer {}\" \"{}/orgs/acme/packages?package_type=container\"",
        tokens
            .first()
            .map_or("TOKEN", |(token, _, _)| token.as_str()),
        server.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    server.stop().await;
    Ok(())
}

/// Each token of `fixture`, its user and its scopes.
fn token_summaries(fixture: &Fixture) -> Vec<(String, String, Vec<String>)> {
    fixture
        .token_summaries()
        .map(|(token, user, scopes)| (token.to_owned(), user.to_owned(), scopes.to_vec()))
        .collect()
}

fn print_fixture(args: FixtureArgs) -> Result<(), String> {
    let fixture = if args.synthetic {
        // Written as it is generated: a world of 150,000 versions is never held whole.
        let spec = args.generator.spec(args.seed)?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        return Fixture::write_synthetic(&spec, &mut out)
            .and_then(|()| std::io::Write::write_all(&mut out, b"\n"))
            .and_then(|()| std::io::Write::flush(&mut out))
            .map_err(|e| format!("cannot write the fixture: {e}"));
    } else if args.graphs {
        ghpkg_mock::fixture::graphs::all()
    } else {
        Fixture::demo()
    };
    println!("{}", fixture.to_json());
    Ok(())
}
