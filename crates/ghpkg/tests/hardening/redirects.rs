use ghpkg::{Error, PackageType};

use crate::client;
use crate::hostile::{Hostile, Reply};

#[tokio::test]
async fn a_delete_is_never_sent_again_to_where_a_redirect_points() {
    let elsewhere = Hostile::start(|_, _| Reply::json(204, "")).await;
    let target = format!(
        "{}/orgs/acme/packages/container/app/versions/7",
        elsewhere.base_url()
    );
    let server =
        Hostile::start(move |_, _| Reply::json(307, "{}").header("location", &target)).await;
    let client = client(&server.base_url(), "ghp_secret_token");
    let error = client
        .org("acme")
        .package(PackageType::Container, "app")
        .version(7)
        .delete()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Redirected { status: 307, .. }),
        "{error:?}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "DELETE");
}

#[tokio::test]
async fn reads_follow_redirects_only_on_the_same_origin() {
    let elsewhere = Hostile::start(|_, _| Reply::json(200, "[]")).await;
    let foreign = format!("{}/orgs/acme/packages", elsewhere.base_url());
    let server = Hostile::start(move |request, _| {
        if request.target.starts_with("/moved") {
            Reply::json(200, "[]")
        } else if request.target.contains("docker/conflicts") {
            Reply::json(301, "{}").header("location", "/moved")
        } else {
            Reply::json(302, "{}").header("location", &foreign)
        }
    })
    .await;
    let client = client(&server.base_url(), "ghp_secret_token");
    let conflicts = client.org("acme").docker_conflicts().await.unwrap();
    assert!(conflicts.is_empty());
    let moved = server.requests().last().unwrap().clone();
    assert_eq!(
        moved.header("authorization"),
        Some("Bearer ghp_secret_token")
    );

    let error = client
        .org("acme")
        .packages(PackageType::Container)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Redirected { status: 302, .. }),
        "{error:?}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "the token never left the origin"
    );
}
