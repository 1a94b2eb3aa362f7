use ghpkg::{Client, Error, PackageType};

use crate::hostile::{Hostile, Reply};

#[tokio::test]
async fn a_token_without_classic_scopes_is_never_refused_up_front_for_scopes() {
    // GitHub Actions' GITHUB_TOKEN: answers carry an empty X-OAuth-Scopes or none at all.
    let server = Hostile::start(|_, _| Reply::json(200, "[]").header("x-oauth-scopes", "")).await;
    let client = Client::builder()
        .base_url(server.base_url())
        .token("ghs_installation_token")
        .preflight_scope_check(true)
        .build()
        .unwrap();
    let page = client
        .org("acme")
        .packages(PackageType::Container)
        .send()
        .await
        .expect("sent, not refused for scopes");
    assert!(page.items.is_empty());
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.target.starts_with("/orgs/acme/packages")),
        "the listing was sent"
    );
}

#[tokio::test]
async fn a_fine_grained_token_refused_by_github_is_told_what_github_supports() {
    let server = Hostile::start(|_, _| {
        Reply::json(
            403,
            r#"{"message":"Resource not accessible by personal access token"}"#,
        )
    })
    .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .token("github_pat_11ABCDEF")
        .build()
        .unwrap();
    let error = client
        .org("acme")
        .packages(PackageType::Container)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Forbidden { .. }), "{error:?}");
    assert!(error.hint().contains("fine-grained"), "{error}");
    assert!(error.hint().contains("(classic)"), "{error}");
}

#[tokio::test]
async fn a_token_with_a_line_break_never_reaches_the_wire() {
    let server = Hostile::start(|_, _| Reply::json(200, "[]")).await;
    let built = Client::builder()
        .base_url(server.base_url())
        .token("ghp_abc\r\nX-Injected: yes")
        .build();
    assert!(
        matches!(built, Err(Error::InvalidToken { .. })),
        "{built:?}"
    );
    // The low-level client refuses it per request instead.
    let api = ghpkg_api::Client::with_base_url(&server.base_url(), Some("ghp_abc\r\nX: y"));
    let error = api
        .packages_list_docker_migration_conflicting_packages_for_authenticated_user()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, ghpkg_api::Error::InvalidRequest(_)),
        "{error:?}"
    );
    assert!(server.requests().is_empty());
}
