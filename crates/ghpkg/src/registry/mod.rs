//! Reading container manifests from the registry (never writing or deleting: GHCR deletes only
//! through the REST API), so that the retention engine can see each package's image graph.
//!
//! - **Where**: `ghcr.io` for github.com, `containers.HOST` for Enterprise Server, the API's own
//!   origin for anything else (`ghpkg-mock` serves the registry beside the API), or
//!   [`RegistryOptions::url`]. Plain `http://` only on loopback, as for the API.
//! - **Auth as GHCR does it**: `GET /v2/` answers a `WWW-Authenticate` challenge; the token
//!   service named there (`GET /token?scope=repository:OWNER/NAME:pull`) gets the GitHub token as
//!   Basic credentials and answers a bearer token for that repository. The GitHub token goes
//!   only to a token service on the registry's own origin, and the bearer token only to the
//!   registry; redirects are followed only for reads on the same origin.
//! - **Paths**: package names keep their literal `/` (`/v2/acme/web/app/manifests/sha256:…`),
//!   unlike the REST API's `%2F`; the owner is lower-cased as GHCR does.
//! - **Downloads are spared**: every manifest read counts as a download on GitHub (and public
//!   versions with more than 5,000 downloads can no longer be deleted), so manifests are read by
//!   digest, at most once ever with a [cache directory](RegistryOptions::cache_dir) (a manifest
//!   by digest never changes, and what the cache holds is checked against its digest).
//! - **What is read**: every version's manifest, and every index entry that is not a version,
//!   when the rules could delete anything ([`PackageHandle::facts_for_plan`]); a parent's
//!   descriptor never stands in for a child's own manifest, since only the child says whether
//!   it is an index with entries of its own, and only reading every version finds every
//!   `subject`. So the OCI referrers API is not needed for planning (`verify` asks it).
//! - **Hostile answers**: bodies are bounded, a manifest whose bytes do not hash to the digest
//!   asked for is refused, and every failure of one manifest becomes an unreadable manifest in
//!   the graph — the engine then deletes nothing it cannot prove unused.
//!
//! [`PackageHandle::facts_for_plan`]: crate::PackageHandle::facts_for_plan

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ghpkg_api::{NotDelivered, Token, Transport as _};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::sync::OnceCell;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::pacing::{Pacer, Pacing};

mod auth;
mod cache;
pub(crate) mod graph;
mod verify;

pub use cache::ManifestCache;
pub use verify::{BrokenTag, VerifyReport};

/// The manifest media types ghpkg asks for.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// How to reach the registry.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// The registry's origin (`https://ghcr.io`); derived from the client's host when `None`.
    pub url: Option<String>,
    /// Where manifests are cached by digest; no disk cache when `None`.
    pub cache_dir: Option<PathBuf>,
    /// The user name sent with the token to the token service (GHCR checks only the token);
    /// `ghpkg` when `None`.
    pub username: Option<String>,
}

/// What kind of problem kept the registry from being read at all (rather than one manifest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegistryProblemKind {
    /// It could not be reached (after the pacing's retries).
    Unreachable,
    /// Its TLS certificate is not trusted.
    Untrusted,
    /// It refused the token (`401` after a fresh token, or `403`).
    Refused,
}

/// Why the registry could not be read, as the reader last saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryProblem {
    /// What kind of problem.
    pub kind: RegistryProblemKind,
    /// What happened, in one sentence.
    pub message: String,
}

