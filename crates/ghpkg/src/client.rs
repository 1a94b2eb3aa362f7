//! The [`Client`] and its [`ClientBuilder`]: where requests go, with which token, and how they
//! are paced.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ghpkg_api::{ClientContext, GITHUB_API_URL, ResponseValue, Token};

use crate::error::{self, Error, ErrorBody, Result};
use crate::pacing::{Pacer, Pacing, RateLimitStatus};
use crate::pagination::DEFAULT_PAGE_CONCURRENCY;
use crate::scope::{Owner, Scope};
use crate::token_scopes::{Operation, X_OAUTH_SCOPES, missing_scopes, scopes_in_header};

/// The environment variables a token is read from, in order.
pub const TOKEN_ENV_VARS: [&str; 2] = ["GH_TOKEN", "GITHUB_TOKEN"];

/// The whole-request timeout unless [`ClientBuilder::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The connect timeout unless [`ClientBuilder::connect_timeout`] says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A GitHub Packages client. Cheap to clone: clones share the connection pool and the pacing
/// budget.
///
/// Start from [`Client::builder`], then pick an owner with [`Client::org`], [`Client::user`] or
/// [`Client::authenticated_user`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    api: ghpkg_api::Client,
    pacer: Arc<Pacer>,
    base_url: String,
    has_token: bool,
    preflight_scope_check: bool,
    concurrency: usize,
}

impl Client {
    /// A builder with the defaults: github.com, the token from `GH_TOKEN` or `GITHUB_TOKEN`,
    /// default pacing, no pre-flight scope check.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The packages of organization `org`.
    pub fn org(&self, org: impl Into<String>) -> Scope {
        self.scope(Owner::Org(org.into()))
    }

    /// The packages of user `username`.
    pub fn user(&self, username: impl Into<String>) -> Scope {
        self.scope(Owner::User(username.into()))
    }

    /// The packages of the user the token belongs to.
    pub fn authenticated_user(&self) -> Scope {
        self.scope(Owner::AuthenticatedUser)
    }

    /// The packages of `owner`.
    pub fn scope(&self, owner: Owner) -> Scope {
        Scope::new(self.clone(), owner)
    }

    /// The REST API root requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The generated low-level client, for anything ghpkg does not wrap. Its requests go through
    /// the same headers and pacing.
    pub fn api(&self) -> &ghpkg_api::Client {
        &self.inner.api
    }

    /// The primary rate-limit budget as GitHub last reported it, if any response has been seen.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.inner.pacer.rate_limit()
    }

    /// How many requests one stream or bulk run keeps in flight.
    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    /// The classic scopes the token has, from GitHub's `X-OAuth-Scopes` header: the last one
    /// seen, or else the answer to one cheap request (`GET /user/docker/conflicts`). Empty for a
    /// token without classic scopes (including fine-grained tokens).
    pub async fn token_scopes(&self) -> Result<Vec<String>> {
        if let Some(granted) = self.inner.pacer.granted_scopes() {
            return Ok(granted);
        }
        Ok(self.probe_scopes().await?.unwrap_or_default())
    }

    /// Asks GitHub for the token's scopes; `None` when the answer carries no `X-OAuth-Scopes`.
    async fn probe_scopes(&self) -> Result<Option<Vec<String>>> {
        let operation = Operation::DockerConflicts;
        let result = self
            .inner
            .api
            .packages_list_docker_migration_conflicting_packages_for_authenticated_user()
            .send()
            .await;
        let error = match result {
            Ok(response) => return Ok(scopes_in_header(response.headers(), X_OAUTH_SCOPES)),
            Err(error) => error,
        };
        let headers = match &error {
            ghpkg_api::Error::ErrorResponse(response) if response.status() != 401 => {
                Some(response.headers())
            }
            ghpkg_api::Error::UnexpectedResponse(response) if response.status() != 401 => {
                Some(response.headers())
            }
            _ => None,
        };
        if let Some(granted) = headers.and_then(|headers| scopes_in_header(headers, X_OAUTH_SCOPES))
        {
            return Ok(Some(granted));
        }
        Err(self.map_error(operation, error).await)
    }

    /// The opt-in pre-flight check: fails with [`Error::MissingScopes`] before sending when the
    /// token's known scopes do not cover `operation`. Skipped for tokens without classic scopes.
    async fn preflight(&self, operation: Operation) -> Result<()> {
        if !self.inner.preflight_scope_check || !self.inner.has_token {
            return Ok(());
        }
        let granted = match self.inner.pacer.granted_scopes() {
            Some(granted) => Some(granted),
            None => self.probe_scopes().await?,
        };
        let Some(granted) = granted else {
            return Ok(());
        };
        if missing_scopes(operation.required_scopes(), &granted).is_empty() {
            return Ok(());
        }
        Err(Error::MissingScopes {
            operation,
            required: operation
                .required_scopes()
                .iter()
                .map(|scope| scope.to_string())
                .collect(),
            granted,
        })
    }

    /// Maps a generated-client error for `operation` (see [`error::from_api`]).
    pub(crate) async fn map_error<E: ErrorBody>(
        &self,
        operation: Operation,
        error: ghpkg_api::Error<E>,
    ) -> Error {
        error::from_api(operation, error, self.inner.pacer.granted_scopes()).await
    }

    /// Runs one generated operation: the pre-flight check, the request, the error mapping.
    pub(crate) async fn run<T, E: ErrorBody>(
        &self,
        operation: Operation,
        request: impl Future<Output = Result<ResponseValue<T>, ghpkg_api::Error<E>>>,
    ) -> Result<ResponseValue<T>> {
        self.preflight(operation).await?;
        tracing::debug!(operation = operation.description(), "sending");
        match request.await {
            Ok(response) => Ok(response),
            Err(error) => {
                let error = self.map_error(operation, error).await;
                tracing::debug!(operation = operation.description(), %error, "failed");
                Err(error)
            }
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field(
                "token",
                &if self.inner.has_token {
                    "<redacted>"
                } else {
                    "none"
                },
            )
            .field("preflight_scope_check", &self.inner.preflight_scope_check)
            .field("concurrency", &self.inner.concurrency)
            .finish()
    }
}

