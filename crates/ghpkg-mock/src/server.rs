//! The running emulator: binds a loopback port, and takes every API request (the Packages
//! operations and the account operations alike) through one pipeline of named stages (see
//! [`Shared::pipeline`]): authenticate, admit (rate limits), faults before the operation, scopes,
//! the operation itself, faults after it, and finally GitHub's headers on the way out. Registry
//! requests (`/v2/…`, `/token`) are not API requests: `registry` answers them apart, after the
//! same latency.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, LINK, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, request::Parts};
use axum::response::Response;
use chrono::SubsecRound;
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::accounts::{self, AccountRequest};
use crate::auth::{self, BadCredentials, Caller};
use crate::changes::AppliedChange;
use crate::clock::MockClock;
use crate::connection::{AbortableListener, ConnectionHandle, OpenConnections};
use crate::error::{ApiError, messages};
use crate::faults::{Effect, Fault, Faults, Stage};
use crate::fixture::{Fixture, SyntheticSpec};
use crate::handlers::{self, ApiRequest, Reply};
use crate::rate_limit::{Identity, Permit, Quota, RateLimiter, RateLimits, Rejection};
use crate::registry::{self, Registry, RegistryFailure};
use crate::routes::{self, Cost, Endpoint, QueryParams};
use crate::state::{StateSnapshot, Store};
use crate::stats::{Recorder, Stats, UNMATCHED_OPERATION};
use crate::upstream::{Upstream, UpstreamClient, UpstreamError, UpstreamScan};
use crate::wire::Urls;
use ghpkg_api::operations::Action;

/// The documentation GitHub links from errors that are not about one operation.
const REST_DOCS: &str = "https://docs.github.com/rest";
const PRIMARY_LIMIT_DOCS: &str = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-primary-rate-limits";
const SECONDARY_LIMIT_DOCS: &str = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// How much of an answer without a body a `truncate` fault lets out: `HTTP/1.1 204`, the
/// status line without its end.
const CUT_BODILESS_ANSWER_AFTER: usize = "HTTP/1.1 204".len();

/// How the emulator behaves. `MockOptions::default()` serves the demo fixture on an ephemeral
/// loopback port, with no latency, no faults, no rate limits and the real clock.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// The world to start with (unless `synthetic` is given).
    pub fixture: Fixture,
    /// A generated world to start with instead of `fixture`: the world
    /// [`Fixture::synthetic`] makes from this spec, built straight into the server's state
    /// (no fixture is made), so that it can be as large as a real user's (150,000 versions
    /// and more). See [`MockOptions::synthetic`].
    pub synthetic: Option<SyntheticSpec>,
    /// Where to listen; `127.0.0.1:0` (an ephemeral port) when `None`.
    pub addr: Option<SocketAddr>,
    /// Added to every API answer, and to every registry answer.
    pub latency: Duration,
    /// Up to this much more, uniformly drawn, on top of `latency`.
    pub jitter: Duration,
    /// Injected failures.
    pub faults: Faults,
    /// GitHub's rate limits, or none.
    pub rate_limits: RateLimits,
    /// The clock for deletion windows, rate-limit windows and fixture times.
    pub clock: MockClock,
    /// Seed of the generator behind jitter and faults: the same seed and request order give
    /// the same faults.
    pub seed: u64,
    /// A connection without a byte read or written for this long is closed, as GitHub closes
    /// idle keep-alive connections (default 30 s). A request being handled keeps its
    /// connection open.
    pub idle_timeout: Duration,
    /// At most this many connections are served at once (default 1,024); further clients wait
    /// to be accepted until one closes.
    pub max_connections: usize,
    /// Failures the registry answers instead of some manifests (besides the fixture's
    /// `registry_failure`s).
    pub registry_failures: Vec<RegistryFailure>,
    /// Whether the registry serves the OCI 1.1 referrers API (default `true`); when `false` it
    /// answers `404`, as registries without it do.
    pub referrers_api: bool,
    /// A real registry to front (default none): its repositories are added to the fixture's
    /// packages as container packages of [`Upstream::owner`], scanned once at start, and a REST
    /// delete of one of their versions deletes the manifest upstream first (see [`Upstream`]).
    pub upstream: Option<Upstream>,
}

