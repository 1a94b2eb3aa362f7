//! The account operations beside the Packages API — `GET /rate_limit`, `GET /user`,
//! `GET /users/{username}` — answered as GitHub does, through the same pipeline.

mod common;

use std::collections::BTreeSet;

use common::{demo, demo_options, start_time};
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{Faults, MockOptions, MockServer, RateLimits, tokens};
use serde_json::Value;

async fn get(server: &MockServer, path: &str, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(format!("{}{path}", server.base_url()));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

async fn limited() -> MockServer {
    MockServer::start(MockOptions {
        rate_limits: RateLimits::github(),
        ..demo_options()
    })
    .await
    .unwrap()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The properties GitHub's `public-user` requires.
const PUBLIC_USER_REQUIRED: [&str; 31] = [
    "avatar_url",
    "events_url",
    "followers_url",
    "following_url",
    "gists_url",
    "gravatar_id",
    "html_url",
    "id",
    "node_id",
    "login",
    "organizations_url",
    "received_events_url",
    "repos_url",
    "site_admin",
    "starred_url",
    "subscriptions_url",
    "type",
    "url",
    "bio",
    "blog",
    "company",
    "email",
    "followers",
    "following",
    "hireable",
    "location",
    "name",
    "public_gists",
    "public_repos",
    "created_at",
    "updated_at",
];

/// The properties `public-user` allows besides the required ones (it admits no others).
const PUBLIC_USER_OPTIONAL: [&str; 9] = [
    "notification_email",
    "twitter_username",
    "plan",
    "suspended_at",
    "private_gists",
    "total_private_repos",
    "owned_private_repos",
    "disk_usage",
    "collaborators",
];

#[tokio::test]
async fn rate_limit_reports_the_primary_budget_without_spending_it() {
    let server = limited().await;
    for _ in 0..3 {
        let response = get(&server, "/user", Some(tokens::OCTOCAT_ALL)).await;
        assert_eq!(response.status(), 200);
    }
    for _ in 0..2 {
        let response = get(&server, "/rate_limit", Some(tokens::OCTOCAT_ALL)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-ratelimit-remaining"], "4997");
        assert_eq!(response.headers()["x-ratelimit-used"], "3");
        let body: Value = response.json().await.unwrap();
        let core = &body["resources"]["core"];
        assert_eq!(core["limit"], 5_000);
        assert_eq!(core["remaining"], 4_997);
        assert_eq!(core["used"], 3);
        assert_eq!(core["resource"], "core");
        assert_eq!(core["reset"], start_time().timestamp() + 3_600);
        assert_eq!(body["rate"], *core);
        for resource in ["search", "graphql", "integration_manifest", "code_search"] {
            assert_eq!(body["resources"][resource]["resource"], resource);
        }
    }
    let next = get(&server, "/user", Some(tokens::OCTOCAT_ALL)).await;
    assert_eq!(
        next.headers()["x-ratelimit-used"],
        "4",
        "rate_limit spent nothing"
    );
    assert_eq!(server.stats().count("rate-limit/get", 200), 2);
}

#[tokio::test]
async fn rate_limit_answers_when_the_budget_is_spent() {
    let server = MockServer::start(MockOptions {
        rate_limits: RateLimits {
            primary_per_hour: 2,
            ..RateLimits::github()
        },
        ..demo_options()
    })
    .await
    .unwrap();
    for _ in 0..2 {
        get(&server, "/users/mona", Some(tokens::OCTOCAT_ALL)).await;
    }
    let refused = get(&server, "/users/mona", Some(tokens::OCTOCAT_ALL)).await;
    assert_eq!(refused.status(), 403);
    let response = get(&server, "/rate_limit", Some(tokens::OCTOCAT_ALL)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["rate"]["remaining"], 0);
    assert_eq!(body["rate"]["used"], 2);
}

#[tokio::test]
async fn without_limits_rate_limit_reports_githubs_defaults_and_anonymous_callers_get_60() {
    let server = demo().await;
    let with_token: Value = get(&server, "/rate_limit", Some(tokens::OCTOCAT_NONE))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(with_token["rate"]["limit"], 5_000);
    assert_eq!(with_token["rate"]["remaining"], 5_000);
    assert_eq!(with_token["resources"]["graphql"]["limit"], 5_000);
    let anonymous = get(&server, "/rate_limit", None).await;
    assert_eq!(anonymous.status(), 200);
    assert!(anonymous.headers().get("x-oauth-scopes").is_none());
    let anonymous: Value = anonymous.json().await.unwrap();
    assert_eq!(anonymous["rate"]["limit"], 60);
    assert_eq!(anonymous["resources"]["search"]["limit"], 10);
    assert_eq!(anonymous["resources"]["graphql"]["limit"], 0);

    let limited = limited().await;
    let response = get(&limited, "/rate_limit", None).await;
    assert_eq!(response.headers()["x-ratelimit-limit"], "60");
    assert_eq!(response.headers()["x-ratelimit-used"], "0");
}

#[tokio::test]
async fn user_needs_a_token_and_answers_the_private_user_with_the_tokens_scopes() {
    let server = demo().await;
    let anonymous = get(&server, "/user", None).await;
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["message"], "Requires authentication");
    assert_eq!(
        body["documentation_url"],
        "https://docs.github.com/rest/users/users#get-the-authenticated-user"
    );
    let bad = get(&server, "/user", Some("ghp_nobody")).await;
    assert_eq!(bad.status(), 401);

    let response = get(&server, "/user", Some(tokens::OCTOCAT_READ)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-oauth-scopes"], "read:packages");
    assert_eq!(response.headers()["x-accepted-oauth-scopes"], "");
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["login"], OCTOCAT);
    assert_eq!(user["id"], OCTOCAT_ID);
    assert_eq!(user["type"], "User");
    assert_eq!(user["name"], "The Octocat");
    assert_eq!(user["site_admin"], false);
    assert_eq!(
        user["url"],
        format!("{}/users/octocat", server.base_url()).as_str()
    );
    assert!(user["node_id"].as_str().unwrap().starts_with("U_"));
    assert_eq!(user["plan"]["name"], "free");
    assert_eq!(user["two_factor_authentication"], true);
    let present = keys(&user);
    for required in PUBLIC_USER_REQUIRED.iter().chain(&[
        "collaborators",
        "disk_usage",
        "owned_private_repos",
        "private_gists",
        "total_private_repos",
        "two_factor_authentication",
    ]) {
        assert!(
            present.contains(*required),
            "private-user requires {required}"
        );
    }
    // octocat's hello_docker links a private repository.
    assert_eq!(user["total_private_repos"], 1);
    let mona: Value = get(&server, "/user", Some(tokens::MONA_ALL))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mona["login"], MONA);
}

#[tokio::test]
async fn users_by_username_answers_users_and_organizations_and_404_for_unknown_logins() {
    let server = demo().await;
    let user: Value = get(&server, "/users/HUBOT", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["login"], HUBOT);
    assert_eq!(user["type"], "User");
    let org: Value = get(&server, "/users/acme", Some(tokens::MONA_ALL))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org["type"], "Organization");
    assert_eq!(org["id"], ACME_ID);
    assert!(org["node_id"].as_str().unwrap().starts_with("O_"));
    assert_eq!(
        org["public_repos"], 1,
        "acme's public api package links repository api"
    );
    for body in [&user, &org] {
        let present = keys(body);
        let allowed: BTreeSet<String> = PUBLIC_USER_REQUIRED
            .iter()
            .chain(&PUBLIC_USER_OPTIONAL)
            .map(|k| (*k).to_owned())
            .collect();
        for required in PUBLIC_USER_REQUIRED {
            assert!(
                present.contains(required),
                "public-user requires {required}"
            );
        }
        assert!(
            present.is_subset(&allowed),
            "public-user admits no other properties: {:?}",
            present.difference(&allowed).collect::<Vec<_>>()
        );
    }
    let unknown = get(&server, "/users/nobody-here", Some(tokens::OCTOCAT_ALL)).await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["message"], "Not Found");
    assert_eq!(
        body["documentation_url"],
        "https://docs.github.com/rest/users/users#get-a-user"
    );
    assert_eq!(body["status"], "404");
    let stats = server.stats();
    assert_eq!(stats.count("users/get-by-username", 200), 2);
    assert_eq!(stats.count("users/get-by-username", 404), 1);
}

