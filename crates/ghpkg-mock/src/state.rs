//! The emulator's world at run time: accounts, tokens, and packages with their versions, all
//! soft-deletable. Built from a [`Fixture`] when the server starts; read back for assertions as a
//! [`StateSnapshot`].

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use ghpkg_api::operations::{Action, OwnerFamily};
use ghpkg_api::types::{PackageType, PackageVisibility};
use serde::Serialize;

use crate::changes::{AppliedChange, Change, ChangeLog};
use crate::fixture::manifest::Manifest;
use crate::fixture::{Fixture, FixtureError, OrgRole};

/// How long a deleted package or version can be restored.
pub const RESTORE_WINDOW: TimeDelta = TimeDelta::days(30);

/// Whether something deleted at `deleted_at` can still be restored at `now`.
pub fn restorable(deleted_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - deleted_at <= RESTORE_WINDOW
}

/// A package as the emulator holds it.
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

    /// The served manifest a registry reference (a tag or a digest) names, with its version's
    /// position.
    pub(crate) fn served_manifest(&self, reference: &str) -> Option<(Option<usize>, &Manifest)> {
        let by_digest = reference.contains(':');
        self.served_manifests()
            .find(|(_, manifest, tags)| {
                if by_digest {
                    manifest.digest == reference
                } else {
                    tags.iter().any(|tag| tag == reference)
                }
            })
            .map(|(position, manifest, _)| (position, manifest))
    }
}

/// A package version as the emulator holds it.
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

/// Everything the API handlers read and change.
#[derive(Debug)]
pub(crate) struct Store {
    accounts: HashMap<String, Account>,
    tokens: HashMap<String, TokenRecord>,
    pub packages: Vec<PackageRecord>,
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

impl Store {
    /// Builds the world from `fixture`, resolving relative times against `now`.
    pub fn from_fixture(fixture: &Fixture, now: DateTime<Utc>) -> Result<Store, FixtureError> {
        let resolved = fixture.check()?;
        // GitHub's timestamps have whole seconds.
        let now = now.trunc_subsecs(0);
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

        let mut next_package_id = fixture
            .packages
            .iter()
            .filter_map(|p| p.id)
            .max()
            .unwrap_or(0)
            + 1;
        let mut next_version_id = fixture
            .packages
            .iter()
            .flat_map(|p| &p.versions)
            .filter_map(|v| v.id)
            .max()
            .unwrap_or(0)
            + 1;
        let mut repositories = HashMap::new();
        let mut packages = Vec::with_capacity(fixture.packages.len());
        let mut fixture_registry_failures = Vec::new();
        for (package, resolved) in fixture.packages.iter().zip(resolved) {
            let id = package.id.unwrap_or_else(|| {
                next_package_id += 1;
                next_package_id - 1
            });
            let owner = accounts[&package.owner.to_lowercase()].login.clone();
            if let Some(repository) = &package.repository {
                let key = format!("{owner}/{repository}").to_lowercase();
                let next = 50_000 + repositories.len() as i64 + 1;
                repositories.entry(key).or_insert(next);
            }
            let created_at = package.created_at.resolve(now);
            let mut versions: Vec<VersionRecord> = package
                .versions
                .iter()
                .zip(resolved.versions)
                .zip(resolved.version_tags)
                .map(|((v, manifest), tags)| {
                    let id = v.id.unwrap_or_else(|| {
                        next_version_id += 1;
                        next_version_id - 1
                    });
                    let created_at = v.created_at.resolve(now);
                    let manifest = manifest.map(|m| m.manifest);
                    if let (Some(status), Some(manifest)) = (v.registry_failure, &manifest) {
                        fixture_registry_failures.push((manifest.digest.clone(), status));
                    }
                    VersionRecord {
                        id,
                        name: manifest
                            .as_ref()
                            .map_or_else(|| v.name.clone(), |m| m.digest.clone()),
                        tags,
                        created_at,
                        updated_at: v.updated_at.map_or(created_at, |t| t.resolve(now)),
                        deleted_at: v.deleted_at.map(|t| t.resolve(now)),
                        downloads: v.downloads,
                        license: v.license.clone(),
                        description: v.description.clone(),
                        manifest,
                    }
                })
                .collect();
            versions.sort_by_key(|v| std::cmp::Reverse((v.created_at, v.id)));
            let unlisted_manifests = package
                .unlisted_manifests
                .iter()
                .zip(resolved.unlisted)
                .map(|(unlisted, (manifest, tags))| {
                    if let Some(status) = unlisted.registry_failure {
                        fixture_registry_failures.push((manifest.manifest.digest.clone(), status));
                    }
                    UnlistedManifest {
                        tags,
                        manifest: manifest.manifest,
                    }
                })
                .collect();
            let newest = versions.first().map_or(created_at, |v| v.updated_at);
            packages.push(PackageRecord {
                id,
                owner,
                package_type: package.package_type,
                name: package.name.clone(),
                visibility: package.visibility,
                repository: package.repository.clone(),
                created_at,
                updated_at: package
                    .updated_at
                    .map_or(newest.max(created_at), |t| t.resolve(now)),
                deleted_at: package.deleted_at.map(|t| t.resolve(now)),
                docker_migration_conflict: package.docker_migration_conflict,
                versions,
                unlisted_manifests,
            });
        }
        Ok(Store {
            accounts,
            tokens,
            packages,
            repositories,
            changes: ChangeLog::default(),
            fixture_registry_failures,
            started_at: now,
            armed_world_changes: Vec::new(),
        })
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
        let index = self.packages.iter().position(|p| {
            !p.is_deleted()
                && p.versions
                    .iter()
                    .any(|v| v.id == version_id && !v.is_deleted())
        })?;
        let package = &mut self.packages[index];
        let version = package.versions.iter_mut().find(|v| v.id == version_id)?;
        version.deleted_at = Some(now);
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
            packages: self.packages.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_held_newest_first_and_times_resolve_against_the_start() {
        let now = Utc::now().trunc_subsecs(0);
        let store = Store::from_fixture(&Fixture::demo(), now).unwrap();
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
