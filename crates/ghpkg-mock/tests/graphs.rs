//! The named image-graph cases, read the way a cleanup tool reads them: the REST API's
//! versions, and their manifests from the registry.

mod common;

use std::collections::HashSet;

use common::{client, registry_error_code, registry_get, registry_token, serve, sha256};
use ghpkg_api::types::{PackageType, PackageVersion};
use ghpkg_mock::fixture::graphs::{self, *};
use ghpkg_mock::{Fixture, MockServer, tokens};
use serde_json::Value;

/// A server for `fixture` and a registry token for the case package `package` of `acme`.
async fn open(fixture: Fixture, package: &str) -> (MockServer, String, String) {
    let server = serve(fixture).await;
    let repository = format!("{OWNER}/{package}");
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), &repository).await;
    (server, token, repository)
}

/// The manifest `reference` of `repository` as JSON, checked against its digest header.
async fn manifest(server: &MockServer, token: &str, repository: &str, reference: &str) -> Value {
    let response = registry_get(
        server,
        token,
        &format!("{repository}/manifests/{reference}"),
    )
    .await;
    assert_eq!(response.status(), 200, "{repository}@{reference}");
    let digest = response.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(sha256(&bytes), digest);
    serde_json::from_slice(&bytes).unwrap()
}

/// The status of manifest `reference` of `repository`.
async fn status(server: &MockServer, token: &str, repository: &str, reference: &str) -> u16 {
    registry_get(
        server,
        token,
        &format!("{repository}/manifests/{reference}"),
    )
    .await
    .status()
    .as_u16()
}

fn name(server: &MockServer, id: i64) -> String {
    server.state().version(id).unwrap().1.name.clone()
}

