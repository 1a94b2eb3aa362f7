//! The emulator's world at run time: accounts, tokens, and packages with their versions, all
//! soft-deletable. Built from a [`Fixture`] (or straight from a [`SyntheticSpec`]) when the server
//! starts; read back for assertions as a [`StateSnapshot`].
//!
//! The store is built for packages of hundreds of thousands of versions: a version is a small
//! record whose manifest is shared (see [`stored`](crate::stored)), and each package keeps
//! indexes from tags, digests and ids to its versions, so that a registry `GET` or a version
//! lookup does not scan the package.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use ghpkg_api::operations::{Action, OwnerFamily};
use ghpkg_api::types::{PackageType, PackageVisibility};
use serde::Serialize;

use crate::changes::{AppliedChange, Change, ChangeLog};
use crate::fixture::images;
use crate::fixture::manifest::{Manifest, ResolvedPackage, exact_bytes};
use crate::fixture::synthetic::Sink;
use crate::fixture::{
    Fixture, FixtureError, FixturePackage, FixtureVersion, OrgRole, SyntheticSpec,
};
use crate::stored::{Digest, StoredManifest};

/// How long a deleted package or version can be restored.
pub const RESTORE_WINDOW: TimeDelta = TimeDelta::days(30);

/// Whether something deleted at `deleted_at` can still be restored at `now`.
pub fn restorable(deleted_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - deleted_at <= RESTORE_WINDOW
}

/// A package as a [`StateSnapshot`] shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PackageRecord {
    /// The package id.
    pub id: i64,
    /// The owner's login, as the fixture spells it.
    pub owner: String,
    /// The registry.
    pub package_type: PackageType,
    /// The name.
    pub name: String,
    /// Who can see it.
    pub visibility: PackageVisibility,
    /// The linked repository's name under the same owner.
    pub repository: Option<String>,
    /// When it was published.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted, if it is.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Whether it is listed among the Docker-migration conflicts.
    pub docker_migration_conflict: bool,
    /// Its versions, newest first (by `created_at`, then id).
    pub versions: Vec<VersionRecord>,
    /// Manifests the registry serves that have no REST version.
    pub unlisted_manifests: Vec<UnlistedManifest>,
}

/// A manifest the registry serves without a REST version, and its tags.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnlistedManifest {
    /// Its tags in the registry.
    pub tags: Vec<String>,
    /// The manifest.
    pub manifest: Manifest,
}

impl PackageRecord {
    /// Whether the package is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether this is `owner`'s (case-insensitive) package of this type and name.
    pub fn is(&self, owner: &str, package_type: PackageType, name: &str) -> bool {
        self.package_type == package_type
            && self.name == name
            && self.owner.eq_ignore_ascii_case(owner)
    }

    /// Versions that are not deleted, newest first.
    pub fn active_versions(&self) -> impl Iterator<Item = &VersionRecord> {
        self.versions.iter().filter(|v| v.deleted_at.is_none())
    }

    /// The version with `id`, deleted or not.
    pub fn version(&self, id: i64) -> Option<&VersionRecord> {
        self.versions.iter().find(|v| v.id == id)
    }

    /// The manifests the registry serves for this package now: those of versions that are not
    /// deleted, and the unlisted ones, each with its tags and, for a version, its position in
    /// `versions`.
    pub(crate) fn served_manifests(
        &self,
    ) -> impl Iterator<Item = (Option<usize>, &Manifest, &[String])> {
        let versions = self
            .versions
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_deleted())
            .filter_map(|(position, v)| {
                Some((Some(position), v.manifest.as_ref()?, v.tags.as_slice()))
            });
        let unlisted = self
            .unlisted_manifests
            .iter()
            .map(|u| (None, &u.manifest, u.tags.as_slice()));
        versions.chain(unlisted)
    }
}

