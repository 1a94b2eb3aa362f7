//! Package and version handles: what can be done to one package and its versions, whoever owns
//! it.

use std::sync::Arc;

use futures::FutureExt;
use futures::stream::Stream;
use ghpkg_api::Token;
use ghpkg_api::types::PackageVersionState;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::pagination::{self, FetchPage, Page, Paging, STREAM_PER_PAGE};
use crate::scope::{DEFAULT_PER_PAGE, Owner, Scope, check_page, check_per_page};
use crate::token_scopes::Operation;
use crate::types::{Package, PackageType, PackageVersion, VersionState};

/// Sends the one of three generated operations that `owner` picks — the organization's (given
/// `org`), the user's (given `username`) or the authenticated user's — after `$rest` adds the
/// parameters they share, through `Client::run` (where errors are mapped).
macro_rules! send_for_owner {
    ($client:expr, $operation:expr, $owner:expr,
     org: $org_op:ident, user: $user_op:ident, authenticated: $me_op:ident,
     |$request:ident| $rest:expr) => {{
        let api = $client.api();
        match $owner {
            Owner::Org(org) => {
                let $request = api.$org_op().org(org.as_str());
                $client.run($operation, $rest.send()).await
            }
            Owner::User(username) => {
                let $request = api.$user_op().username(username.as_str());
                $client.run($operation, $rest.send()).await
            }
            Owner::AuthenticatedUser => {
                let $request = api.$me_op();
                $client.run($operation, $rest.send()).await
            }
        }
    }};
}

/// One package of one owner. Get one from [`Scope::package`]; creating it sends nothing.
#[derive(Clone, Debug)]
pub struct PackageHandle {
    scope: Scope,
    package_type: PackageType,
    name: String,
}

/// The validated path of a package: what every generated operation on it needs.
struct Target<'a> {
    client: &'a Client,
    owner: &'a Owner,
    package_type: ghpkg_api::types::PackageType,
    name: &'a str,
}

impl PackageHandle {
    pub(crate) fn new(scope: Scope, package_type: PackageType, name: String) -> Self {
        Self {
            scope,
            package_type,
            name,
        }
    }

    /// The owner's scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The package type.
    pub fn package_type(&self) -> &PackageType {
        &self.package_type
    }

    /// The package name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks the owner, type and name before anything is sent.
    fn target(&self) -> Result<Target<'_>> {
        self.scope.owner().validate()?;
        let package_type = self.package_type.to_wire()?;
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input(
                "the package name is empty; pass the package's name, e.g. \"web/app\"",
            ));
        }
        Ok(Target {
            client: self.scope.client(),
            owner: self.scope.owner(),
            package_type,
            name: &self.name,
        })
    }

    /// Gets the package.
    pub async fn get(&self) -> Result<Package> {
        let Target {
            client,
            owner,
            package_type,
            name,
        } = self.target()?;
        let response = send_for_owner!(client, Operation::GetPackage, owner,
            org: packages_get_package_for_organization,
            user: packages_get_package_for_user,
            authenticated: packages_get_package_for_authenticated_user,
            |request| request.package_type(package_type).package_name(name))?;
        Ok(Package::from(response.into_inner()))
    }

    /// Deletes the whole package with all its versions. It can be restored for 30 days.
    pub async fn delete(&self) -> Result<()> {
        let Target {
            client,
            owner,
            package_type,
            name,
        } = self.target()?;
        send_for_owner!(client, Operation::DeletePackage, owner,
            org: packages_delete_package_for_org,
            user: packages_delete_package_for_user,
            authenticated: packages_delete_package_for_authenticated_user,
            |request| request.package_type(package_type).package_name(name))?;
        Ok(())
    }

    /// Restores the package, deleted within the last 30 days.
    pub async fn restore(&self) -> Result<()> {
        self.restore_inner(None).await
    }

    /// Restores the package, passing GitHub's optional package `token` query parameter. The
    /// token is redacted from `Debug` output and errors.
    pub async fn restore_with_token(&self, token: impl Into<Token>) -> Result<()> {
        self.restore_inner(Some(token.into())).await
    }

    async fn restore_inner(&self, token: Option<Token>) -> Result<()> {
        let Target {
            client,
            owner,
            package_type,
            name,
        } = self.target()?;
        let api = client.api();
        let operation = Operation::RestorePackage;
        let token = token.map(|token| token.expose_secret().to_string());
        macro_rules! restore {
            ($builder:expr) => {{
                let mut request = $builder.package_type(package_type).package_name(name);
                if let Some(token) = token {
                    request = request.token(token);
                }
                client.run(operation, request.send()).await
            }};
        }
        match owner {
            Owner::Org(org) => restore!(api.packages_restore_package_for_org().org(org.as_str())),
            Owner::User(username) => restore!(
                api.packages_restore_package_for_user()
                    .username(username.as_str())
            ),
            Owner::AuthenticatedUser => {
                restore!(api.packages_restore_package_for_authenticated_user())
            }
        }?;
        Ok(())
    }

    /// Lists the package's versions: one page with [`ListVersions::send`], or all with
    /// [`ListVersions::stream`].
    pub fn versions(&self) -> ListVersions {
        ListVersions {
            package: self.clone(),
            state: None,
            page: None,
            per_page: None,
            paging: None,
        }
    }

    /// A handle on version `id` of this package; sends nothing by itself.
    pub fn version(&self, id: i64) -> VersionHandle {
        VersionHandle {
            package: self.clone(),
            id,
        }
    }
}