/// Where requests go.
#[derive(Clone, Debug)]
enum Target {
    GitHub,
    Enterprise(String),
    BaseUrl(String),
}

/// Configures and builds a [`Client`]. Every setting has a default; see [`Client::builder`].
#[derive(Clone)]
pub struct ClientBuilder {
    token: Option<Token>,
    token_from_env: bool,
    target: Target,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: Option<String>,
    pacing: Pacing,
    preflight_scope_check: bool,
    concurrency: usize,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            token: None,
            token_from_env: true,
            target: Target::GitHub,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
            pacing: Pacing::default(),
            preflight_scope_check: false,
            concurrency: DEFAULT_PAGE_CONCURRENCY,
        }
    }
}

impl ClientBuilder {
    /// Authenticates with `token`. An explicit token always beats the environment.
    pub fn token(mut self, token: impl Into<Token>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Reads the token from `GH_TOKEN`, then `GITHUB_TOKEN`, when no explicit token is given
    /// (the default; this undoes [`ClientBuilder::without_token`]).
    pub fn token_from_env(mut self) -> Self {
        self.token_from_env = true;
        self
    }

    /// Sends no token at all, ignoring the environment.
    pub fn without_token(mut self) -> Self {
        self.token = None;
        self.token_from_env = false;
        self
    }

    /// Talks to github.com (`https://api.github.com`): the default.
    pub fn github(mut self) -> Self {
        self.target = Target::GitHub;
        self
    }

    /// Talks to GitHub Enterprise Server at `host` (`https://HOST/api/v3`).
    pub fn enterprise(mut self, host: impl Into<String>) -> Self {
        self.target = Target::Enterprise(host.into());
        self
    }

    /// Talks to any REST API root, such as `ghpkg-mock`'s `http://127.0.0.1:PORT`. Plain
    /// `http://` is accepted only for loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.target = Target::BaseUrl(url.into());
        self
    }

    /// Gives up on one attempt of a request after `timeout` (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Gives up connecting after `timeout` (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sends `user_agent` as `User-Agent` (default `ghpkg/VERSION`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Paces, waits and retries as `pacing` says.
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Checks the token's scopes before each operation and fails with
    /// [`Error::MissingScopes`] without sending when they fall short (default off). Costs one
    /// extra request when no response has revealed the scopes yet.
    pub fn preflight_scope_check(mut self, enabled: bool) -> Self {
        self.preflight_scope_check = enabled;
        self
    }

    /// How many requests one stream or bulk run keeps in flight (default 4). Pacing still caps
    /// the client as a whole.
    pub fn concurrency(mut self, in_flight: usize) -> Self {
        self.concurrency = in_flight.max(1);
        self
    }