/// A package version as a [`StateSnapshot`] shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionRecord {
    /// The version id.
    pub id: i64,
    /// The name: a digest or a version number.
    pub name: String,
    /// Tags (container and docker packages).
    pub tags: Vec<String>,
    /// When it was published.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted, if it is.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Download count; every manifest `GET` from the registry adds one.
    pub downloads: u64,
    /// License.
    pub license: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The manifest the registry serves for it (container versions of fixtures that give one);
    /// the version's `name` is its digest.
    pub manifest: Option<Manifest>,
}

impl VersionRecord {
    /// Whether the version is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// A copy of every package and version at one moment, for assertions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StateSnapshot {
    /// Every package, live and deleted, in fixture order.
    pub packages: Vec<PackageRecord>,
}

impl StateSnapshot {
    /// The live package `owner`/`package_type`/`name` (owner matched case-insensitively).
    pub fn package(
        &self,
        owner: &str,
        package_type: PackageType,
        name: &str,
    ) -> Option<&PackageRecord> {
        self.packages
            .iter()
            .find(|p| p.is(owner, package_type, name) && !p.is_deleted())
    }

    /// Every package, live or deleted, with this owner, type and name.
    pub fn packages_named<'a>(
        &'a self,
        owner: &'a str,
        package_type: PackageType,
        name: &'a str,
    ) -> impl Iterator<Item = &'a PackageRecord> + 'a {
        self.packages
            .iter()
            .filter(move |p| p.is(owner, package_type, name))
    }

    /// The version with `id` and its package.
    pub fn version(&self, id: i64) -> Option<(&PackageRecord, &VersionRecord)> {
        self.packages
            .iter()
            .find_map(|p| p.version(id).map(|v| (p, v)))
    }
}

/// Whether an account is a person or an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OwnerKind {
    User,
    Organization,
}

/// A user or an organization.
#[derive(Clone, Debug)]
pub(crate) struct Account {
    pub login: String,
    pub id: i64,
    /// The display name (users).
    pub name: Option<String>,
    pub kind: OwnerKind,
    /// Lower-cased member logins and their roles (organizations only).
    pub members: HashMap<String, OrgRole>,
}

/// A token and what it is allowed.
#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub user: String,
    pub scopes: Vec<String>,
}

/// A package as the store holds it.
#[derive(Debug)]
pub(crate) struct Package {
    pub id: i64,
    /// The owner's login, as the fixture spells it.
    pub owner: String,
    pub package_type: PackageType,
    pub name: String,
    pub visibility: PackageVisibility,
    /// The linked repository's name under the same owner.
    pub repository: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub docker_migration_conflict: bool,
    /// Newest first (by `created_at`, then id). Who reorders them or changes their tags or
    /// manifests calls [`reindex`](Package::reindex); deleting and restoring need not.
    pub versions: Vec<Version>,
    /// Manifests the registry serves that have no REST version; same rule as `versions`.
    pub unlisted: Vec<Unlisted>,
    index: RegistryIndex,
}

/// A version as the store holds it: a few words, and its manifest shared.
#[derive(Debug)]
pub(crate) struct Version {
    pub id: i64,
    /// Tags (container and docker packages).
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Download count; every manifest `GET` from the registry adds one.
    pub downloads: u64,
    /// The manifest the registry serves for it; the version is named by its digest.
    pub manifest: Option<Arc<StoredManifest>>,
    /// The name of a version without a manifest, its license and description: absent for most
    /// container versions.
    text: Option<Box<VersionText>>,
}

/// What few versions carry: a name that is not a manifest's digest, a license, a description.
#[derive(Debug, Default)]
struct VersionText {
    name: String,
    license: Option<String>,
    description: Option<String>,
}

/// A manifest the registry serves without a REST version.
#[derive(Debug)]
pub(crate) struct Unlisted {
    pub tags: Vec<String>,
    pub manifest: Arc<StoredManifest>,
}

/// A served manifest's place: a version (its position) or an unlisted manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holder {
    Version(u32),
    Unlisted(u32),
}

/// The holders of one digest or tag, in the order the registry looks them up: versions newest
/// first, then unlisted manifests. Almost always one.
#[derive(Debug)]
enum Holders {
    One(Holder),
    Many(Box<[Holder]>),
}