/// Lists a package's versions. Optional filters and paging are set with builder methods;
/// [`send`](Self::send) fetches one page, [`stream`](Self::stream) every version.
#[derive(Clone, Debug)]
#[must_use = "a listing does nothing until sent or streamed"]
pub struct ListVersions {
    package: PackageHandle,
    state: Option<VersionState>,
    page: Option<u32>,
    per_page: Option<u32>,
    paging: Option<Paging>,
}

impl ListVersions {
    /// Only versions in this state (GitHub's default is active ones).
    pub fn state(mut self, state: VersionState) -> Self {
        self.state = Some(state);
        self
    }

    /// The page to fetch (from 1), or to start streaming at.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Versions per page, 1 to 100 (GitHub's default for one page is 30; streams use 100).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// How a stream walks the pages after the first (default: up to the client's
    /// concurrency at once).
    pub fn paging(mut self, paging: Paging) -> Self {
        self.paging = Some(paging);
        self
    }

    /// Streams by following `next` links one page at a time.
    pub fn sequential(self) -> Self {
        self.paging(Paging::Sequential)
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<PackageVersion>> {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        self.fetch(per_page).await
    }

    /// Streams every version from the starting page on, in order.
    pub fn stream(self) -> impl Stream<Item = Result<PackageVersion>> + Send + Unpin + 'static {
        let per_page = self.per_page.unwrap_or(STREAM_PER_PAGE);
        let client = self.package.scope.client().clone();
        let paging = self
            .paging
            .unwrap_or(Paging::Concurrent(client.concurrency()));
        let operation_id = list_versions_operation_id(self.package.scope.owner());
        let fetch: FetchPage<PackageVersion> = Arc::new(move |url: String| {
            let client = client.clone();
            async move {
                client
                    .run(
                        Operation::ListVersions,
                        client
                            .api()
                            .get_page::<Vec<PackageVersion>>(&url, operation_id),
                    )
                    .await
                    .map(Page::from_response)
            }
            .boxed()
        });
        let first = self.fetch(per_page).boxed();
        pagination::items(pagination::pages(first, fetch, paging))
    }

