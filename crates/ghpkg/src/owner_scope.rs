//! Owner scopes: one [`Scope`] over the three families of operations (organization, user,
//! authenticated user), and the package listing builder.

use futures::FutureExt;
use futures::stream::Stream;
use ghpkg_api::operations::Action;

use crate::client::{Client, Resource};
use crate::error::{Error, Result};
use crate::owner::Owner;
use crate::pagination::{self, Page, Paging, STREAM_PER_PAGE};
use crate::types::{Package, PackageType, Visibility};

/// GitHub's page size limit.
pub(crate) const MAX_PER_PAGE: u32 = 100;

/// GitHub's page size when none is given.
pub(crate) const DEFAULT_PER_PAGE: u32 = 30;

/// How far package listings reach: GitHub refuses `page × per_page` beyond this.
pub(crate) const MAX_PACKAGE_LIST_RESULTS: u64 = 10_000;

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

impl Client {
    /// The packages of organization `org`.
    pub fn org(&self, org: impl Into<String>) -> Scope {
        self.scope(Owner::Org(org.into()))
    }

    /// The packages of user `username`.
    pub fn user(&self, username: impl Into<String>) -> Scope {
        self.scope(Owner::User(username.into()))
    }

    /// The packages of the user the token belongs to.
    pub fn authenticated_user(&self) -> Scope {
        self.scope(Owner::AuthenticatedUser(None))
    }

    /// The packages of `owner`.
    pub fn scope(&self, owner: Owner) -> Scope {
        Scope {
            client: self.clone(),
            owner,
        }
    }
}

/// The packages of one owner. Get one from [`Client::org`], [`Client::user`] or
/// [`Client::authenticated_user`]; every method works the same in all three.
#[derive(Clone, Debug)]
pub struct Scope {
    client: Client,
    owner: Owner,
}

impl Scope {
    /// Whose packages these are.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The client this scope sends through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The resource that addresses this owner alone.
    pub(crate) fn resource(&self) -> Resource<'_> {
        Resource {
            owner: &self.owner,
            package: None,
            version: None,
        }
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

    /// The packages that conflicted during the Docker-to-Container-registry migration.
    pub async fn docker_conflicts(&self) -> Result<Vec<Package>> {
        let response = self
            .client
            .call::<Vec<Package>>(Action::ListDockerConflicts, self.resource(), &[])
            .await?;
        Ok(response.into_inner())
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

    /// How a stream walks the pages after the first (default: the client's concurrency).
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
        let client = self.scope.client.clone();
        let owner = self.scope.owner.clone();
        let paging = self.paging;
        let first = self.fetch(per_page).boxed();
        pagination::listing(client, owner, Action::ListPackages, first, per_page, paging)
    }

    /// Validates and fetches the configured page with `per_page` items.
    async fn fetch(self, per_page: u32) -> Result<Page<Package>> {
        check_per_page(per_page)?;
        let page = self.page.unwrap_or(1);
        check_page(page)?;
        if u64::from(page) * u64::from(per_page) > MAX_PACKAGE_LIST_RESULTS {
            return Err(Error::invalid_input(format!(
                "GitHub lists at most {MAX_PACKAGE_LIST_RESULTS} packages: page {page} × \
                 per_page {per_page} is beyond that; filter by visibility or package type instead"
            )));
        }
        self.package_type.to_wire()?;
        if let Some(visibility) = &self.visibility {
            visibility.to_wire()?;
        }
        let per_page_text = per_page.to_string();
        let page_text = page.to_string();
        let mut query = vec![
            ("package_type", self.package_type.as_str()),
            ("per_page", per_page_text.as_str()),
        ];
        if self.page.is_some() {
            query.push(("page", page_text.as_str()));
        }
        if let Some(visibility) = &self.visibility {
            query.push(("visibility", visibility.as_str()));
        }
        let response = self
            .scope
            .client
            .call::<Vec<Package>>(Action::ListPackages, self.scope.resource(), &query)
            .await?;
        Ok(Page::from_response(response))
    }
}