impl Holders {
    fn as_slice(&self) -> &[Holder] {
        match self {
            Holders::One(holder) => std::slice::from_ref(holder),
            Holders::Many(holders) => holders,
        }
    }

    fn add(&mut self, holder: Holder) {
        let mut all = self.as_slice().to_vec();
        all.push(holder);
        *self = Holders::Many(all.into_boxed_slice());
    }
}

/// Where each digest, tag and version id of a package is. Deleted versions stay in it (the
/// lookups pass over them), so that deleting and restoring leave it as it is.
#[derive(Debug, Default)]
struct RegistryIndex {
    by_digest: HashMap<Digest, Holders>,
    by_tag: HashMap<String, Holders>,
    by_id: HashMap<i64, u32>,
}

fn add_holder<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Holders>, key: K, holder: Holder) {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(mut entry) => entry.get_mut().add(holder),
        std::collections::hash_map::Entry::Vacant(entry) => {
            entry.insert(Holders::One(holder));
        }
    }
}

fn position(index: usize) -> u32 {
    u32::try_from(index).expect("fewer than 4 billion versions in a package")
}

impl Version {
    /// The name: its manifest's digest, or the name it was given (a version number).
    pub fn name(&self) -> Cow<'_, str> {
        match (&self.manifest, &self.text) {
            (Some(manifest), _) => Cow::Owned(manifest.digest.to_string()),
            (None, Some(text)) => Cow::Borrowed(&text.name),
            (None, None) => Cow::Borrowed(""),
        }
    }

    /// Whether the two versions have the same name.
    pub fn same_name(&self, other: &Version) -> bool {
        match (&self.manifest, &other.manifest) {
            (Some(a), Some(b)) => a.digest == b.digest,
            _ => self.name() == other.name(),
        }
    }

    /// Its license.
    pub fn license(&self) -> Option<&str> {
        self.text.as_ref()?.license.as_deref()
    }

    /// Its description.
    pub fn description(&self) -> Option<&str> {
        self.text.as_ref()?.description.as_deref()
    }

    /// Whether the version is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// A version published (and last changed) at `at`.
    pub fn new(id: i64, at: DateTime<Utc>) -> Version {
        Version {
            id,
            tags: Vec::new(),
            created_at: at,
            updated_at: at,
            deleted_at: None,
            downloads: 0,
            manifest: None,
            text: None,
        }
    }

    /// Sets the name, license and description, keeping only what is not implied.
    fn with_text(
        mut self,
        name: String,
        license: Option<String>,
        description: Option<String>,
    ) -> Self {
        let name = if self.manifest.is_some() {
            String::new()
        } else {
            name
        };
        if !name.is_empty() || license.is_some() || description.is_some() {
            self.text = Some(Box::new(VersionText {
                name,
                license,
                description,
            }));
        }
        self
    }

    fn record(&self) -> VersionRecord {
        VersionRecord {
            id: self.id,
            name: self.name().into_owned(),
            tags: self.tags.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
            downloads: self.downloads,
            license: self.license().map(str::to_owned),
            description: self.description().map(str::to_owned),
            manifest: self.manifest.as_ref().map(|m| m.to_manifest()),
        }
    }
}

impl Package {
    /// Whether the package is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether this is `owner`'s (case-insensitive) package of this type and name.
    pub fn is(&self, owner: &str, package_type: PackageType, name: &str) -> bool {
        self.package_type == package_type
            && self.name == name
            && self.owner.eq_ignore_ascii_case(owner)
    }