/// The default [`MockOptions::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`MockOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            fixture: Fixture::demo(),
            synthetic: None,
            addr: None,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            faults: Faults::none(),
            rate_limits: RateLimits::off(),
            clock: MockClock::system(),
            seed: 0,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            registry_failures: Vec::new(),
            referrers_api: true,
            upstream: None,
        }
    }
}

impl MockOptions {
    /// The default options with the world `spec` generates in place of the demo (see
    /// [`MockOptions::synthetic`](MockOptions#structfield.synthetic)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use ghpkg_mock::{MockOptions, MockServer, SyntheticSpec};
    ///
    /// let server = MockServer::start(MockOptions::synthetic(SyntheticSpec {
    ///     versions_per_package: 1_000,
    ///     multi_arch_images: 20,
    ///     ..SyntheticSpec::default()
    /// }))
    /// .await?;
    /// let client = ghpkg_api::Client::with_base_url(&server.base_url(), Some("ghp_user-0_all"));
    /// let package = client
    ///     .packages_get_package_for_organization()
    ///     .org("org-0")
    ///     .package_type(ghpkg_api::types::PackageType::Container)
    ///     .package_name("pkg-0")
    ///     .send()
    ///     .await
    ///     .expect("org-0 has pkg-0");
    /// assert_eq!(package.version_count, 1_000);
    /// # Ok(()) }
    /// ```
    pub fn synthetic(spec: SyntheticSpec) -> MockOptions {
        MockOptions {
            fixture: Fixture::default(),
            synthetic: Some(spec),
            ..MockOptions::default()
        }
    }
}

/// A running emulator. It stops when dropped or on [`stop`](MockServer::stop).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use ghpkg_mock::{MockOptions, MockServer, tokens};
///
/// let server = MockServer::start(MockOptions::default()).await?;
/// let client = ghpkg_api::Client::with_base_url(&server.base_url(), Some(tokens::OCTOCAT_ALL));
/// let package = client
///     .packages_get_package_for_organization()
///     .org("acme")
///     .package_type(ghpkg_api::types::PackageType::Container)
///     .package_name("web/app")
///     .send()
///     .await
///     .expect("the demo has acme's web/app");
/// assert_eq!(package.version_count, 3000);
/// server.stop().await;
/// # Ok(()) }
/// ```
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    upstream_scan: Option<UpstreamScan>,
}

