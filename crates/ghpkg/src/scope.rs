//! Owner scopes: one [`Scope`] type over the three families of operations (organization, user,
//! authenticated user), and the package listing builder.

use std::fmt;

use futures::FutureExt;
use futures::stream::Stream;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::package::PackageHandle;
use crate::pagination::{self, FetchPage, Page, Paging, STREAM_PER_PAGE};
use crate::token_scopes::Operation;
use crate::types::{Package, PackageType, Visibility};

/// GitHub's page size limit.
pub(crate) const MAX_PER_PAGE: u32 = 100;

/// GitHub's page size when none is given.
pub(crate) const DEFAULT_PER_PAGE: u32 = 30;

/// How far package listings reach: GitHub refuses `page × per_page` beyond this.
pub(crate) const MAX_PACKAGE_LIST_RESULTS: u64 = 10_000;

/// Whose packages: an organization, a user, or the user the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// An organization, by login.
    Org(String),
    /// A user, by login.
    User(String),
    /// The user the token belongs to (`/user/...`).
    AuthenticatedUser,
}

impl Owner {
    /// Fails with [`Error::InvalidInput`] for an empty login.
    pub(crate) fn validate(&self) -> Result<()> {
        let (what, login) = match self {
            Owner::Org(login) => ("organization", login),
            Owner::User(login) => ("user", login),
            Owner::AuthenticatedUser => return Ok(()),
        };
        if login.trim().is_empty() {
            return Err(Error::invalid_input(format!(
                "the {what} name is empty; pass the owner's login, e.g. \"acme\""
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Org(login) => write!(f, "organization {login}"),
            Owner::User(login) => write!(f, "user {login}"),
            Owner::AuthenticatedUser => f.write_str("the authenticated user"),
        }
    }
}

/// Checks a page size.
pub(crate) fn check_per_page(per_page: u32) -> Result<()> {
    if (1..=MAX_PER_PAGE).contains(&per_page) {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}"
    )))
}

/// Checks a page number.
pub(crate) fn check_page(page: u32) -> Result<()> {
    if page >= 1 {
        return Ok(());
    }
    Err(Error::invalid_input(
        "page numbers start at 1, got 0; omit page for the first page",
    ))
}

/// The packages of one owner. Get one from [`Client::org`], [`Client::user`] or
/// [`Client::authenticated_user`]; every method works the same in all three.
#[derive(Clone, Debug)]
pub struct Scope {
    client: Client,
    owner: Owner,
}

impl Scope {
    pub(crate) fn new(client: Client, owner: Owner) -> Self {
        Self { client, owner }
    }

    /// Whose packages these are.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The client this scope sends through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Lists this owner's packages of `package_type`: one page with
    /// [`ListPackages::send`], or all of them with [`ListPackages::stream`].
    pub fn packages(&self, package_type: PackageType) -> ListPackages {
        ListPackages {
            scope: self.clone(),
            package_type,
            visibility: None,
            page: None,
            per_page: None,
            paging: None,
        }
    }

    /// A handle on this owner's package `name` of `package_type`; sends nothing by itself.
    pub fn package(&self, package_type: PackageType, name: impl Into<String>) -> PackageHandle {
        PackageHandle::new(self.clone(), package_type, name.into())
    }

    /// The packages that conflicted during the Docker-to-Container-registry migration.
    pub async fn docker_conflicts(&self) -> Result<Vec<Package>> {
        self.owner.validate()?;
        let api = self.client.api();
        let operation = Operation::DockerConflicts;
        let response = match &self.owner {
            Owner::Org(org) => {
                let request = api
                    .packages_list_docker_migration_conflicting_packages_for_organization()
                    .org(org.as_str());
                self.client.run(operation, request.send()).await
            }
            Owner::User(username) => {
                let request = api
                    .packages_list_docker_migration_conflicting_packages_for_user()
                    .username(username.as_str());
                self.client.run(operation, request.send()).await
            }
            Owner::AuthenticatedUser => {
                let request = api
                    .packages_list_docker_migration_conflicting_packages_for_authenticated_user();
                self.client.run(operation, request.send()).await
            }
        }?;
        Ok(response
            .into_inner()
            .into_iter()
            .map(Package::from)
            .collect())
    }
}