    /// Versions that are not deleted, newest first.
    pub fn active_versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().filter(|v| !v.is_deleted())
    }

    /// The position in `versions` of the version with `id`, deleted or not.
    pub fn position_of(&self, id: i64) -> Option<usize> {
        self.index.by_id.get(&id).map(|&p| p as usize)
    }

    /// The version with `id`, deleted or not.
    pub fn version(&self, id: i64) -> Option<&Version> {
        self.position_of(id).map(|p| &self.versions[p])
    }

    /// The manifests the registry serves for this package now: those of versions that are not
    /// deleted, and the unlisted ones, each with its tags and, for a version, its position in
    /// `versions`.
    pub fn served_manifests(
        &self,
    ) -> impl Iterator<Item = (Option<usize>, &Arc<StoredManifest>, &[String])> {
        let versions = self
            .versions
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_deleted())
            .filter_map(|(position, v)| {
                Some((Some(position), v.manifest.as_ref()?, v.tags.as_slice()))
            });
        let unlisted = self
            .unlisted
            .iter()
            .map(|u| (None, &u.manifest, u.tags.as_slice()));
        versions.chain(unlisted)
    }

    /// The served manifest a registry reference (a tag or a digest) names, with its version's
    /// position: the first served holder, as a scan of
    /// [`served_manifests`](Package::served_manifests) would find it.
    pub fn served_manifest(
        &self,
        reference: &str,
    ) -> Option<(Option<usize>, &Arc<StoredManifest>)> {
        let holders = if reference.contains(':') {
            self.index.by_digest.get(&Digest::parse(reference)?)?
        } else {
            self.index.by_tag.get(reference)?
        };
        holders.as_slice().iter().find_map(|&holder| match holder {
            Holder::Version(p) => {
                let version = &self.versions[p as usize];
                let manifest = version
                    .manifest
                    .as_ref()
                    .filter(|_| !version.is_deleted())?;
                Some((Some(p as usize), manifest))
            }
            Holder::Unlisted(n) => Some((None, &self.unlisted[n as usize].manifest)),
        })
    }

    /// Puts the versions newest first and indexes them again; manifests with the same digest
    /// end up shared.
    pub fn reindex(&mut self) {
        self.versions
            .sort_by_key(|v| std::cmp::Reverse((v.created_at, v.id)));
        let mut index = RegistryIndex {
            by_id: HashMap::with_capacity(self.versions.len()),
            by_digest: HashMap::with_capacity(self.versions.len()),
            by_tag: HashMap::new(),
        };
        let mut first: HashMap<Digest, Arc<StoredManifest>> = HashMap::new();
        let mut share = |manifest: &mut Arc<StoredManifest>| match first.entry(manifest.digest) {
            std::collections::hash_map::Entry::Occupied(entry) => {
                *manifest = Arc::clone(entry.get());
            }
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(Arc::clone(manifest));
            }
        };
        for (n, version) in self.versions.iter_mut().enumerate() {
            let holder = Holder::Version(position(n));
            index.by_id.insert(version.id, position(n));
            if let Some(manifest) = &mut version.manifest {
                if index.by_digest.contains_key(&manifest.digest) {
                    share(manifest);
                }
                add_holder(&mut index.by_digest, manifest.digest, holder);
                for tag in &version.tags {
                    add_holder(&mut index.by_tag, tag.clone(), holder);
                }
            }
        }
        for (n, unlisted) in self.unlisted.iter_mut().enumerate() {
            let holder = Holder::Unlisted(position(n));
            add_holder(&mut index.by_digest, unlisted.manifest.digest, holder);
            for tag in &unlisted.tags {
                add_holder(&mut index.by_tag, tag.clone(), holder);
            }
        }
        index.by_id.shrink_to_fit();
        index.by_digest.shrink_to_fit();
        index.by_tag.shrink_to_fit();
        self.index = index;
    }

    fn record(&self) -> PackageRecord {
        PackageRecord {
            id: self.id,
            owner: self.owner.clone(),
            package_type: self.package_type,
            name: self.name.clone(),
            visibility: self.visibility,
            repository: self.repository.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
            docker_migration_conflict: self.docker_migration_conflict,
            versions: self.versions.iter().map(Version::record).collect(),
            unlisted_manifests: self
                .unlisted
                .iter()
                .map(|u| UnlistedManifest {
                    tags: u.tags.clone(),
                    manifest: u.manifest.to_manifest(),
                })
                .collect(),
        }
    }
}

