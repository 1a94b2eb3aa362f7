//! A listing that fails late resumes: a prune whose version listing fails at page 20 of 25
//! (GitHub answering 500, after the retries) leaves its pages in the cache, and the next run
//! lists from page 19 (the overlap) instead of page 1 — unless the package changed so that page
//! 19 no longer holds what it held, when it lists afresh. The emulator sits behind a proxy on
//! loopback that fails the page on demand and logs which pages were asked for.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::support::{Emulator, SYNTHETIC_ORG, SYNTHETIC_TOKEN, ghpkg, json_of, printed};

/// The versions listing the proxy watches.
const VERSIONS_PATH: &str = "/orgs/org-0/packages/npm/pkg-0/versions";
/// The page that fails while `failing` is set.
const FAILING_PAGE: u32 = 20;

#[derive(Default)]
struct ProxyLog {
    failing: bool,
    /// The page numbers of every versions listing request, in order.
    pages: Vec<u32>,
}

/// A proxy on loopback in front of `upstream`: every request is passed on (its `Link`
/// headers rewritten to the proxy), except the watched listing's page 20 while failing.
struct Proxy {
    url: String,
    log: Arc<Mutex<ProxyLog>>,
    _runtime: tokio::runtime::Runtime,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    own: String,
    log: Arc<Mutex<ProxyLog>>,
    http: reqwest::Client,
}

async fn pass_on(State(shared): State<Shared>, request: Request) -> Response {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    if request.uri().path() == VERSIONS_PATH {
        let page = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("page="))
            .and_then(|page| page.parse().ok())
            .unwrap_or(1);
        let mut log = shared.log.lock().unwrap();
        log.pages.push(page);
        if log.failing && page == FAILING_PAGE {
            return Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .header("content-type", "application/json")
                .body(Body::from(r#"{"message":"Server Error"}"#))
                .unwrap();
        }
    }
    let mut forwarded = shared.http.request(
        request.method().clone(),
        format!("{}{path_and_query}", shared.upstream),
    );
    for (name, value) in request.headers() {
        if name != "host" {
            forwarded = forwarded.header(name, value);
        }
    }
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let answer = forwarded.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name == "link" {
            let link = value
                .to_str()
                .unwrap()
                .replace(&shared.upstream, &shared.own);
            response = response.header(name, link);
        } else if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(ProxyLog::default()));
        let shared = Shared {
            upstream,
            own: url.clone(),
            log: log.clone(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new().fallback(pass_on).with_state(shared);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Proxy {
            url,
            log,
            _runtime: runtime,
        }
    }

    /// The pages asked for since the last call, and whether page 20 fails from now on.
    fn pages_then_fail(&self, failing: bool) -> Vec<u32> {
        let mut log = self.log.lock().unwrap();
        log.failing = failing;
        std::mem::take(&mut log.pages)
    }
}

/// `ghpkg --org org-0 prune npm pkg-0 --keep 10 --json` through `proxy`, with its cache in
/// `cache`.
fn prune(proxy: &Proxy, cache: &std::path::Path) -> std::process::Output {
    ghpkg(&[
        "--org",
        SYNTHETIC_ORG,
        "--api-url",
        &proxy.url,
        "prune",
        "npm",
        "pkg-0",
        "--keep",
        "10",
        "--json",
    ])
    .env("GH_TOKEN", SYNTHETIC_TOKEN)
    .env("GHPKG_CACHE_DIR", cache)
    .output()
    .unwrap()
}

fn listings(cache: &std::path::Path) -> usize {
    std::fs::read_dir(cache.join("listings")).map_or(0, |dir| dir.count())
}

#[test]
fn a_listing_that_failed_late_resumes_from_its_last_saved_page() {
    let emulator = Emulator::synthetic(2_500);
    let proxy = Proxy::start(emulator.url());
    let cache = tempfile::tempdir().unwrap();
    proxy.pages_then_fail(true);

    let output = prune(&proxy, cache.path());
    assert_eq!(output.status.code(), Some(7), "{}", printed(&output));
    let failed_run = proxy.pages_then_fail(false);
    assert!(
        failed_run
            .iter()
            .filter(|page| **page == FAILING_PAGE)
            .count()
            > 1,
        "page 20 was retried: {failed_run:?}"
    );
    assert_eq!(listings(cache.path()), 1, "the pages listed are saved");

    let output = prune(&proxy, cache.path());
    assert!(output.status.success(), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    assert_eq!(result["plan"]["summary"]["delete"], 2_490, "{result}");
    let resumed = proxy.pages_then_fail(false);
    assert_eq!(
        resumed.iter().min(),
        Some(&(FAILING_PAGE - 1)),
        "resumed at the last saved page, the overlap: {resumed:?}"
    );
    assert!(
        (FAILING_PAGE - 1..=25).all(|page| resumed.contains(&page)),
        "{resumed:?}"
    );
    assert_eq!(listings(cache.path()), 0, "a complete listing leaves none");

    // With nothing saved, the next run lists from page 1.
    let output = prune(&proxy, cache.path());
    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(proxy.pages_then_fail(false).iter().min(), Some(&1));
}

#[test]
fn a_resumed_listing_whose_overlap_changed_lists_the_package_afresh() {
    let emulator = Emulator::synthetic(2_500);
    let proxy = Proxy::start(emulator.url());
    let cache = tempfile::tempdir().unwrap();
    proxy.pages_then_fail(true);
    let output = prune(&proxy, cache.path());
    assert_eq!(output.status.code(), Some(7), "{}", printed(&output));
    proxy.pages_then_fail(false);

    // Someone deletes the newest version: every later page shifts by one.
    let listed = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "versions",
                "list",
                "npm",
                "pkg-0",
                "--json",
            ],
        )
        .output()
        .unwrap();
    let versions: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let newest = versions["versions"][0]["id"].as_u64().unwrap();
    let deleted = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "versions",
                "delete",
                "npm",
                "pkg-0",
                &newest.to_string(),
            ],
        )
        .output()
        .unwrap();
    assert!(deleted.status.success(), "{}", printed(&deleted));

    let output = prune(&proxy, cache.path());
    assert!(output.status.success(), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    assert_eq!(result["plan"]["summary"]["delete"], 2_489, "{result}");
    let planned: Vec<u64> = result["plan"]["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|deletion| deletion["id"].as_u64().unwrap())
        .collect();
    assert_eq!(planned.len(), 2_489);
    assert!(
        !planned.contains(&newest),
        "the version deleted since is not planned"
    );
    let pages = proxy.pages_then_fail(false);
    assert!(
        pages.contains(&1),
        "the changed overlap made it list afresh: {pages:?}"
    );
}
