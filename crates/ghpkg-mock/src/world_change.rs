//! Changes to the world while the emulator runs, made by someone other than the client under
//! test: a push to a container package (a new version, its tags moved from wherever they were,
//! as a registry push moves them), a manifest the registry serves without a version, deletions
//! by another actor, and triggers that make such a change at the worst moment — just before a
//! given page of a package's versions listing is answered.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use ghpkg_mock::fixture::graphs::{self, stale_listing};
//! use ghpkg_mock::{MockOptions, MockServer, OnVersionsPage, Push, WorldChange};
//!
//! let server = MockServer::start(MockOptions {
//!     fixture: graphs::stale_listing(),
//!     ..MockOptions::default()
//! })
//! .await?;
//! let manifest = serde_json::json!({
//!     "schemaVersion": 2,
//!     "mediaType": "application/vnd.oci.image.manifest.v1+json",
//!     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
//!                "digest": format!("sha256:{}", "ab".repeat(32))},
//!     "layers": [],
//! });
//! let push = Push::version("acme", stale_listing::PACKAGE, manifest).tag("latest");
//! let pushed = server.push(push).expect("the package exists");
//! let state = server.state();
//! let (_, version) = state.version(pushed.version_id.unwrap()).unwrap();
//! assert_eq!(version.tags, ["latest"], "the tag moved to the pushed version");
//! let (_, old) = state.version(stale_listing::LATEST).unwrap();
//! assert!(old.tags.is_empty());
//!
//! server.arm(OnVersionsPage {
//!     owner: "acme".into(),
//!     package: stale_listing::PACKAGE.into(),
//!     page: 2,
//!     change: WorldChange::delete_as("hubot", [stale_listing::UNTAGGED[0]]),
//! });
//! # Ok(()) }
//! ```

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use ghpkg_api::operations::Action;
use ghpkg_api::types::{PackageType, PackageVisibility};
use serde_json::Value;

use crate::fixture::manifest::{self, Manifest};
use crate::fixture::{
    FixtureError, FixtureManifest, FixturePackage, FixtureTime, FixtureUnlistedManifest,
};
use crate::handlers::ApiRequest;
use crate::pagination::PageRequest;
use crate::server::MockServer;

use crate::state::{Package, Store, Unlisted, Version};
use crate::stored::StoredManifest;

/// A manifest pushed into a live container package while the emulator runs.
///
/// The manifest is a [`FixtureManifest`]: exact bytes ([`FixtureManifest::Raw`]) or a JSON
/// object written compactly with sorted keys. `@KEY` references are not resolved here (there
/// are no keys at run time): write digests, e.g. from [`MockServer::state`].
#[derive(Clone, Debug, PartialEq)]
pub struct Push {
    /// The package's owner (case-insensitive).
    pub owner: String,
    /// The container package's name.
    pub package: String,
    /// What the registry will serve.
    pub manifest: FixtureManifest,
    /// Tags to point at it; each is taken from whichever manifest of the package holds it.
    pub tags: Vec<String>,
    /// Whether GitHub lists it as a version (`true`), or the registry serves it without one
    /// (`false`, an [`UnlistedManifest`](crate::UnlistedManifest)).
    pub listed: bool,
}

impl Push {
    /// A push of `manifest` that becomes a new version of `owner`'s container `package`.
    pub fn version(
        owner: impl Into<String>,
        package: impl Into<String>,
        manifest: impl Into<PushedManifest>,
    ) -> Push {
        Push {
            owner: owner.into(),
            package: package.into(),
            manifest: manifest.into().0,
            tags: Vec::new(),
            listed: true,
        }
    }

    /// A push of `manifest` that the registry serves but GitHub does not list as a version.
    pub fn unlisted(
        owner: impl Into<String>,
        package: impl Into<String>,
        manifest: impl Into<PushedManifest>,
    ) -> Push {
        Push {
            listed: false,
            ..Push::version(owner, package, manifest)
        }
    }

    /// The same push, also pointing `tag` at the manifest.
    pub fn tag(mut self, tag: impl Into<String>) -> Push {
        self.tags.push(tag.into());
        self
    }
}

/// A manifest given to [`Push`]: a [`FixtureManifest`], a JSON object ([`Value`]), or exact
/// bytes as a `String`.
#[derive(Clone, Debug, PartialEq)]
pub struct PushedManifest(pub FixtureManifest);

