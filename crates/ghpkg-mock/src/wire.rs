//! The JSON GitHub sends: packages, versions and owners as the `ghpkg-api` generated types, with
//! absolute URLs built from the server's own base URL (never from the request's `Host` header),
//! under `/api/v3` when the request came in under it.

use ghpkg_api::types::{
    self, ContainerMetadata, MinimalRepository, Package, PackageType, PackageVersion,
    PackageVisibility, SimpleUser,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::state::{Account, OwnerKind, Package as PackageRecord, Store, Version as VersionRecord};

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
    /// The API root the request used: `http://127.0.0.1:PORT` or `http://127.0.0.1:PORT/api/v3`.
    pub api: String,
    /// The web root: `http://127.0.0.1:PORT`.
    pub web: String,
}

impl Urls {
    /// The URLs of an answer on the server at `web_root` (`http://127.0.0.1:PORT`) to a request
    /// that came in under `prefix` (`""` or `/api/v3`).
    pub fn new(web_root: &str, prefix: &str) -> Self {
        let web = web_root.trim_end_matches('/').to_owned();
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
pub(crate) fn node_id(kind: &str, id: i64) -> String {
    let prefix = match kind {
        "Organization" => "O_kgDO",
        "Repository" => "R_kgDO",
        _ => "U_kgDO",
    };
    format!("{prefix}{id:08X}")
}

/// The package's repository as GitHub's `minimal-repository`, with every property GitHub's
/// published schema requires, and the `*_url` templates exactly as GitHub writes them.
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
    let url = |suffix: &str| Some(format!("{api}{suffix}"));
    types::builder::MinimalRepository::default()
        .id(id)
        .node_id(Some(node_id("Repository", id)))
        .name(name.to_owned())
        .full_name(full_name.clone())
        .owner(Some(self::owner(owner, urls)))
        .private(Some(package.visibility != PackageVisibility::Public))
        .visibility(Some(package.visibility.to_string()))
        .html_url(Some(format!("{}/{full_name}", urls.web)))
        .description(Some(format!("Sources of {full_name}")))
        .fork(Some(false))
        .archived(Some(false))
        .disabled(Some(false))
        .default_branch(Some("main".to_owned()))
        .url(Some(api.clone()))
        .archive_url(url("/{archive_format}{/ref}"))
        .assignees_url(url("/assignees{/user}"))
        .blobs_url(url("/git/blobs{/sha}"))
        .branches_url(url("/branches{/branch}"))
        .collaborators_url(url("/collaborators{/collaborator}"))
        .comments_url(url("/comments{/number}"))
        .commits_url(url("/commits{/sha}"))
        .compare_url(url("/compare/{base}...{head}"))
        .contents_url(url("/contents/{+path}"))
        .contributors_url(url("/contributors"))
        .deployments_url(url("/deployments"))
        .downloads_url(url("/downloads"))
        .events_url(url("/events"))
        .forks_url(url("/forks"))
        .git_commits_url(url("/git/commits{/sha}"))
        .git_refs_url(url("/git/refs{/sha}"))
        .git_tags_url(url("/git/tags{/sha}"))
        .hooks_url(url("/hooks"))
        .issue_comment_url(url("/issues/comments{/number}"))
        .issue_events_url(url("/issues/events{/number}"))
        .issues_url(url("/issues{/number}"))
        .keys_url(url("/keys{/key_id}"))
        .labels_url(url("/labels{/name}"))
        .languages_url(url("/languages"))
        .merges_url(url("/merges"))
        .milestones_url(url("/milestones{/number}"))
        .notifications_url(url("/notifications{?since,all,participating}"))
        .pulls_url(url("/pulls{/number}"))
        .releases_url(url("/releases{/id}"))
        .stargazers_url(url("/stargazers"))
        .statuses_url(url("/statuses/{sha}"))
        .subscribers_url(url("/subscribers"))
        .subscription_url(url("/subscription"))
        .tags_url(url("/tags"))
        .teams_url(url("/teams"))
        .trees_url(url("/git/trees{/sha}"))
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

/// A version as GitHub sends it: the generated `PackageVersion`, whose `metadata` is written by
/// [`VersionMetadata`] instead of the generated `PackageVersionMetadata`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct VersionBody {
    /// Everything but `metadata` (left `None`, which the generated type omits).
    #[serde(flatten)]
    pub version: PackageVersion,
    /// The metadata.
    pub metadata: VersionMetadata,
}

/// `PackageVersionMetadata` in the same shape as the generated type. It exists because the
/// generated `DockerMetadata` skips empty tag lists when serializing, which turns an untagged
/// docker version into `"docker": {}`; GitHub sends `"tags": []`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct VersionMetadata {
    /// `npm`, `maven`, `rubygems`, `docker`, `nuget` or `container`.
    pub package_type: String,
    /// Present for container versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerMetadata>,
    /// Present for docker versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerTags>,
}

/// The generated `DockerMetadata`'s two tag lists (GitHub's description names `tag` but requires
/// `tags`), both always written, empty or not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct DockerTags {
    /// The tags, under the name GitHub's description gives the property.
    pub tag: Vec<String>,
    /// The tags, under the name GitHub's description requires.
    pub tags: Vec<String>,
}

/// A version record as GitHub sends it.
pub(crate) fn version(
    owner: &Account,
    package: &PackageRecord,
    version: &VersionRecord,
    urls: &Urls,
) -> VersionBody {
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
    VersionBody {
        version: PackageVersion {
            created_at: version.created_at,
            deleted_at: version.deleted_at,
            description: version.description().map(str::to_owned),
            html_url: Some(html_url),
            id: version.id,
            license: version.license().map(str::to_owned),
            metadata: None,
            name: version.name().into_owned(),
            package_html_url: package_html,
            updated_at: version.updated_at,
            url: format!("{package_url}/versions/{}", version.id),
        },
        metadata: metadata(package.package_type, version),
    }
}

fn metadata(package_type: PackageType, version: &VersionRecord) -> VersionMetadata {
    VersionMetadata {
        package_type: package_type.to_string(),
        container: (package_type == PackageType::Container).then(|| ContainerMetadata {
            tags: version.tags.clone(),
        }),
        docker: (package_type == PackageType::Docker).then(|| DockerTags {
            tag: version.tags.clone(),
            tags: version.tags.clone(),
        }),
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
