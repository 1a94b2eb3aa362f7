//! Upstream mode: the emulator fronting a real registry (CNCF distribution, `docker-registry`)
//! on this machine. At start its repositories become container packages, one version per
//! manifest with the tags that point at it; a REST delete of such a version deletes the manifest
//! upstream first, and fails with `502` (the version staying) when the registry refuses.
//!
//! Distribution has no API that lists a repository's untagged manifests, so the scan reads them
//! from the registry's filesystem storage
//! (`docker/registry/v2/repositories/REPO/_manifests/revisions/sha256/HEX/link`) and fetches
//! each one over HTTP. The link file's modification time is the version's creation time, so
//! versions are listed in push order, newest first.
//!
//! Nothing from the upstream is trusted: lists and manifests are read up to a bound, names are
//! checked before they become paths, and a manifest that is not valid JSON of its media type,
//! not UTF-8 or not the bytes of its digest is skipped with a note in [`UpstreamScan::skipped`].

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, SubsecRound, Utc};
use ghpkg_api::types::{PackageType, PackageVisibility};
use reqwest::header::{ACCEPT, HeaderMap, LINK};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use url::Url;

use crate::fixture::manifest::{self, sha256_digest};
use crate::fixture::{FixtureManifest, FixturePackage, FixtureTime, FixtureVersion, demo};
use crate::registry::valid_component;

/// The largest manifest read from the upstream (distribution's own limit is 4 MiB).
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// The largest page of a catalog or tag list read from the upstream.
const MAX_LIST_BYTES: usize = 8 * 1024 * 1024;
/// At most this many pages of one catalog or tag list are followed.
const MAX_LIST_PAGES: usize = 1000;
/// How long one request to the upstream may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Where repositories live under the storage root.
const REPOSITORIES_DIR: &str = "docker/registry/v2/repositories";
/// What manifests are asked for: every kind a registry may hold for an image.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// A real registry for the emulator to front ([`MockOptions::upstream`](crate::MockOptions)).
///
/// ```
/// use ghpkg_mock::Upstream;
///
/// let upstream = Upstream::at("127.0.0.1:5000".parse().unwrap(), "/var/lib/docker-registry");
/// assert_eq!(upstream.registry.as_str(), "http://127.0.0.1:5000/");
/// assert_eq!(upstream.owner, "acme");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// The registry's root URL, without `/v2`: `http://127.0.0.1:5000`.
    pub registry: Url,
    /// The registry's filesystem storage root (`storage.filesystem.rootdirectory` in its
    /// configuration): the directory that holds `docker/registry/v2`.
    pub storage: PathBuf,
    /// The account the repositories are packages of: repository `platform/app` becomes the
    /// container package `platform/app` of this owner (and `OWNER/platform/app` in the
    /// emulator's own registry). It must be an account of the fixture; by default the demo's
    /// organization `acme`, where the demo token `ghp_octocat_all` may delete.
    pub owner: String,
}

impl Upstream {
    /// The registry at `registry` with its storage at `storage`, exposed under `acme`.
    pub fn new(registry: Url, storage: impl Into<PathBuf>) -> Self {
        Self {
            registry,
            storage: storage.into(),
            owner: demo::ACME.to_owned(),
        }
    }

    /// The registry listening on `addr` over plain HTTP, with its storage at `storage`, exposed
    /// under `acme`.
    pub fn at(addr: SocketAddr, storage: impl Into<PathBuf>) -> Self {
        let registry = Url::parse(&format!("http://{addr}")).expect("an address makes a URL");
        Self::new(registry, storage)
    }

    /// The same registry exposed under `owner`.
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }
}

/// What the scan of the upstream found, for printing and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpstreamScan {
    /// The repositories that became packages, in catalog order.
    pub repositories: Vec<String>,
    /// How many manifests became versions, over all repositories.
    pub manifests: usize,
    /// What was left out and why (a repository with a bad name, a manifest that is not one), one
    /// line each.
    pub skipped: Vec<String>,
}