impl From<FixtureManifest> for PushedManifest {
    fn from(manifest: FixtureManifest) -> Self {
        Self(manifest)
    }
}

impl From<Value> for PushedManifest {
    /// A JSON object; anything else is kept as its text, which the push then refuses unless it
    /// is an object.
    fn from(value: Value) -> Self {
        Self(match value {
            Value::Object(map) => FixtureManifest::Json(map),
            other => FixtureManifest::Raw(other.to_string()),
        })
    }
}

impl From<String> for PushedManifest {
    fn from(text: String) -> Self {
        Self(FixtureManifest::Raw(text))
    }
}

/// What a [`Push`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The manifest's digest, as the registry serves it.
    pub digest: String,
    /// The version that holds it now: new, or the live version that already had this digest
    /// (a push of the same bytes only moves tags). `None` for an unlisted manifest.
    pub version_id: Option<i64>,
}

/// Why a [`Push`] was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// No live container package has this owner and name.
    #[error("no live container package {owner}/{package}")]
    NoSuchPackage {
        /// The owner asked for.
        owner: String,
        /// The package asked for.
        package: String,
    },
    /// The manifest is not one the registry would accept (not JSON, or not the OCI shape).
    #[error("the pushed manifest is refused: {0}")]
    Manifest(#[from] FixtureError),
}

/// A change another actor makes to the world.
#[derive(Clone, Debug, PartialEq)]
pub enum WorldChange {
    /// `actor` deletes these versions, as
    /// [`MockServer::delete_version_as`](crate::MockServer::delete_version_as) does (ids
    /// already gone are passed over).
    DeleteVersions {
        /// Who deletes them (logged in [`MockServer::changes`](crate::MockServer::changes)).
        actor: String,
        /// The versions, in the order deleted.
        version_ids: Vec<i64>,
    },
    /// Someone pushes a manifest.
    Push(Push),
}

impl WorldChange {
    /// `actor` deletes `version_ids`.
    pub fn delete_as(actor: impl Into<String>, version_ids: impl IntoIterator<Item = i64>) -> Self {
        WorldChange::DeleteVersions {
            actor: actor.into(),
            version_ids: version_ids.into_iter().collect(),
        }
    }
}

/// A trigger: when the versions listing of container package `owner`/`package` is asked for
/// page `page` (active versions, any `per_page`), `change` is applied first, once. Page 1
/// fires too, but a change before the first page is no different from one before the listing.
#[derive(Clone, Debug, PartialEq)]
pub struct OnVersionsPage {
    /// The package's owner (case-insensitive).
    pub owner: String,
    /// The container package's name.
    pub package: String,
    /// The page number (1-based) whose request fires the change.
    pub page: u64,
    /// What happens.
    pub change: WorldChange,
}

impl MockServer {
    /// Pushes a manifest into a live container package now: see [`Push`]. A new version gets
    /// the clock's now (whole seconds) as its creation and update time and an id larger than
    /// every version id of the world; every manifest that loses a tag to it is updated now too.
    pub fn push(&self, push: Push) -> Result<Pushed, PushError> {
        self.with_store(|store, now| push_into(store, &push, now))
    }

    /// Arms `trigger`; it fires (once) when its page is requested. Triggers armed for the same
    /// page fire one per request, in the order they were armed, so that a test can change the
    /// world during each of several listings.
    pub fn arm(&self, trigger: OnVersionsPage) {
        self.with_store(|store, _| store.armed_world_changes.push(trigger));
    }

    /// How many armed triggers have not fired yet.
    pub fn armed(&self) -> usize {
        self.with_store(|store, _| store.armed_world_changes.len())
    }
}

/// Fires every trigger armed for the page of the versions listing `request` asks for (called
/// by the handlers before they answer).
pub(crate) fn before_operation(store: &mut Store, request: &ApiRequest<'_>, owner: &str) {
    let route = request.route;
    if route.action != Action::ListVersions
        || route.package_type.as_deref() != Some("container")
        || !matches!(request.query.get("state"), None | Some("") | Some("active"))
    {
        return;
    }
    let Some(package) = route.package_name.as_deref() else {
        return;
    };
    let page = PageRequest::from_query(request.query).page;
    let due = store.armed_world_changes.iter().position(|t| {
        t.page == page && t.package == package && t.owner.eq_ignore_ascii_case(owner)
    });
    if let Some(due) = due {
        let trigger = store.armed_world_changes.remove(due);
        apply(store, &trigger.change, request.now);
    }
}