    /// Validates and fetches the configured page with `per_page` items.
    async fn fetch(self, per_page: u32) -> Result<Page<PackageVersion>> {
        let Target {
            client,
            owner,
            package_type,
            name,
        } = self.package.target()?;
        check_per_page(per_page)?;
        if let Some(page) = self.page {
            check_page(page)?;
        }
        let state = self.state.as_ref().map(VersionState::to_wire).transpose()?;
        if matches!(owner, Owner::User(_)) && state == Some(PackageVersionState::Deleted) {
            return Err(Error::invalid_input(
                "GitHub's user-scope version listing has no state filter, so deleted versions \
                 cannot be listed there; list them through client.authenticated_user() as the \
                 package's owner",
            ));
        }
        let api = client.api();
        let operation = Operation::ListVersions;
        macro_rules! list {
            ($builder:expr) => {{
                let mut request = $builder
                    .package_type(package_type)
                    .package_name(name)
                    .per_page(per_page);
                if let Some(page) = self.page {
                    request = request.page(page);
                }
                if let Some(state) = state {
                    request = request.state(state);
                }
                client.run(operation, request.send()).await
            }};
        }
        let response = match owner {
            Owner::Org(org) => list!(
                api.packages_get_all_package_versions_for_package_owned_by_org()
                    .org(org.as_str())
            ),
            // No `state` parameter here: active versions, GitHub's default, are all it lists.
            Owner::User(username) => {
                let mut request = api
                    .packages_get_all_package_versions_for_package_owned_by_user()
                    .username(username.as_str())
                    .package_type(package_type)
                    .package_name(name)
                    .per_page(per_page);
                if let Some(page) = self.page {
                    request = request.page(page);
                }
                client.run(operation, request.send()).await
            }
            Owner::AuthenticatedUser => list!(
                api.packages_get_all_package_versions_for_package_owned_by_authenticated_user()
            ),
        }?;
        Ok(Page::from_response(response))
    }
}

/// The generated operation id of "list package versions" for `owner`, given to the transport
/// when following `Link` URLs.
fn list_versions_operation_id(owner: &Owner) -> &'static str {
    match owner {
        Owner::Org(_) => "packages_get_all_package_versions_for_package_owned_by_org",
        Owner::User(_) => "packages_get_all_package_versions_for_package_owned_by_user",
        Owner::AuthenticatedUser => {
            "packages_get_all_package_versions_for_package_owned_by_authenticated_user"
        }
    }
}

/// One version of one package. Get one from [`PackageHandle::version`]; creating it sends
/// nothing.
#[derive(Clone, Debug)]
pub struct VersionHandle {
    package: PackageHandle,
    id: i64,
}

impl VersionHandle {
    /// The package this version belongs to.
    pub fn package(&self) -> &PackageHandle {
        &self.package
    }

    /// The version id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Checks the package path and the id before anything is sent.
    fn target(&self) -> Result<(Target<'_>, i64)> {
        let target = self.package.target()?;
        if self.id <= 0 {
            return Err(Error::invalid_input(format!(
                "package version ids are positive, got {}; take ids from a version listing",
                self.id
            )));
        }
        Ok((target, self.id))
    }

    /// Gets the version.
    pub async fn get(&self) -> Result<PackageVersion> {
        let (
            Target {
                client,
                owner,
                package_type,
                name,
            },
            id,
        ) = self.target()?;
        let response = send_for_owner!(client, Operation::GetVersion, owner,
            org: packages_get_package_version_for_organization,
            user: packages_get_package_version_for_user,
            authenticated: packages_get_package_version_for_authenticated_user,
            |request| request
                .package_type(package_type)
                .package_name(name)
                .package_version_id(id))?;
        Ok(PackageVersion::from(response.into_inner()))
    }

    /// Deletes the version. It can be restored for 30 days.
    pub async fn delete(&self) -> Result<()> {
        let (
            Target {
                client,
                owner,
                package_type,
                name,
            },
            id,
        ) = self.target()?;
        send_for_owner!(client, Operation::DeleteVersion, owner,
            org: packages_delete_package_version_for_org,
            user: packages_delete_package_version_for_user,
            authenticated: packages_delete_package_version_for_authenticated_user,
            |request| request
                .package_type(package_type)
                .package_name(name)
                .package_version_id(id))?;
        Ok(())
    }

    /// Restores the version, deleted within the last 30 days.
    pub async fn restore(&self) -> Result<()> {
        let (
            Target {
                client,
                owner,
                package_type,
                name,
            },
            id,
        ) = self.target()?;
        send_for_owner!(client, Operation::RestoreVersion, owner,
            org: packages_restore_package_version_for_org,
            user: packages_restore_package_version_for_user,
            authenticated: packages_restore_package_version_for_authenticated_user,
            |request| request
                .package_type(package_type)
                .package_name(name)
                .package_version_id(id))?;
        Ok(())
    }
}