/// A registry reader for one run: its token exchanges, its probe of the referrers API and its
/// counters live as long as it does.
pub struct Registry {
    origin: url::Url,
    http: reqwest::Client,
    pacer: Arc<Pacer>,
    token: Option<Token>,
    username: String,
    user_agent: HeaderValue,
    /// `GET /v2/`'s challenge, asked once: `None` when the registry needs no token.
    challenge: OnceCell<std::result::Result<Option<auth::Challenge>, String>>,
    /// Bearer tokens by repository.
    bearers: Mutex<HashMap<String, String>>,
    /// Whether the registry answers the OCI referrers API, probed once.
    referrers_api: OnceCell<bool>,
    cache: Option<ManifestCache>,
    /// How many requests met a [`RegistryProblem`], and the last one.
    problems: Mutex<(u64, Option<RegistryProblem>)>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("origin", &self.origin.as_str())
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// One manifest as the registry served it.
#[derive(Clone, Debug)]
pub(crate) struct Fetched {
    pub bytes: Bytes,
    pub media_type: String,
    /// Whether it came from the disk cache rather than the registry.
    pub from_cache: bool,
}

impl Registry {
    /// A reader for the registry of `client`'s host (or `options.url`), authenticating with
    /// `client`'s token.
    pub fn new(client: &Client, options: RegistryOptions) -> Result<Registry> {
        let url = match &options.url {
            Some(url) => url.clone(),
            None => default_registry_url(client),
        };
        let origin = checked_origin(&url)?;
        let pacing = Pacing {
            // GHCR's limits are its own; the client's GitHub budget does not apply.
            points_per_minute: u32::MAX,
            max_body_bytes: 8 * 1024 * 1024,
            ..client.pacing().clone()
        };
        let http =
            ghpkg_api::http_client(client.http_settings()).map_err(|cause| Error::Transport {
                operation: None,
                outcome_unknown: false,
                cause,
            })?;
        let context = client.api().context();
        let cache = options.cache_dir.map(ManifestCache::new);
        Ok(Registry {
            origin,
            http,
            pacer: Pacer::new(pacing),
            token: context.token().cloned(),
            username: options.username.unwrap_or_else(|| "ghpkg".into()),
            user_agent: HeaderValue::from_str(context.user_agent())
                .unwrap_or_else(|_| HeaderValue::from_static(ghpkg_api::DEFAULT_USER_AGENT)),
            challenge: OnceCell::new(),
            bearers: Mutex::new(HashMap::new()),
            referrers_api: OnceCell::new(),
            cache,
            problems: Mutex::new((0, None)),
        })
    }

    /// How many requests so far met a problem that keeps the registry from being read at all
    /// (see [`Registry::last_problem`]); compare two counts to know whether reads in between
    /// met one.
    pub fn problems_seen(&self) -> u64 {
        self.problems.lock().map(|problems| problems.0).unwrap_or(0)
    }

    /// The last problem that kept the registry from being read at all: unreachable, an
    /// untrusted certificate, or the token refused.
    pub fn last_problem(&self) -> Option<RegistryProblem> {
        self.problems
            .lock()
            .ok()
            .and_then(|problems| problems.1.clone())
    }

    /// Records `message` as a problem of `kind`, and returns it.
    fn problem(&self, kind: RegistryProblemKind, message: String) -> String {
        if let Ok(mut problems) = self.problems.lock() {
            problems.0 += 1;
            problems.1 = Some(RegistryProblem {
                kind,
                message: message.clone(),
            });
        }
        message
    }

    /// The registry's origin.
    pub fn origin(&self) -> &str {
        self.origin.as_str().trim_end_matches('/')
    }

    /// The disk cache, if any.
    pub fn cache(&self) -> Option<&ManifestCache> {
        self.cache.as_ref()
    }

    /// Sends one request through the registry's pacer (retries, bounded body, no redirects
    /// across origins), with ghpkg's `User-Agent`.
    async fn send(&self, mut request: reqwest::Request) -> std::result::Result<Answer, String> {
        request
            .headers_mut()
            .insert(USER_AGENT, self.user_agent.clone());
        let response = self
            .pacer
            .execute(&self.http, request, "registry")
            .await
            .map_err(|error| match crate::classify::certificate_problem(&error) {
                Some(problem) => self.problem(
                    RegistryProblemKind::Untrusted,
                    format!("the registry's TLS certificate is not trusted: {problem} ({error})"),
                ),
                None => self.problem(
                    RegistryProblemKind::Unreachable,
                    format!("could not reach the registry: {error}"),
                ),
            })?;
        if let Some(undelivered) = NotDelivered::of(&response) {
            return Err(undelivered.error().to_string());
        }
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(';').next().unwrap_or(value).trim().to_string());
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let docker_digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = response
            .bytes()
            .await
            .map_err(|error| format!("the registry's answer broke off: {error}"))?;
        Ok(Answer {
            status,
            content_type,
            challenge,
            docker_digest,
            body,
        })
    }