fn apply(store: &mut Store, change: &WorldChange, now: DateTime<Utc>) {
    match change {
        WorldChange::DeleteVersions { actor, version_ids } => {
            for &id in version_ids {
                store.delete_version_as(actor, id, now);
            }
        }
        WorldChange::Push(push) => {
            if let Err(error) = push_into(store, push, now) {
                tracing::warn!(%error, "an armed push was refused");
            }
        }
    }
}

/// The manifest's bytes, digest and what the registry needs to know of it, checked as a
/// fixture's manifest is.
fn describe(manifest: &FixtureManifest, now: DateTime<Utc>) -> Result<Manifest, FixtureError> {
    let package = FixturePackage {
        id: None,
        owner: String::new(),
        package_type: PackageType::Container,
        name: "pushed".into(),
        visibility: PackageVisibility::Private,
        repository: None,
        created_at: FixtureTime::At(now),
        updated_at: None,
        deleted_at: None,
        docker_migration_conflict: false,
        versions: Vec::new(),
        unlisted_manifests: vec![FixtureUnlistedManifest {
            key: None,
            tags: Vec::new(),
            manifest: manifest.clone(),
            registry_failure: None,
        }],
    };
    let mut resolved = manifest::resolve_package(&package)?;
    Ok(resolved.unlisted.remove(0).0.manifest)
}

fn push_into(store: &mut Store, push: &Push, now: DateTime<Utc>) -> Result<Pushed, PushError> {
    let now = now.trunc_subsecs(0);
    let manifest = StoredManifest::from_manifest(describe(&push.manifest, now)?);
    let next_id = store.max_version_id() + 1;
    let index = store
        .packages
        .iter()
        .position(|p| p.is(&push.owner, PackageType::Container, &push.package) && !p.is_deleted())
        .ok_or_else(|| PushError::NoSuchPackage {
            owner: push.owner.clone(),
            package: push.package.clone(),
        })?;
    let package = &mut store.packages[index];
    let pushed = push_into_package(package, push, manifest, next_id, now);
    package.reindex();
    Ok(pushed)
}

/// The push into `package`; the caller indexes the package again.
fn push_into_package(
    package: &mut Package,
    push: &Push,
    manifest: StoredManifest,
    next_id: i64,
    now: DateTime<Utc>,
) -> Pushed {
    // A registry push moves each tag: whoever held it loses it.
    for version in package.versions.iter_mut().filter(|v| !v.is_deleted()) {
        let before = version.tags.len();
        version.tags.retain(|tag| !push.tags.contains(tag));
        if version.tags.len() != before {
            version.updated_at = now;
        }
    }
    for unlisted in &mut package.unlisted {
        unlisted.tags.retain(|tag| !push.tags.contains(tag));
    }
    package.updated_at = now;
    let digest = manifest.digest;
    if !push.listed {
        match package
            .unlisted
            .iter_mut()
            .find(|u| u.manifest.digest == digest)
        {
            Some(existing) => existing.tags.extend(push.tags.iter().cloned()),
            None => package.unlisted.push(Unlisted {
                tags: push.tags.clone(),
                manifest: Arc::new(manifest),
            }),
        }
        return Pushed {
            digest: digest.to_string(),
            version_id: None,
        };
    }
    if let Some(existing) = package
        .versions
        .iter_mut()
        .find(|v| !v.is_deleted() && v.manifest.as_ref().is_some_and(|m| m.digest == digest))
    {
        existing.tags.extend(push.tags.iter().cloned());
        existing.updated_at = now;
        return Pushed {
            digest: digest.to_string(),
            version_id: Some(existing.id),
        };
    }
    let mut version = Version::new(next_id, now);
    version.tags = push.tags.clone();
    version.manifest = Some(Arc::new(manifest));
    package.versions.push(version);
    Pushed {
        digest: digest.to_string(),
        version_id: Some(next_id),
    }
}
