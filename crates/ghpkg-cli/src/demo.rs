//! `--demo`: the embedded emulator, its world and its token. It is in the binary only with the
//! default `demo` feature; a build without it (`--no-default-features`, as release binaries
//! may be) has no emulator and no axum, and `--demo` says how to get one.

use chrono::{DateTime, Utc};
use ghpkg::Token;

use crate::exit::Exit;
use crate::failure::{CliKind, Failure};

/// How much faster than GitHub's the demo's rate-limit windows run: a minute lasts a second.
pub const DEMO_TIME_SCALE: f64 = 60.0;

/// The embedded emulator of `--demo`, serving (API and registry on one origin) until dropped.
pub struct Demo {
    #[cfg(feature = "demo")]
    _server: ghpkg_mock::MockServer,
    /// The emulator's API root.
    pub base_url: String,
    /// The demo token, which may do everything.
    pub token: Token,
}

impl Demo {
    /// Starts the emulator on loopback, its clock at `fixed_now` when "now" is fixed.
    #[cfg(feature = "demo")]
    pub async fn start(fixed_now: Option<DateTime<Utc>>) -> Result<Demo, Failure> {
        use ghpkg_mock::{MockClock, MockOptions, MockServer};
        let server = MockServer::start(MockOptions {
            clock: fixed_now.map_or_else(MockClock::system, MockClock::manual),
            ..MockOptions::default()
        })
        .await
        .map_err(|error| {
            Failure::new(
                CliKind::Demo,
                Exit::Failure,
                format!("cannot start the demo emulator: {error}"),
            )
        })?;
        Ok(Demo {
            base_url: server.base_url(),
            token: Token::new(ghpkg_mock::tokens::OCTOCAT_ALL),
            _server: server,
        })
    }

    /// Without the `demo` feature there is no emulator to start: says how to get one.
    #[cfg(not(feature = "demo"))]
    pub async fn start(_fixed_now: Option<DateTime<Utc>>) -> Result<Demo, Failure> {
        Err(Failure::new(
            CliKind::Demo,
            Exit::Usage,
            "this ghpkg was built without the embedded emulator (the `demo` feature), so \
             --demo is not available",
        )
        .with_hint(
            "Install a build with the default features (`cargo install ghpkg-cli`), or run the \
             emulator yourself (`ghpkg-mock serve`) and pass its --api-url.",
        ))
    }
}

/// The demo world's organization: the default owner with `--demo`.
#[cfg(feature = "demo")]
pub const DEMO_OWNER: &str = ghpkg_mock::fixture::demo::ACME;