fn children(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// The package's active versions as the REST API lists them (newest first).
async fn listed(server: &MockServer, package: &str) -> Vec<PackageVersion> {
    client(server, tokens::OCTOCAT_ALL)
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(OWNER)
        .package_type(PackageType::Container)
        .package_name(package)
        .per_page(100)
        .send()
        .await
        .unwrap()
        .into_inner()
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
async fn multi_arch_index_lists_platform_children_and_attestations_of_them() {
    let (server, _, repository) = open(graphs::multi_arch(), multi_arch::PACKAGE).await;
    // Public: an anonymous token reads it.
    let token = registry_token(&server, None, &repository).await;
    let index = manifest(&server, &token, &repository, "v1.0.0").await;
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    let platform = |n: usize| {
        format!(
            "{}/{}",
            entries[n]["platform"]["os"].as_str().unwrap(),
            entries[n]["platform"]["architecture"].as_str().unwrap()
        )
    };
    assert_eq!(
        [platform(0), platform(1), platform(2), platform(3)],
        [
            "linux/amd64",
            "linux/arm64",
            "unknown/unknown",
            "unknown/unknown"
        ]
    );
    assert_eq!(
        entries[0]["digest"],
        name(&server, multi_arch::AMD64).as_str()
    );
    assert_eq!(
        entries[1]["digest"],
        name(&server, multi_arch::ARM64).as_str()
    );
    for (entry, attested, attestation) in [
        (
            &entries[2],
            multi_arch::AMD64,
            multi_arch::AMD64_ATTESTATION,
        ),
        (
            &entries[3],
            multi_arch::ARM64,
            multi_arch::ARM64_ATTESTATION,
        ),
    ] {
        assert_eq!(entry["digest"], name(&server, attestation).as_str());
        assert_eq!(
            entry["annotations"]["vnd.docker.reference.type"],
            "attestation-manifest"
        );
        assert_eq!(
            entry["annotations"]["vnd.docker.reference.digest"],
            name(&server, attested).as_str()
        );
        let attestation = manifest(
            &server,
            &token,
            &repository,
            entry["digest"].as_str().unwrap(),
        )
        .await;
        for layer in attestation["layers"].as_array().unwrap() {
            assert_eq!(layer["mediaType"], "application/vnd.in-toto+json");
        }
    }
    assert_eq!(
        manifest(&server, &token, &repository, "latest").await,
        index,
        "both tags name the index"
    );
    let versions = listed(&server, multi_arch::PACKAGE).await;
    assert_eq!(versions.len(), 5);
    assert_eq!(
        versions.iter().filter(|v| tags(v).is_empty()).count(),
        4,
        "children are untagged versions"
    );
    assert_eq!(
        versions[0].id,
        multi_arch::INDEX,
        "the index is pushed last"
    );
}

#[tokio::test]
async fn a_shared_child_is_listed_by_the_kept_index_and_by_the_old_untagged_one() {
    let (server, token, repository) = open(graphs::shared_child(), shared_child::PACKAGE).await;
    let kept = manifest(&server, &token, &repository, "v2.0.0").await;
    let old = manifest(
        &server,
        &token,
        &repository,
        &name(&server, shared_child::OLD_INDEX),
    )
    .await;
    let shared = name(&server, shared_child::SHARED_CHILD);
    assert_eq!(
        children(&kept),
        [shared.clone(), name(&server, shared_child::KEPT_ARM64)]
    );
    assert_eq!(
        children(&old),
        [shared, name(&server, shared_child::OLD_ARM64)]
    );
    let versions = listed(&server, shared_child::PACKAGE).await;
    let old_index = versions
        .iter()
        .find(|v| v.id == shared_child::OLD_INDEX)
        .unwrap();
    assert!(tags(old_index).is_empty());
}

#[tokio::test]
async fn many_tags_name_one_image_and_the_tag_list_has_them_all() {
    let (server, token, repository) = open(graphs::many_tags(), many_tags::PACKAGE).await;
    let image = name(&server, many_tags::IMAGE);
    for tag in ["v1.4.0", "latest", "main", "pr-12", "pr-15"] {
        let response =
            registry_get(&server, &token, &format!("{repository}/manifests/{tag}")).await;
        assert_eq!(
            response.headers()["docker-content-digest"],
            image.as_str(),
            "{tag}"
        );
    }
    let list: Value = registry_get(&server, &token, &format!("{repository}/tags/list"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["tags"],
        serde_json::json!([
            "latest", "main", "pr-12", "pr-15", "pr-3", "pr-7", "v1.3.0", "v1.4.0"
        ])
    );
    let versions = listed(&server, many_tags::PACKAGE).await;
    let pr_tagged = versions
        .iter()
        .filter(|v| tags(v).iter().any(|t| t.starts_with("pr-")))
        .count();
    let only_pr = versions
        .iter()
        .filter(|v| tags(v).iter().all(|t| t.starts_with("pr-")))
        .map(|v| v.id)
        .collect::<Vec<_>>();
    assert_eq!(pr_tagged, 3);
    assert_eq!(only_pr, [many_tags::PR_ONLY]);
}

#[tokio::test]
async fn cosign_legacy_tags_name_the_signed_images_digest() {
    let (server, token, repository) = open(graphs::cosign_legacy(), cosign_legacy::PACKAGE).await;
    let image = name(&server, cosign_legacy::IMAGE).replace(':', "-");
    for (suffix, id, layer_type) in [
        (
            "sig",
            cosign_legacy::SIGNATURE,
            "application/vnd.dev.cosign.simplesigning.v1+json",
        ),
        (
            "att",
            cosign_legacy::ATTESTATION,
            "application/vnd.dsse.envelope.v1+json",
        ),
    ] {
        let tag = format!("{image}.{suffix}");
        let response =
            registry_get(&server, &token, &format!("{repository}/manifests/{tag}")).await;
        assert_eq!(
            response.headers()["docker-content-digest"],
            name(&server, id).as_str()
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["layers"][0]["mediaType"], layer_type);
        assert!(body.get("subject").is_none(), "linked by the tag only");
        let versions = listed(&server, cosign_legacy::PACKAGE).await;
        let version = versions.iter().find(|v| v.id == id).unwrap();
        assert_eq!(tags(version), [tag]);
    }
}

#[tokio::test]
async fn an_untagged_referrer_is_found_through_its_subject_only() {
    let (server, token, repository) = open(graphs::referrer(), referrer::PACKAGE).await;
    let image = name(&server, referrer::IMAGE);
    let sbom = manifest(&server, &token, &repository, &name(&server, referrer::SBOM)).await;
    assert_eq!(sbom["subject"]["digest"], image.as_str());
    assert_eq!(sbom["artifactType"], "application/spdx+json");
    assert_eq!(
        sbom["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    let tag_list: Value = registry_get(&server, &token, &format!("{repository}/tags/list"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        tag_list["tags"],
        serde_json::json!(["v1"]),
        "no tag leads to it"
    );
    let referrers: Value =
        registry_get(&server, &token, &format!("{repository}/referrers/{image}"))
            .await
            .json()
            .await
            .unwrap();
    let found: HashSet<String> = children(&referrers).into_iter().collect();
    assert_eq!(
        found,
        HashSet::from([
            name(&server, referrer::SBOM),
            name(&server, referrer::SIGNATURE)
        ])
    );
}

#[tokio::test]
async fn a_fallback_index_has_entries_without_a_platform() {
    let (server, token, repository) = open(graphs::fallback_index(), fallback_index::PACKAGE).await;
    let index = manifest(&server, &token, &repository, "v1").await;
    let entries = index["manifests"].as_array().unwrap();
    assert!(entries.iter().all(|entry| entry.get("platform").is_none()));
    assert_eq!(
        children(&index),
        [
            name(&server, fallback_index::FIRST),
            name(&server, fallback_index::SECOND)
        ]
    );
}

#[tokio::test]
async fn a_nested_index_lists_an_index_that_lists_the_platform_images() {
    let (server, token, repository) = open(graphs::nested_index(), nested_index::PACKAGE).await;
    let outer = manifest(&server, &token, &repository, "v1").await;
    assert_eq!(
        children(&outer),
        [
            name(&server, nested_index::INNER),
            name(&server, nested_index::S390X)
        ]
    );
    assert_eq!(
        outer["manifests"][0]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let inner = manifest(
        &server,
        &token,
        &repository,
        &name(&server, nested_index::INNER),
    )
    .await;
    assert_eq!(
        children(&inner),
        [
            name(&server, nested_index::AMD64),
            name(&server, nested_index::ARM64)
        ]
    );
}

#[tokio::test]
async fn orphans_outlive_their_deleted_index_and_their_signatures_point_at_nothing() {
    let world = graphs::orphans();
    let gone = world.digest_of(orphans::GONE_INDEX).unwrap();
    let (server, token, repository) = open(world, orphans::PACKAGE).await;
    assert_eq!(
        status(&server, &token, &repository, &gone).await,
        404,
        "the index is gone"
    );
    let versions = listed(&server, orphans::PACKAGE).await;
    assert!(versions.iter().all(|v| v.id != orphans::GONE_INDEX));
    let deleted = client(&server, tokens::OCTOCAT_ALL)
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(OWNER)
        .package_type(PackageType::Container)
        .package_name(orphans::PACKAGE)
        .state(ghpkg_api::types::PackageVersionState::Deleted)
        .send()
        .await
        .unwrap();
    assert!(
        deleted.is_empty(),
        "deleted 40 days ago: past the restore window"
    );
    for id in [orphans::AMD64, orphans::ARM64] {
        assert_eq!(
            status(&server, &token, &repository, &name(&server, id)).await,
            200
        );
        let version = versions.iter().find(|v| v.id == id).unwrap();
        assert!(tags(version).is_empty());
    }
    let signature = versions
        .iter()
        .find(|v| v.id == orphans::SIGNATURE)
        .unwrap();
    assert_eq!(tags(signature), [format!("{}.sig", gone.replace(':', "-"))]);
    let bundle = manifest(
        &server,
        &token,
        &repository,
        &name(&server, orphans::BUNDLE),
    )
    .await;
    assert_eq!(bundle["subject"]["digest"], gone.as_str());
}

#[tokio::test]
async fn a_broken_index_lists_a_registry_only_child_and_a_missing_one() {
    let (server, token, repository) = open(graphs::broken_index(), broken_index::PACKAGE).await;
    let index = manifest(&server, &token, &repository, "v3").await;
    let [amd64, arm64, s390x] = <[String; 3]>::try_from(children(&index)).unwrap();
    assert_eq!(amd64, name(&server, broken_index::AMD64));
    assert_eq!(s390x, sha256(broken_index::MISSING_S390X_SEED.as_bytes()));
    let state = server.state();
    let package = state
        .package(OWNER, PackageType::Container, broken_index::PACKAGE)
        .unwrap();
    assert_eq!(package.unlisted_manifests.len(), 1);
    assert_eq!(package.unlisted_manifests[0].manifest.digest, arm64);
    let listed: Vec<String> = listed(&server, broken_index::PACKAGE)
        .await
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert!(!listed.contains(&arm64), "no REST version for arm64");
    assert_eq!(
        status(&server, &token, &repository, &arm64).await,
        200,
        "but the registry has it"
    );
    let missing = registry_get(&server, &token, &format!("{repository}/manifests/{s390x}")).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(registry_error_code(missing).await, "MANIFEST_UNKNOWN");
}

#[tokio::test]
async fn a_docker_manifest_list_has_docker_v2_children() {
    let (server, token, repository) = open(
        graphs::docker_manifest_list(),
        docker_manifest_list::PACKAGE,
    )
    .await;
    let response = registry_get(&server, &token, &format!("{repository}/manifests/1.0")).await;
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["manifests"][1]["platform"]["variant"], "v8");
    for (entry, id) in list["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .zip([docker_manifest_list::AMD64, docker_manifest_list::ARM64])
    {
        assert_eq!(
            entry["mediaType"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert_eq!(entry["digest"], name(&server, id).as_str());
        let child = registry_get(
            &server,
            &token,
            &format!("{repository}/manifests/{}", name(&server, id)),
        )
        .await;
        assert_eq!(
            child.headers()["content-type"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        let child: Value = child.json().await.unwrap();
        assert_eq!(
            child["config"]["mediaType"],
            "application/vnd.docker.container.image.v1+json"
        );
    }
}

#[tokio::test]
async fn a_moved_tag_leaves_the_old_image_untagged() {
    let (server, token, repository) = open(graphs::moved_tag(), moved_tag::PACKAGE).await;
    let latest = registry_get(&server, &token, &format!("{repository}/manifests/latest")).await;
    assert_eq!(
        latest.headers()["docker-content-digest"],
        name(&server, moved_tag::NEW).as_str()
    );
    let versions = listed(&server, moved_tag::PACKAGE).await;
    let old = versions.iter().find(|v| v.id == moved_tag::OLD).unwrap();
    assert!(tags(old).is_empty());
    assert_eq!(
        status(&server, &token, &repository, &name(&server, moved_tag::OLD)).await,
        200,
        "still served by digest"
    );
}

#[tokio::test]
async fn a_registry_error_hits_one_child_of_a_package_with_a_slash_in_its_name() {
    let (server, token, repository) = open(graphs::registry_error(), registry_error::PACKAGE).await;
    assert_eq!(repository, "acme/cases/flaky/api");
    let index = manifest(&server, &token, &repository, "v1").await;
    let statuses = [
        status(&server, &token, &repository, &children(&index)[0]).await,
        status(&server, &token, &repository, &children(&index)[1]).await,
    ];
    assert_eq!(statuses, [registry_error::STATUS, 200]);
}

#[tokio::test]
async fn a_stale_listing_meets_a_version_deleted_behind_the_clients_back() {
    let server = serve(graphs::stale_listing()).await;
    let listing = listed(&server, stale_listing::PACKAGE).await;
    assert_eq!(listing.len(), 5);
    let victim = stale_listing::UNTAGGED[1];
    let change = server.delete_version_as("hubot", victim).unwrap();
    assert_eq!(
        change.operation_id,
        "packages/delete-package-version-for-org"
    );
    assert_eq!(change.version_id, Some(victim));
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let delete = |id| {
        octocat
            .packages_delete_package_version_for_org()
            .org(OWNER)
            .package_type(PackageType::Container)
            .package_name(stale_listing::PACKAGE)
            .package_version_id(id)
            .send()
    };
    let stale = delete(victim).await;
    assert_eq!(common::failure(stale).await.0, 404, "already gone");
    delete(stale_listing::UNTAGGED[2]).await.unwrap();
    let log: Vec<(String, Option<i64>)> = server
        .changes()
        .into_iter()
        .map(|c| (c.actor, c.version_id))
        .collect();
    assert_eq!(
        log,
        [
            ("hubot".to_owned(), Some(victim)),
            ("octocat".to_owned(), Some(stale_listing::UNTAGGED[2]))
        ]
    );
    assert!(server.delete_version_as("hubot", victim).is_none());
}

#[tokio::test]
async fn the_graphs_world_holds_every_case_with_unique_ids_and_reloads_from_json() {
    let world = graphs::all();
    let names: Vec<&str> = world.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 13);
    for package in [
        multi_arch::PACKAGE,
        shared_child::PACKAGE,
        many_tags::PACKAGE,
        cosign_legacy::PACKAGE,
        referrer::PACKAGE,
        fallback_index::PACKAGE,
        nested_index::PACKAGE,
        orphans::PACKAGE,
        broken_index::PACKAGE,
        docker_manifest_list::PACKAGE,
        moved_tag::PACKAGE,
        registry_error::PACKAGE,
        stale_listing::PACKAGE,
    ] {
        assert!(names.contains(&package), "{package}");
    }
    let again = Fixture::from_json(&world.to_json()).unwrap();
    assert_eq!(again, world);
    let server = serve(world).await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "acme/cases/nested").await;
    assert_eq!(
        status(&server, &token, "acme/cases/nested", "v1").await,
        200
    );
}

#[test]
fn the_binary_prints_the_graphs_world() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ghpkg-mock"))
        .args(["fixture", "--graphs"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = Fixture::from_json(&String::from_utf8(output.stdout).unwrap()).unwrap();
    assert_eq!(printed, graphs::all());
}
