//! Where requests go and as whom: the API root, the token, the owner, and the embedded emulator
//! of `--demo`. The precedence rules live here and nowhere else:
//!
//! - **API root**: `--demo` (the embedded emulator), else `--api-url`, else `--host`, else — for
//!   `restore --from-log` — the API root the journal records, else the environment's
//!   `GITHUB_API_URL` (set by GitHub Actions), else `GH_HOST`, else github.com. Flags beat the
//!   journal, the journal beats the environment; a full URL beats a host.
//! - **Token**: `--with-token` (the first line of standard input), else `GH_TOKEN`, else
//!   `GITHUB_TOKEN` (blank values are ignored), else none. With `--demo`, `--with-token` or the
//!   demo token `ghp_octocat_all`; the environment is ignored, so a real token never reaches
//!   the emulator. The token is never an argument and never printed.
//! - **Owner**: `--org NAME`, `--user NAME` (`--user @me`: the token's user), else the token's
//!   user — except with `--demo`, where it is `--org acme`, the demo organization.

use std::io::Read;

use chrono::{DateTime, Utc};
use ghpkg::registry::{Registry, RegistryOptions};
use ghpkg::{Client, ClientBuilder, Owner, Pacing, Token};
use ghpkg_account::AccountExt;

use crate::cli::{GlobalArgs, RegistryArgs};
use crate::demo::{DEMO_TIME_SCALE, Demo};
use crate::exit::Exit;
use crate::failure::Failure;

/// `--user @me`: the token's user.
pub const AUTHENTICATED_USER: &str = "@me";

/// The most read from standard input for `--with-token`.
const MAX_TOKEN_INPUT: u64 = 64 * 1024;

/// Where the token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `--with-token`: standard input.
    Stdin,
    /// The `GH_TOKEN` environment variable.
    GhToken,
    /// The `GITHUB_TOKEN` environment variable.
    GithubToken,
    /// The demo token of `--demo`.
    Demo,
    /// No token.
    None,
}

impl TokenSource {
    /// The stable name (`stdin`, `GH_TOKEN`, `GITHUB_TOKEN`, `demo`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Stdin => "stdin",
            TokenSource::GhToken => "GH_TOKEN",
            TokenSource::GithubToken => "GITHUB_TOKEN",
            TokenSource::Demo => "demo",
            TokenSource::None => "none",
        }
    }
}

/// Where the API is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Api {
    /// github.com.
    GitHub,
    /// GitHub Enterprise Server at this host.
    Enterprise(String),
    /// Any REST API root.
    BaseUrl(String),
}

/// The API and which setting chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Where the API is.
    pub api: Api,
    /// What chose it: `--demo`, `--api-url`, `--host`, `journal`, `GITHUB_API_URL`, `GH_HOST`
    /// or `default`.
    pub source: &'static str,
}

impl Endpoint {
    /// The endpoint the flags and `environment` say (`--demo` aside).
    pub fn choose(global: &GlobalArgs, environment: impl Fn(&str) -> Option<String>) -> Endpoint {
        let non_blank = |value: Option<String>| value.filter(|value| !value.trim().is_empty());
        if let Some(url) = &global.api_url {
            return Endpoint {
                api: Api::BaseUrl(url.clone()),
                source: "--api-url",
            };
        }
        if let Some(host) = &global.host {
            return Endpoint {
                api: api_of_host(host),
                source: "--host",
            };
        }
        if let Some(url) = non_blank(environment("GITHUB_API_URL")) {
            return Endpoint {
                api: Api::BaseUrl(url.trim().to_string()),
                source: "GITHUB_API_URL",
            };
        }
        if let Some(host) = non_blank(environment("GH_HOST")) {
            return Endpoint {
                api: api_of_host(host.trim()),
                source: "GH_HOST",
            };
        }
        Endpoint {
            api: Api::GitHub,
            source: "default",
        }
    }