/// Everything the API handlers read and change.
#[derive(Debug)]
pub(crate) struct Store {
    accounts: HashMap<String, Account>,
    tokens: HashMap<String, TokenRecord>,
    pub packages: Vec<Package>,
    /// Repository ids by lower-cased `owner/name`, assigned on load.
    repositories: HashMap<String, i64>,
    /// Every change applied since the start, kept under the same lock as the packages so
    /// that the log's order is the order the changes happened in.
    changes: ChangeLog,
    /// The statuses the registry answers instead of some manifests (by digest), from the
    /// fixture's `registry_failure`s.
    pub fixture_registry_failures: Vec<(String, u16)>,
    /// When the server started, on its clock (whole seconds).
    started_at: DateTime<Utc>,
    /// Triggers armed by tests, not fired yet (see `world_change`).
    pub armed_world_changes: Vec<crate::world_change::OnVersionsPage>,
}

/// How many versions a fixture may have for its check to be remembered (see
/// [`Fixture::check`]): the demo world and every hand-made one, not a generated giant.
pub(crate) const REMEMBERED_CHECK_VERSIONS: usize = 20_000;

impl Store {
    /// A world with `fixture`'s accounts and tokens and no packages yet.
    fn with_accounts(fixture: &Fixture, now: DateTime<Utc>) -> Store {
        let mut accounts = HashMap::new();
        for user in &fixture.users {
            accounts.insert(
                user.login.to_lowercase(),
                Account {
                    login: user.login.clone(),
                    id: user.id,
                    name: user.name.clone(),
                    kind: OwnerKind::User,
                    members: HashMap::new(),
                },
            );
        }
        for org in &fixture.organizations {
            accounts.insert(
                org.login.to_lowercase(),
                Account {
                    login: org.login.clone(),
                    id: org.id,
                    name: None,
                    kind: OwnerKind::Organization,
                    members: org
                        .members
                        .iter()
                        .map(|m| (m.login.to_lowercase(), m.role))
                        .collect(),
                },
            );
        }
        let tokens = fixture
            .tokens
            .iter()
            .map(|t| {
                let user = accounts[&t.user.to_lowercase()].login.clone();
                (
                    t.token.clone(),
                    TokenRecord {
                        user,
                        scopes: t.scopes.clone(),
                    },
                )
            })
            .collect();
        Store {
            accounts,
            tokens,
            packages: Vec::new(),
            repositories: HashMap::new(),
            changes: ChangeLog::default(),
            fixture_registry_failures: Vec::new(),
            started_at: now,
            armed_world_changes: Vec::new(),
        }
    }

    /// Builds the world from `fixture`, resolving relative times against `now`. The fixture is
    /// consumed package by package: its manifests become the store's bytes, and nothing of it
    /// is kept.
    pub fn from_fixture(mut fixture: Fixture, now: DateTime<Utc>) -> Result<Store, FixtureError> {
        // GitHub's timestamps have whole seconds.
        let now = now.trunc_subsecs(0);
        let version_count: usize = fixture.packages.iter().map(|p| p.versions.len()).sum();
        // A small fixture's check is remembered (servers of the demo world resolve it once);
        // a large one is checked package by package as it is loaded.
        let mut checked = if version_count <= REMEMBERED_CHECK_VERSIONS {
            Some(fixture.check()?.into_iter())
        } else {
            fixture.check_accounts_and_ids()?;
            None
        };
        let mut store = Store::with_accounts(&fixture, now);
        let mut ids = IdAssigner {
            next_package: fixture
                .packages
                .iter()
                .filter_map(|p| p.id)
                .max()
                .unwrap_or(0)
                + 1,
            next_version: fixture
                .packages
                .iter()
                .flat_map(|p| &p.versions)
                .filter_map(|v| v.id)
                .max()
                .unwrap_or(0)
                + 1,
        };
        let packages = std::mem::take(&mut fixture.packages);
        drop(fixture);
        store.packages.reserve(packages.len());
        for package in packages {
            let resolved = match &mut checked {
                Some(checked) => checked.next().expect("one resolved package per package"),
                None => crate::fixture::check_package(&package, false)?,
            };
            store.load_package(package, resolved, &mut ids, now);
        }
        Ok(store)
    }

