//! The registry's read side, as a client of ghcr.io sees it: the challenge, the token exchange,
//! manifests by tag and digest, the referrers API, tag lists, injected failures, and the link
//! to the REST API's state (deletes, restores, downloads).

mod common;

use common::{
    client, demo, registry_error_code, registry_get, registry_token, serve, sha256, token_request,
};
use ghpkg_api::types::PackageType;
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::fixture::graphs::{self, referrer, registry_error};
use ghpkg_mock::{Fixture, MockOptions, MockServer, RegistryFailure, tokens};
use serde_json::Value;

const GATEWAY_REPOSITORY: &str = "acme/platform/gateway";

#[tokio::test]
async fn the_v2_base_challenges_with_ghcrs_realm_on_the_emulators_origin() {
    let server = demo().await;
    let response = reqwest::get(format!("{}/v2/", server.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        format!(
            "Bearer realm=\"{}/token\",service=\"ghcr.io\"",
            server.base_url()
        )
        .as_str()
    );
    assert_eq!(
        response.headers()["docker-distribution-api-version"],
        "registry/2.0"
    );
    assert_eq!(registry_error_code(response).await, "UNAUTHORIZED");

    let token = registry_token(&server, Some(tokens::OCTOCAT_READ), GATEWAY_REPOSITORY).await;
    let response = registry_get(&server, &token, "").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({})
    );
}

#[tokio::test]
async fn the_readme_dance_challenge_token_manifest_reads_the_latest_gateway_index() {
    let server = demo().await;
    let http = reqwest::Client::new();
    let manifest_url = format!(
        "{}/v2/acme/platform/gateway/manifests/latest",
        server.base_url()
    );
    let challenge = http.get(&manifest_url).send().await.unwrap();
    assert_eq!(challenge.status(), 401);
    let header = challenge.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        header.ends_with(",scope=\"repository:acme/platform/gateway:pull\""),
        "{header}"
    );
    let realm = header
        .split("realm=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let token: Value = http
        .get(realm)
        .query(&[
            ("scope", "repository:acme/platform/gateway:pull"),
            ("service", "ghcr.io"),
        ])
        .basic_auth("octocat", Some(tokens::OCTOCAT_ALL))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    assert_ne!(token, tokens::OCTOCAT_ALL, "never the GitHub token");
    let manifest = http
        .get(&manifest_url)
        .bearer_auth(token)
        .header(
            "accept",
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(manifest.status(), 200);
    let digest = manifest.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = manifest.bytes().await.unwrap();
    assert_eq!(sha256(&bytes), digest);
    let state = server.state();
    let (_, latest) = state.version(GATEWAY_LATEST_INDEX_ID).unwrap();
    assert_eq!(latest.name, digest, "the REST version's name is the digest");
}

#[tokio::test]
async fn manifests_are_served_byte_for_byte_by_tag_and_by_digest() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "acme/web/app").await;
    let state = server.state();
    let (_, newest) = state.version(WEB_APP_LATEST_VERSION_ID).unwrap();
    let expected = newest.manifest.as_ref().unwrap();
    for reference in ["latest", newest.name.as_str()] {
        let response = registry_get(
            &server,
            &token,
            &format!("acme/web/app/manifests/{reference}"),
        )
        .await;
        assert_eq!(response.status(), 200, "{reference}");
        let headers = response.headers().clone();
        assert_eq!(
            headers["content-type"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(headers["docker-content-digest"], newest.name.as_str());
        assert_eq!(
            headers["content-length"],
            expected.bytes.len().to_string().as_str()
        );
        let body = response.bytes().await.unwrap();
        assert_eq!(body, expected.bytes);
        assert_eq!(sha256(&body), newest.name);
    }
}

#[tokio::test]
async fn head_answers_the_headers_without_a_body_and_is_no_download() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), GATEWAY_REPOSITORY).await;
    let response = reqwest::Client::new()
        .head(format!(
            "{}/v2/{GATEWAY_REPOSITORY}/manifests/v1.2.0",
            server.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let state = server.state();
    let (_, index) = state.version(GATEWAY_LATEST_INDEX_ID).unwrap();
    let manifest = index.manifest.as_ref().unwrap();
    assert_eq!(
        response.headers()["docker-content-digest"],
        index.name.as_str()
    );
    assert_eq!(
        response.headers()["content-length"],
        manifest.bytes.len().to_string().as_str()
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert!(response.bytes().await.unwrap().is_empty());
    let stats = server.stats();
    assert_eq!(stats.registry.manifest_heads, 1);
    assert_eq!(stats.registry.manifest_reads, 0);
    assert_eq!(index.downloads, 0);
}

#[tokio::test]
async fn every_manifest_get_counts_one_download_of_its_version() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "acme/api").await;
    let before = server
        .state()
        .version(API_POPULAR_VERSION_ID)
        .unwrap()
        .1
        .clone();
    for _ in 0..3 {
        let response = registry_get(&server, &token, "acme/api/manifests/1.0.0").await;
        assert_eq!(response.status(), 200);
    }
    let after = server
        .state()
        .version(API_POPULAR_VERSION_ID)
        .unwrap()
        .1
        .clone();
    assert_eq!(after.downloads, before.downloads + 3);
    let stats = server.stats();
    assert_eq!(stats.registry.manifest_reads, 3);
    assert_eq!(stats.registry.manifest_reads_of(&after.name), 3);
    assert_eq!(stats.registry.token_exchanges, 1);
    assert_eq!(
        stats.total_requests, 0,
        "registry requests are not REST API requests"
    );
}