impl MockServer {
    /// Loads the fixture (and scans the upstream, if any) and starts serving. Fails with
    /// `InvalidInput` for an inconsistent fixture or fault specification, `max_connections` of 0,
    /// a registry failure status outside 400–599 or an upstream owner that is not an account of
    /// the fixture; with an [`UpstreamError`] inside an `Other` error when the upstream cannot be
    /// scanned; or with the bind error.
    pub async fn start(mut options: MockOptions) -> io::Result<MockServer> {
        let invalid = |error: String| io::Error::new(io::ErrorKind::InvalidInput, error);
        options
            .faults
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
        if options.max_connections == 0 {
            return Err(invalid("max_connections must be at least 1".to_owned()));
        }
        if let Some(failure) = options
            .registry_failures
            .iter()
            .find(|f| !(400..=599).contains(&f.status))
        {
            return Err(invalid(format!(
                "the registry failure for {} has status {}; it must be 400–599",
                failure.digest, failure.status
            )));
        }
        if options.synthetic.is_some() && options.upstream.is_some() {
            return Err(invalid(
                "a synthetic world cannot front an upstream registry; give a fixture instead"
                    .to_owned(),
            ));
        }
        let (upstream, upstream_scan) = match options.upstream.take() {
            Some(upstream) => {
                let owner_exists = options
                    .fixture
                    .users
                    .iter()
                    .map(|u| &u.login)
                    .chain(options.fixture.organizations.iter().map(|o| &o.login))
                    .any(|login| login.eq_ignore_ascii_case(&upstream.owner));
                if !owner_exists {
                    return Err(invalid(
                        UpstreamError::UnknownOwner(upstream.owner).to_string(),
                    ));
                }
                let mut client = UpstreamClient::new(upstream).map_err(io::Error::other)?;
                let scanned = client.scan().await.map_err(io::Error::other)?;
                options.fixture.packages.extend(scanned.packages);
                (Some(client), Some(scanned.report))
            }
            None => (None, None),
        };
        let fixture = std::mem::take(&mut options.fixture);
        let mut store = match &options.synthetic {
            Some(spec) => Store::from_synthetic(spec, options.clock.now()),
            None => Store::from_fixture(fixture, options.clock.now()),
        }
        .map_err(|e| invalid(e.to_string()))?;
        let listener = TcpListener::bind(
            options
                .addr
                .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        )
        .await?;
        let addr = listener.local_addr()?;
        let open_connections = OpenConnections::default();
        let web_root = format!("http://{addr}");
        let registry_failures = std::mem::take(&mut store.fixture_registry_failures)
            .into_iter()
            .map(|(digest, status)| RegistryFailure::always(digest, status))
            .chain(options.registry_failures)
            .collect();
        let shared = Arc::new(Shared {
            registry: Registry::new(
                web_root.clone(),
                options.referrers_api,
                registry_failures,
                options.seed,
            ),
            web_root,
            store: Mutex::new(store),
            clock: options.clock,
            limiter: Arc::new(RateLimiter::new(options.rate_limits)),
            faults: options.faults,
            latency: options.latency,
            jitter: options.jitter,
            rng: Mutex::new(StdRng::seed_from_u64(options.seed)),
            stats: Recorder::default(),
            request_ids: AtomicU64::new(1),
            open_connections: open_connections.clone(),
            upstream,
        });
        let app = Router::new()
            .fallback(dispatch)
            .with_state(Arc::clone(&shared));
        let listener = AbortableListener::new(
            listener,
            options.max_connections,
            open_connections,
            options.idle_timeout,
        );
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<ConnectionHandle>(),
            )
            .with_graceful_shutdown(async {
                let _ = signal.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "ghpkg-mock stopped serving");
            }
        });
        Ok(MockServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            task: Some(task),
            upstream_scan,
        })
    }

    /// What the scan of [`MockOptions::upstream`] found at start; `None` without an upstream.
    pub fn upstream_scan(&self) -> Option<&UpstreamScan> {
        self.upstream_scan.as_ref()
    }

    /// The github.com-style API root: `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.web_root.clone()
    }

    /// The Enterprise Server-style API root: `http://127.0.0.1:PORT/api/v3` (same state).
    pub fn enterprise_base_url(&self) -> String {
        format!("{}{}", self.base_url(), routes::ENTERPRISE_PREFIX)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// The server's clock; advance it to move deletion and rate-limit windows.
    pub fn clock(&self) -> MockClock {
        self.shared.clock.clone()
    }

    /// A copy of every package and version as they are now.
    pub fn state(&self) -> StateSnapshot {
        self.shared.store().snapshot()
    }

    /// Every change the server applied (deletes and restores of packages and versions), oldest
    /// first, including those whose answer a fault kept from the client.
    pub fn changes(&self) -> Vec<AppliedChange> {
        self.shared.store().changes().to_vec()
    }

    /// Deletes version `version_id` directly, as another client (`actor`) would between a
    /// client's listing and its delete: the change is logged with `actor` and the delete
    /// operation GitHub would record, and the version is gone from the API and the registry.
    /// `None` when no live package has such a version or it is already deleted. GitHub's
    /// refusals (the last tagged version, popular versions) do not apply.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use ghpkg_mock::fixture::graphs::{self, stale_listing};
    /// use ghpkg_mock::{MockOptions, MockServer};
    ///
    /// let server = MockServer::start(MockOptions {
    ///     fixture: graphs::stale_listing(),
    ///     ..MockOptions::default()
    /// })
    /// .await?;
    /// let change = server.delete_version_as("hubot", stale_listing::UNTAGGED[1]).unwrap();
    /// assert_eq!(change.actor, "hubot");
    /// assert!(server.delete_version_as("hubot", stale_listing::UNTAGGED[1]).is_none());
    /// # Ok(()) }
    /// ```
    pub fn delete_version_as(&self, actor: &str, version_id: i64) -> Option<AppliedChange> {
        let now = self.shared.clock.now().trunc_subsecs(0);
        self.shared
            .store()
            .delete_version_as(actor, version_id, now)
    }

    /// Runs `change` on the world under its lock, with the clock's now (whole seconds).
    pub(crate) fn with_store<R>(
        &self,
        change: impl FnOnce(&mut Store, chrono::DateTime<chrono::Utc>) -> R,
    ) -> R {
        let now = self.shared.clock.now().trunc_subsecs(0);
        change(&mut self.shared.store(), now)
    }

    /// How many connections are open now (at most [`MockOptions::max_connections`]).
    pub fn open_connections(&self) -> usize {
        self.shared.open_connections.count()
    }

    /// Stops accepting connections and waits (up to 5 s) for answers in progress.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// What every request handler shares.
struct Shared {
    /// `http://127.0.0.1:PORT`: the root of every URL the server writes, whatever `Host` says.
    web_root: String,
    /// The registry's read side: issued tokens and injected failures.
    registry: Registry,
    store: Mutex<Store>,
    clock: MockClock,
    limiter: Arc<RateLimiter>,
    faults: Faults,
    latency: Duration,
    jitter: Duration,
    rng: Mutex<StdRng>,
    stats: Recorder,
    request_ids: AtomicU64,
    /// The connections being served.
    open_connections: OpenConnections,
    /// The real registry this one fronts, if any.
    upstream: Option<UpstreamClient>,
}

/// How a request ended. (The answer is boxed so that the stages' `Result<_, Outcome>` stays
/// small.)
enum Outcome {
    Answered(Box<Response>),
    /// The connection was cut; nothing is sent.
    Dropped,
}

/// One API request on its way through the pipeline.
struct ApiCall<'a> {
    endpoint: &'a Endpoint,
    parts: &'a Parts,
    connection: &'a ConnectionHandle,
    urls: Urls,
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<ConnectionHandle>,
    request: Request,
) -> Response {
    let _in_flight = connection.begin_request();
    let (parts, _body) = request.into_parts();
    let (prefix, path) = routes::split_prefix(parts.uri.path());
    if let Some(response) = shared.mock_endpoint(&parts.method, path) {
        return response;
    }
    if prefix.is_empty() && registry::is_registry_path(path) {
        // A registry is as far away as the API: the same latency (without jitter, so that the
        // seeded faults of API requests do not depend on how many registry requests came
        // between them).
        if !shared.latency.is_zero() {
            tokio::time::sleep(shared.latency).await;
        }
        return shared
            .registry
            .serve(&parts, &mut shared.store(), &shared.stats);
    }
    shared.stats.update(|stats| stats.total_requests += 1);
    let request_id = shared.request_ids.fetch_add(1, Ordering::Relaxed);
    let Some(endpoint) = routes::resolve_endpoint(&parts.method, path) else {
        shared.stats.record_answer(UNMATCHED_OPERATION, 404);
        let response = refusal(StatusCode::NOT_FOUND, messages::NOT_FOUND, REST_DOCS);
        return with_github_headers(response, request_id);
    };
    let call = ApiCall {
        endpoint: &endpoint,
        parts: &parts,
        connection: &connection,
        urls: Urls::new(&shared.web_root, prefix),
    };
    match shared.serve(&call).await {
        Outcome::Answered(response) => {
            shared
                .stats
                .record_answer(endpoint.operation_id(), response.status().as_u16());
            with_github_headers(*response, request_id)
        }
        Outcome::Dropped => Response::new(Body::empty()),
    }
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `GET /_mock/stats` and `GET /_mock/changes` (no token needed, any prefix).
    fn mock_endpoint(&self, method: &Method, path: &str) -> Option<Response> {
        if *method != Method::GET {
            return None;
        }
        match path {
            "/_mock/stats" => Some(json_response(StatusCode::OK, &self.stats.snapshot())),
            "/_mock/changes" => Some(json_response(StatusCode::OK, &self.store().changes())),
            _ => None,
        }
    }

    /// Runs the pipeline and adds the headers its stages collected to whatever answer it gave.
    async fn serve(&self, call: &ApiCall<'_>) -> Outcome {
        let mut headers = HeaderMap::new();
        let outcome = match self.pipeline(call, &mut headers).await {
            Ok(outcome) | Err(outcome) => outcome,
        };
        finish(outcome, headers)
    }

    /// The stages of one API request, in order. A stage that refuses ends the request with its
    /// own answer (`Err`); only the last two run once the request is accepted.
    async fn pipeline(
        &self,
        call: &ApiCall<'_>,
        headers: &mut HeaderMap,
    ) -> Result<Outcome, Outcome> {
        let caller = self.authenticate(call, headers)?;
        let _permit = self.admit(call, caller.as_ref(), headers)?;
        let fault_after = self.inject_fault_before(call).await?;
        check_scopes(call, caller.as_ref())?;
        let response = match self.delete_upstream_first(call, caller.as_ref()).await {
            Ok(()) => self.run_operation(call, caller.as_ref()),
            Err(refusal) => refusal,
        };
        Ok(self.inject_fault_after(fault_after, response, call).await)
    }

    /// Who is calling: `401` for an unknown token, and for no token where GitHub needs one.
    /// Records the token's and the operation's scopes in `headers`.
    fn authenticate(
        &self,
        call: &ApiCall<'_>,
        headers: &mut HeaderMap,
    ) -> Result<Option<Caller>, Outcome> {
        let caller =
            auth::authenticate(&call.parts.headers, &self.store()).map_err(|BadCredentials| {
                refused(
                    StatusCode::UNAUTHORIZED,
                    messages::BAD_CREDENTIALS,
                    REST_DOCS,
                )
            })?;
        let Some(caller) = caller else {
            if call.endpoint.allows_anonymous() {
                return Ok(None);
            }
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                messages::REQUIRES_AUTHENTICATION,
                call.endpoint.docs_url(),
            ));
        };
        // GitHub describes the scopes of classic tokens only.
        if !caller.installation {
            headers.insert("x-oauth-scopes", header_value(&caller.scopes_header()));
            headers.insert(
                "x-accepted-oauth-scopes",
                header_value(&call.endpoint.accepted_scopes_header()),
            );
        }
        Ok(Some(caller))
    }

    /// GitHub's rate limits: the primary hourly budget and the secondary limits. Records the
    /// budget in `headers`; the permit holds a concurrency slot until the request ends.
    fn admit(
        &self,
        call: &ApiCall<'_>,
        caller: Option<&Caller>,
        headers: &mut HeaderMap,
    ) -> Result<Option<Permit>, Outcome> {
        if !self.limiter.enabled() {
            return Ok(None);
        }
        let identity = identity(call, caller);
        let points = match call.endpoint.cost() {
            Cost::Points(points) => points,
            Cost::Free => {
                write_quota(headers, self.limiter.peek(&identity, self.clock.now()));
                return Ok(None);
            }
        };
        match self.limiter.admit(identity, points, self.clock.now()) {
            Ok((permit, quota)) => {
                write_quota(headers, quota);
                Ok(Some(permit))
            }
            Err(Rejection::Primary { quota, message }) => {
                self.stats
                    .update(|stats| stats.rate_limit_rejections.primary += 1);
                write_quota(headers, quota);
                Err(refused(StatusCode::FORBIDDEN, &message, PRIMARY_LIMIT_DOCS))
            }
            Err(Rejection::Secondary { quota, retry_after }) => {
                self.stats
                    .update(|stats| stats.rate_limit_rejections.secondary += 1);
                write_quota(headers, quota);
                let retry_after = Some(Duration::from_secs(retry_after));
                Err(rate_limited(StatusCode::FORBIDDEN, retry_after))
            }
        }
    }

    /// Latency, and the faults that act before the operation runs (so nothing is changed):
    /// server errors, dropped connections, injected secondary limits and `429`s refuse the
    /// request; `slow` delays it. Returns the fault, if any, that acts after the operation.
    async fn inject_fault_before(&self, call: &ApiCall<'_>) -> Result<Option<Fault>, Outcome> {
        let (fault, mut delay) = self.draw_fault_and_delay();
        let acting = fault.filter(|fault| fault.kind.stage == Stage::BeforeOperation);
        if let Some(Fault {
            effect: Effect::Slow(extra),
            ..
        }) = acting
        {
            delay += extra;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let Some(acting) = acting else {
            return Ok(fault);
        };
        self.stats
            .update(|stats| acting.kind.record_in(&mut stats.faults));
        match acting.effect {
            Effect::Error(status) => {
                let message = status.canonical_reason().unwrap_or("Server Error");
                Err(refused(status, message, REST_DOCS))
            }
            Effect::Drop => {
                call.connection.abort();
                Err(Outcome::Dropped)
            }
            Effect::SecondaryLimit { retry_after } => {
                Err(rate_limited(StatusCode::FORBIDDEN, retry_after))
            }
            Effect::TooManyRequests { retry_after } => {
                Err(rate_limited(StatusCode::TOO_MANY_REQUESTS, retry_after))
            }
            Effect::Slow(_) | Effect::Truncate | Effect::Lost => Ok(None),
        }
    }

    /// In upstream mode, a delete of one of the upstream's versions deletes its manifest in the
    /// registry first; when the registry refuses, the answer is a `502` and nothing changes. A
    /// delete that GitHub's rules refuse is left to the operation, which answers its refusal.
    async fn delete_upstream_first(
        &self,
        call: &ApiCall<'_>,
        caller: Option<&Caller>,
    ) -> Result<(), Response> {
        let (Some(upstream), Endpoint::Packages(route)) = (&self.upstream, call.endpoint) else {
            return Ok(());
        };
        if route.action != Action::DeleteVersion {
            return Ok(());
        }
        let target = {
            let query = QueryParams::parse(call.parts.uri.query());
            let url = format!("{}{}", call.urls.web, call.parts.uri.path());
            let request = ApiRequest {
                route,
                caller,
                query: &query,
                raw_query: call.parts.uri.query(),
                url: &url,
                urls: &call.urls,
                now: self.clock.now().trunc_subsecs(0),
            };
            let store = self.store();
            handlers::version_to_delete(&store, &request)
                .ok()
                .and_then(|(package, version)| {
                    let package = &store.packages[package];
                    let repository = upstream.repository_of(&package.owner, &package.name)?;
                    Some((
                        repository.to_owned(),
                        package.versions[version].name().into_owned(),
                    ))
                })
        };
        let Some((repository, digest)) = target else {
            return Ok(());
        };
        upstream
            .delete_manifest(&repository, &digest)
            .await
            .map_err(|error| {
                let message = format!(
                    "The version was not deleted: deleting its manifest in the upstream registry \
                     failed: {error}"
                );
                refusal(StatusCode::BAD_GATEWAY, &message, REST_DOCS)
            })
    }

    /// Runs the operation on the state and renders its answer.
    fn run_operation(&self, call: &ApiCall<'_>, caller: Option<&Caller>) -> Response {
        let now = self.clock.now().trunc_subsecs(0);
        let result = match call.endpoint {
            Endpoint::Packages(route) => {
                let query = QueryParams::parse(call.parts.uri.query());
                let url = format!("{}{}", call.urls.web, call.parts.uri.path());
                let request = ApiRequest {
                    route,
                    caller,
                    query: &query,
                    raw_query: call.parts.uri.query(),
                    url: &url,
                    urls: &call.urls,
                    now,
                };
                handlers::handle(&mut self.store(), &request)
            }
            Endpoint::Account(route) => {
                let request = AccountRequest {
                    route,
                    caller,
                    urls: &call.urls,
                    now,
                    core: self.limiter.peek(&identity(call, caller), self.clock.now()),
                    limits: self.limiter.limits(),
                };
                accounts::handle(&self.store(), &request)
            }
        };
        match result {
            Ok(Reply::NoContent) => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
            Ok(Reply::Json { body, link }) => {
                let mut response = bytes_response(StatusCode::OK, body);
                if let Some(link) = link {
                    response.headers_mut().insert(LINK, header_value(&link));
                }
                response
            }
            Err(error) => error_response(&error),
        }
    }

    /// The faults that act on the operation's answer, after any change was applied: `lost`
    /// closes the connection without it, `truncate` cuts it short.
    async fn inject_fault_after(
        &self,
        fault: Option<Fault>,
        response: Response,
        call: &ApiCall<'_>,
    ) -> Outcome {
        let Some(fault) = fault.filter(|fault| fault.kind.stage == Stage::AfterOperation) else {
            return Outcome::Answered(Box::new(response));
        };
        self.stats
            .update(|stats| fault.kind.record_in(&mut stats.faults));
        match fault.effect {
            Effect::Lost => {
                call.connection.abort();
                Outcome::Dropped
            }
            Effect::Truncate => {
                Outcome::Answered(Box::new(truncated(response, call.connection).await))
            }
            Effect::Error(_)
            | Effect::Drop
            | Effect::Slow(_)
            | Effect::SecondaryLimit { .. }
            | Effect::TooManyRequests { .. } => Outcome::Answered(Box::new(response)),
        }
    }

    /// One fault and one latency for a request, from the seeded generator.
    fn draw_fault_and_delay(&self) -> (Option<Fault>, Duration) {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let fault = self.faults.draw(&mut *rng);
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            let nanos = u64::try_from(self.jitter.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(rng.random_range(0..=nanos))
        };
        (fault, self.latency + jitter)
    }
}