/// Why the upstream could not be scanned or changed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// A request did not get an answer.
    #[error(
        "cannot reach the upstream registry at {url}: {reason}; check that it is running and \
         listening there"
    )]
    Unreachable {
        /// What was asked for.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The registry answered with an unexpected status.
    #[error("the upstream registry answered {status} for {url}{hint}")]
    Status {
        /// What was asked for.
        url: String,
        /// Its answer's status.
        status: u16,
        /// What to do about it, starting with `; ` (or empty).
        hint: String,
    },
    /// An answer was not what the distribution API promises.
    #[error("the upstream registry's answer for {url} is unusable: {reason}")]
    Malformed {
        /// What was asked for.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The storage directory could not be read.
    #[error(
        "cannot read the upstream registry's storage at {path}: {source}; pass the directory \
         its configuration names in storage.filesystem.rootdirectory"
    )]
    Storage {
        /// The directory or file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The owner to expose the packages under is not an account of the fixture.
    #[error(
        "the upstream's packages are to belong to {0:?}, which is not an account of the \
         fixture; add it to the fixture or choose another owner"
    )]
    UnknownOwner(String),
}

/// The scan's packages and report.
pub(crate) struct Scanned {
    pub packages: Vec<FixturePackage>,
    pub report: UpstreamScan,
}

/// The HTTP side of the upstream: scans and deletes.
#[derive(Clone, Debug)]
pub(crate) struct UpstreamClient {
    http: reqwest::Client,
    upstream: Upstream,
    /// Lower-cased owner and repository names of the packages that are the upstream's.
    packages: HashSet<(String, String)>,
}