    /// Builds the world `Fixture::synthetic(spec)` describes, without making the fixture:
    /// every version is generated, resolved and stored one image at a time.
    pub fn from_synthetic(spec: &SyntheticSpec, now: DateTime<Utc>) -> Result<Store, FixtureError> {
        let now = now.trunc_subsecs(0);
        let accounts = crate::fixture::synthetic::accounts(spec);
        let mut store = Store::with_accounts(&accounts, now);
        let mut sink = SyntheticLoader {
            store: &mut store,
            now,
            package: None,
        };
        crate::fixture::synthetic::generate_into(spec, &mut sink)?;
        sink.finish();
        Ok(store)
    }

    /// Adds `package` (resolved as `resolved`) to the world.
    fn load_package(
        &mut self,
        package: FixturePackage,
        resolved: ResolvedPackage,
        ids: &mut IdAssigner,
        now: DateTime<Utc>,
    ) {
        let FixturePackage {
            id,
            owner,
            package_type,
            name,
            visibility,
            repository,
            created_at,
            updated_at,
            deleted_at,
            docker_migration_conflict,
            versions,
            unlisted_manifests,
        } = package;
        let mut loaded = self.new_package(
            id.unwrap_or_else(|| ids.package()),
            &owner,
            package_type,
            name,
            visibility,
            repository,
            created_at.resolve(now),
        );
        loaded.deleted_at = deleted_at.map(|t| t.resolve(now));
        loaded.docker_migration_conflict = docker_migration_conflict;
        loaded.versions.reserve_exact(versions.len());
        for ((v, manifest), tags) in versions
            .into_iter()
            .zip(resolved.versions)
            .zip(resolved.version_tags)
        {
            let id = v.id.unwrap_or_else(|| ids.version());
            let created_at = v.created_at.resolve(now);
            let manifest = manifest.map(|m| Arc::new(StoredManifest::from_manifest(m.manifest)));
            if let (Some(status), Some(manifest)) = (v.registry_failure, &manifest) {
                self.fixture_registry_failures
                    .push((manifest.digest.to_string(), status));
            }
            let mut version = Version::new(id, created_at);
            version.tags = tags;
            version.updated_at = v.updated_at.map_or(created_at, |t| t.resolve(now));
            version.deleted_at = v.deleted_at.map(|t| t.resolve(now));
            version.downloads = v.downloads;
            version.manifest = manifest;
            loaded
                .versions
                .push(version.with_text(v.name, v.license, v.description));
        }
        for (unlisted, (manifest, tags)) in unlisted_manifests.iter().zip(resolved.unlisted) {
            let manifest = Arc::new(StoredManifest::from_manifest(manifest.manifest));
            if let Some(status) = unlisted.registry_failure {
                self.fixture_registry_failures
                    .push((manifest.digest.to_string(), status));
            }
            loaded.unlisted.push(Unlisted { tags, manifest });
        }
        self.finish_package(loaded, updated_at.map(|t| t.resolve(now)));
    }

    /// An empty package, its owner's login spelled as the account spells it and its
    /// repository given an id.
    #[allow(clippy::too_many_arguments)]
    fn new_package(
        &mut self,
        id: i64,
        owner: &str,
        package_type: PackageType,
        name: String,
        visibility: PackageVisibility,
        repository: Option<String>,
        created_at: DateTime<Utc>,
    ) -> Package {
        let owner = self.accounts[&owner.to_lowercase()].login.clone();
        if let Some(repository) = &repository {
            let key = format!("{owner}/{repository}").to_lowercase();
            let next = 50_000 + self.repositories.len() as i64 + 1;
            self.repositories.entry(key).or_insert(next);
        }
        Package {
            id,
            owner,
            package_type,
            name,
            visibility,
            repository,
            created_at,
            updated_at: created_at,
            deleted_at: None,
            docker_migration_conflict: false,
            versions: Vec::new(),
            unlisted: Vec::new(),
            index: RegistryIndex::default(),
        }
    }