#[tokio::test]
async fn account_operations_are_served_under_the_enterprise_prefix_with_its_urls() {
    let server = demo().await;
    let response = reqwest::Client::new()
        .get(format!("{}/user", server.enterprise_base_url()))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(
        user["url"],
        format!("{}/users/octocat", server.enterprise_base_url()).as_str()
    );
    let rate = reqwest::get(format!("{}/rate_limit", server.enterprise_base_url()))
        .await
        .unwrap();
    assert_eq!(rate.status(), 200);
}

#[tokio::test]
async fn account_operations_pass_through_injected_faults_and_are_counted() {
    let server = MockServer::start(MockOptions {
        faults: "5xx=1:502".parse::<Faults>().unwrap(),
        ..demo_options()
    })
    .await
    .unwrap();
    for path in ["/rate_limit", "/user", "/users/mona"] {
        let response = get(&server, path, Some(tokens::OCTOCAT_ALL)).await;
        assert_eq!(response.status(), 502, "{path}");
        assert!(response.headers().contains_key("x-github-request-id"));
    }
    let stats = server.stats();
    assert_eq!(stats.faults.errors, 3);
    assert_eq!(stats.total_requests, 3);
    for operation in [
        "rate-limit/get",
        "users/get-authenticated",
        "users/get-by-username",
    ] {
        assert_eq!(stats.count(operation, 502), 1, "{operation}");
    }
    // A bad token is refused before any fault, as for every operation.
    let bad = get(&server, "/users/mona", Some("ghp_nobody")).await;
    assert_eq!(bad.status(), 401);
}
