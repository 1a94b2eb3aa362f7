//! Gathering what the retention engine needs: the target, the packages a selector names, and
//! each package's versions as facts.

use futures::{TryFutureExt, TryStreamExt};
use ghpkg_retention::{PackageFacts, Target, VersionFacts};
use globset::{Glob, GlobSetBuilder};

use crate::error::{Error, Result};
use crate::names::{self, NameKind};
use crate::owner::Owner;
use crate::owner_scope::Scope;
use crate::package::PackageHandle;
use crate::types::{PackageType, PackageVersion};

/// Whether a selector is a glob rather than a name.
fn is_glob(selector: &str) -> bool {
    selector.contains(['*', '?', '[', '{'])
}

impl Scope {
    /// The retention target for this owner's packages of `package_type`. `login` names the
    /// authenticated user when known.
    pub fn target(&self, package_type: &PackageType, login: Option<&str>) -> Target {
        Target {
            host: self.client().host(),
            owner: match self.owner() {
                Owner::AuthenticatedUser(_) => Owner::AuthenticatedUser(login.map(str::to_string)),
                owner => owner.clone(),
            },
            package_type: package_type.as_str().to_string(),
        }
    }

    /// The names of this owner's packages of `package_type` that `selectors` name: each a
    /// package name, or a glob (`web/*`, `{api,web}`) matched against every package listed.
    /// Names are checked against the name rules; listing (only for globs) needs a token that
    /// may list the owner's packages. Sorted and without duplicates.
    pub async fn resolve_packages(
        &self,
        package_type: &PackageType,
        selectors: &[String],
    ) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        let mut globs = GlobSetBuilder::new();
        let mut any_glob = false;
        for selector in selectors {
            if is_glob(selector) {
                let glob = Glob::new(selector).map_err(|error| {
                    Error::invalid_input(format!(
                        "the package pattern {} is not a glob: {error}",
                        names::shown(selector)
                    ))
                })?;
                globs.add(glob);
                any_glob = true;
            } else {
                names::check_package(package_type, selector)
                    .map_err(|problem| Error::invalid_name(NameKind::Package, selector, problem))?;
                names.push(selector.clone());
            }
        }
        if any_glob {
            let globs = globs
                .build()
                .map_err(|error| Error::invalid_input(format!("the package patterns: {error}")))?;
            let listed: Vec<String> = self
                .packages(package_type.clone())
                .stream()
                .map_ok(|package| package.name().to_string())
                .try_collect()
                .await?;
            names.extend(listed.into_iter().filter(|name| globs.is_match(name)));
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// What planning reports as it reads a package, for progress bars: counts so far, never the
/// data itself. Given to [`PackageHandle::facts_for_plan`] (and [`PackageHandle::facts_reporting`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanningEvent<'a> {
    /// GitHub's count of the package's versions, read beside the listing's first page (again
    /// each time the package is listed again).
    Counted {
        /// The package.
        package: &'a str,
        /// Its versions, as GitHub counts them.
        versions: u64,
    },
    /// Pages of the versions listing arrived: `pages` so far in this listing, holding
    /// `versions` versions.
    Listed {
        /// The package.
        package: &'a str,
        /// Pages so far.
        pages: u64,
        /// Versions so far.
        versions: u64,
    },
    /// Manifests of the image graph read: `read` so far, of the `known` digests so far (every
    /// version's, and each index entry that is not a version, as it is found).
    ManifestsRead {
        /// The package.
        package: &'a str,
        /// Manifests read (from the cache or the registry), or found unreadable.
        read: u64,
        /// Manifests known to be needed so far.
        known: u64,
    },
}

/// A progress callback that ignores every event.
pub(crate) fn no_progress(_: PlanningEvent<'_>) {}

/// How many times a package is listed before a listing that keeps disagreeing with GitHub's
/// count of its versions is given up on.
const LISTING_ATTEMPTS: usize = 3;

impl PackageHandle {
    /// Every active version of the package, as the engine's facts (no image graph: reading
    /// manifests is the registry's part).
    ///
    /// The listing is offset-paginated, so a version deleted or pushed while it is read
    /// shifts the pages and one may be missed or seen twice. So the package's
    /// `version_count` is read alongside the first page and again after the last, and the
    /// listing is trusted only when both agree with the number of distinct versions listed;
    /// otherwise it is listed again, up to three times, and then
    /// [`PackageFacts::incomplete_listing`] says why (the engine deletes nothing in it).
    pub async fn facts(&self) -> Result<PackageFacts> {
        self.facts_reporting(&no_progress).await
    }

    /// [`facts`](Self::facts), reporting the count and the pages listed to `on_event`.
    pub async fn facts_reporting(
        &self,
        on_event: &(dyn Fn(PlanningEvent<'_>) + Send + Sync),
    ) -> Result<PackageFacts> {
        let package = self.name();
        let mut disagreement = String::new();
        let mut versions = Vec::new();
        for _ in 0..LISTING_ATTEMPTS {
            let per_page = u64::from(crate::pagination::STREAM_PER_PAGE);
            let mut items: u64 = 0;
            let listing = self
                .versions()
                .stream()
                .inspect_ok(|_| {
                    items += 1;
                    if items.is_multiple_of(per_page) {
                        on_event(PlanningEvent::Listed {
                            package,
                            pages: items / per_page,
                            versions: items,
                        });
                    }
                })
                .try_collect::<Vec<PackageVersion>>();
            let count = self.get().inspect_ok(|listed| {
                on_event(PlanningEvent::Counted {
                    package,
                    versions: listed.version_count(),
                })
            });
            let (before, listed) = futures::join!(count, listing);
            if let Ok(listed) = &listed
                && !(listed.len() as u64).is_multiple_of(per_page)
            {
                on_event(PlanningEvent::Listed {
                    package,
                    pages: (listed.len() as u64).div_ceil(per_page),
                    versions: listed.len() as u64,
                });
            }
            let (before, listed) = (before?.version_count(), listed?);
            let after = self.get().await?.version_count();
            versions = Vec::with_capacity(listed.len());
            let mut seen = std::collections::HashSet::with_capacity(listed.len());
            for version in &listed {
                let facts = version_facts(version);
                if seen.insert(facts.id) {
                    versions.push(facts);
                }
            }
            let distinct = versions.len() as u64;
            if before == after && after == distinct && listed.len() == versions.len() {
                return Ok(PackageFacts {
                    name: self.name().to_string(),
                    versions,
                    graph: None,
                    incomplete_listing: None,
                });
            }
            disagreement = format!(
                "GitHub counted {before} versions before the listing and {after} after it, and \
                 the listing held {} ({distinct} distinct); the versions changed while they \
                 were listed",
                listed.len()
            );
        }
        Ok(PackageFacts {
            name: self.name().to_string(),
            versions,
            graph: None,
            incomplete_listing: Some(format!(
                "{disagreement} ({LISTING_ATTEMPTS} listings); run again when nothing else \
                 is changing the package"
            )),
        })
    }
}

/// One listed version as facts.
pub(crate) fn version_facts(version: &PackageVersion) -> VersionFacts {
    VersionFacts {
        id: version.id(),
        name: version.name().to_string(),
        tags: version.tags().to_vec(),
        created_at: version.created_at(),
        updated_at: version.updated_at(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_told_from_names() {
        assert!(is_glob("web/*"));
        assert!(is_glob("{api,web}"));
        assert!(!is_glob("web/app"));
    }
}
