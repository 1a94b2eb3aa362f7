//! The registry's read side, as a client of `ghcr.io` sees it, on the emulator's own origin:
//! the bearer challenge (`GET /v2/`), the token exchange (`GET /token`), manifests by tag or
//! digest (`GET`/`HEAD /v2/OWNER/NAME/manifests/REFERENCE`), the OCI 1.1 referrers API and tag
//! lists. Repository names keep their literal `/` (`acme/web/app`), unlike the REST API's `%2F`.
//!
//! Manifests are the fixtures' (see `fixture::manifest`): a version deleted through the REST
//! API is gone from the registry, and back when restored. Every manifest `GET` counts as a
//! download of its version. Nothing here changes a package otherwise: the registry is read only.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::Body;
use axum::http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LINK, WWW_AUTHENTICATE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ghpkg_api::types::PackageVisibility;
use oci_spec::distribution::TagListBuilder;
use oci_spec::image::{Descriptor, DescriptorBuilder, Digest, ImageIndexBuilder, MediaType};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::auth::{self, Caller, READ_PACKAGES};
use crate::fixture::manifest::{Manifest, OCI_INDEX};
use crate::routes::QueryParams;
use crate::state::{Package as PackageRecord, Store};
use crate::stats::Recorder;

/// The `service` GHCR names in its challenge and expects at `/token`.
pub const SERVICE: &str = "ghcr.io";

/// A failure the registry answers instead of one manifest, for tests: `status` (400–599) for
/// every `GET` and `HEAD` of the manifest with `digest` (by digest or through a tag), `times`
/// times or always.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryFailure {
    /// The manifest's digest (`sha256:…`).
    pub digest: String,
    /// The HTTP status to answer, 400–599.
    pub status: u16,
    /// How many requests fail before the manifest is served again; `None`: all of them.
    pub times: Option<u32>,
}

impl RegistryFailure {
    /// Every request for `digest` answers `status`.
    pub fn always(digest: impl Into<String>, status: u16) -> Self {
        Self {
            digest: digest.into(),
            status,
            times: None,
        }
    }

    /// The next `times` requests for `digest` answer `status`, then it is served.
    pub fn times(digest: impl Into<String>, status: u16, times: u32) -> Self {
        Self {
            digest: digest.into(),
            status,
            times: Some(times),
        }
    }
}

/// Whether `path` (without the Enterprise prefix) is the registry's: `/token`, `/v2` and
/// everything under `/v2/`.
pub(crate) fn is_registry_path(path: &str) -> bool {
    path == "/token" || path == "/v2" || path.starts_with("/v2/")
}

/// What a registry request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request<'a> {
    /// `GET /v2/`: the API version check, answered with the challenge.
    Base,
    /// `GET /token`: the token exchange.
    Token,
    /// `GET`/`HEAD /v2/REPOSITORY/manifests/REFERENCE`.
    Manifest {
        repository: Repository<'a>,
        reference: &'a str,
    },
    /// `GET /v2/REPOSITORY/referrers/DIGEST`.
    Referrers {
        repository: Repository<'a>,
        digest: &'a str,
    },
    /// `GET /v2/REPOSITORY/tags/list`.
    Tags { repository: Repository<'a> },
}

/// `OWNER/NAME`, split at the first `/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Repository<'a> {
    full: &'a str,
    owner: &'a str,
    name: &'a str,
}

impl<'a> Repository<'a> {
    /// A repository name as the distribution spec allows it: lower-case path components of
    /// letters and digits joined by `.`, `_`, `__` or dashes, at least `OWNER/NAME`.
    fn parse(full: &'a str) -> Option<Self> {
        let (owner, name) = full.split_once('/')?;
        full.split('/')
            .all(valid_component)
            .then_some(Self { full, owner, name })
    }

    /// `repository:OWNER/NAME:pull`
    fn pull_scope(&self) -> String {
        format!("repository:{}:pull", self.full)
    }
}

pub(crate) fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(&bytes[0]) || !alnum(&bytes[bytes.len() - 1]) {
        return false;
    }
    let mut separator = String::new();
    for &b in bytes {
        if alnum(&b) {
            if !(separator.is_empty()
                || separator == "."
                || separator == "_"
                || separator == "__"
                || separator.bytes().all(|s| s == b'-'))
            {
                return false;
            }
            separator.clear();
        } else if matches!(b, b'.' | b'_' | b'-') {
            separator.push(b as char);
        } else {
            return false;
        }
    }
    true
}

