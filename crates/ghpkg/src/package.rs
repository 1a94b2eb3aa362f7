//! Package handles: what can be done to one package and its versions, whoever owns it.
//!
//! [`PackageHandle`]'s methods are defined by the layer that gives them, so that no two
//! modules import each other (a test checks it): here, the package's own operations and its
//! version listing; `version.rs`, [`PackageHandle::version`]; `bulk.rs`,
//! [`PackageHandle::delete_versions`] and [`PackageHandle::restore_versions`]; `facts.rs`,
//! [`PackageHandle::facts`] and [`PackageHandle::facts_reporting`]; `registry/graph.rs`,
//! [`PackageHandle::facts_with_graph`] and [`PackageHandle::facts_for_plan`];
//! `registry/verify.rs`, [`PackageHandle::verify`]. Each of those modules builds on this one.

use futures::FutureExt;
use futures::stream::Stream;
use ghpkg_api::Token;
use ghpkg_api::operations::Action;

use crate::checkpoint::ListingCheckpoints;
use crate::client::Resource;
use crate::error::{Error, Result};
use crate::owner::Owner;
use crate::owner_scope::{DEFAULT_PER_PAGE, Scope, check_page, check_per_page};
use crate::pagination::{self, Page, Paging, STREAM_PER_PAGE};
use crate::types::{Package, PackageType, PackageVersion, VersionState};

impl Scope {
    /// A handle on this owner's package `name` of `package_type`; sends nothing by itself.
    pub fn package(&self, package_type: PackageType, name: impl Into<String>) -> PackageHandle {
        PackageHandle {
            scope: self.clone(),
            package_type,
            name: name.into(),
            checkpoints: None,
        }
    }
}

/// One package of one owner. Get one from [`Scope::package`]; creating it sends nothing.
///
/// Its methods: get, delete, restore and list versions ([`PackageHandle::versions`]); one
/// version ([`PackageHandle::version`]); bulk work ([`PackageHandle::delete_versions`],
/// [`PackageHandle::restore_versions`]); the engine's facts ([`PackageHandle::facts`],
/// [`PackageHandle::facts_for_plan`]); and [`PackageHandle::verify`]. Each is defined in the
/// module of its layer (see the module docs).
#[derive(Clone, Debug)]
pub struct PackageHandle {
    scope: Scope,
    package_type: PackageType,
    name: String,
    checkpoints: Option<ListingCheckpoints>,
}

impl PackageHandle {
    /// This handle, saving the pages of its facts' version listings in `checkpoints` as they
    /// arrive, so that a listing that fails late resumes where it stopped
    /// ([`PackageHandle::facts`] explains the checks a resumed listing passes).
    pub fn with_checkpoints(mut self, checkpoints: ListingCheckpoints) -> Self {
        self.checkpoints = Some(checkpoints);
        self
    }

    /// Where its facts' listings keep checkpoints, if anywhere.
    pub fn checkpoints(&self) -> Option<&ListingCheckpoints> {
        self.checkpoints.as_ref()
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

    /// The resource that addresses this package (and version `version`, if given).
    pub(crate) fn resource(&self, version: Option<u64>) -> Resource<'_> {
        Resource {
            owner: self.scope.owner(),
            package: Some((&self.package_type, &self.name)),
            version,
        }
    }

    /// Gets the package.
    pub async fn get(&self) -> Result<Package> {
        let response = self
            .scope
            .client()
            .call::<Package>(Action::GetPackage, self.resource(None), &[])
            .await?;
        Ok(response.into_inner())
    }

    /// Deletes the whole package with all its versions. It can be restored for 30 days.
    pub async fn delete(&self) -> Result<()> {
        self.scope
            .client()
            .call::<()>(Action::DeletePackage, self.resource(None), &[])
            .await?;
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
        let query: Vec<(&str, &str)> = token
            .as_ref()
            .map(|token| ("token", token.expose_secret()))
            .into_iter()
            .collect();
        self.scope
            .client()
            .call::<()>(Action::RestorePackage, self.resource(None), &query)
            .await?;
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
    pub async fn send(self) -> Result<Page<PackageVersion>> {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        self.fetch(per_page).await
    }

    /// Streams every version from the starting page on, in order.
    pub fn stream(self) -> impl Stream<Item = Result<PackageVersion>> + Send + Unpin + 'static {
        let per_page = self.per_page.unwrap_or(STREAM_PER_PAGE);
        let client = self.package.scope.client().clone();
        let owner = self.package.scope.owner().clone();
        let paging = self.paging;
        let first = self.fetch(per_page).boxed();
        pagination::listing(client, owner, Action::ListVersions, first, per_page, paging)
    }

    /// Validates and fetches the configured page with `per_page` items.
    async fn fetch(self, per_page: u32) -> Result<Page<PackageVersion>> {
        check_per_page(per_page)?;
        if let Some(page) = self.page {
            check_page(page)?;
        }
        if let Some(state) = &self.state {
            state.to_wire()?;
        }
        if matches!(self.package.scope.owner(), Owner::User(_))
            && self.state == Some(VersionState::Deleted)
        {
            return Err(Error::invalid_input(
                "GitHub's user-scope version listing has no state filter, so deleted versions \
                 cannot be listed there; list them through client.authenticated_user() as the \
                 package's owner",
            ));
        }
        let per_page_text = per_page.to_string();
        let page_text = self.page.map(|page| page.to_string());
        let mut query = vec![("per_page", per_page_text.as_str())];
        if let Some(page) = &page_text {
            query.push(("page", page.as_str()));
        }
        // GitHub's user-scope listing has no `state` parameter: active versions are all it lists.
        if let Some(state) = &self.state
            && !matches!(self.package.scope.owner(), Owner::User(_))
        {
            query.push(("state", state.as_str()));
        }
        let response = self
            .package
            .scope
            .client()
            .call::<Vec<PackageVersion>>(Action::ListVersions, self.package.resource(None), &query)
            .await?;
        Ok(Page::from_response(response))
    }
}