    /// A request to `path` on the registry's origin, with the bearer token for `repository`.
    async fn authorized(
        &self,
        method: Method,
        repository: &str,
        path: &str,
        accept: &str,
    ) -> std::result::Result<Answer, String> {
        let url = self
            .origin
            .join(path)
            .map_err(|error| format!("invalid registry path {path:?}: {error}"))?;
        for attempt in 0..2 {
            let bearer = self.bearer(repository, attempt > 0).await?;
            let mut request = reqwest::Request::new(method.clone(), url.clone());
            let headers = request.headers_mut();
            headers.insert(
                ACCEPT,
                HeaderValue::from_str(accept).map_err(|_| "invalid Accept".to_string())?,
            );
            if let Some(bearer) = &bearer {
                let mut value = HeaderValue::from_str(&format!("Bearer {bearer}"))
                    .map_err(|_| "the registry's token cannot be sent".to_string())?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            let answer = self.send(request).await?;
            if answer.status == StatusCode::UNAUTHORIZED && attempt == 0 {
                // The bearer token expired: exchange it again, once.
                continue;
            }
            return Ok(answer);
        }
        Err(self.problem(
            RegistryProblemKind::Refused,
            "the registry refused the token twice".into(),
        ))
    }

    /// Reads the manifest `digest` of `repository`: from the cache when it holds it (checked
    /// against the digest), else from the registry (checked, then cached).
    pub(crate) async fn manifest(
        &self,
        repository: &str,
        digest: &str,
    ) -> std::result::Result<Fetched, String> {
        let hex = digest_hex(digest)?;
        if let Some(cache) = &self.cache
            && let Some((bytes, media_type)) = cache.get(hex)
        {
            return Ok(Fetched {
                bytes,
                media_type,
                from_cache: true,
            });
        }
        let answer = self
            .authorized(
                Method::GET,
                repository,
                &format!("/v2/{repository}/manifests/{digest}"),
                &MANIFEST_MEDIA_TYPES.join(", "),
            )
            .await?;
        if answer.status == StatusCode::FORBIDDEN {
            return Err(self.problem(
                RegistryProblemKind::Refused,
                answer.failure("reading the manifest"),
            ));
        }
        if answer.status != StatusCode::OK {
            return Err(answer.failure("reading the manifest"));
        }
        if sha256_hex(&answer.body) != hex {
            return Err(format!(
                "the registry answered {digest} with content of another digest; refusing it"
            ));
        }
        let media_type = answer
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        if let Some(cache) = &self.cache {
            cache.put(hex, &answer.body, &media_type);
        }
        Ok(Fetched {
            bytes: answer.body,
            media_type,
            from_cache: false,
        })
    }

    /// Whether `reference` (a tag or digest) of `repository` resolves, and to which digest and
    /// media type: a `HEAD`, which GitHub does not count as a download.
    pub(crate) async fn resolve(
        &self,
        repository: &str,
        reference: &str,
    ) -> std::result::Result<Option<Resolved>, String> {
        let answer = self
            .authorized(
                Method::HEAD,
                repository,
                &format!("/v2/{repository}/manifests/{reference}"),
                &MANIFEST_MEDIA_TYPES.join(", "),
            )
            .await?;
        match answer.status {
            StatusCode::OK => Ok(Some(Resolved {
                digest: answer
                    .docker_digest
                    .clone()
                    .unwrap_or_else(|| reference.to_string()),
                media_type: answer.content_type.clone(),
            })),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(answer.failure("resolving")),
        }
    }

    /// The digests the OCI referrers API lists for `digest`, or `None` when the registry does
    /// not answer that API (probed on the first call of the run).
    pub(crate) async fn referrers(
        &self,
        repository: &str,
        digest: &str,
    ) -> std::result::Result<Option<Vec<String>>, String> {
        if self.referrers_api.get() == Some(&false) {
            return Ok(None);
        }
        digest_hex(digest)?;
        let answer = self
            .authorized(
                Method::GET,
                repository,
                &format!("/v2/{repository}/referrers/{digest}"),
                "application/vnd.oci.image.index.v1+json",
            )
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            // A registry that answers the API never says 404 (OCI distribution spec).
            let _ = self.referrers_api.set(false);
            return Ok(None);
        }
        if answer.status != StatusCode::OK {
            return Err(answer.failure("listing referrers"));
        }
        let _ = self.referrers_api.set(true);
        let index: oci_spec::image::ImageIndex = serde_json::from_slice(&answer.body)
            .map_err(|error| format!("the referrers answer is not an OCI index: {error}"))?;
        Ok(Some(
            index
                .manifests()
                .iter()
                .map(|descriptor| descriptor.digest().to_string())
                .collect(),
        ))
    }
}

