//! Gathering what the retention engine needs: the target, the packages a selector names, and
//! each package's versions as facts.

use futures::TryStreamExt;
use ghpkg_retention::{Owner as TargetOwner, PackageFacts, Target, VersionFacts};
use globset::{Glob, GlobSetBuilder};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::names::{self, NameKind};
use crate::owner::Owner;
use crate::package::PackageHandle;
use crate::scope::Scope;
use crate::types::{PackageType, PackageVersion};

impl Client {
    /// The GitHub host the client talks to, as plans and journals record it: `github.com` for
    /// `https://api.github.com`, `HOST` for Enterprise Server's `https://HOST/api/v3`, and
    /// `host:port` for anything else (such as the emulator).
    pub fn host(&self) -> String {
        let Ok(url) = url::Url::parse(self.base_url()) else {
            return self.base_url().to_string();
        };
        let host = url.host_str().unwrap_or_default();
        match (host, url.port()) {
            ("api.github.com", None) => "github.com".to_string(),
            (host, None) => host.to_string(),
            (host, Some(port)) => format!("{host}:{port}"),
        }
    }
}

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
                Owner::Org(login) => TargetOwner::Org(login.clone()),
                Owner::User(login) => TargetOwner::User(login.clone()),
                Owner::AuthenticatedUser => {
                    TargetOwner::AuthenticatedUser(login.map(str::to_string))
                }
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
                .map_ok(|package| package.name.clone())
                .try_collect()
                .await?;
            names.extend(listed.into_iter().filter(|name| globs.is_match(name)));
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

impl PackageHandle {
    /// Every active version of the package, as the engine's facts (no image graph: reading
    /// manifests is the registry's part).
    pub async fn facts(&self) -> Result<PackageFacts> {
        let versions: Vec<PackageVersion> = self.versions().stream().try_collect().await?;
        let versions = versions
            .iter()
            .map(version_facts)
            .collect::<Result<Vec<_>>>()?;
        Ok(PackageFacts {
            name: self.name().to_string(),
            versions,
            graph: None,
            incomplete_listing: None,
        })
    }
}

/// One listed version as facts; a non-positive id (which GitHub never sends) is refused.
pub(crate) fn version_facts(version: &PackageVersion) -> Result<VersionFacts> {
    let id = u64::try_from(version.id)
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "GitHub listed a version with id {}; ids are positive",
                version.id
            ))
        })?;
    Ok(VersionFacts {
        id,
        name: version.name.clone(),
        tags: version.tags().to_vec(),
        created_at: version.created_at,
        updated_at: version.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_named_as_people_name_them() {
        let host = |url: &str| {
            Client::builder()
                .base_url(url)
                .without_token()
                .build()
                .unwrap()
                .host()
        };
        assert_eq!(host("https://api.github.com"), "github.com");
        assert_eq!(host("https://ghe.example.com/api/v3"), "ghe.example.com");
        assert_eq!(host("http://127.0.0.1:8080"), "127.0.0.1:8080");
    }

    #[test]
    fn globs_are_told_from_names() {
        assert!(is_glob("web/*"));
        assert!(is_glob("{api,web}"));
        assert!(!is_glob("web/app"));
    }
}