/// Whether `text` is a `sha256:` digest.
fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Parses a registry path; `None` for a path under `/v2/` that names no endpoint.
fn parse(path: &str) -> Option<Request<'_>> {
    if path == "/token" {
        return Some(Request::Token);
    }
    let rest = path.strip_prefix("/v2")?;
    if rest.is_empty() || rest == "/" {
        return Some(Request::Base);
    }
    let rest = rest.strip_prefix('/')?;
    if let Some(repository) = rest.strip_suffix("/tags/list") {
        return Some(Request::Tags {
            repository: Repository::parse(repository)?,
        });
    }
    for (marker, referrers) in [("/manifests/", false), ("/referrers/", true)] {
        if let Some(at) = rest.rfind(marker) {
            let repository = Repository::parse(&rest[..at])?;
            let last = &rest[at + marker.len()..];
            if last.is_empty() || last.contains('/') {
                return None;
            }
            return Some(if referrers {
                Request::Referrers {
                    repository,
                    digest: last,
                }
            } else {
                Request::Manifest {
                    repository,
                    reference: last,
                }
            });
        }
    }
    None
}

/// The registry's own state: the tokens it issued and the failures it injects.
#[derive(Debug)]
pub(crate) struct Registry {
    /// `http://127.0.0.1:PORT`, the origin of the challenge's realm.
    origin: String,
    /// Whether the referrers API is served (`404` when not, as on registries without it).
    referrers_api: bool,
    /// Issued tokens and the repositories each may pull.
    grants: Mutex<HashMap<String, BTreeSet<String>>>,
    failures: Mutex<Vec<RegistryFailure>>,
    issued: AtomicU64,
    seed: u64,
}

/// An error answer in the distribution spec's shape, as GHCR sends it:
/// `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "code": code, "message": message }] });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The error code a registry sends with `status`.
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "UNAUTHORIZED",
        403 => "DENIED",
        404 => "MANIFEST_UNKNOWN",
        429 => "TOOMANYREQUESTS",
        _ => "UNKNOWN",
    }
}

fn header(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn json_response(content_type: &str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, header(content_type));
    response
}

/// How `/token` refuses.
enum Refusal {
    /// No usable credentials: `401`.
    Unauthorized,
    /// Credentials that may not pull this: `403`.
    Denied,
}

impl Registry {
    pub fn new(
        origin: String,
        referrers_api: bool,
        failures: Vec<RegistryFailure>,
        seed: u64,
    ) -> Self {
        Self {
            origin,
            referrers_api,
            grants: Mutex::new(HashMap::new()),
            failures: Mutex::new(failures),
            issued: AtomicU64::new(0),
            seed,
        }
    }

