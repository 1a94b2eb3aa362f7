//! What each of the nine actions does to the world, in every scope: lookups, visibility,
//! admin checks, GitHub's deletion rules and the 30-day restore window.
//!
//! Authentication, scopes, rate limits and the faults that refuse a request are settled before a
//! handler runs, and the faults that lose an answer act after it (see `server`); a handler only
//! reads and changes the [`Store`], and logs every change it applies there.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ghpkg_api::operations::{Action, OwnerFamily};
use ghpkg_api::types::{PackageType, PackageVisibility};
use serde::Serialize;

use crate::auth::{self, Access, Caller};
use crate::changes::Change;
use crate::error::{ApiError, messages};
use crate::pagination::PageRequest;
use crate::routes::{QueryParams, Route, purpose};
use crate::state::{Account, OwnerKind, Package as PackageRecord, Store, restorable};
use crate::wire::{self, Urls};

/// Everything a handler needs to know about the request.
pub(crate) struct ApiRequest<'a> {
    pub route: &'a Route,
    pub caller: Option<&'a Caller>,
    pub query: &'a QueryParams,
    /// The query string as it came, for `Link` URLs.
    pub raw_query: Option<&'a str>,
    /// The absolute request URL without query, for `Link` URLs.
    pub url: &'a str,
    pub urls: &'a Urls,
    pub now: DateTime<Utc>,
}

/// A successful answer.
#[derive(Debug)]
pub(crate) enum Reply {
    /// `200` with a JSON body and maybe a `Link` header.
    Json { body: Vec<u8>, link: Option<String> },
    /// `204`.
    NoContent,
}

pub(crate) fn json(value: &impl Serialize, link: Option<String>) -> Reply {
    Reply::Json {
        body: serde_json::to_vec(value).unwrap_or_default(),
        link,
    }
}

/// Runs the request's action against `store`.
pub(crate) fn handle(store: &mut Store, request: &ApiRequest<'_>) -> Result<Reply, ApiError> {
    let owner = request_owner(store, request)?;
    crate::world_change::before_operation(store, request, &owner.login);
    let handler = Handler::new(request, &owner);
    match request.route.action {
        Action::ListDockerConflicts => handler.list_conflicts(store),
        Action::ListPackages => handler.list_packages(store),
        Action::GetPackage => handler.get_package(store),
        Action::DeletePackage => handler.delete_package(store),
        Action::RestorePackage => handler.restore_package(store),
        Action::ListVersions => handler.list_versions(store),
        Action::GetVersion => handler.get_version(store),
        Action::DeleteVersion => handler.delete_version(store),
        Action::RestoreVersion => handler.restore_version(store),
    }
}

/// The package and version (positions in `store`) a delete-version request would delete, with
/// every check the delete makes, and changing nothing: the error it would answer otherwise.
pub(crate) fn version_to_delete(
    store: &Store,
    request: &ApiRequest<'_>,
) -> Result<(usize, usize), ApiError> {
    let owner = request_owner(store, request)?;
    Handler::new(request, &owner).deletable_version(store)
}

/// The account the request addresses, or GitHub's `404`.
fn request_owner(store: &Store, request: &ApiRequest<'_>) -> Result<Account, ApiError> {
    resolve_owner(store, request).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            messages::NOT_FOUND,
            request.route.operation.docs_url,
        )
    })
}

/// The account the route addresses: an organization for `/orgs`, the caller for `/user`, any
/// account for `/users`.
fn resolve_owner(store: &Store, request: &ApiRequest<'_>) -> Option<Account> {
    let account = match request.route.owner_family {
        OwnerFamily::AuthenticatedUser => store.account(&request.caller?.login)?,
        OwnerFamily::Org => store
            .account(request.route.owner.as_deref()?)
            .filter(|a| a.kind == OwnerKind::Organization)?,
        OwnerFamily::User => store.account(request.route.owner.as_deref()?)?,
    };
    Some(account.clone())
}

