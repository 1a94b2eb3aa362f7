//! The JSON bodies against GitHub's published schemas, property by property, read raw so that
//! nothing the generated types tolerate can hide a gap.

mod common;

use common::demo;
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{Fixture, MockOptions, MockServer, tokens};
use serde_json::{Value, json};

/// The `required` list of `components/schemas/minimal-repository` in GitHub's published
/// description: github/rest-api-description,
/// `descriptions/api.github.com/api.github.com.2022-11-28.yaml`.
const MINIMAL_REPOSITORY_REQUIRED: [&str; 46] = [
    "archive_url",
    "assignees_url",
    "blobs_url",
    "branches_url",
    "collaborators_url",
    "comments_url",
    "commits_url",
    "compare_url",
    "contents_url",
    "contributors_url",
    "deployments_url",
    "description",
    "downloads_url",
    "events_url",
    "fork",
    "forks_url",
    "full_name",
    "git_commits_url",
    "git_refs_url",
    "git_tags_url",
    "hooks_url",
    "html_url",
    "id",
    "node_id",
    "issue_comment_url",
    "issue_events_url",
    "issues_url",
    "keys_url",
    "labels_url",
    "languages_url",
    "merges_url",
    "milestones_url",
    "name",
    "notifications_url",
    "owner",
    "private",
    "pulls_url",
    "releases_url",
    "stargazers_url",
    "statuses_url",
    "subscribers_url",
    "subscription_url",
    "tags_url",
    "teams_url",
    "trees_url",
    "url",
];

async fn get_json(url: &str) -> Value {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

async fn web_app_repository(server: &MockServer) -> Value {
    let package = get_json(&format!(
        "{}/orgs/acme/packages/container/web%2Fapp",
        server.base_url()
    ))
    .await;
    package["repository"].clone()
}

#[tokio::test]
async fn a_package_repository_has_every_property_github_requires_of_a_minimal_repository() {
    let server = demo().await;
    let repository = web_app_repository(&server).await;
    let missing: Vec<&str> = MINIMAL_REPOSITORY_REQUIRED
        .iter()
        .copied()
        .filter(|property| repository.get(property).is_none())
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in {repository:#}");
    for property in MINIMAL_REPOSITORY_REQUIRED {
        if property != "description" {
            assert!(!repository[property].is_null(), "{property} is null");
        }
    }
    assert_eq!(repository["private"], true);
    assert_eq!(repository["fork"], false);
    assert_eq!(repository["full_name"], "acme/web");
    assert_eq!(repository["owner"]["login"], ACME);
    assert!(repository["node_id"].as_str().unwrap().starts_with("R_"));
}

#[tokio::test]
async fn repository_url_templates_are_written_as_github_writes_them() {
    let server = demo().await;
    let repository = web_app_repository(&server).await;
    let api = format!("{}/repos/acme/web", server.base_url());
    for (property, suffix) in [
        ("url", ""),
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("issue_comment_url", "/issues/comments{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("statuses_url", "/statuses/{sha}"),
        ("trees_url", "/git/trees{/sha}"),
        ("hooks_url", "/hooks"),
    ] {
        assert_eq!(repository[property], format!("{api}{suffix}"), "{property}");
    }
    assert_eq!(
        repository["html_url"],
        format!("{}/acme/web", server.base_url())
    );
}

/// A docker package and a container package, each with an untagged and a tagged version.
fn tagging_fixture() -> Fixture {
    Fixture::from_json(
        r#"{
          "users": [{ "login": "octocat", "id": 1 }],
          "tokens": [{ "token": "ghp_octocat_all", "user": "octocat",
                       "scopes": ["read:packages", "write:packages", "delete:packages"] }],
          "packages": [
            { "owner": "octocat", "package_type": "docker", "name": "old-image", "created_at": "-10days",
              "versions": [
                { "id": 11, "name": "sha256:aa", "tags": [], "created_at": "-2days" },
                { "id": 12, "name": "sha256:bb", "tags": ["latest"], "created_at": "-1days" } ] },
            { "owner": "octocat", "package_type": "container", "name": "image", "created_at": "-10days",
              "versions": [
                { "id": 21, "name": "sha256:cc", "tags": [], "created_at": "-2days" },
                { "id": 22, "name": "sha256:dd", "tags": ["v1"], "created_at": "-1days" } ] }
          ]
        }"#,
    )
    .unwrap()
}

async fn version_metadata(server: &MockServer, package: &str, id: i64) -> Value {
    let version = get_json(&format!(
        "{}/user/packages/{package}/versions/{id}",
        server.base_url()
    ))
    .await;
    version["metadata"].clone()
}

#[tokio::test]
async fn an_untagged_docker_version_has_empty_tag_lists_not_an_empty_object() {
    let server = MockServer::start(MockOptions {
        fixture: tagging_fixture(),
        ..common::demo_options()
    })
    .await
    .unwrap();
    assert_eq!(
        version_metadata(&server, "docker/old-image", 11).await,
        json!({ "package_type": "docker", "docker": { "tag": [], "tags": [] } })
    );
    assert_eq!(
        version_metadata(&server, "docker/old-image", 12).await,
        json!({ "package_type": "docker", "docker": { "tag": ["latest"], "tags": ["latest"] } })
    );
}

#[tokio::test]
async fn an_untagged_container_version_has_an_empty_tags_list() {
    let server = MockServer::start(MockOptions {
        fixture: tagging_fixture(),
        ..common::demo_options()
    })
    .await
    .unwrap();
    assert_eq!(
        version_metadata(&server, "container/image", 21).await,
        json!({ "package_type": "container", "container": { "tags": [] } })
    );
    assert_eq!(
        version_metadata(&server, "container/image", 22).await,
        json!({ "package_type": "container", "container": { "tags": ["v1"] } })
    );
}

#[tokio::test]
async fn listed_versions_carry_the_same_metadata_as_single_ones() {
    let server = MockServer::start(MockOptions {
        fixture: tagging_fixture(),
        ..common::demo_options()
    })
    .await
    .unwrap();
    let listed = get_json(&format!(
        "{}/user/packages/docker/old-image/versions",
        server.base_url()
    ))
    .await;
    let untagged = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == 11)
        .unwrap();
    assert_eq!(untagged["metadata"]["docker"]["tags"], json!([]));
    assert!(untagged.get("url").is_some() && untagged.get("package_html_url").is_some());
}