    fn grants(&self) -> MutexGuard<'_, HashMap<String, BTreeSet<String>>> {
        self.grants.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Bearer realm="http://127.0.0.1:PORT/token",service="ghcr.io"[,scope="…"]`
    fn challenge(&self, scope: Option<&str>) -> String {
        let mut challenge = format!(
            "Bearer realm=\"{}/token\",service=\"{SERVICE}\"",
            self.origin
        );
        if let Some(scope) = scope {
            challenge.push_str(&format!(",scope=\"{scope}\""));
        }
        challenge
    }

    /// `401` with the challenge, as GHCR answers a request without a usable token.
    fn unauthorized(&self, scope: Option<&str>, stats: &Recorder) -> Response {
        stats.update(|s| s.registry.challenges += 1);
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        );
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, header(&self.challenge(scope)));
        response
    }

    /// Answers one registry request. `store` is held for the whole request, so a manifest read
    /// and its download count are one step.
    pub fn serve(&self, parts: &Parts, store: &mut Store, stats: &Recorder) -> Response {
        stats.update(|s| s.registry.requests += 1);
        let mut response = self.answer(parts, store, stats);
        response.headers_mut().insert(
            "docker-distribution-api-version",
            HeaderValue::from_static("registry/2.0"),
        );
        response
    }

    fn answer(&self, parts: &Parts, store: &mut Store, stats: &Recorder) -> Response {
        let path = parts.uri.path();
        let Some(request) = parse(path) else {
            stats.update(|s| s.registry.not_found += 1);
            return error(
                StatusCode::NOT_FOUND,
                "NAME_INVALID",
                "invalid repository name or unknown endpoint",
            );
        };
        let head = parts.method == Method::HEAD;
        if parts.method != Method::GET && !(head && matches!(request, Request::Manifest { .. })) {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
                "The operation is unsupported: this registry is read only.",
            );
        }
        let query = QueryParams::parse(parts.uri.query());
        match request {
            Request::Token => self.token(&parts.headers, &query, store, stats),
            Request::Base => match self.bearer(&parts.headers) {
                Some(_) => json_response("application/json", b"{}".to_vec()),
                None => self.unauthorized(None, stats),
            },
            Request::Manifest {
                repository,
                reference,
            } => self
                .authorized(&parts.headers, repository, stats)
                .unwrap_or_else(|| self.manifest(head, repository, reference, store, stats)),
            Request::Referrers { repository, digest } => self
                .authorized(&parts.headers, repository, stats)
                .unwrap_or_else(|| self.referrers(repository, digest, &query, store, stats)),
            Request::Tags { repository } => self
                .authorized(&parts.headers, repository, stats)
                .unwrap_or_else(|| self.tags(repository, &query, store, stats)),
        }
    }

    /// The repositories the request's registry token may pull, if it carries one this registry
    /// issued.
    fn bearer(&self, headers: &HeaderMap) -> Option<BTreeSet<String>> {
        let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        self.grants().get(token.trim()).cloned()
    }

    /// `None` when the request may pull `repository`; else the challenge for its scope.
    fn authorized(
        &self,
        headers: &HeaderMap,
        repository: Repository<'_>,
        stats: &Recorder,
    ) -> Option<Response> {
        match self.bearer(headers) {
            Some(repositories) if repositories.contains(repository.full) => None,
            _ => Some(self.unauthorized(Some(&repository.pull_scope()), stats)),
        }
    }

    /// `GET /token?scope=repository:OWNER/NAME:pull&service=ghcr.io`, with HTTP Basic
    /// credentials whose password is a token (or none, for public packages).
    fn token(
        &self,
        headers: &HeaderMap,
        query: &QueryParams,
        store: &Store,
        stats: &Recorder,
    ) -> Response {
        match self.grant(headers, query, store) {
            Ok(repositories) => {
                let token = self.issue(repositories);
                stats.update(|s| s.registry.token_exchanges += 1);
                let body = json!({ "token": token, "access_token": token });
                json_response("application/json", body.to_string().into_bytes())
            }
            Err(refusal) => {
                stats.update(|s| s.registry.token_refusals += 1);
                match refusal {
                    Refusal::Unauthorized => {
                        let mut response = error(
                            StatusCode::UNAUTHORIZED,
                            "UNAUTHORIZED",
                            "authentication required",
                        );
                        response.headers_mut().insert(
                            WWW_AUTHENTICATE,
                            header(&format!(
                                "Basic realm=\"{}/token\",service=\"{SERVICE}\"",
                                self.origin
                            )),
                        );
                        response
                    }
                    Refusal::Denied => error(
                        StatusCode::FORBIDDEN,
                        "DENIED",
                        "requested access to the resource is denied",
                    ),
                }
            }
        }
    }

    /// The repositories a token request may have: every `repository:…:pull` scope asked for,
    /// all or nothing.
    fn grant(
        &self,
        headers: &HeaderMap,
        query: &QueryParams,
        store: &Store,
    ) -> Result<BTreeSet<String>, Refusal> {
        let caller = match headers.get(AUTHORIZATION) {
            None => None,
            Some(value) => Some(basic_caller(value, store).ok_or(Refusal::Unauthorized)?),
        };
        let mut repositories = BTreeSet::new();
        let scopes = query
            .get_all("scope")
            .flat_map(|scope| scope.split(' '))
            .filter(|scope| !scope.is_empty());
        for scope in scopes {
            let Some(rest) = scope.strip_prefix("repository:") else {
                continue;
            };
            let Some((full, actions)) = rest.rsplit_once(':') else {
                return Err(Refusal::Denied);
            };
            let wants_pull = actions.split(',').any(|a| a == "pull" || a == "*");
            let may_pull = Repository::parse(full)
                .and_then(|repository| store.registry_package(repository.owner, repository.name))
                .is_some_and(|index| may_pull(&store.packages[index], caller.as_ref(), store));
            if !(wants_pull && may_pull) {
                return Err(match caller {
                    None => Refusal::Unauthorized,
                    Some(_) => Refusal::Denied,
                });
            }
            repositories.insert(full.to_owned());
        }
        Ok(repositories)
    }

    /// A new opaque token for `repositories`: `djE6…` like GHCR's (base64 of `v1:…`), never a
    /// GitHub token.
    fn issue(&self, repositories: BTreeSet<String>) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let secret = Sha256::digest(format!(
            "ghpkg-mock registry {} {} {n}",
            self.origin, self.seed
        ));
        let text = format!("v1:{secret:x}");
        let token = BASE64.encode(&text.as_bytes()[..35]);
        self.grants().insert(token.clone(), repositories);
        token
    }

    /// The failure to answer instead of manifest `digest`, if one is armed (spending one of
    /// its `times`).
    fn take_failure(&self, digest: &str) -> Option<StatusCode> {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let failure = failures
            .iter_mut()
            .find(|f| f.digest == digest && f.times != Some(0))?;
        if let Some(times) = &mut failure.times {
            *times -= 1;
        }
        StatusCode::from_u16(failure.status).ok()
    }

    fn manifest(
        &self,
        head: bool,
        repository: Repository<'_>,
        reference: &str,
        store: &mut Store,
        stats: &Recorder,
    ) -> Response {
        let Some(index) = store.registry_package(repository.owner, repository.name) else {
            return name_unknown(stats);
        };
        let found = store.packages[index]
            .served_manifest(reference)
            .map(|(position, manifest)| (position, manifest.clone()));
        let digest = match &found {
            Some((_, manifest)) => Some(manifest.digest.to_string()),
            None => is_digest(reference).then(|| reference.to_owned()),
        };
        if let Some(status) = digest.and_then(|digest| self.take_failure(&digest)) {
            stats.update(|s| s.registry.failures_injected += 1);
            let message = status.canonical_reason().unwrap_or("injected failure");
            return error(status, code_for(status), message);
        }
        let Some((position, manifest)) = found else {
            stats.update(|s| s.registry.not_found += 1);
            return error(
                StatusCode::NOT_FOUND,
                "MANIFEST_UNKNOWN",
                "manifest unknown",
            );
        };
        if head {
            stats.update(|s| s.registry.manifest_heads += 1);
        } else {
            if let Some(position) = position {
                store.packages[index].versions[position].downloads += 1;
            }
            stats.update(|s| {
                s.registry.manifest_reads += 1;
                *s.registry
                    .manifest_reads_by_digest
                    .entry(manifest.digest.to_string())
                    .or_default() += 1;
            });
        }
        let length = manifest.bytes.len();
        let body = if head {
            Body::empty()
        } else {
            Body::from(manifest.bytes.clone())
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, header(&manifest.media_type));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        let digest = manifest.digest.to_string();
        headers.insert(ETAG, header(&format!("\"{digest}\"")));
        headers.insert("docker-content-digest", header(&digest));
        response
    }

    fn referrers(
        &self,
        repository: Repository<'_>,
        digest: &str,
        query: &QueryParams,
        store: &Store,
        stats: &Recorder,
    ) -> Response {
        if !self.referrers_api {
            stats.update(|s| s.registry.not_found += 1);
            return error(
                StatusCode::NOT_FOUND,
                "UNSUPPORTED",
                "The referrers API is not supported by this registry.",
            );
        }
        if !is_digest(digest) {
            return error(
                StatusCode::BAD_REQUEST,
                "DIGEST_INVALID",
                "provided digest did not match uploaded content",
            );
        }
        let Some(index) = store.registry_package(repository.owner, repository.name) else {
            return name_unknown(stats);
        };
        let filter = query.get("artifactType").filter(|f| !f.is_empty());
        let descriptors: Vec<Descriptor> = store.packages[index]
            .served_manifests()
            .map(|(_, manifest, _)| manifest)
            .filter(|m| m.subject.as_deref() == Some(digest))
            .map(|m| m.to_manifest())
            .filter(|m| filter.is_none_or(|f| m.artifact_type.as_deref() == Some(f)))
            .filter_map(|m| descriptor(&m))
            .collect();
        stats.update(|s| s.registry.referrers_calls += 1);
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(descriptors)
            .build();
        let body = index
            .ok()
            .and_then(|index| serde_json::to_vec(&index).ok())
            .unwrap_or_default();
        let mut response = json_response(OCI_INDEX, body);
        if filter.is_some() {
            response.headers_mut().insert(
                "oci-filters-applied",
                HeaderValue::from_static("artifactType"),
            );
        }
        response
    }

    fn tags(
        &self,
        repository: Repository<'_>,
        query: &QueryParams,
        store: &Store,
        stats: &Recorder,
    ) -> Response {
        let Some(index) = store.registry_package(repository.owner, repository.name) else {
            return name_unknown(stats);
        };
        let all: BTreeSet<&str> = store.packages[index]
            .served_manifests()
            .flat_map(|(_, _, tags)| tags.iter().map(String::as_str))
            .collect();
        let after: Vec<&str> = match query.get("last") {
            Some(last) => all.into_iter().filter(|tag| *tag > last).collect(),
            None => all.into_iter().collect(),
        };
        let limit = query.get("n").and_then(|n| n.parse::<usize>().ok());
        let page: Vec<String> = after
            .iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(|tag| (*tag).to_owned())
            .collect();
        let next = match (limit, page.last()) {
            (Some(n), Some(last)) if after.len() > page.len() => Some(format!(
                "</v2/{}/tags/list?n={n}&last={last}>; rel=\"next\"",
                repository.full
            )),
            _ => None,
        };
        stats.update(|s| s.registry.tag_lists += 1);
        let list = TagListBuilder::default()
            .name(repository.full)
            .tags(page)
            .build();
        let body = list
            .ok()
            .and_then(|list| serde_json::to_vec(&list).ok())
            .unwrap_or_default();
        let mut response = json_response("application/json", body);
        if let Some(next) = next {
            response.headers_mut().insert(LINK, header(&next));
        }
        response
    }
}

fn name_unknown(stats: &Recorder) -> Response {
    stats.update(|s| s.registry.not_found += 1);
    error(
        StatusCode::NOT_FOUND,
        "NAME_UNKNOWN",
        "repository name not known to registry",
    )
}

/// A referrer as the referrers API lists it: media type, digest, size, `artifactType` and the
/// manifest's annotations.
fn descriptor(manifest: &Manifest) -> Option<Descriptor> {
    let mut builder = DescriptorBuilder::default()
        .media_type(MediaType::from(manifest.media_type.as_str()))
        .digest(Digest::from_str(&manifest.digest).ok()?)
        .size(manifest.bytes.len() as u64);
    if let Some(artifact_type) = &manifest.artifact_type {
        builder = builder.artifact_type(MediaType::from(artifact_type.as_str()));
    }
    if !manifest.annotations.is_empty() {
        builder = builder.annotations(
            manifest
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        );
    }
    builder.build().ok()
}

/// The caller behind `Authorization: Basic base64(user:password)`, whose password is a token
/// (GHCR ignores the user name).
fn basic_caller(value: &HeaderValue, store: &Store) -> Option<Caller> {
    let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    let (_, password) = decoded.split_once(':')?;
    auth::caller_for_token(password, store)
}

/// The REST API's rules: anyone may pull a public package; a private one needs `read:packages`
/// and the right to see it.
fn may_pull(package: &PackageRecord, caller: Option<&Caller>, store: &Store) -> bool {
    if package.visibility == PackageVisibility::Public {
        return true;
    }
    let Some(caller) = caller else {
        return false;
    };
    if caller.missing_scope(&[READ_PACKAGES]).is_some() {
        return false;
    }
    store
        .account(&package.owner)
        .is_some_and(|owner| auth::access(owner, Some(caller)).can_see(package.visibility))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_keep_their_slashes_and_split_at_the_owner() {
        let Some(Request::Manifest {
            repository,
            reference,
        }) = parse("/v2/acme/web/app/manifests/sha256:abc")
        else {
            panic!("a manifest path");
        };
        assert_eq!(
            (repository.full, repository.owner, repository.name),
            ("acme/web/app", "acme", "web/app")
        );
        assert_eq!(reference, "sha256:abc");
        assert_eq!(
            parse("/v2/acme/cases/flaky/api/referrers/sha256:x"),
            Some(Request::Referrers {
                repository: Repository::parse("acme/cases/flaky/api").unwrap(),
                digest: "sha256:x",
            })
        );
        assert_eq!(
            parse("/v2/acme/hello_docker/tags/list"),
            Some(Request::Tags {
                repository: Repository::parse("acme/hello_docker").unwrap()
            })
        );
        assert_eq!(parse("/v2/"), Some(Request::Base));
        assert_eq!(parse("/token"), Some(Request::Token));
    }

    #[test]
    fn invalid_repository_names_and_unknown_endpoints_parse_to_nothing() {
        for path in [
            "/v2/Acme/web/manifests/latest",
            "/v2/acme/web%2Fapp/manifests/latest",
            "/v2/acme/manifests/latest",
            "/v2/acme/web/manifests/",
            "/v2/acme//web/manifests/latest",
            "/v2/acme/web/blobs/sha256:abc",
            "/v2/acme/web-/manifests/latest",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
        assert!(valid_component("hello_docker"));
        assert!(valid_component("a__b.c--d"));
        assert!(!valid_component("a___b"));
    }

    #[test]
    fn digests_are_sha256_with_64_lower_case_hex_digits() {
        assert!(is_digest(&format!("sha256:{}", "0a".repeat(32))));
        assert!(!is_digest(&format!("sha256:{}", "0A".repeat(32))));
        assert!(!is_digest("sha256:abc"));
        assert!(!is_digest("latest"));
    }
}