    /// Sorts and indexes `package`'s versions, dates it (`updated_at`, or its newest
    /// version's) and adds it.
    fn finish_package(&mut self, mut package: Package, updated_at: Option<DateTime<Utc>>) {
        package.versions.shrink_to_fit();
        package.reindex();
        let newest = package
            .versions
            .first()
            .map_or(package.created_at, |v| v.updated_at);
        package.updated_at = updated_at.unwrap_or(newest.max(package.created_at));
        self.packages.push(package);
    }

    /// When the server started, on its clock.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// The account `login` (case-insensitive).
    pub fn account(&self, login: &str) -> Option<&Account> {
        self.accounts.get(&login.to_lowercase())
    }

    /// The token record for `secret`.
    pub fn token(&self, secret: &str) -> Option<&TokenRecord> {
        self.tokens.get(secret)
    }

    /// The id of repository `owner/name`.
    pub fn repository_id(&self, owner: &str, name: &str) -> Option<i64> {
        self.repositories
            .get(&format!("{owner}/{name}").to_lowercase())
            .copied()
    }

    /// Indexes of `owner`'s packages of this type and name, live and deleted.
    pub fn packages_named(
        &self,
        owner: &str,
        package_type: PackageType,
        name: &str,
    ) -> impl Iterator<Item = usize> + '_ {
        let owner = owner.to_owned();
        let name = name.to_owned();
        self.packages
            .iter()
            .enumerate()
            .filter(move |(_, p)| p.is(&owner, package_type, &name))
            .map(|(index, _)| index)
    }

    /// Index of `owner`'s live package of this type and name.
    pub fn live_package(
        &self,
        owner: &str,
        package_type: PackageType,
        name: &str,
    ) -> Option<usize> {
        self.packages_named(owner, package_type, name)
            .find(|&index| !self.packages[index].is_deleted())
    }

    /// Index of the most recently deleted package of this owner, type and name.
    pub fn last_deleted_package(
        &self,
        owner: &str,
        package_type: PackageType,
        name: &str,
    ) -> Option<usize> {
        self.packages_named(owner, package_type, name)
            .filter(|&index| self.packages[index].is_deleted())
            .max_by_key(|&index| self.packages[index].deleted_at)
    }

    /// The live container package the registry calls `owner/name` (`owner` is the login
    /// lower-cased, as GHCR writes it).
    pub fn registry_package(&self, owner: &str, name: &str) -> Option<usize> {
        self.packages.iter().position(|p| {
            p.package_type == PackageType::Container
                && !p.is_deleted()
                && p.name == name
                && p.owner.to_lowercase() == owner
        })
    }

    /// The largest version id of the world.
    pub fn max_version_id(&self) -> i64 {
        self.packages
            .iter()
            .flat_map(|p| p.index.by_id.keys())
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// Deletes version `version_id` of a live package directly, as another client would, and
    /// logs it with `actor` and the operation GitHub would have recorded. `None` when there is
    /// no such version or it is already deleted. GitHub's refusals (last tagged version,
    /// downloads) do not apply: this is a test's tool.
    pub fn delete_version_as(
        &mut self,
        actor: &str,
        version_id: i64,
        now: DateTime<Utc>,
    ) -> Option<AppliedChange> {
        let (index, position) = self.packages.iter().enumerate().find_map(|(index, p)| {
            let position = p.position_of(version_id)?;
            (!p.is_deleted() && !p.versions[position].is_deleted()).then_some((index, position))
        })?;
        let package = &mut self.packages[index];
        package.versions[position].deleted_at = Some(now);
        let owner = &self.accounts[&package.owner.to_lowercase()];
        let family = match owner.kind {
            OwnerKind::Organization => OwnerFamily::Org,
            OwnerKind::User if owner.login.eq_ignore_ascii_case(actor) => {
                OwnerFamily::AuthenticatedUser
            }
            OwnerKind::User => OwnerFamily::User,
        };
        let change = Change {
            at: now,
            operation_id: Action::DeleteVersion.spec(family).id,
            owner: package.owner.clone(),
            package_type: package.package_type,
            package_name: package.name.clone(),
            version_id: Some(version_id),
            actor: actor.to_owned(),
        };
        self.changes.append(change);
        self.changes.entries().last().cloned()
    }

    /// Writes an applied change into the log.
    pub fn record_change(&mut self, change: Change) {
        self.changes.append(change);
    }

    /// Every change applied so far, oldest first.
    pub fn changes(&self) -> &[AppliedChange] {
        self.changes.entries()
    }

    /// A copy of all packages.
    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            packages: self.packages.iter().map(Package::record).collect(),
        }
    }
}

