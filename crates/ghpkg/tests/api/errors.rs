//! Each kind of error the emulator produces maps to the right `Error`, with a message that says
//! what to do; invalid input is caught before any request.

use futures::StreamExt;
use ghpkg::{Error, PackageType, RefusalReason, VersionState, Visibility};

use crate::{builder, client, demo, mock, requests, tokens};

#[tokio::test]
async fn no_token_is_unauthorized() {
    let server = mock().await;
    let anonymous = builder(&server).build().unwrap();
    let error = anonymous
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP)
        .get()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(error.to_string().contains("GH_TOKEN"), "{error}");
}

#[tokio::test]
async fn an_unknown_token_is_unauthorized() {
    let server = mock().await;
    let error = client(&server, "ghp_not_a_real_token")
        .authenticated_user()
        .packages(PackageType::Container)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
}

#[tokio::test]
async fn a_read_only_token_cannot_delete_and_is_told_which_scope_to_add() {
    let server = mock().await;
    let error = client(&server, tokens::OCTOCAT_READ)
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD)
        .version(demo::LEFT_PAD_VERSION_IDS[0] as u64)
        .delete()
        .await
        .unwrap_err();
    let Error::MissingScopes {
        required, granted, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(required, &["read:packages", "delete:packages"]);
    assert_eq!(granted, &["read:packages"]);
    assert_eq!(
        error.to_string(),
        "ghpkg: delete package version needs token scopes read:packages, delete:packages; the \
         token has read:packages. Create a personal access token (classic) with the missing \
         scopes at https://github.com/settings/tokens/new?scopes=read:packages,delete:packages, \
         or run `gh auth refresh -s delete:packages`."
    );
}

#[tokio::test]
async fn a_token_without_write_packages_cannot_restore() {
    let server = mock().await;
    let error = client(&server, tokens::OCTOCAT_NORESTORE)
        .org(demo::ACME)
        .package(PackageType::Container, demo::OLD_SERVICE)
        .restore()
        .await
        .unwrap_err();
    let Error::MissingScopes { required, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(required.iter().any(|scope| scope == "write:packages"));
    assert!(
        error
            .to_string()
            .contains("gh auth refresh -s write:packages"),
        "{error}"
    );
}

#[tokio::test]
async fn a_token_without_scopes_cannot_even_list() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_NONE);
    let error = client
        .user(demo::OCTOCAT)
        .packages(PackageType::Container)
        .send()
        .await
        .unwrap_err();
    let Error::MissingScopes { granted, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(granted.is_empty());
    assert!(client.token_scopes().await.unwrap().is_empty());
}

#[tokio::test]
async fn token_scopes_reports_what_github_says_the_token_has() {
    let server = mock().await;
    let mut scopes = client(&server, tokens::OCTOCAT_ALL)
        .token_scopes()
        .await
        .unwrap();
    scopes.sort();
    assert_eq!(
        scopes,
        ["delete:packages", "read:packages", "repo", "write:packages"]
    );
    let error = builder(&server).build().unwrap().token_scopes().await;
    assert!(
        matches!(error, Err(Error::Unauthorized { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_preflight_check_refuses_before_sending() {
    let server = mock().await;
    let client = builder(&server)
        .token(tokens::OCTOCAT_READ)
        .preflight_scope_check(true)
        .build()
        .unwrap();
    let package = client
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD);
    // A read reveals the token's scopes; the delete after it must not be sent.
    package.get().await.unwrap();
    let before = requests(&server);
    let error = package
        .version(demo::LEFT_PAD_VERSION_IDS[0] as u64)
        .delete()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MissingScopes { .. }), "{error:?}");
    assert_eq!(requests(&server), before, "the delete was sent");
    assert_eq!(
        error.status(),
        None,
        "GitHub never answered: nothing was sent"
    );
}

#[tokio::test]
async fn the_preflight_check_asks_once_when_the_scopes_are_unknown() {
    let server = mock().await;
    let client = builder(&server)
        .token(tokens::OCTOCAT_NORESTORE)
        .preflight_scope_check(true)
        .build()
        .unwrap();
    let before = requests(&server);
    let package = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::OLD_SERVICE);
    let error = package.restore().await.unwrap_err();
    assert!(matches!(error, Error::MissingScopes { .. }), "{error:?}");
    assert_eq!(requests(&server), before + 1, "one probe, no restore");
    let error = package.restore().await.unwrap_err();
    assert!(matches!(error, Error::MissingScopes { .. }), "{error:?}");
    assert_eq!(requests(&server), before + 1, "the scopes are remembered");
}

#[tokio::test]
async fn a_missing_package_is_not_found_and_the_message_mentions_permissions() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let error = client
        .org(demo::ACME)
        .package(PackageType::Container, "no-such-package")
        .get()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert!(error.to_string().contains("also answers 404"), "{error}");
    let missing_version = client
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD)
        .version(999_999_999)
        .get()
        .await
        .unwrap_err();
    assert!(missing_version.is_not_found(), "{missing_version:?}");
}