/// Lists an owner's packages of one type. Optional filters and paging are set with builder
/// methods; [`send`](Self::send) fetches one page, [`stream`](Self::stream) every package.
#[derive(Clone, Debug)]
#[must_use = "a listing does nothing until sent or streamed"]
pub struct ListPackages {
    scope: Scope,
    package_type: PackageType,
    visibility: Option<Visibility>,
    page: Option<u32>,
    per_page: Option<u32>,
    paging: Option<Paging>,
}

impl ListPackages {
    /// Only packages with this visibility.
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// The page to fetch (from 1), or to start streaming at.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Packages per page, 1 to 100 (GitHub's default for one page is 30; streams use 100).
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
    pub async fn send(self) -> Result<Page<Package>> {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        self.fetch(per_page).await
    }

    /// Streams every package from the starting page on, in order.
    pub fn stream(self) -> impl Stream<Item = Result<Package>> + Send + Unpin + 'static {
        let per_page = self.per_page.unwrap_or(STREAM_PER_PAGE);
        let paging = self
            .paging
            .unwrap_or(Paging::Concurrent(self.scope.client.concurrency()));
        let client = self.scope.client.clone();
        let operation_id = list_packages_operation_id(&self.scope.owner);
        let fetch: FetchPage<Package> = std::sync::Arc::new(move |url: String| {
            let client = client.clone();
            async move {
                client
                    .run(
                        Operation::ListPackages,
                        client.api().get_page::<Vec<Package>>(&url, operation_id),
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
    async fn fetch(self, per_page: u32) -> Result<Page<Package>> {
        self.scope.owner.validate()?;
        check_per_page(per_page)?;
        let page = self.page.unwrap_or(1);
        check_page(page)?;
        if u64::from(page) * u64::from(per_page) > MAX_PACKAGE_LIST_RESULTS {
            return Err(Error::invalid_input(format!(
                "GitHub lists at most {MAX_PACKAGE_LIST_RESULTS} packages: page {page} × \
                 per_page {per_page} is beyond that; filter by visibility or package type instead"
            )));
        }
        let package_type = self.package_type.to_wire()?;
        let visibility = self
            .visibility
            .as_ref()
            .map(Visibility::to_wire)
            .transpose()?;
        let client = &self.scope.client;
        let api = client.api();
        let operation = Operation::ListPackages;
        macro_rules! list {
            ($builder:expr) => {{
                let mut request = $builder.package_type(package_type).per_page(per_page);
                if let Some(page) = self.page {
                    request = request.page(page);
                }
                if let Some(visibility) = visibility {
                    request = request.visibility(visibility);
                }
                client.run(operation, request.send()).await
            }};
        }
        let response = match &self.scope.owner {
            Owner::Org(org) => list!(
                api.packages_list_packages_for_organization()
                    .org(org.as_str())
            ),
            Owner::User(username) => {
                list!(
                    api.packages_list_packages_for_user()
                        .username(username.as_str())
                )
            }
            Owner::AuthenticatedUser => {
                list!(api.packages_list_packages_for_authenticated_user())
            }
        }?;
        Ok(Page::from_response(response))
    }
}

/// The generated operation id of "list packages" for `owner`, given to the transport when
/// following `Link` URLs.
fn list_packages_operation_id(owner: &Owner) -> &'static str {
    match owner {
        Owner::Org(_) => "packages_list_packages_for_organization",
        Owner::User(_) => "packages_list_packages_for_user",
        Owner::AuthenticatedUser => "packages_list_packages_for_authenticated_user",
    }
}
