//! The running emulator: binds a loopback port, and takes every request through the same
//! pipeline — match the operation, authenticate, rate limits, latency and faults, scopes, then
//! the operation itself — adding GitHub's headers on the way out.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, LINK, RETRY_AFTER};
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

use crate::auth::{self, BadCredentials, Caller};
use crate::clock::MockClock;
use crate::connection::{AbortableListener, ConnectionHandle};
use crate::error::{ApiError, messages};
use crate::faults::{Fault, Faults};
use crate::fixture::Fixture;
use crate::handlers::{self, ApiRequest, Reply};
use crate::rate_limit::{Identity, Quota, RateLimiter, RateLimits, Rejection};
use crate::routes::{self, QueryParams, Route};
use crate::state::{StateSnapshot, Store};
use crate::stats::{Recorder, Stats, UNMATCHED_OPERATION};
use crate::wire::Urls;

/// The documentation GitHub links from errors that are not about one operation.
const REST_DOCS: &str = "https://docs.github.com/rest";
const PRIMARY_LIMIT_DOCS: &str = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-primary-rate-limits";
const SECONDARY_LIMIT_DOCS: &str = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// How the emulator behaves. `MockOptions::default()` serves the demo fixture on an ephemeral
/// loopback port, with no latency, no faults, no rate limits and the real clock.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// The world to start with.
    pub fixture: Fixture,
    /// Where to listen; `127.0.0.1:0` (an ephemeral port) when `None`.
    pub addr: Option<SocketAddr>,
    /// Added to every API answer.
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
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            fixture: Fixture::demo(),
            addr: None,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            faults: Faults::none(),
            rate_limits: RateLimits::off(),
            clock: MockClock::system(),
            seed: 0,
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
}

impl MockServer {
    /// Loads the fixture and starts serving. Fails with `InvalidInput` for an inconsistent
    /// fixture or fault specification, or with the bind error.
    pub async fn start(options: MockOptions) -> io::Result<MockServer> {
        let invalid = |error: String| io::Error::new(io::ErrorKind::InvalidInput, error);
        options
            .faults
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
        let store = Store::from_fixture(&options.fixture, options.clock.now())
            .map_err(|e| invalid(e.to_string()))?;
        let listener = TcpListener::bind(
            options
                .addr
                .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        )
        .await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            addr,
            store: Mutex::new(store),
            clock: options.clock,
            limiter: Arc::new(RateLimiter::new(options.rate_limits)),
            faults: options.faults,
            latency: options.latency,
            jitter: options.jitter,
            rng: Mutex::new(StdRng::seed_from_u64(options.seed)),
            stats: Recorder::default(),
            request_ids: AtomicU64::new(1),
        });
        let app = Router::new()
            .fallback(dispatch)
            .with_state(Arc::clone(&shared));
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(
                AbortableListener(listener),
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
        })
    }

    /// The github.com-style API root: `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
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
    addr: SocketAddr,
    store: Mutex<Store>,
    clock: MockClock,
    limiter: Arc<RateLimiter>,
    faults: Faults,
    latency: Duration,
    jitter: Duration,
    rng: Mutex<StdRng>,
    stats: Recorder,
    request_ids: AtomicU64,
}