#[tokio::test]
async fn a_version_deleted_through_the_rest_api_is_gone_from_the_registry_until_restored() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "acme/api").await;
    let untagged = server
        .state()
        .version(API_UNTAGGED_VERSION_ID)
        .unwrap()
        .1
        .name
        .clone();
    let path = format!("acme/api/manifests/{untagged}");
    assert_eq!(registry_get(&server, &token, &path).await.status(), 200);

    let octocat = client(&server, tokens::OCTOCAT_ALL);
    let version = |id| {
        (
            octocat
                .packages_delete_package_version_for_org()
                .org(ACME)
                .package_type(PackageType::Container)
                .package_name(API)
                .package_version_id(id),
            octocat
                .packages_restore_package_version_for_org()
                .org(ACME)
                .package_type(PackageType::Container)
                .package_name(API)
                .package_version_id(id),
        )
    };
    let (delete, restore) = version(API_UNTAGGED_VERSION_ID);
    delete.send().await.unwrap();
    let gone = registry_get(&server, &token, &path).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(registry_error_code(gone).await, "MANIFEST_UNKNOWN");
    restore.send().await.unwrap();
    assert_eq!(registry_get(&server, &token, &path).await.status(), 200);

    // A version the fixture deleted is not served either, by digest or by its old tag.
    let rc = server
        .state()
        .version(API_RESTORABLE_VERSION_ID)
        .unwrap()
        .1
        .clone();
    for reference in [rc.name.as_str(), "1.2.0-rc.1"] {
        let response =
            registry_get(&server, &token, &format!("acme/api/manifests/{reference}")).await;
        assert_eq!(response.status(), 404, "{reference}");
    }
}

#[tokio::test]
async fn tokens_are_issued_by_the_rest_apis_visibility_and_role_rules() {
    let server = demo().await;
    // Public package: anyone, even anonymously.
    registry_token(&server, None, "acme/api").await;
    registry_token(&server, Some(tokens::MONA_ALL), "acme/api").await;
    // Private org package: members with read:packages.
    registry_token(&server, Some(tokens::HUBOT_ALL), "acme/web/app").await;
    registry_token(&server, Some(tokens::OCTOCAT_READ), "acme/web/app").await;
    // Private user package: its owner.
    registry_token(&server, Some(tokens::MONA_ALL), "mona/secret").await;

    for (token, repository, status, code) in [
        (None, "acme/web/app", 401, "UNAUTHORIZED"),
        (Some("ghp_nobody"), "acme/api", 401, "UNAUTHORIZED"),
        (Some(tokens::MONA_ALL), "acme/web/app", 403, "DENIED"),
        (Some(tokens::OCTOCAT_NONE), "acme/web/app", 403, "DENIED"),
        (Some(tokens::OCTOCAT_ALL), "mona/secret", 403, "DENIED"),
        (
            Some(tokens::OCTOCAT_ALL),
            "acme/no-such-package",
            403,
            "DENIED",
        ),
        (Some(tokens::OCTOCAT_ALL), "acme/old-service", 403, "DENIED"),
    ] {
        let response = token_request(&server, token, repository).await;
        assert_eq!(response.status(), status, "{token:?} on {repository}");
        assert_eq!(
            registry_error_code(response).await,
            code,
            "{token:?} on {repository}"
        );
    }
    let stats = server.stats().registry;
    assert_eq!((stats.token_exchanges, stats.token_refusals), (5, 7));
}

