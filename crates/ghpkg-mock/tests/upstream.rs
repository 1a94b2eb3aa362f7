//! Upstream mode against a stub registry on loopback: the scan turns the registry's manifests
//! (tagged or not, found through the storage layout) into versions, skips what is not a
//! manifest, and REST deletes reach the registry first.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use ghpkg_api::types::PackageType;
use ghpkg_mock::fixture::demo;
use ghpkg_mock::fixture::manifest::{OCI_INDEX, OCI_MANIFEST, sha256_digest};
use ghpkg_mock::{MockOptions, MockServer, Upstream, tokens};
use serde_json::json;

use common::{client, failure};

const REPOSITORY: &str = "platform/app";

/// A registry's repository as the stub holds it.
#[derive(Default)]
struct StubRepository {
    manifests: BTreeMap<String, (String, Vec<u8>)>,
    tags: BTreeMap<String, String>,
}

/// What the stub registry serves and what it was asked to delete.
#[derive(Default)]
struct StubState {
    repositories: BTreeMap<String, StubRepository>,
    /// Names in the catalog that have no repository (hostile ones).
    extra_catalog: Vec<String>,
    deleted: Vec<String>,
    refuse_deletes: bool,
}

/// A distribution-like registry: catalog, tag lists, manifests (`GET`, `HEAD`, `DELETE`), and
/// its storage directory with one revision link per manifest.
struct StubRegistry {
    state: Arc<Mutex<StubState>>,
    storage: tempfile::TempDir,
    addr: std::net::SocketAddr,
    pushes: u64,
}

impl StubRegistry {
    async fn start() -> StubRegistry {
        let state = Arc::new(Mutex::new(StubState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(serve_stub)
            .with_state(Arc::clone(&state));
        tokio::spawn(async move { axum::serve(listener, app).await });
        StubRegistry {
            state,
            storage: tempfile::tempdir().unwrap(),
            addr,
            pushes: 0,
        }
    }

    fn upstream(&self) -> Upstream {
        Upstream::at(self.addr, self.storage.path())
    }

    /// Pushes `bytes` (of `media_type`) to `repository` with `tags`, a minute after the last
    /// push by the revision link's time; returns its digest.
    fn push(&mut self, repository: &str, media_type: &str, bytes: &[u8], tags: &[&str]) -> String {
        let digest = sha256_digest(bytes);
        let mut state = self.state.lock().unwrap();
        let stored = state.repositories.entry(repository.to_owned()).or_default();
        stored
            .manifests
            .insert(digest.clone(), (media_type.to_owned(), bytes.to_vec()));
        for tag in tags {
            stored.tags.insert((*tag).to_owned(), digest.clone());
        }
        self.pushes += 1;
        write_link(
            self.storage.path(),
            repository,
            &digest,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 60 * self.pushes),
        );
        digest
    }

    fn deleted(&self) -> Vec<String> {
        self.state.lock().unwrap().deleted.clone()
    }
}

fn write_link(storage: &Path, repository: &str, digest: &str, at: SystemTime) {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let dir = storage
        .join("docker/registry/v2/repositories")
        .join(repository)
        .join("_manifests/revisions/sha256")
        .join(hex);
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("link");
    std::fs::write(&link, digest).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&link)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

async fn serve_stub(State(state): State<Arc<Mutex<StubState>>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let mut state = state.lock().unwrap();
    let answer = |status: StatusCode, body: Vec<u8>| {
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        response
    };
    if path == "/v2/_catalog" {
        let mut names: Vec<String> = state.repositories.keys().cloned().collect();
        names.extend(state.extra_catalog.iter().cloned());
        return answer(
            StatusCode::OK,
            json!({ "repositories": names }).to_string().into_bytes(),
        );
    }
    let rest = path.strip_prefix("/v2/").unwrap_or_default();
    if let Some(repository) = rest.strip_suffix("/tags/list") {
        let Some(stored) = state.repositories.get(repository) else {
            return answer(StatusCode::NOT_FOUND, Vec::new());
        };
        let tags: Vec<&String> = stored.tags.keys().collect();
        let body = json!({ "name": repository, "tags": tags });
        return answer(StatusCode::OK, body.to_string().into_bytes());
    }
    let Some((repository, reference)) = rest.split_once("/manifests/") else {
        return answer(StatusCode::NOT_FOUND, Vec::new());
    };
    let refuse_deletes = state.refuse_deletes;
    let Some(stored) = state.repositories.get_mut(repository) else {
        return answer(StatusCode::NOT_FOUND, Vec::new());
    };
    let digest = stored
        .tags
        .get(reference)
        .cloned()
        .unwrap_or_else(|| reference.to_owned());
    let Some((media_type, bytes)) = stored.manifests.get(&digest).cloned() else {
        return answer(StatusCode::NOT_FOUND, Vec::new());
    };
    if method == Method::DELETE {
        if refuse_deletes {
            return answer(StatusCode::METHOD_NOT_ALLOWED, Vec::new());
        }
        stored.manifests.remove(&digest);
        stored.tags.retain(|_, d| *d != digest);
        state.deleted.push(digest);
        return answer(StatusCode::ACCEPTED, Vec::new());
    }
    let mut response = answer(
        StatusCode::OK,
        if method == Method::HEAD {
            Vec::new()
        } else {
            bytes
        },
    );
    let headers = response.headers_mut();
    headers.insert("content-type", media_type.parse().unwrap());
    headers.insert("docker-content-digest", digest.parse().unwrap());
    response
}

fn image(platform: &str) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256_digest(platform.as_bytes()),
            "size": platform.len(),
        },
        "layers": [],
    }))
    .unwrap()
}