struct Handler<'a> {
    request: &'a ApiRequest<'a>,
    owner: &'a Account,
    access: Access,
    docs: &'a str,
}

const PACKAGE_TYPES: &str = "npm, maven, rubygems, docker, nuget, container";

impl<'a> Handler<'a> {
    fn new(request: &'a ApiRequest<'a>, owner: &'a Account) -> Self {
        Handler {
            request,
            owner,
            access: auth::access(owner, request.caller),
            docs: request.route.operation.docs_url,
        }
    }

    fn error(&self, status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::new(status, message, self.docs)
    }

    fn package_not_found(&self) -> ApiError {
        self.error(StatusCode::NOT_FOUND, messages::PACKAGE_NOT_FOUND)
    }

    fn version_not_found(&self) -> ApiError {
        self.error(StatusCode::NOT_FOUND, messages::VERSION_NOT_FOUND)
    }

    fn parse_package_type(&self, value: Option<&str>) -> Result<PackageType, ApiError> {
        let Some(value) = value else {
            return Err(self.error(
                StatusCode::BAD_REQUEST,
                format!("package_type is required. Valid values are {PACKAGE_TYPES}."),
            ));
        };
        value.parse().map_err(|_| {
            self.error(
                StatusCode::BAD_REQUEST,
                format!("Invalid package_type {value:?}. Valid values are {PACKAGE_TYPES}."),
            )
        })
    }

    /// The package type and name from the path.
    fn package_path(&self) -> Result<(PackageType, &str), ApiError> {
        let route = self.request.route;
        let package_type = self.parse_package_type(route.package_type.as_deref())?;
        Ok((
            package_type,
            route.package_name.as_deref().unwrap_or_default(),
        ))
    }

