//! A generated world served straight from its spec (`MockOptions::synthetic`, `ghpkg-mock serve
//! --synthetic`): the CI-sized version of the benchmark's 150,000-version package. It is the
//! same world as the fixture the spec generates, its listing is whole, and its registry serves
//! every manifest by tag and by digest, index children included, until a version is deleted.

mod common;

use std::collections::HashSet;

use common::{
    client, demo_options, link, registry_error_code, registry_get, registry_token, sha256,
};
use ghpkg_api::operations::{Action, OwnerFamily};
use ghpkg_api::types::{PackageType, PackageVersion};
use ghpkg_mock::{Fixture, MockOptions, MockServer, SyntheticSpec};
use serde_json::Value;

const ORG: &str = "org-0";
const PACKAGE: &str = "pkg-0";
const REPOSITORY: &str = "org-0/pkg-0";
const TOKEN: &str = "ghp_user-0_all";
const VERSIONS: usize = 3_000;
const MULTI_ARCH: usize = 50;

/// One private container package of 3,000 versions, of which 50 multi-arch images (250).
fn spec() -> SyntheticSpec {
    SyntheticSpec {
        seed: 19,
        organizations: 1,
        users: 1,
        packages_per_owner: 1,
        versions_per_package: VERSIONS as u32,
        multi_arch_images: MULTI_ARCH as u32,
        public_share: 0.0,
        ..SyntheticSpec::default()
    }
}

async fn serve_synthetic(spec: SyntheticSpec) -> MockServer {
    MockServer::start(MockOptions {
        synthetic: Some(spec),
        ..demo_options()
    })
    .await
    .unwrap()
}

/// Every version of the package, walking the `Link` pages.
async fn list_all(server: &MockServer) -> Vec<PackageVersion> {
    let github = client(server, TOKEN);
    let first = github
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(ORG)
        .package_type(PackageType::Container)
        .package_name(PACKAGE)
        .per_page(100)
        .send()
        .await
        .unwrap();
    let mut next = link(first.headers(), "next");
    let mut versions = first.into_inner();
    while let Some(url) = next {
        let page = github
            .get_page::<Vec<PackageVersion>>(&url, Action::ListVersions.spec(OwnerFamily::Org))
            .await
            .unwrap();
        next = link(page.headers(), "next");
        versions.extend(page.into_inner());
    }
    versions
}

fn tags(version: &PackageVersion) -> Vec<String> {
    version
        .metadata
        .as_ref()
        .and_then(|m| m.container.as_ref())
        .map(|c| c.tags.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_world_served_from_its_spec_is_the_world_of_the_fixture_it_generates() {
    let spec = SyntheticSpec {
        organizations: 1,
        users: 2,
        packages_per_owner: 3,
        versions_per_package: 40,
        multi_arch_images: 3,
        package_types: vec![
            PackageType::Container,
            PackageType::Npm,
            PackageType::Docker,
        ],
        ..SyntheticSpec::default()
    };
    let from_spec = serve_synthetic(spec.clone()).await;
    let from_fixture = MockServer::start(MockOptions {
        fixture: Fixture::synthetic(spec.clone()),
        ..demo_options()
    })
    .await
    .unwrap();
    assert_eq!(from_spec.state(), from_fixture.state());
    let written = {
        let mut out = Vec::new();
        Fixture::write_synthetic(&spec, &mut out).unwrap();
        Fixture::from_json(std::str::from_utf8(&out).unwrap()).unwrap()
    };
    assert_eq!(written, Fixture::synthetic(spec), "written as it is made");
}

#[tokio::test]
async fn a_synthetic_package_lists_whole_and_serves_every_manifest_by_tag_and_digest() {
    let server = serve_synthetic(spec()).await;
    let versions = list_all(&server).await;
    assert_eq!(versions.len(), VERSIONS);
    let ids: HashSet<i64> = versions.iter().map(|v| v.id).collect();
    assert_eq!(ids.len(), VERSIONS, "ids are unique");
    let names: HashSet<&str> = versions.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names.len(), VERSIONS, "digests are unique");
    let package = client(&server, TOKEN)
        .packages_get_package_for_organization()
        .org(ORG)
        .package_type(PackageType::Container)
        .package_name(PACKAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(package.version_count, VERSIONS as i64);

    let token = registry_token(&server, Some(TOKEN), REPOSITORY).await;
    let get = |reference: String| {
        let (server, token) = (&server, &token);
        async move {
            registry_get(
                server,
                token,
                &format!("{REPOSITORY}/manifests/{reference}"),
            )
            .await
        }
    };
    // `latest` is the newest multi-arch image: an index whose four children are versions.
    let latest = get("latest".to_owned()).await;
    assert_eq!(latest.status(), 200);
    assert_eq!(
        latest.headers()["content-type"],
        "application/vnd.oci.image.index.v1+json"
    );
    let digest = latest.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = latest.bytes().await.unwrap();
    assert_eq!(sha256(&body), digest);
    assert_eq!(versions[0].name, digest, "the newest version is the index");
    let index: Value = serde_json::from_slice(&body).unwrap();
    let children: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["digest"].as_str().unwrap())
        .collect();
    assert_eq!(children.len(), 4, "two platforms and two attestations");
    for child in children {
        assert!(names.contains(child), "{child} is a version");
        let response = get(child.to_owned()).await;
        assert_eq!(response.status(), 200, "{child}");
        assert_eq!(sha256(&response.bytes().await.unwrap()), child);
    }

    // The oldest tagged single-platform image, by its tag and by its digest.
    let image = versions.iter().rev().find(|v| !tags(v).is_empty()).unwrap();
    for reference in [tags(image)[0].clone(), image.name.clone()] {
        let response = get(reference.clone()).await;
        assert_eq!(response.status(), 200, "{reference}");
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(
            response.headers()["docker-content-digest"],
            image.name.as_str()
        );
        assert_eq!(sha256(&response.bytes().await.unwrap()), image.name);
    }
}

#[tokio::test]
async fn a_deleted_synthetic_version_is_gone_from_the_registry_by_tag_and_digest() {
    let server = serve_synthetic(spec()).await;
    let versions = list_all(&server).await;
    let image = versions.iter().rev().find(|v| !tags(v).is_empty()).unwrap();
    let token = registry_token(&server, Some(TOKEN), REPOSITORY).await;
    let path = |reference: &str| format!("{REPOSITORY}/manifests/{reference}");
    let tag = tags(image)[0].clone();
    assert_eq!(
        registry_get(&server, &token, &path(&tag)).await.status(),
        200
    );
    client(&server, TOKEN)
        .packages_delete_package_version_for_org()
        .org(ORG)
        .package_type(PackageType::Container)
        .package_name(PACKAGE)
        .package_version_id(image.id)
        .send()
        .await
        .unwrap();
    for reference in [tag.as_str(), image.name.as_str()] {
        let gone = registry_get(&server, &token, &path(reference)).await;
        assert_eq!(gone.status(), 404, "{reference}");
        assert_eq!(registry_error_code(gone).await, "MANIFEST_UNKNOWN");
    }
    assert_eq!(list_all(&server).await.len(), VERSIONS - 1);
    let (_, deleted) = server
        .state()
        .version(image.id)
        .map(|(p, v)| (p.id, v.clone()))
        .unwrap();
    assert!(deleted.deleted_at.is_some());
    assert_eq!(
        deleted.name, image.name,
        "a deleted version keeps its digest"
    );
}