fn index(children: &[&[u8]]) -> Vec<u8> {
    let manifests: Vec<_> = children
        .iter()
        .map(|child| {
            json!({
                "mediaType": OCI_MANIFEST,
                "digest": sha256_digest(child),
                "size": child.len(),
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    }))
    .unwrap()
}

/// A registry with an old untagged image, a tagged index of two images, a non-manifest and a
/// hostile repository name.
struct World {
    registry: StubRegistry,
    old: String,
    index: String,
    amd64: String,
    garbage: String,
}

async fn world() -> World {
    let mut registry = StubRegistry::start().await;
    let old = registry.push(REPOSITORY, OCI_MANIFEST, &image("old"), &[]);
    let (amd64_bytes, arm64_bytes) = (image("amd64"), image("arm64"));
    let amd64 = registry.push(REPOSITORY, OCI_MANIFEST, &amd64_bytes, &[]);
    registry.push(REPOSITORY, OCI_MANIFEST, &arm64_bytes, &[]);
    let index = registry.push(
        REPOSITORY,
        OCI_INDEX,
        &index(&[&amd64_bytes, &arm64_bytes]),
        &["v1.0.0", "latest"],
    );
    let garbage = registry.push(REPOSITORY, OCI_MANIFEST, b"not json", &[]);
    registry
        .state
        .lock()
        .unwrap()
        .extra_catalog
        .push("../escape".to_owned());
    World {
        registry,
        old,
        index,
        amd64,
        garbage,
    }
}

async fn start(upstream: Upstream) -> std::io::Result<MockServer> {
    MockServer::start(MockOptions {
        fixture: demo::accounts(),
        upstream: Some(upstream),
        ..common::demo_options()
    })
    .await
}

#[tokio::test]
async fn every_manifest_becomes_a_version_with_its_tags_newest_first() {
    let world = world().await;
    let server = start(world.registry.upstream()).await.unwrap();
    let scan = server.upstream_scan().unwrap();
    assert_eq!(scan.repositories, [REPOSITORY]);
    assert_eq!(scan.manifests, 4);
    assert!(
        scan.skipped.iter().any(|s| s.contains(&world.garbage)),
        "{scan:?}"
    );
    assert!(
        scan.skipped.iter().any(|s| s.contains("escape")),
        "{scan:?}"
    );

    let state = server.state();
    let package = state
        .package(demo::ACME, PackageType::Container, REPOSITORY)
        .unwrap();
    let names: Vec<&str> = package.versions.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names.len(), 4);
    assert_eq!(names[0], world.index, "the newest push is listed first");
    assert_eq!(names[3], world.old);
    assert_eq!(package.versions[0].tags, ["latest", "v1.0.0"]);
    assert!(package.versions[1..].iter().all(|v| v.tags.is_empty()));
    assert!(package.versions[0].created_at > package.versions[3].created_at);

    // The emulator's own registry serves the upstream's bytes under the owner.
    let url = format!(
        "{}/v2/acme/{REPOSITORY}/manifests/{}",
        server.base_url(),
        world.amd64
    );
    let token = registry_token(&server).await;
    let served = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap(), image("amd64"));
}