    fn version_id(&self) -> Result<i64, ApiError> {
        self.request
            .route
            .version_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| self.version_not_found())
    }

    /// The live package from the path, if the caller may see it.
    fn visible_package(&self, store: &Store) -> Result<usize, ApiError> {
        let (package_type, name) = self.package_path()?;
        let index = store
            .live_package(&self.owner.login, package_type, name)
            .ok_or_else(|| self.package_not_found())?;
        if !self.access.can_see(store.packages[index].visibility) {
            return Err(self.package_not_found());
        }
        Ok(index)
    }

    /// Deleting and restoring need the owner's admin role.
    fn require_admin(&self) -> Result<(), ApiError> {
        if self.access == Access::Admin {
            return Ok(());
        }
        let purpose = purpose(self.request.route.action);
        let message = match self.owner.kind {
            OwnerKind::Organization => format!(
                "You need admin permissions in the {} organization to {purpose}.",
                self.owner.login
            ),
            OwnerKind::User => format!("You need admin permissions on the package to {purpose}."),
        };
        Err(self.error(StatusCode::FORBIDDEN, message))
    }

    /// Logs the change just applied to package `index` (and version `version_id`).
    fn record_change(&self, store: &mut Store, index: usize, version_id: Option<i64>) {
        let package = &store.packages[index];
        let change = Change {
            at: self.request.now,
            operation_id: self.request.route.operation.id,
            owner: package.owner.clone(),
            package_type: package.package_type,
            package_name: package.name.clone(),
            version_id,
            actor: self
                .request
                .caller
                .map(|caller| caller.login.clone())
                .unwrap_or_default(),
        };
        store.record_change(change);
    }

    fn render_packages<'p>(
        &self,
        store: &Store,
        packages: impl Iterator<Item = &'p PackageRecord>,
    ) -> Vec<ghpkg_api::types::Package> {
        packages
            .map(|p| wire::package(store, self.owner, p, self.request.urls))
            .collect()
    }

    /// The owner's live packages the caller may see, by name.
    fn owned_packages<'s>(&self, store: &'s Store) -> Vec<&'s PackageRecord> {
        let mut packages: Vec<&PackageRecord> = store
            .packages
            .iter()
            .filter(|p| {
                p.owner.eq_ignore_ascii_case(&self.owner.login)
                    && !p.is_deleted()
                    && self.access.can_see(p.visibility)
            })
            .collect();
        packages.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        packages
    }

    fn list_conflicts(&self, store: &Store) -> Result<Reply, ApiError> {
        let conflicts = self
            .owned_packages(store)
            .into_iter()
            .filter(|p| p.docker_migration_conflict);
        Ok(json(&self.render_packages(store, conflicts), None))
    }

    fn list_packages(&self, store: &Store) -> Result<Reply, ApiError> {
        let query = self.request.query;
        let package_type = self.parse_package_type(query.get("package_type"))?;
        let visibility = match query.get("visibility") {
            None | Some("") => None,
            Some(value) => Some(value.parse::<PackageVisibility>().map_err(|_| {
                self.error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "Invalid visibility {value:?}. Valid values are public, private, internal."
                    ),
                )
            })?),
        };
        let page = PageRequest::from_query(query);
        if page.beyond_listing_limit() {
            return Err(self.error(StatusCode::BAD_REQUEST, messages::PAGE_LIMIT));
        }
        let packages: Vec<&PackageRecord> = self
            .owned_packages(store)
            .into_iter()
            .filter(|p| p.package_type == package_type)
            .filter(|p| visibility.is_none_or(|v| p.visibility == v))
            .collect();
        let link = page.link_header(packages.len(), self.request.url, self.request.raw_query);
        let body = self.render_packages(store, page.slice(&packages).iter().copied());
        Ok(json(&body, link))
    }

    fn get_package(&self, store: &Store) -> Result<Reply, ApiError> {
        let index = self.visible_package(store)?;
        let package = wire::package(store, self.owner, &store.packages[index], self.request.urls);
        Ok(json(&package, None))
    }

    fn delete_package(&self, store: &mut Store) -> Result<Reply, ApiError> {
        let index = self.visible_package(store)?;
        self.require_admin()?;
        let package = &mut store.packages[index];
        if package.visibility == PackageVisibility::Public
            && package.versions.iter().any(|v| v.downloads > 5_000)
        {
            return Err(self.error(StatusCode::BAD_REQUEST, messages::POPULAR_PACKAGE));
        }
        package.deleted_at = Some(self.request.now);
        self.record_change(store, index, None);
        Ok(Reply::NoContent)
    }

    fn restore_package(&self, store: &mut Store) -> Result<Reply, ApiError> {
        let (package_type, name) = self.package_path()?;
        let index = store
            .last_deleted_package(&self.owner.login, package_type, name)
            .ok_or_else(|| self.package_not_found())?;
        if !self.access.can_see(store.packages[index].visibility) {
            return Err(self.package_not_found());
        }
        self.require_admin()?;
        let deleted_at = store.packages[index].deleted_at.unwrap_or(self.request.now);
        if !restorable(deleted_at, self.request.now) {
            return Err(self.error(
                StatusCode::NOT_FOUND,
                format!(
                    "Package not found. {name} was deleted on {}, and deleted packages can only \
                     be restored within 30 days.",
                    deleted_at.format("%Y-%m-%d")
                ),
            ));
        }
        if store
            .live_package(&self.owner.login, package_type, name)
            .is_some()
        {
            return Err(self.error(
                StatusCode::BAD_REQUEST,
                format!(
                    "The {package_type} package name {name} is in use by a newer package. \
                     Delete that package first to restore this one."
                ),
            ));
        }
        store.packages[index].deleted_at = None;
        self.record_change(store, index, None);
        Ok(Reply::NoContent)
    }

    fn list_versions(&self, store: &Store) -> Result<Reply, ApiError> {
        let index = self.visible_package(store)?;
        let deleted = match self.request.query.get("state") {
            None | Some("") | Some("active") => false,
            Some("deleted") => true,
            Some(other) => {
                return Err(self.error(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid state {other:?}. Valid values are active, deleted."),
                ));
            }
        };
        let package = &store.packages[index];
        let now = self.request.now;
        let versions: Vec<_> = package
            .versions
            .iter()
            .filter(|v| match v.deleted_at {
                None => !deleted,
                Some(at) => deleted && restorable(at, now),
            })
            .collect();
        let page = PageRequest::from_query(self.request.query);
        let link = page.link_header(versions.len(), self.request.url, self.request.raw_query);
        let body: Vec<_> = page
            .slice(&versions)
            .iter()
            .map(|v| wire::version(self.owner, package, v, self.request.urls))
            .collect();
        Ok(json(&body, link))
    }

    fn get_version(&self, store: &Store) -> Result<Reply, ApiError> {
        let index = self.visible_package(store)?;
        let id = self.version_id()?;
        let package = &store.packages[index];
        let version = package
            .version(id)
            .filter(|v| {
                v.deleted_at
                    .is_none_or(|at| restorable(at, self.request.now))
            })
            .ok_or_else(|| self.version_not_found())?;
        Ok(json(
            &wire::version(self.owner, package, version, self.request.urls),
            None,
        ))
    }

    fn delete_version(&self, store: &mut Store) -> Result<Reply, ApiError> {
        let (index, position) = self.deletable_version(store)?;
        let package = &mut store.packages[index];
        let id = package.versions[position].id;
        package.versions[position].deleted_at = Some(self.request.now);
        self.record_change(store, index, Some(id));
        Ok(Reply::NoContent)
    }

    /// The package and version to delete, once GitHub's rules allow it.
    fn deletable_version(&self, store: &Store) -> Result<(usize, usize), ApiError> {
        let index = self.visible_package(store)?;
        self.require_admin()?;
        let id = self.version_id()?;
        let package = &store.packages[index];
        let position = package
            .position_of(id)
            .filter(|&p| !package.versions[p].is_deleted())
            .ok_or_else(|| self.version_not_found())?;
        let version = &package.versions[position];
        if package.visibility == PackageVisibility::Public && version.downloads > 5_000 {
            return Err(self.error(StatusCode::BAD_REQUEST, messages::POPULAR_VERSION));
        }
        let others = || package.active_versions().filter(|v| v.id != id);
        if package.package_type == PackageType::Container
            && !version.tags.is_empty()
            && others().all(|v| v.tags.is_empty())
        {
            return Err(self.error(StatusCode::BAD_REQUEST, messages::LAST_TAGGED_VERSION));
        }
        if others().next().is_none() {
            return Err(self.error(StatusCode::BAD_REQUEST, messages::LAST_VERSION));
        }
        Ok((index, position))
    }

    fn restore_version(&self, store: &mut Store) -> Result<Reply, ApiError> {
        let index = self.visible_package(store)?;
        self.require_admin()?;
        let id = self.version_id()?;
        let now = self.request.now;
        let package = &mut store.packages[index];
        let position = package
            .position_of(id)
            .ok_or_else(|| self.version_not_found())?;
        let version = &package.versions[position];
        let Some(deleted_at) = version.deleted_at else {
            return Err(self.error(
                StatusCode::NOT_FOUND,
                format!("Package version not found. Version {id} is not deleted."),
            ));
        };
        if !restorable(deleted_at, now) {
            return Err(self.error(
                StatusCode::NOT_FOUND,
                format!(
                    "Package version not found. Version {id} was deleted on {}, and deleted \
                     versions can only be restored within 30 days.",
                    deleted_at.format("%Y-%m-%d")
                ),
            ));
        }
        if package.active_versions().any(|v| v.same_name(version)) {
            return Err(self.error(
                StatusCode::BAD_REQUEST,
                format!(
                    "The version name {} is in use by a newer version of this package.",
                    version.name()
                ),
            ));
        }
        package.versions[position].deleted_at = None;
        self.record_change(store, index, Some(id));
        Ok(Reply::NoContent)
    }
}