impl UpstreamClient {
    pub fn new(upstream: Upstream) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| UpstreamError::Unreachable {
                url: upstream.registry.to_string(),
                reason: format!("cannot make an HTTP client: {error}"),
            })?;
        Ok(Self {
            http,
            upstream,
            packages: HashSet::new(),
        })
    }

    /// The upstream repository behind package `name` of `owner`, if it is one.
    pub fn repository_of<'a>(&self, owner: &str, name: &'a str) -> Option<&'a str> {
        self.packages
            .contains(&(owner.to_lowercase(), name.to_owned()))
            .then_some(name)
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.upstream.registry.as_str().trim_end_matches('/')
        )
    }

    /// Reads every repository, its tags and its manifests into packages of the owner.
    pub async fn scan(&mut self) -> Result<Scanned, UpstreamError> {
        let mut report = UpstreamScan::default();
        let mut packages = Vec::new();
        let root = self.upstream.storage.join(REPOSITORIES_DIR);
        if !root.is_dir() {
            return Err(UpstreamError::Storage {
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("it has no {REPOSITORIES_DIR} directory"),
                ),
                path: self.upstream.storage.clone(),
            });
        }
        for repository in self.catalog().await? {
            if !valid_repository(&repository) {
                report.skipped.push(format!(
                    "repository {}: not a valid repository name",
                    Printable(&repository)
                ));
                continue;
            }
            match self
                .scan_repository(&root, &repository, &mut report)
                .await?
            {
                Some(package) => {
                    report.manifests += package.versions.len();
                    report.repositories.push(repository.clone());
                    self.packages
                        .insert((self.upstream.owner.to_lowercase(), repository));
                    packages.push(package);
                }
                None => report
                    .skipped
                    .push(format!("repository {repository}: it holds no manifests")),
            }
        }
        Ok(Scanned { packages, report })
    }

    async fn scan_repository(
        &self,
        root: &Path,
        repository: &str,
        report: &mut UpstreamScan,
    ) -> Result<Option<FixturePackage>, UpstreamError> {
        let revisions = read_revisions(root, repository)?;
        let mut tags_by_digest: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for tag in self.tags(repository).await? {
            if !valid_tag(&tag) {
                report.skipped.push(format!(
                    "tag {} of {repository}: not a valid tag",
                    Printable(&tag)
                ));
                continue;
            }
            match self.tag_digest(repository, &tag).await? {
                Some(digest) => tags_by_digest.entry(digest).or_default().push(tag),
                None => report.skipped.push(format!(
                    "tag {tag} of {repository}: the registry names no digest for it"
                )),
            }
        }
        let mut versions = Vec::with_capacity(revisions.len());
        for (digest, pushed_at) in revisions {
            let label = format!("manifest {digest} of {repository}");
            let Some(text) = self
                .manifest_text(repository, &digest, &label, report)
                .await?
            else {
                continue;
            };
            if let Err(error) = manifest::describe_raw(&text, &label) {
                report.skipped.push(error.to_string());
                continue;
            }
            let created_at = FixtureTime::At(pushed_at);
            versions.push(FixtureVersion {
                id: None,
                name: String::new(),
                tags: tags_by_digest.remove(&digest).unwrap_or_default(),
                key: None,
                manifest: Some(FixtureManifest::Raw(text)),
                registry_failure: None,
                created_at,
                updated_at: None,
                deleted_at: None,
                downloads: 0,
                license: None,
                description: None,
            });
        }
        for (digest, tags) in tags_by_digest {
            report.skipped.push(format!(
                "tags {} of {repository}: they point at {digest}, which is not in the storage",
                tags.join(", ")
            ));
        }
        let Some(first) = versions.first() else {
            return Ok(None);
        };
        Ok(Some(FixturePackage {
            id: None,
            owner: self.upstream.owner.clone(),
            package_type: PackageType::Container,
            name: repository.to_owned(),
            visibility: PackageVisibility::Private,
            repository: None,
            created_at: first.created_at,
            updated_at: None,
            deleted_at: None,
            docker_migration_conflict: false,
            versions,
            unlisted_manifests: Vec::new(),
        }))
    }

    /// `GET /v2/_catalog`, every page.
    async fn catalog(&self) -> Result<Vec<String>, UpstreamError> {
        #[derive(Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let pages: Vec<Catalog> = self.list("/v2/_catalog?n=1000").await?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.repositories.unwrap_or_default())
            .collect())
    }

    /// `GET /v2/REPOSITORY/tags/list`, every page.
    async fn tags(&self, repository: &str) -> Result<Vec<String>, UpstreamError> {
        #[derive(Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let pages: Vec<Tags> = self.list(&format!("/v2/{repository}/tags/list")).await?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.tags.unwrap_or_default())
            .collect())
    }

    /// A JSON list that may come in pages linked by `Link: <…>; rel="next"`.
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        first: &str,
    ) -> Result<Vec<T>, UpstreamError> {
        let mut pages = Vec::new();
        let mut next = Some(self.url(first));
        while let Some(url) = next.take() {
            if pages.len() == MAX_LIST_PAGES {
                return Err(UpstreamError::Malformed {
                    url,
                    reason: format!("more than {MAX_LIST_PAGES} pages"),
                });
            }
            let (status, headers, body) = self
                .request(Method::GET, &url, None, MAX_LIST_BYTES)
                .await?;
            if status != StatusCode::OK {
                return Err(status_error(&url, status));
            }
            let page = serde_json::from_slice(&body).map_err(|error| UpstreamError::Malformed {
                url: url.clone(),
                reason: format!("not the JSON the distribution API promises: {error}"),
            })?;
            pages.push(page);
            next = next_page(&headers, &url);
        }
        Ok(pages)
    }

    /// The digest tag `tag` points at, from `HEAD`'s `Docker-Content-Digest`.
    async fn tag_digest(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<String>, UpstreamError> {
        let url = self.url(&format!("/v2/{repository}/manifests/{tag}"));
        let (status, headers, _) = self
            .request(Method::HEAD, &url, Some(MANIFEST_ACCEPT), 0)
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status != StatusCode::OK {
            return Err(status_error(&url, status));
        }
        Ok(headers
            .get("docker-content-digest")
            .and_then(|value| value.to_str().ok())
            .filter(|digest| is_digest(digest))
            .map(str::to_owned))
    }

    /// A manifest's text as the registry serves it, checked against its digest; `None` (with a
    /// note) when it is missing, too large, not UTF-8 or not the bytes of `digest`.
    async fn manifest_text(
        &self,
        repository: &str,
        digest: &str,
        label: &str,
        report: &mut UpstreamScan,
    ) -> Result<Option<String>, UpstreamError> {
        let url = self.url(&format!("/v2/{repository}/manifests/{digest}"));
        let fetched = self
            .request(Method::GET, &url, Some(MANIFEST_ACCEPT), MAX_MANIFEST_BYTES)
            .await;
        let (status, _, body) = match fetched {
            Ok(answer) => answer,
            Err(UpstreamError::Malformed { reason, .. }) => {
                report.skipped.push(format!("{label}: {reason}"));
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        if status != StatusCode::OK {
            report
                .skipped
                .push(format!("{label}: the registry answered {status}"));
            return Ok(None);
        }
        if sha256_digest(&body) != digest {
            report
                .skipped
                .push(format!("{label}: the registry served other bytes"));
            return Ok(None);
        }
        match String::from_utf8(body) {
            Ok(text) => Ok(Some(text)),
            Err(_) => {
                report.skipped.push(format!("{label}: not UTF-8"));
                Ok(None)
            }
        }
    }

    /// `DELETE /v2/REPOSITORY/manifests/DIGEST`. A manifest already gone (`404`) counts as
    /// deleted.
    pub async fn delete_manifest(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<(), UpstreamError> {
        let url = self.url(&format!("/v2/{repository}/manifests/{digest}"));
        let (status, _, _) = self.request(Method::DELETE, &url, None, 64 * 1024).await?;
        match status {
            StatusCode::ACCEPTED | StatusCode::OK | StatusCode::NO_CONTENT => Ok(()),
            StatusCode::NOT_FOUND => Ok(()),
            status => Err(status_error(&url, status)),
        }
    }

    /// One request; the status, headers and up to `limit` bytes of body (more is `Malformed`).
    async fn request(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
        limit: usize,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), UpstreamError> {
        let unreachable = |error: reqwest::Error| UpstreamError::Unreachable {
            url: url.to_owned(),
            reason: error.to_string(),
        };
        let mut request = self.http.request(method.clone(), url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        if method != Method::HEAD {
            while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
                if body.len() + chunk.len() > limit {
                    return Err(UpstreamError::Malformed {
                        url: url.to_owned(),
                        reason: format!("the answer is larger than {limit} bytes"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok((status, headers, body))
    }
}

fn status_error(url: &str, status: StatusCode) -> UpstreamError {
    let hint = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "; it refuses deletes: set storage.delete.enabled: true in its configuration"
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            "; it wants credentials, which upstream mode does not send: run it without auth"
        }
        _ => "",
    };
    UpstreamError::Status {
        url: url.to_owned(),
        status: status.as_u16(),
        hint: hint.to_owned(),
    }
}

/// The `rel="next"` target of a `Link` header, resolved against `current`.
fn next_page(headers: &HeaderMap, current: &str) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|param| matches!(param.trim(), "rel=\"next\"" | "rel=next"))
            .then(|| Url::parse(current).ok()?.join(target).ok())
            .flatten()
            .map(String::from)
    })
}

/// Every manifest revision of `repository` in the storage under `root` (the `repositories`
/// directory), with when its link was written, oldest first. A revision directory without a
/// `link` file was deleted.
fn read_revisions(
    root: &Path,
    repository: &str,
) -> Result<Vec<(String, DateTime<Utc>)>, UpstreamError> {
    let mut directory = root.to_path_buf();
    directory.extend(repository.split('/'));
    directory.extend(["_manifests", "revisions", "sha256"]);
    let storage_error = |path: &Path, source| UpstreamError::Storage {
        path: path.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(&directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(storage_error(&directory, error)),
    };
    let mut revisions = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| storage_error(&directory, error))?;
        let Some(hex) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let digest = format!("sha256:{hex}");
        if !is_digest(&digest) {
            continue;
        }
        let link = entry.path().join("link");
        let metadata = match std::fs::metadata(&link) {
            Ok(metadata) if metadata.is_file() => metadata,
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(storage_error(&link, error)),
        };
        let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        revisions.push((digest, DateTime::<Utc>::from(modified)));
    }
    // Sorted at the file system's precision, so that pushes within one second keep their
    // order (in the versions' ids); then in whole seconds, as GitHub's timestamps are.
    revisions.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    Ok(revisions
        .into_iter()
        .map(|(digest, at)| (digest, at.trunc_subsecs(0)))
        .collect())
}

/// A repository name the distribution spec allows, safe to join to a path.
fn valid_repository(name: &str) -> bool {
    name.len() <= 255 && name.split('/').all(valid_component)
}

/// A tag as the distribution spec allows it: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(&bytes[0])
        && bytes.iter().all(|b| word(b) || matches!(b, b'.' | b'-'))
}

/// `sha256:` and 64 lower-case hex digits.
fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A name from the upstream, for a message: control characters escaped, at most 100 characters.
struct Printable<'a>(&'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0.chars().take(100).collect();
        write!(f, "{shown:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::manifest::{
        DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
    };
    use reqwest::header::HeaderValue;

    #[test]
    fn the_accept_header_names_every_manifest_kind() {
        for media_type in [
            OCI_INDEX,
            OCI_MANIFEST,
            DOCKER_MANIFEST_LIST,
            DOCKER_MANIFEST,
        ] {
            assert!(MANIFEST_ACCEPT.contains(media_type), "{media_type}");
        }
    }

    #[test]
    fn the_next_page_is_resolved_against_the_current_one() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            HeaderValue::from_static("</v2/_catalog?last=b&n=2>; rel=\"next\""),
        );
        assert_eq!(
            next_page(&headers, "http://127.0.0.1:5000/v2/_catalog?n=2").as_deref(),
            Some("http://127.0.0.1:5000/v2/_catalog?last=b&n=2")
        );
        assert_eq!(next_page(&HeaderMap::new(), "http://x/"), None);
    }

    #[test]
    fn names_that_could_leave_the_storage_directory_are_refused() {
        assert!(valid_repository("platform/app"));
        for hostile in ["../etc", "a/../../b", "/abs", "a//b", "A/b", ""] {
            assert!(!valid_repository(hostile), "{hostile}");
        }
        assert!(valid_tag("v1.0.0") && valid_tag("sha256-abc.sig"));
        assert!(!valid_tag("@key") && !valid_tag(".hidden") && !valid_tag(&"x".repeat(129)));
    }

    #[test]
    fn revisions_are_read_in_push_order_and_deleted_ones_left_out() {
        let root =
            std::env::temp_dir().join(format!("ghpkg-mock-revisions-{}", std::process::id()));
        let revisions = root.join("platform/app/_manifests/revisions/sha256");
        let hex = |c: char| c.to_string().repeat(64);
        for (n, c) in ['b', 'a', 'c'].into_iter().enumerate() {
            let dir = revisions.join(hex(c));
            std::fs::create_dir_all(&dir).unwrap();
            if c != 'c' {
                let link = dir.join("link");
                std::fs::write(&link, format!("sha256:{}", hex(c))).unwrap();
                // Within one second: the order comes from the nanoseconds.
                let at = SystemTime::UNIX_EPOCH
                    + Duration::from_secs(1_700_000_000)
                    + Duration::from_millis(100 * n as u64);
                std::fs::File::options()
                    .write(true)
                    .open(&link)
                    .unwrap()
                    .set_modified(at)
                    .unwrap();
            }
        }
        std::fs::create_dir_all(revisions.join("not-a-digest")).unwrap();
        let found = read_revisions(&root, "platform/app").unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        let digests: Vec<&str> = found.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(
            digests,
            [
                format!("sha256:{}", hex('b')),
                format!("sha256:{}", hex('a'))
            ]
        );
        assert_eq!(
            found[0].1, found[1].1,
            "in whole seconds, as GitHub's times are"
        );
        assert_eq!(found[0].1.timestamp_subsec_nanos(), 0);
        assert!(read_revisions(&root, "gone/repo").unwrap().is_empty());
    }
}