/// A pull token of the emulator's registry for octocat.
async fn registry_token(server: &MockServer) -> String {
    let url = format!(
        "{}/token?service=ghcr.io&scope=repository:acme/{REPOSITORY}:pull",
        server.base_url()
    );
    let answer: serde_json::Value = reqwest::Client::new()
        .get(url)
        .basic_auth(demo::OCTOCAT, Some(tokens::OCTOCAT_ALL))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

fn version_id(server: &MockServer, digest: &str) -> i64 {
    let state = server.state();
    let package = state
        .package(demo::ACME, PackageType::Container, REPOSITORY)
        .unwrap();
    package
        .versions
        .iter()
        .find(|v| v.name == digest)
        .unwrap()
        .id
}

#[tokio::test]
async fn a_rest_delete_deletes_the_manifest_upstream_first() {
    let world = world().await;
    let server = start(world.registry.upstream()).await.unwrap();
    let id = version_id(&server, &world.old);
    let deleted = client(&server, tokens::OCTOCAT_ALL)
        .packages_delete_package_version_for_org()
        .org(demo::ACME)
        .package_type(PackageType::Container)
        .package_name(REPOSITORY)
        .package_version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(world.registry.deleted(), std::slice::from_ref(&world.old));
    assert!(server.state().version(id).unwrap().1.is_deleted());
}

#[tokio::test]
async fn a_delete_github_refuses_is_not_sent_upstream() {
    let world = world().await;
    let server = start(world.registry.upstream()).await.unwrap();
    let id = version_id(&server, &world.index);
    let delete = client(&server, tokens::HUBOT_ALL)
        .packages_delete_package_version_for_org()
        .org(demo::ACME)
        .package_type(PackageType::Container)
        .package_name(REPOSITORY)
        .package_version_id(id)
        .send()
        .await;
    assert_eq!(failure(delete).await.0, 403, "hubot is no admin of acme");
    assert!(world.registry.deleted().is_empty());
}

#[tokio::test]
async fn when_the_registry_refuses_the_delete_fails_with_502_and_the_version_stays() {
    let world = world().await;
    world.registry.state.lock().unwrap().refuse_deletes = true;
    let server = start(world.registry.upstream()).await.unwrap();
    let id = version_id(&server, &world.old);
    let delete = client(&server, tokens::OCTOCAT_ALL)
        .packages_delete_package_version_for_org()
        .org(demo::ACME)
        .package_type(PackageType::Container)
        .package_name(REPOSITORY)
        .package_version_id(id)
        .send()
        .await;
    let (status, message) = failure(delete).await;
    assert_eq!(status, 502);
    assert!(message.contains("storage.delete.enabled"), "{message}");
    assert!(!server.state().version(id).unwrap().1.is_deleted());
    assert!(server.changes().is_empty());
}

#[tokio::test]
async fn an_owner_outside_the_fixture_and_an_unreachable_registry_are_reported() {
    let world = world().await;
    let error = start(world.registry.upstream().with_owner("nobody"))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("\"nobody\""), "{error}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let error = start(Upstream::at(closed, world.registry.storage.path()))
        .await
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("check that it is running"),
        "{error}"
    );

    let error = start(Upstream::at(world.registry.addr, "/nonexistent/storage"))
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("rootdirectory"), "{error}");
}