    /// The endpoint of work recorded against the API root `recorded` (a journal's): `--api-url`
    /// or `--host` beat it, and it beats the environment.
    pub fn choose_over_recorded(
        global: &GlobalArgs,
        recorded: &str,
        environment: impl Fn(&str) -> Option<String>,
    ) -> Endpoint {
        if global.api_url.is_some() || global.host.is_some() {
            return Endpoint::choose(global, environment);
        }
        Endpoint {
            api: Api::BaseUrl(recorded.to_string()),
            source: "journal",
        }
    }

    fn configure(&self, builder: ClientBuilder) -> ClientBuilder {
        match &self.api {
            Api::GitHub => builder.github(),
            Api::Enterprise(host) => builder.enterprise(host),
            Api::BaseUrl(url) => builder.base_url(url),
        }
    }
}

impl Endpoint {
    /// Whether the API is on a loopback address (an emulator).
    pub fn is_loopback(&self) -> bool {
        let Api::BaseUrl(url) = &self.api else {
            return false;
        };
        url::Url::parse(url).is_ok_and(|url| ghpkg::is_loopback(&url))
    }
}

fn api_of_host(host: &str) -> Api {
    let host = host.trim().trim_end_matches('/');
    if host.eq_ignore_ascii_case("github.com") || host.eq_ignore_ascii_case("api.github.com") {
        Api::GitHub
    } else {
        Api::Enterprise(host.to_string())
    }
}

/// The owner the flags name, before any request.
pub fn owner(global: &GlobalArgs) -> Owner {
    match (&global.org, &global.user) {
        (Some(org), _) => Owner::Org(org.clone()),
        (None, Some(user)) if user == AUTHENTICATED_USER => Owner::AuthenticatedUser(None),
        (None, Some(user)) => Owner::User(user.clone()),
        #[cfg(feature = "demo")]
        (None, None) if global.demo => Owner::Org(crate::demo::DEMO_OWNER.to_string()),
        (None, None) => Owner::AuthenticatedUser(None),
    }
}

/// The flag that names `owner` on a command line (`--org acme`, `--user octocat`,
/// `--user @me`), for the commands ghpkg suggests.
pub fn owner_flag(owner: &Owner) -> String {
    match owner {
        Owner::Org(login) => format!("--org {login}"),
        Owner::User(login) => format!("--user {login}"),
        Owner::AuthenticatedUser(_) => format!("--user {AUTHENTICATED_USER}"),
    }
}

/// A client, the owner it acts for, and what chose them.
pub struct Connection {
    /// The client every request goes through.
    pub client: Client,
    /// Whose packages.
    pub owner: Owner,
    /// Where the token came from.
    pub token: TokenSource,
    /// Where the API is, and why.
    pub endpoint: Endpoint,
    /// The embedded emulator of `--demo`, serving (API and registry on one origin) until the
    /// connection is dropped.
    _demo: Option<Demo>,
}

impl Connection {
    /// Reads the token, starts the emulator for `--demo` (its clock at `now` when "now" is
    /// fixed), and builds the client. Sends nothing to the API.
    pub async fn open(
        global: &GlobalArgs,
        fixed_now: Option<DateTime<Utc>>,
    ) -> Result<Connection, Failure> {
        Connection::open_over_recorded(global, fixed_now, None).await
    }

