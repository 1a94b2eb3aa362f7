//! The JSON GitHub sends: packages, versions and owners as the `ghpkg-api` generated types, with
//! absolute URLs built from the base the request came in on.

use ghpkg_api::types::{
    self, ContainerMetadata, DockerMetadata, MinimalRepository, Package, PackageType,
    PackageVersion, PackageVersionMetadata, PackageVisibility, SimpleUser,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::state::{Account, OwnerKind, PackageRecord, Store, VersionRecord};

/// Characters escaped in a path segment: everything but unreserved ones, so `/` becomes `%2F`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Escapes one path segment (a package name may contain `/`).
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// The bases of the URLs in a response.
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    /// The API root the request used: `http://HOST` or `http://HOST/api/v3`.
    pub api: String,
    /// The web root: `http://HOST`.
    pub web: String,
}

impl Urls {
    pub fn new(host: &str, prefix: &str) -> Self {
        let web = format!("http://{host}");
        Self {
            api: format!("{web}{prefix}"),
            web,
        }
    }

    fn owner_path(owner: &Account) -> String {
        match owner.kind {
            OwnerKind::Organization => format!("orgs/{}", owner.login),
            OwnerKind::User => format!("users/{}", owner.login),
        }
    }

    /// `{api}/orgs/acme/packages/container/web%2Fapp`
    pub fn package(&self, owner: &Account, package: &PackageRecord) -> String {
        format!(
            "{}/{}/packages/{}/{}",
            self.api,
            Self::owner_path(owner),
            package.package_type,
            encode_segment(&package.name)
        )
    }

    /// `{web}/orgs/acme/packages/container/package/web%2Fapp`
    pub fn package_html(&self, owner: &Account, package: &PackageRecord) -> String {
        format!(
            "{}/{}/packages/{}/package/{}",
            self.web,
            Self::owner_path(owner),
            package.package_type,
            encode_segment(&package.name)
        )
    }
}

/// An account as a `SimpleUser`.
pub(crate) fn owner(account: &Account, urls: &Urls) -> SimpleUser {
    let api = format!("{}/users/{}", urls.api, account.login);
    let kind = match account.kind {
        OwnerKind::User => "User",
        OwnerKind::Organization => "Organization",
    };
    SimpleUser {
        avatar_url: Some(format!(
            "https://avatars.githubusercontent.com/u/{}?v=4",
            account.id
        )),
        email: None,
        events_url: Some(format!("{api}/events{{/privacy}}")),
        followers_url: Some(format!("{api}/followers")),
        following_url: Some(format!("{api}/following{{/other_user}}")),
        gists_url: Some(format!("{api}/gists{{/gist_id}}")),
        gravatar_id: Some(String::new()),
        html_url: Some(format!("{}/{}", urls.web, account.login)),
        id: account.id,
        login: account.login.clone(),
        name: None,
        node_id: Some(node_id(kind, account.id)),
        organizations_url: Some(format!("{api}/orgs")),
        received_events_url: Some(format!("{api}/received_events")),
        repos_url: Some(format!("{api}/repos")),
        site_admin: Some(false),
        starred_at: None,
        starred_url: Some(format!("{api}/starred{{/owner}}{{/repo}}")),
        subscriptions_url: Some(format!("{api}/subscriptions")),
        type_: kind.to_owned(),
        url: Some(api),
        user_view_type: Some("public".to_owned()),
    }
}

/// A GraphQL-style node id, stable for a kind and id.
fn node_id(kind: &str, id: i64) -> String {
    let prefix = match kind {
        "Organization" => "O_kgDO",
        "Repository" => "R_kgDO",
        _ => "U_kgDO",
    };
    format!("{prefix}{id:08X}")
}

fn repository(
    store: &Store,
    owner: &Account,
    package: &PackageRecord,
    urls: &Urls,
) -> Option<MinimalRepository> {
    let name = package.repository.as_deref()?;
    let id = store.repository_id(&owner.login, name)?;
    let full_name = format!("{}/{}", owner.login, name);
    let api = format!("{}/repos/{full_name}", urls.api);
    types::builder::MinimalRepository::default()
        .id(id)
        .name(name.to_owned())
        .full_name(full_name.clone())
        .node_id(Some(node_id("Repository", id)))
        .owner(Some(self::owner(owner, urls)))
        .private(Some(package.visibility != PackageVisibility::Public))
        .visibility(Some(package.visibility.to_string()))
        .html_url(Some(format!("{}/{full_name}", urls.web)))
        .url(Some(api))
        .fork(Some(false))
        .try_into()
        .ok()
}

/// A package record as GitHub's `Package`.
pub(crate) fn package(
    store: &Store,
    owner: &Account,
    package: &PackageRecord,
    urls: &Urls,
) -> Package {
    Package {
        created_at: package.created_at,
        html_url: urls.package_html(owner, package),
        id: package.id,
        name: package.name.clone(),
        owner: Some(self::owner(owner, urls)),
        package_type: package.package_type.to_string(),
        repository: repository(store, owner, package, urls),
        updated_at: package.updated_at,
        url: urls.package(owner, package),
        version_count: package.active_versions().count() as i64,
        visibility: package.visibility.to_string(),
    }
}

/// A version record as GitHub's `PackageVersion`.
pub(crate) fn version(
    owner: &Account,
    package: &PackageRecord,
    version: &VersionRecord,
    urls: &Urls,
) -> PackageVersion {
    let package_url = urls.package(owner, package);
    let package_html = urls.package_html(owner, package);
    let html_url = format!(
        "{}/{}/packages/{}/{}/{}",
        urls.web,
        Urls::owner_path(owner),
        package.package_type,
        encode_segment(&package.name),
        version.id
    );
    PackageVersion {
        created_at: version.created_at,
        deleted_at: version.deleted_at,
        description: version.description.clone(),
        html_url: Some(html_url),
        id: version.id,
        license: version.license.clone(),
        metadata: Some(metadata(package.package_type, version)),
        name: version.name.clone(),
        package_html_url: package_html,
        updated_at: version.updated_at,
        url: format!("{package_url}/versions/{}", version.id),
    }
}

fn metadata(package_type: PackageType, version: &VersionRecord) -> PackageVersionMetadata {
    PackageVersionMetadata {
        container: (package_type == PackageType::Container).then(|| ContainerMetadata {
            tags: version.tags.clone(),
        }),
        docker: (package_type == PackageType::Docker).then(|| DockerMetadata {
            tag: version.tags.clone(),
            tags: version.tags.clone(),
        }),
        package_type: package_type.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_slashes_are_escaped_as_one_segment() {
        assert_eq!(encode_segment("web/app"), "web%2Fapp");
        assert_eq!(encode_segment("Acme.Lib"), "Acme.Lib");
        assert_eq!(encode_segment("hello_docker"), "hello_docker");
    }
}
