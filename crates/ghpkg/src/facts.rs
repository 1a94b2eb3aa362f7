//! Gathering what the retention engine needs: the target, the packages a selector names, and
//! each package's versions as facts.

use futures::TryStreamExt;
use ghpkg_retention::{PackageFacts, Target, VersionFacts};
use globset::{Glob, GlobSetBuilder};

use crate::checkpoint::ListingKey;
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
    /// GitHub's count of the package's versions, read just before the listing's first page
    /// (again each time the package is listed again).
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
    /// The listing resumed from a checkpoint: `pages` pages holding `versions` versions came
    /// from it, and the listing goes on from the next.
    Resumed {
        /// The package.
        package: &'a str,
        /// Pages taken from the checkpoint.
        pages: u64,
        /// The versions they hold.
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
    /// `version_count` is read before the first page and again after the last, and the
    /// listing is trusted only when both agree with the number of distinct versions listed;
    /// otherwise it is listed again, up to three times, and then
    /// [`PackageFacts::incomplete_listing`] says why (the engine deletes nothing in it).
    ///
    /// With [`checkpoints`](PackageHandle::with_checkpoints), each full page is saved as it
    /// arrives; a listing that failed (after the retries) resumes from its last saved page,
    /// which must come back with the same versions (else the package is listed afresh), and is
    /// held to the same count check.
    pub async fn facts(&self) -> Result<PackageFacts> {
        self.facts_reporting(&no_progress).await
    }

    /// [`facts`](Self::facts), reporting the count and the pages listed to `on_event`.
    pub async fn facts_reporting(
        &self,
        on_event: &(dyn Fn(PlanningEvent<'_>) + Send + Sync),
    ) -> Result<PackageFacts> {
        let mut disagreement = String::new();
        let mut versions = Vec::new();
        for attempt in 0..LISTING_ATTEMPTS {
            // Only the first listing resumes: a listing again is because the last disagreed.
            let listing = self.list_once(attempt == 0, on_event).await?;
            let distinct = listing.versions.len() as u64;
            if listing.before == listing.after
                && listing.after == distinct
                && listing.duplicates == 0
            {
                return Ok(PackageFacts {
                    name: self.name().to_string(),
                    versions: listing.versions,
                    graph: None,
                    incomplete_listing: None,
                });
            }
            if let Some(overlap) = listing.overlap_changed {
                disagreement = format!(
                    "the listing resumed at page {overlap}, which no longer held the versions it \
                     held before"
                );
            } else {
                disagreement = format!(
                    "GitHub counted {} versions before the listing and {} after it, and the \
                     listing held {} ({distinct} distinct); the versions changed while they were \
                     listed",
                    listing.before,
                    listing.after,
                    distinct + listing.duplicates
                );
            }
            versions = listing.versions;
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

    /// Lists the versions once, from the checkpoint's last page when `resume` and there is one.
    async fn list_once(
        &self,
        resume: bool,
        on_event: &(dyn Fn(PlanningEvent<'_>) + Send + Sync),
    ) -> Result<Listing> {
        let package = self.name();
        let per_page = crate::pagination::STREAM_PER_PAGE;
        let now = chrono::Utc::now();
        let key = ListingKey {
            api: self.scope().client().base_url().to_string(),
            owner: self.scope().owner().to_string(),
            package_type: self.package_type().as_str().to_string(),
            package: package.to_string(),
            per_page,
        };
        let saved = match (resume, self.checkpoints()) {
            (true, Some(checkpoints)) => checkpoints.load(&key, now),
            _ => None,
        };
        // Resuming at page K keeps pages 1..K-1 and lists K again, to check the overlap.
        let (started_at, mut kept, overlap) = match saved {
            Some(saved) => {
                let mut pages = saved.pages;
                let overlap = pages.pop().expect("a checkpoint has two pages or more");
                (saved.started_at, pages, Some(overlap))
            }
            None => (now, Vec::new(), None),
        };
        let first_page = kept.len() as u32 + 1;
        let mut writer = self
            .checkpoints()
            .map(|checkpoints| checkpoints.writer(&key, started_at, &kept));
        let kept_versions: usize = kept.iter().map(Vec::len).sum();
        if !kept.is_empty() {
            on_event(PlanningEvent::Resumed {
                package,
                pages: kept.len() as u64,
                versions: kept_versions as u64,
            });
        }

        let listing = async {
            let mut stream = self.versions().page(first_page).stream();
            let mut listed: Vec<VersionFacts> = kept.drain(..).flatten().collect();
            let mut page = Vec::with_capacity(per_page as usize);
            let mut pages = u64::from(first_page) - 1;
            let mut overlap_changed = None;
            let report = |pages: u64, versions: usize| {
                on_event(PlanningEvent::Listed {
                    package,
                    pages,
                    versions: versions as u64,
                })
            };
            while let Some(version) = stream.try_next().await? {
                page.push(version_facts(&version));
                if page.len() < per_page as usize {
                    continue;
                }
                pages += 1;
                if let Some(expected) = &overlap
                    && pages == u64::from(first_page)
                    && !same_ids(expected, &page)
                {
                    overlap_changed = Some(first_page);
                    break;
                }
                if let Some(writer) = &mut writer {
                    writer.page(&page);
                }
                listed.append(&mut page);
                report(pages, listed.len());
            }
            if !page.is_empty() {
                pages += 1;
                listed.append(&mut page);
                report(pages, listed.len());
            }
            Result::Ok((listed, overlap_changed))
        };
        // The count must be read before the first page is: read beside it, its answer may
        // come after a change that shifted the pages, and then agree with a listing that
        // missed versions.
        let before = self.get().await?.version_count();
        on_event(PlanningEvent::Counted {
            package,
            versions: before,
        });
        // On an error the checkpoint stays, for the next run to resume from.
        let (listed, overlap_changed) = listing.await?;
        let after = self.get().await?.version_count();
        // Complete or not, this listing is over: the next starts afresh.
        if let Some(writer) = writer {
            writer.remove();
        }
        let total = listed.len();
        let mut seen = std::collections::HashSet::with_capacity(total);
        let mut versions = listed;
        versions.retain(|version| seen.insert(version.id));
        // The listing grew by doubling: give back what the plan would otherwise carry unused.
        versions.shrink_to_fit();
        Ok(Listing {
            before,
            after,
            duplicates: (total - versions.len()) as u64,
            versions,
            overlap_changed,
        })
    }
}

/// One listing of a package's versions.
struct Listing {
    /// GitHub's count before the first page, and after the last.
    before: u64,
    after: u64,
    /// The distinct versions, in listing order.
    versions: Vec<VersionFacts>,
    /// Versions listed twice.
    duplicates: u64,
    /// The page a resumed listing started at, when it no longer held what it held before.
    overlap_changed: Option<u32>,
}

/// Whether two pages hold the same versions in the same order.
fn same_ids(a: &[VersionFacts], b: &[VersionFacts]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.id == b.id)
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