#[tokio::test]
async fn another_users_private_package_is_not_found() {
    let server = mock().await;
    let error = client(&server, tokens::OCTOCAT_ALL)
        .user(demo::MONA)
        .package(PackageType::Container, demo::SECRET)
        .get()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn an_org_member_without_admin_rights_cannot_delete() {
    let server = mock().await;
    let error = client(&server, tokens::HUBOT_ALL)
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD)
        .version(demo::LEFT_PAD_VERSION_IDS[0] as u64)
        .delete()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Forbidden { .. } | Error::NotFound { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn deleting_the_last_version_is_refused() {
    let server = mock().await;
    let left_pad = client(&server, tokens::OCTOCAT_ALL)
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD);
    let [first, second, last] = demo::LEFT_PAD_VERSION_IDS.map(|id| id as u64);
    left_pad.version(first).delete().await.unwrap();
    left_pad.version(second).delete().await.unwrap();
    let error = left_pad.version(last).delete().await.unwrap_err();
    let Error::Refused { reason, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*reason, RefusalReason::LastVersion);
    assert!(
        error.to_string().contains("delete the whole package"),
        "{error}"
    );
}

#[tokio::test]
async fn deleting_the_last_tagged_version_is_refused() {
    let server = mock().await;
    let hello = client(&server, tokens::OCTOCAT_ALL)
        .user(demo::OCTOCAT)
        .package(PackageType::Container, demo::HELLO_DOCKER);
    // Newest first: three tagged versions, then two untagged ones.
    let [newest, middle, oldest_tagged, ..] = demo::HELLO_DOCKER_VERSION_IDS.map(|id| id as u64);
    hello.version(newest).delete().await.unwrap();
    hello.version(middle).delete().await.unwrap();
    let error = hello.version(oldest_tagged).delete().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Refused {
                reason: RefusalReason::LastTaggedVersion,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_popular_public_version_cannot_be_deleted() {
    let server = mock().await;
    let error = client(&server, tokens::OCTOCAT_ALL)
        .org(demo::ACME)
        .package(PackageType::Container, demo::API)
        .version(demo::API_POPULAR_VERSION_ID as u64)
        .delete()
        .await
        .unwrap_err();
    let Error::Refused { reason, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*reason, RefusalReason::TooManyDownloads);
    assert!(error.to_string().contains("support"), "{error}");
}

#[tokio::test]
async fn invalid_input_is_caught_before_any_request() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let acme = client.org(demo::ACME);
    let web_app = acme.package(PackageType::Container, demo::WEB_APP);
    let before = requests(&server);

    let mut errors = vec![
        acme.packages(PackageType::Container)
            .per_page(0)
            .send()
            .await
            .unwrap_err(),
        acme.packages(PackageType::Container)
            .per_page(101)
            .send()
            .await
            .unwrap_err(),
        acme.packages(PackageType::Container)
            .page(0)
            .send()
            .await
            .unwrap_err(),
        acme.packages(PackageType::Container)
            .page(101)
            .per_page(100)
            .send()
            .await
            .unwrap_err(),
        acme.packages(PackageType::Other("cargo".into()))
            .send()
            .await
            .unwrap_err(),
        acme.packages(PackageType::Container)
            .visibility(Visibility::Other("secret".into()))
            .send()
            .await
            .unwrap_err(),
        client
            .org("")
            .packages(PackageType::Npm)
            .send()
            .await
            .unwrap_err(),
        client.user(" ").docker_conflicts().await.unwrap_err(),
        acme.package(PackageType::Container, "")
            .get()
            .await
            .unwrap_err(),
        acme.package(PackageType::Other("cargo".into()), "x")
            .delete()
            .await
            .unwrap_err(),
        web_app.versions().per_page(500).send().await.unwrap_err(),
        web_app
            .versions()
            .state(VersionState::Other("purged".into()))
            .send()
            .await
            .unwrap_err(),
        web_app.version(0).delete().await.unwrap_err(),
        web_app.version(0).restore().await.unwrap_err(),
        client
            .user(demo::OCTOCAT)
            .package(PackageType::Container, demo::HELLO_DOCKER)
            .versions()
            .state(VersionState::Deleted)
            .send()
            .await
            .unwrap_err(),
    ];
    // Streams report invalid input as their first item, also without sending.
    let streamed = web_app.versions().per_page(0).stream().next().await;
    errors.push(streamed.unwrap().unwrap_err());

    for error in &errors {
        assert!(
            matches!(
                error,
                Error::InvalidInput { .. } | Error::InvalidName { .. }
            ),
            "{error:?}"
        );
        assert!(error.to_string().starts_with("ghpkg: invalid "), "{error}");
        assert!(error.status().is_none(), "{error}");
    }
    assert_eq!(requests(&server), before, "a request was sent");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_at_build() {
    let error = ghpkg::Client::builder()
        .base_url("http://ghe.example.com/api/v3")
        .token("ghp_x")
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
}
