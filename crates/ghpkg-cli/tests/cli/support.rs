//! What every end-to-end test needs: an emulator in this process on 127.0.0.1 (with its own
//! runtime, so tests stay plain `#[test]`s), the real `ghpkg` binary pointed at it, and the
//! committed schemas to validate `--json` output against.

use std::path::{Path, PathBuf};
use std::process::Output;

use ghpkg_api::types::PackageType;
use ghpkg_mock::{Fixture, MockOptions, MockServer, SyntheticSpec};
use serde_json::Value;

/// The synthetic world's organization, user and token (see `SyntheticSpec`).
pub const SYNTHETIC_ORG: &str = "org-0";
/// The synthetic world's first user, admin of `org-0`.
pub const SYNTHETIC_USER: &str = "user-0";
/// `user-0`'s token, with every packages scope.
pub const SYNTHETIC_TOKEN: &str = "ghp_user-0_all";

/// Every environment variable ghpkg reads, removed from the child so that the machine running
/// the tests cannot change what they see.
const CLEARED_ENV: &[&str] = &[
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_HOST",
    "GITHUB_API_URL",
    "GITHUB_ACTIONS",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GHPKG_NOW",
    "NO_COLOR",
    "CLICOLOR_FORCE",
    "GHPKG_TIME_SCALE",
    "GHPKG_CACHE_DIR",
    "XDG_CACHE_HOME",
];

/// An emulator serving on loopback from its own runtime; stopped when dropped.
pub struct Emulator {
    server: Option<MockServer>,
    runtime: tokio::runtime::Runtime,
}

impl Emulator {
    /// Starts an emulator with `options`.
    pub fn start(options: MockOptions) -> Emulator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime
            .block_on(MockServer::start(options))
            .expect("the emulator starts");
        Emulator {
            server: Some(server),
            runtime,
        }
    }

    /// The demo world.
    pub fn demo() -> Emulator {
        Emulator::start(MockOptions::default())
    }

    /// A small synthetic world: `org-0` and `user-0`/`user-1`, each with an npm package `pkg-0`
    /// and a maven package `pkg-1` of `versions` versions.
    pub fn synthetic(versions: u32) -> Emulator {
        Emulator::start(MockOptions {
            fixture: synthetic_fixture(versions),
            ..MockOptions::default()
        })
    }

    /// The server, for its state, changes and stats.
    pub fn server(&self) -> &MockServer {
        self.server.as_ref().expect("running")
    }

    /// The API root.
    pub fn url(&self) -> String {
        self.server().base_url()
    }

    /// `ghpkg --api-url URL ARGS…` with `token` in `GH_TOKEN` and a clean environment.
    pub fn ghpkg(&self, token: &str, args: &[&str]) -> assert_cmd::Command {
        let mut command = ghpkg(args);
        command
            .env("GH_TOKEN", token)
            .arg("--api-url")
            .arg(self.url());
        command
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.stop());
        }
    }
}

/// The synthetic fixture of [`Emulator::synthetic`].
pub fn synthetic_fixture(versions: u32) -> Fixture {
    Fixture::synthetic(SyntheticSpec {
        organizations: 1,
        users: 2,
        packages_per_owner: 2,
        versions_per_package: versions,
        package_types: vec![PackageType::Npm, PackageType::Maven],
        public_share: 0.0,
        ..SyntheticSpec::default()
    })
}

/// `ghpkg ARGS…` with a clean environment and no token.
pub fn ghpkg(args: &[&str]) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(ghpkg_path());
    for name in CLEARED_ENV {
        command.env_remove(name);
    }
    // The default manifest cache lives under the build's own temporary directory, never in the
    // home directory of whoever runs the tests.
    command.env(
        "GHPKG_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("ghpkg-cli-manifest-cache"),
    );
    command.args(args);
    command
}

/// `ghpkg ARGS…` as a plain process (for a pseudo-terminal), with the same clean environment
/// as [`ghpkg`] and `token` in `GH_TOKEN`.
pub fn ghpkg_process(token: &str, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(ghpkg_path());
    for name in CLEARED_ENV {
        command.env_remove(name);
    }
    command
        .env(
            "GHPKG_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("ghpkg-cli-manifest-cache"),
        )
        .env("GH_TOKEN", token)
        .args(args);
    command
}

/// The binary under test.
pub fn ghpkg_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ghpkg"))
}

/// Standard output as JSON, validated against the committed schema `schema` (a file name under
/// `schemas/`).
pub fn json_of(output: &Output, schema: &str) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|error| {
        panic!(
            "stdout is not one JSON document ({error}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_matches_schema(&value, schema);
    value
}

/// Fails unless `value` is valid against the committed schema `schema`.
pub fn assert_matches_schema(value: &Value, schema: &str) {
    let path = schemas_dir().join(schema);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("schemas are JSON");
    let validator = jsonschema::validator_for(&schema).expect("schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "output does not match {}:\n{}\n{}",
        path.display(),
        errors.join("\n"),
        serde_json::to_string_pretty(value).unwrap()
    );
}

/// `crates/ghpkg-cli/schemas`.
pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Standard output and standard error together, for assertions about what was printed.
pub fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
