use ghpkg::PackageType;
use ghpkg::registry::{Registry, RegistryOptions};
use ghpkg::retention::ManifestFacts;

use crate::client;
use crate::hostile::{Hostile, Reply, package_json, versions_page};

/// A server that lists two container versions and answers the registry's `/v2/` with
/// `challenge(base)`, and `/token` with `token(base)`.
async fn registry_server(
    challenge: impl Fn(&str) -> String + Send + Sync + 'static,
    token: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> Hostile {
    Hostile::start(move |request, _| {
        if request.target == "/orgs/acme/packages/container/app" {
            return Reply::json(200, &package_json(2));
        }
        if request.target.starts_with("/orgs/") {
            return Reply::json(200, &versions_page(1, 2).replace("[]", "[\"latest\"]"));
        }
        if request.target == "/v2/" {
            return Reply::json(401, "{}").header("www-authenticate", &challenge(&request.base));
        }
        if request.target.starts_with("/token") {
            return token(&request.base);
        }
        Reply::json(404, "{}")
    })
    .await
}

async fn read_graph(server: &Hostile) -> Vec<String> {
    let client = client(&server.base_url(), "ghp_registry_secret");
    let registry = Registry::new(
        &client,
        RegistryOptions {
            url: Some(server.base_url()),
            ..RegistryOptions::default()
        },
    )
    .unwrap();
    let facts = client
        .org("acme")
        .package(PackageType::Container, "app")
        .facts_with_graph(&registry)
        .await
        .unwrap();
    let graph = facts.graph.expect("a container package gets a graph");
    graph
        .manifests
        .values()
        .map(|facts| match facts {
            ManifestFacts::Unreadable { reason } => reason.clone(),
            ManifestFacts::Read(_) => "read".into(),
        })
        .collect()
}

#[tokio::test]
async fn the_token_goes_to_no_token_service_on_another_origin() {
    let elsewhere = Hostile::start(|_, _| Reply::json(200, r#"{"token":"stolen"}"#)).await;
    let thief = format!("{}/token", elsewhere.base_url());
    let server = registry_server(
        move |_| format!(r#"Bearer realm="{thief}",service="ghcr.io""#),
        |_| Reply::json(500, "{}"),
    )
    .await;
    let reasons = read_graph(&server).await;
    assert!(!reasons.is_empty());
    assert!(
        reasons.iter().all(|r| r.contains("nowhere else")),
        "{reasons:?}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
}

#[tokio::test]
async fn the_token_exchange_follows_no_redirect_to_another_origin() {
    let elsewhere = Hostile::start(|_, _| Reply::json(200, r#"{"token":"stolen"}"#)).await;
    let thief = format!("{}/token", elsewhere.base_url());
    let server = registry_server(
        |base| format!(r#"Bearer realm="{base}/token",service="ghcr.io""#),
        move |_| Reply::json(307, "{}").header("location", &thief),
    )
    .await;
    let reasons = read_graph(&server).await;
    assert!(reasons.iter().all(|r| r != "read"), "{reasons:?}");
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
    // The Basic credentials went only to the registry's own token service.
    let exchanges: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.target.starts_with("/token"))
        .collect();
    assert!(!exchanges.is_empty());
    assert!(exchanges.iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    }));
}