/// Ids for a fixture's packages and versions that leave theirs out: after the largest given
/// one, in file order.
struct IdAssigner {
    next_package: i64,
    next_version: i64,
}

impl IdAssigner {
    fn package(&mut self) -> i64 {
        self.next_package += 1;
        self.next_package - 1
    }

    fn version(&mut self) -> i64 {
        self.next_version += 1;
        self.next_version - 1
    }
}

/// Takes the synthetic generator's packages and versions into a store as they are made.
struct SyntheticLoader<'a> {
    store: &'a mut Store,
    now: DateTime<Utc>,
    package: Option<Package>,
}

impl SyntheticLoader<'_> {
    fn finish(&mut self) {
        if let Some(package) = self.package.take() {
            self.store.finish_package(package, None);
        }
    }
}

impl SyntheticLoader<'_> {
    fn push(&mut self, v: FixtureVersion, manifest: Option<StoredManifest>) {
        let Some(package) = &mut self.package else {
            return;
        };
        let created_at = v.created_at.resolve(self.now);
        let mut version = Version::new(v.id.unwrap_or_default(), created_at);
        version.tags = v.tags;
        version.updated_at = v.updated_at.map_or(created_at, |t| t.resolve(self.now));
        version.downloads = v.downloads;
        version.manifest = manifest.map(Arc::new);
        package
            .versions
            .push(version.with_text(v.name, v.license, v.description));
    }
}

impl Sink for SyntheticLoader<'_> {
    fn package(&mut self, header: FixturePackage, versions: usize) {
        self.finish();
        let mut package = self.store.new_package(
            header.id.unwrap_or_default(),
            &header.owner,
            header.package_type,
            header.name,
            header.visibility,
            header.repository,
            header.created_at.resolve(self.now),
        );
        package.versions.reserve_exact(versions);
        self.package = Some(package);
    }

    fn version(&mut self, version: FixtureVersion, image_seed: Option<&str>) {
        let manifest = image_seed
            .map(|seed| StoredManifest::oci_image(exact_bytes(images::image_bytes(seed, 3))));
        self.push(version, manifest);
    }

    fn release(&mut self, versions: Vec<FixtureVersion>) -> Result<(), FixtureError> {
        let resolved = crate::fixture::synthetic::resolve_release(&versions)?;
        for (version, manifest) in versions.into_iter().zip(resolved) {
            self.push(version, Some(StoredManifest::from_manifest(manifest)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_held_newest_first_and_times_resolve_against_the_start() {
        let now = Utc::now().trunc_subsecs(0);
        let store = Store::from_fixture(Fixture::demo(), now).unwrap();
        let web_app = &store.packages[store
            .live_package("ACME", PackageType::Container, "web/app")
            .unwrap()];
        assert_eq!(web_app.versions.len(), 3_000);
        assert!(
            web_app
                .versions
                .windows(2)
                .all(|pair| pair[0].created_at > pair[1].created_at)
        );
        assert!(web_app.versions[0].created_at < now);
        let old = store
            .last_deleted_package("acme", PackageType::Container, "old-service")
            .unwrap();
        let deleted_at = store.packages[old].deleted_at.unwrap();
        assert_eq!(now - deleted_at, TimeDelta::days(10));
        assert!(restorable(deleted_at, now));
    }
}