#[tokio::test]
async fn a_registry_token_is_bound_to_its_repository_and_the_github_token_is_none() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "acme/api").await;
    assert!(token.starts_with("djE6"), "GHCR's opaque form: {token}");
    let elsewhere = registry_get(&server, &token, "acme/web/app/manifests/latest").await;
    assert_eq!(elsewhere.status(), 401);
    assert_eq!(
        elsewhere.headers()["www-authenticate"],
        format!(
            "Bearer realm=\"{}/token\",service=\"ghcr.io\",scope=\"repository:acme/web/app:pull\"",
            server.base_url()
        )
        .as_str()
    );
    let github = registry_get(&server, tokens::OCTOCAT_ALL, "acme/api/manifests/latest").await;
    assert_eq!(
        github.status(),
        401,
        "the GitHub token is not a registry token"
    );
    assert_eq!(server.stats().registry.challenges, 2);
}

#[tokio::test]
async fn unknown_references_and_repositories_answer_in_ghcrs_error_shape() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "acme/api").await;
    let unknown_tag = registry_get(&server, &token, "acme/api/manifests/9.9.9").await;
    assert_eq!(unknown_tag.status(), 404);
    let body: Value = unknown_tag.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
    );
    let unknown_digest = format!("acme/api/manifests/sha256:{}", "0".repeat(64));
    assert_eq!(
        registry_get(&server, &token, &unknown_digest)
            .await
            .status(),
        404
    );
    // A slash encoded as %2F is not the registry's way: the name is invalid.
    let encoded = registry_get(&server, &token, "acme/platform%2Fgateway/manifests/latest").await;
    assert_eq!(encoded.status(), 404);
    assert_eq!(registry_error_code(encoded).await, "NAME_INVALID");
    let write = reqwest::Client::new()
        .put(format!(
            "{}/v2/acme/api/manifests/latest",
            server.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 405, "read only");
    assert_eq!(registry_error_code(write).await, "UNSUPPORTED");
}

#[tokio::test]
async fn a_repository_deleted_after_the_token_was_issued_is_name_unknown() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "octocat/hello_docker").await;
    client(&server, tokens::OCTOCAT_ALL)
        .packages_delete_package_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name(HELLO_DOCKER)
        .send()
        .await
        .unwrap();
    let response = registry_get(&server, &token, "octocat/hello_docker/manifests/latest").await;
    assert_eq!(response.status(), 404);
    assert_eq!(registry_error_code(response).await, "NAME_UNKNOWN");
}

#[tokio::test]
async fn tag_lists_are_sorted_and_paginated_with_n_and_last() {
    let server = demo().await;
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "octocat/hello_docker").await;
    let all: Value = registry_get(&server, &token, "octocat/hello_docker/tags/list")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        all,
        serde_json::json!({"name": "octocat/hello_docker", "tags": ["1.0.0", "1.0.1", "1.0.2", "latest"]})
    );
    let first = registry_get(&server, &token, "octocat/hello_docker/tags/list?n=2").await;
    assert_eq!(
        first.headers()["link"],
        "</v2/octocat/hello_docker/tags/list?n=2&last=1.0.1>; rel=\"next\""
    );
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["tags"], serde_json::json!(["1.0.0", "1.0.1"]));
    let second = registry_get(
        &server,
        &token,
        "octocat/hello_docker/tags/list?n=2&last=1.0.1",
    )
    .await;
    assert!(second.headers().get("link").is_none());
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["tags"], serde_json::json!(["1.0.2", "latest"]));
    assert_eq!(server.stats().registry.tag_lists, 3);
}