/// Whose budget a request spends: its token's, or without one its IP address's.
fn identity(call: &ApiCall<'_>, caller: Option<&Caller>) -> Identity {
    match caller {
        Some(caller) => Identity::Token {
            token: caller.token.clone(),
            user_id: caller.user_id,
        },
        None => Identity::Anonymous {
            ip: call.connection.peer.ip().to_string(),
        },
    }
}

/// The classic scopes the operation needs: `403` naming the first one the token lacks. (The
/// account operations need none.)
fn check_scopes(call: &ApiCall<'_>, caller: Option<&Caller>) -> Result<(), Outcome> {
    let Endpoint::Packages(route) = call.endpoint else {
        return Ok(());
    };
    let action = route.action;
    let Some(caller) = caller else {
        return Ok(());
    };
    let Some(missing) = caller.missing_scope(action.required_scopes()) else {
        return Ok(());
    };
    if caller.installation {
        return Err(refused(
            StatusCode::NOT_FOUND,
            messages::PACKAGE_NOT_FOUND,
            route.operation.docs_url,
        ));
    }
    let message = format!(
        "You need at least {missing} scope to {}.",
        routes::purpose(action)
    );
    Err(refused(
        StatusCode::FORBIDDEN,
        &message,
        route.operation.docs_url,
    ))
}