    /// [`Connection::open`] for work recorded against the API root `recorded` (a journal's):
    /// without `--api-url` or `--host`, the client talks to it, whatever the environment says
    /// (see [`Endpoint::choose_over_recorded`]).
    pub async fn open_over_recorded(
        global: &GlobalArgs,
        fixed_now: Option<DateTime<Utc>>,
        recorded: Option<&str>,
    ) -> Result<Connection, Failure> {
        let environment = |name: &str| std::env::var(name).ok();
        let stdin_token = if global.with_token {
            Some(read_token_from_stdin()?)
        } else {
            None
        };
        let (endpoint, demo, token, source) = if global.demo {
            let demo = Demo::start(fixed_now).await?;
            let endpoint = Endpoint {
                api: Api::BaseUrl(demo.base_url.clone()),
                source: "--demo",
            };
            let (token, source) = match stdin_token {
                Some(token) => (Some(token), TokenSource::Stdin),
                None => (Some(demo.token.clone()), TokenSource::Demo),
            };
            (endpoint, Some(demo), token, source)
        } else {
            let endpoint = match recorded {
                Some(recorded) => Endpoint::choose_over_recorded(global, recorded, environment),
                None => Endpoint::choose(global, environment),
            };
            let (token, source) = match stdin_token {
                Some(token) => (Some(token), TokenSource::Stdin),
                None => token_from_environment(environment),
            };
            (endpoint, None, token, source)
        };
        let mut builder = endpoint.configure(Client::builder());
        let time_scale = match (demo.is_some(), global.time_scale) {
            // GitHub's pacing, with its minutes lasting a second: a demo of thousands of
            // deletions takes seconds, and the ETA says so.
            (true, scale) => Some(scale.unwrap_or(DEMO_TIME_SCALE)),
            (false, Some(scale)) if endpoint.is_loopback() => Some(scale),
            (false, Some(_)) => {
                return Err(Failure::new(
                    ghpkg::ErrorKind::InvalidInput,
                    Exit::Usage,
                    "--time-scale speeds up GitHub's rate-limit windows: against GitHub itself \
                     it would trip them",
                )
                .with_hint(
                    "Use it only with --api-url of a loopback emulator started with the same \
                     `ghpkg-mock serve --time-scale`.",
                ));
            }
            (false, None) => None,
        };
        if let Some(time_scale) = time_scale {
            builder = builder.pacing(Pacing {
                time_scale,
                ..Pacing::default()
            });
        }
        if global.insecure_skip_tls_verify {
            // Always said, even with --quiet: this is the one setting that exposes the token.
            crate::render::alert(
                "--insecure-skip-tls-verify: TLS certificates are not checked; anyone on the \
                 path can read the token",
            );
            builder = builder.danger_accept_invalid_certs(true);
        }
        let builder = match token {
            Some(token) => builder.token(token),
            None => builder.without_token(),
        };
        let client = builder
            .user_agent(concat!("ghpkg-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Connection {
            client,
            owner: owner(global),
            token: source,
            endpoint,
            _demo: demo,
        })
    }

    /// The owner's scope.
    pub fn scope(&self) -> ghpkg::Scope {
        self.client.scope(self.owner.clone())
    }

    /// The owner's package that `package` names.
    pub fn package(&self, package: &crate::cli::PackageRef) -> ghpkg::PackageHandle {
        self.scope()
            .package(package.package_type.clone(), package.name.clone())
    }

    /// The token's login when the owner is the authenticated user (`None` for `--org`/`--user`,
    /// and when GitHub will not say, as for GitHub Actions' `GITHUB_TOKEN`): plans record it, and
    /// an apply refuses a plan made for another user.
    pub async fn authenticated_login(&self) -> Option<String> {
        if !self.owner.is_authenticated_user() {
            return None;
        }
        self.client
            .authenticated_account()
            .await
            .ok()
            .map(|account| account.login)
    }

    /// A registry reader for container image manifests, as `args` say.
    pub fn registry(&self, args: &RegistryArgs) -> Result<Registry, Failure> {
        Ok(Registry::new(
            &self.client,
            RegistryOptions {
                url: args.registry_url.clone(),
                cache_dir: args.cache_dir(|name| std::env::var(name).ok()),
                username: None,
            },
        )?)
    }
}

/// The token the library reads from `environment` (`GH_TOKEN`, else `GITHUB_TOKEN`), with
/// where it came from.
fn token_from_environment(
    environment: impl Fn(&str) -> Option<String>,
) -> (Option<Token>, TokenSource) {
    match ghpkg::token_from(environment) {
        Some(("GH_TOKEN", token)) => (Some(token), TokenSource::GhToken),
        Some((_, token)) => (Some(token), TokenSource::GithubToken),
        None => (None, TokenSource::None),
    }
}