/// What a `HEAD` of a manifest said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// `Docker-Content-Digest`.
    pub digest: String,
    /// `Content-Type`, when sent.
    pub media_type: Option<String>,
}

/// An answer read whole.
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    challenge: Option<String>,
    docker_digest: Option<String>,
    body: Bytes,
}

impl Answer {
    /// Why the answer is not what `what` needed, from the registry's error shape if it sent one.
    fn failure(&self, what: &str) -> String {
        #[derive(serde::Deserialize)]
        struct Errors {
            errors: Vec<ErrorEntry>,
        }
        #[derive(serde::Deserialize)]
        struct ErrorEntry {
            code: Option<String>,
            message: Option<String>,
        }
        let detail = serde_json::from_slice::<Errors>(&self.body)
            .ok()
            .and_then(|errors| errors.errors.into_iter().next())
            .map(|entry| {
                format!(
                    " {}{}",
                    entry.code.unwrap_or_default(),
                    entry
                        .message
                        .map(|m| format!(": {}", crate::classify::excerpt(&m)))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        format!("{what}: the registry answered {}{detail}", self.status)
    }
}

/// The hex of a `sha256:` digest, or why it is not one.
pub(crate) fn digest_hex(digest: &str) -> std::result::Result<&str, String> {
    match digest.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(hex)
        }
        _ => Err(format!(
            "{} is not a sha256 digest",
            crate::classify::excerpt(digest)
        )),
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

/// `ghcr.io` for github.com, `containers.HOST` for Enterprise Server, else the API's origin.
fn default_registry_url(client: &Client) -> String {
    let base = client.base_url();
    if base == ghpkg_api::GITHUB_API_URL {
        return "https://ghcr.io".into();
    }
    match url::Url::parse(base) {
        Ok(url) if url.path().trim_end_matches('/') == "/api/v3" && url.scheme() == "https" => {
            format!("https://containers.{}", url.host_str().unwrap_or_default())
        }
        Ok(url) => url.origin().ascii_serialization(),
        Err(_) => base.to_string(),
    }
}

/// The registry URL's origin, if it is `https://` (or `http://` on loopback) and carries no
/// credentials, path, query or fragment.
fn checked_origin(url: &str) -> Result<url::Url> {
    let parsed = url::Url::parse(url.trim().trim_end_matches('/')).map_err(|error| {
        Error::invalid_input(format!(
            "the registry URL is not a URL ({error}); use e.g. https://ghcr.io"
        ))
    })?;
    let loopback = crate::client::is_loopback(&parsed);
    let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
    let plain = parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && matches!(parsed.path(), "" | "/");
    if !scheme_ok || !plain || parsed.host().is_none() {
        return Err(Error::invalid_input(
            "the registry URL must be an https:// origin (http:// only on loopback) with no \
             credentials, path, query or fragment, e.g. https://ghcr.io",
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_follow_the_api_host() {
        let registry = |base: &str| {
            let client = Client::builder()
                .base_url(base)
                .without_token()
                .build()
                .unwrap();
            default_registry_url(&client)
        };
        assert_eq!(registry("https://api.github.com"), "https://ghcr.io");
        assert_eq!(
            registry("https://ghe.example.com/api/v3"),
            "https://containers.ghe.example.com"
        );
        assert_eq!(registry("http://127.0.0.1:4000"), "http://127.0.0.1:4000");
    }

    #[test]
    fn registry_urls_are_plain_origins() {
        for bad in [
            "http://ghcr.io",
            "https://user:pass@ghcr.io",
            "https://ghcr.io/v2",
            "https://ghcr.io/?x=1",
            "ftp://ghcr.io",
            "nonsense",
        ] {
            assert!(checked_origin(bad).is_err(), "{bad}");
        }
        assert!(checked_origin("https://ghcr.io/").is_ok());
        assert!(checked_origin("http://127.0.0.1:9").is_ok());
    }

    #[test]
    fn only_sha256_digests_are_read() {
        assert!(digest_hex(&format!("sha256:{}", "a".repeat(64))).is_ok());
        for bad in [
            "sha256:../../etc",
            "sha256:ABC",
            "latest",
            &format!("sha256:{}", "g".repeat(64)),
            &format!("sha512:{}", "a".repeat(128)),
        ] {
            assert!(digest_hex(bad).is_err(), "{bad}");
        }
    }
}