/// Adds the headers the stages collected (scopes, rate-limit budget) to an answer.
fn finish(outcome: Outcome, headers: HeaderMap) -> Outcome {
    match outcome {
        Outcome::Answered(mut response) => {
            response.headers_mut().extend(headers);
            Outcome::Answered(response)
        }
        Outcome::Dropped => Outcome::Dropped,
    }
}

/// The headers GitHub puts on every API answer.
fn with_github_headers(mut response: Response, request_id: u64) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    headers.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static(ghpkg_api::GITHUB_API_VERSION),
    );
    headers.insert(
        "x-github-request-id",
        header_value(&format!("{request_id:08X}:MOCK")),
    );
    response
}

/// An error answer that ends the pipeline.
fn refused(status: StatusCode, message: &str, docs: &str) -> Outcome {
    Outcome::Answered(Box::new(refusal(status, message, docs)))
}

fn refusal(status: StatusCode, message: &str, docs: &str) -> Response {
    error_response(&ApiError::new(status, message, docs))
}

/// A secondary-rate-limit refusal (`403` or `429`), with `Retry-After` in whole seconds when
/// `retry_after` is given.
fn rate_limited(status: StatusCode, retry_after: Option<Duration>) -> Outcome {
    let mut response = refusal(status, messages::SECONDARY_RATE_LIMIT, SECONDARY_LIMIT_DOCS);
    if let Some(retry_after) = retry_after {
        let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    Outcome::Answered(Box::new(response))
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn write_quota(headers: &mut HeaderMap, quota: Quota) {
    let pairs: [(&'static str, String); 5] = [
        ("x-ratelimit-limit", quota.limit.to_string()),
        ("x-ratelimit-remaining", quota.remaining.to_string()),
        ("x-ratelimit-used", quota.used.to_string()),
        ("x-ratelimit-reset", quota.reset.to_string()),
        ("x-ratelimit-resource", "core".to_owned()),
    ];
    for (name, value) in pairs {
        headers.insert(HeaderName::from_static(name), header_value(&value));
    }
}

fn bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    bytes_response(status, serde_json::to_vec(value).unwrap_or_default())
}

fn error_response(error: &ApiError) -> Response {
    json_response(error.status, &error.body())
}

/// Cuts an answer short. A body: half of it is sent while `Content-Length` promises all of it,
/// then the connection breaks. No body (a `204`): the connection breaks inside the status line.
async fn truncated(response: Response, connection: &ConnectionHandle) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if bytes.is_empty() {
        connection.cut_after(CUT_BODILESS_ANSWER_AFTER);
        return Response::from_parts(parts, Body::empty());
    }
    let promised = bytes.len();
    let half = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(promised));
    // The pause lets hyper flush the head and the first half before the error closes the
    // connection; without it both may still sit in its write buffer.
    let break_off = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "body truncated by fault injection",
        ))
    };
    let chunks = futures::stream::once(async { Ok(half) }).chain(futures::stream::once(break_off));
    Response::from_parts(parts, Body::from_stream(chunks))
}