/// The first line of standard input, for `--with-token`.
fn read_token_from_stdin() -> Result<Token, Failure> {
    let mut input = String::new();
    std::io::stdin()
        .take(MAX_TOKEN_INPUT)
        .read_to_string(&mut input)
        .map_err(|error| {
            Failure::new(
                ghpkg::ErrorKind::InvalidToken,
                Exit::Failure,
                format!("cannot read the token from standard input: {error}"),
            )
        })?;
    let token = input.lines().next().unwrap_or_default().trim();
    if token.is_empty() {
        return Err(Failure::new(
            ghpkg::ErrorKind::InvalidToken,
            Exit::Usage,
            "--with-token read no token from standard input",
        )
        .with_hint("Pipe the token in, e.g. `gh auth token | ghpkg --with-token auth status`."));
    }
    Ok(Token::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn global(args: &[&str]) -> GlobalArgs {
        let mut all = vec!["ghpkg"];
        all.extend_from_slice(args);
        all.push("conflicts");
        crate::cli::Cli::try_parse_from(all).unwrap().global
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn flags_beat_the_environment_and_a_url_beats_a_host() {
        let both_env = env(&[
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3"),
            ("GH_HOST", "other.example.com"),
        ]);
        let chosen = Endpoint::choose(&global(&[]), &both_env);
        assert_eq!(chosen.source, "GITHUB_API_URL");
        let chosen = Endpoint::choose(&global(&["--host", "flag.example.com"]), &both_env);
        assert_eq!(
            (chosen.api, chosen.source),
            (Api::Enterprise("flag.example.com".into()), "--host")
        );
        let chosen = Endpoint::choose(&global(&["--api-url", "http://127.0.0.1:1"]), &both_env);
        assert_eq!(chosen.source, "--api-url");
        let chosen = Endpoint::choose(&global(&[]), env(&[("GH_HOST", "ghe.example.com")]));
        assert_eq!(chosen.api, Api::Enterprise("ghe.example.com".into()));
        let chosen = Endpoint::choose(&global(&[]), env(&[("GH_HOST", "github.com")]));
        assert_eq!((chosen.api, chosen.source), (Api::GitHub, "GH_HOST"));
        assert_eq!(Endpoint::choose(&global(&[]), env(&[])).source, "default");
    }

    #[test]
    fn a_journals_api_root_beats_the_environment_and_flags_beat_it() {
        let actions = env(&[("GITHUB_API_URL", "https://api.github.com")]);
        let recorded = "https://ghe.example.com/api/v3";
        let chosen = Endpoint::choose_over_recorded(&global(&[]), recorded, &actions);
        assert_eq!(
            (chosen.api, chosen.source),
            (Api::BaseUrl(recorded.into()), "journal")
        );
        let chosen = Endpoint::choose_over_recorded(
            &global(&["--host", "other.example.com"]),
            recorded,
            &actions,
        );
        assert_eq!(chosen.source, "--host");
    }

    #[test]
    fn gh_token_comes_before_github_token_and_blanks_are_skipped() {
        let (token, source) =
            token_from_environment(env(&[("GH_TOKEN", " "), ("GITHUB_TOKEN", "ghs_x")]));
        assert_eq!(source, TokenSource::GithubToken);
        assert_eq!(token.unwrap().expose_secret(), "ghs_x");
        let (_, source) =
            token_from_environment(env(&[("GH_TOKEN", "ghp_a"), ("GITHUB_TOKEN", "ghs_x")]));
        assert_eq!(source, TokenSource::GhToken);
        assert_eq!(token_from_environment(env(&[])).1, TokenSource::None);
    }

    #[test]
    fn the_owner_defaults_to_the_token_user_and_to_acme_in_the_demo() {
        assert_eq!(owner(&global(&[])), Owner::AuthenticatedUser(None));
        assert_eq!(owner(&global(&["--demo"])), Owner::Org("acme".into()));
        assert_eq!(
            owner(&global(&["--demo", "--user", "@me"])),
            Owner::AuthenticatedUser(None)
        );
        assert_eq!(
            owner(&global(&["--user", "octocat"])),
            Owner::User("octocat".into())
        );
        assert_eq!(
            owner(&global(&["--org", "acme"])),
            Owner::Org("acme".into())
        );
    }
}