/// How a request ended.
enum Outcome {
    Answered(Response),
    /// The connection was cut; nothing is sent.
    Dropped,
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<ConnectionHandle>,
    request: Request,
) -> Response {
    let (parts, _body) = request.into_parts();
    let (prefix, path) = routes::split_prefix(parts.uri.path());
    if path == "/_mock/stats" && parts.method == Method::GET {
        return json_response(StatusCode::OK, &shared.stats.snapshot());
    }
    shared.stats.update(|stats| stats.total_requests += 1);
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| shared.addr.to_string(), str::to_owned);
    let urls = Urls::new(&host, prefix);
    let request_id = shared.request_ids.fetch_add(1, Ordering::Relaxed);
    let mut response = match routes::resolve(&parts.method, path) {
        None => {
            shared.stats.record_answer(UNMATCHED_OPERATION, 404);
            error_response(&ApiError::new(
                StatusCode::NOT_FOUND,
                messages::NOT_FOUND,
                REST_DOCS,
            ))
        }
        Some(route) => match shared.serve(&route, &parts, &connection, &urls).await {
            Outcome::Answered(response) => {
                shared
                    .stats
                    .record_answer(route.operation().id, response.status().as_u16());
                response
            }
            Outcome::Dropped => return Response::new(Body::empty()),
        },
    };
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

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pipeline for one API request.
    async fn serve(
        &self,
        route: &Route,
        parts: &Parts,
        connection: &ConnectionHandle,
        urls: &Urls,
    ) -> Outcome {
        let operation = route.operation();
        let docs = operation.documentation_url();
        let answer = |status: StatusCode, message: &str, docs: &str, headers: &HeaderMap| {
            let mut response = error_response(&ApiError::new(status, message, docs));
            response.headers_mut().extend(headers.clone());
            Outcome::Answered(response)
        };
        let mut headers = HeaderMap::new();

        let caller = auth::authenticate(&parts.headers, &self.store());
        let caller = match caller {
            Ok(caller) => caller,
            Err(BadCredentials) => {
                return answer(
                    StatusCode::UNAUTHORIZED,
                    messages::BAD_CREDENTIALS,
                    REST_DOCS,
                    &headers,
                );
            }
        };
        if caller.is_none() && !route.allows_anonymous() {
            return answer(
                StatusCode::UNAUTHORIZED,
                messages::REQUIRES_AUTHENTICATION,
                &docs,
                &headers,
            );
        }
        if let Some(caller) = &caller {
            headers.insert("x-oauth-scopes", header_value(&caller.scopes_header()));
            headers.insert(
                "x-accepted-oauth-scopes",
                header_value(&route.action.accepted_scopes_header()),
            );
        }

        let _permit = if self.limiter.enabled() {
            let identity = match &caller {
                Some(caller) => Identity::Token {
                    token: caller.token.clone(),
                    user_id: caller.user_id,
                },
                None => Identity::Anonymous {
                    ip: connection.peer.ip().to_string(),
                },
            };
            let points = if route.action.is_mutation() { 5 } else { 1 };
            match self.limiter.admit(identity, points, self.clock.now()) {
                Ok((permit, quota)) => {
                    write_quota(&mut headers, quota);
                    Some(permit)
                }
                Err(Rejection::Primary { quota, message }) => {
                    self.stats
                        .update(|stats| stats.rate_limit_rejections.primary += 1);
                    write_quota(&mut headers, quota);
                    return answer(
                        StatusCode::FORBIDDEN,
                        &message,
                        PRIMARY_LIMIT_DOCS,
                        &headers,
                    );
                }
                Err(Rejection::Secondary { quota, retry_after }) => {
                    self.stats
                        .update(|stats| stats.rate_limit_rejections.secondary += 1);
                    write_quota(&mut headers, quota);
                    headers.insert(RETRY_AFTER, HeaderValue::from(retry_after));
                    return answer(
                        StatusCode::FORBIDDEN,
                        messages::SECONDARY_RATE_LIMIT,
                        SECONDARY_LIMIT_DOCS,
                        &headers,
                    );
                }
            }
        } else {
            None
        };

        let (fault, mut delay) = self.draw_fault_and_delay();
        if let Fault::Slow(extra) = fault {
            self.stats.update(|stats| stats.faults.slowdowns += 1);
            delay += extra;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match fault {
            Fault::Error(status) => {
                self.stats.update(|stats| stats.faults.errors += 1);
                let message = status.canonical_reason().unwrap_or("Server Error");
                return answer(status, message, REST_DOCS, &headers);
            }
            Fault::Drop => {
                self.stats.update(|stats| stats.faults.drops += 1);
                connection.abort();
                return Outcome::Dropped;
            }
            Fault::Truncate => self.stats.update(|stats| stats.faults.truncations += 1),
            Fault::None | Fault::Slow(_) => {}
        }

        if let Some(missing) = caller
            .as_ref()
            .and_then(|c| c.missing_scope(route.action.required_scopes()))
        {
            let message = format!(
                "You need at least {missing} scope to {}.",
                route.action.purpose()
            );
            return answer(StatusCode::FORBIDDEN, &message, &docs, &headers);
        }

        let truncate = fault == Fault::Truncate;
        if truncate && route.action.is_mutation() {
            // Never apply a change whose answer is faulted: cut a gateway error instead.
            let mut response = error_response(&ApiError::new(
                StatusCode::BAD_GATEWAY,
                "Bad Gateway",
                REST_DOCS,
            ));
            response.headers_mut().extend(headers);
            return Outcome::Answered(truncated(response).await);
        }

        let mut response = self.run_operation(route, parts, caller.as_ref(), urls);
        response.headers_mut().extend(headers);
        if truncate {
            response = truncated(response).await;
        }
        Outcome::Answered(response)
    }

    fn run_operation(
        &self,
        route: &Route,
        parts: &Parts,
        caller: Option<&Caller>,
        urls: &Urls,
    ) -> Response {
        let query = QueryParams::parse(parts.uri.query());
        let url = format!("{}{}", urls.web, parts.uri.path());
        let request = ApiRequest {
            route,
            caller,
            query: &query,
            raw_query: parts.uri.query(),
            url: &url,
            urls,
            now: self.clock.now().trunc_subsecs(0),
        };
        let result = handlers::handle(&mut self.store(), &request);
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

    /// One fault and one latency for a request, from the seeded generator.
    fn draw_fault_and_delay(&self) -> (Fault, Duration) {
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

/// Sends half the body while `Content-Length` promises all of it, then breaks the connection.
async fn truncated(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let promised = bytes.len().max(2);
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