#[tokio::test]
async fn the_referrers_api_lists_the_manifests_whose_subject_is_the_digest() {
    let world = graphs::referrer();
    let image = world.digest_of(referrer::IMAGE).unwrap();
    let sbom = world.digest_of(referrer::SBOM).unwrap();
    let signature = world.digest_of(referrer::SIGNATURE).unwrap();
    let server = serve(world).await;
    let token = registry_token(&server, Some(tokens::HUBOT_ALL), "acme/cases/referrer").await;
    let response = registry_get(
        &server,
        &token,
        &format!("acme/cases/referrer/referrers/{image}"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert!(response.headers().get("oci-filters-applied").is_none());
    let index: Value = response.json().await.unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    let digests: Vec<&str> = entries
        .iter()
        .map(|e| e["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests.len(), 2);
    assert!(digests.contains(&sbom.as_str()) && digests.contains(&signature.as_str()));
    let sbom_entry = entries
        .iter()
        .find(|e| e["digest"] == sbom.as_str())
        .unwrap();
    assert_eq!(sbom_entry["artifactType"], "application/spdx+json");
    assert_eq!(
        sbom_entry["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert!(sbom_entry["annotations"]["org.opencontainers.image.description"].is_string());
    let state = server.state();
    let (_, sbom_version) = state.version(referrer::SBOM).unwrap();
    assert_eq!(
        sbom_entry["size"],
        sbom_version.manifest.as_ref().unwrap().bytes.len()
    );

    let filtered = registry_get(
        &server,
        &token,
        &format!(
            "acme/cases/referrer/referrers/{image}?artifactType=application/vnd.dev.sigstore.bundle.v0.3%2Bjson"
        ),
    )
    .await;
    assert_eq!(filtered.headers()["oci-filters-applied"], "artifactType");
    let filtered: Value = filtered.json().await.unwrap();
    assert_eq!(filtered["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["manifests"][0]["digest"], signature.as_str());

    let nothing = format!("acme/cases/referrer/referrers/{sbom}");
    let nothing: Value = registry_get(&server, &token, &nothing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(nothing["manifests"], serde_json::json!([]));
    assert_eq!(server.stats().registry.referrers_calls, 3);
}

#[tokio::test]
async fn the_referrers_api_can_be_switched_off_as_on_registries_without_it() {
    let world = graphs::referrer();
    let image = world.digest_of(referrer::IMAGE).unwrap();
    let server = MockServer::start(MockOptions {
        fixture: world,
        referrers_api: false,
        ..common::demo_options()
    })
    .await
    .unwrap();
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "acme/cases/referrer").await;
    let response = registry_get(
        &server,
        &token,
        &format!("acme/cases/referrer/referrers/{image}"),
    )
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(registry_error_code(response).await, "UNSUPPORTED");
    // The legacy fallback still works: the manifests themselves are served.
    let sbom = server
        .state()
        .version(referrer::SBOM)
        .unwrap()
        .1
        .name
        .clone();
    let manifest = registry_get(
        &server,
        &token,
        &format!("acme/cases/referrer/manifests/{sbom}"),
    )
    .await;
    assert_eq!(manifest.status(), 200);
}

#[tokio::test]
async fn a_fixture_registry_failure_answers_instead_of_one_manifest_of_a_slashed_package() {
    let server = serve(graphs::registry_error()).await;
    let repository = "acme/cases/flaky/api";
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), repository).await;
    let state = server.state();
    let failing = &state.version(registry_error::FAILING).unwrap().1.name;
    let healthy = &state.version(registry_error::ARM64).unwrap().1.name;
    for _ in 0..2 {
        let response = registry_get(
            &server,
            &token,
            &format!("{repository}/manifests/{failing}"),
        )
        .await;
        assert_eq!(response.status(), registry_error::STATUS);
        assert_eq!(registry_error_code(response).await, "UNKNOWN");
    }
    let index = registry_get(&server, &token, &format!("{repository}/manifests/v1")).await;
    assert_eq!(index.status(), 200, "the index itself is served");
    let response = registry_get(
        &server,
        &token,
        &format!("{repository}/manifests/{healthy}"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let stats = server.stats().registry;
    assert_eq!(stats.failures_injected, 2);
    assert_eq!(stats.manifest_reads, 2);
    assert_eq!(
        server
            .state()
            .version(registry_error::FAILING)
            .unwrap()
            .1
            .downloads,
        0,
        "a failed read is no download"
    );
}

#[tokio::test]
async fn option_registry_failures_can_fail_a_few_times_then_serve() {
    let fixture = Fixture::demo();
    let digest = fixture.digest_of(GATEWAY_LATEST_INDEX_ID).unwrap();
    let server = MockServer::start(MockOptions {
        fixture,
        registry_failures: vec![RegistryFailure::times(digest.clone(), 503, 2)],
        ..common::demo_options()
    })
    .await
    .unwrap();
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), GATEWAY_REPOSITORY).await;
    let path = format!("{GATEWAY_REPOSITORY}/manifests/latest");
    let statuses = [
        registry_get(&server, &token, &path).await.status().as_u16(),
        registry_get(&server, &token, &path).await.status().as_u16(),
        registry_get(&server, &token, &path).await.status().as_u16(),
    ];
    assert_eq!(
        statuses,
        [503, 503, 200],
        "through the tag, two failures, then served"
    );
    assert_eq!(server.stats().registry.manifest_reads_of(&digest), 1);

    let invalid = MockServer::start(MockOptions {
        registry_failures: vec![RegistryFailure::always(digest, 200)],
        ..common::demo_options()
    })
    .await
    .unwrap_err();
    assert_eq!(invalid.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn the_registry_is_not_served_under_the_enterprise_prefix() {
    let server = demo().await;
    let response = reqwest::get(format!("{}/v2/", server.enterprise_base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().get("www-authenticate").is_none());
    assert_eq!(server.stats().registry.requests, 0);
    assert_eq!(server.stats().count("unmatched", 404), 1);
}

#[tokio::test]
async fn every_container_version_of_the_demo_is_served_under_its_name() {
    let server = demo().await;
    let state = server.state();
    for package in state
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Container && !p.is_deleted())
        .filter(|p| p.name != WEB_APP && p.owner != MONA)
    {
        let repository = format!("{}/{}", package.owner.to_lowercase(), package.name);
        let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), &repository).await;
        for version in package.active_versions() {
            let response = registry_get(
                &server,
                &token,
                &format!("{repository}/manifests/{}", version.name),
            )
            .await;
            let bytes = response.bytes().await.unwrap();
            assert_eq!(sha256(&bytes), version.name, "{repository} {}", version.id);
        }
    }
}

#[tokio::test]
async fn a_404_failure_hides_an_existing_manifest_as_manifest_unknown() {
    let fixture = Fixture::demo();
    let digest = fixture.digest_of(HELLO_DOCKER_VERSION_IDS[0]).unwrap();
    let server = MockServer::start(MockOptions {
        fixture,
        registry_failures: vec![RegistryFailure::always(digest.clone(), 404)],
        ..common::demo_options()
    })
    .await
    .unwrap();
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), "octocat/hello_docker").await;
    for reference in ["latest", "1.0.2", digest.as_str()] {
        let response = registry_get(
            &server,
            &token,
            &format!("octocat/hello_docker/manifests/{reference}"),
        )
        .await;
        assert_eq!(response.status(), 404, "{reference}");
        assert_eq!(registry_error_code(response).await, "MANIFEST_UNKNOWN");
    }
    let older = registry_get(&server, &token, "octocat/hello_docker/manifests/1.0.1").await;
    assert_eq!(older.status(), 200);
    let stats: ghpkg_mock::Stats = reqwest::get(format!("{}/_mock/stats", server.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats.registry.failures_injected, 3);
    assert_eq!(stats.registry.manifest_reads, 1);
}