    /// Builds the client. Fails with [`Error::InvalidInput`] for a base URL that is not
    /// `https://` (or `http://` on loopback), and with [`Error::Transport`] if the HTTP client
    /// cannot be set up.
    pub fn build(self) -> Result<Client> {
        let base_url = match &self.target {
            Target::GitHub => GITHUB_API_URL.to_string(),
            Target::Enterprise(host) => {
                if host.trim().is_empty() {
                    return Err(Error::invalid_input(
                        "the Enterprise Server host is empty; pass a host such as ghe.example.com",
                    ));
                }
                ghpkg_api::enterprise_base_url(host)
            }
            Target::BaseUrl(url) => url.clone(),
        };
        let base_url = checked_base_url(&base_url)?;
        let token = match self.token {
            Some(token) => Some(token),
            None if self.token_from_env => token_from_env(),
            None => None,
        };
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|source| Error::Transport {
                operation: None,
                source: error::redact(source),
            })?;
        let pacer = Pacer::new(self.pacing);
        let mut context = ClientContext::new(token.clone()).with_transport(pacer.clone());
        if let Some(user_agent) = &self.user_agent {
            context = context.with_user_agent(user_agent);
        }
        let api = ghpkg_api::Client::new_with_client(&base_url, http, context);
        Ok(Client {
            inner: Arc::new(Inner {
                api,
                pacer,
                base_url,
                has_token: token.is_some(),
                preflight_scope_check: self.preflight_scope_check,
                concurrency: self.concurrency,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("token_from_env", &self.token_from_env)
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("pacing", &self.pacing)
            .field("preflight_scope_check", &self.preflight_scope_check)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// The token in `GH_TOKEN`, else `GITHUB_TOKEN`; blank values are ignored.
pub fn token_from_env() -> Option<Token> {
    token_from(|name| std::env::var(name).ok())
}

/// The first non-blank value of [`TOKEN_ENV_VARS`] as `lookup` reports them.
fn token_from(lookup: impl Fn(&str) -> Option<String>) -> Option<Token> {
    TOKEN_ENV_VARS.iter().find_map(|name| {
        let value = lookup(name)?;
        let value = value.trim();
        (!value.is_empty()).then(|| Token::new(value))
    })
}

/// `url` without a trailing slash, if it is `https://`, or `http://` on a loopback host.
fn checked_base_url(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|error| {
        Error::invalid_input(format!(
            "the base URL {trimmed:?} is not a URL ({error}); use e.g. https://api.github.com"
        ))
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => {
            return Err(Error::invalid_input(format!(
                "refusing plain http:// for {trimmed}: the token would cross the network \
                 unencrypted; use https:// (http:// is allowed only for 127.0.0.0/8, ::1 and \
                 localhost)"
            )));
        }
        other => {
            return Err(Error::invalid_input(format!(
                "the base URL {trimmed:?} has scheme {other:?}; use https://"
            )));
        }
    }
    if parsed.host().is_none() {
        return Err(Error::invalid_input(format!(
            "the base URL {trimmed:?} has no host"
        )));
    }
    Ok(trimmed.to_string())
}

/// Whether the URL's host is loopback: 127.0.0.0/8, ::1 or localhost.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for url in [
            "https://api.github.com/",
            "https://ghe.example.com/api/v3",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:3000/",
            "http://localhost:1234",
        ] {
            assert!(checked_base_url(url).is_ok(), "{url}");
        }
        assert_eq!(
            checked_base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn plain_http_elsewhere_is_refused_at_build() {
        for url in [
            "http://api.github.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "ftp://x",
            "not a url",
        ] {
            let error = Client::builder()
                .base_url(url)
                .without_token()
                .build()
                .unwrap_err();
            assert!(
                matches!(error, Error::InvalidInput { .. }),
                "{url}: {error}"
            );
        }
        let error = checked_base_url("http://ghe.internal").unwrap_err();
        assert!(error.to_string().contains("use https://"), "{error}");
    }

    #[test]
    fn enterprise_hosts_get_the_api_v3_root() {
        let client = Client::builder()
            .enterprise("ghe.example.com")
            .without_token()
            .build()
            .unwrap();
        assert_eq!(client.base_url(), "https://ghe.example.com/api/v3");
        let default = Client::builder().without_token().build().unwrap();
        assert_eq!(default.base_url(), "https://api.github.com");
    }

    #[test]
    fn gh_token_comes_before_github_token_and_blanks_are_ignored() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            }
        };
        let both = token_from(env(&[("GH_TOKEN", "gh"), ("GITHUB_TOKEN", "github")]));
        assert_eq!(both.unwrap().expose_secret(), "gh");
        let blank_gh = token_from(env(&[("GH_TOKEN", "  "), ("GITHUB_TOKEN", "github")]));
        assert_eq!(blank_gh.unwrap().expose_secret(), "github");
        assert!(token_from(env(&[])).is_none());
    }

    #[test]
    fn an_explicit_token_beats_the_environment_and_without_token_sends_none() {
        let client = Client::builder().token("ghp_explicit").build().unwrap();
        let token = client.api().context().token().unwrap();
        assert_eq!(token.expose_secret(), "ghp_explicit");
        let anonymous = Client::builder().without_token().build().unwrap();
        assert!(anonymous.api().context().token().is_none());
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let builder = Client::builder().token("ghp_topsecret123");
        assert!(!format!("{builder:?}").contains("topsecret"));
        let client = builder.build().unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("topsecret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(!format!("{:?}", client.api()).contains("topsecret"));
    }
}
